"""A speed survey of everyday layers against PyTorch: ``tinygrad-norm bench --survey`` (or
``python -m tinygrad_norm.bench.survey``).

Each case of ``survey_cases`` is one forward + backward (a random upstream gradient, a fresh graph
every step, the gradients of the previous step dropped) -- or one optimizer step -- in float32,
timed for tinygrad_norm (``tgn``) and torch eager on ONE thread (``torch``), NumPy's BLAS pinned
to one thread too, in one process. The two are interleaved in a fresh random order every round;
the table gives each one's median and the median of the per-round ratios tgn / torch.
"""
from __future__ import annotations

import argparse
import sys
import types

import numpy as np

from .survey_cases import CASES
from .timing import calibrate, frozen_gc, interleave

KEYS = tuple(k for k, _, _ in CASES)


def _tgn_namespace():
    import tinygrad_norm as T
    from tinygrad_norm import functional, nn, optim
    return types.SimpleNamespace(
        name="tgn", T=T, nn=nn, F=functional, optim=optim,
        leaf=lambda a: T.tensor(a, requires_grad=True), const=T.tensor,
        param=lambda a: nn.Parameter(T.tensor(a)), first=_first, grad_of=T.tensor)


def _torch_namespace(torch):
    return types.SimpleNamespace(
        name="torch", T=torch, nn=torch.nn, F=torch.nn.functional, optim=torch.optim,
        leaf=lambda a: torch.tensor(a, requires_grad=True), const=torch.from_numpy,
        param=lambda a: torch.nn.Parameter(torch.from_numpy(a)), first=_first,
        grad_of=torch.from_numpy)


def _first(out):
    """A layer's main output: LSTM and GRU return (output, state)."""
    return out[0] if isinstance(out, tuple) else out


class _Impl:
    """What ``timing.interleave`` drives: ``enter`` (nothing to switch) and a prepared step."""

    def __init__(self, step):
        self.step = step

    def enter(self):
        return False

    def release(self):
        pass


def _prepare(L, build, seed):
    """The case's step for namespace ``L``: data from ``seed``, so both sides see the same."""
    rng = np.random.default_rng(seed)
    leaves, fwd = build(L, rng)
    if leaves is None:  # an optimizer step: nothing to differentiate
        return _Impl(fwd)
    g = L.grad_of(np.random.default_rng(seed + 1).standard_normal(
        tuple(fwd().shape)).astype(np.float32))

    def step():
        for p in leaves:
            p.grad = None
        fwd().backward(g)
    return _Impl(step)


def run_survey(keys=KEYS, rounds=7, sample_time=0.05, seed=0, progress=None):
    """{key: dict(label, tgn_s, torch_s, ratio)} for the cases ``keys``."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    sides = (_tgn_namespace(), _torch_namespace(torch))
    rng = np.random.default_rng(seed)
    rows = {}
    with threadpool_limits(limits=1, user_api="blas"), frozen_gc():
        for key, label, build in CASES:
            if key not in keys:
                continue
            runs = {}
            for L in sides:
                impl = _prepare(L, build, seed)
                runs[L.name] = (impl, impl, calibrate(impl, impl, sample_time))
            times = interleave(runs, rounds, rng)
            ours, theirs = (np.array(times[k]) for k in ("tgn", "torch"))
            rows[key] = dict(label=label, tgn_s=float(np.median(ours)),
                             torch_s=float(np.median(theirs)),
                             ratio=float(np.median(ours / theirs)))
            if progress:
                progress(key, rows[key])
    return rows


def _ms(s):
    return f"{s * 1e3:.3f}"


def format_markdown(rows):
    lines = ["| case | tgn ms | torch ms | tgn/torch |", "|---|---:|---:|---:|"]
    for r in rows.values():
        lines.append(f"| {r['label']} | {_ms(r['tgn_s'])} | {_ms(r['torch_s'])} | "
                     f"{r['ratio']:.2f} |")
    return "\n".join(lines)


def _line(key, r):
    return f"{key:16s} {_ms(r['tgn_s']):>10s} {_ms(r['torch_s']):>10s} {r['ratio']:8.2f}  {r['label']}"


def add_arguments(p):
    p.add_argument("--survey-cases", nargs="+", choices=KEYS, default=None, metavar="CASE",
                   help="with --survey: only these cases (default: all): " + " ".join(KEYS))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tinygrad_norm.bench.survey", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cases", nargs="*", metavar="CASE",
                   help="only these cases (default: all): " + " ".join(KEYS))
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--sample-time", type=float, default=0.05)
    p.add_argument("--markdown", metavar="FILE", help="write the table as Markdown")
    args = p.parse_args(argv)
    unknown = [c for c in args.cases if c not in KEYS]
    if unknown:
        p.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(KEYS)}")
    try:  # the survey's two requirements, which the package itself never needs
        import threadpoolctl  # noqa: F401
        import torch  # noqa: F401
    except ImportError as e:
        print(f"survey: needs torch and threadpoolctl ({e})", file=sys.stderr)
        return 1
    print(f"{'case':16s} {'tgn ms':>10s} {'torch ms':>10s} {'tgn/torch':>8s}", flush=True)
    rows = run_survey(tuple(args.cases) or KEYS, args.rounds, args.sample_time,
                      progress=lambda k, r: print(_line(k, r), flush=True))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(format_markdown(rows) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
