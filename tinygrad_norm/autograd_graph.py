"""``torch.autograd.graph`` and torch's grad_fn API on the tape's nodes.

What a ``grad_fn`` offers here, as torch's:

* ``grad_fn.name()`` -- torch's spelling (``MulBackward0``). ``grad_fn.name`` itself stays the
  op's name as a string (``"mul"``), which the graph exporter, the benchmark and many tests read:
  it is a ``str`` subclass that can also be called, so both spellings work on one attribute.
* ``grad_fn.next_functions`` -- one ``(node, 0)`` per input: the input's own node, an
  ``AccumulateGrad`` for a leaf that requires grad, ``None`` for anything else.
* ``register_prehook(fn)`` / ``register_hook(fn)`` -- ``fn(grad_outputs)`` before the node's
  VJP, ``fn(grad_inputs, grad_outputs)`` after it; a returned tuple replaces the gradients.
* ``grad_fn.metadata`` -- a dict for the caller.

Nothing here is on the recording or the replay path while unused: a prehook is one more entry in
the node's hook list (which backward already runs), a post hook wraps the node's op, and
saved-tensor hooks install a recording step (``autograd.set_record_step``) only while a
``saved_tensors_hooks`` block is open.
"""
from __future__ import annotations

import abc
import threading
import weakref
from collections import namedtuple

import numpy as np

from . import autograd
from .autograd import LateHook, _state, as_read, mark_written, no_grad
from .autograd import Node as _TapeNode

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


# ---- saved-tensor hooks ------------------------------------------------------------------------

class _HookState(threading.local):
    def __init__(self):
        self.stack = []        # (pack, unpack) pairs; the innermost applies, as torch
        self.disabled = None   # disable_saved_tensors_hooks' message while one is open


_hooks = _HookState()
_open = [0]  # saved_tensors_hooks blocks open in any thread: the record step is on while > 0
_open_lock = threading.Lock()
_NOT = object()  # an entry that was not saved (the VJP does not read it): not packed


def _opened(delta):
    with _open_lock:
        _open[0] += delta
        autograd.set_record_step("saved_tensors_hooks", _pack_step if _open[0] else None)


class _Packed:
    """A node's saved values under hooks: indexed, the arrays as recorded (what the tape's own
    checks and tools read); unpacked (``args, out, extra = node.saved``, as backward reads them)
    each packed value goes through the unpack hook, once per read."""

    __slots__ = ("raw", "packed", "unpack")

    def __init__(self, raw, packed, unpack):
        self.raw, self.packed, self.unpack = raw, packed, unpack

    def __getitem__(self, i):
        return self.raw[i]

    def __len__(self):
        return 3

    def __iter__(self):
        arrays, out, extra = self.raw
        *ins, packed_out = self.packed
        args = tuple([a if p is _NOT else self._unpacked(p) for a, p in zip(arrays, ins)])
        if packed_out is not _NOT:
            out = self._unpacked(packed_out)
        return iter((args, out, extra))

    def _unpacked(self, p):
        t = self.unpack(p)
        if not _is_tensor(t):
            raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor but got "
                            f"result of type {type(t).__name__}")
        return t._data


def _saved_input(t, a):
    """The tensor a pack hook is shown for a saved input array: the input itself, or (an operand
    saved as a promoted copy) that copy as a tensor of its own."""
    from .tensor import Tensor
    if _is_tensor(t) and t._data is a:
        return t
    return Tensor._wrap(a)


def _pack_step(node):
    """The record step while hooks are open: pack what the node's VJP reads, as torch packs the
    tensors a node saves -- the inputs the VJP reads (``Op.reads``) and the output if it reads it."""
    stack = _hooks.stack
    if not stack:
        return  # hooks open in another thread only
    if _hooks.disabled is not None:
        raise RuntimeError(_hooks.disabled)
    saved = node.saved
    if type(saved) is not tuple:
        return  # (not a primitive's (arrays, out, extra))
    pack, unpack = stack[-1]
    op, (arrays, out, _) = node.op, saved
    reads = ()
    if op.reads_inputs:
        reads = op.reads(node.needs) if op.reads is not None else (True,) * len(arrays)
    picked = [r and type(a) is np.ndarray for a, r in zip(arrays, reads)]
    picked += [False] * (len(arrays) - len(picked))
    keep_out = op.saves_out and out is not None
    if not keep_out and True not in picked:
        return
    with no_grad():  # torch runs pack hooks with grad off: nothing they do is recorded
        packed = [pack(_saved_input(t, a)) if p else _NOT
                  for t, a, p in zip(node.inputs, arrays, picked)]
        if keep_out:
            from .tensor import Tensor
            t = node.out_ref()
            packed.append(pack(t if t is not None and t._data is out else Tensor._wrap(out)))
        else:
            packed.append(_NOT)
    node.saved = _Packed(saved, tuple(packed), unpack)


