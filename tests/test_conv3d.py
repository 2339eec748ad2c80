"""conv3d, conv_transpose3d and the 3-D pools (composites of the 2-D im2col/col2im, matmul and
gathers): parity with PyTorch forward and backward under random upstream gradients (float64
rtol 1e-10, float32), indices, finite differences, errors, and the layers' reprs, state_dict
keys, init and outputs against torch's."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn

from test_activation_losses import DTYPES, parity

TORCH_DTYPE = {np.float64: "float64", np.float32: "float32"}


def _arrays(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


# ---- conv3d / conv_transpose3d --------------------------------------------------------------

CONV_CASES = [
    ((2, 3, 5, 6, 7), (4, 3, 3, 3, 3), dict()),
    ((2, 3, 7, 6, 9), (4, 3, 2, 3, 2), dict(stride=(2, 1, 3), padding=(1, 0, 2))),
    ((2, 4, 7, 6, 7), (6, 2, 2, 2, 3), dict(groups=2, dilation=(2, 1, 3), padding=1)),
    ((1, 2, 5, 6, 5), (3, 2, 2, 3, 4), dict(padding="same", dilation=(1, 2, 1))),  # odd extra
    ((2, 2, 5, 5, 6), (3, 2, 3, 2, 3), dict(padding="valid", stride=2)),
    ((3, 5, 4, 6), (2, 3, 3, 3, 3), dict(padding=1)),  # unbatched
    ((1, 3, 1, 4, 5), (2, 3, 1, 2, 2), dict(stride=(1, 2, 2))),  # depth 1
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape,w_shape,kw", CONV_CASES)
def test_conv3d_parity(torch, dtype, bias, x_shape, w_shape, kw):
    shapes = [x_shape, w_shape] + ([(w_shape[0],)] if bias else [])
    parity(torch, lambda *a: F.conv3d(*a, **kw), lambda *a: torch.nn.functional.conv3d(*a, **kw),
           _arrays(sum(x_shape), *shapes), dtype)


TRANSPOSE_CASES = [
    ((2, 3, 3, 4, 5), (3, 2, 3, 3, 3), dict()),
    ((2, 4, 3, 4, 3), (4, 3, 2, 3, 2), dict(stride=(2, 3, 1), padding=(1, 0, 1),
                                            output_padding=(1, 2, 0), groups=2,
                                            dilation=(1, 1, 2))),
    ((1, 2, 3, 3, 4), (2, 2, 2, 2, 3), dict(stride=3, output_padding=2)),  # beyond the padding
    ((1, 2, 3, 4, 3), (2, 3, 2, 3, 2), dict(padding=1, output_padding=(1, 0, 1),
                                            dilation=2)),  # stride 1: output_padding < dilation
    ((4, 3, 4, 5), (4, 3, 3, 2, 2), dict(stride=(3, 2, 2), padding=(0, 0, 1),
                                         output_padding=(2, 1, 0))),  # unbatched
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape,w_shape,kw", TRANSPOSE_CASES)
def test_conv_transpose3d_parity(torch, dtype, bias, x_shape, w_shape, kw):
    groups = kw.get("groups", 1)
    shapes = [x_shape, w_shape] + ([(w_shape[1] * groups,)] if bias else [])
    parity(torch, lambda *a: F.conv_transpose3d(*a, **kw),
           lambda *a: torch.nn.functional.conv_transpose3d(*a, **kw),
           _arrays(sum(x_shape) + 1, *shapes), dtype)


def test_conv_transpose3d_is_the_adjoint_of_conv3d():
    x, w, v = _arrays(5, (2, 4, 5, 6, 7), (6, 2, 2, 3, 2), (2, 6, 3, 1, 3))
    kw = dict(stride=(2, 2, 3), padding=(1, 0, 1), dilation=(1, 2, 1), groups=2)
    y = F.conv3d(Tensor(x), Tensor(w), **kw)
    back = F.conv_transpose3d(Tensor(v), Tensor(w), output_padding=(1, 1, 1), **kw)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.vdot(y.numpy(), v), np.vdot(x, back.numpy()), rtol=1e-12)


def test_conv_errors():
    x = Tensor(np.zeros((1, 2, 4, 5, 5)))
    with pytest.raises(ValueError, match="4-D .unbatched. or 5-D"):
        F.conv3d(Tensor(np.zeros((2, 5, 5))), Tensor(np.zeros((3, 2, 3, 3, 3))))
    with pytest.raises(ValueError, match="weight must be 5-D"):
        F.conv3d(x, Tensor(np.zeros((3, 2, 3, 3))))
    with pytest.raises(ValueError, match=r"expected weight to be divisible by 2 at dimension 0"):
        F.conv3d(x, Tensor(np.zeros((3, 1, 3, 3, 3))), groups=2)
    with pytest.raises(ValueError, match=r"expects an input with 3 channels"):
        F.conv3d(x, Tensor(np.zeros((3, 3, 3, 3, 3))))
    with pytest.raises(ValueError, match="tuple of three ints"):
        F.conv3d(x, Tensor(np.zeros((3, 2, 3, 3, 3))), stride=(1, 1))
    with pytest.raises(ValueError, match="'same' is not supported for strided"):
        F.conv3d(x, Tensor(np.zeros((3, 2, 3, 3, 3))), padding="same", stride=2)
    with pytest.raises(ValueError, match="invalid padding string"):
        F.conv3d(x, Tensor(np.zeros((3, 2, 3, 3, 3))), padding="full")
    with pytest.raises(ValueError, match=r"padded input size per channel: \(4 x 5 x 5\). Kernel "
                                         r"size: \(5 x 3 x 3\)"):
        F.conv3d(x, Tensor(np.zeros((3, 2, 5, 3, 3))))
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\)"):
        F.conv3d(x, Tensor(np.zeros((3, 2, 3, 3, 3))), Tensor(np.zeros(4)))
    with pytest.raises(TypeError, match="dtype"):
        F.conv3d(x, Tensor(np.zeros((3, 2, 3, 3, 3), np.float32)))
    with pytest.raises(ValueError, match="kernel size should be greater than zero"):
        F.conv3d(x, Tensor(np.zeros((3, 2, 0, 3, 3))))
    with pytest.raises(ValueError, match="output padding must be smaller than either stride"):
        F.conv_transpose3d(x, Tensor(np.zeros((2, 3, 3, 3, 3))), stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"weight must be 5-D \(in_channels, "
                                         r"out_channels/groups, kD, kH, kW\)"):
        F.conv_transpose3d(x, Tensor(np.zeros((2, 3, 3, 3))))
    with pytest.raises(ValueError, match="expected a 4-D .unbatched. or 5-D"):
        F.conv_transpose3d(Tensor(np.zeros((2, 5, 5))), Tensor(np.zeros((2, 3, 3, 3, 3))))


# ---- pools ----------------------------------------------------------------------------------

MAX_CASES = [
    ((2, 3, 5, 6, 7), (3,), dict(stride=2, padding=1)),
    ((3, 5, 6, 7), ((2, 3, 2),), dict(stride=(1, 2, 3), padding=(1, 1, 0), dilation=(2, 1, 3),
                                      ceil_mode=True)),  # unbatched
    ((2, 2, 9, 6, 7), (3,), dict(stride=1, padding=1, dilation=3)),  # windows of padding alone
    ((1, 2, 5, 7, 6), ((2, 2, 3),), dict(stride=(2, 3, 2), ceil_mode=True)),  # odd, overhang
    ((1, 1, 2, 2, 2), (2,), dict()),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape,args,kw", MAX_CASES)
def test_max_pool3d_parity_and_indices(torch, dtype, x_shape, args, kw):
    x = _arrays(sum(x_shape), x_shape)[0]
    parity(torch, lambda a: F.max_pool3d(a, *args, **kw),
           lambda a: torch.nn.functional.max_pool3d(a, *args, **kw), [x], dtype)
    out, idx = F.max_pool3d(Tensor(x.astype(dtype)), *args, return_indices=True, **kw)
    ref, ridx = torch.nn.functional.max_pool3d(torch.tensor(x.astype(dtype)), *args,
                                               return_indices=True, **kw)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(idx.numpy(), ridx.numpy())


def test_max_pool3d_ties_nan_and_neg_inf_as_torch(torch):
    """PyTorch's scan: the first maximum of a tie, the last NaN, -inf windows' first index."""
    x = np.zeros((1, 2, 4, 4, 4))
    x[0, 1] = -np.inf
    x[0, 0, 1, 1, 1] = x[0, 0, 2, 0, 0] = np.nan
    for f, tf in [(F.max_pool3d, torch.nn.functional.max_pool3d)]:
        out, idx = f(Tensor(x), 2, 2, 1, return_indices=True)
        ref, ridx = tf(torch.tensor(x), 2, 2, 1, return_indices=True)
        np.testing.assert_array_equal(out.numpy(), ref.numpy())
        np.testing.assert_array_equal(idx.numpy(), ridx.numpy())
    out, idx = F.adaptive_max_pool3d(Tensor(x), 3, return_indices=True)
    ref, ridx = torch.nn.functional.adaptive_max_pool3d(torch.tensor(x), 3, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_array_equal(idx.numpy(), ridx.numpy())


@pytest.mark.parametrize("size", [(2, 3, 2), (3, 2, 4), 1, (4, 5, 3)])
def test_adaptive_max_pool3d_ties_nan_inf_as_torch(torch, size):
    """Many ties, NaNs and -infs, in overlapping windows: PyTorch's winner and index each time."""
    rng = np.random.default_rng(sum(np.atleast_1d(size)))
    x = rng.integers(0, 3, (2, 3, 5, 4, 6)).astype(float)
    x[rng.random(x.shape) < 0.05] = np.nan
    x[rng.random(x.shape) < 0.3] = -np.inf
    x[1, 2] = -np.inf
    out, idx = F.adaptive_max_pool3d(Tensor(x), size, return_indices=True)
    ref, ridx = torch.nn.functional.adaptive_max_pool3d(torch.tensor(x), size, True)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_array_equal(idx.numpy(), ridx.numpy())
    out, idx = F.max_pool3d(Tensor(x), 2, (1, 2, 1), 1, return_indices=True)
    ref, ridx = torch.nn.functional.max_pool3d(torch.tensor(x), 2, (1, 2, 1), 1,
                                               return_indices=True)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_array_equal(idx.numpy(), ridx.numpy())


