"""Gradient checkpointing, as ``torch.utils.checkpoint``: a segment's forward keeps none of its
intermediate values; the backward runs the segment again with grad enabled and differentiates
that recomputation, trading a second forward for the memory of the activations.

Both of torch's variants, on the package's ``autograd.Function`` (the checkpoint is one node on
the tape, its backward the recomputation):

* ``use_reentrant=True`` (torch's default, with its warning, when left None): the forward runs
  under ``no_grad``; the backward recomputes on detached copies of the Tensor arguments and
  runs a nested ``backward()`` through the recomputation, so tensors the function closes over (a
  module's weights) get their gradients accumulated into ``.grad`` as they are reached -- not
  returned by ``tinygrad_norm.grad()``, exactly as torch's reentrant variant.
* ``use_reentrant=False``: the forward runs recorded, the tensors requiring grad that the
  segment read from outside (arguments and closed-over weights alike, leaves or not) are found
  on that graph, and the graph is then dropped; the node's inputs are those tensors, so
  ``tinygrad_norm.grad()`` reaches weights too. The forward of one segment thus holds that
  segment's graph until it ends (torch frees each value as it goes); afterwards nothing stays.

The package generator (``tinygrad_norm.random``) is copied before the forward and put back for
the recomputation (``preserve_rng_state``), so dropout draws the same mask; the caller's
generator continues afterwards as if no recomputation had run. Modules with running statistics
(batch norm) update them twice, in the forward and in the recomputation, as in torch."""
from __future__ import annotations

import contextlib
import copy
import warnings

from .. import random as _random
from ..autograd import _next_seq, _state, enable_grad, grad as _grad
from ..autograd_backward import backward as _backward
from ..autograd_function import Function
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]

_REENTRANT_WARNING = (
    "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
    "use_reentrant=False is recommended, but if you need to preserve the current default "
    "behavior, you can pass use_reentrant=True.")


@contextlib.contextmanager
def _rng_as(saved):
    """Draw from a copy of ``saved`` (the generator at the forward) inside the block; the
    generator in use before it is put back afterwards, untouched."""
    if saved is None:
        yield
        return
    current = _random._generator
    _random._generator = copy.deepcopy(saved)
    try:
        yield
    finally:
        _random._generator = current


def _outputs(out):
    return out if isinstance(out, tuple) else (out,)


def _check_same(before, after, determinism_check):
    """torch's 'default' determinism check: the recomputed outputs have the forward's shapes
    and dtypes (a forward that branches on random draws without ``preserve_rng_state``)."""
    if determinism_check != "default":
        return
    a = [(o._data.shape, o._data.dtype) if isinstance(o, Tensor) else None for o in after]
    if len(a) != len(before) or a != before:
        raise RuntimeError("torch.utils.checkpoint: Recomputed values for the following tensors "
                           f"have different metadata than during the forward pass: the forward "
                           f"gave {before}, the recomputation {a}")


def _roots(outs, grads):
    """The recomputed outputs that carry a gradient, and those gradients."""
    roots, seeds = [], []
    for o, g in zip(outs, grads):
        if isinstance(o, Tensor) and o._requires_grad and g is not None:
            roots.append(o)
            seeds.append(g)
    if not roots:
        raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not "
                           "necessary")
    return roots, seeds


class _Reentrant(Function):
    """Forward under no_grad; backward: recompute on detached inputs, nested backward()."""

    @staticmethod
    def forward(ctx, run, *args):
        ctx.run = run
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        ctx.args = [None if isinstance(a, Tensor) else a for a in args]
        with run.forward_context():
            out = run.function(*args)
        run.meta = [(o._data.shape, o._data.dtype) if isinstance(o, Tensor) else None
                    for o in _outputs(out)]
        return out

    @staticmethod
    def backward(ctx, *grads):
        run, create = ctx.run, _state.enabled  # grad is on here exactly under create_graph
        tensors = iter(ctx.saved_tensors)
        args = []
        for a in ctx.args:
            if a is None:
                t = next(tensors)
                a = t.detach().requires_grad_(t.requires_grad)
            args.append(a)
        with _rng_as(run.rng), enable_grad(), run.recompute_context():
            outs = _outputs(run.function(*args))
        _check_same(run.meta, outs, run.determinism_check)
        roots, seeds = _roots(outs, grads)
        _backward(roots, seeds, create_graph=create)
        return (None, *[a.grad if isinstance(a, Tensor) else None for a in args])


class _NonReentrant(Function):
    """Forward already run (recorded, then dropped); its inputs are the tensors the segment read
    from outside; backward: recompute and ``grad()`` with respect to them."""

    @staticmethod
    def forward(ctx, run, *external):
        ctx.run, ctx.external = run, external
        out, run.out = run.out, None  # the recorded outputs: copied to fresh tensors by apply
        return out

    @staticmethod
    def backward(ctx, *grads):
        run, create = ctx.run, _state.enabled
        with _rng_as(run.rng), enable_grad(), run.recompute_context():
            outs = _outputs(run.function(*run.args, **run.kwargs))
        _check_same(run.meta, outs, run.determinism_check)
        roots, seeds = _roots(outs, grads)
        found = _grad(roots, list(ctx.external), seeds, create_graph=create, allow_unused=True)
        return (None, *found)


