"""Tests of tinygrad_norm.data: datasets, IDX files, split, DataLoader, scalers."""
import gzip
import importlib.util
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_norm import data
from tinygrad_norm.data import (DataLoader, MinMaxScaler, NotFittedError, StandardScaler,
                                load_digits, load_idx, load_idx_file, train_test_split)

# The real MNIST test split, where this checkout has it (users of the package do not).
MNIST_DIR = Path(os.environ.get("TINYGRAD_NORM_MNIST_DIR", "/work/shared/data/mnist"))


@pytest.fixture(scope="module")
def Tensor():
    # Imported here rather than at the top, as data.py does, to show that the rest of data.py
    # needs no engine; the engine is part of the package, so this never skips.
    from tinygrad_norm.tensor import Tensor
    return Tensor


def manual_seed(n):
    from tinygrad_norm.random import manual_seed as seed_framework
    seed_framework(n)


# ---------------------------------------------------------------------------------------------
# load_digits
# ---------------------------------------------------------------------------------------------

def test_load_digits_shape_dtype_range_and_labels():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(X * 16, np.round(X * 16))  # multiples of 1/16
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert X.flags.writeable and X.flags.c_contiguous and y.flags.c_contiguous


def test_load_digits_images():
    X, y = load_digits()
    images, y2 = load_digits(return_images=True)
    assert images.shape == (1797, 8, 8) and images.dtype == np.float32
    np.testing.assert_array_equal(images.reshape(1797, 64), X)
    np.testing.assert_array_equal(y, y2)


def test_load_digits_matches_sklearn():
    datasets = pytest.importorskip("sklearn.datasets")
    ref = datasets.load_digits()
    X, y = load_digits()
    np.testing.assert_array_equal(X.astype(np.float64) * 16, ref.data)
    np.testing.assert_array_equal(y, ref.target)
    images, _ = load_digits(return_images=True)
    np.testing.assert_array_equal(images.astype(np.float64) * 16, ref.images)


def test_load_digits_returns_fresh_arrays():
    X, y = load_digits()
    X[:] = 5
    y[:] = -1
    X2, y2 = load_digits()
    assert X2.max() == 1.0 and y2.min() == 0


def test_load_digits_does_not_import_sklearn():
    code = ("import sys; from tinygrad_norm.data import load_digits; X, y = load_digits(); "
            "assert 'sklearn' not in sys.modules, 'sklearn was imported'")
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_load_digits_without_sklearn(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "sklearn" else real(name, *a))
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        load_digits()


def test_load_digits_missing_data_file(monkeypatch, tmp_path):
    class FakeSpec:
        submodule_search_locations = [str(tmp_path)]
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: FakeSpec() if name == "sklearn" else real(name, *a))
    with pytest.raises(FileNotFoundError, match="digits.csv.gz"):
        load_digits()


def test_load_digits_bad_argument():
    with pytest.raises(TypeError, match="return_images"):
        load_digits(return_images="yes")


# ---------------------------------------------------------------------------------------------
# IDX files
# ---------------------------------------------------------------------------------------------

_IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
              np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}


def idx_bytes(arr):
    arr = np.asarray(arr)
    header = bytes([0, 0, _IDX_CODES[arr.dtype], arr.ndim]) + struct.pack(f">{arr.ndim}I",
                                                                           *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write(path, payload, compress=False):
    path.write_bytes(gzip.compress(payload) if compress else payload)
    return path


@pytest.fixture
def small_set():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
    labels = rng.integers(0, 10, size=7).astype(np.uint8)
    return images, labels


@pytest.mark.parametrize("compress", [False, True])
def test_load_idx_roundtrip(tmp_path, small_set, compress):
    images, labels = small_set
    ip = write(tmp_path / "images-idx3-ubyte", idx_bytes(images), compress)
    lp = write(tmp_path / "labels-idx1-ubyte", idx_bytes(labels), compress)
    got_images, got_labels = load_idx(ip, str(lp))  # Path and str both work
    assert got_images.dtype == np.uint8 and got_images.shape == (7, 5, 4)
    assert got_labels.dtype == np.int64 and got_labels.shape == (7,)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    assert got_images.flags.writeable


def test_gzip_detected_by_content_not_suffix(tmp_path, small_set):
    images, labels = small_set
    zipped_plain_name = write(tmp_path / "images.idx", idx_bytes(images), compress=True)
    plain_gz_name = write(tmp_path / "labels.gz", idx_bytes(labels), compress=False)
    got_images, got_labels = load_idx(zipped_plain_name, plain_gz_name)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32,
                                   np.float64])
