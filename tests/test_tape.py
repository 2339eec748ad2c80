"""The tape: graph shapes (diamonds, reuse), accumulation, retain_graph, hooks, grad(), grad modes
and threads, higher-order gradients, deep chains, memory, dtypes and scopes."""
from __future__ import annotations

import gc
import threading
import tracemalloc
import weakref

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor


def leaf(a, dtype=np.float64):
    return Tensor(np.asarray(a, dtype=dtype), requires_grad=True)


def test_diamond_matches_torch(torch, rng):
    a = rng.standard_normal((3, 4))
    g = rng.standard_normal((3, 4))

    def f(x, exp):
        y = x * 2.0
        left, right = exp(y), y * y  # two paths from y, joined again below
        return left * right + y

    x = leaf(a)
    f(x, lambda v: v.exp()).backward(g)
    t = torch.tensor(a, requires_grad=True)
    f(t, torch.exp).backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_reused_tensors_and_fan_out_match_torch(torch, rng):
    a, w = rng.standard_normal((2, 3)), rng.standard_normal((3, 3))

    def f(x, W):
        h = x @ W
        h2 = h * h + h  # h used three times
        return (h2 @ W) * x + x * x * x  # W and x reused across layers

    xs = [leaf(a), leaf(w)]
    ts = [torch.tensor(v, requires_grad=True) for v in (a, w)]
    g = rng.standard_normal((2, 3))
    f(*xs).backward(g)
    f(*ts).backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_a_0d_tensor_used_twice_gets_the_sum_of_both_gradients():
    # two 0-d gradients add to a NumPy scalar, which the tape once took for an array of its own
    # and handed to an in-place VJP (TypeError: return arrays must be of ArrayType)
    a = Tensor(np.array(3.0), requires_grad=True)
    y = a * 2.0
    (y * 2.0 + y * 3.0).backward()
    assert a.grad.item() == 10.0
    b = Tensor(np.array(3.0), requires_grad=True)
    z = tg.addcmul(1.0, b, 2.0)
    (z * 2.0 + z * 3.0).backward()
    assert b.grad.item() == 10.0


def test_same_tensor_as_both_operands():
    x = leaf([1.0, -2.0, 3.0])
    (x * x + x - x / x).backward(np.ones(3))
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() + 1)


def test_gradient_accumulates_across_backward_calls_and_resets(rng):
    x = leaf(rng.standard_normal(4))
    g = rng.standard_normal(4)
    (x.tanh() * 3).backward(g)
    first = x.grad.numpy().copy()
    (x.tanh() * 3).backward(g)
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-15)
    x.grad = None
    (x * 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(4))
    x.zero_grad()
    assert x.grad is None


def test_grad_is_a_tensor_of_the_leaf_shape_and_not_an_alias(rng):
    a = rng.standard_normal((2, 3))
    x = leaf(a)
    g = rng.standard_normal((2, 3))
    y = x + 0.0  # add passes its gradient straight through
    y.backward(g)
    assert isinstance(x.grad, Tensor) and x.grad.shape == (2, 3) and not x.grad.requires_grad
    x.grad.numpy()[...] = 7.0  # the caller's array must not change
    np.testing.assert_array_equal(g, g.copy())
    b = leaf([1.0, 2.0])
    c = leaf([3.0, 4.0])
    (b + c).backward(np.ones(2))
    b.grad.numpy()[0] = 100.0  # two leaves fed by one add do not share one array
    assert c.grad.numpy()[0] == 1.0


def test_broadcast_leaf_gradient_is_summed_to_its_shape(torch, rng):
    a, b = rng.standard_normal((3, 1)), rng.standard_normal((4,))
    x, y = leaf(a), leaf(b)
    out = x * y + y
    g = rng.standard_normal(out.shape)
    out.backward(g)
    tx, ty = (torch.tensor(v, requires_grad=True) for v in (a, b))
    (tx * ty + ty).backward(torch.tensor(g))
    assert x.grad.shape == (3, 1) and y.grad.shape == (4,)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-12)


def test_non_leaf_grad_stays_none_and_constants_get_nothing():
    x = leaf([1.0, 2.0])
    c = Tensor([3.0, 4.0])
    h = x * c
    h.sum().backward()
    assert h.grad is None and c.grad is None and x.grad is not None


def test_detach_stops_the_gradient():
    x = leaf([1.0, 2.0])
    d = x.detach()
    assert not d.requires_grad and d.is_leaf and np.shares_memory(d.numpy(), x.numpy())
    (x * d).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0])


# ---- retain_graph ------------------------------------------------------------------------------

def test_second_backward_through_freed_graph_says_retain_graph():
    x = leaf([1.0, 2.0])
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_grad_frees_the_graph_unless_retained():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    tg.grad(y, x, retain_graph=True)
    tg.grad(y, x)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_a_freed_subgraph_is_reported_from_another_root():
    x = leaf([1.0, 2.0])
    h = x.exp()
    h.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        (h * 2).sum().backward()


def test_backward_releases_saved_intermediates():
    x = leaf(np.ones(5))
    h = x * 2.0
    ref = weakref.ref(h)
    y = h.exp()
    del h
    assert ref() is not None  # held by the graph of y
    y.backward(np.ones(5))
    gc.collect()
    assert ref() is None  # backward released it even though y is still alive


# ---- errors of backward ------------------------------------------------------------------------

def test_backward_on_non_scalar_needs_a_gradient():
    y = leaf(np.ones((2, 3))) * 2
    with pytest.raises(RuntimeError, match=r"\(2, 3\)"):
        y.backward()


def test_backward_on_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).sum().backward()
    with tg.no_grad():
        y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_backward_gradient_of_the_wrong_shape():
    y = leaf(np.ones((2, 3))) * 2
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)"):
        y.backward(np.ones((3, 2)))


def test_backward_of_a_one_element_tensor_needs_no_gradient():
    x = leaf([[2.0]])
    (x * x).backward()
    assert x.grad.numpy().tolist() == [[4.0]]


def test_backward_on_a_leaf():
    x = leaf([1.0, 2.0])
    x.backward(np.array([3.0, 4.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


# ---- hooks ----------------------------------------------------------------------------------------

def test_hook_on_a_leaf_sees_the_total_gradient_once():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    (x * 3 + x * x).backward(np.ones(2))
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [5.0, 7.0])


def test_hook_on_an_intermediate_and_its_replacement_flows_on():
    x = leaf([1.0, 2.0])
    h = x * 3
    seen = []

    def hook(g):
        seen.append(g.numpy().copy())
        return g * 10

    h.register_hook(hook)
    (h * h).backward(np.ones(2))
    np.testing.assert_array_equal(seen[0], 2 * h.numpy())
    np.testing.assert_array_equal(x.grad.numpy(), 2 * h.numpy() * 10 * 3)


def test_hook_returning_an_array_replaces_the_gradient():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: np.zeros(2))
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_hook_on_an_intermediate_deleted_before_backward_still_runs():
    x = leaf([1.0, 2.0])
    h = x.exp()
    calls = []
    h.register_hook(lambda g: calls.append(g.numpy().copy()) or g * 0.5)
    y = (h * 2).sum()
    del h
    gc.collect()
    y.backward()
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0], [2.0, 2.0])
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]))


