"""Thirty-odd more real programs ported from torch, step for step (hunt 4, branch models4).

The harness is models3's (tests/test_models3_regressions.py): each program is written once against
a namespace ``L`` that is torch or tinygrad_norm, both run in float64 from the same weights (ours
load torch's state dict) on the same NumPy data and noise, and every step's losses, gradients,
parameters, buffers, learning rates and optimizer state are compared at 1e-10. These programs
exercise what models3's did not: flows (slogdet, actnorm, masked autoregressive layers), vector
quantisation, policy-gradient and actor-critic RL, contrastive and distillation losses, KV-cached
generation, checkpointing, input derivatives (PINN), Fisher penalties, sparse embeddings, SWA and
the cyclic schedulers. The regressions for the bugs they found are in
tests/test_models4_fixes.py."""
from __future__ import annotations

import copy
import itertools
import math

import numpy as np
import pytest

import tinygrad_norm as tg

torch = pytest.importorskip("torch")
torch.set_num_threads(1)


from ported_programs import (GL, TL, _cmp, _copy, _float64_defaults, _Lib, _np,  # noqa: F401
                             opt_state, port, snap)



def _t(L, a):
    """NumPy data as a tensor of the default dtype (float64 here; float32 in the float32 runs)."""
    return L.X.tensor(np.asarray(a, dtype=np.float64), dtype=L.X.get_default_dtype())


# ----------------------------------------------------------------------------------------------
# q01 RealNVP on 2-D data: affine couplings with alternating binary masks (buffers), the scale
# squashed by tanh, the log-determinant summed from s, a standard-normal base by
# distributions.Normal(...).log_prob; the inverse pass samples under no_grad from NumPy z; Adam.

def _realnvp_build(L):
    nn = L.nn

    class Coupling(nn.Module):
        def __init__(self, mask):
            super().__init__()
            self.register_buffer("mask", L.X.tensor(mask))
            self.s = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(), nn.Linear(8, 2), nn.Tanh())
            self.t = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(), nn.Linear(8, 2))

        def forward(self, x):
            xm = x * self.mask
            s, t = self.s(xm) * (1 - self.mask), self.t(xm) * (1 - self.mask)
            return xm + (1 - self.mask) * (x * L.X.exp(s) + t), s.sum(dim=1)

        def inverse(self, y):
            ym = y * self.mask
            s, t = self.s(ym) * (1 - self.mask), self.t(ym) * (1 - self.mask)
            return ym + (1 - self.mask) * (y - t) * L.X.exp(-s)

    masks = [np.array([0.0, 1.0]), np.array([1.0, 0.0])] * 2
    return nn.ModuleList([Coupling(m) for m in masks])


def _realnvp_train(L, flows):
    rng = np.random.default_rng(101)
    base = L.D.Normal(L.X.zeros(2), L.X.ones(2))
    opt = L.optim.Adam(flows.parameters(), lr=5e-3)
    for _ in range(3):
        x = _t(L, rng.standard_normal((16, 2)) * [2.0, 0.5] + [1.0, -1.0])
        z, logdet = x, L.X.zeros(16)
        for f in flows:
            z, ld = f(z)
            logdet = logdet + ld
        loss = -(base.log_prob(z).sum(1) + logdet).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        yield {"loss": loss, "z": z, **snap(flows)}
    with L.X.no_grad():
        x = _t(L, rng.standard_normal((5, 2)))
        for f in reversed(flows):
            x = f.inverse(x)
    yield {"samples": x, **opt_state(opt)}


def test_q01_realnvp():
    assert port(_realnvp_build, _realnvp_train) == 4


# ----------------------------------------------------------------------------------------------
# q02 Glow step on images: squeeze by view/permute, ActNorm with data-dependent initialisation on
# the first batch (a uint8 "initialized" buffer, parameters written under no_grad with copy_), an
# invertible 1x1 conv two ways (a full weight with slogdet; the LU-decomposed one with tril/triu
# masks, sign and log of the diagonal, from linalg.lu), an affine coupling with sigmoid(h + 2) scales and a
# zero-initialised last conv, the bits-per-dim objective; Adamax.

def _glow_build(L):
    nn, X = L.nn, L.X
    rng = np.random.default_rng(102)

    class ActNorm(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.loc = nn.Parameter(X.zeros(1, c, 1, 1))
            self.log_scale = nn.Parameter(X.zeros(1, c, 1, 1))
            self.register_buffer("initialized", X.tensor(0, dtype=X.uint8))

        def forward(self, x):
            if self.initialized.item() == 0:
                with X.no_grad():
                    mean = x.mean(dim=(0, 2, 3), keepdim=True)
                    std = x.std(dim=(0, 2, 3), keepdim=True)
                    self.loc.copy_(-mean)
                    self.log_scale.copy_(X.log(1 / (std + 1e-6)))
                    self.initialized.fill_(1)
            h, w = x.shape[2:]
            return (x + self.loc) * X.exp(self.log_scale), h * w * self.log_scale.sum()

    class InvConv(nn.Module):
        def __init__(self, c):
            super().__init__()
            q = np.linalg.qr(rng.standard_normal((c, c)))[0]
            self.weight = nn.Parameter(X.tensor(q))

        def forward(self, x):
            h, w = x.shape[2:]
            ld = h * w * X.linalg.slogdet(self.weight)[1]
            return L.F.conv2d(x, self.weight.view(*self.weight.shape, 1, 1)), ld

    class InvConvLU(nn.Module):
        def __init__(self, c):
            super().__init__()
            q = np.linalg.qr(rng.standard_normal((c, c)))[0]
            p, lo, up = X.linalg.lu(X.tensor(q))
            s = X.diagonal(up)
            self.register_buffer("p", p)
            self.register_buffer("sign_s", X.sign(s))
            self.register_buffer("l_mask", X.tril(X.ones(c, c), -1))
            self.register_buffer("eye", X.eye(c))
            self.lower = nn.Parameter(lo)
            self.upper = nn.Parameter(X.triu(up, 1))
            self.log_s = nn.Parameter(X.log(X.abs(s)))

        def forward(self, x):
            h, w = x.shape[2:]
            lower = self.lower * self.l_mask + self.eye
            upper = self.upper * self.l_mask.T + X.diag(self.sign_s * X.exp(self.log_s))
            weight = self.p @ lower @ upper
            return L.F.conv2d(x, weight.unsqueeze(2).unsqueeze(3)), h * w * self.log_s.sum()

    class Coupling(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.net = nn.Sequential(nn.Conv2d(c // 2, 8, 3, padding=1), nn.ReLU(),
                                     nn.Conv2d(8, c, 3, padding=1))
            with X.no_grad():
                self.net[2].weight.zero_()
                self.net[2].bias.zero_()

        def forward(self, x):
            xa, xb = x.chunk(2, 1)
            log_s, t = self.net(xa).chunk(2, 1)
            s = X.sigmoid(log_s + 2)
            return X.cat([xa, (xb + t) * s], 1), X.log(s).flatten(1).sum(1)

    class Glow(nn.Module):
        def __init__(self):
            super().__init__()
            self.steps = nn.ModuleList([ActNorm(4), InvConv(4), Coupling(4),
                                        ActNorm(4), InvConvLU(4), Coupling(4)])

        def forward(self, x):
            b, c, h, w = x.shape
            x = x.view(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
            x = x.contiguous().view(b, c * 4, h // 2, w // 2)
            logdet = 0
            for step in self.steps:
                x, ld = step(x)
                logdet = logdet + ld
            return x, logdet

    return Glow()


def _glow_train(L, m):
    rng = np.random.default_rng(1021)
    opt = L.optim.Adamax(m.parameters(), lr=1e-2)
    with L.X.no_grad():  # Glow's data-dependent init on a batch of its own: on the training batch
        m(_t(L, rng.uniform(size=(8, 1, 4, 4))))  # itself loc's gradient is 0 up to rounding noise,
    for _ in range(3):                              # which Adamax's normalisation blows up to lr
        x = _t(L, rng.uniform(size=(4, 1, 4, 4)) + rng.uniform(size=(4, 1, 4, 4)) / 256)
        z, logdet = m(x)
        prior = -0.5 * (z ** 2 + math.log(2 * math.pi))
        ll = prior.flatten(1).sum(1) + logdet - math.log(256) * 16
        bpd = (-ll / (16 * math.log(2))).mean()
        opt.zero_grad()
        bpd.backward()
        yield {"bpd": bpd, "z": z, **snap(m)}
        opt.step()


def test_q02_glow_actnorm_invconv_slogdet():
    assert port(_glow_build, _glow_train) == 3


# ----------------------------------------------------------------------------------------------
# q03 MAF: MADE layers with connectivity masks as buffers (degrees by arange, masks by comparing
# degrees), applied through F.linear(x, mask * weight, bias); two stacked MADEs with the order
# reversed by flip; log-likelihood u = (x - mu) * exp(-alpha) with -alpha summed; sequential
# sampling under no_grad; Adam with weight decay.

def _maf_build(L):
    nn, X = L.nn, L.X
    D, H = 3, 8

    class MaskedLinear(nn.Linear):
        def __init__(self, fin, fout, mask):
            super().__init__(fin, fout)
            self.register_buffer("mask", mask)

        def forward(self, x):
            return L.F.linear(x, self.mask * self.weight, self.bias)

    class MADE(nn.Module):
        def __init__(self):
            super().__init__()
            din = X.arange(1, D + 1)
            dh = X.arange(H) % (D - 1) + 1
            m1 = (dh.unsqueeze(1) >= din.unsqueeze(0)).double()
            m2 = (din.unsqueeze(1) > dh.unsqueeze(0)).double()
            self.l1 = MaskedLinear(D, H, m1)
            self.mu = MaskedLinear(H, D, m2)
            self.alpha = MaskedLinear(H, D, m2)

        def forward(self, x):
            h = L.F.relu(self.l1(x))
            return self.mu(h), self.alpha(h).clamp(-5, 5)

    return nn.ModuleList([MADE(), MADE()])


def _maf_train(L, mades):
    X = L.X
    rng = np.random.default_rng(103)
    opt = L.optim.Adam(mades.parameters(), lr=1e-2, weight_decay=1e-4)
    for _ in range(3):
        x = _t(L, rng.standard_normal((10, 3)) @ [[1, 0.5, 0], [0, 1, 0.3], [0, 0, 1]])
        logdet = X.zeros(10)
        u = x
        for made in mades:
            mu, alpha = made(u)
            u = ((u - mu) * X.exp(-alpha)).flip(1)
            logdet = logdet - alpha.sum(1)
        ll = (-0.5 * u ** 2 - 0.5 * math.log(2 * math.pi)).sum(1) + logdet
        loss = -ll.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        yield {"loss": loss, "u": u, **snap(mades)}
    with X.no_grad():
        x = _t(L, rng.standard_normal((4, 3)))
        for made in reversed(mades):
            x = x.flip(1)
            out = X.zeros_like(x)
            for i in range(3):
                mu, alpha = made(out)
                out[:, i] = mu[:, i] + x[:, i] * X.exp(alpha[:, i])
            x = out
    yield {"samples": x}


def test_q03_maf_made_masks():
    assert port(_maf_build, _maf_train) == 4


# ----------------------------------------------------------------------------------------------
# q04 VQ-VAE: conv encoder, nearest code by the expanded squared distance and argmin, codes looked
# up by F.embedding, the straight-through estimator z + (zq - z).detach(), codebook and
# commitment losses; then the EMA codebook variant (one_hot counts, cluster sizes with Laplace
# smoothing, mul_/add_ on buffers under no_grad, the embedding weight rewritten by copy_) and the
# perplexity; Adam.

def _vq_build(L):
    nn = L.nn

    class VQVAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(nn.Conv2d(1, 6, 4, 2, 1), nn.ReLU(), nn.Conv2d(6, 3, 1))
            self.codebook = nn.Embedding(5, 3)
            self.dec = nn.Sequential(nn.ConvTranspose2d(3, 6, 4, 2, 1), nn.ReLU(),
                                     nn.Conv2d(6, 1, 3, padding=1))
            self.register_buffer("cluster_size", L.X.zeros(5))
            self.register_buffer("embed_avg", self.codebook.weight.detach().clone())

        def quantize(self, z):
            b, c, h, w = z.shape
            flat = z.permute(0, 2, 3, 1).reshape(-1, c)
            e = self.codebook.weight
            dist = flat.pow(2).sum(1, keepdim=True) - 2 * flat @ e.t() + e.pow(2).sum(1)
            idx = dist.argmin(1)
            zq = L.F.embedding(idx, e).view(b, h, w, c).permute(0, 3, 1, 2)
            return zq, idx, flat

    return VQVAE()


def _vq_train(L, m):
    X, F = L.X, L.F
    rng = np.random.default_rng(104)
    opt = L.optim.Adam(m.parameters(), lr=3e-3)
    for step in range(4):
        x = _t(L, rng.uniform(size=(3, 1, 8, 8)))
        z = m.enc(x)
        zq, idx, flat = m.quantize(z)
        ema = step >= 2
        commit = F.mse_loss(z, zq.detach())
        vq = 0.0 if ema else F.mse_loss(zq, z.detach())
        st = z + (zq - z).detach()
        rec = F.mse_loss(m.dec(st), x)
        loss = rec + vq + 0.25 * commit
        opt.zero_grad()
        loss.backward()
        opt.step()
        onehot = F.one_hot(idx, 5).double()
        probs = onehot.mean(0)
        perplexity = X.exp(-(probs * X.log(probs + 1e-10)).sum())
        if ema:
            with X.no_grad():
                m.cluster_size.mul_(0.9).add_(onehot.sum(0), alpha=0.1)
                m.embed_avg.mul_(0.9).add_(onehot.t() @ flat, alpha=0.1)
                n = m.cluster_size.sum()
                size = (m.cluster_size + 1e-5) / (n + 5 * 1e-5) * n
                m.codebook.weight.copy_(m.embed_avg / size.unsqueeze(1))
        yield {"loss": loss, "idx": idx, "perplexity": perplexity, **snap(m)}


def test_q04_vqvae_straight_through_ema():
    assert port(_vq_build, _vq_train) == 4


# ----------------------------------------------------------------------------------------------
# q05 PPO with GAE: a shared-trunk actor-critic, a rollout of NumPy observations, rewards and
# dones, actions by Categorical(logits=...) log_prob and entropy, GAE computed backwards in a
# Python loop over values under no_grad, advantages normalised (unbiased std), four epochs of
# NumPy-permuted minibatches with the clipped ratio, a clipped value loss and an entropy bonus,
# clip_grad_norm_ (its total norm logged); Adam eps 1e-5 with a LambdaLR linear decay.

def _ppo_build(L):
    nn = L.nn

    class AC(nn.Module):
        def __init__(self):
            super().__init__()
            self.trunk = nn.Sequential(nn.Linear(4, 16), nn.Tanh())
            self.pi = nn.Linear(16, 3)
            self.v = nn.Linear(16, 1)

        def forward(self, s):
            h = self.trunk(s)
            return L.D.Categorical(logits=self.pi(h)), self.v(h).squeeze(-1)

    return AC()


def _ppo_train(L, ac):
    X = L.X
    rng = np.random.default_rng(105)
    T = 12
    obs = _t(L, rng.standard_normal((T + 1, 4)))
    acts = L.T(rng.integers(0, 3, T))
    rews = _t(L, rng.standard_normal(T))
    dones = _t(L, (rng.uniform(size=T) < 0.2).astype(float))
    with X.no_grad():
        dist, values = ac(obs)
        old_logp = dist.log_prob(X.cat([acts, acts[:1]]))[:T]
    adv, last = X.zeros(T), 0.0
    for t in reversed(range(T)):
        nonterm = 1.0 - dones[t]
        delta = rews[t] + 0.99 * values[t + 1] * nonterm - values[t]
        last = delta + 0.99 * 0.95 * nonterm * last
        adv[t] = last
    ret = adv + values[:T]
    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    opt = L.optim.Adam(ac.parameters(), lr=3e-3, eps=1e-5)
    sched = L.optim.lr_scheduler.LambdaLR(opt, lambda e: 1 - e / 8)
    yield {"adv": adv, "ret": ret, "old_logp": old_logp}
    for epoch in range(4):
        for mb in np.split(rng.permutation(T), 3):
            i = L.T(mb)
            dist, v = ac(obs[i])
            logp = dist.log_prob(acts[i])
            ratio = (logp - old_logp[i]).exp()
            pg = -X.min(ratio * adv[i], X.clamp(ratio, 0.8, 1.2) * adv[i]).mean()
            v_clip = values[i] + (v - values[i]).clamp(-0.2, 0.2)
            vl = 0.5 * X.max((v - ret[i]) ** 2, (v_clip - ret[i]) ** 2).mean()
            ent = dist.entropy().mean()
            loss = pg + 0.5 * vl - 0.01 * ent
            opt.zero_grad()
            loss.backward()
            norm = L.nn.utils.clip_grad_norm_(ac.parameters(), 0.5)
            opt.step()
            approx_kl = ((ratio - 1) - (logp - old_logp[i])).mean()
            yield {"loss": loss, "norm": norm, "kl": approx_kl, "ent": ent, **snap(ac)}
        sched.step()
    yield {"lr": opt.param_groups[0]["lr"], **opt_state(opt)}


def test_q05_ppo_gae_categorical():
    assert port(_ppo_build, _ppo_train) == 14


# ----------------------------------------------------------------------------------------------
# q06 SAC: a squashed Gaussian actor (log_std clamped, u = mu + std * eps with NumPy eps, the
# tanh log-Jacobian by softplus, checked against TransformedDistribution with TanhTransform),
# twin Q critics with target copies by deepcopy, the soft Bellman target under no_grad with the
# min of the targets, critics frozen by requires_grad_(False) for the actor update, temperature
# auto-tuning through log_alpha, polyak averaging by mul_/add_ under no_grad; three Adams.

def _sac_build(L):
    nn = L.nn

    class Actor(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(3, 16), nn.ReLU())
            self.mu, self.log_std = nn.Linear(16, 2), nn.Linear(16, 2)

        def forward(self, s, eps):
            h = self.net(s)
            mu, log_std = self.mu(h), self.log_std(h).clamp(-20, 2)
            std = log_std.exp()
            u = mu + std * eps
            a = L.X.tanh(u)
            logp = L.D.Normal(mu, std).log_prob(u).sum(-1)
            logp = logp - (2 * (math.log(2) - u - L.F.softplus(-2 * u))).sum(-1)
            squashed = L.D.TransformedDistribution(
                L.D.Normal(mu, std), [L.D.transforms.TanhTransform(cache_size=1)])
            return a, logp, squashed.log_prob(a).sum(-1)

    def q():
        return nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1))

    return Actor(), q(), q()


def _sac_train(L, actor, q1, q2):
    X = L.X
    rng = np.random.default_rng(106)
    q1t, q2t = copy.deepcopy(q1), copy.deepcopy(q2)
    log_alpha = X.zeros(1, requires_grad=True)
    opt_pi = L.optim.Adam(actor.parameters(), lr=3e-3)
    opt_q = L.optim.Adam(list(q1.parameters()) + list(q2.parameters()), lr=3e-3)
    opt_a = L.optim.Adam([log_alpha], lr=3e-3)
    for _ in range(3):
        s, s2 = _t(L, rng.standard_normal((8, 3))), _t(L, rng.standard_normal((8, 3)))
        a = _t(L, rng.uniform(-1, 1, (8, 2)))
        r, d = _t(L, rng.standard_normal(8)), _t(L, (rng.uniform(size=8) < 0.2) * 1.0)
        eps, eps2 = _t(L, rng.standard_normal((8, 2))), _t(L, rng.standard_normal((8, 2)))
        alpha = log_alpha.exp().detach()
        with X.no_grad():
            a2, logp2, _ = actor(s2, eps2)
            sa2 = X.cat([s2, a2], -1)
            qt = X.min(q1t(sa2), q2t(sa2)).squeeze(-1)
            y = r + 0.99 * (1 - d) * (qt - alpha * logp2)
        sa = X.cat([s, a], -1)
        lq = ((q1(sa).squeeze(-1) - y) ** 2).mean() + ((q2(sa).squeeze(-1) - y) ** 2).mean()
        opt_q.zero_grad()
        lq.backward()
        opt_q.step()
        for p in itertools.chain(q1.parameters(), q2.parameters()):
            p.requires_grad_(False)
        api, logp, logp_td = actor(s, eps)
        sapi = X.cat([s, api], -1)
        lpi = (alpha * logp - X.min(q1(sapi), q2(sapi)).squeeze(-1)).mean()
        opt_pi.zero_grad()
        lpi.backward()
        opt_pi.step()
        for p in itertools.chain(q1.parameters(), q2.parameters()):
            p.requires_grad_(True)
        la = -(log_alpha * (logp + -2.0).detach()).mean()
        opt_a.zero_grad()
        la.backward()
        opt_a.step()
        with X.no_grad():
            for net, targ in ((q1, q1t), (q2, q2t)):
                for p, pt in zip(net.parameters(), targ.parameters()):
                    pt.mul_(0.95)
                    pt.add_(0.05 * p)
        yield {"lq": lq, "lpi": lpi, "la": la, "logp": logp, "logp_td": logp_td,
               "log_alpha": log_alpha, **snap(actor, q1, q2, q1t, q2t)}


def test_q06_sac_tanh_squash_polyak():
    assert port(_sac_build, _sac_train, rtol=1e-9) == 3


# ----------------------------------------------------------------------------------------------
# q07 TD3: a deterministic tanh actor and twin critics with target copies, target policy
# smoothing (NumPy noise clamped, the action clamped to [-1, 1]), the actor updated every other
# step through Q1 only, target networks by lerp_ under no_grad; Adam.

def _td3_build(L):
    nn = L.nn
    actor = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 2), nn.Tanh())
    critic = nn.ModuleList([nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1))
                            for _ in range(2)])
    return actor, critic


