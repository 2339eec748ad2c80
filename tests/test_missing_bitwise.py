"""torch's bitwise and integer functions against torch: ``bitwise_and/or/xor``, the shifts,
``bitwise_not``, ``gcd``, ``lcm`` over bool and integer dtypes (with a Python int on either side,
broadcasting, negative values, shifts past the width), as functions and Tensor methods; their
dtype errors."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor

INTS = ["uint8", "int8", "int16", "int32", "int64"]
BINARY = ["bitwise_and", "bitwise_or", "bitwise_xor"]
SHIFTS = ["bitwise_left_shift", "bitwise_right_shift"]


def _values(dt, shape, seed):
    rng = np.random.default_rng(seed)
    if dt == "bool":
        return rng.random(shape) < 0.5
    lo = 0 if dt.startswith("u") else -100
    return rng.integers(lo, 100, size=shape).astype(dt)


def _same(out, ref):
    assert out.dtype == np.dtype(str(ref.dtype).removeprefix("torch.")), (out.dtype, ref.dtype)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


@pytest.mark.parametrize("a,b", list(itertools.product(["bool"] + INTS, repeat=2)))
@pytest.mark.parametrize("fn", BINARY)
def test_binary_match_torch(torch, fn, a, b):
    x, y = _values(a, (3, 4), 0), _values(b, (4,), 1)
    tx, ty = torch.from_numpy(x.copy()), torch.from_numpy(y.copy())
    _same(getattr(tg, fn)(Tensor(x), Tensor(y)), getattr(torch, fn)(tx, ty))
    _same(getattr(Tensor(x), fn)(Tensor(y)), getattr(tx, fn)(ty))
    if a != "bool":
        _same(getattr(tg, fn)(Tensor(x), 5), getattr(torch, fn)(tx, 5))
        _same(getattr(tg, fn)(5, Tensor(x)), getattr(torch, fn)(5, tx))


@pytest.mark.parametrize("dt", INTS)
@pytest.mark.parametrize("fn", SHIFTS)
def test_shifts_match_torch(torch, fn, dt):
    x = _values(dt, (2, 5), 2)
    counts = np.array([0, 1, 3, 7, 8], dtype=dt)
    ref = getattr(torch, fn)(torch.from_numpy(x.copy()), torch.from_numpy(counts.copy()))
    _same(getattr(tg, fn)(Tensor(x), Tensor(counts)), ref)
    _same(getattr(Tensor(x), fn)(2), getattr(torch.from_numpy(x.copy()), fn)(2))


@pytest.mark.parametrize("dt", ["bool"] + INTS)
def test_bitwise_not_matches_torch(torch, dt):
    x = _values(dt, (3, 3), 3)
    _same(tg.bitwise_not(Tensor(x)), torch.bitwise_not(torch.from_numpy(x.copy())))
    _same(Tensor(x).bitwise_not(), torch.from_numpy(x.copy()).bitwise_not())


@pytest.mark.parametrize("a,b", list(itertools.product(INTS, repeat=2)))
@pytest.mark.parametrize("fn", ["gcd", "lcm"])
def test_gcd_lcm_match_torch(torch, fn, a, b):
    x, y = _values(a, (4, 3), 4), _values(b, (3,), 5)
    x.flat[:2] = 0  # gcd(0, y) = |y|, lcm(0, y) = 0
    tx, ty = torch.from_numpy(x.copy()), torch.from_numpy(y.copy())
    with np.errstate(over="ignore"):  # an int8 lcm wraps, as torch's does
        _same(getattr(tg, fn)(Tensor(x), Tensor(y)), getattr(torch, fn)(tx, ty))
        _same(getattr(Tensor(x), fn)(Tensor(y)), getattr(tx, fn)(ty))


def test_errors():
    f, i = tg.ones(2), Tensor(np.array([1, 2]))
    for fn in BINARY:
        with pytest.raises(TypeError):
            getattr(tg, fn)(f, f)
        with pytest.raises(TypeError, match="at least one Tensor"):
            getattr(tg, fn)(1, 2)
    with pytest.raises(TypeError, match="bool and integer tensors only"):
        tg.bitwise_not(f)
    with pytest.raises(TypeError, match="argument 'input' must be Tensor"):
        tg.bitwise_not(3)
    with pytest.raises(TypeError, match="gcd\\(\\): argument 'other' must be an integer"):
        tg.gcd(i, f)
    with pytest.raises(TypeError, match="lcm\\(\\): argument 'input' must be an integer"):
        tg.lcm(Tensor(np.array([True])), i)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        tg.gcd(i, Tensor(np.array([1, 2, 3])))
