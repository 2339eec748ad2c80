"""In-place writes recorded on the tape (inplace_record.py), against torch 2.13: a non-leaf that
requires grad written in place, a buffer filled from a graph, and the gradients of every
tensor involved, under random upstream gradients, in float64."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn

RNG = np.random.default_rng(11)
A = RNG.standard_normal((4, 5))
B = RNG.standard_normal((4, 5))
U = RNG.standard_normal((6, 6))


def _run(lib, f):
    """f(lib, x, w) -> output; the output's values and x's and w's gradients."""
    if lib == "tg":
        x, w = Tensor(A.copy(), requires_grad=True), Tensor(B.copy(), requires_grad=True)
        y = f(tg, x, w)
        y.backward(Tensor(U[: y.shape[0], : y.shape[1]].copy() if y.ndim == 2 else
                          np.full(y.shape, 0.7)))
        grads = [None if t.grad is None else t.grad.numpy() for t in (x, w)]
        return y.numpy(), grads
    import torch
    x = torch.tensor(A.copy(), requires_grad=True)
    w = torch.tensor(B.copy(), requires_grad=True)
    y = f(torch, x, w)
    y.backward(torch.tensor(U[: y.shape[0], : y.shape[1]].copy() if y.ndim == 2 else
                            np.full(tuple(y.shape), 0.7)))
    return y.detach().numpy(), [None if t.grad is None else t.grad.numpy() for t in (x, w)]


def _same(torch, f):
    ours, theirs = _run("tg", f), _run("torch", f)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-12)
    for a, b in zip(ours[1], theirs[1]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)


def _idx(lib, v):
    return lib.tensor(v) if lib is tg else lib.tensor(v)