def test_load_idx_file_types(tmp_path, dtype):
    arr = (np.arange(24).reshape(2, 3, 4) - 7).astype(dtype)
    got = load_idx_file(write(tmp_path / "a.idx", idx_bytes(arr)))
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative
    np.testing.assert_array_equal(got, arr)


def test_load_idx_file_missing(tmp_path):
    path = tmp_path / "nope-idx3-ubyte"
    with pytest.raises(FileNotFoundError, match="nope-idx3-ubyte"):
        load_idx_file(path)
    with pytest.raises(FileNotFoundError, match="nope-idx3-ubyte"):
        load_idx(path, path)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("magic", [b"\x01\x00\x08\x01", b"\x00\x00\x07\x01", b"\x00\x00\x08\x00",
                                   b"PK\x03\x04"])
def test_load_idx_file_bad_magic(tmp_path, magic, compress):
    path = write(tmp_path / "bad", magic + b"\x00\x00\x00\x01" + b"\x00", compress)
    with pytest.raises(ValueError, match="magic number"):
        load_idx_file(path)


def test_load_idx_file_too_short(tmp_path):
    with pytest.raises(ValueError, match="not an IDX file"):
        load_idx_file(write(tmp_path / "empty", b""))


@pytest.mark.parametrize("compress", [False, True])
def test_load_idx_file_truncated(tmp_path, small_set, compress):
    payload = idx_bytes(small_set[0])
    with pytest.raises(ValueError, match="truncated"):
        load_idx_file(write(tmp_path / "data", payload[:-1], compress))
    with pytest.raises(ValueError, match="truncated"):
        load_idx_file(write(tmp_path / "header", payload[:9], compress))


