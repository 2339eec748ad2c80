"""``tinygrad_norm.autograd.Function``: user-defined primitives, as ``torch.autograd.Function``.

Each custom Function is written once, in code that runs unchanged on both libraries (the Tensor
API mirrors torch's), built against each library's ``Function`` class, and compared in float64
under random upstream gradients: gradients, second derivatives (the user's backward recorded
under create_graph), what ``backward`` sees (``needs_input_grad``, materialized zeros), and
torch's errors.
"""
from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import autograd as ag
from tinygrad_norm.autograd import Function, once_differentiable
from tinygrad_norm.tensor import Tensor

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(20251207)


def _pair(shape):
    a = RNG.standard_normal(shape)
    return Tensor(a.copy(), requires_grad=True), torch.tensor(a, requires_grad=True)


def _close(a, b, tol=1e-10):
    np.testing.assert_allclose(np.asarray(a.data if isinstance(a, Tensor) else a),
                               b.detach().numpy(), rtol=tol, atol=tol)


# ---- the Functions, written once --------------------------------------------------------------

def make_exp(base):
    class Exp(base):
        @staticmethod
        def forward(ctx, x):
            result = x.exp()
            ctx.save_for_backward(result)  # the output itself
            return result

        @staticmethod
        def backward(ctx, grad):
            result, = ctx.saved_tensors
            return grad * result
    return Exp


def make_clamp(base):
    """A clamp with a straight-through gradient and non-Tensor bounds."""
    class Clamp(base):
        @staticmethod
        def forward(ctx, x, lo, hi):
            ctx.seen = ctx.needs_input_grad
            return x.clamp(lo, hi)

        @staticmethod
        def backward(ctx, grad):
            return grad, None, None
    return Clamp


def make_two(base):
    """Two outputs from two inputs; a differentiable backward."""
    class Two(base):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y, x.sin()

        @staticmethod
        def backward(ctx, ga, gb):
            x, y = ctx.saved_tensors
            gx = ga * y + gb * x.cos() if ctx.needs_input_grad[0] else None
            gy = ga * x if ctx.needs_input_grad[1] else None
            return gx, gy
    return Two


def make_scaled(base):
    """setup_context style, a keyword argument, a broadcast gradient summed down."""
    class Scaled(base):
        @staticmethod
        def forward(x, w, power=2):
            return (x ** power) * w

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, w, power = inputs  # the keyword, bound to its position
            ctx.save_for_backward(x, w)

        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            # w's is (3, 4): summed to (4,) by the tape; None for power
            return grad * 2 * x * w, grad * x * x, None
    return Scaled


def make_masked(base):
    """An output marked non-differentiable, and grads not materialized."""
    class Masked(base):
        @staticmethod
        def forward(ctx, x):
            mask = (x > 0) * 1.0
            ctx.mark_non_differentiable(mask)
            ctx.set_materialize_grads(False)
            ctx.save_for_backward(mask)
            return x * mask, mask

        @staticmethod
        def backward(ctx, g, gmask):
            ctx.gmask_was_none = gmask is None
            mask, = ctx.saved_tensors
            return None if g is None else g * mask
    return Masked


EXP, T_EXP = make_exp(Function), make_exp(torch.autograd.Function)
CLAMP, T_CLAMP = make_clamp(Function), make_clamp(torch.autograd.Function)
TWO, T_TWO = make_two(Function), make_two(torch.autograd.Function)
SCALED, T_SCALED = make_scaled(Function), make_scaled(torch.autograd.Function)
MASKED, T_MASKED = make_masked(Function), make_masked(torch.autograd.Function)


# ---- gradients and second derivatives against torch ------------------------------------------

def test_exp_with_saved_output_gradients_and_double_backward():
    x, xt = _pair((3, 4))
    y, yt = EXP.apply(x), T_EXP.apply(xt)
    assert y.grad_fn.name == "ExpBackward" == type(yt.grad_fn).__name__
    _close(y, yt)
    u = RNG.standard_normal((3, 4))
    g, = tg.grad(y, x, u, create_graph=True)
    gt, = torch.autograd.grad(yt, xt, torch.tensor(u), create_graph=True)
    _close(g, gt)
    w = RNG.standard_normal((3, 4))
    gg, = tg.grad(g, x, w)
    ggt, = torch.autograd.grad(gt, xt, torch.tensor(w))
    _close(gg, ggt)


