"""Bijections for TransformedDistribution, as ``torch.distributions.transforms``: each transform
maps x to y = t(x), has an inverse (``t.inv``) and the log of the absolute Jacobian determinant
``log_abs_det_jacobian(x, y)``, all composites of Tensor ops. ``cache_size=1`` remembers the last
pair, so that scoring a value the transform itself produced skips the inverse (a tanh-squashed
draw at +-1 has no finite atanh)."""
from __future__ import annotations

import math
import numbers
import weakref

import numpy as np

from ..tensor import Tensor, where
from . import constraints
from .utils import softplus as _smooth_softplus
from .utils import sum_rightmost

__all__ = ["AffineTransform", "ComposeTransform", "ExpTransform", "SigmoidTransform",
           "TanhTransform", "Transform"]


def _softplus(x):
    """torch's ``F.softplus`` (beta 1, threshold 20), which torch's Jacobians use: x itself above
    20 (derivative 1), log(1 + exp(x)) below."""
    return where(x.data > 20, x, _smooth_softplus(x))


class Transform:
    """An invertible (or at least computable) map with its log |det J|. Subclasses define
    ``_call``, ``_inverse``, ``log_abs_det_jacobian``, ``domain``, ``codomain``, ``bijective``
    and ``sign`` as they can."""
    bijective = False
    domain = constraints.real
    codomain = constraints.real

    def __init__(self, cache_size=0):
        if cache_size not in (0, 1):
            raise ValueError("cache_size must be 0 or 1")
        self._cache_size = cache_size
        self._cached_x_y = (None, None)
        self._inv = None

    @property
    def event_dim(self):
        if self.domain.event_dim == self.codomain.event_dim:
            return self.domain.event_dim
        raise ValueError("Please use either .domain.event_dim or .codomain.event_dim")

    @property
    def inv(self):
        """The inverse transform, the same object each time while it lives (held weakly, as
        torch's, so that a transform and its inverse do not keep each other alive)."""
        inv = self._inv() if self._inv is not None else None
        if inv is None:
            inv = _InverseTransform(self)
            self._inv = weakref.ref(inv)
        return inv

    @property
    def sign(self):
        raise NotImplementedError

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        if type(self).__init__ is Transform.__init__:
            return type(self)(cache_size=cache_size)
        raise NotImplementedError(f"{type(self)}.with_cache is not implemented")

    def __call__(self, x):
        if not self._cache_size:
            return self._call(x)
        x_old, y_old = self._cached_x_y
        if x is x_old:
            return y_old
        y = self._call(x)
        self._cached_x_y = (x, y)
        return y

    def _inv_call(self, y):
        if not self._cache_size:
            return self._inverse(y)
        x_old, y_old = self._cached_x_y
        if y is y_old:
            return x_old
        x = self._inverse(y)
        self._cached_x_y = (x, y)
        return x

    def _call(self, x):
        raise NotImplementedError

    def _inverse(self, y):
        raise NotImplementedError

    def log_abs_det_jacobian(self, x, y):
        raise NotImplementedError

    def forward_shape(self, shape):
        return tuple(shape)

    def inverse_shape(self, shape):
        return tuple(shape)

    def __repr__(self):
        return f"{type(self).__name__}()"


class _InverseTransform(Transform):
    """``t.inv``: t read backwards, sharing t's cache."""

    def __init__(self, transform):
        super().__init__(cache_size=transform._cache_size)
        self._inv = transform  # held strongly: the inverse keeps its forward alive

    @property
    def inv(self):
        return self._inv

    @property
    def domain(self):
        return self._inv.codomain

    @property
    def codomain(self):
        return self._inv.domain

    @property
    def bijective(self):
        return self._inv.bijective

    @property
    def sign(self):
        return self._inv.sign

    def with_cache(self, cache_size=1):
        return self._inv.with_cache(cache_size).inv

    def __eq__(self, other):
        return isinstance(other, _InverseTransform) and self._inv == other._inv

    __hash__ = object.__hash__

    def __repr__(self):
        return f"{type(self).__name__}({self._inv!r})"

    def __call__(self, x):
        return self._inv._inv_call(x)

    def log_abs_det_jacobian(self, x, y):
        return -self._inv.log_abs_det_jacobian(y, x)

    def forward_shape(self, shape):
        return self._inv.inverse_shape(shape)

    def inverse_shape(self, shape):
        return self._inv.forward_shape(shape)


