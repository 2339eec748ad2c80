"""``torch.amp``'s loss scaler and its autocast switch, for training scripts that carry them.

``GradScaler`` is torch's dynamic loss scaling as its CPU build runs it: the loss is multiplied by
a scale before backward, the gradients are divided by it (``unscale_``), a step whose gradients
hold an inf or NaN is skipped, and ``update`` halves the scale after such a step and doubles it
after ``growth_interval`` clean ones. Its numbers are float32, as torch keeps them.

``autocast`` is accepted switched off only (``enabled=False``, how a script runs without a GPU):
mixed precision would need bfloat16 matrix products, which NumPy has not."""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .tensor import Tensor

__all__ = ["GradScaler", "autocast"]

_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


def _f32(x):
    """One float32 rounding, as torch's scale tensor holds its value."""
    return float(np.float32(x))


class GradScaler:
    """torch.amp.GradScaler(device='cuda', init_scale=2.0**16, growth_factor=2.0,
    backoff_factor=0.5, growth_interval=2000, enabled=True)."""

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        if not isinstance(device, str):
            device = str(device)
        self._device = device
        if enabled and device.split(":")[0] == "cuda":
            # torch's own words, where CUDA is missing: the scaler turns itself off
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  "
                          "Disabling.", UserWarning, stacklevel=2)
            enabled = False
        elif device.split(":")[0] != "cpu":
            raise ValueError(f"GradScaler: device {device!r} is not available; tinygrad_norm "
                             f"computes on the CPU only: use 'cpu'")
        self._enabled = bool(enabled)
        if not self._enabled:
            return
        if not growth_factor > 1.0:
            raise ValueError("The growth factor must be > 1.0.")
        if not backoff_factor < 1.0:
            raise ValueError("The backoff factor must be < 1.0.")
        self._scale = _f32(init_scale)
        self._growth_factor, self._backoff_factor = growth_factor, backoff_factor
        self._growth_interval = growth_interval
        self._growth_tracker = 0
        self._states = {}  # id(optimizer) -> {"stage", "found_inf"}, cleared by update()

    # ---- scaling --------------------------------------------------------------------------------
    def scale(self, outputs):
        """``outputs`` (a Tensor, or lists, tuples and other iterables of them) times the scale,
        on the graph; themselves when disabled."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * self._scale
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        if hasattr(outputs, "__iter__") and not isinstance(outputs, (str, bytes, dict)):
            return map(self.scale, outputs)  # torch returns an iterable for other iterables
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def _state(self, optimizer):
        return self._states.setdefault(id(optimizer), {"stage": _READY, "found_inf": False})

    def unscale_(self, optimizer):
        """Divide the optimizer's gradients by the scale, in place, and note whether any holds an
        inf or NaN. Once per optimizer between two ``update()`` calls, before its step."""
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["stage"] == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the "
                               "last update().")
        if state["stage"] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv = _f32(1.0 / self._scale)  # torch: the float64 reciprocal, rounded to float32
        found = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if g.dtype == np.float16:
                    raise ValueError("Attempting to unscale FP16 gradients.")
                arr = g.numpy()
                found = found or not np.isfinite(arr).all()
                arr *= inv  # in place, as torch's; the gradient is a leaf's array
        state["found_inf"], state["stage"] = found, _UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step(*args, **kwargs)`` on unscaled gradients, skipped (None returned) when
        any was inf or NaN; plain ``optimizer.step`` when disabled."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        state = self._state(optimizer)
        if state["stage"] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] == _READY:
            self.unscale_(optimizer)
        out = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return out

    def update(self, new_scale=None):
        """Back the scale off after a skipped step, grow it after ``growth_interval`` clean ones
        (or set it to ``new_scale``); then a new iteration may unscale and step again."""
        if not self._enabled:
            return
        if new_scale is not None:
            if isinstance(new_scale, Tensor):
                if new_scale.numel() != 1:
                    raise ValueError("new_scale should be a single-element tensor")
                if new_scale.requires_grad:
                    raise ValueError("new_scale should not require grad")
                new_scale = new_scale.item()
            elif isinstance(new_scale, bool) or not isinstance(new_scale, numbers.Real):
                raise TypeError(f"new_scale should be a float or a 1-element tensor, not "
                                f"{type(new_scale).__name__}")
            self._scale = _f32(new_scale)
        else:
            stepped = [s for s in self._states.values() if s["stage"] != _READY]
            if not stepped:
                raise RuntimeError("No inf checks were recorded prior to update.")
            if any(s["found_inf"] for s in stepped):
                self._scale = _f32(np.float32(self._scale) * np.float32(self._backoff_factor))
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    grown = _f32(np.float32(self._scale) * np.float32(self._growth_factor))
                    if math.isfinite(grown):  # torch keeps the old scale rather than overflow
                        self._scale = grown
                    self._growth_tracker = 0
        self._states = {}

    # ---- queries and settings -------------------------------------------------------------------
    def get_scale(self):
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def is_enabled(self):
        return self._enabled

    def state_dict(self):
        """torch's keys, or ``{}`` when disabled."""
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._scale = _f32(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._growth_tracker = int(state_dict["_growth_tracker"])


class autocast:
    """torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None), as a context
    manager or a decorator, switched off: ``enabled=False`` runs the block as it is. Switched on
    it is refused (a ValueError): NumPy has no bfloat16 matrix products to cast into."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if enabled:
            raise ValueError("autocast: mixed precision is not available here (NumPy has no "
                             "bfloat16 matrix products); run in float32 with enabled=False, or "
                             "keep the loss scaling (amp.GradScaler) alone")
        self.device, self.fast_dtype, self._enabled = device_type, dtype, False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapper
