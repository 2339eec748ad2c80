"""Ioffe & Szegedy (2015), Figure 1: a sigmoid MLP with and without batch norm.

Paper: MNIST, three fully connected hidden layers of 100 sigmoid units, weights "initialized to
small random Gaussian values", mini-batches of 60, 50,000 steps; batch norm before each
nonlinearity (``z = g(BN(Wu))``, the bias dropped). Fig. 1(a): test accuracy over training;
(b, c): the 15th, 50th and 85th percentiles of one typical last-layer sigmoid's input over
training -- drifting without batch norm, "much more stable" with it. The paper gives no numbers.

Here: the same network on the offline data (64 inputs for digits), weights ~ N(0, 0.1^2), zero
biases, plain SGD with learning rate 0.5, mini-batches of 60 drawn with replacement, 5,000 steps
(1,000 with ``--quick``), three seeds (one). Test accuracy is measured in eval mode (running
statistics). The percentiles are taken over the test images for every unit of the last hidden
layer, with batch norm using the *test set's own batch statistics* and leaving the running
estimates alone -- the training-time view the paper plots.

Pass criteria (from PyTorch reference runs on digits; see the research notes): batch norm's
accuracy at 10% of the steps is at least 0.2 above the plain network's; its final accuracy is at
least as high; and the plain network's median drift -- the mean over units of
``|p50(end) - p50(10%)|`` -- is at least 3x batch norm's.
"""
from __future__ import annotations

import numpy as np

from . import common as C
from .runner import Check, Outcome

LR, BATCH, INIT_STD = 0.5, 60, 0.1
PCTS = (15, 50, 85)


def _percentiles(model, X):
    """(3, units) percentiles of the last hidden layer's sigmoid inputs over ``X``."""
    from ..autograd import no_grad

    with no_grad():
        _, pre = C.forward_collect(model, X, batch_stats=True)
    return np.percentile(pre[-1].data.astype(np.float64), PCTS, axis=0)


def _train(ds, use_bn, seed, steps, checkpoints, bar):
    rng = C.seed_all(seed)
    sizes = [ds.n_features, 100, 100, 100, ds.num_classes]
    model = C.mlp(sizes, "sigmoid", norm="batch" if use_bn else None, init=INIT_STD)
    opt = C.sgd(model, LR)
    acc, pcts = [], []
    n = len(ds.X_train)
    for step in range(steps + 1):
        if step in checkpoints:
            acc.append(C.evaluate(model, ds.X_test, ds.y_test)[1])
            pcts.append(_percentiles(model, ds.X_test))
        if step == steps:
            break
        idx = rng.integers(0, n, BATCH)  # with replacement, as the paper's sampler
        C.train_step(model, opt, ds.X_train[idx], ds.y_train[idx])
        bar.update(1)
    return np.array(acc), np.array(pcts)  # (T,), (T, 3, units)


