"""The CTC loss (``F.ctc_loss``, ``nn.CTCLoss``): values and gradients against torch 2.13 under
random upstream gradients (float64 to 1e-10, float32), finite differences of the first and second
derivatives, the edge cases (short inputs, empty targets, impossible alignments, -inf
log-probabilities), PyTorch's argument errors, and the module."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn
from conftest import gradchecks

RTOL = {np.float64: 1e-10, np.float32: 1e-5}
DTYPES = [np.float64, np.float32]


def _close(actual, expected, rtol, what=""):
    """Values to ``rtol``, with an absolute tolerance of ``rtol`` times the finite values' scale;
    inf must meet inf, and NaN never equals NaN."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    finite = expected[np.isfinite(expected)]
    scale = max(1.0, float(np.abs(finite).max())) if finite.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, equal_nan=False,
                               err_msg=what)


def _problem(T, N, C, S, seed, blank=0, lengths=None, target_lengths=None, repeats=False):
    """Logits (T, N, C), padded targets (N, S) without the blank (with ``repeats``, some equal
    neighbours), input and target lengths."""
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((T, N, C)) * 2
    targets = rng.integers(0, C - 1, (N, S))
    targets[targets >= blank] += 1  # every class but the blank
    if repeats and S > 1:
        targets[:, 1] = targets[:, 0]
    il = np.full(N, T) if lengths is None else np.asarray(lengths)
    tl = rng.integers(0, S + 1, N) if target_lengths is None else np.asarray(target_lengths)
    return logits, targets, il, tl


def _both(torch, logits, targets, il, tl, dtype, upstream_seed=0, log_softmax=True,
          concatenated=False, unbatched=False, **kw):
    """(ours, torch's): the loss and the gradient of the input under one random upstream
    gradient, the input being the logits (``log_softmax``) or the log-probabilities."""
    if concatenated:
        targets = np.concatenate([targets[n, :tl[n]] for n in range(len(tl))])
    if unbatched:
        logits = logits[:, 0]
    x = Tensor(logits.astype(dtype), requires_grad=True)
    xt = torch.tensor(logits.astype(dtype), requires_grad=True)
    out = F.ctc_loss(x.log_softmax(-1) if log_softmax else x, targets, il, tl, **kw)
    ref = torch.nn.functional.ctc_loss(xt.log_softmax(-1) if log_softmax else xt,
                                       torch.tensor(targets), torch.tensor(il),
                                       torch.tensor(tl), **kw)
    assert out.dtype == dtype and out.shape == tuple(ref.shape)
    g = np.random.default_rng(upstream_seed).standard_normal(out.shape).astype(dtype)
    out.backward(g)
    ref.backward(torch.tensor(g))
    assert x.grad.dtype == dtype
    return (out.numpy(), x.grad.numpy()), (ref.detach().numpy(), xt.grad.numpy())


