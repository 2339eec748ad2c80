"""The optimizer hooks of ``torch.optim.Optimizer``: step pre/post hooks and the state-dict and
load-state-dict pre/post hooks, with PyTorch's call signatures and return rules.

The hooks wrap ``step``, ``state_dict`` and ``load_state_dict`` of ``Optimizer`` and of every
subclass that defines its own (``Optimizer.__init_subclass__``), and run around the outermost call
only: an overriding ``step`` that calls ``super().step()`` fires them once. An optimizer without
hooks pays one dict lookup per call.
"""
from __future__ import annotations

import functools
from collections import OrderedDict

KINDS = ("step_pre", "step_post", "state_dict_pre", "state_dict_post", "load_pre", "load_post")


class RemovableHandle:
    """What a hook registration returns: ``remove()`` unregisters the hook (again: nothing);
    also a context manager. (nn.Module's handle lives in nn, a layer above this one.)"""

    _next_id = 0

    def __init__(self, table):
        self._table = table
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self):
        self._table.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def register(opt, kind, hook, prepend=False):
    """Add ``hook`` to ``opt``'s table of ``kind``; first of all with ``prepend``."""
    if not callable(hook):
        raise TypeError(f"{type(opt).__name__}: a hook must be callable, got "
                        f"{type(hook).__name__}")
    tables = opt.__dict__.get("_hook_tables")
    if tables is None:
        tables = opt.__dict__["_hook_tables"] = {k: OrderedDict() for k in KINDS}
        opt.__dict__["_hooks_running"] = set()
    handle = RemovableHandle(tables[kind])
    tables[kind][handle.id] = hook
    if prepend:
        tables[kind].move_to_end(handle.id, last=False)
    return handle


def hooked(kind, run):
    """A decorator: ``method`` called through ``run(opt, method, args, kwargs, tables)`` when
    ``opt`` has hooks and this is the outermost call of that kind."""
    def wrap(method):
        if getattr(method, "_optimizer_hooks", False):
            return method

        @functools.wraps(method)
        def call(self, *args, **kwargs):
            tables = self.__dict__.get("_hook_tables")
            running = self.__dict__.get("_hooks_running")
            if tables is None or kind in running:
                return method(self, *args, **kwargs)
            running.add(kind)
            try:
                return run(self, method, args, kwargs, tables)
            finally:
                running.discard(kind)
        call._optimizer_hooks = True
        return call
    return wrap


def run_step(opt, method, args, kwargs, tables):
    # As PyTorch, the hooks' ``args`` start with the optimizer itself
    args = (opt,) + args
    for hook in list(tables["step_pre"].values()):
        result = hook(opt, args, kwargs)
        if result is not None:
            if not (isinstance(result, tuple) and len(result) == 2):
                # a RuntimeError, as torch's and as a module's forward pre-hook here: the hook's
                # result is at fault, not an argument of the call
                raise RuntimeError(f"{method} must return None or a tuple of (new_args, "
                                   f"new_kwargs), but got {result}.")
            args, kwargs = result
    out = method(*args, **kwargs)
    for hook in list(tables["step_post"].values()):
        hook(opt, args, kwargs)
    return out


def run_state_dict(opt, method, args, kwargs, tables):
    for hook in list(tables["state_dict_pre"].values()):
        hook(opt)
    state_dict = method(opt, *args, **kwargs)
    for hook in list(tables["state_dict_post"].values()):
        result = hook(opt, state_dict)
        if result is not None:  # a hook may return a new state dict
            state_dict = result
    return state_dict


def run_load(opt, method, args, kwargs, tables):
    state_dict = args[0] if args else kwargs.pop("state_dict")
    if isinstance(state_dict, dict):  # shallow copy, as PyTorch: a hook's edits stay here
        state_dict = dict(state_dict)
    for hook in list(tables["load_pre"].values()):
        result = hook(opt, state_dict)
        if result is not None:
            state_dict = result
    out = method(opt, state_dict, *args[1:], **kwargs)
    for hook in list(tables["load_post"].values()):
        hook(opt)
    return out
