"""Functional ops and layers added after the first round, each a composite of existing Tensor
ops: adaptive_avg_pool1d, lp_pool1d/2d, max_unpool1d/2d, the *_with_indices spellings,
gumbel_softmax, rrelu, the in-place activation spellings, bilinear, channel_shuffle, pdist, and
their nn layers. Parity with torch 2.13 (values and gradients under a random upstream gradient,
float64 tight and float32), finite differences in float64, and torch's errors and words."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn, optim

from test_activation_losses import DTYPES, parity


def _rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _torch_error(torch, fn):
    """The message of the error torch raises for ``fn()`` (so a test quotes torch's words)."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - RuntimeError, ValueError, TypeError, IndexError
        return str(e).splitlines()[0]
    raise AssertionError("torch raised nothing")


# ---- adaptive_avg_pool1d -------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,size", [((2, 3, 12), 4), ((2, 3, 7), 3), ((3, 10), 4),
                                        ((2, 3, 5), 8), ((0, 3, 5), (2,)),
                                        ((2, 3, 5), 1)])
def test_adaptive_avg_pool1d_parity(torch, shape, size, dtype):
    parity(torch, lambda a: F.adaptive_avg_pool1d(a, size),
           lambda a: torch.nn.functional.adaptive_avg_pool1d(a, size), [_rand(shape)], dtype)
    layer, theirs = nn.AdaptiveAvgPool1d(size), torch.nn.AdaptiveAvgPool1d(size)
    assert repr(layer) == repr(theirs)
    parity(torch, layer, theirs, [_rand(shape, 1)], dtype)


def test_adaptive_avg_pool1d_empty_output_and_gradcheck(torch):
    x = Tensor(_rand((2, 3, 5)), requires_grad=True)
    out = F.adaptive_avg_pool1d(x, 0)
    assert out.shape == tuple(torch.nn.functional.adaptive_avg_pool1d(torch.zeros(2, 3, 5),
                                                                      0).shape) == (2, 3, 0)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3, 5)))
    # no channels: an empty output, as torch's forward (whose backward raises there)
    assert F.adaptive_avg_pool1d(Tensor(np.zeros((2, 0, 5))), 2).shape == (2, 0, 2)
    y = Tensor(_rand((2, 2, 7)), requires_grad=True)
    assert tg.gradcheck(lambda a: F.adaptive_avg_pool1d(a, 3), [y])
    assert tg.gradgradcheck(lambda a: F.adaptive_avg_pool1d(a * a, 3), [y])


def test_adaptive_avg_pool1d_errors(torch):
    tf = torch.nn.functional.adaptive_avg_pool1d
    x, tx = Tensor(np.zeros((2, 3, 5))), torch.zeros(2, 3, 5)
    with pytest.raises(ValueError, match="should contain one int \\(got 2\\)"):
        F.adaptive_avg_pool1d(x, (2, 3))
    assert "should contain one int (got 2)" in _torch_error(torch, lambda: tf(tx, (2, 3)))
    with pytest.raises(TypeError, match="must be tuple of ints, not float"):
        F.adaptive_avg_pool1d(x, 2.0)
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        F.adaptive_avg_pool1d(x, -1)
    for shape in ((2, 3, 4, 5), (5,)):
        msg = _torch_error(torch, lambda: tf(torch.zeros(shape), 2))
        with pytest.raises(ValueError) as e:
            F.adaptive_avg_pool1d(Tensor(np.zeros(shape)), 2)
        assert str(e.value) == msg
    with pytest.raises(ValueError, match="dimension 2 being empty"):
        F.adaptive_avg_pool1d(Tensor(np.zeros((2, 3, 0))), 2)
    with pytest.raises(TypeError):
        F.adaptive_avg_pool1d(Tensor(np.zeros((2, 3, 5), np.int64)), 2)
    with pytest.raises(ValueError):
        nn.AdaptiveAvgPool1d(-2)  # at construction, before any forward


# ---- lp_pool -----------------------------------------------------------------------------------

LP_CASES = [(2, 3, None, False), (1, 2, 1, False), (3, (2, 3), (1, 2), False),
            (2.5, 2, None, True), (-1, 2, None, False), (math.inf, 2, 1, False),
            (-math.inf, 3, 2, True)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p,k,s,ceil", LP_CASES)
def test_lp_pool2d_parity(torch, p, k, s, ceil, dtype):
    x = _rand((2, 3, 7, 8))
    if p in (2.5, 3, -1):  # a negative window sum has no real root (NaN in both): positive input
        x = np.abs(x) + 0.1
    kw = dict(stride=s, ceil_mode=ceil)
    parity(torch, lambda a: F.lp_pool2d(a, p, k, **kw),
           lambda a: torch.nn.functional.lp_pool2d(a, p, k, **kw), [x], dtype)
    ours, theirs = nn.LPPool2d(p, k, **kw), torch.nn.LPPool2d(p, k, **kw)
    assert repr(ours) == repr(theirs)
    parity(torch, ours, theirs, [x[0]], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p,k,s,ceil", [(2, 3, None, False), (1, 2, 1, True), (3, 4, 3, True),
                                        (math.inf, 2, 1, False)])
