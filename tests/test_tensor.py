"""Tensor: construction and dtypes, constructors and the seeded generator, properties, NumPy
interop, mixing with arrays and scalars, repr, and the errors of bad input."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor


# ---- construction and dtypes ---------------------------------------------------------------------

@pytest.mark.parametrize("data", [[1, 2, 3], [1.5, 2.5], 3, 2.5, [[1, 2], [3, 4]], (1, 2)])
def test_python_lists_and_scalars_become_float32(data):
    t = Tensor(data)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), np.asarray(data, dtype=np.float32))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int64, np.int32,
                                   np.uint8, np.bool_])
def test_ndarrays_keep_their_dtype(dtype):
    a = np.arange(6).reshape(2, 3).astype(dtype)
    t = Tensor(a)
    assert t.dtype == dtype and t.shape == (2, 3)
    np.testing.assert_array_equal(t.numpy(), a)


def test_numpy_scalars_keep_their_dtype_and_dtype_argument_casts():
    assert Tensor(np.float64(1.0)).dtype == np.float64
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert Tensor(np.ones(2), dtype="float32").dtype == np.float32
    assert Tensor([True, False]).dtype == np.bool_


def test_tensor_of_a_tensor_and_of_a_list_of_tensors():
    a = Tensor(np.arange(3.0))
    assert np.shares_memory(Tensor(a).numpy(), a.numpy())
    np.testing.assert_array_equal(Tensor([Tensor(1.0), Tensor(2.0)]).numpy(), [1.0, 2.0])


@pytest.mark.parametrize("bad", ["abc", None, {}, [object()], np.array([1j]), [[1], [1, 2]]])
def test_non_numeric_data_is_a_type_error(bad):
    with pytest.raises(TypeError, match="Tensor"):
        Tensor(bad)


@pytest.mark.parametrize("a", [np.arange(3), np.array([True]), np.arange(3, dtype=np.uint8)])
def test_requires_grad_on_a_non_float_tensor_is_a_type_error(a):
    with pytest.raises(TypeError, match="floating"):
        Tensor(a, requires_grad=True)
    with pytest.raises(TypeError, match="floating"):
        Tensor(a).requires_grad_()


def test_requires_grad_flag_and_leaf_status():
    x = Tensor([1.0], requires_grad=True)
    assert x.requires_grad and x.is_leaf and x.grad is None and x.grad_fn is None
    y = x * 2
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    z = Tensor([1.0]).requires_grad_()
    assert z.requires_grad
    assert z.requires_grad_(False) is z and not z.requires_grad


# ---- constructors and the generator ----------------------------------------------------------------

def test_deterministic_constructors():
    assert Tensor.zeros(2, 3).numpy().tolist() == [[0.0] * 3] * 2
    assert Tensor.zeros((2, 3)).shape == (2, 3)
    assert Tensor.ones(4).dtype == np.float32 and Tensor.ones(4).numpy().sum() == 4
    assert Tensor.full((2, 2), 7.0).numpy().tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert Tensor.full(3, 1.5).shape == (3,)
    np.testing.assert_array_equal(Tensor.arange(5).numpy(), np.arange(5, dtype=np.float32))
    np.testing.assert_array_equal(Tensor.arange(1, 3, 0.5).numpy(), [1.0, 1.5, 2.0, 2.5])
    np.testing.assert_array_equal(Tensor.eye(3).numpy(), np.eye(3))
    assert Tensor.eye(2, 3).shape == (2, 3)
    base = Tensor(np.ones((2, 3), dtype=np.float64))
    assert Tensor.zeros_like(base).dtype == np.float64 and Tensor.zeros_like(base).numpy().sum() == 0
    assert Tensor.ones_like(np.zeros(3)).numpy().tolist() == [1.0, 1.0, 1.0]
    assert Tensor.ones(2, dtype=np.float64).dtype == np.float64
    w = Tensor.zeros(3, requires_grad=True)
    assert w.requires_grad


@pytest.mark.parametrize("make", [
    lambda: Tensor.randn(3, 4), lambda: Tensor.rand(3, 4), lambda: Tensor.uniform(3, 4, low=-2, high=5),
    lambda: Tensor.randn((2, 2), dtype=np.float64),
])
def test_random_constructors_follow_manual_seed(make):
    tg.manual_seed(123)
    a = make().numpy()
    b = make().numpy()
    tg.manual_seed(123)
    c = make().numpy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)


def test_random_constructors_share_one_generator():
    tg.manual_seed(7)
    Tensor.rand(5)
    after_rand = Tensor.randn(3).numpy()
    tg.manual_seed(7)
    direct = Tensor.randn(3).numpy()
    assert not np.array_equal(after_rand, direct)  # rand advanced the same generator


def test_random_constructors_dtypes_and_ranges():
    tg.manual_seed(0)
    r = Tensor.rand(1000)
    u = Tensor.uniform(1000, low=-3.0, high=-1.0)
    n = Tensor.randn(1000, requires_grad=True)
    assert r.dtype == u.dtype == n.dtype == np.float32 and n.requires_grad
    assert 0 <= r.numpy().min() and r.numpy().max() < 1
    assert -3 <= u.numpy().min() and u.numpy().max() < -1
    assert abs(n.numpy().mean()) < 0.2 and 0.8 < n.numpy().std() < 1.2


def test_manual_seed_validates_its_argument():
    with pytest.raises(TypeError):
        tg.manual_seed(1.5)
    with pytest.raises(ValueError):
        tg.manual_seed(-1)
    tg.manual_seed(np.int64(3))


# ---- properties and interop ---------------------------------------------------------------------

def test_properties():
    t = Tensor(np.zeros((2, 3, 4), dtype=np.float64))
    assert t.shape == (2, 3, 4) and t.ndim == 3 and t.size == 24 and t.dtype == np.float64
    assert len(t) == 2 and len(list(t)) == 2 and list(t)[0].shape == (3, 4)
    s = Tensor(np.array([[2.5]]))
    assert s.item() == 2.5 and isinstance(s.item(), float)
    assert float(s) == 2.5 and int(Tensor([3.0])) == 3
    assert Tensor([1.0, 2.0]).tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match=r"\(2,\)"):
        Tensor([1.0, 2.0]).item()
    with pytest.raises(TypeError):
        len(Tensor(1.0))


def test_numpy_and_asarray_share_memory():
    a = np.arange(4.0)
    t = Tensor(a)
    assert t.numpy() is a
    assert np.asarray(t) is a
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    c = np.array(t, copy=True)
    c[0] = 99
    assert a[0] == 0
    np.testing.assert_array_equal(np.asarray(Tensor([1, 2])), [1.0, 2.0])


def test_repr_is_readable():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    assert repr(x) == "Tensor([1., 2.], dtype=float64, requires_grad=True)"
    y = x * 2
    assert "grad_fn=mul" in repr(y) and "dtype=float64" in repr(y)
    assert repr(Tensor(2.5)) == "Tensor(2.5, dtype=float32)"
    big = repr(Tensor(np.arange(10_000.0)))
    assert "..." in big and len(big) < 200
    named = Tensor([1.0], name="w")
    assert "name='w'" in repr(named)
    assert "Tensor(" in str(x)


def test_detach_and_hash_identity():
    x = Tensor([1.0], requires_grad=True)
    d = x.detach()
    assert d is not x and not d.requires_grad and np.shares_memory(d.numpy(), x.numpy())
    assert len({x, x, d}) == 2  # tensors hash by identity even though == is elementwise


# ---- mixing with NumPy arrays and Python scalars -----------------------------------------------------

@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_arrays_and_scalars_on_either_side(op):
    a = np.array([1.0, 2.0, 4.0], dtype=np.float32)
    t = Tensor(a, requires_grad=True)
    arr = np.array([2.0, 0.5, 3.0], dtype=np.float32)
    for left, right, expected in [(t, arr, eval(f"a {op} arr")), (arr, t, eval(f"arr {op} a")),
                                  (t, 2, eval(f"a {op} 2")), (2, t, eval(f"2 {op} a")),
                                  (t, 0.5, eval(f"a {op} 0.5")), (0.5, t, eval(f"0.5 {op} a")),
                                  (t, np.float64(2.0), eval(f"a {op} np.float32(2.0)")),
                                  (np.float32(2.0), t, eval(f"np.float32(2.0) {op} a")),
                                  (t, [2.0, 0.5, 3.0], eval(f"a {op} arr"))]:
        out = eval(f"left {op} right")
        assert isinstance(out, Tensor), (type(left), type(right))
        assert out.requires_grad
        assert out.dtype == np.float32, (type(left), type(right), out.dtype)
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)


def test_ndarray_on_the_left_of_matmul_and_comparisons():
    t = Tensor(np.eye(2), requires_grad=True)
    m = np.array([[1.0, 2.0], [3.0, 4.0]])
    out = m @ t
    assert isinstance(out, Tensor) and out.requires_grad
    np.testing.assert_array_equal(out.numpy(), m)
    r = m > t
    assert isinstance(r, Tensor) and r.dtype == np.bool_


def test_unsupported_operands_are_type_errors():
    t = Tensor([1.0])
    for bad in ["a", None, object()]:
        with pytest.raises(TypeError):
            t + bad
        with pytest.raises(TypeError):
            bad * t
    with pytest.raises(TypeError):
        tg.matmul(t, 2.0)


def test_numpy_ufuncs_do_not_silently_unwrap_tensors():
    # __array_ufunc__ = None: ndarray (+) Tensor defers to the Tensor; np.exp(t) refuses
    # rather than returning an ndarray cut off from the graph.
    with pytest.raises(TypeError):
        np.exp(Tensor([1.0], requires_grad=True))


def test_boolean_tensor_logic():
    a, b = Tensor([True, False, True]), Tensor([True, True, False])
    assert (a & b).tolist() == [True, False, False]
    assert (a | b).tolist() == [True, True, True]
    assert (a ^ b).tolist() == [False, True, True]
    assert (~a).tolist() == [False, True, False]
    with pytest.raises(TypeError):
        ~Tensor([1.0])


# ---- shape errors name both shapes -----------------------------------------------------------------

def test_broadcast_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        Tensor(np.ones((2, 3))) * Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        Tensor(np.ones((2, 3))) + np.ones(4)
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        tg.where(np.ones(2, bool), Tensor(np.ones(3)), 0.0)


def test_other_value_errors_are_not_reported_as_broadcasting():
    with pytest.raises(ValueError, match="negative integer powers"):
        Tensor(np.arange(3)) ** -1


def test_matmul_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 3\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"\(2, 4, 3\).*\(5, 3, 2\)"):
        Tensor(np.ones((2, 4, 3))) @ Tensor(np.ones((5, 3, 2)))
    with pytest.raises(ValueError, match=r"\(\).*\(3,\)"):
        Tensor(2.0) @ Tensor(np.ones(3))


def test_reshape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        Tensor(np.ones((2, 3))).reshape(4)
    with pytest.raises(TypeError):
        Tensor(np.ones((2, 3))).reshape("a")


def test_reshape_to_its_own_shape_is_itself_but_still_checks_the_sizes():
    t = Tensor(np.ones((2, 3)), requires_grad=True)
    assert t.reshape((2, 3)) is t and t.reshape(2, 3) is t and t.reshape([2, 3]) is t
    with pytest.raises(TypeError, match="sequence of ints"):
        t.reshape((2.0, 3))  # equal to the shape, yet not a shape


@pytest.mark.parametrize("call", [
    lambda t: t.sum(axis=3), lambda t: t.mean(axis=-4), lambda t: t.max(axis=(0, 3)),
    lambda t: t.var(axis=5), lambda t: t.softmax(axis=3), lambda t: t.transpose(0, 3),
    lambda t: t.transpose(0, 0, 1), lambda t: t.unsqueeze(5), lambda t: t.flatten(4),
    lambda t: t.squeeze(7),
])
def test_bad_axis_is_a_value_error(call):
    with pytest.raises(ValueError):
        call(Tensor(np.ones((2, 3, 1))))


# ---- found by the engine audit --------------------------------------------------------------------

def test_accumulated_grad_keeps_the_leaf_dtype():
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    c = np.ones(3)  # float64: each backward's gradient is float64 before it reaches the leaf
    (x * c).sum().backward()
    (x * c).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), 2.0)


def test_integer_leaf_made_to_require_grad_by_assignment_is_refused_before_any_grad():
    t = Tensor(np.arange(3))
    with pytest.raises(TypeError, match="floating-point"):
        t.requires_grad = True  # refused at the assignment now, as torch refuses it
    assert not t.requires_grad
    t._requires_grad = True  # behind the setter's check: the backward still refuses it
    f = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        (t * 1.5 + f).sum().backward()
    assert t.grad is None and f.grad is None


def test_bool_axis_fraction_operand_and_bad_reshape_size():
    x = Tensor(np.ones((2, 3), np.float32))
    with pytest.raises(TypeError, match="axis"):
        x.sum(axis=True)
    with pytest.raises(ValueError, match="-2"):
        x.reshape(-2, 3)
    from fractions import Fraction
    y = x + Fraction(1, 2)
    assert y.dtype == np.float32 and float(y.numpy()[0, 0]) == 1.5


def test_max_of_nan_sends_the_gradient_to_the_nans_as_torch(torch):
    a = np.array([np.nan, 1.0, np.nan, 0.5])
    x = Tensor(a, requires_grad=True)
    x.max().backward()
    t = torch.tensor(a, requires_grad=True)
    t.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


# ---- found by a bug hunt against NumPy and torch ----------------------------------------------

@pytest.mark.parametrize("call", [
    lambda t: tg.concatenate([t, t], axis=(2, 0)), lambda t: tg.stack([t, t], dim=None),
    lambda t: t.swapaxes(None, 2), lambda t: t.flatten((1, 2)), lambda t: t.unsqueeze(None),
    lambda t: t.flatten(0, [2])])
def test_one_axis_arguments_refuse_none_and_tuples(call):
    """A tuple's first entry (or all axes for None) once stood silently for the whole."""
    with pytest.raises(TypeError, match="must be an int"):
        call(Tensor(np.zeros((2, 3, 4))))


