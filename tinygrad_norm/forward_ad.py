"""Forward-mode AD, as ``torch.autograd.forward_ad``: dual tensors carry a tangent beside their
value, and every primitive pushes the tangents of its inputs to its output as it runs.

How tangents flow: a tangent is an ndarray kept on the tensor as ``_fw = (level, array)``. While
a dual level is open, ``tensor._forward`` is ``_propagate``; the Tensor layer's op paths
(``_make``, ``_unary``, ``_binary``) call it after each primitive, and otherwise read one module
global and go on (the whole cost of forward mode when it is off). ``_propagate`` applies the
primitive's hand-written ``jvp`` (ops.py, the forward-mode section), or, for a primitive without
one, ``_fallback``: the VJP is linear in its cotangent ``u``, so ``J t = d/du <vjp(u), t>``, one
recorded VJP and one reverse pass. Composites (the norms, dropout, the losses) get their forward
mode from their primitives, as they get their reverse mode. Forward mode is independent of grad
mode: tangents flow under ``no_grad()`` too, and a reverse pass through dual tensors
differentiates their primal values.

Only one level exists at a time (torch 2.x says nested forward AD "is not supported"); a tangent
made at a level that has since closed is no tangent (its level token no longer matches).
"""
from __future__ import annotations

import sys
import weakref
from collections import namedtuple

import numpy as np

from . import autograd as _ag
from . import inplace_record as _inplace
from . import ops
from .tensor import Tensor

# the module (``tinygrad_norm.tensor`` the attribute is torch's ``tensor()`` function)
_tensor = sys.modules[Tensor.__module__]

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual",
           "UnpackedDualTensor"]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])
UnpackedDualTensor.__doc__ = "``unpack_dual``'s result: the primal and its tangent (or None)."

# The open level's token (a fresh object per level, so that tangents of a closed level are
# recognised as stale without visiting them), or None when no level is open.
_token = None


def enter_dual_level():
    """Open the forward-AD level and return its number (always 0: one level at a time)."""
    global _token
    if _token is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _token = object()
    _tensor._forward = _propagate
    _inplace.rebase = _rebase_dual  # recorded in-place writes carry tangents while a level is open
    return 0


def exit_dual_level(*, level=None):
    """Close the level: every tangent made in it is dropped (unpack_dual then gives None)."""
    global _token
    _check_level(level, "exit_dual_level")
    if _token is None:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    _token = None
    _tensor._forward = None
    _inplace.rebase = _REBASE


class dual_level:
    """Context manager (and decorator, as torch's ``_DecoratorContextManager``): opens the
    forward-AD level on entry and closes it on exit, returning the level number (0)."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with dual_level():
                return fn(*args, **kwargs)
        return wrapper


def _check_level(level, fn):
    if level is None:
        return
    if isinstance(level, bool) or not isinstance(level, int):
        raise TypeError(f"{fn}(): level must be an int or None, got {type(level).__name__}")
    if level != 0 or _token is None:
        raise ValueError(f"Invalid level given to {fn}")


def make_dual(tensor, tangent, *, level=None):
    """A view of ``tensor`` carrying ``tangent`` as its forward gradient at the open level. The
    result is on ``tensor``'s graph (reverse mode goes through it to ``tensor``). The tangent
    is taken in the primal's dtype (torch keeps a float32 tangent of a float64 primal as it is)."""
    if _token is None and level is None:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    _check_level(level, "make_dual")
    if not isinstance(tensor, Tensor):
        raise TypeError(f"make_dual(): tensor must be a Tensor, got {type(tensor).__name__}")
    if not isinstance(tangent, Tensor):
        raise TypeError(f"make_dual(): tangent must be a Tensor, got {type(tangent).__name__}")
    if tensor._data.dtype.kind not in "fc":
        raise ValueError(f"Expected primal to be floating point or complex, but got: "
                         f"{tensor._data.dtype}")
    if tangent._data.dtype.kind not in "fc":
        raise ValueError(f"Expected tangent to be floating point or complex, but got: "
                         f"{tangent._data.dtype}")
    if tangent.shape != tensor.shape:
        raise ValueError(f"Trying to set a forward gradient that has a different size than that "
                         f"of the original Tensor, this is not supported. Tensor is of size "
                         f"{list(tensor.shape)} while the given forward gradient is of size "
                         f"{list(tangent.shape)}.")
    if _tangent_of(tensor) is not None:
        raise RuntimeError("Making a dual Tensor based on a Tensor that already has a forward "
                           "gradient at the same level 0 is not supported.")
    prev, _tensor._forward = _tensor._forward, None  # the view itself pushes no tangent
    try:
        dual = _alias(tensor)
    finally:
        _tensor._forward = prev
    dual._fw = (_token, np.asarray(tangent._data, dtype=tensor._data.dtype))
    if dual._fw[1] is tangent._data:
        _given[id(dual)] = tangent
        weakref.finalize(dual, _given.pop, id(dual), None)
    return dual


