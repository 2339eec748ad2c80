"""``biject_to`` and ``transform_to``, as ``torch.distributions.constraint_registry``: from a
constraint to a transform from the unconstrained reals onto it -- a bijection for ``biject_to``
(what HMC-style samplers need, log |det J| defined), any surjection for ``transform_to`` (what an
optimiser of a constrained parameter needs). Looked up by the constraint's exact type, as
torch's; ``register`` adds a factory for a new constraint type."""
from __future__ import annotations

import numbers

from . import constraints as C
from . import matrix_constraints as MC
from . import more_constraints as MoreC
from .more_transforms import (CatTransform, CorrCholeskyTransform, IndependentTransform,
                              LowerCholeskyTransform, PositiveDefiniteTransform,
                              SoftmaxTransform, StackTransform, StickBreakingTransform,
                              identity_transform)
from .transforms import AffineTransform, ComposeTransform, ExpTransform, SigmoidTransform

__all__ = ["ConstraintRegistry", "biject_to", "transform_to"]


class ConstraintRegistry:
    """A map from constraint types to factories ``factory(constraint) -> Transform``."""

    def __init__(self):
        self._registry = {}

    def register(self, constraint, factory=None):
        """Register ``factory`` for the type of ``constraint`` (an instance or a subclass of
        Constraint); without ``factory``, a decorator."""
        if factory is None:
            return lambda factory: self.register(constraint, factory)
        if isinstance(constraint, C.Constraint):
            constraint = type(constraint)
        if not (isinstance(constraint, type) and issubclass(constraint, C.Constraint)):
            raise TypeError("Expected constraint to be either a Constraint subclass or "
                            f"instance, but got {constraint}")
        self._registry[constraint] = factory
        return factory

    def __call__(self, constraint):
        factory = self._registry.get(type(constraint))
        if factory is None:
            raise NotImplementedError(f"Cannot transform {type(constraint).__name__} "
                                      "constraints")
        return factory(constraint)


biject_to = ConstraintRegistry()
transform_to = ConstraintRegistry()


def _both(*kinds):
    """Register one factory for ``kinds`` in both registries."""
    def decorate(fn):
        for k in kinds:
            biject_to.register(k, fn)
            transform_to.register(k, fn)
        return fn
    return decorate


@_both(C.real)
def _to_real(constraint):
    return identity_transform


biject_to.register(C.independent, lambda c: IndependentTransform(
    biject_to(c.base_constraint), c.reinterpreted_batch_ndims))
transform_to.register(C.independent, lambda c: IndependentTransform(
    transform_to(c.base_constraint), c.reinterpreted_batch_ndims))


@_both(C.greater_than, C.greater_than_eq)
def _to_greater_than(constraint):
    # positive is greater_than(0): the same type, so the same exp-then-shift chain, as torch's
    return ComposeTransform([ExpTransform(), AffineTransform(constraint.lower_bound, 1)])


@_both(C.less_than)
def _to_less_than(constraint):
    return ComposeTransform([ExpTransform(), AffineTransform(constraint.upper_bound, -1)])


@_both(C.interval, C.half_open_interval)
def _to_interval(constraint):
    low, high = constraint.lower_bound, constraint.upper_bound
    if isinstance(low, numbers.Number) and low == 0 and isinstance(high, numbers.Number) \
            and high == 1:
        return SigmoidTransform()
    return ComposeTransform([SigmoidTransform(), AffineTransform(low, high - low)])


biject_to.register(C.simplex, lambda c: StickBreakingTransform())
transform_to.register(C.simplex, lambda c: SoftmaxTransform())
transform_to.register(MC.lower_cholesky, lambda c: LowerCholeskyTransform())
transform_to.register(MC.positive_definite, lambda c: PositiveDefiniteTransform())
transform_to.register(MoreC.positive_semidefinite, lambda c: PositiveDefiniteTransform())
_both(MoreC.corr_cholesky)(lambda c: CorrCholeskyTransform())
biject_to.register(MoreC.cat, lambda c: CatTransform([biject_to(x) for x in c.cseq], c.dim,
                                                     c.lengths))
transform_to.register(MoreC.cat, lambda c: CatTransform([transform_to(x) for x in c.cseq],
                                                        c.dim, c.lengths))
biject_to.register(MoreC.stack, lambda c: StackTransform([biject_to(x) for x in c.cseq], c.dim))
transform_to.register(MoreC.stack, lambda c: StackTransform([transform_to(x) for x in c.cseq],
                                                            c.dim))
