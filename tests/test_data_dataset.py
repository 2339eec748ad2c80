"""The map-style data API of tinygrad_norm.data against torch.utils.data 2.13: datasets,
random_split, samplers, default_collate / default_convert and the dataset form of DataLoader.

Everything deterministic is compared with torch run on the same input (values, dtypes, shapes,
lengths, error types and messages); the random samplers are checked for their defining
properties and their frequencies under fixed seeds (so nothing here can flake)."""
from __future__ import annotations

import os
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import nn, optim
from tinygrad_norm.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, RandomSampler,
                                Sampler, SequentialSampler, Subset, SubsetRandomSampler,
                                TensorDataset, WeightedRandomSampler, default_collate,
                                default_convert, random_split)
from tinygrad_norm.tensor import Tensor

Point = namedtuple("Point", "x y")


def plain(x):
    """A structure of our Tensors or torch tensors as nested plain values, tagged with type
    and dtype, so that the two sides compare with ==."""
    if isinstance(x, Tensor):
        return ("tensor", str(x.data.dtype), x.data.shape, x.data.tolist())
    if type(x).__module__ == "torch" and type(x).__name__ == "Tensor":
        return ("tensor", str(x.dtype).replace("torch.", ""), tuple(x.shape), x.tolist())
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, [plain(v) for v in x])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [plain(v) for v in x])
    if isinstance(x, dict):
        return ("dict", {k: plain(v) for k, v in x.items()})
    return (type(x).__name__, x)


def raised(fn):
    """(exception type name, message) of what ``fn()`` raises."""
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value).__name__, str(info.value)


def same_error(ours, theirs):
    """Ours raises what torch raises: same message; same type, or a ValueError where torch
    raises an AssertionError (ours is then both)."""
    (t1, m1), (t2, m2) = raised(ours), raised(theirs)
    assert m1 == m2
    assert t1 == t2 or (t2 == "AssertionError" and t1 == "_TorchAssertion")


# ---------------------------------------------------------------------------------------------
# the package: no engine at import time, every name exported
# ---------------------------------------------------------------------------------------------

def test_data_package_imports_without_the_engine():
    # tinygrad_norm/__init__ loads the engine, so the parent package is stood in for by an
    # empty one: what is measured is what the data package itself imports
    root = Path(__file__).resolve().parents[1]
    code = ("import sys, types; pkg = types.ModuleType('tinygrad_norm'); "
            f"pkg.__path__ = [{str(root / 'tinygrad_norm')!r}]; "
            "sys.modules['tinygrad_norm'] = pkg; "
            "import tinygrad_norm.data as d; "
            "bad = [m for m in ('tinygrad_norm.tensor', 'tinygrad_norm.autograd', "
            "'tinygrad_norm.ops') if m in sys.modules]; assert not bad, bad; "
            "import numpy as np; assert len(d.TensorDataset(np.zeros((3, 2)))) == 3")
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, env=dict(os.environ),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_torch_names_exported(torch):
    from tinygrad_norm import data
    for name in ("Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split",
                 "default_collate", "default_convert", "Sampler", "SequentialSampler",
                 "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
                 "DataLoader"):
        assert name in data.__all__ and hasattr(torch.utils.data, name)


# ---------------------------------------------------------------------------------------------
# datasets
# ---------------------------------------------------------------------------------------------

def test_tensor_dataset_items_match_torch(torch):
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    y = np.array([0, 1, 0, 1])
    ours = TensorDataset(X, y)
    theirs = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    assert len(ours) == len(theirs) == 4
    for i in (0, 3, -1):
        x, t = ours[i]
        tx, tt = theirs[i]
        np.testing.assert_array_equal(x, tx.numpy())
        assert x.dtype == np.float32 and int(t) == int(tt)
    from_tensors = TensorDataset(Tensor(X), Tensor(y))
    x, t = from_tensors[2]
    assert isinstance(x, Tensor) and isinstance(t, Tensor) and t.data.dtype == np.int64
    assert x.data.tolist() == X[2].tolist()
    w = Tensor(X, requires_grad=True)  # a sample of a tensor that requires grad stays on the tape
    (TensorDataset(w)[1][0] * 2.0).sum().backward()
    assert w.grad.data.tolist() == [[0.0] * 3, [2.0] * 3, [0.0] * 3, [0.0] * 3]


