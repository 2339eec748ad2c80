"""The adaptive optimizers beyond Adam, as ``torch.optim``: RMSprop, Adagrad, Adadelta, Adamax,
NAdam and RAdam, each with PyTorch's single-tensor update rule in the order of its operations,
its state names and its hyperparameter checks. Not bit for bit: PyTorch's kernels fuse some
multiply-adds (lerp, add with alpha), so float64 parameters drift apart by ~1e-13 over 25 steps.

As SGD and Adam here: updates in place on ``p.data``, ``p.grad`` never written, Python-float
hyperparameters (a float32 model stays float32), state created at a parameter's first step
(Adagrad's at construction, as PyTorch's).
"""
from __future__ import annotations

import numpy as np

from .. import default_dtype as _dd
from .optimizers import Optimizer, _check_betas, _number

__all__ = ["RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam"]


# ---- shared pieces --------------------------------------------------------------------------------

def _at_least_zero(group, name, label):
    """PyTorch's ``if not 0.0 <= x: raise ValueError(f"Invalid {label}: {x}")`` (NaN fails)."""
    if not 0.0 <= _number(group[name], name):
        raise ValueError(f"Invalid {label}: {group[name]}")


def _betas(betas):
    if not isinstance(betas, (tuple, list)):  # tuple(0.9) would be "not iterable"
        raise TypeError(f"betas must be a pair of floats, got {betas!r}")
    return tuple(betas)


def _lerp_(a, b, w):
    """``a.lerp_(b, w)`` in PyTorch's two forms: the one it picks depends on the weight."""
    if w < 0.5:
        a += w * (b - a)
    else:
        a[...] = b - (b - a) * (1 - w)


def _descent(g, p, group):
    """The gradient to descend: negated for ``maximize``, plus L2 weight decay (a new array:
    p.grad is never written)."""
    if group["maximize"]:
        g = -g
    wd = group["weight_decay"]
    if wd != 0:
        g = g + wd * p._data
    return g


def _square_avg_(avg, g, rho):
    """``avg.mul_(rho).addcmul_(g, g, value=1 - rho)``."""
    avg *= rho
    avg += (1 - rho) * g * g


# ---- RMSprop --------------------------------------------------------------------------------------

class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop``::

        g = grad + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v - gm * gm) + eps, gm = lerp(gm, g, 1 - alpha)   (centered)
              sqrt(v) + eps                                          (otherwise)
        buf = momentum * buf + g / avg;  p -= lr * buf                (momentum > 0)
        p -= lr * g / avg                                            (otherwise)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
        self._validate(defaults)
        super().__init__(params, defaults)

    _buffer_names = ("square_avg", "momentum_buffer", "grad_avg")

    def _validate(self, group):
        _at_least_zero(group, "lr", "learning rate")
        _at_least_zero(group, "eps", "epsilon value")
        _at_least_zero(group, "momentum", "momentum value")
        _at_least_zero(group, "weight_decay", "weight_decay value")
        _at_least_zero(group, "alpha", "alpha value")

    def _update(self, p, g, state, group):
        lr, alpha, momentum = group["lr"], group["alpha"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p._data)
            if momentum > 0:
                state["momentum_buffer"] = np.zeros_like(p._data)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(p._data)
        state["step"] += 1
        g = _descent(g, p, group)
        square_avg = state["square_avg"]
        _square_avg_(square_avg, g, alpha)
        if group["centered"]:
            # setdefault: momentum or centered may be switched on in a group after its first step
            grad_avg = state.setdefault("grad_avg", np.zeros_like(p._data))
            _lerp_(grad_avg, g, 1 - alpha)
            avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += group["eps"]
        if momentum > 0:
            buf = state.setdefault("momentum_buffer", np.zeros_like(p._data))
            buf *= momentum
            buf += g / avg
            p._data += -lr * buf
        else:
            p._data += (-lr * g) / avg


# ---- Adagrad --------------------------------------------------------------------------------------

