"""Module backward hooks (register_full_backward_hook / _pre_hook) against PyTorch's: what the
hooks see, when they fire, and what their return values change. Every scenario runs in both
libraries with the same weights."""
import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import nn

from conftest import assert_close

T = tg.Tensor


def _values(gs):
    return [None if g is None else np.asarray(g.detach().numpy() if hasattr(g, "detach")
                                              else g.numpy()).tolist() for g in gs]


def _pair(torch, rows=2, cols=3, seed=0):
    """A Linear in each library with the same weights."""
    t = torch.nn.Linear(cols, rows).double()
    m = nn.Linear(cols, rows, dtype=np.float64)
    m.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    return t, m


def _two_outputs(lib):
    class Two(lib.Module):
        def forward(self, a, b, k=None):
            return a * 2, a + b
    return Two()


def _run_two(lib, Tensor, use_y, b_grad):
    log = []
    m = _two_outputs(lib)
    m.register_full_backward_pre_hook(lambda mod, go: log.append(("pre", _values(go))))
    m.register_full_backward_hook(lambda mod, gi, go: log.append(("full", _values(gi),
                                                                   _values(go))))
    a = Tensor([1.0, 2.0]).double().requires_grad_(True)
    b = Tensor([3.0, 4.0]).double().requires_grad_(b_grad)
    x, y = m(a, b, k=3)
    loss = (y * Tensor([5.0, 7.0]).double()).sum() if use_y else x.sum()
    loss.backward()
    return log, _values([a.grad, b.grad])


@pytest.mark.parametrize("use_y", [False, True])
@pytest.mark.parametrize("b_grad", [False, True])
def test_two_outputs_two_inputs_as_torch(torch, use_y, b_grad):
    # an output that gets no gradient is None in grad_output; an input that does not require
    # grad, or that the module did not use on the path taken, gets zeros in grad_input
    mine, theirs = _run_two(nn, T, use_y, b_grad), _run_two(torch.nn, torch.tensor, use_y, b_grad)
    assert mine[0] == theirs[0]
    if b_grad and not use_y:
        # *vs PyTorch*: its identity node sends the zeros of an unused input on into .grad
        assert mine[1] == [theirs[1][0], None] and theirs[1][1] == [0.0, 0.0]
    else:
        assert mine[1] == theirs[1]


def test_grad_input_is_only_what_flows_through_the_module(torch):
    logs = []
    t, m = _pair(torch)
    for mod, Tensor in ((t, torch.tensor), (m, T)):
        log = []
        mod.register_full_backward_hook(lambda mod_, gi, go, log=log: log.append(_values(gi)))
        x = Tensor(np.ones((1, 3))).requires_grad_(True)
        (mod(x).sum() + (x * 100).sum()).backward()
        logs.append((log, _values([x.grad])))
    assert_close(np.array(logs[1][0]), np.array(logs[0][0]), rtol=1e-12, what="grad_input")
    assert_close(np.array(logs[1][1]), np.array(logs[0][1]), rtol=1e-12, what="x.grad")


def test_unused_and_integer_inputs_get_zeros(torch):
    def run(lib, Tensor, idx):
        class Pick(lib.Module):
            def forward(self, a, index, unused):
                return a[index] * 3
        log = []
        m = Pick()
        m.register_full_backward_hook(lambda mod, gi, go: log.append(
            (_values(gi), [str(g.dtype).split(".")[-1] for g in gi])))
        a = Tensor([1.0, 2.0, 4.0]).double().requires_grad_(True)
        u = Tensor([1.0, 1.0]).double().requires_grad_(True)
        m(a, idx, u).sum().backward()
        return log, _values([a.grad]), u.grad
    mine = run(nn, T, T(np.array([2, 2])))
    theirs = run(torch.nn, torch.tensor, torch.tensor([2, 2]))
    assert mine[:2] == theirs[:2]
    # *vs PyTorch*: PyTorch's identity node sends those zeros on into .grad; here nothing does
    assert mine[2] is None and theirs[2] is not None


def test_no_input_requiring_grad_fires_at_the_outputs_with_a_warning(torch):
    t, m = _pair(torch)
    results = []
    for mod, Tensor in ((t, torch.tensor), (m, T)):
        log = []
        mod.register_full_backward_hook(lambda mod_, gi, go, log=log: log.append(
            (gi, _values(go))))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            mod(Tensor(np.ones((4, 3)))).sum().backward()
        results.append((log, [str(x.message)[:70] for x in w]))
    assert results[0] == results[1]
    assert results[1][0][0][0] == (None,)


