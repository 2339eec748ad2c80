"""Optimizers against ``torch.optim``: the same model, data and hyperparameters for 20 steps give
the same parameters (float64, rtol 1e-10); plus groups, state dicts, validation, and the promises
of the module docstring (in place on p.data, p.grad never written, dtype kept)."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn, optim

STEPS = 20


def _models(torch, dtype=np.float64):
    tg.manual_seed(0)
    ours = nn.Sequential(nn.Linear(5, 8, dtype=dtype), nn.Tanh(), nn.Linear(8, 3, dtype=dtype))
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    theirs = theirs.double() if dtype == np.float64 else theirs.float()
    with torch.no_grad():
        for (_, p), tp in zip(ours.named_parameters(), theirs.parameters()):
            tp.copy_(torch.from_numpy(p.numpy().copy()))
    return ours, theirs


def _batches(dtype=np.float64):
    rng = np.random.default_rng(1)
    return [(rng.standard_normal((6, 5)).astype(dtype), rng.integers(0, 3, 6))
            for _ in range(STEPS)]


def _train(torch, make_ours, make_theirs, dtype=np.float64, groups=None):
    ours, theirs = _models(torch, dtype)
    if groups:  # two groups: the first layer and the rest
        o_params = [{"params": list(ours[0].parameters()), **groups},
                    {"params": list(ours[2].parameters())}]
        t_params = [{"params": list(theirs[0].parameters()), **groups},
                    {"params": list(theirs[2].parameters())}]
    else:
        o_params, t_params = list(ours.parameters()), list(theirs.parameters())
    opt, topt = make_ours(o_params), make_theirs(t_params)
    for x, y in _batches(dtype):
        opt.zero_grad()
        F.cross_entropy(ours(Tensor(x)), y).backward()
        opt.step()
        topt.zero_grad()
        torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        topt.step()
    return ours, theirs, opt, topt


def _assert_same_params(ours, theirs, rtol=1e-10):
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=rtol, atol=rtol * 1e-2,
                                   err_msg=name)


SGD_CONFIGS = [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.1, weight_decay=0.01),
    dict(lr=0.05, momentum=0.8, dampening=0.1, weight_decay=0.05),
    dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.02, maximize=True),
]


@pytest.mark.parametrize("cfg", SGD_CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_sgd_matches_torch(torch, cfg):
    ours, theirs, _, _ = _train(torch, lambda p: optim.SGD(p, **cfg),
                                lambda p: torch.optim.SGD(p, foreach=False, **cfg))
    _assert_same_params(ours, theirs)


ADAM_CONFIGS = [
    dict(),
    dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True),
]


@pytest.mark.parametrize("cfg", ADAM_CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
@pytest.mark.parametrize("cls", ["Adam", "AdamW"])
def test_adam_matches_torch(torch, cls, cfg):
    ours, theirs, _, _ = _train(torch, lambda p: getattr(optim, cls)(p, **cfg),
                                lambda p: getattr(torch.optim, cls)(p, foreach=False, **cfg))
    _assert_same_params(ours, theirs)


def test_adam_decoupled_flag_and_groups_match_torch(torch):
    cfg = dict(lr=0.02, weight_decay=0.05, decoupled_weight_decay=True)
    ours, theirs, _, _ = _train(torch, lambda p: optim.Adam(p, **cfg),
                                lambda p: torch.optim.Adam(p, foreach=False, **cfg))
    _assert_same_params(ours, theirs)
    group = dict(lr=0.3, momentum=0.5)
    ours, theirs, opt, _ = _train(torch, lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
                                  lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, foreach=False),
                                  groups=group)
    _assert_same_params(ours, theirs)
    assert opt.param_groups[0]["lr"] == 0.3 and opt.param_groups[1]["lr"] == 0.05


@pytest.mark.parametrize("cls,cfg", [("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1)),
                                     ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
                                     ("AdamW", dict(lr=0.01))])
def test_float32_stays_float32_and_close_to_torch(torch, cls, cfg):
    ours, theirs, opt, _ = _train(torch, lambda p: getattr(optim, cls)(p, **cfg),
                                  lambda p: getattr(torch.optim, cls)(p, foreach=False, **cfg),
                                  dtype=np.float32)
    for p in ours.parameters():
        assert p.dtype == np.float32
        for v in opt.state[p].values():
            assert not isinstance(v, np.ndarray) or v.dtype == np.float32
    _assert_same_params(ours, theirs, rtol=1e-4)


def test_updates_are_in_place_and_never_touch_grad():
    p = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    q = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    shared = np.array([0.5, -0.5, 1.0])
    buf = p.data
    for opt in (optim.SGD([p, q], lr=0.1, momentum=0.9, weight_decay=0.1),
                optim.Adam([p, q], lr=0.1, weight_decay=0.1), optim.AdamW([p, q], lr=0.1)):
        for _ in range(3):
            p.grad = Tensor(shared)  # the same array as another tensor's gradient
            q.grad = Tensor(shared)
            opt.step()
            np.testing.assert_array_equal(shared, [0.5, -0.5, 1.0])
    assert p.data is buf  # updated in place: a state_dict view sees the new values
    np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_zero_grad_and_params_without_grad():
    a = Tensor(np.ones(2), requires_grad=True)
    b = Tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([a, b], lr=1.0)
    a.grad = Tensor(np.array([1.0, 1.0]))
    g = a.grad.data
    opt.step()
    np.testing.assert_array_equal(a.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(b.numpy(), [1.0, 1.0])  # no gradient: untouched
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(g, [1.0, 1.0])  # a fresh zero array, not zeroed in place
    assert b.grad is None
    opt.zero_grad()
    assert a.grad is None


def test_closure_runs_with_grad_enabled():
    w = Tensor(np.array([2.0]), requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with tg.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 4.0
    np.testing.assert_array_equal(w.numpy(), [1.0])


def test_state_dict_round_trip_continues_exactly(torch):
    ours, _ = _models(torch)
    batches = _batches()

    def run(model, opt, part):
        for x, y in part:
            opt.zero_grad()
            F.cross_entropy(model(Tensor(x)), y).backward()
            opt.step()

    opt = optim.Adam(ours.parameters(), lr=0.01, amsgrad=True)
    run(ours, opt, batches[:10])
    model_sd, opt_sd = ours.state_dict(), opt.state_dict()
    model_sd = {k: v.numpy().copy() for k, v in model_sd.items()}
    assert set(opt_sd) == {"state", "param_groups"}
    assert opt_sd["param_groups"][0]["params"] == [0, 1, 2, 3]
    assert set(opt_sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    run(ours, opt, batches[10:])
    straight = [p.numpy().copy() for p in ours.parameters()]

    fresh, _ = _models(torch)
    fresh.load_state_dict(model_sd)
    opt2 = optim.Adam(fresh.parameters(), lr=0.5)
    opt2.load_state_dict(opt_sd)
    assert opt2.param_groups[0]["lr"] == 0.01 and opt2.param_groups[0]["amsgrad"] is True
    run(fresh, opt2, batches[10:])
    for a, b in zip(straight, fresh.parameters()):
        np.testing.assert_array_equal(a, b.numpy())


def test_state_dict_layout_matches_torch(torch):
    ours, theirs, opt, topt = _train(torch, lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
                                     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9,
                                                               foreach=False))
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sorted(sd["state"]) == sorted(tsd["state"])
    for i in sd["state"]:
        assert set(sd["state"][i]) == set(tsd["state"][i])
        np.testing.assert_allclose(sd["state"][i]["momentum_buffer"],
                                   tsd["state"][i]["momentum_buffer"].numpy(), rtol=1e-10)
    assert sd["param_groups"][0]["params"] == tsd["param_groups"][0]["params"]
    common = set(sd["param_groups"][0]) & set(tsd["param_groups"][0])
    assert {"lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"} <= common


def test_load_state_dict_rejects_mismatch_and_changes_nothing():
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.ones((2, 2)), requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    a.grad, b.grad = Tensor(np.ones(3)), Tensor(np.ones((2, 2)))
    opt.step()
    before = opt.state_dict()
    bad = opt.state_dict()
    bad["state"][1]["momentum_buffer"] = np.zeros(3)
    bad["param_groups"][0]["lr"] = 5.0
    with pytest.raises(ValueError, match="shape"):
        opt.load_state_dict(bad)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})
    short = opt.state_dict()
    short["param_groups"][0]["params"] = [0]
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict(short)
    neg = opt.state_dict()
    neg["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match="Invalid learning rate: -1.0"):
        opt.load_state_dict(neg)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    np.testing.assert_array_equal(after["state"][0]["momentum_buffer"],
                                  before["state"][0]["momentum_buffer"])


def test_validation_messages_match_torch():
    p = [Tensor(np.ones(2), requires_grad=True)]
    cases = [
        (lambda: optim.SGD(p, lr=-1), "Invalid learning rate: -1"),
        (lambda: optim.SGD(p, lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
        (lambda: optim.SGD(p, lr=0.1, weight_decay=-1), "Invalid weight_decay value: -1"),
        (lambda: optim.SGD(p, lr=0.1, nesterov=True), "Nesterov momentum requires a momentum"),
        (lambda: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
         "zero dampening"),
        (lambda: optim.Adam(p, lr=-0.1), "Invalid learning rate: -0.1"),
        (lambda: optim.Adam(p, eps=-1e-8), "Invalid epsilon value: -1e-08"),
        (lambda: optim.Adam(p, betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
        (lambda: optim.Adam(p, betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
        (lambda: optim.AdamW(p, weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
        (lambda: optim.SGD([], lr=0.1), "optimizer got an empty parameter list"),
        (lambda: optim.SGD(p + p, lr=0.1), "same parameter more than once"),
        (lambda: optim.SGD([{"params": p}, {"params": p}], lr=0.1),
         "some parameters appear in more than one parameter group"),
        (lambda: optim.SGD([{"params": p, "lr": -2}], lr=0.1), "Invalid learning rate: -2"),
    ]
    for make, msg in cases:
        with pytest.raises(ValueError, match=msg.replace("(", r"\(")):
            make()
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(p[0], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD(set(p), lr=0.1)
    with pytest.raises(TypeError, match="lr must be a Python number"):
        optim.SGD(p, lr="0.1")
    nonleaf = p[0] * 2
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([nonleaf], lr=0.1)
    assert "lr: 0.1" in repr(optim.SGD(p, lr=0.1))


# ---- from an optim bug hunt against torch 2.13 ---------------------------------------------------

def _param(values=(1.0, 1.0, 1.0), dtype=np.float64):
    return Tensor(np.array(values, dtype), requires_grad=True)


def test_adamw_stays_decoupled_after_loading_an_adam_state_dict(torch):
    p, tp = _param(), torch.ones(3, dtype=torch.float64, requires_grad=True)
    ours = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    theirs = torch.optim.AdamW([tp], lr=0.1, weight_decay=0.5)
    ours.load_state_dict(optim.Adam([_param()], lr=0.1, weight_decay=0.5).state_dict())
    theirs.load_state_dict(torch.optim.Adam([tp], lr=0.1, weight_decay=0.5).state_dict())
    p.grad = Tensor(np.array([1.0, -1.0, 0.0]))
    tp.grad = torch.tensor([1.0, -1.0, 0.0], dtype=torch.float64)
    ours.step()
    theirs.step()
    assert ours.param_groups[0]["decoupled_weight_decay"] is True
    np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-12)  # was L2 Adam


@pytest.mark.parametrize("make, flags", [
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), ("nesterov", "maximize")),
    (lambda ps: optim.Adam(ps, lr=0.1), ("amsgrad", "maximize", "decoupled_weight_decay")),
    (lambda ps: optim.AdamW(ps, lr=0.1), ("amsgrad", "maximize", "decoupled_weight_decay"))])
def test_state_dicts_of_older_pytorch_load_as_in_pytorch(make, flags):
    """Older checkpoints lack the boolean flags added since (PyTorch's setstate fills them
    with False), and SGD's held momentum_buffer None before its first step."""
    opt = make([_param()])
    sd = opt.state_dict()
    for flag in flags:
        del sd["param_groups"][0][flag]
    if isinstance(opt, optim.SGD):
        sd["state"] = {0: {"momentum_buffer": None}}
    opt.load_state_dict(sd)
    group = opt.param_groups[0]
    assert all(group[f] is (f == "decoupled_weight_decay" and isinstance(opt, optim.AdamW))
               for f in flags)
    opt.param_groups[0]["params"][0].grad = Tensor(np.ones(3))
    opt.step()  # the buffer is built afresh
    with pytest.raises(ValueError, match="lacks the hyperparameter"):
        del sd["param_groups"][0]["lr"]
        opt.load_state_dict(sd)


