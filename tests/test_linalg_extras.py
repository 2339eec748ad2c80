"""linalg's _ex variants, cond, tensorinv, tensorsolve, vander and householder_product against
torch 2.13: values, gradients under a random upstream gradient (float64), gradcheck, errors."""
import math

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import linalg as L

torch = pytest.importorskip("torch")
TL = torch.linalg
RNG = np.random.default_rng(3)


def _pair(*arrays):
    return ([tg.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays],
            [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays])


def _grads_match(ours, theirs, out, tout, rtol=1e-10):
    g = RNG.normal(size=tuple(tout.shape))
    out.backward(tg.tensor(g))
    tout.backward(torch.tensor(g))
    for a, b in zip(ours, theirs):
        if b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=1e-12)


def _spd(*batch, n=3):
    m = RNG.normal(size=batch + (n, n))
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_ex_values_info_and_gradient(upper):
    A = _spd(2)
    A[1, 2, 2] = -5.0  # the second matrix fails at its leading minor of order 3
    A[1, 2, :2] = A[1, :2, 2] = 0.1
    (a,), (ta,) = _pair(A)
    L_, info = L.cholesky_ex(a, upper=upper)
    tL, tinfo = TL.cholesky_ex(ta, upper=upper)
    assert type(L.cholesky_ex(a)).__name__ == "linalg_cholesky_ex"
    assert info.dtype == np.int32 and np.array_equal(info.numpy(), tinfo.numpy())
    np.testing.assert_allclose(L_.numpy()[0], tL.detach().numpy()[0], rtol=1e-13)
    assert np.isnan(L_.numpy()[1]).all()
    g = RNG.normal(size=(3, 3))
    L_[0].backward(tg.tensor(g))
    tL[0].backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-10, atol=1e-13)
    with pytest.raises(L.LinAlgError, match=r"linalg.cholesky_ex: \(Batch element 1\): The "
                                            r"factorization could not be completed .*order 3"):
        L.cholesky_ex(a, upper=upper, check_errors=True)


def test_inv_ex_and_solve_ex_as_torch():
    A = RNG.normal(size=(3, 3, 3))
    A[1] = [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]]  # exactly singular
    B = RNG.normal(size=(3, 3, 2))
    (a, b), (ta, tb) = _pair(A, B)
    inv, info = L.inv_ex(a)
    tinv, tinfo = TL.inv_ex(ta)
    assert np.array_equal(info.numpy(), tinfo.numpy()) and info.dtype == np.int32
    ok = [0, 2]
    np.testing.assert_allclose(inv.numpy()[ok], tinv.detach().numpy()[ok], rtol=1e-12)
    assert np.isnan(inv.numpy()[1]).all()
    g = RNG.normal(size=(2, 3, 3))
    inv[ok].backward(tg.tensor(g))
    tinv[ok].backward(torch.tensor(g))
    # the singular matrix gets no gradient here; torch's is NaN (0 times its inf inverse)
    np.testing.assert_allclose(a.grad.numpy()[ok], ta.grad.numpy()[ok], rtol=1e-10, atol=1e-12)
    assert not a.grad.numpy()[1].any() and np.isnan(ta.grad.numpy()[1]).all()
    (a, b), (ta, tb) = _pair(A, B)
    X, info = L.solve_ex(a, b)
    tX, tinfo = TL.solve_ex(ta, tb)
    assert np.array_equal(info.numpy(), tinfo.numpy())
    np.testing.assert_allclose(X.numpy()[ok], tX.detach().numpy()[ok], rtol=1e-12)
    g = RNG.normal(size=(2, 3, 2))
    X[ok].backward(tg.tensor(g))
    tX[ok].backward(torch.tensor(g))
    for ours, theirs in ((a, ta), (b, tb)):  # torch's are NaN for the singular one
        np.testing.assert_allclose(ours.grad.numpy()[ok], theirs.grad.numpy()[ok], rtol=1e-10,
                                   atol=1e-12)
    x_vec, _ = L.solve_ex(tg.tensor(A), tg.tensor(B[..., 0]))  # a batch of vectors
    assert x_vec.shape == (3, 3) and np.isnan(x_vec.numpy()[1]).all()
    with pytest.raises(L.LinAlgError, match=r"linalg.inv_ex: \(Batch element 1\): The diagonal "
                                            r"element 3 is zero"):
        L.inv_ex(a, check_errors=True)
    with pytest.raises(L.LinAlgError, match=r"torch.linalg.solve_ex: \(Batch element 1\): The "
                                            r"solver failed"):
        L.solve_ex(a, b, check_errors=True)
    with pytest.raises(ValueError, match="A must be batches of square matrices"):
        L.inv_ex(tg.tensor(np.ones((2, 3))))
    with pytest.raises(TypeError, match="argument 'check_errors' must be bool"):
        L.inv_ex(a, check_errors="yes")


