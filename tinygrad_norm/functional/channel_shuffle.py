"""``channel_shuffle``, as ``torch.nn.functional.channel_shuffle`` (ShuffleNet): a reshape, a
swap of two axes and a reshape, so the gradient is the inverse shuffle, from the tape."""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd import scope
from ..tensor import Tensor

__all__ = ["channel_shuffle"]


def channel_shuffle(input, groups):
    """The C channels of a (N, C, *) input split into ``groups`` groups and interleaved:
    channel ``g * (C / groups) + i`` moves to ``i * groups + g``. Any dtype; a new array, as
    PyTorch's."""
    fn = "channel_shuffle"
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): input must be a Tensor, got {type(input).__name__}")
    if isinstance(groups, (bool, np.bool_)) or not isinstance(groups, numbers.Integral):
        raise TypeError(f"{fn}(): argument 'groups' (position 2) must be int, not "
                        f"{type(groups).__name__}")
    groups = int(groups)
    if input.ndim <= 2:
        raise ValueError(f"{fn} expects input with > 2 dims, but got input with sizes "
                         f"{list(input.shape)}")
    if groups <= 0:
        raise ValueError(f"Number of groups to divide channels in must be positive. Value of "
                         f"groups:{groups}")
    n, c = input.shape[:2]
    if c % groups:
        raise ValueError(f"Number of channels must be divisible by groups. Got {c} channels and "
                         f"{groups} groups.")
    rest = input.shape[2:]
    with scope(fn, groups=groups):
        out = input.reshape((n, groups, c // groups) + rest).swapaxes(1, 2).reshape(input.shape)
        # a shuffle that moves nothing (1 group, or 1 channel a group) would be a view of the
        # input, which an in-place write into the result would change
        return out.clone() if np.may_share_memory(out._data, input._data) else out
