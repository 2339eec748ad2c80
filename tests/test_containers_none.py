"""None as a place holder in the containers (an optional layer or parameter at some positions),
as PyTorch's containers allow it: counted by len, shown by repr, skipped by every traversal and by
the state dict; Sequential refuses to call it."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import nn

torch = pytest.importorskip("torch")


def _summary(m):
    text = repr(m).replace("torch.float32", "float32")  # torch's dtype names in ParameterList
    return (list(m.state_dict()), [type(c).__name__ for c in m.children()],
            [n for n, _ in m.named_modules()], [n for n, _ in m.named_parameters()], text,
            len(m), [v is None for v in (m.values() if hasattr(m, "values") else m)])


def _module_list(lib):
    ml = lib.ModuleList([lib.Linear(2, 2), None])
    ml.append(None)
    ml.insert(0, None)
    ml[1] = None  # replaces the Linear
    ml.extend([None, lib.ReLU()])
    return ml


def _module_dict(lib):
    md = lib.ModuleDict({"a": None, "b": lib.ReLU()})
    md["c"] = None
    md.update({"d": None})
    return md


def _sequential(lib):
    return lib.Sequential(lib.Linear(2, 2), None).append(None)


def _parameter_list(lib, ones):
    pl = lib.ParameterList([None])
    pl.append(None)
    pl.append(lib.Parameter(ones(2)))
    pl[0] = None
    return pl


def _parameter_dict(lib):
    pd = lib.ParameterDict({"a": None})
    pd["b"] = None
    pd.update({"c": None})
    return pd


@pytest.mark.parametrize("build", [_module_list, _module_dict, _sequential, _parameter_dict])
def test_none_entries_as_torch(build):
    assert _summary(build(nn)) == _summary(build(torch.nn))


def test_none_in_a_parameter_list_as_torch():
    ours, theirs = _parameter_list(nn, tg.ones), _parameter_list(torch.nn, torch.ones)
    assert _summary(ours) == _summary(theirs)
    assert ours.state_dict(keep_vars=True)["2"] is ours[2] and ours[0] is None


def test_sequential_refuses_to_call_none_and_modes_skip_it():
    seq = _sequential(nn)
    with pytest.raises(TypeError, match="element 1 is None and cannot be called"):
        seq(tg.Tensor(np.ones((1, 2), np.float32)))
    seq.eval()  # every traversal passes the None entries by
    seq.zero_grad()
    seq.requires_grad_(False)
    seq.apply(lambda m: None)
    assert not seq.training and not seq[0].weight.requires_grad
    copy = _sequential(nn)
    copy.load_state_dict(seq.state_dict())
    assert np.array_equal(copy[0].weight.data, seq[0].weight.data)


def test_other_objects_are_still_refused():
    # torch keeps any object in a ParameterList; here only Tensors, Parameters and None
    with pytest.raises(TypeError, match="str is not a Tensor, a Parameter or None"):
        nn.ParameterList(["w"])
    with pytest.raises(TypeError, match="int is not a Module or None"):
        nn.ModuleList([3])
