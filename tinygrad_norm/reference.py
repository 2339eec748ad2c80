"""Hand-written NumPy forward/backward passes for dropout and the normalizations.

This module is the *reference* that the autograd composites in ``functional`` are
checked and timed against.  Every function here is plain NumPy: no tape, no Tensor, no
import from the rest of the package but the shared dropout draw.  Each normalization comes as a pair

    out, cache = <norm>_forward(x, gamma, beta, ..., eps=1e-5)
    dx, dgamma, dbeta = <norm>_backward(dout, cache)

and dropout as ``out, cache = dropout_forward(x, p, ...)`` / ``dx = dropout_backward(dout, cache)``.

Math (S = the set of elements that share one mean and variance, M = |S|):

    mean = sum_S(x) / M          var = sum_S((x - mean)**2) / M      (biased, two passes)
    r    = 1 / sqrt(var + eps)   xhat = (x - mean) * r               y = gamma * xhat + beta

    ghat   = dout * gamma
    dx     = r / M * (M * ghat - sum_S(ghat) - xhat * sum_S(ghat * xhat))
    dgamma = sum of dout * xhat over the axes gamma is broadcast along
    dbeta  = sum of dout over the same axes

This is the "simplified" closed form; for batch norm it reads
``dx = inv_std/N * (N*dxhat - sum(dxhat) - xhat*sum(dxhat*xhat))``.  Where gamma is
constant over S (batch and instance norm, and any norm without gamma), the code uses the
same formula with gamma factored out of the sums.

Conventions
-----------
* ``x`` must be a floating-point ``numpy.ndarray``.  ``gamma``, ``beta`` and ``dout`` must
  have the same dtype, and the results have it too: float32 in, float32 out.  Scalar
  constants stay Python floats, so NumPy 2's promotion rules never turn a float32
  computation into a float64 one.
* ``gamma`` and/or ``beta`` may be ``None`` (scale 1, shift 0).  The matching gradient
  is then ``None``.
* Inputs are never modified.  Outputs are new C-contiguous arrays, except where dropout is
  the identity (eval, ``p = 0``): its forward and backward return their input.  The cache keeps its
  own copy of ``gamma``, so an in-place parameter update between the forward and the
  backward pass does not change the gradient.
* **A backward call releases its cache** by default, as PyTorch frees the saved tensors
  after ``backward()``: ``dx`` is written into the cache's full-size buffer instead of
  a newly allocated array (fresh large arrays are expensive: page faults).  A second
  backward call on the same cache raises ``ValueError``.  Pass ``retain_cache=True`` to
  keep the cache usable.  (A dropout cache that holds no mask -- eval, ``p`` 0 or 1 --
  has no buffer to give, and can be used again.)
* Bad arguments raise ``TypeError`` (wrong kind of object or dtype) or ``ValueError``
  (wrong shape or value), with a message that names the argument.
* Precision is that of the plain two-pass formula: a float32 input with mean 1e3 and
  std 1 matches float64 within about 3e-4, but one with mean 1e4 and std 1e-2 is off by up
  to about 0.4 (as PyTorch's float32 kernels), since the mean's rounding is a visible part
  of a standard deviation there. The
  composites shift such sets by one of their own values first (``functional/
  normalization.py``, ``_needs_shift``); the reference does not, as the cases timed here
  never need it and it is the baseline for speed.

Speed
-----
Large arrays are processed in row blocks of about ``_BLOCK_BYTES``, so that the several
passes over one block hit the CPU cache.  Every pass writes in place
(``np.multiply(..., out=...)``).  Per-row sums are BLAS matrix-vector products and
``np.vecdot``.  None of this changes the formulas above.
"""

from __future__ import annotations

import math
import numbers
import operator

import numpy as np

from .random import keep_mask as _keep_mask  # numpy-only too: the one dropout draw, shared

__all__ = [
    "dropout_forward",
    "dropout_backward",
    "batch_norm_forward",
    "batch_norm_backward",
    "layer_norm_forward",
    "layer_norm_backward",
    "rms_norm_forward",
    "rms_norm_backward",
    "instance_norm_forward",
    "instance_norm_backward",
    "group_norm_forward",
    "group_norm_backward",
]

# np.vecdot (a dot product along the last axis) is NumPy >= 2.0; einsum does the same before.
_vecdot = getattr(np, "vecdot", None) or (lambda a, b: np.einsum("...i,...i->...", a, b))

# Bytes per array block.  1 MiB blocks were the fastest on the development machine
# (1 MiB of L2 per core, 32 MiB of L3).  Smaller blocks lose more to per-call overhead.
_BLOCK_BYTES = 1 << 20


# ---------------------------------------------------------------------------------------
# argument checks and small helpers


def _check_x(x, name="x"):
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name} must have a floating-point dtype, got {x.dtype}")
    return x


def _check_several(values, size):
    """One value per channel (or group) gives a variance of 0 and a normalized output of 0:
    refused as PyTorch and the composites refuse it, with their wording."""
    if values == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{size}")


