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

torch = pytest.importorskip("torch")
torch.set_num_threads(1)  # as conftest's fixture: a thread pool on a busy 2-core box took 8 s a run


from ported_programs import (GL, TL, _cmp, _copy, _float64_defaults, _Lib, _np,  # noqa: F401
                             opt_state, port, snap)


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



# ----------------------------------------------------------------------------------------------
# p09 capsule network: primary capsules from a conv, squash, prediction vectors through a
# per-(in, out) weight by matmul, three routing iterations (softmax over output capsules,
# agreement added to the logits, u_hat detached in all but the last as in the common
# implementations), margin loss on capsule lengths; Adam.

def _caps_build(L):
    nn = L.nn

    def squash(s, dim=-1):
        n2 = (s ** 2).sum(dim, keepdim=True)
        return n2 / (1 + n2) * s / L.X.sqrt(n2 + 1e-9)

    class Caps(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 8, 3, stride=2)  # (N, 8, 3, 3) -> 18 capsules of 4
            self.W = nn.Parameter(L.X.tensor(np.random.default_rng(0).normal(size=(18, 3, 5, 4)) * 0.3))

        def forward(self, x, iters=3):
            u = squash(self.conv(x).view(x.shape[0], 18, 4))
            u_hat = (self.W[None] @ u[:, :, None, :, None]).squeeze(-1)  # (N, 18, 3, 5)
            b = L.X.zeros(x.shape[0], 18, 3)
            for i in range(iters):
                c = L.F.softmax(b, dim=2)
                uh = u_hat if i == iters - 1 else u_hat.detach()
                v = squash((c.unsqueeze(-1) * uh).sum(1))  # (N, 3, 5)
                if i < iters - 1:
                    b = b + (uh * v.unsqueeze(1)).sum(-1)
            return v

    def margin(v, y):
        ln = v.norm(dim=-1)
        t = L.F.one_hot(y, 3).to(ln.dtype)
        loss = t * L.F.relu(0.9 - ln) ** 2 + 0.5 * (1 - t) * L.F.relu(ln - 0.1) ** 2
        return loss.sum(1).mean()

    m = Caps()
    m.margin = margin
    return m


def _caps_train(L, m):
    rng = np.random.default_rng(9)
    opt = L.optim.Adam(m.parameters(), lr=1e-2)
    for _ in range(4):
        x, y = L.T(rng.standard_normal((3, 1, 7, 7))), L.T(rng.integers(0, 3, 3))
        v = m(x)
        loss = m.margin(v, y)
        opt.zero_grad()
        loss.backward()
        yield {"v": v, "loss": loss, **snap(m)}
        opt.step()


def test_p09_capsule_routing():
    assert port(_caps_build, _caps_train) == 4


# ----------------------------------------------------------------------------------------------
# p10 NeRF-style: positional encoding (sin/cos of 2^k pi x), an MLP with a skip concat, density
# by softplus and colour by sigmoid, volume rendering along rays (deltas by diff, exclusive
# transmittance by cumprod over cat([ones, 1 - alpha + 1e-10])), photometric MSE; Adam with
# ExponentialLR.

def _nerf_build(L):
    nn = L.nn

    class NeRF(nn.Module):
        def __init__(self, freqs=3, width=16):
            super().__init__()
            self.register_buffer("bands", 2.0 ** L.X.arange(freqs) * math.pi)
            d = 3 + 3 * 2 * freqs
            self.l1, self.l2 = nn.Linear(d, width), nn.Linear(width + d, width)
            self.sigma, self.rgb = nn.Linear(width, 1), nn.Linear(width, 3)

        def encode(self, x):
            xb = (x[..., None] * self.bands).flatten(-2)
            return L.X.cat([x, L.X.sin(xb), L.X.cos(xb)], dim=-1)

        def forward(self, pts):
            e = self.encode(pts)
            h = L.F.relu(self.l1(e))
            h = L.F.relu(self.l2(L.X.cat([h, e], -1)))
            return L.F.softplus(self.sigma(h)).squeeze(-1), L.X.sigmoid(self.rgb(h))

    return NeRF()


def _render(L, m, origins, dirs, t_vals):
    pts = origins[:, None, :] + dirs[:, None, :] * t_vals[..., None]  # (R, S, 3)
    sigma, rgb = m(pts)
    deltas = L.X.cat([t_vals.diff(dim=-1), L.X.full_like(t_vals[:, :1], 1e10)], -1)
    alpha = 1 - L.X.exp(-sigma * deltas)
    trans = L.X.cumprod(L.X.cat([L.X.ones_like(alpha[:, :1]), 1 - alpha + 1e-10], -1), -1)[:, :-1]
    w = alpha * trans
    return (w[..., None] * rgb).sum(-2), (w * t_vals).sum(-1)


def _nerf_train(L, m):
    rng = np.random.default_rng(10)
    opt = L.optim.Adam(m.parameters(), lr=5e-3)
    sched = L.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
    for _ in range(4):
        o, d = L.T(rng.standard_normal((4, 3))), L.T(rng.standard_normal((4, 3)))
        d = d / d.norm(dim=-1, keepdim=True)
        t_vals = L.T(np.sort(rng.uniform(0.1, 2.0, (4, 6)), axis=-1))
        color, depth = _render(L, m, o, d, t_vals)
        loss = L.F.mse_loss(color, L.T(rng.uniform(size=(4, 3))))
        opt.zero_grad()
        loss.backward()
        yield {"color": color, "depth": depth, "loss": loss, **snap(m)}
        opt.step()
        sched.step()


def test_p10_nerf_positional_encoding_volume_rendering():
    assert port(_nerf_build, _nerf_train) == 4


# ----------------------------------------------------------------------------------------------
# p11 toy diffusion (DDPM epsilon matching): linear betas, alphas_cumprod by cumprod, the
# schedule read at each sample's timestep by gather, sinusoidal timestep embedding, noise and
# timesteps from NumPy, an EMA copy by copy.deepcopy updated with lerp_ under no_grad; AdamW.

def _diff_build(L):
    nn = L.nn

    class Denoiser(nn.Module):
        def __init__(self, d=2, temb=8):
            super().__init__()
            self.temb = temb
            self.t_mlp = nn.Sequential(nn.Linear(temb, 16), nn.SiLU(), nn.Linear(16, 16))
            self.inp = nn.Linear(d, 16)
            self.out = nn.Sequential(nn.SiLU(), nn.Linear(16, 16), nn.SiLU(), nn.Linear(16, d))

        def embed(self, t):
            half = self.temb // 2
            freqs = L.X.exp(-math.log(10000) * L.X.arange(half) / half)
            args = t[:, None].to(freqs.dtype) * freqs[None]
            return L.X.cat([L.X.cos(args), L.X.sin(args)], dim=-1)

        def forward(self, x, t):
            return self.out(self.inp(x) + self.t_mlp(self.embed(t)))

    return Denoiser()


def _diff_train(L, m):
    import copy
    rng = np.random.default_rng(11)
    T = 20
    betas = L.X.linspace(1e-4, 0.2, T)
    abar = L.X.cumprod(1 - betas, dim=0)
    ema = copy.deepcopy(m)
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = L.optim.AdamW(m.parameters(), lr=2e-3, weight_decay=0.01)
    for _ in range(4):
        x0, eps = L.T(rng.standard_normal((6, 2))), L.T(rng.standard_normal((6, 2)))
        t = L.T(rng.integers(0, T, 6))
        a = abar.gather(-1, t).reshape(-1, 1)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
        loss = L.F.mse_loss(m(xt, t), eps)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with L.X.no_grad():
            for pe, pm in zip(ema.parameters(), m.parameters()):
                pe.lerp_(pm, 0.1)
        yield {"loss": loss, **snap(m, ema)}
    # one reverse (sampling) step with the EMA model, no grad
    with L.X.no_grad():
        tt = L.X.full((6,), T - 1, dtype=L.X.int64)
        mean = (xt - betas[-1] / (1 - abar[-1]).sqrt() * ema(xt, tt)) / (1 - betas[-1]).sqrt()
    yield {"mean": mean}


def test_p11_toy_diffusion_with_ema():
    assert port(_diff_build, _diff_train) == 5


# ----------------------------------------------------------------------------------------------
# p12 CLIP-style contrastive: two towers, F.normalize, a learnable logit scale (exp of a log,
# clamped to 100 under no_grad after each step as CLIP does), symmetric cross entropy over the
# similarity matrix; Adam with a LinearLR warm-up.

def _clip_build(L):
    nn = L.nn

    class CLIP(nn.Module):
        def __init__(self):
            super().__init__()
            self.img = nn.Sequential(nn.Linear(5, 8), nn.GELU(), nn.Linear(8, 4))
            self.txt = nn.Sequential(nn.Embedding(10, 6), nn.Flatten(), nn.Linear(12, 4))
            self.logit_scale = nn.Parameter(L.X.tensor(math.log(1 / 0.07)))

        def forward(self, im, tok):
            a = L.F.normalize(self.img(im), dim=-1)
            b = L.F.normalize(self.txt(tok), dim=-1)
            logits = self.logit_scale.exp() * a @ b.t()
            return logits, logits.t()

    return CLIP()


def _clip_train(L, m):
    rng = np.random.default_rng(12)
    opt = L.optim.Adam(m.parameters(), lr=0.3)
    sched = L.optim.lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=3)
    for _ in range(4):
        im, tok = L.T(rng.standard_normal((5, 5))), L.T(rng.integers(0, 10, (5, 2)))
        li, lt = m(im, tok)
        labels = L.X.arange(5, dtype=L.X.int64)
        loss = (L.F.cross_entropy(li, labels) + L.F.cross_entropy(lt, labels)) / 2
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        with L.X.no_grad():
            m.logit_scale.clamp_(0, math.log(100))
        yield {"logits": li, "loss": loss, "lr": sched.get_last_lr(), **snap(m)}


def test_p12_clip_contrastive():
    assert port(_clip_build, _clip_train) == 4


# ----------------------------------------------------------------------------------------------
# p13 classification tricks: mixup with a fixed lambda (two CE terms), label smoothing with
# class weights, a softmax focal loss (gamma 2, per-class alpha by gather), a sigmoid focal loss
# (torchvision's formula) on a multi-label head; SGD with MultiStepLR.

def _tricks_build(L):
    nn = L.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(6, 10), nn.BatchNorm1d(10), nn.ReLU())
            self.cls, self.tags = nn.Linear(10, 4), nn.Linear(10, 3)

        def forward(self, x):
            h = self.body(x)
            return self.cls(h), self.tags(h)

    return Net()


def _focal(L, logits, y, alpha, gamma=2.0):
    logp = L.F.log_softmax(logits, dim=-1).gather(1, y[:, None]).squeeze(1)
    p = logp.exp()
    return (-alpha.gather(0, y) * (1 - p) ** gamma * logp).mean()


def _sigmoid_focal(L, x, t, alpha=0.25, gamma=2.0):
    p = L.X.sigmoid(x)
    ce = L.F.binary_cross_entropy_with_logits(x, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * ((1 - p_t) ** gamma)
    return (alpha * t + (1 - alpha) * (1 - t)) * loss


def _tricks_train(L, m):
    rng = np.random.default_rng(13)
    opt = L.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    sched = L.optim.lr_scheduler.MultiStepLR(opt, milestones=[1, 3], gamma=0.5)
    w = L.T([1.0, 2.0, 0.5, 1.0])
    for _ in range(4):
        x, y = rng.standard_normal((8, 6)), rng.integers(0, 4, 8)
        perm, lam = rng.permutation(8), 0.7
        xm = L.T(lam * x + (1 - lam) * x[perm])
        y, yb = L.T(y), L.T(y[perm])
        logits, tags = m(xm)
        mix = lam * L.F.cross_entropy(logits, y, weight=w, label_smoothing=0.1) + \
            (1 - lam) * L.F.cross_entropy(logits, yb, weight=w, label_smoothing=0.1)
        focal = _focal(L, logits, y, L.T([0.25, 0.5, 0.75, 1.0]))
        sfocal = _sigmoid_focal(L, tags, L.T(rng.integers(0, 2, (8, 3)).astype(float))).mean()
        loss = mix + focal + sfocal
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        yield {"parts": [mix, focal, sfocal], "lr": sched.get_last_lr(), **snap(m)}


def test_p13_mixup_label_smoothing_focal():
    assert port(_tricks_build, _tricks_train) == 4


# ----------------------------------------------------------------------------------------------
# p14 CutMix: a box cut from a permuted batch pasted by slice assignment into a clone, lambda
# corrected by the box area, two CE terms; a small CNN with Dropout2d in eval and channels_last-
# free permutes; RMSprop.

def _cutmix_build(L):
    nn = L.nn
    return nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
                         nn.Conv2d(6, 6, 3, padding=1), nn.Hardswish(), nn.AdaptiveMaxPool2d(1),
                         nn.Flatten(), nn.Linear(6, 5))


def _cutmix_train(L, m):
    rng = np.random.default_rng(14)
    opt = L.optim.RMSprop(m.parameters(), lr=1e-2, alpha=0.9, momentum=0.5)
    for _ in range(4):
        x, y = L.T(rng.standard_normal((4, 3, 8, 8))), L.T(rng.integers(0, 5, 4))
        perm = L.T(rng.permutation(4))
        y0, x0, h, w = (int(v) for v in rng.integers(0, 4, 4))
        h, w = h + 2, w + 3
        xc = x.clone()
        xc[:, :, y0:y0 + h, x0:x0 + w] = x[perm][:, :, y0:y0 + h, x0:x0 + w]
        lam = 1 - (min(h, 8 - y0) * min(w, 8 - x0)) / 64
        out = m(xc)
        loss = lam * L.F.cross_entropy(out, y) + (1 - lam) * L.F.cross_entropy(out, y[perm])
        opt.zero_grad()
        loss.backward()
        opt.step()
        yield {"x": xc, "loss": loss, **snap(m)}
    yield opt_state(opt)