def test_lp_pool1d_parity(torch, p, k, s, ceil, dtype):
    x = _rand((2, 3, 11))
    if p == 3:  # a negative window sum has no real root (NaN in both): positive input
        x = np.abs(x) + 0.1
    kw = dict(stride=s, ceil_mode=ceil)
    parity(torch, lambda a: F.lp_pool1d(a, p, k, **kw),
           lambda a: torch.nn.functional.lp_pool1d(a, p, k, **kw), [x], dtype)
    ours, theirs = nn.LPPool1d(p, k, **kw), torch.nn.LPPool1d(p, k, **kw)
    assert repr(ours) == repr(theirs)
    parity(torch, ours, theirs, [x[0]], dtype)


@pytest.mark.filterwarnings("error")  # the root of 0 must not warn of a division by zero
def test_lp_pool_zero_window_has_zero_gradient_as_torch(torch):
    """Where a window is all zeros the root's derivative is infinite; PyTorch masks it to 0
    (sign * relu(abs)), and so must the composite (not NaN)."""
    x = np.abs(_rand((1, 2, 4, 4)))
    x[0, 0, :2, :2] = 0.0
    for p in (2, 3):
        out = parity(torch, lambda a: F.lp_pool2d(a, p, 2),
                     lambda a: torch.nn.functional.lp_pool2d(a, p, 2), [x], np.float64)
        assert out.numpy()[0, 0, 0, 0] == 0


def test_lp_pool_gradcheck_and_errors(torch):
    x = Tensor(np.abs(_rand((1, 2, 5, 6))) + 0.5, requires_grad=True)
    assert tg.gradcheck(lambda a: F.lp_pool2d(a, 3, (2, 3), stride=2), [x])
    assert tg.gradgradcheck(lambda a: F.lp_pool2d(a, 2, 2), [x])
    y = Tensor(np.abs(_rand((2, 7))) + 0.5, requires_grad=True)
    assert tg.gradcheck(lambda a: F.lp_pool1d(a, 1.5, 3, ceil_mode=True), [y])
    x = Tensor(np.zeros((2, 3, 6, 6)))
    with pytest.raises(ValueError, match="non-zero"):
        F.lp_pool2d(x, 0, 3)
    with pytest.raises(TypeError, match="norm_type"):
        F.lp_pool2d(x, "a", 3)
    with pytest.raises(TypeError, match="norm_type"):
        nn.LPPool1d(True, 3)
    with pytest.raises(TypeError, match="ceil_mode"):
        F.lp_pool1d(Tensor(np.zeros((2, 5))), 2, 2, ceil_mode="no")
    with pytest.raises(ValueError, match="too small"):
        F.lp_pool2d(x, 2, 7)
    with pytest.raises(RuntimeError, match="too small"):
        torch.nn.functional.lp_pool2d(torch.zeros(2, 3, 6, 6), 2, 7)


# ---- max_unpool --------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,k,s,p,size", [
    ((2, 3, 6, 6), 2, None, 0, None),
    ((2, 3, 7, 7), 2, None, 0, (7, 7)),
    ((1, 2, 7, 9), (3, 2), (3, 2), (1, 1), (7, 9)),
    ((3, 5, 8), 2, None, 0, (2, 3, 5, 8)),  # unbatched; a 4-number size's last two count
])
def test_max_unpool2d_parity(torch, shape, k, s, p, size, dtype):
    x = _rand(shape)
    _, idx = torch.nn.functional.max_pool2d(torch.tensor(x), k, s, p, return_indices=True)
    pooled = _rand(tuple(idx.shape), 1)
    ind = idx.numpy()
    parity(torch, lambda a: F.max_unpool2d(a, Tensor(ind), k, s, p, size),
           lambda a: torch.nn.functional.max_unpool2d(a, idx, k, s, p, size), [pooled], dtype)
    ours, theirs = nn.MaxUnpool2d(k, s, p), torch.nn.MaxUnpool2d(k, s, p)
    assert repr(ours) == repr(theirs)
    parity(torch, lambda a: ours(a, Tensor(ind), size), lambda a: theirs(a, idx, size),
           [pooled], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,k,s,p,size", [((2, 3, 9), 2, None, 0, None),
                                              ((2, 3, 9), 3, 3, 1, [8]),
                                              ((4, 10), 2, None, 0, (11,))])