def test_hook_handle_remove_and_several_hooks_in_order():
    x = leaf([1.0])
    order = []
    x.register_hook(lambda g: order.append("a") or g + 1)
    handle = x.register_hook(lambda g: order.append("b"))
    x.register_hook(lambda g: order.append("c") or g * 2)
    (x * 1).sum().backward()
    assert order == ["a", "b", "c"] and x.grad.item() == 4.0
    handle.remove()
    handle.remove()  # idempotent
    order.clear()
    x.grad = None
    (x * 1).sum().backward()
    assert order == ["a", "c"]


def test_hooks_also_run_in_grad_and_under_create_graph():
    x = leaf([1.0, 2.0])
    h = x * x
    seen = []
    h.register_hook(lambda g: seen.append(g))
    gx, = tg.grad(h.sum(), x, create_graph=True)
    assert len(seen) == 1 and isinstance(seen[0], Tensor)
    np.testing.assert_array_equal(gx.numpy(), [2.0, 4.0])


def test_hook_returning_an_array_under_create_graph():
    x = leaf([1.0, 2.0])
    h = x.sum()  # the recorded VJP of sum calls a Tensor method on the hook's result
    h.register_hook(lambda g: np.array(2.0))
    g, = tg.grad(h * h, x, create_graph=True)
    np.testing.assert_array_equal(g.numpy(), [2.0, 2.0])


def test_grad_runs_the_hooks_of_the_requested_leaves_only():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    calls = []
    x.register_hook(lambda g: calls.append("x"))
    w.register_hook(lambda g: calls.append("w"))
    tg.grad((x * w).sum(), x)
    assert calls == ["x"]


def test_hook_that_changes_the_shape_is_reported():
    x = leaf([1.0, 2.0])
    h = x * 2
    h.register_hook(lambda g: np.ones(3))
    with pytest.raises(RuntimeError, match=r"shape.*\(2,\).*\(3,\)"):
        (h * h).sum().backward()


def test_hook_needs_requires_grad():
    with pytest.raises(RuntimeError, match="require"):
        Tensor([1.0]).register_hook(lambda g: g)


# ---- tg.grad ---------------------------------------------------------------------------------------

def test_grad_returns_a_tuple_and_leaves_dot_grad_alone(torch, rng):
    a, b = rng.standard_normal(3), rng.standard_normal(3)
    x, y = leaf(a), leaf(b)
    out = x * y.exp()
    g = rng.standard_normal(3)
    gx, gy = tg.grad(out, [x, y], grad_outputs=g)
    assert x.grad is None and y.grad is None
    tx, ty = (torch.tensor(v, requires_grad=True) for v in (a, b))
    rx, ry = torch.autograd.grad(tx * ty.exp(), [tx, ty], torch.tensor(g))
    np.testing.assert_allclose(gx.numpy(), rx.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gy.numpy(), ry.numpy(), rtol=1e-12)
    single = tg.grad((x * x).sum(), x)
    assert isinstance(single, tuple) and len(single) == 1


def test_grad_of_several_outputs_and_with_respect_to_an_intermediate(rng):
    x = leaf(rng.standard_normal(3))
    h = x.tanh()
    o1, o2 = h * 2, (h * h).sum()
    g1 = rng.standard_normal(3)
    gh, gx = tg.grad([o1, o2], [h, x], grad_outputs=[g1, None])
    np.testing.assert_allclose(gh.numpy(), 2 * g1 + 2 * h.numpy(), rtol=1e-14)
    np.testing.assert_allclose(gx.numpy(), gh.numpy() * (1 - h.numpy() ** 2), rtol=1e-14)


def test_grad_with_respect_to_the_same_tensor_twice():
    x = leaf([1.0, 2.0])
    h = x * 2
    for wrt in ([x, x], [h, x, h]):
        gs = tg.grad((h * h).sum(), wrt, retain_graph=True)
        for w, g in zip(wrt, gs):
            np.testing.assert_array_equal(g.numpy(), [8.0, 16.0] if w is x else [4.0, 8.0])


def test_grad_unused_inputs():
    x, z = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match="allow_unused"):
        tg.grad((x * 2).sum(), [x, z])
    gx, gz = tg.grad((x * 2).sum(), [x, z], allow_unused=True)
    assert gx.item() == 2.0 and gz is None


def test_grad_argument_errors():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.grad((x * 2).sum(), Tensor([1.0]))
    with pytest.raises(RuntimeError):
        tg.grad(Tensor([1.0]).sum(), x)
    with pytest.raises(ValueError, match="grad_outputs"):
        tg.grad([x * 2, x * 3], x, grad_outputs=[np.ones(2)])
    with pytest.raises(RuntimeError, match=r"\(2,\)"):
        tg.grad(x * 2, x)
    with pytest.raises(TypeError):
        tg.grad((x * 2).sum(), [np.ones(2)])


def test_grad_with_respect_to_a_leaf_that_is_also_the_output():
    x = leaf([1.0, 2.0])
    g, = tg.grad(x, x, grad_outputs=np.array([3.0, 4.0]))
    np.testing.assert_array_equal(g.numpy(), [3.0, 4.0])


# ---- higher order -----------------------------------------------------------------------------------

def test_second_and_third_derivative_of_a_cube():
    x = leaf([1.0, -2.0, 3.0])
    d1, = tg.grad((x ** 3).sum(), x, create_graph=True)
    d2, = tg.grad(d1.sum(), x, create_graph=True)
    d3, = tg.grad(d2.sum(), x)
    np.testing.assert_allclose(d1.numpy(), 3 * x.numpy() ** 2)
    np.testing.assert_allclose(d2.numpy(), 6 * x.numpy())
    np.testing.assert_allclose(d3.numpy(), [6.0, 6.0, 6.0])
    assert d1.requires_grad and not d3.requires_grad


