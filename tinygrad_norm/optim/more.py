"""The remaining first-order optimizers of ``torch.optim``: Rprop (sign-based steps with per-weight
step sizes), ASGD (SGD with Polyak-Ruppert averaging) and Adafactor (Adam-like steps from a
factored second moment), each with PyTorch's single-tensor update rule, its state names and its
hyperparameter checks and messages.

As the other optimizers here: updates in place on ``p.data``, ``p.grad`` never written,
Python-float hyperparameters, state created at a parameter's first step.
"""
from __future__ import annotations

import numpy as np

from .. import default_dtype as _dd
from .adaptive import _at_least_zero, _lerp_
from .optimizers import Optimizer, _number

__all__ = ["Rprop", "ASGD", "Adafactor"]


def _pair(v, name):
    """A two-element tuple or list (``tuple(0.5)`` would fail deep inside with "not iterable")."""
    if not isinstance(v, (tuple, list)) or len(v) != 2:
        raise TypeError(f"{name} must be a pair of numbers, got {v!r}")
    return tuple(v)


def _f32(x):
    """A scalar as PyTorch's 0-d state tensors hold it (ASGD's eta and mu): float32, or float64
    under a float64 default dtype (torch's ``_get_scalar_dtype``)."""
    return float(_dd.scalar_type()(x))


# ---- Rprop ----------------------------------------------------------------------------------------

