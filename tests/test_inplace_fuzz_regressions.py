"""Regressions found by differential fuzzing of recorded in-place writes against torch 2.13
(random programs of out-of-place ops and in-place writes, float64, random upstream
gradients): each case here gave a different result from torch before its fix."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(5)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((3, 4))
U = RNG.standard_normal((3, 4))


def _leaves(lib):
    if lib is tg:
        return Tensor(A.copy(), requires_grad=True), Tensor(B.copy(), requires_grad=True)
    return (torch.tensor(A.copy(), requires_grad=True),
            torch.tensor(B.copy(), requires_grad=True))


def _outcome(lib, f):
    """f(lib, x, w) -> output; then a backward with a random upstream gradient. The output's
    values and the leaves' gradients, or the RuntimeError's type where one is raised."""
    x, w = _leaves(lib)
    try:
        y = f(lib, x, w)
        u = np.random.default_rng(7).standard_normal(tuple(y.shape))
        y.backward(Tensor(u) if lib is tg else torch.tensor(u))
    except RuntimeError:
        return RuntimeError
    value = np.array(y.detach().numpy())
    return value, [None if t.grad is None else np.array(t.grad.numpy()) for t in (x, w)]


def _same_as_torch(f):
    ours, theirs = _outcome(tg, f), _outcome(torch, f)
    if theirs is RuntimeError or ours is RuntimeError:
        assert ours is theirs
        return ours
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-12)
    for a, b in zip(ours[1], theirs[1]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    return ours


# An in-place op whose gradient reads its own output (exp_, sigmoid_, tanh_), then another
# write into the same tensor: torch refuses the backward (the saved output was overwritten).
# Ours used to save a separate copy of the output and went backward silently.
REFUSED = {
    "sigmoid_ then item assignment": lambda L, x, w: (lambda y: (y.sigmoid_(), y.__setitem__(
        0, 0.0), y * w)[-1])(x * 1),
    "exp_ then add_": lambda L, x, w: (x * 1).exp_().add_(1) * w,
    "tanh_ then mul_ by a tensor": lambda L, x, w: (x * 1).tanh_().mul_(w),
    "exp_ then a write into a view": lambda L, x, w: (lambda y: (y.exp_(), y[1].zero_(), y)[-1])(
        x * w),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_write_after_an_op_that_saved_its_output_is_refused(case):
    assert _same_as_torch(REFUSED[case]) is RuntimeError


# Not refused: the output is written once, then only read.
ALLOWED = {
    "exp_ then read": lambda L, x, w: (x * 1).exp_() * w,
    "exp_ then a new tensor from it": lambda L, x, w: (lambda y: (y.exp_(), y + w)[-1])(x * 1),
    "add_ then exp_": lambda L, x, w: (x * 1).add_(w).exp_(),
    "exp_ on a broadcast view's tensor": lambda L, x, w: (x[0] * 1).expand(3, 4).clone().exp_()
    * w,
}


@pytest.mark.parametrize("case", sorted(ALLOWED))
def test_an_op_that_saved_its_output_goes_backward(case):
    assert _same_as_torch(ALLOWED[case]) is not RuntimeError


@pytest.mark.parametrize("op", ["exp_", "sigmoid_", "tanh_"])
def test_double_backward_through_an_inplace_op_that_saved_its_output(op):
    # the create_graph backward compared the tensor's array with the (separate) array its op
    # saved, and refused as if the tensor had been replaced since
    res = []
    for lib in (tg, torch):
        x, w = _leaves(lib)
        y = getattr(x * w, op)()
        grad = tg.grad if lib is tg else torch.autograd.grad
        ut = Tensor(U.copy()) if lib is tg else torch.tensor(U.copy())
        g, = grad((y * y * ut).sum(), [x], create_graph=True)
        (g * g).sum().backward()
        res.append([np.array(t.numpy() if lib is tg else t.detach().numpy())
                    for t in (g, x.grad, w.grad)])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_second_write_into_a_tensor_whose_array_is_a_numpy_view():
    # sum(keepdim=True) gives a NumPy view; after one recorded write its history before holds
    # that memory, and the second write was refused as a write into "a view of another tensor"
    def f(L, x, w):
        y = x.sum(-1, keepdim=True)
        y[0] = 2.0
        y[1] = w[0, :1]
        y += w[:, 1:2]
        return y * y
    assert _same_as_torch(f) is not RuntimeError


@pytest.mark.parametrize("call", [
    lambda x: F.dropout(x, 0.0, True, True),
    lambda x: F.dropout(x, 0.5, False, True),
    lambda x: F.alpha_dropout(x, 0.3, False, True),
    lambda x: F.dropout2d(x[None], 0.0, True, True),
])
def test_inplace_dropout_that_changes_nothing_accepts_a_leaf(call):
    # torch's dropout_ returns its input untouched for p == 0 or in eval mode, so a leaf
    # that requires grad is no error there; ours refused it as an in-place write
    x, _ = _leaves(tg)
    out = call(x)
    assert out is x or np.shares_memory(out.numpy(), x.numpy())
    np.testing.assert_array_equal(x.numpy(), A)
    assert x._node is None and x.requires_grad


def test_inplace_dropout_that_writes_still_refuses_a_leaf():
    x, _ = _leaves(tg)
    with pytest.raises(RuntimeError, match="leaf"):
        F.dropout(x, 1.0, True, True)
    np.testing.assert_array_equal(x.numpy(), A)


@pytest.mark.parametrize("op", ["unsqueeze_", "t_"])
def test_inplace_view_op_on_a_view_of_a_leaf_is_refused(op):
    # torch refuses an in-place view op on a view of a leaf that requires grad, as a write;
    # ours recorded it. On a view of a tensor on the graph both record it.
    x, w = _leaves(tg)
    args = (0,) if op == "unsqueeze_" else ()
    with pytest.raises(RuntimeError, match="view of a leaf"):
        getattr(x[1:3], op)(*args)
    tx, _ = _leaves(torch)
    with pytest.raises(RuntimeError, match="view of a leaf"):
        getattr(tx[1:3], op)(*args)
    assert _same_as_torch(lambda L, x, w: getattr((x * w)[1:3], op)(*args) * 2) \
        is not RuntimeError


def _zeros(lib, shape):
    return Tensor(np.zeros(shape)) if lib is tg else torch.zeros(shape, dtype=torch.float64)


def _stack(lib, ts):
    return tg.stack(ts) if lib is tg else torch.stack(ts)


# A basic-index view taken before a recorded write into its base, used after it: torch's view
# follows the base's new history; ours kept the history from before, so the gradient silently
# missed the write's sources (w got no gradient at all in the first case).
STALE_VIEWS = {
    "view then add_ into the base": lambda L, x, w: (lambda y: (lambda v: (
        y.add_(w), v * 2)[-1])(y[0]))(x * 1),
    "view of a view then mul_": lambda L, x, w: (lambda y: (lambda u: (
        y.mul_(w), u * x[0])[-1])(y[1:3][0]))(x * 1),
    "view of a constant buffer written from the graph": lambda L, x, w: (lambda b: (lambda r: (
        b.__setitem__(slice(1, 3), x[:2] * w[:2]), r * w[0])[-1])(b[1]))(_zeros(L, (3, 4))),
    "consumer before the write keeps the old history": lambda L, x, w: (lambda y: (lambda v: (
        lambda z: (y.mul_(w), z + v * x[0])[-1])(v * 3))(y[2]))(x * x),
    "write through a sibling view": lambda L, x, w: (lambda y: (lambda a, b: (
        a.add_(w[0]), b * 2 + a)[-1])(y[0], y[0:2]))(x * 1),
    "rnn buffer read through views taken up front": lambda L, x, w: (lambda buf: (lambda rows: (
        [buf.__setitem__(t, (rows[t - 1] + x[t] * w[t]).tanh()) for t in range(1, 3)],
        _stack(L, rows) * 1)[-1])([buf[t] for t in range(3)]))(_zeros(L, (3, 4))),
}


@pytest.mark.parametrize("case", sorted(STALE_VIEWS))
def test_a_view_follows_its_base_written_in_place(case):
    assert _same_as_torch(STALE_VIEWS[case]) is not RuntimeError


def test_a_write_after_a_view_follows_its_base_is_still_refused_where_torch_refuses():
    # y.tanh_() saved its output; writing y through the view taken before (now following y's
    # new history) must refuse the backward, as torch
    def f(L, x, w):
        y = x * 1
        v = y[1]
        y.tanh_()
        v.zero_()
        return y * w
    assert _same_as_torch(f) is RuntimeError


def test_a_view_whose_base_changed_shape_is_refused_before_writing():
    # v = y[1], then y.t_() (and a write, so y's node is no longer the transpose): index 1 no
    # longer names v's memory in y. The write through v used y[1] of the transposed y, a
    # NumPy shape error (or, with a square y, a silent write into the wrong row)
    x, w = _leaves(tg)
    y = x * 1
    v = y[1]
    y.t_()
    y.mul_(2)
    before = y.numpy().copy()
    with pytest.raises(RuntimeError, match="view of another tensor"):
        v[0].add_(w[0, 0])
    np.testing.assert_array_equal(y.numpy(), before)


def test_views_of_a_tensor_indexed_in_a_loop_are_not_kept():
    # the base lists its views weakly, dropping the dead ones as the list grows
    x = Tensor(A.copy(), requires_grad=True)
    for i in range(1000):
        x[i % 3] * 2
    assert len(x._views or ()) < 40


def test_an_op_on_a_view_that_saved_its_output_then_a_write_into_the_base_is_refused():
    # h = y[0]; h.exp_() saved exp's output, now the memory h views in y; a later write into
    # y must refuse the backward, as torch (ours went backward with the saved copy)
    assert _same_as_torch(lambda L, x, w: (lambda y: (y[0].exp_(), y.add_(1), y * w)[-1])(
        x * w)) is RuntimeError
    assert _same_as_torch(lambda L, x, w: (lambda y: (y[-1].tanh_(), y[-1].scatter_(
        0, (tg.tensor if L is tg else torch.tensor)([1]), w[0, :1]), y)[-1])(x * w)) \
        is RuntimeError


def test_an_op_on_a_view_that_saved_its_output_goes_backward_twice():
    # create_graph after h.exp_() on a view, then a read: the same second derivative as torch
    res = []
    for lib in (tg, torch):
        x, w = _leaves(lib)
        y = x * w
        y[1].exp_()
        grad = tg.grad if lib is tg else torch.autograd.grad
        g, = grad((y * y).sum(), [x], create_graph=True)
        (g * g).sum().backward()
        res.append([np.array(t.numpy() if lib is tg else t.detach().numpy())
                    for t in (g, x.grad, w.grad)])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_an_op_on_a_view_reading_its_base_keeps_the_base_history_before():
    # h.mul_(f(y)) with h = y[0]: the product read y before the write, through y's history
    # before; y's new history must not be numbered before that read
    assert _same_as_torch(lambda L, x, w: (lambda y: (y[0].mul_(y.sum(0).detach() + w[0]),
                                                      y * x)[-1])(x * w)) is not RuntimeError
    assert _same_as_torch(lambda L, x, w: (lambda y: (y[0].add_(y.sum(0)), y * x)[-1])(x * w)) \
        is not RuntimeError


def test_copy_into_a_tensor_on_the_graph_keeps_a_zero_gradient_to_the_values_before():
    # torch's CopyBackwards: the history before gets zeros, and a node below that saved the
    # overwritten values (sigmoid's output) refuses the backward
    assert _same_as_torch(lambda L, x, w: (lambda y: (y.copy_(w), y)[-1])(x.sigmoid())) \
        is RuntimeError
    ours = _same_as_torch(lambda L, x, w: (lambda y: (y.copy_(w), y * 3)[-1])(x * 2))
    np.testing.assert_array_equal(ours[1][0], np.zeros_like(A))  # zeros, not None


def test_inplace_view_op_counts_as_a_write():
    # torch bumps the version on t_()/unsqueeze_(): a node that saved the tensor refuses
    assert _same_as_torch(lambda L, x, w: (lambda y: (y.t_(), y)[-1])(x.exp())) is RuntimeError
    assert _same_as_torch(lambda L, x, w: (lambda y: (lambda z: (y.unsqueeze_(0), z + y)[-1])(
        y * w))(x * 2)) is RuntimeError
    assert _same_as_torch(lambda L, x, w: (lambda y: (lambda z: (y.unsqueeze_(0), z + y)[-1])(
        y + w))(x * 2)) is not RuntimeError


def test_inplace_view_op_on_a_view_of_a_view_of_a_leaf_is_refused():
    x, _ = _leaves(tg)
    with pytest.raises(RuntimeError, match="view of a leaf"):
        x[1:3][0].unsqueeze_(0)


@pytest.mark.parametrize("op", ["__imul__", "__itruediv__", "__iadd__"])
def test_augmented_assignment_into_a_constant_buffer_row(op):
    # buf[i] *= h: Python runs tmp = buf[i]; tmp *= h (a new tensor: tmp is a view of a constant)
    # and buf[i] = tmp. The product saved tmp's array, buf's own memory, which the assignment
    # then overwrote: the backward was refused, where torch's mul_ saved the values before
    def f(L, x, w):
        buf = _zeros(L, (3, 4)) + 0.5
        for i in range(3):
            row = buf[i]
            buf[i] = getattr(row, op)(x[i] * w[i] + 2.0)
        return buf * w
    assert _same_as_torch(f) is not RuntimeError


def test_a_tensor_with_views_pickles_and_copies_as_a_leaf():
    # the list of views (weak references) and a view's root are not part of the copy
    import copy
    import pickle
    y = Tensor(A.copy(), requires_grad=True) * 1
    v = y[0].reshape(2, 2)
    for t in (y, v):
        for c in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t)):
            np.testing.assert_array_equal(c.numpy(), t.numpy())
            assert c._views is None and c._view_path is None and c._node is None