def _check_norm_x(x):
    """A normalization's input: float32 or wider. Its statistics are sums of squares, which
    float16 overflows (65504) at ordinary sizes: 1024 features of std 10 gave var = inf."""
    _check_x(x)
    if x.dtype.itemsize < 4:
        raise TypeError(f"x must be float32 or float64 for a normalization, got {x.dtype} (its "
                        f"sums of squares overflow); convert it with x.astype(np.float32)")
    return x


def _check_param(name, p, shape, dtype):
    """Return None, or `p` as a C-contiguous ndarray of exactly `shape` and `dtype`."""
    if p is None:
        return None
    if not isinstance(p, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray or None, got {type(p).__name__}")
    if p.dtype != dtype:
        raise TypeError(f"{name} must have the same dtype as x ({dtype}), got {p.dtype}")
    if p.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {p.shape}")
    return np.ascontiguousarray(p)


def _check_eps(eps, positive):
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"eps must be a real number, got {type(eps).__name__}")
    eps = float(eps)  # a Python float, never a NumPy float64 scalar
    if not math.isfinite(eps):
        raise ValueError(f"eps must be finite, got {eps}")
    if positive and eps <= 0.0:
        raise ValueError(f"eps must be positive, got {eps}")
    return eps


def _check_ndim(x, min_ndim, layout):
    if x.ndim < min_ndim:
        raise ValueError(f"x must have at least {min_ndim} dimensions {layout}, got shape {x.shape}")


def _check_bool(name, v):
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(v).__name__}")
    return bool(v)


def _check_cache(cache, op):
    if not isinstance(cache, dict) or "op" not in cache:
        raise TypeError(f"cache must be the dict returned by {op}_forward, got {type(cache).__name__}")
    if cache["op"] != op:
        raise ValueError(f"cache was made by {cache['op']}_forward, not by {op}_forward")
    if cache.get("released"):
        raise ValueError(f"cache was released by an earlier {op}_backward call (its buffer now "
                         f"holds that call's dx); pass retain_cache=True to call backward more than once")


def _check_dout(dout, cache):
    _check_x(dout, "dout")
    if dout.shape != cache["shape"]:
        raise ValueError(f"dout must have the shape of the forward output {cache['shape']}, got {dout.shape}")
    if dout.dtype != cache["dtype"]:
        raise TypeError(f"dout must have the dtype of the forward output ({cache['dtype']}), got {dout.dtype}")
    return np.ascontiguousarray(dout)


def _dx_buffer(cache, key, dout, retain):
    """The array dx is written to: the cached full-size array `key` itself (which the
    cache then gives up), or a new array when the cache is retained or `dout` overlaps it."""
    buf = cache[key]
    if retain or np.may_share_memory(buf, dout):
        return np.empty_like(buf)
    cache[key] = None
    cache["released"] = True
    return buf


def _prod(shape):
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _blocks(nrows, row_bytes):
    """Slices of consecutive rows, ~_BLOCK_BYTES each (at least one row per slice)."""
    step = max(1, _BLOCK_BYTES // max(1, row_bytes))
    return [slice(i, min(i + step, nrows)) for i in range(0, nrows, step)]


def _inv_std(var, eps):
    """1 / sqrt(var + eps), in a new array of var's dtype."""
    inv = np.add(var, eps)
    np.sqrt(inv, out=inv)
    np.reciprocal(inv, out=inv)
    return inv


# ---------------------------------------------------------------------------------------
# dropout


def dropout_forward(x, p, training=True, inverted=True, rng=None):
    """Dropout.  Returns ``(out, cache)``.

    **Mask:** drawn by ``tinygrad_norm.random.keep_mask(x.shape, p, rng)`` (one random bit
    per element for p = 0.5, random bytes thresholded as uint8 elsewhere on a 1/256 grid, else
    a 32-bit uniform), so a generator seeded the same way reproduces the composite's mask
    exactly.  The mask is ``cache["mask"]`` (bool, True = kept).  Dropped units are
    exactly 0 in ``out`` and in the gradient whatever the value (inf and NaN included).
    This is a select, not a multiplication by 0.

    * ``inverted=True`` (PyTorch): training scales the kept units by ``1/(1-p)``.  Eval is
      the identity.
    * ``inverted=False`` (classic, Srivastava et al. 2014): training keeps units unscaled.
      Eval multiplies the output by ``1-p``.

    ``p == 0`` in training and inverted eval return ``x`` itself, without a copy, as
    PyTorch does.  ``p == 1`` in training gives zeros.  No random number is drawn in those
    cases, nor in eval.  ``rng`` is a ``np.random.Generator``; by default the framework's
    generator, so ``tinygrad_norm.manual_seed(n)`` makes it repeat, as it does the composite.
    """
    _check_x(x)
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"p must be a real number, got {type(p).__name__}")
    p = float(p)
    if not 0.0 <= p <= 1.0:  # False for NaN as well
        raise ValueError(f"dropout probability p has to be between 0 and 1, but got {p}")
    training = _check_bool("training", training)
    inverted = _check_bool("inverted", inverted)
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator or None, got {type(rng).__name__}")
    cache = dict(op="dropout", shape=x.shape, dtype=x.dtype, p=p, training=training,
                 inverted=inverted, mask=None, bits=None, scale=1.0, zero=False)

    if not training:
        if inverted:
            return x, cache
        if p == 1.0:
            cache["zero"] = True
            return np.zeros(x.shape, x.dtype), cache
        cache["scale"] = 1.0 - p
        return np.multiply(x, 1.0 - p, out=np.empty(x.shape, x.dtype)), cache
    if p == 0.0:
        return x, cache
    if p == 1.0:
        cache["zero"] = True
        return np.zeros(x.shape, x.dtype), cache

    keep = _keep_mask(x.shape, p, rng)  # rng None: the framework's generator (manual_seed)
    scale = 1.0 / (1.0 - p) if inverted else 1.0
    cache.update(mask=keep, scale=scale)
    isz = x.dtype.itemsize
    if isz not in (2, 4, 8):  # no unsigned integer of that width (long double)
        return np.where(keep, np.multiply(x, scale), x.dtype.type(0)), cache
    # Select on the bit patterns: v & 0xFF..F == v and v & 0 == +0.0 for every value,
    # inf and NaN included.  ~20x faster than np.where on a random mask, which
    # mispredicts a branch per element.
    # (out= arrays throughout: a 0-d input would otherwise turn into NumPy scalars, and a
    # transposed one into a transposed output)
    bits = np.empty(x.shape, f"u{isz}")
    np.negative(keep.view(np.int8), out=bits.view(f"i{isz}"), casting="unsafe")
    cache["bits"] = bits
    out = np.empty(x.shape, x.dtype)
    ov = out.view(bits.dtype)
    if inverted:
        np.multiply(x, scale, out=out)
        np.bitwise_and(ov, bits, out=ov)
    else:
        np.bitwise_and(x.view(bits.dtype), bits, out=ov)
    return out, cache


