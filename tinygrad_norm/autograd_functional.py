"""``tinygrad_norm.autograd.functional``: derivatives of a Python function of Tensors, as
``torch.autograd.functional`` (``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp``, ``vhp``).

Everything here is reverse mode on the tape, as torch's own: a JVP is the "double vjp" trick
(the gradient of a VJP with respect to its upstream vector, which it depends on linearly), a
Jacobian one VJP per output element. Results mirror the structure of the arguments: a Tensor
where the inputs (outputs) were a Tensor, a tuple where they were a tuple. Without
``create_graph`` the results are detached; with it they stay on the graph (double backward).
"""
from __future__ import annotations

import numpy as np

from .autograd import enable_grad, grad, is_grad_enabled, set_grad_enabled
from .tensor import Tensor, stack

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]

_STRATEGIES = ("forward-mode", "reverse-mode")


def _as_tuple(value, arg, fn):
    """(whether ``value`` was a tuple, it as a tuple of Tensors), or torch's TypeError."""
    if not isinstance(value, tuple):
        if not isinstance(value, Tensor):
            raise TypeError(f"The {arg} given to {fn} must be either a Tensor or a tuple of "
                            f"Tensors but the given {arg} has type {type(value)}.")
        return False, (value,)
    for i, v in enumerate(value):
        if not isinstance(v, Tensor):
            raise TypeError(f"The {arg} given to {fn} must be either a Tensor or a tuple of "
                            f"Tensors but the value at index {i} has type {type(v)}.")
    return True, value


def _unpack(res, was_tuple):
    """The result back in the caller's structure: one flag, or (outputs, inputs) flags for a
    table of results (jacobian, hessian)."""
    if isinstance(was_tuple, tuple):
        outs, ins = was_tuple
        if not ins:
            res = tuple(r[0] for r in res)
        return res if outs else res[0]
    return res if was_tuple else res[0]


def _prepare(tensors, create_graph, need_graph):
    """Inputs as the function sees them: on the caller's graph under create_graph (a recorded
    copy, so its own gradient reaches the caller's tensors), else fresh leaves."""
    out = []
    for t in tensors:
        if create_graph and t.requires_grad:
            out.append(t.clone())
        else:
            d = t.detach()
            out.append(d.requires_grad_(need_graph) if need_graph else d)
    return tuple(out)


def _finish(tensors, create_graph):
    if create_graph:
        return tensors
    return tuple(None if t is None else t.detach() for t in tensors)


def _finish_table(table, create_graph):
    return table if create_graph else tuple(_finish(row, False) for row in table)


def _check_v(v, other, other_tuple):
    if len(v) != len(other):
        if other_tuple:
            raise ValueError(f"v is a tuple of invalid length: should be {len(other)} but got "
                             f"{len(v)}.")
        raise ValueError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, other)):
        if a.shape != b.shape:
            where = f"Entry {i} in " if other_tuple else ""
            raise ValueError(f"{where}v has invalid size: should be {list(b.shape)} but got "
                             f"{list(a.shape)}.")


_STRICT = {
    "outputs": ("Output {i} of the user-provided function does not require gradients. The "
                "outputs must be computed in a differentiable manner from the input when running "
                "in strict mode."),
    "grad_inputs": ("The gradient with respect to input {i} is independent of the inputs of the "
                    "user-provided function. This is not allowed in strict mode."),
    "jacobian": ("While computing the hessian, found that the jacobian of the user-provided "
                 "function with respect to input {i} is independent of the input. This is not "
                 "allowed in strict mode. You should ensure that your function is twice "
                 "differentiable and that the jacobian depends on the inputs (this would be "
                 "violated by a linear function for example)."),
    "hessian": ("The hessian of the user-provided function with respect to input {i} is "
                "independent of the input. This is not allowed in strict mode. You should ensure "
                "that your function is thrice differentiable and that the hessian depends on the "
                "inputs."),
}


def _check_requires_grad(tensors, kind, strict):
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise ValueError(f"The output of the user-provided function is independent of input "
                             f"{i}. This is not allowed in strict mode.")
        if not t.requires_grad:
            raise ValueError(_STRICT[kind].format(i=i))


