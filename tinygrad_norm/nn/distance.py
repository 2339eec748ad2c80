"""Distance layers, as ``torch.nn``: each holds its arguments and calls the functional form."""
from __future__ import annotations

from .. import functional as F
from ..functional._checks import _flag
from .module import Module

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class CosineSimilarity(Module):
    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        keepdim = _flag(keepdim, "keepdim", "PairwiseDistance")
        self.norm, self.eps, self.keepdim = p, eps, keepdim  # torch's attribute names

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
