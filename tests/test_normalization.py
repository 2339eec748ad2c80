"""The four normalizations of ``tinygrad_norm.functional`` as composites:

* parity with ``torch.nn.functional`` -- forward, running statistics, and the gradients with
  respect to input, weight and bias under a RANDOM upstream gradient -- in float64 (rtol 1e-10)
  and float32 (rtol 1e-5), train and eval, over hypothesis-drawn shapes of rank 2 to 4 and every
  combination of weight / bias / running statistics;
* second order: ``gradgradcheck`` on small float64 inputs, and a double backward compared with
  ``torch.autograd.grad(create_graph=True)``;
* agreement with the hand-written ``tinygrad_norm.reference`` (float64, rtol 1e-10);
* numerical stability (large means), the identities GroupNorm(1, C) = layer norm over (C, *) and
  GroupNorm(C, C) = instance norm, scopes and primitives on the tape, and every error -- raised
  before the running statistics change.
"""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

import tinygrad_norm as tg  # noqa: E402
import tinygrad_norm.functional as F  # noqa: E402
from tinygrad_norm import Tensor, reference  # noqa: E402

DTYPES = [np.float64, np.float32]
RTOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5}
seeds = st.integers(0, 2**32 - 1)

# The primitives a normalization may consist of: no hand-written derivative hides in a composite.
PRIMITIVES = {"center", "mean", "vecdot", "add", "addcmul", "sub", "neg", "mul", "rsqrt", "reshape"}


# ---- helpers ------------------------------------------------------------------------------------

def _close(actual, expected, dtype, what):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == np.dtype(dtype), f"{what}: dtype {actual.dtype}, expected {dtype}"
    rtol = RTOL[np.dtype(dtype)]
    # Summation orders differ between libraries: an absolute slack relative to the largest value.
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, equal_nan=False,
                               err_msg=what)


def _data(seed, shape, offset=0.5, scale=2.0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) * scale + offset


def _param(seed, shape):
    return 1.0 + 0.3 * np.random.default_rng(seed).standard_normal(shape)


def _close32(actual, expected32, truth, what):
    """float32 against torch: within rtol 1e-5 (plus that much of the largest value), or -- where
    the value is a small difference of large terms (a normalization's input gradient over a
    set of 2 values, say), so that torch's own float32 result is off -- no further from the
    float64 truth than twice torch's float32 error."""
    actual, expected32, truth = (np.asarray(a) for a in (actual, expected32, truth))
    assert actual.shape == truth.shape, f"{what}: shape {actual.shape} != {truth.shape}"
    assert actual.dtype == np.float32, f"{what}: dtype {actual.dtype}, expected float32"
    if not truth.size:
        return
    rtol = RTOL[np.dtype(np.float32)]
    scale = max(1.0, float(np.max(np.abs(truth))))
    torch_err = float(np.max(np.abs(expected32.astype(np.float64) - truth)))
    tol = rtol * np.abs(truth) + max(rtol * scale, 2 * torch_err)
    err = np.abs(actual.astype(np.float64) - truth)
    bad = ~(err <= tol)
    assert not bad.any(), (f"{what}: {int(bad.sum())} of {bad.size} elements off; worst "
                           f"{actual.flat[np.argmax(err)]!r} vs float64 {truth.flat[np.argmax(err)]!r}"
                           f" (torch float32 error {torch_err:.3g})")


def _torch_side(torch, theirs, arrays, buffers, dtype, g):
    ts = [None if a is None else torch.tensor(np.asarray(a, dtype), requires_grad=True)
          for a in arrays]
    bt = [None if b is None else torch.tensor(np.asarray(b, dtype)) for b in buffers]
    ref = theirs(*ts, *bt)
    present = [t for t in ts if t is not None]
    grads = torch.autograd.grad(ref, present, torch.from_numpy(np.asarray(g, dtype)),
                                allow_unused=True)
    grads = [np.zeros(t.shape, dtype) if w is None else w.numpy() for t, w in zip(present, grads)]
    return ref.detach().numpy(), grads, [None if b is None else b.numpy() for b in bt]


def parity(torch, ours, theirs, arrays, dtype, seed, buffers=()):
    """Call ``ours(*tensors, *buffers)`` and ``theirs(*torch_tensors, *torch_buffers)`` on the same
    values (``arrays``: differentiable inputs, None for absent ones; ``buffers``: running
    statistics, updated in place by both); compare the output, every gradient under one random
    upstream gradient, and the buffers afterwards. float32 is also held against torch in float64
    on the same (rounded) values: see ``_close32``."""
    dtype = np.dtype(dtype)
    arrays = [None if a is None else np.asarray(a, dtype) for a in arrays]
    buffers = [None if b is None else np.asarray(b, dtype) for b in buffers]
    xs = [None if a is None else Tensor(a.copy(), requires_grad=True) for a in arrays]
    bx = [None if b is None else Tensor(b.copy()) for b in buffers]
    out = ours(*xs, *bx)
    g = np.random.default_rng(seed).standard_normal(out.shape).astype(dtype)
    ref, ref_grads, ref_bufs = _torch_side(torch, theirs, arrays, buffers, dtype, g)
    truth, truth_grads = None, [None] * len(ref_grads)
    if dtype == np.float32:
        truth, truth_grads, _ = _torch_side(torch, theirs, arrays, buffers, np.float64, g)
    _compare(out.data, ref, dtype, "forward vs torch", truth)
    for b, t in zip(bx, ref_bufs):
        if b is not None:
            assert b._node is None and not b.requires_grad, "a running statistic went on the tape"
            _close(b.data, t, dtype, "running statistic vs torch")
    out.backward(g)
    present = [x for x in xs if x is not None]
    for i, (x, w) in enumerate(zip(present, ref_grads)):
        assert x.grad is not None, f"no gradient reached input {i}"
        _compare(x.grad.data, w, dtype, f"gradient of input {i} vs torch", truth_grads[i])
    return out


