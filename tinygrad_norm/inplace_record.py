"""In-place writes that the tape records: ``y.add_(1)``, ``y[0] = v``, ``F.relu(y, inplace=True)``
on a tensor that requires grad, or ``buf[i] = h`` with ``h`` on the graph.

PyTorch rewrites the written tensor's history: its values change in place (every view and
alias of its memory sees them) and its ``grad_fn`` becomes the in-place op's, whose input is the
history before. Here the same in three moves (``rebase``):

1. the history before is handed to a new, internal tensor ``old`` (the node that made the
   tensor now names ``old`` as its output), holding the array as it was;
2. the op runs out of place on ``old`` (recorded: its gradient comes from its primitives), and
   its result is written into the tensor's array, which is marked written;
3. the tensor takes the result's node. Nodes recorded before the write, which name the tensor
   as an input, must still send their gradient to the history before: the tensor lists
   ``(tape position of the write, old)`` in ``_versions``, and the tape reads its inputs
   through ``autograd.as_read``. A node recorded before that saved the array and reads it at
   backward is refused there, as torch's version counter refuses it (``y = x.exp();
   y.add_(1)``: exp's gradient is its output, overwritten).

The values before are copied only where the new node reads them (``mul_`` by a tensor that
requires grad reads them for that tensor's gradient; ``exp_`` reads them for its own); a
basic-index assignment (``buf[i] = h``) is one ``setitem`` node writing into the buffer's own
array, O(row) forward and backward. A write into an array nobody else holds (no node saved it,
no view of it exists) is not stamped, so the backward checks no node for it.

Views: a write into a basic-index view of a tensor on the graph (``y[0].add_(1)``, ``y[i] +=
v``) is recorded as an item assignment into that tensor (``_through_base``, torch's
CopySlices); views taken before a write (basic indexing, reshape, transpose, broadcast_to, and
views of those) are listed on their root tensor (``register_view``) and take the same view of
the new history afterwards (``_refresh_views``), as torch's views follow their base.

Refused, before anything is written: a leaf that requires grad (torch's rule), a write into a
non-basic view of a tensor on the graph (``y.reshape(4).mul_(2)``: torch rewrites the base's
history through the view, which this tape cannot route), and a recorded write into a view of a
constant's memory from a source that requires grad (the gradient would not reach the base)."""
from __future__ import annotations

import sys
import weakref

import numpy as np

from . import ops
from .autograd import _next_seq, _state, mark_written
from .tensor import Tensor, where  # (tensor.py imports this module after defining both)


def records(t, sources=()):
    """Whether an in-place write into ``t`` (from ``sources``) must go on the tape: grad mode is
    on and ``t`` requires grad, or a source does and ``t`` can hold a gradient (an integer
    tensor takes a source's values without one, as in torch)."""
    if not _state.enabled:
        return False
    if t._requires_grad:
        return True
    if t._data.dtype.kind not in "fc":
        return False
    return any(getattr(s, "_requires_grad", False) for s in sources)


def check(t, name, write=True):
    """Refuse what cannot be recorded, before anything changes."""
    node = t._node
    if t._requires_grad and node is None:
        raise RuntimeError(f"{name}: a leaf tensor that requires grad is being used in an "
                           f"in-place operation: update it under `with "
                           f"tinygrad_norm.no_grad():` (as an optimizer step does), or write "
                           f"`x = x + y` for a new tensor")
    if t._data.base is None:
        return
    if not write:
        # a view op in place (``unsqueeze_``) on a view of a leaf that requires grad: torch
        # refuses it as it refuses a write (on a view of another tensor it is recorded)
        if _viewed_leaf(t):
            _refuse_leaf_view(name)
        return
    if node is None:
        if t._data.dtype.kind in "fc":
            raise RuntimeError(
                f"{name}: the tensor views the memory of an array or tensor, and the write is "
                f"recorded (a source requires grad): the gradient would not reach the tensor "
                f"whose memory it is. Write into that tensor itself (buf[i] = x), or use an "
                f"out-of-place op")
        return
    for s in node.inputs or ():
        if type(s) is Tensor and np.may_share_memory(t._data, s._data) and not _history(t, s):
            raise RuntimeError(
                f"{name}: a view of another tensor ({node.op.name} of it) that requires grad is "
                f"being used in an in-place operation; the write would not reach that tensor's "
                f"gradient, as PyTorch's does. Write into the tensor itself, or use an "
                f"out-of-place op (a new tensor, on the graph)")


def _refuse_leaf_view(name):
    raise RuntimeError(f"{name}: a view of a leaf tensor that requires grad is being used in an "
                       f"in-place operation (torch's rule): update the leaf under `with "
                       f"tinygrad_norm.no_grad():`")


