"""tinygrad_norm.linalg against torch.linalg 2.13: values and gradients under a random upstream
gradient on random well-conditioned batched matrices (float64 to ~1e-9, float32 loosely),
finite-difference gradcheck and gradgradcheck of every primitive in float64, the gradient
conventions at the edges (singular determinants, repeated singular values and eigenvalues,
full_matrices, QR modes), torch's error messages, empty batches, the top-level forms
(tg.det, tg.svd, ...) and the Tensor methods.

Singular vectors and eigenvectors are defined up to sign (and LAPACK builds may choose
differently): the comparisons use losses that do not depend on those signs, as torch's own
tests do (each vector times the sign of its first entry, taken as a constant)."""
from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.linalg as LA
from tinygrad_norm import Tensor

RTOL = {np.float64: 1e-9, np.float32: 3e-4}


# ---- inputs -------------------------------------------------------------------------------------

def general(shape, seed=0):
    """Random matrices with a diagonal shift: well-conditioned, determinants of both signs."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    n = min(shape[-2:])
    a[..., range(n), range(n)] += np.where(rng.random(shape[:-2] + (n,)) < 0.5, -1, 1) * n
    return a


def spd(shape, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape)
    return x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])


def symmetric(shape, seed=0):
    """Symmetric matrices with well-separated eigenvalues (a random rotation of 1..n spread)."""
    rng = np.random.default_rng(seed)
    q = np.linalg.qr(rng.standard_normal(shape))[0]
    w = np.linspace(-2.0, 3.0, shape[-1]) + 0.1 * rng.standard_normal(shape[:-1])
    return (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)


def rect(shape, seed=0):
    """Random matrices with well-separated singular values."""
    rng = np.random.default_rng(seed)
    m, n = shape[-2:]
    k = min(m, n)
    u = np.linalg.qr(rng.standard_normal(shape[:-2] + (m, k)))[0]
    v = np.linalg.qr(rng.standard_normal(shape[:-2] + (n, k)))[0]
    s = np.linspace(3.0, 0.5, k) + 0.05 * rng.standard_normal(shape[:-2] + (k,))
    return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)


# ---- sign-invariant views of singular vectors and eigenvectors ----------------------------------

def _fixed_cols(m, lib):
    """Each column times the sign of its first entry (a constant): a sign-invariant view."""
    if lib == "tg":
        return m * Tensor(np.sign(m.data[..., :1, :]))
    return m * m[..., :1, :].sign().detach()


def _svd_fixed(u, s, vh, lib):
    """U and Vh with each singular pair's signs fixed by U's first row (flipped together)."""
    k = s.shape[-1]
    u, vh = u[..., :k], vh[..., :k, :]
    sign = (Tensor(np.sign(u.data[..., :1, :])) if lib == "tg"
            else u[..., :1, :].sign().detach())
    return u * sign, s, vh * sign.mT


# ---- the cases: (ours, torch's, inputs); each returns a tuple of outputs -------------------------

def _sv(lib, L):
    return lambda a, full: _svd_fixed(*L.svd(a, full_matrices=full), lib)


CASES = {
    "inv": (lambda L, a: (L.inv(a),), [general((2, 3, 4, 4))]),
    "det": (lambda L, a: (L.det(a),), [general((2, 3, 4, 4), 1)]),
    "slogdet": (lambda L, a: tuple(L.slogdet(a)), [general((2, 3, 4, 4), 2)]),
    "solve": (lambda L, a, b: (L.solve(a, b),), [general((3, 1, 4, 4)), general((2, 4, 2), 1)]),
    "solve_vector": (lambda L, a, b: (L.solve(a, b),),
                     [general((2, 4, 4)), general((2, 4, 1))[..., 0]]),
    "solve_1d_rhs": (lambda L, a, b: (L.solve(a, b),),
                     [general((2, 4, 4)), general((4, 1))[:, 0]]),
    "solve_right": (lambda L, a, b: (L.solve(a, b, left=False),),
                    [general((2, 4, 4)), general((2, 3, 4), 3)]),
    "cholesky": (lambda L, a: (L.cholesky(a),), [spd((2, 3, 4, 4))]),
    "cholesky_upper": (lambda L, a: (L.cholesky(a, upper=True),), [spd((3, 4, 4), 1)]),
    "cholesky_of_product": (lambda L, x: (L.cholesky(x @ x.mT),), [general((2, 4, 4))]),
    "qr_tall": (lambda L, a: tuple(L.qr(a)), [rect((2, 5, 3))]),
    "qr_square": (lambda L, a: tuple(L.qr(a)), [rect((2, 4, 4), 1)]),
    "qr_wide": (lambda L, a: tuple(L.qr(a)), [rect((2, 3, 5), 2)]),
    "qr_complete_wide": (lambda L, a: tuple(L.qr(a, mode="complete")), [rect((3, 5), 3)]),
    "eigh": (None, [symmetric((2, 4, 4))]),
    "eigh_upper": (None, [symmetric((4, 4), 1) + np.triu(np.ones((4, 4)), 1)]),
    "eigvalsh": (lambda L, a: (L.eigvalsh(a),), [symmetric((2, 3, 4, 4), 2)]),
    "svd_tall": (None, [rect((2, 5, 3))]),
    "svd_wide": (None, [rect((2, 3, 5), 1)]),
    "svd_full_tall": (None, [rect((5, 3), 2)]),
    "svd_full_wide": (None, [rect((2, 3, 5), 3)]),
    "svdvals": (lambda L, a: (L.svdvals(a),), [rect((2, 3, 5, 4), 4)]),
    "pinv_tall": (lambda L, a: (L.pinv(a),), [rect((2, 5, 3))]),
    "pinv_wide": (lambda L, a: (L.pinv(a),), [rect((3, 5), 1)]),
    "pinv_hermitian": (lambda L, a: (L.pinv(a, hermitian=True),), [symmetric((2, 4, 4))]),
    "matrix_power_3": (lambda L, a: (L.matrix_power(a, 3),), [general((2, 4, 4)) / 4]),
    "matrix_power_-2": (lambda L, a: (L.matrix_power(a, -2),), [general((2, 4, 4), 1)]),
    "matrix_power_0": (lambda L, a: (L.matrix_power(a, 0) * a,), [general((4, 4), 2)]),
    "multi_dot": (lambda L, a, b, c, d: (L.multi_dot([a, b, c, d]),),
                  [general((3, 1))[:, 0], general((3, 5), 1), general((5, 2), 2),
                   general((2, 1), 3)[:, 0]]),
    "multi_dot_matrices": (lambda L, a, b, c: (L.multi_dot([a, b, c]),),
                           [general((6, 2)), general((2, 5), 1), general((5, 3), 2)]),
    "cross": (lambda L, a, b: (L.cross(a, b),), [general((2, 3, 3)), general((1, 3, 3), 1)]),
    "diagonal": (lambda L, a: (L.diagonal(a, offset=1),), [general((2, 4, 5))]),
    "vecdot": (lambda L, a, b: (L.vecdot(a, b, dim=1),), [general((2, 4, 5)), general((4, 1), 1)]),
    "logdet": (None, [spd((2, 4, 4))]),
    "torch_svd": (None, [rect((5, 3))]),
}
for _o in ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf]:
    CASES[f"matrix_norm_{_o}"] = (lambda L, a, o=_o: (L.matrix_norm(a, o),), [rect((2, 4, 3))])
CASES["matrix_norm_dims_keepdim"] = (
    lambda L, a: (L.matrix_norm(a, 2, dim=(2, 0), keepdim=True),
                  L.matrix_norm(a, 1, dim=(0, 2), keepdim=True)),
    [rect((4, 3, 5)).transpose(1, 0, 2)])
for _o in [2, 1, 3, 0.5, math.inf, -math.inf, -1.5]:
    CASES[f"vector_norm_{_o}"] = (lambda L, a, o=_o: (L.vector_norm(a, o, dim=(0, 2)),),
                                  [general((3, 4, 5))])
CASES["norm_vector_default"] = (lambda L, a: (L.norm(a), L.norm(a, keepdim=True)),
                                [general((2, 3, 4))])
CASES["norm_matrix_ord"] = (lambda L, a: (L.norm(a, 2), L.norm(a, "nuc"), L.norm(a, -1)),
                            [rect((4, 3))])
CASES["norm_dims"] = (lambda L, a: (L.norm(a, 3, dim=1), L.norm(a, math.inf, dim=(0, 2))),
                      [general((3, 4, 3))])


def _special(name, L, lib):
    """The cases whose torch and tinygrad_norm spellings differ beyond the namespace."""
    if name.startswith("eigh"):
        uplo = "U" if name == "eigh_upper" else "L"
        return lambda a: (lambda w, v: (w, _fixed_cols(v, lib)))(*L.eigh(a, UPLO=uplo))
    if name.startswith("svd"):
        return lambda a: _sv(lib, L)(a, "full" in name)
    if name == "logdet":
        return lambda a: ((tg if lib == "tg" else L).logdet(a),)
    if name == "torch_svd":
        def f(a):
            u, s, v = (tg if lib == "tg" else L).svd(a)
            u, s, vh = _svd_fixed(u, s, v.mT, lib)
            return u, s, vh
        return f
    raise KeyError(name)


def _fns(torch, name):
    fn = CASES[name][0]
    if fn is None:
        # torch.logdet and torch.svd are top-level in torch: the "module" is torch itself there
        return _special(name, LA, "tg"), _special(name, torch if name in ("logdet", "torch_svd")
                                                  else torch.linalg, "torch")
    return (lambda *xs: fn(LA, *xs)), (lambda *ts: fn(torch.linalg, *ts))


def _compare(ours, theirs, rtol, what):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != {theirs.shape}"
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype} != {theirs.dtype}"
    scale = max(1.0, float(np.abs(theirs).max(initial=0)))
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * scale, err_msg=what)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_as_torch(torch, name, dtype):
    ours, theirs = _fns(torch, name)
    arrays = [np.asarray(a, dtype) for a in CASES[name][1]]
    xs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    ts = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    outs, refs = ours(*xs), theirs(*ts)
    assert len(outs) == len(refs)
    rng = np.random.default_rng(5)
    loss, ref_loss = None, None
    for k, (o, r) in enumerate(zip(outs, refs)):
        _compare(o.data, r.detach().numpy(), RTOL[dtype], f"{name} output {k}")
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


# ---- finite differences: every primitive, first and second derivatives, float64 ----------------

def _t(a):
    return Tensor(np.asarray(a, np.float64), requires_grad=True)


GRADCHECK = {
    # name: (function, inputs); outputs that are sign-ambiguous are fixed as above
    "inv": (lambda a: LA.inv(a), [general((2, 3, 3))]),
    "solve": (lambda a, b: LA.solve(a, b), [general((2, 1, 3, 3)), general((3, 3, 2), 1)]),
    "solve_right_vector": (lambda a, b, c: (LA.solve(a, b, left=False), LA.solve(a, c)),
                           [general((3, 3)), general((2, 3), 1), general((3, 1), 2)[:, 0]]),
    "det": (lambda a: LA.det(a), [general((2, 3, 3))]),
    "det_rank_deficient": (lambda a: LA.det(a), [np.array([[1.0, 2, 3], [4, 5, 6], [7, 8, 9]])]),
    "slogdet": (lambda a: LA.slogdet(a).logabsdet, [general((2, 3, 3), 1)]),
    "logdet": (lambda a: tg.logdet(a @ a.mT), [general((2, 3, 3), 1)]),
    "cholesky": (lambda x: LA.cholesky(x @ x.mT + Tensor(3 * np.eye(3))), [general((2, 3, 3))]),
    "cholesky_upper": (lambda x: LA.cholesky(x @ x.mT + Tensor(3 * np.eye(3)), upper=True),
                       [general((3, 3), 1)]),
    "qr_tall": (lambda a: tuple(LA.qr(a)), [rect((4, 3))]),
    "qr_wide": (lambda a: tuple(LA.qr(a)), [rect((2, 3, 4), 1)]),
    "qr_complete_wide": (lambda a: tuple(LA.qr(a, mode="complete")), [rect((2, 4), 2)]),
    "eigh": (lambda x: (lambda w, v: (w, _fixed_cols(v, "tg")))(*LA.eigh(x + x.mT)),
             [symmetric((2, 3, 3))]),
    "eigvalsh": (lambda x: LA.eigvalsh(x + x.mT, UPLO="U"), [symmetric((2, 3, 3), 1)]),
    "svd_tall": (lambda a: _svd_fixed(*LA.svd(a, full_matrices=False), "tg"), [rect((4, 3))]),
    "svd_wide_full": (lambda a: _svd_fixed(*LA.svd(a), "tg"), [rect((2, 3, 4), 1)]),
    "svd_square": (lambda a: _svd_fixed(*LA.svd(a), "tg"), [rect((3, 3), 2)]),
    "svdvals": (lambda a: LA.svdvals(a), [rect((2, 4, 3), 3)]),
    "pinv": (lambda a: LA.pinv(a), [rect((2, 4, 3))]),
    "pinv_hermitian": (lambda x: LA.pinv(x + x.mT, hermitian=True), [symmetric((3, 3))]),
    "matrix_power": (lambda a: (LA.matrix_power(a, 3), LA.matrix_power(a, -2)),
                     [general((3, 3)) / 3]),
    "matrix_norms": (lambda a: (LA.matrix_norm(a, "nuc"), LA.matrix_norm(a, 2),
                                LA.matrix_norm(a, -2), LA.matrix_norm(a, 1),
                                LA.matrix_norm(a, -math.inf)), [rect((2, 4, 3))]),
    "multi_dot": (lambda a, b, c: LA.multi_dot([a, b, c]),
                  [general((3, 1))[:, 0], general((3, 4), 1), general((4, 2), 2)]),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradcheck(name):
    fn, inputs = GRADCHECK[name]
    assert tg.gradcheck(fn, [_t(a) for a in inputs])


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradgradcheck(name):
    fn, inputs = GRADCHECK[name]
    assert tg.gradgradcheck(fn, [_t(a) for a in inputs])


def test_every_linalg_primitive_is_checked():
    """The eleven primitives at the end of ops.py each appear in a gradcheck case above."""
    from test_primitives import _op_names
    names = set()
    for fn, inputs in GRADCHECK.values():
        xs = [_t(a) for a in inputs]
        out = fn(*xs)
        outs = out if isinstance(out, tuple) else (out,)
        grads = tg.grad([o.sum() for o in outs], xs, create_graph=True, allow_unused=True)
        names |= _op_names([*outs, *[g for g in grads if g is not None]])
    assert {"inv", "solve", "det", "slogdet", "cholesky", "qr", "eigh", "eigvalsh", "svd",
            "svdvals", "pinv"} <= names


# ---- gradient conventions at the edges --------------------------------------------------------

def _grad(fn, a, g=None):
    x = Tensor(np.asarray(a, np.float64), requires_grad=True)
    out = fn(x)
    out.backward(np.ones(out.shape) if g is None else g)
    return x.grad.numpy()


def _torch_grad(torch, fn, a):
    t = torch.tensor(np.asarray(a, np.float64), requires_grad=True)
    out = fn(t)
    return torch.autograd.grad(out, t, torch.ones_like(out))[0].numpy()


def test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix(torch):
    """det is a polynomial: at rank n - 1 its gradient is the (non-zero) cofactor matrix,
    from the SVD here; torch's formula gives 0 there (a documented difference). At rank n - 2
    the cofactors are 0, as torch's."""
    a = np.array([[1.0, 2], [2, 4]])
    np.testing.assert_allclose(_grad(LA.det, a), [[4, -2], [-2, 1]], atol=1e-12)
    assert np.all(_torch_grad(torch, torch.linalg.det, a) == 0)  # torch's, for the record
    b = np.array([[1.0, 2, 3], [4, 5, 6], [7, 8, 9]])
    np.testing.assert_allclose(_grad(LA.det, b), [[-3, 6, -3], [6, -12, 6], [-3, 6, -3]],
                               atol=1e-12)
    np.testing.assert_allclose(_grad(LA.det, np.zeros((3, 3))), np.zeros((3, 3)), atol=0)
    # a batch mixing singular and invertible matrices: each by its own route
    batch = np.stack([a, np.array([[2.0, 1], [1, 3]])])
    np.testing.assert_allclose(_grad(LA.det, batch), [[[4, -2], [-2, 1]], [[3, -1], [-1, 2]]],
                               atol=1e-12)


