"""``jacrev``, ``jacfwd``, ``hessian`` and ``jvp`` as ``torch.func``'s. ``jacrev`` runs on
``tinygrad_norm.autograd.functional`` (one VJP per output element); ``jvp`` and ``jacfwd`` run
in forward mode (``forward_ad``: one forward pass per tangent, ``jacfwd`` one per input
element), and ``hessian`` is ``jacfwd`` of ``jacrev``, as torch's (forward over reverse: the
reverse pass's recorded ops carry the tangents). This module flattens the nested arguments and
results and decides whether the results stay on the caller's graph (see ``_tape.py``).

Where the result must itself be differentiable in reverse mode (grad mode on and a primal or
tangent requires grad: ``jacrev(jacfwd(f))``, a jvp inside a training step), or a dual level is
already open (one level at a time), ``jvp`` and ``jacfwd`` take the reverse-mode route they
had before (the double-vjp trick, recorded), which gives the same values and nests: tangents
are forward mode's only, and they are constants of the reverse pass."""
from __future__ import annotations

import functools

import numpy as np

from .. import autograd_functional as AF
from .. import forward_ad as fwad
from ..autograd import is_grad_enabled
from ..tensor import Tensor
from . import _pytree as tree
from ._grad import argnums_tuple, diff_leaves, regroup, split_aux, substituted
from ._tape import check_tensors, detach_unless, keep_tangents, reaches_outer


class _Flat:
    """``func`` as autograd.functional wants it: flat tuples of Tensors in and out. Remembers the
    fresh leaves it was called with, the output structure and the aux."""

    def __init__(self, func, args, kwargs, nums, specs, has_aux, what):
        self.func, self.args, self.kwargs = func, args, kwargs
        self.nums, self.specs, self.has_aux, self.what = nums, specs, has_aux, what
        self.own, self.out_spec, self.aux = set(), None, None
        self.independent = False  # an output that does not depend on the inputs

    def __call__(self, *flat, originals=None):
        self.own.update(id(t) for t in flat if t._node is None)
        if originals is not None:  # an open level's tangents survive the fresh copies
            keep_tangents(flat, originals)
        args = substituted(self.args, self.nums, regroup(list(flat), self.specs, False))
        out = self.func(*args, **self.kwargs)
        out, self.aux = split_aux(out, self.has_aux, self.what)
        outs, self.out_spec = tree.flatten(out)
        for o in outs:
            if not isinstance(o, Tensor):
                raise TypeError(f"{self.what}: Expected f(*args) to return only Tensors, got "
                                f"{type(o)}")
        self.independent = any(not o.requires_grad for o in outs)
        return tuple(outs)


def _jacobian(func, argnums, has_aux, args, kwargs, what):
    nums = argnums_tuple(argnums, len(args))
    leaves, specs = diff_leaves(args, nums)
    flat = _Flat(func, args, kwargs, nums, specs, has_aux, what)
    # recorded whenever grad mode is on: whether the caller's graph is reached is known only
    # after the forward, which autograd.functional runs itself; detached below if it is not
    table = AF.jacobian(_with_tangents(flat, leaves), tuple(leaves),
                        create_graph=is_grad_enabled())
    aux_leaves, aux_spec = tree.flatten(flat.aux)
    keep = reaches_outer([t for row in table for t in row] + aux_leaves, flat.own)
    single = isinstance(argnums, int)
    rows = [regroup(detach_unless(list(row), keep), specs, single) for row in table]
    jac = tree.unflatten(rows, flat.out_spec)
    if has_aux:
        return jac, tree.unflatten(detach_unless(aux_leaves, keep), aux_spec)
    return jac


def _with_tangents(flat, leaves):
    """``flat`` called so that the copies it is given keep the tangents of ``leaves`` (an open
    dual level: forward over reverse). Plain ``flat`` when there are none."""
    if fwad._token is None:
        return flat
    return lambda *xs: flat(*xs, originals=leaves)


def _reverse_only(leaves):
    """Whether a forward-mode result could not serve: it must be differentiable in reverse
    mode (tangents are constants there), or a level is already open (one at a time)."""
    return fwad._token is not None or (is_grad_enabled() and any(t.requires_grad for t in leaves))


