"""Streams in tinygrad_norm.data against torch.utils.data 2.13: IterableDataset, ChainDataset,
get_worker_info and the DataLoader over an iterable-style dataset.

Every case builds the same stream twice, once on our IterableDataset and once on torch's, and
compares what the two DataLoaders give side by side: batches (values, dtypes, shapes, container
types), lengths, how many samples each pulls from the stream, errors (type and message) and
warnings."""
from __future__ import annotations

import itertools
import re
import warnings
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest

from tinygrad_norm import data
from tinygrad_norm.data import (ChainDataset, ConcatDataset, DataLoader, Dataset,
                                IterableDataset, TensorDataset, get_worker_info)
from tinygrad_norm.tensor import Tensor

Point = namedtuple("Point", "x y")
N = 10  # samples in every stream below


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
    if isinstance(x, np.ndarray):
        return ("ndarray", str(x.dtype), x.shape, x.tolist())
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


# the samples of a stream, by kind; ``tensor`` makes a tensor of the side that reads them
def _samples(kind, tensor):
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((N, 3)).astype(np.float32)
    labels = list(range(N))
    if kind == "ints":
        return labels
    if kind == "floats":
        return [float(v) for v in xs[:, 0]]
    if kind == "arrays":
        return list(xs)
    if kind == "tuples":
        return [(x, y) for x, y in zip(xs, labels)]
    if kind == "dicts":
        return [{"x": x, "y": np.int64(y), "name": f"s{y}"} for x, y in zip(xs, labels)]
    if kind == "namedtuples":
        return [Point(x, y) for x, y in zip(xs, labels)]
    if kind == "tensors":
        return [(tensor(x), tensor(np.array(y))) for x, y in zip(xs, labels)]
    raise AssertionError(kind)


KINDS = ["ints", "floats", "arrays", "tuples", "dicts", "namedtuples", "tensors"]


def _stream_classes(base, sized):
    """A stream over a list of samples (on ``base``, ours or torch's), counting ``iter()`` calls
    and samples pulled; with ``__len__`` when ``sized``. Both sides get the same class names, so
    torch's messages that name the class compare as they are."""
    class Stream(base):
        def __init__(self, samples, length=None):
            self.samples, self.length = samples, length
            self.passes = self.pulled = 0

        def __iter__(self):
            self.passes += 1
            for s in self.samples:
                self.pulled += 1
                yield s

        def __repr__(self):  # torch's warning prints the dataset
            return f"Stream({len(self.samples)})"

    class SizedStream(Stream):
        def __len__(self):
            return len(self.samples) if self.length is None else self.length

    return SizedStream if sized else Stream


def _pair(torch, samples_of, sized=True, length=None):
    """(ours, torch's): the same stream on each side."""
    ours_cls = _stream_classes(IterableDataset, sized)
    theirs_cls = _stream_classes(torch.utils.data.IterableDataset, sized)
    return (ours_cls(samples_of(Tensor), length),
            theirs_cls(samples_of(lambda a: torch.from_numpy(np.asarray(a))), length))


def _epoch(loader):
    return [plain(b) for b in loader]


# ---------------------------------------------------------------------------------------------
# the names, the base class, ChainDataset and ConcatDataset
# ---------------------------------------------------------------------------------------------

def test_stream_names_exported(torch):
    for name in ("IterableDataset", "ChainDataset", "get_worker_info"):
        assert name in data.__all__ and hasattr(torch.utils.data, name)


def test_iterable_dataset_is_an_abstract_dataset(torch):
    TIter = torch.utils.data.IterableDataset
    same_error(lambda: IterableDataset(), lambda: TIter())  # abstract: no __iter__

    def empty(base):  # one class name on both sides: torch's messages name it
        return type("Empty", (base,), {"__iter__": lambda self: iter(())})

    Empty, TEmpty = empty(IterableDataset), empty(TIter)
    assert isinstance(Empty(), Dataset) and list(Empty()) == list(TEmpty()) == []
    same_error(lambda: Empty()[0], lambda: TEmpty()[0])  # no index: Dataset's refusal
    same_error(lambda: len(Empty()), lambda: len(TEmpty()))  # no default __len__
    assert IterableDataset[int] is IterableDataset  # ported annotations of the Generic base


def test_add_chains_streams(torch):
    ours, theirs = _pair(torch, lambda t: _samples("ints", t))
    ours2, theirs2 = _pair(torch, lambda t: [100, 101, 102])
    a, b = ours + ours2 + ours, theirs + theirs2 + theirs
    assert isinstance(a, ChainDataset) and isinstance(a.datasets[0], ChainDataset)
    assert list(a) == list(b) and len(a) == len(b) == 2 * N + 3
    assert list(a) == list(b)  # a second pass restarts every stream


