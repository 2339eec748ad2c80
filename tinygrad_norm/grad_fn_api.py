"""torch's grad_fn API on the tape's nodes (``autograd.Node``), and ``AccumulateGrad``.

* ``grad_fn.name()`` -- torch's spelling (``MulBackward0``). ``grad_fn.name`` itself stays the
  op's name as a string (``"mul"``), which the graph exporter, the benchmark and many tests read:
  it is a ``str`` subclass that can also be called, so both spellings work on one attribute.
* ``grad_fn.next_functions`` -- one ``(node, 0)`` per input: the input's own node, an
  ``AccumulateGrad`` for a leaf that requires grad, ``None`` for anything else.
* ``register_prehook(fn)`` / ``register_hook(fn)`` -- ``fn(grad_outputs)`` before the node's
  VJP, ``fn(grad_inputs, grad_outputs)`` after it; a returned tuple replaces the gradients.
* ``grad_fn.metadata`` -- a dict for the caller.

None of it is on the recording or the replay path while unused: a prehook is one more entry in
the node's hook list (which backward already runs), a post hook wraps that one node's op.
"""
from __future__ import annotations

import weakref

import numpy as np

from .autograd import LateHook, as_read
from .autograd import Node as _TapeNode


# ---- names -------------------------------------------------------------------------------------

class _NodeName(str):
    """The op's name (``"mul"``) as before, which called gives torch's (``"MulBackward0"``)."""

    def __new__(cls, text, torch_name):
        self = str.__new__(cls, text)
        self._torch_name = torch_name
        return self

    def __call__(self):
        return self._torch_name

    def __reduce__(self):  # pickled as the plain string it stands for
        return str, (str(self),)


def _torch_name(op):
    """torch's spelling: a primitive's class ``Mul`` as ``MulBackward0`` (torch numbers its
    overloads; 0 is the first), a Function's node as its own ``MyFnBackward``."""
    op = getattr(op, "inner", op)  # a node with post hooks wraps its op (_HookedOp)
    if isinstance(op, type):
        return f"{op.__name__}Backward0"
    return op.name


def _name(node):
    return _NodeName(node.op.name, _torch_name(node.op))


# ---- edges -------------------------------------------------------------------------------------

def _is_tensor(t):
    return hasattr(t, "_requires_grad") and hasattr(t, "_data")


def _edge_of(t):
    """What a gradient for ``t`` flows into, as torch's ``(node, output_nr)``."""
    if not _is_tensor(t) or not t._requires_grad:
        return None, 0
    if t._node is not None:
        return t._node, 0
    return _accumulator(t), 0


def _next_functions(node):
    # after a backward without retain_graph the node has let go of its inputs: nothing to show
    return tuple(_edge_of(as_read(t, node.seq) if _is_tensor(t) else t)
                 for t in node.inputs or ())


def _metadata(node):
    meta = getattr(node, "_meta", None)
    if meta is None:
        meta = node._meta = {}
    return meta


# ---- AccumulateGrad ----------------------------------------------------------------------------

# one AccumulateGrad per leaf while the leaf lives, so that ``a is b`` holds across calls, as in
# torch; keyed by id (a Tensor's == is elementwise, so it cannot be a dict key itself)
_accumulators = {}


def _accumulator(t):
    acc = _accumulators.get(id(t))
    if acc is None or acc._ref() is not t:
        acc = _accumulators[id(t)] = AccumulateGrad(t)
    return acc


class AccumulateGrad:
    """The node that adds a leaf's gradient into its ``.grad``, as torch's: ``variable`` is the
    leaf; hooks registered here run on the leaf's gradient (prehooks, before it is added) and
    after it was added (``fn((), (grad,))``)."""

    __slots__ = ("_ref", "_meta", "__weakref__")
    next_functions = ()

    def __init__(self, t):
        key = id(t)
        self._ref = weakref.ref(t, lambda _, key=key: _accumulators.pop(key, None))
        self._meta = None

    @property
    def variable(self):
        t = self._ref()
        if t is None:
            raise RuntimeError("AccumulateGrad: the leaf tensor has been freed")
        return t

    def name(self):
        return "torch::autograd::AccumulateGrad"

    @property
    def metadata(self):
        return _metadata(self)

    def register_prehook(self, fn):
        t = self.variable
        _check_callable(fn, "register_prehook")
        if t._hooks is None:
            t._hooks = []
        hooks, hook = t._hooks, _PreHook(fn)
        at = len(hooks)  # before the post hooks' capture: they see the gradient it gives
        while at and isinstance(hooks[at - 1], _SeenGrad):
            at -= 1
        hooks.insert(at, hook)
        from .tensor import _HookHandle
        return _HookHandle(hooks, hook)

    def register_hook(self, fn):
        from .tensor import _Hook
        t = self.variable
        _check_callable(fn, "register_hook")
        # the gradient that arrived, kept by a late hook for the post-accumulation call
        seen = _SeenGrad()
        if t._hooks is None:
            t._hooks = []
        if t._post_hooks is None:
            t._post_hooks = []
        entry = _Hook(lambda leaf: seen.call(fn))
        entry.__name__ = getattr(fn, "__name__", repr(fn))
        handles = (_add(t._hooks, seen), _add(t._post_hooks, entry))
        return _Handles(handles)

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


