"""Bad-input fuzzer over the public API (opt-in: not collected by pytest, slow, needs torch).

Run from the repository root::

    python tests/fuzz_bad_input.py                 # everything, summary + BAD list
    python tests/fuzz_bad_input.py --only F.conv   # names starting with a prefix
    python tests/fuzz_bad_input.py --json out.json # every outcome, for triage

For every public callable (top level, functional, nn modules -- constructor and forward --,
optimizers, schedulers, linalg, special, Tensor methods) it first finds a VALID call: a table of
hand-written calls for the names whose arguments must agree with each other, else a search over
a few input profiles (same-shaped tensors, small ints). Then it replaces ONE argument at a time by
a bad value (wrong type, wrong ndim, empty, wrong dtype, negative/zero/huge, NaN, wrong length)
and classifies what happens:

  OK      accepted, and torch (the oracle) accepts the same call too
  GOOD    ValueError/TypeError/RuntimeError/IndexError/NotImplementedError raised in the package,
          naming the argument or the function
  VAGUE   such an error from the package whose message names neither (a candidate for review)
  BAD     an exception from NumPy/builtins/a deep helper (the last frame outside the package);
          AttributeError/KeyError/ZeroDivisionError/UnboundLocalError/...; a hang; or state
          (module buffers, optimizer state, input data, the RNG) changed before the raise
  ACCEPT  we accept what torch refuses (review: a documented extension, or silent garbage)
  MEM     a huge size refused for want of memory (MemoryError), as torch refuses it
  MISMATCH / SUSPECT  accepted by both, values differ / a scheduler's lr became inf or NaN
          (review: random draws and in-place methods differ by construction)

The search and the tables are heuristics: a name with no valid call found is listed as
uncovered, not fuzzed.
"""
from __future__ import annotations

import argparse
import collections
import inspect
import json
import math
import os
import re
import resource
import signal
import sys
import traceback
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tinygrad_norm as tg  # noqa: E402
import tinygrad_norm.functional as F  # noqa: E402
import tinygrad_norm.nn as nn  # noqa: E402
import tinygrad_norm.optim as optim  # noqa: E402
from tinygrad_norm import Tensor  # noqa: E402
from tinygrad_norm import random as tg_random  # noqa: E402
from tinygrad_norm.optim import lr_scheduler  # noqa: E402

try:
    import torch
    torch.set_num_threads(1)
    # torch's optimizers import torch._dynamo on first use: done here, not under a call's 3 s
    # alarm, which a loaded machine can hit mid-import, leaving the module half made
    torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1)
except ImportError:  # the fuzzer still classifies errors; ACCEPT needs torch
    torch = None

PKG = os.path.dirname(tg.__file__)
_rng = np.random.default_rng(0)
SENTINEL = object()


def T(*shape, dtype=np.float64, lo=0.1, hi=0.9):
    """A tensor of values in (lo, hi): positive, below 1, so log/sqrt/bce/acos all take it."""
    return Tensor(_rng.uniform(lo, hi, size=shape).astype(dtype))


def I(*shape, high=3):
    return Tensor(_rng.integers(0, high, size=shape).astype(np.int64))


# ---- valid calls that the profile search cannot guess (arguments that must agree) ------------