def test_load_idx_file_truncated_gzip_stream(tmp_path, small_set):
    stream = gzip.compress(idx_bytes(small_set[0]))
    with pytest.raises(ValueError, match="gzip"):
        load_idx_file(write(tmp_path / "cut.gz", stream[:len(stream) // 2]))


def test_load_idx_file_trailing_bytes(tmp_path, small_set):
    with pytest.raises(ValueError, match="trailing"):
        load_idx_file(write(tmp_path / "long", idx_bytes(small_set[0]) + b"\x00"))


def test_load_idx_count_mismatch(tmp_path, small_set):
    images, labels = small_set
    ip = write(tmp_path / "images", idx_bytes(images))
    lp = write(tmp_path / "labels", idx_bytes(labels[:6]))
    with pytest.raises(ValueError, match=r"7 images.*6 labels"):
        load_idx(ip, lp)


def test_load_idx_wrong_ranks(tmp_path, small_set):
    images, labels = small_set
    ip = write(tmp_path / "images", idx_bytes(images))
    lp = write(tmp_path / "labels", idx_bytes(labels))
    flat = write(tmp_path / "flat", idx_bytes(images.reshape(7, 20)))
    with pytest.raises(ValueError, match=r"\(N, rows, cols\)"):
        load_idx(flat, lp)
    with pytest.raises(ValueError, match=r"labels of shape \(N,\)"):
        load_idx(ip, ip)
    float_labels = write(tmp_path / "flabels", idx_bytes(labels.astype(np.float32)))
    with pytest.raises(ValueError, match="integer labels"):
        load_idx(ip, float_labels)


def test_load_idx_real_mnist_test_split():
    images_path = MNIST_DIR / "t10k-images-idx3-ubyte.gz"
    labels_path = MNIST_DIR / "t10k-labels-idx1-ubyte.gz"
    if not (images_path.is_file() and labels_path.is_file()):
        pytest.skip(f"MNIST test split not found in {MNIST_DIR}")
    images, labels = load_idx(images_path, labels_path)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.int64
    assert images.min() == 0 and images.max() == 255
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974,
                                            1009]


# ---------------------------------------------------------------------------------------------
# train_test_split
# ---------------------------------------------------------------------------------------------

def _rows(n=100, d=3):
    X = np.arange(n * d, dtype=np.float64).reshape(n, d)  # row i starts with i * d
    y = np.arange(n) % 4
    return X, y


def test_split_sizes_disjoint_and_paired():
    X, y = _rows()
    X_train, X_test, y_train, y_test = train_test_split(X, y, seed=0)
    assert X_train.shape == (75, 3) and X_test.shape == (25, 3)
    assert y_train.shape == (75,) and y_test.shape == (25,)
    train_ids, test_ids = X_train[:, 0] // 3, X_test[:, 0] // 3
    assert not set(train_ids) & set(test_ids)
    assert sorted(np.concatenate([train_ids, test_ids])) == list(range(100))
    np.testing.assert_array_equal(y_train, train_ids % 4)  # rows stay with their labels
    np.testing.assert_array_equal(y_test, test_ids % 4)
    assert not np.array_equal(train_ids, np.sort(train_ids))  # actually shuffled


def test_split_sizes_round_test_up_and_int_counts():
    X, y = _rows(10)
    assert len(train_test_split(X, y, test_size=0.25, seed=0)[1]) == 3  # ceil(2.5)
    assert len(train_test_split(X, y, test_size=0.01, seed=0)[1]) == 1
    assert len(train_test_split(X, y, test_size=4, seed=0)[1]) == 4
    assert len(train_test_split(X, y, test_size=np.int64(9), seed=0)[1]) == 9
    assert len(train_test_split(X, y, test_size=np.float32(0.5), seed=0)[1]) == 5


def test_split_reproducible():
    X, y = _rows()
    a = train_test_split(X, y, seed=3)
    b = train_test_split(X, y, seed=3)
    c = train_test_split(X, y, seed=4)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[1], c[1])
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    np.testing.assert_array_equal(train_test_split(X, y, seed=g1)[1],
                                  train_test_split(X, y, seed=g2)[1])


def test_split_seed_none_uses_framework_generator():
    X, y = _rows()
    manual_seed(11)
    a = train_test_split(X, y)
    manual_seed(11)
    b = train_test_split(X, y)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_split_stratified_keeps_proportions():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2, 7], [50, 30, 15, 5])
    X = rng.normal(size=(100, 2))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=1,
                                                        stratify=True)
    assert len(y_test) == 20 and len(y_train) == 80
    assert np.bincount(y_test, minlength=8)[[0, 1, 2, 7]].tolist() == [10, 6, 3, 1]
    assert np.bincount(y_train, minlength=8)[[0, 1, 2, 7]].tolist() == [40, 24, 12, 4]
    # rows stay paired with their labels
    lookup = {tuple(row): label for row, label in zip(X, y)}
    assert all(lookup[tuple(row)] == label for row, label in zip(X_test, y_test))
    assert all(lookup[tuple(row)] == label for row, label in zip(X_train, y_train))


def test_split_stratified_digits_and_remainders():
    X, y = load_digits()
    _, _, y_train, y_test = train_test_split(X, y, test_size=0.3, seed=0, stratify=True)
    assert len(y_test) == int(np.ceil(0.3 * 1797))
    expected = np.bincount(y) * len(y_test) / len(y)
    assert np.all(np.abs(np.bincount(y_test) - expected) < 1)
    np.testing.assert_array_equal(np.bincount(y_test) + np.bincount(y_train), np.bincount(y))


