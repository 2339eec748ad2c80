"""``nn.Buffer`` (torch 2.5+): assigning one registers a buffer with its persistence, as
torch 2.13 does, in the same order of checks."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import nn

torch = pytest.importorskip("torch")


def _story(lib, ones):
    """What a module shows after a sequence of assignments: state-dict keys, buffers."""
    m = lib.Module()
    seen = []
    for step in (lambda: setattr(m, "x", lib.Buffer(ones(2), persistent=False)),
                 lambda: setattr(m, "x", lib.Buffer(ones(3))),
                 lambda: setattr(m, "x", ones(4)),  # a plain tensor keeps x persistent
                 lambda: m.register_buffer("y", lib.Buffer(ones(1)))):
        step()
        seen.append((list(m.state_dict()), [n for n, _ in m.named_buffers()],
                     tuple(m.x.shape)))
    return seen


def test_assignment_story_as_torch():
    assert _story(nn, tg.ones) == _story(torch.nn, torch.ones)


def test_buffer_values_and_marks():
    b = nn.Buffer(tg.ones(2), persistent=False)
    assert isinstance(b, nn.Buffer) and not isinstance(tg.ones(2), nn.Buffer)
    assert type(b) is tg.Tensor and b.persistent is False and not b.requires_grad
    assert nn.Buffer(tg.ones(2, requires_grad=True)).requires_grad  # kept, as torch
    assert nn.Buffer().shape == (0,) and nn.Buffer().dtype == np.float32
    assert np.array_equal(nn.Buffer(np.arange(3)).data, np.arange(3))
    with pytest.raises(TypeError, match="Buffer: data must be a Tensor or an ndarray"):
        nn.Buffer([1, 2])


@pytest.mark.parametrize("lib_name", ["ours", "torch"])
def test_parameter_and_child_names_are_refused(lib_name):
    lib, ones = (nn, tg.ones) if lib_name == "ours" else (torch.nn, torch.ones)
    lin = lib.Linear(2, 2)
    with pytest.raises(TypeError, match="as parameter 'weight'"):
        lin.weight = lib.Buffer(ones((2, 2)))
    seq = lib.Sequential(lib.ReLU())
    with pytest.raises(TypeError, match="as child module '0'"):
        setattr(seq, "0", lib.Buffer(ones(1)))


def test_a_plain_attribute_is_not_replaced():
    m = nn.Module()
    m.plain = 3
    with pytest.raises(ValueError, match="attribute 'plain' already exists"):  # torch: KeyError
        m.plain = nn.Buffer(tg.ones(1))
    assert m.plain == 3 and not list(m.named_buffers())
