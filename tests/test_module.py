"""``nn.Module`` bookkeeping against ``torch.nn`` as the oracle: the same structure built in both
must give the same names, in the same order, from every traversal, the same state-dict keys, the
same ``repr`` layout and the same ``load_state_dict`` report.

Also ``load_state_dict`` proper: all-or-nothing, and copying into the existing arrays so that an
optimizer made before the load keeps training the loaded values.
"""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import nn, optim

torch = pytest.importorskip("torch")
tnn = torch.nn


def _tensor(N, values):
    return tg.Tensor(np.asarray(values, np.float32)) if N is nn else torch.tensor(values)


def _classes(N):
    """The same custom modules written against either framework."""

    class Block(N.Module):
        def __init__(self, width):
            super().__init__()
            self.body = N.Sequential(N.Linear(width, width), N.BatchNorm1d(width), N.ReLU())
            self.drop = N.Dropout(0.25)
            self.register_buffer("scale", _tensor(N, [2.0]))
            self.register_buffer("cache", _tensor(N, [0.0, 0.0]), persistent=False)

        def forward(self, x):
            return self.drop(self.body(x)) * self.scale

    class Net(N.Module):
        def __init__(self):
            super().__init__()
            self.stem = N.Linear(4, 3)
            self.blocks = N.ModuleList([Block(3), Block(3)])
            self.head = N.Sequential(N.Sequential(N.Linear(3, 2), N.Tanh()), N.Identity())
            self.temperature = N.Parameter(_tensor(N, [1.0]))

        def forward(self, x):
            x = self.stem(x)
            for b in self.blocks:
                x = b(x)
            return self.head(x) / self.temperature

    return Block, Net


def _both(build):
    """``build(N)`` in this framework and in torch, from one seed each."""
    tg.manual_seed(0)
    torch.manual_seed(0)
    return build(nn), build(tnn)


def _net(N):
    return _classes(N)[1]()


def _kinds(pairs):
    return [(name, type(m).__name__) for name, m in pairs]


# ------------------------------------------------------------------------------------------------
# traversal
# ------------------------------------------------------------------------------------------------

def test_named_modules_order_and_names():
    ours, theirs = _both(_net)
    assert _kinds(ours.named_modules()) == _kinds(theirs.named_modules())
    assert _kinds(ours.named_modules(prefix="net")) == _kinds(theirs.named_modules(prefix="net"))
    assert [type(m).__name__ for m in ours.modules()] == \
        [type(m).__name__ for m in theirs.modules()]


def test_children_and_named_children():
    ours, theirs = _both(_net)
    assert _kinds(ours.named_children()) == _kinds(theirs.named_children())
    assert [type(m).__name__ for m in ours.children()] == \
        [type(m).__name__ for m in theirs.children()]
    assert _kinds(ours.head.named_children()) == _kinds(theirs.head.named_children())


def _shared(N):
    shared = N.Linear(2, 2)
    return N.Sequential(shared, N.ReLU(), shared, N.Sequential(N.ReLU(), shared))


def test_a_module_shared_by_two_parents():
    ours, theirs = _both(_shared)
    assert _kinds(ours.named_modules()) == _kinds(theirs.named_modules())
    assert _kinds(ours.named_children()) == _kinds(theirs.named_children())  # once, not twice
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    # state_dict names a shared layer under every path, as PyTorch does
    assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize("build", [_net, _shared], ids=["nested", "shared"])
def test_apply_visits_in_torchs_order(build):
    ours, theirs = _both(build)
    seen = {"ours": [], "theirs": []}
    ours.apply(lambda m: seen["ours"].append(type(m).__name__))
    theirs.apply(lambda m: seen["theirs"].append(type(m).__name__))
    assert seen["ours"] == seen["theirs"]
    assert ours.apply(lambda m: None) is ours


def test_apply_refuses_a_cycle_before_calling_anything():
    m = nn.Sequential(nn.Linear(2, 2))
    m.add_module("again", m)
    calls = []
    with pytest.raises(ValueError, match="contains itself"):
        m.apply(calls.append)
    assert calls == []


