"""``torch.testing``: ``assert_close``, the deprecated ``assert_allclose``, and ``make_tensor``.

``assert_close`` walks nested sequences and mappings, pairs up the leaves, and compares each
pair by its kind -- None, bools, Python (and NumPy) numbers, Tensors or ndarrays -- with torch's
default tolerances per dtype and torch's failure messages, so a test ported from torch fails
with the text its author knows.
"""
from __future__ import annotations

import cmath
import collections.abc
import math
import warnings

import numpy as np

from . import default_dtype as _dd
from . import devices as _devices
from . import random as _random

__all__ = ["assert_close", "assert_allclose", "make_tensor"]

# (rtol, atol) per dtype, torch's table; other dtypes compare exactly
_TOLERANCES = {
    np.dtype(np.float16): (1e-3, 1e-5),
    np.dtype(np.float32): (1.3e-6, 1e-5),
    np.dtype(np.float64): (1e-7, 1e-7),
    np.dtype(np.complex64): (1.3e-6, 1e-5),
    np.dtype(np.complex128): (1e-7, 1e-7),
}
# a Python number compares as the dtype torch gives it
_NUMBER_DTYPES = {int: np.dtype(np.int64), float: np.dtype(np.float64),
                  complex: np.dtype(np.complex128)}


class _Failure(Exception):
    """A failed comparison: the error type, torch's message, and where in the nesting."""

    def __init__(self, kind, text, where=()):
        super().__init__(text)
        self.kind, self.text, self.where = kind, text, where

    def error(self, msg=None):
        if isinstance(msg, str):
            return self.kind(msg)
        text = self.text
        if self.where:
            text += "\n\nThe failure occurred for item " + "".join(str([k]) for k in self.where)
        return self.kind(msg(text) if callable(msg) else text)


def _tolerances(dtypes, rtol, atol, where):
    if (rtol is None) != (atol is None):
        missing = "rtol" if rtol is None else "atol"
        raise _Failure(ValueError, f"Both 'rtol' and 'atol' must be either specified or "
                                   f"omitted, but got no {missing}.", where)
    if rtol is not None:
        return rtol, atol
    pairs = [_TOLERANCES.get(np.dtype(d), (0.0, 0.0)) for d in dtypes]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _diff_line(kind, diff, index, tol, exact):
    text = (f"{kind.title()} difference: {diff}" if index is None
            else f"Greatest {kind} difference: {diff} at index {index}")
    return text if exact else text + f" (up to {tol} allowed)"


def _mismatch(what, extra, abs_diff, abs_at, rel_diff, rel_at, rtol, atol):
    exact = rtol == 0 and atol == 0
    lines = [f"{what} are not {'equal' if exact else 'close'}!", "", extra,
             _diff_line("absolute", abs_diff, abs_at, atol, exact),
             _diff_line("relative", rel_diff, rel_at, rtol, exact)]
    return "\n".join(lines)


def _scalar_message(actual, expected, rtol, atol):
    diff = abs(actual - expected)
    rel = float("inf") if expected == 0 else diff / abs(expected)
    return _mismatch("Scalars", f"Expected {expected} but got {actual}.", diff, None, rel,
                     None, rtol, atol)


# ---- the pairs ---------------------------------------------------------------------------------

def _is_bool(x):
    return isinstance(x, (bool, np.bool_))


def _is_number(x):
    return (isinstance(x, (int, float, complex, np.number)) and not _is_bool(x))


def _compare_none(actual, expected, where, **_):
    if not (actual is None and expected is None):
        raise _Failure(AssertionError, f"None mismatch: {actual} is not {expected}", where)


def _compare_bools(actual, expected, where, **_):
    a, e = bool(actual), bool(expected)
    if a is not e:
        raise _Failure(AssertionError, f"Booleans mismatch: {a} is not {e}", where)


