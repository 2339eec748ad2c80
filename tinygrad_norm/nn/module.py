"""Module and Parameter: the bookkeeping every layer shares.

Attribute assignment registers parameters, buffers and submodules, so ``named_parameters()`` and
``state_dict()`` produce PyTorch's dotted key names (``0.weight``, ``bn.running_mean``).
"""
from __future__ import annotations

import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Mapping, MutableMapping, MutableSet
from contextlib import contextmanager
from typing import TypeVar

import numpy as np

from .. import default_dtype as _dd
from .. import devices as _device
from ..autograd import mark_written
from ..tensor import Tensor
from .backward_hooks import BackwardHookCall


def _check_name(name, fn, what):
    """A registered name: a non-empty str without '.', since state_dict keys join names with '.'
    and one with a dot would not load back (PyTorch's checks; ValueError here, its KeyError)."""
    if not isinstance(name, str):
        raise TypeError(f"{fn}: {what} name must be a str, got {type(name).__name__}")
    if not name or "." in name:
        raise ValueError(f"{fn}: {what} name must be non-empty and contain no '.', got {name!r}")


def _check_free(module, name, registry, fn):
    """A registration must not shadow an attribute of another kind (PyTorch's KeyError; a
    ValueError here, as for a bad name): a name that is both a parameter and a buffer, say,
    would give two state_dict entries under one key."""
    if name not in registry and hasattr(module, name):
        raise ValueError(f"{fn}: attribute {name!r} already exists")


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: unpacks as ``(missing, unexpected)`` and has PyTorch's
    field names."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


class _ParameterMeta(type):
    # A parameter *is* a plain Tensor marked as one: the engine's hot path tests
    # ``type(x) is Tensor``, which a subclass would fail; isinstance() reads the mark instead.
    def __instancecheck__(cls, obj):
        return type(obj) is Tensor and getattr(obj, "_is_param", False)


class Parameter(metaclass=_ParameterMeta):
    """A Tensor that a Module registers as a learnable parameter (``requires_grad=True``)."""

    def __new__(cls, data, requires_grad=True):
        t = Tensor(data.data if isinstance(data, Tensor) else data)
        if t.dtype.kind != "f":
            raise TypeError(f"Parameter: data must be floating point, got dtype {t.dtype}")
        t.requires_grad_(requires_grad)
        t._is_param = True
        return t


class _BufferMeta(type):
    # as Parameter: a plain Tensor with a mark, for the engine's ``type(x) is Tensor`` tests
    def __instancecheck__(cls, obj):
        return type(obj) is Tensor and getattr(obj, "_is_buffer", False)


class Buffer(metaclass=_BufferMeta):
    """A Tensor that a Module registers as a buffer when assigned to an attribute
    (``self.stats = nn.Buffer(t, persistent=False)``), as ``torch.nn.Buffer``: the same as
    ``register_buffer(name, t, persistent)``. ``data`` None is an empty Tensor of the default
    dtype."""

    def __new__(cls, data=None, *, persistent=True):
        if data is not None and not isinstance(data, (Tensor, np.ndarray)):
            raise TypeError(f"Buffer: data must be a Tensor or an ndarray, got "
                            f"{type(data).__name__}")
        t = data.detach() if isinstance(data, Tensor) else Tensor(
            np.zeros(0, _dd.DEFAULT) if data is None else data)
        if isinstance(data, Tensor):
            t.requires_grad_(data.requires_grad)  # as torch: the flag is kept
        t._is_buffer = True
        t.persistent = bool(persistent)
        return t


class RemovableHandle:
    """What the hook registrations return: ``remove()`` unregisters the hook (a second call does
    nothing); also a context manager that removes it on exit, as PyTorch's."""

    _next_id = 0

    def __init__(self, hooks):
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


