"""torch's window functions against torch: every window, periodic and symmetric, lengths 0-9,
float64 to 1e-12 and float32 to 1e-6 (torch computes in float32), the default dtype, the
extra parameters (Hamming's alpha and beta, Kaiser's beta), ``requires_grad``, torch's errors."""
from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_norm as tg

WINDOWS = ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
           "kaiser_window"]
EXTRA = {"hamming_window": [(), (0.5, 0.5), (0.6, 0.3)], "kaiser_window": [(), (3.0,), (0.0,)]}


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("dtype,rtol", [("float64", 1e-12), ("float32", 1e-6)])
def test_windows_match_torch(torch, name, periodic, dtype, rtol):
    for extra in EXTRA.get(name, [()]):
        for n in range(10):
            ours = getattr(tg, name)(n, periodic, *extra, dtype=dtype)
            theirs = getattr(torch, name)(n, periodic, *extra, dtype=getattr(torch, dtype))
            assert ours.dtype == np.dtype(dtype) and ours.shape == tuple(theirs.shape)
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name", WINDOWS)
def test_defaults_and_leaf(torch, name):
    w = getattr(tg, name)(6)
    assert w.dtype == tg.get_default_dtype() and w.is_leaf and not w.requires_grad
    np.testing.assert_allclose(w.numpy(), getattr(torch, name)(6).numpy(), rtol=1e-6,
                               atol=1e-7)
    assert getattr(tg, name)(4, requires_grad=True).requires_grad


@pytest.mark.parametrize("name", WINDOWS)
def test_errors_are_torchs(torch, name):
    with pytest.raises(RuntimeError) as theirs:
        getattr(torch, name)(-1)
    with pytest.raises(ValueError, match="^" + re.escape(str(theirs.value)) + "$"):
        getattr(tg, name)(-1)
    with pytest.raises(RuntimeError, match=f"{name} expects floating point dtypes"):
        getattr(torch, name)(3, dtype=torch.int64)
    with pytest.raises(TypeError, match=f"^{name} expects floating point dtypes, got: int64$"):
        getattr(tg, name)(3, dtype=np.int64)
    with pytest.raises(TypeError, match="argument 'window_length' must be int, not float"):
        getattr(tg, name)(3.0)
    with pytest.raises(TypeError, match="argument 'periodic' must be bool, not int"):
        getattr(tg, name)(3, 1)
