"""Module backward hooks: ``register_full_backward_hook`` and ``register_full_backward_pre_hook``.

As in PyTorch, one call of a hooked module wraps its positional Tensor arguments, and then its
Tensor outputs, in identity nodes (``ops.Connect``). The outputs' identities receive the
module's output gradients (``grad_output``); the inputs' identities receive the gradients that
flow *through the module* into its inputs (``grad_input``) -- not what the input gets from other
uses, which a hook on the input tensor itself would see. A ``GroupHook`` of the tape shows each
group's gradients to the hooks together, and lets them replace them.
"""
from __future__ import annotations

import warnings

from .. import ops
from ..autograd import GroupHook, is_grad_enabled
from ..tensor import Tensor, apply


def _tensor_positions(values):
    return [i for i, v in enumerate(values) if isinstance(v, Tensor)]


def _wrap(values, positions):
    """The values with each Tensor that requires grad replaced by an identity of it; the
    sequence numbers of the new nodes, in order of ``positions`` (None for the others)."""
    out, seqs = list(values), []
    for i in positions:
        v = values[i]
        if v.requires_grad:
            out[i] = apply(ops.Connect, v)
            seqs.append(out[i]._node.seq)
        else:
            seqs.append(None)
    return out, seqs


def _as_tensor(g):
    return None if g is None else g if isinstance(g, Tensor) else Tensor._wrap(g)


def _check_count(result, expected, what, grads):
    """PyTorch's check of a hook's return value (a Tensor of 3 rows counts as 3 values there)."""
    if not isinstance(result, (tuple, list)) or len(result) != expected:
        got = len(result) if hasattr(result, "__len__") else type(result).__name__
        raise RuntimeError(f"Backward {what} returned an invalid number of {grads}, got {got}, "
                           f"but expected {expected}")


class BackwardHookCall:
    """One call of a module with backward hooks: wraps its inputs and outputs, and runs the
    hooks when their gradients arrive (once per backward through this call)."""

    def __init__(self, module):
        self.module = module
        self.grad_outputs = None
        self.n_inputs, self.input_positions, self.input_seqs = 0, None, ()
        self.inputs = ()  # the wrapped arguments: zeros of their shape where no gradient came

    def wrap_inputs(self, args):
        positions = _tensor_positions(args)
        self.n_inputs = len(args)
        if not (is_grad_enabled() and any(args[i].requires_grad for i in positions)):
            return args  # as PyTorch: grad_input will be all None, the hooks fire at the output
        wrapped, seqs = _wrap(args, positions)
        self.input_positions, self.input_seqs = positions, seqs
        self.inputs = tuple((a.shape, a.dtype) if isinstance(a, Tensor) else None for a in args)
        live = [s for s in seqs if s is not None]
        hook = GroupHook(live, self._input_grads)
        for t in wrapped:
            if isinstance(t, Tensor) and t._node is not None and t._node.seq in live:
                t._node.hooks = [hook]
        return tuple(wrapped)

    def wrap_outputs(self, out):
        single = not isinstance(out, tuple)
        values = (out,) if single else out
        positions = _tensor_positions(values)
        if not (is_grad_enabled() and any(values[i].requires_grad for i in positions)):
            return out
        wrapped, seqs = _wrap(values, positions)
        live = [s for s in seqs if s is not None]
        n = len(values)
        index = {s: i for i, s in zip(positions, seqs) if s is not None}

        def output_grads(grads):
            full = [None] * n
            for s, g in zip(live, grads):
                full[index[s]] = _as_tensor(g)
            return self._output_grads(full, [index[s] for s in live])

        hook = GroupHook(live, output_grads)
        for s in live:
            wrapped[index[s]]._node.hooks = [hook]
        return wrapped[0] if single else type(out)(wrapped) if type(out) is tuple else \
            type(out)(*wrapped)

    def _output_grads(self, grads, live_positions):
        """The output group's hook: the pre-hooks may replace ``grad_output``; without an input
        that requires grad, the full hooks run now, with ``grad_input`` all None."""
        m = self.module
        grads = tuple(grads)
        for hook, _ in list((m._backward_pre_hooks or {}).values()):
            r = hook(m, grads)
            if r is not None:
                _check_count(r, len(grads), "pre hook", "grad_output")
                grads = tuple(r)
        self.grad_outputs = grads
        if self.input_positions is None and m._backward_hooks:
            warnings.warn("Full backward hook is firing when gradients are computed with respect "
                          "to module outputs since no inputs require gradients.", stacklevel=2)
            none = (None,) * self.n_inputs
            for hook, _ in list(m._backward_hooks.values()):
                r = hook(m, none, grads)
                if r is not None and not all(v is None for v in r):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
            self.grad_outputs = None
        return [grads[i] for i in live_positions]

    def _input_grads(self, grads):
        """The input group's hook: the full hooks see ``grad_input`` (a Tensor for each Tensor
        argument, None for the other arguments) and may replace it. Skipped where the gradient
        did not come through the outputs."""
        m = self.module
        if self.grad_outputs is None or not m._backward_hooks:
            return [None] * len(grads)
        full = [None] * self.n_inputs
        by_seq = dict(zip((s for s in self.input_seqs if s is not None), grads))
        for i, s in zip(self.input_positions, self.input_seqs):
            g = by_seq.get(s) if s is not None else None
            if g is None:
                # zeros, as PyTorch's identity node gives, for an argument that does not require
                # grad (an index) or that the forward did not use (a replacement of it has
                # nowhere to go and is dropped: nothing below reads it)
                shape, dtype = self.inputs[i]
                full[i] = Tensor.zeros(*shape, dtype=dtype)
            else:
                full[i] = _as_tensor(g)
        full = tuple(full)
        result = full
        for hook, _ in list(m._backward_hooks.values()):
            r = hook(m, result, self.grad_outputs)
            if r is not None:
                _check_count(r, len(result), "hook", "grad_input")
                result = tuple(r)
        self.grad_outputs = None
        return [result[i] for i, s in zip(self.input_positions, self.input_seqs)
                if s is not None]
