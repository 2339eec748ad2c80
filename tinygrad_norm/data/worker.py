"""Loading in worker processes, as ``torch.utils.data``'s ``num_workers > 0``: the loop a worker
runs, the iterator the calling process drives it with, and ``get_worker_info``.

How an epoch runs. The calling process iterates the (batch) sampler and hands each batch's
indices, numbered in order, to one worker's index queue, the workers taken in turn (round robin),
at most ``prefetch_factor`` batches ahead per worker. A worker fetches and collates the batch
with the loader's ``collate_fn`` and puts it on the one result queue, pickled (so a batch of
Tensors arrives as a batch of Tensors holding copies of the worker's arrays). Batches arrive in
whatever order the workers finish; a reorder buffer hands them out in the sampler's order (or as
they come, with ``in_order=False``). An ``IterableDataset`` has no indices: every worker
iterates its own copy of the stream, and each request asks a worker for its next batch; a
worker whose stream has ended says so and gets no more requests.

Both sides use the same fetchers (``_MapFetcher``, ``_StreamFetcher``) as loading in the calling
process does, so ``num_workers`` never changes what a batch holds.

Nothing here imports the engine: a worker seeds the framework generator through
``tinygrad_norm.random``, looked up by name when the worker starts.
"""
from __future__ import annotations

import dataclasses
import importlib
import itertools
import os
import pickle
import queue
import random
import sys
import traceback
import warnings

import numpy as np

__all__ = ["get_worker_info"]

# How often a waiting parent checks that its workers still live: only waits are this long, never
# a batch that is flowing.
_POLL_S = 0.5
# How often an idle worker checks that it is not told to stop (the shutdown event) and that its
# parent still lives. Short: a loader collected by the garbage collector (one kept alive by an
# exception's traceback) cannot count on its queues to carry the stop message, as their
# finalizers may already have closed them; the event is always set.
_WORKER_POLL_S = 0.1
# How long a shutdown waits for a worker to leave its loop before it is terminated.
_JOIN_S = 2.0


