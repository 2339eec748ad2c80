"""Normalization layers, mirroring ``torch.nn``: BatchNorm1d/2d/3d, LayerNorm, RMSNorm, GroupNorm,
InstanceNorm1d/2d/3d and LocalResponseNorm -- the same arguments, defaults, parameters, buffers, ``state_dict`` keys,
train/eval behaviour and error conditions, over the composites of ``functional``.

Every layer takes ``dtype=`` (default: the default dtype, float32 unless set) for its parameters
and buffers; ``.to(dtype)``, ``.float()`` and ``.double()`` convert it. An input of another dtype is a TypeError that names
both dtypes and the fix, never a silent promotion.

The ``repr`` is PyTorch's, followed by the mode: ``mode=train`` or ``mode=eval`` (not for
LocalResponseNorm, the same in both).
"""
from __future__ import annotations

import numbers
import operator
import warnings

import numpy as np

from .. import devices as _devices
from .. import functional as F
from ..autograd import mark_written
from ..functional._checks import _flag
from ..tensor import Tensor
from .linear import _float_dtype
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "RMSNorm", "GroupNorm",
           "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LocalResponseNorm"]


def _count(v, name, cls):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{cls}: {name} must be an int, got {type(v).__name__}")
    if v <= 0:
        raise ValueError(f"{cls}: {name} must be positive, got {v}")
    return int(v)


def _real(v, name, cls, allow_none=False):
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{cls}: {name} must be a real number{' or None' if allow_none else ''}, "
                        f"got {type(v).__name__}")
    # a Python int stays one, as PyTorch keeps it (its repr says eps=1, not eps=1.0)
    return v if type(v) in (int, float) else float(v)


def _mode(m):
    return "train" if m.training else "eval"


class _Affine(Module):
    """The elementwise or per-channel weight (ones) and bias (zeros) every norm may have."""

    def reset_parameters(self):
        if self.weight is not None:
            self.weight.data[...] = 1
            mark_written((self.weight,))
        if getattr(self, "bias", None) is not None:
            self.bias.data[...] = 0
            mark_written((self.bias,))


class _NormBase(_Affine):
    """Shared by batch and instance norm: per-channel weight and bias, running statistics."""

    _version = 2  # PyTorch's, which state_dict() records in its metadata for these norms

    def __init__(self, num_features, eps, momentum, affine, track_running_stats, dtype, bias):
        super().__init__()
        cls = type(self).__name__
        self.num_features = _count(num_features, "num_features", cls)
        self.eps = _real(eps, "eps", cls)
        self.momentum = _real(momentum, "momentum", cls, allow_none=True)
        if self.momentum is not None and not np.isfinite(self.momentum):
            # refused here rather than at the first forward (the functional refuses it too)
            raise ValueError(f"{cls}: momentum must be a finite number or None, got {momentum}")
        self.affine = _flag(affine, "affine", cls)
        self.track_running_stats = _flag(track_running_stats, "track_running_stats", cls)
        bias = _flag(bias, "bias", cls)
        dt = self._dtype = _float_dtype(dtype, cls)
        C = self.num_features
        if self.affine:
            self.weight = Parameter(np.ones(C, dtype=dt))
            if bias:
                self.bias = Parameter(np.zeros(C, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(C, dtype=dt)))
            self.register_buffer("running_var", Tensor(np.ones(C, dtype=dt)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats and self.running_mean is not None:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    # A state dict without the counter (converted from another framework, or older than it)
    # loads, the counter keeping its value, as PyTorch's: Module.load_state_dict reads this.
    _optional_state = ("num_batches_tracked",)

    def reset_parameters(self):
        self.reset_running_stats()
        super().reset_parameters()

    def _check_input_dim(self, input):
        raise NotImplementedError

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}, mode={_mode(self)}")


class _BatchNorm(_NormBase):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype, bias)

    def forward(self, input):
        self._check_input(input)
        self._check_input_dim(input)
        # As PyTorch's _BatchNorm.forward: batch statistics while training, and in eval when there
        # are no running estimates; the estimates are updated only while training and tracking.
        tracking = self.training and self.track_running_stats
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        use_buffers = not self.training or self.track_running_stats
        out = F.batch_norm(
            input,
            self.running_mean if use_buffers else None,
            self.running_var if use_buffers else None,
            self.weight, self.bias, use_batch, self.momentum, self.eps,
            num_batches_tracked=self.num_batches_tracked if tracking else None)
        if tracking and self.running_mean is None and self.num_batches_tracked is not None:
            # estimates set to None (batch statistics always): PyTorch still counts the batch
            self.num_batches_tracked.data += 1
        return out


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) input over the batch (and length) axes."""

    def _check_input_dim(self, input):
        if input.ndim not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) input over the batch and spatial axes."""

    def _check_input_dim(self, input):
        if input.ndim != 4:
            raise ValueError(f"expected 4D input (got {input.ndim}D input)")


class BatchNorm3d(_BatchNorm):
    """Batch normalization of (N, C, D, H, W) input over the batch and spatial axes."""

    def _check_input_dim(self, input):
        if input.ndim != 5:
            raise ValueError(f"expected 5D input (got {input.ndim}D input)")


