"""Adagrad's accumulator starts at the *constructor's* ``initial_accumulator_value`` for every
parameter group, as torch 2.13 reads only its defaults (at construction and for a group added
later); a group's own value is kept in the group, unused. Here it used to start at the group's
value, so a script with a per-group value trained differently from torch's."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import optim


@pytest.mark.parametrize("default", [0.0, 0.5])
def test_per_group_initial_accumulator_value_is_torchs(torch, default):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(3) for _ in range(3)]
    tp = [torch.tensor(a, requires_grad=True) for a in init]
    op = [tg.Tensor(a.copy(), requires_grad=True) for a in init]
    group = {"initial_accumulator_value": 0.3, "lr_decay": 0.1}
    theirs = torch.optim.Adagrad([{"params": [tp[0]], **group}, {"params": [tp[1]]}], lr=0.1,
                                 initial_accumulator_value=default)
    ours = optim.Adagrad([{"params": [op[0]], **group}, {"params": [op[1]]}], lr=0.1,
                         initial_accumulator_value=default)
    for t in range(8):
        if t == 3:  # a group added later starts from the defaults too
            theirs.add_param_group({"params": [tp[2]], "initial_accumulator_value": 2.0})
            ours.add_param_group({"params": [op[2]], "initial_accumulator_value": 2.0})
        up = [rng.standard_normal(3) for _ in range(3)]
        for t_p, o_p, g in zip(tp, op, up):
            t_p.grad, o_p.grad = torch.tensor(g), tg.Tensor(g)
        theirs.step()
        ours.step()
        for t_p, o_p in zip(tp, op):
            np.testing.assert_allclose(o_p.data, t_p.detach().numpy(), rtol=1e-12, atol=1e-14)
    for i, (t_p, o_p) in enumerate(zip(tp, op)):
        np.testing.assert_allclose(ours.state_dict()["state"][i]["sum"],
                                   theirs.state_dict()["state"][i]["sum"].numpy(), rtol=1e-12)
    assert ours.param_groups[0]["initial_accumulator_value"] == 0.3  # kept, as torch keeps it