class Adagrad(Optimizer):
    """Adagrad, as ``torch.optim.Adagrad``::

        g = grad + weight_decay * p
        sum += g * g                      (sum starts at initial_accumulator_value)
        p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(sum) + eps)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, *, maximize=False):
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        self._validate(defaults)
        super().__init__(params, defaults)
        # As PyTorch, the state exists from the start (its state dict lists every parameter).
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, self.state[p])

    _buffer_names = ("sum",)

    def _validate(self, group):
        _at_least_zero(group, "lr", "learning rate")
        _at_least_zero(group, "lr_decay", "lr_decay value")
        _at_least_zero(group, "weight_decay", "weight_decay value")
        _at_least_zero(group, "initial_accumulator_value", "initial_accumulator_value value")
        _at_least_zero(group, "eps", "epsilon value")

    def _init_state(self, p, state):
        # The constructor's value, as PyTorch reads it (self.defaults) both here and for a group
        # added later: a group's own initial_accumulator_value is kept in the group but unused
        state["step"] = 0
        state["sum"] = np.full_like(p._data, self.defaults["initial_accumulator_value"])

    def _update(self, p, g, state, group):
        if not state:  # a group added after construction
            self._init_state(p, state)
        state["step"] += 1
        g = _descent(g, p, group)
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        total = state["sum"]
        total += g * g
        std = np.sqrt(total)
        std += group["eps"]
        p._data += (-clr * g) / std


# ---- Adadelta -------------------------------------------------------------------------------------

class Adadelta(Optimizer):
    """Adadelta, as ``torch.optim.Adadelta``::

        g = grad + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p -= lr * delta
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        self._validate(defaults)
        super().__init__(params, defaults)

    _buffer_names = ("square_avg", "acc_delta")

    def _validate(self, group):
        _at_least_zero(group, "lr", "learning rate")
        if not 0.0 <= _number(group["rho"], "rho") <= 1.0:
            raise ValueError(f"Invalid rho value: {group['rho']}")
        _at_least_zero(group, "eps", "epsilon value")
        _at_least_zero(group, "weight_decay", "weight_decay value")

    def _update(self, p, g, state, group):
        rho, eps = group["rho"], group["eps"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p._data)
            state["acc_delta"] = np.zeros_like(p._data)
        state["step"] += 1
        g = _descent(g, p, group)
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        _square_avg_(square_avg, g, rho)
        std = np.sqrt(square_avg + eps)
        delta = np.sqrt(acc_delta + eps)
        delta /= std
        delta *= g
        _square_avg_(acc_delta, delta, rho)
        p._data += -group["lr"] * delta


# ---- the Adam family ------------------------------------------------------------------------------

class _AdamLike(Optimizer):
    """betas, eps, weight_decay and lr checked as PyTorch's Adam variants check them."""

    _extra_checks = ()

    def _validate(self, group):
        _at_least_zero(group, "lr", "learning rate")
        _at_least_zero(group, "eps", "epsilon value")
        _check_betas(group)
        _at_least_zero(group, "weight_decay", "weight_decay value")
        for name, label in self._extra_checks:
            _at_least_zero(group, name, label)

    def _moments(self, p, state, names):
        if not state:
            state["step"] = 0
            for name in names:
                state[name] = np.zeros_like(p._data)
        state["step"] += 1
        return state["step"]

    @staticmethod
    def _weight_decay(g, p, group):
        """L2 (added to the gradient) or, with ``decoupled_weight_decay``, p *= 1 - lr * wd."""
        if group["maximize"]:
            g = -g
        wd = group["weight_decay"]
        if wd != 0:
            if group.get("decoupled_weight_decay"):
                p._data *= 1 - group["lr"] * wd
            else:
                g = g + wd * p._data
        return g


