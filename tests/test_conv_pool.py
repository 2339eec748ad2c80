"""conv2d, the pools and unfold/fold: parity with PyTorch (forward and backward under random upstream
gradients, float64 rtol 1e-10 and float32), finite differences (first and second order), the
adjointness of the im2col/col2im primitives, and the layers built on them."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn, ops

from test_activation_losses import DTYPES, parity


# ---- the primitives -------------------------------------------------------------------------

@pytest.mark.parametrize("shape,kw", [
    ((2, 3, 6, 5), dict(kernel=(3, 3), stride=(1, 1), padding=((1, 1), (1, 1)), dilation=(1, 1))),
    ((2, 3, 7, 20), dict(kernel=(3, 2), stride=(1, 1), padding=((0, 0), (2, 1)), dilation=(1, 1))),
    ((1, 2, 9, 9), dict(kernel=(2, 3), stride=(2, 3), padding=((1, 0), (0, 1)), dilation=(2, 1))),
    ((1, 1, 5, 40), dict(kernel=(3, 3), stride=(2, 2), padding=((1, 1), (1, 1)), dilation=(1, 1))),
], ids=["short-rows", "long-rows", "strided-dilated", "strided-long"])
def test_col2im_is_the_adjoint_of_im2col(shape, kw):
    """<im2col(x), y> == <x, col2im(y)>: what makes each the other's VJP."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    cols = ops.Im2col.forward(x, **kw)
    y = rng.standard_normal(cols.shape)
    back = ops.Col2im.forward(y, shape=shape, **kw)
    assert back.shape == shape
    np.testing.assert_allclose(np.vdot(cols, y), np.vdot(x, back), rtol=1e-12)


def test_im2col_col2im_second_order():
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((1, 2, 4, 5)), requires_grad=True)
    w = Tensor(rng.standard_normal((3, 2, 2, 3)), requires_grad=True)
    assert tg.gradgradcheck(lambda a, b: F.conv2d(a, b, padding=1, stride=(1, 2)), [x, w])
    assert tg.gradgradcheck(lambda a: F.fold(F.unfold(a, 2, padding=1), (4, 5), 2, padding=1), [x])


# ---- conv2d ----------------------------------------------------------------------------------

CONV_CASES = [
    ((2, 3, 7, 6), (4, 3, 3, 3), dict()),
    ((2, 3, 7, 6), (4, 3, 3, 3), dict(stride=2, padding=1)),
    ((2, 3, 8, 9), (4, 3, 3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2))),
    ((2, 4, 6, 6), (6, 2, 3, 3), dict(groups=2, padding="same")),
    ((2, 2, 6, 7), (3, 2, 4, 2), dict(padding="same", dilation=2)),  # even kernel: extra pad right
    ((2, 2, 5, 5), (3, 2, 3, 3), dict(padding="valid")),
    ((3, 6, 6), (2, 3, 3, 3), dict(padding=1)),  # unbatched
    ((4, 1, 20, 20), (3, 1, 5, 5), dict(padding=2)),  # long rows: col2im's other path
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape,w_shape,kw", CONV_CASES)
def test_conv2d_parity(torch, dtype, bias, x_shape, w_shape, kw):
    rng = np.random.default_rng(sum(x_shape) + sum(w_shape))
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(w_shape)]
    if bias:
        arrays.append(rng.standard_normal(w_shape[0]))
    parity(torch, lambda *a: F.conv2d(*a, **kw), lambda *a: torch.nn.functional.conv2d(*a, **kw),
           arrays, dtype)


def test_conv2d_gradcheck():
    rng = np.random.default_rng(2)
    x = Tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
    w = Tensor(rng.standard_normal((3, 2, 3, 2)), requires_grad=True)
    b = Tensor(rng.standard_normal(3), requires_grad=True)
    assert tg.gradcheck(lambda *a: F.conv2d(*a, stride=(2, 1), padding=1), [x, w, b])
    wg = Tensor(rng.standard_normal((4, 1, 2, 2)), requires_grad=True)
    assert tg.gradcheck(lambda a, c: F.conv2d(a, c, groups=2, dilation=2), [x, wg])


def test_conv2d_records_one_scope_and_one_matmul():
    x = Tensor(np.ones((1, 1, 4, 4)), requires_grad=True)
    out = F.conv2d(x, Tensor(np.ones((2, 1, 3, 3))), Tensor(np.ones(2)))
    names, stack = [], [out.grad_fn]
    while stack:
        n = stack.pop()
        assert n.scope.name == "conv2d"
        names.append(n.name)
        stack.extend(i.grad_fn for i in n.inputs if isinstance(i, Tensor) and i.grad_fn)
    assert names.count("im2col") == 1 and names.count("matmul") == 1


