"""PyTorch's reductions and scans that the NumPy-named methods do not cover: ``nansum`` and
``nanmean`` (NaN left out), ``cummax``/``cummin`` (running extremes and where each came from),
``logcumsumexp`` (running log-sum-exp, stable for any finite input) and ``aminmax`` (both
extremes at once). Each is a Tensor method as well (``x.nansum(1)``), under torch's argument
names (``dim``, ``keepdim``; NumPy's ``axis``/``keepdims`` too, as the other torch-named
reductions). All are composites of selects, indexing (``gather``), sums, ``Max``/``Min`` and
``Logaddexp``, so every derivative comes from those primitives: no primitive of their own.
Errors are ValueError/TypeError/IndexError with torch's words where torch has them."""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from .tensor import Tensor, _bool_arg, concatenate, where
from .tensor_index import _dim, _dims, _tensor

__all__ = ["nansum", "nanmean", "cummax", "cummin", "logcumsumexp", "aminmax"]

# torch.return_types.cummax / cummin / aminmax: the same type names and fields
CummaxResult = namedtuple("cummax", "values indices")
CumminResult = namedtuple("cummin", "values indices")
AminmaxResult = namedtuple("aminmax", "min max")


def _cast(x, dtype):
    """``x`` in ``dtype`` first (torch's ``dtype=``: the input is cast before the op)."""
    return x if dtype is None else x.astype(dtype)