def test_a_hook_without_inputs_must_return_none(torch):
    for mod, Tensor in zip(_pair(torch), (torch.tensor, T)):
        mod.register_full_backward_hook(lambda mod_, gi, go: (go[0],))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError, match="should always return None"):
                mod(Tensor(np.ones((4, 3)))).sum().backward()


@pytest.mark.parametrize("kind", ["full", "pre"])
def test_wrong_number_of_gradients_is_torchs_error(torch, kind):
    messages = []
    for mod, Tensor in zip(_pair(torch), (torch.tensor, T)):
        if kind == "full":
            mod.register_full_backward_hook(lambda mod_, gi, go: (gi[0], gi[0]))
        else:
            mod.register_full_backward_pre_hook(lambda mod_, go: (go[0], go[0]))
        with pytest.raises(RuntimeError) as e:
            mod(Tensor(np.ones((4, 3))).requires_grad_(True)).sum().backward()
        messages.append(str(e.value))
    assert messages[0] == messages[1]


def test_replacing_grad_input_and_grad_output_as_torch(torch):
    got = []
    for mod, Tensor in zip(_pair(torch), (torch.tensor, T)):
        mod.register_full_backward_hook(lambda mod_, gi, go: (gi[0] * 10,))
        x = Tensor(np.arange(12.0).reshape(4, 3)).requires_grad_(True)
        mod(x).sum().backward()
        got.append((x.grad, mod.weight.grad))
    for mod, Tensor in zip(_pair(torch), (torch.tensor, T)):
        mod.register_full_backward_pre_hook(lambda mod_, go: (go[0] * 10,))
        x = Tensor(np.arange(12.0).reshape(4, 3)).requires_grad_(True)
        mod(x).sum().backward()
        got.append((x.grad, mod.weight.grad))
    for mine, theirs in ((got[1], got[0]), (got[3], got[2])):
        for a, b in zip(mine, theirs):
            assert_close(a.numpy(), b.numpy(), rtol=1e-12)


def test_hooks_that_return_none_change_nothing():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    x = T(np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32),
          requires_grad=True)
    model(x).sum().backward()
    plain = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    for layer in model:
        layer.register_full_backward_hook(lambda *a: None)
        layer.register_full_backward_pre_hook(lambda *a: None)
    model(x).sum().backward()
    for p, g in zip(model.parameters(), plain):
        np.testing.assert_array_equal(p.grad.numpy(), g)  # bit for bit


def test_a_chain_of_layers_sees_matching_gradients(torch):
    rng = np.random.default_rng(1)
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    mm = nn.Sequential(nn.Linear(3, 4, dtype=np.float64), nn.Tanh(),
                       nn.Linear(4, 2, dtype=np.float64))
    mm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    x = rng.standard_normal((5, 3))
    seen = []
    for model, Tensor in ((tm, torch.tensor), (mm, T)):
        log = []
        for i, layer in enumerate(model):
            layer.register_full_backward_hook(
                lambda mod, gi, go, i=i, log=log: log.append((i, _values(gi), _values(go))))
        (model(Tensor(x).requires_grad_(True)) ** 2).sum().backward()
        seen.append(log)
    assert [e[0] for e in seen[1]] == [e[0] for e in seen[0]] == [2, 1, 0]  # output side first
    for mine, theirs in zip(seen[1], seen[0]):
        for a, b in zip(mine[1] + mine[2], theirs[1] + theirs[2]):
            assert_close(np.array(a), np.array(b), rtol=1e-12)
    # what a layer sends back is what the layer below it receives
    assert seen[1][0][1] == seen[1][1][2] and seen[1][1][1] == seen[1][2][2]


def test_a_module_called_twice_fires_per_call(torch):
    t, m = _pair(torch, rows=3)
    outs = []
    for mod, Tensor in ((t, torch.tensor), (m, T)):
        log = []
        mod.register_full_backward_hook(lambda mod_, gi, go, log=log: log.append(_values(go)))
        x = Tensor(np.ones((1, 3))).requires_grad_(True)
        (mod(mod(x)) * Tensor([1.0, 2.0, 3.0]).double()).sum().backward()
        outs.append(log)
    assert len(outs[1]) == 2
    for a, b in zip(outs[1], outs[0]):
        assert_close(np.array(a), np.array(b), rtol=1e-12)


def test_retain_graph_fires_again_and_remove_stops_it():
    m = nn.Linear(3, 1)
    log = []
    h = m.register_full_backward_hook(lambda *a: log.append("full"))
    m.register_full_backward_pre_hook(lambda *a: log.append("pre"))
    out = m(T.ones(2, 3, requires_grad=True)).sum()
    out.backward(retain_graph=True)
    out.backward()
    assert log == ["pre", "full", "pre", "full"]
    h.remove()
    log.clear()
    m(T.ones(2, 3, requires_grad=True)).sum().backward()
    assert log == ["pre"]


