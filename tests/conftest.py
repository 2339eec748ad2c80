"""Shared fixtures and helpers of the test suite.

PyTorch is an oracle only: tests that need it take the ``torch`` fixture, which skips them where
torch is not installed. The benchmarks under ``tests/benchmarks`` are collected only when asked for
(``python -m pytest tests/benchmarks --benchmark-enable``), never by a plain ``python -m pytest``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

_BENCH_DIR = Path(__file__).parent / "benchmarks"

try:  # Modest example counts: the whole engine suite must run in well under two minutes.
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        # derandomize: the default run (and CI) draws the same examples every time, so a red
        # run is reproducible and a green one does not turn red by chance; "thorough" explores.
        "tinygrad_norm", max_examples=30, deadline=None, print_blob=True, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors])
    # ``--hypothesis-profile=thorough`` for a long bug hunt before a release.
    settings.register_profile("thorough", parent=settings.get_profile("tinygrad_norm"),
                              max_examples=500, derandomize=False)
    settings.load_profile("tinygrad_norm")
except ImportError:  # hypothesis is a dev dependency; the modules that use it skip without it
    pass


def _asks_for_benchmarks(config) -> bool:
    if config.getoption("benchmark_enable", default=False):
        return True
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if path == _BENCH_DIR or _BENCH_DIR in path.parents:
            return True
    return False


def pytest_ignore_collect(collection_path, config):
    if collection_path == _BENCH_DIR and not _asks_for_benchmarks(config):
        return True
    return None


@pytest.fixture(scope="session")
def torch():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)  # deterministic reductions, and no thread pool on a 2-core CI box
    return torch


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def assert_close(actual, expected, rtol, atol=0.0, what=""):
    """Like np.testing.assert_allclose, but NaN never equals NaN and the dtypes must agree."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=False,
                               err_msg=what)


def assert_scaled_close(actual, expected, rtol, what=""):
    """Shape, dtype and values equal to ``rtol``, with an absolute tolerance of ``rtol`` times the
    expected values' scale (at least 1): a near-zero element of a large output is compared
    against the output's rounding, not its own. NaN never equals NaN."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, equal_nan=False,
                               err_msg=what)


def torch_parity(torch, ours, theirs, arrays, dtype, rtol, diff=None, seed=0, unused_ok=False):
    """``ours(*Tensors)`` against ``theirs(*torch tensors)`` on the same ``arrays`` (as
    ``dtype``): the output's dtype, shape and values, then the gradient of every input in
    ``diff`` (all by default) under one random upstream gradient drawn with ``seed``. An input
    torch finds unused must get zeros; with ``unused_ok`` ours may leave its .grad None there."""
    from tinygrad_norm import Tensor

    diff = [True] * len(arrays) if diff is None else diff
    arrays = [np.asarray(a, dtype=dtype) for a in arrays]
    xs = [Tensor(a.copy(), requires_grad=d) for a, d in zip(arrays, diff)]
    ts = [torch.tensor(a.copy(), requires_grad=d) for a, d in zip(arrays, diff)]
    out, ref = ours(*xs), theirs(*ts)
    assert out.dtype == dtype and out.shape == tuple(ref.shape)
    ref_np = ref.detach().numpy()
    np.testing.assert_allclose(out.data, ref_np, rtol=rtol,
                               atol=rtol * max(1.0, float(np.abs(ref_np).max(initial=0))))
    g = np.random.default_rng(seed).standard_normal(out.shape).astype(dtype)
    out.backward(g)
    wanted = [(x, t) for x, t, d in zip(xs, ts, diff) if d]
    grads = torch.autograd.grad(ref, [t for _, t in wanted], torch.from_numpy(g.copy()),
                                allow_unused=True)
    for (x, _), tg_ in zip(wanted, grads):
        expected = np.zeros(x.shape, dtype) if tg_ is None else tg_.numpy()
        if unused_ok and x.grad is None:
            got = np.zeros(x.shape, dtype)
        else:
            assert x.grad is not None and x.grad.dtype == dtype
            got = x.grad.data
        scale = max(1.0, float(np.abs(expected).max(initial=0)))
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * scale)


def gradchecks(fn, arrays):
    """First and second derivatives of ``fn`` against finite differences, in float64."""
    import tinygrad_norm as tg

    xs = [tg.Tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    assert tg.gradcheck(fn, xs) is True
    assert tg.gradgradcheck(fn, xs) is True
