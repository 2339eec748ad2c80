"""The framework's one random generator: every constructor, dropout mask, initializer and
shuffle draws from it, so ``manual_seed(n)`` makes a whole run repeat exactly."""
from __future__ import annotations

import operator

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the framework's generator; returns it."""
    global _generator
    try:
        seed = operator.index(seed)
    except TypeError:
        raise TypeError(f"manual_seed(): seed must be an int, got {type(seed).__name__}") from None
    if seed < 0:
        raise ValueError(f"manual_seed(): seed must be non-negative, got {seed}")
    _generator = np.random.default_rng(seed)
    return _generator


def generator() -> np.random.Generator:
    """The generator in use (a ``numpy.random.Generator``)."""
    return _generator
