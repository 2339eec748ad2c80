"""Spatial transformers, as ``torch.nn.functional.affine_grid`` and ``grid_sample``: composites.

``affine_grid`` is one matrix product of a constant base grid with ``theta``. ``grid_sample``
turns each grid coordinate into a source position on the tape (unnormalise, then clip or
reflect), reads the 1 (nearest), 4 or 8 (bilinear) or 16 (bicubic) neighbouring pixels with ONE
gather, and sums them with weights computed from that position on the tape. So the gradient
reaches both the input (the gather's scatter-add) and the grid (through the weights), and no
derivative is written here.

Which pixels are read is integer bookkeeping done in NumPy (a floor, a rounding, bounds); what
PyTorch differentiates is kept on the tape, operation for operation, so that its gradients come
out, kinks included: a clipped coordinate has gradient 0 on the border itself (PyTorch counts
the border as outside), a reflected one gets the sign of its last mirror, and at an integer
position bilinear uses the cell to the right (the floor's), as PyTorch's kernels.
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import ops
from ..autograd import scope
from ..tensor import Tensor, apply, stack, where
from ._checks import _flag

__all__ = ["affine_grid", "grid_sample"]

_MODES = ("bilinear", "nearest", "bicubic")
_PADDING = ("zeros", "border", "reflection")
_A = -0.75  # the cubic convolution constant of PyTorch's bicubic mode


def _default_align(align_corners, fn):
    if align_corners is None:
        # torch's own words, at the caller's line (stacklevel: caller -> here)
        warnings.warn("Default grid_sample and affine_grid behavior has changed to "
                      "align_corners=False since 1.3.0. Please specify align_corners=True if "
                      "the old behavior is desired. See the documentation of grid_sample for "
                      "details.", stacklevel=3)
        return False
    return _flag(align_corners, "align_corners", fn)


# ---- affine_grid -----------------------------------------------------------------------------

def affine_grid(theta, size, align_corners=None):
    """The sampling grid of a batch of affine maps: (N, 2, 3) ``theta`` and ``size`` (N, C, H, W)
    give an (N, H, W, 2) grid of (x, y) in [-1, 1] coordinates; (N, 3, 4) and (N, C, D, H, W)
    give (N, D, H, W, 3). ``align_corners``: as ``grid_sample`` (None warns, then False)."""
    fn = "affine_grid"
    if not isinstance(theta, Tensor):
        raise TypeError(f"{fn}(): argument 'theta' must be Tensor, not {type(theta).__name__}")
    align_corners = _default_align(align_corners, fn)
    if theta.dtype.kind != "f":
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if isinstance(size, (str, bytes)) or not hasattr(size, "__len__") or any(
            isinstance(s, (bool, np.bool_)) or not isinstance(s, numbers.Integral) for s in size):
        raise TypeError(f"{fn}(): argument 'size' must be a sequence of ints, got {size!r}")
    size = [int(s) for s in size]
    if len(size) == 4:
        if theta.ndim != 3 or theta.shape[-2:] != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{size}. Got {tuple(theta.shape)}.")
        spatial = size[2:]
    elif len(size) == 5:
        if theta.ndim != 3 or theta.shape[-2:] != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{size}. Got {tuple(theta.shape)}.")
        spatial = size[2:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size "
                      "grids when align_corners=True. This is not an intended use case of "
                      "affine_grid. See the documentation of affine_grid for details.",
                      stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != size[0]:  # torch's batched product refuses it, deep inside
        raise ValueError(f"{fn}(): theta holds {theta.shape[0]} matrices but size asks for a "
                         f"batch of {size[0]}")
    base = _base_grid(spatial, align_corners, theta.dtype)
    with scope(fn, size=tuple(size), align_corners=align_corners):
        # (P, k+1) @ (N, k+1, k) -> (N, P, k): each point times each matrix, transposed
        grid = Tensor(base) @ theta.transpose(0, 2, 1)
        return grid.reshape((size[0],) + tuple(spatial) + (len(spatial),))


def _linspace(n, align_corners, dtype):
    """torch's ``linspace(-1, 1, n)`` (each half counted from its own end, as its kernel), shrunk
    to the pixel centres by (n - 1) / n when the corners are not aligned; one point is 0."""
    if n <= 1:
        return np.zeros(max(n, 0), dtype)
    dt = dtype.type
    step = (dt(1) - dt(-1)) / dt(n - 1)
    i = np.arange(n)
    r = np.where(i < n // 2, dt(-1) + step * i.astype(dtype), dt(1) - step * (n - 1 - i).astype(dtype))
    r = r.astype(dtype)
    if not align_corners:
        r = (r * dt(n - 1)) / dt(n)
    return r.astype(dtype)


def _base_grid(spatial, align_corners, dtype):
    """(prod(spatial), k + 1) rows (x, y[, z], 1), x varying fastest (the last spatial axis)."""
    axes = [_linspace(n, align_corners, dtype) for n in spatial]  # (D,) H, W
    mesh = np.meshgrid(*axes, indexing="ij")
    cols = [m.reshape(-1) for m in reversed(mesh)]  # x (W) first, then y (H), then z (D)
    cols.append(np.ones(math.prod(spatial), dtype))
    return np.stack(cols, axis=1).astype(dtype)


# ---- grid_sample -----------------------------------------------------------------------------

def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` (N, C, H, W) at the (N, Ho, Wo, 2) ``grid`` of (x, y) positions in
    [-1, 1] (-1: the left/top edge), giving (N, C, Ho, Wo); or (N, C, D, H, W) with an
    (N, Do, Ho, Wo, 3) grid of (x, y, z). ``mode``: 'bilinear' (trilinear for 5-D), 'nearest'
    (round half to even, as torch) or 'bicubic' (4-D; cubic convolution, A = -0.75).
    ``padding_mode``: 'zeros', 'border' (clip to the edge) or 'reflection' (mirror at the edges,
    then clip). ``align_corners``: True puts -1 and 1 at the centres of the corner pixels, False
    (the default, with torch's warning when None) at their outer edges. The gradient reaches the
    input and the grid (zeros for the grid under 'nearest', as torch)."""
    fn = "grid_sample"
    if mode not in _MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in _PADDING:
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    align_corners = _default_align(align_corners, fn)
    _check_sample_args(input, grid, mode)
    k = input.ndim - 2
    spatial = input.shape[2:]  # (D,) H, W
    with scope(fn, mode=mode, padding_mode=padding_mode, align_corners=align_corners):
        # grid[..., 0] is x (along W), [..., 1] y (along H), [..., 2] z (along D)
        sizes = tuple(reversed(spatial))
        if mode == "bicubic":
            idx, weights = _bicubic(grid, sizes, padding_mode, align_corners)
        else:
            coords = [_source(grid[..., a], sizes[a], padding_mode, align_corners, k == 2)
                      for a in range(k)]
            if mode == "nearest":
                idx, weights = _nearest(coords, sizes)
            else:
                idx, weights = _linear(coords, sizes)
        out = _gather_sum(input, idx, weights)
        if mode == "nearest" and grid.requires_grad:
            # the grid gets gradient 0, as torch's (not None): a select that never picks it
            out = out + where(np.zeros(grid.shape, bool), grid, 0.0).sum(axis=-1).unsqueeze(1)
        return out


