"""Mixed dtypes in arithmetic give PyTorch's result type, not NumPy's: a float tensor with an
integer one keeps the float dtype, an integer tensor with a Python float is float32, integer
division is float32, a 0-d operand does not widen a dimensioned one of its kind."""
import numpy as np
import pytest

import tinygrad_norm as tg

T = tg.Tensor
OPS = ["__add__", "__sub__", "__mul__", "__truediv__", "__pow__", "__radd__", "__rsub__",
       "__rmul__", "__rtruediv__", "__rpow__"]
PAIRS = [  # (dtype, shape) of each operand
    ((np.float32, (3,)), (np.int64, (3,))), ((np.float32, (3,)), (np.float64, ())),
    ((np.int64, (3,)), (np.float64, ())), ((np.int32, (3,)), (np.int64, ())),
    ((np.int64, (3,)), (np.int64, (3,))), ((np.float16, (3,)), (np.int64, (3,))),
    ((np.float64, ()), (np.float32, (3,))), ((np.int64, ()), (np.float32, (3,))),
    ((np.uint8, (3,)), (np.int64, (3,))), ((np.float32, (3,)), (np.float64, (3,))),
    ((np.bool_, (3,)), (np.float32, (3,))), ((np.int32, (3,)), (np.float16, ())),
    ((np.bool_, (3,)), (np.int64, ())), ((np.bool_, (3,)), (np.uint8, ())),
    ((np.uint8, (3,)), (np.int64, ())), ((np.float16, (3,)), (np.float32, ())),
]


def _dtype(fn):
    try:
        return str(fn().dtype).replace("torch.", "")
    except (RuntimeError, TypeError):
        return "error"


@pytest.mark.parametrize("pair", PAIRS)
def test_two_tensors_promote_as_torch(torch, pair):
    (da, sa), (db, sb) = pair
    a, b = np.full(sa, 3, da), np.full(sb, 2, db)
    for op in OPS[:5]:  # both orders; torch's reflected methods with a tensor are other ops
        for x, y in ((a, b), (b, a)):
            theirs = _dtype(lambda: getattr(torch.from_numpy(x), op)(torch.from_numpy(y)))
            if theirs != "error":
                assert _dtype(lambda: getattr(T(x), op)(T(y))) == theirs, (pair, op)


@pytest.mark.parametrize("dt", [np.int64, np.int32, np.uint8, np.bool_])
@pytest.mark.parametrize("number", [2, 2.5])
def test_an_integer_tensor_with_a_number_promotes_as_torch(torch, dt, number):
    a = np.array([1, 2, 1], dt) if dt != np.bool_ else np.array([True, False, True])
    for op in OPS:
        theirs = _dtype(lambda: getattr(torch.from_numpy(a), op)(number))
        if theirs != "error":
            with np.errstate(divide="ignore"):  # 2 / False: inf, as torch (which says nothing)
                assert _dtype(lambda: getattr(T(a), op)(number)) == theirs, (dt, number, op)


def test_a_float32_loss_over_integer_counts_stays_float32(torch):
    # a masked mean: float32 errors times an int mask over an int count
    rng = np.random.default_rng(0)
    err = rng.standard_normal((4, 5)).astype(np.float32)
    mask = (rng.random((4, 5)) > 0.3).astype(np.int64)
    x = T(err, requires_grad=True)
    loss = (x * T(mask)).sum() / T(mask).sum()
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32
    xt = torch.tensor(err, requires_grad=True)
    lt = (xt * torch.from_numpy(mask)).sum() / torch.from_numpy(mask).sum()
    lt.backward()
    assert str(lt.dtype) == "torch.float32"
    np.testing.assert_allclose(loss.item(), lt.item(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6)


def test_create_graph_keeps_the_promoted_dtype():
    x = T(np.array([1.0, 2.0], np.float32), requires_grad=True)
    n = T(np.array([3, 4]))
    (g,) = tg.grad((x * x * n).sum(), [x], create_graph=True)
    (gg,) = tg.grad(g.sum(), [x])
    assert g.dtype == gg.dtype == np.float32
    np.testing.assert_array_equal(gg.numpy(), [6.0, 8.0])


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_write_into_a_promoted_operand_is_refused_as_torch(torch, create_graph):
    # the node saves a float32 copy of the int64 operand; the write is into the tensor itself
    for lib, Tensor in ((torch, torch.tensor), (tg, T)):
        x = Tensor(np.array([1.0, 2.0, 3.0], np.float32)).requires_grad_(True)
        m = Tensor(np.array([1, 2, 3]))
        y = (x * x * m).sum()
        with lib.no_grad():
            m += 10
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            (lib.autograd.grad if lib is torch else tg.grad)(y, [x], create_graph=create_graph)


@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_rounded_division_takes_torchs_result_type(torch, mode):
    ints, f32 = np.array([7, -8, 9]), np.array([2.5, 3.0, -2.0], np.float32)
    for a, b in ((ints, 2.0), (ints, 2), (f32, ints), (ints, f32), (ints, np.array(2.0))):
        bt = torch.from_numpy(b) if isinstance(b, np.ndarray) else b
        theirs = torch.from_numpy(a).div(bt, rounding_mode=mode)
        mine = T(a).div(T(b) if isinstance(b, np.ndarray) else b, rounding_mode=mode)
        assert str(theirs.dtype) == f"torch.{mine.dtype}"
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