def test_a_module_cycle_ends():
    m = nn.Sequential(nn.Linear(2, 2))
    m.add_module("again", m)
    assert [k for k, _ in m.named_modules()] == ["", "0"]
    m.eval()
    assert not m.training and not m[0].training
    with pytest.raises(ValueError, match="contains itself"):
        m.state_dict()


def test_named_parameters():
    ours, theirs = _both(_net)
    got = [(k, tuple(p.shape)) for k, p in ours.named_parameters()]
    assert got == [(k, tuple(p.shape)) for k, p in theirs.named_parameters()]
    assert [k for k, _ in ours.named_parameters(prefix="m", recurse=False)] == \
        [k for k, _ in theirs.named_parameters(prefix="m", recurse=False)]
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))


def test_a_tied_parameter_is_listed_once_but_saved_under_both_names():
    def tied(N):
        m = N.Sequential(N.Linear(3, 3), N.Linear(3, 3))
        m[1].weight = m[0].weight
        return m

    ours, theirs = _both(tied)
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_buffers_include_non_persistent_ones_state_dict_does_not():
    ours, theirs = _both(_net)
    assert [(k, tuple(b.shape)) for k, b in ours.named_buffers()] == \
        [(k, tuple(b.shape)) for k, b in theirs.named_buffers()]
    assert "blocks.0.cache" in dict(ours.named_buffers())
    assert len(list(ours.buffers())) == len(list(theirs.buffers()))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert not any(k.endswith("cache") for k in ours.state_dict())
    assert [k for k, _ in ours.blocks[0].named_buffers(recurse=False)] == ["scale", "cache"]


def _persistence(N):
    m = N.Linear(2, 2)
    m.register_buffer("a", _tensor(N, [1.0]), persistent=False)
    m.register_buffer("a", _tensor(N, [2.0]))  # registered again: persistent now
    m.register_buffer("b", _tensor(N, [1.0]), persistent=False)
    del m.b
    m.register_buffer("b", _tensor(N, [2.0]))
    m.register_buffer("c", _tensor(N, [1.0]), persistent=False)
    m.c = N.Parameter(_tensor(N, [3.0]))  # a parameter now
    m.register_buffer("d", _tensor(N, [1.0]), persistent=False)
    return m


def test_buffer_persistence_follows_the_last_registration():
    ours, theirs = _both(_persistence)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [k for k, _ in ours.named_buffers()] == [k for k, _ in theirs.named_buffers()]


@pytest.mark.parametrize("register", [
    lambda N, m: m.register_buffer("weight", _tensor(N, [1.0])),
    lambda N, m: m.register_parameter("training", None),
    lambda N, m: m.register_buffer("forward", None),
    lambda N, m: m.add_module("bias", N.ReLU()),
    lambda N, m: m.register_parameter("extra", N.Parameter(_tensor(N, [1.0]))),
])
def test_registering_over_another_attribute_is_refused(register):
    ours, theirs = _both(lambda N: N.Linear(2, 2))
    ours.extra = 5
    theirs.extra = 5
    with pytest.raises(KeyError, match="already exists"):
        register(tnn, theirs)
    before = list(ours.state_dict())
    with pytest.raises(ValueError, match="already exists"):  # a ValueError here, as bad names
        register(nn, ours)
    assert list(ours.state_dict()) == before and not list(ours.buffers())


def test_registering_the_same_kind_again_replaces():
    m = nn.Linear(2, 2)
    m.register_parameter("bias", None)
    assert [k for k, _ in m.named_parameters()] == ["weight"]
    m.register_buffer("running", tg.Tensor(np.zeros(2, np.float32)))
    m.register_buffer("running", None)
    assert m.running is None and list(m.state_dict()) == ["weight"]


# ------------------------------------------------------------------------------------------------
# repr
# ------------------------------------------------------------------------------------------------

def _intended(torch_repr, module):
    """The repr this framework means to give where it says more than PyTorch: the mode of every
    layer whose output depends on it, and the kind of dropout (in place of ``inplace``)."""
    mode = "train" if module.training else "eval"
    if isinstance(module, nn.Dropout):
        return f"Dropout(p={module.p}, inplace={module.inplace}, inverted={module.inverted}, mode={mode})"
    return torch_repr[:-1] + f", mode={mode})"


