"""``device=`` where torch has it: every creation and random function, the ``Tensor.new_*``
methods and every nn module whose torch constructor takes ``device=None, dtype=None``.

For each callable: ``device`` None, ``"cpu"``, ``"cpu:0"`` or ``tg.device("cpu")`` gives what the
call without it gives (the same draws for seeded random ones); any other device (cuda, meta, mps,
an accelerator ordinal) is a ValueError, a non-device a TypeError, both in torch's words and
before the generator moves; the parameter has torch's name, kind, default and place. The lists
below are checked against torch's namespace, so a torch callable with ``device`` that the package
has cannot be left out of them."""
from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import devices as _devices
from tinygrad_norm import nn
from tinygrad_norm import random as _random

X = tg.tensor(np.arange(6.0).reshape(2, 3))

# name -> (args, kwargs, draws from the generator); each called as tg.<name>(*args, **kwargs)
FUNCS = {
    "tensor": (([1.0, 2.0],), {}, False),
    "as_tensor": ((np.arange(3.0),), {}, False),
    "asarray": (([1, 2],), {}, False),
    "scalar_tensor": ((2.5,), {}, False),
    "zeros": ((2, 3), {}, False),
    "ones": ((2, 3), {}, False),
    "full": (((2, 3), 1.5), {}, False),
    "empty": ((2, 3), {}, False),
    "eye": ((3,), {}, False),
    "arange": ((5,), {}, False),
    "linspace": ((0.0, 1.0, 5), {}, False),
    "logspace": ((0.0, 1.0, 5), {}, False),
    "zeros_like": ((X,), {}, False),
    "ones_like": ((X,), {}, False),
    "empty_like": ((X,), {}, False),
    "full_like": ((X, 2.0), {}, False),
    "rand": ((2, 3), {}, True),
    "randn": ((2, 3), {}, True),
    "rand_like": ((X,), {}, True),
    "randn_like": ((X,), {}, True),
    "randint": ((0, 10, (4,)), {}, True),
    "randint_like": ((X, 10), {}, True),
    "randperm": ((6,), {}, True),
    "normal": ((0.0, 1.0, (4,)), {}, True),
    "hann_window": ((5,), {}, False),
    "hamming_window": ((5,), {}, False),
    "blackman_window": ((5,), {}, False),
    "bartlett_window": ((5,), {}, False),
    "kaiser_window": ((5,), {}, False),
    "tril_indices": ((3, 3), {}, False),
    "triu_indices": ((3, 3), {}, False),
    "empty_strided": (((2, 3), (1, 2)), {}, False),
    "empty_permuted": (((2, 3), (1, 0)), {}, False),
    "range": ((0, 3), {}, False),
}

METHODS = {  # Tensor.<name>(X, *args)
    "new_tensor": ([1.0, 2.0],),
    "new_zeros": ((2, 2),),
    "new_ones": ((2, 2),),
    "new_full": ((2, 2), 3.0),
    "new_empty": ((2, 2),),
}

CPU = ["cpu", "cpu:0", "cpu:1", tg.device("cpu"), tg.device("cpu", 0)]
ELSEWHERE = ["cuda", "cuda:0", "meta", "mps", "xla", 0, tg.device("cuda")]


def _gen_state():
    return _random.generator().bit_generator.state


def _call(name, **extra):
    args, kwargs, _ = FUNCS[name]
    return getattr(tg, name)(*args, **kwargs, **extra)


