"""The tape: nodes in execution order, backward replay, grad modes and scopes.

Every primitive whose inputs require grad records one ``Node``. Nodes carry a sequence number
from one process-wide counter, so the order of execution *is* the tape: backward replays it from
the highest number down (a heap keyed by that number, restricted to the nodes reachable from the
outputs). Nothing is recursive, so a chain of a million ops is fine.

The tape holds no global list: a node is owned by the tensor it produced and owns its inputs, so
a graph that nobody references any more is freed by reference counting alone.
"""
from __future__ import annotations

import functools
import heapq
import inspect
import itertools
import threading
import weakref

import numbers

import numpy as np

from ._broadcast import _MIN_SIZE, binary as _bin, compact as _compact


class _State(threading.local):
    # threading.local re-runs __init__ in every thread, so each thread starts with grad enabled.
    def __init__(self):
        self.enabled = True
        self.scope = None
        # the backward running in this thread, as (run_id, roots, targets, accumulate, run,
        # reach): what torch's graph task tells a multi-tensor hook (autograd_graph.py)
        self.task = None


_state = _State()

# One counter for all threads, not one per thread: a graph may be built partly in one thread and
# partly in another, and per-thread numbers then collide or run against the data dependencies
# (wrong gradients). next() on itertools.count is atomic under the GIL, and cheaper than a
# thread-local attribute update.
_next_seq = itertools.count(1).__next__

# Arrays written in place since they were made: id of the array that owns the memory -> the
# number (from the same counter) of its latest write; an entry leaves with its array. And the
# latest such number: nodes numbered above it cannot have seen a write, so backward checks no
# others.
_written = {}
_last_write = 0


def _owner(a):
    """The array whose memory ``a`` views (``a`` itself if it owns its memory)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def mark_written(tensors, at=None):
    """Record that the arrays of ``tensors`` were written in place (an optimizer step, nn.init,
    load_state_dict). A node recorded before, whose VJP reads one of these arrays or a view of
    one, is then refused at backward: it would silently differentiate at the new values
    (``loss = f(x @ w)``, ``opt.step()``, ``loss.backward()`` gave x a gradient of the updated
    w). PyTorch refuses the same through its version counters. Here a node's number already says
    when it was recorded, so recording costs nothing more, and a backward compares each node's
    number with the latest write's. Writes through ``.data`` itself go unseen, as in PyTorch
    (``x -= y`` under no_grad() and the in-place methods write through here). ``at``: the
    write's number, where it is not now (a recorded in-place op numbers its write before the
    nodes it recorded: inplace_record._mark); never below an earlier write's."""
    global _last_write
    with _WRITE_LOCK:  # two threads' stamps must not leave the older one as the latest
        stamp = _next_seq() if at is None else at
        for t in tensors:
            base = _owner(t._data)
            key = id(base)
            entry = _written.get(key)
            if entry is None:
                _written[key] = [stamp, weakref.ref(base,
                                                    lambda _, key=key: _written.pop(key, None))]
            elif stamp > entry[0]:
                entry[0] = stamp
        if stamp > _last_write:
            _last_write = stamp


_WRITE_LOCK = threading.Lock()


def is_grad_enabled() -> bool:
    return _state.enabled


