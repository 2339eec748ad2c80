"""``MinMaxScaler`` and ``StandardScaler``: scikit-learn's feature scalers, on NumPy arrays."""
from __future__ import annotations

import math

import numpy as np

from ._checks import _check_bool

__all__ = ["MinMaxScaler", "NotFittedError", "StandardScaler"]


class NotFittedError(ValueError):
    """A scaler was used (``transform``/``inverse_transform``) before ``fit``.

    A ``ValueError`` subclass, so ``except ValueError`` catches it, as it catches
    scikit-learn's ``NotFittedError`` (which also subclasses ``AttributeError``; this one does
    not, so ``hasattr`` never hides it).
    """


def _as_2d(X, name, method):
    """X as a 2-D floating array: float16/32/64 kept, ints and bools become float64."""
    X = np.asarray(X)
    if X.dtype.kind in "biu":
        X = X.astype(np.float64)
    elif X.dtype.kind != "f":
        raise TypeError(f"{name}.{method}: X must hold real numbers, got dtype {X.dtype}")
    if X.ndim != 2:
        hint = (" (use X.reshape(-1, 1) for a single feature or X.reshape(1, -1) for a single "
                "sample)" if X.ndim == 1 else "")
        raise ValueError(f"{name}.{method}: expected a 2-D array of shape "
                         f"(n_samples, n_features), got shape {X.shape}{hint}")
    return X


class _Scaler:
    """Shared checks of the two scalers (fit validates before any attribute changes)."""

    def _check_fit_input(self, X):
        name = type(self).__name__
        X = _as_2d(X, name, "fit")
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(f"{name}.fit: X of shape {X.shape} has no "
                             f"{'samples' if X.shape[0] == 0 else 'features'}")
        if not np.isfinite(X).all():
            raise ValueError(f"{name}.fit: X contains NaN or infinity")
        return X

    def _check_transform_input(self, X, method):
        name = type(self).__name__
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(f"This {name} is not fitted yet: call fit(X) or "
                                 f"fit_transform(X) before {method}()")
        X = _as_2d(X, name, method)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {name} is expecting "
                             f"{self.n_features_in_} features as input")
        if X.shape[0] == 0:
            raise ValueError(f"{name}.{method}: X of shape {X.shape} has no samples")
        # NaN passes through (a missing value stays missing), as in scikit-learn; an infinity
        # would come out as inf, or as a plausible range end after clip=True
        if np.isinf(X).any():
            raise ValueError(f"{name}.{method}: X contains infinity")
        return X

    def fit_transform(self, X, y=None):
        """``fit(X)`` then ``transform(X)``; ``y`` is ignored."""
        return self.fit(X).transform(X)


class MinMaxScaler(_Scaler):
    """Scale each feature to ``feature_range``: ``X * scale_ + min_``, as scikit-learn's.

    After ``fit``: ``data_min_``, ``data_max_``, ``data_range_``, ``scale_``, ``min_`` (in X's
    float type), ``n_features_in_``, ``n_samples_seen_``. A constant feature gets a range
    of 1 (no division by zero), so it maps to ``feature_range[0]``. ``clip=True`` clips
    transformed values of unseen data into ``feature_range``. Float32 input stays float32;
    integer input becomes float64. Using it before ``fit`` raises ``NotFittedError``
    (a ``ValueError``).
    """

    def __init__(self, feature_range=(0, 1), clip=False):
        self.feature_range = feature_range
        self.clip = clip

    def _range(self):
        fr = self.feature_range
        try:
            lo, hi = fr
            lo, hi = float(lo), float(hi)
        except (TypeError, ValueError):
            raise ValueError(f"feature_range must be a pair (min, max) of numbers, "
                             f"got {fr!r}") from None
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
            raise ValueError(f"feature_range: the minimum must be smaller than the maximum "
                             f"and both finite, got {fr!r}")
        return lo, hi

    def fit(self, X, y=None):
        """Compute each feature's minimum and maximum; ``y`` is ignored. Returns self."""
        lo, hi = self._range()
        _check_bool(self.clip, "clip")
        X = self._check_fit_input(X)
        data_min = X.min(axis=0)
        data_max = X.max(axis=0)
        data_range = data_max - data_min
        # As scikit-learn: a range within 10 eps of zero counts as a constant feature.
        safe_range = np.where(data_range < 10 * np.finfo(X.dtype).eps,
                              np.ones_like(data_range), data_range)
        scale = (hi - lo) / safe_range
        self.data_min_, self.data_max_, self.data_range_ = data_min, data_max, data_range
        self.scale_ = scale
        self.min_ = lo - data_min * scale
        self.n_features_in_ = X.shape[1]
        self.n_samples_seen_ = X.shape[0]
        return self

    def transform(self, X):
        """Scale X into ``feature_range`` with the fitted minima and maxima."""
        X = self._check_transform_input(X, "transform")
        out = X * self.scale_ + self.min_
        if self.clip:
            lo, hi = self._range()
            np.clip(out, lo, hi, out=out)
        return out.astype(X.dtype, copy=False)

    def inverse_transform(self, X):
        """Undo ``transform``: ``(X - min_) / scale_``."""
        X = self._check_transform_input(X, "inverse_transform")
        return ((X - self.min_) / self.scale_).astype(X.dtype, copy=False)

    def __repr__(self):
        return f"MinMaxScaler(feature_range={self.feature_range!r}, clip={self.clip!r})"


