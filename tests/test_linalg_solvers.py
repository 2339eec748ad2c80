"""tinygrad_norm.linalg's solvers (solve_triangular, matrix_exp, lu_factor, lu_factor_ex, lu,
lu_solve, lstsq) and tg.triangular_solve / tg.lu_unpack / tg.matrix_exp against torch 2.13:
values and gradients under a random upstream gradient (float64 tight, float32 loosely) on
batched and broadcast shapes, finite-difference gradcheck and gradgradcheck in float64,
Hessian-vector products against torch's double backward, the edges (zero diagonals, singular
LU, empty inputs, which lstsq fields each driver fills) and torch's error messages."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.linalg as LA
from tinygrad_norm import Tensor
from test_linalg import RTOL, _compare, _torch_message, general


def triangular(shape, seed=0):
    """Well-conditioned triangles (both): ``general``'s dominant diagonal of either sign."""
    return general(shape, seed)


def pivoting(shape, seed=0):
    """Plain normal draws: their LU swaps rows (``general``'s dominant diagonal would not, and
    a permutation left out of a gradient would go unseen)."""
    return np.random.default_rng(seed).standard_normal(shape)


def _piv(L, p):
    """Pivots as the library's tensor (no gradient)."""
    return Tensor(p) if L is LA else __import__("torch").from_numpy(p)


def _tg_or_torch(L):
    return tg if L is LA else __import__("torch")


# name: (function of the module L (LA or torch.linalg) and the inputs, input arrays)
CASES = {}
for _up in (True, False):
    for _left in (True, False):
        for _unit in (True, False):
            CASES[f"solve_triangular_{'U' if _up else 'L'}{'l' if _left else 'r'}"
                  f"{'_unit' if _unit else ''}"] = (
                lambda L, a, b, u=_up, l=_left, t=_unit: (
                    L.solve_triangular(a, b if l else b.mT, upper=u, left=l, unitriangular=t),),
                [triangular((2, 1, 4, 4)), general((3, 4, 2), 1)])
CASES["solve_triangular_2d"] = (lambda L, a, b: (L.solve_triangular(a, b, upper=False),),
                                [triangular((5, 5)), general((5, 3), 1)])
CASES["triangular_solve"] = (
    lambda L, b, a: tuple(_tg_or_torch(L).triangular_solve(b, a)),
    [general((2, 4, 3), 1), triangular((4, 4))])
CASES["triangular_solve_transpose_unit"] = (
    lambda L, b, a: tuple(_tg_or_torch(L).triangular_solve(b, a, upper=False, transpose=True,
                                                            unitriangular=True)),
    [general((4, 3), 1), triangular((2, 4, 4))])
CASES["matrix_exp"] = (lambda L, a: (L.matrix_exp(a),),
                       [np.random.default_rng(0).standard_normal((2, 3, 4, 4))])
CASES["matrix_exp_squared"] = (  # norms past the Pade range: scaled and squared
    lambda L, a: (L.matrix_exp(a),),
    [np.random.default_rng(1).standard_normal((3, 5, 5)) * np.array([0.01, 2.0, 6.0])[:, None,
                                                                                     None]])
CASES["matrix_exp_top_level"] = (lambda L, a: (_tg_or_torch(L).matrix_exp(a),),
                                 [np.random.default_rng(2).standard_normal((3, 3))])
for _shape in [(2, 3, 4, 4), (3, 5), (5, 3), (2, 3, 6)]:
    CASES[f"lu_factor_{'x'.join(map(str, _shape))}"] = (lambda L, a: tuple(L.lu_factor(a)),
                                                        [pivoting(_shape)])
    CASES[f"lu_{'x'.join(map(str, _shape))}"] = (lambda L, a: tuple(L.lu(a)),
                                                 [pivoting(_shape, 1)])
CASES["lu_factor_ex"] = (lambda L, a: tuple(L.lu_factor_ex(a)), [pivoting((2, 4, 4))])
CASES["lu_unpack"] = (lambda L, a: tuple(_tg_or_torch(L).lu_unpack(*L.lu_factor(a))),
                      [pivoting((2, 5, 3))])
CASES["lu_factor_then_solve"] = (lambda L, a, b: (L.lu_solve(*L.lu_factor(a), b),),
                                 [pivoting((2, 4, 4)), general((2, 4, 3), 1)])
for _left in (True, False):
    for _adj in (True, False):
        CASES[f"lu_solve_{'l' if _left else 'r'}{'_adjoint' if _adj else ''}"] = (
            lambda L, lu, b, l=_left, d=_adj: (
                L.lu_solve(lu, _piv(L, _LU_PIV), b if l else b.mT, left=l, adjoint=d),),
            ["LU", general((3, 1, 4, 2), 1)])