def _viewed_leaf(t):
    """Whether ``t`` views, directly or through other views (``x[1:3][0]``), the memory of a
    leaf that requires grad."""
    node = t._node
    while node is not None:
        below = next((s for s in node.inputs or () if type(s) is Tensor
                      and np.may_share_memory(t._data, s._data)), None)
        if below is None:
            return False
        if below._node is None:
            return below._requires_grad
        node = below._node
    return False


def _history(t, s):
    """Whether ``s`` is ``t``'s own history before a recorded write (it holds ``t``'s memory):
    a second write into ``t`` is no write into a view of another tensor (``y =
    x.sum(1, keepdim=True)``, whose array is a NumPy view; ``y[0] = 1; y[1] = 2``)."""
    return any(s is old for _, old in t._versions or ())


def rebase(t, name, fn, copy_old=True, write=True):
    """``t`` takes ``fn(old)`` in place and on the tape (see the module's docstring); returns
    ``t``. ``copy_old``: give ``old`` a copy of the values before the op runs (the op reads
    them); without it, the op runs on the array itself, and again on a copy if a node it
    recorded turns out to read the values (a wrong hint costs time, never a wrong gradient).
    ``write=False``: a view op (``t_``, ``unsqueeze_``), ``t`` takes the view, nothing is
    written. A basic-index view of a tensor on the graph (``y[0].add_(1)``, ``y[i] += v``)
    is written through that tensor (``_through_base``)."""
    # Nobody else holds the array (no node saved it, no view of it exists: each would hold a
    # reference): no node recorded before can read the overwritten values, so the write needs
    # no stamp, and the backward then checks no node in detail (about 1 us a node otherwise)
    alone = sys.getrefcount(t._data) == 2  # the tensor's slot and this call's argument
    base = _viewed_base(t) if write else None
    if base is None:
        check(t, name, write)
    elif base[0]._requires_grad and base[0]._node is None:
        _refuse_leaf_view(name)
    old, new, stamp, nodes, tied = _run(t, name, fn, copy_old and write, write)
    alone = alone and not tied  # (y.mul_(y): the new node saved the array itself, and reads it)
    if base is not None:
        return _through_base(t, old, new, stamp, nodes, *base)
    _commit(t, new, old, stamp, write, nodes, alone)
    return t


def _run(t, name, fn, copy_old, write):
    """``fn`` on the history before: ``(old, new, stamp)``."""
    old, orig = _old(t, copy_old)
    stamp = _next_seq()
    new = _fit(t, _own(fn(old), stamp), old, name, write)
    nodes = _recorded_since(new, stamp)
    if write and not copy_old and _reads(nodes, old, orig):
        # a new node reads the values before (directly or through a view): run the op again on
        # a copy of them (the first run's nodes are dropped with its result)
        old._data = orig.copy()
        new = _fit(t, _own(fn(old), stamp), old, name, write)
        nodes = _recorded_since(new, stamp)
    tied = _untie(nodes, t, old)
    return old, new, stamp, nodes, tied


def _viewed_base(t):
    """``(base, index)`` where ``t`` is ``base[index]`` (basic indexing: a view of ``base``'s
    memory) and ``base`` is on the graph; else None."""
    node = t._node
    if node is None or node.op is not ops.GetItem or not node.kw.get("basic") \
            or t._data.base is None or node.inputs is None:
        return None
    base, index = node.inputs[0], node.kw["index"]
    if not np.may_share_memory(t._data, base._data) \
            or not _is_at(t._data, base._data, ((ops.GetItem, node.kw),)):
        # (base or t itself changed shape since, by t_() or unsqueeze_(): the index no longer
        # names t's memory; refused as another kind of view, not a NumPy shape error)
        return None
    return base, index


def _is_at(a, b, steps):
    """Whether array ``a`` is exactly the memory that ``steps`` (``(op, kw)`` pairs: basic
    indexing, reshape, ...) view in ``b``: same start, shape and strides."""
    try:
        v = b
        for op, kw in steps:
            v = op.forward(v, **kw)  # (GetItem: a 0-d view where every dim takes an int)
    except (IndexError, TypeError, ValueError):
        return False
    return (type(v) is np.ndarray and v.shape == a.shape and v.strides == a.strides
            and v.__array_interface__["data"][0] == a.__array_interface__["data"][0])


