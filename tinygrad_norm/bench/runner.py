"""One benchmark run: pin BLAS, check every composite against its reference, measure the copy
bandwidth, time every case at every size and dtype in interleaved rounds, count tape nodes and
peak memory, then the chain and the MLP step. Returns a plain dict (what ``--json`` writes)."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from . import extras
from .cases import CASES, EXTRAS, Composite, Reference, check_case, compare, count_nodes, \
    floor_bytes, make_data, nbytes
from .timing import LoadMeter, blas_info, calibrate, copy_bandwidth, frozen_gc, interleave, \
    machine_facts, peak_extra_bytes, ratio_between, summarize

ALL = tuple(CASES) + EXTRAS


@dataclass
class BenchOptions:
    quick: bool = False
    cases: tuple = ALL
    dtypes: tuple = ("float32", "float64")
    torch: bool = True
    rounds: int | None = None        # default: 9, or 3 with quick
    sample_time: float | None = None  # seconds per timed sample; default 0.05, or 0.01 with quick
    memory: bool = True
    seed: int = 0
    progress: bool = True
    sizes: dict = field(default_factory=dict)  # {case key: [shape, ...]} overrides (tests)

    def resolved(self):
        o = BenchOptions(**asdict(self))
        if o.rounds is None:
            o.rounds = 3 if o.quick else 9
        if o.sample_time is None:
            o.sample_time = 0.01 if o.quick else 0.05
        return o

    def sizes_of(self, case):
        if case.key in self.sizes:
            return [tuple(s) for s in self.sizes[case.key]]
        return list(case.quick if self.quick else case.sizes)


def _pin_blas():
    """NumPy's BLAS to one thread with threadpoolctl, if importable: (limiter or None, note)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None, "threadpoolctl not importable: NumPy's BLAS runs with its default threads"
    before = blas_info() or []
    limiter = threadpool_limits(limits=1, user_api="blas")
    libs = ", ".join(f"{b['api']} {b['version']}" for b in before) or "no BLAS library found"
    prev = ",".join(str(b["threads"]) for b in before) or "?"
    return limiter, f"NumPy's BLAS ({libs}) pinned to 1 thread with threadpoolctl (default {prev})"


def _progress(total, enabled):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="case", desc="bench", leave=False, dynamic_ncols=True)


def run_bench(options=None):
    opts = (options or BenchOptions()).resolved()
    unknown = [c for c in opts.cases if c not in ALL]
    if unknown:
        raise ValueError(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(ALL)}")
    cases = [CASES[k] for k in CASES if k in opts.cases]
    dtypes = [np.dtype(d) for d in opts.dtypes]
    started = time.time()
    meter = LoadMeter()
    facts = machine_facts()
    limiter, blas_note = _pin_blas()
    facts["blas"] = blas_info()

    torch, torch_note, torch_impls = None, "not asked for (--no-torch)", []
    if opts.torch:
        from .torch_impls import default_threads, load_torch, torch_impls as make_torch_impls
        torch, torch_note = load_torch()
        if torch is not None:
            torch_impls = make_torch_impls(torch)
            torch_note = (f"torch {torch.__version__}, default threads "
                          f"{default_threads(torch)}")
            facts["torch"] = torch.__version__
    gc_frozen = frozen_gc().__enter__()  # after the imports: see frozen_gc
    try:
        result = dict(
            options=dict(asdict(opts), cases=list(opts.cases), dtypes=list(opts.dtypes)),
            machine=facts, blas=blas_note, torch=torch_note,
            impls={i.key: i.label for i in [Reference(), Composite(), *torch_impls]},
            started=time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)))
        rng = np.random.default_rng(opts.seed)
        n_tasks = sum(len(opts.sizes_of(c)) for c in cases) * len(dtypes) \
            + sum(k in opts.cases for k in EXTRAS) + 1
        bar = _progress(n_tasks, opts.progress)

        def tick(desc):
            if bar is not None:
                bar.set_postfix_str(desc, refresh=False)
                bar.update(1)

        # 1. the composites agree with the references (float64) before anything is timed
        result["check"] = _check_all(opts, cases, torch_impls)
        tick("checked")

        # 2. the memory floor
        mib, reps = (64, 3) if opts.quick else (256, 5)
        bw = copy_bandwidth(mib, reps)

        # 3. the cases
        rows = []
        for case in cases:
            for shape in opts.sizes_of(case):
                for dt in dtypes:
                    rows.append(_run_case(case, shape, dt, opts, torch_impls, rng))
                    tick(f"{case.key} {case.describe(shape)} {dt}")
        result["cases"] = rows

        # 4. the chain and the MLP step
        if "chain" in opts.cases:
            result["chain"] = _run_chain(opts, torch, rng)
            tick("chain")
        if "mlp" in opts.cases:
            result["mlp"] = _run_mlp(opts, torch, rng)
            tick("mlp")

        bw += copy_bandwidth(mib, reps)
        bw_med = float(np.median(bw))
        result["bandwidth"] = dict(median=bw_med, min=float(min(bw)), max=float(max(bw)),
                                   array_mib=mib, samples=len(bw))
        for row in rows:
            row["floor_s"] = row["floor_bytes"] / bw_med
            for rec in row["impls"].values():
                rec["ratio_floor"] = rec["median_s"] / row["floor_s"]
        if bar is not None:
            bar.close()
    finally:
        gc_frozen.__exit__(None, None, None)
        if limiter is not None:
            limiter.restore_original_limits()
        if torch is not None:
            from .torch_impls import default_threads
            torch.set_num_threads(default_threads(torch))
    result["load"] = meter.stop()
    result["duration_s"] = time.time() - started
    return result


