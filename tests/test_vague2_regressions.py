"""Regressions for the bad-input fuzzer's VAGUE and ACCEPT rows (tests/fuzz_bad_input.py): one
test per cluster, each call's message naming the function the user called and the argument,
in torch 2.13's words where torch words it (compared with torch's own message for the same
call). Every test failed before its fix: the message named an inner function ("clip():",
"linear:", "method():", "linalg_vector_norm(): argument 'ord'"), came from NumPy or Python
("'float' object is not iterable", "could not convert string to float"), or a bad flag was
read by its truth value and taken."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
import tinygrad_norm.linalg as L
import tinygrad_norm.nn as nn
import tinygrad_norm.optim as optim
from tinygrad_norm import Tensor


def t(*shape, dtype=np.float64):
    return Tensor(np.linspace(0.1, 0.9, int(np.prod(shape))).reshape(shape).astype(dtype))


def b(*shape):
    return Tensor(np.arange(int(np.prod(shape))).reshape(shape) % 2 == 0)


def _raised(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecated spellings warn first
        with pytest.raises((TypeError, ValueError, IndexError)) as info:
            call()
    return info.value


def _unpositioned(msg):
    """torch's parser says "(position 5)" only for a positional argument: aside here."""
    return re.sub(r" \(position \d\)", "", msg)


