"""Dropout, Dropout2d and AlphaDropout: the masks (seeded, at the right rate, whole channels), the
two forms (inverted: scale in training, identity in eval; classic: no scale in training, times
1-p in eval) and their expectations, the select (exactly zero output and gradient where dropped,
even for inf/NaN), agreement with ``reference.dropout_*`` under one seed, PyTorch's formulas and
statistics (masks cannot be shared with torch), the modules, the graph contract and the errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn, reference
from tinygrad_norm import random as tg_random

SIGMAS = 5.0


def _within_binomial(count, n, p):
    sigma = math.sqrt(n * p * (1 - p))
    assert abs(count - n * p) <= SIGMAS * sigma + 1e-9, (
        f"{count} of {n} dropped; expected {n * p:.0f} +- {SIGMAS * sigma:.0f} ({SIGMAS} sigma)")


def _gen_state():
    return tg_random.generator().bit_generator.state


# ---- masks --------------------------------------------------------------------------------------

def test_a_seed_reproduces_the_mask():
    x = Tensor(np.ones((50, 40)))
    tg.manual_seed(3)
    a = F.dropout(x, 0.4).data
    tg.manual_seed(3)
    b = F.dropout(x, 0.4).data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, F.dropout(x, 0.4).data), "a second call must draw a new mask"


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("inverted", [True, False])
def test_drop_rate_over_a_million_elements(p, inverted):
    tg.manual_seed(11)
    y = F.dropout(Tensor(np.ones(10**6, dtype=np.float32)), p, inverted=inverted)
    _within_binomial(int(np.count_nonzero(y.data == 0)), 10**6, p)
    kept = y.data[y.data != 0]
    np.testing.assert_array_equal(kept, np.float32(1 / (1 - p)) if inverted else 1)


@pytest.mark.parametrize("p", [0.5, 0.25, 3 / 65536, 0.2, 0.3, 1e-6, 2.0 ** -17, 1 - 2.0 ** -20])
def test_keep_mask_is_a_uniform_thresholded_at_p_from_as_few_random_bits_as_exactness_needs(p):
    """Rebuilt from the generator's raw bytes: one bit per element for p = 1/2 (keep where set,
    most significant bit first); one byte per element elsewhere on the 1/256 grid (keep when
    u8 >= 256 p); otherwise a 32-bit uniform u32 >= round(2**32 p) whose top 16 bits are the
    next two bytes per element, and whose low 16 bits are drawn, in order, only for the elements
    whose top bits alone cannot decide (equal to the threshold's)."""
    shape = (1024, 1031)  # ~16 undecided elements expected per p off the grid
    keep = tg_random.keep_mask(shape, p, np.random.default_rng(5))
    assert keep.dtype == np.bool_ and keep.shape == shape
    rng, n = np.random.default_rng(5), keep.size
    if p == 0.5:
        raw = tg_random.random_bits((n + 7) // 8, rng)
        expected = ((raw[:, None] >> np.arange(7, -1, -1)) & 1).reshape(-1)[:n].astype(bool)
    elif float(p * 256).is_integer():
        expected = tg_random.random_bits(n, rng) >= round(p * 256)
    else:
        threshold = min(round(p * 2.0 ** 32), 2 ** 32 - 1)
        top = tg_random.random_bits(2 * n, rng).view(np.uint16).astype(np.int64)
        undecided = np.flatnonzero(top == threshold >> 16)
        low = tg_random.random_bits(2 * undecided.size, rng).view(np.uint16).astype(np.int64)
        u32 = top << 16  # the low bits of decided elements do not matter: 0 for them
        u32[undecided] += low
        expected = u32 >= threshold
        assert threshold % 65536 == 0 or undecided.size, "the test must reach the low bits"
    np.testing.assert_array_equal(keep.reshape(-1), expected)


@pytest.mark.parametrize("p", [0.2, 0.5, 3 / 65536 * 1000, 2.0 ** -17 * 3])
def test_keep_mask_rate_over_four_million_draws(p):
    tg.manual_seed(21)
    keep = tg_random.keep_mask((2000, 2000), p)
    _within_binomial(int(np.count_nonzero(~keep)), keep.size, p)


def test_keep_mask_takes_p_as_any_real_number_the_same_way():
    # the draw's plan is cached per p; a 0-d array (unhashable) is planned without the cache
    masks = [tg_random.keep_mask((50, 9), p, np.random.default_rng(3))
             for p in (0.5, np.float64(0.5), np.array(0.5), np.float32(0.5))]
    for m in masks[1:]:
        np.testing.assert_array_equal(m, masks[0])


@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
def test_keep_mask_decides_a_tie_for_every_shape_and_returns_an_array(shape):
    """p chosen so that the first element's top 16 bits equal the threshold's: the next 16 bits
    decide it, also for a 0-d mask (whose tie was once written into a copy)."""
    words = tg_random.random_bits(16, np.random.default_rng(0)).view(np.uint16)
    # the element's top half opens the first 64-bit word; its low half is drawn after, from the next
    top, low = int(words[0]), int(words[4])
    for rest, kept in ((1, low >= 1), (low + 1, False), (low, True)):
        keep = tg_random.keep_mask(shape, (top * 65536 + rest) / 2 ** 32, np.random.default_rng(0))
        assert type(keep) is np.ndarray and keep.shape == shape and keep.dtype == np.bool_
        assert keep.reshape(-1)[0] == kept
    assert type(tg_random.keep_mask((), 0.5, np.random.default_rng(0))) is np.ndarray


def test_keep_mask_with_p_next_to_one_keeps_almost_nothing_and_does_not_overflow():
    # p * 2**32 rounds to 2**32, past uint32: the threshold is clamped to the top value
    keep = tg_random.keep_mask((1000, 1000), 1 - 2.0 ** -40, np.random.default_rng(0))
    assert keep.sum() <= 2


def test_random_bits_are_uniform_bytes_and_advance_the_generator():
    rng = np.random.default_rng(7)
    a = tg_random.random_bits(10**6, rng)
    b = tg_random.random_bits(10**6, rng)
    assert a.dtype == np.uint8 and a.shape == (10**6,) and not np.array_equal(a, b)
    counts = np.bincount(a, minlength=256)
    chi2 = float(((counts - 10**6 / 256) ** 2 / (10**6 / 256)).sum())
    assert chi2 < 400, f"chi-square {chi2:.0f} over 255 degrees of freedom"  # p < 1e-7 if uniform
    for k in range(8):  # every bit of the 64-bit words is used, each set half the time
        ones = np.count_nonzero(a[k::8] & 0x80) + np.count_nonzero(a[k::8] & 0x01)
        _within_binomial(ones, 2 * a[k::8].size, 0.5)
    assert np.array_equal(tg_random.random_bits(13, np.random.default_rng(7)), a[:13])


def test_random_bits_from_a_32_bit_generator_take_its_bytes():
    """MT19937's raw words hold 32 random bits in 64: its bytes come from Generator.bytes."""
    rng = np.random.Generator(np.random.MT19937(3))
    a = tg_random.random_bits(1001, rng)
    assert np.array_equal(a, np.frombuffer(np.random.Generator(np.random.MT19937(3)).bytes(1001),
                                           np.uint8))


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
@pytest.mark.parametrize("inverted", [True, False])
def test_expected_training_output_is_the_eval_output(p, inverted):
    """Inverted: E[train] = x = eval. Classic: E[train] = (1-p) x = eval. Checked on the mean of
    10^6 outputs, within 5 sigma of the binomial spread."""
    n, c = 10**6, 1.5
    x = Tensor(np.full(n, c))
    tg.manual_seed(12)
    train = F.dropout(x, p, training=True, inverted=inverted).data
    evald = F.dropout(x, p, training=False, inverted=inverted).data
    keep_value = c / (1 - p) if inverted else c
    sigma = keep_value * math.sqrt(p * (1 - p) / n)  # std of the mean of n scaled Bernoullis
    assert abs(train.mean() - evald.mean()) <= SIGMAS * sigma
    np.testing.assert_allclose(evald, c if inverted else c * (1 - p), rtol=1e-15)


def test_same_mask_as_the_reference_under_one_seed():
    x = np.random.default_rng(0).standard_normal((30, 20))
    dout = np.random.default_rng(1).standard_normal((30, 20))
    for p, inverted in [(0.3, True), (0.6, False)]:
        tg.manual_seed(21)
        xt = Tensor(x.copy(), requires_grad=True)
        y = F.dropout(xt, p, inverted=inverted)
        y.backward(dout)
        want, cache = reference.dropout_forward(x, p, True, inverted, rng=np.random.default_rng(21))
        dx = reference.dropout_backward(dout, cache)
        np.testing.assert_allclose(y.data, want, rtol=1e-10, atol=0)
        np.testing.assert_allclose(xt.grad.data, dx, rtol=1e-10, atol=0)
        np.testing.assert_array_equal(y.data != 0, cache["mask"])


# ---- the select ------------------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [lambda x: F.dropout(x, 0.5), lambda x: F.dropout(x, 0.5, inverted=False),
                                lambda x: F.dropout2d(x, 0.5), lambda x: F.alpha_dropout(x, 0.5, True)],
                         ids=["dropout", "classic", "dropout2d", "alpha_dropout"])