def test_backward_with_create_graph_gives_a_differentiable_grad():
    x = leaf([0.5, -1.0])
    (x.tanh() * x).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    x.grad = None
    g.sum().backward()
    t = np.tanh(x.numpy())
    # d/dx [tanh(x) + x (1 - tanh^2 x)] = 2 (1 - t^2) - 2 x t (1 - t^2)
    np.testing.assert_allclose(x.grad.numpy(), 2 * (1 - t * t) - 2 * x.numpy() * t * (1 - t * t),
                               rtol=1e-12)


def test_hessian_vector_product_of_a_small_network_matches_torch(torch, rng):
    a, w1, w2 = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal((5, 2))
    v1, v2 = rng.standard_normal((3, 5)), rng.standard_normal((5, 2))
    target = rng.standard_normal((4, 2))

    def loss(x, W1, W2, lib):
        h = (x @ W1).tanh() if lib == "tg" else torch.tanh(x @ W1)
        out = h @ W2
        sm = out.log_softmax(axis=1) if lib == "tg" else torch.log_softmax(out, dim=1)
        y = target if lib == "tg" else torch.tensor(target)
        return -(sm * y).mean() + ((out - y) ** 2).mean()

    ws = [leaf(w1), leaf(w2)]
    gs = tg.grad(loss(Tensor(a), *ws, "tg"), ws, create_graph=True)
    dot = (gs[0] * v1).sum() + (gs[1] * v2).sum()
    hv = tg.grad(dot, ws)

    ts = [torch.tensor(w, requires_grad=True) for w in (w1, w2)]
    tgs = torch.autograd.grad(loss(torch.tensor(a), *ts, "torch"), ts, create_graph=True)
    tdot = (tgs[0] * torch.tensor(v1)).sum() + (tgs[1] * torch.tensor(v2)).sum()
    thv = torch.autograd.grad(tdot, ts)
    for mine, theirs in zip(gs, tgs):
        np.testing.assert_allclose(mine.numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-14)
    for mine, theirs in zip(hv, thv):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-14)


def test_gradient_norm_penalty_matches_torch(torch, rng):
    a, w = rng.standard_normal((5, 3)), rng.standard_normal((3, 3))

    def run(x, W, lib):
        y = (x @ W).sigmoid() if lib == "tg" else torch.sigmoid(x @ W)
        return (y * y).sum()

    x, W = leaf(a), leaf(w)
    gx, = tg.grad(run(x, W, "tg"), x, create_graph=True)
    ((gx * gx).sum() + run(x, W, "tg")).backward()
    tx, tW = (torch.tensor(v, requires_grad=True) for v in (a, w))
    tgx, = torch.autograd.grad(run(tx, tW, "torch"), tx, create_graph=True)
    ((tgx * tgx).sum() + run(tx, tW, "torch")).backward()
    np.testing.assert_allclose(W.grad.numpy(), tW.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10)


# ---- grad modes and threads -------------------------------------------------------------------------

def test_no_grad_and_enable_grad_as_context_managers():
    x = leaf([1.0])
    assert tg.is_grad_enabled()
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        y = x * 2
        with tg.enable_grad():
            z = x * 2
        w = x * 2
    assert tg.is_grad_enabled()
    assert not y.requires_grad and z.requires_grad and not w.requires_grad
    assert y.grad_fn is None and z.grad_fn is not None


def test_grad_modes_as_decorators_and_restore_on_exceptions():
    x = leaf([1.0])

    @tg.no_grad()
    def f(v):
        return v * 2

    @tg.enable_grad()
    def g(v):
        return v * 2

    @tg.no_grad  # the bare form, as torch allows
    def bare(v):
        return v * 2

    assert not f(x).requires_grad and not bare(x).requires_grad and bare.__name__ == "bare"
    with tg.no_grad():
        assert g(x).requires_grad
    with pytest.raises(ZeroDivisionError):
        with tg.no_grad():
            1 / 0
    assert tg.is_grad_enabled()
    assert f.__name__ == "f"


@pytest.mark.parametrize("method,op", [
    ("__neg__", "neg"), ("exp", "exp"), ("log", "log"), ("sqrt", "sqrt"), ("rsqrt", "rsqrt"),
    ("abs", "abs"), ("sign", "sign"), ("relu", "relu"), ("sigmoid", "sigmoid"), ("tanh", "tanh")])
def test_one_input_ops_record_only_in_grad_mode_and_for_inputs_that_want_a_gradient(method, op):
    # these take the hand-written _unary path, not apply(): same recording rules
    x = leaf([0.5, 2.0], np.float32)
    y = getattr(x, method)()
    assert y.requires_grad and y.grad_fn.op.name == op and y.grad_fn.inputs[0] is x
    assert y.dtype == np.float32 and type(y.data) is np.ndarray
    constant = Tensor(np.array([0.5, 2.0], np.float32))
    assert not getattr(constant, method)().requires_grad
    with tg.no_grad():
        z = getattr(x, method)()
        with tg.enable_grad():
            assert getattr(x, method)().requires_grad
    assert not z.requires_grad and z.grad_fn is None
    np.testing.assert_array_equal(z.data, y.data)


def test_backward_restores_the_grad_mode_when_a_hook_raises():
    def boom(g):
        raise ZeroDivisionError("hook")

    for outer in (tg.enable_grad, tg.no_grad):
        x = leaf([1.0])
        y = x * 2.0
        y.register_hook(boom)
        loss = (y * 3.0).sum()
        with outer():
            expected = tg.is_grad_enabled()
            with pytest.raises(ZeroDivisionError):
                loss.backward()
            assert tg.is_grad_enabled() == expected

def test_no_grad_is_thread_local():
    x = leaf([1.0])
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with tg.no_grad():
            inside.set()
            release.wait(10)
            seen["worker"] = (x * 2).requires_grad

    t = threading.Thread(target=worker)
    t.start()
    assert inside.wait(10)
    seen["main"] = (x * 2).requires_grad  # the worker's no_grad must not leak here
    release.set()
    t.join()
    assert seen == {"worker": False, "main": True}

    def fresh():
        seen["fresh"] = tg.is_grad_enabled() and (x * 2).requires_grad

    with tg.no_grad():  # a new thread starts with grad enabled, whatever the spawner does
        t = threading.Thread(target=fresh)
        t.start()
        t.join()
    assert seen["fresh"] is True


def test_concurrent_backward_in_threads(rng):
    a = rng.standard_normal((8, 8))
    results, errors = {}, []

    def work(i):
        try:
            x = leaf(a * (i + 1))
            y = x
            for _ in range(200):
                y = (y * 0.5).tanh() + x
            y.backward(np.ones((8, 8)))
            results[i] = x.grad.numpy()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i in range(4):  # same result as the single-threaded run
        x = leaf(a * (i + 1))
        y = x
        for _ in range(200):
            y = (y * 0.5).tanh() + x
        y.backward(np.ones((8, 8)))
        np.testing.assert_array_equal(results[i], x.grad.numpy())


