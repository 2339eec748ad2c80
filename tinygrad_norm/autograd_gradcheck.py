"""``torch.autograd.gradcheck`` and ``gradgradcheck`` with torch's keyword arguments, over the
package's checks (gradcheck.py; ``tg.gradcheck`` keeps its own signature, with ``seed``). The "Extending PyTorch" tutorials call them as torch spells
them: ``gradcheck(fn, inputs, eps=1e-6, atol=1e-4)``, and for a Function with a ``jvp``,
``gradcheck(fn, (x,), check_forward_ad=True, check_backward_ad=False,
check_undefined_grad=False, check_batched_grad=False)``. Forward mode is checked here as reverse
mode is there: the tangent along a random direction against central differences. The flags
torch uses to probe its own machinery (undefined gradients, batched gradients, dtypes,
nondeterminism, fast mode) are accepted and not used."""
from __future__ import annotations

import numpy as np

from .gradcheck import GradcheckError, _as_tuple, _prepare
from .gradcheck import gradcheck as _gradcheck, gradgradcheck as _gradgradcheck
from .tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck"]


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False, check_forward_ad=False,
              check_backward_ad=True, fast_mode=False, masked=None):
    """True when the derivatives asked for (reverse mode unless ``check_backward_ad=False``,
    forward mode with ``check_forward_ad``) agree with central differences; otherwise a
    ``GradcheckError`` (an ``AssertionError``), or False with ``raise_exception=False``."""
    try:
        if check_backward_ad:
            _gradcheck(func, inputs, eps=eps, atol=atol, rtol=rtol)
        if check_forward_ad:
            _forward_check(func, inputs, eps, atol, rtol)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """Second derivatives against central differences of the first, as the package's
    ``gradgradcheck`` (a random upstream gradient; ``grad_outputs`` must be None here)."""
    if grad_outputs is not None:
        raise ValueError("gradgradcheck: grad_outputs is not supported here (a random upstream "
                         "gradient is drawn, as torch's default)")
    try:
        _gradgradcheck(func, inputs, eps=eps, atol=atol, rtol=rtol)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _forward_check(func, inputs, eps, atol, rtol):
    from . import forward_ad as fwAD
    xs, checked = _prepare(inputs)
    rng = np.random.default_rng(0)
    for i in checked:
        v = rng.standard_normal(xs[i].shape)
        with fwAD.dual_level():
            args = list(xs)
            args[i] = fwAD.make_dual(xs[i].detach(), Tensor(v))
            outs = [o for o in _as_tuple(func(*args)) if o is not None]
            tangents = [_tangent(fwAD, o) for o in outs]
        plus, minus = _shifted(func, xs, i, v, eps), _shifted(func, xs, i, v, -eps)
        for k, (t, p, m) in enumerate(zip(tangents, plus, minus)):
            numeric = (p - m) / (2 * eps)
            if not np.allclose(t, numeric, atol=atol, rtol=rtol):
                j = np.unravel_index(np.argmax(np.abs(t - numeric)), numeric.shape)
                raise GradcheckError(
                    f"gradcheck (forward mode) failed for input {i}, output {k} at index "
                    f"{tuple(int(a) for a in j)}: tangent {float(t[j])!r} vs numeric "
                    f"{float(numeric[j])!r}")


def _tangent(fwAD, out):
    t = fwAD.unpack_dual(out).tangent
    return np.zeros(out.shape) if t is None else np.asarray(t.data, np.float64)


def _shifted(func, xs, i, v, step):
    args = list(xs)
    args[i] = Tensor(xs[i].data + step * v)
    return [np.asarray(o.data, np.float64) for o in _as_tuple(func(*args))
            if o is not None]
