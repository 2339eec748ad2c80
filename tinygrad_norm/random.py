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


def keep_mask(shape, p, rng=None) -> np.ndarray:
    """Boolean mask, True with probability 1 - p: the dropout draw, shared by the composite and
    the hand-written reference so that the same seed drops the same units in both.

    Drawing one float64 per element costs ~3x the rest of dropout, so the cheapest exact draw is
    used: random bytes when p is a multiple of 1/256 (p = 0.5, 0.25, ...), random uint16 when p
    is a multiple of 1/65536, otherwise uniform float32 draws (resolution 2**-24).
    """
    rng = _generator if rng is None else rng
    shape = tuple(shape)
    n = 1
    for s in shape:
        n *= s
    if p <= 0:
        return np.ones(shape, dtype=bool)
    if p >= 1:
        return np.zeros(shape, dtype=bool)
    if float(p * 256).is_integer():
        u = np.frombuffer(rng.bytes(n), dtype=np.uint8).reshape(shape)
        return u >= int(p * 256)
    if float(p * 65536).is_integer():
        u = np.frombuffer(rng.bytes(2 * n), dtype=np.uint16).reshape(shape)
        return u >= int(p * 65536)
    return rng.random(shape, dtype=np.float32) >= p