class Adamax(_AdamLike):
    """Adamax (Adam with the infinity norm), as ``torch.optim.Adamax``::

        g = grad + weight_decay * p
        m = lerp(m, g, 1 - beta1)
        u = max(beta2 * u, |g| + eps)
        p -= lr / (1 - beta1^t) * m / u
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *,
                 maximize=False):
        defaults = dict(lr=lr, betas=_betas(betas), eps=eps, weight_decay=weight_decay,
                        maximize=maximize)
        self._validate(defaults)
        super().__init__(params, defaults)

    _buffer_names = ("exp_avg", "exp_inf")

    def _update(self, p, g, state, group):
        (beta1, beta2), lr = group["betas"], group["lr"]
        step = self._moments(p, state, ("exp_avg", "exp_inf"))
        g = self._weight_decay(g, p, group)
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        _lerp_(exp_avg, g, 1 - beta1)
        exp_inf *= beta2
        norm = np.abs(g)
        norm += group["eps"]
        np.maximum(exp_inf, norm, out=exp_inf)
        clr = lr / (1 - beta1 ** step)
        p._data += (-clr * exp_avg) / exp_inf


class NAdam(_AdamLike):
    """Adam with Nesterov momentum (Dozat), as ``torch.optim.NAdam``::

        mu_t = beta1 (1 - 0.5 * 0.96^(t * momentum_decay)),  mu_product *= mu_t
        m = lerp(m, g, 1 - beta1);  v = beta2 v + (1 - beta2) g g
        denom = sqrt(v / (1 - beta2^t)) + eps
        p -= lr (1 - mu_t) / (1 - mu_product) * g / denom
        p -= lr mu_{t+1} / (1 - mu_product mu_{t+1}) * m / denom

    ``mu_product`` is kept in float32 (float64 under a float64 default dtype), as PyTorch keeps
    it (a 0-d tensor of its scalar dtype), so the step sizes agree to the bit."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, maximize=False):
        defaults = dict(lr=lr, betas=_betas(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        self._validate(defaults)
        super().__init__(params, defaults)

    _buffer_names = ("exp_avg", "exp_avg_sq")
    _extra_checks = (("momentum_decay", "momentum_decay value"),)

    def _update(self, p, g, state, group):
        (beta1, beta2), lr, decay = group["betas"], group["lr"], group["momentum_decay"]
        if not state:
            state.update(step=0, mu_product=1.0, exp_avg=np.zeros_like(p._data),
                         exp_avg_sq=np.zeros_like(p._data))
        state["step"] += 1
        step = state["step"]
        bias_correction2 = 1 - beta2 ** step
        g = self._weight_decay(g, p, group)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * decay)))
        sc = _dd.scalar_type()  # read at each step, as torch's state tensor's dtype is fixed
        mu_product = float(sc(state["mu_product"]) * sc(mu))
        state["mu_product"] = mu_product
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        _lerp_(exp_avg, g, 1 - beta1)
        _square_avg_(exp_avg_sq, g, beta2)
        denom = np.sqrt(exp_avg_sq / bias_correction2)
        denom += group["eps"]
        mu_product_next = mu_product * mu_next
        p._data += ((-lr * (1.0 - mu) / (1.0 - mu_product)) * g) / denom
        p._data += (((-lr * mu_next) / (1.0 - mu_product_next)) * exp_avg) / denom


class RAdam(_AdamLike):
    """Rectified Adam (Liu et al.), as ``torch.optim.RAdam``: plain momentum SGD with bias
    correction while the variance estimate is unreliable (rho_t <= 5), then Adam scaled by the
    rectification term::

        rho_inf = 2 / (1 - beta2) - 1,  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        p -= lr * m / (1 - beta1^t) * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r   (rho_t > 5)
        p -= lr * m / (1 - beta1^t)                                            (otherwise)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, maximize=False):
        defaults = dict(lr=lr, betas=_betas(betas), eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        self._validate(defaults)
        super().__init__(params, defaults)

    _buffer_names = ("exp_avg", "exp_avg_sq")

    def _update(self, p, g, state, group):
        (beta1, beta2), lr = group["betas"], group["lr"]
        step = self._moments(p, state, ("exp_avg", "exp_avg_sq"))
        g = self._weight_decay(g, p, group)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        _lerp_(exp_avg, g, 1 - beta1)
        _square_avg_(exp_avg_sq, g, beta2)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        update = exp_avg / bias_correction1
        update *= lr
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            sqrt_v = np.sqrt(exp_avg_sq)
            sqrt_v += group["eps"]
            update *= bias_correction2 ** 0.5 / sqrt_v
            update *= rect
        p._data -= update
