"""Which call of the public API, and which of its arguments, a bad value came in through: for
error messages, on the error path only.

The shared checks deep inside the package (``tensor._operand``, ``_axes``, ``_shape_arg``, the
broadcast of ``_binary``) see a bad value but not the call the user wrote: ``tg.add(x, None)``
and ``x.addcdiv(t1, None)`` both end in ``_operand(None)``. Threading the function's and the
argument's name down to them would cost every call on the hot path an extra argument; instead,
once a check has decided to raise, ``caller`` walks up the interpreter's frames to the first one
the package entered (the function the user called) and looks for the parameter that holds the
very same object. Success costs nothing; a failed lookup (the value was converted on the way)
still names the function.
"""
from __future__ import annotations

import sys

_PKG = __name__.rpartition(".")[0] + "."
# Forwarders that take *args/**kwargs and pass them on under the wrapped function's name: the
# frame inside them is the one worth naming (tensor._numpy_names, the in-place wrappers of
# functional.activation, grad modes as decorators, nn.Module.__call__).
_FORWARDERS = frozenset({"wrapper", "run", "inner", "wrapped", "decorated"})
_NOTHING = object()
_VARARGS = 0x04  # inspect.CO_VARARGS
_FORWARDS = 0x04 | 0x08  # CO_VARARGS | CO_VARKEYWORDS: a wrapper's (*args, **kwargs)
_HERE = globals()  # this module's own frames (prefix) are no API call


def _public_name(frame):
    """The name a user knows this frame's function by, or None for a private helper, a lambda,
    a comprehension, a forwarder or an operator (``x + None`` keeps Python's own wording)."""
    code = frame.f_code
    name = code.co_name
    if name.startswith("_torch_"):  # linalg's torch.inverse, torch.pinverse, ... (exported so)
        name = name[len("_torch_"):]
    if name in _FORWARDERS or name.startswith("<"):
        return None
    if name.startswith("_") and name != "__init__":
        return None
    is_method = code.co_argcount and code.co_varnames[0] == "self"
    owner = frame.f_locals.get("self") if is_method else None
    if name == "__init__":  # a constructor by its class: "Tensor", "Linear", "SGD"
        return type(owner).__name__ if owner is not None else None
    if owner is None or type(owner).__name__ == "Tensor":
        return name  # torch names a Tensor method alone: "add()", not "Tensor.add()"
    return f"{type(owner).__name__}.{name}"  # "BCELoss.forward"


def _param_holding(frame, value, prefer):
    """The parameter of the frame's function (``*args`` included) that holds ``value`` itself
    (or, failing that, holds it as an element of a list or tuple):
    one whose name has a word of ``prefer`` in it if any does (small ints are shared objects:
    ``roll(x, shifts=3, dims=3)``'s bad dim 3 is in ``shifts`` too), else the first."""
    code = frame.f_code
    count = code.co_argcount + code.co_kwonlyargcount + bool(code.co_flags & _VARARGS)
    local = frame.f_locals
    params = [n for n in code.co_varnames[:count] if n != "self" and n in local]
    held = [n for n in params if local[n] is value]
    if not held and not isinstance(value, (int, type(None))):
        # an element of a sequence argument: tg.cat([x, "a"]) names 'tensors' (not for ints and
        # None, which are shared objects: x.transpose(5, 0)'s 5 is no proof it is in *axes)
        held = [n for n in params if type(local[n]) in (list, tuple)
                and any(v is value for v in local[n])]
    return next((n for n in held if any(w in n for w in prefer)), held[0] if held else None)


def caller(value=_NOTHING, prefer=()):
    """``(fn, arg)``: the public function of the package that the user's code called (the
    outermost of the package's frames on the stack that has a public name), and its parameter
    that holds ``value`` (None where none does: a value made inside, such as ``dstack``'s axis 2
    for ``concatenate``, has no name the user wrote; an inner function's parameter name would
    be a leak of how the call is built). A forwarder (``*args, **kwargs``: the in-place
    ``add_`` passing them on to ``add``) lends the name its inner call found."""
    frame = sys._getframe(1)
    fn = arg = None
    while frame is not None and frame.f_globals.get("__name__", "").startswith(_PKG):
        name = None if frame.f_globals is _HERE else _public_name(frame)
        if name is not None:
            fn = name
            if value is not _NOTHING and (frame.f_code.co_flags & _FORWARDS) != _FORWARDS:
                arg = _param_holding(frame, value, prefer)
        frame = frame.f_back
    return fn, arg


def rename(fn, name, qualname=None):
    """Give a function made by a factory (``_unary("exp")``) its public name down to its code
    object, whose name is the one frames and tracebacks show (``fn``, ``method`` otherwise)."""
    fn.__code__ = fn.__code__.replace(co_name=name, co_qualname=qualname or name)
    fn.__name__, fn.__qualname__ = name, qualname or name
    return fn


def prefix(value=_NOTHING, what="", prefer=()):
    """``"add(): other"`` for a message about ``value`` (``"add(): <what>"`` when no parameter
    holds it, ``"<what>"`` alone when no public function is on the stack either)."""
    fn, arg = caller(value, prefer)
    return (f"{fn}(): " if fn is not None else "") + (arg if arg is not None else what)


def function_prefix(fallback=""):
    """``"add(): "``: the public function being called, for a message that names no argument
    (``fallback`` when there is none)."""
    fn, _ = caller()
    return f"{fn}(): " if fn is not None else fallback


def head(own, name):
    """A message's head: ``own`` (``"where: "``) when the user called ``name`` itself, else the
    public function that called it (``"masked_fill(): "``): a helper's name is no name the user
    wrote (error path only)."""
    fn, _ = caller()
    return own if fn is None or fn == name else f"{fn}(): "


def called(fn, sep=": "):
    """``head(fn + sep, fn)``: ``"max_pool2d: "``, or ``"max_pool2d_with_indices(): "`` when
    the user called that and it called ``fn``."""
    return head(fn + sep, fn)


_HEAD = None  # the compiled pattern of a message's head, made on the first error


def retitle(e):
    """Make ``e``'s message name the public function being called (error path only): an
    in-place ``clamp_`` runs ``clip`` inside, whose "clip(): ..." is no name the user wrote.
    A head naming another function (``"clip(): "``, ``"clamp_: "``) becomes ``"clamp_(): "``;
    a message naming none gets that head in front; one naming the caller already is kept.
    The exception itself is kept (its type, its traceback): only its first argument changes."""
    global _HEAD
    fn, _ = caller()
    msg = str(e)
    if fn is None or not e.args or not isinstance(e.args[0], str) or msg != e.args[0] \
            or msg.startswith(f"{fn}(): "):
        return e
    if _HEAD is None:
        import re
        _HEAD = re.compile(r"([A-Za-z_][\w.]*)(\(\))?: ")
    m = _HEAD.match(msg)
    if m is not None:
        msg = msg[m.end():]
    elif fn in msg:
        return e  # names the call inside its sentence
    e.args = (f"{fn}(): {msg}",) + e.args[1:]
    return e
