"""F.affine_grid and F.grid_sample (composites: one gather of the taps, weights on the tape):
parity with PyTorch for values and for the gradients of the input, the grid and theta under
random upstream gradients (float64 rtol 1e-10, float32), over every mode x padding_mode x
align_corners, with grid points inside and outside [-1, 1], on the edges and on pixel centres
(where the kinks are); finite differences; a spatial transformer trained two SGD steps alongside
torch's; and torch's warnings and errors."""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn, optim

from conftest import torch_parity

RTOL = {np.float64: 1e-10, np.float32: 2e-5}
DTYPES = [np.float64, np.float32]
MODES_4D = ["bilinear", "nearest", "bicubic"]
PADDINGS = ["zeros", "border", "reflection"]


def _grid(shape, seed=0, spread=1.4):
    """Random points, some outside [-1, 1], plus exact edges (+-1, 0) and far-away points."""
    rng = np.random.default_rng(seed)
    g = rng.uniform(-spread, spread, shape)
    flat = g.reshape(-1)
    flat[::5] = rng.choice([-1.0, 1.0, 0.0, -3.25, 2.5], size=flat[::5].shape)
    return g


def _pixel_grid(n_pix, shape, align_corners, seed=0):
    """Grid values that land exactly on pixel centres (and half-way between, for the rounding
    of 'nearest') of an axis of ``n_pix`` pixels, inside and a few pixels outside."""
    rng = np.random.default_rng(seed)
    pos = rng.integers(-3, 2 * n_pix + 3, size=shape) / 2.0  # pixel units, halves included
    if align_corners:
        return pos * 2.0 / (n_pix - 1) - 1.0
    return (2.0 * pos + 1.0) / n_pix - 1.0


