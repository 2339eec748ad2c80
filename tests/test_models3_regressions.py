"""Thirty real programs ported from torch, step for step (hunt 3, branch models3).

Each program is written once against a namespace ``L`` that is either torch or tinygrad_norm
(``L.X`` the top level, ``L.nn``, ``L.F``, ``L.optim``, ``L.D`` the distributions), so the two runs
are the same code. Both are built in float64, tinygrad_norm loads torch's state dict, both see the
same NumPy data (no RNG inside the step: dropout masks and noise are drawn by NumPy and passed in),
and every step's loss, gradients, parameters, buffers and optimizer state are compared at 1e-10.
The regressions for the bugs these ports found are at the end of the file."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as GFn
from tinygrad_norm import nn as gnn, optim as goptim

torch = pytest.importorskip("torch")


class _Lib:
    """One library's names, spelled as a torch program spells them."""

    def __init__(self, is_torch):
        self.is_torch = is_torch
        if is_torch:
            import torch.distributions as D
            import torch.utils.data as data
            self.X, self.nn, self.F, self.optim, self.D, self.data = (
                torch, torch.nn, torch.nn.functional, torch.optim, D, data)
        else:
            import tinygrad_norm.distributions as D
            import tinygrad_norm.utils.data as data
            self.X, self.nn, self.F, self.optim, self.D, self.data = (
                tg, gnn, GFn, goptim, D, data)

    def T(self, a, **kw):
        return self.X.tensor(np.asarray(a), **kw)


TL, GL = _Lib(True), _Lib(False)


@pytest.fixture(autouse=True)
def _float64_defaults():
    """Both libraries make float64 by default while a program runs (as a torch user's
    ``torch.set_default_dtype(torch.float64)``), restored afterwards."""
    old_t, old_g = torch.get_default_dtype(), tg.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    tg.set_default_dtype(tg.float64)
    yield
    torch.set_default_dtype(old_t)
    tg.set_default_dtype(old_g)


def _np(x):
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    if isinstance(x, tg.Tensor):
        return x.data
    return np.asarray(x)


def _cmp(a, b, path, rtol, atol):
    """Compares two records (nested dicts, lists and tuples of tensors or numbers) leaf by leaf."""
    if isinstance(a, dict):
        assert list(a) == list(b), f"{path}: keys {list(a)} vs {list(b)}"
        for k in a:
            _cmp(a[k], b[k], f"{path}.{k}", rtol, atol)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{path}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            _cmp(x, y, f"{path}[{i}]", rtol, atol)
    elif a is None or b is None:
        assert a is None and b is None, f"{path}: {a!r} vs {b!r}"
    else:
        x, y = _np(a), _np(b)
        assert x.shape == y.shape, f"{path}: shape {x.shape} vs {y.shape}"
        np.testing.assert_allclose(y, x, rtol=rtol, atol=atol, err_msg=path)


def snap(*mods):
    """Parameters, their gradients and buffers of modules, by name."""
    out = {}
    for i, m in enumerate(mods):
        for k, p in m.named_parameters():
            out[f"{i}.{k}"] = p
            out[f"{i}.{k}.grad"] = p.grad
        for k, b in m.named_buffers():
            out[f"{i}.{k}"] = b
    return out


def opt_state(opt):
    """An optimizer's per-parameter state and its groups' numbers (lr, betas...)."""
    sd = opt.state_dict()
    groups = [{k: v for k, v in g.items()  # numbers only: torch's extra flags are bools or None
               if k != "params" and isinstance(v, (int, float)) and not isinstance(v, bool)}
              for g in sd["param_groups"]]
    state = {str(k): {n: v for n, v in st.items() if n != "step"} for k, st in sd["state"].items()}
    return {"groups": groups, "state": state}


def _copy(tm, gm):
    res = gm.load_state_dict({k: v.detach().numpy().copy() for k, v in tm.state_dict().items()})
    assert not list(res.missing_keys) and not list(res.unexpected_keys)