class _Run:
    """One checkpointed call: what its recomputation needs."""

    def __init__(self, function, args, kwargs, preserve, context_fn, determinism_check):
        self.function, self.args, self.kwargs = function, args, kwargs
        self.rng = copy.deepcopy(_random._generator) if preserve else None
        self.determinism_check = determinism_check
        self.contexts = context_fn() if context_fn is not None else None
        self.out = self.meta = None

    def forward_context(self):
        return self.contexts[0] if self.contexts else contextlib.nullcontext()

    def recompute_context(self):
        return self.contexts[1] if self.contexts else contextlib.nullcontext()


def _external(outs, start):
    """The tensors requiring grad that the graph of ``outs`` (nodes numbered above ``start``)
    reads from outside it, each once, in the order first met."""
    found, seen_t, seen_n = [], set(), set()
    stack = [o._node for o in outs if isinstance(o, Tensor) and o._node is not None
             and o._node.seq > start]
    for o in outs:  # an argument returned as is: it is its own outside input
        if isinstance(o, Tensor) and o._requires_grad and (o._node is None or o._node.seq < start):
            if id(o) not in seen_t:
                seen_t.add(id(o))
                found.append(o)
    while stack:
        node = stack.pop()
        if id(node) in seen_n:
            continue
        seen_n.add(id(node))
        for t in node.inputs or ():
            if not isinstance(t, Tensor) or not t._requires_grad:
                continue
            below = t._node
            if below is not None and below.seq > start:
                stack.append(below)
            elif id(t) not in seen_t:
                seen_t.add(id(t))
                found.append(t)
    return found


def _checked_args(use_reentrant, determinism_check, debug, context_fn, kwargs, fn):
    if use_reentrant is None:
        warnings.warn(_REENTRANT_WARNING.replace("checkpoint", fn, 1), stacklevel=3)
        use_reentrant = True
    if determinism_check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got "
                         f"{determinism_check}")
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if use_reentrant and (context_fn is not None or debug is not False):
        raise ValueError("Passing `context_fn` or `debug` is only supported when "
                         "use_reentrant=False.")
    if context_fn is not None and not callable(context_fn):
        raise TypeError(f"checkpoint(): context_fn must be callable, got "
                        f"{type(context_fn).__name__}")
    return bool(use_reentrant)


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default",
               debug=False, early_stop=True, preserve_rng_state=True, **kwargs):
    """``function(*args, **kwargs)`` without keeping its intermediate values for backward: the
    backward recomputes them, as ``torch.utils.checkpoint.checkpoint`` (see the module's
    docstring for the two variants). ``kwargs`` reach ``function`` only with
    ``use_reentrant=False``, as in torch; ``debug`` and ``early_stop`` are accepted and change
    nothing (the recomputation always runs to its end)."""
    if not callable(function):
        raise TypeError(f"checkpoint(): function must be callable, got {type(function).__name__}")
    reentrant = _checked_args(use_reentrant, determinism_check, debug, context_fn, kwargs,
                              "checkpoint")
    run = _Run(function, args, kwargs, preserve_rng_state, context_fn, determinism_check)
    if reentrant:
        if _state.enabled and not any(isinstance(a, Tensor) and a._requires_grad for a in args):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                          stacklevel=2)  # torch's: the weights get none either
        return _Reentrant.apply(run, *args)
    if not _state.enabled:  # nothing is recorded: a plain call
        with run.forward_context():
            return function(*args, **kwargs)
    start = _next_seq()  # the segment's nodes are numbered above this
    with run.forward_context():
        out = function(*args, **kwargs)
    outs = _outputs(out)
    external = _external(outs, start)
    if not external:  # nothing to differentiate: nothing to recompute
        return out
    run.meta = [(o._data.shape, o._data.dtype) if isinstance(o, Tensor) else None for o in outs]
    run.out = out
    del out, outs
    return _NonReentrant.apply(run, *external)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (an ``nn.Sequential`` or a list of callables) one after another on
    ``input``, checkpointing ``segments - 1`` runs of ``len(functions) // segments`` of them
    and running the rest plainly, as ``torch.utils.checkpoint.checkpoint_sequential``."""
    from ..nn.container import Sequential

    preserve = kwargs.pop("preserve_rng_state", True)
    if use_reentrant is None:
        warnings.warn(_REENTRANT_WARNING.replace("checkpoint", "checkpoint.checkpoint_sequential",
                                                 1), stacklevel=2)
        use_reentrant = True
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if isinstance(functions, Sequential):
        functions = list(functions.children())
    functions = list(functions)
    if isinstance(segments, bool) or not isinstance(segments, int) or segments < 1:
        raise ValueError(f"checkpoint_sequential(): segments must be a positive int, got "
                         f"{segments!r}")
    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(_chain(functions[start:end + 1]), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return _chain(functions[end + 1:])(input)


def _chain(functions):
    def forward(x):
        for f in functions:
            x = f(x)
        return x
    return forward
