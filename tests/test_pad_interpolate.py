"""F.pad's reflect/replicate/circular modes, the padding layers, F.interpolate and Upsample
(composites of gathers and weighted sums): parity with PyTorch forward and backward under
random upstream gradients (float64 tight, float32), PyTorch's index rules for non-integer scale
factors, finite differences, and PyTorch's errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn

from test_activation_losses import DTYPES, parity


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ---- F.pad -----------------------------------------------------------------------------------

PAD_CASES = [
    ((2, 5), (1, 2)),  # unbatched 1-D
    ((2, 3, 5), (4, 4)),  # the largest reflection: size - 1
    ((2, 3, 5), (-1, 2)),  # a negative size crops first
    ((2, 3, 5), (3, -2)),
    ((3, 4, 5), (1, 2, 3, 0)),  # unbatched 2-D
    ((2, 3, 4, 5), (2, 1, -1, 3)),
    ((1, 2, 3, 4, 5), (1, 2, 2, 0, 1, 1)),  # 3-D
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", PAD_CASES)
def test_pad_modes_parity(torch, dtype, mode, shape, pad):
    parity(torch, lambda a: F.pad(a, pad, mode=mode),
           lambda a: torch.nn.functional.pad(a, pad, mode=mode), [_x(shape)], dtype)


def test_pad_modes_edge_sizes_match_torch(torch):
    """Every size from cropping all but one element to wrapping once, on a length of 5."""
    x = _x((1, 2, 5))
    for mode in ("reflect", "replicate", "circular"):
        for lo in range(-4, 6):
            for hi in range(-4, 6):
                pad = (lo, hi)
                try:
                    ref = torch.nn.functional.pad(torch.tensor(x), pad, mode=mode).numpy()
                except (RuntimeError, NotImplementedError):
                    with pytest.raises((ValueError, NotImplementedError)):
                        F.pad(Tensor(x), pad, mode=mode)
                    continue
                if mode == "circular" and 5 + min(lo, 0) + min(hi, 0) < max(lo, hi):
                    continue  # torch reads uninitialized memory there; we refuse (below)
                np.testing.assert_array_equal(F.pad(Tensor(x), pad, mode=mode).numpy(), ref,
                                              err_msg=f"{mode} {pad}")


def test_pad_gradcheck():
    x = Tensor(_x((1, 2, 4, 5)), requires_grad=True)
    for mode in ("reflect", "replicate", "circular"):
        assert tg.gradcheck(lambda a: F.pad(a, (3, 2, -1, 2), mode=mode), [x])


# (input shape, pad, mode, value, our error, its message); torch refuses each as well, but
# where marked: it reads uninitialized memory there
PAD_ERRORS = [
    ((2, 3, 4, 5), (1, 1), "reflect", 1.0, ValueError,
     'Padding mode "reflect" doesn\'t take in value argument'),
    ((2, 3, 4, 5), (1, 1, 1), "replicate", None, ValueError,
     "Padding length must be divisible by 2"),
    ((2, 3, 4, 5), (1,) * 8, "circular", None, NotImplementedError,
     "Padding size 8 is not supported for 4D input tensor"),
    ((2, 3, 4, 5), (1, 1), "reflect", None, NotImplementedError,
     "Padding size 2 is not supported for 4D input tensor"),
    ((5,), (1, 1), "replicate", None, NotImplementedError,
     "Padding size 2 is not supported for 1D input tensor"),
    ((2, 3, 4, 5), (5, 0, 1, 1), "reflect", None, ValueError,
     r"Padding size should be less than the corresponding input dimension, but got: padding "
     r"\(5, 0\) at dimension 3"),
    ((2, 3, 4, 5), (6, 0, 1, 1), "circular", None, ValueError, "wrapping around more than once"),
    ((2, 3, 4, 5), (-5, 1, 0, 0), "circular", None, ValueError, "torch: uninitialized"),
    ((2, 3, 4, 5), (-6, 0, 0, 0), "circular", None, ValueError,
     "Negative padding value is resulting in an empty dimension"),
    ((2, 3, 5), (-3, -2), "replicate", None, ValueError, "too small"),  # 1-D: an empty output
    ((2, 3, 4, 5), (-3, -3, 0, 0), "reflect", None, ValueError, "too small"),
    ((2, 0, 4, 5), (1, 1, 1, 1), "replicate", None, ValueError,
     "possibly 0 batch size and other non-zero dimensions"),
]


@pytest.mark.parametrize("shape,pad,mode,value,error,match", PAD_ERRORS)
def test_pad_errors_as_torch(torch, shape, pad, mode, value, error, match):
    x = np.zeros(shape)
    uninitialized = match == "torch: uninitialized"
    with pytest.raises(error, match="wrapping around more than once" if uninitialized else match):
        F.pad(Tensor(x), pad, mode=mode, value=value)
    if not uninitialized:
        with pytest.raises((RuntimeError, NotImplementedError)):
            torch.nn.functional.pad(torch.tensor(x), pad, mode=mode, value=value)


def test_pad_empty_outputs_where_torch_allows_them(torch):
    """torch's 2-D and 3-D kernels allow an empty output (its 1-D ones do not)."""
    x = _x((2, 3, 4, 5))
    for mode in ("reflect", "replicate", "circular"):
        assert F.pad(Tensor(x), (-3, -2, 0, 0), mode=mode).shape == tuple(
            torch.nn.functional.pad(torch.tensor(x), (-3, -2, 0, 0), mode=mode).shape)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_padding_layers_match_torch(torch, dims):
    x = _x((2, 3, 4, 5, 6)[3 - dims:])
    for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular"):
        name = f"{kind}Pad{dims}d"
        for padding in (2, (1, 3, 0, 2, 3, 1)[:2 * dims]):
            args = (padding, 1.5) if kind == "Constant" else (padding,)
            ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
            assert repr(ours) == repr(theirs)
            parity(torch, ours, theirs, [x], np.float64)
    with pytest.raises(TypeError, match="padding must be an int or a tuple of 4 ints"):
        nn.ReflectionPad2d((1, 2))


