"""torch's top-level recurrent functions (tg.lstm, tg.gru, tg.rnn_tanh, tg.rnn_relu, both ATen
forms, and the *_cell steps) against torch 2.13: outputs, states and the gradient of the input,
every state and every flat weight under random upstream gradients, float64 (1e-10) and float32;
dropout with train=False; errors."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor

from conftest import assert_scaled_close  # noqa: E402

RTOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 3e-5}
L, N, I, H = 5, 3, 4, 6


def _close(actual, expected, what):
    assert_scaled_close(actual, expected, RTOL[np.asarray(actual).dtype], what)


def _module(torch, name, dtype, **kw):
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn_tanh": torch.nn.RNN,
           "rnn_relu": torch.nn.RNN}[name]
    if name == "rnn_relu":
        kw["nonlinearity"] = "relu"
    torch.manual_seed(0)
    return cls(I, H, dtype=torch.float64 if dtype == np.float64 else torch.float32, **kw)


def _both(torch, arrays):
    mine = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    want = [torch.tensor(a, requires_grad=True) for a in arrays]
    return mine, want


def _backward(torch, outs, touts, rng):
    loss, tloss = 0.0, 0.0
    for o, t in zip(outs, touts):
        _close(o.data, t.detach().numpy(), "value")
        g = rng.standard_normal(o.shape).astype(o.dtype)
        loss = loss + (o * Tensor(g)).sum()
        tloss = tloss + (t * torch.from_numpy(g)).sum()
    loss.backward()
    tloss.backward()


CASES = [("lstm", {}), ("lstm", {"num_layers": 2, "bidirectional": True}),
         ("lstm", {"proj_size": 2}), ("lstm", {"bias": False, "batch_first": True}),
         ("gru", {"num_layers": 2}), ("gru", {"bidirectional": True, "batch_first": True}),
         ("rnn_tanh", {"bias": False}), ("rnn_relu", {"num_layers": 2, "bidirectional": True})]


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_layer_functions_match_torch(torch, case, dtype):
    name, kw = CASES[case]
    m = _module(torch, name, dtype, **kw)
    rng = np.random.default_rng(case)
    dirs = 2 if kw.get("bidirectional") else 1
    layers = kw.get("num_layers", 1) * dirs
    x = rng.standard_normal((N, L, I) if kw.get("batch_first") else (L, N, I)).astype(dtype)
    states = [rng.standard_normal((layers, N, kw.get("proj_size") or H)).astype(dtype)]
    if name == "lstm":
        states.append(rng.standard_normal((layers, N, H)).astype(dtype))
    weights = [w.detach().numpy() for w in m._flat_weights]
    mine, want = _both(torch, [x, *states, *weights])
    k = len(states)
    hx = tuple(mine[1:1 + k]) if name == "lstm" else mine[1]
    thx = tuple(want[1:1 + k]) if name == "lstm" else want[1]
    flags = (kw.get("bias", True), kw.get("num_layers", 1), 0.3, False,
             kw.get("bidirectional", False), kw.get("batch_first", False))
    outs = getattr(tg, name)(mine[0], hx, mine[1 + k:], *flags)
    touts = getattr(torch, name)(want[0], thx, want[1 + k:], *flags)
    assert len(outs) == len(touts)
    _backward(torch, outs, touts, rng)
    for i, (a, b) in enumerate(zip(mine, want)):
        _close(a.grad.data, b.grad.numpy(), f"{name}: gradient of argument {i}")


@pytest.mark.parametrize("name", ["lstm", "gru", "rnn_tanh"])
def test_packed_form_matches_torch(torch, name):
    m = _module(torch, name, np.float64, bidirectional=True)
    rng = np.random.default_rng(1)
    x = torch.tensor(rng.standard_normal((L, N, I)))
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, [5, 3, 2])
    states = [rng.standard_normal((2, N, H)) for _ in range(2 if name == "lstm" else 1)]
    weights = [w.detach().numpy() for w in m._flat_weights]
    mine, want = _both(torch, [packed.data.numpy(), *states, *weights])
    k = len(states)
    hx = tuple(mine[1:1 + k]) if name == "lstm" else mine[1]
    thx = tuple(want[1:1 + k]) if name == "lstm" else want[1]
    outs = getattr(tg, name)(mine[0], Tensor(packed.batch_sizes.numpy()), hx, mine[1 + k:],
                             True, 1, 0.0, True, True)
    touts = getattr(torch, name)(want[0], packed.batch_sizes, thx, want[1 + k:], True, 1, 0.0,
                                 True, True)
    _backward(torch, outs, touts, rng)
    for i, (a, b) in enumerate(zip(mine, want)):
        _close(a.grad.data, b.grad.numpy(), f"{name}: gradient of argument {i}")


def test_same_numbers_as_the_module():
    tg.manual_seed(0)
    m = tg.nn.GRU(I, H, num_layers=2, dtype=np.float64)
    x = Tensor(np.random.default_rng(0).standard_normal((L, N, I)))
    h0 = Tensor(np.zeros((2, N, H)))
    out, hn = m(x, h0)
    flat = [p for layer in m.all_weights for p in layer]
    fout, fhn = tg.gru(x, h0, flat, True, 2, 0.0, False, False, False)
    np.testing.assert_array_equal(out.data, fout.data)
    np.testing.assert_array_equal(hn.data, fhn.data)


def test_dropout_between_layers_only_when_training():
    tg.manual_seed(0)
    m = tg.nn.LSTM(I, H, num_layers=2, dtype=np.float64)
    flat = [p for layer in m.all_weights for p in layer]
    x = Tensor(np.random.default_rng(0).standard_normal((L, N, I)))
    hx = (Tensor(np.zeros((2, N, H))), Tensor(np.zeros((2, N, H))))
    off = tg.lstm(x, hx, flat, True, 2, 0.5, False, False, False)[0]
    ref = tg.lstm(x, hx, flat, True, 2, 0.0, True, False, False)[0]
    np.testing.assert_array_equal(off.data, ref.data)
    on = tg.lstm(x, hx, flat, True, 2, 0.5, True, False, False)[0]
    assert on.shape == ref.shape and not np.allclose(on.data, ref.data)


CELLS = [("lstm_cell", 4), ("gru_cell", 3), ("rnn_tanh_cell", 1), ("rnn_relu_cell", 1)]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,gates", CELLS)
def test_cells_match_torch(torch, name, gates, dtype, bias):
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(s).astype(dtype) for s in (
        (N, I), (N, H), (N, H), (gates * H, I), (gates * H, H), (gates * H,), (gates * H,))]
    if name != "lstm_cell":
        del arrays[2]
    if not bias:
        arrays = arrays[:-2]
    mine, want = _both(torch, arrays)
    k = 2 if name == "lstm_cell" else 1
    hx = tuple(mine[1:1 + k]) if k == 2 else mine[1]
    thx = tuple(want[1:1 + k]) if k == 2 else want[1]
    outs = getattr(tg, name)(mine[0], hx, *mine[1 + k:])
    touts = getattr(torch, name)(want[0], thx, *want[1 + k:])
    outs, touts = (outs, touts) if k == 2 else ((outs,), (touts,))
    _backward(torch, outs, touts, rng)
    for i, (a, b) in enumerate(zip(mine, want)):
        _close(a.grad.data, b.grad.numpy(), f"{name}: gradient of argument {i}")


def test_gradcheck_cells_and_layer():
    rng = np.random.default_rng(3)
    t = [Tensor(rng.standard_normal(s), requires_grad=True)
         for s in ((2, 3), (2, 2), (2, 2), (8, 3), (8, 2), (8,), (8,))]
    assert tg.gradcheck(lambda x, h, c, a, b, p, q: tg.lstm_cell(x, (h, c), a, b, p, q)[1], t)
    g = [Tensor(rng.standard_normal(s), requires_grad=True)
         for s in ((3, 2, 3), (1, 2, 2), (6, 3), (6, 2), (6,), (6,))]
    assert tg.gradcheck(lambda x, h, *w: tg.gru(x, h, list(w), True, 1, 0.0, False, False,
                                                False)[0], g)


def _errs():
    x, h = Tensor(np.zeros((L, N, I))), Tensor(np.zeros((1, N, H)))
    w = [Tensor(np.zeros((3 * H, I))), Tensor(np.zeros((3 * H, H)))]
    cw = [Tensor(np.zeros((4 * H, I))), Tensor(np.zeros((4 * H, H)))]
    return [
        (lambda: tg.gru(x, h, w[:1], False, 1, 0.0, False, False, False), ValueError,
         "got an incorrect number of RNN parameters"),
        (lambda: tg.lstm(x, (h,), cw, False, 1, 0.0, False, False, False), ValueError,
         "lstm expects two hidden states"),
        (lambda: tg.gru(x, Tensor(np.zeros((2, N, H))), w, False, 1, 0.0, False, False, False),
         ValueError, "Expected hidden[0] size (1, 3, 6), got [2, 3, 6]"),
        (lambda: tg.gru(x[0], h, w, False, 1, 0.0, False, False, False), ValueError,
         "Expected input to be 3D, got 2D instead"),
        (lambda: tg.gru(Tensor(np.zeros((L, N, 2))), h, w, False, 1, 0.0, False, False, False),
         ValueError, "input.size(-1) must be equal to input_size. Expected 4, got 2"),
        (lambda: tg.gru(x, h, w, "yes", 1, 0.0, False, False, False), TypeError,
         "argument 'has_biases' must be bool"),
        (lambda: tg.gru_cell(Tensor(np.zeros((2, I))), Tensor(np.zeros((3, H))), *w), ValueError,
         "Input batch size 2 doesn't match hidden0 batch size 3"),
        (lambda: tg.gru_cell(Tensor(np.zeros((2, 5))), Tensor(np.zeros((2, H))), *w), ValueError,
         "input has inconsistent input_size: got 5 expected 4"),
        (lambda: tg.gru_cell(Tensor(np.zeros((2, I))), Tensor(np.zeros((2, 5))), *w), ValueError,
         "hidden0 has inconsistent hidden_size: got 5, expected 6"),
        (lambda: tg.lstm_cell(Tensor(np.zeros((2, I))), (Tensor(np.zeros((2, H))),), *cw),
         ValueError, "lstm_cell expects two hidden states"),
        (lambda: tg.rnn_tanh_cell(Tensor(np.zeros(I)), Tensor(np.zeros(H)), *w), ValueError,
         "must be 2-D"),
    ]


@pytest.mark.parametrize("i", range(len(_errs())))
def test_errors(i):
    fn, exc, match = _errs()[i]
    with pytest.raises(exc) as e:
        fn()
    assert match in str(e.value)