CASES = {  # name: (T, N, C, S, problem keywords, call keywords)
    "full lengths": (12, 3, 5, 4, {}, {}),
    "short inputs": (15, 4, 6, 4, dict(lengths=[15, 9, 12, 6]), {}),
    "repeated labels": (14, 3, 4, 5, dict(repeats=True, target_lengths=[5, 4, 2]), {}),
    "blank not 0": (10, 3, 6, 3, dict(blank=3), dict(blank=3)),
    "blank last": (10, 2, 4, 3, dict(blank=3), dict(blank=3)),
    "odd T for the tree": (37, 2, 5, 6, dict(lengths=[37, 30]), {}),
    "one step": (1, 2, 3, 1, dict(target_lengths=[1, 0]), {}),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("case", list(CASES))
def test_per_sample_loss_and_gradient_match_torch(torch, case, dtype):
    T, N, C, S, problem, kw = CASES[case]
    logits, targets, il, tl = _problem(T, N, C, S, seed=len(case), **problem)
    (out, grad), (ref, ref_grad) = _both(torch, logits, targets, il, tl, dtype,
                                         reduction="none", **kw)
    _close(out, ref, RTOL[dtype], "loss")
    _close(grad, ref_grad, RTOL[dtype], "gradient")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("concatenated", [False, True], ids=["padded", "concatenated"])
def test_every_reduction_and_target_layout_match_torch(torch, reduction, concatenated, dtype):
    # target lengths 0 among them: 'mean' divides those samples' losses by 1, as torch
    logits, targets, il, tl = _problem(11, 4, 5, 4, seed=7, lengths=[11, 8, 11, 5],
                                       target_lengths=[4, 0, 2, 3])
    (out, grad), (ref, ref_grad) = _both(torch, logits, targets, il, tl, dtype,
                                         reduction=reduction, concatenated=concatenated)
    _close(out, ref, RTOL[dtype], "loss")
    _close(grad, ref_grad, RTOL[dtype], "gradient")


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("targets_2d", [False, True], ids=["targets (S,)", "targets (1, S)"])
def test_unbatched_input_matches_torch(torch, reduction, targets_2d):
    logits, targets, _, _ = _problem(9, 1, 5, 3, seed=2)
    tgt = targets if targets_2d else targets[0]
    (out, grad), (ref, ref_grad) = _both(torch, logits, tgt, torch.tensor(9).numpy(),
                                         np.array(3), np.float64, unbatched=True,
                                         reduction=reduction)
    assert out.shape == ()  # one sample, no batch axis: a scalar for every reduction, as torch
    _close(out, ref, 1e-10)
    _close(grad, ref_grad, 1e-10)


def test_the_size_of_the_benchmark_matches_torch(torch):
    logits, targets, _, tl = _problem(50, 16, 20, 10, seed=11)
    il = np.random.default_rng(0).integers(30, 51, 16)
    (out, grad), (ref, ref_grad) = _both(torch, logits, targets, il, tl, np.float64,
                                         reduction="none")
    _close(out, ref, 1e-10)
    _close(grad, ref_grad, 1e-10)


# ---- the gradient with respect to the log-probabilities themselves ---------------------------

@pytest.mark.parametrize("normalised", [True, False], ids=["log_softmax", "raw"])
def test_gradient_is_the_true_derivative_and_torch_adds_exp(torch, normalised):
    """PyTorch's gradient with respect to ``log_probs`` is ``g * (exp(log_probs) - posterior)``
    at each sample's steps: the derivative through a log_softmax, not of its own forward (which
    is ``-g * posterior``). Ours is the latter, for normalised and raw inputs alike; through a
    log_softmax the two agree (the tests above)."""
    logits, targets, il, tl = _problem(8, 3, 5, 3, seed=5, lengths=[8, 6, 7])
    lp = logits if not normalised else np.asarray(
        torch.tensor(logits).log_softmax(-1).numpy())
    (out, grad), (ref, ref_grad) = _both(torch, lp, targets, il, tl, np.float64,
                                         log_softmax=False, reduction="none")
    _close(out, ref, 1e-10)
    g = np.random.default_rng(0).standard_normal(3)
    active = (np.arange(8)[:, None] < il)[:, :, None]
    _close(grad, ref_grad - g[None, :, None] * np.exp(lp) * active, 1e-10)


def test_first_and_second_derivatives_by_finite_differences():
    logits, targets, il, tl = _problem(5, 2, 4, 2, seed=3, lengths=[5, 4], target_lengths=[2, 1])
    gradchecks(lambda x: F.ctc_loss(x, targets, il, tl, reduction="none"), [logits])
    gradchecks(lambda x: F.ctc_loss(x.log_softmax(2), targets, il, tl), [logits])


# ---- edge cases --------------------------------------------------------------------------------

def test_an_empty_target_costs_the_blank_path(torch):
    logits, targets, _, _ = _problem(6, 2, 4, 2, seed=4)
    lp = torch.tensor(logits).log_softmax(-1).numpy()
    out = F.ctc_loss(Tensor(lp), targets, [6, 3], [0, 0], reduction="none").numpy()
    _close(out, [-lp[:6, 0, 0].sum(), -lp[:3, 1, 0].sum()], 1e-12)


def test_no_input_and_no_target_costs_nothing(torch):
    logits, targets, _, _ = _problem(4, 2, 3, 2, seed=6)
    x = Tensor(logits, requires_grad=True)
    out = F.ctc_loss(x.log_softmax(2), targets, [0, 0], [0, 2], reduction="none")
    assert out.numpy()[0] == 0 and out.numpy()[1] == np.inf  # as torch: -0 and inf
    out.backward(np.ones(2))
    assert not x.grad.numpy().any()


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_impossible_alignments_are_inf_or_zeroed(torch, reduction, dtype):
    # sample 0: 3 labels with a repeat need 4 steps, it has 3; sample 2: 2 labels in 1 step
    logits = np.random.default_rng(8).standard_normal((4, 3, 5))
    targets = np.array([[1, 1, 2], [1, 2, 3], [2, 3, 0]])
    il, tl = np.array([3, 3, 1]), np.array([3, 2, 2])
    # zero_infinity: losses and gradients equal torch's (the impossible samples' are 0)
    (out, grad), (ref, ref_grad) = _both(torch, logits, targets, il, tl, dtype,
                                         reduction=reduction, zero_infinity=True)
    _close(out, ref, RTOL[dtype])
    _close(grad, ref_grad, RTOL[dtype])
    # without: inf, as torch; the impossible samples' gradient is 0 here (torch's NaN), the
    # other sample's is torch's
    (out, grad), (ref, ref_grad) = _both(torch, logits, targets, il, tl, dtype,
                                         reduction=reduction)
    _close(out, ref, RTOL[dtype])
    assert np.isinf(out).all() if reduction != "none" else np.isinf(out[[0, 2]]).all()
    assert not grad[:, [0, 2]].any()
    assert np.isnan(ref_grad[:, [0, 2]]).any()
    _close(grad[:, 1], ref_grad[:, 1], RTOL[dtype])


def test_minus_inf_log_probabilities_get_gradient_zero(torch):
    logits, targets, il, tl = _problem(7, 3, 5, 3, seed=9, lengths=[7, 6, 5])
    targets[2, 0] = 3  # sample 2 needs class 3, which is ruled out below: impossible
    tl[2] = max(tl[2], 1)
    lp = torch.tensor(logits).log_softmax(-1).numpy()
    lp[:, :, 3] = -np.inf
    lp[2, 0, 1] = -np.inf
    (out, grad), (ref, ref_grad) = _both(torch, lp, targets, il, tl, np.float64,
                                         log_softmax=False, reduction="none")
    _close(out, ref, 1e-10)  # inf where class 3 was needed, as torch
    assert np.isfinite(grad).all()
    assert not grad[:, :, 3].any() and grad[2, 0, 1] == 0  # torch: NaN
    g = np.random.default_rng(0).standard_normal(3)
    expected = ref_grad - g[None, :, None] * np.exp(lp) * (np.arange(7)[:, None] < il)[:, :, None]
    fine = np.isfinite(ref_grad)
    _close(grad[fine], expected[fine], 1e-10)


def test_very_negative_log_probabilities_are_exact(torch):
    # paths hundreds of nats apart: the log space keeps them, in float32 too
    for dtype in DTYPES:
        logits, targets, il, tl = _problem(9, 3, 5, 3, seed=10)
        (out, grad), (ref, ref_grad) = _both(torch, logits * 150, targets, il, tl, dtype,
                                             reduction="none")
        _close(out, ref, RTOL[dtype])
        _close(grad, ref_grad, RTOL[dtype] * 10)


def test_a_target_holding_the_blank_is_refused(torch):
    """PyTorch's documentation: "the target index cannot be blank"; its kernel does not check,
    and where a target holds it, its gradient is not the derivative of its loss."""
    logits, targets, il, tl = _problem(10, 2, 5, 4, seed=12, target_lengths=[4, 3])
    targets[1, 2] = 0
    x = torch.tensor(logits, requires_grad=True)
    assert not torch.autograd.gradcheck(
        lambda z: torch.nn.functional.ctc_loss(z.log_softmax(2), torch.tensor(targets),
                                               torch.tensor(il), torch.tensor(tl)),
        (x,), raise_exception=False)
    with pytest.raises(ValueError, match=r"targets must not hold the blank \(class 0\)"):
        F.ctc_loss(Tensor(logits).log_softmax(2), targets, il, tl)
    targets[1, 3] = 0  # beyond the target's length: padding, never read
    targets[1, 2] = 1
    F.ctc_loss(Tensor(logits).log_softmax(2), targets, il, tl)


def test_padding_beyond_the_lengths_is_never_read(torch):
    logits, targets, il, tl = _problem(8, 2, 5, 4, seed=13, target_lengths=[2, 3])
    padded = targets.copy()
    padded[0, 2:] = -1
    padded[1, 3] = 99
    out = F.ctc_loss(Tensor(logits).log_softmax(2), padded, il, tl, reduction="none")
    _close(out.numpy(), F.ctc_loss(Tensor(logits).log_softmax(2), targets, il, tl,
                                   reduction="none").numpy(), 0)


@pytest.mark.parametrize("form", ["tuple", "list", "tensor", "int32 array", "(1, N) tensor"])
def test_lengths_in_every_form_torch_takes(torch, form):
    logits, targets, il, tl = _problem(6, 2, 4, 2, seed=14, lengths=[6, 5], target_lengths=[2, 1])
    conv = {"tuple": tuple, "list": list, "tensor": lambda a: Tensor(np.asarray(a, np.int64)),
            "int32 array": lambda a: np.asarray(a, np.int32),
            "(1, N) tensor": lambda a: Tensor(np.asarray(a).reshape(1, -1))}[form]
    lp = Tensor(logits).log_softmax(2)
    out = F.ctc_loss(lp, Tensor(targets), conv(il.tolist()), conv(tl.tolist()))
    ref = torch.nn.functional.ctc_loss(torch.tensor(logits).log_softmax(2),
                                       torch.tensor(targets), tuple(il.tolist()),
                                       tuple(tl.tolist()))
    _close(out.numpy(), ref.numpy(), 1e-10)


def test_a_batch_first_output_transposed_is_taken(torch):
    """The usual call: a model's (N, T, C) output, transposed (a view, not contiguous)."""
    logits, targets, il, tl = _problem(9, 3, 5, 3, seed=19, lengths=[9, 7, 8])
    nt = np.ascontiguousarray(logits.transpose(1, 0, 2))
    x = Tensor(nt, requires_grad=True)
    out = F.ctc_loss(x.log_softmax(2).swapaxes(0, 1), targets, il, tl, reduction="sum")
    xt = torch.tensor(nt, requires_grad=True)
    ref = torch.nn.functional.ctc_loss(xt.log_softmax(2).transpose(0, 1), torch.tensor(targets),
                                       torch.tensor(il), torch.tensor(tl), reduction="sum")
    _close(out.numpy(), ref.detach().numpy(), 1e-10)
    out.backward()
    ref.backward()
    _close(x.grad.numpy(), xt.grad.numpy(), 1e-10)


def test_without_recording_the_same_values():
    logits, targets, il, tl = _problem(13, 3, 5, 4, seed=15, lengths=[13, 10, 7])
    x = Tensor(logits, requires_grad=True)
    recorded = F.ctc_loss(x.log_softmax(2), targets, il, tl, reduction="none")
    with tg.no_grad():
        plain = F.ctc_loss(x.log_softmax(2), targets, il, tl, reduction="none")
    assert not plain.requires_grad
    np.testing.assert_array_equal(plain.numpy(), recorded.numpy())


def test_the_nodes_are_named_by_the_scope():
    logits, targets, il, tl = _problem(4, 2, 3, 2, seed=16)
    out = F.ctc_loss(Tensor(logits, requires_grad=True), targets, il, tl)
    assert out._node.scope.name == "ctc_loss"


# ---- argument errors, in PyTorch's words -------------------------------------------------------

def _call(**over):
    logits, targets, il, tl = _problem(6, 2, 5, 3, seed=0, target_lengths=[3, 2])
    args = dict(log_probs=Tensor(logits).log_softmax(2), targets=targets, input_lengths=il,
                target_lengths=tl)
    args.update(over)
    return F.ctc_loss(**args)


@pytest.mark.parametrize("over,error,match", [
    (dict(reduction="avg"), ValueError, "avg is not a valid value for reduction"),
    (dict(reduction=None), ValueError, "None is not a valid value for reduction"),
    (dict(zero_infinity="no"), TypeError, "argument 'zero_infinity' must be bool"),
    (dict(zero_infinity=1), TypeError, "argument 'zero_infinity' must be bool"),
    (dict(log_probs=np.zeros((6, 2, 5))), TypeError, "log_probs must be a Tensor"),
    (dict(log_probs=Tensor(np.zeros((6, 2, 5), np.int64))), TypeError, "float32 or float64"),
    (dict(log_probs=Tensor(np.zeros((6, 2, 5), np.float16))), TypeError, "float32 or float64"),
    (dict(log_probs=Tensor(np.zeros((1, 6, 2, 5)))), ValueError,
     "Expected 3-dimensional tensor .* but got 4-dimensional tensor for argument #1 'log_probs'"),
    (dict(log_probs=Tensor(np.zeros(6))), ValueError, "but got 1-dimensional tensor"),
    (dict(log_probs=Tensor(np.zeros((0, 2, 5)))), ValueError, "log_probs tensor must not be empty"),
    (dict(blank=5), ValueError, "blank must be in label range"),
    (dict(blank=-1), ValueError, "blank must be in label range"),
    (dict(blank=1.0), TypeError, "argument 'blank' must be int, not float"),
    (dict(blank=True), TypeError, "argument 'blank' must be int, not bool"),
    (dict(input_lengths=[7, 6]), ValueError,
     "Expected input_lengths to have value at most 6, but got value 7"),
    (dict(input_lengths=[-1, 6]), ValueError,
     "Expected input_lengths to have value at least 0, but got value -1"),
    (dict(target_lengths=[-1, 2]), ValueError,
     "Expected target_lengths to have value at least 0, but got value -1"),
    (dict(target_lengths=[4, 2]), ValueError,
     "Expected tensor to have size at least 4 at dimension 1, but got size 3 for argument #2 "
     "'targets'"),
    (dict(input_lengths=[6.0, 6.0]), TypeError, "input_lengths must be integral"),
    (dict(input_lengths=Tensor(np.array([6.0, 6.0]))), TypeError, "input_lengths must be "
                                                                   "integral"),
    (dict(target_lengths=np.array([True, True])), TypeError, "target_lengths must be integral"),
    (dict(input_lengths=(6, 6, 6)), ValueError, "input_lengths must be of size batch_size"),
    (dict(target_lengths=[3]), ValueError, "target_lengths must be of size batch_size"),
    (dict(targets=np.zeros((1, 2, 3), np.int64)), ValueError,
     "Expected 1 to 2 dimensions, but got 3-dimensional tensor for argument #2 'targets'"),
    (dict(targets=np.ones((1, 3), np.int64)), ValueError,
     "Expected tensor to have size 2 at dimension 0, but got size 1 for argument #2 'targets'"),
    (dict(targets=np.ones(4, np.int64)), ValueError,
     "Expected tensor to have size 5 at dimension 0, but got size 4 for argument #2 'targets'"),
    (dict(targets=np.ones((2, 3))), TypeError, "targets must hold integer class indices"),
    (dict(targets=Tensor(np.ones((2, 3), np.float32))), TypeError, "targets must hold integer"),
    (dict(targets=np.full((2, 3), 5)), ValueError, r"class indices in \[0, 4\], got 5"),
    (dict(targets=np.full((2, 3), -2)), ValueError, r"class indices in \[0, 4\], got -2"),
])
def test_bad_arguments_are_refused_in_torchs_words(over, error, match):
    with pytest.raises(error, match=match):
        _call(**over)


def test_torch_refuses_the_same_arguments(torch):
    """The errors above are torch's (a RuntimeError there, a ValueError or TypeError here)."""
    lp = torch.randn(6, 2, 5, dtype=torch.float64).log_softmax(2)
    tgt = torch.ones(2, 3, dtype=torch.long)
    il, tl = torch.tensor([6, 6]), torch.tensor([3, 2])
    ctc = torch.nn.functional.ctc_loss
    for args, kw, match in [
            ((lp, tgt, il, tl), dict(blank=5), "blank must be in label range"),
            ((lp, tgt, torch.tensor([7, 6]), tl), {}, "Expected input_lengths to have value "
                                                      "at most 6, but got value 7"),
            ((lp, tgt, il, torch.tensor([-1, 2])), {}, "Expected target_lengths to have value "
                                                       "at least 0, but got value -1"),
            ((lp, tgt, il.double(), tl), {}, "input_lengths must be integral"),
            ((lp, tgt, (6, 6, 6), (3, 2)), {}, "input_lengths must be of size batch_size"),
            ((lp, tgt, il, torch.tensor([4, 2])), {}, "Expected tensor to have size at least 4 "
                                                      "at dimension 1, but got size 3"),
            ((lp, torch.ones(4, dtype=torch.long), il, tl), {}, "Expected tensor to have size 5 "
                                                                "at dimension 0, but got size 4"),
            ((lp, tgt[None], il, tl), {}, "Expected 1 to 2 dimensions, but got 3-dimensional"),
            ((lp[:0], tgt, il * 0, tl * 0), {}, "log_probs tensor must not be empty")]:
        with pytest.raises(RuntimeError, match=match):
            ctc(*args, **kw)
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        ctc(lp, tgt, il, tl, reduction="avg")


def test_an_empty_target_tensor_of_any_dtype_is_taken_when_no_sample_has_labels(torch):
    lp = Tensor(np.random.default_rng(0).standard_normal((4, 2, 3))).log_softmax(2)
    out = F.ctc_loss(lp, Tensor(np.zeros(0, np.float32)), [4, 4], [0, 0], reduction="sum")
    ref = torch.nn.functional.ctc_loss(torch.tensor(lp.numpy()), torch.zeros(0), (4, 4),
                                       (0, 0), reduction="sum")
    _close(out.numpy(), ref.numpy(), 1e-12)


# ---- the module --------------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [{}, dict(blank=2, reduction="sum"),
                                dict(reduction="none", zero_infinity=True)])