def test_conv2d_errors():
    x = Tensor(np.zeros((1, 2, 5, 5)))
    with pytest.raises(ValueError, match="has 2"):
        F.conv2d(x, Tensor(np.zeros((4, 3, 3, 3))))
    with pytest.raises(ValueError, match="smaller than the dilated kernel"):
        F.conv2d(x, Tensor(np.zeros((4, 2, 7, 3))))
    with pytest.raises(ValueError, match="'same' is not supported for strided"):
        F.conv2d(x, Tensor(np.zeros((4, 2, 3, 3))), padding="same", stride=2)
    with pytest.raises(ValueError, match="invalid padding string"):
        F.conv2d(x, Tensor(np.zeros((4, 2, 3, 3))), padding="full")
    with pytest.raises(ValueError, match="3-D .* or 4-D"):
        F.conv2d(Tensor(np.zeros((2, 5, 5, 1, 1))), Tensor(np.zeros((4, 2, 3, 3))))
    with pytest.raises(TypeError, match="dtype float64 but weight has dtype float32"):
        F.conv2d(x, Tensor(np.zeros((4, 2, 3, 3), np.float32)))
    with pytest.raises(ValueError, match="bias must have shape"):
        F.conv2d(x, Tensor(np.zeros((4, 2, 3, 3))), Tensor(np.zeros(3)))
    with pytest.raises(ValueError, match="stride must be at least 1"):
        F.conv2d(x, Tensor(np.zeros((4, 2, 3, 3))), stride=0)


# ---- pooling ---------------------------------------------------------------------------------

MAX_CASES = [
    dict(kernel_size=2),  # tiles the input: the reshape path
    dict(kernel_size=(2, 3), stride=(2, 3)),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=2, stride=1, padding=1, dilation=2),
    dict(kernel_size=3, stride=(1, 2), padding=(1, 0), ceil_mode=True),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", MAX_CASES)
@pytest.mark.parametrize("ties", [False, True])
def test_max_pool2d_parity(torch, dtype, kw, ties):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 8, 12))
    if ties:  # a ReLU'd input: whole windows of equal values; the first one gets the gradient
        x = np.maximum(np.round(x), 0)
    out = parity(torch, lambda a: F.max_pool2d(a, **kw),
                 lambda a: torch.nn.functional.max_pool2d(a, **kw), [x], dtype)
    _, idx = F.max_pool2d(Tensor(x), return_indices=True, **kw)
    _, tidx = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    assert out.shape == idx.shape


@pytest.mark.parametrize("ties", [False, True])
def test_max_pool2d_window_of_more_than_255_elements(torch, ties):
    """The winner's offset is kept in a uint8 up to 255 elements a window, wider beyond."""
    x = np.random.default_rng(5).standard_normal((2, 2, 20, 19))
    if ties:
        x = np.maximum(np.round(x), 0)
    kw = dict(kernel_size=(16, 17), stride=2)
    parity(torch, lambda a: F.max_pool2d(a, **kw),
           lambda a: torch.nn.functional.max_pool2d(a, **kw), [x], np.float64)
    _, idx = F.max_pool2d(Tensor(x), return_indices=True, **kw)
    _, tidx = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