def test_tensor_dataset_size_mismatch(torch):
    same_error(lambda: TensorDataset(np.zeros((3, 2)), np.zeros(4)),
               lambda: torch.utils.data.TensorDataset(torch.zeros(3, 2), torch.zeros(4)))
    with pytest.raises(ValueError, match="Size mismatch"):  # ours is also a ValueError
        TensorDataset(Tensor(np.zeros(3)), np.zeros(2))
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(np.zeros(3), np.float64(1.0))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_dataset_base_concat_and_add(torch):
    class Squares(Dataset):
        def __init__(self, n):
            self.n = n

        def __getitem__(self, i):
            if not 0 <= i < self.n:
                raise IndexError(i)
            return i * i

        def __len__(self):
            return self.n

    class TSquares(torch.utils.data.Dataset):
        def __init__(self, n):
            self.n = n

        def __getitem__(self, i):
            return i * i

        def __len__(self):
            return self.n

    ours = Squares(3) + Squares(4) + Squares(2)
    theirs = TSquares(3) + TSquares(4) + TSquares(2)
    assert isinstance(ours, ConcatDataset) and len(ours) == len(theirs) == 9
    assert ours.cumulative_sizes == theirs.cumulative_sizes
    assert [ours[i] for i in range(-9, 9)] == [theirs[i] for i in range(-9, 9)]
    same_error(lambda: ours[-10], lambda: theirs[-10])
    same_error(lambda: ConcatDataset([]), lambda: torch.utils.data.ConcatDataset([]))
    same_error(lambda: Dataset()[0], lambda: torch.utils.data.Dataset()[0])


def test_subset(torch):
    base = TensorDataset(np.arange(10) * 10)
    sub = Subset(base, [7, 2, 5])
    assert len(sub) == 3 and [int(sub[i][0]) for i in range(3)] == [70, 20, 50]
    assert [int(s[0]) for s in sub.__getitems__([2, 0])] == [50, 70]
    np.testing.assert_array_equal(sub[[0, 1]][0], [70, 20])  # a list index goes to the parent

    def only_getitem(parent):  # the same class name on both sides: it is in the message
        return type("MySubset", (parent,), {"__getitem__": lambda self, i: 0})

    same_error(lambda: only_getitem(Subset)(base, [0]),
               lambda: only_getitem(torch.utils.data.Subset)(base, [0]))


# ---------------------------------------------------------------------------------------------
# random_split
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n, lengths", [
    (10, [3, 7]), (10, [0.3, 0.7]), (10, [0.33, 0.33, 0.34]), (7, [0.5, 0.5]),
    (10, [1 / 3] * 3), (11, [0.25, 0.25, 0.25, 0.25]), (5, [1.0]), (0, [0, 0]),
    (100, [0.8, 0.1, 0.1]), (9, [0.1] * 10)])
def test_random_split_sizes_match_torch(torch, n, lengths, recwarn):
    parts = random_split(range(n), lengths, generator=0)
    expected = torch.utils.data.random_split(range(n), lengths, torch.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [len(p) for p in expected]
    items = sorted(i for p in parts for i in p)
    assert items == list(range(n))  # a partition: every index once


def test_random_split_zero_length_warns_as_torch(torch):
    with pytest.warns(UserWarning, match="Length of split at index 2 is 0") as ours:
        random_split(range(2), [0.5, 0.5, 0.0], generator=0)
    with pytest.warns(UserWarning) as theirs:
        torch.utils.data.random_split(range(2), [0.5, 0.5, 0.0])
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]


@pytest.mark.parametrize("n, lengths", [(10, [3, 3]), (10, [0.5, 0.6]), (10, [-0.5, 1.5]),
                                        (4, [0.5, 0.2, 0.3, 0.0, 0.1, -0.1])])
def test_random_split_errors_match_torch(torch, n, lengths):
    same_error(lambda: random_split(range(n), lengths, generator=0),
               lambda: torch.utils.data.random_split(range(n), lengths))


def test_random_split_bad_arguments():
    with pytest.raises(ValueError, match="non-negative ints"):
        random_split(range(4), [-1, 5])
    with pytest.raises(TypeError, match="lengths"):
        random_split(range(4), ["2", 2])
    with pytest.raises(TypeError, match="generator"):
        random_split(range(4), [2, 2], generator="seed")


