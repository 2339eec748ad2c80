"""Shared by tests/test_dists_*.py: one family built from the same float64 parameters in this
package and in torch, a quantity of each compared (values to ~1e-10), then backpropagated under
the same random upstream gradient and the parameters' gradients compared."""
from __future__ import annotations

import numpy as np

import tinygrad_norm as tg


def pair(arrays):
    """The same arrays as leaves of both libraries (arrays of float dtype need grad)."""
    import torch
    ours, theirs = [], []
    for a in arrays:
        a = np.asarray(a)
        grad = a.dtype.kind == "f"
        ours.append(tg.tensor(a, requires_grad=grad))
        theirs.append(torch.tensor(a, requires_grad=grad))
    return ours, theirs


def to_ours(t):
    import torch
    return tg.tensor(t.detach().numpy()) if isinstance(t, torch.Tensor) else t


def compare(o, w, ours, theirs, rtol=1e-10, atol=1e-12, seed=0, grad_rtol=None,
            value_rtol=None, masks=None):
    """Values of o (ours) and w (torch's) equal; then gradients to the leaves equal (only where
    ``masks[i]`` is True, for a leaf given a mask)."""
    wd = w.detach().numpy()
    np.testing.assert_allclose(o.numpy(), wd, rtol=value_rtol or rtol, atol=atol,
                               equal_nan=True)
    if not w.requires_grad:
        return
    import torch
    up = np.random.default_rng(seed).normal(size=tuple(w.shape))
    o.backward(tg.tensor(up))
    w.backward(torch.tensor(up))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if not b.requires_grad:
            continue
        got = np.zeros(tuple(b.shape)) if a.grad is None else a.grad.numpy()
        want = np.zeros(tuple(b.shape)) if b.grad is None else b.grad.numpy()
        if masks is not None and masks[i] is not None:
            got, want = got[masks[i]], want[masks[i]]
        np.testing.assert_allclose(got, want, rtol=grad_rtol or rtol, atol=atol * 10)


def quantity(d, what, value=None):
    if what in ("log_prob", "cdf", "icdf"):
        return getattr(d, what)(value)
    if what == "entropy":
        return d.entropy()
    return getattr(d, what)