def test_max_unpool1d_parity(torch, shape, k, s, p, size, dtype):
    x = _rand(shape)
    _, idx = torch.nn.functional.max_pool1d(torch.tensor(x), k, s, p, return_indices=True)
    pooled, ind = _rand(tuple(idx.shape), 1), idx.numpy()
    parity(torch, lambda a: F.max_unpool1d(a, Tensor(ind), k, s, p, size),
           lambda a: torch.nn.functional.max_unpool1d(a, idx, k, s, p, size), [pooled], dtype)
    ours, theirs = nn.MaxUnpool1d(k, s, p), torch.nn.MaxUnpool1d(k, s, p)
    assert repr(ours) == repr(theirs)
    parity(torch, lambda a: ours(a, Tensor(ind), size), lambda a: theirs(a, idx, size),
           [pooled], dtype)


def test_max_unpool_inverts_our_max_pool():
    """unpool(pool(x)) keeps each window's maximum in place and zeros the rest; the indices
    are those our max_pool2d and max_pool1d return."""
    x = Tensor(_rand((2, 3, 6, 8)), requires_grad=True)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    back = F.max_unpool2d(out, idx, 2)
    kept = back.numpy() != 0
    assert kept.sum() == out.size
    np.testing.assert_array_equal(back.numpy()[kept], x.numpy()[kept])
    back.backward(np.ones(back.shape))
    np.testing.assert_array_equal(x.grad.numpy(), kept.astype(float))
    y = Tensor(_rand((2, 9)))
    out, idx = F.max_pool1d(y, 3, return_indices=True)
    assert F.max_unpool1d(out, idx, 3).shape == (2, 9)


def test_max_unpool_repeated_index_last_write_wins(torch):
    """Overlapping windows that share a winner give one index twice: the value is the same as
    torch's (the last write), and the gradient goes to that write alone (torch: to each)."""
    x = torch.tensor([[[1.0, 5.0, 2.0, 0.0]]])
    pooled, idx = torch.nn.functional.max_pool1d(x, 2, 1, return_indices=True)  # idx [1, 1, 2]
    a = Tensor(np.array([[[3.0, 4.0, 6.0]]]), requires_grad=True)
    out = F.max_unpool1d(a, Tensor(idx.numpy()), 2, 1)
    np.testing.assert_array_equal(out.numpy(), torch.nn.functional.max_unpool1d(
        torch.tensor(a.numpy()), idx, 2, 1).numpy())
    out.backward(np.ones(out.shape))
    np.testing.assert_array_equal(a.grad.numpy(), [[[0.0, 1.0, 1.0]]])


def test_max_unpool_gradcheck():
    x = _rand((1, 2, 6, 6))
    _, idx = F.max_pool2d(Tensor(x), 2, return_indices=True)
    a = Tensor(_rand((1, 2, 3, 3), 1), requires_grad=True)
    assert tg.gradcheck(lambda t: F.max_unpool2d(t, idx, 2), [a])
    assert tg.gradgradcheck(lambda t: F.max_unpool2d(t * t, idx, 2), [a])