_MODE_IN_REPR = ("BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "InstanceNorm2d",
                 "Dropout")


def _leaves(N):
    return N.Sequential(N.Linear(4, 3), N.BatchNorm1d(3), N.ReLU(), N.Dropout(0.5))


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_nested_repr_matches_torch_layout(mode):
    def build(N):
        m = N.Sequential(_leaves(N), N.Sequential(N.Linear(3, 2, bias=False), N.Tanh()),
                         N.Flatten(), N.Identity())
        return m.eval() if mode == "eval" else m

    ours, theirs = _both(build)
    expected = repr(theirs)
    for (_, a), (_, b) in zip(ours.named_modules(), theirs.named_modules()):
        if type(a).__name__ in _MODE_IN_REPR:
            assert repr(a) == _intended(repr(b), a)
            expected = expected.replace(repr(b), repr(a), 1)
        elif not list(a.children()):
            assert repr(a) == repr(b)  # the leaves that mean to print exactly as PyTorch
    assert repr(ours) == expected


def test_repr_of_the_common_layers_is_torchs():
    def build(N):
        return N.Sequential(N.Conv2d(1, 8, 3, padding=1), N.MaxPool2d(2), N.Flatten(),
                            N.LayerNorm(4), N.GroupNorm(2, 4), N.Sigmoid(), N.LeakyReLU(0.1),
                            N.Softmax(dim=1), N.BatchNorm2d(3), N.InstanceNorm2d(3))

    ours, theirs = _both(build)
    for a, b in zip(ours, theirs):
        want = _intended(repr(b), a) if type(a).__name__ in _MODE_IN_REPR else repr(b)
        assert repr(a) == want


def test_module_list_repr_collapses_repeats_as_torch():
    def build(N):
        return N.ModuleList([N.ReLU(), N.ReLU(), N.Linear(2, 2), N.Linear(2, 2), N.Linear(2, 3),
                             N.Sequential(N.Tanh(), N.ReLU()), N.Sequential(N.Tanh(), N.ReLU()),
                             N.Tanh()])

    ours, theirs = _both(build)
    assert repr(ours) == repr(theirs)
    assert "(5-6): 2 x Sequential(" in repr(ours)
    assert repr(nn.ModuleList()) == repr(tnn.ModuleList()) == "ModuleList()"
    one = (nn.ModuleList([nn.ReLU()]), tnn.ModuleList([tnn.ReLU()]))
    assert repr(one[0]) == repr(one[1])


def _custom(N, extra, with_child):
    class Custom(N.Module):
        def __init__(self):
            super().__init__()
            if with_child:
                self.act = N.ReLU()
                self.inner = N.Sequential(N.Linear(1, 1))

        def extra_repr(self):
            return extra

    return Custom()


@pytest.mark.parametrize("extra", ["", "k=3", "k=3\nq=4"])
@pytest.mark.parametrize("with_child", [False, True])
def test_repr_with_extra_repr_and_children(extra, with_child):
    ours, theirs = _both(lambda N: _custom(N, extra, with_child))
    assert repr(ours) == repr(theirs)


def test_repr_of_an_unset_child():
    def build(N):
        m = N.Sequential(N.ReLU())
        m.add_module("gone", None)
        return m

    ours, theirs = _both(build)
    assert repr(ours) == repr(theirs)


# ------------------------------------------------------------------------------------------------
# modes and gradients
# ------------------------------------------------------------------------------------------------

def test_train_and_eval_reach_every_submodule():
    ours, theirs = _both(_net)
    for m in (ours, theirs):
        assert m.eval() is m
    assert all(not m.training for m in ours.modules())
    assert ours.train() is ours and all(m.training for m in ours.modules())
    assert ours.train(False) is ours and all(not m.training for m in ours.modules())
    with pytest.raises(TypeError, match="mode"):
        ours.train(1)
    assert all(not m.training for m in ours.modules())  # a refused call changes nothing


def _frozen_norm(N):
    class FrozenNorm(N.Module):
        """Keeps its batch norm in eval mode whatever the parent asks: the usual override."""

        def __init__(self):
            super().__init__()
            self.bn = N.BatchNorm1d(2)
            self.lin = N.Linear(2, 2)

        def train(self, mode=True):
            super().train(mode)
            self.bn.eval()
            return self

    return N.Sequential(N.Linear(2, 2), FrozenNorm())