def test_random_split_reproducible():
    def split(gen):
        return [list(p.indices) for p in random_split(range(50), [0.6, 0.4], generator=gen)]
    assert split(3) == split(3) != split(4)
    assert split(np.random.default_rng(3)) == split(np.random.default_rng(3))
    tg.manual_seed(8)
    first = split(None)
    tg.manual_seed(8)
    assert split(None) == first
    assert split(None) != first  # the framework generator moved on


# ---------------------------------------------------------------------------------------------
# samplers
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 7, 10])
@pytest.mark.parametrize("batch_size", [1, 3, 10, 11])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_and_sequential_samplers_match_torch(torch, n, batch_size, drop_last):
    tud = torch.utils.data
    ours = BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)
    theirs = tud.BatchSampler(tud.SequentialSampler(range(n)), batch_size, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)
    assert list(SequentialSampler(range(n))) == list(tud.SequentialSampler(range(n)))
    assert list(BatchSampler(iter(range(n)), batch_size, drop_last)) == list(theirs)


@pytest.mark.parametrize("make", [
    lambda S: S.BatchSampler(range(4), 0, False),
    lambda S: S.BatchSampler(range(4), True, False),
    lambda S: S.BatchSampler(range(4), 2.0, False),
    lambda S: S.BatchSampler(range(4), 2, 1),
    lambda S: S.RandomSampler(range(4), replacement=1),
    lambda S: S.RandomSampler(range(4), num_samples=0),
    lambda S: S.RandomSampler(range(4), num_samples=2.5),
    lambda S: S.RandomSampler(range(0)),
    lambda S: S.WeightedRandomSampler([1.0, 2.0], 0),
    lambda S: S.WeightedRandomSampler([1.0, 2.0], False),
    lambda S: S.WeightedRandomSampler([1.0, 2.0], 3, replacement=None),
    lambda S: S.WeightedRandomSampler([[1.0, 2.0]], 3),
])
def test_sampler_errors_match_torch(torch, make):
    from tinygrad_norm import data
    same_error(lambda: make(data), lambda: make(torch.utils.data))


def test_sampler_base_and_lengths(torch):
    with pytest.raises(NotImplementedError):
        iter(Sampler())
    same_error(lambda: Sampler(range(3)), lambda: torch.utils.data.Sampler(range(3)))

    class Typed(Sampler[int]):  # subscripted, as PyTorch code annotates them
        def __iter__(self):
            return iter([2, 1])
    assert list(Typed()) == [2, 1] and issubclass(Typed, Sampler)
    assert issubclass(type("D", (Dataset[tuple],), {}), Dataset)
    assert len(RandomSampler(range(7))) == 7
    assert len(RandomSampler(range(7), num_samples=20)) == 20
    assert len(SubsetRandomSampler([4, 5])) == 2 and len(WeightedRandomSampler([1, 1], 9)) == 9


def test_random_sampler_permutations():
    s = RandomSampler(range(20), generator=0)
    passes = [list(s) for _ in range(3)]
    for p in passes:
        assert sorted(p) == list(range(20))
    assert passes[0] != passes[1] != passes[2]  # a new order every pass
    chained = list(RandomSampler(range(6), num_samples=15, generator=1))
    assert len(chained) == 15
    assert sorted(chained[:6]) == sorted(chained[6:12]) == list(range(6))
    assert len(set(chained[12:])) == 3  # a prefix of a fresh permutation


def test_random_sampler_with_replacement():
    draws = np.array(list(RandomSampler(range(5), replacement=True, num_samples=5000,
                                        generator=2)))
    assert draws.min() == 0 and draws.max() == 4
    counts = np.bincount(draws, minlength=5)
    # fixed seed, so no flake: each count near 1000 (sd ~28)
    assert np.all(np.abs(counts - 1000) < 150), counts
    short = list(RandomSampler(range(100), replacement=True, num_samples=50, generator=3))
    assert len(short) == 50 and len(set(short)) < 50  # repeats (birthday: ~99.99%; seeded)


def test_subset_random_sampler():
    idx = [10, 20, 30, 40, 50]
    s = SubsetRandomSampler(idx, generator=4)
    orders = [list(s) for _ in range(4)]
    assert all(sorted(o) == idx for o in orders) and len({tuple(o) for o in orders}) > 1