def test_max_unpool_errors_in_torch_words(torch):
    tf = torch.nn.functional
    x = _rand((2, 3, 6, 6))
    o, i = tf.max_pool2d(torch.tensor(x), 2, return_indices=True)
    ours_o, ours_i = Tensor(o.numpy()), Tensor(i.numpy())
    cases = [
        (lambda: tf.max_unpool2d(o, i, 2, output_size=(8, 7)),
         lambda: F.max_unpool2d(ours_o, ours_i, 2, output_size=(8, 7)), ValueError),
        (lambda: tf.max_unpool2d(o, i, 2, output_size=(3, 7, 7)),
         lambda: F.max_unpool2d(ours_o, ours_i, 2, output_size=(3, 7, 7)), ValueError),
        (lambda: tf.max_unpool2d(o, i + 20, 2),
         lambda: F.max_unpool2d(ours_o, Tensor(i.numpy() + 20), 2), ValueError),
        (lambda: tf.max_unpool2d(o, i - 20, 2),
         lambda: F.max_unpool2d(ours_o, Tensor(i.numpy() - 20), 2), ValueError),
        (lambda: tf.max_unpool2d(o, i[:, :, :2], 2),
         lambda: F.max_unpool2d(ours_o, Tensor(i.numpy()[:, :, :2]), 2), ValueError),
        (lambda: tf.max_unpool2d(o[0, 0], i[0, 0], 2),
         lambda: F.max_unpool2d(ours_o[0, 0], Tensor(i.numpy()[0, 0]), 2), ValueError),
        (lambda: tf.max_unpool2d(o, i, 2, stride=1),
         lambda: F.max_unpool2d(ours_o, ours_i, 2, stride=1), ValueError),
        (lambda: tf.max_unpool1d(torch.zeros(2, 3, 4), torch.zeros(2, 3, 4, dtype=torch.long)
                                 + 8, 2),
         lambda: F.max_unpool1d(Tensor(np.zeros((2, 3, 4))),
                                Tensor(np.zeros((2, 3, 4), np.int64) + 8), 2), ValueError),
    ]
    for theirs, ours, kind in cases:
        msg = _torch_error(torch, theirs)
        with pytest.raises(kind) as e:
            ours()
        assert str(e.value) == msg
    with pytest.raises(TypeError, match="should be type int64 but got: int32"):
        F.max_unpool2d(ours_o, Tensor(i.numpy().astype(np.int32)), 2)
    with pytest.raises(ValueError, match="2d or 3d Tensor"):
        F.max_unpool1d(Tensor(np.zeros(4)), Tensor(np.zeros(4, np.int64)), 2)
    with pytest.raises(ValueError):
        nn.MaxUnpool2d(0)


# ---- the *_with_indices spellings --------------------------------------------------------------

def test_with_indices_spellings_match_torch(torch):
    tf = torch.nn.functional
    x = _rand((2, 3, 7, 6))
    for ours, theirs, args in [
            (F.max_pool2d_with_indices, tf.max_pool2d_with_indices, (3, 2, 1)),
            (F.max_pool1d_with_indices, tf.max_pool1d_with_indices, (3, 2, 1)),
            (F.adaptive_max_pool2d_with_indices, tf.adaptive_max_pool2d_with_indices, ((3, 4),)),
            (F.adaptive_max_pool1d_with_indices, tf.adaptive_max_pool1d_with_indices, (4,))]:
        a = x if "2d" in ours.__name__ else x[0]
        o, i = ours(Tensor(a), *args)
        to, ti = theirs(torch.tensor(a), *args)
        np.testing.assert_array_equal(o.numpy(), to.numpy())
        np.testing.assert_array_equal(i.numpy(), ti.numpy())
        assert i.dtype == np.int64


# ---- gumbel_softmax ----------------------------------------------------------------------------

def _gumbel_noise(shape, dtype, seed):
    """The draws gumbel_softmax makes after manual_seed(seed): standard exponentials."""
    tg.manual_seed(seed)
    wide = np.float64 if dtype == np.float64 else np.float32
    e = tg.random.generator().standard_exponential(shape, wide).astype(dtype)
    return -np.log(e)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("tau,dim,hard", [(1, -1, False), (0.5, 0, False), (2.0, 1, True),
                                          (1, -1, True)])
def test_gumbel_softmax_given_the_noise(torch, tau, dim, hard, dtype):
    """With the noise the generator draws, the sample and its gradient are torch's composite
    (straight-through for ``hard``)."""
    logits = _rand((4, 5, 3))
    g = _gumbel_noise(logits.shape, dtype, 11)

    def reference(a):
        soft = ((a + torch.from_numpy(g)) / tau).softmax(dim)
        if not hard:
            return soft
        one_hot = torch.zeros_like(soft).scatter_(dim, soft.max(dim, keepdim=True)[1], 1.0)
        return one_hot - soft.detach() + soft

    def ours(a):
        tg.manual_seed(11)
        return F.gumbel_softmax(a, tau=tau, hard=hard, dim=dim)

    out = parity(torch, ours, reference, [logits], dtype)
    if hard:
        assert set(np.unique(out.numpy())) <= {0.0, 1.0}
        np.testing.assert_array_equal(out.numpy().sum(axis=dim), 1.0)


def test_gumbel_softmax_samples_the_categorical():
    """The argmax of a sample is distributed as softmax(logits): frequencies over 20000 draws
    within 0.015 (a few standard errors)."""
    tg.manual_seed(0)
    logits = np.array([1.0, 0.0, -1.0, 2.0])
    many = Tensor(np.broadcast_to(logits, (20000, 4)).copy())
    hard = F.gumbel_softmax(many, tau=0.7, hard=True).numpy()
    freq = hard.mean(axis=0)
    expected = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(freq, expected, atol=0.015)


