"""Linear, Identity and Flatten, as ``torch.nn``."""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import devices as _devices
from .. import default_dtype as _dd
from .. import functional as F
from ..functional._checks import _flag
from ..tensor import Tensor
from . import init
from .module import Module, Parameter

__all__ = ["Linear", "Identity", "Flatten", "Unflatten", "Embedding"]


def _count(v, name, cls):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):  # a wrong type: TypeError
        raise TypeError(f"{cls}: {name} must be a non-negative int, got {v!r}")
    if v < 0:
        raise ValueError(f"{cls}: {name} must be a non-negative int, got {v!r}")
    return int(v)


def _float_dtype(dtype, cls):
    try:
        dtype = np.dtype(_dd.DEFAULT if dtype is None else dtype)  # None: torch's default
    except TypeError:  # NumPy's "data type 'foo' not understood" names no argument
        raise TypeError(f"{cls}: dtype must be a floating-point type, got {dtype!r}") from None
    if dtype.kind != "f":
        raise TypeError(f"{cls}: dtype must be a floating-point type, got {dtype}")
    return dtype


class Linear(Module):
    """y = x @ weight.T + bias, weight of shape (out_features, in_features).

    PyTorch's initialization: weight by ``kaiming_uniform_(a=sqrt(5))`` and bias likewise, both
    U(-1/sqrt(in_features), 1/sqrt(in_features)), drawn from the framework's seeded generator."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__()
        self.in_features = _count(in_features, "in_features", "Linear")
        self.out_features = _count(out_features, "out_features", "Linear")
        bias = _flag(bias, "bias", "Linear")
        dtype = _float_dtype(dtype, "Linear")
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        self._check_input(input)
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Returns its input; takes (and ignores) any arguments, as PyTorch's."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    """Flattens dims ``start_dim`` .. ``end_dim`` into one (default: all but the batch dim)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        if not isinstance(input, Tensor):  # ndarray.flatten would fail with a puzzling message
            raise TypeError(f"Flatten: input must be a Tensor, got {type(input).__name__}")
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits dim ``dim`` into ``unflattened_size`` (a tuple or list of ints, one of them may be
    -1), the inverse of ``Flatten``, as ``torch.nn.Unflatten`` (whose type checks it makes)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
            raise TypeError(f"Unflatten: invalid argument type for dim parameter: expected an "
                            f"int, got {type(dim).__name__}")
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, but found "
                            f"type {type(unflattened_size).__name__}")
        for i, s in enumerate(unflattened_size):
            if isinstance(s, bool) or not isinstance(s, numbers.Integral):
                raise TypeError(f"Unflatten: unflattened_size must be tuple of ints, but found "
                                f"element of type {type(s).__name__} at pos {i}")
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input):
        if not isinstance(input, Tensor):
            raise TypeError(f"Unflatten: input must be a Tensor, got {type(input).__name__}")
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


def _lookup_norm(max_norm, norm_type, owner):
    """``max_norm`` (None or positive) and ``norm_type`` (positive), checked at construction."""
    from ..functional.encoding import _positive

    if max_norm is not None:
        max_norm = _positive(max_norm, "max_norm", owner)
    return max_norm, _positive(norm_type, "norm_type", owner)


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of ``embedding_dim``, as ``torch.nn.Embedding``:
    the weight drawn from N(0, 1) (the framework generator), the ``padding_idx`` row zeros and
    never updated by a gradient. ``_weight`` (torch's, behind ``from_pretrained``) is used as
    the weight as it is, sharing its array and dtype, without drawing or zeroing anything;
    ``_freeze`` then makes it require no gradient."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__()
        self.scale_grad_by_freq = _flag(scale_grad_by_freq, "scale_grad_by_freq", "Embedding")
        self.sparse = _flag(sparse, "sparse", "Embedding")
        self.max_norm, self.norm_type = _lookup_norm(max_norm, norm_type, "Embedding")
        self.num_embeddings = _count(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = _count(embedding_dim, "embedding_dim", "Embedding")
        from ..functional.encoding import _padding_idx

        self.padding_idx = _padding_idx(padding_idx, self.num_embeddings, "Embedding")
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            self.weight = Parameter(np.empty(shape, _float_dtype(dtype, "Embedding")))
            self.reset_parameters()
            return
        cls = type(self).__name__
        if not isinstance(_weight, (Tensor, np.ndarray, list, tuple)):  # np.asarray("a"): shape ()
            raise TypeError(f"{cls}: _weight must be a Tensor or None, got "
                            f"{type(_weight).__name__}")
        w = _weight.data if isinstance(_weight, Tensor) else np.asarray(_weight)
        if w.shape != shape:
            raise ValueError(f"{cls}: Shape of weight {w.shape} does not match "
                             f"num_embeddings and embedding_dim {shape}")
        self.weight = Parameter(w, requires_grad=not _freeze)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is ``embeddings`` (a 2-D floating-point Tensor or array,
        its array shared, as torch's Parameter shares the storage), frozen unless ``freeze`` is
        False; the ``padding_idx`` row is kept as given, as torch."""
        w = embeddings.data if isinstance(embeddings, Tensor) else embeddings
        if not isinstance(w, np.ndarray):
            raise TypeError(f"Embedding.from_pretrained: embeddings must be a Tensor or an "
                            f"ndarray, got {type(embeddings).__name__}")
        if w.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: Embeddings parameter is expected to be "
                             f"2-dimensional, got shape {w.shape}")
        return cls(*w.shape, padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse, _weight=w,
                   _freeze=_flag(freeze, "freeze", "Embedding.from_pretrained"))

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0.0

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}" + _lookup_repr(self)


def _lookup_repr(m):
    """The options of an Embedding or EmbeddingBag that differ from their defaults, in torch's
    order and words."""
    parts = [f"max_norm={m.max_norm}" if m.max_norm is not None else "",
             f"norm_type={m.norm_type}" if m.norm_type != 2 else "",
             "scale_grad_by_freq=True" if m.scale_grad_by_freq else "",
             "sparse=True" if m.sparse else "",
             f"mode='{m.mode}'" if hasattr(m, "mode") else "",
             f"padding_idx={m.padding_idx}" if m.padding_idx is not None else ""]
    if not hasattr(m, "mode"):  # Embedding writes padding_idx first
        parts = parts[-1:] + parts[:-1]
    return "".join(f", {p}" for p in parts if p)