def test_exp_double_backward_after_the_output_is_dropped():
    # the saved output is rebuilt on its node: d(grad)/dx still goes through the Function
    x, xt = _pair((5,))
    g, = tg.grad(EXP.apply(x).sum(), x, create_graph=True)
    gt, = torch.autograd.grad(T_EXP.apply(xt).sum(), xt, create_graph=True)
    gc.collect()
    w = RNG.standard_normal(5)
    _close(tg.grad(g, x, w)[0], torch.autograd.grad(gt, xt, torch.tensor(w))[0])


def make_saves_first(base):
    class SavesFirst(base):
        @staticmethod
        def forward(ctx, x, y):
            e = x.exp()
            ctx.save_for_backward(e, y)  # output 0, and an input
            return e, x * y

        @staticmethod
        def backward(ctx, ge, gp):
            e, y = ctx.saved_tensors
            return ge * e + gp * y * e / e, gp * e.log()
    return SavesFirst


def test_double_backward_reads_a_saved_output_that_was_dropped():
    # only the second output is used: the first (saved) output's tensor and node are gone when
    # the create_graph backward reads it; its terms must still reach the second derivative
    (x, xt), (y, yt) = _pair((4,)), _pair((4,))
    u = RNG.standard_normal(4)
    p = make_saves_first(Function).apply(x, y)[1]
    pt = make_saves_first(torch.autograd.Function).apply(xt, yt)[1]
    gc.collect()
    assert p.grad_fn.op.shared.out_refs[0]() is None  # the saved output is gone
    g = tg.grad(p, [x, y], u, create_graph=True)
    gt = torch.autograd.grad(pt, [xt, yt], torch.tensor(u), create_graph=True)
    w = RNG.standard_normal(4)
    gg = tg.grad(g[1], [x, y], w, allow_unused=True)
    ggt = torch.autograd.grad(gt[1], [xt, yt], torch.tensor(w), allow_unused=True)
    _close(g[0], gt[0])
    _close(g[1], gt[1])
    _close(gg[0], ggt[0])
    zeros = np.zeros(4)  # y's: zeros through the rebuilt node here, None in torch
    _close(zeros if gg[1] is None else gg[1], torch.tensor(zeros) if ggt[1] is None else ggt[1])


def test_clamp_straight_through_with_non_tensor_arguments():
    x, xt = _pair((4, 5))
    y, yt = CLAMP.apply(x, -0.5, 0.5), T_CLAMP.apply(xt, -0.5, 0.5)
    _close(y, yt)
    assert y.grad_fn.op.shared.ctx.seen == (True, False, False)
    u = RNG.standard_normal((4, 5))
    y.backward(u)
    yt.backward(torch.tensor(u))
    _close(x.grad, xt.grad)
    _close(x.grad, torch.tensor(u))  # straight through, even where clamped


def test_two_outputs_one_backward_call_and_double_backward():
    (x, xt), (y, yt) = _pair((2, 3)), _pair((2, 3))
    calls = []
    a, b = TWO.apply(x, y)
    at, bt = T_TWO.apply(xt, yt)
    assert a.grad_fn.name == b.grad_fn.name == "TwoBackward"
    original = TWO.backward
    ua, ub = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
    try:
        TWO.backward = staticmethod(lambda ctx, ga, gb: calls.append(1) or original(ctx, ga, gb))
        gx, gy = tg.grad([a, b], [x, y], [ua, ub], create_graph=True)
    finally:
        TWO.backward = staticmethod(original)
    assert calls == [1]  # once, with both outputs' gradients
    gxt, gyt = torch.autograd.grad([at, bt], [xt, yt], [torch.tensor(ua), torch.tensor(ub)],
                                   create_graph=True)
    _close(gx, gxt)
    _close(gy, gyt)
    w = RNG.standard_normal((2, 3))
    ggx, ggy = tg.grad(gx, [x, y], w)
    ggxt, ggyt = torch.autograd.grad(gxt, [xt, yt], torch.tensor(w))
    _close(ggx, ggxt)
    _close(ggy, ggyt)