# Each writes into a non-leaf that requires grad, then uses it: f(lib, x, w) -> output.
CASES = {
    "add_ alpha": lambda L, x, w: (x * 2).add_(w, alpha=3) * w,
    "sub_": lambda L, x, w: (x * 2).sub_(w) * x,
    "mul_ const": lambda L, x, w: (x * 2).mul_(5.0) * w,
    "mul_ tensor": lambda L, x, w: (x * 2).mul_(w) * x,
    "div_ tensor": lambda L, x, w: (x * 2).div_(w * w + 1) * x,
    "clamp_": lambda L, x, w: (x * w).clamp_(-0.5, 0.5) * x,
    "relu_": lambda L, x, w: (x * w).relu_() * x,
    "sigmoid_": lambda L, x, w: (x * w).sigmoid_() * x,
    "tanh_": lambda L, x, w: (x * w).tanh_() * w,
    "exp_": lambda L, x, w: (x * w).exp_() * x,
    "pow_": lambda L, x, w: (x * w).pow_(2) * x,
    "neg_ abs_": lambda L, x, w: (x * w).neg_().abs_() * x,
    "lerp_": lambda L, x, w: (x * 2).lerp_(w, 0.3) * x,
    "addcmul_": lambda L, x, w: (x * 2).addcmul_(w, x, value=0.5) * w,
    "masked_fill_": lambda L, x, w: (x * w).masked_fill_(x > 0, 0.25) * w,
    "index_fill_": lambda L, x, w: (x * w).index_fill_(1, _idx(L, [0, 3]), -1.0) * x,
    "index_add_": lambda L, x, w: (x * 2).index_add_(0, _idx(L, [0, 2]), w[:2]) * x,
    "index_copy_": lambda L, x, w: (x * 2).index_copy_(0, _idx(L, [3, 1]), w[:2] * 3) * x,
    "scatter_": lambda L, x, w: (x * 2).scatter_(1, _idx(L, [[0], [1], [2], [3]]), w[:, :1]) * x,
    "scatter_add_": lambda L, x, w: (x * 2).scatter_add_(
        0, _idx(L, [[0, 1, 2, 3, 0], [3, 2, 1, 0, 0]]), w[:2]) * x,
    "copy_ broadcast": lambda L, x, w: (x * 2).copy_(w[1]) * x,
    "fill_": lambda L, x, w: (x * 2).fill_(0.5) * w,
    "zero_": lambda L, x, w: (x * 2).zero_() + w,
    "fill_diagonal_": lambda L, x, w: (x * w).fill_diagonal_(2.0) * x,
    "t_": lambda L, x, w: (x * w).t_() * 2,
    "unsqueeze_ squeeze_": lambda L, x, w: (x * w).unsqueeze_(0).squeeze_(0) * x,
    "add_ itself": lambda L, x, w: (lambda y: y.add_(y) * w)(x * w),
    "three writes": lambda L, x, w: (lambda y: y.add_(1).mul_(w).sub_(x) * y)(x * w),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_in_place_on_a_non_leaf_as_torch(torch, name):
    _same(torch, CASES[name])


def _set(value_of):
    def f(L, x, w):
        y = x * 2
        y[value_of[0]] = value_of[1](w)
        return y * x
    return f


SETS = {
    "row": (1, lambda w: w[2] * 3),
    "slice": ((slice(1, 3), slice(0, 2)), lambda w: w[:2, :2].exp()),
    "number": ((0, 1), lambda w: 5.0),
    "broadcast column": ((slice(None), 2), lambda w: w[0, 0] * 1),
    "bool mask": (np.array([True, False, True, False]), lambda w: w[3] * 2),
    "int array": (np.array([3, 0]), lambda w: w[1:3] * 2),
    "negative step": ((slice(None, None, -2),), lambda w: w[:2] + 1),
}


@pytest.mark.parametrize("name", sorted(SETS))
def test_item_assignment_on_a_non_leaf_as_torch(torch, name):
    index, value = SETS[name]

    def f(L, x, w):
        y = x * 2
        i = index
        if isinstance(i, np.ndarray):
            i = L.tensor(i)
        elif L is not tg and isinstance(i, tuple) and i and i[0] == slice(None, None, -2):
            # torch has no negative steps: the same rows, listed
            i = L.tensor([3, 1])
        y[i] = value(w)
        return y * x
    if name == "negative step":  # the same rows, as an index list, on both sides
        def f(L, x, w):  # noqa: F811
            y = x * 2
            y[L.tensor([3, 1])] = w[:2] + 1
            return y * x
    _same(torch, f)


def test_negative_step_assignment_equals_the_listed_rows():
    x = Tensor(A.copy(), requires_grad=True)
    y = x * 2
    y[::-2] = Tensor(B[:2].copy()) + 1
    z = x * 2
    z[Tensor(np.array([3, 1]))] = Tensor(B[:2].copy()) + 1
    np.testing.assert_array_equal(y.numpy(), z.numpy())


def test_a_buffer_filled_from_a_graph_in_a_loop_as_torch(torch):
    # an RNN's outputs collected into a preallocated buffer: torch's CopySlices
    def f(L, x, w):
        out = L.zeros((4, 5), dtype=L.float64)
        h = x[0] * 0
        for t in range(4):
            h = (x[t] + h * w[t]).tanh()
            out[t] = h
        return out * w
    _same(torch, f)


VIEWS = {
    "y[i] += v": lambda L, x, w: (lambda y: (y.__setitem__(1, y[1].__iadd__(w[0])), y)[1])(x * 2),
    "y[:, j] *= v": lambda L, x, w: (lambda y: (y.__setitem__((slice(None), 2), y[:, 2].__imul__(
        w[:, 0])), y * x)[1])(x * 2),
    "y[i].mul_(w) alone": lambda L, x, w: (lambda y: (y[2].mul_(w[1]), y * x)[1])(x * 2),
    "y[1:3].clamp_ then y used": lambda L, x, w: (lambda y: (y[1:3].clamp_(-0.3, 0.3), y * w)[1])(
        x * w),
    "view of a view": lambda L, x, w: (lambda y: (y[1:3][0].add_(w[0]), y * x)[1])(x * 2),
    "view read before the write": lambda L, x, w: (lambda y, v: (v.add_(w[3]), v * w[0] + y.sum(0))[1])(
        *(lambda y: (y, y[2]))(x * 2)),
}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_a_write_into_a_basic_view_reaches_its_base_as_torch(torch, name):
    _same(torch, VIEWS[name])


def test_a_consumer_recorded_before_the_write_keeps_the_old_history(torch):
    # z read y before y.mul_(5): its gradient must reach x through y's old history, not
    # through the multiply by 5 (torch's edges keep the grad_fn they were recorded with)
    def f(L, x, w):
        y = x * 2
        z = y + w
        y.mul_(5.0)
        y[0] = w[1]
        return z * 3 + y * x
    _same(torch, f)


def test_activation_inplace_true_after_a_linear_layer_as_torch(torch):
    ours = nn.Sequential(nn.Linear(5, 6, dtype=np.float64), nn.ReLU(inplace=True),
                         nn.Linear(6, 3, dtype=np.float64), nn.LeakyReLU(0.1, inplace=True))
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 6), torch.nn.ReLU(inplace=True),
                                 torch.nn.Linear(6, 3), torch.nn.LeakyReLU(0.1, inplace=True))
    theirs = theirs.double()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        q.data = torch.tensor(p.numpy().copy())
    x, xt = Tensor(A.copy(), requires_grad=True), torch.tensor(A.copy(), requires_grad=True)
    y, yt = ours(x), theirs(xt)
    u = RNG.standard_normal(tuple(yt.shape))
    y.backward(Tensor(u)), yt.backward(torch.tensor(u))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-11)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-11)


