"""Negative log-likelihood loss layers for counts and real values
(``functional/likelihood_losses.py``), as ``torch.nn``'s."""
from __future__ import annotations

from .. import functional as F
from ..functional._checks import _flag
from .loss import _Loss

__all__ = ["PoissonNLLLoss", "GaussianNLLLoss"]


class PoissonNLLLoss(_Loss):
    def __init__(self, log_input=True, full=False, eps=1e-8, reduction="mean"):
        super().__init__(reduction)
        self.log_input = _flag(log_input, "log_input", "PoissonNLLLoss")
        self.full = _flag(full, "full", "PoissonNLLLoss")
        self.eps = eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full,
                                  eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction)
        self.full = _flag(full, "full", "GaussianNLLLoss")
        self.eps = eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                   reduction=self.reduction)
