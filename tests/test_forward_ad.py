"""Forward-mode AD (tinygrad_norm.autograd.forward_ad, func.jvp / jacfwd / hessian):

* every primitive's forward mode (hand rule or the generic rule through its VJP), on every
  gradcheck case of the primitive tables, against reverse mode (``<u, J t> = <J^T u, t>`` for a
  random ``u``, 1e-10) and central finite differences;
* composites (the norms in training mode, dropout, cross_entropy, conv2d, an MLP) against
  torch.func.jvp in float64 (1e-10) and float32;
* torch's semantics: levels, errors, no_grad, reverse mode through duals, detach, integer
  outputs, dtypes, views, in-place writes; forward over reverse.
"""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.autograd.forward_ad as fwAD
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor
from tinygrad_norm import func as TF

torch = pytest.importorskip("torch")
import torch.autograd.forward_ad as tfwAD  # noqa: E402
import torch.func as TTF  # noqa: E402

RNG = np.random.default_rng(0)
RTOL = {np.float64: 1e-10, np.float32: 2e-5}


def _close(a, b, rtol, what=""):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    scale = float(np.abs(b).max()) if b.size else 1.0
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * max(1.0, scale), err_msg=what)


def _outs(r):
    return list(r) if isinstance(r, (tuple, list)) else [r]


def _dual_run(fn, arrays, tangents):
    """Values and tangents (None: no tangent) of ``fn`` on dual inputs."""
    with fwAD.dual_level():
        duals = [fwAD.make_dual(Tensor(a.copy()), Tensor(t)) for a, t in zip(arrays, tangents)]
        outs = _outs(fn(*duals))
        res = []
        for o in outs:
            p, t = fwAD.unpack_dual(o)
            res.append((p.numpy().copy(), None if t is None else t.numpy().copy()))
    return res


# ---- every primitive --------------------------------------------------------------------------

def _primitive_cases():
    """The gradcheck tables of the primitive test files, and cases for the primitives checked
    with their composites there."""
    import test_linalg
    import test_linalg_solvers
    import test_primitives
    import test_special
    from tinygrad_norm import linalg as LA, ops, special as S, tensor_index
    from tinygrad_norm.tensor import apply
    cases = {f"prim:{k}": v[:2] for k, v in test_primitives.GRADCHECK.items()}
    cases.update({f"linalg:{k}": v for k, v in test_linalg.GRADCHECK.items()})
    cases.update({f"special:{k}": v for k, v in test_special.PRIMITIVE_CASES.items()})
    for k, (fn, inputs, *_) in test_linalg_solvers.CASES.items():
        if all(isinstance(a, np.ndarray) for a in inputs):  # (not the "LU" placeholders)
            cases[f"solvers:{k}"] = ((lambda *a, fn=fn: fn(LA, *a)), inputs)
    r = np.random.default_rng(3)
    idx = np.array([2, 0, 2, 1])
    cases.update({
        "conv2d": (lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1),
                   [r.standard_normal((2, 2, 5, 4)), r.standard_normal((3, 2, 3, 2)),
                    r.standard_normal(3)]),
        "fold_unfold": (lambda a: F.fold(F.unfold(a, 2, padding=1), (4, 5), 2, padding=1),
                        [r.standard_normal((1, 2, 4, 5))]),
        "take": (lambda a: apply(ops.Take, a, index=idx, axis=1) ** 2,
                 [r.standard_normal((2, 3))]),
        "add_at": (lambda v: apply(ops.AddAt, v, index=idx, axis=0, size=3) ** 2,
                   [r.standard_normal((4, 2))]),
        "erf": (lambda a: (a * a).erf(), [r.standard_normal(5)]),
        "gelu": (lambda a: F.gelu(a * 3.0), [r.standard_normal(7)]),
        "gelu_grad": (lambda a: apply(ops.GeluGrad, a * 3.0), [r.standard_normal(7)]),
        "lstm_cells": (lambda a, b, c: apply(ops.LstmHidden, a, b, apply(ops.LstmCell, a, b, c)),
                       [r.standard_normal((2, 8)), r.standard_normal((2, 8)),
                        r.standard_normal((2, 2))]),
        "gru_cell": (lambda a, b, c: apply(ops.GruCell, a, b, c),
                     [r.standard_normal((2, 6)), r.standard_normal((2, 6)),
                      r.standard_normal((2, 2))]),
        "softplus": (lambda a: F.softplus(a * 3.0, beta=1.5, threshold=4.0),
                     [r.standard_normal(9)]),
        "softplus_grad": (lambda a: apply(ops.SoftplusGrad, a * 3.0, beta=1.5, threshold=4.0),
                          [r.standard_normal(9)]),
        "smooth_l1": (lambda a, b: F.smooth_l1_loss(a * 2.0, b, reduction="none", beta=0.7),
                      [r.standard_normal(9), r.standard_normal(9)]),
        "bce_with_logits": (lambda a, b: F.binary_cross_entropy_with_logits(
            a * 3.0, b.sigmoid(), reduction="none"), [r.standard_normal(9), r.standard_normal(9)]),
        "lstm_sequence": (lambda a, b, c, d: apply(ops.LstmSequence, a, b, c, d, reverse=False),
                          [r.standard_normal((3, 2, 8)), r.standard_normal((2, 2)),
                           r.standard_normal((2, 2)), r.standard_normal((8, 2))]),
        "ctc_alpha": (lambda lp: F.ctc_loss(lp.log_softmax(axis=2), np.array([[1, 2], [2, 2]]),
                                            np.array([4, 3]), np.array([2, 1])),
                      [r.standard_normal((4, 2, 3))]),
        "stack": (lambda a, b: apply(ops.Stack, a, b * b, axis=1),
                  [r.standard_normal((2, 3)), r.standard_normal((2, 3))]),
        "setitem": (lambda x, v: tensor_index.set_item(x * 1.0, (slice(1, None),), v).tanh(),
                    [r.standard_normal((3, 2)), r.standard_normal(2)]),
        "scatter_reduce": (lambda a, b: a.scatter_reduce(0, Tensor(np.array([[0, 1], [2, 0]])),
                                                         b * b, "amax", include_self=False),
                           [r.standard_normal((3, 2)), r.standard_normal((2, 2))]),
        "igamma": (lambda x: S.gammainc(Tensor(np.array([0.5, 1.5, 3.0])), x * x + 0.3),
                   [r.standard_normal(3)]),
        "window_logsumexp": (lambda x, w: _window_lse(x, w), [r.standard_normal((6, 4)),
                                                              r.standard_normal((3, 6, 4))]),
        "lerp": (lambda a, b, w: a.lerp(b, w), [r.standard_normal((2, 3)), r.standard_normal(3),
                                                r.uniform(-1.0, 2.0, (2, 3))]),
        "logit": (lambda a: a.sigmoid().logit(), [r.standard_normal(5)]),
        "addcdiv": (lambda x, a, b: x.addcdiv(a, b * b + 0.5, value=-1.5),
                    [r.standard_normal((2, 3)), r.standard_normal(3), r.standard_normal((2, 1))]),
    })
    return cases


