"""tg.histogram and tg.gradient against torch: histogram counts, weighted sums and densities
with torch's edges (float32 edges to one rounding), given edges, a single value, empty input,
torch's errors; gradient values for uniform and coordinate spacing, both edge orders, chosen
dims, integer input, its own gradient under a random upstream gradient (float64 exact-ish,
float32), gradcheck and gradgradcheck, torch's errors."""
from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor

from conftest import gradchecks

R = np.random.default_rng(0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", [dict(bins=7), dict(bins=30), dict(bins=5, range=(-1.0, 1.0)),
                                dict(bins=4, density=True), dict(bins=6, weight=True),
                                dict(bins=5, range=(-2.0, 0.5), weight=True, density=True)],
                         ids=str)
def test_histogram_matches_torch(torch, kw, dtype):
    x = R.standard_normal((40, 25)).astype(dtype)
    kw = dict(kw)
    w = np.abs(R.standard_normal(x.shape)).astype(dtype) if kw.pop("weight", False) else None
    bins = kw.pop("bins")
    ours = tg.histogram(Tensor(x), bins, weight=None if w is None else Tensor(w), **kw)
    theirs = torch.histogram(torch.from_numpy(x), bins,
                             weight=None if w is None else torch.from_numpy(w), **kw)
    assert ours.hist.dtype == dtype and ours.bin_edges.dtype == dtype
    np.testing.assert_allclose(ours.bin_edges.numpy(), theirs.bin_edges.numpy(), rtol=3e-7,
                               atol=3e-7)
    np.testing.assert_allclose(ours.hist.numpy(), theirs.hist.numpy(), rtol=1e-5)


def test_histogram_given_edges_one_value_and_empty(torch):
    x = np.array([0.0, 1.0, 2.0, 2.0, 3.0, 10.0])
    for ours_x, bins in ((x, Tensor(np.array([0.0, 2.0, 5.0, 10.0]))), (np.array([1.0, 1.0]), 2),
                         (np.zeros(0), 3)):
        o = tg.histogram(Tensor(ours_x), bins)
        t = torch.histogram(torch.from_numpy(ours_x),
                            torch.from_numpy(bins.numpy()) if isinstance(bins, Tensor) else bins)
        np.testing.assert_array_equal(o.hist.numpy(), t.hist.numpy())
        np.testing.assert_allclose(o.bin_edges.numpy(), t.bin_edges.numpy(), rtol=1e-15)


def test_histogram_errors_are_torchs(torch):
    x = np.array([0.0, 1.0, 2.0])
    for args, kw in (((0,), {}), ((3,), dict(range=(3.0, 1.0))), ((Tensor(np.array([1.0])),), {})):
        targs = tuple(torch.from_numpy(a.numpy()) if isinstance(a, Tensor) else a for a in args)
        with pytest.raises(RuntimeError) as theirs:
            torch.histogram(torch.from_numpy(x), *targs, **kw)
        with pytest.raises(ValueError, match="^" + re.escape(str(theirs.value)) + "$"):
            tg.histogram(Tensor(x), *args, **kw)
    with pytest.raises(RuntimeError) as theirs:
        torch.histogram(torch.tensor([1.0, float("nan")]), 2)
    with pytest.raises(ValueError, match="is not finite"):
        tg.histogram(Tensor(np.array([1.0, np.nan])), 2)
    with pytest.raises(TypeError, match="floating point"):
        tg.histogram(Tensor(np.array([1, 2])), 2)


F = R.standard_normal((5, 6))
C0, C1 = np.cumsum(R.random(5) + 0.1), np.cumsum(R.random(6) + 0.1)
GRADIENT_CASES = [
    (dict(), dict()),
    (dict(spacing=2.0, edge_order=2), dict(spacing=2.0, edge_order=2)),
    (dict(spacing=[0.5, 3.0], dim=[1, 0]), dict(spacing=[0.5, 3.0], dim=[1, 0])),
    (dict(spacing=["C0", "C1"]), dict(spacing=["C0", "C1"])),
    (dict(spacing=["C0", "C1"], edge_order=2), dict(spacing=["C0", "C1"], edge_order=2)),
    (dict(spacing=["C1"], dim=1, edge_order=2), dict(spacing=["C1"], dim=1, edge_order=2)),
    (dict(dim=-1), dict(dim=-1)),
]


def _spell(kw, lib, torch):
    coords = {"C0": C0, "C1": C1}
    out = dict(kw)
    if "spacing" in kw and isinstance(kw["spacing"], list):
        out["spacing"] = [(Tensor(coords[s]) if lib == "tg" else torch.from_numpy(coords[s]))
                          if isinstance(s, str) else s for s in kw["spacing"]]
        if lib == "torch":
            out["spacing"] = tuple(out["spacing"]) if isinstance(out["spacing"][0],
                                                                 torch.Tensor) \
                else out["spacing"]
    return out


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("case", range(len(GRADIENT_CASES)))
def test_gradient_matches_torch_with_its_own_gradient(torch, case, dtype, rtol):
    kw = GRADIENT_CASES[case][0]
    ours_kw, theirs_kw = _spell(kw, "tg", torch), _spell(kw, "torch", torch)
    x = Tensor(F.astype(dtype), requires_grad=True)
    tx = torch.tensor(F.astype(dtype), requires_grad=True)
    outs, refs = tg.gradient(x, **ours_kw), torch.gradient(tx, **theirs_kw)
    assert len(outs) == len(refs)
    ups = [R.standard_normal(o.shape).astype(dtype) for o in outs]
    for o, r in zip(outs, refs):
        assert o.dtype == dtype
        np.testing.assert_allclose(o.numpy(), r.detach().numpy(), rtol=rtol, atol=rtol * 10)
    sum((o * Tensor(u)).sum() for o, u in zip(outs, ups)).backward()
    sum((r * torch.from_numpy(u)).sum() for r, u in zip(refs, ups)).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=rtol, atol=rtol * 10)


def test_gradient_of_integers_and_gradchecks(torch):
    ours = tg.gradient(Tensor(np.array([1, 4, 9, 16])))[0]
    theirs = torch.gradient(torch.tensor([1, 4, 9, 16]))[0]
    assert ours.dtype == np.float32 and str(theirs.dtype) == "torch.float32"
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    gradchecks(lambda x: tg.gradient(x, spacing=[Tensor(C0), Tensor(C1)], edge_order=2)[1] ** 2,
               [F])


def test_gradient_errors_are_torchs(torch):
    for x, kw in ((np.array([1.0]), {}), (np.array([1.0, 2.0]), dict(edge_order=2)),
                  (np.array([1.0, 2.0]), dict(edge_order=3)),
                  (np.ones((3, 4)), dict(spacing=[1.0, 2.0, 3.0]))):
        with pytest.raises(RuntimeError) as theirs:
            torch.gradient(torch.from_numpy(x), **kw)
        msg = str(theirs.value)
        with pytest.raises(ValueError, match="^" + re.escape(msg[:60])):
            tg.gradient(Tensor(x), **kw)
    with pytest.raises(TypeError, match="all numbers or all 1-D Tensors"):
        tg.gradient(Tensor(F), spacing=[Tensor(C0), 1.0])