def test_p14_cutmix():
    assert port(_cutmix_build, _cutmix_train) == 5


# ----------------------------------------------------------------------------------------------
# p15 BiLSTM-CRF: emission scores from a bidirectional LSTM, the CRF's log partition by the
# forward algorithm (logsumexp over the previous tag, masked by sequence lengths with where),
# the gold path score by gather over transitions, NLL; Viterbi decoding (max/argmax, backtrack)
# under no_grad; Adam.

def _crf_build(L):
    nn = L.nn

    class BiLSTMCRF(nn.Module):
        def __init__(self, vocab=12, tags=4):
            super().__init__()
            self.emb = nn.Embedding(vocab, 5)
            self.lstm = nn.LSTM(5, 3, batch_first=True, bidirectional=True)
            self.proj = nn.Linear(6, tags)
            self.trans = nn.Parameter(L.X.tensor(np.random.default_rng(1).normal(size=(tags, tags))))
            self.start = nn.Parameter(L.X.zeros(tags))

        def emissions(self, tok):
            return self.proj(self.lstm(self.emb(tok))[0])  # (B, T, K)

        def log_z(self, em, mask):
            alpha = self.start + em[:, 0]
            for t in range(1, em.shape[1]):
                nxt = L.X.logsumexp(alpha.unsqueeze(2) + self.trans + em[:, t].unsqueeze(1), dim=1)
                alpha = L.X.where(mask[:, t].unsqueeze(1), nxt, alpha)
            return L.X.logsumexp(alpha, dim=1)

        def score(self, em, tags, mask):
            s = self.start[tags[:, 0]] + em[:, 0].gather(1, tags[:, :1]).squeeze(1)
            for t in range(1, em.shape[1]):
                step = self.trans[tags[:, t - 1], tags[:, t]] + \
                    em[:, t].gather(1, tags[:, t:t + 1]).squeeze(1)
                s = s + step * mask[:, t]
            return s

        def viterbi(self, em, mask):
            best, back = self.start + em[:, 0], []
            for t in range(1, em.shape[1]):
                cand = best.unsqueeze(2) + self.trans
                val, idx = cand.max(dim=1)
                back.append(idx)
                best = L.X.where(mask[:, t].unsqueeze(1), val + em[:, t], best)
            score, last = best.max(dim=1)
            return score, last, L.X.stack(back, 1)

    return BiLSTMCRF()


def _crf_train(L, m):
    rng = np.random.default_rng(15)
    opt = L.optim.Adam(m.parameters(), lr=1e-2)
    lens = np.array([5, 3, 4])
    mask = L.T(np.arange(5)[None] < lens[:, None])
    for _ in range(4):
        tok, tags = L.T(rng.integers(0, 12, (3, 5))), L.T(rng.integers(0, 4, (3, 5)))
        em = m.emissions(tok)
        nll = (m.log_z(em, mask) - m.score(em, tags, mask)).mean()
        opt.zero_grad()
        nll.backward()
        yield {"nll": nll, **snap(m)}
        opt.step()
    with L.X.no_grad():
        yield dict(zip(("score", "last", "back"), m.viterbi(m.emissions(tok), mask)))


def test_p15_bilstm_crf():
    assert port(_crf_build, _crf_train) == 5


# ----------------------------------------------------------------------------------------------
# p16 GRU decoder: teacher-forced training (GRUCell loop, CE with ignore_index on padding),
# then beam search under no_grad (log_softmax scores, topk over beam x vocab, index_select of
# the hidden states, length-normalised finished hypotheses); SGD with clip_grad_value_.

def _beam_build(L):
    nn = L.nn

    class Dec(nn.Module):
        def __init__(self, vocab=7, hid=6):
            super().__init__()
            self.emb = nn.Embedding(vocab, 4, padding_idx=0)
            self.cell = nn.GRUCell(4, hid)
            self.out = nn.Linear(hid, vocab)

        def step(self, tok, h):
            h = self.cell(self.emb(tok), h)
            return L.F.log_softmax(self.out(h), -1), h

    return Dec()


def _beam_search(L, m, h0, beam=3, steps=4, bos=1, eos=2):
    tokens = L.X.full((1,), bos, dtype=L.X.int64)
    h, scores, hyps, done = h0, L.X.zeros(1), [[bos]], []
    for _ in range(steps):
        logp, h = m.step(tokens, h)
        cand = (scores[:, None] + logp).view(-1)
        top, idx = cand.topk(beam)
        src, tok = idx // logp.shape[1], idx % logp.shape[1]
        h = h.index_select(0, src)
        hyps = [hyps[int(s)] + [int(t)] for s, t in zip(src, tok)]
        keep = [i for i, hy in enumerate(hyps) if hy[-1] != eos]
        done += [(float(top[i]) / len(hyps[i]), hyps[i]) for i in range(len(hyps)) if i not in keep]
        if not keep:
            break
        keep_t = L.X.tensor(keep)
        h, scores, tokens = h[keep_t], top[keep_t], tok[keep_t]
        hyps = [hyps[i] for i in keep]
    done += [(float(s) / len(hy), hy) for s, hy in zip(scores, hyps)]
    return sorted(done, key=lambda d: -d[0])


def _beam_train(L, m):
    rng = np.random.default_rng(16)
    opt = L.optim.SGD(m.parameters(), lr=0.5)
    for _ in range(3):
        seq = rng.integers(3, 7, (4, 5))
        seq[1, 3:] = 0
        seq[3, 4:] = 0
        seq = L.T(seq)
        h = L.X.zeros(4, 6)
        loss = 0
        for t in range(4):
            logp, h = m.step(seq[:, t], h)
            loss = loss + L.F.nll_loss(logp, seq[:, t + 1], ignore_index=0)
        opt.zero_grad()
        loss.backward()
        L.nn.utils.clip_grad_value_(m.parameters(), 0.1)
        yield {"loss": loss, **snap(m)}
        opt.step()
    with L.X.no_grad():
        res = _beam_search(L, m, L.T(rng.standard_normal((1, 6))))
    yield {"scores": [r[0] for r in res], "hyps": [np.array(r[1]) for r in res]}


def test_p16_beam_search_decoder():
    assert port(_beam_build, _beam_train) == 4



# ----------------------------------------------------------------------------------------------
# p17 pointer network (sorting numbers): LSTM encoder, LSTMCell decoder fed the previously
# pointed input, additive attention over the encoder states as the output distribution, already
# chosen positions masked with masked_fill(-inf), teacher forcing with NLL of gathered
# log-probabilities; Adam with weight decay and amsgrad.

def _ptr_build(L):
    nn = L.nn

    class Ptr(nn.Module):
        def __init__(self, hid=6):
            super().__init__()
            self.enc = nn.LSTM(1, hid, batch_first=True)
            self.dec = nn.LSTMCell(1, hid)
            self.W1, self.W2 = nn.Linear(hid, hid, bias=False), nn.Linear(hid, hid, bias=False)
            self.v = nn.Linear(hid, 1, bias=False)
            self.start = nn.Parameter(L.X.zeros(1))

        def forward(self, x, order):
            enc, (h, c) = self.enc(x.unsqueeze(-1))
            h, c = h[0], c[0]
            n, t = x.shape
            inp = self.start.expand(n, 1)
            mask = L.X.zeros(n, t, dtype=L.X.bool)
            logps = []
            for i in range(t):
                h, c = self.dec(inp, (h, c))
                u = self.v(L.X.tanh(self.W1(enc) + self.W2(h).unsqueeze(1))).squeeze(-1)
                logp = L.F.log_softmax(u.masked_fill(mask, float("-inf")), dim=-1)
                logps.append(logp)
                idx = order[:, i]
                mask = mask.scatter(1, idx.unsqueeze(1), True)
                inp = x.gather(1, idx.unsqueeze(1))
            return L.X.stack(logps, 1)

    return Ptr()


def _ptr_train(L, m):
    rng = np.random.default_rng(17)
    opt = L.optim.Adam(m.parameters(), lr=1e-2, weight_decay=1e-4, amsgrad=True)
    for _ in range(4):
        x = rng.uniform(size=(3, 5))
        order = L.T(np.argsort(x, axis=1))
        logp = m(L.T(x), order)
        picked = logp.gather(2, order.unsqueeze(-1)).squeeze(-1)
        loss = -picked.mean()
        opt.zero_grad()
        loss.backward()
        yield {"picked": picked, "loss": loss, **snap(m)}
        opt.step()
    yield opt_state(opt)


def test_p17_pointer_network():
    assert port(_ptr_build, _ptr_train) == 5


# ----------------------------------------------------------------------------------------------
# p18 neural ODE: dynamics f(t, y) an MLP with the time concatenated, a fixed-step RK4 solver
# whose states are stacked into a trajectory, MSE against a spiral's points; Adam and a
# gradient of the final state with respect to the initial one by autograd.grad.

def _node_build(L):
    nn = L.nn

    class ODEFunc(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(3, 12), nn.Tanh(), nn.Linear(12, 2))

        def forward(self, t, y):
            return self.net(L.X.cat([y, t.expand(y.shape[0], 1)], dim=-1))

    return ODEFunc()


