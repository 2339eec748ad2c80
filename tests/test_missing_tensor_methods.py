"""torch's Tensor methods that were only top-level functions here (diag, cross, multinomial,
bernoulli, absolute, diag_embed, dist, baddbmm), and the layout and cast methods (is_contiguous,
stride, ndimension, byte, char, short), against torch's methods: values, gradients under a
random upstream gradient, strides of views, torch's errors."""
from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor

from conftest import torch_parity

R = np.random.default_rng(0)
CASES = {
    "diag": ([R.standard_normal((4, 5))], lambda x: x.diag(1)),
    "diag-vector": ([R.standard_normal(4)], lambda x: x.diag(-1)),
    "cross": ([R.standard_normal((2, 3)), R.standard_normal((2, 3))], lambda a, b: a.cross(b, 1)),
    "absolute": ([R.standard_normal((3, 4))], lambda x: x.absolute()),
    "diag_embed": ([R.standard_normal((2, 3))], lambda x: x.diag_embed(1)),
    "dist": ([R.standard_normal((3, 4)), R.standard_normal(4)], lambda a, b: a.dist(b, 3)),
    "baddbmm": ([R.standard_normal((2, 3, 4)), R.standard_normal((2, 3, 5)),
                 R.standard_normal((2, 5, 4))], lambda i, a, b: i.baddbmm(a, b, beta=0.5,
                                                                          alpha=2.0)),
}


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("name", list(CASES))
def test_methods_match_torch(torch, name, dtype, rtol):
    arrays, call = CASES[name]
    torch_parity(torch, call, call, arrays, dtype, rtol)


def test_random_methods_draw_as_the_functions():
    p = Tensor(np.array([[0.2, 0.8], [0.5, 0.5]]))
    tg.manual_seed(5)
    a = (p.multinomial(3, True).numpy(), p.bernoulli().numpy())
    tg.manual_seed(5)
    b = (tg.multinomial(p, 3, True).numpy(), tg.bernoulli(p).numpy())
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def _views(lib, x):
    t = lib.tensor(x) if lib is tg else lib.from_numpy(x.copy())
    return [t, t.T, t[:, 1:3], t[::2], t.reshape(4, 3)[1], t[None], t.unsqueeze(1).expand(3, 2, 4),
            (lib.zeros(2, 0, 3)), lib.zeros(()) if lib is tg else lib.zeros(())]


def test_strides_and_contiguity_match_torch(torch):
    x = np.arange(12.0).reshape(3, 4)
    for ours, theirs in zip(_views(tg, x), _views(torch, x)):
        # a dimension of size 1 is never stepped along: its stride is free (NumPy and torch
        # pick different ones for t[None]); every other must agree
        stepped = [d for d in range(ours.ndim) if ours.shape[d] != 1]
        assert [ours.stride()[d] for d in stepped] == [theirs.stride()[d] for d in stepped]
        assert ours.is_contiguous() == theirs.is_contiguous(), ours.shape
        assert ours.ndimension() == theirs.ndimension()
        for d in stepped:
            assert ours.stride(d) == ours.stride(d - ours.ndim) == theirs.stride(d)


def test_stride_errors_are_torchs(torch):
    for t, tt, d in ((tg.zeros(2, 3), torch.zeros(2, 3), 2), (tg.zeros(()), torch.zeros(()), 0)):
        with pytest.raises(IndexError) as theirs:
            tt.stride(d)
        with pytest.raises(IndexError, match="^" + re.escape(str(theirs.value)) + "$"):
            t.stride(d)
    with pytest.raises(TypeError, match="argument 'dim' must be int"):
        tg.zeros(2).stride(0.0)


def test_cast_methods_match_torch(torch):
    x = np.array([-3.7, 0.2, 200.9, 1.5])
    for name in ("byte", "char", "short"):
        with np.errstate(invalid="ignore"):
            ours = getattr(Tensor(x), name)()
        theirs = getattr(torch.from_numpy(x.copy()), name)()
        assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))
        np.testing.assert_array_equal(ours.numpy()[[0, 1, 3]], theirs.numpy()[[0, 1, 3]])