def test_concatenate_axis_none_flattens_as_numpy():
    a, b = np.arange(6.0).reshape(2, 3), np.arange(4.0)
    out = tg.concatenate([Tensor(a), Tensor(b)], axis=None)
    np.testing.assert_array_equal(out.numpy(), np.concatenate([a, b], axis=None))


@pytest.mark.parametrize("shape, dims, expected", [
    ((0, 2, 3), (1, -1), (0, 6)), ((4, 0, 2, 3), (2, 3), (4, 0, 6)), ((2, 0, 3), (0, 1), (0, 3))])
def test_flatten_of_an_empty_tensor_keeps_the_other_sizes(torch, shape, dims, expected):
    assert Tensor(np.zeros(shape)).flatten(*dims).shape == expected
    assert tuple(torch.zeros(shape).flatten(*dims).shape) == expected


def test_arange_with_only_a_stop_takes_the_step():
    np.testing.assert_array_equal(Tensor.arange(5, step=2).numpy(), [0, 2, 4])
    for kw in (dict(start=None), dict(start=3, step=None)):
        with pytest.raises(TypeError, match="arange\\(\\): (start|step) must be a number, got None"):
            Tensor.arange(**kw)


@pytest.mark.parametrize("data", [None, "1.5", np.array(["3", "4"]), np.array([1 + 2j])])
def test_dtype_argument_does_not_convert_what_is_not_numeric(data):
    with pytest.raises(TypeError, match="data must be numeric"):
        Tensor(data, dtype=np.float32)


