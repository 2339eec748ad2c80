"""``einsum``, as ``torch.einsum``: the equation is parsed and checked here with torch's rules
and wording, and reduced to what the ``ops.Einsum`` primitive takes -- one label per axis of each
operand, one size per label, an explicit output:

* an ellipsis becomes letters the equation does not use (aligned from the right, as broadcast);
* a label repeated within an operand (``"ii->i"``) takes that diagonal first (indexing, whose
  gradient is a scatter back onto the diagonal);
* a size-1 axis whose label is longer elsewhere is dropped from that operand (the operand is
  constant along it, so the sum factors), which is broadcasting without a copy;
* without ``->`` the output is the ellipsis, then the labels used once, in alphabetical order
  (upper case first), as torch and NumPy.
"""
from __future__ import annotations

import string

import numpy as np

from . import ops
from .tensor import Tensor, apply

__all__ = ["einsum"]

_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # torch's label order
_ELL = "."  # an ellipsis in a parsed label list


def _fail(msg):
    raise ValueError(f"einsum(): {msg}")


def _parse_inputs(lhs, num_ops):
    labels, found_ell, i = [[]], False, 0
    while i < len(lhs):
        c = lhs[i]
        if c == " ":
            pass
        elif c == ".":
            if found_ell:
                _fail(f"found '.' for operand {len(labels) - 1} for which an ellipsis was "
                      f"already found")
            if lhs[i:i + 3] != "...":
                _fail(f"found '.' for operand {len(labels) - 1} that is not part of any ellipsis")
            labels[-1].append(_ELL)
            found_ell, i = True, i + 2
        elif c == ",":
            if len(labels) == num_ops:
                _fail("fewer operands were provided than specified in the equation")
            labels.append([])
            found_ell = False
        elif c in _LETTERS:
            labels[-1].append(c)
        else:
            _fail(f"invalid subscript given at index {i} in the equation string, subscripts "
                  f"must be in [a-zA-Z]")
        i += 1
    if len(labels) != num_ops:
        _fail("more operands were provided than specified in the equation")
    return labels


def _parse_output(rhs, offset, counts):
    out, found_ell, i = [], False, 0
    while i < len(rhs):
        c = rhs[i]
        if c == " ":
            pass
        elif c == ".":
            if found_ell:
                _fail("found '.' for output but an ellipsis (...) was already found")
            if rhs[i:i + 3] != "...":
                _fail("found '.' for output that is not part of any ellipsis (...)")
            out.append(_ELL)
            found_ell, i = True, i + 2
        elif c in _LETTERS:
            if c in out:
                _fail(f"output subscript {c} appears more than once in the output")
            if not counts.get(c):
                _fail(f"output subscript {c} does not appear in the equation for any input "
                      f"operand")
            out.append(c)
        else:
            _fail(f"invalid subscript given at index {offset + i} in the equation string, "
                  f"subscripts must be in [a-zA-Z]")
        i += 1
    return out


def _operands(operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])  # torch.einsum("ij,jk", [a, b])
    if not operands:
        raise ValueError("einsum(): must specify the equation string and at least one operand, "
                         "or at least one operand and its subscripts list")
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): expected Tensor as element {i} in argument 1, but got "
                            f"{type(t).__name__}")
    return operands