# make_dual's tangent Tensor by id of the dual (a Tensor's == is elementwise, so no weak-keyed
# dict), dropped with the dual: unpack_dual gives that object back while the dual still carries
# its array (torch's tutorial asserts ``unpack_dual(make_dual(p, t)).tangent is t``)
_given = {}


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)``: the primal as a view without tangent (on ``tensor``'s graph) and
    the tangent at the open level, or None."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"unpack_dual(): argument 'tensor' must be Tensor, not "
                        f"{type(tensor).__name__}")
    _check_level(level, "unpack_dual")
    tan = _tangent_of(tensor)
    if tan is None:
        return UnpackedDualTensor(tensor, None)
    prev, _tensor._forward = _tensor._forward, None
    try:
        primal = _alias(tensor)
    finally:
        _tensor._forward = prev
    given = _given.get(id(tensor))
    return UnpackedDualTensor(primal, given if given is not None and given._data is tan
                              else Tensor._wrap(tan))


def _alias(t):
    """A view of ``t`` on its graph (reshape returns ``t`` itself for its own shape)."""
    return _tensor._view(t, ops.Reshape, {"shape": t._data.shape})


def _tangent_of(t):
    fw = t._fw if t._fw_view is None else _view_fw(t)
    if fw is None or fw[0] is not _token or _token is None:
        return None
    return fw[1]


# ---- views follow their base's tangent ------------------------------------------------------------
# A view op's output shares its input's memory; a later in-place write into the tensor that owns
# the memory changes the view's values, and, as in torch, its tangent. Tangents are never written
# in place (a view's rule may return a view of its input's tangent), so the view keeps the way
# from its root's tangent (the view ops, in order) and the root's ``_fw`` it was made from; read
# after the root took another ``_fw`` (the write), the way is replayed on the root's new tangent.

def _root_array(a):
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _note_view(op, t, x, kw):
    """``t = op(x)`` shares ``x``'s memory: remember the way from the root's tangent."""
    src = x._fw_view
    if src is None:
        root, path = x, ()
    else:
        root, path = src[0](), src[1]
        if root is None:
            return
    t._fw_view = (weakref.ref(root), path + ((op, kw),), root._fw)


def _view_fw(t):
    """``t._fw``, replayed from its root's tangent where the root was written since."""
    ref, path, seen = t._fw_view
    root = ref()
    if root is None or root._fw is seen:
        return t._fw
    tan = _tangent_of(root)
    if tan is None:
        t._fw = None
    else:
        for op, kw in path:
            tan = op.forward(tan, **kw)
        t._fw = (_token, _fitted(tan, t._data))
    t._fw_view = (ref, path, root._fw)
    return t._fw


# ---- propagation --------------------------------------------------------------------------------

