"""SyncBatchNorm, as ``torch.nn.SyncBatchNorm`` in one process.

torch synchronises the batch statistics across the processes of a group only when
``torch.distributed`` is initialised with more than one process; otherwise (and always in eval)
its forward is plain batch norm over an input of any rank >= 2. There are no process groups
here, so that fallback is the whole layer: its statistics, running estimates and gradients are
``BatchNorm``'s, over the same composite. ``convert_sync_batchnorm`` swaps every batch norm of a
model for one of these, sharing the parameters and buffers, as torch's does.
"""
from __future__ import annotations

from .. import devices as _devices
from .normalization import _BatchNorm

__all__ = ["SyncBatchNorm"]


class SyncBatchNorm(_BatchNorm):
    """Batch normalization over every axis but the channel axis (dim 1) of an (N, C, ...)
    input. ``process_group`` is kept for torch's signature and ignored (one process);
    ``device`` must be the CPU."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None, *,
                 bias=True):
        _devices.check_device(device, "SyncBatchNorm")  # before any state, as every check
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype=dtype,
                         bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")
        if input.shape[1] == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Every batch norm in ``module`` (BatchNorm1d/2d/3d, SyncBatchNorm) replaced, in place,
        by a SyncBatchNorm holding the same parameter and buffer objects and the same mode;
        ``module`` itself is returned, or the new layer when it is a batch norm."""
        out = module
        if isinstance(module, _BatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group, dtype=module.dtype,
                      bias=module.bias is not None)
            # the very objects, not copies: an optimizer built on the old model goes on working
            for name in ("weight", "bias"):
                if getattr(module, name) is not None:
                    setattr(out, name, getattr(module, name))
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                setattr(out, name, getattr(module, name))
            out.training = module.training
            if hasattr(module, "qconfig"):
                out.qconfig = module.qconfig
        for name, child in list(module.named_children()):
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out