class Rprop(Optimizer):
    """Resilient backpropagation, as ``torch.optim.Rprop``: each weight moves by its own step
    size in the direction of minus its gradient's sign; the step size grows by ``etas[1]`` while
    the sign holds and shrinks by ``etas[0]`` when it flips (that step then skips the weight and
    forgets its gradient), clamped to ``step_sizes``::

        s = sign(g * prev);  size = clamp(size * (etaplus | etaminus | 1), *step_sizes)
        g = 0 where s < 0;   p -= sign(g) * size;  prev = g

    The step sizes start at ``lr``: changing ``lr`` later (a scheduler) acts only on parameters
    whose state is created after the change, as in PyTorch."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 maximize=False):
        defaults = dict(lr=lr, etas=_pair(etas, "etas"),
                        step_sizes=_pair(step_sizes, "step_sizes"), maximize=maximize)
        self._validate(defaults)
        super().__init__(params, defaults)

    _buffer_names = ("prev", "step_size")

    def _validate(self, group):
        _at_least_zero(group, "lr", "learning rate")
        etas = _pair(group["etas"], "etas")
        minus, plus = (_number(e, f"etas[{i}]") for i, e in enumerate(etas))
        if not 0.0 < minus < 1.0 < plus:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        for i, s in enumerate(_pair(group["step_sizes"], "step_sizes")):
            _number(s, f"step_sizes[{i}]")

    def _update(self, p, g, state, group):
        (etaminus, etaplus), (size_min, size_max) = group["etas"], group["step_sizes"]
        if not state:
            state["step"] = 0
            state["prev"] = np.zeros_like(p._data)
            state["step_size"] = np.full_like(p._data, group["lr"])
        state["step"] += 1
        if group["maximize"]:
            g = -g
        prev, size = state["prev"], state["step_size"]
        # PyTorch's rule writes the factor into the sign array in three passes; a NaN sign stays
        # NaN there, and so it does here (np.select's default)
        s = np.sign(g * prev)
        factor = np.select([s > 0, s < 0, s == 0], [etaplus, etaminus, 1.0], s).astype(p.dtype)
        size *= factor
        np.clip(size, size_min, size_max, out=size)
        # a flipped sign: this step leaves the weight where it is and the next starts afresh
        g = np.where(s < 0, 0, g).astype(p.dtype)
        p._data -= np.sign(g) * size
        prev[...] = g


# ---- ASGD -----------------------------------------------------------------------------------------

class ASGD(Optimizer):
    """Averaged SGD, as ``torch.optim.ASGD``: SGD with a decaying rate and, from step ``t0`` on,
    a running average ``ax`` of the iterates (Polyak-Ruppert averaging; read ``state[p]["ax"]``
    for the averaged weights)::

        g = grad + weight_decay * p
        p *= 1 - lambd * eta;  p -= eta * g
        ax = p (mu == 1) | ax + mu * (p - ax)
        eta = lr / (1 + lambd * lr * t)^alpha;  mu = 1 / max(1, t - t0)

    ``eta`` and ``mu`` are Python floats rounded to float32 (float64 under a float64 default
    dtype) at each step, as PyTorch keeps them in scalar tensors, so the steps agree to the bit."""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, *,
                 maximize=False):
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        maximize=maximize)
        self._validate(defaults)
        super().__init__(params, defaults)

    _buffer_names = ("ax",)

    def _validate(self, group):
        _at_least_zero(group, "lr", "learning rate")
        _at_least_zero(group, "weight_decay", "weight_decay value")
        for name in ("lambd", "alpha", "t0"):
            _number(group[name], name)

    def _update(self, p, g, state, group):
        lr, lambd = group["lr"], group["lambd"]
        if not state:
            state.update(step=0, eta=_f32(lr), mu=1.0, ax=np.zeros_like(p._data))
        state["step"] += 1
        if group["maximize"]:
            g = -g
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p._data
        eta = state["eta"]
        p._data *= 1 - lambd * eta
        p._data += -eta * g
        ax = state["ax"]
        if state["mu"] != 1:
            ax += (p._data - ax) * state["mu"]
        else:
            ax[...] = p._data
        step = state["step"]
        state["eta"] = _f32(lr / ((1 + lambd * lr * step) ** group["alpha"]))
        state["mu"] = _f32(1 / max(1, step - group["t0"]))


# ---- Adafactor ------------------------------------------------------------------------------------

class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern), as ``torch.optim.Adafactor`` (PyTorch 2.5+): for a parameter
    of two or more dimensions the second moment is kept as a row factor (mean over the last
    dimension) and a column factor (mean over the one before), whose outer product over the
    row factors' mean estimates it; a vector keeps it whole. No first moment::

        beta = t^beta2_decay;  row = lerp(row, mean(g*g, -1), beta);  col likewise over -2
        v = row @ col / max(mean(row, -2), eps1)       (or v = lerp(v, g*g, beta) for a vector)
        u = g / sqrt(max(v, eps1^2));  u /= max(1, rms(u) / d)
        p *= 1 - lr * weight_decay;  p -= max(eps2, rms(p_before)) * min(lr, 1/sqrt(t)) * u

    ``eps=(None, 1e-3)``: eps1 None is the parameter dtype's machine epsilon. Weight decay is
    decoupled (as AdamW's). State: ``step``, ``row_var`` and ``col_var`` (shape with the last,
    resp. second-to-last, dimension 1) or ``variance``."""

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, maximize=False):
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=_pair(eps, "eps"), d=d,
                        weight_decay=weight_decay, maximize=maximize)
        self._validate(defaults)
        super().__init__(params, defaults)

    _buffer_names = ("row_var", "col_var", "variance")

    def _validate(self, group):
        def check(ok, what, v):
            if not ok:
                raise ValueError(f"{what} but is: {v}")
        lr, decay = _number(group["lr"], "lr"), _number(group["beta2_decay"], "beta2_decay")
        check(0.0 <= lr, "Learning rate should be >= 0", group["lr"])
        check(0.0 >= decay, "beta2_decay should be <= 0", group["beta2_decay"])
        eps1, eps2 = _pair(group["eps"], "eps")
        if eps1 is not None:
            check(0.0 <= _number(eps1, "eps[0]"), "epsilon1 should be >= 0", eps1)
        check(0.0 <= _number(eps2, "eps[1]"), "epsilon2 should be >= 0", eps2)
        check(1.0 <= _number(group["d"], "d"), "Clipping threshold d should be >= 1",
              group["d"])
        check(0.0 <= _number(group["weight_decay"], "weight_decay"),
              "weight_decay should be >= 0", group["weight_decay"])

    def _state_shape(self, name, p):
        shape = tuple(p.shape)
        if name == "row_var":
            return shape[:-1] + (1,)
        if name == "col_var":
            return shape[:-2] + (1,) + shape[-1:]
        return shape

    def _update(self, p, g, state, group):
        lr, (eps1, eps2) = group["lr"], group["eps"]
        factored = p._data.ndim > 1
        if eps1 is None:
            eps1 = float(np.finfo(p.dtype).eps)
        if not state:
            state["step"] = 0
            if factored:
                state["row_var"] = np.zeros(self._state_shape("row_var", p), p.dtype)
                state["col_var"] = np.zeros(self._state_shape("col_var", p), p.dtype)
            else:
                state["variance"] = np.zeros_like(p._data)
        state["step"] += 1
        step = float(state["step"])
        if group["maximize"]:
            g = -g
        beta = step ** group["beta2_decay"]  # the weight of the new square: 1 at step 1
        rho = min(lr, 1 / step ** 0.5)
        # the relative step: scaled by the parameter's RMS before the weight decay
        alpha = max(eps2, float(np.linalg.norm(p._data)) / p._data.size ** 0.5) * rho
        if group["weight_decay"] != 0:
            p._data *= 1 - lr * group["weight_decay"]
        if factored:
            v = self._factored_estimate(g, state, beta, eps1)
        else:
            variance = state["variance"]
            _lerp_(variance, g * g, beta)
            v = variance.copy()
        np.maximum(v, eps1 * eps1, out=v)  # eps1 squared: it bounds the root below by eps1
        u = g / np.sqrt(v)
        # the update's RMS clipped at d
        denom = max(1.0, float(np.linalg.norm(u)) / (u.size ** 0.5 * group["d"]))
        p._data += (-alpha / denom) * u

    @staticmethod
    def _factored_estimate(g, state, beta, eps1):
        """Update the row and column factors; their outer product over the row factors' mean
        estimates each square gradient's running average (a rank-one approximation)."""
        row_var, col_var = state["row_var"], state["col_var"]
        sq = g * g
        _lerp_(row_var, sq.mean(axis=-1, keepdims=True), beta)
        _lerp_(col_var, sq.mean(axis=-2, keepdims=True), beta)
        v = row_var @ col_var
        v /= np.maximum(row_var.mean(axis=-2, keepdims=True), eps1)
        return v
