"""A training loop with a progress bar, and batched evaluation.

``fit`` trains a model for some epochs and returns the metrics history; ``evaluate`` measures
loss and accuracy in eval mode without recording a graph. Nothing here draws random numbers of its
own: the data loader's shuffles, the dropout masks and the initial parameters all come from seeded
generators, so ``tinygrad_norm.manual_seed(n)`` plus a seeded ``DataLoader`` repeat a run bit for
bit (every metric except the times).
"""
from __future__ import annotations

import math
import numbers
import sys
import time

import numpy as np

from .autograd import no_grad
from .nn.module import _evaluating
from .tensor import Tensor

__all__ = ["evaluate", "fit"]

HISTORY_KEYS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "time")


def _cross_entropy(logits, target):
    from .functional import cross_entropy  # the functional package loads with the nn layers

    return cross_entropy(logits, target)


def _as_array(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _correct(logits, y):
    """How many rows of ``logits`` have their largest entry at the label ``y``: class indices,
    or class probabilities (one-hot or soft, as cross-entropy takes them) by their largest."""
    logits, y = _as_array(logits), _as_array(y)
    if y.shape == logits.shape and y.ndim >= 2:
        y = np.argmax(y, axis=1)
    return int(np.count_nonzero(np.argmax(logits, axis=1) == y))


def evaluate(model, X, y, loss_fn=None, batch_size=512):
    """Mean loss and accuracy of ``model`` on ``(X, y)``: ``{"loss": float, "acc": float}``.

    Runs in eval mode (dropout off, running statistics used) under ``no_grad``, ``batch_size``
    samples at a time; every module's own train/eval mode is restored afterwards. ``X`` (converted to
    the model's dtype) and ``y`` may be arrays or Tensors; ``loss_fn(logits, y)`` must return the
    batch mean (default: cross-entropy), so the result is the mean over all samples.
    """
    X, y = _as_array(X), _as_array(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"evaluate: X and y must be batches (a first axis of samples), got "
                         f"shapes {X.shape} and {y.shape}")
    n = X.shape[0]
    if n == 0 or y.shape[0] != n:
        raise ValueError(f"evaluate: X and y must hold the same, non-zero number of samples, got "
                         f"{n} and {y.shape[0]}")
    if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, numbers.Integral) \
            or batch_size < 1:
        raise ValueError(f"evaluate: batch_size must be a positive int, got {batch_size!r}")
    loss_fn = _cross_entropy if loss_fn is None else loss_fn
    dtype = model.dtype
    total_loss, correct = 0.0, 0
    with _evaluating(model), no_grad():
        for start in range(0, n, batch_size):
            xb = Tensor(np.asarray(X[start:start + batch_size], dtype=dtype))
            yb = Tensor(y[start:start + batch_size])
            logits = model(xb)
            total_loss += float(loss_fn(logits, yb).item()) * xb.shape[0]
            correct += _correct(logits, yb)
    return {"loss": total_loss / n, "acc": correct / n}


def _progress_bar(loader, desc, enabled):
    if not enabled:
        return None
    from tqdm import tqdm

    # a loader without a length (a generator, or a DataLoader over a stream whose dataset has
    # no __len__, whose len() is a TypeError as in PyTorch) gets a bar that counts, no total
    try:
        total = len(loader)
    except TypeError:
        total = None

    return tqdm(total=total, desc=desc, unit="batch", leave=True, dynamic_ncols=True,
                file=sys.stderr)


