"""ChannelShuffle, as ``torch.nn``."""
from __future__ import annotations

import numbers

import numpy as np

from .. import functional as F
from .module import Module

__all__ = ["ChannelShuffle"]


class ChannelShuffle(Module):
    """``F.channel_shuffle`` with ``groups`` kept (an int, checked at construction)."""

    def __init__(self, groups):
        super().__init__()
        if isinstance(groups, (bool, np.bool_)) or not isinstance(groups, numbers.Integral):
            raise TypeError(f"ChannelShuffle: groups must be an int, got "
                            f"{type(groups).__name__}")
        self.groups = int(groups)

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"
