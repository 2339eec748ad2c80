"""Variable-length sequences, as ``torch.nn.utils.rnn`` (reached as ``nn.utils.rnn``): padded
into one batch and back (``pad_sequence``, ``unpad_sequence``), or packed
(``pack_padded_sequence``, ``pack_sequence``, ``pad_packed_sequence``, ``unpack_sequence``) for
the recurrent layers, which then run each time step on the sequences still going. Composites of
``pad``, ``stack``, slices and gathers, so the gradient reaches every sequence through the tape
(the padded places get none)."""
from __future__ import annotations

import numbers
from collections import namedtuple

import numpy as np

from ..functional._checks import _flag  # PyTorch's binding refuses ints too
from ..tensor import Tensor, concatenate, stack

__all__ = ["pad_sequence", "unpad_sequence", "PackedSequence", "pack_padded_sequence",
           "pad_packed_sequence", "pack_sequence", "unpack_sequence"]


def _sequences(sequences):
    if isinstance(sequences, Tensor):  # PyTorch iterates a tensor over its first axis
        return [sequences[i] for i in range(sequences.shape[0])] if sequences.ndim else None
    if not hasattr(sequences, "__iter__") or isinstance(sequences, (str, bytes)):
        return None
    return list(sequences)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Sequences of shapes (L_i, *) as one tensor (T, B, *) (``batch_first``: (B, T, *)), T the
    longest L_i, each padded with ``padding_value`` after its end (``padding_side='left'``:
    before its start). All must share the trailing shape ``*`` and the dtype."""
    seqs = _sequences(sequences)
    if seqs is None:
        raise TypeError(f"pad_sequence: Expected iterable for input sequences, but got arg of "
                        f"type: {type(sequences)}")
    batch_first = _flag(batch_first, "batch_first", "pad_sequence")
    if isinstance(padding_value, (bool, np.bool_)) or not isinstance(padding_value,
                                                                       numbers.Real):
        raise TypeError(f"pad_sequence(): argument 'padding_value' must be float, not "
                        f"{type(padding_value).__name__}")
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    if not seqs:
        raise ValueError("received an empty list of sequences")
    for i, s in enumerate(seqs):
        if not isinstance(s, Tensor):
            raise TypeError(f"pad_sequence: sequences[{i}] must be a Tensor, got "
                            f"{type(s).__name__}")
        if s.ndim == 0:
            raise ValueError(f"pad_sequence: sequences[{i}] is 0-d; every sequence needs a "
                             f"length axis (L, *)")
        if s.shape[1:] != seqs[0].shape[1:]:
            raise ValueError(f"pad_sequence: every sequence must have the trailing shape "
                             f"{seqs[0].shape[1:]} of sequences[0], but sequences[{i}] has "
                             f"shape {s.shape}")
        if s.dtype != seqs[0].dtype:
            raise TypeError(f"pad_sequence: every sequence must have the dtype "
                            f"{seqs[0].dtype} of sequences[0], but sequences[{i}] is {s.dtype}")
    longest = max(s.shape[0] for s in seqs)
    value = float(padding_value) if seqs[0].dtype.kind == "f" else padding_value  # Python scalar
    padded = []
    for s in seqs:
        extra = longest - s.shape[0]
        before, after = (0, extra) if padding_side == "right" else (extra, 0)
        width = ((before, after),) + ((0, 0),) * (s.ndim - 1)
        padded.append(s.pad(width, value) if extra else s)
    return stack(padded, axis=0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The inverse of ``pad_sequence`` (right padding): a list of B tensors, the b-th of shape
    (lengths[b], *), slices of ``padded_sequences`` (T, B, *) (``batch_first``: (B, T, *)).
    *vs PyTorch:* the input is not transposed in place, and ``lengths`` may be a list."""
    if not isinstance(padded_sequences, Tensor):
        raise TypeError(f"unpad_sequence: padded_sequences must be a Tensor, got "
                        f"{type(padded_sequences).__name__}")
    batch_first = _flag(batch_first, "batch_first", "unpad_sequence")
    if padded_sequences.ndim < 2:
        raise ValueError(f"unpad_sequence: padded_sequences must have at least 2 dimensions "
                         f"(T, B, *), got shape {padded_sequences.shape}")
    raw = _int_lengths(lengths, "unpad_sequence")
    batch = padded_sequences.shape[0 if batch_first else 1]
    if len(raw) != batch:  # PyTorch: zip(strict=True)'s ValueError
        raise ValueError(f"unpad_sequence: lengths has {len(raw)} entries for a batch of "
                         f"{batch}")
    out = []
    for b, n in enumerate(raw.tolist()):
        n = max(int(n), 0)  # PyTorch's mask arange(T) < n: a negative length keeps nothing
        out.append(padded_sequences[b, :n] if batch_first else padded_sequences[:n, b])
    return out


