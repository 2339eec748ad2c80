"""DataParallel, as ``torch.nn.DataParallel`` on a machine without GPUs: a wrapper whose
forward is its module's. torch splits the batch across its GPUs; with none (and there are none
here) it calls the module directly, and so does this. The wrapper keeps torch's layout, so a
state dict saved from a DataParallel model has the same ``module.`` keys."""
from __future__ import annotations

from .module import Module

__all__ = ["DataParallel"]


class DataParallel(Module):
    """``DataParallel(module)(x) == module(x)``. ``device_ids`` and ``output_device`` are
    ignored, as torch ignores them without GPUs (code written for ``device_ids=[0, 1]`` runs);
    ``dim`` is kept for torch's signature."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: module must be a Module, got "
                            f"{type(module).__name__}")
        super().__init__()
        self.module = module
        self.device_ids = []  # torch's value without GPUs: no replicas to scatter to
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