def test_graph_built_across_threads():
    """Part of a graph recorded in a worker thread, the rest in the main thread: the tape order
    must still follow the data dependencies."""
    x = leaf([1.0, 2.0])
    u = x * 3.0
    box = {}

    def worker():
        h = u
        for _ in range(5):
            h = h * 2.0
        box["h"] = h

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    w = box["h"] * u  # = 32 u^2 = 288 x^2
    w.backward(np.ones(2))
    np.testing.assert_allclose(x.grad.numpy(), 576 * x.numpy())


# ---- scale: deep chains and memory ------------------------------------------------------------------

def test_chain_of_200000_ops_backpropagates_without_recursion():
    x = leaf(0.5)
    y = x
    for _ in range(200_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0
    del y  # freeing a deep graph must not overflow the C stack either


def test_deep_graph_without_backward_is_freed():
    x = leaf(np.ones(2))
    y = x
    for _ in range(200_000):
        y = y + 1.0
    ref = weakref.ref(y)
    del y
    assert ref() is None


def test_memory_stays_flat_over_forward_passes_without_backward(rng):
    """A loop of forward passes with requires_grad inputs, no backward() and no no_grad(): every
    graph is freed when its output is dropped, so memory does not grow."""
    w = leaf(rng.standard_normal((8, 8)))
    b = leaf(rng.standard_normal(8))
    x = Tensor(rng.standard_normal((4, 8)))

    def step():
        h = (x @ w + b).tanh()
        return ((h * h).mean(axis=1) - h.var(axis=1)).sum()

    for _ in range(200):  # warm caches and free lists
        step()
    gc.collect()
    tracemalloc.start()
    try:
        step()
        base, _ = tracemalloc.get_traced_memory()
        for _ in range(10_000):
            loss = step()
        del loss
        gc.collect()
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert current - base < 64 * 1024, f"grew by {current - base} bytes over 10000 forward passes"


def test_memory_stays_flat_over_training_steps(rng):
    w = leaf(rng.standard_normal((8, 8)))
    x = Tensor(rng.standard_normal((4, 8)))
    for _ in range(100):
        (x @ w).tanh().sum().backward()
    gc.collect()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        for _ in range(2_000):
            (x @ w).tanh().sum().backward()
            w.grad = None
        gc.collect()
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert current - base < 64 * 1024, f"grew by {current - base} bytes"


# ---- dtypes: float32 stays float32 --------------------------------------------------------------------

def test_float32_in_float32_gradients_out(rng):
    x = leaf(rng.standard_normal((3, 4)), np.float32)
    w = leaf(rng.standard_normal((4, 2)), np.float32)
    seen = []
    h = x * np.float64(1.5) + np.float64(0.25)  # NumPy 2 would promote these to float64
    h = h / np.float64(3.0) - np.int64(2) + 2 ** np.float64(0.5)
    h.register_hook(lambda g: seen.append(g.dtype))
    z = (h @ w).tanh().softmax(axis=1) * np.float64(2.0)
    z = z.log_softmax(axis=0) + z.var(axis=0) + z.std(axis=1, keepdims=True) + z.mean()
    z = z + z.logsumexp(axis=1, keepdims=True) + z.max(axis=0) + (z ** np.float64(2.0)).sqrt()
    assert z.dtype == np.float32
    z.backward(rng.standard_normal(z.shape))  # a float64 upstream gradient, too
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32
    assert seen == [np.float32]
    gx, = tg.grad((x.exp() * np.float64(2)).mean(), x, create_graph=True)
    assert gx.dtype == np.float32
    ggx, = tg.grad(gx.sum(), x)
    assert ggx.dtype == np.float32


def test_gradient_has_the_dtype_of_its_tensor_even_through_float64_ops():
    x = leaf([1.0, 2.0], np.float32)
    c = np.array([2.0, 3.0])  # a float64 array: the product is float64 (NumPy's rule)
    for create_graph in (False, True):
        g, = tg.grad((x * c).sum(), x, create_graph=create_graph)
        assert g.dtype == np.float32 and g.numpy().tolist() == [2.0, 3.0]
        x.grad = None
        (x * c).sum().backward(create_graph=create_graph)
        assert x.grad.dtype == np.float32
    h, = tg.grad(((x * c) ** 2).sum(), x, create_graph=True)
    hh, = tg.grad(h.sum(), x)
    assert hh.dtype == np.float32 and hh.numpy().tolist() == [8.0, 18.0]


def test_float64_numpy_scalar_operands_keep_float32(rng):
    x = leaf(rng.standard_normal(3), np.float32)
    for y in [x + np.float64(1), np.float64(1) - x, x * np.float32(2), np.float64(2) / x,
              x ** np.float64(2), np.float64(2) ** x, tg.maximum(x, np.float64(0)),
              tg.where(x > 0, x, np.float64(0)), x.clip(np.float64(-1), np.float64(1))]:
        assert y.dtype == np.float32


# ---- scopes -----------------------------------------------------------------------------------

def test_scopes_name_the_nodes_recorded_inside():
    x = leaf([1.0, 2.0])
    with tg.scope("outer", k=1):
        a = x * 2
        with tg.scope("inner"):
            b = a.exp()
    c = b + 1
    assert a.grad_fn.scope.name == "outer" and a.grad_fn.scope.args == {"k": 1}
    assert b.grad_fn.scope.name == "inner" and b.grad_fn.scope.parent is a.grad_fn.scope
    assert c.grad_fn.scope is None
    with tg.no_grad():
        with tg.scope("free") as s:
            assert s is None  # scopes cost nothing when nothing records


# ---- random programs: the tape against torch on arbitrary DAGs ---------------------------------------

try:  # a dev dependency: without it only this fuzz is left out, not the module
    from hypothesis import given, strategies as st
except ImportError:  # pragma: no cover
    given = None

if given is not None:

    # Each op maps values of shape (2, 3) to shape (2, 3), so any earlier value can feed any op and the
    # programs become DAGs with fan-out, fan-in, reuse of one value on both sides, and broadcasting.
    _PROGRAM_OPS = {
        "add": (2, lambda a, b, T: a + b),
        "sub": (2, lambda a, b, T: a - b),
        "mul": (2, lambda a, b, T: a * b),
        "div": (2, lambda a, b, T: a / (b * b + 1.0)),
        "bcast_row": (2, lambda a, b, T: a * b[0]),            # (3,) broadcast over rows
        "bcast_col": (2, lambda a, b, T: a + b[:, 1:2]),        # (2, 1) broadcast over columns
        "matmul": (2, lambda a, b, T: (a @ T.mT(b)) @ a * 0.3),
        "maximum": (2, lambda a, b, T: T.maximum(a, b)),
        "where": (2, lambda a, b, T: T.where(a > b, a * 2.0, b)),
        "tanh": (1, lambda a, T: a.tanh()),
        "sigmoid": (1, lambda a, T: a.sigmoid()),
        "exp": (1, lambda a, T: (a * 0.3).exp()),
        "relu": (1, lambda a, T: a.relu()),
        "square": (1, lambda a, T: a * a),
        "sum_back": (1, lambda a, T: a - a.sum(axis=1, keepdims=True) * 0.2),
        "mean_bc": (1, lambda a, T: a * a.mean(axis=0)),
        "softmax": (1, lambda a, T: T.softmax(a)),
        "transpose": (1, lambda a, T: T.mT(T.mT(a) * 1.5)),
        "reshape": (1, lambda a, T: (a.reshape(3, 2) * 2.0).reshape(2, 3)),
        "gather": (1, lambda a, T: T.cat([a[:, [2, 0, 2]][:, :2], a[:, :1] * 3.0])),
        "pow": (1, lambda a, T: (a * a + 0.5) ** 1.5),
    }


    class _TG:
        mT = staticmethod(lambda t: t.mT)
        maximum = staticmethod(tg.maximum)
        where = staticmethod(tg.where)
        softmax = staticmethod(lambda t: t.softmax(axis=1))
        cat = staticmethod(lambda ts: tg.concatenate(ts, axis=1))


    def _torch_ns(torch):
        class _T:
            mT = staticmethod(lambda t: t.mT)
            maximum = staticmethod(torch.maximum)
            where = staticmethod(torch.where)
            softmax = staticmethod(lambda t: t.softmax(dim=1))
            cat = staticmethod(lambda ts: torch.cat(ts, dim=1))
        return _T


    @st.composite
    def programs(draw):
        n_inputs = draw(st.integers(1, 3))
        steps = []
        for k in range(draw(st.integers(1, 12))):
            name = draw(st.sampled_from(sorted(_PROGRAM_OPS)))
            arity = _PROGRAM_OPS[name][0]
            args = [draw(st.integers(0, n_inputs + k - 1)) for _ in range(arity)]
            steps.append((name, args))
        outputs = draw(st.lists(st.integers(0, n_inputs + len(steps) - 1), min_size=1, max_size=3,
                                unique=True))
        return n_inputs, steps, outputs


    def _run_program(program, inputs, ns):
        n_inputs, steps, outputs = program
        vals = list(inputs)
        for name, args in steps:
            vals.append(_PROGRAM_OPS[name][1](*[vals[i] for i in args], ns))
        return vals, [vals[i] for i in outputs]


    @given(program=programs(), seed=st.integers(0, 2**32 - 1), create_graph=st.booleans())
    def test_random_programs_match_torch(torch, program, seed, create_graph):
        rng = np.random.default_rng(seed)
        arrays = [rng.standard_normal((2, 3)) for _ in range(program[0])]
        xs = [leaf(a) for a in arrays]
        ts = [torch.tensor(a, requires_grad=True) for a in arrays]
        vals, outs = _run_program(program, xs, _TG)
        tvals, touts = _run_program(program, ts, _torch_ns(torch))
        gs = [rng.standard_normal(o.shape) for o in outs]
        if not any(o.requires_grad for o in outs):
            return  # every output is an input that reached no op: nothing to differentiate
        outs_rg = [(o, g, t) for o, g, t in zip(outs, gs, touts) if o.requires_grad]
        mine = tg.grad([o for o, _, _ in outs_rg], xs, grad_outputs=[g for _, g, _ in outs_rg],
                       allow_unused=True, create_graph=create_graph)
        theirs = torch.autograd.grad([t for _, _, t in outs_rg], ts,
                                     [torch.tensor(g) for _, g, _ in outs_rg], allow_unused=True,
                                     create_graph=create_graph)
        for m, t in zip(mine, theirs):
            assert (m is None) == (t is None)
            if m is not None:
                np.testing.assert_allclose(m.numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)
        if create_graph:  # and a Hessian-vector product through the recorded backward
            pairs = [(m, t) for m, t in zip(mine, theirs) if m is not None and m.requires_grad]
            if not pairs:
                return
            vs = [rng.standard_normal(m.shape) for m, _ in pairs]
            hv = tg.grad([m for m, _ in pairs], xs, grad_outputs=vs, allow_unused=True)
            thv = torch.autograd.grad([t for _, t in pairs], ts, [torch.tensor(v) for v in vs],
                                      allow_unused=True)
            for m, t in zip(hv, thv):
                # "unused" and "all zero" are the same Hessian row; libraries may differ on which
                m = np.zeros((2, 3)) if m is None else m.numpy()
                t = np.zeros((2, 3)) if t is None else t.numpy()
                np.testing.assert_allclose(m, t, rtol=1e-9, atol=1e-12)

        # the same program through backward(): .grad of the leaves equals grad()'s answer
        xs2 = [leaf(a) for a in arrays]
        _, outs2 = _run_program(program, xs2, _TG)
        total = None
        for o, g in zip(outs2, gs):
            if o.requires_grad:
                term = (o * g).sum()
                total = term if total is None else total + term
        total.backward()
        for x2, m in zip(xs2, mine):
            if m is None:
                assert x2.grad is None
            else:
                np.testing.assert_allclose(x2.grad.numpy(), m.numpy(), rtol=1e-10, atol=1e-12)


# ---- VJPs that write into their incoming gradient ------------------------------------------------
# A full-size gradient that only the tape holds may be overwritten by the VJP that consumes it
# (x * scale, a norm's xc * r). Each case below makes that gradient visible elsewhere -- a second
# consumer, a hook, a requested intermediate, a retained graph -- and checks nothing leaks.

_BIGSHAPE = (64, 128)  # above the size at which the tape tracks ownership


def _masked_scale(x, xp_where):
    mask = np.arange(x.shape[1]) % 3 != 0
    kept = x * 2.5
    return xp_where(mask, kept, 0.0), kept


def test_in_place_vjp_on_a_fanned_out_gradient_matches_torch(torch, rng):
    a, w = rng.standard_normal(_BIGSHAPE), rng.standard_normal(_BIGSHAPE)

    def f(x, where, W):
        y, kept = _masked_scale(x, where)
        z = y + y * 3.0              # y's gradient is a sum of two routes, then scaled in place
        return (z * W).sum() + (kept * kept).sum()

    x = leaf(a)
    f(x, tg.where, Tensor(w)).backward()
    t = torch.tensor(a, requires_grad=True)
    f(t, lambda m, v, z: torch.where(torch.tensor(m), v, torch.tensor(z, dtype=v.dtype)),
      torch.tensor(w)).backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_in_place_vjp_leaves_a_hooked_gradient_alone(rng):
    a, w = rng.standard_normal(_BIGSHAPE), rng.standard_normal(_BIGSHAPE)
    x = leaf(a)
    y, _ = _masked_scale(x, tg.where)
    z = y * 4.0                      # its gradient, w, is a fresh array from the product below
    kept = []
    z.register_hook(lambda g: kept.append(g) or None)  # holds on to the Tensor it was given
    (z * Tensor(w)).sum().backward()
    np.testing.assert_array_equal(kept[0].numpy(), w)
    mask = np.arange(_BIGSHAPE[1]) % 3 != 0
    np.testing.assert_allclose(x.grad.numpy(), np.where(mask, w * 10.0, 0.0), rtol=1e-12)


def test_in_place_vjp_leaves_a_requested_intermediate_gradient_alone(rng):
    x = leaf(rng.standard_normal(_BIGSHAPE))
    y, _ = _masked_scale(x, tg.where)
    z = y * 4.0
    w = (z * z).sum()
    gz, gx = tg.grad(w, [z, x])
    np.testing.assert_allclose(gz.numpy(), 2 * z.numpy(), rtol=1e-12)
    mask = np.arange(_BIGSHAPE[1]) % 3 != 0
    np.testing.assert_allclose(gx.numpy(), np.where(mask, 2 * z.numpy() * 4.0 * 2.5, 0.0),
                               rtol=1e-12)


def test_in_place_vjp_with_a_retained_graph_gives_the_same_gradient_twice(rng):
    x = leaf(rng.standard_normal(_BIGSHAPE))
    w = Tensor(rng.standard_normal(_BIGSHAPE))
    y, _ = _masked_scale(x, tg.where)
    loss = ((y * 3.0) * w).sum()
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    x.grad = None
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), first)