def _td3_train(L, actor, critic):
    X = L.X
    rng = np.random.default_rng(107)
    actor_t, critic_t = copy.deepcopy(actor), copy.deepcopy(critic)
    opt_a = L.optim.Adam(actor.parameters(), lr=1e-3)
    opt_c = L.optim.Adam(critic.parameters(), lr=1e-3)
    for step in range(4):
        s, s2 = _t(L, rng.standard_normal((8, 3))), _t(L, rng.standard_normal((8, 3)))
        a = _t(L, rng.uniform(-1, 1, (8, 2)))
        r, d = _t(L, rng.standard_normal((8, 1))), _t(L, (rng.uniform(size=(8, 1)) < 0.2) * 1.0)
        noise = (_t(L, rng.standard_normal((8, 2))) * 0.2).clamp(-0.5, 0.5)
        with X.no_grad():
            a2 = (actor_t(s2) + noise).clamp(-1, 1)
            sa2 = X.cat([s2, a2], 1)
            y = r + 0.99 * (1 - d) * X.min(critic_t[0](sa2), critic_t[1](sa2))
        sa = X.cat([s, a], 1)
        lc = sum(L.F.mse_loss(c(sa), y) for c in critic)
        opt_c.zero_grad()
        lc.backward()
        opt_c.step()
        rec = {"lc": lc}
        if step % 2 == 1:
            la = -critic[0](X.cat([s, actor(s)], 1)).mean()
            opt_a.zero_grad()
            la.backward()
            opt_a.step()
            with X.no_grad():
                for net, targ in ((actor, actor_t), (critic, critic_t)):
                    for p, pt in zip(net.parameters(), targ.parameters()):
                        pt.lerp_(p, 0.05)
            rec["la"] = la
        yield {**rec, **snap(actor, critic, actor_t, critic_t)}


def test_q07_td3_target_smoothing_delayed_actor():
    assert port(_td3_build, _td3_train) == 4


# ----------------------------------------------------------------------------------------------
# q08 metric learning: SimCLR's NT-Xent (two views, F.normalize, the self-similarity masked with
# masked_fill(eye, -inf), positives as labels by arange arithmetic, CE at temperature 0.5), a
# projection head with BatchNorm1d; a Siamese branch with Hadsell's contrastive loss on
# F.pairwise_distance, TripletMarginLoss, TripletMarginWithDistanceLoss (cosine distance, swap),
# CosineEmbeddingLoss and MarginRankingLoss; SGD with nesterov momentum and weight decay.

def _simclr_build(L):
    nn = L.nn
    enc = nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 8))
    head = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 4))
    return enc, head


def _simclr_train(L, enc, head):
    X, F, nn = L.X, L.F, L.nn
    rng = np.random.default_rng(108)
    params = list(enc.parameters()) + list(head.parameters())
    opt = L.optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4)
    trip = nn.TripletMarginLoss(margin=0.5)
    trip_cos = nn.TripletMarginWithDistanceLoss(
        distance_function=lambda a, b: 1 - F.cosine_similarity(a, b), margin=0.3, swap=True)
    cos_emb, rank = nn.CosineEmbeddingLoss(margin=0.1), nn.MarginRankingLoss(margin=0.2)
    n = 6
    for _ in range(3):
        base = rng.standard_normal((n, 6))
        v1 = _t(L, base + 0.1 * rng.standard_normal((n, 6)))
        v2 = _t(L, base + 0.1 * rng.standard_normal((n, 6)))
        z = F.normalize(head(enc(X.cat([v1, v2]))), dim=1)
        sim = (z @ z.T / 0.5).masked_fill(X.eye(2 * n, dtype=X.bool), float("-inf"))
        labels = X.cat([X.arange(n) + n, X.arange(n)])
        ntxent = F.cross_entropy(sim, labels)
        e1, e2, e3 = enc(v1), enc(v2), enc(_t(L, rng.standard_normal((n, 6))))
        same = _t(L, [1, 0, 1, 0, 0, 1])
        d = F.pairwise_distance(e1, e3)
        contrastive = (same * d.pow(2) + (1 - same) * F.relu(1.0 - d).pow(2)).mean() / 2
        tl, tcl = trip(e1, e2, e3), trip_cos(e1, e2, e3)
        ce = cos_emb(e1, e3, same * 2 - 1)
        rk = rank(e1.norm(dim=1), e3.norm(dim=1), _t(L, [1, -1, 1, 1, -1, -1]))
        loss = ntxent + contrastive + tl + tcl + ce + rk
        opt.zero_grad()
        loss.backward()
        yield {"ntxent": ntxent, "contrastive": contrastive, "trip": tl, "trip_cos": tcl,
               "cos_emb": ce, "rank": rk, **snap(enc, head)}
        opt.step()
    yield opt_state(opt)


def test_q08_simclr_ntxent_triplet_siamese():
    assert port(_simclr_build, _simclr_train) == 4


# ----------------------------------------------------------------------------------------------
# q09 knowledge distillation: a frozen teacher in eval mode (BatchNorm1d running stats, Dropout
# off), a smaller student; Hinton's loss KL(log_softmax(s/T) || softmax(t/T)) with batchmean
# times T^2, the same with log_target=True and through nn.KLDivLoss, mixed with a
# label-smoothed CE; the teacher's feature map matched by a learned regressor (FitNets hint,
# MSE); SGD with a CosineAnnealingLR.

def _kd_build(L):
    nn = L.nn
    teacher = nn.Sequential(nn.Linear(5, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3),
                            nn.Linear(16, 4))
    student = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 4))
    hint = nn.Linear(6, 16)
    return teacher, student, hint


def _kd_train(L, teacher, student, hint):
    X, F = L.X, L.F
    rng = np.random.default_rng(109)
    with X.no_grad():  # give the teacher's BatchNorm some running statistics
        teacher.train()
        teacher[:2](_t(L, rng.standard_normal((20, 5)) * 2 + 1))
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    opt = L.optim.SGD(list(student.parameters()) + list(hint.parameters()), lr=0.1)
    sched = L.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=3, eta_min=0.01)
    kl = L.nn.KLDivLoss(reduction="batchmean", log_target=True)
    T = 4.0
    for _ in range(3):
        x, y = _t(L, rng.standard_normal((8, 5))), L.T(rng.integers(0, 4, 8))
        t_logits, t_feat = teacher(x), teacher[:3](x)
        s_feat = student[:2](x)
        s_logits = student[2](s_feat)
        kd = F.kl_div(F.log_softmax(s_logits / T, 1), F.softmax(t_logits / T, 1),
                      reduction="batchmean") * T * T
        kd2 = kl(F.log_softmax(s_logits / T, 1), F.log_softmax(t_logits / T, 1)) * T * T
        hint_loss = F.mse_loss(hint(s_feat), t_feat)
        loss = 0.7 * kd + 0.3 * F.cross_entropy(s_logits, y, label_smoothing=0.1) + 0.1 * hint_loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        yield {"kd": kd, "kd2": kd2, "hint": hint_loss, "lr": sched.get_last_lr(),
               **snap(teacher, student, hint)}


def test_q09_knowledge_distillation():
    assert port(_kd_build, _kd_train) == 3


# ----------------------------------------------------------------------------------------------
# q10 MoCo v2: a query encoder and a momentum key encoder (deepcopy, requires_grad off, updated
# by mul_/add_ under no_grad), a queue buffer of normalised keys with an int64 pointer buffer,
# enqueue by slice assignment with the pointer wrapping, logits from einsum ("nc,nc->n" for the
# positives, "nc,ck->nk" against the cloned-and-detached queue), CE with zero labels at
# temperature 0.2; SGD momentum.

def _moco_build(L):
    nn = L.nn

    class MoCo(nn.Module):
        def __init__(self):
            super().__init__()
            self.q = nn.Sequential(nn.Linear(6, 10), nn.ReLU(), nn.Linear(10, 4))
            self.k = copy.deepcopy(self.q)
            for p in self.k.parameters():
                p.requires_grad = False
            qi = np.random.default_rng(110).standard_normal((4, 8))
            self.register_buffer("queue", L.F.normalize(L.X.tensor(qi), dim=0))
            self.register_buffer("ptr", L.X.zeros(1, dtype=L.X.long))

    return MoCo()


def _moco_train(L, m):
    X, F = L.X, L.F
    rng = np.random.default_rng(1101)
    opt = L.optim.SGD(m.q.parameters(), lr=0.05, momentum=0.9)
    for _ in range(4):
        base = rng.standard_normal((3, 6))
        xq = _t(L, base + 0.1 * rng.standard_normal((3, 6)))
        xk = _t(L, base + 0.1 * rng.standard_normal((3, 6)))
        q = F.normalize(m.q(xq), dim=1)
        with X.no_grad():
            for pq, pk in zip(m.q.parameters(), m.k.parameters()):
                pk.mul_(0.99).add_(pq.detach(), alpha=0.01)
            k = F.normalize(m.k(xk), dim=1)
        pos = X.einsum("nc,nc->n", q, k).unsqueeze(-1)
        neg = X.einsum("nc,ck->nk", q, m.queue.clone().detach())
        logits = X.cat([pos, neg], 1) / 0.2
        loss = F.cross_entropy(logits, X.zeros(3, dtype=X.long))
        opt.zero_grad()
        loss.backward()
        opt.step()
        ptr = int(m.ptr)
        idx = [(ptr + i) % 8 for i in range(3)]
        m.queue[:, idx] = k.T
        m.ptr[0] = (ptr + 3) % 8
        yield {"loss": loss, "logits": logits, **snap(m)}


def test_q10_moco_queue_momentum_encoder():
    assert port(_moco_build, _moco_train) == 4


# ----------------------------------------------------------------------------------------------
# q11 pix2pix: a two-level U-Net (strided convs with LeakyReLU and BatchNorm down, ConvTranspose2d
# with BatchNorm, Dropout (masks from NumPy, applied by hand as pix2pix keeps dropout as noise)
# and ReLU up, skips by cat on channels, tanh out), a PatchGAN discriminator on the cat of input
# and output (convs before a BatchNorm bias-free, as pix2pix's: a bias there has an analytically
# zero gradient whose rounding noise Adam would amplify), BCE-with-logits against
# ones_like/zeros_like patches, L1 weighted 100, the fake
# detached for D; two Adams betas (0.5, 0.999).

def _pix_build(L):
    nn = L.nn

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.d1 = nn.Conv2d(1, 4, 4, 2, 1)
            self.d2 = nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(4, 8, 4, 2, 1, bias=False),
                                    nn.BatchNorm2d(8))
            self.u2 = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(8, 4, 4, 2, 1, bias=False),
                                    nn.BatchNorm2d(4))
            self.u1 = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(8, 1, 4, 2, 1), nn.Tanh())

        def forward(self, x, mask):
            h1 = self.d1(x)
            h2 = self.d2(h1)
            up = self.u2(h2) * mask / 0.5
            return self.u1(L.X.cat([up, h1], 1))

    D = nn.Sequential(nn.Conv2d(2, 4, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(4, 8, 4, 1, 1, bias=False),
                      nn.BatchNorm2d(8), nn.LeakyReLU(0.2), nn.Conv2d(8, 1, 3, 1, 1))
    return UNet(), D


def _pix_train(L, G, D):
    X, F = L.X, L.F
    rng = np.random.default_rng(111)
    opt_g = L.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_d = L.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
    for _ in range(3):
        a, b = _t(L, rng.uniform(-1, 1, (2, 1, 8, 8))), _t(L, rng.uniform(-1, 1, (2, 1, 8, 8)))
        mask = _t(L, (rng.uniform(size=(2, 4, 4, 4)) > 0.5) * 1.0)
        fake = G(a, mask)
        pr, pf = D(X.cat([a, b], 1)), D(X.cat([a, fake.detach()], 1))
        ld = 0.5 * (F.binary_cross_entropy_with_logits(pr, X.ones_like(pr))
                    + F.binary_cross_entropy_with_logits(pf, X.zeros_like(pf)))
        opt_d.zero_grad()
        ld.backward()
        opt_d.step()
        pg = D(X.cat([a, fake], 1))
        lg = F.binary_cross_entropy_with_logits(pg, X.ones_like(pg)) + 100 * F.l1_loss(fake, b)
        opt_g.zero_grad()
        lg.backward()
        opt_g.step()
        yield {"ld": ld, "lg": lg, "fake": fake, **snap(G, D)}


def test_q11_pix2pix_unet_patchgan():
    assert port(_pix_build, _pix_train) == 3


# ----------------------------------------------------------------------------------------------
# q12 YOLOv1-style loss: an S x S x (C + 5B) head reshaped from a Linear, IoU of midpoint boxes
# against the target box for both predictors, the responsible box by max over a stacked IoU
# (argmax as float), an objectness mask from the target, sign(w) * sqrt(|w| + 1e-6) on the
# predicted sizes, coordinate / object / no-object / class sums with lambda_coord 5 and
# lambda_noobj 0.5; Adam.

def _iou_mid(L, a, b):
    a1, a2 = a[..., 0:2] - a[..., 2:4] / 2, a[..., 0:2] + a[..., 2:4] / 2
    b1, b2 = b[..., 0:2] - b[..., 2:4] / 2, b[..., 0:2] + b[..., 2:4] / 2
    wh = (L.X.min(a2, b2) - L.X.max(a1, b1)).clamp(min=0)
    inter = wh[..., 0:1] * wh[..., 1:2]
    area = lambda box: (box[..., 2:3] * box[..., 3:4]).abs()  # noqa: E731
    return inter / (area(a) + area(b) - inter + 1e-6)


def _yolo_build(L):
    nn = L.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 32), nn.LeakyReLU(0.1), nn.Linear(32, 4 * 12))


def _yolo_train(L, net):
    X = L.X
    rng = np.random.default_rng(112)
    opt = L.optim.Adam(net.parameters(), lr=1e-3)
    mse = L.nn.MSELoss(reduction="sum")
    for _ in range(3):
        x = _t(L, rng.standard_normal((3, 1, 4, 4)))
        tgt = np.zeros((3, 2, 2, 12))
        tgt[..., :2] = np.eye(2)[rng.integers(0, 2, (3, 2, 2))]
        obj = rng.uniform(size=(3, 2, 2)) < 0.5
        tgt[..., 2] = obj
        tgt[..., 3:5] = rng.uniform(size=(3, 2, 2, 2))
        tgt[..., 5:7] = rng.uniform(0.1, 1, (3, 2, 2, 2))
        tgt = _t(L, tgt)
        p = net(x).reshape(-1, 2, 2, 12)
        ious = X.cat([_iou_mid(L, p[..., 3:7], tgt[..., 3:7]).unsqueeze(0),
                      _iou_mid(L, p[..., 8:12], tgt[..., 3:7]).unsqueeze(0)], 0)
        _, best = X.max(ious, dim=0)
        best = best.double()
        exists = tgt[..., 2:3]
        box = exists * (best * p[..., 8:12] + (1 - best) * p[..., 3:7])
        box_t = exists * tgt[..., 3:7]
        box_wh = X.sign(box[..., 2:4]) * X.sqrt(X.abs(box[..., 2:4] + 1e-6))
        box_twh = X.sqrt(box_t[..., 2:4])
        coord = mse(box[..., 0:2].flatten(end_dim=-2), box_t[..., 0:2].flatten(end_dim=-2)) \
            + mse(box_wh.flatten(end_dim=-2), box_twh.flatten(end_dim=-2))
        conf = best * p[..., 7:8] + (1 - best) * p[..., 2:3]
        obj_l = mse(X.flatten(exists * conf), X.flatten(exists * tgt[..., 2:3]))
        noobj = mse(X.flatten((1 - exists) * p[..., 2:3], start_dim=1),
                    X.flatten((1 - exists) * tgt[..., 2:3], start_dim=1)) \
            + mse(X.flatten((1 - exists) * p[..., 7:8], start_dim=1),
                  X.flatten((1 - exists) * tgt[..., 2:3], start_dim=1))
        cls = mse(X.flatten(exists * p[..., :2], end_dim=-2), X.flatten(exists * tgt[..., :2], end_dim=-2))
        loss = (5 * coord + obj_l + 0.5 * noobj + cls) / 3
        opt.zero_grad()
        loss.backward()
        opt.step()
        yield {"loss": loss, "ious": ious, "best": best, **snap(net)}


def test_q12_yolo_v1_loss():
    assert port(_yolo_build, _yolo_train) == 3


# ----------------------------------------------------------------------------------------------
# q13 mixture density network: pi logits, means and softplus scales for K components of a 2-D
# target; the NLL three ways (MixtureSameFamily(Categorical, Independent(Normal, 1)), logsumexp
# of log_softmax + Normal.log_prob by hand, and torch's common by-hand Gaussian density with
# log and exp); the mixture's mean and variance; Adam with ReduceLROnPlateau on the NLL.

def _mdn_build(L):
    nn = L.nn

    class MDN(nn.Module):
        def __init__(self):
            super().__init__()
            self.h = nn.Sequential(nn.Linear(1, 16), nn.Tanh())
            self.pi, self.mu, self.sd = nn.Linear(16, 3), nn.Linear(16, 6), nn.Linear(16, 6)

        def forward(self, x):
            h = self.h(x)
            return (self.pi(h), self.mu(h).view(-1, 3, 2),
                    L.F.softplus(self.sd(h)).view(-1, 3, 2) + 1e-3)

    return MDN()


def _mdn_train(L, m):
    X, D = L.X, L.D
    rng = np.random.default_rng(113)
    opt = L.optim.Adam(m.parameters(), lr=1e-2)
    sched = L.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    for _ in range(4):
        xs = rng.uniform(-1, 1, (12, 1))
        x = _t(L, xs)
        y = _t(L, np.concatenate([np.sin(3 * xs), xs ** 2], 1) + 0.1 * rng.standard_normal((12, 2)))
        logits, mu, sd = m(x)
        mix = D.MixtureSameFamily(D.Categorical(logits=logits), D.Independent(D.Normal(mu, sd), 1))
        nll = -mix.log_prob(y).mean()
        comp = D.Normal(mu, sd).log_prob(y.unsqueeze(1)).sum(-1)
        nll2 = -X.logsumexp(L.F.log_softmax(logits, -1) + comp, dim=-1).mean()
        dens = X.exp(-0.5 * ((y.unsqueeze(1) - mu) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))
        nll3 = -X.log((L.F.softmax(logits, -1) * dens.prod(-1)).sum(-1)).mean()
        opt.zero_grad()
        nll.backward()
        opt.step()
        sched.step(nll.item() + 10)  # a plateau: the lr halves at every step
        yield {"nll": nll, "nll2": nll2, "nll3": nll3, "mean": mix.mean, "var": mix.variance,
               "lr": opt.param_groups[0]["lr"], **snap(m)}


def test_q13_mixture_density_network():
    assert port(_mdn_build, _mdn_train) == 4


# ----------------------------------------------------------------------------------------------
# q14 Set Transformer: MAB blocks on nn.MultiheadAttention(batch_first=True) with a
# key_padding_mask for padded sets, ISAB through learned inducing points, PMA pooling by a
# learned seed (expand to the batch), LayerNorm residuals; regression of each set's max; SGD
# momentum (the key slice of in_proj_bias has an analytically zero gradient: see p30 of models3).