class _GradMode:
    """Context manager and decorator that sets whether ops record onto the tape."""

    _mode = True

    def __new__(cls, func=None):
        self = super().__new__(cls)
        if func is not None:  # the bare form, ``@no_grad`` without parentheses, as torch allows
            if not callable(func):  # else the "decorated" 5 would fail only when called
                raise TypeError(f"{cls.__name__}() takes no arguments, or decorates a function; "
                                f"got {type(func).__name__}")
            return self(func)
        return self

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = self._mode
        return self

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False

    def _fresh(self):
        """A new context manager of the same mode, for each call of a decorated function."""
        return type(self)()

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):
            return self._wrap_generator(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._fresh():
                return fn(*args, **kwargs)
        return wrapper

    def _wrap_generator(self, fn):
        """A generator runs its body at each next(), after the call returned: the mode is set
        around every resumption, as PyTorch does, not around the call that creates it."""
        mode = self._fresh

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            gen = fn(*args, **kwargs)
            try:
                with mode():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with mode():
                            gen.close()
                        raise
                    except BaseException as e:
                        with mode():
                            response = gen.throw(e)
                    else:
                        with mode():
                            response = gen.send(request)
            except StopIteration as stop:
                return stop.value
        return wrapper


class no_grad(_GradMode):
    """Record nothing inside: results do not require grad. Thread-local."""
    _mode = False


class enable_grad(_GradMode):
    """Record again, e.g. inside a ``no_grad`` block. Thread-local."""
    _mode = True


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(mode)``, as PyTorch's: sets recording on or off at once (a plain
    call), and as a context manager puts the previous mode back at the end of the block; as a
    decorator it sets ``mode`` around each call of the function only."""

    def __new__(cls, mode):
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"set_grad_enabled(): mode must be a bool, got {type(mode).__name__}")
        self = object.__new__(cls)
        self._mode, self._prev = bool(mode), _state.enabled
        _state.enabled = self._mode
        return self

    def __enter__(self):  # the mode was set by the call itself
        return self

    def _fresh(self):
        return set_grad_enabled(self._mode)

    def __call__(self, fn):
        _state.enabled = self._prev  # decorating sets nothing outside the function's calls
        return super().__call__(fn)


class inference_mode(_GradMode):
    """``inference_mode(mode=True)``: no recording inside, as ``no_grad`` (``mode=False``
    changes nothing). A context manager or a decorator, bare or called, as PyTorch's.
    *vs PyTorch:* there are no inference tensors: results are ordinary tensors that do not
    require grad, usable later in recorded code."""

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, (bool, np.bool_)):  # ``@inference_mode``
            return cls()(mode)
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"inference_mode(): mode must be a bool, got {type(mode).__name__}")
        self = object.__new__(cls)
        self._on = bool(mode)
        return self

    def __enter__(self):
        self._prev = _state.enabled
        if self._on:
            _state.enabled = False
        return self

    def _fresh(self):
        return inference_mode(self._on)


class Scope:
    """A named region of the tape, opened by a composite (``"batch_norm"``, ``"dropout"``).

    Nodes recorded inside point at the innermost scope; scopes point at their parent, so the
    exporter can draw nested clusters and the benchmark can count primitives per composite.
    """

    __slots__ = ("name", "args", "parent", "id", "__weakref__")

    def __init__(self, name, args, parent, id):
        self.name, self.args, self.parent, self.id = name, args, parent, id

    def __repr__(self):
        return f"Scope({self.name!r}, {self.args!r})"


class scope:
    """``with scope("batch_norm", training=True, eps=1e-5):`` names the nodes recorded inside."""

    __slots__ = ("name", "args", "_prev")

    def __init__(self, name, **args):
        self.name, self.args = name, args

    def __enter__(self):
        self._prev = _state.scope
        if _state.enabled:  # scopes cost nothing when no tape records
            _state.scope = Scope(self.name, self.args, self._prev, _next_seq())
        return _state.scope

    def __exit__(self, *exc):
        _state.scope = self._prev
        return False


class Node:
    """One recorded primitive: its op, its inputs (tensors or Python scalars), its keyword
    arguments, a weak reference to its output and its place on the tape."""

    # trace: the forward call's stack, set only under anomaly detection (anomaly_mode.py);
    # _meta: grad_fn.metadata's dict, made on first read (autograd_graph.py adds torch's grad_fn
    # API -- name(), next_functions, register_hook, ... -- onto this class)
    __slots__ = ("op", "inputs", "kw", "out_ref", "seq", "scope", "saved", "needs", "hooks",
                 "trace", "_meta")

    def __init__(self, op, inputs, kw, out, needs, saved):
        self.op = op
        self.inputs = inputs
        self.kw = kw
        self.needs = needs      # which inputs want a gradient: a VJP skips the others
        self.saved = saved      # (input arrays, output array, op extra) for the un-recorded VJP
        self.hooks = None       # hooks of the output; kept here so they outlive the output tensor
        # Weak: the output owns the node; a strong back-reference would make every graph a cycle.
        self.out_ref = weakref.ref(out)
        self.seq = _next_seq()
        self.scope = _state.scope

    @property
    def name(self):
        return self.op.name

    def __repr__(self):
        return f"<Node {self.op.name} #{self.seq}>"


_plain_init = Node.__init__
_record_steps = {}


def set_record_step(key, step):
    """Install ``step(node)`` to run after every ``Node.__init__`` while a mode needs it
    (anomaly detection keeps the forward stack, saved-tensor hooks pack what a node saved), or
    remove it with None. The steps are composed into one ``Node.__init__`` swapped in while any
    is set, so that recording pays nothing with none set, and two modes do not undo each other's
    swap."""
    if step is None:
        _record_steps.pop(key, None)
    else:
        _record_steps[key] = step
    steps = tuple(_record_steps.values())
    if not steps:
        Node.__init__ = _plain_init
        return

    def init(self, op, inputs, kw, out, needs, saved):
        _plain_init(self, op, inputs, kw, out, needs, saved)
        for s in steps:
            s(self)
    Node.__init__ = init


class LateHook:
    """Base of the hooks that run after a tensor's own hooks on its gradient, in the order they
    were registered (a grad_fn's prehooks, autograd_graph.py): Tensor.register_hook inserts
    before them, as torch runs a node's tensor hooks before its node hooks."""
    __slots__ = ()


_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or tinygrad_norm.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time."
)


_BIG = 4096  # below this, allocation is cheap and ownership is not worth tracking


def _accumulate(pending, owned, key, g):
    """Add g into pending[key]. The first gradient may alias an upstream array (add passes its
    gradient straight through), so it is never written to; the first sum is ours to update in place."""
    old = pending.get(key)
    if old is None:
        pending[key] = g
    elif key in owned:
        pending[key] = _iadd(old, g)
    else:
        total = pending[key] = old + g
        if type(total) is np.ndarray:  # two 0-d arrays add to a NumPy scalar: nothing to write into
            owned.add(key)


