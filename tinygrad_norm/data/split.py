"""A seeded shuffle split of arrays, optionally stratified (scikit-learn's ``train_test_split``)."""
from __future__ import annotations

import math
import numbers

import numpy as np

from ._checks import _check_bool, _check_seed, _make_rng

__all__ = ["train_test_split"]


def _n_test(test_size, n):
    if isinstance(test_size, (bool, np.bool_)):
        raise TypeError("test_size must be a float in (0, 1) or an int count, got a bool")
    if isinstance(test_size, numbers.Integral):
        if not 1 <= test_size <= n - 1:
            raise ValueError(f"test_size={test_size} as a count must be between 1 and "
                             f"n_samples - 1 = {n - 1}")
        return int(test_size)
    if isinstance(test_size, numbers.Real):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"test_size={test_size} as a fraction must be in (0, 1)")
        n_test = math.ceil(test_size * n)  # as scikit-learn: the test side rounds up
        if n_test >= n:
            raise ValueError(f"test_size={test_size} of {n} samples leaves no training sample")
        return n_test
    raise TypeError(f"test_size must be a float in (0, 1) or an int count, "
                    f"got {type(test_size).__name__}")


def _stratified_test_counts(counts, n_test, rng):
    """Split n_test over the classes in proportion to their sizes (largest remainder)."""
    exact = counts * (n_test / counts.sum())
    take = np.floor(exact).astype(np.int64)
    left = n_test - int(take.sum())
    if left:
        # Largest fractional parts first; ties broken at random so no class is favoured.
        frac = exact - take
        order = np.lexsort((rng.permutation(len(counts)), -frac))
        take[order[:left]] += 1
    return take


def train_test_split(X, y, test_size=0.25, seed=None, stratify=False):
    """Shuffle and split ``X`` and ``y`` (paired by their first axis) into train and test parts.

    ``test_size`` is a fraction in (0, 1) (the test part gets ``ceil(test_size * n)`` samples,
    as in scikit-learn) or an int count. With ``stratify=True`` every class of ``y`` is split in
    the same proportion. ``seed``: an int (or Generator) for a reproducible split; None draws
    from the framework generator (``tinygrad_norm.manual_seed``).

    Returns ``X_train, X_test, y_train, y_test`` (NumPy arrays, rows in shuffled order).
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError("X and y must be arrays with samples along the first axis, "
                         f"got shapes {X.shape} and {y.shape}")
    n = X.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"X and y must have the same number of samples: X has {n}, "
                         f"y has {y.shape[0]}")
    if n < 2:
        raise ValueError(f"need at least 2 samples to split, got {n}")
    n_test = _n_test(test_size, n)
    stratify = _check_bool(stratify, "stratify")
    rng = _make_rng(_check_seed(seed))

    if not stratify:
        perm = rng.permutation(n)
        test_idx, train_idx = perm[:n_test], perm[n_test:]
    else:
        if y.ndim != 1:
            raise ValueError(f"stratify=True needs 1-D class labels y, got shape {y.shape}")
        classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
        take = _stratified_test_counts(counts, n_test, rng)
        by_class = np.argsort(inverse, kind="stable")  # sample indices grouped by class
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        test_parts, train_parts = [], []
        for start, count, k in zip(starts, counts, take):
            members = rng.permutation(by_class[start:start + count])
            test_parts.append(members[:k])
            train_parts.append(members[k:])
        test_idx = rng.permutation(np.concatenate(test_parts))
        train_idx = rng.permutation(np.concatenate(train_parts))
    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]
