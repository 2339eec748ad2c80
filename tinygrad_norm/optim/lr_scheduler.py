"""Learning-rate schedules, as ``torch.optim.lr_scheduler``: the same classes, arguments, state
dicts and step-by-step values (hyperparameters taken as Python numbers, as the optimizers take
them) (each schedule updates ``group["lr"]`` by PyTorch's recurrence, so
the learning rates match it to the last bit, and a schedule composes with changes made to the
learning rate by hand).

Use: build the scheduler after the optimizer, call ``optimizer.step()`` then ``scheduler.step()``
(once an epoch, or once a batch for schedules counted in iterations). Building a scheduler sets
each group's learning rate for epoch 0 and records ``group["initial_lr"]``.
"""
from __future__ import annotations

import math
import numbers
import types
import warnings
from bisect import bisect_right
from collections import Counter

import numpy as np

from ..tensor import Tensor
from .optimizers import Optimizer

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR",
           "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR", "SequentialLR",
           "ReduceLROnPlateau", "OneCycleLR", "CyclicLR", "CosineAnnealingWarmRestarts",
           "ChainedScheduler"]

_EPOCH_DEPRECATED = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where "
    "possible. Please use `scheduler.step()` to step the scheduler. During the deprecation, if "
    "epoch is different from None, the closed form is used instead of the new chainable form, "
    "where available.")


# ---- argument checks: every one before the optimizer's learning rates change ----------------------

