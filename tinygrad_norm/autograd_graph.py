"""``torch.autograd.graph``: the abstract ``Node``, gradient edges, ``increment_version``,
hooks on several tensors, and (from saved_hooks.py) the hooks on saved tensors. Importing it
also puts torch's grad_fn API onto the tape's nodes (grad_fn_api.py).
"""
from __future__ import annotations

import abc
import weakref
from collections import namedtuple

from . import autograd
from .autograd import _state, as_read, mark_written
from .autograd import Node as _TapeNode
from .grad_fn_api import AccumulateGrad, _check_callable, _edge_of, _Handles, _is_tensor
from .saved_hooks import (allow_mutation_on_saved_tensors, disable_saved_tensors_hooks,
                          save_on_cpu, saved_tensors_hooks)

__all__ = ["Node", "GradientEdge", "get_gradient_edge", "increment_version",
           "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks",
           "register_multi_grad_hook", "allow_mutation_on_saved_tensors"]


class Node(abc.ABC):
    """The abstract node of the backward graph, as ``torch.autograd.graph.Node``: a recorded
    node (``Tensor.grad_fn``) and an ``AccumulateGrad`` are both instances."""

    @abc.abstractmethod
    def name(self):
        """torch's name of the node's backward."""

    @property
    @abc.abstractmethod
    def next_functions(self):
        """``(node, input_nr)`` per input."""

    @property
    @abc.abstractmethod
    def metadata(self):
        """A dict for the caller."""

    @abc.abstractmethod
    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` after the node ran."""

    @abc.abstractmethod
    def register_prehook(self, fn):
        """``fn(grad_outputs)`` before the node runs."""


Node.register(_TapeNode)
Node.register(AccumulateGrad)


# ---- gradient edges and versions ---------------------------------------------------------------

class GradientEdge(namedtuple("GradientEdge", ["node", "output_nr", "ownership_token"],
                              defaults=(None,))):
    """``(node, output_nr)`` a gradient flows into, as torch's; ``autograd.grad`` takes one as an
    input (the gradient with respect to that node's output, which must still be alive here)."""
    __slots__ = ()

    def _tensor(self):
        node = self.node
        if isinstance(node, AccumulateGrad):
            return node.variable
        out = node.out_ref() if isinstance(node, _TapeNode) else None
        if out is None:
            raise RuntimeError("grad(): the tensor of this GradientEdge's node has been freed; "
                               "keep the tensor alive to differentiate with respect to it")
        return out


def get_gradient_edge(tensor):
    """The edge ``tensor``'s gradient flows into: ``GradientEdge(tensor.grad_fn, 0)``, or the
    leaf's ``AccumulateGrad``."""
    from .tensor import Tensor
    if not isinstance(tensor, Tensor):
        raise TypeError(f"get_gradient_edge(): tensor must be a Tensor, got "
                        f"{type(tensor).__name__}")
    if not tensor._requires_grad:
        raise ValueError("It is not possible to get the gradient edge for a Tensor that does "
                         "not require gradients")
    node, nr = _edge_of(tensor)
    return GradientEdge(node, nr)


def increment_version(tensor):
    """Mark ``tensor`` (or each of an iterable of tensors) as written in place, as torch's:
    a recorded node that saved it then refuses to run backward ("modified by an inplace
    operation")."""
    from .tensor import Tensor
    tensors = [tensor] if isinstance(tensor, Tensor) else list(tensor) \
        if hasattr(tensor, "__iter__") else None
    if tensors is None or not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError(f"increment_version(): tensor must be a Tensor or an iterable of "
                        f"Tensors, got {type(tensor).__name__}")
    mark_written(tensors)


# ---- hooks on several tensors ------------------------------------------------------------------

def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """``fn`` on the gradients of several tensors, as torch's. ``mode="all"``: once per backward,
    when the last of the gradients this backward computes for them arrived, ``fn(grads)`` with
    one entry per tensor (None where none came). ``mode="any"``: ``fn(grad)`` with the first
    gradient computed for any of them, once per backward. Returns a handle (``remove()``)."""
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    from .tensor import Tensor
    if isinstance(tensors, Tensor) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"register_multi_grad_hook(): tensors must be a sequence of Tensors, "
                        f"got {type(tensors).__name__}")
    tensors = tuple(tensors)
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"register_multi_grad_hook(): tensors must be Tensors, got "
                            f"{type(t).__name__}")
    _check_callable(fn, "register_multi_grad_hook")
    if mode == "any":
        hooks = _any_hooks(fn)
        handles = [t.register_hook(hooks) for t in tensors if t._requires_grad]
    else:
        autograd._reach = _reach  # from now on each backward notes what it reaches
        make = _all_hooks(tensors, fn)
        handles = [t.register_hook(make(i)) for i, t in enumerate(tensors) if t._requires_grad]
    return _Handles(handles)


def _any_hooks(fn):
    fired = [None]  # the backward (its run token) in which fn last ran

    def hook(g):
        task = _state.task
        run = task[0] if task is not None else None
        if run is not None and fired[0] is run:
            return None
        fired[0] = run
        fn(g)
        return None
    return hook


def _all_hooks(tensors, fn):
    # weakly: the hooks live on the tensors' nodes, which must not keep the tensors alive
    refs = [weakref.ref(t) for t in tensors]
    state = {"run": None, "left": 0, "grads": None}

    def make(i):
        def hook(g):
            task = _state.task
            if task is None:
                return None
            if state["run"] is not task[0]:  # the first of this backward: how many will come
                state["run"], state["grads"] = task[0], [None] * len(refs)
                state["left"] = sum(_will_get_grad(r(), task) for r in refs) or 1
            state["grads"][i] = g
            state["left"] -= 1
            if state["left"] == 0:
                grads, state["grads"], state["run"] = state["grads"], None, None
                fn(grads)
            return None
        return hook
    return make


def _will_get_grad(t, task):
    """Whether this backward runs ``t``'s hooks: its node (or, a leaf, its accumulation) lies
    below the roots and runs, as torch asks its engine (``_will_engine_execute_node``)."""
    if t is None or not t._requires_grad:
        return False
    _, roots, targets, accumulate, run, reach = task
    nodes, leaves = reach
    if t._node is not None:
        return t._node.seq in nodes and (run is None or t._node.seq in run)
    if id(t) not in leaves:
        return False
    return accumulate or any(x is t for x in targets or ())


def _reach(roots):
    """The sequence numbers of the nodes reachable from ``roots`` and the ids of the leaves."""
    nodes, leaves = set(), set()
    stack = []
    for r in roots:
        (stack.append(r._node) if r._node is not None else leaves.add(id(r)))
    while stack:
        node = stack.pop()
        if node.seq in nodes:
            continue
        nodes.add(node.seq)
        for t in node.inputs or ():
            if _is_tensor(t) and t._requires_grad:
                t = as_read(t, node.seq)
                if t._node is not None:
                    stack.append(t._node)
                else:
                    leaves.add(id(t))
    return nodes, leaves
