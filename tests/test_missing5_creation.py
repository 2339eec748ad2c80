"""missing5's constructors and samplers: range, empty_strided, empty_permuted, frombuffer and
the DLPack exchange against torch 2.13 (values, dtypes, strides, shared memory, errors), and
the random samplers (exponential_, cauchy_, log_normal_, geometric_, binomial, poisson):
seeded reproducibility, their distributions' moments, torch's argument checks."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_norm as tg

RANGES = [(0, 3), (0, 1, 0.3), (3, 0, -1), (-1, 1, 0.25), (0, 0), (1, 2, 5), (0.5, 2.5)]


CASES = [(a, d) for a in RANGES for d in (None, "float64")] + \
    [((0, 3), "int64"), ((3, 0, -1), "int64"), ((2, 9, 3), "int32")]  # (torch crashes on an
# integer dtype with a fractional step: a floating point exception in the process)


@pytest.mark.parametrize("args,dtype", CASES)
def test_range_matches_torch(torch, args, dtype):
    kw = {} if dtype is None else {"dtype": getattr(np, dtype)}
    tkw = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        ours = tg.range(*args, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.range(*args, **tkw)
    assert ours.dtype == np.dtype(str(theirs.dtype).replace("torch.", ""))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-7)


def test_range_errors_and_grad(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="step must be nonzero"):
            tg.range(0, 3, 0)
        with pytest.raises(ValueError, match="upper bound and lower bound inconsistent with "
                                             "step sign"):
            tg.range(3, 0)
        with pytest.raises(TypeError, match="argument 'end' must be a number"):
            tg.range(0, "3")
        assert tg.range(0, 2, requires_grad=True).requires_grad
        with pytest.raises(TypeError):
            tg.range(3)  # end is required, as in torch
        with pytest.raises(TypeError):
            torch.range(3)


@pytest.mark.parametrize("size,stride", [((2, 3), (1, 2)), ((2, 3), (3, 1)), ((2, 3, 4),
                                                                             (1, 2, 6)),
                                         ((3, 2), (0, 1)), ((0, 3), (3, 1)), ((), ())])
def test_empty_strided_matches_torch_layout(torch, size, stride):
    ours = tg.empty_strided(size, stride)
    theirs = torch.empty_strided(size, stride)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == np.float32
    if ours.numel():
        assert ours.stride() == theirs.stride()
    assert np.all(ours.numpy() == 0)


def test_empty_strided_errors(torch):
    with pytest.raises(ValueError, match=r"dimensionality of sizes \(2\) must match "
                                         r"dimensionality of strides \(1\)"):
        tg.empty_strided((2, 3), (1,))
    with pytest.raises(ValueError, match=r"Storage size calculation overflowed with "
                                         r"sizes=\[2, 3\] and strides=\[-1, 2\]"):
        tg.empty_strided((2, 3), (-1, 2))
    with pytest.raises(TypeError, match="must be tuple of ints"):
        tg.empty_strided((2, 3), "x")
    t = tg.empty_strided((2, 3), (1, 2), dtype=np.float64, requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad


@pytest.mark.parametrize("size,order", [((2, 3, 4), (0, 2, 1)), ((2, 3, 4), (2, 1, 0)),
                                        ((5,), (0,)), ((2, 3, 4, 5), (0, 2, 3, 1))])
def test_empty_permuted_matches_torch(torch, size, order):
    ours, theirs = tg.empty_permuted(size, order), torch.empty_permuted(size, order)
    assert ours.shape == tuple(theirs.shape) and ours.stride() == theirs.stride()


def test_empty_permuted_errors():
    with pytest.raises(ValueError, match=r"len\(size\) = 3 is not equal to "
                                         r"len\(physical_layout\) = 2"):
        tg.empty_permuted((2, 3, 4), (0, 1))
    with pytest.raises(ValueError, match="Duplicate dim not allowed"):
        tg.empty_permuted((2, 3, 4), (0, 1, 1))


def test_frombuffer_matches_torch_and_shares(torch):
    raw = np.array([1.0, 2.0, 3.0, 4.0], np.float32).tobytes()
    for kw in ({}, {"count": 2, "offset": 4}, {"count": -1, "offset": 8}):
        ours = tg.frombuffer(bytearray(raw), dtype=np.float32, **kw)
        theirs = torch.frombuffer(bytearray(raw), dtype=torch.float32, **kw)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    buf = bytearray(raw)
    t = tg.frombuffer(buf, dtype=np.float32)
    buf[0:4] = np.float32(9.0).tobytes()
    assert t.numpy()[0] == 9.0  # the buffer's memory, as torch's
    assert tg.frombuffer(bytearray(raw), dtype=np.float32, requires_grad=True).requires_grad


@pytest.mark.parametrize("kw,words", [
    ({"dtype": np.float64, "offset": 1}, r"buffer length \(15 bytes\) after offset \(1 bytes\) "
                                         r"must be a multiple of element size \(8\)"),
    ({"dtype": np.float32, "count": 5}, r"requested buffer length \(5 \* 4 bytes\) after offset "
                                        r"\(0 bytes\) must not be greater than actual buffer "
                                        r"length \(16 bytes\)"),
    ({"dtype": np.float32, "offset": 16}, r"offset \(16 bytes\) must be non-negative and no "
                                          r"greater than buffer length \(16 bytes\) minus 1"),
    ({"dtype": np.float32, "count": 0}, r"both buffer length \(16\) and count \(0\) must not be"),
])
def test_frombuffer_errors_are_torchs(torch, kw, words):
    buf = bytearray(16)
    with pytest.raises(ValueError, match=words):
        tg.frombuffer(buf, **kw)
    tkw = dict(kw, dtype=getattr(torch, np.dtype(kw["dtype"]).name))
    with pytest.raises(ValueError, match=words):
        torch.frombuffer(buf, **tkw)


def test_frombuffer_bad_buffer():
    with pytest.raises(TypeError, match="buffer protocol"):
        tg.frombuffer([1, 2], dtype=np.float32)


def test_dlpack_round_trips_share_memory(torch):
    a = np.arange(4.0)
    t = tg.from_dlpack(a)
    a[0] = 9.0
    assert t.numpy()[0] == 9.0
    tt = torch.arange(3.0)
    ours = tg.from_dlpack(tt)
    tt[1] = 7.0
    assert ours.numpy()[1] == 7.0
    back = torch.from_dlpack(ours)  # torch reads ours through __dlpack__
    ours.numpy()[2] = 5.0
    assert back[2].item() == 5.0
    cap = tg.to_dlpack(tg.arange(3.0))
    np.testing.assert_array_equal(tg.from_dlpack(cap).numpy(), [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(torch.from_dlpack(tg.to_dlpack(tg.arange(2.0))).numpy(),
                                  [0.0, 1.0])
    np.testing.assert_array_equal(np.from_dlpack(tg.arange(2.0)), [0.0, 1.0])


def test_dlpack_errors():
    with pytest.raises(RuntimeError, match="Can't export tensors that require gradient"):
        tg.to_dlpack(tg.ones(2, requires_grad=True))
    with pytest.raises(TypeError, match="argument 'tensor' must be Tensor"):
        tg.to_dlpack(np.ones(2))
    with pytest.raises(TypeError, match="expected an object with __dlpack__"):
        tg.from_dlpack(3)


# ---- random samplers

FILLS = {
    "exponential_": ((2.0,), 0.5, 0.25),  # args, mean, variance
    "log_normal_": ((0.5, 0.4), np.exp(0.5 + 0.08), (np.exp(0.16) - 1) * np.exp(1.16)),
    "geometric_": ((0.25,), 4.0, 0.75 / 0.0625),
}


@pytest.mark.parametrize("name", list(FILLS))
def test_fills_have_their_moments(name):
    args, mean, var = FILLS[name]
    tg.manual_seed(0)
    t = tg.empty(400000, dtype=np.float64)
    assert getattr(t, name)(*args) is t
    assert abs(t.numpy().mean() - mean) < 5 * np.sqrt(var / t.numel())
    assert abs(t.numpy().var() / var - 1) < 0.05


def test_cauchy_quartiles_and_seeding():
    tg.manual_seed(1)
    t = tg.empty(200000, dtype=np.float64).cauchy_(1.0, 2.0)
    q1, q2, q3 = np.quantile(t.numpy(), [0.25, 0.5, 0.75])
    assert abs(q2 - 1.0) < 0.03 and abs((q3 - q1) / 2 - 2.0) < 0.05
    tg.manual_seed(4)
    a = tg.empty(5).exponential_().numpy().copy()
    tg.manual_seed(4)
    np.testing.assert_array_equal(tg.empty(5).exponential_().numpy(), a)
    g = tg.Generator().manual_seed(4)
    b = tg.empty(5).exponential_(generator=g).numpy().copy()
    g.manual_seed(4)
    np.testing.assert_array_equal(tg.empty(5).exponential_(generator=g).numpy(), b)
    assert tg.empty(3).geometric_(0.5).dtype == np.float32
    ints = tg.zeros(1000, dtype=np.int64).geometric_(0.5)
    assert ints.dtype == np.int64 and ints.numpy().min() >= 1


@pytest.mark.parametrize("call,words", [
    (lambda t: t.exponential_(0), r"exponential_ expects lambda > 0.0, but found lambda=0"),
    (lambda t: t.exponential_(-1), r"exponential_ expects lambda > 0.0, but found lambda=-1"),
    (lambda t: t.exponential_(float("nan")), r"exponential_ expects lambda > 0.0, but found "
                                             r"lambda=nan"),
    (lambda t: t.cauchy_(0, 0), r"cauchy_ expects sigma > 0.0, but found sigma=0"),
    (lambda t: t.log_normal_(1, -1), r"log_normal_ expects std > 0.0, but found std=-1"),
    (lambda t: t.geometric_(0), r"geometric_ expects p to be in \(0, 1\), but got p=0"),
    (lambda t: t.geometric_(1.5), r"geometric_ expects p to be in \(0, 1\), but got p=1.5"),
])
def test_fill_errors_are_torchs(torch, call, words):
    t = tg.zeros(3)
    with pytest.raises(ValueError, match=words):
        call(t)
    assert np.all(t.numpy() == 0)
    with pytest.raises(RuntimeError, match=words):
        call(torch.zeros(3))


def test_fill_refusals(torch):
    with pytest.raises(TypeError, match="Exponential distribution is a continuous probability "
                                        "distribution. dtype must be a floating point but you "
                                        "specified int64"):
        tg.zeros(3, dtype=np.int64).exponential_()
    with pytest.raises(TypeError, match="continuous"):
        tg.zeros(3, dtype=np.int64).cauchy_()
    with pytest.raises(RuntimeError, match="leaf"):
        tg.zeros(3, requires_grad=True).log_normal_()
    assert tg.exp(tg.ones(1)).exponential_(float("inf")).numpy()[0] == 0  # torch's zeros


def test_binomial_and_poisson():
    tg.manual_seed(2)
    n, p = tg.full((200000,), 10.0), tg.full((200000,), 0.3)
    draws = tg.binomial(n, p).numpy()
    assert draws.dtype == np.float32 and abs(draws.mean() - 3.0) < 0.02
    assert abs(draws.var() - 2.1) < 0.05 and np.all(draws == np.round(draws))
    rates = tg.tensor(np.array([0.0, 1.0, 50.0]))
    pois = tg.poisson(rates.expand(100000, 3)).numpy()
    assert pois.dtype == np.float64
    np.testing.assert_allclose(pois.mean(0), [0.0, 1.0, 50.0], atol=0.1)
    tg.manual_seed(2)
    again = tg.binomial(n, p).numpy()
    np.testing.assert_array_equal(again, draws)
    bc = tg.binomial(tg.tensor([[5.0], [10.0]]), tg.tensor([0.0, 1.0]))  # broadcast
    np.testing.assert_array_equal(bc.numpy(), [[0.0, 5.0], [0.0, 10.0]])


def test_binomial_and_poisson_errors(torch):
    with pytest.raises(TypeError, match="binomial only supports floating-point dtypes for "
                                        "count, got: int64"):
        tg.binomial(tg.tensor([10, 5]), tg.tensor([0.5, 0.2]))
    with pytest.raises(ValueError, match="binomial only supports floating-point dtypes for "
                                         "count, got: Long"):
        torch.binomial(torch.tensor([10, 5]), torch.tensor([0.5, 0.2]))
    with pytest.raises(ValueError, match="prob must be in"):
        tg.binomial(tg.tensor([10.0]), tg.tensor([1.5]))
    with pytest.raises(ValueError, match="count must be finite and non-negative"):
        tg.binomial(tg.tensor([-1.0]), tg.tensor([0.5]))
    with pytest.raises(TypeError, match="same dtype"):
        tg.binomial(tg.tensor([1.0], dtype=np.float64), tg.tensor([0.5]))
    with pytest.raises(ValueError, match="invalid Poisson rate, expected rate to be "
                                         "non-negative"):
        tg.poisson(tg.tensor([-1.0, 5.0]))
    with pytest.raises(RuntimeError, match="invalid Poisson rate, expected rate to be "
                                           "non-negative"):
        torch.poisson(torch.tensor([-1.0, 5.0]))
    with pytest.raises(TypeError, match="poisson only supports floating-point"):
        tg.poisson(tg.tensor([1, 2]))
