"""``nn.EmbeddingBag``: a lookup table whose forward reduces bags of rows, as
``torch.nn.EmbeddingBag`` (``F.embedding_bag`` with a weight)."""
from __future__ import annotations

import numpy as np

from .. import _argname
from .. import devices as _devices
from .. import functional as F
from ..functional._checks import _flag
from ..tensor import Tensor
from . import init
from .linear import Embedding, _lookup_norm, _lookup_repr
from .module import Module, Parameter

__all__ = ["EmbeddingBag"]


class EmbeddingBag(Module):
    """Weight (num_embeddings, embedding_dim) drawn from N(0, 1), the ``padding_idx`` row zeros,
    as PyTorch's; ``forward(input, offsets=None, per_sample_weights=None)``."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="mean", sparse=False, _weight=None,
                 include_last_offset=False, padding_idx=None, device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__()
        owner = "EmbeddingBag"
        if mode not in ("sum", "mean", "max"):
            raise ValueError("mode has to be one of sum, mean or max")
        self.mode = mode
        self.scale_grad_by_freq = _flag(scale_grad_by_freq, "scale_grad_by_freq", owner)
        self.sparse = _flag(sparse, "sparse", owner)
        self.include_last_offset = _flag(include_last_offset, "include_last_offset", owner)
        self.max_norm, self.norm_type = _lookup_norm(max_norm, norm_type, owner)
        # the table, its checks and its init are Embedding's: borrow them
        try:
            table = Embedding(num_embeddings, embedding_dim, padding_idx, _weight=_weight,
                              dtype=dtype)
        except (TypeError, ValueError) as e:
            raise _argname.retitle(e)  # "Embedding: ..." is no name the user wrote
        self.num_embeddings, self.embedding_dim = table.num_embeddings, table.embedding_dim
        self.padding_idx, self.weight = table.padding_idx, table.weight

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, mode="mean", sparse=False,
                        include_last_offset=False, padding_idx=None):
        """An EmbeddingBag over ``embeddings`` (a 2-D floating-point Tensor or array, shared),
        frozen unless ``freeze`` is False, as PyTorch's."""
        table = Embedding.from_pretrained(embeddings, freeze, padding_idx)
        bag = cls(*table.weight.shape, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                  table.weight, include_last_offset, padding_idx)
        bag.weight.requires_grad = table.weight.requires_grad
        return bag

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0.0

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse,
                               per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}" + _lookup_repr(self)
