"""``torch.nn.grad`` (also ``torch.nn.functional.grad``): the gradient of a convolution with
respect to its input or its weight, given the gradient of its output -- ``conv{1,2,3}d_input``
and ``conv{1,2,3}d_weight``, as torch's. Each runs the convolution on the tape and asks the tape
for that gradient (a convolution is linear in each argument, so the other's values do not
matter); the result is itself differentiable (recorded when an argument requires grad)."""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd import grad as _grad
from ..autograd import is_grad_enabled
from ..tensor import Tensor
from .conv import conv2d
from .conv1d import conv1d
from .conv3d import conv3d

# no __all__: these names live in F.grad (torch.nn.grad), not in F itself


def _size(size, fn, name, dims):
    size = tuple(size.shape if isinstance(size, Tensor) else size)
    if len(size) != dims + 2 or any(isinstance(d, bool) or not isinstance(d, numbers.Integral)
                                    or d < 0 for d in size):
        raise ValueError(f"{fn}: {name} must be {dims + 2} non-negative ints, got {size}")
    return size


def _check(fn, tensors):
    for name, t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {type(t).__name__}")


def _through_tape(conv, fixed_first, free_shape, other, grad_output, kwargs):
    """d<grad_output, conv(...)>/d(free), with ``free`` a zeros stand-in of ``free_shape``."""
    free = Tensor(np.zeros(free_shape, other.dtype), requires_grad=True)
    graph = is_grad_enabled() and (other.requires_grad or grad_output.requires_grad)
    args = (other, free) if fixed_first else (free, other)  # conv(input, weight)
    out = conv(*args, **kwargs)
    if out.shape != grad_output.shape:
        raise ValueError(f"{conv.__name__}: grad_output has shape {grad_output.shape}, but the "
                         f"convolution's output has shape {out.shape}")
    return _grad(out, free, grad_output, create_graph=graph)[0]


def _pair(conv, dims):
    def input_grad(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
        fn = f"{conv.__name__}_input"
        _check(fn, (("weight", weight), ("grad_output", grad_output)))
        return _through_tape(conv, False, _size(input_size, fn, "input_size", dims), weight,
                             grad_output, dict(stride=stride, padding=padding,
                                               dilation=dilation, groups=groups))

    def weight_grad(input, weight_size, grad_output, stride=1, padding=0, dilation=1,
                    groups=1):
        fn = f"{conv.__name__}_weight"
        _check(fn, (("input", input), ("grad_output", grad_output)))
        return _through_tape(conv, True, _size(weight_size, fn, "weight_size", dims), input,
                             grad_output, dict(stride=stride, padding=padding,
                                               dilation=dilation, groups=groups))
    for f, kind in ((input_grad, "input"), (weight_grad, "weight")):
        f.__name__ = f.__qualname__ = f"{conv.__name__}_{kind}"
        f.__doc__ = (f"The gradient of ``{conv.__name__}`` with respect to its {kind}, given "
                     f"``grad_output``, as ``torch.nn.grad``'s.")
    return input_grad, weight_grad


conv1d_input, conv1d_weight = _pair(conv1d, 1)
conv2d_input, conv2d_weight = _pair(conv2d, 2)
conv3d_input, conv3d_weight = _pair(conv3d, 3)