def test_bitwise_operators_as_numpy_and_torch(torch):
    a, b = np.array([1, 2, 6]), np.array([3, 3, 3])
    for op in (np.bitwise_and, np.bitwise_or, np.bitwise_xor):
        sym = {np.bitwise_and: "__and__", np.bitwise_or: "__or__", np.bitwise_xor: "__xor__"}[op]
        np.testing.assert_array_equal(getattr(Tensor(a), sym)(Tensor(b)).numpy(), op(a, b))
        np.testing.assert_array_equal(getattr(Tensor(a), sym)(Tensor(b)).numpy(),
                                      getattr(torch.tensor(a), sym)(torch.tensor(b)).numpy())
    m = Tensor(np.array([True, False]))
    np.testing.assert_array_equal((np.array([True, True]) & m).numpy(), [True, False])
    np.testing.assert_array_equal((True & m).numpy(), [True, False])
    np.testing.assert_array_equal((False | m).numpy(), [True, False])
    with pytest.raises(TypeError, match="& is defined for boolean and integer tensors"):
        Tensor(np.ones(2)) & m


def test_where_of_two_python_numbers_is_float32():
    c = Tensor(np.array([True, False]))
    assert tg.where(c, 2.0, 1.0).dtype == np.float32 and tg.where(c, 2, 1).dtype == np.float32
    assert tg.where(c, True, False).dtype == np.bool_


