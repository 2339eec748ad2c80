"""Layer norm vs batch norm (Ba, Kiros & Hinton 2016).

Claims of the paper checked here:

1. Layer norm computes its statistics over the summed inputs of one layer for *one* training
   case, so it does not depend on the batch and "performs exactly the same computation at
   training and test times" -- checked exactly: an ``nn.LayerNorm`` gives bit-identical outputs
   in train and eval mode (an ``nn.BatchNorm1d`` does not).
2. Table 1, the invariances of batch, weight and layer normalization under re-scaling and
   re-centering of the weights and the data -- checked exactly on a random layer ``z = x W^T``
   in float64 (``eps = 1e-12``): each normalization's output with and without each perturbation,
   invariant when equal to 1e-8 (the non-invariant cells differ by order 1):

   ==========  =========  ===========  =============  =========  ===========  ============
              W rescale  W recenter   row of W x3    x rescale  x recenter   one case x3
   ==========  =========  ===========  =============  =========  ===========  ============
   batch      yes        no           yes            yes        yes          no
   weight     yes        no           yes            no         no           no
   layer      yes        yes          no             yes        no           yes
   ==========  =========  ===========  =============  =========  ===========  ============

3. Permutation-invariant MNIST (§6.6: 784-1000-1000-10, Adam, batch 128 and 4): layer norm "is
   robust to the batch-sizes and exhibits a faster training convergence comparing to batch
   normalization". Here: 64-256-256-10 ReLU MLP on the offline data (norm before each ReLU, none on
   the logits), Adam 1e-3, 10 epochs (2 with ``--quick``), batch 128 and 4, 3 seeds (1); the
   training-set cross-entropy after every epoch, batch norm normalizing by the training set's
   own statistics (in eval mode its running averages still lag the weights after one epoch of
   11 updates, and the loss measured that lag: 1.82 against 0.50), and the final test error.
   Criterion: layer norm's training loss after epoch 1 is below batch norm's, at each batch
   size.
   Robustness to the batch size is the subject of the ``batch-size`` experiment (where LN stays
   flat down to batch 2 and BN collapses).
"""
from __future__ import annotations

import numpy as np

from . import common as C
from .runner import Check, Outcome

PERTURBATIONS = ("W rescale", "W recenter", "row of W x3", "x rescale", "x recenter",
                 "one case x3")
PAPER = {  # Ba et al., Table 1
    "batch": (True, False, True, True, True, False),
    "weight": (True, False, True, False, False, False),
    "layer": (True, True, False, True, False, True),
}
VARIANTS = ("none", "batch", "layer")


def _normalize(kind, x, W):
    """The normalized summed inputs of ``x`` (N, D) through ``W`` (H, D), no gain or bias."""
    from .. import functional as F
    from ..tensor import Tensor

    xt, Wt = Tensor(x), Tensor(W)
    if kind == "batch":
        return F.batch_norm(xt @ Wt.T, None, None, training=True, eps=1e-12).data
    if kind == "layer":
        return F.layer_norm(xt @ Wt.T, (W.shape[0],), eps=1e-12).data
    # weight norm: each unit's weight vector divided by its length
    return ((xt @ Wt.T) / ((Wt * Wt).sum(axis=1) ** 0.5)).data