def test_train_calls_a_childs_own_train():
    ours, theirs = _both(_frozen_norm)
    for m in (ours, theirs):
        m.eval()
        m.train()
    assert [(k, m.training) for k, m in ours.named_modules()] == \
        [(k, m.training) for k, m in theirs.named_modules()]
    assert not ours[1].bn.training and ours[1].lin.training


def _backward(ours, theirs):
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    ours.train()
    theirs.train()
    ours(tg.Tensor(x)).sum().backward()
    theirs(torch.from_numpy(x)).sum().backward()


def test_zero_grad():
    ours, theirs = _both(_net)
    _backward(ours, theirs)
    assert all(p.grad is not None for p in ours.parameters())
    ours.zero_grad(set_to_none=False)
    theirs.zero_grad(set_to_none=False)
    for (k, a), (_, b) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert a.grad is not None and b.grad is not None, k
        assert not np.any(a.grad.data) and not torch.any(b.grad), k
    ours.zero_grad()
    theirs.zero_grad()
    assert all(p.grad is None for p in ours.parameters())
    assert all(p.grad is None for p in theirs.parameters())


# ------------------------------------------------------------------------------------------------
# load_state_dict
# ------------------------------------------------------------------------------------------------

def _numpy_state(module):
    return {k: (v.numpy() if hasattr(v, "numpy") else np.asarray(v)).copy()
            for k, v in module.state_dict().items()}


def test_load_state_dict_strict_false_reports_keys_as_torch():
    ours, theirs = _both(_net)
    reports = []
    for m, wrap in ((ours, tg.Tensor), (theirs, torch.from_numpy)):
        state = {k: wrap(v) for k, v in _numpy_state(m).items()}
        for k in ("stem.bias", "blocks.1.body.1.running_var", "temperature"):
            del state[k]
        state["extra"] = wrap(np.zeros(1, np.float32))
        state["blocks.0.body.0.foo"] = wrap(np.zeros(1, np.float32))
        state["blocks.0.cache"] = wrap(np.zeros(2, np.float32))  # non-persistent: unexpected
        state["head.0.weight.x"] = wrap(np.zeros(1, np.float32))
        reports.append(m.load_state_dict(state, strict=False))
    ours_report, torch_report = reports
    assert ours_report.missing_keys == torch_report.missing_keys
    assert ours_report.unexpected_keys == torch_report.unexpected_keys
    missing, unexpected = ours_report  # still unpacks as a pair
    assert missing == ["temperature", "stem.bias", "blocks.1.body.1.running_var"]
    assert unexpected[0] == "extra"  # the root's keys first, then each module's in pre-order
    assert repr(ours.load_state_dict(ours.state_dict())) == \
        repr(theirs.load_state_dict(theirs.state_dict()))


def test_load_state_dict_strict_refuses_and_changes_nothing():
    m = _net(nn)
    before = _numpy_state(m)
    state = {k: tg.Tensor(v + 1) for k, v in before.items()}
    del state["stem.bias"]
    with pytest.raises(KeyError, match="stem.bias"):
        m.load_state_dict(state)
    for k, v in _numpy_state(m).items():
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_copies_into_the_existing_arrays():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2))
    opt = optim.SGD(model.parameters(), lr=0.1)
    params = list(model.parameters())
    arrays = [p.data for p in params]
    view = model.state_dict()
    tg.manual_seed(1)
    source = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2))
    wanted = _numpy_state(source)
    model.load_state_dict(source.state_dict())
    assert all(p is q and p.data is a for p, q, a in zip(model.parameters(), params, arrays))
    for k, v in view.items():  # a state_dict taken before the load follows it
        np.testing.assert_array_equal(v.numpy(), wanted[k])
    # the optimizer made before the load trains the loaded values
    x = tg.Tensor(np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32))
    opt.zero_grad()
    model(x).sum().backward()
    grads = {k: p.grad.data.copy() for k, p in model.named_parameters()}
    opt.step()
    for k, p in model.named_parameters():
        np.testing.assert_allclose(p.data, wanted[k] - 0.1 * grads[k], rtol=1e-6, atol=1e-7)


