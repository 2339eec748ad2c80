"""Bias and variance: the expected test error of models of growing capacity, decomposed.

Setup. The truth is ``f(x) = sin(3x) + x^2 / 2`` on ``[-1, 1]``; a training set is ``n = 40``
points ``x ~ U(-1, 1)`` with ``y = f(x) + e``, ``e ~ N(0, 0.3^2)``. The models are polynomials of
degree ``d = 0 .. 10`` (capacity = ``d + 1`` weights) on the orthonormal Legendre basis, fitted
by least squares. ``R`` training sets are drawn afresh (resamples); every fit predicts on a grid
of test points. At each test point ``x``:

* ``bias^2(x) = (E[f_hat(x)] - f(x))^2`` -- how far the *average* fit is from the truth;
* ``variance(x) = E[(f_hat(x) - E[f_hat(x)])^2]`` -- how much the fit moves between training sets;
* ``noise = 0.3^2`` -- the error that no model can remove,

and the expected squared error on a fresh noisy label is exactly their sum. The run checks that
identity against an independent estimate (fresh noisy test labels), and reports where the test
error bottoms out.

The fit uses the tape. The loss is quadratic in the weights, so one Newton step from zero is
exact: its gradient comes from ``backward()``, and the Hessian's columns are gradient
*differences* along the unit vectors (the gradient is linear), computed for all resamples and
columns at once as one batched backward pass. The gradient at the fit is then checked to be ~0.
(Gradient descent would not do here: at degree 10 with 40 points the Gram matrix's condition
number reaches 1e5 and more, and a finite number of steps would shrink precisely the variance
that is being measured.)
"""
from __future__ import annotations

import numpy as np

from .runner import Check, Outcome

NOISE = 0.3
N_TRAIN = 40


def truth(x):
    return np.sin(3.0 * x) + 0.5 * x ** 2


def features(x, degree):
    """Orthonormal Legendre features (unit variance under U(-1, 1)): well-scaled columns."""
    from numpy.polynomial import legendre

    return legendre.legvander(x, degree) * np.sqrt(2.0 * np.arange(degree + 1) + 1.0)


def newton_fit(V, y):
    """Least-squares weights for every resample: ``V`` (R, n, k), ``y`` (R, n) -> (R, k).

    The MSE ``L(w) = mean((V w - y)^2)`` has gradient ``g(w) = 2/n V^T (V w - y)``, linear in w,
    so column j of the Hessian is ``g(e_j) - g(0)``. One backward pass over a (R, k + 1, k)
    stack of weight vectors (zero, then the unit vectors) gives g(0) and every column; then
    ``w = -H^{-1} g(0)``. Returns the weights and the largest |gradient| at them (from the tape).
    """
    from ..tensor import Tensor

    R, n, k = V.shape
    probe = np.concatenate([np.zeros((1, k)), np.eye(k)])  # (k + 1, k)
    W = Tensor(np.broadcast_to(probe, (R, k + 1, k)).copy(), requires_grad=True)
    Vt, yt = Tensor(V), Tensor(y[:, :, None])
    resid = Vt @ W.transpose(0, 2, 1) - yt  # (R, n, k + 1): one column per probe vector
    ((resid * resid).mean(axis=1)).sum().backward()  # the sum of the R * (k + 1) losses
    G = W.grad.data
    g0 = G[:, 0, :]
    H = (G[:, 1:, :] - g0[:, None, :]).transpose(0, 2, 1)
    w = np.linalg.solve(H, -g0[..., None])[..., 0]
    # the gradient at the fit, from the tape again
    wt = Tensor(w[:, :, None], requires_grad=True)
    r = Vt @ wt - yt
    ((r * r).mean(axis=1)).sum().backward()
    return w, float(np.abs(wt.grad.data).max())