def test_in_place_vjp_of_a_norm_scale_matches_torch(torch, rng):
    a = rng.standard_normal((256, 32))
    up = rng.standard_normal((256, 32))
    x, wt, bs = leaf(a), leaf(rng.standard_normal(32)), leaf(rng.standard_normal(32))
    from tinygrad_norm.functional import batch_norm
    y = batch_norm(x, None, None, wt, bs, training=True)
    ((y.relu() * 1.5) * Tensor(up)).sum().backward()  # relu's VJP hands the norm an owned gradient
    tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (a, wt.numpy(), bs.numpy()))
    ty = torch.nn.functional.batch_norm(tx, None, None, tw, tb, training=True)
    ((ty.relu() * 1.5) * torch.tensor(up)).sum().backward()
    for mine, theirs in ((x, tx), (wt, tw), (bs, tb)):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("inner", ["scale", "relu", "dropout"])
def test_a_same_size_bias_of_another_shape_keeps_its_gradient_under_in_place_vjps(torch, rng,
                                                                                inner):
    """``h + b`` with h (1, C) and b (C,) hands both the same gradient; b's share is a reshaped
    view of it, so the in-place VJP on h's side (a scale, relu's select, dropout's) must not
    write into it. b.grad came out 3x (scale) or masked (relu) before."""
    a = rng.standard_normal((1, 4096))
    up = rng.standard_normal((1, 4096))
    h, b = leaf(a), leaf(np.zeros(4096))
    th, tb = torch.tensor(a, requires_grad=True), torch.zeros(4096, dtype=torch.float64,
                                                               requires_grad=True)
    if inner == "scale":
        y, ty = h * 3.0 + b, th * 3.0 + tb
    elif inner == "relu":
        y, ty = h.relu() + b, th.relu() + tb
    else:
        tg.manual_seed(0)
        from tinygrad_norm.functional import dropout
        y = dropout(h, 0.5) + b
        keep = (y - b).numpy() != 0
        ty = th * torch.tensor(keep * 2.0) + tb
    (y * Tensor(up)).sum().backward()
    (ty * torch.tensor(up)).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(h.grad.numpy(), th.grad.numpy(), rtol=1e-12)


