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