def test_load_state_dict_keeps_no_reference_to_the_source():
    m = nn.Linear(2, 2)
    src = np.ones((2, 2), np.float32)
    m.load_state_dict({"weight": src, "bias": np.zeros(2, np.float32)})
    src[...] = 7
    assert np.all(m.weight.data == 1)


def test_load_state_dict_of_its_own_arrays_permuted():
    """Values that are views of the model's own arrays are read before any is overwritten."""
    m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    w0, w1 = m[0].weight.data.copy(), m[1].weight.data.copy()
    state = m.state_dict()
    state["0.weight"], state["1.weight"] = state["1.weight"], state["0.weight"]
    m.load_state_dict(state)
    np.testing.assert_array_equal(m[0].weight.data, w1)
    np.testing.assert_array_equal(m[1].weight.data, w0)


def test_a_bad_last_key_leaves_the_first_keys_unchanged():
    m = _net(nn)
    before = _numpy_state(m)
    keys = list(before)
    state = {k: tg.Tensor(v + 1) for k, v in before.items()}
    last = keys[-1]
    state[last] = tg.Tensor(np.zeros((7,) + before[last].shape, before[last].dtype))
    with pytest.raises(ValueError, match=f"{last!r} has shape"):
        m.load_state_dict(state)
    for k, v in _numpy_state(m).items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


@pytest.mark.parametrize("value, error, match", [
    (np.array(2.5), ValueError, "non-integer"),
    (np.array(np.nan), ValueError, "non-integer"),
    (np.array("3"), TypeError, "non-numeric"),
])
def test_a_bad_dtype_in_the_last_key_changes_nothing(value, error, match):
    m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    before = _numpy_state(m)
    state = {k: v + 1 for k, v in before.items()}
    assert list(state)[-1] == "1.num_batches_tracked"
    state["1.num_batches_tracked"] = value
    with pytest.raises(error, match=match):
        m.load_state_dict(state)
    for k, v in _numpy_state(m).items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


def test_load_state_dict_casts_integral_floats_and_other_float_widths():
    m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    state = {k: np.asarray(v.numpy(), np.float64) + 1 for k, v in m.state_dict().items()}
    m.load_state_dict(state)
    assert m[1].num_batches_tracked.dtype == np.int64 and int(m[1].num_batches_tracked.item()) == 1
    assert m[0].weight.dtype == np.float32
    np.testing.assert_array_equal(m[0].weight.data, state["0.weight"].astype(np.float32))


def test_load_state_dict_of_a_shared_layer():
    m = _shared(nn)
    state = {k: np.full(v.shape, 3.0, np.float32) for k, v in m.state_dict().items()}
    assert m.load_state_dict(state) == ([], [])
    assert np.all(m[0].weight.data == 3)
    del state["2.weight"]
    with pytest.raises(KeyError, match="2.weight"):
        m.load_state_dict(state)


def test_sequential_slice_keeps_names_as_torch_and_append_takes_a_free_one():
    ours = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4))
    theirs = tnn.Sequential(tnn.Linear(2, 3), tnn.ReLU(), tnn.Linear(3, 4))
    assert list(ours[1:].state_dict()) == list(theirs[1:].state_dict()) == ["2.weight", "2.bias"]
    assert repr(ours[1:]) == repr(theirs[1:])
    assert list(ours[::2].state_dict()) == list(theirs[::2].state_dict())
    tail = ours[1:]
    tail.append(nn.ReLU())  # "2" is taken by the Linear the slice kept; PyTorch would replace it
    assert [name for name, _ in tail.named_children()] == ["1", "2", "3"]
    assert isinstance(tail[1], nn.Linear) and tail[1] is ours[2]


def test_module_list_slice_is_a_module_list_numbered_from_zero_as_torch():
    ours = nn.ModuleList([nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 2)])
    theirs = tnn.ModuleList([tnn.Linear(1, 1), tnn.ReLU(), tnn.Linear(1, 2)])
    assert isinstance(ours[1:], nn.ModuleList) and ours[1:][1] is ours[2]
    assert list(ours[1:].state_dict()) == list(theirs[1:].state_dict()) == ["1.weight", "1.bias"]
    assert repr(nn.ModuleList(None)) == repr(tnn.ModuleList(None))


