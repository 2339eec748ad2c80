"""``nn.utils.skip_init``: the module is built as ``module_cls(*args, **kwargs)`` would build it,
but no ``nn.init`` function draws or writes, and the framework's generator is left as it was."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import nn
from tinygrad_norm.nn import init


class _Filled(nn.Module):
    """Zeros allocated, then initialised by a fill and by a draw from a generator of its own."""

    def __init__(self, gen, value=5.0):
        super().__init__()
        self.a = nn.Parameter(np.zeros(3))
        self.b = nn.Parameter(np.zeros(3))
        init.constant_(self.a, value)
        init.normal_(self.b, generator=gen)


def test_skip_init_builds_the_module_without_running_init():
    gen = np.random.default_rng(0)
    state = gen.bit_generator.state
    m = nn.utils.skip_init(_Filled, gen, value=7.0)
    assert isinstance(m, _Filled)
    np.testing.assert_array_equal(m.a.numpy(), 0)  # the fill was skipped
    np.testing.assert_array_equal(m.b.numpy(), 0)
    assert gen.bit_generator.state == state  # the draw was skipped
    m = _Filled(gen)  # outside, init works again
    np.testing.assert_array_equal(m.a.numpy(), 5)
    assert gen.bit_generator.state != state


@pytest.mark.parametrize("build", [
    lambda: nn.utils.skip_init(nn.Linear, 5, 1),
    lambda: nn.utils.skip_init(nn.Linear, in_features=6, out_features=2, bias=False),
    lambda: nn.utils.skip_init(nn.MultiheadAttention, 8, 2),
    lambda: nn.utils.skip_init(nn.TransformerEncoderLayer, 8, 2, dim_feedforward=16),
    lambda: nn.utils.skip_init(nn.LSTM, 3, 4),
])
def test_skip_init_leaves_the_generator_and_gives_the_usual_structure(build):
    tg.manual_seed(3)
    m = build()
    after = tg.random.generator().standard_normal(4)
    tg.manual_seed(3)
    np.testing.assert_array_equal(after, tg.random.generator().standard_normal(4))
    assert isinstance(m, nn.Module) and list(m.state_dict())


def test_skip_init_shapes_match_the_initialised_module():
    m = nn.utils.skip_init(nn.Conv2d, 2, 3, 3, dtype=np.float64)
    ref = nn.Conv2d(2, 3, 3, dtype=np.float64)
    assert [(k, v.shape, v.dtype) for k, v in m.state_dict().items()] == \
        [(k, v.shape, v.dtype) for k, v in ref.state_dict().items()]


def test_skip_init_refuses_what_is_not_a_module_class_and_recovers_from_errors():
    for bad in (3, int, nn.Linear(1, 1)):
        with pytest.raises(TypeError, match="Expected a Module"):
            nn.utils.skip_init(bad)
    with pytest.raises(TypeError):
        nn.utils.skip_init(nn.Linear, 2, 2, nonsense=1)
    gen = np.random.default_rng(0)
    np.testing.assert_array_equal(_Filled(gen).a.numpy(), 5)  # init is back on after the error
