"""torch's top-level recurrent functions (``torch.lstm``, ``torch.gru``, ``torch.rnn_tanh``,
``torch.rnn_relu`` and their ``*_cell`` steps): the calling conventions of ATen, over the very
loop that ``nn.RNN``/``nn.LSTM``/``nn.GRU`` run (``RNNBase._layers``), so values and gradients
are the modules'.

The weights come flat, as a module's ``_flat_weights``: for each layer, each direction,
``w_ih, w_hh`` then ``b_ih, b_hh`` when ``has_biases``, then ``w_hr`` for an LSTM whose
``hx[0]`` is narrower than ``hx[1]`` (a projection). Each layer function has two forms, as
torch's: ``(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
batch_first)`` on a padded (L, N, in) input (N first with ``batch_first``), and ``(data,
batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional)`` on a packed
sequence's data (sorted, longest first). ``hx`` is required; unlike the modules, a 2-D
(unbatched) input is refused, as torch's."""
from __future__ import annotations

import numbers

import numpy as np

from .. import functional as F
from ..functional._checks import _flag
from ..tensor import Tensor
from .rnn import _GATES, RNNBase, _gru_step, _lstm_step, _rnn_step

__all__ = ["lstm", "gru", "rnn_tanh", "rnn_relu", "lstm_cell", "gru_cell", "rnn_tanh_cell",
           "rnn_relu_cell"]


class _FlatRNN:
    """What ``RNNBase._layers`` reads off a module, read off flat weights instead."""

    _layers = RNNBase._layers
    _direction = RNNBase._direction

    def __init__(self, fn, mode, params, flags, num_layers, dropout, proj):
        has_biases, train, bidirectional = flags
        self.mode, self.num_layers, self.dropout, self.training = mode, num_layers, dropout, train
        self.bias, self.bidirectional = has_biases, bidirectional
        dirs = 2 if bidirectional else 1
        per = 2 + 2 * has_biases + proj
        if len(params) != per * num_layers * dirs:
            raise ValueError(f"{fn}: got an incorrect number of RNN parameters: {len(params)}, "
                             f"expected {per * num_layers * dirs} ({num_layers} layer(s) x "
                             f"{dirs} direction(s) x {per})")
        names = ["weight_ih", "weight_hh"] + ["bias_ih", "bias_hh"] * has_biases \
            + ["weight_hr"] * proj
        it = iter(params)
        for layer in range(num_layers):
            for sfx in ("", "_reverse")[:dirs]:
                for n in names:
                    setattr(self, f"{n}_l{layer}{sfx}", _tensor(next(it), "params", fn))
        w_hh = self.weight_hh_l0
        self.hidden_size = w_hh.shape[0] // _GATES[mode]
        self.proj_size = self.weight_hr_l0.shape[0] if proj else 0


def _tensor(t, name, fn):
    if not isinstance(t, Tensor):
        raise TypeError(f"{fn}(): {name} must hold Tensors, got {type(t).__name__}")
    return t


def _count(v, name, fn):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0:
        raise ValueError(f"{fn}(): {name} must be a positive int, got {v!r}")
    return int(v)


def _rate(v, fn):
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0 <= v <= 1:
        raise ValueError(f"{fn}(): dropout must be a number in [0, 1], got {v!r}")
    return float(v)


def _states(hx, lstm, fn):
    if lstm:
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise ValueError(f"{fn} expects two hidden states")
        return [_tensor(h, "hx", fn) for h in hx]
    if not isinstance(hx, Tensor):
        raise TypeError(f"{fn}(): hx must be a Tensor, got {type(hx).__name__}")
    return [hx]


def _check_states(states, net, batch, fn):
    layers = net.num_layers * (2 if net.bidirectional else 1)
    sizes = (net.proj_size or net.hidden_size, net.hidden_size)
    for i, (h, size) in enumerate(zip(states, sizes)):
        want = (layers, batch, size)
        if h.shape != want:
            raise ValueError(f"{fn}: Expected hidden[{i}] size {want}, got {list(h.shape)}")


