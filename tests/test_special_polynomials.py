"""torch.special's orthogonal polynomials (Chebyshev T/U/V/W and their shifted forms, Hermite H
and He, Laguerre L, Legendre P) against torch 2.13 (values, non-finite results, degrees that are
negative, fractional or not finite, dtypes, Python numbers) and against exact polynomial
arithmetic (numpy.polynomial's coefficient series, in float64 at small degrees)."""
from __future__ import annotations

import numpy as np
import numpy.polynomial as npp
import pytest

from tinygrad_norm import Tensor
from tinygrad_norm import special as S

NAMES = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
         "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
         "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
         "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
         "laguerre_polynomial_l", "legendre_polynomial_p"]

DEGREES = list(range(-2, 16)) + [2.7, -0.5, -1.5, 30, 100, np.nan, np.inf, -np.inf, 1e20]


def _xs():
    rng = np.random.default_rng(0)
    return np.concatenate([rng.uniform(-1.5, 1.5, 200), rng.uniform(-0.2, 1.2, 200),
                           [-1.0, 1.0, 0.0, -0.0, 0.5, -0.5, 2.0, -2.0, np.inf, -np.inf,
                            1e-300, 0.999999]])


@pytest.mark.parametrize("name", NAMES)
def test_values_match_torch(torch, name):
    # torch's kernel contracts a*b - c into fused multiply-adds, so results differ in the last
    # bits; the error is measured on the scale of the values inside [-1, 1] (the polynomial's
    # size there), or of the value itself outside. Non-finite results must be the same.
    # (NaN inputs are left out: torch's vectorised kernel returns a neighbour lane's value for
    # some of them -- U_2(NaN) = 15 -- where ours is NaN.)
    x = _xs()
    for n in DEGREES:
        nn = np.full_like(x, n)
        got = getattr(S, name)(Tensor(x), Tensor(nn)).numpy()
        ref = getattr(torch.special, name)(torch.tensor(x), torch.tensor(nn)).numpy()
        fin = np.isfinite(ref)
        same = (got == ref) | (np.isnan(got) & np.isnan(ref))
        assert same[~fin].all(), (name, n, x[~fin][~same[~fin]])
        inside = np.abs(ref[fin][np.abs(x[fin]) <= 1])
        scale = np.maximum(np.abs(ref[fin]), inside.max(initial=1.0))
        err = np.abs(got[fin] - ref[fin]) / scale
        assert err.max(initial=0.0) < 1e-13, (name, n)


def _exact(name, x, n):
    """p_n(x) from numpy.polynomial's basis series (a different algorithm: Clenshaw on the
    coefficient vector), for n >= 0."""
    c = np.zeros(n + 1)
    c[n] = 1.0
    cheb = npp.chebyshev.Chebyshev(c)
    t = 2 * x - 1 if name.startswith("shifted") else x
    if name.endswith("_t"):
        return cheb(t)
    if name.endswith("_u"):  # U_n = (T_n - T_{n+2}) / (2 (1 - t^2)); here its series in T
        return npp.chebyshev.chebval(t, _u_in_t(n))
    if name.endswith("_v"):  # V_n = U_n - U_{n-1}, W_n = U_n + U_{n-1}
        return npp.chebyshev.chebval(t, _u_in_t(n)) - (npp.chebyshev.chebval(t, _u_in_t(n - 1))
                                                        if n else 0.0)
    if name.endswith("_w"):
        return npp.chebyshev.chebval(t, _u_in_t(n)) + (npp.chebyshev.chebval(t, _u_in_t(n - 1))
                                                        if n else 0.0)
    if name == "hermite_polynomial_h":
        return npp.hermite.hermval(x, c)
    if name == "hermite_polynomial_he":
        return npp.hermite_e.hermeval(x, c)
    if name == "laguerre_polynomial_l":
        return npp.laguerre.lagval(x, c)
    return npp.legendre.legval(x, c)


def _u_in_t(n):
    """U_n in the T basis: U_n = 2 sum_{j = n, n-2, ... > 0} T_j (+ T_0 once for even n)."""
    c = np.zeros(n + 1)
    for j in range(n, -1, -2):
        c[j] = 2.0 if j else 1.0
    return c


@pytest.mark.parametrize("name", NAMES)
def test_values_match_the_polynomials(name):
    x = np.concatenate([np.linspace(-1.2, 1.2, 41), np.linspace(-0.1, 1.1, 25)])
    for n in range(0, 12):
        got = getattr(S, name)(Tensor(x), n).numpy()
        ref = _exact(name, x, n)
        scale = np.maximum(np.abs(ref), np.abs(ref[np.abs(x) <= 1]).max(initial=1.0))
        np.testing.assert_array_less(np.abs(got - ref) / scale, 1e-12, err_msg=f"{name} {n}")


@pytest.mark.parametrize("name", NAMES)
def test_nan_input_is_nan(name):
    out = getattr(S, name)(Tensor(np.array([np.nan, np.nan])), Tensor(np.array([2.0, 12.0])))
    assert np.isnan(out.numpy()).all()


@pytest.mark.parametrize("name", NAMES)
def test_dtypes_numbers_shapes_and_no_gradient(torch, name):
    fn, theirs = getattr(S, name), getattr(torch.special, name)
    x32 = np.array([[0.25, -0.5, 0.9]], np.float32)
    cases = [
        (lambda: fn(Tensor(x32), 3), lambda: theirs(torch.tensor(x32), 3)),
        (lambda: fn(Tensor(x32), 2.5), lambda: theirs(torch.tensor(x32), 2.5)),
        (lambda: fn(0.5, Tensor(np.array([1, 2, 4]))),
         lambda: theirs(0.5, torch.tensor([1, 2, 4]))),
        (lambda: fn(Tensor(np.array([1, 2])), Tensor(np.array([2, 3]))),
         lambda: theirs(torch.tensor([1, 2]), torch.tensor([2, 3]))),
        (lambda: fn(Tensor(x32), Tensor(np.array([[3], [4]]))),
         lambda: theirs(torch.tensor(x32), torch.tensor([[3], [4]]))),
        (lambda: fn(Tensor(x32), Tensor(np.array([3.0, 1.0, 5.0]))),
         lambda: theirs(torch.tensor(x32), torch.tensor([3.0, 1.0, 5.0],
                                                        dtype=torch.float64))),
    ]
    for ours, ref in cases:
        got, want = ours(), ref()
        assert str(got.dtype) == str(want.dtype).replace("torch.", "")
        assert got.shape == tuple(want.shape)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)
    assert fn(Tensor(np.zeros((0, 2))), 3).shape == (0, 2)
    assert fn(Tensor(np.array(0.3)), 4).shape == ()
    out = fn(Tensor(np.array([0.3]), requires_grad=True), 3)
    assert not out.requires_grad  # as torch's: no gradient
    with pytest.raises(TypeError, match="at least one Tensor"):
        fn(0.5, 3)
    with pytest.raises(ValueError, match=f"{name}\\(\\): operands of shapes"):
        fn(Tensor(np.ones(2)), Tensor(np.ones(3)))
