"""missing5's questions and legacy methods against torch 2.13: finfo/iinfo/typename and
Tensor.type, the memory facts (storage_offset, data_ptr, is_set_to, layout, the device
flags), retains_grad, the runtime flags, new/resize_/resize_as_/apply_/map_, and the in-place
spellings (bitwise, gcd, ldexp, heaviside, float_power_, ..., recorded where they must be)."""
from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

import tinygrad_norm as tg

from conftest import torch_parity

R = np.random.default_rng(7)
DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]
FINFO_ATTRS = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")


@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_finfo_matches_torch(torch, name):
    ours, theirs = tg.finfo(getattr(np, name)), torch.finfo(getattr(torch, name))
    for attr in FINFO_ATTRS:
        assert getattr(ours, attr) == getattr(theirs, attr), attr
        assert type(getattr(ours, attr)) is type(getattr(theirs, attr)), attr
    assert repr(ours) == repr(theirs)
    assert tg.finfo(name) == ours and hash(tg.finfo(name)) == hash(ours)


def test_finfo_default_follows_default_dtype(torch):
    assert tg.finfo().dtype == "float32"
    tg.set_default_dtype(np.float64)
    try:
        assert tg.finfo().dtype == "float64"
    finally:
        tg.set_default_dtype(np.float32)


@pytest.mark.parametrize("name", ["int8", "int16", "int32", "int64", "uint8"])
def test_iinfo_matches_torch(torch, name):
    ours, theirs = tg.iinfo(getattr(np, name)), torch.iinfo(getattr(torch, name))
    for attr in ("bits", "min", "max", "dtype"):
        assert getattr(ours, attr) == getattr(theirs, attr)
        assert type(getattr(ours, attr)) is type(getattr(theirs, attr))
    assert repr(ours) == repr(theirs)


def test_info_errors_are_torchs():
    with pytest.raises(TypeError, match=r"torch.iinfo\(\) requires an integer input type. Use "
                                        r"torch.finfo to handle 'torch.iinfo'"):
        tg.iinfo(np.float32)
    with pytest.raises(TypeError, match=r"torch.finfo\(\) requires a floating point input type"):
        tg.finfo(np.int32)
    with pytest.raises(TypeError, match="torch.bool is not supported by torch.iinfo"):
        tg.iinfo(np.bool_)
    with pytest.raises(TypeError, match="dtype must be a NumPy dtype"):
        tg.finfo(3)
    with pytest.raises(TypeError):
        tg.iinfo()


@pytest.mark.parametrize("name", DTYPES)
def test_typename_and_type_match_torch(torch, name):
    t = tg.zeros(2, dtype=getattr(np, name) if name != "bool" else np.bool_)
    theirs = torch.zeros(2, dtype=getattr(torch, name))
    assert tg.typename(t) == torch.typename(theirs) == t.type() == theirs.type()
    back = tg.zeros(2).type(t.type())  # a type name converts
    assert back.dtype == t.dtype


def test_typename_of_other_objects(torch):
    for obj in (3, 2.5, "s", np.zeros(2), [1], None):
        assert tg.typename(obj) == torch.typename(obj)


def test_type_converts_on_the_tape(torch):
    x = tg.tensor(R.standard_normal(3).astype(np.float32), requires_grad=True)
    assert x.type(np.float32) is x
    y = x.type(np.float64)
    assert y.dtype == np.float64
    y.backward(tg.tensor(np.arange(3.0)))
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(3.0, dtype=np.float32))
    with pytest.raises(ValueError, match="invalid type: 'torch.Bad'"):
        x.type("torch.Bad")
    with pytest.raises(TypeError, match="dtype must be a type, str, or dtype object"):
        x.type(3)
    with pytest.raises(RuntimeError, match="CUDA"):
        x.type("torch.cuda.FloatTensor")


FLAGS = ["is_meta", "is_sparse", "is_sparse_csr", "is_quantized", "is_nested", "is_mps",
         "is_xpu", "is_ipu", "is_mkldnn", "is_vulkan", "is_mtia", "is_maia", "is_xla", "is_cuda"]