def hand_table():
    H = {}
    H["F.conv1d"] = lambda: ((T(2, 3, 8), T(4, 3, 3), T(4)), {})
    H["F.conv2d"] = lambda: ((T(2, 3, 8, 8), T(4, 3, 3, 3), T(4)), {})
    H["F.conv3d"] = lambda: ((T(1, 2, 5, 5, 5), T(3, 2, 2, 2, 2), T(3)), {})
    H["F.conv_transpose1d"] = lambda: ((T(2, 3, 8), T(3, 4, 3), T(4)), {})
    H["F.conv_transpose2d"] = lambda: ((T(2, 3, 6, 6), T(3, 4, 3, 3), T(4)), {})
    H["F.conv_transpose3d"] = lambda: ((T(1, 2, 4, 4, 4), T(2, 3, 2, 2, 2), T(3)), {})
    H["F.linear"] = lambda: ((T(5, 4), T(3, 4), T(3)), {})
    H["F.bilinear"] = lambda: ((T(5, 4), T(5, 3), T(2, 4, 3), T(2)), {})
    H["F.batch_norm"] = lambda: ((T(4, 3, 5), T(3), T(3) + 0.5, T(3), T(3)), {"training": True})
    H["F.layer_norm"] = lambda: ((T(2, 3, 4), (4,), T(4), T(4)), {})
    H["F.rms_norm"] = lambda: ((T(2, 3, 4), (4,), T(4)), {})
    H["F.group_norm"] = lambda: ((T(2, 4, 5), 2, T(4), T(4)), {})
    H["F.instance_norm"] = lambda: ((T(2, 3, 5), T(3), T(3) + 0.5, T(3), T(3)), {"use_input_stats": True})
    H["F.embedding"] = lambda: ((I(2, 3, high=10), T(10, 4)), {})
    H["F.embedding_bag"] = lambda: ((I(2, 3, high=10), T(10, 4)), {})
    H["F.one_hot"] = lambda: ((I(5, high=4),), {"num_classes": 4})
    H["F.cross_entropy"] = lambda: ((T(4, 5), I(4, high=5)), {})
    H["F.nll_loss"] = lambda: ((T(4, 5), I(4, high=5)), {})
    H["F.multi_margin_loss"] = lambda: ((T(4, 5), I(4, high=5)), {})
    H["F.multilabel_margin_loss"] = lambda: ((T(4, 5), Tensor(np.array([[1, 2, -1, 0, 0]] * 4))), {})
    H["F.ctc_loss"] = lambda: ((Tensor(np.log(np.full((6, 2, 4), 0.25))), Tensor(np.array([[1, 2], [2, 3]])),
                                Tensor(np.array([6, 6])), Tensor(np.array([2, 2]))), {})
    H["F.cosine_embedding_loss"] = lambda: ((T(4, 5), T(4, 5), Tensor(np.array([1., -1, 1, -1]))), {})
    H["F.margin_ranking_loss"] = lambda: ((T(4), T(4), Tensor(np.array([1., -1, 1, -1]))), {})
    H["F.hinge_embedding_loss"] = lambda: ((T(4), Tensor(np.array([1., -1, 1, -1]))), {})
    H["F.gaussian_nll_loss"] = lambda: ((T(4, 2), T(4, 2), T(4, 2)), {})
    H["F.triplet_margin_loss"] = lambda: ((T(4, 5), T(4, 5), T(4, 5)), {})
    H["F.triplet_margin_with_distance_loss"] = lambda: ((T(4, 5), T(4, 5), T(4, 5)), {})
    H["F.prelu"] = lambda: ((T(2, 3, 4), T(3)), {})
    H["F.pad"] = lambda: ((T(2, 3, 4), (1, 1)), {})
    H["F.interpolate"] = lambda: ((T(1, 2, 4, 4),), {"scale_factor": 2})
    H["F.upsample"] = lambda: ((T(1, 2, 4, 4),), {"scale_factor": 2})
    H["F.upsample_nearest"] = lambda: ((T(1, 2, 4, 4),), {"scale_factor": 2})
    H["F.upsample_bilinear"] = lambda: ((T(1, 2, 4, 4),), {"scale_factor": 2})
    H["F.grid_sample"] = lambda: ((T(1, 2, 4, 4), T(1, 3, 3, 2, lo=-0.9)), {"align_corners": False})
    H["F.affine_grid"] = lambda: ((T(2, 2, 3), (2, 1, 4, 4)), {"align_corners": False})
    H["F.fold"] = lambda: ((T(1, 12, 9),), {"output_size": (4, 4), "kernel_size": 2})
    H["F.unfold"] = lambda: ((T(1, 3, 4, 4),), {"kernel_size": 2})
    H["F.max_unpool1d"] = lambda: ((T(1, 2, 2), Tensor(np.array([[[1, 2], [0, 3]]])), 2), {})
    H["F.max_unpool2d"] = lambda: ((T(1, 1, 2, 2), Tensor(np.array([[[[0, 3], [8, 15]]]])), 2), {})
    H["F.max_unpool3d"] = lambda: ((T(1, 1, 1, 1, 1), Tensor(np.array([[[[[0]]]]])), 2), {})
    H["F.scaled_dot_product_attention"] = lambda: ((T(2, 3, 4), T(2, 5, 4), T(2, 5, 6)), {})
    H["F.fractional_max_pool2d"] = lambda: ((T(1, 2, 8, 8), 2), {"output_size": 4})
    H["F.fractional_max_pool3d"] = lambda: ((T(1, 2, 6, 6, 6), 2), {"output_size": 3})
    H["F.pixel_shuffle"] = lambda: ((T(1, 8, 2, 2), 2), {})
    H["F.pixel_unshuffle"] = lambda: ((T(1, 2, 4, 4), 2), {})
    H["F.channel_shuffle"] = lambda: ((T(1, 4, 2, 2), 2), {})
    H["F.local_response_norm"] = lambda: ((T(2, 4, 5), 2), {})
    H["F.glu"] = lambda: ((T(2, 4),), {})
    H["F.gumbel_softmax"] = lambda: ((T(3, 4),), {})
    H["F.pdist"] = lambda: ((T(4, 3),), {})
    H["F.kl_div"] = lambda: ((T(3, 4), T(3, 4)), {"reduction": "batchmean"})
    for n in ("max_pool1d", "avg_pool1d", "lp_pool1d", "max_pool1d_with_indices"):
        H["F." + n] = (lambda n=n: ((T(2, 3, 8),) + ((2.0,) if n.startswith("lp") else ()), {"kernel_size": 2}))
    for n in ("max_pool2d", "avg_pool2d", "lp_pool2d", "max_pool2d_with_indices"):
        H["F." + n] = (lambda n=n: ((T(2, 3, 8, 8),) + ((2.0,) if n.startswith("lp") else ()), {"kernel_size": 2}))
    for n in ("max_pool3d", "avg_pool3d", "lp_pool3d", "max_pool3d_with_indices"):
        H["F." + n] = (lambda n=n: ((T(1, 2, 4, 4, 4),) + ((2.0,) if n.startswith("lp") else ()), {"kernel_size": 2}))
    for d, shp in ((1, (2, 3, 8)), (2, (2, 3, 8, 8)), (3, (1, 2, 4, 4, 4))):
        for kind in ("avg", "max"):
            H[f"F.adaptive_{kind}_pool{d}d"] = (lambda shp=shp: ((T(*shp), 2), {}))
            H[f"F.adaptive_{kind}_pool{d}d_with_indices"] = (lambda shp=shp: ((T(*shp), 2), {}))
    # top level
    H["tg.matmul"] = lambda: ((T(3, 4), T(4, 2)), {})
    H["tg.mm"] = lambda: ((T(3, 4), T(4, 2)), {})
    H["tg.bmm"] = lambda: ((T(2, 3, 4), T(2, 4, 2)), {})
    H["tg.baddbmm"] = lambda: ((T(2, 3, 2), T(2, 3, 4), T(2, 4, 2)), {})
    H["tg.addbmm"] = lambda: ((T(3, 2), T(2, 3, 4), T(2, 4, 2)), {})
    H["tg.addmm"] = lambda: ((T(3, 2), T(3, 4), T(4, 2)), {})
    H["tg.addmv"] = lambda: ((T(3), T(3, 4), T(4)), {})
    H["tg.addr"] = lambda: ((T(3, 4), T(3), T(4)), {})
    H["tg.mv"] = lambda: ((T(3, 4), T(4)), {})
    H["tg.einsum"] = lambda: (("ij,jk->ik", T(3, 4), T(4, 2)), {})
    H["tg.tensordot"] = lambda: ((T(3, 4), T(4, 2)), {"dims": 1})
    H["tg.gather"] = lambda: ((T(3, 4), 1, I(3, 2, high=4)), {})
    H["tg.take_along_dim"] = lambda: ((T(3, 4), I(3, 2, high=4)), {"dim": 1})
    H["tg.scatter"] = lambda: ((T(3, 4), 1, I(3, 2, high=4), T(3, 2)), {})
    H["tg.scatter_add"] = lambda: ((T(3, 4), 1, I(3, 2, high=4), T(3, 2)), {})
    H["tg.scatter_reduce"] = lambda: ((T(3, 4), 1, I(3, 2, high=4), T(3, 2), "sum"), {})
    H["tg.index_select"] = lambda: ((T(3, 4), 1, I(2, high=4)), {})
    H["tg.index_add"] = lambda: ((T(3, 4), 1, Tensor(np.array([0, 2])), T(3, 2)), {})
    H["tg.index_copy"] = lambda: ((T(3, 4), 1, Tensor(np.array([0, 2])), T(3, 2)), {})
    H["tg.index_fill"] = lambda: ((T(3, 4), 1, Tensor(np.array([0, 2])), 0.5), {})
    H["tg.index_reduce"] = lambda: ((T(3, 4), 1, Tensor(np.array([0, 2])), T(3, 2), "prod"), {})
    H["tg.index_put"] = lambda: ((T(3, 4), (Tensor(np.array([0, 2])),), T(2, 4)), {})
    H["tg.masked_select"] = lambda: ((T(3, 4), Tensor(np.eye(3, 4, dtype=bool))), {})
    H["tg.masked_scatter"] = lambda: ((T(3, 4), Tensor(np.eye(3, 4, dtype=bool)), T(12)), {})
    H["tg.where"] = lambda: ((Tensor(np.eye(3, 4, dtype=bool)), T(3, 4), T(3, 4)), {})
    H["tg.lerp"] = lambda: ((T(3, 4), T(3, 4), 0.3), {})
    H["tg.addcmul"] = lambda: ((T(3, 4), T(3, 4), T(3, 4)), {})
    H["tg.addcdiv"] = lambda: ((T(3, 4), T(3, 4), T(3, 4)), {})
    H["tg.searchsorted"] = lambda: ((Tensor(np.array([0.1, 0.4, 0.8])), T(5)), {})
    H["tg.bucketize"] = lambda: ((T(5), Tensor(np.array([0.1, 0.4, 0.8]))), {})
    H["tg.bincount"] = lambda: ((I(6, high=4),), {})
    H["tg.narrow"] = lambda: ((T(3, 4), 1, 1, 2), {})
    H["tg.select"] = lambda: ((T(3, 4), 1, 2), {})
    H["tg.unflatten"] = lambda: ((T(3, 4), 1, (2, 2)), {})
    H["tg.movedim"] = lambda: ((T(2, 3, 4), 0, 2), {})
    H["tg.moveaxis"] = lambda: ((T(2, 3, 4), 0, 2), {})
    H["tg.swapaxes"] = lambda: ((T(2, 3, 4), 0, 2), {})
    H["tg.swapdims"] = lambda: ((T(2, 3, 4), 0, 2), {})
    H["tg.transpose"] = lambda: ((T(2, 3, 4), 0, 2), {})
    H["tg.permute"] = lambda: ((T(2, 3, 4), (2, 0, 1)), {})
    H["tg.reshape"] = lambda: ((T(2, 3, 4), (6, 4)), {})
    H["tg.broadcast_to"] = lambda: ((T(1, 4), (3, 4)), {})
    H["tg.sum_to_size"] = lambda: ((T(3, 4), (1, 4)), {})
    H["tg.split"] = lambda: ((T(6, 4), 2), {})
    H["tg.chunk"] = lambda: ((T(6, 4), 2), {})
    H["tg.tensor_split"] = lambda: ((T(6, 4), 2), {})
    H["tg.hsplit"] = lambda: ((T(6, 4), 2), {})
    H["tg.vsplit"] = lambda: ((T(6, 4), 2), {})
    H["tg.dsplit"] = lambda: ((T(2, 3, 4), 2), {})
    H["tg.repeat_interleave"] = lambda: ((T(3, 4), 2), {})
    H["tg.tile"] = lambda: ((T(3, 4), (2, 1)), {})
    H["tg.roll"] = lambda: ((T(3, 4), 1), {"dims": 1})
    H["tg.rot90"] = lambda: ((T(3, 4), 1, (0, 1)), {})
    H["tg.flip"] = lambda: ((T(3, 4), (0,)), {})
    H["tg.topk"] = lambda: ((T(3, 4), 2), {})
    H["tg.kthvalue"] = lambda: ((T(3, 4), 2), {})
    H["tg.quantile"] = lambda: ((T(3, 4), 0.3), {})
    H["tg.nanquantile"] = lambda: ((T(3, 4), 0.3), {})
    H["tg.renorm"] = lambda: ((T(3, 4), 2, 0, 1.0), {})
    H["tg.polygamma"] = lambda: ((1, T(3, 4)), {})
    H["tg.mvlgamma"] = lambda: ((T(3, 4) + 2, 2), {})
    H["tg.igamma"] = lambda: ((T(3, 4), T(3, 4)), {})
    H["tg.igammac"] = lambda: ((T(3, 4), T(3, 4)), {})
    H["tg.histc"] = lambda: ((T(10),), {"bins": 4})
    H["tg.cross"] = lambda: ((T(2, 3), T(2, 3)), {"dim": 1})
    H["tg.cdist"] = lambda: ((T(3, 4), T(5, 4)), {})
    H["tg.multinomial"] = lambda: ((T(4), 2), {})
    H["tg.bernoulli"] = lambda: ((T(3, 4),), {})
    H["tg.normal"] = lambda: ((T(3, 4), T(3, 4)), {})
    H["tg.randint"] = lambda: ((0, 5, (3, 4)), {})
    H["tg.randint_like"] = lambda: ((T(3, 4), 5), {})
    H["tg.randperm"] = lambda: ((5,), {})
    H["tg.full"] = lambda: (((2, 3), 1.5), {})
    H["tg.full_like"] = lambda: ((T(3, 4), 1.5), {})
    H["tg.arange"] = lambda: ((0, 5, 1), {})
    H["tg.linspace"] = lambda: ((0.0, 1.0, 5), {})
    H["tg.logspace"] = lambda: ((0.0, 1.0, 5), {})
    H["tg.eye"] = lambda: ((3,), {})
    H["tg.tril_indices"] = lambda: ((3, 4), {})
    H["tg.triu_indices"] = lambda: ((3, 4), {})
    H["tg.vander"] = lambda: ((T(4),), {"N": 3})
    H["tg.diag_embed"] = lambda: ((T(2, 3),), {})
    H["tg.diagflat"] = lambda: ((T(3),), {})
    H["tg.matrix_power"] = lambda: ((T(3, 3), 2), {})
    H["tg.triangular_solve"] = lambda: ((T(3, 2), T(3, 3) + Tensor(np.eye(3))), {})
    H["tg.lu_unpack"] = None  # needs a factorization; covered by its own tests
    H["tg.chain_matmul"] = lambda: ((T(3, 4), T(4, 2), T(2, 5)), {})
    H["tg.block_diag"] = lambda: ((T(2, 2), T(3, 1)), {})
    H["tg.cartesian_prod"] = lambda: ((T(2), T(3)), {})
    H["tg.meshgrid"] = lambda: ((T(2), T(3)), {"indexing": "ij"})
    H["tg.broadcast_shapes"] = lambda: (((3, 1), (1, 4)), {})
    H["tg.trapezoid"] = lambda: ((T(3, 4),), {})
    H["tg.cumulative_trapezoid"] = lambda: ((T(3, 4),), {})
    H["tg.isin"] = lambda: ((T(3, 4), T(5)), {})
    H["tg.inner"] = lambda: ((T(3, 4), T(2, 4)), {})
    H["tg.kron"] = lambda: ((T(2, 2), T(3, 1)), {})
    H["tg.outer"] = lambda: ((T(3), T(4)), {})
    H["tg.dot"] = lambda: ((T(3), T(3)), {})
    H["tg.vdot"] = lambda: ((T(3), T(3)), {})
    H["tg.vecdot"] = lambda: ((T(3, 4), T(3, 4)), {})
    H["tg.unique_consecutive"] = lambda: ((I(6),), {})
    H["tg.unique"] = lambda: ((I(6),), {})
    H["tg.from_numpy"] = lambda: ((np.ones((2, 3)),), {})
    H["tg.clamp"] = lambda: ((T(3, 4),), {"min": 0.2, "max": 0.8})
    H["tg.clip"] = H["tg.clamp"]
    H["tg.softmax"] = lambda: ((T(3, 4), 1), {})
    H["tg.log_softmax"] = H["tg.softmax"]
    H["tg.cumsum"] = lambda: ((T(3, 4), 1), {})
    H["tg.cumprod"] = H["tg.cumsum"]
    H["tg.masked_fill"] = lambda: ((T(3, 4), Tensor(np.eye(3, 4, dtype=bool)), 0.5), {})
    H["tg.hstack"] = lambda: (([T(3, 4), T(3, 2)],), {})
    H["tg.take"] = lambda: ((T(3, 4), I(5, high=12)), {})
    H["tg.cholesky"] = lambda: ((T(3, 3) @ T(3, 3).transpose(0, 1) + Tensor(np.eye(3)),), {})
    H["tg.transpose"] = lambda: ((T(2, 3, 4), 0, 2), {})
    H["tg.unsqueeze"] = lambda: ((T(3, 4), 1), {})
    H["tg.fill_diagonal"] = lambda: ((T(3, 3), 0.5), {})
    H["tg.unfold"] = lambda: ((T(3, 4), 1, 2, 1), {})
    H["F.threshold"] = lambda: ((T(3, 4), 0.5, 0.0), {})
    H["F.threshold_"] = H["F.threshold"]
    H["L.cholesky"] = H["tg.cholesky"]
    H["L.multi_dot"] = lambda: (([T(3, 4), T(4, 2), T(2, 5)],), {})
    H["L.cross"] = lambda: ((T(2, 3), T(2, 3)), {})
    H["L.solve_triangular"] = lambda: ((T(3, 3) + Tensor(np.eye(3) * 2), T(3, 2)), {"upper": True})
    H["L.lu_solve"] = None  # needs a factorization; covered by its own tests
    return H


