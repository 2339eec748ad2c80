"""Checks and random streams shared by the data modules.

``seed`` / ``generator`` arguments: an int (or a ``numpy.random.Generator``) makes a function,
sampler or loader reproducible on its own; None draws from the framework generator that
``tinygrad_norm.manual_seed(n)`` seeds, so one call of ``manual_seed`` fixes a whole run.
"""
from __future__ import annotations

import importlib
import numbers
import sys

import numpy as np


def _framework_generator():
    """The generator behind ``tinygrad_norm.manual_seed``, or None where there is none.

    Looked up at every call (never cached): ``manual_seed`` replaces the generator.
    """
    try:
        random_mod = importlib.import_module("tinygrad_norm.random")
    except ModuleNotFoundError as e:
        # Only a missing module means "no framework generator"; a broken one must surface.
        if e.name not in ("tinygrad_norm", "tinygrad_norm.random"):
            raise
        return None
    return random_mod.generator()


def _check_seed(seed, what="seed"):
    """Validate ``seed``: None, a non-negative integer or a ``numpy.random.Generator`` (a
    ``tinygrad_norm.Generator`` gives its stream, which its ``manual_seed`` reseeds in place)."""
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if isinstance(getattr(seed, "_rng", None), np.random.Generator):
        return seed._rng
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{what} must be None, a non-negative int or a (numpy.random) Generator, "
                        f"got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"{what} must be non-negative, got {seed}")
    return int(seed)


def _make_rng(seed):
    """A generator for an already validated ``seed``.

    An int or a Generator gives a private stream; None gives the framework generator (shared,
    seeded by ``tinygrad_norm.manual_seed``) or, where the framework has none, a fresh one.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        rng = _framework_generator()
        return rng if rng is not None else np.random.default_rng()
    return np.random.default_rng(seed)


def _check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)


def _is_tensor(x):
    """Whether ``x`` is a ``tinygrad_norm.Tensor``, without importing the engine: nothing is a
    Tensor before ``tinygrad_norm.tensor`` is loaded."""
    module = sys.modules.get("tinygrad_norm.tensor")
    return module is not None and isinstance(x, module.Tensor)