def test_dropped_units_get_exactly_zero_gradient_even_from_nan(fn):
    tg.manual_seed(5)
    x = Tensor(np.random.default_rng(2).standard_normal((8, 6, 3, 3)), requires_grad=True)
    y = fn(x)
    mask = y._node.inputs[0].data
    g = np.full(x.shape, np.nan)
    y.backward(g)
    dropped = ~np.broadcast_to(mask, x.shape)
    assert dropped.any() and (~dropped).any()
    assert np.all(x.grad.data[dropped] == 0)
    assert np.all(np.isnan(x.grad.data[~dropped]))


def test_dropped_inf_and_nan_inputs_give_zero():
    tg.manual_seed(6)
    data = np.where(np.random.default_rng(3).random(1000) < 0.5, np.inf, np.nan)
    y = F.dropout(Tensor(data, requires_grad=True), 0.5)
    kept = y._node.inputs[0].data
    assert (~kept).any() and kept.any()
    assert np.all(y.data[~kept] == 0)
    assert not np.any(np.isfinite(y.data[kept]))


def test_kept_gradient_is_upstream_times_scale():
    tg.manual_seed(7)
    x = Tensor(np.random.default_rng(4).standard_normal((40, 25)) + 3, requires_grad=True)
    g = np.random.default_rng(5).standard_normal(x.shape)
    y = F.dropout(x, 0.25)
    y.backward(g)
    kept = y.data != 0
    np.testing.assert_allclose(x.grad.data, np.where(kept, g * (1 / 0.75), 0), rtol=1e-15)
    np.testing.assert_allclose(y.data, np.where(kept, x.data * (1 / 0.75), 0), rtol=1e-15)


