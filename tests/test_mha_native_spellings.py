"""F.conv_tbc / tg.conv_tbc, F.native_channel_shuffle and tg.embedding_bag (torch's 4-tuple)
against torch 2.13: values, gradients under a random upstream gradient (float64 1e-10, float32),
the index outputs exactly, errors; gradcheck."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor

from conftest import assert_scaled_close  # noqa: E402

RTOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 2e-5}


def _close(actual, expected, what):
    assert_scaled_close(actual, expected, RTOL[np.asarray(actual).dtype], what)


@pytest.mark.parametrize("fn", [F.conv_tbc, tg.conv_tbc])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shapes,pad", [(((7, 2, 3), (3, 3, 5)), 0), (((7, 2, 3), (3, 3, 5)), 2),
                                        (((4, 1, 2), (1, 2, 3)), 1), (((5, 3, 2), (5, 2, 1)), 0)])
def test_conv_tbc_matches_torch(torch, fn, dtype, shapes, pad):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(dtype) for s in (*shapes, (shapes[1][2],))]
    mine = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    want = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = fn(*mine, pad), torch.conv_tbc(*want, pad)
    _close(out.data, tout.detach().numpy(), "output")
    g = rng.standard_normal(out.shape).astype(dtype)
    out.backward(Tensor(g))
    tout.backward(torch.from_numpy(g))
    for name, a, b in zip(("input", "weight", "bias"), mine, want):
        _close(a.grad.data, b.grad.numpy(), f"gradient of {name}")


def test_conv_tbc_gradcheck():
    rng = np.random.default_rng(1)
    t = [Tensor(rng.standard_normal(s), requires_grad=True) for s in ((5, 2, 3), (2, 3, 2), (2,))]
    assert tg.gradcheck(lambda x, w, b: F.conv_tbc(x, w, b, 1), t)
    assert tg.gradgradcheck(lambda x, w, b: F.conv_tbc(x, w, b, 1), t)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: F.conv_tbc(Tensor(np.zeros((2, 3))), Tensor(np.zeros((1, 3, 2))),
                        Tensor(np.zeros(2))), ValueError, "Input must have 3 dims"),
    (lambda: F.conv_tbc(Tensor(np.zeros((2, 1, 3))), Tensor(np.zeros((1, 4, 2))),
                        Tensor(np.zeros(2))), ValueError,
     "Input dim 2 (input channels) is not == dim 1 in the weight tensor"),
    (lambda: F.conv_tbc(Tensor(np.zeros((2, 1, 3))), Tensor(np.zeros((1, 3, 2))),
                        Tensor(np.zeros(3))), ValueError,
     "Bias size must equal dim 2 in the weight tensor (output channels)"),
    (lambda: F.conv_tbc(Tensor(np.zeros((2, 1, 3))), Tensor(np.zeros((1, 3, 2))), None),
     TypeError, "argument 'bias' must be Tensor"),
    (lambda: F.conv_tbc(Tensor(np.zeros((2, 1, 3))), Tensor(np.zeros((1, 3, 2))),
                        Tensor(np.zeros(2)), 1.5), TypeError, "argument 'pad' must be int"),
])
def test_conv_tbc_errors(call, exc, match):
    with pytest.raises(exc) as e:
        call()
    assert match in str(e.value)


def test_native_channel_shuffle_as_torch(torch):
    x = np.random.default_rng(0).standard_normal((2, 6, 3))
    xt, xm = torch.tensor(x, requires_grad=True), Tensor(x.copy(), requires_grad=True)
    out, tout = F.native_channel_shuffle(xm, 3), torch.native_channel_shuffle(xt.detach(), 3)
    np.testing.assert_array_equal(out.data, tout.numpy())
    # torch 2.13 has no derivative for its native kernel; ours is channel_shuffle's
    tout = torch.nn.functional.channel_shuffle(xt, 3)
    g = np.random.default_rng(1).standard_normal(x.shape)
    out.backward(Tensor(g))
    tout.backward(torch.from_numpy(g))
    np.testing.assert_array_equal(xm.grad.data, xt.grad.numpy())
    with pytest.raises(ValueError, match="Number of channels must be divisible by groups. Got 6 "
                                         "channels and 4 groups."):
        F.native_channel_shuffle(xm, 4)


IDX = np.array([1, 2, 4, 5, 4, 3, 2, 9])
OFF = np.array([0, 4, 4, 6])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("padding_idx", [None, 2, -8])
@pytest.mark.parametrize("mode", [0, 1, 2])
def test_embedding_bag_4_tuple_as_torch(torch, mode, padding_idx, dtype):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((10, 3)).astype(dtype)
    wm, wt = Tensor(w.copy(), requires_grad=True), torch.tensor(w, requires_grad=True)
    ours = tg.embedding_bag(wm, Tensor(IDX), Tensor(OFF), False, mode, False, None, False,
                            padding_idx)
    theirs = torch.embedding_bag(wt, torch.from_numpy(IDX), torch.from_numpy(OFF), False, mode,
                                 False, None, False, padding_idx)
    assert len(ours) == len(theirs) == 4
    _close(ours[0].data, theirs[0].detach().numpy(), "output")
    for i in (1, 2, 3):
        np.testing.assert_array_equal(ours[i].data, theirs[i].numpy(), err_msg=f"output {i}")
        assert ours[i].dtype == np.int64
    g = rng.standard_normal(ours[0].shape).astype(dtype)
    ours[0].backward(Tensor(g))
    theirs[0].backward(torch.from_numpy(g))
    _close(wm.grad.data, wt.grad.numpy(), "weight gradient")


def test_embedding_bag_per_sample_weights_as_torch(torch):
    rng = np.random.default_rng(1)
    w, psw = rng.standard_normal((10, 3)), rng.random(8)
    mine = [Tensor(w.copy(), requires_grad=True), Tensor(psw.copy(), requires_grad=True)]
    want = [torch.tensor(w, requires_grad=True), torch.tensor(psw, requires_grad=True)]
    out = tg.embedding_bag(mine[0], Tensor(IDX), Tensor(OFF), False, 0, False, mine[1])
    tout = torch.embedding_bag(want[0], torch.from_numpy(IDX), torch.from_numpy(OFF), False, 0,
                               False, want[1])
    _close(out[0].data, tout[0].detach().numpy(), "output")
    np.testing.assert_array_equal(out[1].data, tout[1].numpy())
    g = rng.standard_normal(out[0].shape)
    out[0].backward(Tensor(g))
    tout[0].backward(torch.from_numpy(g))
    for a, b in zip(mine, want):
        _close(a.grad.data, b.grad.numpy(), "gradient")


def test_embedding_bag_errors():
    w = Tensor(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="mode must be 0 .sum., 1 .mean. or 2 .max."):
        tg.embedding_bag(w, Tensor(IDX), Tensor(OFF), False, "sum")
    with pytest.raises(ValueError, match="indices must be 1-D"):
        tg.embedding_bag(w, Tensor(IDX.reshape(2, 4)), Tensor(OFF))
