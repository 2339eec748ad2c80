"""nn.AdaptiveLogSoftmaxWithLoss against torch's: the parameter layout and repr, a torch state
dict loaded as it is, then equal outputs, losses and gradients of the input and every parameter
(float64 tight, float32; random upstream gradients on output and loss), log_prob, predict,
unbatched and empty batches, the draws of the eager layers, and torch's errors."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor, nn

# both frameworks warn when div_value leaves a tail with no hidden units
pytestmark = pytest.mark.filterwarnings("ignore:Initializing zero-element tensors is a no-op")

CONFIGS = [  # (in_features, n_classes, cutoffs, div_value, head_bias)
    (8, 10, [3, 6], 2.0, False),
    (8, 10, [3, 6], 4.0, True),
    (16, 30, [5, 12, 20], 2.0, True),
    (6, 4, [1], 4.0, False),  # one cluster; a one-class shortlist
    (2, 10, [3, 6], 4.0, False),  # tails of zero hidden units: uniform within each cluster
    (7, 12, [11], 1.5, True),  # a one-class cluster
]


def _pair(torch, config, dtype=np.float64):
    ours = nn.AdaptiveLogSoftmaxWithLoss(*config, dtype=dtype)
    theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(
        *config, dtype=torch.float64 if dtype == np.float64 else torch.float32)
    ours.load_state_dict({k: Tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def _targets(n_classes, cutoffs, n, rng):
    # every cluster and the shortlist hit, in shuffled order, plus random ones
    edges = [0] + list(cutoffs) + [n_classes]
    t = [rng.integers(lo, hi) for lo, hi in zip(edges, edges[1:])]
    t += list(rng.integers(0, n_classes, n - len(t)))
    return rng.permutation(np.array(t, np.int64))


def _check_grads(torch, ours, theirs, x, tx, rtol):
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=rtol, atol=rtol * 1e-2)
    for (k, p), (k2, t) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert k == k2
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=rtol * 1e-2,
                                   err_msg=k)


@pytest.mark.parametrize("config", CONFIGS, ids=[str(c) for c in CONFIGS])
def test_forward_and_gradients_as_torch(torch, config):
    ours, theirs = _pair(torch, config)
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    rng = np.random.default_rng(0)
    a = rng.standard_normal((11, config[0]))
    t = _targets(config[1], config[2], 11, rng)
    x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = ours(x, Tensor(t)), theirs(tx, torch.tensor(t))
    assert type(out).__name__ == "_ASMoutput" and out._fields == ("output", "loss")
    np.testing.assert_allclose(out.output.numpy(), ref.output.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(out.loss.item(), ref.loss.item(), rtol=1e-12)
    # a random upstream gradient on both outputs
    g, h = rng.standard_normal(11), rng.standard_normal()
    ((out.output * Tensor(g)).sum() + out.loss * h).backward()
    ((ref.output * torch.tensor(g)).sum() + ref.loss * h).backward()
    _check_grads(torch, ours, theirs, x, tx, 1e-10)


@pytest.mark.parametrize("config", CONFIGS[:3], ids=[str(c) for c in CONFIGS[:3]])
def test_log_prob_and_predict_as_torch(torch, config):
    ours, theirs = _pair(torch, config)
    rng = np.random.default_rng(1)
    a = rng.standard_normal((40, config[0])) * 3
    x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    lp, ref = ours.log_prob(x), theirs.log_prob(tx)
    assert lp.shape == (40, config[1])
    np.testing.assert_allclose(lp.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.exp(lp.numpy()).sum(1), 1, rtol=1e-12)  # a distribution
    g = rng.standard_normal(lp.shape)
    lp.backward(Tensor(g))
    ref.backward(torch.tensor(g))
    _check_grads(torch, ours, theirs, x, tx, 1e-10)
    pred = ours.predict(Tensor(a))
    assert pred.dtype == np.int64
    np.testing.assert_array_equal(pred.numpy(), theirs.predict(torch.tensor(a)).numpy())
    np.testing.assert_array_equal(pred.numpy(), lp.numpy().argmax(1))
    assert not pred.requires_grad


def test_predict_rows_all_in_and_all_out_of_the_shortlist(torch):
    ours, theirs = _pair(torch, (4, 6, [2], 4.0, True))
    with tg.no_grad():  # the head's bias decides where every row's argmax lands
        for bias, want in (([9, 0, -9], "short"), ([-9, -9, 9], "tail")):
            ours.head.bias.data[...] = bias
            theirs.head.bias.data[...] = torch.tensor(bias, dtype=torch.float64)
            a = np.random.default_rng(2).standard_normal((5, 4))
            pred = ours.predict(Tensor(a)).numpy()
            np.testing.assert_array_equal(pred, theirs.predict(torch.tensor(a)).numpy())
            assert (pred < 2).all() if want == "short" else (pred >= 2).all()


def test_float32_as_torch(torch):
    ours, theirs = _pair(torch, CONFIGS[2], np.float32)
    rng = np.random.default_rng(3)
    a = rng.standard_normal((9, 16)).astype(np.float32)
    t = _targets(30, [5, 12, 20], 9, rng)
    x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = ours(x, Tensor(t)), theirs(tx, torch.tensor(t))
    assert out.output.dtype == out.loss.dtype == np.float32
    np.testing.assert_allclose(out.output.numpy(), ref.output.detach().numpy(), rtol=1e-5)
    g = rng.standard_normal(9).astype(np.float32)
    (out.output * Tensor(g)).sum().backward()
    (ref.output * torch.tensor(g)).sum().backward()
    _check_grads(torch, ours, theirs, x, tx, 1e-4)


def test_unbatched_single_and_empty_batches_as_torch(torch):
    ours, theirs = _pair(torch, CONFIGS[0])
    a = np.random.default_rng(4).standard_normal(8)
    for target in (1, 4, 9):  # shortlist, first and last cluster
        out = ours(Tensor(a), Tensor(np.array(target)))
        ref = theirs(torch.tensor(a), torch.tensor(target))
        assert out.output.shape == () and out.loss.shape == ()
        np.testing.assert_allclose(out.output.item(), ref.output.item(), rtol=1e-12)
    one = ours(Tensor(a[None]), Tensor(np.array([7])))
    np.testing.assert_allclose(one.output.numpy(), theirs(torch.tensor(a[None]),
                                                          torch.tensor([7])).output.detach(),
                               rtol=1e-12)
    empty = ours(Tensor(np.zeros((0, 8))), Tensor(np.zeros(0, np.int64)))
    assert empty.output.shape == (0,) and np.isnan(empty.loss.item())  # as torch's
    assert ours.log_prob(Tensor(np.zeros((0, 8)))).shape == (0, 10)
    assert ours.predict(Tensor(np.zeros((0, 8)))).shape == (0,)


def test_gradcheck_and_second_derivatives():
    m = nn.AdaptiveLogSoftmaxWithLoss(5, 9, [2, 5], div_value=2.0, head_bias=True,
                                      dtype=np.float64)
    x = Tensor(np.random.default_rng(5).standard_normal((6, 5)), requires_grad=True)
    t = Tensor(np.array([0, 8, 3, 1, 5, 4]))
    assert tg.gradcheck(lambda v: m(v, t).output, [x])
    assert tg.gradgradcheck(lambda v: m(v, t).loss, [x])
    assert tg.gradcheck(lambda v: m.log_prob(v), [x])


def test_draws_are_the_eager_layers_in_torchs_order():
    tg.manual_seed(9)
    m = nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 6], div_value=2.0, head_bias=True)
    tg.manual_seed(9)  # head, then each cluster's two layers, as torch builds them
    head, t0 = nn.Linear(8, 5, bias=True), nn.Linear(8, 4, bias=False)
    t1, t2 = nn.Linear(4, 3, bias=False), nn.Linear(8, 2, bias=False)
    t3 = nn.Linear(2, 4, bias=False)
    for p, q in zip(m.parameters(), [head.weight, head.bias, t0.weight, t1.weight, t2.weight,
                                     t3.weight]):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    m.reset_parameters()  # redraws every layer, as torch's
    assert not np.array_equal(m.head.weight.numpy(), head.weight.numpy())


@pytest.mark.parametrize("cutoffs", [[], [3, 3], [0, 3], [3, 10], [6, 3], [2.5]])
def test_bad_cutoffs_as_torch(torch, cutoffs):
    with pytest.raises(ValueError) as ours:
        nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs)
    with pytest.raises(ValueError) as theirs:
        torch.nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs)
    assert str(ours.value) == str(theirs.value)


def test_bad_arguments():
    with pytest.raises(TypeError, match="cutoffs must be a sequence of ints"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 10, 3)
    with pytest.raises(TypeError, match="cutoffs must be a sequence of ints"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 10, ["3"])
    with pytest.raises(ValueError, match="div_value"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3], div_value=0)
    with pytest.raises(TypeError, match="head_bias"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3], head_bias="yes")
    with pytest.raises(TypeError, match="in_features"):
        nn.AdaptiveLogSoftmaxWithLoss(8.0, 10, [3])
    # an integral float is taken, as torch's check takes it
    assert nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3.0]).cutoffs == [3, 10]


FORWARD_ERRORS = [  # (input shape, target, match): torch raises RuntimeError with these words
    ((2, 8), [1, 10], r"Target values should be in \[0, 9\], but values in range \[1, 10\] were "
                      r"found"),
    ((2, 8), [-1, 3], r"values in range \[-1, 3\]"),
    ((3, 8), [1, 3], "Input and target should have the same size in the batch dimension"),
    ((2, 2, 8), [1, 3], "1D target tensor expects 2D input tensors, but found inputs with size"),
    ((2, 8), [[1, 3]], "0D or 1D target tensor expected, multi-target not supported"),
    ((2, 8), 3, "0D target tensor expects 1D input tensors, but found inputs with size"),
]


@pytest.mark.parametrize("shape,target,match", FORWARD_ERRORS)
def test_forward_errors_as_torch(torch, shape, target, match):
    ours, theirs = _pair(torch, CONFIGS[0])
    a = np.zeros(shape)
    with pytest.raises(ValueError, match=match):
        ours(Tensor(a), Tensor(np.array(target)))
    with pytest.raises(RuntimeError, match=match):
        theirs(torch.tensor(a), torch.tensor(target))


def test_forward_errors_of_our_own():
    m = nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 6])
    with pytest.raises(TypeError, match="integer class indices"):
        m(Tensor(np.zeros((2, 8), np.float32)), Tensor(np.array([1.0, 2.0])))
    with pytest.raises(TypeError, match="dtype"):
        m(Tensor(np.zeros((2, 8))), Tensor(np.array([1, 2])))  # float64 into float32
    with pytest.raises(ValueError, match="in_features=8"):
        m(Tensor(np.zeros((2, 7), np.float32)), Tensor(np.array([1, 2])))
    with pytest.raises(ValueError, match="2-D"):
        m.log_prob(Tensor(np.zeros(8, np.float32)))
    with pytest.raises(ValueError, match="2-D"):
        m.predict(Tensor(np.zeros((2, 3, 8), np.float32)))