# ---- bad values per kind of valid value ---------------------------------------------------

def bad_values(v, first_tensor):
    """(label, value) pairs replacing a valid value v."""
    out = [("str", "abc"), ("dict", {"a": 1}), ("complex", 1 + 2j)]
    if isinstance(v, Tensor):
        a = v.numpy()
        out += [("None", None), ("list_of_str", ["a", "b"])]
        if a.ndim >= 1:
            out += [("ndim-1", Tensor(a[0].copy())), ("empty0", Tensor(a[:0].copy()))]
        out += [("ndim+1", Tensor(a[None].copy())), ("scalar", Tensor(np.asarray(a.ravel()[:1].reshape(()).copy())))]
        if a.dtype.kind == "f":
            out += [("int_tensor", Tensor((a * 3).astype(np.int64))), ("bool_tensor", Tensor(a > 0.5))]
            if not first_tensor:
                out += [("float32_mix", Tensor(a.astype(np.float32)))]
        elif a.dtype.kind in "iu":
            out += [("float_index", Tensor(a.astype(np.float64))), ("neg_index", Tensor(a - 5)),
                    ("huge_index", Tensor(a + 1000))]
        if a.ndim >= 2:
            out += [("transposed_shape", Tensor(np.ascontiguousarray(a.reshape(a.shape[::-1]))))] \
                if a.shape != a.shape[::-1] else []
    elif isinstance(v, (bool, np.bool_)):
        out += [("int2", 2), ("None", None), ("float", 1.0)]
    elif isinstance(v, (int, np.integer)):
        out += [("None", None), ("float", 2.5), ("bool", True), ("neg", -1), ("neg_big", -100),
                ("zero", 0), ("huge", 10 ** 12), ("list_of_str", ["a"]), ("nan", float("nan"))]
    elif isinstance(v, (float, np.floating)):
        out += [("None", None), ("nan", float("nan")), ("neg", -1.0), ("inf", float("inf")),
                ("zero", 0.0), ("huge", 1e300), ("bool", True)]
    elif isinstance(v, str):
        out += [("bogus_str", "bogus"), ("int", 3), ("None", None)]
    elif isinstance(v, (tuple, list)):
        out += [("None", None), ("longer", type(v)(list(v) + [v[-1] if v else 1])),
                ("tuple_of_str", type(v)(["a"] * max(len(v), 1))),
                ("tuple_of_neg", type(v)([-1] * max(len(v), 1)))]
        if len(v) > 1:
            out += [("shorter", type(v)(list(v)[:-1]))]
        out += [("empty", type(v)())]
    elif v is None:
        out += [("neg", -1), ("list_of_str", ["a"]), ("nan", float("nan"))]
    elif callable(v):
        out += [("int", 3)]
    return out