def invariance_table(seed=0, N=8, H=6, D=5):
    """``{kind: {perturbation: (invariant, max |difference|)}}`` on a random float64 layer."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((H, D))
    x = rng.standard_normal((N, D))

    def perturbed(name):
        W2, x2 = W.copy(), x.copy()
        if name == "W rescale":
            W2 = W * 2.5
        elif name == "W recenter":
            W2 = W + 0.7
        elif name == "row of W x3":
            W2[2] *= 3.0
        elif name == "x rescale":
            x2 = x * 4.0
        elif name == "x recenter":
            x2 = x + 1.3
        elif name == "one case x3":
            x2[3] *= 3.0
        return x2, W2

    table = {}
    for kind in PAPER:
        base = _normalize(kind, x, W)
        table[kind] = {}
        for name in PERTURBATIONS:
            out = _normalize(kind, *perturbed(name))
            diff = float(np.abs(out - base).max())
            table[kind][name] = (bool(np.allclose(out, base, rtol=0, atol=1e-8)), diff)
    return table


def train_eval_identity():
    """Whether train- and eval-mode outputs are bit-identical, for LayerNorm and BatchNorm1d."""
    from .. import nn
    from ..tensor import Tensor

    x = Tensor(np.random.default_rng(1).standard_normal((16, 32)).astype(np.float32))
    out = {}
    for name, mod in (("layer", nn.LayerNorm(32)), ("batch", nn.BatchNorm1d(32))):
        mod.train()
        a = mod(x).data.copy()
        mod.eval()
        b = mod(x).data.copy()
        out[name] = bool(np.array_equal(a, b))
    return out


def run(ctx):
    ds = ctx.data()
    epochs = ctx.pick(2, 10)
    seeds = ctx.seeds(ctx.pick(1, 3))
    batch_sizes = (128, 4)
    n = len(ds.X_train)
    total = len(VARIANTS) * len(seeds) * epochs * sum(-(-n // b) for b in batch_sizes)
    bar = ctx.bar(total=total, desc="layer-norm")
    nll = {b: {v: [] for v in VARIANTS} for b in batch_sizes}
    stale = {b: {v: [] for v in VARIANTS} for b in batch_sizes}  # eval mode, running averages
    err = {b: {v: [] for v in VARIANTS} for b in batch_sizes}
    sizes = [ds.n_features, 256, 256, ds.num_classes]
    for bs in batch_sizes:
        for v in VARIANTS:
            for seed in seeds:
                bar.set_postfix_str(f"batch {bs}, {v}, seed {seed}")
                rng = C.seed_all(seed)
                model = C.mlp(sizes, "relu", norm=None if v == "none" else v)
                opt = C.adam(model, 1e-3)
                curve, lagging = [], []
                for _ in range(epochs):
                    for idx in C.epoch_batches(rng, n, bs):
                        C.train_step(model, opt, ds.X_train[idx], ds.y_train[idx])
                    bar.update(-(-n // bs))
                    # batch norm by the training set's own statistics: the running averages
                    # lag the weights by ~10 updates (momentum 0.1), which at batch 128 is most
                    # of the first epoch (see common.evaluate_batch_stats)
                    curve.append(C.evaluate_batch_stats(model, ds.X_train, ds.y_train)[0])
                    lagging.append(C.evaluate(model, ds.X_train, ds.y_train)[0])
                nll[bs][v].append(curve)
                stale[bs][v].append(lagging)
                err[bs][v].append(1.0 - C.evaluate(model, ds.X_test, ds.y_test)[1])
    ctx.close_bar()
    table = invariance_table(ctx.seed)
    same = train_eval_identity()
    _plot(ctx, nll, table, epochs, len(seeds))

    nll1 = {b: {v: float(np.mean([c[0] for c in nll[b][v]])) for v in VARIANTS}
            for b in batch_sizes}
    stale1 = {b: float(np.mean([c[0] for c in stale[b]["batch"]])) for b in batch_sizes}
    nllT = {b: {v: float(np.mean([c[-1] for c in nll[b][v]])) for v in VARIANTS}
            for b in batch_sizes}
    errT = {b: {v: float(np.mean(err[b][v])) for v in VARIANTS} for b in batch_sizes}
    mismatches = [(k, p) for k in PAPER for p, want in zip(PERTURBATIONS, PAPER[k])
                  if table[k][p][0] != want]
    checks = [
        Check(f"layer norm converges faster at batch {b}", nll1[b]["layer"] < nll1[b]["batch"],
              nll1[b], "training cross-entropy after epoch 1, batch norm by the training set's "
              "statistics: LN < BN") for b in batch_sizes
    ] + [
        Check("batch norm's running averages lag after epoch 1 (eval-mode loss)",
              all(stale1[b] > nll1[b]["batch"] for b in batch_sizes),
              {"eval mode": stale1, "own statistics": {b: nll1[b]["batch"] for b in batch_sizes}},
              "reported only: batch norm's training loss in eval mode (running averages) vs by "
              "the set's own statistics", gating=False),
        Check("layer norm computes the same in training and evaluation", same["layer"], same,
              "LayerNorm train-mode output == eval-mode output, bit for bit"),
        Check("Table 1 (invariances of batch, weight and layer norm) holds exactly",
              not mismatches, {"mismatches": mismatches},
              "every cell equal to the paper's (invariant: max |diff| <= 1e-8)"),
        Check("batch norm differs between training and evaluation", not same["batch"],
              same["batch"], "reported only", gating=False),
    ]

    bn4, bn128 = errT[4]["batch"], errT[128]["batch"]
    if bn4 <= bn128 + 0.02:
        robust = (f"Batch 4 is not small enough to hurt batch norm here (test error "
                  f"{100 * bn4:.1f}% at 4 vs {100 * bn128:.1f}% at 128), so the paper's "
                  f"robustness claim shows at batch 2, in the batch-size experiment.")
    else:
        robust = (f"Batch norm's test error rose from {100 * bn128:.1f}% at batch 128 to "
                  f"{100 * bn4:.1f}% at 4, layer norm's went from {100 * errT[128]['layer']:.1f}% "
                  f"to {100 * errT[4]['layer']:.1f}%.")

    faster = [b for b in batch_sizes if nll1[b]["layer"] < nll1[b]["batch"]]
    where = ("at both batch sizes" if len(faster) == len(batch_sizes) else
             "at neither batch size" if not faster else
             f"at batch {faster[0]} only")

    def fmt(b):
        return ", ".join(f"{v} {nll1[b][v]:.3f}" for v in VARIANTS)
    verdict = (
        f"Training cross-entropy after epoch 1 ({len(seeds)} seed"
        f"{'s' if len(seeds) > 1 else ''}, Adam 1e-3; batch norm by the training set's own "
        f"statistics): at batch 128 {fmt(128)}; at batch 4 {fmt(4)} (in eval mode, with "
        f"running averages that still lag the weights, batch norm's read "
        f"{stale1[128]:.3f} and {stale1[4]:.3f}). After {epochs} epochs: batch 128 "
        f"{', '.join(f'{v} {nllT[128][v]:.3f}' for v in VARIANTS)} (test error "
        f"{', '.join(f'{v} {100 * errT[128][v]:.1f}%' for v in VARIANTS)}); batch 4 "
        f"{', '.join(f'{v} {nllT[4][v]:.3f}' for v in VARIANTS)} (test error "
        f"{', '.join(f'{v} {100 * errT[4][v]:.1f}%' for v in VARIANTS)}). Layer norm "
        f"converged faster than batch norm {where}"
        f"; its train- and eval-mode outputs are bit-identical "
        f"({'yes' if same['layer'] else 'NO'}; batch norm's "
        f"{'are not' if not same['batch'] else 'are'}). Table 1: "
        f"{18 - len(mismatches)}/18 cells of the batch, weight and layer norm rows reproduce "
        f"exactly{'' if not mismatches else ' (mismatches: ' + str(mismatches) + ')'}. "
        f"{robust}")
    config = {"sizes": sizes, "norm_position": "before ReLU, hidden layers only",
              "optimizer": "Adam", "lr": 1e-3, "batch_sizes": list(batch_sizes),
              "epochs": epochs, "seeds": seeds, "invariance_layer": "N, H, D = 8, 6, 5; float64; "
                                                                    "eps 1e-12"}
    results = {"train_nll": nll, "train_nll_epoch1": nll1, "train_nll_final": nllT,
               "train_nll_eval_mode": stale, "batch_norm_eval_mode_epoch1": stale1,
               "test_error_final": errT, "test_error": err,
               "invariance": {k: {p: {"invariant": v[0], "max_abs_diff": v[1], "paper": want}
                                  for (p, v), want in zip(table[k].items(), PAPER[k])}
                              for k in table},
               "train_equals_eval": same}
    return Outcome(results, checks, verdict, config)


def _plot(ctx, nll, table, epochs, nseeds):
    fig = ctx.figure(figsize=(17, 4.6))
    gs = fig.add_gridspec(1, 7)
    colors = {"none": "tab:red", "batch": "tab:blue", "layer": "tab:green"}
    ep = np.arange(1, epochs + 1)
    for i, (bs, d) in enumerate(nll.items()):
        ax = fig.add_subplot(gs[0, 2 * i:2 * i + 2])
        for v, curves in d.items():
            ax.plot(ep, np.mean(curves, axis=0), "o-", ms=3, color=colors[v],
                    label={"none": "no norm", "batch": "BN", "layer": "LN"}[v])
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training cross-entropy (BN: the set's statistics)")
        ax.set_title(f"batch {bs} ({nseeds} seed(s), Adam 1e-3)", fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend()
    ax = fig.add_subplot(gs[0, 4:])
    ax.axis("off")
    cells, colours = [], []
    for kind in ("batch", "weight", "layer"):
        row, crow = [], []
        for p, want in zip(PERTURBATIONS, PAPER[kind]):
            got, diff = table[kind][p]
            row.append(("yes" if got else "no") + f"\n{diff:.0e}")
            crow.append("#c7e9c0" if got == want else "#fcbba1")
        cells.append(row)
        colours.append(crow)
    t = ax.table(cellText=cells, cellColours=colours,
                 rowLabels=["batch norm", "weight norm", "layer norm"],
                 colLabels=[p.replace(" ", "\n", 1) for p in PERTURBATIONS], loc="center",
                 cellLoc="center")
    t.auto_set_font_size(False)
    t.set_fontsize(8)
    t.scale(1.0, 3.0)
    ax.set_title("Table 1, measured: invariant? (max |change|); green = as in the paper",
                 fontsize=10)
    fig.suptitle("Layer norm vs batch norm (Ba et al. 2016): 64-256-256-10 ReLU MLP, and the "
                 "invariance table")
    ctx.save(fig)
