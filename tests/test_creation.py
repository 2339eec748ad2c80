"""PyTorch's creation and random functions (creation.py) and the in-place random fills:
values and dtypes against torch 2.13 where deterministic (linspace, logspace, full_like,
fill_diagonal_), and for the draws: dtypes, ranges, seeded reproducibility (manual_seed and
generator=) and distribution checks at fixed seeds, so they cannot flake; torch's errors."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor


@pytest.mark.parametrize("args", [(0, 1, 5), (-3.5, 2.0, 7), (1, -1, 10), (2, 2, 1), (0, 1, 0),
                                  (0.1, 0.7, 1000)])
def test_linspace_logspace_match_torch(torch, args):
    for dt, tdt in ((None, None), (np.float64, torch.float64)):
        got, ref = tg.linspace(*args, dtype=dt), torch.linspace(*args, dtype=tdt)
        assert got.dtype == (dt or np.float32)
        tol = (2e-7 if dt is None else 1e-15) * max(1.0, float(np.abs(ref.numpy()).max(initial=0)))
        np.testing.assert_allclose(got.data, ref.numpy(), rtol=0, atol=tol)  # an ulp: see docs
        got, ref = tg.logspace(*args, base=2.0, dtype=dt), torch.logspace(*args, base=2.0,
                                                                          dtype=tdt)
        np.testing.assert_allclose(got.data, ref.numpy(), rtol=1e-6 if dt is None else 1e-14)
    assert tg.linspace(0, 1, 5).data[-1] == 1.0  # the end is exact
    np.testing.assert_array_equal(tg.linspace(0, 10, 4, dtype=np.int64).data,
                                  torch.linspace(0, 10, 4, dtype=torch.int64).numpy())


def test_like_constructors_keep_shape_and_dtype():
    x = Tensor(np.zeros((2, 3), np.float64))
    i = Tensor(np.zeros((4,), np.int32))
    assert tg.full_like(x, 2.5).dtype == np.float64 and (tg.full_like(x, 2.5).data == 2.5).all()
    assert tg.full_like(i, 3).dtype == np.int32
    assert tg.full_like(x, 1, dtype=np.float32).dtype == np.float32
    for f in (tg.rand_like, tg.randn_like, tg.empty_like):
        assert f(x).shape == (2, 3) and f(x).dtype == np.float64
    assert tg.randint_like(i, 5).dtype == np.int32
    assert tg.empty(2, 3).dtype == np.float32 and tg.empty((2,), dtype=np.int64).dtype == np.int64
    assert tg.rand_like(x, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="not implemented for 'int32'"):
        tg.rand_like(i)
    with pytest.raises(TypeError, match="not implemented for 'int32'"):
        tg.randn_like(i)


def test_seeded_draws_repeat():
    def draw(generator=None):
        tg.manual_seed(5)
        x = Tensor(np.zeros(4))
        return [tg.rand_like(x, generator=generator), tg.randn_like(x, generator=generator),
                tg.randint(0, 9, (4,), generator=generator), tg.randperm(6, generator=generator),
                tg.multinomial(Tensor(np.ones(5)), 3, generator=generator),
                tg.normal(0.0, 1.0, (3,), generator=generator),
                tg.bernoulli(Tensor(np.full(4, 0.5)), generator=generator),
                Tensor(np.zeros(3)).uniform_(generator=generator),
                Tensor(np.zeros(3)).normal_(generator=generator),
                Tensor(np.zeros(3)).bernoulli_(generator=generator),
                Tensor(np.zeros(3, np.int64)).random_(10, generator=generator)]
    first, again = draw(), draw()
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.data, b.data)
    mine = draw(np.random.default_rng(1))
    again = draw(np.random.default_rng(1))
    for a, b in zip(mine, again):
        np.testing.assert_array_equal(a.data, b.data)
    assert not np.array_equal(first[1].data, mine[1].data)


def test_integer_draws():
    tg.manual_seed(0)
    r = tg.randint(3, 7, (20000,))
    assert r.dtype == np.int64 and r.data.min() == 3 and r.data.max() == 6
    counts = np.bincount(r.data - 3)
    assert np.abs(counts / 20000 - 0.25).max() < 0.02
    assert tg.randint(5, (2, 3)).shape == (2, 3)  # randint(high, size)
    p = tg.randperm(50)
    assert p.dtype == np.int64 and sorted(p.data.tolist()) == list(range(50))
    assert tg.randperm(5, dtype=np.int32).dtype == np.int32
    with pytest.raises(ValueError, match="random_ expects 'from' to be less than 'to', but got "
                                         "from=5 >= to=5"):
        tg.randint(5, 5, (2,))



_TORCH_DT = {np.uint8: "uint8", np.int8: "int8", np.int16: "int16", np.uint16: "uint16",
             np.int32: "int32", np.uint32: "uint32", np.bool_: "bool", np.float16: "float16",
             np.float32: "float32"}


@pytest.mark.parametrize("dt, low, high", [
    (np.uint8, -5, 5), (np.uint8, 0, 257), (np.int8, 0, 200), (np.int8, -129, 0),
    (np.int8, -200, 300), (np.int16, 0, 70000), (np.uint16, -1, 1), (np.int32, 0, 2 ** 31 + 1),
    (np.uint32, 0, 2 ** 40), (np.bool_, 0, 3), (np.bool_, -1, 1)])
def test_integer_draws_that_a_narrow_dtype_cannot_hold_are_refused_as_torch(torch, dt, low,
                                                                             high):
    # they were drawn in int64 and cast: uint8 [-5, 5) gave 251..255, int8 [0, 200) negatives
    tdt = getattr(torch, _TORCH_DT[dt])
    with pytest.raises(RuntimeError) as ref:
        torch.randint(low, high, (6,), dtype=tdt)
    with pytest.raises(RuntimeError):
        torch.randint_like(torch.zeros(6, dtype=tdt), low, high)
    words = str(ref.value)  # e.g. "from is out of bounds for unsigned char"
    tg.manual_seed(3)
    state = tg.random.generator().bit_generator.state
    with pytest.raises(ValueError, match=f"^randint\\(\\): {words} \\(.*does not fit dtype"):
        tg.randint(low, high, (6,), dtype=dt)
    with pytest.raises(ValueError, match=f"^randint_like\\(\\): {words} "):
        tg.randint_like(Tensor(np.zeros(6, dt)), low, high)
    with pytest.raises(ValueError, match=words):  # also for an empty draw, as torch
        tg.randint(low, high, (0,), dtype=dt)
    assert tg.random.generator().bit_generator.state == state  # refused before any draw


@pytest.mark.parametrize("dt, low, high", [(np.uint8, 0, 256), (np.int8, -128, 128),
                                           (np.bool_, 0, 2), (np.int16, -5, 5)])
def test_integer_draws_at_a_dtypes_bounds_pass_as_torch(torch, dt, low, high):
    torch.randint(low, high, (6,), dtype=getattr(torch, _TORCH_DT[dt]))
    tg.manual_seed(0)
    r = tg.randint(low, high, (4000,), dtype=dt)
    assert r.dtype == dt and r.data.astype(np.int64).min() == low
    assert r.data.astype(np.int64).max() == high - 1
    r = tg.randint_like(Tensor(np.zeros(4000, dt)), low, high)
    assert r.dtype == dt and r.data.astype(np.int64).max() == high - 1


def test_float_draws_beyond_the_exact_integers_warn_as_torch(torch):
    for low, high, what in ((0, 2050, "to - 1"), (-2049, 0, "from")):
        with pytest.warns(UserWarning, match=f"{what} is out of bounds \\[-\\(2\\^11\\), "
                                             f"2\\^11\\]"):
            torch.randint(low, high, (3,), dtype=torch.float16)
        with pytest.warns(UserWarning, match=f"randint\\(\\): {what} is out of bounds "
                                             f"\\[-\\(2\\^11\\), 2\\^11\\]"):
            tg.randint(low, high, (3,), dtype=np.float16)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tg.randint(-2048, 2049, (5,), dtype=np.float16).dtype == np.float16


@pytest.mark.parametrize("n, dt", [(300, np.uint8), (257, np.uint8), (129, np.int8),
                                   (70000, np.int16), (65537, np.uint16), (5000, np.float16),
                                   (2050, np.float16), (2 ** 24 + 2, np.float32)])
def test_a_permutation_that_a_narrow_dtype_cannot_hold_is_refused_as_torch(torch, n, dt):
    # randperm(300, dtype=uint8) had 256 distinct values; float16 rounded 5000 into 3299
    with pytest.raises(RuntimeError) as ref:
        torch.randperm(n, dtype=getattr(torch, _TORCH_DT[dt]))
    import re
    state = tg.random.generator().bit_generator.state
    with pytest.raises(ValueError, match="^randperm\\(\\): " + re.escape(str(ref.value))):
        tg.randperm(n, dtype=dt)
    assert tg.random.generator().bit_generator.state == state


def test_a_permutation_at_a_dtypes_bounds_passes_as_torch(torch):
    for n, dt in ((256, np.uint8), (128, np.int8), (2049, np.float16), (0, np.uint8)):
        ref = torch.randperm(n, dtype=getattr(torch, _TORCH_DT[dt]))
        p = tg.randperm(n, dtype=dt)
        assert p.dtype == dt and sorted(p.data.tolist()) == sorted(ref.tolist()) == list(range(n))
    with pytest.raises(NotImplementedError, match="\"randperm\" not implemented for 'Bool'"):
        torch.randperm(2, dtype=torch.bool)
    with pytest.raises(TypeError, match="\"randperm\" not implemented for 'Bool'"):
        tg.randperm(2, dtype=np.bool_)  # it gave [False, True], a permutation of nothing


def test_multinomial():
    tg.manual_seed(1)
    w = Tensor(np.array([[1.0, 0.0, 3.0], [0.0, 1.0, 1.0]]))
    s = tg.multinomial(w, 2)
    assert s.dtype == np.int64 and s.shape == (2, 2)
    assert all(len(set(row)) == 2 for row in s.data.tolist())  # no repeats
    assert 1 not in s.data[0] and 0 not in s.data[1]  # zero weight: never drawn
    draws = tg.multinomial(Tensor(np.array([1.0, 3.0])), 20000, replacement=True)
    assert abs(draws.data.mean() - 0.75) < 0.02
    with pytest.raises(ValueError, match="cannot sample n_sample > prob_dist.size\\(-1\\) samples "
                                         "without replacement"):
        tg.multinomial(Tensor(np.ones(3)), 4)
    with pytest.raises(ValueError, match="probability tensor contains either"):
        tg.multinomial(Tensor(np.array([1.0, -1.0])), 1)
    with pytest.raises(ValueError, match="sum of probabilities <= 0"):
        tg.multinomial(Tensor(np.zeros(2)), 1, replacement=True)


def test_normal_and_bernoulli():
    tg.manual_seed(2)
    n = tg.normal(3.0, 2.0, (50000,))
    assert n.dtype == np.float32 and abs(n.data.mean() - 3) < 0.03 and abs(n.data.std() - 2) < 0.03
    m = Tensor(np.array([0.0, 100.0]))
    t = tg.normal(m, Tensor(np.zeros((3, 1))))  # std 0: the means, broadcast
    assert t.shape == (3, 2) and t.dtype == np.float64
    np.testing.assert_array_equal(t.data, np.broadcast_to([0.0, 100.0], (3, 2)))
    b = tg.bernoulli(Tensor(np.full(40000, 0.3, np.float32)))
    assert b.dtype == np.float32 and set(np.unique(b.data)) <= {0.0, 1.0}
    assert abs(b.data.mean() - 0.3) < 0.01
    with pytest.raises(ValueError, match="normal expects all elements of std >= 0.0"):
        tg.normal(m, Tensor(np.array([-1.0, 1.0])))


def test_in_place_random_fills():
    tg.manual_seed(3)
    x = Tensor(np.zeros(40000, np.float32))
    assert x.uniform_(-2, 3) is x and x.dtype == np.float32
    assert x.data.min() >= -2 and x.data.max() < 3 and abs(x.data.mean() - 0.5) < 0.03
    x.normal_(1.0, 0.5)
    assert abs(x.data.mean() - 1) < 0.01 and abs(x.data.std() - 0.5) < 0.01
    x.bernoulli_(0.25)
    assert abs(x.data.mean() - 0.25) < 0.01
    r = Tensor(np.zeros(1000, np.int64)).random_(2, 5)
    assert r.data.min() == 2 and r.data.max() == 4
    for dt, hi in ((np.bool_, 1), (np.uint8, 255), (np.int8, 127)):
        v = Tensor(np.zeros(3000, dt)).random_()
        assert v.dtype == dt and v.data.min() == 0 and v.data.max() == hi
    with pytest.raises(ValueError, match="does not fit dtype uint8"):
        Tensor(np.zeros(3, np.uint8)).random_(0, 300)
    # torch's words: which bound is out of range, and the float warning past 2**24
    with pytest.raises(ValueError, match="from is out of bounds for unsigned char"):
        Tensor(np.zeros(3, np.uint8)).random_(-5, 5)
    with pytest.raises(ValueError, match="to - 1 is out of bounds for signed char"):
        Tensor(np.zeros(3, np.int8)).random_(0, 200)
    with pytest.warns(UserWarning, match=r"to - 1 is out of bounds \[-\(2\^24\), 2\^24\]"):
        Tensor(np.zeros(3, np.float32)).random_(0, 2 ** 25)
    f = Tensor(np.zeros(1000, np.float32)).random_()
    assert f.data.max() <= 2 ** 24 and f.data.max() > 2 ** 20 and (f.data == np.round(f.data)).all()
    w = Tensor(np.zeros(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place operation"):
        w.uniform_()
    with tg.no_grad():
        w.normal_()  # an initializer's use
    with pytest.raises(ValueError, match="uniform_ expects to return a \\[from, to\\) range"):
        Tensor(np.zeros(2)).uniform_(1, 0)


@pytest.mark.parametrize("shape,wrap", [((3, 3), False), ((5, 2), False), ((7, 3), True),
                                        ((2, 4), False), ((3, 3, 3), False)])
def test_fill_diagonal_matches_torch(torch, shape, wrap):
    x = Tensor(np.zeros(shape))
    t = torch.zeros(shape, dtype=torch.float64)
    assert x.fill_diagonal_(5.0, wrap) is x
    np.testing.assert_array_equal(x.data, t.fill_diagonal_(5.0, wrap).numpy())
    with pytest.raises(ValueError, match="all dimensions of input must be of equal length"):
        Tensor(np.zeros((2, 2, 3))).fill_diagonal_(1.0)


def test_as_tensor_shares_where_it_can():
    a = np.arange(3.0)
    t = tg.as_tensor(a)
    a[0] = 9.0
    assert t.data[0] == 9.0 and tg.as_tensor(t) is t
    assert tg.as_tensor([1, 2]).dtype == np.int64 and tg.as_tensor([1.5]).dtype == np.float32
    assert tg.as_tensor(a, dtype=np.float32).dtype == np.float32


def test_generator_argument_checked():
    want = "generator must be a tinygrad_norm.Generator or a numpy.random.Generator"
    with pytest.raises(TypeError, match=want):
        tg.randperm(3, generator=5)
    with pytest.raises(TypeError, match=want):
        Tensor(np.zeros(2)).normal_(generator="x")