_MISSING = {
    "back": "The output of the user-provided function is independent of input {i}. This is not "
            "allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This "
                   "is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} "
                         "in the grad_jacobian. This is not allowed in strict mode as it "
                         "prevents from using the double backward trick to replace forward mode "
                         "AD.",
}


def _fill_zeros(grads, refs, strict, create_graph, stage):
    """None gradients as zeros of their reference's shape (or strict mode's error)."""
    out = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise ValueError(_MISSING[stage].format(i=i))
            g = Tensor._wrap(np.zeros(ref.shape, ref.dtype))
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise ValueError(f"The {what} of the user-provided function is independent of "
                             f"input {i}. This is not allowed in strict mode when "
                             f"create_graph=True.")
        out.append(g)
    return tuple(out)


def _grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """``grad`` over the outputs that require grad only; all None if none does."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return grad([o for o, _ in pairs], list(inputs), [g for _, g in pairs],
                retain_graph=retain_graph, create_graph=create_graph, allow_unused=True)


def _zeros_leaf(t):
    return Tensor._wrap(np.zeros(t.shape, t.dtype)).requires_grad_()


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), v^T J)``: the outputs, and the vector-Jacobian product with ``v`` (may be
    None for a single-element output)."""
    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph, True)
        out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                       "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        v = _vector(v, outputs, out_tuple, create_graph, "vjp",
                    "the user-provided function returns a single Tensor with a single element")
        with set_grad_enabled(True if create_graph else is_grad_enabled()):
            res = _grad(outputs, inputs, v, create_graph=create_graph)
            res = _fill_zeros(res, inputs, strict, create_graph, "back")
        outputs, res = _finish(outputs, create_graph), _finish(res, create_graph)
    return _unpack(outputs, out_tuple), _unpack(res, in_tuple)


