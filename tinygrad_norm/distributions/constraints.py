"""The sets a parameter or a value must lie in, as ``torch.distributions.constraints``: each
object's ``check(value)`` gives a bool Tensor (True where the value is in the set, reduced over
the constraint's ``event_dim`` rightmost axes) and its ``repr`` is torch's, because the
validation errors quote it."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor

__all__ = [
    "Constraint", "boolean", "dependent", "dependent_property", "greater_than",
    "greater_than_eq", "half_open_interval", "independent", "integer_interval", "interval",
    "less_than",
    "lower_cholesky", "nonnegative", "nonnegative_integer", "one_hot", "positive",
    "positive_definite", "real", "real_vector",
    "simplex", "unit_interval",
    "cat", "corr_cholesky", "lower_triangular", "multinomial", "positive_integer",
    "positive_semidefinite", "square", "stack", "symmetric",
]


def _data(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _fmt(bound):
    # torch formats a bound with f"{...}": a 0-d tensor or a float as its number
    if isinstance(bound, Tensor) and bound.ndim == 0:
        return f"{bound.item()}"
    return f"{bound}"


class Constraint:
    """A set of values; ``check`` says, elementwise, which values are in it."""
    is_discrete = False
    event_dim = 0

    def check(self, value):
        raise NotImplementedError

    def _test(self, v):  # the elementwise test on a NumPy array
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__[1:]}()"


class _Elementwise(Constraint):
    def check(self, value):
        with np.errstate(invalid="ignore"):
            return Tensor(np.asarray(self._test(_data(value))))


class _Dependent(Constraint):
    """A constraint that depends on other parameters: never checked (torch skips them)."""

    def __init__(self, *, is_discrete=False, event_dim=0):
        self.is_discrete, self.event_dim = is_discrete, event_dim

    def check(self, value):
        raise ValueError("Cannot determine validity of dependent constraint")


class dependent_property(property):
    """A property whose value is a constraint computed from the distribution's parameters (the
    support of Uniform or Categorical); on the class it reads as a dependent constraint."""

    def __init__(self, fn=None, *, is_discrete=False, event_dim=0):
        super().__init__(fn)
        self.is_discrete, self.event_dim = is_discrete, event_dim

    def __call__(self, fn):  # used with arguments: @dependent_property(is_discrete=True)
        return dependent_property(fn, is_discrete=self.is_discrete, event_dim=self.event_dim)


def is_dependent(constraint):
    return isinstance(constraint, _Dependent)


class _Real(_Elementwise):
    def _test(self, v):
        return v == v  # NaN is not a real number


class _Boolean(_Elementwise):
    is_discrete = True

    def _test(self, v):
        return (v == 0) | (v == 1)


class _GreaterThan(_Elementwise):
    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def _test(self, v):
        return v > _data(self.lower_bound)

    def __repr__(self):
        return f"GreaterThan(lower_bound={_fmt(self.lower_bound)})"


class _GreaterThanEq(_GreaterThan):
    def _test(self, v):
        return v >= _data(self.lower_bound)

    def __repr__(self):
        return f"GreaterThanEq(lower_bound={_fmt(self.lower_bound)})"


class _LessThan(_Elementwise):
    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def _test(self, v):
        return v < _data(self.upper_bound)

    def __repr__(self):
        return f"LessThan(upper_bound={_fmt(self.upper_bound)})"


class _Interval(_Elementwise):
    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def _test(self, v):
        return (_data(self.lower_bound) <= v) & (v <= _data(self.upper_bound))

    def __repr__(self):
        return (f"{type(self).__name__[1:]}(lower_bound={_fmt(self.lower_bound)}, "
                f"upper_bound={_fmt(self.upper_bound)})")


class _HalfOpenInterval(_Interval):
    """[lower_bound, upper_bound): NegativeBinomial's probs (1 would be no failure ever)."""

    def _test(self, v):
        return (_data(self.lower_bound) <= v) & (v < _data(self.upper_bound))


class _IntegerInterval(_Interval):
    is_discrete = True

    def _test(self, v):
        return (v % 1 == 0) & super()._test(v)


class _IntegerGreaterThan(_GreaterThanEq):
    is_discrete = True

    def _test(self, v):
        return (v % 1 == 0) & (v >= _data(self.lower_bound))

    def __repr__(self):
        return f"IntegerGreaterThan(lower_bound={_fmt(self.lower_bound)})"


class _Simplex(Constraint):
    event_dim = 1

    def check(self, value):
        v = _data(value)
        with np.errstate(invalid="ignore"):
            # torch's tolerance on the sum: 1e-6, in any dtype
            return Tensor(np.asarray(np.all(v >= 0, axis=-1) & (np.abs(v.sum(-1) - 1) < 1e-6)))


class _OneHot(Constraint):
    is_discrete = True
    event_dim = 1

    def check(self, value):
        v = _data(value)
        return Tensor(np.asarray(np.all((v == 0) | (v == 1), axis=-1) & (v.sum(-1) == 1)))


class _IndependentConstraint(Constraint):
    """``base`` on each element, all of the ``reinterpreted_batch_ndims`` rightmost axes at once."""

    def __init__(self, base_constraint, reinterpreted_batch_ndims):
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    @property
    def is_discrete(self):
        return self.base_constraint.is_discrete

    @property
    def event_dim(self):
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    def check(self, value):
        ok = self.base_constraint.check(value).data
        n = self.reinterpreted_batch_ndims
        if n:
            # the event's size spelt out: -1 cannot be inferred when the batch is empty
            keep = ok.shape[:ok.ndim - n]
            ok = ok.reshape(keep + (int(np.prod(ok.shape[ok.ndim - n:])),)).all(-1)
        return Tensor(np.asarray(ok))

    def __repr__(self):
        return f"IndependentConstraint({self.base_constraint!r}, {self.reinterpreted_batch_ndims})"


dependent = _Dependent()
real = _Real()
real_vector = _IndependentConstraint(real, 1)
boolean = _Boolean()
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
nonnegative_integer = _IntegerGreaterThan(0)
unit_interval = _Interval(0.0, 1.0)
simplex = _Simplex()
one_hot = _OneHot()
greater_than, greater_than_eq, less_than = _GreaterThan, _GreaterThanEq, _LessThan
interval, integer_interval, independent = _Interval, _IntegerInterval, _IndependentConstraint
half_open_interval = _HalfOpenInterval

# the matrix sets live in their own module (it imports Constraint from this one)
from .matrix_constraints import lower_cholesky, positive_definite  # noqa: E402
from .more_constraints import (cat, corr_cholesky, lower_triangular,  # noqa: E402,F401
                               multinomial, positive_integer, positive_semidefinite, square,
                               stack, symmetric)
