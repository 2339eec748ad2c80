"""set_default_dtype / get_default_dtype against torch's: under a float64 default everything torch
makes in the default dtype is float64 here too (Python floats, int -> float promotion, creation
functions, nn layers' parameters and buffers, distributions, optimizers' scalar state), and a
small training program agrees with torch's to 1e-12. Every test restores float32 (the rest of
the suite assumes it), even when it fails."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.nn as nn
import tinygrad_norm.optim as optim
from tinygrad_norm import default_dtype


@pytest.fixture(autouse=True)
def _restore_default():
    yield
    tg.set_default_dtype(np.float32)
    try:
        import torch
        torch.set_default_dtype(torch.float32)
    except ImportError:
        pass


@pytest.fixture
def f64(torch):
    tg.set_default_dtype(np.float64)
    torch.set_default_dtype(torch.float64)
    return torch


def _name(dt):
    return str(dt).replace("torch.", "")


# ---- the setting itself ------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", [np.float64, np.dtype(np.float64), "float64", tg.float64])
def test_set_and_get(spelling):
    assert tg.get_default_dtype() == np.float32
    tg.set_default_dtype(spelling)
    assert tg.get_default_dtype() == np.float64 and isinstance(tg.get_default_dtype(), np.dtype)
    assert default_dtype.DEFAULT == np.float64  # process-wide: the module global itself
    tg.set_default_dtype("float32")
    assert tg.get_default_dtype() == np.float32


@pytest.mark.parametrize("bad", [np.int64, np.int32, np.bool_, "int64", np.uint8, None, "foo",
                                 np.complex128, object])
def test_refused_types(bad, torch):
    with pytest.raises(TypeError, match="only floating-point types are supported as the "
                                        "default type"):
        tg.set_default_dtype(bad)
    assert tg.get_default_dtype() == np.float32  # unchanged
    with pytest.raises(TypeError, match="only floating-point types are supported"):
        torch.set_default_dtype(torch.int64)  # torch's words, the oracle


def test_float16_refused_here():
    # torch accepts float16 and bfloat16; here only float32 and float64 (see default_dtype.py)
    with pytest.raises(TypeError, match="float32 and float64 here"):
        tg.set_default_dtype(np.float16)
    assert tg.get_default_dtype() == np.float32


# ---- dtypes of what torch makes in the default dtype ---------------------------------------------

def _cases(torch):
    T, tt = tg.tensor, torch.tensor
    return {
        "Tensor(1.5)": (lambda: tg.Tensor(1.5), lambda: torch.Tensor([1.5])),
        "Tensor([0, 2])": (lambda: tg.Tensor([0, 2]), lambda: torch.Tensor([0, 2])),
        "tensor(floats)": (lambda: T([1.0, 2.0]), lambda: tt([1.0, 2.0])),
        "tensor(ints)": (lambda: T([1, 2]), lambda: tt([1, 2])),
        "int + float": (lambda: T([1, 2]) + 1.5, lambda: tt([1, 2]) + 1.5),
        "float * int": (lambda: 1.5 * T([1, 2]), lambda: 1.5 * tt([1, 2])),
        "int / int": (lambda: T([1, 2]) / T([3, 4]), lambda: tt([1, 2]) / tt([3, 4])),
        "int / 2": (lambda: T([1, 2]) / 2, lambda: tt([1, 2]) / 2),
        "2 / int": (lambda: 2 / T([1, 2]), lambda: 2 / tt([1, 2])),
        "float32 + int": (lambda: T([1.0], dtype=np.float32) + T([1]),
                          lambda: tt([1.0], dtype=torch.float32) + tt([1])),
        "float32 * 1.5": (lambda: T([1.0], dtype=np.float32) * 1.5,
                          lambda: tt([1.0], dtype=torch.float32) * 1.5),
        "exp(int)": (lambda: T([1, 2]).exp(), lambda: tt([1, 2]).exp()),
        "sqrt(int)": (lambda: tg.sqrt(T([1, 2])), lambda: torch.sqrt(tt([1, 2]))),
        "sigmoid(int)": (lambda: tg.sigmoid(T([1, 2])), lambda: torch.sigmoid(tt([1, 2]))),
        "xlogy(int, int)": (lambda: tg.xlogy(T([1, 2]), T([3, 4])),
                            lambda: torch.xlogy(tt([1, 2]), tt([3, 4]))),
        "atan2(int, int)": (lambda: tg.atan2(T([1, 2]), T([3, 4])),
                            lambda: torch.atan2(tt([1, 2]), tt([3, 4]))),
        "floor_divide(int, 1.5)": (lambda: tg.floor_divide(T([1, 2]), 1.5),
                                   lambda: torch.floor_divide(tt([1, 2]), 1.5)),
        "div floor int 1.5": (lambda: T([1, 2]).div(1.5, rounding_mode="floor"),
                              lambda: tt([1, 2]).div(1.5, rounding_mode="floor")),
        "where(c, 1.0, 2.0)": (lambda: tg.where(T([True, False]), 1.0, 2.0),
                               lambda: torch.where(tt([True, False]), 1.0, 2.0)),
        "cov(int)": (lambda: tg.cov(T([[1, 2, 3], [2, 3, 5]])),
                     lambda: torch.cov(tt([[1, 2, 3], [2, 3, 5]]))),
        "trapezoid(int)": (lambda: tg.trapezoid(T([1, 2, 3])), lambda: torch.trapezoid(tt([1, 2, 3]))),
        "block_diag()": (lambda: tg.block_diag(), lambda: torch.block_diag()),
        "zeros": (lambda: tg.zeros(2), lambda: torch.zeros(2)),
        "ones": (lambda: tg.ones(2, 3), lambda: torch.ones(2, 3)),
        "full(1.5)": (lambda: tg.full((2,), 1.5), lambda: torch.full((2,), 1.5)),
        "empty": (lambda: tg.empty(2), lambda: torch.empty(2)),
        "rand": (lambda: tg.rand(2), lambda: torch.rand(2)),
        "randn": (lambda: tg.randn(2), lambda: torch.randn(2)),
        "arange(0, 2, 0.5)": (lambda: tg.arange(0, 2, 0.5), lambda: torch.arange(0, 2, 0.5)),
        "linspace": (lambda: tg.linspace(0, 1, 5), lambda: torch.linspace(0, 1, 5)),
        "logspace": (lambda: tg.logspace(0, 1, 5), lambda: torch.logspace(0, 1, 5)),
        "eye": (lambda: tg.eye(2), lambda: torch.eye(2)),
        "normal(0., 1., size)": (lambda: tg.normal(0.0, 1.0, (2,)),
                                 lambda: torch.normal(0.0, 1.0, (2,))),
        "zeros_like(float32)": (lambda: tg.zeros_like(tg.zeros(2, dtype=np.float32)),
                                lambda: torch.zeros_like(torch.zeros(2, dtype=torch.float32))),
        "rand_like(float32)": (lambda: tg.rand_like(tg.zeros(2, dtype=np.float32)),
                               lambda: torch.rand_like(torch.zeros(2, dtype=torch.float32))),
        "Normal(0., 1.)": (lambda: tg.distributions.Normal(0.0, 1.0).sample(),
                           lambda: torch.distributions.Normal(0.0, 1.0).sample()),
        "Uniform(0., 1.)": (lambda: tg.distributions.Uniform(0.0, 1.0).sample(),
                            lambda: torch.distributions.Uniform(0.0, 1.0).sample()),
        "Beta(1., 2.)": (lambda: tg.distributions.Beta(1.0, 2.0).sample(),
                         lambda: torch.distributions.Beta(1.0, 2.0).sample()),
        "Exponential(1.)": (lambda: tg.distributions.Exponential(1.0).sample(),
                            lambda: torch.distributions.Exponential(1.0).sample()),
        "Gamma(1., 2.)": (lambda: tg.distributions.Gamma(1.0, 2.0).sample(),
                          lambda: torch.distributions.Gamma(1.0, 2.0).sample()),
        "Bernoulli(0.3)": (lambda: tg.distributions.Bernoulli(probs=0.3).sample(),
                           lambda: torch.distributions.Bernoulli(probs=0.3).sample()),
        "Normal.log_prob": (lambda: tg.distributions.Normal(0.0, 1.0).log_prob(T(0.5)),
                            lambda: torch.distributions.Normal(0.0, 1.0).log_prob(tt(0.5))),
        "int ** 0.5": (lambda: T([1, 2]) ** 0.5, lambda: tt([1, 2]) ** 0.5),
        "2.0 ** int": (lambda: 2.0 ** T([1, 2]), lambda: 2.0 ** tt([1, 2])),
        "int - 0.5": (lambda: T([1, 2]) - 0.5, lambda: tt([1, 2]) - 0.5),
        "int.clip(0.5)": (lambda: T([1, 2]).clip(0.5), lambda: tt([1, 2]).clip(0.5)),
        "tensor([])": (lambda: T([]), lambda: tt([])),
        "Tensor([])": (lambda: tg.Tensor([]), lambda: torch.Tensor([])),
        "tensor(1.5)": (lambda: T(1.5), lambda: tt(1.5)),
        "as_tensor([1.5])": (lambda: tg.as_tensor([1.5]), lambda: torch.as_tensor([1.5])),
        "logsumexp(int)": (lambda: T([1, 2]).logsumexp(0), lambda: tt([1, 2]).logsumexp(0)),
        "digamma(int)": (lambda: tg.digamma(T([1, 2])), lambda: torch.digamma(tt([1, 2]))),
        "deg2rad(int)": (lambda: tg.deg2rad(T([1, 2])), lambda: torch.deg2rad(tt([1, 2]))),
        "corrcoef(int)": (lambda: tg.corrcoef(T([[1, 2, 3], [2, 3, 5]])),
                          lambda: torch.corrcoef(tt([[1, 2, 3], [2, 3, 5]]))),
        "causal mask": (lambda: nn.Transformer.generate_square_subsequent_mask(3),
                        lambda: torch.nn.Transformer.generate_square_subsequent_mask(3)),
        "full_like(int, 1.5)": (lambda: tg.full_like(T([1, 2]), 1.5),
                                lambda: torch.full_like(tt([1, 2]), 1.5)),
    }


def test_dtypes_follow_the_default(f64):
    torch = f64
    wrong = {}
    for name, (ours, theirs) in _cases(torch).items():
        a, b = np.dtype(ours().dtype), _name(theirs().dtype)
        if str(a) != b:
            wrong[name] = (str(a), b)
    assert not wrong


def test_float32_default_unchanged(torch):
    # the same cases under float32: what the suite always checked stays as it was
    wrong = {}
    for name, (ours, theirs) in _cases(torch).items():
        a, b = np.dtype(ours().dtype), _name(theirs().dtype)
        if str(a) != b:
            wrong[name] = (str(a), b)
    assert not wrong


def test_explicit_dtype_wins(f64):
    assert tg.zeros(2, dtype=np.float32).dtype == np.float32
    assert tg.tensor([1.5], dtype=np.float32).dtype == np.float32
    assert tg.randn(2, dtype="float32").dtype == np.float32
    assert nn.Linear(2, 3, dtype=np.float32).weight.dtype == np.float32
    assert tg.Tensor(np.zeros(2, np.float32)).dtype == np.float32  # an array keeps its dtype
    assert tg.tensor([1.0]).float().dtype == np.float32  # .float() is float32 always, as torch


def test_gradients_in_float64(f64):
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x / 3).sum()
    y.backward()
    assert x.grad.dtype == np.float64 and x.grad.data[0] == 2 / 3
    assert tg.gradcheck(lambda a: (a * tg.tensor([1, 2]) / 3).tanh(), [tg.randn(2, requires_grad=True)])


def test_values_in_float64(f64):
    # not only the dtype: 0.1 is float64's 0.1, not float32's rounded up
    assert tg.tensor([0.1]).data[0] == 0.1
    assert tg.Tensor(0.1).data == 0.1
    assert (tg.tensor([1, 2]) / 3).data[0] == 1 / 3
    np.testing.assert_array_equal(tg.linspace(0, 1, 7).data, f64.linspace(0, 1, 7).numpy())


_LAYERS = {
    "Linear": lambda m: m.Linear(2, 3),
    "Bilinear": lambda m: m.Bilinear(2, 3, 4),
    "Conv1d": lambda m: m.Conv1d(2, 3, 3),
    "Conv2d": lambda m: m.Conv2d(2, 3, 3),
    "Conv3d": lambda m: m.Conv3d(2, 3, 3),
    "ConvTranspose2d": lambda m: m.ConvTranspose2d(2, 3, 3),
    "BatchNorm1d": lambda m: m.BatchNorm1d(3),
    "BatchNorm2d": lambda m: m.BatchNorm2d(3),
    "InstanceNorm1d": lambda m: m.InstanceNorm1d(3, affine=True, track_running_stats=True),
    "LayerNorm": lambda m: m.LayerNorm(3),
    "GroupNorm": lambda m: m.GroupNorm(1, 3),
    "RMSNorm": lambda m: m.RMSNorm(3),
    "RNN": lambda m: m.RNN(2, 3),
    "LSTM": lambda m: m.LSTM(2, 3, proj_size=2),
    "GRU": lambda m: m.GRU(2, 3),
    "LSTMCell": lambda m: m.LSTMCell(2, 3),
    "GRUCell": lambda m: m.GRUCell(2, 3),
    "Embedding": lambda m: m.Embedding(4, 3),
    "EmbeddingBag": lambda m: m.EmbeddingBag(4, 3),
    "MultiheadAttention": lambda m: m.MultiheadAttention(4, 2),
    "TransformerEncoderLayer": lambda m: m.TransformerEncoderLayer(4, 2, 8),
    "PReLU": lambda m: m.PReLU(),
    "AdaptiveLogSoftmaxWithLoss": lambda m: m.AdaptiveLogSoftmaxWithLoss(4, 10, [5]),
}


@pytest.mark.parametrize("layer", sorted(_LAYERS))
def test_layer_parameters_and_buffers(layer, f64):
    ours, theirs = _LAYERS[layer](nn), _LAYERS[layer](f64.nn)
    got = {k: str(v.dtype) for k, v in ours.state_dict().items()}
    want = {k: _name(v.dtype) for k, v in theirs.state_dict().items()}
    assert got == want
    assert "float64" in got.values()


def test_lazy_layers(f64):
    lin = nn.LazyLinear(3)
    lin(tg.randn(2, 4))
    assert lin.weight.dtype == np.float64 and lin.bias.dtype == np.float64
    bn = nn.LazyBatchNorm1d()
    bn(tg.randn(2, 4))
    assert bn.running_mean.dtype == np.float64


def test_module_built_before_the_change_keeps_float32(torch):
    # as torch: the setting is read when a parameter is made, not afterwards
    lin = nn.Linear(2, 3)
    tg.set_default_dtype(np.float64)
    assert lin.weight.dtype == np.float32


def test_buffer_none_and_init(f64):
    assert nn.Buffer().dtype == np.float64
    w = tg.zeros(3, 4)
    nn.init.kaiming_uniform_(w)
    assert w.dtype == np.float64


# ---- optimizers' scalar state: torch's _get_scalar_dtype ------------------------------------------

def _program(torch, opt_name, opt_kw, ours_module, steps=5):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((8, 4)), rng.standard_normal((8, 3))
    # BatchNorm first: a Linear bias just before a BatchNorm has a zero gradient up to rounding
    # noise, which NAdam's g / sqrt(v) would blow up into an update of either sign
    tm = torch.nn.Sequential(torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 3), torch.nn.Tanh())
    om = nn.Sequential(nn.BatchNorm1d(4), nn.Linear(4, 3), nn.Tanh())
    for (k, p), (k2, q) in zip(om.named_parameters(), tm.named_parameters()):
        assert k == k2 and p.dtype == np.float64
        p.data[...] = q.detach().numpy()
    topt = getattr(torch.optim, opt_name)(tm.parameters(), **opt_kw)
    oopt = getattr(optim, opt_name)(om.parameters(), **opt_kw)
    for _ in range(steps):
        topt.zero_grad()
        ((tm(torch.tensor(X)) - torch.tensor(Y)) ** 2).mean().backward()
        topt.step()
        oopt.zero_grad()
        ((om(tg.tensor(X)) - tg.tensor(Y)) ** 2).mean().backward()
        oopt.step()
    return om, tm


@pytest.mark.parametrize("opt_name, opt_kw", [
    ("NAdam", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05, momentum_decay=0.01, weight_decay=0.1)),
    ("ASGD", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, lambd=0.01, t0=2.0)),
])
def test_float64_training_matches_torch(opt_name, opt_kw, f64):
    om, tm = _program(f64, opt_name, opt_kw, nn)
    for (k, p), (_, q) in zip(om.state_dict().items(), tm.state_dict().items()):
        q = q.detach().numpy()
        assert p.dtype == q.dtype, k
        np.testing.assert_allclose(p.data, q, rtol=1e-12, atol=1e-14, err_msg=k)


def test_scalar_type_follows_default():
    assert default_dtype.scalar_type() is np.float32
    tg.set_default_dtype(np.float64)
    assert default_dtype.scalar_type() is np.float64