def fit(model, train_loader, test_data=None, optimizer=None, epochs=1, loss_fn=None,
        progress=True, log=None, eval_batch_size=512, scheduler=None):
    """Train ``model`` for ``epochs`` passes over ``train_loader``; return the metrics history.

    * ``train_loader`` yields ``(X, y)`` Tensor batches: a ``tinygrad_norm.data.DataLoader``
      over arrays, or over a dataset of ``(x, y)`` samples (``TensorDataset(X, y)``), whose
      batches are ``[X, y]`` lists as in PyTorch.
    * ``test_data``: ``(X_test, y_test)`` evaluated with ``evaluate`` after every epoch, or None.
    * ``optimizer``: anything with ``zero_grad()`` and ``step()`` over the model's parameters.
    * ``scheduler``: a learning-rate schedule (``tinygrad_norm.optim.lr_scheduler``) stepped once
      after each epoch; a ``ReduceLROnPlateau`` is stepped with the epoch's test loss (its
      training loss without ``test_data``).
    * ``loss_fn(logits, y)`` returns the batch-mean loss (default: cross-entropy).
    * ``progress``: a tqdm bar per epoch (on stderr) showing the running loss and accuracy, and
      the test accuracy once the epoch ends. ``log``: a function called with a one-line summary
      of each epoch (``print`` is handy when the bar is off).

    The history is a dict of equally long lists, one entry per epoch: ``epoch`` (1, 2, ...),
    ``train_loss`` and ``train_acc`` (averaged over the epoch's batches, weighted by batch size,
    measured in train mode as the model learns), ``test_loss`` and ``test_acc`` (eval mode, after
    the epoch; None without ``test_data``) and ``time`` (seconds of the epoch, evaluation
    included). A non-finite loss stops training with a ``FloatingPointError`` naming the epoch
    and batch.
    """
    if optimizer is None:
        raise ValueError("fit: an optimizer is required (e.g. tinygrad_norm.optim.Adam("
                         "model.parameters(), lr=1e-3))")
    if isinstance(epochs, (bool, np.bool_)) or not isinstance(epochs, numbers.Integral) \
            or epochs < 1:
        raise ValueError(f"fit: epochs must be a positive int, got {epochs!r}")
    if test_data is not None and len(test_data) != 2:
        raise ValueError("fit: test_data must be a pair (X_test, y_test) or None")
    if scheduler is not None and not callable(getattr(scheduler, "step", None)):
        raise TypeError(f"fit: scheduler must have a step() method (an lr_scheduler), got "
                        f"{type(scheduler).__name__}")
    if scheduler is not None and getattr(scheduler, "optimizer", optimizer) is not optimizer:
        raise ValueError("fit: the scheduler drives another optimizer than the one given; "
                         "build it on this optimizer")
    loss_fn = _cross_entropy if loss_fn is None else loss_fn
    history = {k: [] for k in HISTORY_KEYS}
    width = len(str(epochs))
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        model.train()
        bar = _progress_bar(train_loader, f"epoch {epoch:>{width}}/{epochs}", progress)
        total_loss, correct, seen = 0.0, 0, 0
        try:
            for batch, (xb, yb) in enumerate(train_loader, 1):
                optimizer.zero_grad()
                logits = model(xb)
                loss = loss_fn(logits, yb)
                value = float(loss.item())
                if not math.isfinite(value):
                    raise FloatingPointError(f"fit: the loss is {value} at epoch {epoch}, batch "
                                             f"{batch}; lower the learning rate")
                loss.backward()
                optimizer.step()
                n = xb.shape[0]
                total_loss += value * n
                correct += _correct(logits, yb)
                seen += n
                if bar is not None:
                    bar.set_postfix(loss=f"{total_loss / seen:.4f}",
                                    acc=f"{correct / seen:.4f}", refresh=False)
                    bar.update(1)
            if seen == 0:
                raise ValueError("fit: the training loader yielded no batch")
            metrics = {"train_loss": total_loss / seen, "train_acc": correct / seen,
                       "test_loss": None, "test_acc": None}
            if test_data is not None:
                test = evaluate(model, *test_data, loss_fn=loss_fn, batch_size=eval_batch_size)
                metrics["test_loss"], metrics["test_acc"] = test["loss"], test["acc"]
                if bar is not None:
                    bar.set_postfix(loss=f"{metrics['train_loss']:.4f}",
                                    acc=f"{metrics['train_acc']:.4f}",
                                    test_loss=f"{test['loss']:.4f}", test_acc=f"{test['acc']:.4f}",
                                    refresh=True)
        finally:
            if bar is not None:
                bar.close()
        elapsed = time.perf_counter() - start
        history["epoch"].append(epoch)
        for key, value in metrics.items():
            history[key].append(value)
        history["time"].append(elapsed)
        if log is not None:
            log(_summary_line(epoch, epochs, metrics, elapsed))
        if scheduler is not None:
            _step_schedule(scheduler, metrics)
    return history


def _step_schedule(scheduler, metrics):
    from .optim.lr_scheduler import ReduceLROnPlateau  # optim is not needed to train otherwise
    if isinstance(scheduler, ReduceLROnPlateau):
        watched = metrics["test_loss"]
        scheduler.step(metrics["train_loss"] if watched is None else watched)
    else:
        scheduler.step()


def _summary_line(epoch, epochs, m, elapsed):
    line = (f"epoch {epoch:>{len(str(epochs))}}/{epochs}  loss {m['train_loss']:.4f}  "
            f"acc {m['train_acc']:.4f}")
    if m["test_acc"] is not None:
        line += f"  test_loss {m['test_loss']:.4f}  test_acc {m['test_acc']:.4f}"
    return line + f"  ({elapsed:.2f} s)"