def _rk4(L, f, y0, ts):
    ys, y = [y0], y0
    for t0, t1 in zip(ts[:-1], ts[1:]):
        h = t1 - t0
        k1 = f(t0, y)
        k2 = f(t0 + h / 2, y + h / 2 * k1)
        k3 = f(t0 + h / 2, y + h / 2 * k2)
        k4 = f(t1, y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        ys.append(y)
    return L.X.stack(ys)


def _node_train(L, f):
    ts = L.X.linspace(0, 1.5, 7)
    target = L.X.stack([L.X.cos(3 * ts) * L.X.exp(-ts), L.X.sin(3 * ts) * L.X.exp(-ts)], -1)
    opt = L.optim.Adam(f.parameters(), lr=1e-2)
    for _ in range(3):
        y0 = L.T([[1.0, 0.0], [0.9, 0.1]], requires_grad=True)
        traj = _rk4(L, f, y0, ts)  # (T, 2, 2)
        loss = ((traj - target[:, None]) ** 2).mean()
        opt.zero_grad()
        (gy0,) = L.X.autograd.grad(traj[-1].sum(), y0, retain_graph=True)
        loss.backward()
        yield {"traj": traj, "loss": loss, "dyT_dy0": gy0, **snap(f)}
        opt.step()


def test_p18_neural_ode_rk4():
    assert port(_node_build, _node_train) == 3


# ----------------------------------------------------------------------------------------------
# p19 Meta-SGD (MAML with learned per-parameter learning rates): torch.func.functional_call on a
# Module with LayerNorm, two inner steps by autograd.grad(create_graph=True), the query loss
# backpropagated through them (second order) into both the weights and the learning rates;
# meta-Adam over a task batch.

def _maml_build(L):
    nn = L.nn

    class Learner(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(1, 10), nn.LayerNorm(10), nn.Tanh(), nn.Linear(10, 1))
            self.lrs = nn.ParameterDict({
                k.replace(".", "_"): nn.Parameter(L.X.full_like(p, 0.1))
                for k, p in self.net.named_parameters()})

    return Learner()


def _maml_train(L, m):
    rng = np.random.default_rng(19)
    fcall = L.X.func.functional_call
    opt = L.optim.Adam(m.parameters(), lr=3e-3)
    for _ in range(3):
        opt.zero_grad()
        total = 0
        for _task in range(2):
            amp, ph = rng.uniform(0.5, 2), rng.uniform(0, 3)
            xs, xq = rng.uniform(-3, 3, (5, 1)), rng.uniform(-3, 3, (5, 1))
            xs_, ys_ = L.T(xs), L.T(amp * np.sin(xs + ph))
            params = dict(m.net.named_parameters())
            for _inner in range(2):
                loss = L.F.mse_loss(fcall(m.net, params, (xs_,)), ys_)
                grads = L.X.autograd.grad(loss, list(params.values()), create_graph=True)
                params = {k: p - m.lrs[k.replace(".", "_")] * g
                          for (k, p), g in zip(params.items(), grads)}
            q = L.F.mse_loss(fcall(m.net, params, (L.T(xq),)), L.T(amp * np.sin(xq + ph)))
            q.backward()
            total = total + q.detach()
        opt.step()
        yield {"query": total, **snap(m)}


def test_p19_meta_sgd_second_order():
    assert port(_maml_build, _maml_train) == 3


# ----------------------------------------------------------------------------------------------
# p20 hypernetwork: a task embedding generates the weights and biases of a two-layer target
# network, applied per task with bmm (batched over tasks) and with F.linear (one task);
# Adagrad.

def _hyper_build(L):
    nn = L.nn

    class Hyper(nn.Module):
        def __init__(self, tasks=3, zdim=4, din=3, hid=5):
            super().__init__()
            self.din, self.hid = din, hid
            self.z = nn.Embedding(tasks, zdim)
            n = din * hid + hid + hid + 1
            self.gen = nn.Sequential(nn.Linear(zdim, 16), nn.ReLU(), nn.Linear(16, n))

        def weights(self, task):
            w = self.gen(self.z(task))
            d, h = self.din, self.hid
            w1, b1, w2, b2 = w.split([d * h, h, h, 1], dim=-1)
            return w1.view(-1, h, d), b1, w2.view(-1, 1, h), b2

        def forward(self, task, x):  # x (T, N, din)
            w1, b1, w2, b2 = self.weights(task)
            hdn = L.X.relu(L.X.bmm(x, w1.transpose(1, 2)) + b1.unsqueeze(1))
            return (L.X.bmm(hdn, w2.transpose(1, 2)) + b2.unsqueeze(1)).squeeze(-1)

    return Hyper()


def _hyper_train(L, m):
    rng = np.random.default_rng(20)
    opt = L.optim.Adagrad(m.parameters(), lr=0.05)
    task = L.T(np.arange(3))
    for _ in range(4):
        x, y = L.T(rng.standard_normal((3, 4, 3))), L.T(rng.standard_normal((3, 4)))
        out = m(task, x)
        w1, b1, w2, b2 = m.weights(task[:1])
        one = L.F.linear(L.X.relu(L.F.linear(x[0], w1[0], b1[0])), w2[0], b2[0]).squeeze(-1)
        loss = L.F.mse_loss(out, y)
        opt.zero_grad()
        loss.backward()
        yield {"out": out, "one": one - out[0], "loss": loss, **snap(m)}
        opt.step()
    yield opt_state(opt)


def test_p20_hypernetwork():
    assert port(_hyper_build, _hyper_train) == 5


# ----------------------------------------------------------------------------------------------
# p21 StyleGAN-style R1 penalty: non-saturating logistic losses by softplus, the gradient of
# D's real scores with respect to the real images by autograd.grad(create_graph=True), its
# squared norm per sample times gamma/2 added to D's loss (lazy: every other step);
# Adam betas (0, 0.99).

def _r1_build(L):
    nn = L.nn
    d = nn.Sequential(nn.Conv2d(1, 4, 3, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(4, 4, 3, 2, 1),
                      nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(16, 1))
    g = nn.Sequential(nn.Linear(3, 16), nn.LeakyReLU(0.2), nn.Linear(16, 64),
                      nn.Unflatten(1, (1, 8, 8)))
    return g, d


def _r1_train(L, g, d):
    rng = np.random.default_rng(21)
    od = L.optim.Adam(d.parameters(), lr=2e-3, betas=(0.0, 0.99))
    og = L.optim.Adam(g.parameters(), lr=2e-3, betas=(0.0, 0.99))
    for step in range(4):
        real = L.T(rng.standard_normal((3, 1, 8, 8)), requires_grad=True)
        z = L.T(rng.standard_normal((3, 3)))
        real_out, fake_out = d(real), d(g(z).detach())
        loss_d = L.F.softplus(fake_out).mean() + L.F.softplus(-real_out).mean()
        r1 = L.X.zeros(())
        if step % 2 == 0:
            (gr,) = L.X.autograd.grad(real_out.sum(), real, create_graph=True)
            r1 = gr.pow(2).reshape(gr.shape[0], -1).sum(1).mean()
        od.zero_grad()
        (loss_d + 5.0 * r1).backward()
        od.step()
        og.zero_grad()
        loss_g = L.F.softplus(-d(g(z))).mean()
        loss_g.backward()
        og.step()
        yield {"loss_d": loss_d, "r1": r1, "loss_g": loss_g, **snap(g, d)}


def test_p21_r1_gradient_penalty():
    assert port(_r1_build, _r1_train) == 4


# ----------------------------------------------------------------------------------------------
# p22 ConvNeXt blocks: depthwise 7x7 conv, LayerNorm over channels by permuting to channels-last,
# pointwise MLP by Linear (4x, GELU), LayerScale gamma, stochastic depth with a per-sample keep
# mask drawn by NumPy and divided by the keep probability; a channels-first LayerNorm written by
# hand for the downsampling layer; AdamW with a lambda warm-up.

def _convnext_build(L):
    nn = L.nn

    class LayerNorm2d(nn.Module):  # ConvNeXt's channels_first LayerNorm
        def __init__(self, c, eps=1e-6):
            super().__init__()
            self.weight, self.bias = nn.Parameter(L.X.ones(c)), nn.Parameter(L.X.zeros(c))
            self.eps = eps

        def forward(self, x):
            u = x.mean(1, keepdim=True)
            s = (x - u).pow(2).mean(1, keepdim=True)
            x = (x - u) / L.X.sqrt(s + self.eps)
            return self.weight[:, None, None] * x + self.bias[:, None, None]

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.dw = nn.Conv2d(c, c, 7, padding=3, groups=c)
            self.norm = nn.LayerNorm(c, eps=1e-6)
            self.pw1, self.pw2 = nn.Linear(c, 4 * c), nn.Linear(4 * c, c)
            self.gamma = nn.Parameter(1e-1 * L.X.ones(c))

        def forward(self, x, keep=None, p=0.5):
            y = self.dw(x).permute(0, 2, 3, 1)
            y = self.pw2(L.F.gelu(self.pw1(self.norm(y))))
            y = (self.gamma * y).permute(0, 3, 1, 2)
            if keep is not None:
                y = y * keep.view(-1, 1, 1, 1) / (1 - p)
            return x + y

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 4, 2, 2), LayerNorm2d(4))
            self.b1, self.b2 = Block(4), Block(4)
            self.head = nn.Sequential(nn.LayerNorm(4), nn.Linear(4, 3))

        def forward(self, x, keeps=(None, None)):
            x = self.b2(self.b1(self.stem(x), keeps[0]), keeps[1])
            return self.head(x.mean([-2, -1]))

    return Net()


def _convnext_train(L, m):
    rng = np.random.default_rng(22)
    opt = L.optim.AdamW(m.parameters(), lr=4e-3, weight_decay=0.05)
    sched = L.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 3))
    for _ in range(4):
        x, y = L.T(rng.standard_normal((3, 3, 8, 8))), L.T(rng.integers(0, 3, 3))
        keeps = [L.T((rng.uniform(size=3) > 0.5).astype(float)) for _ in range(2)]
        loss = L.F.cross_entropy(m(x, keeps), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        yield {"loss": loss, "lr": sched.get_last_lr(), **snap(m)}
    m.eval()
    yield {"eval": m(x)}


def test_p22_convnext_layerscale_stochastic_depth():
    assert port(_convnext_build, _convnext_train) == 5


# ----------------------------------------------------------------------------------------------
# p23 Mamba-like selective SSM: in-projection split into x and a gate, a causal depthwise Conv1d
# (left padding trimmed by slicing), input-dependent dt by softplus, B and C, A = -exp(A_log),
# the discretised scan written two ways (a sequential loop; the parallel form by cumsum of
# log decays, exp of differences, masked to the causal triangle), SiLU gate, RMSNorm; AdamW.

def _mamba_build(L):
    nn = L.nn

    class Mamba(nn.Module):
        def __init__(self, d=4, e=6, n=3):
            super().__init__()
            self.e, self.n = e, n
            self.inp = nn.Linear(d, 2 * e)
            self.conv = nn.Conv1d(e, e, 3, groups=e, padding=2)
            self.x_proj = nn.Linear(e, 1 + 2 * n, bias=False)
            self.dt_proj = nn.Linear(1, e)
            self.A_log = nn.Parameter(L.X.log(L.X.arange(1, n + 1).repeat(e, 1).to(L.X.float64)))
            self.Dskip = nn.Parameter(L.X.ones(e))
            self.out = nn.Linear(e, d)
            self.norm = nn.RMSNorm(d)

        def forward(self, u, parallel):
            b, t, _ = u.shape
            x, z = self.inp(self.norm(u)).chunk(2, dim=-1)
            x = L.F.silu(self.conv(x.transpose(1, 2))[..., :t].transpose(1, 2))
            dt, B, C = self.x_proj(x).split([1, self.n, self.n], dim=-1)
            dt = L.F.softplus(self.dt_proj(dt))  # (b, t, e)
            A = -L.X.exp(self.A_log)  # (e, n)
            if parallel:
                la = L.X.einsum("bte,en->bten", dt, A)
                cum = L.X.cumsum(la, dim=1)
                seg = cum.unsqueeze(2) - cum.unsqueeze(1)  # (b, t, s, e, n): sum_(s<r<=t)
                causal = L.X.tril(L.X.ones(t, t, dtype=L.X.bool))[None, :, :, None, None]
                decay = L.X.exp(seg.masked_fill(~causal, float("-inf")))
                bx = (dt * x).unsqueeze(-1) * B.unsqueeze(2)  # (b, s, e, n)
                h = (decay * bx.unsqueeze(1)).sum(2)  # (b, t, e, n)
                y = (h * C.unsqueeze(2)).sum(-1)
            else:
                h, ys = L.X.zeros(b, self.e, self.n), []
                for i in range(t):
                    dA = L.X.exp(dt[:, i, :, None] * A)
                    h = dA * h + (dt[:, i, :, None] * x[:, i, :, None]) * B[:, i, None, :]
                    ys.append((h * C[:, i, None, :]).sum(-1))
                y = L.X.stack(ys, dim=1)
            y = (y + x * self.Dskip) * L.F.silu(z)
            return u + self.out(y)

    return Mamba()


def _mamba_train(L, m):
    rng = np.random.default_rng(23)
    opt = L.optim.AdamW(m.parameters(), lr=5e-3)
    for step in range(4):
        u, target = L.T(rng.standard_normal((2, 5, 4))), L.T(rng.standard_normal((2, 5, 4)))
        out = m(u, parallel=step % 2 == 1)
        with L.X.no_grad():
            other = m(u, parallel=step % 2 == 0)
        loss = L.F.mse_loss(out, target)
        opt.zero_grad()
        loss.backward()
        yield {"out": out, "scan_forms_agree": (out - other).abs().max() < 1e-12,
               "loss": loss, **snap(m)}
        opt.step()


def test_p23_selective_scan():
    assert port(_mamba_build, _mamba_train) == 4


# ----------------------------------------------------------------------------------------------
# p24 Switch transformer routing: top-1 expert by argmax of the router softmax, expert capacity
# by cumsum of the one-hot assignment (overflowing tokens dropped: they pass through the
# residual only), experts as a ModuleList applied to boolean-masked token sets, output scattered
# back by index_put, Switch's load-balancing loss; Adam.

def _switch_build(L):
    nn = L.nn

    class Switch(nn.Module):
        def __init__(self, d=4, experts=3, cap=3):
            super().__init__()
            self.cap, self.E = cap, experts
            self.router = nn.Linear(d, experts)
            self.experts = nn.ModuleList(
                nn.Sequential(nn.Linear(d, 8), nn.ReLU(), nn.Linear(8, d)) for _ in range(experts))

        def forward(self, x):
            probs = L.F.softmax(self.router(x), dim=-1)
            gate, idx = probs.max(dim=-1)
            onehot = L.F.one_hot(idx, self.E)
            pos = L.X.cumsum(onehot, dim=0) * onehot  # 1-based slot in its expert
            kept = (pos.sum(-1) <= self.cap) & (pos.sum(-1) > 0)
            out = L.X.zeros_like(x)
            for e, expert in enumerate(self.experts):
                sel = (idx == e) & kept
                if sel.any():
                    out = out.index_put((sel.nonzero().squeeze(1),), expert(x[sel]) * gate[sel, None])
            frac = onehot.to(x.dtype).mean(0)
            aux = self.E * (frac * probs.mean(0)).sum()
            return x + out, aux, kept

    return Switch()


def _switch_train(L, m):
    rng = np.random.default_rng(24)
    opt = L.optim.Adam(m.parameters(), lr=1e-2)
    for _ in range(4):
        x, y = L.T(rng.standard_normal((8, 4))), L.T(rng.standard_normal((8, 4)))
        out, aux, kept = m(x)
        loss = L.F.mse_loss(out, y) + 0.01 * aux
        opt.zero_grad()
        loss.backward()
        yield {"out": out, "aux": aux, "kept": kept, **snap(m)}
        opt.step()


def test_p24_switch_top1_capacity():
    assert port(_switch_build, _switch_train) == 4



# ----------------------------------------------------------------------------------------------
# p25 CTC speech toy: MFCC-like frames through a strided Conv1d front end, a bidirectional GRU
# (packed by the frame lengths after the stride), log_softmax over (T, N, C) for nn.CTCLoss
# (blank 0, mean over target lengths, concatenated 1-D targets), greedy decoding by argmax and
# unique_consecutive; Adam with OneCycleLR.

def _ctc_build(L):
    nn = L.nn

    class ASR(nn.Module):
        def __init__(self, feats=4, hid=5, chars=5):
            super().__init__()
            self.front = nn.Sequential(nn.Conv1d(feats, 6, 3, stride=2, padding=1), nn.GELU())
            self.rnn = nn.GRU(6, hid, bidirectional=True)
            self.out = nn.Linear(2 * hid, chars)

        def forward(self, x, lens):  # x (N, F, T)
            h = self.front(x).permute(2, 0, 1)  # (T', N, 6)
            lens = (lens + 1) // 2
            packed = nn.utils.rnn.pack_padded_sequence(h, lens, enforce_sorted=False)
            o, _ = self.rnn(packed)
            o, olens = nn.utils.rnn.pad_packed_sequence(o, total_length=h.shape[0])
            return L.F.log_softmax(self.out(o), dim=-1), olens

    return ASR()


def _ctc_train(L, m):
    rng = np.random.default_rng(25)
    ctc = L.nn.CTCLoss(blank=0, reduction="mean")
    opt = L.optim.Adam(m.parameters(), lr=1e-2)
    sched = L.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-2, total_steps=4)
    lens = L.T(np.array([12, 9, 11]))
    tlens = L.T(np.array([3, 2, 4]))
    for _ in range(4):
        x = L.T(rng.standard_normal((3, 4, 12)))
        targets = L.T(rng.integers(1, 5, int(tlens.sum())))
        logp, olens = m(x, lens)
        loss = ctc(logp, targets, olens, tlens)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        yield {"loss": loss, "lr": sched.get_last_lr(), **snap(m)}
    best = logp.argmax(-1)[:, 0]
    yield {"decoded": L.X.unique_consecutive(best[:int(olens[0])])}


