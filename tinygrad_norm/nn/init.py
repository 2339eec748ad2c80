"""Parameter initialization, as ``torch.nn.init``: same names, arguments, gains and fans.

Every function fills ``tensor.data`` in place (its dtype and memory are kept, so views of it --
a state dict, an optimizer -- see the new values), draws from ``tinygrad_norm.random.generator()``
(or the NumPy ``generator`` passed in), records nothing on the tape and returns the tensor.

The schemes of "Deep Learning from Scratch" (Saito) map onto these. Its weights are (in, out)
where ours are (out, in), but ``n`` -- the number of nodes of the previous layer -- is fan_in in
both cases:

* ``weight_init_std=0.01``:           ``normal_(w, std=0.01)``
* "Xavier" (std = 1 / sqrt(n)):       ``kaiming_normal_(w, nonlinearity="linear")``
* "He" (std = sqrt(2 / n)):           ``kaiming_normal_(w, nonlinearity="relu")``

(PyTorch's own ``xavier_normal_`` uses std = sqrt(2 / (fan_in + fan_out)), Glorot's original.)
"""
from __future__ import annotations

import functools
import math
import numbers
import threading
import warnings
from contextlib import contextmanager

import numpy as np

from .. import random as _random
from ..autograd import mark_written
from ..tensor import Tensor
from .truncated_normal import standard_truncated_normal

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_", "sparse_"]

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d")


# nn.utils.skip_init builds a module with every function below a no-op (no draw, no write); a
# depth per thread, so that modules built meanwhile by other threads are initialised
_skipping = threading.local()


@contextmanager
def _skipped():
    _skipping.depth = getattr(_skipping, "depth", 0) + 1
    try:
        yield
    finally:
        _skipping.depth -= 1


def _skippable(fn):
    @functools.wraps(fn)
    def init_fn(tensor, *args, **kwargs):
        if getattr(_skipping, "depth", 0):
            return tensor
        if isinstance(tensor, np.ndarray):
            return _fill_array(fn, tensor, args, kwargs)
        return fn(tensor, *args, **kwargs)
    return init_fn


def _fill_array(fn, array, args, kwargs):
    """torch's tutorials (DCGAN's weights_init) write ``nn.init.normal_(m.weight.data, 0, 0.02)``;
    ``.data`` is the ndarray here, so an ndarray is filled in place through a Tensor over it (no
    version bump: writes through ``.data`` are not tracked, as torch's) and returned."""
    if not array.flags.writeable:
        raise ValueError(f"{fn.__name__}: the array is read-only and cannot be filled in place")
    fn(Tensor._wrap(array), *args, **kwargs)
    return array


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity: 1 (linear, conv, sigmoid), 5/3 (tanh), sqrt(2)
    (relu), sqrt(2 / (1 + slope^2)) (leaky_relu, slope ``param`` or 0.01), 3/4 (selu)."""
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _check(tensor, fn, integers=False):
    """A Tensor to fill: floating point (integers too for the constant fills, as PyTorch)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{fn}: expected a Tensor, got {type(tensor).__name__}")
    if tensor.dtype.kind not in ("fiub" if integers else "f"):
        raise TypeError(f"{fn}: only floating-point tensors can be initialized, got dtype "
                        f"{tensor.dtype}")




def _fill(tensor, values, fn):
    """Write into the tensor's own array: dtype and identity are kept. A value the dtype cannot
    hold (1e39 in float32) is a ValueError, not a silent inf, as PyTorch refuses it."""
    values = np.asarray(values)
    dt = tensor.data.dtype
    if dt.kind in "iu" and values.size and not (  # errstate does not see integer wrap-around
            np.iinfo(dt).min <= values.min() and values.max() <= np.iinfo(dt).max):
        raise ValueError(f"{fn}: a value does not fit the tensor's dtype {dt}")
    try:  # converted first: an overflow half-way would leave the tensor half written
        with np.errstate(over="raise", invalid="raise"):
            values = values.astype(dt, copy=False)
    except (FloatingPointError, OverflowError):
        raise ValueError(f"{fn}: a value does not fit the tensor's dtype {dt}") from None
    tensor.data[...] = values
    mark_written((tensor,))
    return tensor


