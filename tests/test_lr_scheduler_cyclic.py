"""CyclicLR, CosineAnnealingWarmRestarts and ChainedScheduler against torch.optim.lr_scheduler:
the same learning rates (and cycled momentum / first beta), bit for bit, step after step over two
parameter groups; fractional epochs; state dicts that resume; bad arguments refused before the
optimizer changes."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import optim
from tinygrad_norm.optim import lr_scheduler as S


class Wave:
    """A callable-object scale_fn: its attributes travel in the state dict, as in PyTorch."""

    def __init__(self):
        self.depth = 0.5

    def __call__(self, x):
        return 1.0 - self.depth * (x % 3) / 3


def _sine(x):
    return 0.5 * (1 + np.sin(x))


# name -> (optimizer, its kwargs, a builder taking the scheduler module and the optimizer)
CASES = {
    "cyclic": ("SGD", dict(momentum=0.9),
               lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=5)),
    "cyclic_triangular2": ("SGD", dict(),
                           lambda L, o: L.CyclicLR(o, [0.01, 0.001], [0.1, 0.05], step_size_up=4,
                                                   step_size_down=7, mode="triangular2")),
    "cyclic_exp_range_adam": ("Adam", dict(),
                              lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=3,
                                                      mode="exp_range", gamma=0.97)),
    "cyclic_scale_fn_iterations": ("RMSprop", dict(momentum=0.5),
                                   lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=3.5,
                                                           scale_fn=_sine,
                                                           scale_mode="iterations",
                                                           base_momentum=[0.5, 0.6])),
    "cyclic_scale_fn_cycle_nadam": ("NAdam", dict(),
                                    lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=3,
                                                            scale_fn=lambda x: 1 / x)),
    "cyclic_no_momentum": ("Adagrad", dict(),
                           lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=2,
                                                   cycle_momentum=False)),
    # a group that already holds initial_lr: torch's epoch 0 uses it, then base_lr
    "cyclic_after_another": ("SGD", dict(momentum=0.5),
                             lambda L, o: (L.StepLR(o, 4), L.CyclicLR(o, 0.01, 0.1, 3))[1]),
    "warm_restarts": ("SGD", dict(),
                      lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=7, eta_min=0.001)),
    "warm_restarts_mult": ("SGD", dict(),
                           lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2)),
    "chained": ("SGD", dict(),
                lambda L, o: L.ChainedScheduler([L.ConstantLR(o, factor=0.1, total_iters=20),
                                                 L.ExponentialLR(o, gamma=0.9)])),
    "chained_three": ("SGD", dict(),
                      lambda L, o: L.ChainedScheduler([L.LinearLR(o, 0.2, total_iters=5),
                                                       L.CosineAnnealingWarmRestarts(o, 7),
                                                       L.StepLR(o, 3, 0.7)], optimizer=o)),
}


def _opt(lib_optim, name, kw, make):
    groups = [{"params": [make()], "lr": 0.1}, {"params": [make()], "lr": 0.02}]
    return getattr(lib_optim, name)(groups, lr=1.0, **kw)


def _pair(torch, case):
    name, kw, build = CASES[case]
    t_opt = _opt(torch.optim, name, kw, lambda: torch.zeros(2, requires_grad=True))
    o_opt = _opt(optim, name, kw, lambda: tg.Tensor(np.zeros(2, np.float32), requires_grad=True))
    return t_opt, o_opt, build(torch.optim.lr_scheduler, t_opt), build(S, o_opt)


def _same_groups(t_opt, o_opt):
    for a, b in zip(t_opt.param_groups, o_opt.param_groups):
        assert b["lr"] == a["lr"]
        for k in ("momentum", "betas", "max_momentum", "base_momentum", "initial_lr"):
            assert b.get(k) == a.get(k), k


@pytest.mark.parametrize("case", CASES)
def test_rates_and_momentum_match_torch_step_for_step(torch, case):
    t_opt, o_opt, t_s, s = _pair(torch, case)
    assert s.get_last_lr() == t_s.get_last_lr()
    _same_groups(t_opt, o_opt)
    for _ in range(60):
        t_opt.step()
        o_opt.step()
        t_s.step()
        s.step()
        assert s.get_last_lr() == t_s.get_last_lr()  # exact
        _same_groups(t_opt, o_opt)


@pytest.mark.parametrize("T_mult", [1, 2, 3])
def test_warm_restarts_with_fractional_epochs_match_torch(torch, T_mult):
    t_opt, o_opt, _, _ = _pair(torch, "warm_restarts")
    t_s = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(t_opt, 3, T_mult, eta_min=0.01)
    s = S.CosineAnnealingWarmRestarts(o_opt, 3, T_mult, eta_min=0.01)
    epochs = [e + i / 7 for e in range(40) for i in range(7)] + [5, 2.5, 0, 100.25, 13]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no deprecation warning for step(epoch), as torch
        for epoch in epochs:
            t_s.step(epoch)
            s.step(epoch)
            assert s.get_last_lr() == t_s.get_last_lr(), epoch
            assert (s.T_cur, s.T_i, s.last_epoch) == (t_s.T_cur, t_s.T_i, t_s.last_epoch)
    with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
        s.step(-1)
    with pytest.raises(TypeError, match="epoch must be a number"):
        s.step("1")
    assert s.get_last_lr() == t_s.get_last_lr()


@pytest.mark.parametrize("case", ["cyclic", "cyclic_scale_fn_iterations", "warm_restarts_mult",
                                  "chained_three"])
def test_state_dict_resumes_the_schedule(torch, case):
    t_opt, o_opt, _, s = _pair(torch, case)
    for _ in range(13):
        o_opt.step()
        s.step()
    opt_sd, sd = o_opt.state_dict(), s.state_dict()
    straight = []
    for _ in range(20):
        o_opt.step()
        s.step()
        straight.append(s.get_last_lr())
    _, o2, _, s2 = _pair(torch, case)
    o2.load_state_dict(opt_sd)
    s2.load_state_dict(sd)
    resumed = []
    for _ in range(20):
        o2.step()
        s2.step()
        resumed.append(s2.get_last_lr())
    assert resumed == straight


def test_cyclic_keeps_the_attributes_of_a_callable_object_scale_fn(torch):
    t_opt, o_opt, _, _ = _pair(torch, "cyclic")
    fn = Wave()
    s = S.CyclicLR(o_opt, 0.01, 0.1, step_size_up=2, scale_fn=fn)
    fn.depth = 0.25
    sd = s.state_dict()
    assert sd["_scale_fn_custom"] == {"depth": 0.25}
    assert S.CyclicLR(o_opt, 0.01, 0.1, scale_fn=_sine).state_dict()["_scale_fn_custom"] is None
    other = Wave()
    s2 = S.CyclicLR(o_opt, 0.01, 0.1, step_size_up=2, scale_fn=other)
    s2.load_state_dict(sd)
    assert other.depth == 0.25 and "_scale_fn_custom" in sd  # the caller's dict kept whole
    theirs = torch.optim.lr_scheduler.CyclicLR(t_opt, 0.01, 0.1, step_size_up=2, scale_fn=Wave())
    common = {"last_epoch", "base_lrs", "max_lrs", "total_size", "step_ratio", "mode", "gamma",
              "scale_mode", "cycle_momentum", "use_beta1", "base_momentums", "max_momentums",
              "_last_lr", "_scale_fn_custom"}
    assert common <= set(sd) and common <= set(theirs.state_dict())


@pytest.mark.parametrize("build, error, match", [
    (lambda o: S.CyclicLR(o, 0.01, 0.1, mode="sine"), ValueError,
     "mode is invalid and scale_fn is None"),
    (lambda o: S.CyclicLR(o, [0.01], 0.1), ValueError, "expected 2 base_lr"),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=0), ValueError, "step_size_up"),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, scale_fn=3), TypeError, "scale_fn must be callable"),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, scale_fn=_sine, scale_mode="epoch"), ValueError,
     "scale_mode"),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, max_momentum="0.9"), TypeError, "max_momentum"),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, last_epoch=-3), ValueError, "last_epoch"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, 0), ValueError,
     "Expected positive integer T_0, but got 0"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, 2.0), ValueError,
     "Expected positive integer T_0, but got 2.0"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, 2, T_mult=0), ValueError,
     "Expected integer T_mult >= 1, but got 0"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, 2, eta_min="0"), ValueError,
     "Expected float or int eta_min"),
    (lambda o: S.ChainedScheduler([]), ValueError, "expects at least one scheduler"),
    (lambda o: S.ChainedScheduler([S.ReduceLROnPlateau(o)]), ValueError, "ReduceLROnPlateau"),
    (lambda o: S.ChainedScheduler([o]), TypeError, "must be an LRScheduler"),
    (lambda o: S.SequentialLR(o, [S.ChainedScheduler([S.StepLR(o, 2)]), S.StepLR(o, 3)], [3]),
     TypeError, "is a ChainedScheduler"),
    (lambda o: S.ChainedScheduler([S.StepLR(o, 2)], optimizer=optim.SGD(
        [tg.Tensor(np.zeros(1), requires_grad=True)])), ValueError, "same optimizer"),
])
def test_bad_arguments_are_refused_before_the_optimizer_changes(build, error, match):
    o = optim.SGD([{"params": [tg.Tensor(np.zeros(1), requires_grad=True)], "lr": 0.5},
                   {"params": [tg.Tensor(np.zeros(1), requires_grad=True)]}], lr=0.1)
    before = [dict(g) for g in o.param_groups]
    with pytest.raises(error, match=match):
        build(o)
    if "same optimizer" not in match and "is a Chained" not in match:  # StepLR wrote them
        assert [dict(g) for g in o.param_groups] == before


def test_cyclic_momentum_needs_an_optimizer_with_momentum_as_torch(torch):
    p = tg.Tensor(np.zeros(1), requires_grad=True)
    with pytest.raises(ValueError) as theirs:
        torch.optim.lr_scheduler.CyclicLR(torch.optim.Adagrad([torch.zeros(1,
                                                                            requires_grad=True)]),
                                          0.01, 0.1)
    o = optim.Adagrad([p])
    with pytest.raises(ValueError, match=str(theirs.value).replace("`", ".")):
        S.CyclicLR(o, 0.01, 0.1)
    assert o.param_groups[0]["lr"] == 0.01 and "initial_lr" not in o.param_groups[0]