for _driver in (None, "gelsy", "gelsd", "gelss", "gels"):
    CASES[f"lstsq_tall_{_driver}"] = (lambda L, a, b, d=_driver: tuple(L.lstsq(a, b, driver=d)),
                                      [general((2, 6, 3)), general((2, 6, 2), 1)])
    CASES[f"lstsq_wide_{_driver}"] = (lambda L, a, b, d=_driver: tuple(L.lstsq(a, b, driver=d)),
                                      [general((3, 5)), general((3, 2), 1)])
CASES["lstsq_vectors"] = (lambda L, a, b, c: (L.lstsq(a, b).solution, L.lstsq(a[0], c)[0]),
                          [general((2, 5, 3)), general((2, 5), 1), general((5, 1), 2)[:, 0]])
CASES["lstsq_broadcast"] = (lambda L, a, b: (L.lstsq(a, b).solution,),
                            [general((2, 1, 5, 3)), general((1, 3, 5, 2), 1)])
CASES["lstsq_rcond"] = (lambda L, a, b: tuple(L.lstsq(a, b, rcond=0.3, driver="gelsd")),
                        [general((5, 3)) @ np.diag([1.0, 0.1, 1.0]), general((5, 2), 1)])

# lu_solve's inputs: one factorization (any packed LU is a valid input; pivots as torch's)
_LU, _LU_PIV = (x.numpy() for x in LA.lu_factor(Tensor(pivoting((2, 4, 4), 7))))
assert (_LU_PIV != np.arange(1, 5)).any()


def _run(torch, name, dtype):
    fn, arrays = CASES[name]
    arrays = [np.asarray(_LU if isinstance(a, str) else a, dtype) for a in arrays]
    xs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    ts = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.triangular_solve's deprecation
        return xs, ts, fn(LA, *xs), fn(torch.linalg, *ts)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_as_torch(torch, name, dtype):
    xs, ts, outs, refs = _run(torch, name, dtype)
    assert len(outs) == len(refs) and type(outs).__name__ == type(refs).__name__
    rng = np.random.default_rng(5)
    loss, ref_loss = None, None
    for k, (o, r) in enumerate(zip(outs, refs)):
        _compare(o.data, r.detach().numpy(), RTOL[dtype], f"{name} output {k}")
        if name.startswith(("lstsq_tall", "lstsq_wide", "lstsq_rcond")) and k > 0:
            continue  # torch's residuals require grad but reach no input; ours carry none
        assert o.requires_grad == r.requires_grad, f"{name} output {k}: requires_grad"
        if r.requires_grad:
            g = rng.standard_normal(o.shape).astype(dtype)
            term, ref_term = (o * Tensor(g)).sum(), (r * torch.from_numpy(g)).sum()
            loss = term if loss is None else loss + term
            ref_loss = ref_term if ref_loss is None else ref_loss + ref_term
    loss.backward()
    grads = torch.autograd.grad(ref_loss, ts)
    for k, (x, gr) in enumerate(zip(xs, grads)):
        assert x.grad.dtype == dtype
        _compare(x.grad.data, gr.numpy(), RTOL[dtype] * 10, f"{name} gradient of input {k}")


# ---- finite differences, first and second derivatives, float64 ---------------------------------

def _t(a):
    return Tensor(np.asarray(a, np.float64), requires_grad=True)