def _run(fn, mode, input, batch_sizes, hx, params, flags, num_layers, dropout, batch_first):
    lstm = mode == "LSTM"
    states = _states(hx, lstm, fn)
    has_biases, train, bidirectional = (_flag(v, n, fn) for v, n in zip(
        flags, ("has_biases", "train", "bidirectional")))
    batch_first = _flag(batch_first, "batch_first", fn)
    if not isinstance(params, (tuple, list)):
        raise TypeError(f"{fn}(): params must be a list or tuple of Tensors, got "
                        f"{type(params).__name__}")
    proj = int(lstm and states[0].ndim == 3 and states[1].ndim == 3
               and states[0].shape[2] != states[1].shape[2])
    net = _FlatRNN(fn, mode, params, (has_biases, train, bidirectional),
                   _count(num_layers, "num_layers", fn), _rate(dropout, fn), proj)
    _tensor(input, "input", fn)
    packed = batch_sizes is not None
    if input.ndim != (2 if packed else 3):
        raise ValueError(f"{fn}: Expected {'packed data to be 2D' if packed else 'input to be 3D'}"
                         f", got {input.ndim}D instead")
    if packed:
        sizes = np.asarray(getattr(batch_sizes, "data", batch_sizes), dtype=np.int64)
        batch = int(sizes[0]) if sizes.size else 0
        x = input
    else:
        sizes = None
        x = input.swapaxes(0, 1) if batch_first else input
        batch = x.shape[1]
    want = net.weight_ih_l0.shape[1]
    if input.shape[-1] != want:
        raise ValueError(f"{fn}: input.size(-1) must be equal to input_size. Expected {want}, "
                         f"got {input.shape[-1]}")
    if x.shape[0] == 0:
        raise ValueError(f"{fn}: the input sequence is empty (length 0)")
    _check_states(states, net, batch, fn)
    out, hn, cn = net._layers(x, states[0], states[1] if lstm else None, sizes)
    if not packed and batch_first:
        out = out.swapaxes(0, 1)
    return (out, hn, cn) if lstm else (out, hn)


def _layer_fn(name, mode):
    def layer(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
              batch_first=False):
        # torch's second form, (data, batch_sizes, hx, params, has_biases, num_layers,
        # dropout, train, bidirectional), is told apart by where the weights list sits
        packed = isinstance(hx, Tensor) if mode == "LSTM" else isinstance(params, Tensor)
        if packed:
            (data, batch_sizes, hx_, params_, has_b, layers, p, tr, bidir) = (
                input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
                batch_first)
            return _run(name, mode, data, batch_sizes, hx_, params_, (has_b, tr, bidir), layers,
                        p, False)
        return _run(name, mode, input, None, hx, params, (has_biases, train, bidirectional),
                    num_layers, dropout, batch_first)
    layer.__name__ = layer.__qualname__ = name
    layer.__doc__ = (f"``torch.{name}``: a {mode} layer over flat weights; returns "
                     f"{'(output, h_n, c_n)' if mode == 'LSTM' else '(output, h_n)'}.")
    return layer


lstm = _layer_fn("lstm", "LSTM")
gru = _layer_fn("gru", "GRU")
rnn_tanh = _layer_fn("rnn_tanh", "RNN_TANH")
rnn_relu = _layer_fn("rnn_relu", "RNN_RELU")


