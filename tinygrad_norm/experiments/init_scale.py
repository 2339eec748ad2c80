"""Initial weight scale with and without batch norm ("Deep Learning from Scratch", ch. 6.3.2,
``ch06/batch_norm_test.py``).

Setup (the book's, on the offline data): 1,000 training images; an MLP with five hidden layers
of 100 ReLU units and a 10-way output (``MultiLayerNetExtend``: Affine -> BatchNorm -> ReLU);
every weight matrix drawn from N(0, w^2), biases zero, for 16 scales ``w`` from 1 down to 1e-4
(``logspace(0, -4, 16)``; every other one with ``--quick``); plain SGD with learning rate 0.01,
mini-batches of 100, 20 epochs (200 steps). The plain and the batch-norm net see the same
batches. Accuracy is measured on the training images in eval mode, as the book plots it (the
test accuracy is recorded as well).

The book's run (MNIST): the plain net learns only near w = 0.29 and 0.16 (He's scale for 100
inputs is sqrt(2/100) = 0.14), blows up for w >= 0.54 and is stuck at chance for w <= 0.046; with
batch norm the net learns over most of the range (train accuracy >= 0.8 for w from 0.086 down to
0.0012), though more slowly at the largest scales, where the unnormalized output layer starts
with huge logits.
"""
from __future__ import annotations

import numpy as np

from . import common as C
from .runner import Check, DataTooSmall, Outcome

N_TRAIN, BATCH, LR, EPOCHS = 1000, 100, 0.01, 20
GOOD = 0.8