def test_var_without_degrees_of_freedom_divides_by_zero_as_numpy_and_torch(torch):
    a = np.array([1.0, 2.0, 4.0])
    x = Tensor(a, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert x.var(correction=3).item() == np.var(a, ddof=3) == torch.tensor(a).var(
            correction=3).item() == np.inf
    x.var(correction=4).backward()
    assert np.isinf(x.grad.numpy()).all()


@pytest.mark.parametrize("fn", ["var", "std"])
def test_var_takes_correction_or_ddof_not_both_as_numpy(fn):
    a = np.array([1.0, 2.0, 4.0])
    x = Tensor(a)
    with pytest.raises(ValueError, match="correction or ddof"):
        getattr(x, fn)(correction=0, ddof=1)
    with pytest.raises(ValueError):
        getattr(np, fn)(a, correction=0, ddof=1)
    # a float ddof/correction is NumPy's and torch's (was refused here as not an int)
    assert getattr(x, fn)(ddof=1.5).item() == pytest.approx(getattr(np, fn)(a, ddof=1.5),
                                                            rel=1e-15)
    with pytest.raises(TypeError, match=f"{fn}\\(\\): ddof must be a number"):
        getattr(x, fn)(ddof="1")
    assert getattr(x, fn)(ddof=0).item() == pytest.approx(getattr(np, fn)(a), rel=1e-15)
    assert getattr(x, fn)(correction=None).item() == pytest.approx(getattr(np, fn)(a, ddof=1),
                                                                   rel=1e-15)


def test_integer_index_gradient_with_an_empty_trailing_axis(torch):
    # the scatter's flat-index path reshaped with -1, which NumPy cannot infer for size 0
    for shape, index, out in [((2, 0), [1, 0], (2, 0)), ((3, 4, 0), np.array([0, 2]), (2, 4, 0))]:
        t = Tensor(np.zeros(shape, np.float32), requires_grad=True)
        t[index].backward(np.zeros(out, np.float32))
        tt = torch.zeros(shape, requires_grad=True)
        tt[torch.tensor(index)].backward(torch.zeros(out))
        assert t.grad.shape == tuple(tt.grad.shape) == shape


def test_nested_empty_lists_index_as_numpy():
    a = np.zeros((3, 4), np.float32)
    for index in ([[], []], ([], [[]])):
        assert Tensor(a)[index].shape == a[index].shape


def test_logsumexp_of_narrow_integers_does_not_wrap_or_overflow(torch):
    for values, dtype in (([0, 3], np.uint8), ([-100, 100], np.int8), ([0, 60000], np.uint16),
                          ([100, 101, 102, 103, 104], np.int8), ([0] * 70000, np.uint8),
                          ([True, False], np.bool_)):
        a = np.array(values, dtype)
        out = Tensor(a).logsumexp()
        expected = torch.logsumexp(torch.tensor(a.astype(np.float64)), 0).item()
        assert out.dtype == np.float32 and out.item() == pytest.approx(expected, rel=1e-6)
    # int64 too is float32, as torch (NumPy's exp would give float64)
    assert Tensor(np.array([1, 2])).logsumexp().dtype == np.float32


def test_pad_and_clip_take_a_zero_dimensional_array_as_numpy():
    x = Tensor(np.ones(2))
    assert x.pad(1, value=np.array(2.0)).numpy().tolist() == [2.0, 1.0, 1.0, 2.0]
    assert x.clip(np.array(0.0), np.array(0.5)).numpy().tolist() == [0.5, 0.5]
    with pytest.raises(TypeError, match="must be a number"):
        x.pad(1, value=np.array([2.0]))


def test_equality_with_what_is_no_operand_is_false_as_torch():
    t = Tensor(np.ones(2))
    assert (t == None) is False and (t != None) is True  # noqa: E711
    assert None not in [t] and "x" not in [t] and t in [t]


def test_an_empty_list_index_is_an_empty_selection(torch):
    a = np.arange(6.0).reshape(2, 3)
    assert Tensor(a)[[]].shape == a[[]].shape == tuple(torch.tensor(a)[[]].shape) == (0, 3)


def test_ops_built_on_exp_take_integer_and_bool_tensors():
    i, b = Tensor(np.array([1, 2])), Tensor(np.array([True, False]))
    e = np.exp([1.0, 2.0])
    np.testing.assert_allclose(i.log_softmax().numpy(), np.log(e / e.sum()))
    assert b.sigmoid().dtype == np.float32  # at least float32: NumPy's exp gives float16
    assert b.softmax().shape == (2,) and b.sign().numpy().tolist() == [True, False]


def test_integer_tensors_give_float32_as_torch(torch):
    for dt in (np.uint8, np.int8, np.bool_, np.int16, np.int32, np.int64):
        a = np.array([0, 1, 12, 100], dt) if dt != np.bool_ else np.array([True, False])
        t, x = Tensor(a), torch.tensor(a)
        for name in ("exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "tanh", "sigmoid"):
            with np.errstate(all="ignore"):  # log(0) and exp(100) in float32: -inf, inf
                ours = getattr(t, name)()
            theirs = getattr(torch, name)(x)
            assert ours.dtype == np.float32, (dt, name)
            np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6, err_msg=name)
        assert t.softmax().dtype == t.logsumexp().dtype == np.float32


def test_augmented_assignment_updates_in_place_where_nothing_is_recorded():
    w = Tensor(np.ones(3), requires_grad=True)
    same, array = w, w.data
    (w * 2.0).sum().backward()
    with tg.no_grad():
        w -= 0.5 * w.grad  # the hand-written SGD step
    assert w is same and w.data is array and w.requires_grad and w.grad is not None
    np.testing.assert_array_equal(same.numpy(), [0.0, 0.0, 0.0])
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad is being used in an "
                                           "in-place"):
        w += 1.0
    total = 0.0
    for k in range(3):  # a recorded sum: a new tensor each time, as x = x + y
        total += (w * float(k)).sum()
    total.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [5.0, 5.0, 5.0])
    # a value a graph saved, written in place after the forward: refused, as torch's version
    # counters refuse it, on either backward path
    x, y = Tensor(np.array([1.0, 2.0]), requires_grad=True), Tensor(np.array([3.0, 4.0]))
    z = (x * y).sum()
    y += 10.0
    with pytest.raises(RuntimeError, match="that mul saved was written in place"):
        tg.grad(z, x, retain_graph=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        tg.grad(z, x, create_graph=True)
    cube = (x * x * x).sum()
    with tg.no_grad():
        x -= 1.0
    with pytest.raises(RuntimeError, match="shape \\(2,\\) that mul saved was written"):
        tg.grad(cube, x, create_graph=True)
    # torch refuses only what a backward reads: add's does not read its inputs, exp's reads
    # its output
    v, c = Tensor(np.array([3.0, 4.0]), requires_grad=True), Tensor(np.array([5.0, 6.0]))
    total = (v + c).sum()
    with tg.no_grad():
        c += 1.0
    np.testing.assert_array_equal(tg.grad(total, v, create_graph=True)[0].numpy(), [1.0, 1.0])
    e = v.exp()
    total = e.sum()
    with tg.no_grad():
        e += 1.0
    with pytest.raises(RuntimeError, match="that exp saved was written"):
        tg.grad(total, v, create_graph=True)
    # a replaced array (not written: .data set) is still refused by a create_graph backward
    total = (v * v).sum()
    v.data = v.data + 1.0
    with pytest.raises(RuntimeError, match="modified since the graph was recorded"):
        tg.grad(total, v, create_graph=True)
    i = Tensor(np.array([1, 2]))
    with pytest.raises(TypeError, match="cannot be stored in a tensor of dtype int64"):
        i += 0.5
    with pytest.raises(ValueError, match="does not fit the tensor's shape"):
        y += np.ones((2, 2))


def test_in_place_updates_reach_views_as_in_torch(torch):
    """A state-dict entry or a detach() shares the parameter's memory: updating it in place
    moves the model (the YOLOv5 ModelEMA pattern), as in PyTorch; it did not."""
    from tinygrad_norm import nn

    lin, tlin = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    src = [p.data.copy() for p in lin.parameters()]
    with torch.no_grad():
        for t, a in zip(tlin.parameters(), src):
            t.copy_(torch.tensor(a))
    new = {k: v.data * 0.5 + 1.0 for k, v in lin.state_dict().items()}
    with tg.no_grad():
        for k, v in lin.state_dict().items():
            v *= 0.5
            v += Tensor(new[k]) - v * 0 - (v * 0 + v)  # v = new, the long way round
    with torch.no_grad():
        for k, v in tlin.state_dict().items():
            v *= 0.5
            v += torch.tensor(new[k]) - v
    for p, t in zip(lin.parameters(), tlin.parameters()):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(p.data, new["weight" if p.ndim == 2 else "bias"], rtol=1e-6)
    w = Tensor(np.ones(3, np.float32), requires_grad=True)
    a = w.detach()
    a += 1.0
    np.testing.assert_array_equal(w.data, [2.0, 2.0, 2.0])


def test_in_place_methods_match_torch(torch):
    a = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], np.float32)
    t, x = Tensor(a.copy()), torch.tensor(a)
    for ours, theirs in [
        (lambda: t.add_(Tensor(np.ones(3, np.float32)), alpha=2.5),
         lambda: x.add_(torch.ones(3), alpha=2.5)),
        (lambda: t.sub_(1.5), lambda: x.sub_(1.5)),
        (lambda: t.mul_(Tensor(a)), lambda: x.mul_(torch.tensor(a))),
        (lambda: t.div_(4.0), lambda: x.div_(4.0)),
        (lambda: t.copy_(np.array([7.0, 8.0, 9.0])), lambda: x.copy_(torch.tensor([7.0, 8.0, 9.0]))),
        (lambda: t.fill_(0.25), lambda: x.fill_(0.25)),
        (lambda: t.zero_(), lambda: x.zero_()),
    ]:
        view = t.data
        assert ours() is t and t.data is view  # in place: the same array
        theirs()
        np.testing.assert_array_equal(t.data, x.numpy())
        assert t.dtype == np.float32
    w = Tensor(np.ones(3, np.float32), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.add_(1.0)
    y = w * 2
    assert y.mul_(2.0) is y and y.requires_grad  # recorded, as torch's
    c = Tensor(np.zeros(3, np.float32))
    assert c.copy_(w) is c and c.requires_grad
    (y * c).backward(Tensor(np.array([1.0, 2.0, 3.0], np.float32)))
    np.testing.assert_array_equal(w.grad.numpy(), [8.0, 16.0, 24.0])  # d(4w * w) = 8w * u
    w.grad = None
    with tg.no_grad():
        w.add_(Tensor(np.ones(3, np.float32)), alpha=-0.5)  # a hand-written update
    np.testing.assert_array_equal(w.data, [0.5, 0.5, 0.5])
    i = Tensor(np.array([1, 2]))
    with pytest.raises(TypeError, match="cannot be stored in a tensor of dtype int64"):
        i.copy_(np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match="do not fit the tensor's shape"):
        i.copy_(np.array([1, 2, 3]))
    c = Tensor(a, requires_grad=True)
    d = c.clone()
    assert d.data is not c.data and d.requires_grad
    (d * 2.0).sum().backward()
    np.testing.assert_array_equal(c.grad.data, np.full(a.shape, 2.0))


def test_argmax_format_and_dtype_shorthands_match_torch(torch):
    a = np.array([[1.0, 5.0, np.nan], [7.0, 0.0, 7.0]])
    t, x = Tensor(a), torch.tensor(a)
    assert t.argmax().item() == x.argmax().item()
    np.testing.assert_array_equal(t.argmax(1).data, x.argmax(1).numpy())
    np.testing.assert_array_equal(t.argmin(0, keepdims=True).data, x.argmin(0, keepdim=True))
    assert t.argmax(1).dtype == np.int64
    with pytest.raises(ValueError, match="empty tensor"):
        Tensor(np.zeros((0, 3))).argmax()
    with pytest.raises(TypeError, match="one int or None"):
        t.argmax((0, 1))
    loss = Tensor(np.float32(0.123456))
    assert f"{loss:.4f}" == f"{torch.tensor(0.123456):.4f}" == "0.1235"
    assert f"{loss}" == str(np.float32(0.123456).item())
    with pytest.raises(TypeError):
        f"{Tensor(np.ones(2)):.3f}"
    f = Tensor(np.array([1.5, -2.0]))
    assert f.long().dtype == np.int64 and f.int().dtype == np.int32 and f.bool().dtype == bool
    assert f.half().dtype == np.float16 and f.to(np.float32).dtype == np.float32
    np.testing.assert_array_equal(f.long().data, x.new_tensor([1.5, -2.0]).long().numpy())


# ---- from a Tensor-API bug hunt against NumPy and torch 2.13 -------------------------------------

def test_python_data_with_a_dtype_is_converted_straight_to_it():
    # through float32 first, 0.1 as float64 was 0.10000000149 and 16777217 as int64 16777216
    assert Tensor([0.1], dtype=np.float64).data[0] == 0.1
    assert Tensor([16777217], dtype=np.int64).data[0] == 16777217
    assert Tensor([1e300], dtype=np.float64).data[0] == 1e300
    assert Tensor(0.1, dtype=np.float64).data == 0.1
    with pytest.raises(ValueError, match="does not fit dtype int32"):
        Tensor([2**31], dtype=np.int32)
    assert Tensor([0.1]).dtype == np.float32  # without dtype=: float32, as documented


def test_a_bound_that_requires_grad_gets_its_gradient_or_is_refused():
    x = Tensor(np.array([0.0, 1.0, 2.0]), requires_grad=True)
    w = Tensor(np.array(0.5), requires_grad=True)
    x.clip(w).sum().backward()  # a clamp bound is differentiable, as torch's tensor bounds
    x.clip(None, w).sum().backward()
    assert w.grad.item() == 3.0 and np.array_equal(x.grad.numpy(), [1.0, 1.0, 1.0])
    with pytest.raises(TypeError, match="would get no gradient"):
        x.pad(1, value=w)  # w.grad stayed None without a word
    np.testing.assert_array_equal(x.clip(w.detach()).numpy(), [0.5, 1.0, 2.0])
    with tg.no_grad():
        x.clip(w)


def test_pow_and_matmul_augmented_assignment_follow_the_in_place_rules():
    w = Tensor(np.full(3, 2.0, np.float32), requires_grad=True)
    ref = w
    with tg.no_grad():
        w **= 2
    assert w is ref and w.requires_grad and w.dtype == np.float32  # was rebound, detached
    np.testing.assert_array_equal(ref.numpy(), 4.0)
    with pytest.raises(RuntimeError, match=r"in-place \*\*="):
        w **= 2


def test_matmul_augmented_assignment_rebinds_as_torch():
    # torch has no in-place matmul: `m @= w` is `m = m @ w`, which may change the shape, and
    # other references keep the old values (this was written in place before)
    torch = pytest.importorskip("torch")
    for shapes in (((2, 2), (2, 2)), ((2, 3), (3, 4))):
        a, b = (np.arange(np.prod(s), dtype=np.float64).reshape(s) for s in shapes)
        m, mt = Tensor(a), torch.tensor(a)
        old, old_t = m, mt
        with tg.no_grad():
            m @= Tensor(b)
        mt @= torch.tensor(b)
        assert (m is old) == (mt is old_t) is False
        np.testing.assert_array_equal(m.numpy(), mt.numpy())
        np.testing.assert_array_equal(old.numpy(), old_t.numpy())


def test_flatten_of_a_0d_tensor_checks_its_dims_as_torch():
    assert Tensor(1.0).flatten().shape == Tensor(1.0).flatten(0, -1).shape == (1,)
    with pytest.raises(ValueError, match="start_dim 5 is out of range"):
        Tensor(1.0).flatten(5)
    with pytest.raises(TypeError, match="end_dim"):
        Tensor(1.0).flatten(0, None)


def test_bools_are_not_sizes_or_axes_as_numpy():
    for call in (lambda: Tensor.zeros(True, 3), lambda: Tensor(np.ones(24)).reshape(True, 24),
                 lambda: Tensor(np.ones((2, 3))).transpose((True, False))):
        with pytest.raises(TypeError, match="sequence of ints"):
            call()
    with pytest.raises(TypeError, match="axis1 must be an int"):  # torch's two-axis transpose
        Tensor(np.ones((2, 3))).transpose(True, False)


def test_maximum_of_two_python_numbers_is_float32_as_documented():
    assert tg.maximum(1.0, 2.0).dtype == tg.minimum(1, 2).dtype == tg.where(True, 1.0, 2.0).dtype


def test_asarray_refuses_copy_false_when_it_must_copy_as_numpy():
    t = Tensor(np.ones(2, np.float32))
    with pytest.raises(ValueError, match="Unable to avoid copy"):
        np.asarray(t, dtype=np.float64, copy=False)
    assert np.asarray(t, copy=False) is t.data


def test_repr_of_an_empty_tensor_says_its_shape():
    assert repr(Tensor(np.zeros((0, 3)))) == "Tensor([], shape=(0, 3), dtype=float64)"
    assert repr(Tensor(np.zeros(0))) == "Tensor([], dtype=float64)"
    with pytest.raises(ValueError, match="mT needs a matrix"):
        Tensor([1.0, 2.0]).mT


def test_transpose_of_two_axes_swaps_them_as_torch(torch):
    # two axes as two arguments are torch's transpose(dim0, dim1) (NumPy would take (0, 1) of a
    # matrix as the identity permutation, and refuse two axes of a 3-D tensor); a tuple, every
    # axis or none keep NumPy's meaning
    a = np.arange(24.0).reshape(2, 3, 4)
    for shape, dims in (((2, 3), (0, 1)), ((2, 3), (1, 0)), ((2, 3), (-1, 0)),
                        ((2, 3, 4), (1, 2)), ((2, 3, 4), (0, -1)), ((2, 3, 4), (1, 1))):
        v = a.reshape(-1)[: int(np.prod(shape))].reshape(shape)
        x, xt = Tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
        y, yt = x.transpose(*dims), xt.transpose(*dims)
        np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
        g = np.random.default_rng(0).standard_normal(tuple(yt.shape))
        y.backward(Tensor(g))
        yt.backward(torch.tensor(g))
        np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())
    x = Tensor(a)
    assert x.transpose().shape == (4, 3, 2) and x.transpose((2, 0, 1)).shape == (4, 2, 3)
    assert x.transpose(2, 0, 1).shape == (4, 2, 3)
    assert Tensor(np.zeros((2, 3))).transpose((0, 1)).shape == (2, 3)  # a tuple: a permutation
    with pytest.raises(ValueError, match="give them as two arguments"):
        x.transpose((1, 2))
    with pytest.raises(ValueError):
        x.transpose(0, 3)