def test_functional_in_place_spellings_record(torch):
    for ours, theirs in [(F.relu_, torch.nn.functional.relu_),
                         (lambda t: F.leaky_relu_(t, 0.2), lambda t: torch.nn.functional.leaky_relu_(t, 0.2)),
                         (lambda t: F.hardtanh_(t, -0.3, 0.4), lambda t: torch.nn.functional.hardtanh_(t, -0.3, 0.4)),
                         (F.elu_, torch.nn.functional.elu_)]:
        _same(torch, lambda L, x, w, o=ours, t=theirs: (o if L is tg else t)(x * w) * x)


# ---- what torch refuses at backward, refused the same way ---------------------------------------

@pytest.mark.parametrize("make", [
    lambda L, x: (lambda y: (y.add_(1), y)[1])(x.exp()),          # exp's gradient is its output
    lambda L, x: (lambda y: (y.relu_(), y)[1])(x.sigmoid()),      # so is sigmoid's
    lambda L, x: (lambda y: (y.mul_(y), y)[1])(x * 1),            # mul read y for itself
    lambda L, x: (lambda y, z: (y.mul_(2), z)[1])(*(lambda y: (y, y * x))(x * 1)),
])
def test_a_value_a_node_saved_written_in_place_is_refused_at_backward_as_torch(torch, make):
    x = Tensor(A.copy(), requires_grad=True)
    xt = torch.tensor(A.copy(), requires_grad=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        make(torch, xt).sum().backward()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        make(tg, x).sum().backward()


def test_what_cannot_be_recorded_is_refused_before_anything_changes():
    x = Tensor(A.copy(), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x.add_(1.0)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x[0] = 1.0
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x[0] += 1.0
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x[1].mul_(2.0)
    np.testing.assert_array_equal(x.numpy(), A)
    y = x * 2
    before = y.numpy().copy()
    with pytest.raises(RuntimeError, match="view of another tensor"):
        y.reshape(20).mul_(2.0)  # torch rewrites y through the view; this tape cannot
    with pytest.raises(RuntimeError, match="view of another tensor"):
        y.t().add_(1.0)
    np.testing.assert_array_equal(y.numpy(), before)
    buf = tg.zeros(4, 5, dtype=np.float64)
    row = buf[1]
    with pytest.raises(RuntimeError, match="views the memory"):
        row.copy_(x[0])  # the gradient would not reach buf
    assert not buf.numpy().any() and not buf.requires_grad
    with pytest.raises(ValueError, match="does not fit"):
        (x * 2).add_(Tensor(np.ones((2, 4, 5))))


def test_no_grad_and_constants_keep_writing_unrecorded():
    x = Tensor(A.copy(), requires_grad=True)
    y = x * 2
    with tg.no_grad():
        y.add_(1.0)
    assert y._versions is None
    c = Tensor(A.copy())
    c.mul_(2.0)
    assert c._versions is None and not c.requires_grad
    np.testing.assert_array_equal(c.numpy(), A * 2)


# ---- what the write costs ---------------------------------------------------------------------

def test_item_assignment_does_not_copy_the_buffer():
    # where's VJP never reads the values before: the history before keeps the buffer's own
    # array (overwritten), no copy of it per write
    x = Tensor(A.copy(), requires_grad=True)
    buf = tg.zeros(4, 5, dtype=np.float64)
    array = buf.data
    buf[1] = x[0] * 2
    assert buf.data is array
    old = buf._versions[-1][1]
    assert old.data is array
    y = x * 3
    y.mul_(Tensor(B.copy(), requires_grad=True))  # w's gradient reads y before: a copy
    assert y._versions[-1][1].data is not y.data


def test_a_wrong_no_copy_hint_still_gives_the_right_gradient(torch):
    # _write_ with copy_old=False for an op that turns out to read the values before: run
    # again on a copy (a guard against a wrong hint at a call site)
    x = Tensor(A.copy(), requires_grad=True)
    y = x * 2
    y._write_("square_", lambda t: t * t, copy_old=False)
    xt = torch.tensor(A.copy(), requires_grad=True)
    yt = xt * 2
    yt.square_()
    y.backward(Tensor(U[:4, :5].copy())), yt.backward(torch.tensor(U[:4, :5].copy()))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_repeated_places_get_the_last_write_and_its_gradient_only():
    # NumPy's assignment: the last of the repeated places wins; torch leaves it undefined (and
    # its gradient reaches every repeated value): here only the value written gets one
    x = Tensor(A.copy(), requires_grad=True)
    v = Tensor(B[:3].copy(), requires_grad=True)
    y = x * 2
    y[Tensor(np.array([0, 2, 0]))] = v
    np.testing.assert_array_equal(y.numpy()[0], B[2])
    y.backward(Tensor(U[:4, :5].copy()))
    np.testing.assert_array_equal(v.grad.numpy(), [np.zeros(5), U[2, :5], U[0, :5]])
    np.testing.assert_array_equal(x.grad.numpy()[[0, 2]], 0)


# ---- higher order, grad(), gradcheck ----------------------------------------------------------

def test_double_backward_through_in_place_writes_as_torch(torch):
    def f(L, x, w):
        y = x * x
        y.mul_(w)
        y[1] = x[0] * w[2]
        return y.tanh()
    x, w = Tensor(A.copy(), requires_grad=True), Tensor(B.copy(), requires_grad=True)
    xt = torch.tensor(A.copy(), requires_grad=True)
    wt = torch.tensor(B.copy(), requires_grad=True)
    (g,) = tg.grad(f(tg, x, w), [x], Tensor(U[:4, :5].copy()), create_graph=True)
    (gt,) = torch.autograd.grad(f(torch, xt, wt), [xt], torch.tensor(U[:4, :5].copy()), create_graph=True)
    np.testing.assert_allclose(g.numpy(), gt.detach().numpy(), rtol=1e-11)
    (g * g).sum().backward(), (gt * gt).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-10)


def test_grad_of_an_intermediate_below_a_write(torch):
    x = Tensor(A.copy(), requires_grad=True)
    h = x * 2
    y = h * 1
    y.add_(h.exp())
    (gh,) = tg.grad(y, [h], Tensor(U[:4, :5].copy()))
    xt = torch.tensor(A.copy(), requires_grad=True)
    ht = xt * 2
    yt = ht * 1
    yt.add_(ht.exp())
    (ght,) = torch.autograd.grad(yt, [ht], torch.tensor(U[:4, :5].copy()))
    np.testing.assert_allclose(gh.numpy(), ght.numpy(), rtol=1e-12)


def test_gradcheck_of_a_function_written_with_in_place_ops():
    def f(x):
        y = x * 1.0
        y[1:] = y[1:] * 2
        y.clamp_(-1.5, 1.5)
        y[:, 0] += y[:, 1]
        return y.exp_()
    x = Tensor(A.copy() * 0.5, requires_grad=True)
    assert tg.gradcheck(f, (x,))


def test_the_graph_export_draws_the_history_before(torch):
    from tinygrad_norm import viz
    x = Tensor(A.copy(), requires_grad=True)
    y = x * 2
    z = y + 1
    y.mul_(3.0)
    text = str(viz.graph((z * y).sum()).source)
    # five ops: mul by 2, add 1 (reads the old y), mul by 3 (the write), mul, sum
    assert text.count("class=\"op ") == 5
    # the old y's array now holds the values after the write (no copy was needed): the drawing
    # says so instead of showing them as the old y's (mean 6 where it was 2)
    assert text.count("overwritten in place") == 1
    w = x * 2
    v = w * x  # mul's gradient reads w: the write copies nothing either, and is refused later
    w.add_(1.0)
    assert "overwritten in place" in str(viz.graph((v + w).sum()).source)
    for write in (lambda h: h.mul_(3.0), lambda h: h.__iadd__(1.0)):
        h = x * 2  # only the write itself reads the history before: still overwritten
        write(h)
        assert str(viz.graph(h.sum()).source).count("overwritten in place") == 1
    u = x * 2
    s = u.exp()
    u.pow_(2)  # pow's gradient reads the values before: the write keeps a copy, drawn as they were
    text = str(viz.graph((s * u).sum()).source)
    assert "overwritten in place" not in text


# ---- the setitem primitive (a basic-index write, O(row)) --------------------------------------

@pytest.mark.parametrize("index", [1, (slice(1, 3), 2), (Ellipsis, slice(None, None, -2)),
                                   (None, 0, slice(1, 4))])
def test_setitem_primitive_gradcheck_and_gradgradcheck(index):
    from tinygrad_norm import ops, tensor_index
    x = Tensor(A.copy(), requires_grad=True)
    shape = np.zeros(A.shape)[index].shape
    v = Tensor(RNG.standard_normal(shape[-1:]), requires_grad=True)  # broadcast along the rest

    def f(x, v):
        return tensor_index.set_item(x * 1.0, index, v).tanh()
    assert tg.gradcheck(f, (x, v))
    assert tg.gradgradcheck(f, (x, v))
    y = tensor_index.set_item(x * 1.0, index, v)
    assert y._node.op is ops.SetItem


def test_a_buffer_write_goes_into_its_array_and_backward_is_per_row(torch):
    # the recorded buf[t] = h writes into buf's own array (one node, no copy of the buffer), and
    # its gradient zeroes the row in the tape's own gradient array
    x = Tensor(A.copy(), requires_grad=True)
    buf = tg.zeros(4, 5, dtype=np.float64)
    array = buf.data
    for t in range(4):
        buf[t] = (x[t] * (t + 1)).exp()
    assert buf.data is array and buf._node.op.name == "setitem"
    xt = torch.tensor(A.copy(), requires_grad=True)
    bt = torch.zeros(4, 5, dtype=torch.float64)
    for t in range(4):
        bt[t] = (xt[t] * (t + 1)).exp()
    np.testing.assert_allclose(buf.numpy(), bt.detach().numpy(), rtol=1e-13)
    (buf * buf).backward(Tensor(U[:4, :5].copy())), (bt * bt).backward(torch.tensor(U[:4, :5].copy()))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_a_bad_basic_assignment_changes_nothing():
    x = Tensor(A.copy(), requires_grad=True)
    buf = tg.zeros(4, 5, dtype=np.float64)
    with pytest.raises(ValueError, match="cannot take values of shape"):
        buf[1] = x[:2]
    with pytest.raises(IndexError, match="invalid"):
        buf[7] = x[0]
    assert not buf.numpy().any() and not buf.requires_grad and buf._versions is None


def test_a_write_into_an_array_nobody_else_holds_is_not_stamped():
    # no node saved it and no view of it exists, so no node can read the old values: the
    # backward then checks no node in detail; an array a node saved is stamped as before
    from tinygrad_norm import autograd
    x = Tensor(A.copy(), requires_grad=True)
    h = x * 2.0  # mul saves its inputs, not its output
    before = autograd._last_write
    F.relu(h, inplace=True)
    assert autograd._last_write == before
    e = x.exp()  # exp's node keeps its output for its gradient
    e.add_(1.0)
    assert autograd._last_write > before


def test_item_assignment_into_a_0d_tensor_on_the_graph(torch):
    # x[...] = v on a 0-d tensor: its gradient arrives as a NumPy scalar (fuzz seed 1744)
    x = Tensor(A.copy(), requires_grad=True)
    xt = torch.tensor(A.copy(), requires_grad=True)
    s, st = x.sum(), xt.sum()
    s[...] = x[0, 0] * 3
    st[...] = xt[0, 0] * 3
    (s * 2).backward(), (st * 2).backward()
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())