def dropout_backward(dout, cache, *, retain_cache=False):
    """Gradient of :func:`dropout_forward`: ``dout`` through the same mask and scale.

    Dropped units get exactly 0 even where ``dout`` is inf or NaN.  Where the forward pass
    was the identity, ``dout`` itself is returned.  Unless ``retain_cache``, the cache's
    bit mask becomes ``dx`` (see the module notes); ``cache["mask"]`` stays.
    """
    _check_cache(cache, "dropout")
    retain_cache = _check_bool("retain_cache", retain_cache)
    _check_x(dout, "dout")
    if dout.shape != cache["shape"]:
        raise ValueError(f"dout must have the shape of the forward output {cache['shape']}, got {dout.shape}")
    if dout.dtype != cache["dtype"]:
        raise TypeError(f"dout must have the dtype of the forward output ({cache['dtype']}), got {dout.dtype}")
    if cache["zero"]:
        return np.zeros(dout.shape, dout.dtype)
    scale = cache["scale"]
    if cache["mask"] is None:  # identity, or classic eval
        return dout if scale == 1.0 else np.multiply(dout, scale,
                                                     out=np.empty(dout.shape, dout.dtype))
    if cache["bits"] is None:  # long double
        return np.where(cache["mask"], np.multiply(dout, scale), dout.dtype.type(0))
    bits = cache["bits"]
    dst = _dx_buffer(cache, "bits", dout, retain_cache)
    np.bitwise_and(dout.view(bits.dtype), bits, out=dst)
    dx = dst.view(dout.dtype)
    if scale != 1.0:
        dx *= scale  # 0 * scale == 0 exactly: the masked units stay 0
    return dx


# ---------------------------------------------------------------------------------------
# batch norm