GRADCHECK = {
    "solve_triangular_upper_left": (lambda a, b: LA.solve_triangular(a, b, upper=True),
                                    [triangular((2, 3, 3)), general((3, 2), 1)]),
    "solve_triangular_lower_right_unit": (
        lambda a, b: LA.solve_triangular(a, b, upper=False, left=False, unitriangular=True),
        [triangular((3, 3)), general((2, 2, 3), 1)]),
    "matrix_exp": (LA.matrix_exp, [np.random.default_rng(0).standard_normal((2, 3, 3))]),
    "matrix_exp_squared": (LA.matrix_exp, [np.random.default_rng(1).standard_normal((3, 3)) * 4]),
    "lu_factor_square": (lambda a: LA.lu_factor(a).LU, [pivoting((2, 3, 3))]),
    "lu_wide": (lambda a: tuple(LA.lu(a))[1:], [pivoting((2, 4), 1)]),
    "lu_tall": (lambda a: tuple(LA.lu(a))[1:], [pivoting((4, 2), 2)]),
    "lu_solve": (lambda a, b: (LA.lu_solve(*LA.lu_factor(a), b),
                               LA.lu_solve(*LA.lu_factor(a), b, adjoint=True),
                               LA.lu_solve(*LA.lu_factor(a), b.mT, left=False)),
                 [pivoting((3, 3), 3), general((2, 3, 3), 1)]),
    "lstsq": (lambda a, b: LA.lstsq(a, b).solution, [general((4, 2)), general((4, 2), 1)]),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradcheck(name):
    fn, inputs = GRADCHECK[name]
    assert tg.gradcheck(fn, [_t(a) for a in inputs])


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradgradcheck(name):
    fn, inputs = GRADCHECK[name]
    assert tg.gradgradcheck(fn, [_t(a) for a in inputs])


def test_the_new_primitives_are_checked():
    from test_primitives import _op_names
    names = set()
    for fn, inputs in GRADCHECK.values():
        xs = [_t(a) for a in inputs]
        out = fn(*xs)
        outs = out if isinstance(out, tuple) else (out,)
        grads = tg.grad([o.sum() for o in outs], xs, create_graph=True, allow_unused=True)
        names |= _op_names([*outs, *[g for g in grads if g is not None]])
    assert {"solve_triangular", "matrix_exp", "lu_factor"} <= names


def test_second_derivatives_as_torch(torch):
    a, b = triangular((2, 3, 3)), general((2, 3, 2), 1)
    for ours, theirs, x0 in [
        (lambda x: LA.solve_triangular(x, Tensor(b), upper=True).pow(3).sum(),
         lambda t: torch.linalg.solve_triangular(t, torch.tensor(b), upper=True).pow(3).sum(), a),
        (lambda x: LA.solve_triangular(x, x[..., :2] * 2, upper=False, left=True).pow(3).sum(),
         lambda t: torch.linalg.solve_triangular(t, t[..., :2] * 2, upper=False).pow(3).sum(), a),
        (lambda x: LA.matrix_exp(x).pow(2).sum(), lambda t: torch.linalg.matrix_exp(t).pow(2).sum(),
         np.random.default_rng(0).standard_normal((2, 3, 3))),
        (lambda x: LA.lu_factor(x).LU.pow(3).sum(),
         lambda t: torch.linalg.lu_factor(t).LU.pow(3).sum(), a),
        (lambda x: LA.lu_solve(*LA.lu_factor(x), x[..., :1]).pow(3).sum(),
         lambda t: torch.linalg.lu_solve(*torch.linalg.lu_factor(t), t[..., :1]).pow(3).sum(), a),
        (lambda x: LA.lstsq(x, Tensor(b)).solution.pow(3).sum(),
         lambda t: torch.linalg.lstsq(t, torch.tensor(b)).solution.pow(3).sum(), a),
    ]:
        v = np.random.default_rng(3).standard_normal(x0.shape)
        x = Tensor(x0, requires_grad=True)
        (gx,) = tg.grad(ours(x), [x], create_graph=True)
        (hv,) = tg.grad((gx * Tensor(v)).sum(), [x])
        t = torch.tensor(x0, requires_grad=True)
        (gt,) = torch.autograd.grad(theirs(t), t, create_graph=True)
        (ht,) = torch.autograd.grad((gt * torch.tensor(v)).sum(), t)
        np.testing.assert_allclose(hv.numpy(), ht.numpy(), rtol=1e-8, atol=1e-9)


# ---- the edges ---------------------------------------------------------------------------------

def test_a_zero_on_the_diagonal_gives_inf_and_nan_as_torch(torch):
    cases = [(np.array([[0.0, 0], [1, 1]]), np.ones((2, 1))),
             (np.array([[1.0, 0], [1, 0]]), np.ones((2, 1))),
             (np.array([[1.0, 0], [1, 0]]), np.zeros((2, 1))),
             (np.array([[0.0, 0, 0], [1, 1, 0], [1, 1, 1]]), np.ones((3, 2)))]
    for a, b in cases:
        for upper, at in ((False, a), (True, a[::-1, ::-1].copy())):
            bb = b if not upper else b[::-1].copy()
            ours = LA.solve_triangular(Tensor(at), Tensor(bb), upper=upper).numpy()
            ref = torch.linalg.solve_triangular(torch.tensor(at), torch.tensor(bb),
                                                upper=upper).numpy()
            np.testing.assert_array_equal(ours, ref)
    # a zero that LAPACK's general solver would round past (a finite 1e18 there): still inf
    # and NaN, as torch's, not garbage
    t = np.array([[0.12573022, 0, 0, 0], [-0.53566937, 0, 0, 0],
                  [-0.70373524, -1.26542147, -0.62327446, 0],
                  [-2.32503077, -0.21879166, -1.24591095, -0.73226735]])
    ours = LA.solve_triangular(Tensor(t), Tensor(np.ones((4, 1))), upper=False).numpy()
    ref = torch.linalg.solve_triangular(torch.tensor(t), torch.ones(4, 1, dtype=torch.float64),
                                        upper=False).numpy()
    assert not np.isfinite(ref[1:]).any()
    np.testing.assert_array_equal(ours, ref)
    # a batch with one such matrix: the others are still solved exactly
    a = np.stack([triangular((3, 3)), np.tril(np.ones((3, 3))) - np.eye(3)])
    ours = LA.solve_triangular(Tensor(a), Tensor(np.ones((3, 1))), upper=False).numpy()
    ref = torch.linalg.solve_triangular(torch.tensor(a), torch.ones(3, 1, dtype=torch.float64),
                                        upper=False).numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_solve_triangular_reads_one_triangle_and_casts_b_to_as_dtype(torch):
    a = triangular((4, 4))
    junk = a + np.triu(np.full((4, 4), 100.0), 1)
    b = general((4, 2), 1)
    np.testing.assert_array_equal(LA.solve_triangular(Tensor(junk), Tensor(b), upper=False).numpy(),
                                  LA.solve_triangular(Tensor(np.tril(a)), Tensor(b),
                                                      upper=False).numpy())
    for adt, bdt in [(np.float64, np.float32), (np.float32, np.float64), (np.float64, np.int64)]:
        out = LA.solve_triangular(Tensor(a.astype(adt)), Tensor(b.astype(bdt)), upper=True)
        ref = torch.linalg.solve_triangular(torch.tensor(a.astype(adt)),
                                            torch.tensor(b.astype(bdt)), upper=True)
        assert out.dtype == ref.numpy().dtype
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5)
    x = Tensor(b.astype(np.float32), requires_grad=True)
    LA.solve_triangular(Tensor(a), x, upper=True).sum().backward()
    assert x.grad.dtype == np.float32


