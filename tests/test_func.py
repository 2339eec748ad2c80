"""``tinygrad_norm.func`` against ``torch.func`` (torch 2.13) in float64: functional_call
(parameters, buffers, tied weights, strict), grad / grad_and_value / vjp / jvp / jacrev / jacfwd /
hessian (values, nesting, has_aux, argnums), the looping vmap (in_dims, out_dims, randomness,
gradients through it), per-sample gradients and a second-order MAML step; and the errors."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.func as TF
from tinygrad_norm import nn
from tinygrad_norm.tensor import Tensor

torch = pytest.importorskip("torch")
TTF = torch.func

RNG = np.random.default_rng(11)


def _arr(*shape):
    return RNG.standard_normal(shape)


def _t(a, requires_grad=False):
    return Tensor(np.array(a, dtype=np.float64)).requires_grad_(requires_grad)


def _tt(a, requires_grad=False):
    return torch.tensor(np.array(a, dtype=np.float64), requires_grad=requires_grad)


def _same(a, b, where="result"):
    """Same nesting (tuple/list/dict), same values to 1e-10."""
    if isinstance(b, dict):
        assert isinstance(a, dict) and list(a) == list(b), where
        for k in b:
            _same(a[k], b[k], f"{where}[{k!r}]")
        return
    if isinstance(b, (tuple, list)):
        assert isinstance(a, (tuple, list)) and len(a) == len(b), f"{where}: {a!r} vs {b!r}"
        for i, (p, q) in enumerate(zip(a, b)):
            _same(p, q, f"{where}[{i}]")
        return
    assert isinstance(a, Tensor), f"{where}: {type(a).__name__}"
    assert a.shape == tuple(b.shape), f"{where}: {a.shape} vs {tuple(b.shape)}"
    np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=where)


def _mlp_pair(sizes=(4, 8, 3)):
    """The same MLP in both libraries, float64."""
    ours = nn.Sequential(nn.Linear(sizes[0], sizes[1]), nn.Tanh(),
                         nn.Linear(sizes[1], sizes[2])).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(sizes[0], sizes[1]), torch.nn.Tanh(),
                                 torch.nn.Linear(sizes[1], sizes[2])).double()
    with torch.no_grad():
        for (k, p), (k2, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert k == k2
            q.copy_(torch.from_numpy(p.data.copy()))
    return ours, theirs


# ---- functional_call ----------------------------------------------------------------------------

def test_functional_call_partial_dict_value_and_gradient():
    ours, theirs = _mlp_pair()
    W, X, G = _arr(3, 8), _arr(5, 4), _arr(5, 3)  # a new last weight; a random upstream grad
    w, wt = _t(W, True), _tt(W, True)
    x, xt = _t(X, True), _tt(X, True)
    out = TF.functional_call(ours, {"2.weight": w}, (x,))
    out_t = TTF.functional_call(theirs, {"2.weight": wt}, (xt,))
    _same(out, out_t)
    out.backward(_t(G))
    out_t.backward(_tt(G))
    _same(w.grad, wt.grad, "given weight's grad")
    _same(x.grad, xt.grad, "input's grad")
    _same(ours[0].weight.grad, theirs[0].weight.grad, "kept weight's grad")
    assert ours[2].weight.grad is None  # the module's own, replaced, weight got nothing
    _same(ours(x), theirs(xt), "the module's own weights afterwards")


def test_functional_call_restores_the_module_after_the_call():
    ours, _ = _mlp_pair()
    before = {k: v for k, v in ours.named_parameters()}
    TF.functional_call(ours, {"0.bias": _t(_arr(8))}, _t(_arr(2, 4)))  # args not a tuple
    assert {k: v for k, v in ours.named_parameters()} == before
    assert all(before[k] is v for k, v in ours.named_parameters())


def test_functional_call_restores_on_an_exception():
    lin = nn.Linear(3, 2).double()
    w0 = lin.weight
    with pytest.raises(Exception):
        TF.functional_call(lin, {"weight": _t(_arr(2, 3))}, (_t(_arr(4, 5)),))  # bad input
    assert lin.weight is w0


def test_functional_call_tuple_of_dicts_and_kwargs():
    ours, theirs = _mlp_pair()
    d1 = {"0.weight": _arr(8, 4), "0.bias": _arr(8)}
    d2 = {"2.weight": _arr(3, 8), "2.bias": _arr(3)}
    X = _arr(6, 4)
    out = TF.functional_call(ours, [{k: _t(v) for k, v in d1.items()},
                                    {k: _t(v) for k, v in d2.items()}], (_t(X),))
    out_t = TTF.functional_call(theirs, ({k: _tt(v) for k, v in d1.items()},
                                         {k: _tt(v) for k, v in d2.items()}), (_tt(X),))
    _same(out, out_t)

    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.s = nn.Parameter(Tensor(np.array(2.0)))

        def forward(self, x, *, shift=0.0):
            return x * self.s + shift

    out = TF.functional_call(Scale(), {"s": _t(3.0)}, (_t([1.0, 2.0]),), {"shift": 1.0})
    np.testing.assert_allclose(out.data, [4.0, 7.0])


def test_functional_call_batchnorm_buffers():
    """Given running statistics are used and updated in place (the module's are not), as
    torch; values and gradients of weight and input match."""
    ours = nn.BatchNorm1d(3).double()
    theirs = torch.nn.BatchNorm1d(3).double()
    X, G = _arr(8, 3), _arr(8, 3)
    RM, RV = _arr(3), np.abs(_arr(3)) + 0.5
    rm, rv, rmt, rvt = _t(RM), _t(RV), _tt(RM), _tt(RV)
    Wb = _arr(3)
    w, wt = _t(Wb, True), _tt(Wb, True)
    x, xt = _t(X, True), _tt(X, True)
    own_mean = ours.running_mean.data.copy()
    given = {"running_mean": rm, "running_var": rv, "weight": w}
    out = TF.functional_call(ours, given, (x,))
    out_t = TTF.functional_call(theirs, {"running_mean": rmt, "running_var": rvt,
                                         "weight": wt}, (xt,))
    _same(out, out_t)
    _same(rm, rmt, "updated running_mean")
    _same(rv, rvt, "updated running_var")
    assert given["running_mean"] is rm
    np.testing.assert_array_equal(ours.running_mean.data, own_mean)  # untouched
    assert int(ours.num_batches_tracked.data) == int(theirs.num_batches_tracked) == 1
    out.backward(_t(G))
    out_t.backward(_tt(G))
    _same(w.grad, wt.grad, "weight grad")
    _same(x.grad, xt.grad, "input grad")
    # eval mode: the given statistics normalize
    ours.eval(), theirs.eval()
    _same(TF.functional_call(ours, {"running_mean": rm, "running_var": rv}, (x,)),
          TTF.functional_call(theirs, {"running_mean": rmt, "running_var": rvt}, (xt,)))


class _Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 3, bias=False).double()
        self.b = nn.Linear(3, 3, bias=False).double()
        self.b.weight = self.a.weight

    def forward(self, x):
        return self.b(self.a(x))


class _TiedT(torch.nn.Module):
    def __init__(self, W):
        super().__init__()
        self.a = torch.nn.Linear(3, 3, bias=False).double()
        self.b = torch.nn.Linear(3, 3, bias=False).double()
        with torch.no_grad():
            self.a.weight.copy_(torch.from_numpy(W))
        self.b.weight = self.a.weight

    def forward(self, x):
        return self.b(self.a(x))


def test_functional_call_tied_weights():
    ours = _Tied()
    theirs = _TiedT(ours.a.weight.data.copy())
    W, X = _arr(3, 3), _arr(2, 3)
    for tie in (True, False):
        _same(TF.functional_call(ours, {"a.weight": _t(W)}, (_t(X),), tie_weights=tie),
              TTF.functional_call(theirs, {"a.weight": _tt(W)}, (_tt(X),), tie_weights=tie))
    w = _t(W)
    TF.functional_call(ours, {"a.weight": w, "b.weight": w}, (_t(X),))  # the same: fine
    with pytest.raises(ValueError, match=r"multiple values for keys \['a.weight', 'b.weight'\]"):
        TF.functional_call(ours, {"a.weight": _t(W), "b.weight": _t(W)}, (_t(X),))
    TF.functional_call(ours, {"a.weight": _t(W), "b.weight": _t(W)}, (_t(X),), tie_weights=False)
    assert ours.b.weight is ours.a.weight


def test_functional_call_strict_and_bad_arguments():
    lin = nn.Linear(2, 2).double()
    x = _t(_arr(1, 2))
    with pytest.raises(ValueError, match="Error\\(s\\) in reparametrizing for Linear:\n\t"
                                         "Unexpected key\\(s\\): 'c'.\n\tMissing key\\(s\\): "
                                         "'bias'."):
        TF.functional_call(lin, {"weight": _t(_arr(2, 2)), "c": _t(1.0)}, (x,), strict=True)
    TF.functional_call(lin, {"weight": _t(_arr(2, 2)), "bias": _t(_arr(2))}, (x,), strict=True)
    with pytest.raises(ValueError, match=r"\['weight'\] appeared in multiple dictionaries"):
        TF.functional_call(lin, ({"weight": _t(_arr(2, 2))}, {"weight": _t(_arr(2, 2))}), (x,))
    with pytest.raises(ValueError, match="Expected all elements of parameter_and_buffer_dicts"):
        TF.functional_call(lin, ({"weight": _t(_arr(2, 2))}, 3), (x,))
    with pytest.raises(ValueError, match="to be a dict, or a list/tuple of dicts"):
        TF.functional_call(lin, 3, (x,))
    with pytest.raises(TypeError, match="module must be a Module"):
        TF.functional_call(lambda x: x, {}, (x,))
    with pytest.raises(TypeError, match="'weight' must be a Tensor"):
        TF.functional_call(lin, {"weight": np.zeros((2, 2))}, (x,))
    with pytest.raises(TypeError, match="argument 'strict' must be bool"):
        TF.functional_call(lin, {}, (x,), strict="yes")
    with pytest.raises(AttributeError, match="Linear has no attribute `sub`"):
        TF.functional_call(lin, {"sub.weight": _t(1.0)}, (x,))
    w0 = lin.weight
    assert lin.weight is w0 and "c" not in lin.__dict__


def test_functional_call_unknown_key_is_set_for_the_call_and_dict_gets_reassigned_values():
    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("count", Tensor(np.array(0.0)))

        def forward(self, x):
            self.count = self.count + 1  # reassigned, not in place
            return x * getattr(self, "extra", 1.0)

    m = Counter()
    given = {"count": _t(5.0), "extra": _t(3.0)}
    out = TF.functional_call(m, given, (_t(2.0),))
    assert float(out.data) == 6.0
    assert float(given["count"].data) == 6.0 and float(m.count.data) == 0.0  # as torch
    assert "extra" not in m.__dict__
    TF.functional_call(m, {"extra": nn.Parameter(_t(2.0))}, (_t(2.0),))  # registered by setattr
    assert "extra" not in m._parameters and not hasattr(m, "extra")


def test_stateless_alias_warns_and_works():
    from tinygrad_norm.nn.utils.stateless import functional_call
    assert tg.nn.utils.stateless.functional_call is functional_call
    lin = nn.Linear(2, 2).double()
    with pytest.warns(FutureWarning, match="tinygrad_norm.func.functional_call"):
        out = functional_call(lin, {"bias": _t([1.0, 2.0]), "weight": _t(np.eye(2))},
                              (_t([[3.0, 4.0]]),))
    np.testing.assert_allclose(out.data, [[4.0, 6.0]])


# ---- grad, grad_and_value, vjp ------------------------------------------------------------------

def _f(x, y):
    return (x.sin() * y * y).sum() + (x * y).tanh().sum()


def _f_aux(x, y):
    return _f(x, y), {"p": x * 2, "q": [y.exp()]}


def test_grad_argnums_has_aux_and_value():
    X, Y = _arr(2, 3), _arr(2, 3)
    _same(TF.grad(_f)(_t(X), _t(Y)), TTF.grad(_f)(_tt(X), _tt(Y)))
    _same(TF.grad(_f, argnums=(1, 0))(_t(X), _t(Y)),
          TTF.grad(_f, argnums=(1, 0))(_tt(X), _tt(Y)))
    _same(TF.grad(_f, argnums=-1)(_t(X), _t(Y)), TTF.grad(_f, argnums=-1)(_tt(X), _tt(Y)))
    _same(TF.grad(_f_aux, 1, has_aux=True)(_t(X), _t(Y)),
          TTF.grad(_f_aux, 1, has_aux=True)(_tt(X), _tt(Y)))
    _same(TF.grad_and_value(_f_aux, (0, 1), has_aux=True)(_t(X), _t(Y)),
          TTF.grad_and_value(_f_aux, (0, 1), has_aux=True)(_tt(X), _tt(Y)))
    g, v = TF.grad_and_value(_f)(_t(X), _t(Y))
    assert not g.requires_grad and not v.requires_grad  # nothing outside asked for a graph


def test_grad_of_a_dict_of_parameters_and_unused_inputs():
    def loss(params, x):
        return ((x @ params["w"]).tanh() * params["s"]).sum()

    P = {"w": _arr(3, 2), "s": _arr(2), "unused": _arr(4)}
    X = _arr(5, 3)
    _same(TF.grad(loss)({k: _t(v) for k, v in P.items()}, _t(X)),
          TTF.grad(loss)({k: _tt(v) for k, v in P.items()}, _tt(X)))


def test_grad_nests_to_higher_derivatives():
    def f(x):
        return (x.sin() * x * x).sum()

    X = _arr(4)
    d2 = TF.grad(lambda x: TF.grad(f)(x).sum())
    _same(d2(_t(X)), TTF.grad(lambda x: TTF.grad(f)(x).sum())(_tt(X)))
    d3 = TF.grad(lambda x: TF.grad(lambda y: TF.grad(f)(y).sum())(x).sum())
    _same(d3(_t(X)), TTF.grad(lambda x: TTF.grad(lambda y: TTF.grad(f)(y).sum())(x).sum())(
        _tt(X)))


def test_grad_stays_on_the_callers_graph():
    """An input, or a tensor captured by the function, that requires grad: the gradient is
    differentiable again (gradient penalty), as torch.func's."""
    X, Wt, G = _arr(3), _arr(3), _arr(3)
    w, wt = _t(Wt, True), _tt(Wt, True)

    def f(x, w):
        return (x * w).tanh().sum()

    g = TF.grad(lambda x: f(x, w))(_t(X))  # w captured
    gt = TTF.grad(lambda x: f(x, wt))(_tt(X))
    assert g.requires_grad
    (g * _t(G)).sum().backward()
    (gt * _tt(G)).sum().backward()
    _same(w.grad, wt.grad)
    x, xt = _t(X, True), _tt(X, True)
    g = TF.grad(f)(x, _t(Wt))
    (g * _t(G)).sum().backward()
    (TTF.grad(f)(xt, _tt(Wt)) * _tt(G)).sum().backward()
    _same(x.grad, xt.grad)


def test_grad_errors():
    x = _t(_arr(3))
    with pytest.raises(ValueError, match="Expected f\\(\\*args\\) to return a scalar Tensor, "
                                         "got tensor with 1 dims"):
        TF.grad(lambda x: x * 2)(x)
    with pytest.raises(TypeError, match="to return a Tensor, got <class 'int'>"):
        TF.grad(lambda x: 3)(x)
    with pytest.raises(ValueError, match="should be a tuple: \\(output, aux\\)"):
        TF.grad(lambda x: [x.sum()], has_aux=True)(x)
    with pytest.raises(ValueError, match="Got argnum=2, but only 1 positional inputs"):
        TF.grad(lambda x: x.sum(), argnums=2)(x)
    with pytest.raises(TypeError, match="argnums must be int or Tuple"):
        TF.grad(lambda x: x.sum(), argnums="a")(x)
    with pytest.raises(ValueError, match="argnums must be non-empty"):
        TF.grad(lambda x: x.sum(), argnums=())(x)
    with pytest.raises(ValueError, match="argnums must be unique"):
        TF.grad(lambda x: x.sum(), argnums=(0, -1))(x)
    with pytest.raises(ValueError, match="Thing passed to transform API must be Tensor, got "
                                         "<class 'float'>"):
        TF.grad(lambda x: x.sum())(3.0)


def test_vjp_nested_outputs_repeated_calls_and_errors():
    def f(x, y):
        return {"a": x * y, "b": (x.sin(), y.exp().sum())}

    X, Y = _arr(2, 3), _arr(2, 3)
    out, fn = TF.vjp(f, _t(X), _t(Y))
    out_t, fn_t = TTF.vjp(f, _tt(X), _tt(Y))
    _same(out, out_t)
    for _ in range(2):  # the graph is kept
        C = {"a": _arr(2, 3), "b": (_arr(2, 3), _arr())}
        _same(fn({"a": _t(C["a"]), "b": (_t(C["b"][0]), _t(C["b"][1]))}),
              fn_t({"a": _tt(C["a"]), "b": (_tt(C["b"][0]), _tt(C["b"][1]))}))
    with pytest.raises(ValueError, match="Expected pytree structure of cotangents"):
        fn(_t(X))
    with pytest.raises(ValueError, match="Mismatch in shape: grad_output\\[0\\]"):
        fn({"a": _t(_arr(3)), "b": (_t(X), _t(1.0))})
    out, fn, aux = TF.vjp(lambda x: (x.exp(), x * 3), _t(X), has_aux=True)
    _same(aux, _tt(X) * 3)
    with pytest.raises(ValueError, match="vjp\\(f, \\*primals\\): output of function f should"):
        TF.vjp(lambda x: x, _t(X), has_aux=True)


# ---- jvp, jacrev, jacfwd, hessian ---------------------------------------------------------------

def test_jvp_and_jacfwd():
    def f(x, y):
        return x.sin() * y, (x * y).sum()

    X, Y, U, V = _arr(2, 3), _arr(2, 3), _arr(2, 3), _arr(2, 3)
    _same(TF.jvp(f, (_t(X), _t(Y)), (_t(U), _t(V))),
          TTF.jvp(f, (_tt(X), _tt(Y)), (_tt(U), _tt(V))))
    _same(TF.jacfwd(f, argnums=(0, 1))(_t(X), _t(Y)),
          TTF.jacfwd(f, argnums=(0, 1))(_tt(X), _tt(Y)))
    with pytest.raises(TypeError, match="Expected primals to be a tuple"):
        TF.jvp(f, _t(X), (_t(U),))
    with pytest.raises(ValueError, match="same python structure"):
        TF.jvp(f, (_t(X), _t(Y)), (_t(U),))
    with pytest.raises(ValueError, match="same shape"):
        TF.jvp(f, (_t(X), _t(Y)), (_t(U), _t(_arr(3))))
    with pytest.raises(ValueError, match="The output of f is independent of the inputs"):
        TF.jvp(lambda x: _t(1.0), (_t(X),), (_t(U),), strict=True)
    _same(TF.jvp(lambda x: _t(1.0), (_t(X),), (_t(U),)),
          TTF.jvp(lambda x: _tt(1.0), (_tt(X),), (_tt(U),)))


def test_jacrev_argnums_tuple_and_has_aux():
    def f(x, y):
        return {"u": x.tanh() * y.sum(), "v": (x @ y.T)}, (x * 2).sum()

    X, Y = _arr(2, 3), _arr(4, 3)
    _same(TF.jacrev(f, argnums=(0, 1), has_aux=True)(_t(X), _t(Y)),
          TTF.jacrev(f, argnums=(0, 1), has_aux=True)(_tt(X), _tt(Y)))
    _same(TF.jacrev(lambda x, y: f(x, y)[0]["u"], 1)(_t(X), _t(Y)),
          TTF.jacrev(lambda x, y: f(x, y)[0]["u"], 1)(_tt(X), _tt(Y)))
    jac = TF.jacrev(lambda x: x.exp())(_t(X))
    assert not jac.requires_grad


def test_hessian():
    def f(x, y):
        return (x.sin() * y.exp()).sum() + (x * x * y).sum()

    X, Y = _arr(3), _arr(3)
    _same(TF.hessian(f)(_t(X), _t(Y)), TTF.hessian(f)(_tt(X), _tt(Y)))
    _same(TF.hessian(f, argnums=(0, 1))(_t(X), _t(Y)),
          TTF.hessian(f, argnums=(0, 1))(_tt(X), _tt(Y)))
    h = TF.hessian(lambda x: (x ** 3).sum())(_t(_arr(2, 2)))
    assert h.shape == (2, 2, 2, 2) and not h.requires_grad


# ---- vmap ---------------------------------------------------------------------------------------

def test_vmap_in_dims_out_dims_and_structures():
    def f(x, y, d):
        return {"s": x * y + d["b"], "t": (x.sum(), d["c"] * 2)}

    X, Y, B, C = _arr(4, 3), _arr(3, 4), _arr(3), _arr(5, 4)
    args = lambda c: (c(X), c(Y), {"b": c(B), "c": c(C)})  # noqa: E731
    in_dims = (0, 1, {"b": None, "c": 1})
    out_dims = {"s": 1, "t": (0, -1)}
    _same(TF.vmap(f, in_dims, out_dims)(*args(_t)), TTF.vmap(f, in_dims, out_dims)(*args(_tt)))
    _same(TF.vmap(lambda x, y: x - y, (0, None))(_t(X), _t(B)),
          TTF.vmap(lambda x, y: x - y, (0, None))(_tt(X), _tt(B)))
    # keyword arguments are not mapped; nested vmap
    _same(TF.vmap(lambda x, *, k: x * k)(_t(X), k=_t(B)),
          TTF.vmap(lambda x, *, k: x * k)(_tt(X), k=_tt(B)))
    _same(TF.vmap(TF.vmap(lambda a, b: a * b), (0, None))(_t(X), _t(B)),
          TTF.vmap(TTF.vmap(lambda a, b: a * b), (0, None))(_tt(X), _tt(B)))
    out = TF.vmap(lambda x: (x.sum(), 7), out_dims=(0, None))(_t(X))
    assert out[1] == 7


def test_vmap_gradients_flow_to_the_batched_inputs():
    W, X, G = _arr(3, 2), _arr(5, 3), _arr(5, 2)
    w, x, wt, xt = _t(W, True), _t(X, True), _tt(W, True), _tt(X, True)
    out = TF.vmap(lambda r, m: (r @ m).tanh(), (0, None))(x, w)
    out_t = TTF.vmap(lambda r, m: (r @ m).tanh(), (0, None))(xt, wt)
    _same(out, out_t)
    out.backward(_t(G))
    out_t.backward(_tt(G))
    _same((x.grad, w.grad), (xt.grad, wt.grad))


def test_vmap_randomness():
    x = _t(_arr(4, 3))
    with pytest.raises(RuntimeError, match="called random operation while in randomness error"):
        TF.vmap(lambda r: r * tg.rand(3))(x)
    tg.manual_seed(0)
    state = tg.random.generator().bit_generator.state
    with pytest.raises(RuntimeError):
        TF.vmap(lambda r: r * tg.rand(3))(x)
    assert tg.random.generator().bit_generator.state == state  # the refused draw undone
    same = TF.vmap(lambda r: tg.rand(3) + 0 * r, randomness="same")(x)
    assert np.all(same.data == same.data[0])
    diff = TF.vmap(lambda r: tg.rand(3) + 0 * r, randomness="different")(x)
    assert not np.allclose(diff.data[0], diff.data[1])
    tg.manual_seed(1)
    a = TF.vmap(lambda r: tg.rand(3) + 0 * r, randomness="same")(x)
    tg.manual_seed(1)
    np.testing.assert_array_equal(a.data[0], tg.rand(3).data)  # as one unbatched call
    with pytest.raises(ValueError, match="Only allowed values for randomness are 'error', "
                                         "'different', or 'same'. Got x"):
        TF.vmap(lambda r: r, randomness="x")


def test_vmap_errors():
    x = _t(_arr(3, 2))
    with pytest.raises(ValueError, match="in_dims is not compatible with the structure"):
        TF.vmap(lambda a: a, in_dims=(0, 0))(x)
    with pytest.raises(ValueError, match="expected `in_dims` to be int or a"):
        TF.vmap(lambda a: a, in_dims=[0])(x)
    with pytest.raises(ValueError, match="got no inputs"):
        TF.vmap(lambda: 1)()
    with pytest.raises(ValueError, match="expected in_dim to satisfy -2 <= in_dim < 2"):
        TF.vmap(lambda a: a, in_dims=2)(x)
    with pytest.raises(ValueError, match="We cannot vmap over non-Tensor arguments"):
        TF.vmap(lambda a, b: a, in_dims=(0, 0))(x, 3.0)
    with pytest.raises(ValueError, match="Expected at least one Tensor to vmap over"):
        TF.vmap(lambda a: a, (None,))(x)
    with pytest.raises(ValueError, match="got sizes \\[3, 2\\]"):
        TF.vmap(lambda a, b: a, in_dims=(0, 0))(x, _t(_arr(2)))
    with pytest.raises(ValueError, match="must only return Tensors, got type <class 'int'>"):
        TF.vmap(lambda a: 3)(x)
    with pytest.raises(ValueError, match="out_dims is not compatible"):
        TF.vmap(lambda a: a, out_dims=(0, 1))(x)
    with pytest.raises(ValueError, match="chunk_size should be None or greater than 0"):
        TF.vmap(lambda a: a, chunk_size=0)
    with pytest.raises(ValueError, match="has size 0"):
        TF.vmap(lambda a: a)(_t(np.zeros((0, 2))))
    TF.vmap(lambda a: a, chunk_size=2)(x)


# ---- the recipes: per-sample gradients, MAML ----------------------------------------------------

def _loss_ours(model):
    def loss(params, x, y):
        out = TF.functional_call(model, params, (x.unsqueeze(0),))
        return ((out - y.unsqueeze(0)) ** 2).mean()
    return loss


def _loss_theirs(model):
    def loss(params, x, y):
        out = TTF.functional_call(model, params, (x.unsqueeze(0),))
        return ((out - y.unsqueeze(0)) ** 2).mean()
    return loss


def test_per_sample_gradients_vmap_of_grad():
    ours, theirs = _mlp_pair()
    X, Y = _arr(16, 4), _arr(16, 3)
    params = {k: v.detach() for k, v in ours.named_parameters()}
    params_t = {k: v.detach() for k, v in theirs.named_parameters()}
    got = TF.vmap(TF.grad(_loss_ours(ours)), (None, 0, 0))(params, _t(X), _t(Y))
    want = TTF.vmap(TTF.grad(_loss_theirs(theirs)), (None, 0, 0))(params_t, _tt(X), _tt(Y))
    _same(got, want)
    # equal to a loop of ordinary grads
    loss = _loss_ours(ours)
    for i in (0, 7, 15):
        one = TF.grad(loss)(params, _t(X[i]), _t(Y[i]))
        for k in params:
            np.testing.assert_allclose(got[k].data[i], one[k].data, rtol=1e-12, atol=0)
    assert not any(g.requires_grad for g in got.values())


def test_per_sample_gradients_float32_and_on_the_callers_graph():
    """float32 parity; and with parameters that require grad the per-sample gradients stay on
    the graph (a per-sample gradient penalty differentiates through them), as torch.func."""
    ours, theirs = _mlp_pair()
    ours.float(), theirs.float()
    X, Y = _arr(8, 4).astype(np.float32), _arr(8, 3).astype(np.float32)
    params = dict(ours.named_parameters())
    params_t = dict(theirs.named_parameters())
    got = TF.vmap(TF.grad(_loss_ours(ours)), (None, 0, 0))(params, Tensor(X), Tensor(Y))
    want = TTF.vmap(TTF.grad(_loss_theirs(theirs)), (None, 0, 0))(
        params_t, torch.tensor(X), torch.tensor(Y))
    for k in want:
        assert got[k].dtype == np.float32
        np.testing.assert_allclose(got[k].data, want[k].detach().numpy(), rtol=1e-5, atol=1e-6)
    sum(((g * g).sum() for g in got.values()), _t(0.0).float()).backward()
    sum(((g * g).sum() for g in want.values())).backward()
    for k in params:
        np.testing.assert_allclose(params[k].grad.data, params_t[k].grad.numpy(), rtol=1e-4,
                                   atol=1e-5, err_msg=k)


def test_maml_second_order():
    """An inner SGD step through functional_call, the outer loss differentiated with respect to
    the meta-parameters through the inner gradient (second order), against torch.func."""
    ours, theirs = _mlp_pair()
    Xs, Ys, Xq, Yq = _arr(6, 4), _arr(6, 3), _arr(5, 4), _arr(5, 3)
    lr = 0.3

    def maml(F, model, params, c):
        def loss(p, x, y):
            return ((F.functional_call(model, p, (x,)) - y) ** 2).mean()
        g = F.grad(loss)(params, c(Xs), c(Ys))
        fast = {k: params[k] - lr * g[k] for k in params}
        g2 = F.grad(loss)(fast, c(Xs), c(Ys))  # two inner steps
        fast = {k: fast[k] - lr * g2[k] for k in fast}
        return loss(fast, c(Xq), c(Yq))

    meta = dict(ours.named_parameters())
    meta_t = dict(theirs.named_parameters())
    out = maml(TF, ours, meta, _t)
    out_t = maml(TTF, theirs, meta_t, _tt)
    _same(out, out_t)
    out.backward()
    out_t.backward()
    _same({k: v.grad for k, v in meta.items()}, {k: v.grad for k, v in meta_t.items()})
    # first order would differ: the second-order terms are really there
    ours.zero_grad()
    meta_fo = {k: v for k, v in meta.items()}
    loss_fo = maml_first_order(ours, meta_fo, lr, Xs, Ys, Xq, Yq)
    loss_fo.backward()
    assert not np.allclose(meta["0.weight"].grad.data, meta_t["0.weight"].grad.numpy())


def maml_first_order(model, params, lr, Xs, Ys, Xq, Yq):
    def loss(p, x, y):
        return ((TF.functional_call(model, p, (x,)) - y) ** 2).mean()
    g = TF.grad(loss)({k: v.detach() for k, v in params.items()}, _t(Xs), _t(Ys))
    fast = {k: params[k] - lr * g[k] for k in params}
    g2 = TF.grad(loss)({k: v.detach() for k, v in fast.items()}, _t(Xs), _t(Ys))
    fast = {k: fast[k] - lr * g2[k] for k in fast}
    return loss(fast, _t(Xq), _t(Yq))


def test_no_grad_outside_still_differentiates():
    with tg.no_grad():
        g = TF.grad(lambda x: (x ** 3).sum())(_t([1.0, 2.0]))
    np.testing.assert_allclose(g.data, [3.0, 12.0])
    assert not g.requires_grad


def test_functional_call_parametrized_original():
    """A parametrized weight is replaced through its original (the parametrization still runs
    on the given tensor), as torch's documented way."""
    from tinygrad_norm.nn.utils import parametrize as P

    class Sym(nn.Module):
        def forward(self, w):
            return w.triu() + w.triu(1).swapaxes(0, 1)

    class SymT(torch.nn.Module):
        def forward(self, w):
            return w.triu() + w.triu(1).T

    ours = nn.Linear(3, 3, bias=False).double()
    theirs = torch.nn.Linear(3, 3, bias=False).double()
    P.register_parametrization(ours, "weight", Sym())
    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", SymT())
    W, X, G = _arr(3, 3), _arr(2, 3), _arr(2, 3)
    w, wt = _t(W, True), _tt(W, True)
    key = "parametrizations.weight.original"
    out = TF.functional_call(ours, {key: w}, (_t(X),))
    out_t = TTF.functional_call(theirs, {key: wt}, (_tt(X),))
    _same(out, out_t)
    out.backward(_t(G))
    out_t.backward(_tt(G))
    _same(w.grad, wt.grad)


def test_transform_results_pass_gradcheck():
    """The results of grad, jacrev and vmap are differentiable functions of their inputs:
    finite differences agree (first and second derivatives)."""
    def f(x, w):
        return ((x @ w).tanh() ** 2).sum()

    x, w = _t(_arr(3, 2), True), _t(_arr(2, 4), True)
    assert tg.gradcheck(lambda x, w: TF.grad(f, (0, 1))(x, w)[0], (x, w))
    assert tg.gradgradcheck(lambda x, w: TF.grad(f, 1)(x, w), (x, w))
    assert tg.gradcheck(lambda x, w: TF.jacrev(lambda a: (a @ w).sin())(x), (x, w))
    assert tg.gradcheck(lambda x, w: TF.vmap(TF.grad(f), (0, None))(x, w), (x, w))
    model = nn.Linear(2, 4).double()
    assert tg.gradgradcheck(
        lambda x, w: TF.functional_call(model, {"weight": w.transpose(1, 0)}, (x,)).tanh(), (x, w))
