"""``tinygrad-norm bench``: composite vs hand-written (vs PyTorch) forward + backward, one table.

Only argparse is imported at module level: ``tinygrad-norm --help`` must stay instant.
"""
from __future__ import annotations

import argparse
import os
import sys

CASE_KEYS = ("dropout", "bn2d", "bn4d", "ln", "rms", "gn", "in", "chain", "mlp")  # bench.runner.ALL

DESCRIPTION = """\
Time forward + backward (w.r.t. x, gamma and beta -- RMS norm has no beta; random upstream
gradient; a fresh graph every step) of dropout and the batch, layer, RMS, group and instance
norms, each as the tape-differentiated
composite (tgn) and as the hand-written NumPy reference (ref), plus PyTorch's composite and fused
kernels (1 thread and its default) when torch is importable; at sizes from 8x16 (overhead-bound)
to 32x64x28x28 (memory-bound), float32 and float64. Also the engine's overhead per op (a 200-op
elementwise chain) and an MLP training step.

Implementations are interleaved in a fresh random order every round; the table gives medians and
the median of the per-round ratios (read the ratios: a shared machine is noisy). Before timing,
every composite is checked against its reference in float64 (rtol 1e-8); a disagreement stops
the run with exit status 1. NumPy's BLAS is pinned to one thread (threadpoolctl)."""

CASES_HELP = """\
cases:
  dropout  dropout p=0.5            bn2d  batch norm (N, C)      bn4d  batch norm (N, C, H, W)
  ln       layer norm, last axis    rms   RMS norm, last axis    gn    group norm
  in       instance norm
  chain    200 elementwise ops on a (4, 4) float64 tensor: microseconds per op
  mlp      training step, batch 64, 64-128-128-10, BN + ReLU + dropout(0.2), CE, SGD

examples:
  tinygrad-norm bench --quick
  tinygrad-norm bench --markdown bench.md --json bench.json --plot ratios.png
  tinygrad-norm bench --cases bn2d ln --dtypes float32 --no-torch
  tinygrad-norm bench --survey --survey-cases conv2d_3x3 lstm adam --markdown survey.md

columns: x/ref = time relative to the reference; x/floor = relative to 4 x bytes(x) / NumPy's
copy bandwidth (read x and dy, write y and dx); nodes (full) = tape nodes the composite records
(x-sized ones); mem = peak extra memory of one step (tracemalloc) in units of bytes(x)."""


def _positive_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return v


def _positive_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not 0 < v < float("inf"):  # NaN fails too
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return v


def _seed(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return v


def register(subparsers):
    p = subparsers.add_parser(
        "bench", help="composite vs hand-written (vs PyTorch) forward+backward timings",
        description=DESCRIPTION, epilog=CASES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="two small sizes per case, 3 rounds of short samples (about a minute)")
    p.add_argument("--cases", nargs="+", choices=CASE_KEYS, default=None, metavar="CASE",
                   help="only these cases (default: all): " + " ".join(CASE_KEYS))
    p.add_argument("--dtypes", nargs="+", choices=("float32", "float64"),
                   default=["float32", "float64"], metavar="DTYPE",
                   help="float32 and/or float64 (default: both)")
    p.add_argument("--no-torch", dest="torch", action="store_false",
                   help="leave PyTorch out even when it is importable")
    p.add_argument("--json", metavar="FILE", help="write every number (and the machine) as JSON")
    p.add_argument("--markdown", metavar="FILE", help="write the table and notes as Markdown")
    p.add_argument("--plot", metavar="FILE",
                   help="write a plot of time / reference against bytes(x), one panel per case; "
                        "the suffix picks the format (.png, .svg or .pdf)")
    p.add_argument("--rounds", type=_positive_int, default=None, metavar="N",
                   help="interleaved rounds per case (default: 9, with --quick 3)")
    p.add_argument("--sample-time", type=_positive_float, default=None, metavar="S",
                   help="seconds per timed sample (default: 0.05, with --quick 0.01)")
    p.add_argument("--no-memory", dest="memory", action="store_false",
                   help="skip the peak-memory measurement")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the data and the round order")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar")
    p.add_argument("--survey", action="store_true",
                   help="instead: time forward+backward of ~45 everyday layers (convolutions, "
                        "pooling, embeddings, LSTM/GRU, attention, losses, indexing, optimizer "
                        "steps) in float32 against torch on one thread, and print tgn/torch per "
                        "case; takes --survey-cases, --rounds (7), --sample-time (0.05) and "
                        "--markdown; needs torch and threadpoolctl")
    p.add_argument("--survey-cases", nargs="+", default=None, metavar="CASE",
                   help="with --survey: only these cases (default: all; `python -m "
                        "tinygrad_norm.bench.survey --help` lists them)")
    p.set_defaults(func=lambda args: run(args, p))
    return p


_PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def _writable(parser, path, option):
    from .paths import file_problem

    problem = file_problem(path)  # before the minutes of timing, not after them
    if problem:
        parser.error(f"{option} {path!r} {problem}")


def run(args, parser):
    if args.survey or args.survey_cases:
        return _run_survey(args, parser)
    seen = {}
    for option in ("json", "markdown", "plot"):
        path = getattr(args, option)
        if path is not None:
            _writable(parser, path, f"--{option}")
            same = seen.setdefault(os.path.realpath(path), option)
            if same != option:  # the second write would replace the first
                parser.error(f"--{same} and --{option} name the same file {path!r}")
    if args.plot is not None and os.path.splitext(args.plot)[1].lower() not in _PLOT_SUFFIXES:
        # checked before the minutes of timing, not by matplotlib after them
        parser.error(f"--plot {args.plot!r}: the suffix picks the format; use one of "
                     f"{', '.join(_PLOT_SUFFIXES)}")

    from ..bench import BenchOptions, GradientMismatch, run_bench
    from ..bench import report

    opts = BenchOptions(quick=args.quick, torch=args.torch, rounds=args.rounds,
                        sample_time=args.sample_time, memory=args.memory, seed=args.seed,
                        progress=args.progress, dtypes=tuple(dict.fromkeys(args.dtypes)))
    if args.cases:
        opts.cases = tuple(dict.fromkeys(args.cases))
    if not set(opts.cases) - {"chain", "mlp"} and args.plot:
        parser.error("--plot needs at least one of dropout, bn2d, bn4d, ln, rms, gn, in in --cases")
    try:
        result = run_bench(opts)
    except GradientMismatch as e:
        print(f"tinygrad-norm bench: check failed, nothing timed: {e}", file=sys.stderr)
        return 1
    print(report.format_text(result))
    written = []
    if args.json is not None:
        report.write_json(result, args.json)
        written.append(args.json)
    if args.markdown is not None:
        with open(args.markdown, "w") as f:
            f.write(report.format_markdown(result))
        written.append(args.markdown)
    if args.plot is not None:
        report.plot(result, args.plot)
        written.append(args.plot)
    if written:
        print("wrote " + ", ".join(written))
    sys.stdout.flush()
    return 0


def _run_survey(args, parser):
    """``--survey``: the everyday layers against torch (bench/survey.py), one table."""
    from ..bench.survey import KEYS

    if not args.survey:
        parser.error("--survey-cases needs --survey")
    unknown = [c for c in args.survey_cases or () if c not in KEYS]
    if unknown:
        parser.error(f"--survey-cases: unknown case(s) {', '.join(unknown)}; choose from "
                     f"{', '.join(KEYS)}")
    other = [o for o, given in (("--cases", args.cases), ("--json", args.json),
                                ("--plot", args.plot), ("--no-torch", not args.torch),
                                ("--quick", args.quick)) if given]
    if other:
        parser.error(f"--survey times against torch and writes a table: {', '.join(other)} "
                     f"does not apply")
    if args.markdown is not None:
        _writable(parser, args.markdown, "--markdown")
    from ..bench import survey

    argv = list(args.survey_cases or ())
    argv += ["--rounds", str(args.rounds or 7), "--sample-time", str(args.sample_time or 0.05)]
    if args.markdown is not None:
        argv += ["--markdown", args.markdown]
    return survey.main(argv)