def test_flags_match_torch(torch):
    ours, theirs = tg.zeros(2, 3), torch.zeros(2, 3)
    for flag in FLAGS:
        assert getattr(ours, flag) is getattr(theirs, flag) is False, flag
    assert ours.is_cpu and repr(ours.layout) == repr(theirs.layout) == "torch.strided"
    assert ours.layout is tg.strided and ours.output_nr == theirs.output_nr == 0
    assert ours.is_inference() is theirs.is_inference() is False
    assert ours.is_shared() is theirs.is_shared() is False
    assert tg.is_inference(ours) is False
    with pytest.raises(TypeError, match="argument 'input' must be Tensor"):
        tg.is_inference(np.zeros(2))


@pytest.mark.parametrize("view", [lambda x: x[1:], lambda x: x[1, 2:], lambda x: x.mT[2],
                                  lambda x: x.reshape(-1)[5:], lambda x: x])
def test_storage_offset_matches_torch(torch, view):
    a = np.arange(24.0).reshape(4, 6)
    assert view(tg.tensor(a)).storage_offset() == view(torch.tensor(a)).storage_offset()


def test_data_ptr_and_is_set_to(torch):
    t = tg.arange(12.0).reshape(3, 4)
    assert t.data_ptr() == t.numpy().ctypes.data
    assert t[1:].data_ptr() - t.data_ptr() == 4 * t.numpy().itemsize
    assert tg.zeros(0).data_ptr() == 0 == torch.zeros(0).data_ptr()
    tt = torch.arange(12.0).reshape(3, 4)
    assert t.is_set_to(t[:]) and tt.is_set_to(tt[:])
    assert not t.is_set_to(t[1:]) and not tt.is_set_to(tt[1:])
    assert not t.is_set_to(t.clone()) and not tt.is_set_to(tt.clone())
    assert not t.is_set_to(t.mT) and not tt.is_set_to(tt.mT)
    with pytest.raises(TypeError, match="argument 'tensor' must be Tensor"):
        t.is_set_to(np.zeros(2))


def test_retains_grad_matches_torch(torch):
    for m in (tg, torch):
        a = m.ones(3, requires_grad=True)
        y = a * 2
        assert y.retains_grad is False and a.retains_grad is False
        y.retain_grad()
        a.retain_grad()  # a leaf: nothing to retain
        assert y.retains_grad is True and a.retains_grad is False
        assert (y * 3).retains_grad is False


# ---- runtime flags

def test_inference_mode_is_seen():
    assert tg.is_inference_mode_enabled() is False
    with tg.inference_mode():
        assert tg.is_inference_mode_enabled() is True
        with tg.inference_mode(False):
            assert tg.is_inference_mode_enabled() is False
        with tg.no_grad():
            assert tg.is_inference_mode_enabled() is True
        assert tg.is_inference_mode_enabled() is True
    assert tg.is_inference_mode_enabled() is False

    @tg.inference_mode
    def inside():
        return tg.is_inference_mode_enabled()

    assert inside() is True and tg.is_inference_mode_enabled() is False
    try:
        with tg.inference_mode():
            raise KeyError
    except KeyError:
        pass
    assert tg.is_inference_mode_enabled() is False and tg.is_grad_enabled()


def test_inference_mode_is_per_thread():
    seen = []
    with tg.inference_mode():
        t = threading.Thread(target=lambda: seen.append(tg.is_inference_mode_enabled()))
        t.start()
        t.join()
    assert seen == [False]


def test_matmul_precision_and_warn_always(torch):
    assert tg.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
    try:
        tg.set_float32_matmul_precision("medium")
        assert tg.get_float32_matmul_precision() == "medium"
        with pytest.warns(UserWarning, match="bad is not one of 'highest', 'high', or 'medium'"):
            tg.set_float32_matmul_precision("bad")
        assert tg.get_float32_matmul_precision() == "medium"
        with pytest.raises(TypeError, match="set_float32_matmul_precision expects a str, but "
                                            "got int"):
            tg.set_float32_matmul_precision(3)
    finally:
        tg.set_float32_matmul_precision("highest")
    assert tg.is_warn_always_enabled() is torch.is_warn_always_enabled() is False
    try:
        tg.set_warn_always(True)
        assert tg.is_warn_always_enabled() is True
        with pytest.raises(TypeError, match="set_warn_always expects a bool, but got str"):
            tg.set_warn_always("x")
    finally:
        tg.set_warn_always(False)