# ---- the cells --------------------------------------------------------------------------------
def _cell_inputs(fn, input, states, w_ih, w_hh, gates):
    for name, t in (("input", input), ("w_ih", w_ih), ("w_hh", w_hh)):
        _tensor(t, name, fn)
    if input.ndim != 2 or w_ih.ndim != 2 or w_hh.ndim != 2:
        raise ValueError(f"{fn}: input, w_ih and w_hh must be 2-D, got {input.ndim}-D, "
                         f"{w_ih.ndim}-D and {w_hh.ndim}-D")
    for name, w in (("w_ih", w_ih), ("w_hh", w_hh)):
        if w.dtype != input.dtype:  # F.linear's check would name linear(), not this cell
            raise TypeError(f"{fn}(): expected input and {name} to have the same dtype, but "
                            f"got: {input.dtype} != {w.dtype}")
    if input.shape[1] != w_ih.shape[1]:
        raise ValueError(f"{fn}(): input has inconsistent input_size: got {input.shape[1]} "
                         f"expected {w_ih.shape[1]}")
    H = w_hh.shape[1]
    if w_ih.shape[0] != gates * H or w_hh.shape[0] != gates * H:
        raise ValueError(f"{fn}: w_ih and w_hh must have {gates} * hidden_size = {gates * H} "
                         f"rows, got {w_ih.shape[0]} and {w_hh.shape[0]}")
    for i, h in enumerate(states):
        _tensor(h, "hx", fn)
        if h.ndim != 2 or h.shape[0] != input.shape[0]:
            raise ValueError(f"{fn}(): Input batch size {input.shape[0]} doesn't match "
                             f"hidden{i} batch size {h.shape[0] if h.ndim else h.shape}"
                             + (f" (hx must be 2-D, got {h.ndim}-D)" if h.ndim != 2 else ""))
        if h.shape[1] != H:
            raise ValueError(f"{fn}(): hidden{i} has inconsistent hidden_size: got "
                             f"{h.shape[1]}, expected {H}")
        if h.dtype != input.dtype:
            raise TypeError(f"{fn}: hx has dtype {h.dtype} but input has dtype {input.dtype}")
    return H


def _biases(fn, b_ih, b_hh):
    """torch's type check of the optional biases, before F.linear sees them (whose message
    would name linear(), not the cell the user called)."""
    for pos, name, b in ((5, "b_ih", b_ih), (6, "b_hh", b_hh)):
        if b is not None and not isinstance(b, Tensor):
            raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not "
                            f"{type(b).__name__}")


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """``torch.lstm_cell``: one LSTM step on (N, in) input, ``hx`` = (h, c); returns (h', c')."""
    states = _states(hx, True, "lstm_cell")
    H = _cell_inputs("lstm_cell", input, states, w_ih, w_hh, 4)
    _biases("lstm_cell", b_ih, b_hh)
    return _lstm_step(F.linear(input, w_ih, b_ih), states[0], states[1], w_hh.T, b_hh, H)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """``torch.gru_cell``: one GRU step on (N, in) input and (N, H) ``hx``; returns h'."""
    H = _cell_inputs("gru_cell", input, _states(hx, False, "gru_cell"), w_ih, w_hh, 3)
    _biases("gru_cell", b_ih, b_hh)
    return _gru_step(F.linear(input, w_ih, b_ih), hx, w_hh.T, b_hh, H)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """``torch.rnn_tanh_cell``: tanh(input w_ih^T + b_ih + hx w_hh^T + b_hh)."""
    _cell_inputs("rnn_tanh_cell", input, _states(hx, False, "rnn_tanh_cell"), w_ih, w_hh, 1)
    _biases("rnn_tanh_cell", b_ih, b_hh)
    return _rnn_step(F.linear(input, w_ih, b_ih), hx, w_hh.T, b_hh, False)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """``torch.rnn_relu_cell``: relu(input w_ih^T + b_ih + hx w_hh^T + b_hh)."""
    _cell_inputs("rnn_relu_cell", input, _states(hx, False, "rnn_relu_cell"), w_ih, w_hh, 1)
    _biases("rnn_relu_cell", b_ih, b_hh)
    return _rnn_step(F.linear(input, w_ih, b_ih), hx, w_hh.T, b_hh, True)