def _vector(v, like, like_tuple, create_graph, fn, none_ok):
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise ValueError(f"The vector v can only be None if {none_ok}.")
        return None
    _, v = _as_tuple(v, "v", fn)
    v = _prepare(v, create_graph, False)
    _check_v(v, like, like_tuple)
    return v


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), J v)``, by the double-vjp trick as torch (no forward mode needed): the
    VJP with a zero upstream vector ``u`` that requires grad is linear in ``u``; its gradient
    with respect to ``u`` along ``v`` is ``J v``."""
    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph, True)
        v = _vector(v, inputs, in_tuple, create_graph, "jvp",
                    "the input to the user-provided function is a single Tensor with a single "
                    "element")
        out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                       "jvp")
        _check_requires_grad(outputs, "outputs", strict)
        u = tuple(_zeros_leaf(o) for o in outputs)
        grad_inputs = _grad(outputs, inputs, u, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
        res = _grad(grad_inputs, u, v, create_graph=create_graph)
        res = _fill_zeros(res, outputs, strict, create_graph, "back_trick")
        outputs, res = _finish(outputs, create_graph), _finish(res, create_graph)
    return _unpack(outputs, out_tuple), _unpack(res, out_tuple)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: for output i and input j a Tensor of shape
    ``out_i.shape + in_j.shape``, nested as torch's (a Tensor, a tuple, or a tuple of tuples).
    One VJP per output element. ``vectorize=True`` and ``strategy="forward-mode"`` are accepted
    and give the same result the same way (there is no vmap or forward mode here); they keep
    torch's restrictions (no ``strict`` with either, no ``create_graph`` with forward mode)."""
    if strategy not in _STRATEGIES:
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: '
                         'If your function has more outputs than inputs, "forward-mode" tends to '
                         'be more performant. Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                'torch.autograd.functional.jacobian: `create_graph=True` and `strategy="forward-'
                'mode"` are not supported together (yet). Please either set `create_graph=False` '
                'or `strategy="reverse-mode"`.')
        if strict:
            raise ValueError(
                'torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` '
                'are not supported together (yet). Please either set `strict=False` or '
                '`strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse "
                                      "Hessian is only implemented for `vectorize=True`.")
    if vectorize and strict:
        raise ValueError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` "
                         "are not supported together. Please either set `strict=False` or "
                         "`vectorize=False`.")
    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph, True)
        out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                       "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        table = tuple(_jacobian_rows(i, out, inputs, create_graph, strict)
                      for i, out in enumerate(outputs))
        table = _finish_table(table, create_graph)
    return _unpack(table, (out_tuple, in_tuple))


def _jacobian_rows(i, out, inputs, create_graph, strict):
    """d out / d input for each input: one VJP per element of ``out``, seeded with a one-hot
    vector (no indexing node per element)."""
    rows = [[] for _ in inputs]
    for k in range(out.numel()):
        onehot = np.zeros(out.numel(), out.dtype)
        onehot[k] = 1
        vj = _grad((out,), inputs, (onehot.reshape(out.shape),), create_graph=create_graph,
                   retain_graph=True)
        for j, (g, inp) in enumerate(zip(vj, inputs)):
            if g is None:
                if strict:
                    raise ValueError(f"Output {i} of the user-provided function is independent "
                                     f"of input {j}. This is not allowed in strict mode.")
                g = Tensor._wrap(np.zeros(inp.shape, inp.dtype))
            elif strict and create_graph and not g.requires_grad:
                raise ValueError(f"The jacobian of the user-provided function is independent of "
                                 f"input {i}. This is not allowed in strict mode when "
                                 f"create_graph=True.")
            rows[j].append(g)
    return tuple(stack(r, 0).reshape(tuple(out.shape) + tuple(inp.shape)) if r else
                 Tensor._wrap(np.zeros(tuple(out.shape) + tuple(inp.shape), inp.dtype))
                 for r, inp in zip(rows, inputs))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a function with a single-element output: the Jacobian of its gradient,
    nested as torch's (a Tensor for a Tensor input, a tuple of tuples for a tuple)."""
    in_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in _STRATEGIES:
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def scalar_func(*inp):
        out = func(*inp)
        out_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(outs, "outputs", strict)
        if out_tuple or not isinstance(out, Tensor):
            raise ValueError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise ValueError("The Tensor returned by the function given to hessian should "
                             "contain a single element")
        return out.reshape(())

    def jac_func(*inp):
        jac = jacobian(scalar_func, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _unpack(res, (in_tuple, in_tuple))


def _scalar_outputs(func, inputs, fn, strict):
    out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", fn)
    _check_requires_grad(outputs, "outputs", strict)
    if out_tuple:
        raise ValueError(f"The function given to {fn} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise ValueError(f"The Tensor returned by the function given to {fn} should contain a "
                         f"single element")
    return out_tuple, outputs


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), v^T H)`` for a function with a single-element output."""
    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
        inputs = _prepare(inputs, create_graph, True)
        v = _vector(v, inputs, in_tuple, create_graph, "vhp",
                    "the input to the user-provided function is a single Tensor with a single "
                    "element")
        out_tuple, outputs = _scalar_outputs(func, inputs, "vhp", strict)
        jac = _grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        with set_grad_enabled(True if create_graph else is_grad_enabled()):
            res = _grad(jac, inputs, v, create_graph=create_graph)
            res = _fill_zeros(res, inputs, strict, create_graph, "double_back")
        outputs, res = _finish(outputs, create_graph), _finish(res, create_graph)
    return _unpack(outputs, out_tuple), _unpack(res, in_tuple)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), H v)`` for a function with a single-element output, by the double-vjp
    trick as torch (equal to ``vhp`` where the Hessian is symmetric)."""
    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "hvp")
        inputs = _prepare(inputs, create_graph, True)
        v = _vector(v, inputs, in_tuple, create_graph, "hvp",
                    "the input to the user-provided function is a single Tensor with a single "
                    "element")
        out_tuple, outputs = _scalar_outputs(func, inputs, "hvp", strict)
        jac = _grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        u = tuple(_zeros_leaf(t) for t in inputs)
        double_back = _grad(jac, inputs, u, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
        with set_grad_enabled(True if create_graph else is_grad_enabled()):
            res = _grad(double_back, u, v, create_graph=create_graph)
            res = _fill_zeros(res, inputs, strict, create_graph, "double_back_trick")
        outputs, res = _finish(outputs, create_graph), _finish(res, create_graph)
    return _unpack(outputs, out_tuple), _unpack(res, in_tuple)
