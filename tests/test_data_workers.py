"""DataLoader worker processes (num_workers > 0) and DistributedSampler, against torch 2.13.

What a loader gives with workers is compared with what it gives without (same batches, same
order, same collated types) and with torch's DataLoader with the same number of workers (a
stream's copies, their interleaving, error messages). Every test checks, through the autouse
fixture, that no worker process is left behind; the shutdown tests check the worker pids are
reaped (no zombies)."""
from __future__ import annotations

import gc
import multiprocessing
import os
import random
import re
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import data
from tinygrad_norm.data import (DataLoader, Dataset, DistributedSampler, IterableDataset, Subset,
                                TensorDataset, get_worker_info)
from tinygrad_norm.data.worker import numpy_seed_words
from tinygrad_norm.tensor import Tensor


@pytest.fixture(autouse=True)
def no_worker_left():
    """Every test leaves no child process: the workers of every loader it made were stopped and
    reaped once their iterators went away."""
    yield
    if multiprocessing.active_children():  # a full gc costs ~0.2 s with torch loaded: only
        gc.collect()                       # when an iterator in a cycle awaits one
    assert multiprocessing.active_children() == []


def plain(x):
    """A batch as nested plain values, tagged with types and dtypes, for == (ours or torch's)."""
    if isinstance(x, Tensor):
        return ("tensor", str(x.data.dtype), x.data.shape, x.data.tolist())
    if type(x).__module__ == "torch" and type(x).__name__ == "Tensor":
        return ("tensor", str(x.dtype).replace("torch.", ""), tuple(x.shape), x.tolist())
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [plain(v) for v in x])
    if isinstance(x, dict):
        return ("dict", {k: plain(v) for k, v in x.items()})
    return (type(x).__name__, x)


def epoch(loader):
    return [plain(b) for b in loader]


def raised(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value).__name__, str(info.value)


def error_of(loader):
    """(type, message) of what iterating ``loader`` raises, caught without keeping its traceback
    (which holds the iterator, and so would keep torch's workers alive until a gc)."""
    it = iter(loader)
    try:
        for _ in it:
            pass
    except Exception as e:
        e.__traceback__ = None  # torch's re-raise makes a cycle through it
        return type(e), str(e)
    finally:
        del it
    raise AssertionError("nothing raised")


def gone(pid):
    """Whether process ``pid`` no longer exists, not even as a zombie (Linux's /proc)."""
    return not os.path.exists(f"/proc/{pid}")


# ---------------------------------------------------------------------------------------------
# datasets (at module level: a worker started by 'spawn' imports them by name)
# ---------------------------------------------------------------------------------------------

class Fields(Dataset):
    """Samples of every kind default_collate handles: arrays, NumPy scalars, ints, floats,
    bools, strings, nested dicts and tuples."""

    def __len__(self):
        return 11

    def __getitem__(self, i):
        return {"x": np.arange(3, dtype=np.float32) + i, "i": i, "f": i / 2, "b": i % 2 == 0,
                "name": f"s{i}", "pair": (np.int16(i), [np.float64(i)])}


class WhoAmI(Dataset):
    """Sample i: (i, the pid and the worker id that fetched it, the worker's seed, and the first
    draw of Python's random, NumPy's legacy global generator and the framework generator after
    the seeding -- taken once per worker, when it fetches its first sample)."""

    def __init__(self, n=8, offset=0):
        self.n, self.offset = n, offset
        self.first = None

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        info = get_worker_info()
        if self.first is None:
            self.first = (random.random(), float(np.random.random()),
                          float(tg.random.generator().random()))
        return (i + self.offset, os.getpid(), -1 if info is None else info.id,
                -1 if info is None else info.seed, *self.first)


class Slow(Dataset):
    """i, after ``delays.get(i, 0)`` seconds; ``started`` (an event) is set as the first
    fetch begins."""

    def __init__(self, n, delays=None, pause=0.0, started=None):
        self.n, self.delays, self.pause, self.started = n, delays or {}, pause, started

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if self.started is not None:
            self.started.set()
        time.sleep(self.delays.get(i, self.pause))
        return i


