"""torch's dtype questions and promotion against torch: ``promote_types`` and ``can_cast`` for
every pair of the nine shared dtypes, ``result_type`` for every pair of dimensioned / 0-d
tensors and Python numbers (under both default dtypes), ``is_floating_point``, ``is_complex``,
``is_signed``, ``is_nonzero`` (with torch's messages), ``is_same_size``, as functions and as
Tensor methods."""
from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
PAIRS = list(itertools.product(DTYPES, DTYPES))


def _t(torch, name):
    return getattr(torch, name)


def _name(torch_dtype):
    return str(torch_dtype).removeprefix("torch.")


@pytest.mark.parametrize("a,b", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_promote_types_and_can_cast_match_torch(torch, a, b):
    assert tg.promote_types(a, b) == np.dtype(_name(torch.promote_types(_t(torch, a),
                                                                        _t(torch, b))))
    assert tg.promote_types(np.dtype(a), np.dtype(b)).name == tg.promote_types(a, b).name
    assert tg.can_cast(a, b) is torch.can_cast(_t(torch, a), _t(torch, b))


def _operands(torch, dt, kind):
    """One operand of dtype ``dt`` as a dimensioned tensor, a 0-d tensor, or a Python number."""
    if kind == "number":
        v = {"b": True, "u": 3, "i": 3, "f": 2.5}[np.dtype(dt).kind]
        return v, v
    shape = (2,) if kind == "dim" else ()
    arr = np.ones(shape, dtype=dt)
    return Tensor(arr), torch.from_numpy(arr.copy())


KINDS = ["dim", "zero", "number"]
RESULT_CASES = [(a, ka, b, kb) for a, b in PAIRS for ka in KINDS for kb in KINDS
                if not (ka == kb == "number") or a in ("bool", "int64", "float32")]


@pytest.mark.parametrize("a,ka,b,kb", RESULT_CASES, ids=["-".join(c) for c in RESULT_CASES])
def test_result_type_matches_torch(torch, a, ka, b, kb):
    x, tx = _operands(torch, a, ka)
    y, ty = _operands(torch, b, kb)
    old, told = tg.get_default_dtype(), torch.get_default_dtype()
    try:
        for default in ("float32", "float64"):  # a Python float takes the default dtype
            tg.set_default_dtype(default)
            torch.set_default_dtype(getattr(torch, default))
            assert tg.result_type(x, y) == np.dtype(_name(torch.result_type(tx, ty))), default
    finally:
        tg.set_default_dtype(old)
        torch.set_default_dtype(told)


def test_result_type_agrees_with_arithmetic():
    """The promised dtype is the one an addition here actually gives."""
    for a, b in PAIRS:
        if "bool" in (a, b):
            continue
        x, y = Tensor(np.ones(2, a)), Tensor(np.ones((), b))
        assert (x + y).dtype == tg.result_type(x, y), (a, b)


@pytest.mark.parametrize("dt", DTYPES)
def test_dtype_predicates_match_torch(torch, dt):
    x, tx = Tensor(np.ones(3, dt)), torch.from_numpy(np.ones(3, dt))
    for name in ("is_floating_point", "is_complex", "is_signed"):
        assert getattr(tg, name)(x) is getattr(torch, name)(tx), name
        assert getattr(x, name)() is getattr(tx, name)(), name


@pytest.mark.parametrize("value", [0.0, -0.0, 2.0, float("nan"), 0, 7, True, False])
@pytest.mark.parametrize("shape", [(), (1,), (1, 1, 1)])
def test_is_nonzero_matches_torch(torch, value, shape):
    arr = np.full(shape, value)
    assert tg.is_nonzero(Tensor(arr)) is torch.is_nonzero(torch.from_numpy(arr.copy()))
    assert Tensor(arr).is_nonzero() is torch.is_nonzero(torch.from_numpy(arr.copy()))


@pytest.mark.parametrize("shape", [(0,), (2,), (2, 3)])
def test_is_nonzero_refuses_other_sizes_with_torchs_message(torch, shape):
    with pytest.raises(RuntimeError) as theirs:
        torch.is_nonzero(torch.zeros(shape))
    with pytest.raises(ValueError, match="^" + re.escape(str(theirs.value)) + "$"):
        tg.is_nonzero(tg.zeros(*shape))


def test_is_same_size(torch):
    for a, b in [((2, 3), (2, 3)), ((2, 3), (3, 2)), ((), ()), ((0,), (0, 1))]:
        assert tg.is_same_size(tg.zeros(*a), tg.zeros(*b)) is \
            torch.zeros(a).is_same_size(torch.zeros(b))
        assert tg.zeros(*a).is_same_size(tg.zeros(*b)) is tg.is_same_size(tg.zeros(*a),
                                                                        tg.zeros(*b))


def test_argument_checks():
    with pytest.raises(TypeError, match=r"is_floating_point\(\): argument 'input' must be Tensor, "
                                        r"not list"):
        tg.is_floating_point([1.0])
    with pytest.raises(TypeError, match="argument 'other' must be Tensor"):
        tg.is_same_size(tg.zeros(1), np.zeros(1))
    with pytest.raises(TypeError, match="promote_types"):
        tg.promote_types("float32", "nope")
    with pytest.raises(TypeError, match="can_cast"):
        tg.can_cast(None, "float32")
    with pytest.raises(TypeError, match="argument 'tensor2' must be a Tensor or a real number"):
        tg.result_type(tg.zeros(1), "a")
    with pytest.raises(TypeError, match="argument 'tensor1'"):
        tg.result_type(1j, tg.zeros(1))
