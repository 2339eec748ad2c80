"""PyTorch's shape, indexing and reduction functions (tensor_index.py, composites of indexing,
Scatter, selects and reductions) and the differentiable builders of creation.py against torch
2.13: values and every input's gradient under a random upstream gradient in float64 (tight)
and float32, gradcheck and gradgradcheck in float64, the non-differentiable ones' values and
dtypes, and torch's errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import given, strategies as st  # noqa: E402

import tinygrad_norm as tg  # noqa: E402
from tinygrad_norm import Tensor  # noqa: E402

from conftest import torch_parity  # noqa: E402

RTOL = {np.float64: 1e-10, np.float32: 2e-5}


def _r(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _ties(shape, seed=0):
    return np.round(np.random.default_rng(seed).standard_normal(shape))  # many equal values


def _parity(torch, ours, theirs, arrays, dtype):
    torch_parity(torch, ours, theirs, arrays, dtype, RTOL[dtype], seed=7, unused_ok=True)


I2 = np.array([[2, 0, 2, 1], [1, 1, 0, 0]])  # a (2, 4) scatter index with repeats
U2 = np.array([[2, 0, 1], [0, 1, 2]])  # a (2, 3) index, each row a permutation


def _ix(torch, a):
    return torch.tensor(a)


CASES = {
    "t": (lambda x: x.t(), lambda x: x.t(), [(3, 4)]),
    "t_1d": (lambda x: x.t(), lambda x: x.t(), [(3,)]),
    "mm": (lambda a, b: a.mm(b), lambda a, b: a.mm(b), [(3, 4), (4, 2)]),
    "unbind": (lambda x: tg.stack(list(x.unbind(1))), None, [(2, 3, 2)]),
    "movedim": (lambda x: x.movedim((0, 2), (2, 0)), lambda x: x.movedim((0, 2), (2, 0)),
                [(2, 3, 4)]),
    "movedim_int": (lambda x: tg.movedim(x, -1, 0), lambda x: x.movedim(-1, 0), [(2, 3, 4)]),
    "narrow": (lambda x: x.narrow(1, -3, 2), lambda x: x.narrow(1, -3, 2), [(4, 5)]),
    "unflatten": (lambda x: x.unflatten(1, (3, -1)), lambda x: x.unflatten(1, (3, -1)),
                  [(2, 6)]),
    "tile_short": (lambda x: x.tile((2,)), lambda x: x.tile((2,)), [(2, 3)]),
    "tile_long": (lambda x: x.tile((2, 1, 2)), lambda x: x.tile((2, 1, 2)), [(2, 3)]),
    "index_select": (lambda x: x.index_select(1, tg.tensor([2, 0, 2])), None, [(3, 4)]),
    "masked_select": (lambda x: x.masked_select(tg.Tensor(np.array([True, False, True]))),
                      None, [(2, 3)]),
    "masked_select_bcast": (lambda x: x.masked_select(tg.Tensor(np.array([[True], [False]]))),
                            None, [(3,)]),
    "repeat_interleave": (lambda x: x.repeat_interleave(2), lambda x: x.repeat_interleave(2),
                          [(2, 3)]),
    "repeat_interleave_dim": (lambda x: x.repeat_interleave(tg.tensor([1, 0, 3]), dim=1),
                              None, [(2, 3)]),
    "scatter_add": (lambda x, s: x.scatter_add(0, tg.tensor(I2), s), None, [(3, 4), (2, 4)]),
    "scatter_src": (lambda x, s: x.scatter(1, tg.tensor(U2), s), None, [(2, 4), (2, 3)]),
    "scatter_value": (lambda x: x.scatter(1, tg.tensor(U2), 2.5), None, [(2, 4)]),
    "index_add": (lambda x, s: x.index_add(0, tg.tensor([2, 0, 2]), s, alpha=2), None,
                  [(3, 4), (3, 4)]),
    "index_fill": (lambda x: x.index_fill(1, tg.tensor([0, -2]), -1.0), None, [(3, 4)]),
    "amax_ties": (lambda x: x.amax(1), lambda x: x.amax(1), ["ties", (4, 6)]),
    "amin_all": (lambda x: x.amin(), lambda x: x.amin(), ["ties", (3, 5)]),
    "amax_keep": (lambda x: tg.amax(x, (0, 2), True), lambda x: x.amax((0, 2), True),
                  [(2, 3, 4)]),
    "median_all_ties": (lambda x: x.median(), lambda x: x.median(), ["ties", (3, 4)]),
    "median_all_even": (lambda x: x.median(), lambda x: x.median(), [(2, 3)]),
    "median_dim": (lambda x: x.median(1).values, lambda x: x.median(1).values, [(3, 4)]),
    "median_dim_keep": (lambda x: x.median(0, keepdim=True).values,
                        lambda x: x.median(0, keepdim=True).values, [(5, 2)]),
    "norm_fro": (lambda x: x.norm(), lambda x: x.norm(), [(3, 4)]),
    "norm_2_dim": (lambda x: x.norm(2, 1), lambda x: x.norm(2, 1), [(3, 4)]),
    "norm_1": (lambda x: x.norm(1, 0, True), lambda x: x.norm(1, 0, True), [(3, 4)]),
    "norm_inf": (lambda x: x.norm(math.inf, 1), lambda x: x.norm(math.inf, 1), ["ties", (3, 4)]),
    "norm_ninf": (lambda x: x.norm(-math.inf), lambda x: x.norm(-math.inf), [(3, 4)]),
    "norm_3": (lambda x: x.norm(3, (0, 1)), lambda x: x.norm(3, (0, 1)), [(3, 4)]),
    "norm_fro_dims": (lambda x: x.norm("fro", (1, 2)), lambda x: x.norm("fro", (1, 2)),
                      [(2, 3, 4)]),
    "norm_zero_row": (lambda x: (x * tg.Tensor(np.array([[0.], [1.]], x.dtype))).norm(dim=1),
                      lambda x: (x * _T.tensor([[0.], [1.]], dtype=x.dtype)).norm(dim=1),
                      [(2, 3)]),
    "var_mean": (lambda x: tg.stack(list(tg.var_mean(x, 1))),
                 lambda x: _T.stack(list(_T.var_mean(x, 1))), [(3, 4)]),
    "std_mean_c0": (lambda x: tg.stack(list(tg.std_mean(x, 0, correction=0, keepdim=True))),
                    lambda x: _T.stack(list(_T.std_mean(x, 0, correction=0, keepdim=True))),
                    [(3, 4)]),
    "sum_to_size": (lambda x: x.sum_to_size(3, 1), lambda x: x.sum_to_size(3, 1), [(2, 3, 4)]),
    "add_alpha": (lambda a, b: a.add(b, alpha=2), lambda a, b: a.add(b, alpha=2),
                  [(3, 4), (4,)]),
    "sub_alpha": (lambda a, b: a.sub(b, alpha=0.5), lambda a, b: a.sub(b, alpha=0.5),
                  [(3, 4), (3, 4)]),
    "mul_div": (lambda a, b: a.mul(b).div(b + 3.0), lambda a, b: a.mul(b).div(b + 3.0),
                [(3, 4), (3, 4)]),
    "contiguous": (lambda x: x.T.contiguous() * 1.0, lambda x: x.T.contiguous() * 1.0,
                   [(3, 4)]),
    "cdist_2": (lambda a, b: tg.cdist(a, b), lambda a, b: _T.cdist(a, b), [(4, 3), (5, 3)]),
    "cdist_batch_1": (lambda a, b: tg.cdist(a, b, 1.0), lambda a, b: _T.cdist(a, b, 1.0),
                      [(2, 4, 3), (2, 5, 3)]),
    "cdist_inf": (lambda a, b: tg.cdist(a, b, math.inf), lambda a, b: _T.cdist(a, b, math.inf),
                  [(4, 3), (5, 3)]),
    "cdist_3": (lambda a, b: tg.cdist(a, b, 3), lambda a, b: _T.cdist(a, b, 3),
                [(4, 3), (5, 3)]),
    "cdist_same": (lambda a: tg.cdist(a, a), lambda a: _T.cdist(a, a), [(4, 3)]),
    "cross_none": (lambda a, b: tg.cross(a, b), lambda a, b: _T.cross(a, b, dim=1),
                   [(2, 3, 4), (2, 3, 4)]),
    "cross_bcast": (lambda a, b: tg.cross(a, b, dim=-1), lambda a, b: _T.cross(
        *_T.broadcast_tensors(a, b), dim=-1), [(4, 3), (3,)]),
    "diag_vec": (lambda x: tg.diag(x, 1), lambda x: _T.diag(x, 1), [(3,)]),
    "diag_vec_neg": (lambda x: tg.diag(x, -2), lambda x: _T.diag(x, -2), [(3,)]),
    "diag_mat": (lambda x: tg.diag(x, -1), lambda x: _T.diag(x, -1), [(3, 4)]),
    "diag_embed": (lambda x: tg.diag_embed(x, 1, 0, 2), lambda x: _T.diag_embed(x, 1, 0, 2),
                   [(2, 3)]),
    "diag_embed_default": (lambda x: tg.diag_embed(x), lambda x: _T.diag_embed(x), [(2, 3)]),
    "tensordot": (lambda a, b: tg.tensordot(a, b), lambda a, b: _T.tensordot(a, b),
                  [(2, 3, 4), (3, 4, 5)]),
    "tensordot_lists": (lambda a, b: tg.tensordot(a, b, ([1, 0], [0, 2])),
                        lambda a, b: _T.tensordot(a, b, ([1, 0], [0, 2])),
                        [(2, 3, 4), (3, 5, 2)]),
    "meshgrid_ij": (lambda a, b: tg.stack(list(tg.meshgrid(a, b))),
                    lambda a, b: _T.stack(list(_T.meshgrid(a, b, indexing="ij"))),
                    [(3,), (4,)]),
    "meshgrid_xy": (lambda a, b, c: tg.stack(list(tg.meshgrid(a, b, c, indexing="xy"))),
                    lambda a, b, c: _T.stack(list(_T.meshgrid(a, b, c, indexing="xy"))),
                    [(3,), (4,), (2,)]),
}

_T = None  # torch, set by the fixture below for the lambdas above


def _torch_ref(name, torch):
    """The torch side of the cases whose index arguments are torch tensors."""
    ix = torch.tensor
    return {
        "unbind": lambda x: torch.stack(list(x.unbind(1))),
        "index_select": lambda x: x.index_select(1, ix([2, 0, 2])),
        "masked_select": lambda x: x.masked_select(ix([True, False, True])),
        "masked_select_bcast": lambda x: x.masked_select(ix([[True], [False]])),
        "repeat_interleave_dim": lambda x: x.repeat_interleave(ix([1, 0, 3]), dim=1),
        "scatter_add": lambda x, s: x.scatter_add(0, ix(I2), s),
        "scatter_src": lambda x, s: x.scatter(1, ix(U2), s),
        "scatter_value": lambda x: x.scatter(1, ix(U2), 2.5),
        "index_add": lambda x, s: x.index_add(0, ix([2, 0, 2]), s, alpha=2),
        "index_fill": lambda x: x.index_fill(1, ix([0, -2]), -1.0),
    }[name]


@pytest.fixture
def T(torch):
    global _T
    _T = torch
    return torch


def _arrays(spec, seed=0):
    if spec and spec[0] == "ties":
        return [_ties(s, seed + i) for i, s in enumerate(spec[1:])]
    return [_r(s, seed + i) for i, s in enumerate(spec)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(CASES))
def test_parity_with_torch(T, name, dtype):
    ours, theirs, spec = CASES[name]
    _parity(T, ours, theirs or _torch_ref(name, T), _arrays(spec), dtype)


GRADCHECK = ["index_select", "masked_select_bcast", "repeat_interleave_dim", "scatter_add",
             "scatter_src", "index_add", "index_fill", "amax_ties", "median_all_ties",
             "median_dim", "norm_2_dim", "norm_inf", "norm_3", "cdist_2", "cdist_batch_1",
             "cross_bcast", "diag_embed", "tensordot_lists", "meshgrid_xy", "narrow",
             "unbind", "movedim", "sum_to_size"]


@pytest.mark.parametrize("name", GRADCHECK)
def test_gradcheck(name):
    fn, _, spec = CASES[name]
    arrays = _arrays(spec)
    if name in ("amax_ties", "median_all_ties", "norm_inf"):  # ties: an exact kink; move off
        arrays = [a + 1e-3 * np.arange(a.size).reshape(a.shape) for a in arrays]
    xs = [Tensor(a, requires_grad=True) for a in arrays]
    assert tg.gradcheck(fn, xs) is True
    if name in ("scatter_add", "scatter_src", "index_add", "norm_2_dim", "cdist_2",
                "diag_embed", "masked_select_bcast"):
        assert tg.gradgradcheck(fn, xs) is True


def test_median_returns_torch_lower_median_and_indices(torch):
    a = np.array([[3.0, 1.0, 4.0, 2.0], [np.nan, 0.0, 5.0, 1.0], [7.0, 7.0, 7.0, 7.0]])
    got, ref = Tensor(a).median(1), torch.tensor(a).median(1)
    np.testing.assert_array_equal(got.values.data, ref.values.numpy())
    np.testing.assert_array_equal(got.indices.data[:2], ref.indices.numpy()[:2])
    assert got.indices.dtype == np.int64
    assert Tensor(np.array([1.0, 4.0, 2.0, 3.0])).median().item() == 2.0  # NumPy's: 2.5
    assert np.isnan(Tensor(a).median().item())


def test_reductions_without_gradients(torch):
    a = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    x, t = Tensor(a), torch.tensor(a)
    pairs = [(x.any(), t.any()), (x.all(1), t.all(1)), (x.any(0, True), t.any(0, True)),
             (tg.all(x > -2), torch.all(t > -2)), (x.count_nonzero(), t.count_nonzero()),
             (x.count_nonzero(0), t.count_nonzero(0)), (x.nonzero(), t.nonzero()),
             (tg.argsort(x, 1, True), torch.argsort(t, dim=1, descending=True, stable=True))]
    for ours, theirs in pairs:
        assert ours.dtype == np.dtype(str(theirs.dtype).replace("torch.", ""))
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    for o, r in zip(x.nonzero(as_tuple=True), t.nonzero(as_tuple=True)):
        np.testing.assert_array_equal(o.data, r.numpy())
    assert x.allclose(Tensor(a + 1e-9)) and not x.allclose(Tensor(a + 1e-3))
    assert tg.equal(x, Tensor(a.copy())) and not x.equal(Tensor(a[:1]))
    assert not Tensor(np.array([np.nan])).equal(Tensor(np.array([np.nan])))
    assert Tensor(np.array([np.nan])).allclose(Tensor(np.array([np.nan])), equal_nan=True)


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_div_rounding_modes(torch, mode):
    a = np.array([7, -7, 7, -7, 0, 5])
    b = np.array([2, 2, -2, -2, 3, 5])
    for dt in (np.int64, np.float32, np.float64):
        got = Tensor(a.astype(dt)).div(Tensor(b.astype(dt)), rounding_mode=mode)
        ref = torch.tensor(a.astype(dt)).div(torch.tensor(b.astype(dt)), rounding_mode=mode)
        assert got.dtype == dt
        np.testing.assert_array_equal(got.data, ref.numpy())
    x = Tensor(np.array([1.5, -2.5]), requires_grad=True)
    x.div(2.0, rounding_mode=mode).backward(np.ones(2))
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])  # torch's zero gradient
    with pytest.raises(ValueError, match="rounding_mode to be one of None"):
        x.div(2.0, rounding_mode="round")
    with pytest.raises(ZeroDivisionError):
        Tensor(np.array([1])).div(Tensor(np.array([0])), rounding_mode=mode)


def test_new_constructors_keep_dtype_and_conversions(torch):
    x = Tensor(np.zeros((2, 3), np.float64))
    for t in (x.new_zeros(2, 2), x.new_ones((4,)), x.new_full((1, 2), 3), x.new_empty(3),
              x.new_tensor([1, 2])):
        assert t.dtype == np.float64 and t.is_leaf and not t.requires_grad
    assert x.new_zeros(2, dtype=np.int64).dtype == np.int64
    assert x.new_tensor([1.5], requires_grad=True).requires_grad
    i = Tensor(np.arange(6).reshape(2, 3))
    assert i.type_as(x).dtype == np.float64 and x.view_as(i.reshape(3, 2)).shape == (3, 2)
    assert x.reshape_as(Tensor(np.zeros(6))).shape == (6,)
    assert x.cpu() is x and x.contiguous() is x
    tt = x.T.contiguous()
    assert tt is not x and tt.data.flags.c_contiguous
    assert (x.nelement(), x.element_size(), x.nbytes, x.itemsize) == (6, 8, 48, 8)
    assert tg.numel(x) == 6 and tg.is_tensor(x) and not tg.is_tensor(x.data)


def test_detach_in_place():
    w = Tensor(np.ones(3), requires_grad=True)
    y = w * 2.0
    assert y.detach_() is y and y.is_leaf and not y.requires_grad
    (y * w).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [2.0, 2.0, 2.0])  # nothing through y


def test_function_wrappers_use_torch_semantics(torch):
    a = _r((2, 3, 4))
    x, t = Tensor(a), torch.tensor(a)
    pairs = [(tg.transpose(x, 0, 2), torch.transpose(t, 0, 2)),  # torch's swap, not NumPy's
             (tg.permute(x, (2, 0, 1)), torch.permute(t, (2, 0, 1))),
             (tg.flatten(x, 1), torch.flatten(t, 1)), (tg.reshape(x, (4, 6)),
                                                       torch.reshape(t, (4, 6))),
             (tg.squeeze(tg.unsqueeze(x, 1)), torch.squeeze(torch.unsqueeze(t, 1))),
             (tg.split(x, 2, 2)[1], torch.split(t, 2, 2)[1]),
             (tg.chunk(x, 3, 1)[2], torch.chunk(t, 3, 1)[2]),
             (tg.gather(x, 2, Tensor(np.zeros((2, 3, 1), np.int64))),
              torch.gather(t, 2, torch.zeros((2, 3, 1), dtype=torch.long))),
             (tg.sort(x, 1).values, torch.sort(t, 1).values),
             (tg.topk(x, 2).indices, torch.topk(t, 2).indices),
             (tg.unbind(x, 2)[3], torch.unbind(t, 2)[3]),
             (tg.index_select(x, 0, Tensor(np.array([1]))), torch.index_select(t, 0,
                                                                              torch.tensor([1])))]
    for ours, theirs in pairs:
        np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_integer_scatters_stay_integer(torch):
    x = np.arange(12).reshape(3, 4)
    got = Tensor(x).scatter_add(0, Tensor(I2), Tensor(np.ones((2, 4), np.int64)))
    ref = torch.tensor(x).scatter_add(0, torch.tensor(I2), torch.ones((2, 4), dtype=torch.long))
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got.data, ref.numpy())
    got = Tensor(x).index_fill(0, Tensor(np.array([1])), 7)
    np.testing.assert_array_equal(got.data, torch.tensor(x).index_fill(0, torch.tensor([1]),
                                                                       7).numpy())


def test_scatter_repeated_index_last_wins():
    x = Tensor(np.zeros(3), requires_grad=True)
    s = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    out = x.scatter(0, Tensor(np.array([1, 1, 0])), s)
    np.testing.assert_array_equal(out.data, [3.0, 2.0, 0.0])
    out.backward(np.array([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 30.0])
    np.testing.assert_array_equal(s.grad.data, [0.0, 20.0, 10.0])


F32 = np.float32
ERRORS = [
    (lambda: Tensor(np.zeros((2, 2, 2))).t(), ValueError,
     "t\\(\\) expects a tensor with <= 2 dimensions, but self is 3D"),
    (lambda: Tensor(np.zeros((2, 3))).mm(Tensor(np.zeros((2, 3)))), ValueError,
     "mat1 and mat2 shapes cannot be multiplied \\(2x3 and 2x3\\)"),
    (lambda: Tensor(np.zeros(3)).mm(Tensor(np.zeros((3, 3)))), ValueError,
     "self must be a matrix"),
    (lambda: Tensor(np.zeros(5)).narrow(0, 3, 4), ValueError,
     "start \\(3\\) \\+ length \\(4\\) exceeds dimension size \\(5\\)"),
    (lambda: Tensor(np.zeros(5)).narrow(0, 6, 1), IndexError, "start out of range"),
    (lambda: Tensor(np.zeros(5)).index_select(0, Tensor(np.array([7]))), IndexError,
     "index out of range in self"),
    (lambda: Tensor(np.zeros(5)).index_select(0, Tensor(np.array([0.5]))), TypeError,
     "Expected dtype int32 or int64 for index"),
    (lambda: Tensor(np.zeros(3)).scatter(0, Tensor(np.array([5])), Tensor(np.ones(1))),
     IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    (lambda: Tensor(np.zeros((2, 3))).scatter(1, Tensor(np.array([0])), 1.0), ValueError,
     "Index tensor must have the same number of dimensions as self tensor"),
    (lambda: Tensor(np.zeros(3)).masked_select(Tensor(np.zeros(3))), TypeError,
     "masked_select: expected BoolTensor for mask"),
    (lambda: Tensor(np.zeros((2, 3))).sum_to_size(3, 3), ValueError,
     "size \\{\\[3, 3\\]\\} is not expandable to size \\{\\[2, 3\\]\\}"),
    (lambda: Tensor(np.zeros(3)).unflatten(0, (2, 2)), ValueError,
     "unflatten: Provided sizes \\[2, 2\\] don't multiply up to the size of dim 0 \\(3\\)"),
    (lambda: tg.movedim(Tensor(np.zeros((2, 3))), (0, 1), (0,)), ValueError,
     "movedim: Invalid source or destination dims"),
    (lambda: Tensor(np.zeros(3, np.int64)).norm(), TypeError,
     "Expected a floating point tensor as input"),
    (lambda: Tensor(np.zeros((2, 2))).norm("abc"), ValueError, "p must be a number"),
    # 'nuc' is a matrix norm (test_linalg.py): over two dims only, torch's error otherwise
    (lambda: Tensor(np.zeros((2, 2, 2))).norm("nuc"), ValueError, "dim must be a 2-tuple"),
    (lambda: Tensor(np.zeros(0)).median(0), IndexError,
     "Expected reduction dim 0 to have non-zero size"),
    (lambda: Tensor(np.zeros(3, np.int64)).add(Tensor(np.ones(3, np.int64)), alpha=0.5),
     TypeError, "For integral input tensors, argument alpha must not be a floating point"),
    (lambda: tg.cdist(Tensor(np.zeros((2, 3))), Tensor(np.zeros((2, 4)))), ValueError,
     "X1 and X2 must have the same number of columns. X1: 3 X2: 4"),
    (lambda: tg.cdist(Tensor(np.zeros((2, 3))), Tensor(np.zeros((2, 3))), -1), ValueError,
     "cdist only supports non-negative p values"),
    (lambda: tg.cross(Tensor(np.zeros((2, 4))), Tensor(np.zeros((2, 4)))), ValueError,
     "no dimension of size 3"),
    (lambda: tg.diag(Tensor(np.zeros((2, 2, 2)))), ValueError, "Supports 1D or 2D tensors"),
    (lambda: tg.tensordot(Tensor(np.zeros((2, 3))), Tensor(np.zeros((2, 3))), 1), ValueError,
     "contracted dimensions need to match"),
    (lambda: tg.meshgrid(Tensor(np.zeros(2)), indexing="yx"), ValueError,
     "indexing must be one of \"xy\" or \"ij\""),
    (lambda: tg.t(np.zeros(2)), TypeError, "argument 'input' must be Tensor, not ndarray"),
    (lambda: Tensor(np.zeros(3)).index_add(0, Tensor(np.array([0])), Tensor(np.zeros(2))),
     ValueError, "does not fit"),
    (lambda: Tensor(np.zeros(3)).index_add(0, Tensor(np.array([-1])), Tensor(np.zeros(1))),
     IndexError, "index out of range in self"),
    (lambda: Tensor(np.zeros(3)).scatter(0, Tensor(np.array([1])), Tensor(np.ones(1, F32))),
     TypeError, "scatter\\(\\): Expected self.dtype to be equal to src.dtype"),
    (lambda: Tensor(np.zeros(3)).scatter_add(0, Tensor(np.array([-1])), Tensor(np.ones(1))),
     IndexError, "index -1 is out of bounds for dimension 0 with size 3"),
    (lambda: Tensor(np.zeros(3)).index_add(0, Tensor(np.array([1])), Tensor(np.ones(1, F32))),
     TypeError, "self \\(float64\\) and source \\(float32\\) must have the same scalar type"),
    (lambda: Tensor(np.zeros(3)).index_fill(0, Tensor(np.array([3])), 1.0), IndexError,
     "index 3 is out of bounds for dimension 0 with size 3"),
]


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_errors(case):
    fn, kind, match = ERRORS[case]
    with pytest.raises(kind, match=match):
        fn()


# ---- property-based: random shapes, dims and indices against torch ---------------------------


@st.composite
def _indexed(draw):
    """A shape of 1-3 dims, a dim, an index (with repeats) along it and a seed."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    k = draw(st.integers(0, 5))
    index = draw(st.lists(st.integers(0, shape[dim] - 1), min_size=k, max_size=k))
    return shape, dim, np.array(index, np.int64), draw(st.integers(0, 2 ** 16))