class Failing(Dataset):
    """Raises ``error`` at index ``at``."""

    def __init__(self, error, at=2, n=6):
        self.error, self.at, self.n = error, at, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.at:
            raise self.error
        return i


class Dies(Dataset):
    """A worker that fetches index 1 dies at once (as if killed)."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 1 and get_worker_info() is not None:
            os._exit(3)
        return i


class Stream(IterableDataset):
    """range(n): every worker yields all of it (it does not shard itself)."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


class ShardedStream(Stream):
    """range(n), each worker its contiguous share (torch's documented pattern)."""

    info = staticmethod(get_worker_info)

    def __iter__(self):
        info = self.info()
        if info is None:
            return iter(range(self.n))
        per = -(-self.n // info.num_workers)
        return iter(range(info.id * per, min((info.id + 1) * per, self.n)))


def torch_twin(torch, cls):
    """``cls`` on torch's IterableDataset (which its DataLoader needs to treat it as a stream),
    asking torch's get_worker_info."""
    return type(cls.__name__, (torch.utils.data.IterableDataset,),
                {"__init__": cls.__init__, "__iter__": cls.__iter__, "__len__": cls.__len__,
                 "info": staticmethod(torch.utils.data.get_worker_info)})


# What tests built inside a function (local classes, lambdas, torch twins) need: only fork copies
# them into a worker without pickling (Python 3.14 makes forkserver Linux's default).
FORK = {"multiprocessing_context": "fork"}


def first_four(sample):
    return np.array(sample[:4])


def offset_by_worker(worker_id):
    """A worker_init_fn: the worker's copy of the dataset counts from 100 * worker_id."""
    get_worker_info().dataset.offset = 100 * worker_id


def failing_init(worker_id):
    raise ValueError(f"no set-up for worker {worker_id}")


# ---------------------------------------------------------------------------------------------
# the same batches as without workers
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    {"batch_size": 3}, {"batch_size": 4, "drop_last": True}, {"batch_size": None},
    {"batch_size": 3, "shuffle": True, "generator": 7},
    {"batch_size": 2, "sampler": [5, 0, 5, 9, 1]},
])
def test_map_style_batches_as_without_workers(kwargs):
    ds = TensorDataset(np.arange(30, dtype=np.float32).reshape(10, 3), np.arange(10) % 3)
    single = DataLoader(ds, **kwargs)
    multi = DataLoader(ds, num_workers=2, **kwargs)
    assert [epoch(single) for _ in range(2)] == [epoch(multi) for _ in range(2)]


def test_shuffle_under_the_framework_seed_as_without_workers():
    ds = TensorDataset(np.arange(20))
    tg.manual_seed(5)
    single = [epoch(DataLoader(ds, batch_size=4, shuffle=True)) for _ in range(2)]
    after_single = float(tg.random.generator().random())
    tg.manual_seed(5)
    multi = [epoch(DataLoader(ds, batch_size=4, shuffle=True, num_workers=2)) for _ in range(2)]
    # the same orders, and the framework generator left in the same state: workers draw nothing
    # more from it than loading in the calling process does (one base seed per iterator)
    assert single == multi and float(tg.random.generator().random()) == after_single
    assert single[0] != single[1]


def test_collated_types_as_without_workers(torch):
    single, multi = DataLoader(Fields(), batch_size=4), DataLoader(Fields(), batch_size=4,
                                                                   num_workers=2)
    assert epoch(single) == epoch(multi)
    # and as torch's workers give them
    theirs = torch.utils.data.DataLoader(Fields(), batch_size=4, num_workers=2)
    assert epoch(multi) == epoch(theirs)


