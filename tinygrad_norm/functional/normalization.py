"""Batch, layer, group and instance normalization as composites of Tensor primitives.

Each one is the same few lines -- subtract the mean, multiply by ``rsqrt(var + eps)``, scale and
shift -- over a different set of axes, inside a named scope. No derivative is written here: the
tape differentiates the composite, to any order. The statistics used to normalize are never
detached (that would give a wrong gradient); only the running-statistics update is, and it never
touches the tape.

Costs, since a later benchmark holds the composite against a hand-written backward:

* The variance is the mean square of the centred values, ``xc.vecdot(xc) / n`` (two-pass:
  stable where E[x^2] - E[x]^2 cancels; see ``_center_scale``); ``rsqrt`` is one primitive,
  not ``1 / sqrt``.
* Where the scale is per channel and the statistics are per channel (or per group of channels),
  weight is folded into the small per-channel factor, ``xc * (rsqrt(var + eps) * weight)``, which
  saves one full-size multiply in each direction. Parameters are reshaped to broadcast shapes,
  never expanded.
* The shift is added in the multiply's pass: ``addcmul(bias, xc, scale)``, one node and one
  output array where ``* scale`` then ``+ bias`` made two, with the same rounding; so is ``eps``
  (``addcmul(eps, sum_of_squares, 1 / n)``).
* With fixed statistics (evaluation with running estimates) the scale is per channel:
  ``(input - mean) * scale + bias``, the weight folded into ``scale``.

Argument checks all happen before anything is computed or updated, so a failing call leaves the
running statistics as they were. Where PyTorch raises ``RuntimeError`` this raises ``ValueError``
(or ``TypeError`` for a wrong dtype), with PyTorch's wording.
"""
from __future__ import annotations

import math
import numbers
import operator
import warnings

import numpy as np

from ..autograd import scope
from .. import ops
from ..tensor import Tensor, _make, addcmul
from ._checks import _flag  # training="False" would train

__all__ = ["batch_norm", "layer_norm", "rms_norm", "group_norm", "instance_norm"]


# ---- argument checks ----------------------------------------------------------------------------

def _check_input(input, fn, min_ndim):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{fn}(): input must be floating point, got dtype {input.dtype}")
    if input.ndim < min_ndim:
        raise ValueError(f"{fn}(): expected at least {min_ndim}D input (got {input.ndim}D input "
                         f"of shape {input.shape})")


def _check_vector(t, name, size, dtype, fn):
    """A per-channel tensor (weight, bias, running statistic): a Tensor of ``size`` elements and
    the input's dtype, or None."""
    if t is None or type(t) is Tensor and t._data.size == size and t._data.dtype == dtype:
        return  # the usual case, decided in one line (the checks below cost ~1 us each)
    if not isinstance(t, Tensor):
        raise TypeError(f"{fn}(): {name} must be a Tensor or None, got {type(t).__name__}")
    if t.size != size:
        raise ValueError(f"{name} should contain {size} elements not {t.size}")
    _check_dtype(t, name, dtype, fn)


def _check_dtype(t, name, dtype, fn):
    if t.dtype != dtype:
        raise TypeError(f"{fn}(): {name} has dtype {t.dtype} but input has dtype {dtype}; all "
                        f"must share one dtype (convert with .astype(np.{dtype}))")


def _check_running(running_mean, running_var, fn):
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be None")


def _check_writable(fn, **buffers):
    """Buffers a training call updates in place: a read-only one (a broadcast view, a memory
    map) failed inside NumPy after the others had changed."""
    for name, t in buffers.items():
        if t is not None and not t._data.flags.writeable:
            raise ValueError(f"{fn}(): {name} is read-only, but a training call updates it in "
                             f"place; give it an array of its own (t.data = t.data.copy())")


def _one_number(v, name, fn):
    """A one-element Tensor's value; a bigger Tensor is a TypeError naming the argument."""
    if v.size != 1:
        raise TypeError(f"{fn}(): {name} must be a real number, got a Tensor of shape {v.shape}")
    return v.item()