def test_lu_of_singular_matrices_and_lu_factor_ex_info(torch):
    mats = [np.array([[1.0, 2], [2, 4]]), np.zeros((3, 3)), np.array([[1.0, 2, 3], [2, 4, 5]]),
            np.array([[1.0, 2], [2, 4], [3, 5]]), np.eye(2, 3)]
    for a in mats:
        ours, ref = LA.lu_factor_ex(Tensor(a)), torch.linalg.lu_factor_ex(torch.tensor(a))
        for o, r in zip(ours, ref):
            assert o.dtype == r.numpy().dtype
            np.testing.assert_allclose(o.numpy(), r.numpy(), atol=1e-15)
        for o, r in zip(LA.lu(Tensor(a)), torch.linalg.lu(torch.tensor(a))):
            np.testing.assert_allclose(o.numpy(), r.numpy(), atol=1e-15)
    batch = np.stack([np.eye(2), np.zeros((2, 2))])
    info = LA.lu_factor_ex(Tensor(batch)).info
    assert info.dtype == np.int32 and info.numpy().tolist() == [0, 1]


def test_lu_solve_with_broadcast_batches_and_lu_unpack_options(torch):
    a = general((2, 1, 3, 3))
    lu, piv = LA.lu_factor(Tensor(a))
    b = general((4, 3, 2), 1)
    ref = torch.linalg.lu_solve(*torch.linalg.lu_factor(torch.tensor(a)), torch.tensor(b))
    np.testing.assert_allclose(LA.lu_solve(lu, piv, Tensor(b)).numpy(), ref.numpy(), rtol=1e-10)
    p, l, u = tg.lu_unpack(lu, piv, unpack_data=False)
    tp, tl, tu = torch.lu_unpack(*torch.linalg.lu_factor(torch.tensor(a)), unpack_data=False)
    assert l.shape == tuple(tl.shape) == (0,) and u.shape == (0,)
    np.testing.assert_array_equal(p.numpy(), tp.numpy())
    p, l, u = tg.lu_unpack(lu, piv, unpack_pivots=False)
    assert p.shape == (0,) and l.shape == (2, 1, 3, 3)
    np.testing.assert_allclose((l @ u).numpy(), LA.lu(Tensor(a)).P.mT.numpy() @ a, atol=1e-12)


def test_lstsq_rank_deficient_is_the_minimum_norm_solution(torch):
    a = general((5, 3))
    a[:, 2] = a[:, 0] + a[:, 1]
    b = general((5, 2), 1)
    for driver in (None, "gelsd", "gelss"):
        ours = LA.lstsq(Tensor(a), Tensor(b), driver=driver)
        ref = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
        np.testing.assert_allclose(ours.solution.numpy(), ref.solution.numpy(), rtol=1e-9,
                                   atol=1e-12)
        assert ours.rank.item() == ref.rank.item() == 2
        assert ours.residuals.shape == tuple(ref.residuals.shape) == (0,)  # not full rank
    ours = LA.lstsq(Tensor(np.ones((5, 2))), Tensor(b), rcond=-1.0, driver="gelsd")
    assert ours.rank.item() == torch.linalg.lstsq(torch.ones(5, 2, dtype=torch.float64),
                                                  torch.tensor(b), rcond=-1.0,
                                                  driver="gelsd").rank.item()