def test_getitems_and_custom_collate_in_workers():
    ds = Subset(TensorDataset(np.arange(10)), [9, 7, 5, 3, 1])
    got = [b[0].data.tolist() for b in DataLoader(ds, batch_size=2, num_workers=2)]
    assert got == [[9, 7], [5, 3], [1]]
    assert list(DataLoader(Slow(7), batch_size=3, collate_fn=sum, num_workers=2)) == [3, 12, 6]


def test_batches_come_back_in_sampler_order_despite_slow_workers():
    # batch 0 (worker 0) is slow: batches 1, 2, ... arrive first and wait in the reorder buffer
    loader = DataLoader(Slow(12, {0: 0.2, 5: 0.1}), batch_size=2, num_workers=2)
    assert [b.data.tolist() for b in loader] == [[2 * k, 2 * k + 1] for k in range(6)]
    unordered = DataLoader(Slow(12, {0: 0.2}), batch_size=2, num_workers=2, in_order=False)
    got = [b.data.tolist() for b in unordered]
    assert sorted(got) == [[2 * k, 2 * k + 1] for k in range(6)]


def test_prefetch_factor_requests_in_flight():
    loader = DataLoader(Slow(40), batch_size=2, num_workers=2)
    assert loader.prefetch_factor == 2  # torch's default with workers
    it = iter(loader)
    assert it._sent == 4  # prefetch_factor batches per worker asked for at once
    next(it)
    assert it._sent == 5  # one handed out, one more asked for
    del it
    it = iter(DataLoader(Slow(40), batch_size=2, num_workers=2, prefetch_factor=3))
    assert it._sent == 6
    del it


# ---------------------------------------------------------------------------------------------
# get_worker_info, worker_init_fn, seeds
# ---------------------------------------------------------------------------------------------

def test_get_worker_info_and_worker_init_fn():
    assert get_worker_info() is None
    ds = WhoAmI(6)
    rows = [b.tolist() for b in
            DataLoader(ds, batch_size=None, num_workers=2, worker_init_fn=offset_by_worker,
                       collate_fn=first_four)]
    # round robin: sample k from worker k % 2, whose copy of the dataset init_fn changed
    assert [r[0] for r in rows] == [0, 101, 2, 103, 4, 105]
    assert [r[2] for r in rows] == [0, 1] * 3
    pids = {r[2]: r[1] for r in rows}
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
    assert ds.offset == 0  # the copy in this process is untouched
    seeds = {r[2]: r[3] for r in rows}
    assert seeds[1] == seeds[0] + 1  # seed = base_seed + worker id


def test_worker_info_is_frozen_and_names_its_fields():
    info = data.worker.WorkerInfo(id=0, num_workers=2, seed=5, dataset=None)
    with pytest.raises(AttributeError):
        info.id = 1
    assert (info.id, info.num_workers, info.seed) == (0, 2, 5)


def test_workers_seeded_as_torch_seeds_them(torch):
    rows = [b for b in DataLoader(WhoAmI(4), batch_size=None, num_workers=2,
                                  collate_fn=tuple)]
    firsts = {r[2]: r[3:] for r in rows}
    base = firsts[0][0]
    for worker_id, (seed, py, npy, ours) in firsts.items():
        assert seed == base + worker_id
        assert py == random.Random(seed).random()           # random.seed(seed)
        assert ours == np.random.default_rng(seed).random()  # tg.manual_seed(seed)
        # np.random.seed with the words torch's workers use
        words = torch.utils.data._utils.worker._generate_state(base, worker_id)
        assert numpy_seed_words(base, worker_id).tolist() == words
        assert npy == np.random.RandomState(np.array(words, dtype=np.uint32)).random_sample()
    # the workers draw different numbers
    assert firsts[0][1:] != firsts[1][1:]