def _settf_build(L):
    nn = L.nn

    class MAB(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.att = nn.MultiheadAttention(d, 2, batch_first=True)
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.ff = nn.Sequential(nn.Linear(d, d), nn.ReLU())

        def forward(self, q, k, mask=None):
            h = self.ln1(q + self.att(q, k, k, key_padding_mask=mask, need_weights=False)[0])
            return self.ln2(h + self.ff(h))

    class SetTransformer(nn.Module):
        def __init__(self, d=8):
            super().__init__()
            self.emb = nn.Linear(1, d)
            self.inducing = nn.Parameter(L.X.tensor(np.random.default_rng(1).normal(size=(1, 3, d))))
            self.mab_i, self.mab_x = MAB(d), MAB(d)
            self.seed = nn.Parameter(L.X.tensor(np.random.default_rng(2).normal(size=(1, 1, d))))
            self.pma = MAB(d)
            self.out = nn.Linear(d, 1)

        def forward(self, x, mask):
            h = self.emb(x)
            ind = self.mab_i(self.inducing.expand(x.shape[0], -1, -1), h, mask)
            h = self.mab_x(h, ind)
            pooled = self.pma(self.seed.expand(x.shape[0], -1, -1), h, mask)
            return self.out(pooled).squeeze(-1).squeeze(-1)

    return SetTransformer()


def _settf_train(L, m):
    rng = np.random.default_rng(114)
    opt = L.optim.SGD(m.parameters(), lr=3e-2, momentum=0.9)
    for _ in range(3):
        lens = rng.integers(2, 6, 4)
        xs = rng.standard_normal((4, 5, 1))
        pad = np.arange(5)[None] >= lens[:, None]
        xs[pad] = 0.0
        target = _t(L, np.where(pad[..., None], -np.inf, xs).max((1, 2)))
        pred = m(_t(L, xs), L.T(pad))
        loss = L.F.mse_loss(pred, target)
        opt.zero_grad()
        loss.backward()
        yield {"loss": loss, "pred": pred, **snap(m)}
        opt.step()


def test_q14_set_transformer_isab_pma():
    assert port(_settf_build, _settf_train, rtol=1e-9, atol=1e-11) == 3


# ----------------------------------------------------------------------------------------------
# q15 linear attention (Katharopoulos) and Performer: feature map elu + 1, the non-causal form by
# einsum ("bnd,bne->bde", normaliser by sum), the causal form by cumsum of outer products; FAVOR+
# positive random features (a fixed orthogonal projection buffer from QR, exp(wx - |x|^2/2)
# with a max-subtracted stabiliser); a two-layer model with pre-LayerNorm; AdamW.

def _linatt_build(L):
    nn, X = L.nn, L.X

    class LinAttn(nn.Module):
        def __init__(self, d, causal, favor):
            super().__init__()
            self.qkv, self.o = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.ln = nn.LayerNorm(d)
            self.causal, self.favor = causal, favor
            w = np.linalg.qr(np.random.default_rng(d).standard_normal((6, 6)))[0][:d]
            self.register_buffer("proj", X.tensor(w * math.sqrt(d)))

        def phi(self, x):
            if not self.favor:
                return L.F.elu(x) + 1
            x = x / self.qkv.in_features ** 0.25
            wx = x @ self.proj
            return X.exp(wx - (x ** 2).sum(-1, keepdim=True) / 2
                         - wx.amax(dim=-1, keepdim=True).detach()) / math.sqrt(6)

        def forward(self, x):
            q, k, v = self.qkv(self.ln(x)).chunk(3, dim=-1)
            q, k = self.phi(q), self.phi(k)
            if self.causal:
                kv = X.cumsum(X.einsum("bnd,bne->bnde", k, v), dim=1)
                num = X.einsum("bnd,bnde->bne", q, kv)
                den = X.einsum("bnd,bnd->bn", q, k.cumsum(1)).unsqueeze(-1)
            else:
                num = X.einsum("bnd,bde->bne", q, X.einsum("bnd,bne->bde", k, v))
                den = (q * k.sum(1, keepdim=True)).sum(-1, keepdim=True)
            return x + self.o(num / (den + 1e-6))

    return nn.Sequential(LinAttn(4, True, False), LinAttn(4, False, True), LinAttn(4, True, True))


def _linatt_train(L, m):
    rng = np.random.default_rng(115)
    opt = L.optim.AdamW(m.parameters(), lr=3e-3)
    for _ in range(3):
        x = _t(L, rng.standard_normal((2, 6, 4)))
        loss = L.F.mse_loss(m(x), x.roll(1, dims=1))
        opt.zero_grad()
        loss.backward()
        yield {"loss": loss, **snap(m)}
        opt.step()


def test_q15_linear_attention_performer():
    assert port(_linatt_build, _linatt_train) == 3


# ----------------------------------------------------------------------------------------------
# q16 a RoPE decoder with a KV cache: cos/sin tables as non-persistent buffers (inv_freq by
# arange and pow, outer, cat), rotate_half by chunk, F.scaled_dot_product_attention with
# is_causal for the prompt, the cache grown by cat and the new token's positions offset by its
# length; weight-tied embedding and output; trained by teacher forcing, then greedy generation
# with and without the cache (their logits must agree); Adam.

def _rope_build(L):
    nn, X, F = L.nn, L.X, L.F

    def rotate_half(x):
        a, b = x.chunk(2, dim=-1)
        return X.cat([-b, a], dim=-1)

    class Attn(nn.Module):
        def __init__(self, d=8, h=2):
            super().__init__()
            self.h, self.hd = h, d // h
            self.qkv, self.o = nn.Linear(d, 3 * d, bias=False), nn.Linear(d, d, bias=False)
            inv = 1.0 / (10000 ** (X.arange(0, self.hd, 2).double() / self.hd))
            freqs = X.outer(X.arange(16).double(), inv)
            emb = X.cat([freqs, freqs], dim=-1)
            self.register_buffer("cos", emb.cos(), persistent=False)
            self.register_buffer("sin", emb.sin(), persistent=False)

        def forward(self, x, cache=None):
            b, t, d = x.shape
            q, k, v = self.qkv(x).view(b, t, 3, self.h, self.hd).permute(2, 0, 3, 1, 4).unbind(0)
            start = 0 if cache is None else cache[0].shape[2]
            cos, sin = self.cos[start:start + t], self.sin[start:start + t]
            q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
            if cache is not None:
                k, v = X.cat([cache[0], k], dim=2), X.cat([cache[1], v], dim=2)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=cache is None)
            return self.o(y.transpose(1, 2).reshape(b, t, d)), (k, v)

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(7, 8)
            self.blocks = nn.ModuleList([Attn(), Attn()])
            self.norm = nn.RMSNorm(8)
            self.head = nn.Linear(8, 7, bias=False)
            self.head.weight = self.emb.weight

        def forward(self, idx, caches=None):
            x, new = self.emb(idx), []
            for i, blk in enumerate(self.blocks):
                y, c = blk(x, None if caches is None else caches[i])
                x = x + y
                new.append(c)
            return self.head(self.norm(x)), new

    return LM()


def _rope_train(L, m):
    X = L.X
    rng = np.random.default_rng(116)
    opt = L.optim.Adam(m.parameters(), lr=1e-2)
    assert len(list(m.parameters())) == 6  # the tied weight counted once
    for _ in range(3):
        seq = L.T(rng.integers(0, 7, (3, 7)))
        logits, _ = m(seq[:, :-1])
        loss = L.F.cross_entropy(logits.reshape(-1, 7), seq[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        yield {"loss": loss, **snap(m)}
        opt.step()
    m.eval()
    with X.no_grad():
        idx = L.T(rng.integers(0, 7, (2, 3)))
        logits, caches = m(idx)
        full, cached = [], []
        for _ in range(4):
            nxt = logits[:, -1].argmax(-1, keepdim=True)
            cached.append(logits[:, -1])
            idx = X.cat([idx, nxt], 1)
            full.append(m(idx)[0][:, -2])
            logits, caches = m(nxt, caches)
        yield {"idx": idx, "cached": cached, "full": full}


def test_q16_rope_kv_cache_generation():
    assert port(_rope_build, _rope_train) == 4


# ----------------------------------------------------------------------------------------------
# q17 ALiBi attention with a top-2 mixture of experts: per-head slopes 2^(-8i/h), the linear
# bias from an arange difference, the causal mask by triu + masked_fill(-inf) on the scores;
# a top-2 router (softmax then topk, gates renormalised), tokens dispatched per expert by
# nonzero over the top-k indices and combined by index_add_, the Switch/GShard load-balancing
# loss (fraction routed times mean router probability) and the router z-loss; Adam.

def _alibi_build(L):
    nn, X = L.nn, L.X

    class Block(nn.Module):
        def __init__(self, d=8, h=2, n_exp=3):
            super().__init__()
            self.h = h
            self.qkv, self.o = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.register_buffer("slopes", X.tensor([2.0 ** (-8 * (i + 1) / h) for i in range(h)]))
            self.router = nn.Linear(d, n_exp, bias=False)
            self.experts = nn.ModuleList([nn.Sequential(nn.Linear(d, 12), nn.GELU(), nn.Linear(12, d))
                                          for _ in range(n_exp)])

        def attend(self, x):
            b, t, d = x.shape
            q, k, v = self.qkv(x).view(b, t, 3, self.h, -1).permute(2, 0, 3, 1, 4)
            pos = X.arange(t)
            rel = (pos.view(1, -1) - pos.view(-1, 1)).double()
            bias = self.slopes.view(-1, 1, 1) * rel
            s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]) + bias
            s = s.masked_fill(X.triu(X.ones(t, t, dtype=X.bool), diagonal=1), float("-inf"))
            return self.o((s.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d))

        def moe(self, x):
            flat = x.reshape(-1, x.shape[-1])
            logits = self.router(flat)
            probs = logits.softmax(-1)
            gate, idx = probs.topk(2, dim=-1)
            gate = gate / gate.sum(-1, keepdim=True)
            out = X.zeros_like(flat)
            for e, expert in enumerate(self.experts):
                tok, slot = (idx == e).nonzero(as_tuple=True)
                if tok.numel():
                    out.index_add_(0, tok, expert(flat[tok]) * gate[tok, slot].unsqueeze(-1))
            frac = L.F.one_hot(idx[:, 0], len(self.experts)).double().mean(0)
            balance = len(self.experts) * (frac * probs.mean(0)).sum()
            zloss = X.logsumexp(logits, -1).pow(2).mean()
            return out.view_as(x), balance, zloss

        def forward(self, x):
            x = x + self.attend(self.ln1(x))
            y, bal, z = self.moe(self.ln2(x))
            return x + y, bal, z

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb, self.block, self.head = nn.Embedding(6, 8), Block(), nn.Linear(8, 6)

        def forward(self, idx):
            h, bal, z = self.block(self.emb(idx))
            return self.head(h), bal, z

    return Model()


def _alibi_train(L, m):
    rng = np.random.default_rng(117)
    opt = L.optim.Adam(m.parameters(), lr=5e-3)
    for _ in range(3):
        seq = L.T(rng.integers(0, 6, (3, 6)))
        logits, bal, z = m(seq[:, :-1])
        ce = L.F.cross_entropy(logits.transpose(1, 2), seq[:, 1:])
        loss = ce + 0.01 * bal + 0.001 * z
        opt.zero_grad()
        loss.backward()
        yield {"ce": ce, "bal": bal, "z": z, **snap(m)}
        opt.step()


def test_q17_alibi_top2_moe_load_balancing():
    assert port(_alibi_build, _alibi_train) == 3


# ----------------------------------------------------------------------------------------------
# q18 gradient checkpointing: utils.checkpoint.checkpoint (non-reentrant) around each residual
# block holding a BatchNorm1d (the recomputation in backward updates its running statistics a
# second time, num_batches_tracked 2 per step, in torch as here) and dropout masks passed in;
# checkpoint_sequential over a Sequential in two segments; the same model without checkpointing
# must give the same gradients; SGD.

def _ckpt_build(L):
    nn = L.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(6, 6), nn.BatchNorm1d(6), nn.Tanh(), nn.Linear(6, 6))

        def forward(self, x, mask):
            return x + self.net(x) * mask

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([Block(), Block()])
            self.seq = nn.Sequential(nn.Linear(6, 6), nn.ReLU(), nn.Linear(6, 6), nn.ELU(),
                                     nn.Linear(6, 2))

        def forward(self, x, masks, ckpt):
            cp = L.X.utils.checkpoint if L.is_torch else tg.utils.checkpoint
            for blk, mk in zip(self.blocks, masks):
                x = cp.checkpoint(blk, x, mk, use_reentrant=False) if ckpt else blk(x, mk)
            if ckpt:
                return cp.checkpoint_sequential(self.seq, 2, x, use_reentrant=False)
            return self.seq(x)

    return Net()


def _ckpt_train(L, m):
    rng = np.random.default_rng(118)
    opt = L.optim.SGD(m.parameters(), lr=0.1)
    for step in range(4):
        x = _t(L, rng.standard_normal((5, 6))).requires_grad_()
        masks = [_t(L, (rng.uniform(size=(5, 6)) > 0.3) / 0.7) for _ in range(2)]
        y = _t(L, rng.standard_normal((5, 2)))
        ckpt = step % 2 == 0
        loss = L.F.mse_loss(m(x, masks, ckpt), y)
        opt.zero_grad()
        loss.backward()
        yield {"loss": loss, "x.grad": x.grad, **snap(m)}
        opt.step()


def test_q18_gradient_checkpointing():
    assert port(_ckpt_build, _ckpt_train) == 4


# ----------------------------------------------------------------------------------------------
# q19 PINN for Burgers' equation: u(x, t) an MLP with tanh, u_t, u_x and u_xx by autograd.grad
# with create_graph=True from collocation points that require grad (grad_outputs ones_like),
# the residual u_t + u u_x - nu u_xx, initial and boundary losses; Adam, then LBFGS with a
# closure (strong Wolfe line search).

def _pinn_build(L):
    nn = L.nn
    return nn.Sequential(nn.Linear(2, 12), nn.Tanh(), nn.Linear(12, 12), nn.Tanh(), nn.Linear(12, 1))


def _pinn_train(L, net):
    X = L.X
    rng = np.random.default_rng(119)
    xc = _t(L, rng.uniform(-1, 1, (16, 1))).requires_grad_(True)
    tc = _t(L, rng.uniform(0, 1, (16, 1))).requires_grad_(True)
    x0 = _t(L, rng.uniform(-1, 1, (8, 1)))
    tb = _t(L, rng.uniform(0, 1, (8, 1)))
    nu = 0.01 / math.pi

    def loss_fn():
        u = net(X.cat([xc, tc], 1))
        ut, ux = L.X.autograd.grad(u, (tc, xc), X.ones_like(u), create_graph=True)
        uxx = L.X.autograd.grad(ux, xc, X.ones_like(ux), create_graph=True)[0]
        res = ut + u * ux - nu * uxx
        ic = net(X.cat([x0, X.zeros_like(x0)], 1)) + X.sin(math.pi * x0)
        bc = X.cat([net(X.cat([-X.ones_like(tb), tb], 1)), net(X.cat([X.ones_like(tb), tb], 1))])
        return res.pow(2).mean() + ic.pow(2).mean() + bc.pow(2).mean(), res

    opt = L.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(3):
        loss, res = loss_fn()
        opt.zero_grad()
        loss.backward()
        yield {"loss": loss, "res": res, "xc.grad": xc.grad, **snap(net)}
        opt.step()
    lbfgs = L.optim.LBFGS(net.parameters(), lr=0.5, max_iter=5, line_search_fn="strong_wolfe")

    def closure():
        lbfgs.zero_grad()
        loss = loss_fn()[0]
        loss.backward()
        return loss

    for _ in range(2):
        yield {"lbfgs": lbfgs.step(closure), **snap(net)}


def test_q19_pinn_burgers_input_derivatives():
    assert port(_pinn_build, _pinn_train, rtol=1e-9, atol=1e-11) == 5


# ----------------------------------------------------------------------------------------------
# q20 EWC: train on task A, then the diagonal Fisher from per-sample squared gradients of the
# log-likelihood of the model's own predictions (log_softmax gathered at argmax, zero_grad between
# samples, p.grad.detach().clone() ** 2 averaged), the anchor parameters detached and cloned into
# a dict by name, then task B with the quadratic penalty sum F (p - p*)^2 * lambda / 2; SGD.

def _ewc_build(L):
    nn = L.nn
    return nn.Sequential(nn.Linear(4, 10), nn.ReLU(), nn.Linear(10, 3))


def _ewc_train(L, net):
    X, F = L.X, L.F
    rng = np.random.default_rng(120)
    opt = L.optim.SGD(net.parameters(), lr=0.1)
    xa, ya = _t(L, rng.standard_normal((10, 4))), L.T(rng.integers(0, 3, 10))
    for _ in range(2):
        loss = F.cross_entropy(net(xa), ya)
        opt.zero_grad()
        loss.backward()
        opt.step()
    fisher = {n: X.zeros_like(p) for n, p in net.named_parameters()}
    for i in range(6):
        net.zero_grad()
        lp = F.log_softmax(net(xa[i:i + 1]), dim=1)
        lp.gather(1, lp.argmax(1, keepdim=True)).sum().backward()
        for n, p in net.named_parameters():
            fisher[n] += p.grad.detach().clone() ** 2 / 6
    anchor = {n: p.detach().clone() for n, p in net.named_parameters()}
    yield {"fisher": fisher, **snap(net)}
    xb, yb = _t(L, rng.standard_normal((10, 4))), L.T(rng.integers(0, 3, 10))
    for _ in range(3):
        task = F.cross_entropy(net(xb), yb)
        pen = sum((fisher[n] * (p - anchor[n]) ** 2).sum() for n, p in net.named_parameters())
        loss = task + 50.0 / 2 * pen
        opt.zero_grad()
        loss.backward()
        opt.step()
        yield {"task": task, "pen": pen, **snap(net)}


def test_q20_ewc_fisher_penalty():
    assert port(_ewc_build, _ewc_train) == 4


# ----------------------------------------------------------------------------------------------
# q21 Reptile on sine regression: per task, a deepcopy of the meta-model trained by its own SGD
# for k steps, then the meta-parameters moved toward the adapted ones (p.add_(eps * (q - p))
# under no_grad), the outer step size annealed linearly; evaluation by fine-tuning a clone.

def _reptile_build(L):
    nn = L.nn
    return nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))


