"""Gradient clipping and flat parameter vectors, as ``torch.nn.utils``; its hook-based weight and
spectral norms and ``skip_init`` come from their own files.

The clipping functions give every gradient a new array (``p.grad.data = ...``) rather than writing
into the old one, so that a graph which saved a gradient array (a gradient penalty) keeps its
values; the ``p.grad`` tensor itself stays the same object, as PyTorch's in-place ``mul_`` keeps
it. ``foreach`` is accepted for PyTorch's signature and changes nothing: there is one device."""
from __future__ import annotations

import math
import numbers
import types
import warnings

import numpy as np

from ..functional._checks import _flag
from ..tensor import Tensor, concatenate

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "vector_to_parameters", "fuse_conv_bn_eval",
           "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights",
           "weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm",
           "skip_init"]


def _tensors(parameters, fn, what="parameters"):
    """``parameters`` (a Tensor or an iterable of them) as a list, checked."""
    if isinstance(parameters, Tensor):
        return [parameters]
    if not hasattr(parameters, "__iter__") or isinstance(parameters, (str, bytes)):
        raise TypeError(f"{fn}(): {what} must be a Tensor or an iterable of Tensors (e.g. "
                        f"model.parameters()), got {type(parameters).__name__}")
    empty_generator = isinstance(parameters, types.GeneratorType)
    items = list(parameters)
    for t in items:
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}(): {what} must hold Tensors, got {type(t).__name__}")
    if empty_generator and not items:  # most often a generator used up by an earlier call
        warnings.warn(f"`{what}` is an empty generator, no gradient clipping will occur.",
                      stacklevel=3)
    return items


def _real(v, name, fn):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
        raise TypeError(f"{fn}(): {name} must be a real number, got {type(v).__name__}")
    return float(v)


def _norm_type(norm_type, fn):
    if isinstance(norm_type, str):
        if norm_type not in ("inf", "-inf"):
            raise ValueError(f"{fn}(): norm_type must be a number or 'inf', got {norm_type!r}")
        return float(norm_type)
    p = _real(norm_type, "norm_type", fn)
    if math.isnan(p):
        raise ValueError(f"{fn}(): norm_type must not be NaN")
    return p


def _vector_norm(a, p):
    """``torch.linalg.vector_norm(a, p)``: sums in float64 (a float32 sum of squares of a large
    gradient loses digits), returned in ``a``'s dtype."""
    if a.size == 0:
        return a.dtype.type(0.0 if p > 0 or p == 0 else math.inf)
    if p == 2:
        flat = a.reshape(-1)
        total = math.sqrt(np.einsum("i,i->", flat, flat, dtype=np.float64))
    elif p == math.inf:
        total = np.abs(a).max()
    elif p == -math.inf:
        total = np.abs(a).min()
    elif p == 0:
        total = np.count_nonzero(a)
    elif p == 1:
        total = np.abs(a).sum(dtype=np.float64)
    else:
        with np.errstate(divide="ignore"):  # 0 ** negative p: inf, as PyTorch
            total = np.sum(np.abs(a).astype(np.float64) ** p) ** (1.0 / p)
    return a.dtype.type(total)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type`` norm of all of ``tensors`` together (a 0-d Tensor in their dtype; 0.0 for
    none), as if they were concatenated into one vector."""
    fn = "get_total_norm"
    error_if_nonfinite = _flag(error_if_nonfinite, "error_if_nonfinite", fn)
    items = _tensors(tensors, fn, "tensors")
    p = _norm_type(norm_type, fn)
    if not items:
        return Tensor(0.0)
    dtype = np.result_type(*[t.data.dtype for t in items])
    if dtype.kind != "f":
        raise TypeError(f"{fn}(): the tensors must be floating point, got dtype {dtype}")
    norms = np.array([_vector_norm(t.data, p) for t in items], dtype=dtype)
    total = _vector_norm(norms, p)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {p} for gradients from `parameters` is non-finite, so it "
            f"cannot be clipped. To disable this error and scale the gradients by the non-finite "
            f"norm anyway, set `error_if_nonfinite=False`")
    return Tensor(np.asarray(total, dtype=dtype))


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale every gradient by ``min(max_norm / (total_norm + 1e-6), 1)``, computed in the total
    norm's dtype as PyTorch computes it."""
    fn = "clip_grads_with_norm_"
    params = _tensors(parameters, fn)
    max_norm = _max_norm(max_norm, fn)
    total = total_norm.data if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    if total.size != 1 or total.dtype.kind not in "iuf":
        raise TypeError(f"{fn}(): total_norm must be one number (the Tensor get_total_norm "
                        f"returns), got {type(total_norm).__name__} of shape {total.shape}")
    total = total.reshape(())
    if total.dtype.kind != "f":
        total = total.astype(np.float32)
    t = total.dtype.type
    # As torch rounds it: max_norm / (total + 1e-6) is the reciprocal times max_norm, each step
    # rounded to the total's dtype, the numbers taken in torch's arithmetic type (float32 for
    # float16: max_norm is not rounded to float16 first)
    op = np.float32 if t is np.float16 else t
    inv = t(1.0) / t(op(total) + op(1e-6))
    coef = min(t(op(inv) * op(max_norm)), t(1.0))  # a NaN norm stays NaN, as torch.clamp
    with np.errstate(invalid="ignore", over="ignore"):  # inf * 0: NaN, silently as torch
        for p in params:
            g = p.grad
            if g is not None:
                a = g.data
                wide = np.result_type(a.dtype, coef.dtype)
                g.data = (a.astype(wide, copy=False) * coef).astype(a.dtype, copy=False)