def _check_sample_args(input, grid, mode):
    """torch's checks, as ValueError/TypeError with its words."""
    fn = "grid_sampler"
    for name, t in (("input", input), ("grid", grid)):
        if not isinstance(t, Tensor):
            raise TypeError(f"grid_sample(): argument '{name}' must be Tensor, not "
                            f"{type(t).__name__}")
    if input.dtype.kind != "f" or grid.dtype.kind != "f":
        raise TypeError(f"{fn}(): expected floating-point input and grid, but input has "
                        f"{input.dtype} and grid has {grid.dtype}")
    if input.dtype != grid.dtype:
        raise TypeError(f"{fn}(): expected input and grid to have same dtype, but input has "
                        f"{input.dtype} and grid has {grid.dtype}")
    if input.ndim not in (4, 5) or grid.ndim != input.ndim:
        raise ValueError(f"{fn}(): expected 4D or 5D input and grid with same number of "
                         f"dimensions, but got input with sizes {list(input.shape)} and grid "
                         f"with sizes {list(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise ValueError(f"{fn}(): expected grid and input to have same batch size, but got "
                         f"input with sizes {list(input.shape)} and grid with sizes "
                         f"{list(grid.shape)}")
    if grid.shape[-1] != input.ndim - 2:
        raise ValueError(f"{fn}(): expected grid to have size {input.ndim - 2} in last "
                         f"dimension, but got grid with sizes {list(grid.shape)}")
    for d in range(2, input.ndim):
        if input.shape[d] == 0:
            raise ValueError(f"{fn}(): expected input to have non-empty spatial dimensions, "
                             f"but input has sizes {list(input.shape)} with dimension {d} "
                             f"being empty")
    if mode == "bicubic" and input.ndim != 4:
        raise ValueError(f"{fn}(): bicubic interpolation only supports 4D input")