def test_weighted_sampler_proportions():
    w = [1.0, 2.0, 3.0, 4.0, 0.0]
    draws = np.array(list(WeightedRandomSampler(w, 40000, generator=5)))
    freq = np.bincount(draws, minlength=5) / 40000
    np.testing.assert_allclose(freq, np.array(w) / 10, atol=0.01)  # sd ~0.0025
    assert freq[4] == 0  # weight 0: never drawn
    no_repl = list(WeightedRandomSampler(w, 4, replacement=False, generator=6))
    assert sorted(no_repl) == [0, 1, 2, 3]
    # without replacement the heavy index comes first most often
    firsts = [next(iter(WeightedRandomSampler([1.0, 9.0], 1, replacement=False, generator=g)))
              for g in range(200)]
    assert 0.8 < np.mean(firsts) < 0.97
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler(w, 5, replacement=False)
    with pytest.raises(ValueError, match="non-negative"):
        WeightedRandomSampler([1.0, -1.0], 2)
    with pytest.raises(ValueError, match="positive sum"):
        WeightedRandomSampler([0.0, 0.0], 2)
    assert list(WeightedRandomSampler(Tensor(np.array([0.0, 1.0])), 3, generator=0)) == [1] * 3


def test_samplers_reproducible_from_seeds_and_manual_seed():
    def runs(make):
        return [list(make()) for _ in range(2)]
    for make in (lambda g: RandomSampler(range(30), generator=g),
                 lambda g: RandomSampler(range(30), True, 40, generator=g),
                 lambda g: SubsetRandomSampler(list(range(30)), generator=g),
                 lambda g: WeightedRandomSampler(np.arange(1, 31), 30, generator=g)):
        a, b = make(7), make(7)
        assert [list(a), list(a)] == [list(b), list(b)]
        assert list(make(np.random.default_rng(9))) == list(make(np.random.default_rng(9)))
        tg.manual_seed(10)
        first = list(make(None))
        tg.manual_seed(10)
        assert list(make(None)) == first
    with pytest.raises(TypeError, match="generator"):
        RandomSampler(range(3), generator=1.5)


# ---------------------------------------------------------------------------------------------
# default_collate / default_convert
# ---------------------------------------------------------------------------------------------

COLLATE_CASES = {
    "ints": [1, 2, 3],
    "floats": [1.0, 2.5],
    "bools": [True, False],
    "ints and floats": [1, 2.5],
    "bool and int": [True, 2],
    "numpy float32 scalars": [np.float32(1), np.float32(2)],
    "numpy int32 scalars": [np.int32(1), np.int32(2)],
    "numpy bools": [np.bool_(True), np.bool_(False)],
    "float64 arrays": [np.ones((2, 3)), np.zeros((2, 3))],
    "uint8 arrays": [np.arange(4, dtype=np.uint8), np.arange(4, dtype=np.uint8)],
    "0-d arrays": [np.array(1.5, dtype=np.float32), np.array(2.5, dtype=np.float32)],
    "strings": ["a", "b"],
    "tuples": [(np.ones(2, dtype=np.float32), 0), (np.zeros(2, dtype=np.float32), 1)],
    "lists": [[1, 2.0], [3, 4.0]],
    "dicts": [{"x": np.ones(2), "y": 1, "name": "a"}, {"x": np.zeros(2), "y": 0, "name": "b"}],
    "named tuples": [Point(1, 2.0), Point(3, 4.0)],
    "nested": [{"a": (np.ones(1), [1, {"b": 2.0}])}, {"a": (np.zeros(1), [3, {"b": 4.0}])}],
    # mixed dtypes promote as torch.stack / torch.tensor: a float dtype beats any int one
    "float32 and int64 arrays": [np.ones(2, np.float32), np.ones(2, np.int64)],
    "int64 and float32 arrays": [np.ones(2, np.int64), np.ones(2, np.float32)],
    "float16 and float32 arrays": [np.ones(2, np.float16), np.ones(2, np.float32)],
    "uint8 and int8 arrays": [np.ones(2, np.uint8), np.ones(2, np.int8)],
    "bool and int32 arrays": [np.ones(2, bool), np.ones(2, np.int32)],
    "0-d array and ints": [np.array(1.5), 3, True],
    "0-d int32 array and an int": [np.array(1, np.int32), 3],
    "numpy float32 and int64 scalars": [np.float32(1), np.int64(2)],
    "numpy int64 scalar and a float": [np.int64(1), 2.5],
    "numpy float32 scalar and an int": [np.float32(1), 3],
    "int and numpy float64": [1, np.float64(2.5)],
    "int and numpy float16": [1, np.float16(2.5)],
    "int and 0-d float32 array": [1, np.array(2.5, np.float32)],
    "float and numpy float32": [1.0, np.float32(2)],
    "float32 features, int labels": [(np.ones(2, np.float32), np.int64(1)),
                                     (np.zeros(2, np.float32), 2)],
}