@pytest.mark.parametrize("test_size", [0, 0.0, 1.0, 1.5, -0.1, 100, 10, -1])
def test_split_bad_test_size_value(test_size):
    X, y = _rows(10)
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(X, y, test_size=test_size)


@pytest.mark.parametrize("test_size", [True, "0.2", None, [0.2]])
def test_split_bad_test_size_type(test_size):
    X, y = _rows(10)
    with pytest.raises(TypeError, match="test_size"):
        train_test_split(X, y, test_size=test_size)


def test_split_other_errors():
    X, y = _rows(10)
    with pytest.raises(ValueError, match=r"X has 10, y has 9"):
        train_test_split(X, y[:9])
    with pytest.raises(ValueError, match="at least 2 samples"):
        train_test_split(X[:1], y[:1])
    with pytest.raises(ValueError, match="first axis"):
        train_test_split(np.float64(1.0), y)
    with pytest.raises(ValueError, match="leaves no training sample"):
        train_test_split(X[:2], y[:2], test_size=0.9)
    with pytest.raises(TypeError, match="seed"):
        train_test_split(X, y, seed=1.5)
    with pytest.raises(ValueError, match="seed"):
        train_test_split(X, y, seed=-1)
    with pytest.raises(TypeError, match="stratify"):
        train_test_split(X, y, stratify=y)
    with pytest.raises(ValueError, match="1-D class labels"):
        train_test_split(X, X, stratify=True)


# ---------------------------------------------------------------------------------------------
# DataLoader
# ---------------------------------------------------------------------------------------------

def _batches(loader):
    out = []
    for batch in loader:
        if isinstance(batch, tuple):
            out.append(tuple(np.asarray(b) for b in batch))
        else:
            out.append(np.asarray(batch))
    return out


@pytest.mark.parametrize("n,batch_size,drop_last,expected", [
    (10, 3, False, 4), (10, 3, True, 3), (9, 3, False, 3), (9, 3, True, 3),
    (2, 5, False, 1), (2, 5, True, 0), (0, 4, False, 0), (1, 1, False, 1)])
def test_loader_len_and_batch_sizes(Tensor, n, batch_size, drop_last, expected):
    X = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n)
    loader = DataLoader(X, y, batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == expected
    batches = list(loader)
    assert len(batches) == expected
    sizes = [xb.data.shape[0] for xb, yb in batches]
    if expected:
        assert all(s == batch_size for s in sizes[:-1])
        assert sizes[-1] == (batch_size if drop_last or n % batch_size == 0 else n % batch_size)
    for xb, yb in batches:
        assert isinstance(xb, Tensor) and isinstance(yb, Tensor)
        assert isinstance(xb.data, np.ndarray) and xb.data.shape[1:] == (2,)


def test_loader_in_order_without_shuffle(Tensor):
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    batches = _batches(DataLoader(X, y, batch_size=4))
    np.testing.assert_array_equal(np.concatenate([xb for xb, _ in batches]), X)
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in batches]), y)


def test_loader_shuffle_covers_every_sample_once_and_keeps_pairs(Tensor):
    X = np.arange(23, dtype=np.float64)[:, None] * np.ones((1, 3))
    y = np.arange(23) * 10
    loader = DataLoader(X, y, batch_size=5, shuffle=True, seed=0)
    batches = _batches(loader)
    xs = np.concatenate([xb for xb, _ in batches])
    ys = np.concatenate([yb for _, yb in batches])
    assert sorted(xs[:, 0].tolist()) == list(range(23))
    np.testing.assert_array_equal(ys, xs[:, 0].astype(np.int64) * 10)
    assert not np.array_equal(xs[:, 0], np.arange(23))


