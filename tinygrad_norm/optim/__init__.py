"""Optimizers and learning-rate schedules, as ``torch.optim`` and ``torch.optim.lr_scheduler``."""
from .optimizers import SGD, Adam, AdamW, Optimizer, required  # noqa: F401
from .adaptive import RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam  # noqa: F401
from .more import Rprop, ASGD, Adafactor  # noqa: F401
from .lbfgs import LBFGS  # noqa: F401
from .sparse_adam import SparseAdam  # noqa: F401
from .muon import Muon  # noqa: F401
from . import optimizers as _optimizers, adaptive as _adaptive, more as _more, lbfgs as _lbfgs
from . import sparse_adam as _sparse_adam, muon as _muon
from . import lr_scheduler  # noqa: F401
from . import swa_utils  # noqa: F401  (AveragedModel, SWALR, update_bn: torch.optim.swa_utils)

__all__ = (_optimizers.__all__ + _adaptive.__all__ + _more.__all__ + _lbfgs.__all__
           + _sparse_adam.__all__ + _muon.__all__)
