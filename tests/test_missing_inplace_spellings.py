"""torch's top-level in-place spellings (``tg.relu_(x)``...) against torch's: each writes into
its argument and returns it, with the values torch's function gives; a leaf that requires grad
is refused as by the method; a non-Tensor is a TypeError."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor
from tinygrad_norm.inplace_spellings import __all__ as NAMES

ARGS = {"clamp_": (-0.5, 0.5), "clip_": (-0.5, 0.5), "clamp_max_": (0.2,), "clamp_min_": (0.1,),
        "fill_": (2.5,), "xlogy_": ("OTHER",), "nan_to_num_": (0.0,), "round_": (),
        "logit_": (1e-3,)}
SKIP = {"addmv_", "index_put_", "detach_"}  # other argument shapes: tested below


@pytest.mark.parametrize("name", [n for n in NAMES if n not in SKIP])
def test_matches_torch_in_place(torch, name):
    x = np.random.default_rng(0).uniform(0.1, 0.9, (3, 4))  # in every function's domain
    if name in ("acosh_", "arccosh_"):
        x = x + 1.0
    args = [np.full((3, 4), 0.7) if a == "OTHER" else a for a in ARGS.get(name, ())]
    ours = Tensor(x.copy())
    theirs = torch.from_numpy(x.copy())
    out = getattr(tg, name)(ours, *[Tensor(a) if isinstance(a, np.ndarray) else a for a in args])
    tout = getattr(torch, name)(theirs,
                                *[torch.from_numpy(a) if isinstance(a, np.ndarray) else a
                                  for a in args])
    assert out is ours and tout is theirs
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-15)


def test_the_other_argument_shapes(torch):
    y, ty = Tensor(np.ones(3)), torch.ones(3, dtype=torch.float64)
    m, v = np.arange(6.0).reshape(3, 2), np.array([1.0, -1.0])
    tg.addmv_(y, Tensor(m), Tensor(v), beta=0.5)
    torch.addmv_(ty, torch.from_numpy(m), torch.from_numpy(v), beta=0.5)
    np.testing.assert_allclose(y.numpy(), ty.numpy())
    z, tz = Tensor(np.zeros(4)), torch.zeros(4, dtype=torch.float64)
    tg.index_put_(z, (Tensor(np.array([1, 3])),), Tensor(np.array([5.0, 6.0])))
    torch.index_put_(tz, (torch.tensor([1, 3]),), torch.tensor([5.0, 6.0], dtype=torch.float64))
    np.testing.assert_array_equal(z.numpy(), tz.numpy())
    w = tg.ones(2, requires_grad=True) * 2
    assert tg.detach_(w) is w and not w.requires_grad


def test_checks():
    with pytest.raises(TypeError, match="relu_\\(\\): argument 'input' must be Tensor, not list"):
        tg.relu_([1.0])
    leaf = tg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf tensor that requires grad is being used in an "
                                           "in-place operation"):  # the method's own refusal
        tg.relu_(leaf)