def _window_lse(x, w):
    import test_window_logsumexp
    return test_window_logsumexp._ours(x, w, 3, fill=-2.0)


CASES = _primitive_cases()


def _check_forward_mode(fn, arrays, seed=0, rtol=1e-10, h=1e-6, fd=True):
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(a, np.float64) for a in arrays]
    tangents = [rng.standard_normal(a.shape) for a in arrays]
    dual = _dual_run(fn, arrays, tangents)
    # reverse mode: <u, J t> == <J^T u, t>
    xs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    outs = [o for o in _outs(fn(*xs)) if o.dtype.kind == "f"]
    floats = [(p, t) for p, t in dual if p.dtype.kind == "f"]
    assert len(outs) == len(floats)
    for i, ((p, t), o) in enumerate(zip(floats, outs)):
        np.testing.assert_array_equal(p, o.numpy())  # the forward values are untouched
        if not o.requires_grad:  # not differentiable (lstsq's rank and singular values, lu's P)
            assert t is None or not t.any()
            floats[i] = (p, None)
            continue
        assert t is not None and t.dtype == p.dtype and t.shape == p.shape
    us = [rng.standard_normal(o.shape) for o in outs]
    live = [(o, u) for o, u in zip(outs, us) if o.requires_grad]
    lhs = sum(float(np.sum(u * t)) for u, (_, t) in zip(us, floats) if t is not None)
    rhs = 0.0
    if live:
        grads = tg.grad([o for o, _ in live], xs, grad_outputs=[u for _, u in live],
                        allow_unused=True)
        rhs = sum(float(np.sum(g.numpy() * t)) for g, t in zip(grads, tangents) if g is not None)
    scale = sum(float(np.abs(u).sum() * np.abs(t).max()) for u, (_, t) in zip(us, floats)
                if t is not None and t.size)
    assert abs(lhs - rhs) <= rtol * max(1.0, scale), (lhs, rhs)
    # central finite differences, elementwise
    def at(sign):
        ys = _outs(fn(*[Tensor(a + sign * h * t) for a, t in zip(arrays, tangents)]))
        return [y.numpy() for y in ys if y.dtype.kind == "f"]
    for (_, t), yp, ym in zip(floats, at(1), at(-1)):
        diff = (yp - ym) / (2 * h)
        if t is not None and diff.size and fd:
            np.testing.assert_allclose(t, diff, rtol=1e-5,
                                       atol=1e-5 * max(1.0, np.abs(diff).max()))


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_primitive_forward_mode(name):
    fn, inputs = CASES[name][:2]
    # astype rounds through float32 (the tangent as the gradient): float32's precision there
    # finite differences across float32 roundings: a step far above its epsilon (exact for
    # the quadratic there)
    kw = dict(rtol=1e-6, h=1e-2) if name == "prim:astype" else {}
    if name == "solvers:lstsq_rcond":  # its gradient is pinv's at the default cut, as torch's:
        kw = dict(fd=False)  # not the derivative of the solution truncated at rcond
    _check_forward_mode(fn, inputs, **kw)