def _compare(actual, expected, dtype, what, truth=None):
    if truth is None:
        _close(actual, expected, dtype, what)
    else:
        _close32(actual, expected, truth, what)


def _nodes(t):
    """Every node of the graph that produced ``t``."""
    seen, stack, out = set(), [t._node], []
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        out.append(n)
        stack.extend(i._node for i in (n.inputs or ()) if isinstance(i, Tensor))
    return out


def _opt(flag, value):
    return value if flag else None


# ---- shapes ---------------------------------------------------------------------------------------

@st.composite
def nc_shapes(draw, min_rank=2, max_rank=4, channels=None):
    """(N, C, *spatial) with N >= 1, C from 1, each side at most 4."""
    rank = draw(st.integers(min_rank, max_rank))
    n = draw(st.integers(1, 4))
    c = channels if channels is not None else draw(st.integers(1, 4))
    spatial = tuple(draw(st.integers(1, 4)) for _ in range(rank - 2))
    return (n, c) + spatial


# ---- batch norm -----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=25)
@given(shape=nc_shapes(), affine=st.tuples(st.booleans(), st.booleans()), tracked=st.booleans(),
       momentum=st.sampled_from([0.1, 0.5, 1.0, 0.0, -0.3]), eps=st.sampled_from([1e-5, 0.5]),
       seed=seeds)
def test_batch_norm_train_matches_torch(torch, dtype, shape, affine, tracked, momentum, eps, seed):
    n_per_channel = shape[0] * int(np.prod(shape[2:]))
    if n_per_channel == 1:
        shape = (2,) + shape[1:]
    C = shape[1]
    arrays = [_data(seed, shape), _opt(affine[0], _param(seed + 1, C)),
              _opt(affine[1], _data(seed + 2, C, 0.0, 0.3))]
    buffers = ([_data(seed + 3, C, 0, 0.5), np.abs(_param(seed + 4, C))] if tracked
               else [None, None])
    parity(torch,
           lambda x, w, b, rm, rv: F.batch_norm(x, rm, rv, w, b, True, momentum, eps),
           lambda x, w, b, rm, rv: torch.nn.functional.batch_norm(x, rm, rv, w, b, True,
                                                                  momentum, eps),
           arrays, dtype, seed, buffers)


@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=20)
@given(shape=nc_shapes(), affine=st.tuples(st.booleans(), st.booleans()),
       eps=st.sampled_from([1e-5, 0.0, 0.5]), seed=seeds)
def test_batch_norm_eval_matches_torch(torch, dtype, shape, affine, eps, seed):
    C = shape[1]
    arrays = [_data(seed, shape), _opt(affine[0], _param(seed + 1, C)),
              _opt(affine[1], _data(seed + 2, C, 0.0, 0.3))]
    buffers = [_data(seed + 3, C, 0, 0.5), np.abs(_param(seed + 4, C))]
    out = parity(torch,
                 lambda x, w, b, rm, rv: F.batch_norm(x, rm, rv, w, b, False, 0.1, eps),
                 lambda x, w, b, rm, rv: torch.nn.functional.batch_norm(x, rm, rv, w, b, False,
                                                                        0.1, eps),
                 arrays, dtype, seed, buffers)
    assert out.shape == shape


def test_batch_norm_running_stats_are_unbiased_and_in_place():
    x = Tensor(_data(0, (4, 3, 5)))  # 20 values per channel
    rm, rv = Tensor(np.zeros(3)), Tensor(np.ones(3))
    arrays = (rm.data, rv.data)
    F.batch_norm(x, rm, rv, training=True, momentum=1.0)
    assert rm.data is arrays[0] and rv.data is arrays[1], "the buffers must be updated in place"
    np.testing.assert_allclose(rm.data, x.data.mean(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(rv.data, x.data.var(axis=(0, 2), ddof=1), rtol=1e-12)


def test_batch_norm_cumulative_average_with_a_count():
    rm, rv = Tensor(np.zeros(3)), Tensor(np.ones(3))
    count = Tensor(np.array(0, dtype=np.int64))
    xs = [_data(i, (6, 3)) for i in range(4)]
    for x in xs:
        F.batch_norm(Tensor(x), rm, rv, training=True, momentum=None, num_batches_tracked=count)
    assert count.data.dtype == np.int64 and int(count.data) == 4
    np.testing.assert_allclose(rm.data, np.mean([x.mean(axis=0) for x in xs], axis=0), rtol=1e-12)
    np.testing.assert_allclose(rv.data, np.mean([x.var(axis=0, ddof=1) for x in xs], axis=0),
                               rtol=1e-12)


def test_batch_norm_updates_under_no_grad_and_never_grows_the_graph():
    rm, rv = Tensor(np.zeros(2)), Tensor(np.ones(2))
    x = Tensor(_data(1, (5, 2)), requires_grad=True)
    with tg.no_grad():
        y = F.batch_norm(x, rm, rv, training=True)
    assert not y.requires_grad and np.any(rm.data != 0)
    y = F.batch_norm(x, rm, rv, training=True)
    for node in _nodes(y):
        assert all(i is not rm and i is not rv for i in node.inputs), "a buffer is on the tape"


def test_batch_norm_empty_batch():
    rm, rv = Tensor(np.zeros(3)), Tensor(np.ones(3))
    count = Tensor(np.array(0, dtype=np.int64))
    x = Tensor(np.zeros((0, 3, 2)), requires_grad=True)
    w = Tensor(np.ones(3), requires_grad=True)
    y = F.batch_norm(x, rm, rv, w, None, True, num_batches_tracked=count)
    assert y.shape == (0, 3, 2)
    y.backward(np.zeros((0, 3, 2)))
    np.testing.assert_array_equal(w.grad.data, 0)
    np.testing.assert_array_equal(rm.data, 0)
    np.testing.assert_array_equal(rv.data, 1)
    assert int(count.data) == 1  # as PyTorch: counted, the estimates unchanged


# ---- layer norm -----------------------------------------------------------------------------------

@st.composite
def ln_cases(draw):
    rank = draw(st.integers(1, 4))
    shape = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    k = draw(st.integers(1, rank))
    return shape, shape[rank - k:]


@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=25)
@given(case=ln_cases(), affine=st.tuples(st.booleans(), st.booleans()),
       eps=st.sampled_from([1e-5, 0.5, -1e-7]), seed=seeds)
def test_layer_norm_matches_torch(torch, dtype, case, affine, eps, seed):
    shape, ns = case
    arrays = [_data(seed, shape), _opt(affine[0], _param(seed + 1, ns)),
              _opt(affine[1], _data(seed + 2, ns, 0, 0.3))]
    if eps < 0 and int(np.prod(ns)) == 1:
        eps = 1e-5  # a single value has variance 0: rsqrt of a negative number on both sides
    parity(torch,
           lambda x, w, b: F.layer_norm(x, ns, w, b, eps),
           lambda x, w, b: torch.nn.functional.layer_norm(x, ns, w, b, eps),
           arrays, dtype, seed)


@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=25)
@given(case=ln_cases(), affine=st.booleans(), eps=st.sampled_from([None, 1e-5, 0.5]), seed=seeds)
def test_rms_norm_matches_torch(torch, dtype, case, affine, eps, seed):
    shape, ns = case
    arrays = [_data(seed, shape), _opt(affine, _param(seed + 1, ns))]
    parity(torch,
           lambda x, w: F.rms_norm(x, ns, w, eps),
           lambda x, w: torch.nn.functional.rms_norm(x, ns, w, eps),
           arrays, dtype, seed)