# ---- eval, p = 0, p = 1 ----------------------------------------------------------------------------

def test_eval_is_deterministic_and_draws_nothing():
    x = Tensor(np.random.default_rng(8).standard_normal((5, 4)), requires_grad=True)
    state = _gen_state()
    assert F.dropout(x, 0.7, training=False) is x
    assert F.dropout2d(x.reshape(5, 4, 1, 1), 0.7, training=False).shape == (5, 4, 1, 1)
    assert F.alpha_dropout(x, 0.7) is x  # training=False is alpha_dropout's default, as torch
    a = F.dropout(x, 0.7, training=False, inverted=False)
    b = F.dropout(x, 0.7, training=False, inverted=False)
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_allclose(a.data, x.data * 0.3, rtol=1e-15)
    a.backward(np.ones((5, 4)))
    np.testing.assert_allclose(x.grad.data, 0.3, rtol=1e-15)
    assert _gen_state() == state


def test_p_zero_is_the_identity_and_p_one_gives_zeros_with_zero_gradient():
    x = Tensor(np.random.default_rng(9).standard_normal((6, 3)), requires_grad=True)
    state = _gen_state()
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 0, inverted=False) is x
    for fn in (lambda: F.dropout(x, 1.0), lambda: F.dropout(x, 1.0, inverted=False),
               lambda: F.dropout2d(x.reshape(1, 6, 3, 1), 1.0).reshape(6, 3),
               lambda: F.alpha_dropout(x, 1.0, True)):
        x.grad = None
        y = fn()
        np.testing.assert_array_equal(y.data, 0)
        y.backward(np.full((6, 3), np.nan))
        np.testing.assert_array_equal(x.grad.data, 0)
    assert _gen_state() == state