def _fresh(gi, g, mine, prev):
    """Whether gradient ``gi`` is a full-size array the VJP just made (or g itself, passed on
    once) that nothing else holds. Later contributions to its tensor are then added into it in
    place, and the VJP that consumes it may overwrite it (a fresh array costs page faults)."""
    return (gi.size >= _BIG and (gi is not g or mine) and gi is not prev
            and gi.flags.owndata and gi.flags.writeable)


# anomaly_mode._Anomaly while anomaly detection is on, else None: read once per backward
_anomaly = None
# autograd_graph._reach once a hook on several tensors needs to know which of them a backward
# reaches, else None: read once per backward
_reach = None

_upper = None  # (Tensor, ops): the layers above the tape, bound on first use (they import it)


def _bind_upper():
    """The tape knows tensors only by duck type, except here; an import statement in
    run_backward itself cost ~2 us a call."""
    global _upper
    from .tensor import Tensor
    from . import ops
    _upper = (Tensor, ops)
    return _upper


def run_backward(roots, grads, *, retain_graph, create_graph, targets=None, accumulate=True):
    """Replay the tape backward from ``roots`` seeded with ``grads``.

    With ``accumulate``, leaf gradients are added into ``.grad``; with ``targets`` (a list of
    tensors), their gradients are returned instead, in order (None where unreached).
    """
    Tensor, ops = _upper or _bind_upper()
    xp = ops.TG if create_graph else ops.NP
    last_write = _last_write
    pending, owned, leaves, heap, hooked = {}, set(), {}, [], set()
    run_id = object()  # this backward, for a group hook that must run once in it
    push, pop = heapq.heappush, heapq.heappop
    target_nodes = {}
    if targets is not None:
        for i, t in enumerate(targets):
            if t._node is not None:
                target_nodes.setdefault(t._node.seq, []).append(i)
    found = [None] * len(targets) if targets is not None else None
    leaf_index = {}  # a list per leaf: the same tensor may be asked for twice
    for i, t in enumerate(targets or ()):
        if t._node is None:
            leaf_index.setdefault(id(t), []).append(i)
    # grad(): only the nodes between the outputs and the inputs run (and are freed), and each
    # computes only the gradients that lead to an input, as in PyTorch: the graph below the
    # inputs stays usable, its hooks do not fire, a gradient penalty's grad(D(x), x) computes
    # no parameter gradient, and a write into an array no needed gradient reads is no error
    needed = run = masks = None
    if targets is not None and not accumulate:
        needed, run, masks = _needed(roots, target_nodes, leaf_index, Tensor)

    def route(t, g, own=False):
        node = t._node
        if node is None:
            entry = leaves.get(id(t))
            if entry is None:
                leaves[id(t)] = [t, g, own]  # own: later contributions may be added into g
            else:
                _merge_leaf(entry, g)
            return
        key = node.seq
        if key not in pending:
            heapq.heappush(heap, (-key, node))
        _accumulate(pending, owned, key, g)

    for t, g in zip(roots, grads):
        if needed is None or t._node is None or t._node.seq in needed:
            route(t, g)

    # record the VJPs exactly when create_graph: the grad mode set directly (a context
    # manager object cost ~1 us a call)
    prev_mode, prev_task = _state.enabled, _state.task
    _state.enabled = bool(create_graph)
    # what the graph looks like before this backward frees it, for the multi-tensor hooks
    # that need it (autograd_graph.register_multi_grad_hook sets _reach once one exists)
    _state.task = (run_id, roots, targets, accumulate, run,
                   _reach(roots) if _reach is not None else None)
    anomaly, node = _anomaly, None
    try:
        while heap:
            _, node = pop(heap)
            g = pending.pop(node.seq)
            mine = node.seq in owned and not create_graph  # g: an array nothing else holds
            # grad()'s intermediate inputs, as PyTorch's engine takes them: before the tensor's
            # hooks where its node still runs (an input lies below it), after them where not
            runs = run is None or node.seq in run
            if runs and targets is not None and node.seq in target_nodes:
                for i in target_nodes[node.seq]:
                    found[i] = g
                mine = False
            if node.hooks:
                # a module's group hook only where the node runs (torch's node hook): grad()
                # of a hooked module's output itself returns the gradient unhooked
                g = _run_hooks(node.hooks, g, create_graph,
                               (node.seq, pending, owned, hooked, run_id) if runs else None)
                if g is None:  # a module backward hook blocked it: nothing flows below here
                    if not retain_graph:
                        node.inputs = node.saved = None
                    continue
                hooked.add(id(g))  # the hook's array (the caller may keep it): not a .grad as is
                mine = False
            if not runs:
                for i in target_nodes[node.seq]:
                    found[i] = g
                continue  # grad(): an input itself, with no other input below it
            inputs = node.inputs
            if inputs is None:
                raise RuntimeError(_FREED)
            needs = node.needs if not masks else masks.get(node.seq, node.needs)
            if node.seq < last_write:
                _check_written(node)
            if create_graph:
                _check_unmodified(node)
                out = _recorded_output(node) if node.op.saves_out else None
                args, extra = tuple([as_read(t, node.seq) for t in inputs]), None
            else:
                args, out, extra = node.saved
            if mine and node.op.vjp_owned is not None:
                # The VJP may write its result into g (a full-size array less to allocate). The
                # result stays ours if it is routed once; one routed twice (g, g) is shared. An
                # input of another shape but g's size shares it too: sum_to reshapes g into a
                # view for it (a (C,) bias on a (1, C) batch), which a later in-place VJP on the
                # other side would overwrite.
                in_grads = node.op.vjp_owned(g, args, out, extra, node.kw, needs, xp)
                shares = 0
                for t, gi in zip(inputs, in_grads):
                    if gi is g and type(t) is Tensor and t._requires_grad and t._data.size == g.size:
                        shares += 1
                mine = shares == 1
            else:
                in_grads = node.op.vjp(g, args, out, extra, node.kw, needs, xp)
                mine = False
            if anomaly is not None and anomaly.check_nan:
                anomaly.check(node, in_grads)
            prev = None
            for t, gi in zip(inputs, in_grads):
                if gi is None or type(t) is not Tensor or not t._requires_grad:
                    continue
                below = t._node
                if below is not None and below.seq > node.seq:  # written in place since
                    t = as_read(t, node.seq)
                    below = t._node
                td = t._data
                if gi.shape != td.shape:
                    gi = xp.sum_to(gi, td.shape)
                if gi.dtype != td.dtype and td.dtype.kind in "fc":
                    # a float32 tensor gets a float32 gradient, as in PyTorch, even below an op
                    # that met float64 (its hooks and the VJPs under it then run in float32)
                    gi = gi.astype(td.dtype)
                # Ownership (see _fresh) is decided only where it matters: for a tensor's first
                # gradient, or a leaf's.
                if needed is not None and (below.seq not in needed if below is not None
                                           else id(t) not in leaf_index):
                    continue  # grad(): leads to no input
                if below is None:  # route() written out, here and below: ~1 us an edge
                    entry = leaves.get(id(t))
                    if entry is None:
                        leaves[id(t)] = [t, gi, not create_graph and _fresh(gi, g, mine, prev)]
                    else:
                        _merge_leaf(entry, gi)
                else:
                    key = below.seq
                    if key in pending:
                        _accumulate(pending, owned, key, gi)
                    else:
                        pending[key] = gi
                        push(heap, (-key, below))
                        if not create_graph and _fresh(gi, g, mine, prev):
                            owned.add(key)
                prev = gi
            if not retain_graph:
                node.inputs = None
                node.saved = None
        node = None  # a leaf hook's error below is no node's
        # the leaves' hooks and .grad in the backward's own grad mode too, as PyTorch: a hook
        # sees grad disabled (it may update its leaf), and under create_graph .grad is recorded
        # even when backward() was called inside no_grad()
        _finish_leaves(leaves, grads, hooked, targets, leaf_index, found, accumulate,
                       create_graph, Tensor)
    except BaseException:
        if anomaly is not None and node is not None:
            anomaly.report(node)  # the forward stack of the node whose backward failed
        raise
    finally:
        _state.enabled, _state.task = prev_mode, prev_task
    return found