def _reptile_train(L, net):
    X = L.X
    rng = np.random.default_rng(121)
    for it in range(3):
        amp, phase = rng.uniform(0.5, 2), rng.uniform(0, math.pi)
        xs = rng.uniform(-3, 3, (8, 1))
        x, y = _t(L, xs), _t(L, amp * np.sin(xs + phase))
        fast = copy.deepcopy(net)
        inner = L.optim.SGD(fast.parameters(), lr=0.02)
        for _ in range(3):
            loss = L.F.mse_loss(fast(x), y)
            inner.zero_grad()
            loss.backward()
            inner.step()
        eps = 0.5 * (1 - it / 3)
        with X.no_grad():
            for p, q in zip(net.parameters(), fast.parameters()):
                p.add_(eps * (q - p))
        yield {"inner": loss, **snap(net, fast)}
    clone = copy.deepcopy(net)
    opt = L.optim.SGD(clone.parameters(), lr=0.02)
    for _ in range(2):
        loss = L.F.mse_loss(clone(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    yield {"eval": loss, **snap(clone)}


def test_q21_reptile():
    assert port(_reptile_build, _reptile_train) == 4


# ----------------------------------------------------------------------------------------------
# q22 word2vec skip-gram with negative sampling: input and output Embeddings with sparse=True
# (sparse gradients), negatives drawn by NumPy from the unigram^0.75 table, scores by bmm,
# logsigmoid of positives and of negated negatives; SparseAdam; then the nearest words by
# cosine similarity of the normalised input vectors (topk).

def _w2v_build(L):
    nn = L.nn

    class SGNS(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = nn.Embedding(12, 5, sparse=True)
            self.out = nn.Embedding(12, 5, sparse=True)

        def forward(self, c, o, neg):
            v = self.inp(c).unsqueeze(2)
            pos = L.F.logsigmoid(self.out(o).unsqueeze(1).bmm(v).squeeze())
            negs = L.F.logsigmoid(-self.out(neg).bmm(v).squeeze(2)).sum(1)
            return -(pos + negs).mean()

    return SGNS()


def _w2v_train(L, m):
    rng = np.random.default_rng(122)
    counts = rng.integers(1, 50, 12) ** 0.75
    opt = L.optim.SparseAdam(list(m.parameters()), lr=0.05)
    for _ in range(4):
        c, o = L.T(rng.integers(0, 12, 6)), L.T(rng.integers(0, 12, 6))
        neg = L.T(rng.choice(12, (6, 4), p=counts / counts.sum()))
        loss = m(c, o, neg)
        opt.zero_grad()
        loss.backward()
        grads = {k: p.grad.to_dense() for k, p in m.named_parameters()}
        opt.step()
        yield {"loss": loss, "grads": grads, "inp": m.inp.weight, "out": m.out.weight}
    with L.X.no_grad():
        e = L.F.normalize(m.inp.weight, dim=1)
        sims, idx = (e[:3] @ e.T).topk(4, dim=1)
    yield {"sims": sims, "idx": idx, **opt_state(opt)}


def test_q22_word2vec_sparse_embeddings_sparse_adam():
    assert port(_w2v_build, _w2v_train) == 5


# ----------------------------------------------------------------------------------------------
# q23 char-RNN with truncated BPTT: a long NumPy text cut into chunks, a two-layer LSTM with
# inter-layer dropout off (eval-free determinism), the (h, c) state carried across chunks and
# detached by a tuple comprehension, embedding -> LSTM -> Linear with CE over flattened steps,
# clip_grad_norm_; then sampling-free greedy continuation; Adam with StepLR.

def _charrnn_build(L):
    nn = L.nn

    class CharRNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(8, 5)
            self.rnn = nn.LSTM(5, 7, num_layers=2, batch_first=True)
            self.fc = nn.Linear(7, 8)

        def forward(self, x, state):
            out, state = self.rnn(self.emb(x), state)
            return self.fc(out), state

    return CharRNN()


def _charrnn_train(L, m):
    X = L.X
    rng = np.random.default_rng(123)
    text = rng.integers(0, 8, (2, 19))
    opt = L.optim.Adam(m.parameters(), lr=1e-2)
    sched = L.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    state = (X.zeros(2, 2, 7), X.zeros(2, 2, 7))
    for i in range(0, 18, 6):
        x, y = L.T(text[:, i:i + 6]), L.T(text[:, i + 1:i + 7])
        state = tuple(s.detach() for s in state)
        logits, state = m(x, state)
        loss = L.F.cross_entropy(logits.reshape(-1, 8), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        norm = L.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        sched.step()
        yield {"loss": loss, "norm": norm, "state": state, **snap(m)}
    with X.no_grad():
        tok, out = L.T(text[:, -1:]), []
        for _ in range(5):
            logits, state = m(tok, state)
            tok = logits[:, -1].argmax(-1, keepdim=True)
            out.append(tok)
    yield {"gen": X.cat(out, 1), "state": state}


def test_q23_char_rnn_truncated_bptt():
    assert port(_charrnn_build, _charrnn_train) == 4


# ----------------------------------------------------------------------------------------------
# q24 seq2seq with Bahdanau attention: a bidirectional GRU encoder over packed padded sources
# (pack_padded_sequence with enforce_sorted=False, pad_packed_sequence), its two final states
# joined by tanh(Linear(cat)), additive attention v^T tanh(W h + U s) masked on padding with
# masked_fill(-1e10), a GRU decoder cell fed cat(embedding, context), teacher forcing by NumPy
# coin flips, CE with ignore_index on the padded targets; Adam with clip_grad_norm_.

def _bahdanau_build(L):
    nn = L.nn

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.src_emb, self.tgt_emb = nn.Embedding(9, 4, padding_idx=0), nn.Embedding(9, 4)
            self.enc = nn.GRU(4, 5, batch_first=True, bidirectional=True)
            self.bridge = nn.Linear(10, 6)
            self.W, self.U = nn.Linear(10, 6, bias=False), nn.Linear(6, 6)
            self.v = nn.Linear(6, 1, bias=False)
            self.dec = nn.GRUCell(4 + 10, 6)
            self.out = nn.Linear(6 + 10 + 4, 9)

        def forward(self, src, lens, tgt, force):
            X = L.X
            rnn = L.nn.utils.rnn
            packed = rnn.pack_padded_sequence(self.src_emb(src), lens, batch_first=True,
                                              enforce_sorted=False)
            enc, h = self.enc(packed)
            enc, _ = rnn.pad_packed_sequence(enc, batch_first=True, total_length=src.shape[1])
            s = X.tanh(self.bridge(X.cat([h[0], h[1]], 1)))
            mask = src == 0
            keys = self.W(enc)
            tok, logits = tgt[:, 0], []
            for t in range(1, tgt.shape[1]):
                e = self.v(X.tanh(keys + self.U(s).unsqueeze(1))).squeeze(2)
                a = e.masked_fill(mask, -1e10).softmax(1)
                ctx = X.bmm(a.unsqueeze(1), enc).squeeze(1)
                emb = self.tgt_emb(tok)
                s = self.dec(X.cat([emb, ctx], 1), s)
                logit = self.out(X.cat([s, ctx, emb], 1))
                logits.append(logit)
                tok = tgt[:, t] if force[t] else logit.argmax(1)
            return X.stack(logits, 1)

    return Seq2Seq()


def _bahdanau_train(L, m):
    rng = np.random.default_rng(124)
    opt = L.optim.Adam(m.parameters(), lr=5e-3)
    for _ in range(3):
        lens = np.array([5, 3, 4])
        src = rng.integers(1, 9, (3, 5)) * (np.arange(5) < lens[:, None])
        tgt = np.concatenate([np.ones((3, 1), int), rng.integers(2, 9, (3, 4))], 1)
        tgt[1, 3:] = 0
        force = rng.uniform(size=5) < 0.5
        logits = m(L.T(src), L.T(lens), L.T(tgt), force)
        loss = L.F.cross_entropy(logits.reshape(-1, 9), L.T(tgt[:, 1:]).reshape(-1), ignore_index=0)
        opt.zero_grad()
        loss.backward()
        norm = L.nn.utils.clip_grad_norm_(m.parameters(), 2.0)
        yield {"loss": loss, "norm": norm, **snap(m)}
        opt.step()


def test_q24_seq2seq_bahdanau_packed_bigru():
    assert port(_bahdanau_build, _bahdanau_train) == 3


# ----------------------------------------------------------------------------------------------
# q25 TabNet-like attentive feature selection: sparsemax by sort, cumsum and the support size
# (gather of tau), entmax-1.5 by the sorted closed form (cumulative mean and mean of squares,
# the threshold where the support ends), prior scales multiplied by (gamma - mask) across
# decision steps, the sparsity regulariser (entropy of the masks), ghost batch norm by chunk +
# BatchNorm1d; Adam.

def _sparsemax(L, z, dim=-1):
    X = L.X
    zs, _ = X.sort(z, dim=dim, descending=True)
    k = X.arange(1, z.shape[dim] + 1).double()
    cssv = zs.cumsum(dim) - 1
    support = (k * zs > cssv)
    kz = support.sum(dim=dim, keepdim=True)
    tau = cssv.gather(dim, kz - 1) / kz.double()
    return X.clamp(z - tau, min=0)


def _entmax15(L, z, dim=-1):
    X = L.X
    z = z / 2
    zs, _ = X.sort(z, dim=dim, descending=True)
    k = X.arange(1, z.shape[dim] + 1).double()
    mean = zs.cumsum(dim) / k
    mean_sq = (zs ** 2).cumsum(dim) / k
    ss = k * (mean_sq - mean ** 2)
    delta = X.clamp((1 - ss) / k, min=0)
    tau = mean - X.sqrt(delta)
    support = (tau <= zs).sum(dim=dim, keepdim=True)
    tau_star = tau.gather(dim, support - 1)
    return X.clamp(z - tau_star, min=0) ** 2


def _tabnet_build(L):
    nn = L.nn

    class TabNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.bn = nn.BatchNorm1d(6)
            self.att = nn.ModuleList([nn.Linear(4, 6, bias=False) for _ in range(2)])  # as TabNet
            self.ft = nn.ModuleList([nn.Linear(6, 8) for _ in range(3)])
            self.gbn = nn.BatchNorm1d(6, momentum=0.02)
            self.head = nn.Linear(4, 2)

        def forward(self, x, entmax):
            x = self.bn(x)
            prior = L.X.ones_like(x)
            h = L.F.glu(self.ft[0](x))
            out, reg = 0, 0
            for i, att in enumerate(self.att):
                a = att(h)
                a = L.X.cat([self.gbn(c) for c in a.chunk(2, 0)], 0) * prior
                mask = _entmax15(L, a) if entmax else _sparsemax(L, a)
                prior = prior * (1.3 - mask)
                reg = reg + (-mask * L.X.log(mask + 1e-10)).sum(1).mean()
                h = L.F.glu(self.ft[i + 1](mask * x))
                out = out + L.F.relu(h)
            return self.head(out), reg

    return TabNet()


def _tabnet_train(L, m):
    rng = np.random.default_rng(125)
    opt = L.optim.Adam(m.parameters(), lr=2e-2)
    for step in range(4):
        x, y = _t(L, rng.standard_normal((8, 6))), L.T(rng.integers(0, 2, 8))
        logits, reg = m(x, step % 2 == 1)
        loss = L.F.cross_entropy(logits, y) + 1e-3 * reg
        opt.zero_grad()
        loss.backward()
        yield {"loss": loss, "reg": reg, **snap(m)}
        opt.step()
    z = _t(L, rng.standard_normal((3, 5)) * 2)
    yield {"sparsemax": _sparsemax(L, z), "entmax": _entmax15(L, z)}


def test_q25_tabnet_sparsemax_entmax():
    assert port(_tabnet_build, _tabnet_train) == 5


# ----------------------------------------------------------------------------------------------
# q26 gradient accumulation with manual loss scaling (GradScaler-free AMP-like): each micro-batch
# loss divided by the accumulation count and multiplied by a dynamic scale, gradients unscaled in
# place (p.grad.div_), an overflow check by isfinite over every gradient (one micro-batch
# poisoned with inf to force a skipped step and a halved scale), the scale grown after two good
# steps, clip_grad_norm_ on the unscaled gradients; SGD momentum.

def _accum_build(L):
    nn = L.nn
    return nn.Sequential(nn.Linear(5, 8), nn.SiLU(), nn.Linear(8, 1))


def _accum_train(L, net):
    X = L.X
    rng = np.random.default_rng(126)
    opt = L.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    scale, good, accum = 2.0 ** 10, 0, 3
    for step in range(5):
        opt.zero_grad()
        for micro in range(accum):
            x, y = rng.standard_normal((4, 5)), rng.standard_normal((4, 1))
            if step == 2 and micro == 1:
                x[0, 0] = np.inf
            with np.errstate(invalid="ignore"):  # NumPy warns of inf * 0 in the forward here,
                loss = L.F.mse_loss(net(_t(L, x)), _t(L, y)) / accum  # documented (api.md)
            (loss * scale).backward()
        finite = all(bool(X.isfinite(p.grad).all()) for p in net.parameters())
        rec = {"finite": X.tensor(finite), "scale": X.tensor(scale)}
        if finite:
            for p in net.parameters():
                p.grad.div_(scale)
            rec["norm"] = L.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            good += 1
            if good == 2:
                scale, good = scale * 2, 0
        else:
            scale, good = scale / 2, 0
        yield {**rec, **snap(net)}


def test_q26_gradient_accumulation_loss_scaling():
    assert port(_accum_build, _accum_train) == 5


# ----------------------------------------------------------------------------------------------
# q27 spectral normalisation on convolutions: the parametrization on a Conv2d and on a
# ConvTranspose2d (dim=1 for it, as torch picks), the legacy hook on another Conv2d, several
# power iterations, the u/v buffers and the parametrized weight read in train and eval mode
# (eval: no power iteration); a hinge-loss GAN discriminator step; Adam.

def _snconv_build(L):
    nn = L.nn
    SN, sn_old = nn.utils.parametrizations.spectral_norm, nn.utils.spectral_norm
    net = nn.Sequential(SN(nn.Conv2d(2, 4, 3, padding=1), n_power_iterations=2), nn.LeakyReLU(0.1),
                        sn_old(nn.Conv2d(4, 4, 3, stride=2, padding=1)), nn.LeakyReLU(0.1),
                        SN(nn.ConvTranspose2d(4, 2, 4, 2, 1)), nn.Flatten(), nn.Linear(2 * 36, 1))
    return net


def _snconv_train(L, net):
    X, F = L.X, L.F
    rng = np.random.default_rng(127)
    opt = L.optim.Adam(net.parameters(), lr=2e-3, betas=(0.0, 0.9))
    for _ in range(3):
        real, fake = _t(L, rng.standard_normal((3, 2, 6, 6))), _t(L, rng.standard_normal((3, 2, 6, 6)))
        loss = F.relu(1 - net(real)).mean() + F.relu(1 + net(fake)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        yield {"loss": loss, "w0": net[0].weight, "w4": net[4].weight, **snap(net)}
    net.eval()
    with X.no_grad():
        yield {"eval": net(real), "w0": net[0].weight, "w2": net[2].weight, **snap(net)}


def test_q27_spectral_norm_convs():
    assert port(_snconv_build, _snconv_train) == 4


# ----------------------------------------------------------------------------------------------
# q28 a weight-standardised GroupNorm ResNet (BiT-style): WSConv2d subclassing Conv2d whose
# forward standardises the weight (mean and biased var over (1, 2, 3), rsqrt) and calls
# F.conv2d with its stride/padding/groups, pre-activation GroupNorm + ReLU blocks, a grouped
# 3x3 conv, a projection shortcut, stochastic depth per sample (NumPy keep masks divided by the
# survival probability, identity in eval), zero-init of the last GroupNorm's weight (so the
# first step's gradients pass through the shortcut), Nesterov SGD with a warm-up LinearLR
# chained to CosineAnnealingLR by SequentialLR; eval forward at the end.

def _wsresnet_build(L):
    nn, F = L.nn, L.F

    class WSConv2d(nn.Conv2d):
        def forward(self, x):
            w = self.weight
            m = w.mean(dim=(1, 2, 3), keepdim=True)
            v = w.var(dim=(1, 2, 3), keepdim=True, unbiased=False)
            w = (w - m) * L.X.rsqrt(v + 1e-10)
            return F.conv2d(x, w, self.bias, self.stride, self.padding, self.dilation, self.groups)

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.gn1, self.gn2 = nn.GroupNorm(2, cin), nn.GroupNorm(2, cout)
            self.c1 = WSConv2d(cin, cout, 1, bias=False)
            self.c2 = WSConv2d(cout, cout, 3, stride, 1, groups=2, bias=False)
            self.proj = WSConv2d(cin, cout, 1, stride, bias=False) if stride > 1 or cin != cout else None

        def forward(self, x, keep):
            h = F.relu(self.gn1(x))
            sc = self.proj(h) if self.proj is not None else x
            h = self.c2(F.relu(self.gn2(self.c1(h))))
            if self.training:
                h = h * keep.view(-1, 1, 1, 1) / 0.8
            return sc + h

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = WSConv2d(1, 4, 3, padding=1)
            self.b1, self.b2 = Block(4, 4, 1), Block(4, 8, 2)
            self.gn = nn.GroupNorm(2, 8)
            self.fc = nn.Linear(8, 3)
            with L.X.no_grad():
                self.b2.gn2.weight.mul_(0.5)

        def forward(self, x, keeps):
            h = self.b2(self.b1(self.stem(x), keeps[0]), keeps[1])
            return self.fc(F.relu(self.gn(h)).mean(dim=(2, 3)))

    return Net()


def _wsresnet_train(L, net):
    rng = np.random.default_rng(128)
    opt = L.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    lrs = L.optim.lr_scheduler
    sched = lrs.SequentialLR(opt, [lrs.LinearLR(opt, start_factor=0.1, total_iters=2),
                                   lrs.CosineAnnealingLR(opt, T_max=3)], milestones=[2])
    for _ in range(4):
        x, y = _t(L, rng.standard_normal((4, 1, 6, 6))), L.T(rng.integers(0, 3, 4))
        keeps = [_t(L, (rng.uniform(size=4) < 0.8) * 1.0) for _ in range(2)]
        loss = L.F.cross_entropy(net(x, keeps), y)
        opt.zero_grad()
        loss.backward()
        yield {"loss": loss, "lr": sched.get_last_lr(), **snap(net)}
        opt.step()
        sched.step()
    net.eval()
    with L.X.no_grad():
        yield {"eval": net(x, keeps)}


def test_q28_weight_standardised_groupnorm_resnet_stochastic_depth():
    assert port(_wsresnet_build, _wsresnet_train) == 5


# ----------------------------------------------------------------------------------------------
# q29 SWA: a BatchNorm MLP trained by SGD over a DataLoader(TensorDataset) without shuffling,
# an AveragedModel updated every epoch from epoch 1 on, SWALR (cosine anneal over 2 epochs to
# swa_lr) replacing the cosine schedule at the switch, optim.swa_utils.update_bn over the loader
# to recompute the averaged model's BatchNorm statistics, the averaged model's eval predictions;
# then an EMA AveragedModel via get_ema_multi_avg_fn and use_buffers=True.

def _swa_build(L):
    nn = L.nn
    return nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1))


def _swa_train(L, net):
    X = L.X
    swa = L.optim.swa_utils
    rng = np.random.default_rng(129)
    ds = L.data.TensorDataset(_t(L, rng.standard_normal((12, 3))), _t(L, rng.standard_normal((12, 1))))
    loader = L.data.DataLoader(ds, batch_size=4)
    opt = L.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    sched = L.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    avg = swa.AveragedModel(net)
    ema = swa.AveragedModel(net, multi_avg_fn=swa.get_ema_multi_avg_fn(0.9), use_buffers=True)
    swa_sched = swa.SWALR(opt, swa_lr=0.02, anneal_epochs=2, anneal_strategy="cos")
    for epoch in range(4):
        for x, y in loader:
            loss = L.F.mse_loss(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            ema.update_parameters(net)
        if epoch >= 1:
            avg.update_parameters(net)
            swa_sched.step()
        else:
            sched.step()
        yield {"loss": loss, "lr": opt.param_groups[0]["lr"], "n": avg.n_averaged,
               **snap(net, avg, ema)}
    swa.update_bn(loader, avg)
    avg.eval()
    ema.eval()
    with X.no_grad():
        yield {"bn": snap(avg), "pred": avg(ds[:][0]), "ema_pred": ema(ds[:][0])}


def test_q29_swa_update_bn_ema():
    assert port(_swa_build, _swa_train) == 5


# ----------------------------------------------------------------------------------------------
# q30 schedules: OneCycleLR three-phase with linear annealing cycling Adam's beta1, per-group
# max_lr, then ReduceLROnPlateau (mode max, relative threshold, patience 1, cooldown 1, per-group
# min_lr, eps) on a validation accuracy, and CyclicLR triangular2 cycling SGD momentum; all lrs
# and betas compared at every step.

def _sched_build(L):
    nn = L.nn
    return nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))


def _sched_train(L, net):
    rng = np.random.default_rng(130)
    lrs = L.optim.lr_scheduler
    groups = [{"params": net[0].parameters()}, {"params": net[2].parameters(), "lr": 0.02}]
    opt = L.optim.Adam(groups, lr=0.01)
    one = lrs.OneCycleLR(opt, max_lr=[0.05, 0.1], total_steps=7, pct_start=0.3,
                         anneal_strategy="linear", three_phase=True, base_momentum=0.8,
                         max_momentum=0.95, div_factor=10, final_div_factor=100)
    x, y = _t(L, rng.standard_normal((10, 4))), L.T(rng.integers(0, 3, 10))
    for _ in range(7):
        loss = L.F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        one.step()
        yield {"loss": loss, "lrs": [g["lr"] for g in opt.param_groups],
               "betas": [g["betas"][0] for g in opt.param_groups], **snap(net)}
    # fresh group dicts: the optimizer keeps and completes the ones it is given, and OneCycleLR
    # left a negative lr in them (torch's linear three-phase schedule passes 0 at its last step),
    # which torch takes in a group and this package refuses (documented in api.md)
    sgd = L.optim.SGD([{"params": net[0].parameters()}, {"params": net[2].parameters()}],
                      lr=0.05, momentum=0.9)
    plateau = lrs.ReduceLROnPlateau(sgd, mode="max", factor=0.5, patience=1, threshold=0.05,
                                    cooldown=1, min_lr=[0.001, 0.004], eps=1e-4)
    accs = [0.5, 0.52, 0.51, 0.6, 0.6, 0.6, 0.59, 0.58, 0.4, 0.3]
    for acc in accs:
        plateau.step(acc)
        yield {"plateau": [g["lr"] for g in sgd.param_groups], "bad": plateau.num_bad_epochs}
    cyc = lrs.CyclicLR(sgd, base_lr=0.01, max_lr=[0.05, 0.08], step_size_up=2, mode="triangular2",
                       cycle_momentum=True, base_momentum=0.8, max_momentum=0.9)
    for _ in range(9):
        loss = L.F.cross_entropy(net(x), y)
        sgd.zero_grad()
        loss.backward()
        sgd.step()
        cyc.step()
        yield {"lrs": cyc.get_last_lr(), "mom": [g["momentum"] for g in sgd.param_groups],
               **snap(net)}


def test_q30_one_cycle_plateau_cyclic():
    assert port(_sched_build, _sched_train) == 26


# ----------------------------------------------------------------------------------------------
# q31 AWD-LSTM-style weight-tied language model: embedding dropout (rows dropped by a NumPy mask
# scaled by 1/(1-p)), locked (variational) dropout of one mask per sequence shared across time,
# DropConnect on the hidden-to-hidden weight through a parametrization with a NumPy mask set
# before each batch, decoder weight tied to the encoder, activation regularisation (AR) and
# temporal AR (TAR) on the LSTM outputs; ASGD.

def _awd_build(L):
    nn = L.nn

    class WeightDrop(nn.Module):
        def __init__(self):
            super().__init__()
            self.mask = None

        def forward(self, w):
            return w if self.mask is None else w * self.mask

    class AWD(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Embedding(10, 6)
            self.rnn = nn.LSTM(6, 6)
            self.wd = WeightDrop()
            nn.utils.parametrize.register_parametrization(self.rnn, "weight_hh_l0", self.wd)
            self.dec = nn.Linear(6, 10)
            self.dec.weight = self.enc.weight

        def forward(self, x, emask, lmask, omask):
            w = self.enc.weight * emask
            h = L.F.embedding(x, w) * lmask
            out, _ = self.rnn(h)
            drop = out * omask
            return self.dec(drop), out

    return AWD()


def _awd_train(L, m):
    X = L.X
    rng = np.random.default_rng(131)
    opt = L.optim.ASGD(m.parameters(), lr=0.5, t0=2, weight_decay=1.2e-6)
    for _ in range(4):
        seq = L.T(rng.integers(0, 10, (6, 3)))  # (T, B), torch's LSTM default layout
        emask = _t(L, (rng.uniform(size=(10, 1)) > 0.1) / 0.9)
        lmask = _t(L, (rng.uniform(size=(1, 3, 6)) > 0.2) / 0.8)
        omask = _t(L, (rng.uniform(size=(1, 3, 6)) > 0.3) / 0.7)
        m.wd.mask = _t(L, (rng.uniform(size=(24, 6)) > 0.5) / 0.5)
        logits, out = m(seq[:-1], emask, lmask, omask)
        ce = L.F.cross_entropy(logits.reshape(-1, 10), seq[1:].reshape(-1))
        ar = 2 * (out * omask).pow(2).mean()
        tar = 1 * (out[1:] - out[:-1]).pow(2).mean()
        loss = ce + ar + tar
        opt.zero_grad()
        loss.backward()
        L.nn.utils.clip_grad_norm_(m.parameters(), 0.25)
        opt.step()
        yield {"ce": ce, "ar": ar, "tar": tar, **snap(m)}
    m.wd.mask = None
    yield opt_state(opt)


def test_q31_awd_lstm_weight_tied_weight_drop():
    assert port(_awd_build, _awd_train) == 5


# ----------------------------------------------------------------------------------------------
# q32 mixup and label smoothing schedules: lambda from NumPy's Beta(0.4, 0.4) per batch, mixed
# one-hot soft targets with smoothing that decays by epoch, CE with probability targets
# (class-index and probability forms compared), a mixup-off final epoch; also the manifold-
# mixup variant mixing hidden states; SGD with PolynomialLR.

def _mixsched_build(L):
    nn = L.nn
    return nn.Sequential(nn.Linear(5, 10), nn.ReLU()), nn.Linear(10, 4)


def _mixsched_train(L, body, head):
    X, F = L.X, L.F
    rng = np.random.default_rng(132)
    opt = L.optim.SGD(list(body.parameters()) + list(head.parameters()), lr=0.1)
    sched = L.optim.lr_scheduler.PolynomialLR(opt, total_iters=4, power=2.0)
    for epoch in range(4):
        x, y = _t(L, rng.standard_normal((6, 5))), L.T(rng.integers(0, 4, 6))
        perm = L.T(rng.permutation(6))
        lam = float(rng.beta(0.4, 0.4)) if epoch < 3 else 1.0
        eps = 0.1 * (1 - epoch / 4)
        soft = F.one_hot(y, 4).double() * (1 - eps) + eps / 4
        target = lam * soft + (1 - lam) * soft[perm]
        if epoch % 2 == 0:
            logits = head(body(lam * x + (1 - lam) * x[perm]))
        else:
            h = body(x)
            logits = head(lam * h + (1 - lam) * h[perm])
        loss = F.cross_entropy(logits, target)
        ref = lam * F.cross_entropy(logits, y, label_smoothing=eps) \
            + (1 - lam) * F.cross_entropy(logits, y[perm], label_smoothing=eps)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        yield {"loss": loss, "ref": ref, "lr": sched.get_last_lr(), **snap(body, head)}


def test_q32_mixup_label_smoothing_schedules():
    assert port(_mixsched_build, _mixsched_train) == 4


# ----------------------------------------------------------------------------------------------
# q33 DARTS (first-order): a cell whose edges mix candidate ops (identity, 3x3 conv, avg pool,
# max pool, zero) by softmax over architecture parameters held outside the network weights,
# alternating Adam steps on alpha (validation batch) and SGD steps on the weights (training
# batch), the derived architecture by argmax; the ops' outputs summed by stack/sum.

def _darts_build(L):
    nn = L.nn

    class MixedOp(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.ops = nn.ModuleList([nn.Identity(), nn.Conv2d(c, c, 3, padding=1, bias=False),
                                      nn.AvgPool2d(3, 1, 1, count_include_pad=False),
                                      nn.MaxPool2d(3, 1, 1)])

        def forward(self, x, w):
            return L.X.stack([wi * op(x) for wi, op in zip(w[:4], self.ops)]).sum(0) + w[4] * 0 * x

    class Cell(nn.Module):
        def __init__(self, c=3):
            super().__init__()
            self.stem = nn.Conv2d(1, c, 3, padding=1)
            self.e01, self.e02, self.e12 = MixedOp(c), MixedOp(c), MixedOp(c)
            self.head = nn.Linear(c, 2)

        def forward(self, x, alpha):
            w = alpha.softmax(-1)
            s0 = self.stem(x)
            s1 = self.e01(s0, w[0])
            s2 = self.e02(s0, w[1]) + self.e12(s1, w[2])
            return self.head(s2.mean(dim=(2, 3)))

    return Cell()


def _darts_train(L, net):
    rng = np.random.default_rng(133)
    alpha = L.X.tensor(rng.standard_normal((3, 5)) * 1e-3, requires_grad=True)
    opt_w = L.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=3e-4)
    opt_a = L.optim.Adam([alpha], lr=3e-2, betas=(0.5, 0.999), weight_decay=1e-3)
    for _ in range(3):
        xv, yv = _t(L, rng.standard_normal((4, 1, 5, 5))), L.T(rng.integers(0, 2, 4))
        la = L.F.cross_entropy(net(xv, alpha), yv)
        opt_a.zero_grad()
        la.backward()
        opt_a.step()
        xt, yt = _t(L, rng.standard_normal((4, 1, 5, 5))), L.T(rng.integers(0, 2, 4))
        lw = L.F.cross_entropy(net(xt, alpha.detach()), yt)
        opt_w.zero_grad()
        lw.backward()
        L.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt_w.step()
        yield {"la": la, "lw": lw, "alpha": alpha, "alpha.grad": alpha.grad, **snap(net)}
    yield {"genotype": alpha[:, :4].argmax(-1)}


def test_q33_darts_first_order():
    assert port(_darts_build, _darts_train) == 4


# ----------------------------------------------------------------------------------------------
# q34 nn.Transformer seq2seq: batch_first, norm_first, src/tgt key padding masks, the causal mask
# from Transformer.generate_square_subsequent_mask, learned positional embeddings, shared
# source/target embedding scaled by sqrt(d), dropout 0 for determinism; trained with SGD momentum
# (the attention key biases' gradients are rounding noise, see q14) and a Noam-style LambdaLR
# warm-up; greedy decoding in eval mode under no_grad.

def _tfseq_build(L):
    nn = L.nn

    class TF(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb, self.pos = nn.Embedding(8, 8, padding_idx=0), nn.Embedding(10, 8)
            self.tf = nn.Transformer(8, 2, 1, 1, 16, dropout=0.0, batch_first=True, norm_first=True)
            self.out = nn.Linear(8, 8)

        def embed(self, x):
            return self.emb(x) * math.sqrt(8) + self.pos(L.X.arange(x.shape[1]))

        def forward(self, src, tgt):
            mask = L.nn.Transformer.generate_square_subsequent_mask(tgt.shape[1], dtype=L.X.float64)
            h = self.tf(self.embed(src), self.embed(tgt), tgt_mask=mask,
                        src_key_padding_mask=src == 0, tgt_key_padding_mask=tgt == 0,
                        memory_key_padding_mask=src == 0)
            return self.out(h)

    return TF()


def _tfseq_train(L, m):
    X = L.X
    rng = np.random.default_rng(134)
    opt = L.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
    sched = L.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) ** -0.5, (s + 1) * 3 ** -1.5))
    for _ in range(3):
        src = rng.integers(1, 8, (3, 5))
        src[0, 4:] = 0
        tgt = np.concatenate([np.ones((3, 1), int), src[:, ::-1]], 1)
        tgt[2, 5:] = 0
        src, tgt = L.T(src), L.T(tgt)
        logits = m(src, tgt[:, :-1])
        loss = L.F.cross_entropy(logits.reshape(-1, 8), tgt[:, 1:].reshape(-1), ignore_index=0)
        opt.zero_grad()
        loss.backward()
        yield {"loss": loss, "lr": sched.get_last_lr(), **snap(m)}
        opt.step()
        sched.step()
    m.eval()
    with X.no_grad():
        ys = X.ones(3, 1, dtype=X.long)
        for _ in range(4):
            nxt = m(src, ys)[:, -1].argmax(-1, keepdim=True)
            ys = X.cat([ys, nxt], 1)
        yield {"decoded": ys}


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # torch's own notes
@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
def test_q34_nn_transformer_seq2seq_greedy():
    assert port(_tfseq_build, _tfseq_train, rtol=1e-9, atol=1e-11) == 4


# ----------------------------------------------------------------------------------------------
# q35 TRPO: a Categorical policy, the surrogate's gradient flattened by parameters_to_vector of
# autograd.grad, Fisher-vector products as the gradient of (grad KL . v) (double backward, with a
# damping term), ten conjugate-gradient iterations, the step scaled to the KL radius, a
# backtracking line search writing candidates with vector_to_parameters and checking the KL and
# the improvement under no_grad; a value network by LBFGS.

def _trpo_build(L):
    nn = L.nn
    return (nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 3)),
            nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)))