def _compare_numbers(actual, expected, where, rtol, atol, equal_nan, check_dtype, **_):
    a = actual.item() if isinstance(actual, np.number) else actual
    e = expected.item() if isinstance(expected, np.number) else expected
    rtol, atol = _tolerances([_NUMBER_DTYPES[type(a)], _NUMBER_DTYPES[type(e)]], rtol, atol,
                             where)
    if check_dtype and type(a) is not type(e):
        raise _Failure(AssertionError, f"The (d)types do not match: {type(a)} != {type(e)}.",
                       where)
    if a == e or (equal_nan and cmath.isnan(a) and cmath.isnan(e)):
        return
    diff = abs(a - e)
    if cmath.isfinite(diff) and diff <= atol + rtol * abs(e):
        return
    raise _Failure(AssertionError, _scalar_message(a, e, rtol, atol), where)


def _arrays(actual, expected, allow_subclasses):
    """Both as ndarrays, or None where this pair is no pair of tensor-likes (torch: both of one
    type, a subclass of the other's where ``allow_subclasses``)."""
    from .tensor import Tensor
    related = isinstance(actual, type(expected)) or isinstance(expected, type(actual))
    if not related or (not allow_subclasses and type(actual) is not type(expected)):
        return None
    if isinstance(actual, Tensor):
        return actual._data, expected._data
    if isinstance(actual, np.ndarray):
        return actual, expected
    return None


def _shape_text(shape):
    return f"torch.Size({list(shape)})"


def _dtype_text(dtype):
    return f"torch.{np.dtype(dtype).name}"