_LEAF_LOCK = threading.Lock()


def _finish_leaves(leaves, grads, hooked, targets, leaf_index, found, accumulate, create_graph,
                   Tensor):
    """Run the leaves' hooks, and add their gradients into ``.grad`` (``accumulate``) or hand
    them to ``found`` (grad()'s targets)."""
    # Arrays the caller handed in, or already given to another leaf or to a hook, must not
    # become a .grad as they are: an in-place update of one would change the other.
    foreign = {id(g) for g in grads} | hooked
    for t, _, _ in leaves.values():
        if t._requires_grad and t._data.dtype.kind not in "fc" and (accumulate
                                                                  or id(t) in leaf_index):
            # requires_grad set by assignment skips the constructor's check; a gradient
            # cast to integers would be silently truncated. Refused before any .grad changes.
            raise TypeError(f"only floating-point tensors can require gradients, but a "
                            f"leaf of dtype {t.data.dtype} and shape {t.data.shape} has "
                            f"requires_grad=True")
    for t, g, _ in leaves.values():
        if not accumulate and id(t) not in leaf_index:
            continue  # grad(): a leaf nobody asked for; its hooks do not run (as in torch)
        if t._hooks:
            foreign.add(id(g))  # a hook may keep the array it was shown
            before = g
            g = _run_hooks(t._hooks, g, create_graph)
            if g is not before:
                foreign.add(id(g))
        if targets is not None:
            for i in leaf_index.get(id(t), ()):
                found[i] = g
        if accumulate and t._requires_grad:
            if id(g) in foreign and isinstance(g, np.ndarray):
                g = g.copy()
            foreign.add(id(g))
            # backward() in several threads into one leaf loses no update. Only around the
            # read-modify-write of .grad, leaf by leaf: a hook may itself call backward(), and
            # a later leaf's hook sees the .grad of the earlier ones, as in PyTorch
            with _LEAF_LOCK:
                _accumulate_leaf(t, g, create_graph, Tensor)
            if t._post_hooks:  # outside the lock: a hook may step an optimizer or backward()
                _run_post_hooks(t)


