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


def _replacements(shown, result):
    """What a group hook hands back for each gradient it showed: ``KEEP`` where the hook returned
    the very Tensor it was shown, None where it returned None (the gradient stops there)."""
    return [GroupHook.KEEP if r is g else r for g, r in zip(shown, result)]


class BackwardHookCall:
    """One call of a module with backward hooks: wraps its inputs and outputs, and runs the
    hooks when their gradients arrive (once per backward through this call). The hooks are the
    ones registered when the call ran, as PyTorch takes them: removing one between forward and
    backward (Grad-CAM's usual order) still runs it for that call."""

    def __init__(self, module):
        self.module = module
        self.pre_hooks = [h for h, _ in (module._backward_pre_hooks or {}).values()]
        self.full_hooks = [h for h, _ in (module._backward_hooks or {}).values()]
        self.grad_outputs = None
        self.n_inputs, self.input_positions, self.input_seqs = 0, None, ()
        self.inputs = ()  # (shape, dtype) of each Tensor argument: zeros where no gradient came

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
        for i, s in zip(positions, seqs):
            if s is not None:
                wrapped[i]._node.hooks = [hook]
        return tuple(wrapped)

    def wrap_outputs(self, out):
        if not isinstance(out, (Tensor, tuple)):
            warnings.warn(f"For backward hooks to be called, module output should be a Tensor or "
                          f"a tuple of Tensors but received {type(out)}", stacklevel=3)
            return out
        single = isinstance(out, Tensor)
        values = (out,) if single else out
        positions = _tensor_positions(values)
        if not (is_grad_enabled() and any(values[i].requires_grad for i in positions)):
            return out
        wrapped, seqs = _wrap(values, positions)
        live = [(i, s) for i, s in zip(positions, seqs) if s is not None]
        hook = GroupHook([s for _, s in live], lambda grads: self._output_grads(
            len(values), live, values, grads))
        for i, _ in live:
            wrapped[i]._node.hooks = [hook]
        if single:
            return wrapped[0]
        return tuple(wrapped) if type(out) is tuple else type(out)(*wrapped)  # a namedtuple

    def _output_grads(self, n, live, values, grads):
        """The output group's hook: the pre-hooks may replace ``grad_output`` (None for an output
        that got no gradient; a None they return sends zeros on); without an input that requires grad, the full hooks run now, with
        ``grad_input`` all None."""
        m = self.module
        shown = [None] * n
        for (i, _), g in zip(live, grads):
            shown[i] = _as_tensor(g)
        shown = tuple(shown)
        result = shown
        for hook in self.pre_hooks:
            r = hook(m, result)
            if r is not None:
                _check_count(r, n, "pre hook", "grad_output")
                result = tuple(r)
        self.grad_outputs = result
        if self.input_positions is None and self.full_hooks:
            warnings.warn("Full backward hook is firing when gradients are computed with respect "
                          "to module outputs since no inputs require gradients.", stacklevel=2)
            none = (None,) * self.n_inputs
            for hook in self.full_hooks:
                r = hook(m, none, result)
                if r is not None and not all(v is None for v in r):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
            self.grad_outputs = None
        # a None for an output that had a gradient flows on as zeros: PyTorch's nodes below pass
        # an undefined gradient on and its identity node at the inputs makes zeros of it (the
        # inputs' .grad become zeros, and the full hooks still fire)
        new = [result[i] if result[i] is not None or shown[i] is None else
               Tensor.zeros(*values[i].shape, dtype=values[i].dtype) for i, _ in live]
        return _replacements([shown[i] for i, _ in live], new)

    def _input_grads(self, grads):
        """The input group's hook: the full hooks see ``grad_input`` (a Tensor for each Tensor
        argument, None for the other arguments) and may replace it; a None they return stops
        that gradient. Skipped where the gradient did not come through the outputs."""
        m = self.module
        if self.grad_outputs is None or not self.full_hooks:
            return [GroupHook.KEEP] * len(grads)
        shown = [None] * self.n_inputs
        by_seq = dict(zip((s for s in self.input_seqs if s is not None), grads))
        for i, s in zip(self.input_positions, self.input_seqs):
            g = by_seq.get(s) if s is not None else None
            if g is None:
                # zeros, as PyTorch's identity node gives, for an argument that does not require
                # grad (an index) or that the forward did not use (a replacement of it has
                # nowhere to go and is dropped: nothing below reads it)
                shape, dtype = self.inputs[i]
                shown[i] = Tensor.zeros(*shape, dtype=dtype)
            else:
                shown[i] = _as_tensor(g)
        shown = tuple(shown)
        result = shown
        for hook in self.full_hooks:
            r = hook(m, result, self.grad_outputs)
            if r is not None:
                _check_count(r, len(result), "hook", "grad_input")
                result = tuple(r)
        self.grad_outputs = None
        live = [i for i, s in zip(self.input_positions, self.input_seqs) if s is not None]
        return _replacements([shown[i] for i in live], [result[i] for i in live])
