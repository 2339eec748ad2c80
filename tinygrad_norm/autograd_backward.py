"""``tinygrad_norm.autograd.backward(tensors, grad_tensors)``, as ``torch.autograd.backward``:
``Tensor.backward`` for several roots at once, in one replay of the tape (separate calls would
free a graph the roots share)."""
from __future__ import annotations

import numbers

import numpy as np

from .autograd import _sequence, backward_inputs, replay
from .tensor import Tensor, _seed_grad

__all__ = ["backward"]


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of ``tensors`` (each weighted by its ``grad_tensors`` entry; None
    for a single-element tensor) into the leaves' ``.grad`` (with ``inputs``, theirs only)."""
    roots = [tensors] if isinstance(tensors, Tensor) else _sequence(tensors, "tensors")
    if grad_tensors is None:
        grad_tensors = [None] * len(roots)
    elif isinstance(grad_tensors, (Tensor, np.ndarray, numbers.Number)):
        grad_tensors = [grad_tensors]
    else:
        grad_tensors = _sequence(grad_tensors, "grad_tensors")
    if len(grad_tensors) != len(roots):
        raise ValueError(f"grad_tensors has {len(grad_tensors)} entries but tensors has "
                         f"{len(roots)}")
    for i, t in enumerate(roots):
        if not isinstance(t, Tensor):
            raise TypeError(f"backward(): tensors must be Tensors, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               f"a grad_fn")
    seeds = [_seed_grad(t, g, create_graph) for t, g in zip(roots, grad_tensors)]
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        backward_inputs(roots, seeds, inputs, retain_graph, create_graph)
        return
    replay(roots, seeds, retain_graph=retain_graph, create_graph=create_graph)