def test_gumbel_softmax_seeded_gradcheck_and_arguments():
    x = Tensor(_rand((3, 4)), requires_grad=True)
    tg.manual_seed(3)
    a = F.gumbel_softmax(x).numpy()
    tg.manual_seed(3)
    np.testing.assert_array_equal(F.gumbel_softmax(x).numpy(), a)
    assert not np.array_equal(F.gumbel_softmax(x).numpy(), a)  # a fresh draw each call

    def seeded(t):
        tg.manual_seed(5)  # the same noise at every finite-difference evaluation
        return F.gumbel_softmax(t, tau=0.8)
    assert tg.gradcheck(seeded, [x])
    assert tg.gradgradcheck(seeded, [x])
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated"):
        F.gumbel_softmax(x, eps=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.gumbel_softmax(x, eps=1e-10)
    with pytest.raises(TypeError, match="'hard' must be bool"):
        F.gumbel_softmax(x, hard="x")
    with pytest.raises(ValueError, match="out of range"):
        F.gumbel_softmax(x, dim=3)
    with pytest.raises(TypeError, match="floating point"):
        F.gumbel_softmax(Tensor(np.zeros((2, 3), np.int64)))
    assert F.gumbel_softmax(Tensor(np.zeros((0, 3)))).shape == (0, 3)
    assert F.gumbel_softmax(Tensor(np.array(2.0)), hard=True).numpy() == 1.0
    assert F.gumbel_softmax(Tensor(np.zeros((2, 3), np.float32))).dtype == np.float32


# ---- rrelu -------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lower,upper", [(1 / 8, 1 / 3), (0.0, 0.5), (-0.2, 0.1), (0.3, 0.3)])
def test_rrelu_eval_parity(torch, lower, upper, dtype):
    x = _rand((3, 7))
    x[0, :3] = 0.0  # the slope at 0 is the eval slope, as torch's leaky_relu backward
    parity(torch, lambda a: F.rrelu(a, lower, upper),
           lambda a: torch.nn.functional.rrelu(a, lower, upper), [x], dtype)
    ours, theirs = nn.RReLU(lower, upper).eval(), torch.nn.RReLU(lower, upper).eval()
    assert repr(ours) == repr(theirs)
    parity(torch, ours, theirs, [x], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rrelu_training_slopes(torch, dtype):
    """Training: each non-positive element gets its own slope in [lower, upper] (torch's rule:
    the draw applies at 0 too), drawn from the seeded generator; the gradient is that slope."""
    x = _rand((200, 50)).astype(dtype)
    x[0, :5] = 0.0
    lower, upper = 0.1, 0.4
    tg.manual_seed(2)
    t = Tensor(x.copy(), requires_grad=True)
    out = F.rrelu(t, lower, upper, training=True)
    tg.manual_seed(2)
    draws = tg.random.generator().uniform(lower, upper, x.shape).astype(dtype)
    slope = np.where(x <= 0, draws, 1.0).astype(dtype)
    np.testing.assert_array_equal(out.numpy(), x * slope)
    assert out.dtype == dtype
    g = _rand(x.shape, 3).astype(dtype)
    out.backward(g)
    np.testing.assert_array_equal(t.grad.numpy(), g * slope)
    neg = slope[x <= 0]
    assert neg.min() >= lower and neg.max() <= upper
    # torch's slopes follow the same law: compare the means of the two samples
    tt = torch.tensor(x)
    theirs = (torch.nn.functional.rrelu(tt, lower, upper, training=True) / tt).numpy()[x < 0]
    assert abs(theirs.mean() - neg.mean()) < 0.01
    layer = nn.RReLU(lower, upper)
    assert layer.training and not np.array_equal(layer(Tensor(x)).numpy(),
                                                 F.rrelu(Tensor(x), lower, upper).numpy())
    t2 = Tensor(x[:2, :4].astype(np.float64), requires_grad=True)

    def seeded(a):
        tg.manual_seed(9)
        return F.rrelu(a, lower, upper, True)
    assert tg.gradcheck(seeded, [Tensor(np.where(t2.numpy() == 0, 0.5, t2.numpy()),
                                        requires_grad=True)])


def test_rrelu_nan_passes_its_gradient_unscaled_as_torch(torch):
    x = np.array([np.nan, -1.0, 0.0, 2.0])
    t = Tensor(x.copy(), requires_grad=True)
    out = F.rrelu(t, 0.1, 0.3, training=True)
    out.backward(np.ones(4))
    tt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.rrelu(tt, 0.1, 0.3, training=True).backward(torch.ones(4))
    assert np.isnan(out.numpy()[0]) and t.grad.numpy()[0] == tt.grad.numpy()[0] == 1.0


def test_rrelu_errors(torch):
    x = Tensor(np.zeros((2, 3)))
    msg = _torch_error(torch, lambda: torch.nn.functional.rrelu(torch.zeros(2), 0.5, 0.1))
    for training in (False, True):
        with pytest.raises(ValueError) as e:
            F.rrelu(x, 0.5, 0.1, training)
        assert str(e.value) == msg
    with pytest.raises(TypeError, match="argument 'lower' .*must be Number, not str"):
        F.rrelu(x, "a", 0.1, True)
    with pytest.raises(TypeError, match="'training' must be bool, not str"):
        F.rrelu(x, training="yes")
    y = Tensor(np.array([-2.0, 3.0]))
    assert F.rrelu(y, inplace=True) is y and y.data.tolist() == [-2.0 * (1 / 8 + 1 / 3) / 2, 3.0]
    assert repr(nn.RReLU(inplace=True)) == repr(torch.nn.RReLU(inplace=True))
    with pytest.raises(ValueError):
        nn.RReLU(0.5, 0.1)
    with pytest.raises(TypeError):
        F.rrelu(Tensor(np.zeros(3, np.int64)))


# ---- in-place spellings ------------------------------------------------------------------------

INPLACE = [("relu_", ()), ("elu_", (0.7,)), ("leaky_relu_", (0.2,)), ("hardtanh_", (-0.5, 0.8)),
           ("celu_", (1.5,)), ("selu_", ()), ("threshold_", (0.1, -2.0)),
           ("rrelu_", (0.1, 0.3))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,args", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_spellings_write_torch_values(torch, name, args, dtype):
    x = _rand((4, 5)).astype(dtype)
    t = Tensor(x.copy())
    view = t.data  # the array itself: the write goes into it
    result = getattr(F, name)(t, *args)
    assert result is t
    expected = getattr(torch.nn.functional, name)(torch.tensor(x), *args).numpy()
    np.testing.assert_allclose(view, expected, rtol=1e-6 if dtype == np.float32 else 1e-14)
    assert t.dtype == dtype


@pytest.mark.parametrize("name,args", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_spellings_refuse_what_the_tape_cannot_record(torch, name, args):
    x = Tensor(_rand((2, 3)), requires_grad=True)
    before = x.numpy().copy()
    with pytest.raises(RuntimeError, match="in-place"):
        getattr(F, name)(x, *args)
    with pytest.raises(RuntimeError):  # torch refuses a leaf that requires grad too
        getattr(torch.nn.functional, name)(torch.tensor(before, requires_grad=True), *args)
    np.testing.assert_array_equal(x.numpy(), before)
    with tg.no_grad():  # an update of a parameter, as an optimizer step would make it
        getattr(F, name)(x, *args)
    assert not np.array_equal(x.numpy(), before)


def test_inplace_spellings_check_arguments_before_writing():
    x = Tensor(_rand((2, 3)))
    before = x.numpy().copy()
    with pytest.raises(ValueError):
        F.hardtanh_(x, 2.0, 1.0)
    with pytest.raises(ValueError):
        F.rrelu_(x, 0.5, 0.1)
    with pytest.raises(TypeError):
        F.elu_(x, "a")
    np.testing.assert_array_equal(x.numpy(), before)
    with pytest.raises(TypeError):
        F.relu_(before)
    tg.manual_seed(1)
    F.rrelu_(x, training=True)
    tg.manual_seed(1)
    expected = F.rrelu(Tensor(before), training=True).numpy()
    np.testing.assert_array_equal(x.numpy(), expected)


# ---- bilinear ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lead,bias", [((5,), True), ((2, 3), True), ((), True), ((4,), False),
                                       ((0,), True)])
def test_bilinear_parity(torch, lead, bias, dtype):
    arrays = [_rand(lead + (3,)), _rand(lead + (4,), 1), _rand((6, 3, 4), 2)]
    if bias:
        arrays.append(_rand((6,), 3))
    parity(torch, F.bilinear, torch.nn.functional.bilinear, arrays, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bilinear_layer(torch, dtype):
    tg.manual_seed(0)
    ours = nn.Bilinear(3, 4, 5, dtype=dtype)
    theirs = torch.nn.Bilinear(3, 4, 5)
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    bound = 1 / math.sqrt(3)
    for p in ours.parameters():
        assert p.dtype == dtype and np.abs(p.numpy()).max() <= bound
    tg.manual_seed(0)
    again = nn.Bilinear(3, 4, 5, dtype=dtype)
    np.testing.assert_array_equal(again.weight.numpy(), ours.weight.numpy())
    tg.manual_seed(4)
    big = nn.Bilinear(60, 40, 100, bias=False)
    assert big.bias is None and repr(big).endswith("bias=False)")
    # U(-1/sqrt(in1), 1/sqrt(in1)): the bound is in1's alone, its std bound / sqrt(3)
    assert np.abs(big.weight.numpy()).max() <= 1 / math.sqrt(60)
    assert abs(big.weight.numpy().std() * math.sqrt(3 * 60) - 1) < 0.01
    theirs = theirs.to(torch.float64 if dtype == np.float64 else torch.float32)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.numpy()))
        theirs.bias.copy_(torch.tensor(ours.bias.numpy()))
    parity(torch, ours, theirs, [_rand((7, 3)), _rand((7, 4), 1)], dtype)


def test_bilinear_gradcheck():
    rng = np.random.default_rng(0)
    xs = [Tensor(rng.standard_normal(s), requires_grad=True)
          for s in ((2, 3), (2, 4), (5, 3, 4), (5,))]
    assert tg.gradcheck(F.bilinear, xs)
    assert tg.gradgradcheck(F.bilinear, xs)


def test_bilinear_errors_in_torch_words(torch):
    tf = torch.nn.functional.bilinear
    W, a, b = _rand((4, 3, 5)), _rand((2, 3)), _rand((2, 5))
    T = torch.tensor
    cases = [(a, _rand((2, 6)), W, None), (_rand((2, 4)), b, W, None),
             (a, _rand((3, 5)), W, None), (a, _rand((1, 2, 5)), W, None),
             (a, b, W, _rand(3))]
    for args in cases:
        msg = _torch_error(torch, lambda: tf(*[None if v is None else T(v) for v in args]))
        with pytest.raises(ValueError) as e:
            F.bilinear(*[None if v is None else Tensor(v) for v in args])
        assert str(e.value) == msg
    with pytest.raises(TypeError, match="same dtype, got input1: float64, input2: float32"):
        F.bilinear(Tensor(a), Tensor(b.astype(np.float32)), Tensor(W))
    with pytest.raises(ValueError, match="3-D"):
        F.bilinear(Tensor(a), Tensor(b), Tensor(W[0]))
    msg = _torch_error(torch, lambda: torch.nn.Bilinear(0, 5, 2))
    with pytest.raises(ValueError) as e:
        nn.Bilinear(0, 5, 2)
    assert str(e.value) == msg
    assert nn.Bilinear(3, 0, 2)(Tensor(np.zeros((2, 3), np.float32)),
                                Tensor(np.zeros((2, 0), np.float32))).shape == (2, 2)
    with pytest.raises(TypeError):
        nn.Bilinear(3, 5, 2, bias="yes")


# ---- channel_shuffle ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,groups", [((2, 6, 3), 2), ((2, 6, 3, 4), 3), ((1, 8, 2, 2, 2), 4),
                                          ((2, 6, 3), 1), ((2, 6, 3), 6)])