@pytest.mark.parametrize("used", [0, 1])
def test_two_outputs_only_one_used_gets_zeros_for_the_other(used):
    (x, xt), (y, yt) = _pair((2, 3)), _pair((2, 3))
    u = RNG.standard_normal((2, 3))
    TWO.apply(x, y)[used].backward(u)
    T_TWO.apply(xt, yt)[used].backward(torch.tensor(u))
    _close(x.grad, xt.grad)
    _close(y.grad, yt.grad)


def test_a_hook_on_the_other_output_is_seen_by_backward():
    (x, xt), (y, yt) = _pair((3,)), _pair((3,))
    a, b = TWO.apply(x, y)
    at, bt = T_TWO.apply(xt, yt)
    a.register_hook(lambda g: g * 10)
    at.register_hook(lambda g: g * 10)
    for t in (a, b, at, bt):
        t.retain_grad()
    u = RNG.standard_normal(3)
    (a.sum() + (b * Tensor(u)).sum()).backward()
    (at.sum() + (bt * torch.tensor(u)).sum()).backward()
    _close(x.grad, xt.grad)
    _close(y.grad, yt.grad)
    _close(a.grad, at.grad)
    _close(b.grad, bt.grad)


def test_grad_of_one_input_masks_needs():
    (x, xt), (y, yt) = _pair((2, 3)), _pair((2, 3))
    u = RNG.standard_normal((2, 3))
    a, _ = TWO.apply(x, y)
    at, _ = T_TWO.apply(xt, yt)
    _close(tg.grad(a, y, u)[0], torch.autograd.grad(at, yt, torch.tensor(u))[0])


def test_setup_context_style_keyword_and_broadcast_gradient():
    (x, xt), (w, wt) = _pair((3, 4)), _pair((4,))
    y, yt = SCALED.apply(x, w, power=2), T_SCALED.apply(xt, wt, power=2)
    _close(y, yt)
    u = RNG.standard_normal((3, 4))
    y.backward(u)
    yt.backward(torch.tensor(u))
    _close(x.grad, xt.grad)
    _close(w.grad, wt.grad)


def test_non_differentiable_output_and_unmaterialized_grads():
    x, xt = _pair((6,))
    y, mask = MASKED.apply(x)
    yt, maskt = T_MASKED.apply(xt)
    assert not mask.requires_grad and not maskt.requires_grad
    assert mask.grad_fn is None
    u = RNG.standard_normal(6)
    y.backward(u)
    yt.backward(torch.tensor(u))
    _close(x.grad, xt.grad)
    assert y.grad_fn is not None and y.grad_fn.op.shared.ctx.gmask_was_none
    assert yt.grad_fn.gmask_was_none


def test_float32():
    a = RNG.standard_normal((3, 3)).astype(np.float32)
    x, xt = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    u = RNG.standard_normal((3, 3)).astype(np.float32)
    EXP.apply(x).backward(u)
    T_EXP.apply(xt).backward(torch.tensor(u))
    assert x.grad.dtype == np.float32
    _close(x.grad, xt.grad, tol=1e-6)


def test_gradcheck_and_gradgradcheck_of_a_user_function():
    x = Tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    y = Tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    assert tg.gradcheck(lambda a: EXP.apply(a), [x])
    assert tg.gradgradcheck(lambda a: EXP.apply(a), [x])
    assert tg.gradcheck(lambda a, b: TWO.apply(a, b), [x, y])
    assert tg.gradgradcheck(lambda a, b: TWO.apply(a, b), [x, y])


def test_gradcheck_catches_a_wrong_backward():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g  # should be 2 x g

    with pytest.raises(tg.GradcheckError):
        tg.gradcheck(Wrong.apply, [Tensor(RNG.standard_normal(3), requires_grad=True)])


# ---- the tape ---------------------------------------------------------------------------------

