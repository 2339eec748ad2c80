"""``nn.utils.fuse_conv_bn_eval`` / ``fuse_linear_bn_eval`` and their ``*_weights`` helpers,
which torch 2.13 has and this library lacked: the fused layer's weights equal torch's, its output
equals ``bn(layer(x))`` in eval mode, and the checks refuse a training module or a norm without
running statistics."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import nn


def _trained_bn(torch, ours_bn, theirs_bn, shape):
    """A few training steps on both, so the running statistics are not the initial ones."""
    rng = np.random.default_rng(0)
    with torch.no_grad():
        theirs_bn.weight.uniform_(0.5, 2.0)
        theirs_bn.bias.uniform_(-1.0, 1.0)
    ours_bn.load_state_dict({k: v.numpy() for k, v in theirs_bn.state_dict().items()})
    for _ in range(3):
        x = rng.standard_normal(shape) * 3 + 1
        theirs_bn(torch.tensor(x))
        ours_bn(tg.Tensor(x))
    theirs_bn.eval()
    ours_bn.eval()


@pytest.mark.parametrize("kind,bias", [("Conv2d", True), ("Conv2d", False),
                                       ("ConvTranspose2d", True), ("Conv1d", False)])
def test_conv_bn_fusion_is_torchs(torch, kind, bias):
    transpose = kind.startswith("ConvTranspose")
    theirs_conv = getattr(torch.nn, kind)(3, 4, 3, bias=bias).double().eval()
    ours_conv = getattr(nn, kind)(3, 4, 3, bias=bias, dtype=np.float64).eval()
    ours_conv.load_state_dict({k: v.numpy() for k, v in theirs_conv.state_dict().items()})
    bn = "BatchNorm1d" if kind.endswith("1d") else "BatchNorm2d"
    theirs_bn, ours_bn = getattr(torch.nn, bn)(4).double(), getattr(nn, bn)(4, dtype=np.float64)
    spatial = (6,) if kind.endswith("1d") else (5, 6)
    _trained_bn(torch, ours_bn, theirs_bn, (8, 4) + spatial)
    theirs = torch.nn.utils.fuse_conv_bn_eval(theirs_conv, theirs_bn, transpose)
    ours = nn.utils.fuse_conv_bn_eval(ours_conv, ours_bn, transpose)
    assert ours is not ours_conv and (ours_conv.bias is None) == (not bias)  # a copy
    for name in ("weight", "bias"):
        np.testing.assert_allclose(getattr(ours, name).data,
                                   getattr(theirs, name).detach().numpy(), rtol=1e-13)
        assert getattr(ours, name).requires_grad == getattr(theirs, name).requires_grad
    x = tg.Tensor(np.random.default_rng(1).standard_normal((2, 3) + spatial))
    np.testing.assert_allclose(ours(x).data, ours_bn(ours_conv(x)).data, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("bias,features", [(True, 5), (False, 5), (True, 1)])
def test_linear_bn_fusion_is_torchs(torch, bias, features):
    theirs_lin = torch.nn.Linear(3, 5, bias=bias).double().eval()
    ours_lin = nn.Linear(3, 5, bias=bias, dtype=np.float64).eval()
    ours_lin.load_state_dict({k: v.numpy() for k, v in theirs_lin.state_dict().items()})
    theirs_bn = torch.nn.BatchNorm1d(features).double()
    ours_bn = nn.BatchNorm1d(features, dtype=np.float64)
    _trained_bn(torch, ours_bn, theirs_bn, (8, features))
    theirs = torch.nn.utils.fuse_linear_bn_eval(theirs_lin, theirs_bn)
    ours = nn.utils.fuse_linear_bn_eval(ours_lin, ours_bn)
    for name in ("weight", "bias"):
        np.testing.assert_allclose(getattr(ours, name).data,
                                   getattr(theirs, name).detach().numpy(), rtol=1e-13)
    if features == 5:
        x = tg.Tensor(np.random.default_rng(2).standard_normal((4, 3)))
        np.testing.assert_allclose(ours(x).data, ours_bn(ours_lin(x)).data, rtol=1e-12)


def test_fused_float32_layer_stays_float32():
    fused = nn.utils.fuse_conv_bn_eval(nn.Conv2d(3, 4, 1, bias=False).eval(),
                                       nn.BatchNorm2d(4).eval())
    assert fused.weight.dtype == fused.bias.dtype == np.float32
    assert fused.weight.requires_grad and not fused.bias.requires_grad  # as torch's


def test_fusion_refuses_training_modules_and_norms_without_statistics():
    conv, bn = nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4)
    with pytest.raises(ValueError, match="Fusion only for eval"):
        nn.utils.fuse_conv_bn_eval(conv, bn)
    with pytest.raises(ValueError, match="no running statistics"):
        nn.utils.fuse_conv_bn_eval(conv.eval(), nn.BatchNorm2d(4, track_running_stats=False)
                                   .eval())
    with pytest.raises(ValueError, match="out_features == bn.num_features"):
        nn.utils.fuse_linear_bn_eval(nn.Linear(3, 5).eval(), nn.BatchNorm1d(4).eval())
