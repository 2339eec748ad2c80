"""The margin and likelihood losses (functional/margin_losses.py, likelihood_losses.py) against
torch 2.13: values and every input's gradient under a random upstream gradient, float64 tight
and float32; finite differences; PyTorch's errors."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional
TOL = {np.float64: 1e-10, np.float32: 2e-5}


def _compare(ours, theirs, args, dtype, grads=(0,), seed=0, **kw):
    """Run both on the same arrays (ints stay ints); compare the value and the gradients of the
    arguments in ``grads`` under a random upstream gradient."""
    ta = [torch.tensor(a, dtype=torch.int64 if a.dtype.kind in "iu" else getattr(torch, np.dtype(
        dtype).name), requires_grad=i in grads) for i, a in enumerate(args)]
    oa = [Tensor(a if a.dtype.kind in "iu" else a.astype(dtype), requires_grad=i in grads)
          for i, a in enumerate(args)]
    t_out, o_out = theirs(*ta, **kw), ours(*oa, **kw)
    up = np.random.default_rng(seed + 1).standard_normal(t_out.shape)
    t_out.backward(torch.tensor(up, dtype=t_out.dtype))
    o_out.backward(Tensor(up.astype(dtype)))
    rtol = TOL[dtype]
    assert o_out.dtype == dtype
    np.testing.assert_allclose(o_out.data, t_out.detach().numpy(), rtol=rtol, atol=rtol)
    for i in grads:
        np.testing.assert_allclose(oa[i].grad.data, ta[i].grad.numpy(), rtol=rtol, atol=rtol,
                                   err_msg=f"gradient of argument {i}")


def _signs(rng, shape):
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0)


REDUCTIONS = ["none", "mean", "sum"]
DTYPES = [np.float64, np.float32]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", [((4, 5), (4, 5)), ((4, 5), (5,)), ((3,), (3,))])
def test_soft_margin_loss(dtype, reduction, shapes):
    rng = np.random.default_rng(0)
    x, y = 3 * rng.standard_normal(shapes[0]), _signs(rng, shapes[1])
    _compare(F.soft_margin_loss, TF.soft_margin_loss, [x, y], dtype, reduction=reduction)
    with pytest.raises(ValueError, match="'soft_margin_loss' is not differentiable with respect "
                                         "to argument 'target'"):
        F.soft_margin_loss(Tensor(x), Tensor(y, requires_grad=True))


def test_soft_margin_loss_stays_finite_where_torch_overflows():
    out = F.soft_margin_loss(Tensor(np.array([100.0], np.float32)), Tensor(np.array([-1.0],
                                                                                   np.float32)))
    assert np.isclose(float(out), 100.0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(4, 6), (6,), (2, 3, 6)])
def test_multilabel_soft_margin_loss(dtype, reduction, weighted, shape):
    rng = np.random.default_rng(1)
    x, y = 2 * rng.standard_normal(shape), (rng.random(shape) < 0.4).astype(float)
    args = [x, y] + ([rng.random(shape[-1]) + 0.5] if weighted else [])
    grads = (0, 1, 2) if weighted else (0, 1)
    _compare(lambda a, b, *w: F.multilabel_soft_margin_loss(a, b, *w, reduction=reduction),
             lambda a, b, *w: TF.multilabel_soft_margin_loss(a, b, *w, reduction=reduction),
             args, dtype, grads=grads)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p,margin", [(1, 1.0), (2, 1.0), (1, 0.3), (2, -0.5)])
@pytest.mark.parametrize("weighted", [False, True])
def test_multi_margin_loss(dtype, reduction, p, margin, weighted):
    rng = np.random.default_rng(2)
    x, t = rng.standard_normal((6, 5)), rng.integers(0, 5, 6)
    x[0, 1] = x[0, t[0]] - margin if t[0] != 1 else x[0, 1]  # a term exactly at its hinge
    args = [x, t] + ([rng.random(5) + 0.5] if weighted else [])
    _compare(lambda a, b, *w: F.multi_margin_loss(a, b, p, margin, *w, reduction=reduction),
             lambda a, b, *w: TF.multi_margin_loss(a, b, p, margin, *w, reduction=reduction),
             args, dtype)
    if weighted:  # as torch, refused: its kernel computes no weight gradient
        with pytest.raises(ValueError, match="'multi_margin_loss' is not differentiable with "
                                             "respect to argument 'weight'"):
            F.multi_margin_loss(Tensor(x), Tensor(t), weight=Tensor(args[2], requires_grad=True))


def test_multi_margin_loss_unbatched():
    rng = np.random.default_rng(3)
    for target in (np.array(2), np.array([2])):
        _compare(F.multi_margin_loss, TF.multi_margin_loss, [rng.standard_normal(4), target],
                 np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss(dtype, reduction):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 6))
    t = np.array([[3, 0, -1, 1, 2, 2],   # read up to the first -1
                  [1, 1, 4, -1, 0, 0],   # a class listed twice counts twice
                  [-1, 2, 3, 0, 0, 0],   # no class
                  [0, 1, 2, 3, 4, 5],    # every class: nothing to compare with
                  [5, -1, -1, 0, 0, 0]])
    _compare(F.multilabel_margin_loss, TF.multilabel_margin_loss, [x, t], dtype,
             reduction=reduction)


def test_multilabel_margin_loss_unbatched_and_at_the_hinge():
    x = np.array([1.0, 2.0, 3.0, 2.0])  # 1 - (x[1] - x[3]) = 1 > 0; x[0]: 1 - (2 - 1) = 0
    _compare(F.multilabel_margin_loss, TF.multilabel_margin_loss, [x, np.array([1, -1, 0, 0])],
             np.float64)


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("distance", ["default", "cosine"])
def test_triplet_margin_with_distance_loss(swap, reduction, distance):
    rng = np.random.default_rng(5)
    a, p, n = (rng.standard_normal((4, 3)) for _ in range(3))
    ours_d = None if distance == "default" else (lambda u, v: 1.0 - F.cosine_similarity(u, v))
    theirs_d = None if distance == "default" else (lambda u, v: 1.0 - TF.cosine_similarity(u, v))
    _compare(lambda *t: F.triplet_margin_with_distance_loss(
                 *t, distance_function=ours_d, margin=0.7, swap=swap, reduction=reduction),
             lambda *t: TF.triplet_margin_with_distance_loss(
                 *t, distance_function=theirs_d, margin=0.7, swap=swap, reduction=reduction),
             [a, p, n], np.float64, grads=(0, 1, 2))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input,full", [(True, False), (False, False), (True, True),
                                            (False, True)])
def test_poisson_nll_loss(dtype, reduction, log_input, full):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 5)) if log_input else rng.random((4, 5)) + 0.1
    # 1 and larger counts, Stirling's mask at 1 (a count of 0: torch's target gradient is NaN,
    # from 0 * log 0 under its mask; here 0, tested below)
    t = rng.poisson(2.0, (4, 5)).astype(float) + 1.0
    t[0, :2] = 0.5, 1.0
    _compare(lambda a, b: F.poisson_nll_loss(a, b, log_input, full, reduction=reduction),
             lambda a, b: TF.poisson_nll_loss(a, b, log_input, full, reduction=reduction),
             [x, t], dtype, grads=(0, 1))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("var_shape", [(4, 3), (4,), (4, 1), (1, 3)])
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_loss(dtype, reduction, var_shape, full):
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    var = rng.random(var_shape) + 0.1
    var.flat[0] = 1e-9  # below eps: raised to eps, its gradient passing the clamp as in torch
    _compare(lambda a, b, v: F.gaussian_nll_loss(a, b, v, full, reduction=reduction),
             lambda a, b, v: TF.gaussian_nll_loss(a, b, v, full, reduction=reduction),
             [x, y, var], dtype, grads=(0, 1, 2))


def test_poisson_full_target_gradient_is_zero_at_zero_counts():
    t = Tensor(np.array([0.0, 1.0, 3.0]), requires_grad=True)
    F.poisson_nll_loss(Tensor(np.zeros(3)), t, full=True, reduction="sum").backward()
    assert t.grad.data[0] == 0.0 and t.grad.data[1] == 0.0 and np.isclose(
        t.grad.data[2], np.log(3.0) + 1.0 / 6.0)  # d/dt: log t + 1 / (2 t), minus the input 0


def test_gaussian_nll_loss_float_variance():
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    _compare(lambda a, b: F.gaussian_nll_loss(a, b, 0.5), lambda a, b: TF.gaussian_nll_loss(
        a, b, 0.5), [x, y], np.float64, grads=(0, 1))


@pytest.mark.parametrize("fn,args", [
    (lambda x, t: F.soft_margin_loss(x, t, reduction="none"), "signs"),
    (lambda x, t: F.multilabel_soft_margin_loss(x, t, reduction="none"), "labels"),
    (lambda x, t: F.poisson_nll_loss(x, t, full=True, reduction="none"), "counts"),
])
def test_gradcheck(fn, args):
    rng = np.random.default_rng(9)
    t = {"signs": _signs(rng, (3, 4)), "labels": (rng.random((3, 4)) < .5).astype(float),
         "counts": rng.poisson(2.0, (3, 4)).astype(float)}[args]
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert tg.gradcheck(lambda a: fn(a, Tensor(t)), (x,))
    assert tg.gradgradcheck(lambda a: fn(a, Tensor(t)), (x,))


def test_gradcheck_hinges_and_gaussian():
    rng = np.random.default_rng(10)
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    t, mt = Tensor(np.array([0, 3, 1])), Tensor(np.array([[0, 2, -1, 0], [3, -1, 0, 0],
                                                          [1, 0, 2, -1]]))
    assert tg.gradcheck(lambda a: F.multi_margin_loss(a, t, p=2, reduction="none"), (x,))
    assert tg.gradcheck(lambda a: F.multilabel_margin_loss(a, mt, reduction="none"), (x,))
    v = Tensor(rng.random((3, 4)) + 0.5, requires_grad=True)
    y = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert tg.gradcheck(lambda a, b, c: F.gaussian_nll_loss(a, b, c, reduction="none"),
                        (x, y, v))
    assert tg.gradgradcheck(lambda a, b, c: F.gaussian_nll_loss(a, b, c), (x, y, v))


@pytest.mark.parametrize("call,err,match", [
    (lambda x: F.multi_margin_loss(x, Tensor(np.array([0, 4, 1]))), ValueError,
     "target out of range"),
    (lambda x: F.multi_margin_loss(x, Tensor(np.array([0, 1]))), ValueError,
     r"Expected target size \[3\], but got \[2\]"),
    (lambda x: F.multi_margin_loss(x, Tensor(np.array([0., 1, 1]))), TypeError,
     "integer class indices"),
    (lambda x: F.multi_margin_loss(x.reshape(3, 2, 2), Tensor(np.array([0, 1, 1]))), ValueError,
     r"Expected non-empty vector or matrix with optional 0-dim batch size, but got: \[3, 2, 2\]"),
    (lambda x: F.multi_margin_loss(x, Tensor(np.array([0, 1, 1])), p=3), ValueError,
     "only p == 1 and p == 2 supported"),
    (lambda x: F.multi_margin_loss(x, Tensor(np.array([0, 1, 1])), weight=Tensor(np.ones(3))),
     ValueError, r"inconsistent weight size, expected 4 but got \[3\]"),
    (lambda x: F.multi_margin_loss(x, Tensor(np.array([0, 1, 1])),
                                   weight=Tensor(np.ones((1, 4)))), ValueError,
     "weight must be one-dimensional"),
    (lambda x: F.multilabel_margin_loss(x, Tensor(np.array([[0, 5, -1, 0]] * 3))), ValueError,
     "argument #2 'target' is out of range"),
    (lambda x: F.multilabel_margin_loss(x, Tensor(np.array([[0, 1, -1]] * 3))), ValueError,
     r"inconsistent target size: \[3, 3\] for input of size: \[3, 4\]"),
    (lambda x: F.soft_margin_loss(x, Tensor(np.ones((2, 4)))), ValueError, "does not broadcast"),
    (lambda x: F.soft_margin_loss(x, "a"), TypeError,
     "target must be a Tensor or an array of real numbers, got str"),
    (lambda x: F.soft_margin_loss(x, x, reduction="avg"), ValueError,
     "avg is not a valid value for reduction"),
    (lambda x: F.gaussian_nll_loss(x, x, -Tensor(np.ones((3, 4)))), ValueError,
     "var has negative entry/entries"),
    (lambda x: F.gaussian_nll_loss(x, x, Tensor(np.ones(2))), ValueError,
     "var is of incorrect size"),
    (lambda x: F.gaussian_nll_loss(x, x, -1.0), ValueError, "var has negative entry/entries"),
    (lambda x: F.gaussian_nll_loss(x, x, 1.0, reduction="bad"), ValueError, "bad is not valid"),
    (lambda x: F.triplet_margin_with_distance_loss(x, x, x, margin=0), ValueError,
     "margin must be greater than 0, got 0"),
    (lambda x: F.triplet_margin_with_distance_loss(x, x, x[0]), ValueError,
     "anchor 2D, positive 2D, and negative 1D inputs"),
    (lambda x: F.poisson_nll_loss(x, x, full="yes"), TypeError, "full"),
])
def test_errors(call, err, match):
    with pytest.raises(err, match=match):
        call(Tensor(np.zeros((3, 4))))


def test_empty_batch_mean_is_nan():
    out = F.multi_margin_loss(Tensor(np.zeros((0, 4))), Tensor(np.zeros(0, np.int64)))
    assert np.isnan(float(out))  # torch 2.13 returns uninitialized memory here


def test_layers_as_torch():
    rng = np.random.default_rng(11)
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    t, w = rng.integers(0, 3, 4), rng.random(3) + 0.5
    lab = (rng.random((4, 3)) < .5).astype(float)
    cases = [
        (nn.SoftMarginLoss(reduction="sum"), torch.nn.SoftMarginLoss(reduction="sum"),
         (x, np.sign(y))),
        (nn.MultiLabelSoftMarginLoss(weight=Tensor(w)), torch.nn.MultiLabelSoftMarginLoss(
            weight=torch.tensor(w)), (x, lab)),
        (nn.MultiMarginLoss(p=2, margin=0.5, weight=Tensor(w)), torch.nn.MultiMarginLoss(
            p=2, margin=0.5, weight=torch.tensor(w)), (x, t)),
        (nn.MultiLabelMarginLoss(), torch.nn.MultiLabelMarginLoss(),
         (x, np.array([[0, -1, 0], [2, 1, -1], [1, 0, 2], [-1, 0, 0]]))),
        (nn.TripletMarginWithDistanceLoss(margin=0.5, swap=True),
         torch.nn.TripletMarginWithDistanceLoss(margin=0.5, swap=True), (x, y, x[::-1].copy())),
        (nn.PoissonNLLLoss(full=True), torch.nn.PoissonNLLLoss(full=True),
         (x, rng.poisson(3.0, (4, 3)).astype(float))),
        (nn.GaussianNLLLoss(full=True), torch.nn.GaussianNLLLoss(full=True),
         (x, y, rng.random((4, 1)) + 0.2)),
    ]
    for ours, theirs, args in cases:
        o = ours(*[Tensor(a) for a in args])
        th = theirs(*[torch.tensor(a) for a in args])
        np.testing.assert_allclose(o.data, th.numpy(), rtol=1e-12, err_msg=type(ours).__name__)
    assert "weight" in nn.MultiMarginLoss(weight=Tensor(w)).state_dict()
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="expected margin to be greater than 0, got 0 instead"):
        nn.TripletMarginWithDistanceLoss(margin=0)
