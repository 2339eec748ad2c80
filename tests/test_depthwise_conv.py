"""Depthwise convolution (groups == in_channels) and its three primitives: parity with PyTorch
(forward and backward under a random upstream gradient, float64 1e-10 and float32), finite
differences of first and second order, the route conv2d takes, and the edge cases of the wide
layout the primitives use (stride phases, wrapped columns, non-finite inputs)."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn, ops
from tinygrad_norm.tensor import apply

from test_activation_losses import DTYPES, parity

# (batch, channels, H, W, multiplier, kernel, stride, dilation, padding)
CASES = [
    (8, 4, 9, 8, 1, 3, 1, 1, 1),
    (1, 3, 11, 7, 1, 3, 2, 1, 1),
    (2, 3, 12, 13, 1, 5, 1, 2, 4),
    (2, 2, 15, 9, 1, 7, 1, 1, 3),
    (8, 3, 9, 10, 2, 3, 2, 2, 2),
    (1, 2, 10, 11, 2, 5, 2, 1, (2, 0)),
    (2, 5, 7, 9, 1, 3, (2, 1), (1, 2), 0),
    (1, 3, 8, 8, 1, 7, 1, 1, "same"),
]
IDS = ["k3", "k3-s2-odd", "k5-d2", "k7-p3", "m2-s2-d2", "m2-k5-s2", "mixed", "k7-same"]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_depthwise_conv2d_matches_torch(torch, case, dtype):
    n, c, h, w, m, k, s, d, p = case
    rng = np.random.default_rng(sum(case[:6]))
    arrays = [rng.standard_normal((n, c, h, w)), rng.standard_normal((c * m, 1, k, k)),
              rng.standard_normal(c * m)]
    kw = dict(stride=s, padding=p, dilation=d, groups=c)
    parity(torch, lambda x, wt, b: F.conv2d(x, wt, b, **kw),
           lambda x, wt, b: torch.nn.functional.conv2d(x, wt, b, **kw), arrays, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_depthwise_conv2d_layer_padding_modes_match_torch(torch, mode, dtype):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 6, 9, 7)).astype(dtype)
    ours = nn.Conv2d(6, 6, 3, stride=2, padding=2, dilation=2, groups=6, padding_mode=mode)
    theirs = torch.nn.Conv2d(6, 6, 3, stride=2, padding=2, dilation=2, groups=6,
                             padding_mode=mode).to(torch.float64 if dtype == np.float64
                                                   else torch.float32)
    ours.weight = nn.Parameter(Tensor(theirs.weight.detach().numpy().copy()))
    ours.bias = nn.Parameter(Tensor(theirs.bias.detach().numpy().copy()))
    parity(torch, lambda t: ours(t), lambda t: theirs(t), [x], dtype)
    ours.zero_grad()  # (parity's backward reached them too)
    out = ours(Tensor(x))
    g = np.random.default_rng(0).standard_normal(out.shape).astype(dtype)
    out.backward(g)
    theirs(torch.tensor(x)).backward(torch.tensor(g))
    rtol = 1e-10 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=rtol,
                               atol=rtol * 10)
    np.testing.assert_allclose(ours.bias.grad.numpy(), theirs.bias.grad.numpy(), rtol=rtol,
                               atol=rtol * 10)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_depthwise_conv1d_and_unbatched_match_torch(torch, dtype):
    rng = np.random.default_rng(6)
    parity(torch, lambda x, wt: F.conv1d(x, wt, stride=2, padding=3, groups=5),
           lambda x, wt: torch.nn.functional.conv1d(x, wt, stride=2, padding=3, groups=5),
           [rng.standard_normal((4, 5, 17)), rng.standard_normal((5, 1, 7))], dtype)
    parity(torch, lambda x, wt: F.conv2d(x, wt, padding=1, groups=4),
           lambda x, wt: torch.nn.functional.conv2d(x, wt, padding=1, groups=4),
           [rng.standard_normal((4, 6, 5)), rng.standard_normal((4, 1, 3, 3))], dtype)


def test_depthwise_conv2d_empty_batch(torch):
    x = Tensor(np.zeros((0, 3, 6, 6)), requires_grad=True)
    w = Tensor(np.ones((3, 1, 3, 3)), requires_grad=True)
    out = F.conv2d(x, w, stride=2, padding=1, groups=3)
    ref = torch.nn.functional.conv2d(torch.zeros(0, 3, 6, 6, dtype=torch.float64),
                                     torch.ones(3, 1, 3, 3, dtype=torch.float64), stride=2,
                                     padding=1, groups=3)
    assert out.shape == tuple(ref.shape)
    out.backward(np.zeros(out.shape))
    assert x.grad.shape == x.shape and w.grad.shape == w.shape
    assert not w.grad.numpy().any()


def test_depthwise_conv2d_second_derivatives_match_torch(torch):
    """create_graph: the input gradient differentiated again in the weight, the upstream gradient
    and the input (each primitive's VJP is the other two)."""
    rng = np.random.default_rng(7)
    x0, w0 = rng.standard_normal((2, 3, 8, 7)), rng.standard_normal((3, 1, 3, 3))
    g0, v0 = rng.standard_normal((2, 3, 4, 4)), rng.standard_normal((2, 3, 8, 7))
    kw = dict(stride=2, padding=(1, 2), dilation=(1, 2), groups=3)

    def run(mod, tensor, grad):
        x, w, g = (tensor(a) for a in (x0, w0, g0))
        out = mod.conv2d(x, w, **kw)
        gx, gw = grad(out, [x, w], g)
        return grad((gx * tensor(v0)).sum() + (gw * gw).sum(), [x, w, g], None)

    ours = run(F, lambda a: Tensor(a, requires_grad=True),
               lambda o, i, g: tg.grad(o, i, grad_outputs=g, create_graph=True))
    theirs = run(torch.nn.functional, lambda a: torch.tensor(a, requires_grad=True),
                 lambda o, i, g: torch.autograd.grad(o, i, g, create_graph=True))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("kw", [dict(padding=1), dict(stride=2, padding=(2, 1), dilation=2),
                                dict(stride=(1, 2), padding=0)], ids=["p1", "s2-d2", "s12"])
def test_depthwise_conv2d_gradcheck_and_gradgradcheck(kw):
    rng = np.random.default_rng(8)
    xs = [Tensor(rng.standard_normal((2, 3, 6, 7)), requires_grad=True),
          Tensor(rng.standard_normal((3, 1, 3, 3)), requires_grad=True),
          Tensor(rng.standard_normal(3), requires_grad=True)]
    fn = lambda x, w, b: F.conv2d(x, w, b, groups=3, **kw)  # noqa: E731
    assert tg.gradcheck(fn, xs)
    assert tg.gradgradcheck(fn, xs)


def test_depthwise_conv2d_takes_the_depthwise_primitive():
    """groups == channels == outputs records depthwise_conv2d, not the window copy."""
    x = Tensor(np.ones((1, 4, 5, 5)), requires_grad=True)
    out = F.conv2d(x, Tensor(np.ones((4, 1, 3, 3))), Tensor(np.ones(4)), groups=4)
    names, stack = [], [out.grad_fn]
    while stack:
        node = stack.pop()
        names.append(node.name)
        stack.extend(i.grad_fn for i in node.inputs if isinstance(i, Tensor) and i.grad_fn)
    assert "depthwise_conv2d" in names and "im2col" not in names


# ---- the primitives ---------------------------------------------------------------------------

GEOMETRIES = [
    dict(stride=(1, 1), padding=((1, 1), (1, 1)), dilation=(1, 1)),
    dict(stride=(2, 2), padding=((1, 0), (0, 2)), dilation=(1, 1)),
    dict(stride=(3, 2), padding=((2, 2), (1, 1)), dilation=(2, 3)),
    dict(stride=(1, 2), padding=((0, 0), (0, 0)), dilation=(2, 1)),
]


@pytest.mark.parametrize("m", [1, 2, 3])
@pytest.mark.parametrize("geo", GEOMETRIES, ids=["p1", "s2-uneven", "s32-d23", "valid"])
def test_the_input_and_weight_ops_are_the_adjoints(geo, m):
    """<conv(x, w), g> == <x, input(g, w)> == <w, weight(x, g)>: what makes them its VJP."""
    rng = np.random.default_rng(9)
    x, w = rng.standard_normal((2, 3, 11, 10)), rng.standard_normal((3 * m, 3, 2))
    out = ops.DepthwiseConv2d.forward(x, w, **geo)
    g = rng.standard_normal(out.shape)
    gx = ops.DepthwiseConv2dInput.forward(g, w, size=x.shape[1:], **geo)
    gw = ops.DepthwiseConv2dWeight.forward(x, g, kernel=(3, 2), **geo)
    assert gx.shape == x.shape and gw.shape == w.shape
    np.testing.assert_allclose(np.vdot(out, g), np.vdot(x, gx), rtol=1e-12)
    np.testing.assert_allclose(np.vdot(out, g), np.vdot(w, gw), rtol=1e-12)


@pytest.mark.parametrize("m", [1, 2])
def test_the_primitive_matches_torch_for_any_multiplier(torch, m):
    rng = np.random.default_rng(10)
    x, w = rng.standard_normal((3, 4, 9, 8)), rng.standard_normal((4 * m, 3, 3))
    geo = dict(stride=(2, 1), padding=((1, 2), (0, 1)), dilation=(1, 2))
    tx = torch.nn.functional.pad(torch.tensor(x), (0, 1, 1, 2))
    ref = torch.nn.functional.conv2d(tx, torch.tensor(w[:, None]), stride=(2, 1),
                                     dilation=(1, 2), groups=4).numpy()
    np.testing.assert_allclose(ops.DepthwiseConv2d.forward(x, w, **geo), ref, rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("bad,kw", [(np.inf, {}), (np.nan, dict(stride=2, dilation=(1, 2))),
                                    (-np.inf, dict(stride=(2, 1), padding=(0, 1)))],
                         ids=["inf", "nan-s2-d2", "ninf-s21"])
def test_weight_gradient_with_non_finite_input_matches_torch(torch, bad, kw):
    """An inf the wide layout's wrapped columns would multiply by a zero (NaN) where no window
    reads it: the weight gradient takes the row-by-row path and stays torch's."""
    rng = np.random.default_rng(11)
    x, w = rng.standard_normal((1, 2, 7, 8)), rng.standard_normal((2, 1, 3, 3))
    x[0, 0, 2, 0] = bad  # column 0: taps k = 1, 2 never read it without padding
    xt, wt = Tensor(x), Tensor(w, requires_grad=True)
    out = F.conv2d(xt, wt, groups=2, **kw)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    twt = torch.tensor(w, requires_grad=True)
    torch.nn.functional.conv2d(torch.tensor(x), twt, groups=2, **kw).backward(torch.tensor(g))
    np.testing.assert_array_equal(np.isnan(wt.grad.numpy()), np.isnan(twt.grad.numpy()))
    np.testing.assert_array_equal(np.isinf(wt.grad.numpy()), np.isinf(twt.grad.numpy()))
    finite = np.isfinite(twt.grad.numpy())
    np.testing.assert_allclose(wt.grad.numpy()[finite], twt.grad.numpy()[finite], rtol=1e-10)


def test_float16_is_computed_in_float32_and_rounded_once():
    rng = np.random.default_rng(12)
    x, w = rng.standard_normal((2, 3, 7, 7)), rng.standard_normal((3, 1, 3, 3))
    geo = dict(stride=(1, 1), padding=((1, 1), (1, 1)), dilation=(1, 1))
    half = apply(ops.DepthwiseConv2d, Tensor(x.astype(np.float16)),
                 Tensor(w[:, 0].astype(np.float16)), **geo)
    exact = ops.DepthwiseConv2d.forward(x.astype(np.float16).astype(np.float32),
                                        w[:, 0].astype(np.float16).astype(np.float32), **geo)
    assert half.dtype == np.float16
    np.testing.assert_array_equal(half.numpy(), exact.astype(np.float16))