def _trpo_train(L, pi, vf):
    X = L.X
    utils, D = L.nn.utils, L.D
    rng = np.random.default_rng(135)
    params = list(pi.parameters())
    for _ in range(2):
        s, a = _t(L, rng.standard_normal((10, 3))), L.T(rng.integers(0, 3, 10))
        adv = _t(L, rng.standard_normal(10))
        with X.no_grad():
            old = D.Categorical(logits=pi(s))
            old_logp = old.log_prob(a)

        def surrogate():
            return (X.exp(D.Categorical(logits=pi(s)).log_prob(a) - old_logp) * adv).mean()

        def kl():
            return D.kl_divergence(old, D.Categorical(logits=pi(s))).mean()

        g = utils.parameters_to_vector(X.autograd.grad(surrogate(), params))
        gkl = utils.parameters_to_vector(X.autograd.grad(kl(), params, create_graph=True))

        def fvp(v):
            return utils.parameters_to_vector(
                X.autograd.grad((gkl * v).sum(), params, retain_graph=True)) + 0.1 * v

        x, r = X.zeros_like(g), g.clone()
        p, rr = r.clone(), r @ r
        for _ in range(10):
            ap = fvp(p)
            alpha = rr / (p @ ap)
            x, r = x + alpha * p, r - alpha * ap
            new_rr = r @ r
            p, rr = r + new_rr / rr * p, new_rr
        step = X.sqrt(2 * 0.01 / (x @ fvp(x))) * x
        old_params = utils.parameters_to_vector(params).detach()
        with X.no_grad():
            base = surrogate()
            for frac in (1.0, 0.5, 0.25, 0.125):
                utils.vector_to_parameters(old_params + frac * step, params)
                if kl() <= 0.015 and surrogate() > base:
                    break
            else:
                utils.vector_to_parameters(old_params, params)
        yield {"g": g, "x": x, "step": step, "frac": X.tensor(frac), **snap(pi)}
    lbfgs = L.optim.LBFGS(vf.parameters(), max_iter=4)
    ret = _t(L, rng.standard_normal((10, 1)))

    def closure():
        lbfgs.zero_grad()
        loss = L.F.mse_loss(vf(s), ret)
        loss.backward()
        return loss

    yield {"v": lbfgs.step(closure), **snap(vf)}


def test_q35_trpo_conjugate_gradient_fvp():
    assert port(_trpo_build, _trpo_train, rtol=1e-9, atol=1e-11) == 3


# ----------------------------------------------------------------------------------------------
# q36 DP-SGD with per-sample gradients by torch.func: functional_call over the module's
# detached parameters, grad of a single-sample loss vmapped over the batch (in_dims (None, 0,
# 0), unsqueeze inside), per-sample norms over every parameter, clip factors clamp(max=1),
# the clipped sum by einsum, Gaussian noise from NumPy times sigma*C, the noisy mean written into
# p.grad; SGD. Checked against a per-sample backward loop.

def _dpsgd_build(L):
    nn = L.nn
    return nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))


def _dpsgd_train(L, net):
    X = L.X
    func = L.X.func if L.is_torch else tg.func
    rng = np.random.default_rng(136)
    opt = L.optim.SGD(net.parameters(), lr=0.2)
    names = [n for n, _ in net.named_parameters()]
    for _ in range(3):
        x, y = _t(L, rng.standard_normal((5, 4))), L.T(rng.integers(0, 3, 5))
        params = {k: v.detach() for k, v in net.named_parameters()}

        def loss_one(p, xi, yi):
            out = func.functional_call(net, p, (xi.unsqueeze(0),))
            return L.F.cross_entropy(out, yi.unsqueeze(0))

        per = func.vmap(func.grad(loss_one), in_dims=(None, 0, 0))(params, x, y)
        loop = []
        for i in range(5):
            net.zero_grad()
            L.F.cross_entropy(net(x[i:i + 1]), y[i:i + 1]).backward()
            loop.append({n: p.grad.clone() for n, p in net.named_parameters()})
        norms = X.stack([per[n].flatten(1).norm(dim=1) for n in names]).norm(dim=0)
        factor = (1.0 / (norms + 1e-6)).clamp(max=1.0)
        for n, p in net.named_parameters():
            clipped = X.einsum("i,i...->...", factor, per[n])
            noise = _t(L, rng.standard_normal(tuple(p.shape))) * 0.5
            p.grad = (clipped + noise) / 5
        opt.step()
        yield {"per": per, "loop": loop, "norms": norms, **snap(net)}


def test_q36_dp_sgd_per_sample_gradients_vmap():
    assert port(_dpsgd_build, _dpsgd_train) == 3


# ----------------------------------------------------------------------------------------------
# q37 spatial transformer network: a localisation net regressing a 2x3 affine matrix initialised
# to the identity (weight zeroed, bias copied), F.affine_grid (align_corners False) and
# F.grid_sample (bilinear, zeros padding; then border padding, nearest mode and reflection
# padding with align_corners) before a small classifier; Adam.

def _stn_build(L):
    nn = L.nn

    class STN(nn.Module):
        def __init__(self):
            super().__init__()
            self.loc = nn.Sequential(nn.Conv2d(1, 3, 3), nn.MaxPool2d(2), nn.ReLU(), nn.Flatten(),
                                     nn.Linear(12, 6))
            with L.X.no_grad():
                self.loc[4].weight.mul_(0.1)
                self.loc[4].bias.copy_(L.X.tensor([1.0, 0, 0, 0, 1.0, 0]))
            self.cls = nn.Sequential(nn.Flatten(), nn.Linear(36, 3))

        def forward(self, x, mode, pad, ac):
            theta = self.loc(x).view(-1, 2, 3)
            grid = L.F.affine_grid(theta, list(x.shape), align_corners=ac)
            return self.cls(L.F.grid_sample(x, grid, mode=mode, padding_mode=pad,
                                            align_corners=ac)), theta

    return STN()


def _stn_train(L, m):
    rng = np.random.default_rng(137)
    opt = L.optim.Adam(m.parameters(), lr=1e-2)
    for mode, pad, ac in [("bilinear", "zeros", False), ("bilinear", "border", True),
                          ("nearest", "zeros", False), ("bilinear", "reflection", True),
                          ("bicubic", "zeros", False)]:
        x, y = _t(L, rng.standard_normal((3, 1, 6, 6))), L.T(rng.integers(0, 3, 3))
        logits, theta = m(x, mode, pad, ac)
        loss = L.F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        yield {"loss": loss, "theta": theta, **snap(m)}
        opt.step()


def test_q37_spatial_transformer_grid_sample():
    assert port(_stn_build, _stn_train) == 5


# ----------------------------------------------------------------------------------------------
# q38 lottery ticket: train, prune 40% globally by L1 magnitude (prune.global_unstructured over
# two Linears' weights), then 30% of a bias by l1_unstructured, the initial weights rewound by
# writing weight_orig under no_grad (masks kept), retrain with the masks in the forward
# pre-hooks, prune.remove to make it permanent; Adam.

def _lottery_build(L):
    nn = L.nn
    return nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))


def _lottery_train(L, net):
    import torch.nn.utils.prune  # noqa: F401  (torch does not import the submodule itself)
    prune = L.nn.utils.prune
    rng = np.random.default_rng(138)
    init = {k: v.detach().clone() for k, v in net.state_dict().items()}
    x, y = _t(L, rng.standard_normal((12, 5))), L.T(rng.integers(0, 3, 12))

    def fit(steps):
        opt = L.optim.Adam(net.parameters(), lr=2e-2)
        for _ in range(steps):
            loss = L.F.cross_entropy(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return loss

    yield {"dense": fit(3), **snap(net)}
    prune.global_unstructured([(net[0], "weight"), (net[2], "weight")],
                              pruning_method=prune.L1Unstructured, amount=0.4)
    prune.l1_unstructured(net[2], "bias", amount=0.3)
    with L.X.no_grad():
        net[0].weight_orig.copy_(init["0.weight"])
        net[2].weight_orig.copy_(init["2.weight"])
    yield {"masks": [net[0].weight_mask, net[2].weight_mask, net[2].bias_mask]}
    yield {"ticket": fit(3), **snap(net)}
    for mod, name in [(net[0], "weight"), (net[2], "weight"), (net[2], "bias")]:
        prune.remove(mod, name)
    yield {"final": snap(net), "out": net(x)}


def test_q38_lottery_ticket_pruning():
    assert port(_lottery_build, _lottery_train) == 4


# ----------------------------------------------------------------------------------------------
# q39 self-supervised objectives on one backbone: Barlow Twins (per-dimension standardised
# embeddings, the cross-correlation matrix, its diagonal and off-diagonal terms, the
# off-diagonal taken by the flatten()[:-1].view(n - 1, n + 1)[:, 1:] trick), VICReg (variance
# hinge on the std with eps, covariance off-diagonal squares, invariance MSE), BYOL (an online
# predictor, a target network updated by EMA, the 2 - 2 cos loss symmetrised); LARS-free SGD.

def _offdiag(x):
    n = x.shape[0]
    return x.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


def _ssl_build(L):
    nn = L.nn
    backbone = nn.Sequential(nn.Linear(6, 10), nn.BatchNorm1d(10), nn.ReLU(), nn.Linear(10, 5))
    predictor = nn.Sequential(nn.Linear(5, 5), nn.ReLU(), nn.Linear(5, 5))
    return backbone, predictor


def _ssl_train(L, backbone, predictor):
    X, F = L.X, L.F
    rng = np.random.default_rng(139)
    target = copy.deepcopy(backbone)
    for p in target.parameters():
        p.requires_grad_(False)
    opt = L.optim.SGD(list(backbone.parameters()) + list(predictor.parameters()), lr=0.05,
                      momentum=0.9)
    for _ in range(3):
        base = rng.standard_normal((8, 6))
        v1, v2 = (_t(L, base + 0.2 * rng.standard_normal((8, 6))) for _ in range(2))
        z1, z2 = backbone(v1), backbone(v2)
        n1, n2 = (z1 - z1.mean(0)) / z1.std(0), (z2 - z2.mean(0)) / z2.std(0)
        c = n1.T @ n2 / 8
        barlow = (X.diagonal(c) - 1).pow(2).sum() + 5e-3 * _offdiag(c).pow(2).sum()
        inv = F.mse_loss(z1, z2)
        std1, std2 = X.sqrt(z1.var(dim=0) + 1e-4), X.sqrt(z2.var(dim=0) + 1e-4)
        var = F.relu(1 - std1).mean() / 2 + F.relu(1 - std2).mean() / 2
        c1, c2 = X.cov(z1.T), X.cov(z2.T)
        cov = _offdiag(c1).pow_(2).sum() / 5 + _offdiag(c2).pow_(2).sum() / 5
        vicreg = 25 * inv + 25 * var + cov
        with X.no_grad():
            t1, t2 = target(v1), target(v2)
        p1, p2 = predictor(z1), predictor(z2)
        byol = (2 - 2 * F.cosine_similarity(p1, t2.detach(), dim=-1)).mean() \
            + (2 - 2 * F.cosine_similarity(p2, t1.detach(), dim=-1)).mean()
        loss = barlow + 0.1 * vicreg + byol
        opt.zero_grad()
        loss.backward()
        opt.step()
        with X.no_grad():
            for po, pt in zip(backbone.parameters(), target.parameters()):
                pt.mul_(0.99).add_(po, alpha=0.01)
            for bo, bt in zip(backbone.buffers(), target.buffers()):
                bt.copy_(bo)
        yield {"barlow": barlow, "vicreg": vicreg, "byol": byol, **snap(backbone, predictor, target)}


def test_q39_barlow_twins_vicreg_byol():
    assert port(_ssl_build, _ssl_train) == 3


# ----------------------------------------------------------------------------------------------
# q40 SwAV and DINO heads: prototypes as a weight-normalised Linear (normalised in place under
# no_grad before each step), Sinkhorn-Knopp in float64 (exp of scores / eps, alternating row
# and column normalisation by sums, the code detached), swapped prediction CE with log_softmax
# at temperature 0.1; DINO's teacher centring buffer updated by EMA of the batch mean, the
# sharpened teacher softmax, CE against the student's log_softmax over two crops; AdamW.

def _swav_build(L):
    nn = L.nn
    enc = nn.Sequential(nn.Linear(6, 8), nn.GELU(), nn.Linear(8, 4))
    protos = nn.Linear(4, 5, bias=False)
    dino = nn.Sequential(nn.Linear(6, 8), nn.GELU(), nn.Linear(8, 7))

    class Center(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("center", L.X.zeros(1, 7))

    return enc, protos, dino, Center()


def _sinkhorn(L, scores, iters=3):
    q = L.X.exp(scores / 0.05).T
    q = q / q.sum()
    k, b = q.shape
    for _ in range(iters):
        q = q / q.sum(dim=1, keepdim=True) / k
        q = q / q.sum(dim=0, keepdim=True) / b
    return (q * b).T


def _swav_train(L, enc, protos, dino, center):
    X, F = L.X, L.F
    rng = np.random.default_rng(140)
    teacher = copy.deepcopy(dino)
    opt = L.optim.AdamW(list(enc.parameters()) + list(protos.parameters()) + list(dino.parameters()),
                        lr=5e-3, weight_decay=0.04)
    for _ in range(3):
        with X.no_grad():
            protos.weight.copy_(F.normalize(protos.weight, dim=1, p=2))
        base = rng.standard_normal((6, 6))
        v1, v2 = (_t(L, base + 0.2 * rng.standard_normal((6, 6))) for _ in range(2))
        s1, s2 = protos(F.normalize(enc(v1), dim=1)), protos(F.normalize(enc(v2), dim=1))
        with X.no_grad():
            q1, q2 = _sinkhorn(L, s1.detach()), _sinkhorn(L, s2.detach())
        swav = -0.5 * ((q1 * F.log_softmax(s2 / 0.1, dim=1)).sum(1).mean()
                       + (q2 * F.log_softmax(s1 / 0.1, dim=1)).sum(1).mean())
        with X.no_grad():
            t_out = teacher(X.cat([v1, v2]))
            t_prob = F.softmax((t_out - center.center) / 0.04, dim=-1).chunk(2)
        s_out = F.log_softmax(dino(X.cat([v1, v2])) / 0.1, dim=-1).chunk(2)
        dino_loss = sum(-(t_prob[i] * s_out[j]).sum(-1).mean()
                        for i in range(2) for j in range(2) if i != j) / 2
        loss = swav + dino_loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        with X.no_grad():
            center.center.mul_(0.9).add_(t_out.mean(dim=0, keepdim=True) * 0.1)
            for ps, pt in zip(dino.parameters(), teacher.parameters()):
                pt.mul_(0.996).add_((1 - 0.996) * ps.detach())
        yield {"swav": swav, "dino": dino_loss, "q1": q1, **snap(enc, protos, dino, teacher, center)}


def test_q40_swav_sinkhorn_dino_centering():
    assert port(_swav_build, _swav_train) == 3


# ----------------------------------------------------------------------------------------------
# q41 neural Turing machine addressing: a controller LSTMCell, content addressing by cosine
# similarity against the memory sharpened by softplus(beta), interpolation with the previous
# weighting by a sigmoid gate, circular convolution with a 3-tap shift by torch.roll of the
# weighting, sharpening by pow(gamma) and renormalisation, erase/add writes building a new
# memory each step (outer products); copy task, RMSprop with momentum.

def _ntm_build(L):
    nn = L.nn

    class NTM(nn.Module):
        def __init__(self, n=6, m=4):
            super().__init__()
            self.n, self.m = n, m
            self.ctrl = nn.LSTMCell(3 + m, 8)
            self.head = nn.Linear(8, m + 1 + 1 + 3 + 1 + 2 * m)
            self.out = nn.Linear(8 + m, 3)

        def address(self, h, mem, w_prev):
            X, F = L.X, L.F
            p = self.head(h)
            m = self.m
            k, beta, g = p[:, :m], F.softplus(p[:, m]), X.sigmoid(p[:, m + 1])
            s, gamma = F.softmax(p[:, m + 2:m + 5], 1), 1 + F.softplus(p[:, m + 5])
            e, a = X.sigmoid(p[:, m + 6:2 * m + 6]), X.tanh(p[:, 2 * m + 6:])
            sim = F.cosine_similarity(mem, k.unsqueeze(1), dim=-1, eps=1e-8)
            wc = F.softmax(beta.unsqueeze(1) * sim, dim=1)
            wg = g.unsqueeze(1) * wc + (1 - g.unsqueeze(1)) * w_prev
            ws = (s[:, 0:1] * X.roll(wg, -1, 1) + s[:, 1:2] * wg + s[:, 2:3] * X.roll(wg, 1, 1))
            w = ws.pow(gamma.unsqueeze(1))
            return w / (w.sum(1, keepdim=True) + 1e-16), e, a

        def forward(self, seq):
            X = L.X
            b = seq.shape[1]
            mem = X.full((b, self.n, self.m), 1e-6)
            h, c = X.zeros(b, 8), X.zeros(b, 8)
            w = X.zeros(b, self.n)
            w[:, 0] = 1.0
            r, outs = X.zeros(b, self.m), []
            for x in seq:
                h, c = self.ctrl(X.cat([x, r], 1), (h, c))
                w, e, a = self.address(h, mem, w)
                r = (w.unsqueeze(2) * mem).sum(1)
                mem = mem * (1 - X.einsum("bn,bm->bnm", w, e)) + X.einsum("bn,bm->bnm", w, a)
                outs.append(self.out(X.cat([h, r], 1)))
            return X.stack(outs)

    return NTM()


def _ntm_train(L, m):
    rng = np.random.default_rng(141)
    opt = L.optim.RMSprop(m.parameters(), lr=1e-3, momentum=0.9, alpha=0.95)
    for _ in range(3):
        bits = (rng.uniform(size=(3, 2, 3)) > 0.5) * 1.0
        seq = _t(L, np.concatenate([bits, np.zeros((3, 2, 3))]))
        out = m(seq)
        loss = L.F.binary_cross_entropy_with_logits(out[3:], _t(L, bits))
        opt.zero_grad()
        loss.backward()
        L.nn.utils.clip_grad_value_(m.parameters(), 10)
        yield {"loss": loss, **snap(m)}
        opt.step()


def test_q41_ntm_addressing():
    assert port(_ntm_build, _ntm_train) == 3


# ----------------------------------------------------------------------------------------------
# q42 user-written optimizers: SAM (Foret et al.'s widely copied class: an Optimizer subclass
# wrapping a base optimizer built on its own param_groups, first_step climbing to w + e(w) with
# the old weights kept as Tensors in self.state[p], second_step restoring them and stepping the
# base optimizer, the gradient norm by stack/norm), a Lion optimizer written as torch's
# docs teach (@no_grad step(closure), lazily created state tensors, sign of the interpolation,
# decoupled decay), and a Lookahead wrapper (slow weights in its own state dict); the state
# dicts round-tripped through load_state_dict.

def _user_opts(L):
    X = L.X

    class SAM(L.optim.Optimizer):
        def __init__(self, params, base_optimizer, rho=0.05, **kwargs):
            super().__init__(params, dict(rho=rho, **kwargs))
            self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
            self.param_groups = self.base_optimizer.param_groups
            self.defaults.update(self.base_optimizer.defaults)

        @X.no_grad()
        def first_step(self, zero_grad=False):
            grad_norm = self._grad_norm()
            for group in self.param_groups:
                scale = group["rho"] / (grad_norm + 1e-12)
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    self.state[p]["old_p"] = p.data.clone() if L.is_torch else p.detach().clone()
                    p.add_(p.grad * scale.to(p))
            if zero_grad:
                self.zero_grad()

        @X.no_grad()
        def second_step(self, zero_grad=False):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.copy_(self.state[p]["old_p"])
            self.base_optimizer.step()
            if zero_grad:
                self.zero_grad()

        def _grad_norm(self):
            return X.norm(X.stack([p.grad.norm(p=2) for g in self.param_groups
                                   for p in g["params"] if p.grad is not None]), p=2)

    class Lion(L.optim.Optimizer):
        def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
            super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay))

        @X.no_grad()
        def step(self, closure=None):
            loss = None
            if closure is not None:
                with X.enable_grad():
                    loss = closure()
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    p.mul_(1 - group["lr"] * group["weight_decay"])
                    state = self.state[p]
                    if len(state) == 0:
                        state["exp_avg"] = X.zeros_like(p)
                    exp_avg = state["exp_avg"]
                    b1, b2 = group["betas"]
                    update = exp_avg * b1 + p.grad * (1 - b1)
                    p.add_(X.sign(update), alpha=-group["lr"])
                    exp_avg.mul_(b2).add_(p.grad, alpha=1 - b2)
            return loss

    class Lookahead:
        def __init__(self, inner, k=2, alpha=0.5):
            self.inner, self.k, self.alpha, self.n = inner, k, alpha, 0
            self.slow = [[p.detach().clone() for p in g["params"]] for g in inner.param_groups]

        @X.no_grad()
        def step(self, closure=None):
            loss = self.inner.step(closure)
            self.n += 1
            if self.n % self.k == 0:
                for g, slow in zip(self.inner.param_groups, self.slow):
                    for p, s in zip(g["params"], slow):
                        s.add_(p - s, alpha=self.alpha)
                        p.copy_(s)
            return loss

    return SAM, Lion, Lookahead


