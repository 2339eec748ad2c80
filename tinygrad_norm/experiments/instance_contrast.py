"""Instance norm and per-image contrast (Ulyanov, Vedaldi & Lempitsky 2016).

Paper: in style transfer, swapping batch norm for instance norm -- and keeping it at test time --
gives a "significant qualitative improvement"; the reason given is that instance norm "allows to
remove instance-specific contrast information from the content image". A stylization network is
out of scope offline, so this experiment tests the mechanism on classification: per-image
contrast and brightness changes at test time.

Setup: the image's pixels as one channel, ``(N, 1, P)`` with ``P`` pixels, go through a first
layer that is either instance norm (``nn.InstanceNorm1d(1, affine=True)``: each image normalized
over its own pixels), batch norm (``nn.BatchNorm1d(1)``: one mean and variance for all pixels of
the batch, running estimates at test time) or nothing, then a ``P-128-10`` ReLU MLP. Adam 1e-3,
batch 32, 15 epochs (5 with ``--quick``), 3 seeds (1), trained on clean images. The test set is
evaluated clean and with each image given its own contrast and brightness, ``x' = a * x + b``
with ``a ~ logU(0.2, 5)`` and ``b ~ U(-1, 1)``.

Exact property, also checked: ``instance_norm(a * x + b) == instance_norm(x)`` for any per-image
``a > 0`` and ``b`` (up to ``eps``; float64, ``eps = 1e-12``), which batch norm does not have.

Pass criteria: instance norm's error on the shifted images within 0.5 points of its clean error;
no normalization and batch norm at least 10 points worse on shifted than on clean images.
"""
from __future__ import annotations

import numpy as np

from .. import nn
from . import common as C
from .runner import Check, Outcome

VARIANTS = ("none", "batch norm", "instance norm")


class _AsOneChannel(nn.Module):
    """(N, P) -> (N, 1, P): the pixels of an image as the positions of one channel."""

    def forward(self, x):
        return x.reshape(x.shape[0], 1, -1)


def _model(variant, n_features, n_classes):
    first = {"none": None, "batch norm": nn.BatchNorm1d(1),
             "instance norm": nn.InstanceNorm1d(1, affine=True)}[variant]
    layers = [_AsOneChannel()] + ([first] if first is not None else []) + [
        nn.Flatten(), nn.Linear(n_features, 128), nn.ReLU(), nn.Linear(128, n_classes)]
    return nn.Sequential(*layers)


def contrast_shift(X, rng):
    """Each row gets its own ``a ~ logU(0.2, 5)`` and ``b ~ U(-1, 1)``: ``(a * X + b, a, b)``."""
    a = np.exp(rng.uniform(np.log(0.2), np.log(5.0), (len(X), 1)))
    b = rng.uniform(-1.0, 1.0, (len(X), 1))
    return (a * X + b).astype(np.float32), a[:, 0], b[:, 0]


def exact_property(seed):
    """max |norm(a x + b) - norm(x)| for instance norm and (training-mode) batch norm."""
    from .. import functional as F
    from ..tensor import Tensor

    rng = np.random.default_rng(seed)
    x = rng.random((6, 1, 64))
    a = np.exp(rng.uniform(np.log(0.2), np.log(5.0), (6, 1, 1)))
    b = rng.uniform(-1.0, 1.0, (6, 1, 1))
    out = {}
    for name, fn in (("instance norm", lambda t: F.instance_norm(t, eps=1e-12)),
                     ("batch norm", lambda t: F.batch_norm(t, None, None, training=True,
                                                           eps=1e-12))):
        out[name] = float(np.abs(fn(Tensor(a * x + b)).data - fn(Tensor(x)).data).max())
    return out


