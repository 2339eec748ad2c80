"""PyTorch attributes and names that models and training scripts use and that were missing here
(found by comparing each layer's and scheduler module's names with torch 2.13): the recurrent
layers' ``all_weights`` and ``flatten_parameters()``, the convolutions' ``transposed`` flag and
the schedulers' old base-class name ``_LRScheduler``."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import nn, optim
from tinygrad_norm.optim import lr_scheduler


def _names(module, groups):
    """Each group of parameters as their state-dict names (identity, not value)."""
    by_id = {id(p): n for n, p in module.named_parameters()}
    return [[by_id[id(p)] for p in group] for group in groups]


@pytest.mark.parametrize("name,kwargs", [
    ("RNN", {}), ("GRU", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"num_layers": 2, "bias": False, "proj_size": 2}),
    ("LSTM", {"bidirectional": True, "proj_size": 3})])
def test_all_weights_lists_parameters_in_torch_order(torch, name, kwargs):
    theirs = getattr(torch.nn, name)(3, 4, **kwargs)
    ours = getattr(nn, name)(3, 4, **kwargs)
    assert _names(ours, ours.all_weights) == _names(theirs, theirs.all_weights)
    # the very Parameter objects: an optimizer or an init loop over them acts on the layer
    assert all(p is ours.get_parameter(n) for group, names in
               zip(ours.all_weights, _names(ours, ours.all_weights)) for p, n in zip(group, names))


def test_flatten_parameters_is_a_no_op_that_models_may_call():
    lstm = nn.LSTM(3, 4, num_layers=2, dtype=np.float64)
    before = {k: v.data.copy() for k, v in lstm.state_dict().items()}
    x = tg.Tensor(np.random.default_rng(0).standard_normal((5, 2, 3)))
    out_before = lstm(x)[0].data
    assert lstm.flatten_parameters() is None
    assert all(np.array_equal(before[k], v.data) for k, v in lstm.state_dict().items())
    np.testing.assert_array_equal(lstm(x)[0].data, out_before)


@pytest.mark.parametrize("name,flag", [
    ("Conv1d", False), ("Conv2d", False), ("Conv3d", False),
    ("ConvTranspose1d", True), ("ConvTranspose2d", True), ("ConvTranspose3d", True)])
def test_convolutions_carry_torchs_transposed_flag(torch, name, flag):
    assert getattr(torch.nn, name)(2, 2, 1).transposed is flag
    assert getattr(nn, name)(2, 2, 1).transposed is flag


def test_old_base_class_name_schedules_like_torch(torch):
    """A custom warm-up written against ``_LRScheduler`` gives torch's rates."""
    def warmup(base):
        class Warmup(base):
            def get_lr(self):
                return [b * min(1.0, (self.last_epoch + 1) / 3) for b in self.base_lrs]
        return Warmup

    assert issubclass(lr_scheduler._LRScheduler, lr_scheduler.LRScheduler)
    t_opt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.3)
    o_opt = optim.SGD([tg.Tensor(np.zeros(2, np.float32), requires_grad=True)], lr=0.3)
    t_s = warmup(torch.optim.lr_scheduler._LRScheduler)(t_opt)
    o_s = warmup(lr_scheduler._LRScheduler)(o_opt)
    for _ in range(5):
        t_opt.step(), o_opt.step()
        t_s.step(), o_s.step()
        assert o_s.get_last_lr() == pytest.approx(t_s.get_last_lr(), rel=1e-15)