def test_chain_dataset_iterates_and_measures_as_torch(torch):
    ours, theirs = _pair(torch, lambda t: _samples("arrays", t))
    unsized_ours, unsized_theirs = _pair(torch, lambda t: [1, 2], sized=False)
    chained = ChainDataset([ours, unsized_ours])
    t_chained = torch.utils.data.ChainDataset([theirs, unsized_theirs])
    assert [plain(s) for s in chained] == [plain(s) for s in t_chained]
    same_error(lambda: len(chained), lambda: len(t_chained))  # a member without __len__
    # a generator of datasets is kept as it is and chained once, as in torch
    gen = ChainDataset(d for d in [ours, ours])
    t_gen = torch.utils.data.ChainDataset(d for d in [theirs, theirs])
    # (a comprehension: list() would ask len() first, which uses the generator up, in both)
    first = [plain(s) for s in gen]
    assert first == [plain(s) for s in t_gen] and len(first) == 2 * N
    assert [s for s in gen] == [s for s in t_gen] == []
    # a loader over a chain batches across the seam between the streams
    assert _epoch(DataLoader(ChainDataset([ours, ours]), batch_size=3)) \
        == _epoch(torch.utils.data.DataLoader(torch.utils.data.ChainDataset([theirs, theirs]),
                                              batch_size=3))


def test_chain_dataset_refuses_map_style_datasets(torch):
    ours, theirs = _pair(torch, lambda t: [1, 2])
    mapped = TensorDataset(np.zeros(2))
    t_mapped = torch.utils.data.TensorDataset(torch.zeros(2))
    # torch raises when the pass reaches the map-style dataset; a list is refused here at once
    theirs_chain = torch.utils.data.ChainDataset([theirs, t_mapped])
    same_error(lambda: ChainDataset([ours, mapped]), lambda: list(theirs_chain))
    same_error(lambda: ChainDataset((ours, [1, 2])),
               lambda: len(torch.utils.data.ChainDataset((theirs, [1, 2]))))
    with pytest.raises(AssertionError):  # ours is a ValueError that is also torch's type
        ChainDataset([mapped])
    # a generator of datasets can only be checked as the pass reaches each one, as torch does
    lazy = ChainDataset(d for d in [ours, mapped])
    lazy_theirs = torch.utils.data.ChainDataset(d for d in [theirs, t_mapped])
    same_error(lambda: list(lazy), lambda: list(lazy_theirs))


def test_concat_dataset_refuses_streams(torch):
    ours, theirs = _pair(torch, lambda t: [1, 2])
    mapped = TensorDataset(np.zeros(2))
    t_mapped = torch.utils.data.TensorDataset(torch.zeros(2))
    same_error(lambda: ConcatDataset([mapped, ours]),
               lambda: torch.utils.data.ConcatDataset([t_mapped, theirs]))
    same_error(lambda: mapped + ours, lambda: t_mapped + theirs)
    same_error(lambda: ConcatDataset([]), lambda: torch.utils.data.ConcatDataset([]))


# ---------------------------------------------------------------------------------------------
# DataLoader over a stream: batches, lengths, passes
# ---------------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:Creating a tensor from a list of numpy.ndarrays")
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("batch_size, drop_last", [
    (1, False), (3, False), (3, True), (5, False), (5, True), (10, True), (11, False),
    (11, True), (None, False)])
def test_loader_batches_match_torch(torch, kind, batch_size, drop_last):
    ours, theirs = _pair(torch, lambda t: _samples(kind, t))
    loader = DataLoader(ours, batch_size=batch_size, drop_last=drop_last)
    t_loader = torch.utils.data.DataLoader(theirs, batch_size=batch_size, drop_last=drop_last)
    first = _epoch(loader)
    assert first == _epoch(t_loader)
    assert ours.pulled == theirs.pulled  # the same samples asked of the stream
    assert len(loader) == len(t_loader)
    assert _epoch(loader) == first and ours.passes == 2  # a second pass restarts the stream


@pytest.mark.parametrize("batch_size", [None, 1, 4])
@pytest.mark.parametrize("kind", ["ints", "tuples", "dicts"])
def test_loader_collate_fn_as_torch(torch, batch_size, kind):
    def describe(batch):  # sees the samples as they are, batched or not
        return [type(batch).__name__, len(batch) if isinstance(batch, list) else None]

    ours, theirs = _pair(torch, lambda t: _samples(kind, t))
    assert list(DataLoader(ours, batch_size=batch_size, collate_fn=describe)) \
        == list(torch.utils.data.DataLoader(theirs, batch_size=batch_size, collate_fn=describe))


