"""``tinygrad_norm.utils.checkpoint``: gradients of a checkpointed segment are the plain ones bit
for bit (float64, inputs and the weights the segment closes over, dropout included), in both of
torch's variants; batch norm's running statistics are updated twice, as torch's; the memory
saved on a 20-layer MLP is measured with tracemalloc; torch's errors and warnings."""
from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import nn
from tinygrad_norm.utils.checkpoint import checkpoint, checkpoint_sequential

RNG = np.random.default_rng(7)
VARIANTS = [True, False]


def _model():
    tg.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 7), nn.BatchNorm1d(7), nn.ReLU(), nn.Dropout(0.3),
                         nn.Linear(7, 6), nn.ReLU(), nn.Linear(6, 3)).double()


def _run(use, ck, x_arr, g_arr):
    m = _model()
    tg.manual_seed(1)
    x = tg.Tensor(x_arr.copy(), requires_grad=True)
    y = ck(m, x) if use else m(x)
    y.backward(tg.Tensor(g_arr))
    after = tg.rand(3).numpy()  # the generator continues as without a recomputation
    return ([y.numpy(), x.grad.numpy(), after] + [p.grad.numpy() for p in m.parameters()],
            m[1])


@pytest.mark.parametrize("reentrant", VARIANTS)
@pytest.mark.parametrize("how", ["whole", "sequential"])
def test_gradients_are_the_plain_ones_bit_for_bit(reentrant, how):
    x, g = RNG.standard_normal((8, 5)), RNG.standard_normal((8, 3))
    if how == "whole":
        def ck(m, x):
            return checkpoint(m, x, use_reentrant=reentrant)
    else:
        def ck(m, x):
            return checkpoint_sequential(m, 3, x, use_reentrant=reentrant)
    plain, _ = _run(False, ck, x, g)
    done, _ = _run(True, ck, x, g)
    assert len(plain) == len(done) == 3 + 8
    for a, b in zip(plain, done):
        assert np.array_equal(a, b)
    assert all(a.dtype == np.float64 for i, a in enumerate(done) if i != 2)


@pytest.mark.parametrize("reentrant", VARIANTS)
def test_dropout_mask_is_redrawn_the_same(reentrant):
    # without preserve_rng_state the recomputation draws another mask: the gradient differs
    x, g = RNG.standard_normal((50, 5)), RNG.standard_normal((50, 5))

    def grads(preserve):
        tg.manual_seed(3)
        t = tg.Tensor(x.copy(), requires_grad=True)
        f = nn.Dropout(0.5)
        y = checkpoint(f, t, use_reentrant=reentrant, preserve_rng_state=preserve) \
            if preserve is not None else f(t)
        y.backward(tg.Tensor(g))
        return t.grad.numpy()
    assert np.array_equal(grads(None), grads(True))
    assert not np.array_equal(grads(None), grads(False))


@pytest.mark.parametrize("reentrant", VARIANTS)
def test_batch_norm_running_statistics_updated_twice_as_torch(reentrant):
    torch = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint as tcheckpoint
    x = RNG.standard_normal((8, 5))
    ours = nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4)).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.BatchNorm1d(4)).double()
    with torch.no_grad():
        theirs[0].weight.copy_(torch.tensor(ours[0].weight.numpy()))
        theirs[0].bias.copy_(torch.tensor(ours[0].bias.numpy()))
    tx = torch.tensor(x, requires_grad=True)
    y = tcheckpoint(theirs, tx, use_reentrant=reentrant)
    y.backward(torch.ones_like(y))
    ox = tg.Tensor(x.copy(), requires_grad=True)
    checkpoint(ours, ox, use_reentrant=reentrant).backward(tg.Tensor(np.ones((8, 4))))
    assert int(ours[1].num_batches_tracked.numpy()) == int(theirs[1].num_batches_tracked) == 2
    np.testing.assert_allclose(ours[1].running_mean.numpy(), theirs[1].running_mean.numpy(),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours[1].running_var.numpy(), theirs[1].running_var.numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(ox.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reentrant", VARIANTS)
def test_under_no_grad_a_plain_call(reentrant):
    m = _model()
    x = tg.Tensor(RNG.standard_normal((4, 5)), requires_grad=True)
    with tg.no_grad():
        y = checkpoint(m, x, use_reentrant=reentrant)
    assert not y.requires_grad and y.grad_fn is None


def test_kwargs_non_tensor_args_and_tuple_outputs():
    w = tg.Tensor(RNG.standard_normal((3, 3)), requires_grad=True)
    a_np, g_np = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))

    def f(a, scale, *, shift=0.0):
        h = (a @ w).tanh()
        return h * scale + shift, (h.sum(axis=1) > 0)

    def grads(use):
        w.grad = None
        a = tg.Tensor(a_np.copy(), requires_grad=True)
        out, flags = checkpoint(f, a, 2.5, shift=1.0, use_reentrant=False) if use \
            else f(a, 2.5, shift=1.0)
        out.backward(tg.Tensor(g_np))
        return out.numpy(), flags.numpy(), a.grad.numpy(), w.grad.numpy()
    for p, c in zip(grads(False), grads(True)):
        assert np.array_equal(p, c)


@pytest.mark.parametrize("reentrant", VARIANTS)
def test_tuple_output_with_one_output_used(reentrant):
    a_np, g_np = RNG.standard_normal((4,)), RNG.standard_normal((4,))

    def f(a):
        return a.sin(), a.cos() * 3

    def grad(use):
        a = tg.Tensor(a_np.copy(), requires_grad=True)
        _, c = checkpoint(f, a, use_reentrant=reentrant) if use else f(a)
        c.backward(tg.Tensor(g_np))
        return a.grad.numpy()
    assert np.array_equal(grad(False), grad(True))