def _compare_arrays(a, e, where, rtol, atol, equal_nan, check_dtype, check_stride, **_):
    if a.shape != e.shape:
        raise _Failure(AssertionError, f"The values for attribute 'shape' do not match: "
                                       f"{_shape_text(a.shape)} != {_shape_text(e.shape)}.", where)
    if check_stride and a.strides != e.strides:
        sa = tuple(s // a.itemsize for s in a.strides)
        se = tuple(s // e.itemsize for s in e.strides)
        raise _Failure(AssertionError, f"The values for attribute 'stride()' do not match: "
                                       f"{sa} != {se}.", where)
    if check_dtype and a.dtype != e.dtype:
        raise _Failure(AssertionError, f"The values for attribute 'dtype' do not match: "
                                       f"{_dtype_text(a.dtype)} != {_dtype_text(e.dtype)}.", where)
    rtol, atol = _tolerances([a.dtype, e.dtype], rtol, atol, where)
    if a.dtype != e.dtype:  # check_dtype=False: compared in the common dtype, as torch
        common = np.promote_types(a.dtype, e.dtype)
        a, e = a.astype(common), e.astype(common)
    matches = _isclose(a, e, rtol, atol, equal_nan)
    if matches.all():
        return
    if a.ndim == 0:
        text = _scalar_message(a.item(), e.item(), rtol, atol)
    else:
        text = _array_message(a, e, matches, rtol, atol)
    raise _Failure(AssertionError, text, where)


def _isclose(a, e, rtol, atol, equal_nan):
    """torch.isclose: |a - e| <= atol + rtol * |e|, equal values (infinities too) always close,
    NaN close to NaN only with ``equal_nan``."""
    if a.dtype.kind in "biu":
        if rtol == 0 and atol == 0:
            return a == e
        a, e = a.astype(np.float64), e.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        close = a == e
        finite = np.isfinite(a) & np.isfinite(e)
        close |= finite & (np.abs(a - e) <= atol + rtol * np.abs(e))
    if equal_nan:
        close |= np.isnan(a) & np.isnan(e)
    return close


def _array_message(a, e, matches, rtol, atol):
    total, bad = matches.size, int(matches.size - np.count_nonzero(matches))
    extra = f"Mismatched elements: {bad} / {total} ({bad / total:.1%})"
    fa, fe, fm = a.reshape(-1), e.reshape(-1), matches.reshape(-1)
    if fa.dtype.kind in "biu":  # differences of integers (and bools) as int64, as torch
        fa, fe = fa.astype(np.int64), fe.astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        diff = np.abs(fa - fe)
        diff[fm] = 0
        if diff.dtype.kind in "iu":  # integers divided: the default float dtype, as torch
            rel = diff.astype(_dd.DEFAULT) / np.abs(fe).astype(_dd.DEFAULT)
        else:
            rel = diff / np.abs(fe)
    rel[fm] = 0
    i, j = _argmax(diff), _argmax(rel)
    return _mismatch("Tensor-likes", extra, diff[i].item(), _index(i, a.shape),
                     rel[j].item(), _index(j, a.shape), rtol, atol)


def _argmax(v):
    """torch.max's index: the first NaN wins (NaN propagates), else the first greatest value."""
    if v.dtype.kind in "fc":
        nan = np.flatnonzero(np.isnan(v))
        if nan.size:
            return int(nan[0])
    return int(np.argmax(v))


def _index(flat, shape):
    return tuple(int(k) for k in np.unravel_index(flat, shape))


# ---- the walk ----------------------------------------------------------------------------------

def _is_sequence(x):
    return isinstance(x, collections.abc.Sequence) and not isinstance(x, str)


def _compare(actual, expected, where, options):
    """Raise a _Failure for the first pair that differs (depth first, as torch orders them)."""
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            raise _Failure(AssertionError, f"The length of the sequences mismatch: "
                                           f"{len(actual)} != {len(expected)}", where)
        pairs = [(actual[i], expected[i], (*where, i)) for i in range(len(actual))]
    elif isinstance(actual, collections.abc.Mapping) and \
            isinstance(expected, collections.abc.Mapping):
        ka, ke = set(actual.keys()), set(expected.keys())
        if ka != ke:
            raise _Failure(AssertionError, f"The keys of the mappings do not match:\n"
                                           f"Missing keys in the actual mapping: "
                                           f"{sorted(ke - ka)}\nAdditional keys in the actual "
                                           f"mapping: {sorted(ka - ke)}", where)
        try:
            keys = sorted(ka)
        except TypeError:
            keys = list(ka)
        pairs = [(actual[k], expected[k], (*where, k)) for k in keys]
    else:
        _compare_leaf(actual, expected, where, options)
        return
    for a, e, w in pairs:
        _compare(a, e, w, options)


def _compare_leaf(actual, expected, where, options):
    if actual is None or expected is None:
        return _compare_none(actual, expected, where)
    if _is_bool(actual) and _is_bool(expected):
        return _compare_bools(actual, expected, where)
    if _is_number(actual) and _is_number(expected):
        return _compare_numbers(actual, expected, where, **options)
    arrays = _arrays(actual, expected, options["allow_subclasses"])
    if arrays is None:
        raise _Failure(TypeError, f"No comparison pair was able to handle inputs of type "
                                  f"{type(actual)} and {type(expected)}.", where)
    return _compare_arrays(*arrays, where, **options)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Assert that ``actual`` and ``expected`` are close, as ``torch.testing.assert_close``:
    ``|actual - expected| <= atol + rtol * |expected|`` elementwise, with torch's default
    ``(rtol, atol)`` per dtype where both are omitted (float16 1e-3/1e-5, float32 1.3e-6/1e-5,
    float64 1e-7/1e-7, integers and bools exactly). Shapes must match, and dtypes unless
    ``check_dtype=False``. ``msg`` (a string, or a callable of the generated message) replaces
    the message. ``check_device`` and ``check_layout`` are accepted: there is one device and one
    layout here."""
    options = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                   check_dtype=check_dtype, check_stride=check_stride)
    try:
        _compare(actual, expected, (), options)
    except _Failure as failure:
        raise failure.error(msg) from None


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """Deprecated, as torch's (a FutureWarning): ``assert_close`` with looser defaults (float16
    1e-3/1e-3, float32 1e-4/1e-5, float64 1e-5/1e-8), dtypes not checked, NaNs equal, and a
    non-Tensor argument made a Tensor (``expected`` in ``actual``'s dtype)."""
    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be "
                  "removed in a future release. Please use `torch.testing.assert_close()` "
                  "instead. You can find detailed upgrade instructions in "
                  "https://github.com/pytorch/pytorch/issues/61844.", FutureWarning,
                  stacklevel=2)
    from .tensor import Tensor, tensor
    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        loose = {np.dtype(np.float16): (1e-3, 1e-3), np.dtype(np.float32): (1e-4, 1e-5),
                 np.dtype(np.float64): (1e-5, 1e-8)}
        pairs = [loose.get(t.dtype, (0.0, 0.0)) for t in (actual, expected)]
        rtol, atol = max(p[0] for p in pairs), max(p[1] for p in pairs)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=False,
                 msg=msg or None)