class _Parameterless(Transform):
    """A transform with no parameters: any two instances are equal."""

    def __eq__(self, other):
        return isinstance(other, type(self))

    __hash__ = object.__hash__


class ExpTransform(_Parameterless):
    """y = exp(x)."""
    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = +1

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class SigmoidTransform(_Parameterless):
    """y = sigmoid(x), kept inside (tiny, 1 - eps) of the dtype, as torch's, so that the inverse
    of a draw is finite."""
    domain = constraints.real
    codomain = constraints.unit_interval
    bijective = True
    sign = +1

    @staticmethod
    def _clip(p):
        fi = np.finfo(p.dtype)
        return p.clip(float(fi.tiny), 1.0 - float(fi.eps))

    def _call(self, x):
        return self._clip(x.sigmoid())

    def _inverse(self, y):
        y = self._clip(y)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        # log sigmoid'(x) = log sigmoid(x) + log sigmoid(-x), each a -softplus
        return -_softplus(-x) - _softplus(x)


class TanhTransform(_Parameterless):
    """y = tanh(x). The inverse is atanh, unclamped (as torch's: a value at +-1 is infinite; use
    ``cache_size=1`` to score the transform's own outputs)."""
    domain = constraints.real
    codomain = constraints.interval(-1.0, 1.0)
    bijective = True
    sign = +1

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return y.atanh()

    def log_abs_det_jacobian(self, x, y):
        # log(1 - tanh(x)^2) = 2 (log 2 - x - softplus(-2x)): no 1 - y^2 that rounds to 0
        return 2.0 * (math.log(2.0) - x - _softplus(-2.0 * x))


def _shape_of(v):
    return tuple(v.shape) if isinstance(v, Tensor) else ()


class AffineTransform(Transform):
    """y = loc + scale * x, over events of ``event_dim`` rightmost axes (their Jacobian terms
    summed). ``loc`` and ``scale`` are Tensors or numbers."""
    bijective = True

    def __init__(self, loc, scale, event_dim=0, cache_size=0):
        super().__init__(cache_size=cache_size)
        for name, v in (("loc", loc), ("scale", scale)):
            if not isinstance(v, (Tensor, numbers.Number)):
                raise TypeError(f"AffineTransform: {name} must be a Tensor or a number, got "
                                f"{type(v).__name__}")
        self.loc, self.scale, self._event_dim = loc, scale, int(event_dim)

    @property
    def event_dim(self):
        return self._event_dim

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        n = self._event_dim
        return constraints.independent(constraints.real, n) if n else constraints.real

    @constraints.dependent_property(is_discrete=False)
    def codomain(self):
        n = self._event_dim
        return constraints.independent(constraints.real, n) if n else constraints.real

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return AffineTransform(self.loc, self.scale, self._event_dim, cache_size=cache_size)

    def __eq__(self, other):
        if not isinstance(other, AffineTransform):
            return False
        return all(_same(a, b) for a, b in ((self.loc, other.loc), (self.scale, other.scale)))

    __hash__ = object.__hash__

    @property
    def sign(self):
        s = self.scale
        if isinstance(s, numbers.Number):
            return 1 if float(s) > 0 else -1 if float(s) < 0 else 0
        return s.sign()

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        shape = tuple(x.shape)
        s = self.scale
        if isinstance(s, numbers.Number):
            out = Tensor(np.full(shape, math.log(abs(s)), dtype=x.dtype))
        else:
            out = s.abs().log()
        n = self._event_dim
        if n:
            out = sum_rightmost(out, n)
            shape = shape[:len(shape) - n]
        return out.expand(shape) if tuple(out.shape) != shape else out

    def forward_shape(self, shape):
        return tuple(np.broadcast_shapes(tuple(shape), _shape_of(self.loc),
                                         _shape_of(self.scale)))

    inverse_shape = forward_shape