def test_p25_ctc_speech():
    assert port(_ctc_build, _ctc_train) == 5


# ----------------------------------------------------------------------------------------------
# p26 quantile regression: five quantile heads kept monotone by a cumsum of softplus increments,
# the pinball loss (maximum of q*e and (q-1)*e), a Huber-smoothed variant, coverage of the
# predicted interval and torch.quantile of the residuals; Adamax.

def _quant_build(L):
    nn = L.nn

    class QR(nn.Module):
        def __init__(self, k=5):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(2, 12), nn.SELU(), nn.Linear(12, k))

        def forward(self, x):
            raw = self.body(x)
            return L.X.cat([raw[:, :1], raw[:, :1] + L.X.cumsum(L.F.softplus(raw[:, 1:]), 1)], 1)

    return QR()


def _quant_train(L, m):
    rng = np.random.default_rng(26)
    qs = L.T([0.05, 0.25, 0.5, 0.75, 0.95])
    opt = L.optim.Adamax(m.parameters(), lr=2e-2)
    for _ in range(4):
        x = rng.standard_normal((10, 2))
        y = L.T(x[:, 0] + 0.5 * rng.standard_normal(10))
        pred = m(L.T(x))
        e = y[:, None] - pred
        pinball = L.X.maximum(qs * e, (qs - 1) * e).mean()
        hub = L.F.huber_loss(pred, y[:, None].expand_as(pred), reduction="none", delta=0.1)
        smooth = (L.X.abs(qs - (e < 0).to(e.dtype)) * hub).mean()
        loss = pinball + smooth
        opt.zero_grad()
        loss.backward()
        cover = ((y >= pred[:, 0]) & (y <= pred[:, -1])).to(e.dtype).mean()
        yield {"pinball": pinball, "smooth": smooth, "cover": cover,
               "resid_q": L.X.quantile(e[:, 2], qs), **snap(m)}
        opt.step()
    yield opt_state(opt)


def test_p26_quantile_regression():
    assert port(_quant_build, _quant_train) == 5


# ----------------------------------------------------------------------------------------------
# p27 Gaussian-process regression: an RBF + linear kernel with learnable log lengthscale,
# signal and noise, Cholesky factor, alpha by two triangular solves, the exact negative log
# marginal likelihood (data fit + sum log diag + constant), predictive mean and variance;
# Adam on the hyperparameters, then LBFGS.

def _gp_build(L):
    nn = L.nn

    class GP(nn.Module):
        def __init__(self):
            super().__init__()
            self.log_ls = nn.Parameter(L.X.tensor([0.0, 0.3]))
            self.log_sf = nn.Parameter(L.X.tensor(0.1))
            self.log_sn = nn.Parameter(L.X.tensor(-1.0))
            self.lin = nn.Parameter(L.X.tensor(0.2))

        def kernel(self, a, b):
            d = L.X.cdist(a / self.log_ls.exp(), b / self.log_ls.exp()) ** 2
            return self.log_sf.exp() ** 2 * L.X.exp(-0.5 * d) + self.lin ** 2 * a @ b.T

        def nlml(self, x, y):
            n = x.shape[0]
            K = self.kernel(x, x) + (self.log_sn.exp() ** 2 + 1e-6) * L.X.eye(n)
            Lc = L.X.linalg.cholesky(K)
            tmp = L.X.linalg.solve_triangular(Lc, y[:, None], upper=False)
            alpha = L.X.linalg.solve_triangular(Lc.T, tmp, upper=True)
            return (0.5 * (y[:, None] * alpha).sum() + Lc.diagonal().log().sum()
                    + 0.5 * n * math.log(2 * math.pi)), Lc, alpha

        def predict(self, x, y, xs):
            _, Lc, alpha = self.nlml(x, y)
            Ks = self.kernel(xs, x)
            v = L.X.linalg.solve_triangular(Lc, Ks.T, upper=False)
            var = self.kernel(xs, xs).diagonal() - (v ** 2).sum(0)
            return (Ks @ alpha).squeeze(-1), var

    return GP()


def _gp_train(L, m):
    rng = np.random.default_rng(27)
    x = rng.uniform(-2, 2, (8, 2))
    y = L.T(np.sin(2 * x[:, 0]) + 0.3 * x[:, 1] + 0.1 * rng.standard_normal(8))
    x = L.T(x)
    opt = L.optim.Adam(m.parameters(), lr=0.05)
    for _ in range(3):
        loss = m.nlml(x, y)[0]
        opt.zero_grad()
        loss.backward()
        yield {"nlml": loss, **snap(m)}
        opt.step()
    lb = L.optim.LBFGS(m.parameters(), lr=0.5, max_iter=4, line_search_fn="strong_wolfe")

    def closure():
        lb.zero_grad()
        loss = m.nlml(x, y)[0]
        loss.backward()
        return loss

    lb.step(closure)
    with L.X.no_grad():
        mean, var = m.predict(x, y, L.T(rng.uniform(-2, 2, (4, 2))))
    yield {"mean": mean, "var": var, **snap(m)}


def test_p27_gaussian_process_marginal_likelihood():
    assert port(_gp_build, _gp_train) == 4


# ----------------------------------------------------------------------------------------------
# p28 Bayes by backprop: mean-field Gaussian weights (sigma = softplus(rho)) sampled by the
# reparameterisation with NumPy noise, KL to a Normal prior by kl_divergence and by a
# Monte-Carlo log q - log p with log_prob, an Independent Normal likelihood with a learned
# noise scale, the ELBO over two samples; Adam.

def _bbb_build(L):
    nn = L.nn

    class BayesLinear(nn.Module):
        def __init__(self, i, o):
            super().__init__()
            r = np.random.default_rng(i * 10 + o)
            self.mu = nn.Parameter(L.X.tensor(r.normal(size=(o, i)) * 0.3))
            self.rho = nn.Parameter(L.X.full((o, i), -3.0))
            self.bias = nn.Parameter(L.X.zeros(o))

        def forward(self, x, eps):
            q = L.D.Normal(self.mu, L.F.softplus(self.rho))
            w = q.loc + q.scale * eps
            prior = L.D.Normal(0.0, 1.0)
            self.kl = L.D.kl_divergence(q, L.D.Normal(L.X.zeros_like(w), L.X.ones_like(w))).sum()
            self.mc_kl = (q.log_prob(w) - prior.log_prob(w)).sum()
            return L.F.linear(x, w, self.bias)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.l1, self.l2 = BayesLinear(2, 6), BayesLinear(6, 1)
            self.log_noise = nn.Parameter(L.X.tensor(0.0))

        def forward(self, x, e1, e2):
            return self.l2(L.X.tanh(self.l1(x, e1)), e2).squeeze(-1)

    return Net()


def _bbb_train(L, m):
    rng = np.random.default_rng(28)
    opt = L.optim.Adam(m.parameters(), lr=1e-2)
    for _ in range(4):
        x = rng.standard_normal((10, 2))
        y = L.T(np.sin(x[:, 0]) + 0.1 * rng.standard_normal(10))
        x = L.T(x)
        nll = kl = mc = 0
        for _s in range(2):
            out = m(x, L.T(rng.standard_normal((6, 2))), L.T(rng.standard_normal((1, 6))))
            lik = L.D.Independent(L.D.Normal(out, m.log_noise.exp()), 1)
            nll = nll - lik.log_prob(y) / 2
            kl = kl + (m.l1.kl + m.l2.kl) / 2
            mc = mc + (m.l1.mc_kl + m.l2.mc_kl) / 2
        loss = nll + kl / 10
        opt.zero_grad()
        loss.backward()
        yield {"nll": nll, "kl": kl, "mc": mc, **snap(m)}
        opt.step()


def test_p28_bayes_by_backprop():
    assert port(_bbb_build, _bbb_train) == 4


# ----------------------------------------------------------------------------------------------
# p29 RNN regressor with clip_grad_norm_ (its returned total norm logged) and ReduceLROnPlateau
# on a validation loss (mode min, threshold_mode abs, patience 0, cooldown 1, min_lr), an
# nn.RNN with tanh and two layers and the final hidden state; SGD with momentum.

def _plateau_build(L):
    nn = L.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.RNN(2, 5, num_layers=2, batch_first=True)
            self.fc = nn.Linear(5, 1)

        def forward(self, x):
            out, h = self.rnn(x)
            return self.fc(h[-1]).squeeze(-1) + 0 * out.sum()

    return Net()


def _plateau_train(L, m):
    rng = np.random.default_rng(29)
    opt = L.optim.SGD(m.parameters(), lr=0.2, momentum=0.9)
    sched = L.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode="min", factor=0.5, patience=0, threshold=0.05, threshold_mode="abs",
        cooldown=1, min_lr=0.03)
    xv = L.T(rng.standard_normal((4, 6, 2)))
    yv = L.T(rng.standard_normal(4))
    for _ in range(6):
        x, y = L.T(rng.standard_normal((4, 6, 2))), L.T(rng.standard_normal(4))
        loss = L.F.mse_loss(m(x), y)
        opt.zero_grad()
        loss.backward()
        norm = L.nn.utils.clip_grad_norm_(m.parameters(), max_norm=0.5)
        opt.step()
        with L.X.no_grad():
            val = L.F.mse_loss(m(xv), yv)
        sched.step(val)
        yield {"loss": loss, "norm": norm, "val": val, "lr": sched.get_last_lr(),
               "bad": sched.num_bad_epochs, "cool": sched.cooldown_counter, **snap(m)}


def test_p29_rnn_clip_and_plateau():
    assert port(_plateau_build, _plateau_train) == 6


# ----------------------------------------------------------------------------------------------
# p30 a transformer block by hand on nn.MultiheadAttention with every mask at once: a bool
# key_padding_mask with a causal float attn_mask, is_causal=True beside a causal mask, a 3-D
# per-head attn_mask, per-head weights (average_attn_weights=False) and their average, and
# F.scaled_dot_product_attention with a float mask; SGD (the key slice of in_proj_bias has an
# analytically zero gradient, rounding noise of 1e-17 that Adam would blow up to lr-sized steps).

def _mha_build(L):
    nn = L.nn

    class Block(nn.Module):
        def __init__(self, d=8, h=2):
            super().__init__()
            self.attn = nn.MultiheadAttention(d, h, batch_first=True)
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.ff = nn.Sequential(nn.Linear(d, 16), nn.GELU(approximate="tanh"), nn.Linear(16, d))

        def forward(self, x, kpm, mask, causal):
            y = self.ln1(x)
            if causal:
                a, w = self.attn(y, y, y, key_padding_mask=kpm, attn_mask=mask, is_causal=True,
                                 need_weights=True, average_attn_weights=False)
            else:
                a, w = self.attn(y, y, y, key_padding_mask=kpm, attn_mask=mask)
            x = x + a
            return x + self.ff(self.ln2(x)), w

    return Block()


def _mha_train(L, m):
    rng = np.random.default_rng(30)
    opt = L.optim.SGD(m.parameters(), lr=0.05)
    T = 5
    causal = L.nn.Transformer.generate_square_subsequent_mask(T)
    bool_causal = L.X.triu(L.X.ones(T, T, dtype=L.X.bool), diagonal=1)
    kpm = L.T(np.array([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0], [0, 0, 0, 0, 1]], bool))
    per_head = L.T(np.where(rng.uniform(size=(6, T, T)) < 0.2, -1e9, 0.0)) + causal
    for step in range(4):
        x = L.T(rng.standard_normal((3, T, 8)))
        mask, is_c = [(causal, False), (bool_causal, True), (per_head, False), (causal, True)][step]
        out, w = m(x, kpm, mask, is_c)
        loss = (out * L.T(rng.standard_normal(out.shape))).sum()
        opt.zero_grad()
        loss.backward()
        yield {"out": out, "w": w, **snap(m)}
        opt.step()
    q, k, v = (L.T(rng.standard_normal((3, 2, T, 4))) for _ in range(3))
    fm = L.T(rng.standard_normal((3, 1, T, T)))
    yield {"sdpa": L.F.scaled_dot_product_attention(q, k, v, attn_mask=fm)}


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
def test_p30_multihead_attention_masks():
    assert port(_mha_build, _mha_train) == 5


# ----------------------------------------------------------------------------------------------
# p31 a data pipeline: a map-style Dataset of variable-length sequences returning dicts, a
# custom batch sampler that buckets by length, a collate_fn padding with pad_sequence and
# building a mask, DataLoader(batch_sampler=...), a second loader with SequentialSampler +
# default_collate of dicts and drop_last; an Embedding + masked-mean model trained on it; SGD.

