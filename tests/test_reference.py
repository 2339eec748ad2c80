"""Tests of tinygrad_norm.reference, the hand-written NumPy forward/backward passes.

PyTorch is the oracle for the normalizations (float64: rtol 1e-10; float32: rtol 1e-5).
Every backward check uses a random upstream gradient: under ``.sum()`` the input gradient
of a normalization is identically zero and would hide any bug in it.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from tinygrad_norm import reference as ref
from tinygrad_norm.random import keep_mask


@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


@pytest.fixture(params=["default", "tiny"])
def block_size(request, monkeypatch):
    """Run a test with the default block size and with one-row blocks, so that the
    multi-block code paths (partial sums, per-block coefficients) are exercised."""
    if request.param == "tiny":
        monkeypatch.setattr(ref, "_BLOCK_BYTES", 1)
    return request.param


# ---------------------------------------------------------------------------------------
# helpers


def _data(shape, pshape, dtype, seed, offset=0.5):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 2.0 + offset).astype(dtype)
    gamma = (1.0 + 0.3 * rng.standard_normal(pshape)).astype(dtype)
    beta = (0.3 * rng.standard_normal(pshape)).astype(dtype)
    dout = rng.standard_normal(shape).astype(dtype)
    return x, gamma, beta, dout


def _close(actual, expected, dtype, what):
    expected = np.asarray(expected)
    assert actual.dtype == np.dtype(dtype), f"{what}: dtype {actual.dtype}, expected {dtype}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    tol = 1e-10 if np.dtype(dtype) == np.float64 else 1e-5
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * scale, equal_nan=False,
                               err_msg=what)


def _torch_run(torch, fn, x, gamma, beta, dout):
    """Forward fn(x, gamma, beta) in torch and backward with `dout`; returns numpy arrays."""
    tx = torch.tensor(x, requires_grad=True)
    tg = None if gamma is None else torch.tensor(gamma, requires_grad=True)
    tb = None if beta is None else torch.tensor(beta, requires_grad=True)
    out = fn(tx, tg, tb)
    out.backward(torch.tensor(dout))
    grad = lambda t: None if t is None else t.grad.numpy()  # noqa: E731
    return out.detach().numpy(), grad(tx), grad(tg), grad(tb)


def _check_against_torch(torch, fwd, bwd, tfn, x, gamma, beta, dout, **kw):
    dtype = x.dtype
    out, cache = fwd(x, gamma, beta, **kw)
    dx, dgamma, dbeta = bwd(dout, cache)
    t_out, t_dx, t_dgamma, t_dbeta = _torch_run(torch, tfn, x, gamma, beta, dout)
    _close(out, t_out, dtype, "out")
    _close(dx, t_dx, dtype, "dx")
    if gamma is None:
        assert dgamma is None
    else:
        _close(dgamma, t_dgamma, dtype, "dgamma")
    if beta is None:
        assert dbeta is None
    else:
        _close(dbeta, t_dbeta, dtype, "dbeta")
    return out, dx


AFFINE = [(True, True), (False, False), (True, False), (False, True)]
DTYPES = [np.float64, np.float32]


def _maybe(gamma, beta, affine):
    return (gamma if affine[0] else None), (beta if affine[1] else None)


# ---------------------------------------------------------------------------------------
# batch norm


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(8, 5), (4, 3, 7), (4, 3, 20), (3, 4, 5, 6), (16, 1), (4, 1, 5, 6),
                                   (2, 3, 1, 1)])
def test_batch_norm_matches_torch(torch, block_size, dtype, shape):
    x, gamma, beta, dout = _data(shape, shape[1], dtype, seed=len(shape) + shape[1])
    tfn = lambda x, g, b: torch.nn.functional.batch_norm(x, None, None, g, b, training=True)  # noqa: E731
    _check_against_torch(torch, ref.batch_norm_forward, ref.batch_norm_backward, tfn,
                         x, gamma, beta, dout)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("affine", AFFINE)
def test_batch_norm_without_gamma_or_beta(torch, dtype, affine):
    x, gamma, beta, dout = _data((6, 3, 4, 5), 3, dtype, seed=1)
    gamma, beta = _maybe(gamma, beta, affine)
    tfn = lambda x, g, b: torch.nn.functional.batch_norm(x, None, None, g, b, training=True)  # noqa: E731
    _check_against_torch(torch, ref.batch_norm_forward, ref.batch_norm_backward, tfn,
                         x, gamma, beta, dout)


def test_batch_norm_statistics_in_cache():
    x, gamma, beta, _ = _data((7, 3, 4), 3, np.float64, seed=2)
    out, cache = ref.batch_norm_forward(x, gamma, beta, eps=1e-3)
    np.testing.assert_allclose(cache["mean"], x.mean(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(cache["var"], x.var(axis=(0, 2)), rtol=1e-12)  # biased
    np.testing.assert_allclose(cache["inv_std"], 1 / np.sqrt(x.var(axis=(0, 2)) + 1e-3), rtol=1e-12)
    xhat = (x - cache["mean"][:, None]) * cache["inv_std"][:, None]
    np.testing.assert_allclose(out, xhat * gamma[:, None] + beta[:, None], rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------
# layer norm


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,k", [((8, 5), 1), ((4, 3, 6), 1), ((4, 3, 6), 2), ((3, 4, 5, 6), 1),
                                     ((3, 4, 5, 6), 3), ((7,), 1)])
def test_layer_norm_matches_torch(torch, block_size, dtype, shape, k):
    ns = shape[len(shape) - k:]
    x, gamma, beta, dout = _data(shape, ns, dtype, seed=len(shape) * 10 + k)
    tfn = lambda x, g, b: torch.nn.functional.layer_norm(x, ns, g, b)  # noqa: E731
    _check_against_torch(torch, ref.layer_norm_forward, ref.layer_norm_backward, tfn,
                         x, gamma, beta, dout)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("affine", AFFINE)
def test_layer_norm_without_gamma_or_beta(torch, dtype, affine):
    ns = (4, 5)
    x, gamma, beta, dout = _data((3, 4, 5), ns, dtype, seed=3)
    gamma, beta = _maybe(gamma, beta, affine)
    tfn = lambda x, g, b: torch.nn.functional.layer_norm(x, ns, g, b)  # noqa: E731
    _check_against_torch(torch, ref.layer_norm_forward, ref.layer_norm_backward, tfn,
                         x, gamma, beta, dout, normalized_shape=ns)


def test_layer_norm_normalized_shape_defaults():
    x, gamma, _, _ = _data((3, 4, 5), (4, 5), np.float64, seed=4)
    out_g, _ = ref.layer_norm_forward(x, gamma, None)
    out_b, _ = ref.layer_norm_forward(x, None, gamma)  # shape taken from beta
    out_k, _ = ref.layer_norm_forward(x, gamma, None, normalized_shape=(4, 5))
    np.testing.assert_array_equal(out_g, out_k)
    assert out_b.shape == x.shape
    # neither gamma nor beta nor normalized_shape: the last axis
    out, cache = ref.layer_norm_forward(x, None, None)
    assert cache["mean"].shape == (3, 4)
    xhat = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(out, xhat, rtol=1e-12, atol=1e-12)
    _, cache = ref.layer_norm_forward(x, None, None, normalized_shape=5)
    assert cache["normalized_shape"] == (5,)


@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_norm_over_one_element(dtype):
    # xhat is 0, so out == beta and dx == 0 exactly (torch float32 leaves rounding noise
    # of ~1e-5 there, amplified by 1/sqrt(eps))
    x, gamma, beta, dout = _data((5, 1), (1,), dtype, seed=11)
    out, cache = ref.layer_norm_forward(x, gamma, beta)
    dx, dgamma, dbeta = ref.layer_norm_backward(dout, cache)
    np.testing.assert_array_equal(out, np.broadcast_to(beta, x.shape))
    np.testing.assert_array_equal(dx, np.zeros_like(x))
    np.testing.assert_array_equal(dgamma, np.zeros_like(gamma))
    np.testing.assert_allclose(dbeta, dout.sum(axis=0), rtol=1e-6)


def test_layer_norm_constant_rows_give_exact_zeros():
    # PyTorch's test_layer_norm_eps (regression for issue 108072): needs two-pass variance
    x = np.array([[[2, 2], [14, 14]], [[2, 2], [14, 14]]], dtype=np.float32)
    out, _ = ref.layer_norm_forward(x, None, None, eps=1e-6)
    np.testing.assert_array_equal(out, np.zeros_like(x))


# ---------------------------------------------------------------------------------------
# instance norm and group norm


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3, 7), (3, 4, 5, 6), (2, 1, 9), (2, 3, 20)])
def test_instance_norm_matches_torch(torch, block_size, dtype, shape):
    x, gamma, beta, dout = _data(shape, shape[1], dtype, seed=sum(shape))
    tfn = lambda x, g, b: torch.nn.functional.instance_norm(x, weight=g, bias=b)  # noqa: E731
    _check_against_torch(torch, ref.instance_norm_forward, ref.instance_norm_backward, tfn,
                         x, gamma, beta, dout)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("affine", AFFINE)
def test_instance_norm_without_gamma_or_beta(torch, dtype, affine):
    x, gamma, beta, dout = _data((3, 4, 5, 6), 4, dtype, seed=5)
    gamma, beta = _maybe(gamma, beta, affine)
    tfn = lambda x, g, b: torch.nn.functional.instance_norm(x, weight=g, bias=b)  # noqa: E731
    _check_against_torch(torch, ref.instance_norm_forward, ref.instance_norm_backward, tfn,
                         x, gamma, beta, dout)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,groups", [((4, 6, 5), 1), ((4, 6, 5), 2), ((4, 6, 5), 3), ((4, 6, 5), 6),
                                          ((3, 4, 5, 6), 2), ((6, 16), 2), ((2, 1, 9), 1),
                                          ((5, 12), 3), ((5, 12), 1), ((4, 6, 1), 2)])
def test_group_norm_matches_torch(torch, block_size, dtype, shape, groups):
    x, gamma, beta, dout = _data(shape, shape[1], dtype, seed=sum(shape) + groups)
    tfn = lambda x, g, b: torch.nn.functional.group_norm(x, groups, g, b)  # noqa: E731
    _check_against_torch(torch, ref.group_norm_forward, ref.group_norm_backward, tfn,
                         x, gamma, beta, dout, num_groups=groups)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("affine", AFFINE)
def test_group_norm_without_gamma_or_beta(torch, dtype, affine):
    x, gamma, beta, dout = _data((3, 6, 4, 5), 6, dtype, seed=6)
    gamma, beta = _maybe(gamma, beta, affine)

    def tfn(x, g, b):
        if g is None and b is not None:
            # torch 2.13 CPU: group_norm(weight=None, bias=b) fails in backward ("tensor
            # does not have a device"), so add the bias outside
            return torch.nn.functional.group_norm(x, 3) + b.view(1, -1, 1, 1)
        return torch.nn.functional.group_norm(x, 3, g, b)
    _check_against_torch(torch, ref.group_norm_forward, ref.group_norm_backward, tfn,
                         x, gamma, beta, dout, num_groups=3)


def test_group_norm_extremes_equal_instance_and_layer_norm():
    x, gamma, beta, dout = _data((3, 4, 5), 4, np.float64, seed=7)
    out_gn, c = ref.group_norm_forward(x, gamma, beta, num_groups=4)
    dx_gn = ref.group_norm_backward(dout, c)
    out_in, c = ref.instance_norm_forward(x, gamma, beta)
    dx_in = ref.instance_norm_backward(dout, c)
    np.testing.assert_allclose(out_gn, out_in, rtol=1e-12, atol=1e-12)
    for a, b in zip(dx_gn, dx_in):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    out_g1, _ = ref.group_norm_forward(x, None, None, num_groups=1)
    out_ln, _ = ref.layer_norm_forward(x, None, None, normalized_shape=(4, 5))
    np.testing.assert_allclose(out_g1, out_ln, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------
# properties shared by the four normalizations

NORMS = {
    "batch": (lambda x, g, b, **k: ref.batch_norm_forward(x, g, b, **k), ref.batch_norm_backward,
              (0, 2, 3)),
    "layer": (lambda x, g, b, **k: ref.layer_norm_forward(x, g, b, normalized_shape=(3, 4, 5), **k),
              ref.layer_norm_backward, (1, 2, 3)),
    "instance": (lambda x, g, b, **k: ref.instance_norm_forward(x, g, b, **k), ref.instance_norm_backward,
                 (2, 3)),
    "group": (lambda x, g, b, **k: ref.group_norm_forward(x, g, b, 3, **k), ref.group_norm_backward,
              None),
}
SHAPE = (4, 3, 4, 5)


def _params(name, dtype, seed=0):
    pshape = (3, 4, 5) if name == "layer" else (3,)
    return _data(SHAPE, pshape, dtype, seed=seed)


@pytest.mark.parametrize("name", NORMS)
def test_input_gradient_sums_to_zero_over_each_normalization_set(name):
    fwd, bwd, axes = NORMS[name]
    x, gamma, beta, dout = _params(name, np.float64)
    _, cache = fwd(x, gamma, beta)
    dx, _, _ = bwd(dout, cache)
    s = dx.sum(axis=axes) if axes is not None else dx.reshape(4, 3, -1).sum(axis=2)
    np.testing.assert_allclose(s, 0.0, atol=1e-12)
    assert np.abs(dx).max() > 1e-3  # ... and is not trivially zero


@pytest.mark.parametrize("name", NORMS)
def test_float32_stays_float32(name):
    fwd, bwd, _ = NORMS[name]
    x, gamma, beta, dout = _params(name, np.float32)
    # a NumPy float64 scalar eps must not promote the computation to float64
    out, cache = fwd(x, gamma, beta, eps=np.float64(1e-5))
    for key in ("mean", "var", "inv_std"):
        assert cache[key].dtype == np.float32, key
    grads = bwd(dout, cache)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads)


@pytest.mark.parametrize("name", NORMS)
def test_inputs_are_not_modified_and_noncontiguous_input_works(name):
    fwd, bwd, _ = NORMS[name]
    x, gamma, beta, dout = _params(name, np.float64)
    expected_out, c = fwd(x, gamma, beta)
    expected = bwd(dout, c)
    # the same values, as non-contiguous views
    xs = np.asfortranarray(x)
    ds = np.ascontiguousarray(np.swapaxes(dout, 0, 1)).swapaxes(0, 1)
    copies = [a.copy() for a in (xs, gamma, beta, ds)]
    out, c = fwd(xs, gamma, beta)
    grads = bwd(ds, c)
    for before, after in zip(copies, (xs, gamma, beta, ds)):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_allclose(out, expected_out, rtol=1e-12, atol=1e-12)
    for a, b in zip(grads, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", NORMS)
def test_backward_releases_the_cache_unless_retained(name):
    fwd, bwd, _ = NORMS[name]
    x, gamma, beta, dout = _params(name, np.float64)
    _, cache = fwd(x, gamma, beta)
    first = bwd(dout, cache, retain_cache=True)
    second = bwd(dout, cache, retain_cache=True)
    third = bwd(dout, cache)  # releases: dx reuses the cache's buffer
    for a, b, c in zip(first, second, third):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    with pytest.raises(ValueError, match="released"):
        bwd(dout, cache)


@pytest.mark.parametrize("name", NORMS)
def test_gamma_is_copied_into_the_cache(name):
    fwd, bwd, _ = NORMS[name]
    x, gamma, beta, dout = _params(name, np.float64)
    _, cache = fwd(x, gamma, beta)
    expected = bwd(dout, cache, retain_cache=True)
    gamma *= 3.0  # an in-place parameter update between forward and backward
    for a, b in zip(bwd(dout, cache), expected):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NORMS)
def test_dout_that_is_the_cached_buffer_is_not_clobbered(name):
    fwd, bwd, _ = NORMS[name]
    x, gamma, beta, dout = _params(name, np.float64)
    _, cache = fwd(x, gamma, beta)
    key = "xhat" if name == "layer" else "xc"
    alias = cache[key].reshape(x.shape)
    expected = bwd(alias.copy(), cache, retain_cache=True)
    for a, b in zip(bwd(alias, cache), expected):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NORMS)
def test_large_offset_keeps_float32_accuracy(name):
    # two-pass variance: a mean of 1000 must not swamp unit-variance data in float32
    # (one pass, E[x^2] - E[x]^2, loses ~5% of the variance here)
    fwd, bwd, _ = NORMS[name]
    x, _, _, dout = _params(name, np.float64, seed=8)
    x32 = (1000.0 + x).astype(np.float32)
    out32, c32 = fwd(x32, None, None)
    out64, c64 = fwd(x32.astype(np.float64), None, None)
    np.testing.assert_allclose(out32, out64, rtol=0, atol=2e-3)
    dx32 = bwd(dout.astype(np.float32), c32)[0]
    dx64 = bwd(dout, c64)[0]
    np.testing.assert_allclose(dx32, dx64, rtol=0, atol=2e-3 * np.abs(dx64).max())


@pytest.mark.parametrize("name", ["batch", "layer", "group"])
def test_empty_batch(name):
    fwd, bwd, _ = NORMS[name]
    x, gamma, beta, _ = _params(name, np.float32)
    x = x[:0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, cache = fwd(x, gamma, beta)
        dx, dgamma, dbeta = bwd(np.zeros_like(x), cache)
    assert out.shape == x.shape and dx.shape == x.shape
    np.testing.assert_array_equal(dgamma, np.zeros_like(gamma))
    np.testing.assert_array_equal(dbeta, np.zeros_like(beta))


# ---------------------------------------------------------------------------------------
# argument checks


def test_bad_arguments_raise_errors_naming_them():
    x, gamma, beta, dout = _data((4, 3, 5), 3, np.float32, seed=9)
    with pytest.raises(TypeError, match="x"):
        ref.batch_norm_forward(x.tolist(), gamma, beta)
    with pytest.raises(TypeError, match="x .*floating"):
        ref.batch_norm_forward(x.astype(np.int64), None, None)
    with pytest.raises(ValueError, match="x .*2 dimensions"):
        ref.batch_norm_forward(x[0, 0], None, None)
    with pytest.raises(ValueError, match="gamma .*shape"):
        ref.batch_norm_forward(x, gamma[:2], beta)
    with pytest.raises(TypeError, match="beta .*dtype"):
        ref.batch_norm_forward(x, gamma, beta.astype(np.float64))
    with pytest.raises(TypeError, match="gamma"):
        ref.batch_norm_forward(x, [1.0, 1.0, 1.0], beta)
    with pytest.raises(ValueError, match="eps .*positive"):
        ref.batch_norm_forward(x, gamma, beta, eps=0.0)
    with pytest.raises(ValueError, match="eps"):
        ref.layer_norm_forward(x, None, None, eps=float("nan"))
    with pytest.raises(TypeError, match="eps"):
        ref.layer_norm_forward(x, None, None, eps="1e-5")
    with pytest.raises(ValueError, match="normalized shape"):
        ref.layer_norm_forward(x, np.ones((3,), np.float32), None)
    with pytest.raises(ValueError, match="beta .*shape"):
        ref.layer_norm_forward(x, np.ones((5,), np.float32), np.ones((3, 5), np.float32))
    with pytest.raises(TypeError, match="normalized_shape"):
        ref.layer_norm_forward(x, None, None, normalized_shape=2.5)
    with pytest.raises(ValueError, match="x .*3 dimensions"):
        ref.instance_norm_forward(x[:, :, 0], None, None)
    with pytest.raises(ValueError, match="num_groups"):
        ref.group_norm_forward(x, None, None, num_groups=2)
    with pytest.raises(ValueError, match="num_groups"):
        ref.group_norm_forward(x, None, None, num_groups=0)
    with pytest.raises(TypeError, match="num_groups"):
        ref.group_norm_forward(x, None, None, num_groups=3.0)

    _, cache = ref.batch_norm_forward(x, gamma, beta)
    with pytest.raises(ValueError, match="dout .*shape"):
        ref.batch_norm_backward(dout[:1], cache)
    with pytest.raises(TypeError, match="dout .*dtype"):
        ref.batch_norm_backward(dout.astype(np.float64), cache)
    with pytest.raises(ValueError, match="batch_norm_forward"):
        ref.layer_norm_backward(dout, cache)
    with pytest.raises(TypeError, match="cache"):
        ref.batch_norm_backward(dout, (1, 2))
    with pytest.raises(TypeError, match="retain_cache"):
        ref.batch_norm_backward(dout, cache, retain_cache=1)


# ---------------------------------------------------------------------------------------
# dropout


def _drop_data(dtype=np.float32, shape=(32, 50), seed=10):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("inverted", [True, False])
def test_dropout_mask_is_reproducible_and_documented(inverted):
    x, _ = _drop_data()
    out1, c1 = ref.dropout_forward(x, 0.3, inverted=inverted, rng=np.random.default_rng(123))
    out2, c2 = ref.dropout_forward(x, 0.3, inverted=inverted, rng=np.random.default_rng(123))
    np.testing.assert_array_equal(out1, out2)
    keep = keep_mask(x.shape, 0.3, np.random.default_rng(123))
    np.testing.assert_array_equal(c1["mask"], keep)
    np.testing.assert_array_equal(c2["mask"], keep)
    out3, _ = ref.dropout_forward(x, 0.3, inverted=inverted, rng=np.random.default_rng(124))
    assert not np.array_equal(out1, out3)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dropout_inverted_and_classic(dtype):
    x, dout = _drop_data(dtype)
    p = 0.25
    keep = keep_mask(x.shape, p, np.random.default_rng(0))
    scale = x.dtype.type(1 / (1 - p))
    # inverted (PyTorch): kept units scaled by 1/(1-p) in training, identity in eval
    out, cache = ref.dropout_forward(x, p, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(out, np.where(keep, x * scale, 0))
    np.testing.assert_array_equal(ref.dropout_backward(dout, cache), np.where(keep, dout * scale, 0))
    assert out.dtype == dtype
    out, cache = ref.dropout_forward(x, p, training=False)
    assert out is x and ref.dropout_backward(dout, cache) is dout
    # classic: no scaling in training, output times (1-p) in eval
    out, cache = ref.dropout_forward(x, p, inverted=False, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(out, np.where(keep, x, 0))
    np.testing.assert_array_equal(ref.dropout_backward(dout, cache), np.where(keep, dout, 0))
    out, cache = ref.dropout_forward(x, p, training=False, inverted=False)
    np.testing.assert_array_equal(out, x * x.dtype.type(1 - p))
    np.testing.assert_array_equal(ref.dropout_backward(dout, cache), dout * x.dtype.type(1 - p))
    assert out.dtype == dtype


def test_dropout_matches_torch_with_the_same_mask(torch):
    x, dout = _drop_data(np.float32)
    p = 0.4
    out, cache = ref.dropout_forward(x, p, rng=np.random.default_rng(5))
    dx = ref.dropout_backward(dout, cache)
    tx = torch.tensor(x, requires_grad=True)
    ty = tx * torch.tensor(cache["mask"]) / (1 - p)  # PyTorch's formula, with our mask
    ty.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, ty.detach().numpy(), rtol=1e-6, atol=0)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-6, atol=0)
    assert 0.3 < 1 - cache["mask"].mean() < 0.5


@pytest.mark.parametrize("inverted", [True, False])
def test_dropout_masked_gradient_is_exactly_zero_for_nan_and_inf(inverted):
    x, dout = _drop_data()
    dout[::2] = np.nan
    dout[1::2] = np.inf
    x[:, ::3] = np.nan
    out, cache = ref.dropout_forward(x, 0.5, inverted=inverted, rng=np.random.default_rng(1))
    dx = ref.dropout_backward(dout, cache)
    keep = cache["mask"]
    assert 0 < keep.sum() < keep.size
    assert np.all(dx[~keep] == 0) and np.all(out[~keep] == 0)
    scale = 2.0 if inverted else 1.0
    np.testing.assert_array_equal(dx[keep], dout[keep] * np.float32(scale))
    np.testing.assert_array_equal(out[keep], x[keep] * np.float32(scale))


def test_dropout_p0_and_p1():
    x, dout = _drop_data()
    dout[0, 0] = np.nan
    rng = np.random.default_rng(2)
    state = rng.bit_generator.state
    out, cache = ref.dropout_forward(x, 0.0, rng=rng)
    assert out is x and ref.dropout_backward(dout, cache) is dout
    for inverted in (True, False):
        out, cache = ref.dropout_forward(x, 1.0, inverted=inverted, rng=rng)
        dx = ref.dropout_backward(dout, cache)
        np.testing.assert_array_equal(out, np.zeros_like(x))
        np.testing.assert_array_equal(dx, np.zeros_like(x))  # no NaN leaks through
        assert out.dtype == dx.dtype == np.float32
    assert rng.bit_generator.state == state  # nothing drawn
    out, cache = ref.dropout_forward(x, 1.0, training=False, inverted=False)
    np.testing.assert_array_equal(out, np.zeros_like(x))
    np.testing.assert_array_equal(ref.dropout_backward(dout, cache), np.zeros_like(x))


def test_dropout_backward_releases_its_mask_unless_retained():
    x, dout = _drop_data()
    _, cache = ref.dropout_forward(x, 0.5, rng=np.random.default_rng(3))
    a = ref.dropout_backward(dout, cache, retain_cache=True)
    b = ref.dropout_backward(dout, cache)
    np.testing.assert_array_equal(a, b)
    assert cache["mask"] is not None  # the bool mask stays for inspection
    with pytest.raises(ValueError, match="released"):
        ref.dropout_backward(dout, cache)


@pytest.mark.parametrize("p", [-0.1, 1.1, float("nan"), float("inf")])
def test_dropout_rejects_p_outside_0_1(p):
    x, _ = _drop_data()
    with pytest.raises(ValueError, match="p has to be between 0 and 1"):
        ref.dropout_forward(x, p)


def test_dropout_bad_arguments():
    x, dout = _drop_data()
    with pytest.raises(TypeError, match="p "):
        ref.dropout_forward(x, "0.5")
    with pytest.raises(TypeError, match="p "):
        ref.dropout_forward(x, True)
    with pytest.raises(TypeError, match="training"):
        ref.dropout_forward(x, 0.5, training="yes")
    with pytest.raises(TypeError, match="inverted"):
        ref.dropout_forward(x, 0.5, inverted=None)
    with pytest.raises(TypeError, match="rng"):
        ref.dropout_forward(x, 0.5, rng=np.random.RandomState(0))
    with pytest.raises(TypeError, match="x"):
        ref.dropout_forward(x.astype(np.int32), 0.5)
    _, cache = ref.dropout_forward(x, 0.5, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="dout .*shape"):
        ref.dropout_backward(dout.T, cache)
    with pytest.raises(TypeError, match="dout .*dtype"):
        ref.dropout_backward(dout.astype(np.float64), cache)
    with pytest.raises(ValueError, match="dropout_forward"):
        ref.batch_norm_backward(dout, cache)


# ---- edge inputs found by review: each failed (or passed silently) before ----------------------

@pytest.mark.parametrize("inverted", [True, False])
@pytest.mark.parametrize("training", [True, False])
def test_dropout_of_a_zero_dimensional_input_is_arrays_as_the_composite(inverted, training):
    x, dout = np.array(2.0), np.array(3.0)
    out, cache = ref.dropout_forward(x, 0.5, training=training, inverted=inverted,
                                     rng=np.random.default_rng(0))
    dx = ref.dropout_backward(dout, cache)
    assert type(out) is np.ndarray and type(dx) is np.ndarray and out.shape == dx.shape == ()
    if training:
        keep = bool(keep_mask((), 0.5, np.random.default_rng(0)))
        scale = 2.0 if inverted else 1.0
        assert out == (2.0 * scale if keep else 0.0) and dx == (3.0 * scale if keep else 0.0)


def test_dropout_of_a_transposed_input_is_c_contiguous_as_documented():
    x = np.arange(12.0).reshape(3, 4).T
    for inverted in (True, False):
        out, cache = ref.dropout_forward(x, 0.3, inverted=inverted, rng=np.random.default_rng(1))
        assert out.flags.c_contiguous
        np.testing.assert_array_equal(out, np.where(cache["mask"], x / (0.7 if inverted else 1), 0))
    out, cache = ref.dropout_forward(x, 0.3, training=False, inverted=False)  # classic eval
    dx = ref.dropout_backward(np.asfortranarray(np.ones((4, 3))), cache)
    assert out.flags.c_contiguous and dx.flags.c_contiguous


@pytest.mark.parametrize("shape", [(3, 4, 0), (2, 4, 0, 5)])
def test_norms_of_an_empty_spatial_axis_as_the_composites(shape):
    x, dy = np.zeros(shape), np.zeros(shape)
    g, b = np.ones(4), np.zeros(4)
    for fwd, bwd, extra in ((ref.batch_norm_forward, ref.batch_norm_backward, ()),
                            (ref.group_norm_forward, ref.group_norm_backward, (2,)),
                            (ref.instance_norm_forward, ref.instance_norm_backward, ())):
        out, cache = fwd(x, g, b, *extra)
        dx, dg, db = bwd(dy, cache)
        assert out.shape == dx.shape == shape and not dg.any() and not db.any()


def test_norms_refuse_float16_whose_sums_of_squares_overflow():
    # The composites compute float16 in float32 (test_normalization.py); the hand-written
    # baseline stays float32/float64 and says so.
    x = (np.random.default_rng(0).standard_normal((4, 1024)) * 10).astype(np.float16)
    with pytest.raises(TypeError, match="float32 or float64"):  # gave var = inf, output 0
        ref.layer_norm_forward(x, None, None)
    with pytest.raises(TypeError, match="float32 or float64"):
        ref.batch_norm_forward(x, None, None)
    out, _ = ref.dropout_forward(x, 0.5, rng=np.random.default_rng(0))  # dropout has no sums
    assert out.dtype == np.float16


@pytest.mark.parametrize("bad", ["3", (3.7,), (True,)])
def test_layer_norm_normalized_shape_must_be_ints_as_torch(bad):
    with pytest.raises(TypeError, match="normalized_shape must be an int or a tuple of ints"):
        ref.layer_norm_forward(np.ones((2, 3)), None, None, normalized_shape=bad)
    ref.layer_norm_forward(np.ones((2, 3)), None, None, normalized_shape=[np.int64(3)])


def test_one_value_per_channel_is_refused_as_torch_and_the_composites(torch):
    tf = torch.nn.functional
    for ours, theirs, shape in (
            (lambda x: ref.batch_norm_forward(x, None, None),
             lambda t: tf.batch_norm(t, None, None, training=True), (1, 3)),
            (lambda x: ref.group_norm_forward(x, None, None, 4), lambda t: tf.group_norm(t, 4),
             (1, 4, 1)),
            (lambda x: ref.instance_norm_forward(x, None, None), tf.instance_norm, (1, 3, 1)),
            (lambda x: ref.instance_norm_forward(x, None, None), tf.instance_norm, (2, 3, 1))):
        with pytest.raises(ValueError) as theirs_error:
            theirs(torch.ones(shape, dtype=torch.float64))
        words = str(theirs_error.value).split(", got")[0]
        with pytest.raises(ValueError, match=words):
            ours(np.ones(shape))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,ns", [((4, 5), (5,)), ((2, 3, 4), (3, 4)), ((3,), (3,)),
                                      ((0, 3), (3,)), ((600, 700), (700,))])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("eps", [None, 1e-3])
def test_rms_norm_matches_torch_and_the_composite(torch, dtype, shape, ns, affine, eps):
    import tinygrad_norm.functional as F
    from tinygrad_norm import Tensor
    rng = np.random.default_rng(len(shape))
    x = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype)
    w = (1 + 0.1 * rng.standard_normal(ns)).astype(dtype) if affine else None
    dy = rng.standard_normal(shape).astype(dtype)
    out, cache = ref.rms_norm_forward(x, w, eps, normalized_shape=None if affine else ns)
    dx, dw = ref.rms_norm_backward(dy, cache, retain_cache=True)
    assert out.dtype == dx.dtype == dtype and (dw is None) == (not affine)
    t = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True) if affine else None
    torch.nn.functional.rms_norm(t, ns, tw, eps).backward(torch.tensor(dy))
    tol = dict(rtol=1e-10, atol=1e-10) if dtype == np.float64 else dict(rtol=2e-4, atol=2e-4)
    theirs = torch.nn.functional.rms_norm(torch.tensor(x), ns, None if w is None else
                                          torch.tensor(w), eps).numpy()
    np.testing.assert_allclose(out, theirs, **tol)
    np.testing.assert_allclose(dx, t.grad.numpy(), **tol)
    if affine:
        np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=tol["rtol"], atol=tol["atol"] * 30)
    xt = Tensor(x, requires_grad=True)
    wt = Tensor(w, requires_grad=True) if affine else None
    F.rms_norm(xt, ns, wt, eps).backward(dy)
    np.testing.assert_allclose(dx, xt.grad.numpy(), **tol)
    dx2, _ = ref.rms_norm_backward(dy, cache)  # the releasing call gives the same
    np.testing.assert_array_equal(dx2, dx)
    with pytest.raises(ValueError):
        ref.rms_norm_backward(dy, cache)  # released


def test_group_norm_backward_does_not_write_into_dout():
    x = np.random.default_rng(0).standard_normal((4, 3))
    dout = np.random.default_rng(1).standard_normal((4, 3))
    before = dout.copy()
    dout.setflags(write=False)  # was "output array is read-only": s1 was a view of dout
    for gamma in (None, np.array([1.0, 2.0, 3.0])):
        _, cache = ref.group_norm_forward(x, gamma, None, num_groups=3)
        ref.group_norm_backward(dout, cache)
    np.testing.assert_array_equal(dout, before)


def test_instance_norm_of_no_channels_is_a_clear_error():
    with pytest.raises(ValueError, match="has no channels"):  # was a ZeroDivisionError
        ref.instance_norm_forward(np.ones((2, 0, 4)), None, None)