class saved_tensors_hooks:
    """Context manager: inside, every node recorded passes each value it saves for backward
    through ``pack_hook`` (a Tensor in, anything out) and backward reads it back through
    ``unpack_hook`` (which must return a Tensor), as ``torch.autograd.graph.saved_tensors_hooks``.
    Nested blocks: the innermost pair applies. Thread-local, as torch's."""

    def __init__(self, pack_hook, unpack_hook):
        for name, fn in (("pack_hook", pack_hook), ("unpack_hook", unpack_hook)):
            if not callable(fn):
                raise TypeError(f"saved_tensors_hooks(): {name} must be callable, got "
                                f"{type(fn).__name__}")
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self):
        if _hooks.disabled is not None:
            raise RuntimeError(_hooks.disabled)
        _hooks.stack.append((self.pack_hook, self.unpack_hook))
        _opened(+1)
        return self

    def __exit__(self, *exc):
        _hooks.stack.pop()
        _opened(-1)
        return False


class save_on_cpu(saved_tensors_hooks):
    """torch's hooks that move saved tensors to the CPU and back to their device at backward.
    Every tensor here is on the CPU already: the hooks pass the tensor through unchanged.
    ``pin_memory`` and ``device_type`` are accepted, as torch's."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        if not isinstance(pin_memory, bool):
            raise TypeError(f"save_on_cpu(): pin_memory must be bool, got "
                            f"{type(pin_memory).__name__}")
        if not isinstance(device_type, str):
            raise TypeError(f"save_on_cpu(): device_type must be str, got "
                            f"{type(device_type).__name__}")
        self.pin_memory, self.device_type = pin_memory, device_type
        super().__init__(lambda t: t, lambda t: t)


class disable_saved_tensors_hooks:
    """Context manager (and decorator): inside, opening ``saved_tensors_hooks`` -- or recording
    a node under hooks opened outside -- raises ``RuntimeError(error_message)``, as torch's."""

    def __init__(self, error_message):
        if not isinstance(error_message, str):
            raise TypeError(f"disable_saved_tensors_hooks(): error_message must be str, got "
                            f"{type(error_message).__name__}")
        self.error_message = error_message

    def __enter__(self):
        self._prev = _hooks.disabled
        _hooks.disabled = self.error_message
        return self

    def __exit__(self, *exc):
        _hooks.disabled = self._prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with disable_saved_tensors_hooks(self.error_message):
                return fn(*args, **kwargs)
        return wrapper


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


# ---- in-place writes into saved tensors --------------------------------------------------------

_mutation = []  # the allow_mutation_on_saved_tensors blocks open, innermost last

_OUTSIDE = ("Trying to backward outside of the 'allow_mutation_on_saved_tensors' contextin "
            "which the graph was originally recorded.")


class _Cloned:
    """A node's saved values, copied when it was recorded inside
    ``allow_mutation_on_saved_tensors``: a later in-place write into the tensors leaves them
    (and the node's backward) as they were."""

    __slots__ = ("saved", "block")
    copied = True  # what the tape's write check reads: no write can reach these

    def __init__(self, saved, block):
        self.saved, self.block = saved, block

    def __getitem__(self, i):
        return self.saved[i]

    def __len__(self):
        return 3

    def __iter__(self):
        if not self.block.open:
            raise AssertionError(_OUTSIDE)
        return iter(self.saved)


def _clone_step(node):
    saved = node.saved
    if not _mutation or type(saved) is not tuple:
        return
    op, (arrays, out, extra) = node.op, saved
    reads = ()
    if op.reads_inputs:
        reads = op.reads(node.needs) if op.reads is not None else (True,) * len(arrays)
    reads = tuple(reads) + (False,) * (len(arrays) - len(reads))
    arrays = tuple([a.copy() if r and type(a) is np.ndarray else a for a, r in zip(arrays, reads)])
    if op.saves_out and type(out) is np.ndarray:
        out = out.copy()
    node.saved = _Cloned((arrays, out, extra), _mutation[-1])


class allow_mutation_on_saved_tensors:
    """Context manager, as torch's: inside, a tensor a recorded node saved may be written in
    place, and that node's backward still uses the values it saw (torch's "modified by an
    inplace operation" is not raised). The backward must run inside the same block (torch's
    AssertionError otherwise). *vs PyTorch:* the saved values are copied when each node is
    recorded, not at the first write into them (one copy per saved array, written or not);
    a ``create_graph`` backward of such a node is refused (it differentiates the tensors as
    they are now)."""

    open = False

    def __enter__(self):
        self.open = True
        _mutation.append(self)
        autograd.set_record_step("allow_mutation_on_saved_tensors", _clone_step)
        return self

    def __exit__(self, *exc):
        self.open = False
        _mutation.remove(self)
        if not _mutation:
            autograd.set_record_step("allow_mutation_on_saved_tensors", None)
        return False
