"""``nn.MultiheadAttention.merge_masks`` against torch's: the same mask type, values, dtype and
shape for every combination of bool and float masks; clear errors where torch's view fails."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import nn

torch = pytest.importorskip("torch")

N, L, E, H = 2, 3, 4, 2


def _masks(rng):
    return {
        "none": None,
        "bool2d": rng.random((L, L)) > 0.5,
        "bool3d": rng.random((N * H, L, L)) > 0.5,
        "float2d": rng.standard_normal((L, L)),
        "float3d": rng.standard_normal((N * H, L, L)),
    }


def _pads(rng):
    return {"none": None, "bool": rng.random((N, L)) > 0.5, "float": rng.standard_normal((N, L))}


@pytest.mark.parametrize("attn", ["none", "bool2d", "bool3d", "float2d", "float3d"])
@pytest.mark.parametrize("pad", ["none", "bool", "float"])
def test_merge_masks_matches_torch(attn, pad):
    rng = np.random.default_rng(0)
    a, k = _masks(rng)[attn], _pads(rng)[pad]
    q = rng.standard_normal((N, L, E))
    ours = nn.MultiheadAttention(E, H).merge_masks(
        None if a is None else tg.Tensor(a), None if k is None else tg.Tensor(k), tg.Tensor(q))
    theirs = torch.nn.MultiheadAttention(E, H).merge_masks(
        None if a is None else torch.tensor(a), None if k is None else torch.tensor(k),
        torch.tensor(q))
    assert ours[1] == theirs[1]
    if theirs[0] is None:
        assert ours[0] is None
        return
    want = theirs[0].numpy()
    assert ours[0].shape == want.shape and ours[0].dtype == want.dtype
    np.testing.assert_array_equal(ours[0].numpy(), want)


def test_merge_masks_errors():
    mha = nn.MultiheadAttention(E, H)
    q = tg.Tensor(np.zeros((N, L, E)))
    with pytest.raises(ValueError, match="attn_mask of shape \\(4, 4\\) cannot be viewed"):
        mha.merge_masks(tg.Tensor(np.zeros((4, 4), bool)), None, q)
    with pytest.raises(ValueError, match="key_padding_mask of shape \\(2, 4\\) cannot be viewed"):
        mha.merge_masks(tg.Tensor(np.zeros((L, L), bool)), tg.Tensor(np.zeros((2, 4), bool)), q)
    with pytest.raises(ValueError, match="query must be a 3-D Tensor"):
        mha.merge_masks(tg.Tensor(np.zeros((L, L), bool)), None, tg.Tensor(np.zeros((L, E))))
    with pytest.raises(TypeError, match="attn_mask must be a Tensor or None"):
        mha.merge_masks(np.zeros((L, L), bool), None, q)
