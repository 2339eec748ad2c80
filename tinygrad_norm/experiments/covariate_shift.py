"""Internal covariate shift and the loss landscape (Santurkar, Tsipras, Ilyas & Madry 2018, "How
Does Batch Normalization Help Optimization?").

The original motivation of batch norm was to reduce *internal covariate shift*: the change of a
layer's input distribution as the layers below it learn. Santurkar et al. test that story two
ways. (1) "Noisy" batch norm: after each BN layer, add time-varying, non-zero-mean,
non-unit-variance noise to every activation, so the layer inputs are *less* stable than in a
network without BN -- and it still trains about as well as BN. (2) The landscape: along the
gradient direction, the loss and the gradient change far less with BN (better Lipschitzness and
"effective beta-smoothness"), which is what lets larger steps work.

Setup (the research notes' small version): an MLP with 8 hidden layers of 100 ReLU units, He
initialization, on the offline data; plain SGD with learning rate 0.1, batch 64, 1,200 steps
(300 with ``--quick``), 3 seeds (1). Variants:

* standard: ``Linear -> ReLU``;
* BN: ``Linear -> BN -> ReLU``;
* noisy BN: ``Linear -> BN -> noise -> ReLU`` with ``y <- s * y + m``, ``s_c ~ U(1, 1.5)``,
  ``m_c ~ U(-0.5, 0.5)`` drawn per channel at every training forward (off in eval).

Measured, every 25 steps up to step 500:

* the landscape along the current batch's gradient ``g``: at steps ``eta = a * lr`` for
  ``a in {0.25, 0.5, 1, 2, 4}``, the loss ``L(theta - eta g)`` and gradient; *loss range* = max -
  min over the five; *gradient change* = max ``|grad L(theta - eta g) - g|``; *effective beta* =
  max ``|grad change| / |eta g|``. The probes use the same noise draw as the base point and leave
  parameters and running statistics untouched;
* the *distribution drift*: at hidden layer 6, the per-unit mean of the ReLU's input over the
  test images (batch statistics, noise on), and its change between successive checkpoints,
  averaged over units and checkpoints;
* training accuracy: the mean batch accuracy over steps 0-300 (the noisy network's eval-mode
  test accuracy is meaningless -- its noise is off at test time -- so, as the paper, it is judged
  on training).

Pass criteria: noisy BN drifts more than the standard net, yet trains better than it and within
0.05 of BN; BN's loss range and gradient change are at most a fifth of the standard net's.
Effective beta is reported, not gated: in this setup its gap is small.
"""
from __future__ import annotations

import numpy as np

from .. import nn
from . import common as C
from .runner import Check, Outcome

LR, BATCH, DEPTH, WIDTH = 0.1, 64, 8, 100
ALPHAS = (0.25, 0.5, 1.0, 2.0, 4.0)
PROBE_EVERY, PROBE_UNTIL, EARLY = 25, 500, 300
DRIFT_LAYER = 6


class ChannelNoise(nn.Module):
    """``y = s * x + m`` with per-channel ``s ~ U(1, 1.5)``, ``m ~ U(-0.5, 0.5)``, redrawn at every
    training forward (``frozen`` reuses the last draw); the identity in eval mode."""

    def __init__(self, width, rng):
        super().__init__()
        self.width = width
        self.rng = rng
        self.frozen = False
        self.s = self.m = None

    def forward(self, x):
        if not self.training:
            return x
        if not self.frozen or self.s is None:
            self.s = self.rng.uniform(1.0, 1.5, (1, self.width)).astype(x.dtype)
            self.m = self.rng.uniform(-0.5, 0.5, (1, self.width)).astype(x.dtype)
        return x * self.s + self.m


def _flat_grads(params):
    return np.concatenate([p.grad.data.ravel().astype(np.float64) for p in params])


def _loss_and_grad(model, params, xb, yb):
    from ..tensor import Tensor

    for p in params:
        p.grad = None
    loss = C.cross_entropy(model(Tensor(xb)), Tensor(yb))
    loss.backward()
    return float(loss.item()), _flat_grads(params)


def _probe(model, xb, yb, noises):
    """Loss range, gradient change and effective beta along -g at the current parameters."""
    params = list(model.parameters())
    saved = [p.data.copy() for p in params]
    buffers = [b.data.copy() for b in model.buffers()]
    for nz in noises:
        nz.frozen = False
    loss0, g = _loss_and_grad(model, params, xb, yb)  # draws this probe's noise
    for nz in noises:
        nz.frozen = True
    losses, dg, beta = [loss0], [], []
    gnorm = np.linalg.norm(g)
    for a in ALPHAS:
        eta = a * LR
        offset = 0
        for p, s in zip(params, saved):
            k = s.size
            p.data[...] = s - eta * g[offset:offset + k].reshape(s.shape).astype(s.dtype)
            offset += k
        la, ga = _loss_and_grad(model, params, xb, yb)
        losses.append(la)
        change = float(np.linalg.norm(ga - g))
        dg.append(change)
        beta.append(change / max(eta * gnorm, 1e-12))
    for p, s in zip(params, saved):
        p.data[...] = s
        p.grad = None
    for b, s in zip(model.buffers(), buffers):
        b.data[...] = s
    for nz in noises:
        nz.frozen = False
    return {"loss_range": float(max(losses) - min(losses)), "grad_change": float(max(dg)),
            "eff_beta": float(max(beta))}


