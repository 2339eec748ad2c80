"""torch's top-level spellings of recurrent layers and two native nn kernels: ``torch.lstm``,
``torch.gru``, ``torch.rnn_tanh``, ``torch.rnn_relu`` and their ``*_cell`` steps (ATen's flat
weight lists, over ``nn``'s recurrent loop), ``torch.embedding_bag`` (its 4-tuple) and
``torch.conv_tbc``. Thin calls: ``nn`` and ``functional`` are imported at first use, so that
``import tinygrad_norm`` stays cheap."""
from __future__ import annotations

import importlib

__all__ = ["lstm", "gru", "rnn_tanh", "rnn_relu", "lstm_cell", "gru_cell", "rnn_tanh_cell",
           "rnn_relu_cell", "embedding_bag", "conv_tbc"]


def _rnn():
    return importlib.import_module("tinygrad_norm.nn.rnn_functions")


def _native():
    return importlib.import_module("tinygrad_norm.functional.native_spellings")


def lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
         batch_first=False):
    """(output, h_n, c_n); also torch's packed form (data, batch_sizes, hx, params, ...)."""
    return _rnn().lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
                       batch_first)


def gru(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
        batch_first=False):
    """(output, h_n); also torch's packed form (data, batch_sizes, hx, params, ...)."""
    return _rnn().gru(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
                      batch_first)


def rnn_tanh(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
             batch_first=False):
    """(output, h_n) of a tanh Elman RNN; also torch's packed form."""
    return _rnn().rnn_tanh(input, hx, params, has_biases, num_layers, dropout, train,
                           bidirectional, batch_first)


def rnn_relu(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
             batch_first=False):
    """(output, h_n) of a relu Elman RNN; also torch's packed form."""
    return _rnn().rnn_relu(input, hx, params, has_biases, num_layers, dropout, train,
                           bidirectional, batch_first)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _rnn().lstm_cell(input, hx, w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _rnn().gru_cell(input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _rnn().rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _rnn().rnn_relu_cell(input, hx, w_ih, w_hh, b_ih, b_hh)


def embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False,
                  per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """(output, offset2bag, bag_size, max_indices); ``mode`` 0 sum, 1 mean, 2 max."""
    return _native()._aten_embedding_bag(weight, indices, offsets, scale_grad_by_freq, mode,
                                         sparse, per_sample_weights, include_last_offset,
                                         padding_idx)


def conv_tbc(input, weight, bias, pad=0):
    return _native().conv_tbc(input, weight, bias, pad)