def test_tensor_copies_and_types_as_torch_from_numpy_shares(torch):
    for data in ([0, 2, 1], [0.5, 1.0], [True, False], 3, 2.5, [[1, 2], [3, 4]], np.float64(2.0)):
        assert tg.tensor(data).dtype == torch.tensor(data).numpy().dtype
        np.testing.assert_array_equal(tg.tensor(data).data, torch.tensor(data).numpy())
    a = np.ones(3)
    copied, shared = tg.tensor(a), tg.from_numpy(a)
    a[0] = 5.0
    assert copied.data[0] == 1.0 and shared.data[0] == 5.0 and shared.data is a
    assert tg.tensor(a, dtype=np.float32).dtype == np.float32
    assert tg.tensor([1.0], requires_grad=True).requires_grad
    t = Tensor(np.ones(2))
    assert tg.tensor(t).data is not t.data
    with pytest.raises(TypeError, match="expected an np.ndarray"):
        tg.from_numpy([1.0])
    assert tg.zeros(2, 3).shape == (2, 3) and tg.randn(4).dtype == np.float32
    assert tg.full((2,), 7.0).data.tolist() == [7.0, 7.0] and tg.arange(3).shape == (3,)


def test_numbers_go_into_integer_and_bool_tensors_as_torch(torch):
    u, tu = Tensor(np.zeros(3, np.uint8)), torch.zeros(3, dtype=torch.uint8)
    for t in (u, tu):
        t.fill_(3)
        t[0] = 7
    np.testing.assert_array_equal(u.data, tu.numpy())
    b, tb = Tensor(np.zeros(3, bool)), torch.zeros(3, dtype=torch.bool)
    for t in (b, tb):
        t.fill_(2)
        t[1] = 0
    np.testing.assert_array_equal(b.data, tb.numpy())
    with pytest.raises(ValueError, match="300 does not fit dtype uint8"):
        u.fill_(300)
    with pytest.raises(ValueError, match="does not fit dtype float32"):
        Tensor(np.zeros(2, np.float32)).fill_(1e39)
    with pytest.raises(TypeError, match="cannot be stored in a tensor of dtype uint8"):
        u[0] = 1.5
    np.testing.assert_array_equal(u.data, [7, 3, 3])  # unchanged by the refusals
    a = np.float32(np.random.default_rng(0).standard_normal(1000))
    ours, theirs = Tensor(a.copy()), torch.tensor(a)
    ours.add_(0.3, alpha=3)
    theirs.add_(0.3, alpha=3)
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    assert Tensor(np.arange(6.0).reshape(2, 3)).flip(0, 1).data.tolist() == [[5, 4, 3], [2, 1, 0]]


@pytest.mark.parametrize("name", ["any", "all", "amax", "amin", "count_nonzero", "argsort",
                                  "median", "norm", "cumprod"])
def test_torch_named_reductions_take_numpys_axis_too(torch, name):
    a = np.array([[1.0, 0.0, 3.0], [2.0, 5.0, 0.0]])
    x = Tensor(a)
    theirs = getattr(torch.tensor(a), name)(dim=1)
    ours_dim, ours_axis = getattr(x, name)(dim=1), getattr(x, name)(axis=1)
    if name == "median":
        theirs, ours_dim, ours_axis = theirs.values, ours_dim[0], ours_axis[0]
    np.testing.assert_array_equal(ours_axis.numpy(), ours_dim.numpy())
    np.testing.assert_allclose(ours_axis.numpy(), theirs.numpy(), rtol=1e-12)
    if name not in ("argsort", "cumprod", "count_nonzero"):
        kept = getattr(x, name)(axis=1, keepdims=True)
        assert (kept[0] if name == "median" else kept).shape == (2, 1)
    with pytest.raises(TypeError, match="both dim= and axis="):
        getattr(x, name)(dim=1, axis=1)
