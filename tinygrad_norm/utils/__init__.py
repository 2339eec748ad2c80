"""``torch.utils``'s spellings: ``utils.checkpoint`` (gradient checkpointing) and ``utils.data``
(the package's ``tinygrad_norm.data``, so ``from tinygrad_norm.utils.data import DataLoader``
ports a PyTorch script by its prefix alone)."""
import sys as _sys

from .. import data
from . import checkpoint

_sys.modules[f"{__name__}.data"] = data  # ``import tinygrad_norm.utils.data`` finds it

__all__ = ["checkpoint", "data"]
