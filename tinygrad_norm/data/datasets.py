"""Datasets available offline, a DataLoader and two feature scalers.

Everything here works on plain NumPy arrays; only ``DataLoader`` hands out ``Tensor`` objects,
and it imports the engine lazily, so this module imports (and its loaders and scalers work)
without touching the autograd code.

* ``load_digits`` -- the 8x8 handwritten-digits set (1,797 images) that ships *inside*
  scikit-learn, read straight from its data file: no download, and no import of scikit-learn.
* ``load_idx`` / ``load_idx_file`` -- the IDX format of MNIST and Fashion-MNIST, plain or gzip.
* ``train_test_split`` -- a seeded shuffle split, optionally stratified.
* ``DataLoader`` -- mini-batches of ``(X, y)`` Tensors, seeded reshuffling every epoch.
* ``MinMaxScaler`` / ``StandardScaler`` -- the scikit-learn scalers' behaviour and attributes.

Randomness: an integer ``seed`` (or a ``numpy.random.Generator``) makes a function or loader
reproducible on its own; ``seed=None`` draws from the framework generator that
``tinygrad_norm.manual_seed(n)`` seeds, so one call of ``manual_seed`` fixes a whole run.
"""
from __future__ import annotations

import errno
import gzip
import importlib
import importlib.util
import math
import numbers
import os
import zlib

import numpy as np

__all__ = [
    "DataLoader",
    "MinMaxScaler",
    "NotFittedError",
    "StandardScaler",
    "load_digits",
    "load_idx",
    "load_idx_file",
    "train_test_split",
]


# --------------------------------------------------------------------------------------------
# randomness
# --------------------------------------------------------------------------------------------

def _framework_generator():
    """The generator behind ``tinygrad_norm.manual_seed``, or None where there is none.

    Looked up at every call (never cached): ``manual_seed`` replaces the generator.
    """
    try:
        random_mod = importlib.import_module("tinygrad_norm.random")
    except ModuleNotFoundError as e:
        # Only a missing module means "no framework generator"; a broken one must surface.
        if e.name not in ("tinygrad_norm", "tinygrad_norm.random"):
            raise
        return None
    return random_mod.generator()


def _check_seed(seed, what="seed"):
    """Validate ``seed``: None, a non-negative integer or a ``numpy.random.Generator``."""
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{what} must be None, a non-negative int or a numpy.random.Generator, "
                        f"got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"{what} must be non-negative, got {seed}")
    return int(seed)