@pytest.mark.filterwarnings("ignore:Creating a tensor from a list of numpy.ndarrays")
@pytest.mark.parametrize("case", list(COLLATE_CASES))
def test_default_collate_matches_torch(torch, case):
    batch = COLLATE_CASES[case]
    assert plain(default_collate(batch)) == plain(torch.utils.data.default_collate(batch))


def test_default_collate_tensors(torch):
    rows = np.arange(6, dtype=np.float32).reshape(3, 2)
    ours = default_collate([Tensor(r) for r in rows])
    theirs = torch.utils.data.default_collate([torch.from_numpy(r) for r in rows])
    assert plain(ours) == plain(theirs)
    scalars = default_collate([Tensor(np.array(i)) for i in range(3)])
    assert scalars.shape == (3,) and scalars.data.dtype == np.int64
    # a batch of tensors that require grad stacks on the tape, as torch.stack does
    leaves = [Tensor(r, requires_grad=True) for r in rows]
    stacked = default_collate(leaves)
    (stacked * Tensor(np.array([[1.0, 2.0]], dtype=np.float32))).sum().backward()
    assert leaves[1].grad.data.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("batch", [
    [None, None], [np.array(["a"]), np.array(["b"])], [object()],
    [[1, 2], [3]], [np.zeros(2), np.zeros(3)], [np.zeros((2, 2)), np.zeros((3, 1))], []])
def test_default_collate_errors_match_torch(torch, batch):
    same_error(lambda: default_collate(batch), lambda: torch.utils.data.default_collate(batch))


def test_default_collate_unequal_tensors(torch):
    same_error(lambda: default_collate([Tensor(np.zeros(2)), Tensor(np.zeros(3))]),
               lambda: torch.utils.data.default_collate([torch.zeros(2), torch.zeros(3)]))


def test_default_collate_mixed_tensors_as_torch(torch):
    ours = default_collate([Tensor(np.ones(2, np.float32)), Tensor(np.ones(2, np.int64))])
    theirs = torch.utils.data.default_collate([torch.ones(2), torch.ones(2, dtype=torch.int64)])
    assert plain(ours) == plain(theirs)
    # a Tensor batch takes only Tensors: torch.stack's error
    same_error(lambda: default_collate([Tensor(np.ones(2)), np.ones(2)]),
               lambda: torch.utils.data.default_collate([torch.ones(2), np.ones(2)]))
    same_error(lambda: default_collate([Tensor(np.ones(2)), 3]),
               lambda: torch.utils.data.default_collate([torch.ones(2), 3]))


@pytest.mark.parametrize("batch, exc", [
    ([np.ones(2), 3], RuntimeError),  # torch: the 0-d tensor of 3 does not stack with [2]
    ([3, np.ones(2)], TypeError), ([3.0, np.ones(1)], TypeError),
    ([np.float32(1), np.ones(2)], TypeError),
    ([1, "Tensor of shape (2,)"], ValueError)])
def test_default_collate_mixed_kinds_say_what_torch_says(torch, batch, exc):
    # these raised an AttributeError ('int' has no attribute 'shape') or NumPy's
    # inhomogeneous-shape ValueError; now torch's type, with torch's message in ours
    theirs_batch = [torch.ones(2) if isinstance(x, str) else x for x in batch]
    ours_batch = [Tensor(np.ones(2, np.float32)) if isinstance(x, str) else x for x in batch]
    (t1, m1), (t2, m2) = raised(lambda: default_collate(ours_batch)), \
        raised(lambda: torch.utils.data.default_collate(theirs_batch))
    assert t1 == t2 == exc.__name__ and m2 in m1, (m1, m2)
    if exc is not RuntimeError:
        assert "element 1 of the batch is a " in m1