def _run_post_hooks(t):
    """``register_post_accumulate_grad_hook``'s hooks of leaf ``t``, after its ``.grad`` took
    this backward's gradient; each must return None (torch's TypeError otherwise)."""
    for hook in list(t._post_hooks):
        r = hook.fn(t)
        if r is not None:
            raise TypeError(f"a post accumulate grad hook must return None, but "
                            f"{hook.__name__} returned '{type(r).__name__}'")


def _needed(roots, target_nodes, leaf_index, Tensor):
    """The part of the graph grad() must visit: ``(reach, run, masks)``, the sequence numbers of
    the nodes from which a target (a node in ``target_nodes`` or a leaf in ``leaf_index``) can be
    reached, of those whose VJP must run (a target lies strictly below them), and for the nodes
    among them with inputs that lead to no target, the ``needs`` to run their VJP with."""
    nodes, seen, other_leaves = {}, set(), False
    stack = [t._node for t in roots if t._node is not None]
    while stack:  # every node reachable from the outputs, without recursion
        node = stack.pop()
        seq = node.seq
        if seq in seen:
            continue
        seen.add(seq)
        nodes[seq] = node
        for t in node.inputs or ():
            if type(t) is Tensor:
                t = as_read(t, seq)
                below = t._node
                if below is not None:
                    if below.seq not in seen:
                        stack.append(below)
                elif t._requires_grad and id(t) not in leaf_index:
                    other_leaves = True
    if not target_nodes and not other_leaves:
        # every leaf that wants a gradient was asked for (grad(loss, params)): every node
        # leads to one, and each of its wanted inputs too: nothing to prune
        return None, None, None
    reach, run, masks = set(), set(), {}
    for seq in sorted(nodes):  # an input's node was recorded before its consumer's
        node = nodes[seq]
        inputs = node.inputs
        if inputs is None:  # freed: running it says so, unless it is an input itself
            hit = seq not in target_nodes
        else:
            leads = [n and type(t) is Tensor and _leads(as_read(t, seq), reach, leaf_index)
                for n, t in zip(node.needs, inputs)]
            hit = True in leads
            if hit and leads != list(node.needs):
                masks[seq] = tuple(leads)  # without the gradients that lead to no target
        if hit:
            run.add(seq)
            reach.add(seq)
        elif seq in target_nodes:
            reach.add(seq)
    lone = roots[0]._node if len(roots) == 1 else None
    if lone is not None and lone.seq not in run and lone.seq not in target_nodes \
            and lone.inputs is not None:
        # as torch's engine, a lone output's own node runs (its hooks fire, its retained grad
        # fills) even when no input lies below it; it computes no gradient
        run.add(lone.seq)
        reach.add(lone.seq)
        masks[lone.seq] = (False,) * len(lone.inputs)
    return reach, run, masks


def _leads(t, reach, leaf_index):
    return t._node.seq in reach if t._node is not None else id(t) in leaf_index


def as_read(t, seq):
    """The tensor that node ``seq`` read as its input ``t``. An in-place op recorded after that
    node (``Tensor._rebase``: ``y.add_(1)``, ``y[0] = v``) gave ``t`` a new history and handed
    the one before to a tensor of its own, listed in ``t._versions`` by the tape position of
    the write; a node recorded before the write must still send its gradient to that one, as
    torch's edges keep the grad_fn they were recorded with. ``t`` itself for every other
    tensor (one attribute read)."""
    versions = getattr(t, "_versions", None)  # (inputs may be Python numbers)
    if versions:
        for stamp, old in versions:
            if stamp > seq:
                return old
    return t


def _merge_leaf(entry, g):
    """Add g into a leaf's pending ``[tensor, gradient, own]``: in place once the sum is ours."""
    if entry[2]:
        entry[1] = _iadd(entry[1], g)
    else:
        entry[1] = entry[1] + g
        entry[2] = True


def _iadd(a, b):
    """``a + b``, added into ``a`` when it is an array that can hold the sum (b's shape, a's
    dtype; equal dtypes decided without np.result_type's ~0.5 us). Only for a sum of our own."""
    if (isinstance(a, np.ndarray) and a.shape == b.shape
            and (a.dtype == b.dtype or a.dtype == np.result_type(a, b))):
        # the long-run path of ``binary`` wants a broadcast view as the small array it repeats;
        # below its size NumPy adds a stride-0 view faster than the row (2.1 against 2.6 us at
        # (64, 128), plus 0.8 us to slice the row out)
        _bin(np.add, a, _compact(b) if b.size >= _MIN_SIZE else b, out=a)
        return a
    return a + b


