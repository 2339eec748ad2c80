"""How things are measured: interleaved rounds with medians, numpy's copy bandwidth (the memory
floor), peak extra memory with tracemalloc, the load other processes put on the machine, and the
machine facts that go into the report."""
from __future__ import annotations

import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc

import numpy as np


# ---- timing -------------------------------------------------------------------------------------

def _sample(impl, prep, n):
    """Seconds per step over ``n`` consecutive steps; gc collected before, disabled during. A
    step that follows a change of thread count (torch rebuilds its pool) is not timed."""
    if impl.enter():
        prep.step()
    prep.release()
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for _ in range(n):
            prep.step()
        dt = time.perf_counter() - t0
    finally:
        gc.enable()
    return dt / n


class frozen_gc:
    """Move every object alive now (modules: torch alone brings ~170k) out of the collector's
    reach for the run, so that the ``gc.collect()`` before each sample costs microseconds, not
    ~0.1 s; undone on exit."""

    def __enter__(self):
        gc.collect()
        gc.freeze()
        return self

    def __exit__(self, *exc):
        gc.unfreeze()
        return False


def calibrate(impl, prep, target):
    """Warm up (two steps) and return the number of steps that fill about ``target`` seconds."""
    impl.enter()
    prep.step()
    prep.step()
    t = _sample(impl, prep, 1)
    if t < target / 20:  # one step is too short to time well: time a few
        t = _sample(impl, prep, max(1, int(target / 10 / max(t, 1e-7))))
    return max(1, int(round(target / max(t, 1e-9))))


def interleave(runs, rounds, rng):
    """``runs``: {key: (impl, prepared, steps per sample)}. Every round times each one sample, in
    a fresh random order. Returns {key: [seconds per step, one per round]}."""
    times = {k: [] for k in runs}
    keys = list(runs)
    for _ in range(rounds):
        rng.shuffle(keys)
        for k in keys:
            impl, prep, n = runs[k]
            times[k].append(_sample(impl, prep, n))
        for k in keys:
            runs[k][1].release()
    return times


def summarize(times, base_key):
    """Median, quartiles and the median over rounds of the per-round ratio to ``base_key``."""
    out = {}
    base = times.get(base_key)
    for k, ts in times.items():
        q = np.percentile(ts, [25, 50, 75])
        rec = dict(median_s=float(q[1]), p25_s=float(q[0]), p75_s=float(q[2]), rounds=len(ts))
        if base is not None:
            rec["ratio_ref"] = float(statistics.median(t / b for t, b in zip(ts, base)))
        out[k] = rec
    return out


def ratio_between(times, a, b):
    """Median over rounds of times[a] / times[b] (both timed in the same rounds)."""
    return float(statistics.median(x / y for x, y in zip(times[a], times[b])))


# ---- memory floor -------------------------------------------------------------------------------

def copy_bandwidth(mib, repeats):
    """NumPy's large-array copy bandwidth, bytes read + bytes written per second, one sample per
    ``np.copyto`` of a ``mib`` MiB float64 array into a preallocated (already touched) one."""
    n = (mib << 20) // 8
    a = np.ones(n)
    b = np.empty_like(a)
    np.copyto(b, a)  # fault the pages in before timing
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(b, a)
        samples.append(2 * a.nbytes / (time.perf_counter() - t0))
    del a, b
    return samples


# ---- memory -------------------------------------------------------------------------------------

def peak_extra_bytes(impl, prep):
    """Peak bytes allocated (tracemalloc: NumPy arrays and Python objects) during one step, over
    what was allocated before it, the step's own outputs (y and the gradients) included."""
    impl.enter()
    prep.step()
    prep.release()
    gc.collect()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        out = prep.step()
        peak = tracemalloc.get_traced_memory()[1]
        del out
    finally:
        if not was_tracing:
            tracemalloc.stop()
    prep.release()
    return peak - base


# ---- load and machine ---------------------------------------------------------------------------

class LoadMeter:
    """CPU time other processes used while the meter ran, in cores (from /proc/stat, Linux)."""

    def __init__(self):
        self._start = self._read()

    @staticmethod
    def _read():
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:]]
            hz = os.sysconf("SC_CLK_TCK")
            busy = (v[0] + v[1] + v[2] + v[5] + v[6]) / hz  # user nice system irq softirq
        except (OSError, ValueError, IndexError, AttributeError):
            busy = None
        return busy, time.process_time(), time.perf_counter()

    def stop(self):
        busy1, proc1, wall1 = self._read()
        busy0, proc0, wall0 = self._start
        wall = wall1 - wall0
        if busy0 is None or busy1 is None or wall <= 0:
            return dict(wall_s=wall, own_cores=(proc1 - proc0) / wall if wall > 0 else None,
                        other_cores=None)
        own = (proc1 - proc0) / wall
        return dict(wall_s=wall, own_cores=own, other_cores=max(0.0, (busy1 - busy0) / wall - own))


def blas_info():
    """[(api, version, threads)] of the BLAS libraries NumPy loaded, via threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [dict(api=d.get("internal_api"), version=d.get("version"),
                 threads=d.get("num_threads"), arch=d.get("architecture"))
            for d in threadpool_info() if d.get("user_api") == "blas"]


def machine_facts():
    f = {}
    try:
        info = {}
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if ":" in line:
                    k, v = line.split(":", 1)
                    info.setdefault(k.strip(), v.strip())
        f["cpu"] = info.get("model name", platform.processor() or "?")
        if "cpu family" in info:
            f["cpu"] += f" (family {info['cpu family']}, model {info.get('model', '?')})"
        flags = info.get("flags", "").split()
        f["simd"] = " ".join(x for x in ("avx", "avx2", "fma", "avx512f") if x in flags) or "-"
    except OSError:
        f["cpu"] = platform.processor() or platform.machine()
    f["logical_cpus"] = os.cpu_count()
    caches = []
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        for idx in sorted(os.listdir(base)):
            def rd(name):
                with open(os.path.join(base, idx, name)) as fh:
                    return fh.read().strip()
            if idx.startswith("index") and rd("type") != "Instruction":
                caches.append(f"L{rd('level')} {rd('size')}")
    except OSError:
        pass
    if caches:
        f["caches"] = ", ".join(caches)
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
        f["memory_gib"] = round(kb / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    f["platform"] = platform.platform()
    f["python"] = sys.version.split()[0]
    f["numpy"] = np.__version__
    f["openblas_env"] = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                                         "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    try:
        f["loadavg"] = os.getloadavg()
    except OSError:
        pass
    return f
