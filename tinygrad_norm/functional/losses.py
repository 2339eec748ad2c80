"""Losses, as ``torch.nn.functional``: the same names, arguments, defaults, reductions and error
conditions; each a composite of primitives in a named scope, stable for any finite logits.

``cross_entropy`` is ``log_softmax`` (one primitive) followed by ``nll_loss``, which picks each
sample's target log-probability by integer-array indexing -- never a dense one-hot product.
A class ``weight`` that requires grad gets its gradient with class-probability targets and is
refused with class indices, as PyTorch (whose ``nll_loss`` kernel is not differentiable in it);
``binary_cross_entropy``'s ``weight`` and ``binary_cross_entropy_with_logits``' ``weight`` and
``pos_weight`` are refused the same way, the regression losses' ``weight`` is differentiated.

The deprecated ``size_average`` and ``reduce`` arguments keep their positions, so positional calls
written for PyTorch mean the same here, but only ``None`` is accepted: use ``reduction``.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd import is_grad_enabled, scope
from .. import ops
from ..tensor import Tensor, apply, minimum, where
from ._checks import _flag, _real
from .activation import _logsigmoid
from .distance import pairwise_distance

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
           "margin_ranking_loss", "cosine_embedding_loss", "triplet_margin_loss",
           "hinge_embedding_loss"]

_REDUCTIONS = ("none", "mean", "sum")


class TargetIndexError(IndexError, ValueError):
    """A class index outside [0, C): an IndexError as in PyTorch, and a ValueError as every bad
    argument of this library is."""


def _reduction(fn, reduction, size_average, reduce):
    if size_average is not None or reduce is not None:
        raise TypeError(f"{fn}: size_average and reduce are deprecated (in PyTorch too) and not "
                        f"supported; use reduction='none' | 'mean' | 'sum'")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction (expected 'none', "
                         f"'mean' or 'sum')")
    return reduction


def _check_ignore_index(ignore_index, fn):
    # As PyTorch (TypeError): compared with the targets, a string or None would silently ignore
    # nothing, and 1.5 would never match.
    if type(ignore_index) is int:  # the default -100: decided without the ABC checks below
        return ignore_index
    if isinstance(ignore_index, (bool, np.bool_)) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"{fn}: ignore_index must be an int, got {type(ignore_index).__name__}")
    return int(ignore_index)


def _numeric_array(v, name, fn):
    """``v`` (not a Tensor) as an array of real numbers, or a TypeError naming it: np.asarray
    turns None into an object array (NaN once cast) and a string into a NumPy ValueError."""
    arr = np.asarray(v)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: {name} must be a Tensor or an array of real numbers, got "
                        f"{type(v).__name__}" + (f" of dtype {arr.dtype}" if hasattr(v, "dtype")
                                                 or isinstance(v, (list, tuple)) else ""))
    return arr


def _check_input(input, fn):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{fn}: input must be floating point, got dtype {input.dtype}")


def _reduce(loss, reduction):
    if reduction == "mean":
        if loss.size == 0:  # NaN, as PyTorch, without NumPy's "Mean of empty slice" warning
            return _safe_div(loss.sum(), 0)
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _safe_div(total, denom):
    """total / denom for a Python number denom; 0 / 0 is NaN (as PyTorch), without a warning."""
    return total / denom if denom != 0 else total * float("nan")


# ---- classification -------------------------------------------------------------------------

def _class_target(input, target, fn):
    """The target as an integer ndarray checked against the input's batch and spatial shape."""
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"{fn}: target must hold integer class indices (got dtype {t.dtype}); e.g. "
            f"Tensor(labels, dtype=np.int64), or class probabilities of the input's shape "
            f"{input.shape} (cross_entropy only)")
    if input.ndim == 1:
        expected = ()
    else:
        if t.ndim == 0 or t.shape[0] != input.shape[0]:
            got = t.shape[0] if t.ndim else "a scalar"
            raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                             f"batch_size ({got}).")
        expected = input.shape[:1] + input.shape[2:]
    if t.shape != expected:
        raise ValueError(f"{fn}: expected target of shape {expected} for input of shape "
                         f"{input.shape}, got target of shape {t.shape}")
    return t


