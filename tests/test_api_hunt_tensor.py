"""Tensor-level findings of the API bug hunt (docs in /work/hunt_api/REPORT.md), each compared
with torch 2.13: checked assignment of ``.data`` and ``.requires_grad``, ``+=`` on a view, norms
with a negative p, argmax of empty tensors, result dtypes, sign of NaN, pow's saved output, the
missing torch methods and topk."""
from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor


def _raises_as_torch(torch, tg_fn, torch_fn, tg_exc, match):
    """The same call refused by both libraries (torch's exception class may differ: the
    project's rule is ValueError/TypeError for bad input)."""
    with pytest.raises(Exception):
        torch_fn()
    with pytest.raises(tg_exc, match=match):
        tg_fn()


# ---- .data and .requires_grad assignment ---------------------------------------------------

def test_data_assignment_of_a_tensor_takes_its_array_as_torch(torch):
    p = Tensor(np.array([1., 2.], np.float32), requires_grad=True)
    q = Tensor(np.array([5., 6., 7.], np.float32))
    p.data = q
    assert type(p.data) is np.ndarray and p.data is q.data  # shared, as torch's storage
    assert p.requires_grad and p.is_leaf
    np.testing.assert_array_equal((p * 2).data, [10., 12., 14.])
    tp = torch.tensor([1., 2.], requires_grad=True)
    tp.data = torch.tensor([5., 6., 7.])
    assert tp.requires_grad and tuple(tp.shape) == p.shape  # torch takes another shape too


def test_data_assignment_refuses_what_torch_refuses(torch):
    p = Tensor(np.array([1., 2.]), requires_grad=True)
    tp = torch.tensor([1., 2.], dtype=torch.float64, requires_grad=True)
    before = p.data
    for bad in ([1., 2., 3.], 3.0, None, "x"):
        _raises_as_torch(torch, lambda: setattr(p, "data", bad),
                         lambda: setattr(tp, "data", bad), TypeError, "ndarray or a Tensor")
    # an integer array while requires_grad is set: torch's "must be floating point"
    _raises_as_torch(torch, lambda: setattr(p, "data", np.array([1, 2])),
                     lambda: setattr(tp, "data", torch.tensor([1, 2])), TypeError,
                     "must be floating point")
    with pytest.raises(TypeError, match="numeric"):
        p.data = np.array(["a", "b"])
    assert p.data is before  # nothing changed


def test_data_assignment_without_requires_grad_takes_any_numeric_dtype(torch):
    z = Tensor(np.array([1., 2.]))
    z.data = np.array([1, 2])
    assert z.dtype == np.int64
    tz = torch.tensor([1., 2.])
    tz.data = torch.tensor([1, 2])
    assert tz.dtype == torch.int64
    z.data = np.float32(3.5)  # a NumPy scalar is a 0-d array
    assert type(z.data) is np.ndarray and z.shape == () and z.dtype == np.float32


def test_requires_grad_assignment_is_checked_as_torch(torch):
    s = Tensor(np.array([1., 2.]), requires_grad=True)
    ts = torch.tensor([1., 2.], requires_grad=True)
    for bad in ("yes", 1, None, np.bool_(True)):
        _raises_as_torch(torch, lambda: setattr(s, "requires_grad", bad),
                         lambda: setattr(ts, "requires_grad", bad), TypeError, "must be a bool")
    assert s.requires_grad is True
    u, tu = tg.tensor([1, 2]), torch.tensor([1, 2])
    _raises_as_torch(torch, lambda: setattr(u, "requires_grad", True),
                     lambda: setattr(tu, "requires_grad", True), TypeError, "floating-point")
    assert u.requires_grad is False
    u.requires_grad = False  # allowed, as torch
    tu.requires_grad = False
    s.requires_grad = False
    assert s.requires_grad is False and s.is_leaf
    s.requires_grad = True
    assert (s * 2).requires_grad


@pytest.mark.parametrize("flag", [False, True])
def test_requires_grad_assignment_on_a_non_leaf_is_refused_as_torch(torch, flag):
    x = Tensor(np.array([1., 2.]), requires_grad=True)
    y = x * 2
    tx = torch.tensor([1., 2.], requires_grad=True)
    ty = tx * 2
    _raises_as_torch(torch, lambda: setattr(y, "requires_grad", flag),
                     lambda: setattr(ty, "requires_grad", flag), RuntimeError, "leaf")
    assert y.requires_grad  # the graph is not cut
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [6., 6.])


def test_copies_keep_data_requires_grad_and_marks():
    t = Tensor(np.arange(3.), requires_grad=True, name="w")
    t._is_param = True
    for c in (copy.deepcopy(t), pickle.loads(pickle.dumps(t))):
        assert type(c.data) is np.ndarray and c.data is not t.data
        np.testing.assert_array_equal(c.data, t.data)
        assert c.requires_grad and c.is_leaf and c.name == "w" and c._is_param
    c = copy.deepcopy(Tensor(np.arange(3.)))
    assert not c.requires_grad


def test_a_linear_layer_whose_weight_data_is_set_to_a_tensor_steps():
    from tinygrad_norm import nn, optim
    lin = nn.Linear(2, 1)
    lin.weight.data = Tensor(np.ones((1, 2), np.float32))  # torch's idiom
    opt = optim.SGD(lin.parameters(), lr=0.1)
    lin(Tensor(np.ones((3, 2), np.float32))).sum().backward()
    opt.step()
    np.testing.assert_allclose(lin.weight.data, 1 - 0.1 * 3, rtol=1e-6)