def _forward_columns(func, args, kwargs, nums, leaves, specs, has_aux, what):
    """``jacfwd``'s Jacobian in forward mode: one forward pass per input element, its tangent
    the matching basis vector; the output tangents are the Jacobian's columns."""
    cols, outs, aux, out_spec = [], None, None, None
    for k, leaf in enumerate(leaves):
        n = leaf._data.size
        leaf_cols = []
        for j in range(max(n, 1)):
            basis = np.zeros(leaf._data.size, leaf._data.dtype)
            if n:
                basis[j] = 1
            with fwad.dual_level():
                duals = list(leaves)
                duals[k] = fwad.make_dual(leaf.detach(), Tensor._wrap(basis.reshape(leaf.shape)))
                args_j = substituted(args, nums, regroup(duals, specs, False))
                out = func(*args_j, **kwargs)
                out, aux_j = split_aux(out, has_aux, what)
                outs_j, out_spec = tree.flatten(out)
                _check_outputs(outs_j, what)
                pairs = [fwad.unpack_dual(o) for o in outs_j]
            if outs is None:
                if _on_caller_graph(pairs):
                    return None  # the caller differentiates the Jacobian: reverse mode
                outs, aux = [p.primal.detach() for p in pairs], aux_j
            leaf_cols.append([np.zeros(p.primal.shape, p.primal.dtype) if p.tangent is None
                              else p.tangent._data for p in pairs])
        cols.append(leaf_cols)
    table = []  # table[i][k]: output i by input leaf k
    for i, o in enumerate(outs):
        row = []
        for k, leaf in enumerate(leaves):
            stacked = np.stack([c[i] for c in cols[k]], axis=-1) if leaf._data.size else \
                np.zeros(o.shape + (0,), o.dtype)
            row.append(Tensor._wrap(stacked.reshape(o.shape + leaf.shape)))
        table.append(row)
    return table, out_spec, aux


def _on_caller_graph(pairs):
    """Whether the outputs reach a tensor of the caller's that requires grad (a parameter in
    ``func``'s closure): the results must then be differentiable, which a tangent (a constant
    of the reverse pass) is not, and the transform runs ``func`` again in reverse mode (a
    dropout inside draws twice)."""
    return is_grad_enabled() and any(p.primal.requires_grad for p in pairs)


