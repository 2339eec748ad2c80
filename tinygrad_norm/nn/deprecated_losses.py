"""``NLLLoss2d``, torch's deprecated name of ``NLLLoss`` for (N, C, H, W) input: the same loss,
with torch's FutureWarning at construction, so old code runs and is told to move on."""
from __future__ import annotations

import warnings

from .loss import NLLLoss

__all__ = ["NLLLoss2d"]


class NLLLoss2d(NLLLoss):
    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        warnings.warn("`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a "
                      "drop-in replacement and see "
                      "https://pytorch.org/docs/main/nn.html#torch.nn.NLLLoss for more details.",
                      FutureWarning, stacklevel=2)
        super().__init__(weight, ignore_index, reduction)
