"""What the transforms share: the differentiated inputs as tensors of their own, and whether
a result must stay on the caller's graph.

A transform gives ``func`` its own copies of the inputs it differentiates: a recorded clone of
an input that requires grad (so the caller's graph goes on through it: ``grad(grad(f))``, MAML),
a fresh leaf otherwise. The backward of ``func`` is recorded (``create_graph``) only when its
outputs reach a tensor of the caller's that requires grad -- an input, a parameter captured by
``func``'s closure, an outer transform's copy -- so that the common case (per-sample gradients
of detached parameters) pays for no recorded backward, and nesting still works."""
from __future__ import annotations

from .. import forward_ad as _fwad
from ..autograd import enable_grad, is_grad_enabled
from ..tensor import Tensor


def check_tensors(leaves):
    for t in leaves:
        if not isinstance(t, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(t)}")


def own_copies(leaves):
    """``(copies, ids)``: the tensors ``func`` is called with, and the ids of the fresh leaves
    among them (the ones the caller never sees)."""
    outer = is_grad_enabled()
    copies, own = [], set()
    with enable_grad():
        for t in leaves:
            if outer and t.requires_grad:
                copies.append(t.clone())
            else:
                c = t.detach().requires_grad_()
                own.add(id(c))
                copies.append(c)
    keep_tangents(copies, leaves)
    return copies, own


def reaches_outer(roots, own):
    """Whether the graph of ``roots`` (Tensors) reaches a leaf that requires grad and is not
    one of ``own``: then the caller may differentiate the transform's result, and its backward
    must be recorded. A walk without recursion, as the engine's own."""
    if not is_grad_enabled():
        return False
    stack, seen = [], set()
    for t in roots:
        if isinstance(t, Tensor) and t.requires_grad:
            if t._node is None:
                if id(t) not in own:
                    return True
            else:
                stack.append(t._node)
    while stack:
        node = stack.pop()
        if node.seq in seen:
            continue
        seen.add(node.seq)
        for t in node.inputs or ():
            if type(t) is not Tensor:
                continue
            if t._node is not None:
                stack.append(t._node)
            elif t._requires_grad and id(t) not in own:
                return True
    return False


def detach_unless(tensors, keep):
    """The results as the caller gets them: off the transform's private graph unless they must
    stay on the caller's."""
    if keep:
        return tensors
    out = [t.detach() if isinstance(t, Tensor) else t for t in tensors]
    keep_tangents(out, tensors)
    return out


def keep_tangents(news, olds):
    """Give each of ``news`` (copies, detached results) the forward-mode tangent of the matching
    ``olds``, which detaching drops: a transform inside ``jacfwd`` (forward over reverse)."""
    if _fwad._token is None:
        return
    for n, o in zip(news, olds):
        if isinstance(n, Tensor) and isinstance(o, Tensor) and n is not o \
                and _fwad._tangent_of(o) is not None and _fwad._tangent_of(n) is None:
            n._fw = o._fw


def has_tangents(tensors):
    """Whether a dual level is open and one of ``tensors`` has a tangent there: then a backward
    must be recorded, so that its ops carry the tangents (forward over reverse)."""
    return _fwad._token is not None and any(_fwad._tangent_of(t) is not None for t in tensors)
