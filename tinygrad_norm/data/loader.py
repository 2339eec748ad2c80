"""``DataLoader``: mini-batches of ``(X, y)`` Tensors from arrays, reshuffled every epoch."""
from __future__ import annotations

import numbers

import numpy as np

from ._checks import _check_bool, _check_seed, _make_rng

__all__ = ["DataLoader"]


def _numeric(a, name):
    """``np.asarray(a)`` of real numbers or bools. Checked when the loader is made: strings
    failed only at the first batch (NumPy's "could not convert string to float"), None became
    NaN through an object array, complex numbers lost their imaginary part with a warning."""
    try:
        arr = np.asarray(a)
    except ValueError as e:  # ragged nested lists
        raise ValueError(f"{name} must be an array (equal-length rows), got a ragged "
                         f"{type(a).__name__}: {e}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers or bools, got dtype {arr.dtype}")
    return arr


class DataLoader:
    """Mini-batches of ``(X_batch, y_batch)`` as ``Tensor`` objects (no grad).

    * ``len(loader)`` is the number of batches per epoch: ``ceil(n / batch_size)``, or
      ``floor(n / batch_size)`` with ``drop_last=True`` (which drops a short final batch).
    * ``shuffle=True`` draws a new order at the start of every epoch (every ``iter()``). An int
      ``seed`` (or a Generator) makes the sequence of epochs reproducible; ``seed=None`` draws
      from the framework generator, seeded by ``tinygrad_norm.manual_seed``.
    * ``X`` batches are converted to ``dtype`` (default float32, so float64 data, or uint8
      images, arrive as float32; values are not rescaled); ``dtype=None`` keeps X's type.
      Integer and bool labels keep their type; floating targets ``y`` follow ``dtype`` too.
    * With ``y=None`` the loader yields ``X_batch`` alone.

    Batches are copies: changing one never changes the data set. ``X`` and ``y`` may be arrays,
    anything ``np.asarray`` accepts, or Tensors.
    """

    def __init__(self, X, y=None, batch_size=32, shuffle=False, drop_last=False, seed=None,
                 dtype=np.float32):
        if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, numbers.Integral):
            raise TypeError(f"batch_size must be a positive int, got {type(batch_size).__name__}")
        if batch_size <= 0:
            raise ValueError(f"batch_size must be a positive int, got {batch_size}")
        shuffle = _check_bool(shuffle, "shuffle")
        drop_last = _check_bool(drop_last, "drop_last")
        seed = _check_seed(seed)
        if dtype is not None:
            try:
                dtype = np.dtype(dtype)
            except TypeError:
                raise TypeError(f"dtype must be a floating type or None, got {dtype!r}") from None
            if not np.issubdtype(dtype, np.floating):
                raise ValueError(f"dtype must be a floating type or None, got {dtype}")
        X = _numeric(X, "X")
        if X.ndim == 0:
            raise ValueError("X must have samples along its first axis, got a 0-d array")
        if y is not None:
            y = _numeric(y, "y")
            if y.ndim == 0:
                raise ValueError("y must have samples along its first axis, got a 0-d array")
            if y.shape[0] != X.shape[0]:
                raise ValueError(f"X and y must have the same length: len(X) = {X.shape[0]}, "
                                 f"len(y) = {y.shape[0]}")
        self.X, self.y = X, y
        self.batch_size = int(batch_size)
        self.shuffle, self.drop_last = shuffle, drop_last
        self.seed, self.dtype = seed, dtype
        # An int seed owns a private stream: two loaders with one seed give the same epochs.
        # With seed=None the framework generator is looked up at every epoch instead.
        self._rng = None if seed is None else _make_rng(seed)
        self._x_dtype = X.dtype if dtype is None else dtype
        self._y_dtype = None
        if y is not None:
            self._y_dtype = dtype if dtype is not None and np.issubdtype(y.dtype, np.floating) \
                else y.dtype

    @property
    def n_samples(self):
        return self.X.shape[0]

    def __len__(self):
        n, b = self.X.shape[0], self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def _order(self):
        if not self.shuffle:
            return None
        rng = self._rng if self._rng is not None else _make_rng(None)
        return rng.permutation(self.X.shape[0])

    def __iter__(self):
        from tinygrad_norm.tensor import Tensor  # lazy: the data package must not need the engine

        order = self._order()
        b = self.batch_size
        for i in range(len(self)):
            if order is None:
                sl = slice(i * b, (i + 1) * b)
                xb = np.array(self.X[sl], dtype=self._x_dtype)  # np.array copies
                yb = None if self.y is None else np.array(self.y[sl], dtype=self._y_dtype)
            else:
                idx = order[i * b:(i + 1) * b]
                xb = self.X[idx].astype(self._x_dtype, copy=False)  # fancy indexing copies
                yb = None if self.y is None else self.y[idx].astype(self._y_dtype, copy=False)
            if yb is None:
                yield Tensor(xb)
            else:
                yield Tensor(xb), Tensor(yb)

    def __repr__(self):
        return (f"DataLoader(n_samples={self.n_samples}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed!r})")
