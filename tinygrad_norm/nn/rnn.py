"""Recurrent layers, as ``torch.nn``: RNN, LSTM, GRU and their one-step cells.

Composites: each time step is a handful of primitives (the step's slice, a matmul, and the fused
cell update: ``lstm_cell`` and ``lstm_hidden``, or ``gru_cell``), so the gradient through time
falls out of the tape, which replays without recursion: a sequence of thousands of steps goes
backward like any long chain. A padded LSTM direction without projection is one primitive,
``lstm_sequence`` (its VJP back-propagates through time itself, step by step, no recursion). The input projection
``x @ W_ih^T + b_ih`` of every step is one matmul over the whole sequence before the loop; only
``h @ W_hh^T`` runs per step. A packed input (``nn.utils.rnn.PackedSequence``) runs each step on
the sequences still going: the state is sliced as sequences end (or, backward in time,
extended as they start), so no padded place is ever computed.

PyTorch's parameter names, shapes, gate order and initialization: ``weight_ih_l{k}`` (gates *
hidden, in), ``weight_hh_l{k}`` (gates * hidden, hidden), ``bias_ih_l{k}``, ``bias_hh_l{k}``
(``_reverse`` for the backward direction; ``weight_hr_l{k}`` for an LSTM's projection), every one
U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)). Gates: LSTM i, f, g, o; GRU r, z, n with
n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import devices as _devices
from .._memory_guard import check_affordable
from .. import functional as F
from .. import ops
from ..autograd import scope
from ..functional._checks import _flag
from ..tensor import Tensor, apply, concatenate
from . import init
from .linear import _count, _float_dtype
from .module import Module, Parameter
from .rnn_utils import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ---- one step (shared by the layers and the cells); gx = x @ W_ih^T + b_ih, whT = W_hh^T ------
def _hidden(h, whT, b_hh):
    gh = h @ whT
    return gh + b_hh if b_hh is not None else gh


def _rnn_step(gx, h, whT, b_hh, relu):
    pre = gx + _hidden(h, whT, b_hh)
    return pre.relu() if relu else pre.tanh()


def _lstm_step(gx, h, c, whT, b_hh, H, whrT=None):
    gh = _hidden(h, whT, b_hh)
    # two fused primitives (ops.LstmCell, ops.LstmHidden; each adds gx + gh itself) in place
    # of 13 nodes: the same values, and the engine's per-node cost was most of a step's time
    c = apply(ops.LstmCell, gx, gh, c)
    h = apply(ops.LstmHidden, gx, gh, c)
    return (h @ whrT if whrT is not None else h), c


def _gru_step(gx, h, whT, b_hh, H):
    # one fused primitive (ops.GruCell) in place of 11 nodes, the same values
    return apply(ops.GruCell, gx, _hidden(h, whT, b_hh), h)


# ---- argument checks ----------------------------------------------------------------------------
def _positive(v, name, cls):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{cls}: {name} should be of type int, got: {type(v).__name__}")
    if v <= 0:
        raise ValueError(f"{name} must be greater than zero")
    return int(v)


def _dropout_p(p, cls):
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"{cls}: dropout must be a number, got {type(p).__name__}")
    if not 0 <= p <= 1:
        raise ValueError("dropout should be a number in range [0, 1] representing the "
                         "probability of an element being zeroed")
    return p


def _state_tensor(t, name, cls, dtype):
    if not isinstance(t, Tensor):
        raise TypeError(f"{cls}: {name} must be a Tensor, got {type(t).__name__}")
    if t.dtype != dtype:
        raise TypeError(f"{cls}: {name} has dtype {t.dtype} but the module's parameters are "
                        f"{dtype}")


def _uniform_all(module, hidden_size):
    k = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for p in module.parameters():
        init.uniform_(p, -k, k)


# ---- the layers ------------------------------------------------------------------------------------
class RNNBase(Module):
    """The multi-layer recurrent layer behind RNN, LSTM and GRU; ``mode`` is one of 'RNN_TANH',
    'RNN_RELU', 'LSTM', 'GRU', as PyTorch's."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__()
        cls = type(self).__name__
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        self.mode = mode
        # batch_first="no" would read the batch as time: PyTorch refuses it too (its words:
        # "batch_first should be of type bool"), and takes the others' truth values
        self.bias, self.batch_first = _flag(bias, "bias", cls), _flag(batch_first, "batch_first",
                                                                     cls)
        self.bidirectional = _flag(bidirectional, "bidirectional", cls)
        self.input_size = _positive(input_size, "input_size", cls)  # PyTorch refuses 0 too
        self.hidden_size = _positive(hidden_size, "hidden_size", cls)
        self.num_layers = _positive(num_layers, "num_layers", cls)
        self.dropout = _dropout_p(dropout, cls)
        self.proj_size = _count(proj_size, "proj_size", cls)
        if self.proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if self.proj_size and self.proj_size >= self.hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if dropout > 0 and self.num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={self.num_layers}", UserWarning,
                          stacklevel=3)
        dtype = _float_dtype(dtype, cls)
        gate = _GATES[mode] * self.hidden_size
        real = self.proj_size or self.hidden_size  # the size of h
        dirs = 2 if self.bidirectional else 1
        # before the loop: 10**12 layers would take hours to fail (weight_hh alone, 2 bytes
        # an element at least, bounds what they need)
        check_affordable(cls, f"num_layers={self.num_layers}",
                         2 * self.num_layers * dirs * gate * real)
        for layer in range(self.num_layers):
            width = self.input_size if layer == 0 else real * dirs
            for sfx in ("", "_reverse")[:dirs]:
                name = f"l{layer}{sfx}"
                setattr(self, f"weight_ih_{name}", Parameter(np.empty((gate, width), dtype)))
                setattr(self, f"weight_hh_{name}", Parameter(np.empty((gate, real), dtype)))
                if self.bias:
                    setattr(self, f"bias_ih_{name}", Parameter(np.empty(gate, dtype)))
                    setattr(self, f"bias_hh_{name}", Parameter(np.empty(gate, dtype)))
                if self.proj_size:
                    setattr(self, f"weight_hr_{name}",
                            Parameter(np.empty((self.proj_size, self.hidden_size), dtype)))
        self.reset_parameters()

    def reset_parameters(self):
        _uniform_all(self, self.hidden_size)

    def flatten_parameters(self):
        """Nothing to do: PyTorch packs the weights into one buffer for cuDNN, and models call
        this in ``forward`` (or after ``DataParallel`` replicas), so it must exist here."""

    @property
    def all_weights(self):
        """The parameters of each layer and direction, in PyTorch's order: one list per
        ``l{k}`` then ``l{k}_reverse``, each [w_ih, w_hh, b_ih, b_hh, w_hr] without the
        absent ones (no bias, no projection)."""
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.bias else []) \
            + (["weight_hr"] if self.proj_size else [])
        sfxs = ("", "_reverse") if self.bidirectional else ("",)
        return [[getattr(self, f"{n}_l{layer}{sfx}") for n in names]
                for layer in range(self.num_layers) for sfx in sfxs]

    # -- forward --
    def _check_state(self, hx, name, size, batched, batch):
        cls = type(self).__name__
        _state_tensor(hx, name, cls, self.dtype)
        layers = self.num_layers * (2 if self.bidirectional else 1)
        want = (layers, batch, size) if batched else (layers, size)
        if hx.shape != want:
            raise ValueError(f"{cls}: Expected {name} size {want}, got {list(hx.shape)}")

    def _initial(self, hx, batched, batch):
        """(h0, c0) as (layers, N, size) tensors; zeros where not given."""
        cls, lstm = type(self).__name__, self.mode == "LSTM"
        layers = self.num_layers * (2 if self.bidirectional else 1)
        real = self.proj_size or self.hidden_size
        if hx is None:
            h0 = Tensor(np.zeros((layers, batch, real), self.dtype))
            c0 = Tensor(np.zeros((layers, batch, self.hidden_size), self.dtype)) if lstm else None
            return h0, c0
        if lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{cls}: hx must be a tuple (h_0, c_0) of Tensors, got "
                                f"{type(hx).__name__}")
            pairs = (("hx[0]", hx[0], real), ("hx[1]", hx[1], self.hidden_size))
        else:
            pairs = (("hx", hx, real),)
        for name, t, size in pairs:
            if isinstance(t, Tensor) and t.ndim != (3 if batched else 2):
                raise ValueError(f"{cls}: For {'batched 3' if batched else 'unbatched 2'}-D "
                                 f"input, {name} should also be {3 if batched else 2}-D but got "
                                 f"{t.ndim}-D tensor")
            self._check_state(t, name, size, batched, batch)
        states = [t if batched else t.unsqueeze(1) for _, t, _ in pairs]
        return states[0], (states[1] if lstm else None)

    def forward(self, input, hx=None):
        cls = type(self).__name__
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        self._check_input(input)
        if input.ndim not in (2, 3):
            raise ValueError(f"{cls}: Expected input to be 2D or 3D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{cls}: input.size(-1) must be equal to input_size. Expected "
                             f"{self.input_size}, got {input.shape[-1]}")
        batched = input.ndim == 3
        if not batched:
            x = input.unsqueeze(1)
        else:
            x = input.swapaxes(0, 1) if self.batch_first else input
        if x.shape[0] == 0:
            raise ValueError(f"{cls}: the input sequence is empty (length 0)")
        h0, c0 = self._initial(hx, batched, x.shape[1])
        with scope(cls.lower(), mode=self.mode, num_layers=self.num_layers,
                   bidirectional=self.bidirectional):
            out, hn, cn = self._layers(x, h0, c0)
        if not batched:
            out, hn = out.squeeze(1), hn.squeeze(1)
            cn = cn.squeeze(1) if cn is not None else None
        elif self.batch_first:
            out = out.swapaxes(0, 1)
        return out, ((hn, cn) if self.mode == "LSTM" else hn)

    def _forward_packed(self, input, hx):
        """A PackedSequence in, one out (the same batch sizes and order): each time step runs
        on the sequences still going, and h_n (c_n) holds each sequence's state after its own
        last step, in the batch's original order, as PyTorch."""
        cls = type(self).__name__
        data = input.data
        self._check_input(data)
        if data.ndim != 2 or data.shape[-1] != self.input_size:
            raise ValueError(f"{cls}: a packed input's data must be (sum of lengths, "
                             f"{self.input_size}), got {data.shape}")
        batch_sizes = np.asarray(input.batch_sizes.data, dtype=np.int64)
        h0, c0 = self._initial(hx, True, int(batch_sizes[0]))
        if input.sorted_indices is not None and hx is not None:  # the given states: sorted too
            order = input.sorted_indices.data
            h0 = h0[:, order]
            c0 = c0[:, order] if c0 is not None else None
        with scope(cls.lower(), mode=self.mode, num_layers=self.num_layers,
                   bidirectional=self.bidirectional, packed=True):
            out, hn, cn = self._layers(data, h0, c0, batch_sizes)
        if input.unsorted_indices is not None:
            back = input.unsorted_indices.data
            hn = hn[:, back]
            cn = cn[:, back] if cn is not None else None
        out = PackedSequence(out, input.batch_sizes, input.sorted_indices, input.unsorted_indices)
        return out, ((hn, cn) if self.mode == "LSTM" else hn)

    def _layers(self, x, h0, c0, batch_sizes=None):
        dirs = 2 if self.bidirectional else 1
        hs, cs = [], []
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                x = F.dropout(x, self.dropout, True)
            outs = []
            for d in range(dirs):
                i = layer * dirs + d
                o, h, c = self._direction(x, h0[i], c0[i] if c0 is not None else None,
                                          f"l{layer}{'_reverse' if d else ''}", bool(d),
                                          batch_sizes)
                outs.append(o)
                hs.append(h)
                cs.append(c)
            x = outs[0] if dirs == 1 else concatenate(outs, axis=-1)
        return x, _stack(hs), (_stack(cs) if c0 is not None else None)

    def _direction(self, x, h, c, name, reverse, batch_sizes=None):
        """One layer, one direction over x (L, N, in), or over a packed sequence's data
        (sum of lengths, in) with its ``batch_sizes``: (output, h_n, c_n)."""
        w_ih, w_hh = getattr(self, f"weight_ih_{name}"), getattr(self, f"weight_hh_{name}")
        b_ih = getattr(self, f"bias_ih_{name}") if self.bias else None
        b_hh = getattr(self, f"bias_hh_{name}") if self.bias else None
        gx = F.linear(x, w_ih, b_ih)  # every step's input projection in one matmul
        whT, H, mode = w_hh.T, self.hidden_size, self.mode
        if mode == "LSTM" and b_hh is not None:
            # b_hh joins every step's projection at once (one node, not one a step): the
            # gates are then (x W_ih^T + b_ih + b_hh) + h W_hh^T, equal up to rounding
            gx, b_hh = gx + b_hh, None
        whrT = getattr(self, f"weight_hr_{name}").T if self.proj_size else None

        def step(g, h, c):
            if mode == "LSTM":
                return _lstm_step(g, h, c, whT, b_hh, H, whrT)
            if mode == "GRU":
                return _gru_step(g, h, whT, b_hh, H), None
            return _rnn_step(g, h, whT, b_hh, mode == "RNN_RELU"), None

        if batch_sizes is not None:
            return _packed_direction(step, gx, h, c, batch_sizes, reverse)
        L = x.shape[0]
        if mode == "LSTM" and whrT is None and L:
            # the whole direction as one primitive (ops.LstmSequence): the same values as the
            # steps below, a fraction of their nodes
            y = apply(ops.LstmSequence, gx, h, c, w_hh, reverse=reverse)  # (L, N, 2H)
            last = y[0 if reverse else L - 1]
            return y[..., :H], last[..., :H], last[..., H:]
        steps, outs = _time_steps(gx), [None] * L
        for t in (range(L - 1, -1, -1) if reverse else range(L)):
            h, c = step(steps[t], h, c)
            outs[t] = h
        return _stack(outs), h, c

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


