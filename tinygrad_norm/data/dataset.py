"""Datasets, as ``torch.utils.data``: the map-style ``Dataset``, ``TensorDataset``, ``Subset``,
``ConcatDataset`` and ``random_split``; the iterable-style ``IterableDataset`` and
``ChainDataset``.

A map-style dataset is anything with ``__getitem__(index)`` and ``__len__``; ``DataLoader``
fetches samples by index and collates them into batches. An iterable-style dataset is a stream:
its ``__iter__`` yields the samples in the order it chooses (lines of a file read lazily, an
endless generator), and ``DataLoader`` collates them as they come. Nothing here imports the
engine: a ``Tensor`` handed to ``TensorDataset`` is recognised by the ``tinygrad_norm.tensor``
module that made it, which is then already loaded.
"""
from __future__ import annotations

import bisect
import collections.abc
import itertools
import math
import numbers
import sys
import warnings

import numpy as np

from ._checks import _check_seed, _is_tensor, _make_rng

__all__ = ["ChainDataset", "ConcatDataset", "Dataset", "IterableDataset", "StackDataset",
           "Subset", "TensorDataset", "random_split"]


class _TorchAssertion(ValueError, AssertionError):
    """A refusal that PyTorch raises as an ``AssertionError``: a ``ValueError`` here (this
    package's rule for bad arguments), and still caught by a ported ``except AssertionError``."""