def _through_base(t, old, new, stamp, nodes, base, index):
    """A write into ``base[index]`` that ``t`` views, as torch's: ``base`` takes the new values
    at ``index`` on the tape (its own recorded item assignment, which writes the memory ``t``
    views), and ``t`` becomes ``base[index]`` of that new history."""
    # base's other views take its new history (t does below), and base's write is marked at
    # this op's stamp, unless these nodes read base's memory (_commit, _mark)
    _THROUGH.append((t, stamp, nodes))
    try:
        base[index] = new
    finally:
        _THROUGH.pop()
    node = new._node
    if node is not None and node.op.saves_out and node.saved is not None \
            and node.saved[1] is new._data:
        # the op saved its output (``h.exp_()``): it is now the memory t views, so a later
        # write into base refuses its backward, as torch's. A create_graph backward, which
        # would find ``new`` holding another array, recomputes the output instead
        _adopt(new, t._data)
        node.out_ref = _GONE
    _take(t, base[index], old, stamp)
    _refresh_views(t)
    return t


# The views written through now (``_through_base``), with the stamp and the nodes of their
# ops: each takes its base's new history itself.
_THROUGH = []


class _Gone:
    pass


_GONE = weakref.ref(_Gone())  # a reference whose tensor is gone (its instance died here)


def register_view(base, view, op, kw):
    """``view`` is ``op(base, **kw)``, maybe a view of ``base``'s memory: listed (weakly) on
    the tensor at the root of ``base``'s views, with the ops from it, for ``_refresh_views``
    (a view of a view whose middle tensor is gone still follows the root, which the view holds,
    as torch's view holds its base). Dead entries are dropped whenever the list doubles, so a
    tensor indexed in a long loop keeps a list of about its live views."""
    path = base._view_path
    if path is None:
        root, steps = base, ((op, kw),)
    else:
        root, steps = path[0], path[1] + ((op, kw),)
    view._view_path = (root, steps)
    views = root._views
    if views is None:
        root._views = [(weakref.ref(view), steps)]
        return
    views.append((weakref.ref(view), steps))
    n = len(views)
    if n >= 16 and not n & (n - 1):
        views[:] = [e for e in views if e[0]() is not None]


def _refresh_views(t):
    """After a recorded write into ``t``, its views still alive (basic indexing, reshape,
    transpose, broadcast_to, and views of those) take the same views of the new history, as
    torch's views follow their base (``v = y[0]; y.add_(w); v * 2`` sends a gradient to ``w``):
    their history before goes to ``_versions`` (nodes recorded before now still reach it). A
    view whose geometry no longer matches (``t_()`` on either since) keeps its history. The
    views' new histories are numbered now, not at the write: the write's own nodes may have
    read a view (``y[1] += v`` ends with ``y[1] = tmp``, ``tmp`` a view of ``y``), and they
    must keep its history before."""
    from .tensor import apply
    views = t._views
    if not views:
        return
    stamp = _next_seq()
    for ref, steps in list(views):
        v = ref()
        if v is None or v is t or any(v is e[0] for e in _THROUGH) \
                or not _is_at(v._data, t._data, steps):
            continue
        fresh = t
        for op, kw in steps:
            fresh = apply(op, fresh, **kw)
        if fresh._node is None and v._node is None:
            continue  # neither requires grad: nothing to follow
        old = object.__new__(Tensor)
        old._data, old._node, old._requires_grad = v._data, v._node, v._requires_grad
        if v._node is not None:
            v._node.out_ref = weakref.ref(old)
        _take(v, fresh, old, stamp)


def _old(t, copy):
    old = object.__new__(Tensor)
    orig = t._data
    old._data = orig.copy() if copy else orig
    old._requires_grad = t._requires_grad
    old._node = t._node
    return old, orig


def _own(new, stamp):
    """The op's result as a tensor of its own: one the op passed through (``old`` itself, or a
    source) keeps its node, which the written tensor must not take over."""
    if new._requires_grad and (new._node is None or new._node.seq < stamp):
        return new.clone()
    return new


def _fit(t, new, old, name, write):
    """The result in ``t``'s shape and dtype, still connected to the history before where
    ``t`` requires grad (a fill or a comparison has no gradient: torch's zero one instead)."""
    if write and new._data.shape != t._data.shape:
        raise ValueError(f"{name}: the result of shape {new._data.shape} does not fit the "
                         f"tensor's shape {t._data.shape}")
    dt = t._data.dtype
    if write and new._data.dtype != dt:
        if not np.can_cast(new._data.dtype, dt, "same_kind"):
            raise TypeError(f"{name}: result type {new._data.dtype} can't be cast to the "
                            f"desired output type {dt}")
        new = new.astype(dt) if dt.kind in "fc" else _constant(new, dt)
    if t._requires_grad and not new._requires_grad:
        new = where(np.ones(new._data.shape, bool), new.detach(), old)  # gradient 0 to old
    return new