def _userop_build(L):
    nn = L.nn
    return (nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)),
            nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 2)))


def _userop_train(L, a, b):
    SAM, Lion, Lookahead = _user_opts(L)
    rng = np.random.default_rng(142)
    sam = SAM(a.parameters(), L.optim.SGD, rho=0.1, lr=0.1, momentum=0.9)
    lion = Lookahead(Lion(b.parameters(), lr=1e-2, weight_decay=0.1))
    for step in range(4):
        x, y = _t(L, rng.standard_normal((6, 4))), L.T(rng.integers(0, 2, 6))
        loss1 = L.F.cross_entropy(a(x), y)
        loss1.backward()
        sam.first_step(zero_grad=True)
        loss2 = L.F.cross_entropy(a(x), y)
        loss2.backward()
        sam.second_step(zero_grad=True)

        def closure():
            lion.inner.zero_grad()
            out = L.F.cross_entropy(b(x), y)
            out.backward()
            return out

        loss3 = lion.step(closure)
        yield {"l1": loss1, "l2": loss2, "l3": loss3, **snap(a, b),
               "lion": [s["exp_avg"] for s in lion.inner.state.values()]}
        if step == 1:
            sd = lion.inner.state_dict()
            fresh = Lion(b.parameters(), lr=1e-2, weight_decay=0.1)
            fresh.load_state_dict(sd)
            lion.inner = fresh
    yield {"groups": [g["lr"] for g in sam.param_groups], "base": opt_state(sam.base_optimizer)}


def test_q42_user_optimizers_sam_lion_lookahead():
    assert port(_userop_build, _userop_train) == 5


# ----------------------------------------------------------------------------------------------
# q43 checkpoint and resume: a user-written warm-up + cosine scheduler subclassing
# lr_scheduler.LRScheduler (get_lr from last_epoch and base_lrs), a ReduceLROnPlateau beside it;
# after two epochs the model, optimizer and both schedulers' state dicts saved with save() to a
# BytesIO and loaded into fresh objects (map_location, weights_only=False), training resumed and
# compared with the uninterrupted run; AdamW with amsgrad.

def _resume_build(L):
    nn = L.nn
    return nn.Sequential(nn.Linear(3, 6), nn.Mish(), nn.Linear(6, 1)), \
        nn.Sequential(nn.Linear(3, 6), nn.Mish(), nn.Linear(6, 1))


def _resume_train(L, net, twin):
    import io
    X = L.X

    class WarmupCosine(L.optim.lr_scheduler.LRScheduler):
        def __init__(self, optimizer, warmup, total, last_epoch=-1):
            self.warmup, self.total = warmup, total
            super().__init__(optimizer, last_epoch)

        def get_lr(self):
            e = self.last_epoch
            if e < self.warmup:
                return [b * (e + 1) / self.warmup for b in self.base_lrs]
            t = (e - self.warmup) / max(1, self.total - self.warmup)
            return [b * 0.5 * (1 + math.cos(math.pi * t)) for b in self.base_lrs]

    def make(m):
        opt = L.optim.AdamW(m.parameters(), lr=0.02, amsgrad=True)
        return opt, WarmupCosine(opt, 2, 6), L.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)

    rng = np.random.default_rng(143)
    data = [(_t(L, rng.standard_normal((5, 3))), _t(L, rng.standard_normal((5, 1)))) for _ in range(5)]
    twin.load_state_dict(net.state_dict())
    runs = {}
    for name, m in (("straight", net), ("resumed", twin)):
        opt, sched, plateau = make(m)
        recs = []
        for epoch, (x, y) in enumerate(data):
            if name == "resumed" and epoch == 2:
                buf = io.BytesIO()
                X.save({"model": m.state_dict(), "opt": opt.state_dict(),
                        "sched": sched.state_dict(), "plateau": plateau.state_dict()}, buf)
                buf.seek(0)
                ck = X.load(buf, map_location="cpu", weights_only=False)
                m.load_state_dict(ck["model"])
                opt, sched, plateau = make(m)
                opt.load_state_dict(ck["opt"])
                sched.load_state_dict(ck["sched"])
                plateau.load_state_dict(ck["plateau"])
            loss = L.F.mse_loss(m(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            plateau.step(1.0)
            recs.append(copy.deepcopy(  # torch's state_dict() holds the live buffers
                {"loss": loss.detach(), "lr": opt.param_groups[0]["lr"],
                 **{k: (v if v is None else v.detach()) for k, v in snap(m).items()},
                 **opt_state(opt)}))
        runs[name] = recs
    yield runs
    _cmp(runs["straight"], runs["resumed"], "resume", 1e-12, 1e-14)


def test_q43_checkpoint_resume_user_scheduler():
    assert port(_resume_build, _resume_train) == 1


# ----------------------------------------------------------------------------------------------
# q44 masked autoencoder (MAE): patches by F.unfold, random masking by argsort of NumPy noise
# (ids_restore by argsort of ids_shuffle), kept tokens by gather with an index expanded over
# the channel dim, a learned mask token concatenated and unshuffled by gather, a one-layer
# TransformerEncoder, per-patch normalised pixel targets, the loss on masked patches only,
# images rebuilt by F.fold; AdamW with weight decay off for the mask token.

def _mae_build(L):
    nn = L.nn

    class MAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Linear(4, 8)
            self.pos = nn.Parameter(L.X.tensor(np.random.default_rng(3).normal(size=(1, 9, 8)) * 0.02))
            self.enc = nn.TransformerEncoder(
                nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 1,
                enable_nested_tensor=False)
            self.mask_token = nn.Parameter(L.X.zeros(1, 1, 8))
            self.dec = nn.Sequential(nn.LayerNorm(8), nn.Linear(8, 4))

        def forward(self, img, noise):
            X, F = L.X, L.F
            patches = F.unfold(img, 2, stride=2).transpose(1, 2)  # (B, 9, 4)
            x = self.embed(patches) + self.pos
            b, n, d = x.shape
            keep = 3
            ids_shuffle = X.argsort(noise, dim=1)
            ids_restore = X.argsort(ids_shuffle, dim=1)
            ids_keep = ids_shuffle[:, :keep]
            x = X.gather(x, 1, ids_keep.unsqueeze(-1).expand(-1, -1, d))
            mask = X.ones(b, n)
            mask[:, :keep] = 0
            mask = X.gather(mask, 1, ids_restore)
            h = self.enc(x)
            full = X.cat([h, self.mask_token.repeat(b, n - keep, 1)], 1)
            full = X.gather(full, 1, ids_restore.unsqueeze(-1).repeat(1, 1, d))
            pred = self.dec(full + self.pos)
            mean, var = patches.mean(-1, keepdim=True), patches.var(-1, keepdim=True)
            target = (patches - mean) / (var + 1e-6) ** 0.5
            loss = (((pred - target) ** 2).mean(-1) * mask).sum() / mask.sum()
            rebuilt = F.fold(pred.transpose(1, 2), (6, 6), 2, stride=2)
            return loss, rebuilt, mask

    return MAE()


def _mae_train(L, m):
    rng = np.random.default_rng(144)
    decay = [p for n, p in m.named_parameters() if n != "mask_token"]
    opt = L.optim.AdamW([{"params": decay}, {"params": [m.mask_token], "weight_decay": 0.0}],
                        lr=5e-3, betas=(0.9, 0.95))
    for _ in range(3):
        img = _t(L, rng.standard_normal((2, 1, 6, 6)))
        loss, rebuilt, mask = m(img, _t(L, rng.uniform(size=(2, 9))))
        opt.zero_grad()
        loss.backward()
        yield {"loss": loss, "rebuilt": rebuilt, "mask": mask, **snap(m)}
        opt.step()


def test_q44_masked_autoencoder_unfold_gather():
    assert port(_mae_build, _mae_train, rtol=1e-9, atol=1e-11) == 3


# ----------------------------------------------------------------------------------------------
# q45 second-order methods on a small logistic regression: Newton steps with the Hessian from
# autograd.functional.hessian over a flat parameter vector and linalg.solve, a Laplace
# approximation's posterior covariance (inverse Hessian plus prior) and its predictive by
# func.jacrev of the logit with respect to the weights; then a Gauss-Newton step for a small
# MLP by func.jacrev over functional_call and lstsq.

def _newton_build(L):
    nn = L.nn
    return nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))


def _newton_train(L, net):
    X = L.X
    func = X.func if L.is_torch else tg.func
    AF = X.autograd.functional
    rng = np.random.default_rng(145)
    xs = _t(L, rng.standard_normal((20, 3)))
    ys = _t(L, (rng.uniform(size=20) < 0.5) * 1.0)

    def nll(w):
        return L.F.binary_cross_entropy_with_logits(xs @ w, ys, reduction="sum") + 0.5 * w @ w

    w = X.zeros(3)
    for _ in range(3):
        g = AF.jacobian(nll, w)
        h = AF.hessian(nll, w)
        w = w - X.linalg.solve(h, g)
        yield {"w": w, "g": g, "h": h}
    cov = X.linalg.inv(AF.hessian(nll, w))
    xq = _t(L, rng.standard_normal((4, 3)))
    jac = func.jacrev(lambda v: xq @ v)(w)
    var = X.einsum("ij,jk,ik->i", jac, cov, jac)
    _, hvp = AF.hvp(nll, w, X.ones(3))
    yield {"cov": cov, "var": var, "probit": X.sigmoid(xq @ w / X.sqrt(1 + math.pi * var / 8)),
           "hvp": hvp}
    params = {k: v.detach() for k, v in net.named_parameters()}
    x2, y2 = _t(L, rng.standard_normal((8, 2))), _t(L, rng.standard_normal((8, 1)))

    def out(p):
        return func.functional_call(net, p, (x2,)).squeeze(-1)

    jac = func.jacrev(out)(params)
    jflat = X.cat([jac[k].reshape(8, -1) for k in params], 1)
    r = (out(params) - y2.squeeze(-1)).unsqueeze(-1)
    delta = X.linalg.lstsq(jflat, r).solution.squeeze(-1)
    yield {"jac": jac, "delta_norm": delta.norm()}


def test_q45_newton_laplace_gauss_newton():
    assert port(_newton_build, _newton_train, rtol=1e-9, atol=1e-11) == 5


# ----------------------------------------------------------------------------------------------
# q46 hooks in training: an optimizer per parameter stepped inside backward by
# register_post_accumulate_grad_hook (the grad then freed), per-layer gradient norms logged by
# register_full_backward_hook (grad_input/grad_output), a forward pre-hook with kwargs that
# rescales the input, a tensor hook that clips an activation's gradient, and a module hook
# removed by its handle half-way; SGD per parameter.

def _hooks_build(L):
    nn = L.nn
    return nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 6), nn.ReLU(), nn.Linear(6, 2))


def _hooks_train(L, net):
    rng = np.random.default_rng(146)
    opts = {p: L.optim.SGD([p], lr=0.05, momentum=0.5) for p in net.parameters()}

    def step_now(p):
        opts[p].step()
        opts[p].zero_grad()

    handles = [p.register_post_accumulate_grad_hook(step_now) for p in net.parameters()]
    logged = []
    bh = [m.register_full_backward_hook(
        lambda mod, gi, go: logged.append((gi[0].norm() if gi[0] is not None else None,
                                           go[0].norm())))
          for m in (net[1], net[2])]
    pre = net[0].register_forward_pre_hook(lambda mod, args, kwargs: ((args[0] * 0.5,), kwargs),
                                           with_kwargs=True)
    for step in range(4):
        x, y = _t(L, rng.standard_normal((5, 4))), _t(L, rng.standard_normal((5, 2)))
        h = net[:3](x)
        h.register_hook(lambda g: g.clamp(-0.01, 0.01))
        loss = L.F.mse_loss(net[3:](h), y)
        logged.clear()
        loss.backward()
        yield {"loss": loss, "logged": list(logged), **snap(net)}
        if step == 1:
            pre.remove()
            bh[0].remove()
    for hd in handles:
        hd.remove()


def test_q46_optimizer_in_backward_and_hooks():
    assert port(_hooks_build, _hooks_train) == 4


# ----------------------------------------------------------------------------------------------
# q47 custom autograd Functions, new style: forward without ctx plus setup_context, saved
# tensors, mark_non_differentiable on an index output, needs_input_grad, a Function with
# generate_vmap_rule=True used under func.vmap(func.grad(...)) for per-sample gradients, and
# an old-style Function with a non-tensor argument and set_materialize_grads(False); Adam.

def _fn_classes(L):
    X = L.X
    Function = L.X.autograd.Function

    class ScaledSoftsign(Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x, s):
            return x * s / (1 + x.abs())

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, g):
            x, s = ctx.saved_tensors
            gx = g * s / (1 + x.abs()) ** 2 if ctx.needs_input_grad[0] else None
            gs = (g * x / (1 + x.abs())).sum() if ctx.needs_input_grad[1] else None
            return gx, gs

    class TopValue(Function):
        @staticmethod
        def forward(ctx, x, k):
            vals, idx = x.topk(k, dim=-1)
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)
            ctx.shape = x.shape
            ctx.set_materialize_grads(False)
            return vals, idx

        @staticmethod
        def backward(ctx, gv, gi):
            if gv is None:
                return None, None
            (idx,) = ctx.saved_tensors
            return X.zeros(ctx.shape, dtype=gv.dtype).scatter(-1, idx, gv), None

    return ScaledSoftsign, TopValue


def _fn_build(L):
    nn = L.nn
    return nn.Sequential(nn.Linear(5, 6), nn.Linear(6, 3))


def _fn_train(L, net):
    X = L.X
    func = X.func if L.is_torch else tg.func
    ScaledSoftsign, TopValue = _fn_classes(L)
    s = X.tensor(1.5, requires_grad=True)
    opt = L.optim.Adam(list(net.parameters()) + [s], lr=1e-2)
    rng = np.random.default_rng(147)
    for _ in range(3):
        x, y = _t(L, rng.standard_normal((4, 5))), _t(L, rng.standard_normal((4, 2)))
        h = ScaledSoftsign.apply(net[0](x), s)
        vals, idx = TopValue.apply(net[1](h), 2)
        loss = L.F.mse_loss(vals, y)
        opt.zero_grad()
        loss.backward()
        params = {k: v.detach() for k, v in net.named_parameters()}

        def one(p, xi, yi):
            hi = ScaledSoftsign.apply(L.F.linear(xi, p["0.weight"], p["0.bias"]), s.detach())
            return ((L.F.linear(hi, p["1.weight"], p["1.bias"])[:2] - yi) ** 2).mean()

        per = func.vmap(func.grad(one), in_dims=(None, 0, 0))(params, x, y)
        yield {"loss": loss, "idx": idx, "s": s, "s.grad": s.grad, "per": per, **snap(net)}
        opt.step()


def test_q47_custom_functions_setup_context_vmap():
    assert port(_fn_build, _fn_train) == 3


# ----------------------------------------------------------------------------------------------
# q48 Hamiltonian neural network: H(q, p) an MLP, the symplectic gradient (dH/dp, -dH/dq) by
# autograd.grad(H.sum(), x, create_graph=True) and chunk, an MSE to the observed time
# derivatives of a spring, a leapfrog rollout under enable_grad inside no_grad; Adam.

def _hnn_build(L):
    nn = L.nn
    return nn.Sequential(nn.Linear(2, 16), nn.Softplus(), nn.Linear(16, 16), nn.Softplus(),
                         nn.Linear(16, 1))


def _hnn_train(L, H):
    X = L.X
    rng = np.random.default_rng(148)

    def field(x):
        x = x if x.requires_grad else x.requires_grad_(True)
        dh = X.autograd.grad(H(x).sum(), x, create_graph=True)[0]
        dq, dp = dh.chunk(2, dim=1)
        return X.cat([dp, -dq], 1)

    opt = L.optim.Adam(H.parameters(), lr=5e-3)
    for _ in range(3):
        xs = rng.standard_normal((10, 2))
        x = _t(L, xs).requires_grad_(True)
        target = _t(L, np.stack([xs[:, 1], -xs[:, 0]], 1))
        loss = L.F.mse_loss(field(x), target)
        opt.zero_grad()
        loss.backward()
        yield {"loss": loss, **snap(H)}
        opt.step()
    with X.no_grad():
        z, traj = _t(L, [[1.0, 0.0]]), []
        for _ in range(4):
            with X.enable_grad():
                f = field(z.clone())
            z = (z + 0.1 * f).detach()
            traj.append(z)
    yield {"traj": traj}


def test_q48_hamiltonian_nn():
    assert port(_hnn_build, _hnn_train) == 4


# ----------------------------------------------------------------------------------------------
# q49 discrete VAE (DALL-E dVAE style): Gumbel-softmax with NumPy Gumbel noise (-log(-log u)),
# a temperature annealed by epoch, the hard straight-through sample (one-hot by scatter_ of the
# argmax minus the soft sample detached plus the soft sample), codebook vectors by einsum, a KL
# to the uniform prior with log_softmax; Adam.

def _dvae_build(L):
    nn = L.nn
    return (nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 3 * 4)),
            nn.Linear(4, 5, bias=False), nn.Sequential(nn.Linear(15, 12), nn.ReLU(), nn.Linear(12, 6)))


def _dvae_train(L, enc, book, dec):
    X, F = L.X, L.F
    rng = np.random.default_rng(149)
    opt = L.optim.Adam([*enc.parameters(), *book.parameters(), *dec.parameters()], lr=3e-3)
    for epoch in range(4):
        x = _t(L, rng.uniform(size=(5, 6)))
        logits = enc(x).view(5, 3, 4)
        u = _t(L, rng.uniform(1e-6, 1 - 1e-6, (5, 3, 4)))
        tau = max(0.5, 1.0 * math.exp(-0.3 * epoch))
        soft = F.softmax((logits - X.log(-X.log(u))) / tau, dim=-1)
        hard = X.zeros_like(soft).scatter_(-1, soft.argmax(-1, keepdim=True), 1.0)
        z = hard - soft.detach() + soft if epoch % 2 else soft
        codes = X.einsum("bnk,dk->bnd", z, book.weight)
        rec = F.binary_cross_entropy_with_logits(dec(codes.flatten(1)), x, reduction="sum") / 5
        logq = F.log_softmax(logits, -1)
        kl = (logq.exp() * (logq + math.log(4))).sum((1, 2)).mean()
        loss = rec + 0.1 * kl
        opt.zero_grad()
        loss.backward()
        yield {"loss": loss, "kl": kl, "hard": hard, **snap(enc, book, dec)}
        opt.step()