# ---- running one call and classifying it ---------------------------------------------------

class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


BAD_TYPES = (AttributeError, KeyError, ZeroDivisionError, UnboundLocalError, NameError,
             AssertionError, RecursionError, StopIteration, MemoryError, OverflowError)
OK_TYPES = (ValueError, TypeError, RuntimeError, IndexError, NotImplementedError)


def last_frame(tb):
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_filename, tb.tb_frame.f_code.co_name, tb.tb_lineno


def _words(msg):
    """A message's words, numbers and dtype spellings aside: torch says "Double" where NumPy
    says "float64", "[3, 4]" where we may say "(3, 4)"."""
    dtypes = r"\b(float|int|uint|complex)\d+\b|\b(double|float|half|long|bool)\b"
    low = re.sub(dtypes, "T", msg.lower())
    return " ".join(re.sub(r"[^a-z]+", " ", re.sub(r"\d+", " ", low)).split())


def torch_says_as_much(msg, oracle):
    """Whether torch, given the same bad call, raises with no more words than ours: its message
    (its first 40 letters, numbers and dtypes aside) is in ours. Such a message names what torch
    names; calling it vague would ask for more than the oracle gives."""
    if oracle is None:
        return False
    te = oracle()
    if te is None:
        return False
    theirs = _words(str(te).splitlines()[0] if str(te) else "")[:40]
    return bool(theirs) and theirs in _words(msg)


def classify_error(e, names, oracle=None):
    if isinstance(e, Hang):
        return "BAD", "hang"
    fname, func, line = last_frame(e.__traceback__)
    where = f"{os.path.relpath(fname, os.path.dirname(PKG))}:{line} {func}"
    msg = str(e)
    if isinstance(e, MemoryError) or "array is too big" in msg:
        # a huge size: NumPy's "Unable to allocate 14.6 TiB for an array with shape ..." says
        # what went wrong, as torch's "can't allocate memory" does
        return "MEM", f"{type(e).__name__}: {msg[:120]}"
    if isinstance(e, KeyError) and "initial_lr" in msg and fname.startswith(PKG):
        return "GOOD", f"KeyError (torch's too): {msg[:160]}"  # resuming a scheduler, as torch
    if isinstance(e, BAD_TYPES):
        return "BAD", f"{type(e).__name__} at {where}: {msg[:160]}"
    if not fname.startswith(PKG):
        return "BAD", f"{type(e).__name__} from outside at {where}: {msg[:160]}"
    if not isinstance(e, OK_TYPES):
        return "BAD", f"{type(e).__name__} at {where}: {msg[:160]}"
    low = msg.lower()
    if any(n and n.lower() in low for n in names):
        return "GOOD", f"{type(e).__name__}: {msg[:160]}"
    if torch_says_as_much(msg, oracle):
        return "GOOD", f"{type(e).__name__} (torch's words): {msg[:160]}"
    return "VAGUE", f"{type(e).__name__} at {where}: {msg[:160]}"


