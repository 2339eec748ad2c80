"""``F.feature_alpha_dropout`` and ``nn.FeatureAlphaDropout``, which torch 2.13 has and this
library lacked. Masks cannot be torch's, so torch gives the two values a feature map may take
(kept: ``A x + B``; dropped: a constant) and ours must take one of them for each whole map; the
rate, the train/eval switch, p = 0 and p = 1, the gradient (``A`` times the upstream gradient on
a kept map, 0 on a dropped one) and the errors are checked too."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import functional as F, nn


def _torch_values(torch, x, p):
    """(A, B, dropped constant) read off torch's output for ``x`` (N, C, ...)."""
    torch.manual_seed(0)
    out = torch.nn.functional.feature_alpha_dropout(torch.tensor(x), p, True).numpy()
    maps, xs = out.reshape(out.shape[0] * out.shape[1], -1), x.reshape(out.shape[0] * x.shape[1],
                                                                      -1)
    dropped = np.array([np.ptp(m) == 0 for m in maps])
    assert dropped.any() and not dropped.all()
    k = np.flatnonzero(~dropped)[0]
    A = (maps[k, 1] - maps[k, 0]) / (xs[k, 1] - xs[k, 0])
    return A, maps[k, 0] - A * xs[k, 0], maps[dropped][0, 0]


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_each_map_is_kept_or_dropped_with_torchs_values(torch, p):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 6, 3, 2))
    A, B, dropped_value = _torch_values(torch, x, p)
    tg.manual_seed(1)
    ox = tg.Tensor(x, requires_grad=True)
    out = F.feature_alpha_dropout(ox, p, True)
    up = rng.standard_normal(x.shape)
    (out * tg.Tensor(up)).sum().backward()
    maps = out.data.reshape(240, -1)
    kept = np.isclose(maps, (A * x + B).reshape(240, -1), rtol=1e-12, atol=1e-12).all(axis=1)
    dropped = np.isclose(maps, dropped_value, rtol=1e-12, atol=1e-12).all(axis=1)
    assert (kept ^ dropped).all()  # every map wholly one or the other
    assert abs(dropped.mean() - p) < 4 * np.sqrt(p * (1 - p) / 240)
    grad = ox.grad.data.reshape(240, -1)
    np.testing.assert_allclose(grad[kept], A * up.reshape(240, -1)[kept], rtol=1e-12)
    assert (grad[dropped] == 0).all()


def test_identity_in_eval_and_at_p0_zeros_at_p1(torch):
    x = tg.Tensor(np.random.default_rng(2).standard_normal((3, 4, 5)))
    assert F.feature_alpha_dropout(x, 0.5) is x  # training=False by default, as torch
    assert F.feature_alpha_dropout(x, 0.0, True) is x
    zeros = torch.nn.functional.feature_alpha_dropout(torch.tensor(x.data), 1.0, True).numpy()
    np.testing.assert_array_equal(F.feature_alpha_dropout(x, 1.0, True).data, zeros)
    layer = nn.FeatureAlphaDropout(0.3)
    assert repr(layer) == "FeatureAlphaDropout(p=0.3, inplace=False, mode=train)"
    assert layer.eval()(x) is x


def test_errors_name_the_argument(torch):
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        torch.nn.functional.feature_alpha_dropout(torch.zeros(5), 0.5, True)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        F.feature_alpha_dropout(tg.Tensor(np.zeros(5)), 0.5, True)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        nn.FeatureAlphaDropout(1.5)
    with pytest.raises(TypeError, match="floating point"):
        F.feature_alpha_dropout(tg.Tensor(np.zeros((2, 3), np.int64)), 0.5, True)
