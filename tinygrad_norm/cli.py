"""The ``tinygrad-norm`` command: ``train``, ``graph``, ``bench`` and ``experiment``.

Each subcommand lives in ``tinygrad_norm/commands/<name>.py`` with ``register(subparsers)``; its
heavy imports happen only when it runs, so ``--help`` is instant.
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ("train", "graph", "bench", "experiment")

DESCRIPTION = """\
Train, draw and benchmark networks whose dropout and normalizations are composite ops of a small
NumPy autograd engine, and rerun the experiments that test claims about them. Everything runs
offline, on the 8x8 digits that ship with scikit-learn unless MNIST files are given.
"""

# One first line per command, so that `tinygrad-norm --help` alone shows how to start.
EPILOG = """\
examples:
  tinygrad-norm train                        MLP with batch norm and dropout on the digits
  tinygrad-norm graph                        draw one training step, where gradients stop
  tinygrad-norm bench --quick                composite vs hand-written backward, about a minute
  tinygrad-norm experiment list              the claims the experiments test

'tinygrad-norm COMMAND --help' lists a command's options.
"""


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tinygrad-norm",
        description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f"tinygrad_norm.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"tinygrad_norm.commands.{name}":
                raise
            continue
        mod.register(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
