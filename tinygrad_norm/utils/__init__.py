"""``torch.utils``'s spellings: ``utils.checkpoint`` (gradient checkpointing) and ``utils.data``
(the package's ``tinygrad_norm.data``, so ``from tinygrad_norm.utils.data import DataLoader``
ports a PyTorch script by its prefix alone).

Both are loaded on first use: importing the package must not load the data loaders or the
layers they pull in (tests/test_linalg.py checks that ``functional`` stays unloaded)."""
import importlib as _importlib

__all__ = ["checkpoint", "data"]


def __getattr__(name):
    if name in __all__:
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