@dataclasses.dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` tells code running in a worker: its ``id`` (0 to
    ``num_workers - 1``), ``num_workers``, the ``seed`` it was seeded with, and ``dataset``, this
    worker's own copy of the dataset. Frozen, as PyTorch's."""

    id: int
    num_workers: int
    seed: int
    dataset: object


_worker_info = None


def get_worker_info():
    """In a ``DataLoader`` worker process, its ``WorkerInfo`` (``id``, ``num_workers``, ``seed``,
    ``dataset``); in any other process None, as PyTorch's. An ``IterableDataset`` reads it in
    ``__iter__`` to yield only its share of the stream, and a ``worker_init_fn`` to set up its
    worker's copy of the dataset."""
    return _worker_info


# ---------------------------------------------------------------------------------------------
# fetching a batch: the same code in the calling process and in a worker
# ---------------------------------------------------------------------------------------------

class _MapFetcher:
    """Batches of a map-style dataset: ``collate_fn`` of the samples at a batch's indices (one
    ``__getitems__`` call when the dataset has it, as PyTorch's fetcher), or of one sample when
    batching is off."""

    def __init__(self, dataset, batched, collate_fn):
        self.dataset, self.batched, self.collate_fn = dataset, batched, collate_fn

    def fetch(self, index):
        dataset = self.dataset
        if not self.batched:
            return self.collate_fn(dataset[index])
        many = getattr(dataset, "__getitems__", None)
        return self.collate_fn(many(index) if many else [dataset[i] for i in index])


class _StreamFetcher:
    """Batches of a stream (an ``IterableDataset``), read from one ``iter(dataset)`` made when
    the fetcher is: as many samples as the request has places, drawn with ``next()`` alone (an
    iterator whose ``__iter__`` rewinds would otherwise start over). ``StopIteration`` once the
    stream is spent: at once when a batch would be empty (or short, with ``drop_last``), else
    at the request after the short batch (the stream is not asked again)."""

    def __init__(self, dataset, batched, collate_fn, drop_last):
        self.iterator = iter(dataset)
        self.batched, self.collate_fn, self.drop_last = batched, collate_fn, drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if not self.batched:
            return self.collate_fn(next(self.iterator))
        samples = []
        for _ in index:
            try:
                samples.append(next(self.iterator))
            except StopIteration:
                self.ended = True
                break
        if not samples or (self.drop_last and len(samples) < len(index)):
            raise StopIteration
        return self.collate_fn(samples)


def _make_fetcher(dataset, iterable, batched, collate_fn, drop_last):
    if iterable:
        return _StreamFetcher(dataset, batched, collate_fn, drop_last)
    return _MapFetcher(dataset, batched, collate_fn)


def _warn_long_stream(dataset, reported_len, count, num_workers):
    """PyTorch's warning when a stream yields more batches than ``len(loader)`` reported (its
    words compare batches with the dataset's length in samples), with its hint about worker
    replicas when there are workers."""
    message = (f"Length of IterableDataset {dataset} was reported to be {reported_len}(when "
               f"accessing len(dataloader)), but {count} samples have been fetched. ")
    if num_workers > 0:
        message += ("For multiprocessing data-loading, this could be caused by not properly "
                    "configuring the IterableDataset replica at each worker. Please see "
                    "https://pytorch.org/docs/stable/data.html#torch.utils.data.IterableDataset "
                    "for examples.")
    warnings.warn(message, stacklevel=3)


# ---------------------------------------------------------------------------------------------
# seeding a worker
# ---------------------------------------------------------------------------------------------

def numpy_seed_words(base_seed, worker_id):
    """The four 32-bit words a worker seeds NumPy's legacy global generator (``np.random.seed``)
    with: NumPy's ``SeedSequence`` of ``[worker_id, low word, high word of base_seed, 0]``, the
    words PyTorch's workers seed it with (its ``_generate_state``), so a given base seed gives
    ``np.random`` the same stream here as there."""
    mask = 0xFFFFFFFF
    entropy = [worker_id, base_seed & mask, (base_seed >> 32) & mask, 0]
    return np.random.SeedSequence(entropy).generate_state(4)


def _seed_worker(base_seed, worker_id):
    """Seed everything a worker may draw from, as PyTorch does: ``seed = base_seed +
    worker_id`` for Python's ``random`` and for the framework generator
    (``tinygrad_norm.manual_seed``, PyTorch's ``torch.manual_seed``), and NumPy's legacy global
    generator from ``numpy_seed_words``. Without it every forked worker would inherit the
    parent's generators and draw the same "random" augmentations as its siblings."""
    seed = base_seed + worker_id
    random.seed(seed)
    try:
        importlib.import_module("tinygrad_norm.random").manual_seed(seed)
    except ModuleNotFoundError as e:  # the data package used on its own: no framework generator
        if e.name not in ("tinygrad_norm", "tinygrad_norm.random"):
            raise
    np.random.seed(numpy_seed_words(base_seed, worker_id))
    return seed


# ---------------------------------------------------------------------------------------------
# messages between the two sides
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class _StreamEnd:
    """A worker's answer once its copy of the stream is spent."""
    worker_id: int


@dataclasses.dataclass(frozen=True)
class _Resume:
    """Start a new epoch (persistent workers): a fresh fetcher, so a stream starts over."""


class _KeyErrorMessage(str):
    """A ``KeyError``'s text shown as it is: a KeyError prints the repr of its argument, which
    would turn the traceback's line breaks into ``\\n``."""

    def __repr__(self):
        return self


class _Failure:
    """An exception raised in a worker, carried to the calling process as text: its type (when
    the type can be pickled: a class defined inside a function cannot) and its formatted
    traceback. Made inside the ``except`` block that caught it."""

    def __init__(self, worker_id):
        exc_type, exc, tb = sys.exc_info()
        self.type_name = exc_type.__name__
        self.text = "".join(traceback.format_exception(exc_type, exc, tb))
        self.where = f"in DataLoader worker process {worker_id}"
        try:
            pickle.dumps(exc_type)
            self.exc_type = exc_type
        except Exception:
            self.exc_type = None

    def reraise(self):
        """Raise it again here, as PyTorch does: the same type, with the message "Caught
        ValueError in DataLoader worker process 0." and the worker's traceback after
        "Original"; a RuntimeError with that message when the type cannot be made from one
        string (or did not survive pickling)."""
        message = f"Caught {self.type_name} {self.where}.\nOriginal {self.text}"
        if self.exc_type is KeyError:
            message = _KeyErrorMessage(message)
        try:
            if self.exc_type is None:
                raise TypeError
            error = self.exc_type(message)
        except Exception:
            raise RuntimeError(message) from None
        try:
            raise error
        finally:
            # the traceback holds this frame: without this, error -> traceback -> frame ->
            # error is a cycle, and the iterator (with its workers) lives until a gc
            del error


# ---------------------------------------------------------------------------------------------
# the worker's side
# ---------------------------------------------------------------------------------------------

def _worker_loop(worker_id, num_workers, dataset, iterable, batched, collate_fn, drop_last,
                 base_seed, init_fn, index_queue, result_queue, done_event):
    """The body of a worker process: seed, set up (``worker_init_fn``), then answer requests
    ``(task, index)`` from ``index_queue`` with ``(task, pickled batch or _Failure)`` on
    ``result_queue`` until it is told None (or sees ``done_event`` set while idle). An exception
    of the set-up is the answer to every request, so the calling process raises it where it
    asks this worker for a batch (PyTorch answers the first request with it)."""
    global _worker_info
    parent = os.getppid()
    try:
        seed = _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        init_failure = fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = _make_fetcher(dataset, iterable, batched, collate_fn, drop_last)
        except Exception:
            init_failure = _Failure(worker_id)
        ended = False  # this worker's stream is spent: requests until the next epoch are void
        while os.getppid() == parent:  # an orphan (its parent killed) leaves at once
            try:
                request = index_queue.get(timeout=_WORKER_POLL_S)
            except queue.Empty:
                if done_event.is_set():
                    break
                continue
            if request is None:
                break
            if isinstance(request, _Resume):
                ended = False
                try:
                    fetcher = _make_fetcher(dataset, iterable, batched, collate_fn, drop_last)
                    answer = request
                except Exception:
                    answer = _Failure(worker_id)
                result_queue.put((request, answer))
                continue
            if done_event.is_set() or ended:
                continue
            task, index = request
            # a failed set-up answers every request: there is no fetcher to ask
            answer = init_failure or _answer(fetcher, index, worker_id, iterable)
            ended = isinstance(answer, _StreamEnd)
            result_queue.put((task, answer))
    except KeyboardInterrupt:
        pass  # Ctrl-C reaches the whole process group: the calling process reports it
    if done_event.is_set():
        # the calling process reads no more: do not wait at exit to flush answers nobody takes
        result_queue.cancel_join_thread()
        result_queue.close()


def _answer(fetcher, index, worker_id, iterable):
    """One request's answer: the batch pickled here (so a batch that cannot be pickled is an
    error reported like any other, not an answer lost in the queue's feeder thread), the end of
    the stream, or the failure."""
    try:
        return pickle.dumps(fetcher.fetch(index), protocol=pickle.HIGHEST_PROTOCOL)
    except StopIteration:
        if iterable:
            return _StreamEnd(worker_id)
        return _Failure(worker_id)
    except Exception:
        return _Failure(worker_id)


# ---------------------------------------------------------------------------------------------
# the calling process's side
# ---------------------------------------------------------------------------------------------

class LoaderTimeout(TimeoutError, RuntimeError):
    """No batch arrived within ``DataLoader(timeout=...)`` seconds: PyTorch raises a
    RuntimeError with this message; this one is also a ``TimeoutError``."""


class _MultiProcessIter:
    """An epoch (or, with ``persistent_workers``, every epoch) of a ``DataLoader`` with
    ``num_workers > 0``: starts the workers, hands out requests, puts the answers back in order,
    and shuts the workers down when the epoch ends, when the iterator is deleted, or at
    ``_shutdown()``."""

    def __init__(self, loader, base_seed, context):
        self._num_workers = n = loader.num_workers
        self._prefetch = loader.prefetch_factor
        self._in_order = loader.in_order
        self._timeout = loader.timeout
        self._persistent = loader.persistent_workers
        self._iterable = loader._iterable
        self._dataset = loader.dataset
        self._index_sampler = loader._index_sampler()
        self._workers, self._index_queues = [], []
        self._closed = False
        self._results = context.Queue()
        self._done = context.Event()
        try:
            for worker_id in range(n):
                index_queue = context.Queue()
                # the calling process never waits at exit to flush requests nobody will read
                index_queue.cancel_join_thread()
                worker = context.Process(
                    target=_worker_loop, daemon=True,
                    args=(worker_id, n, loader.dataset, self._iterable,
                          loader.batch_sampler is not None, loader.collate_fn, loader.drop_last,
                          base_seed, loader.worker_init_fn, index_queue, self._results,
                          self._done))
                self._index_queues.append(index_queue)
                worker.start()
                self._workers.append(worker)
        except Exception as e:
            if context.get_start_method() != "fork":
                e.add_note(f"DataLoader: the {context.get_start_method()!r} start method "
                           f"pickles the dataset, collate_fn and worker_init_fn for every "
                           f"worker: define them at the top level of a module (not in a "
                           f"function or as a lambda), or pass multiprocessing_context='fork'.")
            self._shutdown()
            raise
        self._reset(loader, first=True)

    # -- epochs -----------------------------------------------------------------------------

    def _reset(self, loader, first=False):
        """Start an epoch: a fresh pass of the sampler, an empty reorder buffer, every worker
        active, then ``prefetch_factor`` requests per worker. A later epoch of persistent
        workers first tells each to start over, and drops what the last epoch left in flight."""
        self._sampler_iter = iter(self._index_sampler)
        self._reported_len = loader._reported_len
        self._yielded = 0
        self._sent = self._received = 0  # numbers of the next request to send and to hand out
        self._owner = {}    # request number -> the worker asked
        self._arrived = {}  # request number -> its answer, for requests that came early
        self._pending = [0] * self._num_workers  # requests each worker still owes
        self._active = [True] * self._num_workers
        self._turn = itertools.cycle(range(self._num_workers))
        if not first:
            for q in self._index_queues:
                q.put(_Resume())
            acks = []  # every worker's, before any failure among them is raised
            while len(acks) < self._num_workers:
                task, answer = self._get()
                if isinstance(task, _Resume):
                    acks.append(answer)
            for answer in acks:
                if isinstance(answer, _Failure):
                    answer.reraise()
        for _ in range(self._prefetch * self._num_workers):
            self._send()

    def _send(self):
        """Ask a worker for the sampler's next batch, if there is one: the next active worker in
        turn, or with ``in_order=False`` the next one with room (fewer than its share of the
        requests in flight), so a slow worker does not hold the others up. The worker is chosen
        first: an index is taken from the sampler only when someone can fetch it."""
        n = self._num_workers
        share = self._prefetch * n // max(1, sum(self._active))
        for _ in range(n):
            worker_id = next(self._turn)
            if self._active[worker_id] and (self._in_order or self._pending[worker_id] < share):
                break
        else:
            return  # no worker can take it (every stream has ended)
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        self._index_queues[worker_id].put((self._sent, index))
        self._owner[self._sent] = worker_id
        self._pending[worker_id] += 1
        self._sent += 1

    # -- batches ----------------------------------------------------------------------------

    def __iter__(self):
        return self

    def __next__(self):
        batch = self._next_batch()
        self._yielded += 1
        if self._iterable and self._reported_len is not None \
                and self._yielded > self._reported_len:
            _warn_long_stream(self._dataset, self._reported_len, self._yielded,
                              self._num_workers)
        return batch

    def _next_batch(self):
        while True:
            # skip requests that will never be answered: those of a worker whose stream ended
            while self._received < self._sent and not self._awaited(self._received):
                self._owner.pop(self._received, None)
                self._received += 1
            if self._received == self._sent:  # nothing in flight: the epoch is over
                if not self._persistent:
                    self._shutdown()
                raise StopIteration
            if self._received in self._arrived:
                task = self._received
                self._received += 1
                return self._hand_out(task, self._arrived.pop(task))
            task, answer = self._get()
            if isinstance(task, _Resume):
                continue  # cannot happen mid-epoch; tolerate it
            if isinstance(answer, _StreamEnd):
                self._active[answer.worker_id] = False
                self._pending[answer.worker_id] = 0
                self._owner.pop(task, None)
                self._send()
                continue
            if task == self._received:
                self._received += 1
                return self._hand_out(task, answer)
            if not self._in_order:
                return self._hand_out(task, answer)
            self._arrived[task] = answer

    def _awaited(self, task):
        """Whether request ``task`` is still to be handed out: its answer came early, or its
        worker still owes it. Not so for one handed out already (``in_order=False``) or one
        asked of a worker whose stream has ended (it will never answer)."""
        if task in self._arrived:
            return True
        worker_id = self._owner.get(task)
        return worker_id is not None and self._active[worker_id]

    def _hand_out(self, task, answer):
        """A request's answer, unpickled (or its worker's exception, raised again), after the
        request that refills the worker's share has been sent."""
        worker_id = self._owner.pop(task)
        self._pending[worker_id] -= 1
        self._send()
        if isinstance(answer, _Failure):
            answer.reraise()
        return pickle.loads(answer)

    def _get(self):
        """The next answer from any worker. Waits in short slices, checking between them that
        no worker died (PyTorch's "exited unexpectedly"), and, with ``timeout``, for that long
        at most (PyTorch's "DataLoader timed out after ... seconds")."""
        waited = 0.0
        while True:
            wait = _POLL_S if not self._timeout else min(_POLL_S, self._timeout - waited)
            try:
                return self._results.get(timeout=wait)
            except queue.Empty:
                pass
            dead = [w for worker_id, w in enumerate(self._workers)
                    if self._active[worker_id] and not w.is_alive()]
            if dead:
                pids = ", ".join(str(w.pid) for w in dead)
                for worker_id, w in enumerate(self._workers):
                    if w in dead:
                        self._active[worker_id] = False
                raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly")
            waited += wait
            if self._timeout and waited >= self._timeout:
                raise LoaderTimeout(f"DataLoader timed out after {self._timeout} seconds")

    # -- shutting down ----------------------------------------------------------------------

    def _shutdown(self):
        """Stop every worker and reap it (no zombies): tell them to stop, wait a moment for each
        to leave its loop, terminate any that does not (one stuck in a slow ``__getitem__``),
        and close the queues. Safe to call twice, and from ``__del__`` at interpreter exit."""
        if self._closed:
            return
        self._closed = True
        try:
            self._done.set()
            for q in self._index_queues:
                try:
                    q.put(None)
                except Exception:  # a queue already closed
                    pass
            for w in self._workers:
                w.join(timeout=_JOIN_S)
        finally:
            for w in self._workers:
                if w.is_alive():
                    w.terminate()
                    w.join(timeout=_JOIN_S)
            for q in self._index_queues:
                q.cancel_join_thread()
                q.close()
            self._results.cancel_join_thread()
            self._results.close()

    def __del__(self):
        try:
            self._shutdown()
        except Exception:  # interpreter exit: modules already torn down; daemons die anyway
            pass
