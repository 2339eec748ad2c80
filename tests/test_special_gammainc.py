"""special.gammainc / gammaincc (tg.igamma, tg.igammac, Tensor.igamma/igammac) against mpmath
(values, to a few ulps), torch 2.13 (values, edges, dtypes, gradients, errors) and finite
differences; and Gamma.cdf / Chi2.cdf through them."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor
from tinygrad_norm import distributions as D
from tinygrad_norm import special as S
from tinygrad_norm import special_kernels_gamma as K

from conftest import torch_parity

ULP = 2.0 ** -52


def _cases(rng):
    """(a, x) pairs from every region: small a and x, the middle, near the transition a ~ x
    (Temme's expansion) and large a."""
    a1, x1 = 10 ** rng.uniform(-3, 1, 150), 10 ** rng.uniform(-3, 1.3, 150)
    a2, x2 = rng.uniform(1, 60, 150), rng.uniform(0.01, 100, 150)
    a3 = 10 ** rng.uniform(1.3, 4, 150)
    x3 = a3 * (1 + rng.normal(0, 1, 150) * 0.9 / np.sqrt(a3))
    a4 = 10 ** rng.uniform(2, 3.5, 60)
    x4 = a4 * rng.uniform(0.6, 1.4, 60)
    return np.concatenate([a1, a2, a3, a4]), np.abs(np.concatenate([x1, x2, x3, x4]))


def _mp_p_q(mpmath, a, x):
    """P and Q at 40 digits; the smaller one from its own integral (no cancellation)."""
    mpmath.mp.dps = 40
    p, q = [], []
    for ai, xi in zip(a, x):
        am, xm = mpmath.mpf(ai), mpmath.mpf(xi)
        upper = mpmath.gammainc(am, xm, mpmath.inf, regularized=True)
        if upper > 0.5:  # P small: its own series, (x^a e^-x / Gamma(a+1)) 1F1(1; a+1; x)
            lower = mpmath.exp(am * mpmath.log(xm) - xm - mpmath.loggamma(am + 1)) \
                * mpmath.hyp1f1(1, am + 1, xm)
        else:
            lower = 1 - upper
        p.append(float(lower))
        q.append(float(upper))
    return np.array(p), np.array(q)


@pytest.fixture(scope="module")
def reference():
    mpmath = pytest.importorskip("mpmath")
    a, x = _cases(np.random.default_rng(0))
    p, q = _mp_p_q(mpmath, a, x)
    return a, x, p, q


def test_values_within_a_few_ulps_of_mpmath(reference):
    # The error allowed grows with |log P|: x^a e^-x is an exponential of a number of that size,
    # so one rounding of that number is |log P| ulps of the result (torch's own, and SciPy's, are
    # far larger there: 1e-9 relative and worse). Near a ~ x < 10 the continued fraction and
    # the prefactor leave up to ~35 ulps, as torch's (31) and SciPy's (62) on the same points
    a, x, p, q = reference
    for ours, exact, what in ((K.gammainc(a, x), p, "P"), (K.gammaincc(a, x), q, "Q")):
        ok = exact > 1e-290
        err = np.abs(ours[ok] - exact[ok]) / exact[ok]
        allowed = 40 * ULP * np.maximum(1.0, np.abs(np.log(exact[ok])))
        worst = np.argmax(err / allowed)
        assert (err <= allowed).all(), (what, a[ok][worst], x[ok][worst], err[worst] / ULP)
        # and mostly to the last bit or two
        assert np.median(err) <= 2 * ULP, what


def test_values_match_torch(torch, reference):
    # torch 2.13's float64 igamma is itself off by up to ~2e-9 relative (it agrees with mpmath
    # only that far); below 1e-280 its prefactor underflows differently
    a, x, _, _ = reference
    for ours, theirs in ((S.gammainc, torch.special.gammainc),
                         (S.gammaincc, torch.special.gammaincc)):
        got = ours(Tensor(a), Tensor(x)).numpy()
        ref = theirs(torch.tensor(a), torch.tensor(x)).numpy()
        ok = ref > 1e-280
        np.testing.assert_allclose(got[ok], ref[ok], rtol=5e-9, atol=0)


def test_small_arguments_match_torch_tightly(torch):
    # where torch is accurate (a and x below ~20), to a few ulps
    rng = np.random.default_rng(1)
    a, x = rng.uniform(0.01, 15, 2000), rng.uniform(0.0, 15, 2000)
    for ours, theirs in ((S.gammainc, torch.special.gammainc),
                         (S.gammaincc, torch.special.gammaincc)):
        got = ours(Tensor(a), Tensor(x)).numpy()
        ref = theirs(torch.tensor(a), torch.tensor(x)).numpy()
        ok = ref > 1e-200
        np.testing.assert_allclose(got[ok], ref[ok], rtol=5e-13)


EDGE_A = [-1.0, 0.0, 0.0, 0.0, 1.0, 1.0, np.inf, np.inf, 1.0, np.nan, 2.0, 0.0, np.inf, 3.0,
          1e300, 0.5, 2.0]
EDGE_X = [1.0, 0.0, 1.0, -1.0, 0.0, np.inf, 1.0, np.inf, -0.0, 1.0, np.nan, np.inf, 0.0, -2.0,
          1e300, 1e300, 1e-300]


def test_edges_are_torchs(torch):
    a, x = np.array(EDGE_A), np.array(EDGE_X)
    for ours, theirs in ((S.gammainc, torch.special.gammainc),
                         (S.gammaincc, torch.special.gammaincc)):
        got = ours(Tensor(a), Tensor(x)).numpy()
        ref = theirs(torch.tensor(a), torch.tensor(x)).numpy()
        np.testing.assert_allclose(got, ref, rtol=1e-15, atol=0, equal_nan=True)
        assert (np.isnan(got) == np.isnan(ref)).all()


def test_tiny_input_against_mpmath(torch):
    # Q(a, x) ~ a (-log x - euler) for tiny a: torch 2.13 drops the euler (6.9078e-298 at
    # a = x = 1e-300, where mpmath has 6.9020e-298); ours keeps it
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    a = np.array([1e-300, 1e-200, 1e-20, 1e-8])
    x = np.array([1e-300, 0.5, 1e-3, 2.0])
    exact = np.array([float(mpmath.gammainc(mpmath.mpf(ai), mpmath.mpf(xi), mpmath.inf,
                                            regularized=True)) for ai, xi in zip(a, x)])
    np.testing.assert_allclose(S.gammaincc(Tensor(a), Tensor(x)).numpy(), exact, rtol=16 * ULP)
    p = S.gammainc(Tensor(a), Tensor(x)).numpy()
    assert (p <= 1.0).all()
    np.testing.assert_allclose(p, 1.0 - exact, rtol=ULP)


def test_float32_broadcast_empty_and_zero_d(torch):
    rng = np.random.default_rng(2)
    a, x = rng.uniform(0.1, 8, (3, 1)), rng.uniform(0, 10, (4,))
    for ours, theirs in ((S.gammainc, torch.special.gammainc),
                         (S.gammaincc, torch.special.gammaincc)):
        got = ours(Tensor(a.astype(np.float32)), Tensor(x.astype(np.float32)))
        ref = theirs(torch.tensor(a, dtype=torch.float32), torch.tensor(x, dtype=torch.float32))
        assert got.dtype == np.float32 and got.shape == tuple(ref.shape) == (3, 4)
        np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=2e-6, atol=1e-7)
        # float32 with float64: float64; int with float32: float32 (torch's promotion)
        assert ours(Tensor(a.astype(np.float32)), Tensor(x)).dtype == np.float64
        assert ours(Tensor(np.array([1, 2])), Tensor(np.array([1.0], np.float32))).dtype \
            == np.float32
        assert ours(Tensor(np.zeros((0, 3))), Tensor(np.ones(3))).shape == (0, 3)
        z = ours(Tensor(np.array(2.0)), Tensor(np.array(1.5)))
        assert z.shape == () and z.item() == pytest.approx(
            theirs(torch.tensor(2.0, dtype=torch.float64),
                   torch.tensor(1.5, dtype=torch.float64)).item(), rel=1e-14)