# ---- += on a view --------------------------------------------------------------------------

def _view_cases():
    return [("reshape", lambda h: h.reshape(4)), ("transpose", lambda h: h.T)]


@pytest.mark.parametrize("name,view", [("getitem", lambda h: h[0]),
                                       ("slice", lambda h: h[:, 1:])])
def test_augmented_assignment_on_a_basic_index_view_writes_through_as_torch(torch, name, view):
    # recorded as an item assignment into h (torch's CopySlices): h's values and x's gradient
    x = Tensor(np.array([[1., 2.], [3., 4.]]), requires_grad=True)
    tx = torch.tensor([[1., 2.], [3., 4.]], dtype=torch.float64, requires_grad=True)
    h, th = x * 2, tx * 2
    v, tv = view(h), view(th)
    v *= x[1, 0]
    tv *= tx[1, 0]
    np.testing.assert_array_equal(h.data, th.detach().numpy())
    up = np.array([[0.5, -1.0], [2.0, 0.25]])
    (h * h).backward(Tensor(up)), (th * th).backward(torch.tensor(up))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name,view", _view_cases())
def test_augmented_assignment_on_a_view_is_refused_where_torch_writes_through(torch, name, view):
    x = Tensor(np.array([[1., 2.], [3., 4.]]), requires_grad=True)
    h = x * 2
    v = view(h)
    before_h, before_v = h.data.copy(), v.data.copy()
    with pytest.raises(RuntimeError, match="view of another tensor"):
        v += 100
    np.testing.assert_array_equal(h.data, before_h)  # nothing written, nothing rebound
    np.testing.assert_array_equal(v.data, before_v)
    # torch writes through to h; under no_grad() the write goes through here too, same values
    tx = torch.tensor([[1., 2.], [3., 4.]], dtype=torch.float64, requires_grad=True)
    th = tx * 2
    tv = view(th)
    tv += 100
    with tg.no_grad():
        v += 100
    np.testing.assert_array_equal(h.data, th.detach().numpy())


def test_augmented_assignment_on_a_view_of_a_leaf_is_refused_as_torch(torch):
    x = Tensor(np.array([1., 2.]), requires_grad=True)
    tx = torch.tensor([1., 2.], requires_grad=True)
    _raises_as_torch(torch, lambda: x[0].__iadd__(1.0), lambda: tx[0].__iadd__(1.0),
                     RuntimeError, "view of a leaf tensor that requires grad")


def test_augmented_assignment_on_a_computed_tensor_still_gives_torch_values_and_grads(torch):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3))
    g = rng.standard_normal((2, 3))
    x = Tensor(a, requires_grad=True)
    y = x * 2
    y += x * x  # not a view: a new tensor on the graph, as before
    y.backward(Tensor(g))
    tx = torch.tensor(a, requires_grad=True)
    ty = tx * 2
    ty += tx * tx
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.data, ty.detach().numpy())
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())


def test_an_element_taken_by_ints_is_a_view_as_torch(torch):
    x = Tensor(np.array([[1., 2.], [3., 4.]]))
    tx = torch.tensor([[1., 2.], [3., 4.]], dtype=torch.float64)
    v, tv = x[1, 0], tx[1, 0]
    v += 10  # nothing recorded: in place, through to x (NumPy's x[1, 0] was a copy)
    tv += 10
    np.testing.assert_array_equal(x.data, tx.numpy())
    assert v.shape == () and type(v.data) is np.ndarray


# ---- norm with a negative p ----------------------------------------------------------------

@pytest.mark.parametrize("p", [-1.0, -2.5, -0.5, -3])
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_norm_with_a_negative_p_has_torchs_zero_gradient_at_zeros(torch, p, dim, dtype):
    a = np.array([[0., 1., -2.], [0.5, -1.5, 3.], [0., 0., 0.], [2., 0., -1.]], dtype)
    x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = x.norm(p=p, dim=dim), t.norm(p=p, dim=dim)
    g = np.random.default_rng(0).standard_normal(ref.shape).astype(dtype)
    with np.errstate(all="raise"):  # no 0 ** p on the way (it warned "divide by zero")
        out.backward(Tensor(g))
    ref.backward(torch.from_numpy(g))
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=tol, atol=tol)
    assert out.dtype == dtype and np.isfinite(x.grad.data).all()
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=tol, atol=tol)


def test_norm_with_a_negative_p_stays_differentiable_twice():
    a = np.array([[0.7, 1.3, -2.], [0.5, -1.5, 3.]])
    x = Tensor(a, requires_grad=True)
    assert tg.gradcheck(lambda x: x.norm(p=-1.5, dim=1), [x])
    assert tg.gradgradcheck(lambda x: x.norm(p=-1.5, dim=1), [x])


# ---- argmax / argmin of empty tensors ---------------------------------------------------------

@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("shape,dim,keepdim", [((0, 3), -1, False), ((0, 3), 1, True),
                                               ((3, 0), 0, False), ((2, 0, 3), 2, False),
                                               ((2, 0, 3), 0, True)])
