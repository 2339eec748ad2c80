"""torch's float-representation functions (``frexp``, ``ldexp``, ``nextafter``, ``isposinf``,
``isneginf``, ``isreal``, ``heaviside``) and index helpers (``argwhere``, ``unravel_index``,
``combinations``) against torch: values and dtypes with zeros, signed zeros, infinities and NaN;
gradients under a random upstream gradient in float64 (tight) and float32 where torch has them;
gradcheck and gradgradcheck; torch's errors."""
from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor

from conftest import gradchecks, torch_parity

SPECIAL = np.array([0.5, -3.0, 0.0, -0.0, 6.0, 1e-310, np.inf, -np.inf, np.nan, 1e300])


def _special(dt):
    with np.errstate(over="ignore"):  # 1e300 is inf in float32 and float16: meant
        return SPECIAL.astype(dt)


def _same(out, ref):
    assert out.dtype == np.dtype(str(ref.dtype).removeprefix("torch.")), (out.dtype, ref.dtype)
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())


@pytest.mark.parametrize("dt", ["float16", "float32", "float64"])
def test_frexp_matches_torch(torch, dt):
    x = _special(dt)
    m, e = tg.frexp(Tensor(x))
    tm, te = torch.frexp(torch.from_numpy(x.copy()))
    _same(m, tm)
    _same(e, te)
    assert np.array_equal(np.signbit(m.numpy()), np.signbit(tm.numpy()))  # -0.0 kept
    m2, e2 = Tensor(x).frexp()
    _same(m2, tm)
    assert tg.frexp(Tensor(x)).mantissa is not None  # torch's field names


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 1e-6)])
def test_frexp_and_ldexp_gradients_match_torch(torch, dtype, rtol):
    x = np.random.default_rng(0).standard_normal((3, 4)) * 50
    torch_parity(torch, lambda t: tg.frexp(t).mantissa, lambda t: torch.frexp(t).mantissa, [x],
                 dtype, rtol)
    e = np.random.default_rng(1).integers(-3, 4, (3, 4)).astype(float)
    torch_parity(torch, tg.ldexp, torch.ldexp, [x, e], dtype, rtol)


def test_ldexp_dtypes_match_torch(torch):
    for a, b in [("int64", "int64"), ("float32", "int64"), ("float64", "int32"),
                 ("float32", "float64"), ("float16", "int64")]:
        x, y = np.array([1, -2, 3]).astype(a), np.array([1, 2, -1]).astype(b)
        _same(tg.ldexp(Tensor(x), Tensor(y)),
              torch.ldexp(torch.from_numpy(x.copy()), torch.from_numpy(y.copy())))


def test_nextafter_matches_torch_values_and_gradients(torch):
    x = SPECIAL.copy()
    y = np.array([1.0, -4.0, 1.0, -1.0, 6.0, 0.0, 0.0, np.inf, 1.0, np.inf])
    _same(tg.nextafter(Tensor(x), Tensor(y)),
          torch.nextafter(torch.from_numpy(x.copy()), torch.from_numpy(y.copy())))
    x32 = _special(np.float32)
    _same(tg.nextafter(Tensor(x32), Tensor(y.astype(np.float32))),
          torch.nextafter(torch.from_numpy(x32.copy()), torch.from_numpy(y.astype(np.float32))))
    _same(Tensor(x32).nextafter(Tensor(y)),  # float32 with float64: float64, as torch
          torch.from_numpy(x32.copy()).nextafter(torch.from_numpy(y.copy())))
    finite = np.random.default_rng(2).standard_normal((2, 3))
    torch_parity(torch, tg.nextafter, torch.nextafter, [finite, finite[::-1] * 2], np.float64,
                 1e-12, unused_ok=True)


def test_nextafter_gradcheck():
    x = np.random.default_rng(3).standard_normal(4)
    assert tg.gradcheck(lambda t: tg.nextafter(t, Tensor(np.full(4, 10.0))),
                        (Tensor(x, requires_grad=True),))


@pytest.mark.parametrize("dt", ["float32", "float64", "int64", "bool"])
def test_inf_and_real_tests_match_torch(torch, dt):
    x = _special(dt) if dt.startswith("float") else np.array([1, 0, 1]).astype(dt)
    tx = torch.from_numpy(x.copy())
    for fn in ("isposinf", "isneginf", "isreal"):
        _same(getattr(tg, fn)(Tensor(x)), getattr(torch, fn)(tx))
        _same(getattr(Tensor(x), fn)(), getattr(tx, fn)())


