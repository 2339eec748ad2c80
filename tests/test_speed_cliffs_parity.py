"""The fast paths behind three former speed cliffs, pinned against PyTorch and NumPy.

* A gather along one axis (``x[:, idx]``: padding, interpolation, index_select) of a big array
  goes by slices when ``idx`` is a few arithmetic runs (reflect, replicate and circular padding)
  and by ``np.take`` otherwise; its scatter-add (the gradient) by slice adds, or one
  ``np.take`` per repeat rank. Both must give what fancy indexing and ``np.add.at`` give, bit for
  bit while no place is read more than 8 times.
* F.pad's other modes, F.interpolate's linear and cubic modes and adaptive max pooling: values
  and gradients against torch in float64 (under a random upstream gradient), at sizes big enough
  for the fast paths (32768 elements and up) and small ones, second derivatives by finite
  differences, and a double backward against torch's.
"""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor
from tinygrad_norm.ops import _BIG_GATHER, _gather_axis, _runs, _scatter_axis

from conftest import torch_parity

RTOL64 = 1e-12


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ---- the one-axis gather and its scatter-add ---------------------------------------------------

def _reflect(n, lo, hi):
    pos = np.abs(np.arange(-lo, n + hi))
    return (n - 1) - np.abs((n - 1) - pos)


def _linear(n, m, align_corners):
    dst = np.arange(m, dtype=np.float64)
    src = dst * ((n - 1) / (m - 1) if m > 1 else 0.0) if align_corners else \
        np.maximum(n / m * (dst + 0.5) - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.intp), n - 1)
    return i0, i0 + (i0 < n - 1)


def _patterns(n, rng):
    i0, i1 = _linear(n, 2 * n + 1, False)
    j0, j1 = _linear(n, int(1.7 * n), True)
    return {
        "reflect": _reflect(n, n - 1, 2),
        "replicate": np.clip(np.arange(-5, n + 12), 0, n - 1),  # wider than the axis
        "circular": np.arange(-n, 2 * n) % n,  # wraps once each side
        "range": np.arange(1, n - 1),
        "flip": np.arange(n)[::-1].copy(),
        "strided": np.arange(n - 1, -1, -3),
        "negative": np.arange(-n, 0),
        "linear_i0": i0, "linear_i1": i1, "aligned_i0": j0, "aligned_i1": j1,
        "cubic": np.clip(np.floor(np.arange(2 * n) * 0.5 - 0.25).astype(np.intp) - 1, 0, n - 1),
        "few_repeats": rng.integers(0, n, 2 * n),
        "many_repeats": np.sort(rng.integers(0, 2, 3 * n)),
        "sparse": rng.permutation(n)[:3],
        "empty": np.zeros(0, np.intp),
    }


def test_runs_of_padding_and_upsampling_indices():
    # (first output, output step, count, first place, place step)
    assert _runs(_reflect(6, 2, 3)) == [(0, 1, 3, 2, -1), (3, 1, 5, 1, 1), (8, 1, 3, 4, -1)]
    assert _runs(np.clip(np.arange(-2, 8), 0, 5)) == [(0, 1, 3, 0, 0), (3, 1, 5, 1, 1),
                                                     (8, 1, 2, 5, 0)]
    assert _runs(np.arange(-2, 8) % 6) == [(0, 1, 2, 4, 1), (2, 1, 6, 0, 1), (8, 1, 2, 0, 1)]
    assert _runs(np.random.default_rng(0).integers(0, 50, 200)) is None  # random: no runs
    # linear upsampling by 2: even outputs read 0, 0, 1, 2, ..., odd ones 0, 1, 2, ...
    i0, _ = _linear(40, 80, False)
    assert _runs(i0) is None
    assert _runs(i0, (2, 3)) == [(0, 2, 2, 0, 0), (4, 2, 38, 1, 1), (1, 2, 40, 0, 1)]