def test_max_pool2d_nan_and_unbatched(torch):
    x = np.random.default_rng(4).standard_normal((3, 4, 4))
    x[0, 1, 1] = np.nan
    a = Tensor(x, requires_grad=True)
    out = F.max_pool2d(a, 2)
    ref = torch.nn.functional.max_pool2d(torch.tensor(x), 2)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())  # NaN where torch has NaN
    out.sum().backward()
    assert a.grad.numpy()[0, 1, 1] == 1.0
    # Several NaNs in a window: PyTorch's scan lets every NaN win, so the last one does.
    y = np.random.default_rng(5).standard_normal((1, 2, 4, 4))
    y[0, 0, 0, 0] = y[0, 0, 1, 1] = y[0, 1, 2, 3] = np.nan
    _, idx = F.max_pool2d(Tensor(y), 2, return_indices=True)
    _, tidx = torch.nn.functional.max_pool2d(torch.tensor(y), 2, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


def _has_element(o, stride, pad, dilation, kernel, size):
    return any(0 <= o * stride - pad + t * dilation < size for t in range(kernel))


def test_max_pool2d_windows_of_padding_and_of_minus_inf_match_torch(torch):
    """A dilated window may hold padding alone: PyTorch gives -inf there (it once read another
    channel's value here). A window whose real elements are all -inf picks PyTorch's index, the
    first position inside the input, not the padding before it (which pointed into the previous
    row or channel). The gradient of a padding-only window goes nowhere; every other window's goes
    to its index, in its own plane. Random geometries, inputs a third -inf (some all -inf)."""
    rng = np.random.default_rng(0)
    seen_padding_only = compared = 0
    for _ in range(600):
        h, w = (int(v) for v in rng.integers(1, 5, 2))
        k, d, s = ((int(a), int(b)) for a, b in rng.integers(1, 4, (3, 2)))
        kw = dict(kernel_size=k, stride=s, dilation=d, ceil_mode=bool(rng.integers(0, 2)),
                  padding=tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k))
        x = rng.standard_normal((2, 2, h, w))
        x[rng.random(x.shape) < (1.0 if rng.random() < 0.2 else 0.3)] = -np.inf
        try:
            tout, tidx = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)
        except RuntimeError:  # output too small: checked elsewhere
            continue
        compared += 1
        a = Tensor(x, requires_grad=True)
        out, idx = F.max_pool2d(a, return_indices=True, **kw)
        np.testing.assert_array_equal(out.numpy(), tout.numpy())
        np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
        g = rng.standard_normal(out.shape)
        out.backward(g)
        expected = np.zeros((4, h * w))
        oh, ow = out.shape[2:]
        for u in range(oh):
            for v in range(ow):
                if not (_has_element(u, s[0], kw["padding"][0], d[0], k[0], h)
                        and _has_element(v, s[1], kw["padding"][1], d[1], k[1], w)):
                    seen_padding_only += 1
                    continue
                for plane in range(4):
                    expected[plane, tidx.numpy().reshape(4, oh, ow)[plane, u, v]] += \
                        g.reshape(4, oh, ow)[plane, u, v]
        np.testing.assert_allclose(a.grad.numpy().reshape(4, -1), expected, rtol=1e-13, atol=0)
    assert compared > 300 and seen_padding_only > 30, (compared, seen_padding_only)


def test_max_pool2d_backward_is_one_gather_and_second_order_works():
    x = Tensor(np.random.default_rng(6).standard_normal((2, 2, 5, 5)), requires_grad=True)
    out = F.max_pool2d(x, 3, 1, padding=1)  # overlapping windows: one element can win twice
    names, stack = [], [out.grad_fn]
    while stack:
        node = stack.pop()
        assert node.scope.name == "max_pool2d"
        names.append(node.name)
        stack.extend(i.grad_fn for i in node.inputs if isinstance(i, Tensor) and i.grad_fn)
    # connect: the identity that keeps the gradient on the graph, so that the second derivative
    # with respect to the input is zeros (PyTorch's), not "unused"
    # (one reshape, of the input: the gather writes the output's shape, so that the output is
    # no view and an in-place op may follow it, MaxPool2d then ReLU(True))
    assert sorted(names) == ["connect", "getitem", "reshape"]
    assert tg.gradgradcheck(lambda a: F.max_pool2d(a, 3, 1, padding=1), [x])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), ceil_mode=True),
    dict(kernel_size=2, divisor_override=3),
    dict(kernel_size=3, padding=1, stride=1, divisor_override=2),
])
def test_avg_pool2d_parity(torch, dtype, kw):
    x = np.random.default_rng(5).standard_normal((2, 3, 7, 8))
    if kw["kernel_size"] == 2 and "padding" not in kw:
        x = x[:, :, :6]  # divisible: the reshape path
    parity(torch, lambda a: F.avg_pool2d(a, **kw),
           lambda a: torch.nn.functional.avg_pool2d(a, **kw), [x], dtype)


def test_pool_gradcheck():
    rng = np.random.default_rng(6)
    x = Tensor(rng.standard_normal((1, 2, 5, 6)), requires_grad=True)
    assert tg.gradcheck(lambda a: F.max_pool2d(a, 3, 2, padding=1, ceil_mode=True), [x])
    assert tg.gradcheck(lambda a: F.max_pool2d(a[:, :, :4], 2), [x])
    assert tg.gradcheck(lambda a: F.avg_pool2d(a, 3, 2, 1, count_include_pad=False), [x])