def _optimizer(optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
    return optimizer


def _int(v, name, cls, low):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{cls}: {name} must be an int, got {type(v).__name__}")
    if v < low:
        raise ValueError(f"{cls}: {name} must be at least {low}, got {v}")
    return int(v)


def _real(v, name, cls, low=None, high=None, low_open=False):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
        raise TypeError(f"{cls}: {name} must be a real number, got {type(v).__name__}")
    v = float(v)
    too_low = low is not None and (v <= low if low_open else v < low)
    if math.isnan(v) or too_low or (high is not None and v > high):
        bounds = f"{'(' if low_open else '['}{low}, {high}]" if high is not None else \
            f"{'>' if low_open else '>='} {low}"
        raise ValueError(f"{cls}: {name} must be in {bounds}, got {v}")
    return v


def _per_group(value, name, optimizer, cls):
    """One value per parameter group: a list of them, or one value for every group."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{cls}: expected {n} {name} (one per parameter group), got "
                             f"{len(value)}")
        return list(value)
    return [value] * n


# ---- the base class -------------------------------------------------------------------------------

class LRScheduler:
    """Base class. A subclass computes the next learning rates in ``get_lr()`` (from the current
    ``group["lr"]``s, ``base_lrs`` and ``last_epoch``); ``step()`` advances ``last_epoch`` and
    writes them into the optimizer's groups.

    ``last_epoch=-1`` starts a schedule; another value resumes one, and then every group must
    already hold ``"initial_lr"`` (an optimizer restored from a state dict does)."""

    _in_step = False
    _is_initial = False

    def __init__(self, optimizer, last_epoch=-1):
        cls = type(self).__name__
        _optimizer(optimizer)
        last_epoch = _int(last_epoch, "last_epoch", cls, -1)
        if last_epoch != -1:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                                   f"when resuming a scheduler with last_epoch >= 0: load the "
                                   f"optimizer's state dict first")
        self.optimizer = optimizer
        if not getattr(optimizer, "_tracked", False):  # as torch: steps count from here on
            optimizer._tracked, optimizer._stepped = True, False
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        """The learning rates for ``last_epoch`` (called by ``step``)."""
        raise NotImplementedError

    def get_last_lr(self):
        """The learning rates the last ``step()`` set, one per parameter group."""
        return list(self._last_lr)

    def _current(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def step(self, epoch=None):
        """Advance the schedule by one epoch (or iteration) and set the learning rates. Call it
        after ``optimizer.step()``. ``epoch`` (deprecated in PyTorch, and here) jumps to that
        epoch, with the schedule's closed form where it has one."""
        if epoch is not None:
            epoch = _int(epoch, "epoch", type(self).__name__, 0)
        if self._step_count == 1 and not self._is_initial and _never_stepped(self.optimizer):
            warnings.warn(
                "Detected call of `lr_scheduler.step()` before `optimizer.step()`. You should "
                "call them in the opposite order: `optimizer.step()` before "
                "`lr_scheduler.step()`. Failure to do this will result in skipping the first "
                "value of the learning rate schedule.", UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(_EPOCH_DEPRECATED, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        self._in_step = True
        before = self.last_epoch
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed = getattr(self, "_closed_form", None)
                values = closed() if closed is not None else self.get_lr()
            _check_groups(self, len(values))
        except BaseException:  # a failing lr_lambda: the schedule stays where it was
            self.last_epoch = before
            raise
        finally:
            self._in_step = False
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = self._current()

    def _check_called_in_step(self):
        if not self._in_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use "
                          "`get_last_lr()`.", UserWarning, stacklevel=3)

    def state_dict(self):
        """Everything but the optimizer (a plain dict of numbers and lists)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        if not isinstance(state_dict, dict):
            raise TypeError(f"{type(self).__name__}.load_state_dict: state_dict must be a dict, "
                            f"got {type(state_dict).__name__}")
        self.__dict__.update(state_dict)



class _LRScheduler(LRScheduler):
    """PyTorch's old name of the base class, still its alias: custom schedulers written before
    ``LRScheduler`` became public subclass this one."""


def _check_groups(scheduler, known):
    """A schedule computed per parameter group must know every group: one added with
    ``add_param_group`` after the scheduler was built would keep its rate silently (PyTorch
    refuses too, with zip's "argument 2 is shorter than argument 1")."""
    n = len(scheduler.optimizer.param_groups)
    if known != n:
        raise ValueError(f"{type(scheduler).__name__}.step(): the optimizer has {n} parameter "
                         f"groups but the schedule was built for {known} (a group added with "
                         f"add_param_group after the scheduler was made?); make the scheduler "
                         f"after adding every group")


def _never_stepped(optimizer):
    """Whether the optimizer's own step has not run yet (a subclass that overrides ``step`` is
    not tracked: no warning for it)."""
    own = type(optimizer).step is Optimizer.step
    return own and not getattr(optimizer, "_stepped", False)


# ---- schedules from a function ---------------------------------------------------------------------

class _FromFunctions(LRScheduler):
    """A schedule given by ``lr_lambda`` (one function, or one per group). A state dict saves the
    attributes of callable objects, not plain functions, as PyTorch."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        cls = type(self).__name__
        _optimizer(optimizer)
        lambdas = _per_group(lr_lambda, "lr_lambdas", optimizer, cls)
        for f in lambdas:
            if not callable(f):
                raise TypeError(f"{cls}: lr_lambda should be a function, but got "
                                f"{type(f).__name__}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def state_dict(self):
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(f, types.FunctionType) else dict(f.__dict__)
                               for f in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
        super().load_state_dict(state)
        for f, attrs in zip(self.lr_lambdas, saved):
            if attrs is not None:
                f.__dict__.update(attrs)


def _factor(f, epoch, cls):
    v = f(epoch)
    if isinstance(v, Tensor):
        v = v.item()
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
        raise TypeError(f"{cls}: lr_lambda({epoch}) must return a number, got {type(v).__name__}")
    return v


class LambdaLR(_FromFunctions):
    """``lr = initial_lr * lr_lambda(epoch)``."""

    def get_lr(self):
        self._check_called_in_step()
        return [base * _factor(f, self.last_epoch, "LambdaLR")
                for f, base in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_FromFunctions):
    """``lr *= lr_lambda(epoch)`` at every step after the first."""

    def get_lr(self):
        self._check_called_in_step()
        if self._is_initial:
            return self._current()
        return [group["lr"] * _factor(f, self.last_epoch, "MultiplicativeLR")
                for f, group in zip(self.lr_lambdas, self.optimizer.param_groups)]


# ---- decays ----------------------------------------------------------------------------------------

class StepLR(LRScheduler):
    """``lr *= gamma`` every ``step_size`` epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = _int(step_size, "step_size", "StepLR", 1)
        self.gamma = _real(gamma, "gamma", "StepLR")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._check_called_in_step()
        if self.last_epoch == 0 or self.last_epoch % self.step_size:
            return self._current()
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _closed_form(self):
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """``lr *= gamma`` at each epoch in ``milestones`` (twice for a milestone listed twice)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        if isinstance(milestones, (str, bytes)) or not hasattr(milestones, "__iter__"):
            raise TypeError(f"MultiStepLR: milestones must be an iterable of ints, got "
                            f"{type(milestones).__name__}")
        self.milestones = Counter(_int(m, "milestones", "MultiStepLR", 0) for m in milestones)
        self.gamma = _real(gamma, "gamma", "MultiStepLR")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._check_called_in_step()
        if self.last_epoch not in self.milestones:
            return self._current()
        return [group["lr"] * self.gamma ** self.milestones[self.last_epoch]
                for group in self.optimizer.param_groups]

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self.milestones = Counter(self.milestones)  # a file gives back a plain dict

    def _closed_form(self):
        passed = bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [base * self.gamma ** passed for base in self.base_lrs]


class ConstantLR(LRScheduler):
    """``lr * factor`` for the first ``total_iters`` epochs, then ``lr`` again."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        # factor 0 would divide by zero when the warm-up ends (PyTorch takes it and fails there)
        self.factor = _real(factor, "factor", "ConstantLR", 0.0, 1.0, low_open=True)
        self.total_iters = _int(total_iters, "total_iters", "ConstantLR", 0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._check_called_in_step()
        if self.last_epoch == 0:
            return [group["lr"] * self.factor for group in self.optimizer.param_groups]
        if self.last_epoch != self.total_iters:
            return self._current()
        return [group["lr"] * (1.0 / self.factor) for group in self.optimizer.param_groups]

    def _closed_form(self):
        scale = self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor)
        return [base * scale for base in self.base_lrs]


class LinearLR(LRScheduler):
    """The factor on ``lr`` goes linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` epochs (a warm-up, or a linear decay), then stays."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        self.start_factor = _real(start_factor, "start_factor", "LinearLR", 0.0, 1.0,
                                  low_open=True)
        self.end_factor = _real(end_factor, "end_factor", "LinearLR", 0.0, 1.0)
        self.total_iters = _int(total_iters, "total_iters", "LinearLR", 1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._check_called_in_step()
        if self.last_epoch == 0:
            return [group["lr"] * self.start_factor for group in self.optimizer.param_groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current()
        # the ratio of this epoch's factor to the last one's
        span = self.end_factor - self.start_factor
        ratio = 1.0 + span / (self.total_iters * self.start_factor + (self.last_epoch - 1) * span)
        return [group["lr"] * ratio for group in self.optimizer.param_groups]

    def _closed_form(self):
        done = min(self.total_iters, self.last_epoch)
        scale = (self.start_factor
                 + (self.end_factor - self.start_factor) * done / self.total_iters)
        return [base * scale for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """``lr *= gamma`` every epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = _real(gamma, "gamma", "ExponentialLR")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._check_called_in_step()
        if self._is_initial:
            return self._current()
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _closed_form(self):
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """``lr = initial_lr * (1 - epoch / total_iters) ** power`` up to ``total_iters`` (then 0)."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = _int(total_iters, "total_iters", "PolynomialLR", 1)
        self.power = _real(power, "power", "PolynomialLR")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._check_called_in_step()
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current()
        n, e = self.total_iters, self.last_epoch
        decay = ((1.0 - e / n) / (1.0 - (e - 1) / n)) ** self.power
        return [group["lr"] * decay for group in self.optimizer.param_groups]

    def _closed_form(self):
        left = 1.0 - min(self.total_iters, self.last_epoch) / self.total_iters
        return [base * left ** self.power for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """``lr = eta_min + (initial_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2``, reached by
    PyTorch's recurrence (so it composes with other changes to the learning rate); past
    ``T_max`` it rises again, a period of ``2 T_max``."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = (_int(T_max, "T_max", "CosineAnnealingLR", 1)
                      if isinstance(T_max, numbers.Integral) and not isinstance(T_max, bool)
                      else _real(T_max, "T_max", "CosineAnnealingLR", 0.0, low_open=True))
        self.eta_min = _real(eta_min, "eta_min", "CosineAnnealingLR")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._check_called_in_step()
        if self._is_initial:
            return self._current()
        T, e, low = self.T_max, self.last_epoch, self.eta_min
        groups = self.optimizer.param_groups
        if (e - 1 - T) % (2 * T) == 0:  # at a trough: the ratio below would be 0 / 0
            rise = (1 - math.cos(math.pi / T)) / 2
            return [group["lr"] + (base - low) * rise for base, group in zip(self.base_lrs, groups)]
        ratio = (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T))
        return [ratio * (group["lr"] - low) + low for group in groups]

    def _closed_form(self):
        c = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * c for base in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter), as
    ``torch.optim.lr_scheduler.CosineAnnealingWarmRestarts``: ``lr = eta_min + (initial_lr -
    eta_min) (1 + cos(pi T_cur / T_i)) / 2``, where ``T_cur`` counts the epochs since the last
    restart and the period ``T_i`` starts at ``T_0`` and is multiplied by ``T_mult`` at each
    restart. ``step(epoch)`` takes a fractional epoch (``step(epoch + i / iters)`` once a batch),
    without PyTorch's deprecation warning, as PyTorch."""

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        # PyTorch's messages, and its ValueError for a wrong type too
        if isinstance(T_0, bool) or not isinstance(T_0, numbers.Integral) or T_0 <= 0:
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if isinstance(T_mult, bool) or not isinstance(T_mult, numbers.Integral) or T_mult < 1:
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if isinstance(eta_min, (bool, np.bool_)) or not isinstance(eta_min, numbers.Real):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min} of type "
                             f"{type(eta_min)}")
        _int(last_epoch, "last_epoch", "CosineAnnealingWarmRestarts", -1)
        self.T_0 = self.T_i = int(T_0)
        self.T_mult = int(T_mult)
        self.eta_min = float(eta_min)
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._check_called_in_step()
        c = 1 + math.cos(math.pi * self.T_cur / self.T_i)
        return [self.eta_min + (base - self.eta_min) * c / 2 for base in self.base_lrs]

    def step(self, epoch=None):
        """The next epoch, or (``epoch``, a number >= 0, fractional allowed) that epoch."""
        if epoch is not None:
            if isinstance(epoch, (bool, np.bool_)) or not isinstance(epoch, numbers.Real):
                raise TypeError(f"CosineAnnealingWarmRestarts.step: epoch must be a number, got "
                                f"{type(epoch).__name__}")
            if not epoch >= 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        T_0, T_mult = self.T_0, self.T_mult
        _check_groups(self, len(self.base_lrs))  # before the state below changes
        if epoch is None:
            epoch = self.last_epoch + 1
            T_cur, T_i = self.T_cur + 1, self.T_i
            if T_cur >= T_i:
                T_cur, T_i = T_cur % T_i, T_i * T_mult
        elif epoch >= T_0:
            if T_mult == 1:
                T_cur, T_i = epoch % T_0, self.T_i
            else:  # the restart this epoch falls after: T_0 (T_mult^n - 1) / (T_mult - 1) <= epoch
                n = int(math.log(epoch / T_0 * (T_mult - 1) + 1, T_mult))
                T_cur, T_i = epoch - T_0 * (T_mult ** n - 1) / (T_mult - 1), T_0 * T_mult ** n
        else:
            T_cur, T_i = epoch, T_0
        self.T_cur, self.T_i, self.last_epoch = T_cur, T_i, math.floor(epoch)
        self._in_step = True
        try:
            values = self.get_lr()
        finally:
            self._in_step = False
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = self._current()


