"""nn.utils.rnn.pad_sequence and unpad_sequence against torch 2.13: the padded tensor and the
gradient of every sequence under a random upstream gradient, float64 and float32, both layouts,
both padding sides; gradcheck; the import path; the errors."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor, nn

RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-6}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side, value", [("right", 0.0), ("left", -2.5)])
def test_pad_sequence_matches_torch(torch, dtype, batch_first, side, value):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((n, 2, 3)).astype(dtype) for n in (3, 0, 5, 1)]
    mine = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    want = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = nn.utils.rnn.pad_sequence(mine, batch_first, value, side)
    tout = torch.nn.utils.rnn.pad_sequence(want, batch_first, value, side)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.data, tout.detach().numpy())
    g = rng.standard_normal(out.shape).astype(dtype)
    out.backward(g)
    tout.backward(torch.from_numpy(g))
    for i, (a, b) in enumerate(zip(mine, want)):
        assert a.grad.dtype == dtype
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=RTOL[np.dtype(dtype)],
                                   err_msg=f"gradient of sequence {i}")


def test_pad_sequence_of_a_tensor_and_ints_as_torch(torch):
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(nn.utils.rnn.pad_sequence(Tensor(x)).data,
                                  torch.nn.utils.rnn.pad_sequence(torch.tensor(x)).numpy())
    ints = [np.arange(3), np.arange(1)]
    ours = nn.utils.rnn.pad_sequence([Tensor(a) for a in ints], padding_value=7)
    want = torch.nn.utils.rnn.pad_sequence([torch.tensor(a) for a in ints], padding_value=7)
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours.data, want.numpy())


def test_pad_sequence_gradcheck():
    rng = np.random.default_rng(1)
    seqs = [Tensor(rng.standard_normal((n, 2)), requires_grad=True) for n in (2, 4, 1)]
    assert tg.gradcheck(lambda *s: nn.utils.rnn.pad_sequence(list(s), True, 1.0, "left"), seqs)


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence_matches_torch_and_inverts(torch, batch_first):
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal((n, 3)) for n in (4, 2, 3)]
    mine = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    padded = nn.utils.rnn.pad_sequence(mine, batch_first)
    lengths = [4, 2, 3]
    back = nn.utils.rnn.unpad_sequence(padded, Tensor(np.array(lengths)), batch_first)
    tpad = torch.nn.utils.rnn.pad_sequence([torch.tensor(a) for a in arrays], batch_first)
    want = torch.nn.utils.rnn.unpad_sequence(tpad, torch.tensor(lengths), batch_first)
    for a, b, c in zip(back, want, arrays):
        np.testing.assert_array_equal(a.data, b.numpy())
        np.testing.assert_array_equal(a.data, c)
    sum(((t * t).sum() for t in back), Tensor(np.float64(0.0))).backward()
    for t, a in zip(mine, arrays):
        np.testing.assert_allclose(t.grad.data, 2 * a, rtol=1e-15)
    assert padded.shape == ((3, 4, 3) if batch_first else (4, 3, 3))  # not transposed in place


def test_from_import_as_torch():
    from tinygrad_norm.nn.utils.rnn import pad_sequence, unpad_sequence
    assert pad_sequence is nn.utils.rnn.pad_sequence and callable(unpad_sequence)


def _s(*shape, dtype=np.float32):
    return Tensor(np.ones(shape, dtype))


@pytest.mark.parametrize("call, exc, match", [
    (lambda: nn.utils.rnn.pad_sequence([]), ValueError, "received an empty list of sequences"),
    (lambda: nn.utils.rnn.pad_sequence(5), TypeError, "Expected iterable for input sequences"),
    (lambda: nn.utils.rnn.pad_sequence([_s(3, 2), _s(2, 3)]), ValueError,
     r"trailing shape \(2,\) of sequences\[0\], but sequences\[1\] has shape \(2, 3\)"),
    (lambda: nn.utils.rnn.pad_sequence([_s(3, 2), _s(2, 2, dtype=np.float64)]), TypeError,
     r"sequences\[1\] is float64"),
    (lambda: nn.utils.rnn.pad_sequence([_s(3), _s()]), ValueError, r"sequences\[1\] is 0-d"),
    (lambda: nn.utils.rnn.pad_sequence([_s(3), np.ones(2)]), TypeError,
     r"sequences\[1\] must be a Tensor"),
    (lambda: nn.utils.rnn.pad_sequence([_s(3)], padding_side="up"), ValueError,
     "Expected padding_side to be one of left or right, but got up."),
    (lambda: nn.utils.rnn.pad_sequence([_s(3)], batch_first=1), TypeError,
     "argument 'batch_first' .*must be bool, not int"),
    (lambda: nn.utils.rnn.pad_sequence([_s(3)], padding_value="0"), TypeError,
     "argument 'padding_value' must be float, not str"),
    (lambda: nn.utils.rnn.unpad_sequence(_s(3, 2, 4), [3, 1, 2]), ValueError,
     "lengths has 3 entries for a batch of 2"),
    (lambda: nn.utils.rnn.unpad_sequence(_s(3, 2, 4), [2.5, 1.0]), TypeError,
     "lengths must be a 1-D list or Tensor of ints"),
    (lambda: nn.utils.rnn.unpad_sequence(np.ones((3, 2)), [3, 1]), TypeError,
     "padded_sequences must be a Tensor"),
    (lambda: nn.utils.rnn.unpad_sequence(_s(3), [3]), ValueError, "at least 2 dimensions"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_unpad_sequence_odd_lengths_as_torch(torch):
    x = np.arange(24.0).reshape(4, 3, 2)
    lengths = [-1, 0, 9]  # torch keeps the steps t < length: none, none, all
    ours = nn.utils.rnn.unpad_sequence(Tensor(x), lengths)
    want = torch.nn.utils.rnn.unpad_sequence(torch.tensor(x), torch.tensor(lengths))
    for a, b in zip(ours, want):
        np.testing.assert_array_equal(a.data, b.numpy())
