"""Datasets available offline: the digits that ship with scikit-learn, and IDX files.

* ``load_digits`` -- the 8x8 handwritten-digits set (1,797 images) that ships *inside*
  scikit-learn, read straight from its data file: no download, and no import of scikit-learn.
* ``load_idx`` / ``load_idx_file`` -- the IDX format of MNIST and Fashion-MNIST, plain or gzip.
"""
from __future__ import annotations

import errno
import gzip
import importlib.util
import math
import os
import zlib

import numpy as np

from ._checks import _check_bool

__all__ = ["load_digits", "load_idx", "load_idx_file"]


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
