"""The families with a real ``loc`` and a positive ``scale`` (Normal, Laplace, Cauchy): their
one constructor and ``expand``."""
from __future__ import annotations

import numbers

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = []


class LocScale(Distribution):
    """``loc`` and ``scale`` broadcast together; a batch of numbers is 0-d."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        scalar = isinstance(loc, numbers.Number) and isinstance(scale, numbers.Number)
        super().__init__(() if scalar else self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        # the family (Normal for a subclass of it) names the class in the subclass check
        family = next(c for c in type(self).__mro__ if LocScale in c.__bases__)
        new = self._get_checked_instance(family, _instance)
        batch_shape = tuple(batch_shape)
        new.loc, new.scale = self.loc.expand(batch_shape), self.scale.expand(batch_shape)
        return self._finish_expand(family, new, batch_shape)