def test_batch_norm_eval_on_one_sample_gets_torchs_bias_gradient(torch, rng):
    from tinygrad_norm.functional import batch_norm
    a, up = rng.standard_normal((1, 4096)), rng.standard_normal((1, 4096))
    rm, rv = rng.standard_normal(4096), rng.random(4096) + 0.5
    w, bias = rng.standard_normal(4096), rng.standard_normal(4096)
    x, wt, bt = leaf(a), leaf(w), leaf(bias)
    y = batch_norm(x, Tensor(rm), Tensor(rv), wt, bt, training=False)
    (y * Tensor(up)).sum().backward()
    tx, tw, tbias = (torch.tensor(v, requires_grad=True) for v in (a, w, bias))
    ty = torch.nn.functional.batch_norm(tx, torch.tensor(rm), torch.tensor(rv), tw, tbias,
                                        training=False)
    (ty * torch.tensor(up)).sum().backward()
    for mine, theirs in ((x, tx), (wt, tw), (bt, tbias)):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-10,
                                   atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_vjp_in_place_is_the_plain_select_and_zeroes_inf_and_nan(rng, dtype):
    a = rng.standard_normal(_BIGSHAPE).astype(dtype)
    a[0, :8] = [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 2.0]
    up = rng.standard_normal(_BIGSHAPE).astype(dtype)
    up[0, :8] = [np.inf, np.nan, np.inf, -np.inf, 1.0, np.nan, np.inf, np.nan]
    x = leaf(a, dtype)
    # * 1.5 hands relu a gradient the tape owns (its in-place path); the reference below is
    # relu's VJP on an array the tape does not own
    (x.relu() * 1.5).backward(up)
    # torch's rule: 0 where x <= 0, so a NaN input (a[0, 6]) passes its gradient
    expected = np.where(a <= 0, 0, np.asarray(up * dtype(1.5), dtype)).astype(dtype)
    assert x.grad.dtype == dtype
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    assert np.signbit(x.grad.numpy()[a <= 0]).sum() == 0  # exact +0.0 where dropped, NaN or not
    # a gradient that is not the tape's own (the caller's array) is left untouched
    kept = up.copy()
    x.grad = None
    x.relu().backward(up)
    np.testing.assert_array_equal(up, kept)
    np.testing.assert_array_equal(x.grad.numpy(), np.where(a <= 0, 0, up).astype(dtype))


