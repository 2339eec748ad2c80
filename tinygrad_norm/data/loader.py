"""``DataLoader``: mini-batches of Tensors, from arrays, from a map-style ``Dataset`` or from a
stream (an ``IterableDataset``), in the calling process or in worker processes (``worker.py``)."""
from __future__ import annotations

import collections.abc
import inspect
import itertools
import multiprocessing
import numbers
import os
import warnings

import numpy as np

from ._checks import _check_bool, _check_seed, _is_tensor, _make_rng
from .collate import default_collate, default_convert
from .dataset import Dataset, IterableDataset, _TorchAssertion
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from .worker import _make_fetcher, _MultiProcessIter, _warn_long_stream
from .worker import get_worker_info  # noqa: F401  (its home is worker.py; importable here too)

__all__ = ["DataLoader"]


class _InfiniteConstantSampler(Sampler):
    """The sampler of a loader over a stream, as PyTorch's: None forever. A stream has no index
    to sample, so its ``BatchSampler`` only says how many samples make a batch."""

    def __iter__(self):
        return itertools.repeat(None)


def _numeric(a, name):
    """``np.asarray(a)`` of real numbers or bools. Checked when the loader is made: strings
    failed only at the first batch (NumPy's "could not convert string to float"), None became
    NaN through an object array, complex numbers lost their imaginary part with a warning."""
    # a list or tuple that fails here may have been meant as a list of samples: say how
    hint = (f" (a {type(a).__name__} of samples is taken as a dataset, as in PyTorch, when "
            f"its first item is a tuple, dict, array or Tensor, or with a dataset keyword such "
            f"as collate_fn=)") if name == "X" and isinstance(a, (list, tuple)) else ""
    try:
        arr = np.asarray(a)
    except ValueError as e:  # ragged nested lists
        raise ValueError(f"{name} must be an array (equal-length rows), got a ragged "
                         f"{type(a).__name__}: {e}{hint}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers or bools, got dtype {arr.dtype}{hint}")
    return arr


def _array_form(X, y=None, batch_size=32, shuffle=False, drop_last=False, seed=None,
                dtype=np.float32):
    """The arguments of the array form ``DataLoader(X, y, ...)``."""


def _dataset_form(dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                  num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                  worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                  prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                  in_order=True):
    """The arguments of the dataset form ``DataLoader(dataset, ...)``: torch's, in its order."""


_ARRAY_SIGNATURE = inspect.signature(_array_form)
_DATASET_SIGNATURE = inspect.signature(_dataset_form)


# keywords only the dataset form has: with one of them a list or tuple is a dataset
_DATASET_ONLY = frozenset(_DATASET_SIGNATURE.parameters) - frozenset(_ARRAY_SIGNATURE.parameters)


def _plain(item):
    """Whether ``item`` is a number or a (nested) list of numbers: a row of an array."""
    if isinstance(item, list):
        return all(_plain(x) for x in item)
    return isinstance(item, (int, float, np.bool_, np.number))  # bool is an int


def _list_is_dataset(data, kwargs):
    """A list or tuple is a dataset (torch's form) when a keyword says so (``batch_size=None``
    or one only the dataset form has) or when its first item is a sample of fields: a tuple,
    a dict, a Tensor, an ndarray, or a list that is not all numbers. A list of numbers, or of
    (nested) lists of numbers, is the array form's ``X``: one row a sample."""
    if ("batch_size" in kwargs and kwargs["batch_size"] is None) or _DATASET_ONLY & set(kwargs):
        return True
    if not data:
        return False
    first = data[0]
    if isinstance(first, (tuple, collections.abc.Mapping, np.ndarray)) or _is_tensor(first):
        return True
    return isinstance(first, list) and not _plain(first)


