"""Regressions for what porting torch's official tutorials found (the tutorials themselves run in
tests/test_tutorials_regressions.py). Each test failed before its fix."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import nn

torch = pytest.importorskip("torch")


# DCGAN's weights_init writes nn.init.normal_(m.weight.data, 0.0, 0.02): .data is the ndarray
# here, which nn.init refused ("expected a Tensor, got ndarray").

@pytest.mark.parametrize("name,args", [("normal_", (1.0, 0.02)), ("uniform_", (-0.1, 0.1)),
                                       ("constant_", (0.5,)), ("zeros_", ()),
                                       ("xavier_uniform_", ()), ("kaiming_normal_", ())])
def test_init_fills_the_data_array_in_place(name, args):
    tg.manual_seed(3)
    conv = nn.Conv2d(2, 4, 3)
    before = conv.weight.data.copy()
    arr = conv.weight.data
    out = getattr(nn.init, name)(conv.weight.data, *args)
    assert out is arr and conv.weight.data is arr           # the parameter's own memory
    assert not np.array_equal(arr, before)
    tg.manual_seed(3)
    twin = nn.Conv2d(2, 4, 3)
    tg.manual_seed(7)
    a = getattr(nn.init, name)(conv.weight.data, *args).copy()
    tg.manual_seed(7)
    b = getattr(nn.init, name)(twin.weight, *args).data
    np.testing.assert_array_equal(a, b)                        # the same draw as on the Tensor


def test_init_on_data_records_nothing_and_keeps_dtype():
    lin = nn.Linear(3, 2).float()
    nn.init.constant_(lin.bias.data, 0)
    assert lin.bias.dtype == np.float32 and not lin.bias.data.any()
    assert lin.bias.grad is None and lin.bias.requires_grad


def test_init_on_a_read_only_array_is_refused_before_drawing():
    arr = np.broadcast_to(np.zeros(3), (2, 3))
    state = tg.get_rng_state()
    with pytest.raises(ValueError, match="normal_: the array is read-only"):
        nn.init.normal_(arr)
    assert np.array_equal(tg.get_rng_state().data, state.data)


def test_init_on_an_integer_array_says_floating_point():
    with pytest.raises(TypeError, match="only floating-point"):
        nn.init.normal_(np.zeros(3, dtype=np.int64))


# "Save and load the model": torch.save(model, 'model.pth') pickles the whole module. Nothing is
# pickled here (a file never runs code); the error listed what can be saved but not what to do.

def test_save_of_a_whole_module_says_to_save_its_state_dict(tmp_path):
    model = nn.Sequential(nn.Linear(2, 3))
    with pytest.raises(TypeError, match=r"save its state_dict\(\) and load it into a new one "
                                        r"with load_state_dict\(\)"):
        tg.save(model, tmp_path / "model.pth")
    assert not (tmp_path / "model.pth").exists()
    opt = tg.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"a whole SGD is pickled"):
        tg.save({"opt": opt}, tmp_path / "o.pth")
    with pytest.raises(TypeError) as e:                         # other objects: no hint
        tg.save({"f": object()}, tmp_path / "x.pth")
    assert "state_dict" not in str(e.value)


# "Extending PyTorch" checks its Function with torch.autograd.gradcheck: tg.autograd had none.

def test_autograd_gradcheck_and_gradgradcheck_take_torchs_keywords():
    x = tg.tensor(np.random.default_rng(0).standard_normal(3), requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: (t ** 3).sum(), (x,), eps=1e-6, atol=1e-4)
    assert tg.autograd.gradgradcheck(lambda t: (t ** 3).sum(), (x,))
    wrong = lambda t: _WrongCube.apply(t)  # noqa: E731
    with pytest.raises(tg.GradcheckError):
        tg.autograd.gradcheck(wrong, (x,))
    assert tg.autograd.gradcheck(wrong, (x,), raise_exception=False) is False
    assert tg.autograd.gradcheck(wrong, (x,), check_forward_ad=True, check_backward_ad=False,
                                 check_undefined_grad=False, check_batched_grad=False)


class _WrongCube(tg.autograd.Function):
    """x**3 with a wrong backward and a right jvp: the two modes' checks tell them apart."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 2 * x ** 2

    @staticmethod
    def jvp(ctx, t):
        x, = ctx.saved_tensors
        return t * 3 * x ** 2


