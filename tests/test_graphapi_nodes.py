"""torch's grad_fn API on the tape's nodes (tinygrad_norm/autograd_graph.py), against torch 2.13:
name() and the exporter's name string, next_functions' structure, AccumulateGrad, the order and
arguments of tensor hooks, node prehooks and post hooks and what their results replace,
metadata, and graph.Node as the abstract class of both kinds of node."""
import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm.autograd import graph

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def _pair(shape=(3,), requires_grad=True):
    a = RNG.standard_normal(shape)
    return (tg.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def _structure(fn, depth=4):
    """The graph below ``fn`` as nested (name, input_nr, children), torch's digit dropped."""
    if fn is None:
        return None
    name = fn.name().rstrip("0123456789")
    if depth == 0:
        return name
    return (name, tuple((_structure(f, depth - 1), nr) for f, nr in fn.next_functions))


def test_name_is_the_op_string_and_callable_for_torchs_spelling():
    (x, xt), (y, yt) = _pair(), _pair(requires_grad=False)
    z, zt = x * y, xt * yt
    assert z.grad_fn.name == "mul" and isinstance(z.grad_fn.name, str)  # the exporter's label
    assert z.grad_fn.name() == zt.grad_fn.name() == "MulBackward0"
    assert {z.grad_fn.name} == {"mul"} and f"{z.grad_fn.name}" == "mul"
    assert x.exp().grad_fn.name() == xt.exp().grad_fn.name() == "ExpBackward0"
    assert repr(z).endswith("grad_fn=mul)")
    acc = z.grad_fn.next_functions[0][0]
    assert acc.name() == zt.grad_fn.next_functions[0][0].name() == \
        "torch::autograd::AccumulateGrad"


def test_function_node_name():
    class Twice(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class TwiceT(torch.autograd.Function):
        forward, backward = Twice.forward, Twice.backward
    (x, xt) = _pair()
    assert Twice.apply(x).grad_fn.name() == "TwiceBackward"
    assert TwiceT.apply(xt).grad_fn.name() == "TwiceTBackward"


@pytest.mark.parametrize("build", [
    lambda x, y, m: (x * 2).exp() * y,
    lambda x, y, m: x * y + x,
    lambda x, y, m: (x - y).sum(),
    lambda x, y, m: (x * x).exp() / (y * 3),
    lambda x, y, m: m(x).exp(),
    lambda x, y, m: x.exp() + x.exp(),
])
def test_next_functions_structure_matches_torch(build):
    (x, xt), (y, yt) = _pair(), _pair(requires_grad=False)
    mine = build(x, y, lambda v: v * 3)
    theirs = build(xt, yt, lambda v: v * 3)
    assert _structure(mine.grad_fn) == _structure(theirs.grad_fn)


def test_next_functions_edges():
    (x, _), (w, _) = _pair(), _pair()
    c = tg.tensor(np.ones(3))
    h = x * w
    z = h * c
    (f0, n0), (f1, n1) = z.grad_fn.next_functions
    assert f0 is h.grad_fn and n0 == 0 and f1 is None and n1 == 0
    ax, aw = h.grad_fn.next_functions[0][0], h.grad_fn.next_functions[1][0]
    assert ax.variable is x and aw.variable is w and ax.next_functions == ()
    assert (x * 3).grad_fn.next_functions[0][0] is ax  # one AccumulateGrad per leaf, as torch
    assert isinstance(z.grad_fn, graph.Node) and isinstance(ax, graph.Node)
    assert not isinstance(x, graph.Node)
    # a python scalar input is (None, 0), as torch's wrapped number
    assert (x * 2).grad_fn.next_functions[1] == (None, 0)


def test_next_functions_follow_in_place_history():
    (x, xt) = _pair()
    y, yt = x * 1, xt * 1
    z, zt = y * y, yt * yt
    y.add_(1)
    yt.add_(1)
    # z was recorded before the write: its inputs are the history before (MulBackward), while
    # y's grad_fn is now the add's
    assert _structure(z.grad_fn) == _structure(zt.grad_fn)
    assert y.grad_fn.name() == yt.grad_fn.name() == "AddBackward0"


def _run_hooks(lib, x, y):
    calls = []
    z = x.exp() * y
    z.grad_fn.register_prehook(lambda go: calls.append(("pre", [g.tolist() for g in go])))
    z.grad_fn.register_hook(lambda gi, go: calls.append(
        ("post", [None if g is None else np.round(g.tolist(), 10).tolist() for g in gi],
         [g.tolist() for g in go])))
    z.register_hook(lambda g: calls.append(("tensor", g.tolist())))
    z.retain_grad()
    z.register_hook(lambda g: calls.append(("tensor2", g.tolist())))
    seed = [1.0, -2.0, 0.5]
    z.backward(tg.tensor(seed, dtype=np.float64) if lib is tg else
               torch.tensor(seed, dtype=torch.float64))
    return calls, z.grad.tolist(), x.grad.tolist()


def test_hook_order_and_arguments_match_torch():
    (x, xt), (y, yt) = _pair(), _pair(requires_grad=False)
    assert _run_hooks(tg, x, y) == _run_hooks(torch, xt, yt)


def _replacing(lib, x, w):
    z = x * w
    z.grad_fn.register_prehook(lambda go: (go[0] * 2,))
    z.grad_fn.register_hook(lambda gi, go: (gi[0] * 3, None))
    z.grad_fn.register_hook(lambda gi, go: (gi[0] + 1, None) if gi[1] is None else None)
    z.sum().backward()
    return x.grad.tolist(), w.grad


def test_hook_results_replace_gradients_as_torch():
    (x, xt), (w, wt) = _pair(), _pair()
    (gx, gw), (gxt, gwt) = _replacing(tg, x, w), _replacing(torch, xt, wt)
    np.testing.assert_allclose(gx, gxt, rtol=1e-12)
    assert gw is None and gwt is None  # a None in the post hook's tuple: no gradient


def test_post_hook_sees_summed_broadcast_gradient():
    x = tg.tensor(RNG.standard_normal((1, 3)), requires_grad=True)
    xt = torch.tensor(x.data, requires_grad=True)
    b, bt = _pair((4, 3))
    seen = []
    for lib, a, c in ((tg, x, b), (torch, xt, bt)):
        z = a + c
        z.grad_fn.register_hook(lambda gi, go: seen.append([tuple(g.shape) for g in gi]))
        z.sum().backward()
    assert seen[0] == seen[1] == [(1, 3), (4, 3)]


def test_hook_handles_and_errors():
    (x, _) = _pair()
    z = x.exp()
    calls = []
    h = z.grad_fn.register_hook(lambda gi, go: calls.append(1))
    p = z.grad_fn.register_prehook(lambda go: calls.append(2))
    h.remove()
    p.remove()
    h.remove()  # a second remove does nothing, as torch's
    z.sum().backward()
    assert calls == [] and x.grad is not None
    with pytest.raises(TypeError, match="callable"):
        x.exp().grad_fn.register_hook(3)
    z = x.exp()
    z.grad_fn.register_prehook(lambda go: (go[0], go[0]))
    with pytest.raises(TypeError, match="incorrect number of values \\(got 2, but expected 1\\)"):
        z.sum().backward()
    z = x * 2
    z.grad_fn.register_hook(lambda gi, go: (gi[0],))
    with pytest.raises(TypeError, match="incorrect number of values \\(got 1, but expected 2\\)"):
        z.sum().backward()


def test_accumulate_grad_hooks_match_torch():
    out = []
    for lib in (tg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        calls = []
        acc = graph.get_gradient_edge(x).node if lib is tg else \
            torch.autograd.graph.get_gradient_edge(x).node
        acc.register_prehook(lambda go: calls.append(("pre", go[0].tolist())))
        acc.register_hook(lambda gi, go: calls.append(("post", gi, go[0].tolist())))
        x.register_hook(lambda g: calls.append(("tensor", g.tolist())))
        (x * 3).sum().backward()
        acc.register_prehook(lambda go: (go[0] * 10,))
        (x * 1).sum().backward()
        out.append((calls, x.grad.tolist()))
    assert out[0] == out[1]


def test_metadata_is_a_dict_kept_on_the_node():
    (x, _) = _pair()
    z = x.exp()
    assert z.grad_fn.metadata == {}
    z.grad_fn.metadata["tag"] = 7
    assert z.grad_fn.metadata == {"tag": 7}
    acc = z.grad_fn.next_functions[0][0]
    acc.metadata["leaf"] = True
    assert z.grad_fn.next_functions[0][0].metadata == {"leaf": True}


def test_hooked_nodes_keep_double_backward_and_exporter():
    (x, xt) = _pair()
    for lib, v in ((tg, x), (torch, xt)):
        y = (v * v).exp()
        y.grad_fn.register_hook(lambda gi, go: None)
        y.grad_fn.register_prehook(lambda go: None)
        (g,) = lib.autograd.grad(y.sum(), v, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), v)
        if lib is tg:
            mine = (g.tolist(), h.tolist())
        else:
            theirs = (g.tolist(), h.tolist())
    np.testing.assert_allclose(mine, theirs, rtol=1e-12)
    from tinygrad_norm.viz import graph as draw
    y = (x * x).exp()
    y.grad_fn.register_hook(lambda gi, go: None)
    assert "exp" in str(draw(y))
