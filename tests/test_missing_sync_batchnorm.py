"""nn.SyncBatchNorm against ``torch.nn.SyncBatchNorm`` in one process (no process group, where
torch falls back to plain batch norm): outputs, running estimates, the batch counter and the
gradients of input, weight and bias under a random upstream gradient, over several steps, in
train and eval, inputs of rank 2 to 6, float64 to 1e-10 and float32 to 1e-5; momentum None,
no running statistics, no affine; gradcheck and gradgradcheck; torch's errors; and
``convert_sync_batchnorm`` converting a model as torch's does (the same parameter and buffer
objects, the mode, nested children, the state-dict keys)."""
from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor, nn

from conftest import gradchecks

SHAPES = [(6, 3), (4, 3, 5), (2, 3, 4, 5), (2, 3, 2, 3, 2), (2, 3, 2, 1, 2, 2)]
CONFIGS = [dict(), dict(momentum=None), dict(track_running_stats=False), dict(affine=False),
           dict(momentum=0.3, eps=1e-3, bias=False)]


def _pair(torch, dtype, **kw):
    ours = nn.SyncBatchNorm(3, dtype=dtype, **kw)
    theirs = torch.nn.SyncBatchNorm(3, dtype=getattr(torch, np.dtype(dtype).name), **kw)
    rng = np.random.default_rng(7)
    if ours.weight is not None:  # not the ones/zeros they start with: a swapped term shows
        w = rng.standard_normal(3).astype(dtype)
        ours.weight.data[...] = w
        theirs.weight.data.copy_(torch.from_numpy(w))
    if ours.bias is not None:
        b = rng.standard_normal(3).astype(dtype)
        ours.bias.data[...] = b
        theirs.bias.data.copy_(torch.from_numpy(b))
    return ours, theirs


def _step(torch, ours, theirs, x, up, rtol):
    xs, ts = Tensor(x.copy(), requires_grad=True), torch.tensor(x.copy(), requires_grad=True)
    out, ref = ours(xs), theirs(ts)
    scale = max(1.0, float(np.abs(ref.detach().numpy()).max()))
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=rtol, atol=rtol * scale)
    assert out.dtype == x.dtype
    out.backward(Tensor(up))
    ref.backward(torch.from_numpy(up))
    pairs = [(xs, ts)] + [(getattr(ours, n), getattr(theirs, n)) for n in ("weight", "bias")
                          if getattr(ours, n) is not None]
    for a, b in pairs:
        s = max(1.0, float(np.abs(b.grad.numpy()).max()))
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=rtol * s)


def _same_buffers(ours, theirs, rtol):
    for name in ("running_mean", "running_var"):
        a, b = getattr(ours, name), getattr(theirs, name)
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=rtol, atol=rtol)
    if theirs.num_batches_tracked is not None:
        assert int(ours.num_batches_tracked.numpy()) == int(theirs.num_batches_tracked)


@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-10), (np.float32, 1e-5)],
                         ids=["f64", "f32"])
def test_train_then_eval_matches_torch(torch, shape, cfg, dtype, rtol):
    ours, theirs = _pair(torch, dtype, **cfg)
    rng = np.random.default_rng(0)
    for _ in range(3):  # the running estimates accumulate over steps
        x = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype)
        _step(torch, ours, theirs, x, rng.standard_normal(shape).astype(dtype), rtol)
        for p in list(ours.parameters()) + list(theirs.parameters()):
            p.grad = None
        _same_buffers(ours, theirs, rtol)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal(shape).astype(dtype)
    _step(torch, ours, theirs, x, rng.standard_normal(shape).astype(dtype), rtol)
    _same_buffers(ours, theirs, rtol)


def test_gradcheck_and_gradgradcheck_in_train_and_eval():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((4, 3, 2)), rng.standard_normal(3), rng.standard_normal(3)
    m = nn.SyncBatchNorm(3, track_running_stats=False, dtype=np.float64)
    call = tg.func.functional_call
    gradchecks(lambda x, w, b: call(m, {"weight": w, "bias": b}, (x,)), [x, w, b])
    m2 = nn.SyncBatchNorm(3, dtype=np.float64).eval()
    m2.running_mean.data[...] = rng.standard_normal(3)
    m2.running_var.data[...] = rng.random(3) + 0.5
    gradchecks(lambda x, w, b: call(m2, {"weight": w, "bias": b}, (x,)), [x, w, b])


@pytest.mark.parametrize("shape,mode", [((5,), "train"), ((5,), "eval"), ((4, 0, 2), "train")],
                         ids=str)