def _data_build(L):
    nn = L.nn

    class Bag(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(9, 4, padding_idx=0)
            self.fc = nn.Linear(4, 2)

        def forward(self, tok, mask):
            e = self.emb(tok) * mask.unsqueeze(-1)
            return self.fc(e.sum(1) / mask.sum(1, keepdim=True))

    return Bag()


def _data_train(L, m):
    rng = np.random.default_rng(31)
    seqs = [rng.integers(1, 9, n) for n in rng.integers(1, 6, 10)]
    labels = rng.integers(0, 2, 10)

    class Seqs(L.data.Dataset):
        def __len__(self):
            return len(seqs)

        def __getitem__(self, i):
            return {"tok": L.X.tensor(seqs[i]), "label": int(labels[i]), "len": len(seqs[i])}

    class Bucket(L.data.Sampler):
        def __init__(self, lengths, bs):
            self.order, self.bs = np.argsort(lengths, kind="stable"), bs

        def __iter__(self):
            for i in range(0, len(self.order), self.bs):
                yield [int(j) for j in self.order[i:i + self.bs]]

        def __len__(self):
            return (len(self.order) + self.bs - 1) // self.bs

    def collate(batch):
        tok = L.nn.utils.rnn.pad_sequence([b["tok"] for b in batch], batch_first=True)
        lens = L.X.tensor([b["len"] for b in batch])
        mask = (L.X.arange(tok.shape[1])[None] < lens[:, None]).to(L.X.float64)
        return tok, mask, L.X.tensor([b["label"] for b in batch])

    ds = Seqs()
    loader = L.data.DataLoader(ds, batch_sampler=Bucket([len(s) for s in seqs], 4),
                               collate_fn=collate)
    opt = L.optim.SGD(m.parameters(), lr=0.5)
    assert len(loader) == 3
    for tok, mask, y in loader:
        loss = L.F.cross_entropy(m(tok, mask), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        yield {"tok": tok, "mask": mask, "loss": loss, **snap(m)}
    flat = L.data.DataLoader([{"a": i, "b": L.X.tensor([float(i)] * 2)} for i in range(5)],
                             batch_size=2, sampler=L.data.SequentialSampler(range(5)),
                             drop_last=True)
    yield {"batches": [[b["a"], b["b"]] for b in flat], "len": len(flat)}


def test_p31_data_pipeline_bucket_sampler():
    assert port(_data_build, _data_train) == 4



# ----------------------------------------------------------------------------------------------
# p32 Swin-style shifted window attention: torch.roll by half a window, window partition and
# reverse by view/permute/contiguous, a relative position bias table indexed through a
# registered index buffer, the shifted-window attention mask built by slice assignment and
# masked_fill, qkv by one Linear and reshape/permute; AdamW.

def _swin_build(L):
    nn = L.nn
    ws, H, C, heads = 2, 4, 4, 2

    def partition(x):
        b, h, w, c = x.shape
        x = x.view(b, h // ws, ws, w // ws, ws, c)
        return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, ws * ws, c)

    def reverse(win, b):
        x = win.view(b, H // ws, H // ws, ws, ws, -1)
        return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(b, H, H, -1)

    class WindowAttn(nn.Module):
        def __init__(self, shift):
            super().__init__()
            self.shift = shift
            self.qkv, self.proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
            self.table = nn.Parameter(L.X.tensor(
                np.random.default_rng(shift).normal(size=((2 * ws - 1) ** 2, heads)) * 0.02))
            coords = L.X.stack(L.X.meshgrid(L.X.arange(ws), L.X.arange(ws), indexing="ij"))
            flat = coords.flatten(1)
            rel = (flat[:, :, None] - flat[:, None, :]).permute(1, 2, 0).contiguous()
            idx = (rel[..., 0] + ws - 1) * (2 * ws - 1) + rel[..., 1] + ws - 1
            self.register_buffer("rel_index", idx.to(L.X.int64))
            self.norm = nn.LayerNorm(C)
            if shift:
                img = L.X.zeros(1, H, H, 1)
                cnt = 0
                for hs in (slice(0, -ws), slice(-ws, -shift), slice(-shift, None)):
                    for wsl in (slice(0, -ws), slice(-ws, -shift), slice(-shift, None)):
                        img[:, hs, wsl, :] = cnt
                        cnt += 1
                mw = partition(img).squeeze(-1)
                am = mw.unsqueeze(1) - mw.unsqueeze(2)
                self.register_buffer("mask", am.masked_fill(am != 0, -100.0).masked_fill(am == 0, 0.0))
            else:
                self.mask = None

        def forward(self, x):
            b = x.shape[0]
            y = self.norm(x)
            if self.shift:
                y = L.X.roll(y, shifts=(-self.shift, -self.shift), dims=(1, 2))
            win = partition(y)
            n = win.shape[1]
            qkv = self.qkv(win).reshape(-1, n, 3, heads, C // heads).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            attn = (q * (C // heads) ** -0.5) @ k.transpose(-2, -1)
            bias = self.table[self.rel_index.view(-1)].view(n, n, -1).permute(2, 0, 1)
            attn = attn + bias.unsqueeze(0)
            if self.mask is not None:
                nw = self.mask.shape[0]
                attn = attn.view(b, nw, heads, n, n) + self.mask.unsqueeze(1).unsqueeze(0)
                attn = attn.view(-1, heads, n, n)
            out = (attn.softmax(-1) @ v).transpose(1, 2).reshape(-1, n, C)
            y = reverse(self.proj(out), b)
            if self.shift:
                y = L.X.roll(y, shifts=(self.shift, self.shift), dims=(1, 2))
            return x + y

    return nn.Sequential(WindowAttn(0), WindowAttn(1))


def _swin_train(L, m):
    rng = np.random.default_rng(32)
    opt = L.optim.AdamW(m.parameters(), lr=3e-3)
    for _ in range(3):
        x = L.T(rng.standard_normal((2, 4, 4, 4)))
        out = m(x)
        loss = (out * L.T(rng.standard_normal(out.shape))).sum()
        opt.zero_grad()
        loss.backward()
        yield {"out": out, **snap(m)}
        opt.step()


def test_p32_swin_shifted_windows():
    # The key slice of each qkv bias has an analytically zero gradient (softmax ignores a
    # per-query shift); both libraries leave ~1e-17 noise there that AdamW turns into steps of
    # ~lr * 1e-9, so parameters after a step agree to 1e-9 only in those entries.
    assert port(_swin_build, _swin_train, atol=1e-8) == 3


# ----------------------------------------------------------------------------------------------
# p33 Grad-CAM and adversarial training: a forward hook keeps the last conv block's activations
# and a tensor hook registered on them keeps their gradient; the CAM is relu of the channel-
# weighted sum, upsampled by bilinear interpolate and min-max normalised. Then FGSM and two PGD
# steps (grad sign, clamp to an epsilon ball with tensor bounds, clamp to [0, 1]) and a training
# step on the adversarial batch; SGD.

def _cam_build(L):
    nn = L.nn
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 6, 3, padding=1),
                         nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3))


def _cam_train(L, m):
    rng = np.random.default_rng(33)
    store = {}

    def fwd_hook(mod, inp, out):
        store["act"] = out
        out.register_hook(lambda g: store.__setitem__("grad", g))

    handle = m[3].register_forward_hook(fwd_hook)
    x = L.T(rng.uniform(size=(2, 1, 6, 6)))
    y = L.T(np.array([0, 2]))
    out = m(x)
    out.gather(1, y[:, None]).sum().backward()
    wts = store["grad"].mean((2, 3), keepdim=True)
    cam = L.F.relu((wts * store["act"]).sum(1, keepdim=True))
    cam = L.F.interpolate(cam, size=(12, 12), mode="bilinear", align_corners=False)
    flat = cam.flatten(1)
    cam = (flat - flat.min(1, keepdim=True).values) / (
        flat.max(1, keepdim=True).values - flat.min(1, keepdim=True).values + 1e-8)
    handle.remove()
    yield {"cam": cam, "act": store["act"], "grad": store["grad"]}
    opt = L.optim.SGD(m.parameters(), lr=0.1)
    eps, alpha = 0.1, 0.04
    for _ in range(3):
        x = L.T(rng.uniform(size=(4, 1, 6, 6)))
        y = L.T(rng.integers(0, 3, 4))
        adv = x.clone().requires_grad_(True)
        for _k in range(2):
            loss = L.F.cross_entropy(m(adv), y)
            (g,) = L.X.autograd.grad(loss, adv)
            adv = adv.detach() + alpha * g.sign()
            adv = L.X.clamp(adv, min=x - eps, max=x + eps).clamp(0, 1).requires_grad_(True)
        loss = L.F.cross_entropy(m(adv.detach()), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        yield {"adv": adv, "loss": loss, **snap(m)}


def test_p33_grad_cam_and_pgd():
    assert port(_cam_build, _cam_train) == 4


# ----------------------------------------------------------------------------------------------
# p34 neural style transfer (Gatys): a frozen feature net, content and style layers read by
# slicing the Sequential (net[:k]), Gram matrices by bmm over flattened features, the image
# itself optimised (requires_grad on the input, parameters frozen by requires_grad_(False)),
# total-variation loss; Adam on the image, then LBFGS.

def _style_build(L):
    nn = L.nn
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1),
                         nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(4, 6, 3, padding=1), nn.ReLU())


def _gram(L, f):
    b, c, h, w = f.shape
    f = f.view(b, c, h * w)
    return L.X.bmm(f, f.transpose(1, 2)) / (c * h * w)


def _style_train(L, net):
    rng = np.random.default_rng(34)
    net.requires_grad_(False)
    net.eval()
    content, style = L.T(rng.uniform(size=(1, 3, 8, 8))), L.T(rng.uniform(size=(1, 3, 8, 8)))
    layers = (2, 4, 7)
    with L.X.no_grad():
        c_target = net[:4](content)
        s_targets = [_gram(L, net[:k](style)) for k in layers]
    img = content.clone().requires_grad_(True)

    def total():
        c = L.F.mse_loss(net[:4](img), c_target)
        s = sum(L.F.mse_loss(_gram(L, net[:k](img)), t) for k, t in zip(layers, s_targets))
        tv = (img[..., 1:, :] - img[..., :-1, :]).abs().mean() + \
            (img[..., :, 1:] - img[..., :, :-1]).abs().mean()
        return c + 1e3 * s + 0.1 * tv

    opt = L.optim.Adam([img], lr=0.02)
    for _ in range(3):
        opt.zero_grad()
        loss = total()
        loss.backward()
        opt.step()
        yield {"loss": loss, "img": img, "img_grad": img.grad}
    lb = L.optim.LBFGS([img], lr=0.5, max_iter=3)

    def closure():
        lb.zero_grad()
        loss = total()
        loss.backward()
        return loss

    yield {"lbfgs": lb.step(closure), "img": img, "frozen": snap(net)}


def test_p34_style_transfer():
    assert port(_style_build, _style_train) == 4


# ----------------------------------------------------------------------------------------------
# p35 domain-adversarial training (DANN): a gradient reversal layer as a custom
# autograd.Function (forward view_as, backward the negated gradient times lambda, None for the
# lambda), a label head on source data, a domain head on both domains behind the reversal,
# lambda from the usual 2/(1+exp(-10p)) - 1 schedule; SGD with momentum and per-group lrs.

def _dann_build(L):
    nn = L.nn

    class Reverse(L.X.autograd.Function):
        @staticmethod
        def forward(ctx, x, lam):
            ctx.lam = lam
            return x.view_as(x)

        @staticmethod
        def backward(ctx, g):
            return g.neg() * ctx.lam, None

    class DANN(nn.Module):
        def __init__(self):
            super().__init__()
            self.feat = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 6), nn.ReLU())
            self.label = nn.Linear(6, 3)
            self.domain = nn.Sequential(nn.Linear(6, 6), nn.ReLU(), nn.Linear(6, 1))

        def forward(self, x, lam):
            f = self.feat(x)
            return self.label(f), self.domain(Reverse.apply(f, lam)).squeeze(-1)

    return DANN()


def _dann_train(L, m):
    rng = np.random.default_rng(35)
    opt = L.optim.SGD([{"params": m.feat.parameters(), "lr": 0.01},
                       {"params": list(m.label.parameters()) + list(m.domain.parameters())}],
                      lr=0.05, momentum=0.9)
    for step in range(4):
        p = step / 4
        lam = 2 / (1 + math.exp(-10 * p)) - 1
        xs, ys = L.T(rng.standard_normal((5, 4))), L.T(rng.integers(0, 3, 5))
        xt = L.T(rng.standard_normal((5, 4)) + 1)
        ls, ds = m(xs, lam)
        _, dt = m(xt, lam)
        dom = L.F.binary_cross_entropy_with_logits(L.X.cat([ds, dt]),
                                                   L.X.cat([L.X.zeros(5), L.X.ones(5)]))
        loss = L.F.cross_entropy(ls, ys) + dom
        opt.zero_grad()
        loss.backward()
        opt.step()
        yield {"loss": loss, "dom": dom, **snap(m)}


def test_p35_dann_gradient_reversal():
    assert port(_dann_build, _dann_train) == 4


# ----------------------------------------------------------------------------------------------
# p36 DQN: an online and a target network (target by load_state_dict, eval mode), Q(s, a) by
# gather, the max over the target's next-state values (.max(1)[0]) masked by done, Double-DQN
# action choice by argmax(1, keepdim=True), smooth L1, gradient values clipped in place
# (p.grad.clamp_), zero_grad(set_to_none=True), the target refreshed every two steps; RMSprop.

