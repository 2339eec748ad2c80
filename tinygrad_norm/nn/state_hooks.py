"""What ``Module.state_dict()`` and ``Module.load_state_dict()`` do for every module of a tree,
in PyTorch's order: its state-dict hooks, its parameters and persistent buffers, and its extra
state (``get_extra_state`` / ``set_extra_state``, under the key ``prefix + '_extra_state'``).

PyTorch recurses; this walks the tree with a stack, so a deep model cannot overflow it. A load
is planned first -- the pre-hooks run, every key is matched and every value checked -- and only
then copied, so a bad state dict changes nothing; the post-hooks, which PyTorch runs on the
loaded module, come after the copy, and a load that still fails then is undone."""
from __future__ import annotations

from collections import OrderedDict

from ..autograd import mark_written
from .module import IncompatibleKeys, Module

__all__ = []  # Module's methods are the way in

EXTRA_STATE_KEY_SUFFIX = "_extra_state"


def _hooks(module, kind):
    # a copy: a hook may remove itself (its handle) while the hooks run
    return list((module.__dict__.get(kind) or {}).values())


def _overrides(module, method):
    """True if the module's class defines ``method`` itself (PyTorch's test for extra state)."""
    return getattr(type(module), method) is not getattr(Module, method)


def _cycle(name, module):
    return ValueError(f"module {name!r} ({type(module).__name__}) contains itself: a module "
                      f"cycle has no finite state dict")


def _enter_leave(root):
    """``(leaving, name, module)``: each module on entering, then its subtree, then the same
    module on leaving -- PyTorch's recursion order, a shared module under each of its names."""
    stack = [(False, "", root, ())]
    while stack:
        leaving, name, m, path = stack.pop()
        if leaving:
            yield True, name, m
            continue
        if id(m) in path:  # without this check a cycle would never end
            raise _cycle(name, m)
        yield False, name, m
        stack.append((True, name, m, path))
        inner = path + (id(m),)
        kids = [(False, f"{name}.{k}" if name else k, c, inner)
                for k, c in m._modules.items() if c is not None]
        stack.extend(reversed(kids))


# ---- saving -------------------------------------------------------------------------------------
def save(root, destination, prefix, keep_vars):
    """Fill ``destination`` as ``root.state_dict`` does, hooks and extra state included."""
    metadata = getattr(destination, "_metadata", None)
    local = {}  # prefix -> the module's metadata, which its post-hooks get and may change
    for leaving, name, m in _enter_leave(root):
        p = f"{prefix}{name}." if name else prefix
        if leaving:
            for hook in _hooks(m, "_state_dict_hooks"):
                if hook(m, destination, p, local[p]) is not None:
                    raise RuntimeError("state_dict post-hook must return None")
            continue
        local[p] = {"version": m._version}
        if metadata is not None:
            metadata[p[:-1]] = local[p]
        for hook in _hooks(m, "_state_dict_pre_hooks"):
            hook(m, p, keep_vars)
        m._save_to_state_dict(destination, p, keep_vars)  # a subclass may override it
    return destination


def save_own(m, destination, p, keep_vars):
    """``Module._save_to_state_dict``: the module's own parameters, persistent buffers and extra
    state (not its children's)."""
    for k, v in m._parameters.items():
        if v is not None:
            destination[p + k] = v if keep_vars else v.detach()
    for k, v in m._buffers.items():
        if v is not None and k not in m._non_persistent:
            destination[p + k] = v if keep_vars else v.detach()
    if _overrides(m, "get_extra_state"):
        destination[p + EXTRA_STATE_KEY_SUFFIX] = m.get_extra_state()


# ---- loading ------------------------------------------------------------------------------------
class _Plan:
    """What a load will do, found before anything changes."""

    def __init__(self):
        self.missing, self.unexpected, self.errors = [], [], []
        self.copies = []  # (key, module, registry, name, tensor, value), values unchecked
        self.extras = []  # (module, its extra state)
        self.post = []  # modules with post-hooks, in the order PyTorch calls them


def plan(root, state_dict, assign):
    """Run the load pre-hooks and match ``state_dict`` to ``root``'s tree, module by module as
    PyTorch: each module sees its own copy of the keys under its prefix (what its parent's
    pre-hooks left), so a pre-hook may rename or drop keys for its subtree."""
    metadata = getattr(state_dict, "_metadata", None)
    sd = OrderedDict(state_dict)  # the caller's dict is left as it was, as PyTorch
    if metadata is not None:  # the root's pre-hooks see it, as PyTorch's
        sd._metadata = metadata
    out = _Plan()
    stack = [(False, "", root, sd, ())]
    while stack:
        leaving, name, m, d, path = stack.pop()
        if leaving:
            if _hooks(m, "_load_state_dict_post_hooks"):
                out.post.append(m)
            continue
        if id(m) in path:
            raise _cycle(name, m)
        p = f"{name}." if name else ""
        meta = dict(metadata.get(p[:-1], {})) if metadata is not None else {}
        if assign:
            meta["assign_to_params_buffers"] = True
        _PLANS.append(out)  # where Module._load_from_state_dict puts this module's copies
        try:
            # strict is always True here, as in PyTorch: the keys are always collected. A
            # subclass may override the method to rename or drop keys in d (its own copy, which
            # its children's are then cut from) before calling the base one, as in PyTorch.
            m._load_from_state_dict(d, p, meta, True, out.missing, out.unexpected, out.errors)
        finally:
            _PLANS.pop()
        stack.append((True, name, m, None, path))
        kids = _child_dicts(m, d, p)
        stack.extend(reversed([(False, p + k, c, kids[k], path + (id(m),))
                               for k, c in m._modules.items() if c is not None]))
    return out


