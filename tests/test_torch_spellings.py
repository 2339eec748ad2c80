"""PyTorch's keyword spellings on the NumPy-named Tensor methods (``x.sum(dim=1)``,
``x.mean(-1, keepdim=True)``, ``x.std(dim=1, unbiased=False)``, ``x.squeeze(dim=0)``, ...), the
torch meaning of ``x.max(dim=1)`` (a named tuple of values and indices) beside NumPy's
``x.max(axis=1)`` (the values), and torch's reductions the library lacked (``nansum``,
``nanmean``, ``cummax``, ``cummin``, ``logcumsumexp``, ``aminmax``, ``select``). Each is
compared with torch 2.13: values, dtypes, shapes, and gradients under a random upstream
gradient, in float64 and float32; the errors; gradcheck of the new composites."""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor
from conftest import gradchecks, torch_parity

RTOL = {np.float64: 1e-12, np.float32: 2e-5}
DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
A = np.random.default_rng(7).standard_normal((3, 4, 5))
# (1, 3, 1, 2): size-1 dims for squeeze, where a dim of size 3 must be left alone
S = np.random.default_rng(8).standard_normal((1, 3, 1, 2))
NAN = np.nan


# ---- 1: torch's keywords on the NumPy-named methods ---------------------------------------------

# name: (ours, torch's, input); the same call on both sides, torch's spelling
SPELLINGS = {
    "sum_dim": (lambda x: x.sum(dim=1), lambda t: t.sum(dim=1), A),
    "sum_dims_keepdim": (lambda x: x.sum(dim=(0, 2), keepdim=True),
                         lambda t: t.sum(dim=(0, 2), keepdim=True), A),
    "sum_empty_dim_is_all": (lambda x: x.sum(dim=()), lambda t: t.sum(dim=()), A),
    "mean_pos_keepdim": (lambda x: x.mean(-1, keepdim=True), lambda t: t.mean(-1, keepdim=True), A),
    "mean_dim_list": (lambda x: x.mean(dim=[0, 1]), lambda t: t.mean(dim=[0, 1]), A),
    "std_dim": (lambda x: x.std(dim=1), lambda t: t.std(dim=1), A),
    "std_unbiased_false": (lambda x: x.std(dim=1, unbiased=False),
                           lambda t: t.std(dim=1, unbiased=False), A),
    "std_positional_unbiased": (lambda x: x.std(2, False), lambda t: t.std(2, False), A),
    "var_unbiased_keepdim": (lambda x: x.var(dim=1, unbiased=False, keepdim=True),
                             lambda t: t.var(dim=1, unbiased=False, keepdim=True), A),
    "var_correction": (lambda x: x.var(dim=(0, 2), correction=2),
                       lambda t: t.var(dim=(0, 2), correction=2), A),
    "var_bool_overload": (lambda x: x.var(False), lambda t: t.var(False), A),
    "std_bool_overload": (lambda x: x.std(True), lambda t: t.std(True), A),
    "prod_dim": (lambda x: x.prod(dim=1), lambda t: t.prod(dim=1), A),
    "prod_dim_keepdim": (lambda x: x.prod(dim=-1, keepdim=True),
                         lambda t: t.prod(dim=-1, keepdim=True), A),
    "cumsum_dim": (lambda x: x.cumsum(dim=1), lambda t: t.cumsum(dim=1), A),
    "logsumexp_dim": (lambda x: x.logsumexp(dim=1), lambda t: t.logsumexp(dim=1), A),
    "logsumexp_dims_keepdim": (lambda x: x.logsumexp(dim=(0, 2), keepdim=True),
                               lambda t: t.logsumexp(dim=(0, 2), keepdim=True), A),
    "softmax_dim": (lambda x: x.softmax(dim=1), lambda t: t.softmax(dim=1), A),
    "log_softmax_dim": (lambda x: x.log_softmax(dim=-1), lambda t: t.log_softmax(dim=-1), A),
    "squeeze_dim": (lambda x: x.squeeze(dim=0), lambda t: t.squeeze(dim=0), S),
    "squeeze_non1_dim_left": (lambda x: x.squeeze(dim=1), lambda t: t.squeeze(dim=1), S),
    "squeeze_dims": (lambda x: x.squeeze(dim=(0, 1, 2)), lambda t: t.squeeze(dim=(0, 1, 2)), S),
    "unsqueeze_dim": (lambda x: x.unsqueeze(dim=0), lambda t: t.unsqueeze(dim=0), A),
    "unsqueeze_neg": (lambda x: x.unsqueeze(dim=-1), lambda t: t.unsqueeze(dim=-1), A),
    "max_dim_values": (lambda x: x.max(dim=1).values, lambda t: t.max(dim=1).values, A),
    "min_dim_keepdim": (lambda x: x.min(dim=2, keepdim=True)[0],
                        lambda t: t.min(dim=2, keepdim=True)[0], A),
    "max_keepdim_false": (lambda x: x.max(dim=0, keepdim=False).values,
                          lambda t: t.max(dim=0, keepdim=False).values, A),
    "max_pos_torch_keepdim": (lambda x: x.max(1, keepdim=True).values,
                              lambda t: t.max(1, keepdim=True).values, A),
    "max_positional_is_amax": (lambda x: x.max(1), lambda t: t.amax(1), A),
    "max_axis_is_amax": (lambda x: x.max(axis=(0, 2), keepdims=True),
                         lambda t: t.amax(dim=(0, 2), keepdim=True), A),
    "max_tensor": (lambda x: x.max(x.flip(0)), lambda t: t.max(t.flip(0)), A),
    "min_tensor": (lambda x: x.min(x * 0.5), lambda t: t.min(t * 0.5), A),
    "tg_max_dim": (lambda x: tg.max(x, dim=1).values, lambda t: t.max(dim=1).values, A),
    "tg_squeeze_non1": (lambda x: tg.squeeze(x, 1), lambda t: t.squeeze(1), S),
    "swapdims": (lambda x: x.swapdims(0, 2), lambda t: t.swapdims(0, 2), A),
}