class _SeenGrad(LateHook):
    __slots__ = ("g", "__name__")

    def __init__(self):
        self.g, self.__name__ = None, "AccumulateGrad post hook"

    def __call__(self, g):
        self.g = g
        return None

    def call(self, fn):
        g, self.g = self.g, None
        fn((), (g,))  # torch ignores what an AccumulateGrad post hook returns


# ---- node hooks --------------------------------------------------------------------------------

def _check_callable(fn, where):
    if not callable(fn):
        raise TypeError(f"{where}(): fn must be callable, got {type(fn).__name__}")


def _count_error(fn, got, expected):
    name = getattr(fn, "__name__", repr(fn))
    return TypeError(f"hook '{name}' has returned an incorrect number of values (got {got}, "
                     f"but expected {expected})")


class _PreHook(LateHook):
    """``fn(grad_outputs)`` on a node's incoming gradient, after the tensor's own hooks."""

    __slots__ = ("fn", "__name__")

    def __init__(self, fn):
        self.fn, self.__name__ = fn, getattr(fn, "__name__", repr(fn))

    def __call__(self, g):
        r = self.fn((g,))
        if r is None:
            return None
        if not isinstance(r, (tuple, list)) or len(r) != 1:
            raise _count_error(self.fn, len(r) if isinstance(r, (tuple, list)) else 1, 1)
        return r[0]


def _add(hooks, hook):
    from .tensor import _HookHandle
    hooks.append(hook)
    return _HookHandle(hooks, hook)


class _Handles:
    """One handle for several registrations: ``remove()`` undoes them all."""

    def __init__(self, handles):
        self._handles = tuple(handles)

    def remove(self):
        for h in self._handles:
            h.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def _register_prehook(node, fn):
    _check_callable(fn, "register_prehook")
    if node.hooks is None:
        node.hooks = []
    return _add(node.hooks, _PreHook(fn))


class _HookedOp:
    """A node's op with post hooks: the op's VJP, then ``fn(grad_inputs, grad_outputs)`` for
    each hook, whose returned tuple replaces the input gradients. Installed on the node when
    its first post hook is registered, so unhooked nodes run as before. It keeps the inputs'
    shapes, not the node (a node owning its op owning the node would be a cycle)."""

    vjp_owned = None  # the hooks see the gradients: no writing into g

    def __init__(self, inner, shapes):
        self.inner, self.shapes, self.posts = inner, shapes, []

    def __getattr__(self, name):  # name, saves_out, reads, jvp, ...: the op's own
        return getattr(self.inner, name)

    def vjp(self, g, args, out, extra, kw, needs, xp):
        from .tensor import Tensor
        from . import ops
        create = xp is not ops.NP
        grads = list(self.inner.vjp(g, args, out, extra, kw, needs, xp))
        for i, (gi, shape) in enumerate(zip(grads, self.shapes)):
            if gi is not None and shape is not None and tuple(gi.shape) != shape:
                grads[i] = xp.sum_to(gi, shape)  # what the tape would do next, shown summed
        wrap = (lambda a: a) if create else (lambda a: None if a is None else Tensor._wrap(a))
        outs = (g if create else Tensor._wrap(g),)
        for hook in tuple(self.posts):
            r = hook.fn(tuple(wrap(gi) for gi in grads), outs)
            if r is None:
                continue
            if not isinstance(r, (tuple, list)) or len(r) != len(grads):
                raise _count_error(hook.fn, len(r) if isinstance(r, (tuple, list)) else 1,
                                   len(grads))
            grads = [v if create or v is None else np.asarray(getattr(v, "_data", v))
                     for v in r]
        return tuple(grads)


def _register_hook(node, fn):
    from .tensor import _Hook
    _check_callable(fn, "register_hook")
    op = node.op
    if type(op) is not _HookedOp:
        shapes = tuple(tuple(t._data.shape) if _is_tensor(t) else None
                       for t in node.inputs or ())
        op = node.op = _HookedOp(op, shapes)
    return _add(op.posts, _Hook(fn))


# torch's API on the tape's node class (autograd.py keeps only the recording and replay)
_TapeNode.name = property(_name)
_TapeNode.next_functions = property(_next_functions)
_TapeNode.metadata = property(_metadata)
_TapeNode.register_hook = _register_hook
_TapeNode.register_prehook = _register_prehook
