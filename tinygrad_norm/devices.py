"""Devices, as ``torch.device``: there is one, the CPU NumPy computes on.

Ported code names devices everywhere (``model.to(device)``, ``x.to("cpu")``, ``x.device``), so
the names are taken: ``tg.device("cpu")`` and ``"cpu"`` (or ``"cpu:0"``) are accepted and change
nothing. Any other device type torch knows can be named, as in torch (``tg.device("cuda")``
is a valid object), but moving anything there is refused with a ValueError, as a torch built
without that backend refuses it; a string that is no device type at all gets torch's message.
"""
from __future__ import annotations

import re

import numpy as np

__all__ = ["device"]

# the device types torch's parser accepts, in its order (its message lists them)
_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
          "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")
_SPEC = re.compile(r"^([a-z]+)(?::(\d+))?$")


def _unknown_type(spec):
    return (f"Expected one of {', '.join(_TYPES)} device type at start of device string: "
            f"{spec}")


def is_device_string(s):
    """Whether the string starts with a device type (``to("float64")`` is a dtype here)."""
    return isinstance(s, str) and s.split(":", 1)[0] in _TYPES


class device:
    """A device name, as ``torch.device``: ``device("cpu")``, ``device("cpu:0")``,
    ``device("cpu", 0)`` or another device; attributes ``type`` and ``index`` (None unless
    given); equal when both agree (``device("cpu") != device("cpu:0")``, as torch's)."""

    __slots__ = ("_type", "_index")

    def __init__(self, type, index=None):  # noqa: A002  (torch's argument name)
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device(): a device and an index cannot be given together")
            self._type, self._index = type._type, type._index
            return
        if isinstance(type, (int, np.integer)) and not isinstance(type, bool):
            # torch reads a bare int as an accelerator's ordinal
            raise ValueError("Cannot access accelerator device when none is available.")
        if not isinstance(type, str):
            raise TypeError(f"device(): argument 'type' must be str or device, not "
                            f"{builtin_type(type).__name__}")
        m = _SPEC.match(type)
        if m is None or m.group(1) not in _TYPES:
            head = type.split(":", 1)[0]
            if head in _TYPES:  # a known type with a malformed index ("cpu:x", "cpu:-1")
                raise ValueError(f"Invalid device string: '{type}'")
            raise ValueError(_unknown_type(type))
        if m.group(2) is not None:
            if index is not None:
                raise ValueError(f"type (string) must not include an index because index was "
                                 f"passed explicitly: {type}")
            index = int(m.group(2))
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
                raise TypeError(f"device(): argument 'index' must be int, not "
                                f"{builtin_type(index).__name__}")
            if index < 0:
                raise ValueError("Device index must not be negative")
            index = int(index)
        self._type, self._index = m.group(1), index

    @property
    def type(self):
        return self._type

    @property
    def index(self):
        return self._index

    def __str__(self):
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self):
        idx = "" if self._index is None else f", index={self._index}"
        return f"device(type='{self._type}'{idx})"

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented  # torch's device("cpu") == "cpu" is False too
        return (self._type, self._index) == (other._type, other._index)

    def __hash__(self):
        return hash((self._type, self._index))

    def __reduce__(self):
        return (device, (self._type, self._index))


builtin_type = type  # the constructor's argument shadows the builtin inside it

CPU = device("cpu")


def check_device(dev, where):
    """``dev`` (a device, a device string or None) as a device that exists here, or None for
    None; any other device is a ValueError naming ``where``."""
    if dev is None:
        return None
    if isinstance(dev, bool) or not isinstance(dev, (str, device, int, np.integer)):
        # torch's words: its parser names the argument, not device()'s own
        raise TypeError(f"{where}: argument 'device' must be torch.device, not "
                        f"{builtin_type(dev).__name__}")
    try:
        d = device(dev)  # torch's messages for strings that are no device, named by where
    except (TypeError, ValueError) as e:
        raise type(e)(f"{where}: {e}") from None
    if d.type != "cpu":
        cause = ("Torch not compiled with CUDA enabled" if d.type == "cuda"
                 else f"no {d.type} backend")
        raise ValueError(f"{where}: device '{d}' is not available ({cause}); tinygrad_norm "
                         f"computes with NumPy on the CPU only: use 'cpu'")
    return d