def _unnormalize(c, n, align_corners, fused=False):
    """[-1, 1] to pixel units, on the tape: the corner centres (True) or outer edges (False).
    ``fused``: rounded as torch's 2-D CPU kernel rounds it, one fused multiply-add."""
    if align_corners:
        return (c + 1.0) * ((n - 1) / 2)
    u = (c + 1.0) * (n / 2) - 0.5
    return _fma_rounded(u, (c + 1.0).data, n) if fused else u


def _fma_rounded(u, a, n):
    """``u = a * (n / 2) - 0.5`` with one rounding instead of two. torch's 2-D kernel computes
    it as a fused multiply-add; the two differ by an ulp, which decides the side of a pixel that
    a point lands on when it is on one up to rounding (an identity affine_grid puts every point
    there: the spatial transformer tutorial's start), and so the one-sided gradient with respect
    to the grid. A constant added on the tape: the gradient is ``n / 2`` either way."""
    if a.dtype == np.float32:  # exact in float64 (24 + 53 bits to spare), then one rounding
        exact = (a.astype(np.float64) * (n / 2) - 0.5).astype(np.float32)
    elif a.dtype == np.float64:
        exact = _fma64(a, n / 2, -0.5)
    else:
        return u
    with np.errstate(invalid="ignore"):
        delta = exact - u.data  # exact: the two are an ulp apart (NaN and inf: left as they are)
        delta = np.where(np.isfinite(delta), delta, 0).astype(a.dtype)
    return u + Tensor._wrap(delta) if delta.any() else u


def _fma64(a, b, c):
    """``a * b + c`` rounded once, in float64 arithmetic: the product split exactly into
    ``p + e`` (Dekker's two-product; longdouble is no help: NumPy's longdouble array loops
    round like double here), the sum by Knuth's two-sum, the two error terms added last."""
    with np.errstate(over="ignore", invalid="ignore"):
        p = a * b
        ah, bh = _split(a), _split(np.float64(b))
        al, bl = a - ah, b - bh
        e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
        s = p + c
        v = s - p
        t = (p - (s - v)) + (c - v)
        return s + (t + e)


def _split(x):
    big = x * 134217729.0  # 2**27 + 1: Veltkamp's split into two 26-bit halves
    return big - (big - x)


def _clip(c, n):
    """Clip to [0, n - 1]; the gradient is 1 strictly inside and 0 on the border itself (torch
    treats the border as outside), hence a select, not ``clip``."""
    v = c.data
    with np.errstate(invalid="ignore"):
        inside = (v > 0) & (v < n - 1)
        # NaN (a NaN or infinite grid value, or a reflected infinity) goes to 0, as torch's
        # vectorised max(x, 0) does
        edge = np.where(v >= n - 1, n - 1, 0).astype(v.dtype)
    return where(inside, c, edge)