def _check_eps(eps, fn):
    if type(eps) is float:
        return eps
    if isinstance(eps, Tensor):
        eps = _one_number(eps, "eps", fn)
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"{fn}(): eps must be a real number, got {type(eps).__name__}")
    return float(eps)  # a Python float: a NumPy float64 scalar would promote a float32 graph


def _check_momentum(momentum, fn):
    if momentum is None or type(momentum) is float and math.isfinite(momentum):
        return momentum
    if isinstance(momentum, Tensor):
        momentum = _one_number(momentum, "momentum", fn)
    if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real):
        raise TypeError(f"{fn}(): momentum must be a real number or None, got "
                        f"{type(momentum).__name__}")
    if not math.isfinite(momentum):
        # PyTorch takes it and fills the running statistics with NaN for good; here it is
        # refused before they are touched.
        raise ValueError(f"{fn}(): momentum must be a finite number or None, got {momentum}")
    return float(momentum)  # not range-checked, as in PyTorch (negative values are accepted)


def _channel_shape(ndim, channels):
    """(1, C, 1, ..., 1): a per-channel vector broadcast against an (N, C, *spatial) input; for
    an (N, C) input the vector's own shape (C,) broadcasts already, and a reshape would be two
    tape nodes (forward and backward) for nothing."""
    return (channels,) if ndim == 2 else (1, channels) + (1,) * (ndim - 2)


# ---- the shared core ----------------------------------------------------------------------------

def _in_float32(func, tensors, **rest):
    """``func`` (a normalization) of float16 ``tensors``, computed in float32 and rounded back
    once, as PyTorch's CPU kernels do: in float16 the sums of squares overflow 65504 at ordinary
    sizes (1024 features of std 10). The casts are primitives on the tape, drawn beside the
    composite's cluster, so the gradients come back float16; running statistics are updated in
    float32 copies, then written back into the float16 buffers themselves."""
    up = {k: None if t is None else t.astype(np.float32) for k, t in tensors.items()}
    out = func(**up, **rest)
    if rest.get("training", rest.get("use_input_stats")):  # eval leaves them (maybe read-only)
        for k in ("running_mean", "running_var"):
            if tensors.get(k) is not None:
                np.copyto(tensors[k]._data, up[k]._data, casting="same_kind")
    return out.astype(np.float16)


def _center_scale(x, axes, eps, keepdims=True):
    """``x - mean`` and ``rsqrt(var + eps)`` over ``axes`` (kept as size-1 axes, or dropped with
    ``keepdims=False``), and the mean and the biased variance (arrays, off the tape) for a
    running-statistics update.

    Every statistic stays on the graph. The variance is the mean of ``xc * xc``: the two-pass
    formula (stable where E[x^2] - E[x]^2 cancels), reusing the centred values the output needs
    anyway. The ``var`` primitive would centre the input a second time, forward and (for a big
    input, whose deviation it does not keep) backward: a batch norm step on (32, 64, 28, 28) was
    8% slower with it. Its gradient reaches the input through the centring, ``g - mean(g)``,
    whose rounding error is a few ulps times |mean| / std: small, since that ratio is bounded by
    the shift below.

    When a set's mean is huge against its spread (float32 values near 1e4 with std 1e-2), the
    rounding of the mean is a visible fraction of a standard deviation. Then the input is first
    shifted by one of its own values per set, ``d = x - x[first of the set]``, and the statistics
    are taken of ``d``, whose mean is of the size of the spread. The shift is a constant, off the
    tape, and exact to every order: ``d - mean(d)`` does not depend on it. Ordinary activations
    never need it, so it costs nothing there."""
    xc, mean = _center(x, axes, keepdims)
    r, var = _rsqrt_var(xc, axes, eps, keepdims)
    if not _needs_shift(mean, var):
        return xc, r, mean, var
    index = tuple(slice(0, 1) if i in axes else slice(None) for i in range(x.ndim))
    shift = Tensor._wrap(x._data[index])
    d = x - shift  # sub with a constant: its VJP passes the gradient through, nothing more
    xc, mean = _center(d, axes, keepdims)
    r, var = _rsqrt_var(xc, axes, eps, keepdims)
    return xc, r, (mean + shift._data).reshape(mean.shape), var