def test_gradient_to_other_matches_torch(torch):
    rng = np.random.default_rng(3)
    a, x = rng.uniform(0.3, 6, (3, 4)), rng.uniform(0.1, 9, (4,))
    for ours, theirs in ((S.gammainc, torch.special.gammainc),
                         (S.gammaincc, torch.special.gammaincc)):
        torch_parity(torch, ours, theirs, [a, x], np.float64, 1e-12, diff=[False, True])
        torch_parity(torch, ours, theirs, [a, x], np.float32, 2e-5, diff=[False, True])


def test_gradient_edges_are_torchs(torch):
    # x = 0: inf for a < 1, NaN for a = 1 (0 * log 0), 0 above; tiny x; as torch's formula
    # (and at x = inf: NaN but for a < 1, an infinite a, a NaN x)
    a = np.array([1.0, 0.5, 2.0, 3.0, 1.0, 2.0, 0.5, np.inf, 3.0])
    x = np.array([0.0, 0.0, 0.0, 1e-300, 2.0, np.inf, np.inf, 2.0, np.nan])
    for ours, theirs in ((S.gammainc, torch.special.gammainc),
                         (S.gammaincc, torch.special.gammaincc)):
        xt = Tensor(x.copy(), requires_grad=True)
        tx = torch.tensor(x, requires_grad=True)
        ours(Tensor(a), xt).backward(Tensor(np.ones(a.size)))
        theirs(torch.tensor(a), tx).backward(torch.ones(a.size, dtype=torch.float64))
        np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-14, equal_nan=True)