@pytest.mark.parametrize("dt", ["float32", "float64", "int64"])
def test_heaviside_matches_torch(torch, dt):
    x = np.array([[-2.0, 0.0, 3.0], [np.nan, -0.0, 1e-30]]) if dt.startswith("float") \
        else np.array([[-2, 0, 3], [5, 0, -1]])
    x = x.astype(dt)
    for v in (np.array([7]).astype(dt), np.array([1, 2, 3]).astype(dt)):
        _same(tg.heaviside(Tensor(x), Tensor(v)),
              torch.heaviside(torch.from_numpy(x.copy()), torch.from_numpy(v.copy())))
        _same(Tensor(x).heaviside(Tensor(v)),
              torch.from_numpy(x.copy()).heaviside(torch.from_numpy(v.copy())))


def test_float_bits_errors_are_torchs(torch):
    with pytest.raises(RuntimeError) as theirs:
        torch.frexp(torch.tensor([1, 2]))
    with pytest.raises(TypeError, match="^" + re.escape(str(theirs.value)) + "$"):
        tg.frexp(Tensor(np.array([1, 2])))
    with pytest.raises(RuntimeError) as theirs:
        torch.heaviside(torch.tensor([1.0]), torch.tensor([1.0], dtype=torch.float64))
    with pytest.raises(TypeError, match="^" + re.escape(str(theirs.value)) + "$"):
        tg.heaviside(tg.ones(1), Tensor(np.ones(1)))
    with pytest.raises(TypeError, match="floating point only"):
        tg.nextafter(Tensor(np.array([1])), Tensor(np.array([2])))
    with pytest.raises(TypeError, match="argument 'other' must be Tensor"):
        tg.ldexp(tg.ones(1), 2)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        tg.heaviside(tg.ones(2), tg.ones(3))


# ---- index helpers ----------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 0), (2, 3, 2)])
def test_argwhere_matches_torch(torch, shape):
    x = np.asarray(np.random.default_rng(4).random(shape) < 0.5).astype(np.float32)
    for arr in (x, np.array(3.0), np.array(0.0)) if shape == () else (x,):
        _same(tg.argwhere(Tensor(arr)), torch.argwhere(torch.from_numpy(np.array(arr))))
    _same(Tensor(x).argwhere(), torch.from_numpy(x.copy()).argwhere())


@pytest.mark.parametrize("idx,shape", [([4, 5, 0], (2, 3)), ([[6, -1], [-7, 2]], (2, 3)),
                                       (7, (2, 3, 2)), ([0, 3], (4,)), ([1], 5), (1, ())])
def test_unravel_index_matches_torch(torch, idx, shape):
    ours = tg.unravel_index(Tensor(np.array(idx)), shape)
    theirs = torch.unravel_index(torch.tensor(idx), shape)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        _same(a, b)


def test_unravel_index_errors_are_torchs(torch):
    with pytest.raises(TypeError) as theirs:
        torch.unravel_index(torch.tensor([1.0]), (2, 3))
    with pytest.raises(TypeError, match="expected 'indices' to be integer dtype, but got "
                                        "float32"):
        tg.unravel_index(tg.ones(1), (2, 3))
    assert "expected 'indices' to be integer dtype" in str(theirs.value)
    with pytest.raises(ValueError) as theirs:
        torch.unravel_index(torch.tensor(1), (2, -3))
    with pytest.raises(ValueError, match="^" + re.escape(str(theirs.value)) + "$"):
        tg.unravel_index(Tensor(np.array(1)), (2, -3))
    with pytest.raises(ValueError, match="no elements"):
        tg.unravel_index(Tensor(np.array(0)), (0,))


@pytest.mark.parametrize("n,r,rep", [(4, 2, False), (4, 3, False), (3, 2, True), (4, 1, False),
                                     (4, 5, False), (0, 2, False), (3, 4, True), (4, 0, False)])
def test_combinations_match_torch_with_gradients(torch, n, r, rep):
    x = np.random.default_rng(5).standard_normal(n)
    out = tg.combinations(Tensor(x), r, rep)
    ref = torch.combinations(torch.from_numpy(x.copy()), r, rep)
    _same(out, ref)
    if out.size:
        torch_parity(torch, lambda t: tg.combinations(t, r, rep),
                     lambda t: torch.combinations(t, r, rep), [x], np.float64, 1e-12)
        torch_parity(torch, lambda t: tg.combinations(t, r, rep),
                     lambda t: torch.combinations(t, r, rep), [x], np.float32, 1e-6)


def test_combinations_gradgradcheck_and_errors(torch):
    gradchecks(lambda t: tg.combinations(t, 2) ** 2, [np.arange(1.0, 5.0)])
    for args in [(torch.zeros(2, 2),), (torch.arange(3.0), -1)]:
        with pytest.raises(RuntimeError) as theirs:
            torch.combinations(*args)
        ours = (Tensor(args[0].numpy()),) + args[1:]
        with pytest.raises(ValueError, match="^" + re.escape(str(theirs.value)) + "$"):
            tg.combinations(*ours)
    with pytest.raises(TypeError, match="argument 'r' must be int"):
        tg.combinations(tg.ones(3), 2.0)
