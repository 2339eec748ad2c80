"""Regressions from porting real torch programs step for step (hunt 2, /work/hunt_models2): each
test is small and compared with torch 2.13 in float64."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.func as GF
from tinygrad_norm import nn, optim

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


# --- nn.utils.parametrizations.orthogonal (a port of an orthogonal-RNN script crashed on it) ---

def _orth_pair(shape, orthogonal_map, use_trivialization=True):
    """A torch Linear-like module holding a weight of ``shape`` and ours, orthogonalized the same
    way; ours loads torch's state dict (the base of a non-square weight is random)."""
    tw = torch.nn.Module()
    tw.weight = torch.nn.Parameter(torch.tensor(RNG.standard_normal(shape)))
    gw = nn.Module()
    gw.weight = nn.Parameter(tg.tensor(tw.weight.detach().numpy().copy()))
    torch.nn.utils.parametrizations.orthogonal(tw, orthogonal_map=orthogonal_map,
                                               use_trivialization=use_trivialization)
    nn.utils.parametrizations.orthogonal(gw, orthogonal_map=orthogonal_map,
                                         use_trivialization=use_trivialization)
    sd = {k: v.detach().numpy().copy() for k, v in tw.state_dict().items()}
    assert list(gw.state_dict()) == list(sd)
    gw.load_state_dict(sd)
    return tw, gw


_ORTH_CASES = [(m, s, triv) for m in ("matrix_exp", "cayley", "householder")
               for s in ((4, 4), (5, 3), (3, 5), (2, 4, 3))
               for triv in (True, False)
               if triv or m == "householder"]