def test_every_differentiable_primitive_runs_forward_mode():
    """Every primitive of ops.py is run on dual inputs by some case above (a new primitive must
    get a case), and each gives a tangent."""
    seen = set()
    real = fwAD._propagate

    def spy(op, t, inputs, arrays, kw, extra):
        real(op, t, inputs, arrays, kw, extra)
        if fwAD._tangent_of(t) is not None:
            seen.add(op.name)
    import sys
    tmod = sys.modules[Tensor.__module__]
    for fn, inputs in (c[:2] for c in CASES.values()):
        with fwAD.dual_level():
            tmod._forward = spy
            duals = [fwAD.make_dual(Tensor(np.asarray(a, np.float64)),
                                    Tensor(np.ones(np.shape(a)))) for a in inputs]
            fn(*duals)
    prims, todo = set(), list(tg.ops.Op.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__ == tg.ops.__name__ and not cls.__name__.startswith("_"):
            prims.add(cls.name)
    # no derivative by design (refuse raises in backward), and the ones that only appear in
    # recorded backward passes (checked by forward over reverse below)
    exempt = {"refuse", "relu_backward", "attach", "scatter", "zeros_like"}
    missing = prims - seen - exempt
    assert not missing, f"primitives never run in forward mode: {sorted(missing)}"


def test_hand_rules_agree_with_the_generic_rule():
    """The hand-written rules give what the VJP-derived rule gives (float64, 1e-12)."""
    from tinygrad_norm import ops
    rules = [cls for cls in vars(ops).values()
             if isinstance(cls, type) and issubclass(cls, ops.Op) and cls.jvp is not None]
    assert len(rules) >= 30
    saved = {cls: cls.jvp for cls in rules}
    fns = [CASES[k] for k in ("prim:add", "prim:div", "prim:matmul_batched", "prim:softmax",
                              "prim:log_softmax", "prim:concatenate", "prim:getitem_mask",
                              "prim:where", "prim:pow_scalar", "prim:einsum", "prim:addcmul",
                              "prim:vecdot", "prim:rsqrt", "prim:sigmoid", "prim:pad",
                              "prim:nll_loss_mean", "erf", "gelu", "stack", "conv2d", "take", "add_at",
                              "fold_unfold")]
    rng = np.random.default_rng(1)
    for fn, inputs in fns:
        ts = [rng.standard_normal(np.shape(a)) for a in inputs]
        arrays = [np.asarray(a, np.float64) for a in inputs]
        fast = _dual_run(fn, arrays, ts)
        try:
            for cls in rules:
                cls.jvp = None
            slow = _dual_run(fn, arrays, ts)
        finally:
            for cls, r in saved.items():
                cls.jvp = r
        for (_, a), (_, b) in zip(fast, slow):
            _close(a, b, 1e-12)


# ---- torch parity: composites -----------------------------------------------------------------

def _torch_jvp(tfn, arrays, tangents, dtype):
    tt = [torch.tensor(np.asarray(a, dtype)) for a in arrays]
    tv = [torch.tensor(np.asarray(t, dtype)) for t in tangents]
    out, jv = TTF.jvp(tfn, tuple(tt), tuple(tv))
    return [o.detach().numpy() for o in _outs(out)], [j.numpy() for j in _outs(jv)]


def _conv(m):
    return lambda x, w, b: m.conv2d(x, w, b, stride=2, padding=1)


def _mlp(m):
    def f(x, w1, b1, w2, b2):
        h = m.gelu(m.linear(x, w1, b1)) if m is torch.nn.functional else F.gelu(x @ w1.T + b1)
        return m.cross_entropy(m.linear(h, w2, b2) if m is torch.nn.functional else h @ w2.T + b2,
                               _TARGET_T if m is torch.nn.functional else _TARGET)
    return f


_TARGET = Tensor(np.array([0, 2, 1, 2]))
_TARGET_T = torch.tensor([0, 2, 1, 2])

COMPOSITES = {
    "batch_norm_train": (lambda m: lambda x, w, b: m.batch_norm(x, None, None, w, b, training=True),
                         [(4, 3, 2), (3,), (3,)]),
    "layer_norm": (lambda m: lambda x, w, b: m.layer_norm(x, (3, 2), w, b), [(4, 3, 2), (3, 2),
                                                                            (3, 2)]),
    "group_norm": (lambda m: lambda x, w, b: m.group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)]),
    "instance_norm": (lambda m: lambda x: m.instance_norm(x), [(2, 3, 5)]),
    "cross_entropy": (lambda m: lambda x: m.cross_entropy(
        x, _TARGET_T if m is torch.nn.functional else _TARGET, label_smoothing=0.1), [(4, 3)]),
    "conv2d": (_conv, [(2, 3, 5, 5), (4, 3, 3, 3), (4,)]),
    "mlp": (_mlp, [(4, 5), (6, 5), (6,), (3, 6), (3,)]),
    "softmax_logsumexp": (lambda m: lambda x: (m.softmax(x, dim=1), x.logsumexp(1) if
                                               m is torch.nn.functional else x.logsumexp(axis=1)),
                          [(3, 4)]),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_composites_match_torch_func_jvp(name, dtype):
    make, shapes = COMPOSITES[name]
    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    tangents = [rng.standard_normal(s).astype(dtype) for s in shapes]
    ours = _dual_run(make(F), arrays, tangents)
    outs, jv = _torch_jvp(make(torch.nn.functional), arrays, tangents, dtype)
    for (p, t), o, j in zip(ours, outs, jv):
        assert t.dtype == dtype
        _close(p, o, RTOL[dtype], f"{name} value")
        _close(t, j, RTOL[dtype], f"{name} tangent")


