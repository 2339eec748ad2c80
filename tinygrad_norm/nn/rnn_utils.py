"""Padding variable-length sequences into one batch and back, as ``torch.nn.utils.rnn``
(reached as ``nn.utils.rnn``): composites of ``pad``, ``stack`` and slices, so the gradient
reaches every sequence through the tape (the padded places get none). No packed sequences."""
from __future__ import annotations

import numbers

import numpy as np

from ..tensor import Tensor, stack

__all__ = ["pad_sequence", "unpad_sequence"]


def _flag(v, name, fn):
    if not isinstance(v, (bool, np.bool_)):  # PyTorch's binding refuses ints too
        raise TypeError(f"{fn}(): argument '{name}' must be bool, not {type(v).__name__}")
    return bool(v)


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
    raw = lengths.data if isinstance(lengths, Tensor) else np.asarray(lengths)
    if raw.ndim != 1 or raw.dtype.kind not in "iu":
        raise TypeError(f"unpad_sequence: lengths must be a 1-D sequence of ints, got {lengths!r}")
    batch = padded_sequences.shape[0 if batch_first else 1]
    if len(raw) != batch:  # PyTorch: zip(strict=True)'s ValueError
        raise ValueError(f"unpad_sequence: lengths has {len(raw)} entries for a batch of "
                         f"{batch}")
    out = []
    for b, n in enumerate(raw.tolist()):
        n = max(int(n), 0)  # PyTorch's mask arange(T) < n: a negative length keeps nothing
        out.append(padded_sequences[b, :n] if batch_first else padded_sequences[:n, b])
    return out
