"""The everyday layers the survey times (``survey.py``): one builder per case.

A builder takes a namespace ``L`` -- either tinygrad_norm or torch behind the same names
(``L.nn``, ``L.F``, ``L.optim``, ``L.leaf``, ``L.const``, ...) -- and the case's NumPy data, and
returns ``(leaves, step)``. Because the package mirrors torch's names and arguments, ONE builder
serves both sides: what is timed is the same call with the same shapes. Modules are built on each
side with that side's own initialisation (the survey times, it does not compare values).
"""
from __future__ import annotations

import numpy as np

# (key, label, builder); filled by @case below, in the order the table lists them
CASES = []


def case(key, label):
    def register(fn):
        CASES.append((key, label, fn))
        return fn
    return register


def _rand(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def _module(L, m, x_shape, rng, extra=()):
    """forward+backward of module ``m`` on a fresh random input of ``x_shape``."""
    x = L.leaf(_rand(rng, *x_shape))
    leaves = [x, *m.parameters()]
    return leaves, lambda: L.first(m(x, *extra))


def _fn(L, f, rng, *shapes):
    xs = [L.leaf(_rand(rng, *s)) for s in shapes]
    return xs, lambda: f(*xs)


# ---- dense, convolutions, pooling ---------------------------------------------------------------

@case("linear", "Linear 512->256, x 64x512")
def _(L, rng):
    return _module(L, L.nn.Linear(512, 256), (64, 512), rng)


@case("conv1d", "Conv1d 32->64 k3 p1, x 16x32x128")
def _(L, rng):
    return _module(L, L.nn.Conv1d(32, 64, 3, padding=1), (16, 32, 128), rng)


@case("conv2d_3x3", "Conv2d 32->32 3x3 s1 p1, x 8x32x32x32")
def _(L, rng):
    return _module(L, L.nn.Conv2d(32, 32, 3, padding=1), (8, 32, 32, 32), rng)


@case("conv2d_3x3_s2", "Conv2d 32->64 3x3 s2 p1, x 8x32x32x32")
def _(L, rng):
    return _module(L, L.nn.Conv2d(32, 64, 3, stride=2, padding=1), (8, 32, 32, 32), rng)


@case("conv2d_1x1", "Conv2d 64->64 1x1, x 8x64x16x16")
def _(L, rng):
    return _module(L, L.nn.Conv2d(64, 64, 1), (8, 64, 16, 16), rng)


@case("conv2d_dw", "Conv2d depthwise 64 3x3 p1 groups=64, x 8x64x32x32")
def _(L, rng):
    return _module(L, L.nn.Conv2d(64, 64, 3, padding=1, groups=64), (8, 64, 32, 32), rng)


@case("conv2d_dil2", "Conv2d 32->32 3x3 dilation 2 p2, x 8x32x32x32")
def _(L, rng):
    return _module(L, L.nn.Conv2d(32, 32, 3, padding=2, dilation=2), (8, 32, 32, 32), rng)


@case("convT2d", "ConvTranspose2d 32->16 k4 s2 p1, x 8x32x16x16")
def _(L, rng):
    return _module(L, L.nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1), (8, 32, 16, 16), rng)


@case("maxpool2d", "MaxPool2d 2, x 8x32x32x32")
def _(L, rng):
    return _module(L, L.nn.MaxPool2d(2), (8, 32, 32, 32), rng)


@case("maxpool2d_3s2", "MaxPool2d 3 s2 p1, x 8x32x32x32")
def _(L, rng):
    return _module(L, L.nn.MaxPool2d(3, stride=2, padding=1), (8, 32, 32, 32), rng)


@case("avgpool2d", "AvgPool2d 2, x 8x32x32x32")
def _(L, rng):
    return _module(L, L.nn.AvgPool2d(2), (8, 32, 32, 32), rng)


@case("adaptive_avg", "AdaptiveAvgPool2d 1, x 8x64x14x14")
def _(L, rng):
    return _module(L, L.nn.AdaptiveAvgPool2d(1), (8, 64, 14, 14), rng)


@case("adaptive_avg_5", "AdaptiveAvgPool2d 5 (uneven), x 8x64x14x14")
def _(L, rng):
    return _module(L, L.nn.AdaptiveAvgPool2d(5), (8, 64, 14, 14), rng)


# ---- embeddings, recurrent, attention -----------------------------------------------------------

