"""Data: offline datasets, splits, loaders and scalers (see the modules for each)."""
from .datasets import *  # noqa: F401,F403
from .datasets import __all__