def test_prepend_runs_first_and_each_hook_sees_the_last_replacement():
    m = nn.Linear(3, 1)
    seen = []
    m.register_full_backward_hook(lambda mod, gi, go: (seen.append(("a", float(gi[0].sum()))),
                                                        (gi[0] * 2,))[1])
    m.register_full_backward_hook(lambda mod, gi, go: seen.append(("b", float(gi[0].sum()))))
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0,), prepend=True)
    x = T.ones(2, 3, requires_grad=True)
    m(x).sum().backward()
    assert seen == [("a", 0.0), ("b", 0.0)]
    assert not x.grad.numpy().any()


def test_grad_fires_for_inputs_only_where_the_path_runs(torch):
    for mod, Tensor, grad in ((torch.nn.Linear(2, 1), torch.tensor, torch.autograd.grad),
                              (nn.Linear(2, 1), T, tg.grad)):
        log = []
        mod.register_full_backward_hook(lambda *a, log=log: log.append("full"))
        x = Tensor(np.ones((1, 2), np.float32)).requires_grad_(True)
        grad(mod(x).sum(), [x])
        grad(mod(x).sum(), [mod.weight])
        assert log == ["full"]


def test_no_grad_and_hooks_removed_leave_the_call_plain():
    m = nn.Linear(3, 1)
    log = []
    m.register_full_backward_hook(lambda *a: log.append("full"))
    x = T.ones(2, 3, requires_grad=True)
    with tg.no_grad():
        assert m(x)._node is None
    seen = []
    m.register_forward_hook(lambda mod, args, out: seen.append((args[0] is x, out.name
                                                                if hasattr(out, "name") else 0)))
    y = m(x)
    assert seen[0][0] is False  # a forward hook sees the wrapped argument, as in PyTorch
    np.testing.assert_array_equal(y.numpy(), (x.numpy() @ m.weight.numpy().T + m.bias.numpy()))


def test_create_graph_hooks_see_tensors_and_second_derivatives_follow(torch):
    res = []
    for lib, Tensor, grad in ((torch.nn, torch.tensor, torch.autograd.grad), (nn, T, tg.grad)):
        class Cube(lib.Module):
            def forward(self, a):
                return a * a * a
        m = Cube()
        m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 2,))
        x = Tensor([1.5, -2.0]).double().requires_grad_(True)
        (g,) = grad(m(x).sum(), [x], create_graph=True)  # 2 * 3x^2
        (gg,) = grad(g.sum(), [x])                      # 12x
        res.append((g.detach().numpy(), gg.numpy()))
    for a, b in zip(res[1], res[0]):
        assert_close(a, b, rtol=1e-12)


def test_a_hook_must_be_callable():
    with pytest.raises(TypeError, match="callable"):
        nn.Linear(2, 2).register_full_backward_hook(3)
    with pytest.raises(TypeError, match="callable"):
        nn.Linear(2, 2).register_full_backward_pre_hook(None)


def test_replacing_every_input_and_output_of_a_two_by_two_module(torch):
    grads = []
    for lib, Tensor in ((torch.nn, torch.tensor), (nn, T)):
        m = _two_outputs(lib)
        m.register_full_backward_pre_hook(lambda mod, go: (go[0] * 3, go[1] * 5))
        m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 10, gi[1] * 100))
        a = Tensor([1.0, 2.0]).double().requires_grad_(True)
        b = Tensor([3.0, 4.0]).double().requires_grad_(True)
        x, y = m(a, b)
        (x * Tensor([1.0, -1.0]).double() + y * Tensor([2.0, 7.0]).double()).sum().backward()
        grads.append(_values([a.grad, b.grad]))
    assert grads[1] == grads[0]


def _mul_module(lib):
    class Mul(lib.Module):
        def forward(self, a, b):
            return a * b + a
    return Mul()


@pytest.mark.parametrize("case", ["pre_none", "full_none_first", "full_none_both"])
def test_a_none_returned_by_a_hook_stops_that_gradient(torch, case):
    got = []
    for lib, Tensor in ((torch.nn, torch.tensor), (nn, T)):
        m = _mul_module(lib)
        if case == "pre_none":
            m.register_full_backward_pre_hook(lambda mod, go: (None,))
        elif case == "full_none_first":
            m.register_full_backward_hook(lambda mod, gi, go: (None, gi[1]))
        else:
            m.register_full_backward_hook(lambda mod, gi, go: (None, None))
        x = Tensor([1.0, 2.0]).double().requires_grad_(True)
        y = Tensor([3.0, 4.0]).double().requires_grad_(True)
        m(x, y).sum().backward()
        got.append(_values([x.grad, y.grad]))
    assert got[1] == got[0]