def _looks_like_dtype(v):
    """A NumPy dtype, a scalar type (np.float32, float) or a dtype name that is no device."""
    if isinstance(v, np.dtype) or (isinstance(v, builtin_type) and issubclass(v, (np.generic,
                                                                                 float, int,
                                                                                 bool))):
        return True
    return isinstance(v, str) and not is_device_string(v)


def parse_to(args, kwargs, where):
    """torch's three forms of ``to``: ``(device=None, dtype=None, non_blocking=False,
    copy=False)``, ``(dtype, non_blocking=False, copy=False)`` and ``(tensor, non_blocking=False,
    copy=False)``, each with a keyword-only ``memory_format`` (ignored: NumPy arrays have one
    layout here). Returns ``(device, dtype, copy)``: the device checked (None if not given), the
    dtype as given (the caller checks it: its rules differ), ``copy`` a bool."""
    from .tensor import Tensor  # here, not at the top: tensor.py imports this module

    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy", "memory_format"}
    if unknown:
        raise TypeError(f"{where} got an unexpected keyword argument '{sorted(unknown)[0]}'")
    args = list(args)
    dev, dtype = kwargs.get("device"), kwargs.get("dtype")
    if args and isinstance(args[0], Tensor):  # (tensor, ...): its dtype, on its device
        dtype, dev = args.pop(0).dtype, "cpu"
        if "device" in kwargs or "dtype" in kwargs:
            raise TypeError(f"{where}: a tensor argument takes neither device nor dtype")
    elif args and args[0] is not None and _looks_like_dtype(args[0]):  # (dtype, ...)
        if "dtype" in kwargs or "device" in kwargs:
            raise TypeError(f"{where}: dtype given twice, or a device after the dtype")
        dtype = args.pop(0)
    elif args:  # (device, dtype=None, ...)
        if "device" in kwargs:
            raise TypeError(f"{where}: argument 'device' given by position and by keyword")
        dev = args.pop(0)
        if args and not isinstance(args[0], (bool, np.bool_)):
            if "dtype" in kwargs:
                raise TypeError(f"{where}: argument 'dtype' given by position and by keyword")
            dtype = args.pop(0)
    flags = dict(zip(("non_blocking", "copy"), args))
    if len(args) > 2 or set(flags) & set(kwargs):
        raise TypeError(f"{where}: too many arguments, or one given twice (torch's forms: "
                        f"to(device=None, dtype=None, non_blocking=False, copy=False), "
                        f"to(dtype, non_blocking=False, copy=False), to(tensor, "
                        f"non_blocking=False, copy=False))")
    flags.update((k, kwargs[k]) for k in ("non_blocking", "copy") if k in kwargs)
    for k, v in flags.items():
        if not isinstance(v, (bool, np.bool_)):
            raise TypeError(f"{where}: argument '{k}' must be bool, not "
                            f"{builtin_type(v).__name__}")
    if dev is not None and not isinstance(dev, (str, device, int, np.integer)):
        raise TypeError(f"{where}: device must be a device, a device string or None, got "
                        f"{builtin_type(dev).__name__}")
    return check_device(dev, where), dtype, bool(flags.get("copy", False))


def not_a_device_note(value):
    """For a dtype error on a string: it is no device either, in torch's words (torch reads
    every string given to ``to`` as a device)."""
    return f" (nor is it a device: {_unknown_type(value)})" if isinstance(value, str) else ""


def refuse_cuda(where, index=None):
    """``cuda()`` of a tensor or module: always a ValueError, as on a torch without CUDA."""
    name = "cuda" if index is None else f"cuda:{index}" if isinstance(index, int) else index
    raise ValueError(f"{where}: device '{name}' is not available (Torch not compiled with CUDA "
                     f"enabled); tinygrad_norm computes with NumPy on the CPU only")