def test_errors_are_torchs(torch, shape, mode):
    theirs = getattr(torch.nn.SyncBatchNorm(3), mode)()
    with pytest.raises(ValueError) as err:
        theirs(torch.zeros(shape))
    ours = getattr(nn.SyncBatchNorm(3), mode)()
    before = ours.running_mean.numpy().copy()
    with pytest.raises(ValueError, match="^" + re.escape(str(err.value)) + "$"):
        ours(tg.zeros(*shape))
    np.testing.assert_array_equal(ours.running_mean.numpy(), before)
    assert int(ours.num_batches_tracked.numpy()) == 0


def test_one_value_per_channel_in_training_is_refused_as_torch(torch):
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        torch.nn.SyncBatchNorm(3)(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        nn.SyncBatchNorm(3)(tg.zeros(1, 3))


def test_constructor_checks_and_signature():
    m = nn.SyncBatchNorm(4, 1e-3, 0.2, True, True, "group", "cpu", np.float64)  # torch's order
    assert m.process_group == "group" and m.weight.dtype == np.float64 and m.eps == 1e-3
    with pytest.raises(ValueError, match="SyncBatchNorm: device 'cuda' is not available"):
        nn.SyncBatchNorm(3, device="cuda")
    with pytest.raises(TypeError, match="num_features must be an int"):
        nn.SyncBatchNorm(3.0)


def test_state_dict_keys_and_repr_match_torch(torch):
    ours, theirs = nn.SyncBatchNorm(3), torch.nn.SyncBatchNorm(3)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours).startswith(repr(theirs)[:-1])  # ours adds the mode


def _models(lib, dtype=None):
    kw = {} if dtype is None else {"dtype": dtype}
    return lib.Sequential(lib.Conv2d(3, 3, 1, **kw), lib.BatchNorm2d(3, **kw),
                          lib.Sequential(lib.BatchNorm1d(3, momentum=0.3, affine=False, **kw),
                                         lib.BatchNorm3d(3, track_running_stats=False, **kw)),
                          lib.ReLU())


def test_convert_sync_batchnorm_matches_torchs_structure(torch):
    ours, theirs = _models(nn), _models(torch.nn)
    ours[1].eval()
    theirs[1].eval()
    kept = (ours[1].weight, ours[1].running_mean, ours[2][0].num_batches_tracked)
    out = nn.SyncBatchNorm.convert_sync_batchnorm(ours, process_group="pg")
    tout = torch.nn.SyncBatchNorm.convert_sync_batchnorm(theirs)
    assert out is ours and tout is theirs  # the model itself, converted in place
    names = [(n, type(m).__name__) for n, m in out.named_modules()]
    assert names == [(n, type(m).__name__) for n, m in tout.named_modules()]
    assert [m.training for m in out.modules()] == [m.training for m in tout.modules()]
    assert list(out.state_dict()) == list(tout.state_dict())
    assert out[1].weight is kept[0] and out[1].running_mean is kept[1]
    assert out[2][0].num_batches_tracked is kept[2]
    assert out[1].process_group == "pg"
    for a, b in zip(out.modules(), tout.modules()):
        if isinstance(b, torch.nn.SyncBatchNorm):
            assert (a.num_features, a.eps, a.momentum, a.affine, a.track_running_stats) == \
                (b.num_features, b.eps, b.momentum, b.affine, b.track_running_stats)
            assert (a.bias is None) == (b.bias is None)


def test_converting_a_batch_norm_itself_returns_a_new_layer_of_its_dtype(torch):
    bn = nn.BatchNorm1d(3, dtype=np.float64)
    sbn = nn.SyncBatchNorm.convert_sync_batchnorm(bn)
    assert isinstance(sbn, nn.SyncBatchNorm) and sbn is not bn
    assert sbn.weight is bn.weight and sbn.dtype == np.float64
    tbn = torch.nn.BatchNorm1d(3)
    assert type(torch.nn.SyncBatchNorm.convert_sync_batchnorm(tbn)).__name__ == "SyncBatchNorm"
    # the converted layer computes what the batch norm computed, on any rank
    x = Tensor(np.random.default_rng(2).standard_normal((5, 3, 4)))
    np.testing.assert_array_equal(sbn(x).numpy(),
                                  nn.BatchNorm1d(3, dtype=np.float64)(x).numpy())
    plain = nn.Linear(2, 2)
    assert nn.SyncBatchNorm.convert_sync_batchnorm(plain) is plain
