"""The ``tinygrad-norm`` command: ``train``, ``graph``, ``bench`` and ``experiment``.

Each subcommand lives in ``tinygrad_norm/commands/<name>.py`` with ``register(subparsers)``; its
heavy imports happen only when it runs, so ``--help`` is instant.
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ("train", "graph", "bench", "experiment")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tinygrad-norm",
        description="Train, draw and benchmark networks whose dropout and normalizations are "
                    "composite ops of a small NumPy autograd engine.")
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