def test_base_seed_from_the_loader_generator():
    def seeds(loader):
        return sorted({r[3] for r in loader})

    a = DataLoader(WhoAmI(4), batch_size=None, num_workers=2, collate_fn=tuple, generator=3)
    b = DataLoader(WhoAmI(4), batch_size=None, num_workers=2, collate_fn=tuple, generator=3)
    first = seeds(a)
    assert first == seeds(b) and seeds(a) != first  # reproducible; a new base seed each epoch
    tg.manual_seed(11)
    c = seeds(DataLoader(WhoAmI(4), batch_size=None, num_workers=2, collate_fn=tuple))
    tg.manual_seed(11)
    assert seeds(DataLoader(WhoAmI(4), batch_size=None, num_workers=2, collate_fn=tuple)) == c
    # persistent workers are seeded once: their seeds (and pids) stay from epoch to epoch
    p = DataLoader(WhoAmI(4), batch_size=None, num_workers=2, collate_fn=tuple,
                   persistent_workers=True)
    e1, e2 = list(p), list(p)
    assert {(r[1], r[3]) for r in e1} == {(r[1], r[3]) for r in e2}
    del p


# ---------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------

def test_worker_exception_raised_here_with_its_traceback(torch):
    loader = DataLoader(Failing(ValueError("bad index 2")), num_workers=2)
    with pytest.raises(ValueError) as ours:
        list(loader)
    kind, theirs = error_of(torch.utils.data.DataLoader(Failing(ValueError("bad index 2")),
                                                        num_workers=2))
    message = str(ours.value)
    # torch's first two lines; index 2 is the third batch: worker 0's, in turn
    assert kind is ValueError and message.splitlines()[:2] == theirs.splitlines()[:2] == [
        "Caught ValueError in DataLoader worker process 0.",
        "Original Traceback (most recent call last):"]
    assert "raise self.error" in message and message.endswith("ValueError: bad index 2\n")
    # worker 1's, and a KeyError's message printed as it is (not as a repr)
    with pytest.raises(KeyError) as key:
        list(DataLoader(Failing(KeyError("k"), at=3), num_workers=2))
    assert str(key.value).startswith("Caught KeyError in DataLoader worker process 1.\n")


def test_loading_goes_on_after_a_worker_exception():
    it = iter(DataLoader(Failing(ValueError("bad")), num_workers=2))
    assert [int(next(it)), int(next(it))] == [0, 1]
    with pytest.raises(ValueError, match="Caught ValueError"):
        next(it)
    assert [int(b) for b in it] == [3, 4, 5]  # as torch: the next batches still come


def test_exceptions_that_cannot_cross_come_back_as_runtime_errors():
    class Local(Exception):  # a class inside a function cannot be pickled
        pass

    with pytest.raises(RuntimeError, match="^Caught Local in DataLoader worker process 0."):
        list(DataLoader(Failing(Local("x"), at=0), num_workers=1, **FORK))
    # a batch that cannot be pickled is a worker error too, not a hang
    with pytest.raises(AttributeError, match="(?s)Caught AttributeError in DataLoader worker "
                                             "process 0.*Can't pickle local object"):
        list(DataLoader(Slow(2), num_workers=1, collate_fn=lambda b: lambda: b, **FORK))


def test_worker_init_fn_exception_at_the_first_batch():
    with pytest.raises(ValueError, match="(?s)Caught ValueError in DataLoader worker process 0.*"
                                         "no set-up for worker 0"):
        list(DataLoader(Slow(4), num_workers=2, worker_init_fn=failing_init))


def test_a_worker_that_dies_is_reported():
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited "
                                           r"unexpectedly"):
        list(DataLoader(Dies(), num_workers=2))


