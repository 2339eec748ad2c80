"""nn.LazyConv1d/2d/3d, nn.LazyConvTranspose1d/2d/3d, nn.LazyBatchNorm1d/2d/3d and
nn.LazyInstanceNorm1d/2d/3d against torch's: reprs and state dicts before and after the first
call, the class they become, the draws (those of the eager layer under the same manual_seed, in
torch's bounds), outputs and gradients after copying torch's parameters (float64, random upstream
gradient), an optimizer built before the first call, and errors -- ours raised before anything
changes, a failing first call undone."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor, nn, optim

CONVS = [  # (lazy name, eager name, lazy args, kwargs, input shape)
    ("LazyConv1d", "Conv1d", (4, 3), {}, (2, 5, 9)),
    ("LazyConv1d", "Conv1d", (6, 2), {"groups": 3, "padding_mode": "reflect", "padding": 1},
     (6, 8)),
    ("LazyConv2d", "Conv2d", (4, 3), {}, (2, 5, 7, 6)),
    ("LazyConv2d", "Conv2d", (4, (2, 3)), {"stride": 2, "bias": False, "dilation": (1, 2)},
     (3, 7, 9)),
    ("LazyConv3d", "Conv3d", (3, 2), {"groups": 3, "padding": "same"}, (1, 6, 4, 5, 3)),
    ("LazyConvTranspose1d", "ConvTranspose1d", (4, 3), {"stride": 2, "output_padding": 1},
     (2, 5, 6)),
    ("LazyConvTranspose2d", "ConvTranspose2d", (6, 3), {"groups": 2, "dilation": 2},
     (2, 4, 5, 5)),
    ("LazyConvTranspose2d", "ConvTranspose2d", (2, 2), {"bias": False}, (3, 4, 4)),
    ("LazyConvTranspose3d", "ConvTranspose3d", (2, 2), {"stride": (1, 2, 1)}, (1, 3, 3, 4, 2)),
]


def _copy_from(ours, theirs):
    ours.load_state_dict({k: Tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})


def _shapes(sd):
    return [(k, tuple(v.shape)) for k, v in sd.items()]


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's, on an even kernel
@pytest.mark.parametrize("lazy,eager,args,kwargs,shape", CONVS,
                         ids=[f"{c[0]}-{c[4]}" for c in CONVS])
def test_lazy_conv_becomes_torchs_layer(torch, lazy, eager, args, kwargs, shape):
    ours = getattr(nn, lazy)(*args, dtype=np.float64, **kwargs)
    theirs = getattr(torch.nn, lazy)(*args, dtype=torch.float64, **kwargs)
    assert repr(ours) == repr(theirs)
    assert ours.has_uninitialized_params()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    opt = optim.SGD(ours.parameters(), lr=0.1)  # built before the first call
    a = np.random.default_rng(0).standard_normal(shape)
    tg.manual_seed(7)
    x = Tensor(a, requires_grad=True)
    ours(x)
    theirs(torch.tensor(a))
    assert type(ours) is getattr(nn, eager) and type(theirs) is getattr(torch.nn, eager)
    assert repr(ours) == repr(theirs)
    assert _shapes(ours.state_dict()) == _shapes(theirs.state_dict())
    # the draws are those of the eager layer built with in_channels known, in torch's bounds
    tg.manual_seed(7)
    in_channels = shape[1] if len(shape) == len(ours.kernel_size) + 2 else shape[0]
    plain = getattr(nn, eager)(in_channels, *args, dtype=np.float64, **kwargs)
    for (k, p), q, t in zip(ours.named_parameters(), plain.parameters(), theirs.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=k)
        fan_in = ours.weight.shape[1] * math.prod(ours.kernel_size)
        bound = 1 / math.sqrt(fan_in)
        assert np.abs(p.numpy()).max() <= bound and t.detach().abs().max().item() <= bound
    # torch's parameters copied in: the same output and gradients (random upstream gradient)
    _copy_from(ours, theirs)
    x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = ours(x), theirs(tx)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(Tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (k, p), t in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=k)
    before = ours.weight.numpy().copy()
    opt.step()  # the optimizer built before holds the materialized parameters
    assert not np.array_equal(ours.weight.numpy(), before)


def test_lazy_conv_float32_draws_and_output(torch):
    ours, theirs = nn.LazyConv2d(3, 2), torch.nn.LazyConv2d(3, 2)
    a = np.random.default_rng(2).standard_normal((2, 4, 5, 5)).astype(np.float32)
    ours(Tensor(a)), theirs(torch.tensor(a))
    assert ours.weight.dtype == np.float32
    _copy_from(ours, theirs)
    np.testing.assert_allclose(ours(Tensor(a)).numpy(), theirs(torch.tensor(a)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_lazy_conv_draws_fill_torchs_bounds():
    # a larger weight: its draws reach the edges of U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    m = nn.LazyConv2d(64, 3)
    m(Tensor(np.zeros((1, 8, 3, 3), np.float32)))
    bound = 1 / math.sqrt(8 * 9)
    w = m.weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.mean()) < 0.05 * bound  # centred
    assert np.abs(m.bias.numpy()).max() <= bound


def test_lazy_conv_transposed_output_size_and_gradcheck():
    m = nn.LazyConvTranspose2d(3, 3, stride=2, dtype=np.float64)
    x = Tensor(np.random.default_rng(3).standard_normal((1, 2, 4, 4)), requires_grad=True)
    assert m(x, output_size=(10, 10)).shape == (1, 3, 10, 10)  # extra arguments pass through
    assert tg.gradcheck(lambda t: m(t), [x])
    assert tg.gradgradcheck(lambda t: m(t), [x])


@pytest.mark.parametrize("lazy,n", [("LazyConv1d", 1), ("LazyConv2d", 2), ("LazyConv3d", 3),
                                    ("LazyConvTranspose2d", 2)])
def test_lazy_conv_errors_as_torch_and_nothing_changes(torch, lazy, n):
    ours, theirs = getattr(nn, lazy)(4, 2, groups=2), getattr(torch.nn, lazy)(4, 2, groups=2)
    bad = np.zeros((1, 3) + (4,) * n, np.float32)  # 3 channels, 2 groups
    with pytest.raises(ValueError, match="^in_channels must be divisible by groups$"):
        ours(Tensor(bad))
    with pytest.raises(ValueError, match="^in_channels must be divisible by groups$"):
        theirs(torch.tensor(bad))
    flat = np.zeros((4,) * n, np.float32)  # no channel axis
    msg = (f"Expected {n + 1}D \\(unbatched\\) or {n + 2}D \\(batched\\) input to {lazy}, but "
           f"got input of size")
    with pytest.raises(ValueError, match=msg):
        ours(Tensor(flat))
    with pytest.raises(RuntimeError, match=msg):
        theirs(torch.tensor(flat))
    with pytest.raises(TypeError, match="dtype"):
        ours(Tensor(np.zeros((1, 2) + (4,) * n)))  # float64 into a float32 module
    with pytest.raises(TypeError, match="input must be a Tensor"):
        ours(np.zeros((1, 2) + (4,) * n, np.float32))
    assert type(ours).__name__ == lazy and ours.in_channels == 0
    assert ours.weight.shape[:2] in ((4, 0), (0, 2))


def test_a_failing_first_call_is_undone():
    m = nn.LazyConv2d(4, 5)
    state = tg.random.generator().bit_generator.state
    with pytest.raises(ValueError, match="kernel"):
        m(Tensor(np.zeros((1, 3, 4, 4), np.float32)))  # the eager forward fails: 4 < 5
    assert type(m) is nn.LazyConv2d and m.in_channels == 0 and m.weight.shape == (4, 0, 5, 5)
    assert tg.random.generator().bit_generator.state == state  # nothing drawn, as far as seen
    tg.manual_seed(3)
    m(Tensor(np.zeros((1, 3, 6, 6), np.float32)))
    tg.manual_seed(3)
    np.testing.assert_array_equal(m.weight.numpy(), nn.Conv2d(3, 4, 5).weight.numpy())
    t = nn.LazyConvTranspose1d(2, 3)
    with pytest.raises(ValueError, match="output size"):
        t(Tensor(np.zeros((1, 3, 4), np.float32)), output_size=(40,))
    assert type(t) is nn.LazyConvTranspose1d and t.weight.shape == (0, 2, 3)


def test_lazy_conv_construction_errors_and_initialize_parameters():
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.LazyConv2d(5, 3, groups=2)  # torch finds out at the first call
    with pytest.raises(ValueError, match="padding_mode"):
        nn.LazyConv1d(2, 3, padding_mode="mirror")
    with pytest.raises(TypeError, match="bias"):
        nn.LazyConv3d(2, 3, bias="no")
    with pytest.raises(ValueError, match="out_channels"):
        nn.LazyConvTranspose2d(-1, 3)
    m = nn.LazyConv1d(2, 3)
    m.initialize_parameters(Tensor(np.zeros((5, 7), np.float32)))  # without the forward
    assert type(m) is nn.Conv1d and m.weight.shape == (2, 5, 3)


# ---- norms ------------------------------------------------------------------------------------

NORMS = [  # (lazy name, eager name, kwargs, input shape)
    ("LazyBatchNorm1d", "BatchNorm1d", {}, (6, 3)),
    ("LazyBatchNorm1d", "BatchNorm1d", {"momentum": None}, (4, 3, 5)),
    ("LazyBatchNorm2d", "BatchNorm2d", {"affine": False}, (3, 4, 2, 3)),
    ("LazyBatchNorm3d", "BatchNorm3d", {"track_running_stats": False, "eps": 1e-3},
     (2, 2, 3, 2, 3)),
    ("LazyInstanceNorm1d", "InstanceNorm1d", {}, (2, 3, 7)),  # torch's lazy defaults: affine
    ("LazyInstanceNorm1d", "InstanceNorm1d", {"affine": False, "track_running_stats": False},
     (1, 3, 7)),
    ("LazyInstanceNorm2d", "InstanceNorm2d", {"affine": True, "track_running_stats": True},
     (2, 4, 3, 5)),
    ("LazyInstanceNorm3d", "InstanceNorm3d", {"affine": True, "bias": False},
     (2, 2, 3, 3, 4)),
]


def _norm_repr(m):
    return repr(m).replace(", mode=train", "")  # ours adds the mode


@pytest.mark.filterwarnings("ignore:input's size at dim=1 does not match")  # torch's
@pytest.mark.parametrize("lazy,eager,kwargs,shape", NORMS, ids=[f"{c[0]}-{c[3]}" for c in NORMS])
def test_lazy_norm_becomes_torchs_layer(torch, lazy, eager, kwargs, shape):
    ours = getattr(nn, lazy)(dtype=np.float64, **kwargs)
    theirs = getattr(torch.nn, lazy)(dtype=torch.float64, **kwargs)
    assert _norm_repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    opt = optim.SGD(ours.parameters(), lr=0.1) if ours.affine else None
    rng = np.random.default_rng(4)
    a = rng.standard_normal(shape) * 2 + 1
    x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = ours(x), theirs(tx)
    assert type(ours) is getattr(nn, eager) and type(theirs) is getattr(torch.nn, eager)
    if not (ours.affine or ours.track_running_stats):
        # nothing to size: torch keeps num_features=0 (and warns at every call); ours reads it
        assert theirs.num_features == 0 and ours.num_features == shape[1]
        theirs.num_features = shape[1]
    assert _norm_repr(ours) == repr(theirs)
    assert _shapes(ours.state_dict()) == _shapes(theirs.state_dict())
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    for k, v in theirs.state_dict().items():  # running statistics and the counter
        np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), rtol=1e-12,
                                   err_msg=k)
    g = rng.standard_normal(out.shape)
    out.backward(Tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-11)
    for (k, p), t in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-10, err_msg=k)
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(ours(Tensor(a)).numpy(), theirs(torch.tensor(a)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    if opt is not None:  # the optimizer built before holds the materialized parameters
        opt.step()
        assert not np.array_equal(ours.weight.numpy(), np.ones(ours.num_features))


def test_lazy_norm_float32_and_gradcheck():
    m = nn.LazyBatchNorm2d()
    m(Tensor(np.random.default_rng(5).standard_normal((3, 2, 2, 2)).astype(np.float32)))
    assert m.weight.dtype == m.running_mean.dtype == np.float32 and m.num_features == 2
    assert int(m.num_batches_tracked.item()) == 1
    d = nn.LazyInstanceNorm1d(affine=True, dtype=np.float64)
    x = Tensor(np.random.default_rng(6).standard_normal((2, 3, 5)), requires_grad=True)
    d(x)
    assert tg.gradcheck(lambda t: d(t), [x])
    assert tg.gradgradcheck(lambda t: d(t), [x])


def test_lazy_instance_norm_unbatched_reads_the_channel_axis(torch):
    # torch 2.13 reads dim 1 (the length, 5) and then refuses its own weight; ours reads dim 0
    a = np.random.default_rng(7).standard_normal((3, 5))
    ours = nn.LazyInstanceNorm1d(affine=True, dtype=np.float64)
    out = ours(Tensor(a))
    assert ours.num_features == 3 and ours.weight.shape == (3,)
    theirs = torch.nn.InstanceNorm1d(3, affine=True, dtype=torch.float64)
    np.testing.assert_allclose(out.numpy(), theirs(torch.tensor(a)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="num_features"):
        torch.nn.LazyInstanceNorm1d(affine=True)(torch.tensor(a, dtype=torch.float32))


@pytest.mark.parametrize("lazy,bad_ndim,msg", [
    ("LazyBatchNorm1d", 4, "expected 2D or 3D input \\(got 4D input\\)"),
    ("LazyBatchNorm2d", 3, "expected 4D input \\(got 3D input\\)"),
    ("LazyBatchNorm3d", 4, "expected 5D input \\(got 4D input\\)"),
    ("LazyInstanceNorm2d", 2, "expected 3D or 4D input \\(got 2D input\\)")])
def test_lazy_norm_errors_as_torch_and_nothing_changes(torch, lazy, bad_ndim, msg):
    ours, theirs = getattr(nn, lazy)(), getattr(torch.nn, lazy)()
    a = np.zeros((2,) * bad_ndim, np.float32)
    with pytest.raises(ValueError, match=msg):
        ours(Tensor(a))
    with pytest.raises(ValueError, match=msg):
        theirs(torch.tensor(a))
    # torch has already become the eager layer here; ours is untouched
    assert type(ours).__name__ == lazy and ours.num_features == 0
    assert all(v.shape in ((0,), ()) for v in ours.state_dict().values())
    with pytest.raises(TypeError, match="dtype"):
        ours(Tensor(np.zeros((2,) * (bad_ndim + 1))))
    assert type(ours).__name__ == lazy


def test_lazy_norm_construction_errors_and_no_channels():
    with pytest.raises(TypeError, match="affine"):
        nn.LazyBatchNorm1d(affine=1)
    with pytest.raises(ValueError, match="momentum"):
        nn.LazyBatchNorm2d(momentum=float("inf"))
    with pytest.raises(TypeError, match="eps"):
        nn.LazyInstanceNorm1d(eps="small")
    m = nn.LazyBatchNorm1d()
    with pytest.raises(ValueError, match="no channels"):
        m(Tensor(np.zeros((4, 0), np.float32)))
    assert type(m) is nn.LazyBatchNorm1d
    m.initialize_parameters(Tensor(np.zeros((4, 6), np.float32)))
    assert type(m) is nn.BatchNorm1d and m.running_var.shape == (6,)