def _uniform(tensor, lo, hi, generator, fn):
    # finite and ordered: NumPy's own "high - low range exceeds valid bounds" or "high - low <
    # 0" named no argument, and NaN bounds filled the tensor with NaN
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        raise ValueError(f"{fn}: expects finite bounds a <= b, got a={lo} and b={hi}")
    if not math.isfinite(hi - lo):
        raise ValueError(f"{fn}: the range [{lo}, {hi}] is too wide for a float64 draw, so it "
                         f"does not fit the tensor's dtype either")
    return _fill(tensor, _random.resolve(generator).uniform(lo, hi, tensor.shape), fn)


def _normal(tensor, mean, std, generator, fn):
    if not (math.isfinite(std) and std >= 0 and math.isfinite(mean)):
        # NaN passed "std < 0" and filled the tensor with NaN
        raise ValueError(f"{fn}: expects a finite std >= 0.0 and a finite mean, got std {std} "
                         f"and mean {mean}")
    return _fill(tensor, _random.resolve(generator).normal(mean, std, tensor.shape), fn)


def _fans(tensor):
    """(fan_in, fan_out) as PyTorch: dim 1 and dim 0 times the receptive field (dims 2...)."""
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    receptive = 1
    for s in shape[2:]:
        receptive *= s
    return shape[1] * receptive, shape[0] * receptive


def _calculate_fan_in_and_fan_out(tensor):
    return _fans(tensor)


def _fan(tensor, mode):
    mode = mode.lower() if isinstance(mode, str) else mode
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _fans(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _number(v, name, fn):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{fn}: {name} must be a number, got {v!r}")
    return float(v)


@_skippable
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b)."""
    _check(tensor, "uniform_")
    a, b = _number(a, "a", "uniform_"), _number(b, "b", "uniform_")
    return _uniform(tensor, a, b, generator, "uniform_")


@_skippable
def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std^2)."""
    _check(tensor, "normal_")
    mean, std = _number(mean, "mean", "normal_"), _number(std, "std", "normal_")
    return _normal(tensor, mean, std, generator, "normal_")


@_skippable
def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std^2) restricted to [a, b], exactly: values outside are redrawn where
    [a, b] is likely, the CDF is inverted where it is not (``truncated_normal``)."""
    _check(tensor, "trunc_normal_")
    mean, std = _number(mean, "mean", "trunc_normal_"), _number(std, "std", "trunc_normal_")
    a, b = _number(a, "a", "trunc_normal_"), _number(b, "b", "trunc_normal_")
    if not (a < b and math.isfinite(std) and std >= 0 and math.isfinite(mean)):
        raise ValueError(f"trunc_normal_: expects a < b, a finite std >= 0 and a finite mean, "
                         f"got a={a}, b={b}, std={std}, mean={mean}")
    gen = _random.resolve(generator)
    if std == 0:
        return _fill(tensor, min(max(mean, a), b), "trunc_normal_")
    z = standard_truncated_normal(gen, (a - mean) / std, (b - mean) / std, tensor.shape)
    # the clip only undoes rounding
    return _fill(tensor, np.clip(mean + std * z, a, b), "trunc_normal_")


@_skippable
def constant_(tensor, val):
    return _constant(tensor, val, "constant_")


@_skippable
def ones_(tensor):
    return _constant(tensor, 1.0, "ones_")


@_skippable
def zeros_(tensor):
    return _constant(tensor, 0.0, "zeros_")


def _constant(tensor, val, fn):
    _check(tensor, fn, integers=True)
    return _fill(tensor, _number(val, "val", fn), fn)


@_skippable
def eye_(tensor):
    """Fill a 2-D tensor with the identity (ones on the diagonal)."""
    _check(tensor, "eye_", integers=True)
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, np.eye(*tensor.shape), "eye_")


@_skippable
def dirac_(tensor, groups=1):
    """A convolution weight (out, in, *k) of 1 to 3 spatial dims that passes its input through:
    in each of ``groups`` blocks of ``out / groups`` output channels, output channel d reads
    input channel d at the kernel's centre (``k // 2``), as many channels as both have; zeros
    elsewhere. As PyTorch's (integer tensors too)."""
    _check(tensor, "dirac_", integers=True)
    if tensor.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"dirac_: groups must be a positive int, got {groups!r}")
    out_per_group = tensor.shape[0] // groups
    if tensor.shape[0] % groups:
        raise ValueError("dim 0 must be divisible by groups")
    values = np.zeros(tensor.shape)
    d = np.arange(min(out_per_group, tensor.shape[1]))
    centre = tuple(k // 2 for k in tensor.shape[2:])
    for g in range(groups):
        values[(g * out_per_group + d, d) + centre] = 1
    return _fill(tensor, values, "dirac_")


def _zero_sized(tensor):
    if tensor.size == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


@_skippable
def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    _check(tensor, "xavier_uniform_")
    fan_in, fan_out = _fans(tensor)
    std = _number(gain, "gain", "xavier_uniform_") * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return _uniform(tensor, -bound, bound, generator, "xavier_uniform_")


@_skippable
def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    _check(tensor, "xavier_normal_")
    fan_in, fan_out = _fans(tensor)
    std = _number(gain, "gain", "xavier_normal_") * math.sqrt(2.0 / float(fan_in + fan_out))
    return _normal(tensor, 0.0, std, generator, "xavier_normal_")


@_skippable
def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-bound, bound) with bound = gain * sqrt(3 / fan) (He et al., 2015); ``a`` is the
    negative slope of a leaky_relu. ``a=sqrt(5)`` gives Linear's and Conv2d's default,
    U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    _check(tensor, "kaiming_uniform_")
    if _zero_sized(tensor):
        return tensor
    fan = _fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return _uniform(tensor, -bound, bound, generator, "kaiming_uniform_")