def test_q49_dvae_gumbel_straight_through():
    assert port(_dvae_build, _dvae_train) == 4


# ----------------------------------------------------------------------------------------------
# q50 few-shot: prototypical networks (class prototypes by mean over the support set reshaped
# (way, shot, d), squared Euclidean distances by torch.cdist, CE over negative distances) and
# matching networks (cosine attention over the support set, one_hot labels weighted by the
# softmax, NLL of the log of the mixture); episodes from NumPy; Adam.

def _proto_build(L):
    nn = L.nn
    return nn.Sequential(nn.Linear(5, 12, bias=False), nn.BatchNorm1d(12), nn.ReLU(), nn.Linear(12, 4))


def _proto_train(L, enc):
    X, F = L.X, L.F
    rng = np.random.default_rng(150)
    opt = L.optim.Adam(enc.parameters(), lr=1e-2)
    way, shot, nq = 3, 2, 2
    for _ in range(3):
        centers = rng.standard_normal((way, 5)) * 2
        sup = centers[:, None] + rng.standard_normal((way, shot, 5))
        qry = centers[:, None] + rng.standard_normal((way, nq, 5))
        emb = enc(_t(L, np.concatenate([sup.reshape(-1, 5), qry.reshape(-1, 5)])))
        zs, zq = emb[:way * shot], emb[way * shot:]
        protos = zs.view(way, shot, -1).mean(1)
        d = X.cdist(zq, protos) ** 2
        labels = X.arange(way).repeat_interleave(nq)
        proto_loss = F.cross_entropy(-d, labels)
        att = F.softmax(F.cosine_similarity(zq.unsqueeze(1), zs.unsqueeze(0), dim=-1) * 10, dim=1)
        onehot = F.one_hot(X.arange(way).repeat_interleave(shot), way).to(att.dtype)
        match_loss = F.nll_loss(X.log(att @ onehot + 1e-8), labels)
        loss = proto_loss + match_loss
        opt.zero_grad()
        loss.backward()
        yield {"proto": proto_loss, "match": match_loss, "acc": (-d).argmax(1), **snap(enc)}
        opt.step()


def test_q50_prototypical_and_matching_networks():
    assert port(_proto_build, _proto_train) == 3


# ----------------------------------------------------------------------------------------------
# q51 continuous-control policies beyond the diagonal Gaussian: a full-covariance Gaussian with
# scale_tril assembled from a network output (tril_indices, diagonal by softplus via
# diag_embed), MultivariateNormal log_prob and entropy; a Beta policy on [0, 1] actions
# (concentrations 1 + softplus), a Dirichlet over portfolio weights; a REINFORCE loss with a
# baseline over NumPy-given actions; RMSprop centered.

def _policies_build(L):
    nn = L.nn
    return nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 2 + 3 + 2 + 2 + 3))


def _policies_train(L, net):
    X, F, D = L.X, L.F, L.D
    rng = np.random.default_rng(151)
    opt = L.optim.RMSprop(net.parameters(), lr=3e-3, centered=True)
    rows, cols = X.tril_indices(2, 2, -1)
    for _ in range(3):
        s = _t(L, rng.standard_normal((6, 3)))
        out = net(s)
        mu, off, dg = out[:, :2], out[:, 2:3], out[:, 3:5]
        tril = X.diag_embed(F.softplus(dg) + 1e-3)
        tril = tril.index_put((X.arange(6).unsqueeze(1), rows.unsqueeze(0), cols.unsqueeze(0)), off)
        mvn = D.MultivariateNormal(mu, scale_tril=tril)
        a = _t(L, rng.standard_normal((6, 2)))
        conc = 1 + F.softplus(out[:, 5:9])
        beta = D.Beta(conc[:, :2], conc[:, 2:])
        b = _t(L, rng.uniform(0.05, 0.95, (6, 2)))
        dirich = D.Dirichlet(F.softplus(out[:, 9:]) + 0.5)
        w = _t(L, rng.dirichlet(np.ones(3), 6))
        ret = _t(L, rng.standard_normal(6))
        logp = mvn.log_prob(a) + beta.log_prob(b).sum(-1) + dirich.log_prob(w)
        ent = mvn.entropy() + beta.entropy().sum(-1) + dirich.entropy()
        loss = -((ret - ret.mean()) * logp).mean() - 0.01 * ent.mean()
        opt.zero_grad()
        loss.backward()
        yield {"loss": loss, "logp": logp, "ent": ent, "cov": mvn.covariance_matrix,
               "beta_mean": beta.mean, **snap(net)}
        opt.step()


def test_q51_full_covariance_beta_dirichlet_policies():
    assert port(_policies_build, _policies_train) == 3


# ----------------------------------------------------------------------------------------------
# q52 multimodal cross-attention: an LSTM with proj_size (LSTMP) over text, image regions through
# nn.MultiheadAttention with kdim/vdim, add_bias_kv and add_zero_attn, a key_padding_mask on the
# regions, a gated fusion; AdaptiveLogSoftmaxWithLoss over a 12-word vocabulary with two
# clusters (its log_prob and predict too); SGD momentum.

def _mm_build(L):
    nn = L.nn

    class MM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(12, 5)
            self.lstm = nn.LSTM(5, 6, proj_size=4, batch_first=True)
            self.att = nn.MultiheadAttention(4, 2, kdim=3, vdim=5, add_bias_kv=True,
                                             add_zero_attn=True, batch_first=True)
            self.gate = nn.Linear(8, 4)
            self.asm = nn.AdaptiveLogSoftmaxWithLoss(4, 12, cutoffs=[4, 8], div_value=2.0)

        def forward(self, tok, keys, vals, pad):
            h, _ = self.lstm(self.emb(tok))
            a, w = self.att(h, keys, vals, key_padding_mask=pad)
            g = L.X.sigmoid(self.gate(L.X.cat([h, a], -1)))
            return g * h + (1 - g) * a, w

    return MM()


def _mm_train(L, m):
    rng = np.random.default_rng(152)
    opt = L.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        tok = L.T(rng.integers(0, 12, (2, 5)))
        keys, vals = _t(L, rng.standard_normal((2, 3, 3))), _t(L, rng.standard_normal((2, 3, 5)))
        pad = L.T(np.array([[False, False, True], [False, False, False]]))
        h, w = m(tok[:, :-1], keys, vals, pad)
        out = m.asm(h.reshape(-1, 4), tok[:, 1:].reshape(-1))
        opt.zero_grad()
        out.loss.backward()
        with L.X.no_grad():
            lp, pred = m.asm.log_prob(h.reshape(-1, 4)), m.asm.predict(h.reshape(-1, 4))
        yield {"loss": out.loss, "output": out.output, "w": w, "lp": lp, "pred": pred, **snap(m)}
        opt.step()


def test_q52_lstm_proj_mha_kdim_bias_kv_adaptive_softmax():
    assert port(_mm_build, _mm_train) == 3


# ----------------------------------------------------------------------------------------------
# q53 probabilistic regression heads: a deep ensemble of three members (mean and softplus
# variance) with GaussianNLLLoss(full=True, eps), the mixture's predictive mean and variance;
# a count head with PoissonNLLLoss(log_input=False, full=True); a HuberLoss(delta=0.5) head; a
# beta-NLL weighting (variance detached to the power beta); Adam per member.

def _ens_build(L):
    nn = L.nn
    return tuple(nn.Sequential(nn.Linear(2, 10), nn.SiLU(), nn.Linear(10, 4)) for _ in range(3))


def _ens_train(L, *members):
    X, F, nn = L.X, L.F, L.nn
    rng = np.random.default_rng(153)
    opts = [L.optim.Adam(m.parameters(), lr=1e-2) for m in members]
    gnll = nn.GaussianNLLLoss(full=True, eps=1e-4)
    pnll = nn.PoissonNLLLoss(log_input=False, full=True)
    huber = nn.HuberLoss(delta=0.5)
    for _ in range(3):
        x = _t(L, rng.uniform(-2, 2, (8, 2)))
        y = _t(L, np.sin(x.numpy()).sum(1, keepdims=True))
        counts = _t(L, rng.poisson(3.0, (8, 1)))
        rec, means, vars_ = {}, [], []
        for i, (m, opt) in enumerate(zip(members, opts)):
            out = m(x)
            mu, var = out[:, :1], F.softplus(out[:, 1:2]) + 1e-6
            rate = F.softplus(out[:, 2:3]) + 1e-3
            beta_nll = (0.5 * (X.log(var) + (y - mu) ** 2 / var) * var.detach() ** 0.5).mean()
            loss = gnll(mu, y, var) + pnll(rate, counts) + huber(out[:, 3:], y) + 0.1 * beta_nll
            opt.zero_grad()
            loss.backward()
            opt.step()
            rec[f"loss{i}"] = loss
            means.append(mu.detach())
            vars_.append(var.detach())
        mean = X.stack(means).mean(0)
        var = (X.stack(vars_) + X.stack(means) ** 2).mean(0) - mean ** 2
        yield {**rec, "mean": mean, "var": var, **snap(*members)}


def test_q53_deep_ensemble_likelihood_losses():
    assert port(_ens_build, _ens_train) == 3


# ----------------------------------------------------------------------------------------------
# q54 semantic segmentation (DeepLab-lite): reflect-padded stem, an ASPP of dilated 3x3 convs and
# an image-pooling branch (AdaptiveAvgPool2d(1) upsampled by bilinear interpolate), logits
# upsampled to the label size (align_corners=False), CE over (N, C, H, W) with ignore_index 255
# and class weights, a soft Dice loss on one_hot labels permuted to channels-first with the
# ignored pixels masked out; SGD with PolynomialLR (power 0.9).

def _seg_build(L):
    nn = L.nn

    class ASPP(nn.Module):
        def __init__(self, c=6):
            super().__init__()
            self.branches = nn.ModuleList([nn.Conv2d(c, 4, 1)] + [
                nn.Conv2d(c, 4, 3, padding=d, dilation=d) for d in (1, 2)])
            self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, 4, 1), nn.ReLU())
            self.proj = nn.Conv2d(16, 3, 1)

        def forward(self, x):
            outs = [L.F.relu(b(x)) for b in self.branches]
            outs.append(L.F.interpolate(self.pool(x), size=x.shape[-2:], mode="bilinear",
                                        align_corners=False))
            return self.proj(L.X.cat(outs, 1))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(2, 6, 3, stride=2)
            self.aspp = ASPP()

        def forward(self, x):
            h = L.F.relu(self.stem(L.F.pad(x, (1, 1, 1, 1), mode="reflect")))
            return L.F.interpolate(self.aspp(h), size=x.shape[-2:], mode="bilinear",
                                   align_corners=False)

    return Net()


def _seg_train(L, net):
    X, F = L.X, L.F
    rng = np.random.default_rng(154)
    opt = L.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    sched = L.optim.lr_scheduler.PolynomialLR(opt, total_iters=4, power=0.9)
    w = _t(L, [1.0, 2.0, 0.5])
    for _ in range(3):
        x = _t(L, rng.standard_normal((2, 2, 8, 8)))
        lab = rng.integers(0, 3, (2, 8, 8))
        lab[:, :2, :2] = 255
        y = L.T(lab)
        logits = net(x)
        ce = F.cross_entropy(logits, y, weight=w, ignore_index=255)
        valid = (y != 255)
        oh = F.one_hot(y.masked_fill(~valid, 0), 3).permute(0, 3, 1, 2).to(logits.dtype)
        prob = logits.softmax(1) * valid.unsqueeze(1)
        inter = (prob * oh).sum((0, 2, 3))
        union = prob.sum((0, 2, 3)) + (oh * valid.unsqueeze(1)).sum((0, 2, 3))
        dice = 1 - ((2 * inter + 1) / (union + 1)).mean()
        loss = ce + dice
        opt.zero_grad()
        loss.backward()
        yield {"ce": ce, "dice": dice, **snap(net)}
        opt.step()
        sched.step()


def test_q54_deeplab_aspp_segmentation():
    assert port(_seg_build, _seg_train) == 3


# ----------------------------------------------------------------------------------------------
# q55 ESPCN super-resolution: weight-normalised convs (parametrizations.weight_norm, dim 0 and
# None), sub-pixel upsampling by PixelShuffle(2) and back by PixelUnshuffle for a cycle loss,
# bicubic interpolate as the baseline, PSNR in dB by log10; Adam with MultiplicativeLR chained
# to ConstantLR by ChainedScheduler.

def _sr_build(L):
    nn = L.nn
    wn = nn.utils.parametrizations.weight_norm
    return nn.Sequential(wn(nn.Conv2d(1, 8, 5, padding=2)), nn.Tanh(),
                         wn(nn.Conv2d(8, 4, 3, padding=1), dim=None), nn.PixelShuffle(2))


def _sr_train(L, net):
    X, F, lrs = L.X, L.F, L.optim.lr_scheduler
    rng = np.random.default_rng(155)
    opt = L.optim.Adam(net.parameters(), lr=1e-2)
    sched = lrs.ChainedScheduler([lrs.MultiplicativeLR(opt, lambda e: 0.9),
                                  lrs.ConstantLR(opt, factor=0.5, total_iters=2)])
    unshuffle = L.nn.PixelUnshuffle(2)
    for _ in range(3):
        hr = _t(L, rng.uniform(size=(2, 1, 8, 8)))
        lr = F.avg_pool2d(hr, 2)
        sr = net(lr)
        base = F.interpolate(lr, scale_factor=2, mode="bicubic", align_corners=False)
        mse = F.mse_loss(sr, hr)
        cycle = F.mse_loss(unshuffle(sr).mean(1, keepdim=True), lr)
        loss = mse + 0.1 * cycle
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        psnr = 10 * X.log10(1 / mse.detach())
        yield {"psnr": psnr, "base": base, "lr": sched.get_last_lr(), **snap(net)}


def test_q55_espcn_pixel_shuffle_weight_norm():
    assert port(_sr_build, _sr_train) == 3


# ----------------------------------------------------------------------------------------------
# q56 text classification: a Kim-style TextCNN (Conv1d of widths 2, 3, 4 over embeddings
# permuted to channels-first, max over time by max(dim=2).values, dropout by a NumPy mask,
# concatenation) beside a fastText-style EmbeddingBag(mode='mean') over offsets; pretrained
# embeddings loaded by from_pretrained(freeze=False); Adagrad.

def _textcnn_build(L):
    nn = L.nn

    class TextCNN(nn.Module):
        def __init__(self):
            super().__init__()
            vecs = L.X.tensor(np.random.default_rng(4).normal(size=(15, 5)))
            self.emb = nn.Embedding.from_pretrained(vecs, freeze=False, padding_idx=0)
            self.convs = nn.ModuleList([nn.Conv1d(5, 3, k) for k in (2, 3, 4)])
            self.bag = nn.EmbeddingBag(15, 4, mode="mean")
            self.fc = nn.Linear(9 + 4, 2)

        def forward(self, tok, mask, flat, offsets):
            e = self.emb(tok).permute(0, 2, 1)
            feats = [L.F.relu(c(e)).max(dim=2).values for c in self.convs]
            h = L.X.cat(feats, 1) * mask
            return self.fc(L.X.cat([h, self.bag(flat, offsets)], 1))

    return TextCNN()


def _textcnn_train(L, m):
    rng = np.random.default_rng(156)
    opt = L.optim.Adagrad(m.parameters(), lr=0.1, lr_decay=0.01)
    for _ in range(3):
        tok = rng.integers(1, 15, (3, 7))
        tok[0, 5:] = 0
        flat = L.T(rng.integers(0, 15, 10))
        offsets = L.T(np.array([0, 4, 6]))
        mask = _t(L, (rng.uniform(size=(3, 9)) > 0.5) / 0.5)
        logits = m(L.T(tok), mask, flat, offsets)
        loss = L.F.cross_entropy(logits, L.T(rng.integers(0, 2, 3)))
        opt.zero_grad()
        loss.backward()
        yield {"loss": loss, **snap(m)}
        opt.step()


def test_q56_textcnn_embedding_bag():
    assert port(_textcnn_build, _textcnn_train) == 3


# ----------------------------------------------------------------------------------------------
# q57 dense GCN (Kipf & Welling): self loops added by eye, the symmetric normalisation
# D^-1/2 (A + I) D^-1/2 by pow(-0.5) of the degree with inf masked to 0 (an isolated node),
# two graph convolutions as adj @ (X @ W) with a Parameter weight and bias, dropout by NumPy
# masks, log_softmax + NLL on a train mask, accuracy on the rest; Adam with weight decay on the
# first layer only.

def _gcn_build(L):
    nn = L.nn

    class GraphConv(nn.Module):
        def __init__(self, fin, fout):
            super().__init__()
            bound = 1 / math.sqrt(fout)
            rng = np.random.default_rng(fin * 10 + fout)
            self.weight = nn.Parameter(L.X.tensor(rng.uniform(-bound, bound, (fin, fout))))
            self.bias = nn.Parameter(L.X.tensor(rng.uniform(-bound, bound, fout)))

        def forward(self, x, adj):
            return adj @ (x @ self.weight) + self.bias

    class GCN(nn.Module):
        def __init__(self):
            super().__init__()
            self.gc1, self.gc2 = GraphConv(4, 8), GraphConv(8, 3)

        def forward(self, x, adj, m1, m2):
            h = L.F.relu(self.gc1(x * m1, adj))
            return L.F.log_softmax(self.gc2(h * m2, adj), dim=1)

    return GCN()


def _gcn_train(L, m):
    X = L.X
    rng = np.random.default_rng(157)
    a = (rng.uniform(size=(9, 9)) < 0.3).astype(float)
    a = np.triu(a, 1)
    a = a + a.T
    a[8, :] = a[:, 8] = 0
    adj = _t(L, a)
    deg = (adj + X.eye(9)).sum(1)
    dinv = deg.pow(-0.5)
    dinv = dinv.masked_fill(X.isinf(dinv), 0.0)
    norm = dinv.unsqueeze(1) * (adj + X.eye(9)) * dinv.unsqueeze(0)
    feats, labels = _t(L, rng.standard_normal((9, 4))), L.T(rng.integers(0, 3, 9))
    train = L.T(np.arange(9) < 6)
    opt = L.optim.Adam([{"params": m.gc1.parameters(), "weight_decay": 5e-4},
                        {"params": m.gc2.parameters(), "weight_decay": 0.0}], lr=1e-2)
    for _ in range(3):
        m1 = _t(L, (rng.uniform(size=(9, 4)) > 0.5) / 0.5)
        m2 = _t(L, (rng.uniform(size=(9, 8)) > 0.5) / 0.5)
        out = m(feats, norm, m1, m2)
        loss = L.F.nll_loss(out[train], labels[train])
        opt.zero_grad()
        loss.backward()
        acc = (out.argmax(1)[~train] == labels[~train]).double().mean()
        yield {"loss": loss, "acc": acc, "norm": norm, **snap(m)}
        opt.step()


def test_q57_dense_gcn_normalised_adjacency():
    assert port(_gcn_build, _gcn_train) == 3


# ----------------------------------------------------------------------------------------------
# q58 view-heavy time-series code: sliding windows by Tensor.unfold (dimension, size, step) on a
# series that requires grad (Tensor.as_strided, the other spelling, is missing here), in-place
# shape ops on non-leaf
# tensors (unsqueeze_, transpose_, squeeze_), a preallocated KV cache written by slice
# assignment under no_grad then read by narrow, a patch embedding with Tensor.unfold twice
# (PatchTST-style), instance normalisation by hand (RevIN, affine, denormalised outputs);
# AdamW.

def _ts_build(L):
    nn = L.nn

    class PatchTST(nn.Module):
        def __init__(self):
            super().__init__()
            self.rev_w, self.rev_b = nn.Parameter(L.X.ones(2)), nn.Parameter(L.X.zeros(2))
            self.embed = nn.Linear(4, 6)
            self.att = nn.Linear(6, 18, bias=False)  # a key bias has a zero gradient (see q14)
            self.head = nn.Linear(6 * 3, 3)

        def forward(self, x):  # (B, T, C)
            X = L.X
            mean = x.mean(1, keepdim=True).detach()
            std = X.sqrt(x.var(1, keepdim=True, unbiased=False) + 1e-5).detach()
            x = (x - mean) / std * self.rev_w + self.rev_b
            x = x.permute(0, 2, 1)  # (B, C, T)
            patches = x.unfold(-1, 4, 2)  # (B, C, 3, 4)
            h = self.embed(patches)
            q, k, v = self.att(h).chunk(3, -1)
            a = (q @ k.transpose(-1, -2) / math.sqrt(6)).softmax(-1) @ v
            out = self.head((h + a).flatten(-2))  # (B, C, 3)
            out = out.transpose(1, 2)
            out = (out - self.rev_b) / (self.rev_w + 1e-10)
            return out * std + mean

    return PatchTST()


def _ts_train(L, m):
    X = L.X
    rng = np.random.default_rng(158)
    opt = L.optim.AdamW(m.parameters(), lr=1e-2)
    for _ in range(3):
        series = _t(L, np.cumsum(rng.standard_normal((2, 11, 2)), 1)).requires_grad_(True)
        x, y = series[:, :8], series[:, 8:].detach()
        pred = m(x)
        win = series.unfold(1, 3, 2)  # (B, 5, C, 3)
        h = win.sum(-1)
        h.unsqueeze_(1)
        h.transpose_(2, 3)
        h.squeeze_(1)
        smooth = (h[:, :, 1:] - h[:, :, :-1]).pow(2).mean()
        loss = L.F.mse_loss(pred, y) + 0.01 * smooth
        opt.zero_grad()
        loss.backward()
        yield {"loss": loss, "pred": pred, "series.grad": series.grad, **snap(m)}
        opt.step()
    cache = X.zeros(2, 6, 4)
    with X.no_grad():
        for pos in range(3):
            cache[:, pos:pos + 1] = m.embed(_t(L, rng.standard_normal((2, 1, 4))))[..., :4]
        yield {"cache": cache.narrow(1, 0, 3), "tail": cache.narrow(1, 3, 3)}


