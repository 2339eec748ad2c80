"""The normalization layers of ``tinygrad_norm.nn`` against ``torch.nn``: several training steps
then evaluation -- outputs, gradients of input, weight and bias under random upstream gradients,
running statistics and batch counts after every step -- in float64 (rtol 1e-10) and float32 (rtol
1e-5), for every variation of affine / bias / track_running_stats / momentum; state_dict keys,
repr, dtype handling and every error, raised before any buffer changes."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from tinygrad_norm import Tensor, nn

RTOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5}


def _close(actual, expected, what):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    if actual.dtype.kind != "f":
        np.testing.assert_array_equal(actual, expected, err_msg=what)
        return
    rtol = RTOL[actual.dtype]
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, equal_nan=False,
                               err_msg=what)


def _tdtype(torch, dtype):
    return {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[np.dtype(dtype)]


def _pair(torch, name, args, kwargs, dtype):
    """Our layer and torch's, built alike; torch's parameters randomized and copied into ours."""
    ours = getattr(nn, name)(*args, **kwargs, dtype=dtype)
    theirs = getattr(torch.nn, name)(*args, **kwargs, dtype=_tdtype(torch, dtype))
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(1 + 0.3 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _step(torch, ours, theirs, x, seed, what):
    """One forward and backward on both; compare everything observable afterwards."""
    g = np.random.default_rng(seed).standard_normal(x.shape).astype(x.dtype)
    xt, tx = Tensor(x.copy(), requires_grad=True), torch.tensor(x.copy(), requires_grad=True)
    ours.zero_grad()
    theirs.zero_grad()
    y, ty = ours(xt), theirs(tx)
    _close(y.data, ty.detach().numpy(), f"{what}: output")
    y.backward(g)
    ty.backward(torch.from_numpy(g.copy()))
    _close(xt.grad.data, tx.grad.numpy(), f"{what}: input gradient")
    tparams = dict(theirs.named_parameters())
    for k, p in ours.named_parameters():
        _close(p.grad.data, tparams[k].grad.numpy(), f"{what}: gradient of {k}")
    _compare_state(ours, theirs, what)


def _compare_state(ours, theirs, what):
    mine, want = ours.state_dict(), theirs.state_dict()
    assert list(mine) == list(want), f"{what}: state_dict keys {list(mine)} != {list(want)}"
    for k, v in mine.items():
        _close(v.data, want[k].numpy(), f"{what}: {k}")


CONFIGS = [
    ("BatchNorm1d", (4,), {}, (5, 4)),
    ("BatchNorm1d", (4,), {}, (3, 4, 5)),
    ("BatchNorm1d", (4,), {"momentum": None}, (5, 4)),
    ("BatchNorm1d", (4,), {"momentum": 0.3, "eps": 1e-3}, (3, 4, 2)),
    ("BatchNorm1d", (4,), {"affine": False}, (5, 4)),
    ("BatchNorm1d", (4,), {"track_running_stats": False}, (5, 4)),
    ("BatchNorm1d", (4,), {"bias": False}, (5, 4)),
    ("BatchNorm2d", (3,), {}, (2, 3, 4, 5)),
    ("BatchNorm2d", (3,), {"momentum": None}, (2, 3, 2, 3)),
    ("BatchNorm2d", (3,), {"affine": False, "track_running_stats": False}, (2, 3, 2, 3)),
    ("BatchNorm3d", (3,), {}, (2, 3, 2, 3, 2)),
    ("BatchNorm3d", (3,), {"momentum": None, "affine": False}, (2, 3, 2, 2, 2)),
    ("LayerNorm", (5,), {}, (4, 5)),
    ("LayerNorm", ((2, 5),), {"eps": 1e-3}, (3, 2, 5)),
    ("LayerNorm", ([3, 4],), {"elementwise_affine": False}, (2, 3, 4)),
    ("LayerNorm", (5,), {"bias": False}, (2, 3, 5)),
    ("RMSNorm", (5,), {}, (4, 5)),
    ("RMSNorm", ((2, 5),), {"eps": 1e-3}, (3, 2, 5)),
    ("RMSNorm", ([3, 4],), {"elementwise_affine": False}, (2, 3, 4)),
    ("GroupNorm", (2, 4), {}, (3, 4, 5)),
    ("GroupNorm", (3, 6), {"eps": 1e-3}, (2, 6, 2, 3)),
    ("GroupNorm", (1, 3), {}, (4, 3)),
    ("GroupNorm", (3, 3), {"affine": False}, (4, 3, 2, 3)),
    ("GroupNorm", (2, 4), {"bias": False}, (3, 4, 5)),
    ("InstanceNorm1d", (3,), {}, (4, 3, 6)),
    ("InstanceNorm1d", (3,), {}, (3, 6)),
    ("InstanceNorm1d", (3,), {"affine": True, "track_running_stats": True, "momentum": 0.3},
     (4, 3, 6)),
    ("InstanceNorm1d", (3,), {"track_running_stats": True}, (3, 6)),
    ("InstanceNorm2d", (3,), {}, (2, 3, 4, 4)),
    ("InstanceNorm2d", (3,), {"affine": True}, (3, 4, 4)),
    ("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True}, (2, 3, 3, 4)),
    ("InstanceNorm2d", (3,), {"track_running_stats": True, "momentum": None}, (2, 3, 3, 4)),
    ("InstanceNorm2d", (3,), {"affine": True, "bias": False}, (2, 3, 3, 4)),
    ("InstanceNorm3d", (3,), {}, (2, 3, 2, 3, 2)),
    ("InstanceNorm3d", (3,), {"affine": True, "track_running_stats": True}, (3, 2, 3, 2)),
]


def _id(c):
    return f"{c[0]}{c[1]}{c[2] or ''}{c[3]}".replace(" ", "")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("config", CONFIGS, ids=[_id(c) for c in CONFIGS])
def test_module_matches_torch_over_training_steps_then_eval(torch, config, dtype):
    name, args, kwargs, shape = config
    ours, theirs = _pair(torch, name, args, kwargs, dtype)
    rng = np.random.default_rng(1)
    for step in range(3):
        x = (rng.standard_normal(shape) * (1 + step) + step).astype(dtype)
        _step(torch, ours, theirs, x, 100 + step, f"{name} train step {step}")
    ours.eval()
    theirs.eval()
    x = (rng.standard_normal(shape) + 0.5).astype(dtype)
    _step(torch, ours, theirs, x, 200, f"{name} eval")
    ours.train()
    theirs.train()
    _step(torch, ours, theirs, x, 300, f"{name} train again")


@pytest.mark.parametrize("config", CONFIGS, ids=[_id(c) for c in CONFIGS])
def test_repr_is_torchs_and_shows_the_mode(torch, config):
    name, args, kwargs, _ = config
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)[:-1] + ", mode=train)"
    ours.eval()
    assert repr(ours) == repr(theirs)[:-1] + ", mode=eval)"


def test_batch_norm_defaults():
    bn = nn.BatchNorm2d(3)
    assert bn.weight.dtype == bn.bias.dtype == bn.running_mean.dtype == np.float32
    np.testing.assert_array_equal(bn.weight.data, 1)
    np.testing.assert_array_equal(bn.bias.data, 0)
    np.testing.assert_array_equal(bn.running_mean.data, 0)
    np.testing.assert_array_equal(bn.running_var.data, 1)
    assert bn.num_batches_tracked.shape == () and bn.num_batches_tracked.dtype == np.int64
    assert not bn.running_mean.requires_grad and bn.weight.requires_grad
    off = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert off.weight is None and off.bias is None and off.running_mean is None
    assert off.num_batches_tracked is None and list(off.state_dict()) == []
    assert nn.LayerNorm(5).normalized_shape == (5,)
    assert nn.LayerNorm([2, 3]).normalized_shape == (2, 3)


def test_cumulative_average_after_several_batches(torch):
    ours, theirs = _pair(torch, "BatchNorm1d", (3,), {"momentum": None}, np.float64)
    xs = [np.random.default_rng(i).standard_normal((6, 3)) * (i + 1) for i in range(5)]
    for x in xs:
        ours(Tensor(x))
        theirs(torch.tensor(x))
    _compare_state(ours, theirs, "momentum=None")
    np.testing.assert_allclose(ours.running_mean.data, np.mean([x.mean(0) for x in xs], 0),
                               rtol=1e-12)
    assert int(ours.num_batches_tracked.data) == 5


# ---- dtype ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda **k: nn.BatchNorm1d(3, **k), lambda **k: nn.LayerNorm(3, **k),
                                  lambda **k: nn.GroupNorm(1, 3, **k),
                                  lambda **k: nn.InstanceNorm1d(3, **k),
                                  lambda **k: nn.InstanceNorm1d(3, affine=True, **k)],
                         ids=["BatchNorm1d", "LayerNorm", "GroupNorm", "InstanceNorm1d",
                              "InstanceNorm1d-affine"])
def test_dtype_is_declared_converted_and_checked(make):
    x32 = Tensor(np.random.default_rng(0).standard_normal((2, 3, 3)).astype(np.float32))
    x64 = Tensor(x32.data.astype(np.float64))
    m = make()
    assert m(x32).dtype == np.float32
    with pytest.raises(TypeError, match=r"input has dtype float64 but the module's parameters are "
                                        r"float32.*astype\(np\.float32\).*\.to\(np\.float64\)"):
        m(x64)
    m.double()
    assert m(x64).dtype == np.float64
    for b in m.buffers():
        assert b.dtype == (np.int64 if b.ndim == 0 else np.float64)
    with pytest.raises(TypeError, match="float32"):
        m(x32)
    m2 = make(dtype=np.float64)
    assert m2(x64).dtype == np.float64
    with pytest.raises(TypeError, match="dtype int64"):
        m2(Tensor(np.ones((2, 3, 3), dtype=np.int64)))
    with pytest.raises(TypeError, match="must be a Tensor"):
        m2(np.ones((2, 3, 3)))


def test_dtype_argument_must_be_floating_point():
    with pytest.raises(TypeError, match="BatchNorm1d: dtype must be a floating-point type, got int32"):
        nn.BatchNorm1d(3, dtype=np.int32)


# ---- errors ------------------------------------------------------------------------------------------

def _snapshot(m):
    return {k: v.data.copy() for k, v in m.state_dict().items()}


def _assert_unchanged(m, before):
    after = _snapshot(m)
    assert list(after) == list(before)
    for k in before:
        np.testing.assert_array_equal(after[k], before[k], err_msg=f"{k} changed by a failing call")


def _tracked_bn1d():
    m = nn.BatchNorm1d(3, dtype=np.float64)
    m(Tensor(np.random.default_rng(0).standard_normal((4, 3))))  # non-trivial state first
    return m


ERRORS = [
    (_tracked_bn1d, (3,), ValueError, r"expected 2D or 3D input \(got 1D input\)"),
    (_tracked_bn1d, (2, 3, 4, 5), ValueError, r"expected 2D or 3D input \(got 4D input\)"),
    (lambda: nn.BatchNorm2d(3, dtype=np.float64), (2, 3, 4), ValueError,
     r"expected 4D input \(got 3D input\)"),
    (_tracked_bn1d, (2, 4), ValueError, "running_mean should contain 4 elements not 3"),
    (lambda: nn.BatchNorm1d(3, track_running_stats=False, dtype=np.float64), (2, 4), ValueError,
     "weight should contain 4 elements not 3"),
    (_tracked_bn1d, (1, 3), ValueError,
     r"Expected more than 1 value per channel when training, got input size \(1, 3\)"),
    (_tracked_bn1d, (1, 3, 1), ValueError, "Expected more than 1 value per channel when training"),
    (lambda: nn.BatchNorm1d(3, eps=0.0, dtype=np.float64), (4, 3), ValueError,
     "eps must be positive"),
    (lambda: nn.BatchNorm1d(3, eps=-1.0, dtype=np.float64), (4, 3), ValueError,
     "eps must be positive"),
    (lambda: nn.LayerNorm(4, dtype=np.float64), (2, 5), ValueError,
     r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\], but got input of "
     r"size\[2, 5\]"),
    (lambda: nn.GroupNorm(2, 4, dtype=np.float64), (2, 6, 3), ValueError,
     r"Expected weight to be a vector of size equal to the number of channels in input, but got "
     r"weight of shape \[4\] and input of shape \[2, 6, 3\]"),
    (lambda: nn.GroupNorm(2, 4, dtype=np.float64), (4,), ValueError,
     "Expected at least 2 dimensions for input tensor but received 1"),
    (lambda: nn.GroupNorm(4, 4, dtype=np.float64).eval(), (1, 4), ValueError,
     r"Expected more than 1 value per channel when training, got input size \[1, 4\]"),
    (lambda: nn.InstanceNorm1d(3, dtype=np.float64), (2, 3, 4, 5), ValueError,
     r"expected 2D or 3D input \(got 4D input\)"),
    (lambda: nn.InstanceNorm2d(3, dtype=np.float64), (4, 5), ValueError,
     r"expected 3D or 4D input \(got 2D input\)"),
    (lambda: nn.InstanceNorm1d(3, affine=True, dtype=np.float64), (2, 4, 5), ValueError,
     r"expected input's size at dim=1 to match num_features \(3\), but got: 4\."),
    (lambda: nn.InstanceNorm1d(3, track_running_stats=True, dtype=np.float64), (2, 3, 1),
     ValueError,
     r"Expected more than 1 spatial element when training, got input size \(2, 3, 1\)"),
]


@pytest.mark.parametrize("make,shape,exc,match", ERRORS)
def test_forward_errors_leave_the_state_alone(make, shape, exc, match):
    m = make()
    before = _snapshot(m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc, match=match):
            m(Tensor(np.ones(shape)))
    _assert_unchanged(m, before)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: nn.GroupNorm(3, 4), ValueError, r"num_channels \(4\) must be divisible by num_groups \(3\)"),
    (lambda: nn.GroupNorm(3, 10), ValueError, r"num_channels \(10\) must be divisible by num_groups \(3\)"),
    (lambda: nn.GroupNorm(0, 4), ValueError, "num_groups must be positive"),
    (lambda: nn.BatchNorm1d(0), ValueError, "num_features must be positive"),
    (lambda: nn.BatchNorm1d(2.5), TypeError, "num_features must be an int"),
    (lambda: nn.BatchNorm1d(3, momentum="x"), TypeError, "momentum must be a real number or None"),
    (lambda: nn.LayerNorm("a"), TypeError, "normalized_shape"),
    (lambda: nn.LayerNorm((True,)), TypeError, "normalized_shape"),
    (lambda: nn.RMSNorm("4"), TypeError, "normalized_shape"),
    (lambda: nn.RMSNorm(4, eps="x"), TypeError, "eps must be a real number or None"),
])
def test_constructor_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_batch_of_one_is_fine_in_eval():
    m = _tracked_bn1d().eval()
    before = _snapshot(m)
    y = m(Tensor(np.ones((1, 3))))
    assert y.shape == (1, 3)
    _assert_unchanged(m, before)


def test_instance_norm_channel_mismatch_without_affine_warns_and_runs():
    m = nn.InstanceNorm1d(3, dtype=np.float64)
    with pytest.warns(UserWarning, match="input's size at dim=1 does not match num_features"):
        y = m(Tensor(np.random.default_rng(0).standard_normal((2, 4, 5))))
    assert y.shape == (2, 4, 5)


def test_batch_norm_without_affine_or_tracking_takes_any_channel_count():
    m = nn.BatchNorm1d(3, affine=False, track_running_stats=False, dtype=np.float64)
    assert m(Tensor(np.random.default_rng(0).standard_normal((4, 5)))).shape == (4, 5)


# ---- PyTorch's special cases ---------------------------------------------------------------------

def test_stats_not_tracked_after_construction(torch):
    """PyTorch's test_batchnorm_buffer_update_when_stats_are_not_tracked: switching
    track_running_stats off after construction freezes the buffers; eval still uses them."""
    ours, theirs = _pair(torch, "BatchNorm1d", (3,), {}, np.float64)
    ours(Tensor(np.random.default_rng(0).standard_normal((4, 3))))
    theirs(torch.tensor(np.random.default_rng(0).standard_normal((4, 3))))
    ours.track_running_stats = theirs.track_running_stats = False
    before = _snapshot(ours)
    x = np.random.default_rng(1).standard_normal((4, 3)) + 2
    _step(torch, ours, theirs, x, 5, "untracked train")
    _assert_unchanged(ours, before)
    ours.eval()
    theirs.eval()
    _step(torch, ours, theirs, x, 6, "untracked eval")


def test_empty_batch(torch):
    """PyTorch's test_BatchNorm_empty: the output keeps its shape, the buffers stay, the batch is
    counted, and the parameter gradients are zero."""
    ours, theirs = _pair(torch, "BatchNorm2d", (5,), {}, np.float64)
    before = _snapshot(ours)
    x = Tensor(np.zeros((0, 5, 2, 2)), requires_grad=True)
    y = ours(x)
    assert y.shape == (0, 5, 2, 2)
    y.backward(np.zeros(y.shape))
    np.testing.assert_array_equal(ours.weight.grad.data, 0)
    np.testing.assert_array_equal(ours.bias.grad.data, 0)
    after = _snapshot(ours)
    np.testing.assert_array_equal(after["running_mean"], before["running_mean"])
    np.testing.assert_array_equal(after["running_var"], before["running_var"])
    assert int(after["num_batches_tracked"]) == 1


def test_instance_norm_never_counts_batches():
    m = nn.InstanceNorm1d(3, track_running_stats=True, dtype=np.float64)
    m(Tensor(np.random.default_rng(0).standard_normal((2, 3, 4))))
    assert int(m.num_batches_tracked.data) == 0 and np.any(m.running_mean.data != 0)
    frozen = nn.InstanceNorm1d(3, track_running_stats=True, momentum=None, dtype=np.float64)
    frozen(Tensor(np.random.default_rng(0).standard_normal((2, 3, 4))))
    np.testing.assert_array_equal(frozen.running_mean.data, 0)
    np.testing.assert_array_equal(frozen.running_var.data, 1)


def test_running_stats_stay_off_the_tape_and_share_memory_with_the_state_dict():
    m = nn.BatchNorm1d(3, dtype=np.float64)
    sd = m.state_dict()
    x = Tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    m(x).backward(np.ones((4, 3)))
    assert m.running_mean._node is None and not m.running_mean.requires_grad
    np.testing.assert_array_equal(sd["running_mean"].data, m.running_mean.data)
    assert int(sd["num_batches_tracked"].data) == 1


def test_modes_propagate_through_a_container():
    model = nn.Sequential(nn.BatchNorm1d(3, dtype=np.float64), nn.LayerNorm(3, dtype=np.float64))
    x = Tensor(np.random.default_rng(0).standard_normal((4, 3)))
    model(x)
    model.eval()
    assert re.search(r"BatchNorm1d\(.*mode=eval\)", repr(model))
    before = model[0].running_mean.data.copy()
    model(x)
    np.testing.assert_array_equal(model[0].running_mean.data, before)


def test_dtype_none_means_float32_as_in_torch_and_to_none_is_refused():
    # np.dtype(None) is float64: None must not silently double every buffer.
    for make in (lambda: nn.BatchNorm1d(3, dtype=None), lambda: nn.BatchNorm2d(3, dtype=None),
                 lambda: nn.LayerNorm(3, dtype=None), lambda: nn.GroupNorm(1, 3, dtype=None),
                 lambda: nn.InstanceNorm1d(3, affine=True, dtype=None),
                 lambda: nn.InstanceNorm2d(3, track_running_stats=True, dtype=None)):
        m = make()
        assert all(t.dtype == np.float32 for t in list(m.parameters()) + list(m.buffers())
                   if t.dtype.kind == "f"), m
    m = nn.BatchNorm1d(3)
    assert m.to(None) is m  # torch's to(device=None): nothing to do, never a float64 conversion
    assert m.weight.dtype == np.float32


# ---- from a modules bug hunt against torch 2.13 --------------------------------------------------

def test_a_state_dict_without_the_batch_counter_loads_as_torch(torch):
    theirs = torch.nn.BatchNorm1d(3)
    sd = {k: v.numpy() for k, v in theirs.state_dict().items() if k != "num_batches_tracked"}
    sd["running_mean"] = np.arange(3.0, dtype=np.float32)
    ours = nn.BatchNorm1d(3)
    ours.num_batches_tracked.data[...] = 5
    theirs.num_batches_tracked.fill_(5)
    assert ours.load_state_dict(sd) == ([], [])  # was a KeyError: missing num_batches_tracked
    theirs.load_state_dict({k: torch.tensor(v) for k, v in sd.items()})
    # the counter keeps its value, as torch's (momentum=None averages with it)
    assert int(ours.num_batches_tracked.data) == int(theirs.num_batches_tracked) == 5
    np.testing.assert_array_equal(ours.running_mean.numpy(), [0.0, 1.0, 2.0])
    ours.load_state_dict({"weight": np.ones(3, np.float32)}, strict=False)  # partial load
    assert int(ours.num_batches_tracked.data) == 5
    seq = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    sd = {k: v for k, v in seq.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert seq.load_state_dict(sd) == ([], [])


def test_batch_norm_counts_batches_without_running_estimates_as_torch(torch):
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    ours, theirs = nn.BatchNorm1d(3, momentum=None), torch.nn.BatchNorm1d(3, momentum=None)
    ours.running_mean = ours.running_var = None
    theirs.running_mean = theirs.running_var = None
    for _ in range(2):
        ours(Tensor(x))
        theirs(torch.tensor(x))
    assert int(ours.num_batches_tracked.data) == int(theirs.num_batches_tracked) == 2


@pytest.mark.parametrize("make", [
    lambda N: N.BatchNorm1d(4, eps=1, momentum=1), lambda N: N.BatchNorm2d(4, eps=0),
    lambda N: N.LayerNorm(4, eps=1), lambda N: N.GroupNorm(2, 4, eps=0),
    lambda N: N.RMSNorm(4, eps=1), lambda N: N.InstanceNorm1d(4, eps=1, momentum=0)])
def test_int_arguments_print_as_torch(torch, make):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours).replace(", mode=train", "") == repr(theirs)
    assert type(ours.eps) is type(theirs.eps)


@pytest.mark.parametrize("cls", ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout"])
def test_dropout_p_prints_as_given(torch, cls):
    for p in (0, 1, 0.25):
        ours = repr(getattr(nn, cls)(p))
        theirs = repr(getattr(torch.nn, cls)(p))
        assert f"p={p}," in ours and f"p={p}," in theirs


@pytest.mark.parametrize("make", [
    lambda N: N.LayerNorm(4), lambda N: N.GroupNorm(2, 4), lambda N: N.RMSNorm(4),
    lambda N: N.BatchNorm1d(4), lambda N: N.LayerNorm(4, bias=False)])
def test_every_norm_resets_its_parameters_as_torch(torch, make):
    ours, theirs = make(nn), make(torch.nn)
    for p in ours.parameters():
        p.data[...] = 7
    with torch.no_grad():
        for p in theirs.parameters():
            p.fill_(7)
    ours.reset_parameters()
    theirs.reset_parameters()
    for (k, a), (k2, b) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert k == k2
        np.testing.assert_array_equal(a.numpy(), b.detach().numpy())