def _over_dataset(args, kwargs):
    """Which form a call is: a ``Dataset``, a list or tuple of samples (see
    ``_list_is_dataset``), or any other object with ``__getitem__`` and ``__len__`` that is not
    array-like (an ndarray, a Tensor, anything with ``__array__``), is a dataset, as PyTorch
    takes it; everything else is ``X``."""
    if "dataset" in kwargs or "X" in kwargs:
        return "dataset" in kwargs
    if not args:
        return False  # the array form's signature names what is missing
    first = args[0]
    if isinstance(first, Dataset):
        return True
    if isinstance(first, (list, tuple)):
        return _list_is_dataset(first, kwargs)
    if isinstance(first, np.ndarray) or _is_tensor(first) or hasattr(first, "__array__"):
        return False
    return hasattr(first, "__getitem__") and hasattr(first, "__len__")


def _bind(signature, args, kwargs, form, hint):
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"DataLoader{form}: {e} ({hint})") from None
    bound.apply_defaults()
    return bound.arguments


def _check_count(value, name, message):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(message)
    return int(value)


def _check_iterable_options(shuffle, sampler, batch_sampler):
    """PyTorch's refusals for a stream, in its order: it has no indices to shuffle or sample."""
    if shuffle:
        raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, "
                         f"but got shuffle={shuffle}")
    if sampler is not None:
        raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, "
                         f"but got sampler={sampler}")
    if batch_sampler is not None:
        raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler "
                         f"option, but got batch_sampler={batch_sampler}")



def _check_context(context, num_workers):
    """``multiprocessing_context`` as PyTorch checks it: None (the platform's default start
    method), a start method's name, or a context object; returned as a context object."""
    if context is None:
        return None
    if num_workers == 0:
        raise ValueError(f"multiprocessing_context can only be used with multi-process "
                         f"loading (num_workers > 0), but got num_workers={num_workers}")
    if isinstance(context, str):
        methods = multiprocessing.get_all_start_methods()
        if context not in methods:
            raise ValueError(f"multiprocessing_context option should specify a valid start "
                             f"method in {methods!r}, but got multiprocessing_context="
                             f"{context!r}")
        context = multiprocessing.get_context(context)
    if not isinstance(context, multiprocessing.context.BaseContext):
        raise TypeError(f"multiprocessing_context option should be a valid context object or a "
                        f"string specifying the start method, but got multiprocessing_context="
                        f"{context}")
    return context


def _warn_many_workers(num_workers, stacklevel):
    """PyTorch's warning when a loader would start more workers than the CPUs this process may
    run on (its affinity mask where the platform has one)."""
    if num_workers == 0:
        return
    checked = hasattr(os, "sched_getaffinity")
    cpus = len(os.sched_getaffinity(0)) if checked else os.cpu_count()
    if cpus is not None and num_workers <= cpus:
        return
    if cpus is None:
        suggestion = ("DataLoader is not able to compute a suggested max number of worker in "
                      "current system.")
    else:
        suggestion = (f"Our suggested max number of worker in current system is {cpus}"
                      f"{'' if checked else ' (`cpuset` is not taken into account)'}, which is "
                      f"smaller than what this DataLoader is going to create.")
    warnings.warn(f"This DataLoader will create {num_workers} worker processes in total. "
                  f"{suggestion} Please be aware that excessive worker creation might get "
                  f"DataLoader running slow or even freeze, lower the worker number to avoid "
                  f"potential slowness/freeze if necessary.", stacklevel=stacklevel)


def _seed_stream(generator):
    """Where an iterator draws its workers' base seed from, as PyTorch draws it from the
    loader's ``generator``: None, the framework generator (looked up at each draw); a
    ``numpy.random.Generator``, that one (shared with the sampler it was given to, as a
    ``torch.Generator`` is); an int seed, a private stream of its own, so that the shuffle an
    int seed gives is the same whether or not seeds are drawn beside it."""
    if generator is None or isinstance(generator, np.random.Generator):
        return generator
    return np.random.default_rng(np.random.SeedSequence(generator, spawn_key=(1,)))