@pytest.mark.parametrize("orthogonal_map,shape,triv", _ORTH_CASES)
def test_orthogonal_values_and_gradients_match_torch(orthogonal_map, shape, triv):
    tw, gw = _orth_pair(shape, orthogonal_map, triv)
    # move the free tensor off -I so that every map's interior is exercised
    # (off the diagonal: householder's diagonal picks signs by truncation, as torch's)
    step = RNG.standard_normal(tuple(tw.parametrizations.weight.original.shape)) * 0.3
    i = np.arange(min(shape[-2:]))
    step[..., i, i] = 0.0
    with torch.no_grad():
        tw.parametrizations.weight.original.add_(torch.tensor(step))
    with tg.no_grad():
        gw.parametrizations.weight.original.add_(tg.tensor(step))
    tq, gq = tw.weight, gw.weight
    np.testing.assert_allclose(gq.data, tq.detach().numpy(), rtol=1e-11, atol=1e-12)
    n, k = shape[-2:]
    prod = gq.data @ gq.data.swapaxes(-1, -2) if n < k else gq.data.swapaxes(-1, -2) @ gq.data
    np.testing.assert_allclose(prod, np.broadcast_to(np.eye(min(n, k)), prod.shape), atol=1e-12)
    u = RNG.standard_normal(shape)
    (tq * torch.tensor(u)).sum().backward()
    (gq * tg.tensor(u)).sum().backward()
    np.testing.assert_allclose(gw.parametrizations.weight.original.grad.data,
                               tw.parametrizations.weight.original.grad.numpy(),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
def test_orthogonal_gradcheck(orthogonal_map):
    from tinygrad_norm.nn.orthogonal_param import _Orthogonal
    shape = (4, 3)
    p = _Orthogonal(tg.zeros(*shape, dtype=np.float64), orthogonal_map, use_trivialization=False)
    x = tg.tensor(np.tril(RNG.standard_normal(shape)) * 0.4 + np.eye(*shape) * 1.0,
                  requires_grad=True)
    assert tg.gradcheck(lambda a: p(a), (x,))
    assert tg.gradgradcheck(lambda a: p(a), (x,))


def test_orthogonal_assignment_orthogonalizes_as_torch():
    """Assigning a square weight stores its QR orthogonalization (positive R diagonal) in base;
    without trivialization, householder stores the reflectors; both read back as torch."""
    for triv in (True, False):
        tw, gw = _orth_pair((4, 4), "householder", triv)
        w = RNG.standard_normal((4, 4))
        tw.weight = torch.tensor(w)
        gw.weight = tg.tensor(w)
        np.testing.assert_allclose(gw.weight.data, tw.weight.detach().numpy(), rtol=1e-11,
                                   atol=1e-12)
        tsd, gsd = tw.state_dict(), gw.state_dict()
        for key in tsd:
            np.testing.assert_allclose(gsd[key], tsd[key].numpy(), rtol=1e-11, atol=1e-12)


def test_orthogonal_trains_as_torch():
    """An Adam step on an orthogonal Linear: the same parameters and weight afterwards."""
    tl = torch.nn.Linear(4, 4, dtype=torch.float64)
    gl = nn.Linear(4, 4, dtype=np.float64)
    gl.load_state_dict({k: v.numpy() for k, v in tl.state_dict().items()})
    torch.nn.utils.parametrizations.orthogonal(tl)
    nn.utils.parametrizations.orthogonal(gl)
    topt, gopt = torch.optim.Adam(tl.parameters(), lr=0.05), optim.Adam(gl.parameters(), lr=0.05)
    for _ in range(3):
        x, u = RNG.standard_normal((5, 4)), RNG.standard_normal((5, 4))
        topt.zero_grad()
        gopt.zero_grad()
        (tl(torch.tensor(x)).tanh() * torch.tensor(u)).sum().backward()
        (gl(tg.tensor(x)).tanh() * tg.tensor(u)).sum().backward()
        topt.step()
        gopt.step()
    np.testing.assert_allclose(gl.weight.data, tl.weight.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_orthogonal_errors_as_torch():
    with pytest.raises(ValueError, match="Got a tensor of 1 dimensions"):
        nn.utils.parametrizations.orthogonal(nn.Linear(3, 3), "bias")
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'w'"):
        nn.utils.parametrizations.orthogonal(nn.Linear(3, 3), "w")
    with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp", "cayley", '
                                         '"householder". Got: qr'):
        nn.utils.parametrizations.orthogonal(nn.Linear(3, 3), orthogonal_map="qr")
    lin = nn.utils.parametrizations.orthogonal(nn.Linear(3, 3), use_trivialization=False)
    before = lin.parametrizations.weight.original.data.copy()
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        lin.weight = tg.tensor(np.eye(3, dtype=np.float32))
    np.testing.assert_array_equal(lin.parametrizations.weight.original.data, before)
    lin = nn.utils.parametrizations.orthogonal(nn.Linear(3, 3))
    with pytest.raises(ValueError, match=r"shape torch.Size\(\[3, 3\]\). Got a tensor of shape "
                                         r"torch.Size\(\[2, 3\]\)"):
        lin.weight = tg.zeros(2, 3)


def test_register_parametrization_right_inverse_not_implemented_is_identity():
    """torch takes a right_inverse raising NotImplementedError at registration as the identity
    (the original keeps its values); ours raised it out of register_parametrization."""
    class TDouble(torch.nn.Module):
        def forward(self, x):
            return 2 * x

        def right_inverse(self, x):
            raise NotImplementedError

    class GDouble(nn.Module):
        def forward(self, x):
            return 2 * x

        def right_inverse(self, x):
            raise NotImplementedError

    w = RNG.standard_normal((3, 2))
    for unsafe in (False, True):
        tm, gm = torch.nn.Linear(2, 3, dtype=torch.float64), nn.Linear(2, 3, dtype=np.float64)
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(w))
        gm.weight.data[...] = w
        torch.nn.utils.parametrize.register_parametrization(tm, "weight", TDouble(), unsafe=unsafe)
        nn.utils.parametrize.register_parametrization(gm, "weight", GDouble(), unsafe=unsafe)
        np.testing.assert_array_equal(gm.parametrizations.weight.original.data, w)
        np.testing.assert_array_equal(gm.weight.data, tm.weight.detach().numpy())
        # a second one on the same name: its right inverse is not checkable, as torch
        torch.nn.utils.parametrize.register_parametrization(tm, "weight", TDouble(), unsafe=unsafe)
        nn.utils.parametrize.register_parametrization(gm, "weight", GDouble(), unsafe=unsafe)
        np.testing.assert_array_equal(gm.weight.data, tm.weight.detach().numpy())