def test_argmax_of_an_empty_tensor_along_a_non_empty_dim_is_empty_as_torch(torch, name, shape,
                                                                           dim, keepdim):
    a = np.zeros(shape, np.float32)
    ref = getattr(torch.from_numpy(a), name)(dim, keepdim=keepdim)
    for out in (getattr(Tensor(a), name)(dim=dim, keepdim=keepdim),
                getattr(Tensor(a), name)(dim, keepdim), getattr(tg, name)(Tensor(a), dim, keepdim)):
        assert out.dtype == np.int64 and out.shape == tuple(ref.shape)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("shape,dim", [((0, 3), 0), ((0, 3), None), ((0,), 0), ((0,), None)])
def test_argmax_with_nothing_to_pick_from_is_refused_as_torch(torch, name, shape, dim):
    a = np.zeros(shape, np.float32)
    _raises_as_torch(torch, lambda: getattr(Tensor(a), name)(dim),
                     lambda: getattr(torch.from_numpy(a), name)(dim), ValueError, "empty tensor")


# ---- result dtypes ---------------------------------------------------------------------------

def _dtype_pair(torch, tg_value, torch_value):
    t = torch_value.dtype
    want = {torch.float32: np.float32, torch.float64: np.float64, torch.int64: np.int64,
            torch.int32: np.int32, torch.bool: np.bool_, torch.uint8: np.uint8,
            torch.int8: np.int8, torch.int16: np.int16, torch.float16: np.float16}[t]
    assert tg_value.dtype == want, (tg_value.dtype, t)
    np.testing.assert_array_equal(tg_value.data, torch_value.numpy())


_INTS = [np.uint8, np.int8, np.int16, np.int32, np.int64, np.bool_]


@pytest.mark.parametrize("dtype", _INTS)
@pytest.mark.parametrize("lo,hi", [(0.5, 1.5), (0, 1.5), (0.5, None), (None, 1.5), (0, 1)])
def test_clamp_of_an_integer_tensor_with_float_bounds_is_float32_as_torch(torch, dtype, lo, hi):
    a = np.array([0, 1, 2, 1], dtype)
    ref = torch.from_numpy(a).clamp(lo, hi)
    _dtype_pair(torch, Tensor(a).clamp(lo, hi), ref)
    _dtype_pair(torch, tg.clamp(Tensor(a), lo, hi), ref)
    if lo is not None:
        _dtype_pair(torch, Tensor(a).clamp_min(lo), torch.from_numpy(a).clamp_min(lo))


def test_clamp_of_a_float_tensor_keeps_its_dtype_and_gradient(torch):
    a = np.array([-1.0, 0.2, 0.7, 2.0], np.float16)
    _dtype_pair(torch, Tensor(a).clamp(0.0, 1.0), torch.from_numpy(a).clamp(0.0, 1.0))
    x = Tensor(a.astype(np.float32), requires_grad=True)
    x.clamp(0.0, 1.0).backward(Tensor(np.array([1., 2., 3., 4.], np.float32)))
    np.testing.assert_array_equal(x.grad.data, [0., 2., 3., 0.])


@pytest.mark.parametrize("dtype", _INTS + [np.uint16, np.uint32])
@pytest.mark.parametrize("fn", ["sum", "sum0", "trace", "prod", "cumsum", "sum_to_size",
                                "tg.sum", "nansum"])
def test_integer_sums_and_products_are_int64_as_torch(torch, dtype, fn):
    a = np.array([[1, 2], [3, 1]], dtype)
    x = Tensor(a)
    if fn == "trace" and dtype == np.bool_:
        pytest.skip("torch has no trace of bools")
    tdt = torch.int64 if dtype in (np.uint16, np.uint32) else None  # torch has no such dtypes
    t = torch.from_numpy(a.astype(np.int64)) if tdt else torch.from_numpy(a)
    out, ref = {
        "sum": (lambda: (x.sum(), t.sum())), "sum0": (lambda: (x.sum(0), t.sum(0))),
        "trace": (lambda: (x.trace(), t.trace())), "prod": (lambda: (x.prod(), t.prod())),
        "cumsum": (lambda: (x.cumsum(0), t.cumsum(0))),
        "sum_to_size": (lambda: (x.sum_to_size(1, 2), t.sum_to_size(1, 2))),
        "tg.sum": (lambda: (tg.sum(x, 1), torch.sum(t, 1))),
        "nansum": (lambda: (x.nansum(), t.nansum())),
    }[fn]()
    _dtype_pair(torch, out, ref)


def test_a_uint64_sum_stays_uint64():
    assert Tensor(np.array([1, 2], np.uint64)).sum().dtype == np.uint64  # beyond int64's range


@pytest.mark.parametrize("dtype", _INTS)
def test_integer_mean_keeps_numpys_float64_where_torch_refuses(torch, dtype):
    a = np.array([1, 2, 2], dtype)
    with pytest.raises(RuntimeError):
        torch.from_numpy(a).mean()
    for out in (Tensor(a).mean(), tg.mean(Tensor(a))):  # documented: NumPy's rule
        assert out.dtype == np.float64 and out.item() == pytest.approx(a.astype(float).mean())