# ---- composition -----------------------------------------------------------------------------------

class SequentialLR(LRScheduler):
    """``schedulers[i]`` runs from ``milestones[i - 1]`` (each starting again at its epoch 0),
    as ``torch.optim.lr_scheduler.SequentialLR``: a warm-up then a decay, for instance."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        cls = "SequentialLR"
        _optimizer(optimizer)
        schedulers = list(schedulers)
        milestones = [_int(m, "milestones", cls, 0) for m in milestones]
        if not schedulers:
            raise ValueError(f"{cls} expects at least one scheduler, but got no scheduler.")
        for i, s in enumerate(schedulers):
            if isinstance(s, ReduceLROnPlateau):  # its step() needs the metric
                raise ValueError(f"{cls} does not support `ReduceLROnPlateau` scheduler as it "
                                 f"requires additional kwargs to be specified when calling "
                                 f"`step`, but got one at index {i}")
            if not isinstance(s, LRScheduler):
                raise TypeError(f"{cls}: schedulers[{i}] must be an LRScheduler, got "
                                f"{type(s).__name__}")
            if isinstance(s, ChainedScheduler):  # no epoch of its own to start again from
                raise TypeError(f"{cls}: schedulers[{i}] is a ChainedScheduler, which cannot be "
                                f"restarted at a milestone; chain the SequentialLR instead")
            if s.optimizer is not optimizer:
                raise ValueError(f"{cls} expects all schedulers to belong to the same optimizer, "
                                 f"but schedulers[{i}] has another one")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"{cls} expects one milestone fewer than schedulers, got "
                             f"{len(schedulers)} schedulers and {len(milestones)} milestones")
        if milestones != sorted(milestones):
            raise ValueError(f"{cls}: milestones must be increasing, got {milestones}")
        last_epoch = _int(last_epoch, "last_epoch", cls, -1)
        self._schedulers, self._milestones = schedulers, milestones
        self.optimizer = optimizer
        self.last_epoch = last_epoch + 1
        # The schedulers stepped once each when built; start over from the initial rates, as if
        # only the first one had been built.
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for s in schedulers:
            _undo_initial_step(s)
        first = schedulers[bisect_right(milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self):
        self.last_epoch += 1
        i = bisect_right(self._milestones, self.last_epoch)
        s = self._schedulers[i]
        if i > 0 and self._milestones[i - 1] == self.last_epoch:
            s._update_lr(0)  # this scheduler's epoch 0
        else:
            s.step()
        self._last_lr = s.get_last_lr()

    def state_dict(self):
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        inner = state.pop("_schedulers")
        self.__dict__.update(state)
        for s, st in zip(self._schedulers, inner):
            s.load_state_dict(st)


def _undo_initial_step(s):
    # As torch 2.13: only the leaf schedulers count back; a nested SequentialLR keeps its own
    # epoch (pytorch#196243 reports the schedule this gives; parity is kept until torch changes)
    if isinstance(s, SequentialLR):
        for inner in s._schedulers:
            _undo_initial_step(inner)
    else:
        s.last_epoch -= 1


class ChainedScheduler(LRScheduler):
    """Steps every scheduler of ``schedulers`` at each ``step()``, in order, so that their
    changes to the learning rate compose (``ConstantLR`` then ``ExponentialLR``: a warm-up
    factor on a decay), as ``torch.optim.lr_scheduler.ChainedScheduler``. ``optimizer`` defaults
    to the first scheduler's. It has no ``last_epoch`` or ``base_lrs`` of its own."""

    def __init__(self, schedulers, optimizer=None):
        cls = "ChainedScheduler"
        if isinstance(schedulers, (str, bytes)) or not hasattr(schedulers, "__iter__"):
            raise TypeError(f"{cls}: schedulers must be a sequence of schedulers, got "
                            f"{type(schedulers).__name__}")
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError(f"{cls} expects at least one scheduler to be chained, but got no "
                             f"scheduler.")
        for i, s in enumerate(schedulers):
            if isinstance(s, ReduceLROnPlateau):
                raise ValueError(f"{cls} does not support `ReduceLROnPlateau` scheduler as it "
                                 f"requires additional kwargs to be specified when calling "
                                 f"`step`, but got one at index {i} in the given schedulers "
                                 f"sequence.")
            if not isinstance(s, LRScheduler):
                raise TypeError(f"{cls}: schedulers[{i}] must be an LRScheduler, got "
                                f"{type(s).__name__}")
        if optimizer is None:
            optimizer = schedulers[0].optimizer
        _optimizer(optimizer)
        for i, s in enumerate(schedulers):
            if s.optimizer is not optimizer:
                raise ValueError(f"{cls} expects all schedulers to belong to the same optimizer, "
                                 f"but schedulers[{i}] ({type(s).__name__}) has another one")
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = [group["lr"] for group in schedulers[-1].optimizer.param_groups]

    def step(self):
        for s in self._schedulers:
            s.step()
        self._last_lr = [group["lr"] for group in self._schedulers[-1].optimizer.param_groups]

    def state_dict(self):
        """Its own attributes, and each scheduler's state dict under ``"_schedulers"``."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        if not isinstance(state_dict, dict):
            raise TypeError(f"ChainedScheduler.load_state_dict: state_dict must be a dict, got "
                            f"{type(state_dict).__name__}")
        state = dict(state_dict)  # the caller's dict is left as it was
        inner = state.pop("_schedulers")
        self.__dict__.update(state)
        for s, st in zip(self._schedulers, inner):
            s.load_state_dict(st)


# ---- on a plateau ----------------------------------------------------------------------------------

class ReduceLROnPlateau(LRScheduler):
    """``lr *= factor`` (down to ``min_lr``) when ``metrics``, passed to ``step(metrics)`` each
    epoch, has not improved for more than ``patience`` epochs, as
    ``torch.optim.lr_scheduler.ReduceLROnPlateau``. Improvement is relative (``threshold_mode=
    "rel"``: better than ``best * (1 -+ threshold)``) or absolute; after a reduction, ``cooldown``
    epochs pass before counting again. A change smaller than ``eps`` is not made."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        cls = "ReduceLROnPlateau"
        _optimizer(optimizer)
        if mode not in ("min", "max"):
            raise ValueError(f"{cls}: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{cls}: threshold_mode must be 'rel' or 'abs', got "
                             f"{threshold_mode!r}")
        factor = _real(factor, "factor", cls)
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        self.factor = factor
        self.patience = _int(patience, "patience", cls, 0)
        self.threshold = _real(threshold, "threshold", cls)
        self.cooldown = _int(cooldown, "cooldown", cls, 0)
        self.eps = _real(eps, "eps", cls)
        if isinstance(min_lr, (list, tuple)):
            self.default_min_lr = None
            self.min_lrs = [_real(v, "min_lr", cls, 0.0)
                            for v in _per_group(list(min_lr), "min_lrs", optimizer, cls)]
        else:
            self.default_min_lr = _real(min_lr, "min_lr", cls, 0.0)
            self.min_lrs = [self.default_min_lr] * len(optimizer.param_groups)
        self.optimizer = optimizer
        self.mode, self.threshold_mode = mode, threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.last_epoch = 0
        self._last_lr = self._current()
        self._reset()

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        if self.mode == "min":
            return a < (best * (1.0 - self.threshold) if self.threshold_mode == "rel"
                        else best - self.threshold)
        return a > (best * (self.threshold + 1.0) if self.threshold_mode == "rel"
                    else best + self.threshold)

    def step(self, metrics, epoch=None):
        """Record this epoch's ``metrics`` (a number or a one-element tensor) and reduce the
        learning rates if it has not improved for more than ``patience`` epochs."""
        if isinstance(metrics, Tensor):
            if metrics.data.size != 1:
                raise ValueError(f"ReduceLROnPlateau.step: metrics must be one number, got a "
                                 f"tensor of shape {metrics.shape}")
            metrics = metrics.item()
        if isinstance(metrics, (bool, np.bool_)) or not isinstance(metrics, numbers.Real):
            raise TypeError(f"ReduceLROnPlateau.step: metrics must be a number, got "
                            f"{type(metrics).__name__}")
        current = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(_EPOCH_DEPRECATED, UserWarning, stacklevel=2)
        self.last_epoch = epoch
        if self._is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current()

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(self.min_lrs) != len(groups):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"The number of param groups in the `optimizer` ({len(groups)}) differs from "
                    f"when `ReduceLROnPlateau` was initialized ({len(self.min_lrs)}), usually "
                    f"due to a new param group being added to the optimizer. Please modify the "
                    f"`min_lrs` field to match the length of the `optimizer` param groups.")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, low in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, low)
            if old - new > self.eps:
                group["lr"] = new