def test_dropout_tangent_uses_the_same_mask():
    """Dropout's tangent is the mask times the tangent: compared with the double-vjp JVP of the
    same seeded draw."""
    x, t = RNG.standard_normal((5, 6)), RNG.standard_normal((5, 6))
    tg.manual_seed(3)
    (_, tan), = _dual_run(lambda a: F.dropout(a, 0.4), [x], [t])
    tg.manual_seed(3)
    _, ref = tg.autograd.functional.jvp(lambda a: F.dropout(a, 0.4), Tensor(x), Tensor(t))
    _close(tan, ref.numpy(), 1e-12)
    assert ((tan == 0) == (ref.numpy() == 0)).all() and (tan == 0).any()


# ---- func.jvp / jacfwd / hessian --------------------------------------------------------------

def _same(a, b):
    if isinstance(b, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    _close(a.numpy(), b.detach().numpy(), 1e-10)


def _f(x, y):
    return (x.sin() * y).tanh(), (x @ y.T).exp().sum()


def _reverse_calls(monkeypatch):
    """A list that gets a name each time autograd.functional's reverse-mode jvp or jacobian
    runs (the route jvp and jacfwd took before forward mode)."""
    from tinygrad_norm import autograd_functional as AF
    calls = []
    for name in ("jvp", "jacobian"):
        real = getattr(AF, name)
        monkeypatch.setattr(AF, name,
                            lambda *a, real=real, name=name, **k: calls.append(name) or real(*a, **k))
    return calls


def test_func_jvp_and_jacfwd_are_forward_mode(monkeypatch):
    calls = _reverse_calls(monkeypatch)
    X, Y, U, V = (RNG.standard_normal((2, 3)) for _ in range(4))
    T = lambda a: Tensor(a.copy())  # noqa: E731
    TT = lambda a: torch.tensor(a.copy())  # noqa: E731
    _same(TF.jvp(_f, (T(X), T(Y)), (T(U), T(V))), TTF.jvp(_f, (TT(X), TT(Y)), (TT(U), TT(V))))
    _same(TF.jacfwd(_f, argnums=(0, 1))(T(X), T(Y)),
          TTF.jacfwd(_f, argnums=(0, 1))(TT(X), TT(Y)))
    assert calls == []
    h = lambda x, y: (x.sin() * y.exp()).sum() + (x * x * y).sum()  # noqa: E731
    _same(TF.hessian(h, argnums=(0, 1))(T(X), T(Y)),
          TTF.hessian(h, argnums=(0, 1))(TT(X), TT(Y)))
    # hessian: jacfwd over jacrev, as torch's: one reverse-mode jacobian per forward column
    assert calls == ["jacobian"] * 12
    # a differentiable primal: the reverse-mode route (its result stays on the graph)
    TF.jvp(_f, (_t := Tensor(X, requires_grad=True), T(Y)), (T(U), T(V)))
    assert calls[-1] == "jvp"


def test_forward_over_reverse_and_reverse_over_forward():
    f = lambda x: (x.tanh() * x.sum()).sum() + (x ** 3).sum()  # noqa: E731
    X = RNG.standard_normal((3,))
    _same(TF.jacfwd(TF.jacrev(f))(Tensor(X)), TTF.jacfwd(TTF.jacrev(f))(torch.tensor(X)))
    _same(TF.jacfwd(TF.grad(f))(Tensor(X)), TTF.jacfwd(TTF.grad(f))(torch.tensor(X)))
    _same(TF.jacrev(TF.jacfwd(f))(Tensor(X)), TTF.jacrev(TTF.jacfwd(f))(torch.tensor(X)))
    _same(TF.jacfwd(TF.jacfwd(f))(Tensor(X)), TTF.jacfwd(TTF.jacfwd(f))(torch.tensor(X)))
    # the jvp of a differentiable input stays on the caller's graph (reverse over forward)
    x = Tensor(X, requires_grad=True)
    _, jv = TF.jvp(lambda a: a.sin() * a, (x,), (Tensor(np.ones(3)),))
    gx, = tg.grad(jv.sum(), x)
    xt = torch.tensor(X, requires_grad=True)
    _, jvt = TTF.jvp(lambda a: a.sin() * a, (xt,), (torch.ones(3, dtype=torch.float64),))
    gt, = torch.autograd.grad(jvt.sum(), xt)
    _close(gx.numpy(), gt.numpy(), 1e-10)


def test_func_jvp_and_jacfwd_with_a_parameter_in_the_closure_stay_differentiable():
    """A parameter captured by ``func`` gets its gradient through the jvp and the Jacobian, as
    torch.func's (the reverse-mode route)."""
    X, W, V = RNG.standard_normal(3), RNG.standard_normal(3), RNG.standard_normal(3)
    w = Tensor(W, requires_grad=True)
    wt = torch.tensor(W, requires_grad=True)
    _, jv = TF.jvp(lambda x: (x * w).tanh(), (Tensor(X),), (Tensor(V),))
    _, jvt = TTF.jvp(lambda x: (x * wt).tanh(), (torch.tensor(X),), (torch.tensor(V),))
    jac = TF.jacfwd(lambda x: (x * w).sin())(Tensor(X))
    jact = TTF.jacfwd(lambda x: (x * wt).sin())(torch.tensor(X))
    g, = tg.grad((jv * jv).sum() + (jac * jac).sum(), w)
    gt, = torch.autograd.grad((jvt * jvt).sum() + (jact * jact).sum(), wt)
    _close(g.numpy(), gt.numpy(), 1e-10)


def test_func_jvp_errors_and_independent_output():
    X = Tensor(RNG.standard_normal(3))
    with pytest.raises(ValueError, match="The output of f is independent of the inputs"):
        TF.jvp(lambda x: Tensor(np.ones(2)), (X,), (X,), strict=True)
    out, jv = TF.jvp(lambda x: Tensor(np.ones(2)), (X,), (X,))
    assert (jv.numpy() == 0).all() and jv.shape == (2,)
    out, jv, aux = TF.jvp(lambda x: (x * 2, x.exp()), (X,), (X,), has_aux=True)
    _close(jv.numpy(), 2 * X.numpy(), 0)
    with pytest.raises(TypeError, match="to return only Tensors"):
        TF.jvp(lambda x: 3.0, (X,), (X,))


# ---- semantics, against torch -----------------------------------------------------------------

def test_levels_and_errors_as_torch():
    x, t = Tensor(RNG.standard_normal(3)), Tensor(RNG.standard_normal(3))
    with pytest.raises(RuntimeError, match="no level exists, make sure to enter_dual_level"):
        fwAD.make_dual(x, t)
    with pytest.raises(RuntimeError, match="Trying to exit a forward AD level"):
        fwAD.exit_dual_level()
    with fwAD.dual_level() as level:
        assert level == 0
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            fwAD.enter_dual_level()
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            with fwAD.dual_level():
                pass
        with pytest.raises(ValueError, match="different size than that of the original Tensor.*"
                                             r"size \[3\] while the given forward gradient is of "
                                             r"size \[4\]"):
            fwAD.make_dual(x, Tensor(np.ones(4)))
        with pytest.raises(ValueError, match="Expected primal to be floating point or complex, "
                                             "but got: int64"):
            fwAD.make_dual(Tensor(np.arange(3)), t)
        with pytest.raises(ValueError, match="Expected tangent to be floating point"):
            fwAD.make_dual(x, Tensor(np.arange(3)))
        with pytest.raises(ValueError, match="Invalid level given to make_dual"):
            fwAD.make_dual(x, t, level=5)
        with pytest.raises(TypeError, match="tangent must be a Tensor"):
            fwAD.make_dual(x, 3.0)
        with pytest.raises(TypeError, match="tensor must be a Tensor"):
            fwAD.make_dual(3.0, t)
        with pytest.raises(TypeError, match="argument 'tensor' must be Tensor, not float"):
            fwAD.unpack_dual(3.0)
        d = fwAD.make_dual(x, t, level=0)
        with pytest.raises(RuntimeError, match="already has a forward gradient at the same level"):
            fwAD.make_dual(d, t)
        assert fwAD.unpack_dual(x) == (x, None)
        p, tan = fwAD.unpack_dual(d, level=0)
        assert isinstance(fwAD.unpack_dual(d), fwAD.UnpackedDualTensor)
        np.testing.assert_array_equal(p.numpy(), x.numpy())
        np.testing.assert_array_equal(tan.numpy(), t.numpy())
        assert fwAD.unpack_dual(p).tangent is None
    assert fwAD.unpack_dual(d).tangent is None  # dropped when the level closed
    assert fwAD.enter_dual_level() == 0
    fwAD.exit_dual_level(level=0)
    assert tg.autograd.forward_ad is fwAD
    from tinygrad_norm.autograd import forward_ad
    assert forward_ad is fwAD


def test_decorator_and_tangent_dtype():
    @fwAD.dual_level()
    def run(x, t):
        return fwAD.unpack_dual(fwAD.make_dual(x, t).exp()).tangent
    x32 = Tensor(RNG.standard_normal(3).astype(np.float32))
    tan = run(x32, Tensor(np.ones(3)))  # a float64 tangent of a float32 primal: float32
    assert tan.dtype == np.float32
    _close(tan.numpy(), np.exp(x32.numpy()), 1e-6)


def _both(fn, x, t):
    """``fn(dual, lib)`` in both libraries; their tangents (None or an array)."""
    with fwAD.dual_level():
        a = fn(fwAD.make_dual(Tensor(x.copy()), Tensor(t.copy())), tg)
        ours = fwAD.unpack_dual(a).tangent
    with tfwAD.dual_level():
        b = fn(tfwAD.make_dual(torch.tensor(x.copy()), torch.tensor(t.copy())), torch)
        theirs = tfwAD.unpack_dual(b).tangent
    assert (ours is None) == (theirs is None)
    if ours is not None:
        _close(ours.numpy(), theirs.detach().numpy(), 1e-10)
    return ours


@pytest.mark.parametrize("case", [
    "no_grad", "detach", "compare", "argmax", "view", "view_chain", "clone_mul_", "add_",
    "setitem_const", "setitem_dual_into_plain", "float_of_int", "exp_", "fill_", "copy_",
    "iadd", "add_alpha", "recorded_mul_", "recorded_setitem", "recorded_exp_", "index_advanced"])
def test_semantics_match_torch(case):
    x, t = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))

    def fn(d, lib):
        e = d.clone()
        if case == "exp_":
            return e.exp_()
        if case == "fill_":
            return e.fill_(2.0)
        if case == "copy_":
            z = lib.zeros((3, 4), dtype=lib.float64) if lib is torch else Tensor(np.zeros((3, 4)))
            return z.copy_(d.sin())
        if case == "iadd":
            e += d * d
            return e
        if case == "add_alpha":
            return e.add_(d.exp(), alpha=0.3)
        if case.startswith("recorded"):
            w = (lib.tensor(np.ones(4), requires_grad=True) if lib is torch else
                 Tensor(np.ones(4), requires_grad=True))
            e = d * w  # on the graph: the in-place write is recorded
            if case == "recorded_mul_":
                e.mul_(d)
            elif case == "recorded_setitem":
                e[1, 1:3] = d[0, :2] * 3
            else:
                e.exp_()
            return e
        if case == "index_advanced":
            e[[0, 2], 1] = d[1, :2].exp()
            return e
        if case == "no_grad":
            with lib.no_grad():
                return d.exp() * 2
        if case == "detach":
            return d.detach()
        if case == "compare":
            return d > 0
        if case == "argmax":
            return d.argmax()
        if case == "view":
            return d[1:, ::2]
        if case == "view_chain":
            return d.T.reshape(2, 6)[0]
        if case == "clone_mul_":
            e = d.clone()
            e.mul_(3.0)
            return e
        if case == "add_":
            e = d.clone()
            e.add_(d.exp())
            return e
        if case == "setitem_const":
            e = d.clone()
            e[0] = 5.0
            return e
        if case == "setitem_dual_into_plain":
            e = (lib.zeros((3, 4), dtype=lib.float64) if lib is torch else
                 Tensor(np.zeros((3, 4))))
            e[1:] = d[1:]
            return e
        if case == "float_of_int":
            return (d > 0).double() if lib is torch else (d > 0).astype(np.float64)
    _both(fn, x, t)