def test_lstsq_vector_right_hand_side_keeps_torchs_residual_shape(torch):
    a, b = general((5, 3)), general((5, 1), 1)[:, 0]
    for driver in ("gelsd", "gels", "gelsy"):
        ours = LA.lstsq(Tensor(a), Tensor(b), driver=driver)
        ref = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
        for o, r in zip(ours, ref):
            assert o.shape == tuple(r.shape)
            np.testing.assert_allclose(o.numpy(), r.numpy(), rtol=1e-9, atol=1e-12)


EMPTY = [
    ("solve_triangular_batch", lambda L, a: L.solve_triangular(a, a[..., :2], upper=True),
     (0, 3, 3)),
    ("solve_triangular_no_columns", lambda L, a: L.solve_triangular(a, a[..., :0], upper=False),
     (3, 3)),
    ("solve_triangular_0x0", lambda L, a: L.solve_triangular(a, a, upper=False), (2, 0, 0)),
    ("matrix_exp", lambda L, a: L.matrix_exp(a), (0, 3, 3)),
    ("matrix_exp_0x0", lambda L, a: L.matrix_exp(a), (0, 0)),
    ("lu_factor", lambda L, a: L.lu_factor(a).LU, (0, 3, 3)),
    ("lu_factor_0x3", lambda L, a: L.lu_factor(a).LU, (2, 0, 3)),
    ("lu", lambda L, a: L.lu(a).U, (0, 3, 3)),
    ("lstsq", lambda L, a: L.lstsq(a, a[..., :1]).solution, (0, 4, 3)),
]


@pytest.mark.parametrize("name,call,shape", EMPTY, ids=[e[0] for e in EMPTY])
def test_empty_inputs_as_torch(torch, name, call, shape):
    x = Tensor(np.ones(shape), requires_grad=True)
    t = torch.ones(shape, dtype=torch.float64, requires_grad=True)
    out, ref = call(LA, x), call(torch.linalg, t)
    _compare(out.data, ref.detach().numpy(), 1e-12, name)
    out.backward(np.ones(out.shape))
    assert x.grad.shape == shape


def test_matrix_exp_of_known_matrices_and_non_finite_input(torch):
    rot = np.array([[0.0, -1], [1, 0]]) * 0.7
    np.testing.assert_allclose(LA.matrix_exp(Tensor(rot)).numpy(),
                               [[np.cos(0.7), -np.sin(0.7)], [np.sin(0.7), np.cos(0.7)]],
                               rtol=1e-15, atol=1e-15)
    big = np.diag([30.0, -30.0])  # 1-norm 30: five squarings
    np.testing.assert_allclose(LA.matrix_exp(Tensor(big)).numpy(), np.diag(np.exp([30, -30])),
                               rtol=1e-13)
    nan = np.array([[np.nan, 0], [0, 1.0]])
    assert np.isnan(LA.matrix_exp(Tensor(nan)).numpy()).all()
    assert np.isnan(torch.linalg.matrix_exp(torch.tensor(nan)).numpy()).all()
    # float16: computed in float64 and rounded once (torch 2.13's CPU float16 kernel gives inf
    # for this matrix: compared with its float32 result instead)
    half = np.random.default_rng(0).standard_normal((3, 3)).astype(np.float16)
    out = LA.matrix_exp(Tensor(half))
    assert out.dtype == np.float16
    ref = torch.linalg.matrix_exp(torch.tensor(half.astype(np.float32))).numpy()
    np.testing.assert_allclose(out.numpy(), ref.astype(np.float16), rtol=1e-3, atol=1e-3)


# ---- errors: torch's words ---------------------------------------------------------------------