class Module:
    """Base class of every layer and model. Subclasses define ``forward``."""

    training = True
    # torch's class attributes, read by code that subclasses Module (their meaning there: call
    # Module.__init__ from a subclass's; patch old pickles) -- kept for that code, unused here
    call_super_init = False
    dump_patches = False
    T_destination = TypeVar("T_destination", bound=Mapping)
    # None until a hook is registered; a call pays one attribute read for all of them
    _forward_pre_hooks = None
    _forward_hooks = None
    _backward_pre_hooks = None
    _backward_hooks = None
    _hooked = False
    # the state-dict hooks' registries, likewise None until used
    _state_dict_pre_hooks = None
    _state_dict_hooks = None
    _load_state_dict_pre_hooks = None
    _load_state_dict_post_hooks = None
    _version = 1  # what state_dict() records in its metadata for the module, as PyTorch

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ---- registration ---------------------------------------------------------------------------
    def _registry(self):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__() must call super().__init__() "
                                 f"before assigning parameters, buffers or submodules")
        return self._parameters, self._buffers, self._modules

    def __setattr__(self, name, value):
        if isinstance(value, Parameter):
            params, buffers, modules = self._registry()
            self._check_assigned_name(name, "parameter")
            buffers.pop(name, None)
            self._non_persistent.discard(name)
            modules.pop(name, None)
            self.__dict__.pop(name, None)
            params[name] = value
        elif "_parameters" in self.__dict__ and name in self._parameters:
            # before the Module case, as PyTorch: a module does not silently replace a parameter
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter {name!r} "
                                f"(a Parameter or None is expected)")
            self._parameters[name] = None
        elif isinstance(value, Module):
            params, buffers, modules = self._registry()
            self._check_assigned_name(name, "module")
            buffers.pop(name, None)
            self._non_persistent.discard(name)
            self.__dict__.pop(name, None)
            modules[name] = value
        elif "_buffers" in self.__dict__ and name in self._buffers and not isinstance(value,
                                                                                   Buffer):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r} "
                                f"(a Tensor or None is expected)")
            self._buffers[name] = value
        elif "_modules" in self.__dict__ and name in self._modules:
            if value is not None:  # else the child would stay registered behind the attribute
                raise TypeError(f"cannot assign {type(value).__name__} as child module {name!r} "
                                f"(a Module or None is expected)")
            self._modules[name] = None
        elif isinstance(value, Buffer):  # torch.nn.Buffer: registered with its persistence;
            # after the checks above, as torch: a parameter's or a child's name is refused
            self._registry()[1].pop(name, None)  # re-registered (its persistence may change)
            self.register_buffer(name, value, value.persistent)
        else:
            object.__setattr__(self, name, value)

    def _check_assigned_name(self, name, what):
        """``setattr(m, name, ...)`` takes any string: one with a dot would not load back from a
        state dict, and a class attribute (``eval``, ``forward``) would hide the registered
        value while state_dict still saved it."""
        _check_name(name, "__setattr__", what)
        if hasattr(type(self), name):
            raise ValueError(f"cannot assign a {what} to {name!r}: {type(self).__name__} has a "
                             f"class attribute of that name")

    def __dir__(self):
        # the registered names too, as PyTorch (tab completion finds model.fc1)
        names = set(super().__dir__())
        for reg in ("_parameters", "_buffers", "_modules"):
            names.update(self.__dict__.get(reg, ()))
        return sorted(names)

    def __getattr__(self, name):
        # Called for every parameter, buffer and child a forward reads: the registries are looked
        # up directly (a loop over their names cost ~0.3 us more per access)
        d = self.__dict__
        reg = d.get("_parameters")
        if reg is not None and name in reg:
            return reg[name]
        reg = d.get("_buffers")
        if reg is not None and name in reg:
            return reg[name]
        reg = d.get("_modules")
        if reg is not None and name in reg:
            return reg[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        for reg in (self._parameters, self._buffers, self._modules):
            if name in reg:
                del reg[name]
                # else a later buffer of the same name would silently stay out of state_dict
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        _check_name(name, "register_parameter", "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None")
        params = self._registry()[0]
        _check_free(self, name, params, "register_parameter")
        params[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        _check_name(name, "register_buffer", "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, got "
                            f"{type(tensor).__name__}")
        buffers = self._registry()[1]
        _check_free(self, name, buffers, "register_buffer")
        buffers[name] = tensor
        if persistent:  # re-registering may turn a non-persistent buffer persistent
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        _check_name(name, "add_module", "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module or None")
        modules = self._registry()[2]
        _check_free(self, name, modules, "add_module")
        modules[name] = module

    def register_module(self, name, module):
        """Alias of ``add_module``, as PyTorch's."""
        self.add_module(name, module)

    # ---- traversal -----------------------------------------------------------------------------
    def get_submodule(self, target):
        """The submodule at dotted path ``target`` (``""``: this module), as PyTorch's; its
        ``AttributeError`` names the first missing step."""
        if not isinstance(target, str):
            raise TypeError(f"get_submodule(): target must be a str, got {type(target).__name__}")
        m = self
        for step in target.split(".") if target else ():
            if not hasattr(m, step):
                raise AttributeError(f"{type(m).__name__} has no attribute `{step}`")
            m = getattr(m, step)
            if not isinstance(m, Module):
                raise AttributeError(f"`{step}` is not an nn.Module")
        return m

    def set_submodule(self, target, module, strict=False):
        """Replace (or, unless ``strict``, add) the submodule at dotted path ``target`` with
        ``module``, as PyTorch's: model surgery (``model.set_submodule("layer1.0.conv1",
        nn.Conv2d(...))``). The parent path must exist; what the last name holds, if anything,
        must be a Module."""
        if not isinstance(target, str):
            raise TypeError(f"set_submodule(): target must be a str, got {type(target).__name__}")
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        path, _, name = target.rpartition(".")
        parent = self.get_submodule(path)
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{type(parent).__name__} has no attribute `{name}`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(parent, name, module)

    def _get_registered(self, target, fn, kind, what):
        if not isinstance(target, str):
            raise TypeError(f"{fn}(): target must be a str, got {type(target).__name__}")
        path, _, name = target.rpartition(".")
        m = self.get_submodule(path)
        if not hasattr(m, name):
            raise AttributeError(f"{type(m).__name__} has no attribute `{name}`")
        if name not in getattr(m, kind):
            raise AttributeError(f"`{name}` is not {what}")
        return getattr(m, kind)[name]

    def get_parameter(self, target):
        """The parameter at dotted path ``target`` (``"0.weight"``), as PyTorch's."""
        return self._get_registered(target, "get_parameter", "_parameters", "an nn.Parameter")

    def get_buffer(self, target):
        """The buffer at dotted path ``target`` (``"bn.running_mean"``), as PyTorch's."""
        return self._get_registered(target, "get_buffer", "_buffers", "a buffer")

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Pre-order, children in registration order, iterative. With ``remove_duplicate`` a
        module reachable by two paths comes once, under the first; without, under each (a
        module cycle is then a ValueError). ``memo``, as PyTorch's: a set of modules to skip,
        to which those yielded are added (with ``remove_duplicate``)."""
        if memo is not None and not isinstance(memo, MutableSet):
            raise TypeError(f"named_modules(): memo must be a set of modules or None, got "
                            f"{type(memo).__name__}")
        return self._walk(prefix, remove_duplicate, memo)

    def _walk(self, prefix, remove_duplicate, memo=None):
        # remove_duplicate=False is also state_dict's: a shared layer has its keys under every
        # name, as in PyTorch
        seen = set()  # ids: a module need not be hashable, unless a memo set is given
        stack = [(prefix, self, ())]
        while stack:
            name, m, ancestors = stack.pop()
            if id(m) in seen or (memo is not None and m in memo):
                continue
            if remove_duplicate:
                seen.add(id(m))
                if memo is not None:
                    memo.add(m)
            elif id(m) in ancestors:  # without the seen set a cycle would never end
                raise ValueError(f"module {name!r} ({type(m).__name__}) contains itself: a "
                                 f"module cycle has no finite state dict")
            yield name, m
            inner = ancestors + (id(m),) if not remove_duplicate else ()
            kids = [(f"{name}.{k}" if name else k, c, inner)
                    for k, c in m._modules.items() if c is not None]
            stack.extend(reversed(kids))

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_children(self):
        seen = set()  # a child registered under two names comes once, as in PyTorch
        for k, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield k, m

    def children(self):
        return (m for _, m in self.named_children())

    def _named(self, reg, prefix, recurse, remove_duplicate):
        seen = set()
        mods = self._walk(prefix, remove_duplicate) if recurse else [(prefix, self)]
        for mname, m in mods:
            for k, v in getattr(m, reg).items():
                if v is None or id(v) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(v))
                yield (f"{mname}.{k}" if mname else k), v

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """Parameters by dotted name; a shared one once, under its first name, unless
        ``remove_duplicate`` is False (then under each, as PyTorch)."""
        return self._named("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        return (b for _, b in self.named_buffers(recurse=recurse))

    # ---- modes and gradients ---------------------------------------------------------------------
    def train(self, mode=True):
        if isinstance(mode, np.bool_):
            mode = bool(mode)
        if not isinstance(mode, bool):
            raise TypeError(f"train(): mode must be a bool, got {type(mode).__name__}")
        stack, seen = [self], set()
        while stack:  # iterative; the seen set ends a module cycle
            m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            if m is not self and type(m).train is not Module.train:
                # an override (e.g. one keeping a frozen batch norm in eval) owns its subtree,
                # as in PyTorch, where every module's train() calls its children's
                m.train(mode)
                continue
            object.__setattr__(m, "training", mode)
            stack.extend(m.children())
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad.data[...] = 0
                mark_written((p.grad,))

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` on every parameter (PyTorch's argument name; positional calls
        as before)."""
        if not isinstance(requires_grad, (bool, np.bool_)):  # checked before any changes
            raise TypeError(f"requires_grad_(): argument 'requires_grad' must be bool, not "
                            f"{type(requires_grad).__name__}")
        for p in self.parameters():
            p.requires_grad_(bool(requires_grad))
        return self

    def cpu(self):
        """Itself (there is one device), as PyTorch's ``cpu()`` of a CPU module."""
        return self

    def to_empty(self, *, device, recurse=True):
        """torch's ``to_empty``: every parameter and buffer (of submodules too with
        ``recurse``) given a new array of its shape and dtype, left uninitialized by torch --
        zeros here, as ``tg.empty``; the same Tensor objects, so an optimizer holding them sees
        the new arrays. ``device`` must be the CPU (or None); returns self."""
        _device.check_device(device, "to_empty()")
        modules = self.modules() if recurse else (self,)
        for m in modules:
            for reg in (m._parameters, m._buffers):
                for t in reg.values():
                    if t is not None:
                        t._data = np.zeros(t.shape, t.dtype)
                        t.grad = None
        return self

    def compile(self, *args, **kwargs):
        """Nothing: ``tg.compile`` runs a model eagerly, so compiling in place changes nothing
        (torch's ``Module.compile`` returns None too)."""
        from .. import compile as _compile
        _compile(self, *args, **kwargs)

    def xpu(self, device=None):
        """Refused, as ``cuda()``: there is no XPU here."""
        _device.check_device("xpu" if device is None else device, "xpu()")

    def ipu(self, device=None):
        """Refused, as ``cuda()``: there is no IPU here."""
        _device.check_device("ipu" if device is None else device, "ipu()")

    def mtia(self, device=None):
        """Refused, as ``cuda()``: there is no MTIA here."""
        _device.check_device("mtia" if device is None else device, "mtia()")

    def apply(self, fn):
        """``fn(m)`` for every submodule, children before their parent and in registration
        order, as PyTorch (a module shared by two parents is visited under each). Iterative, so a
        deep model cannot overflow the stack; a module cycle is a ValueError before any call."""
        order, stack = [], [(self, iter(list(self.children())), {id(self)})]
        while stack:
            m, kids, path = stack[-1]
            child = next(kids, None)
            if child is None:
                stack.pop()
                order.append(m)
            elif id(child) in path:
                raise ValueError(f"apply(): {type(child).__name__} contains itself; a module "
                                 f"cycle has no order to apply a function in")
            else:
                stack.append((child, iter(list(child.children())), path | {id(child)}))
        for m in order:  # after the walk: fn may add or remove modules without confusing it
            fn(m)
        return self

    # ---- dtype ----------------------------------------------------------------------------------
    def to(self, *args, **kwargs):
        """torch's ``to(device=None, dtype=None, non_blocking=False)``, ``to(dtype,
        non_blocking=False)`` or ``to(tensor, non_blocking=False)``: floating-point parameters
        and buffers are converted to ``dtype`` in place (gradients dropped); returns self. The
        device must be the CPU (``"cpu"``, ``tg.device("cpu")``), where everything already is;
        None for both leaves the module as it is, as torch's."""
        dev, dtype, _ = _device.parse_to(args, kwargs, "to()")
        del dev  # checked by parse_to: there is nothing to move
        if dtype is None:
            return self
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"to(): dtype must be a floating-point dtype, got {dtype!r}"
                            f"{_device.not_a_device_note(dtype)}") from None
        if dtype.kind != "f":
            raise TypeError(f"to(): only floating-point dtypes are supported, got {dtype}")
        for m in self.modules():
            if "_dtype" in m.__dict__:  # a layer without parameters (InstanceNorm, no affine)
                object.__setattr__(m, "_dtype", dtype)  # declares its dtype here: convert it too
            for reg in (m._parameters, m._buffers):
                for t in reg.values():
                    if t is not None and t.dtype.kind == "f" and t.dtype != dtype:
                        t.data = t.data.astype(dtype)
                        t.grad = None
        return self

    def cuda(self, device=None):
        """Refused, as by a torch built without CUDA: there is no GPU here."""
        _device.refuse_cuda("cuda()", device)

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def half(self):
        return self.to(np.float16)

    def bfloat16(self):
        """Refused: NumPy has no bfloat16 dtype (PyTorch converts to it)."""
        raise TypeError("bfloat16(): NumPy has no bfloat16 dtype; use half() (float16), "
                        "float() or double()")

    def type(self, dst_type):
        """Convert every parameter and buffer to ``dst_type``, integer buffers too (batch
        norm's counter), as PyTorch's; returns self. ``dst_type``: a NumPy dtype or its name,
        or PyTorch's tensor-type name (``'torch.DoubleTensor'``). Parameters must stay floating
        point (checked before anything changes); gradients are dropped, as by ``to``."""
        dtype = _dst_dtype(dst_type)
        tensors = [t for m in self.modules() for reg in (m._parameters, m._buffers)
                   for t in reg.values() if t is not None]
        if dtype.kind != "f" and any(p is not None for m in self.modules()
                                     for p in m._parameters.values()):
            raise TypeError(f"type(): parameters must be floating point, got dst_type {dtype}")
        if dtype.kind == "f":  # floats, and the dtype a layer without parameters declares
            self.to(dtype)
        for t in tensors:
            if t.dtype != dtype:
                t.data = t.data.astype(dtype)
                t.grad = None
        return self

    def share_memory(self):
        """Itself, as PyTorch's: its point is to put the tensors where other processes can
        write them, and NumPy arrays go to worker processes as copies, so nothing is moved."""
        return self

    @property
    def dtype(self):
        for p in self._parameters.values():  # every forward asks: skip the walk for a layer's own
            if p is not None:
                return p.dtype
        for p in self.parameters():
            return p.dtype
        for b in self.buffers():
            if b.dtype.kind == "f":
                return b.dtype
        return getattr(self, "_dtype", _dd.DEFAULT)

    def _check_input(self, x, name=None):
        """A TypeError naming both dtypes and the fix, instead of a silent float64 promotion."""
        if not isinstance(x, Tensor):
            raise TypeError(f"{name or type(self).__name__}: input must be a Tensor, got "
                            f"{type(x).__name__}")
        want = self.dtype
        if x.dtype != want:
            # Converting the module is advice only for a float input (to() takes float dtypes).
            other = f" or the module (.to(np.{x.dtype}))" if x.dtype.kind == "f" else ""
            raise TypeError(
                f"{name or type(self).__name__}: input has dtype {x.dtype} but the module's "
                f"parameters are {want}; convert the input (x.astype(np.{want})){other}")

    # ---- state ----------------------------------------------------------------------------------
    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """Parameters and persistent buffers by dotted name, as detached Tensors sharing memory
        (``keep_vars=True``: the parameters and buffers themselves), as PyTorch. ``prefix`` is
        put before every key as it is (``"enc."`` gives ``enc.weight``); ``destination``, a
        dict, is filled and returned. Positional arguments are PyTorch's deprecated
        ``(destination, prefix, keep_vars)``, with its FutureWarning."""
        if args:
            if len(args) > 3:
                raise TypeError(f"state_dict() takes at most 3 positional arguments "
                                f"(destination, prefix, keep_vars), got {len(args)}")
            warnings.warn("Positional args are being deprecated, use kwargs instead. Refer to "
                          "https://pytorch.org/docs/main/generated/torch.nn.Module.html#torch.nn."
                          "Module.state_dict for details.", FutureWarning, stacklevel=2)
            destination = args[0] if destination is None else destination
            prefix = args[1] if len(args) > 1 and prefix == "" else prefix
            keep_vars = args[2] if len(args) > 2 and keep_vars is False else keep_vars
        if not isinstance(prefix, str):
            raise TypeError(f"state_dict(): prefix must be a str, got {type(prefix).__name__}")
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()  # each module's version, as PyTorch's
        elif not isinstance(destination, MutableMapping):
            raise TypeError(f"state_dict(): destination must be a dict (a mutable mapping) or "
                            f"None, got {type(destination).__name__}")
        from .state_hooks import save  # (it imports this module)
        return save(self, destination, prefix, keep_vars)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy values into the existing arrays, so optimizers and state_dict() views keep
        following the parameters; with ``assign``, make the given tensors the module's own
        instead, as PyTorch (their dtype and memory kept; a parameter's ``requires_grad`` kept,
        a plain Tensor or array for it wrapped as a Parameter sharing its array; an optimizer
        made before then holds the old ones). Every key, shape and dtype is checked before
        anything changes: a bad state dict leaves the module as it was. The load hooks and
        extra state run as in PyTorch (``nn/state_hooks.py``).

        Returns ``(missing_keys, unexpected_keys)`` (an ``IncompatibleKeys``, as in PyTorch)."""
        if not isinstance(state_dict, Mapping):  # a list would be "unexpected keys [0, 1]"
            raise TypeError(f"load_state_dict: state_dict must be a mapping of names to tensors "
                            f"(e.g. model.state_dict() or tinygrad_norm.load(path)), got "
                            f"{type(state_dict).__name__}")
        from .state_hooks import load
        check = _assigned_source if assign else (lambda key, v, t, reg: _checked_source(key, v, t))
        return load(self, state_dict, strict, assign, check)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """This module's own entries (parameters, persistent buffers, extra state; not its
        children's) into ``destination`` under ``prefix``, as PyTorch's: the step
        ``state_dict()`` runs for every module, which a subclass may override (calling super())
        to add, rename or drop keys."""
        from .state_hooks import save_own
        save_own(self, destination, prefix, keep_vars)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """The step ``load_state_dict()`` runs for every module, as PyTorch's: this module's load
        pre-hooks, then its own keys of ``state_dict`` (its copy, which its children's are cut
        from afterwards) matched to its parameters and buffers, the missing and unexpected ones
        appended to the lists. A subclass may override it to rename, convert or drop keys
        before calling super() (torchvision's FrozenBatchNorm2d drops ``num_batches_tracked``).
        *vs PyTorch:* values are copied after every module was planned, not here."""
        from .state_hooks import plan_own
        plan_own(self, state_dict, prefix, local_metadata, missing_keys, unexpected_keys,
                 error_msgs)

    def get_extra_state(self):
        """The module's extra state, saved by ``state_dict()`` under ``prefix + '_extra_state'``
        when a subclass defines this (and ``set_extra_state``), as PyTorch's."""
        raise NotImplementedError(f"{type(self).__name__} defines no extra state: override "
                                  f"get_extra_state() and set_extra_state() to save some")

    def set_extra_state(self, state):
        """Take back what ``get_extra_state`` returned; ``load_state_dict`` calls it, after
        copying the module's parameters and buffers, when a subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} defines no extra state: override "
                                  f"get_extra_state() and set_extra_state() to load some")

    def register_state_dict_pre_hook(self, hook):
        """``hook(module, prefix, keep_vars)`` before ``state_dict()`` saves this module's
        entries, as PyTorch's; returns a ``RemovableHandle``."""
        return self._add_state_hook("_state_dict_pre_hooks", hook, "register_state_dict_pre_hook")

    def register_state_dict_post_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata)`` after ``state_dict()`` saved this
        module and its submodules; it may change ``state_dict`` in place and must return None,
        as PyTorch's."""
        return self._add_state_hook("_state_dict_hooks", hook, "register_state_dict_post_hook")

    def register_load_state_dict_pre_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` before ``load_state_dict()`` reads this module's keys
        from ``state_dict`` (its own copy: renaming or dropping keys there changes what this
        module and its submodules load), as PyTorch's."""
        return self._add_state_hook("_load_state_dict_pre_hooks", hook,
                                    "register_load_state_dict_pre_hook")

    def register_load_state_dict_post_hook(self, hook):
        """``hook(module, incompatible_keys)`` after ``load_state_dict()`` loaded this module and
        its submodules; it may edit ``incompatible_keys.missing_keys`` and ``.unexpected_keys``
        in place (the strict check reads them after the hooks) and must return None."""
        return self._add_state_hook("_load_state_dict_post_hooks", hook,
                                    "register_load_state_dict_post_hook")

    def _add_state_hook(self, kind, hook, fn):
        if not callable(hook):
            raise TypeError(f"{fn}(): hook must be callable, got {type(hook).__name__}")
        hooks = self.__dict__.get(kind)
        if hooks is None:
            hooks = OrderedDict()
            object.__setattr__(self, kind, hooks)
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    # ---- calling and printing ---------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        if not self._hooked:
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args, kwargs):
        for hook, with_kwargs in list((self._forward_pre_hooks or {}).values()):
            r = hook(self, args, kwargs) if with_kwargs else hook(self, args)
            if r is not None:
                if with_kwargs:
                    if not (isinstance(r, tuple) and len(r) == 2):
                        raise RuntimeError(f"forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {r!r}")
                    args, kwargs = r
                else:
                    args = r if isinstance(r, tuple) else (r,)  # one value: the one argument
        backward = None
        if self._backward_hooks or self._backward_pre_hooks:  # the positional Tensors only
            backward = BackwardHookCall(self)
            args = backward.wrap_inputs(args)
        out = self.forward(*args, **kwargs)
        for hook, with_kwargs in list((self._forward_hooks or {}).values()):
            r = hook(self, args, kwargs, out) if with_kwargs else hook(self, args, out)
            if r is not None:
                out = r
        return out if backward is None else backward.wrap_outputs(out)

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args)`` (with ``with_kwargs``: ``hook(module, args, kwargs)``) before
        every call of ``forward``; a non-None return replaces the arguments (a single value is
        the one argument). As PyTorch's; returns a ``RemovableHandle``."""
        return self._add_hook("_forward_pre_hooks", hook, prepend, with_kwargs)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args, output)`` (with ``with_kwargs``: ``hook(module, args, kwargs,
        output)``) after every call of ``forward``; a non-None return replaces the output. As
        PyTorch's (activations are captured this way); returns a ``RemovableHandle``."""
        return self._add_hook("_forward_hooks", hook, prepend, with_kwargs)

    def register_full_backward_pre_hook(self, hook, *, prepend=False):
        """``hook(module, grad_output)`` when the gradients of the module's outputs are
        computed, before they flow into it; a non-None return (a tuple of the same length)
        replaces ``grad_output``. As PyTorch's; returns a ``RemovableHandle``."""
        return self._add_hook("_backward_pre_hooks", hook, prepend, False)

    def register_full_backward_hook(self, hook, *, prepend=False):
        """``hook(module, grad_input, grad_output)`` when the gradients with respect to the
        module's positional Tensor inputs are computed -- only what flows through the module,
        not the inputs' other uses; a non-None return (a tuple of the same length) replaces
        ``grad_input``. ``grad_output`` holds None for an output that got no gradient. Without an
        input that requires grad it fires at the outputs, with ``grad_input`` all None and
        PyTorch's warning. As PyTorch's; returns a ``RemovableHandle``."""
        return self._add_hook("_backward_hooks", hook, prepend, False)

    def _add_hook(self, kind, hook, prepend, with_kwargs):
        if not callable(hook):
            raise TypeError(f"{kind.strip('_').replace('_', ' ')[:-1]}: hook must be callable, "
                            f"got {type(hook).__name__}")
        hooks = self.__dict__.get(kind)
        if hooks is None:
            hooks = OrderedDict()
            object.__setattr__(self, kind, hooks)
            object.__setattr__(self, "_hooked", True)
        handle = RemovableHandle(hooks)
        hooks[handle.id] = (hook, bool(with_kwargs))
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def extra_repr(self):
        return ""

    def __repr__(self):
        # PyTorch's layout: a one-line extra_repr stays on the head line only when there are no
        # children; otherwise its lines and the children's go one per line, indented by two
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({k}): " + repr(m).replace("\n", "\n  ") for k, m in self._modules.items()]
        head = f"{type(self).__name__}("
        if len(extra_lines) == 1 and not child_lines:
            return head + extra_lines[0] + ")"
        lines = extra_lines + child_lines
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def _source_array(key, value, target):
    """``value``'s array, of ``target``'s shape and a numeric dtype, or the error that loading
    it would be."""
    try:
        arr = value.data if isinstance(value, Tensor) else np.asarray(value)
    except ValueError:  # a ragged list: NumPy's message would not name the key
        raise ValueError(f"load_state_dict: {key!r} is not an array (a ragged "
                         f"{type(value).__name__})") from None
    if arr.shape != target.shape:
        raise ValueError(f"load_state_dict: {key!r} has shape {arr.shape} in the state dict "
                         f"but {target.shape} in the model")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"load_state_dict: {key!r} has non-numeric dtype {arr.dtype}")
    return arr


def _checked_source(key, value, target):
    """``value`` as a fresh array of ``target``'s dtype, or the error that loading it would be.

    A copy: the state dict may hold views of the model's own arrays (a permuted state dict of
    the same model), which copying in place, one key after another, would overwrite before
    they are read."""
    arr = _source_array(key, value, target)
    if target.dtype.kind in "biu" and arr.dtype.kind == "f" and \
            not np.all(np.isfinite(arr) & (arr == np.round(arr))):
        # a float cast to an integer buffer (num_batches_tracked) would silently truncate
        raise ValueError(f"load_state_dict: {key!r} holds non-integer values ({arr.dtype}) for "
                         f"an integer {target.dtype} buffer")
    return np.array(arr, dtype=target.dtype)


# PyTorch's legacy tensor-type names, which Module.type also takes
_TORCH_TYPES = {"torch.FloatTensor": np.float32, "torch.DoubleTensor": np.float64,
                "torch.HalfTensor": np.float16, "torch.ByteTensor": np.uint8,
                "torch.CharTensor": np.int8, "torch.ShortTensor": np.int16,
                "torch.IntTensor": np.int32, "torch.LongTensor": np.int64,
                "torch.BoolTensor": np.bool_}


def _dst_dtype(dst_type):
    """``Module.type``'s argument as a NumPy dtype."""
    if dst_type in ("torch.BFloat16Tensor", "bfloat16"):
        raise TypeError("type(): NumPy has no bfloat16 dtype")
    try:
        dtype = np.dtype(_TORCH_TYPES.get(dst_type, dst_type) if isinstance(dst_type, str)
                         else dst_type)
    except TypeError:
        raise TypeError(f"type(): dst_type must be a dtype or a type name, got "
                        f"{dst_type!r}") from None
    if dst_type is None or dtype.kind not in "biuf":  # np.dtype(None) would be float64
        raise TypeError(f"type(): dst_type must be a numeric dtype, got {dst_type!r}")
    return dtype


def _assigned_source(key, value, target, reg):
    """What ``load_state_dict(assign=True)`` puts in place of ``target``, as PyTorch: for a
    parameter, ``value`` itself if it is a Parameter, else a Parameter sharing its array (the
    caller gives either ``target``'s ``requires_grad`` once every key is checked); for a
    buffer, ``value`` itself if it is a Tensor."""
    arr = _source_array(key, value, target)
    if reg == "_buffers":
        return value if isinstance(value, Tensor) else Tensor(arr)
    if arr.dtype.kind != "f":
        raise TypeError(f"load_state_dict: {key!r} has dtype {arr.dtype}; a parameter must be "
                        f"floating point")
    return value if isinstance(value, Parameter) else Parameter(arr)


@contextmanager
def _evaluating(model):
    """``model.eval()`` for the block, then every module's own mode back. ``model.train(was)``
    would set one mode for all: a BatchNorm frozen in eval while the rest trains came back in
    train mode, and the next forward moved its running statistics."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)
