"""``tinygrad_norm.autograd.functional`` against ``torch.autograd.functional``: values, the nesting
of the results (a Tensor or a tuple, as the inputs and outputs were), ``create_graph`` (results
on the graph, differentiable again) and ``strict`` mode's errors, in float64."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.autograd.functional as AF
from tinygrad_norm.tensor import Tensor

torch = pytest.importorskip("torch")
TF = torch.autograd.functional

RNG = np.random.default_rng(7)


def _arr(*shape):
    return RNG.standard_normal(shape)


def _ours(*arrays):
    t = tuple(Tensor(a.copy()) for a in arrays)
    return t if len(t) > 1 else t[0]


def _theirs(*arrays):
    t = tuple(torch.tensor(a) for a in arrays)
    return t if len(t) > 1 else t[0]


def _same(a, b, where="result"):
    """Same nesting (tuples; torch's vectorized jacobian gives lists), same values."""
    if isinstance(b, (tuple, list)):
        assert isinstance(a, tuple) and len(a) == len(b), f"{where}: {type(a)} vs {type(b)}"
        for i, (p, q) in enumerate(zip(a, b)):
            _same(p, q, f"{where}[{i}]")
        return
    assert isinstance(a, Tensor), f"{where}: {type(a).__name__}"
    assert a.shape == tuple(b.shape), f"{where}: {a.shape} vs {tuple(b.shape)}"
    np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-10, atol=1e-12,
                               err_msg=where)


# functions written once for both libraries
def f_vec(x):
    return x.tanh() * x


def f_scalar(x):
    return (x.sin() * x * x).sum()


def f_two_in(x, y):
    return x * y.exp() + x * x * y


def f_two_out(x, y):
    return x * y.exp(), (x ** 3).sum()


def f_scalar_two(x, y):
    return (x.sin() * y * y).sum() + (x * y).sum()


X, Y, V, W = _arr(2, 3), _arr(2, 3), _arr(2, 3), _arr(2, 3)


@pytest.mark.parametrize("name", ["vjp", "jvp"])
def test_vjp_jvp_single_and_tuple(name):
    ours, theirs = getattr(AF, name), getattr(TF, name)
    _same(ours(f_vec, _ours(X), _ours(V)), theirs(f_vec, _theirs(X), _theirs(V)))
    # two inputs, one output: v is the output's shape (vjp) or a tuple of the inputs' (jvp)
    v = (V, W) if name == "jvp" else (V,)
    _same(ours(f_two_in, _ours(X, Y), _ours(*v)), theirs(f_two_in, _theirs(X, Y), _theirs(*v)))
    s = np.array(1.7)
    v = (_ours(V), Tensor(s)) if name == "vjp" else _ours(V, W)
    vt = (_theirs(V), torch.tensor(s)) if name == "vjp" else _theirs(V, W)
    _same(ours(f_two_out, _ours(X, Y), v), theirs(f_two_out, _theirs(X, Y), vt))


def test_vjp_with_v_none_for_a_scalar_output():
    _same(AF.vjp(f_scalar, _ours(X)), TF.vjp(f_scalar, _theirs(X)))


def test_jvp_with_v_none_for_a_one_element_input():
    one = _arr(1)
    _same(AF.jvp(f_vec, _ours(one)), TF.jvp(f_vec, _theirs(one)))


@pytest.mark.parametrize("fn,args", [(f_vec, (X,)), (f_two_in, (X, Y)), (f_two_out, (X, Y)),
                                     (lambda x: (x.exp(), x * 2), (X,))])
def test_jacobian_nesting_and_values(fn, args):
    _same(AF.jacobian(fn, _ours(*args)), TF.jacobian(fn, _theirs(*args)))


def test_jacobian_vectorize_and_forward_mode_give_the_same_result():
    ours = AF.jacobian(f_two_out, _ours(X, Y), vectorize=True, strategy="forward-mode")
    _same(ours, TF.jacobian(f_two_out, _theirs(X, Y), vectorize=True, strategy="forward-mode"))
    _same(AF.jacobian(f_vec, _ours(X), vectorize=True), TF.jacobian(f_vec, _theirs(X)))


def test_jacobian_with_empty_tensors():
    # an empty output gives an empty block (torch's stack raises for one)
    with pytest.raises(RuntimeError, match="stack expects a non-empty TensorList"):
        TF.jacobian(f_vec, _theirs(np.zeros((0, 2))))
    assert AF.jacobian(f_vec, _ours(np.zeros((0, 2)))).shape == (0, 2, 0, 2)
    assert AF.jacobian(lambda x: x[:0] * 2, _ours(_arr(3))).shape == (0, 3)


def test_jacobian_of_an_input_not_used_is_zeros():
    _same(AF.jacobian(lambda x, y: x * 2, _ours(X, Y)),
          TF.jacobian(lambda x, y: x * 2, _theirs(X, Y)))


