"""Local response normalization: the composite against torch's, values and gradients, and its
module."""
import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import nn
from conftest import gradchecks, torch_parity

# (shape, size): windows narrower and wider than the channels, odd and even, ranks 3 to 5
CASES = [((2, 5, 4), 3), ((2, 6, 3, 4), 5), ((1, 3, 2, 2, 2), 2), ((2, 4, 3), 7),
         ((2, 3, 5), 1), ((3, 8, 2, 3), 4)]


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 2e-5)],
                         ids=["f64", "f32"])
@pytest.mark.parametrize("shape,size", CASES)
def test_parity_with_torch(torch, shape, size, dtype, rtol):
    a = np.random.default_rng(size).standard_normal(shape) * 3
    kw = dict(alpha=0.3, beta=0.75, k=2.0)
    torch_parity(torch, lambda x: F.local_response_norm(x, size, **kw),
                 lambda t: torch.nn.functional.local_response_norm(t, size, **kw), [a], dtype,
                 rtol, seed=size)


def test_defaults_as_torch(torch):
    a = np.random.default_rng(0).standard_normal((2, 7, 3, 3)) * 40  # large enough to matter
    torch_parity(torch, lambda x: F.local_response_norm(x, 5),
                 lambda t: torch.nn.functional.local_response_norm(t, 5), [a], np.float64, 1e-12)


def test_first_and_second_derivatives():
    a = np.random.default_rng(3).standard_normal((2, 4, 3))
    gradchecks(lambda x: F.local_response_norm(x, 3, alpha=0.5, beta=0.6, k=1.5), [a])


def test_module_matches_the_functional_and_has_no_state(torch):
    a = np.random.default_rng(4).standard_normal((2, 6, 3, 3)).astype(np.float32)
    m, tm = nn.LocalResponseNorm(3, alpha=0.1), torch.nn.LocalResponseNorm(3, alpha=0.1)
    np.testing.assert_allclose(m(tg.Tensor(a)).numpy(), tm(torch.tensor(a)).numpy(), rtol=2e-6)
    assert m.state_dict() == {} and list(m.parameters()) == []
    assert repr(m) == repr(tm)
    m.eval()
    np.testing.assert_allclose(m(tg.Tensor(a)).numpy(), tm(torch.tensor(a)).numpy(), rtol=2e-6)


def test_empty_input_is_returned_as_it_is(torch):
    x = tg.Tensor(np.zeros((0, 3, 4), np.float32))
    assert F.local_response_norm(x, 2) is x
    assert tuple(torch.nn.functional.local_response_norm(torch.zeros(0, 3, 4), 2).shape) == \
        x.shape


@pytest.mark.parametrize("args,error,match", [
    (dict(input=np.zeros((2, 3)), size=2), ValueError, "3D or higher"),
    (dict(size=0), ValueError, "size must be positive"),
    (dict(size=-2), ValueError, "size must be positive"),
    (dict(size=2.5), TypeError, "size must be an int"),
    (dict(size=True), TypeError, "size must be an int"),
    (dict(size=2, alpha="0.1"), TypeError, "alpha must be a real number"),
    (dict(size=2, beta=None), TypeError, "beta must be a real number"),
    (dict(input=np.zeros((2, 3, 4), np.int64), size=2), TypeError, "floating point"),
])
def test_bad_arguments_are_named(args, error, match):
    args = dict(args)
    x = tg.Tensor(args.pop("input", np.ones((2, 3, 4), np.float32)))
    with pytest.raises(error, match=match):
        F.local_response_norm(x, **args)


def test_the_rank_is_checked_first_as_torch():
    with pytest.raises(ValueError, match="3D or higher"):
        F.local_response_norm(tg.Tensor(np.ones((2, 3), np.float32)), 0)


def test_module_checks_its_arguments_when_built():
    with pytest.raises(ValueError, match="size must be positive"):
        nn.LocalResponseNorm(0)
    with pytest.raises(TypeError, match="k must be a real number"):
        nn.LocalResponseNorm(2, k="1")


def test_float32_stays_float32():
    x = tg.Tensor(np.ones((1, 4, 2), np.float32), requires_grad=True)
    y = F.local_response_norm(x, 3)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