def _not_differentiable(weight, name, kernel):
    """PyTorch's refusal (there a RuntimeError, raised in grad mode only, before its other
    checks) of a ``weight`` that requires grad where its kernel computes no gradient for it:
    taken as a constant, it would silently get none."""
    if isinstance(weight, Tensor) and weight.requires_grad and is_grad_enabled():
        raise ValueError(f"The function '{kernel}' is not differentiable with respect to argument "
                         f"'{name}'. This input cannot have requires_grad True.")


def _nll_kernel(input):
    return "nll_loss_forward" if input.ndim <= 2 else "nll_loss2d_forward"  # PyTorch's names


def _class_weight(weight, input, fn):
    if weight is None:
        return None
    w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    if w.dtype.kind not in "iuf":  # first: a string's "shape []" would be a misleading message
        raise TypeError(f"{fn}: weight must be a Tensor or an array of numbers, got "
                        f"{type(weight).__name__} of dtype {w.dtype}")
    if w.shape != (c,):
        raise ValueError(f"{fn}: weight should be defined either for all {c} classes or no "
                         f"classes but got weight tensor of shape: {list(w.shape)}")
    if isinstance(weight, Tensor) and w.dtype.kind == "f" and w.dtype != input.dtype:
        # as every other operand (and PyTorch): a float32 loss weight with float64 logits is
        # a mismatch to fix (loss.double()), not a silent cast; arrays and lists are converted
        raise TypeError(f"{fn}: weight has dtype {w.dtype} but input has dtype {input.dtype}; "
                        f"convert one of them (e.g. the loss module with .to(np.{input.dtype}))")
    return w.astype(input.dtype, copy=False)


def _pick(logp, t, ignore_index, fn):
    """logp[sample, t[sample]] for every sample (class axis 1, or 0 for an unbatched input),
    the mask of counted samples (None: all of them) and the safe target (ignored ones as 0)."""
    c = logp.shape[0] if logp.ndim == 1 else logp.shape[1]
    ignored = t == ignore_index
    valid = None
    if ignored.any():
        valid = ~ignored
        t = np.where(ignored, 0, t)
    bad = (t < 0) | (t >= c)
    if bad.any():
        raise TargetIndexError(f"{fn}: Target {int(t[bad].flat[0])} is out of bounds: class "
                               f"indices must lie in [0, {c - 1}] (or equal ignore_index="
                               f"{ignore_index})")
    if logp.ndim == 1:
        return logp[int(t)], valid, t
    if logp.ndim == 2:
        return logp[np.arange(logp.shape[0]), t], valid, t
    # (N, C, d1, ...): one 1-D index into the flattened input (a multi-dimensional index array
    # would send the backward scatter-add down NumPy's slow path).
    n, d = logp.shape[0], int(np.prod(t.shape[1:]))  # not t[0].size: an empty batch has no t[0]
    flat = (np.arange(n)[:, None] * c + t.reshape(n, d)) * d + np.arange(d)
    return logp.reshape(-1)[flat.reshape(-1)].reshape(t.shape), valid, t


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of the target classes, given log-probabilities ``input`` of shape
    (C,), (N, C) or (N, C, d1, ...); ``target`` integer classes of shape (), (N,) or (N, d1, ...).

    ``mean`` divides by the summed weight of the counted (not ignored) targets, as PyTorch."""
    fn = "nll_loss"
    reduction = _reduction(fn, reduction, size_average, reduce)
    ignore_index = _check_ignore_index(ignore_index, fn)
    _check_input(input, fn)
    if input.ndim == 0:
        raise ValueError(f"{fn}: input must have at least one dimension (the classes)")
    t = _class_target(input, target, fn)
    w = _class_weight(weight, input, fn)
    _not_differentiable(weight, "weight", _nll_kernel(input))
    with scope("nll_loss", reduction=reduction, ignore_index=ignore_index):
        return _nll(input, t, w, ignore_index, reduction, fn, connect=True)


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _plain_batch(logp, t, ignore_index):
    """Whether an (N, C) float32/float64 batch has every target a class and none equal to
    ignore_index (the usual -100 lies outside their range): two reductions decide it, instead of
    the four passes and two any() of ``_pick``'s checks."""
    if logp.ndim != 2 or not t.size or logp.dtype.char not in "fd":
        return False  # float16: the composite's mean accumulates in float32 (np.mean), keep it
    bits = 8 * t.dtype.itemsize
    if ignore_index < 0 and t.dtype.kind == "i" and logp.shape[1] <= 1 << (bits - 1):
        # read as unsigned, a negative target is at least 2**(bits-1), so at least C: one
        # reduction decides 0 <= t < C (and the usual ignore_index, -100, then matches none)
        return int(np.maximum.reduce(t.view(_UNSIGNED[t.dtype.itemsize]))) < logp.shape[1]
    lo, hi = int(np.minimum.reduce(t)), int(np.maximum.reduce(t))
    return 0 <= lo and hi < logp.shape[1] and not lo <= ignore_index <= hi


