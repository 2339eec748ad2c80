"""Data: datasets available offline, splits, PyTorch's data API (map-style datasets and streams),
and two scalers.

Everything works on plain NumPy arrays; only the loaders and collate functions hand out
``Tensor`` objects, and they import the engine when they build a batch, so this package imports
(and its loaders and scalers work) without touching the autograd code.

* ``datasets`` -- ``load_digits`` (the 8x8 digits inside scikit-learn), ``load_idx`` /
  ``load_idx_file`` (MNIST's IDX files).
* ``split`` -- ``train_test_split``, a seeded shuffle split, optionally stratified.
* ``dataset`` -- ``Dataset``, ``TensorDataset``, ``Subset``, ``ConcatDataset``,
  ``random_split``, and the streams ``IterableDataset``, ``ChainDataset``, as
  ``torch.utils.data``.
* ``sampler`` -- ``Sampler``, ``SequentialSampler``, ``RandomSampler``, ``SubsetRandomSampler``,
  ``WeightedRandomSampler``, ``BatchSampler``, ``DistributedSampler``, as ``torch.utils.data``.
* ``collate`` -- ``default_collate``, ``default_convert``, as ``torch.utils.data``.
* ``loader`` -- ``DataLoader``: over arrays ``DataLoader(X, y, batch_size=32, ...)``, or over a
  dataset (or a list of samples such as ``list(zip(X, y))``, or a stream) as
  ``torch.utils.data.DataLoader(dataset, batch_size=1, ...)``, in worker processes with
  ``num_workers > 0``.
* ``worker`` -- the worker processes' loop and ``get_worker_info``, as ``torch.utils.data``.
* ``scalers`` -- ``MinMaxScaler``, ``StandardScaler``, with scikit-learn's behaviour.

Randomness: an integer ``seed`` / ``generator`` (or a ``numpy.random.Generator``) makes a
function, sampler or loader reproducible on its own; None draws from the framework generator that
``tinygrad_norm.manual_seed(n)`` seeds, so one call of ``manual_seed`` fixes a whole run.
"""
from .collate import *  # noqa: F401,F403
from .dataset import *  # noqa: F401,F403
from .datasets import *  # noqa: F401,F403
from .loader import *  # noqa: F401,F403
from .sampler import *  # noqa: F401,F403
from .scalers import *  # noqa: F401,F403
from .split import *  # noqa: F401,F403
from .worker import *  # noqa: F401,F403
from . import collate as _collate, dataset as _dataset, datasets as _datasets, loader as _loader
from . import sampler as _sampler, scalers as _scalers, split as _split, worker as _worker

__all__ = sorted(name for module in (_collate, _dataset, _datasets, _loader, _sampler, _scalers,
                                     _split, _worker) for name in module.__all__)
