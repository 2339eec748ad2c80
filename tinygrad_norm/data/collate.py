"""``default_collate`` and ``default_convert``, as ``torch.utils.data``: a list of samples into one
batch of Tensors, and one sample's arrays into Tensors.

The output types are PyTorch's: Python ints become int64 (bools bool; ints mixed with floats
float32), Python floats float64, NumPy arrays and scalars keep their dtype, Tensors are stacked;
tuples of fields come back as lists, dicts, named tuples and lists keep their type, strings stay
as they are. The engine is imported only when a batch is built.
"""
from __future__ import annotations

import collections.abc
import copy

import numpy as np

from ._checks import _is_tensor

__all__ = ["default_collate", "default_convert"]

_ERR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        "found {}")


def _tensor(array):
    from tinygrad_norm.tensor import Tensor  # lazy: the data package must not need the engine

    return Tensor(array)


def _check_same_shape(shapes):
    first = shapes[0]
    for i, s in enumerate(shapes):
        if s != first:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(first)} at entry 0 and {list(s)} at entry {i}")


def _stack_tensors(batch):
    _check_same_shape([t.shape for t in batch])
    from tinygrad_norm.autograd import is_grad_enabled

    if is_grad_enabled() and any(t.requires_grad for t in batch):
        from tinygrad_norm.tensor import stack  # recorded, as torch.stack: gradients flow back

        return stack(batch, 0)
    return _tensor(np.stack([t.data for t in batch]))


def _stack_arrays(batch):
    if batch[0].dtype.kind in "OSU":  # PyTorch's check: no strings or objects
        raise TypeError(_ERR.format(batch[0].dtype))
    _check_same_shape([a.shape for a in batch])
    return _tensor(np.stack(batch))


def _python_ints(batch):
    arr = np.array(batch)
    # torch.tensor types an int list int64, a bool list bool, and ints mixed with floats float32
    return _tensor(arr.astype(np.float32) if arr.dtype.kind == "f" else arr)


def _rebuild(elem, values):
    """A container like ``elem`` holding ``values`` (a dict for a mapping, a list for a
    sequence), or the plain dict or list where its type cannot be built that way."""
    try:
        if isinstance(elem, collections.abc.Mapping):
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update(values)
                return clone
            return type(elem)(values)
        if isinstance(elem, collections.abc.MutableSequence):
            clone = copy.copy(elem)
            clone[:] = values
            return clone
        return type(elem)(values)
    except TypeError:
        return values


def default_collate(batch):
    """Collate a list of samples into a batch: one Tensor per field with a new first dimension.

    Tensors are stacked (with a graph if one requires grad); NumPy arrays and scalars become
    Tensors of their dtype; Python ints int64 Tensors, floats float64, bools bool; strings and
    bytes stay a list. Dicts, named tuples, lists and tuples are collated field by field,
    recursively (a tuple comes back as a list, as in PyTorch). Raises ``TypeError`` for other
    types and ``RuntimeError`` for fields of unequal size, with PyTorch's messages.
    """
    elem = batch[0]
    if _is_tensor(elem):
        return _stack_tensors(batch)
    if isinstance(elem, np.ndarray):
        return _stack_arrays(batch)
    if isinstance(elem, (np.bool_, np.number)):
        return _tensor(np.array(batch))
    if isinstance(elem, float):
        return _tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):
        return _python_ints(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a named tuple
        return type(elem)(*(default_collate(f) for f in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(f) for f in zip(*batch)]
        return fields if isinstance(elem, tuple) else _rebuild(elem, fields)
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data):
    """One sample's NumPy arrays and scalars as Tensors, recursively through dicts, named
    tuples, lists and tuples (a tuple comes back as a list); Tensors, Python numbers, strings
    and everything else unchanged. The ``DataLoader``'s collate function when ``batch_size=None``.
    """
    if _is_tensor(data):
        return data
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "OSU" else _tensor(data)
    if isinstance(data, (np.bool_, np.number)):
        return _tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return _rebuild(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild(data, [default_convert(d) for d in data])
    return data