@pytest.mark.parametrize("value", [5, "fc", tg.Tensor(np.ones(2, np.float32))])
def test_assigning_a_non_module_to_a_child_is_refused_as_torch(value):
    ours, theirs = _both(lambda N: N.Sequential(N.Linear(2, 2)))
    with pytest.raises(TypeError, match="child module '0'"):
        setattr(theirs, "0", value if not isinstance(value, tg.Tensor) else torch.ones(2))
    keys = list(ours.state_dict())
    with pytest.raises(TypeError, match="child module '0'"):
        setattr(ours, "0", value)
    assert isinstance(getattr(ours, "0"), nn.Linear) and list(ours.state_dict()) == keys
    setattr(ours, "0", None)  # None unsets it, as in torch
    assert getattr(ours, "0") is None and list(ours.state_dict()) == []


@pytest.mark.parametrize("make", [
    lambda N, w: N.CrossEntropyLoss(w), lambda N, w: N.NLLLoss(weight=w),
    lambda N, w: N.BCELoss(w), lambda N, w: N.BCEWithLogitsLoss(w, pos_weight=w)])
def test_loss_weights_are_buffers_as_torch(make):
    w = np.array([1.0, 2.0, 3.0])
    ours, theirs = make(nn, w), make(tnn, torch.tensor(w))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), theirs.state_dict()[key].numpy())
    assert list(make(nn, None).state_dict()) == list(make(tnn, None).state_dict())
    assert ours.float().weight.dtype == np.float32  # converted with the module, as a buffer is
    with pytest.raises(TypeError, match="weight must be a Tensor, an array of numbers or None"):
        make(nn, "heavy")


# ------------------------------------------------------------------------------------------------
# containers: PyTorch's list and dict methods, names and state_dict keys as torch's
# ------------------------------------------------------------------------------------------------

def _names(m):
    return [(k, type(c).__name__) for k, c in m.named_children()]


def _edit_list(N, kind):
    seq = N.ModuleList([N.Linear(1, 1), N.ReLU(), N.Tanh()]) if kind == "ModuleList" else \
        N.Sequential(N.Linear(1, 1), N.ReLU(), N.Tanh())
    seq.insert(1, N.Sigmoid())
    seq.insert(3, N.Identity())  # (torch's ModuleList.insert mangles the list for index < 0)
    seq.extend([N.Linear(1, 2), N.ReLU()])
    seq[0] = N.Linear(1, 3)
    seq[-1] = N.Softmax(dim=1)
    del seq[2]
    popped = seq.pop(1)
    del seq[1:3]
    seq += N.Sequential(N.Flatten()) if kind == "Sequential" else [N.Flatten()]
    seq.append(N.Identity())
    return seq, type(popped).__name__


@pytest.mark.parametrize("kind", ["Sequential", "ModuleList"])
def test_list_methods_of_the_indexed_containers_as_torch(kind):
    (ours, popped), (theirs, their_popped) = _both(lambda N: _edit_list(N, kind))
    assert _names(ours) == _names(theirs) and popped == their_popped
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    both = ours + ours
    assert type(both) is type(ours) and _names(both) == _names(theirs + theirs)
    with pytest.raises(IndexError, match="out of range"):
        ours[len(ours)]
    with pytest.raises(IndexError, match="out of range"):
        ours.insert(len(ours) + 1, nn.ReLU())
    short = nn.ModuleList([nn.ReLU(), nn.Tanh()]) if kind == "ModuleList" else \
        nn.Sequential(nn.ReLU(), nn.Tanh())
    short.insert(-1, nn.Identity())  # as list.insert
    assert [type(m).__name__ for m in short] == ["ReLU", "Identity", "Tanh"]
    before = _names(ours)
    with pytest.raises(TypeError, match="is not a Module"):
        ours.extend([nn.ReLU(), 3])  # checked before any is appended
    with pytest.raises(TypeError, match="is not a Module"):
        ours[0] = "relu"
    with pytest.raises(TypeError, match="indices must be integers"):
        ours["0"]
    assert _names(ours) == before


