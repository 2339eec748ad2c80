"""torch's in-place method spellings generated from one table in tensor.py (``frac_``,
``lerp_``, ``eq_``, ``tril_``, ``addmm_``, ``t_``, ...): values against torch 2.13, the tensor
itself returned, and the rules of the package's other in-place methods (a leaf that requires
grad refused, a source that requires grad refused, a graph that saved the written array refused
at backward as torch's version counters refuse it)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import tinygrad_norm as tg

RNG = np.random.default_rng(0)
X = RNG.uniform(0.1, 0.9, (3, 4))  # inside every unary's domain but acosh's (NaN in both)
O = RNG.uniform(0.2, 2.0, (3, 4))
M = RNG.standard_normal((4, 4))


def _both(a):
    return tg.tensor(a.copy()), torch.tensor(a.copy())


UNARY = ["frac", "rsqrt", "sign", "sgn", "square", "tan", "asin", "acos", "atan", "sinh", "cosh",
         "asinh", "acosh", "atanh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh",
         "arctanh", "log2", "log10", "log1p", "expm1", "exp2", "erf", "erfc", "erfinv", "lgamma",
         "digamma", "i0", "negative", "fix", "deg2rad", "rad2deg", "sinc", "logit",
         "logical_not"]
BINARY = ["fmod", "remainder", "floor_divide", "true_divide", "subtract", "multiply", "divide",
          "xlogy", "copysign", "hypot", "atan2", "arctan2", "logical_and", "logical_or",
          "logical_xor", "eq", "ne", "lt", "le", "gt", "ge", "greater", "less", "greater_equal",
          "less_equal", "not_equal"]
WITH_ARGS = {  # name: (tinygrad_norm args, torch args), tensors given as arrays
    "logit": ((0.2,), (0.2,)),
    "polygamma": ((1,), (1,)),
    "mvlgamma": ((1,), (1,)),
    "lerp": ((O, 0.3), (O, 0.3)),
    "addcmul": ((O, O), (O, O)),
    "subtract": ((O,), (O,)),
    "divide": ((O,), (O,)),
    "tril": ((1,), (1,)),
    "triu": ((-1,), (-1,)),
    "cumsum": ((1,), (1,)),
    "cumprod": ((0,), (0,)),
    "renorm": ((2, 0, 0.5), (2, 0, 0.5)),
}


def _args(values, lib):
    return tuple(lib.tensor(v) if isinstance(v, np.ndarray) else v for v in values)


@pytest.mark.parametrize("name", UNARY + BINARY + list(WITH_ARGS))
def test_in_place_matches_torch(name):
    base = X + 1.2 if name in ("acosh", "arccosh") else X
    x, xt = _both(base)
    a, at = WITH_ARGS.get(name, ((O,), (O,)) if name in BINARY else ((), ()))
    with np.errstate(all="ignore"):
        r = getattr(x, name + "_")(*_args(a, tg))
    getattr(xt, name + "_")(*_args(at, torch))
    assert r is x and x.data.dtype == np.float64
    rtol = 1e-8 if name == "polygamma" else 1e-10  # special.polygamma's own accuracy
    np.testing.assert_allclose(x.data, xt.numpy(), rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("name,args", [("addmm", (M, M)), ("addmv", (M, M[0])),
                                       ("addr", (M[0], M[1])), ("addbmm", (M[None], M[None]))])
def test_in_place_products(name, args):
    x, xt = _both(M if name != "addmv" else M[0])
    getattr(x, name + "_")(*_args(args, tg), beta=0.5, alpha=2)
    getattr(xt, name + "_")(*_args(args, torch), beta=0.5, alpha=2)
    np.testing.assert_allclose(x.data, xt.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,args", [("t", ()), ("transpose", (0, 1)), ("swapaxes", (1, 0)),
                                       ("swapdims", (0, 1)), ("unsqueeze", (1,)),
                                       ("squeeze", ()), ("squeeze", (0,))])
def test_in_place_shape_changes_match_torch_and_keep_the_memory(name, args):
    a = RNG.standard_normal((1, 3) if name == "squeeze" else (2, 3))
    x, xt = _both(a)
    array = x.data
    r = getattr(x, name + "_")(*args)
    getattr(xt, name + "_")(*args)
    assert r is x and x.shape == tuple(xt.shape)
    np.testing.assert_array_equal(x.data, xt.numpy())
    array[...] = 7.0  # the same memory: a write through the old array shows
    assert (x.data == 7.0).all()


def test_comparison_in_place_stores_ones_and_zeros_in_the_dtype():
    x, xt = _both(np.array([1.0, 2.0, 3.0]))
    x.gt_(1.5), xt.gt_(1.5)
    assert x.data.dtype == np.float64
    np.testing.assert_array_equal(x.data, xt.numpy())


def test_leaf_that_requires_grad_is_refused_before_writing():
    w = tg.tensor(X.copy(), requires_grad=True)
    wt = torch.tensor(X.copy(), requires_grad=True)
    with pytest.raises(RuntimeError):
        wt.tan_()
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.tan_()
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.t_()
    np.testing.assert_array_equal(w.data, X)
    with tg.no_grad():  # an optimizer-style update, as torch's under no_grad
        w.lerp_(tg.tensor(O), 0.5)
    with torch.no_grad():
        wt.lerp_(torch.tensor(O), 0.5)
    np.testing.assert_allclose(w.data, wt.detach().numpy(), rtol=1e-12)
    assert w.requires_grad and w.grad is None


def test_source_that_requires_grad_is_recorded_as_torch():
    x, xt = tg.tensor(X.copy()), torch.tensor(X.copy())
    end, endt = tg.tensor(O, requires_grad=True), torch.tensor(O, requires_grad=True)
    view = x.detach()  # shares the array: the write reaches it, as torch's
    assert x.lerp_(end, 0.5) is x
    xt.lerp_(endt, 0.5)
    assert x.requires_grad and xt.requires_grad
    np.testing.assert_allclose(view.data, xt.detach().numpy(), rtol=1e-12)
    u = RNG.standard_normal(X.shape)
    (x * x).backward(tg.tensor(u)), (xt * xt).backward(torch.tensor(u))
    np.testing.assert_allclose(end.grad.data, endt.grad.numpy(), rtol=1e-12)


def test_non_leaf_in_place_then_backward():
    # a tensor that requires no grad, written in place, then used in a graph: torch's gradient
    w, wt = tg.tensor(O, requires_grad=True), torch.tensor(O, requires_grad=True)
    c, ct = _both(X)
    h, ht = c * 2.0, ct * 2.0  # non-leaf (requires no grad)
    h.sin_().hypot_(tg.tensor(O)), ht.sin_().hypot_(torch.tensor(O))
    u = RNG.standard_normal(X.shape)
    (w * h).backward(tg.tensor(u)), (wt * ht).backward(torch.tensor(u))
    np.testing.assert_allclose(w.grad.data, wt.grad.numpy(), rtol=1e-12)
    # a non-leaf that requires grad: the write is recorded, as torch's
    w.grad, wt.grad = None, None
    y, yt = w * 2.0, wt * 2.0
    z, zt = y + 1.0, yt + 1.0  # read before the write: its gradient skips the tan
    assert y.tan_() is y
    yt.tan_()
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-12)
    (y * z).backward(tg.tensor(u)), (yt * zt).backward(torch.tensor(u))
    np.testing.assert_allclose(w.grad.data, wt.grad.numpy(), rtol=1e-12)


def test_writing_an_array_a_graph_saved_is_refused_at_backward():
    w, wt = tg.tensor(O, requires_grad=True), torch.tensor(O, requires_grad=True)
    c, ct = _both(X)
    y, yt = (w * c).sum(), (wt * ct).sum()  # w's gradient reads c
    c.square_(), ct.square_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        yt.backward()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
    # a graph that never reads the written array goes on
    w2 = tg.tensor(O, requires_grad=True)
    d = tg.tensor(X.copy())
    z = (w2 + d).sum()
    d.frac_()
    z.backward()
    np.testing.assert_array_equal(w2.grad.data, np.ones_like(O))


def test_integer_tensor_refuses_a_float_result_as_torch():
    x, xt = tg.tensor([1, 4, 9]), torch.tensor([1, 4, 9])
    with pytest.raises(RuntimeError, match="can't be cast"):
        xt.rsqrt_()
    with pytest.raises(TypeError, match="can't be cast"):
        x.rsqrt_()
    np.testing.assert_array_equal(x.data, [1, 4, 9])
    x.square_(), xt.square_()
    np.testing.assert_array_equal(x.data, xt.numpy())


def test_arguments_are_checked_as_a_signature():
    x = tg.tensor(X.copy())
    with pytest.raises(TypeError):
        x.lerp_(tg.tensor(O))  # weight missing
    with pytest.raises(TypeError):
        x.frac_(1)
    x.addcmul_(tg.tensor(O), tg.tensor(O), value=0.5)
    np.testing.assert_allclose(x.data, X + 0.5 * O * O)


def test_every_generated_name_is_torchs():
    names = [n for n in vars(tg.Tensor) if n.endswith("_") and not n.startswith("_")]
    missing = [n for n in names if not hasattr(torch.Tensor, n)]
    assert not missing, missing