def test_state_reads_empty_for_a_parameter_without_state_as_torch():
    class Counting(optim.Optimizer):  # PyTorch's pattern for a custom optimizer
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    state = self.state[p]  # a KeyError before the first step
                    if len(state) == 0:
                        state["step"] = 0
                    state["step"] += 1
    opt = Counting([_param()])
    opt.step()
    opt.step()
    assert opt.state_dict()["state"] == {0: {"step": 2}}
    opt.load_state_dict(opt.state_dict())
    assert opt.state[_param()] == {}


def test_a_group_dict_is_kept_and_acts_later_as_torch():
    p = _param()
    group = {"params": [p], "lr": 0.1}
    opt = optim.SGD([group])
    assert opt.param_groups[0] is group and group["momentum"] == 0  # completed in place
    group["lr"] = 0.0
    p.grad = Tensor(np.ones(3))
    opt.step()
    np.testing.assert_array_equal(p.numpy(), 1.0)


def test_numpy_hyperparameters_are_stored_as_python_floats(torch):
    """lr=np.float64(0.1) made lr * g float64 and rounded a float32 update differently."""
    rng = np.random.default_rng(0)
    w0, grads = rng.standard_normal(1000), rng.standard_normal((20, 1000))
    results = []
    for lr, betas in ((0.1, (0.9, 0.99)), (np.float64(0.1), (np.float64(0.9), np.float64(0.99)))):
        p = Tensor(w0.astype(np.float32), requires_grad=True)
        opt = optim.Adam([p], lr=lr, betas=betas)
        for g in grads:
            p.grad = Tensor(g.astype(np.float32))
            opt.step()
        assert type(opt.param_groups[0]["lr"]) is float
        assert all(type(b) is float for b in opt.param_groups[0]["betas"])
        results.append(p.numpy())
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("dtype", [np.uint8, np.bool_, np.int64])
def test_integer_gradients_are_taken_as_floats(dtype):
    p = Tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(TypeError, match="dtype"):  # assigning one is refused, as torch
        p.grad = Tensor(np.array([1, 1], dtype))
    p._grad = Tensor(np.array([1, 1], dtype))  # as other code may still set it
    optim.SGD([p], lr=0.1, maximize=True).step()  # uint8: -1 wrapped to 255; bool: a TypeError
    np.testing.assert_allclose(p.numpy(), [0.1, 0.1])


def test_a_read_only_parameter_is_refused_before_anything_moves():
    a = Tensor(np.zeros(2), requires_grad=True)
    b = Tensor(np.broadcast_to(np.zeros(1), (2,)), requires_grad=True)
    a.grad, b.grad = Tensor(np.ones(2)), Tensor(np.ones(2))
    opt = optim.Adam([a, b], lr=0.1)
    with pytest.raises(ValueError, match="read-only"):
        opt.step()
    np.testing.assert_array_equal(a.numpy(), 0.0)  # a moved before b failed
    assert opt.state_dict()["state"] == {}
