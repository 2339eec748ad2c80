"""The remaining torch.nn names: UninitializedParameter/Buffer (and the lazy modules carrying
them), Container, Module.to_empty/compile/xpu/ipu/mtia, nn.parameter, nn.grad (= F.grad) against
torch 2.13, and the deprecated init / clip_grad_norm spellings with torch's warnings."""
from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn

from conftest import assert_scaled_close  # noqa: E402


# ---- UninitializedParameter / UninitializedBuffer ----------------------------------------------
def test_uninitialized_parameter_and_buffer():
    p = nn.UninitializedParameter()
    assert isinstance(p, nn.UninitializedParameter) and isinstance(p, nn.Parameter)
    assert not isinstance(p, nn.UninitializedBuffer) and p.requires_grad
    p.materialize((2, 3), dtype=np.float64)
    assert p.shape == (2, 3) and p.dtype == np.float64 and not p.data.any()
    assert isinstance(p, nn.Parameter) and not isinstance(p, nn.UninitializedParameter)
    assert not hasattr(p, "materialize")  # a plain parameter now, as torch's cls_to_become
    b = nn.UninitializedBuffer(persistent=False)
    assert isinstance(b, nn.UninitializedBuffer) and isinstance(b, nn.Buffer)
    assert not b.requires_grad
    m = nn.Module()
    m.stats = b
    assert list(dict(m.named_buffers())) == ["stats"] and "stats" not in m.state_dict()
    b.materialize(4)
    assert b.shape == (4,) and not isinstance(b, nn.UninitializedBuffer)
    assert nn.parameter.is_lazy(nn.UninitializedParameter())
    assert not nn.parameter.is_lazy(nn.Parameter(np.zeros(2)))
    from tinygrad_norm.nn.parameter import Buffer, Parameter  # torch's import path
    assert Parameter is nn.Parameter and Buffer is nn.Buffer


def test_materialize_errors():
    p = nn.UninitializedParameter()
    with pytest.raises(ValueError, match="shape must hold non-negative ints"):
        p.materialize((2, -1))
    with pytest.raises(ValueError, match="materialize\\(\\)"):
        p.materialize((2,), device="cuda")
    assert isinstance(p, nn.UninitializedParameter)  # unchanged by the refused calls


@pytest.mark.parametrize("make,x,names", [
    (lambda: nn.LazyLinear(3), np.ones((2, 4), np.float32), ("weight", "bias")),
    (lambda: nn.LazyConv2d(4, 1), np.ones((1, 2, 3, 3), np.float32), ("weight", "bias")),
    (lambda: nn.LazyBatchNorm1d(), np.ones((2, 3), np.float32), ("weight", "bias")),
])
def test_lazy_modules_hold_uninitialized_parameters_as_torch(torch, make, x, names):
    m = make()
    assert m.has_uninitialized_params()
    for n in names:
        assert isinstance(getattr(m, n), nn.UninitializedParameter), n
    tm = getattr(torch.nn, type(m).__name__)(*([3] if "Linear" in type(m).__name__ else
                                                [4, 1] if "Conv" in type(m).__name__ else []))
    for n in names:
        assert isinstance(getattr(tm, n), torch.nn.UninitializedParameter)
    m(Tensor(x))
    for n in names:
        p = getattr(m, n)
        assert isinstance(p, nn.Parameter) and not isinstance(p, nn.UninitializedParameter)


def test_lazy_norm_running_stats_are_uninitialized_buffers(torch):
    m, tm = nn.LazyBatchNorm1d(), torch.nn.LazyBatchNorm1d()
    for n in ("running_mean", "running_var"):
        assert isinstance(getattr(m, n), nn.UninitializedBuffer)
        assert isinstance(getattr(tm, n), torch.nn.UninitializedBuffer)
    assert not isinstance(m.num_batches_tracked, nn.UninitializedBuffer)  # torch's: a plain one
    m(Tensor(np.ones((2, 3), np.float32)))
    assert not isinstance(m.running_mean, nn.UninitializedBuffer) and m.running_mean.shape == (3,)


