"""The top-level tensor functions where a bug hunt found them apart from torch 2.13: reductions
over ``dim=()``, norms and distances with zero elements and p < 1, float16 norms, rounding of
integers, max/min of 0-d and empty tensors, scatters into a 0-d tensor, multinomial's
zero-weight fill, one-argument repeat_interleave and where, torch's keywords, bool einsum,
empty median, floor_divide's dtype, torch's dtype names, the in-place scatters and fills, the
comparison methods, hinge_embedding_loss and the Cumprod primitive. Each is compared with torch
itself."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
import tinygrad_norm.nn as nn
from tinygrad_norm import Tensor
from conftest import assert_close

X = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.5]])


def _grad_pair(torch, a, fn_tg, fn_torch, seed=0):
    """Values and input gradients under a random upstream gradient."""
    x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = fn_tg(x), fn_torch(t)
    g = np.random.default_rng(seed).standard_normal(ref.shape).astype(a.dtype)
    out.backward(Tensor(g))
    ref.backward(torch.from_numpy(g))
    return out, ref, x.grad, t.grad


# ---- 1: dim=() reduces every dim --------------------------------------------------------------

@pytest.mark.parametrize("name", ["sum", "mean", "std", "var"])
@pytest.mark.parametrize("dim", [(), []], ids=["tuple", "list"])
def test_empty_dim_reduces_everything(torch, name, dim):
    a = X.astype(np.float32)
    out = getattr(tg, name)(Tensor(a), dim=dim)
    ref = getattr(torch, name)(torch.tensor(a), dim=dim)
    assert out.shape == tuple(ref.shape) == ()
    assert out.dtype == np.float32
    assert_close(out.numpy(), ref.numpy(), 1e-6)


@pytest.mark.parametrize("name", ["any", "all"])
def test_any_all_with_empty_dim_are_elementwise_as_torch(torch, name):
    out = getattr(tg, name)(Tensor(X), dim=())
    np.testing.assert_array_equal(out.numpy(), getattr(torch, name)(torch.tensor(X), dim=()))


def test_other_reductions_with_empty_dim(torch):
    t, x = torch.tensor(X), Tensor(X)
    for ours, theirs in [(tg.amax(x, ()), torch.amax(t, ())),
                         (tg.norm(x, dim=()), torch.norm(t, dim=())),
                         (tg.count_nonzero(x, ()), torch.count_nonzero(t, ())),
                         (tg.var_mean(x, ())[0], torch.var_mean(t, ())[0])]:
        assert_close(ours.numpy(), theirs.numpy(), 1e-12)


# ---- 2: p-norms at zero elements --------------------------------------------------------------

@pytest.mark.parametrize("p", [0.5, 0.3, 1, 1.5, 3, math.inf, -math.inf])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_norm_gradient_at_zero_elements_is_torchs(torch, p, dtype):
    a = np.array([[0.0, 1.0, -2.0], [2.0, 0.0, 0.0], [0.5, -0.5, 0.0]], dtype)
    out, ref, gx, gt = _grad_pair(torch, a, lambda x: tg.norm(x, p, 1),
                                  lambda t: torch.norm(t, p, 1))
    tol = 1e-12 if dtype == np.float64 else 2e-6
    assert gx.dtype == dtype
    assert_close(out.numpy(), ref.detach().numpy(), tol)
    assert_close(gx.numpy(), gt.numpy(), tol, 1e-7)


@pytest.mark.parametrize("p", [0.5, 1, 1.5, 2, 3, math.inf])
def test_cdist_gradient_where_coordinates_coincide(torch, p):
    # [0, 3] - [2, 1] ties for the largest coordinate: p=inf gives each its whole gradient
    a = np.array([[0.0, 1.0], [2.0, 0.0], [0.0, 3.0], [2.0, 1.0]])
    b = np.array([[0.0, 3.0], [2.0, 1.0]])
    out, ref, gx, gt = _grad_pair(torch, a, lambda x: tg.cdist(x, Tensor(b), p),
                                  lambda t: torch.cdist(t, torch.tensor(b), p))
    assert_close(out.numpy(), ref.detach().numpy(), 1e-12)
    assert_close(gx.numpy(), gt.numpy(), 1e-12, 1e-12)


def test_norm_gradcheck_with_p_below_one():
    a = np.array([[0.7, 1.3, -2.0], [2.0, -0.4, 0.9]])
    assert tg.gradcheck(lambda x: tg.norm(x, 0.5, 1), [Tensor(a, requires_grad=True)])


# ---- 3: float16 norms computed in float32 -----------------------------------------------------

def test_float16_norm_and_cosine_similarity_do_not_overflow(torch):
    h = np.array([[300.0, 400.0], [3.0, -4.0]], np.float16)
    for p in (2, 3, 0.5, 1):
        out, ref = tg.norm(Tensor(h), p, 1), torch.norm(torch.tensor(h), p, 1)
        assert out.dtype == np.float16
        assert_close(out.numpy(), ref.numpy(), 1e-3, what=f"p={p}")
    out = F.cosine_similarity(Tensor(h), Tensor(h * 2))
    ref = torch.nn.functional.cosine_similarity(torch.tensor(h), torch.tensor(h * 2))
    assert out.dtype == np.float16
    assert_close(out.numpy(), ref.numpy(), 1e-3)
    out = F.pairwise_distance(Tensor(h), Tensor(np.zeros_like(h)))
    ref = torch.nn.functional.pairwise_distance(torch.tensor(h), torch.zeros(2, 2).half())
    assert out.dtype == np.float16
    assert_close(out.numpy(), ref.numpy(), 1e-3)
    x = Tensor(h, requires_grad=True)
    tg.norm(x, 2, 1).sum().backward()
    assert x.grad.dtype == np.float16 and np.isfinite(x.grad.numpy()).all()


# ---- 5: round of integers ---------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_round_of_integers_is_the_input(torch, dtype):
    a = np.array([1, 2, 7], dtype)
    out, ref = tg.round(Tensor(a)), torch.round(torch.tensor(a))
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    y = Tensor(a.copy())
    assert y.round_() is y and y.dtype == dtype
    with pytest.raises(TypeError, match="not implemented for bool"):
        tg.round(Tensor(np.array([True])))


# ---- 6: max/min along a dim of 0-d and empty tensors ------------------------------------------

@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_of_0d_and_empty(torch, name):
    for dim in (0, -1):
        v, i = getattr(tg, name)(Tensor(np.float32(3.0)), dim)
        tv, ti = getattr(torch, name)(torch.tensor(3.0), dim)
        assert v.shape == () and float(v) == float(tv) and int(i) == int(ti) == 0
    with pytest.raises(ValueError, match="out of range"):  # torch: IndexError
        getattr(tg, name)(Tensor(np.float32(3.0)), 1)
    for keep in (False, True):
        v, i = getattr(tg, name)(tg.zeros(0, 3), 1, keep)
        tv, ti = getattr(torch, name)(torch.zeros(0, 3), 1, keep)
        assert v.shape == tuple(tv.shape) and i.shape == tuple(ti.shape)
        assert v.dtype == np.float32 and i.dtype == np.int64
    with pytest.raises(IndexError, match="Expected reduction dim 0 to have non-zero size"):
        getattr(tg, name)(tg.zeros(0, 3), 0)
    x = Tensor(np.float32(3.0), requires_grad=True)
    getattr(tg, name)(x, 0).values.backward()
    assert float(x.grad) == 1.0
    e = tg.zeros(0, 3, requires_grad=True)
    getattr(tg, name)(e, 1).values.sum().backward()
    assert e.grad.shape == (0, 3)


# ---- 7: scatters into a 0-d tensor -------------------------------------------------------------

def test_scatter_into_0d(torch):
    for idx, src in ((np.int64(0), 2.0), (np.array([0]), [2.0]), (np.array([0]), [2.0, 4.0])):
        ti, ts = torch.tensor(idx), torch.tensor(src)
        gi, gs = Tensor(np.asarray(idx)), Tensor(np.asarray(src, np.float32))
        ref = torch.scatter_add(torch.tensor(3.0), 0, ti, ts)
        assert_close(tg.scatter_add(tg.tensor(3.0), 0, gi, gs).numpy(), ref.numpy(), 0)
        ref = torch.scatter(torch.tensor(3.0), -1, ti, ts)
        assert_close(tg.scatter(tg.tensor(3.0), -1, gi, gs).numpy(), ref.numpy(), 0)
    out = tg.scatter(tg.tensor(3.0), 0, Tensor(np.int64(0)), value=5.0)
    assert out.shape == () and float(out) == 5.0
    x, s = tg.tensor(3.0, requires_grad=True), tg.tensor(2.0, requires_grad=True)
    tg.scatter_add(x, 0, Tensor(np.array([0])), s).backward()
    assert float(x.grad) == 1.0 and float(s.grad) == 1.0
    with pytest.raises(ValueError, match="same number of dimensions"):
        tg.scatter(tg.tensor(3.0), 0, Tensor(np.array([[0]])), tg.tensor(2.0))
    with pytest.raises(IndexError, match="out of bounds"):
        tg.scatter_add(tg.tensor(3.0), 0, Tensor(np.int64(1)), tg.tensor(2.0))


# ---- 8: multinomial without replacement past the non-zero weights ------------------------------

def test_multinomial_fills_with_zero_weight_categories(torch):
    w = [[1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 5.0, 0.0]]
    tg.manual_seed(3)
    for n in (2, 3, 4):
        out = tg.multinomial(Tensor(np.array(w, np.float32)), n).numpy()
        ref = torch.multinomial(torch.tensor(w), n)
        assert out.shape == tuple(ref.shape) and out.dtype == np.int64
        for row, weights in zip(out, w):
            assert len(set(row)) == n  # each category at most once
            nz = sum(v > 0 for v in weights)
            # every non-zero category comes before any zero-weight one, as torch's
            assert all(weights[c] > 0 for c in row[:min(n, nz)])
            assert all(weights[c] == 0 for c in row[nz:])
    with pytest.raises(ValueError, match="cannot sample n_sample > prob_dist.size"):
        tg.multinomial(Tensor(np.array(w, np.float32)), 5)


# ---- 9: repeat_interleave(repeats) --------------------------------------------------------------

def test_repeat_interleave_of_counts(torch):
    for r, dt in (([2, 0, 3], np.int64), ([2, 1], np.int32), ([], np.int64)):
        out = tg.repeat_interleave(Tensor(np.array(r, dt)))
        ref = torch.repeat_interleave(torch.tensor(np.array(r, dt)))
        assert out.dtype == dt
        np.testing.assert_array_equal(out.numpy(), ref.numpy())
    with pytest.raises(ValueError, match="repeats can not be negative"):
        tg.repeat_interleave(Tensor(np.array([2, -1])))
    with pytest.raises(ValueError, match="only accept 1D vector"):
        tg.repeat_interleave(Tensor(np.array([[2, 1]])))
    with pytest.raises(TypeError, match="not implemented for float32"):
        tg.repeat_interleave(Tensor(np.array([2.0, 1.0], np.float32)))


# ---- 10: torch's dim/keepdim on prod, cat, stack -------------------------------------------------

def test_prod_cat_stack_take_torchs_keywords(torch):
    a, t = Tensor(X), torch.tensor(X)
    assert_close(tg.prod(a, dim=1).numpy(), torch.prod(t, dim=1).numpy(), 1e-12)
    assert_close(tg.prod(a, 1, keepdim=True).numpy(), torch.prod(t, 1, keepdim=True).numpy(),
                 1e-12)
    assert_close(tg.prod(a, axis=(0, 1)).numpy(), torch.prod(t).numpy(), 1e-12)
    assert tg.prod(Tensor(X.astype(np.float32)), 0, dtype=np.float64).dtype == np.float64
    assert_close(tg.cat([a, a], dim=1).numpy(), torch.cat([t, t], dim=1).numpy(), 0)
    assert_close(tg.cat([a, a], axis=1).numpy(), torch.cat([t, t], dim=1).numpy(), 0)
    assert_close(tg.concat([a, a], 1).numpy(), torch.cat([t, t], 1).numpy(), 0)
    assert_close(tg.stack([a, a], dim=1).numpy(), torch.stack([t, t], dim=1).numpy(), 0)
    with pytest.raises(TypeError, match="give dim or axis"):
        tg.stack([a, a], dim=1, axis=1)
    with pytest.raises(TypeError, match="give dim or axis"):
        tg.prod(a, dim=1, axis=1)


# ---- 11: einsum of bools -------------------------------------------------------------------------

def test_einsum_of_bools(torch):
    b = np.array([[True, False], [True, True]])
    for eq in ("ij->j", "ij->", "ii->", "ii->i", "ij->ji"):
        out, ref = tg.einsum(eq, Tensor(b)), torch.einsum(eq, torch.tensor(b))
        assert str(out.dtype) == str(ref.dtype).replace("torch.", "")
        np.testing.assert_array_equal(out.numpy(), ref.numpy())
    out = tg.einsum("ij,ij->ij", Tensor(b), Tensor(b))
    np.testing.assert_array_equal(out.numpy(), torch.einsum("ij,ij->ij", torch.tensor(b),
                                                            torch.tensor(b)).numpy())
    with pytest.raises(TypeError, match="not implemented for 'Bool'"):
        tg.einsum("ij,jk->ik", Tensor(b), Tensor(b))


# ---- 12: empty median, randperm's message, floor_divide's dtype ---------------------------------

def test_median_of_empty_is_on_the_graph(torch):
    x = tg.zeros(0, requires_grad=True)
    m = tg.median(x)
    assert m.requires_grad == torch.median(torch.zeros(0, requires_grad=True)).requires_grad
    assert np.isnan(float(m))
    m.backward()
    assert x.grad.shape == (0,)
    i = tg.median(Tensor(np.zeros(0, np.int64)))
    assert int(i) == int(torch.median(torch.zeros(0, dtype=torch.int64)))


def test_randperm_message():
    with pytest.raises(ValueError, match="non-negative, got -1"):
        tg.randperm(-1)


@pytest.mark.parametrize("a,b", [
    (np.ones(2, np.float32), np.array([1, 2])), (np.array([3, 4]), np.ones(2, np.float32)),
    (np.array([3, 4]), np.array([2, 3])), (np.ones(2, np.float32), np.float64(2.0)),
    (np.ones(2, np.float16), np.array([2.0, 3.0])),
    (np.array([3, 4], np.int32), np.int64(2))])
def test_floor_divide_dtype_is_torchs(torch, a, b):
    out = tg.floor_divide(Tensor(a), Tensor(np.asarray(b)))
    ref = torch.floor_divide(torch.tensor(a), torch.tensor(np.asarray(b)))
    assert str(out.dtype) == str(ref.dtype).replace("torch.", "")
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    assert tg.floor_divide(Tensor(np.array([3, 4])), 2.5).dtype == np.float32


# ---- 13: dtype names, in-place scatters and fills, where(cond), flip, comparisons ----------------

def test_torch_dtype_names(torch):
    pairs = {"float16": "float16", "float32": "float32", "float64": "float64", "half": "float16",
             "float": "float32", "double": "float64", "int64": "int64", "int32": "int32",
             "long": "int64", "int": "int32", "short": "int16", "uint8": "uint8", "bool": "bool"}
    for name, np_name in pairs.items():
        assert np.dtype(getattr(tg, name)) == np.dtype(np_name)
        assert getattr(torch, name) == getattr(torch, np_name)
    assert tg.zeros(2, dtype=tg.float64).dtype == np.float64
    assert tg.tensor([1, 2], dtype=tg.int32).dtype == np.int32
    assert tg.ones(2).astype(tg.long).dtype == np.int64
    assert tg.arange(3, dtype=tg.float16).dtype == np.float16
    assert tg.full((2,), 1, dtype=tg.bool).dtype == np.bool_


def test_in_place_scatters_and_fills(torch):
    a = np.zeros((3, 4), np.float32)
    i = np.array([[0, 1, 2, 0]])
    cases = [
        ("scatter_", lambda x, m: x.scatter_(0, m.tensor(i), m.ones(1, 4))),
        ("scatter_value", lambda x, m: x.scatter_(0, m.tensor(i), value=2.0)),
        ("scatter_add_", lambda x, m: x.scatter_add_(0, m.tensor(np.array([[0, 0, 2, 1]])),
                                                     m.ones(1, 4))),
        ("index_add_", lambda x, m: x.index_add_(1, m.tensor([0, 0]), m.ones(3, 2), alpha=2)),
        ("index_fill_", lambda x, m: x.index_fill_(0, m.tensor([2]), -1.0)),
        ("masked_fill_", lambda x, m: x.masked_fill_(m.tensor(np.eye(3, 4, dtype=bool)), 7.0)),
    ]
    for name, f in cases:
        x, t = Tensor(a.copy()), torch.tensor(a.copy())
        view = x.detach()  # shares the array: the write reaches it
        assert f(x, tg) is x
        f(t, torch)
        np.testing.assert_array_equal(x.numpy(), t.numpy(), err_msg=name)
        np.testing.assert_array_equal(view.numpy(), t.numpy(), err_msg=name)
    w = tg.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="masked_fill_: a leaf tensor that requires grad"):
        w.masked_fill_(Tensor(np.array([True, False])), 1.0)
    x, src = tg.zeros(2), tg.ones(2, requires_grad=True)
    xt, srct = torch.zeros(2), torch.ones(2, requires_grad=True)
    x.scatter_add_(0, tg.tensor([0, 0]), src), xt.scatter_add_(0, torch.tensor([0, 0]), srct)
    assert x.requires_grad and x.numpy().tolist() == xt.tolist() == [2.0, 0.0]
    (x * tg.tensor([3.0, 5.0])).sum().backward()
    (xt * torch.tensor([3.0, 5.0])).sum().backward()
    assert src.grad.numpy().tolist() == srct.grad.tolist() == [3.0, 3.0]  # recorded, as torch's
    x = tg.zeros(2)
    with tg.no_grad():
        x.scatter_add_(0, tg.tensor([0, 0]), src)
    assert x.numpy().tolist() == [2.0, 0.0]


def test_where_of_one_argument_flip_and_comparisons(torch):
    c = X > 0
    ours, theirs = tg.where(Tensor(c)), torch.where(torch.tensor(c))
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.numpy(), t.numpy())
        assert o.dtype == np.int64
    assert_close(tg.where(Tensor(c), Tensor(X), 0.0).numpy(),
                 torch.where(torch.tensor(c), torch.tensor(X), 0.0).numpy(), 0)
    with pytest.raises(TypeError, match="give both input and other"):
        tg.where(Tensor(c), Tensor(X))
    for dims in (0, [1], (0, 1)):
        assert_close(tg.flip(Tensor(X), dims).numpy(),
                     torch.flip(torch.tensor(X), dims if not isinstance(dims, int) else [dims])
                     .numpy(), 0)
    for name in ("eq", "ne", "lt", "le", "gt", "ge", "greater", "less_equal", "not_equal"):
        ref = getattr(torch, name)(torch.tensor(X), 0.5).numpy()
        np.testing.assert_array_equal(getattr(tg, name)(Tensor(X), 0.5).numpy(), ref, name)
        np.testing.assert_array_equal(getattr(Tensor(X), name)(0.5).numpy(), ref, name)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_hinge_embedding_loss(torch, reduction, dtype):
    # x = 1 with target -1 sits on the hinge: its gradient passes, as torch's clamp_min
    a = np.array([[0.3, 1.0, -2.0, 1.5], [2.0, 0.0, 0.5, 1.0]], dtype)
    y = np.array([[1, -1, -1, 1], [-1, -1, 0, 1]])
    out, ref, gx, gt = _grad_pair(
        torch, a, lambda x: F.hinge_embedding_loss(x, Tensor(y), 0.8, reduction=reduction),
        lambda t: torch.nn.functional.hinge_embedding_loss(t, torch.tensor(y), 0.8,
                                                           reduction=reduction))
    tol = 1e-12 if dtype == np.float64 else 1e-6
    assert out.dtype == dtype and gx.dtype == dtype
    assert_close(out.numpy(), ref.detach().numpy(), tol)
    assert_close(gx.numpy(), gt.numpy(), tol)
    layer, tlayer = nn.HingeEmbeddingLoss(margin=0.5), torch.nn.HingeEmbeddingLoss(margin=0.5)
    assert_close(layer(Tensor(a), Tensor(y)).numpy(),
                 tlayer(torch.tensor(a), torch.tensor(y)).numpy(), tol)
    assert tg.gradcheck(lambda x: F.hinge_embedding_loss(x, Tensor(y), 0.7),
                        [Tensor(a.astype(np.float64), requires_grad=True)])


# ---- 4: the Cumprod primitive --------------------------------------------------------------------

def test_cumprod_first_and_second_derivatives_with_zeros_as_torch(torch):
    """Zeros anywhere (first, last, several in a slice), along either dim: values, gradients
    and Hessian-vector products equal torch's."""
    rng = np.random.default_rng(11)
    for trial in range(40):
        n = int(rng.integers(2, 6))
        a = rng.standard_normal((3, n))
        for _ in range(int(rng.integers(0, 4))):
            a[rng.integers(0, 3), rng.integers(0, n)] = 0.0
        dim = trial % 2
        g, v = rng.standard_normal(a.shape), rng.standard_normal(a.shape)
        x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        out, ref = x.cumprod(dim), t.cumprod(dim)
        gx, = tg.grad(out, x, grad_outputs=g, create_graph=True)
        gt, = torch.autograd.grad(ref, t, torch.from_numpy(g), create_graph=True)
        hx, = tg.grad(gx, x, grad_outputs=v)
        ht, = torch.autograd.grad(gt, t, torch.from_numpy(v))
        what = f"{a} dim {dim}"
        assert_close(out.numpy(), ref.detach().numpy(), 1e-12, 1e-14, what)
        assert_close(gx.numpy(), gt.detach().numpy(), 1e-12, 1e-13, what)
        assert_close(hx.numpy(), ht.numpy(), 1e-12, 1e-13, what)


