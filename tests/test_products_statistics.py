"""torch's products (products.py) and order statistics (statistics.py), composites of existing
Tensor ops: values, dtypes and gradients under a random upstream gradient against torch 2.13
(float64 tight, float32 loose), finite differences, and torch's errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import tinygrad_norm as tg

RNG = np.random.default_rng(0)


def R(*shape):
    return RNG.standard_normal(shape)


def _compare(f_tg, f_torch, *arrays, grad=True, rtol=1e-10, atol=1e-12, indices=False):
    """f_tg and f_torch on copies of ``arrays``: same dtype, shape, values; then, for float
    inputs, the same gradients under one random upstream gradient (never .sum())."""
    needs = [grad and a.dtype.kind == "f" for a in arrays]
    ts = [torch.tensor(a, requires_grad=n) for a, n in zip(arrays, needs)]
    gs = [tg.tensor(a, requires_grad=n) for a, n in zip(arrays, needs)]
    rt, rg = f_torch(*ts), f_tg(*gs)
    if indices:
        np.testing.assert_array_equal(rg.indices.data, rt.indices.numpy())
        assert rg.indices.data.dtype == np.int64
        rt, rg = rt.values, rg.values
    assert str(rg.data.dtype) == str(rt.dtype).replace("torch.", "")
    assert rg.shape == tuple(rt.shape)
    np.testing.assert_allclose(rg.data, rt.detach().numpy(), rtol=rtol, atol=atol)
    if rt.requires_grad and rt.numel():
        u = RNG.standard_normal(tuple(rt.shape))
        rt.backward(torch.tensor(u, dtype=rt.dtype))
        rg.backward(tg.tensor(u.astype(rg.data.dtype)))
        for g, t in zip(gs, ts):
            if t.requires_grad:
                np.testing.assert_allclose(g.grad.data, t.grad.numpy(), rtol=rtol * 10,
                                           atol=atol)


def _torch_vander(x, N=None, increasing=False):
    """torch.vander's values with a gradient (torch's own backward fails: an in-place cumprod)."""
    n = len(x) if N is None else N
    ks = range(n) if increasing else range(n - 1, -1, -1)
    return torch.stack([x ** k for k in ks], 1)


FW, AW = RNG.integers(0, 4, 6), RNG.random(6)
RN = R(3, 4)
RN[1] *= 0.1  # one row inside maxnorm, kept as it is
PRODUCTS = {
    "addmm": (lambda c, a, b: tg.addmm(c, a, b, beta=0.5, alpha=2),
              lambda c, a, b: torch.addmm(c, a, b, beta=0.5, alpha=2), (R(3), R(2, 4), R(4, 3))),
    "addmm_beta0_nan": (lambda c, a, b: tg.addmm(c, a, b, beta=0),
                        lambda c, a, b: torch.addmm(c, a, b, beta=0),
                        (np.full((2, 3), np.nan), R(2, 4), R(4, 3))),
    "addmv": (lambda c, a, b: tg.addmv(c, a, b, beta=2, alpha=3),
              lambda c, a, b: torch.addmv(c, a, b, beta=2, alpha=3), (R(1), R(2, 4), R(4))),
    "addr": (lambda c, a, b: tg.addr(c, a, b, beta=2, alpha=3),
             lambda c, a, b: torch.addr(c, a, b, beta=2, alpha=3), (R(2, 3), R(2), R(3))),
    "addbmm": (lambda c, a, b: tg.addbmm(c, a, b, alpha=3),
               lambda c, a, b: torch.addbmm(c, a, b, alpha=3), (R(2, 3), R(5, 2, 4), R(5, 4, 3))),
    "mv": (tg.mv, torch.mv, (R(2, 3), R(3))),
    "inner": (tg.inner, torch.inner, (R(2, 5, 3), R(4, 3))),
    "inner_0d": (tg.inner, torch.inner, (R(), R(4, 3))),
    "kron": (tg.kron, torch.kron, (R(2, 3), R(4, 1, 2))),
    "kron_1d": (tg.kron, torch.kron, (R(2), R(3))),
    "kron_int": (tg.kron, torch.kron, (np.arange(4).reshape(2, 2), np.arange(3))),
    "chain_matmul": (tg.chain_matmul, torch.chain_matmul, (R(2, 3), R(3, 4), R(4, 2))),
    "vdot": (tg.vdot, torch.vdot, (R(4), R(4))),
    "dot": (tg.dot, torch.dot, (R(4), R(4))),
    "cov": (tg.cov, torch.cov, (R(3, 6),)),
    "cov_1d": (tg.cov, torch.cov, (R(6),)),
    "cov_int": (tg.cov, torch.cov, (np.arange(6).reshape(2, 3),)),
    "cov_correction0": (lambda x: tg.cov(x, correction=0), lambda x: torch.cov(x, correction=0),
                        (R(3, 6),)),
    "cov_weights": (lambda x, a: tg.cov(x, fweights=tg.tensor(FW), aweights=a, correction=2),
                    lambda x, a: torch.cov(x, fweights=torch.tensor(FW), aweights=a,
                                           correction=2), (R(3, 6), AW)),
    "cov_fweights": (lambda x: tg.cov(x, fweights=tg.tensor(FW)),
                     lambda x: torch.cov(x, fweights=torch.tensor(FW)), (R(3, 6),)),
    "corrcoef": (tg.corrcoef, torch.corrcoef, (R(3, 6),)),
    "corrcoef_1d": (tg.corrcoef, torch.corrcoef, (R(6),)),
    "vander": (tg.vander, _torch_vander, (R(4),)),
    "vander_N_increasing": (lambda x: tg.vander(x, N=6, increasing=True),
                            lambda x: _torch_vander(x, 6, True), (R(4),)),
    "vander_int": (tg.vander, torch.vander, (np.arange(4),)),
    "vander_N0": (lambda x: tg.vander(x, N=0), lambda x: torch.vander(x, N=0), (R(4),)),
    "vander_N1": (lambda x: tg.vander(x, N=1), lambda x: torch.vander(x, N=1), (R(4),)),
    "trapezoid": (tg.trapezoid, torch.trapezoid, (R(3, 5),)),
    "trapezoid_dx": (lambda y: tg.trapezoid(y, dx=0.3, dim=0),
                     lambda y: torch.trapezoid(y, dx=0.3, dim=0), (R(3, 5),)),
    "trapezoid_x": (tg.trapezoid, torch.trapezoid, (R(3, 5), R(5))),
    "trapezoid_x_broadcast": (lambda y, x: tg.trapezoid(y, x, dim=0),
                              lambda y, x: torch.trapezoid(y, x, dim=0), (R(3, 5), R(3, 1))),
    "trapz": (tg.trapz, torch.trapz, (R(3, 5),)),
    "trapezoid_one_sample": (tg.trapezoid, torch.trapezoid, (R(3, 1),)),
    "trapezoid_empty": (tg.trapezoid, torch.trapezoid, (R(2, 0),)),
    "trapezoid_int": (tg.trapezoid, torch.trapezoid, (np.arange(6).reshape(2, 3),)),
    "cumulative_trapezoid": (tg.cumulative_trapezoid, torch.cumulative_trapezoid, (R(3, 5),)),
    "cumulative_trapezoid_x": (tg.cumulative_trapezoid, torch.cumulative_trapezoid,
                               (R(3, 5), R(5))),
    "cumulative_trapezoid_dx": (lambda y: tg.cumulative_trapezoid(y, dx=2.0, dim=0),
                                lambda y: torch.cumulative_trapezoid(y, dx=2.0, dim=0),
                                (R(3, 5),)),
    "cumulative_trapezoid_one": (tg.cumulative_trapezoid, torch.cumulative_trapezoid,
                                 (R(3, 1),)),
    "diagflat": (lambda x: tg.diagflat(x, -1), lambda x: torch.diagflat(x, -1), (R(2, 2),)),
    "diagflat_int": (lambda x: tg.diagflat(x, 1), lambda x: torch.diagflat(x, 1),
                     (np.arange(4).reshape(2, 2),)),
    "renorm_2": (lambda x: tg.renorm(x, 2, 0, 1.0), lambda x: torch.renorm(x, 2, 0, 1.0), (RN,)),
    "renorm_1": (lambda x: tg.renorm(x, 1, 1, 1.0), lambda x: torch.renorm(x, 1, 1, 1.0), (RN,)),
    "renorm_inf": (lambda x: tg.renorm(x, float("inf"), 1, 0.5),
                   lambda x: torch.renorm(x, float("inf"), 1, 0.5), (RN,)),
    "renorm_3d": (lambda x: tg.renorm(x, 3, -1, 0.8), lambda x: torch.renorm(x, 3, -1, 0.8),
                  (R(2, 3, 4),)),
}


@pytest.mark.parametrize("name", list(PRODUCTS))
@pytest.mark.filterwarnings("ignore:torch.chain_matmul is deprecated")
def test_products_match_torch_float64(name):
    f_tg, f_torch, arrays = PRODUCTS[name]
    _compare(f_tg, f_torch, *arrays)


@pytest.mark.parametrize("name", ["addmm", "addbmm", "inner", "kron", "cov_weights", "corrcoef",
                                  "trapezoid_x", "cumulative_trapezoid", "renorm_2", "vander"])
def test_products_match_torch_float32(name):
    f_tg, f_torch, arrays = PRODUCTS[name]
    _compare(f_tg, f_torch, *[a.astype(np.float32) for a in arrays], rtol=2e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["addmm", "addr", "kron", "cov_weights", "corrcoef",
                                  "trapezoid_x", "renorm_2", "renorm_inf", "vander"])
def test_products_finite_differences(name):
    f_tg, _, arrays = PRODUCTS[name]
    inputs = [tg.tensor(a, requires_grad=True) for a in arrays]
    assert tg.gradcheck(f_tg, inputs)
    if name not in ("renorm_inf",):  # amax: a piecewise-linear second derivative
        assert tg.gradgradcheck(f_tg, inputs)


def test_addmm_beta0_input_gradient_is_zero():
    c = tg.tensor(np.full((2, 3), np.nan), requires_grad=True)
    out = tg.addmm(c, tg.tensor(R(2, 4)), tg.tensor(R(4, 3)), beta=0)
    assert not np.isnan(out.data).any()
    out.backward(tg.tensor(R(2, 3)))
    np.testing.assert_array_equal(c.grad.data, np.zeros((2, 3)))


def test_cov_degrees_of_freedom_warn_as_torch():
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        out = tg.cov(tg.tensor(np.ones((2, 1))))
    with pytest.warns(UserWarning):
        want = torch.cov(torch.ones(2, 1, dtype=torch.float64))
    np.testing.assert_array_equal(np.isnan(out.data), np.isnan(want.numpy()))


def _z(*shape, dtype=np.float32):
    return tg.tensor(np.zeros(shape, dtype))


PRODUCT_ERRORS = [
    (lambda: tg.addmm(_z(2, 2), _z(2), _z(2, 2)), ValueError, "mat1 must be a matrix, got 1-D"),
    (lambda: tg.addmm(_z(2, 2), _z(2, 3), _z(2, 2)), ValueError,
     r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x2\)"),
    (lambda: tg.addmm(_z(3, 2), _z(2, 3), _z(3, 2)), ValueError, "expanded size"),
    (lambda: tg.addmv(_z(2), _z(2, 3), _z(2)), ValueError,
     r"size mismatch, got input \(2\), mat \(2x3\), vec \(2\)"),
    (lambda: tg.mv(_z(2), _z(2)), ValueError, "vector \\+ matrix @ vector expected, got 1, 1"),
    (lambda: tg.addr(_z(2, 2), _z(2, 1), _z(2)), ValueError,
     "addr: Expected 1-D argument vec1, but got 2-D"),
    (lambda: tg.addbmm(_z(2, 2), _z(3, 2, 4), _z(3, 5, 2)), ValueError,
     r"Incompatible matrix sizes for bmm \(2x4 and 5x2\)"),
    (lambda: tg.inner(_z(2, 3), _z(2)), ValueError,
     r"inner\(\) the last dimension must match on both input tensors but got shapes \[2, 3\]"),
    (lambda: tg.chain_matmul(), ValueError, "Expected one or more matrices"),
    (lambda: tg.chain_matmul(_z(2)), ValueError, "Tensor dimension is 1, expected 2 instead."),
    (lambda: tg.chain_matmul(_z(2, 2), _z(3, 2)), ValueError, "tensors 0 and 1 with shapes"),
    (lambda: tg.vdot(_z(2), _z(3)), ValueError, "inconsistent tensor size"),
    (lambda: tg.dot(_z(2), _z(2, dtype=np.float64)), TypeError,
     "expected both vectors to have same dtype"),
    (lambda: tg.dot(_z(2, 2), _z(2)), ValueError, "1D tensors expected, but got 2D and 1D"),
    (lambda: tg.cov(_z(2, 2, 2)), ValueError, "two or fewer dimensions but got an input with 3"),
    (lambda: tg.cov(_z(2, 3), fweights=tg.tensor([1., 2, 3])), TypeError,
     "expected fweights to have integral dtype"),
    (lambda: tg.cov(_z(2, 3), fweights=tg.tensor([1, 2])), ValueError, "got 2 != 3"),
    (lambda: tg.cov(_z(2, 3), fweights=tg.tensor([1, -2, 3])), ValueError,
     "fweights cannot be negative"),
    (lambda: tg.cov(_z(2, 3), aweights=tg.tensor([1, -2, 3.])), ValueError,
     "aweights cannot be negative"),
    (lambda: tg.cov(_z(2, 3), aweights=tg.tensor([1, 2, 3])), TypeError,
     "expected aweights to have floating point dtype"),
    (lambda: tg.cov(_z(2, 3), fweights=tg.tensor([[1, 2, 3]])), ValueError,
     "expected fweights to have one or fewer dimensions"),
    (lambda: tg.vander(_z(2, 2)), ValueError, "x must be a one-dimensional tensor."),
    (lambda: tg.vander(_z(3), N=-1), ValueError, "N must be non-negative."),
    (lambda: tg.trapezoid(_z(2, 3), _z(2)), ValueError,
     "There must be one `x` value for each sample point"),
    (lambda: tg.trapezoid(_z(2, 3), _z(3), dx=2), TypeError, "invalid combination"),
    (lambda: tg.renorm(_z(2, 3), -1, 0, 1), ValueError, "non-positive-norm not supported"),
    (lambda: tg.renorm(_z(2, 3), 1, 0, -1), ValueError, "expected maxnorm to be >= 0 but got -1"),
    (lambda: tg.renorm(_z(3), 1, 0, 1), ValueError, "input needs at least 2 dimensions, got 1"),
    (lambda: tg.renorm(tg.tensor([[1, 2]]), 1, 0, 1), TypeError,
     "Expected a floating point or complex tensor"),
    (lambda: tg.addmm(_z(2, 2), _z(2, 2), _z(2, 2), beta="1"), TypeError, "beta must be a real"),
]


@pytest.mark.parametrize("i", range(len(PRODUCT_ERRORS)))
def test_product_errors_in_torch_words(i):
    call, kind, words = PRODUCT_ERRORS[i]
    with pytest.raises(kind, match=words):
        call()


# ---- statistics -----------------------------------------------------------------------------

A = R(3, 4, 5)
B = A.copy()
B[0, 1, 2], B[1, :, 3], B[2, 2, :] = np.nan, np.nan, np.nan  # one NaN, a NaN column, all NaN
INTERPOLATIONS = ["linear", "lower", "higher", "midpoint", "nearest"]
QS = [0.3, np.array([0.0, 0.25, 0.5, 0.9, 1.0])]


def _q(q, lib):
    return q if isinstance(q, float) else lib.tensor(q)


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("qi", range(len(QS)))
@pytest.mark.parametrize("dim,keepdim", [(None, False), (None, True), (1, False), (-1, True),
                                         (0, False)])
def test_quantile_matches_torch(interpolation, qi, dim, keepdim):
    q = QS[qi]
    _compare(lambda x: tg.quantile(x, _q(q, tg), dim, keepdim, interpolation=interpolation),
             lambda x: torch.quantile(x, _q(q, torch), dim, keepdim,
                                      interpolation=interpolation), A)


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_quantile_and_nanquantile_with_nan(interpolation):
    q = np.array([0.1, 0.5, 0.7])
    _compare(lambda x: tg.nanquantile(x, tg.tensor(q), -1, interpolation=interpolation),
             lambda x: torch.nanquantile(x, torch.tensor(q), -1, interpolation=interpolation), B)
    _compare(lambda x: tg.quantile(x, 0.4, 1, interpolation=interpolation),
             lambda x: torch.quantile(x, 0.4, 1, interpolation=interpolation), B)
    _compare(lambda x: x.nanquantile(0.4, interpolation=interpolation),
             lambda x: x.nanquantile(0.4, interpolation=interpolation), B)


def test_quantile_float32_and_finite_differences():
    a32 = A.astype(np.float32)
    for interpolation in INTERPOLATIONS:
        _compare(lambda x: tg.quantile(x, 0.37, 1, interpolation=interpolation),
                 lambda x: torch.quantile(x, 0.37, 1, interpolation=interpolation), a32,
                 rtol=1e-6, atol=1e-6)
    _compare(lambda x: tg.nanmedian(x, 2), lambda x: torch.nanmedian(x, 2),
             B.astype(np.float32)[:2, :2], indices=True, rtol=1e-6, atol=1e-6)
    x = tg.tensor(A, requires_grad=True)
    assert tg.gradcheck(lambda t: tg.quantile(t, tg.tensor(QS[1]), 2), [x])
    assert tg.gradgradcheck(lambda t: tg.quantile(t, 0.3, 0), [x])


def test_nanmedian_and_mode_match_torch():
    _compare(tg.nanmedian, torch.nanmedian, B)
    _compare(tg.nanmedian, torch.nanmedian, np.array([1., 3, 1, 3, np.nan]))  # a tie shares
    _compare(tg.nanmedian, torch.nanmedian, np.array([np.nan, np.nan]))
    # indices of all-NaN slices are left out: torch's come from a partial sort's order of NaNs
    # (0 for some lengths, 2 for others); here the first NaN's (the values are NaN in both)
    c = A.copy()
    c[0, 1, 2], c[1, 2, 3], c[2, 0, 0], c[2, 3, 0] = np.nan, np.nan, np.nan, np.nan
    _compare(lambda x: tg.nanmedian(x, 1), lambda x: torch.nanmedian(x, 1), c, indices=True)
    _compare(lambda x: x.nanmedian(2, True), lambda x: x.nanmedian(2, True), c, indices=True)
    _compare(lambda x: tg.nanmedian(x, 1).values, lambda x: torch.nanmedian(x, 1).values, B,
             grad=False)
    _compare(lambda x: tg.nanmedian(x, 0), lambda x: torch.nanmedian(x, 0),
             np.array([1., 3, 1, 3]), indices=True)  # ties: torch's index
    counts = RNG.integers(0, 3, (4, 6)).astype(np.float64)
    _compare(tg.mode, torch.mode, counts, indices=True)
    _compare(lambda x: x.mode(0, True), lambda x: x.mode(0, True), counts, indices=True)
    _compare(tg.mode, torch.mode, np.array([[1., 2, 2, 1, 3], [5, 5, 4, 4, 4]]), indices=True)
    _compare(tg.mode, torch.mode, np.array([1, 2, 2, 1]), indices=True)
    _compare(tg.mode, torch.mode, np.array(3.0), indices=True)
    _compare(tg.msort, torch.msort, A)
    _compare(lambda x: x.msort(), lambda x: x.msort(), np.array([[3, 1], [2, 5]]))


def test_mode_and_nanmedian_results_are_named():
    r = tg.mode(tg.tensor([1., 1, 2]))
    assert type(r).__name__ == "mode" and r._fields == ("values", "indices")
    r = tg.nanmedian(tg.tensor([[1., 1, 2]]), 1)
    assert type(r).__name__ == "nanmedian" and r._fields == ("values", "indices")


STAT_ERRORS = [
    (lambda: tg.quantile(_z(3), 1.5), ValueError, r"q must be in the range \[0, 1\] but got 1.5"),
    (lambda: tg.quantile(_z(3), tg.tensor([0.5, 2.0])), ValueError,
     r"q values must be in the range \[0, 1\]"),
    (lambda: tg.quantile(_z(3), _z(2, 2)), ValueError, "q must be a scalar or 1D tensor"),
    (lambda: tg.quantile(tg.tensor([1, 2]), 0.5), TypeError,
     "input tensor must be either float or double dtype"),
    (lambda: tg.quantile(_z(3), _z(2, dtype=np.float64)), TypeError,
     "q tensor must be same dtype as the input tensor"),
    (lambda: tg.quantile(_z(3), 0.5, interpolation="x"), ValueError,
     "interpolation must be one of linear, lower, higher, midpoint or nearest, but got x"),
    (lambda: tg.nanquantile(_z(0), 0.5), ValueError, "input tensor must be non-empty"),
    (lambda: tg.mode(_z(0)), IndexError, "Expected reduction dim 0 to have non-zero size"),
    (lambda: tg.nanmedian(_z(2, 0), 1), IndexError, "Expected reduction dim 1 to have non-zero"),
]


@pytest.mark.parametrize("i", range(len(STAT_ERRORS)))
def test_statistics_errors_in_torch_words(i):
    call, kind, words = STAT_ERRORS[i]
    with pytest.raises(kind, match=words):
        call()


METHODS = ["addmm", "addmv", "addr", "addbmm", "mv", "inner", "kron", "vdot", "dot", "cov",
           "corrcoef", "diagflat", "renorm", "quantile", "nanquantile", "nanmedian", "mode",
           "msort"]


@pytest.mark.parametrize("name", METHODS)
def test_tensor_methods_where_torch_has_them(name):
    assert hasattr(torch.Tensor, name) and hasattr(tg.Tensor, name)


def test_tensor_methods_delegate():
    x, m = tg.tensor(R(3, 4)), tg.tensor(R(4, 2))
    np.testing.assert_allclose(tg.tensor(R(3, 2)).addmm(x, m, beta=0).data, (x @ m).data)
    np.testing.assert_allclose(x.cov(correction=0).data, tg.cov(x, correction=0).data)
    np.testing.assert_allclose(x.quantile(0.5, 1).data, tg.quantile(x, 0.5, 1).data)
    np.testing.assert_allclose(x.renorm(2, 0, 0.5).data, tg.renorm(x, 2, 0, 0.5).data)


Z = np.zeros
EDGES = {  # empty inputs, 0-d inputs, integer and mixed dtypes: torch's result or torch's refusal
    "addmm_empty_inner": (tg.addmm, torch.addmm, (Z((2, 3)), Z((2, 0)), Z((0, 3)))),
    "addmm_empty_rows": (tg.addmm, torch.addmm, (Z((0, 3)), Z((0, 2)), Z((2, 3)))),
    "inner_empty": (tg.inner, torch.inner, (Z((2, 0)), Z((3, 0)))),
    "kron_empty": (tg.kron, torch.kron, (Z((2, 0)), Z((3, 2)))),
    "kron_bool": (tg.kron, torch.kron, (np.array([True, False]), np.array([True]))),
    "cov_no_variables": (tg.cov, torch.cov, (Z((0, 3)),)),
    "corrcoef_constant": (tg.corrcoef, torch.corrcoef, (np.ones((2, 3)),)),
    "vander_empty": (tg.vander, torch.vander, (Z(0),)),
    "trapezoid_0d": (tg.trapezoid, torch.trapezoid, (Z(()),)),
    "quantile_empty_q": (lambda x: tg.quantile(x, tg.tensor(Z(0))),
                         lambda x: torch.quantile(x, torch.zeros(0, dtype=torch.float64)),
                         (np.arange(3.0),)),
    "quantile_0d": (lambda x: tg.quantile(x, 0.5, 0, True),
                    lambda x: torch.quantile(x, 0.5, 0, True), (np.array(2.0),)),
    "quantile_empty_slices": (lambda x: tg.quantile(x, 0.5, 1),
                              lambda x: torch.quantile(x, 0.5, 1), (Z((0, 3)),)),
    "mode_empty_dim": (lambda x: tg.mode(x, 0).values, lambda x: torch.mode(x, 0).values,
                       (Z((3, 0)),)),
    "nanmedian_empty": (tg.nanmedian, torch.nanmedian, (Z(0),)),
    "nanmedian_int": (lambda x: tg.nanmedian(x, 0).indices,
                      lambda x: torch.nanmedian(x, 0).indices, (np.array([1, 5, 3]),)),
    "msort_0d": (tg.msort, torch.msort, (np.array(3.0),)),
    "renorm_empty": (lambda x: tg.renorm(x, 2, 0, 1.0), lambda x: torch.renorm(x, 2, 0, 1.0),
                     (Z((0, 3)),)),
    "diagflat_0d": (tg.diagflat, torch.diagflat, (np.array(3.0),)),
    "mv_empty": (tg.mv, torch.mv, (Z((2, 0)), Z(0))),
    "addmm_mixed_dtypes": (lambda x: tg.addmm(x, tg.ones(2, 2), tg.ones(2, 2)),
                           lambda x: torch.addmm(x, torch.ones(2, 2), torch.ones(2, 2)),
                           (np.ones(2),)),
    "inner_mixed_dtypes": (lambda x: tg.inner(x, tg.ones(2)), lambda x: torch.inner(x,
                                                                                   torch.ones(2)),
                           (np.ones(2),)),
    "dot_int": (tg.dot, torch.dot, (np.array([1, 2]), np.array([3, 4]))),
}


@pytest.mark.parametrize("name", list(EDGES))
def test_edge_cases_as_torch(name, recwarn):
    f_tg, f_torch, arrays = EDGES[name]
    try:
        want = f_torch(*[torch.tensor(a) for a in arrays])
    except (RuntimeError, IndexError) as e:
        kind = IndexError if isinstance(e, IndexError) else (ValueError, TypeError)
        with pytest.raises(kind):
            f_tg(*[tg.tensor(a) for a in arrays])
        return
    got = f_tg(*[tg.tensor(a) for a in arrays])
    assert got.shape == tuple(want.shape)
    assert str(got.data.dtype) == str(want.dtype).replace("torch.", "")
    np.testing.assert_allclose(got.data, want.numpy(), rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_quantile_ties_send_the_gradient_where_torchs_does(interpolation):
    ties = np.array([[1., 2, 2, 2, 3, 1], [0, 0, 0, 1, 1, 1]])
    q = np.array([0.1, 0.5, 0.8])
    _compare(lambda x: tg.quantile(x, tg.tensor(q), 1, interpolation=interpolation),
             lambda x: torch.quantile(x, torch.tensor(q), 1, interpolation=interpolation), ties)
