"""The faster special-function paths (numspeed): Y0/Y1's one Miller recurrence over per-band
start orders, grouped by route and run in chunks; erfinv/ndtri's fitted start and single Halley
step; the orthogonal polynomials' recurrence over elements sorted by degree (its NaN exit, its
16-bit and wide-degree sorts). Against mpmath (ulps), torch 2.13 (values) and against the same
function on pieces of the input (no dependence on what else is in the array)."""
from __future__ import annotations

import numpy as np
import pytest

from tinygrad_norm import Tensor
from tinygrad_norm import special as S
from tinygrad_norm import special_kernels as K
from tinygrad_norm import special_kernels_bessel as KB
from tinygrad_norm import special_kernels_poly as KP

ULP = 2.0 ** -52


# ---- Y0, Y1 --------------------------------------------------------------------------------------

def _edges():
    """Every band edge of the Miller route, a hair below and above it."""
    e = np.array([1.0] + [hi for hi, _ in KB._Y_BANDS])
    return np.concatenate([e, np.nextafter(e, 0), np.nextafter(e, 30), e - 1e-9, e + 1e-9])


def test_y_at_every_band_edge_within_ten_ulps_of_mpmath():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    x = _edges()
    for order, fn in ((0, KB.bessel_y0), (1, KB.bessel_y1)):
        exact = np.array([float(mpmath.bessely(order, mpmath.mpf(v))) for v in x])
        envelope = np.maximum(np.abs(exact), np.sqrt(2 / (np.pi * x)))
        err = np.abs(fn(x) - exact) / envelope
        assert err.max() <= 10 * ULP, (order, x[np.argmax(err)], err.max() / ULP)


def test_y_band_starts_leave_no_truncation_error():
    # in 80-bit floats (rounding far below float64's ulp) a start 40 orders deeper changes the
    # values by < 0.05 ulp: the bands' starts are deep enough
    if np.finfo(np.longdouble).eps > 1e-18:
        pytest.skip("no extended precision here")
    x = np.linspace(1.0, 25.0, 4001)[1:].astype(np.longdouble)
    tops = KB._Y_TOPS[np.searchsorted(KB._Y_EDGES, x.astype(np.float64))]
    order = np.argsort(-tops, kind="stable")
    shallow = np.stack(KB._y_miller(x[order], tops[order]))
    deep = np.stack(KB._y_miller(x[order], tops[order] + 40))
    envelope = np.sqrt(2 / (np.pi * x[order]))
    assert float((np.abs(shallow - deep) / envelope).max()) <= 0.05 * ULP


def test_y_of_a_large_mixed_array_equals_y_of_its_pieces():
    # grouping by route, the per-element starts and the chunks must not couple elements
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(0, 30, 150_000), _edges(), [0.0, -1.0, np.nan, np.inf,
                                                                5e-324, 1e300]])
    x = x[rng.permutation(x.size)].reshape(2, -1)
    y0, y1 = KB.bessel_y0(x), KB.bessel_y1(x)
    for part in np.array_split(np.arange(x.shape[1]), 7):
        np.testing.assert_array_equal(y0[:, part], KB.bessel_y0(x[:, part]))
        np.testing.assert_array_equal(y1[:, part], KB.bessel_y1(x[:, part]))
    one = np.array([KB.bessel_y0(np.array(v)) for v in x[0, :50]])
    np.testing.assert_array_equal(one, y0[0, :50])


def test_y_edges_as_torch(torch):
    x = np.array([0.0, -0.0, -2.0, np.nan, np.inf, 1e-320, 1.0, 25.0, 25.5, 1e6])
    for name in ("bessel_y0", "bessel_y1"):
        got = getattr(S, name)(Tensor(x)).numpy()
        ref = getattr(torch.special, name)(torch.tensor(x)).numpy()
        assert np.array_equal(np.isnan(got), np.isnan(ref))
        np.testing.assert_allclose(got, ref, rtol=1e-9, atol=0, equal_nan=True)  # Cephes: ~1e-10


# ---- erfinv, ndtri -------------------------------------------------------------------------------

def test_erfcinv_fitted_start_is_within_1e_9_of_the_reference():
    c = np.concatenate([np.exp(-np.linspace(1.386, 744.0, 20000)), [0.25, 5e-324, 1e-310]])
    mid, scale, coef = K._erfcinv_start_fit()
    t = np.sqrt(-np.log(c))
    start = np.polyval(coef, (np.log(t) - mid) * scale) * t
    with np.errstate(all="ignore"):
        ref = K._erfcinv_reference(c)
    assert (np.abs(start - ref) / ref).max() < 1e-9