def test_pool_errors():
    x = Tensor(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match="pad should be at most half of effective kernel size"):
        F.max_pool2d(x, 2, padding=2)
    # a dilated kernel spans more, but PyTorch still caps the padding at half the kernel itself
    with pytest.raises(ValueError, match="pad should be smaller than or equal to half of kernel "
                                         "size, but got padW = 2, padH = 2, kW = 2, kH = 2"):
        F.max_pool2d(x, 2, stride=1, padding=2, dilation=3)
    with pytest.raises(ValueError, match="output size is too small"):
        F.avg_pool2d(x, 5)
    with pytest.raises(ValueError, match="divisor_override"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(TypeError, match="floating point"):
        F.max_pool2d(Tensor(np.zeros((1, 1, 4, 4), np.int64)), 2)


# ---- unfold / fold ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_unfold_fold_parity(torch, dtype):
    x = np.random.default_rng(7).standard_normal((2, 3, 6, 5))
    kw = dict(kernel_size=(2, 3), padding=1, stride=(2, 1), dilation=(1, 2))
    parity(torch, lambda a: F.unfold(a, **kw), lambda a: torch.nn.functional.unfold(a, **kw),
           [x], dtype)
    cols = np.random.default_rng(8).standard_normal(
        torch.nn.functional.unfold(torch.tensor(x), **kw).shape)
    parity(torch, lambda a: F.fold(a, (6, 5), **kw),
           lambda a: torch.nn.functional.fold(a, (6, 5), **kw), [cols], dtype)
    with pytest.raises(ValueError, match="expected size of input's dimension 2"):
        F.fold(Tensor(cols[:, :, :-1]), (6, 5), **kw)
    # unbatched, as torch: (C, H, W) -> (C*kh*kw, L) and back
    parity(torch, lambda a: F.unfold(a, **kw), lambda a: torch.nn.functional.unfold(a, **kw),
           [x[0]], dtype)
    parity(torch, lambda a: F.fold(a, (6, 5), **kw),
           lambda a: torch.nn.functional.fold(a, (6, 5), **kw), [cols[0]], dtype)


# ---- layers ----------------------------------------------------------------------------------

def _copy_params(ours, theirs, torch):
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(torch.from_numpy(dict(ours.named_parameters())[name].numpy()))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1, bias=False),
                                dict(padding="same", groups=2, dilation=2)])
def test_conv2d_layer_matches_torch(torch, dtype, kw):
    tg.manual_seed(0)
    ours = nn.Conv2d(4, 6, 3, dtype=dtype, **kw)
    theirs = torch.nn.Conv2d(4, 6, 3, dtype={np.float64: torch.float64,
                                             np.float32: torch.float32}[dtype], **kw)
    _copy_params(ours, theirs, torch)
    assert repr(ours) == repr(theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    x = np.random.default_rng(9).standard_normal((2, 4, 7, 7)).astype(dtype)
    xs, tx = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours(xs), theirs(tx)
    rtol = 1e-10 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=rtol, atol=rtol)
    g = np.random.default_rng(10).standard_normal(out.shape).astype(dtype)
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    np.testing.assert_allclose(xs.grad.numpy(), tx.grad.numpy(), rtol=rtol, atol=rtol)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(dict(ours.named_parameters())[name].grad.numpy(),
                                   p.grad.numpy(), rtol=rtol, atol=rtol * 10)


def test_conv2d_layer_init_and_checks(torch):
    tg.manual_seed(1)
    conv = nn.Conv2d(8, 16, (3, 5), groups=2)
    fan_in = 4 * 3 * 5
    bound = 1 / np.sqrt(fan_in)
    w, b = conv.weight.numpy(), conv.bias.numpy()
    assert w.shape == (16, 4, 3, 5) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.15 * bound  # U(-b, b) has std b / sqrt(3)
    tg.manual_seed(1)
    np.testing.assert_array_equal(nn.Conv2d(8, 16, (3, 5), groups=2).weight.numpy(), w)
    with pytest.raises(TypeError, match="float64 but the module's parameters are float32"):
        conv(Tensor(np.zeros((1, 8, 5, 5))))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="'same' is not supported for strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    assert nn.Conv2d(3, 4, 3, padding_mode="reflect").padding_mode == "reflect"  # F.pad's
    for mode in ("bogus", None):  # not a mode at all: torch's ValueError, before anything is built
        with pytest.raises(ValueError, match="padding_mode must be one of"):
            torch.nn.Conv2d(3, 4, 3, padding_mode=mode)
        with pytest.raises(ValueError, match="padding_mode must be one of"):
            nn.Conv2d(3, 4, 3, padding_mode=mode)


