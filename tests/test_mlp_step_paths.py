"""What the batch-64 MLP step runs through (performance.md, stop 23), held fixed for the next
attempt at a faster path: relu's forward bit for bit as ``np.maximum(x, 0)``, its in-place VJP
under non-finite upstream gradients, the nodes of a batch norm, and the step against torch in
float64.
"""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor

torch = pytest.importorskip("torch")

_SPECIALS = [np.nan, -np.nan, -0.0, 0.0, np.inf, -np.inf, 1.0, -1.0, 1e-45, -1e-45, 3.5, -2.0]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("index", [slice(None), slice(1, None), slice(None, None, 3)],
                         ids=["contiguous", "offset", "strided"])
def test_relu_forward_is_maximum_with_zero_bit_for_bit(dtype, index):
    """Every bit as np.maximum(x, 0): -0.0 stays -0.0, NaN payloads and signs pass through,
    over lengths that run NumPy's SIMD loops and their tails."""
    with np.errstate(over="ignore", under="ignore"):
        x = np.random.default_rng(0).choice(np.array(_SPECIALS, dtype), 5003)[index]
    y = F.relu(Tensor(x)).numpy()
    expected = np.maximum(x, 0)
    assert y.dtype == dtype
    assert np.array_equal(y.view(np.uint8), expected.view(np.uint8))


@pytest.mark.parametrize("n", [7, 8192])  # below and above the size the tape reuses in place
def test_relu_gradient_is_a_select_under_non_finite_upstream(n):
    rng = np.random.default_rng(1)
    x = rng.choice(np.array(_SPECIALS, np.float32), n)
    g = rng.choice(np.array([np.nan, np.inf, -np.inf, 2.0, -3.0], np.float32), n)
    t = Tensor(x, requires_grad=True)
    # * 1.0 first: the relu's gradient then arrives as an array the tape owns (in-place VJP)
    (F.relu(t * 1.0)).backward(Tensor(g))
    keep = ~(x <= 0)  # kept where x > 0 or NaN; exactly +0.0 elsewhere, whatever g holds
    expected = np.where(keep, g, np.float32(0.0))
    got = t.grad.numpy()
    assert np.array_equal(got.view(np.uint32), expected.view(np.uint32))


def test_mlp_step_matches_torch_float64():
    """Linear -> batch norm -> relu -> linear -> cross entropy (dropout off: its mask is this
    package's own draw), parameters' gradients against torch's under one seed, 1e-10."""
    rng = np.random.default_rng(2)
    X, labels = rng.standard_normal((64, 16)), rng.integers(0, 10, 64)
    P = dict(W1=rng.standard_normal((16, 32)) * 0.3, g1=1 + 0.1 * rng.standard_normal(32),
             b1=0.1 * rng.standard_normal(32), W2=rng.standard_normal((32, 10)) * 0.3,
             b2=0.1 * rng.standard_normal(10))
    L = {k: Tensor(v.copy(), requires_grad=True) for k, v in P.items()}
    rm, rv = Tensor(np.zeros(32)), Tensor(np.ones(32))
    h = F.batch_norm(Tensor(X) @ L["W1"], rm, rv, L["g1"], L["b1"], training=True)
    loss = F.cross_entropy(F.relu(h) @ L["W2"] + L["b2"], Tensor(labels))
    loss.backward()
    T = {k: torch.tensor(v, requires_grad=True) for k, v in P.items()}
    trm, trv = torch.zeros(32, dtype=torch.float64), torch.ones(32, dtype=torch.float64)
    th = torch.nn.functional.batch_norm(torch.tensor(X) @ T["W1"], trm, trv, T["g1"], T["b1"],
                                        training=True)
    tl = torch.nn.functional.cross_entropy(torch.relu(th) @ T["W2"] + T["b2"],
                                           torch.tensor(labels))
    tl.backward()
    np.testing.assert_allclose(loss.item(), tl.item(), rtol=1e-12)
    for k in P:
        np.testing.assert_allclose(L[k].grad.numpy(), T[k].grad.numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=k)
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-12)


def test_batch_norm_records_the_public_primitives_nodes():
    """A batch norm's nodes as the public functions record them (op, inputs, keywords, the
    vecdot's one-operand marker), whatever route the core takes to record them, and its
    second derivative against torch."""
    x = Tensor(np.random.default_rng(3).standard_normal((8, 5)), requires_grad=True)
    w, b = Tensor(np.ones(5), requires_grad=True), Tensor(np.zeros(5), requires_grad=True)
    y = F.batch_norm(x, None, None, w, b, training=True)
    node = y._node
    assert node.op.name == "addcmul" and node.inputs[0] is b and node.inputs[2]._node.op.name \
        == "mul"
    rs = node.inputs[2]._node.inputs[0]._node  # rsqrt(addcmul(eps, vecdot, 1/n))
    add = rs.inputs[0]._node
    assert add.op.name == "addcmul" and add.inputs[0] == 1e-5 and add.inputs[2] == 1 / 8
    vd = add.inputs[1]._node
    assert vd.op.name == "vecdot" and vd.inputs[0] is vd.inputs[1]
    assert vd.kw == dict(axis=(0,), keepdims=False) and vd.saved[2] is tg.ops.SAME
    # and the second derivative through them, against torch
    gx, = tg.grad([(y * y * y).sum()], [x], create_graph=True)
    gx.sum().backward()
    tx = torch.tensor(x.numpy(), requires_grad=True)
    ty = torch.nn.functional.batch_norm(tx, None, None, torch.ones(5, dtype=torch.float64),
                                        torch.zeros(5, dtype=torch.float64), training=True)
    tgx, = torch.autograd.grad((ty ** 3).sum(), tx, create_graph=True)
    tgx.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-10)
