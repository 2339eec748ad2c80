"""LKJCholesky(dim, concentration), as ``torch.distributions.LKJCholesky``: the lower Cholesky
factor of a correlation matrix drawn from the LKJ distribution (density proportional to
det(C)^(concentration - 1)), sampled by the onion method (Lewandowski, Kurowicka and Joe, 2009,
sec. 3.2). torch 2.13 draws row i's squared off-diagonal norm from Beta(i - 1/2, .) where the
onion method has Beta(i/2, .): from row 2 on its correlations come out too spread (variance
0.186 where LKJ(4, 2) has 1/7 for every pair); ours have the LKJ marginals. log_prob is
torch's."""
from __future__ import annotations

import math
import operator

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..special import multigammaln
from ..tensor import Tensor
from . import constraints
from .beta import Beta
from .distribution import Distribution
from .more_constraints import corr_cholesky
from .utils import broadcast_all

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    """Cholesky factors of dim x dim correlation matrices; ``concentration`` 1 is uniform over
    correlation matrices, larger favours the identity."""
    arg_constraints = {"concentration": constraints.positive}
    support = corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if operator.index(dim) < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. "
                             f"Found dim={dim}.")
        self.dim = operator.index(dim)
        (self.concentration,) = broadcast_all(concentration)
        c = self.concentration
        # the onion method's Beta for each row i >= 1: its squared norm off the diagonal,
        # Beta(i / 2, eta + (dim - 1 - i) / 2); row 0 has none (its draw is not used)
        offset = Tensor(np.concatenate([[0.0], np.arange(self.dim - 1)]).astype(c.dtype))
        marginal = c + 0.5 * (self.dim - 2)
        self._beta = Beta(0.5 * offset + 0.5, marginal.unsqueeze(-1) - 0.5 * offset)
        super().__init__(c.shape, (self.dim, self.dim), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = tuple(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(batch_shape + (self.dim,))
        return self._finish_expand(LKJCholesky, new, batch_shape)

    def sample(self, sample_shape=()):
        with no_grad():
            y = self._beta.sample(sample_shape).data[..., None]
            shape = self._extended_shape(sample_shape)
            u = np.tril(_random.generator().standard_normal(shape), -1)
            norm = np.linalg.norm(u, axis=-1, keepdims=True)
            norm[..., 0, :] = 1.0  # row 0 is all zeros: no direction, left zero
            w = np.sqrt(y) * (u / norm)
            tiny = np.finfo(w.dtype).tiny
            diag = np.sqrt(np.maximum(1 - (w ** 2).sum(-1), tiny))
            w = w + diag[..., None] * np.eye(self.dim)
            return Tensor(w.astype(self.concentration.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diag = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = Tensor(np.arange(2, self.dim + 1, dtype=np.int64))
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized = (order * diag.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        normalize = 0.5 * dm1 * math.log(math.pi) + multigammaln(alpha - 0.5, dm1) \
            - alpha.lgamma() * dm1
        return unnormalized - normalize