def test_channel_shuffle_parity(torch, shape, groups, dtype):
    x = _rand(shape)
    parity(torch, lambda a: F.channel_shuffle(a, groups),
           lambda a: torch.nn.functional.channel_shuffle(a, groups), [x], dtype)
    ours, theirs = nn.ChannelShuffle(groups), torch.nn.ChannelShuffle(groups)
    assert repr(ours) == repr(theirs)
    parity(torch, ours, theirs, [x], dtype)


def test_channel_shuffle_new_array_ints_and_errors(torch):
    x = Tensor(np.arange(12).reshape(1, 6, 2))
    out = F.channel_shuffle(x, 1)
    assert not np.may_share_memory(out.data, x.data)
    # no channels: torch's forward takes it (its backward divides by zero)
    assert F.channel_shuffle(Tensor(np.zeros((2, 0, 3))), 2).shape == (2, 0, 3)
    np.testing.assert_array_equal(F.channel_shuffle(x, 2).numpy(), torch.nn.functional
                                  .channel_shuffle(torch.arange(12).reshape(1, 6, 2), 2).numpy())
    tf = torch.nn.functional.channel_shuffle
    for shape, groups in (((2, 6, 3), 4), ((2, 6, 3), 0), ((2, 6, 3), -2), ((2, 6), 2), ((6,), 2)):
        msg = _torch_error(torch, lambda: tf(torch.zeros(shape), groups))
        with pytest.raises(ValueError) as e:
            F.channel_shuffle(Tensor(np.zeros(shape)), groups)
        assert str(e.value) == msg
    msg = _torch_error(torch, lambda: tf(torch.zeros(2, 6, 3), 2.0))
    with pytest.raises(TypeError) as e:
        F.channel_shuffle(Tensor(np.zeros((2, 6, 3))), 2.0)
    assert str(e.value) == msg
    with pytest.raises(TypeError):
        nn.ChannelShuffle(2.0)
    y = Tensor(_rand((1, 4, 3)), requires_grad=True)
    assert tg.gradcheck(lambda a: F.channel_shuffle(a, 2), [y])


