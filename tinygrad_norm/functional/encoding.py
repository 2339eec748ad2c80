"""Index encodings, as ``torch.nn.functional.one_hot``: constants (indices have no gradient)."""
from __future__ import annotations

import numbers

import numpy as np

from ..tensor import Tensor

__all__ = ["one_hot"]


def one_hot(tensor, num_classes=-1):
    """An int64 tensor of shape ``tensor.shape + (num_classes,)`` with a 1 at each index, as
    ``torch.nn.functional.one_hot``; ``num_classes=-1`` takes the largest index plus one. Any
    integer dtype is taken (PyTorch wants int64); indices outside ``[0, num_classes)`` are a
    ValueError."""
    data = tensor.data if isinstance(tensor, Tensor) else None
    if data is None or data.dtype.kind not in "iu":
        what = f"dtype {data.dtype}" if data is not None else type(tensor).__name__
        raise TypeError(f"one_hot(): tensor must be a Tensor of integer class indices, got "
                        f"{what}")
    if isinstance(num_classes, (bool, np.bool_)) or not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"one_hot(): num_classes must be an int, got "
                        f"{type(num_classes).__name__}")
    num_classes = int(num_classes)
    if num_classes < -1:
        raise ValueError(f"one_hot(): num_classes must be -1 (inferred) or non-negative, got "
                         f"{num_classes}")
    if data.size and data.min() < 0:
        raise ValueError("one_hot(): Class values must be non-negative.")
    if num_classes == -1:
        if data.size == 0:
            raise ValueError("one_hot(): Can not infer total number of classes from empty "
                             "tensor; pass num_classes")
        num_classes = int(data.max()) + 1
    elif data.size and data.max() >= num_classes:
        raise ValueError(f"one_hot(): Class values must be smaller than num_classes "
                         f"({num_classes}), got {int(data.max())}")
    out = np.zeros(data.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, data.astype(np.intp)[..., None], 1, axis=-1)
    return Tensor._wrap(out)