def test_module_dict_as_torch():
    def build(N):
        d = N.ModuleDict({"fc": N.Linear(2, 3), "act": N.ReLU()})
        d.update([("out", N.Linear(3, 1))])
        d["act"] = N.Tanh()
        d.update(N.ModuleDict({"extra": N.Identity()}))
        popped = d.pop("extra")
        return d, type(popped).__name__
    (ours, popped), (theirs, their_popped) = _both(build)
    assert _names(ours) == _names(theirs) and popped == their_popped
    assert list(ours) == list(theirs) == list(ours.keys()) == ["fc", "act", "out"]
    assert [type(m).__name__ for m in ours.values()] == [type(m).__name__ for m in theirs.values()]
    assert "fc" in ours and "extra" not in ours and len(ours) == len(theirs) == 3
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    x = tg.Tensor(np.ones((1, 2), np.float32))
    assert ours["out"](ours["act"](ours["fc"](x))).shape == (1, 1)
    for bad, exc in ((3, TypeError), ([("a", nn.ReLU(), 1)], ValueError), ([("a", 1)], TypeError),
                     ({"a.b": nn.ReLU()}, ValueError), ({"keys": nn.ReLU()}, ValueError),
                     ([("ok", nn.ReLU()), ("bad", 2)], TypeError)):
        with pytest.raises(exc):
            ours.update(bad)
        assert list(ours) == ["fc", "act", "out"]  # nothing added before the error
    ours.clear()
    assert len(ours) == 0 and list(ours.state_dict()) == []


def test_module_list_subclass_repr_and_slices_keep_the_class():
    class Blocks(nn.ModuleList):
        pass

    class TBlocks(tnn.ModuleList):
        pass
    ours, theirs = Blocks([nn.ReLU(), nn.ReLU()]), TBlocks([tnn.ReLU(), tnn.ReLU()])
    assert repr(ours).replace("Blocks", "X") == repr(theirs).replace("TBlocks", "X")
    assert repr(Blocks()) == "Blocks()" and type(ours[1:]) is Blocks


def test_setattr_of_a_parameter_checks_its_name_as_torch():
    lin = nn.Linear(1, 1)
    p = nn.Parameter(np.ones(1, np.float32))
    for name in ("a.b", ""):
        with pytest.raises(ValueError, match="non-empty and contain no '.'"):
            setattr(lin, name, p)
    with pytest.raises(ValueError, match="class attribute"):
        lin.eval = p  # was registered as a parameter "eval" that lin.eval did not return
    with pytest.raises(ValueError, match="non-empty and contain no '.'"):
        setattr(lin, "x.y", nn.ReLU())
    assert list(lin.state_dict()) == ["weight", "bias"]


def test_a_module_does_not_replace_a_parameter_as_torch():
    ours, theirs = nn.Linear(1, 1), tnn.Linear(1, 1)
    with pytest.raises(TypeError, match="cannot assign"):
        theirs.weight = tnn.ReLU()
    with pytest.raises(TypeError, match="cannot assign ReLU as parameter 'weight'"):
        ours.weight = nn.ReLU()
    assert list(ours.state_dict()) == ["weight", "bias"]


def test_state_dict_prefix_is_put_before_the_keys_as_it_is():
    ours, theirs = _both(lambda N: N.Linear(1, 1))
    for prefix in ("pre", "enc.", ""):
        assert list(ours.state_dict(prefix=prefix)) == list(theirs.state_dict(prefix=prefix))


def test_dir_lists_registered_names_as_torch():
    ours, theirs = _both(_net)
    for name in ("stem", "blocks", "temperature", "head", "forward"):
        assert (name in dir(ours)) == (name in dir(theirs)) == True  # noqa: E712
    assert "scale" in dir(ours.blocks[0])


def test_module_list_plus_any_iterable_of_modules_as_torch():
    ours, theirs = _both(lambda N: N.ModuleList([N.ReLU()]) + [N.Tanh()])
    assert _names(ours) == _names(theirs)


# ---- forward hooks, as torch's ------------------------------------------------------------------