class Dataset:
    """The base of map-style datasets: subclasses define ``__getitem__`` (and ``__len__``, which
    samplers and ``DataLoader`` need). ``a + b`` is ``ConcatDataset([a, b])``."""

    def __class_getitem__(cls, item):
        # PyTorch's Dataset is Generic: a ported ``class D(Dataset[tuple[Tensor, int]])`` works
        return cls

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples ``(t[index] for t in tensors)``: the tensors (Tensors, or arrays and anything
    ``np.asarray`` takes) indexed along their first dimension, which they must share."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        tensors = tuple(t if _is_tensor(t) or isinstance(t, np.ndarray) else np.asarray(t)
                        for t in tensors)
        for i, t in enumerate(tensors):
            if len(t.shape) == 0:
                raise ValueError(f"TensorDataset: tensor {i} is 0-d; every tensor needs a "
                                 f"first dimension to index")
        if any(t.shape[0] != tensors[0].shape[0] for t in tensors):
            raise _TorchAssertion("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(_sample(t, index) for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class StackDataset(Dataset):
    """Samples that stack several datasets of one length, as torch's: ``StackDataset(a, b)``
    gives ``(a[i], b[i])``, ``StackDataset(x=a, y=b)`` gives ``{"x": a[i], "y": b[i]}``."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                             "``kwargs``) like input/output, but both types are given.")
        datasets = args or tuple(kwargs.values())
        if not datasets:
            raise ValueError("At least one dataset should be passed")
        self._length = len(datasets[0])
        if any(len(d) != self._length for d in datasets):
            raise ValueError("Size mismatch between datasets")
        self.datasets = args if args else dict(kwargs)

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices):
        """A batch of samples, as a loader asks for them."""
        return [self[i] for i in indices]

    def __len__(self):
        return self._length


def _sample(t, index):
    """``t[index]``. A Tensor that needs no gradient is indexed through its array (a view, as
    ``t[index]`` is): ~1 us against ~3-4 us for ``Tensor.__getitem__``, paid per sample and per
    field by a loader (an epoch of the digits in batches of 32: 28 ms before, 11 ms after)."""
    if isinstance(t, np.ndarray) or t.requires_grad:
        return t[index]
    return sys.modules["tinygrad_norm.tensor"].Tensor(t.data[index])  # a plain Tensor, always


class ConcatDataset(Dataset):
    """The datasets one after another: index ``cumulative_sizes[k - 1] + i`` is
    ``datasets[k][i]``."""

    @staticmethod
    def cumsum(sequence):
        out, total = [], 0
        for d in sequence:
            total += len(d)
            out.append(total)
        return out

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise _TorchAssertion("datasets should not be an empty iterable")
        # a stream has no index to look samples up by (``a + b`` of two streams chains them)
        if any(isinstance(d, IterableDataset) for d in self.datasets):
            raise _TorchAssertion("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        k = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[k - 1] if k else 0
        return self.datasets[k][idx - start]


class IterableDataset(Dataset, collections.abc.Iterable):
    """The base of iterable-style datasets (streams): subclasses define ``__iter__``, which
    yields samples, and may define ``__len__`` (``len()`` of a loader needs it). ``a + b`` is
    ``ChainDataset([a, b])``. Abstract, as PyTorch's: a subclass without ``__iter__`` cannot be
    made.

    ``DataLoader`` calls ``iter(dataset)`` once per pass, so ``__iter__`` should start the stream
    afresh each time (a generator function does). With ``num_workers > 0`` every worker calls it
    on its own copy, as in PyTorch: a stream that does not shard itself (by
    ``get_worker_info()``, None in the calling process) is read once per worker."""

    def __add__(self, other):
        return ChainDataset([self, other])


def _check_chainable(datasets):
    for d in datasets:
        if not isinstance(d, IterableDataset):
            raise _TorchAssertion("ChainDataset only supports IterableDataset")


class ChainDataset(IterableDataset):
    """The streams of ``datasets`` one after another, each started when the one before ends;
    ``len()`` is the sum of their lengths (each must have one)."""

    def __init__(self, datasets):
        # kept as given, as PyTorch keeps it (a generator of datasets chains once); a list or
        # tuple is checked now, so a loader does not fail midway through an epoch
        if isinstance(datasets, (list, tuple)):
            _check_chainable(datasets)
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            _check_chainable([d])  # for a generator of datasets, or a reassigned list
            yield from d

    def __len__(self):
        total = 0
        for d in self.datasets:
            _check_chainable([d])
            total += len(d)
        return total


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        # As PyTorch: DataLoader fetches batches through __getitems__, so a subclass that
        # changed only __getitem__ would be bypassed silently.
        cls = type(self)
        if cls.__getitem__ is not Subset.__getitem__ and cls.__getitems__ is Subset.__getitems__:
            raise NotImplementedError(
                f"{cls.__name__} overrides __getitem__ but not __getitems__. When subclassing "
                "Subset and overriding __getitem__, you must also override __getitems__ to "
                "ensure DataLoader works correctly with your custom logic. A simple "
                "implementation:\n\ndef __getitems__(self, indices):\n"
                "    return [self.__getitem__(idx) for idx in indices]")
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        """A batch of samples (the DataLoader's fetch), batched by the parent where it can."""
        fetch = getattr(self.dataset, "__getitems__", None)
        if callable(fetch):
            return fetch([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self):
        return len(self.indices)


def _split_lengths(lengths, n):
    """Integer lengths from ``lengths``: counts, or fractions summing to 1 (PyTorch's rule:
    ``floor(n * frac)`` each, then the remainder handed out one by one from the first)."""
    lengths = list(lengths)
    for i, v in enumerate(lengths):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise TypeError(f"lengths must hold ints or fractions, got {type(v).__name__} at "
                            f"index {i}")
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        counts = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(math.floor(n * frac))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an "
                              f"empty dataset.", stacklevel=3)
        return counts
    if total != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    for i, v in enumerate(lengths):  # PyTorch would slice nonsense out of these
        if not isinstance(v, numbers.Integral) or v < 0:
            raise ValueError(f"lengths must be non-negative ints or fractions summing to 1, "
                             f"got {v!r} at index {i}")
    return [int(v) for v in lengths]


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` at random into ``Subset`` objects of the given ``lengths`` (counts, or
    fractions summing to 1). ``generator``: an int seed or a ``numpy.random.Generator`` for a
    reproducible split; None draws from the framework generator (``tinygrad_norm.manual_seed``).
    """
    rng = _make_rng(_check_seed(generator, "generator"))
    counts = _split_lengths(lengths, len(dataset))
    indices = rng.permutation(sum(counts)).tolist()
    return [Subset(dataset, indices[end - c:end])
            for end, c in zip(itertools.accumulate(counts), counts)]
