"""torch's Tensor methods for functions this package had only at the top level (``x.prelu(w)``,
``x.qr()``, ``x.select_scatter(...)``, ...), torch's split spellings (``split_with_sizes`` and
the ``unsafe_`` forms, which here are the safe ones: every piece is its own view on the tape),
``ger`` (torch's old name of ``outer``), and the conjugate transposes ``adjoint``, ``H`` and
``mH``, which for real tensors are transposes. Each method is the function with the tensor as
its first argument."""
from __future__ import annotations

import numbers
import warnings

from . import _argname
from .histograms import histogram
from .linalg_spellings import cholesky_inverse, cholesky_solve, lu, lu_solve, qr
from .scatter_views import diagonal_scatter, select_scatter, slice_scatter
from .tensor import Tensor
from .tensor_ops import outer
from .torch_functional_aliases import hardshrink, prelu

__all__ = ["split_with_sizes", "unsafe_chunk", "unsafe_split", "unsafe_split_with_sizes",
           "ger", "adjoint"]


def _input(x, fn):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(x).__name__}")
    return x


def split_with_sizes(input, split_sizes, dim=0):
    """Pieces of ``input`` along ``dim`` of lengths ``split_sizes`` (which must add up to its
    length there), as ``torch.split_with_sizes``: views on the tape."""
    fn = "split_with_sizes"
    _input(input, fn)
    if not isinstance(split_sizes, (list, tuple)) or not all(
            isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in split_sizes):
        raise TypeError(f"{fn}(): argument 'split_sizes' (position 1) must be tuple of ints, "
                        f"not {type(split_sizes).__name__}")
    sizes = [int(n) for n in split_sizes]
    # a bad dim is left to split, whose message names it
    if isinstance(dim, numbers.Integral) and -input.ndim <= dim < input.ndim:
        d = int(dim) % input.ndim
        length = input.shape[d]
        if any(n < 0 for n in sizes):
            raise ValueError(f"{fn} expects split_sizes have only non-negative entries, but "
                             f"got split_sizes={sizes}")
        if sum(sizes) != length:
            raise ValueError(f"{fn} expects split_sizes to sum exactly to {length} (input "
                             f"tensor's size at dimension {d}), but got split_sizes={sizes}")
    return input.split(sizes, dim)


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    """``split_with_sizes``: torch's unsafe form shares one autograd record among the pieces
    (writing into one breaks the others' gradients); here each piece is a safe view."""
    return split_with_sizes(input, split_sizes, dim)


def unsafe_split(input, split_size, dim=0):
    """``split(input, split_size, dim)`` (see ``unsafe_split_with_sizes``)."""
    return _input(input, "unsafe_split").split(split_size, dim)


def unsafe_chunk(input, chunks, dim=0):
    """``chunk(input, chunks, dim)`` (see ``unsafe_split_with_sizes``)."""
    try:
        return _input(input, "unsafe_chunk").chunk(chunks, dim)
    except (TypeError, ValueError, IndexError) as e:
        raise _argname.retitle(e)  # chunk's checks say "chunk(): ..."


def ger(input, vec2):
    """``outer(input, vec2)``, under torch's old name."""
    return outer(_input(input, "ger"), vec2)


def _batched_transpose(x, what):
    if x.ndim < 2:
        raise ValueError(f"{what} is only supported on matrices or batches of matrices. Got "
                         f"{x.ndim}-D tensor.")
    return x.swapaxes(-2, -1)


def adjoint(input):
    """The conjugate transpose of the last two dims; for real tensors their transpose (a view),
    as ``torch.adjoint``."""
    return _batched_transpose(_input(input, "adjoint"), "tensor.adjoint()")


def _H(self):
    """The conjugate transpose of a matrix (a real one's transpose), as ``Tensor.H``; a 0-d
    tensor is itself (deprecated in torch, with its warning)."""
    if self.ndim == 0:
        warnings.warn("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().",
                      UserWarning, stacklevel=2)
        return self
    if self.ndim != 2:
        hint = ". For batches of matrices, consider using tensor.mH" if self.ndim > 2 else ""
        raise ValueError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                         f"{self.ndim}-D tensor{hint}")
    return self.swapaxes(0, 1)


_METHODS = {"hardshrink": hardshrink, "prelu": prelu,
            "cholesky_inverse": cholesky_inverse, "cholesky_solve": cholesky_solve,
            "qr": qr, "lu": lu, "lu_solve": lu_solve, "histogram": histogram,
            "diagonal_scatter": diagonal_scatter, "select_scatter": select_scatter,
            "slice_scatter": slice_scatter, "split_with_sizes": split_with_sizes,
            "unsafe_split": unsafe_split, "unsafe_chunk": unsafe_chunk,
            "unsafe_split_with_sizes": unsafe_split_with_sizes, "ger": ger, "adjoint": adjoint}
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)
Tensor.H = property(_H)
Tensor.mH = property(lambda self: _batched_transpose(self, "tensor.mH"))
del _name, _fn