def test_loader_drop_last_with_shuffle(Tensor):
    X = np.arange(10, dtype=np.float32)[:, None]
    batches = _batches(DataLoader(X, batch_size=4, shuffle=True, drop_last=True, seed=2))
    assert [b.shape for b in batches] == [(4, 1), (4, 1)]
    assert len(set(np.concatenate(batches)[:, 0].tolist())) == 8


def test_loader_seeded_shuffle_reproducible_and_reshuffles_each_epoch(Tensor):
    X = np.arange(50, dtype=np.float32)[:, None]
    y = np.arange(50)

    def epoch_orders(loader, epochs=3):
        return [np.concatenate([yb for _, yb in _batches(loader)]) for _ in range(epochs)]

    a = epoch_orders(DataLoader(X, y, batch_size=8, shuffle=True, seed=7))
    b = epoch_orders(DataLoader(X, y, batch_size=8, shuffle=True, seed=7))
    c = epoch_orders(DataLoader(X, y, batch_size=8, shuffle=True, seed=8))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], a[1]) and not np.array_equal(a[1], a[2])
    assert not np.array_equal(a[0], c[0])


def test_loader_seed_none_uses_framework_generator(Tensor):
    X = np.arange(30, dtype=np.float32)[:, None]

    def run():
        loader = DataLoader(X, batch_size=7, shuffle=True)
        return [np.concatenate(_batches(loader)) for _ in range(2)]

    manual_seed(123)
    a = run()
    manual_seed(123)
    b = run()
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], a[1])


def test_loader_dtypes(Tensor):
    X64 = np.random.default_rng(0).normal(size=(6, 3))
    y = np.arange(6, dtype=np.int64)
    xb, yb = next(iter(DataLoader(X64, y, batch_size=4)))
    assert xb.data.dtype == np.float32 and yb.data.dtype == np.int64
    np.testing.assert_array_equal(xb.data, X64[:4].astype(np.float32))
    xb, yb = next(iter(DataLoader(X64, y.astype(np.int32), batch_size=4, dtype=None)))
    assert xb.data.dtype == np.float64 and yb.data.dtype == np.int32
    xb, yb = next(iter(DataLoader(X64, X64[:, 0], batch_size=4, shuffle=True, seed=0)))
    assert xb.data.dtype == np.float32 and yb.data.dtype == np.float32  # float targets follow
    images = np.arange(6 * 4, dtype=np.uint8).reshape(6, 2, 2)
    (xb,) = _batches(DataLoader(images, batch_size=6))
    assert xb.dtype == np.float32 and xb.shape == (6, 2, 2)
    np.testing.assert_array_equal(xb, images)  # converted, not rescaled


def test_loader_without_labels_yields_tensors(Tensor):
    X = np.ones((5, 2), dtype=np.float32)
    batches = list(DataLoader(X, batch_size=2))
    assert len(batches) == 3 and all(isinstance(b, Tensor) for b in batches)


def test_loader_batches_are_copies(Tensor):
    X = np.zeros((4, 2), dtype=np.float32)
    for xb in DataLoader(X, batch_size=2):
        np.asarray(xb.data)[:] = 1
    assert X.sum() == 0


def test_loader_accepts_tensors_and_lists(Tensor):
    X = Tensor(np.arange(8, dtype=np.float32).reshape(4, 2))
    y = Tensor(np.array([0, 1, 0, 1]))
    (xb, yb), = _batches(DataLoader(X, y, batch_size=4))
    np.testing.assert_array_equal(xb, np.arange(8).reshape(4, 2))
    np.testing.assert_array_equal(yb, [0, 1, 0, 1])
    (xb, yb), = _batches(DataLoader([[1.0, 2.0]], [3], batch_size=1))
    assert xb.dtype == np.float32 and yb.tolist() == [3]


def test_loader_importable_and_validates_without_iterating():
    loader = DataLoader(np.zeros((5, 2)), np.zeros(5, dtype=np.int64), batch_size=2)
    assert len(loader) == 3 and loader.n_samples == 5
    assert "batch_size=2" in repr(loader)