ORDS = [None, 2, -2, "fro", "nuc", 1, -1, math.inf, -math.inf]


@pytest.mark.parametrize("p", ORDS)
def test_cond_values_and_gradients(p):
    A = RNG.normal(size=(2, 4, 4))
    (a,), (ta,) = _pair(A)
    out, tout = L.cond(a, p), TL.cond(ta, p)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
    # torch 2.13's backward fails for the inverse-based orders (an in-place fill of inv_ex's
    # result): the oracle is the definition, norm(A) * norm(inv(A)), in torch
    if p in (None, 2, -2, "nuc"):
        _grads_match([a], [ta], out, tout, rtol=1e-9)
    else:
        ta2 = torch.tensor(A, requires_grad=True)
        want = TL.matrix_norm(ta2, p) * TL.matrix_norm(TL.inv(ta2), p)
        _grads_match([a], [ta2], out, want, rtol=1e-9)
    assert tg.gradcheck(lambda x: L.cond(x, p), [tg.tensor(A[0], requires_grad=True)])


def test_cond_special_matrices_and_errors():
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])  # an exactly zero pivot: inf
    for M, ords in ((np.zeros((3, 3)), ORDS), (np.zeros((0, 0)), ORDS),
                    (singular, ["fro", 1, -1, math.inf, -math.inf])):
        # (singular's SVD-based orders divide by a rounding residue: LAPACK-driver noise)
        for p in ords:
            np.testing.assert_allclose(L.cond(tg.tensor(M), p).numpy(),
                                       TL.cond(torch.tensor(M), p).numpy(), rtol=1e-6)
    wide = RNG.normal(size=(2, 3))
    np.testing.assert_allclose(L.cond(tg.tensor(wide)).numpy(),
                               TL.cond(torch.tensor(wide)).numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"linalg.cond\(ord=fro\): A must be batches of square"):
        L.cond(tg.tensor(wide), "fro")
    for bad in (3, "abc", True):
        with pytest.raises(ValueError, match="linalg.cond got an invalid norm type"):
            L.cond(tg.tensor(np.eye(2)), bad)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        L.cond(tg.tensor(np.ones(3)))
    with pytest.raises(TypeError, match="Expected a floating point"):
        L.cond(tg.tensor(np.ones((2, 2), np.int64)))


def test_tensorinv_and_tensorsolve_as_torch():
    A = RNG.normal(size=(4, 6, 8, 3))
    (a,), (ta,) = _pair(A)
    out, tout = L.tensorinv(a, ind=2), TL.tensorinv(ta, ind=2)
    assert out.shape == tout.shape == (8, 3, 4, 6)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-9, atol=1e-12)
    _grads_match([a], [ta], out, tout, rtol=1e-8)
    A, B = RNG.normal(size=(2, 3, 6)), RNG.normal(size=(2, 3))
    (a, b), (ta, tb) = _pair(A, B)
    out, tout = L.tensorsolve(a, b), TL.tensorsolve(ta, tb)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-10)
    _grads_match([a, b], [ta, tb], out, tout, rtol=1e-9)
    A, B = RNG.normal(size=(6, 2, 3)), RNG.normal(size=(2, 3))
    (a, b), (ta, tb) = _pair(A, B)
    out, tout = L.tensorsolve(a, b, dims=(0,)), TL.tensorsolve(ta, tb, dims=(0,))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match="strictly positive integer for 'ind', but got 0"):
        L.tensorinv(a, ind=0)
    with pytest.raises(ValueError, match="but got 48 != 4"):
        L.tensorinv(tg.tensor(np.ones((4, 6, 8))), ind=1)
    with pytest.raises(ValueError, match="but got 4 != 6"):
        L.tensorsolve(tg.tensor(np.ones((6, 4))), tg.tensor(np.ones(6)))
    with pytest.raises(L.LinAlgError, match="inv: The diagonal element 1 is zero"):
        L.tensorinv(tg.tensor(np.zeros((2, 2, 2, 2))))