def batch_norm_forward(x, gamma, beta, eps=1e-5):
    """Batch norm in training mode: batch statistics, biased variance.

    ``x``: (N, C) or (N, C, *spatial) (any rank >= 2).  The statistics are taken over
    every axis except axis 1.  ``gamma``, ``beta``: (C,) or None.  ``eps`` must be > 0, as
    in PyTorch training.  Returns ``(out, cache)``.  ``cache["mean"]`` and ``cache["var"]``
    (biased) are the per-channel batch statistics, e.g. for a running-average update.
    ``cache["inv_std"]`` is ``1/sqrt(var + eps)`` and ``cache["xc"]`` is ``x - mean``.
    """
    _check_norm_x(x)
    _check_ndim(x, 2, "(N, C, ...)")
    N, C = x.shape[0], x.shape[1]
    L = _prod(x.shape[2:])
    gamma = _check_param("gamma", gamma, (C,), x.dtype)
    beta = _check_param("beta", beta, (C,), x.dtype)
    eps = _check_eps(eps, positive=True)
    _check_several(N * L, [N, C] + list(x.shape[2:]))
    invM = 1.0 / max(N * L, 1)
    x = np.ascontiguousarray(x)
    dt = x.dtype
    W = C * L
    # "Wide rows": one row per sample, (N, C*L).  Per-channel coefficients are expanded
    # once into a row of length C*L.  Each elementwise pass is then one long contiguous
    # loop per sample, not one short broadcast loop per (sample, channel), which NumPy
    # runs 2-3x slower.
    x2 = x.reshape(N, W)
    xc = np.empty((N, W), dt)
    out = np.empty((N, W), dt)
    blocks = _blocks(N, W * dt.itemsize)

    mean = _bn_channel_sum(x2, C, L)
    mean *= invM
    mrow = _bn_row(mean, L)
    var = np.zeros(C, dt)
    for b in blocks:
        xcb = xc[b]
        np.subtract(x2[b], mrow, out=xcb)
        var += _bn_channel_dot(xcb, xcb, C, L)
    var *= invM
    inv = _inv_std(var, eps)

    srow = _bn_row(inv if gamma is None else inv * gamma, L)
    brow = None if beta is None else _bn_row(beta, L)
    for b in blocks:
        yb = out[b]
        np.multiply(xc[b], srow, out=yb)
        if brow is not None:
            yb += brow

    cache = dict(op="batch_norm", shape=x.shape, dtype=dt, xc=xc.reshape(x.shape), mean=mean,
                 var=var, inv_std=inv, gamma=None if gamma is None else gamma.copy(),
                 has_beta=beta is not None, eps=eps)
    return out.reshape(x.shape), cache


def _bn_row(v, L):
    """Per-channel values (C,) expanded to one wide row (C*L,)."""
    return np.repeat(v, L) if L != 1 else v  # L = 0 (an empty spatial axis): an empty row


def _bn_channel_sum(a2, C, L):
    """Per-channel sum of a (rows, C*L) array -> (C,)."""
    if L == 1:
        return np.matmul(np.ones(a2.shape[0], a2.dtype), a2)
    if L < 16:
        return a2.sum(axis=0).reshape(C, L).sum(axis=1)
    return np.matmul(a2.reshape(-1, L), np.ones(L, a2.dtype)).reshape(-1, C).sum(axis=0)


def _bn_channel_dot(a2, b2, C, L):
    """Per-channel sum of a*b for two (rows, C*L) arrays -> (C,)."""
    if L == 1:
        return np.einsum("ij,ij->j", a2, b2)
    if L < 16:
        return np.einsum("ij,ij->j", a2, b2).reshape(C, L).sum(axis=1)
    n = a2.shape[0]
    return _vecdot(a2.reshape(n, C, L), b2.reshape(n, C, L)).sum(axis=0)


def batch_norm_backward(dout, cache, *, retain_cache=False):
    """Gradients ``(dx, dgamma, dbeta)`` of :func:`batch_norm_forward`.

    Unless ``retain_cache``, ``dx`` is written into ``cache["xc"]``'s buffer and the
    cache is released (see the module notes).
    """
    _check_cache(cache, "batch_norm")
    retain_cache = _check_bool("retain_cache", retain_cache)
    dy = _check_dout(dout, cache)
    inv, gamma = cache["inv_std"], cache["gamma"]
    shape, dt = cache["shape"], cache["dtype"]
    N, C = shape[0], shape[1]
    L = _prod(shape[2:])
    W = C * L
    invM = 1.0 / max(N * L, 1)
    dy2 = dy.reshape(N, W)
    xc = cache["xc"].reshape(N, W)
    blocks = _blocks(N, W * dt.itemsize)

    # per channel: S1 = sum(dout), S2 = sum(dout * xc)
    S1 = np.zeros(C, dt)
    S2 = np.zeros(C, dt)
    for b in blocks:
        S1 += _bn_channel_sum(dy2[b], C, L)
        S2 += _bn_channel_dot(dy2[b], xc[b], C, L)
    dbeta = S1 if cache["has_beta"] else None
    dgamma = S2 * inv if gamma is not None else None

    # xhat = xc*r, and gamma is constant per channel, so sum(ghat) = gamma*S1 and
    # sum(ghat*xhat) = gamma*r*S2:
    #   dx = r*gamma * (dout - S1/M - xc * r^2*S2/M) = ((xc*k1) + dout - k2) * a
    # four in-place passes, no temporary.
    a = inv if gamma is None else inv * gamma
    k1 = inv * inv * S2
    k1 *= -invM
    k2 = S1 * invM
    a, k1, k2 = _bn_row(a, L), _bn_row(k1, L), _bn_row(k2, L)
    dx = _dx_buffer(cache, "xc", dy, retain_cache).reshape(N, W)
    for b in blocks:
        dxb = dx[b]
        np.multiply(xc[b], k1, out=dxb)
        dxb += dy2[b]
        dxb -= k2
        dxb *= a
    return dx.reshape(shape), dgamma, dbeta


# ---------------------------------------------------------------------------------------
# layer norm


