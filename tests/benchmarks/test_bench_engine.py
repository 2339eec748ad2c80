"""Engine overhead per op: a chain of 200 elementwise ops (i % 3: + a, * c, tanh) on a (4, 4)
float64 tensor, forward + backward with a random upstream gradient, beside the same chain in
PyTorch eager (one thread) when torch is installed. The same workload as ``chain`` in
``shared/bench/anchors.py``.

Not part of the default run; ``python -m pytest tests/benchmarks --benchmark-enable`` runs it.
Compare the ``us_per_op`` extra_info of the two cases (group ``chain``); nothing asserts times.
"""
from __future__ import annotations

import numpy as np
import pytest

from tinygrad_norm import Tensor

CHAIN_LEN = 200
SHAPE = (4, 4)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return dict(x=rng.standard_normal(SHAPE), a=rng.standard_normal(SHAPE) * 0.1,
                c=rng.uniform(0.5, 1.5, SHAPE), dy=rng.standard_normal(SHAPE))


def _chain(h, a, c):
    for i in range(CHAIN_LEN):
        r = i % 3
        h = h + a if r == 0 else (h * c if r == 1 else h.tanh())
    return h


def _run(benchmark, step):
    # A fixed number of rounds after a warm-up, the same for both libraries: left to calibrate
    # itself, pytest-benchmark sometimes stops the slower one after its 5 minimum rounds.
    return benchmark.pedantic(step, rounds=300, iterations=1, warmup_rounds=20)


def _report(benchmark):
    stats = getattr(benchmark, "stats", None)  # None under --benchmark-disable (one plain call)
    if stats is not None:
        benchmark.extra_info["us_per_op"] = round(stats.stats.median / CHAIN_LEN * 1e6, 3)
    benchmark.extra_info["ops"] = CHAIN_LEN


@pytest.mark.benchmark(group="chain")
def test_chain_tinygrad_norm(benchmark, data):
    x = Tensor(data["x"], requires_grad=True)
    a, c, dy = Tensor(data["a"]), Tensor(data["c"]), data["dy"]

    def step():
        x.grad = None
        _chain(x, a, c).backward(dy)
        return x.grad

    g = _run(benchmark, step)
    assert g.shape == SHAPE and np.isfinite(g.numpy()).all()
    _report(benchmark)


@pytest.mark.benchmark(group="chain")
def test_chain_torch(benchmark, data, torch):
    torch.set_num_threads(1)
    x = torch.tensor(data["x"], requires_grad=True)
    a, c, dy = torch.tensor(data["a"]), torch.tensor(data["c"]), torch.tensor(data["dy"])

    def step():
        x.grad = None
        _chain(x, a, c).backward(dy)
        return x.grad

    g = _run(benchmark, step)
    # the two chains compute the same gradient: the timings compare like with like
    x_tg = Tensor(data["x"], requires_grad=True)
    _chain(x_tg, Tensor(data["a"]), Tensor(data["c"])).backward(data["dy"])
    np.testing.assert_allclose(x_tg.grad.numpy(), g.numpy(), rtol=1e-10, atol=1e-14)
    _report(benchmark)
