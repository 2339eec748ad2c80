"""RMSprop, Adagrad, Adadelta, Adamax, NAdam and RAdam against ``torch.optim`` (single-tensor,
``foreach=False``): the same start and gradients for 25 steps give the same parameters (float64:
rtol 1e-10, measured <= 4e-13; float32: rtol 1e-4, float32 throughout); the state dict has
PyTorch's layout, and one saved by torch (values as ``.numpy()``) loads and continues as torch
continues; the hyperparameter checks raise torch's messages."""
from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_norm import Tensor, optim

STEPS = 25

CONFIGS = {
    "RMSprop": [dict(), dict(lr=0.01, alpha=0.9, momentum=0.9),
                dict(lr=0.005, centered=True),
                dict(centered=True, momentum=0.5, weight_decay=0.1, maximize=True),
                dict(alpha=0.3, centered=True)],  # lerp weight >= 0.5: torch's other formula
    "Adagrad": [dict(), dict(lr=0.1, lr_decay=0.01, weight_decay=0.1,
                             initial_accumulator_value=0.5, eps=1e-6),
                dict(maximize=True)],
    "Adadelta": [dict(), dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1, maximize=True)],
    "Adamax": [dict(), dict(lr=0.01, betas=(0.3, 0.9), weight_decay=0.1, maximize=True)],
    "NAdam": [dict(), dict(lr=0.01, momentum_decay=0.01, weight_decay=0.1),
              dict(weight_decay=0.1, decoupled_weight_decay=True, maximize=True,
                   betas=(0.6, 0.99))],
    "RAdam": [dict(), dict(lr=0.01, weight_decay=0.1),  # rho_t > 5 from step 6 on
              dict(weight_decay=0.1, decoupled_weight_decay=True, betas=(0.7, 0.9),
                   maximize=True)],
}
CASES = [(name, cfg) for name, cfgs in CONFIGS.items() for cfg in cfgs]
IDS = [name + "-" + ",".join(f"{k}={v}" for k, v in cfg.items()) for name, cfg in CASES]
# with every state entry its optimizer can have (the load test needs them all)
FULL = {"RMSprop": dict(centered=True, momentum=0.5), "Adagrad": dict(lr_decay=0.1),
        "Adadelta": dict(), "Adamax": dict(), "NAdam": dict(), "RAdam": dict()}


def _start(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((4, 5)).astype(dtype), rng.standard_normal(3).astype(dtype)]


def _grad(rng, w):
    """A gradient that depends on the parameter (as a loss's does), so a wrong update shows."""
    return (rng.standard_normal(w.shape) + 0.5 * w).astype(w.dtype)


def _pair(torch, name, cfg, dtype):
    ours = [Tensor(w.copy(), requires_grad=True) for w in _start(dtype)]
    theirs = [torch.tensor(w.copy(), requires_grad=True) for w in _start(dtype)]
    groups = lambda ps: [{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.003}]  # noqa: E731
    return (ours, getattr(optim, name)(groups(ours), **cfg), theirs,
            getattr(torch.optim, name)(groups(theirs), foreach=False, **cfg))


def _run(torch, ours, opt, theirs, topt, steps, seed=1):
    """``steps`` steps of both (of torch's alone with ``opt`` None), on the same gradients."""
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        for i, tp in enumerate(theirs):
            g = _grad(rng, tp.detach().numpy())
            tp.grad = torch.from_numpy(g.copy())
            if opt is not None:
                ours[i].grad = Tensor(g.copy())
        if opt is not None:
            opt.step()
        topt.step()


@pytest.mark.parametrize("name,cfg", CASES, ids=IDS)
def test_matches_torch_in_float64(torch, name, cfg):
    ours, opt, theirs, topt = _pair(torch, name, cfg, np.float64)
    _run(torch, ours, opt, theirs, topt, STEPS)
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-10, atol=1e-13)
    for p, tp in zip(ours, theirs):  # the same state entries, with the same values
        state, tstate = opt.state[p], topt.state[tp]
        assert list(state) == list(tstate)
        for k, v in state.items():
            np.testing.assert_allclose(v, tstate[k].numpy(), rtol=1e-9, atol=1e-15, err_msg=k)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_float32_stays_float32_and_close_to_torch(torch, name):
    cfg = CONFIGS[name][1]
    ours, opt, theirs, topt = _pair(torch, name, cfg, np.float32)
    _run(torch, ours, opt, theirs, topt, STEPS)
    for p, tp in zip(ours, theirs):
        assert p.dtype == np.float32
        for v in opt.state[p].values():
            assert not isinstance(v, np.ndarray) or v.dtype == np.float32
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-4, atol=1e-6)