def test_cumprod_float32_float16_and_integers(torch):
    a = np.array([[0.5, -2.0, 0.0, 3.0], [1.5, 1.1, 0.9, -1.2]], np.float32)
    out, ref, gx, gt = _grad_pair(torch, a, lambda x: x.cumprod(1), lambda t: t.cumprod(1))
    assert out.dtype == gx.dtype == np.float32
    assert_close(out.numpy(), ref.detach().numpy(), 1e-6)
    assert_close(gx.numpy(), gt.numpy(), 1e-5)
    h = (np.arange(1, 13, dtype=np.float16) / 3).reshape(2, 6)
    out, ref = Tensor(h).cumprod(1), torch.tensor(h).cumprod(1)
    assert out.dtype == np.float16
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    ints = np.array([[1, 2, 3], [0, 4, 5]], np.int32)
    out, ref = tg.cumprod(Tensor(ints), dim=1), torch.cumprod(torch.tensor(ints), dim=1)
    assert out.dtype == np.int64 and str(ref.dtype) == "torch.int64"
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_cumprod_is_one_node_and_linear_in_memory():
    x = Tensor(np.ones((4, 300)), requires_grad=True)
    out = x.cumprod(1)
    assert out._node.op.name == "cumprod" and out._node.inputs[0] is x
