"""Composite vs hand-written: the benchmark behind ``tinygrad-norm bench``.

For dropout and each normalization, one step is a forward pass and a backward pass (w.r.t. x,
gamma and beta, with a random upstream gradient, a fresh graph every step) of

* ``tgn``: the composite in ``tinygrad_norm.functional``, differentiated by the tape;
* ``ref``: the hand-written forward/backward pair in ``tinygrad_norm.reference`` (ratio 1.0);
* ``torch-c1`` / ``torch-n1``: PyTorch eager, the same composite of torch primitives / torch's
  fused kernels, on one thread, and ``torch-cN`` / ``torch-nN`` with torch's default thread
  count N -- only when torch is importable (it is never a dependency).

at sizes from overhead-bound (8 x 16) to memory-bound (32 x 64 x 28 x 28), float32 and float64.
Implementations are interleaved in a fresh random order every round and the report gives medians
and the median of the per-round ratios. Before anything is timed, every case checks that the
composite's output and gradients agree with the reference's in float64.

Modules, one job each: ``cases`` (what is measured), ``torch_impls`` (the optional PyTorch
twins), ``extras`` (the 200-op chain and the MLP step), ``timing`` (rounds, bandwidth, memory,
node counts), ``runner`` (the run as a whole), ``report`` (table, Markdown, JSON, plot).
"""
from __future__ import annotations

from .cases import CASES, EXTRAS, GradientMismatch
from .runner import BenchOptions, run_bench

__all__ = ["CASES", "EXTRAS", "GradientMismatch", "BenchOptions", "run_bench"]