def _reflect(c, n, align_corners):
    """Mirror ``c`` into [low, low + span] (span n - 1 at the centres, n at the edges), as
    torch's vectorised kernel: |c - low|, less whole double spans, once more mirrored if past
    the far end. The sign and the shifts are constants, the arithmetic on the tape."""
    low = 0.0 if align_corners else -0.5
    twice = 2.0 * ((n - 1) if align_corners else n)
    if twice == 0:  # a single pixel at the centres: everything maps onto it (the clip's 0)
        return c
    dt = c.dtype.type
    d = c - low
    with np.errstate(invalid="ignore"):  # an infinity becomes NaN here, and 0 in the clip
        sign = np.where(d.data < 0, dt(-1), dt(1))
        a = d * sign
        flips = np.trunc(a.data / dt(twice))
        extra = a - flips * dt(twice)
        back = extra.data > dt(twice) - extra.data
        mirrored = extra * np.where(back, dt(-1), dt(1)) + np.where(back, dt(twice), dt(0))
    return mirrored + low


def _source(c, n, padding_mode, align_corners, fused=False):
    """Grid coordinates (in [-1, 1]) to source positions in pixels, with the padding's clip or
    reflection; 'zeros' leaves them as they are (the gather masks what falls outside)."""
    c = _unnormalize(c, n, align_corners, fused)
    if padding_mode == "border":
        return _clip(c, n)
    if padding_mode == "reflection":
        return _clip(_reflect(c, n, align_corners), n)
    return c


def _flat(ints, sizes):
    """Per-axis integer positions (x, y[, z]) as one flat index into the (N * prod(spatial))
    pixels, -1 where any falls outside (the gather reads the zero row there)."""
    ok = np.ones(ints[0].shape, bool)
    flat = np.zeros(ints[0].shape, np.intp)
    stride = 1
    for p, n in zip(ints, sizes):
        with np.errstate(invalid="ignore"):
            ok &= (p >= 0) & (p <= n - 1)  # NaN and huge values: outside, before any cast
        flat += np.where(ok, p, 0).astype(np.intp) * stride
        stride *= n
    return np.where(ok, flat, -1)


def _nearest(coords, sizes):
    """One neighbour, rounded half to even (torch's nearbyint), weight 1."""
    ints = [np.rint(c.data) for c in coords]
    return _flat(ints, sizes)[:, None], None


def _linear(coords, sizes):
    """The 2**k corners of each position's cell and their (bi/tri)linear weights: the floor's
    cell, so an integer position takes its right-hand cell's slope, as torch's."""
    lows = [np.floor(c.data) for c in coords]
    # per axis: (weight of the low neighbour, of the high one) = (1 - t, t), t = c - floor(c)
    parts = []
    for c, lo in zip(coords, lows):
        t = c - lo.astype(c.dtype)
        parts.append((1.0 - t, t))
    weights = []
    k = len(coords)
    for corner in range(2 ** k):
        # bit a of the corner: low or high along axis a (x fastest): torch's nw, ne, sw, se
        bits = [(corner >> a) & 1 for a in range(k)]
        w = None
        for a in reversed(range(k)):  # z, y, x: torch's product order
            f = parts[a][bits[a]]
            w = f if w is None else w * f
        weights.append(w)
    return _corners(lows, sizes), stack(weights, axis=1)


def _corners(lows, sizes):
    """``_flat`` of the 2**k corners of each cell at once, as (N, 2**k, *out): each axis's
    two positions (low, low + 1) on an axis of length 2 of their own (z, y, x in turn, so that
    x varies fastest, as the corner numbering), broadcast together: a few passes per axis over
    all corners at once, where one ``_flat`` per corner made k passes each."""
    k = len(lows)
    n = lows[0].shape[0]
    out_shape = lows[0].shape[1:]
    flat, ok, stride = 0, True, 1
    for a, (lo, size) in enumerate(zip(lows, sizes)):
        corner_axes = tuple(2 if j == k - 1 - a else 1 for j in range(k))
        step = np.arange(2, dtype=lo.dtype).reshape((1,) + corner_axes + (1,) * len(out_shape))
        p = lo.reshape((n,) + (1,) * k + out_shape) + step
        with np.errstate(invalid="ignore"):
            inside = (p >= 0) & (p <= size - 1)  # NaN and huge values: outside, before the cast
        flat = flat + np.where(inside, p, 0).astype(np.intp) * stride
        ok = ok & inside
        stride *= size
    flat = np.where(ok, flat, -1)
    return flat.reshape((n, 2 ** k) + tuple(out_shape))


