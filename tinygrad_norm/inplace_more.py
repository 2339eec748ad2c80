"""torch's in-place spellings still missing from the Tensor: the bitwise and integer ones
(``bitwise_and_``, ``gcd_``, ...), ``ldexp_``, ``heaviside_``, ``float_power_``,
``nextafter_``, ``igamma_``/``igammac_``, ``masked_scatter_``, ``baddbmm_`` and
``absolute_``. Each runs its out-of-place method and writes the result under the rules of
``exp_`` (``Tensor._write_``: recorded on a non-leaf that requires grad, refused on a leaf that
does, a result of a higher kind, such as a float into an integer tensor, a TypeError)."""
from __future__ import annotations

import inspect

from . import _argname
from .tensor import Tensor

__all__ = []  # methods only


def _form(base, *params, keywords=()):
    """``base_(self, *params, *, keywords)``: ``base`` of the same arguments, written in place.
    ``keywords``: (name, default) pairs of keyword-only arguments."""
    name = base + "_"

    def method(self, *args, **kwargs):
        bound = sig.bind(self, *args, **kwargs)
        bound.apply_defaults()
        pos = [bound.arguments[p] for p in params]
        kw = {k: bound.arguments[k] for k, _ in keywords}
        sources = [v for v in (*pos, *kw.values()) if isinstance(v, Tensor)]
        return self._write_(name, lambda t: getattr(t, base)(*pos, **kw), *sources)

    P = inspect.Parameter
    sig = inspect.Signature([P("self", P.POSITIONAL_OR_KEYWORD)] +
                            [P(p, P.POSITIONAL_OR_KEYWORD) for p in params] +
                            [P(k, P.KEYWORD_ONLY, default=d) for k, d in keywords])
    _argname.rename(method, name, f"Tensor.{name}")  # errors name ldexp_, not "method"
    method.__signature__ = sig
    method.__doc__ = f"``{base}`` in place, as ``torch.Tensor.{name}``."
    return method


def float_power_(self, exponent):
    """``float_power`` in place, as torch's: only a float64 tensor can hold its result (torch's
    message otherwise)."""
    if self.dtype.name != "float64":
        raise TypeError(f"the base given to float_power_ has dtype {self.dtype} but the "
                        f"operation's result requires dtype float64")
    sources = (exponent,) if isinstance(exponent, Tensor) else ()
    return self._write_("float_power_", lambda t: t.float_power(exponent), *sources)


_FORMS = [("bitwise_and", "other"), ("bitwise_or", "other"), ("bitwise_xor", "other"),
          ("bitwise_not",), ("bitwise_left_shift", "other"), ("bitwise_right_shift", "other"),
          ("gcd", "other"), ("lcm", "other"), ("ldexp", "other"), ("heaviside", "values"),
          ("nextafter", "other"), ("igamma", "other"), ("igammac", "other"),
          ("masked_scatter", "mask", "source"), ("absolute",)]
for _base, *_params in _FORMS:
    setattr(Tensor, _base + "_", _form(_base, *_params))
Tensor.baddbmm_ = _form("baddbmm", "batch1", "batch2", keywords=(("beta", 1), ("alpha", 1)))
Tensor.float_power_ = float_power_
del _base, _params
