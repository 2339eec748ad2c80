"""``jacrev``, ``jacfwd``, ``hessian`` and ``jvp`` as ``torch.func``'s, on top of
``tinygrad_norm.autograd.functional`` (one VJP per output element; a JVP by the double-vjp
trick): this module only flattens the nested arguments and results for it, and decides whether
the results stay on the caller's graph (see ``_tape.py``).

There is no forward mode here: ``jacfwd`` computes the same Jacobian in reverse mode, and
``hessian`` is ``jacrev`` of ``jacrev`` (torch's is ``jacfwd`` of ``jacrev``: same values)."""
from __future__ import annotations

import functools

from .. import autograd_functional as AF
from ..autograd import is_grad_enabled
from ..tensor import Tensor
from . import _pytree as tree
from ._grad import argnums_tuple, diff_leaves, regroup, split_aux, substituted
from ._tape import check_tensors, detach_unless, reaches_outer


class _Flat:
    """``func`` as autograd.functional wants it: flat tuples of Tensors in and out. Remembers the
    fresh leaves it was called with, the output structure and the aux."""

    def __init__(self, func, args, kwargs, nums, specs, has_aux, what):
        self.func, self.args, self.kwargs = func, args, kwargs
        self.nums, self.specs, self.has_aux, self.what = nums, specs, has_aux, what
        self.own, self.out_spec, self.aux = set(), None, None
        self.independent = False  # an output that does not depend on the inputs

    def __call__(self, *flat):
        self.own.update(id(t) for t in flat if t._node is None)
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
    table = AF.jacobian(flat, tuple(leaves), create_graph=is_grad_enabled())
    aux_leaves, aux_spec = tree.flatten(flat.aux)
    keep = reaches_outer([t for row in table for t in row] + aux_leaves, flat.own)
    single = isinstance(argnums, int)
    rows = [regroup(detach_unless(list(row), keep), specs, single) for row in table]
    jac = tree.unflatten(rows, flat.out_spec)
    if has_aux:
        return jac, tree.unflatten(detach_unless(aux_leaves, keep), aux_spec)
    return jac


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
        return _jacobian(func, argnums, has_aux, args, kwargs, "jacfwd(f)(*args)")

    return wrapper


def hessian(func, argnums=0):
    """The Hessian of ``func`` (``jacrev`` of ``jacrev``): blocks of shape
    ``out.shape + in_i.shape + in_j.shape``."""
    return jacrev(jacrev(func, argnums), argnums)


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``(func(*primals), J tangents)`` (and ``aux``), by the double-vjp trick of
    ``autograd.functional.jvp``: two reverse passes, no forward mode."""
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
    flat = _Flat(func, primals, {}, nums, specs, bool(has_aux), what)
    outs, jv = AF.jvp(flat, tuple(leaves), tuple(tleaves), create_graph=is_grad_enabled())
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


def _check_chunk(chunk_size, fn):
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int)
                                   or chunk_size <= 0):
        raise ValueError(f"{fn}: `chunk_size` should be greater than 0.")