def test_float64_seed_under_create_graph_keeps_the_graph_float32_and_stays_differentiable():
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    y = x * x
    seen = []
    y.register_hook(lambda g: seen.append(g.dtype))
    v = Tensor(np.ones(3), requires_grad=True)  # float64 grad_outputs
    (g,) = tg.grad(y, [x], grad_outputs=v, create_graph=True)
    assert g.dtype == np.float32 and seen == [np.float32]
    (h,) = tg.grad(g.sum(), [v])
    assert h.dtype == np.float64
    np.testing.assert_array_equal(h.numpy(), 2.0)


# ---- .grad arrays are the leaf's own, of the leaf's dtype (found by a bug hunt against torch) ----

def test_a_0d_leafs_accumulated_grad_stays_a_writable_array():
    x = Tensor(np.array(2.0), requires_grad=True)
    (x * 3).backward()
    (x * 3).backward()  # 3 + 3: two 0-d arrays add to a NumPy scalar
    assert type(x.grad.data) is np.ndarray and x.grad.data.flags.writeable
    assert x.grad.data.shape == () and x.grad.item() == 6.0
    x.grad.data[...] = 0.0


def test_create_graph_grads_are_copies_of_the_seed_and_of_each_other():
    seed = np.ones((2, 3))
    a = Tensor(np.zeros((2, 3)), requires_grad=True)
    b = Tensor(np.zeros((2, 3)), requires_grad=True)
    (a + b).backward(seed, create_graph=True)  # add hands the same gradient to both
    a.grad.data[0, 0] = 100.0
    assert seed[0, 0] == 1.0 and b.grad.data[0, 0] == 1.0
    # still on the graph: the copy is a recorded op
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * x).sum().backward(create_graph=True)
    (gg,) = tg.grad(x.grad.sum(), [x])
    np.testing.assert_array_equal(gg.numpy(), [2.0, 2.0])


@pytest.mark.parametrize("on", ["intermediate", "leaf"])
def test_an_array_returned_by_a_hook_is_not_taken_as_grad(on):
    mine = np.full((2, 3), 7.0)
    x = Tensor(np.zeros((2, 3)), requires_grad=True)
    if on == "intermediate":
        y = x + 1.0  # add passes the hook's array straight down to x
        y.register_hook(lambda g: mine)
        y.backward(np.ones((2, 3)))
    else:
        x.register_hook(lambda g: mine)
        (x * 2.0).backward(np.ones((2, 3)))
    np.testing.assert_array_equal(x.grad.numpy(), 7.0)
    assert not np.shares_memory(x.grad.data, mine)
    x.grad.data[...] = 0.0
    assert (mine == 7.0).all()


def test_a_float32_tensor_gets_a_float32_gradient_below_a_float64_op(torch):
    seen = []
    a = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    h = a * 2.0
    h.register_hook(lambda g: seen.append(g.dtype))
    (h * Tensor(np.full((2, 3), 1.0 / 3.0))).backward(np.ones((2, 3)))  # float64 from here on
    ta = torch.ones((2, 3), dtype=torch.float32, requires_grad=True)
    th = ta * 2.0
    th.register_hook(lambda g: seen.append(g.dtype))
    (th * torch.full((2, 3), 1.0 / 3.0, dtype=torch.float64)).backward(torch.ones((2, 3),
                                                                                  dtype=torch.float64))
    assert seen == [np.float32, torch.float32]
    assert a.grad.dtype == np.float32
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())


# ---- from an autograd-API bug hunt against torch 2.13 --------------------------------------------

def test_grad_runs_only_the_graph_between_outputs_and_inputs(torch):
    """tg.grad ran and freed every node reachable from the outputs: a backward through the part
    below the inputs then failed, and hooks down there fired."""
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x.exp()
    seen = []
    h.register_hook(lambda g: seen.append("h"))
    h2 = h * 3
    loss = (h2 * h2).sum()
    gh2, = tg.grad(loss, [h2])
    assert seen == []  # below the input: not run
    h2.backward(gh2)  # the graph below h2 is intact
    xt = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    ht2 = xt.exp() * 3
    ght2, = torch.autograd.grad((ht2 * ht2).sum(), [ht2])
    ht2.backward(ght2)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    assert seen == ["h"]
    y = x.exp()
    y.sum().backward()  # frees y's node; grad of a new graph above y still works
    gy, = tg.grad((y * y).sum(), [y])
    np.testing.assert_allclose(gy.numpy(), 2 * np.exp([1.0, 2.0]))


@pytest.mark.parametrize("with_x", [False, True])
def test_grad_of_an_intermediate_and_its_hooks_as_torch(torch, with_x):
    """Alone, y's gradient is taken after y's hooks ([10, 10]); with x below it, before them
    ([1, 1]) while the hook still reaches x, as torch's engine does."""
    x, xt = Tensor(np.ones(2), requires_grad=True), torch.ones(2, dtype=torch.float64,
                                                                requires_grad=True)
    y, yt = x * 2, xt * 2
    y.register_hook(lambda g: g * 10)
    yt.register_hook(lambda g: g * 10)
    ours = tg.grad(y.sum(), [y, x] if with_x else [y])
    theirs = torch.autograd.grad(yt.sum(), [yt, xt] if with_x else [yt])
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_grad_modes_decorate_generator_functions_as_torch():
    x = Tensor(np.ones(2), requires_grad=True)

    @tg.no_grad()
    def gen():
        yield tg.is_grad_enabled(), (x * 2).requires_grad
        yield tg.is_grad_enabled(), (x * 2).requires_grad

    @tg.enable_grad
    def regen():
        yield (x * 2).requires_grad
    assert list(gen()) == [(False, False), (False, False)]  # was (True, True): the body ran later
    assert tg.is_grad_enabled()
    with tg.no_grad():
        assert list(regen()) == [True]


def test_a_hook_handle_removes_its_own_registration(torch):
    def f(g):
        return g * 2

    def k(g):
        return g + 1
    x = Tensor(np.ones(1), requires_grad=True)
    x.register_hook(f)
    x.register_hook(k)
    h2 = x.register_hook(f)
    h2.remove()
    h2.remove()  # a second remove() does nothing
    (x * 1).sum().backward()
    assert x.grad.item() == 3.0  # f then k, as torch; was 4.0 (k then f)


def test_a_gradient_shown_to_a_leaf_hook_is_not_the_grad_array():
    x = Tensor(np.ones(3), requires_grad=True)
    logged = []
    x.register_hook(lambda g: logged.append(g))
    (x * 2).sum().backward()
    x.grad.data[...] = 0  # as zero_grad(set_to_none=False) would
    np.testing.assert_array_equal(logged[0].numpy(), 2.0)