@DTYPES
@pytest.mark.parametrize("case", SPELLINGS)
def test_torch_spelling_matches_torch(torch, case, dtype):
    ours, theirs, a = SPELLINGS[case]
    torch_parity(torch, ours, theirs, [a], dtype, RTOL[dtype], seed=len(case))


@DTYPES
def test_vecdot_takes_dim(torch, dtype):
    b = np.random.default_rng(9).standard_normal(A.shape)
    torch_parity(torch, lambda x, y: x.vecdot(y, dim=1),
                 lambda s, t: torch.linalg.vecdot(s, t, dim=1), [A, b], dtype, RTOL[dtype])
    out = tg.vecdot(Tensor(A), Tensor(b), dim=0, keepdim=True)
    np.testing.assert_allclose(out.numpy(), (A * b).sum(0, keepdims=True), rtol=1e-12)


@pytest.mark.parametrize("call", [
    lambda x: x.argmax(dim=1), lambda x: x.argmin(dim=0, keepdim=True),
    lambda x: x.argmax(keepdim=True), lambda x: x.argmax(dim=-1, keepdim=False),
    lambda x: x.max(dim=1).indices, lambda x: x.min(dim=2, keepdim=True).indices,
], ids=["argmax", "argmin_keepdim", "argmax_all_keepdim", "argmax_neg", "max_indices",
        "min_indices_keepdim"])
def test_indices_match_torch(torch, call):
    a = np.round(A * 2) / 2  # ties, which both take the first of
    ours, theirs = call(Tensor(a)), call(torch.tensor(a))
    assert ours.dtype == np.int64 and ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.bool_])
def test_integer_inputs_take_the_torch_spellings_with_numpys_result_types(torch, dtype):
    """The spelling changes nothing but the names: ``x.sum(dim=1)`` is ``x.sum(axis=1)``,
    whose dtype is NumPy's (an integer sum is int64, uint8 uint64, where torch's is int64)."""
    a = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    x, t = Tensor(a), torch.tensor(a)
    for ours, numpy_named in ((x.sum(dim=1), x.sum(axis=1)), (x.cumsum(dim=1), x.cumsum(1)),
                              (x.max(dim=1).values, x.max(axis=1)),
                              (x.prod(dim=0, keepdim=True), x.prod(0, keepdims=True))):
        assert ours.dtype == numpy_named.dtype
        np.testing.assert_array_equal(ours.numpy(), numpy_named.numpy())
    np.testing.assert_array_equal(x.sum(dim=1).numpy(), t.sum(dim=1).numpy())
    np.testing.assert_array_equal(x.max(dim=1).indices.numpy(), t.max(dim=1).indices.numpy())


