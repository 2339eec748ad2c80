"""``tinygrad_norm.utils.data`` is ``tinygrad_norm.data`` itself (torch's path to it): this module
puts the package in its own place in ``sys.modules``, so both names give the same objects."""
import sys as _sys

from .. import data as _data

_sys.modules[__name__] = _data
