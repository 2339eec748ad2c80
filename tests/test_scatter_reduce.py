"""torch's reduce forms of the scatters: ``scatter_reduce`` ('sum', 'prod', 'mean', 'amax',
'amin', with and without ``include_self``), ``index_reduce``, ``index_copy`` and the older
``scatter(..., reduce='add'|'multiply')``, against torch 2.13: values and both gradients under
a random upstream gradient (float64 tight, float32), repeated places, ties for amax/amin,
zeros for prod (one and two in a place, where torch's second derivative is refused), integer
tensors, the in-place forms, gradcheck and gradgradcheck, and torch's errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor

from conftest import torch_parity

RTOL = {np.float64: 1e-10, np.float32: 2e-5}
REDUCES = ("sum", "prod", "mean", "amax", "amin")


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():  # torch's "index_reduce() is in beta" and scatter(reduce=)
        warnings.simplefilter("ignore", UserWarning)
        yield


def _values(shape, reduce, seed):
    """Operands that exercise each reduction: integers in [-2, 2] for amax/amin (many ties,
    self among them), values away from 0 for prod (zeros are placed by the tests)."""
    rng = np.random.default_rng(seed)
    if reduce in ("amax", "amin"):
        return rng.integers(-2, 3, shape).astype(np.float64)
    if reduce == "prod":
        return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
    return rng.standard_normal(shape)


def _index(shape, n, seed):
    return np.random.default_rng(seed + 100).integers(0, n, shape)


def _parity(torch, ours, theirs, arrays, dtype):
    torch_parity(torch, ours, theirs, arrays, dtype, RTOL[dtype], seed=7)


# (self shape, src shape, index shape, dim): dim 0, dim -1 and the middle dim of a 3-D tensor,
# an index smaller than src, and many sources per place (repeats)
LAYOUTS = {
    "dim0": ((4, 3), (7, 3), (7, 3), 0),
    "dim_last": ((3, 4), (3, 9), (3, 9), -1),
    "middle": ((2, 3, 4), (2, 6, 4), (2, 6, 4), 1),
    "index_smaller": ((3, 4), (5, 6), (4, 3), 0),
    "1d": ((5,), (12,), (12,), 0),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", REDUCES)
def test_scatter_reduce_matches_torch(torch, reduce, include_self, layout, dtype):
    xs, ss, ishape, dim = LAYOUTS[layout]
    idx = _index(ishape, xs[dim], seed=len(layout))
    x, s = _values(xs, reduce, 1), _values(ss, reduce, 2)
    # torch's backward returns a gradient of the index's shape where src is bigger (its
    # engine then refuses it); the torch side reads the block the index covers, so its
    # gradient is the expected one: that block's, zeros elsewhere
    block = tuple(slice(k) for k in ishape)
    _parity(torch, lambda a, b: a.scatter_reduce(dim, Tensor(idx), b, reduce,
                                                 include_self=include_self),
            lambda a, b: a.scatter_reduce(dim, torch.tensor(idx), b[block], reduce,
                                          include_self=include_self), [x, s], dtype)


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["prod", "amax", "amin", "mean"])
def test_scatter_reduce_segment_index(torch, reduce, include_self):
    """An index that is one segment id per row, expanded over the columns (as ``index.expand``
    builds for a segment reduction), and the same with one column changed, against torch."""
    seg = np.array([3, 0, 3, 1, 0, 3, 3])
    idx = np.broadcast_to(seg[:, None], (7, 5)).copy()
    x, s = _values((4, 5), reduce, 3), _values((7, 5), reduce, 4)
    for index in (idx, np.where(np.arange(5) == 4, 2, idx)):
        _parity(torch, lambda a, b: a.scatter_reduce(0, Tensor(index), b, reduce,
                                                     include_self=include_self),
                lambda a, b: a.scatter_reduce(0, torch.tensor(index), b, reduce,
                                              include_self=include_self), [x, s], np.float64)


def test_amax_ties_share_the_gradient(torch):
    """Equal contributors split the gradient evenly: self and two sources tie at 5; and with
    include_self=False, a self equal to the result is still counted (torch's rule)."""
    x, s, idx = np.array([5.0, 1.0]), np.array([5.0, 5.0, 2.0, 0.0]), np.array([0, 0, 1, 1])
    for inc in (True, False):
        X, S = Tensor(x, requires_grad=True), Tensor(s, requires_grad=True)
        X.scatter_reduce(0, Tensor(idx), S, "amax", include_self=inc).backward(
            Tensor(np.array([3.0, 1.0])))
        assert np.array_equal(S.grad.data, [1.0, 1.0, 1.0, 0.0])  # 3 / 3 either way
        assert np.array_equal(X.grad.data, [1.0, 0.0] if inc else [0.0, 0.0])
    _parity(torch, lambda a, b: a.scatter_reduce(0, Tensor(idx), b, "amax", include_self=False),
            lambda a, b: a.scatter_reduce(0, torch.tensor(idx), b, "amax", include_self=False),
            [x, s], np.float64)


def test_amax_nan_propagates_as_torch(torch):
    x, s, idx = np.array([1.0, np.nan, 3.0]), np.array([np.nan, 2.0, 4.0]), np.array([0, 1, 1])
    for reduce in ("amax", "amin"):
        got = Tensor(x).scatter_reduce(0, Tensor(idx), Tensor(s), reduce).data
        ref = torch.tensor(x).scatter_reduce(0, torch.tensor(idx), torch.tensor(s), reduce)
        np.testing.assert_array_equal(got, ref.numpy())


# zeros in prod: in self, one in the sources of a place, two in one place, and self and a
# source together
PROD_ZEROS = {
    "self_zero": ([0.0, 4.0], [6.0, 5.0, 2.0]),
    "one_src_zero": ([3.0, 4.0], [0.0, 5.0, 2.0]),
    "two_src_zeros": ([3.0, 4.0], [0.0, 0.0, 2.0]),
    "self_and_src_zero": ([0.0, 4.0], [0.0, 5.0, 2.0]),
    "all_zero": ([0.0, 0.0], [0.0, 0.0, 0.0]),
}
PROD_IDX = np.array([0, 0, 1])


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("case", sorted(PROD_ZEROS))
def test_prod_with_zeros_first_derivative(torch, case, include_self):
    x, s = PROD_ZEROS[case]
    for fn in ("scatter_reduce", "index_reduce"):
        _parity(torch, lambda a, b: getattr(a, fn)(0, Tensor(PROD_IDX), b, "prod",
                                                   include_self=include_self),
                lambda a, b: getattr(a, fn)(0, torch.tensor(PROD_IDX), b, "prod",
                                            include_self=include_self), [x, s], np.float64)


def _second(grad, make, fn, x, s, include_self):
    """The gradient of (grad_x . w_x + grad_s . w_s) with respect to x and s (zeros where
    unused), grad_* the first derivative of the fold under the upstream gradient (2, 3)."""
    X, S = make(x, True), make(s, True)
    out = getattr(X, fn)(0, make(PROD_IDX, index=True), S, "prod", include_self=include_self)
    gx, gs = grad(out, (X, S), make([2.0, 3.0]), create_graph=True)
    total = (gx * make([1.0, -2.0])).sum() + (gs * make([1.5, 2.0, -1.0])).sum()
    found = grad(total, (X, S), allow_unused=True)
    return [np.zeros(len(v)) if h is None else np.array(h.tolist()) for v, h in zip((x, s), found)]


@pytest.mark.parametrize("fn", ["scatter_reduce", "index_reduce"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("case", ["self_zero", "one_src_zero", "self_and_src_zero"])
def test_prod_with_zeros_second_derivative(torch, case, include_self, fn):
    x, s = PROD_ZEROS[case]
    ours = _second(tg.grad, lambda a, rg=False, index=False: Tensor(
        np.array(a, None if index else np.float64), requires_grad=rg), fn, x, s, include_self)
    theirs = _second(torch.autograd.grad, lambda a, rg=False, index=False: torch.tensor(
        a, dtype=None if index else torch.float64, requires_grad=rg), fn, x, s, include_self)
    for got, ref in zip(ours, theirs):
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fn, arg", [("scatter_reduce", "src"), ("index_reduce", "source")])
def test_prod_two_zeros_refuses_double_backward_as_torch(fn, arg):
    """Two zeros of the source in one place: the first derivative is right (0 everywhere
    there) but torch refuses the second; so do we, when it is taken."""
    x, s = PROD_ZEROS["two_src_zeros"]
    X, S = Tensor(np.array(x), requires_grad=True), Tensor(np.array(s), requires_grad=True)
    out = getattr(X, fn)(0, Tensor(PROD_IDX), S, "prod")
    gx, gs = tg.grad(out, (X, S), Tensor(np.array([2.0, 3.0])), create_graph=True)
    assert np.array_equal(gs.data, [0.0, 0.0, 12.0])
    with pytest.raises(RuntimeError, match=f"Double backward is unsupported for {arg} when >1 "
                                           f"zeros in {arg}"):
        tg.grad(gs.sum(), (X, S))
    tg.grad(gx.sum(), (X, S), allow_unused=True)  # the self side has no such limit


# ---- gradcheck / gradgradcheck (float64, distinct values: no ties for amax/amin) -----------

@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", REDUCES)
def test_scatter_reduce_gradchecks(reduce, include_self):
    rng = np.random.default_rng(5)
    x = rng.permutation(12).reshape(3, 4) * 0.37 + 0.5
    s = rng.permutation(20).reshape(5, 4) * 0.29 - 2.7
    idx = _index((5, 4), 3, 9)
    xs = [Tensor(x, requires_grad=True), Tensor(s, requires_grad=True)]

    def f(a, b):
        return a.scatter_reduce(0, Tensor(idx), b, reduce, include_self=include_self)
    assert tg.gradcheck(f, xs) is True
    assert tg.gradgradcheck(f, xs) is True


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
def test_index_reduce_gradchecks(reduce):
    rng = np.random.default_rng(6)
    x = rng.permutation(12).reshape(3, 4) * 0.41 + 0.5
    s = rng.permutation(20).reshape(4, 5).T[:, :4] * 0.23 - 1.9
    idx = np.array([2, 0, 2, 2, 1])
    xs = [Tensor(x, requires_grad=True), Tensor(s.copy(), requires_grad=True)]
    for inc in (True, False):
        def f(a, b):
            return a.index_reduce(0, Tensor(idx), b, reduce, include_self=inc)
        assert tg.gradcheck(f, xs) is True
        assert tg.gradgradcheck(f, xs) is True


def test_prod_one_zero_gradgradcheck():
    """One zero in a place (torch differentiates that twice): checked against differences."""
    x = np.array([[1.3, -0.7], [0.9, 1.1]])
    s = np.array([[0.0, 1.4], [-1.2, 0.8], [0.6, -0.9]])
    idx = np.array([[0, 1], [0, 1], [1, 0]])
    xs = [Tensor(x, requires_grad=True), Tensor(s, requires_grad=True)]

    def f(a, b):
        return a.scatter_reduce(0, Tensor(idx), b, "prod")
    assert tg.gradcheck(f, xs) is True
    assert tg.gradgradcheck(f, xs) is True


# ---- index_reduce, index_copy --------------------------------------------------------------

IR_LAYOUTS = {"dim0": ((4, 3), 0, [3, 0, 3, 1, 3]), "dim_last": ((3, 4), -1, [1, 1, 0, 3]),
              "middle": ((2, 3, 4), 1, [2, 2, 0, 2, 1, 0])}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", sorted(IR_LAYOUTS))
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
def test_index_reduce_matches_torch(torch, reduce, include_self, layout, dtype):
    xs, dim, index = IR_LAYOUTS[layout]
    idx = np.array(index)
    ss = list(xs)
    ss[dim] = len(idx)
    x, s = _values(xs, reduce, 5), _values(tuple(ss), reduce, 6)
    _parity(torch, lambda a, b: a.index_reduce(dim, Tensor(idx), b, reduce,
                                               include_self=include_self),
            lambda a, b: a.index_reduce(dim, torch.tensor(idx), b, reduce,
                                        include_self=include_self), [x, s], dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_copy_matches_torch(torch, dim, dtype):
    idx = np.array([2, 0, 3])
    ss = [4, 5, 6]
    ss[dim] = 3
    _parity(torch, lambda a, b: a.index_copy(dim, Tensor(idx), b),
            lambda a, b: a.index_copy(dim, torch.tensor(idx), b),
            [_values((4, 5, 6), "sum", 1), _values(tuple(ss), "sum", 2)], dtype)


def test_index_copy_repeated_place_last_wins():
    x, s = Tensor(np.zeros(3), requires_grad=True), Tensor(np.array([1.0, 2.0]), requires_grad=True)
    out = x.index_copy(0, Tensor(np.array([1, 1])), s)
    assert np.array_equal(out.data, [0.0, 2.0, 0.0])
    out.backward(Tensor(np.array([1.0, 2.0, 3.0])))
    assert np.array_equal(s.grad.data, [0.0, 2.0]) and np.array_equal(x.grad.data, [1, 0, 3])


def test_index_copy_gradchecks():
    xs = [Tensor(_values((3, 4), "sum", 3), requires_grad=True),
          Tensor(_values((3, 2), "sum", 4), requires_grad=True)]
    f = lambda a, b: a.index_copy(1, Tensor(np.array([3, 0])), b)  # noqa: E731
    assert tg.gradcheck(f, xs) is True and tg.gradgradcheck(f, xs) is True


def test_the_other_index_functions_match_torch(torch):
    """index_add (with alpha), index_fill, index_select and their in-place forms."""
    x, s, idx = _values((4, 3), "sum", 1), _values((3, 3), "sum", 2), np.array([3, 0, 3])
    _parity(torch, lambda a, b: a.index_add(0, Tensor(idx), b, alpha=-2.5),
            lambda a, b: a.index_add(0, torch.tensor(idx), b, alpha=-2.5), [x, s], np.float64)
    _parity(torch, lambda a: a.index_fill(1, Tensor(np.array([2, 0])), 1.5),
            lambda a: a.index_fill(1, torch.tensor([2, 0]), 1.5), [x], np.float64)
    _parity(torch, lambda a: a.index_select(0, Tensor(idx)),
            lambda a: a.index_select(0, torch.tensor(idx)), [x], np.float64)
    xi = np.array([0, 0, 0])  # an integer tensor: torch casts alpha to its type (2.7 -> 2)
    for alpha in (2.7, -1.7, True):
        got = Tensor(xi).index_add(0, Tensor(np.array([1])), Tensor(np.array([2])), alpha=alpha)
        ref = torch.tensor(xi).index_add(0, torch.tensor([1]), torch.tensor([2]), alpha=alpha)
        assert got.dtype == np.int64 and np.array_equal(got.data, ref.numpy())
    for name, args in (("index_add_", (0, idx, s)), ("index_fill_", (1, np.array([2]), -1.0)),
                       ("index_copy_", (0, np.array([1, 2, 0]), s))):
        ours, ref = Tensor(x.copy()), torch.tensor(x.copy())
        getattr(ours, name)(*(Tensor(a) if isinstance(a, np.ndarray) else a for a in args))
        getattr(ref, name)(*(torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args))
        np.testing.assert_allclose(ours.data, ref.numpy(), rtol=1e-14)


# ---- integers, the in-place forms, the older scatter(reduce=), edge cases -----------------

@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", REDUCES)
def test_integer_self_keeps_its_dtype(torch, reduce, include_self):
    """'mean' rounds down (torch's floor division), the others fold exactly; no gradient."""
    x = np.array([[1, -2, 3], [4, 5, -6], [7, 0, 2]])
    s = np.array([[2, -7, 3], [-3, 4, 4], [5, 5, -1], [1, 2, 3]])
    idx = np.array([[0, 0, 2], [0, 1, 2], [2, 1, 2], [0, 0, 0]])
    got = tg.scatter_reduce(Tensor(x), 0, Tensor(idx), Tensor(s), reduce,
                            include_self=include_self)
    ref = torch.scatter_reduce(torch.tensor(x), 0, torch.tensor(idx), torch.tensor(s), reduce,
                               include_self=include_self)
    assert got.dtype == np.int64 and not got.requires_grad
    np.testing.assert_array_equal(got.data, ref.numpy())
    if reduce != "sum":
        got = tg.index_reduce(Tensor(x), 1, Tensor(np.array([2, 2, 0, 2])), Tensor(s.T.copy()),
                              reduce, include_self=include_self)
        ref = torch.index_reduce(torch.tensor(x), 1, torch.tensor([2, 2, 0, 2]),
                                 torch.tensor(s.T.copy()), reduce, include_self=include_self)
        np.testing.assert_array_equal(got.data, ref.numpy())


def test_in_place_forms(torch):
    x, s, idx = _values((4, 3), "sum", 1), _values((5, 3), "sum", 2), _index((5, 3), 4, 0)
    for reduce in REDUCES:
        ours, ref = Tensor(x.copy()), torch.tensor(x.copy())
        assert ours.scatter_reduce_(0, Tensor(idx), Tensor(s), reduce, include_self=False) is ours
        ref.scatter_reduce_(0, torch.tensor(idx), torch.tensor(s), reduce, include_self=False)
        np.testing.assert_allclose(ours.data, ref.numpy(), rtol=1e-12)
    for reduce in ("prod", "mean", "amax", "amin"):
        ours, ref = Tensor(x.copy()), torch.tensor(x.copy())
        ours.index_reduce_(0, Tensor(np.array([1, 1, 3])), Tensor(s[:3]), reduce)
        ref.index_reduce_(0, torch.tensor([1, 1, 3]), torch.tensor(s[:3]), reduce)
        np.testing.assert_allclose(ours.data, ref.numpy(), rtol=1e-12)
    for reduce in ("add", "multiply"):
        ours, ref = Tensor(x.copy()), torch.tensor(x.copy())
        ours.scatter_(0, Tensor(idx[:3]), Tensor(s), reduce=reduce)
        ref.scatter_(0, torch.tensor(idx[:3]), torch.tensor(s), reduce=reduce)
        np.testing.assert_allclose(ours.data, ref.numpy(), rtol=1e-12)


@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_older_scatter_reduce_values_and_no_derivative(torch, reduce):
    x, s, idx = _values((4, 3), "sum", 1), _values((5, 3), "sum", 2), _index((5, 3), 4, 0)
    got = Tensor(x).scatter(0, Tensor(idx), Tensor(s), reduce=reduce)
    ref = torch.tensor(x).scatter(0, torch.tensor(idx), torch.tensor(s), reduce=reduce)
    np.testing.assert_allclose(got.data, ref.numpy(), rtol=1e-12)
    got = Tensor(x).scatter(0, Tensor(idx), -1.5, reduce=reduce)  # the value form
    ref = torch.tensor(x).scatter(0, torch.tensor(idx), -1.5, reduce=reduce)
    np.testing.assert_allclose(got.data, ref.numpy(), rtol=1e-12)
    xi = np.array([1, 2, 3])  # an integer tensor takes the value cast to its dtype, as torch
    got = Tensor(xi).scatter(0, Tensor(np.array([0, 0, 2])), 2.5, reduce=reduce)
    ref = torch.tensor(xi).scatter(0, torch.tensor([0, 0, 2]), 2.5, reduce=reduce)
    np.testing.assert_array_equal(got.data, ref.numpy())
    # torch has no derivative here: backward raises (torch: RuntimeError too), for self or src
    for grad_x, grad_s in ((True, False), (False, True)):
        X, S = Tensor(x, requires_grad=grad_x), Tensor(s, requires_grad=grad_s)
        with pytest.raises(RuntimeError, match="derivative of scatter with reduce= is not"):
            X.scatter(0, Tensor(idx), S, reduce=reduce).sum().backward()


def test_empty_index_and_0d_self(torch):
    x = _values((3, 4), "sum", 1)
    for reduce in REDUCES:
        got = Tensor(x).scatter_reduce(0, Tensor(np.zeros((0, 4), np.int64)),
                                       Tensor(np.ones((2, 4))), reduce)
        np.testing.assert_array_equal(got.data, x)
        got = tg.tensor(2.0).scatter_reduce(0, tg.tensor([0, 0]), tg.tensor([3.0, 5.0]), reduce)
        ref = torch.tensor(2.0).scatter_reduce(0, torch.tensor([0, 0]), torch.tensor([3.0, 5.0]),
                                               reduce)
        assert got.shape == () and float(got.data) == pytest.approx(float(ref))
    got = tg.tensor(2.0).index_reduce(0, tg.tensor([0]), tg.tensor(3.0), "prod")
    assert got.shape == () and float(got.data) == 6.0
    got = Tensor(x).index_reduce(1, Tensor(np.zeros(0, np.int64)), Tensor(np.ones((3, 0))), "amax")
    np.testing.assert_array_equal(got.data, x)


def test_top_level_names():
    x, s, idx = Tensor(np.zeros(3)), Tensor(np.array([1.0, 2.0])), Tensor(np.array([2, 2]))
    assert np.array_equal(tg.scatter_reduce(x, 0, idx, s, "amax").data, [0, 0, 2])
    assert np.array_equal(tg.index_reduce(x, 0, idx, s, "amin", include_self=False).data,
                          [0, 0, 1])
    assert np.array_equal(tg.index_copy(x, 0, Tensor(np.array([0, 1])), s).data, [1, 2, 0])


# ---- errors: torch's wording, as ValueError/TypeError/IndexError, nothing written ---------

X34 = lambda: Tensor(np.zeros((3, 4)))  # noqa: E731
I34 = lambda v=0, dt=np.int64: Tensor(np.full((3, 4), v, dt))  # noqa: E731
S34 = lambda: Tensor(np.ones((3, 4)))  # noqa: E731
ERRORS = [
    (lambda: X34().scatter_reduce(2, I34(), S34(), "sum"), ValueError,  # the library's wording
     "dim 2 is out of range for a tensor of 2 dimension"),
    (lambda: X34().index_reduce(-3, Tensor(np.array([0])), Tensor(np.ones((1, 4))), "prod"),
     ValueError, "dim -3 is out of range for a tensor of 2 dimension"),
    (lambda: X34().scatter_reduce(0, I34(dt=np.int16), S34(), "sum"), TypeError,
     "Expected dtype int32/int64 for index"),
    (lambda: X34().scatter_reduce(0, Tensor(np.zeros((3, 4))), S34(), "sum"), TypeError,
     "Expected dtype int32 or int64 for index"),
    (lambda: X34().scatter_reduce(0, I34(), Tensor(np.ones((2, 4))), "sum"), ValueError,
     r"Expected index \[3, 4\] to be no larger than self \[3, 4\] apart from dimension 0 and "
     r"to be no larger size than src \[2, 4\]"),
    (lambda: X34().scatter_reduce(0, I34(3), S34(), "amax"), IndexError,
     "index 3 is out of bounds for dimension 0 with size 3"),
    (lambda: X34().scatter_reduce(0, I34(-1), S34(), "prod"), IndexError,
     "index -1 is out of bounds for dimension 0 with size 3"),
    (lambda: X34().scatter_reduce(0, I34(), S34(), "max"), ValueError,
     "reduce argument must be either sum, prod, mean, amax or amin, got max"),
    (lambda: X34().scatter_reduce(0, I34(), S34(), 3), TypeError,
     "argument 'reduce' must be str, not int"),
    (lambda: X34().scatter_reduce(0, I34(), 1.0, "sum"), TypeError,
     "argument 'src' must be Tensor, not float"),
    (lambda: X34().scatter_reduce(0, Tensor(np.zeros(3, np.int64)), S34(), "sum"), ValueError,
     "Index tensor must have the same number of dimensions as self tensor"),
    (lambda: X34().scatter_reduce(0, I34(), Tensor(np.ones((3, 4), np.float32)), "sum"),
     TypeError, r"scatter_reduce\(\): Expected self.dtype to be equal to src.dtype"),
    (lambda: X34().scatter_reduce(0, I34(), S34(), "sum", include_self=1), TypeError,
     "argument 'include_self' must be bool"),
    (lambda: Tensor(np.zeros(2, bool)).scatter_reduce(
        0, Tensor(np.array([0])), Tensor(np.ones(1, bool)), "mean"), TypeError,
     "not implemented for bool"),
    (lambda: X34().index_reduce(0, Tensor(np.array([0])), Tensor(np.ones((1, 4))), "sum"),
     ValueError, "index_reduce\\(\\): Expected reduce to be one of prod, mean, amax or amin "
                 "but got sum."),
    (lambda: X34().index_reduce(0, Tensor(np.array([3])), Tensor(np.ones((1, 4))), "prod"),
     IndexError, "index out of range in self"),
    (lambda: X34().index_reduce(0, Tensor(np.array([-1])), Tensor(np.ones((1, 4))), "prod"),
     IndexError, "index out of range in self"),
    (lambda: X34().index_reduce(0, Tensor(np.array([0], np.uint8)), Tensor(np.ones((1, 4))),
                                "amax"), TypeError, "Expected dtype int32/int64 for index"),
    (lambda: X34().index_reduce(0, Tensor(np.array([[0]])), Tensor(np.ones((1, 4))), "prod"),
     ValueError, "Index is supposed to be a vector"),
    (lambda: X34().index_reduce(0, Tensor(np.array([0])), Tensor(np.ones((2, 4))), "prod"),
     ValueError, r"index_reduce_\(\): Number of indices \(1\) should be equal to "
                 r"source.size\(dim\): \(2\), for dim: 0"),
    (lambda: X34().index_reduce(0, Tensor(np.array([0])), Tensor(np.ones((1, 5))), "prod"),
     ValueError, r"source tensor shape must match self tensor shape, excluding the specified "
                 r"dimension. Got self.shape = \[3, 4\] source.shape = \[1, 5\]"),
    (lambda: X34().index_reduce(0, Tensor(np.array([0])), Tensor(np.ones((1, 4), np.float32)),
                                "prod"), TypeError,
     r"index_reduce_\(\): self \(float64\) and source \(float32\) must have the same scalar"),
    (lambda: X34().index_copy(0, Tensor(np.array([0], np.int32)), Tensor(np.ones((1, 4)))),
     TypeError, "index_copy_\\(\\): Expected a long tensor for index, but got int32"),
    (lambda: X34().index_copy(0, Tensor(np.array([0, 3])), Tensor(np.ones((2, 4)))),
     IndexError, "index_copy_\\(\\): index 3 is out of bounds for dimension 0 with size 3"),
    (lambda: X34().index_copy(0, Tensor(np.array([0, 1])), Tensor(np.ones((3, 4)))),
     ValueError, r"index_copy_\(\): Number of indices \(2\) should be equal to "
                 r"source.size\(dim\) \(3\)"),
    (lambda: X34().index_copy(0, Tensor(np.array([0])), Tensor(np.ones((1, 4), np.float32))),
     TypeError, "index_copy_\\(\\): self and source expected to have the same dtype"),
    (lambda: X34().index_add(0, Tensor(np.array([0], np.int16)), Tensor(np.ones((1, 4)))),
     TypeError, r"index_add_\(\): Expected dtype int32/int64 for index"),
    (lambda: X34().index_select(0, Tensor(np.array([0], np.uint8))), TypeError,
     r"index_select\(\): Expected dtype int32/int64 for index"),
    (lambda: X34().index_fill(0, Tensor(np.array([0], np.int32)), 1.0), IndexError,
     r"index_fill_\(\): Expected dtype int64 for index."),
    (lambda: X34().scatter(0, I34(), S34(), reduce="sum"), ValueError,
     "reduce argument must be either add or multiply."),
    (lambda: X34().scatter(0, I34(5), S34(), reduce="add"), IndexError,
     "index 5 is out of bounds for dimension 0 with size 3"),
]


@pytest.mark.parametrize("call, kind, message", ERRORS)
def test_errors(call, kind, message):
    with pytest.raises(kind, match=message):
        call()


@pytest.mark.parametrize("write", [
    lambda t: t.scatter_reduce_(0, I34(3), S34(), "amax"),
    lambda t: t.scatter_reduce_(0, I34(), S34(), "maximum"),
    lambda t: t.index_reduce_(0, Tensor(np.array([0, 9])), Tensor(np.ones((2, 4))), "prod"),
    lambda t: t.index_copy_(0, Tensor(np.array([0, 1])), Tensor(np.ones((3, 4)))),
    lambda t: t.scatter_(0, I34(7), S34(), reduce="multiply"),
])
def test_in_place_errors_write_nothing(write):
    t = Tensor(np.arange(12.0).reshape(3, 4))
    with pytest.raises((ValueError, TypeError, IndexError)):
        write(t)
    assert np.array_equal(t.data, np.arange(12.0).reshape(3, 4))