@_skippable
def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2) with std = gain / sqrt(fan)."""
    _check(tensor, "kaiming_normal_")
    if _zero_sized(tensor):
        return tensor
    fan = _fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return _normal(tensor, 0.0, std, generator, "kaiming_normal_")


@_skippable
def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2013), dims after the first
    flattened, as PyTorch: Q of the QR decomposition of a standard normal (rows, numel / rows)
    matrix (of its transpose when wider than tall), each column's sign made that of R's
    diagonal, which makes Q uniform (Haar) over the orthogonal matrices (Mezzadri, 2007); without
    it LAPACK's signs bias it. Drawn and factorized in float64, then written in the dtype."""
    _check(tensor, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError("orthogonal_: Only tensors with 2 or more dimensions are supported")
    gain = _number(gain, "gain", "orthogonal_")
    if tensor.size == 0:  # a no-op, as PyTorch (no warning)
        return tensor
    rows = tensor.shape[0]
    cols = tensor.size // rows
    a = _random.resolve(generator, "orthogonal_").standard_normal((rows, cols))
    wide = rows < cols
    q, r = np.linalg.qr(a.T if wide else a)
    q *= np.sign(np.diag(r))
    return _fill(tensor, ((q.T if wide else q) * gain).reshape(tensor.shape), "orthogonal_")


@_skippable
def sparse_(tensor, sparsity, std=0.01, generator=None):
    """A 2-D tensor of N(0, std^2) values with ``ceil(sparsity * rows)`` zeros in each column,
    at random rows (Martens, 2010), as PyTorch. ``sparsity`` must be in [0, 1] (PyTorch takes
    any number: a negative one zeroes all but that many rows). The rows are drawn from
    ``generator`` too (PyTorch draws them from its global generator whatever is passed)."""
    _check(tensor, "sparse_")
    if tensor.ndim != 2:
        raise ValueError("sparse_: Only tensors with 2 dimensions are supported")
    sparsity = _number(sparsity, "sparsity", "sparse_")
    if not 0 <= sparsity <= 1:
        raise ValueError(f"sparse_: sparsity must be a fraction in [0, 1], got {sparsity}")
    rows, cols = tensor.shape
    gen = _random.resolve(generator, "sparse_")
    _normal(tensor, 0.0, _number(std, "std", "sparse_"), gen, "sparse_")
    # a random permutation of the rows in every column; its first ones are zeroed
    zeros = gen.permuted(np.broadcast_to(np.arange(rows)[:, None], (rows, cols)), axis=0)
    np.put_along_axis(tensor.data, zeros[:math.ceil(sparsity * rows)], 0, axis=0)
    mark_written((tensor,))
    return tensor


# torch's deprecated spellings without the underscore (init.normal, ...), with its warning
from .init_deprecated import *  # noqa: F401,F403,E402
from . import init_deprecated as _dep  # noqa: E402
__all__ += _dep.__all__