def _check_outputs(outs, what):
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"{what}: Expected f(*args) to return only Tensors, got {type(o)}")


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None):
    """A function returning the Jacobian of ``func`` with respect to the arguments at
    ``argnums``: for each output leaf and input leaf a Tensor of shape ``out.shape + in.shape``,
    nested as the output, then as the arguments; ``(jacobian, aux)`` with ``has_aux``.
    ``chunk_size`` is accepted for torch's signature (checked, one VJP per row regardless)."""
    _check_chunk(chunk_size, "jacrev")
    has_aux = bool(has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return _jacobian(func, argnums, has_aux, args, kwargs, "jacrev(f)(*args)")

    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """As ``jacrev`` (the same Jacobian, computed in reverse mode: there is no forward mode);
    ``randomness`` is checked as vmap's and has no other effect (nothing is batched)."""
    from ._vmap import check_randomness
    check_randomness(randomness)
    has_aux = bool(has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        what = "jacfwd(f)(*args)"
        nums = argnums_tuple(argnums, len(args))
        leaves, specs = diff_leaves(args, nums)
        if _reverse_only(leaves):
            return _jacobian(func, argnums, has_aux, args, kwargs, what)
        found = _forward_columns(func, args, kwargs, nums, leaves, specs, has_aux, what)
        if found is None:
            return _jacobian(func, argnums, has_aux, args, kwargs, what)
        table, out_spec, aux = found
        single = isinstance(argnums, int)
        jac = tree.unflatten([regroup(row, specs, single) for row in table], out_spec)
        return (jac, aux) if has_aux else jac

    return wrapper


def hessian(func, argnums=0):
    """The Hessian of ``func``: ``jacfwd`` of ``jacrev``, as torch's; blocks of shape
    ``out.shape + in_i.shape + in_j.shape``."""
    return jacfwd(jacrev(func, argnums), argnums)


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``(func(*primals), J tangents)`` (and ``aux``): forward mode, one pass of ``func`` on
    dual tensors; where the caller differentiates the result (primals on its graph), the
    double-vjp trick of ``autograd.functional.jvp``, which records it."""
    what = "jvp(f, primals, tangents)"
    if not isinstance(primals, tuple):
        raise TypeError(f"{what}: Expected primals to be a tuple. E.g. it should be valid to "
                        f"call f(*primals).")
    leaves, spec = tree.flatten(primals)
    tleaves, tspec = tree.flatten(tangents)
    if not isinstance(tangents, tuple) or tspec != spec:
        raise ValueError(f"{what}: Expected primals and tangents to have the same python "
                         f"structure. For example, if primals is a tuple of 3 tensors, tangents "
                         f"also must be. Got primals with structure {tree.describe(spec)} and "
                         f"tangents with structure {tree.describe(tspec)}")
    check_tensors(leaves)
    check_tensors(tleaves)
    for p, t in zip(leaves, tleaves):
        if p.shape != t.shape:
            raise ValueError(f"{what}: Expected primals and tangents to have the same shape. "
                             f"Got primal of shape {tuple(p.shape)} and tangent of shape "
                             f"{tuple(t.shape)}")
    nums = tuple(range(len(primals)))
    _, specs = diff_leaves(primals, nums)
    if not _reverse_only(leaves + tleaves):
        found = _forward_jvp(func, leaves, tleaves, spec, bool(strict), bool(has_aux), what)
        if found is not None:
            return found
    flat = _Flat(func, primals, {}, nums, specs, bool(has_aux), what)
    outs, jv = AF.jvp(_with_tangents(flat, leaves), tuple(leaves), tuple(tleaves),
                      create_graph=is_grad_enabled())
    if strict and flat.independent:  # torch's check and words, not autograd.functional's
        raise ValueError(f"{what[:-1]}, strict=True): The output of f is independent of the "
                         f"inputs. This is not allowed with strict=True.")
    aux_leaves, aux_spec = tree.flatten(flat.aux)
    keep = reaches_outer(list(outs) + list(jv) + aux_leaves, flat.own)
    result = (tree.unflatten(detach_unless(list(outs), keep), flat.out_spec),
              tree.unflatten(detach_unless(list(jv), keep), flat.out_spec))
    if has_aux:
        return result + (tree.unflatten(detach_unless(aux_leaves, keep), aux_spec),)
    return result


def _forward_jvp(func, leaves, tleaves, spec, strict, has_aux, what):
    """``jvp`` in forward mode: one pass of ``func`` on dual tensors."""
    with fwad.dual_level():
        duals = [fwad.make_dual(p.detach(), t.detach()) for p, t in zip(leaves, tleaves)]
        out = func(*tree.unflatten(duals, spec))
        out, aux = split_aux(out, has_aux, what)
        outs, out_spec = tree.flatten(out)
        _check_outputs(outs, what)
        pairs = [fwad.unpack_dual(o) for o in outs]
    if _on_caller_graph(pairs):
        return None  # the caller differentiates the result: reverse mode, which records it
    if strict and any(p.tangent is None for p in pairs):
        raise ValueError(f"{what[:-1]}, strict=True): The output of f is independent of the "
                         f"inputs. This is not allowed with strict=True.")
    prims = [p.primal.detach() for p in pairs]
    tans = [Tensor._wrap(np.zeros(p.shape, p.dtype)) if q.tangent is None else q.tangent
            for p, q in zip(prims, pairs)]
    result = (tree.unflatten(prims, out_spec), tree.unflatten(tans, out_spec))
    if has_aux:
        aux_leaves, aux_spec = tree.flatten(aux)
        aux_leaves = [a.detach() if isinstance(a, Tensor) else a for a in aux_leaves]
        return result + (tree.unflatten(aux_leaves, aux_spec),)
    return result


def _check_chunk(chunk_size, fn):
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int)
                                   or chunk_size <= 0):
        raise ValueError(f"{fn}: `chunk_size` should be greater than 0.")