def test_square_of_bools_is_int64_as_torch(torch):
    a = np.array([True, False])
    _dtype_pair(torch, Tensor(a).square(), torch.from_numpy(a).square())
    _dtype_pair(torch, tg.square(Tensor(a)), torch.square(torch.from_numpy(a)))
    b = np.array([1, -3], np.int8)
    _dtype_pair(torch, Tensor(b).square(), torch.from_numpy(b).square())


@pytest.mark.parametrize("e", [True, False, 0, 1, 2, 1.0, 0.5])
def test_bool_tensor_to_a_python_number_power_as_torch(torch, e):
    a = np.array([True, False])
    ref = torch.from_numpy(a) ** e
    _dtype_pair(torch, Tensor(a) ** e, ref)
    _dtype_pair(torch, Tensor(a).pow(e), ref)
    _dtype_pair(torch, tg.pow(Tensor(a), e), ref)
    x, t = Tensor(a.copy()), torch.from_numpy(a.copy())
    if isinstance(e, bool):  # stays bool, in place
        x **= e
        t **= e
        _dtype_pair(torch, x, t)
    else:  # a float or int result cannot go back into a bool tensor, in either library
        _raises_as_torch(torch, lambda: x.__ipow__(e), lambda: t.__ipow__(e), TypeError,
                         "cannot be stored")


@pytest.mark.parametrize("e", [True, False])
def test_a_float_or_int_tensor_to_a_bool_power_is_to_1_or_0(torch, e):
    for a in (np.array([1.5, -2.0]), np.array([3, 4])):
        _dtype_pair(torch, Tensor(a) ** e, torch.from_numpy(a) ** e)
    x, t = Tensor(np.array([1.5, -2.0]), requires_grad=True), torch.tensor([1.5, -2.0],
                                                                          dtype=torch.float64,
                                                                          requires_grad=True)
    (x ** e).sum().backward()
    (t ** e).sum().backward()
    np.testing.assert_array_equal(x.grad.data, t.grad.numpy())


@pytest.mark.parametrize("op", ["__and__", "__or__", "__xor__"])
@pytest.mark.parametrize("da,db", [(np.int32, np.int64), (np.uint8, np.int8), (np.int8, np.int64),
                                   (np.bool_, np.int64), (np.int32, np.bool_),
                                   (np.int64, np.int32)])
def test_bitwise_with_a_0d_operand_follows_torchs_rule(torch, op, da, db):
    a, b = np.array([3, 5, 6], da), np.array(1, db)
    _dtype_pair(torch, getattr(Tensor(a), op)(Tensor(b)),
                getattr(torch.from_numpy(a), op)(torch.from_numpy(b)))
    _dtype_pair(torch, getattr(Tensor(b), op)(Tensor(a)),
                getattr(torch.from_numpy(b), op)(torch.from_numpy(a)))
    # both dimensioned: NumPy's promotion, which is torch's here
    a2 = np.array([1, 2, 4], db)
    _dtype_pair(torch, getattr(Tensor(a), op)(Tensor(a2)),
                getattr(torch.from_numpy(a), op)(torch.from_numpy(a2)))


# ---- sign of NaN -----------------------------------------------------------------------------

def test_sign_of_nan_is_nan_as_numpy_and_documented(torch):
    a = np.array([np.nan, -2.0, 0.0, -0.0, 3.0, np.inf, -np.inf], np.float32)
    for out in (Tensor(a).sign(), tg.sign(Tensor(a))):
        np.testing.assert_array_equal(out.data, np.sign(a))  # NaN stays NaN (documented)
        assert out.dtype == np.float32
    ref = torch.sign(torch.from_numpy(a)).numpy()
    assert ref[0] == 0  # torch 2.13's, the documented difference
    np.testing.assert_array_equal(tg.sign(Tensor(a)).data[1:], ref[1:])
    x = Tensor(a, requires_grad=True)
    x.sign().backward(Tensor(np.ones(7, np.float32)))
    np.testing.assert_array_equal(x.grad.data, np.zeros(7))


# ---- pow's saved arrays ------------------------------------------------------------------------

def test_pow_with_a_number_exponent_does_not_keep_its_output(torch):
    a = Tensor(np.array([1., 2.]), requires_grad=True)
    c = (a * 1) ** 2
    assert c.grad_fn.saved[1] is None
    with tg.no_grad():
        c.mul_(2.)
    c.sum().backward()  # refused before: the output was saved
    t = torch.tensor([1., 2.], dtype=torch.float64, requires_grad=True)
    tc = (t * 1) ** 2
    with torch.no_grad():
        tc.mul_(2.)
    tc.sum().backward()
    np.testing.assert_array_equal(a.grad.data, t.grad.numpy())


@pytest.mark.parametrize("base_grad", [True, False])
def test_pow_with_a_tensor_exponent_still_matches_torch(torch, base_grad):
    rng = np.random.default_rng(3)
    av, bv = rng.uniform(0.5, 2.0, (3, 4)), rng.standard_normal((3, 4))
    g = rng.standard_normal((3, 4))
    a, b = Tensor(av, requires_grad=base_grad), Tensor(bv, requires_grad=True)
    ta = torch.tensor(av, requires_grad=base_grad)
    tb = torch.tensor(bv, requires_grad=True)
    (a ** b).backward(Tensor(g))
    (ta ** tb).backward(torch.tensor(g))
    np.testing.assert_allclose(b.grad.data, tb.grad.numpy(), rtol=1e-12)
    if base_grad:
        np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), rtol=1e-12)
    x = Tensor(bv, requires_grad=True)
    (2.0 ** x).backward(Tensor(g))
    tx = torch.tensor(bv, requires_grad=True)
    (2.0 ** tx).backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)
    assert tg.gradgradcheck(lambda p, q: p ** q, [Tensor(av, requires_grad=True),
                                                  Tensor(bv, requires_grad=True)])


