"""nn.utils against torch.nn.utils: gradient clipping by norm (every norm type) and by value,
the total norm, flat parameter vectors; and bad arguments refused before any gradient changes."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import nn
from tinygrad_norm.nn import utils as U

SHAPES = [(3, 4), (5,), (2, 2, 3)]


def _params(rng, dtype, scale=1.0, with_none=True):
    """Parameters with gradients, as arrays: (values, grads); the last has no gradient."""
    vals = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [(rng.standard_normal(s) * scale).astype(dtype) for s in SHAPES]
    if with_none:
        grads[-1] = None
    return vals, grads


def _ours(vals, grads):
    ps = [tg.Tensor(v.copy(), requires_grad=True) for v in vals]
    for p, g in zip(ps, grads):
        if g is not None:
            p.grad = tg.Tensor(g.copy())
    return ps


def _theirs(torch, vals, grads):
    ps = [torch.tensor(v, requires_grad=True) for v in vals]
    for p, g in zip(ps, grads):
        if g is not None:
            p.grad = torch.tensor(g)
    return ps


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf", -math.inf, 0, 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])  # clipping, and not (the scale capped at 1)
def test_clip_grad_norm_matches_torch(torch, rng, dtype, norm_type, max_norm):
    vals, grads = _params(rng, dtype)
    ours, theirs = _ours(vals, grads), _theirs(torch, vals, grads)
    total = U.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert total.dtype == np.dtype(dtype) and total.shape == ()
    np.testing.assert_allclose(total.item(), t_total.item(), rtol=rtol)
    for p, t in zip(ours, theirs):
        if t.grad is None:
            assert p.grad is None
        else:
            assert p.grad.dtype == np.dtype(dtype)
            np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=rtol, atol=0)


def test_the_grad_tensor_is_kept_and_a_saved_array_is_not_written(rng):
    vals, grads = _params(rng, np.float64, scale=10.0, with_none=False)
    ps = _ours(vals, grads)
    g0 = ps[0].grad
    before = g0.data
    kept = before.copy()
    U.clip_grad_norm_(ps, 1.0)
    assert ps[0].grad is g0  # the same tensor, as torch's in-place mul_
    np.testing.assert_array_equal(before, kept)  # its old array untouched
    total = U.get_total_norm([p.grad for p in ps])
    assert total.item() == pytest.approx(1.0 - 1e-6, rel=1e-6)


def test_nonfinite_norm(torch, rng):
    vals, grads = _params(rng, np.float64, with_none=False)
    grads[1][2] = np.nan
    ps = _ours(vals, grads)
    with pytest.raises(RuntimeError, match="non-finite, so it cannot be clipped"):
        U.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(ps[0].grad.data, grads[0])  # nothing changed
    total = U.clip_grad_norm_(ps, 1.0)  # scaled by NaN, as PyTorch
    t = _theirs(torch, vals, grads)
    t_total = torch.nn.utils.clip_grad_norm_(t, 1.0)
    assert math.isnan(total.item()) and math.isnan(t_total.item())
    assert np.isnan(ps[0].grad.data).all() and torch.isnan(t[0].grad).all()


def test_no_gradients_and_empty_generators(torch):
    p = tg.Tensor(np.ones(3, np.float32), requires_grad=True)
    total = U.clip_grad_norm_([p], 1.0)
    assert total.item() == 0.0 and p.grad is None
    with pytest.warns(UserWarning, match="empty generator"):
        U.clip_grad_norm_((q for q in []), 1.0)
    assert U.clip_grad_norm_(p, 1.0).item() == 0.0  # a single tensor


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_value_matches_torch(torch, rng, dtype):
    vals, grads = _params(rng, dtype)
    ours, theirs = _ours(vals, grads), _theirs(torch, vals, grads)
    grads[0][0, 0] = np.nan
    ours[0].grad.data[0, 0] = np.nan
    theirs[0].grad[0, 0] = float("nan")
    assert U.clip_grad_value_(ours, 0.3) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.3)
    for p, t in zip(ours, theirs):
        if t.grad is not None:
            np.testing.assert_array_equal(p.grad.data, t.grad.numpy())
            assert p.grad.dtype == np.dtype(dtype)


def test_parameters_to_vector_and_back_match_torch(torch, rng):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    for p, t in zip(model.parameters(), tmodel.parameters()):
        t.data = torch.tensor(p.data.copy())
    v = U.parameters_to_vector(model.parameters())
    tv = torch.nn.utils.parameters_to_vector(tmodel.parameters())
    np.testing.assert_array_equal(v.data, tv.detach().numpy())
    # on the graph: its gradient reaches the parameters
    w = rng.standard_normal(v.shape).astype(np.float32)
    (v * tg.Tensor(w)).sum().backward()
    (tv * torch.tensor(w)).sum().backward()
    for p, t in zip(model.parameters(), tmodel.parameters()):
        np.testing.assert_array_equal(p.grad.data, t.grad.numpy())
    new = rng.standard_normal(v.shape).astype(np.float32)
    U.vector_to_parameters(tg.Tensor(new), model.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), tmodel.parameters())
    for p, t in zip(model.parameters(), tmodel.parameters()):
        np.testing.assert_array_equal(p.data, t.detach().numpy())
    new[0] = 99.0  # a copy: the parameters do not follow the vector
    assert next(iter(model.parameters())).data.flat[0] != 99.0


@pytest.mark.parametrize("call, error, match", [
    (lambda ps: U.clip_grad_norm_(ps, -1.0), ValueError, "max_norm must be a non-negative"),
    (lambda ps: U.clip_grad_norm_(ps, float("nan")), ValueError, "max_norm must be a non-neg"),
    (lambda ps: U.clip_grad_norm_(ps, "1.0"), TypeError, "max_norm must be a real number"),
    (lambda ps: U.clip_grad_norm_(ps, 1.0, norm_type="fro"), ValueError, "norm_type must be"),
    (lambda ps: U.clip_grad_norm_(ps, 1.0, norm_type=float("nan")), ValueError, "NaN"),
    (lambda ps: U.clip_grad_norm_(5, 1.0), TypeError, "iterable of Tensors"),
    (lambda ps: U.clip_grad_norm_([np.ones(3)], 1.0), TypeError, "must hold Tensors"),
    (lambda ps: U.clip_grad_value_(ps, -0.1), ValueError, "clip_value must be a non-negative"),
    (lambda ps: U.clip_grad_value_(ps, None), TypeError, "clip_value must be a real number"),
    (lambda ps: U.vector_to_parameters(np.zeros(29), ps), TypeError, "vec must be a Tensor"),
    (lambda ps: U.vector_to_parameters(tg.Tensor(np.zeros(28)), ps), ValueError,
     "28 values but the parameters hold 29"),
    (lambda ps: U.vector_to_parameters(tg.Tensor(np.zeros((29, 1))), ps), ValueError, "1-D"),
    (lambda ps: U.parameters_to_vector([]), ValueError, "no parameters"),
])
def test_bad_arguments_change_nothing(rng, call, error, match):
    vals, grads = _params(rng, np.float64)
    ps = _ours(vals, grads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=match):
            call(ps)
    for p, v, g in zip(ps, vals, grads):
        np.testing.assert_array_equal(p.data, v)
        if g is not None:
            np.testing.assert_array_equal(p.grad.data, g)


@pytest.mark.parametrize("dtypes", [(np.float64,) * 3, (np.float32,) * 3, (np.float16,) * 3,
                                    (np.float16, np.float32, np.float32)])
def test_the_clip_factor_is_rounded_as_torch_rounds_it(torch, dtypes):
    """max_norm / (norm + 1e-6) is torch's reciprocal-then-multiply, in the norm's dtype: the
    clipped gradients equal torch's bit for bit (a true division was 1 ulp off in a quarter of
    the cases)."""
    rng = np.random.default_rng(7)
    for trial in range(40):
        vals = [rng.standard_normal(s).astype(d) for s, d in zip(SHAPES, dtypes)]
        grads = [(rng.standard_normal(s) * rng.uniform(0.5, 50)).astype(d)
                 for s, d in zip(SHAPES, dtypes)]
        max_norm = float(rng.uniform(0.05, 3.0))
        ours, theirs = _ours(vals, grads), _theirs(torch, vals, grads)
        total = U.get_total_norm([p.grad for p in ours])
        t_total = torch.nn.utils.get_total_norm([t.grad for t in theirs])
        # the norms themselves may differ in the last bits (ours sums in float64): clip both
        # with torch's norm, so that only the factor's rounding is compared
        U.clip_grads_with_norm_(ours, max_norm, tg.Tensor(t_total.numpy()))
        torch.nn.utils.clip_grads_with_norm_(theirs, max_norm, t_total)
        for p, t in zip(ours, theirs):
            np.testing.assert_array_equal(p.grad.data, t.grad.numpy(), err_msg=f"trial {trial}")
        assert total.dtype == np.dtype(t_total.numpy().dtype)


def test_fit_refuses_a_scheduler_of_another_optimizer():
    from tinygrad_norm.data import DataLoader
    from tinygrad_norm.optim import SGD, lr_scheduler
    from tinygrad_norm.training import fit

    net = nn.Linear(3, 2)
    opt, other = SGD(net.parameters(), lr=0.1), SGD(nn.Linear(3, 2).parameters(), lr=0.1)
    loader = DataLoader(np.zeros((4, 3), np.float32), np.zeros(4, np.int64), batch_size=2)
    with pytest.raises(ValueError, match="another optimizer"):
        fit(net, loader, None, opt, scheduler=lr_scheduler.StepLR(other, 1), progress=False)
