"""Module.get_submodule / get_parameter / get_buffer / register_module / half against PyTorch."""
import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import nn


def _models(torch):
    return (torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Sequential(torch.nn.BatchNorm1d(2))),
            nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.BatchNorm1d(2))))


def test_lookups_find_what_named_members_name(torch):
    _, m = _models(torch)
    assert m.get_submodule("") is m and m.get_submodule("1.0") is m[1][0]
    for name, p in m.named_parameters():
        assert m.get_parameter(name) is p
    for name, b in m.named_buffers():
        assert m.get_buffer(name) is b


@pytest.mark.parametrize("fn, target", [
    ("get_submodule", "5"), ("get_submodule", "0.weight"), ("get_submodule", "0.x.y"),
    ("get_parameter", "0.nope"), ("get_parameter", "1.0.running_mean"), ("get_parameter", "weight"),
    ("get_buffer", "0.weight"), ("get_buffer", "1.0.nope"), ("get_buffer", "2.x"),
])
def test_lookup_errors_are_torchs(torch, fn, target):
    theirs, mine = _models(torch)
    with pytest.raises(AttributeError) as expected:
        getattr(theirs, fn)(target)
    with pytest.raises(AttributeError) as got:
        getattr(mine, fn)(target)
    assert str(got.value) == str(expected.value)


def test_a_target_must_be_a_string():
    for fn in ("get_submodule", "get_parameter", "get_buffer"):
        with pytest.raises(TypeError, match="target must be a str"):
            getattr(nn.Linear(2, 2), fn)(0)


def test_register_module_and_half():
    m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    m.register_module("act", nn.ReLU())
    assert list(dict(m.named_children())) == ["0", "1", "act"]
    m.half()
    assert {str(t.dtype) for t in m.parameters()} == {"float16"}
    assert m[1].running_var.dtype == np.float16 and m[1].num_batches_tracked.dtype == np.int64
    assert m(tg.Tensor(np.ones((3, 2), np.float16))).dtype == np.float16