# ---- torch's methods that were missing -----------------------------------------------------------

def _pair(torch, a, requires_grad=True):
    return Tensor(a.copy(), requires_grad=requires_grad), torch.tensor(a.copy(),
                                                                       requires_grad=requires_grad)


def _backward_both(torch, out, ref, seed=0):
    g = np.random.default_rng(seed).standard_normal(ref.shape)
    out.backward(Tensor(g.astype(out.dtype)))
    ref.backward(torch.tensor(g, dtype=ref.dtype))


def test_backward_with_inputs_accumulates_into_those_only_as_torch(torch):
    a, b = np.array([1., 2.]), np.array([3., -4.])
    x, tx = _pair(torch, a)
    w, tw = _pair(torch, b)
    hooks, thooks = [], []
    x.register_hook(lambda g: hooks.append("x"))
    w.register_hook(lambda g: hooks.append("w"))
    tx.register_hook(lambda g: thooks.append("x"))
    tw.register_hook(lambda g: thooks.append("w"))
    y, ty = x * w, tx * tw
    z, tz = (y * y).sum(), (ty * ty).sum()
    z.backward(inputs=[x], retain_graph=True)
    tz.backward(inputs=[tx], retain_graph=True)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())
    assert w.grad is None and tw.grad is None and hooks == thooks == ["x"]
    z.backward(inputs=x, retain_graph=True)  # one tensor; accumulated
    tz.backward(inputs=tx, retain_graph=True)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())
    z.backward(inputs=(y, w, w), retain_graph=True)  # a non-leaf, a tensor given twice
    tz.backward(inputs=(ty, tw, tw), retain_graph=True)
    np.testing.assert_allclose(y.grad.data, ty.grad.numpy())
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy())
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())
    u, tu = _pair(torch, np.array([1.]))
    z.backward(inputs=[u], retain_graph=True)  # not in the graph: nothing, as torch
    tz.backward(inputs=[tu], retain_graph=True)
    assert u.grad is None and tu.grad is None


def test_backward_with_inputs_refuses_what_torch_refuses(torch):
    x, tx = _pair(torch, np.array([1., 2.]))
    z, tz = (x * 2).sum(), (tx * 2).sum()
    c, tc = Tensor(np.array([1.])), torch.tensor([1.])
    for bad, tbad, exc in (([], [], RuntimeError), ([c], [tc], RuntimeError),
                           ([1.0], [1.0], TypeError)):
        with pytest.raises(Exception):
            tz.backward(inputs=tbad, retain_graph=True)
        with pytest.raises(exc):
            z.backward(inputs=bad, retain_graph=True)
    assert x.grad is None


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")  # torch's
def test_backward_with_inputs_under_create_graph_and_a_seed(torch):
    a = np.array([0.5, -1.5, 2.0])
    x, tx = _pair(torch, a)
    y, ty = (x ** 3).sum(), (tx ** 3).sum()
    y.backward(inputs=[x], create_graph=True)
    ty.backward(inputs=[tx], create_graph=True)
    np.testing.assert_allclose(x.grad.data, tx.grad.detach().numpy())
    assert x.grad.requires_grad
    seed = np.array([1., 2., 3.])
    v, tv = x * 2, tx * 2
    v.backward(Tensor(seed), inputs=[x])
    tv.backward(torch.tensor(seed), inputs=[tx])
    seed[:] = 0  # the caller's array is not the .grad
    np.testing.assert_allclose(x.grad.data, tx.grad.detach().numpy())


def test_abs_builtin_as_torch(torch):
    a = np.array([-1.5, 0.0, 2.0])
    x, tx = _pair(torch, a)
    _backward_both(torch, abs(x), abs(tx))
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())
    _dtype_pair(torch, abs(Tensor(np.array([-3, 2], np.int8))),
                abs(torch.tensor([-3, 2], dtype=torch.int8)))


@pytest.mark.parametrize("value", [np.array(1), np.array([2]), np.array([[0]]),
                                   np.array(True), np.array(1, np.uint8)])
def test_index_of_a_one_element_integer_tensor_as_torch(torch, value):
    t, tt = Tensor(value), torch.from_numpy(value)
    seq = [10, 20, 30]
    assert seq[t] == seq[tt] and list(range(t)) == list(range(tt))
    assert np.arange(5)[t].shape == np.arange(5)[tt].shape  # NumPy reads it as an int too


@pytest.mark.parametrize("value", [np.array(1.0), np.array([1, 2])])
def test_index_of_other_tensors_is_refused_as_torch(torch, value):
    _raises_as_torch(torch, lambda: [1, 2, 3][Tensor(value)],
                     lambda: [1, 2, 3][torch.from_numpy(value)], TypeError,
                     "single element")