def test_in_place_write_into_a_view_of_a_dual_tensor_is_refused():
    x, t = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    with fwAD.dual_level():
        e = fwAD.make_dual(Tensor(x), Tensor(t)).clone()
        before = e.numpy().copy()
        for write in (lambda: e[0].mul_(2.0), lambda: e[1:].fill_(1.0),
                      lambda: e.reshape(4, 3).__setitem__(0, 1.0)):
            with pytest.raises(RuntimeError, match="in-place write into a view of another "
                                                   "tensor's memory is not supported in "
                                                   "forward-mode AD"):
                write()
        np.testing.assert_array_equal(e.numpy(), before)  # refused before the write
        e[0] = 1.0  # the tensor itself: fine
        plain = Tensor(np.zeros(4))
        plain[0:2].mul_(3.0)  # no tangent involved: no refusal


def test_float32_add_alpha_keeps_float32_tangent():
    with fwAD.dual_level():
        e = fwAD.make_dual(Tensor(np.ones(3, np.float32)), Tensor(np.ones(3, np.float32))).clone()
        e.add_(e * 2, alpha=0.5)
        tan = fwAD.unpack_dual(e).tangent
    assert tan.dtype == np.float32
    np.testing.assert_allclose(tan.numpy(), 2.0)


def test_reverse_mode_through_dual_tensors():
    X, T = RNG.standard_normal(4), RNG.standard_normal(4)
    x = Tensor(X, requires_grad=True)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, Tensor(T))
        y = (d.sin() * d).sum()
        y.backward()
        tan = fwAD.unpack_dual(y).tangent
    _close(x.grad.numpy(), np.cos(X) * X + np.sin(X), 1e-12)
    _close(tan.numpy(), np.sum((np.cos(X) * X + np.sin(X)) * T), 1e-12)


