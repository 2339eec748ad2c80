"""func.linearize, func.functionalize and func.replace_all_batch_norm_modules_ against torch."""
import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import func, nn

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(5)


def _f(lib):
    return lambda x, y: (lib.sin(x) * y).exp() + x * x


def test_linearize_values_and_jvps_as_torch():
    x, y, u, v = (RNG.normal(size=(3, 2)) for _ in range(4))
    out, jvp_fn = func.linearize(_f(tg), tg.tensor(x), tg.tensor(y))
    tout, tjvp_fn = torch.func.linearize(_f(torch), torch.tensor(x), torch.tensor(y))
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-14)
    for a, b in ((u, v), (v, u), (np.zeros_like(u), u)):  # the same function, called again
        np.testing.assert_allclose(jvp_fn(tg.tensor(a), tg.tensor(b)).numpy(),
                                   tjvp_fn(torch.tensor(a), torch.tensor(b)).numpy(), rtol=1e-12)


def test_linearize_stays_on_the_callers_graph():
    x = tg.tensor(RNG.normal(size=3), requires_grad=True)
    tx = torch.tensor(x.numpy(), requires_grad=True)
    out, jvp_fn = func.linearize(tg.sin, x)
    tout, tjvp_fn = torch.func.linearize(torch.sin, tx)
    assert out.requires_grad and tout.requires_grad
    t = RNG.normal(size=3)
    jvp_fn(tg.tensor(t)).sum().backward()
    tjvp_fn(torch.tensor(t)).sum().backward()
    # here the jvp is differentiable in the primals (d/dx cos(x) t = -sin(x) t); torch's traced
    # jvp_fn holds the primals' values as constants, and x gets no gradient from it
    np.testing.assert_allclose(x.grad.numpy(), -np.sin(x.numpy()) * t, rtol=1e-14)
    assert tx.grad is None


def test_linearize_checks_the_tangents():
    _, jvp_fn = func.linearize(tg.sin, tg.tensor(np.ones(3)))
    with pytest.raises(ValueError, match=r"tangent:0 with shape \(4,\) .*doesn't match the "
                                         r"shape \(3,\)"):
        jvp_fn(tg.tensor(np.ones(4)))
    with pytest.raises(TypeError, match="tangent:0 with dtype float32 .*float64"):
        jvp_fn(tg.tensor(np.ones(3, np.float32)))
    with pytest.raises(ValueError, match="to have the same argspec as the primals"):
        jvp_fn(tg.tensor(np.ones(3)), tg.tensor(np.ones(3)))


def test_functionalize_keeps_values_and_writes_as_torch():
    def step(a):
        a.add_(1.0)
        return a * 2.0
    y, ty = tg.zeros(2), torch.zeros(2)
    out, tout = func.functionalize(step)(y), torch.func.functionalize(step)(ty)
    assert np.array_equal(out.numpy(), tout.numpy()) and np.array_equal(y.numpy(), ty.numpy())
    assert func.functionalize(step, remove="mutations_and_views").__name__ == "step"
    with pytest.raises(ValueError, match="received invalid argument for remove=x"):
        func.functionalize(step, remove="x")


def _bn_model(lib):
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU())


def test_replace_all_batch_norm_modules_as_torch():
    ours, theirs = _bn_model(tg), _bn_model(torch)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert func.replace_all_batch_norm_modules_(ours) is ours
    torch.func.replace_all_batch_norm_modules_(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    bn = ours[1]
    assert bn.running_mean is None and bn.num_batches_tracked is None
    assert bn.track_running_stats is False
    ours.eval()
    theirs.eval()  # batch statistics in eval mode too
    x = RNG.normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(tg.tensor(x)).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="root must be a Module"):
        func.replace_all_batch_norm_modules_([nn.BatchNorm1d(2)])
