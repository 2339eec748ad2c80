"""In-place writes into arrays a recorded graph reads (an optimizer step, nn.init,
load_state_dict, zero_grad) between the forward and the backward: refused exactly where PyTorch's
version counters refuse them, and harmless where no gradient reads the written array."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import nn, optim

INPLACE = "modified by an inplace operation"


def _fixed(nn_, m):
    """The module with every parameter 0.5 (written before any forward), so that both libraries
    compute the same values."""
    for p in m.parameters():
        nn_.init.constant_(p, 0.5)
    return m


def _linear_then_step(lib, nn_, optim_, ones):
    lin = _fixed(nn_, nn_.Linear(3, 2, bias=False))
    x = ones((2, 3), requires_grad=True)
    y = lin(x).sum()
    lin.weight.grad = ones((2, 3))
    optim_.SGD(lin.parameters(), lr=1.0).step()
    y.backward()  # x @ W.T saved a view of W's array, which the step wrote
    return x.grad


def _mul_constant(lib, nn_, optim_, ones):
    w = ones((3,), requires_grad=True)
    y = (w * (ones((3,)) * 2)).sum()  # w's gradient reads the constant, never w
    w.grad = ones((3,))
    optim_.SGD([w], lr=1.0).step()
    y.backward()
    return w.grad


def _exp_of_param(lib, nn_, optim_, ones):
    w = ones((3,), requires_grad=True)
    y = w.exp().sum()  # exp's gradient reads its output, not w
    w.grad = ones((3,))
    optim_.SGD([w], lr=1.0).step()
    y.backward()
    return w.grad


def _log_of_param(lib, nn_, optim_, ones):
    w = ones((3,), requires_grad=True)
    y = w.log().sum()
    w.grad = ones((3,))
    optim_.SGD([w], lr=1.0).step()
    y.backward()
    return w.grad


def _bias_step(lib, nn_, optim_, ones):
    lin = _fixed(nn_, nn_.Linear(3, 2))
    x = ones((2, 3), requires_grad=True)
    y = lin(x).sum()
    lin.bias.grad = ones((2,))
    optim_.SGD([lin.bias], lr=1.0).step()  # the bias is added: no gradient reads it
    y.backward()
    return x.grad


def _init_after_forward(lib, nn_, optim_, ones):
    lin = _fixed(nn_, nn_.Linear(3, 2))
    x = ones((2, 3), requires_grad=True)
    y = lin(x).sum()
    nn_.init.zeros_(lin.weight)
    y.backward()
    return x.grad


def _load_after_forward(lib, nn_, optim_, ones):
    lin = _fixed(nn_, nn_.Linear(3, 2))
    x = ones((2, 3), requires_grad=True)
    state = {k: v * 0 for k, v in lin.state_dict().items()}
    y = lin(x).sum()
    lin.load_state_dict(state)
    y.backward()
    return x.grad


def _retain_step_again(lib, nn_, optim_, ones):
    lin = _fixed(nn_, nn_.Linear(3, 2))
    x = ones((2, 3), requires_grad=True)
    y = (lin(x) ** 2).sum()
    y.backward(retain_graph=True)
    optim_.SGD(lin.parameters(), lr=0.1).step()
    y.backward()
    return x.grad


def _adam_then_grad(lib, nn_, optim_, ones):
    lin = _fixed(nn_, nn_.Linear(3, 2))
    x = ones((2, 3), requires_grad=True)
    y = (lin(x) ** 2).sum()
    lin.weight.grad, lin.bias.grad = ones((2, 3)), ones((2,))
    optim_.Adam(lin.parameters()).step()
    return lib.autograd.grad(y, [x])[0] if lib.__name__ == "torch" else tg.grad(y, [x])[0]


def _norm_reset_parameters(lib, nn_, optim_, ones):
    bn = _fixed(nn_, nn_.BatchNorm1d(3))
    x = ones((4, 3), requires_grad=True)
    y = (bn(x * x) * x).sum()
    bn.reset_parameters()  # writes the weight that the normalization's scale reads
    y.backward()
    return x.grad


def _normal_loop(lib, nn_, optim_, ones):
    lin = _fixed(nn_, nn_.Linear(3, 2))
    opt = optim_.Adam(lin.parameters(), lr=0.1)
    x = ones((2, 3), requires_grad=True)
    for _ in range(3):  # backward before each step, as a training loop does
        opt.zero_grad()
        (lin(x) ** 2).sum().backward()
        opt.step()
    return x.grad


CASES = [_linear_then_step, _mul_constant, _exp_of_param, _log_of_param, _bias_step,
         _init_after_forward, _load_after_forward, _retain_step_again, _adam_then_grad,
         _norm_reset_parameters, _normal_loop]


def _outcome(fn, lib, nn_, optim_, ones):
    try:
        return "ok", fn(lib, nn_, optim_, ones)
    except RuntimeError as e:
        assert INPLACE in str(e)
        return "refused", None


@pytest.mark.parametrize("fn", CASES, ids=lambda f: f.__name__[1:])
def test_refused_exactly_where_torch_refuses(torch, fn):
    torch.manual_seed(0)
    tg.manual_seed(0)
    t_kind, t_grad = _outcome(fn, torch, torch.nn, torch.optim,
                              lambda s, requires_grad=False: torch.ones(
                                  s, requires_grad=requires_grad))
    ours, grad = _outcome(fn, tg, nn, optim,
                          lambda s, requires_grad=False: tg.Tensor(
                              np.ones(s, np.float32), requires_grad=requires_grad))
    assert ours == t_kind
    if ours == "ok":
        np.testing.assert_allclose(np.asarray(grad.data), t_grad.detach().numpy(), rtol=1e-6)


def test_the_error_names_the_op_and_what_to_do():
    lin = nn.Linear(3, 2, bias=False)
    x = tg.Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    y = lin(x).sum()
    lin.weight.grad = tg.Tensor(np.ones((2, 3), np.float32))
    optim.SGD(lin.parameters(), lr=1.0).step()
    with pytest.raises(RuntimeError, match=r"array of shape \(3, 2\) that matmul saved.*"
                                           r"Call backward\(\) before optimizer.step\(\)"):
        y.backward()
    assert x.grad is None and lin.weight.grad is not None  # nothing accumulated


def test_a_create_graph_backward_is_refused_too():
    lin = nn.Linear(3, 2)
    x = tg.Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    (g,) = tg.grad((lin(x) ** 2).sum(), [x], create_graph=True)
    nn.init.ones_(lin.weight)
    with pytest.raises(RuntimeError, match=INPLACE):
        g.sum().backward()


def test_a_graph_recorded_after_the_write_is_not_refused():
    lin = nn.Linear(3, 2)
    x = tg.Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    nn.init.ones_(lin.weight)
    lin(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3), 2.0))


def test_zero_grad_without_none_writes_the_gradient_arrays():
    # a gradient used in a later graph (a gradient penalty) and then zeroed in place
    w = tg.Tensor(np.ones(3), requires_grad=True)
    (w * w).sum().backward()
    g = w.grad
    g.requires_grad = True
    y = (g * g).sum()
    nn.Module.zero_grad(_holder(w), set_to_none=False)
    with pytest.raises(RuntimeError, match=INPLACE):
        y.backward()


def _holder(w):
    m = nn.Module()
    m.w = nn.Parameter(w.data)
    m.w._grad = w.grad
    return m


def test_writes_through_data_stay_unseen_as_in_torch():
    w = tg.Tensor(np.ones(3), requires_grad=True)
    y = (w * w).sum()
    w.data[...] = 5.0  # .data bypasses the check, as PyTorch's .data bypasses version counters
    y.backward()
    np.testing.assert_array_equal(w.grad.data, np.full(3, 10.0))


def test_where_no_vjp_reads_the_written_array_the_gradient_is_the_forwards():
    # PyTorch refuses this (its batch norm saves the weight); no VJP here reads it when the
    # input needs no gradient, so the gradient is the one at the forward's values
    def grads(step):
        tg.manual_seed(0)
        bn = nn.BatchNorm1d(3)
        bn.weight.data[...] = np.array([1.0, 2.0, 3.0], np.float32)
        x = tg.Tensor(np.arange(12, dtype=np.float32).reshape(4, 3) ** 1.5)
        loss = (bn(x) ** 2 * tg.Tensor(np.arange(12, dtype=np.float32).reshape(4, 3))).sum()
        if step:
            bn.weight.grad = tg.Tensor(np.ones(3, np.float32))
            optim.SGD([bn.weight], lr=0.5).step()
        loss.backward()
        return bn.weight.grad.data.copy(), bn.bias.grad.data.copy()

    (w1, b1), (w0, b0) = grads(True), grads(False)
    np.testing.assert_array_equal(w1, w0 + 1.0)  # accumulated onto the grad set before the step
    np.testing.assert_array_equal(b1, b0)


@pytest.mark.parametrize("case", ["getitem", "gather", "cross_entropy"])
def test_an_index_or_target_written_after_the_forward_is_refused_as_torch(torch, case):
    """The integer arrays a node keeps in its keywords (an index, a target) count too: writing
    into them in place gave the gradient of the moved indices (torch refuses)."""
    import tinygrad_norm.functional as F

    def run(lib, T, nn_F):
        w = T(np.arange(5.0), requires_grad=True) if lib is tg else \
            torch.arange(5.0, dtype=torch.float64, requires_grad=True)
        idx = T(np.array([1, 2])) if lib is tg else torch.tensor([1, 2])
        if case == "getitem":
            y = (w[idx] * 2).sum()
        elif case == "gather":
            y = (w.reshape(1, 5).gather(1, idx.reshape(1, 2)) * 2).sum()
        else:
            y = nn_F.cross_entropy(w.reshape(1, 5).expand(2, 5) * 1.0, idx)
        with (tg.no_grad() if lib is tg else torch.no_grad()):
            idx += 1
        y.backward()

    with pytest.raises(RuntimeError, match=INPLACE):
        run(torch, None, torch.nn.functional)
    with pytest.raises(RuntimeError, match=INPLACE):
        run(tg, tg.Tensor, F)


def test_item_assignment_as_torch(torch):
    x, t = tg.Tensor(np.zeros((2, 3))), torch.zeros(2, 3, dtype=torch.float64)
    for target in (x, t):
        target[0] += 1.0  # getitem, in-place add through the view, then item assignment
        target[1, 1:] = 5.0
        target[np.array([True, False]) if target is x else torch.tensor([True, False])] *= 2.0
    np.testing.assert_array_equal(x.data, t.numpy())
    w = tg.Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w[0] = 2.0
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w[0] += 2.0
    np.testing.assert_array_equal(w.data, [1.0, 1.0, 1.0])  # nothing written before the error
    with tg.no_grad():
        w[0] = 2.0
    assert w.data[0] == 2.0
    y = (w * w).sum()
    with tg.no_grad():
        w[1] = 3.0
    with pytest.raises(RuntimeError, match=INPLACE):
        y.backward()
    i = tg.Tensor(np.zeros(3, np.int64))
    with pytest.raises(TypeError, match="cannot be stored in a tensor of dtype int64"):
        i[0] = 0.5
    with pytest.raises(IndexError, match="item assignment"):
        i[5] = 1


def test_add_with_alpha_rounds_once_as_torch(torch):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(20000).astype(np.float32), rng.standard_normal(20000).astype(np.float32)
    for alpha in (0.1, 3.3, -0.7, 1):
        ours, theirs = tg.Tensor(a.copy()), torch.tensor(a)
        ours.add_(tg.Tensor(b), alpha=alpha)
        theirs.add_(torch.tensor(b), alpha=alpha)
        np.testing.assert_array_equal(ours.data, theirs.numpy())
        ours, theirs = tg.Tensor(a.copy()), torch.tensor(a)
        ours.sub_(tg.Tensor(b), alpha=alpha)
        theirs.sub_(torch.tensor(b), alpha=alpha)
        np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_grad_runs_only_what_leads_to_its_inputs_as_torch(torch):
    """grad() with leaf inputs computes only the gradients that lead to them: a hook on a branch
    that does not lead there never fires, and a written array only that branch reads is no
    error (both were different from torch: the whole graph ran)."""
    def run(lib, T, opt_cls):
        enc_w = T(np.full((3, 3), 0.5, np.float32), requires_grad=True)
        head_w = T(np.full((3, 1), 0.25, np.float32), requires_grad=True)
        x = T(np.ones((2, 3), np.float32))
        fired = []
        h = x @ enc_w
        h.register_hook(lambda g: fired.append("h"))
        loss = ((h @ head_w) ** 2).sum()
        enc_w.grad = T(np.ones((3, 3), np.float32))
        with (tg.no_grad() if lib is tg else torch.no_grad()):
            opt_cls([enc_w], lr=1.0).step()  # writes the encoder weight, which only x @ enc_w's
            # gradient for x (not asked for) would read
        g = (tg.grad if lib is tg else torch.autograd.grad)(loss, [head_w])[0]
        return np.asarray(g.data if lib is tg else g.numpy()), fired

    ours, ours_fired = run(tg, lambda a, requires_grad=False: tg.Tensor(
        a, requires_grad=requires_grad), optim.SGD)
    theirs, their_fired = run(torch, lambda a, requires_grad=False: torch.tensor(
        a, requires_grad=requires_grad), torch.optim.SGD)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert ours_fired == their_fired == []


def test_a_node_that_runs_checks_every_array_it_saved_as_torch(torch):
    # grad(y, [w]) computes only w's gradient of x * w, which reads x; torch still refuses,
    # as it unpacks (and version-checks) every tensor the node saved
    for lib in (torch, tg):
        T = (lambda a: torch.tensor(a, requires_grad=True)) if lib is torch else \
            (lambda a: tg.Tensor(a, requires_grad=True))
        x, w = T(np.array([1.0, 2.0, 3.0])), T(np.ones(3))
        y = (x * w).sum()
        w.grad = (torch.ones(3, dtype=torch.float64) if lib is torch else
                  tg.Tensor(np.ones(3)))
        (torch.optim.SGD if lib is torch else optim.SGD)([w], lr=1.0).step()
        with pytest.raises(RuntimeError, match=INPLACE):
            (torch.autograd.grad if lib is torch else tg.grad)(y, [w])


def test_a_lone_outputs_hooks_fire_even_when_it_leads_to_no_input(torch):
    def run(lib):
        T = (lambda a, g=False: torch.tensor(a, requires_grad=g)) if lib is torch else \
            (lambda a, g=False: tg.Tensor(a, requires_grad=g))
        w, x = T(np.ones(3), True), T(np.ones(3), True)
        y = (w * 2).sum()
        fired = []
        y.register_hook(lambda g: fired.append(float(g.item())))
        y.retain_grad()
        r = (torch.autograd.grad if lib is torch else tg.grad)(y, [x], allow_unused=True)
        return fired, float(y.grad.item()), r[0] is None

    assert run(tg) == run(torch) == ([1.0], 1.0, True)