def _center(x, axes, keepdims):
    """``x - mean(x, axes)`` as one ``center`` primitive (mean then sub were two nodes), and the
    mean as an array (size-1 axes kept or not, as ``keepdims``), off the tape."""
    a = x._data
    out, mean = ops.Center.forward(a, axes, keepdims)
    return _make(ops.Center, out, (x,), (a,), dict(axis=axes, keepdims=keepdims), mean), mean


def _rsqrt_var(xc, axes, eps, keepdims=True):
    """``rsqrt(var + eps)`` on the tape, and the biased variance ``var`` as an array (for the
    running statistics and the shift test).

    ``var`` is the mean of ``xc * xc``, taken as a sum of squares (``vecdot``, one pass, no
    x-sized ``xc * xc``: held by the tape until backward, it raised a batch norm step's peak
    memory from 4x to 5x its input's size) times ``1 / n``; ``var + eps`` is then one
    ``addcmul`` node, ``eps + ss * (1 / n)``, rounded as ``ss * (1 / n)`` then ``+ eps`` were."""
    n = math.prod([xc.shape[i] for i in axes])
    inv_n = 1.0 / n if n else math.nan
    ss = xc.vecdot(xc, axis=axes, keepdims=keepdims)
    return addcmul(eps, ss, inv_n).rsqrt(), ss._data * inv_n


def _needs_shift(mean, var):
    """Whether |mean| is large enough against std for the mean's rounding to show: beyond 8 std in
    float32 (1e3 in float64). An input gradient over a small set is a small difference of terms of
    size 1/std, so an error of |mean| ulps in the centred values is amplified there: a 2-value
    layer norm with |mean| = 66 std lost 5% of its gradient in float32 without the shift."""
    if mean.size == 0:
        return False
    limit = 1e3 if mean.dtype == np.float64 else 8.0
    # |mean| > limit * std as written: squaring both sides would overflow (and warn) for huge
    # means; a sqrt of a sum of squares cannot. NaN compares False, as it should (no shift).
    return bool((np.abs(mean) > limit * np.sqrt(var)).any())


def _quiet_if_empty(x):
    """NumPy warns on the mean of an empty slice; an empty batch is legal (the output is empty)."""
    if x._data.size == 0:  # the array's count: Tensor.size builds a callable int
        ctx = warnings.catch_warnings()
        ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)
        return ctx
    return None


def _update_running(running, stat, momentum, channel_axes, unbias):
    """``running <- (1 - m) * running + m * stat * unbias``, in place on the buffer's array, off
    the tape. ``stat`` (an array) is averaged over ``channel_axes`` first (instance norm: over
    the batch)."""
    s = stat
    if channel_axes:
        s = s.mean(axis=channel_axes)
    buf = running._data
    if s.shape != buf.shape:
        s = s.reshape(buf.shape)
    new = s * (momentum * unbias) if unbias != 1.0 else s * momentum
    buf *= 1.0 - momentum
    buf += new if new.dtype == buf.dtype else new.astype(buf.dtype)


def _scale_shift(xc, r, weight, bias, shape, fold):
    """``xc * r * weight + bias`` with per-channel ``weight`` and ``bias``. ``fold`` multiplies
    weight into the small factor ``r`` first (one full-size multiply less each way); an empty
    input must not fold: its statistics are NaN, and the weight's gradient would be 0 * NaN
    instead of the 0 that PyTorch gives."""
    if weight is not None:
        if fold:
            r = r * weight.reshape(shape)
        else:
            xc, r = xc * r, weight.reshape(shape)
    if bias is None:
        return xc * r
    return addcmul(bias.reshape(shape), xc, r)  # (xc * r) + bias: one node, one output array