@pytest.mark.parametrize("big", [False, True], ids=["small", "big"])
@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("pattern", list(_patterns(9, np.random.default_rng(0))))
def test_one_axis_gather_and_its_gradient_as_fancy_indexing_and_add_at(pattern, axis, big):
    rng = np.random.default_rng(axis)
    shape = [3, 5, 4]
    shape[axis] = 9
    if big:  # past _BIG_GATHER: the forward's own fast path too
        shape[(axis + 1) % 3] = _BIG_GATHER // 30
    shape = tuple(shape)
    idx = _patterns(9, rng)[pattern]
    index = (slice(None),) * axis + (idx,)
    a = rng.standard_normal(shape)
    expected = a[index]
    if axis:
        np.testing.assert_array_equal(_gather_axis(a, idx, axis), expected)
    x = Tensor(a, requires_grad=True)
    y = x[index]
    np.testing.assert_array_equal(y.numpy(), expected)
    g = rng.standard_normal(expected.shape)
    summed = np.zeros(shape)
    np.add.at(summed, index, g)
    y.backward(Tensor(g))
    for got in (x.grad.numpy(), _scatter_axis(g, idx, axis, shape)):
        if pattern == "many_repeats" or pattern == "replicate" and axis == 0:
            # a place read 9 times or more (off the runs, which keep add.at's order):
            # np.add.reduceat's sums
            np.testing.assert_allclose(got, summed, rtol=1e-13, atol=1e-13)
        else:  # add.at's sums, in its order
            np.testing.assert_array_equal(got, summed)


@pytest.mark.parametrize("axis", [1, 2])
@pytest.mark.parametrize("factor", [2, 3, 4])
@pytest.mark.parametrize("which", ["i0", "i1", "cubic_lo", "cubic_hi"])
def test_interleaved_runs_of_upsampling_as_fancy_indexing_and_add_at(which, factor, axis):
    # upsampling by an integer factor: one run per phase and clamped ends, on a big array
    n = 40
    i0, i1 = _linear(n, factor * n, False)
    src = (np.arange(factor * n) + 0.5) / factor - 0.5
    base = np.floor(src).astype(np.intp)
    idx = {"i0": i0, "i1": i1, "cubic_lo": np.clip(base - 1, 0, n - 1),
           "cubic_hi": np.clip(base + 2, 0, n - 1)}[which]
    shape = [4, 9, 9]
    shape[axis] = n
    shape[3 - axis] = _BIG_GATHER // (4 * n) + 1
    shape = tuple(shape)
    index = (slice(None),) * axis + (idx,)
    rng = np.random.default_rng(factor)
    a = rng.standard_normal(shape)
    np.testing.assert_array_equal(_gather_axis(a, idx, axis), a[index])
    g = rng.standard_normal(a[index].shape)
    summed = np.zeros(shape)
    np.add.at(summed, index, g)
    if np.bincount(idx).max() > 8:  # the clamped end of cubic x4: many readers, summed
        np.testing.assert_allclose(_scatter_axis(g, idx, axis, shape), summed, rtol=1e-13,
                                   atol=1e-13)
    else:  # add.at's sums, in its order
        np.testing.assert_array_equal(_scatter_axis(g, idx, axis, shape), summed)