def _train(ds, use_bn, scale, seed, bar):
    rng = C.seed_all(seed)
    X, y = ds.X_train[:N_TRAIN], ds.y_train[:N_TRAIN]
    sizes = [ds.n_features] + [100] * 5 + [ds.num_classes]
    model = C.mlp(sizes, "relu", norm="batch" if use_bn else None, init=float(scale))
    opt = C.sgd(model, LR)
    curve = []
    diverged = False
    steps = -(-len(X) // BATCH)
    for _ in range(EPOCHS):
        if not diverged:
            try:
                # large scales overflow on purpose: the loss check below stops the run
                with np.errstate(over="ignore", invalid="ignore"):
                    for idx in C.epoch_batches(rng, len(X), BATCH):
                        C.train_step(model, opt, X[idx], y[idx])
            except C.Diverged:
                diverged = True
        bar.update(steps)
        curve.append(C.evaluate(model, X, y)[1])
    return {"train_acc_curve": curve, "train_acc": curve[-1],
            "test_acc": C.evaluate(model, ds.X_test, ds.y_test)[1], "diverged": diverged}


def run(ctx):
    ds = ctx.data()
    if len(ds.X_train) < N_TRAIN:
        raise DataTooSmall(f"init-scale needs {N_TRAIN} training images, the data has "
                         f"{len(ds.X_train)}")
    scales = np.logspace(0, -4, 16)
    if ctx.quick:
        scales = scales[::2]
    seeds = ctx.seeds(ctx.pick(1, 3))
    steps = -(-N_TRAIN // BATCH) * EPOCHS
    bar = ctx.bar(total=2 * len(scales) * len(seeds) * steps, desc="init-scale")
    runs = {"plain": [], "batch norm": []}
    for scale in scales:
        for label, use_bn in (("plain", False), ("batch norm", True)):
            bar.set_postfix_str(f"w={scale:.2g}, {label}")
            runs[label].append([_train(ds, use_bn, scale, s, bar) for s in seeds])
    ctx.close_bar()

    acc = {k: np.array([[r["train_acc"] for r in per] for per in v]) for k, v in runs.items()}
    mean = {k: v.mean(axis=1) for k, v in acc.items()}  # per scale
    good = {k: int(np.sum(v >= GOOD)) for k, v in mean.items()}
    _plot(ctx, scales, runs, mean)

    he = np.sqrt(2.0 / 100)
    near_he = int(np.argmin(np.abs(np.log(scales / he))))
    # the best plain scale within a factor 2.5 of He's (the quick grid skips 0.16)
    around = np.flatnonzero(np.abs(np.log(scales / he)) <= np.log(2.5))
    best_he = int(around[np.argmax(mean["plain"][around])])
    small = scales <= 0.01
    checks = [
        Check("batch norm learns over a wider range of initial scales",
              good["batch norm"] >= 2 * good["plain"] and good["batch norm"] >= good["plain"] + 3,
              good, f"number of scales with train accuracy >= {GOOD}: BN >= 2x plain and "
                    f">= plain + 3"),
        Check("batch norm's accuracy averaged over the grid is higher",
              mean["batch norm"].mean() > mean["plain"].mean(),
              {k: float(v.mean()) for k, v in mean.items()}, "mean over scales: BN > plain"),
        Check("without batch norm, small initial weights do not learn",
              bool(np.all(mean["plain"][small] < 0.3)),
              mean["plain"][small].tolist(), "plain train accuracy < 0.3 for every w <= 0.01"),
        Check("without batch norm, the net learns near He's scale",
              mean["plain"][best_he] >= GOOD, {"w": scales[best_he],
                                                "acc": mean["plain"][best_he]},
              f"plain train accuracy >= {GOOD} at some w within 2.5x of sqrt(2/100)"),
        Check("near He's scale the plain net does at least as well as batch norm (as in the "
              "book's run)", mean["plain"][near_he] >= mean["batch norm"][near_he],
              {k: v[near_he] for k, v in mean.items()}, "reported only", gating=False),
    ]
    diverged = [float(s) for s, per in zip(scales, runs["plain"]) if any(r["diverged"]
                                                                        for r in per)]
    bn_good = scales[mean["batch norm"] >= GOOD]
    pl_good = scales[mean["plain"] >= GOOD]

    def rng_(s):
        return f"w in [{s.min():.2g}, {s.max():.2g}]" if len(s) else "no scale"
    verdict = (
        f"After {EPOCHS} epochs on {N_TRAIN} images, the plain net reached train accuracy >= "
        f"{GOOD} at {good['plain']} of {len(scales)} initial scales ({rng_(pl_good)}) and the "
        f"batch-norm net at {good['batch norm']} ({rng_(bn_good)}); averaged over the grid, "
        f"{mean['plain'].mean():.3f} vs {mean['batch norm'].mean():.3f}. Without batch norm, "
        f"every w <= 0.01 stayed at {mean['plain'][small].max():.3f} or below (the signal "
        f"vanishes through five small layers)"
        + (f", and w = {', '.join(f'{d:.2g}' for d in diverged)} diverged (non-finite loss)"
           if diverged else "")
        + f". Near He's scale (w = {scales[near_he]:.2g}) the plain net reached "
        f"{mean['plain'][near_he]:.3f} against batch norm's {mean['batch norm'][near_he]:.3f}.")
    config = {"n_train": N_TRAIN, "sizes": [ds.n_features] + [100] * 5 + [ds.num_classes],
              "scales": scales, "optimizer": "SGD", "lr": LR, "batch_size": BATCH,
              "epochs": EPOCHS, "seeds": seeds, "metric": "training accuracy in eval mode"}
    results = {"scales": scales, "train_acc_mean": mean, "train_acc_per_seed": acc,
               "test_acc_mean": {k: np.array([[r["test_acc"] for r in per] for per in v])
                                 .mean(axis=1) for k, v in runs.items()},
               "scales_reaching_0.8": good, "plain_diverged_at": diverged,
               "curves_seed0": {k: [per[0]["train_acc_curve"] for per in v]
                                for k, v in runs.items()}}
    return Outcome(results, checks, verdict, config)


def _plot(ctx, scales, runs, mean):
    n = len(scales)
    rows = -(-n // 4)
    fig = ctx.figure(figsize=(17, 1.9 * rows + 2.5))
    gs = fig.add_gridspec(rows, 9)
    ax = fig.add_subplot(gs[:, :4])
    ax.semilogx(scales, mean["plain"], "o--", color="tab:red", label="plain")
    ax.semilogx(scales, mean["batch norm"], "o-", color="tab:blue", label="batch norm")
    ax.axvline(np.sqrt(2 / 100), color="gray", ls=":", label="He: sqrt(2/100)")
    ax.axhline(GOOD, color="gray", lw=0.5)
    ax.set_xlabel("initial weight std w")
    ax.set_ylabel(f"train accuracy after {EPOCHS} epochs")
    ax.set_ylim(0, 1.02)
    ax.grid(True, alpha=0.3)
    ax.legend()
    nseeds = len(runs["plain"][0])
    ax.set_title(f"final accuracy vs initial scale (mean of {nseeds} seed(s))", fontsize=10)
    ep = np.arange(1, EPOCHS + 1)
    for i, s in enumerate(scales):
        sub = fig.add_subplot(gs[i // 4, 5 + i % 4])
        sub.plot(ep, runs["batch norm"][i][0]["train_acc_curve"], "-", color="tab:blue")
        sub.plot(ep, runs["plain"][i][0]["train_acc_curve"], "--", color="tab:red")
        sub.set_ylim(0, 1.02)
        sub.set_title(f"w = {s:.2g}", fontsize=8)
        sub.tick_params(labelsize=7)
        if i % 4:
            sub.set_yticklabels([])
    fig.suptitle("Initial weight scale: 5x100 ReLU MLP, SGD lr 0.01, batch 100 (small panels: "
                 "train accuracy per epoch, seed 0; BN solid, plain dashed)")
    ctx.save(fig)
