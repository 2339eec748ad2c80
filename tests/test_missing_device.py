"""Devices, as torch's on a machine without a GPU: ``tg.device`` against ``torch.device`` (str,
repr, type, index, equality, hashing, torch's messages for bad device strings),
``Module.to`` / ``Tensor.to`` in torch's three forms (device and dtype, dtype, another tensor)
giving torch's dtypes, ``"cpu"`` accepted and every other device refused with a ValueError,
``x.device``, ``cuda()`` refused, ``tg.cuda.is_available()``."""
from __future__ import annotations

import pickle
import re

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor, nn

GOOD = [("cpu",), ("cpu:0",), ("cpu", 0), ("cpu", 3), ("cuda",), ("cuda:1",), ("meta",),
        ("mps",)]


@pytest.mark.parametrize("args", GOOD, ids=str)
def test_device_objects_match_torch(torch, args):
    ours, theirs = tg.device(*args), torch.device(*args)
    assert str(ours) == str(theirs)
    assert repr(ours) == repr(theirs)
    assert (ours.type, ours.index) == (theirs.type, theirs.index)
    assert tg.device(ours) == ours and hash(tg.device(ours)) == hash(ours)
    assert pickle.loads(pickle.dumps(ours)) == ours


def test_device_equality_is_torchs():
    assert tg.device("cpu") == tg.device("cpu")
    assert tg.device("cpu") != tg.device("cpu:0")  # torch: an index makes another device
    assert tg.device("cpu") != "cpu"  # torch compares a device with a string as unequal too
    assert len({tg.device("cpu"), tg.device("cpu"), tg.device("cpu", 0)}) == 2


BAD = [("foo",), ("CPU",), ("cpu:x",), ("cpu:-1",), ("cpu", -1), (0,), ("cpu:0", 1)]


@pytest.mark.parametrize("args", BAD, ids=str)
def test_bad_device_strings_raise_torchs_messages_as_value_errors(torch, args):
    with pytest.raises(RuntimeError) as theirs:
        torch.device(*args)
    with pytest.raises(ValueError, match="^" + re.escape(str(theirs.value)) + "$"):
        tg.device(*args)


@pytest.mark.parametrize("args", [(1.5,), (None,), ("cpu", "0"), ("cpu", 1.0)], ids=str)
def test_bad_device_argument_types_are_type_errors(torch, args):
    with pytest.raises(TypeError):
        torch.device(*args)
    with pytest.raises(TypeError, match="device\\(\\): argument"):
        tg.device(*args)


# ---- Module.to --------------------------------------------------------------------------------

def _pair(torch):
    ours, theirs = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    return ours, theirs


TO_FORMS = [
    (("cpu",), {}), ((), {"device": "cpu"}), (("cpu", "float64"), {}),
    ((), {"device": "cpu", "dtype": "float64"}), (("float64",), {}), ((), {"dtype": "float16"}),
    (("float64", True), {}), (("cpu",), {"non_blocking": True}), ((None,), {}), ((), {}),
    ((), {"device": None, "dtype": None}), (("DEVICE",), {}), (("DEVICE", "float64"), {}),
    (("TENSOR64",), {}),
]


def _spell(torch, args, kwargs, lib):
    """The same call spelled for tinygrad_norm or torch ("float64" as each one's dtype)."""
    def one(v):
        if v in ("float64", "float16"):
            return getattr(torch, v) if lib == "torch" else np.dtype(v)
        if v == "DEVICE":
            return torch.device("cpu") if lib == "torch" else tg.device("cpu")
        if v == "TENSOR64":
            return torch.zeros(1, dtype=torch.float64) if lib == "torch" \
                else tg.zeros(1, dtype=np.float64)
        return v
    return [one(a) for a in args], {k: one(v) for k, v in kwargs.items()}


@pytest.mark.parametrize("args,kwargs", TO_FORMS, ids=[f"{a}-{k}" for a, k in TO_FORMS])
def test_module_to_takes_torchs_forms(torch, args, kwargs):
    ours, theirs = _pair(torch)
    a, k = _spell(torch, args, kwargs, "ours")
    ta, tk = _spell(torch, args, kwargs, "torch")
    assert ours.to(*a, **k) is ours
    assert theirs.to(*ta, **tk) is theirs
    assert ours.weight.dtype.name == str(theirs.weight.dtype).removeprefix("torch.")
    assert ours.bias.dtype == ours.weight.dtype


@pytest.mark.parametrize("args,kwargs", TO_FORMS, ids=[f"{a}-{k}" for a, k in TO_FORMS])
def test_tensor_to_takes_torchs_forms(torch, args, kwargs):
    x, tx = tg.ones(2, 3), torch.ones(2, 3)
    a, k = _spell(torch, args, kwargs, "ours")
    ta, tk = _spell(torch, args, kwargs, "torch")
    out, tout = x.to(*a, **k), tx.to(*ta, **tk)
    assert out.dtype.name == str(tout.dtype).removeprefix("torch.")
    assert (out is x) == (tout is tx)  # itself when nothing changes, as torch