def test_float32_stays_float32_and_empty_input_keeps_its_shape():
    tg.manual_seed(10)
    x = Tensor(np.ones((4, 5), np.float32), requires_grad=True)
    for y in (F.dropout(x, 0.5), F.dropout(x, 0.5, False, inverted=False),
              F.dropout(x, 0.5, inverted=False), F.alpha_dropout(x, 0.5, True)):
        y.backward(np.ones((4, 5), np.float32))
        assert y.dtype == x.grad.dtype == np.float32
        x.grad = None
    assert F.dropout(Tensor(np.ones((0, 3))), 0.5).shape == (0, 3)
    assert F.dropout2d(Tensor(np.ones((0, 3, 2, 2))), 0.5).shape == (0, 3, 2, 2)


# ---- dropout2d ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fn,shape", [
    ("dropout2d", (6, 5, 3, 4)), ("dropout2d", (7, 3, 4)), ("dropout1d", (6, 5, 7)),
    ("dropout1d", (9, 7)), ("dropout3d", (3, 4, 2, 3, 2)), ("dropout3d", (6, 2, 3, 2))],
    ids=["2d-NCHW", "2d-CHW", "1d-NCL", "1d-CL", "3d-NCDHW", "3d-CDHW"])
@pytest.mark.filterwarnings("ignore:dropout2d. a 3-D input")
def test_channel_dropout_drops_whole_channels(fn, shape):
    tg.manual_seed(13)
    spatial = {"dropout1d": 1, "dropout2d": 2, "dropout3d": 3}[fn]
    x = Tensor(np.random.default_rng(14).standard_normal(shape) + 5, requires_grad=True)
    y = getattr(F, fn)(x, 0.5)
    assert y._node.inputs[0].shape == shape[:-spatial] + (1,) * spatial  # one draw per channel
    g = np.random.default_rng(15).standard_normal(shape)
    y.backward(g)
    planes = y.data.reshape(-1, math.prod(shape[-spatial:]))
    dropped = np.all(planes == 0, axis=1)
    assert dropped.any() and (~dropped).any()
    assert np.all(np.all(planes != 0, axis=1) | dropped), "a channel was dropped only in part"
    keep = ~dropped[:, None]
    np.testing.assert_allclose(planes, np.where(keep, x.data.reshape(planes.shape) * 2, 0),
                               rtol=1e-15)
    np.testing.assert_allclose(x.grad.data.reshape(planes.shape),
                               np.where(keep, g.reshape(planes.shape) * 2, 0), rtol=1e-15)


def test_dropout2d_rate_over_a_million_channels():
    tg.manual_seed(16)
    y = F.dropout2d(Tensor(np.ones((1000, 1000, 1, 1), np.float32)), 0.3)
    _within_binomial(int(np.count_nonzero(y.data == 0)), 10**6, 0.3)