def test_a_failed_first_call_leaves_the_parameters_uninitialized():
    m = nn.LazyConv2d(4, 3)
    with pytest.raises(ValueError):
        m(Tensor(np.ones((1, 2, 2, 2), np.float32)))  # smaller than the kernel
    assert isinstance(m.weight, nn.UninitializedParameter) and m.has_uninitialized_params()
    m(Tensor(np.ones((1, 2, 4, 4), np.float32)))
    assert not isinstance(m.weight, nn.UninitializedParameter)


def test_uninitialized_survive_deepcopy_and_pickle():
    for m in (copy.deepcopy(nn.LazyLinear(3)), pickle.loads(pickle.dumps(nn.LazyLinear(3)))):
        assert isinstance(m.weight, nn.UninitializedParameter)
        m(Tensor(np.ones((2, 5), np.float32)))
        assert m.weight.shape == (3, 5) and not isinstance(m.weight, nn.UninitializedParameter)


# ---- Container, Module extras -----------------------------------------------------------------
def test_container_as_torch(torch):
    with pytest.warns(FutureWarning, match="`nn.Container` is deprecated"):
        c = nn.Container(a=nn.Linear(1, 2), b=nn.ReLU())
    with pytest.warns(FutureWarning):
        tc = torch.nn.Container(a=torch.nn.Linear(1, 2), b=torch.nn.ReLU())
    assert [n for n, _ in c.named_children()] == [n for n, _ in tc.named_children()]
    assert list(c.state_dict()) == list(tc.state_dict())


def test_to_empty():
    tg.manual_seed(0)
    m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    opt = tg.optim.SGD(m.parameters(), lr=0.1)
    w = m[0].weight
    assert m.to_empty(device="cpu") is m
    assert m[0].weight is w and w.shape == (2 * 0 + 3, 2) and not w.data.any()
    assert not m[1].running_var.data.any() and opt.param_groups[0]["params"][0] is w
    tg.manual_seed(0)
    m2 = nn.Sequential(nn.Linear(2, 3))
    m2.to_empty(device=None, recurse=False)  # the Sequential holds nothing of its own
    assert m2[0].weight.data.any()
    with pytest.raises(ValueError, match="to_empty"):
        m.to_empty(device="cuda")
    with pytest.raises(TypeError):
        m.to_empty("cpu")  # device is keyword-only, as torch's


def test_module_compile_and_other_devices():
    m = nn.Linear(2, 2)
    w = m.weight.data.copy()
    assert m.compile() is None
    np.testing.assert_array_equal(m.weight.data, w)
    for f in (m.xpu, m.ipu, m.mtia):
        with pytest.raises(ValueError, match="is not available"):
            f()
    assert nn.Module.call_super_init is False and nn.Module.dump_patches is False


# ---- deprecated spellings ----------------------------------------------------------------------
@pytest.mark.parametrize("name,args", [("uniform", (-1.0, 1.0)), ("normal", (0.0, 2.0)),
                                       ("constant", (3.0,)), ("xavier_uniform", ()),
                                       ("xavier_normal", ()), ("kaiming_uniform", ()),
                                       ("kaiming_normal", ()), ("orthogonal", ()),
                                       ("sparse", (0.5,)), ("eye", ()), ("dirac", ())])
def test_deprecated_init_warns_and_fills_as_the_underscored(name, args):
    shape = (4, 4, 3) if name == "dirac" else (4, 5)
    a, b = Tensor(np.zeros(shape)), Tensor(np.zeros(shape))
    tg.manual_seed(1)
    with pytest.warns(FutureWarning, match=f"`nn.init.{name}` is now deprecated in favor of "
                                           f"`nn.init.{name}_`"):
        assert getattr(nn.init, name)(a, *args) is a
    tg.manual_seed(1)
    getattr(nn.init, name + "_")(b, *args)
    np.testing.assert_array_equal(a.data, b.data)


def test_clip_grad_norm_deprecated(torch):
    p = nn.Parameter(np.ones(4))
    p.grad = Tensor(np.full(4, 2.0))
    with pytest.warns(FutureWarning, match="`torch.nn.utils.clip_grad_norm` is now deprecated"):
        total = nn.utils.clip_grad_norm([p], 1.0)
    tp = torch.nn.Parameter(torch.ones(4, dtype=torch.float64))
    tp.grad = torch.full((4,), 2.0, dtype=torch.float64)
    with pytest.warns(FutureWarning):
        ttotal = torch.nn.utils.clip_grad_norm([tp], 1.0)
    assert float(total.item()) == pytest.approx(float(ttotal))
    np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-12)


