"""What the lazy convolutions and norms share (``nn.LazyConv2d``, ``nn.LazyBatchNorm2d``, ...):
the first call reads the channel count off its input, gives the module's own Parameter and
buffer objects arrays of that size, draws them as the eager class does, turns the module into
that class (PyTorch's ``cls_to_become``) and runs its forward.

Unlike PyTorch, the first call is all or nothing: the input is checked before anything changes,
and if the eager forward still fails (a kernel larger than the input, say), the module is put
back as it was -- class, sizes, arrays and the framework's random generator, so the next call
draws the same weights as a first call that had worked."""
from __future__ import annotations

from .. import random as _random
from .uninitialized_params import has_uninitialized, mark_module, unmark_module

__all__ = []


class _LazyMixin:
    """Put before the eager class in the bases; subclasses define ``cls_to_become``,
    ``_lazy_size`` (the attribute holding the inferred size), ``_check_first_input(input)``
    (raises before any change), ``_infer(input)`` (the size) and ``_materialize(size)`` (the
    arrays of that size, undrawn)."""

    cls_to_become = None
    _lazy_size = None

    def has_uninitialized_params(self):
        """True until the first call (PyTorch's name)."""
        return has_uninitialized(self)

    def reset_parameters(self):
        """Nothing to draw before the size is known (PyTorch's lazy modules skip it too)."""

    def initialize_parameters(self, input):
        """Size the parameters from ``input``, draw them and become ``cls_to_become`` -- what
        the first call does, without the forward (PyTorch's name)."""
        self._check_first_input(input)
        size = self._infer(input)
        self._materialize(size)
        unmark_module(self)
        setattr(self, self._lazy_size, size)
        self.__class__ = self.cls_to_become
        self.reset_parameters()

    def forward(self, input, *args, **kwargs):
        self._check_first_input(input)
        saved = _snapshot(self)
        try:
            self.initialize_parameters(input)
            return self.forward(input, *args, **kwargs)  # now the eager class's forward
        except BaseException:
            _restore(self, saved)
            raise


# functions, not methods: the restore runs on a module that has already changed class
def _own_tensors(module):
    for reg in (module._parameters, module._buffers):
        for name, t in reg.items():
            if t is not None:
                yield name, t


def _snapshot(module):
    arrays = {name: t._data for name, t in _own_tensors(module)}
    return (module.__class__, module._lazy_size, getattr(module, module._lazy_size), arrays,
            _random.generator().bit_generator.state)


def _restore(module, saved):
    cls, attr, size, arrays, rng_state = saved
    for name, t in _own_tensors(module):
        t._data = arrays[name]
    setattr(module, attr, size)
    module.__class__ = cls
    mark_module(module)  # uninitialized again, as before the failed first call
    _random.generator().bit_generator.state = rng_state
