"""``grad``, ``grad_and_value`` and ``vjp`` as ``torch.func``'s, on the tape: the function runs
once on the transform's own copies of its inputs (see ``_tape.py``) and ``tinygrad_norm.grad``
differentiates it. The differentiated arguments may be nested (a dict of parameters)."""
from __future__ import annotations

import functools

import numpy as np

from ..autograd import enable_grad, grad as _tape_grad, is_grad_enabled, set_grad_enabled
from ..tensor import Tensor
from . import _pytree as tree
from ._tape import check_tensors, detach_unless, has_tangents, own_copies, reaches_outer


def argnums_tuple(argnums, nargs):
    """``argnums`` as a tuple of non-negative ints, checked with torch's words."""
    if isinstance(argnums, bool) or not isinstance(argnums, (int, tuple)):
        raise TypeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    nums = (argnums,) if isinstance(argnums, int) else argnums
    if not nums:
        raise ValueError("argnums must be non-empty")
    out = []
    for a in nums:
        if isinstance(a, bool) or not isinstance(a, int):
            raise TypeError(f"argnums must be int or Tuple[int, ...], got: {argnums}")
        if not -nargs <= a < nargs:
            raise ValueError(f"Got argnum={a}, but only {nargs} positional inputs")
        out.append(a % nargs)
    if len(set(out)) != len(out):
        raise ValueError(f"argnums must be unique, got {argnums}")
    return tuple(out)


def zeros_for(grads, like):
    """Each None gradient (an input the output does not depend on) as zeros, as torch.func."""
    return [Tensor._wrap(np.zeros(t.shape, t.dtype)) if g is None else g
            for g, t in zip(grads, like)]


def split_aux(out, has_aux, what):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise ValueError(f"{what}: output of function f should be a tuple: (output, aux) if "
                         f"has_aux is True")
    return out


def substituted(args, nums, trees):
    """``args`` with the arguments at ``nums`` replaced by ``trees``."""
    args = list(args)
    for i, t in zip(nums, trees):
        args[i] = t
    return args


def diff_leaves(args, nums):
    """The leaves of the differentiated arguments, flat, and each argument's (count, spec)."""
    leaves, specs = [], []
    for i in nums:
        lv, spec = tree.flatten(args[i])
        check_tensors(lv)
        leaves += lv
        specs.append((len(lv), spec))
    return leaves, specs


def regroup(flat, specs, single):
    """Flat per-leaf results back into one tree per differentiated argument (a tuple of them
    unless ``argnums`` was an int)."""
    out, start = [], 0
    for n, spec in specs:
        out.append(tree.unflatten(flat[start:start + n], spec))
        start += n
    return out[0] if single else tuple(out)


def _grad_and_value(func, argnums, has_aux, args, kwargs):
    what = "grad_and_value(f)(*args)"
    nums = argnums_tuple(argnums, len(args))
    leaves, specs = diff_leaves(args, nums)
    copies, own = own_copies(leaves)
    with enable_grad():
        out = func(*substituted(args, nums, regroup(copies, specs, False)), **kwargs)
    out, aux = split_aux(out, has_aux, what)
    if not isinstance(out, Tensor):
        raise TypeError(f"{what}: Expected f(*args) to return a Tensor, got {type(out)}")
    if out.ndim != 0:
        raise ValueError(f"{what}: Expected f(*args) to return a scalar Tensor, got tensor with "
                         f"{out.ndim} dims. Maybe you wanted to use the vjp or jacrev APIs "
                         f"instead?")
    aux_leaves, aux_spec = tree.flatten(aux)
    keep = reaches_outer([out, *aux_leaves], own)
    record = keep or has_tangents(copies)  # forward over reverse: the VJPs carry the tangents
    grads = [None] * len(copies)
    if out.requires_grad:
        with set_grad_enabled(record):
            grads = _tape_grad(out, copies, create_graph=record, allow_unused=True)
    grads = regroup(detach_unless(zeros_for(grads, copies), keep), specs,
                    isinstance(argnums, int))
    out = detach_unless([out], keep)[0]
    if has_aux:
        return grads, (out, tree.unflatten(detach_unless(aux_leaves, keep), aux_spec))
    return grads, out


def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning ``(gradient, value)`` of ``func`` (whose output is a 0-d Tensor) with
    respect to the arguments at ``argnums``; ``(gradient, (value, aux))`` with ``has_aux``."""
    has_aux = bool(has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return _grad_and_value(func, argnums, has_aux, args, kwargs)

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function returning the gradient of ``func`` (a 0-d Tensor output) with respect to the
    arguments at ``argnums``, in their structure; ``(gradient, aux)`` with ``has_aux``."""
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(func, *primals, has_aux=False):
    """``(func(*primals), vjp_fn)`` (and ``aux`` with ``has_aux``): ``vjp_fn(cotangents)``, the
    cotangents in the structure of the output, returns one gradient per primal, as a tuple. It
    may be called many times (the graph is kept)."""
    what = "vjp(f, *primals)"
    leaves, spec = tree.flatten(primals)
    check_tensors(leaves)
    copies, own = own_copies(leaves)
    with enable_grad():
        out = func(*tree.unflatten(copies, spec))
    out, aux = split_aux(out, has_aux, what)
    outs, out_spec = tree.flatten(out)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"{what}: Expected f(*primals) to return only Tensors, got {type(o)}")
    aux_leaves, aux_spec = tree.flatten(aux)
    keep = reaches_outer(outs + aux_leaves, own)

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):
        cots, cot_spec = tree.flatten(cotangents)
        if cot_spec != out_spec:
            raise ValueError(f"Expected pytree structure of cotangents to be the same as pytree "
                             f"structure of outputs to the function. cotangents: "
                             f"{tree.describe(cot_spec)}, primal output: "
                             f"{tree.describe(out_spec)}")
        check_tensors(cots)
        for i, (c, o) in enumerate(zip(cots, outs)):
            if c.shape != o.shape:
                raise ValueError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                 f"{tuple(c.shape)} and output[{i}] has a shape of "
                                 f"{tuple(o.shape)}.")
        cg = create_graph
        if cg is None:  # on the caller's graph if the outputs or the cotangents are
            cg = is_grad_enabled() and (keep or any(c.requires_grad for c in cots)) \
                or has_tangents(copies + cots)  # forward over reverse
        pairs = [(o, c) for o, c in zip(outs, cots) if o.requires_grad]
        grads = [None] * len(copies)
        if pairs:
            with set_grad_enabled(cg):
                grads = _tape_grad([o for o, _ in pairs], copies, [c for _, c in pairs],
                                   retain_graph=retain_graph, create_graph=cg,
                                   allow_unused=True)
        return tree.unflatten(detach_unless(zeros_for(grads, copies), cg), spec)

    result = tree.unflatten(detach_unless(outs, keep), out_spec)
    if has_aux:
        return result, vjp_fn, tree.unflatten(detach_unless(aux_leaves, keep), aux_spec)
    return result, vjp_fn