AVG_CASES = [
    ((2, 3, 5, 6, 7), (3,), dict(stride=2, padding=1)),
    ((3, 5, 6, 7), ((2, 3, 2),), dict(stride=(1, 2, 3), padding=(1, 1, 0), ceil_mode=True,
                                      count_include_pad=False)),  # unbatched
    ((2, 2, 5, 6, 7), (3,), dict(stride=2, padding=1, ceil_mode=True, divisor_override=5)),
    ((1, 2, 5, 7, 6), ((2, 2, 3),), dict(stride=(2, 3, 2), ceil_mode=True)),
    ((1, 2, 5, 7, 6), ((3, 2, 3),), dict(padding=(1, 1, 0), count_include_pad=False)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape,args,kw", AVG_CASES)
def test_avg_pool3d_parity(torch, dtype, x_shape, args, kw):
    parity(torch, lambda a: F.avg_pool3d(a, *args, **kw),
           lambda a: torch.nn.functional.avg_pool3d(a, *args, **kw),
           _arrays(sum(x_shape), x_shape), dtype)


ADAPTIVE_CASES = [
    ((2, 3, 5, 6, 7), (2, 4, 3)),  # overlapping windows
    ((2, 3, 4, 6, 8), (2, 3, 4)),  # equal windows
    ((3, 6, 6, 8), (3, None, 2)),  # unbatched, None keeps the size
    ((1, 2, 5, 3, 7), 1),  # global
    ((1, 2, 3, 4, 5), (5, 7, 9)),  # upsampling
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape,size", ADAPTIVE_CASES)
def test_adaptive_pool3d_parity(torch, dtype, x_shape, size):
    x = _arrays(sum(x_shape), x_shape)
    parity(torch, lambda a: F.adaptive_avg_pool3d(a, size),
           lambda a: torch.nn.functional.adaptive_avg_pool3d(a, size), x, dtype)
    parity(torch, lambda a: F.adaptive_max_pool3d(a, size),
           lambda a: torch.nn.functional.adaptive_max_pool3d(a, size), x, dtype)
    _, idx = F.adaptive_max_pool3d(Tensor(x[0]), size, return_indices=True)
    _, ridx = torch.nn.functional.adaptive_max_pool3d(torch.tensor(x[0]), size, True)
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(idx.numpy(), ridx.numpy())


def test_adaptive_pool3d_empty_output(torch):
    x = Tensor(np.ones((1, 2, 3, 4, 5)), requires_grad=True)
    for f in (F.adaptive_avg_pool3d, F.adaptive_max_pool3d):
        out = f(x, (0, 2, 2))
        assert out.shape == (1, 2, 0, 2, 2)
        out.sum().backward()
        assert not x.grad.numpy().any()


def test_pool_errors():
    x = Tensor(np.zeros((1, 2, 4, 5, 5)))
    with pytest.raises(ValueError, match="pad should be at most half of effective kernel"):
        F.max_pool3d(x, 3, padding=2)
    with pytest.raises(ValueError, match=r"Calculated output size: \(2x0x1x1\)"):
        F.max_pool3d(x, 3, padding=1, dilation=3)
    with pytest.raises(ValueError, match="kernel_size must be an int or a tuple of three"):
        F.max_pool3d(x, (2, 2))
    with pytest.raises(ValueError, match="4-D .unbatched. or 5-D"):
        F.max_pool3d(Tensor(np.zeros((4, 5, 5))), 2)
    with pytest.raises(TypeError, match="ceil_mode"):
        F.max_pool3d(x, 2, ceil_mode="yes")
    with pytest.raises(ValueError, match="pad should be at most half"):
        F.avg_pool3d(x, 3, padding=2)
    with pytest.raises(ValueError, match=r"input image \(T: 4 H: 5 W: 5\) smaller than kernel "
                                         r"size \(kT: 5 kH: 2 kW: 2\)"):
        F.avg_pool3d(x, (5, 2, 2), padding=(2, 0, 0))  # as PyTorch: padding does not help
    with pytest.raises(ValueError, match="divisor_override must be a non-zero int"):
        F.avg_pool3d(x, 2, divisor_override=0)
    with pytest.raises(ValueError, match=r"Expected 4D or 5D tensor, but got: \[3, 3\]"):
        F.adaptive_max_pool3d(Tensor(np.zeros((3, 3))), 2)
    with pytest.raises(ValueError, match="dimension 1 being empty"):
        F.adaptive_avg_pool3d(Tensor(np.zeros((2, 0, 3, 3))), 2)
    with pytest.raises(ValueError, match="output_size must be an int or hold three"):
        F.adaptive_avg_pool3d(x, (2, 3))
    with pytest.raises(ValueError, match="must be non-negative"):
        F.adaptive_max_pool3d(x, -1)
    with pytest.raises(TypeError, match="output_size must hold ints"):
        F.adaptive_avg_pool3d(x, 1.5)


# ---- finite differences ---------------------------------------------------------------------

def test_gradcheck_float64():
    rng = np.random.default_rng(10)

    def t(*shape):
        return Tensor(rng.standard_normal(shape), requires_grad=True)

    assert tg.gradcheck(lambda *a: F.conv3d(*a, stride=(1, 2, 1), padding=1, dilation=(1, 1, 2),
                                            groups=2), [t(1, 2, 3, 4, 4), t(2, 1, 2, 2, 2), t(2)])
    assert tg.gradcheck(lambda *a: F.conv_transpose3d(*a, stride=2, padding=1, output_padding=1),
                        [t(1, 2, 2, 2, 3), t(2, 2, 2, 3, 2), t(2)])
    x = t(1, 2, 3, 4, 5)
    assert tg.gradcheck(lambda a: F.max_pool3d(a, 2, (1, 2, 2), 1, ceil_mode=True), [x])
    assert tg.gradcheck(lambda a: F.avg_pool3d(a, (2, 3, 2), 2, 1, ceil_mode=True,
                                               count_include_pad=False), [x])
    assert tg.gradcheck(lambda a: F.adaptive_avg_pool3d(a, (2, 3, 3)), [x])
    assert tg.gradcheck(lambda a: F.adaptive_max_pool3d(a, (2, 3, 3)), [x])
    assert tg.gradgradcheck(lambda *a: F.conv3d(*a, stride=2, padding=1),
                            [t(1, 1, 3, 3, 3), t(2, 1, 2, 2, 2)])
    assert tg.gradgradcheck(lambda *a: F.conv_transpose3d(*a, stride=2, output_padding=1),
                            [t(1, 2, 2, 2, 2), t(2, 1, 2, 2, 2)])


# ---- layers ---------------------------------------------------------------------------------

def _load_from_torch(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def _layer_parity(torch, ours, theirs, x, dtype, **kw):
    parity(torch, lambda a: ours(a, **kw), lambda a: theirs(a, **kw), [x], dtype)


LAYER_CASES = [
    ("Conv3d", (2, 4, 3), dict(), (2, 2, 5, 6, 7)),
    ("Conv3d", (2, 4, (1, 2, 3)), dict(padding="same", padding_mode="circular", bias=False,
                                       groups=2, dilation=2), (2, 2, 5, 6, 7)),
    ("Conv3d", (2, 4, 3), dict(padding=1, padding_mode="reflect", stride=2), (2, 5, 6, 7)),
    ("Conv3d", (2, 4, (3, 2, 2)), dict(padding=(1, 2, 1), padding_mode="replicate"),
     (1, 2, 5, 6, 7)),
    ("ConvTranspose3d", (2, 4, 3), dict(stride=2, output_padding=1), (2, 2, 3, 4, 5)),
    ("ConvTranspose3d", (4, 6, (3, 2, 2)), dict(stride=(2, 3, 1), padding=1, groups=2,
                                                bias=False, dilation=(1, 2, 1)), (4, 3, 4, 5)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls,args,kw,x_shape", LAYER_CASES)
def test_layers_load_torch_state_dict_and_match(torch, dtype, cls, args, kw, x_shape):
    tdtype = getattr(torch, TORCH_DTYPE[dtype])
    theirs = getattr(torch.nn, cls)(*args, dtype=tdtype, **kw)
    ours = getattr(nn, cls)(*args, dtype=dtype, **kw)
    assert repr(ours) == repr(theirs)
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    _load_from_torch(ours, theirs)
    _layer_parity(torch, ours, theirs, _arrays(2, x_shape)[0], dtype)


def test_conv_transpose3d_forward_output_size(torch):
    theirs = torch.nn.ConvTranspose3d(2, 3, 3, stride=2, dtype=torch.float64)
    ours = nn.ConvTranspose3d(2, 3, 3, stride=2, dtype=np.float64)
    _load_from_torch(ours, theirs)
    x = _arrays(3, (2, 2, 3, 4, 5))[0]
    for size in [(8, 9, 12), [2, 3, 7, 10, 11]]:
        _layer_parity(torch, ours, theirs, x, np.float64, output_size=size)
    with pytest.raises(ValueError, match="valid sizes range from"):
        ours(Tensor(x), output_size=(6, 9, 12))


@pytest.mark.parametrize("cls,args,fan_in", [("Conv3d", (8, 6, (3, 2, 2)), 4 * 12),
                                             ("ConvTranspose3d", (8, 6, 3), 3 * 27)])
def test_init_is_torch_kaiming_uniform(cls, args, fan_in):
    tg.manual_seed(3)
    layer = getattr(nn, cls)(*args, groups=2)
    bound = 1 / math.sqrt(fan_in)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert w.dtype == np.float32 and np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.8 * bound and np.abs(b).max() > 0.5 * bound


POOL_LAYERS = [
    ("MaxPool3d", (2,), dict()),
    ("MaxPool3d", ((2, 3, 1),), dict(stride=1, padding=(1, 1, 0), ceil_mode=True)),
    ("AvgPool3d", (2,), dict()),
    ("AvgPool3d", (3, 1, 1, True, False, 2), dict()),
    ("AdaptiveAvgPool3d", (2,), dict()),
    ("AdaptiveAvgPool3d", ((2, None, 3),), dict()),
    ("AdaptiveMaxPool3d", ((None, 2, 1),), dict()),
]


@pytest.mark.parametrize("cls,args,kw", POOL_LAYERS)
def test_pool_layers_match_torch(torch, cls, args, kw):
    ours, theirs = getattr(nn, cls)(*args, **kw), getattr(torch.nn, cls)(*args, **kw)
    assert repr(ours) == repr(theirs)
    assert ours.state_dict() == {} and not theirs.state_dict()
    for shape in [(2, 3, 5, 6, 7), (3, 4, 5, 6)]:
        _layer_parity(torch, ours, theirs, _arrays(4, shape)[0], np.float64)


def test_pool_layers_return_indices(torch):
    x = _arrays(6, (2, 3, 5, 6, 7))[0]
    for ours, theirs in [(nn.MaxPool3d(2, return_indices=True),
                          torch.nn.MaxPool3d(2, return_indices=True)),
                         (nn.AdaptiveMaxPool3d(3, True), torch.nn.AdaptiveMaxPool3d(3, True))]:
        (out, idx), (ref, ridx) = ours(Tensor(x)), theirs(torch.tensor(x))
        np.testing.assert_array_equal(out.numpy(), ref.numpy())
        np.testing.assert_array_equal(idx.numpy(), ridx.numpy())


def test_layer_errors():
    with pytest.raises(ValueError, match="kernel_size must be an int >= 1 or 3 of them"):
        nn.Conv3d(2, 4, (3, 3))
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv3d(2, 4, 3, padding_mode="wrap")
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for '
                                         'ConvTranspose3d'):
        nn.ConvTranspose3d(2, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="output_size must be an int or hold three"):
        nn.AdaptiveAvgPool3d((2, 2))
    with pytest.raises(TypeError, match="input has dtype float64"):
        nn.Conv3d(2, 4, 3)(Tensor(np.zeros((1, 2, 3, 3, 3))))


def test_empty_batch_and_empty_channels(torch):
    x = Tensor(np.zeros((0, 2, 4, 5, 5)), requires_grad=True)
    assert F.conv3d(x, Tensor(np.zeros((3, 2, 3, 3, 3)))).shape == (0, 3, 2, 3, 3)
    assert F.conv_transpose3d(x, Tensor(np.zeros((2, 3, 3, 3, 3)))).shape == (0, 3, 6, 7, 7)
    for f in (F.max_pool3d, F.avg_pool3d, F.adaptive_avg_pool3d, F.adaptive_max_pool3d):
        out = f(x, 2)
        assert out.shape == (0, 2, 2, 2, 2)
        out.sum().backward()
        assert x.grad.shape == x.shape
    for f in (F.max_pool3d, F.avg_pool3d):
        with pytest.raises(ValueError, match="non-batch dimensions to have positive length"):
            f(Tensor(np.zeros((2, 0, 4, 5, 5))), 2)


def test_pools_second_derivative_is_zero_as_torch():
    """A pool is one primitive in PyTorch with zero second derivative; so it is here."""
    rng = np.random.default_rng(7)
    x = Tensor(rng.standard_normal((1, 2, 3, 4, 4)), requires_grad=True)
    for f in (lambda a: F.max_pool3d(a, 2), lambda a: F.avg_pool3d(a, 2, 1, 1),
              lambda a: F.adaptive_max_pool3d(a, 2)):
        assert tg.gradgradcheck(f, [x])