def _own_state(m):
    state = [(k, "_parameters", v) for k, v in m._parameters.items() if v is not None]
    return state + [(k, "_buffers", v) for k, v in m._buffers.items()
                    if v is not None and k not in m._non_persistent]


_PLANS = []  # the plan being made (a stack: a hook may load another module meanwhile)


def plan_own(m, d, p, meta, missing, unexpected, errors):
    """``Module._load_from_state_dict``: run the module's load pre-hooks, then plan its own keys
    into the load being planned; record the missing and unexpected ones in PyTorch's order."""
    if not _PLANS:
        raise RuntimeError(f"{type(m).__name__}._load_from_state_dict: call load_state_dict() "
                           f"(this is the per-module step it runs)")
    out = _PLANS[-1]
    for hook in _hooks(m, "_load_state_dict_pre_hooks"):
        hook(m, d, p, meta, True, missing, unexpected, errors)
    own = _own_state(m)
    optional = getattr(m, "_optional_state", ())  # keys a checkpoint may lack (batch norm's
    for k, reg, t in own:                          # counter): the module keeps its value
        key = p + k
        if key in d:
            out.copies.append((key, m, reg, k, t, d[key]))
        elif k not in optional:
            missing.append(key)
    extra = p + EXTRA_STATE_KEY_SUFFIX
    if _overrides(m, "set_extra_state"):
        if extra in d:
            out.extras.append((m, d[extra]))
        else:
            missing.append(extra)
    elif extra in d:
        unexpected.append(extra)
    names = {k for k, _, _ in own}
    for key in d:
        if not isinstance(key, str):  # only the root's dict can hold one: no module owns it
            unexpected.append(key)
        elif key.startswith(p) and key != extra:
            head, dot, _ = key[len(p):].partition(".")
            if (dot and head not in m._modules) or (not dot and head not in names):
                unexpected.append(key)


def _child_dicts(m, d, p):
    """Each child's copy of the keys under its prefix, in ``d``'s order (one pass over ``d``,
    where PyTorch filters it once per child)."""
    kids = {k: {} for k, c in m._modules.items() if c is not None}
    for key, v in d.items():
        if isinstance(key, str) and key.startswith(p):
            head, dot, _ = key[len(p):].partition(".")
            if dot and head in kids:
                kids[head][key] = v
    return kids


def load(root, state_dict, strict, assign, check):
    """``root.load_state_dict(state_dict, strict, assign)``; returns the IncompatibleKeys."""
    todo = plan(root, state_dict, assign)
    if todo.errors:  # what pre-hooks reported
        raise ValueError(f"Error(s) in loading state_dict for {type(root).__name__}:\n\t"
                         + "\n\t".join(map(str, todo.errors)))
    keys = IncompatibleKeys(todo.missing, todo.unexpected)
    if not todo.post:  # only a post-hook could change the keys: fail before any change
        _check_strict(strict, keys)
    values = _checked(todo.copies, check)
    if not todo.post and not todo.extras:
        _copy(values, assign)
        return keys
    # set_extra_state or a post-hook may raise, or a post-hook fail the strict check
    undo = _copy(values, assign, keep_undo=True)
    try:
        for m, state in todo.extras:
            m.set_extra_state(state)
        for m in todo.post:
            for hook in _hooks(m, "_load_state_dict_post_hooks"):
                if hook(m, IncompatibleKeys(todo.missing, todo.unexpected)) is not None:
                    raise RuntimeError(
                        "Hooks registered with ``register_load_state_dict_post_hook`` are not "
                        "expected to return new values, if incompatible_keys need to be "
                        "modified, it should be done inplace.")
        _check_strict(strict, keys)  # after the hooks, which may have changed the keys
    except BaseException:
        undo()
        raise
    return keys


def _checked(copies, check):
    """Every value checked before any is copied: ``check(key, value, tensor, registry)`` gives
    the value to load or raises."""
    return [(m, reg, k, t, check(key, v, t, reg)) for key, m, reg, k, t, v in copies]


def _check_strict(strict, keys):
    if strict and (keys.missing_keys or keys.unexpected_keys):
        raise KeyError(f"load_state_dict: missing keys {keys.missing_keys}, unexpected keys "
                       f"{keys.unexpected_keys}")


def _copy(copies, assign, keep_undo=False):
    """Load the planned values; returns what puts the old ones back (kept only if asked)."""
    if assign:
        old = [(getattr(m, reg), k, getattr(m, reg)[k]) for m, reg, k, _, _ in copies]
        for m, reg, k, t, new in copies:  # the registry itself: a kind never changes
            if reg == "_parameters":
                new.requires_grad_(t.requires_grad)
            getattr(m, reg)[k] = new
        return lambda: [registry.__setitem__(k, t) for registry, k, t in old]
    saved = [(t, t.data, t.data.copy() if t.data.flags.writeable else None)
             for _, _, _, t, _ in copies] if keep_undo else []
    for _, _, _, t, src in copies:
        if t.data.flags.writeable:
            t.data[...] = src
        else:  # a read-only array (a broadcast view, a memory map) cannot take the values
            t.data = src
    mark_written([t for _, _, _, t, _ in copies])
    return lambda: _restore(saved)


def _restore(saved):
    for t, array, values in saved:
        if values is not None:  # written in place
            array[...] = values
        else:  # replaced
            t.data = array
    mark_written([t for t, _, _ in saved])