def test_erfinv_ndtri_tails_within_two_ulps_of_mpmath_at_the_fit_ends():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    y = np.array([0.75, np.nextafter(0.75, 1), 0.8, 0.99, 1 - 2 ** -52, 1 - 2 ** -53, -0.9999])
    exact = np.array([float(mpmath.erfinv(mpmath.mpf(v))) for v in y])
    assert (np.abs(K.erfinv(y) - exact) / np.abs(exact)).max() <= 2 * ULP
    p = np.array([5e-324, 1e-320, 1e-308, 1e-300, 1e-100, 0.1249, 1 - 0.1249])

    def exact_ndtri(v):
        q = min(v, 1 - v)
        t = mpmath.findroot(lambda t: mpmath.log(mpmath.erfc(t)) - mpmath.log(2 * mpmath.mpf(q)),
                            mpmath.sqrt(-mpmath.log(2 * mpmath.mpf(q))))
        return float(mpmath.sqrt(2) * t) * (1 if v > 0.5 else -1)
    ref = np.array([exact_ndtri(v) for v in p])
    assert (np.abs(K.ndtri(p) - ref) / np.abs(ref)).max() <= 2 * ULP


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf - inf in the loss at y = +-1
def test_erfinv_ndtri_values_and_gradients_as_torch(torch):
    rng = np.random.default_rng(1)
    for name, x in (("erfinv", np.concatenate([rng.uniform(-1, 1, 500), [1.0, -1.0, 1.5, 0.0]])),
                    ("ndtri", np.concatenate([rng.uniform(0, 1, 500), [0.0, 1.0, -0.1, 1e-300]]))):
        g = rng.standard_normal(x.shape)
        t, tt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, ref = getattr(S, name)(t), getattr(torch.special, name)(tt)
        (out * Tensor(g)).sum().backward()
        (ref * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-13, atol=0)
        ok = np.isfinite(tt.grad.numpy())
        np.testing.assert_allclose(t.grad.numpy()[ok], tt.grad.numpy()[ok], rtol=1e-12)


# ---- orthogonal polynomials --------------------------------------------------------------------

POLYS = ["legendre_polynomial_p", "hermite_polynomial_h", "hermite_polynomial_he",
         "laguerre_polynomial_l", "chebyshev_polynomial_t", "chebyshev_polynomial_u",
         "shifted_chebyshev_polynomial_v"]


@pytest.mark.parametrize("name", POLYS)
def test_polynomials_with_mixed_degrees_as_torch(torch, name):
    rng = np.random.default_rng(POLYS.index(name))
    x = np.concatenate([rng.uniform(-1.2, 1.2, 3000), [0.5, 2.0, -3.0, 0.0, 1.0, -1.0]])
    n = np.concatenate([rng.integers(-3, 40, 3000).astype(np.float64), [7.0, 300.0, 250.0,
                                                                       5.0, 9.0, 12.0]])
    got = getattr(S, name)(Tensor(x), Tensor(n)).numpy()
    ref = getattr(torch.special, name)(torch.tensor(x), torch.tensor(n)).numpy()
    assert np.array_equal(np.isnan(got), np.isnan(ref))
    scale = np.maximum(1.0, np.abs(ref))
    ok = np.isfinite(ref)
    assert (np.abs(got[ok] - ref[ok]) / scale[ok]).max() <= 1e-11
    np.testing.assert_array_equal(got[~ok], ref[~ok])


def test_polynomial_recurrence_stops_once_all_running_are_nan_and_keeps_finite_ones():
    # x = 3: overflow to inf, then inf - inf = NaN long before degree 10^7 (stops early); the
    # finite element of degree 300 among them is still right
    x, n = np.array([3.0, -2.5, 0.3]), np.array([1e7, 2e6, 300.0])
    got = KP.legendre_p(x, n)
    assert np.isnan(got[:2]).all()
    assert got[2] == pytest.approx(KP.legendre_p(np.array([0.3]), np.array([300.0]))[0], rel=0)


def test_polynomial_degrees_past_16_bits_sort_by_the_wide_path(torch):
    x = np.array([0.3, -0.7, 0.99, 0.1])
    n = np.array([40000.0, 33000.0, 5.0, 70000.0])
    got = KP.legendre_p(x, n)
    ref = torch.special.legendre_polynomial_p(torch.tensor(x), torch.tensor(n)).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)
