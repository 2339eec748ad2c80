"""The connectionist temporal classification loss, as ``torch.nn.functional.ctc_loss``: a
composite of primitives, so its gradient (of any order) comes from the tape.

The forward variable ``alpha`` of Graves et al. (2006) runs in log space over the extended label
sequence ``l'`` (the target with a blank before, between and after its labels: ``2S + 1``
places for a target of length ``S``), all samples of the batch at once. Each time step is two
primitives on the (L, N) state: a ``window_logsumexp`` over the three places up to each place
(its predecessors: the place two before, where the labels allow the skip, the place before, and
itself; above place 0 a constant ``_NEG``) weighted by a constant mask that rules out the moves
a sample may not make, and the step's log-probabilities added. A sample whose input is shorter
than T stops moving after its last step (its mask then keeps each place where it is, and its
log-probabilities are 0), so after the loop the state holds every sample's alpha at its own
last step. The T steps run as one primitive, ``ctc_alpha``, which calls window_logsumexp's
forward and VJP step by step (one node where each step made three, and its slices of the
log-probabilities more).

Log space without -inf: a ruled-out move gets ``_NEG`` (-1e30) instead, so that no logsumexp
ever sees only -infs (its gradient there would be NaN, and 0 * NaN is NaN). A path through such a
move costs at least 1e30, so its ``exp`` is exactly 0 next to any real path: the values of
possible alignments are exact, and an impossible one is recognised by its log-likelihood below
``_NEG / 2`` and given ``inf`` (or 0 with ``zero_infinity``) through a select, so its gradient is
0. Log-probabilities of -inf are raised to ``_NEG`` the same way.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd import scope
from .. import ops
from ..tensor import Tensor, apply, concatenate, where
from ._checks import _flag
from .losses import _reduction

__all__ = ["ctc_loss"]

# A log-probability no real path reaches (a path of T steps sums T of them: -1e30 * T stays far
# inside float32's range), and the threshold below which a log-likelihood means "impossible".
_NEG = -1e30
_IMPOSSIBLE = _NEG / 2


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """The CTC loss of log-probabilities ``log_probs`` ((T, N, C), or (T, C) unbatched) against
    ``targets`` (padded (N, S), or the targets concatenated, of length sum(target_lengths)), as
    PyTorch: ``input_lengths`` and ``target_lengths`` are Tensors or sequences of N ints, class
    ``blank`` is the blank; ``'mean'`` divides each sample's loss by its target length (at least
    1) before the batch mean; an impossible alignment costs ``inf``, or 0 (and no gradient) with
    ``zero_infinity``.

    The gradient is the true derivative of the loss with respect to ``log_probs``. PyTorch's
    differs from it by ``exp(log_probs)`` (its formula assumes the log-probabilities come out of
    a ``log_softmax``, through which the two agree): see docs/api.md."""
    fn = "ctc_loss"
    reduction = _reduction(fn, reduction, None, None)
    zero_infinity = _flag(zero_infinity, "zero_infinity", fn)
    x = _check_log_probs(log_probs, fn)
    batched = x.ndim == 3
    T, C = x.shape[0], x.shape[-1]
    N = x.shape[1] if batched else 1
    blank = _check_blank(blank, C, fn)
    il = _lengths(input_lengths, "input_lengths", N)
    tl = _lengths(target_lengths, "target_lengths", N)
    if il.max() > T:
        raise ValueError(f"Expected input_lengths to have value at most {T}, but got value "
                         f"{int(il.max())}")
    labels = _extended_labels(targets, tl, N, C, blank, fn)
    with scope(fn, blank=blank, reduction=reduction, zero_infinity=zero_infinity):
        ll = _log_likelihood(x, labels, il, tl, N, C)
        lld = ll._data
        impossible = lld < _IMPOSSIBLE
        loss = -ll
        if impossible.any():
            loss = where(impossible, 0.0 if zero_infinity else float("inf"), loss)
        if not batched:
            loss = loss.reshape(())
        if reduction == "none":
            return loss
        if reduction == "sum":
            return loss.sum()
        per_label = loss / np.maximum(tl, 1).astype(x.dtype).reshape(loss.shape)
        return per_label.mean()


# ---- arguments ---------------------------------------------------------------------------------

def _check_log_probs(log_probs, fn):
    if not isinstance(log_probs, Tensor):
        raise TypeError(f"{fn}: log_probs must be a Tensor, got {type(log_probs).__name__}")
    if log_probs.dtype not in (np.float32, np.float64):
        # PyTorch: NotImplementedError ("ctc_loss_cpu" not implemented for 'Half', 'Long', ...)
        raise TypeError(f"{fn}: log_probs must be float32 or float64, got dtype "
                        f"{log_probs.dtype} (PyTorch's CPU kernel takes only those two too)")
    if log_probs.ndim not in (2, 3):
        raise ValueError(f"Expected 3-dimensional tensor (or 2-dimensional, unbatched), but got "
                         f"{log_probs.ndim}-dimensional tensor for argument #1 'log_probs' "
                         f"(while checking arguments for {fn})")
    if log_probs.size == 0:
        raise ValueError("log_probs tensor must not be empty")
    return log_probs


def _check_blank(blank, C, fn):
    """``blank`` as an int in [0, C) (C None: not negative; a module knows no C yet)."""
    if isinstance(blank, (bool, np.bool_)) or not isinstance(blank, numbers.Integral):
        raise TypeError(f"{fn}(): argument 'blank' must be int, not {type(blank).__name__}")
    if blank < 0 or (C is not None and blank >= C):
        raise ValueError(f"blank must be in label range: got blank={int(blank)}"
                         + (f" for {C} classes" if C is not None else ""))
    return int(blank)


def _int_array(v, name):
    """A Tensor, array, list or tuple of integers as an int64 ndarray, or PyTorch's "must be
    integral" as a TypeError (a float length would be cut silently; a bool is no length)."""
    arr = v._data if isinstance(v, Tensor) else np.asarray(v)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integral, got {type(v).__name__}"
                        + (f" of dtype {arr.dtype}" if hasattr(v, "dtype")
                           or isinstance(v, (list, tuple)) else ""))
    return arr.astype(np.int64, copy=False)


