"""nn.init.orthogonal_ and nn.init.sparse_: the matrices they make (orthogonality, the number of
zeros per column), their distributions against theory and torch's samples (the generators
differ, so values cannot be compared), dtypes, in-place filling and torch's error conditions."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor, nn


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(4, 4), (3, 7), (7, 3), (6, 2, 3, 3), (2, 3, 1), (1, 5)])
@pytest.mark.parametrize("gain", [1, 0.5])
def test_orthogonal_rows_or_columns_are_orthonormal(shape, dtype, gain):
    t = Tensor(np.empty(shape, dtype))
    array = t.data
    assert nn.init.orthogonal_(t, gain=gain, generator=np.random.default_rng(0)) is t
    assert t.data is array and t.dtype == dtype  # filled in place
    m = t.numpy().reshape(shape[0], -1).astype(np.float64) / gain
    small = min(m.shape)
    gram = m @ m.T if m.shape[0] == small else m.T @ m
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-6 if dtype == np.float32 else 1e-12)


def _trace_moments(matrices):
    tr = np.array([np.trace(q) for q in matrices])
    return tr.mean(), (tr ** 2).mean()


def test_orthogonal_is_haar_distributed_as_torchs(torch):
    # Haar on O(3): E[tr Q] = 0 and E[(tr Q)^2] = 1. Without the sign correction of the QR
    # factors these come out near -0.5 and 0.5.
    gen = np.random.default_rng(1)
    ours = []
    for _ in range(4000):
        t = Tensor(np.empty((3, 3)))
        nn.init.orthogonal_(t, generator=gen)
        ours.append(t.numpy())
    mean, square = _trace_moments(ours)
    assert abs(mean) < 0.06 and abs(square - 1) < 0.1
    torch.manual_seed(0)
    theirs = [torch.nn.init.orthogonal_(torch.empty(3, 3, dtype=torch.float64)).numpy()
              for _ in range(4000)]
    tmean, tsquare = _trace_moments(theirs)
    assert abs(mean - tmean) < 0.1 and abs(square - tsquare) < 0.15
    # every entry is distributed alike, mean 0 and variance 1/3, as torch's
    entries = np.array(ours)
    np.testing.assert_allclose(entries.mean(axis=0), 0, atol=0.05)
    np.testing.assert_allclose(entries.var(axis=0), 1 / 3, atol=0.03)
    np.testing.assert_allclose(np.array(theirs).var(axis=0), 1 / 3, atol=0.03)


def test_orthogonal_draws_from_the_framework_generator():
    a, b = Tensor(np.empty((4, 3))), Tensor(np.empty((4, 3)))
    tg.manual_seed(5)
    nn.init.orthogonal_(a)
    tg.manual_seed(5)
    nn.init.orthogonal_(b)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_orthogonal_errors_and_empty_tensors(torch):
    with pytest.raises(ValueError, match="2 or more dimensions"):
        nn.init.orthogonal_(Tensor(np.empty(3)))
    with pytest.raises(ValueError, match="2 or more dimensions"):
        torch.nn.init.orthogonal_(torch.empty(3))
    with pytest.raises(TypeError, match="floating"):
        nn.init.orthogonal_(Tensor(np.empty((2, 2), np.int64)))
    with pytest.raises(TypeError, match="gain"):
        nn.init.orthogonal_(Tensor(np.empty((2, 2))), gain="1")
    with pytest.raises(TypeError, match="generator"):
        nn.init.orthogonal_(Tensor(np.empty((2, 2))), generator=1)
    empty = Tensor(np.empty((0, 3)))
    assert nn.init.orthogonal_(empty) is empty  # a no-op, as torch's


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,sparsity", [((10, 4), 0.1), ((10, 4), 0.5), ((7, 3), 0.3),
                                            ((5, 2), 0.0), ((5, 2), 1.0)])
def test_sparse_zeros_per_column_as_torch(torch, shape, sparsity, dtype):
    t = Tensor(np.empty(shape, dtype))
    assert nn.init.sparse_(t, sparsity, generator=np.random.default_rng(0)) is t
    assert t.dtype == dtype
    ref = torch.nn.init.sparse_(torch.empty(shape), sparsity)
    zeros, tzeros = (t.numpy() == 0).sum(axis=0), (ref.numpy() == 0).sum(axis=0)
    np.testing.assert_array_equal(zeros, math.ceil(sparsity * shape[0]))
    np.testing.assert_array_equal(zeros, tzeros)


def test_sparse_statistics():
    t = Tensor(np.empty((2000, 50)))
    nn.init.sparse_(t, 0.25, std=0.5, generator=np.random.default_rng(3))
    values = t.numpy()
    kept = values[values != 0]
    assert kept.size == 1500 * 50
    assert abs(kept.mean()) < 0.01 and abs(kept.std() - 0.5) < 0.01
    # the zeros fall on every row alike: about a quarter of each row's 50 columns
    assert abs((values == 0).mean(axis=1).mean() - 0.25) < 1e-12
    assert (values == 0).sum(axis=0).max() == 500


@pytest.mark.parametrize("call,exc,match", [
    (lambda t: nn.init.sparse_(Tensor(np.empty((2, 2, 2))), 0.1), ValueError, "2 dimensions"),
    (lambda t: nn.init.sparse_(t, -0.1), ValueError, "sparsity"),
    (lambda t: nn.init.sparse_(t, 1.5), ValueError, "sparsity"),
    (lambda t: nn.init.sparse_(t, 0.1, std=-1.0), ValueError, "std"),
    (lambda t: nn.init.sparse_(t, "a"), TypeError, "sparsity"),
])
def test_sparse_errors_leave_the_tensor(call, exc, match):
    t = Tensor(np.full((3, 2), 7.0))
    with pytest.raises(exc, match=match):
        call(t)
    np.testing.assert_array_equal(t.numpy(), 7.0)