# ---- pdist -------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [2, 1, 3, 0.5, 1.5, 0, math.inf])
def test_pdist_parity(torch, p, dtype):
    x = _rand((6, 4))
    x[4] = x[1]  # a zero distance: torch's gradient there is 0, not NaN
    parity(torch, lambda a: F.pdist(a, p), lambda a: torch.nn.functional.pdist(a, p), [x], dtype)


@pytest.mark.parametrize("shape", [(1, 4), (0, 4), (3, 0)])
def test_pdist_degenerate_shapes(torch, shape):
    """No pairs, or no coordinates: torch's values (its backward crashes the process on these
    shapes, so the gradient is checked against zeros)."""
    x = Tensor(_rand(shape), requires_grad=True)
    out = F.pdist(x)
    expected = torch.nn.functional.pdist(torch.tensor(x.numpy())).numpy()
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.numpy(), expected)
    out.backward(np.ones(out.shape))
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(shape))


def test_pdist_gradcheck_and_errors(torch):
    x = Tensor(_rand((4, 3)), requires_grad=True)
    for p in (2, 1.5, 3):
        assert tg.gradcheck(lambda a: F.pdist(a, p), [x])
    assert tg.gradgradcheck(F.pdist, [x])
    tf = torch.nn.functional.pdist
    for shape, p, kind in (((3,), 2, ValueError), ((3, 4, 5), 2, ValueError),
                           ((3, 4), -1, ValueError)):
        msg = _torch_error(torch, lambda: tf(torch.zeros(shape), p))
        with pytest.raises(kind) as e:
            F.pdist(Tensor(np.zeros(shape)), p)
        assert str(e.value) == msg
    msg = _torch_error(torch, lambda: tf(torch.zeros(3, 4, dtype=torch.int32)))
    with pytest.raises(TypeError) as e:
        F.pdist(Tensor(np.zeros((3, 4), np.int32)))
    assert str(e.value) == msg
    with pytest.raises(TypeError, match="argument 'p' must be float, not str"):
        F.pdist(x, "a")