def _sample(mode, padding, align):
    def ours(x, g):
        return F.grid_sample(x, g, mode=mode, padding_mode=padding, align_corners=align)

    def theirs(x, g):
        import torch
        return torch.nn.functional.grid_sample(x, g, mode=mode, padding_mode=padding,
                                               align_corners=align)
    return ours, theirs


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("align", [True, False])
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("mode", MODES_4D)
def test_grid_sample_4d_matches_torch(torch, mode, padding, align, dtype):
    x = np.random.default_rng(1).standard_normal((2, 3, 5, 6))
    ours, theirs = _sample(mode, padding, align)
    torch_parity(torch, ours, theirs, [x, _grid((2, 4, 7, 2))], dtype, RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("align", [True, False])
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("mode", MODES_4D)
def test_grid_sample_on_pixel_centres_matches_torch(torch, mode, padding, align, dtype):
    """Integer and half-integer pixel positions: the floor's cell gives the grid's gradient
    there, the clip's and reflection's kinks fall on them, 'nearest' rounds halves to even.
    Sizes with dyadic steps, so every position is exact in floating point."""
    h, w = (5, 9) if align else (4, 8)
    x = np.random.default_rng(2).standard_normal((2, 2, h, w))
    g = np.stack([_pixel_grid(w, (2, 6, 5), align, 3), _pixel_grid(h, (2, 6, 5), align, 4)], -1)
    ours, theirs = _sample(mode, padding, align)
    torch_parity(torch, ours, theirs, [x, g], dtype, RTOL[dtype])


@pytest.mark.parametrize("align", [True, False])
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_5d_on_voxel_centres_matches_torch(torch, mode, padding, align):
    d, h, w = (3, 5, 9) if align else (2, 4, 8)
    x = np.random.default_rng(2).standard_normal((2, 2, d, h, w))
    shape = (2, 3, 4, 2)
    g = np.stack([_pixel_grid(w, shape, align, 3), _pixel_grid(h, shape, align, 4),
                  _pixel_grid(d, shape, align, 5)], -1)
    ours, theirs = _sample(mode, padding, align)
    torch_parity(torch, ours, theirs, [x, g], np.float64, 1e-10)


def test_bilinear_grid_gradient_at_a_pixel_centre_is_the_right_hand_slope(torch):
    """At an exact pixel the floor's cell is used: d out / d x is the slope to the right."""
    x = np.arange(5.0).reshape(1, 1, 1, 5) ** 2  # slopes 1, 3, 5, 7
    g = Tensor(np.array([[[[0.0, 0.0]]]]), requires_grad=True)  # x = 0: pixel 2 (align=True)
    F.grid_sample(Tensor(x), g, align_corners=True).sum().backward()
    assert g.grad.data[0, 0, 0, 0] == 5.0 * 2  # slope 9 - 4, times d pixel / d x = (5 - 1) / 2


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("align", [True, False])
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_5d_matches_torch(torch, mode, padding, align, dtype):
    x = np.random.default_rng(5).standard_normal((2, 2, 3, 4, 5))
    ours, theirs = _sample(mode, padding, align)
    torch_parity(torch, ours, theirs, [x, _grid((2, 3, 2, 4, 3), 6)], dtype, RTOL[dtype])


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("mode", MODES_4D)
def test_grid_sample_single_pixel_and_wide_reflections(torch, mode, padding):
    """A 1-pixel axis (empty reflection span with aligned corners) and points many spans away."""
    x = np.random.default_rng(7).standard_normal((1, 2, 1, 4))
    g = np.random.default_rng(8).uniform(-9, 9, (1, 3, 5, 2))
    for align in (True, False):
        ours, theirs = _sample(mode, padding, align)
        torch_parity(torch, ours, theirs, [x, g], np.float64, 1e-10)


@pytest.mark.parametrize("mode", MODES_4D)
def test_grid_sample_input_only_and_grid_only_gradients(torch, mode):
    x = np.random.default_rng(9).standard_normal((2, 3, 4, 4))
    ours, theirs = _sample(mode, "border", False)
    g = _grid((2, 3, 3, 2))
    for diff in ([True, False], [False, True]):
        torch_parity(torch, ours, theirs, [x, g], np.float64, 1e-10, diff=diff)
    out = ours(Tensor(x), Tensor(g))  # nothing wants a gradient: the same values
    np.testing.assert_allclose(out.data, theirs(torch.tensor(x), torch.tensor(g)).numpy(),
                               rtol=1e-10, atol=1e-10)


NON_FINITE = [np.nan, np.inf, -np.inf, 1e30, -1e30]


@pytest.mark.parametrize("padding", ["border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_non_finite_grid_clips_to_zero_as_torch(torch, mode, padding):
    """A NaN or infinite grid value is sampled at pixel 0 after the clip (torch's max(x, 0))
    with gradient 0. torch's bilinear backward crashes (segfault) on a NaN grid, and on an
    infinite one under reflection: there only the values are compared, and ours must give
    finite gradients."""
    x = np.arange(24.0).reshape(2, 1, 3, 4)
    for v in NON_FINITE:
        g = np.array([[v, 0.0], [0.3, 0.1], [0.4, v]]).reshape(1, 1, 3, 2).repeat(2, axis=0)
        for align in (True, False):
            ours, theirs = _sample(mode, padding, align)
            crashes = mode == "bilinear" and (np.isnan(v) or (np.isinf(v) and
                                                              padding == "reflection"))
            if not crashes:
                torch_parity(torch, ours, theirs, [x, g], np.float64, 1e-10)
                continue
            xt, gt = Tensor(x, requires_grad=True), Tensor(g, requires_grad=True)
            out = ours(xt, gt)
            np.testing.assert_allclose(out.data, theirs(torch.tensor(x), torch.tensor(g)))
            out.backward(np.ones(out.shape))
            assert np.isfinite(gt.grad.data).all() and np.isfinite(xt.grad.data).all()


def test_grid_sample_empty_batch_channels_and_grid(torch):
    for xs, gs in [((0, 2, 3, 3), (0, 2, 2, 2)), ((2, 0, 3, 3), (2, 2, 2, 2)),
                   ((2, 2, 3, 3), (2, 0, 4, 2))]:
        x, g = np.zeros(xs), np.zeros(gs)
        out = F.grid_sample(Tensor(x), Tensor(g), align_corners=False)
        ref = torch.nn.functional.grid_sample(torch.tensor(x), torch.tensor(g),
                                              align_corners=False)
        assert out.shape == tuple(ref.shape)


@pytest.mark.parametrize("mode,padding", [("bilinear", "zeros"), ("bilinear", "reflection"),
                                          ("bicubic", "border"), ("bilinear", "border")])
def test_grid_sample_gradcheck(mode, padding):
    """Finite differences of both arguments, first and second order, away from the kinks:
    points strictly inside cells (not on pixel centres or the reflection/clip edges)."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((1, 2, 3, 4))
    g = rng.uniform(-0.8, 0.8, (1, 2, 3, 2))
    g = np.where(np.abs(np.modf((g + 1) * 2)[0] - 0.5) > 0.45, g + 0.07, g)  # off the centres
    xs = [Tensor(x, requires_grad=True), Tensor(g, requires_grad=True)]

    def f(a, b):
        return F.grid_sample(a, b, mode=mode, padding_mode=padding, align_corners=False)
    assert tg.gradcheck(f, xs)
    assert tg.gradgradcheck(f, xs)


# ---- affine_grid ---------------------------------------------------------------------------

AFFINE_SIZES = [(2, 3, 4, 5), (2, 1, 1, 6), (2, 3, 2, 3, 4)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("align", [True, False])
@pytest.mark.parametrize("size", AFFINE_SIZES)
def test_affine_grid_matches_torch(torch, size, align, dtype):
    k = len(size) - 2
    theta = np.random.default_rng(12).standard_normal((size[0], k, k + 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the unit-size warning, checked below
        torch_parity(torch, lambda t: F.affine_grid(t, size, align_corners=align),
                     lambda t: torch.nn.functional.affine_grid(t, size, align_corners=align),
                     [theta], dtype, RTOL[dtype])


def test_affine_grid_then_grid_sample_matches_torch(torch):
    """theta's gradient through the sampler: the spatial transformer's path."""
    x = np.random.default_rng(13).standard_normal((3, 2, 6, 7))
    theta = np.eye(2, 3) + 0.3 * np.random.default_rng(14).standard_normal((3, 2, 3))

    def ours(a, t):
        return F.grid_sample(a, F.affine_grid(t, (3, 2, 5, 4), align_corners=False),
                             padding_mode="reflection", align_corners=False)

    def theirs(a, t):
        fn = torch.nn.functional
        return fn.grid_sample(a, fn.affine_grid(t, (3, 2, 5, 4), align_corners=False),
                              padding_mode="reflection", align_corners=False)
    for dtype in DTYPES:
        torch_parity(torch, ours, theirs, [x, theta], dtype, RTOL[dtype])


def test_spatial_transformer_trains_as_torch(torch):
    """Localisation net -> affine_grid -> grid_sample -> classifier, two SGD steps, against the
    same network in torch: every parameter equal after each step."""
    rng = np.random.default_rng(15)
    x = rng.standard_normal((4, 1, 8, 8))
    y = np.array([0, 2, 1, 2])

    loc, head = nn.Linear(64, 6), nn.Linear(64, 3)
    loc.weight.data[...] = 0.05 * rng.standard_normal((6, 64))
    loc.bias.data[...] = np.array([1.0, 0.1, 0.0, -0.1, 1.0, 0.0])  # near the identity
    tloc, thead = torch.nn.Linear(64, 6).double(), torch.nn.Linear(64, 3).double()
    with torch.no_grad():
        for t, m in [(tloc, loc), (thead, head)]:
            t.weight.copy_(torch.tensor(np.asarray(m.weight.data, np.float64)))
            t.bias.copy_(torch.tensor(np.asarray(m.bias.data, np.float64)))
    for m in (loc, head):
        for p in m.parameters():
            p.data = np.asarray(p.data, np.float64)
    params = list(loc.parameters()) + list(head.parameters())
    tparams = list(tloc.parameters()) + list(thead.parameters())
    opt, topt = optim.SGD(params, lr=0.5), torch.optim.SGD(tparams, lr=0.5)
    fn = torch.nn.functional

    start = np.array(params[0].data)
    for _ in range(2):
        xt = Tensor(x)
        theta = loc(xt.reshape(4, 64)).reshape(4, 2, 3)
        z = F.grid_sample(xt, F.affine_grid(theta, (4, 1, 8, 8), align_corners=False),
                          align_corners=False)
        loss = F.cross_entropy(head(z.reshape(4, 64)), Tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()

        tx = torch.tensor(x)
        ttheta = tloc(tx.reshape(4, 64)).reshape(4, 2, 3)
        tz = fn.grid_sample(tx, fn.affine_grid(ttheta, (4, 1, 8, 8), align_corners=False),
                            align_corners=False)
        tloss = fn.cross_entropy(thead(tz.reshape(4, 64)), torch.tensor(y))
        topt.zero_grad()
        tloss.backward()
        topt.step()
        assert abs(loss.item() - tloss.item()) < 1e-12
        for p, tp in zip(params, tparams):
            np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert np.abs(params[0].data - start).max() > 1e-4  # the localisation net did learn


# ---- warnings and errors ---------------------------------------------------------------------

def test_align_corners_none_warns_and_means_false(torch):
    x, g = Tensor(np.ones((1, 1, 2, 2))), Tensor(np.full((1, 1, 1, 2), 0.5))
    with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior"):
        out = F.grid_sample(x, g)
    np.testing.assert_array_equal(out.data, F.grid_sample(x, g, align_corners=False).data)
    theta = Tensor(np.eye(2, 3)[None])
    with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior"):
        grid = F.affine_grid(theta, (1, 1, 2, 3))
    np.testing.assert_array_equal(grid.data,
                                  F.affine_grid(theta, (1, 1, 2, 3), align_corners=False).data)
    with pytest.warns(UserWarning, match="unit-size grids when align_corners=True"):
        F.affine_grid(theta, (1, 1, 1, 3), align_corners=True)


GRID_ERRORS = [
    (dict(mode="linear"), ValueError, "expected mode to be 'bilinear', 'nearest' or 'bicubic'"),
    (dict(padding_mode="reflect"), ValueError, "expected padding_mode to be 'zeros', 'border'"),
    (dict(align_corners="no"), TypeError, "argument 'align_corners' must be bool"),
    (dict(grid=np.zeros((2, 3, 3, 2), np.float32)), TypeError, "to have same dtype"),
    (dict(grid=np.zeros((2, 3, 2))), ValueError, "expected 4D or 5D input and grid with same"),
    (dict(grid=np.zeros((3, 3, 3, 2))), ValueError, "to have same batch size"),
    (dict(grid=np.zeros((2, 3, 3, 3))), ValueError, "to have size 2 in last dimension"),
    (dict(input=np.zeros((2, 1, 0, 4))), ValueError, "non-empty spatial dimensions"),
    (dict(input=np.zeros((2, 1, 2, 3, 4)), grid=np.zeros((2, 1, 1, 1, 3)), mode="bicubic"),
     ValueError, "bicubic interpolation only supports 4D input"),
]


@pytest.mark.parametrize("kw,err,match", GRID_ERRORS)
def test_grid_sample_errors(torch, kw, err, match):
    args = dict(input=np.zeros((2, 1, 3, 4)), grid=np.zeros((2, 3, 3, 2)), mode="bilinear",
                padding_mode="zeros", align_corners=False)
    args.update(kw)
    with pytest.raises(err, match=match):
        F.grid_sample(Tensor(args.pop("input")), Tensor(args.pop("grid")), **args)


AFFINE_ERRORS = [
    (np.zeros((1, 2, 3), np.int64), (1, 1, 2, 2), ValueError, "floating point type"),
    (np.zeros((1, 3, 4)), (1, 1, 2, 2), ValueError, "shape Nx2x3"),
    (np.zeros((1, 2, 3)), (1, 1, 2, 2, 2), ValueError, "shape Nx3x4"),
    (np.zeros((1, 2, 3)), (1, 2, 2), NotImplementedError, "only supports 4D and 5D sizes"),
    (np.zeros((1, 2, 3)), (1, 1, 0, 2), ValueError, "non-zero, positive output size"),
    (np.zeros((2, 2, 3)), (1, 1, 2, 2), ValueError, "theta holds 2 matrices"),
]


@pytest.mark.parametrize("theta,size,err,match", AFFINE_ERRORS)
def test_affine_grid_errors(torch, theta, size, err, match):
    with pytest.raises(err, match=match):
        F.affine_grid(Tensor(theta), size, align_corners=False)
