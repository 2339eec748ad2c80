"""Loss and accuracy curves of a training history, written as a PNG.

Draws on a bare ``matplotlib.figure.Figure`` with the Agg canvas: no display is needed, and
pyplot's global backend (what a notebook shows) is left alone.
"""
from __future__ import annotations

import os

__all__ = ["plot_history"]


def plot_history(history, path, title=None):
    """Write the curves of ``history`` (as returned by ``training.fit``) to the PNG ``path``.

    Left: train and test loss per epoch; right: train and test accuracy. Test curves are drawn
    only where the history has them. Returns ``path``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    epochs = list(history["epoch"])
    if not epochs:
        raise ValueError("plot_history: the history has no epoch")
    fig = Figure(figsize=(10, 4), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax_loss, ax_acc = fig.subplots(1, 2)
    for ax, key, label in ((ax_loss, "loss", "cross-entropy loss"), (ax_acc, "acc", "accuracy")):
        ax.plot(epochs, history[f"train_{key}"], marker="o", ms=3, label="train")
        test = history.get(f"test_{key}") or []
        if test and all(v is not None for v in test):
            ax.plot(epochs, test, marker="o", ms=3, label="test")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend()
    if len(epochs) < 15:
        for ax in (ax_loss, ax_acc):
            ax.set_xticks(epochs)
    if title:
        fig.suptitle(title)
    fig.savefig(os.fspath(path), format="png")
    return path