class DataLoader:
    """Mini-batches of Tensors, in one of two forms told apart by the first argument.

    **Array form** ``DataLoader(X, y=None, batch_size=32, shuffle=False, drop_last=False,
    seed=None, dtype=np.float32)``, when the first argument is array-like (an ndarray, a Tensor,
    anything with ``__array__``, a list or tuple of numbers or of (nested) lists of numbers):
    batches ``(X_batch, y_batch)`` of Tensors (no grad), or ``X_batch`` alone with ``y=None``.
    So an int64 ndarray or a Tensor with ``batch_size`` left out gives float32 batches of 32,
    not PyTorch's batches of 1 in the array's dtype.

    * ``len(loader)`` is the number of batches per epoch: ``ceil(n / batch_size)``, or
      ``floor(n / batch_size)`` with ``drop_last=True`` (which drops a short final batch).
    * ``shuffle=True`` draws a new order at the start of every epoch (every ``iter()``). An int
      ``seed`` (or a Generator) makes the sequence of epochs reproducible; ``seed=None`` draws
      from the framework generator, seeded by ``tinygrad_norm.manual_seed``.
    * ``X`` batches are converted to ``dtype`` (default float32, so float64 data, or uint8
      images, arrive as float32; values are not rescaled); ``dtype=None`` keeps X's type.
      Integer and bool labels keep their type; floating targets ``y`` follow ``dtype`` too.

    Batches are copies: changing one never changes the data set. ``X`` and ``y`` may be arrays,
    anything ``np.asarray`` accepts, or Tensors.

    **Dataset form** ``DataLoader(dataset, batch_size=1, shuffle=None, sampler=None,
    batch_sampler=None, num_workers=0, collate_fn=None, pin_memory=False, drop_last=False,
    timeout=0, worker_init_fn=None, multiprocessing_context=None, generator=None, *,
    prefetch_factor=None, persistent_workers=False, pin_memory_device='', in_order=True)``, when
    the first argument is a ``Dataset``, a list or tuple of samples (its first item a tuple, a
    dict, an ndarray, a Tensor or a list holding anything but numbers -- ``list(zip(X, y))``),
    a list or tuple with ``batch_size=None`` or a keyword only this form has (``collate_fn``,
    ``sampler``, ...), or another object with ``__getitem__`` and ``__len__`` that is not
    array-like: ``torch.utils.data.DataLoader``'s arguments, defaults, errors and batches
    (``collate_fn(samples)``, ``default_collate`` by default: no dtype conversion).
    ``batch_size=None`` turns batching off (one converted sample at a time). ``generator``
    seeds the shuffle as a random sampler's does (None, an int or a ``numpy.random.Generator``)
    and the workers' base seed. ``num_workers > 0`` loads in worker processes, as PyTorch (see
    ``tinygrad_norm.data.worker``): the same batches in the same order as ``num_workers=0``;
    ``prefetch_factor``, ``persistent_workers``, ``timeout``, ``worker_init_fn``,
    ``multiprocessing_context`` and ``in_order`` as PyTorch's; ``pin_memory`` does nothing.

    **Over a stream** (an ``IterableDataset``): each pass calls ``iter(dataset)`` afresh and
    collates ``batch_size`` samples at a time as they come (the short last batch dropped with
    ``drop_last``), or converts one sample at a time with ``batch_size=None``. ``shuffle=True``,
    ``sampler`` and ``batch_sampler`` are PyTorch's ``ValueError`` (a stream has no indices).
    ``len(loader)`` is the dataset's ``len()`` in batches (a ``TypeError`` if it has none); a
    stream that then yields more batches than that length warns, as PyTorch. With
    ``num_workers > 0`` every worker reads its own copy of the stream, as in PyTorch (a stream
    that shards itself asks ``get_worker_info()`` for its share).
    """

    # What introspection shows is the array form (the older one, and the one docs/api.md's
    # checked signature describes); the dataset form is torch's, described above.
    __signature__ = _ARRAY_SIGNATURE

    def __init__(self, *args, **kwargs):
        self._over_dataset = _over_dataset(args, kwargs)
        if self._over_dataset:
            self._init_dataset(**_bind(_DATASET_SIGNATURE, args, kwargs, "(dataset, ...)", (
                "the first argument is a dataset, so these are torch.utils.data.DataLoader's "
                "arguments; y, seed and dtype belong to the array form DataLoader(X, y, ...)")))
        else:
            self._init_arrays(**_bind(_ARRAY_SIGNATURE, args, kwargs, "(X, y, ...)", (
                "the first argument is array-like, so these are DataLoader(X, y=None, "
                "batch_size=32, shuffle=False, drop_last=False, seed=None, dtype=np.float32); "
                "wrap the arrays in TensorDataset(X, y) for torch's arguments")))

    def _init_dataset(self, dataset, batch_size, shuffle, sampler, batch_sampler, num_workers,
                      collate_fn, pin_memory, drop_last, timeout, worker_init_fn,
                      multiprocessing_context, generator, prefetch_factor, persistent_workers,
                      pin_memory_device, in_order):
        # PyTorch's checks, in its order, before anything is built
        num_workers = _check_count(num_workers, "num_workers", "num_workers option should be "
                                   "non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if prefetch_factor is None and num_workers > 0:
            prefetch_factor = 2  # PyTorch's default with workers
        elif prefetch_factor is not None:
            prefetch_factor = _check_count(prefetch_factor, "prefetch_factor",
                                           "prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        multiprocessing_context = _check_context(multiprocessing_context, num_workers)
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError(f"worker_init_fn must be callable, got "
                            f"{type(worker_init_fn).__name__}")
        generator = _check_seed(generator, "generator")
        if shuffle is not None:
            shuffle = _check_bool(shuffle, "shuffle")
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            _check_iterable_options(shuffle, sampler, batch_sampler)
        shuffle = bool(shuffle)
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"collate_fn must be callable, got {type(collate_fn).__name__}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            if iterable:
                sampler = _InfiniteConstantSampler()
            else:
                sampler = (RandomSampler(dataset, generator=generator) if shuffle
                           else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.dataset = dataset
        self.batch_size, self.drop_last, self.shuffle = batch_size, drop_last, shuffle
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.collate_fn, self.num_workers = collate_fn, num_workers
        self.pin_memory, self.timeout, self.worker_init_fn = pin_memory, timeout, worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = prefetch_factor
        self.persistent_workers, self.pin_memory_device = persistent_workers, pin_memory_device
        self.in_order = in_order
        self._iterable = iterable
        self._seeds = _seed_stream(generator)
        self._workers = None  # the iterator that keeps persistent workers between epochs
        _warn_many_workers(num_workers, stacklevel=4)  # the caller of DataLoader(...)
        # the dataset's length that len(loader) last read, for the warning when a stream yields
        # more batches than that (PyTorch's _IterableDataset_len_called)
        self._reported_len = None

    def _index_sampler(self):
        """What a pass iterates: the batch sampler's lists of indices, or with batching off the
        sampler's indices (for a stream: requests for its next batch or sample)."""
        return self.sampler if self.batch_sampler is None else self.batch_sampler

    def _check_iteration(self):
        """PyTorch's refusals when an iterator is made (its assertions: ValueErrors here that are
        also AssertionErrors), before any seed is drawn."""
        if self.num_workers == 0 and self.timeout:
            raise _TorchAssertion(
                f"timeout={self.timeout} needs num_workers > 0: loading in the calling process "
                f"has no worker to wait for (PyTorch: _SingleProcessDataLoaderIter requires "
                f"timeout == 0)")
        if self.num_workers > 0 and self.prefetch_factor == 0:
            raise _TorchAssertion("prefetch_factor must be greater than 0 for "
                                  "MultiProcessingDataLoaderIter")

    def _base_seed(self):
        """The seed of this iterator's workers, drawn as PyTorch draws it: once per iterator,
        with or without workers (so ``num_workers`` never changes what later draws from the same
        generator give), a non-negative int64."""
        rng = self._seeds if self._seeds is not None else _make_rng(None)
        return int(rng.integers(0, 2 ** 63))

    def _iter_dataset_form(self):
        self._check_iteration()
        if self.num_workers > 0:
            return self._iter_workers()
        self._base_seed()  # drawn and unused, as PyTorch's single-process iterator does
        # made here, not on the first batch: as PyTorch, iter(loader) restarts a stream and
        # reads the length len(loader) last reported
        fetcher = _make_fetcher(self.dataset, self._iterable, self.batch_sampler is not None,
                                self.collate_fn, self.drop_last)
        return self._batches_here(fetcher, iter(self._index_sampler()), self._reported_len)

    def _batches_here(self, fetcher, requests, reported_len):
        """A pass in the calling process: one batch per request, until the sampler ends or the
        stream does (a ``StopIteration`` out of a map-style dataset ends it too, as PyTorch)."""
        for count, request in enumerate(requests, 1):
            try:
                batch = fetcher.fetch(request)
            except StopIteration:
                return
            if self._iterable and reported_len is not None and count > reported_len:
                _warn_long_stream(self.dataset, reported_len, count, 0)
            yield batch

    def _iter_workers(self):
        """A pass through worker processes. With ``persistent_workers`` the first pass's
        iterator (and its workers) serves every later one, as PyTorch's: no new base seed is
        drawn, each worker starts its stream over."""
        if self.persistent_workers and self._workers is not None:
            self._workers._reset(self)
            return self._workers
        _warn_many_workers(self.num_workers, stacklevel=5)  # the caller of iter(loader)
        context = self.multiprocessing_context
        if context is None or isinstance(context, str):  # None, or reassigned after __init__
            context = _check_context(context, self.num_workers) or multiprocessing.get_context()
        iterator = _MultiProcessIter(self, self._base_seed(), context)
        if self.persistent_workers:
            self._workers = iterator
        return iterator

    def _init_arrays(self, X, y, batch_size, shuffle, drop_last, seed, dtype):
        if batch_size is None:
            raise TypeError("batch_size must be a positive int, got None: batch_size=None "
                            "(no batching) is the dataset form's; wrap the arrays in "
                            "TensorDataset(X, y)")
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
        """The number of samples: rows of ``X``, or ``len(dataset)``."""
        return len(self.dataset) if self._over_dataset else self.X.shape[0]

    def __len__(self):
        if self._over_dataset and self._iterable:
            # as PyTorch: the dataset's own length (TypeError without one), in batches
            n = self._reported_len = len(self.dataset)
            b = self.batch_size
            if b is None:
                return n
            return n // b if self.drop_last else -(-n // b)
        if self._over_dataset:  # as PyTorch: the batch sampler's length, or the sampler's
            return len(self._index_sampler())
        n, b = self.X.shape[0], self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def _order(self):
        if not self.shuffle:
            return None
        rng = self._rng if self._rng is not None else _make_rng(None)
        return rng.permutation(self.X.shape[0])

    def __iter__(self):
        if not self._over_dataset:
            return self._iter_arrays()
        return self._iter_dataset_form()

    def _iter_arrays(self):
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
        if self._over_dataset and self._iterable:  # a stream: no length to ask for
            return (f"DataLoader(dataset={type(self.dataset).__name__} (iterable), "
                    f"batch_size={self.batch_size}, drop_last={self.drop_last})")
        if self._over_dataset:
            return (f"DataLoader(dataset={type(self.dataset).__name__}, n_samples="
                    f"{len(self.dataset)}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                    f"drop_last={self.drop_last})")
        return (f"DataLoader(n_samples={self.n_samples}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed!r})")