def test_q58_time_series_views_unfold_inplace_shape_ops():
    assert port(_ts_build, _ts_train) == 4


# ----------------------------------------------------------------------------------------------
# q59 torch's AMP recipe on the CPU without autocast: amp.GradScaler("cpu") with a small
# growth_interval, autocast(enabled=False) around the forward, gradient accumulation over two
# micro-batches of the scaled loss, unscale_ before clip_grad_norm_, a poisoned micro-batch
# (a skipped step and a backed-off scale), the scaler's state dict saved with the optimizer's
# and restored into fresh ones; AdamW with a StepLR stepped only after real steps.
# (amp was missing.)

def _amp_build(L):
    nn = L.nn
    return nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.LayerNorm(8), nn.Linear(8, 2))


def _amp_train(L, net):
    rng = np.random.default_rng(159)
    opt = L.optim.AdamW(net.parameters(), lr=5e-3)
    sched = L.optim.lr_scheduler.StepLR(opt, 2, 0.5)
    scaler = L.X.amp.GradScaler("cpu", init_scale=2.0 ** 12, growth_interval=2)
    for step in range(6):
        opt.zero_grad(set_to_none=True)
        for micro in range(2):
            x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 2))
            if step == 3 and micro == 0:
                x[1, 2] = np.inf
            with L.X.autocast(device_type="cpu", enabled=False), np.errstate(invalid="ignore"):
                loss = L.F.mse_loss(net(_t(L, x)), _t(L, y)) / 2
            scaler.scale(loss).backward()
        scaler.unscale_(opt)
        norm = L.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        before = scaler.get_scale()
        scaler.step(opt)
        scaler.update()
        if scaler.get_scale() >= before:  # the step was taken
            sched.step()
        yield {"scale": L.X.tensor(scaler.get_scale()), "norm": norm, "lr": sched.get_last_lr(),
               **snap(net)}
        if step == 4:
            sd = {"opt": opt.state_dict(), "scaler": scaler.state_dict()}
            opt = L.optim.AdamW(net.parameters(), lr=5e-3)
            opt.load_state_dict(sd["opt"])
            scaler = L.X.amp.GradScaler("cpu")
            scaler.load_state_dict(sd["scaler"])
    yield opt_state(opt)


def test_q59_amp_grad_scaler_accumulation():
    assert port(_amp_build, _amp_train) == 7


# ----------------------------------------------------------------------------------------------
# q60 neural spline flow (Durkan et al.'s rational-quadratic coupling): bin widths and heights
# by softmax with a minimum, knots by cumsum and F.pad(value=0) scaled to [-B, B], derivatives by
# softplus padded with constants, the bin of each input by searchsorted(right=True) and by the
# reference code's sum(x >= knots) - 1, the parameters gathered per bin, the forward spline and its
# log-derivative, identity tails outside the interval by masked assignment; Adam.

def _rq_spline(L, x, w, h, d, bound=3.0):
    X, F = L.X, L.F
    K = w.shape[-1]
    w = 1e-3 + (1 - 1e-3 * K) * F.softmax(w, -1)
    h = 1e-3 + (1 - 1e-3 * K) * F.softmax(h, -1)
    cw = F.pad(X.cumsum(w, -1), (1, 0), value=0.0) * 2 * bound - bound
    ch = F.pad(X.cumsum(h, -1), (1, 0), value=0.0) * 2 * bound - bound
    # the last knot set to the bound exactly, as the reference code writes it (cumsum rounds)
    cw = X.cat([cw[..., :-1], cw[..., -1:] * 0 + bound], -1)
    ch = X.cat([ch[..., :-1], ch[..., -1:] * 0 + bound], -1)
    d = F.pad(1e-3 + F.softplus(d), (1, 1), value=1.0)
    inside = (x > -bound) & (x < bound)
    xi = x.clamp(-bound + 1e-9, bound - 1e-9)
    idx = X.searchsorted(cw[..., 1:-1].contiguous(), xi.unsqueeze(-1), right=True)
    idx_bucket = ((xi.unsqueeze(-1) >= cw).sum(-1, keepdim=True) - 1).clamp(0, K - 1)
    take = lambda t: t.gather(-1, idx).squeeze(-1)  # noqa: E731
    x0, wk = take(cw), take(cw[..., 1:] - cw[..., :-1])
    y0, hk = take(ch), take(ch[..., 1:] - ch[..., :-1])
    d0, d1 = take(d[..., :-1]), take(d[..., 1:])
    s = hk / wk
    t = (xi - x0) / wk
    num = hk * (s * t ** 2 + d0 * t * (1 - t))
    den = s + (d0 + d1 - 2 * s) * t * (1 - t)
    y = y0 + num / den
    dnum = s ** 2 * (d1 * t ** 2 + 2 * s * t * (1 - t) + d0 * (1 - t) ** 2)
    logdet = X.log(dnum) - 2 * X.log(den)
    y = X.where(inside, y, x)
    logdet = X.where(inside, logdet, X.zeros_like(logdet))
    return y, logdet, idx.squeeze(-1), idx_bucket.squeeze(-1)


def _nsf_build(L):
    nn = L.nn
    return nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 3 * 5 - 1))


def _nsf_train(L, net):
    X = L.X
    rng = np.random.default_rng(160)
    opt = L.optim.Adam(net.parameters(), lr=5e-3)
    for _ in range(3):
        data = rng.standard_normal((12, 2)) * [1.0, 0.5]
        data[:, 1] += np.sin(2 * data[:, 0])
        data[0, 1] = 4.0  # one point in the identity tail
        x = _t(L, data)
        p = net(x[:, :1])
        w, h, d = p[:, :5], p[:, 5:10], p[:, 10:]
        y, logdet, idx, bucket = _rq_spline(L, x[:, 1], w, h, d)
        z = X.stack([x[:, 0], y], 1)
        ll = (-0.5 * z ** 2 - 0.5 * math.log(2 * math.pi)).sum(1) + logdet
        loss = -ll.mean()
        opt.zero_grad()
        loss.backward()
        yield {"loss": loss, "y": y, "idx": idx, "bucket": bucket, **snap(net)}
        opt.step()


def test_q60_neural_spline_flow_searchsorted():
    assert port(_nsf_build, _nsf_train) == 3


# ----------------------------------------------------------------------------------------------
# q61 video and volumes: a C3D-lite with Conv3d, BatchNorm3d, MaxPool3d((1, 2, 2)),
# AdaptiveAvgPool3d, a 3-D decoder by ConvTranspose3d(output_padding) and nn.Upsample
# (trilinear, align_corners) for a reconstruction head; CE + MSE; SGD momentum with
# MultiStepLR.

def _c3d_build(L):
    nn = L.nn

    class C3D(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(nn.Conv3d(1, 4, 3, padding=1, bias=False), nn.BatchNorm3d(4),
                                     nn.ReLU(), nn.MaxPool3d((1, 2, 2)),
                                     nn.Conv3d(4, 6, 3, stride=(1, 2, 2), padding=1), nn.ReLU())
            self.cls = nn.Sequential(nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(6, 3))
            self.dec = nn.Sequential(nn.ConvTranspose3d(6, 3, 3, stride=(1, 2, 2), padding=1,
                                                        output_padding=(0, 1, 1)),
                                     nn.ReLU(),
                                     nn.Upsample(scale_factor=(1, 2, 2), mode="trilinear",
                                                 align_corners=True),
                                     nn.Conv3d(3, 1, 1))

        def forward(self, x):
            h = self.enc(x)
            return self.cls(h), self.dec(h)

    return C3D()


def _c3d_train(L, m):
    rng = np.random.default_rng(161)
    opt = L.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
    sched = L.optim.lr_scheduler.MultiStepLR(opt, [1, 2], gamma=0.3)
    for _ in range(3):
        x, y = _t(L, rng.standard_normal((2, 1, 3, 8, 8))), L.T(rng.integers(0, 3, 2))
        logits, rec = m(x)
        loss = L.F.cross_entropy(logits, y) + L.F.mse_loss(rec, x)
        opt.zero_grad()
        loss.backward()
        yield {"loss": loss, "rec": rec, "lr": sched.get_last_lr(), **snap(m)}
        opt.step()
        sched.step()


def test_q61_c3d_conv3d_transpose3d_trilinear():
    assert port(_c3d_build, _c3d_train) == 3


# ----------------------------------------------------------------------------------------------
# q62 recommender models: a factorisation machine (first-order EmbeddingBag-free weights by
# Embedding(.., 1), the pairwise term by the (sum^2 - sum of squares) / 2 trick over field
# embeddings), NeuMF (GMF product beside an MLP tower on concatenated user/item embeddings, fused
# by a Linear), the BPR loss -logsigmoid(pos - neg) with NumPy-sampled negatives, L2 on the
# looked-up embeddings only; Adam, then the top-k items per user under no_grad with the seen
# items masked to -inf.

def _recsys_build(L):
    nn = L.nn

    class FM(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Embedding(20, 1)
            self.emb = nn.Embedding(20, 4)
            self.bias = nn.Parameter(L.X.zeros(1))

        def forward(self, fields):  # (B, F) global feature ids
            v = self.emb(fields)
            pair = 0.5 * (v.sum(1).pow(2) - v.pow(2).sum(1)).sum(1)
            return self.bias + self.lin(fields).sum((1, 2)) + pair

    class NeuMF(nn.Module):
        def __init__(self):
            super().__init__()
            self.ug, self.ig = nn.Embedding(5, 4), nn.Embedding(8, 4)
            self.um, self.im = nn.Embedding(5, 4), nn.Embedding(8, 4)
            self.mlp = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 4), nn.ReLU())
            self.out = nn.Linear(8, 1)

        def forward(self, u, i):
            gmf = self.ug(u) * self.ig(i)
            mlp = self.mlp(L.X.cat([self.um(u), self.im(i)], -1))
            return self.out(L.X.cat([gmf, mlp], -1)).squeeze(-1)

    return FM(), NeuMF()


def _recsys_train(L, fm, ncf):
    X, F = L.X, L.F
    rng = np.random.default_rng(162)
    opt = L.optim.Adam([*fm.parameters(), *ncf.parameters()], lr=1e-2)
    seen = np.zeros((5, 8), bool)
    for _ in range(3):
        fields = L.T(rng.integers(0, 20, (6, 3)))
        clicks = _t(L, rng.integers(0, 2, 6))
        fm_loss = F.binary_cross_entropy_with_logits(fm(fields), clicks)
        u, pos, neg = (L.T(rng.integers(0, n, 6)) for n in (5, 8, 8))
        seen[u.numpy(), pos.numpy()] = True
        xp, xn = ncf(u, pos), ncf(u, neg)
        bpr = -F.logsigmoid(xp - xn).mean()
        reg = 1e-3 * (ncf.ug(u).pow(2).sum() + ncf.ig(pos).pow(2).sum() + ncf.ig(neg).pow(2).sum())
        loss = fm_loss + bpr + reg
        opt.zero_grad()
        loss.backward()
        yield {"fm": fm_loss, "bpr": bpr, **snap(fm, ncf)}
        opt.step()
    with X.no_grad():
        users = X.arange(5).repeat_interleave(8)
        items = X.arange(8).repeat(5)
        scores = ncf(users, items).view(5, 8).masked_fill(L.T(seen), float("-inf"))
        yield {"top": scores.topk(3, dim=1).indices, "scores": scores}


def test_q62_factorisation_machine_neumf_bpr():
    assert port(_recsys_build, _recsys_train) == 4


# ----------------------------------------------------------------------------------------------
# q63 DQN with prioritized replay and n-step returns: priorities |delta|^alpha in a NumPy table,
# samples drawn by NumPy from them, importance weights (N p)^-beta normalised by their max,
# n-step discounted returns built in a Python loop with done masks, a dueling head (value +
# advantage - mean advantage), Huber loss with reduction='none' weighted per sample, priorities
# refreshed from the TD errors (detach().abs().cpu().numpy()); Adam with clip_grad_norm_.

def _per_build(L):
    nn = L.nn

    class Dueling(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(4, 12), nn.ReLU())
            self.v, self.a = nn.Linear(12, 1), nn.Linear(12, 3)

        def forward(self, s):
            h = self.body(s)
            a = self.a(h)
            return self.v(h) + a - a.mean(1, keepdim=True)

    return Dueling(), Dueling()


def _per_train(L, net, target):
    X, F = L.X, L.F
    rng = np.random.default_rng(163)
    target.load_state_dict(net.state_dict())
    N, n_step, gamma = 16, 3, 0.9
    S = rng.standard_normal((N + n_step, 4))
    A, R = rng.integers(0, 3, N + n_step), rng.standard_normal(N + n_step)
    D = rng.uniform(size=N + n_step) < 0.15
    prio = np.ones(N)
    opt = L.optim.Adam(net.parameters(), lr=3e-3)
    for step in range(4):
        probs = prio ** 0.6 / (prio ** 0.6).sum()
        idx = rng.choice(N, 5, p=probs)
        w = (N * probs[idx]) ** -0.4
        w = _t(L, w / w.max())
        ret, alive = X.zeros(5), X.ones(5)
        for k in range(n_step):
            ret = ret + alive * gamma ** k * _t(L, R[idx + k])
            alive = alive * _t(L, ~D[idx + k] * 1.0)
        with X.no_grad():
            s_n = _t(L, S[idx + n_step])
            a_n = net(s_n).argmax(1, keepdim=True)
            y = ret + alive * gamma ** n_step * target(s_n).gather(1, a_n).squeeze(1)
        q = net(_t(L, S[idx])).gather(1, L.T(A[idx]).unsqueeze(1)).squeeze(1)
        td = q - y
        loss = (w * F.huber_loss(q, y, reduction="none", delta=1.0)).mean()
        opt.zero_grad()
        loss.backward()
        L.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
        opt.step()
        new = td.detach().abs().cpu().numpy() + 1e-6
        prio[idx] = new
        if step == 1:
            target.load_state_dict(net.state_dict())
        yield {"loss": loss, "td": td, "prio": X.tensor(prio.copy()), **snap(net, target)}


def test_q63_prioritized_replay_nstep_dueling():
    assert port(_per_build, _per_train) == 4


# ----------------------------------------------------------------------------------------------
# q64 decision transformer: return-to-go, state and action embeddings plus a timestep
# embedding, interleaved into (R1, s1, a1, R2, ...) tokens by stack(dim=2).reshape, a causal
# nn.TransformerEncoder (mask from generate_square_subsequent_mask, is_causal=True) with
# pre-norm GELU layers, actions predicted from the state tokens by reshape/permute; MSE on
# continuous actions; AdamW with a LambdaLR warm-up and clip_grad_norm_.

def _dt_build(L):
    nn = L.nn

    class DT(nn.Module):
        def __init__(self, d=8):
            super().__init__()
            self.rtg, self.state, self.action = nn.Linear(1, d), nn.Linear(3, d), nn.Linear(2, d)
            self.time = nn.Embedding(10, d)
            self.ln = nn.LayerNorm(d)
            layer = nn.TransformerEncoderLayer(d, 2, 16, dropout=0.0, activation="gelu",
                                               batch_first=True, norm_first=True)
            self.tf = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.head = nn.Sequential(nn.Linear(d, 2), nn.Tanh())

        def forward(self, rtg, states, actions, steps):
            b, t = states.shape[:2]
            te = self.time(steps)
            tok = L.X.stack([self.rtg(rtg) + te, self.state(states) + te,
                             self.action(actions) + te], dim=2).reshape(b, 3 * t, -1)
            mask = L.nn.Transformer.generate_square_subsequent_mask(3 * t, dtype=tok.dtype)
            h = self.tf(self.ln(tok), mask=mask, is_causal=True)
            h = h.reshape(b, t, 3, -1).permute(0, 2, 1, 3)
            return self.head(h[:, 1])

    return DT()


def _dt_train(L, m):
    rng = np.random.default_rng(164)
    opt = L.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=1e-4)
    sched = L.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 2))
    for _ in range(3):
        rew = rng.standard_normal((2, 4))
        rtg = _t(L, np.cumsum(rew[:, ::-1], 1)[:, ::-1].copy()).unsqueeze(-1)
        states, actions = _t(L, rng.standard_normal((2, 4, 3))), _t(L, rng.uniform(-1, 1, (2, 4, 2)))
        steps = L.T(np.tile(np.arange(4), (2, 1)))
        pred = m(rtg, states, actions, steps)
        loss = L.F.mse_loss(pred, actions)
        opt.zero_grad()
        loss.backward()
        norm = L.nn.utils.clip_grad_norm_(m.parameters(), 0.25)
        yield {"loss": loss, "norm": norm, **snap(m)}
        opt.step()
        sched.step()


def test_q64_decision_transformer_causal_encoder():
    assert port(_dt_build, _dt_train, rtol=1e-9, atol=1e-11) == 3


# ----------------------------------------------------------------------------------------------
# q65 detector fine-tuning with a frozen backbone: a BatchNorm2d backbone trained for two steps,
# its checkpoint loaded into a copy whose norms are torchvision's FrozenBatchNorm2d (buffers
# only; its _load_from_state_dict override drops num_batches_tracked), the backbone's first
# block frozen by requires_grad_(False), a head trained on top with parameter groups of two
# learning rates; SGD with warm-up by LinearLR. (Overrides of _load_from_state_dict were not
# called.)

def _frozen_cls(L):
    class FrozenBatchNorm2d(L.nn.Module):
        def __init__(self, n):
            super().__init__()
            for name, fill in (("weight", 1.0), ("bias", 0.0), ("running_mean", 0.0),
                               ("running_var", 1.0)):
                self.register_buffer(name, L.X.full((n,), fill))

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                                  missing_keys, unexpected_keys, error_msgs):
            state_dict.pop(prefix + "num_batches_tracked", None)
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                          missing_keys, unexpected_keys, error_msgs)

        def forward(self, x):
            scale = self.weight * (self.running_var + 1e-5).rsqrt()
            shift = self.bias - self.running_mean * scale
            return x * scale.reshape(1, -1, 1, 1) + shift.reshape(1, -1, 1, 1)

    return FrozenBatchNorm2d


def _frozen_build(L):
    nn = L.nn

    def backbone(norm):
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), norm(4), nn.ReLU(),
                             nn.Conv2d(4, 6, 3, stride=2, padding=1, bias=False), norm(6), nn.ReLU())

    head = nn.Sequential(nn.Conv2d(6, 6, 1), nn.ReLU(), nn.Conv2d(6, 5, 1))  # 1 obj + 4 box
    return backbone(nn.BatchNorm2d), backbone(_frozen_cls(L)), head


def _frozen_train(L, pre, bb, head):
    rng = np.random.default_rng(165)
    opt = L.optim.SGD(pre.parameters(), lr=0.1)
    for _ in range(2):
        x = _t(L, rng.standard_normal((4, 1, 8, 8)))
        loss = pre(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    res = bb.load_state_dict(pre.state_dict())
    assert not res.missing_keys and not res.unexpected_keys
    for p in bb[0].parameters():
        p.requires_grad_(False)
    opt = L.optim.SGD([{"params": [p for p in bb.parameters() if p.requires_grad], "lr": 0.01},
                       {"params": head.parameters()}], lr=0.05, momentum=0.9)
    sched = L.optim.lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=2)
    for _ in range(3):
        x = _t(L, rng.standard_normal((2, 1, 8, 8)))
        obj, box = _t(L, (rng.uniform(size=(2, 4, 4)) < 0.3) * 1.0), _t(L, rng.uniform(size=(2, 4, 4, 4)))
        out = head(bb(x))
        cls = L.F.binary_cross_entropy_with_logits(out[:, 0], obj)
        reg = (L.F.smooth_l1_loss(out[:, 1:].permute(0, 2, 3, 1), box, reduction="none").sum(-1)
               * obj).sum() / obj.sum().clamp(min=1)
        loss = cls + reg
        opt.zero_grad()
        loss.backward()
        yield {"cls": cls, "reg": reg, "lr": sched.get_last_lr(), **snap(bb, head)}
        opt.step()
        sched.step()


def test_q65_frozen_batchnorm_finetune():
    assert port(_frozen_build, _frozen_train) == 3


# ----------------------------------------------------------------------------------------------
# q66 batch-norm variants a training script switches between: momentum=None (a cumulative
# average of the batch statistics), track_running_stats=False (batch statistics in eval too),
# affine=False, SyncBatchNorm.convert_sync_batchnorm on one process, a backbone whose train()
# override keeps its norms in eval mode with frozen affine parameters (the "freeze BN" idiom),
# BatchNorm1d on (N, C, L) input; SGD.

def _bnvar_build(L):
    nn = L.nn

    class Backbone(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(2, 4, 3, padding=1, bias=False)
            self.bn = nn.BatchNorm1d(4)
            for p in self.bn.parameters():
                p.requires_grad_(False)

        def train(self, mode=True):
            super().train(mode)
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
            return self

        def forward(self, x):
            return L.F.relu(self.bn(self.conv(x)))

    net = nn.Sequential(Backbone(), nn.Conv1d(4, 4, 1, bias=False), nn.BatchNorm1d(4, momentum=None),
                        nn.ReLU(), nn.Conv1d(4, 3, 1, bias=False),
                        nn.BatchNorm1d(3, track_running_stats=False, affine=False),
                        nn.Flatten(), nn.Linear(3 * 6, 2))
    return nn.SyncBatchNorm.convert_sync_batchnorm(net)


def _bnvar_train(L, net):
    rng = np.random.default_rng(166)
    with L.X.no_grad():
        net[0].bn.running_mean.copy_(_t(L, rng.standard_normal(4)))
    opt = L.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.05, momentum=0.9)
    net.train()
    assert not net[0].bn.training and net[2].training
    for _ in range(3):
        x, y = _t(L, rng.standard_normal((5, 2, 6))), L.T(rng.integers(0, 2, 5))
        loss = L.F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        yield {"loss": loss, **snap(net)}
        opt.step()
    net.eval()
    with L.X.no_grad():
        yield {"eval": net(x), "types": L.X.tensor([type(m).__name__ == "SyncBatchNorm"
                                                    for m in net.modules()])}


def test_q66_batchnorm_variants_freeze_bn():
    assert port(_bnvar_build, _bnvar_train) == 4
