"""Packed sequences (nn.utils.rnn.pack_padded_sequence and friends) and the recurrent layers
over them, against torch 2.13: the packed layout, the padded result, h_n / c_n and every
gradient (input and parameters), float64."""
import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import nn
from tinygrad_norm.nn.utils import rnn as R


def _layers(torch, kind, **kw):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(3, 4, **kw).double()
    ours = getattr(nn, kind)(3, 4, **kw).double()
    ours.load_state_dict({k: tg.Tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})
    return ours, theirs


def _close(a, b, what):
    np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12, err_msg=what)


def _states(hn, kind):
    return list(hn) if kind == "LSTM" else [hn]


CASES = [  # lengths, bidirectional, layers, batch_first, enforce_sorted, initial state given
    ([5, 3, 3, 1], False, 1, False, True, False),
    ([2, 5, 1, 3], True, 2, True, False, True),
    ([1, 1], True, 1, False, True, True),
    ([4, 6, 2], False, 2, False, False, False),
    ([70, 64, 9, 66, 1], True, 1, False, False, True),  # long enough for the chunked steps
]


@pytest.mark.parametrize("case", CASES, ids=[str(c[0]) for c in CASES])
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_recurrent_layers_over_packed_sequences_as_torch(torch, kind, case):
    from torch.nn.utils import rnn as TR
    lengths, bidir, layers, bf, enforce, give_h = case
    m, t = _layers(torch, kind, num_layers=layers, bidirectional=bidir, batch_first=bf)
    B, T = len(lengths), max(lengths)
    rng = np.random.default_rng(len(lengths))
    x = rng.standard_normal((B, T, 3) if bf else (T, B, 3))
    X, tX = tg.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    p = R.pack_padded_sequence(X, lengths, batch_first=bf, enforce_sorted=enforce)
    tp = TR.pack_padded_sequence(tX, lengths, batch_first=bf, enforce_sorted=enforce)
    _close(p.batch_sizes.numpy(), tp.batch_sizes.numpy(), "batch_sizes")
    hx = thx = None
    if give_h:
        D = (2 if bidir else 1) * layers
        hs = [rng.standard_normal((D, B, 4)) for _ in range(2 if kind == "LSTM" else 1)]
        hx = tuple(tg.Tensor(h) for h in hs) if kind == "LSTM" else tg.Tensor(hs[0])
        thx = tuple(torch.tensor(h) for h in hs) if kind == "LSTM" else torch.tensor(hs[0])
    out, hn = m(p, hx)
    tout, thn = t(tp, thx)
    assert isinstance(out, R.PackedSequence) and out.batch_sizes is p.batch_sizes
    u, lens = R.pad_packed_sequence(out, batch_first=bf)
    tu, tlens = TR.pad_packed_sequence(tout, batch_first=bf)
    _close(u.numpy(), tu.detach().numpy(), "output")
    np.testing.assert_array_equal(lens.numpy(), tlens.numpy())
    g = rng.standard_normal(u.shape)
    loss, tloss = (u * tg.Tensor(g)).sum(), (tu * torch.tensor(g)).sum()
    for i, (h, th) in enumerate(zip(_states(hn, kind), _states(thn, kind))):
        _close(h.numpy(), th.detach().numpy(), f"state {i}")
        w = rng.standard_normal(h.shape)
        loss, tloss = loss + (h * tg.Tensor(w)).sum(), tloss + (th * torch.tensor(w)).sum()
    loss.backward()
    tloss.backward()
    _close(X.grad.numpy(), tX.grad.numpy(), "input gradient")
    for (name, a), b in zip(m.named_parameters(), t.parameters()):
        _close(a.grad.numpy(), b.grad.numpy(), name)