def _propagate(op, t, inputs, arrays, kw, extra):
    """Give ``t`` (the output of primitive ``op`` on ``inputs``) its tangent, if an input has
    one. Called by the Tensor layer only while a level is open."""
    tans = None
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor):
            fw = x._fw if x._fw_view is None else _view_fw(x)
            if fw is not None and fw[0] is _token:
                if tans is None:
                    tans = [None] * len(inputs)
                tans[i] = fw[1]
    if tans is None:
        return
    out = t._data
    if out.dtype.kind not in "fc" or not op.differentiable:
        return  # an integer or boolean result, an index: no tangent, as torch's
    rule = getattr(op, "jvp", None)
    kw = kw or {}
    if rule is not None:
        r = rule(tuple(tans), arrays, out, extra, kw)
    if rule is None or r is NotImplemented:
        r = _fallback(op, tuple(tans), inputs, arrays, out, kw)
    t._fw = (_token, _fitted(r, out))
    x = inputs[0]
    if len(inputs) == 1 and out.base is not None and type(x) is Tensor \
            and _root_array(out) is _root_array(x._data):
        _note_view(op, t, x, kw)


def _fitted(r, out):
    """A rule's result as the output's tangent: zeros for None, the output's dtype (a float32
    graph keeps float32 tangents) and shape. It may share memory with an input's tangent (a
    view's rule is the view): tangents are never written in place, only replaced."""
    if r is None:
        return np.zeros(out.shape, out.dtype)
    r = np.asarray(r)
    if r.dtype != out.dtype:
        r = r.astype(out.dtype)
    if r.shape != out.shape:
        r = np.broadcast_to(r, out.shape).copy()
    return r


def _fallback(op, tans, inputs, arrays, out, kw):
    """``J t`` for a primitive without a forward rule, from its own VJP: ``vjp(u)`` is linear in
    ``u``, so ``<vjp(u), t>`` is a linear function of ``u`` whose gradient is ``J t``. The VJP
    runs recorded (as under create_graph) on constant inputs, then one reverse pass."""
    prev, _tensor._forward = _tensor._forward, None  # the VJP's own ops carry no tangents
    try:
        with _ag.enable_grad():
            args = tuple(Tensor._wrap(a) if isinstance(x, Tensor) else a
                         for x, a in zip(inputs, arrays))
            u = Tensor(np.zeros(out.shape, out.dtype), requires_grad=True)
            needs = tuple(tn is not None for tn in tans)
            grads = op.vjp(u, args, Tensor._wrap(out), None, kw, needs, ops.TG)
            total = None
            for g, tn in zip(grads, tans):
                if tn is None or g is None:
                    continue
                # broadcasting does the sum-to-shape either way: <g, t> over the larger shape
                term = (g * Tensor._wrap(tn)).sum()
                total = term if total is None else total + term
            if total is None or not total.requires_grad:
                return None  # the output does not depend on the inputs with tangents
            (jt,) = _ag.grad(total, u, allow_unused=True)
    finally:
        _tensor._forward = prev
    return None if jt is None else jt._data


# ---- in-place writes ---------------------------------------------------------------------------
# A write into a tensor gives it the tangent of the value it takes (the out-of-place result the
# in-place method computes, or the source it copies). Torch also updates the tangent of the
# tensor a view shares memory with; here a write into a view (or by a view's base) would leave
# the other's tangent behind, so a write into a view is refused while tangents are involved.

def _dual_any(tensors):
    return any(isinstance(x, Tensor) and _tangent_of(x) is not None for x in tensors)


def _check_own_memory(t, name):
    if t._data.base is not None:
        raise RuntimeError(f"{name}: an in-place write into a view of another tensor's memory is "
                           f"not supported in forward-mode AD (the tensor it views would keep "
                           f"its tangent); write into a tensor of its own (clone() it first)")


