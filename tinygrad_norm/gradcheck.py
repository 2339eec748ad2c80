"""Finite-difference checks of any Tensor function, in float64.

The check projects the outputs on a *random* upstream gradient ``v`` and compares d(v . f)/dx from
the tape with central differences. A plain ``.sum()`` would be cheaper and wrong: the input
gradient of a normalization under ``sum()`` is identically zero, which hides every bug on the
variance path.
"""
from __future__ import annotations

import numbers

import numpy as np

from .autograd import grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """The analytic and the numeric gradient disagree."""


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _outputs(fn, xs):
    """fn's outputs that are not None; anything else but a Tensor is a TypeError here, instead of
    an AttributeError from deep inside the check."""
    outs = [o for o in _as_tuple(fn(*xs)) if o is not None]
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: fn must return a Tensor or a tuple of Tensors, got "
                            f"{type(o).__name__}")
    if not outs:
        raise TypeError("gradcheck: fn returned no Tensor (only None)")
    return outs


def _check_args(fn, eps, atol, rtol, seed):
    if not callable(fn):
        raise TypeError(f"gradcheck: fn must be callable, got {type(fn).__name__}")
    for v, name in ((eps, "eps"), (atol, "atol"), (rtol, "rtol")):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"gradcheck: {name} must be a real number, got {type(v).__name__}")
    if not 0 < eps < float("inf"):  # eps = 0 divides by zero; NaN compares False
        raise ValueError(f"gradcheck: eps must be positive and finite, got {eps}")
    if not (atol >= 0 and rtol >= 0):  # a negative tolerance fails every element
        raise ValueError(f"gradcheck: atol and rtol must be non-negative, got atol={atol}, "
                         f"rtol={rtol}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise TypeError(f"gradcheck: seed must be a non-negative int, got {seed!r}")


def _prepare(inputs):
    if isinstance(inputs, Tensor):
        inputs = [inputs]
    elif isinstance(inputs, (str, bytes)) or not hasattr(inputs, "__iter__"):
        raise TypeError(f"gradcheck: inputs must be a Tensor or a sequence of Tensors, got "
                        f"{type(inputs).__name__}")
    xs = []
    # C order: _numeric perturbs the input through a flat reshape, which is a view (and so
    # reaches the input) only for a C-contiguous array; a transposed input would be a copy.
    for t in inputs:
        if t is None:  # an optional argument left out (a norm's weight): passed on, as torch
            xs.append(None)
            continue
        if isinstance(t, Tensor):
            x = Tensor(np.array(t.data, dtype=np.float64, order="C") if t.dtype.kind == "f"
                       else t.data)
            if t.requires_grad:
                x.requires_grad_(True)
        else:
            try:
                arr = np.array(t, dtype=np.float64, order="C")
            except (TypeError, ValueError):
                raise TypeError(f"gradcheck: input {len(xs)} must be a Tensor or an array of real "
                                f"numbers, got {type(t).__name__}") from None
            x = Tensor(arr, requires_grad=True)
        xs.append(x)
    checked = [i for i, x in enumerate(xs) if x is not None and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; pass tensors with requires_grad=True")
    return xs, checked


def _projected(fn, xs, vs):
    """v . f(xs) as a Tensor (recorded) and the outputs."""
    outs = _outputs(fn, xs)
    total = None
    for o, v in zip(outs, vs):
        term = (o * v).sum() if o.requires_grad else Tensor(float((o.data * v).sum()), dtype=np.float64)
        total = term if total is None else total + term
    return total


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check the first derivatives of ``fn(*inputs)`` against central differences in float64.

    Returns True, or raises ``GradcheckError`` naming the worst element."""
    _check_args(fn, eps, atol, rtol, seed)
    xs, checked = _prepare(inputs)
    rng = np.random.default_rng(seed)
    # the output shapes, with grad on: fn may itself differentiate (a gradient penalty)
    vs = [rng.standard_normal(o.shape) for o in _outputs(fn, xs)]

    total = _projected(fn, xs, vs)
    if total.requires_grad:
        analytic = grad(total, [xs[i] for i in checked], allow_unused=True)
    else:
        analytic = [None] * len(checked)

    worst = None
    for k, i in enumerate(checked):
        a = np.zeros(xs[i].shape) if analytic[k] is None else np.asarray(analytic[k].data, np.float64)
        n = _numeric(fn, xs, i, vs, eps)
        excess = np.abs(a - n) - (atol + rtol * np.abs(n))
        bad = ~(excess <= 0)  # NaN counts as a failure
        if bad.any():
            ranked = np.where(np.isnan(excess), np.inf, excess)  # NaN is the worst, everywhere
            j = np.unravel_index(np.argmax(ranked), a.shape)
            if worst is None or ranked[j] > worst[0]:
                worst = (ranked[j], i, j, a[j], n[j], int(bad.sum()), a.size)
    if worst is not None:
        _, i, j, a, n, count, size = worst
        raise GradcheckError(
            f"gradcheck failed for input {i} at index {tuple(int(v) for v in j)}: analytic {float(a)!r} "
            f"vs numeric {float(n)!r} (abs error {abs(a - n):.3g}; {count} of {size} elements outside "
            f"atol={atol}, rtol={rtol})")
    return True


def _numeric(fn, xs, i, vs, eps):
    x = xs[i].data
    flat = x.reshape(-1)  # a view: writing it perturbs the input in place
    out = np.zeros(x.size)
    # Grad stays enabled: fn may itself differentiate (gradgradcheck's first derivative).
    for k in range(x.size):
        orig = flat[k]
        flat[k] = orig + eps
        fp = _value(fn, xs, vs)
        flat[k] = orig - eps
        fm = _value(fn, xs, vs)
        flat[k] = orig
        out[k] = (fp - fm) / (2 * eps)
    return out.reshape(x.shape)


def _value(fn, xs, vs):
    outs = [o for o in _as_tuple(fn(*xs)) if o is not None]
    return sum(float((o.data * v).sum()) for o, v in zip(outs, vs))


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check second derivatives: gradcheck of x -> d(v . fn(x))/dx, built with create_graph."""
    _check_args(fn, eps, atol, rtol, seed)
    xs, checked = _prepare(inputs)
    rng = np.random.default_rng(seed + 1)
    vs = [rng.standard_normal(o.shape) for o in _outputs(fn, xs)]

    def first_derivative(*args):
        total = _projected(fn, list(args), vs)
        wrt = [args[i] for i in checked]
        if not total.requires_grad:
            return tuple(Tensor.zeros_like(w, dtype=np.float64) for w in wrt)
        gs = grad(total, wrt, create_graph=True, allow_unused=True)
        return tuple(Tensor.zeros_like(w, dtype=np.float64) if g is None else g
                     for g, w in zip(gs, wrt))

    return gradcheck(first_derivative, xs, eps=eps, atol=atol, rtol=rtol, seed=seed + 2)