def _unit_means(model, X):
    from ..autograd import no_grad

    with no_grad():
        _, pre = C.forward_collect(model, X, kinds=(nn.ReLU,), batch_stats=True)
    return pre[DRIFT_LAYER - 1].data.astype(np.float64).mean(axis=0)


def _train(ds, variant, seed, steps, bar):
    rng = C.seed_all(seed)
    noise_rng = np.random.default_rng(seed + 20_000)
    noises = []

    def extra(width):
        nz = ChannelNoise(width, noise_rng)
        noises.append(nz)
        return nz
    sizes = [ds.n_features] + [WIDTH] * DEPTH + [ds.num_classes]
    model = C.mlp(sizes, "relu", norm=None if variant == "standard" else "batch", init="he",
                  extra=extra if variant == "noisy BN" else None)
    opt = C.sgd(model, LR)
    n = len(ds.X_train)
    batch_acc, probes, means = [], [], []
    order = []
    from ..tensor import Tensor

    for step in range(steps):
        if not order:
            order = C.epoch_batches(rng, n, BATCH, drop_last=True)
        idx = order.pop(0)
        xb, yb = ds.X_train[idx], ds.y_train[idx]
        if step % PROBE_EVERY == 0 and step <= PROBE_UNTIL:
            probes.append({"step": step, **_probe(model, xb, yb, noises)})
            means.append(_unit_means(model, ds.X_test))
        opt.zero_grad()
        logits = model(Tensor(xb))
        loss = C.cross_entropy(logits, Tensor(yb))
        loss.backward()
        opt.step()
        batch_acc.append(float(np.mean(np.argmax(logits.data, axis=1) == yb)))
        bar.update(1)
    means = np.array(means)
    drift = float(np.abs(np.diff(means, axis=0)).mean())
    test_acc = C.evaluate(model, ds.X_test, ds.y_test)[1]
    return {"batch_acc": batch_acc, "probes": probes, "drift": drift,
            "early_acc": float(np.mean(batch_acc[:EARLY])), "test_acc_eval_mode": test_acc}