def run(ctx):
    ds = ctx.data()
    steps = ctx.pick(1000, 5000)
    seeds = ctx.seeds(ctx.pick(1, 3))
    checkpoints = sorted(set(np.linspace(0, steps, 51).astype(int).tolist()))
    ref_step = steps // 10
    if ref_step not in checkpoints:
        checkpoints = sorted(set(checkpoints) | {ref_step})
    i_ref, i_end = checkpoints.index(ref_step), len(checkpoints) - 1

    bar = ctx.bar(total=2 * len(seeds) * steps, desc="bn-sigmoid")
    out = {}
    for label, use_bn in (("plain", False), ("batch norm", True)):
        accs, pcts = [], []
        for seed in seeds:
            bar.set_postfix_str(f"{label}, seed {seed}")
            a, p = _train(ds, use_bn, seed, steps, set(checkpoints), bar)
            accs.append(a)
            pcts.append(p)
        accs, pcts = np.array(accs), np.array(pcts)  # (S, T), (S, T, 3, U)
        med_drift = np.abs(pcts[:, i_end, 1] - pcts[:, i_ref, 1]).mean(axis=1)  # per seed
        spread = pcts[:, :, 2] - pcts[:, :, 0]
        spread_drift = np.abs(np.log(spread[:, i_end] / spread[:, i_ref])).mean(axis=1)
        out[label] = {"acc": accs, "pcts": pcts, "median_drift": med_drift,
                      "spread_drift": spread_drift}
    ctx.close_bar()

    plain, bn = out["plain"], out["batch norm"]
    # the typical unit: the median plain-network drift of seed 0's units
    d0 = np.abs(plain["pcts"][0, i_end, 1] - plain["pcts"][0, i_ref, 1])
    unit = int(np.argsort(d0)[len(d0) // 2])
    _plot(ctx, checkpoints, out, unit, ref_step)

    acc_ref = {k: float(v["acc"][:, i_ref].mean()) for k, v in out.items()}
    acc_end = {k: float(v["acc"][:, i_end].mean()) for k, v in out.items()}
    drift = {k: float(v["median_drift"].mean()) for k, v in out.items()}
    sdrift = {k: float(v["spread_drift"].mean()) for k, v in out.items()}
    checks = [
        Check(f"batch norm trains faster (test accuracy at step {ref_step}, 10% of the run)",
              acc_ref["batch norm"] >= acc_ref["plain"] + 0.2, acc_ref,
              "batch norm >= plain + 0.20"),
        Check("batch norm ends at least as accurate", acc_end["batch norm"] >= acc_end["plain"],
              acc_end, "final test accuracy, batch norm >= plain"),
        Check("the sigmoid inputs drift without batch norm, stay stable with it",
              drift["plain"] >= 3 * drift["batch norm"], drift,
              f"mean |p50(step {steps}) - p50(step {ref_step})| over units: plain >= 3x BN"),
        Check("the spread (p85 - p15) is stabler with batch norm",
              sdrift["plain"] > sdrift["batch norm"], sdrift,
              "mean |log(spread ratio)| over units: plain > BN", gating=False),
    ]
    results = {
        "checkpoints": checkpoints, "reference_step": ref_step, "typical_unit": unit,
        "test_acc_at_reference_step": acc_ref, "final_test_acc": acc_end,
        "median_drift": drift, "spread_drift": sdrift,
        "per_seed": {k: {"test_acc": v["acc"], "median_drift": v["median_drift"],
                         "spread_drift": v["spread_drift"]} for k, v in out.items()},
        "typical_unit_percentiles": {k: v["pcts"][0, :, :, unit] for k, v in out.items()},
    }
    ratio = drift["plain"] / max(drift["batch norm"], 1e-12)
    verdict = (
        f"Over {steps} steps ({len(seeds)} seed{'s' if len(seeds) > 1 else ''}), batch norm "
        f"reached test accuracy {acc_ref['batch norm']:.3f} at step {ref_step} against "
        f"{acc_ref['plain']:.3f} without it, and ended at {acc_end['batch norm']:.3f} against "
        f"{acc_end['plain']:.3f}. Between step {ref_step} and the end, the median of a "
        f"last-layer sigmoid input moved by {drift['plain']:.3f} on average without batch norm "
        f"and by {drift['batch norm']:.3f} with it ({ratio:.0f}x less); the 15-85 percentile "
        f"spread changed by a factor of e^{sdrift['plain']:.2f} vs e^{sdrift['batch norm']:.2f}. "
        f"{_summary(checks)}")
    config = {"sizes": [ds.n_features, 100, 100, 100, ds.num_classes],
              "activation": "sigmoid", "init_std": INIT_STD, "optimizer": "SGD", "lr": LR,
              "batch_size": BATCH, "sampling": "with replacement", "steps": steps,
              "seeds": seeds, "percentiles": list(PCTS),
              "percentile_data": "test set, batch statistics of the test set"}
    return Outcome(results, checks, verdict, config)


def _summary(checks):
    """The closing sentence, from the gating checks: speed, final accuracy, stability."""
    fast, final, stable = (c.passed for c in checks[:3])
    parts = []
    parts.append("the distribution of the sigmoid's input keeps moving without batch norm and "
                 "is pinned with it" if stable else
                 "the input distribution was not clearly stabler with batch norm by the 3x "
                 "criterion")
    if fast and final:
        parts.append("batch norm trains faster and ends at least as accurate")
    elif fast:
        parts.append("batch norm trains faster but did not end more accurate here")
    else:
        parts.append("batch norm's early lead was below the 0.2 criterion (set on digits)"
                     + ("" if final else " and its final accuracy was not higher"))
    return "As in the paper's Fig. 1, " + parts[0] + "; " + parts[1] + "." if stable else \
        "Unlike the paper's Fig. 1, " + parts[0] + "; " + parts[1] + "."


def _plot(ctx, checkpoints, out, unit, ref_step):
    fig = ctx.figure(figsize=(15, 4.4))
    ax_acc, ax_p, ax_bn = fig.subplots(1, 3)
    steps = np.array(checkpoints)
    for label, c in (("plain", "tab:red"), ("batch norm", "tab:blue")):
        a = out[label]["acc"]
        ax_acc.plot(steps, a.mean(0), color=c, label=f"{label}" +
                    (f" (mean of {len(a)} seeds)" if len(a) > 1 else ""))
        if len(a) > 1:
            ax_acc.fill_between(steps, a.min(0), a.max(0), color=c, alpha=0.15)
    ax_acc.axvline(ref_step, color="gray", lw=0.6, ls=":")
    ax_acc.set_ylim(0, 1.0)
    ax_acc.set_xlabel("training step")
    ax_acc.set_ylabel("test accuracy")
    ax_acc.set_title("(a) test accuracy", fontsize=10)
    ax_acc.legend(loc="lower right")
    lo = min(out[k]["pcts"][0, :, :, unit].min() for k in out)
    hi = max(out[k]["pcts"][0, :, :, unit].max() for k in out)
    for ax, label, tag in ((ax_p, "plain", "(b) without"), (ax_bn, "batch norm", "(c) with")):
        p = out[label]["pcts"][0, :, :, unit]
        for j, (pc, ls) in enumerate(zip(PCTS, (":", "-", "--"))):
            ax.plot(steps, p[:, j], ls, color="k", label=f"{pc}th percentile")
        ax.fill_between(steps, p[:, 0], p[:, 2], color="tab:blue" if label != "plain"
                        else "tab:red", alpha=0.15)
        ax.set_ylim(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))
        ax.set_xlabel("training step")
        ax.set_ylabel(f"input of sigmoid unit {unit}, last hidden layer")
        ax.set_title(f"{tag} batch norm: 15/50/85th percentiles", fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    ax_acc.grid(True, alpha=0.3)
    fig.suptitle("Ioffe & Szegedy Fig. 1: 3x100 sigmoid MLP, SGD lr 0.5, batch 60")
    ctx.save(fig)