def _dqn_build(L):
    nn = L.nn
    mk = lambda: nn.Sequential(nn.Linear(4, 10), nn.ReLU(), nn.Linear(10, 3))  # noqa: E731
    return mk(), mk()


def _dqn_train(L, net, target):
    rng = np.random.default_rng(36)
    target.load_state_dict(net.state_dict())
    target.eval()
    opt = L.optim.RMSprop(net.parameters(), lr=1e-2)
    for step in range(4):
        s, s2 = L.T(rng.standard_normal((6, 4))), L.T(rng.standard_normal((6, 4)))
        a = L.T(rng.integers(0, 3, (6, 1)))
        r = L.T(rng.standard_normal(6))
        done = L.T(np.array([0, 0, 1, 0, 1, 0], bool))
        q = net(s).gather(1, a).squeeze(1)
        with L.X.no_grad():
            # torch's idiom is .max(1)[0]; ours reads a positional dim as NumPy's axis (values
            # only, documented), so [0] would silently take row 0: the keyword is torch's
            nxt = target(s2).max(dim=1)[0]
            dbl = target(s2).gather(1, net(s2).argmax(1, keepdim=True)).squeeze(1)
            y = r + 0.9 * (nxt + dbl) / 2 * (~done)
        loss = L.F.smooth_l1_loss(q, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for p in net.parameters():
            p.grad.clamp_(-0.05, 0.05)
        opt.step()
        if step % 2 == 1:
            target.load_state_dict(net.state_dict())
        yield {"q": q, "y": y, "loss": loss, **snap(net, target)}


def test_p36_dqn_target_network():
    assert port(_dqn_build, _dqn_train) == 4


# ----------------------------------------------------------------------------------------------
# p37 LoRA fine-tuning: a pretrained Linear frozen, a low-rank update registered as a
# parametrization module holding trainable A and B (B zero-initialised, scaled by alpha/r),
# only the LoRA parameters handed to the optimiser (filter requires_grad), then merged with
# remove_parametrizations(leave_parametrized=True); AdamW.

def _lora_build(L):
    nn = L.nn
    P = nn.utils.parametrize

    class LoRA(nn.Module):
        def __init__(self, fan_out, fan_in, r=2, alpha=4):
            super().__init__()
            self.A = nn.Parameter(L.X.tensor(np.random.default_rng(r).normal(size=(r, fan_in)) * 0.1))
            self.B = nn.Parameter(L.X.zeros(fan_out, r))
            self.scale = alpha / r

        def forward(self, w):
            return w + self.B @ self.A * self.scale

    m = nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.Linear(6, 2))
    for p in m.parameters():
        p.requires_grad_(False)
    for lin in (m[0], m[2]):
        P.register_parametrization(lin, "weight", LoRA(*lin.weight.shape))
    return m