# ---- nn.grad -------------------------------------------------------------------------------------
GRAD_CASES = [(1, (2, 4, 9), (6, 2, 3), dict(stride=2, padding=1, dilation=1, groups=2)),
              (2, (2, 3, 7, 6), (4, 3, 3, 2), dict(stride=1, padding=(1, 0), dilation=2)),
              (2, (1, 4, 8, 8), (4, 1, 3, 3), dict(stride=3, padding=1, groups=4)),
              (3, (1, 2, 5, 4, 4), (3, 2, 2, 3, 2), dict(stride=(1, 2, 1), padding=1))]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", range(len(GRAD_CASES)))
def test_nn_grad_matches_torch(torch, case, dtype):
    d, xs, ws, kw = GRAD_CASES[case]
    rng = np.random.default_rng(case)
    x, w = rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype)
    conv = getattr(torch.nn.functional, f"conv{d}d")
    g = rng.standard_normal(conv(torch.from_numpy(x), torch.from_numpy(w), **kw).shape
                            ).astype(dtype)
    rtol = 1e-10 if dtype == np.float64 else 2e-5
    assert nn.grad is F.grad
    for kind in ("input", "weight"):
        ours = getattr(nn.grad, f"conv{d}d_{kind}")
        theirs = getattr(torch.nn.grad, f"conv{d}d_{kind}")
        if kind == "input":
            a = ours(xs, Tensor(w), Tensor(g), **kw)
            b = theirs(xs, torch.from_numpy(w), torch.from_numpy(g), **kw)
        else:
            a = ours(Tensor(x), ws, Tensor(g), **kw)
            b = theirs(torch.from_numpy(x), ws, torch.from_numpy(g), **kw)
        assert_scaled_close(a.data, b.numpy(), rtol, f"conv{d}d_{kind}")


def test_nn_grad_is_differentiable():
    rng = np.random.default_rng(0)
    w, g = (Tensor(rng.standard_normal(s), requires_grad=True) for s in ((3, 2, 2), (1, 3, 4)))
    assert tg.gradcheck(lambda w, g: nn.grad.conv1d_input((1, 2, 5), w, g), [w, g])
    x = Tensor(rng.standard_normal((1, 2, 5)), requires_grad=True)
    assert tg.gradcheck(lambda x, g: nn.grad.conv1d_weight(x, (3, 2, 2), g), [x, g])


def test_nn_grad_errors():
    w, g = Tensor(np.zeros((3, 2, 2))), Tensor(np.zeros((1, 3, 4)))
    with pytest.raises(ValueError, match="grad_output has shape \\(1, 3, 4\\), but the "
                                         "convolution's output has shape \\(1, 3, 5\\)"):
        nn.grad.conv1d_input((1, 2, 6), w, g)
    with pytest.raises(ValueError, match="input_size must be 3 non-negative ints"):
        nn.grad.conv1d_input((2, 6), w, g)
    with pytest.raises(TypeError, match="argument 'weight' must be Tensor"):
        nn.grad.conv1d_input((1, 2, 5), None, g)


def test_factory_kwargs_as_torch(torch):
    for kw in (None, {}, {"dtype": np.float32}, {"device": "cpu", "factory_kwargs": {"dtype": 1}}):
        assert nn.factory_kwargs(kw) == torch.nn.factory_kwargs(kw)
    for kw, words in (({"bias": True}, "unexpected kwargs {'bias'}"),
                      ({"dtype": 1, "factory_kwargs": {"dtype": 2}},
                       "dtype specified twice, in **kwargs and in factory_kwargs")):
        with pytest.raises(TypeError, match=words.replace("*", "\\*")):
            nn.factory_kwargs(kw)
        with pytest.raises(TypeError, match=words.replace("*", "\\*")):
            torch.nn.factory_kwargs(kw)


def test_grid_sample_tables_as_torch(torch):
    assert F.GRID_SAMPLE_INTERPOLATION_MODES == torch.nn.functional.GRID_SAMPLE_INTERPOLATION_MODES
    assert F.GRID_SAMPLE_PADDING_MODES == torch.nn.functional.GRID_SAMPLE_PADDING_MODES
