"""``default_collate`` and ``default_convert``, as ``torch.utils.data``: a list of samples into one
batch of Tensors, and one sample's arrays into Tensors.

The output types are PyTorch's: Python ints become int64 (bools bool; ints mixed with floats
float32), Python floats float64, NumPy arrays and scalars keep their dtype, Tensors are stacked;
tuples of fields come back as lists, dicts, named tuples and lists keep their type, strings stay
as they are. Samples of mixed dtypes promote as ``torch.stack`` promotes them: a floating dtype
wins over every integer one (float32 with int64 is float32, where NumPy would give float64).
The engine is imported only when a batch is built.
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


def _torch_dtype(dtypes):
    """The dtype ``torch.stack`` and ``torch.tensor`` give a mix of dtypes: a floating dtype wins
    over any integer one (float32 with int64 is float32, where NumPy says float64), the widest
    float among floats; without floats NumPy's promotion, which agrees (uint8 with int8 int16)."""
    floats = [d for d in dtypes if d.kind == "f"]
    return np.result_type(*floats) if floats else np.result_type(*dtypes)


def _what(x):
    if isinstance(x, np.ndarray):
        return f"a numpy array of shape {x.shape}"
    if _is_tensor(x):
        return f"a Tensor of shape {x.shape}"
    return f"of type {type(x).__name__}"


def _number(x):
    """A Python or NumPy number as a 0-d array of the dtype ``torch.tensor`` infers for it: bool,
    int64 for an int, float32 (the default dtype) for a float, a NumPy scalar's own; else None."""
    if isinstance(x, (np.bool_, np.number)):  # first: np.float64 is a Python float too
        return np.asarray(x)
    if isinstance(x, bool):
        return np.asarray(x, dtype=np.bool_)
    if isinstance(x, int):
        return np.asarray(x, dtype=np.int64)
    if isinstance(x, float):
        return np.asarray(x, dtype=np.float32)
    return None


def _scalar(x, i, first):
    """Sample ``i`` of a batch of numbers (``first`` describes sample 0) as a 0-d array: a
    number, a 0-d array or a one-element Tensor, as ``torch.tensor`` accepts them."""
    a = _number(x)
    if a is not None:
        return a
    if isinstance(x, np.ndarray):
        if x.ndim == 0:
            return x
        raise TypeError(f"default_collate: only 0-dimensional arrays can be converted to Python "
                        f"scalars: element {i} of the batch is {_what(x)}, but element 0 is "
                        f"{first}")
    if _is_tensor(x):
        if x.size == 1:
            return x.data.reshape(())
        raise ValueError(f"default_collate: only one element tensors can be converted to Python "
                         f"scalars: element {i} of the batch is {_what(x)}, but element 0 is "
                         f"{first}")
    raise TypeError(f"default_collate: element {i} of the batch is {_what(x)}, but element 0 is "
                    f"{first}: a batch of numbers must hold only numbers")


def _numbers(batch, dtype=None):
    """A batch of numbers as one Tensor, typed as ``torch.tensor(batch)`` types it (or
    ``dtype``, as PyTorch collates Python floats: float64 whatever else is there)."""
    kind = type(batch[0])
    if all(type(x) is kind for x in batch):  # the usual case, one type: one NumPy call
        return _tensor(np.array(batch, dtype=dtype or _number(batch[0]).dtype))
    first = _what(batch[0])
    arrays = [_scalar(x, i, first) for i, x in enumerate(batch)]
    if dtype is None:
        dtype = _torch_dtype([a.dtype for a in arrays])
    return _tensor(np.array(arrays, dtype=dtype))


def _stack_tensors(batch):
    for i, t in enumerate(batch):
        if not _is_tensor(t):  # torch.stack's message
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__module__ + '.' if isinstance(t, np.ndarray) else ''}"
                            f"{type(t).__name__}")
    _check_same_shape([t.shape for t in batch])
    dtype = _torch_dtype([t.dtype for t in batch])
    from tinygrad_norm.autograd import is_grad_enabled

    if is_grad_enabled() and any(t.requires_grad for t in batch):
        from tinygrad_norm.tensor import stack  # recorded, as torch.stack: gradients flow back

        return stack([t if t.dtype == dtype else t.astype(dtype) for t in batch], 0)
    return _tensor(np.stack([t.data for t in batch]).astype(dtype, copy=False))


def _as_array(x, i):
    """Sample ``i`` of a batch of arrays as ``torch.as_tensor`` takes it: arrays and Tensors as
    they are, a number as a 0-d array of its inferred dtype; anything else is refused."""
    if isinstance(x, np.ndarray):
        return x
    if _is_tensor(x):
        return x.data
    a = _number(x)
    if a is not None:
        return a
    raise TypeError(f"default_collate: element {i} of the batch is {_what(x)}, but element 0 is "
                    f"a numpy array: a batch of arrays must hold only arrays, Tensors or numbers")


def _stack_arrays(batch):
    if batch[0].dtype.kind in "OSU":  # PyTorch's check: no strings or objects
        raise TypeError(_ERR.format(batch[0].dtype))
    arrays = [_as_array(x, i) for i, x in enumerate(batch)]
    for a in arrays[1:]:
        if a.dtype.kind not in "biuf":
            raise TypeError(_ERR.format(a.dtype))
    _check_same_shape([a.shape for a in arrays])
    return _tensor(np.stack(arrays).astype(_torch_dtype([a.dtype for a in arrays]), copy=False))


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
    recursively (a tuple comes back as a list, as in PyTorch). Mixed dtypes promote as in
    PyTorch (float32 with int64 gives float32). Raises ``TypeError`` for other types or for a
    batch that mixes kinds (a number with a 1-d array, a Tensor with an array), and
    ``RuntimeError`` for fields of unequal size, with PyTorch's messages where it has them.
    """
    elem = batch[0]
    if _is_tensor(elem):
        return _stack_tensors(batch)
    if isinstance(elem, np.ndarray):
        return _stack_arrays(batch)
    if isinstance(elem, (np.bool_, np.number)):  # first: np.float64 is a Python float too
        return _numbers(batch)
    if isinstance(elem, float):  # PyTorch: torch.tensor(batch, dtype=torch.float64)
        return _numbers(batch, np.float64)
    if isinstance(elem, int):  # bool is an int
        return _numbers(batch)
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