def test_timeout(torch):
    loader = DataLoader(Slow(4, {0: 0.6}), num_workers=1, timeout=0.1)
    with pytest.raises(RuntimeError) as info:
        list(loader)
    assert isinstance(info.value, TimeoutError)
    assert str(info.value) == "DataLoader timed out after 0.1 seconds"  # torch's words
    assert [int(b) for b in DataLoader(Slow(3, pause=0.01), num_workers=1, timeout=5)] == \
        [0, 1, 2]
    # without workers there is nothing to time out: torch's assertion at iter(), here a
    # ValueError that is also an AssertionError
    with pytest.raises(AssertionError):
        iter(torch.utils.data.DataLoader(Slow(2), timeout=1))
    with pytest.raises(ValueError, match="needs num_workers > 0") as ours:
        iter(DataLoader(Slow(2), timeout=1))
    assert isinstance(ours.value, AssertionError)


@pytest.mark.parametrize("kwargs", [
    {"num_workers": 2, "multiprocessing_context": "bogus"},
    {"num_workers": 2, "multiprocessing_context": 3},
    {"num_workers": 0, "multiprocessing_context": "fork"},
    {"num_workers": 2, "prefetch_factor": -1},
])
def test_option_errors_as_torch(torch, kwargs):
    (t1, m1), (t2, m2) = (raised(lambda: DataLoader(Slow(2), **kwargs)),
                          raised(lambda: torch.utils.data.DataLoader(Slow(2), **kwargs)))
    assert (t1, m1) == (t2, m2)


def test_prefetch_factor_zero_refused_at_iter():
    # torch's AssertionError at iter() (its half-made iterator then fails in __del__, so it is
    # not run here), a ValueError that is also an AssertionError here
    loader = DataLoader(Slow(2), num_workers=2, prefetch_factor=0)
    with pytest.raises(ValueError, match="^prefetch_factor must be greater than 0 for "
                                         "MultiProcessingDataLoaderIter$") as info:
        iter(loader)
    assert isinstance(info.value, AssertionError)


def test_too_many_workers_warns_as_torch(torch):
    n = len(os.sched_getaffinity(0)) + 1 if hasattr(os, "sched_getaffinity") else 64
    with pytest.warns(UserWarning) as ours:
        DataLoader(Slow(2), num_workers=n)
    with pytest.warns(UserWarning) as theirs:
        torch.utils.data.DataLoader(Slow(2), num_workers=n)
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]


def test_accepted_options():
    ctx = multiprocessing.get_context("fork")
    loader = DataLoader(Slow(5), batch_size=2, num_workers=1, multiprocessing_context=ctx,
                        pin_memory=True, pin_memory_device="cpu")
    assert loader.multiprocessing_context is ctx and loader.pin_memory  # pin_memory: a no-op
    assert [b.data.tolist() for b in loader] == [[0, 1], [2, 3], [4]]
    named = DataLoader(Slow(2), num_workers=1, multiprocessing_context="fork")
    assert isinstance(named.multiprocessing_context, multiprocessing.context.BaseContext)
    with pytest.raises(TypeError, match="worker_init_fn must be callable"):
        DataLoader(Slow(2), num_workers=1, worker_init_fn=3)


def test_spawn_start_method():
    ds = TensorDataset(np.arange(6.0))
    loader = DataLoader(ds, batch_size=4, num_workers=1, multiprocessing_context="spawn")
    assert [b[0].data.tolist() for b in loader] == [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0]]
    # what spawn cannot pickle is the pickling error, with a hint, and no worker left behind
    bad = DataLoader(ds, num_workers=1, multiprocessing_context="spawn", collate_fn=lambda b: b)
    with pytest.raises(Exception) as info:
        iter(bad)
    assert "define them at the top level of a module" in "".join(info.value.__notes__)


# ---------------------------------------------------------------------------------------------
# shutting down: no worker left, no zombie
# ---------------------------------------------------------------------------------------------

def _pids(rows):
    return {r[1] for r in rows}


def test_workers_stop_when_the_epoch_ends():
    it = iter(DataLoader(WhoAmI(6), batch_size=None, num_workers=2, collate_fn=tuple))
    rows = list(it)
    pids = _pids(rows)
    assert len(pids) == 2 and all(gone(p) for p in pids)  # reaped before StopIteration
    assert multiprocessing.active_children() == []


