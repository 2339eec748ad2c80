"""Optimizers, as ``torch.optim``: SGD (momentum, dampening, Nesterov, weight decay), Adam
(bias correction, AMSGrad, L2 or decoupled weight decay) and AdamW, with PyTorch's update rules
step for step, its parameter groups and its state-dict layout.

An update writes into ``p.data`` in place (so views of it, e.g. a model's state dict, follow) and
never into ``p.grad``: a gradient array may be shared with another tensor. Hyperparameters stay
Python floats, so a float32 model stays float32.
"""
from __future__ import annotations

import copy
import numbers
from collections import defaultdict

import numpy as np

from ..autograd import enable_grad, mark_written, no_grad
from ..tensor import Tensor
from . import _hooks

__all__ = ["Optimizer", "SGD", "Adam", "AdamW"]


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


def _number(v, what):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{what} must be a Python number, got {type(v).__name__}")
    return v.item() if isinstance(v, np.generic) else v


def _check_betas(group):
    """Adam's pair of decay rates, each in [0, 1), with PyTorch's messages (Adam, AdamW, Adamax,
    NAdam, RAdam)."""
    betas = group["betas"]
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair of floats, got {betas!r}")
    for i, b in enumerate(betas):
        if not 0.0 <= _number(b, f"betas[{i}]") < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {b}")