@case("embedding", "Embedding 10000x64, idx 32x64")
def _(L, rng):
    m = L.nn.Embedding(10000, 64)
    idx = L.const(rng.integers(0, 10000, (32, 64)))
    return list(m.parameters()), lambda: m(idx)


@case("embedding_bag", "EmbeddingBag 10000x64 mean, bags 64x20")
def _(L, rng):
    m = L.nn.EmbeddingBag(10000, 64, mode="mean")
    idx = L.const(rng.integers(0, 10000, (64, 20)))
    return list(m.parameters()), lambda: m(idx)


@case("lstm", "LSTM 64->64, seq 20 batch 16")
def _(L, rng):
    return _module(L, L.nn.LSTM(64, 64), (20, 16, 64), rng)


@case("gru", "GRU 64->64, seq 20 batch 16")
def _(L, rng):
    return _module(L, L.nn.GRU(64, 64), (20, 16, 64), rng)


@case("mha", "MultiheadAttention d64 4 heads, batch 8 seq 32")
def _(L, rng):
    m = L.nn.MultiheadAttention(64, 4, batch_first=True)
    x = L.leaf(_rand(rng, 8, 32, 64))
    return [x, *m.parameters()], lambda: m(x, x, x, need_weights=False)[0]


@case("transformer", "TransformerEncoderLayer d64 4 heads ff256, batch 8 seq 32")
def _(L, rng):
    m = L.nn.TransformerEncoderLayer(64, 4, dim_feedforward=256, batch_first=True)
    return _module(L, m, (8, 32, 64), rng)


# ---- softmax and losses -------------------------------------------------------------------------

@case("softmax", "softmax, 64x1000 dim -1")
def _(L, rng):
    return _fn(L, lambda x: L.F.softmax(x, dim=-1), rng, (64, 1000))


@case("log_softmax", "log_softmax, 64x1000 dim -1")
def _(L, rng):
    return _fn(L, lambda x: L.F.log_softmax(x, dim=-1), rng, (64, 1000))


@case("cross_entropy", "cross_entropy, 64x1000")
def _(L, rng):
    t = L.const(rng.integers(0, 1000, 64))
    return _fn(L, lambda x: L.F.cross_entropy(x, t), rng, (64, 1000))


@case("nll_loss", "nll_loss, 64x1000")
def _(L, rng):
    t = L.const(rng.integers(0, 1000, 64))
    return _fn(L, lambda x: L.F.nll_loss(x, t), rng, (64, 1000))


@case("bce_logits", "binary_cross_entropy_with_logits, 64x1000")
def _(L, rng):
    t = L.const((rng.random((64, 1000)) > 0.5).astype(np.float32))
    return _fn(L, lambda x: L.F.binary_cross_entropy_with_logits(x, t), rng, (64, 1000))


@case("mse", "mse_loss, 64x1000")
def _(L, rng):
    return _fn(L, L.F.mse_loss, rng, (64, 1000), (64, 1000))


@case("smooth_l1", "smooth_l1_loss, 64x1000")
def _(L, rng):
    return _fn(L, L.F.smooth_l1_loss, rng, (64, 1000), (64, 1000))


# ---- resampling, padding, patches ---------------------------------------------------------------

@case("bilinear", "interpolate bilinear x2, 8x32x16x16")
def _(L, rng):
    return _fn(L, lambda x: L.F.interpolate(x, scale_factor=2, mode="bilinear",
                                           align_corners=False), rng, (8, 32, 16, 16))


@case("nearest", "interpolate nearest x2, 8x32x16x16")
def _(L, rng):
    return _fn(L, lambda x: L.F.interpolate(x, scale_factor=2, mode="nearest"),
               rng, (8, 32, 16, 16))


@case("pad_reflect", "pad reflect 1, 8x32x32x32")
def _(L, rng):
    return _fn(L, lambda x: L.F.pad(x, (1, 1, 1, 1), mode="reflect"), rng, (8, 32, 32, 32))


@case("pad_replicate", "pad replicate 1, 8x32x32x32")
def _(L, rng):
    return _fn(L, lambda x: L.F.pad(x, (1, 1, 1, 1), mode="replicate"), rng, (8, 32, 32, 32))


@case("unfold", "unfold 3x3 p1, 8x32x16x16")
def _(L, rng):
    return _fn(L, lambda x: L.F.unfold(x, 3, padding=1), rng, (8, 32, 16, 16))


@case("fold", "fold 3x3 p1 to 16x16, 8x288x256")
def _(L, rng):
    return _fn(L, lambda x: L.F.fold(x, (16, 16), 3, padding=1), rng, (8, 288, 256))