def test_workers_stop_when_a_loop_breaks():
    loader = DataLoader(WhoAmI(40), batch_size=None, num_workers=2, collate_fn=tuple)
    pids = set()
    for row in loader:
        pids.add(row[1])
        if len(pids) == 2:
            break
    del row
    assert multiprocessing.active_children() == [] and all(gone(p) for p in pids)


def test_workers_stop_when_the_iterator_is_deleted(monkeypatch):
    it = iter(DataLoader(Slow(40, pause=0.01), batch_size=2, num_workers=2))
    next(it)
    pids = [w.pid for w in it._workers]
    del it
    assert multiprocessing.active_children() == [] and all(gone(p) for p in pids)
    # one stuck in a slow fetch is terminated once the wait for it (2 s; 0.2 s here) is over
    monkeypatch.setattr(data.worker, "_JOIN_S", 0.2)
    started = multiprocessing.get_context("fork").Event()
    it = iter(DataLoader(Slow(4, {0: 30.0}, started=started), num_workers=1, **FORK))
    assert started.wait(10)
    pids = [w.pid for w in it._workers]
    start = time.perf_counter()
    del it
    assert time.perf_counter() - start < 10 and all(gone(p) for p in pids)


def test_persistent_workers_live_until_the_loader_goes():
    loader = DataLoader(WhoAmI(6), batch_size=None, num_workers=2, collate_fn=tuple,
                        persistent_workers=True)
    first = _pids(list(loader))
    half = iter(loader)
    next(half)  # an epoch left half done: the next one starts afresh
    second = list(loader)
    assert _pids(second) == first and [r[0] for r in second] == list(range(6))
    assert not any(gone(p) for p in first)
    del loader, half
    gc.collect()
    assert all(gone(p) for p in first)


# ---------------------------------------------------------------------------------------------
# streams: each worker its own copy
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    {"batch_size": 2}, {"batch_size": 2, "drop_last": True}, {"batch_size": None},
])
@pytest.mark.parametrize("cls", [Stream, ShardedStream])
def test_streams_as_torch(torch, cls, kwargs):
    ours = DataLoader(cls(5), num_workers=2, **kwargs)
    theirs = torch.utils.data.DataLoader(torch_twin(torch, cls)(5), num_workers=2, **FORK,
                                         **kwargs)
    got = epoch(ours)
    assert got == epoch(theirs)
    values = sorted(v for b in ours for v in np.ravel(b.data if isinstance(b, Tensor) else b))
    # the plain stream is read twice, once per worker (drop_last drops each worker's short
    # last batch); the sharded one once
    copies = 2 if cls is Stream else 1
    if kwargs.get("drop_last"):
        assert len(values) == (8 if cls is Stream else 4)
    else:
        assert values == sorted(list(range(5)) * copies)


def test_stream_with_persistent_workers_restarts_each_epoch(torch):
    ours = DataLoader(ShardedStream(7), batch_size=2, num_workers=2, persistent_workers=True)
    theirs = torch.utils.data.DataLoader(torch_twin(torch, ShardedStream)(7), batch_size=2,
                                         num_workers=2, persistent_workers=True, **FORK)
    expected = epoch(theirs)
    assert epoch(ours) == epoch(ours) == expected


def test_stream_longer_than_its_length_warns_as_torch(torch):
    def messages(loader):
        len(loader)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            list(loader)
        return sorted({str(w.message) for w in caught if "Length of" in str(w.message)})

    ours = messages(DataLoader(Stream(3), num_workers=2))
    theirs = messages(torch.utils.data.DataLoader(torch_twin(torch, Stream)(3), num_workers=2,
                                                  **FORK))

    def anonymous(m):  # the datasets' reprs differ (address, class)
        return re.sub(r"IterableDataset <.*?> was", "IterableDataset <dataset> was", m)

    assert ours and [anonymous(m) for m in ours] == [anonymous(m) for m in theirs]


