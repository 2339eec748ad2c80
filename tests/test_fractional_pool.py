"""F.fractional_max_pool2d/3d and nn.FractionalMaxPool2d/3d against torch: given the same
``_random_samples``, the same outputs, int64 indices (ties: the first maximum; NaN: the last
NaN; all -inf: the window's first element) and gradients under a random upstream gradient,
float64 and float32 (windows computed in float32 as torch does); second derivatives (zeros);
draws from the framework's generator; layers, state dicts and errors."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn
from tinygrad_norm.functional.fractional_pool import _starts

CASES_2D = [((2, 3, 11, 9), (2, 3), (5, 4)), ((3, 11, 9), 2, (10, 8)), ((2, 3, 11, 9), 3, 1),
            ((1, 2, 30, 31), 2, (17, 13)), ((2, 1, 6, 6), 1, 6), ((1, 2, 7, 8), (3, 2), (2, 7)),
            ((2, 2, 5, 5), 2, (0, 3)), ((0, 2, 5, 5), 2, 3)]
CASES_3D = [((2, 2, 9, 8, 7), (2, 3, 2), (4, 3, 5)), ((2, 9, 8, 7), 2, (7, 6, 5)),
            ((1, 3, 6, 6, 6), 1, 5), ((1, 1, 10, 4, 5), (3, 1, 2), (2, 3, 3)),
            ((0, 2, 5, 5, 5), 2, 2)]


def _data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    # few distinct values: ties in most windows, the first maximum must win
    return (rng.integers(-3, 4, shape) + (rng.random(shape) < 0.2) * 0.5).astype(dtype)


def _samples(shape, n, dtype, seed=1):
    batch = shape[0] if len(shape) == n + 2 else 1
    return np.random.default_rng(seed).random((batch, shape[-n - 1], n)).astype(dtype)


def _parity(torch, n, a, kernel, out_size, u):
    ours = F.fractional_max_pool2d if n == 2 else F.fractional_max_pool3d
    theirs = getattr(torch.nn.functional, f"fractional_max_pool{n}d")
    x, t = Tensor(a.copy(), requires_grad=True), torch.tensor(a.copy(), requires_grad=True)
    out, idx = ours(x, kernel, out_size, return_indices=True, _random_samples=Tensor(u))
    ref, tidx = theirs(t, kernel, out_size, return_indices=True,
                       _random_samples=torch.tensor(u))
    assert out.dtype == a.dtype and idx.dtype == np.int64 and out.shape == tuple(ref.shape)
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    g = np.random.default_rng(2).standard_normal(out.shape).astype(a.dtype)
    out.backward(Tensor(g))
    if out.size:  # torch's backward of an empty output is refused; ours is zeros
        ref.backward(torch.tensor(g))
        # each input gets the sum of its windows' gradients: one order of addition, exact
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=0)
    else:
        assert x.grad is None or not x.grad.numpy().any()
    # without indices: the same output
    plain = ours(Tensor(a), kernel, out_size, _random_samples=Tensor(u))
    np.testing.assert_array_equal(plain.numpy(), ref.detach().numpy())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,kernel,out_size", CASES_2D, ids=[str(c) for c in CASES_2D])
def test_fractional_max_pool2d_as_torch(torch, shape, kernel, out_size, dtype):
    _parity(torch, 2, _data(shape, dtype), kernel, out_size, _samples(shape, 2, dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,kernel,out_size", CASES_3D, ids=[str(c) for c in CASES_3D])
def test_fractional_max_pool3d_as_torch(torch, shape, kernel, out_size, dtype):
    _parity(torch, 3, _data(shape, dtype), kernel, out_size, _samples(shape, 3, dtype))


def test_samples_per_axis_and_spare_rows(torch):
    # a sample batch larger than the input's is allowed (its first rows are used); the two
    # samples of a 2-D plane drive different axes: a swap changes the windows
    a = np.random.default_rng(5).standard_normal((2, 3, 13, 12))
    u = np.random.default_rng(6).random((4, 3, 2))
    _parity(torch, 2, a, 2, (6, 5), u)
    _parity(torch, 2, a, 2, (6, 5), u[..., ::-1].copy())
    one = F.fractional_max_pool2d(Tensor(a), 2, (6, 5), return_indices=True,
                                  _random_samples=Tensor(u))[1].numpy()
    other = F.fractional_max_pool2d(Tensor(a), 2, (6, 5), return_indices=True,
                                    _random_samples=Tensor(u[..., ::-1].copy()))[1].numpy()
    assert not np.array_equal(one, other)


def test_float32_windows_are_computed_in_float32(torch):
    # samples whose float32 and float64 window starts differ: torch computes in the input's
    # dtype, so a float64 rule would pick other windows here
    u = np.random.default_rng(0).random((1, 4000)).astype(np.float32)
    differ = (_starts(u, 1000, 300, 3) != _starts(u.astype(np.float64), 1000, 300, 3)).any(-1)
    cols = np.flatnonzero(differ[0])[:4]
    assert cols.size == 4
    samples = np.stack([np.zeros(4, np.float32), u[0, cols]], -1)[None]  # (1, 4, 2): H's
    a = np.random.default_rng(1).standard_normal((1, 4, 1000, 3)).astype(np.float32)
    _parity(torch, 2, a, (3, 1), (300, 3), samples)


@pytest.mark.parametrize("fill", [np.nan, -np.inf, np.inf])
def test_nan_and_infinities_as_torch(torch, fill):
    a = _data((2, 2, 9, 8), np.float64, seed=3)
    a[np.random.default_rng(4).random(a.shape) < 0.3] = fill
    _parity(torch, 2, a, 2, (5, 4), _samples(a.shape, 2, np.float64))
    a = np.full((1, 1, 3, 3), -np.inf)  # every window -inf: its first element, as torch's
    _parity(torch, 2, a, 2, 2, np.zeros((1, 1, 2)))
    a = _data((1, 2, 6, 6, 6), np.float64, seed=5)
    a[np.random.default_rng(6).random(a.shape) < 0.3] = fill
    _parity(torch, 3, a, 2, 3, _samples(a.shape, 3, np.float64))


def test_output_ratio_as_torch(torch):
    a = _data((2, 3, 11, 9), np.float64)
    u = _samples(a.shape, 2, np.float64)
    out = F.fractional_max_pool2d(Tensor(a), 2, output_ratio=(0.5, 0.7), _random_samples=Tensor(u))
    ref = torch.nn.functional.fractional_max_pool2d(torch.tensor(a), 2, output_ratio=(0.5, 0.7),
                                                    _random_samples=torch.tensor(u))
    assert out.shape == tuple(ref.shape) == (2, 3, 5, 6)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    # one ratio for all axes (torch's functional refuses a bare float in 2-D: len() of it)
    assert F.fractional_max_pool2d(Tensor(a), 2, output_ratio=0.5).shape == (2, 3, 5, 4)
    b = _data((1, 2, 9, 8, 7), np.float32)
    v = _samples(b.shape, 3, np.float32)
    out = F.fractional_max_pool3d(Tensor(b), 2, output_ratio=0.5, _random_samples=Tensor(v))
    ref = torch.nn.functional.fractional_max_pool3d(torch.tensor(b), 2, output_ratio=0.5,
                                                    _random_samples=torch.tensor(v))
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_gradients_of_all_orders():
    a = np.random.default_rng(0).standard_normal((1, 2, 7, 6))  # distinct: no ties
    u = Tensor(np.random.default_rng(1).random((1, 2, 2)))
    x = Tensor(a, requires_grad=True)
    fn = lambda t: F.fractional_max_pool2d(t, 2, (4, 3), _random_samples=u)  # noqa: E731
    assert tg.gradcheck(fn, [x])
    assert tg.gradgradcheck(fn, [x])  # zeros, as torch's
    b = np.random.default_rng(2).standard_normal((2, 5, 5, 4))  # unbatched 3-D
    v = Tensor(np.random.default_rng(3).random((1, 2, 3)))
    y = Tensor(b, requires_grad=True)
    fn3 = lambda t: F.fractional_max_pool3d(t, 2, (3, 3, 2), _random_samples=v)  # noqa: E731
    assert tg.gradcheck(fn3, [y])
    assert tg.gradgradcheck(fn3, [y])


def test_draws_from_the_framework_generator():
    a = np.random.default_rng(0).standard_normal((2, 3, 12, 12))
    tg.manual_seed(4)
    first = F.fractional_max_pool2d(Tensor(a), 2, 5, return_indices=True)[1].numpy()
    tg.manual_seed(4)
    again = F.fractional_max_pool2d(Tensor(a), 2, 5, return_indices=True)[1].numpy()
    np.testing.assert_array_equal(first, again)
    # the samples are (N, C, 2) uniforms drawn in the input's dtype
    tg.manual_seed(4)
    u = tg.random.generator().random((2, 3, 2))
    given = F.fractional_max_pool2d(Tensor(a), 2, 5, return_indices=True,
                                    _random_samples=Tensor(u))[1].numpy()
    np.testing.assert_array_equal(first, given)
    windows = {F.fractional_max_pool2d(Tensor(a), 2, 5, return_indices=True)[1].numpy().tobytes()
               for _ in range(5)}
    assert len(windows) > 1  # new windows at each call


@pytest.mark.parametrize("n", [2, 3])
def test_layers_as_torch(torch, n):
    name = f"FractionalMaxPool{n}d"
    shape = (2, 3, 9, 8) if n == 2 else (2, 3, 9, 8, 7)
    a = _data(shape, np.float32)
    u = _samples(shape, n, np.float32)
    ours = getattr(nn, name)(2, output_size=4, return_indices=True, _random_samples=Tensor(u))
    theirs = getattr(torch.nn, name)(2, output_size=4, return_indices=True,
                                     _random_samples=torch.tensor(u))
    assert repr(ours) == repr(theirs) == f"{name}()"
    assert ours.kernel_size == theirs.kernel_size and ours.output_size == theirs.output_size
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["_random_samples"]
    (out, idx), (ref, tidx) = ours(Tensor(a)), theirs(torch.tensor(a))
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    ratio = getattr(nn, name)((2,) * n, output_ratio=0.5)
    assert list(ratio.state_dict()) == [] and ratio.output_ratio == (0.5,) * n
    assert ratio(Tensor(a)).shape == tuple(getattr(torch.nn, name)(
        2, output_ratio=0.5)(torch.tensor(a)).shape)


def _x2(a=None):
    return Tensor(np.ones((2, 3, 11, 9)) if a is None else a)


ERRORS = [  # (call on F, exception, match); torch raises at the same calls
    (lambda f, x, t: f.fractional_max_pool2d(x, 2), ValueError, "either an output_size"),
    (lambda f, x, t: f.fractional_max_pool2d(x, 2, (11, 9)), ValueError,
     "pool height 2 too large relative to input height 11"),
    (lambda f, x, t: f.fractional_max_pool2d(x, 2, (10, 9)), ValueError,
     "pool width 2 too large relative to input width 9"),
    (lambda f, x, t: f.fractional_max_pool2d(x, 12, 1), ValueError, "pool height 12"),
    (lambda f, x, t: f.fractional_max_pool2d(x, (2, 2, 2), 3), ValueError,
     "kernel_size must either be a single Int or tuple of Ints"),
    (lambda f, x, t: f.fractional_max_pool2d(x, 2, (3, 3, 3)), ValueError,
     "output_size must either be a single Int or tuple of Ints"),
    (lambda f, x, t: f.fractional_max_pool2d(x, 2, (-1, 3)), ValueError, "non-negative"),
    (lambda f, x, t: f.fractional_max_pool2d(x, 2.0, 3), TypeError, "kernel_size"),
    (lambda f, x, t: f.fractional_max_pool2d(x, 2, (3.0, 3)), TypeError, "output_size"),
    (lambda f, x, t: f.fractional_max_pool2d(x, 2, output_ratio=(0.5, 0.5, 0.5)), ValueError,
     "output_ratio to either be a single Int or tuple of Ints"),
    (lambda f, x, t: f.fractional_max_pool2d(x[0, 0], 2, 3), ValueError, "3D or 4D"),
    (lambda f, x, t: f.fractional_max_pool2d(x[:, :, :0], 2, 3), ValueError, "non-zero size"),
    (lambda f, x, t: f.fractional_max_pool2d(x, 2, 3, _random_samples=t(np.ones((2, 3, 3)))),
     ValueError, r"size\(2\) equals to 2; got 3"),
    (lambda f, x, t: f.fractional_max_pool2d(x, 2, 3, _random_samples=t(np.ones((1, 3, 2)))),
     ValueError, r"size\(0\) no less then input batch size"),
    (lambda f, x, t: f.fractional_max_pool2d(x, 2, 3, _random_samples=t(np.ones((2, 2, 2)))),
     ValueError, r"size\(1\) equals to input channel size"),
    (lambda f, x, t: f.fractional_max_pool2d(x, 2, 3, _random_samples=t(np.ones((2, 3, 2, 1)))),
     ValueError, "to have 3 dimensions, got 4"),
    (lambda f, x, t: f.fractional_max_pool2d(
        x, 2, 3, _random_samples=t(np.ones((2, 3, 2), np.float32))), TypeError, "same dtype"),
    (lambda f, x, t: f.fractional_max_pool2d(x, 2, 3, _random_samples=[[[0.5, 0.5]] * 3] * 2),
     TypeError, "_random_samples"),
    (lambda f, x, t: f.fractional_max_pool3d(x[:, :, :9, :8, None].expand(2, 3, 9, 8, 7), 2,
                                             (8, 6, 5)), ValueError,
     "pool time 2 too large relative to input time 9"),
    (lambda f, x, t: f.fractional_max_pool3d(x[:, :, :9, :8, None].expand(2, 3, 9, 8, 7), 2,
                                             (7, 7, 6)), ValueError,
     "pool width 2 too large relative to input width 7"),
    (lambda f, x, t: f.fractional_max_pool3d(x[0], 2, 3), ValueError, "4D or 5D"),
    (lambda f, x, t: f.fractional_max_pool3d(x[..., None], (2, 2), 3), ValueError,
     "kernel_size must either be a single Int or tuple of three Ints"),
    (lambda f, x, t: f.fractional_max_pool3d(x[..., None], 1), ValueError,
     "either an output_size"),
]


@pytest.mark.parametrize("call,exc,match", ERRORS)
def test_errors_where_torch_raises(torch, call, exc, match):
    with pytest.raises(exc, match=match):
        call(F, _x2(), Tensor)
    with pytest.raises((RuntimeError, TypeError, ValueError, IndexError)):
        call(torch.nn.functional, torch.ones(2, 3, 11, 9, dtype=torch.float64), torch.tensor)


def test_errors_beyond_torch():
    x = _x2()
    # torch computes windows from a zero or negative kernel, or NaN samples (undefined in C)
    with pytest.raises(ValueError, match="kernel_size must be greater than 0"):
        F.fractional_max_pool2d(x, 0, 3)
    with pytest.raises(ValueError, match="finite"):
        F.fractional_max_pool2d(x, 2, 3, _random_samples=Tensor(np.full((2, 3, 2), np.nan)))
    # a huge float32 sample: its rounding puts a window past the end (PyTorch reads there)
    with pytest.raises(ValueError, match="windows outside the input"):
        F.fractional_max_pool2d(Tensor(np.ones((1, 1, 11, 9), np.float32)), 2, (5, 3),
                                _random_samples=Tensor(np.array([[[0, 1.7317172e7]]],
                                                                np.float32)))
    with pytest.raises(ValueError, match="not differentiable with respect to argument"):
        F.fractional_max_pool2d(x, 2, 3, _random_samples=Tensor(np.ones((2, 3, 2)) / 2,
                                                                requires_grad=True))
    with pytest.raises(TypeError, match="floating-point"):
        F.fractional_max_pool2d(Tensor(np.ones((1, 2, 5, 5), np.int64)), 2, 2)
    with pytest.raises(TypeError, match="return_indices"):
        F.fractional_max_pool2d(x, 2, 3, return_indices="yes")


def test_layer_errors_as_torch(torch):
    for name in ("FractionalMaxPool2d", "FractionalMaxPool3d"):
        for kwargs, match in [({}, "requires specifying either an output size, or a pooling "
                                   "ratio"),
                              ({"output_size": 3, "output_ratio": 0.5}, "only one of"),
                              ({"output_ratio": (0.5, 1) if "2d" in name else (0.5, 0.5, 1)},
                               "output_ratio must be between 0 and 1")]:
            with pytest.raises(ValueError, match=match):
                getattr(nn, name)(2, **kwargs)
            with pytest.raises(ValueError, match=match):
                getattr(torch.nn, name)(2, **kwargs)
    with pytest.raises(ValueError, match="kernel_size must be greater than 0"):
        nn.FractionalMaxPool3d(0, output_size=3)
    with pytest.raises(ValueError, match="kernel_size must be greater than 0"):
        torch.nn.FractionalMaxPool3d(0, output_size=3)
    with pytest.raises(TypeError, match="return_indices"):
        nn.FractionalMaxPool2d(2, output_size=3, return_indices=None)
    with pytest.raises(TypeError, match="_random_samples"):
        nn.FractionalMaxPool2d(2, output_size=3, _random_samples=np.ones((1, 1, 2)))


def test_float16_windows_as_torch(torch):
    # half precision rounds alpha and every product: torch computes the windows in it, as here
    a = np.random.default_rng(0).standard_normal((2, 3, 40, 37)).astype(np.float16)
    u = np.random.default_rng(1).random((2, 3, 2)).astype(np.float16)
    out, idx = F.fractional_max_pool2d(Tensor(a), 3, (20, 17), return_indices=True,
                                       _random_samples=Tensor(u))
    ref, tidx = torch.nn.functional.fractional_max_pool2d(
        torch.tensor(a), 3, (20, 17), return_indices=True, _random_samples=torch.tensor(u))
    assert out.dtype == np.float16
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    assert F.fractional_max_pool2d(Tensor(a), 3, (20, 17)).dtype == np.float16  # drawn samples