def run(ctx):
    ds = ctx.data()
    epochs = ctx.pick(5, 15)
    seeds = ctx.seeds(ctx.pick(1, 3))
    n = len(ds.X_train)
    steps = -(-n // 32)
    X_shift, a, b = contrast_shift(ds.X_test, np.random.default_rng(ctx.seed + 30_000))
    bar = ctx.bar(total=len(VARIANTS) * len(seeds) * epochs * steps, desc="instance-contrast")
    clean, shifted, per_image = {}, {}, {}
    for v in VARIANTS:
        clean[v], shifted[v], per_image[v] = [], [], []
        for seed in seeds:
            bar.set_postfix_str(f"{v}, seed {seed}")
            rng = C.seed_all(seed)
            model = _model(v, ds.n_features, ds.num_classes)
            opt = C.adam(model, 1e-3)
            for _ in range(epochs):
                for idx in C.epoch_batches(rng, n, 32):
                    C.train_step(model, opt, ds.X_train[idx], ds.y_train[idx])
                bar.update(steps)
            clean[v].append(1.0 - C.evaluate(model, ds.X_test, ds.y_test)[1])
            shifted[v].append(1.0 - C.evaluate(model, X_shift, ds.y_test)[1])
            model.eval()
            from ..autograd import no_grad
            from ..tensor import Tensor

            with no_grad():
                pred = np.argmax(model(Tensor(X_shift)).data, axis=1)
            per_image[v].append(pred != ds.y_test)
    ctx.close_bar()
    exact = exact_property(ctx.seed)
    ce = {v: float(np.mean(clean[v])) for v in VARIANTS}
    se = {v: float(np.mean(shifted[v])) for v in VARIANTS}
    _plot(ctx, ce, se, per_image, a, ds, X_shift)

    checks = [
        Check("instance norm is unaffected by per-image contrast",
              abs(se["instance norm"] - ce["instance norm"]) <= 0.005,
              {"clean": ce["instance norm"], "shifted": se["instance norm"]},
              "shifted error within 0.5 points of clean error"),
        Check("without normalization, contrast changes cost accuracy",
              se["none"] - ce["none"] >= 0.10, {"clean": ce["none"], "shifted": se["none"]},
              "shifted error >= clean error + 10 points"),
        Check("with batch norm, contrast changes cost accuracy",
              se["batch norm"] - ce["batch norm"] >= 0.10,
              {"clean": ce["batch norm"], "shifted": se["batch norm"]},
              "shifted error >= clean error + 10 points"),
        Check("instance_norm(a x + b) == instance_norm(x) exactly; batch norm not",
              exact["instance norm"] < 1e-8 and exact["batch norm"] > 1e-3, exact,
              "float64, eps 1e-12: max |diff| < 1e-8 for IN, > 1e-3 for BN"),
    ]
    verdict = (
        f"Test error clean -> with per-image contrast a ~ logU(0.2, 5) and brightness b ~ "
        f"U(-1, 1) ({len(seeds)} seed{'s' if len(seeds) > 1 else ''}, {epochs} epochs): no "
        f"normalization {100 * ce['none']:.1f}% -> {100 * se['none']:.1f}%, batch norm "
        f"{100 * ce['batch norm']:.1f}% -> {100 * se['batch norm']:.1f}%, instance norm "
        f"{100 * ce['instance norm']:.1f}% -> {100 * se['instance norm']:.1f}%. Instance norm "
        f"divides each image by its own statistics, so a*x + b normalizes to the same input "
        f"(max difference {exact['instance norm']:.1e} in float64, against "
        f"{exact['batch norm']:.1e} for batch norm, whose statistics are shared by the batch "
        f"and frozen at test time). "
        + ("Batch norm does not help here -- it removes the contrast of the training set as a "
           "whole, not of each image." if checks[2].passed else
           "Batch norm lost less than 10 points here."))
    config = {"model": "(N, 1, P) -> first layer -> P-128-10 ReLU MLP", "optimizer": "Adam",
              "lr": 1e-3, "batch_size": 32, "epochs": epochs, "seeds": seeds,
              "shift": "x' = a x + b per image, a ~ logU(0.2, 5), b ~ U(-1, 1)"}
    results = {"clean_error": clean, "shifted_error": shifted, "clean_error_mean": ce,
               "shifted_error_mean": se, "exact_invariance_max_diff": exact}
    return Outcome(results, checks, verdict, config)


def _plot(ctx, ce, se, per_image, a, ds, X_shift):
    fig = ctx.figure(figsize=(16, 4.6))
    gs = fig.add_gridspec(2, 10)
    ax_bar = fig.add_subplot(gs[:, :3])
    x = np.arange(len(VARIANTS))
    ax_bar.bar(x - 0.2, [100 * ce[v] for v in VARIANTS], 0.4, label="clean test images")
    ax_bar.bar(x + 0.2, [100 * se[v] for v in VARIANTS], 0.4,
               label="per-image contrast + brightness")
    ax_bar.set_xticks(x)
    ax_bar.set_xticklabels(VARIANTS)
    ax_bar.set_ylabel("test error (%)")
    ax_bar.legend(fontsize=8)
    ax_bar.grid(True, axis="y", alpha=0.3)
    ax_bar.set_title("test error", fontsize=10)
    ax_a = fig.add_subplot(gs[:, 3:6])
    edges = np.geomspace(0.2, 5.0, 9)
    mids = np.sqrt(edges[1:] * edges[:-1])
    for v, c in zip(VARIANTS, ("tab:red", "tab:blue", "tab:green")):
        wrong = np.mean(per_image[v], axis=0)
        rates = [100 * wrong[(a >= lo) & (a < hi)].mean() for lo, hi in zip(edges[:-1],
                                                                             edges[1:])]
        ax_a.semilogx(mids, rates, "o-", color=c, label=v)
    ax_a.axvline(1.0, color="gray", lw=0.6, ls=":")
    from matplotlib.ticker import NullFormatter

    ax_a.set_xticks([0.2, 0.5, 1, 2, 5])
    ax_a.set_xticklabels(["0.2", "0.5", "1", "2", "5"])
    ax_a.xaxis.set_minor_formatter(NullFormatter())
    ax_a.set_xlabel("contrast factor a of the test image")
    ax_a.set_ylabel("test error (%)")
    ax_a.set_title("error by contrast factor", fontsize=10)
    ax_a.grid(True, alpha=0.3)
    ax_a.legend(fontsize=8)
    h, w = ds.image_shape[1:]
    for k in range(4):
        for row, X in enumerate((ds.X_test, X_shift)):
            ax = fig.add_subplot(gs[row, 6 + k])
            ax.imshow(X[k].reshape(h, w), cmap="gray", vmin=-1, vmax=2)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 1:
                ax.set_xlabel(f"a={a[k]:.2f}", fontsize=8)
            if k == 0:
                ax.set_ylabel("clean" if row == 0 else "shifted", fontsize=8)
    fig.suptitle("Instance norm removes per-image contrast (Ulyanov et al. 2016): first layer "
                 "none / BN / IN, then a 2-layer MLP; shown on a fixed gray scale [-1, 2]")
    ctx.save(fig)