def test_forward_mode_gradcheck_finds_a_wrong_jvp():
    class WrongJvp(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return tg.exp(x)

        @staticmethod
        def jvp(ctx, t):
            x, = ctx.saved_tensors
            return t * 2 * tg.exp(x)

    x = tg.tensor(np.random.default_rng(1).standard_normal((2, 3)), requires_grad=True)
    with pytest.raises(tg.GradcheckError, match="forward mode"):
        tg.autograd.gradcheck(WrongJvp.apply, (x,), check_forward_ad=True,
                              check_backward_ad=False)


# "Forward-mode AD" asserts fwAD.unpack_dual(fwAD.make_dual(primal, tangent)).tangent is
# tangent: the tangent came back as a new Tensor over its array.

def test_unpack_dual_gives_back_the_tangent_object():
    fwAD = tg.autograd.forward_ad
    primal, tangent = tg.randn(3, 2, dtype=tg.float64), tg.randn(3, 2, dtype=tg.float64)
    with fwAD.dual_level():
        dual = fwAD.make_dual(primal, tangent)
        assert fwAD.unpack_dual(dual).tangent is tangent
        out = dual * 2                                      # a computed tangent: a new Tensor
        np.testing.assert_allclose(fwAD.unpack_dual(out).tangent.data, 2 * tangent.data)
        cast = fwAD.make_dual(primal, tg.randn(3, 2, dtype=tg.float32))
        t32 = fwAD.unpack_dual(cast).tangent                 # converted to the primal's dtype
        assert t32.dtype == tg.float64
    assert fwAD.unpack_dual(dual).tangent is None           # the level closed: no tangent


def test_unpack_dual_forgets_a_dead_dual():
    import gc
    from tinygrad_norm import forward_ad
    fwAD = tg.autograd.forward_ad
    with fwAD.dual_level():
        n = len(forward_ad._given)
        dual = fwAD.make_dual(tg.zeros(2, dtype=tg.float64), tg.ones(2, dtype=tg.float64))
        assert len(forward_ad._given) == n + 1
        del dual
        gc.collect()
        assert len(forward_ad._given) == n


# Spatial transformer networks: nn.Sequential(Conv2d, MaxPool2d(2, stride=2), ReLU(True), ...)
# refused the in-place ReLU: max pooling's output was a reshape of a gathered temporary, a view
# of another tensor. 1-D and 3-D max pooling the same (a squeeze, a reshape).

@pytest.mark.parametrize("shape,pool", [((2, 3, 8, 8), "max_pool2d"), ((3, 8, 8), "max_pool2d"),
                                        ((2, 3, 9), "max_pool1d"), ((3, 9), "max_pool1d"),
                                        ((2, 2, 6, 6, 6), "max_pool3d"),
                                        ((2, 6, 6, 6), "max_pool3d")])
def test_inplace_relu_after_max_pooling(shape, pool):
    rng = np.random.default_rng(0)
    x0, g0 = rng.standard_normal(shape), None
    x = tg.tensor(x0, requires_grad=True)
    out = getattr(tg.nn.functional, pool)(x * 2.0, 2, 2, ceil_mode=True)
    out.relu_()
    g0 = rng.standard_normal(out.shape)
    out.backward(tg.tensor(g0))
    tx = torch.tensor(x0, requires_grad=True)
    tout = getattr(torch.nn.functional, pool)(tx * 2.0, 2, 2, ceil_mode=True)
    tout.relu_()
    tout.backward(torch.tensor(g0))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)


def test_max_pool_with_indices_then_inplace():
    x = tg.tensor(np.random.default_rng(1).standard_normal((2, 3, 9)), requires_grad=True)
    out, idx = tg.nn.functional.max_pool1d(x * 1.0, 3, 2, return_indices=True)
    out.relu_()
    out.sum().backward()
    tout, tidx = torch.nn.functional.max_pool1d(torch.tensor(x.data), 3, 2, return_indices=True)
    np.testing.assert_array_equal(idx.data, tidx.numpy())
    assert out.shape == tuple(tout.shape)


