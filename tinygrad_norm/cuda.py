"""``torch.cuda``'s two questions ported code asks before choosing a device
(``device("cuda" if cuda.is_available() else "cpu")``): there is no GPU here, so the answers
send it to the CPU."""
from __future__ import annotations

__all__ = ["is_available", "device_count"]


def is_available():
    """False: tinygrad_norm computes with NumPy on the CPU."""
    return False


def device_count():
    """0, the number of GPUs this package can use."""
    return 0
