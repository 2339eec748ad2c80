"""Probability distributions, as ``torch.distributions``: parameters broadcast as torch's,
``log_prob``/``entropy``/``cdf``/``kl_divergence`` as composites of Tensor ops (their gradients
come from the tape), reparameterised ``rsample`` and no-grad ``sample`` drawn from the package
generator (``tg.manual_seed`` repeats them; the values differ from torch's draws)."""
from . import constraints, transforms
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy, HalfCauchy, HalfNormal
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exponential import Exponential
from .gamma import Chi2, Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from . import kl_gamma  # noqa: F401  (registers the gamma families' KLs)
from .gumbel import Gumbel
from .laplace import Laplace
from .log_normal import LogNormal
from .mixture_same_family import MixtureSameFamily
from .multivariate_normal import MultivariateNormal
from .negative_binomial import NegativeBinomial
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .poisson import Poisson
from .student_t import StudentT
from .transformed_distribution import TransformedDistribution
from .transforms import (AffineTransform, ComposeTransform, ExpTransform, SigmoidTransform,
                         TanhTransform, Transform)
from .uniform import Uniform
# the families, transforms and registries added after the first ones (tests/test_dists_*.py)
from .constraint_registry import biject_to, transform_to
from .continuous_bernoulli import ContinuousBernoulli
from .exp_family import ExponentialFamily
from .fisher_snedecor import FisherSnedecor
from .generalized_pareto import GeneralizedPareto
from .geometric import Geometric
from .inverse_gamma import InverseGamma
from .kumaraswamy import Kumaraswamy
from .lkj_cholesky import LKJCholesky
from .logistic_normal import LogisticNormal
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .more_transforms import (AbsTransform, CatTransform, CorrCholeskyTransform,
                              CumulativeDistributionTransform, IndependentTransform,
                              LowerCholeskyTransform, PositiveDefiniteTransform, PowerTransform,
                              ReshapeTransform, SoftmaxTransform, SoftplusTransform,
                              StackTransform, StickBreakingTransform, identity_transform)
from .multinomial import Multinomial
from .pareto import Pareto
from .relaxed import (OneHotCategoricalStraightThrough, RelaxedBernoulli,
                      RelaxedOneHotCategorical)
from .von_mises import VonMises
from .weibull import Weibull
from .wishart import Wishart
from . import kl_more  # noqa: F401  (registers their KLs; imports the families above)

__all__ = [
    "AbsTransform", "AffineTransform", "Bernoulli", "Beta", "Binomial", "CatTransform",
    "Categorical", "Cauchy", "Chi2", "ComposeTransform", "ContinuousBernoulli",
    "CorrCholeskyTransform", "CumulativeDistributionTransform", "Dirichlet", "Distribution",
    "ExpTransform", "Exponential", "ExponentialFamily", "FisherSnedecor", "Gamma",
    "GeneralizedPareto", "Geometric", "Gumbel", "HalfCauchy", "HalfNormal", "Independent",
    "IndependentTransform", "InverseGamma", "Kumaraswamy", "LKJCholesky", "Laplace",
    "LogNormal", "LogisticNormal", "LowRankMultivariateNormal", "LowerCholeskyTransform",
    "MixtureSameFamily", "Multinomial", "MultivariateNormal", "NegativeBinomial", "Normal",
    "OneHotCategorical", "OneHotCategoricalStraightThrough", "Pareto", "Poisson",
    "PositiveDefiniteTransform", "PowerTransform", "RelaxedBernoulli",
    "RelaxedOneHotCategorical", "ReshapeTransform", "SigmoidTransform", "SoftmaxTransform",
    "SoftplusTransform", "StackTransform", "StickBreakingTransform", "StudentT",
    "TanhTransform", "Transform", "TransformedDistribution", "Uniform", "VonMises", "Weibull",
    "Wishart", "biject_to", "constraints", "identity_transform", "kl_divergence", "register_kl",
    "transform_to", "transforms",
]