def snapshot(objs):
    """State that must not change when a call raises: data of every tensor argument, module
    state, optimizer state, the framework RNG."""
    snap = [tg_random._generator, repr(tg_random._generator.bit_generator.state)]
    for o in objs:
        if isinstance(o, Tensor):
            snap.append(("T", o, o.numpy().copy(), o.shape))
        elif isinstance(o, nn.Module):
            snap.append(("M", o, {k: v.numpy().copy() for k, v in o.state_dict().items()}, o.training))
        elif isinstance(o, optim.Optimizer):
            snap.append(("O", o, repr(o.state_dict())))
        elif isinstance(o, (list, tuple)):
            snap.extend(snapshot(o)[2:])
    return snap


def changed(snap):
    if tg_random._generator is not snap[0] or repr(tg_random._generator.bit_generator.state) != snap[1]:
        return "RNG advanced"
    for s in snap[2:]:
        if s[0] == "T":
            if s[1].shape != s[3] or not np.array_equal(s[1].numpy(), s[2], equal_nan=True):
                return "a tensor argument changed"
        elif s[0] == "M":
            sd = s[1].state_dict()
            if set(sd) != set(s[2]) or any(not np.array_equal(sd[k].numpy(), s[2][k], equal_nan=True)
                                           for k in s[2]) or s[1].training != s[3]:
                return "module state changed"
        elif s[0] == "O":
            if repr(s[1].state_dict()) != s[2]:
                return "optimizer state changed"
    return None


def call(fn, args, kwargs, timeout=3):
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                return fn(*args, **kwargs), None
    except Exception as e:  # noqa: BLE001 -- classifying every failure is the point
        return None, e
    finally:
        signal.alarm(0)
        if not tg.is_grad_enabled():
            tg.set_grad_enabled(True)


# ---- torch oracle ----------------------------------------------------------------------------

_TDT = {}
if torch is not None:
    _TDT = {np.float32: torch.float32, np.float64: torch.float64, np.int64: torch.int64,
            np.int32: torch.int32, np.bool_: torch.bool, np.float16: torch.float16}


def to_torch(v):
    if isinstance(v, Tensor):
        return torch.from_numpy(v.numpy().copy())
    if isinstance(v, (list, tuple)):
        return type(v)(to_torch(x) for x in v)
    if isinstance(v, dict):
        return {k: to_torch(x) for k, x in v.items()}
    if isinstance(v, type) and v in _TDT:
        return _TDT[v]
    return v


def to_np(v):
    if isinstance(v, Tensor):
        return v.numpy()
    if torch is not None and isinstance(v, torch.Tensor):
        return v.detach().numpy()
    if isinstance(v, (list, tuple)):
        return [to_np(x) for x in v]
    if hasattr(v, "_fields") or (hasattr(v, "values") and hasattr(v, "indices")):
        try:
            return [to_np(x) for x in tuple(v)]
        except TypeError:
            return v
    return v