class Optimizer:
    """Base class: ``param_groups`` (a list of dicts, each with ``"params"`` and its
    hyperparameters), per-parameter ``state``, ``zero_grad``, ``step`` and the state dict."""

    def __init_subclass__(cls, **kwargs):
        """An optimizer's own ``step``, ``state_dict`` or ``load_state_dict`` runs its hooks
        too, as PyTorch patches each optimizer class's step (see ``_hooks``)."""
        super().__init_subclass__(**kwargs)
        for name, (kind, run) in _HOOKED.items():
            if name in cls.__dict__:
                setattr(cls, name, _hooks.hooked(kind, run)(cls.__dict__[name]))

    def __init__(self, params, defaults):
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got a Tensor")
        if isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        self.defaults = {k: _plain(v) for k, v in defaults.items()}  # Python floats: see _plain
        # keyed by the parameter tensor itself (hashed by identity); a parameter without state
        # reads as {}, as PyTorch's, which custom optimizers' step() relies on
        self.state = defaultdict(dict)
        self.param_groups = []
        if not hasattr(params, "__iter__") or isinstance(params, (str, bytes)):
            hint = " (pass model.parameters())" if hasattr(params, "parameters") else ""
            raise TypeError(f"params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {type(params).__name__}{hint}")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def _validate(self, group):
        """Check a group's hyperparameters (ValueError naming the bad one)."""

    def add_param_group(self, param_group):
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("param_group must have a 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
            if p.dtype.kind != "f":
                raise TypeError(f"optimizer can only optimize floating-point Tensors, got dtype "
                                f"{p.dtype}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("a parameter group contains the same parameter more than once")
        group = {k: _plain(v) for k, v in param_group.items() if k != "params"}
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        self._validate(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        # The caller's dict itself, completed, as PyTorch: group["lr"] = 0.01 on it later acts.
        param_group.update(group)
        param_group["params"] = params
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Drop every gradient (or, with ``set_to_none=False``, give each a fresh zero array --
        never zeroing in place, since a gradient array may be shared)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = Tensor._wrap(np.zeros_like(p.grad._data))

    # ---- hooks, as PyTorch's: each returns a handle whose remove() unregisters it ----------------
    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` before each ``step``; ``args`` starts with the
        optimizer. It may return ``(new_args, new_kwargs)`` for the step to take."""
        return _hooks.register(self, "step_pre", hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` after each ``step``."""
        return _hooks.register(self, "step_post", hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer)`` before ``state_dict()`` builds the dict."""
        return _hooks.register(self, "state_dict_pre", hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` after it; a dict it returns replaces the result."""
        return _hooks.register(self, "state_dict_post", hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` before ``load_state_dict`` reads its (shallow-copied)
        argument; a dict it returns is loaded instead."""
        return _hooks.register(self, "load_pre", hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer)`` after ``load_state_dict``."""
        return _hooks.register(self, "load_post", hook, prepend)

    def step(self, closure=None):
        """One update of every parameter that has a gradient. ``closure`` (optional)
        re-evaluates the model and returns the loss; it runs with gradients enabled."""
        if closure is not None and not callable(closure):
            raise TypeError(f"{type(self).__name__}.step: closure must be callable or None, got "
                            f"{type(closure).__name__}")
        loss = None
        self._stepped = True  # for the schedulers' "step() before optimizer.step()" warning
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._check_grads()
        written = []
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = p.grad._data
                    if g.dtype.kind != "f":  # an int or bool gradient: -g would wrap or fail
                        g = g.astype(p.dtype)
                    self._update(p, g, self.state[p], group)
                    written.append(p)
        mark_written(written)  # a graph recorded before this step can no longer go backward
        return loss

    def _check_grads(self):
        """Every gradient is checked before any parameter moves: a bad one found half-way would
        leave the model half updated (and the momentum buffers with it)."""
        for group in self.param_groups:
            for i, p in enumerate(group["params"]):
                g = p.grad
                if g is None:
                    continue
                if not isinstance(g, Tensor):
                    raise TypeError(f"{type(self).__name__}.step: the .grad of parameter {i} is a "
                                    f"{type(g).__name__}, not a Tensor")
                if g._data.shape != p._data.shape:
                    raise ValueError(f"{type(self).__name__}.step: a gradient of shape "
                                     f"{g.data.shape} for a parameter of shape {p.data.shape}")
                if g._data.dtype.kind not in "biuf":
                    raise TypeError(f"{type(self).__name__}.step: the gradient of parameter {i} "
                                    f"has non-numeric dtype {g.data.dtype}")
                if not p._data.flags.writeable:
                    raise ValueError(f"{type(self).__name__}.step: parameter {i}'s array is "
                                     f"read-only (a broadcast view?); give it one of its own "
                                     f"(p.data = p.data.copy())")

    _buffer_names = ()  # per-parameter state entries that are arrays (see _state_shape)

    def _state_shape(self, name, p):
        """The shape a loaded buffer ``name`` of parameter ``p`` must have: the parameter's own,
        unless an optimizer keeps a reduced one (Adafactor's row and column factors)."""
        return p.shape

    def _update(self, p, g, state, group):
        raise NotImplementedError

    # ---- state dict ------------------------------------------------------------------------------
    def state_dict(self):
        """``{"state": {index: {name: value}}, "param_groups": [{..., "params": [index]}]}`` as
        PyTorch lays it out; parameters are numbered in group order. Arrays are copies."""
        index, groups = {}, []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state and self.state[p]:
                    state[index[id(p)]] = {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                           for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state. Everything is checked first: a state dict that does
        not fit (group count, group sizes, buffer shapes) leaves the optimizer as it was."""
        if not isinstance(state_dict, dict) or "state" not in state_dict \
                or "param_groups" not in state_dict:
            raise ValueError("optimizer state dict must be a dict with 'state' and "
                             "'param_groups' entries")
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, (list, tuple)) or not all(
                isinstance(sg, dict) and isinstance(sg.get("params"), (list, tuple))
                for sg in saved_groups):
            raise ValueError("optimizer state dict: 'param_groups' must be a list of dicts, each "
                             "with a 'params' list of parameter indices")
        if not isinstance(saved_state, dict):
            raise ValueError(f"optimizer state dict: 'state' must be a dict (parameter index -> "
                             f"its state), got {type(saved_state).__name__}")
        saved_groups = list(saved_groups)
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        id_map = {}
        for g, sg in zip(self.param_groups, saved_groups):
            if len(g["params"]) != len(sg["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of optimizer's group")
            for p, i in zip(g["params"], sg["params"]):
                i = _as_index(i)
                if isinstance(i, bool) or not isinstance(i, int):
                    raise ValueError(f"optimizer state dict: parameter indices must be ints, got "
                                     f"{i!r}")
                id_map[i] = p
        new_state = {}
        for key, values in saved_state.items():
            key = _as_index(key)
            if key not in id_map:
                raise ValueError(f"loaded state dict has state for parameter {key}, which no "
                                 f"parameter group lists")
            p = id_map[key]
            if not isinstance(values, dict):
                raise ValueError(f"optimizer state dict: the state of parameter {key} must be a "
                                 f"dict, got {type(values).__name__}")
            entry = {}
            keep_tensors = _user_written(self)
            for name, v in values.items():
                if keep_tensors and _holds_tensor(v):
                    entry[name] = _tensor_state(v, p, name)
                    continue
                if isinstance(v, Tensor):
                    v = v._data
                if v is None and name in self._buffer_names:
                    continue  # older PyTorch SGD saved momentum_buffer None: built at next step
                if name in self._buffer_names:
                    # A buffer stays an array of the parameter's shape, 0-d ones included: as a
                    # Python float, the in-place update (buf *= momentum) would rebind a local
                    # and the buffer would never change again.
                    arr = np.asarray(v)
                    if arr.dtype.kind not in "biuf":
                        raise ValueError(f"loaded state dict has {name!r} of dtype {arr.dtype} "
                                         f"for parameter {key}; expected numbers")
                    want = self._state_shape(name, p)
                    if arr.shape != want:
                        also = "" if want == p.shape else f" (expected {want})"
                        raise ValueError(f"loaded state dict has {name!r} of shape {arr.shape} "
                                         f"for a parameter of shape {p.shape}{also}")
                    v = np.array(arr, dtype=p.dtype)  # a copy, in the parameter's dtype
                elif isinstance(v, np.ndarray) and v.ndim > 0:
                    if v.shape != p.shape:
                        raise ValueError(f"loaded state dict has {name!r} of shape {v.shape} for "
                                         f"a parameter of shape {p.shape}")
                    v = np.array(v, dtype=p.dtype)  # a copy, in the parameter's dtype
                elif isinstance(v, (np.ndarray, np.generic)):
                    v = v.item()
                if name == "step" and (isinstance(v, bool) or not isinstance(v, numbers.Real)):
                    raise ValueError(f"loaded state dict has step {v!r} for parameter {key}; "
                                     f"expected a number")
                entry[name] = v
            new_state[p] = entry
        new_groups = []
        for gi, (g, sg) in enumerate(zip(self.param_groups, saved_groups)):
            merged = {k: _plain(v) for k, v in sg.items() if k != "params"}
            for flag in _FLAGS:  # absent from older PyTorch checkpoints; False, as its setstate
                if flag in self.defaults:
                    merged.setdefault(flag, False)
            missing = [k for k in self.defaults if k not in merged]
            if missing:  # else the group would lose them and the next step() fail on a KeyError
                raise ValueError(f"loaded state dict: parameter group {gi} lacks the "
                                 f"hyperparameter(s) {missing}")
            self._validate({**self.defaults, **merged})
            merged["params"] = g["params"]
            new_groups.append(merged)
        self.state = defaultdict(dict, new_state)
        self.param_groups = new_groups

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        lines.append(")")
        return "\n".join(lines)


# The methods the hooks wrap, on Optimizer and on every subclass that defines its own.
_HOOKED = {"step": ("step", _hooks.run_step),
           "state_dict": ("state_dict", _hooks.run_state_dict),
           "load_state_dict": ("load_state_dict", _hooks.run_load)}
for _name, (_kind, _run) in _HOOKED.items():
    setattr(Optimizer, _name, _hooks.hooked(_kind, _run)(getattr(Optimizer, _name)))

_FLAGS = ("nesterov", "maximize", "amsgrad", "decoupled_weight_decay", "centered")


def _user_written(opt):
    """Whether ``opt`` is an optimizer written against the base class alone (SAM, Lion, a
    tutorial's step()), not one of this package's or a subclass of one. Those keep Tensors in
    ``self.state`` and call Tensor methods on them (``exp_avg.mul_``), so a load must give Tensors
    back; this package's own optimizers keep ndarrays that their updates write into."""
    home = __name__.split(".")[0] + "."
    return not any(c.__module__.startswith(home) for c in type(opt).__mro__
                   if issubclass(c, Optimizer) and c is not Optimizer)


def _holds_tensor(v):
    if isinstance(v, dict):
        return any(_holds_tensor(x) for x in v.values())
    if isinstance(v, (list, tuple)):
        return any(_holds_tensor(x) for x in v)
    return isinstance(v, Tensor)


def _tensor_state(v, p, name):
    """PyTorch's load policy for a user optimizer's state: a Tensor (also inside a dict, list or
    tuple) is cast to the parameter's dtype, ``step`` kept as it is; a copy here, so that the
    optimizer whose state_dict() gave it does not share its buffers with this one."""
    if isinstance(v, dict):
        return {k: _tensor_state(x, p, k) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_tensor_state(x, p, name) for x in v)
    if not isinstance(v, Tensor):
        return v
    dtype = v.dtype if name == "step" else p.dtype
    return Tensor._wrap(np.array(v._data, dtype=dtype))


def _as_index(i):
    if isinstance(i, (np.ndarray, np.generic)):
        i = i.item()
    if isinstance(i, str) and i.isdigit():
        i = int(i)
    return i


def _plain(v):
    """Hyperparameters as Python values (a loaded file, or an ``np.logspace`` sweep, may hold
    NumPy scalars or lists): a float64 NumPy learning rate would make ``lr * g`` float64 and
    round a float32 model's update differently from PyTorch's."""
    if isinstance(v, np.ndarray):
        return _plain(v.tolist()) if v.ndim else v.item()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (list, tuple)):
        return tuple(_plain(x) for x in v)
    return v


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD``::

        g = grad + weight_decay * p
        buf = g (first step) | momentum * buf + (1 - dampening) * g
        g = g + momentum * buf (nesterov) | buf
        p -= lr * g
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        self._validate(defaults)
        super().__init__(params, defaults)

    _buffer_names = ("momentum_buffer",)

    def _validate(self, group):
        # ``not 0.0 <= x`` as PyTorch writes it: NaN fails too (``x < 0.0`` let it through).
        lr = _number(group["lr"], "lr")
        if not 0.0 <= lr:  # torch's SGD lets NaN through: its words, with the argument's name
            raise ValueError(f"Invalid learning rate: {lr} (lr must be a number >= 0)")
        momentum = _number(group["momentum"], "momentum")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if _number(group["dampening"], "dampening") != group["dampening"]:
            raise ValueError(f"Invalid dampening value: {group['dampening']}")  # NaN
        if not 0.0 <= _number(group["weight_decay"], "weight_decay"):
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if group["nesterov"] and (momentum <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update(self, p, g, state, group):
        lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
        if group["maximize"]:
            g = -g
        if wd != 0:
            g = g + wd * p._data
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, dtype=p.dtype)
            else:
                buf *= momentum
                dampening = group["dampening"]
                buf += (1 - dampening) * g if dampening else g  # the usual 0: no scaled copy
            g = g + momentum * buf if group["nesterov"] else buf
        p._data -= lr * g


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam``::

        g = grad + weight_decay * p          (or, decoupled: p *= 1 - lr * weight_decay)
        m = m + (1 - beta1) * (g - m)        (PyTorch's lerp)
        v = beta2 * v + (1 - beta2) * g * g
        v_hat = max(v_hat, v) (amsgrad) | v
        p -= lr / (1 - beta1^t) * m / (sqrt(v_hat) / sqrt(1 - beta2^t) + eps)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        if not isinstance(betas, (tuple, list)):  # tuple(0.9) would be "not iterable"
            raise TypeError(f"betas must be a pair of floats, got {betas!r}")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        self._validate(defaults)
        super().__init__(params, defaults)

    _buffer_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def _validate(self, group):
        lr = _number(group["lr"], "lr")
        if not 0.0 <= lr:  # NaN fails too, as in PyTorch
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= _number(group["eps"], "eps"):
            raise ValueError(f"Invalid epsilon value: {group['eps']}")
        _check_betas(group)
        if not 0.0 <= _number(group["weight_decay"], "weight_decay"):
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")

    def _update(self, p, g, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], \
            group["weight_decay"]
        if group["maximize"]:
            g = -g
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p._data)
            state["exp_avg_sq"] = np.zeros_like(p._data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p._data)
        state["step"] += 1
        step = state["step"]
        if wd != 0:
            if group["decoupled_weight_decay"]:
                p._data *= 1 - lr * wd
            else:
                wg = p._data * wd  # g + wd * p, with one temporary in place of two
                wg += g
                g = wg
        m, v = state["exp_avg"], state["exp_avg_sq"]
        # Every pass writes into one scratch array: a fresh temporary per operation (seven of
        # them, each the parameter's size) cost more than the arithmetic on a ResNet's weights.
        # The operations and their order are the formulas above, so the values are unchanged.
        t = np.subtract(g, m, out=np.empty_like(m, dtype=np.result_type(g, m)))  # 0-d too
        t *= 1 - beta1
        m += t
        v *= beta2
        np.multiply(g, 1 - beta2, out=t)
        t *= g
        v += t
        bias_correction1 = 1 - beta1 ** step
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        step_size = lr / bias_correction1
        if group["amsgrad"]:
            vmax = state.get("max_exp_avg_sq")
            if vmax is None:  # (not setdefault: its default would be allocated every step)
                vmax = state["max_exp_avg_sq"] = np.zeros_like(p._data)
            np.maximum(vmax, v, out=vmax)
            v = vmax
        # (a gradient of another dtype than the parameter's made t wider: the denominator is
        # computed in the moments' dtype, as before)
        d = np.sqrt(v, out=t) if t.dtype == v.dtype else np.sqrt(v)
        d /= bias_correction2_sqrt
        d += eps
        np.divide(m, d, out=d)
        d *= -step_size
        p._data += d


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as ``torch.optim.AdamW``:
    p *= 1 - lr * weight_decay before the Adam step; weight_decay defaults to 1e-2."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        """As Adam's, then decoupled weight decay in every group, as PyTorch's AdamW: a state
        dict saved by Adam (or by an older PyTorch, without the flag) would otherwise turn this
        optimizer into L2-regularized Adam."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