@pytest.mark.parametrize("batch_size,exc", [(0, ValueError), (-3, ValueError),
                                            (2.0, TypeError), (True, TypeError),
                                            ("4", TypeError), (None, TypeError)])
def test_loader_bad_batch_size(batch_size, exc):
    with pytest.raises(exc, match="batch_size"):
        DataLoader(np.zeros((4, 2)), batch_size=batch_size)


def test_loader_other_errors():
    X = np.zeros((5, 2))
    with pytest.raises(ValueError, match=r"len\(X\) = 5, len\(y\) = 4"):
        DataLoader(X, np.zeros(4))
    with pytest.raises(TypeError, match="shuffle"):
        DataLoader(X, shuffle=1)
    with pytest.raises(TypeError, match="drop_last"):
        DataLoader(X, drop_last="no")
    with pytest.raises(TypeError, match="seed"):
        DataLoader(X, seed="0")
    with pytest.raises(ValueError, match="seed"):
        DataLoader(X, seed=-2)
    with pytest.raises(ValueError, match="dtype"):
        DataLoader(X, dtype=np.int32)
    with pytest.raises(ValueError, match="first axis"):
        DataLoader(np.float32(3.0))
    with pytest.raises(ValueError, match="first axis"):
        DataLoader(X, np.int64(1))


# ---------------------------------------------------------------------------------------------
# scalers
# ---------------------------------------------------------------------------------------------

def _datasets():
    rng = np.random.default_rng(42)
    base = rng.normal(size=(40, 5)) * [1, 10, 0.01, 3, 1e4] + [0, -5, 3, 1e3, 7]
    constant = base.copy()
    constant[:, 1] = 4.0
    near_constant = base.copy()
    near_constant[:, 2] = 1e6 + rng.normal(size=40) * 1e-10
    return {
        "float64": base,
        "float32": base.astype(np.float32),
        "constant": constant,
        "constant32": constant.astype(np.float32),
        "near_constant": near_constant,
        "int": rng.integers(-5, 20, size=(30, 4)),
        "one_sample": base[:1],
    }


DATASETS = _datasets()


def _assert_same(ours, ref, rtol):
    if ref is None:
        assert ours is None
        return
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.dtype == ref.dtype, (ours.dtype, ref.dtype)
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=0)


@pytest.mark.parametrize("name", sorted(DATASETS))
@pytest.mark.parametrize("feature_range,clip", [((0, 1), False), ((-1, 2.5), False),
                                                ((-1, 1), True)])
def test_minmax_parity_with_sklearn(name, feature_range, clip):
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    X = DATASETS[name]
    X_new = (X[::-1] * 1.5 + 1).astype(X.dtype) if X.dtype.kind == "f" else X[::-1] * 2 - 3
    rtol = 1e-6 if X.dtype == np.float32 else 1e-12
    ref = preprocessing.MinMaxScaler(feature_range=feature_range, clip=clip).fit(X)
    ours = MinMaxScaler(feature_range=feature_range, clip=clip).fit(X)
    for attr in ("data_min_", "data_max_", "data_range_", "scale_", "min_"):
        _assert_same(getattr(ours, attr), getattr(ref, attr), rtol)
    assert ours.n_features_in_ == ref.n_features_in_
    assert ours.n_samples_seen_ == ref.n_samples_seen_
    for Z in (X, X_new):
        _assert_same(ours.transform(Z), ref.transform(Z), rtol)
        Zf = ours.transform(Z)
        _assert_same(ours.inverse_transform(Zf), ref.inverse_transform(Zf), rtol)
    _assert_same(MinMaxScaler(feature_range, clip).fit_transform(X),
                 ref.fit(X).transform(X), rtol)


@pytest.mark.parametrize("name", sorted(DATASETS))
@pytest.mark.parametrize("with_mean,with_std", [(True, True), (False, True), (True, False),
                                                (False, False)])
