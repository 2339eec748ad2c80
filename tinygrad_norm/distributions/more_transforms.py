"""The transforms of ``torch.distributions.transforms`` beyond exp/sigmoid/tanh/affine/compose:
elementwise (abs, power, softplus), onto the simplex (softmax, stick-breaking), onto matrices
(lower Cholesky, correlation Cholesky, positive definite), structural (reshape, independent,
cat, stack), the cdf of a distribution, and ``identity_transform``. Composites of Tensor ops:
their gradients, and those of their Jacobian terms, come from the tape."""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor, cat as _cat, stack as _stack
from . import constraints
from .transforms import ComposeTransform, Transform, _Parameterless, _softplus
from .utils import broadcast_all, softplus, sum_rightmost

__all__ = ["AbsTransform", "CatTransform", "CorrCholeskyTransform",
           "CumulativeDistributionTransform", "IndependentTransform", "LowerCholeskyTransform",
           "PositiveDefiniteTransform", "PowerTransform", "ReshapeTransform",
           "SoftmaxTransform", "SoftplusTransform", "StackTransform", "StickBreakingTransform",
           "identity_transform"]

identity_transform = ComposeTransform([])


def _pad_last(x, before, after, value):
    """``x`` with ``before``/``after`` entries of ``value`` around its last axis (F.pad's job;
    functional is not imported with the package, so not here either)."""
    def block(n):
        return Tensor(np.full(tuple(x.shape[:-1]) + (n,), value, dtype=x.dtype))
    parts = ([block(before)] if before else []) + [x] + ([block(after)] if after else [])
    return _cat(parts, -1)


def _logsigmoid(x):
    return -softplus(-x)


def _need_dims(shape, n):
    if len(shape) < n:
        raise ValueError("Too few dimensions on input")


class AbsTransform(_Parameterless):
    """y = |x| (not bijective: its ``inv`` is the identity on the positive half)."""
    domain = constraints.real
    codomain = constraints.positive

    def _call(self, x):
        return x.abs()

    def _inverse(self, y):
        return y


