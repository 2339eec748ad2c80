"""Reproductions of claims about overfitting, dropout, feature scaling, initialization and the
normalizations, one module per claim, all run by :mod:`tinygrad_norm.experiments.runner`.

From the command line: ``tinygrad-norm experiment list`` and ``tinygrad-norm experiment NAME
[--quick]``. From Python::

    from tinygrad_norm.experiments import run_experiment
    record = run_experiment("bn-sigmoid", quick=True, out_dir="out")   # the results.json dict
"""
from .runner import EXPERIMENTS, Check, Context, Outcome, list_experiments, run_experiment

__all__ = ["EXPERIMENTS", "Check", "Context", "Outcome", "list_experiments", "run_experiment"]