def _trailing_shape(x, normalized_shape, gamma, beta=None):
    """The normalized shape of layer and RMS norm: ``normalized_shape`` if given, else the
    shape of ``gamma``, else of ``beta``, else x's last axis; it must be x's trailing axes."""
    if normalized_shape is not None:
        if isinstance(normalized_shape, numbers.Integral) and not isinstance(normalized_shape, bool):
            normalized_shape = (normalized_shape,)
        try:  # operator.index: no float truncated, no bool, no string read digit by digit
            if isinstance(normalized_shape, (str, bytes)) or any(
                    isinstance(s, bool) for s in normalized_shape):
                raise TypeError
            ns = tuple(operator.index(s) for s in normalized_shape)
        except TypeError:
            raise TypeError(f"normalized_shape must be an int or a tuple of ints, "
                            f"got {normalized_shape!r}") from None
    else:
        ref = gamma if gamma is not None else beta
        if ref is not None and not isinstance(ref, np.ndarray):
            name = "gamma" if gamma is not None else "beta"
            raise TypeError(f"{name} must be a numpy.ndarray or None, got {type(ref).__name__}")
        ns = ref.shape if ref is not None else x.shape[-1:]
    k = len(ns)
    if k == 0:
        raise ValueError("the normalized shape (gamma's shape) must have at least one axis, got ()")
    if x.ndim < k or x.shape[x.ndim - k:] != ns:
        raise ValueError(f"the normalized shape {ns} (gamma's shape) must equal the trailing "
                         f"axes of x, got x of shape {x.shape}")
    return ns


def layer_norm_forward(x, gamma, beta, eps=1e-5, *, normalized_shape=None):
    """Layer norm over the trailing axes that ``gamma`` covers (``gamma.shape == x.shape[-k:]``).

    The normalized shape is the keyword ``normalized_shape`` if given, else the shape of
    ``gamma``, else that of ``beta``, else the last axis of ``x``; ``gamma`` and ``beta``
    must match it.  Returns ``(out, cache)``.  ``cache["mean"]``, ``cache["var"]`` and
    ``cache["inv_std"]`` have shape ``x.shape[:-k]``; ``cache["xhat"]`` is the
    normalized input, as a (rows, prod(normalized_shape)) array.
    """
    _check_norm_x(x)
    ns = _trailing_shape(x, normalized_shape, gamma, beta)
    k = len(ns)
    gamma = _check_param("gamma", gamma, ns, x.dtype)
    beta = _check_param("beta", beta, ns, x.dtype)
    eps = _check_eps(eps, positive=False)
    lead = x.shape[: x.ndim - k]
    D, R = _prod(ns), _prod(lead)
    invD = 1.0 / max(D, 1)
    x = np.ascontiguousarray(x)
    dt = x.dtype
    x2 = x.reshape(R, D)
    xhat = np.empty((R, D), dt)
    out = np.empty((R, D), dt)
    mean = np.empty(R, dt)
    var = np.empty(R, dt)
    inv = np.empty(R, dt)
    g = None if gamma is None else gamma.reshape(D)
    bt = None if beta is None else beta.reshape(D)
    ones = np.ones(D, dt)
    # Every row has its own statistics, so one sweep over row blocks does all the work
    # while the block is in cache.
    for b in _blocks(R, D * dt.itemsize):
        xb, hb, yb = x2[b], xhat[b], out[b]
        mb = np.matmul(xb, ones)
        mb *= invD
        mean[b] = mb
        np.subtract(xb, mb[:, None], out=hb)
        vb = _vecdot(hb, hb)
        vb *= invD
        var[b] = vb
        rb = _inv_std(vb, eps)
        inv[b] = rb
        hb *= rb[:, None]
        if g is not None:
            np.multiply(hb, g, out=yb)
            if bt is not None:
                yb += bt
        elif bt is not None:
            np.add(hb, bt, out=yb)
        else:
            np.copyto(yb, hb)
    cache = dict(op="layer_norm", shape=x.shape, dtype=dt, xhat=xhat, mean=mean.reshape(lead),
                 var=var.reshape(lead), inv_std=inv.reshape(lead),
                 gamma=None if g is None else g.copy(), has_beta=beta is not None,
                 normalized_shape=ns, eps=eps)
    return out.reshape(x.shape), cache


def _rows_backward(dout, cache, op, inv_key, retain_cache):
    """Layer and RMS norm's backward set-up, on (rows, normalized) arrays: the checked dout, the
    buffer dx goes to, the cached xhat, gamma and per-row inverse scale."""
    _check_cache(cache, op)
    retain_cache = _check_bool("retain_cache", retain_cache)
    dy = _check_dout(dout, cache)
    xhat = cache["xhat"]
    dx = _dx_buffer(cache, "xhat", dy, retain_cache)
    return dy.reshape(xhat.shape), dx, xhat, cache["gamma"], cache[inv_key].reshape(-1)


