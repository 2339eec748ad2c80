"""Feature scaling: a price in won and a waiting time in minutes, fitted by gradient descent.

Setup. ``n`` restaurant visits with two features of very different scale -- the price of the
meal in won (log-normal, median 12,000 won) and the waiting time in minutes (gamma, mean 16
min) -- and a satisfaction score ``y = 9 - 1e-4 * price - 0.05 * wait + noise``: both features
move the score by a few points. A linear model ``y_hat = x @ w + b`` is fitted to the mean
squared error by full-batch gradient descent on the tape, with

* raw inputs,
* min-max-scaled inputs (``data.MinMaxScaler``, each feature to [0, 1]),
* standardized inputs (``data.StandardScaler``, mean 0, std 1).

Each run uses the step size ``1 / lambda_max`` of its own loss's Hessian (the largest curvature
``lambda_max`` is what bounds a stable step; ``2 / lambda_max`` diverges), so no variant is
handicapped by a badly tuned learning rate. A run has converged when its excess loss ``L - L*``
is below ``1e-6`` of its initial excess loss (``L*`` is the least-squares optimum).

Why the raw run crawls. The Hessian of the MSE is ``2/n * A.T @ A`` with ``A = [price, wait,
1]``: its curvature along the price weight is ~1e5-1e6 times that along the waiting-time weight.
The step must be small enough for the price (``1 / lambda_max`` ~ 1e-9), and along the
waiting-time weight that step moves nothing: the large feature swamps the small one. Scaling
makes both curvatures comparable; standardizing also centres the features, which decouples
them from the intercept, and converges fastest.

The figure shows the loss contours of each variant in its own weight plane (intercept at its
best value for each pair of weights, axes with equal scale) with the gradient-descent path, and
the excess loss against the step.
"""
from __future__ import annotations

import math

import numpy as np

from .runner import Check, Outcome

TRUE_W = (-1.0e-4, -0.05)  # score points per won, per minute
TRUE_B = 9.0
NOISE = 0.5
TOL = 1e-6


def make_data(n, rng):
    price = np.round(np.exp(rng.normal(math.log(12000.0), 0.5, n)), -2)  # won, to 100 won
    wait = np.round(rng.gamma(2.0, 8.0, n), 1)  # minutes
    X = np.stack([price, wait], axis=1)
    y = TRUE_B + X @ np.array(TRUE_W) + rng.normal(0.0, NOISE, n)
    return X, y


def _design(X):
    return np.concatenate([X, np.ones((len(X), 1))], axis=1)


def _optimum(X, y):
    """Least-squares weights, intercept and loss (float64, via lstsq)."""
    A = _design(X)
    sol = np.linalg.lstsq(A, y, rcond=None)[0]
    loss = float(np.mean((A @ sol - y) ** 2))
    return sol[:2], float(sol[2]), loss


def gradient_descent(X, y, lr, max_steps, tol_loss, bar=None, chunk=200):
    """Full-batch GD from zero weights on the tape; returns the path and the loss per step.

    Stops at the first step whose loss is at or below ``tol_loss``. ``path`` holds the weights
    (and intercept) before every step and after the last."""
    from ..tensor import Tensor

    Xt, yt = Tensor(X), Tensor(y)
    w = Tensor(np.zeros(2), requires_grad=True)
    b = Tensor(np.zeros(()), requires_grad=True)
    losses, path = [], []
    steps_done = 0
    converged_at = None
    for step in range(max_steps + 1):
        path.append((*w.data.tolist(), float(b.data)))
        pred = Xt @ w + b
        loss = ((pred - yt) ** 2).mean()
        value = float(loss.item())
        losses.append(value)
        if value <= tol_loss:
            converged_at = step
            break
        if step == max_steps or not math.isfinite(value):
            break
        w.grad = None
        b.grad = None
        loss.backward()
        w.data -= lr * w.grad.data
        b.data -= lr * b.grad.data
        steps_done += 1
        if bar is not None and steps_done % chunk == 0:
            bar.update(chunk)
    if bar is not None:
        bar.update(steps_done % chunk)
    return np.array(path), np.array(losses), converged_at, steps_done


def _initial_gradient(X, y):
    """Gradient of the MSE at zero weights with respect to (w_price, w_wait), on the tape."""
    from ..tensor import Tensor

    w = Tensor(np.zeros(2), requires_grad=True)
    loss = ((Tensor(X) @ w - Tensor(y)) ** 2).mean()
    loss.backward()
    return w.grad.data.copy()