def test_leaf_hooks_run_in_the_backwards_grad_mode_as_torch():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    modes = []

    def step(g):
        modes.append(tg.is_grad_enabled())
        x.data = x.data - 0.1 * g.data
    x.register_hook(step)
    (x * 1).sum().backward()
    assert modes == [False]
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with tg.no_grad():
        pass
    y = (w * w).sum()
    with tg.no_grad():
        y.backward(create_graph=True)  # .grad is recorded all the same, as torch
    assert w.grad.requires_grad
    gg, = tg.grad(w.grad.sum(), [w])
    np.testing.assert_array_equal(gg.numpy(), [2.0, 2.0])


def test_assigning_grad_checks_type_and_shape_as_torch():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match=r"gradient of shape \(2,\) to a tensor of shape \(3,\)"):
        x.grad = Tensor(np.ones(2))
    with pytest.raises(TypeError, match="Tensor or None"):
        x.grad = [0.0, 0.0, 0.0]
    assert x.grad is None
    x.grad = Tensor(np.ones(3))
    x.grad = None


def test_grad_refuses_an_integer_input_whose_requires_grad_was_assigned():
    i = Tensor(np.array([1, 2]))
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        i.requires_grad = True  # refused at the assignment now, as torch refuses it
    i._requires_grad = True  # behind the setter's check: grad() still refuses it
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        tg.grad((i * 1.5).sum(), [i])  # was [1, 1]: 1.5 truncated


def test_backward_in_several_threads_into_one_leaf_loses_nothing():
    w = Tensor(np.ones(200_000), requires_grad=True)

    def work():
        for _ in range(50):
            (w * 2.0).sum().backward()
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_array_equal(w.grad.numpy(), 400.0)


def test_a_ragged_gradient_and_no_inputs_are_clear_errors():
    x = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="gradient must be an array"):
        (x * 2).backward([[1.0], 2.0])
    with pytest.raises(RuntimeError, match="'inputs' argument cannot be empty"):
        tg.grad((x * 2).sum(), [])


def test_a_leaf_hook_may_itself_call_backward():
    # the leaf phase held a lock around the hooks: a backward() inside one waited for ever
    w = Tensor(np.ones(3, np.float32), requires_grad=True)
    v = Tensor(np.ones(3, np.float32), requires_grad=True)

    def hook(g):
        with tg.enable_grad():
            (v * 2).sum().backward()
        return g
    w.register_hook(hook)
    (w * 3).sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), 2.0)
    np.testing.assert_array_equal(w.grad.numpy(), 3.0)


def test_a_leaf_hook_sees_the_grads_of_leaves_accumulated_before_it_as_torch(torch):
    def run(lib, make):
        a, b = make(), make()
        seen = []
        a.register_hook(lambda g: seen.append(None if b.grad is None else float(b.grad.sum())))
        b.register_hook(lambda g: seen.append(None if a.grad is None else float(a.grad.sum())))
        (a * 2 + b * 3).sum().backward()
        return sorted(seen, key=lambda v: (v is None, v))
    ours = run(tg, lambda: Tensor(np.ones(1), requires_grad=True))
    theirs = run(torch, lambda: torch.ones(1, dtype=torch.float64, requires_grad=True))
    assert ours == theirs


def test_a_second_backward_accumulates_into_the_same_grad_tensor_as_torch(torch):
    # a reference held to p.grad, or a .grad the caller assigned, sees the sum (a bug hunter's
    # finding: each backward made a new .grad Tensor)
    p = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (p * 2).sum().backward()
    held = p.grad
    (p * 3).sum().backward()
    tp = torch.tensor([1.0, 2.0], requires_grad=True)
    (tp * 2).sum().backward()
    theld = tp.grad
    (tp * 3).sum().backward()
    assert held is p.grad and theld is tp.grad
    np.testing.assert_array_equal(held.numpy(), theld.numpy())
    assigned = Tensor(np.array([5.0, 5.0]))
    p.grad = assigned
    (p * 2).sum().backward()
    assert p.grad is assigned
    np.testing.assert_array_equal(assigned.numpy(), [7.0, 7.0])


def test_a_hook_may_not_change_the_gradients_dtype_and_one_added_by_a_hook_waits(torch):
    # a bug hunter's findings: a dtype-changing hook was accepted (torch refuses), and a hook
    # registered inside a hook fired in the same backward (torch: from the next one)
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    a.register_hook(lambda g: g.astype(np.float32))
    with pytest.raises(TypeError, match="changed the dtype of the gradient from float64 to "
                                        "float32"):
        (a * 2).sum().backward()
    t = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    t.register_hook(lambda g: g.float())
    with pytest.raises(RuntimeError, match="changed the type"):
        (t * 2).sum().backward()
    b = Tensor(np.array(2.0, np.float32), requires_grad=True)
    b.register_hook(lambda g: 3.0)  # a Python number: taken in the gradient's dtype
    (b * 2).backward()
    assert b.grad.dtype == np.float32 and b.grad.item() == 3.0
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 1
    y.register_hook(lambda g: (y.register_hook(lambda g2: g2 * 100), g)[1])
    y.sum().backward(retain_graph=True)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    ty = tx * 1
    ty.register_hook(lambda g: (ty.register_hook(lambda g2: g2 * 100), g)[1])
    ty.sum().backward(retain_graph=True)
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    y.sum().backward()  # now it fires
    ty.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_set_grad_enabled_and_inference_mode_as_torch(torch):
    import tinygrad_norm as tg
    x = Tensor(np.ones(2), requires_grad=True)
    tx = torch.ones(2, requires_grad=True)
    try:
        for lib, v in ((tg, x), (torch, tx)):
            lib.set_grad_enabled(False)  # a plain call sets the mode at once
            assert not (v * 2).requires_grad and not lib.is_grad_enabled()
            lib.set_grad_enabled(True)
            with lib.no_grad():
                with lib.set_grad_enabled(True):  # a block restores the mode it found
                    assert (v * 2).requires_grad
                assert not (v * 2).requires_grad
            deco = lib.set_grad_enabled(False)(lambda: (v * 2).requires_grad)
            assert lib.is_grad_enabled() and deco() is False and lib.is_grad_enabled()
            assert lib.inference_mode()(lambda: (v * 2).requires_grad)() is False
            assert lib.inference_mode(lambda: (v * 2).requires_grad)() is False  # bare
            with lib.inference_mode(False):
                assert (v * 2).requires_grad
            with lib.inference_mode():
                assert not (v * 2).requires_grad
            assert lib.is_grad_enabled()
    finally:
        tg.set_grad_enabled(True)
        torch.set_grad_enabled(True)
    with pytest.raises(TypeError, match="mode must be a bool"):
        tg.set_grad_enabled("no")