def layer_norm_backward(dout, cache, *, retain_cache=False):
    """Gradients ``(dx, dgamma, dbeta)`` of :func:`layer_norm_forward`.

    Unless ``retain_cache``, ``dx`` is written into ``cache["xhat"]``'s buffer and the
    cache is released (see the module notes).
    """
    dy2, dx, xhat, g, inv = _rows_backward(dout, cache, "layer_norm", "inv_std", retain_cache)
    ns, dt = cache["normalized_shape"], cache["dtype"]
    R, D = xhat.shape
    invD = 1.0 / max(D, 1)
    ones = np.ones(D, dt)
    dgamma = np.zeros(D, dt) if g is not None else None
    dbeta = np.zeros(D, dt) if cache["has_beta"] else None
    blocks = _blocks(R, D * dt.itemsize)
    ghat = np.empty((blocks[0].stop, D), dt) if (g is not None and blocks) else None
    for b in blocks:
        dyb, hb, dxb, rb = dy2[b], xhat[b], dx[b], inv[b]
        if dbeta is not None:
            dbeta += dyb.sum(axis=0)
        if dgamma is not None:
            dgamma += np.einsum("ij,ij->j", dyb, hb)
        if g is None:
            gb = dyb
        else:
            gb = np.multiply(dyb, g, out=ghat[: dyb.shape[0]])
        # dx = r * (ghat - S1/D - xhat * S2/D),  S1 = sum(ghat), S2 = sum(ghat*xhat)
        s1 = np.matmul(gb, ones)
        s2 = _vecdot(gb, hb)
        s1 *= invD
        s2 *= -invD
        np.multiply(hb, s2[:, None], out=dxb)  # may overwrite hb (dxb is hb): last use
        dxb += gb
        dxb -= s1[:, None]
        dxb *= rb[:, None]
    return (dx.reshape(cache["shape"]),
            None if dgamma is None else dgamma.reshape(ns),
            None if dbeta is None else dbeta.reshape(ns))


# ---------------------------------------------------------------------------------------
# RMS norm


def rms_norm_forward(x, gamma, eps=None, *, normalized_shape=None):
    """RMS norm over the trailing axes that ``gamma`` covers (or ``normalized_shape``, or the
    last axis): ``x / sqrt(mean(x^2) + eps) * gamma``, no centring, no bias. ``eps=None`` is
    the dtype's machine epsilon, as ``torch.nn.functional.rms_norm``. Returns ``(out, cache)``;
    ``cache["inv_rms"]`` has shape ``x.shape[:-k]``, ``cache["xhat"]`` is ``x`` times it, as a
    (rows, prod(normalized_shape)) array."""
    _check_norm_x(x)
    ns = _trailing_shape(x, normalized_shape, gamma)
    gamma = _check_param("gamma", gamma, ns, x.dtype)
    eps = float(np.finfo(x.dtype).eps) if eps is None else _check_eps(eps, positive=False)
    lead = x.shape[: x.ndim - len(ns)]
    D, R = _prod(ns), _prod(lead)
    invD = 1.0 / max(D, 1)
    dt = x.dtype
    x2 = np.ascontiguousarray(x).reshape(R, D)
    xhat = np.empty((R, D), dt)
    out = np.empty((R, D), dt)
    inv = np.empty(R, dt)
    g = None if gamma is None else gamma.reshape(D)
    for b in _blocks(R, D * dt.itemsize):  # a block's rows stay in cache for all passes
        xb, hb = x2[b], xhat[b]
        ms = _vecdot(xb, xb)
        ms *= invD
        rb = _inv_std(ms, eps)
        inv[b] = rb
        np.multiply(xb, rb[:, None], out=hb)
        if g is None:
            np.copyto(out[b], hb)
        else:
            np.multiply(hb, g, out=out[b])
    cache = dict(op="rms_norm", shape=x.shape, dtype=dt, xhat=xhat, inv_rms=inv.reshape(lead),
                 gamma=None if g is None else g.copy(), normalized_shape=ns, eps=eps)
    return out.reshape(x.shape), cache


def rms_norm_backward(dout, cache, *, retain_cache=False):
    """Gradients ``(dx, dgamma)`` of :func:`rms_norm_forward`:
    ``dx = r * (ghat - xhat * mean(ghat * xhat))`` per row, ``ghat = dout * gamma``,
    ``r = 1 / rms``. Unless ``retain_cache``, ``dx`` is written into ``cache["xhat"]``'s buffer
    and the cache is released."""
    dy2, dx, xhat, g, inv = _rows_backward(dout, cache, "rms_norm", "inv_rms", retain_cache)
    ns, dt = cache["normalized_shape"], cache["dtype"]
    R, D = xhat.shape
    invD = 1.0 / max(D, 1)
    dgamma = np.zeros(D, dt) if g is not None else None
    blocks = _blocks(R, D * dt.itemsize)
    ghat = np.empty((blocks[0].stop, D), dt) if (g is not None and blocks) else None
    for b in blocks:
        dyb, hb, dxb, rb = dy2[b], xhat[b], dx[b], inv[b]
        if g is None:
            gb = dyb
        else:
            dgamma += np.einsum("ij,ij->j", dyb, hb)
            gb = np.multiply(dyb, g, out=ghat[: dyb.shape[0]])
        s = _vecdot(gb, hb)
        s *= -invD
        np.multiply(hb, s[:, None], out=dxb)  # may overwrite hb (dxb is hb): its last use
        dxb += gb
        dxb *= rb[:, None]
    return dx.reshape(cache["shape"]), None if dgamma is None else dgamma.reshape(ns)


