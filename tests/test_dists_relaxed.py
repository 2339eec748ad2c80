"""RelaxedBernoulli, RelaxedOneHotCategorical and OneHotCategoricalStraightThrough against torch
2.13 (float64): log_prob, rsample under the same noise, gradients under a random upstream."""
import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import distributions as D
from tinygrad_norm.distributions.relaxed import ExpRelaxedCategorical, LogitRelaxedBernoulli

from dists_compare import compare, pair

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(3)


@pytest.mark.parametrize("by", ["probs", "logits"])
def test_relaxed_bernoulli_log_prob_and_rsample_as_torch(by):
    temp = np.array([0.3, 0.7, 1.5])
    p = RNG.uniform(0.05, 0.95, size=(2, 3)) if by == "probs" else RNG.normal(size=(2, 3))
    value = RNG.uniform(0.02, 0.98, size=(2, 3))
    ours, theirs = pair([temp, p])
    o = D.RelaxedBernoulli(ours[0], **{by: ours[1]})
    w = torch.distributions.RelaxedBernoulli(theirs[0], **{by: theirs[1]})
    assert o.batch_shape == (2, 3) and o.has_rsample and o.support is D.constraints.unit_interval
    compare(o.log_prob(tg.tensor(value)), w.log_prob(torch.tensor(value)), ours, theirs, seed=1)
    # the reparameterised draw: the same uniforms through both formulas
    ours, theirs = pair([temp, p])
    o = D.RelaxedBernoulli(ours[0], **{by: ours[1]})
    w = torch.distributions.RelaxedBernoulli(theirs[0], **{by: theirs[1]})
    u = RNG.uniform(0.01, 0.99, size=(5, 2, 3))
    got = o.transforms[0](o.base_dist._reparam(tg.tensor(u)))
    wp = torch.distributions.utils.clamp_probs(w.probs.expand(u.shape))
    tu = torch.tensor(u)
    want = torch.sigmoid((tu.log() - (-tu).log1p() + wp.log() - (-wp).log1p()) / theirs[0])
    compare(got, want, ours, theirs, seed=2)


def test_relaxed_bernoulli_draws_shapes_expand_and_limit():
    tg.manual_seed(0)
    d = D.RelaxedBernoulli(tg.tensor(0.05), probs=tg.tensor([0.2, 0.8]))
    x = d.rsample((20000,))
    assert x.shape == (20000, 2) and ((x.numpy() > 0) & (x.numpy() < 1)).all()
    # at a low temperature the draws are near 0/1, with mean near probs
    np.testing.assert_allclose(x.numpy().mean(0), [0.2, 0.8], atol=0.02)
    e = d.expand((3, 2))
    assert e.batch_shape == (3, 2) and e.sample((4,)).shape == (4, 3, 2)
    assert type(e) is D.RelaxedBernoulli and e.temperature is d.temperature
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        D.RelaxedBernoulli(tg.tensor(1.0))
    with pytest.raises(ValueError, match="Expected parameter probs"):
        D.RelaxedBernoulli(tg.tensor(1.0), probs=tg.tensor([1.5]))
    assert LogitRelaxedBernoulli(1.0, logits=0.3).batch_shape == ()


@pytest.mark.parametrize("by", ["probs", "logits"])
def test_relaxed_one_hot_log_prob_and_rsample_as_torch(by):
    temp = np.array(0.7)
    raw = RNG.uniform(0.1, 1.0, size=(2, 4))
    p = raw / raw.sum(-1, keepdims=True) if by == "probs" else RNG.normal(size=(2, 4))
    v = RNG.uniform(0.1, 1.0, size=(3, 2, 4))
    v /= v.sum(-1, keepdims=True)
    ours, theirs = pair([temp, p])
    o = D.RelaxedOneHotCategorical(ours[0], **{by: ours[1]})
    w = torch.distributions.RelaxedOneHotCategorical(theirs[0], **{by: theirs[1]})
    assert o.batch_shape == (2,) and o.event_shape == (4,)
    compare(o.log_prob(tg.tensor(v)), w.log_prob(torch.tensor(v)), ours, theirs, seed=3)
    ours, theirs = pair([temp, p])
    o = D.RelaxedOneHotCategorical(ours[0], **{by: ours[1]})
    w = torch.distributions.RelaxedOneHotCategorical(theirs[0], **{by: theirs[1]})
    u = RNG.uniform(0.01, 0.99, size=(5, 2, 4))
    got = o.base_dist._reparam(tg.tensor(u)).exp()
    tu = torch.tensor(u)
    scores = (w.logits - (-tu.log()).log()) / theirs[0]
    want = (scores - scores.logsumexp(-1, keepdim=True)).exp()
    compare(got, want, ours, theirs, seed=4)


def test_relaxed_one_hot_draws_and_shapes():
    tg.manual_seed(1)
    probs = np.array([0.1, 0.6, 0.3])
    d = D.RelaxedOneHotCategorical(tg.tensor(0.05), probs=tg.tensor(probs))
    x = d.rsample((20000,)).numpy()
    assert x.shape == (20000, 3)
    np.testing.assert_allclose(x.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose((x.argmax(-1)[:, None] == np.arange(3)).mean(0), probs,
                               atol=0.02)
    e = d.expand((2,))
    assert e.batch_shape == (2,) and e.sample().shape == (2, 3)
    assert isinstance(e.base_dist, ExpRelaxedCategorical)
    with pytest.raises(ValueError, match="Expected value argument"):
        d.log_prob(tg.tensor([0.5, 0.6, 0.3]))


def test_straight_through_value_is_one_hot_and_gradient_is_the_probs():
    tg.manual_seed(2)
    logits = tg.tensor(RNG.normal(size=(4, 3)), requires_grad=True)
    d = D.OneHotCategoricalStraightThrough(logits=logits)
    assert d.has_rsample and isinstance(d, D.OneHotCategorical)
    x = d.rsample((2,))
    assert x.shape == (2, 4, 3) and set(np.unique(x.numpy())) <= {0.0, 1.0}
    up = RNG.normal(size=(2, 4, 3))
    (x * tg.tensor(up)).sum().backward()
    # gradient of sum(up * probs) over the draws: the softmax Jacobian of sum_n up_n
    tl = torch.tensor(logits.numpy(), requires_grad=True)
    (torch.softmax(tl, -1) * torch.tensor(up).sum(0)).sum().backward()
    np.testing.assert_allclose(logits.grad.numpy(), tl.grad.numpy(), rtol=1e-10, atol=1e-13)
    assert type(d.expand((2, 4))) is D.OneHotCategoricalStraightThrough


def test_empty_batches_score():
    """An empty batch draws and scores to empty results (torch's RelaxedOneHotCategorical fails
    to reshape its empty event sum)."""
    d = D.RelaxedOneHotCategorical(tg.tensor(0.5), probs=tg.tensor(np.ones((0, 3)) / 3))
    s = d.sample((2,))
    assert s.shape == (2, 0, 3) and d.log_prob(s).shape == (2, 0)
    b = D.RelaxedBernoulli(tg.tensor(0.5), probs=tg.tensor(np.ones(0) * 0.3))
    assert b.log_prob(b.sample((2,))).shape == (2, 0)