def port(build, train, rtol=1e-10, atol=1e-12):
    """Builds a program in both libraries, copies torch's weights into ours and runs both
    trainings in lock step, comparing every record they yield. Returns the number of records."""
    tms, gms = build(TL), build(GL)
    tms = tms if isinstance(tms, tuple) else (tms,)
    gms = gms if isinstance(gms, tuple) else (gms,)
    for tm, gm in zip(tms, gms):
        _copy(tm, gm)
    n = 0
    for rt, rg in itertools.zip_longest(train(TL, *tms), train(GL, *gms)):
        assert rt is not None and rg is not None, "one run yielded more records"
        _cmp(rt, rg, f"record {n}", rtol, atol)
        n += 1
    return n


# ----------------------------------------------------------------------------------------------
# p01 convolutional VAE: reparameterization with NumPy noise, BCE-with-logits (sum) + closed-form
# KL, checked against distributions.kl_divergence; Adam.

def _vae_build(L):
    nn = L.nn

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(),
                                     nn.Flatten())
            self.mu, self.logvar = nn.Linear(64, 3), nn.Linear(64, 3)
            self.dec = nn.Sequential(nn.Linear(3, 64), nn.Unflatten(1, (4, 4, 4)), nn.ReLU(),
                                     nn.ConvTranspose2d(4, 1, 4, stride=2, padding=1))

        def forward(self, x, eps):
            h = self.enc(x)
            mu, logvar = self.mu(h), self.logvar(h)
            z = mu + eps * L.X.exp(0.5 * logvar)
            return self.dec(z), mu, logvar

    return VAE()


def _vae_train(L, m):
    rng = np.random.default_rng(1)
    opt = L.optim.Adam(m.parameters(), lr=1e-2)
    for _ in range(4):
        x = L.T((rng.uniform(size=(5, 1, 8, 8)) > 0.5).astype(np.float64))
        logits, mu, logvar = m(x, L.T(rng.standard_normal((5, 3))))
        rec = L.F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kl = -0.5 * L.X.sum(1 + logvar - mu.pow(2) - logvar.exp())
        q = L.D.Normal(mu, (0.5 * logvar).exp())
        kl2 = L.D.kl_divergence(q, L.D.Normal(L.X.zeros_like(mu), L.X.ones_like(mu))).sum()
        loss = (rec + kl) / x.shape[0]
        opt.zero_grad()
        loss.backward()
        yield {"loss": loss, "kl": kl, "kl2": kl2, **snap(m)}
        opt.step()
    yield opt_state(opt)


def test_p01_conv_vae():
    assert port(_vae_build, _vae_train) == 5


# ----------------------------------------------------------------------------------------------
# p02 conditional GAN: label embedding concatenated to the noise and to D's input, spectral norm
# on D (the legacy hook on one layer, the parametrization on the other: power iterations in
# train mode at every D call), BCE-with-logits, two Adams with betas (0.5, 0.999).