def test_slogdet_and_logdet_at_singular_and_negative_determinants(torch):
    a = np.array([[1.0, 2], [2, 4]])
    sign, logabs = LA.slogdet(Tensor(a))
    assert sign.item() == 0 and logabs.item() == -math.inf
    g = _grad(lambda x: LA.slogdet(x).logabsdet, a)
    assert np.isinf(g).all()  # torch's is +-inf too
    assert np.isinf(_torch_grad(torch, lambda t: torch.linalg.slogdet(t).logabsdet, a)).all()
    swap = np.array([[0.0, 1], [1, 0]])  # det -1: logdet NaN with a zero gradient, as torch
    assert math.isnan(tg.logdet(Tensor(swap)).item())
    np.testing.assert_array_equal(_grad(tg.logdet, swap), _torch_grad(torch, torch.logdet, swap))
    assert tg.logdet(Tensor(a)).item() == -math.inf
    x = Tensor(swap, requires_grad=True)
    sign = LA.slogdet(x).sign
    assert sign.item() == -1 and sign.requires_grad  # as torch's, with a zero gradient
    sign.backward()
    assert not x.grad.numpy().any()


def test_repeated_singular_values_and_eigenvalues(torch):
    """As torch: with U, Vh or the eigenvectors in the loss the gradient is NaN where values
    repeat; the values alone (svdvals, eigvalsh, or only S / eigenvalues of svd / eigh) give
    finite gradients; pinv and the spectral norms stay finite."""
    eye = np.eye(3)
    for ours, theirs in [
        (lambda x: LA.svd(x).S.pow(2).sum(), lambda t: torch.linalg.svd(t).S.pow(2).sum()),
        (lambda x: LA.svdvals(x).pow(2).sum(), lambda t: torch.linalg.svdvals(t).pow(2).sum()),
        (lambda x: LA.eigh(x).eigenvalues.pow(2).sum(),
         lambda t: torch.linalg.eigh(t).eigenvalues.pow(2).sum()),
        (lambda x: LA.eigvalsh(x).pow(2).sum(), lambda t: torch.linalg.eigvalsh(t).pow(2).sum()),
        (lambda x: LA.pinv(x).pow(2).sum(), lambda t: torch.linalg.pinv(t).pow(2).sum()),
        (lambda x: LA.matrix_norm(x, 2), lambda t: torch.linalg.matrix_norm(t, 2)),
        (lambda x: LA.matrix_norm(x, "nuc"), lambda t: torch.linalg.matrix_norm(t, "nuc")),
        (lambda x: LA.matrix_norm(x, -2), lambda t: torch.linalg.matrix_norm(t, -2)),
    ]:
        np.testing.assert_allclose(_grad(ours, eye), _torch_grad(torch, theirs, eye), atol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isnan(_grad(lambda x: LA.svd(x).U.abs().sum(), eye)).all()
        assert np.isnan(_grad(lambda x: LA.eigh(x).eigenvectors.abs().sum(), eye)).all()
    assert np.isnan(_torch_grad(torch, lambda t: torch.linalg.svd(t).U.abs().sum(), eye)).all()


def test_svd_full_matrices_ignores_the_completion(torch):
    """The gradients of U's columns (Vh's rows) past min(m, n) are ignored, as torch's: they
    are any orthonormal completion."""
    a = rect((5, 3))
    g = _grad(lambda x: LA.svd(x).U[:, 3:].sum() + LA.svd(x).Vh.abs().sum() * 0, a)
    np.testing.assert_array_equal(g, np.zeros_like(a))
    g = _grad(lambda x: (lambda u, s, vh: u.sum() * 0 + s.sum())(*LA.svd(x)), a)
    np.testing.assert_allclose(g, _torch_grad(torch, lambda t: torch.linalg.svdvals(t).sum(), a),
                               atol=1e-12)


def test_qr_modes_that_torch_cannot_differentiate(torch):
    """mode='r', and mode='complete' with more rows than columns: the forward works, the
    backward raises torch's error (a RuntimeError at backward, as torch's)."""
    a = Tensor(rect((4, 3)), requires_grad=True)
    for mode, message in [("r", "depends on Q, which is not computed when mode='r'"),
                          ("complete", "not differentiable when mode='complete' and nrows > "
                                       "ncols")]:
        q, r = LA.qr(a, mode=mode)
        t = torch.tensor(a.numpy(), requires_grad=True)
        tq, tr = torch.linalg.qr(t, mode=mode)
        np.testing.assert_allclose(np.abs(r.numpy()), np.abs(tr.detach().numpy()), atol=1e-12)
        assert q.shape == tuple(tq.shape)
        with pytest.raises(RuntimeError, match=re.escape(message)):
            r.sum().backward()
        with pytest.raises(RuntimeError, match=re.escape(message)):
            tr.sum().backward()


def test_cholesky_and_eigh_gradients_are_symmetric_as_torchs(torch):
    """Both read one triangle, and both give the symmetric gradient torch gives (not the one of
    the triangle read): a gradient step keeps a symmetric matrix symmetric."""
    a = spd((4, 4))
    g = np.random.default_rng(0).standard_normal((4, 4))
    for ours, theirs in [(LA.cholesky, torch.linalg.cholesky),
                         (lambda x: LA.eigh(x, "U").eigenvalues,
                          lambda t: torch.linalg.eigh(t, "U").eigenvalues)]:
        x = Tensor(a, requires_grad=True)
        out = ours(x)
        out.backward(g[0] if out.ndim == 1 else g)
        np.testing.assert_allclose(x.grad.numpy(), x.grad.numpy().T, atol=1e-12)
        t = torch.tensor(a, requires_grad=True)
        ref = theirs(t)
        ref.backward(torch.tensor(g[0] if ref.ndim == 1 else g))
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_second_derivatives_as_torch(torch):
    """Hessian-vector products through inv, det, solve, cholesky, eigvalsh and svdvals against
    torch's double backward."""
    a = general((2, 3, 3))
    for ours, theirs, x0 in [
        (lambda x: LA.inv(x).pow(2).sum(), lambda t: torch.linalg.inv(t).pow(2).sum(), a),
        (lambda x: LA.det(x).pow(2).sum(), lambda t: torch.linalg.det(t).pow(2).sum(), a),
        (lambda x: LA.solve(x, x[..., :1] * 2).pow(3).sum(),
         lambda t: torch.linalg.solve(t, t[..., :1] * 2).pow(3).sum(), a),
        (lambda x: LA.cholesky(x @ x.mT).pow(3).sum(),
         lambda t: torch.linalg.cholesky(t @ t.mT).pow(3).sum(), a),
        (lambda x: LA.eigvalsh(x + x.mT).pow(3).sum(),
         lambda t: torch.linalg.eigvalsh(t + t.mT).pow(3).sum(), symmetric((2, 3, 3))),
        (lambda x: LA.svdvals(x).pow(3).sum(), lambda t: torch.linalg.svdvals(t).pow(3).sum(),
         rect((2, 4, 3))),
    ]:
        v = np.random.default_rng(3).standard_normal(x0.shape)
        x = Tensor(x0, requires_grad=True)
        (gx,) = tg.grad(ours(x), [x], create_graph=True)
        (hv,) = tg.grad((gx * Tensor(v)).sum(), [x])
        t = torch.tensor(x0, requires_grad=True)
        (gt,) = torch.autograd.grad(theirs(t), t, create_graph=True)
        (ht,) = torch.autograd.grad((gt * torch.tensor(v)).sum(), t)
        np.testing.assert_allclose(hv.numpy(), ht.numpy(), rtol=1e-8, atol=1e-9)


# ---- errors: torch's words --------------------------------------------------------------------

def _torch_message(torch, call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call()
        except Exception as e:  # noqa: BLE001 - torch's RuntimeError, LinAlgError, ...
            return str(e).split("\n")[0]
    raise AssertionError("torch did not raise")


I64, F16 = np.int64, np.float16
SING = np.array([[1.0, 2], [2, 4]])
NOT_PD = np.array([[1.0, 2], [2, 1]])

# (tinygrad_norm's call on L = linalg, torch's call on L = torch.linalg, arrays, our error type)
ERRORS = [
    ("inv_singular", lambda L, a: L.inv(a), [SING], LA.LinAlgError),
    ("inv_singular_batch", lambda L, a: L.inv(a),
     [np.stack([np.eye(2), np.eye(2), SING]).reshape(1, 3, 2, 2)], LA.LinAlgError),
    ("inv_zero", lambda L, a: L.inv(a), [np.zeros((3, 3))], LA.LinAlgError),
    ("inv_1d", lambda L, a: L.inv(a), [np.ones(3)], ValueError),
    ("inv_nonsquare", lambda L, a: L.inv(a), [np.ones((2, 3))], ValueError),
    ("inv_int", lambda L, a: L.inv(a), [np.ones((3, 3), I64)], TypeError),
    ("inv_half", lambda L, a: L.inv(a), [np.ones((3, 3), F16)], TypeError),
    ("inv_bool", lambda L, a: L.inv(a), [np.ones((3, 3), bool)], TypeError),
    ("det_nonsquare", lambda L, a: L.det(a), [np.ones((2, 3))], ValueError),
    ("det_half", lambda L, a: L.det(a), [np.ones((3, 3), F16)], TypeError),
    ("slogdet_1d", lambda L, a: L.slogdet(a), [np.ones(3)], ValueError),
    ("slogdet_int", lambda L, a: L.slogdet(a), [np.ones((3, 3), I64)], TypeError),
    ("cholesky_not_pd", lambda L, a: L.cholesky(a), [NOT_PD], LA.LinAlgError),
    ("cholesky_not_pd_first", lambda L, a: L.cholesky(a), [-np.eye(3)], LA.LinAlgError),
    ("cholesky_not_pd_batch", lambda L, a: L.cholesky(a), [np.stack([np.eye(2), NOT_PD])],
     LA.LinAlgError),
    ("cholesky_upper_reads_upper", lambda L, a: L.cholesky(a, upper=True),
     [np.array([[4.0, 100], [1, 3]])], LA.LinAlgError),
    ("cholesky_half", lambda L, a: L.cholesky(a), [np.ones((3, 3), F16)], TypeError),
    ("cholesky_upper_flag", lambda L, a: L.cholesky(a, upper=1), [np.eye(2)], TypeError),
    ("solve_singular", lambda L, a, b: L.solve(a, b), [SING, np.ones(2)], LA.LinAlgError),
    ("solve_singular_broadcast", lambda L, a, b: L.solve(a, b),
     [np.stack([np.eye(2), np.eye(2), np.zeros((2, 2))]), np.ones((2, 3, 2, 1))],
     LA.LinAlgError),
    ("solve_nonsquare", lambda L, a, b: L.solve(a, b), [np.ones((2, 3)), np.ones(2)], ValueError),
    ("solve_shapes", lambda L, a, b: L.solve(a, b), [np.eye(3), np.ones(2)], ValueError),
    ("solve_shapes_matrix", lambda L, a, b: L.solve(a, b), [np.eye(3), np.ones((2, 2))],
     ValueError),
    ("solve_shapes_batched", lambda L, a, b: L.solve(a, b),
     [np.ones((2, 3, 3)), np.ones((5, 2, 3))], ValueError),
    ("solve_shapes_right", lambda L, a, b: L.solve(a, b, left=False),
     [np.eye(3), np.ones((3, 1))], ValueError),
    ("solve_right_vector", lambda L, a, b: L.solve(a, b, left=False), [np.eye(1), np.ones(1)],
     ValueError),
    ("solve_dtypes", lambda L, a, b: L.solve(a, b), [np.eye(3), np.ones(3, np.float32)],
     TypeError),
    ("solve_int", lambda L, a, b: L.solve(a, b), [np.ones((3, 3), I64), np.ones(3, I64)],
     TypeError),
    ("solve_0d_rhs", lambda L, a, b: L.solve(a, b), [np.eye(3), np.ones(())], ValueError),
    ("solve_left_flag", lambda L, a, b: L.solve(a, b, left=5), [np.eye(2), np.ones(2)],
     TypeError),
    ("eigh_uplo", lambda L, a: L.eigh(a, UPLO="X"), [np.eye(3)], ValueError),
    ("eigh_uplo_long", lambda L, a: L.eigh(a, UPLO="LL"), [np.eye(3)], ValueError),
    ("eigh_uplo_type", lambda L, a: L.eigh(a, UPLO=1), [np.eye(3)], TypeError),
    ("eigh_int", lambda L, a: L.eigh(a), [np.ones((3, 3), I64)], TypeError),
    ("eigvalsh_1d", lambda L, a: L.eigvalsh(a), [np.ones(3)], ValueError),
    ("svd_1d", lambda L, a: L.svd(a), [np.ones(3)], ValueError),
    ("svd_int", lambda L, a: L.svd(a), [np.ones((2, 3), I64)], TypeError),
    ("svd_half", lambda L, a: L.svd(a), [np.ones((2, 3), F16)], TypeError),
    ("svd_nan", lambda L, a: L.svd(a), [np.array([[1.0, np.nan], [0, 1]])], LA.LinAlgError),
    ("svd_driver", lambda L, a: L.svd(a, driver="gesvd"), [np.eye(3)], ValueError),
    ("svd_flag", lambda L, a: L.svd(a, full_matrices=1), [np.eye(3)], TypeError),
    ("svdvals_1d", lambda L, a: L.svdvals(a), [np.ones(3)], ValueError),
    ("qr_mode", lambda L, a: L.qr(a, mode="x"), [np.eye(3)], ValueError),
    ("qr_mode_type", lambda L, a: L.qr(a, mode=1), [np.eye(3)], TypeError),
    ("qr_half", lambda L, a: L.qr(a), [np.ones((2, 3), F16)], TypeError),
    ("pinv_1d", lambda L, a: L.pinv(a), [np.ones(3)], ValueError),
    ("pinv_int", lambda L, a: L.pinv(a), [np.ones((2, 3), I64)], TypeError),
    ("pinv_nan", lambda L, a: L.pinv(a), [np.array([[1.0, np.nan], [0, 1]])], LA.LinAlgError),
    ("matrix_rank_1d", lambda L, a: L.matrix_rank(a), [np.ones(3)], ValueError),
    ("matrix_rank_int", lambda L, a: L.matrix_rank(a), [np.ones((3, 3), I64)], TypeError),
    ("matrix_power_nonsquare", lambda L, a: L.matrix_power(a, 2), [np.ones((2, 3))], ValueError),
    ("matrix_power_1d", lambda L, a: L.matrix_power(a, 2), [np.ones(3)], ValueError),
    ("matrix_power_float_n", lambda L, a: L.matrix_power(a, 2.0), [np.eye(2)], TypeError),
    ("matrix_power_bool_n", lambda L, a: L.matrix_power(a, True), [np.eye(2)], TypeError),
    ("matrix_power_int_negative", lambda L, a: L.matrix_power(a, -1), [np.ones((3, 3), I64)],
     TypeError),
    ("matrix_power_singular", lambda L, a: L.matrix_power(a, -1), [SING], LA.LinAlgError),
    ("multi_dot_one", lambda L, a: L.multi_dot([a]), [np.eye(2)], ValueError),
    ("multi_dot_first_3d", lambda L, a, b: L.multi_dot([a, b]), [np.ones((2, 3, 3)), np.eye(3)],
     ValueError),
    ("multi_dot_last_3d", lambda L, a, b, c: L.multi_dot([a, b, c]),
     [np.ones(3), np.eye(3), np.ones((2, 3, 3))], ValueError),
    ("multi_dot_middle_3d", lambda L, a, b, c: L.multi_dot([a, b, c]),
     [np.ones(3), np.ones((3, 3, 3)), np.ones(3)], ValueError),
    ("multi_dot_shapes", lambda L, a, b: L.multi_dot([a, b]), [np.ones((2, 3)), np.ones((4, 3))],
     ValueError),
    ("multi_dot_vectors", lambda L, a, b: L.multi_dot([a, b]), [np.ones(3), np.ones(4)],
     ValueError),
    ("multi_dot_dtypes", lambda L, a, b: L.multi_dot([a, b]),
     [np.ones((2, 3)), np.ones((3, 3), np.float32)], TypeError),
    ("matrix_norm_order", lambda L, a: L.matrix_norm(a, ord=3), [np.ones(3)], ValueError),
    ("matrix_norm_order_str", lambda L, a: L.matrix_norm(a, ord="abc"), [np.eye(3)], ValueError),
    ("matrix_norm_1d", lambda L, a: L.matrix_norm(a), [np.ones(3)], ValueError),
    ("matrix_norm_int", lambda L, a: L.matrix_norm(a), [np.ones((3, 3), I64)], TypeError),
    ("matrix_norm_dims", lambda L, a: L.matrix_norm(a, dim=(0, 1, 1)), [np.eye(3)], ValueError),
    ("matrix_norm_same_dims", lambda L, a: L.matrix_norm(a, dim=(0, 0)), [np.eye(3)],
     ValueError),
    ("matrix_norm_dim_range", lambda L, a: L.matrix_norm(a, dim=(0, 2)), [np.eye(3)],
     IndexError),
    ("matrix_norm_narrowing", lambda L, a: L.matrix_norm(a, dtype=np.float32 if L is LA else
                                                         __import__("torch").float32),
     [np.eye(3)], TypeError),
    ("matrix_norm_half_2", lambda L, a: L.matrix_norm(a, 2), [np.ones((2, 3), F16)], TypeError),
    ("matrix_norm_empty_min", lambda L, a: L.matrix_norm(a, -2), [np.ones((0, 3))], IndexError),
    ("matrix_norm_empty_min_1", lambda L, a: L.matrix_norm(a, -1), [np.ones((3, 0))],
     IndexError),
    ("vector_norm_int", lambda L, a: L.vector_norm(a), [np.ones(3, I64)], TypeError),
    ("vector_norm_ord_str", lambda L, a: L.vector_norm(a, ord="fro"), [np.ones(3)], TypeError),
    ("vector_norm_ord_none", lambda L, a: L.vector_norm(a, ord=None), [np.ones(3)], TypeError),
    ("vector_norm_empty_inf", lambda L, a: L.vector_norm(a, ord=math.inf), [np.ones(0)],
     ValueError),
    ("vector_norm_empty_negative", lambda L, a: L.vector_norm(a, ord=-1), [np.ones(0)],
     ValueError),
    ("vector_norm_repeated_dim", lambda L, a: L.vector_norm(a, dim=(0, 0)), [np.ones(3)],
     ValueError),
    ("vector_norm_dim_range", lambda L, a: L.vector_norm(a, dim=1), [np.ones(3)], IndexError),
    ("vector_norm_keepdim_flag", lambda L, a: L.vector_norm(a, keepdim=1), [np.ones(3)],
     TypeError),
    ("norm_ord_3d", lambda L, a: L.norm(a, ord=2), [np.ones((2, 3, 4))], ValueError),
    ("norm_fro_3d", lambda L, a: L.norm(a, ord="fro"), [np.ones((2, 3, 4))], ValueError),
    ("norm_fro_1d", lambda L, a: L.norm(a, ord="fro"), [np.ones(3)], ValueError),
    ("norm_fro_dim", lambda L, a: L.norm(a, ord="fro", dim=0), [np.ones((3, 3))], ValueError),
    ("norm_three_dims", lambda L, a: L.norm(a, dim=(0, 1, 2)), [np.ones((2, 3, 4))], ValueError),
    ("norm_0d_ord", lambda L, a: L.norm(a, ord=2), [np.ones(())], ValueError),
    ("cross_ndims", lambda L, a, b: L.cross(a, b), [np.ones(3), np.ones((2, 3))], ValueError),
    ("cross_length", lambda L, a, b: L.cross(a, b), [np.ones((3, 4)), np.ones((1, 3))],
     ValueError),
    ("cross_dim_range", lambda L, a, b: L.cross(a, b, dim=2), [np.ones((2, 3)), np.ones((2, 3))],
     IndexError),
]


@pytest.mark.parametrize("name,call,arrays,error", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_are_torchs(torch, name, call, arrays, error):
    message = _torch_message(torch, lambda: call(torch.linalg, *[torch.tensor(a) for a in arrays]))
    with pytest.raises(error) as info:
        call(LA, *[Tensor(a) for a in arrays])
    ours = str(info.value)
    if name.startswith("vector_norm_empty"):  # torch's "dimension 0because": a space here
        message = message.replace("0because", "0 because")
    assert ours == message


def test_errors_of_our_own():
    """Where torch has no error to copy: real float32/float64 only (a complex tensor cannot be
    made at all), a batch that does not broadcast, an argument that is not a Tensor."""
    with pytest.raises(TypeError, match="complex"):
        LA.inv(Tensor(np.eye(2) + 0j))
    with pytest.raises(TypeError, match="float128 is not supported"):
        LA.inv(Tensor(np.eye(2, dtype=np.longdouble)))
    with pytest.raises(TypeError, match=re.escape("linalg_inv(): argument 'A' must be Tensor, "
                                                  "not list")):
        LA.inv([[1.0]])
    with pytest.raises(ValueError, match="batch dimensions of A"):
        LA.solve(Tensor(np.ones((2, 3, 3))), Tensor(np.ones((3, 3, 1))))
    with pytest.raises(TypeError, match="multi_dot.*must be tuple of Tensors"):
        LA.multi_dot(Tensor(np.eye(2)))
    with pytest.raises(ValueError, match="not differentiable with respect to argument 'rtol'"):
        LA.pinv(Tensor(np.eye(2)), rtol=Tensor(np.array(0.5), requires_grad=True))
    # raised before anything is recorded: the input is untouched and has no gradient
    a = Tensor(SING, requires_grad=True)
    with pytest.raises(LA.LinAlgError):
        LA.inv(a)
    assert a.grad is None and isinstance(LA.LinAlgError("x"), ValueError)


# ---- empty batches and matrices ---------------------------------------------------------------

EMPTY = [
    ("inv", lambda L, a: L.inv(a), (0, 3, 3)),
    ("det", lambda L, a: L.det(a), (0, 3, 3)),
    ("det_0x0", lambda L, a: L.det(a), (2, 0, 0)),
    ("slogdet", lambda L, a: L.slogdet(a)[1], (0, 3, 3)),
    ("solve", lambda L, a: L.solve(a, a[..., 0]), (0, 3, 3)),
    ("cholesky", lambda L, a: L.cholesky(a), (0, 3, 3)),
    ("qr", lambda L, a: L.qr(a)[0], (0, 4, 3)),
    ("qr_0x3", lambda L, a: L.qr(a)[1], (0, 3)),
    ("eigh", lambda L, a: L.eigh(a)[1], (0, 3, 3)),
    ("eigvalsh", lambda L, a: L.eigvalsh(a), (0, 3, 3)),
    ("svd", lambda L, a: L.svd(a)[0], (0, 3, 3)),
    ("svd_3x0", lambda L, a: L.svd(a, full_matrices=False)[2], (3, 0)),
    ("svdvals", lambda L, a: L.svdvals(a), (0, 4, 3)),
    ("pinv", lambda L, a: L.pinv(a), (0, 3, 3)),
    ("pinv_0x3", lambda L, a: L.pinv(a), (0, 3)),
    ("matrix_power", lambda L, a: L.matrix_power(a, 3), (0, 3, 3)),
    ("matrix_norm_nuc", lambda L, a: L.matrix_norm(a, "nuc"), (0, 3, 3)),
    ("matrix_norm_2_of_0x3", lambda L, a: L.matrix_norm(a, 2), (0, 3)),
    ("matrix_norm_1_of_3x0", lambda L, a: L.matrix_norm(a, 1), (3, 0)),
    ("matrix_norm_inf_of_0x3", lambda L, a: L.matrix_norm(a, math.inf), (0, 3)),
    ("vector_norm", lambda L, a: L.vector_norm(a), (0, 3)),
    ("vector_norm_inf_kept_dim", lambda L, a: L.vector_norm(a, math.inf, dim=1), (0, 3)),
]


@pytest.mark.parametrize("name,call,shape", EMPTY, ids=[e[0] for e in EMPTY])
def test_empty_inputs_as_torch(torch, name, call, shape):
    x = Tensor(np.ones(shape), requires_grad=True)
    t = torch.ones(shape, dtype=torch.float64, requires_grad=True)
    out, ref = call(LA, x), call(torch.linalg, t)
    _compare(out.data, ref.detach().numpy(), 1e-12, name)
    out.backward(np.ones(out.shape))
    assert x.grad.shape == shape


def test_matrix_rank_as_torch(torch):
    a = np.stack([rect((4, 3)), rect((4, 3), 1) @ np.diag([1.0, 1e-20, 1.0])])
    for kw in [{}, {"atol": 0.5}, {"rtol": 0.4}, {"atol": 0.1, "rtol": 0.0}]:
        ours = LA.matrix_rank(Tensor(a), **kw)
        ref = torch.linalg.matrix_rank(torch.tensor(a), **kw)
        assert ours.dtype == np.int64
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    s = symmetric((3, 3))
    assert LA.matrix_rank(Tensor(s), hermitian=True).item() == torch.linalg.matrix_rank(
        torch.tensor(s), hermitian=True).item()
    np.testing.assert_array_equal(LA.matrix_rank(Tensor(np.ones((2, 0, 3)))).numpy(), [0, 0])


def test_pinv_tolerances_as_torch(torch):
    d = np.diag([1.0, 1e-3, 0.5])
    for kw in [{}, {"atol": 1e-2}, {"rtol": 1e-2}, {"atol": -1.0}, {"atol": 0.1, "rtol": 0.9}]:
        np.testing.assert_allclose(LA.pinv(Tensor(d), **kw).numpy(),
                                   torch.linalg.pinv(torch.tensor(d), **kw).numpy(), atol=1e-12)
    ours = LA.pinv(Tensor(d), atol=Tensor(np.array([1e-2, 1e-4])))  # over a batch of tolerances
    ref = torch.linalg.pinv(torch.tensor(d), atol=torch.tensor([1e-2, 1e-4]))
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), atol=1e-12)
    np.testing.assert_allclose(tg.pinverse(Tensor(d), rcond=0.6).numpy(),
                               torch.pinverse(torch.tensor(d), rcond=0.6).numpy(), atol=1e-12)


def test_svd_and_qr_signs_are_lapacks_as_torchs(torch):
    """The same LAPACK conventions as torch's CPU build: R's diagonal signs (Householder) and,
    for these matrices, the singular vectors themselves agree, not only up to sign."""
    a = rect((2, 5, 3))
    q, r = LA.qr(Tensor(a))
    tq, tr = torch.linalg.qr(torch.tensor(a))
    np.testing.assert_allclose(r.numpy(), tr.numpy(), atol=1e-12)
    np.testing.assert_allclose(q.numpy(), tq.numpy(), atol=1e-12)


# ---- torch's top-level forms and the Tensor methods ------------------------------------------

def test_top_level_names_are_torchs(torch):
    names = ["det", "inverse", "logdet", "slogdet", "cholesky", "pinverse", "matrix_power",
             "svd"]
    for n in names:
        assert hasattr(torch, n) and n in tg.__all__ and callable(getattr(tg, n))
    a = spd((2, 3, 3))
    t = torch.tensor(a)
    np.testing.assert_allclose(tg.det(Tensor(a)).numpy(), torch.det(t).numpy(), rtol=1e-12)
    np.testing.assert_allclose(tg.inverse(Tensor(a)).numpy(), torch.inverse(t).numpy(),
                               rtol=1e-10)
    np.testing.assert_allclose(tg.matrix_power(Tensor(a), 2).numpy(),
                               torch.matrix_power(t, 2).numpy(), rtol=1e-12)
    res = tg.slogdet(Tensor(a))
    assert type(res).__name__ == "slogdet" and res._fields == ("sign", "logabsdet")
    assert type(LA.slogdet(Tensor(a))).__name__ == "linalg_slogdet"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_u = torch.cholesky(t, upper=True)
    np.testing.assert_allclose(tg.cholesky(Tensor(a), True).numpy(), ref_u.numpy(), rtol=1e-12)
    with pytest.raises(LA.LinAlgError, match="^cholesky: The factorization"):
        tg.cholesky(Tensor(NOT_PD))
    with pytest.raises(ValueError, match=re.escape("logdet: A must be batches of square")):
        tg.logdet(Tensor(np.ones((2, 3))))


def test_torch_svd_returns_v_and_takes_some_and_compute_uv(torch):
    a = rect((2, 5, 3))
    for some in (True, False):
        u, s, v = tg.svd(Tensor(a), some=some)
        tu, ts, tv = torch.svd(torch.tensor(a), some=some)
        assert type(tg.svd(Tensor(a))).__name__ == "svd"
        assert u.shape == tuple(tu.shape) and v.shape == tuple(tv.shape)
        k = 3
        np.testing.assert_allclose((u[..., :k] * s.reshape(2, 1, 3)) @ v[..., :k].mT, a,
                                   atol=1e-12)
    u, s, v = tg.svd(Tensor(a), compute_uv=False)
    tu, ts, tv = torch.svd(torch.tensor(a), compute_uv=False)
    assert u.shape == tuple(tu.shape) and not u.numpy().any() and not v.numpy().any()
    np.testing.assert_allclose(s.numpy(), ts.numpy(), rtol=1e-12)
    np.testing.assert_allclose(_grad(lambda x: tg.svd(x, compute_uv=False).S, a),
                               _torch_grad(torch, lambda x: torch.svd(x, compute_uv=False).S, a),
                               atol=1e-12)
    with pytest.raises(ValueError, match="input should have at least 2 dimensions"):
        tg.svd(Tensor(np.ones(3)))
    with pytest.raises(TypeError, match="argument 'some' must be bool"):
        tg.svd(Tensor(a), some=1)


def test_tensor_methods(torch):
    a = spd((3, 3))
    t = torch.tensor(a)
    x = Tensor(a)
    for ours, theirs in [(x.det(), t.det()), (x.logdet(), t.logdet()), (x.inverse(), t.inverse()),
                         (x.matrix_power(-2), t.matrix_power(-2)), (x.pinverse(), t.pinverse()),
                         (x.slogdet().logabsdet, t.slogdet().logabsdet), (x.svd().S, t.svd().S),
                         (x.norm("nuc"), t.norm(p="nuc")),
                         (Tensor(rect((2, 3, 4))).norm("nuc", dim=(0, 2), keepdim=True),
                          torch.tensor(rect((2, 3, 4))).norm(p="nuc", dim=(0, 2), keepdim=True)),
                         (tg.norm(x, p="nuc"), torch.norm(t, p="nuc"))]:
        _compare(ours.numpy(), theirs.numpy(), 1e-10, "method")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _compare(x.cholesky().numpy(), t.cholesky().numpy(), 1e-12, "cholesky")
    assert type(x.slogdet()).__name__ == "slogdet"


def test_importing_the_package_does_not_load_functional():
    """linalg.py is loaded with the engine (the Tensor methods need it); it reaches functional's
    flag check only for a value that is not a plain bool, so functional stays unloaded."""
    import os
    import subprocess
    import sys
    root = Path(__file__).resolve().parents[1]
    code = ("import sys, tinygrad_norm as tg, numpy as np; "
            "tg.linalg.svd(tg.Tensor(np.eye(2)), full_matrices=False); "
            "assert 'tinygrad_norm.functional' not in sys.modules")
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, env=dict(os.environ),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_module_is_importable_both_ways():
    import importlib
    assert importlib.import_module("tinygrad_norm.linalg") is tg.linalg is LA
    assert set(LA.__all__) >= {"inv", "det", "slogdet", "solve", "cholesky", "qr", "eigh",
                               "eigvalsh", "svd", "svdvals", "matrix_norm", "vector_norm", "norm",
                               "pinv", "matrix_power", "multi_dot", "matrix_rank", "cross",
                               "diagonal"}


def test_every_linalg_name_is_in_the_api_docs():
    """tests/test_docs.py checks that each documented signature matches its code; this checks
    that each name of tinygrad_norm.linalg has an entry."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text(encoding="utf-8")
    missing = [n for n in LA.__all__ if f"`tinygrad_norm.linalg.{n}" not in text]
    assert not missing, f"tinygrad_norm.linalg names without an entry in docs/api.md: {missing}"


def test_outputs_without_grad_are_plain_and_float32_stays_float32():
    a = rect((2, 4, 3)).astype(np.float32)
    with tg.no_grad():
        u, s, vh = LA.svd(Tensor(a, requires_grad=True))
    assert not u.requires_grad and u.dtype == np.float32
    x = Tensor(a, requires_grad=True)
    LA.matrix_norm(x, "nuc").sum().backward()
    assert x.grad.dtype == np.float32


# ---- batch shapes, drawn -------------------------------------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, strategies as st  # noqa: E402

_BATCH = st.lists(st.integers(0, 3), min_size=0, max_size=2).map(tuple)
_SQUARE_FNS = {
    "inv": (lambda L, a: L.inv(a), general),
    "det": (lambda L, a: L.det(a), general),
    "slogdet": (lambda L, a: L.slogdet(a).logabsdet, general),
    "cholesky": (lambda L, a: L.cholesky(a), spd),
    "eigvalsh": (lambda L, a: L.eigvalsh(a), symmetric),
    "svdvals": (lambda L, a: L.svdvals(a), rect),
    "solve": (lambda L, a: L.solve(a, a[..., :1, :].mT * 2), general),
    "pinv": (lambda L, a: L.pinv(a), rect),
}


@given(batch=_BATCH, n=st.integers(1, 4), name=st.sampled_from(sorted(_SQUARE_FNS)),
       seed=st.integers(0, 100))
def test_any_batch_shape_as_torch(torch, batch, n, name, seed):
    """Values and gradients over drawn batch shapes (empty and size-1 dims included) and sizes
    down to 1 x 1."""
    call, make = _SQUARE_FNS[name]
    a = make(batch + (n, n), seed)
    x = Tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    out, ref = call(LA, x), call(torch.linalg, t)
    _compare(out.data, ref.detach().numpy(), 1e-9, name)
    g = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(g)
    (gt,) = torch.autograd.grad(ref, t, torch.from_numpy(g))
    _compare(x.grad.data, gt.numpy(), 1e-8, f"{name} gradient")
