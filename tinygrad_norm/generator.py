"""``tinygrad_norm.Generator``: torch.Generator's interface, an independent random stream that
every function taking ``generator=`` draws from (``randn``, ``randint``, ``randperm``,
``multinomial``, ``DataLoader``, ``random_split``, the in-place fills, ...), over a NumPy
``Generator``. A NumPy ``Generator`` passed as ``generator=`` is still taken as it is."""
from __future__ import annotations

import numpy as np

from . import random as _random

__all__ = ["Generator"]


class Generator:
    """A random stream of its own, seeded from the OS until ``manual_seed``; ``device`` is the
    CPU's (refused otherwise, as the package has no other). Its draws are NumPy's, not torch's
    (the two bit generators differ), so a seed repeats runs here, not torch's numbers."""

    def __init__(self, device="cpu"):
        from .devices import check_device
        check_device(device, "Generator()")
        self._seed = int(np.random.SeedSequence().entropy) % 2 ** 64
        self._rng = np.random.default_rng(self._seed)

    @property
    def device(self):
        from .devices import device
        return device("cpu")

    def manual_seed(self, seed):
        """Reseed this stream (an int >= 0, as ``torch.manual_seed``'s rules); returns it."""
        self._seed = _random.seed_value(seed, "Generator.manual_seed")
        # reseeded in place: a DataLoader or sampler holding the stream sees the new seed
        self._rng.bit_generator.state = np.random.default_rng(self._seed).bit_generator.state
        return self

    def seed(self):
        """Reseed from the OS's entropy; returns the new seed."""
        return self.manual_seed(int(np.random.SeedSequence().entropy) % 2 ** 64)._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The state as a uint8 Tensor, as ``torch.Generator.get_state`` (a copy)."""
        from .rng_state import _encode
        return _encode(self._rng)

    def set_state(self, new_state):
        """Restore a state from ``get_state`` (or ``get_rng_state``); returns this generator."""
        from .rng_state import _decode_into
        _decode_into(new_state, self._rng)
        return self

    def __repr__(self):
        return f"<tinygrad_norm.Generator seed={self._seed}>"