def _check_written(node):
    """Refuse a node recorded before an in-place write into an array its VJP reads (see
    mark_written). ``Op.reads`` says which inputs the VJP reads for the gradients wanted at the
    forward (mul's gradient for a reads only b): what PyTorch saves, and checks whenever the node
    runs, even for a grad() that needs fewer of its gradients. A write into an input that no
    gradient reads is no error."""
    if getattr(node.saved, "copied", False):
        return  # saved as copies (autograd_graph.allow_mutation_on_saved_tensors): unaffected
    op, seq = node.op, node.seq
    # indexed, not unpacked: packed saved values (autograd_graph) unpack only for the VJP
    arrays, out = node.saved[0], node.saved[1]
    stale = None
    if op.reads_inputs:
        reads = op.reads(node.needs) if op.reads is not None else (True,) * len(arrays)
        stale = next((a for a, r in zip(arrays, reads) if r and _written_since(a, seq)), None)
        if stale is None:  # an operand saved as a promoted copy: the write is into its tensor
            stale = next((t._data for t, a, r in zip(node.inputs, arrays, reads)
                          if r and type(a) is np.ndarray and hasattr(t, "data")
                          and t._data is not a and t._data.dtype != a.dtype
                          and _written_since(t._data, seq)), None)
    if stale is None and op.saves_out and _written_since(out, seq):
        stale = out
    if stale is None and node.kw:  # an index or a target array the VJP reads (getitem, nll)
        for v in node.kw.values():
            for a in (v if type(v) is tuple else (v,)):
                if _written_since(a, seq):
                    stale = a
                    break
    if stale is not None:
        raise RuntimeError(
            f"one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: an array of shape {stale.shape} that {op.name} saved was "
            f"written in place after the forward (an optimizer step, nn.init, "
            f"load_state_dict, or x += y under no_grad()), so its gradient would be taken at the "
            f"new values. Call backward() before optimizer.step(), or run the forward again.")


def _written_since(a, seq):
    if type(a) is not np.ndarray:
        return False
    entry = _written.get(id(_owner(a)))
    return entry is not None and entry[0] > seq


def _check_unmodified(node):
    """A recorded VJP reads the input tensors themselves, not the arrays saved at the forward:
    one whose array was replaced since (``w -= lr * w.grad`` under no_grad) would silently give a
    gradient of the new values. Refused, as PyTorch refuses a tensor modified in place."""
    from .tensor import Tensor
    stale = None
    if node.op.reads_inputs:
        # (an integer operand promoted to the other's float type was saved as that copy: its
        # dtype tells it apart from a replaced array)
        stale = next((t for t, a in zip(node.inputs, node.saved[0])
                      if type(t) is Tensor and t._data is not a and (
                          t._data.dtype == a.dtype or _written_since(t._data, node.seq))), None)
    if stale is None and node.op.saves_out:
        out = node.out_ref()
        stale = out if out is not None and out._data is not node.saved[1] else None
    if stale is not None:
        raise RuntimeError(
            f"one of the tensors needed for gradient computation has been modified since the "
            f"graph was recorded: a tensor of shape {stale.data.shape} that {node.op.name} "
            f"saved holds a new array (an augmented assignment such as `w -= ...` under "
            f"no_grad(), or .data set directly). A create_graph backward differentiates the "
            f"tensors as they are now; run the forward again after the update.")


def _recorded_output(node):
    """The output as a tensor on the graph, for a recorded (create_graph) VJP. If the caller has
    dropped it, recompute it from the inputs: the result is the same value, on the same graph."""
    out = node.out_ref()
    if out is None:
        from .tensor import apply
        out = apply(node.op, *node.inputs, **(node.kw or {}))
    return out


class GroupHook:
    """A hook on several nodes that sees their gradients together, once per backward: put on the
    identity nodes a module's backward hooks wrap its inputs (or outputs) in. Recorded one after
    another, those nodes run after every node that reads them, so when the first of them runs
    the gradients of all are final -- the one in hand and the others still pending, which the
    hook may replace. ``fn(grads)`` takes a list (None where no gradient arrived) and returns one:
    ``GroupHook.KEEP`` leaves a gradient as it is, None blocks it (nothing flows below that node,
    as PyTorch treats a None a module hook returns). It holds sequence numbers, not nodes: the
    graph does not reach itself through it (``fn`` may hold the module's output tensors, which
    own nodes below this one, never this one)."""

    __slots__ = ("seqs", "fn", "_fired")
    __name__ = "module backward hook"
    KEEP = object()

    def __init__(self, seqs, fn):
        self.seqs, self.fn, self._fired = tuple(seqs), fn, None

    def run(self, g, create_graph, at):
        if at is None:
            return g  # grad()'s input itself, whose node does not run
        seq, pending, owned, hooked, run_id = at
        if self._fired is run_id:
            return g  # a later node of the group, in the backward that already ran it
        self._fired = run_id  # a token, not the pending dict: that would keep its gradients
        from .tensor import Tensor
        grads = [g if s == seq else pending.get(s) for s in self.seqs]
        keep = GroupHook.KEEP
        for s, old, new in zip(self.seqs, grads, self.fn(grads)):
            if s != seq and s not in pending:
                continue  # no gradient came (an unused argument): nothing below reads it
            if new is not keep and new is not None:
                new = _hook_result(new, old, create_graph, Tensor)
            if s == seq:
                g = g if new is keep else new
            else:
                owned.discard(s)  # the hook saw the array (and may keep it): no in-place add
                hooked.add(id(pending[s]))
                if new is not keep:
                    pending[s] = new  # None: that node will pass nothing on
        return g