def test_vander_as_torch():
    x = RNG.normal(size=(2, 4))
    (a,), (ta,) = _pair(x)
    for N in (None, 2, 6):
        out, tout = L.vander(a, N=N), TL.vander(ta, N=N)
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-13)
    _grads_match([a], [ta], L.vander(a, N=5), TL.vander(ta, N=5))
    zero = np.array([0.0, 2.0, -1.5])  # a zero entry: cumprod's gradient there
    (a,), (ta,) = _pair(zero)
    _grads_match([a], [ta], L.vander(a), TL.vander(ta))
    ints = L.vander(tg.tensor([1, 2, 3]), N=5)
    assert ints.dtype == np.int64
    assert np.array_equal(ints.numpy(), TL.vander(torch.tensor([1, 2, 3]), N=5).numpy())
    for N in (1, 0, -1):
        with pytest.raises(ValueError, match="N must be greater than 1."):
            L.vander(tg.tensor([1.0, 2.0]), N=N)
    with pytest.raises(TypeError, match="argument 'N' must be int"):
        L.vander(tg.tensor([1.0, 2.0]), N=2.0)


@pytest.mark.parametrize("shape,k", [((4, 3), 2), ((5, 5), 5), ((2, 6, 3), 3), ((3, 2), 0)])
def test_householder_product_as_torch(shape, k):
    A = RNG.normal(size=shape)
    tau = RNG.uniform(0.2, 1.8, size=shape[:-2] + (k,))
    (a, t), (ta, tt) = _pair(A, tau)
    out, tout = L.householder_product(a, t), TL.householder_product(ta, tt)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-14)
    if k:
        _grads_match([a, t], [ta, tt], out, tout)


def test_householder_product_of_geqrf_is_qr():
    A = RNG.normal(size=(5, 3))
    qr, tau = torch.geqrf(torch.tensor(A))
    Q = L.householder_product(tg.tensor(qr.numpy()), tg.tensor(tau.numpy()))
    np.testing.assert_allclose(Q.numpy(), TL.qr(torch.tensor(A)).Q.numpy(), atol=1e-13)
    args = [tg.tensor(qr.numpy(), requires_grad=True), tg.tensor(tau.numpy(), requires_grad=True)]
    assert tg.gradcheck(L.householder_product, args)


@pytest.mark.parametrize("A,tau,match", [
    ((3, 4), (2,), r"input.shape\[-2\] must be greater than or equal to input.shape\[-1\]"),
    ((4, 3), (4,), r"input.shape\[-1\] must be greater than or equal to tau.shape\[-1\]"),
    ((4, 3), (1, 2), "Expected tau to have one dimension less than input"),
    ((2, 4, 3), (3, 2), r"Expected batch dimensions of tau to be equal to input.shape\[:-2\], "
                        r"but got \[3\]"),
    ((4,), (2,), "input must have at least 2 dimensions"),
])
def test_householder_product_errors(A, tau, match):
    with pytest.raises(ValueError, match=match):
        L.householder_product(tg.tensor(np.ones(A)), tg.tensor(np.ones(tau)))


def test_householder_product_dtype_error():
    with pytest.raises(TypeError, match="tau dtype Float does not match input dtype Double"):
        L.householder_product(tg.tensor(np.ones((4, 3))), tg.tensor(np.ones(2, np.float32)))