# ---------------------------------------------------------------------------------------
# group norm and instance norm (instance norm is group norm with one channel per group)


def _group_forward(op, x, gamma, beta, G, eps):
    N, C = x.shape[0], x.shape[1]
    L = _prod(x.shape[2:])
    gamma = _check_param("gamma", gamma, (C,), x.dtype)
    beta = _check_param("beta", beta, (C,), x.dtype)
    eps = _check_eps(eps, positive=False)
    Cg = C // G
    if op == "instance_norm":  # PyTorch's rules, in its words
        if L == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input "
                             f"size {x.shape}")
    else:  # group norm: N * C / G "channels" of L values
        _check_several(N * Cg * L, [N * Cg, G] + list(x.shape[2:]))
    K = Cg * L  # elements per (sample, group)
    invK = 1.0 / max(K, 1)
    R = N * G  # one row per (sample, group)
    x = np.ascontiguousarray(x)
    dt = x.dtype
    x3 = x.reshape(R, Cg, L)
    xc = np.empty((R, Cg, L), dt)
    out = np.empty((R, Cg, L), dt)
    mean = np.empty(R, dt)
    var = np.empty(R, dt)
    inv = np.empty(R, dt)
    # parameters per (row, channel in the group), tiled over the samples: (R, Cg)
    gt = None if gamma is None else np.tile(gamma.reshape(G, Cg), (N, 1))
    bt = None if beta is None else np.tile(beta.reshape(G, Cg), (N, 1))[:, :, None]
    ones = np.ones(K, dt)
    for b in _blocks(R, K * dt.itemsize):
        xb, cb, yb = x3[b], xc[b], out[b]
        n = xb.shape[0]  # explicit row counts: -1 is ambiguous for K = 0 (empty spatial axes)
        xb2, cb2 = xb.reshape(n, K), cb.reshape(n, K)
        mb = np.matmul(xb2, ones)
        mb *= invK
        mean[b] = mb
        np.subtract(xb2, mb[:, None], out=cb2)
        vb = _vecdot(cb2, cb2)
        vb *= invK
        var[b] = vb
        rb = _inv_std(vb, eps)
        inv[b] = rb
        # einsum applies a per-row factor faster than a broadcast np.multiply
        if gt is None:
            np.einsum("ik,i->ik", cb2, rb, out=yb.reshape(n, K))
        else:
            np.einsum("icl,ic->icl", cb, gt[b] * rb[:, None], out=yb)
        if bt is not None:
            yb += bt[b]
    cache = dict(op=op, shape=x.shape, dtype=dt, groups=G, xc=xc, mean=mean.reshape(N, G),
                 var=var.reshape(N, G), inv_std=inv.reshape(N, G),
                 gamma=None if gamma is None else gamma.copy(), has_beta=beta is not None, eps=eps)
    return out.reshape(x.shape), cache