# ---- alpha dropout --------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_alpha_dropout_values_match_torch(torch, p):
    """Masks cannot be shared with torch: on a constant input both produce exactly two values,
    a*c + b (kept) and a*alpha' + b (dropped); they must be torch's two."""
    torch.manual_seed(0)
    tg.manual_seed(0)
    c = 0.75
    theirs = np.unique(torch.nn.functional.alpha_dropout(
        torch.full((4000,), c, dtype=torch.float64), p, True).numpy())
    ours = np.unique(F.alpha_dropout(Tensor(np.full(4000, c)), p, True).data)
    assert len(theirs) == len(ours) == 2
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_alpha_dropout_keeps_mean_and_std(p):
    # PyTorch's own test: on randn(5000), |mean - mean_in| < 0.1 and |std - std_in| < 0.1.
    tg.manual_seed(17)
    x = np.random.default_rng(18).standard_normal(5000)
    y = F.alpha_dropout(Tensor(x), p, True).data
    assert abs(y.mean() - x.mean()) < 0.1 and abs(y.std() - x.std()) < 0.1


def test_alpha_dropout_gradient_is_a_on_kept_units():
    tg.manual_seed(19)
    p = 0.3
    alpha = -1.7580993408473766
    a = ((1 - p) * (1 + p * alpha**2)) ** -0.5
    x = Tensor(np.random.default_rng(20).standard_normal((30, 30)), requires_grad=True)
    y = F.alpha_dropout(x, p, training=True)
    kept = y._node.inputs[0].data
    g = np.random.default_rng(21).standard_normal(x.shape)
    y.backward(g)
    np.testing.assert_allclose(x.grad.data, np.where(kept, a * g, 0), rtol=1e-14)
    np.testing.assert_allclose(y.data[~kept], a * alpha - a * alpha * p, rtol=1e-14)


# ---- torch statistics --------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.2, 0.5])
def test_same_behaviour_as_torch_dropout(torch, p):
    """PyTorch's _test_dropout: the input filled with 1-p; the output mean and the gradient mean
    are within 0.05 of 1-p; eval returns the input; and the same kept value 1."""
    x = Tensor(np.full(1000, 1 - p), requires_grad=True)
    tg.manual_seed(22)
    y = F.dropout(x, p)
    y.backward(np.ones(1000))
    assert abs(y.data.mean() - (1 - p)) < 0.05
    assert abs(x.grad.data.mean() - 1) < 0.05 * 1 / (1 - p)
    ty = torch.nn.functional.dropout(torch.full((1000,), 1 - p, dtype=torch.float64), p)
    np.testing.assert_allclose(np.unique(y.data), np.unique(ty.numpy()), rtol=1e-15)


# ---- the graph contract ------------------------------------------------------------------------

@pytest.mark.parametrize("fn,name,args", [
    (lambda x: F.dropout(x, 0.4), "dropout", {"p": 0.4, "training": True, "inverted": True}),
    (lambda x: F.dropout(x, 0.4, inverted=False), "dropout",
     {"p": 0.4, "training": True, "inverted": False}),
    (lambda x: F.dropout2d(x, 0.4), "dropout2d", {"p": 0.4, "training": True, "inverted": True}),
    (lambda x: F.alpha_dropout(x, 0.4, True), "alpha_dropout", {"p": 0.4, "training": True}),
])
def test_mask_is_a_named_bool_tensor_and_the_where_is_scoped(fn, name, args):
    x = Tensor(np.ones((3, 4, 2, 2)), requires_grad=True)
    y = fn(x)
    node = y._node
    assert node.op.name == "where"
    mask = node.inputs[0]
    assert isinstance(mask, Tensor) and mask.dtype == np.bool_ and mask.name == "dropout mask"
    assert not mask.requires_grad
    assert node.scope.name == name
    for k, v in args.items():
        assert node.scope.args[k] == v
    for t in node.inputs[1:]:  # the scaling multiply sits in the same scope
        if isinstance(t, Tensor) and t._node is not None:
            assert t._node.scope is node.scope


