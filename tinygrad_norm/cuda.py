"""``torch.cuda``'s two questions ported code asks before choosing a device
(``device("cuda" if cuda.is_available() else "cpu")``): there is no GPU here, so the answers
send it to the CPU."""
from __future__ import annotations

__all__ = ["is_available", "device_count", "is_initialized", "manual_seed", "manual_seed_all",
           "empty_cache"]


def is_available():
    """False: tinygrad_norm computes with NumPy on the CPU."""
    return False


def device_count():
    """0, the number of GPUs this package can use."""
    return 0


def is_initialized():
    """False: no GPU was ever set up."""
    return False


def manual_seed(seed):
    """Nothing to seed: torch's CPU build takes the call and does nothing too (seed the package
    generator with ``tinygrad_norm.manual_seed``)."""


def manual_seed_all(seed):
    """As ``manual_seed``: nothing to seed."""


def empty_cache():
    """Nothing cached on a GPU: does nothing, as torch's CPU build."""
