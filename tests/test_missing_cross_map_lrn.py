"""nn.CrossMapLRN2d against ``torch.nn.CrossMapLRN2d``: values equal to torch's (its uneven
channel windows included) for channel counts 1-9 and sizes 1-8, float64 to 1e-12 and float32 to
1e-5; gradients and second derivatives against finite differences; gradients equal to torch's
under a random upstream gradient wherever torch's hand-written backward is right (its own
gradcheck passes: few channels against the window); torch's error for a non-4-D input; the
repr; empty batch; the same in train and eval."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor, nn

from conftest import gradchecks, torch_parity

CASES = [(c, s) for c in (1, 2, 3, 4, 6, 9) for s in (1, 2, 3, 4, 5, 8)]
ARGS = (0.4, 0.6, 1.5)  # alpha, beta, k: large enough that every window term matters


def _ours(size, alpha=ARGS[0], beta=ARGS[1], k=ARGS[2]):
    return nn.CrossMapLRN2d(size, alpha, beta, k)


@pytest.mark.parametrize("channels,size", CASES, ids=str)
@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 1e-5)],
                         ids=["f64", "f32"])
def test_values_match_torch(torch, channels, size, dtype, rtol):
    x = np.random.default_rng(channels * 10 + size).standard_normal((2, channels, 3, 4)) * 2
    x = x.astype(dtype)
    out = _ours(size)(Tensor(x))
    ref = torch.nn.CrossMapLRN2d(size, *ARGS)(torch.from_numpy(x.copy()))
    assert out.dtype == dtype
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=rtol, atol=rtol)


def _torch_backward_is_right(torch, channels, size):
    """Whether torch's hand-written backward agrees with finite differences of its forward."""
    m = torch.nn.CrossMapLRN2d(size, *ARGS)
    x = torch.randn(1, channels, 2, 2, dtype=torch.float64, requires_grad=True,
                    generator=torch.Generator().manual_seed(0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return torch.autograd.gradcheck(m, (x,), raise_exception=False)
        except RuntimeError:  # size=1: its backward cannot even run
            return False


@pytest.mark.parametrize("channels,size", CASES, ids=str)
def test_gradients_match_torch_where_torchs_backward_is_right(torch, channels, size):
    if not _torch_backward_is_right(torch, channels, size):
        pytest.skip("torch's backward disagrees with its own forward here (see the module)")
    x = np.random.default_rng(1).standard_normal((2, channels, 3, 2))
    torch_parity(torch, _ours(size), torch.nn.CrossMapLRN2d(size, *ARGS), [x], np.float64,
                 1e-10)
    torch_parity(torch, _ours(size), torch.nn.CrossMapLRN2d(size, *ARGS), [x], np.float32,
                 1e-5)


def test_torchs_backward_is_right_somewhere_and_wrong_elsewhere(torch):
    """So the parity test above compares something, and the documented difference is real."""
    right = [c for c in CASES if _torch_backward_is_right(torch, *c)]
    assert 5 <= len(right) < len(CASES) - 10
    assert (9, 5) not in right and (2, 5) in right


@pytest.mark.parametrize("channels,size", [(6, 5), (7, 4), (4, 1), (3, 8), (1, 2)], ids=str)
def test_gradcheck_and_gradgradcheck(channels, size):
    x = np.random.default_rng(2).standard_normal((2, channels, 2, 3))
    gradchecks(_ours(size), [x])


def test_non_4d_input_is_torchs_error(torch):
    with pytest.raises(ValueError) as theirs:
        torch.nn.CrossMapLRN2d(3)(torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="^" + re.escape(str(theirs.value)) + "$"):
        nn.CrossMapLRN2d(3)(tg.zeros(2, 3, 4))


def test_argument_checks():
    with pytest.raises(ValueError, match="size must be positive"):
        nn.CrossMapLRN2d(0)
    with pytest.raises(TypeError, match="size must be an int"):
        nn.CrossMapLRN2d(2.5)
    with pytest.raises(TypeError, match="alpha must be a real number"):
        nn.CrossMapLRN2d(3, alpha="a")
    with pytest.raises(TypeError, match="input must be a Tensor"):
        nn.CrossMapLRN2d(3)(np.zeros((1, 2, 2, 2)))
    with pytest.raises(TypeError, match="floating point"):
        nn.CrossMapLRN2d(3)(Tensor(np.zeros((1, 2, 2, 2), np.int64)))


def test_repr_and_modes_match_torch(torch):
    assert repr(nn.CrossMapLRN2d(3)) == repr(torch.nn.CrossMapLRN2d(3))
    assert repr(nn.CrossMapLRN2d(5, 0.1, 0.5, 2.0)) == repr(torch.nn.CrossMapLRN2d(5, 0.1, 0.5,
                                                                                    2.0))
    m = _ours(3)
    x = Tensor(np.random.default_rng(3).standard_normal((2, 4, 2, 2)))
    np.testing.assert_array_equal(m(x).numpy(), m.eval()(x).numpy())
    assert list(m.state_dict()) == []


def test_empty_batch_matches_torch(torch):
    out = _ours(3)(Tensor(np.zeros((0, 4, 2, 2))))
    ref = torch.nn.CrossMapLRN2d(3, *ARGS)(torch.zeros(0, 4, 2, 2, dtype=torch.float64))
    assert out.shape == tuple(ref.shape)