def einsum(equation, *operands):
    """The sum of products of the operands' elements over the labels that the equation's output
    leaves out, as ``torch.einsum``: ``einsum("ij,jk->ik", a, b)`` is ``a @ b``, ``"ii"`` a
    trace, ``"ii->i"`` a diagonal, ``"...ij->...ji"`` a batched transpose, ``"bi,bj->bij"``
    batched outer products. The operands may also come as one list. Size-1 axes broadcast, as
    torch's. Mixed float32/float64 operands promote to float64 (torch refuses them)."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' (position 1) must be str, not "
                        f"{type(equation).__name__}")
    operands = _operands(operands)
    lhs, arrow, rhs = equation.partition("->")
    labels = _parse_inputs(lhs, len(operands))
    counts, ell_dims = {}, 0
    for i, (labs, t) in enumerate(zip(labels, operands)):
        nd, n = t.data.ndim, sum(c != _ELL for c in labs)
        if _ELL in labs:
            if n > nd:
                _fail(f"the number of subscripts in the equation ({n}) is more than the number "
                      f"of dimensions ({nd}) for operand {i}")
            ell_dims = max(ell_dims, nd - n)
        elif n != nd:
            _fail(f"the number of subscripts in the equation ({n}) does not match the number "
                  f"of dimensions ({nd}) for operand {i} and no ellipsis was given")
        for c in labs:
            if c != _ELL:
                counts[c] = counts.get(c, 0) + 1
    if arrow:
        out = _parse_output(rhs, len(lhs) + 2, counts)
    else:
        out = [_ELL] + sorted(c for c, k in counts.items() if k == 1)
    free = [c for c in _LETTERS if c not in counts]
    if len(free) < ell_dims:
        _fail(f"an ellipsis of {ell_dims} dimensions needs more letters than the "
              f"{len(free)} the equation leaves free")
    ell = free[:ell_dims]
    spelled = [_spell(labs, t.data.ndim, ell) for labs, t in zip(labels, operands)]
    sizes = _sizes(spelled, operands, ell)
    terms, args = [], []
    for labs, t in zip(spelled, operands):
        labs, t = _distinct(labs, t)
        labs, t = _unbroadcast(labs, t, sizes)
        terms.append(labs)
        args.append(t)
    result = "".join(c for o in out for c in (ell if o == _ELL else [o]))
    args = _bool_operands(terms, args, result)
    return apply(ops.Einsum, *args, subscripts=",".join(terms) + "->" + result)


def _bool_operands(terms, args, result):
    """Bool operands as torch takes them: products without a sum stay bool (a logical and);
    one operand summed is counted, int64 (NumPy would or it); a sum of products of several is
    refused, as torch's matrix product refuses bool."""
    if not any(t.data.dtype == np.bool_ for t in args):
        return args
    if not set("".join(terms)) - set(result):
        return args
    if len(args) > 1:
        raise TypeError("einsum(): \"bmm\" not implemented for 'Bool' (as in torch): a sum of "
                        "products of bool operands; cast them to an integer or float dtype")
    return [args[0].astype(np.int64)]


def _spell(labs, nd, ell):
    """The operand's labels with its share of the ellipsis letters (its last ones: ellipsis
    dimensions align from the right, as broadcasting does)."""
    k = nd - sum(c != _ELL for c in labs)
    return "".join(c for x in labs for c in (ell[len(ell) - k:] if x == _ELL else [x]))


def _sizes(spelled, operands, ell):
    sizes = {}
    for i, (labs, t) in enumerate(zip(spelled, operands)):
        mine = {}
        for c, s in zip(labs, t.data.shape):
            if c in mine and mine[c] != s:
                _fail(f"subscript {c} is repeated for operand {i} but the sizes don't match, "
                      f"{s} != {mine[c]}")
            mine[c] = s
            seen = sizes.get(c)
            if seen is not None and s != seen and s != 1 and seen != 1:
                if c in ell:
                    _fail(f"dimension {ell.index(c)} covered by ellipsis in operand {i} has "
                          f"size {s} which does not broadcast with previously seen ellipsis "
                          f"with size {seen} for the respective dimension")
                _fail(f"subscript {c} has size {s} for operand {i} which does not broadcast "
                      f"with previously seen size {seen}")
            if seen is None or seen == 1:
                sizes[c] = s
    return sizes


def _distinct(labs, t):
    """A label repeated within one operand: its diagonal, once per label (first-place order)."""
    if len(set(labs)) == len(labs):
        return labs, t
    uniq = "".join(dict.fromkeys(labs))
    shape = dict(zip(labs, t.data.shape))
    grids = {}
    for k, c in enumerate(uniq):
        g = [1] * len(uniq)
        g[k] = shape[c]
        grids[c] = np.arange(shape[c]).reshape(g)
    return uniq, t[tuple(grids[c] for c in labs)]


def _unbroadcast(labs, t, sizes):
    """Drop the size-1 axes that broadcast against a longer axis of the same label elsewhere."""
    keep = [sizes[c] == s for c, s in zip(labs, t.data.shape)]
    if all(keep):
        return labs, t
    return ("".join(c for c, k in zip(labs, keep) if k),
            t.reshape(tuple(s for s, k in zip(t.data.shape, keep) if k)))