# ---- modules ----------------------------------------------------------------------------------------

def test_dropout_module_follows_the_mode():
    m = nn.Dropout(0.5)
    x = Tensor(np.ones((100, 10)))
    tg.manual_seed(23)
    assert np.any(m(x).data == 0)
    assert repr(m) == "Dropout(p=0.5, inplace=False, inverted=True, mode=train)"
    m.eval()
    assert m(x) is x
    assert repr(m) == "Dropout(p=0.5, inplace=False, inverted=True, mode=eval)"
    classic = nn.Dropout(0.2, inverted=False).eval()
    np.testing.assert_allclose(classic(x).data, 0.8, rtol=1e-6)
    assert repr(classic) == "Dropout(p=0.2, inplace=False, inverted=False, mode=eval)"


def test_dropout2d_and_alpha_dropout_modules():
    x = Tensor(np.ones((4, 8, 2, 2)))
    tg.manual_seed(24)
    d2 = nn.Dropout2d(0.5)
    y = d2(x).data.reshape(32, 4)
    assert np.all((y == 0).all(axis=1) | (y == 2).all(axis=1))
    assert repr(d2) == "Dropout2d(p=0.5, inplace=False, inverted=True, mode=train)"
    for cls, shape in ((nn.Dropout1d, (4, 8, 3)), (nn.Dropout3d, (4, 8, 2, 1, 2))):
        layer, inp = cls(0.5), Tensor(np.ones(shape))
        y = layer(inp).data.reshape(32, -1)
        assert np.all((y == 0).all(axis=1) | (y == 2).all(axis=1))
        assert repr(layer) == f"{cls.__name__}(p=0.5, inplace=False, inverted=True, mode=train)"
        assert layer.eval()(inp) is inp
    ad = nn.AlphaDropout(0.2)
    assert not np.array_equal(ad(x).data, x.data)  # the module trains by default
    assert repr(ad) == "AlphaDropout(p=0.2, inplace=False, mode=train)"
    assert ad.eval()(x) is x


def test_dropout_inside_a_model_turns_off_in_eval():
    model = nn.Sequential(nn.Dropout(0.5), nn.Dropout(0.5, inverted=False))
    x = Tensor(np.ones((10, 10)))
    model.eval()
    np.testing.assert_allclose(model(x).data, 0.5, rtol=1e-7)


# ---- errors ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [-0.1, 1.1, float("nan"), float("inf")])
def test_probability_out_of_range(p):
    x = Tensor(np.ones(3))
    msg = f"dropout probability has to be between 0 and 1, but got {p}"
    for call in (lambda: F.dropout(x, p), lambda: F.dropout2d(Tensor(np.ones((1, 3, 1, 1))), p),
                 lambda: F.alpha_dropout(x, p, True), lambda: nn.Dropout(p),
                 lambda: nn.Dropout2d(p), lambda: nn.AlphaDropout(p)):
        with pytest.raises(ValueError, match=msg.replace(".", r"\.")):
            call()


@pytest.mark.parametrize("call,exc,match", [
    (lambda: F.dropout(Tensor(np.ones(3)), "0.5"), TypeError, "p must be a real number"),
    (lambda: F.dropout(Tensor(np.ones(3, np.int64)), 0.5), TypeError, "floating point"),
    (lambda: F.dropout(Tensor(np.ones(3, np.int64)), 0.5, training=False), TypeError,
     "floating point"),
    (lambda: F.dropout(np.ones(3), 0.5), TypeError, "must be a Tensor"),
    (lambda: F.dropout2d(Tensor(np.ones((2, 3))), 0.5), ValueError,
     r"expected a 3-D \(C, H, W\) or 4-D \(N, C, H, W\) input"),
    (lambda: F.dropout2d(Tensor(np.ones((1, 2, 3, 4, 5))), 0.5), ValueError, "got 5-D input"),
    (lambda: F.dropout1d(Tensor(np.ones(3)), 0.5), ValueError,
     r"expected a 2-D \(C, L\) or 3-D \(N, C, L\) input"),
    (lambda: F.dropout3d(Tensor(np.ones((2, 3, 4))), 0.5), ValueError, "got 3-D input"),
    (lambda: F.alpha_dropout(Tensor(np.ones(3, np.int32)), 0.5, True), TypeError, "floating point"),
    (lambda: nn.Dropout(0.5)([1.0, 2.0]), TypeError, "must be a Tensor"),
    (lambda: F.dropout(Tensor(np.ones(3)), True), TypeError,
     "p must be a real number"),
])
def test_bad_arguments(call, exc, match):
    state = _gen_state()
    with pytest.raises(exc, match=match):
        call()
    assert _gen_state() == state