# --- optim.swa_utils (an EMA / SWA training script crashed on the missing module) ---

def _bn_pair():
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4, dtype=torch.float64),
                             torch.nn.BatchNorm1d(4, dtype=torch.float64),
                             torch.nn.Linear(4, 2, dtype=torch.float64))
    gm = nn.Sequential(nn.Linear(3, 4, dtype=np.float64), nn.BatchNorm1d(4, dtype=np.float64),
                       nn.Linear(4, 2, dtype=np.float64))
    gm.load_state_dict({k: v.numpy() for k, v in tm.state_dict().items()})
    return tm, gm


def _assert_state_equal(gmod, tmod):
    tsd, gsd = tmod.state_dict(), gmod.state_dict()
    assert list(gsd) == list(tsd)
    for k in tsd:
        assert np.asarray(gsd[k]).dtype == tsd[k].numpy().dtype, k
        np.testing.assert_allclose(gsd[k], tsd[k].numpy(), rtol=1e-13, atol=1e-15, err_msg=k)


@pytest.mark.parametrize("kind", ["swa", "ema_buffers", "avg_fn"])
def test_averaged_model_matches_torch(kind):
    TS, GS = torch.optim.swa_utils, optim.swa_utils
    tm, gm = _bn_pair()
    if kind == "swa":
        ta, ga = TS.AveragedModel(tm), GS.AveragedModel(gm)
    elif kind == "ema_buffers":  # num_batches_tracked (int64) is averaged too: truncated
        ta = TS.AveragedModel(tm, multi_avg_fn=TS.get_ema_multi_avg_fn(0.7), use_buffers=True)
        ga = GS.AveragedModel(gm, multi_avg_fn=GS.get_ema_multi_avg_fn(0.7), use_buffers=True)
    else:
        ta = TS.AveragedModel(tm, avg_fn=TS.get_ema_avg_fn(0.6))
        ga = GS.AveragedModel(gm, avg_fn=GS.get_ema_avg_fn(0.6))
    topt = torch.optim.SGD(tm.parameters(), lr=0.1)
    gopt = optim.SGD(gm.parameters(), lr=0.1)
    for _ in range(4):
        x, u = RNG.standard_normal((6, 3)), RNG.standard_normal((6, 2))
        topt.zero_grad()
        gopt.zero_grad()
        (tm(torch.tensor(x)) * torch.tensor(u)).sum().backward()
        (gm(tg.tensor(x)) * tg.tensor(u)).sum().backward()
        topt.step()
        gopt.step()
        ta.update_parameters(tm)
        ga.update_parameters(gm)
        _assert_state_equal(ga, ta)
    ta.eval()
    ga.eval()
    x = RNG.standard_normal((2, 3))
    np.testing.assert_allclose(ga(tg.tensor(x)).data, ta(torch.tensor(x)).detach().numpy(),
                               rtol=1e-13)


def test_update_bn_matches_torch_and_restores_momentum_and_mode():
    TS, GS = torch.optim.swa_utils, optim.swa_utils
    tm, gm = _bn_pair()
    tm.eval()
    gm.eval()
    batches = [RNG.standard_normal((5, 3)) for _ in range(3)]
    TS.update_bn([(torch.tensor(b), 0) for b in batches], tm)
    GS.update_bn([(tg.tensor(b), 0) for b in batches], gm)
    _assert_state_equal(gm, tm)
    assert not gm.training and gm[1].momentum == tm[1].momentum == 0.1