class PowerTransform(Transform):
    """y = x ** exponent on the positive half-line."""
    domain = constraints.positive
    codomain = constraints.positive
    bijective = True

    def __init__(self, exponent, cache_size=0):
        super().__init__(cache_size=cache_size)
        (self.exponent,) = broadcast_all(exponent)

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return PowerTransform(self.exponent, cache_size=cache_size)

    @property
    def sign(self):
        return self.exponent.sign()

    def __eq__(self, other):
        return isinstance(other, PowerTransform) and bool(
            np.all(self.exponent.data == other.exponent.data))

    __hash__ = object.__hash__

    def _call(self, x):
        return x ** self.exponent

    def _inverse(self, y):
        return y ** (1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        return (self.exponent * y / x).abs().log()

    def forward_shape(self, shape):
        return tuple(np.broadcast_shapes(tuple(shape), tuple(self.exponent.shape)))

    inverse_shape = forward_shape


class SoftplusTransform(_Parameterless):
    """y = log(1 + exp(x)) (torch's F.softplus, linear above 20)."""
    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = +1

    def _call(self, x):
        return _softplus(x)

    def _inverse(self, y):
        return (-(-y).expm1()).log() + y  # log(exp(y) - 1) without overflow

    def log_abs_det_jacobian(self, x, y):
        return -_softplus(-x)


class SoftmaxTransform(_Parameterless):
    """y = softmax(x) over the last axis: onto the simplex, not bijective (x up to a shift);
    the inverse is log y, and there is no Jacobian term, as torch's."""
    domain = constraints.real_vector
    codomain = constraints.simplex

    def _call(self, x):
        probs = (x - x.max(-1, keepdim=True).values).exp()
        return probs / probs.sum(-1, keepdim=True)

    def _inverse(self, y):
        return y.log()

    def forward_shape(self, shape):
        _need_dims(shape, 1)
        return tuple(shape)

    inverse_shape = forward_shape


def _stick_offset(k, dtype):
    """log(K - i) for i = 0 .. K-1: centres the sigmoid so x = 0 maps to the uniform vector."""
    return Tensor(np.log(np.arange(k, 0, -1, dtype=dtype)))


class StickBreakingTransform(_Parameterless):
    """R^(K-1) onto the K-simplex by breaking off a sigmoid fraction of what is left, in turn."""
    domain = constraints.real_vector
    codomain = constraints.simplex
    bijective = True

    def _call(self, x):
        fi = np.finfo(x.dtype)
        z = (x - _stick_offset(x.shape[-1], x.dtype)).sigmoid().clip(float(fi.tiny),
                                                                     1.0 - float(fi.eps))
        rest = (1 - z).cumprod(-1)
        return _pad_last(z, 0, 1, 1.0) * _pad_last(rest, 1, 0, 1.0)

    def _inverse(self, y):
        crop = y[..., :-1]
        k = crop.shape[-1]
        left = (1 - crop.cumsum(-1)).clip(float(np.finfo(y.dtype).tiny))
        return crop.log() - left.log() + _stick_offset(k, y.dtype)

    def log_abs_det_jacobian(self, x, y):
        x = x - _stick_offset(x.shape[-1], x.dtype)
        return (-x + _logsigmoid(x) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape):
        _need_dims(shape, 1)
        return tuple(shape[:-1]) + (shape[-1] + 1,)

    def inverse_shape(self, shape):
        _need_dims(shape, 1)
        return tuple(shape[:-1]) + (shape[-1] - 1,)


class LowerCholeskyTransform(_Parameterless):
    """Any square matrix onto a lower-triangular one with a positive diagonal: the strict lower
    part kept, the diagonal exponentiated (not bijective: the upper part is dropped)."""
    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def _call(self, x):
        return x.tril(-1) + x.diagonal(dim1=-2, dim2=-1).exp().diag_embed()

    def _inverse(self, y):
        return y.tril(-1) + y.diagonal(dim1=-2, dim2=-1).log().diag_embed()


class PositiveDefiniteTransform(_Parameterless):
    """Any square matrix onto a positive definite one: L L^T of its LowerCholeskyTransform."""
    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite

    def _call(self, x):
        low = LowerCholeskyTransform()(x)
        return low @ low.mT

    def _inverse(self, y):
        from ..linalg import cholesky
        return LowerCholeskyTransform().inv(cholesky(y))


def _tril_index(n, diag):
    return np.ravel_multi_index(np.tril_indices(n, k=diag), (n, n))


def vec_to_tril_matrix(vec, diag=0):
    """The (..., n, n) matrix whose lower part below diagonal ``diag`` is ``vec`` read row by
    row, zeros elsewhere: a gather from ``vec`` with a zero put in front."""
    m = vec.shape[-1]
    # m = n (n + 1) / 2 + n diag: the positive root
    n = round((-(1 + 2 * diag) + math.sqrt((1 + 2 * diag) ** 2 + 8 * m + 4 * abs(diag)
                                            * (diag + 1))) / 2)
    if _tril_index(n, diag).size != m:
        raise ValueError(f"vec_to_tril_matrix: {m} numbers fill no triangle below diagonal "
                         f"{diag}")
    where_from = np.zeros(n * n, dtype=np.int64)
    where_from[_tril_index(n, diag)] = np.arange(1, m + 1)
    padded = _pad_last(vec, 1, 0, 0.0)
    return padded[..., where_from].reshape(tuple(vec.shape[:-1]) + (n, n))


def tril_matrix_to_vec(mat, diag=0):
    n = mat.shape[-1]
    flat = mat.reshape(tuple(mat.shape[:-2]) + (n * n,))
    return flat[..., _tril_index(n, diag)]


class CorrCholeskyTransform(_Parameterless):
    """An unconstrained vector of length D(D-1)/2 onto the Cholesky factor of a DxD correlation
    matrix: tanh into (-1, 1), then each row scaled by stick-breaking to unit norm."""
    domain = constraints.real_vector
    codomain = constraints.corr_cholesky
    bijective = True

    def _call(self, x):
        eps = float(np.finfo(x.dtype).eps)
        r = vec_to_tril_matrix(x.tanh().clip(-1 + eps, 1 - eps), diag=-1)
        left = (1 - r ** 2).sqrt().cumprod(-1)
        r = r + Tensor(np.eye(r.shape[-1], dtype=r.dtype))
        return r * _pad_last(left[..., :-1], 1, 0, 1.0)

    def _inverse(self, y):
        left = 1 - (y * y).cumsum(-1)
        left = _pad_last(left[..., :-1], 1, 0, 1.0)
        t = tril_matrix_to_vec(y, diag=-1) / tril_matrix_to_vec(left, diag=-1).sqrt()
        return (t.log1p() - (-t).log1p()) / 2

    def log_abs_det_jacobian(self, x, y, intermediates=None):
        left = tril_matrix_to_vec(1 - (y * y).cumsum(-1), diag=-2)
        stick = 0.5 * left.log().sum(-1)
        tanh = -2 * (x + _softplus(-2 * x) - math.log(2.0)).sum(-1)
        return stick + tanh

    def forward_shape(self, shape):
        _need_dims(shape, 1)
        n = shape[-1]
        d = round((0.25 + 2 * n) ** 0.5 + 0.5)
        if d * (d - 1) // 2 != n:
            raise ValueError("Input is not a flattened lower-diagonal number")
        return tuple(shape[:-1]) + (d, d)

    def inverse_shape(self, shape):
        _need_dims(shape, 2)
        if shape[-2] != shape[-1]:
            raise ValueError("Input is not square")
        d = shape[-1]
        return tuple(shape[:-2]) + (d * (d - 1) // 2,)


class ReshapeTransform(Transform):
    """The event of shape ``in_shape`` read as ``out_shape`` (the same number of elements)."""
    bijective = True

    def __init__(self, in_shape, out_shape, cache_size=0):
        self.in_shape, self.out_shape = tuple(in_shape), tuple(out_shape)
        if math.prod(self.in_shape) != math.prod(self.out_shape):
            raise ValueError("in_shape, out_shape have different numbers of elements")
        super().__init__(cache_size=cache_size)

    @constraints.dependent_property
    def domain(self):
        return constraints.independent(constraints.real, len(self.in_shape))

    @constraints.dependent_property
    def codomain(self):
        return constraints.independent(constraints.real, len(self.out_shape))

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return ReshapeTransform(self.in_shape, self.out_shape, cache_size=cache_size)

    def _call(self, x):
        return x.reshape(tuple(x.shape[:x.ndim - len(self.in_shape)]) + self.out_shape)

    def _inverse(self, y):
        return y.reshape(tuple(y.shape[:y.ndim - len(self.out_shape)]) + self.in_shape)

    def log_abs_det_jacobian(self, x, y):
        return Tensor(np.zeros(x.shape[:x.ndim - len(self.in_shape)], dtype=x.dtype))

    @staticmethod
    def _swap(shape, have, want):
        _need_dims(shape, len(have))
        cut = len(shape) - len(have)
        if tuple(shape[cut:]) != have:
            raise ValueError(f"Shape mismatch: expected {tuple(shape[cut:])} but got {have}")
        return tuple(shape[:cut]) + want

    def forward_shape(self, shape):
        return self._swap(shape, self.in_shape, self.out_shape)

    def inverse_shape(self, shape):
        return self._swap(shape, self.out_shape, self.in_shape)


class IndependentTransform(Transform):
    """``base_transform`` with its ``reinterpreted_batch_ndims`` rightmost batch axes read as
    event axes (its Jacobian terms summed over them)."""

    def __init__(self, base_transform, reinterpreted_batch_ndims, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.base_transform = base_transform.with_cache(cache_size)
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return IndependentTransform(self.base_transform, self.reinterpreted_batch_ndims,
                                    cache_size=cache_size)

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        return constraints.independent(self.base_transform.domain,
                                       self.reinterpreted_batch_ndims)

    @constraints.dependent_property(is_discrete=False)
    def codomain(self):
        return constraints.independent(self.base_transform.codomain,
                                       self.reinterpreted_batch_ndims)

    @property
    def bijective(self):
        return self.base_transform.bijective

    @property
    def sign(self):
        return self.base_transform.sign

    def _call(self, x):
        _need_dims(x.shape, self.domain.event_dim)
        return self.base_transform(x)

    def _inverse(self, y):
        _need_dims(y.shape, self.codomain.event_dim)
        return self.base_transform.inv(y)

    def log_abs_det_jacobian(self, x, y):
        return sum_rightmost(self.base_transform.log_abs_det_jacobian(x, y),
                             self.reinterpreted_batch_ndims)

    def __repr__(self):
        return f"{type(self).__name__}({self.base_transform!r}, {self.reinterpreted_batch_ndims})"

    def forward_shape(self, shape):
        return self.base_transform.forward_shape(shape)

    def inverse_shape(self, shape):
        return self.base_transform.inverse_shape(shape)


def _transforms_arg(tseq, cache_size, who):
    tseq = list(tseq)
    if not all(isinstance(t, Transform) for t in tseq):
        raise TypeError(f"{who}: all elements of tseq must be Transform instances")
    return [t.with_cache(cache_size) for t in tseq] if cache_size else tseq


def _check_axis(x, dim, size, what, name="tensor"):
    if not -x.ndim <= dim < x.ndim:
        raise ValueError(f"dim {dim} out of range for {name} with {x.ndim} dimensions")
    if x.shape[dim] != size:
        raise ValueError(f"size({dim}) = {x.shape[dim]} must equal {what} {size}")


class CatTransform(Transform):
    """``tseq[i]`` on the ``lengths[i]`` slice of axis ``dim`` (lengths 1 each by default)."""

    def __init__(self, tseq, dim=0, lengths=None, cache_size=0):
        tseq = _transforms_arg(tseq, cache_size, "CatTransform")
        super().__init__(cache_size=cache_size)
        self.transforms = tseq
        self.lengths = [1] * len(tseq) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.transforms):
            raise ValueError(f"lengths ({len(self.lengths)}) must match transforms "
                             f"({len(self.transforms)})")
        self.dim = dim

    @property
    def event_dim(self):
        return max(t.event_dim for t in self.transforms)

    @property
    def length(self):
        return sum(self.lengths)

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return CatTransform(self.transforms, self.dim, self.lengths, cache_size)

    def _slices(self, z):
        start = 0
        for t, n in zip(self.transforms, self.lengths):
            yield t, z.narrow(self.dim, start, n)
            start += n

    def _call(self, x):
        _check_axis(x, self.dim, self.length, "length")
        return _cat([t(s) for t, s in self._slices(x)], self.dim)

    def _inverse(self, y):
        _check_axis(y, self.dim, self.length, "length")
        return _cat([t.inv(s) for t, s in self._slices(y)], self.dim)

    def log_abs_det_jacobian(self, x, y):
        _check_axis(x, self.dim, self.length, "length", "x")
        _check_axis(y, self.dim, self.length, "length", "y")
        terms = []
        for (t, xs), (_, ys) in zip(self._slices(x), self._slices(y)):
            term = t.log_abs_det_jacobian(xs, ys)
            terms.append(sum_rightmost(term, self.event_dim - t.event_dim))
        dim = (self.dim - x.ndim if self.dim >= 0 else self.dim) + self.event_dim
        # the cat axis is still there after the event sum: cat the terms; else add them
        return _cat(terms, dim) if dim < 0 else sum(terms[1:], terms[0])

    @property
    def bijective(self):
        return all(t.bijective for t in self.transforms)

    @constraints.dependent_property
    def domain(self):
        return constraints.cat([t.domain for t in self.transforms], self.dim, self.lengths)

    @constraints.dependent_property
    def codomain(self):
        return constraints.cat([t.codomain for t in self.transforms], self.dim, self.lengths)


class StackTransform(Transform):
    """``tseq[i]`` on index ``i`` of axis ``dim``."""

    def __init__(self, tseq, dim=0, cache_size=0):
        tseq = _transforms_arg(tseq, cache_size, "StackTransform")
        super().__init__(cache_size=cache_size)
        self.transforms, self.dim = tseq, dim

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return StackTransform(self.transforms, self.dim, cache_size)

    def _slices(self, z):
        return [z.select(self.dim, i) for i in range(z.shape[self.dim])]

    def _call(self, x):
        _check_axis(x, self.dim, len(self.transforms), "len(transforms)")
        return _stack([t(s) for t, s in zip(self.transforms, self._slices(x))], self.dim)

    def _inverse(self, y):
        _check_axis(y, self.dim, len(self.transforms), "len(transforms)")
        return _stack([t.inv(s) for t, s in zip(self.transforms, self._slices(y))], self.dim)

    def log_abs_det_jacobian(self, x, y):
        _check_axis(x, self.dim, len(self.transforms), "len(transforms)", "x")
        _check_axis(y, self.dim, len(self.transforms), "len(transforms)", "y")
        return _stack([t.log_abs_det_jacobian(a, b) for t, a, b in
                       zip(self.transforms, self._slices(x), self._slices(y))], self.dim)

    @property
    def bijective(self):
        return all(t.bijective for t in self.transforms)

    @constraints.dependent_property
    def domain(self):
        return constraints.stack([t.domain for t in self.transforms], self.dim)

    @constraints.dependent_property
    def codomain(self):
        return constraints.stack([t.codomain for t in self.transforms], self.dim)


class CumulativeDistributionTransform(Transform):
    """y = distribution.cdf(x), onto the unit interval; log |det J| is the log density."""
    bijective = True
    codomain = constraints.unit_interval
    sign = +1

    def __init__(self, distribution, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.distribution = distribution

    @property
    def domain(self):
        return self.distribution.support

    def _call(self, x):
        return self.distribution.cdf(x)

    def _inverse(self, y):
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x, y):
        return self.distribution.log_prob(x)

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return CumulativeDistributionTransform(self.distribution, cache_size=cache_size)
