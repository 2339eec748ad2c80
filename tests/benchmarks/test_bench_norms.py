"""Composite vs hand-written at the issue's sizes, under pytest-benchmark: forward + backward
(w.r.t. x, gamma, beta; random upstream gradient; a fresh graph every step) of

    bn2d (256, 1024) float32 and float64     bn4d, gn, in (32, 64, 28, 28) float32
    ln (64, 128, 768) float32                dropout p=0.5 (256, 4096) float32

for the composite (``tgn``), the reference (``ref``), and PyTorch's composite and fused kernels on
one thread (``torch-c1``, ``torch-n1``) when torch is installed. Not part of the default run:

    python -m pytest tests/benchmarks/test_bench_norms.py --benchmark-enable

Each group (one workload) runs ``ref`` first; the other implementations put their median over the
reference's into ``extra_info["ratio_ref"]``, next to ``ratio_floor`` (over the bytes moved (4 x bytes(x) and the parameters) / NumPy's
copy bandwidth, measured once per session) and, for ``tgn``, the tape ``nodes`` of the composite
(``nodes_full``: x-sized ones). These ratios come from consecutive, not interleaved, runs: for
ratios that hold up on a noisy machine use ``tinygrad-norm bench``. Nothing asserts a time.
"""
from __future__ import annotations

import time

import numpy as np
import pytest

from tinygrad_norm.bench.cases import CASES, Composite, Reference, check_case, count_nodes, \
    floor_bytes, make_data, nbytes
from tinygrad_norm.bench.timing import copy_bandwidth

WORKLOADS = [
    ("bn2d", (256, 1024), "float32"),
    ("bn2d", (256, 1024), "float64"),
    ("bn4d", (32, 64, 28, 28), "float32"),
    ("gn", (32, 64, 28, 28), "float32"),
    ("in", (32, 64, 28, 28), "float32"),
    ("ln", (64, 128, 768), "float32"),
    ("rms", (64, 128, 768), "float32"),
    ("dropout", (256, 4096), "float32"),
]
IMPLS = ("ref", "tgn", "torch-c1", "torch-n1")  # ref first: the others divide by its median
# "case_<key>" in every id: `-k case_rms` selects that case alone (`-k rms` also matched this
# module's name, `-k gn` every "tgn" test, `-k in` the training steps)
PARAMS = [pytest.param(w, i, id=f"case_{w[0]}-{'x'.join(map(str, w[1]))}-{w[2]}-{i}")
          for w in WORKLOADS for i in IMPLS]

_REF_MEDIAN = {}  # workload -> the reference's median seconds, filled by its ref test


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    """NumPy's BLAS on one thread (threadpoolctl), as torch below and as the bench command."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(scope="module")
def bandwidth():
    return float(np.median(copy_bandwidth(256, 5)))


def _impl(key, request):
    if key == "ref":
        return Reference()
    if key == "tgn":
        return Composite()
    torch = request.getfixturevalue("torch")  # skips without torch; sets one thread
    from tinygrad_norm.bench.torch_impls import TorchImpl

    return TorchImpl(torch, fused=key == "torch-n1", threads=1, default=False)


def _rounds(step):
    """About 1.5 s of timed rounds per test, 5 to 200 of them."""
    step()
    t0 = time.perf_counter()
    step()
    t = time.perf_counter() - t0
    return int(min(200, max(5, 1.5 / max(t, 1e-6))))


@pytest.mark.parametrize("workload,impl_key", PARAMS)
def test_norm_step(benchmark, request, bandwidth, workload, impl_key):
    key, shape, dtype = workload
    case = CASES[key]
    impl = _impl(impl_key, request)
    if impl_key == "tgn":  # the composite computes what the reference computes (float64, rtol 1e-8)
        check_case(case, shape)
    d = make_data(case, shape, dtype)
    prep = impl.prepare(case, d)
    impl.enter()
    benchmark.group = f"{key} {case.describe(shape)} {dtype}"
    info = benchmark.extra_info
    info.update(case=key, shape=list(shape), dtype=dtype, impl=impl_key, label=impl.label,
                bytes=nbytes(shape, dtype))
    if impl_key == "tgn":
        info["nodes"], info["nodes_full"] = count_nodes(case, d)

    out = benchmark.pedantic(prep.step, setup=prep.release, rounds=_rounds(prep.step),
                             iterations=1, warmup_rounds=1)
    got = prep.outputs(out)
    assert got["dx"].dtype == np.dtype(dtype) and got["dx"].shape == shape

    stats = getattr(benchmark, "stats", None)  # None under --benchmark-disable
    if stats is None:
        return
    median = stats.stats.median
    floor = floor_bytes(case, shape, dtype) / bandwidth
    info["ratio_floor"] = round(median / floor, 3)
    if impl_key == "ref":
        _REF_MEDIAN[workload] = median
    elif workload in _REF_MEDIAN:
        info["ratio_ref"] = round(median / _REF_MEDIAN[workload], 3)