# ---- departures from PyTorch that must not be silent ------------------------------------------

def test_torch_positional_inplace_is_inplace_never_classic_dropout():
    # PyTorch's dropout(x, p, training, inplace) and nn.Dropout(p, inplace): the fourth (second)
    # positional argument is inplace here too; classic dropout only by the keyword inverted=
    x = Tensor(np.ones((2, 3)))
    tg.manual_seed(5)
    y = F.dropout(x, 0.5, True, False)
    assert y is not x and set(np.unique(y.data)) <= {0.0, 2.0}  # inverted: scaled by 1/(1-p)
    m = nn.Dropout(0.5, False)
    assert m.inplace is False and m.inverted is True
    assert nn.Dropout2d(0.5, True).inplace is True
    assert nn.Dropout(0.5, inverted=False).inverted is False
    for bad in (lambda: F.dropout(x, 0.5, True, "yes"), lambda: nn.Dropout(0.5, 1)):
        with pytest.raises(TypeError, match="inplace"):
            bad()


@pytest.mark.parametrize("fn,shape", [(F.dropout, (4, 6)), (F.dropout1d, (2, 3, 5)),
                                      (F.dropout2d, (2, 3, 4, 4)), (F.dropout3d, (2, 3, 2, 2, 2)),
                                      (F.alpha_dropout, (4, 6)),
                                      (F.feature_alpha_dropout, (2, 3, 4))])
def test_inplace_writes_the_same_values_into_the_input(fn, shape):
    a = np.random.default_rng(1).standard_normal(shape)
    tg.manual_seed(9)
    want = fn(Tensor(a.copy()), 0.4, True).data
    x = Tensor(a.copy())
    view = x.detach()
    tg.manual_seed(9)
    assert fn(x, 0.4, True, True) is x
    np.testing.assert_array_equal(x.data, want)
    np.testing.assert_array_equal(view.data, want)  # the same memory, as torch's
    x = Tensor(a.copy())
    assert fn(x, 0.4, False, True) is x  # eval: nothing to write
    np.testing.assert_array_equal(x.data, a)


def test_inplace_on_a_tensor_that_requires_grad_is_recorded():
    a = np.random.default_rng(2).standard_normal((8, 5))
    u = np.random.default_rng(3).standard_normal((8, 5))
    w = Tensor(a.copy(), requires_grad=True)
    tg.manual_seed(4)
    ref = F.dropout(w * 3.0, 0.3, True)
    ref.backward(Tensor(u))
    want = w.grad.numpy().copy()
    w.grad = None
    h = w * 3.0
    tg.manual_seed(4)
    assert nn.Dropout(0.3, inplace=True)(h) is h
    np.testing.assert_array_equal(h.data, ref.data)
    h.backward(Tensor(u))
    np.testing.assert_array_equal(w.grad.numpy(), want)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        F.dropout(w, 0.3, True, True)  # a leaf, as torch refuses