# ---------------------------------------------------------------------------------------------
# DistributedSampler
# ---------------------------------------------------------------------------------------------

def test_distributed_sampler_unshuffled_as_torch(torch):
    for n in range(0, 11):
        for replicas in range(1, 5):
            for drop_last in (False, True):
                for rank in range(replicas):
                    ours = DistributedSampler(range(n), replicas, rank, shuffle=False,
                                              drop_last=drop_last)
                    theirs = torch.utils.data.DistributedSampler(
                        range(n), replicas, rank, shuffle=False, drop_last=drop_last)
                    assert list(ours) == list(theirs)
                    assert len(ours) == len(theirs) and ours.total_size == theirs.total_size


def test_distributed_sampler_shuffled_structure(torch):
    n, replicas = 10, 3
    for drop_last in (False, True):
        def shares(cls, epoch):
            out = []
            for rank in range(replicas):
                s = cls(range(n), replicas, rank, seed=4, drop_last=drop_last)
                s.set_epoch(epoch)
                out.append(list(s))
            return out

        ours, theirs = shares(DistributedSampler, 0), shares(torch.utils.data.DistributedSampler, 0)
        assert [len(s) for s in ours] == [len(s) for s in theirs]
        flat = [i for s in ours for i in s]
        if drop_last:  # 9 distinct indices, one left out
            assert len(set(flat)) == len(flat) == 9
        else:  # all 10, the first of the permutation twice (padding)
            assert sorted(set(flat)) == list(range(n)) and len(flat) == 12
        assert ours == shares(DistributedSampler, 0)  # seed + epoch: reproducible
        assert ours != shares(DistributedSampler, 1)  # another epoch, another order


def test_distributed_sampler_in_a_loader_with_workers():
    ds = TensorDataset(np.arange(10))
    got = []
    for rank in range(2):
        sampler = DistributedSampler(ds, num_replicas=2, rank=rank, shuffle=False)
        got.append([int(v) for b in DataLoader(ds, batch_size=2, sampler=sampler, num_workers=2)
                    for v in b[0].data])
    assert got == [[0, 2, 4, 6, 8], [1, 3, 5, 7, 9]]


def test_distributed_sampler_errors(torch):
    with pytest.raises(ValueError, match="num_replicas must be given.*no process group"):
        DistributedSampler(range(4))
    with pytest.raises(ValueError, match="rank must be given"):
        DistributedSampler(range(4), num_replicas=2)
    for bad in (2, -1):
        (t1, m1) = raised(lambda: DistributedSampler(range(4), 2, bad))
        (t2, m2) = raised(lambda: torch.utils.data.DistributedSampler(range(4), 2, bad))
        assert (t1, m1) == (t2, m2)
    with pytest.raises(TypeError, match="num_replicas must be an int"):
        DistributedSampler(range(4), 2.0, 0)
    with pytest.raises(ValueError, match="num_replicas must be positive"):
        DistributedSampler(range(4), 0, 0)
    with pytest.raises(TypeError, match="epoch must be an int"):
        DistributedSampler(range(4), 2, 0).set_epoch(1.5)


def test_names_exported():
    assert "DistributedSampler" in data.__all__ and "get_worker_info" in data.__all__
    assert data.get_worker_info is data.worker.get_worker_info


def test_documented_sharding_example():
    if multiprocessing.get_start_method() != "fork":  # the example's class is made by exec
        pytest.skip("the documented example runs under the default start method, fork here")
    text = (Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"^```py\n(.*?)^```", text, flags=re.S | re.M)
                if "class Shards" in b]
    *code, last = block.strip().splitlines()
    call, claimed = last.split("  # ")
    namespace = {}
    exec("\n".join(code), namespace)
    got = [b.data.tolist() for b in eval(call, namespace)]
    assert got == [[0, 1], [4, 5], [2, 3], [6]] and claimed == "[0, 1], [4, 5], [2, 3], [6]"