def _same(a, b):
    if isinstance(a, numbers.Number) and isinstance(b, numbers.Number):
        return a == b
    a_ = a.data if isinstance(a, Tensor) else np.asarray(a)
    b_ = b.data if isinstance(b, Tensor) else np.asarray(b)
    return bool(np.all(a_ == b_))


class ComposeTransform(Transform):
    """``parts`` applied in order: y = parts[-1](... parts[0](x)); the Jacobian terms summed,
    each over the axes its part leaves to the event."""

    def __init__(self, parts, cache_size=0):
        parts = list(parts)
        for p in parts:
            if not isinstance(p, Transform):
                raise TypeError(f"ComposeTransform: parts must be Transforms, got "
                                f"{type(p).__name__}")
        if cache_size:
            parts = [p.with_cache(cache_size) for p in parts]
        super().__init__(cache_size=cache_size)
        self.parts = parts

    def __eq__(self, other):
        return isinstance(other, ComposeTransform) and self.parts == other.parts

    __hash__ = object.__hash__

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        if not self.parts:
            return constraints.real
        dom = self.parts[0].domain
        # the event the whole chain needs at its input: walk back from the output's
        need = self.parts[-1].codomain.event_dim
        for p in reversed(self.parts):
            need = max(need + p.domain.event_dim - p.codomain.event_dim, p.domain.event_dim)
        return constraints.independent(dom, need - dom.event_dim) if need > dom.event_dim \
            else dom

    @constraints.dependent_property(is_discrete=False)
    def codomain(self):
        if not self.parts:
            return constraints.real
        cod = self.parts[-1].codomain
        have = self.parts[0].domain.event_dim
        for p in self.parts:
            have = max(have + p.codomain.event_dim - p.domain.event_dim, p.codomain.event_dim)
        return constraints.independent(cod, have - cod.event_dim) if have > cod.event_dim \
            else cod

    @property
    def bijective(self):
        return all(p.bijective for p in self.parts)

    @property
    def sign(self):
        s = 1
        for p in self.parts:
            s = s * p.sign
        return s

    @property
    def inv(self):
        inv = self._inv() if self._inv is not None else None
        if inv is None:
            inv = ComposeTransform([p.inv for p in reversed(self.parts)])
            self._inv = weakref.ref(inv)
            inv._inv = weakref.ref(self)
        return inv

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return ComposeTransform(self.parts, cache_size=cache_size)

    def __call__(self, x):
        for p in self.parts:
            x = p(x)
        return x

    def log_abs_det_jacobian(self, x, y):
        if not self.parts:
            return Tensor(np.zeros_like(x.data))
        xs = [x]
        for p in self.parts[:-1]:
            xs.append(p(xs[-1]))
        xs.append(y)
        total = None
        event_dim = self.domain.event_dim
        for p, a, b in zip(self.parts, xs[:-1], xs[1:]):
            term = sum_rightmost(p.log_abs_det_jacobian(a, b), event_dim - p.domain.event_dim)
            total = term if total is None else total + term
            event_dim += p.codomain.event_dim - p.domain.event_dim
        return total

    def forward_shape(self, shape):
        for p in self.parts:
            shape = p.forward_shape(shape)
        return tuple(shape)

    def inverse_shape(self, shape):
        for p in reversed(self.parts):
            shape = p.inverse_shape(shape)
        return tuple(shape)

    def __repr__(self):
        inner = ",\n    ".join(repr(p) for p in self.parts)
        return f"{type(self).__name__}(\n    {inner}\n)"


# the rest of torch's transforms live in their own module (it imports this one's bases)
from .more_transforms import *  # noqa: E402,F401,F403
from .more_transforms import __all__ as _more_all  # noqa: E402

__all__ = __all__ + _more_all
