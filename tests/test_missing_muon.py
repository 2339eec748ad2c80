"""optim.Muon against ``torch.optim.Muon``: with torch's bfloat16 cast made an identity (so
both run the Newton-Schulz iterations in float64) the parameters and momentum buffers agree to
1e-10 over 12 steps, for wide, tall and square matrices, with and without Nesterov, both
learning-rate adjustments, weight decay, two groups; against torch as it is (bfloat16), each
step's direction agrees to bfloat16's precision; torch's checks and messages; the state dict."""
from __future__ import annotations

import contextlib
import re

import numpy as np
import pytest

from tinygrad_norm import Tensor, optim

SHAPES = [(4, 6), (7, 3), (5, 5)]
CONFIGS = [dict(), dict(lr=0.02, nesterov=False, weight_decay=0.0),
           dict(lr=0.01, momentum=0.8, adjust_lr_fn="match_rms_adamw", weight_decay=0.05),
           dict(adjust_lr_fn="original", ns_steps=3, eps=1e-5,
                ns_coefficients=(2.0, -1.5, 0.5))]


@contextlib.contextmanager
def _torch_in_float64(torch):
    """torch's Muon with its bfloat16 cast turned into a copy: the same iterations in float64."""
    saved = torch.Tensor.bfloat16
    torch.Tensor.bfloat16 = lambda self: self.clone()
    try:
        yield
    finally:
        torch.Tensor.bfloat16 = saved


def _run(torch, cfg, steps, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    start = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    ours = [Tensor(w.copy(), requires_grad=True) for w in start]
    theirs = [torch.tensor(w.copy(), requires_grad=True) for w in start]
    opt = optim.Muon([{"params": ours[:2]}, {"params": ours[2:], "lr": 0.003}], **cfg)
    topt = torch.optim.Muon([{"params": theirs[:2]}, {"params": theirs[2:], "lr": 0.003}],
                            **cfg)
    for _ in range(steps):
        for p, tp in zip(ours, theirs):
            g = (rng.standard_normal(p.shape) + 0.3 * p.numpy()).astype(dtype)
            p.grad, tp.grad = Tensor(g.copy()), torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    return ours, opt, theirs, topt


@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
def test_matches_torch_with_its_iterations_in_float64(torch, cfg):
    with _torch_in_float64(torch):
        ours, opt, theirs, topt = _run(torch, cfg, 12)
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(opt.state[p]["momentum_buffer"],
                                   topt.state[tp]["momentum_buffer"].numpy(), rtol=1e-10,
                                   atol=1e-12)


@pytest.mark.parametrize("cfg", CONFIGS[:3], ids=str)
def test_steps_agree_with_torchs_bfloat16_iterations_in_direction(torch, cfg):
    rng = np.random.default_rng(1)
    for shape in SHAPES:
        w, g = rng.standard_normal(shape), rng.standard_normal(shape)
        p, tp = Tensor(w.copy(), requires_grad=True), torch.tensor(w.copy(), requires_grad=True)
        opt, topt = optim.Muon([p], **cfg), torch.optim.Muon([tp], **cfg)
        p.grad, tp.grad = Tensor(g.copy()), torch.from_numpy(g.copy())
        opt.step()
        topt.step()
        d, td = (p.numpy() - w).ravel(), (tp.detach().numpy() - w).ravel()
        assert d @ td / np.linalg.norm(d) / np.linalg.norm(td) > 0.999
        np.testing.assert_allclose(np.linalg.norm(d), np.linalg.norm(td), rtol=2e-2)


def test_float32_stays_float32():
    p = Tensor(np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32),
               requires_grad=True)
    opt = optim.Muon([p])
    for _ in range(3):
        p.grad = Tensor(np.ones((3, 4), np.float32))
        opt.step()
    assert p.dtype == np.float32 and opt.state[p]["momentum_buffer"].dtype == np.float32


def test_the_update_is_nearly_orthogonal():
    """What Muon is for: the step's singular values are all of one size (0.5 to 1.3 here) for a
    gradient whose singular values span 50 to 1."""
    rng = np.random.default_rng(3)
    w = rng.standard_normal((8, 5))
    p = Tensor(w.copy(), requires_grad=True)
    opt = optim.Muon([p], lr=1.0, weight_decay=0.0, momentum=0.0, nesterov=False)
    p.grad = Tensor(rng.standard_normal((8, 5)) @ np.diag([10, 3, 1, 0.5, 0.2]))
    opt.step()
    s = np.linalg.svd((w - p.numpy()) / np.sqrt(8 / 5), compute_uv=False)
    assert s.min() > 0.5 and s.max() < 1.3


BAD = [dict(lr=-1.0), dict(momentum=-0.1), dict(weight_decay=-1.0), dict(adjust_lr_fn="x")]


@pytest.mark.parametrize("kw", BAD, ids=str)
def test_checks_raise_torchs_messages(torch, kw):
    with pytest.raises(ValueError) as theirs:
        torch.optim.Muon([torch.zeros(2, 2, requires_grad=True)], **kw)
    with pytest.raises(ValueError, match="^" + re.escape(str(theirs.value)) + "$"):
        optim.Muon([Tensor(np.zeros((2, 2)), requires_grad=True)], **kw)


def test_only_matrices_and_the_step_checks_come_first(torch):
    with pytest.raises(ValueError, match="Muon only supports 2D parameters"):
        torch.optim.Muon([torch.zeros(3, requires_grad=True)])
    with pytest.raises(ValueError, match=re.escape("Muon only supports 2D parameters whereas we "
                                                   "found a parameter with size: (3,)")):
        optim.Muon([Tensor(np.zeros(3), requires_grad=True)])
    opt = optim.Muon([Tensor(np.zeros((2, 2)), requires_grad=True)])
    with pytest.raises(ValueError, match="2D parameters"):
        opt.add_param_group({"params": [Tensor(np.zeros((2, 2, 2)), requires_grad=True)]})
    assert len(opt.param_groups) == 1
    with pytest.raises(ValueError, match="Number of steps must be less than 100"):
        optim.Muon([Tensor(np.zeros((2, 2)), requires_grad=True)], ns_steps=100)
    with pytest.raises(ValueError, match="Coefficients must be a tuple of exactly 3 values"):
        optim.Muon([Tensor(np.zeros((2, 2)), requires_grad=True)], ns_coefficients=(1.0, 2.0))


def test_state_dict_layout_matches_torch_and_resumes(torch):
    with _torch_in_float64(torch):
        ours, opt, theirs, topt = _run(torch, CONFIGS[0], 2)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert set(sd["state"][0]) == set(tsd["state"][0]) == {"momentum_buffer"}
    ignored = {"foreach", "capturable", "differentiable", "fused"}
    assert set(sd["param_groups"][0]) == set(tsd["param_groups"][0]) - ignored
    fresh = optim.Muon([{"params": ours[:2]}, {"params": ours[2:]}])
    fresh.load_state_dict(sd)
    assert fresh.param_groups[1]["lr"] == 0.003
