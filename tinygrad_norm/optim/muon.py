"""Muon, as ``torch.optim.Muon``: momentum SGD for 2-D weight matrices whose step is the
momentum orthogonalised by a few Newton-Schulz iterations (roughly U V^T of its SVD), with
decoupled weight decay and a learning rate scaled by the matrix's shape.

torch runs the Newton-Schulz iterations in bfloat16, which NumPy does not have; here they run
in the parameter's own dtype. So the steps are torch's algorithm exactly, but agree with
torch's numbers only to bfloat16's precision (~1e-2 relative); with torch's bfloat16 cast made
an identity, they agree to float64 rounding (the tests do both).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .adaptive import _lerp_
from .optimizers import Optimizer, _number

__all__ = ["Muon"]

_ADJUST = (None, "original", "match_rms_adamw")


def _orthogonalize(g, coefficients, steps, eps):
    """The Newton-Schulz quintic iteration X <- a X + (b A + c A^2) X, A = X X^T, from the
    Frobenius-normalised matrix, on its wide orientation (fewer rows than columns)."""
    a, b, c = coefficients
    tall = g.shape[0] > g.shape[1]
    x = g.T if tall else g
    x = x / max(float(np.linalg.norm(x)), eps)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    return x.T if tall else x


def _adjusted_lr(lr, how, shape):
    rows, cols = shape[:2]
    if how in (None, "original"):  # Keller Jordan's: the update's RMS of a square matrix
        return lr * math.sqrt(max(1, rows / cols))
    return lr * 0.2 * math.sqrt(max(rows, cols))  # Moonshot's: AdamW's update RMS


class Muon(Optimizer):
    """Muon for 2-D parameters only (use another optimizer for biases and embeddings)::

        B = lerp(B, g, 1 - momentum);  U = lerp(g, B, momentum) (nesterov) | B
        O = NewtonSchulz(U);  p *= 1 - lr * weight_decay;  p -= adjusted_lr * O
    """

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(3.4445, -4.775, 2.0315), eps=1e-7, ns_steps=5,
                 adjust_lr_fn=None):
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps,
                        adjust_lr_fn=adjust_lr_fn)
        self._validate(defaults)
        super().__init__(params, defaults)

    _buffer_names = ("momentum_buffer",)

    def add_param_group(self, param_group):
        params = param_group.get("params", []) if isinstance(param_group, dict) else []
        for p in [params] if hasattr(params, "ndim") else params:
            if getattr(p, "ndim", 2) != 2:  # before the group is added: nothing half done
                raise ValueError(f"Muon only supports 2D parameters whereas we found a "
                                 f"parameter with size: {tuple(p.shape)}")
        super().add_param_group(param_group)

    def _validate(self, group):
        for name, label in (("lr", "Learning rate"), ("momentum", "momentum"),
                            ("weight_decay", "weight decay")):
            if not 0.0 <= _number(group[name], name):
                raise ValueError(f"{label} should be >= 0 but is: {group[name]}")
        if group["adjust_lr_fn"] not in _ADJUST:
            raise ValueError(f"Adjust learning rate function {group['adjust_lr_fn']} is not "
                             f"supported")
        coefficients = group["ns_coefficients"]
        if not isinstance(coefficients, (tuple, list)) or len(coefficients) != 3:
            # torch's words (at its first step; here at construction), with the argument's name
            raise ValueError(f"Muon: ns_coefficients: Coefficients must be a tuple of exactly 3 "
                             f"values, got {coefficients!r}")
        for i, v in enumerate(coefficients):
            _number(v, f"ns_coefficients[{i}]")
        steps = group["ns_steps"]
        if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
            raise TypeError(f"ns_steps must be a non-negative int, got {steps!r}")
        if steps >= 100:  # torch's check, at its first step; here before any state exists
            raise ValueError(f"Muon: ns_steps: Number of steps must be less than 100 for "
                             f"computational efficiency, got {steps}")
        _number(group["eps"], "eps")

    def _update(self, p, g, state, group):
        lr, momentum = group["lr"], group["momentum"]
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = np.zeros_like(p._data)
        _lerp_(buf, g, 1 - momentum)
        if group["nesterov"]:
            update = np.array(g, dtype=buf.dtype)  # a copy: p.grad is never written
            _lerp_(update, buf, momentum)
        else:
            update = buf
        update = _orthogonalize(update, group["ns_coefficients"], group["ns_steps"],
                                group["eps"])
        p._data *= 1 - lr * group["weight_decay"]
        p._data -= _adjusted_lr(lr, group["adjust_lr_fn"], p.shape) * update
