"""``tinygrad_norm.autograd.Function``: a user-defined primitive, as ``torch.autograd.Function``.

DESIGN.md writes derivatives by hand only in primitive ops. A user Function *is* a primitive:
its ``forward`` runs un-recorded and its ``backward`` is the hand-written vector-Jacobian rule.
One call records one node per differentiable output (one node for the usual single output),
named ``<Class>Backward`` as torch names its ``grad_fn``, so the graph exporter shows the call
as one box. Written in Tensor operations, ``backward`` is itself recorded under
``create_graph=True``, so double backward works wherever the user's backward is differentiable.

How it sits on the tape, without a change to the engine:

* a per-call op object (``_FunctionOp``) whose ``vjp`` wraps the user's ``backward``: arrays
  wrapped as Tensors in a plain backward (grad is off there), the graph's Tensors as they are
  under ``create_graph``;
* what ``save_for_backward`` kept lives in a ``_Saved`` box that only the node's ``saved`` slot
  holds strongly, so the engine's release after ``backward()`` frees it (and a later access
  says so); a saved *output* is kept as its array, not its Tensor (which owns the node: a cycle);
* several differentiable outputs give one node each, recorded one after another; a ``GroupHook``
  on them (the tape's tool for a module's outputs) gathers all their gradients when the first
  of them runs, so the user's ``backward`` runs once, with all of them, and the other nodes
  pass nothing on.
"""
from __future__ import annotations

import functools
import inspect
import sys
import weakref

import numpy as np

from . import ops
from .autograd import (GroupHook, Node, _FREED, _next_seq, _run_hooks, _state, _written_since,
                       no_grad, scope)
from .tensor import Tensor, apply

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class _FnNode(Node):
    """A Node that can be referred to weakly: a saved output whose Tensor is gone is rebuilt on
    it under ``create_graph`` (the box that does so must not own the node)."""
    __slots__ = ("__weakref__",)


class _Saved:
    """What ``save_for_backward`` kept, owned by the nodes' ``saved`` slots only. Each entry is
    ``(tensor, array)``, or for an output ``(index, array)``; the array tells a later in-place
    write (or a replaced array) apart."""
    __slots__ = ("entries", "stamp", "nodes", "__weakref__")

    def __init__(self, entries, stamp):
        self.entries, self.stamp, self.nodes = entries, stamp, {}


class FunctionCtx:
    """The ``ctx`` that ``forward`` (or ``setup_context``) and ``backward`` share. Arbitrary
    attributes may be set on it; tensors for backward go through ``save_for_backward``."""

    def __init__(self):
        self._to_save = ()
        self._box = None            # weak reference to the _Saved box once the call is recorded
        # weak, as the box: the call's state holds this ctx, and a cycle would outlive the graph
        self._fn = None             # the _Shared state of the call, once recorded
        self._non_differentiable = set()
        self.materialize_grads = True
        self.needs_input_grad = ()

    def save_for_backward(self, *tensors):
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} "
                                f"is of type {type(t).__name__}")
        self._to_save = tensors

    @property
    def saved_tensors(self):
        if self._box is None:  # still inside forward / setup_context
            return tuple(self._to_save)
        box, fn = self._box(), self._fn()
        if box is None or fn is None:
            raise RuntimeError(_FREED)
        return tuple(fn.unpack(box, e) for e in box.entries)

    def mark_non_differentiable(self, *tensors):
        for t in tensors:
            if not isinstance(t, Tensor):
                raise TypeError(f"mark_non_differentiable() takes Tensors, got {type(t).__name__}")
            self._non_differentiable.add(id(t))

    def mark_dirty(self, *tensors):
        raise NotImplementedError(
            "mark_dirty(): a Function that modifies its inputs in place is not supported here "
            "(the tape records no in-place operation); return a new tensor from forward instead")

    def set_materialize_grads(self, value):
        """Whether ``backward`` sees zeros (True, the default) or None for an output that got
        no gradient."""
        self.materialize_grads = bool(value)


