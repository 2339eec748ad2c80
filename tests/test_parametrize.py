"""nn.utils.parametrize and nn.utils.parametrizations (weight norm, spectral norm) against
torch 2.13: state dict keys and shapes, values, gradients, the power iteration's buffers over
training steps, and the parametrize machinery (assignment, removal, caching, errors)."""
import copy

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import nn, optim
from tinygrad_norm.nn.utils import parametrizations as PZ
from tinygrad_norm.nn.utils import parametrize as P
from conftest import gradchecks


def _pair(torch, ours, theirs):
    """Our module with torch's weights (float64)."""
    t, m = theirs().double(), ours().double()
    m.load_state_dict({k: tg.Tensor(v.detach().numpy().copy()) for k, v in t.state_dict().items()})
    return m, t


def _same_state(m, t, rtol=1e-13):
    ours, theirs = m.state_dict(), t.state_dict()
    assert list(ours) == list(theirs)
    for k, v in theirs.items():
        assert ours[k].shape == tuple(v.shape), k
        np.testing.assert_allclose(ours[k].numpy(), v.numpy(), rtol=rtol, atol=1e-15, err_msg=k)


def _step(torch, m, t, shape, seed):
    """One forward and backward of both under the same input and upstream gradient; compares
    outputs and every parameter's gradient."""
    x = np.random.default_rng(seed).standard_normal(shape)
    for p in m.parameters():
        p.grad = None
    t.zero_grad()
    y, ty = m(tg.Tensor(x)), t(torch.tensor(x))
    g = np.random.default_rng(seed + 100).standard_normal(y.shape)
    y.backward(tg.Tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-13)
    for (name, p), tp in zip(m.named_parameters(), t.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-11, atol=1e-12,
                                   err_msg=name)


LAYERS = {
    "linear": (lambda: nn.Linear(5, 4), "Linear", (5, 4), (3, 5)),
    "conv2d": (lambda: nn.Conv2d(2, 3, 3), "Conv2d", (2, 3, 3), (2, 2, 5, 5)),
    "convT2d": (lambda: nn.ConvTranspose2d(3, 2, 3), "ConvTranspose2d", (3, 2, 3), (2, 3, 4, 4)),
}