def test_standard_parity_with_sklearn(name, with_mean, with_std):
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    X = DATASETS[name]
    X_new = (X[::-1] * 1.5 + 1).astype(X.dtype) if X.dtype.kind == "f" else X[::-1] * 2 - 3
    rtol = 2e-6 if X.dtype == np.float32 else 1e-10
    ref = preprocessing.StandardScaler(with_mean=with_mean, with_std=with_std).fit(X)
    ours = StandardScaler(with_mean=with_mean, with_std=with_std).fit(X)
    for attr in ("mean_", "var_", "scale_"):
        _assert_same(getattr(ours, attr), getattr(ref, attr), rtol)
    assert ours.n_features_in_ == ref.n_features_in_
    assert ours.n_samples_seen_ == ref.n_samples_seen_
    for Z in (X, X_new):
        # The near-constant column becomes (x - mean) / 1: compare with an absolute tolerance.
        # For float32 input scikit-learn rounds mean_ to float32 before subtracting (an error of
        # up to one float32 ulp of the mean, ~6e-5 at 1e3); we subtract in float64 and round
        # once, so we are checked against exact float64 arithmetic and sklearn more loosely.
        atol = 1e-4 if Z.dtype == np.float32 else 1e-9
        np.testing.assert_allclose(ours.transform(Z), ref.transform(Z), rtol=rtol, atol=atol)
        assert ours.transform(Z).dtype == ref.transform(Z).dtype
        exact = Z.astype(np.float64)
        if with_mean:
            exact = exact - ours.mean_
        if with_std:
            exact = exact / ours.scale_
        np.testing.assert_allclose(ours.transform(Z), exact, rtol=rtol, atol=1e-9)
        Zf = ours.transform(Z)
        _assert_same(ours.inverse_transform(Zf), ref.inverse_transform(Zf), rtol)
    np.testing.assert_array_equal(StandardScaler(with_mean=with_mean, with_std=with_std)
                                  .fit_transform(X), ours.transform(X))


def test_constant_features_do_not_divide_by_zero():
    X = np.array([[1.0, 2.0], [1.0, 4.0], [1.0, 6.0]])
    with np.errstate(all="raise"):
        mm = MinMaxScaler().fit(X)
        st = StandardScaler().fit(X)
        np.testing.assert_array_equal(mm.transform(X)[:, 0], 0.0)
        np.testing.assert_array_equal(st.transform(X)[:, 0], 0.0)
    assert mm.scale_[0] == 1.0 and st.scale_[0] == 1.0
    np.testing.assert_allclose(mm.inverse_transform(mm.transform(X)), X)
    np.testing.assert_allclose(st.inverse_transform(st.transform(X)), X)


@pytest.mark.parametrize("Scaler", [MinMaxScaler, StandardScaler])
def test_scalers_keep_float32_and_copy(Scaler):
    X = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    before = X.copy()
    s = Scaler().fit(X)
    for out in (s.transform(X), s.fit_transform(X), s.inverse_transform(X)):
        assert out.dtype == np.float32 and out is not X
    np.testing.assert_array_equal(X, before)  # input never modified
    assert s.transform(X.astype(np.float64)).dtype == np.float64
    assert Scaler().fit(X.astype(np.float64)).transform(X).dtype == np.float32
    np.testing.assert_allclose(s.inverse_transform(s.transform(X)), X, rtol=1e-5, atol=1e-6)


def test_standard_scaler_result_is_standardized():
    X = np.random.default_rng(1).normal(3.0, 5.0, size=(200, 4))
    Z = StandardScaler().fit_transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1, rtol=1e-12)
    Z = MinMaxScaler((-2, 3)).fit_transform(X)
    np.testing.assert_allclose(Z.min(axis=0), -2)
    np.testing.assert_allclose(Z.max(axis=0), 3)