def _nll(logp, t, w, ignore_index, reduction, fn, connect=False):
    if w is None and reduction != "none" and _plain_batch(logp, t, ignore_index):
        return apply(ops.NllLoss, logp, target=t, mean=reduction == "mean")
    if connect and logp._requires_grad:
        # nll_loss is one primitive in PyTorch, whose second derivative is zeros; this composite
        # of indexing would have none ("not used in the graph") without the Connect node
        logp = apply(ops.Connect, logp)
    picked, valid, t = _pick(logp, t, ignore_index, fn)
    if w is None and valid is None:
        return _reduce(-picked, reduction)
    scale = np.ones(t.shape, logp.dtype) if w is None else w[t]  # weight of each target
    if valid is not None:
        scale = np.where(valid, scale, 0).astype(logp.dtype, copy=False)
    # A select, so an ignored sample contributes exactly 0 even if its picked value is not finite.
    loss = picked * -scale if valid is None else where(valid, picked * -scale, 0.0)
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    return _safe_div(total, float(scale.sum()))


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross entropy between logits ``input`` ((C,), (N, C) or (N, C, d1, ...)) and ``target``:
    integer class indices (shape (), (N,) or (N, d1, ...); ``ignore_index`` skips a sample) or
    class probabilities of the input's shape. As PyTorch: ``label_smoothing`` mixes the target
    with the uniform distribution, ``weight`` weighs classes, and with class indices ``mean``
    divides by the summed weight of the counted targets."""
    fn = "cross_entropy"
    reduction = _reduction(fn, reduction, size_average, reduce)
    ignore_index = _check_ignore_index(ignore_index, fn)
    _check_input(input, fn)
    if input.ndim == 0:
        raise ValueError(f"{fn}: input must have at least one dimension (the classes)")
    ls = label_smoothing
    # a TypeError, as PyTorch; a float (the default 0.0) passes without the ABC check
    if type(ls) is not float and (isinstance(ls, bool) or not isinstance(ls, numbers.Real)):
        raise TypeError(f"{fn}: label_smoothing must be a float, got {type(ls).__name__}")
    if not 0.0 <= ls <= 1.0:
        raise ValueError(f"{fn}: label_smoothing must be between 0.0 and 1.0. Got: {ls!r}")
    ls = float(ls)
    w = _class_weight(weight, input, fn)
    cdim = 0 if input.ndim == 1 else 1
    c = input.shape[cdim]
    probs = _prob_target(input, target, fn)
    if probs is not None and ignore_index >= 0:  # would silently ignore nothing
        raise ValueError(f"{fn}: ignore_index is not supported for floating point target "
                         f"(class probabilities); got ignore_index={ignore_index}")
    t = None if probs is not None else _class_target(input, target, fn)
    if probs is None:
        _not_differentiable(weight, "weight", _nll_kernel(input))
    elif isinstance(weight, Tensor) and weight.requires_grad:
        w = weight  # with probabilities the weight is on the graph: its gradient, as PyTorch
    with scope("cross_entropy", reduction=reduction, label_smoothing=ls,
               ignore_index=ignore_index):
        logp = input.log_softmax(cdim)
        if probs is not None:
            return _soft_cross_entropy(logp, probs, w, ls, reduction, cdim)
        if ls == 0.0:
            return _nll(logp, t, w, ignore_index, reduction, fn)
        nll = _nll(logp, t, w, ignore_index, reduction, fn)
        # The smoothing term: -sum_c w_c logp_c per sample, masked and reduced as PyTorch does.
        shape = [1] * input.ndim
        shape[cdim] = c
        smooth = -(logp * w.reshape(shape)).sum(axis=cdim) if w is not None \
            else -logp.sum(axis=cdim)
        ignored = t == ignore_index
        if ignored.any():
            smooth = where(~ignored, smooth, 0.0)
        if reduction == "none":
            pass
        elif reduction == "sum":
            smooth = smooth.sum()
        else:
            safe = np.where(ignored, 0, t)
            denom = float(np.where(ignored, 0, w[safe]).sum()) if w is not None \
                else float((~ignored).sum())
            smooth = _safe_div(smooth.sum(), denom)
        return nll * (1.0 - ls) + smooth * (ls / c)


def _prob_target(input, target, fn):
    """The target as a float Tensor if it holds class probabilities, else None."""
    if isinstance(target, Tensor):
        kind, shape = target.dtype.kind, target.shape
    else:
        arr = np.asarray(target)
        kind, shape = arr.dtype.kind, arr.shape
    if kind != "f":
        return None
    if shape != input.shape:
        if input.ndim >= 1 and len(shape) == max(input.ndim - 1, 0):
            raise TypeError(
                f"{fn}: target of shape {shape} looks like class indices but has a floating "
                f"dtype; class indices must be integers (e.g. Tensor(labels, dtype=np.int64))")
        raise ValueError(f"{fn}: class-probability target must have the input's shape "
                         f"{input.shape}, got {shape}")
    if isinstance(target, Tensor):
        return target  # another float dtype promotes the loss, as torch's
    return Tensor(np.asarray(target, dtype=input.dtype))


def _soft_cross_entropy(logp, probs, w, ls, reduction, cdim):
    c = logp.shape[cdim]
    if ls > 0.0:
        probs = probs * (1.0 - ls) + ls / c
    prod = logp * probs
    if w is not None:
        shape = [1] * logp.ndim
        shape[cdim] = c
        prod = prod * w.reshape(shape)
    loss = -prod.sum(axis=cdim)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return _safe_div(loss.sum(), float(logp.size // c) if c else 0.0)


# ---- regression and binary classification ---------------------------------------------------

def _pair_target(input, target, fn, broadcast=True, mixed="promote"):
    """The target as a float Tensor; with ``broadcast``, one of another shape that broadcasts is
    taken with PyTorch's warning (mse, l1), else only the input's shape. A target Tensor of
    another float dtype is, as in torch, left to promote the arithmetic (``mixed="promote"``:
    a float32 input against float64 targets gives a float64 loss), cast to the input's dtype
    (``"input"``: torch's huber_loss), or refused (``"refuse"``: its binary_cross_entropy)."""
    _check_input(input, fn)
    if isinstance(target, Tensor):
        if target.dtype.kind != "f":
            raise TypeError(f"{fn}: target must be floating point, got dtype {target.dtype}")
        if target.dtype != input.dtype:
            target = _mixed_target(input, target, fn, mixed)
    else:
        target = Tensor(_numeric_array(target, "target", fn).astype(input.dtype))
    if target.shape != input.shape and broadcast:
        try:
            np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            raise ValueError(f"{fn}: target of shape {target.shape} does not broadcast with input "
                             f"of shape {input.shape}") from None
        import warnings
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      f"broadcasting. Please ensure they have the same size.", stacklevel=3)
    return target


