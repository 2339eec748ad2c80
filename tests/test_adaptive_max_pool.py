"""F.adaptive_max_pool1d/2d and nn.AdaptiveMaxPool1d/2d against torch: values, int64 indices
(ties: the first maximum; NaN: the last NaN; all -inf: the window's first element), gradients
under a random upstream gradient (overlapping windows that share a winner add up), float64 and
float32, second derivatives (zeros, as torch's), reprs and errors."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn

SIZES_2D = [((2, 3, 7, 5), 3), ((2, 3, 7, 5), (2, 4)), ((2, 3, 7, 5), (None, 3)),
            ((3, 7, 5), (4, None)), ((1, 2, 4, 6), (4, 6)), ((1, 2, 4, 6), 1),
            ((1, 2, 3, 3), (7, 8)), ((2, 1, 9, 10), (4, 3)), ((0, 2, 5, 5), 2),
            ((1, 2, 5, 5), 0), ((1, 1, 1, 1), 3)]
SIZES_1D = [((2, 3, 7), 3), ((3, 7), 4), ((2, 3, 8), (4,)), ((2, 3, 5), 5), ((2, 3, 3), 7),
            ((1, 2, 10), 1), ((1, 2, 4), 0)]


def _data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    # few distinct values: ties in every window, the first maximum must win
    return rng.integers(-3, 4, shape).astype(dtype) + (rng.random(shape) < 0.2) * 0.5


def _parity(torch, ours, theirs, a, output_size):
    x, t = Tensor(a.copy(), requires_grad=True), torch.tensor(a.copy(), requires_grad=True)
    out, idx = ours(x, output_size, True)
    ref, tidx = theirs(t, output_size, True)
    assert out.dtype == a.dtype and idx.dtype == np.int64
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    g = np.random.default_rng(1).standard_normal(out.shape).astype(a.dtype)
    out.backward(Tensor(g))
    assert x.grad.dtype == a.dtype
    if out.size == 0 and a.size:  # torch's backward refuses an empty output; ours is zeros
        assert not x.grad.numpy().any()
    else:
        ref.backward(torch.tensor(g))
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-6)
    # without indices: the same output
    np.testing.assert_array_equal(ours(Tensor(a), output_size).numpy(), ref.detach().numpy())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,output_size", SIZES_2D, ids=[str(s) for s in SIZES_2D])
def test_adaptive_max_pool2d_as_torch(torch, shape, output_size, dtype):
    _parity(torch, F.adaptive_max_pool2d, torch.nn.functional.adaptive_max_pool2d,
            _data(shape, dtype), output_size)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,output_size", SIZES_1D, ids=[str(s) for s in SIZES_1D])
def test_adaptive_max_pool1d_as_torch(torch, shape, output_size, dtype):
    _parity(torch, F.adaptive_max_pool1d, torch.nn.functional.adaptive_max_pool1d,
            _data(shape, dtype), output_size)


@pytest.mark.parametrize("fill", [np.nan, -np.inf, np.inf])
def test_nan_and_infinities_as_torch(torch, fill):
    a = _data((2, 2, 7, 6), np.float64, seed=3)
    mask = np.random.default_rng(4).random(a.shape) < 0.3
    a[mask] = fill
    _parity(torch, F.adaptive_max_pool2d, torch.nn.functional.adaptive_max_pool2d, a, (3, 4))
    a = np.full((1, 1, 3, 3), -np.inf)  # every window -inf: its first element, as torch's
    _parity(torch, F.adaptive_max_pool2d, torch.nn.functional.adaptive_max_pool2d, a, 2)


def test_gradients_of_all_orders():
    a = np.random.default_rng(0).standard_normal((1, 2, 5, 4))  # distinct: no ties
    x = Tensor(a, requires_grad=True)
    assert tg.gradcheck(lambda t: F.adaptive_max_pool2d(t, (3, 3)), [x])
    assert tg.gradgradcheck(lambda t: F.adaptive_max_pool2d(t, (3, 3)), [x])
    y = Tensor(a[0], requires_grad=True)
    assert tg.gradcheck(lambda t: F.adaptive_max_pool1d(t, 3), [y])


@pytest.mark.parametrize("name,args", [("AdaptiveMaxPool2d", (2,)), ("AdaptiveMaxPool2d", ((2, None),)),
                                       ("AdaptiveMaxPool2d", ((3, 2), True)),
                                       ("AdaptiveMaxPool1d", (3,)), ("AdaptiveMaxPool1d", ((3,), True))])
def test_layers_as_torch(torch, name, args):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []
    a = _data((2, 3, 6, 5) if "2d" in name else (2, 3, 7), np.float32)
    out, ref = ours(Tensor(a)), theirs(torch.tensor(a))
    if isinstance(ref, tuple):
        np.testing.assert_array_equal(out[1].numpy(), ref[1].numpy())
        out, ref = out[0], ref[0]
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


ERRORS = [
    (lambda f, x: f.adaptive_max_pool2d(x[0, 0], 2), ValueError, "3D or 4D"),
    (lambda f, x: f.adaptive_max_pool2d(x[:, :, :0], 2), ValueError, "non-zero size"),
    (lambda f, x: f.adaptive_max_pool2d(x, (2, 3, 4)), ValueError, "should contain two"),
    (lambda f, x: f.adaptive_max_pool2d(x, -1), ValueError, "non-negative"),
    (lambda f, x: f.adaptive_max_pool2d(x, 2.5), TypeError, "output_size"),
    (lambda f, x: f.adaptive_max_pool1d(x[0], 2)[0], None, None),  # 3-D is fine
    (lambda f, x: f.adaptive_max_pool1d(x, 2), ValueError, "2D or 3D"),
    (lambda f, x: f.adaptive_max_pool1d(x[0], (2, 3)), ValueError, "should contain one int"),
    (lambda f, x: f.adaptive_max_pool1d(x[0], None), TypeError, "output_size"),
    (lambda f, x: f.adaptive_max_pool1d(x[0, :, :, :0], 2), ValueError, "non-zero size"),
]


@pytest.mark.parametrize("call,exc,match", ERRORS)
def test_errors_where_torch_raises(torch, call, exc, match):
    a = np.ones((2, 3, 5, 4))
    if exc is None:
        call(F, Tensor(a))
        call(torch.nn.functional, torch.tensor(a))
        return
    with pytest.raises(exc, match=match):
        call(F, Tensor(a))
    with pytest.raises((RuntimeError, TypeError)):
        call(torch.nn.functional, torch.tensor(a))


def test_bad_input_types_and_layer_arguments():
    with pytest.raises(TypeError, match="floating-point"):
        F.adaptive_max_pool2d(Tensor(np.ones((1, 2, 3, 3), np.int64)), 2)
    with pytest.raises(TypeError, match="floating-point"):
        F.adaptive_max_pool1d(np.ones((2, 3)), 2)
    with pytest.raises(ValueError, match="should contain one int"):
        nn.AdaptiveMaxPool1d((2, 3))
    with pytest.raises(TypeError, match="output_size"):
        nn.AdaptiveMaxPool2d("2")
