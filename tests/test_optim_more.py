"""Rprop, ASGD and Adafactor against ``torch.optim`` (single-tensor, ``foreach=False``): the same
start and gradients for 20 steps give the same parameters and state (float64: rtol 1e-10,
measured: Rprop bit for bit, ASGD and Adafactor <= 7e-14; float32: rtol 1e-4), with a matrix, a
vector, a 3-D and a 0-d parameter (Adafactor factors the first and third); the state dict has
PyTorch's layout, one saved by torch (values as ``.numpy()``) loads and continues as torch
continues, and our own saved mid-run continues exactly as an uninterrupted run; the
hyperparameter checks raise torch's messages; a schedule over each steps as torch's does."""
from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_norm import Tensor, optim
from tinygrad_norm.optim import lr_scheduler

STEPS = 20
SHAPES = [(4, 5), (3,), (2, 3, 4), ()]

CONFIGS = {
    "Rprop": [dict(), dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2)),
              dict(lr=0.02, maximize=True)],
    "ASGD": [dict(), dict(lr=0.05, lambd=0.01, alpha=0.5, t0=5, weight_decay=0.1),
             dict(t0=0, weight_decay=0.05, maximize=True)],  # mu != 1 from the first step
    "Adafactor": [dict(), dict(lr=0.05, beta2_decay=-0.5, eps=(1e-20, 1e-2), d=2.0,
                               weight_decay=0.1),
                  dict(eps=(1e-6, 1e-3), weight_decay=0.05, maximize=True),
                  dict(lr=0.5, beta2_decay=0.0)],  # lerp weight 1 at every step
}
CASES = [(name, cfg) for name, cfgs in CONFIGS.items() for cfg in cfgs]
IDS = [name + "-" + ",".join(f"{k}={v}" for k, v in cfg.items()) for name, cfg in CASES]


def _start(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [np.asarray(rng.standard_normal(s)).astype(dtype) for s in SHAPES]


def _groups(ps):
    return [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.003}]


def _pair(torch, name, cfg, dtype):
    ours = [Tensor(w.copy(), requires_grad=True) for w in _start(dtype)]
    theirs = [torch.tensor(w.copy(), requires_grad=True) for w in _start(dtype)]
    return (ours, getattr(optim, name)(_groups(ours), **cfg), theirs,
            getattr(torch.optim, name)(_groups(theirs), foreach=False, **cfg))


def _run(torch, ours, opt, theirs, topt, steps, seed=1, scheds=()):
    """``steps`` steps of both (of torch's alone with ``opt`` None), on the same gradients; a
    gradient depends on the parameter, so a wrong update shows."""
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        for i, tp in enumerate(theirs):
            w = tp.detach().numpy()
            g = np.asarray(rng.standard_normal(w.shape) + 0.5 * w).astype(w.dtype)
            tp.grad = torch.from_numpy(g.copy())
            if opt is not None:
                ours[i].grad = Tensor(g.copy())
        if opt is not None:
            opt.step()
        topt.step()
        for s in scheds:
            s.step()


def _same(ours, theirs, rtol=1e-10, atol=1e-13):
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("name,cfg", CASES, ids=IDS)
def test_matches_torch_in_float64(torch, name, cfg):
    ours, opt, theirs, topt = _pair(torch, name, cfg, np.float64)
    _run(torch, ours, opt, theirs, topt, STEPS)
    _same(ours, theirs)
    for p, tp in zip(ours, theirs):  # the same state entries, with the same values and shapes
        state, tstate = opt.state[p], topt.state[tp]
        assert list(state) == list(tstate)
        for k, v in state.items():
            assert np.shape(v) == tuple(tstate[k].shape), k
            np.testing.assert_allclose(v, tstate[k].numpy(), rtol=1e-10, atol=1e-15, err_msg=k)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_float32_stays_float32_and_close_to_torch(torch, name):
    ours, opt, theirs, topt = _pair(torch, name, CONFIGS[name][1], np.float32)
    _run(torch, ours, opt, theirs, topt, STEPS)
    for p in ours:
        assert p.dtype == np.float32
        for v in opt.state[p].values():
            assert not isinstance(v, np.ndarray) or v.dtype == np.float32
    _same(ours, theirs, rtol=1e-4, atol=1e-6)


def test_asgd_rounds_eta_and_mu_to_float32_as_torch(torch):
    """torch keeps eta and mu in float32 scalar tensors: float64 ones would drift from its
    steps by ~1e-8, far more than float64 rounding."""
    ours, opt, theirs, topt = _pair(torch, "ASGD", dict(lr=0.1, lambd=0.3, t0=2), np.float64)
    _run(torch, ours, opt, theirs, topt, 5)
    for key in ("eta", "mu"):
        v = opt.state[ours[0]][key]
        assert type(v) is float and v == topt.state[theirs[0]][key].item()
        assert np.float32(v) == v