# ---- new, resize_, resize_as_, apply_, map_

@pytest.mark.parametrize("args", [(), ((2, 3),), ([1, 2],), ([[1.5, 2], [3, 4]],), (2, 3),
                                  (0,)])
def test_new_matches_torch(torch, args):
    ours = tg.arange(6.0).reshape(2, 3).new(*args)
    theirs = torch.arange(6.0).reshape(2, 3).new(*args)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == np.float32
    if args and isinstance(args[0], (list, tuple)):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert not ours.requires_grad


def test_new_from_tensor_and_errors(torch):
    src = tg.tensor([1, 2])
    out = tg.zeros(2, dtype=np.float64).new(src)
    assert out.dtype == np.float64 and not np.shares_memory(out.numpy(), src.numpy())
    with pytest.raises(TypeError, match=r"new\(\): data must be a sequence \(got float\)"):
        tg.zeros(2).new(2.5)
    with pytest.raises(ValueError, match="negative dimension"):
        tg.zeros(2).new(-1, 2)


@pytest.mark.parametrize("size", [(3,), (3, 3), ((4,),), (0,), (2, 3)])
def test_resize_matches_torch_where_defined(torch, size):
    ours = tg.arange(6.0).reshape(2, 3).mT.resize_(*size)  # a non-contiguous start
    theirs = torch.arange(6.0).reshape(2, 3).mT.contiguous().resize_(*size)
    assert ours.shape == tuple(theirs.shape)
    n = min(6, ours.numel())  # torch's places beyond the old size are uninitialized
    np.testing.assert_array_equal(ours.numpy().reshape(-1)[:n], theirs.numpy().reshape(-1)[:n])
    assert np.all(ours.numpy().reshape(-1)[n:] == 0)


def test_resize_as_and_errors(torch):
    t = tg.arange(6.0)
    assert t.resize_as_(tg.zeros(2, 2)) is t and t.shape == (2, 2)
    np.testing.assert_array_equal(t.numpy(), [[0, 1], [2, 3]])
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        tg.zeros(2, requires_grad=True).resize_(3)
    with pytest.raises(ValueError, match="negative dimension"):
        tg.zeros(2).resize_(-1)
    with pytest.raises(TypeError, match="argument 'the_template' must be Tensor"):
        tg.zeros(2).resize_as_((2, 2))


def test_apply_and_map_match_torch(torch):
    a = R.standard_normal((2, 3)).astype(np.float32)
    ours, theirs = tg.tensor(a), torch.tensor(a)
    assert ours.apply_(lambda v: v * 2 + 1) is ours
    theirs.apply_(lambda v: v * 2 + 1)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    b = R.standard_normal(3).astype(np.float32)
    ours.map_(tg.tensor(b), lambda x, y: x * y)
    theirs.map_(torch.tensor(b), lambda x, y: x * y)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ints = tg.tensor([1, 2, 3])
    ints.apply_(lambda v: v + 1 if isinstance(v, int) else -100)  # Python ints, as torch's
    np.testing.assert_array_equal(ints.numpy(), [2, 3, 4])


def test_apply_errors_before_writing(torch):
    with pytest.raises(RuntimeError, match=r"Can't call apply_\(\) on Variable that requires "
                                           r"grad. Use var.detach\(\).apply_\(\) instead."):
        tg.zeros(2, requires_grad=True).apply_(lambda v: v)
    t = tg.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="must return a real number, not str"):
        t.apply_(lambda v: "a")
    with pytest.raises(ValueError, match="does not broadcast"):
        t.map_(tg.ones(3), lambda a, b: a)
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])


# ---- the in-place spellings

INTS = R.integers(1, 50, (3, 4))
INTS2 = R.integers(1, 50, (4,))
INPLACE_INT = ["bitwise_and_", "bitwise_or_", "bitwise_xor_", "gcd_", "lcm_",
               "bitwise_left_shift_", "bitwise_right_shift_"]


@pytest.mark.parametrize("name", INPLACE_INT)
def test_integer_in_place_matches_torch(torch, name):
    other = INTS2 % 5 if "shift" in name else INTS2
    ours, theirs = tg.tensor(INTS), torch.tensor(INTS)
    assert getattr(ours, name)(tg.tensor(other)) is ours
    getattr(theirs, name)(torch.tensor(other))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_bitwise_not_in_place(torch):
    ours, theirs = tg.tensor(INTS), torch.tensor(INTS)
    ours.bitwise_not_()
    theirs.bitwise_not_()
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    b = tg.tensor([True, False])
    b.bitwise_not_()
    assert b.numpy().tolist() == [False, True]