def _group_backward(dy, cache, retain):
    xc, gamma = cache["xc"], cache["gamma"]
    shape, dt, G = cache["shape"], cache["dtype"], cache["groups"]
    inv = cache["inv_std"].reshape(-1)
    R, Cg, L = xc.shape
    N, C = shape[0], shape[1]
    K = Cg * L
    invK = 1.0 / max(K, 1)
    dy3 = dy.reshape(R, Cg, L)
    dx = _dx_buffer(cache, "xc", dy, retain)
    # per (row, channel in the group), summed over the spatial axes:
    # A = sum(dout) (-> dbeta), B = sum(dout * xc) (-> dgamma)
    A = np.empty((R, Cg), dt)
    B = np.empty((R, Cg), dt)
    gt = None if gamma is None else np.tile(gamma.reshape(G, Cg), (N, 1))
    onesL = np.ones(L, dt)
    blocks = _blocks(R, K * dt.itemsize)
    varying = gt is not None and Cg > 1
    scratch = np.empty((blocks[0].stop, Cg, L), dt) if (varying and blocks) else None
    for b in blocks:
        dyb, cb, dxb, rb = dy3[b], xc[b], dx[b], inv[b]
        n = dyb.shape[0]
        if L == 1:  # a 2-D (N, C) input: nothing to sum over, and a gufunc over length-1
            # rows costs ~8x a plain multiply; a copy, as s1 below is scaled in place and
            # would otherwise write into the caller's dout
            Ab = dyb.reshape(n, Cg).copy()
            Bb = np.multiply(dyb, cb).reshape(n, Cg)
        else:
            Ab = np.matmul(dyb.reshape(n * Cg, L), onesL).reshape(n, Cg)
            Bb = _vecdot(dyb, cb)
        A[b] = Ab
        B[b] = Bb
        dyb2, cb2, dxb2 = dyb.reshape(n, K), cb.reshape(n, K), dxb.reshape(n, K)
        if not varying:
            # gamma constant over the group: sum(ghat) = gamma*S1, sum(ghat*xhat) = gamma*r*S2
            #   dx = r*gamma * (dout - S1/K - xc * r^2*S2/K) = (xc*k1 + dout - k2) * a
            s1 = Ab[:, 0] if Cg == 1 else Ab.sum(axis=1)
            s2 = Bb[:, 0] if Cg == 1 else Bb.sum(axis=1)
            k1 = rb * rb * s2
            k1 *= -invK
            s1 *= invK
            np.multiply(cb2, k1[:, None], out=dxb2)
            dxb2 += dyb2
            dxb2 -= s1[:, None]
            a = rb if gt is None else rb * gt[b][:, 0]
            dxb2 *= a[:, None]
        else:
            # gamma varies inside the group; with S1 = sum(ghat), S2 = sum(ghat*xc):
            #   dx = r*gamma*dout - r*S1/K - xc * r^3*S2/K
            gb = gt[b]
            s1 = _vecdot(Ab, gb)
            s2 = _vecdot(Bb, gb)
            s1 *= rb
            s1 *= invK
            s2 *= rb * rb * rb
            s2 *= invK
            np.multiply(cb2, s2[:, None], out=dxb2)  # may overwrite cb (dxb is cb): last use
            if L == 1:
                t = np.multiply(dyb, (gb * rb[:, None])[:, :, None], out=scratch[:n])
            else:
                t = np.einsum("icl,ic->icl", dyb, gb * rb[:, None], out=scratch[:n])
            np.subtract(t, dxb, out=dxb)
            dxb2 -= s1[:, None]
    dbeta = A.reshape(N, C).sum(axis=0) if cache["has_beta"] else None
    if gamma is not None:
        B *= inv[:, None]
        dgamma = B.reshape(N, C).sum(axis=0)
    else:
        dgamma = None
    return dx.reshape(shape), dgamma, dbeta


def group_norm_forward(x, gamma, beta, num_groups, eps=1e-5):
    """Group norm.  ``x``: (N, C, *spatial), any rank >= 2.  The statistics are taken per
    sample and per group of ``C // num_groups`` consecutive channels, over those channels
    and every spatial position.  ``gamma``, ``beta``: (C,) or None.  Returns
    ``(out, cache)``; ``cache["mean"]``, ``cache["var"]`` and ``cache["inv_std"]`` have
    shape (N, num_groups), and ``cache["xc"]`` is ``x - mean``.
    """
    _check_norm_x(x)
    _check_ndim(x, 2, "(N, C, ...)")
    if isinstance(num_groups, bool) or not isinstance(num_groups, numbers.Integral):
        raise TypeError(f"num_groups must be an int, got {type(num_groups).__name__}")
    G = int(num_groups)
    C = x.shape[1]
    if G <= 0:
        raise ValueError(f"num_groups must be positive, got {G}")
    if C % G:
        raise ValueError(f"the number of channels of x ({C}) must be divisible by num_groups ({G})")
    return _group_forward("group_norm", x, gamma, beta, G, eps)


def group_norm_backward(dout, cache, *, retain_cache=False):
    """Gradients ``(dx, dgamma, dbeta)`` of :func:`group_norm_forward`.

    Unless ``retain_cache``, ``dx`` is written into ``cache["xc"]``'s buffer and the cache
    is released (see the module notes).
    """
    _check_cache(cache, "group_norm")
    retain_cache = _check_bool("retain_cache", retain_cache)
    return _group_backward(_check_dout(dout, cache), cache, retain_cache)


def instance_norm_forward(x, gamma, beta, eps=1e-5):
    """Instance norm.  ``x``: (N, C, *spatial) with at least one spatial axis.  The
    statistics are taken per sample and per channel, over the spatial axes.  ``gamma``,
    ``beta``: (C,) or None.  Returns ``(out, cache)``; ``cache["mean"]``, ``cache["var"]``
    and ``cache["inv_std"]`` have shape (N, C), and ``cache["xc"]`` is ``x - mean``.
    """
    _check_norm_x(x)
    _check_ndim(x, 3, "(N, C, *spatial)")
    if x.shape[1] == 0:  # no channel: no group to form (C // G), an empty result as torch's
        raise ValueError(f"instance_norm_forward: x of shape {x.shape} has no channels")
    return _group_forward("instance_norm", x, gamma, beta, x.shape[1], eps)


def instance_norm_backward(dout, cache, *, retain_cache=False):
    """Gradients ``(dx, dgamma, dbeta)`` of :func:`instance_norm_forward`.

    Unless ``retain_cache``, ``dx`` is written into ``cache["xc"]``'s buffer and the cache
    is released (see the module notes).
    """
    _check_cache(cache, "instance_norm")
    retain_cache = _check_bool("retain_cache", retain_cache)
    return _group_backward(_check_dout(dout, cache), cache, retain_cache)
