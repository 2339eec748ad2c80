"""torch's top-level cholesky_solve, cholesky_inverse and the deprecated qr, lu, lu_solve
against torch: values (batched, upper and lower factors) in float64 to 1e-10 and float32;
gradients under a random upstream gradient (the factor's read triangle: torch also gives the
unread one a gradient, here it is zero); gradcheck and gradgradcheck; the deprecation warnings
and errors."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor

from conftest import gradchecks


def _spd_factor(shape, upper, seed=0):
    rng = np.random.default_rng(seed)
    n = shape[-1]
    a = rng.standard_normal(shape)
    spd = a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
    low = np.linalg.cholesky(spd)
    return np.swapaxes(low, -1, -2).copy() if upper else low


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("shape,k", [((3, 3), 2), ((2, 4, 4), 3), ((4, 4), 1)])
@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-10), (np.float32, 1e-4)])
def test_cholesky_solve_and_inverse_match_torch(torch, shape, k, upper, dtype, rtol):
    L = _spd_factor(shape, upper).astype(dtype)
    B = np.random.default_rng(1).standard_normal(shape[:-1] + (k,)).astype(dtype)
    mask = np.triu(np.ones(shape[-2:])) if upper else np.tril(np.ones(shape[-2:]))
    for ours_fn, theirs_fn, args in (
            (lambda l, b: tg.cholesky_solve(b, l, upper),
             lambda l, b: torch.cholesky_solve(b, l, upper), (L, B)),
            (lambda l: tg.cholesky_inverse(l, upper),
             lambda l: torch.cholesky_inverse(l, upper), (L,))):
        xs = [Tensor(a.copy(), requires_grad=True) for a in args]
        ts = [torch.tensor(a.copy(), requires_grad=True) for a in args]
        out, ref = ours_fn(*xs), theirs_fn(*ts)
        assert out.dtype == dtype
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=rtol, atol=rtol)
        up = np.random.default_rng(2).standard_normal(out.shape).astype(dtype)
        out.backward(Tensor(up))
        ref.backward(torch.from_numpy(up))
        s = max(1.0, float(np.abs(ts[0].grad.numpy()).max()))
        np.testing.assert_allclose(xs[0].grad.numpy(), ts[0].grad.numpy() * mask,
                                   rtol=rtol, atol=rtol * s)  # the read triangle
        assert not (xs[0].grad.numpy() * (1 - mask)).any()  # the unread one: zero
        for x, t in zip(xs[1:], ts[1:]):
            np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=rtol * s)


def test_gradchecks():
    L, B = _spd_factor((3, 3), False), np.random.default_rng(3).standard_normal((3, 2))
    low = np.tril(np.ones((3, 3)))
    gradchecks(lambda l, b: tg.cholesky_solve(b, l * Tensor(low)), [L, B])
    gradchecks(lambda l: tg.cholesky_inverse(l * Tensor(low.T), True), [L.T.copy()])


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


@pytest.mark.parametrize("shape,some", [((4, 3), True), ((4, 3), False), ((2, 3, 5), True)])
def test_qr_matches_torch(torch, shape, some):
    a = np.random.default_rng(4).standard_normal(shape)
    q, r = _quiet(tg.qr, Tensor(a), some)
    tq, tr = _quiet(torch.qr, torch.from_numpy(a), some)
    np.testing.assert_allclose(q.numpy(), tq.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r.numpy(), tr.numpy(), rtol=1e-10, atol=1e-12)


def test_lu_and_lu_solve_match_torch(torch):
    a = np.random.default_rng(5).standard_normal((2, 4, 4))
    b = np.random.default_rng(6).standard_normal((2, 4, 3))
    LU, piv, info = _quiet(tg.lu, Tensor(a), get_infos=True)
    tLU, tpiv, tinfo = _quiet(torch.lu, torch.from_numpy(a), get_infos=True)
    np.testing.assert_allclose(LU.numpy(), tLU.numpy(), rtol=1e-12, atol=1e-14)
    assert piv.dtype == np.int32 and np.array_equal(piv.numpy(), tpiv.numpy())
    assert np.array_equal(info.numpy(), tinfo.numpy())
    x = Tensor(b.copy(), requires_grad=True)
    tx = torch.tensor(b.copy(), requires_grad=True)
    out = _quiet(tg.lu_solve, x, LU, piv)
    ref = _quiet(torch.lu_solve, tx, tLU, tpiv)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-10)
    up = np.random.default_rng(7).standard_normal(b.shape)
    out.backward(Tensor(up))
    ref.backward(torch.from_numpy(up))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("fn,args", [("qr", ((3, 3),)), ("lu", ((3, 3),)),
                                     ("lu_solve", None)])
def test_deprecated_forms_warn(fn, args):
    a = Tensor(np.eye(3) * 2)
    call_args = (a, *_quiet(tg.lu, a)) if args is None else (a,)
    with pytest.warns(UserWarning, match=f"torch.{fn} is deprecated in favor of torch.linalg"):
        getattr(tg, fn)(*call_args)


def test_errors(torch):
    with pytest.raises(RuntimeError) as theirs:
        torch.cholesky_inverse(torch.randn(2, 3))
    with pytest.raises(ValueError, match="^cholesky_inverse: " + re.escape(
            str(theirs.value).split(": ", 1)[1]) + "$"):
        tg.cholesky_inverse(tg.randn(2, 3))
    with pytest.raises(TypeError, match="Expected b and A to have the same dtype"):
        tg.cholesky_solve(tg.ones(3, 2), Tensor(np.eye(3)))
    with pytest.raises(ValueError, match="B must have at least 2 dimensions"):
        tg.cholesky_solve(tg.ones(3), tg.ones(3, 3))
    with pytest.raises(TypeError, match="argument 'L' must be Tensor"):
        tg.cholesky_inverse(np.eye(3))
