"""Tensor.register_post_accumulate_grad_hook against torch 2.13: the hook sees the leaf after
its .grad took a backward's gradient (the optimizer-in-backward pattern)."""
from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import tinygrad_norm as tg


def _grad_of(t):
    return np.array(t.grad.detach().numpy())


def _run(make):
    w, v = make([1.0, 2.0]), make([3.0, 4.0])
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(_grad_of(t)))
    (w * 3).sum().backward()
    (w * v).sum().backward()  # accumulated: the hook sees the sum
    (w * v).sum().backward(inputs=[v])  # w left out: its hook does not run
    handle.remove()
    (w * 3).sum().backward()
    handle.remove()  # a second remove does nothing
    return seen, _grad_of(w)


def test_post_accumulate_grad_hook_as_torch(torch):
    ours = _run(lambda d: tg.Tensor(np.array(d), requires_grad=True))
    theirs = _run(lambda d: torch.tensor(np.array(d), requires_grad=True))
    assert len(ours[0]) == len(theirs[0]) == 2
    for a, b in zip(ours[0], theirs[0]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ours[1], theirs[1])


def test_post_accumulate_grad_hook_refusals_as_torch(torch):
    w = tg.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        tg.Tensor(np.ones(2)).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(TypeError, match="callable"):
        w.register_post_accumulate_grad_hook("step")
    calls = []
    w.register_post_accumulate_grad_hook(lambda t: calls.append(1))
    tg.grad((w * 3).sum(), w)  # grad() accumulates nothing: no hook, as torch's
    assert calls == []
    for c in (copy.deepcopy(w), pickle.loads(pickle.dumps(w))):  # copies keep no hooks
        (c * 1).sum().backward()
    assert calls == []
    w.register_post_accumulate_grad_hook(lambda t: 5)
    with pytest.raises(TypeError, match="must return None"):
        (w * 3).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 3.0])  # accumulated before the hooks
    tw = torch.ones(2, requires_grad=True)
    tw.register_post_accumulate_grad_hook(lambda t: 5)
    with pytest.raises(TypeError):
        (tw * 3).sum().backward()


def test_an_optimizer_stepped_in_backward_equals_the_usual_loop():
    from tinygrad_norm import nn, optim
    rng = np.random.default_rng(0)
    x, y = tg.Tensor(rng.standard_normal((8, 4))), tg.Tensor(rng.standard_normal((8, 2)))

    def model():
        tg.manual_seed(0)
        return nn.Linear(4, 2).double()
    a, b = model(), model()
    opt_a = optim.SGD(a.parameters(), lr=0.1)
    steps = {p: optim.SGD([p], lr=0.1) for p in b.parameters()}

    def step(t):
        steps[t].step()
        steps[t].zero_grad()
    for p in b.parameters():
        p.register_post_accumulate_grad_hook(step)
    for _ in range(3):
        opt_a.zero_grad()
        ((a(x) - y) ** 2).mean().backward()
        opt_a.step()
        ((b(x) - y) ** 2).mean().backward()
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(pa.numpy(), pb.numpy(), rtol=1e-15)