@pytest.mark.parametrize("Scaler", [MinMaxScaler, StandardScaler])
def test_scalers_accept_tensors(Tensor, Scaler):
    X = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    ours = Scaler().fit(Tensor(X))
    np.testing.assert_array_equal(ours.transform(Tensor(X)), Scaler().fit_transform(X))
    np.testing.assert_array_equal(ours.inverse_transform(Tensor(X)), ours.inverse_transform(X))


@pytest.mark.parametrize("Scaler", [MinMaxScaler, StandardScaler])
def test_scalers_not_fitted(Scaler):
    s = Scaler()
    for method in (s.transform, s.inverse_transform):
        with pytest.raises(NotFittedError, match="not fitted"):
            method(np.zeros((2, 2)))
    assert issubclass(NotFittedError, ValueError)


@pytest.mark.parametrize("Scaler", [MinMaxScaler, StandardScaler])
def test_scalers_bad_inputs(Scaler):
    s = Scaler().fit(np.zeros((3, 4)) + np.arange(3)[:, None])
    for method in (s.transform, s.inverse_transform):
        with pytest.raises(ValueError, match="X has 3 features, but .* expecting 4 features"):
            method(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"2-D.*reshape\(-1, 1\)"):
        Scaler().fit(np.arange(4.0))
    with pytest.raises(ValueError, match="2-D"):
        s.transform(np.zeros((2, 4, 1)))
    with pytest.raises(ValueError, match="no samples"):
        Scaler().fit(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="no features"):
        Scaler().fit(np.zeros((3, 0)))
    with pytest.raises(ValueError, match="NaN or infinity"):
        Scaler().fit(np.array([[1.0], [np.nan]]))
    with pytest.raises(ValueError, match="NaN or infinity"):
        Scaler().fit(np.array([[1.0], [np.inf]]))
    with pytest.raises(TypeError, match="real numbers"):
        Scaler().fit(np.array([["a"], ["b"]]))
    # a failed fit leaves an existing fit untouched
    with pytest.raises(ValueError):
        s.fit(np.zeros((2, 7)) + np.nan)
    assert s.n_features_in_ == 4
    # transform and its inverse: an infinity is refused (it came out as inf, or as a range end
    # under clip=True), NaN passes through, and no samples is refused, as scikit-learn
    for method in (s.transform, s.inverse_transform):
        with pytest.raises(ValueError, match="infinity"):
            method(np.array([[0.0, 1.0, -np.inf, 2.0]]))
        with pytest.raises(ValueError, match="no samples"):
            method(np.zeros((0, 4)))
        assert np.isnan(method(np.full((1, 4), np.nan))).all()


@pytest.mark.parametrize("feature_range", [(1, 0), (1, 1), (0, np.inf), (0,), "ab", None,
                                           (0, "x")])
def test_minmax_bad_feature_range(feature_range):
    with pytest.raises(ValueError, match="feature_range"):
        MinMaxScaler(feature_range=feature_range).fit(np.zeros((2, 2)))


def test_scaler_bad_flags():
    with pytest.raises(TypeError, match="with_mean"):
        StandardScaler(with_mean=1).fit(np.zeros((2, 2)))
    with pytest.raises(TypeError, match="with_std"):
        StandardScaler(with_std=None).fit(np.zeros((2, 2)))
    with pytest.raises(TypeError, match="clip"):
        MinMaxScaler(clip="yes").fit(np.zeros((2, 2)))


def test_scaler_repr_and_refit():
    assert repr(MinMaxScaler((-1, 1))) == "MinMaxScaler(feature_range=(-1, 1), clip=False)"
    assert repr(StandardScaler()) == "StandardScaler(with_mean=True, with_std=True)"
    s = StandardScaler().fit(np.ones((3, 2)))
    s.fit(np.ones((3, 5)))
    assert s.n_features_in_ == 5 and s.mean_.shape == (5,)


def test_public_names():
    for name in data.__all__:
        assert hasattr(data, name)
