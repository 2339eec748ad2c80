"""``nn.Module.set_submodule``, which torch 2.13 has and this library lacked (model surgery:
swapping a layer deep inside a model by its dotted name). The same replacements, additions,
errors, module tree, state-dict keys and repr as torch's for one script run on both."""
from __future__ import annotations

import numpy as np

import tinygrad_norm as tg
from tinygrad_norm import nn


def _script(nn_):
    model = nn_.Sequential(nn_.Linear(3, 4), nn_.Sequential(nn_.ReLU(), nn_.Linear(4, 2)))
    log = []
    for target, module, strict in [
            ("1.1", nn_.Linear(4, 5), False), ("0", nn_.Identity(), True),
            ("1.new", nn_.Tanh(), False), ("1.nope", nn_.Tanh(), True), ("", nn_.Tanh(), False),
            ("2.x", nn_.Tanh(), False), ("1", "not a module", False),
            ("1.0.x", nn_.Tanh(), False)]:
        try:
            model.set_submodule(target, module, strict=strict)
            log.append(("set", target))
        except (AttributeError, ValueError) as e:
            log.append((type(e).__name__, str(e).replace("<class 'str'>", "str")))
    log += [[n for n, _ in model.named_modules()], list(model.state_dict()), repr(model)]
    return log


def test_set_submodule_as_torchs(torch):
    assert _script(nn) == _script(torch.nn)


def test_a_replaced_layer_is_the_one_called():
    model = nn.Sequential(nn.Linear(3, 4, dtype=np.float64), nn.ReLU())
    model.set_submodule("1", nn.Tanh())
    x = tg.Tensor(np.random.default_rng(0).standard_normal((2, 3)))
    np.testing.assert_allclose(model(x).data, np.tanh(model[0](x).data))
    assert isinstance(model.get_submodule("1"), nn.Tanh)