def test_forward_hooks_capture_and_replace_as_torch():
    """Pre-hooks may replace the arguments, hooks the output; prepend=True runs first;
    with_kwargs=True passes the keyword arguments; a removed hook stays removed."""
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    ours_model, theirs_model = _both(lambda N: N.Sequential(N.Linear(3, 4), N.ReLU(),
                                                            N.Linear(4, 2)))
    theirs_model.load_state_dict({k: torch.tensor(v.numpy())
                                  for k, v in ours_model.state_dict().items()})

    def run(model, make, shape_of):
        seen = []
        h1 = model[0].register_forward_hook(lambda m, args, out: seen.append(shape_of(out)))
        model[1].register_forward_pre_hook(lambda m, args: (args[0] * 2,))
        model[2].register_forward_hook(lambda m, args, out: out + 1)
        model[2].register_forward_hook(lambda m, args, out: seen.append("first"), prepend=True)
        model[0].register_forward_pre_hook(
            lambda m, args, kwargs: seen.append(sorted(kwargs)), with_kwargs=True)
        y = model(make(x))
        h1.remove()
        h1.remove()  # a second remove() does nothing
        model(make(x))
        return y, seen
    ours, seen = run(ours_model, tg.Tensor, lambda t: tuple(t.shape))
    theirs, their_seen = run(theirs_model, torch.tensor, lambda t: tuple(t.shape))
    assert seen == their_seen
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_forward_hook_handles_work_as_context_managers():
    lin = nn.Linear(2, 2)
    calls = []
    with lin.register_forward_hook(lambda m, a, o: calls.append(1)):
        lin(tg.Tensor(np.ones((1, 2), np.float32)))
    lin(tg.Tensor(np.ones((1, 2), np.float32)))
    assert calls == [1]
    with pytest.raises(TypeError, match="callable"):
        lin.register_forward_hook(3)


def test_pickle_and_deepcopy_of_a_model_keep_no_grads_or_hooks_as_torch():
    import copy
    import pickle
    lin = nn.Linear(2, 2)
    lin(tg.Tensor(np.ones((1, 2), np.float32))).sum().backward()
    lin.weight.register_hook(lambda g: g * 2)  # a lambda: pickling it failed
    for other in (pickle.loads(pickle.dumps(lin)), copy.deepcopy(lin)):
        assert other.weight.grad is None and other.weight.requires_grad
        assert isinstance(other.weight, nn.Parameter)
        other(tg.Tensor(np.ones((1, 2), np.float32))).sum().backward()
        np.testing.assert_array_equal(other.weight.grad.numpy(), 1.0)  # no hook doubled it
        np.testing.assert_array_equal(other.weight.numpy(), lin.weight.numpy())


def test_sequential_subclass_slices_and_container_dir_as_torch():
    class MySeq(nn.Sequential):
        pass
    s = MySeq(nn.Linear(1, 1), nn.ReLU(), nn.Tanh())
    assert type(s[1:]) is MySeq
    assert not [n for n in dir(s) if n.isdigit()]
    with pytest.raises(TypeError, match="slice cannot be assigned"):
        s[0:2] = nn.ReLU()
    from tinygrad_norm import viz
    x = tg.Tensor(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))
    viz.neurons(MySeq(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)), x)  # was refused
    with pytest.raises(NotImplementedError, match="ModuleList must define forward"):
        viz.neurons(nn.Sequential(nn.ModuleList([nn.Linear(3, 4), nn.ReLU()]), nn.Linear(4, 2)), x)


def test_sequential_repeats_and_refuses_what_torch_refuses():
    ours, theirs = _both(lambda N: N.Sequential(N.Linear(1, 2), N.ReLU()))
    assert _names(ours * 2) == _names(theirs * 2) and _names(2 * ours) == _names(2 * theirs)
    assert (ours * 2)[2] is ours[0]  # the same modules
    with pytest.raises(ValueError, match="Non-positive"):
        ours * 0
    with pytest.raises(ValueError, match="only objects of Sequential"):
        ours + [nn.ReLU()]
    ours *= 3
    theirs *= 3
    assert _names(ours) == _names(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    assert nn.ReLU().train(np.bool_(False)).training is False
