"""The bilinear form ``y = x1^T W x2 + b``, as ``torch.nn.functional.bilinear``: one matrix
product and one multiply-sum, so its gradients (of every order) come from the tape."""
from __future__ import annotations

import math

from ..autograd import scope
from ..tensor import Tensor

__all__ = ["bilinear"]


def _tensor(t, name, fn):
    if not isinstance(t, Tensor):
        raise TypeError(f"{fn}(): {name} must be a Tensor, got {type(t).__name__}")
    if t.dtype.kind != "f":
        raise TypeError(f"{fn}(): {name} must be floating point, got dtype {t.dtype}")


def _check(input1, input2, weight, bias, fn):
    """PyTorch's checks, in its order and words (its RuntimeErrors as ValueErrors)."""
    for t, name in ((input1, "input1"), (input2, "input2"), (weight, "weight")):
        _tensor(t, name, fn)
    if bias is not None:
        _tensor(bias, "bias", fn)
    dtypes = [input1.dtype, input2.dtype, weight.dtype] + ([bias.dtype] if bias is not None else [])
    if len(set(dtypes)) > 1:
        shown = f"input1: {input1.dtype}, input2: {input2.dtype}, weight: {weight.dtype}"
        raise TypeError(f"{fn}(): All tensors must have the same dtype, got {shown}"
                        + (f", bias: {bias.dtype}" if bias is not None else ""))
    if weight.ndim != 3:
        raise ValueError(f"{fn}(): weight must be 3-D (out_features, in1_features, "
                         f"in2_features), got shape {weight.shape}")
    if input1.ndim != input2.ndim:
        raise ValueError(f"{fn}(): input dimensions do not match: got {input1.ndim} and "
                         f"{input2.ndim}")
    if input1.ndim == 0:
        raise ValueError(f"{fn}(): inputs must have at least one dimension (the features)")
    for d, (a, b) in enumerate(zip(input1.shape[:-1], input2.shape[:-1])):
        if a != b:
            raise ValueError(f"{fn}(): input batch dimensions do not match at dim {d}: got {a} "
                             f"and {b}")
    for i, t in ((1, input1), (2, input2)):
        if t.shape[-1] != weight.shape[i]:
            raise ValueError(f"{fn}(): input{i} size does not match weight size: got "
                             f"{t.shape[-1]} but expected {weight.shape[i]}")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != weight.shape[0]):
        raise ValueError(f"{fn}(): bias size does not match weight size: got "
                         f"{bias.shape[-1] if bias.ndim else bias.shape} but expected "
                         f"{weight.shape[0]}")


def bilinear(input1, input2, weight, bias=None):
    """``y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o]``.
    input1 (*, in1), input2 (*, in2) with the same leading dims, weight (out, in1, in2),
    bias (out,) or None; output (*, out)."""
    fn = "bilinear"
    _check(input1, input2, weight, bias, fn)
    out_f, in1, in2 = weight.shape
    lead = input1.shape[:-1]
    with scope(fn):
        b = math.prod(lead)  # explicit: a -1 cannot be inferred where in1 or in2 is 0
        x1 = input1.reshape(b, in1)
        x2 = input2.reshape(b, 1, in2)
        # x1 times every weight slice at once: (B, in1) @ (in1, out * in2) -> (B, out, in2);
        # then the product with x2 summed over in2
        w = weight.permute(1, 0, 2).reshape(in1, out_f * in2)
        out = ((x1 @ w).reshape(b, out_f, in2) * x2).sum(axis=-1)
        if bias is not None:
            out = out + bias
        return out.reshape(lead + (out_f,))