def _hook_result(new, old, create_graph, Tensor):
    """A group hook's replacement gradient, as the single hooks' (below) are taken."""
    shape = np.shape(new._data if isinstance(new, Tensor) else new)
    old_shape = np.shape(old._data if isinstance(old, Tensor) else old)
    if shape != old_shape:
        raise RuntimeError(f"backward hook changed the shape of a gradient from {old_shape} to "
                           f"{shape}")
    if create_graph:
        return new if isinstance(new, Tensor) else Tensor._wrap(np.asarray(new))
    return new._data if isinstance(new, Tensor) else np.asarray(new)


def _run_hooks(hooks, g, create_graph, at=None):
    from .tensor import Tensor
    for hook in tuple(hooks):  # a hook registered by a hook fires from the next backward on
        if g is None:  # blocked by a module backward hook (GroupHook): no gradient to show
            return None
        if type(hook) is GroupHook:
            g = hook.run(g, create_graph, at)
            continue
        gt = g if isinstance(g, Tensor) else Tensor._wrap(g)
        r = hook(gt)
        if r is not None:
            if not isinstance(r, (Tensor, np.ndarray, numbers.Real)) or isinstance(r, bool):
                # else a string's shape () would be reported as a changed shape
                raise TypeError(f"hook {getattr(hook, '__name__', hook)!r} returned a "
                                f"{type(r).__name__}; a hook returns None, a Tensor or an ndarray "
                                f"(a gradient of shape {gt.data.shape})")
            shape = np.shape(r._data if isinstance(r, Tensor) else r)
            if shape != gt._data.shape:  # caught here, not as a puzzling error ops later
                raise RuntimeError(f"hook {getattr(hook, '__name__', hook)!r} changed the shape of "
                                   f"the gradient from {gt.data.shape} to {shape}")
            if not isinstance(r, (Tensor, np.ndarray)):  # a Python number: the gradient's dtype
                r = np.asarray(r, dtype=gt._data.dtype)
            elif (r._data if isinstance(r, Tensor) else r).dtype != gt._data.dtype:
                raise TypeError(f"hook {getattr(hook, '__name__', hook)!r} changed the dtype of "
                                f"the gradient from {gt.data.dtype} to "
                                f"{(r.data if isinstance(r, Tensor) else r).dtype}, as PyTorch "
                                f"refuses; cast its result (.astype(np.{gt.data.dtype}))")
            if create_graph:  # a recorded VJP calls Tensor methods on its g: no bare ndarray
                g = r if isinstance(r, Tensor) else Tensor._wrap(np.asarray(r))
            else:
                g = r._data if isinstance(r, Tensor) else np.asarray(r)
    return g


def _accumulate_leaf(t, g, create_graph, Tensor):
    # Tensor: the class, passed in (an import here cost ~0.5 us a leaf, 8 leaves an MLP step)
    if create_graph:
        gt = g if isinstance(g, Tensor) else Tensor._wrap(g)
        if gt._data.dtype != t._data.dtype:  # as below: a gradient has its leaf's dtype
            gt = gt.astype(t._data.dtype)
        elif t._grad is None:
            # a recorded copy, as PyTorch clones here: the gradient may be the caller's seed or
            # another leaf's (an add passes it through), which an in-place edit must not reach
            from .tensor import apply  # only under create_graph
            gt = apply(_upper[1].Cast, gt, dtype=gt._data.dtype)
        t._grad = gt if t._grad is None else t._grad + gt  # _grad: shapes agree by construction
        return
    if isinstance(g, Tensor):
        g = g._data
    if t._grad is None:
        # The array may alias upstream memory (an add passes its gradient through); own a copy
        # only when it is not already a fresh, writable, correctly-shaped array of our own.
        if not (g.flags.writeable and g.flags.owndata) or g.dtype != t._data.dtype:
            g = np.array(g, dtype=t._data.dtype)
        t._grad = Tensor._wrap(g)
    else:
        old = t._grad
        total = np.add(old._data, g, dtype=t._data.dtype, casting="unsafe")
        if type(total) is not np.ndarray:  # two 0-d arrays add to a NumPy scalar
            total = np.array(total, dtype=t._data.dtype)
        if old._node is None and not old._requires_grad:
            # the same .grad Tensor, as PyTorch accumulates into it: a reference the caller
            # holds (or a .grad they assigned) sees the sum. A new array, not an in-place add:
            # the old one may be shared (a state dict, an optimizer's snapshot)
            old._data = total
        else:  # a recorded gradient (create_graph): its graph keeps its value
            t._grad = Tensor._wrap(total)


