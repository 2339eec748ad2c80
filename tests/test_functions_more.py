"""The elementwise, shaping and searching functions of pointwise.py, shaping.py and
searching.py, top-level and as Tensor methods, against torch 2.13: values, dtypes, and the
gradients of every differentiable input under a random upstream gradient (float64)."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor

torch = pytest.importorskip("torch")
R = np.random.default_rng(0)
A = R.standard_normal((3, 4))
B = R.standard_normal((3, 4))
P = R.random((3, 4)) * 0.98 + 0.01  # in (0, 1)


def _to_torch(a, grad):
    t = torch.tensor(a)
    return t.requires_grad_() if grad else t


def _compare(name, ours, theirs, arrays, grads=(), tol=1e-12):
    oa = [Tensor(a, requires_grad=i in grads) if isinstance(a, np.ndarray) else a
          for i, a in enumerate(arrays)]
    ta = [_to_torch(a, i in grads) if isinstance(a, np.ndarray) else a
          for i, a in enumerate(arrays)]
    o, t = ours(*oa), theirs(*ta)
    if isinstance(t, (tuple, list)):
        assert len(o) == len(t), name
        for a, b in zip(o, t):
            _same(name, a, b, tol)
        return
    _same(name, o, t, tol)
    if grads:
        up = R.standard_normal(t.shape)
        o.backward(Tensor(up.astype(o.dtype)))
        t.backward(torch.tensor(up, dtype=t.dtype))
        for i in grads:
            np.testing.assert_allclose(oa[i].grad.data, ta[i].grad.numpy(), rtol=tol, atol=tol,
                                       err_msg=f"{name}: gradient of argument {i}")


def _same(name, o, t, tol):
    t = t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
    assert o.shape == t.shape, f"{name}: shape {o.shape} != {t.shape}"
    assert o.dtype == t.dtype, f"{name}: dtype {o.dtype} != {t.dtype}"
    np.testing.assert_allclose(o.data, t, rtol=tol, atol=tol, err_msg=name)


Z = A.copy()
Z[0, :2] = 0.0  # zeros: xlogy's 0 * log(y), sinc's 1, copysign's zero
Y0 = np.abs(B)
Y0[0, 0] = 0.0  # log(0) under an x of 0
N = A.copy()
N[1, 1] = np.nan
M = B.copy()
M[1, 2], M[2, 0] = np.nan, A[2, 0]  # a NaN, and a tie

DIFFERENTIABLE = [
    ("xlogy", tg.xlogy, torch.xlogy, [Z, Y0 + 0.1], (0, 1)),
    ("xlogy_at_0_0", tg.xlogy, torch.xlogy, [Z, Y0], (0,)),
    ("logit", tg.logit, torch.logit, [P], (0,)),
    ("logit_eps", lambda x: tg.logit(x, 0.2), lambda x: torch.logit(x, 0.2), [P], (0,)),
    ("sinc", tg.sinc, torch.sinc, [Z], (0,)),
    ("copysign", tg.copysign, torch.copysign, [Z, B], (0,)),
    ("fmax", tg.fmax, torch.fmax, [N, M], (0, 1)),
    ("fmin", tg.fmin, torch.fmin, [N, M], (0, 1)),
    ("float_power", tg.float_power, torch.float_power, [Y0 + 0.5, A], (0, 1)),
    ("logaddexp2", tg.logaddexp2, torch.logaddexp2, [A, B], (0, 1)),
    ("deg2rad", tg.deg2rad, torch.deg2rad, [A], (0,)),
    ("rad2deg", tg.rad2deg, torch.rad2deg, [A], (0,)),
    ("addcdiv", lambda a, b, c: tg.addcdiv(a, b, c, value=0.5),
     lambda a, b, c: torch.addcdiv(a, b, c, value=0.5), [A, B, Y0 + 1], (0, 1, 2)),
    ("add_alpha", lambda a, b: tg.add(a, b, alpha=3), lambda a, b: torch.add(a, b, alpha=3),
     [A, B], (0, 1)),
    ("sub_alpha", lambda a, b: tg.subtract(a, b, alpha=2),
     lambda a, b: torch.subtract(a, b, alpha=2), [A, B], (0, 1)),
    ("rsub", lambda a, b: tg.rsub(a, b, alpha=2), lambda a, b: torch.rsub(a, b, alpha=2),
     [A, B], (0, 1)),
    ("mul", tg.multiply, torch.multiply, [A, B], (0, 1)),
    ("div", tg.divide, torch.divide, [A, Y0 + 1], (0, 1)),
    ("true_divide", tg.true_divide, torch.true_divide, [A, Y0 + 1], (0, 1)),
    ("div_floor", lambda a, b: tg.div(a, b, rounding_mode="floor"),
     lambda a, b: torch.div(a, b, rounding_mode="floor"), [A, Y0 + 1], ()),
    ("hstack", lambda a, b: tg.hstack([a, b]), lambda a, b: torch.hstack([a, b]), [A, B], (0, 1)),
    ("hstack_1d", lambda a, b: tg.hstack([a, b]), lambda a, b: torch.hstack([a, b]),
     [A[0], B[1]], (0, 1)),
    ("vstack", lambda a, b: tg.vstack([a, b]), lambda a, b: torch.vstack([a, b]),
     [A[0], B], (0, 1)),
    ("dstack", lambda a, b: tg.dstack([a, b]), lambda a, b: torch.dstack([a, b]), [A, B], (0, 1)),
    ("column_stack", lambda a, b: tg.column_stack([a, b]),
     lambda a, b: torch.column_stack([a, b]), [A[:, 0].copy(), B], (0, 1)),
    ("block_diag", tg.block_diag, torch.block_diag, [A, B[0], np.array(2.0)], (0, 1, 2)),
    ("cartesian_prod", tg.cartesian_prod, torch.cartesian_prod, [A[0], B[1, :2].copy()],
     (0, 1)),
    ("take", lambda a: tg.take(a, Tensor(np.array([[0, -1], [5, 5]]))),
     lambda a: torch.take(a, torch.tensor([[0, -1], [5, 5]])), [A], (0,)),
    ("rot90", tg.rot90, torch.rot90, [A], (0,)),
    ("rot90_k3", lambda a: tg.rot90(a, 3, (1, 0)), lambda a: torch.rot90(a, 3, (1, 0)), [A],
     (0,)),
    ("rot90_k2", lambda a: tg.rot90(a, -2), lambda a: torch.rot90(a, -2), [A], (0,)),
    ("fliplr", tg.fliplr, torch.fliplr, [A], (0,)),
    ("flipud", tg.flipud, torch.flipud, [A], (0,)),
    ("ravel", tg.ravel, torch.ravel, [A.T.copy()], (0,)),
    ("unfold", lambda a: a.unfold(1, 2, 1), lambda a: a.unfold(1, 2, 1), [A], (0,)),
    ("unfold_step", lambda a: a.unfold(0, 2, 2), lambda a: a.unfold(0, 2, 2),
     [R.standard_normal((5, 2, 3))], (0,)),
    ("unfold_0d", lambda a: a.unfold(0, 1, 1), lambda a: a.unfold(0, 1, 1), [np.array(2.0)],
     (0,)),
    ("kthvalue", lambda a: tg.kthvalue(a, 2, 1)[0], lambda a: torch.kthvalue(a, 2, 1)[0], [A],
     (0,)),
    ("kthvalue_keep", lambda a: tg.kthvalue(a, 3, 0, True)[0],
     lambda a: torch.kthvalue(a, 3, 0, True)[0], [A], (0,)),
    ("masked_fill", lambda a: tg.masked_fill(a, Tensor(A > 0), 2.0),
     lambda a: torch.masked_fill(a, torch.tensor(A > 0), 2.0), [B], (0,)),
    ("swapaxes", lambda a: tg.swapaxes(a, 0, 1), lambda a: torch.swapaxes(a, 0, 1), [A], (0,)),
    ("moveaxis", lambda a: tg.moveaxis(a, 0, -1), lambda a: torch.moveaxis(a, 0, -1),
     [R.standard_normal((2, 3, 4))], (0,)),
    ("broadcast_to", lambda a: tg.broadcast_to(a, (2, 3, 4)),
     lambda a: torch.broadcast_to(a, (2, 3, 4)), [A], (0,)),
    ("clone", tg.clone, torch.clone, [A], (0,)),
]


@pytest.mark.parametrize("case", DIFFERENTIABLE, ids=[c[0] for c in DIFFERENTIABLE])
def test_differentiable_as_torch(case):
    _compare(*case)


def _tuple_cases():
    seq = np.array([1.0, 3.0, 3.0, 5.0, 7.0])
    vals = np.array([[0.0, 3.0], [5.0, 9.0]])
    rows = np.sort(R.standard_normal((2, 5)), axis=1)
    ints = np.array([3, 1, 3, 0, 1, 1, 7])
    mat = np.array([[1, 2], [1, 2], [0, 5], [1, 2]])
    return [
        ("searchsorted", lambda: tg.searchsorted(Tensor(seq), Tensor(vals)),
         lambda: torch.searchsorted(torch.tensor(seq), torch.tensor(vals))),
        ("searchsorted_right", lambda: tg.searchsorted(Tensor(seq), Tensor(vals), right=True),
         lambda: torch.searchsorted(torch.tensor(seq), torch.tensor(vals), right=True)),
        ("searchsorted_rows", lambda: tg.searchsorted(Tensor(rows), Tensor(rows[:, :3] + .1),
                                                      side="right", out_int32=True),
         lambda: torch.searchsorted(torch.tensor(rows), torch.tensor(rows[:, :3] + .1),
                                    side="right", out_int32=True)),
        ("searchsorted_sorter", lambda: tg.searchsorted(
            Tensor(seq[::-1].copy()), Tensor(vals), sorter=Tensor(np.arange(5)[::-1].copy())),
         lambda: torch.searchsorted(torch.tensor(seq[::-1].copy()), torch.tensor(vals),
                                    sorter=torch.tensor(np.arange(5)[::-1].copy()))),
        ("searchsorted_scalar", lambda: tg.searchsorted(Tensor(seq), 3.0),
         lambda: torch.searchsorted(torch.tensor(seq), 3.0)),
        ("bucketize", lambda: tg.bucketize(Tensor(vals), Tensor(seq)),
         lambda: torch.bucketize(torch.tensor(vals), torch.tensor(seq))),
        ("bucketize_right", lambda: tg.bucketize(Tensor(vals), Tensor(seq), right=True),
         lambda: torch.bucketize(torch.tensor(vals), torch.tensor(seq), right=True)),
        ("unique", lambda: tg.unique(Tensor(ints), return_inverse=True, return_counts=True),
         lambda: torch.unique(torch.tensor(ints), return_inverse=True, return_counts=True)),
        ("unique_dim", lambda: Tensor(mat).unique(dim=0, return_inverse=True,
                                                  return_counts=True),
         lambda: torch.tensor(mat).unique(dim=0, return_inverse=True, return_counts=True)),
        ("unique_2d", lambda: tg.unique(Tensor(mat), return_inverse=True),
         lambda: torch.unique(torch.tensor(mat), return_inverse=True)),
        ("unique_consecutive", lambda: tg.unique_consecutive(
            Tensor(ints), return_inverse=True, return_counts=True),
         lambda: torch.unique_consecutive(torch.tensor(ints), return_inverse=True,
                                          return_counts=True)),
        ("unique_consecutive_dim", lambda: Tensor(mat).unique_consecutive(
            return_inverse=True, return_counts=True, dim=0),
         lambda: torch.tensor(mat).unique_consecutive(return_inverse=True, return_counts=True,
                                                      dim=0)),
        ("isin", lambda: tg.isin(Tensor(ints), Tensor(np.array([1, 7]))),
         lambda: torch.isin(torch.tensor(ints), torch.tensor([1, 7]))),
        ("isin_invert_scalar", lambda: tg.isin(Tensor(ints), 3, invert=True),
         lambda: torch.isin(torch.tensor(ints), 3, invert=True)),
        ("bincount", lambda: tg.bincount(Tensor(ints), minlength=10),
         lambda: torch.bincount(torch.tensor(ints), minlength=10)),
        ("bincount_w32", lambda: Tensor(ints).bincount(Tensor(np.ones(7, np.float32) / 3)),
         lambda: torch.tensor(ints).bincount(torch.ones(7) / 3)),
        ("bincount_wint", lambda: Tensor(ints).bincount(Tensor(ints)),
         lambda: torch.tensor(ints).bincount(torch.tensor(ints))),
        ("histc", lambda: tg.histc(Tensor(A), bins=5),
         lambda: torch.histc(torch.tensor(A), bins=5)),
        ("histc_range", lambda: Tensor(A.astype(np.float32)).histc(4, -1, 1),
         lambda: torch.tensor(A.astype(np.float32)).histc(4, -1, 1)),
        ("kthvalue_indices", lambda: tg.kthvalue(Tensor(np.array([[3., 1, 2], [1, 1, 0]],
                                                                 np.float32)), 2),
         lambda: torch.kthvalue(torch.tensor([[3., 1, 2], [1, 1, 0]]), 2)),
        ("isclose", lambda: tg.isclose(Tensor(A), Tensor(A + 1e-9), equal_nan=True),
         lambda: torch.isclose(torch.tensor(A), torch.tensor(A + 1e-9), equal_nan=True)),
        ("signbit", lambda: tg.signbit(Tensor(np.array([-0.0, 0.0, -1.0]))),
         lambda: torch.signbit(torch.tensor([-0.0, 0.0, -1.0]))),
        ("tensor_split_n", lambda: tg.tensor_split(Tensor(A), 3, dim=1),
         lambda: torch.tensor_split(torch.tensor(A), 3, dim=1)),
        ("tensor_split_idx", lambda: Tensor(A).tensor_split([1, 3, 9], 1),
         lambda: torch.tensor(A).tensor_split([1, 3, 9], 1)),
        ("tensor_split_tensor", lambda: tg.tensor_split(Tensor(A), Tensor(np.array([-2]))),
         lambda: torch.tensor_split(torch.tensor(A), torch.tensor([-2]))),
        ("hsplit", lambda: tg.hsplit(Tensor(A), 2), lambda: torch.hsplit(torch.tensor(A), 2)),
        ("vsplit", lambda: Tensor(A).vsplit([1]), lambda: torch.tensor(A).vsplit([1])),
        ("dsplit", lambda: tg.dsplit(Tensor(np.zeros((1, 2, 4))), 2),
         lambda: torch.dsplit(torch.zeros(1, 2, 4, dtype=torch.float64), 2)),
        ("atleast_3d", lambda: tg.atleast_3d(Tensor(A[0]), Tensor(np.array(1.0))),
         lambda: torch.atleast_3d(torch.tensor(A[0]), torch.tensor(np.array(1.0)))),
        ("atleast_2d", lambda: tg.atleast_2d(Tensor(A[0])),
         lambda: torch.atleast_2d(torch.tensor(A[0]))),
        ("broadcast_tensors", lambda: tg.broadcast_tensors(Tensor(A), Tensor(B[:1])),
         lambda: torch.broadcast_tensors(torch.tensor(A), torch.tensor(B[:1]))),
        ("tril_indices", lambda: tg.tril_indices(3, 4, 1), lambda: torch.tril_indices(3, 4, 1)),
        ("triu_indices", lambda: tg.triu_indices(4, 3, -1), lambda: torch.triu_indices(4, 3, -1)),
        ("deg2rad_int", lambda: tg.deg2rad(Tensor(np.array([180]))),
         lambda: torch.deg2rad(torch.tensor([180.0]))),
    ]


@pytest.mark.parametrize("case", _tuple_cases(), ids=[c[0] for c in _tuple_cases()])
def test_values_as_torch(case):
    name, ours, theirs = case
    o, t = ours(), theirs()
    if isinstance(t, (tuple, list)):
        assert len(o) == len(t)
        for a, b in zip(o, t):
            _same(name, a, b, 1e-12)
    else:
        _same(name, o, t, 1e-12)


def test_broadcast_shapes_and_errors():
    assert tg.broadcast_shapes((2, 1), (3,), 1) == tuple(torch.broadcast_shapes((2, 1), (3,), 1))
    with pytest.raises(ValueError, match=r"broadcast_shapes\(\): Attempting to broadcast a "
                                         r"dimension of length 3"):
        tg.broadcast_shapes((2,), (3,))
    x = Tensor(A)
    for call, match in [
        (lambda: tg.hsplit(x, 3), "not divisible by the split_size 3"),
        (lambda: tg.vsplit(Tensor(A[0]), 1), "at least 2 dimensions"),
        (lambda: tg.rot90(x, 1, (0, 0)), "expected rotation dims to be different"),
        (lambda: tg.take(x, Tensor(np.array([12]))), "out of range"),
        (lambda: x.unfold(1, 5, 1), "maximum size for tensor at dimension 1 is 4 but size is 5"),
        (lambda: x.unfold(1, 2, 0), "step is 0 but must be > 0"),
        (lambda: tg.kthvalue(x, 5, 1), "k out of range"),
        (lambda: tg.searchsorted(Tensor(A), Tensor(B[:2])), "boundaries tensor should be"),
        (lambda: tg.searchsorted(Tensor(A[0]), Tensor(B), right=True, side="left"),
         "can't be set to opposites"),
        (lambda: tg.bincount(Tensor(np.array([-1, 2]))), "non-negative"),
        (lambda: tg.block_diag(Tensor(np.zeros((1, 1, 1)))), "2 or fewer dimensions"),
    ]:
        with pytest.raises((ValueError, IndexError), match=match):
            call()
    with pytest.raises(TypeError, match="Integer division with addcdiv"):
        tg.addcdiv(x, Tensor(np.array([1])), Tensor(np.array([2])))


def test_in_place_and_number_inputs():
    x = Tensor(A.copy())
    x.addcdiv_(Tensor(B), Tensor(np.full((3, 4), 2.0)), value=3)
    np.testing.assert_allclose(x.data, A + 1.5 * B)
    np.testing.assert_array_equal(tg.add(2, Tensor(A)).data, torch.add(2, torch.tensor(A)).numpy())
    assert tg.positive(x) is x
    assert tg.sgn(Tensor(np.array([-2.0, 0.0]))).data.tolist() == [-1.0, 0.0]
    np.testing.assert_allclose(tg.xlogy(2.0, Tensor(Y0 + 1)).data,
                               torch.xlogy(2.0, torch.tensor(Y0 + 1)).numpy())


def test_gradcheck_of_the_composites():
    x = Tensor(P, requires_grad=True)
    y = Tensor(Y0 + 0.5, requires_grad=True)
    assert tg.gradcheck(lambda a, b: tg.xlogy(a, b), (x, y))
    assert tg.gradgradcheck(lambda a: tg.logit(a), (x,))
    assert tg.gradgradcheck(lambda a: tg.sinc(a), (Tensor(A, requires_grad=True),))
    assert tg.gradcheck(lambda a: a.unfold(1, 3, 1), (Tensor(A, requires_grad=True),))


def test_xlogy_and_logit_at_the_edges_as_torch():
    # input 0 with a negative or infinite other: torch's 0 (value) and 0 (input gradient); the
    # NaN and infinite cases elsewhere as torch's, except the two documented gradients
    ys = np.array([-2.0, -1.0, 0.0, 0.5, 2.0, np.inf, np.nan])
    for xv in (0.0, 1.0, -1.0):
        tx = torch.full((7,), xv, dtype=torch.float64, requires_grad=True)
        ty = torch.tensor(ys, requires_grad=True)
        torch.xlogy(tx, ty).backward(torch.ones(7, dtype=torch.float64))
        x, y = Tensor(np.full(7, xv), requires_grad=True), Tensor(ys, requires_grad=True)
        out = tg.xlogy(x, y)
        out.backward(Tensor(np.ones(7)))
        np.testing.assert_array_equal(out.data, torch.xlogy(tx, ty).detach().numpy())
        expected = tx.grad.numpy().copy()
        if xv == 0.0:
            expected[5] = 0.0  # input 0, other +inf: torch inf (documented)
        np.testing.assert_array_equal(x.grad.data, expected)
    tp = torch.tensor([-0.5, 0.3, 1.5], dtype=torch.float64, requires_grad=True)
    torch.logit(tp).backward(torch.ones(3, dtype=torch.float64))
    p = Tensor(np.array([-0.5, 0.3, 1.5]), requires_grad=True)
    with np.errstate(invalid="ignore"):
        tg.logit(p).backward(Tensor(np.ones(3)))
    np.testing.assert_array_equal(p.grad.data, tp.grad.numpy())  # NaN outside [0, 1]
