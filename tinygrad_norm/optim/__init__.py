"""Optimizers and learning-rate schedules, as ``torch.optim`` and ``torch.optim.lr_scheduler``."""
from .optimizers import SGD, Adam, AdamW, Optimizer, required  # noqa: F401
from .optimizers import __all__  # noqa: F401
from . import lr_scheduler  # noqa: F401
