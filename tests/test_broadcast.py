"""Binary ops between a big array and a small broadcast operand, run in long rows
(``tinygrad_norm/_broadcast.py``): the same values, bit for bit, as NumPy's own broadcasting, for
every layout it takes and every one it must leave to NumPy; and through the tape at the sizes
where the fast path is taken (the property-based parity tests use small arrays, which never
reach it)."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm.functional as F
from tinygrad_norm import Tensor
from tinygrad_norm import _broadcast as B

UFUNCS = [np.add, np.subtract, np.multiply, np.true_divide]
# (big shape, small shape, whether the long-row path applies)
LAYOUTS = [
    ((32, 64, 28, 28), (1, 64, 1, 1), True),    # batch norm's per-channel factor, NCHW
    ((32, 64, 28, 28), (64, 1, 1), True),       # the same without the leading 1
    ((64, 128, 768), (768,), True),             # layer norm's weight
    ((64, 16, 512), (1, 16, 1), True),          # group norm's per-group statistic
    ((512, 1024), (1, 1024), True),             # 2-D batch norm: rows of 1024 become 16K
    ((16, 16384), (1, 16384), False),           # rows already as long as the ones it would make
    ((256, 512), (256, 1), False),              # varies along the leading axis
    ((32, 64, 28, 28), (1, 64, 28, 28), False),  # inner loop long enough
    ((8, 16, 8, 8), (1, 16, 1, 1), False),      # too small to pay
]


def _pair(big, small, dtype, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(big).astype(dtype)
    b = (rng.standard_normal(small) + 3.0).astype(dtype)  # away from 0 for the division
    return a, b


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("big,small,taken", LAYOUTS)
def test_same_values_as_numpy_either_operand_order(big, small, taken, dtype):
    a, b = _pair(big, small, dtype)
    for uf in UFUNCS:
        for x, y in ((a, b), (b, a)):
            got = B.apply(uf, x, y)
            assert (got is not None) == taken
            np.testing.assert_array_equal(B.binary(uf, x, y), uf(x, y))
            if got is not None:
                assert got.shape == a.shape and got.dtype == a.dtype
                assert got.flags.owndata  # the tape writes in place only into arrays that do
                np.testing.assert_array_equal(got, uf(x, y))


@pytest.mark.parametrize("big,small,taken", LAYOUTS[:4])
def test_in_place_into_the_big_operand(big, small, taken):
    a, b = _pair(big, small, np.float32, seed=1)
    expected = a * b
    out = a.copy()
    assert B.binary(np.multiply, out, b, out=out) is out
    np.testing.assert_array_equal(out, expected)


def test_what_it_leaves_to_numpy():
    a, b = _pair((32, 64, 28, 28), (1, 64, 1, 1), np.float32)
    assert B.apply(np.multiply, a, b.astype(np.float64)) is None    # mixed dtypes promote
    assert B.apply(np.multiply, a.astype(np.int64), b.astype(np.int64)) is None
    assert B.apply(np.multiply, a.transpose(0, 2, 3, 1), b[0, :, 0, 0]) is None  # not C-order
    assert B.apply(np.multiply, a, np.ones((2, 64, 1, 1), np.float32)) is None   # no broadcast
    wrong_out = np.empty((32, 64, 28, 28), np.float64)
    assert B.apply(np.multiply, a, b, out=wrong_out) is None
    assert B.binary(np.multiply, a, 2.0).dtype == np.float32           # scalars: the plain ufunc


def test_compact_gives_the_repeated_array():
    small = np.arange(6.0).reshape(1, 6, 1)
    view = np.broadcast_to(small, (4, 6, 5))
    assert B.compact(view).shape == (1, 6, 1)
    np.testing.assert_array_equal(B.compact(view), small)
    full = np.ones((4, 6, 5))
    assert B.compact(full) is full


@pytest.mark.parametrize("norm", ["batch", "group", "instance", "layer"])
def test_a_big_norm_step_matches_the_reference(norm):
    # At this size every broadcast op of the step (forward and VJPs) takes the long-row path.
    from tinygrad_norm import reference as R
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 64, 24, 24))
    dy = rng.standard_normal(x.shape)
    C = x.shape[1]
    shape = x.shape[1:] if norm == "layer" else (C,)
    w, b = rng.standard_normal(shape) + 1.0, rng.standard_normal(shape)
    X, W, Bt = (Tensor(v.copy(), requires_grad=True) for v in (x, w, b))
    if norm == "batch":
        y = F.batch_norm(X, None, None, W, Bt, training=True)
        ref, cache = R.batch_norm_forward(x, w, b)
    elif norm == "group":
        y = F.group_norm(X, 16, W, Bt)
        ref, cache = R.group_norm_forward(x, w, b, 16)
    elif norm == "instance":
        y = F.instance_norm(X, weight=W, bias=Bt)
        ref, cache = R.instance_norm_forward(x, w, b)
    else:
        y = F.layer_norm(X, shape, W, Bt)
        ref, cache = R.layer_norm_forward(x, w, b)
    y.backward(dy)
    backward = getattr(R, f"{norm}_norm_backward")
    dx, dw, db = backward(dy, cache)
    for got, want in ((y.numpy(), ref), (X.grad.numpy(), dx), (W.grad.numpy(), dw),
                      (Bt.grad.numpy(), db)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * np.abs(want).max())


def test_a_big_batch_norm_step_peaks_at_four_times_its_input():
    # The long-row path must hand back arrays that own their memory: the tape writes a VJP's
    # result into such a gradient instead of allocating; a reshaped view cost one more x-sized
    # array at the peak (5x instead of 4x). 4x = y, dx, xc and one gradient in flight.
    import tracemalloc
    rng = np.random.default_rng(4)
    x = Tensor(rng.standard_normal((16, 64, 24, 24)).astype(np.float32), requires_grad=True)
    w = Tensor(np.ones(64, np.float32), requires_grad=True)
    b = Tensor(np.zeros(64, np.float32), requires_grad=True)
    dy = rng.standard_normal(x.shape).astype(np.float32)

    def step():
        x.grad = w.grad = b.grad = None
        F.batch_norm(x, None, None, w, b, training=True).backward(dy)

    step()
    x.grad = w.grad = b.grad = None
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        step()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak / x.data.nbytes < 4.5


# ---- the cheap broadcast view and shape check ---------------------------------------------------

VIEWS = [((1, 128), (64, 128)), ((128,), (64, 128)), ((64, 1), (64, 128)), ((), (3, 4)),
         ((1, 1), (5, 6)), ((1, 8, 1, 1), (4, 8, 3, 3)), ((4, 1, 3), (2, 4, 5, 3)),
         ((64, 128), (64, 128)), ((0, 1), (0, 7)), ((1,), (0,))]


@pytest.mark.parametrize("small,full", VIEWS)
def test_view_as_is_numpy_broadcast_to(small, full):
    g = np.asarray(np.arange(np.prod(small, dtype=int), dtype=np.float32).reshape(small) + 1)
    v, ref = B.view_as(g, full), np.broadcast_to(g, full)
    assert v.shape == ref.shape and v.dtype == ref.dtype and v.strides == ref.strides
    np.testing.assert_array_equal(v, ref)
    assert not v.flags.writeable
    assert np.shares_memory(v, g) or v.size == 0
    assert B.fits_into(small, full) == (np.broadcast_shapes(small, full) == full)


@pytest.mark.parametrize("small,full", [((2, 3), (4, 3)), ((3, 1), (2, 5)), ((2, 1, 1), (2, 2))])
def test_fits_into_refuses_what_would_not_broadcast_or_would_grow(small, full):
    assert not B.fits_into(small, full)
    with pytest.raises(ValueError):
        B.view_as(np.ones(small), full)  # left to np.broadcast_to, which says why


def test_view_as_of_a_non_contiguous_array_falls_back_to_numpy():
    g = np.arange(12.0).reshape(3, 4)[:, ::2]  # (3, 2), strided
    np.testing.assert_array_equal(B.view_as(g, (5, 3, 2)), np.broadcast_to(g, (5, 3, 2)))