def test_a_none_for_one_of_two_outputs_sends_nothing_from_it(torch):
    got = []
    for lib, Tensor in ((torch.nn, torch.tensor), (nn, T)):
        class Two(lib.Module):
            def forward(self, a):
                return a * 2, a * 3
        m = Two()
        m.register_full_backward_pre_hook(lambda mod, go: (None, go[1]))
        x = Tensor([1.0, 2.0]).double().requires_grad_(True)
        p, q = m(x)
        (p + q).sum().backward()
        got.append(_values([x.grad]))
    assert got[1] == got[0] == [[3.0, 3.0]]


def test_the_hooks_of_a_call_are_those_registered_when_it_ran(torch):
    logs = []
    for lib, Tensor in ((torch.nn, torch.tensor), (nn, T)):
        log = []
        m = lib.Linear(2, 2)
        h = m.register_full_backward_hook(lambda *a: log.append("removed before backward"))
        m.register_full_backward_pre_hook(lambda *a: log.append("pre"))
        x = Tensor(np.ones((1, 2), np.float32)).requires_grad_(True)
        y = m(x)
        h.remove()  # Grad-CAM's order: register, forward, remove, backward
        m.register_full_backward_hook(lambda *a: log.append("added after forward"))
        y.sum().backward()
        logs.append(log)
    assert logs[1] == logs[0] == ["pre", "removed before backward"]


def test_a_list_output_gets_torchs_warning_and_no_hook_call(torch):
    seen = []
    for lib, Tensor in ((torch.nn, torch.tensor), (nn, T)):
        class L(lib.Module):
            def forward(self, a):
                return [a * 2]
        log = []
        m = L()
        m.register_full_backward_hook(lambda *a: log.append("called"))
        x = Tensor([1.0, 2.0]).requires_grad_(True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            m(x)[0].sum().backward()
        seen.append((log, [str(i.message) for i in w]))
    assert seen[1] == seen[0]
    assert seen[1][1] and not seen[1][0]


def test_under_grad_an_argument_not_asked_for_shows_zeros(torch):
    # *vs PyTorch*: grad(out, [x]) computes only what leads to x, so y's share through the module
    # is never computed and the hook shows zeros for it; PyTorch's one identity node for all
    # arguments computes it anyway. x's share is the same in both.
    shown = []
    for lib, Tensor, grad in ((torch.nn, torch.tensor, torch.autograd.grad), (nn, T, tg.grad)):
        m = _mul_module(lib)
        log = []
        m.register_full_backward_hook(lambda mod, gi, go, log=log: log.append(_values(gi)))
        x = Tensor([1.0, 2.0]).double().requires_grad_(True)
        y = Tensor([3.0, 4.0]).double().requires_grad_(True)
        grad(m(x, y).sum(), [x])
        shown.append(log[0])
    assert shown[1][0] == shown[0][0] == [4.0, 5.0]
    assert shown[0][1] == [1.0, 2.0] and shown[1][1] == [0.0, 0.0]


def test_the_outputs_tensor_hooks_and_retain_grad_run_before_the_modules_pre_hook(torch):
    got = []
    for lib, Tensor in ((torch.nn, torch.tensor), (nn, T)):
        class Double(lib.Module):
            def forward(self, a):
                return a * 2
        m = Double()
        seen = []
        m.register_full_backward_pre_hook(lambda mod, go: (seen.append(_values(go)),
                                                            (go[0] * 100,))[1])
        x = Tensor([1.0, 2.0]).double().requires_grad_(True)
        o = m(x)
        o.retain_grad()
        o.register_hook(lambda g: g * 10)
        o.sum().backward()
        got.append((seen, _values([o.grad, x.grad])))
    assert got[1] == got[0]


def test_grad_of_a_hooked_modules_output_itself_is_not_hooked(torch):
    got = []
    for lib, Tensor, grad in ((torch.nn, torch.tensor, torch.autograd.grad), (nn, T, tg.grad)):
        class Double(lib.Module):
            def forward(self, a):
                return a * 2
        m = Double()
        log = []
        m.register_full_backward_pre_hook(lambda mod, go: (log.append("pre"), (go[0] * 100,))[1])
        x = Tensor([0.0, 1.0, 2.0]).double().requires_grad_(True)
        o = m(x)
        (g,) = grad((o * o).sum(), [o])
        got.append((log, _values([g])))
    assert got[1] == got[0] and got[1][0] == []