I64, F16 = np.int64, np.float16
EYE3, ONES32 = np.eye(3), np.ones((3, 2))
ERRORS = [
    ("st_1d_A", lambda L, a, b: L.solve_triangular(a, b, upper=True), [np.ones(3), ONES32],
     ValueError),
    ("st_1d_B", lambda L, a, b: L.solve_triangular(a, b, upper=True), [EYE3, np.ones(3)],
     ValueError),
    ("st_nonsquare", lambda L, a, b: L.solve_triangular(a, b, upper=True),
     [np.ones((2, 3)), ONES32], ValueError),
    ("st_shapes", lambda L, a, b: L.solve_triangular(a, b, upper=True), [EYE3, np.ones((4, 2))],
     ValueError),
    ("st_shapes_right", lambda L, a, b: L.solve_triangular(a, b, upper=True, left=False),
     [EYE3, ONES32], ValueError),
    ("st_batch", lambda L, a, b: L.solve_triangular(a, b, upper=True),
     [np.ones((2, 3, 3)), np.ones((4, 3, 2))], ValueError),
    ("st_batch_3", lambda L, a, b: L.solve_triangular(a, b, upper=True),
     [np.ones((2, 3, 3)), np.ones((3, 3, 2))], ValueError),
    ("st_int", lambda L, a, b: L.solve_triangular(a, b, upper=True),
     [np.eye(3, dtype=I64), np.ones((3, 2), I64)], TypeError),
    ("st_half", lambda L, a, b: L.solve_triangular(a, b, upper=True),
     [np.eye(3, dtype=F16), np.ones((3, 2), F16)], TypeError),
    ("st_bool", lambda L, a, b: L.solve_triangular(a, b, upper=True),
     [np.eye(3, dtype=bool), np.ones((3, 2), bool)], TypeError),
    ("st_upper_flag", lambda L, a, b: L.solve_triangular(a, b, upper=1), [EYE3, ONES32],
     TypeError),
    ("st_left_flag", lambda L, a, b: L.solve_triangular(a, b, upper=True, left=1),
     [EYE3, ONES32], TypeError),
    ("me_nonsquare", lambda L, a: L.matrix_exp(a), [np.ones((2, 3))], ValueError),
    ("me_1d", lambda L, a: L.matrix_exp(a), [np.ones(3)], ValueError),
    ("me_int", lambda L, a: L.matrix_exp(a), [np.ones((3, 3), I64)], TypeError),
    ("lu_factor_singular", lambda L, a: L.lu_factor(a), [np.array([[1.0, 2], [2, 4]])],
     LA.LinAlgError),
    ("lu_factor_singular_batch", lambda L, a: L.lu_factor(a),
     [np.stack([np.eye(2), np.array([[1.0, 2], [2, 4]])])], LA.LinAlgError),
    ("lu_factor_zeros_wide", lambda L, a: L.lu_factor(a), [np.zeros((2, 3))], LA.LinAlgError),
    ("lu_factor_ex_check", lambda L, a: L.lu_factor_ex(a, check_errors=True), [np.zeros((3, 3))],
     LA.LinAlgError),
    ("lu_factor_no_pivot", lambda L, a: L.lu_factor(a, pivot=False), [EYE3], ValueError),
    ("lu_no_pivot", lambda L, a: L.lu(a, pivot=False), [EYE3], ValueError),
    ("lu_factor_ex_no_pivot", lambda L, a: L.lu_factor_ex(a, pivot=False), [EYE3], ValueError),
    ("lu_factor_1d", lambda L, a: L.lu_factor(a), [np.ones(3)], ValueError),
    ("lu_1d", lambda L, a: L.lu(a), [np.ones(3)], ValueError),
    ("lu_factor_int", lambda L, a: L.lu_factor(a), [np.ones((3, 3), I64)], TypeError),
    ("lu_factor_half", lambda L, a: L.lu_factor(a), [np.ones((3, 3), F16)], TypeError),
    ("lu_factor_bool", lambda L, a: L.lu_factor(a), [np.ones((3, 3), bool)], TypeError),
    ("lu_int", lambda L, a: L.lu(a), [np.ones((3, 3), I64)], TypeError),
    ("lu_factor_pivot_flag", lambda L, a: L.lu_factor(a, pivot=1), [EYE3], TypeError),
    ("lu_factor_ex_flag", lambda L, a: L.lu_factor_ex(a, check_errors=1), [EYE3], TypeError),
    ("lu_solve_1d_B", lambda L, a, p, b: L.lu_solve(a, p, b),
     [EYE3, np.arange(1, 4, dtype=np.int32), np.ones(3)], ValueError),
    ("lu_solve_1d_LU", lambda L, a, p, b: L.lu_solve(a, p, b),
     [np.ones(3), np.arange(1, 4, dtype=np.int32), ONES32], ValueError),
    ("lu_solve_nonsquare", lambda L, a, p, b: L.lu_solve(a, p, b),
     [np.ones((2, 3)), np.arange(1, 4, dtype=np.int32), ONES32], ValueError),
    ("lu_solve_int_LU", lambda L, a, p, b: L.lu_solve(a, p, b),
     [np.eye(3, dtype=I64), np.arange(1, 4, dtype=np.int32), np.ones((3, 1), I64)], TypeError),
    ("lu_solve_pivots_dtype", lambda L, a, p, b: L.lu_solve(a, p, b),
     [EYE3, np.arange(1, 4), ONES32], TypeError),
    ("lu_solve_dtypes", lambda L, a, p, b: L.lu_solve(a, p, b),
     [EYE3, np.arange(1, 4, dtype=np.int32), ONES32.astype(np.float32)], TypeError),
    ("lu_solve_shapes", lambda L, a, p, b: L.lu_solve(a, p, b),
     [EYE3, np.arange(1, 4, dtype=np.int32), np.ones((4, 2))], ValueError),
    ("lu_solve_shapes_right", lambda L, a, p, b: L.lu_solve(a, p, b, left=False),
     [EYE3, np.arange(1, 4, dtype=np.int32), ONES32], ValueError),
    ("lu_solve_pivot_count", lambda L, a, p, b: L.lu_solve(a, p, b),
     [EYE3, np.arange(1, 3, dtype=np.int32), ONES32], ValueError),
    ("lu_solve_pivot_batch", lambda L, a, p, b: L.lu_solve(a, p, b),
     [np.ones((2, 3, 3)), np.arange(1, 4, dtype=np.int32), ONES32], ValueError),
    ("lu_solve_pivot_values", lambda L, a, p, b: L.lu_solve(a, p, b),
     [EYE3, np.array([5, 1, 1], np.int32), ONES32], ValueError),
    ("lu_solve_batch", lambda L, a, p, b: L.lu_solve(a, p, b),
     [np.stack([EYE3, EYE3]), np.tile(np.arange(1, 4, dtype=np.int32), (2, 1)),
      np.ones((4, 3, 2))], ValueError),
    ("lu_solve_flag", lambda L, a, p, b: L.lu_solve(a, p, b, left=1),
     [EYE3, np.arange(1, 4, dtype=np.int32), ONES32], TypeError),
    ("lstsq_1d", lambda L, a, b: L.lstsq(a, b), [np.ones(3), ONES32], ValueError),
    ("lstsq_0d_B", lambda L, a, b: L.lstsq(a, b), [EYE3, np.ones(())], ValueError),
    ("lstsq_rows", lambda L, a, b: L.lstsq(a, b), [np.ones((5, 3)), np.ones((4, 2))], ValueError),
    ("lstsq_rows_vector", lambda L, a, b: L.lstsq(a, b), [np.ones((5, 3)), np.ones(3)],
     ValueError),
    ("lstsq_dims_B", lambda L, a, b: L.lstsq(a, b), [np.ones((5, 3)), np.ones((2, 5, 2))],
     ValueError),
    ("lstsq_dims_A", lambda L, a, b: L.lstsq(a, b), [np.ones((2, 5, 3)), np.ones(5)],
     ValueError),
    ("lstsq_not_a_vector", lambda L, a, b: L.lstsq(a, b), [np.ones((2, 5, 3)), np.ones((1, 5))],
     ValueError),
    ("lstsq_dtypes", lambda L, a, b: L.lstsq(a, b), [EYE3, ONES32.astype(np.float32)],
     TypeError),
    ("lstsq_int", lambda L, a, b: L.lstsq(a, b), [np.eye(3, dtype=I64), np.ones((3, 2), I64)],
     TypeError),
    ("lstsq_half", lambda L, a, b: L.lstsq(a, b), [np.eye(3, dtype=F16), np.ones((3, 2), F16)],
     TypeError),
    ("lstsq_driver", lambda L, a, b: L.lstsq(a, b, driver="foo"), [EYE3, ONES32], ValueError),
    ("lstsq_driver_type", lambda L, a, b: L.lstsq(a, b, driver=1), [EYE3, ONES32], TypeError),
    ("lstsq_rcond_type", lambda L, a, b: L.lstsq(a, b, rcond="a"), [EYE3, ONES32], TypeError),
    ("lstsq_batch", lambda L, a, b: L.lstsq(a, b),
     [np.ones((2, 5, 3)), np.ones((3, 5, 2))], ValueError),
    ("lu_unpack_1d", lambda L, a, p: _tg_or_torch(L).lu_unpack(a, p),
     [np.ones(3), np.ones(2, np.int32)], ValueError),
    ("lu_unpack_pivot_dtype", lambda L, a, p: _tg_or_torch(L).lu_unpack(a, p),
     [EYE3, np.ones(3, I64)], TypeError),
    ("lu_unpack_pivot_values", lambda L, a, p: _tg_or_torch(L).lu_unpack(a, p),
     [EYE3, np.array([4, 3, 3], np.int32)], ValueError),
    ("lu_unpack_pivot_zero", lambda L, a, p: _tg_or_torch(L).lu_unpack(a, p),
     [EYE3, np.array([0, 3, 3], np.int32)], ValueError),
    ("triangular_solve_1d_b", lambda L, b, a: _tg_or_torch(L).triangular_solve(b, a),
     [np.ones(3), EYE3], ValueError),
    ("triangular_solve_1d_A", lambda L, b, a: _tg_or_torch(L).triangular_solve(b, a),
     [np.ones((3, 1)), np.ones(3)], ValueError),
    ("triangular_solve_nonsquare", lambda L, b, a: _tg_or_torch(L).triangular_solve(b, a),
     [np.ones((3, 1)), np.ones((2, 3))], ValueError),
    ("triangular_solve_dtypes", lambda L, b, a: _tg_or_torch(L).triangular_solve(b, a),
     [np.ones((3, 1), np.float32), EYE3], TypeError),
    ("triangular_solve_shapes", lambda L, b, a: _tg_or_torch(L).triangular_solve(b, a),
     [np.ones((4, 2)), EYE3], ValueError),
    ("triangular_solve_int", lambda L, b, a: _tg_or_torch(L).triangular_solve(b, a),
     [np.ones((3, 1), I64), np.ones((3, 3), I64)], TypeError),
    ("triangular_solve_batch", lambda L, b, a: _tg_or_torch(L).triangular_solve(b, a),
     [np.ones((2, 3, 1)), np.ones((3, 3, 3))], ValueError),
    ("triangular_solve_flag", lambda L, b, a: _tg_or_torch(L).triangular_solve(b, a, upper=1),
     [np.ones((3, 1)), EYE3], TypeError),
]


