"""``tinygrad_norm.utils.data`` is ``tinygrad_norm.data`` itself (torch's path to it): this module
puts the package in its own place in ``sys.modules``, so both names give the same objects.

Its submodules too (``tinygrad_norm.utils.data.dataset``, ``.sampler``, ``.dataloader``, ...,
torch's ``from torch.utils.data.dataset import IterableDataset``): without their own entries
Python would run each file a second time under the new name, making a second ``IterableDataset``
class that the loader's ``isinstance`` checks do not know (a stream was taken for arrays)."""
import importlib as _importlib
import pkgutil as _pkgutil
import sys as _sys

from .. import data as _data

_sys.modules[__name__] = _data
for _info in _pkgutil.iter_modules(_data.__path__):
    _sys.modules[f"{__name__}.{_info.name}"] = _importlib.import_module(
        f"{_data.__name__}.{_info.name}")