def _torch_first_line(torch, call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call(torch)
        except Exception as e:  # noqa: BLE001 -- any refusal: its words are the oracle
            return str(e).splitlines()[0]
    pytest.fail("torch accepted the call")


# ---- in-place methods named the out-of-place method they run ------------------------------
INPLACE = [
    ("clamp_none", lambda: tg.clamp_(t(3, 4), None), "clamp_"),
    ("clamp_shape", lambda: tg.clamp_(t(3, 4), t(4, 3)), "clamp_"),
    ("clamp_max_none", lambda: tg.clamp_max_(t(3, 4), None), "clamp_max_"),
    ("clamp_min_shape", lambda: tg.clamp_min_(t(3, 4), t(0, 4)), "clamp_min_"),
    ("clip_out_shape", lambda: tg.clip_(t(4), t(3, 4)), "clip_"),
    ("ceil_bool", lambda: tg.ceil_(b(3)), "ceil_"),
    ("fix_bool", lambda: tg.fix_(b(3)), "fix_"),
    ("frac_int", lambda: tg.frac_(Tensor(np.arange(3))), "frac_"),
    ("neg_bool", lambda: tg.neg_(b(3)), "neg_"),
    ("negative_bool", lambda: tg.negative_(b(3)), "negative_"),
    ("round_bool", lambda: tg.round_(b(3)), "round_"),
    ("ldexp_", lambda: t(3, 4).ldexp_(t(4, 3)), "ldexp_"),
    ("nextafter_", lambda: t(3, 4).nextafter_(t(0, 4)), "nextafter_"),
    ("igamma_", lambda: t(3, 4).igamma_(t(4, 3)), "igamma_"),
    ("igammac_", lambda: t(3, 4).igammac_(t(4, 3)), "igammac_"),
    ("heaviside_", lambda: t(3, 4).heaviside_(t(0, 4)), "heaviside_"),
    ("addmm_", lambda: t(3, 2).addmm_(t(0, 4), t(4, 2)), "addmm_"),
    ("addr_", lambda: t(3, 4).addr_(t(0), t(4)), "addr_"),
    ("baddbmm_", lambda: t(2, 3, 2).baddbmm_(t(0, 3, 4), t(2, 4, 2)), "baddbmm_"),
    ("eq_", lambda: t(3).eq_("a"), "eq_"),
]


@pytest.mark.parametrize("call, name", [c[1:] for c in INPLACE], ids=[c[0] for c in INPLACE])
def test_inplace_errors_name_the_inplace_call(call, name):
    e = _raised(call)
    assert str(e).startswith(f"{name}(): "), str(e)


def test_inplace_retitle_keeps_the_tensor_and_the_good_path():
    x = t(3, 4)
    before = x.numpy().copy()
    _raised(lambda: tg.clamp_(x, t(4, 3)))
    np.testing.assert_array_equal(x.numpy(), before)  # nothing written before the raise
    assert tg.clamp_(x, 0.2, 0.5) is x and float(x.numpy().max()) == 0.5


# ---- rnn cells: F.linear's checks spoke for them ------------------------------------------
def _cell_args(torch=None, **bad):
    mk = (lambda *s: torch.from_numpy(t(*s).numpy())) if torch else t
    args = {"input": mk(4, 4), "hx": mk(4, 4), "w_ih": mk(4, 4), "w_hh": mk(4, 4)}
    args.update(bad)
    return args


CELLS = [
    ("b_ih_str", {"b_ih": "abc"}, "b_ih", True),
    ("b_ih_int", {"b_ih": -1}, "b_ih", True),
    ("b_hh_float", {"b_hh": 0.5}, "b_hh", True),
    ("w_ih_int", {"w_ih": "int"}, "w_ih", False),
    ("w_hh_float32", {"w_hh": "float32"}, "w_hh", False),
    ("hx_1d", {"hx": "1d"}, "batch size", False),
]


def _cell_bad(v, torch=None):
    if v == "int":
        return torch.ones(4, 4, dtype=torch.int64) if torch else Tensor(np.ones((4, 4), np.int64))
    if v == "float32":
        return torch.ones(4, 4) if torch else t(4, 4, dtype=np.float32)
    if v == "1d":
        return torch.ones(4, dtype=torch.float64) if torch else t(4)
    return v


@pytest.mark.parametrize("fn", ["rnn_tanh_cell", "rnn_relu_cell"])
@pytest.mark.parametrize("bad, word, torch_words", [c[1:] for c in CELLS],
                         ids=[c[0] for c in CELLS])
def test_rnn_cells_name_themselves(torch, fn, bad, word, torch_words):
    ours = {k: _cell_bad(v) for k, v in bad.items()}
    e = _raised(lambda: getattr(tg, fn)(**_cell_args(**ours)))
    assert str(e).startswith(f"{fn}(): ") and word in str(e), str(e)
    if torch_words:  # the argument parser's sentence, word for word
        theirs = {k: _cell_bad(v, torch) for k, v in bad.items()}
        msg = _torch_first_line(torch, lambda tc: getattr(tc, fn)(**_cell_args(tc, **theirs)))
        assert _unpositioned(msg) in _unpositioned(str(e)), (str(e), msg)


# ---- argument types that torch's parser words ---------------------------------------------
PARSER = [
    ("slice_copy_start", lambda m: m.slice_copy(m.ones(3, 4), 0, "abc")),
    ("slice_copy_end", lambda m: m.slice_copy(m.ones(3, 4), 0, None, 1.5)),
    ("dist_p_str", lambda m: m.dist(m.ones(3), m.ones(3), p="abc")),
    ("dist_p_list", lambda m: m.ones(3).dist(m.ones(3), p=["a"])),
    ("frobenius_norm_dim_none", lambda m: m.frobenius_norm(m.ones(3, 4), dim=None)),
    ("frobenius_norm_dim_float", lambda m: m.frobenius_norm(m.ones(3, 4), dim=1.0)),
    ("cholesky_solve_upper", lambda m: m.cholesky_solve(m.eye(2), m.eye(2), "False")),
    ("cholesky_inverse_upper", lambda m: m.cholesky_inverse(m.eye(2), upper=None)),
    ("qr_some", lambda m: m.qr(m.eye(2), some="no")),
    ("asarray_requires_grad", lambda m: m.asarray([1.0], requires_grad="no")),
    ("range_requires_grad", lambda m: m.range(0, 3, requires_grad=1.0)),
    ("type_non_blocking", lambda m: m.ones(2).type(non_blocking="x")),
    ("to_dense_masked_grad", lambda m: m.ones(2).to_dense(masked_grad=2)),
    ("slice_copy_dim_bool", lambda m: m.slice_copy(m.ones(3, 4), True)),
]


@pytest.mark.parametrize("call", [c[1] for c in PARSER], ids=[c[0] for c in PARSER])
def test_argument_types_in_torchs_words(torch, call):
    e = _raised(lambda: call(tg))
    msg = _torch_first_line(torch, call)
    assert _unpositioned(msg) in _unpositioned(str(e)), (str(e), msg)  # the same sentence


# ---- iterables that Python's own errors spoke for -----------------------------------------
ITERABLES = [
    ("histogram_range_str", lambda: tg.histogram(t(10), 4, range="abc"), "histogram", "range"),
    ("histogram_range_int", lambda: t(10).histogram(4, range=-1), "histogram", "range"),
    ("histogram_range_strs", lambda: tg.histogram(t(10), 4, range=["a", "b"]), "histogram",
     "range"),
    ("histogram_range_three", lambda: tg.histogram(t(10), 4, range=(0.0, 1.0, 2.0)),
     "histogram", "range"),
    ("histogramdd_range_nan", lambda: tg.histogramdd(t(5, 2), 2, range=float("nan")),
     "histogramdd", "range"),
    ("nuclear_norm_dim_int", lambda: tg.nuclear_norm(t(3, 4), dim=-1), "nuclear_norm", "dim"),
    ("tensorsolve_dims", lambda: L.tensorsolve(t(4, 4), t(4), dims=1 + 2j),
     "linalg.tensorsolve", "dims"),
    ("gradient_dim", lambda: tg.gradient(t(3, 4), dim=float("nan")), "gradient", "dim"),
    ("histogram_density", lambda: tg.histogram(t(10), 4, density="no"), "histogram",
     "density"),
    ("histogramdd_density", lambda: tg.histogramdd(t(5, 2), 2, density=1), "histogramdd",
     "density"),
]


@pytest.mark.parametrize("call, fn, arg", [c[1:] for c in ITERABLES],
                         ids=[c[0] for c in ITERABLES])
def test_sequence_arguments_named(call, fn, arg):
    msg = str(_raised(call))
    assert msg.startswith(f"{fn}(): ") and (f"'{arg}'" in msg or f" {arg} " in msg), msg


# ---- shapes: torch's sentence, with the function's name -----------------------------------
SHAPES = [
    ("broadcast_shapes_len", lambda m: m.broadcast_shapes((3,), (1, 4)), "broadcast_shapes"),
    ("broadcast_shapes_rank", lambda m: m.broadcast_shapes((3, 1), (1, 4, 4)),
     "broadcast_shapes"),
    ("broadcast_shapes_neg", lambda m: m.broadcast_shapes((-1, -1), (1, 4)), "broadcast_shapes"),
    ("sum_to_size", lambda m: m.ones(4).sum_to_size((1, 4)), "sum_to_size"),
    ("sum_to_size_neg", lambda m: m.ones(3, 4).sum_to_size((-1, -1)), "sum_to_size"),
    ("take_empty", lambda m: m.take(m.ones(0, 4), m.tensor([5])), "take"),
    ("slice_copy_0d", lambda m: m.slice_copy(m.tensor(1.0), 0), "slice_copy"),
    ("slice_scatter_0d", lambda m: m.slice_scatter(m.tensor(1.0), m.tensor(1.0)),
     "slice_scatter"),
    ("range_nan_step", lambda m: m.range(0, 5, float("nan")), "range"),
]


@pytest.mark.parametrize("call, fn", [c[1:] for c in SHAPES], ids=[c[0] for c in SHAPES])
def test_shape_errors_in_torchs_words(torch, call, fn):
    e = _raised(lambda: call(tg))
    msg = _torch_first_line(torch, call)
    assert str(e).startswith(f"{fn}(): ") and msg in str(e), (str(e), msg)


# ---- helpers' names: the call the user wrote instead ---------------------------------------
HELPERS = [
    ("index_copy", lambda: tg.index_copy(t(0, 4), 1, Tensor(np.array([0, 2])), t(3, 2)),
     "index_copy"),
    ("index_copy_", lambda: t(4, 3).index_copy_(1, Tensor(np.array([0, 2])), t(3, 2)),
     "index_copy_"),
    ("unflatten", lambda: tg.unflatten(t(3, 4), 1, (-1, -1)), "unflatten"),
    ("cumulative_trapezoid_0d", lambda: tg.cumulative_trapezoid(Tensor(np.float64(1.0))),
     "cumulative_trapezoid"),
    ("unsafe_chunk_0d", lambda: tg.unsafe_chunk(Tensor(np.float64(1.0)), 2), "unsafe_chunk"),
    ("diagonal_copy_0d", lambda: tg.diagonal_copy(Tensor(np.float64(1.0))), "diagonal_copy"),
    ("set_printoptions_profile", lambda: tg.set_printoptions(profile={"a": 1}),
     "set_printoptions"),
    ("new_strings", lambda: t(2).new(["a"]), "new"),
    ("randint_size_none", lambda: tg.randint(0, 5, None), "randint"),  # torch: no sentence
    ("embedding_bag_weight", lambda: nn.EmbeddingBag(10, 4, _weight=["a"]), "EmbeddingBag"),
    ("linear_cross_entropy_dtype", lambda: F.linear_cross_entropy(
        t(4, 4), Tensor(np.ones((4, 4), np.int64)), t(4, 4)), "linear_cross_entropy"),
    ("linear_cross_entropy_target", lambda: F.linear_cross_entropy(t(4, 4), t(0, 4), t(4, 4)),
     "linear_cross_entropy"),
    ("muon_coefficients", lambda: optim.Muon([nn.Parameter(np.ones((2, 2)))],
                                              ns_coefficients=(1, 2)), "ns_coefficients"),
    ("muon_steps", lambda: optim.Muon([nn.Parameter(np.ones((2, 2)))], ns_steps=10 ** 12),
     "ns_steps"),
    ("sgd_nan_lr", lambda: optim.SGD([nn.Parameter(np.ones(2))], lr=float("nan")), "lr"),
]


@pytest.mark.parametrize("call, name", [c[1:] for c in HELPERS], ids=[c[0] for c in HELPERS])
def test_helpers_errors_name_the_call(call, name):
    e = _raised(call)
    assert re.search(rf"(^|\b){re.escape(name)}(\(\))?(:| must)", str(e)), str(e)


# ---- torch's dim rule for squeeze_ / squeeze_copy (they raised, torch leaves the dim) -------
def test_squeeze_inplace_and_copy_follow_torchs_dim_rule(torch):
    a = np.ones((3, 1, 4))
    for dim in (-1, 0, 1, (0, 1)):
        want = torch.squeeze_copy(torch.from_numpy(a), dim).shape
        assert tg.squeeze_copy(Tensor(a), dim).shape == tuple(want)
        x = Tensor(a.copy())
        tx = torch.from_numpy(a.copy())
        if not isinstance(dim, tuple):
            assert x.squeeze_(dim) is x and x.shape == tuple(tx.squeeze_(dim).shape)


def test_good_calls_unchanged(torch):
    """The checks added on the way are for bad values only."""
    x = t(10)
    assert tg.histogram(x, 4, range=(0, 1)).hist.numpy().tolist() == \
        torch.histogram(torch.from_numpy(x.numpy()), 4, range=(0, 1)).hist.tolist()
    assert tg.broadcast_shapes((2, 1), (3,), 1) == (2, 3)
    assert tg.slice_copy(t(3, 4), 1, np.int64(1), 3).shape == (3, 2)
    assert tg.randint(5, (2,)).shape == (2,) and tg.randint(0, 5, [3]).shape == (3,)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated, as torch's
        assert tg.frobenius_norm(t(3, 4), 1).shape == (3,)
    assert float(tg.dist(t(3), t(3) * 2, Tensor(np.float64(3.0)))) == pytest.approx(
        float(torch.dist(torch.from_numpy(t(3).numpy()), torch.from_numpy(t(3).numpy() * 2), 3)))