class _InstanceNorm(_NormBase):
    _batched_ndim = None

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype, bias)

    def _check_input_dim(self, input):
        b = self._batched_ndim
        if input.ndim not in (b - 1, b):
            raise ValueError(f"expected {b - 1}D or {b}D input (got {input.ndim}D input)")

    def forward(self, input):
        self._check_input(input)
        self._check_input_dim(input)
        unbatched = input.ndim == self._batched_ndim - 1
        channel_axis = 0 if unbatched else 1
        if input.shape[channel_axis] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={channel_axis} to match "
                                 f"num_features ({self.num_features}), but got: "
                                 f"{input.shape[channel_axis]}.")
            warnings.warn(f"input's size at dim={channel_axis} does not match num_features. You "
                          f"can silence this warning by not passing in num_features, which is not "
                          f"used because affine=False", stacklevel=2)
        x = input.unsqueeze(0) if unbatched else input
        # As PyTorch: num_batches_tracked is registered but never counted, and momentum=None
        # means 0 (the estimates never change).
        out = F.instance_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias,
            self.training or not self.track_running_stats,
            self.momentum if self.momentum is not None else 0.0, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of (N, C, L) input, or unbatched (C, L), over the length axis."""
    _batched_ndim = 3


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of (N, C, H, W) input, or unbatched (C, H, W), over H and W."""
    _batched_ndim = 4


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of (N, C, D, H, W) input, or unbatched (C, D, H, W), over D, H
    and W."""
    _batched_ndim = 5


class LayerNorm(_Affine):
    """Normalize every sample over its trailing ``normalized_shape`` axes, with an elementwise
    weight and bias of that shape."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__()
        cls = type(self).__name__
        self.normalized_shape = ns = _shape_arg(normalized_shape, cls)
        self.eps = _real(eps, "eps", cls)
        self.elementwise_affine = _flag(elementwise_affine, "elementwise_affine", cls)
        bias = _flag(bias, "bias", cls)
        dt = self._dtype = _float_dtype(dtype, cls)
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(ns, dtype=dt))
            if bias:
                self.bias = Parameter(np.zeros(ns, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        self._check_input(input)
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}, "
                f"mode={_mode(self)}")


def _shape_arg(normalized_shape, cls):
    """An int or a sequence of ints, as a tuple (``nn.LayerNorm(4)`` is ``(4,)``)."""
    if isinstance(normalized_shape, numbers.Integral) and not isinstance(normalized_shape, bool):
        normalized_shape = (normalized_shape,)
    try:
        if isinstance(normalized_shape, (str, bytes)) or any(
                isinstance(s, bool) for s in normalized_shape):
            raise TypeError
        ns = tuple(operator.index(s) for s in normalized_shape)
    except TypeError:
        raise TypeError(f"{cls}: normalized_shape must be an int or a sequence of ints, got "
                        f"{normalized_shape!r}") from None
    if any(s < 0 for s in ns):
        raise ValueError(f"{cls}: normalized_shape must not have negative sizes, got {ns}")
    return ns


class RMSNorm(_Affine):
    """Root-mean-square normalization of every sample over its trailing ``normalized_shape``
    axes (``F.rms_norm``), with an elementwise weight of that shape and no bias. ``eps=None``
    is the machine epsilon of the input's dtype, as PyTorch."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__()
        cls = type(self).__name__
        self.normalized_shape = ns = _shape_arg(normalized_shape, cls)
        self.eps = _real(eps, "eps", cls, allow_none=True)
        self.elementwise_affine = _flag(elementwise_affine, "elementwise_affine", cls)
        dt = self._dtype = _float_dtype(dtype, cls)
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(ns, dtype=dt))
        else:
            self.register_parameter("weight", None)

    def forward(self, input):
        self._check_input(input)
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, mode={_mode(self)}")


class GroupNorm(_Affine):
    """Normalize every sample over groups of ``num_channels // num_groups`` channels, with a
    per-channel weight and bias."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__()
        cls = type(self).__name__
        self.num_groups = _count(num_groups, "num_groups", cls)
        self.num_channels = _count(num_channels, "num_channels", cls)
        if self.num_channels % self.num_groups:
            raise ValueError(f"num_channels ({self.num_channels}) must be divisible by num_groups "
                             f"({self.num_groups})")
        self.eps = _real(eps, "eps", cls)
        self.affine = _flag(affine, "affine", cls)
        bias = _flag(bias, "bias", cls)
        dt = self._dtype = _float_dtype(dtype, cls)
        if self.affine:
            self.weight = Parameter(np.ones(self.num_channels, dtype=dt))
            if bias:
                self.bias = Parameter(np.zeros(self.num_channels, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        self._check_input(input)
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}, mode={_mode(self)}")


class LocalResponseNorm(Module):
    """Local response normalization across channels (``F.local_response_norm``): no parameters,
    no statistics, the same in training and evaluation."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        cls = type(self).__name__
        self.size = _count(size, "size", cls)
        self.alpha, self.beta = _real(alpha, "alpha", cls), _real(beta, "beta", cls)
        self.k = _real(k, "k", cls)

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        # PyTorch's repr: no mode, which changes nothing here
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