def _cubic_weights(t):
    """torch's four cubic-convolution coefficients for a fractional offset t (on the tape)."""
    def near(d):  # |d| <= 1
        return ((_A + 2) * d - (_A + 3)) * d * d + 1.0

    def far(d):  # 1 < |d| < 2
        return ((_A * d - 5 * _A) * d + 8 * _A) * d - 4 * _A

    return [far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)]


def _tap_positions(p, n, padding_mode, align_corners):
    """Integer tap positions mapped by the padding (torch pads each bicubic tap, not the
    sampled position): clipped to the edge, or reflected and clipped; 'zeros' leaves them."""
    if padding_mode == "zeros":
        return p
    if padding_mode == "reflection":
        t = _reflect(Tensor(p), n, align_corners).data
    else:
        t = p
    return np.clip(t, 0, n - 1)


def _bicubic(grid, sizes, padding_mode, align_corners):
    """The 4 x 4 taps around each position and the products of their cubic weights."""
    cx, cy = (_unnormalize(grid[..., a], sizes[a], align_corners, True) for a in range(2))
    fx, fy = np.floor(cx.data), np.floor(cy.data)
    wx = _cubic_weights(cx - fx.astype(cx.dtype))
    wy = _cubic_weights(cy - fy.astype(cy.dtype))
    idx = []
    for j in range(4):  # rows (y) outer, columns (x) inner
        py = _tap_positions(fy - 1 + j, sizes[1], padding_mode, align_corners)
        for i in range(4):
            px = _tap_positions(fx - 1 + i, sizes[0], padding_mode, align_corners)
            idx.append(_flat([px, py], sizes))
    # the 16 products wx[i] * wy[j] as one outer product: (N, 4, 1, ...) * (N, 1, 4, ...)
    wy, wx = stack(wy, axis=1).unsqueeze(2), stack(wx, axis=1).unsqueeze(1)
    weights = (wx * wy).reshape((wx.shape[0], 16) + wx.shape[3:])
    return np.stack(idx, axis=1), weights


def _gather_sum(input, idx, weights):
    """sum_k weights[:, k] * input at the flat pixel idx[:, k] (-1: a zero), as (N, C, *out).

    The input goes channels-first, one row per channel holding every pixel of the batch and
    then a zero that every outside position reads: ONE ``Take`` along the rows for all taps,
    whose gradient is one ``AddAt`` (what lands on the zero is dropped). Channels-first, that
    scatter is one long ``np.add.at`` per channel sharing one index (``AddAt``'s quick case);
    channels-last, rows of C values that many taps share (the zero row) went through
    ``getitem``'s sort-based scatter, 3-5x torch's whole time."""
    n, c = input.shape[:2]
    pixels = math.prod(input.shape[2:])
    out_spatial = idx.shape[2:]
    points = math.prod(out_spatial)
    taps = idx.shape[1]
    chans = input.reshape(n, c, pixels).transpose(1, 0, 2).reshape(c, n * pixels)
    chans = chans.pad(((0, 0), (0, 1)))  # the zero, at n * pixels
    base = (np.arange(n, dtype=np.intp) * pixels).reshape((n, 1) + (1,) * len(out_spatial))
    flat = np.where(idx >= 0, idx + base, n * pixels).reshape(n, taps, points)
    vals = apply(ops.Take, chans, index=flat, axis=1)  # (C, N, taps, points)
    if weights is None:  # nearest: the one tap as it is
        out = vals.reshape(c, n, points)
    else:
        out = (vals * weights.reshape(n, taps, points)).sum(axis=2)
    return out.transpose(1, 0, 2).reshape((n, c) + tuple(out_spatial))