def _lengths(v, name, n):
    """One length per sample, as an int64 array of shape (n,)."""
    arr = _int_array(v, name).reshape(-1)  # PyTorch flattens a (1, N) lengths tensor too
    if arr.size != n:
        raise ValueError(f"{name} must be of size batch_size ({n}), got {arr.size} values")
    if arr.size and arr.min() < 0:
        raise ValueError(f"Expected {name} to have value at least 0, but got value "
                         f"{int(arr.min())}")
    return arr


def _extended_labels(targets, tl, N, C, blank, fn):
    """The extended label sequences l' as an (N, 2S + 1) int array, S the longest target: the
    blank at even places, sample n's labels at the odd places below 2 tl[n] + 1, the blank
    beyond (places no path of the sample ends at; the loss never reads them)."""
    t = targets._data if isinstance(targets, Tensor) else np.asarray(targets)
    if t.ndim not in (1, 2):
        raise ValueError(f"Expected 1 to 2 dimensions, but got {t.ndim}-dimensional tensor for "
                         f"argument #2 'targets' (while checking arguments for {fn})")
    if t.dtype.kind not in "iu" and t.size:  # an empty target of any dtype holds no label
        raise TypeError(f"{fn}: targets must hold integer class indices, got dtype {t.dtype} "
                        f"(a fractional label would be cut silently)")
    S = int(tl.max()) if tl.size else 0
    if t.ndim == 2:
        if t.shape[0] != N:
            raise ValueError(f"Expected tensor to have size {N} at dimension 0, but got size "
                             f"{t.shape[0]} for argument #2 'targets' (while checking arguments "
                             f"for {fn})")
        if t.shape[1] < S:
            raise ValueError(f"Expected tensor to have size at least {S} at dimension 1, but got "
                             f"size {t.shape[1]} for argument #2 'targets' (while checking "
                             f"arguments for {fn})")
        padded = t[:, :S].astype(np.int64, copy=False)
        valid = np.arange(S) < tl[:, None]
    else:
        total = int(tl.sum())
        if t.shape[0] != total:
            raise ValueError(f"Expected tensor to have size {total} at dimension 0, but got size "
                             f"{t.shape[0]} for argument #2 'targets' (while checking arguments "
                             f"for {fn})")
        valid = np.arange(S) < tl[:, None]
        padded = np.zeros((N, S), np.int64)
        padded[valid] = t.astype(np.int64, copy=False)  # row by row: the concatenation's order
    labels = np.where(valid, padded, blank)  # padding (any value in PyTorch) read as the blank
    bad = (labels < 0) | (labels >= C)
    if bad.any():
        # PyTorch reads out of its buffer here; a clear error instead
        raise ValueError(f"{fn}: targets must be class indices in [0, {C - 1}], got "
                         f"{int(labels[bad][0])}")
    if (valid & (padded == blank)).any():
        # "the target index cannot be blank", PyTorch's documentation says, without a check:
        # its loss then counts the label as a blank, and its gradient is not that loss's
        raise ValueError(f"{fn}: targets must not hold the blank (class {blank}) within "
                         f"target_lengths")
    ext = np.full((N, 2 * S + 1), blank, np.int64)
    ext[:, 1::2] = labels
    return ext