def _check_all(opts, cases, torch_impls):
    """GradientMismatch unless the composite matches the reference at every size, float64. The
    torch implementations are compared too, for information (their dropout draws its own mask)."""
    out = {"rtol": 1e-8, "cases": {}, "torch": {}}
    torch1 = [i for i in torch_impls if i.threads == 1]
    for case in cases:
        worst = 0.0
        for shape in opts.sizes_of(case):
            worst = max(worst, check_case(case, shape, opts.seed))
            if case.key == "dropout":
                continue
            d = make_data(case, shape, np.float64, opts.seed)
            want = Reference().prepare(case, d)
            ref_out = want.outputs(want.step())
            for impl in torch1:
                impl.enter()
                p = impl.prepare(case, d)
                _, w, _ = compare(p.outputs(p.step()), ref_out)
                key = f"{impl.key}/{case.key}"
                out["torch"][key] = max(out["torch"].get(key, 0.0), w)
        out["cases"][case.key] = worst
    if "chain" in opts.cases:
        out["cases"]["chain"] = extras.check_chain(extras.chain_data(opts.seed))
    if "mlp" in opts.cases:
        out["cases"]["mlp"] = extras.check_mlp(extras.mlp_data(opts.seed), opts.seed)
    return out


def _run_case(case, shape, dt, opts, torch_impls, rng):
    d = make_data(case, shape, dt, opts.seed)
    impls = [Reference(), Composite(), *torch_impls]
    runs = {}
    for impl in impls:
        prep = impl.prepare(case, d)
        runs[impl.key] = (impl, prep, calibrate(impl, prep, opts.sample_time))
    meter = LoadMeter()
    times = interleave(runs, opts.rounds, rng)
    load = meter.stop()
    stats = summarize(times, "ref")
    for k, rec in stats.items():
        rec["steps"] = runs[k][2]
    row = dict(case=case.key, label=case.label, dtype=str(dt), shape=list(shape),
               desc=case.describe(shape), bytes=nbytes(shape, dt),
               floor_bytes=floor_bytes(case, shape, dt), impls=stats,
               other_cores=load["other_cores"])
    row["tgn_vs"] = {k: ratio_between(times, "tgn", k) for k in times if k.startswith("torch")}
    row["nodes"], row["nodes_full"] = count_nodes(case, d)
    if opts.memory:
        row["mem"] = {}
        for impl in impls[:2]:
            prep = runs[impl.key][1]
            row["mem"][impl.key] = peak_extra_bytes(impl, prep)
    for _, prep, _ in runs.values():
        prep.release()
    return row


def _run_chain(opts, torch, rng):
    d = extras.chain_data(opts.seed)
    impls = [extras.ChainReference(), extras.ChainComposite()]
    if torch is not None:
        impls.append(extras.ChainTorch(torch))
    runs = {}
    for impl in impls:
        prep = impl.prepare(d)
        runs[impl.key] = (impl, prep, calibrate(impl, prep, opts.sample_time))
    times = interleave(runs, opts.rounds, rng)
    stats = summarize(times, "ref")
    for rec in stats.values():
        rec["us_per_op"] = rec["median_s"] / extras.CHAIN_LEN * 1e6
    return dict(ops=extras.CHAIN_LEN, shape=list(extras.CHAIN_SHAPE), dtype="float64",
                impls=stats, labels={i.key: i.label for i in impls},
                tgn_vs={k: ratio_between(times, "tgn", k) for k in times if k.startswith("torch")})


def _run_mlp(opts, torch, rng):
    d = extras.mlp_data(opts.seed)
    comp = extras.MlpComposite()
    p_comp = comp.prepare(d)
    params = [p.data.copy() for p in comp.params]
    runs = {"tgn": (comp, p_comp, 0),
            "ref": (extras.MlpReference(), extras.MlpReference().prepare(d, params), 0)}
    if torch is not None:
        t = extras.MlpTorchFused(torch)
        runs["torch-n1"] = (t, t.prepare(d, params), 0)
    runs = {k: (i, p, calibrate(i, p, opts.sample_time)) for k, (i, p, _) in runs.items()}
    times = interleave(runs, opts.rounds, rng)
    stats = summarize(times, "ref")
    return dict(batch=extras.MLP_BATCH, layers=[extras.MLP_IN, *extras.MLP_HIDDEN,
                                                extras.MLP_CLASSES],
                dropout=extras.MLP_P, dtype="float32", impls=stats,
                labels={k: v[0].label for k, v in runs.items()},
                tgn_vs={k: ratio_between(times, "tgn", k) for k in times if k.startswith("torch")})
