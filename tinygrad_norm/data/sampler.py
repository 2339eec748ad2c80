"""Index samplers, as ``torch.utils.data``: which sample indices a ``DataLoader`` fetches, in what
order, and how they are grouped into batches.

Random samplers take ``generator``: None draws from the framework generator at every pass
(``tinygrad_norm.manual_seed`` fixes it), an int seed gives the sampler a private stream made
once (so every pass differs, and the sequence of passes repeats), a ``numpy.random.Generator`` is
used as it is. PyTorch takes a ``torch.Generator`` there.
"""
from __future__ import annotations

import itertools
import math
import numbers

import numpy as np

from ._checks import _check_seed, _is_tensor, _make_rng

__all__ = ["BatchSampler", "DistributedSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "SubsetRandomSampler", "WeightedRandomSampler"]


class Sampler:
    """The base of samplers: subclasses define ``__iter__`` (indices, or lists of indices for a
    batch sampler) and, for ``len()`` of a loader, ``__len__``. It takes no arguments (PyTorch
    2.13 dropped its ``data_source``)."""

    def __class_getitem__(cls, item):
        return cls  # PyTorch's Sampler is Generic: ``Sampler[int]`` in a ported annotation

    def __iter__(self):
        raise NotImplementedError


def _private_rng(generator):
    """The stream of a random sampler: None (the framework generator, looked up at each pass),
    or a Generator made once from an int seed."""
    generator = _check_seed(generator, "generator")
    return None if generator is None else _make_rng(generator)


def _positive_int(value):
    return (isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
            and value > 0)


class SequentialSampler(Sampler):
    """``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """Indices of ``data_source`` in random order: a fresh permutation each pass (``num_samples``
    beyond ``len(data_source)`` chains several), or with ``replacement=True`` ``num_samples``
    independent uniform draws."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={replacement}")
        if not _positive_int(self.num_samples):
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")
        self.generator = generator
        self._rng = _private_rng(generator)

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, k = len(self.data_source), int(self.num_samples)
        rng = self._rng if self._rng is not None else _make_rng(None)
        if self.replacement:
            yield from rng.integers(0, n, size=k).tolist()
            return
        for _ in range(k // n):
            yield from rng.permutation(n).tolist()
        if k % n:
            yield from rng.permutation(n)[:k % n].tolist()

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order (a fresh permutation each pass)."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator
        self._rng = _private_rng(generator)

    def __iter__(self):
        rng = self._rng if self._rng is not None else _make_rng(None)
        for i in rng.permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices of ``range(len(weights))``, index ``i`` drawn with probability
    ``weights[i] / sum(weights)``; without replacement, each index at most once (each draw
    renormalizes the weights that are left, as ``torch.multinomial``)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not _positive_int(num_samples):
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        w = np.asarray(weights.data if _is_tensor(weights) else weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(w.shape)}")
        # torch.multinomial refuses these when it samples; here before any pass
        if not np.isfinite(w).all() or (w < 0).any():
            raise ValueError("weights must be finite and non-negative")
        if w.sum() <= 0:
            raise ValueError("weights must have a positive sum")
        if not replacement and num_samples > np.count_nonzero(w):
            raise ValueError(f"cannot sample num_samples={num_samples} without replacement "
                             f"from {np.count_nonzero(w)} indices of non-zero weight")
        self.weights = w
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator
        self._rng = _private_rng(generator)

    def __iter__(self):
        rng = self._rng if self._rng is not None else _make_rng(None)
        p = self.weights / self.weights.sum()
        picks = rng.choice(len(p), size=self.num_samples, replace=self.replacement, p=p)
        return iter(picks.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler`` (any iterable of indices); the last,
    shorter one is dropped with ``drop_last=True``."""

    def __init__(self, sampler, batch_size, drop_last):
        if not _positive_int(batch_size):
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got "
                             f"drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self):
        it = iter(self.sampler)
        while True:
            batch = list(itertools.islice(it, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self):
        n, b = len(self.sampler), self.batch_size
        return n // b if self.drop_last else (n + b - 1) // b


class DistributedSampler(Sampler):
    """The share of ``dataset`` that replica ``rank`` of ``num_replicas`` loads, as PyTorch's:
    every ``num_replicas``-th index of a (shuffled) list padded by repeating its head to a
    multiple of ``num_replicas`` (or, with ``drop_last``, cut down to one), so every replica
    gets ``len(sampler)`` indices and together they cover the data set once an epoch.

    ``shuffle`` permutes the list afresh for every ``set_epoch(epoch)``, from
    ``seed + epoch`` (so every replica, given the same seed and epoch, permutes alike: their
    shares stay disjoint). The permutation is NumPy's (``default_rng(seed + epoch)``), not
    ``torch.randperm``'s: the unshuffled shares are PyTorch's exactly, the shuffled ones have
    PyTorch's structure (lengths, padding, dropping) but another order.

    ``num_replicas`` and ``rank`` must be given: there is no process group here to ask (PyTorch
    asks ``torch.distributed`` when they are left out)."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        for name, value in (("num_replicas", num_replicas), ("rank", rank)):
            if value is None:
                raise ValueError(f"DistributedSampler: {name} must be given (there is no "
                                 f"process group to ask for it, as PyTorch asks "
                                 f"torch.distributed): pass num_replicas=<number of processes> "
                                 f"and rank=<this process's index, 0 to num_replicas - 1>")
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
                raise TypeError(f"DistributedSampler: {name} must be an int, got "
                                f"{type(value).__name__}")
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be positive, got "
                             f"{num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(f"DistributedSampler: shuffle must be a bool, got "
                            f"{type(shuffle).__name__}")
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"DistributedSampler: seed must be an int, got {type(seed).__name__}")
        if seed < 0:
            raise ValueError(f"DistributedSampler: seed must be non-negative, got {seed}")
        self.seed = int(seed)
        self.dataset = dataset
        self.num_replicas, self.rank = int(num_replicas), int(rank)
        self.epoch = 0
        self.drop_last = bool(drop_last)
        self.shuffle = bool(shuffle)
        n = len(dataset)
        if self.drop_last and n % self.num_replicas:
            # the tail that would need padding is dropped: floor(n / num_replicas) each
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng(self.seed + self.epoch).permutation(n).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        elif indices:
            # pad with the head of the list, repeated as often as it takes (a data set smaller
            # than num_replicas is repeated whole)
            missing = self.total_size - n
            indices += (indices * math.ceil(missing / n))[:missing]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """The epoch whose permutation the next pass uses (``shuffle=True``): call it at the start
        of every epoch, with the same value on every replica, or every epoch repeats the
        first's order."""
        if isinstance(epoch, (bool, np.bool_)) or not isinstance(epoch, numbers.Integral):
            raise TypeError(f"set_epoch(): epoch must be an int, got {type(epoch).__name__}")
        if epoch < 0:  # seed + epoch seeds NumPy, which takes no negative seed
            raise ValueError(f"set_epoch(): epoch must be non-negative, got {epoch}")
        self.epoch = int(epoch)