# ---- the recursion -----------------------------------------------------------------------------

def _log_likelihood(x, labels, il, tl, N, C):
    """log p(target | input) of every sample, an (N,) Tensor (below ``_IMPOSSIBLE`` where no
    alignment exists)."""
    L = labels.shape[1]
    dt = x.dtype
    # No step after the longest input (at least one, so that the loss stays on the graph).
    T = max(int(il.max()), 1)
    if T < x.shape[0]:
        x = x[:T]
    # Every step's log-probabilities at the extended labels, in one gather: (T, L, N), place-major
    # so that each step's state is (L, N) and a place's predecessors are the rows above it.
    flat = (np.arange(N)[:, None] * C + labels).T.reshape(-1)
    lpx = x.reshape(T, N * C)[:, flat].reshape(T, L, N)
    if (x._data < _NEG).any():  # -inf log-probabilities (masked classes): see the module's note
        lpx = lpx.clip(min=_NEG)
    # After its last step a sample's log-probabilities are 0 and its mask keeps it in place.
    active = np.arange(T)[:, None] < il[None, :]  # (T, N)
    if not active.all():
        lpx = where(active[:, None, :], lpx, 0.0)
    # The moves into place s: from s - 2 (window row 0; only where l'(s) != l'(s - 2),
    # PyTorch's rule: never at a blank, nor between repeated labels), s - 1 (row 1) and s (row
    # 2); a move from above place 0 starts at _NEG. One step is one ``window_logsumexp`` of the
    # (L, N) state with the moves' mask (0 or _NEG) as weights, and the step's log-probabilities
    # added: two primitives (im2col, the mask's add, logsumexp and a concatenation of two rows
    # of _NEG above the state were four more nodes a step, most of the loss's time).
    allowed = np.ones((3, L, N), bool)
    allowed[0, :2] = False
    allowed[0, 2:] = (labels[:, 2:] != labels[:, :-2]).T
    move = np.where(allowed, 0.0, _NEG).astype(dt)
    stay = np.where(np.arange(3) == 2, 0.0, _NEG).astype(dt)[:, None, None]
    # alpha before the first step: 0 at place 0, so that step 0 gives places 0 and 1 their
    # log-probabilities and every other place _NEG
    start = np.full((L, N), _NEG, dt)
    start[0] = 0.0
    # All T steps are one primitive (ops.CtcAlpha: the same window_logsumexp steps, without
    # three nodes a step and the slices of lpx)
    alpha = apply(ops.CtcAlpha, lpx, start=start, move=move, stay=stay, active=active, fill=_NEG)
    # log p = logsumexp of alpha at the last place, 2 tl, and at the last label, 2 tl - 1 (for
    # an empty target that is the _NEG row put above the state here)
    alpha = concatenate([Tensor(np.full((1, N), _NEG, dt)), alpha], axis=0)
    cols = np.arange(N)
    last = alpha[np.stack([1 + 2 * tl, 2 * tl]), np.stack([cols, cols])]
    return last.logsumexp(axis=0)