# Spatial transformer networks start from the identity theta, where affine_grid puts every point
# on a pixel up to rounding; torch's 2-D kernel unnormalises with one fused multiply-add, so a
# point an ulp below a pixel took the other pixel pair's slope here: the gradient with respect
# to the grid (and theta) differed by O(1) at those points.

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("hw", [(7, 9), (28, 28), (5, 16)])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_identity_grid_gradient_is_torchs(dtype, hw, padding_mode):
    rng = np.random.default_rng(2)
    shape = (2, 1) + hw
    x0 = rng.standard_normal(shape).astype(dtype)
    th0 = np.tile(np.array([[1.0, 0, 0], [0, 1, 0]], dtype), (2, 1, 1))
    g0 = rng.standard_normal(shape).astype(dtype)
    tt = torch.tensor(th0, requires_grad=True)
    tout = torch.nn.functional.grid_sample(
        torch.tensor(x0), torch.nn.functional.affine_grid(tt, shape, align_corners=False),
        padding_mode=padding_mode, align_corners=False)
    tout.backward(torch.tensor(g0))
    th = tg.tensor(th0, requires_grad=True)
    out = tg.nn.functional.grid_sample(
        tg.tensor(x0), tg.nn.functional.affine_grid(th, shape, align_corners=False),
        padding_mode=padding_mode, align_corners=False)
    out.backward(tg.tensor(g0))
    tol = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(th.grad.data, tt.grad.numpy(), rtol=tol, atol=tol * 100)


def test_fused_unnormalize_rounds_once():
    from tinygrad_norm.functional.grid_sample import _fma64
    from fractions import Fraction
    a = np.random.default_rng(3).uniform(-1, 2, 2000)
    for n in (7, 28, 1023):
        got = _fma64(a, n / 2, -0.5)
        want = [float(Fraction(float(v)) * Fraction(n, 2) - Fraction(1, 2)) for v in a]
        np.testing.assert_array_equal(got, want)


# The seq2seq tutorial builds its datasets from torch.LongTensor(input_ids) (int32 arrays), the
# names-generation one its targets from torch.LongTensor(list): the typed legacy constructors
# did not exist.

@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "HalfTensor", "ByteTensor",
                                  "CharTensor", "ShortTensor", "IntTensor", "LongTensor",
                                  "BoolTensor"])
def test_typed_legacy_constructors_are_torchs(name):
    T, G = getattr(torch, name), getattr(tg, name)
    for args in [(np.arange(4, dtype=np.int32),), ([1.75, 2.0, 0.0],), ((2, 3),),
                 ([[1, 0], [0, 1]],), (2, 3), (0,), ()]:
        t, g = T(*args), G(*args)
        assert g.shape == tuple(t.shape) and str(g.dtype) == str(t.dtype).split(".")[1].replace(
            "bool", "bool"), (name, args)
        if not (args and isinstance(args[0], int)):  # sizes: torch's memory is uninitialised
            np.testing.assert_array_equal(g.data, t.numpy())
        assert isinstance(g, G) and not g.requires_grad
    other = "LongTensor" if name != "LongTensor" else "FloatTensor"
    assert not isinstance(getattr(tg, other)(2), G)
    assert not isinstance(np.zeros(2), G)


def test_typed_constructor_from_a_tensor_shares_or_refuses():
    x = tg.zeros(3, dtype=tg.int64)
    y = tg.LongTensor(x)
    y[0] = 5
    assert x[0].item() == 5                                  # torch's: the same memory
    with pytest.raises(TypeError, match=r"LongTensor\(\): expected a tensor of dtype int64 "
                                        r"\(got float32\)"):
        tg.LongTensor(tg.zeros(2))
    with pytest.raises(TypeError, match="must be a sequence"):
        tg.FloatTensor("abc")
    with pytest.raises(ValueError, match="negative dimension"):
        tg.FloatTensor(2, -1)