# ---- augmented assignment on the graph: the same recorded write as the methods -----------------

def _aug(sym):
    def f(L, x, w):
        h = x * 2
        alias = h
        if sym == "+=":
            h += w
        elif sym == "-=":
            h -= w * x
        elif sym == "*=":
            h *= w
        elif sym == "/=":
            h /= w * w + 1
        else:
            h **= 2
        assert alias is h  # the tensor keeps its identity, as torch's
        return alias * x
    return f


@pytest.mark.parametrize("sym", ["+=", "-=", "*=", "/=", "**="])
def test_augmented_assignment_on_the_graph_writes_in_place_as_torch(torch, sym):
    _same(torch, _aug(sym))


def test_augmented_assignment_into_a_constant_from_the_graph_as_torch(torch):
    # `acc = zeros(...); acc += h`: the constant takes the history in place, as torch's
    def f(L, x, w):
        acc = L.zeros(4, 5, dtype=L.float64)
        keep = acc
        for t in (x * w, x.exp()):
            acc += t
        assert keep is acc and acc.requires_grad
        return acc * w
    _same(torch, f)


def test_augmented_assignment_of_a_saved_value_is_refused_at_backward_as_torch(torch):
    for lib, x in ((torch, torch.tensor(A.copy(), requires_grad=True)),
                   (tg, Tensor(A.copy(), requires_grad=True))):
        e = x.exp()
        e += 1  # exp's gradient reads its output
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            e.sum().backward()