def test_adafactor_factors_only_parameters_of_two_or_more_dimensions():
    ps = [Tensor(w, requires_grad=True) for w in _start(np.float64)]
    opt = optim.Adafactor(ps)
    for p in ps:
        p.grad = Tensor(np.ones(p.shape))
    opt.step()
    shapes = [{k: np.shape(v) for k, v in opt.state[p].items() if k != "step"} for p in ps]
    assert shapes == [{"row_var": (4, 1), "col_var": (1, 5)}, {"variance": (3,)},
                      {"row_var": (2, 3, 1), "col_var": (2, 1, 4)}, {"variance": ()}]


@pytest.mark.parametrize("dtype,scale,eps", [
    (np.float64, 1e-17, (None, 1e-3)),  # eps1 None: float64's machine epsilon, 2.2e-16
    (np.float32, 1e-9, (None, 1e-3)),   # float32's, 1.2e-7
    (np.float64, 1e-5, (1e-3, 1e-3)),
    (np.float64, 1e-2, (1e-3, 1e-3)),  # g*g < eps1 < |g|: only the row factors' floor acts
])
def test_adafactor_eps1_floors_tiny_second_moments_as_torch(torch, dtype, scale, eps):
    """Gradients so small that their squares fall under eps1**2 (and the row factors' mean under
    eps1): the floors decide the step, and eps1 None takes the parameter dtype's epsilon."""
    ours, opt, theirs, topt = _pair(torch, "Adafactor", dict(eps=eps), dtype)
    rng = np.random.default_rng(4)
    for _ in range(5):
        for p, tp in zip(ours, theirs):
            g = np.asarray(rng.standard_normal(p.shape) * scale).astype(dtype)
            p.grad, tp.grad = Tensor(g.copy()), torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    _same(ours, theirs, rtol=1e-10 if dtype == np.float64 else 1e-5, atol=1e-7)


def _from_torch(sd):
    """A torch state dict as NumPy: what ``{k: v.numpy()}`` conversion or a file gives."""
    state = {i: {k: v.numpy() for k, v in s.items()} for i, s in sd["state"].items()}
    return {"state": state, "param_groups": [dict(g) for g in sd["param_groups"]]}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_a_torch_state_dict_loads_and_continues_as_torch(torch, name):
    ours, opt, theirs, topt = _pair(torch, name, CONFIGS[name][1], np.float64)
    _run(torch, ours, None, theirs, topt, 10)  # torch alone
    sd = topt.state_dict()
    for p, tp in zip(ours, theirs):
        p.data[...] = tp.detach().numpy()
    fresh = getattr(optim, name)(_groups(ours), lr=0.5)
    fresh.load_state_dict(_from_torch(sd))
    assert fresh.param_groups[1]["lr"] == 0.003
    assert sorted(fresh.state_dict()["state"][0]) == sorted(sd["state"][0])
    _run(torch, ours, fresh, theirs, topt, 10, seed=2)
    _same(ours, theirs)


def _own_run(ps, opt, steps, rng):
    for _ in range(steps):
        for p in ps:
            p.grad = Tensor(np.asarray(rng.standard_normal(p.shape) + 0.5 * p.numpy()))
        opt.step()


@pytest.mark.parametrize("name,cfg", CASES, ids=IDS)
def test_own_state_dict_saved_mid_run_continues_exactly(name, cfg):
    make = getattr(optim, name)
    whole = [Tensor(w, requires_grad=True) for w in _start(np.float64)]
    _own_run(whole, make(_groups(whole), **cfg), 15, np.random.default_rng(5))
    first = [Tensor(w, requires_grad=True) for w in _start(np.float64)]
    rng = np.random.default_rng(5)
    opt = make(_groups(first), **cfg)
    _own_run(first, opt, 7, rng)
    sd, saved = opt.state_dict(), [p.numpy().copy() for p in first]  # a checkpoint
    _own_run(first, opt, 1, np.random.default_rng(9))  # the saved state must not follow
    resumed = [Tensor(w, requires_grad=True) for w in saved]
    fresh = make(_groups(resumed))  # defaults: the state dict brings the options back
    fresh.load_state_dict(sd)
    _own_run(resumed, fresh, 8, rng)
    for a, b in zip(whole, resumed):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("name", list(CONFIGS))