# ---- LazyLinear --------------------------------------------------------------------------------

def test_lazy_linear_becomes_the_linear_torch_gives(torch):
    ours, theirs = nn.LazyLinear(3), torch.nn.LazyLinear(3)
    assert repr(ours) == repr(theirs)
    assert ours.has_uninitialized_params()
    opt = optim.SGD(ours.parameters(), lr=0.1)  # built before the first call, as in torch
    x = _rand((4, 2, 5)).astype(np.float32)
    tg.manual_seed(7)
    out = ours(Tensor(x))
    out2 = theirs(torch.tensor(x))
    assert type(ours) is nn.Linear and type(theirs) is torch.nn.Linear
    assert repr(ours) == repr(theirs) and out.shape == tuple(out2.shape) == (4, 2, 3)
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    tg.manual_seed(7)
    plain = nn.Linear(5, 3)  # the same draws as a Linear built with in_features known
    np.testing.assert_array_equal(ours.weight.numpy(), plain.weight.numpy())
    np.testing.assert_array_equal(ours.bias.numpy(), plain.bias.numpy())
    np.testing.assert_allclose(out.numpy(), x @ plain.weight.numpy().T + plain.bias.numpy(),
                               rtol=1e-6)
    before = ours.weight.numpy().copy()
    out.sum().backward()
    opt.step()
    assert not np.array_equal(ours.weight.numpy(), before)


def test_lazy_linear_before_the_first_call_and_bad_input():
    m = nn.LazyLinear(4, bias=False)
    assert m.bias is None and [tuple(v.shape) for v in m.state_dict().values()] == [(4, 0)]
    with pytest.raises(TypeError, match="dtype"):
        m(Tensor(np.zeros((2, 3))))  # float64 into a float32 module: nothing materialized
    assert m.in_features == 0 and type(m) is nn.LazyLinear
    with pytest.raises(TypeError):
        nn.LazyLinear(3, bias="yes")
    with pytest.raises(ValueError):
        nn.LazyLinear(-1)
    m64 = nn.LazyLinear(2, dtype=np.float64)
    x = Tensor(_rand((3, 6)), requires_grad=True)
    assert m64(x).dtype == np.float64 and m64.weight.shape == (2, 6)
    assert tg.gradcheck(lambda a: m64(a), [x])