def test_contains_as_torch(torch):
    a = np.array([[1., 2.], [3., np.nan]])
    t, tt = Tensor(a), torch.from_numpy(a)
    for e in (2., 5, 3, np.float64(1.0), True, float("nan")):
        assert (e in t) == (e in tt), e
    for e in (np.array(2.), np.array([1., 2.]), np.array([1., 5.]), np.array([7., 8.])):
        assert (Tensor(e) in t) == (torch.from_numpy(e) in tt)
    assert (1 in tg.tensor([True, False])) == (1 in torch.tensor([True, False]))
    for bad in ("a", None, [1.]):
        _raises_as_torch(torch, lambda: bad in t, lambda: bad in tt, TypeError, "only supports")


_SHIFT_CASES = [(np.array([3, -8, 5]), 1), (np.array([3, -8, 5]), 70), (np.array([3, -8, 5]), -1),
                (np.array([3, -8, 5]), 0), (np.array([1], np.int8), 7), (np.array([1], np.int8), 8),
                (np.array([-8], np.int8), 8), (np.array([200], np.uint8), 9),
                (np.array([200], np.uint8), -1), (np.array([200], np.uint8), 1),
                (np.array([3], np.int32), np.array(1)), (np.array([3], np.uint8), np.array([1])),
                (np.array([3], np.int16), np.array(1, np.int64)), (np.array([3, 5]), np.array([-1, 64])),
                (np.array([True, False]), 1), (np.array([5]), np.array([True])),
                (np.array([1], np.int64), 63)]


@pytest.mark.parametrize("a,b", _SHIFT_CASES)
@pytest.mark.parametrize("left", [True, False])
def test_shifts_as_torch(torch, a, b, left):
    ta = torch.from_numpy(a)
    tb = torch.from_numpy(b) if isinstance(b, np.ndarray) else b
    gb = Tensor(b) if isinstance(b, np.ndarray) else b
    ref = ta << tb if left else ta >> tb
    out = Tensor(a) << gb if left else Tensor(a) >> gb
    _dtype_pair(torch, out, ref)
    if isinstance(b, np.ndarray):  # reflected
        ref = tb << ta if left else tb >> ta
        out = gb << Tensor(a) if left else gb >> Tensor(a)
        _dtype_pair(torch, out, ref)


def test_reflected_shift_of_a_number_and_refusals_as_torch(torch):
    _dtype_pair(torch, 1 << tg.tensor([1, 2]), 1 << torch.tensor([1, 2]))
    _dtype_pair(torch, 64 >> tg.tensor([1, 2]), 64 >> torch.tensor([1, 2]))
    for a, b in ((np.array([1.5]), 1), (np.array([3]), 1.5), (np.array([True]), True),
                 (np.array([3]), np.array([1.]))):
        tb = torch.from_numpy(b) if isinstance(b, np.ndarray) else b
        gb = Tensor(b) if isinstance(b, np.ndarray) else b
        _raises_as_torch(torch, lambda: Tensor(a) << gb, lambda: torch.from_numpy(a) << tb,
                         TypeError, "<<")


def test_tensor_where_method_as_torch(torch):
    rng = np.random.default_rng(1)
    a, o = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    c = np.array([[True, False, True], [False, False, True]])
    x, tx = _pair(torch, a)
    y, ty = _pair(torch, o)
    out, ref = x.where(Tensor(c), y), tx.where(torch.from_numpy(c), ty)
    _backward_both(torch, out, ref)
    np.testing.assert_array_equal(out.data, ref.detach().numpy())
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())
    np.testing.assert_array_equal(y.grad.data, ty.grad.numpy())
    np.testing.assert_array_equal(Tensor(a).where(Tensor(c), 0.0).data,
                                  torch.from_numpy(a).where(torch.from_numpy(c), 0.0).numpy())


@pytest.mark.parametrize("shape,idx,dim", [
    ((3, 4), [[0], [2], [1]], 1), ((3, 4), [[0, 1, 2, 0]], 0), ((3, 4), [5, 0, 5], None),
    ((3, 4), [[0]], 1), ((3, 4), [[-1, 0]], 1), ((3, 1), [[0, 0, 0]], 1), ((3, 4), [[0]], -1),
    ((2, 3, 4), [[[3, 1]], [[0, 0]]], 2), ((2, 3, 4), [[[1]]], 0), ((3, 4), [[1, 1, 1, 2]], 0)])
def test_take_along_dim_as_torch(torch, shape, idx, dim):
    a = np.random.default_rng(2).standard_normal(shape)
    i = np.array(idx)
    x, tx = _pair(torch, a)
    out = x.take_along_dim(Tensor(i), dim) if dim is not None else x.take_along_dim(Tensor(i))
    ref = torch.take_along_dim(tx, torch.from_numpy(i), dim)
    np.testing.assert_array_equal(out.data, ref.detach().numpy())
    assert out.shape == tuple(ref.shape)
    _backward_both(torch, out, ref)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(tg.take_along_dim(Tensor(a), Tensor(i), dim).data,
                                  ref.detach().numpy())


def test_take_along_dim_refusals_as_torch(torch):
    a = np.zeros((3, 4))
    for i, dim, exc, match in ((np.array([0]), 1, ValueError, "same number of dimensions"),
                               (np.array([[1.]]), 1, TypeError, "dtype of indices"),
                               (np.array([[True]]), 1, TypeError, "dtype of indices"),
                               (np.array([[0], [1]]), 1, ValueError, "broadcast")):
        _raises_as_torch(torch, lambda: Tensor(a).take_along_dim(Tensor(i), dim),
                         lambda: torch.take_along_dim(torch.from_numpy(a), torch.from_numpy(i), dim),
                         exc, match)
    with pytest.raises(IndexError):  # torch reads out of bounds here
        Tensor(a).take_along_dim(Tensor(np.array([[4]])), 1)