def run(ctx):
    ds = ctx.data()
    steps = ctx.pick(EARLY, 1200)
    seeds = ctx.seeds(ctx.pick(1, 3))
    variants = ("standard", "BN", "noisy BN")
    bar = ctx.bar(total=len(variants) * len(seeds) * steps, desc="covariate-shift")
    runs = {}
    for v in variants:
        runs[v] = []
        for seed in seeds:
            bar.set_postfix_str(f"{v}, seed {seed}")
            runs[v].append(_train(ds, v, seed, steps, bar))
    ctx.close_bar()

    def agg(v, key):
        return float(np.mean([r[key] for r in runs[v]]))

    def probe_mean(v, key):
        return float(np.mean([np.mean([p[key] for p in r["probes"]]) for r in runs[v]]))
    table = {v: {"early_train_acc": agg(v, "early_acc"), "drift": agg(v, "drift"),
                 "loss_range": probe_mean(v, "loss_range"),
                 "grad_change": probe_mean(v, "grad_change"),
                 "eff_beta": probe_mean(v, "eff_beta"),
                 "test_acc_eval_mode": agg(v, "test_acc_eval_mode")} for v in variants}
    _plot(ctx, runs, table, steps)

    std, bn, nbn = table["standard"], table["BN"], table["noisy BN"]
    checks = [
        Check("noisy BN's layer inputs drift more than the standard net's",
              nbn["drift"] > std["drift"], {v: table[v]["drift"] for v in variants},
              f"mean |change of per-unit pre-activation mean| at hidden layer {DRIFT_LAYER}: "
              f"noisy BN > standard"),
        Check("noisy BN still trains better than the standard net, close to BN",
              nbn["early_train_acc"] > std["early_train_acc"]
              and nbn["early_train_acc"] >= bn["early_train_acc"] - 0.05,
              {v: table[v]["early_train_acc"] for v in variants},
              f"mean batch accuracy over steps 0-{EARLY}: noisy BN > standard and >= BN - 0.05"),
        Check("BN smooths the loss along the gradient",
              bn["loss_range"] <= std["loss_range"] / 5,
              {v: table[v]["loss_range"] for v in variants}, "BN loss range <= standard / 5"),
        Check("BN makes the gradient more predictive",
              bn["grad_change"] <= std["grad_change"] / 5,
              {v: table[v]["grad_change"] for v in variants},
              "BN gradient change <= standard / 5"),
        Check("BN lowers the effective beta-smoothness", bn["eff_beta"] < std["eff_beta"],
              {v: table[v]["eff_beta"] for v in variants}, "reported only", gating=False),
    ]
    ok = [c.passed for c in checks[:4]]
    noisy_text = (": less stable distributions than without any normalization, and training "
                  "about as good as BN's" if ok[0] and ok[1] else
                  " -- not the clean picture of the paper (see the checks)")
    closing = ("As Santurkar et al. argue, what BN changes here is the landscape's smoothness, "
               "not the stability of the layer inputs." if all(ok) else
               "Not every part of Santurkar et al.'s argument reproduced here (see the checks).")
    verdict = (
        f"Over steps 0-{EARLY} ({len(seeds)} seed{'s' if len(seeds) > 1 else ''}) the mean "
        f"training batch accuracy was {std['early_train_acc']:.3f} for the standard net, "
        f"{bn['early_train_acc']:.3f} with BN and {nbn['early_train_acc']:.3f} with noisy BN, "
        f"although noisy BN's layer-{DRIFT_LAYER} input means drifted by "
        f"{nbn['drift']:.3f} per checkpoint against {std['drift']:.3f} (standard) and "
        f"{bn['drift']:.4f} (BN){noisy_text}. Along the gradient, BN's loss varied by "
        f"{bn['loss_range']:.3f} against {std['loss_range']:.3f} "
        f"({std['loss_range'] / max(bn['loss_range'], 1e-12):.0f}x less) and its gradient "
        f"changed by {bn['grad_change']:.2f} against {std['grad_change']:.2f} "
        f"({std['grad_change'] / max(bn['grad_change'], 1e-12):.0f}x less); effective beta "
        f"{bn['eff_beta']:.1f} vs {std['eff_beta']:.1f} (a small gap, as in the reference "
        f"runs). {closing} Noisy BN's eval-mode test "
        f"accuracy ({nbn['test_acc_eval_mode']:.3f}) is low because its noise is off at test "
        f"time, which is why it is judged on training.")
    config = {"sizes": [ds.n_features] + [WIDTH] * DEPTH + [ds.num_classes], "init": "he",
              "optimizer": "SGD", "lr": LR, "batch_size": BATCH, "steps": steps,
              "seeds": seeds, "noise": "s ~ U(1, 1.5), m ~ U(-0.5, 0.5) per channel per forward",
              "probe_step_multipliers": list(ALPHAS), "probe_every": PROBE_EVERY,
              "probe_until": PROBE_UNTIL, "drift_layer": DRIFT_LAYER}
    results = {"summary": table,
               "runs": {v: [{"seed": s, "probes": r["probes"], "drift": r["drift"],
                             "early_acc": r["early_acc"], "batch_acc": r["batch_acc"],
                             "test_acc_eval_mode": r["test_acc_eval_mode"]}
                            for s, r in zip(seeds, rs)] for v, rs in runs.items()}}
    return Outcome(results, checks, verdict, config)


def _plot(ctx, runs, table, steps):
    fig = ctx.figure(figsize=(17, 4.4))
    ax_acc, ax_loss, ax_grad, ax_beta = fig.subplots(1, 4)
    colors = {"standard": "tab:red", "BN": "tab:blue", "noisy BN": "tab:orange"}
    k = 25
    for v, rs in runs.items():
        acc = np.mean([r["batch_acc"] for r in rs], axis=0)
        smooth = np.convolve(acc, np.ones(k) / k, mode="valid")
        ax_acc.plot(np.arange(len(smooth)) + k, smooth, color=colors[v],
                    label=f"{v} (drift {table[v]['drift']:.3f})")
        ps = [p["step"] for p in rs[0]["probes"]]
        for ax, key in ((ax_loss, "loss_range"), (ax_grad, "grad_change"),
                        (ax_beta, "eff_beta")):
            vals = np.mean([[p[key] for p in r["probes"]] for r in rs], axis=0)
            ax.plot(ps, vals, "o-", ms=3, color=colors[v], label=v)
    ax_acc.set_ylabel("training batch accuracy (25-step mean)")
    ax_acc.set_title("training; legend: layer-6 input drift", fontsize=10)
    ax_loss.set_title("loss range along the gradient", fontsize=10)
    ax_grad.set_title("gradient change along the gradient", fontsize=10)
    ax_beta.set_title("effective beta-smoothness", fontsize=10)
    for ax in (ax_loss, ax_grad, ax_beta):
        ax.set_yscale("log")
    for ax in (ax_acc, ax_loss, ax_grad, ax_beta):
        ax.set_xlabel("training step")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Santurkar et al.: 8x100 ReLU MLP, SGD lr 0.1 -- noisy BN trains like BN; "
                 "BN smooths the landscape (probes at 0.25-4x the step along -g)")
    ctx.save(fig)
