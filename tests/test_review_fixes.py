"""Bugs found by probing today's features against torch 2.13, one test per finding: each failed
before its fix (dtypes, torch's refusals, crashes on empty inputs)."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor

torch = pytest.importorskip("torch")
R = np.random.default_rng(7)

_TORCH = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32,
          np.dtype(np.int64): torch.int64, np.dtype(np.int32): torch.int32,
          np.dtype(np.bool_): torch.bool}


def _arr(dt, shape):
    a = R.integers(-3, 4, shape) if np.dtype(dt).kind != "f" else R.standard_normal(shape)
    return a.astype(dt)


def _same(o, t):
    t = t.detach().numpy()
    assert o.dtype == t.dtype and o.shape == t.shape
    np.testing.assert_allclose(o.data, t, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("fn", ["fmax", "fmin"])
@pytest.mark.parametrize("da,db", [(np.int64, np.int64), (np.int32, np.bool_),
                                   (np.bool_, np.bool_), (np.int32, np.int64)])
def test_fmax_fmin_keep_integer_dtypes(fn, da, db):
    # they returned float32 for integer and bool inputs; torch keeps the promoted dtype
    a, b = _arr(da, (3, 4)), _arr(db, (4,))
    _same(getattr(tg, fn)(Tensor(a), Tensor(b)),
          getattr(torch, fn)(torch.tensor(a), torch.tensor(b)))


@pytest.mark.parametrize("fn", ["fmax", "fmin", "xlogy", "copysign", "logaddexp2"])
def test_zero_dim_operand_does_not_widen(fn):
    # a 0-d float64 with float32 values gave float64; torch's result is float32
    a, b = np.abs(R.standard_normal(())) + 0.5, np.abs(_arr(np.float32, (2, 3))) + 0.5
    for x, y in ((a, b), (b, a)):
        _same(getattr(tg, fn)(Tensor(x), Tensor(y)),
              getattr(torch, fn)(torch.tensor(x), torch.tensor(y)))


def test_fmax_number_of_a_higher_category():
    # an integer tensor with a float number is float32 (not the number truncated to an integer)
    assert tg.fmax(Tensor(np.array([1, 3])), 2.5).tolist() == [2.5, 3.0]
    assert tg.fmax(Tensor(np.array([1, 3])), 2.5).dtype == np.float32


@pytest.mark.parametrize("op", ["add", "sub"])
@pytest.mark.parametrize("db", [np.float64, np.float32])
def test_float_alpha_with_integer_self_and_float_other(op, db):
    # torch checks alpha against the result dtype: int + 0.5 * float is fine (it was refused)
    a, b = _arr(np.int64, (3,)), _arr(db, (3,))
    _same(getattr(tg, op)(Tensor(a), Tensor(b), alpha=0.5),
          getattr(torch, op)(torch.tensor(a), torch.tensor(b), alpha=0.5))


def test_alpha_times_bool_other_keeps_self_dtype():
    a, b = _arr(np.int32, (3,)), _arr(np.bool_, (3,))
    _same(tg.add(Tensor(a), Tensor(b), alpha=2),
          torch.add(torch.tensor(a), torch.tensor(b), alpha=2))


@pytest.mark.parametrize("fn", [tg.add, tg.sub, tg.rsub])
def test_bool_alpha_refused_for_non_bool_results(fn):
    with pytest.raises(TypeError, match="Boolean alpha only supported for Boolean results"):
        fn(Tensor(np.ones(3)), Tensor(np.ones(3)), alpha=True)


def test_rsub_float_alpha_with_integers_refused():
    with pytest.raises(TypeError, match="must not be a floating point number"):
        tg.rsub(Tensor(np.ones(3, np.int64)), Tensor(np.ones(3, np.int64)), alpha=0.5)


@pytest.mark.parametrize("fn", ["cat", "hstack", "vstack", "dstack", "column_stack"])
@pytest.mark.parametrize("da,db", [(np.int64, np.float32), (np.bool_, np.int32)])
def test_concatenation_promotes_as_torch(fn, da, db):
    # int64 with float32 gave float64 (NumPy's promotion); torch's is float32
    a, b = _arr(da, (2, 3)), _arr(db, (2, 3))
    _same(getattr(tg, fn)([Tensor(a), Tensor(b)]),
          getattr(torch, fn)([torch.tensor(a), torch.tensor(b)]))


def test_concatenation_promotion_keeps_gradients():
    a = Tensor(R.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    out = tg.cat([a, Tensor(np.ones((1, 3), np.int64))])
    assert out.dtype == np.float32
    up = R.standard_normal(out.shape).astype(np.float32)
    out.backward(Tensor(up))
    np.testing.assert_array_equal(a.grad.data, up[:2])


@pytest.mark.parametrize("dims", [(0, 5), (0, -3), (2, 0)])
def test_rot90_dim_out_of_range(dims):
    # an out-of-range dim wrapped around (dim 5 of a 2-D tensor read as dim 1)
    with pytest.raises(ValueError, match="out of range"):
        tg.rot90(Tensor(np.ones((2, 2))), 1, dims)


def test_unique_keeps_nans_apart():
    # NumPy 2's unique merges NaNs; torch's keeps each one
    x = np.array([1.0, np.nan, np.nan, 1.0])
    for kw in ({}, {"return_inverse": True, "return_counts": True}):
        o, t = tg.unique(Tensor(x), **kw), torch.unique(torch.tensor(x), **kw)
        for a, b in zip(o if kw else (o,), t if kw else (t,)):
            np.testing.assert_array_equal(a.data, b.numpy())


@pytest.mark.parametrize("fn", ["unique", "unique_consecutive"])
@pytest.mark.parametrize("dim", [2, -3])
def test_unique_dim_out_of_range(fn, dim):
    with pytest.raises(ValueError, match="out of range"):
        getattr(tg, fn)(Tensor(np.ones((2, 3))), dim=dim)


@pytest.mark.parametrize("fn", ["unique", "unique_consecutive"])
def test_unique_dim_of_empty_and_zero_sized_dims(fn):
    # unique_consecutive crashed with a NumPy reshape error on an empty tensor
    for shape, dim in (((0,), 0), ((0, 3), 0)):
        x = np.ones(shape)
        o = getattr(tg, fn)(Tensor(x), dim=dim, return_inverse=True, return_counts=True)
        t = getattr(torch, fn)(torch.tensor(x), dim=dim, return_inverse=True, return_counts=True)
        for a, b in zip(o, t):
            assert a.shape == tuple(b.shape)
    with pytest.raises(ValueError, match="aren't selected"):
        getattr(tg, fn)(Tensor(np.ones((0, 3))), dim=1)
    with pytest.raises(ValueError, match="no dimensions"):
        getattr(tg, fn)(Tensor(np.array(1.0)), dim=0)


def test_searchsorted_rows_of_length_zero():
    # a (2, 0) sequence crashed in a NumPy reshape; torch answers 0 everywhere
    o = tg.searchsorted(Tensor(np.ones((2, 0))), Tensor(np.ones((2, 3))))
    t = torch.searchsorted(torch.ones(2, 0, dtype=torch.float64),
                           torch.ones(2, 3, dtype=torch.float64))
    np.testing.assert_array_equal(o.data, t.numpy())


def test_searchsorted_sorter_checked():
    # a NumPy IndexError from deep inside before; torch's words now
    seq, v = Tensor(np.array([3.0, 1.0, 2.0])), Tensor(np.ones(2))
    with pytest.raises(IndexError, match="sorter index out of range"):
        tg.searchsorted(seq, v, sorter=Tensor(np.array([0, 1, 5])))
    with pytest.raises(TypeError, match="sorter must be a tensor of long dtype"):
        tg.searchsorted(seq, v, sorter=Tensor(np.array([1.0, 2.0, 0.0])))


def test_take_index_must_be_int64():
    with pytest.raises(TypeError, match="Expected a long tensor for index"):
        tg.take(Tensor(np.ones(3)), Tensor(np.array([1], np.int32)))


@pytest.mark.parametrize("name,args", [
    ("soft_margin_loss", ()), ("multilabel_soft_margin_loss", ()), ("poisson_nll_loss", ()),
    ("gaussian_nll_loss", ("var",))])
@pytest.mark.parametrize("tdt", [np.int64, np.int32])
def test_losses_take_integer_targets(name, args, tdt):
    # +-1 labels or Poisson counts held as integers were a TypeError; torch takes them and
    # computes in the input's dtype
    import torch.nn.functional as TF

    import tinygrad_norm.functional as F
    x = R.standard_normal((3, 4))
    t = R.integers(-1, 3, (3, 4)).astype(tdt)
    if name == "multilabel_soft_margin_loss":
        t = np.abs(t) % 2
    var = np.abs(R.standard_normal((3, 4))) + 0.5
    ours = [Tensor(x, requires_grad=True), Tensor(t)] + [Tensor(var)] * len(args)
    theirs = [torch.tensor(x, requires_grad=True), torch.tensor(t)]
    theirs += [torch.tensor(var)] * len(args)
    o, th = getattr(F, name)(*ours), getattr(TF, name)(*theirs)
    _same(o, th)
    o.backward()
    th.backward()
    np.testing.assert_allclose(ours[0].grad.data, theirs[0].grad.numpy(), rtol=1e-10, atol=1e-12)


_EMPTY_INDEX = [
    ("scatter_reduce amax", lambda x, s: x.scatter_reduce(0, _I2, s, "amax"), (0, 4)),
    ("scatter_reduce mean", lambda x, s: x.scatter_reduce(0, _I2, s, "mean",
                                                          include_self=False), (0, 4)),
    ("scatter_add", lambda x, s: x.scatter_add(0, _I2, s), (0, 4)),
    ("scatter", lambda x, s: x.scatter(0, _I2, s), (0, 4)),
    ("index_copy", lambda x, s: x.index_copy(0, _I1, s), (0, 4)),
    ("index_add", lambda x, s: x.index_add(0, _I1, s, alpha=2), (0, 4)),
    ("index_reduce", lambda x, s: x.index_reduce(0, _I1, s, "prod"), (0, 4))]


def _empty_index(lib):
    global _I1, _I2
    wrap = Tensor if lib is tg else torch.tensor
    _I1, _I2 = wrap(np.zeros(0, np.int64)), wrap(np.zeros((0, 4), np.int64))


@pytest.mark.filterwarnings("ignore:index_reduce")  # torch's beta notice
@pytest.mark.parametrize("name,fn,src_shape", _EMPTY_INDEX)
def test_empty_index_leaves_source_with_a_zero_gradient(name, fn, src_shape):
    # an empty index returned a clone of self: the source fell off the graph and its .grad
    # stayed None, where torch's is zeros of its shape
    x, s = R.standard_normal((3, 4)), R.standard_normal(src_shape)
    _empty_index(tg)
    xo, so = Tensor(x, requires_grad=True), Tensor(s, requires_grad=True)
    out = fn(xo, so)
    up = R.standard_normal((3, 4))
    out.backward(Tensor(up))
    _empty_index(torch)
    xt, st = torch.tensor(x, requires_grad=True), torch.tensor(s, requires_grad=True)
    fn(xt, st).backward(torch.tensor(up))
    np.testing.assert_array_equal(out.data, x)
    # (torch's prod gradient is up * x / x: equal up to rounding)
    np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), rtol=1e-14, atol=0)
    assert so.grad is not None
    np.testing.assert_array_equal(so.grad.data, st.grad.numpy())


def test_empty_index_with_a_bigger_source_gives_it_zeros():
    # torch 2.13's backward raises here (its gradient has the index's shape, not src's)
    _empty_index(tg)
    s = Tensor(R.standard_normal((2, 4)), requires_grad=True)
    Tensor(np.ones((3, 4))).scatter_reduce(0, _I2, s, "prod").sum().backward()
    np.testing.assert_array_equal(s.grad.data, np.zeros((2, 4)))


def test_sinc_second_derivative_at_zero():
    # the value 1 at 0 was a constant: the Hessian there was 0, not sinc''(0) = -pi**2 / 3
    x = Tensor(np.array([0.0, 0.3, -1.2, 0.0]), requires_grad=True)
    g, = tg.grad(tg.sinc(x).sum(), [x], create_graph=True)
    h, = tg.grad(g.sum(), [x])
    xt = torch.tensor(x.data, requires_grad=True)
    gt, = torch.autograd.grad(torch.sinc(xt).sum(), [xt], create_graph=True)
    ht, = torch.autograd.grad(gt.sum(), [xt])
    np.testing.assert_allclose(h.data[[1, 2]], ht.numpy()[[1, 2]], rtol=1e-12)
    np.testing.assert_allclose(h.data[[0, 3]], -np.pi ** 2 / 3, rtol=1e-14)  # torch: NaN
    np.testing.assert_array_equal(tg.sinc(x).data[[0, 3]], 1.0)
    assert tg.gradgradcheck(tg.sinc, [x])


def test_addcdiv_divides_in_the_result_dtype():
    # float32 tensor1 / tensor2 was divided in float32 and only then added to a float64 input
    x = R.standard_normal(5)
    a, b = R.standard_normal(5).astype(np.float32), (R.random(5) + 0.5).astype(np.float32)
    o = tg.addcdiv(Tensor(x), Tensor(a), Tensor(b), value=0.3)
    t = torch.addcdiv(torch.tensor(x), torch.tensor(a), torch.tensor(b), value=0.3)
    assert o.dtype == np.float64
    np.testing.assert_allclose(o.data, t.numpy(), rtol=1e-15, atol=1e-15)


def test_triplet_with_distance_module_default_distance_is_a_child():
    # torch's default distance is a PairwiseDistance child (repr, named_modules)
    import tinygrad_norm.nn as nn
    m, t = nn.TripletMarginWithDistanceLoss(margin=0.5), torch.nn.TripletMarginWithDistanceLoss(
        margin=0.5)
    assert repr(m) == repr(t)
    assert [n for n, _ in m.named_modules()] == [n for n, _ in t.named_modules()]
    a, p, q = (R.standard_normal((3, 4)) for _ in range(3))
    np.testing.assert_allclose(m(Tensor(a), Tensor(p), Tensor(q)).data,
                               t(torch.tensor(a), torch.tensor(p), torch.tensor(q)).numpy(),
                               rtol=1e-12)
