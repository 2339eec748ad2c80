"""Folding an eval-mode batch norm into the convolution or linear layer before it, as
``torch.nn.utils.fuse_conv_bn_eval`` / ``fuse_linear_bn_eval`` and their ``*_weights`` helpers:
``y = bn(conv(x))`` becomes one layer with ``W' = W * s`` and ``b' = (b - mean) * s + beta``,
``s = gamma / sqrt(var + eps)``. The new weights are computed off the tape (fresh leaf
Parameters, keeping each old one's ``requires_grad``), in the layer's dtype, as PyTorch's."""
from __future__ import annotations

import copy

import numpy as np

from ..tensor import Tensor
from .module import Parameter

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
           "fuse_linear_bn_weights"]


def _array(t, like=None, fill=0.0):
    """A Tensor's (or array's) values; ``fill`` shaped as ``like`` where ``t`` is None."""
    if t is None:
        return np.full_like(like, fill)
    return t.data if isinstance(t, Tensor) else np.asarray(t)


def _scale(bn_rv, bn_eps, bn_w):
    rv = _array(bn_rv)
    return _array(bn_w, rv, 1.0) / np.sqrt(rv + bn_eps)


def _fused(weight, bias, w_req, b_req):
    return Parameter(weight, requires_grad=w_req), Parameter(bias, requires_grad=b_req)


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """``(weight, bias)`` Parameters of the convolution that computes ``bn(conv(x))``; the
    scale runs along the output channels: dim 0 of a convolution's weight, dim 1 of a
    transposed one's (``transpose=True``). A missing conv bias, bn weight or bn bias counts as
    0, 1, 0."""
    w = _array(conv_w)
    rm = _array(bn_rm)
    b = _array(conv_b, rm)
    scale = _scale(bn_rv, bn_eps, bn_w)
    shape = ((1, -1) if transpose else (-1, 1)) + (1,) * (w.ndim - 2)
    weight = (w * scale.reshape(shape)).astype(w.dtype)
    bias = ((b - rm) * scale + _array(bn_b, rm)).astype(b.dtype if conv_b is not None
                                                        else w.dtype)
    return _fused(weight, bias, _requires_grad(conv_w), _requires_grad(conv_b))


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """``(weight, bias)`` Parameters of the linear layer that computes ``bn(linear(x))``: the
    weight's rows scaled (a batch norm of one feature scales them all)."""
    w = _array(linear_w)
    rm = _array(bn_rm)
    b = _array(linear_b, rm)
    scale = _scale(bn_rv, bn_eps, bn_w)
    weight = (w * scale[:, None].astype(w.dtype)).astype(w.dtype)
    bias = ((b - rm) * scale + _array(bn_b, rm)).astype(b.dtype if linear_b is not None
                                                        else w.dtype)
    return _fused(weight, bias, _requires_grad(linear_w), _requires_grad(linear_b))


def _requires_grad(t):
    # a missing bias is PyTorch's zeros_like of the running mean, a buffer: its Parameter does
    # not require grad
    return bool(t.requires_grad) if isinstance(t, Tensor) else False


def _check_eval(layer, bn, fn):
    if layer.training or bn.training:
        raise ValueError(f"{fn}: Fusion only for eval! (call .eval() on both modules)")
    if getattr(bn, "running_mean", None) is None or getattr(bn, "running_var", None) is None:
        raise ValueError(f"{fn}: the batch norm has no running statistics "
                         f"(track_running_stats=False): there is nothing to fuse")


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of ``conv`` (in eval mode, as ``bn``) whose output is ``bn(conv(x))``, as
    PyTorch's; ``transpose=True`` for a transposed convolution."""
    _check_eval(conv, bn, "fuse_conv_bn_eval")
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias,
        transpose)
    return fused


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` (in eval mode, as ``bn``) whose output is ``bn(linear(x))``, as
    PyTorch's; ``bn`` normalizes ``linear``'s outputs (or has one feature)."""
    _check_eval(linear, bn, "fuse_linear_bn_eval")
    if not (linear.out_features == bn.num_features or bn.num_features == 1):
        raise ValueError("To fuse, linear.out_features == bn.num_features or "
                         "bn.num_features == 1")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)
    return fused