# ---- make_tensor -------------------------------------------------------------------------------

def _range(low, high, dtype, lowest, highest, default_low, default_high, integral):
    """torch's checks and clamping of ``low``/``high``; integral bounds rounded up (randint's
    upper bound is exclusive)."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and not integral:
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or "
                      "complex types is deprecated since 2.1 and will be removed in 2.3. "
                      "Use `torch.full(...)` instead.", FutureWarning, stacklevel=3)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), "
                         f"but {_dtype_text(dtype)} only supports [{lowest}, {highest})")
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    return (math.ceil(low), math.ceil(high)) if integral else (low, high)


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (collections.abc.Sequence, np.ndarray)):
        shape = shape[0]  # make_tensor((2, 3), ...) as make_tensor(2, 3, ...)
    for s in shape:
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"make_tensor(): shape must be ints or one sequence of ints, got "
                            f"{type(s).__name__}")
        if s < 0:
            raise ValueError(f"make_tensor(): negative dimension {s}")
    return tuple(int(s) for s in shape)


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False,
                noncontiguous=False, exclude_zero=False, memory_format=None):
    """A tensor of ``shape`` drawn uniformly from ``[low, high)`` from the framework's generator
    (``manual_seed`` repeats it), as ``torch.testing.make_tensor``: default ranges bool [0, 2),
    unsigned [0, 10), signed integers [-9, 10), floats and complex [-9, 9); bounds beyond the
    dtype are clamped to it; ``noncontiguous`` gives a strided view; ``exclude_zero`` replaces
    zeros by 1 (integers) or the dtype's smallest normal number. *vs PyTorch:* no complex
    dtypes (a Tensor here holds none)."""
    from .tensor import Tensor, _dtype_arg
    shape = _shape_arg(shape)
    _devices.check_device(device, "make_tensor()")
    dt = _dtype_arg(dtype, "make_tensor")
    if noncontiguous and memory_format is not None:
        raise ValueError(f"The parameters `noncontiguous` and `memory_format` are mutually "
                         f"exclusive, but got noncontiguous={noncontiguous} and "
                         f"memory_format={memory_format}")
    integral = dt.kind in "biu"
    if requires_grad and integral:
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral "
                         f"dtypes, but got dtype={_dtype_text(dt)}")
    noncontiguous = noncontiguous and int(np.prod(shape, dtype=np.int64)) > 1
    drawn = (*shape[:-1], 2 * shape[-1]) if noncontiguous else shape
    rng = _random.generator()
    if dt.kind == "b":
        lo, hi = _range(low, high, dt, 0, 2, 0, 2, True)
        data = rng.integers(lo, hi, drawn).astype(bool)
    elif integral:
        info = np.iinfo(dt)
        top = info.max + (1 if dt != np.int64 else 0)
        lo, hi = _range(low, high, dt, int(info.min), int(top), 0 if dt.kind == "u" else -9, 10,
                        True)
        data = rng.integers(lo, hi, drawn, dtype=np.int64 if dt.kind == "i" else np.uint64,
                            endpoint=False).astype(dt)
    else:
        info = np.finfo(dt)
        lo, hi = _range(low, high, dt, float(info.min), float(info.max), -9, 9, False)
        data = _uniform(rng, lo, hi, drawn, dt)
    if noncontiguous:
        data = data[..., 1::2]
    if exclude_zero:
        data[data == 0] = 1 if integral else np.finfo(dt).tiny
    t = Tensor(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _uniform(rng, lo, hi, shape, dt):
    """Uniform on [lo, hi) in ``dt``; a range wider than the dtype's max is drawn at half scale
    and doubled, as torch, so that its width does not overflow."""
    if hi - lo >= float(np.finfo(dt).max):
        return (rng.uniform(lo / 2, hi / 2, shape) * 2).astype(dt)
    return rng.uniform(lo, hi, shape).astype(dt)