def run(ctx):
    from ..data import MinMaxScaler, StandardScaler

    n = ctx.pick(200, 200)
    max_steps = ctx.pick(3000, 20000)
    rng = np.random.default_rng(ctx.seed)
    X, y = make_data(n, rng)

    scalers = {"raw": None, "min-max": MinMaxScaler(), "standardized": StandardScaler()}
    variants = {}
    bar = ctx.bar(total=max_steps * len(scalers), desc="feature-scaling")
    for name, scaler in scalers.items():
        Xs = X if scaler is None else scaler.fit_transform(X)
        Xs = np.asarray(Xs, dtype=np.float64)
        A = _design(Xs)
        hess = 2.0 / n * A.T @ A
        eig = np.linalg.eigvalsh(hess)
        lr = 1.0 / eig[-1]
        w_opt, b_opt, loss_opt = _optimum(Xs, y)
        loss0 = float(np.mean(y ** 2))
        tol_loss = loss_opt + TOL * (loss0 - loss_opt)
        bar.set_postfix_str(name)
        path, losses, conv, steps = gradient_descent(Xs, y, lr, max_steps, tol_loss, bar)
        bar.update(max_steps - steps)
        # progress of each weight from 0 toward its optimum, in the variant's own units
        w_end = path[-1][:2]
        progress = (w_end / w_opt).tolist()
        # the weights in raw units (score per won, per minute) for a like-for-like report
        if scaler is None:
            to_raw = np.ones(2)
        elif name == "min-max":
            to_raw = 1.0 / (scaler.data_max_ - scaler.data_min_)
        else:
            to_raw = 1.0 / scaler.scale_
        variants[name] = {
            "lr": lr, "hessian_eigenvalues": eig.tolist(),
            "condition_number": float(eig[-1] / eig[0]),
            "curvature_ratio_price_to_wait": float(hess[0, 0] / hess[1, 1]),
            "initial_gradient": _initial_gradient(Xs, y).tolist(),
            "converged": conv is not None, "steps_to_converge": conv, "steps_run": steps,
            "loss_optimum": loss_opt, "loss_initial": losses[0], "loss_final": losses[-1],
            "excess_fraction_final": (losses[-1] - loss_opt) / (losses[0] - loss_opt),
            "w_optimum": w_opt.tolist(), "b_optimum": b_opt, "w_final": w_end.tolist(),
            "w_progress": progress, "b_final": float(path[-1][2]),
            "b_progress": float(path[-1][2] / b_opt),
            "w_final_raw_units": (w_end * to_raw).tolist(),
            "w_optimum_raw_units": (w_opt * to_raw).tolist(),
            "_path": path, "_losses": losses, "_X": Xs,
        }
    ctx.close_bar()

    _plot(ctx, variants, y)

    raw, mm, st = variants["raw"], variants["min-max"], variants["standardized"]
    g = raw["initial_gradient"]
    grad_ratio = abs(g[0]) / max(abs(g[1]), 1e-300)

    def steps_or_cap(v):
        return v["steps_to_converge"] if v["converged"] else v["steps_run"]

    checks = [
        Check("standardized inputs converge", st["converged"], st["steps_to_converge"],
              f"excess loss <= {TOL:g} of the initial within {max_steps} steps"),
        Check("min-max-scaled inputs converge", mm["converged"], mm["steps_to_converge"],
              f"excess loss <= {TOL:g} of the initial within {max_steps} steps"),
        Check("raw inputs need >= 10x the steps of standardized ones",
              (not raw["converged"])
              or (st["converged"] and raw["steps_to_converge"] >= 10 * st["steps_to_converge"]),
              steps_or_cap(raw), "not converged, or >= 10x the standardized step count"),
        Check("on raw inputs the waiting-time weight is swamped",
              abs(raw["w_progress"][1]) < 0.5, raw["w_progress"][1],
              "waiting-time weight covers < 50% of the way to its optimum"),
    ]
    results = {"n_samples": n, "max_steps": max_steps, "tolerance": TOL,
               "true_weights": list(TRUE_W), "true_intercept": TRUE_B, "noise_std": NOISE,
               "feature_ranges": {"price_won": [float(X[:, 0].min()), float(X[:, 0].max())],
                                  "wait_min": [float(X[:, 1].min()), float(X[:, 1].max())]},
               "raw_initial_gradient_ratio_price_to_wait": grad_ratio,
               "variants": {k: {kk: vv for kk, vv in v.items() if not kk.startswith("_")}
                            for k, v in variants.items()}}

    def fmt_steps(v):
        return f"{v['steps_to_converge']:,} steps" if v["converged"] else \
            f"did not converge in {v['steps_run']:,} steps"

    verdict = (
        f"With step size 1/lambda_max for each variant, standardized inputs converged in "
        f"{fmt_steps(st)}, min-max-scaled inputs in {fmt_steps(mm)}, and raw inputs "
        f"{fmt_steps(raw)} (excess loss still {raw['excess_fraction_final']:.1%} of its "
        f"initial value). On raw inputs the curvature along the price weight is "
        f"{raw['curvature_ratio_price_to_wait']:.1e}x that along the waiting-time weight and "
        f"its initial gradient {grad_ratio:.1e}x larger, so the step that the price allows "
        f"(1/lambda_max = {raw['lr']:.1e}) leaves the waiting-time weight and the intercept "
        f"almost where they started: after {raw['steps_run']:,} steps the waiting-time weight "
        f"is at "
        f"{raw['w_final'][1]:.4f} per minute (optimum {raw['w_optimum'][1]:.4f}, "
        f"{raw['w_progress'][1]:.1%} of the way) and the intercept at {raw['b_final']:.3f} "
        f"(optimum {raw['b_optimum']:.2f}), while the price weight alone absorbed the fit "
        f"({raw['w_final'][0]:.2e} per won, optimum {raw['w_optimum'][0]:.2e})"
        f"{': the large feature swamps the small one' if checks[3].passed else ''}. "
        f"Condition numbers: raw {raw['condition_number']:.1e}, min-max "
        f"{mm['condition_number']:.1f}, standardized {st['condition_number']:.1f}.")
    config = {"n_samples": n, "max_steps": max_steps, "tolerance": TOL,
              "step_size": "1 / lambda_max of each variant's Hessian", "init": "zeros"}
    return Outcome(results, checks, verdict, config)