# ---- 2: max/min along dim= are torch's (values, indices) ------------------------------------------

@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_dim_is_a_named_tuple_with_the_gradient_at_the_index(torch, name, keepdim):
    """torch's tie rule: the first index of a tie is returned and takes the whole gradient (a
    NaN is the extreme, its first index); ``axis=`` (torch's amax) shares it between ties."""
    a = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, -1.0, 2.0, -1.0], [0.5, NAN, 4.0, NAN]])
    x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ours, theirs = getattr(x, name)(dim=1, keepdim=keepdim), getattr(t, name)(dim=1,
                                                                             keepdim=keepdim)
    assert type(ours).__name__ == name and ours._fields == ("values", "indices")
    values, indices = ours  # unpackable
    assert values is ours[0] is ours.values and indices is ours[1] is ours.indices
    assert values.shape == tuple(theirs.values.shape) and indices.dtype == np.int64
    np.testing.assert_array_equal(indices.numpy(), theirs.indices.numpy())
    np.testing.assert_array_equal(values.numpy(), theirs.values.detach().numpy())
    g = np.random.default_rng(1).standard_normal(values.shape)
    values.backward(g)
    theirs.values.backward(torch.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    # the method and the function agree
    fn = getattr(tg, name)(Tensor(a), 1, keepdim)
    np.testing.assert_array_equal(fn.indices.numpy(), indices.numpy())
    assert type(fn) is type(ours)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_axis_and_positional_stay_numpys_values(torch, name):
    a = np.array([[1.0, 3.0, 3.0], [2.0, -1.0, 2.0]])
    for call in (lambda x: getattr(x, name)(1), lambda x: getattr(x, name)(axis=1)):
        x = Tensor(a, requires_grad=True)
        out = call(x)
        assert isinstance(out, Tensor) and out.shape == (2,)
        out.backward(np.array([1.0, 2.0]))
        t = torch.tensor(a, requires_grad=True)
        getattr(torch, "a" + name)(t, 1).backward(torch.tensor([1.0, 2.0]))
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())  # ties share it
    # without a dim: the extreme of all elements, torch's too
    assert float(getattr(Tensor(a), name)(dim=None)) == float(getattr(torch.tensor(a), name)())
    assert float(getattr(Tensor(a), name)(keepdim=False)) == float(getattr(torch.tensor(a),
                                                                           name)())


def test_max_dim_of_0d_and_empty_as_torch(torch):
    v, i = Tensor(np.float64(2.0)).max(dim=-1)
    tv, ti = torch.tensor(2.0, dtype=torch.float64).max(dim=-1)
    assert v.shape == () and float(v) == float(tv) and int(i) == int(ti) == 0
    v, i = tg.zeros(0, 3).min(dim=1, keepdim=True)
    tv, ti = torch.zeros(0, 3).min(dim=1, keepdim=True)
    assert v.shape == tuple(tv.shape) and i.shape == tuple(ti.shape)
    with pytest.raises(IndexError, match="non-zero size"):
        tg.zeros(0, 3).max(dim=0)


# ---- 3: squeeze and unsqueeze -----------------------------------------------------------------

def test_squeeze_dim_is_torchs_and_positional_stays_numpys(torch):
    x, t = Tensor(S), torch.tensor(S)
    for dim in (0, 1, -1, 3, (0, 1), (1, 3), [0, 2], ()):
        assert x.squeeze(dim=dim).shape == tuple(t.squeeze(dim=dim).shape), dim
        assert tg.squeeze(x, dim).shape == tuple(torch.squeeze(t, dim).shape), dim
    assert x.squeeze(dim=None).shape == tuple(t.squeeze().shape)  # tg.squeeze's default: all
    assert x.squeeze(0).shape == (3, 1, 2) and x.squeeze(axis=(0, 2)).shape == (3, 2)
    with pytest.raises(ValueError, match="axis 1 has size 3, not 1"):  # NumPy's rule
        x.squeeze(1)
    s = Tensor(np.float64(3.0))
    assert s.squeeze(dim=0).shape == () and s.squeeze(dim=-1).shape == ()
    assert x.unsqueeze(dim=2).shape == tuple(t.unsqueeze(dim=2).shape)
    assert x.expand_dims(dim=-1).shape == tuple(t.unsqueeze(dim=-1).shape)