@pytest.mark.parametrize("dim", [0, 1, None, -1])
@pytest.mark.parametrize("layer", list(LAYERS))
def test_weight_norm_as_torch(torch, layer, dim):
    ours, name, args, shape = LAYERS[layer]
    m, t = _pair(torch, ours, lambda: getattr(torch.nn, name)(*args))
    PZ.weight_norm(m, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(t, dim=dim)
    assert type(m).__name__ == type(t).__name__ == f"Parametrized{name}"
    _same_state(m, t)
    for seed in range(2):
        _step(torch, m, t, shape, seed)


@pytest.mark.parametrize("layer", list(LAYERS))
def test_spectral_norm_power_iteration_as_torch(torch, layer):
    ours, name, args, shape = LAYERS[layer]
    m, t = _pair(torch, ours, lambda: getattr(torch.nn, name)(*args))
    PZ.spectral_norm(m, n_power_iterations=2)
    torch.nn.utils.parametrizations.spectral_norm(t, n_power_iterations=2)
    # the starting vectors are random in both: ours take torch's
    m.load_state_dict({k: tg.Tensor(v.numpy().copy()) for k, v in t.state_dict().items()})
    for seed in range(3):  # training: every access runs the power iteration on the buffers
        _step(torch, m, t, shape, seed)
        _same_state(m, t, rtol=1e-12)
    m.eval(), t.eval()
    u = m.parametrizations.weight[0]._u.numpy().copy()
    _step(torch, m, t, shape, 7)
    np.testing.assert_array_equal(m.parametrizations.weight[0]._u.numpy(), u)  # eval: no update


def test_spectral_norm_of_a_vector_is_its_normalization(torch):
    m, t = _pair(torch, lambda: nn.Linear(3, 4), lambda: torch.nn.Linear(3, 4))
    PZ.spectral_norm(m, "bias")
    torch.nn.utils.parametrizations.spectral_norm(t, "bias")
    _same_state(m, t)
    _step(torch, m, t, (2, 3), 0)


def test_spectral_norm_estimates_the_largest_singular_value():
    tg.manual_seed(0)
    m = PZ.spectral_norm(nn.Linear(6, 5).double(), n_power_iterations=20)
    sigma = np.linalg.svd(m.weight.numpy(), compute_uv=False)[0]
    assert sigma == pytest.approx(1.0, rel=1e-6)


def test_two_forwards_then_one_backward_as_a_gan_step():
    # the second training access updates the buffers in place; the first graph keeps its copies
    tg.manual_seed(0)
    m = PZ.spectral_norm(nn.Linear(4, 1).double())
    x1, x2 = tg.Tensor(np.ones((2, 4))), tg.Tensor(np.full((2, 4), 2.0))
    (m(x1).sum() - m(x2).sum()).backward()
    assert all(p.grad is not None for p in m.parameters())


def test_weight_norm_trains_as_torch(torch):
    m, t = _pair(torch, lambda: nn.Linear(4, 3), lambda: torch.nn.Linear(4, 3))
    PZ.weight_norm(m)
    torch.nn.utils.parametrizations.weight_norm(t)
    opt, topt = optim.SGD(m.parameters(), lr=0.1, momentum=0.9), \
        torch.optim.SGD(t.parameters(), lr=0.1, momentum=0.9)
    x = np.random.default_rng(0).standard_normal((8, 4))
    for _ in range(5):
        opt.zero_grad(), topt.zero_grad()
        m(tg.Tensor(x)).tanh().sum().backward()
        t(torch.tensor(x)).tanh().sum().backward()
        opt.step(), topt.step()
    _same_state(m, t, rtol=1e-12)


def test_weight_norm_derivatives():
    wn = PZ._WeightNorm(0)
    gradchecks(lambda g, v: wn(g, v), [np.array([[1.5], [0.7]]),
                                      np.random.default_rng(0).standard_normal((2, 3))])


class _Double(nn.Module):
    calls = 0

    def forward(self, x):
        _Double.calls += 1
        return x * 2

    def right_inverse(self, x):
        return x * 0.5


class _Shift(nn.Module):  # no right_inverse: the original is stored as it is
    def forward(self, x):
        return x + 1


def test_register_assign_and_remove_as_torch(torch):
    m, t = _pair(torch, lambda: nn.Linear(3, 2), lambda: torch.nn.Linear(3, 2))
    w = m.weight
    P.register_parametrization(m, "weight", _Double())

    class TDouble(torch.nn.Module):
        def forward(self, x):
            return x * 2

        def right_inverse(self, x):
            return x * 0.5
    torch.nn.utils.parametrize.register_parametrization(t, "weight", TDouble())
    assert m.parametrizations.weight.original is w  # the same Parameter: optimizers follow it
    _same_state(m, t)
    np.testing.assert_allclose(m.weight.numpy(), t.weight.detach().numpy(), rtol=1e-15)
    assert P.is_parametrized(m) and P.is_parametrized(m, "weight")
    assert not P.is_parametrized(m, "bias") and P.type_before_parametrizations(m) is nn.Linear
    new = np.arange(6.0).reshape(2, 3)
    m.weight = tg.Tensor(new)  # through right_inverse
    with torch.no_grad():
        t.weight = torch.tensor(new)
    _same_state(m, t)
    np.testing.assert_array_equal(m.weight.numpy(), new)
    P.remove_parametrizations(m, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(t, "weight")
    assert type(m) is nn.Linear and m.weight is w and not P.is_parametrized(m)
    _same_state(m, t)


def test_remove_leaving_the_original(torch):
    m = nn.Linear(3, 2).double()
    before = m.weight.numpy().copy()
    P.register_parametrization(m, "weight", _Shift())
    np.testing.assert_array_equal(m.weight.numpy(), before + 1)
    P.remove_parametrizations(m, "weight", leave_parametrized=False)
    np.testing.assert_array_equal(m.weight.numpy(), before)
    wn = PZ.weight_norm(nn.Linear(3, 2))
    with pytest.raises(ValueError, match="sequence of tensors"):
        P.remove_parametrizations(wn, "weight", leave_parametrized=False)
    value = wn.weight.numpy()
    P.remove_parametrizations(wn, "weight")
    assert isinstance(wn.weight, nn.Parameter)
    np.testing.assert_array_equal(wn.weight.numpy(), value)
    assert list(wn.state_dict()) == ["bias", "weight"]


def test_chained_parametrizations_apply_in_order(torch):
    m = nn.Linear(3, 2).double()
    w = m.weight.numpy().copy()
    P.register_parametrization(m, "weight", _Double())
    P.register_parametrization(m, "weight", _Shift())
    np.testing.assert_allclose(m.weight.numpy(), w + 1)  # original w / 2, doubled, plus one
    assert len(m.parametrizations.weight) == 2


def test_cached_computes_once():
    m = P.register_parametrization(nn.Linear(3, 2), "weight", _Double())
    x = tg.Tensor(np.ones((1, 3), np.float32))
    _Double.calls = 0
    with P.cached():
        for _ in range(4):
            m(x)
    assert _Double.calls == 1
    m(x)
    assert _Double.calls == 2


def test_deepcopy_and_state_dict_round_trip():
    m = PZ.weight_norm(nn.Linear(3, 2))
    c = copy.deepcopy(m)
    np.testing.assert_array_equal(c.weight.numpy(), m.weight.numpy())
    fresh = PZ.weight_norm(nn.Linear(3, 2))
    fresh.load_state_dict(m.state_dict())
    np.testing.assert_array_equal(fresh.weight.numpy(), m.weight.numpy())


def test_errors_are_named_and_change_nothing():
    m = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        P.register_parametrization(m, "nope", _Double())
    with pytest.raises(TypeError, match="parametrization must be a Module"):
        P.register_parametrization(m, "weight", lambda x: x)

    class Shrink(nn.Module):
        def forward(self, x):
            return x[:1]
    with pytest.raises(ValueError, match="may not change the shape"):
        P.register_parametrization(m, "weight", Shrink())
    assert type(m) is nn.Linear and "weight" in m._parameters  # refused before any change
    with pytest.raises(ValueError, match="does not have a parametrization"):
        P.remove_parametrizations(m, "weight")
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        PZ.spectral_norm(m, n_power_iterations=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        PZ.spectral_norm(m, dim=2)
    with pytest.raises(ValueError, match="no parameter or buffer with name"):
        PZ.weight_norm(m, "nope")
    assert type(m) is nn.Linear and "weight" in m._parameters


def test_review_findings_on_registration_assignment_and_unsafe(torch):
    # a refused registration changes nothing (the weight was halved before the check); a
    # parametrization without right_inverse refuses assignment even when unsafe; unsafe
    # carries over to appended ones; a right_inverse changing the dtype is refused; an
    # assignment keeps the originals' .grad; an appended one's right_inverse is checked
    class Bad(nn.Module):
        def forward(self, x):
            return x.sum(axis=0)

        def right_inverse(self, x):
            return x / 2
    m = nn.Linear(2, 2)
    before = m.weight.numpy().copy()
    with pytest.raises(ValueError, match="may not change the shape"):
        P.register_parametrization(m, "weight", Bad())
    np.testing.assert_array_equal(m.weight.numpy(), before)

    class Twice(nn.Module):
        def forward(self, x):
            return x * 2

    class Widen(nn.Module):
        def forward(self, x):
            return x.astype(np.float64)

        def right_inverse(self, x):
            return x.astype(np.float64)
    u = P.register_parametrization(nn.Linear(2, 3), "weight", Twice(), unsafe=True)
    with pytest.raises(RuntimeError, match="Twice does not implement right_inverse"):
        u.weight = tg.Tensor(np.eye(3, 2, dtype=np.float32))
    with pytest.raises(ValueError, match="may not change the dtype"):
        P.register_parametrization(nn.Linear(2, 2), "weight", Widen(), unsafe=True)
    v = P.register_parametrization(nn.Linear(2, 2), "weight", _Double())
    P.register_parametrization(v, "weight", _Shift(), unsafe=True)
    assert v.parametrizations.weight.unsafe

    class BadInverse(nn.Module):
        def forward(self, x):
            return x

        def right_inverse(self, x):
            return x[0]
    with pytest.raises(ValueError, match="right_inverse gives shape"):
        P.register_parametrization(v, "weight", BadInverse())
    w = P.register_parametrization(nn.Linear(2, 2), "weight", _Double())
    w(tg.Tensor(np.ones((1, 2), np.float32))).sum().backward()
    g = w.parametrizations.weight.original.grad.numpy().copy()
    w.weight = tg.Tensor(np.ones((2, 2), np.float32))
    np.testing.assert_array_equal(w.parametrizations.weight.original.grad.numpy(), g)


def test_removing_a_shape_changing_unsafe_parametrization_as_torch(torch):
    class Cut(nn.Module):
        def forward(self, x):
            return x[:, :1]
    m = P.register_parametrization(nn.Linear(2, 3), "weight", Cut(), unsafe=True)
    assert m.weight.shape == (3, 1)
    P.remove_parametrizations(m, "weight")
    assert m.weight.shape == (3, 1) and isinstance(m.weight, nn.Parameter)
