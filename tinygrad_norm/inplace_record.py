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
requires grad reads them for that tensor's gradient; ``exp_`` reads them for its own): a
``buf[i] = h`` in a loop writes its row without copying the buffer each time.

Not recorded (refused, as before): a leaf that requires grad (torch's rule), and a tensor that
views another tensor's memory (``y[0].add_(1)``, ``y.reshape(4).mul_(2)``): torch rewrites the
base's history through the view, which this tape cannot (the write would reach the base's
values but not its gradient)."""
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
    if t._data.base is None or not write:
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
        if type(s) is Tensor and np.may_share_memory(t._data, s._data):
            raise RuntimeError(
                f"{name}: a view of another tensor ({node.op.name} of it) that requires grad is "
                f"being used in an in-place operation; the write would not reach that tensor's "
                f"gradient, as PyTorch's does. Write into the tensor itself, or use an "
                f"out-of-place op (a new tensor, on the graph)")


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
        raise RuntimeError(f"{name}: a view of a leaf tensor that requires grad is being used "
                           f"in an in-place operation (torch's rule): update the leaf under "
                           f"`with tinygrad_norm.no_grad():`")
    old, new, stamp, tied = _run(t, name, fn, copy_old and write, write)
    alone = alone and not tied  # (y.mul_(y): the new node saved the array itself, and reads it)
    if base is not None:
        return _through_base(t, old, new, stamp, *base)
    _commit(t, new, old, stamp, write, alone)
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
    return old, new, stamp, tied


def _viewed_base(t):
    """``(base, index)`` where ``t`` is ``base[index]`` (basic indexing: a view of ``base``'s
    memory) and ``base`` is on the graph; else None."""
    node = t._node
    if node is None or node.op is not ops.GetItem or not node.kw.get("basic") \
            or t._data.base is None or node.inputs is None:
        return None
    base = node.inputs[0]
    if not np.may_share_memory(t._data, base._data):
        return None
    return base, node.kw["index"]


def _through_base(t, old, new, stamp, base, index):
    """A write into ``base[index]`` that ``t`` views, as torch's: ``base`` takes the new values
    at ``index`` on the tape (its own recorded item assignment, which writes the memory ``t``
    views), and ``t`` becomes ``base[index]`` of that new history."""
    base[index] = new
    fresh = base[index]
    t._versions = (t._versions or []) + [(stamp, old)]
    t._node = fresh._node
    t._requires_grad = fresh._requires_grad
    if fresh._node is not None:
        fresh._node.out_ref = weakref.ref(t)
    return t


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


def _commit(t, new, old, stamp, write, alone=False):
    node = t._node
    if node is not None:
        node.out_ref = weakref.ref(old)
    if not write:
        t._data = new._data
    elif t._data.flags.writeable:
        if new._data is not t._data:  # (an item assignment wrote into it already: SetItem)
            np.copyto(t._data, new._data)
        if not alone:
            mark_written((t,))
    else:  # a read-only array (a broadcast view): the tensor takes an array of its own
        t._data = new._data.copy()
    t._versions = (t._versions or []) + [(stamp, old)]
    t._node = new._node
    t._requires_grad = new._requires_grad
    if new._node is not None:
        new._node.out_ref = weakref.ref(t)