class _Shared:
    """State of one ``apply`` call, shared by the op objects of its nodes."""

    def __init__(self, cls, ctx, n_inputs, outputs, diff):
        self.cls, self.ctx, self.n_inputs = cls, ctx, n_inputs
        self.name = f"{cls.__name__}Backward"
        # outputs: (shape, dtype) per forward output, None for a non-Tensor one
        self.outputs = [(o._data.shape, o._data.dtype) if isinstance(o, Tensor) else None
                        for o in outputs]
        self.out_refs = {i: weakref.ref(outputs[i]) for i in diff}
        self.stash = None  # the other outputs' gradients, gathered by the group hook
        self.running = None

    def unpack(self, box, entry):
        """A saved entry as backward sees it, refused if written in place since the forward."""
        if entry is None:
            return None
        key, arr = entry
        if type(key) is int:  # an output
            t = self.out_refs[key]() if key in self.out_refs else None
            if t is None:
                t = Tensor._wrap(arr)
                if _state.enabled:  # create_graph: back on this graph
                    self._attach(t, key, box)
        else:
            t = key
        if t._data is not arr or _written_since(arr, box.stamp):
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: a tensor of shape {tuple(arr.shape)} that {self.name} saved "
                f"with save_for_backward was written in place after the forward, so its "
                f"gradient would be taken at the new values")
        return t


    def _attach(self, t, key, box):
        """Put a rebuilt saved output on the graph: on its node, or if that is gone too (an
        unused output of several), on a new node of the same call, over the inputs of the node
        now running (a constant would silently drop its terms from the next derivative)."""
        node = box.nodes.get(key)
        node = node() if node is not None else None
        if node is None:
            args = self.running
            needs = tuple(type(a) is Tensor and a._requires_grad for a in args)
            arrays = tuple(a._data if type(a) is Tensor else a for a in args)
            node = _FnNode(_FunctionOp(self, key), args, None, t, needs, (arrays, None, box))
            box.nodes[key] = weakref.ref(node)
        t._requires_grad, t._node = True, node


class _FunctionOp(ops.Op):
    """The op of one node of a Function call: the VJP of output ``index``."""
    reads_inputs = False  # the saved tensors are checked by the box, not by the tape
    saves_out = False
    vjp_owned = None

    def __init__(self, shared, index):
        self.shared, self.index, self.name = shared, index, shared.name

    def vjp(self, g, args, out, extra, kw, needs, xp):
        sh = self.shared
        create = xp is not ops.NP
        grads = [None] * len(sh.outputs)
        grads[self.index] = g
        if sh.stash is not None:  # the group hook gathered the other outputs' gradients
            for i, gi in sh.stash.items():
                if i != self.index:
                    grads[i] = gi
            sh.stash = None
        shown = []
        for gi, meta in zip(grads, sh.outputs):
            if gi is None:
                if meta is not None and sh.ctx.materialize_grads:
                    gi = Tensor._wrap(np.zeros(meta[0], meta[1]))
            elif not isinstance(gi, Tensor):
                gi = Tensor._wrap(gi)
            shown.append(gi)
        sh.running = args  # the inputs as tensors under create_graph (see _Shared._attach)
        try:
            result = sh.cls.backward(sh.ctx, *shown)
        finally:
            sh.running = None
        return _checked(sh, result, needs, create)