def _packed_direction(step, gx, h, c, batch_sizes, reverse):
    """A direction over packed data: step t runs on the first ``batch_sizes[t]`` sequences
    (sorted longest first). Forward, a sequence's state is set aside after its last step;
    backward (in time), a sequence joins with its initial state at its last step."""
    ends = np.concatenate([[0], np.cumsum(batch_sizes)])
    steps, T = _time_steps(gx, ends), len(batch_sizes)
    outs, done_h, done_c = [None] * T, [], []
    h0, c0 = h, c
    n = int(batch_sizes[-1]) if reverse else h.shape[0]
    if reverse:
        h, c = h0[:n], (c0[:n] if c0 is not None else None)
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        b = int(batch_sizes[t])
        if b < n:  # forward: sequences b..n-1 ended at the previous step
            done_h.append(h[b:])
            h = h[:b]
            if c is not None:
                done_c.append(c[b:])
                c = c[:b]
        elif b > n:  # backward in time: sequences n..b-1 start here
            h = concatenate([h, h0[n:b]])
            c = concatenate([c, c0[n:b]]) if c is not None else None
        n = b
        h, c = step(steps[t], h, c)
        outs[t] = h
    out = concatenate(outs) if T > 1 else outs[0]
    if done_h:  # the longest sequences' states first: the batch's (sorted) order
        h = concatenate([h] + done_h[::-1])
        c = concatenate([c] + done_c[::-1]) if c is not None else None
    return out, h, c