def test_state_dict_layout_matches_torch(torch, name):
    ours, opt, theirs, topt = _pair(torch, name, CONFIGS[name][0], np.float64)
    _run(torch, ours, opt, theirs, topt, 2)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sorted(sd["state"]) == sorted(tsd["state"]) == [0, 1, 2, 3]
    for i in sd["state"]:
        assert set(sd["state"][i]) == set(tsd["state"][i])
        assert sd["state"][i]["step"] == tsd["state"][i]["step"].item() == 2
    for g, tg_ in zip(sd["param_groups"], tsd["param_groups"]):
        assert g["params"] == tg_["params"]
        ignored = {"foreach", "capturable", "differentiable", "fused"}  # not taken here
        assert set(g) == set(tg_) - ignored
        assert all(g[k] == tg_[k] for k in g)


def test_adafactor_refuses_a_loaded_factor_of_the_wrong_shape():
    p = Tensor(np.ones((3, 4)), requires_grad=True)
    opt = optim.Adafactor([p])
    p.grad = Tensor(np.ones((3, 4)))
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["row_var"] = np.ones((3, 4))
    before = opt.state[p]["row_var"].copy()
    with pytest.raises(ValueError, match=re.escape("'row_var' of shape (3, 4) for a parameter of "
                                                   "shape (3, 4) (expected (3, 1))")):
        opt.load_state_dict(sd)
    np.testing.assert_array_equal(opt.state[p]["row_var"], before)


BAD = [
    ("Rprop", dict(lr=-1)), ("Rprop", dict(lr=float("nan"))), ("Rprop", dict(etas=(1.5, 2.0))),
    ("Rprop", dict(etas=(0.5, 0.9))), ("Rprop", dict(etas=(0.0, 1.2))),
    ("ASGD", dict(lr=-0.1)), ("ASGD", dict(weight_decay=-1)),
    ("Adafactor", dict(lr=-1)), ("Adafactor", dict(beta2_decay=0.5)),
    ("Adafactor", dict(eps=(-1e-3, 1e-3))), ("Adafactor", dict(eps=(None, -1.0))),
    ("Adafactor", dict(d=0.5)), ("Adafactor", dict(weight_decay=-0.1)),
]


@pytest.mark.parametrize("name,kw", BAD, ids=[f"{n}-{kw}" for n, kw in BAD])
def test_hyperparameter_checks_raise_torchs_messages(torch, name, kw):
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kw)
    p = Tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(ValueError, match="^" + re.escape(str(theirs.value)) + "$"):
        getattr(optim, name)([p], **kw)
    opt = getattr(optim, name)([p])  # in a group dict, and in a loaded state dict, too
    with pytest.raises(ValueError, match=re.escape(str(theirs.value))):
        opt.add_param_group({"params": [Tensor(np.zeros(1), requires_grad=True)], **kw})
    assert len(opt.param_groups) == 1
    sd = opt.state_dict()
    sd["param_groups"][0].update(kw)
    with pytest.raises(ValueError, match=re.escape(str(theirs.value))):
        opt.load_state_dict(sd)


def test_types_and_options_pytorch_has_that_are_not_taken():
    p = [Tensor(np.zeros(2), requires_grad=True)]
    with pytest.raises(TypeError, match="etas must be a pair"):
        optim.Rprop(p, etas=0.5)
    with pytest.raises(TypeError, match="step_sizes must be a pair"):
        optim.Rprop(p, step_sizes=(1e-6, 50, 1))
    with pytest.raises(TypeError, match="lambd must be a Python number"):
        optim.ASGD(p, lambd="0.1")
    with pytest.raises(TypeError, match="eps must be a pair"):
        optim.Adafactor(p, eps=1e-3)
    with pytest.raises(TypeError, match=r"eps\[1\] must be a Python number"):
        optim.Adafactor(p, eps=(None, None))
    with pytest.raises(TypeError, match="foreach"):  # as the other optimizers here: not taken
        optim.Adafactor(p, foreach=False)


def test_updates_are_in_place_and_never_touch_grad():
    for name in CONFIGS:
        p = Tensor(np.ones((3, 2)), requires_grad=True)
        view, g = p.data, np.full((3, 2), 0.5)
        p.grad = Tensor(g)
        getattr(optim, name)([p], lr=0.1).step()
        assert not np.all(view == 1) and np.all(g == 0.5), name


@pytest.mark.parametrize("name", list(CONFIGS))
def test_step_lr_over_each_matches_torch(torch, name):
    """The schedulers act through group["lr"]: Rprop reads it only when a parameter's state is
    created (its step sizes start at lr), ASGD and Adafactor at every step -- as torch's."""
    ours, opt, theirs, topt = _pair(torch, name, CONFIGS[name][1], np.float64)
    scheds = [lr_scheduler.StepLR(opt, step_size=3, gamma=0.5),
              torch.optim.lr_scheduler.StepLR(topt, step_size=3, gamma=0.5)]
    _run(torch, ours, opt, theirs, topt, 12, scheds=scheds)
    assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups]
    _same(ours, theirs)
