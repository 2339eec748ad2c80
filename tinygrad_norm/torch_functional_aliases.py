"""torch's top-level spellings of ``torch.nn.functional``'s operations (``torch.conv2d``,
``torch.dropout``, ``torch.layer_norm``, ``torch.kl_div``...), as thin calls of ``functional``:
same values and gradients, torch's top-level argument lists.

Those lists are ATen's, not ``F``'s, and differ in places ported code depends on: positional
arguments that ``F`` makes optional are required (``dropout(input, p, train)``), some orders
differ (``embedding(weight, indices)``, ``batch_norm(input, weight, bias, running_mean,
running_var, ...)``), losses take ``reduction`` as ATen's int (0 none, 1 mean, 2 sum; the
strings are accepted too) and, left out, default to 0 (none), as torch's Python binding
applies though its stubs say 1, ``padding_idx=-1`` means none, a pooling ``stride=()`` means the
kernel size, and the ``*_with_indices`` / ``adaptive_max_pool1d`` forms return (values,
indices). ``cudnn_enabled`` flags are accepted and ignored.
"""
from __future__ import annotations

import importlib
import numbers

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "avg_pool1d", "max_pool1d", "max_pool2d", "max_pool3d",
           "max_pool1d_with_indices", "adaptive_avg_pool1d", "adaptive_max_pool1d",
           "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle",
           "cosine_similarity", "pairwise_distance", "pdist", "dist", "celu", "selu", "prelu",
           "hardshrink", "threshold", "rrelu", "bilinear", "embedding", "dropout",
           "alpha_dropout", "feature_alpha_dropout", "layer_norm", "group_norm", "rms_norm",
           "batch_norm", "instance_norm", "constant_pad_nd", "binary_cross_entropy_with_logits",
           "cosine_embedding_loss", "hinge_embedding_loss", "margin_ranking_loss",
           "triplet_margin_loss", "kl_div", "poisson_nll_loss", "ctc_loss"]


class _Functional:
    """``functional``, imported at the first call: importing the package must not load it
    (tests/test_linalg.py holds the import cost down)."""

    def __getattr__(self, name):
        return getattr(importlib.import_module("tinygrad_norm.functional"), name)


F = _Functional()


# F's functions whose top-level argument lists are the same
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return F.conv1d(input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return F.conv2d(input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return F.conv3d(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return F.conv_transpose1d(input, weight, bias, stride, padding, output_padding, groups,
                              dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return F.conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups,
                              dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return F.conv_transpose3d(input, weight, bias, stride, padding, output_padding, groups,
                              dilation)


def adaptive_avg_pool1d(input, output_size):
    return F.adaptive_avg_pool1d(input, output_size)


def pixel_shuffle(input, upscale_factor):
    return F.pixel_shuffle(input, upscale_factor)


def pixel_unshuffle(input, downscale_factor):
    return F.pixel_unshuffle(input, downscale_factor)


def channel_shuffle(input, groups):
    return F.channel_shuffle(input, groups)


native_channel_shuffle = channel_shuffle


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    return F.cosine_similarity(x1, x2, dim, eps)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    return F.pairwise_distance(x1, x2, p, eps, keepdim)


def pdist(input, p=2):
    return F.pdist(input, p)


def prelu(input, weight):
    return F.prelu(input, weight)


def hardshrink(input, lambd=0.5):
    return F.hardshrink(input, lambd)


def bilinear(input1, input2, weight, bias=None):
    return F.bilinear(input1, input2, weight, bias)


_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(reduction, fn):
    """ATen's reduction enum (0, 1, 2) as F's name; F's names pass through."""
    if isinstance(reduction, str):
        return reduction
    if isinstance(reduction, bool) or not isinstance(reduction, numbers.Integral) \
            or int(reduction) not in _REDUCTIONS:
        raise ValueError(f"{fn}(): reduction must be 0 (none), 1 (mean) or 2 (sum), got "
                         f"{reduction!r}")
    return _REDUCTIONS[int(reduction)]


def _stride(stride):
    return None if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else stride


def avg_pool1d(input, kernel_size, stride=(), padding=0, ceil_mode=False,
               count_include_pad=True):
    return F.avg_pool1d(input, kernel_size, _stride(stride), padding, ceil_mode,
                        count_include_pad)


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool3d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1,
                            ceil_mode=False):
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode,
                        return_indices=True)


def adaptive_max_pool1d(input, output_size):
    """(values, indices), as torch's top-level form."""
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


def dist(input, other, p=2):
    """The p-norm of ``input - other`` (broadcast), a 0-d tensor."""
    from .linalg import vector_norm
    from .tensor import Tensor
    if not isinstance(p, (numbers.Number, Tensor)):  # vector_norm's message names its 'ord'
        raise TypeError(f"dist(): argument 'p' must be Number, not {type(p).__name__}")
    return vector_norm(input - other, p)


def celu(input, alpha=1.0):
    return F.celu(input, alpha)


def selu(input):
    return F.selu(input)


def threshold(input, threshold, value):
    return F.threshold(input, threshold, value)


def rrelu(input, lower=0.125, upper=1.0 / 3, training=False, generator=None):
    """F.rrelu; ``generator`` must be None (the slopes come from the one generator)."""
    if generator is not None:
        raise TypeError("rrelu(): generator is not supported; seed with tg.manual_seed")
    return F.rrelu(input, lower, upper, training)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """F.embedding(indices, weight, ...); ``padding_idx=-1`` is none, as ATen's."""
    return F.embedding(indices, weight, None if padding_idx == -1 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def dropout(input, p, train):
    return F.dropout(input, p, train)


def alpha_dropout(input, p, train):
    return F.alpha_dropout(input, p, train)


def feature_alpha_dropout(input, p, train):
    return F.feature_alpha_dropout(input, p, train)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    return F.group_norm(input, num_groups, weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    return F.rms_norm(input, normalized_shape, weight, eps)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled):
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum,
                  eps, cudnn_enabled):
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                           momentum, eps)


def constant_pad_nd(input, pad, value=0):
    return F.pad(input, pad, "constant", value)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    return F.binary_cross_entropy_with_logits(
        input, target, weight, reduction=_reduction(reduction, "binary_cross_entropy_with_logits"),
        pos_weight=pos_weight)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    return F.cosine_embedding_loss(input1, input2, target, margin,
                                   reduction=_reduction(reduction, "cosine_embedding_loss"))


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    return F.hinge_embedding_loss(input, target, margin,
                                  reduction=_reduction(reduction, "hinge_embedding_loss"))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    return F.margin_ranking_loss(input1, input2, target, margin,
                                 reduction=_reduction(reduction, "margin_ranking_loss"))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        reduction=0):
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                 reduction=_reduction(reduction, "triplet_margin_loss"))


def kl_div(input, target, reduction=0, *, log_target=False):
    """ATen's ``mean`` (1) averages over every element, as F's "mean" (not "batchmean");
    left out, no reduction (torch's binding)."""
    return F.kl_div(input, target, reduction=_reduction(reduction, "kl_div"),
                    log_target=log_target)


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps,
                              reduction=_reduction(reduction, "poisson_nll_loss"))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0,
             zero_infinity=False):
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                      _reduction(reduction, "ctc_loss"), zero_infinity)