def _from_torch(sd):
    """A torch state dict as NumPy: what ``{k: v.numpy()}`` conversion or a file gives."""
    state = {i: {k: v.numpy() for k, v in s.items()} for i, s in sd["state"].items()}
    return {"state": state, "param_groups": [dict(g) for g in sd["param_groups"]]}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_a_torch_state_dict_loads_and_continues_as_torch(torch, name):
    ours, opt, theirs, topt = _pair(torch, name, FULL[name], np.float64)
    _run(torch, ours, None, theirs, topt, 10)  # torch alone
    sd = topt.state_dict()
    for p, tp in zip(ours, theirs):
        p.data[...] = tp.detach().numpy()
    fresh = getattr(optim, name)([{"params": [ours[0]]}, {"params": [ours[1]]}], lr=0.5)
    fresh.load_state_dict(_from_torch(sd))
    assert fresh.param_groups[1]["lr"] == 0.003
    assert sorted(fresh.state_dict()["state"][0]) == sorted(sd["state"][0])
    _run(torch, ours, fresh, theirs, topt, 10, seed=2)
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_state_dict_layout_matches_torch(torch, name):
    ours, opt, theirs, topt = _pair(torch, name, FULL[name], np.float64)
    # Adagrad's state exists from construction, as torch's
    assert sorted(opt.state_dict()["state"]) == sorted(topt.state_dict()["state"])
    _run(torch, ours, opt, theirs, topt, 2)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sorted(sd["state"]) == sorted(tsd["state"]) == [0, 1]
    for i in sd["state"]:
        assert set(sd["state"][i]) == set(tsd["state"][i])
        assert sd["state"][i]["step"] == tsd["state"][i]["step"].item() == 2
    for g, tg_ in zip(sd["param_groups"], tsd["param_groups"]):
        assert g["params"] == tg_["params"]
        ignored = {"foreach", "capturable", "differentiable", "fused"}  # not taken here
        assert set(g) == set(tg_) - ignored
        assert all(g[k] == tg_[k] for k in g)
    # and our own round trip continues exactly
    again = getattr(optim, name)([{"params": [ours[0]]}, {"params": [ours[1]]}])
    again.load_state_dict(sd)
    assert again.state_dict()["param_groups"] == sd["param_groups"]


BAD = [
    ("RMSprop", dict(lr=-1)), ("RMSprop", dict(eps=-1e-8)), ("RMSprop", dict(momentum=-0.5)),
    ("RMSprop", dict(weight_decay=-1)), ("RMSprop", dict(alpha=-0.1)),
    ("RMSprop", dict(lr=float("nan"))),
    ("Adagrad", dict(lr=-1)), ("Adagrad", dict(lr_decay=-1)), ("Adagrad", dict(weight_decay=-2)),
    ("Adagrad", dict(initial_accumulator_value=-1)), ("Adagrad", dict(eps=-1)),
    ("Adadelta", dict(lr=-1)), ("Adadelta", dict(rho=1.5)), ("Adadelta", dict(eps=-1)),
    ("Adadelta", dict(weight_decay=-1)),
    ("Adamax", dict(lr=-1)), ("Adamax", dict(betas=(1.0, 0.9))), ("Adamax", dict(betas=(0.9, -1))),
    ("Adamax", dict(eps=-1)), ("Adamax", dict(weight_decay=-1)),
    ("NAdam", dict(momentum_decay=-1)), ("NAdam", dict(betas=(0.9, 1.0))),
    ("NAdam", dict(weight_decay=-0.1)),
    ("RAdam", dict(lr=-0.5)), ("RAdam", dict(betas=(-0.1, 0.9))), ("RAdam", dict(eps=-1)),
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
    sd = opt.state_dict()
    sd["param_groups"][0].update(kw)
    with pytest.raises(ValueError, match=re.escape(str(theirs.value))):
        opt.load_state_dict(sd)


def test_types_and_options_pytorch_has_that_are_not_taken():
    p = [Tensor(np.zeros(2), requires_grad=True)]
    with pytest.raises(TypeError, match="lr must be a Python number"):
        optim.RMSprop(p, lr="0.1")
    with pytest.raises(TypeError, match="betas must be a pair"):
        optim.NAdam(p, betas=0.9)
    with pytest.raises(TypeError, match="foreach"):  # as SGD and Adam here: not taken
        optim.Adagrad(p, foreach=False)


def test_an_older_rmsprop_checkpoint_without_centered_loads_as_torch():
    p = Tensor(np.ones(3), requires_grad=True)
    opt = optim.RMSprop([p], lr=0.1)
    sd = opt.state_dict()
    del sd["param_groups"][0]["centered"]
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["centered"] is False


def test_nadam_keeps_mu_product_in_float32_as_torch(torch):
    """torch keeps mu_product in a float32 scalar tensor: a float64 product drifts from it by
    ~1e-8, far more than the float64 parameters' rounding."""
    ours, opt, theirs, topt = _pair(torch, "NAdam", dict(momentum_decay=0.3), np.float64)
    _run(torch, ours, opt, theirs, topt, 5)
    mu = opt.state[ours[0]]["mu_product"]
    assert type(mu) is float and mu == topt.state[theirs[0]]["mu_product"].item()
    assert np.float32(mu) == mu


def test_updates_in_place_and_leave_grad_alone():
    for name in CONFIGS:
        p = Tensor(np.ones(3), requires_grad=True)
        view, g = p.data, np.full(3, 0.5)
        p.grad = Tensor(g)
        getattr(optim, name)([p], **FULL[name]).step()
        assert p.data is view and not np.allclose(view, 1.0), name
        np.testing.assert_array_equal(g, 0.5)
