"""special.bessel_y0/y1, modified_bessel_k0/k1, scaled_modified_bessel_k0/k1 and airy_ai against
mpmath (to a few ulps, or of the envelope where the function oscillates through zeros), torch
2.13 (values, edges, dtypes) and torch's absence of gradients."""
from __future__ import annotations

import numpy as np
import pytest

from tinygrad_norm import Tensor
from tinygrad_norm import special as S

ULP = 2.0 ** -52
NAMES = ["bessel_y0", "bessel_y1", "modified_bessel_k0", "modified_bessel_k1",
         "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "airy_ai"]


def _mp_reference(mpmath, name, x):
    mpmath.mp.dps = 40
    f = {"bessel_y0": lambda v: mpmath.bessely(0, v), "bessel_y1": lambda v: mpmath.bessely(1, v),
         "modified_bessel_k0": lambda v: mpmath.besselk(0, v),
         "modified_bessel_k1": lambda v: mpmath.besselk(1, v),
         "scaled_modified_bessel_k0": lambda v: mpmath.besselk(0, v) * mpmath.exp(v),
         "scaled_modified_bessel_k1": lambda v: mpmath.besselk(1, v) * mpmath.exp(v),
         "airy_ai": mpmath.airyai}[name]
    return np.array([float(f(mpmath.mpf(v))) for v in x])


def _points(name):
    rng = np.random.default_rng(NAMES.index(name))  # (a fixed seed per function)
    x = np.concatenate([10 ** rng.uniform(-8, 0, 60), rng.uniform(0, 30, 200),
                        10 ** rng.uniform(1, 2.5, 40), [9999.0, 10001.0, 3e4, 1e10],
                        [1.0, 1.0 + 1e-15, 5.0, 12.0, 25.0, 25.000000001, 1.3, 2.0, 4.0, 8.0,
                         20.0, 40.0, 40.0000001, 0.9999999]])
    if name == "airy_ai":  # both sides; the left one to -100 (its phase is exact to there)
        x = np.concatenate([x[x < 100], -x[x < 100], [-2.0, -2.0000001, 1.3000001]])
    return x


def _envelope(name, x, exact):
    """The scale an error is measured on: the value itself where the function does not
    oscillate, else the amplitude of the oscillation (Y's sqrt(2 / (pi x)), Ai's
    |x|^(-1/4) / sqrt(pi)), since near a zero only an absolute accuracy is meaningful."""
    if name.startswith("bessel_y"):
        return np.maximum(np.abs(exact), np.sqrt(2 / (np.pi * x)))
    if name == "airy_ai":
        left = np.where(x < 0, np.abs(x) ** -0.25 / np.sqrt(np.pi), 0.0)
        return np.maximum(np.abs(exact), left)
    return np.abs(exact)


@pytest.mark.parametrize("name", NAMES)
def test_values_within_a_few_ulps_of_mpmath(name):
    mpmath = pytest.importorskip("mpmath")
    x = _points(name)
    exact = _mp_reference(mpmath, name, x)
    got = getattr(S, name)(Tensor(x)).numpy()
    ok = np.abs(exact) > 1e-290
    err = np.abs(got[ok] - exact[ok]) / _envelope(name, x[ok], exact[ok])
    # Ai far left: zeta = 2/3 |x|^1.5 is itself rounded, a phase error of zeta ulps
    allowed = 10 * ULP * (np.maximum(1.0, np.abs(x[ok]) ** 1.5) if name == "airy_ai" else 1.0)
    worst = np.argmax(err / allowed)
    assert (err <= allowed).all(), (name, x[ok][worst], err[worst] / ULP)


@pytest.mark.parametrize("name", NAMES)
def test_values_match_torch(torch, name):
    # torch 2.13's K0/K1 are Cephes' Chebyshev fits: to a few ulps. Its Y0/Y1 and Ai are off by
    # up to ~5e-6 of the envelope (torch's Y1 at 21.7: 2.4e-6; its Ai at -100: 6e-6), so these
    # are compared to that much, and to mpmath tightly above
    x = _points(name)
    if name == "airy_ai":
        x = x[x > -30]
    got = getattr(S, name)(Tensor(x)).numpy()
    ref = getattr(torch.special, name)(torch.tensor(x)).numpy()
    scale = _envelope(name, x, ref)
    tol = 1e-14 if "_k" in name else 1e-5
    ok = np.abs(ref) > 1e-290
    np.testing.assert_array_less(np.abs(got[ok] - ref[ok]) / scale[ok], tol)


EDGES = np.array([0.0, -0.0, -1.0, 1e-300, 1e-10, 1e300, 800.0, np.inf, -np.inf, np.nan])


def test_y_far_right_against_mpmath():
    # Y(1e300): torch 2.13 gives -6.5258e-151 for both orders (its phase x - pi/4 rounds to x);
    # mpmath (400 digits) has Y0 = -1.368136045e-151, Y1 = 7.860673063e-151, as ours
    x = Tensor(np.array([1e300]))
    assert S.bessel_y0(x).item() == pytest.approx(-1.368136045e-151, rel=1e-9)
    assert S.bessel_y1(x).item() == pytest.approx(7.860673063e-151, rel=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_edges_are_torchs(torch, name):
    # Y and Ai are NaN at +inf (as torch's), K 0 there; -inf at 0 for Y, inf for K; NaN below 0
    x = EDGES if name != "airy_ai" else np.array([0.0, -0.0, 1e-300, 200.0, 1e300, np.inf,
                                                  -np.inf, np.nan, -1e300])
    if name.startswith("bessel_y"):
        x = x[x != 1e300]  # (torch's phase is wrong there: the test above)
    got = getattr(S, name)(Tensor(x)).numpy()
    ref = getattr(torch.special, name)(torch.tensor(x)).numpy()
    assert (np.isnan(got) == np.isnan(ref)).all(), (got, ref)
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=0, equal_nan=True)


@pytest.mark.parametrize("name", NAMES)
def test_dtypes_shapes_and_no_gradient(torch, name):
    fn = getattr(S, name)
    x32 = np.array([[0.5, 1.5, 3.0], [7.0, 20.0, 40.0]], np.float32)
    if name == "airy_ai":
        x32 = x32 - 3.0
    got = fn(Tensor(x32))
    ref = getattr(torch.special, name)(torch.tensor(x32)).numpy()
    assert got.dtype == np.float32 and got.shape == (2, 3)
    np.testing.assert_allclose(got.numpy(), ref, rtol=2e-6, atol=1e-6)
    assert fn(Tensor(np.array([1, 2]))).dtype == np.float32  # ints: float32, as torch
    assert fn(Tensor(np.array(2.0))).shape == ()
    assert fn(Tensor(np.zeros((0, 4)))).shape == (0, 4)
    out = fn(Tensor(np.array([1.0, 2.0]), requires_grad=True))
    assert not out.requires_grad  # as torch's: no gradient recorded
    with pytest.raises(TypeError, match="must be Tensor"):
        fn(1.0)