def test_pool_layers_match_torch(torch):
    x = np.random.default_rng(11).standard_normal((2, 3, 9, 9))
    for ours, theirs in [
        (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
        (nn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
        (nn.AvgPool2d(3, 2, 1), torch.nn.AvgPool2d(3, 2, 1)),
        (nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False),
         torch.nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False)),
    ]:
        assert repr(ours) == repr(theirs)
        parity(torch, ours, theirs, [x], np.float64)
    out, idx = nn.MaxPool2d(2, return_indices=True)(Tensor(x))
    assert idx.dtype == np.int64


def test_small_cnn_trains_like_torch(torch):
    """A conv-relu-pool-linear net, same weights and data, 3 SGD steps by hand: same loss and
    parameters as PyTorch in float64."""
    tg.manual_seed(2)
    ours = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, dtype=np.float64), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3, dtype=np.float64))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(),
                                 torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                                 torch.nn.Linear(4 * 4 * 4, 3)).double()
    _copy_params(ours, theirs, torch)
    rng = np.random.default_rng(12)
    x, y = rng.standard_normal((5, 1, 8, 8)), rng.integers(0, 3, 5)
    for _ in range(3):
        loss = F.cross_entropy(ours(Tensor(x)), y)
        ref = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.from_numpy(y))
        np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-10)
        ours.zero_grad()
        theirs.zero_grad()
        loss.backward()
        ref.backward()
        with tg.no_grad(), torch.no_grad():
            for (_, p), tp in zip(ours.named_parameters(), theirs.parameters()):
                p.data = p.data - 0.1 * p.grad.data
                tp -= 0.1 * tp.grad
    for (_, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_one_element_sequences_count_as_their_int_where_torch_takes_them(torch):
    """conv2d and the pools expand stride=[1] or kernel_size=(2,) as torch's _pair does; unfold
    and fold refuse them, as torch's do."""
    x, w = np.random.default_rng(0).standard_normal((1, 2, 6, 6)), np.ones((3, 2, 3, 3))
    tf = torch.nn.functional
    for kw in (dict(stride=[2]), dict(padding=(1,)), dict(dilation=(2,))):
        np.testing.assert_allclose(F.conv2d(Tensor(x), Tensor(w), **kw).numpy(),
                                   tf.conv2d(torch.tensor(x), torch.tensor(w), **kw).numpy(),
                                   rtol=1e-12)
    for kw in (dict(kernel_size=(2,)), dict(kernel_size=3, stride=(1,), padding=[1])):
        for ours, theirs in ((F.max_pool2d, tf.max_pool2d), (F.avg_pool2d, tf.avg_pool2d)):
            np.testing.assert_allclose(ours(Tensor(x), **kw).numpy(),
                                       theirs(torch.tensor(x), **kw).numpy(), rtol=1e-12)
    kw = dict(kernel_size=3, stride=(2,), padding=[1], dilation=(1,))  # the module too
    tg.manual_seed(0)
    ours = nn.Conv2d(2, 3, **kw).double()
    theirs = torch.nn.Conv2d(2, 3, **kw).double()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    np.testing.assert_allclose(ours(Tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12)
    with pytest.raises(ValueError, match="kernel_size must be an int or a pair of ints"):
        F.unfold(Tensor(x), kernel_size=(2,))


def test_float16_avg_pool_rounds_once_as_torch(torch):
    x = np.random.default_rng(0).standard_normal((2, 8, 10, 10)).astype(np.float16)
    for unbatched in (False, True):
        xi = x[0] if unbatched else x
        t, tt = Tensor(xi, requires_grad=True), torch.tensor(xi, requires_grad=True)
        y, yt = F.avg_pool2d(t, 3, 1, 1), torch.nn.functional.avg_pool2d(tt, 3, 1, 1)
        np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())  # 378 of 1,600 were 1 ulp off
        assert y.dtype == np.float16
        y.backward(Tensor(np.ones(y.shape, np.float16)))
        assert t.grad.dtype == np.float16


def test_unfold_and_fold_refuse_zero_sized_dimensions_as_torch():
    with pytest.raises(ValueError, match="non-zero dimensions"):
        F.unfold(Tensor(np.zeros((2, 0, 5, 5), np.float32)), 2)
    with pytest.raises(ValueError, match="non-zero dimensions"):
        F.fold(Tensor(np.zeros((2, 0, 16), np.float32)), 5, 2)
    assert F.unfold(Tensor(np.zeros((0, 1, 5, 5), np.float32)), 2).shape == (0, 4, 16)
