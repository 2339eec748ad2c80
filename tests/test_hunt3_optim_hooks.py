"""The optimizer hooks torch 2.13 has and this library lacked (``register_step_pre_hook`` and
the five others): the same call sequence, arguments, return rules and parameter values as torch's
for one script run on both, including an optimizer with its own ``step`` and ``state_dict``
(LBFGS) and one whose ``load_state_dict`` calls its parent's (AdamW)."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import optim


def _script(make_param, make_sgd, ones, values):
    """Hooks of every kind on an SGD, a few steps and a state-dict round trip: the log."""
    log = []
    p = make_param()
    opt = make_sgd(p)
    pre = opt.register_step_pre_hook(
        lambda o, args, kwargs: log.append(("pre", len(args), args[0] is o, dict(kwargs))))
    opt.register_step_post_hook(lambda o, args, kwargs: log.append(("post", dict(kwargs))))
    opt.register_state_dict_pre_hook(lambda o: log.append("sd pre, second"))
    opt.register_state_dict_pre_hook(lambda o: log.append("sd pre, first"), prepend=True)
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": len(log)})
    opt.register_load_state_dict_pre_hook(
        lambda o, sd: (log.append(("load pre", sorted(sd))),
                       {k: v for k, v in sd.items() if k != "extra"})[1])
    opt.register_load_state_dict_post_hook(lambda o: log.append("load post"))
    p.grad = ones()
    opt.step()
    p.grad = ones()
    opt.step(closure=None)
    pre.remove()
    p.grad = ones()
    opt.step()
    sd = opt.state_dict()
    log.append(("extra", sd["extra"]))
    opt.load_state_dict(sd)
    log.append(("caller's dict kept", "extra" in sd))
    opt.register_step_pre_hook(lambda o, args, kwargs: (args, {"closure": None}))
    p.grad = ones()
    opt.step()
    log.append(("values", np.round(values(p), 12).tolist()))
    return log


def test_hooks_run_as_torchs(torch):
    theirs = _script(lambda: torch.zeros(2, dtype=torch.float64, requires_grad=True),
                     lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9),
                     lambda: torch.ones(2, dtype=torch.float64),
                     lambda p: p.detach().numpy())
    ours = _script(lambda: tg.Tensor(np.zeros(2), requires_grad=True),
                   lambda p: optim.SGD([p], lr=0.1, momentum=0.9),
                   lambda: tg.Tensor(np.ones(2)), lambda p: p.data)
    assert ours == theirs


def _own_methods_log(torch_side, torch):
    log = []
    if torch_side:
        p, q = (torch.zeros(2, dtype=torch.float64, requires_grad=True) for _ in range(2))
        lbfgs, adamw = torch.optim.LBFGS([p]), torch.optim.AdamW([q])
        loss = lambda: (p - 1).pow(2).sum()  # noqa: E731
    else:
        p, q = (tg.Tensor(np.zeros(2), requires_grad=True) for _ in range(2))
        lbfgs, adamw = optim.LBFGS([p]), optim.AdamW([q])
        loss = lambda: ((p - 1) ** 2).sum()  # noqa: E731
    lbfgs.register_step_pre_hook(lambda o, a, k: log.append("step pre"))
    lbfgs.register_step_post_hook(lambda o, a, k: log.append("step post"))
    lbfgs.register_state_dict_post_hook(lambda o, sd: log.append("state_dict post"))
    lbfgs.register_load_state_dict_post_hook(lambda o: log.append("load post"))
    adamw.register_load_state_dict_pre_hook(lambda o, sd: log.append("adamw load pre"))
    adamw.register_load_state_dict_post_hook(lambda o: log.append("adamw load post"))

    def closure():
        lbfgs.zero_grad()
        value = loss()
        value.backward()
        return value
    lbfgs.step(closure)
    lbfgs.load_state_dict(lbfgs.state_dict())
    adamw.load_state_dict(adamw.state_dict())
    return log


def test_hooks_wrap_an_optimizers_own_methods_once(torch):
    assert _own_methods_log(False, torch) == _own_methods_log(True, torch) == [
        "step pre", "step post", "state_dict post", "load post", "adamw load pre",
        "adamw load post"]


def test_a_subclass_step_calling_super_fires_the_hooks_once():
    class Logged(optim.SGD):
        def step(self, closure=None):
            return super().step(closure)

    calls = []
    p = tg.Tensor(np.zeros(2), requires_grad=True)
    opt = Logged([p], lr=0.1)
    opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
    p.grad = tg.Tensor(np.ones(2))
    opt.step()
    assert calls == ["pre"]
    np.testing.assert_allclose(p.data, [-0.1, -0.1])


def test_bad_hooks_are_refused_and_a_removed_hook_is_gone(torch):
    p = tg.Tensor(np.zeros(2), requires_grad=True)
    opt = optim.Adam([p])
    with pytest.raises(TypeError, match="hook must be callable"):
        opt.register_step_post_hook("not a function")
    opt.register_step_pre_hook(lambda o, a, k: 5)
    p.grad = tg.Tensor(np.ones(2))
    with pytest.raises(RuntimeError, match=r"must return None or a tuple of \(new_args, "
                                           r"new_kwargs\), but got 5\."):
        opt.step()
    pt = torch.zeros(2, requires_grad=True)
    opt_t = torch.optim.Adam([pt])
    opt_t.register_step_pre_hook(lambda o, a, k: 5)
    pt.grad = torch.ones(2)
    with pytest.raises(RuntimeError, match="must return None or a tuple"):  # torch's kind too
        opt_t.step()
    np.testing.assert_array_equal(p.data, [0.0, 0.0])  # refused before the update
    fired = []
    with opt.register_state_dict_pre_hook(lambda o: fired.append(1)):
        opt.state_dict()
    opt.state_dict()
    assert fired == [1]
    copy.deepcopy(optim.SGD([tg.Tensor(np.zeros(2), requires_grad=True)], lr=0.1))
