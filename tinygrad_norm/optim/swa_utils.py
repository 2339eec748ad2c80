"""Weight averaging, as ``torch.optim.swa_utils``: ``AveragedModel`` keeps a running average
(stochastic weight averaging) or an exponential moving average (EMA) of a model's weights,
``SWALR`` anneals the learning rate to a constant for the averaging phase, and ``update_bn``
recomputes batch-norm statistics for the averaged weights.

The averages are written in place, off the tape (they are never differentiated), in the
averaged tensors' own dtype: an integer buffer (``num_batches_tracked``, with ``use_buffers``)
takes the average truncated toward zero, as PyTorch's ``copy_`` into an integer tensor."""
from __future__ import annotations

import copy
import math
import numbers

import numpy as np

from ..autograd import mark_written, no_grad
from ..nn.module import Module
from ..tensor import Tensor
from .lr_scheduler import LRScheduler, _per_group
from .optimizers import Optimizer

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


def _decay(decay):
    if isinstance(decay, (bool, np.bool_)) or not isinstance(decay, numbers.Real):
        raise TypeError(f"decay must be a real number, got {type(decay).__name__}")
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         f"[0,1] range.")
    return float(decay)


def _write(target, value):
    """``target``'s array becomes ``value`` (an ndarray), cast to its dtype in place."""
    np.copyto(target.data, value, casting="unsafe")
    mark_written((target,))


def get_ema_multi_avg_fn(decay=0.999):
    """An in-place EMA of lists of tensors: ``ema <- lerp(ema, current, 1 - decay)``."""
    decay = _decay(decay)

    def ema_update(ema_param_list, current_param_list, _num_averaged):
        with no_grad():
            for ema, cur in zip(ema_param_list, current_param_list):
                if np.issubdtype(ema.dtype, np.floating):
                    ema.lerp_(cur, 1 - decay)
                else:
                    _write(ema, ema.data * decay + cur.data * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn():
    """An in-place running mean of lists of tensors: ``avg <- lerp(avg, current, 1 / (n + 1))``."""
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        n = _count(num_averaged)
        with no_grad():
            for avg, cur in zip(averaged_param_list, current_param_list):
                if np.issubdtype(avg.dtype, np.floating):
                    avg.lerp_(cur, 1 / (n + 1))
                else:
                    _write(avg, avg.data + (cur.data - avg.data) / (n + 1))
    return swa_update


def get_ema_avg_fn(decay=0.999):
    """The EMA of one tensor, returned: ``decay * ema + (1 - decay) * current``."""
    decay = _decay(decay)

    def ema_update(ema_param, current_param, num_averaged):
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    """The running mean of one tensor, returned: ``avg + (current - avg) / (n + 1)``."""
    def swa_update(averaged_param, current_param, num_averaged):
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (_count(num_averaged) + 1)
    return swa_update


def _count(n):
    return int(n.item()) if isinstance(n, Tensor) else n


class AveragedModel(Module):
    """A deep copy of ``model`` (``self.module``) whose parameters, and with ``use_buffers`` its
    buffers, are averaged by ``update_parameters``; ``n_averaged`` (an int64 buffer) counts the
    updates. ``avg_fn(avg, current, n)`` returns one tensor's new average; ``multi_avg_fn``
    updates lists in place; neither: the running mean (SWA)."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel: model must be a Module, got {type(model).__name__}")
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("Only one of avg_fn and multi_avg_fn should be provided")
        for name, fn in (("avg_fn", avg_fn), ("multi_avg_fn", multi_avg_fn)):
            if fn is not None and not callable(fn):
                raise TypeError(f"AveragedModel: {name} must be callable, got "
                                f"{type(fn).__name__}")
        if device is not None and str(device) != "cpu":
            raise ValueError(f"AveragedModel: only the 'cpu' device exists here, got {device!r}")
        from ..functional._checks import _flag
        self.use_buffers = _flag(use_buffers, "use_buffers", "AveragedModel")
        self.module = copy.deepcopy(model)
        self.register_buffer("n_averaged", Tensor(np.array(0, dtype=np.int64)))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model):
        """Fold ``model``'s current weights into the average (the first call copies them)."""
        if not isinstance(model, Module):
            raise TypeError(f"update_parameters: model must be a Module, got "
                            f"{type(model).__name__}")
        if self.use_buffers:
            mine = list(self.module.parameters()) + list(self.module.buffers())
            theirs = list(model.parameters()) + list(model.buffers())
        else:
            mine, theirs = list(self.parameters()), list(model.parameters())
        pairs = [(a, b.detach()) for a, b in zip(mine, theirs)]  # as torch: the shorter list
        n = int(self.n_averaged.data)
        if n == 0:
            for a, b in pairs:
                _write(a, b.data)
        elif self.avg_fn is not None:
            for a, b in pairs:
                _write(a, self.avg_fn(a.detach(), b, self.n_averaged).data)
        else:
            update = self.multi_avg_fn or _swa_each
            for group in _by_dtype(pairs):
                update([a for a, _ in group], [b for _, b in group], self.n_averaged)
        if not self.use_buffers:  # buffers follow the model (batch-norm statistics)
            for a, b in zip(self.module.buffers(), model.buffers()):
                _write(a, b.data)
        _write(self.n_averaged, np.array(n + 1))


def _swa_each(averaged, current, num_averaged):
    """The default average on a CPU, as PyTorch's: ``avg + (current - avg) / (n + 1)`` per
    tensor (not its multi-tensor ``lerp``, which it keeps for accelerators)."""
    fn = get_swa_avg_fn()
    for a, b in zip(averaged, current):
        _write(a, fn(a.detach(), b, num_averaged).data)


def _by_dtype(pairs):
    """The pairs grouped by the averaged tensor's dtype, in first-seen order (PyTorch hands a
    ``multi_avg_fn`` one dtype at a time)."""
    groups = {}
    for a, b in pairs:
        groups.setdefault(a.dtype, []).append((a, b))
    return list(groups.values())


def update_bn(loader, model, device=None):
    """One pass over ``loader`` in training mode to recompute every batch norm's running
    statistics as plain averages (momentum None), then the momenta and mode as they were. A
    batch that is a list or tuple gives its first item."""
    from ..nn.normalization import _BatchNorm
    momenta = {}
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            m.reset_running_stats()
            momenta[m] = m.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for m in momenta:
        m.momentum = None
    try:
        with no_grad():
            for batch in loader:
                model(batch[0] if isinstance(batch, (list, tuple)) else batch)
    finally:
        for m, momentum in momenta.items():
            m.momentum = momentum
        model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each group's rate from its current value to ``swa_lr`` over ``anneal_epochs``
    steps (``"cos"`` or ``"linear"``), then holds it, as PyTorch's ``SWALR``."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos",
                 last_epoch=-1):
        cls = "SWALR"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        swa_lrs = _per_group(swa_lr, "swa_lr", optimizer, cls)
        for v in swa_lrs:
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
                raise TypeError(f"{cls}: swa_lr must be a real number, got {type(v).__name__}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        if isinstance(anneal_epochs, bool) or not isinstance(anneal_epochs, int) \
                or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        for v, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = v
        self._anneal_strategy = anneal_strategy
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def anneal_func(self, t):
        if self._anneal_strategy == "linear":
            return t
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        """The rate the annealing started from, given the current one at fraction ``alpha``
        (so that rates changed by hand between steps are followed, as PyTorch)."""
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        self._check_called_in_step()
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        groups = self.optimizer.param_groups
        prev = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(groups, prev)]