def _affine_fixed(x, mean, var, weight, bias, eps, shape):
    """Normalization with constant statistics (running estimates): ``(x - mean) * scale + bias``
    with ``scale = weight * rsqrt(var + eps)`` per channel.

    Not the cheaper ``x * scale + (bias - mean * scale)`` that PyTorch's CPU kernel uses: in
    float32 that adds two large, nearly opposite numbers when the mean is large against the
    standard deviation (mean 1e4, std 1e-2: x * scale is 1e6, rounded to 0.06)."""
    scale = (var.reshape(shape) + eps).rsqrt()
    if weight is not None:
        scale = scale * weight.reshape(shape)
    centred = x + (-mean.reshape(shape))  # + (-mean): see _center_scale
    if bias is None:
        return centred * scale
    return addcmul(bias.reshape(shape), centred, scale)


# ---- batch norm ---------------------------------------------------------------------------------

def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5, *, num_batches_tracked=None):
    """Batch normalization over every axis but 1 of an (N, C, *) input (rank >= 2), as
    ``torch.nn.functional.batch_norm``.

    Training normalizes with the batch's mean and biased variance and, when ``running_mean`` and
    ``running_var`` are given, updates them in place (off the tape) with the batch mean and the
    *unbiased* variance: ``running <- (1 - momentum) * running + momentum * batch``. Evaluation
    normalizes with the running estimates, which it requires.

    ``num_batches_tracked`` (keyword only, an int64 0-d Tensor; ``nn.BatchNorm*`` passes its
    buffer) is incremented in place by every training call that updates running statistics, and
    makes ``momentum=None`` mean PyTorch's cumulative average: ``momentum = 1 / count``. PyTorch
    keeps that counter in the module; here the functional takes it, so that every check runs
    before any state (the counter included) changes.

    *vs PyTorch at an infinite weight:* the limit ``w (x - mean) / std + b`` here (+-inf), where
    torch's kernel, ``x * (w / std) + (b - mean * w / std)``, gives inf - inf (NaN) on one side
    of the mean; as group_norm's.
    """
    fn = "batch_norm"
    _check_input(input, fn, 2)
    training = _flag(training, "training", fn)
    eps = _check_eps(eps, fn)
    momentum = _check_momentum(momentum, fn)
    _check_running(running_mean, running_var, fn)
    if not training and running_mean is None:
        raise ValueError("running_mean must be defined in evaluation mode")
    data = input._data  # its shape, dtype and size read once (each a property of the Tensor)
    C, dt = data.shape[1], data.dtype
    _check_vector(running_mean, "running_mean", C, dt, fn)
    _check_vector(running_var, "running_var", C, dt, fn)
    _check_vector(weight, "weight", C, dt, fn)
    _check_vector(bias, "bias", C, dt, fn)
    if training:
        if not eps > 0:
            raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
        n = data.size // C if C else 0
        if n == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {input.shape}")
    elif not eps >= 0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    updating = training and running_mean is not None
    if updating:
        if num_batches_tracked is not None and not (
                isinstance(num_batches_tracked, Tensor) and num_batches_tracked.size == 1
                and num_batches_tracked.dtype.kind in "iu"):
            raise TypeError("batch_norm(): num_batches_tracked must be an integer Tensor of one "
                            "element (the module's buffer) or None")
        if momentum is None and num_batches_tracked is None:
            raise ValueError("batch_norm(): momentum=None (a cumulative average) needs the batch "
                             "count: pass num_batches_tracked")
        if not (running_mean is None or running_mean._data.flags.writeable
                and running_var._data.flags.writeable):  # the usual case in one line
            _check_writable(fn, running_mean=running_mean, running_var=running_var)
        if num_batches_tracked is not None and not num_batches_tracked._data.flags.writeable:
            _check_writable(fn, num_batches_tracked=num_batches_tracked)

    if dt == np.float16:
        return _in_float32(batch_norm, dict(input=input, running_mean=running_mean,
                                            running_var=running_var, weight=weight, bias=bias),
                           training=training, momentum=momentum, eps=eps,
                           num_batches_tracked=num_batches_tracked)
    nd = data.ndim
    shape = _channel_shape(nd, C)
    with scope(fn, training=training, momentum=momentum, eps=eps):
        if not training:
            return _affine_fixed(input, running_mean, running_var, weight, bias, eps, shape)
        quiet = _quiet_if_empty(input)
        try:
            axes = (0,) + tuple(range(2, nd)) if nd > 2 else (0,)
            # (N, C): statistics of shape (C,), not (1, C): every per-channel op then broadcasts
            # with one axis less in NumPy's iterator (~1 us an op at (64, 128), ~8 ops a step)
            xc, r, mean, var = _center_scale(input, axes, eps, nd > 2)
            if updating:
                _batch_norm_update(running_mean, running_var, mean, var, momentum, n,
                                   num_batches_tracked)
            out = _scale_shift(xc, r, weight, bias, shape, data.size > 0)
        finally:
            if quiet is not None:
                quiet.__exit__(None, None, None)
        return out