def _stack(ts):
    """``stack(ts)`` as one node (ops.Stack) where ``stack`` made one reshape per step."""
    return apply(ops.Stack, *ts, axis=0)


def _time_steps(gx, ends=None):
    """The steps of ``gx``: ``gx[t]`` of an (L, N, G) projection, or the rows
    ``ends[t]:ends[t + 1]`` of a packed one. Taken through chunks of about sqrt(L) steps: an
    index's gradient is a full-size array (zeros but for its slice), so L direct slices made the
    backward O(L^2) (an LSTM over 1,600 steps took 74x torch's backward); through chunks each
    step's gradient has a chunk's size and each chunk's the full size: O(L^1.5)."""
    packed = ends is not None
    L = len(ends) - 1 if packed else gx.shape[0]
    if not packed:
        ends = range(L + 1)

    def step(chunk, lo, t):
        return chunk[ends[t] - lo:ends[t + 1] - lo] if packed else chunk[t - lo]
    k = math.isqrt(L)
    if k < 8:  # short sequences: the chunks' own nodes would cost more than they save
        return [step(gx, 0, t) for t in range(L)]
    steps = []
    for start in range(0, L, k):
        stop = min(start + k, L)
        lo = ends[start]
        chunk = gx[lo:ends[stop]]
        steps.extend(step(chunk, lo, t) for t in range(start, stop))
    return steps


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu). Returns
    ``(output, h_n)``: output (L, N, D * hidden_size) (N first with ``batch_first``), h_n
    (D * num_layers, N, hidden_size); unbatched (L, input_size) input drops N everywhere."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None,
                 dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             f"'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory, gates i, f, g, o (PyTorch's order): c_t = f * c_{t-1} + i * g,
    h_t = o * tanh(c_t) (times W_hr^T with ``proj_size`` > 0). Returns ``(output, (h_n, c_n))``;
    ``hx`` is a tuple ``(h_0, c_0)``."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit, gates r, z, n (PyTorch's order and formula): n = tanh(W_in x + b_in
    + r * (W_hn h + b_hn)), h_t = (1 - z) * n + z * h_{t-1}. Returns ``(output, h_n)``."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, dtype=dtype)