@pytest.mark.parametrize("batch", [[3, "a"], [3, None], [3, (1, 2)], [np.ones(2), "a"],
                                   [np.ones(2), None]])
def test_default_collate_mixed_kinds_are_type_errors(torch, batch):
    # torch fails too, with a TypeError or a RuntimeError ("Could not infer dtype of
    # NoneType") that names neither the element nor the batch's kind; ours names both
    with pytest.raises((TypeError, RuntimeError)):
        torch.utils.data.default_collate(batch)
    with pytest.raises(TypeError, match=r"element 1 of the batch is of type \w+, but element 0"):
        default_collate(batch)
    # (torch stacks [np.ones(2), [1.0, 2.0]], a list beside an array; ours refuses it)
    with pytest.raises(TypeError, match="a batch of arrays must hold only arrays"):
        default_collate([np.ones(2), [1.0, 2.0]])


@pytest.mark.parametrize("sample", [
    (np.zeros(2), 1, np.float32(2), [np.int64(3)]), {"a": np.ones((2, 2)), "b": 2.5},
    Point(np.array(1), "s"), np.arange(3), 7, "text", [np.array(["x"])]])
def test_default_convert_matches_torch(torch, sample):
    assert plain(default_convert(sample)) == plain(torch.utils.data.default_convert(sample))


# ---------------------------------------------------------------------------------------------
# DataLoader over a dataset
# ---------------------------------------------------------------------------------------------

def _pair(torch, n=10, d=3):
    X = np.arange(n * d, dtype=np.float32).reshape(n, d)
    y = np.arange(n) % 3
    return (TensorDataset(X, y),
            torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y)))


@pytest.mark.parametrize("kwargs", [
    {}, {"batch_size": 4}, {"batch_size": 4, "drop_last": True}, {"batch_size": 5},
    {"batch_size": 11}, {"batch_size": 11, "drop_last": True}, {"batch_size": None},
    {"batch_size": 3, "num_workers": 0}])
def test_loader_batches_and_len_match_torch(torch, kwargs):
    ours, theirs = _pair(torch)
    a, b = DataLoader(ours, **kwargs), torch.utils.data.DataLoader(theirs, **kwargs)
    assert len(a) == len(b)
    assert [plain(x) for x in a] == [plain(x) for x in b]


def test_loader_positional_arguments_as_torch(torch):
    ours, theirs = _pair(torch)
    a = DataLoader(ours, 4, False, None, None, 0, None, False, True)  # ..., drop_last=True
    b = torch.utils.data.DataLoader(theirs, 4, False, None, None, 0, None, False, True)
    assert len(a) == len(b) == 2 and [plain(x) for x in a] == [plain(x) for x in b]
    c = DataLoader(dataset=ours, batch_size=6)
    assert len(c) == 2 and c.batch_size == 6


def test_loader_with_samplers_and_collate(torch):
    ours, theirs = _pair(torch)
    tud = torch.utils.data
    a = DataLoader(ours, batch_sampler=BatchSampler(range(9, -1, -1), 3, True))
    b = tud.DataLoader(theirs, batch_sampler=tud.BatchSampler(range(9, -1, -1), 3, True))
    assert len(a) == len(b) == 3 and [plain(x) for x in a] == [plain(x) for x in b]
    a = DataLoader(ours, batch_size=4, sampler=[3, 1, 4, 1, 5])
    b = tud.DataLoader(theirs, batch_size=4, sampler=[3, 1, 4, 1, 5])
    assert [plain(x) for x in a] == [plain(x) for x in b]
    count = DataLoader(ours, batch_size=4, collate_fn=len)
    assert list(count) == [4, 4, 2]
    subset = Subset(ours, [8, 6, 4])  # fetched through __getitems__
    assert [plain(x) for x in DataLoader(subset, batch_size=2)] == \
           [plain(x) for x in tud.DataLoader(tud.Subset(theirs, [8, 6, 4]), batch_size=2)]


