"""``nn.utils.weight_norm`` / ``spectral_norm`` (the hook-based forms) against torch's in float64:
the same state-dict keys and shapes; with torch's parameters and buffers copied in, the same
outputs, gradients (random upstream) and power-iteration updates, in training and evaluation;
the same result after ``remove_*``; PyTorch's errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import nn

torch = pytest.importorskip("torch")
tnn = torch.nn

LAYERS = {
    "linear": (lambda N, **d: N.Linear(4, 5, **d), (3, 4)),
    "conv2d": (lambda N, **d: N.Conv2d(2, 3, 3, **d), (2, 2, 5, 5)),
    "convt2d": (lambda N, **d: N.ConvTranspose2d(2, 3, 2, **d), (2, 2, 3, 3)),
}


def _pair(kind):
    build, shape = LAYERS[kind]
    return build(nn, dtype=np.float64), build(tnn).double(), shape


def _copy_in(ours, theirs):
    ours.load_state_dict({k: tg.Tensor(v.detach().numpy().copy())
                          for k, v in theirs.state_dict().items()})


def _shapes(model):
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


def _run(ours, theirs, shape, rng):
    """Forward both on one input, backward a random upstream gradient; compare."""
    x = rng.standard_normal(shape)
    yo, yt = ours(tg.Tensor(x)), theirs(torch.tensor(x))
    g = rng.standard_normal(yt.shape)
    yo.backward(tg.Tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    grads = {n: p.grad.numpy() for n, p in theirs.named_parameters()}
    assert grads.keys() == {n for n, _ in ours.named_parameters()}
    for n, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[n], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("dim", [0, 1, -2, None])
def test_weight_norm_matches_torch(kind, dim):
    ours, theirs, shape = _pair(kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.nn.utils.weight_norm(theirs, dim=dim)
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        nn.utils.weight_norm(ours, dim=dim)
    assert _shapes(ours) == _shapes(theirs)
    _copy_in(ours, theirs)
    rng = np.random.default_rng(0)
    _run(ours, theirs, shape, rng)
    ours.zero_grad()
    theirs.zero_grad()
    _run(ours, theirs, shape, rng)  # the hook recomputes the weight at every call
    nn.utils.remove_weight_norm(ours)
    torch.nn.utils.remove_weight_norm(theirs)
    assert _shapes(ours) == _shapes(theirs) and isinstance(ours.weight, nn.Parameter)
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-12)
    assert not ours._forward_pre_hooks


def test_weight_norm_errors_as_torch():
    lin = nn.Linear(3, 4)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(lin)
    with pytest.raises(ValueError, match="no parameter 'foo'"):
        nn.utils.weight_norm(lin, name="foo")
    with pytest.raises(ValueError, match="no parameter 'running_mean'"):
        nn.utils.weight_norm(nn.BatchNorm1d(3), name="running_mean")  # a buffer
    with pytest.raises(IndexError, match="Dimension out of range"):
        nn.utils.weight_norm(lin, dim=2)
    assert list(lin.state_dict()) == ["weight", "bias"]  # nothing changed
    with pytest.warns(FutureWarning):
        nn.utils.weight_norm(lin)
    with pytest.raises(ValueError, match="Cannot register two weight_norm hooks"):
        nn.utils.weight_norm(lin)


def _spectral_pair(kind, **kw):
    ours, theirs, shape = _pair(kind)
    torch.nn.utils.spectral_norm(theirs, **kw)
    nn.utils.spectral_norm(ours, **kw)
    assert _shapes(ours) == _shapes(theirs)
    _copy_in(ours, theirs)
    return ours, theirs, shape


def _same_buffers(ours, theirs):
    for n, b in theirs.named_buffers():
        np.testing.assert_allclose(ours.get_buffer(n).numpy(), b.numpy(), rtol=1e-12,
                                   atol=1e-15)


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("n", [1, 3])
def test_spectral_norm_trains_and_evaluates_as_torch(kind, n):
    ours, theirs, shape = _spectral_pair(kind, n_power_iterations=n)
    rng = np.random.default_rng(1)
    _run(ours, theirs, shape, rng)  # power iterations from the same u, v
    _same_buffers(ours, theirs)
    ours.eval()
    theirs.eval()
    u = ours.weight_u.numpy().copy()
    ours.zero_grad()
    theirs.zero_grad()
    _run(ours, theirs, shape, rng)
    np.testing.assert_array_equal(ours.weight_u.numpy(), u)  # evaluation does not update u
    nn.utils.remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    assert _shapes(ours) == _shapes(theirs)
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-12)


def test_spectral_norm_two_training_calls_before_one_backward():
    """GAN-style ``D(real) + D(fake)``: each graph keeps the vectors it was built with."""
    ours, theirs, shape = _spectral_pair("linear")
    rng = np.random.default_rng(2)
    x1, x2 = rng.standard_normal(shape), rng.standard_normal(shape)
    (ours(tg.Tensor(x1)).sum() + (ours(tg.Tensor(x2)) ** 2).sum()).backward()
    (theirs(torch.tensor(x1)).sum() + (theirs(torch.tensor(x2)) ** 2).sum()).backward()
    np.testing.assert_allclose(ours.weight_orig.grad.numpy(), theirs.weight_orig.grad.numpy(),
                               rtol=1e-10)
    _same_buffers(ours, theirs)


def test_spectral_norm_default_dim_and_errors():
    for cls, in_ch in ((nn.ConvTranspose1d, 2), (nn.ConvTranspose2d, 2), (nn.ConvTranspose3d, 2)):
        m = nn.utils.spectral_norm(cls(in_ch, 3, 2))
        assert m.weight_u.shape == (3,)  # dim 1: the output channels
        p = nn.utils.parametrizations.spectral_norm(cls(in_ch, 3, 2))
        assert p.parametrizations.weight[0]._u.shape == (3,)
    lin = nn.Linear(3, 4, bias=False)
    with pytest.raises(ValueError, match="n_power_iterations=0"):
        nn.utils.spectral_norm(lin, n_power_iterations=0)
    with pytest.raises(ValueError, match="no parameter 'bias'"):
        nn.utils.spectral_norm(lin, name="bias")
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        nn.utils.remove_spectral_norm(lin)
    assert list(lin.state_dict()) == ["weight"]
    nn.utils.spectral_norm(lin)
    with pytest.raises(ValueError, match="Cannot register two spectral_norm hooks"):
        nn.utils.spectral_norm(lin)
    assert isinstance(lin.weight, tg.Tensor) and not lin.weight.requires_grad  # before a call


def test_a_legacy_weight_norm_checkpoint_loads_into_the_parametrization_as_torch():
    legacy = nn.Sequential(nn.Linear(4, 5, dtype=np.float64))
    with pytest.warns(FutureWarning):
        nn.utils.weight_norm(legacy[0])
    sd = legacy.state_dict()
    ours = nn.Sequential(nn.utils.parametrizations.weight_norm(nn.Linear(4, 5, dtype=np.float64)))
    theirs = torch.nn.Sequential(torch.nn.utils.parametrizations.weight_norm(
        torch.nn.Linear(4, 5).double()))
    assert tuple(ours.load_state_dict(sd)) == ([], [])
    assert tuple(theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in sd.items()})) \
        == ([], [])
    x = np.random.default_rng(3).standard_normal((2, 4))
    np.testing.assert_allclose(ours(tg.Tensor(x)).numpy(), legacy(tg.Tensor(x)).numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(ours(tg.Tensor(x)).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12)