def _lora_train(L, m):
    rng = np.random.default_rng(37)
    trainable = [p for p in m.parameters() if p.requires_grad]
    assert len(trainable) == 4
    opt = L.optim.AdamW(trainable, lr=1e-2)
    for _ in range(3):
        x, y = L.T(rng.standard_normal((4, 5))), L.T(rng.standard_normal((4, 2)))
        loss = L.F.mse_loss(m(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        yield {"loss": loss, "w": m[0].weight, **snap(m)}
    for lin in (m[0], m[2]):
        L.nn.utils.parametrize.remove_parametrizations(lin, "weight", leave_parametrized=True)
    yield {"merged": snap(m), "out": m(x)}


def test_p37_lora_parametrization():
    assert port(_lora_build, _lora_train) == 4


# ----------------------------------------------------------------------------------------------
# p38 WaveNet: mu-law companding (sign, log1p) and quantisation to 16 classes, a causal input
# conv by F.pad on the left, dilated gated residual blocks (tanh * sigmoid), 1x1 residual and
# skip convs, CE over classes at every step (logits (N, C, T) against targets (N, T)); Adam
# with StepLR.

def _wavenet_build(L):
    nn = L.nn

    class Gated(nn.Module):
        def __init__(self, c, dil):
            super().__init__()
            self.dil = dil
            self.filt, self.gate = nn.Conv1d(c, c, 2, dilation=dil), nn.Conv1d(c, c, 2, dilation=dil)
            self.res, self.skip = nn.Conv1d(c, c, 1), nn.Conv1d(c, 6, 1)

        def forward(self, x):
            xp = L.F.pad(x, (self.dil, 0))
            z = L.X.tanh(self.filt(xp)) * L.X.sigmoid(self.gate(xp))
            return x + self.res(z), self.skip(z)

    class WaveNet(nn.Module):
        def __init__(self, q=16, c=5):
            super().__init__()
            self.inp = nn.Conv1d(q, c, 2)
            self.blocks = nn.ModuleList(Gated(c, d) for d in (1, 2, 4))
            self.head = nn.Sequential(nn.ReLU(), nn.Conv1d(6, 6, 1), nn.ReLU(), nn.Conv1d(6, q, 1))

        def forward(self, onehot):
            x = self.inp(L.F.pad(onehot, (1, 0)))
            skips = 0
            for b in self.blocks:
                x, s = b(x)
                skips = skips + s
            return self.head(skips)

    return WaveNet()


def _wavenet_train(L, m):
    rng = np.random.default_rng(38)
    opt = L.optim.Adam(m.parameters(), lr=5e-3)
    sched = L.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.3)
    mu = 15
    for _ in range(4):
        audio = L.T(np.clip(rng.standard_normal((2, 10)) * 0.4, -1, 1))
        comp = L.X.sign(audio) * L.X.log1p(mu * audio.abs()) / math.log1p(mu)
        q = ((comp + 1) / 2 * mu + 0.5).to(L.X.int64)
        onehot = L.F.one_hot(q, 16).permute(0, 2, 1).to(L.X.float64)
        logits = m(onehot[:, :, :-1])
        loss = L.F.cross_entropy(logits, q[:, 1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        yield {"q": q, "loss": loss, "lr": sched.get_last_lr(), **snap(m)}


def test_p38_wavenet_mu_law():
    assert port(_wavenet_build, _wavenet_train) == 4



# ----------------------------------------------------------------------------------------------
# p39 seq2seq with the common in-place idioms: decoder outputs written into a preallocated
# zeros tensor by outputs[t] = ..., teacher forcing by fixed coin flips, a boolean-mask
# assignment and a slice mul_ on non-leaf tensors on the graph, scatter_ into a fresh one-hot,
# index_put_ with accumulate; Adam.

def _s2s_build(L):
    nn = L.nn

    class S2S(nn.Module):
        def __init__(self, v=6, h=5):
            super().__init__()
            self.v = v
            self.enc = nn.GRU(v, h, batch_first=True)
            self.dec = nn.GRUCell(v, h)
            self.out = nn.Linear(h, v)

        def onehot(self, tok):
            z = L.X.zeros(tok.shape[0], self.v)
            return z.scatter_(1, tok.unsqueeze(1), 1.0)

        def forward(self, src, tgt, coins):
            _, h = self.enc(src)
            h = h[0]
            T, B = tgt.shape[1], tgt.shape[0]
            outputs = L.X.zeros(T, B, self.v)
            inp = self.onehot(tgt[:, 0])
            for t in range(1, T):
                h = self.dec(inp, h)
                h[:, :2].mul_(0.5)                      # in place on a view of a non-leaf
                o = self.out(h)
                outputs[t] = o                           # setitem with a source on the graph
                pred = o.argmax(1)
                inp = self.onehot(tgt[:, t] if coins[t] else pred)
            bonus = L.X.zeros(self.v).index_put_((tgt[:, 1],), outputs[1].sum(1), accumulate=True)
            outputs[outputs.abs() > 3.0] = 3.0           # boolean-mask assignment on the graph
            return outputs, bonus

    return S2S()


def _s2s_train(L, m):
    rng = np.random.default_rng(39)
    opt = L.optim.Adam(m.parameters(), lr=2e-2)
    for _ in range(4):
        src = L.T(rng.standard_normal((3, 4, 6)))
        tgt = L.T(rng.integers(0, 6, (3, 5)))
        out, bonus = m(src, tgt, rng.uniform(size=5) < 0.5)
        loss = L.F.cross_entropy(out[1:].reshape(-1, 6), tgt.t()[1:].reshape(-1)) + \
            1e-2 * bonus.pow(2).sum()
        opt.zero_grad()
        loss.backward()
        yield {"out": out, "bonus": bonus, **snap(m)}
        opt.step()


def test_p39_seq2seq_inplace_idioms():
    assert port(_s2s_build, _s2s_train) == 4


# ----------------------------------------------------------------------------------------------
# p40 detection head losses: pairwise IoU and GIoU of boxes by broadcasting max/min and
# clamp(min=0), anchor matching by max over ground truths with an IoU threshold,
# nonzero(as_tuple=True) positives, smooth L1 on matched box deltas, GIoU loss, a sigmoid
# focal loss on one-hot class targets built by index assignment; SGD.

def _det_build(L):
    nn = L.nn
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 4 + 3))


def _box_iou(L, a, b):
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt = L.X.max(a[:, None, :2], b[None, :, :2])
    rb = L.X.min(a[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = area_a[:, None] + area_b[None] - inter
    return inter / union, union


def _giou(L, a, b):
    iou, union = _box_iou(L, a, b)
    lt = L.X.min(a[:, None, :2], b[None, :, :2])
    rb = L.X.max(a[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    hull = wh[..., 0] * wh[..., 1]
    return iou - (hull - union) / hull


def _det_train(L, m):
    rng = np.random.default_rng(40)
    xy = rng.uniform(0, 6, (8, 2))
    anchors = L.T(np.concatenate([xy, xy + rng.uniform(1, 3, (8, 2))], 1))
    opt = L.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
    for _ in range(4):
        g = rng.uniform(0, 6, (3, 2))
        gt = L.T(np.concatenate([g, g + rng.uniform(1, 3, (3, 2))], 1))
        gcls = L.T(rng.integers(0, 3, 3))
        iou, _ = _box_iou(L, anchors, gt)
        best, idx = iou.max(dim=1)
        pos = (best > 0.1).nonzero(as_tuple=True)[0]
        out = m(anchors / 6)
        deltas, logits = out[:, :4], out[:, 4:]
        boxes = anchors + deltas
        tgt = L.X.zeros(8, 3)
        tgt[pos, gcls[idx[pos]]] = 1.0
        cls = _sigmoid_focal(L, logits, tgt).sum() / max(len(pos), 1)
        reg = L.F.smooth_l1_loss(deltas[pos], (gt[idx[pos]] - anchors[pos]), beta=0.5)
        giou = (1 - _giou(L, boxes[pos], gt[idx[pos]]).diagonal()).mean()
        loss = cls + reg + giou
        opt.zero_grad()
        loss.backward()
        opt.step()
        yield {"pos": pos, "parts": [cls, reg, giou], **snap(m)}


def test_p40_detection_iou_giou_focal():
    assert port(_det_build, _det_train) == 4


# ----------------------------------------------------------------------------------------------
# p41 quantisation-aware training (LSQ): fake quantisation by a custom autograd.Function with
# save_for_backward, needs_input_grad and the LSQ gradient for a learnable step size; a
# straight-through round(x) by the detach trick on activations; once_differentiable; the
# weights' step initialised from their mean absolute value; SGD with a separate group for the
# step sizes.

def _lsq_build(L):
    nn = L.nn
    Fn = L.X.autograd.Function
    once = L.X.autograd.function.once_differentiable

    class LSQ(Fn):
        @staticmethod
        def forward(ctx, x, s, qn, qp):
            ctx.save_for_backward(x, s)
            ctx.q = (qn, qp)
            return (x / s).clamp(qn, qp).round() * s

        @staticmethod
        @once
        def backward(ctx, g):
            x, s = ctx.saved_tensors
            qn, qp = ctx.q
            v = x / s
            lo, hi = v < qn, v > qp
            mid = ~(lo | hi)
            gx = g * mid.to(g.dtype) if ctx.needs_input_grad[0] else None
            gs_el = L.X.where(lo, L.X.full_like(v, qn), L.X.where(hi, L.X.full_like(v, qp),
                                                                    v.round() - v))
            scale = 1.0 / math.sqrt(x.numel() * qp)
            gs = (g * gs_el).sum().reshape(s.shape) * scale if ctx.needs_input_grad[1] else None
            return gx, gs, None, None

    class QLinear(nn.Linear):
        def __init__(self, i, o, bits=3):
            super().__init__(i, o)
            self.qn, self.qp = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
            self.s = nn.Parameter(L.X.tensor(1.0))

        def init_step(self):
            with L.X.no_grad():
                self.s.copy_(2 * self.weight.abs().mean() / math.sqrt(self.qp))

        def forward(self, x):
            xq = x + (x.round() - x).detach()  # straight-through rounding of activations
            return L.F.linear(xq, LSQ.apply(self.weight, self.s, self.qn, self.qp), self.bias)

    m = nn.Sequential(QLinear(4, 8), nn.ReLU(), QLinear(8, 2))
    return m


def _lsq_train(L, m):
    rng = np.random.default_rng(41)
    for q in (m[0], m[2]):
        q.init_step()
    steps = [m[0].s, m[2].s]
    others = [p for n, p in m.named_parameters() if not n.endswith(".s")]
    opt = L.optim.SGD([{"params": others}, {"params": steps, "lr": 1e-3}], lr=0.05)
    for _ in range(4):
        x, y = L.T(rng.standard_normal((6, 4)) * 2), L.T(rng.integers(0, 2, 6))
        loss = L.F.cross_entropy(m(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        yield {"loss": loss, **snap(m)}


def test_p41_lsq_quantisation_aware_training():
    assert port(_lsq_build, _lsq_train) == 4


# ----------------------------------------------------------------------------------------------
# p42 training-loop plumbing: a non-persistent buffer (absent from the state dict), a manual lr
# decay by writing param_groups[...]["lr"], autograd.backward of two losses with their own
# grad_tensors, retain_grad on an intermediate, an optimizer state_dict round trip into a fresh
# optimizer mid-run, add_param_group for a head unfrozen at step 2; Adam.

def _plumb_build(L):
    nn = L.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(3, 5)
            self.head = nn.Linear(5, 2)
            self.register_buffer("scale", L.X.full((5,), 0.5), persistent=False)
            for p in self.head.parameters():
                p.requires_grad_(False)

        def forward(self, x):
            h = L.X.tanh(self.body(x)) * self.scale
            h.retain_grad()
            self.h = h
            return self.head(h), h.pow(2).mean()

    m = Net()
    assert "scale" not in m.state_dict()
    return m


def _plumb_train(L, m):
    rng = np.random.default_rng(42)
    opt = L.optim.Adam(m.body.parameters(), lr=1e-2)
    for step in range(5):
        x, y = L.T(rng.standard_normal((4, 3))), L.T(rng.standard_normal((4, 2)))
        out, reg = m(x)
        main = L.F.mse_loss(out, y, reduction="none").mean(0)
        opt.zero_grad()
        L.X.autograd.backward([main, reg], [L.T([1.0, 0.5]), L.T(0.1)])
        yield {"h_grad": m.h.grad, **snap(m)}
        opt.step()
        for g in opt.param_groups:
            g["lr"] = g["lr"] * 0.7
        if step == 1:
            for p in m.head.parameters():
                p.requires_grad_(True)
            opt.add_param_group({"params": m.head.parameters(), "lr": 5e-3})
        if step == 2:
            sd = opt.state_dict()
            opt = L.optim.Adam([{"params": m.body.parameters()}, {"params": m.head.parameters()}])
            opt.load_state_dict(sd)
        yield opt_state(opt)


def test_p42_training_loop_plumbing():
    assert port(_plumb_build, _plumb_train) == 10



# ----------------------------------------------------------------------------------------------
# p43 eight schools by variational inference (non-centred): mu ~ Normal(0, 5), tau ~
# HalfCauchy(5) through a softplus, theta = mu + tau * eta, a mean-field Normal guide sampled by
# the reparameterisation with NumPy noise, the ELBO with the entropy in closed form and the
# log-Jacobian of the softplus; Adam. (HalfCauchy was missing.)

_SCHOOLS_Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
_SCHOOLS_S = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])


def _schools_build(L):
    nn = L.nn

    class Guide(nn.Module):
        def __init__(self):
            super().__init__()
            self.loc = nn.Parameter(L.X.zeros(10))
            self.log_scale = nn.Parameter(L.X.full((10,), -1.0))

    return Guide()


def _schools_train(L, q):
    rng = np.random.default_rng(43)
    D = L.D
    y, sigma = L.T(_SCHOOLS_Y), L.T(_SCHOOLS_S)
    opt = L.optim.Adam(q.parameters(), lr=0.05)
    for _ in range(4):
        eps = L.T(rng.standard_normal((3, 10)))
        z = q.loc + q.log_scale.exp() * eps  # (draws, [mu, tau_raw, eta x 8])
        mu, tau_raw, eta = z[:, 0], z[:, 1], z[:, 2:]
        tau = L.F.softplus(tau_raw)
        theta = mu[:, None] + tau[:, None] * eta
        log_joint = (D.Normal(0.0, 5.0).log_prob(mu) + D.HalfCauchy(5.0).log_prob(tau)
                     + L.X.log(L.X.sigmoid(tau_raw))          # d softplus / d tau_raw
                     + D.Normal(0.0, 1.0).log_prob(eta).sum(-1)
                     + D.Normal(theta, sigma).log_prob(y).sum(-1))
        entropy = D.Normal(q.loc, q.log_scale.exp()).entropy().sum()
        elbo = log_joint.mean() + entropy
        opt.zero_grad()
        (-elbo).backward()
        opt.step()
        yield {"elbo": elbo, "tau": tau, **snap(q)}
    yield {"tau_cdf": D.HalfCauchy(5.0).cdf(tau.detach()), "hn": D.HalfNormal(L.T(2.0)).log_prob(tau.detach())}


def test_p43_eight_schools_half_cauchy():
    assert port(_schools_build, _schools_train) == 5


# ----------------------------------------------------------------------------------------------
# p44 scVI-style count autoencoder: log1p-normalised counts into an encoder, a softmax decoder
# over genes scaled by the library size, a learnable per-gene inverse dispersion (total_count =
# exp(log_theta)), NegativeBinomial(total_count, logits = log(mu) - log(theta)) reconstruction
# likelihood plus a KL to the standard normal; AdamW with weight decay off for the dispersion.
# (NegativeBinomial was missing.)

def _scvi_build(L):
    nn = L.nn

    class SCVI(nn.Module):
        def __init__(self, genes=7, latent=2):
            super().__init__()
            self.enc = nn.Sequential(nn.Linear(genes, 8, bias=False), nn.BatchNorm1d(8), nn.ReLU())
            self.mu, self.logvar = nn.Linear(8, latent), nn.Linear(8, latent)
            self.dec = nn.Sequential(nn.Linear(latent, 8), nn.ReLU(), nn.Linear(8, genes))
            self.log_theta = nn.Parameter(L.X.zeros(genes))

        def forward(self, counts, eps):
            h = self.enc(L.X.log1p(counts))
            mu, logvar = self.mu(h), self.logvar(h)
            z = mu + (0.5 * logvar).exp() * eps
            lib = counts.sum(1, keepdim=True)
            rate = L.F.softmax(self.dec(z), dim=-1) * lib
            theta = self.log_theta.exp()
            nb = L.D.NegativeBinomial(total_count=theta, logits=(rate + 1e-8).log() - theta.log())
            kl = L.D.kl_divergence(L.D.Normal(mu, (0.5 * logvar).exp()),
                                   L.D.Normal(L.X.zeros_like(mu), L.X.ones_like(mu))).sum(-1)
            return nb.log_prob(counts).sum(-1), kl, nb

    return SCVI()


def _scvi_train(L, m):
    rng = np.random.default_rng(44)
    groups = [{"params": [p for n, p in m.named_parameters() if n != "log_theta"]},
              {"params": [m.log_theta], "weight_decay": 0.0}]
    opt = L.optim.AdamW(groups, lr=1e-2, weight_decay=1e-3)
    for _ in range(4):
        counts = L.T(rng.poisson(rng.uniform(0.2, 6, (6, 7))).astype(np.float64))
        ll, kl, nb = m(counts, L.T(rng.standard_normal((6, 2))))
        loss = (-ll + kl).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        yield {"ll": ll, "kl": kl, "nb_mean": nb.mean, "nb_var": nb.variance, **snap(m)}


def test_p44_scvi_negative_binomial():
    assert port(_scvi_build, _scvi_train) == 4



# ----------------------------------------------------------------------------------------------
# p45 WGAN-GP with a DCGAN-style critic: bias-free strided convs, InstanceNorm2d(affine) and
# LeakyReLU(inplace=True) (recorded in place under create_graph), the gradient penalty at random
# interpolates (NumPy alphas), five critic steps per generator step, Adam betas (0, 0.9).

def _wgangp_build(L):
    nn = L.nn
    g = nn.Sequential(nn.ConvTranspose2d(4, 6, 4, 1, 0, bias=False), nn.BatchNorm2d(6), nn.ReLU(True),
                      nn.ConvTranspose2d(6, 1, 4, 2, 1), nn.Tanh())
    d = nn.Sequential(nn.Conv2d(1, 4, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
                      nn.Conv2d(4, 8, 4, 2, 1, bias=False), nn.InstanceNorm2d(8, affine=True),
                      nn.LeakyReLU(0.2, inplace=True), nn.Conv2d(8, 1, 2, 1, 0))
    return g, d


def _wgangp_train(L, g, d):
    rng = np.random.default_rng(45)
    od = L.optim.Adam(d.parameters(), lr=1e-3, betas=(0.0, 0.9))
    og = L.optim.Adam(g.parameters(), lr=1e-3, betas=(0.0, 0.9))
    for it in range(2):
        for _c in range(3):
            real = L.T(np.tanh(rng.standard_normal((3, 1, 8, 8))))
            fake = g(L.T(rng.standard_normal((3, 4, 1, 1)))).detach()
            a = L.T(rng.uniform(size=(3, 1, 1, 1)))
            xi = (a * real + (1 - a) * fake).requires_grad_(True)
            (gr,) = L.X.autograd.grad(d(xi).sum(), xi, create_graph=True)
            gp = ((gr.view(3, -1).norm(2, dim=1) - 1) ** 2).mean()
            ld = d(fake).mean() - d(real).mean() + 10 * gp
            od.zero_grad()
            ld.backward()
            od.step()
        lg = -d(g(L.T(rng.standard_normal((3, 4, 1, 1))))).mean()
        og.zero_grad()
        lg.backward()
        og.step()
        yield {"ld": ld, "gp": gp, "lg": lg, **snap(g, d)}


def test_p45_wgan_gp_instance_norm_inplace():
    assert port(_wgangp_build, _wgangp_train) == 2


# ----------------------------------------------------------------------------------------------
# p46 StyleGAN2's modulated convolution: a mapping MLP gives per-sample styles, the weight is
# modulated and demodulated per sample (rsqrt of the summed squares), applied as one grouped
# conv over the batch folded into channels (x.view(1, B*C, H, W), groups=B); noise injection
# with NumPy noise and a learned strength; the path-length penalty (gradient of the image
# against a random direction with respect to the latents, create_graph) with an EMA target
# buffer; Adam.

def _stylegan_build(L):
    nn = L.nn

    class ModConv(nn.Module):
        def __init__(self, cin, cout, w_dim, k=3, demod=True):
            super().__init__()
            r = np.random.default_rng(cin * 10 + cout)
            self.weight = nn.Parameter(L.X.tensor(r.standard_normal((cout, cin, k, k))))
            self.affine = nn.Linear(w_dim, cin)
            self.noise_strength = nn.Parameter(L.X.tensor(0.1))
            self.demod, self.pad = demod, k // 2

        def forward(self, x, w, noise):
            b, c, h, wd = x.shape
            s = self.affine(w) + 1  # (B, Cin)
            wt = self.weight[None] * s[:, None, :, None, None]  # (B, O, Cin, k, k)
            if self.demod:
                wt = wt * L.X.rsqrt(wt.pow(2).sum([2, 3, 4], keepdim=True) + 1e-8)
            wt = wt.reshape(-1, c, wt.shape[-2], wt.shape[-1])
            out = L.F.conv2d(x.reshape(1, b * c, h, wd), wt, padding=self.pad, groups=b)
            out = out.view(b, -1, h, wd)
            return L.F.leaky_relu(out + self.noise_strength * noise, 0.2)

    class G(nn.Module):
        def __init__(self, z_dim=4, w_dim=5):
            super().__init__()
            self.mapping = nn.Sequential(nn.Linear(z_dim, w_dim), nn.LeakyReLU(0.2),
                                         nn.Linear(w_dim, w_dim))
            self.const = nn.Parameter(L.X.ones(1, 3, 4, 4))
            self.c1 = ModConv(3, 4, w_dim)
            self.c2 = ModConv(4, 2, w_dim)
            self.rgb = ModConv(2, 1, w_dim, k=1, demod=False)
            self.register_buffer("pl_mean", L.X.zeros(()))

        def forward(self, w, noises):
            x = self.const.expand(w.shape[0], -1, -1, -1)
            x = self.c1(x, w, noises[0])
            x = L.F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = self.c2(x, w, noises[1])
            return self.rgb(x, w, 0.0)

    return G()


def _stylegan_train(L, g):
    rng = np.random.default_rng(46)
    opt = L.optim.Adam(g.parameters(), lr=2e-3, betas=(0.0, 0.99))
    for _ in range(3):
        z = L.T(rng.standard_normal((2, 4)))
        noises = [L.T(rng.standard_normal((2, 1, 4, 4))), L.T(rng.standard_normal((2, 1, 8, 8)))]
        w = g.mapping(z)
        img = g(w, noises)
        y = L.T(rng.standard_normal(img.shape)) / math.sqrt(64)
        (gw,) = L.X.autograd.grad((img * y).sum(), w, create_graph=True)
        lengths = gw.pow(2).sum(1).sqrt()
        with L.X.no_grad():
            g.pl_mean.copy_(g.pl_mean.lerp(lengths.mean(), 0.01))
        pl = ((lengths - g.pl_mean) ** 2).mean()
        loss = (img ** 2).mean() + 2.0 * pl
        opt.zero_grad()
        loss.backward()
        opt.step()
        yield {"img": img, "pl": pl, **snap(g)}


def test_p46_stylegan2_modulated_conv_path_length():
    assert port(_stylegan_build, _stylegan_train) == 3


# ----------------------------------------------------------------------------------------------
# p47 second-order MAML on a sequence classifier: Conv1d front end and an LSTM whose weights
# are swapped in by torch.func.functional_call, two inner steps with create_graph, the outer
# loss through the inner updates (double backward through the LSTM recurrence and conv1d);
# SGD outer optimiser with momentum.

def _seqmaml_build(L):
    nn = L.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(2, 3, 3, padding=1)
            self.lstm = nn.LSTM(3, 4, batch_first=True)
            self.head = nn.Linear(4, 2)

        def forward(self, x):
            h = L.F.relu(self.conv(x)).transpose(1, 2)
            out, _ = self.lstm(h)
            return self.head(out[:, -1])

    return Net()


def _seqmaml_train(L, m):
    rng = np.random.default_rng(47)
    fcall = L.X.func.functional_call
    opt = L.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        xs, ys = L.T(rng.standard_normal((4, 2, 5))), L.T(rng.integers(0, 2, 4))
        xq, yq = L.T(rng.standard_normal((4, 2, 5))), L.T(rng.integers(0, 2, 4))
        params = dict(m.named_parameters())
        for _inner in range(2):
            loss = L.F.cross_entropy(fcall(m, params, (xs,)), ys)
            grads = L.X.autograd.grad(loss, list(params.values()), create_graph=True)
            params = {k: p - 0.3 * g for (k, p), g in zip(params.items(), grads)}
        q = L.F.cross_entropy(fcall(m, params, (xq,)), yq)
        q.backward()
        opt.step()
        yield {"q": q, **snap(m)}


def test_p47_second_order_maml_lstm_conv1d():
    assert port(_seqmaml_build, _seqmaml_train) == 2


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


def _clamp_case(rng, shape_x, shape_lo, shape_hi):
    """Values on a coarse grid so that ties with the bounds occur, a NaN here and there."""
    def draw(shape):
        if shape is None:
            return None
        a = np.asarray(rng.integers(-3, 4, shape) / 2, dtype=np.float64)
        a[rng.uniform(size=shape) < 0.1] = np.nan
        return a
    return draw(shape_x), draw(shape_lo), draw(shape_hi)


@pytest.mark.parametrize("sx,slo,shi", [((5, 4), (5, 4), (5, 4)), ((5, 4), (4,), None),
                                         ((5, 4), None, (5, 1)), ((4,), (3, 4), (3, 1)),
                                         ((2, 3), (), (2, 3)), ((0, 3), (3,), (3,))])
def test_clamp_tensor_bounds_match_torch(sx, slo, shi):
    """PGD's ``clamp(x_adv, x - eps, x + eps)`` (p33) was a TypeError ("min must be a number")
    on this branch's base; main has since added torch's Tensor overload. Values and all three
    gradients under a random upstream gradient, ties, NaN (a NaN min with x > max included: the
    value is NaN, the gradient still max's), min > max and broadcasting, equal torch's."""
    rng = np.random.default_rng(hash((sx, slo, shi)) % 2 ** 32)
    arrays = _clamp_case(rng, sx, slo, shi)
    res = []
    for L in (TL, GL):
        ts = [None if a is None else L.T(a, requires_grad=True) for a in arrays]
        y = L.X.clamp(ts[0], ts[1], ts[2])
        if not res:
            u = rng.standard_normal(tuple(y.shape))
        (y * L.T(u)).sum().backward()
        res.append([_np(y)] + [None if t is None else _np(t.grad) for t in ts])
    np.testing.assert_array_equal(res[1][0], res[0][0])
    for a, b in zip(res[0][1:], res[1][1:]):  # a broadcast bound's gradient: a sum, in any order
        if a is not None:
            np.testing.assert_allclose(b, a, rtol=1e-14, atol=0)


def test_clamp_tensor_bounds_every_order_of_three_values_and_nan():
    """All 64 (x, min, max) in {0, 1, 2, NaN}^3 at once: values and the three gradients equal
    torch's exactly. main's select chain gave max's value (not NaN) at x > max with a NaN min."""
    vals = [0.0, 1.0, 2.0, np.nan]
    combos = np.array(list(itertools.product(vals, repeat=3)))
    u = np.arange(1.0, 65.0)
    res = []
    for L in (TL, GL):
        x, lo, hi = (L.T(combos[:, i].copy(), requires_grad=True) for i in range(3))
        y = L.X.clamp(x, lo, hi)
        (y * L.T(u)).sum().backward()
        res.append([_np(v) for v in (y, x.grad, lo.grad, hi.grad)])
    for a, b in zip(*res):
        np.testing.assert_array_equal(b, a)


def test_clamp_tensor_bounds_dtypes_inplace_gradcheck_and_errors():
    x64 = tg.tensor(np.linspace(-2, 2, 6))
    lo = tg.tensor(np.full(6, -1.0), dtype=np.float32)
    assert tg.clamp(tg.tensor(np.arange(6)), min=tg.tensor([1.5, 0.5] * 3)).dtype == np.float64
    assert tg.clamp(x64.float(), min=lo).dtype == np.float32
    assert x64.clamp(lo, lo + 2).dtype == np.float64
    # the methods, clamp_min/clamp_max and in place, on a graph
    a = tg.tensor(np.linspace(-2, 2, 6), requires_grad=True)
    b = tg.tensor(np.linspace(1, -1, 6), requires_grad=True)
    h = a * 1.0
    h.clamp_(min=b)
    (h.clamp_max(b + 0.5) * tg.tensor(np.arange(6.0))).sum().backward()
    ta = torch.tensor(np.linspace(-2, 2, 6), requires_grad=True)
    tb = torch.tensor(np.linspace(1, -1, 6), requires_grad=True)
    th = ta * 1.0
    th.clamp_(min=tb)
    (th.clamp_max(tb + 0.5) * torch.arange(6.0)).sum().backward()
    np.testing.assert_array_equal(a.grad.data, ta.grad.numpy())
    np.testing.assert_array_equal(b.grad.data, tb.grad.numpy())
    # away from ties the function is smooth: finite differences, first and second order
    rng = np.random.default_rng(3)
    args = [tg.tensor(v, requires_grad=True) for v in
            (rng.standard_normal((3, 4)), rng.standard_normal(4) - 0.5, rng.standard_normal((3, 1)) + 0.5)]
    assert tg.gradcheck(lambda x, lo, hi: tg.clamp(x, lo, hi), args)
    assert tg.gradgradcheck(lambda x, lo, hi: tg.clamp(x, lo, hi) ** 2, args)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        tg.clamp(x64, tg.zeros(4))


# --- distributions a hierarchical model (p43) and a count model (p44) needed ------------------

def _dist_pair(name, params, **kw):
    """The torch and the tinygrad_norm distribution of ``name`` on leaf copies of ``params``."""
    out = []
    for L in (TL, GL):
        leaves = {k: L.T(v, requires_grad=True) for k, v in params.items()}
        out.append((getattr(L.D, name)(**leaves, **kw), leaves))
    return out


def _grads_equal(tleaves, gleaves, rtol=1e-10):
    for k in tleaves:
        np.testing.assert_allclose(gleaves[k].grad.data, tleaves[k].grad.numpy(), rtol=rtol,
                                   atol=1e-13, err_msg=k)


_CONT = [("Cauchy", {"loc": [0.3, -1.0, 2.0], "scale": [0.5, 2.0, 1.5]}),
         ("HalfCauchy", {"scale": [0.5, 2.0, 1.5]}),
         ("HalfNormal", {"scale": [0.5, 2.0, 1.5]})]


@pytest.mark.parametrize("name,params", _CONT)
def test_heavy_tailed_and_half_distributions_match_torch(name, params):
    rng = np.random.default_rng(43)
    value = np.array([[0.7, 3.0, 0.2], [0.0, 1.0, -0.5]])  # -0.5: outside the half supports
    prob = np.array([0.1, 0.5, 0.93])
    u = rng.standard_normal((2, 3))
    (td, tl), (gd, gl) = _dist_pair(name, params, validate_args=False)  # -0.5 scored too
    for fn in ("log_prob", "cdf"):
        tv, gv = getattr(td, fn)(torch.tensor(value)), getattr(gd, fn)(tg.tensor(value))
        np.testing.assert_allclose(gv.data, tv.detach().numpy(), rtol=1e-12, atol=1e-15)
    tot_t = (td.log_prob(torch.tensor(value[:1])) * torch.tensor(u[:1])).sum() + \
        (td.icdf(torch.tensor(prob)) * torch.tensor(u[1])).sum() + td.entropy().sum()
    tot_g = (gd.log_prob(tg.tensor(value[:1])) * tg.tensor(u[:1])).sum() + \
        (gd.icdf(tg.tensor(prob)) * tg.tensor(u[1])).sum() + gd.entropy().sum()
    tot_t.backward()
    tot_g.backward()
    _grads_equal(tl, gl)
    for attr in ("mean", "mode", "variance"):
        np.testing.assert_allclose(getattr(gd, attr).data, getattr(td, attr).detach().numpy(),
                                   rtol=1e-14)
    assert gd.batch_shape == td.batch_shape and gd.has_rsample
    e = gd.expand((4, 3))
    assert e.batch_shape == (4, 3) and e.log_prob(tg.tensor(value[0])).shape == (4, 3)
    # rsample: the right law (a quantile of many draws) and a pathwise gradient to the scale
    tg.manual_seed(0)
    s = gd.rsample((20000,))
    assert s.shape == (20000, 3)
    med = np.median(s.data, axis=0)
    np.testing.assert_allclose(med, gd.icdf(tg.tensor(np.full(3, 0.5))).data, rtol=0.05, atol=0.03)
    s.sum().backward()
    assert all(v.grad is not None for v in gl.values())


def test_half_and_cauchy_gradcheck_and_validation():
    scale = tg.tensor(np.array([0.5, 2.0]), requires_grad=True)
    loc = tg.tensor(np.array([0.1, -0.3]), requires_grad=True)
    x = tg.tensor(np.array([0.4, 1.7]))
    D = tg.distributions
    assert tg.gradcheck(lambda a, b: D.Cauchy(a, b).log_prob(x) + D.Cauchy(a, b).cdf(x), (loc, scale))
    assert tg.gradgradcheck(lambda b: D.HalfCauchy(b).log_prob(x) + D.HalfNormal(b).icdf(x / 2), (scale,))
    with pytest.raises(ValueError):  # torch's support check, with validation on
        D.HalfNormal(scale, validate_args=True).log_prob(tg.tensor(np.array([-1.0, 1.0])))
    with pytest.raises(ValueError):
        D.HalfCauchy(tg.tensor(np.array([-1.0])), validate_args=True)


@pytest.mark.parametrize("which", ["logits", "probs"])
def test_negative_binomial_matches_torch(which):
    rng = np.random.default_rng(44)
    r = np.array([[0.5, 2.0, 7.3], [1.0, 0.0, 3.0]])
    par = rng.standard_normal((2, 3)) if which == "logits" else rng.uniform(0.05, 0.9, (2, 3))
    value = np.array([[0.0, 3.0, 11.0], [2.0, 0.0, 1.0]])  # r = 0 with k = 0: probability 1
    u = rng.standard_normal((2, 3))
    (td, tl), (gd, gl) = _dist_pair("NegativeBinomial", {"total_count": r, which: par})
    tv, gv = td.log_prob(torch.tensor(value)), gd.log_prob(tg.tensor(value))
    np.testing.assert_allclose(gv.data, tv.detach().numpy(), rtol=1e-12)
    # total_count's gradient through lgamma; at r = k = 0 torch's is NaN (digamma(0) times the
    # masked zero), ours the true u * log(1 - p) (the select reads r = 1 in the lgammas there):
    # compared where r > 0
    (tv * torch.tensor(u)).sum().backward()
    (gv * tg.tensor(u)).sum().backward()
    assert np.isnan(tl["total_count"].grad.numpy()[1, 1])
    np.testing.assert_allclose(gl["total_count"].grad.data[1, 1],
                               u[1, 1] * np.log1p(-td.probs.detach().numpy()[1, 1]), rtol=1e-12)
    mask = r > 0
    np.testing.assert_allclose(gl["total_count"].grad.data[mask],
                               tl["total_count"].grad.numpy()[mask], rtol=1e-10)
    np.testing.assert_allclose(gl[which].grad.data, tl[which].grad.numpy(), rtol=1e-10, atol=1e-13)
    for attr in ("mean", "mode", "variance"):
        np.testing.assert_allclose(getattr(gd, attr).data, getattr(td, attr).detach().numpy(),
                                   rtol=1e-12)
    other = "probs" if which == "logits" else "logits"
    np.testing.assert_allclose(getattr(gd, other).data, getattr(td, other).detach().numpy(),
                               rtol=1e-12)
    tg.manual_seed(1)
    s = gd.expand((4000, 2, 3)).sample()
    np.testing.assert_allclose(s.data.mean(0), gd.mean.data, rtol=0.15, atol=0.1)


def test_negative_binomial_gradcheck_and_errors():
    D = tg.distributions
    r = tg.tensor(np.array([0.7, 2.5]), requires_grad=True)
    lg = tg.tensor(np.array([-0.3, 0.8]), requires_grad=True)
    k = tg.tensor(np.array([1.0, 4.0]))
    assert tg.gradcheck(lambda a, b: D.NegativeBinomial(a, logits=b).log_prob(k), (r, lg))
    assert tg.gradgradcheck(lambda a, b: D.NegativeBinomial(a, logits=b).log_prob(k), (r, lg))
    with pytest.raises(ValueError):
        D.NegativeBinomial(r, probs=tg.tensor(np.array([0.2, 0.3])), logits=lg)
    with pytest.raises(ValueError):  # probs = 1 is outside [0, 1), with validation
        D.NegativeBinomial(r, probs=tg.tensor(np.array([0.2, 1.0])), validate_args=True)
