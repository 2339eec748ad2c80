"""LazyBatchNorm1d/2d/3d and LazyInstanceNorm1d/2d/3d, as ``torch.nn``'s: norms whose
``num_features`` is read off the first input's channel axis.

Before the first call the module is its eager class with ``num_features=0``: weight, bias and
running statistics empty arrays, ``num_batches_tracked`` 0 -- what its state dict holds
(PyTorch's holds uninitialized parameters and buffers). The first call works as ``lazy_base``
says. Unlike PyTorch 2.13, which reads dim 1 even of an unbatched (C, L) instance-norm input
(the length, then refuses its own parameters), an unbatched input gives its dim 0."""
from __future__ import annotations

import numpy as np

from .. import devices as _devices
from .lazy_base import _LazyMixin, _own_tensors
from .uninitialized_params import mark_module
from .normalization import (BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d,
                            InstanceNorm2d, InstanceNorm3d, _BatchNorm, _InstanceNorm)

__all__ = ["LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d",
           "LazyInstanceNorm2d", "LazyInstanceNorm3d"]

# each per-channel array and the value it starts at, as the eager norms build them
_FILL = {"weight": 1, "bias": 0, "running_mean": 0, "running_var": 1}


class _LazyNorm(_LazyMixin):
    _lazy_size = "num_features"

    def _check_first_input(self, input):
        self._check_input(input)  # a Tensor of the module's dtype
        self._check_input_dim(input)
        if self._infer(input) == 0:
            raise ValueError(f"{type(self).__name__}: the input has no channels (shape "
                             f"{tuple(input.shape)}), so there is no num_features to infer")

    def _infer(self, input):
        return int(input.shape[self._channel_axis(input)])

    def _materialize(self, num_features):
        for name, t in _own_tensors(self):
            if name in _FILL:
                t._data = np.full(num_features, _FILL[name], t.dtype)

    def _start(self):
        # the eager __init__ refuses num_features=0: built with one channel, then emptied
        self._materialize(0)
        self.num_features = 0
        mark_module(self)  # nn.UninitializedParameter/Buffer until the first call, as torch's


class _LazyBatchNorm(_LazyNorm):
    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        _BatchNorm.__init__(self, 1, eps, momentum, affine, track_running_stats, dtype=dtype,
                            bias=bias)
        self._start()

    def _channel_axis(self, input):
        return 1


class _LazyInstanceNorm(_LazyNorm):
    # PyTorch's lazy instance norms share its lazy batch norms' defaults: affine=True and
    # track_running_stats=True, where the eager InstanceNorm has False and False
    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        _InstanceNorm.__init__(self, 1, eps, momentum, affine, track_running_stats,
                               dtype=dtype, bias=bias)
        self._start()

    def _channel_axis(self, input):
        return 0 if input.ndim == self._batched_ndim - 1 else 1


class LazyBatchNorm1d(_LazyBatchNorm, BatchNorm1d):
    """``BatchNorm1d`` with ``num_features`` inferred from the first input's dim 1."""
    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyBatchNorm, BatchNorm2d):
    """``BatchNorm2d`` with ``num_features`` inferred from the first input's dim 1."""
    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyBatchNorm, BatchNorm3d):
    """``BatchNorm3d`` with ``num_features`` inferred from the first input's dim 1."""
    cls_to_become = BatchNorm3d


class LazyInstanceNorm1d(_LazyInstanceNorm, InstanceNorm1d):
    """``InstanceNorm1d`` with ``num_features`` inferred from the first input's channel axis."""
    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyInstanceNorm, InstanceNorm2d):
    """``InstanceNorm2d`` with ``num_features`` inferred from the first input's channel axis."""
    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyInstanceNorm, InstanceNorm3d):
    """``InstanceNorm3d`` with ``num_features`` inferred from the first input's channel axis."""
    cls_to_become = InstanceNorm3d