# ---- 4: errors ----------------------------------------------------------------------------------

BOTH = {
    "sum": lambda x: x.sum(1, dim=1), "sum_keep": lambda x: x.sum(keepdims=True, keepdim=True),
    "mean": lambda x: x.mean(axis=0, dim=0), "prod": lambda x: x.prod(axis=1, dim=1),
    "argmax": lambda x: x.argmax(0, dim=0), "argmin_keep": lambda x: x.argmin(
        keepdims=True, keepdim=True), "logsumexp": lambda x: x.logsumexp(axis=1, dim=1),
    "std": lambda x: x.std(1, dim=1), "var_keep": lambda x: x.var(keepdims=True, keepdim=True),
    "cumsum": lambda x: x.cumsum(0, dim=0), "softmax": lambda x: x.softmax(0, dim=1),
    "log_softmax": lambda x: x.log_softmax(axis=0, dim=1), "squeeze": lambda x: x.squeeze(
        0, dim=0), "unsqueeze": lambda x: x.unsqueeze(0, dim=0),
    "max": lambda x: x.max(1, dim=1), "min_keep": lambda x: x.min(keepdims=True, keepdim=True,
                                                                  dim=0),
    "vecdot": lambda x: x.vecdot(x, 0, dim=0),
    "nansum": lambda x: x.nansum(dim=1, axis=1), "aminmax": lambda x: x.aminmax(
        keepdim=True, keepdims=True),
}


@pytest.mark.parametrize("case", BOTH)
def test_both_spellings_of_one_argument_is_a_type_error_naming_both(case):
    with pytest.raises(TypeError, match=r"both (dim=|keepdim=).*(axis=|keepdims=)|both "
                                        r"(axis=|keepdims=).*(dim=|keepdim=)"):
        BOTH[case](Tensor(np.ones((2, 3))))


