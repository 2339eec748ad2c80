"""Refuse a request whose size alone cannot fit in this machine's memory, before anything is
built: a module with ``num_layers=10**12`` would otherwise loop for hours making parameters (torch
hangs there too), and one with a huge ``dim_feedforward`` would draw its other weights from the
generator before NumPy's allocation failed, leaving the RNG advanced. The error is a
``MemoryError`` -- what NumPy raises for an array too big -- worded as torch's allocator's
("can't allocate memory: you tried to allocate N bytes") and naming the argument."""
from __future__ import annotations

import os


def _physical_bytes():
    """This machine's memory in bytes (2**63 - 1 where the OS does not say: no limit then)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 2 ** 63 - 1


def check_affordable(who, what, nbytes):
    """Raise ``MemoryError`` naming ``who`` and ``what`` (the argument) when ``nbytes`` exceeds
    the machine's memory; a lower bound of the request is enough (checked once, up front)."""
    if nbytes > _physical_bytes():
        raise MemoryError(f"{who}: can't allocate memory: {what} asks for at least {nbytes} "
                          f"bytes, more than this machine has ({_physical_bytes()} bytes)")