def test_forward_runs_without_grad_and_records_one_node():
    class Spy(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.enabled = tg.is_grad_enabled()
            return (x * 2).exp() + 1  # three ops inside, none recorded

        @staticmethod
        def backward(ctx, g):
            return g

    x = Tensor(RNG.standard_normal((3, 2)), requires_grad=True)
    y = Spy.apply(x)
    assert y.grad_fn.op.shared.ctx.enabled is False
    from tinygrad_norm.viz import graph
    src = graph(y).source
    assert src.count('class="op ') == 1 and "SpyBackward" in src


def test_graph_exporter_shows_the_call_as_one_node():
    from tinygrad_norm.viz import graph
    x = Tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    src = graph((EXP.apply(x) * 2).sum()).source
    assert "ExpBackward" in src
    assert src.count("op-ExpBackward") == 1


def test_no_input_requiring_grad_records_nothing():
    x = Tensor(RNG.standard_normal(3))
    y = EXP.apply(x)
    assert not y.requires_grad and y.grad_fn is None
    with tg.no_grad():
        y = EXP.apply(Tensor(RNG.standard_normal(3), requires_grad=True))
    assert y.grad_fn is None


def test_an_input_returned_as_is_is_a_new_tensor_on_the_node():
    class Ident(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = Tensor(RNG.standard_normal(3), requires_grad=True)
    y = Ident.apply(x)
    assert y is not x and y.grad_fn.name == "IdentBackward" and x.grad_fn is None
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full(3, 3.0))


def test_the_graph_is_freed_by_reference_counting():
    gc.disable()
    try:
        x = Tensor(RNG.standard_normal(3), requires_grad=True)
        a, b = TWO.apply(x, x * 1)
        ctx = weakref.ref(a.grad_fn.op.shared.ctx)
        del a, b
        assert ctx() is None
    finally:
        gc.enable()


def test_saved_tensors_are_freed_after_backward():
    x = Tensor(RNG.standard_normal(3), requires_grad=True)
    y = EXP.apply(x)
    ctx = y.grad_fn.op.shared.ctx
    y.sum().backward(retain_graph=True)
    assert len(ctx.saved_tensors) == 1
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        ctx.saved_tensors
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()


def test_tensor_written_in_place_after_save_is_refused():
    x = Tensor(RNG.standard_normal(3), requires_grad=True)
    h = x * 1

    class Keep(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * 2

        @staticmethod
        def backward(ctx, g):
            a, = ctx.saved_tensors
            return g * 2

    y = Keep.apply(h)
    with tg.no_grad():
        h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    # the saved output too
    y = EXP.apply(x)
    with tg.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


# ---- once_differentiable ----------------------------------------------------------------------

def make_twice(base, decorator):
    class Twice(base):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        @decorator
        def backward(ctx, g):
            return g * 2
    return Twice


def test_once_differentiable_first_order_and_refused_second_order():
    TW = make_twice(Function, once_differentiable)
    TTW = make_twice(torch.autograd.Function, torch.autograd.function.once_differentiable)
    x, xt = _pair((3,))
    u, ut = _pair((3,))  # an upstream gradient that itself requires grad
    g, = tg.grad(TW.apply(x), x, u, create_graph=True)
    gt, = torch.autograd.grad(TTW.apply(xt), xt, ut, create_graph=True)
    _close(g, gt)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()
    with pytest.raises(RuntimeError, match="once_differentiable"):
        gt.sum().backward()
    x, xt = _pair((3,))
    TW.apply(x).sum().backward()
    TTW.apply(xt).sum().backward()
    _close(x.grad, xt.grad)


# ---- errors, in torch's words -----------------------------------------------------------------

def _fn(forward, backward):
    return type("MyFn", (Function,), {"forward": staticmethod(forward),
                                      "backward": staticmethod(backward)})


def test_wrong_number_of_gradients():
    f = _fn(lambda ctx, x, k: x * k, lambda ctx, g: g)
    x = Tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    with pytest.raises(TypeError, match=r"function MyFnBackward returned an incorrect number of "
                                        r"gradients \(expected 2, got 1\)"):
        f.apply(x, 2.0).sum().backward()
    # extra trailing Nones are fine, as in torch
    f = _fn(lambda ctx, x: x * 2, lambda ctx, g: (g, None, None))
    f.apply(x).sum().backward()
    f = _fn(lambda ctx, x: x * 2, lambda ctx, g: (g, g))
    with pytest.raises(TypeError, match=r"expected 1, got 2"):
        f.apply(x).sum().backward()


def test_invalid_gradient_shape():
    f = _fn(lambda ctx, x: x * 2, lambda ctx, g: g.sum(axis=0))
    x = Tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=re_escape(
            "Function MyFnBackward returned an invalid gradient at index 0 - got [3] but "
            "expected shape compatible with [2, 3]")):
        f.apply(x).sum().backward()


def re_escape(s):
    import re
    return re.escape(s)


def test_gradient_for_a_non_tensor_input():
    f = _fn(lambda ctx, x, k: x * k, lambda ctx, g: (g, g))
    x = Tensor(RNG.standard_normal(3), requires_grad=True)
    with pytest.raises(TypeError, match="returned a gradient different than None at position 2, "
                                        "but the corresponding forward input was not a Variable"):
        f.apply(x, 2.0).sum().backward()


def test_ctx_misuse():
    x = Tensor(RNG.standard_normal(3), requires_grad=True)
    with pytest.raises(TypeError, match="save_for_backward can only save variables, but "
                                        "argument 0 is of type int"):
        _fn(lambda ctx, x: ctx.save_for_backward(1), lambda ctx, g: g).apply(x)
    with pytest.raises(NotImplementedError, match="mark_dirty"):
        _fn(lambda ctx, x: ctx.mark_dirty(x), lambda ctx, g: g).apply(x)
    with pytest.raises(TypeError, match="Legacy autograd function"):
        EXP()(x)
    with pytest.raises(NotImplementedError, match="forward"):
        type("NoForward", (Function,), {}).apply(x)
    with pytest.raises(NotImplementedError, match="backward"):
        _fn(lambda ctx, x: x * 2, Function.backward).apply(x).sum().backward()
    bad = _fn(lambda ctx, x: x * 2, lambda ctx, g: "oops")
    with pytest.raises(TypeError, match="returned a gradient of type str"):
        bad.apply(x).sum().backward()


# ---- the namespace ----------------------------------------------------------------------------

def test_torch_autograd_names():
    import importlib
    assert ag.grad is tg.grad
    assert importlib.import_module("tinygrad_norm.autograd.functional") is ag.functional
    from tinygrad_norm.autograd.function import FunctionCtx, once_differentiable as od  # noqa
    assert od is once_differentiable


def test_autograd_backward_several_roots():
    (x, xt), (y, yt) = _pair((2, 3)), _pair((2, 3))
    u, v = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
    a, b = TWO.apply(x, y)
    at, bt = T_TWO.apply(xt, yt)
    ag.backward([a, b], [Tensor(u), Tensor(v)])
    torch.autograd.backward([at, bt], [torch.tensor(u), torch.tensor(v)])
    _close(x.grad, xt.grad)
    _close(y.grad, yt.grad)
    s = (x * y).sum()
    ag.backward(s, inputs=[y])
    assert y.grad is not None
    with pytest.raises(ValueError, match="grad_tensors has 1 entries but tensors has 2"):
        ag.backward([a, b], [Tensor(u)])
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
        ag.backward(Tensor(u))


def test_two_outputs_draw_as_one_cluster_and_an_integer_output_is_not_differentiable():
    from tinygrad_norm.viz import graph

    class WithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x.sin(), (x > 0).astype(np.int64)

        @staticmethod
        def backward(ctx, ga, gb, gi):
            return ga * 2 + gb  # (not the true sin derivative: only the structure is checked)

    x = Tensor(RNG.standard_normal(4), requires_grad=True)
    a, b, idx = WithIndex.apply(x)
    assert a.requires_grad and b.requires_grad and not idx.requires_grad
    src = graph(a.sum() + b.sum(), collapse=True).source
    assert src.count("WithIndexBackward") == 0 and 'label="WithIndex\\n2 ops"' in src
    src = graph(a.sum() + b.sum()).source
    assert src.count('class="op op-WithIndexBackward"') == 2 and "cluster" in src