def _sequence(v, name):
    """A list of ``v``, or a TypeError naming the argument (not "object is not iterable")."""
    if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__"):
        raise TypeError(f"grad(): {name} must be a Tensor or a sequence of Tensors, got "
                        f"{type(v).__name__}")
    return list(v)


def replay(roots, grads, **kw):
    """``run_backward`` with NumPy's floating-point warnings off: a VJP's inf or NaN (``g / x``
    at 0, ``inf - inf``) is the gradient torch gives without a word, and a RuntimeWarning is
    no news to the caller. One errstate per backward pass, not one per node (an errstate costs
    about as much as a node's whole dispatch). Hooks run inside it too."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return run_backward(roots, grads, **kw)


def backward_inputs(roots, grads, inputs, retain_graph, create_graph):
    """``backward(inputs=...)``, as torch's: the gradients of ``roots`` (seeded with
    ``grads``) accumulated into the ``.grad`` of ``inputs`` only (leaves or not; a tensor given
    twice counts once), and only the part of the graph that leads to them runs, as ``grad()``'s.
    An input that did not take part keeps its ``.grad``. Checked before anything runs."""
    from .tensor import Tensor

    inputs = [inputs] if isinstance(inputs, Tensor) else _sequence(inputs, "inputs")
    if not inputs:
        raise RuntimeError("backward(): the 'inputs' argument cannot be empty")
    seen, targets = set(), []
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"backward(): inputs must be Tensors, got {type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError("backward(): one of the inputs does not require grad (torch: "
                               "can't retain_grad on Tensor that has requires_grad=False)")
        if id(t) not in seen:
            seen.add(id(t))
            targets.append(t)
    found = replay(roots, grads, retain_graph=retain_graph, create_graph=create_graph,
                   targets=targets, accumulate=False)
    for t, g in zip(targets, found):
        if g is None:
            continue
        if not isinstance(g, Tensor):  # a copy: the array may be the caller's seed or shared
            g = np.array(np.broadcast_to(g, t._data.shape), dtype=t._data.dtype)
        with _LEAF_LOCK:
            _accumulate_leaf(t, g, create_graph, Tensor)


def _is_edge(x):
    return isinstance(x, tuple) and hasattr(x, "output_nr") and hasattr(x, "_tensor")


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Gradients of ``outputs`` (weighted by ``grad_outputs``) with respect to ``inputs``,
    returned as a tuple; nothing is accumulated into ``.grad``."""
    from .tensor import Tensor, _seed_grad

    outputs = [outputs] if isinstance(outputs, Tensor) else _sequence(outputs, "outputs")
    if _is_edge(inputs):  # a GradientEdge (autograd_graph): the tensor its node made
        inputs = inputs._tensor()
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else [t._tensor() if _is_edge(t) else t
                                      for t in _sequence(inputs, "inputs")]
    if not inputs:  # else an empty tuple, and a whole backward run for nothing
        raise RuntimeError("grad(): the 'inputs' argument cannot be empty")
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, (Tensor, np.ndarray, numbers.Number)):
        grad_outputs = [grad_outputs]  # one output's gradient (a number, as backward() takes)
    else:
        grad_outputs = _sequence(grad_outputs, "grad_outputs")
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad(): got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"grad(): inputs must be Tensors, got {type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError("grad(): one of the differentiated Tensors does not require grad")
    for t in outputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"grad(): outputs must be Tensors, got {type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError("grad(): element of outputs does not require grad and does not have "
                               "a grad_fn")
    seeds = [_seed_grad(o, g, create_graph) for o, g in zip(outputs, grad_outputs)]
    if retain_graph is None:
        retain_graph = create_graph
    found = replay(outputs, seeds, retain_graph=retain_graph, create_graph=create_graph,
                   targets=inputs, accumulate=False)
    result = []
    for t, g in zip(inputs, found):
        if g is None:
            if not allow_unused:
                raise RuntimeError("grad(): one of the differentiated Tensors appears to not have "
                                   "been used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
            result.append(None)
        elif isinstance(g, Tensor):
            result.append(g if g._data.dtype == t._data.dtype else g.astype(t._data.dtype))
        else:
            if g.shape != t.shape:
                g = np.broadcast_to(g, t.shape)
            result.append(Tensor._wrap(np.array(g, dtype=t.dtype)) if not g.flags.writeable
                          or g.dtype != t.dtype else Tensor._wrap(g))
    return tuple(result)


def __getattr__(name):
    """``autograd.forward_ad``, imported on first use: it imports the Tensor layer, which
    imports this module (PEP 562)."""
    if name == "forward_ad":
        from . import forward_ad
        return forward_ad
    if name in ("gradcheck", "gradgradcheck"):  # torch.autograd.gradcheck, with its keywords,
        from . import autograd_gradcheck      # as the "Extending PyTorch" tutorials call it
        return getattr(autograd_gradcheck, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