def _make_rng(seed):
    """A generator for an already validated ``seed``.

    An int or a Generator gives a private stream; None gives the framework generator (shared,
    seeded by ``tinygrad_norm.manual_seed``) or, where the framework has none, a fresh one.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        rng = _framework_generator()
        return rng if rng is not None else np.random.default_rng()
    return np.random.default_rng(seed)


def _check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)


# --------------------------------------------------------------------------------------------
# the digits set shipped with scikit-learn
# --------------------------------------------------------------------------------------------

_DIGITS_FILE = ("datasets", "data", "digits.csv.gz")


def _digits_path():
    # find_spec locates the installed package without importing it (importing sklearn takes
    # about a second; reading the file takes a few milliseconds).
    try:
        spec = importlib.util.find_spec("sklearn")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "load_digits() reads the 8x8 digits data that ships inside scikit-learn, which is "
            "not installed; install it with: pip install scikit-learn")
    tried = []
    for location in spec.submodule_search_locations:
        path = os.path.join(location, *_DIGITS_FILE)
        if os.path.isfile(path):
            return path
        tried.append(path)
    raise FileNotFoundError(
        errno.ENOENT,
        "scikit-learn is installed but its digits data file is missing (reinstall it with: "
        "pip install --force-reinstall scikit-learn)",
        tried[0] if tried else os.path.join("sklearn", *_DIGITS_FILE))


def load_digits(return_images=False):
    """The 8x8 handwritten digits (UCI "optdigits" test set, as shipped with scikit-learn).

    Returns ``(X, y)``: ``X`` float32 of shape (1797, 64) -- or (1797, 8, 8) with
    ``return_images=True`` -- and ``y`` int64 labels 0..9 of shape (1797,).

    Each pixel is a count of ink in 0..16 (a 4x4 block of the original 32x32 bitmap);
    ``X`` is that count **divided by 16**, so it lies in [0, 1] and every value is an exact
    multiple of 1/16 (``X * 16`` gives back scikit-learn's ``load_digits().data``).

    Needs scikit-learn installed (it is a dependency of tinygrad_norm), but never imports it.
    """
    return_images = _check_bool(return_images, "return_images")
    path = _digits_path()
    try:
        with gzip.open(path, "rt") as f:
            raw = np.loadtxt(f, delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, EOFError, zlib.error, ValueError) as e:
        raise ValueError(f"cannot read the digits data file {path!r}: {e}") from e
    if raw.shape[1] != 65 or raw.shape[0] == 0:
        raise ValueError(f"unexpected layout of the digits data file {path!r}: "
                         f"shape {raw.shape}, expected (n, 65)")
    pixels, labels = raw[:, :64], raw[:, 64]
    if pixels.min() < 0 or pixels.max() > 16 or labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"unexpected values in the digits data file {path!r}")
    X = pixels.astype(np.float32)
    X /= 16.0  # exact in float32: 0..16 / 16 are dyadic fractions
    y = np.ascontiguousarray(labels, dtype=np.int64)
    if return_images:
        X = X.reshape(-1, 8, 8)
    return X, y


# --------------------------------------------------------------------------------------------
# IDX files (MNIST, Fashion-MNIST)
# --------------------------------------------------------------------------------------------

# IDX type code -> big-endian storage dtype. The magic number is 0x00 0x00 <type> <ndim>,
# followed by ndim big-endian uint32 sizes, followed by the data in C order, big-endian.
_IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_maybe_gzip(path):
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, "IDX file not found", path)
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == _GZIP_MAGIC:  # detected by content, never by the file name
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as e:
            raise ValueError(f"{path!r}: corrupt or truncated gzip data ({e})") from e
    return data


def load_idx_file(path):
    """Read one IDX file (plain or gzip-compressed, told apart by its first bytes).

    Returns a NumPy array in native byte order with the shape and type stored in the file
    (uint8 for MNIST images and labels). Raises ``FileNotFoundError`` naming ``path`` if it does
    not exist, and ``ValueError`` for a bad magic number, a truncated file or trailing bytes.
    """
    path = os.fspath(path)
    data = _read_maybe_gzip(path)
    if len(data) < 4:
        raise ValueError(f"{path!r} is not an IDX file: only {len(data)} bytes, "
                         f"shorter than the 4-byte magic number")
    magic = data[:4]
    type_code, ndim = magic[2], magic[3]
    if magic[0] != 0 or magic[1] != 0 or type_code not in _IDX_TYPES or ndim == 0:
        raise ValueError(
            f"{path!r} is not an IDX file: bad magic number 0x{magic.hex()} (expected "
            f"0x0000TTNN with type TT in {{08, 09, 0b, 0c, 0d, 0e}} and NN >= 1 dimensions)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path!r} is truncated: the header of {ndim} dimension sizes needs "
                         f"{header} bytes, the file has {len(data)}")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_TYPES[type_code]
    count = math.prod(shape)
    expected = count * dtype.itemsize
    found = len(data) - header
    if found < expected:
        raise ValueError(f"{path!r} is truncated: shape {shape} needs {expected} bytes of data, "
                         f"the file has {found}")
    if found > expected:
        raise ValueError(f"{path!r} has {found - expected} unexpected trailing bytes after the "
                         f"{expected} bytes of data for shape {shape}")
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))  # a writable, native-order copy


def load_idx(images_path, labels_path):
    """Read an IDX image file and its label file (MNIST, Fashion-MNIST, ...).

    Returns ``(images, labels)``: ``images`` of shape (N, rows, cols) with the stored type
    (uint8 for MNIST; scale it yourself, e.g. ``images / 255``), ``labels`` int64 of shape (N,).
    Each file may be plain or gzip-compressed. Raises ``ValueError`` if the images are not 3-D,
    the labels are not 1-D integers, or the two counts differ.
    """
    images = load_idx_file(images_path)
    labels = load_idx_file(labels_path)
    if images.ndim != 3:
        raise ValueError(f"{os.fspath(images_path)!r}: expected images of shape (N, rows, cols), "
                         f"found an IDX array of shape {images.shape}")
    if labels.ndim != 1:
        raise ValueError(f"{os.fspath(labels_path)!r}: expected labels of shape (N,), "
                         f"found an IDX array of shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{os.fspath(labels_path)!r}: expected integer labels, "
                         f"found {labels.dtype}")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"image and label counts differ: {images.shape[0]} images in "
                         f"{os.fspath(images_path)!r} but {labels.shape[0]} labels in "
                         f"{os.fspath(labels_path)!r}")
    return images, labels.astype(np.int64)


# --------------------------------------------------------------------------------------------
# train/test split
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# DataLoader
# --------------------------------------------------------------------------------------------

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
        from tinygrad_norm.tensor import Tensor  # lazy: data.py must not need the engine

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


# --------------------------------------------------------------------------------------------
# scalers
# --------------------------------------------------------------------------------------------

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