def _mixed_target(input, target, fn, mixed):
    if mixed == "refuse":
        raise TypeError(f"{fn}: target has dtype {target.dtype} but input has dtype "
                        f"{input.dtype}")
    return target.astype(input.dtype) if mixed == "input" else target


def _elementwise_weight(weight, shape, dtype, fn, same_size, name="weight"):
    if weight is None:
        return None
    w = weight if isinstance(weight, Tensor) else Tensor(
        _numeric_array(weight, name, fn).astype(dtype))
    if same_size and w.shape != shape:
        raise ValueError("Weights and input must have the same size.")
    if not same_size:
        try:
            fits = np.broadcast_shapes(w.shape, shape) == shape
        except ValueError:
            fits = False
        if not fits:  # a bigger weight would silently make the loss bigger than the input
            raise ValueError(f"{fn}: {name} of shape {w.shape} does not broadcast to the input's "
                             f"shape {shape}")
    if w.dtype != dtype:
        w = w.astype(dtype) if w.dtype.kind == "f" else Tensor(w._data.astype(dtype))
    return w


def _weighted_regression(err, w, reduction):
    if w is None:
        return _reduce(err, reduction)
    err = err * w
    if reduction == "none":
        return err
    total = err.sum()
    if reduction == "sum":
        return total
    with np.errstate(divide="ignore", invalid="ignore"):  # weights summing to 0: NaN, as torch
        return total / w.sum()


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error; with ``weight`` (same size as input), ``mean`` is
    sum(w * err) / sum(w), as PyTorch."""
    fn = "mse_loss"
    reduction = _reduction(fn, reduction, size_average, reduce)
    target = _pair_target(input, target, fn)
    w = _elementwise_weight(weight, input.shape, input.dtype, fn, same_size=True)
    with scope("mse_loss", reduction=reduction):
        d = input - target
        return _weighted_regression(d * d, w, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error (gradient 0 where input == target, as PyTorch)."""
    fn = "l1_loss"
    reduction = _reduction(fn, reduction, size_average, reduce)
    target = _pair_target(input, target, fn)
    w = _elementwise_weight(weight, input.shape, input.dtype, fn, same_size=True)
    with scope("l1_loss", reduction=reduction):
        return _weighted_regression((input - target).abs(), w, reduction)