def _max_norm(v, fn):
    v = _real(v, "max_norm", fn)
    if not v >= 0:  # a negative bound would flip every gradient's sign (PyTorch does so)
        raise ValueError(f"{fn}(): max_norm must be a non-negative number, got {v}")
    return v


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                   foreach=None):
    """Deprecated, as torch's: ``clip_grad_norm_`` under its old name, with torch's
    FutureWarning."""
    import warnings
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale the gradients of ``parameters`` so that their total ``norm_type`` norm is at most
    ``max_norm`` (a little under it: the scale is ``max_norm / (norm + 1e-6)``, capped at 1), as
    ``torch.nn.utils.clip_grad_norm_``. Returns the total norm before clipping (a 0-d Tensor).
    Parameters without a gradient are skipped. Every argument is checked before any gradient
    changes; with ``error_if_nonfinite`` a NaN or infinite norm is a RuntimeError, and no
    gradient changes."""
    fn = "clip_grad_norm_"
    error_if_nonfinite = _flag(error_if_nonfinite, "error_if_nonfinite", fn)
    params = _tensors(parameters, fn)
    _max_norm(max_norm, fn)
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(params, max_norm, total, foreach)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clip every gradient of ``parameters`` into ``[-clip_value, clip_value]``, as
    ``torch.nn.utils.clip_grad_value_``. NaN gradients stay NaN."""
    fn = "clip_grad_value_"
    params = _tensors(parameters, fn)
    v = _real(clip_value, "clip_value", fn)
    if not v >= 0:  # PyTorch would set every gradient to the negative bound
        raise ValueError(f"{fn}(): clip_value must be a non-negative number, got {v}")
    for p in params:
        g = p.grad
        if g is not None:
            a = g.data
            bound = min(v, float(np.finfo(a.dtype).max)) if a.dtype.kind == "f" else v
            g.data = np.clip(a, -bound, bound).astype(a.dtype, copy=False)


def parameters_to_vector(parameters):
    """All of ``parameters`` flattened and concatenated into one 1-D tensor, on the graph (its
    gradient reaches the parameters), as ``torch.nn.utils.parameters_to_vector``."""
    params = _tensors(parameters, "parameters_to_vector")
    if not params:
        raise ValueError("parameters_to_vector(): no parameters given")
    return concatenate([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Give the parameters the values of the 1-D ``vec``, consecutive slices in order, as
    ``torch.nn.utils.vector_to_parameters``. Each parameter gets a new array of its own dtype (a
    copy: PyTorch makes the parameters views of ``vec``), so a graph recorded before keeps its
    values, and ``vec`` must hold exactly as many values as the parameters."""
    fn = "vector_to_parameters"
    if not isinstance(vec, Tensor):
        raise TypeError(f"{fn}(): vec must be a Tensor, got {type(vec).__name__}")
    params = _tensors(parameters, fn)
    if vec.data.ndim != 1:
        raise ValueError(f"{fn}(): vec must be 1-D, got shape {vec.shape}")
    total = sum(p.data.size for p in params)
    if vec.data.size != total:
        raise ValueError(f"{fn}(): vec has {vec.data.size} values but the parameters hold "
                         f"{total}")
    if vec.data.dtype.kind not in "iuf":
        raise TypeError(f"{fn}(): vec must be numeric, got dtype {vec.data.dtype}")
    start = 0
    for p in params:
        n = p.data.size
        p.data = vec.data[start:start + n].reshape(p.data.shape).astype(p.data.dtype)
        start += n


# ``nn.utils.rnn``, ``.parametrize``, ``.parametrizations``, ``.prune``, ``.stateless`` and
# ``.fusion`` as in PyTorch;
# also registered as modules, so that ``from tinygrad_norm.nn.utils.rnn import pad_sequence``
# works as ``torch.nn.utils.rnn``'s does
import sys as _sys  # noqa: E402

from . import fusion, parametrizations, parametrize, prune  # noqa: E402
from .fusion import (fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval,  # noqa: E402
                     fuse_linear_bn_weights)
from . import rnn_utils as rnn  # noqa: E402
from .uninitialized import skip_init  # noqa: E402
from .spectral_norm_legacy import remove_spectral_norm, spectral_norm  # noqa: E402
from .weight_norm_legacy import remove_weight_norm, weight_norm  # noqa: E402
from ..func import stateless  # noqa: E402  (torch's deprecated home of functional_call)

for _name, _mod in (("rnn", rnn), ("parametrize", parametrize),
                    ("parametrizations", parametrizations), ("prune", prune),
                    ("stateless", stateless), ("fusion", fusion)):
    _sys.modules[f"{__name__}.{_name}"] = _mod

# torch's other nn.utils submodules, for imports spelled as torch's (``from ...nn.utils.clip_grad
# import clip_grad_norm_``): each a module holding the names torch keeps there
from . import memory_format  # noqa: E402
from .memory_format import (convert_conv2d_weight_memory_format,  # noqa: E402
                            convert_conv3d_weight_memory_format)

for _name, _names in (("clip_grad", ("clip_grad_norm_", "clip_grad_norm", "clip_grad_value_",
                                     "clip_grads_with_norm_", "get_total_norm")),
                      ("convert_parameters", ("parameters_to_vector", "vector_to_parameters")),
                      ("init", ("skip_init",))):
    _mod = types.ModuleType(f"{__name__}.{_name}", f"torch.nn.utils.{_name}'s names")
    _mod.__dict__.update({n: globals()[n] for n in _names}, __all__=list(_names))
    globals()[_name] = _mod
    _sys.modules[_mod.__name__] = _mod
_sys.modules[f"{__name__}.memory_format"] = memory_format
__all__ += ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]