def _cgan_build(L):
    nn = L.nn

    class G(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(3, 2)
            self.net = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 5), nn.Tanh())

        def forward(self, z, y):
            return self.net(L.X.cat([z, self.emb(y)], dim=1))

    class D(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(3, 2)
            self.l1 = nn.utils.spectral_norm(nn.Linear(7, 8))
            self.l2 = nn.utils.parametrizations.spectral_norm(nn.Linear(8, 1), n_power_iterations=2)

        def forward(self, x, y):
            h = L.F.leaky_relu(self.l1(L.X.cat([x, self.emb(y)], 1)), 0.2)
            return self.l2(h).squeeze(1)

    return G(), D()


def _cgan_train(L, g, d):
    rng = np.random.default_rng(2)
    og = L.optim.Adam(g.parameters(), lr=2e-3, betas=(0.5, 0.999))
    od = L.optim.Adam(d.parameters(), lr=2e-3, betas=(0.5, 0.999))
    bce = L.nn.BCEWithLogitsLoss()
    for _ in range(4):
        real, y = L.T(rng.standard_normal((6, 5))), L.T(rng.integers(0, 3, 6))
        z = L.T(rng.standard_normal((6, 4)))
        fake = g(z, y)
        od.zero_grad()
        ld = bce(d(real, y), L.X.ones(6)) + bce(d(fake.detach(), y), L.X.zeros(6))
        ld.backward()
        od.step()
        og.zero_grad()
        lg = bce(d(fake, y), L.X.ones(6))
        lg.backward()
        og.step()
        yield {"ld": ld, "lg": lg, **snap(g, d)}
    d.eval()
    yield {"eval": d(real, y), **opt_state(od)}


def test_p02_conditional_gan_spectral_norm():
    assert port(_cgan_build, _cgan_train) == 5


# ----------------------------------------------------------------------------------------------
# p03 DCGAN: ConvTranspose2d generator with BatchNorm2d, conv discriminator with BatchNorm2d and
# in-place LeakyReLU, weights_init through Module.apply, BCELoss on sigmoid outputs, D's real and
# fake losses backpropagated separately into the same gradients.

def _dcgan_build(L):
    nn = L.nn

    def weights_init(m):
        if type(m).__name__.startswith("Conv"):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif type(m).__name__ == "BatchNorm2d":
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.constant_(m.bias, 0)

    g = nn.Sequential(nn.ConvTranspose2d(3, 8, 4, 1, 0, bias=False), nn.BatchNorm2d(8),
                      nn.ReLU(True), nn.ConvTranspose2d(8, 1, 4, 2, 1, bias=False), nn.Tanh())
    d = nn.Sequential(nn.Conv2d(1, 8, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
                      nn.Conv2d(8, 16, 4, 2, 1, bias=False), nn.BatchNorm2d(16),
                      nn.LeakyReLU(0.2, inplace=True), nn.Conv2d(16, 1, 2, 1, 0, bias=False),
                      nn.Sigmoid())
    g.apply(weights_init)
    d.apply(weights_init)
    return g, d


def _dcgan_train(L, g, d):
    rng = np.random.default_rng(3)
    crit = L.nn.BCELoss()
    od = L.optim.Adam(d.parameters(), lr=2e-3, betas=(0.5, 0.999))
    og = L.optim.Adam(g.parameters(), lr=2e-3, betas=(0.5, 0.999))
    for _ in range(3):
        real = L.T(np.tanh(rng.standard_normal((4, 1, 8, 8))))
        noise = L.T(rng.standard_normal((4, 3, 1, 1)))
        d.zero_grad()
        err_real = crit(d(real).view(-1), L.X.full((4,), 1.0))
        err_real.backward()
        fake = g(noise)
        err_fake = crit(d(fake.detach()).view(-1), L.X.full((4,), 0.0))
        err_fake.backward()
        od.step()
        g.zero_grad()
        err_g = crit(d(fake).view(-1), L.X.full((4,), 1.0))
        err_g.backward()
        og.step()
        yield {"losses": [err_real, err_fake, err_g], **snap(g, d)}
    g.eval()
    yield {"sample": g(noise), **opt_state(og)}


def test_p03_dcgan():
    assert port(_dcgan_build, _dcgan_train) == 4


# ----------------------------------------------------------------------------------------------
# p04 message-passing GNN: messages gathered by source index, aggregated into destinations by
# index_add (sum) and scatter_reduce (amax and mean, include_self=False), graph readout by
# index_add over the batch vector divided by bincount; CE over graphs; Adam with weight decay.

def _gnn_graph(rng, n=9, e=20):
    src, dst = rng.integers(0, n, e), rng.integers(0, n, e)
    batch = np.array([0] * 4 + [1] * 3 + [2] * 2)
    return src, dst, batch


def _gnn_build(L):
    nn = L.nn

    class MP(nn.Module):
        def __init__(self):
            super().__init__()
            self.msg = nn.Linear(3, 4)
            self.upd = nn.Linear(3 + 12, 5)
            self.head = nn.Linear(5, 2)

        def forward(self, x, src, dst, batch):
            m = self.msg(x[src])
            idx = dst.unsqueeze(1).expand(-1, 4)
            s = L.X.zeros(x.shape[0], 4).index_add(0, dst, m)
            mx = L.X.zeros(x.shape[0], 4).scatter_reduce(0, idx, m, "amax", include_self=False)
            mean = L.X.zeros(x.shape[0], 4).scatter_reduce(0, idx, m, "mean", include_self=False)
            h = L.F.relu(self.upd(L.X.cat([x, s, mx, mean], dim=-1)))
            pooled = L.X.zeros(3, 5).index_add_(0, batch, h)
            pooled = pooled / L.X.bincount(batch).unsqueeze(1)
            return self.head(pooled)

    return MP()


def _gnn_train(L, m):
    rng = np.random.default_rng(4)
    src, dst, batch = (L.T(a) for a in _gnn_graph(rng))
    opt = L.optim.Adam(m.parameters(), lr=1e-2, weight_decay=1e-3)
    for _ in range(4):
        x, y = L.T(rng.standard_normal((9, 3))), L.T(rng.integers(0, 2, 3))
        out = m(x, src, dst, batch)
        loss = L.F.cross_entropy(out, y)
        opt.zero_grad()
        loss.backward()
        yield {"out": out, "loss": loss, **snap(m)}
        opt.step()
    yield opt_state(opt)


def test_p04_gnn_message_passing():
    assert port(_gnn_build, _gnn_train) == 5


# ----------------------------------------------------------------------------------------------
# p05 graph attention (GAT): self loops, two heads, edge scores by LeakyReLU(0.2), softmax over
# each node's incoming edges (scatter_reduce amax for the shift, index_add for the sum), ELU,
# node classification on a boolean train mask; Adam.

def _gat_build(L):
    nn = L.nn

    class GAT(nn.Module):
        def __init__(self, heads=2, fin=3, fout=4, classes=3):
            super().__init__()
            self.h, self.f = heads, fout
            self.W = nn.Linear(fin, heads * fout, bias=False)
            self.a_src = nn.Parameter(L.X.tensor(np.linspace(-1, 1, heads * fout).reshape(heads, fout)))
            self.a_dst = nn.Parameter(L.X.tensor(np.linspace(1, -0.5, heads * fout).reshape(heads, fout)))
            self.out = nn.Linear(fout, classes)

        def forward(self, x, src, dst):
            n = x.shape[0]
            wh = self.W(x).view(n, self.h, self.f)
            e = L.F.leaky_relu((wh[src] * self.a_src).sum(-1) + (wh[dst] * self.a_dst).sum(-1), 0.2)
            emax = L.X.full((n, self.h), -math.inf).scatter_reduce(
                0, dst.unsqueeze(1).expand(-1, self.h), e, "amax", include_self=True)
            w = (e - emax[dst]).exp()
            den = L.X.zeros(n, self.h).index_add(0, dst, w)
            alpha = w / den[dst]
            agg = L.X.zeros(n, self.h, self.f).index_add(0, dst, alpha.unsqueeze(-1) * wh[src])
            return self.out(L.F.elu(agg).mean(1)), alpha

    return GAT()


def _gat_train(L, m):
    rng = np.random.default_rng(5)
    src, dst, _ = _gnn_graph(rng, n=7, e=12)
    loops = np.arange(7)
    src, dst = L.T(np.concatenate([src, loops])), L.T(np.concatenate([dst, loops]))
    mask = L.T(np.array([1, 1, 0, 1, 0, 1, 1], bool))
    opt = L.optim.Adam(m.parameters(), lr=5e-3)
    for _ in range(4):
        x, y = L.T(rng.standard_normal((7, 3))), L.T(rng.integers(0, 3, 7))
        out, alpha = m(x, src, dst)
        loss = L.F.cross_entropy(out[mask], y[mask])
        opt.zero_grad()
        loss.backward()
        yield {"alpha": alpha, "loss": loss, **snap(m)}
        opt.step()


def test_p05_graph_attention():
    assert port(_gat_build, _gat_train) == 4


# ----------------------------------------------------------------------------------------------
# p06 TCN (Bai et al.'s code): dilated Conv1d padded both sides then chomped to be causal,
# legacy weight_norm on every conv, residual 1x1 downsample, last-step regression, Adam with
# clip_grad_norm_.

def _tcn_build(L):
    nn = L.nn
    wn = nn.utils.weight_norm

    class Chomp1d(nn.Module):
        def __init__(self, chomp):
            super().__init__()
            self.chomp = chomp

        def forward(self, x):
            return x[:, :, :-self.chomp].contiguous()

    class Block(nn.Module):
        def __init__(self, cin, cout, k, dil):
            super().__init__()
            pad = (k - 1) * dil
            self.net = nn.Sequential(
                wn(nn.Conv1d(cin, cout, k, padding=pad, dilation=dil)), Chomp1d(pad), nn.ReLU(),
                wn(nn.Conv1d(cout, cout, k, padding=pad, dilation=dil)), Chomp1d(pad), nn.ReLU())
            self.down = nn.Conv1d(cin, cout, 1) if cin != cout else None

        def forward(self, x):
            res = x if self.down is None else self.down(x)
            return L.F.relu(self.net(x) + res)

    class TCN(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.Sequential(Block(2, 4, 3, 1), Block(4, 4, 3, 2), Block(4, 4, 3, 4))
            self.fc = nn.Linear(4, 1)

        def forward(self, x):
            return self.fc(self.blocks(x)[:, :, -1])

    return TCN()


def _tcn_train(L, m):
    rng = np.random.default_rng(6)
    opt = L.optim.Adam(m.parameters(), lr=4e-3)
    for _ in range(4):
        x, y = L.T(rng.standard_normal((3, 2, 12))), L.T(rng.standard_normal((3, 1)))
        loss = L.F.mse_loss(m(x), y)
        opt.zero_grad()
        loss.backward()
        norm = L.nn.utils.clip_grad_norm_(m.parameters(), 0.5)
        yield {"loss": loss, "norm": norm, **snap(m)}
        opt.step()
    # causality: an output never reads a later input
    x = L.T(rng.standard_normal((1, 2, 12)), requires_grad=True)
    m.blocks(x)[0, :, 5].sum().backward()
    yield {"future": x.grad[..., 6:], "past": x.grad[..., :6]}


@pytest.mark.filterwarnings("ignore:.*weight_norm.*:FutureWarning")  # torch's deprecation
def test_p06_tcn_weight_norm():
    assert port(_tcn_build, _tcn_train) == 5


# ----------------------------------------------------------------------------------------------
# p07 ResNet-ish: stem conv + MaxPool2d(3, 2, 1), basic blocks (BatchNorm in one, GroupNorm in
# the other) with a strided 1x1 shortcut, AdaptiveAvgPool2d; AdamW (decay off for norms and
# biases) and CosineAnnealingWarmRestarts stepped by fractional epochs; eval at the end.

def _resnet_build(L):
    nn = L.nn

    def norm(kind, c):
        return nn.BatchNorm2d(c) if kind == "bn" else nn.GroupNorm(2, c)

    class Basic(nn.Module):
        def __init__(self, cin, cout, stride, kind):
            super().__init__()
            self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.n1 = norm(kind, cout)
            self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.n2 = norm(kind, cout)
            self.short = nn.Sequential()
            if stride != 1 or cin != cout:
                self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                           norm(kind, cout))

        def forward(self, x):
            out = L.F.relu(self.n1(self.c1(x)))
            return L.F.relu(self.n2(self.c2(out)) + self.short(x))

    return nn.Sequential(nn.Conv2d(3, 4, 3, 1, 1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(3, 2, 1), Basic(4, 4, 1, "bn"), Basic(4, 6, 2, "gn"),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3))


def _resnet_train(L, m):
    rng = np.random.default_rng(7)
    decay = [p for n, p in m.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in m.named_parameters() if p.ndim <= 1]
    opt = L.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                         {"params": no_decay, "weight_decay": 0.0}], lr=3e-3)
    sched = L.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=1, T_mult=2, eta_min=1e-4)
    iters = 3
    for epoch in range(2):
        for i in range(iters):
            x, y = L.T(rng.standard_normal((4, 3, 8, 8))), L.T(rng.integers(0, 3, 4))
            loss = L.F.cross_entropy(m(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step(epoch + i / iters)
            yield {"loss": loss, "lr": sched.get_last_lr(), **snap(m)}
    m.eval()
    yield {"eval": m(x), **opt_state(opt)}


def test_p07_resnet_adamw_warm_restarts():
    assert port(_resnet_build, _resnet_train) == 7


# ----------------------------------------------------------------------------------------------
# p08 Deep Sets: padded sets with a boolean mask, phi per element, masked mean and masked max
# (masked_fill -inf, amax) pooling, rho on the pooled code; SGD nesterov momentum.

def _deepsets_build(L):
    nn = L.nn

    class DeepSets(nn.Module):
        def __init__(self):
            super().__init__()
            self.phi = nn.Sequential(nn.Linear(2, 6), nn.ELU(), nn.Linear(6, 6))
            self.rho = nn.Sequential(nn.Linear(12, 6), nn.Softplus(), nn.Linear(6, 1))

        def forward(self, x, mask):
            h = self.phi(x)
            m = mask.unsqueeze(-1)
            mean = (h * m).sum(1) / m.sum(1)
            mx = h.masked_fill(~m, float("-inf")).amax(dim=1)
            return self.rho(L.X.cat([mean, mx], -1)).squeeze(-1)

    return DeepSets()


def _deepsets_train(L, m):
    rng = np.random.default_rng(8)
    opt = L.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    for _ in range(4):
        lens = rng.integers(1, 6, 4)
        x = rng.standard_normal((4, 5, 2))
        mask = np.arange(5)[None] < lens[:, None]
        y = (x[..., 0] * mask).sum(1)
        out = m(L.T(x), L.T(mask))
        loss = L.F.huber_loss(out, L.T(y), delta=0.5)
        opt.zero_grad()
        loss.backward()
        yield {"out": out, "loss": loss, **snap(m)}
        opt.step()
    perm = rng.permutation(5)
    yield {"invariant": m(L.T(x[:, perm]), L.T(mask[:, perm])) - out}


def test_p08_deep_sets():
    assert port(_deepsets_build, _deepsets_train) == 5


# ==============================================================================================
# Regressions for what the ports found.

@pytest.mark.parametrize("make,shape", [
    (lambda L: L.nn.Conv2d(2, 4, 3, bias=False), (2, 2, 6, 6)),       # DCGAN's D
    (lambda L: L.nn.Conv2d(2, 4, 3, groups=2, bias=False), (2, 2, 6, 6)),
    (lambda L: L.nn.Conv2d(2, 2, 3, groups=2, bias=False), (2, 6, 6)),  # depthwise, unbatched
    (lambda L: L.nn.Conv1d(2, 3, 3), (2, 2, 8)),                        # any Conv1d
    (lambda L: L.nn.Conv1d(2, 3, 3, bias=False), (2, 8)),
    (lambda L: L.nn.Conv1d(2, 2, 3, groups=2), (2, 2, 8)),
    (lambda L: L.nn.Conv2d(2, 3, 3), (2, 6, 6)),
])
def test_inplace_activation_after_a_convolution_as_torch(make, shape):
    """A bias-free Conv2d's output (and every Conv1d's) was a reshape view of the GEMM's result,
    so ``LeakyReLU(inplace=True)`` right after it (the DCGAN tutorial's discriminator) raised
    "a view of another tensor ... in-place". Values and gradients now equal torch's."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    u = None
    for L in (TL, GL):
        m = make(L)
        if L is TL:
            sd = {k: v.detach().numpy().copy() for k, v in m.state_dict().items()}
        else:
            m.load_state_dict(sd)
        xi = L.T(x, requires_grad=True)
        y = L.nn.LeakyReLU(0.2, inplace=True)(m(xi))
        u = rng.standard_normal(tuple(y.shape)) if u is None else u
        (y * L.T(u)).sum().backward()
        if L is TL:
            ref = (y.detach().numpy(), xi.grad.numpy(), m.weight.grad.numpy())
        else:
            for a, b in zip(ref, (y.data, xi.grad.data, m.weight.grad.data)):
                np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-13)