def test_no_level_costs_nothing_and_leaves_no_tangent():
    import sys
    assert sys.modules[Tensor.__module__]._forward is None
    y = Tensor(np.ones(3)).exp()
    assert y._fw is None


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_empty_and_broadcast_shapes_match_torch(dtype):
    cases = [((0, 3), lambda x, L: (x @ L.ones((3, 2), dtype=x.dtype) if L is torch else
                                    x @ Tensor(np.ones((3, 2), dtype))).sum(0)),
             ((2, 1, 3), lambda x, L: (x * x.transpose(0, 1) if L is torch else
                                       x * x.transpose(1, 0, 2)).exp()),
             ((4,), lambda x, L: x[None, :] / (x[:, None] + 3))]
    for shape, fn in cases:
        x = RNG.standard_normal(shape).astype(dtype)
        t = RNG.standard_normal(shape).astype(dtype)
        tan = _both_dtype(fn, x, t, dtype)
        assert tan.dtype == dtype


def _both_dtype(fn, x, t, dtype):
    with fwAD.dual_level():
        ours = fwAD.unpack_dual(fn(fwAD.make_dual(Tensor(x), Tensor(t)), tg)).tangent
    with tfwAD.dual_level():
        theirs = tfwAD.unpack_dual(fn(tfwAD.make_dual(torch.tensor(x), torch.tensor(t)),
                                      torch)).tangent
    _close(ours.numpy(), theirs.numpy(), RTOL[dtype])
    return ours


