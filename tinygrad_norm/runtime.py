"""torch's process-wide switches that ported scripts call at the top: thread counts,
deterministic algorithms, ``compile``, the default device.

What they control differs here: NumPy computes, its BLAS owns the only thread pool, every
kernel is deterministic, and there is no compiler. Each function does what can be done (the
BLAS thread count is set through threadpoolctl when it is installed, as it is with
scikit-learn) and keeps what it was told, so the matching getter answers as torch's would.
"""
from __future__ import annotations

import numbers
import os

from . import devices as _devices

__all__ = ["get_num_threads", "set_num_threads", "get_num_interop_threads",
           "set_num_interop_threads", "use_deterministic_algorithms",
           "are_deterministic_algorithms_enabled", "is_deterministic_algorithms_warn_only_enabled",
           "compile", "get_default_device", "set_default_device"]

_state = {"threads": None, "interop": 1, "deterministic": False, "warn_only": False}


def _positive_int(n, fn):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{fn} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise ValueError(f"{fn} expects a positive integer")
    return int(n)


def _blas_pools():
    """threadpoolctl's controller of NumPy's BLAS, or None where it is not installed."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController().select(user_api="blas")


def get_num_threads():
    """The threads NumPy's BLAS uses (the count ``set_num_threads`` set, else the BLAS's own,
    else the CPU count)."""
    if _state["threads"] is not None:
        return _state["threads"]
    pools = _blas_pools()
    counts = [] if pools is None else [p.num_threads for p in pools.lib_controllers]
    return max(counts) if counts else os.cpu_count() or 1


def set_num_threads(int):  # noqa: A002  (torch's argument name)
    """Limit NumPy's BLAS to ``int`` threads, as ``torch.set_num_threads`` limits torch's
    intra-op pool (through threadpoolctl; without it the number is only recorded)."""
    n = _positive_int(int, "set_num_threads")
    pools = _blas_pools()
    if pools is not None:
        pools.limit(limits=n)
    _state["threads"] = n


def get_num_interop_threads():
    """1 unless set: there is no inter-op pool here (NumPy runs one operation at a time)."""
    return _state["interop"]


def set_num_interop_threads(int):  # noqa: A002
    """Recorded for ``get_num_interop_threads``; changes nothing (no inter-op pool)."""
    _state["interop"] = _positive_int(int, "set_num_interop_threads")


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Recorded, as torch's switch: every operation here is already deterministic (NumPy
    kernels, one seeded generator), so there is nothing to refuse or warn about."""
    for name, v in (("mode", mode), ("warn_only", warn_only)):
        if not isinstance(v, bool):
            raise TypeError(f"use_deterministic_algorithms(): argument '{name}' must be bool, "
                            f"not {type(v).__name__}")
    _state["deterministic"], _state["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled():
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _state["warn_only"]


def compile(model=None, *, fullgraph=False, dynamic=None,  # noqa: A001  (torch's name)
            backend="inductor", mode=None, options=None, disable=False):
    """``model`` itself, unchanged: there is no compiler here, so ``torch.compile(model)``
    runs eagerly, as torch's with ``disable=True``. Without ``model``, a decorator."""
    if model is None:
        return lambda fn: compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                  mode=mode, options=options, disable=disable)
    if not callable(model):
        raise TypeError(f"compile(): a callable function is expected, but "
                        f"{type(model).__name__} is provided")
    return model


def get_default_device():
    """``tg.device("cpu")``: the only device."""
    return _devices.CPU


def set_default_device(device):
    """Accepts the CPU (or None) and changes nothing; any other device is refused, as torch
    refuses one it was not built for."""
    _devices.check_device(device, "set_default_device()")