@pytest.mark.parametrize("strategy,anneal_epochs", [("cos", 3), ("linear", 2), ("cos", 0)])
def test_swalr_rates_match_torch(strategy, anneal_epochs):
    tp = [torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))]
    gp = [nn.Parameter(tg.zeros(1)), nn.Parameter(tg.zeros(1))]
    topt = torch.optim.SGD([{"params": [tp[0]]}, {"params": [tp[1]], "lr": 0.3}], lr=0.5)
    gopt = optim.SGD([{"params": [gp[0]]}, {"params": [gp[1]], "lr": 0.3}], lr=0.5)
    ts = torch.optim.swa_utils.SWALR(topt, swa_lr=[0.05, 0.01], anneal_epochs=anneal_epochs,
                                     anneal_strategy=strategy)
    gs = optim.swa_utils.SWALR(gopt, swa_lr=[0.05, 0.01], anneal_epochs=anneal_epochs,
                               anneal_strategy=strategy)
    for i in range(6):
        assert gs.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-15, abs=0), i
        topt.step()
        gopt.step()
        ts.step()
        gs.step()
    assert gopt.param_groups[1]["swa_lr"] == 0.01


def test_swa_utils_errors_as_torch():
    GS = optim.swa_utils
    with pytest.raises(ValueError, match=r"Invalid decay value 1.5 provided. Please provide a "
                                         r"value in \[0,1\] range."):
        GS.get_ema_multi_avg_fn(1.5)
    with pytest.raises(ValueError, match="Only one of avg_fn and multi_avg_fn"):
        GS.AveragedModel(nn.Linear(2, 2), avg_fn=GS.get_swa_avg_fn(),
                         multi_avg_fn=GS.get_swa_multi_avg_fn())
    opt = optim.SGD([nn.Parameter(tg.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear', "
                                         "instead got exp"):
        GS.SWALR(opt, 0.01, anneal_strategy="exp")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0, got -1"):
        GS.SWALR(opt, 0.01, anneal_epochs=-1)
    assert "swa_lr" not in opt.param_groups[0] and opt.param_groups[0]["lr"] == 0.1
    with pytest.raises(TypeError, match="model must be a Module"):
        GS.AveragedModel(nn.Linear(2, 2)).update_parameters(3)


# --- distributions.MixtureSameFamily (a mixture density network crashed on the missing class) ---

TD, GD = torch.distributions, tg.distributions


def _mixtures(K=3):
    """The same mixture of diagonal Gaussians over 2-D events (batch 4) in torch and here,
    with leaf parameters for gradients."""
    arrs = [RNG.standard_normal((4, K)), RNG.standard_normal((4, K, 2)),
            RNG.uniform(0.5, 1.5, (4, K, 2))]
    tp = [torch.tensor(a, requires_grad=True) for a in arrs]
    gp = [tg.tensor(a, requires_grad=True) for a in arrs]
    tmix = TD.MixtureSameFamily(TD.Categorical(logits=tp[0]),
                                TD.Independent(TD.Normal(tp[1], tp[2]), 1))
    gmix = GD.MixtureSameFamily(GD.Categorical(logits=gp[0]),
                                GD.Independent(GD.Normal(gp[1], gp[2]), 1))
    return tmix, gmix, tp, gp


def test_mixture_same_family_log_prob_moments_and_gradients_match_torch():
    tmix, gmix, tp, gp = _mixtures()
    assert tuple(gmix.batch_shape) == tuple(tmix.batch_shape) == (4,)
    assert tuple(gmix.event_shape) == tuple(tmix.event_shape) == (2,)
    x = RNG.standard_normal((5, 4, 2))  # a sample axis in front
    u = RNG.standard_normal((5, 4))
    tl, gl = tmix.log_prob(torch.tensor(x)), gmix.log_prob(tg.tensor(x))
    np.testing.assert_allclose(gl.data, tl.detach().numpy(), rtol=1e-12)
    for name in ("mean", "variance"):
        np.testing.assert_allclose(getattr(gmix, name).data,
                                   getattr(tmix, name).detach().numpy(), rtol=1e-12)
    (tl * torch.tensor(u)).sum().backward()
    (gl * tg.tensor(u)).sum().backward()
    for a, b in zip(tp, gp):
        np.testing.assert_allclose(b.grad.data, a.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_mixture_same_family_cdf_and_gradcheck():
    w, m, s = RNG.standard_normal(3), RNG.standard_normal(3), RNG.uniform(0.5, 2.0, 3)
    x = RNG.standard_normal(6)
    tmix = TD.MixtureSameFamily(TD.Categorical(logits=torch.tensor(w)),
                                TD.Normal(torch.tensor(m), torch.tensor(s)))
    gmix = GD.MixtureSameFamily(GD.Categorical(logits=tg.tensor(w)),
                                GD.Normal(tg.tensor(m), tg.tensor(s)))
    np.testing.assert_allclose(gmix.cdf(tg.tensor(x)).data, tmix.cdf(torch.tensor(x)).numpy(),
                               rtol=1e-12)

    def lp(w_, m_, s_):
        mix = GD.MixtureSameFamily(GD.Categorical(logits=w_), GD.Normal(m_, s_))
        return mix.log_prob(tg.tensor(x)) + mix.cdf(tg.tensor(x))
    args = tuple(tg.tensor(a, requires_grad=True) for a in (w, m, s))
    assert tg.gradcheck(lp, args)
    assert tg.gradgradcheck(lp, args)


def test_mixture_same_family_broadcast_mixture_expand_and_sample():
    """A mixture without batch axes over components with one: log_prob, expand, and sample
    (whose shape torch's gather cannot build here; its moments are checked instead)."""
    K = 2
    w, loc = RNG.standard_normal(K), RNG.standard_normal((3, K, 2))
    L = np.tril(RNG.standard_normal((K, 2, 2))) * 0.3 + np.eye(2)
    tmix = TD.MixtureSameFamily(TD.Categorical(logits=torch.tensor(w)),
                                TD.MultivariateNormal(torch.tensor(loc), scale_tril=torch.tensor(L)))
    gmix = GD.MixtureSameFamily(GD.Categorical(logits=tg.tensor(w)),
                                GD.MultivariateNormal(tg.tensor(loc), scale_tril=tg.tensor(L)))
    x = RNG.standard_normal((4, 3, 2))
    np.testing.assert_allclose(gmix.log_prob(tg.tensor(x)).data,
                               tmix.log_prob(torch.tensor(x)).numpy(), rtol=1e-12)
    te, ge = tmix.expand((2, 3)), gmix.expand((2, 3))
    assert tuple(ge.batch_shape) == (2, 3)
    np.testing.assert_allclose(ge.log_prob(tg.tensor(x[:2])).data,
                               te.log_prob(torch.tensor(x[:2])).numpy(), rtol=1e-12)
    tg.manual_seed(0)
    draws = gmix.sample((20000,))
    assert tuple(draws.shape) == (20000, 3, 2) and not draws.requires_grad
    np.testing.assert_allclose(draws.data.mean(0), gmix.mean.data, atol=0.05)
    np.testing.assert_allclose(draws.data.var(0), gmix.variance.data, rtol=0.06)


def test_mixture_same_family_errors_as_torch():
    comp = GD.Normal(tg.zeros(2, 3), tg.ones(2, 3))
    with pytest.raises(ValueError, match="needs to be an  instance of "
                                         "torch.distributions.Categorical"):
        GD.MixtureSameFamily(GD.Normal(tg.zeros(3), tg.ones(3)), comp)
    with pytest.raises(ValueError, match="The Component distribution needs to be an instance"):
        GD.MixtureSameFamily(GD.Categorical(logits=tg.zeros(3)), "normal")
    with pytest.raises(ValueError, match=r"`mixture_distribution component` \(4\) does not equal "
                                         r"`component_distribution.batch_shape\[-1\]` \(3\)"):
        GD.MixtureSameFamily(GD.Categorical(logits=tg.zeros(4)), comp)
    with pytest.raises(ValueError, match=r"`mixture_distribution.batch_shape` "
                                         r"\(torch.Size\(\[5\]\)\) is not compatible"):
        GD.MixtureSameFamily(GD.Categorical(logits=tg.zeros(5, 3)), comp)


# --- F.interpolate(antialias=True) (torchvision-style resizing refused before) ---

import tinygrad_norm.functional as F  # noqa: E402


@pytest.mark.parametrize("mode,align_corners", [("bilinear", False), ("bilinear", True),
                                                 ("bicubic", False), ("bicubic", True),
                                                 ("lanczos", False)])  # torch: no corners there
@pytest.mark.parametrize("size,kw", [((9, 13), dict(size=(4, 5))), ((8, 8), dict(size=(3, 11))),
                                     ((5, 6), dict(size=(11, 13))), ((7, 7), dict(size=(7, 3))),
                                     ((10, 3), dict(size=(1, 2))),
                                     ((9, 11), dict(scale_factor=0.37)),
                                     ((9, 11), dict(scale_factor=(0.5, 1.7)))])
def test_interpolate_antialias_matches_torch(mode, align_corners, size, kw):
    if align_corners and "scale_factor" in kw:
        kw = dict(kw, recompute_scale_factor=True)
    x = RNG.standard_normal((2, 3) + size)
    tx = torch.tensor(x, requires_grad=True)
    gx = tg.tensor(x, requires_grad=True)
    tout = torch.nn.functional.interpolate(tx, mode=mode, align_corners=align_corners,
                                           antialias=True, **kw)
    gout = F.interpolate(gx, mode=mode, align_corners=align_corners, antialias=True, **kw)
    np.testing.assert_allclose(gout.data, tout.detach().numpy(), rtol=1e-12, atol=1e-13)
    u = RNG.standard_normal(tuple(tout.shape))
    (tout * torch.tensor(u)).sum().backward()
    (gout * tg.tensor(u)).sum().backward()
    np.testing.assert_allclose(gx.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-13)


def test_interpolate_antialias_float32_gradcheck_and_errors():
    x = RNG.standard_normal((1, 2, 12, 9))
    t32 = torch.nn.functional.interpolate(torch.tensor(x, dtype=torch.float32), size=(5, 4),
                                          mode="bicubic", antialias=True)
    g32 = F.interpolate(tg.tensor(x.astype(np.float32)), size=(5, 4), mode="bicubic",
                        antialias=True)
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32.data, t32.numpy(), rtol=1e-5, atol=1e-6)
    small = tg.tensor(RNG.standard_normal((1, 1, 6, 5)), requires_grad=True)
    assert tg.gradcheck(lambda a: F.interpolate(a, size=(3, 2), mode="bilinear", antialias=True),
                        (small,))
    assert tg.gradgradcheck(
        lambda a: F.interpolate(a, size=(2, 3), mode="bicubic", antialias=True) ** 2, (small,))
    msg = ("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and "
           "requires a 4-D tensor as input")
    with pytest.raises(ValueError, match=msg):
        F.interpolate(tg.tensor(x), size=(5, 4), mode="nearest", antialias=True)
    with pytest.raises(ValueError, match=msg):
        F.interpolate(tg.tensor(x[0]), size=4, mode="linear", antialias=True)
    with pytest.raises(ValueError, match="Lanczos mode requires antialias=True"):
        F.interpolate(tg.tensor(x), size=(5, 4), mode="lanczos")
    with pytest.raises(ValueError, match="Lanczos mode does not support align_corners=True"):
        F.interpolate(tg.tensor(x), size=(5, 4), mode="lanczos", align_corners=True,
                      antialias=True)
    for bad in (dict(mode="lanczos"), dict(mode="lanczos", align_corners=True, antialias=True)):
        with pytest.raises(ValueError):  # torch refuses the same calls
            torch.nn.functional.interpolate(torch.tensor(x), size=(5, 4), **bad)


def test_fusion_module_path_as_torch():
    """``from torch.nn.utils.fusion import fuse_conv_bn_eval`` is how scripts import it."""
    from tinygrad_norm.nn.utils.fusion import fuse_conv_bn_eval
    assert fuse_conv_bn_eval is nn.utils.fuse_conv_bn_eval