def test_layer_norm_constant_rows_are_exactly_zero():
    # PyTorch's test_layer_norm_eps (issue 108072): a two-pass variance gives exact zeros.
    x = Tensor(np.array([[[2, 2], [14, 14]], [[2, 2], [14, 14]]], dtype=np.float32))
    y = F.layer_norm(x, (2,), eps=1e-6)
    assert np.all(y.data == 0)


# ---- group norm -----------------------------------------------------------------------------------

@st.composite
def gn_cases(draw):
    groups = draw(st.integers(1, 4))
    per_group = draw(st.integers(1, 3))
    shape = draw(nc_shapes(channels=groups * per_group))
    return shape, groups


@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=25)
@given(case=gn_cases(), affine=st.tuples(st.booleans(), st.booleans()),
       eps=st.sampled_from([1e-5, 0.5]), seed=seeds)
def test_group_norm_matches_torch(torch, dtype, case, affine, eps, seed):
    shape, G = case
    if shape[0] * (shape[1] // G) * int(np.prod(shape[2:])) == 1:
        shape = (2,) + shape[1:]
    C = shape[1]
    arrays = [_data(seed, shape), _opt(affine[0], _param(seed + 1, C)),
              _opt(affine[1], _data(seed + 2, C, 0, 0.3))]

    def theirs(x, w, b):
        if w is None and b is not None:
            # torch 2.13's group_norm backward fails ("tensor does not have a device") with a
            # bias but no weight: add the bias outside, which is the same function.
            y = torch.nn.functional.group_norm(x, G, None, None, eps)
            return y + b.reshape((1, C) + (1,) * (x.ndim - 2))
        return torch.nn.functional.group_norm(x, G, w, b, eps)

    parity(torch, lambda x, w, b: F.group_norm(x, G, w, b, eps), theirs, arrays, dtype, seed)


# ---- instance norm --------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=25)
@given(shape=nc_shapes(min_rank=3), affine=st.tuples(st.booleans(), st.booleans()),
       tracked=st.booleans(), use_input_stats=st.booleans(),
       momentum=st.sampled_from([0.1, 0.5, 1.0, 0.0, -1.2]), seed=seeds)
def test_instance_norm_matches_torch(torch, dtype, shape, affine, tracked, use_input_stats,
                                     momentum, seed):
    if not use_input_stats:
        tracked = True
    if use_input_stats and int(np.prod(shape[2:])) == 1:
        shape = shape[:2] + (2,) + shape[3:]
    C = shape[1]
    arrays = [_data(seed, shape), _opt(affine[0], _param(seed + 1, C)),
              _opt(affine[1], _data(seed + 2, C, 0, 0.3))]
    buffers = ([_data(seed + 3, C, 0, 0.5), np.abs(_param(seed + 4, C))] if tracked
               else [None, None])
    parity(torch,
           lambda x, w, b, rm, rv: F.instance_norm(x, rm, rv, w, b, use_input_stats, momentum),
           lambda x, w, b, rm, rv: torch.nn.functional.instance_norm(
               x, rm, rv, w, b, use_input_stats, momentum),
           arrays, dtype, seed, buffers)


# ---- second order -----------------------------------------------------------------------------------

def _cases(rng):
    """(name, function of (x, w, b), x shape, parameter shape) for every normalization."""
    rm, rv = rng.standard_normal(3), rng.uniform(0.5, 2.0, 3)
    return [
        ("batch_norm train", lambda x, w, b: F.batch_norm(x, None, None, w, b, True), (4, 3, 2), 3),
        ("batch_norm eval", lambda x, w, b: F.batch_norm(x, Tensor(rm), Tensor(rv), w, b, False),
         (4, 3, 2), 3),
        ("layer_norm", lambda x, w, b: F.layer_norm(x, (3, 2), w, b), (2, 3, 2), (3, 2)),
        ("rms_norm", lambda x, w, b: F.rms_norm(x, (3, 2), w) + b, (2, 3, 2), (3, 2)),
        ("group_norm", lambda x, w, b: F.group_norm(x, 1, w, b), (2, 3, 3), 3),
        ("instance_norm", lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (2, 3, 3), 3),
    ]


_CASES = _cases(np.random.default_rng(7))
_TORCH = {
    "batch_norm train": lambda t, x, w, b: t.nn.functional.batch_norm(x, None, None, w, b, True),
    "layer_norm": lambda t, x, w, b: t.nn.functional.layer_norm(x, (3, 2), w, b),
    "rms_norm": lambda t, x, w, b: t.nn.functional.rms_norm(x, (3, 2), w) + b,
    "group_norm": lambda t, x, w, b: t.nn.functional.group_norm(x, 1, w, b),
    "instance_norm": lambda t, x, w, b: t.nn.functional.instance_norm(x, weight=w, bias=b),
}


@pytest.mark.parametrize("case", _CASES, ids=[c[0] for c in _CASES])
def test_gradcheck_and_gradgradcheck(case):
    name, fn, shape, pshape = case
    x = _data(3, shape)
    w, b = _param(4, pshape), _data(5, pshape, 0, 0.3)
    inputs = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    assert tg.gradcheck(fn, inputs)
    assert tg.gradgradcheck(fn, inputs)


@pytest.mark.parametrize("case", [c for c in _CASES if c[0] in _TORCH],
                         ids=[c[0] for c in _CASES if c[0] in _TORCH])
def test_double_backward_matches_torch(torch, case):
    """d/d(x, w, b) of <u, d<v, f>/d(x, w, b)>: a Hessian-vector product, against torch."""
    name, fn, shape, pshape = case
    rng = np.random.default_rng(11)
    arrays = [_data(12, shape), _param(13, pshape), _data(14, pshape, 0, 0.3)]
    v = rng.standard_normal(shape)
    us = [rng.standard_normal(a.shape) for a in arrays]

    xs = [Tensor(a, requires_grad=True) for a in arrays]
    firsts = tg.grad(fn(*xs), xs, grad_outputs=Tensor(v), create_graph=True)
    total = sum((g * u).sum() for g, u in zip(firsts, us))
    ours = tg.grad(total, xs, allow_unused=True)

    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    tfirst = torch.autograd.grad(_TORCH[name](torch, *ts), ts, torch.tensor(v), create_graph=True)
    ttotal = sum((g * torch.tensor(u)).sum() for g, u in zip(tfirst, us))
    theirs = torch.autograd.grad(ttotal, ts, allow_unused=True)

    for i, (a, g1, t1, o, t) in enumerate(zip(arrays, firsts, tfirst, ours, theirs)):
        _close(g1.data, t1.detach().numpy(), np.float64, f"{name}: first derivative {i}")
        want = np.zeros(a.shape) if t is None else t.numpy()
        got = np.zeros(a.shape) if o is None else o.data
        _close(got, want, np.float64, f"{name}: second derivative {i}")


# ---- agreement with the hand-written reference ---------------------------------------------------

_REF = [
    ("batch_norm", (4, 3, 5), 3,
     lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
     lambda x, w, b: reference.batch_norm_forward(x, w, b), reference.batch_norm_backward),
    ("batch_norm 2d", (6, 4), 4,
     lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
     lambda x, w, b: reference.batch_norm_forward(x, w, b), reference.batch_norm_backward),
    ("layer_norm", (3, 4, 5), (4, 5),
     lambda x, w, b: F.layer_norm(x, (4, 5), w, b),
     lambda x, w, b: reference.layer_norm_forward(x, w, b, normalized_shape=(4, 5)),
     reference.layer_norm_backward),
    ("group_norm", (3, 6, 2, 3), 6,
     lambda x, w, b: F.group_norm(x, 3, w, b),
     lambda x, w, b: reference.group_norm_forward(x, w, b, 3), reference.group_norm_backward),
    ("instance_norm", (3, 4, 2, 3), 4,
     lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
     lambda x, w, b: reference.instance_norm_forward(x, w, b), reference.instance_norm_backward),
]


@pytest.mark.parametrize("affine", [(True, True), (True, False), (False, True), (False, False)],
                         ids=["weight+bias", "weight", "bias", "none"])
@pytest.mark.parametrize("case", _REF, ids=[c[0] for c in _REF])
def test_composite_agrees_with_reference(case, affine):
    name, shape, pshape, composite, ref_forward, ref_backward = case
    x = _data(21, shape, offset=3.0)
    w = _opt(affine[0], _param(22, pshape))
    b = _opt(affine[1], _data(23, pshape, 0, 0.3))
    dout = np.random.default_rng(24).standard_normal(shape)
    want, cache = ref_forward(x, w, b)
    dx, dw, db = ref_backward(dout, cache)

    xs = [None if a is None else Tensor(a.copy(), requires_grad=True) for a in (x, w, b)]
    out = composite(*xs)
    _close(out.data, want, np.float64, f"{name}: forward vs reference")
    out.backward(dout)
    _close(xs[0].grad.data, dx, np.float64, f"{name}: dx vs reference")
    for t, r, what in ((xs[1], dw, "dweight"), (xs[2], db, "dbias")):
        assert (t is None) == (r is None)
        if t is not None:
            _close(t.grad.data, r, np.float64, f"{name}: {what} vs reference")


# ---- numerical stability ------------------------------------------------------------------------

_STABLE = [
    ("batch_norm", lambda x: F.batch_norm(x, None, None, training=True), (64, 4, 8)),
    ("layer_norm", lambda x: F.layer_norm(x, (4, 8)), (64, 4, 8)),
    ("group_norm", lambda x: F.group_norm(x, 2, eps=1e-5), (64, 4, 8)),
    ("instance_norm", lambda x: F.instance_norm(x), (64, 4, 8)),
]


def _with_running_stats(kind, mean, std):
    """Eval-mode normalization with running estimates equal to the data's own statistics."""
    def fn(x):
        dt = x.dtype
        rm, rv = Tensor(np.full(4, mean, dt)), Tensor(np.full(4, std * std, dt))
        if kind == "batch_norm":
            return F.batch_norm(x, rm, rv, training=False, eps=0.0)
        return F.instance_norm(x, rm, rv, use_input_stats=False, eps=0.0)
    return fn


@pytest.mark.parametrize("mean,std,tol", [(1e3, 1.0, 1e-3), (1e4, 1e-2, 5e-2)])
@pytest.mark.parametrize("case", _STABLE + [("batch_norm eval", "batch_norm", (64, 4, 8)),
                                            ("instance_norm eval", "instance_norm", (64, 4, 8))],
                         ids=[c[0] for c in _STABLE] + ["batch_norm eval", "instance_norm eval"])
def test_float32_stays_accurate_far_from_zero(case, mean, std, tol):
    name, fn, shape = case
    if isinstance(fn, str):
        fn = _with_running_stats(fn, mean, std)
    x32 = (np.random.default_rng(31).standard_normal(shape) * std + mean).astype(np.float32)
    y32 = fn(Tensor(x32)).data
    y64 = fn(Tensor(x32.astype(np.float64))).data  # the same values, computed in float64
    assert y32.dtype == np.float32 and np.all(np.isfinite(y32))
    np.testing.assert_allclose(y32, y64, rtol=0, atol=tol, err_msg=name)


# ---- identities -----------------------------------------------------------------------------------

def test_group_norm_with_one_group_is_layer_norm_over_channels_and_space():
    x = Tensor(_data(41, (3, 4, 2, 5)), requires_grad=True)
    x2 = Tensor(x.data.copy(), requires_grad=True)
    g = np.random.default_rng(42).standard_normal(x.shape)
    a, b = F.group_norm(x, 1), F.layer_norm(x2, (4, 2, 5))
    np.testing.assert_allclose(a.data, b.data, rtol=1e-12, atol=1e-12)
    a.backward(g)
    b.backward(g)
    np.testing.assert_allclose(x.grad.data, x2.grad.data, rtol=1e-10, atol=1e-12)


def test_group_norm_with_a_group_per_channel_is_instance_norm():
    x = Tensor(_data(43, (3, 4, 6)), requires_grad=True)
    x2 = Tensor(x.data.copy(), requires_grad=True)
    w, w2 = (Tensor(_param(44, 4), requires_grad=True) for _ in range(2))
    g = np.random.default_rng(45).standard_normal(x.shape)
    a, b = F.group_norm(x, 4, w), F.instance_norm(x2, weight=w2)
    np.testing.assert_allclose(a.data, b.data, rtol=1e-12, atol=1e-12)
    a.backward(g)
    b.backward(g)
    np.testing.assert_allclose(x.grad.data, x2.grad.data, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.grad.data, w2.grad.data, rtol=1e-10, atol=1e-12)


# ---- the tape: scopes and primitives ----------------------------------------------------------

_SCOPED = [
    ("batch_norm", lambda x, w, b: F.batch_norm(x, Tensor(np.zeros(3)), Tensor(np.ones(3)), w, b,
                                                True, 0.3, 1e-4),
     {"training": True, "momentum": 0.3, "eps": 1e-4}),
    ("batch_norm", lambda x, w, b: F.batch_norm(x, Tensor(np.zeros(3)), Tensor(np.ones(3)), w, b),
     {"training": False}),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (3, 4), None, None, 1e-3), {"eps": 1e-3}),
    ("rms_norm", lambda x, w, b: F.rms_norm(x, (3, 4), None, 1e-3), {"eps": 1e-3}),
    ("group_norm", lambda x, w, b: F.group_norm(x, 3, w, b), {"num_groups": 3}),
    ("instance_norm", lambda x, w, b: F.instance_norm(x, None, None, w, b),
     {"training": True, "use_input_stats": True}),
]