# ---- the cells ------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """One step of a recurrent layer: ``weight_ih`` (gates * hidden, in), ``weight_hh`` (gates *
    hidden, hidden), ``bias_ih``, ``bias_hh``, all U(-1/sqrt(hidden), 1/sqrt(hidden))."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__()
        cls = type(self).__name__
        self.input_size = _count(input_size, "input_size", cls)
        self.hidden_size = _positive(hidden_size, "hidden_size", cls)
        self.bias = _flag(bias, "bias", cls)
        dtype = _float_dtype(dtype, cls)
        gate = num_chunks * self.hidden_size
        self.weight_ih = Parameter(np.empty((gate, self.input_size), dtype))
        self.weight_hh = Parameter(np.empty((gate, self.hidden_size), dtype))
        if self.bias:
            self.bias_ih = Parameter(np.empty(gate, dtype))
            self.bias_hh = Parameter(np.empty(gate, dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        _uniform_all(self, self.hidden_size)

    def _prepare(self, input, hx, names):
        """(gx (N, gates * H), states as (N, H) tensors, batched); hx a tuple for several."""
        cls = type(self).__name__
        self._check_input(input)
        if input.ndim not in (1, 2):
            raise ValueError(f"{cls}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{cls}: input has inconsistent input_size: got "
                             f"{input.shape[-1]} expected {self.input_size}")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        n = x.shape[0]
        if hx is None:
            states = [Tensor(np.zeros((n, self.hidden_size), self.dtype)) for _ in names]
        else:
            given = hx if len(names) > 1 else (hx,)
            if len(names) > 1 and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
                raise TypeError(f"{cls}: hx must be a tuple (h_0, c_0) of Tensors, got "
                                f"{type(hx).__name__}")
            states = []
            for name, t in zip(names, given):
                _state_tensor(t, name, cls, self.dtype)
                want = (n, self.hidden_size) if batched else (self.hidden_size,)
                if t.shape != want:
                    raise ValueError(f"{cls}: Expected {name} of shape {want} for an input of "
                                     f"shape {input.shape}, got {t.shape}")
                states.append(t if batched else t.unsqueeze(0))
        return F.linear(x, self.weight_ih, self.bias_ih), states, batched

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu); input (N, in) or (in,)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh",
                 device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        gx, (h,), batched = self._prepare(input, hx, ("hx",))
        h = _rnn_step(gx, h, self.weight_hh.T, self.bias_hh, self.nonlinearity == "relu")
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step, gates i, f, g, o; ``hx`` a tuple ``(h, c)``; returns ``(h', c')``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__(input_size, hidden_size, bias, 4, dtype=dtype)

    def forward(self, input, hx=None):
        gx, (h, c), batched = self._prepare(input, hx, ("hx[0]", "hx[1]"))
        h, c = _lstm_step(gx, h, c, self.weight_hh.T, self.bias_hh, self.hidden_size)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step, gates r, z, n (PyTorch's formula); returns h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__(input_size, hidden_size, bias, 3, dtype=dtype)

    def forward(self, input, hx=None):
        gx, (h,), batched = self._prepare(input, hx, ("hx",))
        h = _gru_step(gx, h, self.weight_hh.T, self.bias_hh, self.hidden_size)
        return h if batched else h.squeeze(0)
