"""Regressions from porting real torch programs step for step (hunt 2, /work/hunt_models2): each
test is small and compared with torch 2.13 in float64."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.func as GF
from tinygrad_norm import nn

torch = pytest.importorskip("torch")
TF = torch.func

RNG = np.random.default_rng(216)


class _TNet(torch.nn.Module):
    """An ensemble member: a Linear, a BatchNorm1d (buffers) and a head."""

    def __init__(self):
        super().__init__()
        self.l1 = torch.nn.Linear(3, 4, dtype=torch.float64)
        self.bn = torch.nn.BatchNorm1d(4, dtype=torch.float64)
        self.l2 = torch.nn.Linear(4, 2, dtype=torch.float64)

    def forward(self, x):
        return self.l2(self.bn(self.l1(x)).tanh())


class _GNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(3, 4, dtype=np.float64)
        self.bn = nn.BatchNorm1d(4, dtype=np.float64)
        self.l2 = nn.Linear(4, 2, dtype=np.float64)

    def forward(self, x):
        return self.l2(self.bn(self.l1(x)).tanh())


def _pair(n):
    """n torch models with distinct weights and running statistics, and ours holding the same."""
    tms = [_TNet() for _ in range(n)]
    gms = [_GNet() for _ in range(n)]
    for t, g in zip(tms, gms):
        with torch.no_grad():
            t.bn.running_mean.copy_(torch.tensor(RNG.standard_normal(4)))
            t.bn.running_var.copy_(torch.tensor(RNG.uniform(0.5, 2.0, 4)))
        g.load_state_dict({k: v.numpy().copy() for k, v in t.state_dict().items()})
    return tms, gms


def test_stack_module_state_values_names_and_leaves():
    tms, gms = _pair(3)
    tp, tb = TF.stack_module_state(tms)
    gp, gb = GF.stack_module_state(gms)
    assert list(gp) == list(tp) and list(gb) == list(tb)
    for k in tp:
        np.testing.assert_array_equal(gp[k].data, tp[k].detach().numpy())
        assert gp[k].requires_grad and gp[k].is_leaf and gp[k].grad is None
    for k in tb:
        np.testing.assert_array_equal(gb[k].data, tb[k].numpy())
        assert not gb[k].requires_grad
    # A fresh leaf: writing into the stack leaves the models alone.
    with tg.no_grad():
        gp["l1.weight"].mul_(0.0)
    assert np.abs(gms[0].l1.weight.data).sum() > 0


def test_stack_module_state_ensemble_with_vmap_matches_torch():
    """torch's model-ensembling recipe: vmap(functional_call) over the stacked state, eval-mode
    batch norm reading stacked buffers; outputs and gradients (random upstream) equal torch's."""
    tms, gms = _pair(3)
    for m in tms + gms:
        m.eval()
    tp, tb = TF.stack_module_state(tms)
    gp, gb = GF.stack_module_state(gms)
    base = _TNet().to("meta").eval()
    x = RNG.standard_normal((5, 3))
    u = RNG.standard_normal((3, 5, 2))
    tout = TF.vmap(lambda p, b, xx: TF.functional_call(base, (p, b), (xx,)),
                   in_dims=(0, 0, None))(tp, tb, torch.tensor(x))
    gout = GF.vmap(lambda p, b, xx: GF.functional_call(gms[0], (p, b), (xx,)),
                   in_dims=(0, 0, None))(gp, gb, tg.tensor(x))
    np.testing.assert_allclose(gout.data, tout.detach().numpy(), rtol=1e-12, atol=1e-13)
    (tout * torch.tensor(u)).sum().backward()
    (gout * tg.tensor(u)).sum().backward()
    for k in tp:
        np.testing.assert_allclose(gp[k].grad.data,
                                   tp[k].grad.numpy(), rtol=1e-11, atol=1e-13)


def test_stack_module_state_frozen_parameter_is_not_a_leaf_requiring_grad():
    tms, gms = _pair(2)
    for m in tms + gms:
        m.l1.requires_grad_(False)
    tp, _ = TF.stack_module_state(tms)
    gp, _ = GF.stack_module_state(gms)
    for k in tp:
        assert gp[k].requires_grad == tp[k].requires_grad


def test_stack_module_state_errors_as_torch():
    _, gms = _pair(2)
    with pytest.raises(ValueError, match="Expected at least one model, got 0"):
        GF.stack_module_state([])
    gms[1].eval()
    with pytest.raises(ValueError, match="same training/eval mode"):
        GF.stack_module_state(gms)
    gms[1].train()
    with pytest.raises(TypeError, match="same class"):
        GF.stack_module_state([gms[0], nn.Linear(3, 4)])
    gms[1].l2.bias.requires_grad_(False)
    with pytest.raises(ValueError, match=r"Expected l2.bias from each model to have the same "
                                         r"\.requires_grad"):
        GF.stack_module_state(gms)
    with pytest.raises(TypeError, match="sequence of Modules"):
        GF.stack_module_state(gms[0])
    with pytest.raises(TypeError, match="be a Module"):
        GF.stack_module_state([gms[0], 3])