def run(ctx):
    R = ctx.pick(300, 4000)
    degrees = list(range(0, 11))
    n_test = 201
    rng = np.random.default_rng(ctx.seed)
    x_test = np.linspace(-1.0, 1.0, n_test)
    f_test = truth(x_test)
    # one set of training inputs and noises for every degree: the degrees see the same data
    x_train = rng.uniform(-1.0, 1.0, (R, N_TRAIN))
    y_train = truth(x_train) + NOISE * rng.standard_normal((R, N_TRAIN))
    y_fresh = f_test + NOISE * rng.standard_normal((R, n_test))  # fresh noisy test labels

    rows = []
    examples = {}
    bar = ctx.bar(total=len(degrees), desc="bias-variance", unit="degree")
    for d in degrees:
        V = features(x_train, d)
        w, grad_at_fit = newton_fit(V, y_train)
        pred = features(x_test, d) @ w.T  # (n_test, R)
        pred = pred.T  # (R, n_test)
        mean_pred = pred.mean(axis=0)
        # E[(mean of R fits - f)^2] = bias^2 + variance / R: the plain estimate of bias^2 is
        # inflated by variance / R (visible at high degree); subtract it for an unbiased one.
        # With the unbiased variance (ddof=1), bias^2 + variance is unchanged.
        variance = float(np.mean(pred.var(axis=0, ddof=1)))
        bias2_plain = float(np.mean((mean_pred - f_test) ** 2))
        bias2 = bias2_plain - variance / R
        test_err = float(np.mean((pred - y_fresh) ** 2))
        # how heavy the tail is: the share of the variance due to the 1% most deviant fits
        dev = np.mean((pred - mean_pred) ** 2, axis=1)
        top = np.sort(dev)[::-1][:max(1, R // 100)]
        top_share = float(top.sum() / dev.sum())
        train_err = float(np.mean((np.einsum("rnk,rk->rn", V, w) - y_train) ** 2))
        # the largest deviation of the Newton fit from NumPy's least squares, for the record
        ls = np.linalg.lstsq(V[0], y_train[0], rcond=None)[0]
        rows.append({"degree": d, "parameters": d + 1, "bias2": bias2,
                     "bias2_uncorrected": bias2_plain, "variance": variance,
                     "noise": NOISE ** 2, "sum": bias2 + variance + NOISE ** 2,
                     "test_error": test_err, "train_error": train_err,
                     "variance_share_of_top_1pct_fits": top_share,
                     "max_grad_at_fit": grad_at_fit,
                     "max_abs_diff_vs_lstsq_resample0": float(np.abs(ls - w[0]).max())})
        examples[d] = pred[:12]
        bar.update(1)
    ctx.close_bar()

    errs = np.array([r["sum"] for r in rows])
    tests = np.array([r["test_error"] for r in rows])
    best = int(np.argmin(errs))
    best_deg = degrees[best]
    b2 = np.array([r["bias2"] for r in rows])
    var = np.array([r["variance"] for r in rows])
    rel_gap = np.abs(tests - errs) / errs
    train = np.array([r["train_error"] for r in rows])
    monotone = bool(np.all(np.diff(train) <= 1e-12))
    _plot(ctx, degrees, rows, best_deg, x_test, f_test, examples, x_train, y_train)

    checks = [
        Check("decomposition adds up: bias^2 + variance + noise = test error",
              bool(rel_gap.max() < 0.05), float(rel_gap.max()),
              "relative difference < 5% at every degree (fresh noisy test labels)"),
        Check("the test error is U-shaped", 0 < best < len(degrees) - 1
              and errs[0] > 1.5 * errs[best] and errs[-1] > 1.5 * errs[best],
              {"best_degree": best_deg, "error_at_0": errs[0], "min": errs[best],
               "error_at_max": errs[-1]},
              "minimum at an interior degree, both ends >= 1.5x the minimum"),
        Check("bias^2 falls with capacity", bool(b2[best:].max() < 0.1 * b2[0]),
              {"bias2_degree0": b2[0], "max_bias2_from_best": float(b2[best:].max())},
              "bias^2 from the best degree on < 10% of the degree-0 value"),
        Check("variance grows with capacity", bool(var[-1] > 10 * var[1]),
              {"variance_degree1": var[1], "variance_max_degree": var[-1]},
              "variance at the largest degree > 10x that of a straight line"),
        Check("the fits are exact least-squares solutions",
              bool(max(r["max_grad_at_fit"] for r in rows) < 1e-6),
              max(r["max_grad_at_fit"] for r in rows), "max |gradient| at the fit < 1e-6",
              gating=False),
    ]
    results = {"rows": rows, "best_degree": best_deg, "best_error": float(errs[best]),
               "resamples": R, "n_train": N_TRAIN, "noise_var": NOISE ** 2}
    verdict = (
        f"Over {R} resamples of {N_TRAIN} noisy points, the expected test error fell from "
        f"{errs[0]:.3f} (degree 0, bias^2 {b2[0]:.3f}) to a minimum of {errs[best]:.3f} at "
        f"degree {best_deg} (bias^2 {b2[best]:.4f}, variance {var[best]:.4f}, noise "
        f"{NOISE ** 2:.2f}) and rose again to {errs[-1]:.2f} at degree {degrees[-1]}, where "
        f"variance ({var[-1]:.2f}) is {var[-1] / var[1]:.0f}x that of a straight line "
        f"({rows[-1]['variance_share_of_top_1pct_fits']:.0%} of it from the 1% most deviant "
        f"fits: a heavy tail, so this number grows with the number of resamples). "
        f"bias^2 + variance + noise matched the error measured on fresh noisy labels to "
        f"within {rel_gap.max():.1%} at every degree. Training error "
        f"{'fell monotonically' if monotone else 'fell (not monotonically)'} with the degree, "
        f"to {rows[-1]['train_error']:.3f} at degree {degrees[-1]}, below the noise "
        f"{NOISE ** 2:.2f}: the high-degree fits chase the noise.")
    config = {"truth": "sin(3x) + x^2/2 on [-1, 1]", "n_train": N_TRAIN, "noise_std": NOISE,
              "degrees": degrees, "resamples": R, "test_points": n_test,
              "basis": "orthonormal Legendre",
              "fit": "least squares by one Newton step on tape gradients"}
    return Outcome(results, checks, verdict, config)


def _plot(ctx, degrees, rows, best_deg, x_test, f_test, examples, x_train, y_train):
    fig = ctx.figure(figsize=(15, 4.6))
    ax, *fits = fig.subplots(1, 4)
    get = lambda k: np.array([r[k] for r in rows])  # noqa: E731
    ax.plot(degrees, np.maximum(get("bias2"), 1e-6), "o-", label="bias$^2$")
    ax.plot(degrees, get("variance"), "s-", label="variance")
    ax.plot(degrees, get("noise"), "--", color="gray", label="noise")
    ax.plot(degrees, get("sum"), "k-", lw=2, label="bias$^2$ + variance + noise")
    ax.plot(degrees, get("test_error"), "x", color="tab:red", ms=8,
            label="test error (fresh labels)")
    ax.plot(degrees, get("train_error"), ":", color="tab:green", label="training error")
    ax.axvline(best_deg, color="k", lw=0.6, ls=":")
    ax.set_yscale("log")
    ax.set_xlabel("polynomial degree (capacity)")
    ax.set_ylabel("mean squared error")
    ax.set_title(f"expected test error bottoms out at degree {best_deg}", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    for axf, d in zip(fits, (1, best_deg, degrees[-1])):
        for p in examples[d]:
            axf.plot(x_test, p, color="tab:blue", lw=0.6, alpha=0.5)
        axf.plot(x_test, examples[d].mean(axis=0) * 0 + np.nan, color="tab:blue", lw=0.6,
                 label="fits to 12 resamples")
        axf.plot(x_test, f_test, "k-", lw=2, label="truth f(x)")
        axf.plot(x_train[0], y_train[0], ".", color="tab:red", ms=4, label="one training set")
        axf.set_ylim(-2.0, 2.5)
        axf.set_title(f"degree {d}", fontsize=10)
        axf.set_xlabel("x")
        axf.grid(True, alpha=0.3)
    fits[0].legend(fontsize=8, loc="upper left")
    fig.suptitle("Bias and variance of least-squares polynomials (n = 40, noise std 0.3)")
    ctx.save(fig)
