"""What the benchmark measures: the cases, their sizes and data, and the two implementations
every case has -- the tape-differentiated composite (``tgn``) and the hand-written reference
(``ref``) -- plus the float64 agreement check between them and the tape-node count.

The composite is looked up in ``tinygrad_norm.functional`` at call time (``F.batch_norm``, not a
reference kept from import time), so what runs is what the package exports right now.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = 1e-5
DROPOUT_P = 0.5
CHECK_RTOL = 1e-8
# float32 against float32: the two accumulate in different orders (~1e-6 apart at these sizes);
# a real error (a wrong scale, a missing term) is far above this
CHECK_RTOL_F32 = 1e-4

# Keys of the measurements that are not a normalization case (see extras.py).
EXTRAS = ("chain", "mlp")


class GradientMismatch(AssertionError):
    """The composite and the reference disagree (or a gradient has the wrong dtype): the run
    stops before timing anything, since the timings would compare different computations."""


@dataclass(frozen=True)
class Case:
    key: str
    label: str
    scope: str            # the composite's scope name: its tape nodes carry it
    sizes: tuple          # full run, small (overhead-bound) to large (memory-bound)
    quick: tuple          # --quick
    issue: tuple          # the size the issue names (tests/benchmarks uses it)
    has_params: bool = True
    has_bias: bool = True  # RMS norm has a weight and no bias

    def groups(self, shape):
        """group norm: groups of two channels (32 groups of 64 channels at the issue's size)."""
        return max(1, shape[1] // 2)

    def describe(self, shape):
        s = "x".join(str(n) for n in shape)
        return f"{s} G={self.groups(shape)}" if self.key == "gn" else s


_SPATIAL = ((2, 4, 4, 4), (8, 16, 8, 8), (16, 32, 14, 14), (32, 64, 28, 28))

CASES = {c.key: c for c in (
    Case("dropout", f"dropout p={DROPOUT_P}", "dropout",
         ((8, 16), (64, 256), (256, 1024), (256, 4096)), ((8, 16), (64, 256)), (256, 4096),
         has_params=False),
    Case("bn2d", "batch norm, (N, C)", "batch_norm",
         ((8, 16), (64, 256), (256, 1024), (1024, 4096)), ((8, 16), (64, 256)), (256, 1024)),
    Case("bn4d", "batch norm, (N, C, H, W)", "batch_norm",
         _SPATIAL, _SPATIAL[:2], _SPATIAL[3]),
    Case("ln", "layer norm over the last axis", "layer_norm",
         ((8, 16), (16, 64, 64), (32, 128, 256), (64, 128, 768)), ((8, 16), (16, 64, 64)),
         (64, 128, 768)),
    Case("rms", "RMS norm over the last axis", "rms_norm",
         ((8, 16), (16, 64, 64), (32, 128, 256), (64, 128, 768)), ((8, 16), (16, 64, 64)),
         (64, 128, 768), has_bias=False),
    Case("gn", "group norm, 2 channels per group", "group_norm",
         _SPATIAL, _SPATIAL[:2], _SPATIAL[3]),
    Case("in", "instance norm", "instance_norm",
         _SPATIAL, _SPATIAL[:2], _SPATIAL[3]),
)}


def make_data(case, shape, dtype, seed=0):
    """x (mean 0.5, std 2), gamma near 1, beta near 0, a random upstream gradient dy: a plain
    ``sum()`` upstream would make the input gradient of a normalization identically zero."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    d = dict(x=(rng.standard_normal(shape) * 2.0 + 0.5).astype(dtype),
             dy=rng.standard_normal(shape).astype(dtype))
    if case.has_params:
        C = channels(case, shape)
        d["gamma"] = (1.0 + 0.1 * rng.standard_normal(C)).astype(dtype)
        if case.has_bias:
            d["beta"] = (0.1 * rng.standard_normal(C)).astype(dtype)
    return d


def param_grads(case, dg, db):
    """The parameter gradients a case reports: dgamma and dbeta, or dgamma alone (RMS norm)."""
    if not case.has_params:
        return {}
    return dict(dgamma=dg, dbeta=db) if case.has_bias else dict(dgamma=dg)


def nbytes(shape, dtype):
    n = 1
    for s in shape:
        n *= s
    return n * np.dtype(dtype).itemsize


def floor_bytes(case, shape, dtype):
    """The traffic no implementation can avoid: read x and dy, write y and dx, and for a norm
    read its parameters and write their gradients (2 arrays each way, 1 for RMS norm)."""
    total = 4 * nbytes(shape, dtype)
    if case.has_params:
        total += (4 if case.has_bias else 2) * channels(case, shape) * np.dtype(dtype).itemsize
    return total


def channels(case, shape):
    """The length of a case's weight and bias: the last axis (layer and RMS norm), else C."""
    return shape[-1] if case.key in ("ln", "rms") else shape[1]


@dataclass
class Prepared:
    """One implementation, ready to time: ``step()`` runs one forward + backward and returns its
    outputs, ``outputs(out)`` turns them into a dict of ndarrays (y, dx, dgamma, dbeta),
    ``release()`` drops what the last step left behind."""
    step: object
    outputs: object
    release: object = lambda: None


class Impl:
    key = ""
    label = ""
    mem = False  # peak memory measurable with tracemalloc (numpy allocations)

    def enter(self):
        """Called before every timed sample (thread settings); True if it changed a setting."""
        return False

    def prepare(self, case, d, seed=0):
        raise NotImplementedError


# ---- the composite, differentiated by the tape ---------------------------------------------------

def composite_forward(case, x, g, b):
    import tinygrad_norm.functional as F  # at call time: the package's current composite

    if case.key == "dropout":
        return F.dropout(x, DROPOUT_P, training=True)
    if case.key in ("bn2d", "bn4d"):
        return F.batch_norm(x, None, None, g, b, training=True, eps=EPS)
    if case.key == "ln":
        return F.layer_norm(x, (x.shape[-1],), g, b, EPS)
    if case.key == "rms":
        return F.rms_norm(x, (x.shape[-1],), g, EPS)
    if case.key == "gn":
        return F.group_norm(x, case.groups(x.shape), g, b, EPS)
    if case.key == "in":
        return F.instance_norm(x, weight=g, bias=b, eps=EPS)
    raise KeyError(case.key)


def _arr(t):
    return None if t is None else t.data


class Composite(Impl):
    key, label, mem = "tgn", "tinygrad_norm composite (tape)", True

    def prepare(self, case, d, seed=None):
        from ..tensor import Tensor

        x = Tensor(d["x"], requires_grad=True)
        g = Tensor(d["gamma"], requires_grad=True) if case.has_params else None
        b = Tensor(d["beta"], requires_grad=True) if "beta" in d else None
        dy = d["dy"]
        leaves = [t for t in (x, g, b) if t is not None]

        def release():
            for t in leaves:
                t.grad = None

        def step():
            release()
            y = composite_forward(case, x, g, b)
            y.backward(dy)
            return y, x.grad, None if g is None else g.grad, None if b is None else b.grad

        def outputs(out):
            y, dx, dg, db = out
            return dict(y=y.data, dx=_arr(dx), **param_grads(case, _arr(dg), _arr(db)))

        if seed is not None:
            from .. import random as _random

            def seeded():
                _random.manual_seed(seed)
                return step()
            return Prepared(seeded, outputs, release)
        return Prepared(step, outputs, release)


# ---- the hand-written reference ------------------------------------------------------------------

class Reference(Impl):
    key, label, mem = "ref", "hand-written NumPy (reference.py)", True

    def prepare(self, case, d, seed=None):
        from .. import reference as R

        x, dy = d["x"], d["dy"]
        g, b = d.get("gamma"), d.get("beta")
        k = case.key
        if k == "dropout":
            rng = np.random.default_rng()

            def step():
                # with a seed (the check), every step draws the mask the composite draws after
                # manual_seed(seed): the same generator, the same draw
                r = rng if seed is None else np.random.default_rng(seed)
                y, cache = R.dropout_forward(x, DROPOUT_P, rng=r)
                return y, R.dropout_backward(dy, cache), None, None
        else:
            if k in ("bn2d", "bn4d"):
                fwd = lambda: R.batch_norm_forward(x, g, b, EPS)
                bwd = R.batch_norm_backward
            elif k == "ln":
                fwd = lambda: R.layer_norm_forward(x, g, b, EPS)
                bwd = R.layer_norm_backward
            elif k == "rms":
                fwd = lambda: R.rms_norm_forward(x, g, EPS)
                bwd = lambda dy, cache: R.rms_norm_backward(dy, cache) + (None,)
            elif k == "gn":
                G = case.groups(x.shape)
                fwd = lambda: R.group_norm_forward(x, g, b, G, EPS)
                bwd = R.group_norm_backward
            elif k == "in":
                fwd = lambda: R.instance_norm_forward(x, g, b, EPS)
                bwd = R.instance_norm_backward
            else:
                raise KeyError(k)

            def step():
                y, cache = fwd()
                dx, dg, db = bwd(dy, cache)
                return y, dx, dg, db

        def outputs(out):
            y, dx, dg, db = out
            return dict(y=y, dx=dx, **param_grads(case, dg, db))

        return Prepared(step, outputs)


# ---- checks and graph facts ---------------------------------------------------------------------

def compare(got, want, rtol=CHECK_RTOL):
    """``(ok, worst, first_bad)`` for two dicts of arrays. An output passes when
    ``|a - b| <= rtol * (|b| + max|b|)`` everywhere: rtol relative to each element, with an
    absolute floor of rtol times the output's largest magnitude (a normalization's dx has entries
    near 0 that no purely relative test can hold). NaN never passes. ``worst`` is the largest
    ``max|a - b| / max|b|`` over the outputs."""
    worst, bad = 0.0, None
    for name, b in want.items():
        a = got.get(name)
        if a is None or np.shape(a) != np.shape(b):
            return False, float("inf"), name
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if b.size == 0:
            continue
        finite = np.abs(b[np.isfinite(b)])
        scale = float(finite.max()) if finite.size else 0.0
        rel = float(np.max(np.abs(a - b))) / (scale if scale > 0 else 1.0)
        if not np.isfinite(rel):
            rel = float("inf")
        if not np.allclose(a, b, rtol=rtol, atol=rtol * scale, equal_nan=False) and bad is None:
            bad = name
        worst = max(worst, rel)
    return bad is None, worst, bad


def check_case(case, shape, seed=0):
    """Run the composite and the reference once in float64 on the same data (and, for dropout,
    the same seeded mask) and raise GradientMismatch unless every output agrees to CHECK_RTOL.
    Then run both once in float32 and require float32 outputs (no silent promotion) that agree
    to CHECK_RTOL_F32: the float32 rows are timed too. Returns the worst relative difference
    seen in float64."""
    d = make_data(case, shape, np.float64, seed)
    got = Composite().prepare(case, d, seed=seed)
    want = Reference().prepare(case, d, seed=seed)
    a, b = got.outputs(got.step()), want.outputs(want.step())
    ok, worst, bad = compare(a, b)
    if not ok:
        raise GradientMismatch(
            f"{case.key} {case.describe(shape)} float64: the composite's {bad} does not agree with "
            f"the reference's (rtol {CHECK_RTOL:g}; max |composite - reference| / max |reference| "
            f"= {worst:.3g}). Timings would compare different computations; fix the composite "
            f"(tinygrad_norm/functional) or the reference first.")
    d32 = make_data(case, shape, np.float32, seed)
    p32, r32 = Composite().prepare(case, d32, seed=seed), Reference().prepare(case, d32, seed=seed)
    a32 = p32.outputs(p32.step())
    for name, v in a32.items():
        if v is None or v.dtype != np.float32:
            raise GradientMismatch(
                f"{case.key} {case.describe(shape)} float32: the composite's {name} has dtype "
                f"{None if v is None else v.dtype}, expected float32")
    ok, worst32, bad = compare(a32, r32.outputs(r32.step()), CHECK_RTOL_F32)
    if not ok:
        raise GradientMismatch(
            f"{case.key} {case.describe(shape)} float32: the composite's {bad} does not agree with "
            f"the reference's (rtol {CHECK_RTOL_F32:g}; max |composite - reference| / "
            f"max |reference| = {worst32:.3g}); the float32 timings would compare different "
            f"computations.")
    return worst


def count_nodes(case, d):
    """Tape nodes one forward pass of the composite records inside its scope, and how many of
    them produce a full-size (x-sized) array. Counted by walking the graph back from the output
    (before backward, which releases the node inputs)."""
    from ..tensor import Tensor
    from .. import random as _random

    x = Tensor(d["x"], requires_grad=True)
    g = Tensor(d["gamma"], requires_grad=True) if case.has_params else None
    b = Tensor(d["beta"], requires_grad=True) if "beta" in d else None
    state = _random.generator().bit_generator.state
    y = composite_forward(case, x, g, b)
    _random.generator().bit_generator.state = state
    size = x.data.size
    seen, stack = set(), [y._node]
    total = full = 0
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        s = node.scope
        while s is not None and s.name != case.scope:
            s = s.parent
        if s is not None:
            total += 1
            out = node.out_ref()
            if out is not None and out.data.size == size:
                full += 1
        for t in node.inputs or ():
            if isinstance(t, Tensor):
                stack.append(t._node)
    return total, full
