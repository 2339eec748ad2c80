"""``linear_cross_entropy`` and ``LinearCrossEntropyOptions``, as torch 2.13's: cross entropy of
``linear(input, linear_weight, linear_bias)`` against ``target``, a composite of ``linear`` and
``cross_entropy`` (no derivative here).

PyTorch's ``options`` pick a chunked kernel that never holds the whole (N, C) logits. Here the
options are checked and resolved as PyTorch resolves them and the batch is cut into the same
chunks, each a ``linear`` + ``cross_entropy`` of its own, so the values are the reference's
(up to the order of a sum); the tape still keeps every chunk's logits for backward, so unlike
PyTorch's kernel this saves no memory when gradients are recorded."""
from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np

from .. import _argname
from ..autograd import scope
from ..tensor import Tensor, concatenate
from .activation import linear
from .losses import cross_entropy

__all__ = ["linear_cross_entropy"]  # the options class is nn's, as torch's

_FN = "linear_cross_entropy"
_POLICIES = ("auto", "accurate", "balanced", "compact")
_ACC_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


@dataclasses.dataclass(frozen=True)
class LinearCrossEntropyOptions:
    """How ``linear_cross_entropy`` cuts the batch into chunks (torch's fields and checks).
    ``batch_chunk_size`` rows per chunk, or ``chunking_method`` ``"auto"`` /
    ``"aspect_ratio"`` / ``"aspect_ratio:N"`` (chunks whose logits are about the input's size,
    N times smaller) / None. ``acc_policy`` and ``acc_dtype`` (a NumPy float dtype here) are
    checked but change nothing: every chunk is computed in the input's dtype."""

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: object = None

    def __post_init__(self):
        if self.acc_policy not in _POLICIES:
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        if self.chunking_method is not None and self.chunking_method != "auto":
            if _aspect_factor(self.chunking_method) is None:
                raise ValueError(f"invalid chunking_method: {self.chunking_method!r}")
        size = self.batch_chunk_size
        if size is not None and not (type(size) is int and size > 0):
            raise ValueError(f"batch_chunk_size must be positive int or None, got {size!r}")
        if self.acc_dtype is not None and _as_dtype(self.acc_dtype) not in _ACC_DTYPES:
            raise ValueError(f"acc_dtype must be one of {{None, float16, float32, float64}}, "
                             f"got {self.acc_dtype!r}. Pass acc_dtype=None to let the op pick "
                             f"automatically.")

    def _chunk_size(self, num_batches, in_features, num_classes):
        """Rows per chunk, resolved as PyTorch's: an explicit size wins over ``"auto"``, which
        is ``"aspect_ratio:2"`` for float32/float64 (PyTorch's pick off CUDA half types)."""
        method = self.chunking_method
        if method == "auto":
            method = None if self.batch_chunk_size is not None else "aspect_ratio:2"
        size = num_batches if self.batch_chunk_size is None else min(self.batch_chunk_size,
                                                                     num_batches)
        if method is not None:
            factor = _aspect_factor(method)
            per = -(-num_batches // -(-num_classes // max(in_features, 1)))
            size = min((1 << max(per - 1, 0).bit_length()) // factor, num_batches)
            if self.batch_chunk_size is not None and self.batch_chunk_size != size:
                raise ValueError(f"batch_chunk_size (={self.batch_chunk_size}) and "
                                 f"chunking_method ('{method}') give different chunk sizes "
                                 f"({self.batch_chunk_size} vs {size}); pass only one.")
        return max(1, size)


def _as_dtype(d):
    try:
        return np.dtype(d)
    except TypeError:
        return None


def _aspect_factor(method):
    """N of ``"aspect_ratio:N"`` (1 without it), or None for anything else."""
    if not isinstance(method, str):
        return None
    name, sep, factor = method.partition(":")
    factor = factor if sep else "1"
    ok = name == "aspect_ratio" and factor.isdigit() and int(factor) > 0
    return int(factor) if ok else None


def _check(input, linear_weight, linear_bias, options):
    for name, t in (("input", input), ("linear_weight", linear_weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{_FN}(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if linear_bias is not None and not isinstance(linear_bias, Tensor):
        raise TypeError(f"{_FN}(): argument 'linear_bias' must be Tensor or None, not "
                        f"{type(linear_bias).__name__}")
    if options is not None and not isinstance(options, LinearCrossEntropyOptions):
        raise TypeError(f"{_FN}(): options must be a LinearCrossEntropyOptions or None, got "
                        f"{type(options).__name__}")
    if not 1 <= input.ndim <= 2:
        raise ValueError(f"expected input with dimensionality 1 or 2, got {input.ndim}")
    if linear_weight.ndim < 2:
        raise ValueError(f"expected linear_weight with dimensionality at least 2, got "
                         f"{linear_weight.ndim}")
    if linear_weight.dtype != input.dtype:  # linear's own check named linear(), not this
        raise TypeError(f"{_FN}(): expected input and linear_weight to have the same dtype, "
                        f"but got: {input.dtype} != {linear_weight.dtype}")
    if input.shape[-1] != linear_weight.shape[-1]:
        raise ValueError(f"expected equal input and linear_weight last dimensions (in_features), "
                         f"got {input.shape[-1]} and {linear_weight.shape[-1]}, respectively")
    want = linear_weight.shape[:-1]
    if linear_bias is not None and linear_bias.shape != want:
        raise ValueError(f"expected linear_bias shape {want}, got {linear_bias.shape}")
    if len(want) > 1 and input.ndim == 1:
        raise ValueError(f"K-dimensional loss defined by linear_weight shape "
                         f"{linear_weight.shape} requires batched input, (N, {input.shape[-1]}),"
                         f" got unbatched input with shape {input.shape}")


def _target_shape(target):
    return tuple(getattr(target, "shape", np.shape(target)))


def _chunkable(options, out_features, reduction, label_smoothing, target, linear_bias):
    """True when PyTorch takes its chunked path; else None options, or its warning."""
    if options is None:
        return False
    dtype = getattr(target, "dtype", np.asarray(target).dtype)
    ok = (not out_features and reduction in ("mean", "sum", "none") and label_smoothing == 0.0
          and np.dtype(dtype).kind in "iu")
    if not ok:
        bias = None if linear_bias is None else linear_bias.shape
        warnings.warn(f"linear_cross_entropy: ``options`` ignored; chunked path needs reduction "
                      f"in {{'mean','sum','none'}}, label_smoothing == 0, target.dtype == int64, "
                      f"out_features == (). Got reduction={reduction!r}, label_smoothing="
                      f"{label_smoothing}, target.dtype={dtype}, out_features={out_features}, "
                      f"tracing=False, linear_bias.shape={bias}.", stacklevel=3)
    return ok


def _chunked(input, linear_weight, target, linear_bias, weight, reduction, ignore_index, size):
    """The loss over row chunks of ``size``, each its own linear + cross entropy ('none'), then
    reduced as ``cross_entropy`` reduces: a 'mean' divides by the counted targets' weight."""
    t = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
    n = input.shape[0]
    parts = [cross_entropy(linear(input[i:i + size], linear_weight, linear_bias),
                           t[i:i + size], weight, ignore_index=ignore_index, reduction="none")
             for i in range(0, n, size)] or [cross_entropy(
                 linear(input, linear_weight, linear_bias), t, weight,
                 ignore_index=ignore_index, reduction="none")]
    losses = parts[0] if len(parts) == 1 else concatenate(parts)
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return total
    counted = t.data[t.data != ignore_index]
    w = None if weight is None else np.asarray(weight.data if isinstance(weight, Tensor)
                                               else weight)
    denom = float(counted.size if w is None else w[counted].sum())
    return total / denom


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,
                         reduction="mean", ignore_index=None, label_smoothing=0.0, options=None):
    """``cross_entropy(linear(input, linear_weight, linear_bias), target, ...)``, as torch's:
    input (in_features,) or (N, in_features); linear_weight (C, in_features) or
    (C, d_1, ..., d_K, in_features) for a K-dimensional loss (logits (N, C, d_1, ..., d_K));
    ``ignore_index`` None means -100 and may not be given with probability targets."""
    try:
        return _loss(input, linear_weight, target, linear_bias, weight, reduction, ignore_index,
                     label_smoothing, options)
    except (TypeError, ValueError) as e:
        raise _argname.retitle(e)  # cross_entropy's checks inside name cross_entropy


def _loss(input, linear_weight, target, linear_bias, weight, reduction, ignore_index,
          label_smoothing, options):
    _check(input, linear_weight, linear_bias, options)
    batch, in_features = input.shape[:-1], input.shape[-1]
    num_classes, out_features = linear_weight.shape[0], linear_weight.shape[1:-1]
    logits_shape = (*batch, num_classes, *out_features)
    if _target_shape(target) == logits_shape and ignore_index is not None:
        raise ValueError("ignore_index cannot be specified when target contains probabilities")
    ignore = -100 if ignore_index is None else ignore_index
    if _chunkable(options, out_features, reduction, label_smoothing, target, linear_bias):
        x = input if input.ndim == 2 else input.unsqueeze(0)
        t = target if input.ndim == 2 else Tensor(np.asarray(getattr(target, "data", target))
                                                  ).unsqueeze(0)
        size = options._chunk_size(x.shape[0], in_features, num_classes)
        with scope(_FN, reduction=reduction, batch_chunk_size=size):
            out = _chunked(x, linear_weight, t, linear_bias, weight, reduction, ignore, size)
        return out if input.ndim == 2 or reduction != "none" else out.squeeze(0)
    rows = math.prod(out_features, start=num_classes)
    w2 = linear_weight.reshape(rows, in_features) if out_features else linear_weight
    b2 = linear_bias.reshape(rows) if out_features and linear_bias is not None else linear_bias
    with scope(_FN, reduction=reduction):
        logits = linear(input, w2, b2).reshape(logits_shape)
        return cross_entropy(logits, target, weight, ignore_index=ignore, reduction=reduction,
                             label_smoothing=label_smoothing)
