"""Data: datasets available offline, a seeded split, a DataLoader and two scalers.

Everything works on plain NumPy arrays; only ``DataLoader`` hands out ``Tensor`` objects, and it
imports the engine lazily, so this package imports (and its loaders and scalers work) without
touching the autograd code.

* ``datasets`` -- ``load_digits`` (the 8x8 digits inside scikit-learn), ``load_idx`` /
  ``load_idx_file`` (MNIST's IDX files).
* ``split`` -- ``train_test_split``, a seeded shuffle split, optionally stratified.
* ``loader`` -- ``DataLoader``: mini-batches of ``(X, y)`` Tensors, seeded reshuffling.
* ``scalers`` -- ``MinMaxScaler``, ``StandardScaler``, with scikit-learn's behaviour.

Randomness: an integer ``seed`` (or a ``numpy.random.Generator``) makes a function or loader
reproducible on its own; ``seed=None`` draws from the framework generator that
``tinygrad_norm.manual_seed(n)`` seeds, so one call of ``manual_seed`` fixes a whole run.
"""
from .datasets import *  # noqa: F401,F403
from .loader import *  # noqa: F401,F403
from .scalers import *  # noqa: F401,F403
from .split import *  # noqa: F401,F403
from . import datasets as _datasets, loader as _loader, scalers as _scalers, split as _split

__all__ = sorted(name for module in (_datasets, _loader, _scalers, _split)
                 for name in module.__all__)