# (ours, torch's, our exception type, its message); torch raises too, IndexError or
# RuntimeError where this library keeps its ValueError for an axis out of range or repeated
BAD = {
    "sum_dim_out_of_range": (lambda x: x.sum(dim=2), lambda t: t.sum(dim=2), ValueError,
                             "out of range"),
    "sum_dim_float": (lambda x: x.sum(dim=1.0), lambda t: t.sum(dim=1.0), TypeError,
                      "must be an int or a tuple of ints, got 1.0"),
    "mean_dim_repeated": (lambda x: x.mean(dim=(0, 0)), lambda t: t.mean(dim=(0, 0)),
                          ValueError, "repeated"),
    "max_dim_tuple": (lambda x: x.max(dim=(0,)), lambda t: t.max(dim=(0,)), TypeError,
                      "argument 'dim' must be int, not tuple"),
    "max_dim_out_of_range": (lambda x: x.max(dim=2), lambda t: t.max(dim=2), ValueError,
                             "out of range"),
    "max_keepdim_without_dim": (lambda x: x.max(keepdim=True), lambda t: t.max(keepdim=True),
                                TypeError, "keepdim needs a dim"),
    "max_tensor_and_dim": (lambda x: x.max(x, dim=0), lambda t: t.max(t, dim=0), TypeError,
                           "no dim or keepdim"),
    "cumsum_dim_none": (lambda x: x.cumsum(dim=None), lambda t: t.cumsum(dim=None), TypeError,
                        "argument 'dim' must be int, not NoneType"),
    "softmax_dim_tuple": (lambda x: x.softmax(dim=(0, 1)), lambda t: t.softmax(dim=(0, 1)),
                          TypeError, r"softmax\(\): axis must be one int"),
    "std_unbiased_int": (lambda x: x.std(dim=1, unbiased=1), lambda t: t.std(dim=1, unbiased=1),
                         TypeError, "unbiased must be a bool"),
    "var_unbiased_and_correction": (lambda x: x.var(dim=1, unbiased=True, correction=1),
                                    lambda t: t.var(1, unbiased=True, correction=1), TypeError,
                                    "give unbiased or correction"),
    "var_unbiased_and_ddof": (lambda x: x.var(1, unbiased=True, ddof=1),
                              lambda t: t.var(1, unbiased=True, correction=1), TypeError,
                              "give unbiased or correction"),
    "var_dim_bool": (lambda x: x.var(dim=True), lambda t: t.var(dim=True), TypeError,
                     "must be an int or a tuple of ints, got True"),
    "squeeze_dim_repeated": (lambda x: x.squeeze(dim=(0, 0)), lambda t: t.squeeze(dim=(0, 0)),
                             ValueError, "repeated dim"),
    "squeeze_dim_out_of_range": (lambda x: x.squeeze(dim=3), lambda t: t.squeeze(dim=3),
                                 ValueError, "dim 3 is out of range"),
    "unsqueeze_dim_out_of_range": (lambda x: x.unsqueeze(dim=3), lambda t: t.unsqueeze(dim=3),
                                   ValueError, r"unsqueeze\(\): dim 3 is out of range"),
    "unsqueeze_dim_tuple": (lambda x: x.unsqueeze(dim=(0, 1)), lambda t: t.unsqueeze(dim=(0, 1)),
                            TypeError, r"unsqueeze\(\): dim must be an int"),
    "unsqueeze_nothing": (lambda x: x.unsqueeze(), lambda t: t.unsqueeze(), TypeError,
                          "missing the axis"),
    "argmax_dim_tuple": (lambda x: x.argmax(dim=(0, 1)), lambda t: t.argmax(dim=(0, 1)),
                         TypeError, r"argmax\(\): axis must be one int"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_dims_are_errors_as_torch(torch, case):
    ours, theirs, kind, message = BAD[case]
    with pytest.raises(kind, match=message):
        ours(Tensor(np.ones((2, 3))))
    with pytest.raises((TypeError, ValueError, IndexError, RuntimeError)):
        theirs(torch.ones(2, 3))


def test_hot_reductions_take_torchs_names_as_plain_keywords():
    """sum, mean, max and softmax take dim=/keepdim= as keyword-only parameters of their own,
    not through a ``**kwargs`` wrapper (a call and a dict on every training step)."""
    for name in ("sum", "mean", "max", "min", "softmax", "log_softmax"):
        fn = getattr(Tensor, name)
        assert not hasattr(fn, "__wrapped__"), name
        params = inspect.signature(fn).parameters
        assert params["dim"].kind is inspect.Parameter.KEYWORD_ONLY, name
        assert not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()), name


# ---- 5: nansum and nanmean -------------------------------------------------------------------

AN = A.copy()
AN[0, 1, :] = NAN  # a whole slice along dim 2
AN[1, ::2, 3] = NAN
AN[2, 0, 0] = NAN
AN_SOME = AN.copy()  # no slice all NaN, along any dim
AN_SOME[0, 1, 0] = 0.5


@DTYPES
@pytest.mark.parametrize("name", ["nansum", "nanmean"])
@pytest.mark.parametrize("kw", [dict(dim=1), dict(dim=(0, 2), keepdim=True), dict(), dict(dim=-1),
                                dict(dim=())], ids=["dim", "dims_keepdim", "all", "neg", "empty"])
def test_nan_reductions_match_torch(torch, name, kw, dtype):
    """Values, and a gradient of 0 at the NaN elements, as torch's (nanmean of an all-NaN
    slice is tested below: there the gradients differ)."""
    a = AN if name == "nansum" else AN_SOME
    torch_parity(torch, lambda x: getattr(x, name)(**kw), lambda t: getattr(t, name)(**kw), [a],
                 dtype, RTOL[dtype])
    torch_parity(torch, lambda x: getattr(tg, name)(x, **kw),
                 lambda t: getattr(torch, name)(t, **kw), [a], dtype, RTOL[dtype])


def test_nanmean_of_an_all_nan_slice(torch):
    """NaN, as torch's. *vs torch:* its elements' gradient is 0 (a select), where torch's is
    NaN (torch multiplies ``g / 0`` by the mask); so is nansum's at NaN elements under a
    non-finite upstream gradient (inf * 0)."""
    x, t = Tensor(AN, requires_grad=True), torch.tensor(AN, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0/0 runs, forward or backward
        out = x.nanmean(dim=2)
        out.backward(np.ones(out.shape))
    ref = t.nanmean(dim=2)
    ref.backward(torch.ones(ref.shape, dtype=torch.float64))
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12)  # NaN at [0, 1]
    assert np.isnan(out.numpy()[0, 1]) and (x.grad.numpy()[0, 1] == 0).all()
    assert np.isnan(t.grad.numpy()[0, 1]).all()  # torch's
    rest = np.ones(AN.shape, bool)
    rest[0, 1] = False
    np.testing.assert_allclose(x.grad.numpy()[rest], t.grad.numpy()[rest], rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.bool_, np.float16,
                                   np.float32])