_PUT_CASES = [((np.array([0, 2]), np.array([1, 3])), np.array([100., 200.]), False),
              ((np.array([0, 0]),), np.array(7.), True),
              ((np.array([0, 0]), np.array([1, 1])), np.array([1., 2.]), True),
              ((np.array([[True, False, False, True]] * 3),), np.array(0.), False),
              ((np.array([0]),), np.array(1.), False), ((np.array([-1]),), np.array(1.), False),
              ((np.array([True, False, True]),), np.array([5., 6., 7., 8.]), False),
              ((np.array([0]), np.array([True, False, True, False])), np.array(1.), False),
              ((np.array([1, 2, 1]),), np.array([[1., 2., 3., 4.]]), True),
              ((np.array([], np.int64),), np.array(1.), False)]


@pytest.mark.parametrize("indices,values,accumulate", _PUT_CASES)
def test_index_put_as_torch(torch, indices, values, accumulate):
    a = np.arange(12.).reshape(3, 4)
    x, tx = _pair(torch, a)
    v, tv = _pair(torch, values)
    out = x.index_put(tuple(Tensor(i) for i in indices), v, accumulate)
    ref = tx.index_put(tuple(torch.from_numpy(i) for i in indices), tv, accumulate)
    np.testing.assert_array_equal(out.data, ref.detach().numpy())
    _backward_both(torch, out, ref)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(v.grad.data, tv.grad.numpy(), rtol=1e-12)
    y, ty = Tensor(a.copy()), torch.from_numpy(a.copy())
    r = y.index_put_(list(Tensor(i) for i in indices), Tensor(values), accumulate)
    ty.index_put_(list(torch.from_numpy(i) for i in indices), torch.from_numpy(values), accumulate)
    assert r is y
    np.testing.assert_array_equal(y.data, ty.numpy())


def test_index_put_with_repeated_places_the_last_wins():
    x = Tensor(np.zeros(3), requires_grad=True)
    v = Tensor(np.array([1., 2., 3.]), requires_grad=True)
    out = x.index_put((Tensor(np.array([1, 1, 0])),), v)
    np.testing.assert_array_equal(out.data, [3., 2., 0.])
    out.backward(Tensor(np.array([10., 20., 30.])))
    np.testing.assert_array_equal(v.grad.data, [0., 20., 10.])
    np.testing.assert_array_equal(x.grad.data, [0., 0., 30.])


def test_index_put_refusals_as_torch(torch):
    a = np.arange(12.).reshape(3, 4)
    x, tx = Tensor(a), torch.from_numpy(a)
    i, ti = (Tensor(np.array([0])),), (torch.tensor([0]),)
    for args, targs, exc, match in (
            ((i, Tensor(np.array([1., 2.]))), (ti, torch.tensor([1., 2.], dtype=torch.float64)),
             ValueError, "shape mismatch"),
            ((i, 1.), (ti, 1.), TypeError, "must be Tensor"),
            ((i, Tensor(np.array(1))), (ti, torch.tensor(1)), TypeError, "dtypes match"),
            (((Tensor(np.array([5])),), Tensor(np.array(1.))),
             ((torch.tensor([5]),), torch.tensor(1., dtype=torch.float64)), IndexError,
             "out of bounds"),
            (((Tensor(np.array([0.])),), Tensor(np.array(1.))),
             ((torch.tensor([0.]),), torch.tensor(1., dtype=torch.float64)), IndexError,
             "long, int, byte or bool"),
            ((Tensor(np.array([0])), Tensor(np.array(1.))),
             (torch.tensor([0]), torch.tensor(1., dtype=torch.float64)), TypeError,
             "tuple of Tensors")):
        _raises_as_torch(torch, lambda: x.index_put(*args), lambda: tx.index_put(*targs), exc,
                         match)
    w = Tensor(a, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        w.index_put_(i, Tensor(np.array(1.)))


@pytest.mark.parametrize("xshape,mask,srcshape", [
    ((3, 4), [[True, False, False, True]] * 3, (7,)), ((3, 4), [True, False, False, True], (10,)),
    ((3, 4), [[True, False, False, True]] * 3, (2, 5)), ((1, 4), [[True], [False]], (10,)),
    ((3, 4), [[False] * 4] * 3, (2,)), ((2, 3), [[True] * 3] * 2, (6,))])
def test_masked_scatter_as_torch(torch, xshape, mask, srcshape):
    rng = np.random.default_rng(4)
    a, s, m = rng.standard_normal(xshape), rng.standard_normal(srcshape), np.array(mask)
    x, tx = _pair(torch, a)
    src, tsrc = _pair(torch, s)
    out, ref = x.masked_scatter(Tensor(m), src), tx.masked_scatter(torch.from_numpy(m), tsrc)
    np.testing.assert_array_equal(out.data, ref.detach().numpy())
    _backward_both(torch, out, ref)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(src.grad.data, tsrc.grad.numpy(), rtol=1e-12)


def test_masked_scatter_refusals_as_torch(torch):
    a = np.zeros((3, 4))
    m = np.array([[True, False, False, True]] * 3)
    for mask, src, exc, match in ((m, np.array([1.]), ValueError, "Number of elements"),
                                  (m.astype(np.int64), np.arange(10.), TypeError, "boolean masks"),
                                  (m, np.arange(10), TypeError, "same dtypes")):
        _raises_as_torch(torch, lambda: Tensor(a).masked_scatter(Tensor(mask), Tensor(src)),
                         lambda: torch.from_numpy(a).masked_scatter(torch.from_numpy(mask),
                                                                    torch.from_numpy(src)),
                         exc, match)


@pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0")  # torch's, for 3
@pytest.mark.parametrize("correction", [1.5, 0.5, -1, 3, 2.0, np.float64(1.5), True])
@pytest.mark.parametrize("name", ["var", "std"])
def test_a_float_correction_as_torch(torch, correction, name):
    a = np.array([[1., 2., 4.], [0.5, -1., 3.]])
    x, tx = _pair(torch, a)
    out = getattr(x, name)(dim=1, correction=correction)
    ref = getattr(tx, name)(dim=1, correction=correction)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-12)
    _backward_both(torch, out, ref)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)
    f = getattr(tg, name)(Tensor(a), 1, correction=correction)
    np.testing.assert_allclose(f.data, ref.detach().numpy(), rtol=1e-12)
    m = getattr(tg, name + "_mean")(Tensor(a), 1, correction=correction)
    tm = getattr(torch, name + "_mean")(torch.from_numpy(a), 1, correction=correction)
    np.testing.assert_allclose(m[0].data, tm[0].numpy(), rtol=1e-12)
    with pytest.raises(TypeError, match="correction"):
        getattr(x, name)(correction="1")