# ---- packed sequences ------------------------------------------------------------------------

class PackedSequence(namedtuple("PackedSequence",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """A batch of sequences stored time step by time step, as PyTorch's: ``data`` (sum of the
    lengths, *) holds step 0 of every sequence, then step 1 of those at least 2 long, and so on,
    longest first; ``batch_sizes`` (int64, one per step) says how many sequences each step has;
    ``sorted_indices`` is the order of the batch by decreasing length (None if it was already
    sorted) and ``unsorted_indices`` its inverse. Made by ``pack_padded_sequence`` or
    ``pack_sequence``; the recurrent layers take and return it."""
    __slots__ = ()

    def __new__(cls, data, batch_sizes, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            inverse = np.empty_like(sorted_indices.data)
            inverse[sorted_indices.data] = np.arange(len(inverse))
            unsorted_indices = Tensor(inverse)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, dtype):
        """The same sequence with its data in ``dtype`` (the indices stay int64)."""
        return type(self)(self.data.to(dtype), self.batch_sizes, self.sorted_indices,
                          self.unsorted_indices)

    def double(self):
        return self.to(np.float64)

    def float(self):
        return self.to(np.float32)

    def half(self):
        return self.to(np.float16)

    def cpu(self):
        return self

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def _int_lengths(lengths, fn):
    """Sequence lengths (a list or a 1-D Tensor or array) as an int64 array; whole floats are
    taken, as PyTorch converts them."""
    raw = lengths.data if isinstance(lengths, Tensor) else np.asarray(lengths)
    if raw.ndim == 1 and raw.dtype.kind == "f" and np.all(raw == np.round(raw)):
        raw = raw.astype(np.int64)
    if raw.ndim != 1 or raw.dtype.kind not in "iu":
        raise TypeError(f"{fn}: lengths must be a 1-D list or Tensor of ints, got {lengths!r}")
    return raw


def _lengths(lengths, batch, steps, fn):
    if batch == 0:
        raise ValueError("Cannot pack empty tensors.")
    raw = _int_lengths(lengths, fn)
    if len(raw) != batch:
        raise ValueError(f"{fn}: Expected `len(lengths)` to be equal to batch_size, but got "
                         f"{len(raw)} (batch_size={batch})")
    if (raw <= 0).any():
        raise ValueError("Length of all samples has to be greater than 0, but found an element "
                         "in 'lengths' that is <= 0")
    if raw.max() > steps:
        raise ValueError(f"{fn}: a length ({int(raw.max())}) exceeds the {steps} time steps of "
                         f"the input")
    return raw.astype(np.int64)


def _packed_places(lengths):
    """(batch_sizes, time index, sorted-batch index) of every element of ``data`` in packed
    order, for lengths sorted in decreasing order."""
    steps = int(lengths[0])
    batch_sizes = (lengths[None, :] > np.arange(steps)[:, None]).sum(axis=1)
    t = np.repeat(np.arange(steps), batch_sizes)
    b = np.concatenate([np.arange(n) for n in batch_sizes])
    return batch_sizes.astype(np.int64), t, b


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (``batch_first``: (B, T, *)) whose b-th sequence is
    ``lengths[b]`` steps long. With ``enforce_sorted`` the lengths must be in decreasing order;
    otherwise the batch is sorted by decreasing length first (ties keep their order), and the
    order is kept in the result. One gather: the gradient goes back to the unpadded places."""
    fn = "pack_padded_sequence"
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}: input must be a Tensor, got {type(input).__name__}")
    batch_first = _flag(batch_first, "batch_first", fn)
    enforce_sorted = _flag(enforce_sorted, "enforce_sorted", fn)
    if input.ndim < 2:
        raise ValueError(f"{fn}: input must have at least 2 dimensions (T, B, *), got shape "
                         f"{input.shape}")
    batch, steps = (input.shape[0], input.shape[1]) if batch_first else input.shape[:2][::-1]
    raw = _lengths(lengths, batch, steps, fn)
    if enforce_sorted:
        if (np.diff(raw) > 0).any():
            raise ValueError("`lengths` array must be sorted in decreasing order when "
                             "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                             "pack_padded_sequence and/or pack_sequence to sidestep this "
                             "requirement if you do not need ONNX exportability.")
        order = None
    else:
        order = np.argsort(-raw, kind="stable")
        raw = raw[order]
    batch_sizes, t, b = _packed_places(raw)
    src = order[b] if order is not None else b  # the original batch index of each element
    data = input[src, t] if batch_first else input[t, src]
    return PackedSequence(data, Tensor(batch_sizes),
                          None if order is None else Tensor(order.astype(np.int64)))


def _packed_arrays(sequence, fn):
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{fn}: sequence must be a PackedSequence, got "
                        f"{type(sequence).__name__}")
    batch_sizes = np.asarray(sequence.batch_sizes.data, dtype=np.int64)
    order = None if sequence.sorted_indices is None else sequence.sorted_indices.data
    return batch_sizes, order


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of ``pack_padded_sequence``: ``(padded, lengths)``, the padded batch
    (T, B, *) (``batch_first``: (B, T, *)) in the original order, filled with
    ``padding_value`` past each end (T = ``total_length`` if given), and the int64 lengths."""
    fn = "pad_packed_sequence"
    batch_sizes, order = _packed_arrays(sequence, fn)
    batch_first = _flag(batch_first, "batch_first", fn)
    steps, batch = len(batch_sizes), int(batch_sizes[0])
    if total_length is not None:
        if isinstance(total_length, bool) or not isinstance(total_length, numbers.Integral):
            raise TypeError(f"{fn}: total_length must be an int or None, got "
                            f"{type(total_length).__name__}")
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
        steps_out = int(total_length)
    else:
        steps_out = steps
    lengths = (batch_sizes[:, None] > np.arange(batch)[None, :]).sum(axis=0)  # sorted order
    _, t, b = _packed_places(lengths)
    data = sequence.data
    # every padded place reads a row of data, or the one padding row appended after it
    where = np.full((steps_out, batch), data.shape[0], dtype=np.int64)
    where[t, b] = np.arange(data.shape[0])
    if order is not None:
        back = sequence.unsorted_indices.data
        where, lengths = where[:, back], lengths[back]
    fill = np.full((1,) + data.shape[1:], padding_value, dtype=data.dtype)
    padded = concatenate([data, Tensor(fill)], axis=0)[where.T if batch_first else where]
    return padded, Tensor(lengths.astype(np.int64))


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of sequences (L_i, *) (with ``enforce_sorted``, longest first)."""
    seqs = _sequences(sequences)
    if not seqs:
        raise ValueError("pack_sequence: received an empty list of sequences")
    lengths = [s.shape[0] if isinstance(s, Tensor) and s.ndim else 0 for s in seqs]
    return pack_padded_sequence(pad_sequence(seqs), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences a PackedSequence holds, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