def in_place_tangent(t, src, name):
    """The ``_fw`` that ``t`` takes with an un-recorded write of ``src``'s values (``src``: the
    out-of-place result, or the copied source; None for constants), checked before the write.
    None where no tangent is involved."""
    if not _dual_any((t, src)):
        return t._fw
    _check_own_memory(t, name)
    if t._data.dtype.kind not in "fc":
        return None
    tan = _tangent_of(src) if isinstance(src, Tensor) else None
    if tan is None:
        return (_token, np.zeros(t._data.shape, t._data.dtype))
    return (_token, np.broadcast_to(tan, t._data.shape).astype(t._data.dtype))


def setitem_tangent(t, index, value):
    """The ``_fw`` of ``t`` after the un-recorded ``t[index] = value``: its tangent (or zeros)
    with ``value``'s tangent (or zeros) at ``index``."""
    if not _dual_any((t, value)):
        return t._fw
    _check_own_memory(t, "item assignment")
    if t._data.dtype.kind not in "fc":
        return None
    old = _tangent_of(t)
    new = np.zeros(t._data.shape, t._data.dtype) if old is None else old.copy()
    vt = _tangent_of(value) if isinstance(value, Tensor) else None
    new[index] = 0 if vt is None else vt
    return (_token, new)


_REBASE = _inplace.rebase


def _rebase_dual(t, name, fn, *args, **kwargs):
    """``inplace_record.rebase`` (a recorded in-place write: ``t`` takes ``fn(old)``'s values
    and history) with the tangents: ``old`` keeps ``t``'s, ``t`` takes the result's."""
    fw, box = t._fw, []

    def run(old):
        if old is not t and old._fw is None:
            old._fw = fw
        r = fn(old)
        box.append(r)
        if t._data.base is not None and (_dual_any((r, old))):
            _check_own_memory(t, name)  # (before the write: rebase writes after fn)
        return r
    out = _REBASE(t, name, run, *args, **kwargs)
    if box and (_dual_any(box[-1:]) or _tangent_of(t) is not None):
        t._fw = (_token, _fitted(_tangent_of(box[-1]), t._data)) \
            if t._data.dtype.kind in "fc" else None
    return out


# ---- custom autograd.Function ---------------------------------------------------------------------

def function_tangents(cls, args):
    """The tangents of a Function call's inputs (Tensors, None where there is none), or None
    when no input has one. A Function whose forward may leave the tape (NumPy inside) needs its
    own rule: without ``jvp`` it is torch's NotImplementedError, checked before the forward."""
    if not _dual_any(args):
        return None
    if getattr(cls, "jvp", None) is None:
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")
    return [Tensor._wrap(_tangent_of(a)) if isinstance(a, Tensor) and _tangent_of(a) is not None
            else None for a in args]


def function_outputs(cls, ctx, tangents, output, ctx_inputs=()):
    """Give a Function call's outputs the tangents of ``cls.jvp(ctx, *tangents)`` (one per
    output, None for none), as torch's."""
    res = cls.jvp(ctx, *tangents)
    outs = output if isinstance(output, tuple) else (output,)
    res = res if isinstance(res, tuple) else (res,)
    if len(res) != len(outs):
        raise TypeError(f"jvp of {cls.__name__} returned {len(res)} tangents for {len(outs)} "
                        f"outputs")
    for o, r in zip(outs, res):
        if not isinstance(o, Tensor) or o._data.dtype.kind not in "fc" \
                or any(o is a for a in ctx_inputs):
            continue  # (an input returned as it is keeps its own tangent)
        if r is None:
            o._fw = None
            continue
        arr = r._data if isinstance(r, Tensor) else np.asarray(r)
        if arr.shape != o._data.shape:
            raise ValueError(f"jvp of {cls.__name__} returned a tangent of shape {arr.shape} "
                             f"for an output of shape {o._data.shape}")
        o._fw = (_token, _fitted(arr, o._data))


# ``import tinygrad_norm.autograd.forward_ad`` as torch's spelling (autograd is a module here)
sys.modules.setdefault(f"{_ag.__name__}.forward_ad", sys.modules[__name__])
_ag.forward_ad = sys.modules[__name__]