@pytest.mark.parametrize("case", _SCOPED, ids=[c[0] + str(c[2].get("training", "")) for c in _SCOPED])
def test_every_node_is_a_primitive_inside_the_named_scope(case):
    name, fn, args = case
    x = Tensor(_data(51, (2, 3, 4)), requires_grad=True)
    w, b = Tensor(np.ones(3), requires_grad=True), Tensor(np.zeros(3), requires_grad=True)
    nodes = _nodes(fn(x, w, b))
    assert nodes
    for node in nodes:
        assert node.name in PRIMITIVES, f"{name}: unexpected op {node.name}"
        assert node.scope is not None and node.scope.name == name
        for k, v in args.items():
            assert node.scope.args[k] == v


# ---- errors, raised before any state changes --------------------------------------------------

def _state():
    return dict(rm=Tensor(np.full(3, 0.25)), rv=Tensor(np.full(3, 2.0)),
                count=Tensor(np.array(5, dtype=np.int64)))


x23 = np.ones((2, 3))
_BN_ERRORS = [
    (lambda s: F.batch_norm(Tensor(np.ones((1, 3))), s["rm"], s["rv"], training=True),
     ValueError, r"Expected more than 1 value per channel when training, got input size \(1, 3\)"),
    (lambda s: F.batch_norm(Tensor(np.ones((1, 3, 1, 1))), s["rm"], s["rv"], training=True),
     ValueError, "Expected more than 1 value per channel when training"),
    (lambda s: F.batch_norm(Tensor(np.ones((2, 4))), s["rm"], s["rv"], training=True),
     ValueError, "running_mean should contain 4 elements not 3"),
    (lambda s: F.batch_norm(Tensor(x23), s["rm"], Tensor(np.ones(4)), training=True),
     ValueError, "running_var should contain 3 elements not 4"),
    (lambda s: F.batch_norm(Tensor(x23), s["rm"], s["rv"], Tensor(np.ones(4)), training=True),
     ValueError, "weight should contain 3 elements not 4"),
    (lambda s: F.batch_norm(Tensor(x23), s["rm"], s["rv"], None, Tensor(np.ones(4)), True),
     ValueError, "bias should contain 3 elements not 4"),
    (lambda s: F.batch_norm(Tensor(x23), s["rm"], None, training=True),
     ValueError, "running_mean and running_var must either both be None or neither be None"),
    (lambda s: F.batch_norm(Tensor(x23), None, None, training=False),
     ValueError, "running_mean must be defined in evaluation mode"),
    (lambda s: F.batch_norm(Tensor(x23), s["rm"], s["rv"], training=True, eps=0.0),
     ValueError, r"batch_norm eps must be positive during training, but got 0.0"),
    (lambda s: F.batch_norm(Tensor(x23), s["rm"], s["rv"], training=False, eps=-1.0),
     ValueError, r"batch_norm eps must be non-negative, but got -1.0"),
    (lambda s: F.batch_norm(Tensor(np.ones(3)), s["rm"], s["rv"], training=True),
     ValueError, "expected at least 2D input"),
    (lambda s: F.batch_norm(Tensor(np.ones((2, 3), np.int64)), s["rm"], s["rv"], training=True),
     TypeError, "floating point"),
    (lambda s: F.batch_norm(np.ones((2, 3)), s["rm"], s["rv"], training=True),
     TypeError, "must be a Tensor"),
    (lambda s: F.batch_norm(Tensor(x23.astype(np.float32)), s["rm"], s["rv"], training=True),
     TypeError, "running_mean has dtype float64 but input has dtype float32"),
    (lambda s: F.batch_norm(Tensor(x23), s["rm"], s["rv"], Tensor(np.ones(3, np.float32)), None,
                            True), TypeError, "weight has dtype float32"),
    (lambda s: F.batch_norm(Tensor(x23), s["rm"], s["rv"], training=True, momentum=None),
     ValueError, "needs the batch count"),
    (lambda s: F.batch_norm(Tensor(x23), s["rm"], s["rv"], training=True, momentum="0.1",
                            num_batches_tracked=s["count"]), TypeError, "momentum must be"),
    (lambda s: F.batch_norm(Tensor(x23), s["rm"], s["rv"], training=True,
                            num_batches_tracked=Tensor(np.zeros(1))), TypeError,
     "num_batches_tracked"),
    (lambda s: F.instance_norm(Tensor(np.ones((2, 3, 1))), s["rm"], s["rv"]),
     ValueError, r"Expected more than 1 spatial element when training, got input size \(2, 3, 1\)"),
    (lambda s: F.instance_norm(Tensor(np.ones((2, 3))), s["rm"], s["rv"]),
     ValueError, "Expected more than 1 spatial element when training"),
    (lambda s: F.instance_norm(Tensor(np.ones((2, 3, 4))), None, None, use_input_stats=False),
     ValueError, "Expected running_mean and running_var to be defined"),
    (lambda s: F.instance_norm(Tensor(np.ones((2, 4, 3))), s["rm"], s["rv"]),
     ValueError, "running_mean should contain 4 elements not 3"),
    (lambda s: F.instance_norm(Tensor(np.ones((2, 3, 3))), s["rm"], s["rv"], Tensor(np.ones(5))),
     ValueError, "weight should contain 3 elements not 5"),
    (lambda s: F.instance_norm(Tensor(np.ones((2, 3, 3), np.int32)), s["rm"], s["rv"]),
     TypeError, "floating point"),
    (lambda s: F.instance_norm(Tensor(np.ones(3)), s["rm"], s["rv"]),
     ValueError, "expected at least 2D input"),
    (lambda s: F.instance_norm(Tensor(np.ones((2, 3, 3))), s["rm"], None),
     ValueError, "both be None or neither"),
]