class StandardScaler(_Scaler):
    """Remove each feature's mean and divide by its standard deviation, as scikit-learn's.

    After ``fit``: ``mean_``, ``var_`` (population variance, ddof=0), ``scale_`` (its square
    root), all float64 and computed with float64 accumulators whatever X's type, plus
    ``n_features_in_`` and ``n_samples_seen_``. ``with_mean=False`` skips centring,
    ``with_std=False`` skips scaling (``var_`` and ``scale_`` are then None; with both False
    ``mean_`` is None too). A (near-)constant feature gets ``scale_ = 1`` (no division by zero;
    same test as scikit-learn). Float32 input stays float32; integer input becomes float64.
    ``transform`` works in float64 and rounds once to X's type (scikit-learn rounds ``mean_``
    to float32 first, so for float32 data far from zero its results differ in the last bits).
    Using it before ``fit`` raises ``NotFittedError`` (a ``ValueError``).
    """

    def __init__(self, with_mean=True, with_std=True):
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X, y=None):
        """Compute each feature's mean and variance; ``y`` is ignored. Returns self."""
        with_mean = _check_bool(self.with_mean, "with_mean")
        with_std = _check_bool(self.with_std, "with_std")
        X = self._check_fit_input(X)
        n = X.shape[0]
        mean = var = scale = None
        if with_mean or with_std:
            mean = X.mean(axis=0, dtype=np.float64)
            diff = X - mean  # float64
            # Two-pass variance with the rounding-error correction term (Chan, Golub & LeVeque).
            correction = diff.sum(axis=0)
            var = ((diff * diff).sum(axis=0) - correction * correction / n) / n
            np.maximum(var, 0.0, out=var)
        if with_std:
            # Near-constant features: the variance is within the rounding error of the two-pass
            # algorithm (scikit-learn's bound), so its square root would be noise -- use 1.
            eps = np.finfo(np.float64).eps
            constant = var <= n * eps * var + (n * mean * eps) ** 2
            scale = np.sqrt(var)
            scale[constant] = 1.0
        else:
            var = None
            if not with_mean:
                mean = None
        self.mean_, self.var_, self.scale_ = mean, var, scale
        self.n_features_in_ = X.shape[1]
        self.n_samples_seen_ = n
        return self

    def transform(self, X):
        """Standardize X with the fitted mean and scale."""
        X = self._check_transform_input(X, "transform")
        out = X
        if self.with_mean:
            out = out - self.mean_
        if self.with_std:
            out = out / self.scale_
        return X.copy() if out is X else out.astype(X.dtype, copy=False)

    def inverse_transform(self, X):
        """Undo ``transform``: ``X * scale_ + mean_``."""
        X = self._check_transform_input(X, "inverse_transform")
        out = X
        if self.with_std:
            out = out * self.scale_
        if self.with_mean:
            out = out + self.mean_
        return X.copy() if out is X else out.astype(X.dtype, copy=False)

    def __repr__(self):
        return f"StandardScaler(with_mean={self.with_mean!r}, with_std={self.with_std!r})"