def _same(a, b):
    assert type(a) is type(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    if a.dtype.kind == "f":
        assert np.array_equal(a.numpy(), b.numpy(), equal_nan=True)
    else:
        assert np.array_equal(a.numpy(), b.numpy())
    assert a.requires_grad == b.requires_grad


def _torch_doc_signature(torch, fn):
    """The first line of a torch builtin's docstring that spells its signature with a device,
    else (normal, scalar_tensor document none) the first ATen schema of that name that has one."""
    doc = fn.__doc__ or ""
    lines = [line for line in doc.splitlines() if "device" in line and "(" in line]
    if lines:
        return lines[0]
    schemas = torch._C._jit_get_schemas_for_operator(f"aten::{fn.__name__}")
    return next(str(s) for s in schemas if "device" in str(s))


# ---- the lists are complete ----------------------------------------------------------------------

def test_every_torch_creation_function_with_device_is_covered(torch):
    missing = []
    for name in dir(tg):
        theirs = getattr(torch, name, None)
        if name.startswith("_") or theirs is None or inspect.isclass(theirs) or \
                inspect.ismodule(theirs) or name in ("set_default_device",):
            continue
        doc = (getattr(theirs, "__doc__", None) or "").splitlines()[:6]
        if any("device" in line and "(" in line for line in doc) and name not in FUNCS:
            missing.append(name)
    assert missing == []


def test_every_torch_module_with_device_is_covered(torch):
    missing = []
    for name in dir(nn):
        theirs = getattr(torch.nn, name, None)
        if not inspect.isclass(theirs):
            continue
        try:
            params = inspect.signature(theirs.__init__).parameters
        except (TypeError, ValueError):
            continue
        if "device" in params and name not in MODULES:
            missing.append(name)
    assert missing == []


# ---- creation functions --------------------------------------------------------------------------

@pytest.mark.parametrize("dev", CPU + [None], ids=repr)
@pytest.mark.parametrize("name", sorted(FUNCS))
def test_cpu_device_gives_the_same_result(name, dev):
    tg.manual_seed(7)
    plain = _call(name)
    tg.manual_seed(7)
    _same(_call(name, device=dev), plain)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_cpu_device_with_dtype_and_requires_grad(name):
    if name in ("randint", "randint_like", "randperm", "tril_indices", "triu_indices",
                "arange", "asarray", "tensor", "as_tensor"):
        kwargs = {"dtype": np.int32} if name != "tensor" and name != "as_tensor" else {}
    else:
        kwargs = {"dtype": np.float64, "requires_grad": True}
    if name in ("as_tensor", "tril_indices", "triu_indices") and "requires_grad" in kwargs:
        del kwargs["requires_grad"]
    tg.manual_seed(3)
    plain = _call(name, **kwargs)
    tg.manual_seed(3)
    _same(_call(name, device="cpu", **kwargs), plain)


@pytest.mark.parametrize("dev", ELSEWHERE, ids=repr)
@pytest.mark.parametrize("name", sorted(FUNCS))
def test_other_devices_are_refused_before_the_generator_moves(name, dev):
    tg.manual_seed(5)
    before = _gen_state()
    with pytest.raises(ValueError, match=re.escape(f"{name}()")):
        _call(name, device=dev)
    assert _gen_state() == before


@pytest.mark.parametrize("name", ["rand_like", "randn_like", "randint", "randint_like",
                                  "randperm", "normal"])
def test_a_given_generator_does_not_move_either(name):
    g = np.random.default_rng(0)
    before = g.bit_generator.state
    with pytest.raises(ValueError):
        _call(name, device="cuda", generator=g)
    assert g.bit_generator.state == before


@pytest.mark.parametrize("name", ["zeros", "randn", "tensor", "arange", "hann_window",
                                  "randint", "tril_indices"])
def test_messages_are_torchs(torch, name):
    args = FUNCS[name][0]
    targs = [torch.tensor(a.numpy()) if isinstance(a, tg.Tensor) else a for a in args]
    for dev, ours in (("cuda", ValueError), ("bad", ValueError), ("cpu:x", ValueError),
                      (0, ValueError), (1.5, TypeError), ([0], TypeError)):
        with pytest.raises(BaseException) as theirs:
            getattr(torch, name)(*targs, device=dev)
        text = str(theirs.value)
        if isinstance(theirs.value, TypeError):
            assert ours is TypeError
            # an overloaded torch builtin (randn) lists its overloads instead; the plain
            # message is the one of its single-signature siblings (zeros)
            text = f"argument 'device' must be torch.device, not {type(dev).__name__}"
        with pytest.raises(ours, match=re.escape(text)):
            _call(name, device=dev)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_function_signatures_match_torchs(torch, name):
    ours = inspect.signature(getattr(tg, name)).parameters["device"]
    line = _torch_doc_signature(torch, getattr(torch, name))
    head, default = re.search(r"^(.*?)\bdevice(?::[^=,]*)?(?:=([^,)]*))?", line).groups()
    # keyword-only in torch: a bare * (or \*) before it, not the *size of zeros(*size, ...)
    assert re.search(r"(^|[(,])\s*\\?\*\s*,", head), line
    assert ours.kind is inspect.Parameter.KEYWORD_ONLY
    assert ours.default == (None if default in (None, "None") else default.strip("'\""))


# ---- Tensor.new_* ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(METHODS))
def test_new_methods_take_a_cpu_device_and_refuse_others(torch, name):
    method = getattr(tg.Tensor, name)
    _same(method(X, *METHODS[name], device="cpu"), method(X, *METHODS[name]))
    with pytest.raises(ValueError, match="Torch not compiled with CUDA enabled"):
        method(X, *METHODS[name], device="cuda")
    ours = inspect.signature(method).parameters["device"]
    assert ours.kind is inspect.Parameter.KEYWORD_ONLY and ours.default is None
    line = _torch_doc_signature(torch, getattr(torch.Tensor, name))
    assert re.search(r"\*\s*,.*\bdevice=None", line), line


# ---- nn modules --------------------------------------------------------------------------------

MODULES = {  # name -> constructor arguments before device
    "Linear": (3, 4), "Bilinear": (2, 3, 4), "LazyLinear": (4,),
    "Conv1d": (2, 3, 3), "Conv2d": (2, 3, 3), "Conv3d": (2, 3, 2),
    "ConvTranspose1d": (2, 3, 3), "ConvTranspose2d": (2, 3, 3), "ConvTranspose3d": (2, 3, 2),
    "LazyConv1d": (3, 2), "LazyConv2d": (3, 2), "LazyConv3d": (3, 2),
    "LazyConvTranspose1d": (3, 2), "LazyConvTranspose2d": (3, 2), "LazyConvTranspose3d": (3, 2),
    "BatchNorm1d": (3,), "BatchNorm2d": (3,), "BatchNorm3d": (3,), "SyncBatchNorm": (3,),
    "InstanceNorm1d": (3, 1e-5, 0.1, True), "InstanceNorm2d": (3,), "InstanceNorm3d": (3,),
    "LazyBatchNorm1d": (), "LazyBatchNorm2d": (), "LazyBatchNorm3d": (),
    "LazyInstanceNorm1d": (), "LazyInstanceNorm2d": (), "LazyInstanceNorm3d": (),
    "LayerNorm": (4,), "RMSNorm": (4,), "GroupNorm": (2, 4),
    "Embedding": (5, 3), "EmbeddingBag": (5, 3), "PReLU": (3,),
    "RNNBase": ("LSTM", 3, 4), "RNNCellBase": (3, 4, True, 2),
    "RNNCell": (3, 4), "LSTMCell": (3, 4), "GRUCell": (3, 4),
    "MultiheadAttention": (4, 2),
    "TransformerEncoderLayer": (4, 2, 8), "TransformerDecoderLayer": (4, 2, 8),
    "Transformer": (4, 2, 1, 1, 8),
    "AdaptiveLogSoftmaxWithLoss": (16, 10, [3, 6]),
    "LinearCrossEntropyLoss": (3, 4),
}
RNNS = {"RNN": (3, 4, 2), "LSTM": (3, 4, 2), "GRU": (3, 4, 2)}  # torch's are (*args, **kwargs)
ALL_MODULES = {**MODULES, **RNNS}


def _state(m):
    return {k: v.numpy().copy() for k, v in m.state_dict().items()}


@pytest.mark.parametrize("dev", CPU + [None], ids=repr)
@pytest.mark.parametrize("name", sorted(ALL_MODULES))
def test_modules_built_on_the_cpu_are_the_same(name, dev):
    cls = getattr(nn, name)
    tg.manual_seed(11)
    plain = _state(cls(*ALL_MODULES[name]))
    after = _gen_state()
    tg.manual_seed(11)
    got = _state(cls(*ALL_MODULES[name], device=dev))
    assert _gen_state() == after  # the same draws, no more
    assert got.keys() == plain.keys()
    for k in plain:
        assert got[k].dtype == plain[k].dtype and got[k].shape == plain[k].shape
        if not name.startswith("Lazy"):  # a lazy module's uninitialized arrays are arbitrary
            assert np.array_equal(got[k], plain[k], equal_nan=True), k


@pytest.mark.parametrize("dev", ELSEWHERE + ["bad", 1.5], ids=repr)
@pytest.mark.parametrize("name", sorted(ALL_MODULES))
def test_modules_refuse_other_devices_before_drawing(name, dev):
    tg.manual_seed(2)
    before = _gen_state()
    err = TypeError if dev == 1.5 else ValueError
    with pytest.raises(err, match=f"^{name}: "):
        getattr(nn, name)(*ALL_MODULES[name], device=dev)
    assert _gen_state() == before


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_signatures_match_torchs(torch, name):
    theirs = list(inspect.signature(getattr(torch.nn, name).__init__).parameters.values())
    ours = list(inspect.signature(getattr(nn, name).__init__).parameters.values())
    upto = [p.name for p in theirs].index("dtype") + 1  # device sits just before dtype
    assert [(p.name, p.kind) for p in ours[:upto]] == [(p.name, p.kind) for p in theirs[:upto]]
    ours_dev = next(p for p in ours if p.name == "device")
    assert ours_dev.default is None


@pytest.mark.parametrize("name", sorted(RNNS))
def test_rnn_layers_take_device_by_keyword_as_torchs(torch, name):
    t = getattr(torch.nn, name)(*RNNS[name], device="cpu", dtype=torch.float64)
    m = getattr(nn, name)(*RNNS[name], device="cpu", dtype=np.float64)
    assert m.weight_ih_l0.dtype == np.float64 and t.weight_ih_l0.dtype == torch.float64
    params = list(inspect.signature(getattr(nn, name).__init__).parameters)
    assert params[-2:] == ["device", "dtype"]


@pytest.mark.parametrize("name,args", [("Linear", (3, 4, True)), ("Conv2d", (2, 3, 3, 1, 0, 1, 1,
                                                                              True, "zeros")),
                                       ("LayerNorm", (4, 1e-5, True, True)),
                                       ("GRUCell", (3, 4, True)), ("PReLU", (3, 0.25))])
def test_device_and_dtype_by_position_as_torch(torch, name, args):
    """``Linear(3, 4, True, "cpu", dtype)`` works in torch: the positions are the same here."""
    t = getattr(torch.nn, name)(*args, "cpu", torch.float64)
    m = getattr(nn, name)(*args, "cpu", np.float64)
    assert all(p.dtype == np.float64 for p in m.parameters())
    assert all(p.dtype == torch.float64 for p in t.parameters())


# ---- one check per call --------------------------------------------------------------------------

def _counting(monkeypatch):
    calls = []
    real = _devices.check_device

    def counted(dev, where):
        if dev is not None:
            calls.append(where)
        return real(dev, where)
    monkeypatch.setattr(_devices, "check_device", counted)
    return calls


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_functions_check_the_device_once(monkeypatch, name):
    calls = _counting(monkeypatch)
    _call(name, device="cpu")
    assert calls == [f"{name}()"]


@pytest.mark.parametrize("name", sorted(ALL_MODULES))
def test_modules_check_the_device_once(monkeypatch, name):
    calls = _counting(monkeypatch)
    getattr(nn, name)(*ALL_MODULES[name], device="cpu")
    assert calls == [name]