def test_tensor_to_is_differentiable_and_copy_makes_a_copy(torch):
    rng = np.random.default_rng(0)
    w, up = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((2, 3))
    x = Tensor(w.copy(), requires_grad=True)
    tx = torch.tensor(w.copy(), requires_grad=True)
    y, ty = x.to("cpu", np.float64, copy=True), tx.to("cpu", torch.float64, copy=True)
    (y * Tensor(up)).sum().backward()
    (ty * torch.from_numpy(up)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)
    c = x.to(copy=True)
    assert c is not x
    c.data[...] = 0  # a copy: the original keeps its values
    np.testing.assert_array_equal(x.numpy(), w)
    assert tg.gradcheck(lambda t: t.to("cpu", copy=True) * 2.0,
                        (Tensor(rng.standard_normal(3), requires_grad=True),))


@pytest.mark.parametrize("where", ["module", "tensor"])
@pytest.mark.parametrize("dev", ["cuda", "cuda:0", "mps", "meta", tg.device("cuda", 1)],
                         ids=str)
def test_other_devices_are_refused_before_anything_changes(where, dev):
    obj = nn.Linear(2, 2) if where == "module" else tg.ones(2)
    with pytest.raises(ValueError, match=f"to\\(\\): device '{re.escape(str(tg.device(dev)))}' "
                                         f"is not available .*CPU only"):
        obj.to(dev, np.float64)
    assert (obj.weight if where == "module" else obj).dtype == np.float32


def test_cuda_is_refused_with_torchs_cause(torch):
    with pytest.raises(AssertionError) as theirs:
        torch.nn.Linear(2, 2).cuda()
    for obj in (nn.Linear(2, 2), tg.ones(2)):
        with pytest.raises(ValueError, match=re.escape(str(theirs.value))):
            obj.cuda()
        with pytest.raises(ValueError, match="cuda:1"):
            obj.cuda(1)
        with pytest.raises(ValueError, match="Torch not compiled with CUDA enabled"):
            obj.to("cuda")


@pytest.mark.parametrize("obj", ["module", "tensor"])
def test_strings_that_are_neither_device_nor_dtype_give_torchs_device_message(torch, obj):
    with pytest.raises(RuntimeError) as theirs:
        torch.ones(1).to("foo")
    target = nn.Linear(2, 2) if obj == "module" else tg.ones(2)
    with pytest.raises(TypeError, match=re.escape(str(theirs.value))):
        target.to("foo")


BAD_TO = [((0,), {}, ValueError, "to(): Cannot access accelerator device when none is available."),
          (("cpu:x",), {}, ValueError, "to(): Invalid device string: 'cpu:x'"),
          (("cpu",), {"foo": 1}, TypeError, "to() got an unexpected keyword argument 'foo'"),
          (("cpu", np.float64, "x"), {}, TypeError, "argument 'non_blocking' must be bool"),
          ((np.float64,), {"dtype": np.float32}, TypeError, "dtype given twice"),
          (("cpu",), {"device": "cpu"}, TypeError, "'device' given by position and by keyword"),
          (("cpu", np.float64, False, False, 1), {}, TypeError, "too many arguments"),
          ((1.5,), {}, TypeError, "device must be a device"),
          ]


@pytest.mark.parametrize("args,kwargs,err,msg", BAD_TO, ids=[m for *_, m in BAD_TO])
@pytest.mark.parametrize("obj", ["module", "tensor"])
def test_bad_to_arguments(obj, args, kwargs, err, msg):
    target = nn.Linear(2, 2) if obj == "module" else tg.ones(2)
    with pytest.raises(err, match=re.escape(msg)):
        target.to(*args, **kwargs)


def test_module_to_keeps_refusing_integer_dtypes(torch):
    with pytest.raises(TypeError):
        torch.nn.Linear(2, 2).to(torch.int64)
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="only floating-point dtypes"):
        m.to("cpu", np.int64)
    assert m.weight.dtype == np.float32


def test_tensor_device_attributes_match_torch(torch):
    x, tx = tg.ones(2), torch.ones(2)
    assert x.device == tg.device("cpu") and str(x.device) == str(tx.device)
    assert repr(x.device) == repr(tx.device)
    assert (x.is_cuda, x.is_cpu, x.get_device()) == (tx.is_cuda, tx.is_cpu, tx.get_device())
    y = tg.zeros(3).to(x.device)  # the usual idiom: a new tensor on another's device
    assert y.device == x.device


def test_the_device_selection_idiom_picks_the_cpu(torch):
    assert tg.cuda.is_available() is torch.cuda.is_available() is False
    assert tg.cuda.device_count() == torch.cuda.device_count() == 0
    dev = tg.device("cuda" if tg.cuda.is_available() else "cpu")
    model = nn.Linear(3, 1).to(dev)
    x = tg.ones(4, 3).to(dev)
    assert model(x).shape == (4, 1)
