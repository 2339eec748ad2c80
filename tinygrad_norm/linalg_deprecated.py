"""torch's deprecated top-level norms and removed solvers: ``nuclear_norm`` and
``frobenius_norm`` (still working in torch, with a deprecation warning: here
``linalg.matrix_norm(A, 'nuc')`` and ``linalg.vector_norm(A, 2, dim)``), and ``matrix_rank`` /
``lstsq``, which torch 2.13 keeps only to raise its removal message; so do these."""
from __future__ import annotations

import warnings

from . import linalg as _la
from ._shape_checks import int_tuple
from .tensor import Tensor

__all__ = ["nuclear_norm", "frobenius_norm", "matrix_rank", "lstsq"]


def _input(x, fn):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(x).__name__}")
    return x


def _deprecated(name, instead):
    warnings.warn(f"{name} is deprecated and it is just left for JIT compatibility. It will be "
                  f"removed in a future PyTorch release. Please use `{instead}` instead",
                  UserWarning, stacklevel=3)


def nuclear_norm(input, dim=None, keepdim=False):
    """The sum of singular values over the matrices of dims ``dim`` (the last two when None),
    as the deprecated ``torch.nuclear_norm``; ``nuclear_norm(input, True)`` is torch's
    ``keepdim`` overload."""
    _input(input, "nuclear_norm")
    if isinstance(dim, bool):  # torch's nuclear_norm(input, keepdim) overload
        dim, keepdim = None, dim
    _deprecated("nuclear_norm", "linalg.matrix_norm(A, 'nuc', dim, keepdim)")
    dim = (-2, -1) if dim is None else int_tuple(dim, "nuclear_norm", "dim", one_int=False)
    return _la.matrix_norm(input, "nuc", dim, keepdim)


def frobenius_norm(input, dim, keepdim=False):
    """The 2-norm over one or two dims ``dim``, as the deprecated ``torch.frobenius_norm``."""
    _input(input, "frobenius_norm")
    dims = int_tuple(dim, "frobenius_norm", "dim")
    if len(dims) > 2:
        raise ValueError(f"Expected at most 2 dimensions, but got {len(dims)} dimensions "
                         f"instead.")
    _deprecated("frobenius_norm", "linalg.vector_norm(A, 2., dim, keepdim)")
    return _la.vector_norm(input, 2, dims, keepdim)


def matrix_rank(input, tol=None, symmetric=False, *, out=None):
    """Removed in torch 1.9: raises torch's message (use ``linalg.matrix_rank``)."""
    raise RuntimeError("This function was deprecated since version 1.9 and is now removed.\n"
                       "Please use the `tg.linalg.matrix_rank` function instead. The parameter "
                       "'symmetric' was renamed in `tg.linalg.matrix_rank()` to 'hermitian'.")


def lstsq(input, A, *, out=None):
    """Removed in torch 1.9: raises torch's message (use ``linalg.lstsq``, whose arguments are
    the other way round)."""
    raise RuntimeError("This function was deprecated since version 1.9 and is now removed. "
                       "`torch.lstsq` is deprecated in favor of `tg.linalg.lstsq`.\n"
                       "`tg.linalg.lstsq` has reversed arguments and does not return the QR "
                       "decomposition in the returned tuple (although it returns other "
                       "information about the problem).\n\nThe unpacking of the solution, as "
                       "in\nX, _ = torch.lstsq(B, A).solution[:A.size(1)]\nshould be replaced "
                       "with:\nX = tg.linalg.lstsq(A, B).solution")
