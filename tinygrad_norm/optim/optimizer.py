"""``torch.optim.optimizer``'s names, where custom optimizers import them from
(``from torch.optim.optimizer import Optimizer, required``): ``optim``'s own objects."""
from .optimizers import Optimizer, required  # noqa: F401

__all__ = []  # optim exports these names; this module is their second address