def _batch_norm_update(running_mean, running_var, mean, var, momentum, n, count):
    if count is not None:
        count._data += 1  # before the factor, as PyTorch: the first batch gets momentum 1/1
    if n == 0:
        return  # an empty batch counts but changes neither estimate, as in PyTorch
    m = 1.0 / int(count._data) if momentum is None else momentum
    _update_running(running_mean, mean, m, (), 1.0)
    _update_running(running_var, var, m, (), n / (n - 1))


# ---- layer norm ---------------------------------------------------------------------------------

def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the trailing ``len(normalized_shape)`` axes of every sample, as
    ``torch.nn.functional.layer_norm``; ``weight`` and ``bias`` have ``normalized_shape``.

    ``normalized_shape`` is a tuple or list of ints; a bare int is a TypeError, as in PyTorch's
    functional (``nn.LayerNorm`` takes one)."""
    fn = "layer_norm"
    ns = _check_trailing(input, normalized_shape, fn, weight=weight, bias=bias)
    k = len(ns)
    eps = _check_eps(eps, fn)  # not range-checked, as in PyTorch
    if input.dtype == np.float16:
        return _in_float32(layer_norm, dict(input=input, weight=weight, bias=bias),
                           normalized_shape=ns, eps=eps)

    with scope(fn, normalized_shape=ns, eps=eps):
        quiet = _quiet_if_empty(input)
        try:
            axes = tuple(range(input.ndim - k, input.ndim))
            xc, r, _, _ = _center_scale(input, axes, eps)
            out = xc * r
            if weight is not None and bias is not None:
                out = addcmul(bias, out, weight)  # one node: (out * weight) + bias
            elif weight is not None:
                out = out * weight  # elementwise over the normalized axes: cannot fold into r
            elif bias is not None:
                out = out + bias
        finally:
            if quiet is not None:
                quiet.__exit__(None, None, None)
        return out


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalization over the trailing ``len(normalized_shape)`` axes of every
    sample, as ``torch.nn.functional.rms_norm``: ``x * rsqrt(mean(x^2) + eps) * weight``, no
    centring and no bias. ``eps=None`` is the machine epsilon of the input's dtype, as PyTorch.

    Three primitives and a multiply: the sum of squares (``vecdot``, no ``x * x`` array), ``+ eps``
    with the ``1 / n`` in one ``addcmul``, and ``rsqrt``."""
    fn = "rms_norm"
    ns = _check_trailing(input, normalized_shape, fn, weight=weight)
    k = len(ns)
    if input.dtype == np.float16:  # eps=None: float32's epsilon, as PyTorch (its opmath type)
        eps = None if eps is None else _check_eps(eps, fn)
        return _in_float32(rms_norm, dict(input=input, weight=weight), normalized_shape=ns,
                           eps=eps)
    eps = float(np.finfo(input.dtype).eps) if eps is None else _check_eps(eps, fn)

    with scope(fn, normalized_shape=ns, eps=eps):
        axes = tuple(range(input.ndim - k, input.ndim))
        n = math.prod(ns)
        with np.errstate(divide="ignore", invalid="ignore"):  # n = 0: an empty output anyway
            ss = input.vecdot(input, axis=axes, keepdims=True)
            r = addcmul(eps, ss, 1.0 / n if n else math.inf).rsqrt()
        out = input * r
        return out if weight is None else out * weight