# ---- topk without sorting the axis -------------------------------------------------------------

def _sorted_head(a, k, d, largest):
    v, i = Tensor(a).sort(d, descending=largest)
    head = (slice(None),) * (d % a.ndim) + (slice(0, k),)
    return v.data[head], i.data[head]


def _topk_arrays():
    rng = np.random.default_rng(5)
    spread = rng.standard_normal((6, 2048)).astype(np.float32)
    ties = rng.integers(0, 4, (5, 1000)).astype(np.float32)
    nans = rng.standard_normal((4, 700))
    nans[rng.random(nans.shape) < 0.3] = np.nan
    nans[0] = np.nan
    nans[1, :650] = np.nan
    infs = rng.standard_normal((3, 517))
    infs[:, ::3] = -np.inf
    infs[0, 5:] = -np.inf
    ints = rng.integers(-50, 50, (7, 3001)).astype(np.int16)
    bools = rng.random((3, 600)) < 0.02
    return [spread, ties, nans, infs, ints, bools, spread.T.copy()]


@pytest.mark.parametrize("which", range(7))
@pytest.mark.parametrize("k", [1, 3, 10, 37, 200])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_is_the_head_of_the_stable_sort(which, k, largest):
    a = _topk_arrays()[which]
    d = 0 if which == 6 else -1
    v, i = Tensor(a).topk(k, d, largest)
    rv, ri = _sorted_head(a, k, d, largest)
    np.testing.assert_array_equal(v.data, rv)  # NaN where the sort has NaN
    np.testing.assert_array_equal(i.data, ri)
    assert i.dtype == np.int64 and v.dtype == a.dtype


@pytest.mark.parametrize("largest", [True, False])
def test_topk_values_indices_and_gradient_as_torch(torch, largest):
    rng = np.random.default_rng(6)
    a = rng.permutation(3 * 2048).reshape(3, 2048).astype(np.float64)  # no ties: one answer
    x, tx = _pair(torch, a)
    out, ref = x.topk(10, 1, largest), tx.topk(10, 1, largest)
    np.testing.assert_array_equal(out.values.data, ref.values.detach().numpy())
    np.testing.assert_array_equal(out.indices.data, ref.indices.numpy())
    _backward_both(torch, out.values, ref.values)
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())


@pytest.mark.parametrize("largest", [True, False])
def test_topk_with_nan_orders_as_torch(torch, largest):
    a = np.array([1., np.nan, 3., np.nan, 2.])
    for k in (1, 2, 3, 5):
        out, ref = Tensor(a).topk(k, largest=largest), torch.from_numpy(a).topk(k, largest=largest)
        np.testing.assert_array_equal(out.values.data, ref.values.numpy())  # NaN where torch's
        nan = np.isnan(out.values.data)
        np.testing.assert_array_equal(out.indices.data[~nan], ref.indices.numpy()[~nan])
        # the NaNs are tied: torch's order among them is its own (here index order)
        assert sorted(out.indices.data[nan]) == sorted(ref.indices.numpy()[nan])
        assert list(out.indices.data[nan]) == sorted(out.indices.data[nan])


def test_topk_records_one_gather_of_k_values():
    # the full sort recorded a gather of all n values and a slice of it: two nodes, one of
    # them full-size, on every training step that takes a top-k
    x = Tensor(np.random.default_rng(7).standard_normal((4, 2048)), requires_grad=True)
    values = x.topk(10).values
    assert values.grad_fn.inputs[0] is x
    assert all(np.size(i) <= 4 * 10 for i in values.grad_fn.kw["index"] if i is not None)