def test_first_and_second_derivatives_in_other():
    a = Tensor(np.array([0.7, 2.0, 5.5, 30.0]))
    x0 = [np.array([0.4, 1.3, 6.0, 29.0])]
    for fn in (S.gammainc, S.gammaincc):
        xs = [Tensor(v.copy(), requires_grad=True) for v in x0]
        assert tg.gradcheck(lambda x: fn(a, x), xs)
        assert tg.gradgradcheck(lambda x: fn(a, x), xs)


def test_no_derivative_in_input_as_torch(torch):
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    x = Tensor(np.array([0.5, 3.0]))
    for fn, name in ((S.gammainc, "igamma"), (S.gammaincc, "igammac")):
        with pytest.raises(NotImplementedError, match=f"derivative for '{name}: input' is not "
                                                      "implemented"):
            fn(a, x).sum().backward()
        with pytest.raises(RuntimeError):  # (NotImplementedError is one, as torch's)
            fn(a, x).sum().backward()
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="derivative for 'igamma: input'"):
        torch.special.gammainc(t, torch.tensor([0.5, 3.0])).sum().backward()


def test_errors_as_torch():
    t = Tensor(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="argument 'input' must be Tensor, not float"):
        S.gammainc(2.0, t)
    with pytest.raises(TypeError, match="argument 'other' must be Tensor, not float"):
        S.gammaincc(t, 1.0)
    with pytest.raises(TypeError, match="\"igamma_cpu\" not implemented for 'Long'"):
        S.gammainc(Tensor(np.array([1, 2])), Tensor(np.array([1, 2])))
    with pytest.raises(TypeError, match="\"igamma_cpu\" not implemented for 'Bool'"):
        tg.igamma(Tensor(np.array([True])), Tensor(np.array([True])))
    with pytest.raises(ValueError, match=r"special_gammainc\(\): operands of shapes \(2,\) and "
                                         r"\(3,\) cannot be broadcast"):
        S.gammainc(Tensor(np.ones(2)), Tensor(np.ones(3)))


def test_top_level_and_methods(torch):
    a, x = np.array([0.5, 2.0, 7.0]), np.array([1.0, 2.5, 3.0])
    ref_p = torch.igamma(torch.tensor(a), torch.tensor(x)).numpy()
    ref_q = torch.tensor(a).igammac(torch.tensor(x)).numpy()
    np.testing.assert_allclose(tg.igamma(Tensor(a), Tensor(x)).numpy(), ref_p, rtol=1e-14)
    np.testing.assert_allclose(tg.igammac(Tensor(a), Tensor(x)).numpy(), ref_q, rtol=1e-14)
    np.testing.assert_allclose(Tensor(a).igamma(Tensor(x)).numpy(), ref_p, rtol=1e-14)
    np.testing.assert_allclose(Tensor(a).igammac(Tensor(x)).numpy(), ref_q, rtol=1e-14)


def test_temme_coefficients_are_the_known_ones():
    # DiDonato and Morris's table (as in Cephes/SciPy): d[0][:3], d[1][0], d[2][0]
    assert K._D[0][:3] == pytest.approx([-1 / 3, 1 / 12, -2 / 135], rel=1e-15)
    assert K._D[1][0] == pytest.approx(-1.8518518518518519e-03, rel=1e-14)
    assert K._D[2][0] == pytest.approx(4.1335978835978836e-03, rel=1e-14)


# ---- Gamma.cdf and Chi2.cdf ---------------------------------------------------------------------

def test_gamma_and_chi2_cdf_match_torch(torch):
    rng = np.random.default_rng(4)
    conc, rate = rng.uniform(0.3, 5, (2, 3)), rng.uniform(0.2, 3, (3,))
    value = rng.uniform(0.01, 6, (4, 2, 3))
    torch_parity(torch, lambda r, v: D.Gamma(Tensor(conc), r).cdf(v),
                 lambda r, v: torch.distributions.Gamma(torch.tensor(conc), r).cdf(v),
                 [rate, value], np.float64, 1e-12)
    torch_parity(torch, lambda v: D.Chi2(Tensor(conc)).cdf(v),
                 lambda v: torch.distributions.Chi2(torch.tensor(conc)).cdf(v),
                 [value], np.float64, 1e-12)
    torch_parity(torch, lambda v: D.Chi2(Tensor(conc.astype(np.float32))).cdf(v),
                 lambda v: torch.distributions.Chi2(torch.tensor(conc, dtype=torch.float32))
                 .cdf(v), [value], np.float32, 2e-5)


def test_gamma_cdf_validates_and_refuses_concentration_gradient():
    g = D.Gamma(Tensor(np.array(2.0)), Tensor(np.array(1.0)), validate_args=True)
    with pytest.raises(ValueError, match="within the support"):
        g.cdf(Tensor(np.array(-1.0)))
    c = Tensor(np.array([2.0]), requires_grad=True)
    with pytest.raises(NotImplementedError, match="igamma: input"):
        D.Gamma(c, Tensor(np.array([1.0]))).cdf(Tensor(np.array([1.5]))).sum().backward()