def _check_trailing(input, normalized_shape, fn, **params):
    """Layer and RMS norm's checks: the input, ``normalized_shape`` (its trailing axes) and the
    elementwise parameters of that shape (None or a Tensor of the input's dtype)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): input must be a Tensor, got {type(input).__name__}")
    ns = _normalized_shape(normalized_shape, fn)
    _check_input(input, fn, 0)
    if not ns:
        raise ValueError("Expected normalized_shape to be at least 1-dimensional, i.e., containing "
                         "at least one element, but got normalized_shape = []")
    k = len(ns)
    if input.ndim < k or input.shape[input.ndim - k:] != ns:
        raise ValueError(f"Given normalized_shape={list(ns)}, expected input with shape "
                         f"[*, {', '.join(map(str, ns))}], but got input of size{list(input.shape)}")
    for name, t in params.items():
        if t is None:
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}(): {name} must be a Tensor or None, got {type(t).__name__}")
        if t.shape != ns:
            raise ValueError(f"Expected {name} to be of same shape as normalized_shape, but got "
                             f"{name} of shape {list(t.shape)} and normalized_shape = {list(ns)}")
        _check_dtype(t, name, input.dtype, fn)
    return ns


def _normalized_shape(ns, fn="layer_norm"):
    if isinstance(ns, numbers.Integral) and not isinstance(ns, bool):
        raise TypeError(f"{fn}(): argument 'normalized_shape' (position 2) must be tuple of "
                        f"ints, not int")
    if not isinstance(ns, (tuple, list)):
        raise TypeError(f"{fn}(): argument 'normalized_shape' (position 2) must be tuple of "
                        f"ints, not {type(ns).__name__}")
    try:
        if any(isinstance(s, bool) for s in ns):
            raise TypeError
        return tuple(operator.index(s) for s in ns)
    except TypeError:
        raise TypeError(f"{fn}(): argument 'normalized_shape' (position 2) must be tuple of "
                        f"ints, got {ns!r}") from None


# ---- group norm ---------------------------------------------------------------------------------

def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalize each sample over groups of ``C // num_groups`` consecutive channels (and every
    spatial position), as ``torch.nn.functional.group_norm``; ``weight`` and ``bias`` are per
    channel. ``num_groups=1`` is layer norm over (C, *spatial); ``num_groups=C`` is instance
    norm.

    *vs PyTorch at inf and huge values* (both defensible): an infinite ``weight`` gives here the
    limit ``w (x - mean) / std + b`` (+-inf, NaN only where x is the mean), where torch's
    kernel, ``x * (w / std) + (b - mean * w / std)``, meets inf - inf (NaN); and a group whose
    variance overflows (values near 1e300) has std inf here, so its output is ``bias``, where
    torch's running moments reach inf - inf and give NaN."""
    fn = "group_norm"
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"Expected at least 2 dimensions for input tensor but received {input.ndim}")
    _check_input(input, fn, 2)
    if isinstance(num_groups, bool) or not isinstance(num_groups, numbers.Integral):
        raise TypeError(f"{fn}(): num_groups must be an int, got {type(num_groups).__name__}")
    G = int(num_groups)
    N, C = input.shape[0], input.shape[1]
    if G <= 0:
        raise ValueError(f"{fn}(): num_groups must be positive, got {G}")
    if C % G:
        raise ValueError(f"Expected number of channels in input to be divisible by num_groups, but "
                         f"got input of shape {list(input.shape)} and num_groups={G}")
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is None:
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}(): {name} must be a Tensor or None, got {type(t).__name__}")
        if t.ndim != 1 or t.size != C:
            raise ValueError(f"Expected {name} to be a vector of size equal to the number of "
                             f"channels in input, but got {name} of shape {list(t.shape)} and "
                             f"input of shape {list(input.shape)}")
        _check_dtype(t, name, input.dtype, fn)
    spatial = input.shape[2:]
    Cg, L = C // G, math.prod(spatial)
    if (N * C // G) * L == 1:
        # PyTorch's own check, with its wording ("when training" although it holds in eval too)
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{[N * C // G, G] + list(spatial)}")
    eps = _check_eps(eps, fn)
    if input.dtype == np.float16:
        return _in_float32(group_norm, dict(input=input, weight=weight, bias=bias),
                           num_groups=G, eps=eps)

    with scope(fn, num_groups=G, eps=eps):
        quiet = _quiet_if_empty(input)
        try:
            shape = _channel_shape(input.ndim, C)
            if weight is not None and input.size > 0:
                # (N, G, Cg, L): the per-channel weight folds into the per-group factor
                x = input.reshape(N, G, Cg, L)
                xc, r, _, _ = _center_scale(x, (2, 3), eps)
                r = r * weight.reshape(1, G, Cg, 1)
                if bias is not None:  # the shift in the same pass: (xc * r) + bias, one node
                    return addcmul(bias.reshape(1, G, Cg, 1), xc, r).reshape(input.shape)
                out = (xc * r).reshape(input.shape)
            else:
                x = input.reshape(N, G, Cg * L)
                xc, r, _, _ = _center_scale(x, (2,), eps)
                out = (xc * r).reshape(input.shape)
                if weight is not None:  # an empty input: see _scale_shift
                    out = out * weight.reshape(shape)
            if bias is not None:
                out = out + bias.reshape(shape)
        finally:
            if quiet is not None:
                quiet.__exit__(None, None, None)
        return out


# ---- instance norm ------------------------------------------------------------------------------

def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalize each (sample, channel) over its spatial axes, as
    ``torch.nn.functional.instance_norm``; input (N, C, *spatial).

    With ``use_input_stats`` (the default) the instance statistics are used, and given running
    estimates are updated in place with their batch averages (the variance unbiased over the
    spatial size). Without it, the running estimates are used. ``momentum=None`` is taken as 0 --
    the estimates never change -- as ``nn.InstanceNorm*`` does in PyTorch."""
    fn = "instance_norm"
    _check_input(input, fn, 2)
    use_input_stats = _flag(use_input_stats, "use_input_stats", fn)
    eps = _check_eps(eps, fn)
    momentum = _check_momentum(momentum, fn)
    if momentum is None:
        momentum = 0.0
    _check_running(running_mean, running_var, fn)
    if not use_input_stats and running_mean is None:
        raise ValueError("Expected running_mean and running_var to be defined when "
                         "use_input_stats is false")
    C, dt = input.shape[1], input.dtype
    _check_vector(running_mean, "running_mean", C, dt, fn)
    _check_vector(running_var, "running_var", C, dt, fn)
    _check_vector(weight, "weight", C, dt, fn)
    _check_vector(bias, "bias", C, dt, fn)
    L = math.prod(input.shape[2:])
    if use_input_stats:
        _check_writable(fn, running_mean=running_mean, running_var=running_var)
    if use_input_stats and L == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{input.shape}")

    if dt == np.float16:
        return _in_float32(instance_norm, dict(input=input, running_mean=running_mean,
                                               running_var=running_var, weight=weight, bias=bias),
                           use_input_stats=use_input_stats, momentum=momentum, eps=eps)
    shape = _channel_shape(input.ndim, C)
    with scope(fn, use_input_stats=use_input_stats, training=use_input_stats, momentum=momentum,
               eps=eps):
        if not use_input_stats:
            return _affine_fixed(input, running_mean, running_var, weight, bias, eps, shape)
        quiet = _quiet_if_empty(input)
        try:
            axes = tuple(range(2, input.ndim))
            xc, r, mean, var = _center_scale(input, axes, eps)
            if running_mean is not None and input.shape[0] > 0 and L > 0:
                # the batch average of the instance means, and of the unbiased instance variances
                _update_running(running_mean, mean, momentum, (0,), 1.0)
                _update_running(running_var, var, momentum, (0,), L / (L - 1))
            out = _scale_shift(xc, r, weight, bias, shape, input.size > 0)
        finally:
            if quiet is not None:
                quiet.__exit__(None, None, None)
        return out
