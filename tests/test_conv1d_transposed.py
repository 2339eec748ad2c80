"""conv1d, the 1-D pools and the transposed convolutions (composites of im2col/col2im and
matmul): parity with PyTorch forward and backward under random upstream gradients (float64 rtol
1e-10, float32), finite differences, the adjointness of conv_transpose2d and conv2d, and the
layers loading torch's state_dict by key."""
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


# ---- conv1d ----------------------------------------------------------------------------------

CONV1D_CASES = [
    ((2, 3, 9), (4, 3, 3), dict()),
    ((2, 3, 10), (4, 3, 3), dict(stride=2, padding=1)),
    ((2, 4, 11), (6, 2, 2), dict(groups=2, dilation=3, padding=(2,))),
    ((2, 2, 8), (3, 2, 4), dict(padding="same", dilation=2)),  # even span: the extra pad right
    ((2, 2, 8), (3, 2, 3), dict(padding="valid", stride=3)),
    ((3, 7), (2, 3, 3), dict(padding=1)),  # unbatched
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape,w_shape,kw", CONV1D_CASES)
def test_conv1d_parity(torch, dtype, bias, x_shape, w_shape, kw):
    shapes = [x_shape, w_shape] + ([(w_shape[0],)] if bias else [])
    parity(torch, lambda *a: F.conv1d(*a, **kw), lambda *a: torch.nn.functional.conv1d(*a, **kw),
           _arrays(sum(x_shape), *shapes), dtype)


def test_conv1d_errors():
    x = Tensor(np.zeros((1, 2, 5)))
    with pytest.raises(ValueError, match="2-D .unbatched. or 3-D"):
        F.conv1d(Tensor(np.zeros((1, 2, 5, 5))), Tensor(np.zeros((3, 2, 3))))
    with pytest.raises(ValueError, match="weight must be 3-D"):
        F.conv1d(x, Tensor(np.zeros((3, 2, 3, 3))))
    with pytest.raises(ValueError, match=r"expects an input with 3 channels, .* \(1, 2, 5\) has 2"):
        F.conv1d(x, Tensor(np.zeros((3, 3, 3))))
    with pytest.raises(ValueError, match="stride must be an int or a one-element"):
        F.conv1d(x, Tensor(np.zeros((3, 2, 3))), stride=(1, 1))
    with pytest.raises(ValueError, match="'same' is not supported for strided"):
        F.conv1d(x, Tensor(np.zeros((3, 2, 3))), padding="same", stride=2)
    with pytest.raises(ValueError, match=r"input size per channel: \(5\). Kernel size: \(7\)"):
        F.conv1d(x, Tensor(np.zeros((3, 2, 3))), dilation=3)


# ---- the 1-D pools ---------------------------------------------------------------------------

POOL1D_CASES = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                dict(kernel_size=3, stride=2, ceil_mode=True),
                dict(kernel_size=(2,), stride=(1,), padding=1)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", POOL1D_CASES)
def test_pool1d_parity(torch, dtype, kw):
    x = _arrays(3, (2, 3, 11))
    x[0][0, 0, 4:7] = 1.5  # ties: the first maximum takes the gradient, as in torch
    parity(torch, lambda a: F.max_pool1d(a, **kw),
           lambda a: torch.nn.functional.max_pool1d(a, **kw), x, dtype)
    dil = dict(kw, dilation=2)  # every case's padding suits the dilated window too
    parity(torch, lambda a: F.max_pool1d(a, **dil),
           lambda a: torch.nn.functional.max_pool1d(a, **dil), x, dtype)
    for cip in (True, False):
        parity(torch, lambda a: F.avg_pool1d(a, count_include_pad=cip, **kw),
               lambda a: torch.nn.functional.avg_pool1d(a, count_include_pad=cip, **kw), x, dtype)


def test_max_pool1d_indices_and_unbatched(torch):
    x = _arrays(4, (3, 10))[0]
    out, idx = F.max_pool1d(Tensor(x), 3, 2, 1, return_indices=True)
    ref, ridx = torch.nn.functional.max_pool1d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_array_equal(idx.numpy(), ridx.numpy())
    assert idx.dtype == np.int64


def test_pool1d_errors():
    x = Tensor(np.zeros((1, 2, 5)))
    with pytest.raises(ValueError, match="2-D .unbatched. or 3-D"):
        F.max_pool1d(Tensor(np.zeros((1, 1, 2, 5))), 2)
    with pytest.raises(ValueError, match="padding should be at most half of kernel size"):
        F.max_pool1d(x, 3, padding=2)
    with pytest.raises(ValueError, match="output size is too small"):
        F.avg_pool1d(x, 7)
    with pytest.raises(ValueError, match="kernel_size must be an int or a one-element"):
        F.avg_pool1d(x, (2, 2))


def test_pool1d_layers_match_torch(torch):
    x = _arrays(5, (2, 3, 9))[0]
    for ours, theirs in [
        (nn.MaxPool1d(2), torch.nn.MaxPool1d(2)),
        (nn.MaxPool1d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool1d(3, 2, 1, ceil_mode=True)),
        (nn.AvgPool1d(3, 2, 1), torch.nn.AvgPool1d(3, 2, 1)),
        (nn.AvgPool1d(2, ceil_mode=True, count_include_pad=False),
         torch.nn.AvgPool1d(2, ceil_mode=True, count_include_pad=False)),
    ]:
        assert repr(ours) == repr(theirs)
        parity(torch, ours, theirs, [x], np.float64)


# ---- conv_transpose2d / conv_transpose1d -----------------------------------------------------

# stride, padding, output_padding, dilation, groups: each below its limits, and at them
CT2D_CASES = [
    dict(),
    dict(stride=2),
    dict(stride=2, padding=1, output_padding=1),
    dict(stride=2, padding=2, output_padding=1),  # output_padding below the padding
    dict(stride=(3, 2), padding=(2, 0), output_padding=(2, 1)),
    dict(stride=2, dilation=2, padding=1, output_padding=1),
    dict(stride=1, dilation=3, output_padding=2),  # output_padding below the dilation only
    dict(stride=1, dilation=2, padding=2, output_padding=1),  # ... and the padding
    dict(groups=2, stride=2, padding=(1, 2)),
    dict(groups=4, stride=(1, 3), dilation=(2, 1), output_padding=(1, 2)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kw", CT2D_CASES)
def test_conv_transpose2d_parity(torch, dtype, bias, kw):
    g = kw.get("groups", 1)
    shapes = [(2, 4, 5, 4), (4, {1: 6, 2: 3, 4: 2}[g], 3, 2)]
    cout = shapes[1][1] * g
    if bias:
        shapes.append((cout,))
    parity(torch, lambda *a: F.conv_transpose2d(*a, **kw),
           lambda *a: torch.nn.functional.conv_transpose2d(*a, **kw),
           _arrays(len(kw), *shapes), dtype)


def test_conv_transpose2d_unbatched_and_1d(torch):
    parity(torch, lambda *a: F.conv_transpose2d(*a, stride=2, output_padding=1),
           lambda *a: torch.nn.functional.conv_transpose2d(*a, stride=2, output_padding=1),
           _arrays(6, (3, 4, 4), (3, 2, 3, 3)), np.float64)
    for dtype in DTYPES:
        for kw in [dict(), dict(stride=3, padding=2, output_padding=2, dilation=2),
                   dict(groups=2, stride=2, output_padding=1)]:
            parity(torch, lambda *a: F.conv_transpose1d(*a, **kw),
                   lambda *a: torch.nn.functional.conv_transpose1d(*a, **kw),
                   _arrays(7, (2, 4, 7), (4, 3, 3), (3 * kw.get("groups", 1),)), dtype)
    parity(torch, lambda *a: F.conv_transpose1d(*a, stride=2),
           lambda *a: torch.nn.functional.conv_transpose1d(*a, stride=2),
           _arrays(8, (4, 6), (4, 2, 3)), np.float64)


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    """<conv2d(x, w), y> == <x, conv_transpose2d(y, w)>, output_padding filling x's last rows."""
    rng = np.random.default_rng(9)
    w = rng.standard_normal((6, 2, 3, 3))  # conv2d: 4 -> 6 channels in 2 groups
    x = rng.standard_normal((2, 4, 12, 9))  # the last 2 rows: output_padding (stride 3)
    kw = dict(stride=(3, 2), padding=1, dilation=(1, 2), groups=2)
    y = F.conv2d(Tensor(x), Tensor(w), **kw)
    v = rng.standard_normal(y.shape)
    back = F.conv_transpose2d(Tensor(v), Tensor(w), output_padding=(2, 0), **kw)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.vdot(y.numpy(), v), np.vdot(x, back.numpy()), rtol=1e-12)


def test_gradcheck_float64():
    rng = np.random.default_rng(10)

    def t(*shape):
        return Tensor(rng.standard_normal(shape), requires_grad=True)

    assert tg.gradcheck(lambda *a: F.conv_transpose2d(*a, stride=2, padding=1, output_padding=1),
                        [t(1, 2, 3, 3), t(2, 3, 3, 2), t(3)])
    assert tg.gradcheck(lambda *a: F.conv_transpose2d(*a, groups=2, dilation=2, stride=(1, 2)),
                        [t(1, 4, 3, 2), t(4, 1, 2, 2)])
    assert tg.gradcheck(lambda *a: F.conv_transpose1d(*a, stride=2, output_padding=1),
                        [t(2, 2, 4), t(2, 3, 3), t(3)])
    assert tg.gradcheck(lambda *a: F.conv1d(*a, stride=2, padding=1, dilation=2, groups=2),
                        [t(2, 4, 7), t(2, 2, 2), t(2)])
    x = t(2, 2, 7)
    assert tg.gradcheck(lambda a: F.max_pool1d(a, 3, 2, 1), [x])
    assert tg.gradcheck(lambda a: F.avg_pool1d(a, 3, 2, 1, ceil_mode=True,
                                               count_include_pad=False), [x])
    assert tg.gradgradcheck(lambda *a: F.conv_transpose2d(*a, stride=2), [t(1, 2, 2, 2),
                                                                           t(2, 2, 2, 2)])


def test_conv_transpose_errors():
    x, w = Tensor(np.zeros((1, 2, 4, 4))), Tensor(np.zeros((2, 3, 3, 3)))
    with pytest.raises(ValueError, match="output padding must be smaller than either stride or "
                                         "dilation"):
        F.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="expects an input with 3 channels"):
        F.conv_transpose2d(x, Tensor(np.zeros((3, 3, 3, 3))))
    with pytest.raises(ValueError, match=r"output size per channel \(-4 x -4\) is too small"):
        F.conv_transpose2d(x, w, padding=5)
    with pytest.raises(ValueError, match=r"expected weight to be divisible by 4 at dimension 0"):
        F.conv_transpose2d(x, w, groups=4)
    with pytest.raises(ValueError, match="bias must have shape .3,."):
        F.conv_transpose2d(x, w, Tensor(np.zeros(2)))
    with pytest.raises(TypeError, match="padding must be an int"):
        F.conv_transpose1d(Tensor(np.zeros((1, 2, 4))), Tensor(np.zeros((2, 3, 3))), padding="same")
    with pytest.raises(ValueError, match="weight must be 3-D"):
        F.conv_transpose1d(Tensor(np.zeros((1, 2, 4))), w)


# Each error of the 1-D functions (and conv_transpose2d) against PyTorch's: the same fault is
# named, in the shapes the caller passed (the 1-D ones run the 2-D code on a height of 1, whose
# errors would show (N, C, 1, L) and 2-D pairs). (function, input, weight or kernel_size, kwargs,
# our message, PyTorch's.)
ERRORS_1D = [
    ("conv1d", (1, 3, 4), (2, 3, 6), {},
     r"calculated padded input size per channel: \(4\). Kernel size: \(6\). Kernel size "
     r"can't be greater than actual input size", r"per channel: \(4\). Kernel size: \(6\)"),
    ("conv1d", (3, 4), (2, 3, 3), dict(padding=1, dilation=3),
     r"per channel: \(6\). Kernel size: \(7\)", r"per channel: \(6\). Kernel size: \(7\)"),
    ("conv1d", (1, 3, 8), (2, 3, 3), dict(groups=3),
     r"groups=3, expected weight to be at least 3 at dimension 0, but got weight of shape "
     r"\(2, 3, 3\)$", "expected weight to be at least 3 at dimension 0"),
    ("conv1d", (1, 3, 8), (4, 1, 3), dict(groups=3),
     r"expected weight to be divisible by 3 at dimension 0, .* \(4, 1, 3\)$",
     "expected weight to be divisible by 3 at dimension 0"),
    ("conv1d", (3, 8), (4, 1, 3), dict(groups=2),
     r"weight of shape \(4, 1, 3\) expects an input with 2 channels, but the input of shape "
     r"\(3, 8\) has 3$", "to have 2 channels, but got 3 channels"),
    ("conv1d", (1, 3, 8), (2, 3, 0), {}, r"kernel size should be greater than zero, but weight "
     r"has shape \(2, 3, 0\)$", "kernel size should be greater than zero"),
    ("conv_transpose1d", (1, 3, 8), (2, 2, 3), {},
     r"weight of shape \(2, 2, 3\) expects an input with 2 channels, but the input of shape "
     r"\(1, 3, 8\) has 3$", "to have 2 channels, but got 3 channels"),
    ("conv_transpose1d", (1, 4, 8), (3, 2, 3), dict(groups=2),
     r"groups=2, expected weight to be divisible by 2 at dimension 0, but got weight of shape "
     r"\(3, 2, 3\)$", "expected weight to be divisible by 2 at dimension 0"),
    ("conv_transpose1d", (1, 3, 8), (3, 2, 3), dict(stride=2, output_padding=2),
     r"output padding must be smaller than either stride or dilation, but got output_padding=2, "
     r"stride=2, dilation=1$", "output padding must be smaller than either stride or dilation"),
    ("conv_transpose1d", (3, 1), (3, 2, 1), dict(padding=2), r"given input size per channel "
     r"\(1\), the calculated output size per channel \(-3\) is too small$", "too small"),
    ("conv_transpose1d", (1, 3, 8), (3, 2, 0), {}, r"weight has shape \(3, 2, 0\)$",
     "kernel size should be greater than zero"),
    ("conv_transpose2d", (3, 8, 8), (2, 2, 3, 3), {}, r"weight of shape \(2, 2, 3, 3\) expects "
     r"an input with 2 channels, but the input of shape \(3, 8, 8\) has 3$", "2 channels"),
    ("conv_transpose2d", (1, 4, 8, 8), (3, 2, 3, 3), dict(groups=2),
     r"expected weight to be divisible by 2 at dimension 0, .* \(3, 2, 3, 3\)$",
     "expected weight to be divisible by 2 at dimension 0"),
    ("conv2d", (1, 3, 8, 8), (2, 3, 3, 3), dict(groups=3),
     r"expected weight to be at least 3 at dimension 0, .* \(2, 3, 3, 3\)$",
     "expected weight to be at least 3 at dimension 0"),
    ("max_pool1d", (1, 3, 2), 3, {},
     r"given input of size 2 along L, the calculated output size is too small \(0\)$",
     "Invalid computed output size: 0"),
    ("max_pool1d", (3, 4), 2, dict(dilation=4), r"input of size 4 along L, .* too small \(0\)$",
     "Invalid computed output size: 0"),
    ("max_pool1d", (1, 3, 8), 2, dict(dilation=3, padding=2),
     r"padding should be at most half of kernel size, but got padding=2 and kernel_size=2$",
     r"padding should be at most half of kernel size, but got padding=2 and kernel_size=2"),
    ("avg_pool1d", (3, 2), 3, {}, r"input of size 2 along L, .* too small \(0\)$",
     "Output size is too small"),
    ("avg_pool1d", (1, 3, 8), 3, dict(padding=2), r"pad should be at most half of effective "
     r"kernel size, but got pad=2, kernel_size=3 and dilation=1$", "pad should be at most half"),
]


@pytest.mark.parametrize("name,x_shape,w,kw,ours,theirs", ERRORS_1D)
def test_errors_name_the_callers_shapes_as_torch(torch, name, x_shape, w, kw, ours, theirs):
    arrays = [np.ones(x_shape)] + ([np.ones(w)] if isinstance(w, tuple) else [])
    kernel = [] if isinstance(w, tuple) else [w]
    with pytest.raises(ValueError, match=f"^{name}: .*{ours}"):
        getattr(F, name)(*[Tensor(a) for a in arrays], *kernel, **kw)
    with pytest.raises(RuntimeError, match=theirs):
        getattr(torch.nn.functional, name)(*[torch.tensor(a) for a in arrays], *kernel, **kw)


# ---- the layers ------------------------------------------------------------------------------

def _load_from_torch(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def _layer_parity(torch, ours, theirs, x, dtype, **call):
    """Same output and gradients (input and every parameter) as torch's layer."""
    rtol = 1e-10 if dtype == np.float64 else 2e-5
    x = x.astype(dtype)
    xs, tx = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours(xs, **call), theirs(tx, **call)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=rtol, atol=rtol)
    g = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    np.testing.assert_allclose(xs.grad.numpy(), tx.grad.numpy(), rtol=rtol, atol=rtol)
    ours_p = dict(ours.named_parameters())
    assert list(ours_p) == [n for n, _ in theirs.named_parameters()]
    for name, p in theirs.named_parameters():
        assert ours_p[name].grad.dtype == dtype
        np.testing.assert_allclose(ours_p[name].grad.numpy(), p.grad.numpy(), rtol=rtol,
                                   atol=rtol * 10)


LAYER_CASES = [
    ("Conv1d", (4, 6, 3), dict(), (2, 4, 9)),
    ("Conv1d", (4, 6, 3), dict(stride=2, padding=1, bias=False, groups=2), (2, 4, 9)),
    ("Conv1d", (4, 6, 4), dict(padding="same", dilation=2, padding_mode="reflect"), (2, 4, 9)),
    ("Conv1d", (4, 6, 3), dict(padding=2, padding_mode="circular"), (4, 9)),
    ("Conv2d", (4, 6, 3), dict(padding=(1, 2), padding_mode="replicate", stride=2), (2, 4, 7, 6)),
    ("Conv2d", (4, 6, (2, 3)), dict(padding="same", padding_mode="reflect"), (2, 4, 7, 6)),
    ("Conv2d", (4, 6, 3), dict(padding=1, padding_mode="circular", groups=2), (2, 4, 5, 6)),
    ("ConvTranspose1d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1), (2, 4, 5)),
    ("ConvTranspose2d", (4, 6, 3), dict(), (2, 4, 5, 4)),
    ("ConvTranspose2d", (4, 6, (3, 2)), dict(stride=(2, 3), padding=1, output_padding=(1, 2),
                                             groups=2, bias=False, dilation=(1, 2)), (2, 4, 5, 4)),
    ("ConvTranspose2d", (4, 2, 3), dict(stride=2), (4, 3, 3)),  # unbatched
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls,args,kw,x_shape", LAYER_CASES)
def test_layers_load_torch_state_dict_and_match(torch, dtype, cls, args, kw, x_shape):
    tdtype = getattr(torch, TORCH_DTYPE[dtype])
    torch.manual_seed(0)
    theirs = getattr(torch.nn, cls)(*args, dtype=tdtype, **kw)
    ours = getattr(nn, cls)(*args, dtype=dtype, **kw)
    assert repr(ours) == repr(theirs)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    _load_from_torch(ours, theirs)
    _layer_parity(torch, ours, theirs, _arrays(2, x_shape)[0], dtype)


def test_conv_transpose_forward_output_size(torch):
    torch.manual_seed(0)
    theirs = torch.nn.ConvTranspose2d(2, 3, 3, stride=3, padding=1, dtype=torch.float64)
    ours = nn.ConvTranspose2d(2, 3, 3, stride=3, padding=1, dtype=np.float64)
    _load_from_torch(ours, theirs)
    x = _arrays(3, (2, 2, 4, 5))[0]
    for size in [(10, 14), (12, 15), [2, 3, 11, 13]]:  # spatial, or all four sizes
        _layer_parity(torch, ours, theirs, x, np.float64, output_size=size)
    with pytest.raises(ValueError, match=r"requested an output size of \(13, 13\), but valid "
                                         r"sizes range from \[10, 13\] to \[12, 15\]"):
        ours(Tensor(x), output_size=(13, 13))
    with pytest.raises(ValueError, match="output_size must have 2 or 4"):
        ours(Tensor(x), output_size=(13,))
    t1 = torch.nn.ConvTranspose1d(2, 3, 3, stride=2, dtype=torch.float64)
    o1 = nn.ConvTranspose1d(2, 3, 3, stride=2, dtype=np.float64)
    _load_from_torch(o1, t1)
    _layer_parity(torch, o1, t1, x[0, :, 0], np.float64, output_size=[12])  # unbatched (C, L)


@pytest.mark.parametrize("cls,args,fan_in", [("Conv1d", (8, 6, 5), 4 * 5),
                                             ("ConvTranspose1d", (8, 6, 5), 3 * 5),
                                             ("ConvTranspose2d", (4, 6, (3, 2)), 3 * 6)])
def test_init_is_torch_kaiming_uniform(cls, args, fan_in):
    """weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)); for a transposed convolution fan_in
    comes from the weight's dim 1, out_channels / groups, as in torch."""
    tg.manual_seed(3)
    layer = getattr(nn, cls)(*args, groups=2)
    bound = 1 / math.sqrt(fan_in)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert w.dtype == np.float32 and np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.8 * bound and np.abs(b).max() > 0.5 * bound
    tg.manual_seed(3)
    np.testing.assert_array_equal(getattr(nn, cls)(*args, groups=2).weight.numpy(), w)


def test_layer_errors(torch):
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for '
                                         'ConvTranspose2d'):
        nn.ConvTranspose2d(2, 3, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv1d(2, 3, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.ConvTranspose1d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="kernel_size must be an int >= 1 or a one-element"):
        nn.Conv1d(2, 3, (3, 3))
    with pytest.raises(TypeError, match="float64 but the module's parameters are float32"):
        nn.ConvTranspose2d(2, 3, 3)(Tensor(np.zeros((1, 2, 4, 4))))