@pytest.mark.parametrize("n", [0, 1, 9, 10, 11])
@pytest.mark.parametrize("batch_size, drop_last", [
    (None, False), (1, False), (3, False), (3, True), (10, False), (10, True), (12, True)])
def test_loader_len_matches_torch(torch, n, batch_size, drop_last):
    ours, theirs = _pair(torch, lambda t: _samples("ints", t), length=n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a stream longer than its length: see below
        assert len(DataLoader(ours, batch_size=batch_size, drop_last=drop_last)) \
            == len(torch.utils.data.DataLoader(theirs, batch_size=batch_size, drop_last=drop_last))


def test_loader_len_without_dataset_len_is_torchs_type_error(torch):
    ours, theirs = _pair(torch, lambda t: _samples("ints", t), sized=False)
    for kwargs in ({}, {"batch_size": 4}, {"batch_size": None}):
        same_error(lambda: len(DataLoader(ours, **kwargs)),
                   lambda: len(torch.utils.data.DataLoader(theirs, **kwargs)))
        # no length is needed to iterate
        assert _epoch(DataLoader(ours, **kwargs)) \
            == _epoch(torch.utils.data.DataLoader(theirs, **kwargs))


def _warnings(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [(w.category.__name__, str(w.message)) for w in caught]


@pytest.mark.parametrize("batch_size", [None, 1, 2])
@pytest.mark.parametrize("length", [2, 4, 10])
def test_loader_warns_as_torch_when_a_stream_outruns_its_len(torch, batch_size, length):
    ours, theirs = _pair(torch, lambda t: _samples("ints", t), length=length)

    def epoch_after_len(dataset, make):
        loader = make(dataset, batch_size=batch_size)
        len(loader)  # torch warns only once len(loader) has been asked for
        list(loader)

    got = _warnings(lambda: epoch_after_len(ours, DataLoader))
    want = _warnings(lambda: epoch_after_len(theirs, torch.utils.data.DataLoader))
    assert got == want
    assert bool(got) == ((N if batch_size in (None, 1) else N // 2) > length)


def test_loader_len_warning_reads_the_length_when_a_pass_starts(torch):
    ours, theirs = _pair(torch, lambda t: _samples("ints", t), length=2)

    def sequences(dataset, make):
        quiet = make(dataset)
        it = iter(quiet)  # asked for len() after the pass began: no warning, as torch
        len(quiet)
        list(it)
        never = make(dataset)
        list(never)  # never asked for len(): no warning
        return [list(quiet)]  # len() was asked before this pass: it warns

    got = _warnings(lambda: sequences(ours, DataLoader))
    want = _warnings(lambda: sequences(theirs, torch.utils.data.DataLoader))
    assert got == want and len(got) == N - 2
    assert "Length of IterableDataset Stream(10) was reported to be 2" in got[0][1]


def test_loader_warning_points_at_the_loop():
    loader = DataLoader(_stream_classes(IterableDataset, True)([1, 2, 3], 1))
    len(loader)
    with pytest.warns(UserWarning, match="reported to be 1") as caught:
        for _ in loader:
            pass
    assert all(Path(w.filename).name == Path(__file__).name for w in caught)


def test_loader_over_an_endless_stream(torch):
    class Count(IterableDataset):
        def __iter__(self):
            return itertools.count()

    class TCount(torch.utils.data.IterableDataset):
        def __iter__(self):
            return itertools.count()

    ours = list(itertools.islice(DataLoader(Count(), batch_size=4), 3))
    theirs = list(itertools.islice(torch.utils.data.DataLoader(TCount(), batch_size=4), 3))
    assert [plain(b) for b in ours] == [plain(b) for b in theirs]


def test_loader_over_a_one_shot_stream(torch):
    # a dataset whose __iter__ hands out one shared iterator is exhausted after a pass
    class Once(IterableDataset):
        def __init__(self):
            self.it = iter(range(5))

        def __iter__(self):
            return self.it

    class TOnce(torch.utils.data.IterableDataset):
        def __init__(self):
            self.it = iter(range(5))

        def __iter__(self):
            return self.it

    loader = DataLoader(Once(), batch_size=2)
    t_loader = torch.utils.data.DataLoader(TOnce(), batch_size=2)
    assert _epoch(loader) == _epoch(t_loader) and _epoch(loader) == _epoch(t_loader) == []


def test_loader_stops_asking_an_ended_stream(torch):
    # a stream that would go on after its first StopIteration: once it has ended, a pass asks
    # it for nothing more, as torch's fetcher
    class Restarting:
        def __init__(self):
            self.calls = 0

        def __iter__(self):
            return self

        def __next__(self):
            self.calls += 1
            if self.calls > 50:  # a loader that kept asking would never end
                raise RuntimeError("asked again and again after the stream ended")
            if self.calls % 4 == 0:
                raise StopIteration
            return self.calls

    def via(base, make):
        source = Restarting()
        ds = type("S", (base,), {"__iter__": lambda self: source})()
        return [plain(b) for b in make(ds, batch_size=2)], source.calls

    assert via(IterableDataset, DataLoader) \
        == via(torch.utils.data.IterableDataset, torch.utils.data.DataLoader)


def test_loader_attributes_as_torch(torch):
    ours, theirs = _pair(torch, lambda t: _samples("ints", t))
    loader = DataLoader(ours, batch_size=4)
    t_loader = torch.utils.data.DataLoader(theirs, batch_size=4)
    assert type(loader.sampler).__name__ == type(t_loader.sampler).__name__ \
        == "_InfiniteConstantSampler"
    assert list(itertools.islice(loader.sampler, 3)) == [None] * 3
    assert loader.batch_sampler.batch_size == t_loader.batch_sampler.batch_size == 4
    assert loader.collate_fn is data.default_collate and loader.dataset is ours
    unbatched = DataLoader(ours, batch_size=None)
    assert unbatched.batch_sampler is None and unbatched.collate_fn is data.default_convert
    assert repr(loader) == "DataLoader(dataset=SizedStream (iterable), batch_size=4, " \
                           "drop_last=False)"
    # by keyword too, and a generator is accepted and unused (a stream has no order to seed)
    assert _epoch(DataLoader(dataset=ours, batch_size=4, generator=0)) == _epoch(t_loader)


# ---------------------------------------------------------------------------------------------
# DataLoader over a stream: errors
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    {"shuffle": True},
    {"sampler": [0, 1]},
    {"batch_sampler": [[0, 1]]},
    {"sampler": [0, 1], "shuffle": True},  # the shuffle refusal comes first, as torch
    {"batch_sampler": [[0, 1]], "batch_size": 4},
    {"sampler": [0, 1], "batch_sampler": [[0, 1]]},
    {"batch_size": None, "drop_last": True},
    {"num_workers": -1, "shuffle": True},  # torch's earlier checks come before
    {"prefetch_factor": 2, "shuffle": True},
])
def test_loader_errors_match_torch(torch, kwargs):
    ours, theirs = _pair(torch, lambda t: _samples("ints", t))
    same_error(lambda: DataLoader(ours, **kwargs),
               lambda: torch.utils.data.DataLoader(theirs, **kwargs))


@pytest.mark.parametrize("shuffle", [None, False])
def test_loader_takes_an_unspecified_shuffle(torch, shuffle):
    ours, theirs = _pair(torch, lambda t: _samples("ints", t))
    assert _epoch(DataLoader(ours, batch_size=3, shuffle=shuffle)) \
        == _epoch(torch.utils.data.DataLoader(theirs, batch_size=3, shuffle=shuffle))


def test_loader_shuffle_must_be_a_bool():
    ours = _stream_classes(IterableDataset, True)([1, 2])
    with pytest.raises(TypeError, match="shuffle must be a bool"):  # as for a map-style one
        DataLoader(ours, shuffle="yes")


# ---------------------------------------------------------------------------------------------
# workers: every worker process reads its own copy of the stream, as in torch
# (tests/test_data_workers.py has the rest: seeds, errors, shutdown)
# ---------------------------------------------------------------------------------------------

def test_get_worker_info_is_none_in_the_calling_process(torch):
    assert get_worker_info() is None and torch.utils.data.get_worker_info() is None
    seen = []

    class Watch(IterableDataset):
        def __iter__(self):
            seen.append(get_worker_info())
            return iter(range(3))

    assert [int(b) for b in DataLoader(Watch(), num_workers=0)] == [0, 1, 2]
    assert seen == [None]
    # with workers, each worker reads a copy of the stream (and its get_worker_info() is not
    # None there): torch's batches, every sample twice
    class TheirWatch(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(3))

    fork = {"multiprocessing_context": "fork"}  # local classes: copied, not pickled
    ours = [int(b) for b in DataLoader(Watch(), num_workers=2, **fork)]
    assert ours == [int(b) for b in torch.utils.data.DataLoader(TheirWatch(), num_workers=2,
                                                                **fork)]
    assert ours == [0, 0, 1, 1, 2, 2] and seen == [None]  # the workers' calls were not here


def _sharded_range(base, info):
    class Sharded(base):
        """torch's documented pattern: each worker yields its share of [start, end)."""

        def __init__(self, start, end):
            self.start, self.end = start, end

        def __iter__(self):
            worker = info()
            if worker is None:  # the calling process: the whole stream
                return iter(range(self.start, self.end))
            per = -(-(self.end - self.start) // worker.num_workers)
            lo = self.start + worker.id * per
            return iter(range(lo, min(lo + per, self.end)))

    return Sharded


@pytest.mark.parametrize("batch_size", [None, 2])
def test_workers_read_their_share_of_the_stream(torch, batch_size):
    ours = _sharded_range(IterableDataset, get_worker_info)(3, 10)
    theirs = _sharded_range(torch.utils.data.IterableDataset,
                            torch.utils.data.get_worker_info)(3, 10)
    # a stream that shards itself: each worker yields its share, the shares' batches taken in
    # turn, as torch (and once each: the whole range, no duplicate)
    fork = {"multiprocessing_context": "fork"}  # local classes: copied, not pickled
    for workers in (1, 2):
        got = DataLoader(ours, batch_size=batch_size, num_workers=workers,
                         persistent_workers=True, **fork)
        expected = torch.utils.data.DataLoader(theirs, batch_size=batch_size,
                                               num_workers=workers, persistent_workers=True,
                                               **fork)
        assert _epoch(got) == _epoch(expected)
        values = [int(v) for b in got for v in np.ravel(b.data if isinstance(b, Tensor) else b)]
        assert sorted(values) == list(range(3, 10))
    # and a stream that ignores workers is copied once per worker, as in torch
    naive, theirs = _pair(torch, lambda t: _samples("ints", t))
    got = list(DataLoader(naive, batch_size=None, num_workers=2, **fork))
    assert len(got) == 2 * N
    assert [plain(b) for b in got] == [plain(b) for b in torch.utils.data.DataLoader(
        theirs, batch_size=None, num_workers=2, **fork)]


# ---------------------------------------------------------------------------------------------
# the documented example: a CSV file read lazily
# ---------------------------------------------------------------------------------------------

def _doc_example():
    text = (Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
    found = [b for b in blocks if "IterableDataset" in b]
    assert len(found) == 1, "docs/api.md's streaming example was not found"
    return found[0]


def test_documented_streaming_example_runs(tmp_path, monkeypatch, torch):
    rows = np.random.default_rng(3).standard_normal((7, 3)).astype(np.float32)
    labels = np.arange(7) % 2
    with open(tmp_path / "train.csv", "w", encoding="utf-8") as f:
        f.write("a,b,c,label\n")
        for r, y in zip(rows, labels):
            f.write(",".join(f"{v!r}" for v in r.tolist()) + f",{y}\n")
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(_doc_example(), "docs/api.md", "exec"), namespace)
    batches = namespace["batches"]
    assert [xb.shape for xb, _ in batches] == [(4, 3), (3, 3)]
    np.testing.assert_array_equal(np.concatenate([xb.data for xb, _ in batches]), rows)
    assert np.concatenate([yb.data for _, yb in batches]).tolist() == labels.tolist()
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64


def test_a_stream_whose_iter_returns_itself_is_read_once_per_pass_as_torch(torch):
    # a reader that rewinds in __iter__ and returns self gave its first batch forever: islice
    # called iter() on it for every batch (the reviewer's finding); torch only calls next()
    import itertools
    import torch.utils.data as TD
    from tinygrad_norm import data as D
    results = []
    for M in (TD, D):
        class Lines(M.IterableDataset):
            def __iter__(self):
                self.i = 0
                return self

            def __next__(self):
                if self.i >= 3:
                    raise StopIteration
                self.i += 1
                return self.i

        class NextOnly:
            def __init__(self):
                self.i = 0

            def __next__(self):
                if self.i >= 3:
                    raise StopIteration
                self.i += 1
                return self.i

        class Stream(M.IterableDataset):
            def __iter__(self):
                return NextOnly()
        got = []
        for ds in (Lines(), Stream()):
            for bs in (2, None):
                loader = M.DataLoader(ds, batch_size=bs)
                plain = (lambda b: b.tolist() if hasattr(b, "tolist") else b)
                got.append([plain(b) for b in itertools.islice(loader, 6)])
                got.append([plain(b) for b in loader])  # a second pass starts over
        results.append(got)
    assert results[0] == results[1]