# ---- one cycle -------------------------------------------------------------------------------------

def _anneal(kind, start, end, pct):
    if kind == "cos":
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
    return (end - start) * pct + start


def _momentum_bounds(optimizer, cls, *bounds):
    """``cycle_momentum``'s per-group momentum bounds, checked in the order given (PyTorch's
    order differs between OneCycleLR and CyclicLR, and so does which error comes first); the
    optimizer must have momentum or Adam's betas."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` "
                         "option enabled")
    return [[_real(v, name, cls) for v in _per_group(value, name, optimizer, cls)]
            for name, value in bounds]


class OneCycleLR(LRScheduler):
    """The 1cycle policy, as ``torch.optim.lr_scheduler.OneCycleLR``, stepped once a **batch**:
    the rate climbs from ``max_lr / div_factor`` to ``max_lr`` over the first ``pct_start`` of
    ``total_steps`` (or ``epochs * steps_per_epoch``), then anneals (cosine or linear) down to
    ``initial_lr / final_div_factor``; with ``three_phase`` it first comes back down to the
    initial rate. With ``cycle_momentum`` the momentum (SGD's ``momentum``, Adam's first beta)
    moves the other way, between ``max_momentum`` and ``base_momentum``. Stepping past
    ``total_steps`` is a ValueError, as PyTorch."""

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        cls = "OneCycleLR"
        _optimizer(optimizer)
        _int(last_epoch, "last_epoch", cls, -1)  # before the groups are written
        if total_steps is not None:
            total = _int(total_steps, "total_steps", cls, 1)
        elif epochs is not None and steps_per_epoch is not None:
            total = _int(epochs, "epochs", cls, 1) * _int(steps_per_epoch, "steps_per_epoch",
                                                          cls, 1)
        else:
            raise ValueError(f"{cls}: You must define either total_steps OR (epochs AND "
                             f"steps_per_epoch)")
        pct = _real(pct_start, "pct_start", cls, 0.0, 1.0)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{cls}: anneal_strategy must be one of 'cos' or 'linear', instead "
                             f"got {anneal_strategy!r}")
        max_lrs = [_real(v, "max_lr", cls, 0.0)
                   for v in _per_group(max_lr, "max_lr", optimizer, cls)]
        div = _real(div_factor, "div_factor", cls, 0.0, low_open=True)
        final = _real(final_div_factor, "final_div_factor", cls, 0.0, low_open=True)
        up = float(pct * total) - 1
        if three_phase:  # (end step, lr from, lr to, momentum from, momentum to)
            phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                      (float(2 * pct * total) - 2, "max_lr", "initial_lr", "base_momentum",
                       "max_momentum"),
                      (total - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                      (total - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        if last_epoch == -1 and phases[0][0] == 0.0:  # the first step would divide by zero
            raise ValueError(f"{cls}: pct_start={pct} of total_steps={total} leaves a warm-up "
                             f"of no steps; change either")
        cycle = bool(cycle_momentum)
        if cycle:  # torch reads max_momentum first here
            highs, lows = _momentum_bounds(optimizer, cls, ("max_momentum", max_momentum),
                                           ("base_momentum", base_momentum))
        self.total_steps, self._phases = total, phases
        self.anneal_strategy, self.cycle_momentum = anneal_strategy, cycle
        self.use_beta1 = cycle and "betas" in optimizer.defaults
        if last_epoch == -1:
            for i, group in enumerate(optimizer.param_groups):
                group["initial_lr"] = max_lrs[i] / div
                group["max_lr"] = max_lrs[i]
                group["min_lr"] = group["initial_lr"] / final
                if cycle:
                    self._set_momentum(group, highs[i])
                    group["max_momentum"], group["base_momentum"] = highs[i], lows[i]
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group, m):
        if self.use_beta1:
            group["betas"] = (m, *group["betas"][1:])
        else:
            group["momentum"] = m

    def get_lr(self):
        self._check_called_in_step()
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total steps "
                             f"is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, (end, lr0, lr1, m0, m1) in enumerate(self._phases):
                if step <= end or i == len(self._phases) - 1:
                    if end == start:  # PyTorch divides by zero here
                        raise ValueError(f"OneCycleLR: step {step} falls in a phase of no steps "
                                         f"(pct_start and total_steps leave it none)")
                    pct = (step - start) / (end - start)
                    lrs.append(_anneal(self.anneal_strategy, group[lr0], group[lr1], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, _anneal(self.anneal_strategy, group[m0],
                                                          group[m1], pct))
                    break
                start = end
        return lrs


# ---- cyclical learning rates ----------------------------------------------------------------------

class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith, 2017), as ``torch.optim.lr_scheduler.CyclicLR``, stepped
    once a **batch**: the rate climbs from ``base_lr`` to ``max_lr`` over ``step_size_up``
    iterations and comes back over ``step_size_down`` (default: the same), the amplitude scaled
    by ``scale_fn``: 1 (``"triangular"``), halved every cycle (``"triangular2"``),
    ``gamma ** iteration`` (``"exp_range"``), or your own ``scale_fn`` of the cycle number or the
    iteration (``scale_mode``). With ``cycle_momentum`` the momentum (SGD's ``momentum``, Adam's
    first beta) moves the other way, between ``max_momentum`` and ``base_momentum``. Building it
    sets each group's rate to ``base_lr``. The schedule is closed-form (from ``base_lr``, not
    from the current rate), as PyTorch's."""

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                 mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle",
                 cycle_momentum=True, base_momentum=0.8, max_momentum=0.9, last_epoch=-1):
        cls = "CyclicLR"
        _optimizer(optimizer)
        _int(last_epoch, "last_epoch", cls, -1)  # every check before the groups are written
        base_lrs = [_real(v, "base_lr", cls, 0.0)
                    for v in _per_group(base_lr, "base_lr", optimizer, cls)]
        max_lrs = [_real(v, "max_lr", cls, 0.0)
                   for v in _per_group(max_lr, "max_lr", optimizer, cls)]
        up = _real(step_size_up, "step_size_up", cls, 0.0, low_open=True)
        down = up if step_size_down is None else _real(step_size_down, "step_size_down", cls, 0.0)
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        if scale_fn is not None and not callable(scale_fn):
            raise TypeError(f"{cls}: scale_fn must be callable or None, got "
                            f"{type(scale_fn).__name__}")
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"{cls}: scale_mode must be 'cycle' or 'iterations', got "
                             f"{scale_mode!r}")
        gamma = _real(gamma, "gamma", cls)
        cycle = bool(cycle_momentum)
        if cycle:  # torch reads base_momentum first here
            lows, highs = _momentum_bounds(optimizer, cls, ("base_momentum", base_momentum),
                                           ("max_momentum", max_momentum))
        self.max_lrs = max_lrs
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        self.mode, self.gamma = mode, gamma
        self._scale_fn_custom = scale_fn
        # the built-in modes fix the scale mode, whatever was passed, as PyTorch
        self.scale_mode = scale_mode if scale_fn is not None else \
            ("iterations" if mode == "exp_range" else "cycle")
        self.cycle_momentum = cycle
        self.use_beta1 = cycle and "betas" in optimizer.defaults
        if cycle:
            self.base_momentums, self.max_momentums = lows, highs
        if last_epoch == -1:
            for i, group in enumerate(optimizer.param_groups):
                group["lr"] = base_lrs[i]
                if cycle:
                    self._set_momentum(group, highs[i])
                    group["max_momentum"], group["base_momentum"] = highs[i], lows[i]
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs  # after the base class, as PyTorch (it read initial_lr)

    def _set_momentum(self, group, m):
        if self.use_beta1:
            group["betas"] = (m, *group["betas"][1:])
        else:
            group["momentum"] = m

    def scale_fn(self, x):
        """The amplitude's scale at cycle (or iteration) ``x``."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self):
        self._check_called_in_step()
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base + (high - base) * scale_factor * scale
               for base, high in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, low, high in zip(self.optimizer.param_groups, self.base_momentums,
                                        self.max_momentums):
                self._set_momentum(group, high - (high - low) * scale_factor * scale)
        return lrs

    def state_dict(self):
        """As the base class's; a ``scale_fn`` that is a callable object is saved by its
        attributes, a plain function not at all (as PyTorch)."""
        state = {k: v for k, v in self.__dict__.items()
                 if k not in ("optimizer", "_scale_fn_custom")}
        fn = self._scale_fn_custom
        state["_scale_fn_custom"] = (dict(fn.__dict__) if fn is not None
                                     and not isinstance(fn, types.FunctionType) else None)
        return state

    def load_state_dict(self, state_dict):
        if not isinstance(state_dict, dict):
            raise TypeError(f"CyclicLR.load_state_dict: state_dict must be a dict, got "
                            f"{type(state_dict).__name__}")
        state = dict(state_dict)
        attrs = state.pop("_scale_fn_custom", None)
        super().load_state_dict(state)
        if attrs is not None and self._scale_fn_custom is not None:
            self._scale_fn_custom.__dict__.update(attrs)