def same(a, b):
    a, b = to_np(a), to_np(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    try:
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype == object or b.dtype == object:
            return True
        if a.shape != b.shape:
            return False
        if a.dtype.kind in "fc" or b.dtype.kind in "fc":
            return np.allclose(a.astype(np.float64), b.astype(np.float64), rtol=1e-5, atol=1e-6, equal_nan=True)
        return np.array_equal(a, b)
    except Exception:  # noqa: BLE001
        return True


# ---- enumerating the API ---------------------------------------------------------------------

SKIP = {"save", "load", "manual_seed", "set_grad_enabled", "no_grad", "enable_grad", "inference_mode",
        "scope", "gradcheck", "gradgradcheck", "GradcheckError", "Tensor", "grad", "is_grad_enabled",
        "special", "linalg", "empty", "empty_like", "lu_unpack",
        # Tensor methods with global or graph side effects, or that need a graph
        "backward", "register_hook", "retain_grad", "register_post_accumulate_grad_hook",
        "requires_grad_", "data_ptr", "tolist", "item", "numpy", "__init__"}


def functions():
    import tinygrad_norm.linalg as L
    import tinygrad_norm.special as S
    out = []
    for prefix, mod, tmod in (("tg", tg, "torch"), ("F", F, "torch.nn.functional"),
                              ("L", L, "torch.linalg"), ("S", S, "torch.special")):
        names = getattr(mod, "__all__", None) or [n for n in dir(mod) if not n.startswith("_")]
        for n in names:
            f = getattr(mod, n, None)
            if n in SKIP or f is None or inspect.ismodule(f) or inspect.isclass(f) or not callable(f):
                continue
            if isinstance(f, np.dtype) or (isinstance(f, type)):
                continue
            if n.endswith("_") and prefix == "F" and not n.startswith("_"):
                pass
            out.append((f"{prefix}.{n}", f, tmod, n))
    return out


def torch_fn(tmod, n):
    if torch is None:
        return None
    obj = {"torch": torch, "torch.nn.functional": torch.nn.functional,
           "torch.linalg": torch.linalg, "torch.special": torch.special}[tmod]
    return getattr(obj, n, None)


INT_NAMES = {"dim", "axis", "n", "k", "num_classes", "groups", "upscale_factor", "downscale_factor",
             "diagonal", "offset", "repeats", "chunks", "sections", "steps", "kernel_size", "stride",
             "output_size", "num_samples", "high", "start", "end", "size", "bins", "N", "row", "col",
             "indices_or_sections", "dim0", "dim1", "source", "destination", "shifts", "p"}


def profiles(fn):
    """Candidate valid (args, kwargs) from the signature: required parameters only."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    req = [p for p in sig.parameters.values() if p.default is inspect.Parameter.empty
           and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    var = any(p.kind is p.VAR_POSITIONAL for p in sig.parameters.values())
    for shape in ((3, 4), (2, 3, 4), (4, 4), (2, 3, 4, 4), (5,), (2, 3, 4, 4, 4), ()):
        for iv in (1, 2, 0):
            args = []
            for p in req:
                args.append(iv if p.name in INT_NAMES else T(*shape))
            if var and not req:
                yield (T(*shape),), {}
                yield (T(*shape), T(*shape)), {}
                yield tuple(shape), {}
                break
            if var:
                yield tuple(args) + (T(*shape),), {}
            yield tuple(args), {}
            if not any(p.name in INT_NAMES for p in req):
                break


def find_valid(name, fn, tfn, table):
    cands = []
    if name in table:
        if table[name] is None:
            return None
        cands = [table[name]()]
    else:
        cands = list(profiles(fn))
    fallback = None
    for args, kw in cands:
        res, e = call(fn, args, kw)
        if e is not None:
            continue
        if tfn is not None:
            tres, te = call(tfn, to_torch(args), to_torch(kw))
            if te is None:
                return args, kw, True
        if fallback is None:
            fallback = (args, kw, False)
    return fallback


def mutations(fn, args, kwargs):
    """(param name, label, args, kwargs) with one argument replaced."""
    try:
        sig = inspect.signature(fn)
        params = list(sig.parameters.values())
    except (TypeError, ValueError):
        params = []
    pos = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    seen_tensor = False
    for i, v in enumerate(args):
        pname = pos[i].name if i < len(pos) else f"args[{i}]"
        for label, bad in bad_values(v, not seen_tensor):
            yield pname, label, args[:i] + (bad,) + args[i + 1:], kwargs
        seen_tensor = seen_tensor or isinstance(v, Tensor)
    bound = {p.name for p in pos[:len(args)]}
    for p in params:
        if p.name in bound or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name in kwargs:
            v = kwargs[p.name]
        elif p.default is not inspect.Parameter.empty and type(p.default).__name__ != "_Unset" \
                and repr(p.default) != "UNSET":
            v = p.default
        else:
            continue
        if isinstance(v, type) or isinstance(v, np.dtype):
            yield p.name, "dtype_str", args, {**kwargs, p.name: "foo"}
            yield p.name, "dtype_complex", args, {**kwargs, p.name: np.complex128}
            continue
        for label, bad in bad_values(v, False):
            yield p.name, label, args, {**kwargs, p.name: bad}


Record = collections.namedtuple("Record", "name param label verdict detail")


def fuzz_call(name, fn, tfn, args, kwargs, records, objs=(), names=(), keep_self=False):
    short = name.split(".")[-1]
    for pname, label, a, kw in mutations(fn, args, kwargs):
        if keep_self and a[:1] and a[0] is not args[0]:
            continue  # Tensor.method(bad) unbound is not a call anyone writes
        snap = snapshot(list(a) + list(kw.values()) + list(objs))
        res, e = call(fn, a, kw)
        if e is not None:
            oracle = None if tfn is None else (
                lambda a=a, kw=kw: call(tfn, to_torch(a), to_torch(kw))[1])
            # the callable's own name too: tg.greater is gt, and says "gt()"
            own = getattr(fn, "__name__", "")
            verdict, detail = classify_error(e, (short, pname, own) + tuple(names), oracle)
            ch = changed(snap)
            if ch and verdict != "BAD":
                verdict, detail = "BAD", f"{ch} before raising: {detail}"
        else:
            verdict, detail = "OK", ""
            if tfn is not None:
                tres, te = call(tfn, to_torch(a), to_torch(kw))
                if te is not None:
                    verdict, detail = "ACCEPT", f"torch: {type(te).__name__}: {str(te)[:120]}"
                elif not same(res, tres):
                    verdict, detail = "MISMATCH", "values differ from torch"
        records.append(Record(name, pname, label, verdict, detail))


# ---- modules, optimizers, schedulers ------------------------------------------------------

CTOR = {"in_features": 4, "out_features": 3, "in1_features": 4, "in2_features": 3, "num_features": 3,
        "normalized_shape": 4, "in_channels": 3, "out_channels": 2, "kernel_size": 2,
        "num_embeddings": 10, "embedding_dim": 4, "embed_dim": 4, "num_heads": 2, "input_size": 4,
        "hidden_size": 3, "d_model": 4, "nhead": 2, "num_groups": 1, "num_channels": 3, "size": 2,
        "output_size": 2, "upscale_factor": 2, "downscale_factor": 2, "groups": 3, "padding": 1,
        "dim": 1, "n_classes": 5, "cutoffs": [2, 4], "lambd": 0.5, "threshold": 0.5, "value": 0.0,
        "num_layers": 1, "unflattened_size": (2, 2), "norm_type": 2.0, "out_features_": 3,
        "scale_factor": 2, "num_parameters": 1, "alpha": 1.0, "p": 0.5, "min_val": -1.0,
        "max_val": 1.0, "negative_slope": 0.01, "beta": 1.0, "margin": 1.0}
CTOR_BY_CLASS = {"Fold": {"output_size": (4, 4), "kernel_size": 2}, "Upsample": {"scale_factor": 2},
                 "UpsamplingBilinear2d": {"scale_factor": 2}, "UpsamplingNearest2d": {"scale_factor": 2},
                 "Transformer": {"d_model": 4, "nhead": 2, "num_encoder_layers": 1,
                                 "num_decoder_layers": 1, "dim_feedforward": 8},
                 "FractionalMaxPool2d": {"kernel_size": 2, "output_size": 2},
                 "FractionalMaxPool3d": {"kernel_size": 2, "output_size": 2}}

MODULE_INPUTS = [lambda: (T(2, 3, 8, 8),), lambda: (T(2, 3, 8),), lambda: (T(5, 4),), lambda: (T(2, 3, 4, 4, 4),),
                 lambda: (T(5, 4), T(5, 3)), lambda: (T(2, 3, 4),), lambda: (I(2, 3, high=10),),
                 lambda: (T(4, 5), I(4, high=5)), lambda: (T(3, 4), T(3, 4)), lambda: (T(2, 4, 5),),
                 lambda: (T(3, 2, 4), T(3, 2, 4), T(3, 2, 4)), lambda: (T(2, 3, 4), T(2, 3, 4)),
                 lambda: (T(4, 5), I(4, high=5)), lambda: (T(4), T(4), Tensor(np.array([1., -1, 1, -1]))),
                 lambda: (T(4, 5), T(4, 5), Tensor(np.array([1., -1, 1, -1]))), lambda: (T(4, 5), T(4, 5), T(4, 5)),
                 lambda: (T(1, 12, 9),), lambda: (T(1, 8, 2, 2),), lambda: (T(5, 4), I(5, high=10))]


MODULE_TABLE = {
    "CTLoss": None,
    "CTCLoss": lambda: (Tensor(np.log(np.full((6, 2, 4), 0.25))), Tensor(np.array([[1, 2], [2, 3]])),
                        Tensor(np.array([6, 6])), Tensor(np.array([2, 2]))),
    "MultiLabelMarginLoss": lambda: (T(4, 5), Tensor(np.array([[1, 2, -1, 0, 0]] * 4))),
    "Upsample": lambda: (T(1, 2, 4, 4, dtype=np.float32),),
    "UpsamplingBilinear2d": lambda: (T(1, 2, 4, 4, dtype=np.float32),),
    "UpsamplingNearest2d": lambda: (T(1, 2, 4, 4, dtype=np.float32),),
    "Fold": lambda: (T(1, 12, 9, dtype=np.float32),),
    "Transformer": lambda: (T(5, 2, 4, dtype=np.float32), T(3, 2, 4, dtype=np.float32)),
}
MODULE_TABLE = {k: v for k, v in MODULE_TABLE.items() if v is not None}


def module_classes():
    out = []
    for n in dir(nn):
        c = getattr(nn, n)
        if inspect.isclass(c) and issubclass(c, nn.Module) and c is not nn.Module and not n.startswith("_"):
            if n in {"Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
                     "RNNBase", "RNNCellBase", "Identity"}:
                continue
            out.append((n, c))
    return out


def module_ctor_args(cls):
    if cls.__name__ in CTOR_BY_CLASS:
        return dict(CTOR_BY_CLASS[cls.__name__])
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        return None
    kw = {}
    for p in sig.parameters.values():
        if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            if p.name in CTOR:
                kw[p.name] = CTOR[p.name]
            elif p.name in ("encoder_layer", "decoder_layer"):
                kw[p.name] = (nn.TransformerEncoderLayer if p.name == "encoder_layer"
                              else nn.TransformerDecoderLayer)(4, 2, dim_feedforward=8, dropout=0.0)
            elif p.name == "distance_function":
                continue
            else:
                return None
    return kw


def fuzz_modules(records, uncovered, only):
    for n, cls in module_classes():
        name = f"nn.{n}"
        if only and not name.startswith(only):
            continue
        kw = module_ctor_args(cls)
        if kw is None:
            uncovered.append(name + " (ctor)")
            continue
        tcls = getattr(torch.nn, n, None) if torch is not None else None
        tg.manual_seed(0)
        m, e = call(cls, (), kw)
        if e is not None:
            uncovered.append(f"{name} (ctor raised {type(e).__name__}: {str(e)[:80]})")
            continue
        # constructor mutations: compare acceptance with torch's constructor
        tctor = (lambda **k: tcls(**k)) if tcls is not None else None
        fuzz_call(name + ".__init__", cls, tctor, (), kw, records, names=(n,))
        # forward with bad inputs
        valid = None
        if n in MODULE_TABLE:
            ins = MODULE_TABLE[n]()
            r, e = call(m, ins, {})
            valid = ins if e is None else None
        # the float64 profiles, then the same in float32 (the modules' default dtype)
        as32 = [tuple(t.astype(np.float32) if t.dtype == np.float64 else t for t in mk())
                for mk in MODULE_INPUTS]
        for ins in [] if valid is not None else [mk() for mk in MODULE_INPUTS] + as32:
            tg.manual_seed(0)
            r, e = call(m, ins, {})
            if e is None:
                valid = ins
                break
        if valid is None:
            uncovered.append(name + " (forward)")
            continue
        # a message naming forward's own parameter ("target", "x2") names the argument
        try:
            fwd_names = tuple(p for p in inspect.signature(m.forward).parameters if len(p) > 1)
        except (TypeError, ValueError):
            fwd_names = ()
        # and the functional twin's name: MarginRankingLoss says "margin_ranking_loss: ..."
        fwd_names += ("_".join(w.lower() for w in re.findall(r"[A-Z][a-z0-9]*", n)),)
        for i, v in enumerate(valid):
            for label, bad in bad_values(v, i == 0):
                a = valid[:i] + (bad,) + valid[i + 1:]
                tg.manual_seed(0)
                snap = snapshot(list(a) + [m])
                r, e = call(m, a, {})
                if e is not None:
                    verdict, detail = classify_error(e, (n, "input", "forward") + fwd_names,
                                                     _module_oracle(tcls, kw, a, valid))
                    ch = changed(snap)
                    if ch and verdict != "BAD":
                        verdict, detail = "BAD", f"{ch} before raising: {detail}"
                else:
                    verdict, detail = "OK", ""
                    if tcls is not None:
                        tm, te = call(tcls, (), to_torch(kw))
                        if te is None:
                            if valid[0].dtype == np.float64 and hasattr(tm, "double"):
                                tm = tm.double()
                            tr, te = call(tm, to_torch(a), {})
                            if te is not None:
                                verdict, detail = "ACCEPT", f"torch: {type(te).__name__}: {str(te)[:120]}"
                records.append(Record(name + ".forward", f"input{i}", label, verdict, detail))


def _module_oracle(tcls, kw, a, valid):
    """The same forward call on torch's module, for classify_error (None without one)."""
    if tcls is None:
        return None

    def run():
        tm, te = call(tcls, (), to_torch(kw))
        if te is not None:
            return None
        if valid[0].dtype == np.float64 and hasattr(tm, "double"):
            tm = tm.double()
        return call(tm, to_torch(a), {})[1]
    return run


OPT_KW = {"SGD": {"lr": 0.1}, "LBFGS": {"lr": 0.1}}


def fuzz_optimizers(records, uncovered, only):
    for n in optim.__all__:
        cls = getattr(optim, n)
        if n == "Optimizer":
            continue
        name = f"optim.{n}"
        if only and not name.startswith(only):
            continue
        p = nn.Parameter(np.ones((2, 2)))
        kw = dict(OPT_KW.get(n, {}))
        tcls = getattr(torch.optim, n, None) if torch is not None else None

        def ours(params=None, **k):
            return cls([p] if params is None else params, **k)

        def theirs(params=None, **k):
            return tcls([torch.nn.Parameter(torch.ones(2, 2, dtype=torch.float64))] if params is None
                        else params, **k)
        sig = inspect.signature(cls)
        args = {q.name: q.default for q in sig.parameters.values()
                if q.name != "params" and q.default is not inspect.Parameter.empty}
        args.update(kw)
        for pname, v in args.items():
            if v is None or repr(v) == "UNSET":
                bads = [("str", "abc"), ("neg", -1)]
            else:
                bads = bad_values(v, False)
            for label, bad in bads:
                r, e = call(ours, (), {**kw, pname: bad})
                if e is not None:
                    oracle = None if tcls is None else (
                        lambda pname=pname, bad=bad: call(theirs, (), {**kw, pname: bad})[1])
                    verdict, detail = classify_error(e, (n, pname), oracle)
                else:
                    verdict, detail = "OK", ""
                    if tcls is not None and pname in inspect.signature(tcls).parameters:
                        tr, te = call(theirs, (), {**kw, pname: bad})
                        if te is not None:
                            verdict, detail = "ACCEPT", f"torch: {type(te).__name__}: {str(te)[:120]}"
                records.append(Record(name + ".__init__", pname, label, verdict, detail))
        for label, bad in (("params_tensor", p), ("params_str", "abc"), ("params_empty", []),
                           ("params_int", 3), ("params_dup", [p, p]), ("params_nongrad", [Tensor(np.ones(2))])):
            r, e = call(cls, (bad,), kw)
            verdict, detail = ("OK", "") if e is None else classify_error(e, (n, "params", "parameter"))
            if e is None and tcls is not None:
                tb = {"params_tensor": torch.ones(2, requires_grad=True), "params_str": "abc", "params_empty": [],
                      "params_int": 3, "params_nongrad": [torch.ones(2)]}
                tp = torch.nn.Parameter(torch.ones(2))
                tb["params_dup"] = [tp, tp]
                tr, te = call(tcls, (tb[label],), kw)
                if te is not None:
                    verdict, detail = "ACCEPT", f"torch: {type(te).__name__}: {str(te)[:120]}"
            records.append(Record(name + ".__init__", "params", label, verdict, detail))


SCHED = {"StepLR": {"step_size": 2}, "MultiStepLR": {"milestones": [1, 2]}, "ExponentialLR": {"gamma": 0.5},
         "CosineAnnealingLR": {"T_max": 3}, "LambdaLR": {"lr_lambda": lambda e: 0.5},
         "MultiplicativeLR": {"lr_lambda": lambda e: 0.5}, "CosineAnnealingWarmRestarts": {"T_0": 2},
         "CyclicLR": {"base_lr": 0.01, "max_lr": 0.1}, "OneCycleLR": {"max_lr": 0.1, "total_steps": 10},
         "PolynomialLR": {}, "LinearLR": {}, "ConstantLR": {}, "ReduceLROnPlateau": {}}


def fuzz_schedulers(records, uncovered, only):
    for n, kw in SCHED.items():
        name = f"lr_scheduler.{n}"
        if only and not name.startswith(only):
            continue
        cls = getattr(lr_scheduler, n)
        tcls = getattr(torch.optim.lr_scheduler, n, None) if torch is not None else None
        sig = inspect.signature(cls)
        args = {q.name: q.default for q in sig.parameters.values()
                if q.name != "optimizer" and q.default is not inspect.Parameter.empty}
        args.update(kw)
        for pname, v in args.items():
            if pname in ("verbose",):
                continue
            bads = [("str", "abc"), ("neg", -1)] if v is None else bad_values(v, False)
            for label, bad in bads:
                p = nn.Parameter(np.ones(2))
                opt = optim.SGD([p], lr=0.1, momentum=0.9)
                snap = snapshot([opt])
                r, e = call(cls, (opt,), {**kw, pname: bad})
                if e is not None:
                    verdict, detail = classify_error(e, (n, pname))
                    ch = changed(snap)
                    if ch and verdict != "BAD":
                        verdict, detail = "BAD", f"{ch} before raising: {detail}"
                    elif ch is None and opt.param_groups[0].get("lr") != 0.1:
                        verdict, detail = "BAD", "lr changed before raising: " + detail
                else:
                    verdict, detail = "OK", ""
                    # a few steps: a bad hyperparameter accepted at construction may fail later
                    for _ in range(3):
                        opt.step()
                        r2, e2 = call(r.step, (1.0,) if n == "ReduceLROnPlateau" else (), {})
                        if e2 is not None:
                            verdict, detail = "BAD", "accepted, then step() raised " + classify_error(e2, (n, pname))[1]
                            break
                        lrs = [g["lr"] for g in opt.param_groups]
                        if any(not isinstance(x, (int, float)) or not math.isfinite(x) for x in lrs):
                            verdict, detail = "SUSPECT", f"lr became {lrs}"
                            break
                    if verdict == "OK" and tcls is not None and pname in inspect.signature(tcls).parameters:
                        topt = torch.optim.SGD([torch.nn.Parameter(torch.ones(2))], lr=0.1, momentum=0.9)
                        tr, te = call(tcls, (topt,), {**kw, pname: bad})
                        if te is not None:
                            verdict, detail = "ACCEPT", f"torch: {type(te).__name__}: {str(te)[:120]}"
                records.append(Record(name + ".__init__", pname, label, verdict, detail))


# ---- Tensor methods --------------------------------------------------------------------------

def tensor_methods():
    out = []
    for n in dir(Tensor):
        if n.startswith("_") or n in SKIP:
            continue
        a = inspect.getattr_static(Tensor, n)
        if isinstance(a, (property, staticmethod, classmethod)) or not callable(getattr(Tensor, n)):
            continue
        out.append(n)
    return out


def fuzz_tensor_methods(records, uncovered, only, table):
    for n in tensor_methods():
        name = f"Tensor.{n}"
        if only and not name.startswith(only):
            continue
        fn = getattr(Tensor, n)
        tfn = getattr(torch.Tensor, n, None) if torch is not None else None
        key = "tg." + n
        if key not in table and n.endswith("_") and "tg." + n[:-1] in table:
            key = "tg." + n[:-1]  # the in-place form takes the out-of-place one's arguments
        tabled = {}
        if key in table and table[key] is not None:
            tabled = {key: table[key]}
        elif key in table:
            uncovered.append(name)
            continue
        found = find_valid(key, fn, tfn, tabled)
        if found is None:
            uncovered.append(name)
            continue
        args, kw, oracle = found
        fuzz_call(name, fn, tfn if oracle else None, args, kw, records, names=(n,), keep_self=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="")
    ap.add_argument("--json")
    ap.add_argument("--show", default="BAD", help="verdicts to list, comma-separated")
    ns = ap.parse_args()
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, resource.RLIM_INFINITY))
    warnings.simplefilter("ignore")  # NumPy's casts of the bad values: noise in the report
    table = hand_table()
    records, uncovered, covered = [], [], 0
    for name, fn, tmod, n in functions():
        if ns.only and not name.startswith(ns.only):
            continue
        tfn = torch_fn(tmod, n)
        found = find_valid(name, fn, tfn, table)
        if found is None:
            uncovered.append(name)
            continue
        covered += 1
        args, kw, oracle = found
        fuzz_call(name, fn, tfn if oracle else None, args, kw, records)
    fuzz_tensor_methods(records, uncovered, ns.only, table)
    if torch is not None:
        fuzz_modules(records, uncovered, ns.only)
    fuzz_optimizers(records, uncovered, ns.only)
    fuzz_schedulers(records, uncovered, ns.only)
    names = {r.name for r in records}
    counts = collections.Counter(r.verdict for r in records)
    show = set(ns.show.split(","))
    for r in records:
        if r.verdict in show:
            print(f"{r.verdict:8} {r.name}({r.param}={r.label}): {r.detail}")
    print(f"\ncallables fuzzed: {len(names)}; uncovered: {len(uncovered)}; mutations: {len(records)}")
    print("verdicts:", dict(counts))
    print("uncovered:", ", ".join(uncovered))
    if ns.json:
        with open(ns.json, "w") as f:
            json.dump([r._asdict() for r in records] + [{"uncovered": uncovered}], f, indent=0)


if __name__ == "__main__":
    main()