def _checked(sh, result, needs, create):
    """The user's gradients, one per forward input, checked as torch checks them; arrays for a
    plain backward, Tensors under create_graph."""
    if not isinstance(result, tuple):
        result = (result,)
    n = sh.n_inputs
    if len(result) < n or any(r is not None for r in result[n:]):
        raise TypeError(f"function {sh.name} returned an incorrect number of gradients "
                        f"(expected {n}, got {len(result)})")
    out = []
    for i, (r, need, meta) in enumerate(zip(result, needs, sh.inputs)):
        if r is None:
            out.append(None)
            continue
        if meta is None:
            raise TypeError(f"function {sh.name} returned a gradient different than None at "
                            f"position {i + 1}, but the corresponding forward input was not a "
                            f"Variable")
        if not need:
            out.append(None)
            continue
        if isinstance(r, np.ndarray):
            r = Tensor._wrap(r)
        if not isinstance(r, Tensor):
            raise TypeError(f"function {sh.name} returned a gradient of type "
                            f"{type(r).__name__} at index {i}; expected a Tensor or None")
        shape = r._data.shape
        try:
            ok = np.broadcast_shapes(meta, shape) == shape
        except ValueError:
            ok = False
        if not ok:  # the gradient may be larger (it is summed down), never smaller
            raise ValueError(f"Function {sh.name} returned an invalid gradient at index {i} - "
                             f"got {list(shape)} but expected shape compatible with "
                             f"{list(meta)}")
        # a plain backward: a view, so the tape never adds into (or hands out as a .grad) an
        # array the user's backward may also hold (a saved tensor returned as the gradient)
        out.append(r if create else r._data.view())
    return tuple(out)


def _collect_outputs(sh, node_refs):
    """The group hook of a Function with several differentiable outputs: when the first of their
    nodes runs, the others' gradients are final; they go to the user's backward together (after
    those outputs' own tensor hooks), and their nodes then pass nothing on. It holds the nodes
    weakly: their hook lists hold it."""
    def fn(grads):
        # the node that runs holds the last gradient that came (nodes run newest first)
        cur = max(i for i, g in enumerate(grads) if g is not None)
        stash = {}
        for k, (index, ref) in enumerate(node_refs):
            g = grads[k]
            node = ref()
            if g is not None and k != cur and node is not None:
                own = [h for h in node.hooks if type(h) is not GroupHook]
                if own:
                    g = _run_hooks(own, g, isinstance(g, Tensor))
            stash[index] = g
        sh.stash = stash
        return [GroupHook.KEEP if k == cur else None for k in range(len(grads))]
    return fn