def test_module_matches_torchs(torch, kw):
    logits, targets, il, tl = _problem(7, 3, 5, 3, seed=17, blank=kw.get("blank", 0),
                                       lengths=[7, 4, 5], target_lengths=[3, 2, 1])
    m, tm = nn.CTCLoss(**kw), torch.nn.CTCLoss(**kw)
    x = Tensor(logits, requires_grad=True)
    xt = torch.tensor(logits, requires_grad=True)
    out = m(x.log_softmax(2), targets, il, tl)
    ref = tm(xt.log_softmax(2), torch.tensor(targets), torch.tensor(il), torch.tensor(tl))
    _close(out.numpy(), ref.detach().numpy(), 1e-10)
    g = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(g)
    ref.backward(torch.tensor(g))
    _close(x.grad.numpy(), xt.grad.numpy(), 1e-10)
    assert repr(m) == repr(tm) == "CTCLoss()"
    assert (m.blank, m.reduction, m.zero_infinity) == (tm.blank, tm.reduction, tm.zero_infinity)
    assert m.state_dict() == {} and list(m.parameters()) == []


@pytest.mark.parametrize("kw,error,match", [
    (dict(reduction="avg"), ValueError, "avg is not a valid value for reduction"),
    (dict(blank=1.5), TypeError, "argument 'blank' must be int"),
    (dict(blank=-1), ValueError, "blank must be in label range"),
    (dict(zero_infinity="yes"), TypeError, "argument 'zero_infinity' must be bool"),
])
def test_module_checks_its_arguments_when_built(kw, error, match):
    with pytest.raises(error, match=match):
        nn.CTCLoss(**kw)


def test_module_checks_the_blank_against_the_classes_when_called():
    logits, targets, il, tl = _problem(5, 2, 4, 2, seed=18)
    with pytest.raises(ValueError, match="blank must be in label range"):
        nn.CTCLoss(blank=4)(Tensor(logits).log_softmax(2), targets, il, tl)