@pytest.mark.parametrize("call,exc,match", _BN_ERRORS)
def test_errors_leave_the_running_statistics_alone(call, exc, match):
    s = _state()
    before = {k: v.data.copy() for k, v in s.items()}
    with pytest.raises(exc, match=match):
        call(s)
    for k, v in s.items():
        np.testing.assert_array_equal(v.data, before[k], err_msg=f"{k} changed by a failing call")


_OTHER_ERRORS = [
    (lambda: F.layer_norm(Tensor(x23), 3), TypeError,
     r"argument 'normalized_shape' \(position 2\) must be tuple of ints, not int"),
    (lambda: F.layer_norm(Tensor(x23), ()), ValueError,
     "Expected normalized_shape to be at least 1-dimensional"),
    (lambda: F.layer_norm(Tensor(np.ones((2, 5))), (4,)), ValueError,
     r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\], but got "
     r"input of size\[2, 5\]"),
    (lambda: F.layer_norm(Tensor(np.ones((2, 3))), (2, 2, 3)), ValueError,
     r"Given normalized_shape=\[2, 2, 3\]"),
    (lambda: F.layer_norm(Tensor(np.ones((2, 4))), (4,), Tensor(np.ones(5))), ValueError,
     r"Expected weight to be of same shape as normalized_shape, but got weight of shape \[5\] "
     r"and normalized_shape = \[4\]"),
    (lambda: F.layer_norm(Tensor(np.ones((2, 4))), (4,), None, Tensor(np.ones((1, 4)))),
     ValueError, r"Expected bias to be of same shape as normalized_shape"),
    (lambda: F.layer_norm(Tensor(np.ones((2, 4), np.int64)), (4,)), TypeError, "floating point"),
    (lambda: F.layer_norm(Tensor(np.ones((2, 4))), (4,), Tensor(np.ones(4, np.float32))),
     TypeError, "weight has dtype float32 but input has dtype float64"),
    (lambda: F.group_norm(Tensor(np.ones(4)), 2), ValueError,
     "Expected at least 2 dimensions for input tensor but received 1"),
    (lambda: F.group_norm(Tensor(np.ones((2, 6, 3))), 4), ValueError,
     r"Expected number of channels in input to be divisible by num_groups, but got input of "
     r"shape \[2, 6, 3\] and num_groups=4"),
    (lambda: F.group_norm(Tensor(np.ones((2, 6, 3))), 2, Tensor(np.ones(4))), ValueError,
     r"Expected weight to be a vector of size equal to the number of channels in input, but got "
     r"weight of shape \[4\] and input of shape \[2, 6, 3\]"),
    (lambda: F.group_norm(Tensor(np.ones((2, 6, 3))), 2, None, Tensor(np.ones(5))), ValueError,
     "Expected bias to be a vector of size equal to the number of channels"),
    (lambda: F.group_norm(Tensor(np.ones((1, 4))), 4), ValueError,
     r"Expected more than 1 value per channel when training, got input size \[1, 4\]"),
    (lambda: F.group_norm(Tensor(np.ones((2, 4))), 0), ValueError, "num_groups must be positive"),
    (lambda: F.group_norm(Tensor(np.ones((2, 4))), 2.0), TypeError, "num_groups must be an int"),
    (lambda: F.group_norm(Tensor(np.ones((2, 4), np.int64)), 2), TypeError, "floating point"),
]


