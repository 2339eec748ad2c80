"""distributions.Gumbel against torch.distributions.Gumbel (float64)."""
import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import distributions as D

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(11)
LOC, SCALE = RNG.normal(size=(3, 1)), RNG.uniform(0.3, 2.0, size=(4,))
VALUE = RNG.normal(size=(3, 4)) * 2


def _pair():
    ours = [tg.tensor(a, requires_grad=True) for a in (LOC, SCALE)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (LOC, SCALE)]
    return ours, theirs, D.Gumbel(*ours), torch.distributions.Gumbel(*theirs)


@pytest.mark.parametrize("what", ["log_prob", "cdf", "icdf", "entropy", "mean", "mode",
                                  "stddev", "variance"])
def test_values_and_gradients_as_torch(what):
    ours, theirs, g, t = _pair()
    if what in ("log_prob", "cdf"):
        o, w = getattr(g, what)(tg.tensor(VALUE)), getattr(t, what)(torch.tensor(VALUE))
    elif what == "icdf":
        p = RNG.uniform(0.01, 0.99, size=(3, 4))
        o, w = g.icdf(tg.tensor(p)), t.icdf(torch.tensor(p))
    elif what == "entropy":
        o, w = g.entropy(), t.entropy()
    else:
        o, w = getattr(g, what), getattr(t, what)
    np.testing.assert_allclose(o.numpy(), w.detach().numpy(), rtol=1e-12, atol=1e-14)
    if w.requires_grad:
        up = RNG.normal(size=tuple(w.shape))
        o.backward(tg.tensor(up))
        w.backward(torch.tensor(up))
        for a, b in zip(ours, theirs):
            got = np.zeros_like(b.detach().numpy()) if a.grad is None else a.grad.numpy()
            want = np.zeros_like(got) if b.grad is None else b.grad.numpy()
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)


def test_rsample_is_reparameterized_and_has_the_right_moments():
    tg.manual_seed(0)
    loc = tg.tensor(np.array([1.5]), requires_grad=True)
    scale = tg.tensor(np.array([0.7]), requires_grad=True)
    x = D.Gumbel(loc, scale).rsample((200000,))
    assert x.shape == (200000, 1) and np.isfinite(x.numpy()).all()
    assert abs(x.numpy().mean() - (1.5 + 0.7 * 0.5772156649)) < 0.01
    assert abs(x.numpy().std() - 0.7 * np.pi / np.sqrt(6)) < 0.01
    x.mean().backward()
    assert loc.grad.numpy()[0] == pytest.approx(1.0)  # d x / d loc = 1
    assert scale.grad.numpy()[0] == pytest.approx(0.5772, abs=0.01)  # E[(x - loc) / scale]


def test_shapes_expand_and_validation():
    g = D.Gumbel(0.0, 1.0)
    assert g.batch_shape == () and g.sample().dtype == np.float32
    e = D.Gumbel(tg.tensor(LOC), tg.tensor(SCALE)).expand((2, 3, 4))
    assert e.batch_shape == (2, 3, 4) and e.log_prob(tg.tensor(VALUE)).shape == (2, 3, 4)
    with pytest.raises(ValueError, match="Expected parameter scale"):
        D.Gumbel(0.0, -1.0)