def test_nansum_dtypes_as_torch(torch, dtype):
    a = (np.arange(12).reshape(3, 4) % 5).astype(dtype)
    ours, theirs = tg.nansum(Tensor(a), 1), torch.nansum(torch.tensor(a), 1)
    assert ours.dtype == theirs.numpy().dtype
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    f = Tensor(a).nansum(dtype=np.float64)
    assert f.dtype == np.float64 and float(f) == float(torch.tensor(a).nansum(dtype=torch.float64))


def test_nanmean_dtypes_as_torch(torch):
    a = AN.astype(np.float32)
    assert Tensor(a).nanmean(1).dtype == np.float32
    h = np.array([60000.0, 60000.0, NAN], np.float16)  # sums in float32, rounds once: inf
    with np.errstate(over="ignore"):
        out = Tensor(h).nanmean()
    np.testing.assert_array_equal(out.numpy(), torch.tensor(h).nanmean().numpy())
    with pytest.raises(TypeError, match="floating point"):
        Tensor(np.arange(3)).nanmean()
    with pytest.raises(RuntimeError, match="floating point"):
        torch.arange(3).nanmean()
    out = Tensor(np.arange(3)).nanmean(dtype=np.float32)
    assert out.dtype == np.float32 and float(out) == 1.0


# ---- 6: cummax and cummin --------------------------------------------------------------------

RUN = np.array([[1.0, 3.0, 3.0, 2.0, NAN, 5.0, NAN, 1.0],
                [2.0, 2.0, -1.0, -1.0, 0.0, 4.0, 4.0, -3.0]])


@DTYPES
@pytest.mark.parametrize("name", ["cummax", "cummin"])
@pytest.mark.parametrize("dim", [1, 0, -1])
def test_cummax_cummin_match_torch(torch, name, dim, dtype):
    """Ties take the latest index and a NaN stays the extreme (its latest index), as torch;
    the gradient goes to the element each value came from, repeats adding up."""
    for a in (RUN, A, np.round(A * 2) / 2):  # each has dims 0, 1 and -1
        ours = getattr(tg, name)(Tensor(a.astype(dtype)), dim)
        theirs = getattr(torch, name)(torch.tensor(a.astype(dtype)), dim)
        assert type(ours).__name__ == name and ours._fields == ("values", "indices")
        assert ours.indices.dtype == np.int64
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        torch_parity(torch, lambda x: getattr(x, name)(dim).values,
                     lambda t: getattr(t, name)(dim).values, [a], dtype, RTOL[dtype])


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_cummax_of_integers_and_bools_as_torch(torch, dtype):
    a = (np.array([[3, 1, 4, 1, 5], [0, 0, 2, -1, 2]]) % 3).astype(dtype)
    for name in ("cummax", "cummin"):
        ours, theirs = getattr(Tensor(a), name)(1), getattr(torch.tensor(a), name)(1)
        assert ours.values.dtype == theirs.values.numpy().dtype
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


def test_cummax_of_0d_and_empty_as_torch(torch):
    v, i = Tensor(np.float64(2.0)).cummax(0)
    assert v.shape == () and float(v) == 2.0 and i.shape == () and int(i) == 0
    v, i = tg.cummin(tg.zeros(0, 3), 0)
    tv, ti = torch.cummin(torch.zeros(0, 3), 0)
    assert v.shape == tuple(tv.shape) and i.shape == tuple(ti.shape)
    with pytest.raises(ValueError, match="out of range"):  # torch: IndexError
        Tensor(A).cummax(3)


