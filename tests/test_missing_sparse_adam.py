"""optim.SparseAdam against ``torch.optim.SparseAdam``: an ``nn.Embedding(sparse=True)`` table
trained by both on the same batches (repeated indices, ``padding_idx``, a random upstream
gradient) ends with the same weights and moments (float64 to 1e-12, float32 to 1e-5); other
shapes (1-D, 3-D, 0-d) against torch fed the dense gradient's nonzero rows as a sparse one; rows a
step did not touch keep their weights and moments while the step count still advances; torch's
hyperparameter checks and messages; the state dict in torch's layout, loadable both ways."""
from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_norm import Tensor, nn, optim


def _embedding_run(torch, dtype, steps, cfg, padding_idx=None, seed=0):
    """Both tables trained on the same batches; returns (ours, opt, theirs, topt)."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((12, 5)).astype(dtype)
    ours = nn.Embedding(12, 5, padding_idx=padding_idx, sparse=True, dtype=dtype)
    ours.weight.data[...] = w
    theirs = torch.nn.Embedding(12, 5, padding_idx=padding_idx, sparse=True,
                                dtype=getattr(torch, np.dtype(dtype).name))
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(w))
    opt = optim.SparseAdam(ours.parameters(), **cfg)
    topt = torch.optim.SparseAdam(theirs.parameters(), **cfg)
    for _ in range(steps):
        idx = rng.integers(0, 12, size=(3, 4))  # repeats within a batch, rows left out
        up = rng.standard_normal((3, 4, 5)).astype(dtype)
        opt.zero_grad()
        topt.zero_grad()
        (ours(Tensor(idx)) * Tensor(up)).sum().backward()
        (theirs(torch.from_numpy(idx)) * torch.from_numpy(up)).sum().backward()
        opt.step()
        topt.step()
    return ours.weight, opt, theirs.weight, topt


def _same_state(p, opt, tp, topt, rtol, atol):
    np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=rtol, atol=atol)
    state, tstate = opt.state[p], topt.state[tp]
    assert list(state) == list(tstate) == ["step", "exp_avg", "exp_avg_sq"]
    assert state["step"] == tstate["step"]
    for k in ("exp_avg", "exp_avg_sq"):
        assert state[k].dtype == p.dtype
        np.testing.assert_allclose(state[k], tstate[k].numpy(), rtol=rtol, atol=atol, err_msg=k)


@pytest.mark.parametrize("cfg", [dict(), dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6),
                                 dict(lr=0.01, maximize=True)])
@pytest.mark.parametrize("padding_idx", [None, 3])
def test_embedding_table_matches_torch_in_float64(torch, cfg, padding_idx):
    p, opt, tp, topt = _embedding_run(torch, np.float64, 15, cfg, padding_idx)
    _same_state(p, opt, tp, topt, rtol=1e-12, atol=1e-15)


def test_embedding_table_float32_stays_float32_and_close_to_torch(torch):
    p, opt, tp, topt = _embedding_run(torch, np.float32, 15, dict(lr=0.02), padding_idx=0)
    assert p.dtype == np.float32
    _same_state(p, opt, tp, topt, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(6,), (5, 2, 3), ()])
def test_other_shapes_match_torch_fed_the_nonzero_rows(torch, shape):
    rng = np.random.default_rng(3)
    w = np.asarray(rng.standard_normal(shape))
    p, tp = Tensor(w.copy(), requires_grad=True), torch.tensor(w.copy(), requires_grad=True)
    opt, topt = optim.SparseAdam([p], lr=0.1), torch.optim.SparseAdam([tp], lr=0.1)
    for _ in range(8):
        g = np.asarray(rng.standard_normal(shape))
        if g.ndim:
            g[rng.random(shape[0]) < 0.5] = 0.0  # whole rows left out
            if g.ndim > 1:
                g[0, 0] = 0.0  # a zero inside a touched row still takes part
        p.grad = Tensor(g.copy())
        tg = torch.from_numpy(g.copy())
        tp.grad = tg.to_sparse(1) if g.ndim else tg.to_sparse()
        opt.step()
        topt.step()
    _same_state(p, opt, tp, topt, rtol=1e-12, atol=1e-15)


def test_untouched_rows_keep_weights_and_moments_but_the_step_counts():
    p = Tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    opt = optim.SparseAdam([p], lr=0.1)
    p.grad = Tensor(np.ones((4, 3)))
    opt.step()
    before = p.numpy().copy()
    m, v = (opt.state[p][k].copy() for k in ("exp_avg", "exp_avg_sq"))
    g = np.zeros((4, 3))
    g[2] = [0.0, -1.0, 0.0]
    p.grad = Tensor(g)
    opt.step()
    assert opt.state[p]["step"] == 2
    keep = [0, 1, 3]
    np.testing.assert_array_equal(p.numpy()[keep], before[keep])
    np.testing.assert_array_equal(opt.state[p]["exp_avg"][keep], m[keep])
    np.testing.assert_array_equal(opt.state[p]["exp_avg_sq"][keep], v[keep])
    assert not np.array_equal(p.numpy()[2], before[2])
    p.grad = Tensor(np.zeros((4, 3)))  # no row at all: nothing moves, the count still goes on
    after = p.numpy().copy()
    opt.step()
    assert opt.state[p]["step"] == 3
    np.testing.assert_array_equal(p.numpy(), after)


def test_a_nan_gradient_row_reaches_the_weights_as_in_torch(torch):
    g = np.zeros((3, 2))
    g[1, 0] = np.nan
    p, tp = Tensor(np.ones((3, 2)), requires_grad=True), torch.ones(3, 2, dtype=torch.float64,
                                                                     requires_grad=True)
    opt, topt = optim.SparseAdam([p]), torch.optim.SparseAdam([tp])
    p.grad, tp.grad = Tensor(g), torch.from_numpy(g).to_sparse(1)
    opt.step()
    topt.step()
    np.testing.assert_array_equal(np.isnan(p.numpy()), np.isnan(tp.detach().numpy()))
    assert np.isnan(p.numpy()[1, 0]) and np.isnan(p.numpy()).sum() == 1


BAD = [dict(lr=0.0), dict(lr=-1e-3), dict(lr=float("nan")), dict(eps=0.0), dict(eps=-1.0),
       dict(betas=(1.0, 0.999)), dict(betas=(0.9, -0.1))]


@pytest.mark.parametrize("kw", BAD, ids=[str(k) for k in BAD])
def test_hyperparameter_checks_raise_torchs_messages(torch, kw):
    with pytest.raises(ValueError) as theirs:
        torch.optim.SparseAdam([torch.zeros(2, requires_grad=True)], **kw)
    p = Tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(ValueError, match="^" + re.escape(str(theirs.value)) + "$"):
        optim.SparseAdam([p], **kw)
    opt = optim.SparseAdam([p])
    with pytest.raises(ValueError, match=re.escape(str(theirs.value))):
        opt.add_param_group({"params": [Tensor(np.zeros(1), requires_grad=True)], **kw})
    assert len(opt.param_groups) == 1


def test_bad_argument_types_are_type_errors():
    p = Tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(TypeError, match="betas"):
        optim.SparseAdam([p], betas=0.9)
    with pytest.raises(TypeError, match="lr"):
        optim.SparseAdam([p], lr="0.1")


def test_state_dict_has_torchs_layout_and_loads_a_torch_one(torch):
    p, opt, tp, topt = _embedding_run(torch, np.float64, 4, dict(lr=0.03))
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert set(sd["state"][0]) == set(tsd["state"][0])
    assert set(sd["param_groups"][0]) == set(tsd["param_groups"][0])
    # a torch checkpoint continues here as it continues in torch
    fresh_p = Tensor(tp.detach().numpy().copy(), requires_grad=True)
    fresh = optim.SparseAdam([fresh_p], lr=0.5)
    fresh.load_state_dict({"state": {0: {k: (v.numpy() if hasattr(v, "numpy") else v)
                                         for k, v in tsd["state"][0].items()}},
                           "param_groups": [dict(g) for g in tsd["param_groups"]]})
    assert fresh.param_groups[0]["lr"] == 0.03
    g = np.zeros((12, 5))
    g[[1, 7]] = np.random.default_rng(0).standard_normal((2, 5))
    fresh_p.grad = Tensor(g.copy())
    tp.grad = torch.from_numpy(g).to_sparse(1)
    fresh.step()
    topt.step()
    np.testing.assert_allclose(fresh_p.numpy(), tp.detach().numpy(), rtol=1e-12, atol=1e-15)

