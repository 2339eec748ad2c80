"""``tinygrad-norm experiment``: run one of the reproduced claims (or list them)."""
from __future__ import annotations

import argparse
import os
import sys
import textwrap

DESCRIPTION = """\
Reproduce a claim about overfitting, dropout, feature scaling, initialization or the
normalizations, on small offline data. Each run writes a PNG and a results.json (the numbers
behind the figure, the checks and the verdict) and prints a one-paragraph verdict: did the claim
hold here, and by how much.

Use 'list' to see every experiment and its claim, 'all' to run them one after the other."""

EXAMPLES = """\
examples:
  tinygrad-norm experiment list
  tinygrad-norm experiment bn-sigmoid --quick
  tinygrad-norm experiment batch-size --out results/batch-size --seed 1
  tinygrad-norm experiment overfitting --data idx --data-dir ~/mnist
  tinygrad-norm experiment all --quick --out results

output: results.json and NAME.png in --out (default: runs/experiments/NAME); with 'all', one
subdirectory per experiment in --out (default: runs/experiments)."""


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") \
            from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def _existing_dir(text):
    path = os.path.expanduser(text)
    if not os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"no such directory: {text!r}")
    return path


def register(subparsers):
    from ..experiments.runner import EXPERIMENTS

    names = list(EXPERIMENTS)
    p = subparsers.add_parser(
        "experiment", help="reproduce a claim or paper figure (PNG, results.json, verdict)",
        description=DESCRIPTION, epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", metavar="NAME", choices=["list", "all", *names],
                   help="list, all, or one of: " + ", ".join(names))
    p.add_argument("--quick", action="store_true",
                   help="a small run that finishes in under a minute on two cores (what CI "
                        "runs); the full run is what the docs show")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output directory (default: runs/experiments/NAME; with 'all', "
                        "runs/experiments, one subdirectory per experiment)")
    p.add_argument("--seed", type=_seed, default=0,
                   help="base seed; repeated runs use SEED, SEED+1, ... (default: %(default)s)")
    p.add_argument("--data", choices=("digits", "idx"), default="digits",
                   help="digits: the 8x8 digits shipped with scikit-learn (offline); idx: MNIST "
                        "IDX files in --data-dir (default: %(default)s). Synthetic-data "
                        "experiments (bias-variance, feature-scaling, activations) ignore it")
    p.add_argument("--data-dir", type=_existing_dir, default=None, metavar="DIR",
                   help="for --data idx: a directory with t10k-images-idx3-ubyte and "
                        "t10k-labels-idx1-ubyte (plain or .gz; the train-* pair too if you "
                        "have it). With the t10k pair alone it is split 80/20; MNIST runs are "
                        "capped at 5,000 train / 2,000 test images (1,500 / 500 with --quick)")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar")
    p.set_defaults(func=lambda args: run(args, p))
    return p


def _print_list():
    from ..experiments.runner import list_experiments

    for name, title, claim in list_experiments():
        print(f"{name}")
        print(textwrap.fill(title, width=96, initial_indent="    ", subsequent_indent="    "))
        print(textwrap.fill("claim: " + claim, width=96, initial_indent="    ",
                            subsequent_indent="           "))


def run(args, parser):
    if args.name == "list":
        _print_list()
        return 0
    if args.data == "idx":
        if args.data_dir is None:
            parser.error("--data idx needs --data-dir DIR (a directory with the MNIST IDX files)")
        from ..experiments.runner import idx_pairs

        pairs = idx_pairs(args.data_dir)
        if not (pairs["train"] or pairs["t10k"]):
            parser.error(f"--data-dir {args.data_dir!r} holds no complete pair of IDX files: "
                         f"expected t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (or the "
                         f"train-* pair), plain or .gz")
        from ..data import load_idx

        for pair in pairs.values():  # read now: a bad file is a usage error, not a traceback
            if pair is not None:
                try:
                    load_idx(*pair)
                except ValueError as e:
                    parser.error(f"--data-dir {args.data_dir!r}: {e}")
    elif args.data_dir is not None:
        parser.error("--data-dir is only used with --data idx")
    from ..experiments.runner import EXPERIMENTS, DataTooSmall, run_experiment
    from .paths import dir_problem

    names = list(EXPERIMENTS) if args.name == "all" else [args.name]
    if args.out is not None:
        # made and tried now: a path under a file, or one not writable, is a usage error
        # before the experiment runs, not a traceback after it
        problem = dir_problem(args.out, [f"{n}.png" for n in names] + ["results.json"])
        if problem:
            parser.error(f"--out {args.out!r} {problem}")

    base = args.out if args.out is not None else os.path.join("runs", "experiments")
    held = {}
    for name in names:
        if args.name == "all":
            out = os.path.join(base, name)
        else:
            out = args.out if args.out is not None else os.path.join(base, name)
        try:
            record = run_experiment(name, quick=args.quick, seed=args.seed, out_dir=out,
                                    data=args.data, data_dir=args.data_dir,
                                    progress=args.progress)
        except DataTooSmall as e:
            parser.error(f"--data-dir {args.data_dir!r}: {e}")
        held[name] = record["held"]
        if len(names) > 1:
            print()
    if len(names) > 1:
        print("summary: " + ", ".join(f"{n} {'held' if h else 'did NOT hold'}"
                                      for n, h in held.items()))
    sys.stdout.flush()
    return 0
