"""``torch.nn.modules`` and its submodules, where library code looks up layer base classes:
``isinstance(m, nn.modules.batchnorm._BatchNorm)`` to freeze every batch norm (mmcv, detectron2,
timm), ``from torch.nn.modules.conv import _ConvNd``, ``from torch.nn.modules.loss import _Loss``
for a custom loss, ``from torch.nn.modules.utils import _pair`` in a custom conv. Each submodule
holds this package's classes under torch's file layout; the classes are ``nn``'s own (no copies),
so ``isinstance`` answers as it would in torch. Names this package lacks are left out."""
from __future__ import annotations

import collections.abc
import itertools
import sys
import types

from . import conv as _conv, conv_transpose as _convt, loss as _loss, module as _module, \
    normalization as _norm
from .. import nn as _nn

# torch's file for each public class (torch/nn/modules/<file>.py), for the classes nn exports
_LAYOUT = {
    "module": ["Module"],
    "container": ["Container", "Sequential", "ModuleList", "ModuleDict", "ParameterList",
                  "ParameterDict"],
    "linear": ["Identity", "Linear", "Bilinear", "LazyLinear"],
    "conv": ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
             "ConvTranspose3d", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
             "LazyConvTranspose2d", "LazyConvTranspose3d"],
    "batchnorm": ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm",
                  "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d"],
    "instancenorm": ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LazyInstanceNorm1d",
                     "LazyInstanceNorm2d", "LazyInstanceNorm3d"],
    "normalization": ["LayerNorm", "GroupNorm", "RMSNorm", "LocalResponseNorm", "CrossMapLRN2d"],
    "dropout": ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                "FeatureAlphaDropout"],
    "activation": ["Threshold", "ReLU", "RReLU", "Hardtanh", "ReLU6", "Sigmoid", "Hardsigmoid",
                   "Tanh", "SiLU", "Mish", "Hardswish", "ELU", "CELU", "SELU", "GLU", "GELU",
                   "Hardshrink", "LeakyReLU", "LogSigmoid", "Softplus", "Softshrink",
                   "MultiheadAttention", "PReLU", "Softsign", "Tanhshrink", "Softmin", "Softmax",
                   "Softmax2d", "LogSoftmax"],
    "loss": ["L1Loss", "NLLLoss", "NLLLoss2d", "PoissonNLLLoss", "GaussianNLLLoss", "KLDivLoss",
             "MSELoss", "BCELoss", "BCEWithLogitsLoss", "HingeEmbeddingLoss",
             "MultiLabelMarginLoss", "SmoothL1Loss", "HuberLoss", "SoftMarginLoss",
             "CrossEntropyLoss", "MultiLabelSoftMarginLoss", "CosineEmbeddingLoss",
             "MarginRankingLoss", "MultiMarginLoss", "TripletMarginLoss",
             "TripletMarginWithDistanceLoss", "CTCLoss", "LinearCrossEntropyLoss"],
    "pooling": ["MaxPool1d", "MaxPool2d", "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d",
                "MaxUnpool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "FractionalMaxPool2d",
                "FractionalMaxPool3d", "LPPool1d", "LPPool2d", "LPPool3d", "AdaptiveMaxPool1d",
                "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AdaptiveAvgPool1d",
                "AdaptiveAvgPool2d", "AdaptiveAvgPool3d"],
    "rnn": ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"],
    "sparse": ["Embedding", "EmbeddingBag"],
    "transformer": ["TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
                    "TransformerDecoderLayer", "Transformer"],
    "flatten": ["Flatten", "Unflatten"],
    "fold": ["Fold", "Unfold"],
    "distance": ["PairwiseDistance", "CosineSimilarity"],
    "padding": ["CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d",
                "ConstantPad2d", "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d",
                "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d",
                "ZeroPad1d", "ZeroPad2d", "ZeroPad3d"],
    "pixelshuffle": ["PixelShuffle", "PixelUnshuffle"],
    "upsampling": ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"],
    "channelshuffle": ["ChannelShuffle"],
    "adaptive": ["AdaptiveLogSoftmaxWithLoss"],
    "linear_cross_entropy_options": ["LinearCrossEntropyOptions"],
    "lazy": ["LazyModuleMixin"],
}

# the private bases library code subclasses or tests against, where torch keeps them
_PRIVATE = {
    "batchnorm": {"_NormBase": _norm._NormBase, "_BatchNorm": _norm._BatchNorm},
    "instancenorm": {"_InstanceNorm": _norm._InstanceNorm},
    "conv": {"_ConvNd": _conv._ConvNd, "_ConvTransposeNd": _convt._ConvTransposeNd},
    "loss": {"_Loss": _loss._Loss},
    "module": {"_IncompatibleKeys": _module.IncompatibleKeys},
}


def _ntuple(n, name="parse"):
    """torch's helper: an iterable as a tuple, anything else repeated ``n`` times."""
    def parse(x):
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(itertools.repeat(x, n))
    parse.__name__ = name
    return parse


def _reverse_repeat_tuple(t, n):
    """torch's helper for padding: each element of ``t`` reversed in order, repeated ``n``
    times ((1, 2) and 2 give (2, 2, 1, 1))."""
    return tuple(x for x in reversed(t) for _ in range(n))


_UTILS = {"_ntuple": _ntuple, "_single": _ntuple(1, "_single"), "_pair": _ntuple(2, "_pair"),
          "_triple": _ntuple(3, "_triple"), "_quadruple": _ntuple(4, "_quadruple"),
          "_reverse_repeat_tuple": _reverse_repeat_tuple}

__all__ = []  # the classes are nn's; this module adds names, not layers
_here = sys.modules[__name__]
for _file, _names in _LAYOUT.items():
    _sub = types.ModuleType(f"{__name__}.{_file}", f"torch.nn.modules.{_file}'s classes")
    for _n in _names:
        if hasattr(_nn, _n):
            setattr(_sub, _n, getattr(_nn, _n))
            setattr(_here, _n, getattr(_nn, _n))  # torch.nn.modules.Linear too
    for _n, _obj in _PRIVATE.get(_file, {}).items():
        setattr(_sub, _n, _obj)
    setattr(_here, _file, _sub)
    sys.modules[_sub.__name__] = _sub  # so `from ...nn.modules.conv import _ConvNd` works
utils = types.ModuleType(f"{__name__}.utils", "torch.nn.modules.utils' tuple helpers")
for _n, _obj in _UTILS.items():
    setattr(utils, _n, _obj)
sys.modules[utils.__name__] = utils
del _file, _names, _sub, _n, _obj, _here