@pytest.mark.parametrize("kwargs", [
    {"sampler": [0, 1], "shuffle": True},
    {"batch_sampler": [[0, 1]], "batch_size": 2},
    {"batch_sampler": [[0, 1]], "shuffle": True},
    {"batch_sampler": [[0, 1]], "sampler": [0, 1]},
    {"batch_sampler": [[0, 1]], "drop_last": True},
    {"batch_size": None, "drop_last": True},
    {"batch_size": 0}, {"batch_size": -2}, {"drop_last": "yes"},
    {"num_workers": -1}, {"timeout": -1.0}, {"prefetch_factor": 2},
    {"persistent_workers": True}, {"multiprocessing_context": "spawn"},
    {"num_workers": 1, "prefetch_factor": -1},
])
def test_loader_errors_match_torch(torch, kwargs):
    ours, theirs = _pair(torch)
    same_error(lambda: DataLoader(ours, **kwargs),
               lambda: torch.utils.data.DataLoader(theirs, **kwargs))


def test_loader_form_errors():
    ds = TensorDataset(np.zeros((4, 2)))
    with pytest.raises(TypeError, match="'seed'.*array form"):
        DataLoader(ds, seed=1)
    with pytest.raises(TypeError, match="'collate_fn'.*TensorDataset"):
        DataLoader(np.zeros((4, 2)), collate_fn=len)
    with pytest.raises(TypeError, match="shuffle"):
        DataLoader(ds, shuffle="yes")
    with pytest.raises(TypeError, match="num_workers"):
        DataLoader(ds, num_workers=1.5)
    with pytest.raises(TypeError, match="collate_fn must be callable"):
        DataLoader(ds, collate_fn=3)


def test_loader_forms_told_apart():
    X = np.arange(8.0).reshape(4, 2)
    assert len(DataLoader(X)) == 1 and len(DataLoader(X.tolist())) == 1  # arrays: 32 a batch
    assert len(DataLoader(Tensor(X))) == 1 and len(DataLoader(X=X, batch_size=3)) == 2
    assert len(DataLoader(TensorDataset(X))) == 4  # a dataset: 1 a batch, as torch
    assert list(DataLoader(range(5), 2))[2].data.tolist() == [4]  # duck-typed dataset
    assert DataLoader(X).n_samples == 4 and DataLoader(TensorDataset(X)).n_samples == 4

    class Unsized(Dataset):  # no __len__: a Dataset all the same, fed by its own sampler
        def __getitem__(self, i):
            return float(i)
    assert [b.data.tolist() for b in DataLoader(Unsized(), batch_size=2, sampler=[5, 6, 7])] \
        == [[5.0, 6.0], [7.0]]


def _samples(torch, kind):
    """(ours, torch's): the same list (or tuple) of samples, built for each library."""
    X, y = [0.5, 1.5, 2.5, 3.5, 4.5], [0, 1, 0, 1, 1]
    if kind == "zip":  # the usual list(zip(X, y)): Python floats and ints
        return list(zip(X, y)), list(zip(X, y))
    if kind == "array and label":
        data = [(np.full(3, i, np.float32), i) for i in range(5)]
        return data, data
    if kind == "dicts":
        data = [{"x": np.arange(2) + i, "y": float(i), "id": str(i)} for i in range(5)]
        return data, data
    if kind == "arrays":
        data = [np.arange(3) * i for i in range(5)]
        return data, data
    if kind == "tensors":
        rows = np.arange(15, dtype=np.float32).reshape(5, 3)
        return [Tensor(r) for r in rows], [torch.from_numpy(r) for r in rows]
    if kind == "lists of an array and a label":
        data = [[np.ones(2) * i, i] for i in range(5)]
        return data, data
    if kind == "tuple of tuples":
        return tuple(zip(X, y)), tuple(zip(X, y))
    raise AssertionError(kind)


@pytest.mark.parametrize("kwargs", [{}, {"batch_size": 2}, {"batch_size": None},
                                    {"batch_size": 2, "drop_last": True}])
@pytest.mark.parametrize("kind", ["zip", "array and label", "dicts", "arrays", "tensors",
                                  "lists of an array and a label", "tuple of tuples"])
def test_loader_over_a_list_of_samples_is_torchs(torch, kind, kwargs):
    # A list of samples took the array form: list(zip(X, y)) became one (n, 2) float array,
    # so batch_size=2 unpacked a (2, 2) batch as "x" and "y" -- wrong batches, silently.
    ours, theirs = _samples(torch, kind)
    a, b = DataLoader(ours, **kwargs), torch.utils.data.DataLoader(theirs, **kwargs)
    assert len(a) == len(b)
    assert [plain(x) for x in a] == [plain(x) for x in b]


