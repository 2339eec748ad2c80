"""``vmap`` as ``torch.func.vmap``'s interface, implemented as a LOOP: there are no batching
rules here. ``vmap(f)(x)`` calls ``f`` once per index of the mapped dimension, on the slices
(``select``, on the tape, so gradients flow back to the batched inputs), and stacks the results.
The cost is N calls of ``f``, not one batched call: it gives the per-sample semantics (and
``vmap(grad(f))`` per-sample gradients) without the speed of torch's batched kernels."""
from __future__ import annotations

import functools

import numpy as np

from .. import random as _random
from ..autograd import is_grad_enabled
from ..tensor import Tensor, stack
from . import _pytree as tree

_RANDOMNESS = ("error", "different", "same")


def check_randomness(randomness):
    if randomness not in _RANDOMNESS:
        raise ValueError(f"Only allowed values for randomness are 'error', 'different', or "
                         f"'same'. Got {randomness}")


def _name(func):
    return getattr(func, "__name__", type(func).__name__)


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``func`` mapped over a dimension of its inputs, by a loop (see the module's docstring).
    ``in_dims``: an int, or a (nested) tuple matching the positional arguments, None for an
    argument that is not mapped; keyword arguments are never mapped. ``out_dims``: where the
    mapped dimension goes in each output (None: the output of the first call, taken as the same
    for every item). ``randomness``: 'error' refuses a ``func`` that draws from the generator,
    'different' lets each item draw its own numbers, 'same' restarts the generator at the same
    state for every item. ``chunk_size`` is checked and otherwise ignored (one item at a
    time)."""
    check_randomness(randomness)
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int)
                                   or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        n, dims, leaves, spec = _batched_inputs(func, in_dims, args)
        call = _CALLS[randomness]
        outs = []
        start = _random.generator().bit_generator.state
        for i in range(n):
            items = [t if d is None else t.select(d, i) for t, d in zip(leaves, dims)]
            outs.append(call(func, tree.unflatten(items, spec), kwargs, start))
        return _stacked(func, outs, out_dims)

    return wrapped


def _call_error(func, args, kwargs, _start):
    gen = _random.generator()
    before = gen.bit_generator.state
    out = func(*args, **kwargs)
    if _random.generator() is not gen or gen.bit_generator.state != before:
        gen.bit_generator.state = before  # the draw undone: the caller's run stays reproducible
        raise RuntimeError("vmap: called random operation while in randomness error mode. Please "
                           "either use the 'same' or 'different' randomness flags on vmap or "
                           "perform the randomness operation out of vmap")
    return out


def _call_different(func, args, kwargs, _start):
    return func(*args, **kwargs)


def _call_same(func, args, kwargs, start):
    # every item starts from the state the first one had: the same draws for all of them
    _random.generator().bit_generator.state = start
    return func(*args, **kwargs)


_CALLS = {"error": _call_error, "different": _call_different, "same": _call_same}


def _batched_inputs(func, in_dims, args):
    """(batch size, each leaf's mapped dim or None, leaves, spec), checked with torch's words."""
    head = f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>)"
    if isinstance(in_dims, bool) or not isinstance(in_dims, (int, tuple)):
        raise ValueError(f"{head}: expected `in_dims` to be int or a (potentially nested) tuple "
                         f"matching the structure of inputs, got: {type(in_dims)}.")
    if not args:
        raise ValueError(f"vmap({_name(func)})(<inputs>): got no inputs. Maybe you forgot to add "
                         f"inputs, or you are trying to vmap over a function with no inputs. The "
                         f"latter is unsupported.")
    leaves, spec = tree.flatten(args)
    dims = tree.broadcast_prefix(in_dims, spec)
    if dims is None:
        _, dspec = tree.flatten(in_dims)
        raise ValueError(f"{head}: in_dims is not compatible with the structure of `inputs`. "
                         f"in_dims has structure {tree.describe(dspec)} but inputs has "
                         f"structure {tree.describe(spec)}.")
    for i, (arg, d) in enumerate(zip(leaves, dims)):
        if d is None:
            continue
        if isinstance(d, bool) or not isinstance(d, int):
            raise ValueError(f"{head}: Got in_dim={d} for an input but in_dim must be either an "
                             f"integer dimension or None.")
        if not isinstance(arg, Tensor):
            raise ValueError(f"{head}: Got in_dim={d} for an input but the input is of type "
                             f"{type(arg)}. We cannot vmap over non-Tensor arguments, please use "
                             f"None as the respective in_dim")
        if not -arg.ndim <= d < arg.ndim:
            raise ValueError(f"{head}: Got in_dim={d} for some input, but that input is a Tensor "
                             f"of dimensionality {arg.ndim} so expected in_dim to satisfy "
                             f"-{arg.ndim} <= in_dim < {arg.ndim}.")
        dims[i] = d % arg.ndim
    sizes = [arg.shape[d] for arg, d in zip(leaves, dims) if d is not None]
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(s != sizes[0] for s in sizes):
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sizes} for the mapped dimension")
    if sizes[0] == 0:  # a loop with no call cannot know the outputs' shapes
        raise ValueError("vmap: the mapped dimension has size 0; this vmap is a loop over it "
                         "and cannot find the shapes of the outputs without a call (torch's "
                         "batched vmap can)")
    return sizes[0], dims, leaves, spec


def _stacked(func, outs, out_dims):
    """The per-item outputs as one structure, each leaf stacked at its out_dim."""
    name = _name(func)
    first, spec = tree.flatten(outs[0])

    def incompatible():
        _, dspec = tree.flatten(out_dims)
        return ValueError(f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not "
                          f"compatible with the structure of `outputs`. out_dims has structure "
                          f"{tree.describe(dspec)} but outputs has structure "
                          f"{tree.describe(spec)}.")

    if isinstance(outs[0], Tensor):
        if isinstance(out_dims, tuple) and len(out_dims) == 1:
            dims = list(out_dims)
        elif out_dims is None or (isinstance(out_dims, int) and not isinstance(out_dims, bool)):
            dims = [out_dims]
        else:
            raise incompatible()
    else:
        dims = tree.broadcast_prefix(out_dims, spec)
        if dims is None:
            raise incompatible()
    per_item = [first]
    for o in outs[1:]:
        leaves, s = tree.flatten(o)
        if s != spec:
            raise ValueError(f"vmap({name}, ...): `{name}` returned outputs of different "
                             f"structures for different items ({tree.describe(spec)} and "
                             f"{tree.describe(s)})")
        per_item.append(leaves)
    result = [_stack_leaf(name, out_dims, [p[j] for p in per_item], d)
              for j, d in enumerate(dims)]
    return tree.unflatten(result, spec)


def _stack_leaf(name, out_dims, items, d):
    if d is None:
        return items[0]
    if isinstance(d, bool) or not isinstance(d, int):
        raise ValueError(f"vmap({name}, ..., out_dims={out_dims}): `out_dims` must be an int, "
                         f"None or a python collection of ints representing where in the "
                         f"outputs the vmapped dimension should appear.")
    if not isinstance(items[0], Tensor):
        raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type "
                         f"{type(items[0])}. Did you mean to set out_dims= to None for output?")
    nd = items[0].ndim + 1
    if not -nd <= d < nd:
        raise ValueError(f"vmap({name}, ..., out_dims={out_dims}): out_dim {d} is out of range "
                         f"for outputs of {nd - 1} dims (expected -{nd} <= out_dim < {nd})")
    shapes = {tuple(t.shape) for t in items if isinstance(t, Tensor)}
    if len(shapes) != 1 or not all(isinstance(t, Tensor) for t in items):
        raise ValueError(f"vmap({name}, ...): the calls of `{name}` returned outputs of different "
                         f"shapes {sorted(shapes)}: a loop can only stack equal shapes")
    if is_grad_enabled() and any(t.requires_grad for t in items):
        return stack(items, d % nd)  # on the tape: gradients reach every item
    # nothing to differentiate: one NumPy stack (the tape's stack reshapes each item first)
    return Tensor._wrap(np.stack([t.data for t in items], d % nd))