# ---- 7: logcumsumexp ------------------------------------------------------------------------

@DTYPES
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_logcumsumexp_matches_torch(torch, dim, dtype):
    torch_parity(torch, lambda x: x.logcumsumexp(dim), lambda t: t.logcumsumexp(dim), [A * 3],
                 dtype, RTOL[dtype])
    torch_parity(torch, lambda x: tg.logcumsumexp(x, dim=dim),
                 lambda t: torch.logcumsumexp(t, dim=dim), [A], dtype, RTOL[dtype])


@DTYPES
def test_logcumsumexp_of_large_and_wide_inputs_does_not_overflow(torch, dtype):
    """exp(1000) is inf in both dtypes, exp(-1000) is 0: the scan of logaddexp never forms
    them, forward or backward (no NumPy warning either), over 37 elements (6 steps)."""
    rng = np.random.default_rng(5)
    a = np.concatenate([[1000.0, 1000.0, -1000.0, -2000.0], rng.uniform(-900, 1100, 33)])
    # x - out near 1000 is exact to an ulp of 1000 only (6e-5 in float32): each gradient
    # exp(x - out), torch's as ours, carries that relative error
    rtol = {np.float64: 1e-10, np.float32: 5e-4}[dtype]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch_parity(torch, lambda x: x.logcumsumexp(0), lambda t: t.logcumsumexp(0), [a],
                     dtype, rtol)
    out = Tensor(a.astype(dtype)).logcumsumexp(0).numpy()
    assert np.isfinite(out).all() and out[1] == pytest.approx(1000 + np.log(2), rel=1e-6)


def test_logcumsumexp_dtypes_and_edges_as_torch(torch):
    h = np.array([1.0, 2.0, 3.5, -1.0], np.float16)
    ours, theirs = Tensor(h).logcumsumexp(0), torch.tensor(h).logcumsumexp(0)
    assert ours.dtype == np.float16  # computed in float32, rounded once
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-3)
    s = Tensor(np.float64(2.5), requires_grad=True)
    out = s.logcumsumexp(0)
    assert out.shape == () and float(out) == 2.5
    out.backward()
    assert float(s.grad) == 1.0
    assert tg.logcumsumexp(tg.zeros(0, 3), 0).shape == (0, 3)
    with pytest.raises(TypeError, match="not implemented for int64"):
        Tensor(np.arange(3)).logcumsumexp(0)
    with pytest.raises(NotImplementedError):
        torch.arange(3).logcumsumexp(0)


def test_logcumsumexp_at_infinities(torch):
    """Values and gradients as torch's: at a leading -inf (whose output is that -inf) and at
    +inf torch's log-space formula gives NaN, and so does ours (test_hunt5_regressions.py)."""
    for a in (np.array([-np.inf, 0.0, 1.0]), np.array([0.0, np.inf, 1.0])):
        x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        out, ref = x.logcumsumexp(0), t.logcumsumexp(0)
        np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
        out.backward(np.ones(3))
        ref.backward(torch.ones(3, dtype=torch.float64))
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


# ---- 8: aminmax and select -------------------------------------------------------------------

@DTYPES
@pytest.mark.parametrize("kw", [dict(), dict(keepdim=True), dict(dim=1), dict(dim=-1, keepdim=True),
                                dict(dim=0)], ids=["all", "all_keepdim", "dim", "neg_keepdim",
                                                   "dim0"])
@pytest.mark.parametrize("field", ["min", "max"])
def test_aminmax_matches_torch(torch, kw, field, dtype):
    """Ties share each gradient evenly, as torch's (amin/amax)."""
    a = np.round(A * 2) / 2
    torch_parity(torch, lambda x: getattr(x.aminmax(**kw), field),
                 lambda t: getattr(t.aminmax(**kw), field), [a], dtype, RTOL[dtype])
    ours, theirs = tg.aminmax(Tensor(a), **kw), torch.aminmax(torch.tensor(a), **kw)
    assert type(ours).__name__ == "aminmax" and ours._fields == ("min", "max")
    lo, hi = ours
    np.testing.assert_array_equal(lo.numpy(), theirs.min.numpy())
    np.testing.assert_array_equal(hi.numpy(), theirs.max.numpy())