def test_classic_eval_with_p_one_gives_zeros_even_for_inf_and_nan():
    x = Tensor(np.array([np.nan, -1.0, np.inf]), requires_grad=True)
    y = F.dropout(x, 1.0, training=False, inverted=False)
    np.testing.assert_array_equal(y.data, 0.0)
    want, _ = reference.dropout_forward(x.data, 1.0, training=False, inverted=False)
    np.testing.assert_array_equal(y.data, want)
    y.backward(np.ones(3))
    np.testing.assert_array_equal(x.grad.data, 0.0)
    z = F.dropout2d(Tensor(np.full((1, 2, 2, 2), np.inf)), 1.0, training=False, inverted=False)
    np.testing.assert_array_equal(z.data, 0.0)


def test_dropout2d_says_how_it_reads_a_3d_input():
    with pytest.warns(UserWarning, match=r"\(C, H, W\)"):
        F.dropout2d(Tensor(np.ones((2, 3, 4))), 0.5)


def test_reference_dropout_draws_from_the_seeded_generator_by_default():
    x = np.ones((40, 30))
    tg.manual_seed(3)
    a, _ = reference.dropout_forward(x, 0.5)
    tg.manual_seed(3)
    b, _ = reference.dropout_forward(x, 0.5)
    tg.manual_seed(3)
    c = F.dropout(Tensor(x), 0.5).data
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


# ---- from a randomness/dropout bug hunt ----------------------------------------------------------

def test_float16_dropout_agrees_with_the_reference_and_torch_bit_for_bit(torch):
    """The scale is rounded to float16 first, as PyTorch's kernel and the reference multiply by
    it (a float16 tensor times a Python number computes in float32 since stop 16)."""
    x = np.random.default_rng(0).standard_normal(100_000).astype(np.float16)
    tg.manual_seed(5)
    ours = F.dropout(Tensor(x), 0.1).numpy()
    ref, _ = reference.dropout_forward(x, 0.1, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(ours, ref)
    kept = ours != 0  # torch's kernel: x times the float16-rounded scale
    scale = torch.tensor(1 / 0.9, dtype=torch.float16)
    np.testing.assert_array_equal(ours[kept], (torch.tensor(x[kept]) * scale).numpy())
    classic = F.dropout(Tensor(x), 0.3, training=False, inverted=False).numpy()
    ref, _ = reference.dropout_forward(x, 0.3, training=False, inverted=False)
    np.testing.assert_array_equal(classic, ref)


@pytest.mark.parametrize("call", [
    lambda x: F.dropout(x, 0.5, training="False"), lambda x: F.dropout(x, 0.5, inverted=None),
    lambda x: F.dropout2d(x, 0.5, training=0.0), lambda x: F.alpha_dropout(x, 0.5, training=[]),
    lambda x: nn.Dropout(0.5, inverted=None)])
def test_training_and_inverted_must_be_bools(call):
    # "False" trained and None switched to classic dropout, without a word
    with pytest.raises(TypeError, match="argument '(training|inverted)' must be bool, not"):
        call(Tensor(np.ones((2, 3, 4, 4))))  # PyTorch's words (its binding's)
    F.dropout(Tensor(np.ones(4)), 0.5, training=np.bool_(True))  # NumPy's bool is a bool


def test_seeds_and_the_random_helpers_refuse_what_they_cannot_use():
    for seed in (True, np.bool_(True)):
        with pytest.raises(TypeError, match="seed must be an int"):
            tg.manual_seed(seed)
    for shape, p in (((-1,), 0.3), ((-1, 3), 0.25), ((2,), -0.5), ((2,), 1.5), ((2,), True),
                     ((2,), float("nan"))):
        with pytest.raises(ValueError, match="keep_mask"):
            tg_random.keep_mask(shape, p)
    for n in (-1, -10, 2.0):
        with pytest.raises(ValueError, match="nbytes"):
            tg_random.random_bits(n)


def test_dropout2d_warns_about_a_3d_input_in_eval_too_as_torch():
    with pytest.warns(UserWarning, match="read as unbatched"):
        F.dropout2d(Tensor(np.ones((3, 4, 4))), 0.5, training=False)