@pytest.mark.parametrize("fn,args", [(f_scalar, (X,)), (f_scalar_two, (X, Y))])
def test_hessian(fn, args):
    _same(AF.hessian(fn, _ours(*args)), TF.hessian(fn, _theirs(*args)))


@pytest.mark.parametrize("name", ["hvp", "vhp"])
def test_hvp_vhp(name):
    ours, theirs = getattr(AF, name), getattr(TF, name)
    _same(ours(f_scalar, _ours(X), _ours(V)), theirs(f_scalar, _theirs(X), _theirs(V)))
    _same(ours(f_scalar_two, _ours(X, Y), _ours(V, W)),
          theirs(f_scalar_two, _theirs(X, Y), _theirs(V, W)))


def test_results_are_detached_without_create_graph():
    x = Tensor(X.copy(), requires_grad=True)
    out, g = AF.vjp(f_vec, x, _ours(V))
    assert not out.requires_grad and not g.requires_grad
    assert x.grad is None


@pytest.mark.parametrize("name", ["vjp", "jvp", "hvp", "vhp", "jacobian", "hessian"])
def test_create_graph_results_are_differentiable(name):
    fn = f_scalar if name in ("hvp", "vhp", "hessian") else f_vec
    x = Tensor(X.copy(), requires_grad=True)
    xt = torch.tensor(X, requires_grad=True)
    if name in ("jacobian", "hessian"):
        r = getattr(AF, name)(fn, x, create_graph=True)
        rt = getattr(TF, name)(fn, xt, create_graph=True)
    else:
        r = getattr(AF, name)(fn, x, _ours(V), create_graph=True)[1]
        rt = getattr(TF, name)(fn, xt, _theirs(V), create_graph=True)[1]
    assert r.requires_grad
    u = RNG.standard_normal(r.shape)
    g, = tg.grad(r, x, u)
    gt, = torch.autograd.grad(rt, xt, torch.tensor(u))
    _same(g, gt)


# ---- errors -----------------------------------------------------------------------------------

def _both_raise(call, match, ours=ValueError):
    with pytest.raises(ours, match=match):
        call(AF, _ours)
    # torch: RuntimeError, or an assert for a bad strategy
    with pytest.raises((RuntimeError, TypeError, ValueError, AssertionError), match=match):
        call(TF, _theirs)


def test_strict_output_independent_of_input():
    _both_raise(lambda m, mk: m.vjp(lambda x, y: x * 2, mk(X, Y), mk(V), strict=True),
                "The output of the user-provided function is independent of input 1")
    _both_raise(lambda m, mk: m.jacobian(lambda x, y: x * 2, mk(X, Y), strict=True),
                "Output 0 of the user-provided function is independent of input 1")


def test_strict_output_does_not_require_grad():
    _both_raise(lambda m, mk: m.vjp(lambda x: mk(V), mk(X), mk(V), strict=True),
                "Output 0 of the user-provided function does not require gradients")


def test_strict_linear_function_in_hessian():
    _both_raise(lambda m, mk: m.hessian(lambda x: (x * 2).sum(), mk(X), strict=True),
                "jacobian of the user-provided function with respect to input 0 is independent")


def test_strict_and_vectorize_refused():
    _both_raise(lambda m, mk: m.jacobian(f_vec, mk(X), strict=True, vectorize=True),
                "`strict=True` and `vectorized=True` are not supported together")


def test_bad_arguments():
    # torch writes torch.Size([2, 3]); the shapes here as lists
    _both_raise(lambda m, mk: m.vjp(f_vec, mk(X), mk(_arr(3, 2))),
                r"v has invalid size: should be .*2, 3.* but got .*3, 2")
    _both_raise(lambda m, mk: m.vjp(f_two_out, mk(X, Y), mk(V)),
                "v is a tuple of invalid length: should be 2 but got 1")
    _both_raise(lambda m, mk: m.vjp(f_vec, mk(X)),
                "The vector v can only be None if the user-provided function returns a single "
                "Tensor with a single element")
    _both_raise(lambda m, mk: m.hvp(f_vec, mk(X), mk(V)),
                "The Tensor returned by the function given to hvp should contain a single "
                "element")
    _both_raise(lambda m, mk: m.jacobian(f_vec, mk(X), strategy="sideways"),
                "Expected strategy to be either")
    with pytest.raises(TypeError, match="The inputs given to vjp must be either a Tensor or a "
                                        "tuple of Tensors but the given inputs has type"):
        AF.vjp(f_vec, X)
    with pytest.raises(TypeError, match="the value at index 1 has type"):
        AF.jvp(f_two_in, (_ours(X), Y))
    with pytest.raises(NotImplementedError, match="only implemented for `vectorize=True`"):
        AF.jacobian(f_vec, _ours(X), strategy="forward-mode")