def _without_nan(x):
    """``x`` with NaN replaced by 0, by a select: the gradient is exactly 0 at the NaN places
    (torch's ``grad * ~isnan(x)``, where the upstream gradient is finite). Itself when no
    element is NaN (or the dtype has no NaN): no node."""
    if x._data.dtype.kind != "f":
        return x
    nan = np.isnan(x._data)
    if not nan.any():
        return x
    return where(nan, Tensor._wrap(np.zeros((), x._data.dtype)), x)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """The sum over ``dim`` (an int or a tuple; None, ``()`` or ``[]`` for all) with NaN
    counted as 0, as ``torch.nansum``. Integer and bool tensors sum in int64, float16 in
    float32 (rounded once), as torch's."""
    x = _cast(_tensor(input, "nansum"), dtype)
    axes = _dims(x, dim, "nansum")
    if x._data.dtype.kind in "biu":
        return Tensor._wrap(np.asarray(np.sum(x._data, axis=axes, dtype=np.int64,
                                              keepdims=_bool_arg(keepdim, "keepdim", "nansum"))))
    return _without_nan(x).sum(axes, _bool_arg(keepdim, "keepdim", "nansum"))


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean over ``dim`` of the elements that are not NaN, as ``torch.nanmean``: NaN where a
    slice holds nothing else. Floating tensors only (``TypeError``, torch's error). The
    gradient is ``g / count`` at the other elements and 0 at the NaN ones."""
    x = _cast(_tensor(input, "nanmean"), dtype)
    dt = x._data.dtype
    if dt.kind != "f":
        raise TypeError(f"nanmean(): expected input to have floating point dtype but got {dt}")
    axes = _dims(x, dim, "nanmean")
    keep = _bool_arg(keepdim, "keepdim", "nanmean")
    count = np.sum(~np.isnan(x._data), axis=axes, keepdims=keep)
    total = _without_nan(x).sum(axes, keep)
    if count.all():
        return total / Tensor._wrap(np.asarray(count, dt))
    # an all-NaN slice: NaN by a select, so that no 0/0 runs forward or backward (NumPy's
    # warning); its elements' gradient is 0, as every NaN element's
    safe = Tensor._wrap(np.asarray(np.maximum(count, 1), dt))
    return where(count == 0, Tensor._wrap(np.asarray(np.nan, dt)), total / safe)


def _running(x, d, ufunc, result):
    """cummax/cummin: ``ufunc`` (np.maximum or np.minimum) accumulated along ``d``, and each
    output's index: the last element so far that equals the running extreme, or that is NaN
    (torch's rule: ``x >= best or isnan(x)`` takes over; NaN then stays)."""
    if x._data.ndim == 0:  # torch: the element itself, index 0
        return result(x.clone(), Tensor._wrap(np.zeros((), np.int64)))
    a = x._data
    best = ufunc.accumulate(a, axis=d)  # NaN propagates, as torch's
    takes = a == best
    if a.dtype.kind == "f":
        takes |= np.isnan(a)
    shape = [1] * a.ndim
    shape[d] = a.shape[d]
    pos = np.arange(a.shape[d], dtype=np.int64).reshape(shape)
    # the first element always takes (it is the running extreme, or NaN)
    idx = np.maximum.accumulate(np.where(takes, pos, 0), axis=d)
    # the values by their indices: exact, and the gradient goes to the element each came from
    # (repeats add up), as torch's scatter-add backward
    return result(x.gather(d, idx), Tensor._wrap(idx))


def cummax(input, dim):
    """``(values, indices)``: the running maximum along ``dim`` and the index of the element
    it came from (of equal ones, the latest), as ``torch.cummax``; a NaN is the maximum from
    there on, its index the latest NaN. The gradient goes to those elements."""
    x = _tensor(input, "cummax")
    return _running(x, _dim(x, dim, "cummax"), np.maximum, CummaxResult)


def cummin(input, dim):
    """``(values, indices)``: the running minimum along ``dim``, as ``torch.cummin``."""
    x = _tensor(input, "cummin")
    return _running(x, _dim(x, dim, "cummin"), np.minimum, CumminResult)


def logcumsumexp(input, dim):
    """``log(cumsum(exp(x)))`` along ``dim``, as ``torch.logcumsumexp``, without overflow or
    underflow for any finite input: a scan of ``logaddexp`` (stable, one primitive) in
    ``ceil(log2(n))`` steps, each element combined with the one ``2**k`` before it (Hillis
    and Steele's inclusive scan). Floating tensors only (``TypeError``, torch's error);
    float16 is computed in float32 and rounded once. *vs PyTorch:* at ``|x|`` near 1e300 torch's
    log-space gradient (``exp(x + logcumsumexp(log|g| - out))``) loses ``log|g|`` beside ``x``
    and gives 0 or the wrong share; the scan's here is exact."""
    x = _tensor(input, "logcumsumexp")
    d = _dim(x, dim, "logcumsumexp")
    dt = x._data.dtype
    if dt.kind != "f":
        raise TypeError(f"logcumsumexp(): not implemented for {dt} (a floating tensor only)")
    if dt == np.float16:
        return logcumsumexp(x.astype(np.float32), d).astype(np.float16)
    if x._data.ndim == 0:
        return x.clone()  # torch's gradient of a 0-d input is g, infinite or not
    if not np.isfinite(x._data).all():  # (one pass; the finite path goes straight on)
        after_inf = _after_posinf(x._data, d)
        x = _torch_inf_slopes(x, d)
        if after_inf is not None:
            return _logcumsumexp_past_inf(x, d, after_inf)
    return _scan(x, d)


def _scan(x, d):
    """The running log-sum-exp of ``x`` along ``d`` (the scan itself, for any input)."""
    n = x._data.shape[d]
    out, step = x, 1
    lead = (slice(None),) * d
    while step < n:
        # out[i] takes in out[i - step]: after this, out[i] covers x[i - 2*step + 1 .. i]
        head, tail = out[lead + (slice(0, step),)], out[lead + (slice(step, None),)]
        out = concatenate([head, tail.logaddexp(out[lead + (slice(0, n - step),)])], axis=d)
        step *= 2
    return out if out is not x else x.clone()


def _after_posinf(a, d):
    """Where along ``d`` a +inf has been seen (that entry and all after it) in a slice free of
    NaN; None when there is no such entry."""
    with np.errstate(invalid="ignore"):
        seen = np.logical_or.accumulate(np.isposinf(a), axis=d)
    # a NaN anywhere in a slice makes torch's whole-slice gradient NaN, as the scan's is
    seen &= ~np.isnan(a).any(axis=d, keepdims=True)
    return seen if seen.any() else None


def _logcumsumexp_past_inf(x, d, after):
    """The running log-sum-exp when some slices hold +inf (``after`` marks it and what follows):
    from there on the result is +inf, and torch's gradient sends 0 to every finite entry
    and NaN to each +inf (``exp(x + log(g) - inf)``). The scan's own would be NaN there as
    well: ``logaddexp(inf, b)`` gives its +inf operand ``g * exp(inf - inf)``, and that NaN
    times the finite operand's 0 slope spreads to every entry after the +inf. So the scan
    runs on the entries before it only (the rest read 0: no inf, no NaN, and no gradient
    reaches them), and a running sum of the +inf entries gives the +inf part."""
    head = _scan(where(after, 0.0, x), d)
    infs = where(after & np.isposinf(x._data), x, 0.0).cumsum(d)
    return where(after, infs, head)


def _torch_inf_slopes(x, d):
    """``x`` itself, unless it holds infinities or NaN: torch's logcumsumexp gradient (in log
    space, ``exp(x + log-sum of g / exp(out))``) is NaN at +inf, at NaN and at a -inf whose
    running result is still -inf (inf - inf there), where the scan's own gradient is g or 0.
    Those entries keep their value and get a NaN slope. Every other -inf reads the dtype's
    lowest number instead, outside NaN slices: the same values (``logaddexp(b, lowest)`` is ``b`` for any b that
    is not itself near it), and torch's 0 gradient there, where two -inf operands of one of
    the scan's ``logaddexp`` would send NaN (``exp(-inf + inf)``) back to both."""
    a = x._data
    if np.isfinite(a).all():
        return x
    with np.errstate(invalid="ignore"):
        # the running max is -inf exactly where the running log-sum-exp is
        neg = np.isneginf(a)
        still = neg & np.isneginf(np.maximum.accumulate(a, axis=d))
        lost = np.isposinf(a) | np.isnan(a) | still
        # (a NaN slice keeps its -inf: torch's gradient is NaN over the whole slice there)
        quiet = neg & ~still & ~np.isnan(a).any(axis=d, keepdims=True)
    if quiet.any():
        x = where(quiet, float(np.finfo(a.dtype).min), x)
    return _inf_slope_nan(x, lost)


def _inf_slope_nan(x, mask):
    """``x``, where ``mask`` marks infinities that keep their value with a NaN derivative:
    ``exp(log(|x|))`` is ``|x|`` there, its slope ``inf * (1 / inf)`` NaN."""
    if not np.any(mask):
        return x
    # -1 at a masked -inf only (the unmasked entries read 1, whose log is 0); NaN reads 1
    sign = np.where(mask & (x._data < 0), -1.0, 1.0).astype(x._data.dtype)
    mag = (where(mask, x, 1.0) * sign).log().exp()
    return where(mask, mag * sign, x)


def aminmax(input, *, dim=None, keepdim=False):
    """The named tuple ``(min, max)`` over ``dim`` (one int; None for all), as
    ``torch.aminmax``; ties share each gradient evenly, as torch's (``amin``/``amax``). An
    empty reduction is torch's error (a ``ValueError`` over all elements, an ``IndexError``
    along a dim)."""
    x = _tensor(input, "aminmax")
    keep = _bool_arg(keepdim, "keepdim", "aminmax")
    if dim is None:
        if x._data.size == 0:
            raise ValueError("aminmax(): cannot compute aminmax over an empty dimension as the "
                             "operation has no identity.")
        return AminmaxResult(x.min(None, keep), x.max(None, keep))
    d = _dim(x, dim, "aminmax")  # one int (a tuple is torch's TypeError); 0-d takes 0, -1
    if x._data.ndim and x._data.shape[d] == 0:
        raise IndexError(f"aminmax: Expected reduction dim {d} to have non-zero size.")
    axes = (d,) if x._data.ndim else ()
    return AminmaxResult(x.min(axes, keep), x.max(axes, keep))