@pytest.mark.parametrize("enforce", [True, False])
def test_packed_layout_and_round_trip_as_torch(torch, enforce):
    from torch.nn.utils import rnn as TR
    lengths = [4, 3, 1] if enforce else [3, 4, 1]  # distinct: torch's order of ties is its own
    x = np.arange(24.0).reshape(4, 3, 2)
    p = R.pack_padded_sequence(tg.Tensor(x), lengths, enforce_sorted=enforce)
    tp = TR.pack_padded_sequence(torch.tensor(x), lengths, enforce_sorted=enforce)
    np.testing.assert_array_equal(p.data.numpy(), tp.data.numpy())
    np.testing.assert_array_equal(p.batch_sizes.numpy(), tp.batch_sizes.numpy())
    for ours, theirs in ((p.sorted_indices, tp.sorted_indices),
                         (p.unsorted_indices, tp.unsorted_indices)):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    padded, lens = R.pad_packed_sequence(p, batch_first=True, padding_value=-1.0,
                                         total_length=6)
    tpadded, tlens = TR.pad_packed_sequence(tp, batch_first=True, padding_value=-1.0,
                                            total_length=6)
    np.testing.assert_array_equal(padded.numpy(), tpadded.numpy())
    np.testing.assert_array_equal(lens.numpy(), tlens.numpy())
    assert lens.dtype == np.int64


def test_pack_sequence_and_unpack_sequence_as_torch(torch):
    from torch.nn.utils import rnn as TR
    seqs = [np.full((n, 2), float(n)) for n in (2, 5, 3)]
    ours = R.pack_sequence([tg.Tensor(s) for s in seqs], enforce_sorted=False)
    theirs = TR.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    np.testing.assert_array_equal(ours.data.numpy(), theirs.data.numpy())
    for a, b in zip(R.unpack_sequence(ours), TR.unpack_sequence(theirs)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_the_gradient_of_packing_reaches_only_the_unpadded_places():
    x = tg.Tensor(np.ones((3, 2, 1)), requires_grad=True)
    p = R.pack_padded_sequence(x, [3, 1])
    p.data.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[:, :, 0], [[1, 1], [1, 0], [1, 0]])


@pytest.mark.parametrize("call,error,match", [
    (lambda x: R.pack_padded_sequence(x, [3, 0]), ValueError, "greater than 0"),
    (lambda x: R.pack_padded_sequence(x, [1, 3]), ValueError, "sorted in decreasing order"),
    (lambda x: R.pack_padded_sequence(x, [5, 1]), ValueError, "exceeds the 3 time steps"),
    (lambda x: R.pack_padded_sequence(x, [3, 2, 1]), ValueError, "equal to batch_size"),
    (lambda x: R.pack_padded_sequence(x, [2.5, 1.0]), TypeError, "lengths must be"),
    (lambda x: R.pack_padded_sequence(x[:, :0], []), ValueError, "Cannot pack empty tensors"),
    (lambda x: R.pack_padded_sequence(x, [3, 1], batch_first=1), TypeError, "must be bool"),
    (lambda x: R.pad_packed_sequence(R.pack_padded_sequence(x, [3, 1]), total_length=2),
     ValueError, "total_length to be at least"),
    (lambda x: R.pad_packed_sequence(x), TypeError, "must be a PackedSequence"),
])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call(tg.Tensor(np.ones((3, 2, 1))))


def test_a_packed_input_of_the_wrong_width_is_named():
    m = nn.GRU(3, 4)
    p = R.pack_padded_sequence(tg.Tensor(np.ones((2, 2, 5), np.float32)), [2, 1])
    with pytest.raises(ValueError, match="packed input's data"):
        m(p)


def test_whole_float_lengths_and_dtype_conversion_as_torch(torch):
    # the reviewer's findings: torch takes float lengths (converted), and packed.to(dtype),
    # .double(), .float() and .cpu() are what ported code calls on a PackedSequence
    from torch.nn.utils import rnn as TR
    x = np.arange(12.0).reshape(4, 3, 1).astype(np.float32)
    p = R.pack_padded_sequence(tg.Tensor(x), [4.0, 2.0, 1.0])
    tp = TR.pack_padded_sequence(torch.tensor(x), [4.0, 2.0, 1.0])
    np.testing.assert_array_equal(p.batch_sizes.numpy(), tp.batch_sizes.numpy())
    d = p.to(np.float64)
    assert isinstance(d, R.PackedSequence) and d.data.dtype == np.float64
    assert d.batch_sizes is p.batch_sizes and p.double().data.dtype == np.float64
    assert p.double().float().data.dtype == np.float32 and p.cpu() is p
