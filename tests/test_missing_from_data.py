"""tg.asarray and tg.scalar_tensor against torch's: memory shared with a Tensor or a NumPy array
unless a copy is needed, copies on request (on the graph for a Tensor), casts, torch's refusal to
alias across dtypes with copy=False, Python data typed as torch types it, requires_grad; the
0-d tensor's dtype."""
from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor


def test_a_tensor_is_returned_itself_or_copied_or_cast(torch):
    t = tg.ones(3, requires_grad=True)
    assert tg.asarray(t) is t
    c = tg.asarray(t, copy=True)
    assert c is not t and c.requires_grad and not c.is_leaf  # a copy on the graph, as torch's
    d = tg.asarray(t, dtype=np.float64)
    assert d.dtype == np.float64 and d.requires_grad
    (c.sum() + d.sum()).backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.full(3, 2.0, np.float32))


def test_numpy_memory_is_shared_unless_a_copy_is_needed(torch):
    n = np.ones(3)
    a, ta = tg.asarray(n), torch.asarray(n)
    n[0] = 5.0
    assert a.numpy()[0] == ta[0].item() == 5.0 and a.dtype == np.float64
    b = tg.asarray(n, copy=True)
    n[1] = 7.0
    assert b.numpy()[1] == 1.0
    c = tg.asarray(n, dtype=np.float32)
    assert c.dtype == np.float32 and not np.shares_memory(c.numpy(), n)


def test_refusing_to_alias_across_dtypes_is_torchs(torch):
    n = np.ones(3)
    with pytest.raises(ValueError) as theirs:
        torch.asarray(n, dtype=torch.float32, copy=False)
    with pytest.raises(ValueError, match=re.escape("can't alias tensor with dtype 'float64' into "
                                                   "dtype 'float32'.")):
        tg.asarray(n, dtype=np.float32, copy=False)
    assert "can't alias tensor with dtype" in str(theirs.value)
    with pytest.raises(ValueError, match="can't alias"):
        tg.asarray(tg.ones(2), dtype=np.float64, copy=False)


@pytest.mark.parametrize("data", [[1, 2], [1.0, 2], 3.0, [True, False], [[1, 2], [3, 4]]],
                         ids=str)
def test_python_data_is_typed_as_torch_types_it(torch, data):
    ours, theirs = tg.asarray(data), torch.asarray(data)
    assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_requires_grad_and_device():
    x = tg.asarray([1.0, 2.0], requires_grad=True)
    assert x.requires_grad and x.is_leaf
    assert tg.asarray([1.0], device="cpu").device == tg.device("cpu")
    with pytest.raises(ValueError, match="asarray\\(\\): device 'cuda' is not available"):
        tg.asarray([1.0], device="cuda")


@pytest.mark.parametrize("s,dtype", [(3, None), (True, None), (2.5, None), (2, "float64"),
                                     (7, "int64")])
def test_scalar_tensor_matches_torch(torch, s, dtype):
    ours = tg.scalar_tensor(s, dtype=dtype)
    theirs = torch.scalar_tensor(s, dtype=None if dtype is None else getattr(torch, dtype))
    assert ours.shape == () and ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))
    assert ours.item() == theirs.item()
    with pytest.raises(TypeError, match="argument 's' must be a real number"):
        tg.scalar_tensor(Tensor(np.array(1.0)))
