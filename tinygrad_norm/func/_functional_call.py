"""``functional_call``: run a module with some of its parameters and buffers replaced by given
tensors for one call, as ``torch.func.functional_call``.

The swap writes the given tensors straight into the owning module's ``_parameters`` /
``_buffers`` registries (``Module.__setattr__`` would refuse a plain Tensor as a parameter, and
``__getattr__`` reads those registries, so the forward sees the new tensors and the tape sends
gradients to them). A name in neither registry is set as an attribute, as torch does: that is
how a parametrized tensor (``weight`` of a ``ParametrizedLinear``) goes through its property.
Everything is restored in a ``finally``, so an exception in the forward leaves the module as it
was. The nn layer is imported lazily (``nn.utils`` imports this module), and the flag check
too (``import tinygrad_norm`` loads no ``functional``)."""
from __future__ import annotations

import contextlib

from ..tensor import Tensor

_MISSING = object()  # an attribute the module did not have before the call


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with the named tensors replaced for this call only."""
    fn = "functional_call"
    from ..functional._checks import _flag  # here: importing the package loads no functional
    from ..nn.module import Module
    if not isinstance(module, Module):
        raise TypeError(f"{fn}(): module must be a Module, got {type(module).__name__}")
    given = _merged(parameter_and_buffer_dicts)
    tie_weights, strict = _flag(tie_weights, "tie_weights", fn), _flag(strict, "strict", fn)
    if kwargs is not None and not isinstance(kwargs, dict):
        raise TypeError(f"{fn}(): kwargs must be a dict or None, got {type(kwargs).__name__}")
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    with reparametrized(module, given, tie_weights, strict):
        return module(*args, **(kwargs or {}))


def _merged(dicts):
    """One dict of the given tensors: the dict itself (so that a tensor the forward reassigns
    comes back in it, as torch), or the union of a list/tuple of dicts with distinct keys."""
    if isinstance(dicts, dict):
        return dicts
    if not isinstance(dicts, (list, tuple)):
        raise ValueError(f"Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of "
                         f"dicts, but got {type(dicts)}")
    if not all(isinstance(d, dict) for d in dicts):
        raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
    counts = {}
    for d in dicts:
        for k in d:
            counts[k] = counts.get(k, 0) + 1
    repeated = [k for k, n in counts.items() if n > 1]
    if repeated:
        raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional "
                         f"call is ambiguous")
    return {k: v for d in dicts for k, v in d.items()}


def _named_tensors(module):
    """Every parameter and buffer under each of its names (a tied one under all of them)."""
    yield from module.named_parameters(remove_duplicate=False)
    yield from module.named_buffers(remove_duplicate=False)


def _untied(module, given):
    """``given`` extended to every name tied to a given one: a tied weight stays tied. Two
    different tensors given for names of one tied tensor are refused."""
    names_of = {}
    for name, t in _named_tensors(module):
        names_of.setdefault(id(t), set()).add(name)
    tied = {n: names for names in names_of.values() if len(names) > 1 for n in names}
    out = dict(given)
    for name in given:
        if name not in tied:
            continue
        values = {id(given[n]) for n in tied[name] if n in given}
        if len(values) > 1:
            raise ValueError(f"functional_call got multiple values for keys "
                             f"{sorted(tied[name])}, which are tied. Consider using "
                             f"tie_weights=False")
        for n in tied[name]:
            out[n] = given[name]
    return out


def _check_strict(module, keys):
    valid = {name for name, _ in _named_tensors(module)}
    missing, unexpected = sorted(valid - set(keys)), sorted(set(keys) - valid)
    msgs = []
    if unexpected:
        msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if missing:
        msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
    if msgs:
        # torch raises RuntimeError; a ValueError here, as every bad argument of the package
        raise ValueError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t"
                         + "\n\t".join(msgs))


def _owner(module, name):
    """(the submodule that holds ``name``'s last part, that part), checked as torch's."""
    if not isinstance(name, str):
        raise TypeError(f"functional_call(): the keys must be str, got {type(name).__name__}")
    from ..nn.module import Module
    path, _, attr = name.rpartition(".")
    owner = module
    if path:
        for part in path.split("."):
            try:
                sub = getattr(owner, part)
            except AttributeError:
                raise AttributeError(f"{type(owner).__name__} has no attribute `{part}`") from None
            if not isinstance(sub, Module):
                raise TypeError(f"submodule `{path}`: {sub!r} is not an instance of Module")
            owner = sub
    if not attr:
        raise KeyError('tensor name can\'t be empty string ""')
    return owner, attr


def _current(owner, attr):
    if attr in owner._parameters:
        return owner._parameters[attr]
    if attr in owner._buffers:
        return owner._buffers[attr]
    if not hasattr(owner, attr):
        return _MISSING
    value = getattr(owner, attr)
    if value is not None and not isinstance(value, Tensor):
        raise TypeError(f"attribute `{attr}`: {value!r} is not an instance of Tensor")
    return value


def _put(owner, attr, value):
    """Set one tensor (``_MISSING``: remove it); returns what it replaced."""
    old = _current(owner, attr)
    for reg in (owner._parameters, owner._buffers):
        if attr in reg:  # also a Parameter given for a new name: setattr registered it
            if value is _MISSING:
                del reg[attr]
            else:
                reg[attr] = value
            return old
    if value is _MISSING:
        if hasattr(owner, attr):
            delattr(owner, attr)
    else:
        setattr(owner, attr, value)
    return old


@contextlib.contextmanager
def reparametrized(module, given, tie_weights=True, strict=False):
    """The swap as a context: every check before anything changes, the old tensors back after
    (also on an exception), and the given dict updated with what the forward left in the module
    under its keys (a buffer the forward reassigned), as torch."""
    for k, v in given.items():
        if v is not None and not isinstance(v, Tensor):
            raise TypeError(f"functional_call(): the value of {k!r} must be a Tensor or None, "
                            f"got {type(v).__name__}")
    untied = _untied(module, given) if tie_weights else dict(given)
    if strict:
        _check_strict(module, untied)
    targets = [(name, *_owner(module, name), value) for name, value in untied.items()]
    for _, owner, attr, _ in targets:
        _current(owner, attr)  # its type checked now, before the first swap
    saved = []
    try:
        for name, owner, attr, value in targets:
            saved.append((name, owner, attr, _put(owner, attr, value)))
        yield
    finally:
        final = {}
        for name, owner, attr, old in reversed(saved):
            final[name] = _put(owner, attr, old)
        given.update({k: final[k] for k in given if k in final})