def test_non_reentrant_reaches_weights_through_grad():
    m = _model()
    x = tg.Tensor(RNG.standard_normal((6, 5)), requires_grad=True)
    g = tg.Tensor(RNG.standard_normal((6, 3)))
    tg.manual_seed(5)
    plain = tg.grad(m(x), [x, m[0].weight, m[6].bias], g)
    m = _model()
    tg.manual_seed(5)
    ck = tg.grad(checkpoint(m, x, use_reentrant=False), [x, m[0].weight, m[6].bias], g)
    for a, b in zip(plain, ck):
        assert np.array_equal(a.numpy(), b.numpy())


def test_non_reentrant_closes_over_a_non_leaf():
    a = tg.Tensor(RNG.standard_normal(4), requires_grad=True)
    h = a * 2  # on the outer graph: its gradient must flow on to a
    x = tg.Tensor(RNG.standard_normal(4), requires_grad=True)
    y = checkpoint(lambda t: (t * h).exp(), x, use_reentrant=False)
    y.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 2 * x.numpy() * np.exp(x.numpy() * h.numpy()),
                               rtol=1e-12)


def test_double_backward_through_a_non_reentrant_checkpoint():
    # (the reentrant variant differentiates a detached copy: no second derivative, as torch's)
    x = tg.Tensor(RNG.standard_normal(3), requires_grad=True)
    for reentrant in [False]:
        y = checkpoint(lambda t: (t ** 3).sum(), x, use_reentrant=reentrant)
        (gx,) = tg.grad(y, [x], create_graph=True)
        (hx,) = tg.grad(gx.sum(), [x])
        np.testing.assert_allclose(hx.numpy(), 6 * x.numpy(), rtol=1e-12)


def test_errors_and_warnings_as_torch():
    x = tg.Tensor(np.ones(2), requires_grad=True)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        checkpoint(lambda t: t * 2, x)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        checkpoint(lambda t: t * 2, x.detach(), use_reentrant=True)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: a,b"):
        checkpoint(lambda t, a, b: t, x, a=1, b=2, use_reentrant=True)
    with pytest.raises(ValueError, match="determinism_check should be one of"):
        checkpoint(lambda t: t, x, use_reentrant=False, determinism_check="x")
    with pytest.raises(ValueError, match="only supported when use_reentrant=False"):
        checkpoint(lambda t: t, x, use_reentrant=True, debug=True)
    with pytest.raises(TypeError, match="function must be callable"):
        checkpoint(3, x, use_reentrant=False)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        checkpoint_sequential([lambda t: t], 1, x, use_reentrant=True, foo=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        checkpoint_sequential([lambda t: t * 2] * 4, 2, x, use_reentrant=False)


def test_determinism_check_catches_a_changed_shape():
    calls = []

    def f(t):
        calls.append(1)
        return t * 2 if len(calls) == 1 else t.reshape(1, -1) * 2
    x = tg.Tensor(np.ones(3), requires_grad=True)
    y = checkpoint(f, x, use_reentrant=False)
    with pytest.raises(RuntimeError, match="different metadata"):
        y.sum().backward()


def _peak_mib(segments, reentrant, depth=20, width=128, batch=1024):
    tg.manual_seed(0)
    layers = [m for _ in range(depth) for m in (nn.Linear(width, width), nn.ReLU())]
    model = nn.Sequential(*layers)
    x = tg.Tensor(np.ones((batch, width), np.float32), requires_grad=True)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        y = model(x) if segments is None else \
            checkpoint_sequential(model, segments, x, use_reentrant=reentrant)
        y.sum().backward()
        return (tracemalloc.get_traced_memory()[1] - base) / 2 ** 20
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("reentrant", VARIANTS)
def test_memory_saving_on_a_20_layer_mlp(reentrant):
    # 40 activations of 0.5 MiB kept by the plain graph; 5 segments keep ~8 boundaries plus one
    # segment's recomputation (figures: docs/api.md)
    plain, ck = _peak_mib(None, reentrant), _peak_mib(5, reentrant)
    assert ck < 0.5 * plain, (plain, ck)


def test_utils_data_is_the_data_package():
    import tinygrad_norm.data as data
    from tinygrad_norm.utils.data import DataLoader, TensorDataset
    import tinygrad_norm.utils.data as udata
    assert udata is data and DataLoader is data.DataLoader and TensorDataset is data.TensorDataset
    assert tg.utils.data is data


@pytest.mark.parametrize("reentrant", VARIANTS)
def test_a_pruned_layer_inside_a_checkpoint(reentrant):
    # the pruning pre-hook recomputes weight = weight_orig * weight_mask inside the segment:
    # the gradient reaches weight_orig, zero where pruned, as without the checkpoint
    from tinygrad_norm.nn.utils import prune
    x_np, g_np = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 2))

    def grads(use):
        tg.manual_seed(0)
        m = nn.Linear(4, 2).double()
        prune.l1_unstructured(m, "weight", 3)
        x = tg.Tensor(x_np.copy(), requires_grad=True)
        (checkpoint(m, x, use_reentrant=reentrant) if use else m(x)).backward(tg.Tensor(g_np))
        return m.weight_orig.grad.numpy(), x.grad.numpy(), m.weight_mask.numpy()
    plain, ck = grads(False), grads(True)
    for a, b in zip(plain, ck):
        assert np.array_equal(a, b)
    assert np.all(ck[0][ck[2] == 0] == 0) and (ck[2] == 0).sum() == 3