# ---- F.interpolate ---------------------------------------------------------------------------

INTERP_CASES = [
    ("nearest", (2, 3, 5, 7), dict(scale_factor=1.7)),
    ("nearest", (2, 3, 5, 7), dict(scale_factor=2.1)),  # 5 -> 10: torch's 2-D shortcut
    ("nearest", (2, 3, 5, 7), dict(size=(3, 11))),
    ("nearest", (2, 3, 7), dict(scale_factor=2.3)),
    ("nearest", (1, 2, 3, 4, 5), dict(scale_factor=(1.4, 0.6, 1.7))),
    ("nearest-exact", (2, 3, 5, 7), dict(scale_factor=1.7)),
    ("nearest-exact", (2, 3, 6), dict(size=4)),
    ("linear", (2, 3, 6), dict(size=11)),
    ("linear", (2, 3, 6), dict(scale_factor=0.6)),
    ("linear", (2, 3, 6), dict(scale_factor=1.1)),  # 6 -> 6: torch copies the axis
    ("bilinear", (2, 3, 5, 7), dict(size=(8, 3))),
    ("bilinear", (2, 3, 5, 7), dict(scale_factor=(1.5, 2.3333))),
    ("bilinear", (2, 3, 5, 7), dict(scale_factor=1.7, recompute_scale_factor=True)),
    ("bilinear", (1, 3, 1, 4), dict(size=(1, 9))),  # an output of 1: align_corners' scale is 0
    ("trilinear", (1, 2, 3, 4, 5), dict(scale_factor=(2, 0.5, 1.3))),
    ("bicubic", (2, 3, 5, 7), dict(size=(9, 4))),
    ("bicubic", (2, 3, 5, 7), dict(scale_factor=(1.1, 2.3333))),  # 5 -> 5 is not copied
    ("bicubic", (1, 2, 2, 1), dict(scale_factor=(0.5, 3))),  # every position clamped
    ("area", (2, 3, 7, 5), dict(size=(3, 4))),
    ("area", (2, 3, 7), dict(scale_factor=0.6)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode,shape,kw", INTERP_CASES)
def test_interpolate_parity(torch, dtype, mode, shape, kw):
    for ac in ([None] if mode.startswith("nearest") or mode == "area" else [False, True]):
        parity(torch, lambda a: F.interpolate(a, mode=mode, align_corners=ac, **kw),
               lambda a: torch.nn.functional.interpolate(a, mode=mode, align_corners=ac, **kw),
               [_x(shape)], dtype)


def test_nearest_index_rule_matches_torch_for_many_scale_factors(torch):
    """Which input each output reads, for every size 1-12 and awkward scale factors: float32
    arithmetic from 1 / scale_factor (or in / out when recomputed) and torch's 2-D shortcuts."""
    for ndim in (3, 4, 5):
        for n in range(1, 13):
            shape = (1, 1) + (n,) * (ndim - 2)
            x = np.arange(n ** (ndim - 2), dtype=np.float32).reshape(shape)
            for sf in (0.3, 0.7, 1.1, 1.49, 1.7, 2.1, 2.3333, 3.7):
                for mode in ("nearest", "nearest-exact"):
                    for recompute in (None, True):
                        if int(n * sf) < 1:
                            continue
                        kw = dict(scale_factor=sf, mode=mode, recompute_scale_factor=recompute)
                        ref = torch.nn.functional.interpolate(torch.tensor(x), **kw).numpy()
                        np.testing.assert_array_equal(F.interpolate(Tensor(x), **kw).numpy(),
                                                      ref, err_msg=f"{ndim}-D {n} {kw}")


def test_nearest_1d_3d_backward_follows_the_forward_where_torch_does_not(torch):
    """torch's 1-D and 3-D 'nearest' forward reads floor(j / 2.1) for 7 -> 14, but its backward
    takes the 2-D shortcut (j // 2): its gradient is not that of its forward. Ours is."""
    x = _x((2, 3, 7))
    parity(torch, lambda a: F.interpolate(a, scale_factor=2.1),
           lambda a: torch.nn.functional.interpolate(a, scale_factor=2.1), [x], np.float64,
           diff=[False])  # the forwards agree
    xs = Tensor(x, requires_grad=True)
    out = F.interpolate(xs, scale_factor=2.1)
    g = _x(out.shape, seed=1)
    out.backward(g)
    np.testing.assert_allclose(np.vdot(out.numpy(), g), np.vdot(x, xs.grad.numpy()), rtol=1e-12)
    tx = torch.tensor(x, requires_grad=True)
    theirs = torch.autograd.grad(torch.nn.functional.interpolate(tx, scale_factor=2.1), tx,
                                 torch.tensor(g))[0].numpy()
    assert not np.allclose(theirs, xs.grad.numpy())  # if torch fixes this, use parity above
    assert tg.gradcheck(lambda a: F.interpolate(a, scale_factor=2.1),
                        [Tensor(x[:1, :1], requires_grad=True)])


def test_interpolate_gradcheck():
    x = Tensor(_x((1, 2, 3, 4)), requires_grad=True)
    for kw in [dict(mode="nearest", scale_factor=1.7), dict(mode="bilinear", size=(5, 3)),
               dict(mode="bilinear", size=(5, 7), align_corners=True)]:
        assert tg.gradcheck(lambda a: F.interpolate(a, **kw), [x])
    assert tg.gradcheck(lambda a: F.interpolate(a, size=(4, 6), mode="bicubic"), [x])
    y = Tensor(_x((2, 2, 4)), requires_grad=True)
    assert tg.gradcheck(lambda a: F.interpolate(a, scale_factor=0.7, mode="linear"), [y])


X4 = np.zeros((1, 2, 5, 5))

INTERP_ERRORS = [
    (X4, dict(size=3, scale_factor=2), ValueError, "only one of size or scale_factor"),
    (X4, dict(), ValueError, "either size or scale_factor should be defined"),
    (X4, dict(size=(3,)), ValueError, "Input and output must have the same number of spatial"),
    (X4, dict(size=(3, 2.0)), TypeError, "expected size to be"),
    (X4, dict(scale_factor=(2, 2, 2)), ValueError, "Input and scale_factor must have the same"),
    (X4, dict(size=3, recompute_scale_factor=True), ValueError,
     "recompute_scale_factor is not meaningful with an explicit size"),
    (X4, dict(size=3, align_corners=True), ValueError,
     "align_corners option can only be set with the interpolating modes"),
    (X4[0], dict(size=3, mode="bilinear"), NotImplementedError,
     "Got 3D input, but bilinear mode needs 4D input"),
    (X4, dict(size=3, mode="linear"), NotImplementedError,
     "Got 4D input, but linear mode needs 3D input"),
    (X4, dict(size=3, mode="bogus"), NotImplementedError, r"Only 3D, 4D and 5D .* \(got bogus\)"),
    (X4[0, 0], dict(size=3), NotImplementedError, r"Only 3D, 4D and 5D input .* \(got 2D\)"),
    (X4, dict(size=3, mode="area", align_corners=False), ValueError,
     "align_corners option can only be set"),
    (X4, dict(scale_factor=0.1), ValueError,
     r"sizes should be greater than 0, but got input \(H: 5, W: 5\) output \(H: 0, W: 0\)"),
    (X4, dict(size=-2), ValueError, "sizes should be greater than 0"),
    (X4[:, :, :0], dict(size=3), ValueError, "sizes should be greater than 0"),
    (X4[:, :0], dict(size=3), ValueError, "Non-empty 4D data tensor expected"),
]


@pytest.mark.parametrize("x,kw,error,match", INTERP_ERRORS)
def test_interpolate_errors_as_torch(torch, x, kw, error, match):
    with pytest.raises(error, match=match):
        F.interpolate(Tensor(x), **kw)
    with pytest.raises((error, RuntimeError), match=match):
        torch.nn.functional.interpolate(torch.tensor(x), **kw)


def test_upsample_layers_match_torch(torch):
    x = _x((2, 3, 4, 5))
    for args, kw in [((), dict(scale_factor=2)), ((), dict(scale_factor=(1.5, 2.5))),
                     ((None, 1.7, "bilinear"), dict(align_corners=True)),
                     ((), dict(size=(6, 3), mode="nearest-exact")),
                     ((), dict(scale_factor=1.5, mode="bicubic", align_corners=True)),
                     ((), dict(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True))]:
        ours, theirs = nn.Upsample(*args, **kw), torch.nn.Upsample(*args, **kw)
        assert repr(ours) == repr(theirs)
        parity(torch, ours, theirs, [x], np.float64)
    for name, kw in [("UpsamplingNearest2d", dict(scale_factor=2)),
                     ("UpsamplingBilinear2d", dict(size=(7, 3)))]:
        ours, theirs = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
        assert repr(ours) == repr(theirs)
        parity(torch, ours, theirs, [x], np.float64)
    with pytest.raises(ValueError, match="mode must be one of"):
        nn.Upsample(scale_factor=2, mode="lanczos")


@pytest.mark.parametrize("shape,kw", [((1, 1, 1), dict(scale_factor=0.3)),
                                      ((2, 3, 5), dict(size=0)),
                                      ((1, 2, 3, 2), dict(scale_factor=0.3)),
                                      ((1, 1, 3, 3), dict(size=(0, 2))),
                                      ((1, 1, 1, 4), dict(scale_factor=0.7,
                                                          recompute_scale_factor=False))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_area_gives_an_empty_output_as_torch(torch, shape, kw, dtype):
    # PyTorch's 'area' is an adaptive pool, which takes an output size of 0 (its other modes
    # refuse one). Its backward then fails (adaptive_avg_pool2d_backward refuses an empty
    # gradient); ours gives the input zeros, the gradient of a function of nothing.
    x = Tensor(_x(shape).astype(dtype), requires_grad=True)
    out = F.interpolate(x, mode="area", **kw)
    theirs = torch.nn.functional.interpolate(torch.tensor(x.numpy()), mode="area", **kw)
    assert out.shape == tuple(theirs.shape) and out.dtype == dtype
    out.sum().backward()
    assert x.grad.dtype == dtype and not x.grad.numpy().any()
    with pytest.raises(ValueError, match="sizes should be greater than 0"):  # as torch
        F.interpolate(x, mode="nearest", **kw)


@pytest.mark.parametrize("name,kw", [("upsample", dict(scale_factor=2)),
                                     ("upsample", dict(size=(3, 7), mode="bilinear")),
                                     ("upsample", dict(scale_factor=1.5, mode="bicubic",
                                                       align_corners=True)),
                                     ("upsample_nearest", dict(size=(9, 4))),
                                     ("upsample_bilinear", dict(scale_factor=1.7)),
                                     ("upsample_bilinear", dict(size=(3, 8)))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_deprecated_upsample_aliases_match_torch(torch, name, kw, dtype):
    x = _x((2, 3, 4, 5))
    with pytest.warns(UserWarning) as ours:
        ours_fn = lambda a: getattr(F, name)(a, **kw)
        ours_fn(Tensor(x))
    with pytest.warns(UserWarning) as theirs:
        getattr(torch.nn.functional, name)(torch.tensor(x), **kw)
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    assert ours[0].filename == __file__  # pointed at the caller, as torch's stacklevel=2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        parity(torch, ours_fn, lambda a: getattr(torch.nn.functional, name)(a, **kw), [x], dtype)