FLOAT_INPLACE = {
    "ldexp_": (lambda m: m.tensor([1, 2, -3, 0]), False),
    "heaviside_": (lambda m: m.tensor([0.5, 0.25, 1.0, 0.0]), False),
    "nextafter_": (lambda m: m.tensor([1.0, -1.0, 0.0, 5.0]), False),
    "igamma_": (lambda m: m.tensor([1.0, 2.0, 0.5, 3.0]), False),
    "igammac_": (lambda m: m.tensor([1.0, 2.0, 0.5, 3.0]), False),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(FLOAT_INPLACE))
def test_float_in_place_values_match_torch(torch, name, dtype):
    other, _ = FLOAT_INPLACE[name]
    a = np.array([0.0, 1.5, 2.0, -0.5], dtype) if "gamma" not in name else \
        np.array([0.5, 1.5, 2.0, 4.0], dtype)
    ours, theirs = tg.tensor(a), torch.tensor(a)
    o, t = other(tg), other(torch)
    if name != "ldexp_":
        o, t = o.astype(dtype), t.to(getattr(torch, np.dtype(dtype).name))
    getattr(ours, name)(o)
    getattr(theirs, name)(t)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6 if dtype == np.float32
                               else 1e-12)
    assert ours.dtype == dtype


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_recorded_in_place_gradients_match_torch(torch, dtype, rtol):
    mask = np.array([True, False, True, False, True])
    # (ldexp by a negative int: torch's gradient is 0, an integer power of 2; not tested)
    x, src = R.standard_normal((3, 5)), R.standard_normal(15)
    torch_parity(torch, lambda a, s: (a * 1).masked_scatter_(tg.tensor(mask), s),
                 lambda a, s: (a * 1).masked_scatter_(torch.tensor(mask), s), [x, src], dtype,
                 rtol)
    torch_parity(torch, lambda a: (a * 1).absolute_(), lambda a: (a * 1).absolute_(), [x],
                 dtype, rtol)
    torch_parity(torch, lambda a: (a * 1).ldexp_(tg.tensor([1, 2, 0, 4, 3])),
                 lambda a: (a * 1).ldexp_(torch.tensor([1, 2, 0, 4, 3])), [x], dtype, rtol)
    b1, b2, inp = R.standard_normal((2, 3, 4)), R.standard_normal((2, 4, 5)), \
        R.standard_normal((2, 3, 5))
    torch_parity(torch, lambda i, p, q: (i * 1).baddbmm_(p, q, beta=0.5, alpha=2),
                 lambda i, p, q: (i * 1).baddbmm_(p, q, beta=0.5, alpha=2), [inp, b1, b2],
                 dtype, rtol)


def test_float_power_in_place(torch):
    a = R.uniform(0.5, 2, 4)
    torch_parity(torch, lambda x, e: (x * 1).float_power_(e),
                 lambda x, e: (x * 1).float_power_(e), [a, R.standard_normal(4)],
                 np.float64, 1e-12)
    t = tg.tensor(a.astype(np.float32))
    with pytest.raises(TypeError, match="the base given to float_power_ has dtype float32 but "
                                        "the operation's result requires dtype float64"):
        t.float_power_(2)
    with pytest.raises(RuntimeError, match="has dtype Float but the operation's result "
                                           "requires dtype Double"):
        torch.tensor(a.astype(np.float32)).float_power_(2)


def test_in_place_spellings_refuse_before_writing():
    t = tg.tensor([1, 2, 3])
    with pytest.raises(TypeError, match="can't be cast to the desired output type int64"):
        t.ldexp_(tg.tensor([1, 1, 1]))
    np.testing.assert_array_equal(t.numpy(), [1, 2, 3])
    leaf = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.heaviside_(tg.tensor([0.5, 0.5]))
    with pytest.raises(TypeError):
        t.gcd_()  # other is required, as in torch
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tg.tensor([4, 6]).gcd_(other=tg.tensor([6, 4]))
