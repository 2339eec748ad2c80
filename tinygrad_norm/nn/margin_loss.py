"""Loss layers of the margin family (``functional/margin_losses.py``), as ``torch.nn``'s: each
holds its arguments and calls the functional loss."""
from __future__ import annotations

from .. import functional as F
from ..functional._checks import _flag
from .distance import PairwiseDistance
from .loss import _Loss

__all__ = ["SoftMarginLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss",
           "MultiLabelMarginLoss", "TripletMarginWithDistanceLoss"]


class SoftMarginLoss(_Loss):
    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_Loss):
    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self._register_weight("weight", weight)

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, self.weight,
                                             reduction=self.reduction)


class MultiMarginLoss(_Loss):
    def __init__(self, p=1, margin=1.0, weight=None, reduction="mean"):
        super().__init__(reduction)
        if p not in (1, 2) or isinstance(p, bool):
            raise ValueError("only p == 1 and p == 2 supported")
        self._register_weight("weight", weight)
        if self.weight is not None and self.weight.ndim != 1:
            raise ValueError("weight must be one-dimensional")
        self.p, self.margin = p, margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, self.p, self.margin, self.weight,
                                   reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    def forward(self, input, target):
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        super().__init__(reduction)
        if not margin > 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater "
                             f"than 0, got {margin} instead")
        # None is PairwiseDistance(), a child module, as torch's (its repr and named_modules)
        self.distance_function = PairwiseDistance() if distance_function is None else \
            distance_function
        self.margin = margin
        self.swap = _flag(swap, "swap", "TripletMarginWithDistanceLoss")

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)