def test_jacfwd_of_an_empty_input_and_no_grad():
    jac = TF.jacfwd(lambda x: x.sum() * Tensor(np.ones(2)))(Tensor(np.zeros((0, 3))))
    assert jac.shape == (2, 0, 3)
    x = Tensor(RNG.standard_normal(3), requires_grad=True)
    with tg.no_grad():  # forward mode under no_grad: no graph, the same Jacobian
        jac = TF.jacfwd(lambda a: a.sin() * a.sum())(x)
    X = torch.tensor(x.detach().numpy())
    _close(jac.numpy(), TTF.jacfwd(lambda a: a.sin() * a.sum())(X).numpy(), 1e-10)
    assert not jac.requires_grad


def test_custom_function_uses_its_jvp_or_is_refused_as_torch():
    class Cube(tg.autograd.Function):  # a NumPy forward: the tape never sees it
        @staticmethod
        def forward(ctx, x):
            ctx.x = x.detach().numpy()
            return Tensor(x.detach().numpy() ** 3)

        @staticmethod
        def backward(ctx, g):
            return g * Tensor(3 * ctx.x ** 2)

        @staticmethod
        def jvp(ctx, t):
            return t * Tensor(3 * ctx.x ** 2)

    class NoJvp(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return Tensor(x.detach().numpy() * 2)

        @staticmethod
        def backward(ctx, g):
            return g * 2

    X, T = RNG.standard_normal(3), RNG.standard_normal(3)
    with fwAD.dual_level():
        d = fwAD.make_dual(Tensor(X), Tensor(T))
        tan = fwAD.unpack_dual(Cube.apply(d).sin()).tangent
        with pytest.raises(NotImplementedError, match="You must implement the jvp function for "
                                                      "custom autograd.Function"):
            NoJvp.apply(d)
        NoJvp.apply(Tensor(X))  # no tangent in: no jvp needed
        x = Tensor(X, requires_grad=True)  # recorded as well: both modes
        y = Cube.apply(fwAD.make_dual(x, Tensor(T)))
        y.sum().backward()
        _close(fwAD.unpack_dual(y).tangent.numpy(), 3 * X ** 2 * T, 1e-12)
    _close(tan.numpy(), np.cos(X ** 3) * 3 * X ** 2 * T, 1e-12)
    _close(x.grad.numpy(), 3 * X ** 2, 1e-12)


_ONES = Tensor(np.ones((4, 5)))
SWEEP = {  # composites and methods of one (4, 5) input, each through its primitives
    "gelu": lambda x: F.gelu(x), "silu": lambda x: F.silu(x), "softplus": lambda x: F.softplus(x),
    "elu": lambda x: F.elu(x), "selu": lambda x: F.selu(x), "mish": lambda x: F.mish(x),
    "hardswish": lambda x: F.hardswish(x), "logsigmoid": lambda x: F.logsigmoid(x),
    "leaky_relu": lambda x: F.leaky_relu(x, 0.1), "softmin": lambda x: F.softmin(x, dim=1),
    "normalize": lambda x: F.normalize(x, dim=1), "nan_to_num": lambda x: x.nan_to_num(),
    "logcumsumexp": lambda x: x.logcumsumexp(1), "norm": lambda x: x.norm(),
    "max_dim": lambda x: x.max(dim=1)[0], "sort": lambda x: x.sort(dim=1)[0],
    "topk": lambda x: x.topk(2, dim=1)[0], "median": lambda x: x.median(dim=1)[0],
    "kron": lambda x: tg.kron(x, x), "mse": lambda x: F.mse_loss(x, _ONES),
    "smooth_l1": lambda x: F.smooth_l1_loss(x, _ONES),
    "bce_logits": lambda x: F.binary_cross_entropy_with_logits(x, _ONES * 0.3),
    "kl_div": lambda x: F.kl_div(x.log_softmax(1), _ONES * 0.2, reduction="batchmean"),
    "cosine_similarity": lambda x: F.cosine_similarity(x, x * x + 1),
    "max_pool1d": lambda x: F.max_pool1d(x[None], 2),
    "adaptive_avg_pool1d": lambda x: F.adaptive_avg_pool1d(x[None], 3),
    "interpolate_linear": lambda x: F.interpolate(x[None], scale_factor=2, mode="linear"),
    "pad_reflect": lambda x: F.pad(x[None], (1, 1), mode="reflect"),
    "embedding": lambda x: F.embedding(Tensor(np.array([0, 2, 1])), x),
    "multi_margin": lambda x: F.multi_margin_loss(x, Tensor(np.array([0, 1, 2, 3]))),
    "local_response_norm": lambda x: F.local_response_norm(x[None], 2),
    "unfold": lambda x: F.unfold(x[None, None], 2), "quantile": lambda x: tg.quantile(x, 0.3, dim=1),
}


@pytest.mark.parametrize("name", sorted(SWEEP))
def test_composites_get_forward_mode_from_their_primitives(name):
    """No composite may drop the tangent on a path of its own (a copy of the array where grad
    is not wanted, say): each agrees with reverse mode and finite differences."""
    _check_forward_mode(SWEEP[name], [np.random.default_rng(0).standard_normal((4, 5))])


def _view_program(L, fw, dual, tan):
    """A base written in place after views of it were taken: the views' tangents follow the
    write, as their values do (a chain of views, an unrecorded write, an item assignment).
    Each tangent is copied as it is read: torch's are views that later writes update."""
    def snap(t):
        return np.array(fw.unpack_dual(t).tangent.detach().numpy())
    x = fw.make_dual(dual, tan)
    e = x * 1
    v = e[0:2]
    w = v.reshape(2, 1).T
    out = []
    e.mul_(2)
    out += [snap(v), snap(w)]
    e[1] = L.tensor(5.0, dtype=L.float64)
    out += [snap(v * 3)]
    with L.no_grad():
        e.add_(x)
    out += [snap(w), snap(e)]
    return out


def test_a_view_follows_its_base_written_in_place_as_torch():
    p, t = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])
    with fwAD.dual_level():
        ours = _view_program(tg, fwAD, Tensor(p.copy()), Tensor(t.copy()))
    with tfwAD.dual_level():
        theirs = _view_program(torch, tfwAD, torch.tensor(p.copy()), torch.tensor(t.copy()))
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)