def _nonnegative(v, name, fn):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real) or not v >= 0:
        raise ValueError(f"{fn}: {name} must be a non-negative number, got {v!r}")
    return float(v)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``d = input - target``),
    as PyTorch; ``beta=0`` is the L1 loss."""
    fn = "smooth_l1_loss"
    reduction = _reduction(fn, reduction, size_average, reduce)
    beta = _nonnegative(beta, "beta", fn)
    target = _pair_target(input, target, fn)
    if input.dtype == np.float16:  # as torch's kernel, in float32 (d * d overflows float16)
        return smooth_l1_loss(input.astype(np.float32), target.astype(np.float32),
                              reduction=reduction, beta=beta).astype(np.float16)
    with scope(fn, reduction=reduction, beta=beta):
        if beta == 0.0:
            return _reduce((input - target).abs(), reduction)
        # m (d - m / 2) / beta with m = clip(d, -beta, beta): 0.5 d^2 / beta inside, |d| - beta / 2
        # outside, without the two selects (each an np.where over the batch; 40% of the step).
        # The derivative through m cancels exactly inside (d - m/2 and m/2 are both d/2: halving
        # is exact) and is cut by the clip outside, so d/dd is d / beta, then sign(d) (as torch's
        # at |d| = beta too); the second derivative is 1 / beta inside, 0 at d = 0 included (an
        # abs would lose it there); an infinite d gives inf, not NaN (the clip drops m's side).
        # One primitive (ops.SmoothL1) with that slope: the per-node cost of six was most of the
        # step at a batch of 64,000.
        return _reduce(apply(ops.SmoothL1, input, target, beta=beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """``0.5 d^2`` where ``|d| <= delta``, else ``delta (|d| - 0.5 delta)``, as PyTorch (``beta``
    times the smooth L1 loss with ``beta = delta``). ``weight`` (the input's size) multiplies
    each element's loss, and ``mean`` averages over the elements, as PyTorch's huber_loss (not
    over the weights, as its mse_loss)."""
    fn = "huber_loss"
    reduction = _reduction(fn, reduction, None, None)
    delta = _nonnegative(delta, "delta", fn)
    if delta == 0.0:
        raise ValueError(f"{fn}: delta must be positive, got 0")
    target = _pair_target(input, target, fn, mixed="input")
    w = _elementwise_weight(weight, input.shape, input.dtype, fn, same_size=True)
    if input.dtype == np.float16:  # as torch's kernel, in float32 (d * d overflows float16)
        return huber_loss(input.astype(np.float32), target.astype(np.float32), reduction, delta,
                          None if w is None else w.astype(np.float32)).astype(np.float16)
    with scope(fn, reduction=reduction, delta=delta):
        d = input - target
        a = d.abs()
        inner = a._data <= delta
        near = where(inner, d, 0.0)  # the square of an infinite d would give NaN gradients
        loss = where(inner, near * near * 0.5, (a - 0.5 * delta) * delta)
        return _reduce(loss if w is None else loss * w, reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """Binary cross entropy of probabilities ``input`` in [0, 1]; each log is clamped at -100,
    as PyTorch, so a confident wrong answer costs 100, not inf."""
    fn = "binary_cross_entropy"
    reduction = _reduction(fn, reduction, size_average, reduce)
    _not_differentiable(weight, "weight", fn)
    target = _pair_target(input, target, fn, broadcast=False, mixed="refuse")  # no warning first
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the same "
                         f"size.")
    x = input._data
    # written so that NaN fails too, as PyTorch's checks: a NaN probability from the model would
    # otherwise cost a finite 100 with gradient 0
    if not ((x >= 0) & (x <= 1)).all():
        raise ValueError(f"{fn}: all elements of input should be between 0 and 1")
    y = target._data
    if not ((y >= 0) & (y <= 1)).all():
        raise ValueError(f"{fn}: all elements of target should be between 0 and 1")
    w = _elementwise_weight(weight, input.shape, input.dtype, fn, same_size=False)
    with scope("binary_cross_entropy", reduction=reduction):
        # log(0) is never evaluated: at an input of exactly 0 (or 1) the clamped log is the
        # constant -100 and its gradient 0 (PyTorch divides by an epsilon there instead).
        pos, below = x > 0, x < 1
        log_p = where(pos, where(pos, input, 1.0).log().clip(min=-100.0), -100.0)
        log_q = where(below, where(below, 1.0 - input, 1.0).log().clip(min=-100.0), -100.0)
        loss = -(target * log_p + (1.0 - target) * log_q)
        if w is not None:
            loss = loss * w
        return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Sigmoid + binary cross entropy in one stable expression:
    (1 - t) * x - (1 + (pos_weight - 1) * t) * log(sigmoid(x)), with log(sigmoid(x)) =
    min(x, 0) - log(1 + exp(-|x|)) (no overflow for any x). ``weight`` and ``pos_weight``
    broadcast; ``mean`` averages over all elements."""
    fn = "binary_cross_entropy_with_logits"
    reduction = _reduction(fn, reduction, size_average, reduce)
    _not_differentiable(weight, "weight", fn)
    _not_differentiable(pos_weight, "pos_weight", fn)
    _check_input(input, fn)
    target = _pair_target(input, target, fn, broadcast=False)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    w = _elementwise_weight(weight, input.shape, input.dtype, fn, same_size=False)
    pw = _elementwise_weight(pos_weight, input.shape, input.dtype, fn, same_size=False,
                             name="pos_weight")
    with scope("binary_cross_entropy_with_logits", reduction=reduction):
        if pw is None:  # one primitive, the same values (ten nodes' overhead was most of it)
            loss = apply(ops.BceWithLogits, input, target)
        else:
            log_sig = _logsigmoid(input)
            loss = (1.0 - target) * input - ((pw - 1.0) * target + 1.0) * log_sig
        if w is not None:
            loss = loss * w
        return _reduce(loss, reduction)


_KL_MEAN_WARNING = (
    "reduction: 'mean' divides the total loss by both the batch size and the support size."
    "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
    "'mean' will be changed to behave the same as 'batchmean' in the next major release.")


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """The pointwise Kullback-Leibler divergence ``target * (log(target) - input)`` of
    log-probabilities ``input`` from probabilities ``target`` (``log_target=True``: target
    given as log-probabilities, ``exp(target) * (target - input)``), as PyTorch. ``0 * log 0``
    is 0; a negative target gives NaN. ``'batchmean'`` divides the sum by the batch size (the
    divergence per sample, KL's definition); ``'mean'`` divides by the number of elements and
    warns as PyTorch does."""
    fn = "kl_div"
    log_target = _flag(log_target, "log_target", fn)
    if size_average is not None or reduce is not None:
        _reduction(fn, "mean", size_average, reduce)
    if reduction not in ("none", "batchmean", "sum", "mean"):
        raise ValueError(f"{reduction} is not a valid value for reduction (expected 'none', "
                         f"'batchmean', 'sum' or 'mean')")
    target = _pair_target(input, target, fn, broadcast=False)
    try:
        np.broadcast_shapes(input.shape, target.shape)
    except ValueError:
        raise ValueError(f"{fn}: target of shape {target.shape} does not broadcast with input "
                         f"of shape {input.shape}") from None
    if reduction == "mean":
        import warnings
        warnings.warn(_KL_MEAN_WARNING, UserWarning, stacklevel=2)
    with scope(fn, reduction=reduction, log_target=log_target):
        if log_target:
            loss = target.exp() * (target - input)
        else:
            zero = target._data == 0
            # 0 * log 0 = 0 (torch's xlogy): the log never sees the 0, so neither the value nor
            # the gradient is 0 * -inf. A negative target's log is NaN, silently, as torch's.
            with np.errstate(invalid="ignore"):
                tlogt = where(zero, 0.0, target * where(zero, 1.0, target).log())
            loss = tlogt - target * input
        if reduction == "batchmean":
            total = loss.sum()
            return total / input.shape[0] if input.ndim else total
        return _reduce(loss, reduction)


def _shapes_broadcast(fn, *tensors):
    try:
        np.broadcast_shapes(*[t.shape for t in tensors])
    except ValueError:
        raise ValueError(f"{fn}: shapes {', '.join(str(t.shape) for t in tensors)} cannot be "
                         f"broadcast together") from None


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """``max(0, -target * (input1 - input2) + margin)``: ``target`` 1 asks for ``input1`` to
    rank above ``input2`` by ``margin``, -1 below, as PyTorch (the gradient at the hinge passes,
    as its ``clamp_min``)."""
    fn = "margin_ranking_loss"
    reduction = _reduction(fn, reduction, size_average, reduce)
    _check_input(input2, fn)
    target = _pair_target(input1, target, fn, broadcast=False)
    if not input1.ndim == input2.ndim == target.ndim:
        raise ValueError(f"{fn} : All input tensors should have same dimension but got sizes: "
                         f"input1: {input1.shape}, input2: {input2.shape}, target: "
                         f"{target.shape}")
    _shapes_broadcast(fn, input1, input2, target)
    margin = _real(margin, "margin", fn)
    with scope(fn, margin=margin, reduction=reduction):
        return _reduce((-target * (input1 - input2) + margin).clip(min=0.0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """``input`` where ``target`` is 1, ``max(0, margin - input)`` where it is -1, as PyTorch
    (its kernel's sum of the two selects: a target of another value gets both). The gradient at
    the hinge passes, as its ``clamp_min``."""
    fn = "hinge_embedding_loss"
    reduction = _reduction(fn, reduction, size_average, reduce)
    _check_input(input, fn)
    t = target._data if isinstance(target, Tensor) else _numeric_array(target, "target", fn)
    try:
        np.broadcast_shapes(input.shape, t.shape)
    except ValueError:
        raise ValueError(f"{fn}: shapes {input.shape}, {t.shape} cannot be broadcast "
                         f"together") from None
    margin = _real(margin, "margin", fn)
    with scope(fn, margin=margin, reduction=reduction):
        hinge = (margin - input).clip(min=0.0)
        return _reduce(where(t != 1, hinge, 0.0) + where(t != -1, input, 0.0), reduction)


_COSINE_EPS = 1e-12  # added to each squared norm, as PyTorch's kernel


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """``1 - cos(input1, input2)`` where ``target`` is 1, ``max(0, cos - margin)`` where it is
    -1 (0 elsewhere), over the last axis of (N, D) inputs with an (N,) target, or of (D,)
    inputs with a 0-d target, as PyTorch: each squared norm gets 1e-12 added."""
    fn = "cosine_embedding_loss"
    reduction = _reduction(fn, reduction, size_average, reduce)
    _check_input(input1, fn)
    _check_input(input2, fn)
    t = target._data if isinstance(target, Tensor) else _numeric_array(target, "target", fn)
    if t.ndim not in (0, 1):
        raise ValueError("0D or 1D target tensor expected, multi-target not supported")
    want = 2 if t.ndim == 1 else 1
    if input1.ndim != want or input2.ndim != want:
        raise ValueError(f"{t.ndim}D target tensor expects {want}D input tensors, but found "
                         f"inputs with sizes {list(input1.shape)} and {list(input2.shape)}.")
    _shapes_broadcast(fn, input1, input2)
    margin = _real(margin, "margin", fn)
    d = t.ndim  # the feature axis
    with scope(fn, margin=margin, reduction=reduction):
        prod = input1.vecdot(input2, axis=d)
        mag1 = input1.vecdot(input1, axis=d) + _COSINE_EPS
        mag2 = input2.vecdot(input2, axis=d) + _COSINE_EPS
        cos = prod / (mag1 * mag2).sqrt()
        try:
            out = where(t == 1, 1.0 - cos, 0.0) + where(t == -1, (cos - margin).clip(min=0.0),
                                                         0.0)
        except ValueError:
            raise ValueError(f"{fn}: target of shape {t.shape} does not match the "
                             f"{cos.shape[0] if cos.ndim else 1} pairs of the inputs") from None
        return _reduce(out, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` with ``d`` the
    ``pairwise_distance`` of norm ``p`` (and ``eps``), as PyTorch; ``swap`` takes the smaller of
    d(anchor, negative) and d(positive, negative) (the distance swap of Balntas et al.)."""
    fn = "triplet_margin_loss"
    swap = _flag(swap, "swap", fn)
    reduction = _reduction(fn, reduction, size_average, reduce)
    for x in (anchor, positive, negative):
        _check_input(x, fn)
    margin = _real(margin, "margin", fn)
    if not margin > 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ValueError(f"The anchor, positive, and negative tensors are expected to have the "
                         f"same number of dimensions, but got: anchor {anchor.ndim}D, positive "
                         f"{positive.ndim}D, and negative {negative.ndim}D inputs")
    with scope(fn, margin=margin, p=p, eps=eps, swap=swap, reduction=reduction):
        d_pos = pairwise_distance(anchor, positive, p, eps)
        d_neg = pairwise_distance(anchor, negative, p, eps)
        if swap:
            d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
        return _reduce((margin + d_pos - d_neg).clip(min=0.0), reduction)