def test_loader_list_form_rule():
    X = np.arange(8.0).reshape(4, 2)
    # numbers, or nested lists of numbers, stay the array form: rows of X, float32, 32 a batch
    for data in (X.tolist(), [1, 2, 3, 4], [[True, False]] * 4, ()):
        loader = DataLoader(data)
        assert not loader._over_dataset and loader.batch_size == 32
    (xb,) = list(DataLoader(X.tolist()))
    assert xb.dtype == np.float32 and xb.shape == (4, 2)
    # ... unless a keyword says dataset: batch_size=None or one only the dataset form has
    assert list(DataLoader(X.tolist(), batch_size=None))[1] == [2.0, 3.0]  # a sample as it is
    assert list(DataLoader(X.tolist(), batch_size=3, collate_fn=len)) == [3, 1]
    ragged = [[1, 2, 3], [4, 5]]  # variable-length samples with a padding collate_fn
    assert list(DataLoader(ragged, batch_size=2, collate_fn=lambda b: [len(s) for s in b])) \
        == [[3, 2]]
    # a list of samples refuses the array form's keywords, saying which form it took
    with pytest.raises(TypeError, match="'seed'.*array form"):
        DataLoader([(1.0, 0)] * 4, seed=0)
    # what stays the array form and fails says how a list becomes a dataset
    with pytest.raises(ValueError, match="ragged list.*taken as a dataset.*first item is a tuple"):
        DataLoader([[1, 2], [3]])
    with pytest.raises(TypeError, match="got dtype <U1.*taken as a dataset"):
        DataLoader(["a", "b"])
    with pytest.raises(TypeError, match="got None: batch_size=None .* dataset form.*TensorDataset"):
        DataLoader(X, batch_size=None)


def test_loader_num_workers_gives_the_same_batches():
    ds = TensorDataset(np.arange(10.0))
    single = [b[0].data.tolist() for b in DataLoader(ds, batch_size=3)]
    multi = [b[0].data.tolist() for b in DataLoader(ds, batch_size=3, num_workers=2,
                                                     persistent_workers=True, pin_memory=True,
                                                     prefetch_factor=2)]
    assert single == multi


def test_loader_shuffle_reproducible_and_epochs_differ():
    ds = TensorDataset(np.arange(40))

    def epochs(loader, k=2):
        return [[int(v) for b in loader for v in b[0].data] for _ in range(k)]
    a = epochs(DataLoader(ds, batch_size=8, shuffle=True, generator=3))
    b = epochs(DataLoader(ds, batch_size=8, shuffle=True, generator=3))
    assert a == b and a[0] != a[1] and sorted(a[0]) == list(range(40))
    tg.manual_seed(12)
    c = epochs(DataLoader(ds, batch_size=8, shuffle=True))
    tg.manual_seed(12)
    assert epochs(DataLoader(ds, batch_size=8, shuffle=True)) == c


# ---------------------------------------------------------------------------------------------
# end to end
# ---------------------------------------------------------------------------------------------

def _blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    X = rng.normal(size=(n, 2)).astype(np.float32) + np.where(y[:, None] == 1, 1.5, -1.5)
    return X.astype(np.float32), y


def test_end_to_end_sgd_on_a_tensor_dataset():
    import tinygrad_norm.functional as F

    tg.manual_seed(0)
    X, y = _blobs()
    loader = DataLoader(TensorDataset(Tensor(X), Tensor(y)), batch_size=16, shuffle=True,
                        generator=1)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = optim.SGD(model.parameters(), lr=0.1)
    first = None
    for _ in range(5):
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * xb.shape[0]
        first = total / len(X) if first is None else first
    assert total / len(X) < 0.15 < first


def test_fit_with_a_dataset_loader():
    from tinygrad_norm.training import fit

    tg.manual_seed(1)
    X, y = _blobs(seed=2)
    train, test = random_split(TensorDataset(X, y), [0.75, 0.25], generator=0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    history = fit(model, DataLoader(train, batch_size=10, shuffle=True, generator=0),
                  (X[test.indices], y[test.indices]),
                  optim.SGD(model.parameters(), lr=0.1), epochs=3, progress=False)
    assert history["test_acc"][-1] > 0.9 and history["train_loss"][-1] < history["train_loss"][0]