@pytest.mark.parametrize("call,exc,match", _OTHER_ERRORS)
def test_layer_and_group_norm_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_rms_norm_errors_and_default_eps(torch):
    x = Tensor(np.ones((2, 4)))
    for call, exc, match in (
            (lambda: F.rms_norm(x, 4), TypeError, "must be tuple of ints, not int"),
            (lambda: F.rms_norm(x, (True,)), TypeError, "must be tuple of ints"),
            (lambda: F.rms_norm(x, (3,)), ValueError, "expected input with shape"),
            (lambda: F.rms_norm(x, ()), ValueError, "at least 1-dimensional"),
            (lambda: F.rms_norm(x, (4,), Tensor(np.ones(3))), ValueError,
             "Expected weight to be of same shape as normalized_shape"),
            (lambda: F.rms_norm(x, (4,), Tensor(np.ones(4, np.float32))), TypeError, "dtype"),
            (lambda: F.rms_norm(x, (4,), None, "0.1"), TypeError, "eps"),
            (lambda: F.rms_norm(Tensor(np.ones((2, 4), np.int64)), (4,)), TypeError,
             "floating point")):
        with pytest.raises(exc, match=match):
            call()
    # eps=None is the dtype's machine epsilon, as torch: visible where the mean square is tiny
    for dtype in (np.float32, np.float64):
        a = np.full((1, 3), 1e-4, dtype)
        ours = F.rms_norm(Tensor(a), (3,)).numpy()
        theirs = torch.nn.functional.rms_norm(torch.tensor(a), (3,)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
        assert ours.dtype == dtype


def test_float32_in_float32_out_without_promotion():
    for fn in (lambda x, w: F.batch_norm(x, None, None, w, None, True),
               lambda x, w: F.rms_norm(x, (4,), Tensor(np.ones(4, np.float32))) * w.reshape(3, 1),
               lambda x, w: F.batch_norm(x, Tensor(np.zeros(3, np.float32)),
                                         Tensor(np.ones(3, np.float32)), w),
               lambda x, w: F.group_norm(x, 3, w),
               lambda x, w: F.instance_norm(x, weight=w)):
        x = Tensor(_data(61, (2, 3, 4)).astype(np.float32), requires_grad=True)
        w = Tensor(np.ones(3, np.float32), requires_grad=True)
        y = fn(x, w)
        y.backward(np.ones(y.shape, np.float32))
        assert y.dtype == x.grad.dtype == w.grad.dtype == np.float32


# ---- float16: computed in float32, rounded once -------------------------------------------------

def _half_cases(M):
    """name -> f(x, w, b, running_mean, running_var), the same code for both libraries."""
    return {
        "batch_train": lambda x, w, b, rm, rv: M.batch_norm(x, rm, rv, w, b, True),
        "batch_eval": lambda x, w, b, rm, rv: M.batch_norm(x, rm, rv, w, b, False),
        "layer": lambda x, w, b, rm, rv: M.layer_norm(x, (6, 5), None, None),
        "group": lambda x, w, b, rm, rv: M.group_norm(x, 3, w, b),
        "instance": lambda x, w, b, rm, rv: M.instance_norm(x, rm, rv, weight=w, bias=b),
        "rms": lambda x, w, b, rm, rv: M.rms_norm(x, (5,)),
    }


def _half_run(mk, M, case, arrays):
    x, w, b = (mk(a, True) for a in arrays[:3])
    rm, rv = (mk(a, False) for a in arrays[3:5])
    y = _half_cases(M)[case](x, w, b, rm, rv)
    y.backward(mk(arrays[5], False))
    return [y, x.grad, w.grad, b.grad, rm, rv]


@pytest.mark.parametrize("case", sorted(_half_cases(F)))
def test_float16_is_computed_in_float32_and_rounded_once(case, torch):
    """As PyTorch's CPU kernels: float16 in, float16 out (values, gradients, running statistics),
    accumulated in float32. Held against torch in float64, rounded to float16: within one ulp.
    torch's own float16 kernels round intermediates and miss that by up to 200 ulps on these
    inputs, so they are not the oracle here."""
    rng = np.random.default_rng(7)
    half = [(rng.standard_normal((8, 6, 5)) * 3 + 2), rng.standard_normal(6),
            rng.standard_normal(6), np.full(6, 0.5), np.full(6, 2.0),
            rng.standard_normal((8, 6, 5))]
    half = [a.astype(np.float16) for a in half]
    ours = _half_run(lambda a, g: Tensor(a.copy(), requires_grad=g), F, case, half)
    exact = _half_run(lambda a, g: torch.tensor(a.astype(np.float64), requires_grad=g),
                      torch.nn.functional, case, half)
    for what, o, e in zip(("output", "dx", "dweight", "dbias", "running_mean", "running_var"),
                          ours, exact):
        if e is None:
            assert o is None, what
            continue
        o, e = o.numpy(), e.detach().numpy()
        assert o.dtype == np.float16, what
        ulp = np.spacing(np.maximum(np.abs(e), 2.0 ** -14).astype(np.float16)).astype(np.float64)
        assert (np.abs(o - e) <= ulp).all(), (what, np.max(np.abs(o - e) / ulp))


def test_float16_whose_sums_of_squares_would_overflow_normalizes():
    # 1024 features of std 10: a float16 sum of squares is ~1e5 > 65504 (var = inf, output 0)
    x = (np.random.default_rng(0).standard_normal((4, 1024)) * 10).astype(np.float16)
    y = F.layer_norm(Tensor(x), (1024,)).numpy()
    x64 = x.astype(np.float64)
    want = (x64 - x64.mean(1, keepdims=True)) / np.sqrt(x64.var(1, keepdims=True) + 1e-5)
    assert y.dtype == np.float16
    np.testing.assert_allclose(y, want, rtol=2e-3, atol=2e-3)


def test_float16_keeps_its_buffers_and_refuses_mixed_dtypes():
    x = Tensor(np.random.default_rng(1).standard_normal((4, 3)).astype(np.float16))
    rm, rv = Tensor(np.zeros(3, np.float16)), Tensor(np.ones(3, np.float16))
    arrays = rm.data, rv.data
    count = Tensor(np.array(0, np.int64))
    F.batch_norm(x, rm, rv, None, None, True, momentum=None, num_batches_tracked=count)
    assert rm.data is arrays[0] and rv.data is arrays[1]  # updated in place, still float16
    assert rm.dtype == rv.dtype == np.float16 and int(count.data) == 1
    np.testing.assert_allclose(rm.data, x.data.astype(np.float64).mean(0), rtol=1e-3)
    before = rm.data.copy()
    with pytest.raises(TypeError, match="weight has dtype float32 but input has dtype float16"):
        F.batch_norm(x, rm, rv, Tensor(np.ones(3, np.float32)), None, True)
    np.testing.assert_array_equal(rm.data, before)


def test_float16_norm_modules_train():
    from tinygrad_norm import nn
    x = Tensor(np.random.default_rng(2).standard_normal((4, 3, 5, 5)).astype(np.float16))
    for m in (nn.BatchNorm2d(3, dtype=np.float16), nn.GroupNorm(3, 3, dtype=np.float16),
              nn.InstanceNorm2d(3, affine=True, dtype=np.float16),
              nn.LayerNorm((5, 5), dtype=np.float16), nn.RMSNorm((5,), dtype=np.float16)):
        y = m(x)
        (y * y).mean().backward()
        assert y.dtype == np.float16
        assert all(p.grad.dtype == np.float16 for p in m.parameters()), type(m).__name__


def test_read_only_running_statistics_are_refused_before_anything_changes():
    x = Tensor(np.random.default_rng(3).standard_normal((4, 3)))
    rm = Tensor(np.zeros(3))
    rv = Tensor(np.broadcast_to(np.ones(1), (3,)))  # read-only
    count = Tensor(np.array(0, np.int64))
    with pytest.raises(ValueError, match="running_var is read-only"):
        F.batch_norm(x, rm, rv, None, None, True, num_batches_tracked=count)
    assert not rm.data.any() and int(count.data) == 0  # the mean and the count were updated
    with pytest.raises(ValueError, match="running_var is read-only"):
        F.instance_norm(Tensor(np.ones((2, 3, 4))), rm, rv)


def test_training_and_use_input_stats_must_be_bools(torch):
    x = Tensor(np.ones((4, 3)))
    rm, rv = Tensor(np.zeros(3)), Tensor(np.ones(3))
    # PyTorch's words: "batch_norm(): argument 'training' (position 6) must be bool, not str"
    with pytest.raises(TypeError, match="argument 'training' must be bool, not str"):
        F.batch_norm(x, rm, rv, training="False")  # "False" trained
    with pytest.raises(TypeError, match="argument 'use_input_stats' must be bool, not int"):
        F.instance_norm(Tensor(np.ones((2, 3, 4))), rm, rv, use_input_stats=0)
    assert not rm.data.any()
    F.batch_norm(x, rm, rv, training=np.bool_(False))


def test_float16_eval_leaves_read_only_running_statistics_alone():
    x = Tensor(np.ones((4, 3), np.float16))
    rm = Tensor(np.broadcast_to(np.zeros(1, np.float16), (3,)))
    rv = Tensor(np.broadcast_to(np.ones(1, np.float16), (3,)))
    assert F.batch_norm(x, rm, rv, training=False).dtype == np.float16  # copied back: a failure
    F.instance_norm(Tensor(np.ones((2, 3, 4), np.float16)), rm, rv, use_input_stats=False)
