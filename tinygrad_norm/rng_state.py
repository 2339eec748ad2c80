"""torch's top-level seeding and generator-state functions over the framework's one NumPy
generator (``random.py``): ``seed``, ``initial_seed``, ``get_rng_state``, ``set_rng_state``.

The state travels as torch's does, a uint8 Tensor, so ported code can save it with a checkpoint
and restore it later; its bytes are the NumPy bit generator's state as JSON (not torch's
Mersenne Twister state: the two generators' draws differ anyway).
"""
from __future__ import annotations

import json

import numpy as np

from . import random as _random
from .tensor import Tensor

__all__ = ["seed", "initial_seed", "get_rng_state", "set_rng_state"]


class fork_rng:
    """Context manager (and decorator) that puts the generator back as it was on exit, as
    ``torch.random.fork_rng``: draws (and ``manual_seed``) inside do not change what the code
    after the block draws. ``enabled=False`` does nothing; ``devices`` and ``device_type`` are
    accepted (one CPU generator here)."""

    def __init__(self, devices=None, enabled=True, device_type=None):
        if not isinstance(enabled, bool):
            raise TypeError(f"fork_rng(): enabled must be bool, got {type(enabled).__name__}")
        self.devices, self.enabled, self.device_type = devices, enabled, device_type

    def __enter__(self):
        if self.enabled:
            rng = _random.generator()
            self._saved = (rng, rng.bit_generator.state, _random._seed)
        return None

    def __exit__(self, *exc):
        if self.enabled:
            rng, state, seed = self._saved
            rng.bit_generator.state = state
            _random._generator, _random._seed = rng, seed  # manual_seed inside made a new one
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with fork_rng(self.devices, self.enabled, self.device_type):
                return fn(*args, **kwargs)
        return wrapper


def seed():
    """Reseed the generator from the OS's entropy and return the seed (a 64-bit int), as
    ``torch.seed``: the run can be replayed with ``manual_seed`` of it."""
    s = int(np.random.SeedSequence().entropy) % 2 ** 64
    _random.manual_seed(s)
    return s


def initial_seed():
    """The seed the generator was last seeded with (``manual_seed``, ``seed``, or the one drawn
    at import), as ``torch.initial_seed``."""
    return _random._seed


def get_rng_state():
    """The generator's state as a uint8 Tensor, as ``torch.get_rng_state`` (a copy: drawing
    afterwards does not change it)."""
    return _encode(_random.generator())


def _encode(rng):
    """A NumPy generator's bit-generator state as a uint8 Tensor of its JSON (a copy)."""
    return Tensor(np.frombuffer(json.dumps(rng.bit_generator.state).encode(),
                                dtype=np.uint8).copy())


def set_rng_state(new_state):
    """Restore a state from ``get_rng_state``, as ``torch.set_rng_state``: the draws that
    followed it come again. The generator keeps its identity (code holding it sees the change)."""
    _decode_into(new_state, _random.generator())


def _decode_into(new_state, rng):
    """Set ``rng``'s state from ``_encode``'s Tensor, checked; ``rng`` keeps its identity."""
    if not isinstance(new_state, Tensor):
        raise TypeError(f"expected a uint8 Tensor from get_rng_state(), but got "
                        f"{type(new_state).__name__}")
    if new_state.dtype != np.uint8 or new_state.ndim != 1:
        raise TypeError(f"RNG state must be a 1-D uint8 Tensor from get_rng_state(), got "
                        f"dtype {new_state.dtype} and shape {new_state.shape}")
    bits = rng.bit_generator
    try:
        state = json.loads(new_state.numpy().tobytes().decode())
        if not isinstance(state, dict) or state.get("bit_generator") != bits.state[
                "bit_generator"]:
            raise ValueError
        bits.state = state  # NumPy checks the fields; the old state stays if it refuses
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise ValueError("Invalid RNG state: not a state from get_rng_state()") from None
