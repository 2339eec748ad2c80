"""Known gradient and value gaps against torch 2.13 at the edges (no degrees of freedom, -0.0,
+-inf, NaN, clamp bounds), and NumPy RuntimeWarnings leaking to users: each test compares with
torch on the call that differed."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_norm as tg


def _grads(lib, fn, arrays, g, **kw):
    """Output and input gradients of ``fn`` (float64) under the upstream gradient ``g``, in
    either library (``lib`` is ``tg`` or ``torch``): one helper so both run the same call."""
    if lib is tg:
        ts = [tg.tensor(a, requires_grad=True) for a in arrays]
        out = fn(*ts, **kw)
        out = out[0] if isinstance(out, tuple) else out
        return np.asarray(out.data), [np.asarray(t.data) for t in
                                      tg.grad(out, ts, [tg.tensor(np.asarray(g, out.dtype))])]
    ts = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts, **kw)
    out = out[0] if isinstance(out, tuple) else out
    gs = lib.autograd.grad(out, ts, lib.tensor(np.asarray(g)).to(out.dtype))
    return out.detach().numpy(), [t.numpy() for t in gs]


def _same(ours, theirs, rtol=1e-12):
    """Equal values, NaN where torch has NaN, and infinities of the same sign."""
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=0, equal_nan=True)


def _compare(torch, name, arrays, g, torch_fn=None, rtol=1e-12, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns of no degrees of freedom
        out_t, g_t = _grads(torch, torch_fn or _attr(torch, name), arrays, g, **kw)
    out_o, g_o = _grads(tg, _attr(tg, name), arrays, g, **kw)
    _same(out_o, out_t, rtol)
    for a, b in zip(g_o, g_t):
        _same(a, b, rtol)


def _attr(mod, name):
    for part in name.split("."):
        mod = getattr(mod, part)
    return mod


# ------------------------------------------------------------------ var/std, no degrees of freedom
_ROWS = np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0], [1.0, np.inf, 2.0], [-1.0, 0.5, 7.0]])


@pytest.mark.parametrize("name", ["var", "std", "var_mean", "std_mean"])
@pytest.mark.parametrize("correction", [3, 4, 5, 3.5])
def test_moment_gradient_along_a_dim_with_correction_at_or_past_the_count(torch, name, correction):
    # torch: 2 / (n - correction) * g * (x - mean), a finite negative slope past the count (the
    # old VJP gave inf there), inf at it; std's gradient is 0 past the count (g / 2std = 0)
    g = np.array([0.7, -0.4, 0.3, -1.1])
    _compare(torch, name, [_ROWS], g, dim=1, correction=correction)
    _compare(torch, name, [_ROWS.T.copy()], g, dim=0, keepdim=False, correction=correction)


@pytest.mark.parametrize("name", ["var", "std", "var_mean", "std_mean"])
@pytest.mark.parametrize("x", [np.array([1.0, 2.0, 4.0]), np.array([3.0, 3.0]),
                               np.array([[1.0, -2.0], [0.5, 0.5]]), np.array(2.5)])
@pytest.mark.parametrize("correction", [1, 2, 4, 6])
def test_moment_gradient_without_a_dim_and_no_degrees_of_freedom(torch, name, x, correction):
    # torch without a dim (or of a 0-d tensor): g * inf, NaN where a value equals the mean --
    # the sign of the deviation plays no part (the old VJP gave -inf below the mean)
    _compare(torch, name, [x], np.array(-0.6), correction=correction)


def test_var_without_a_dim_and_no_degrees_of_freedom_method_and_float32(torch):
    x = np.array([1.0, 2.0, 4.0])
    t = tg.tensor(x.astype(np.float32), requires_grad=True)
    (g,) = tg.grad(t.var(correction=3), [t], [tg.tensor(np.float32(0.5))])
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g.data, [np.inf] * 3)
    # 0-d along dim 0 is the no-dim rule too, as torch's
    _compare(torch, "var", [np.array(2.0)], np.array(0.5), dim=0, correction=2)


def test_var_no_degrees_of_freedom_gradient_of_gradient_records(torch):
    # the VJP is written with xp: recorded under create_graph, the same first gradient
    x = tg.tensor(np.array([[1.0, 2.0, 4.0], [0.0, 1.0, 1.0]]), requires_grad=True)
    (g,) = tg.grad(x.var(dim=1, correction=4).sum(), [x], create_graph=True)
    xt = torch.tensor(x.data, requires_grad=True)
    (gt,) = torch.autograd.grad(xt.var(dim=1, correction=4).sum(), [xt], create_graph=True)
    _same(g.data, gt.detach().numpy())
    (h,) = tg.grad((g * g).sum(), [x])
    (ht,) = torch.autograd.grad((gt * gt).sum(), [xt])
    _same(h.data, ht.numpy())