class Function:
    """Base class of a user-defined primitive, as ``torch.autograd.Function``: subclass it with
    static ``forward(ctx, *args, **kwargs)`` (or ``forward(*args, **kwargs)`` plus
    ``setup_context(ctx, inputs, output)``) and ``backward(ctx, *grad_outputs)``, and call
    ``MyFn.apply(*args)``. ``forward`` runs with grad disabled; ``backward`` returns one gradient
    (or None) per positional argument of ``apply`` (with ``setup_context``, per parameter of
    ``forward``: keywords and defaults are bound to positions first, as torch does).

    This is the one place besides ``ops.py`` where a derivative is written by hand: a Function
    is a user-defined primitive (DESIGN.md), and ``gradcheck`` / ``gradgradcheck`` are how to
    check it. Write ``backward`` in Tensor operations and it is recorded under
    ``create_graph=True``, so its own derivative comes from the tape."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        raise TypeError("Legacy autograd function with non-static forward method is not "
                        "supported. Please use new-style autograd function with static forward "
                        f"method: {type(self).__name__}.apply(...)")

    @staticmethod
    def forward(*args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        separate = cls.setup_context is not Function.setup_context
        if separate:  # as torch: keyword and default arguments become positional inputs
            bound = inspect.signature(cls.forward).bind(*args, **kwargs)
            bound.apply_defaults()
            args, kwargs = bound.args, bound.kwargs
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        record = _state.enabled and True in ctx.needs_input_grad
        tangents = _forward_ad().function_tangents(cls, args) if _fw_on() else None
        with no_grad():
            if separate:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        if record:
            output = _record(cls, ctx, args, output)
        if tangents is not None:  # forward mode: the outputs take the class's jvp
            _forward_ad().function_outputs(cls, ctx, tangents, output, args)
        return output


def _fw_on():
    """Whether a forward-AD level is open (the Tensor layer's one global, forward_ad.py)."""
    return sys.modules[Tensor.__module__]._forward is not None


def _forward_ad():
    from . import forward_ad
    return forward_ad


def _record(cls, ctx, args, output):
    """Put the call on the tape: its outputs (new Tensors where forward returned an input or a
    tensor already on a graph) and one node per differentiable output."""
    single = not isinstance(output, tuple)
    outs = [output] if single else list(output)
    seen = {id(a) for a in args if isinstance(a, Tensor)}
    for i, o in enumerate(outs):
        if isinstance(o, Tensor) and (id(o) in seen or o._requires_grad or o._node is not None):
            fresh = Tensor._wrap(o._data)  # an input returned as is: a new tensor on this node
            if id(o) in ctx._non_differentiable:
                ctx._non_differentiable.add(id(fresh))
            outs[i] = fresh
        if isinstance(o, Tensor):
            seen.add(id(outs[i]))
    diff = [i for i, o in enumerate(outs) if isinstance(o, Tensor)
            and o._data.dtype.kind in "fc" and id(o) not in ctx._non_differentiable]
    sh = _Shared(cls, ctx, len(args), outs, diff)
    sh.inputs = [a._data.shape if isinstance(a, Tensor) else None for a in args]
    out_index = {id(outs[i]): i for i in diff}
    entries = []
    for t in ctx._to_save:
        if t is None:
            entries.append(None)
        elif id(t) in out_index:
            entries.append((out_index[id(t)], t._data))
        else:
            entries.append((t, t._data))
    ctx._to_save = ()
    box = _Saved(entries, _next_seq())  # writes numbered after this one are refused
    ctx._box, ctx._fn = weakref.ref(box), weakref.ref(sh)
    needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
    arrays = tuple(a._data if isinstance(a, Tensor) else a for a in args)
    inputs = tuple(args)
    if len(diff) > 1:  # one cluster in the exporter for the call's nodes
        with scope(cls.__name__):
            nodes = _nodes(sh, diff, outs, inputs, needs, arrays, box)
        hook = GroupHook([nodes[i].seq for i in diff],
                         _collect_outputs(sh, [(i, box.nodes[i]) for i in diff]))
        for i in diff:
            nodes[i].hooks = [hook]  # register_hook puts a tensor's own hooks before it
    else:
        _nodes(sh, diff, outs, inputs, needs, arrays, box)
    return outs[0] if single else tuple(outs)


def _nodes(sh, diff, outs, inputs, needs, arrays, box):
    nodes = {}
    for i in diff:
        o = outs[i]
        node = _FnNode(_FunctionOp(sh, i), inputs, None, o, needs, (arrays, None, box))
        o._requires_grad, o._node = True, node
        box.nodes[i] = weakref.ref(node)
        nodes[i] = node
    return nodes


class _DelayedError(ops.Op):
    """The node on a gradient computed by a ``once_differentiable`` backward under
    create_graph: differentiating it again is refused, as in torch."""
    name = "DelayedError"
    reads_inputs = False

    @staticmethod
    def forward(a, *rest):
        return a

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable")


def once_differentiable(fn):
    """Decorate a Function's ``backward`` that is not itself differentiable (it may work on
    ``.data`` arrays): under ``create_graph`` it runs un-recorded, and a further derivative
    through its gradients raises, as torch's decorator."""
    @functools.wraps(fn)
    def wrapper(ctx, *grad_outputs):
        recording = _state.enabled
        with no_grad():
            result = fn(ctx, *grad_outputs)
        wanted = [g for g in grad_outputs if isinstance(g, Tensor) and g._requires_grad]
        if not recording or not wanted:
            return result
        single = not isinstance(result, tuple)
        marked = tuple(apply(_DelayedError, r, *wanted) if isinstance(r, Tensor) else r
                       for r in ((result,) if single else result))
        return marked[0] if single else marked
    return wrapper
