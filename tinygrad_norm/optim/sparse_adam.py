"""SparseAdam, as ``torch.optim.SparseAdam``: Adam that moves only the rows a step's gradient
touched, for embedding tables where most rows are absent from a batch.

PyTorch feeds it sparse-layout gradients (``nn.Embedding(sparse=True)``) and refuses dense ones.
Gradients here are always dense arrays, so the rows are read off the gradient itself: a row
(an index along dim 0) takes part when any of its entries is nonzero. For an embedding table this
is the row set of PyTorch's sparse gradient (which lists the looked-up rows, ``padding_idx``
left out) except for a looked-up row whose summed gradient is exactly zero in every entry:
PyTorch decays that row's moments and moves it, here it is left alone.
"""
from __future__ import annotations

import math

import numpy as np

from .adaptive import _betas
from .optimizers import Optimizer, _check_betas, _number

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """Adam restricted to the touched rows ``r`` (dense moments, updated only there)::

        m[r] += (1 - beta1) * (g[r] - m[r])
        v[r] += (1 - beta2) * (g[r]**2 - v[r])
        p[r] -= lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m[r] / (sqrt(v[r]) + eps)

    ``t`` counts the steps at which the parameter had a gradient, touched rows or not. Unlike
    Adam, eps sits outside the bias-corrected square root, and ``lr`` must be positive."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        defaults = dict(lr=lr, betas=_betas(betas), eps=eps, maximize=maximize)
        self._validate(defaults)
        super().__init__(params, defaults)

    _buffer_names = ("exp_avg", "exp_avg_sq")

    def _validate(self, group):
        # strict: a zero lr or eps is refused, as PyTorch's SparseAdam (Adam allows both)
        if not 0.0 < _number(group["lr"], "lr"):
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if not 0.0 < _number(group["eps"], "eps"):
            raise ValueError(f"Invalid epsilon value: {group['eps']}")
        _check_betas(group)

    def _update(self, p, g, state, group):
        (beta1, beta2), eps = group["betas"], group["eps"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p._data)
            state["exp_avg_sq"] = np.zeros_like(p._data)
        state["step"] += 1  # counted even when no row is touched, as PyTorch's
        rows = _touched_rows(g)
        if rows is None:
            return
        g = g[rows]
        if group["maximize"]:
            g = -g
        m, v, step = state["exp_avg"], state["exp_avg_sq"], state["step"]
        # PyTorch's order of operations on the gathered values (update = (new - old) * (1 - b),
        # then old + update), so float64 results agree to the last bit
        old_m, old_v = m[rows], v[rows]
        m_upd = (g - old_m) * (1 - beta1)
        v_upd = (g * g - old_v) * (1 - beta2)
        m[rows] += m_upd
        v[rows] += v_upd
        numer = m_upd + old_m
        denom = np.sqrt(v_upd + old_v) + eps
        step_size = group["lr"] * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
        p._data[rows] += -step_size * (numer / denom)


def _touched_rows(g):
    """The indices along dim 0 where the gradient has a nonzero (or NaN) entry, or None when
    there is none; a 0-d gradient is one row."""
    if g.ndim == 0:
        return () if g != 0 or np.isnan(g) else None
    nz = g != 0  # NaN != 0 is True: a NaN gradient reaches the parameter, as in PyTorch
    if g.ndim > 1:
        nz = nz.reshape(g.shape[0], -1).any(axis=1)
    rows = np.flatnonzero(nz)
    return rows if rows.size else None