@given(_indexed())
def test_index_ops_property(torch, case):
    shape, dim, index, seed = case
    d = dim % len(shape)
    src_shape = shape[:d] + (index.size,) + shape[d + 1:]
    ti = torch.tensor(index)
    _parity(torch, lambda x: x.index_select(dim, Tensor(index)),
            lambda x: x.index_select(dim, ti), [_r(shape, seed)], np.float64)
    _parity(torch, lambda x, s: x.index_add(dim, Tensor(index), s, alpha=-1.5),
            lambda x, s: x.index_add(dim, ti, s, alpha=-1.5),
            [_r(shape, seed), _r(src_shape, seed + 1)], np.float64)
    _parity(torch, lambda x: x.index_fill(dim, Tensor(index), 0.5),
            lambda x: x.index_fill(dim, ti, 0.5), [_r(shape, seed)], np.float64)
    # a scatter index of the source's shape, drawn along dim from the index's values
    rng = np.random.default_rng(seed)
    sidx = rng.integers(0, shape[d], src_shape)
    _parity(torch, lambda x, s: x.scatter_add(dim, Tensor(sidx), s),
            lambda x, s: x.scatter_add(dim, torch.tensor(sidx), s),
            [_r(shape, seed), _r(src_shape, seed + 1)], np.float64)


@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.data())
def test_norm_and_reductions_property(torch, shape, data):
    nd = len(shape)
    dims = data.draw(st.lists(st.integers(0, nd - 1), unique=True, min_size=1, max_size=nd))
    p = data.draw(st.sampled_from([1, 2, 3, math.inf, -math.inf, "fro"]))
    keep = data.draw(st.booleans())
    a = _r(tuple(shape), len(dims))
    dims = tuple(dims)
    _parity(torch, lambda x: x.norm(p, dims, keep), lambda x: x.norm(p, dims, keep), [a],
            np.float64)
    _parity(torch, lambda x: x.amax(dims, keep), lambda x: x.amax(dims, keep), [a], np.float64)
    _parity(torch, lambda x: tg.var_mean(x, dims, keepdim=keep, correction=0)[0],
            lambda x: torch.var_mean(x, dims, keepdim=keep, correction=0)[0], [a], np.float64)
    d = dims[0]
    _parity(torch, lambda x: x.median(d, keep).values, lambda x: x.median(d, keep).values, [a],
            np.float64)