def _reduced_loss_grid(X, y, w1, w2):
    """MSE on a grid of (w1, w2) with the intercept at its best value for each pair."""
    Xc = X - X.mean(0)
    yc = y - y.mean()
    W1, W2 = np.meshgrid(w1, w2)
    r = yc[None, None, :] - (W1[..., None] * Xc[:, 0] + W2[..., None] * Xc[:, 1])
    return W1, W2, np.mean(r ** 2, axis=-1)


def _plot(ctx, variants, y):
    from matplotlib.colors import LogNorm

    fig = ctx.figure(figsize=(17, 4.4))
    axes = fig.subplots(1, 4)
    units = {"raw": ("w_price (per won)", "w_wait (per minute)"),
             "min-max": ("w_price (per range)", "w_wait (per range)"),
             "standardized": ("w_price (per std)", "w_wait (per std)")}
    for ax, (name, v) in zip(axes[:3], variants.items()):
        w_opt = np.array(v["w_optimum"])
        path = v["_path"]
        R = 1.1 * max(np.abs(path[:, :2] - w_opt).max(), 1e-12)
        w1 = np.linspace(w_opt[0] - R, w_opt[0] + R, 241)
        w2 = np.linspace(w_opt[1] - R, w_opt[1] + R, 241)
        W1, W2, Z = _reduced_loss_grid(v["_X"], y, w1, w2)
        zmin = max(v["loss_optimum"] * 0.999, 1e-12)
        levels = np.geomspace(zmin * 1.02, max(Z.max(), zmin * 10), 18)
        ax.contour(W1, W2, Z, levels=levels, norm=LogNorm(), cmap="viridis", linewidths=0.8)
        ax.plot(path[:, 0], path[:, 1], "-", color="tab:red", lw=1.2, label="GD path")
        ax.plot(path[:1, 0], path[:1, 1], "o", color="tab:red", ms=4)
        ax.plot([w_opt[0]], [w_opt[1]], "*", color="k", ms=10, label="optimum")
        ax.set_xlim(w1[0], w1[-1])
        ax.set_ylim(w2[0], w2[-1])
        ax.set_aspect("equal")
        steps = (f"converged in {v['steps_to_converge']:,} steps" if v["converged"]
                 else f"not converged in {v['steps_run']:,} steps")
        ax.set_title(f"{name}: {steps}", fontsize=10)
        ax.set_xlabel(units[name][0])
        ax.set_ylabel(units[name][1])
        ax.ticklabel_format(style="sci", scilimits=(-3, 3))
        ax.legend(loc="lower left", fontsize=8)
    ax = axes[3]
    for name, v in variants.items():
        excess = (v["_losses"] - v["loss_optimum"]) / (v["_losses"][0] - v["loss_optimum"])
        ax.plot(np.arange(len(excess)) + 1, np.maximum(excess, 1e-16), label=name)
    ax.axhline(TOL, color="gray", ls="--", lw=0.8, label=f"tolerance {TOL:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("step + 1")
    ax.set_ylabel("(L - L*) / (L0 - L*)")
    ax.set_title("excess loss (step size 1/lambda_max)", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.suptitle("Feature scaling: price (won) and waiting time (minutes) -> satisfaction, "
                 "gradient descent on the MSE")
    ctx.save(fig)