# ---- scans, sorting, indexing, contractions -----------------------------------------------------

@case("cumsum", "cumsum, 64x1000 dim -1")
def _(L, rng):
    return _fn(L, lambda x: L.T.cumsum(x, dim=-1), rng, (64, 1000))


@case("sort", "sort, 64x1000 dim -1")
def _(L, rng):
    return _fn(L, lambda x: L.T.sort(x, dim=-1)[0], rng, (64, 1000))


@case("topk", "topk 10, 64x1000")
def _(L, rng):
    return _fn(L, lambda x: L.T.topk(x, 10, dim=-1)[0], rng, (64, 1000))


@case("gather", "gather dim 1, 64x1000 -> 64x100")
def _(L, rng):
    idx = L.const(rng.integers(0, 1000, (64, 100)))
    return _fn(L, lambda x: L.T.gather(x, 1, idx), rng, (64, 1000))


@case("scatter_add", "scatter_add dim 1, 64x100 into 64x1000")
def _(L, rng):
    idx = L.const(rng.integers(0, 1000, (64, 100)))
    return _fn(L, lambda d, s: d.scatter_add(1, idx, s), rng, (64, 1000), (64, 100))


@case("index_select", "index_select dim 0, 256 of 1000x64")
def _(L, rng):
    idx = L.const(rng.integers(0, 1000, 256))
    return _fn(L, lambda x: L.T.index_select(x, 0, idx), rng, (1000, 64))


@case("einsum_bmm", "einsum bij,bjk->bik, 16x64x64")
def _(L, rng):
    return _fn(L, lambda a, b: L.T.einsum("bij,bjk->bik", a, b), rng, (16, 64, 64), (16, 64, 64))


@case("einsum_attn", "einsum bhqd,bhkd->bhqk, 8x4x32x16")
def _(L, rng):
    return _fn(L, lambda q, k: L.T.einsum("bhqd,bhkd->bhqk", q, k), rng,
               (8, 4, 32, 16), (8, 4, 32, 16))


# ---- norms (for completeness) and activations ---------------------------------------------------

@case("layer_norm", "LayerNorm 256, x 16x64x256")
def _(L, rng):
    return _module(L, L.nn.LayerNorm(256), (16, 64, 256), rng)


@case("group_norm", "GroupNorm 8 groups, x 8x64x16x16")
def _(L, rng):
    return _module(L, L.nn.GroupNorm(8, 64), (8, 64, 16, 16), rng)


@case("gelu", "GELU, 256x1024")
def _(L, rng):
    return _module(L, L.nn.GELU(), (256, 1024), rng)


@case("silu", "SiLU, 256x1024")
def _(L, rng):
    return _module(L, L.nn.SiLU(), (256, 1024), rng)


@case("softplus", "Softplus, 256x1024")
def _(L, rng):
    return _module(L, L.nn.Softplus(), (256, 1024), rng)


# ---- optimizer steps over a ResNet-18-sized parameter list --------------------------------------

def resnet18_shapes():
    """The parameter shapes of a ResNet-18 (62 tensors, 11.7M numbers)."""
    shapes = [(64, 3, 7, 7), (64,), (64,)]
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        for block in range(2):
            first = block == 0
            shapes += [(cout, cin if first else cout, 3, 3), (cout,), (cout,),
                       (cout, cout, 3, 3), (cout,), (cout,)]
            if first and (stride != 1 or cin != cout):
                shapes += [(cout, cin, 1, 1), (cout,), (cout,)]
        cin = cout
    return shapes + [(1000, 512), (1000,)]


def _optimizer(L, rng, make):
    params = [L.param(_rand(rng, *s) * 0.01) for s in resnet18_shapes()]
    for p in params:
        p.grad = L.const(_rand(rng, *p.shape) * 0.01)
    opt = make(params)
    return opt.step


@case("adam", "Adam step, ResNet-18 parameters (62 tensors, 11.7M)")
def _(L, rng):
    return None, _optimizer(L, rng, lambda ps: L.optim.Adam(ps, lr=1e-3))


@case("adamw", "AdamW step, ResNet-18 parameters")
def _(L, rng):
    return None, _optimizer(L, rng, lambda ps: L.optim.AdamW(ps, lr=1e-3))


@case("sgd_momentum", "SGD momentum 0.9 step, ResNet-18 parameters")
def _(L, rng):
    return None, _optimizer(L, rng, lambda ps: L.optim.SGD(ps, lr=0.01, momentum=0.9))