@pytest.mark.parametrize("name,call,arrays,error", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_are_torchs(torch, name, call, arrays, error):
    message = _torch_message(torch, lambda: call(torch.linalg, *[torch.tensor(a)
                                                                 for a in arrays]))
    with pytest.raises(error) as info:
        call(LA, *[Tensor(a) for a in arrays])
    assert str(info.value) == message


def test_errors_come_before_anything_is_recorded():
    a = Tensor(np.array([[1.0, 2], [2, 4]]), requires_grad=True)
    with pytest.raises(LA.LinAlgError):
        LA.lu_factor(a)
    assert a.grad is None
    with pytest.raises(TypeError, match=re.escape("linalg_solve_triangular(): argument 'B' "
                                                  "must be Tensor, not list")):
        LA.solve_triangular(a, [[1.0]], upper=True)
    with pytest.raises(TypeError, match="upper"):
        LA.solve_triangular(a, a)  # upper is required, as torch's


# ---- names, result types, methods ---------------------------------------------------------------

def test_names_result_types_and_methods(torch):
    a = general((3, 3))
    x, t = Tensor(a), torch.tensor(a)
    for n in ("matrix_exp", "triangular_solve", "lu_unpack"):
        assert n in tg.__all__ and hasattr(torch, n)
    assert {"solve_triangular", "matrix_exp", "lu_factor", "lu_factor_ex", "lu", "lu_solve",
            "lstsq"} <= set(LA.__all__)
    _compare(x.matrix_exp().numpy(), t.matrix_exp().numpy(), 1e-12, "Tensor.matrix_exp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = t.triangular_solve(t, upper=False)
    ours = x.triangular_solve(x, upper=False)
    assert type(ours).__name__ == "triangular_solve"
    assert ours._fields == ("solution", "cloned_coefficient")
    _compare(ours.solution.numpy(), ref.solution.numpy(), 1e-12, "Tensor.triangular_solve")
    for ours, ref in [(LA.lu_factor(x), torch.linalg.lu_factor(t)),
                      (LA.lu_factor_ex(x), torch.linalg.lu_factor_ex(t)),
                      (LA.lu(x), torch.linalg.lu(t)), (tg.lu_unpack(*LA.lu_factor(x)),
                                                       torch.lu_unpack(*torch.linalg.lu_factor(t))),
                      (LA.lstsq(x, x), torch.linalg.lstsq(t, t))]:
        assert type(ours).__name__ == type(ref).__name__
    assert LA.lstsq(x, x)._fields == ("solution", "residuals", "rank", "singular_values")


# ---- batch shapes, drawn -------------------------------------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, strategies as st  # noqa: E402

_BATCH = st.lists(st.integers(0, 3), min_size=0, max_size=2).map(tuple)
_FNS = {
    "solve_triangular": lambda L, a: L.solve_triangular(a, a[..., :1] * 3, upper=False),
    "solve_triangular_right": lambda L, a: L.solve_triangular(a, a[..., :1, :] * 2, upper=True,
                                                              left=False),
    "matrix_exp": lambda L, a: L.matrix_exp(a),
    "lu_factor": lambda L, a: L.lu_factor(a).LU,
    "lu": lambda L, a: L.lu(a).L,
    "lu_solve": lambda L, a: L.lu_solve(*L.lu_factor(a), a[..., :1] * 2),
    "lstsq": lambda L, a: L.lstsq(a, a[..., :1] * 2).solution,
}


@given(batch=_BATCH, n=st.integers(1, 4), name=st.sampled_from(sorted(_FNS)),
       seed=st.integers(0, 100))
def test_any_batch_shape_as_torch(torch, batch, n, name, seed):
    """Values and gradients over drawn batch shapes (empty and size-1 dims included) and sizes
    down to 1 x 1."""
    a = (general if name.startswith("solve") else pivoting)(batch + (n, n), seed)
    x = Tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    out, ref = _FNS[name](LA, x), _FNS[name](torch.linalg, t)
    _compare(out.data, ref.detach().numpy(), 1e-8, name)
    g = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(g)
    (gt,) = torch.autograd.grad(ref, t, torch.from_numpy(g))
    _compare(x.grad.data, gt.numpy(), 1e-7, f"{name} gradient")