def test_aminmax_errors_and_edges_as_torch(torch):
    with pytest.raises(ValueError, match="empty dimension"):  # torch: RuntimeError
        tg.aminmax(tg.zeros(0, 3))
    with pytest.raises(IndexError, match="non-zero size"):
        tg.aminmax(tg.zeros(0, 3), dim=0)
    with pytest.raises(IndexError, match="non-zero size"):
        torch.aminmax(torch.zeros(0, 3), dim=0)
    lo, hi = tg.aminmax(tg.zeros(0, 3), dim=1)
    assert lo.shape == hi.shape == tuple(torch.aminmax(torch.zeros(0, 3), dim=1).min.shape)
    with pytest.raises(TypeError, match="must be int"):
        tg.aminmax(Tensor(A), dim=(0, 1))
    lo, hi = Tensor(np.float32(2.0)).aminmax(dim=0)
    assert lo.shape == hi.shape == () and float(lo) == float(hi) == 2.0
    b = Tensor(np.array([True, False]))
    assert bool(b.aminmax().min) is False and bool(b.aminmax().max) is True


@DTYPES
@pytest.mark.parametrize("dim,index", [(0, 1), (1, -1), (2, 0), (-1, 4)])
def test_select_matches_torch(torch, dim, index, dtype):
    torch_parity(torch, lambda x: x.select(dim, index), lambda t: t.select(dim, index), [A],
                 dtype, RTOL[dtype])
    out = tg.select(Tensor(A), dim, index)
    np.testing.assert_array_equal(out.numpy(), torch.select(torch.tensor(A), dim, index).numpy())


@pytest.mark.parametrize("call,kind", [
    (lambda x: x.select(1, 4), IndexError), (lambda x: x.select(1, -5), IndexError),
    (lambda x: x.select(3, 0), ValueError), (lambda x: x.select(0, 1.0), TypeError),
    (lambda x: x.select(0, True), TypeError),
    (lambda x: x.sum().select(0, 0), IndexError)], ids=[
        "index", "negative_index", "dim", "float_index", "bool_index", "0d"])
def test_select_errors_as_torch(torch, call, kind):
    """Torch's errors (an out-of-range dim is this library's ValueError; torch: IndexError)."""
    with pytest.raises(kind):
        call(Tensor(np.ones((3, 4))))
    with pytest.raises((IndexError, TypeError)):
        call(torch.ones(3, 4))


def test_new_functions_are_exported():
    for name in ("nansum", "nanmean", "cummax", "cummin", "logcumsumexp", "aminmax", "select"):
        assert name in tg.__all__ and callable(getattr(tg, name))
        assert callable(getattr(Tensor, name))


# ---- 9: gradcheck of the composites ----------------------------------------------------------

B = np.random.default_rng(11).permutation(24).reshape(2, 3, 4) / 7.0  # distinct: no ties
BN = B.copy()
BN[0, 1, 2] = BN[1, 0, 0] = NAN

GRADCHECKS = {
    "nansum": (lambda x: x.nansum(dim=1), BN),
    "nanmean": (lambda x: x.nanmean(dim=(0, 2), keepdim=True), BN),
    "cummax": (lambda x: x.cummax(2).values, B),
    "cummin": (lambda x: x.cummin(0).values, B),
    "logcumsumexp": (lambda x: x.logcumsumexp(2) * x, B * 3),
    "aminmax": (lambda x: x.aminmax(dim=1).min * x.aminmax(dim=1).max, B),
    "select": (lambda x: x.select(1, -1) ** 2, B),
    "max_dim": (lambda x: x.max(dim=1).values ** 2, B),
    "var_unbiased": (lambda x: x.var(dim=2, unbiased=False), B),
    "squeeze_dim": (lambda x: x.unsqueeze(dim=1).squeeze(dim=(1, 2)) ** 2, B),
}


@pytest.mark.parametrize("case", GRADCHECKS)
def test_gradcheck(case):
    fn, a = GRADCHECKS[case]
    gradchecks(fn, [a])
