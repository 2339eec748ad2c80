"""F.linear_cross_entropy, nn.LinearCrossEntropyLoss and nn.LinearCrossEntropyOptions against
torch 2.13: values and the gradients of input, linear weight and bias under a random upstream
gradient (float64 1e-10, float32), the K-dimensional loss, probability targets, every reduction;
chunking options that change no value; torch's errors and warning; gradcheck."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn

from conftest import assert_scaled_close  # noqa: E402

RTOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 2e-5}
N, D, C = 7, 3, 5


def _close(actual, expected, what):
    assert_scaled_close(actual, expected, RTOL[np.asarray(actual).dtype], what)


def _arrays(rng, dtype, case):
    out = (2,) if "K-dim" in case else ()
    batch = () if "unbatched" in case else (N,)
    a = {"input": rng.standard_normal((*batch, D)).astype(dtype),
         "linear_weight": rng.standard_normal((C, *out, D)).astype(dtype)}
    if "bias" in case:
        a["linear_bias"] = rng.standard_normal((C, *out)).astype(dtype)
    if "probs" in case:
        p = rng.random((*batch, C, *out))
        target = (p / p.sum(axis=len(batch), keepdims=True)).astype(dtype)
    else:
        target = rng.integers(0, C, (*batch, *out))
        if "ignore" in case:
            target.reshape(-1)[::3] = 1
    kw = {}
    if "weight" in case:
        kw["weight"] = rng.random(C).astype(dtype) + 0.5
    if "ignore" in case:
        kw["ignore_index"] = 1
    if "smoothing" in case:
        kw["label_smoothing"] = 0.2
    return a, target, kw


CASES = ["plain", "bias", "bias, weight, ignore", "unbatched, bias", "K-dim, bias, weight",
         "probs, bias", "smoothing, weight", "unbatched, probs"]


def _run_pair(torch, case, dtype, reduction, options=None, toptions=None):
    rng = np.random.default_rng(3)
    a, target, kw = _arrays(rng, dtype, case)
    mine = {k: Tensor(v.copy(), requires_grad=True) for k, v in a.items()}
    want = {k: torch.tensor(v, requires_grad=True) for k, v in a.items()}
    tkw = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    out = F.linear_cross_entropy(mine["input"], mine["linear_weight"], Tensor(target),
                                 linear_bias=mine.get("linear_bias"), reduction=reduction,
                                 options=options, **kw)
    tout = torch.nn.functional.linear_cross_entropy(
        want["input"], want["linear_weight"], torch.from_numpy(target),
        linear_bias=want.get("linear_bias"), reduction=reduction, options=toptions, **tkw)
    _close(out.data, tout.detach().numpy(), f"{case}: loss")
    g = rng.standard_normal(out.shape).astype(dtype)
    out.backward(Tensor(g))
    tout.backward(torch.from_numpy(g))
    for k in a:
        _close(mine[k].grad.data, want[k].grad.numpy(), f"{case}: gradient of {k}")
    return out


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES)
def test_reference_path_matches_torch(torch, case, dtype, reduction):
    _run_pair(torch, case, dtype, reduction)


OPTIONS = [{"batch_chunk_size": 2, "chunking_method": None}, {"batch_chunk_size": 3},
           {"chunking_method": "aspect_ratio"}, {}, {"batch_chunk_size": 100}]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("opts", range(len(OPTIONS)))
@pytest.mark.parametrize("case", ["bias, weight, ignore", "unbatched, bias", "plain"])
def test_chunked_options_change_no_value(torch, case, opts, reduction):
    kw = OPTIONS[opts]
    ref = _run_pair(torch, case, np.float64, reduction)
    out = _run_pair(torch, case, np.float64, reduction, nn.LinearCrossEntropyOptions(**kw),
                    torch.nn.LinearCrossEntropyOptions(**kw))
    _close(out.data, ref.data, "chunked against reference")


def test_chunk_sizes_as_torch(torch):
    for kw in OPTIONS[:3] + [{"chunking_method": "aspect_ratio:4"}]:
        ours = nn.LinearCrossEntropyOptions(**kw)._chunk_size(1000, 16, 300)
        theirs = torch.nn.LinearCrossEntropyOptions(**kw)._adjust(
            1000, 16, 300, torch.float32, torch.device("cpu")).batch_chunk_size
        assert ours == theirs, kw


def test_chunks_really_are_cut(monkeypatch):
    # N rows in chunks of 2: ceil(N / 2) linear calls, each of at most 2 rows
    import sys
    mod = sys.modules["tinygrad_norm.functional.linear_cross_entropy"]
    rows = []

    def counting(x, w, b=None):
        rows.append(x.shape[0])
        return F.linear(x, w, b)
    monkeypatch.setattr(mod, "linear", counting)
    x = Tensor(np.random.default_rng(0).standard_normal((N, D)), requires_grad=True)
    w = Tensor(np.random.default_rng(1).standard_normal((C, D)), requires_grad=True)
    opts = nn.LinearCrossEntropyOptions(batch_chunk_size=2, chunking_method=None)
    F.linear_cross_entropy(x, w, Tensor(np.arange(N) % C), options=opts).backward()
    assert rows == [2, 2, 2, 1] and x.grad.shape == (N, D)


def test_options_fall_back_with_torchs_warning(torch):
    x, w = Tensor(np.ones((2, 3))), Tensor(np.ones((4, 3)))
    opts = nn.LinearCrossEntropyOptions()
    with pytest.warns(UserWarning, match=r"linear_cross_entropy: ``options`` ignored; chunked "
                                         r"path needs reduction"):
        out = F.linear_cross_entropy(x, w, Tensor(np.array([0, 1])), label_smoothing=0.1,
                                     options=opts)
    ref = F.linear_cross_entropy(x, w, Tensor(np.array([0, 1])), label_smoothing=0.1)
    np.testing.assert_array_equal(out.data, ref.data)


def test_module_matches_torch(torch):
    rng = np.random.default_rng(5)
    for kw in ({}, {"bias": True, "out_features": (2,)},
               {"bias": True, "ignore_index": 0, "weight": rng.random(C) + 0.5}):
        tkw = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        ours = nn.LinearCrossEntropyLoss(D, C, dtype=np.float64, **{
            k: Tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()})
        theirs = torch.nn.LinearCrossEntropyLoss(D, C, dtype=torch.float64, **tkw)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert repr(ours).replace("float64", "") .split("\n")[1] == repr(theirs).split("\n")[1]
        ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
        x = rng.standard_normal((N, D))
        t = rng.integers(0, C, (N, *kw.get("out_features", ())))
        xo, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, tout = ours(xo, Tensor(t)), theirs(xt, torch.from_numpy(t))
        _close(out.data, tout.detach().numpy(), f"{kw}: loss")
        out.backward()
        tout.backward()
        _close(xo.grad.data, xt.grad.numpy(), f"{kw}: input gradient")
        tparams = dict(theirs.named_parameters())
        for k, p in ours.named_parameters():
            _close(p.grad.data, tparams[k].grad.numpy(), f"{kw}: gradient of {k}")


@pytest.mark.parametrize("chunked", [False, True])
def test_gradcheck(chunked):
    rng = np.random.default_rng(0)
    t = Tensor(rng.integers(0, C, N))
    opts = nn.LinearCrossEntropyOptions(batch_chunk_size=3) if chunked else None

    def fn(x, w, b):
        return F.linear_cross_entropy(x, w, t, linear_bias=b, reduction="none", options=opts)
    args = [Tensor(rng.standard_normal(s), requires_grad=True) for s in ((N, D), (C, D), (C,))]
    assert tg.gradcheck(fn, args)
    assert tg.gradgradcheck(fn, args)


def test_empty_batch_as_torch(torch):
    x, w = np.zeros((0, D)), np.ones((C, D))
    for red in ("mean", "sum", "none"):
        out = F.linear_cross_entropy(Tensor(x), Tensor(w), Tensor(np.zeros(0, np.int64)),
                                     reduction=red)
        tout = torch.nn.functional.linear_cross_entropy(
            torch.from_numpy(x), torch.from_numpy(w), torch.zeros(0, dtype=torch.long),
            reduction=red)
        np.testing.assert_array_equal(out.data, tout.numpy())


def _errs():
    x, w, t = Tensor(np.ones((2, 3))), Tensor(np.ones((4, 3))), Tensor(np.array([0, 1]))
    lce = F.linear_cross_entropy
    return [
        (lambda: lce(Tensor(np.ones((1, 2, 3))), w, t), ValueError,
         "expected input with dimensionality 1 or 2, got 3"),
        (lambda: lce(x, Tensor(np.ones(3)), t), ValueError,
         "expected linear_weight with dimensionality at least 2, got 1"),
        (lambda: lce(x, Tensor(np.ones((4, 2))), t), ValueError,
         "expected equal input and linear_weight last dimensions (in_features), got 3 and 2, "
         "respectively"),
        (lambda: lce(x, w, t, linear_bias=Tensor(np.ones(3))), ValueError,
         "expected linear_bias shape (4,), got (3,)"),
        (lambda: lce(Tensor(np.ones(3)), Tensor(np.ones((4, 2, 3))), t), ValueError,
         "K-dimensional loss defined by linear_weight shape (4, 2, 3) requires batched input, "
         "(N, 3), got unbatched input with shape (3,)"),
        (lambda: lce(x, w, Tensor(np.ones((2, 4))), ignore_index=0), ValueError,
         "ignore_index cannot be specified when target contains probabilities"),
        (lambda: lce([1.0], w, t), TypeError, "argument 'input' must be Tensor"),
        (lambda: lce(x, w, t, options={}), TypeError, "options must be a "
                                                      "LinearCrossEntropyOptions"),
        (lambda: nn.LinearCrossEntropyOptions(acc_policy="fast"), ValueError,
         "invalid acc_policy: 'fast'"),
        (lambda: nn.LinearCrossEntropyOptions(chunking_method="aspect_ratio:0"), ValueError,
         "invalid chunking_method: 'aspect_ratio:0'"),
        (lambda: nn.LinearCrossEntropyOptions(batch_chunk_size=0), ValueError,
         "batch_chunk_size must be positive int or None, got 0"),
        (lambda: nn.LinearCrossEntropyOptions(acc_dtype=np.int32), ValueError,
         "acc_dtype must be one of"),
        (lambda: lce(Tensor(np.ones((8, 3))), w, Tensor(np.zeros(8, np.int64)),
                     options=nn.LinearCrossEntropyOptions(batch_chunk_size=3,
                                                          chunking_method="aspect_ratio")),
         ValueError, "batch_chunk_size (=3) and chunking_method ('aspect_ratio') give "
                     "different chunk sizes (3 vs 4); pass only one."),
        (lambda: nn.LinearCrossEntropyLoss(3, 4, weight=Tensor(np.ones(3))), ValueError,
         "expected weight shape to be (4,), got (3,)"),
        (lambda: nn.LinearCrossEntropyLoss(3, 4, label_smoothing=1.5), ValueError,
         "expected label_smoothing to be in range [0, 1], got 1.5"),
        (lambda: nn.LinearCrossEntropyLoss(3, 4, reduction="avg"), ValueError,
         "avg is not a valid value for reduction"),
    ]


@pytest.mark.parametrize("i", range(len(_errs())))
def test_errors(i):
    fn, exc, match = _errs()[i]
    with pytest.raises(exc) as e:
        fn()
    assert match in str(e.value)


def test_torch_raises_the_same_words(torch):
    x, w = torch.ones(8, 3), torch.ones(4, 3)
    with pytest.raises(ValueError, match=r"give different chunk sizes \(3 vs 4\)"):
        torch.nn.functional.linear_cross_entropy(
            x, w, torch.zeros(8, dtype=torch.long), options=torch.nn.LinearCrossEntropyOptions(
                batch_chunk_size=3, chunking_method="aspect_ratio"))
    with pytest.raises(RuntimeError, match="expected linear_bias shape"):
        torch.nn.functional.linear_cross_entropy(x, w, torch.zeros(8, dtype=torch.long),
                                                 linear_bias=torch.ones(3))


def test_options_are_frozen_and_print_as_torch(torch):
    o = nn.LinearCrossEntropyOptions()
    assert repr(o) == repr(torch.nn.LinearCrossEntropyOptions())
    with pytest.raises(dataclasses_error()):
        o.batch_chunk_size = 3


def dataclasses_error():
    import dataclasses
    return dataclasses.FrozenInstanceError