def _constant(new, dt):
    return Tensor(new._data.astype(dt))


def _recorded_since(new, stamp):
    """The nodes ``fn`` recorded (numbered after ``stamp``), in tape order."""
    found, stack = {}, [new._node] if new._node is not None else []
    while stack:
        n = stack.pop()
        if n.seq < stamp or n.seq in found:
            continue
        found[n.seq] = n
        for s in n.inputs or ():
            if type(s) is Tensor and s._node is not None and s._node.seq > stamp:
                stack.append(s._node)
    return [found[k] for k in sorted(found)]


def _untie(nodes, t, old):
    """A source that is ``t`` itself (``y.add_(y)``) was read before the write: the new nodes
    name ``old`` instead, or ``t`` would become an input of its own node."""
    tied = False
    for n in nodes:
        if n.inputs is not None and any(s is t for s in n.inputs):
            n.inputs = tuple(old if s is t else s for s in n.inputs)
            tied = True
    return tied


def _reads(nodes, old, orig):
    """Whether a new node reads the values before at backward: it reads ``old``, or a view of
    its array that an earlier new node made (a reshape, a slice)."""
    derived = {id(old)}
    for n in nodes:
        op, inputs = n.op, n.inputs or ()
        hit = [id(s) in derived for s in inputs]
        if True not in hit:
            continue
        if op.reads_inputs:
            reads = op.reads(n.needs) if op.reads is not None else (True,) * len(inputs)
            if any(h and r for h, r in zip(hit, reads)):
                return True
        out = n.out_ref()
        if out is not None and np.may_share_memory(out._data, orig):
            derived.add(id(out))
    return False


def _adopt(new, arr):
    """The op that made ``new`` saved ``new``'s array as its output (``exp_``, ``sigmoid_``:
    their gradient reads it): it saves ``arr`` instead, the memory ``new``'s values are now
    written into (the same values). So a later write into the tensor refuses that op's
    backward, as torch's version counter does (``y.exp_(); y.add_(1)``: exp's gradient would
    read the overwritten output), and a create_graph backward finds the output it saved."""
    node = new._node
    if node is not None and node.op.saves_out and node.saved is not None \
            and node.saved[1] is new._data:
        node.saved = (node.saved[0], arr, node.saved[2])


def _mark(t, stamp, nodes):
    """Mark ``t``'s array written. The nodes the op recorded (numbered after ``stamp``) came
    before the write, but only the output one of them saves is in that memory (``_adopt``),
    with the values written: the mark takes the op's ``stamp`` so that none of them is
    refused for it. Unless one of them reads that memory in another array (``y.mul_(y[0])``:
    mul saved the view ``y[0]`` for ``y``'s gradient, now overwritten): then a new number,
    which refuses it at backward, as torch does."""
    arr = t._data
    for n in nodes:
        op = n.op
        if not op.reads_inputs or n.saved is None:
            continue
        arrays = n.saved[0]
        reads = op.reads(n.needs) if op.reads is not None else (True,) * len(arrays)
        if any(r and type(a) is np.ndarray and np.may_share_memory(a, arr)
               for a, r in zip(arrays, reads)):
            mark_written((t,))
            return
    mark_written((t,), at=stamp)


def _commit(t, new, old, stamp, write, nodes, alone=False):
    node = t._node
    if node is not None:
        node.out_ref = weakref.ref(old)
    if not write:
        t._data = new._data
        # torch's in-place view ops count as writes: a node that saved the tensor refuses its
        # backward (``y = x.exp(); y.t_()``; ``z = y * x; y.unsqueeze_(0)``)
        _mark(t, stamp, nodes)
    elif t._data.flags.writeable:
        if new._data is not t._data:  # (an item assignment wrote into it already: SetItem)
            np.copyto(t._data, new._data)
        _adopt(new, t._data)
        if _THROUGH:  # the write of a view's op (_through_base): numbered at the outermost op
            _mark(t, _THROUGH[0][1], [n for e in _THROUGH for n in e[2]] + list(nodes))
        elif not alone:
            _mark(t, stamp, nodes)
    else:  # a read-only array (a broadcast view): the tensor takes an array of its own
        t._data = new._data.copy()
        _adopt(new, t._data)
    _take(t, new, old, stamp)
    if write:
        _refresh_views(t)


def _take(t, new, old, stamp):
    """``t`` takes ``new``'s node (and becomes that node's output); its history before stays
    with ``old``, listed for the nodes recorded before ``stamp`` (``autograd.as_read``)."""
    t._versions = (t._versions or []) + [(stamp, old)]
    t._node, t._requires_grad = new._node, new._requires_grad
    if new._node is not None:
        new._node.out_ref = weakref.ref(t)