def test_one_axis_gather_out_of_range_raises_numpys_error():
    x = Tensor(np.zeros((4, _BIG_GATHER // 4 + 1)))
    with pytest.raises(IndexError):
        x[:, np.array([0, x.shape[1]])]
    with pytest.raises(IndexError):
        x[:, np.array([-x.shape[1] - 1, 0])]


def test_flat_scatter_of_a_max_pools_winners_adds_repeats():
    # 1-D, few places of many, some read twice (overlapping windows sharing a winner)
    rng = np.random.default_rng(0)
    n = 200_000
    idx = np.concatenate([rng.permutation(n)[:5000], rng.permutation(n)[:3000]])
    g = rng.standard_normal(idx.size)
    expected = np.zeros(n)
    np.add.at(expected, idx, g)
    np.testing.assert_array_equal(_scatter_axis(g, idx, 0, (n,)), expected)


# ---- F.pad: reflect, replicate, circular -----------------------------------------------------

PADS = [
    ((2, 3, 4200), (1, 1)),  # 1-D, big
    ((2, 3, 4200), (3, -2)),
    ((2, 3, 11), (10, 10)),  # the largest reflection, odd size
    ((3, 4, 64, 67), (1, 1, 1, 1)),  # 2-D, big
    ((3, 4, 64, 67), (3, 3, 3, 3)),
    ((3, 4, 63, 65), (62, 5, -2, 4)),
    ((4, 9, 7), (6, 8, 5, 6)),  # unbatched 2-D, pads near the sizes
    ((2, 2, 9, 31, 33), (1, 1, 1, 1, 1, 1)),  # 3-D, big
    ((2, 2, 9, 31, 33), (3, 2, 0, 4, 8, 1)),
]


def _pad_ok(mode, shape, pad):
    for i in range(len(pad) // 2):
        n, lo, hi = shape[-1 - i], pad[2 * i], pad[2 * i + 1]
        if mode == "reflect" and max(lo, hi) >= n:
            return False
        if mode == "circular" and max(lo, hi) > n + min(lo, 0) + min(hi, 0):
            return False
    return True


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", PADS, ids=[f"{s}-{p}" for s, p in PADS])
def test_pad_values_and_gradients_as_torch(torch, mode, shape, pad):
    if not _pad_ok(mode, shape, pad):
        pytest.skip("pad too large for the mode")
    torch_parity(torch, lambda a: F.pad(a, pad, mode=mode),
                 lambda a: torch.nn.functional.pad(a, pad, mode=mode), [_x(shape)],
                 np.float64, RTOL64)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_float32_as_torch(torch, mode):
    torch_parity(torch, lambda a: F.pad(a, (3, 2, 1, 4), mode=mode),
                 lambda a: torch.nn.functional.pad(a, (3, 2, 1, 4), mode=mode),
                 [_x((2, 8, 40, 41))], np.float32, 1e-6)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_second_derivatives(mode):
    x = Tensor(_x((1, 2, 4, 5)), requires_grad=True)
    pad = (4, 2, 3, 1) if mode != "circular" else (4, 2, 3, 1)
    fn = lambda t: F.pad(t, pad, mode=mode) ** 2  # noqa: E731
    assert tg.gradcheck(fn, [x])
    assert tg.gradgradcheck(fn, [x])


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_double_backward_as_torch_on_a_big_input(torch, mode):
    # create_graph: the scatter's own gradient is the gather again, both on the fast paths
    a, w, v = _x((2, 4, 64, 70), 0), _x((2, 4, 68, 73), 1), _x((2, 4, 64, 70), 2)
    pad = (2, 1, 3, 1)
    x = Tensor(a, requires_grad=True)
    (gx,) = tg.grad((F.pad(x, pad, mode=mode) ** 2 * Tensor(w)).sum(), x, create_graph=True)
    (gx * Tensor(v)).sum().backward()
    t = torch.tensor(a, requires_grad=True)
    (tgx,) = torch.autograd.grad((torch.nn.functional.pad(t, pad, mode=mode) ** 2
                                  * torch.tensor(w)).sum(), t, create_graph=True)
    (tgx * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(gx.numpy(), tgx.detach().numpy(), rtol=RTOL64, atol=RTOL64)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=RTOL64, atol=RTOL64)


# ---- F.interpolate: linear, bilinear, bicubic, trilinear -------------------------------------

INTERP = [
    ("linear", (3, 4, 2900), {"scale_factor": 2}),
    ("linear", (3, 4, 2900), {"scale_factor": 1.7}),
    ("linear", (2, 3, 13), {"size": 40}),
    ("bilinear", (2, 8, 32, 33), {"scale_factor": 2}),
    ("bilinear", (2, 8, 32, 33), {"scale_factor": 1.7}),
    ("bilinear", (2, 8, 45, 47), {"scale_factor": 0.6}),
    ("bilinear", (2, 3, 7, 9), {"size": (37, 29)}),
    ("bicubic", (2, 8, 32, 33), {"scale_factor": 2}),
    ("bicubic", (2, 8, 32, 33), {"scale_factor": 1.3}),
    ("bicubic", (1, 2, 6, 5), {"size": (11, 14)}),
    ("trilinear", (2, 4, 9, 30, 31), {"scale_factor": 2}),
    ("trilinear", (1, 2, 5, 6, 7), {"size": (9, 4, 13)}),
]


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode,shape,kw", INTERP, ids=[f"{m}-{s}-{k}" for m, s, k in INTERP])
def test_interpolate_values_and_gradients_as_torch(torch, mode, shape, kw, align_corners):
    torch_parity(torch,
                 lambda a: F.interpolate(a, mode=mode, align_corners=align_corners, **kw),
                 lambda a: torch.nn.functional.interpolate(a, mode=mode,
                                                           align_corners=align_corners, **kw),
                 [_x(shape)], np.float64, RTOL64)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_interpolate_float32_as_torch(torch, mode, align_corners):
    torch_parity(torch, lambda a: F.interpolate(a, scale_factor=2, mode=mode,
                                                align_corners=align_corners),
                 lambda a: torch.nn.functional.interpolate(a, scale_factor=2, mode=mode,
                                                           align_corners=align_corners),
                 [_x((4, 8, 32, 32))], np.float32, 1e-5)


@pytest.mark.parametrize("mode,shape,size", [("linear", (1, 2, 5), 9),
                                             ("bilinear", (1, 2, 4, 5), (7, 3)),
                                             ("bicubic", (1, 1, 4, 5), (6, 7)),
                                             ("trilinear", (1, 1, 3, 4, 3), (5, 3, 4))])
@pytest.mark.parametrize("align_corners", [False, True])
def test_interpolate_second_derivatives(mode, shape, size, align_corners):
    x = Tensor(_x(shape), requires_grad=True)
    fn = lambda t: F.interpolate(t, size=size, mode=mode, align_corners=align_corners) ** 2  # noqa
    assert tg.gradcheck(fn, [x])
    assert tg.gradgradcheck(fn, [x])


# ---- adaptive max pooling --------------------------------------------------------------------

def _ties(shape, seed=0):
    # few distinct values: ties in every window, the first maximum in the scan must win
    rng = np.random.default_rng(seed)
    return rng.integers(-3, 4, shape) + (rng.random(shape) < 0.2) * 0.5


AMAX_2D = [((4, 8, 56, 56), 7), ((4, 8, 56, 56), 5), ((4, 8, 56, 56), 1),
           ((4, 8, 55, 57), (7, 6)), ((2, 3, 9, 11), (13, 4)), ((3, 13, 10), (4, 10)),
           ((2, 3, 40, 40), (40, 3))]
AMAX_1D = [((4, 8, 1024), 8), ((4, 8, 1025), 5), ((4, 8, 1000), 1), ((3, 10), 7), ((2, 3, 7), 7)]


def _amax_parity(torch, ours, theirs, a, size):
    x, t = Tensor(a.copy(), requires_grad=True), torch.tensor(a.copy(), requires_grad=True)
    out, idx = ours(x, size, return_indices=True)
    ref, tidx = theirs(t, size, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    assert idx.dtype == np.int64
    g = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(Tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=RTOL64, atol=RTOL64)


@pytest.mark.parametrize("data", ["ties", "distinct", "nan", "-inf"])
@pytest.mark.parametrize("shape,size", AMAX_2D, ids=[f"{s}-{o}" for s, o in AMAX_2D])
def test_adaptive_max_pool2d_as_torch(torch, shape, size, data):
    a = _ties(shape) if data == "ties" else _x(shape)
    rng = np.random.default_rng(5)
    if data == "nan":  # a NaN wins its window; of several, the last in the scan
        a[rng.random(shape) < 0.02] = np.nan
    if data == "-inf":  # windows of -inf alone keep their first element
        a[rng.random(shape) < 0.9] = -np.inf
    _amax_parity(torch, F.adaptive_max_pool2d, torch.nn.functional.adaptive_max_pool2d, a, size)


@pytest.mark.parametrize("data", ["ties", "nan"])
@pytest.mark.parametrize("shape,size", AMAX_1D, ids=[f"{s}-{o}" for s, o in AMAX_1D])
def test_adaptive_max_pool1d_as_torch(torch, shape, size, data):
    a = _ties(shape, 2)
    if data == "nan":
        a[np.random.default_rng(6).random(shape) < 0.01] = np.nan
    _amax_parity(torch, F.adaptive_max_pool1d, torch.nn.functional.adaptive_max_pool1d, a, size)


def test_adaptive_max_pool_float32_as_torch(torch):
    a = _ties((4, 16, 28, 28), 3).astype(np.float32)
    torch_parity(torch, lambda t: F.adaptive_max_pool2d(t, 5),
                 lambda t: torch.nn.functional.adaptive_max_pool2d(t, 5), [a], np.float32, 1e-6)


@pytest.mark.parametrize("size", [(2, 3), 1, (5, 4)])
def test_adaptive_max_pool_second_derivatives(size):
    x = Tensor(_x((1, 2, 4, 5)), requires_grad=True)  # distinct values: no ties
    assert tg.gradcheck(lambda t: F.adaptive_max_pool2d(t, size), [x])
    assert tg.gradgradcheck(lambda t: F.adaptive_max_pool2d(t, size), [x])
