"""Regressions for what the value fuzzer (tests/fuzz_values.py) and the bad-input fuzzer
(tests/fuzz_bad_input.py) still found at the edges: each test compares with torch 2.13 on the
call that differed (values and gradients under a random upstream gradient, float64 tight), or
pins the error a bad argument now gets before anything is allocated."""
from __future__ import annotations

import contextlib
import functools
import signal
import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional  # noqa: F401  (tg.functional)
from tinygrad_norm import random as tg_random

inf, nan = np.inf, np.nan


def _grads(lib, fn, arrays, g, **kw):
    """Output and input gradients of ``fn`` under the upstream gradient ``g``, in either
    library (``lib`` is ``tg`` or ``torch``): one helper so that both run the same call."""
    if lib is tg:
        ts = [tg.tensor(a, requires_grad=True) for a in arrays]
        out = fn(*ts, **kw)
        gs = tg.grad(out, ts, [tg.tensor(np.asarray(g, out.dtype))], allow_unused=True)
        return np.asarray(out.data), [None if t is None else np.asarray(t.data) for t in gs]
    ts = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts, **kw)
    gs = lib.autograd.grad(out, ts, lib.tensor(np.asarray(g)).to(out.dtype), allow_unused=True)
    return out.detach().numpy(), [None if t is None else t.numpy() for t in gs]


def _same(ours, theirs, rtol, atol=0.0):
    """Equal values, NaN where torch has NaN, infinities of the same sign."""
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, equal_nan=True)


def _compare(torch, ours, theirs, arrays, seed=0, rtol=1e-10, atol=0.0, **kw):
    g = np.random.default_rng(seed).standard_normal(np.shape(theirs(*[torch.tensor(a) for a in arrays],
                                                                     **kw)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out_t, g_t = _grads(torch, theirs, arrays, g, **kw)
        out_o, g_o = _grads(tg, ours, arrays, g, **kw)
    _same(out_o, out_t, rtol, atol)
    for a, b in zip(g_o, g_t):
        if b is None:
            continue
        _same(np.zeros_like(b) if a is None else a, b, rtol, atol)


# ------------------------------------------------------------------ logcumsumexp
# Rows of the 3,000-case fuzz that differed: NaN leaked into the gradient of finite entries
# after a +inf (the scan's logaddexp(inf, b) gives its +inf operand g * exp(inf - inf)), and of
# -inf entries two of which met in one logaddexp (exp(-inf + inf)) after a finite entry.
_LCSE_ROWS = [
    [1.0, inf, 2.0, -1.0],
    [inf, 0.5, -3.0, 4.0, 1.0],
    [-4.9, 1.9, inf, -1.3, 1.2],
    [-0.1, inf, inf, 0.8, -1.9],
    [1.5, -inf, -inf],
    [-4.5, -inf, inf],
    [-inf, -inf, 0.3, -inf, -inf, inf, -inf, 2.0],
    [0.7, nan, inf, -inf, 1.0],    # a NaN slice: torch's gradient is NaN throughout
]


@pytest.mark.parametrize("row", _LCSE_ROWS)
@pytest.mark.parametrize("dim", [0, 1])
def test_logcumsumexp_gradient_after_an_infinity(torch, row, dim):
    x = np.array([row, np.linspace(-2, 2, len(row))])  # a finite row beside it
    x = x if dim == 1 else x.T.copy()
    _compare(torch, tg.logcumsumexp, torch.logcumsumexp, [x], dim=dim)


def test_logcumsumexp_mixed_fuzz_float64_and_float32(torch):
    # the fuzz that found the rows: +-inf/NaN laced in, every dim, random upstream gradient
    rng = np.random.default_rng(1)
    for i in range(60):
        shp = tuple(int(s) for s in rng.integers(1, 5, 3))
        a = rng.standard_normal(shp) * 3
        a = np.where(rng.random(shp) < 0.3, rng.choice([inf, -inf, inf, nan], shp), a)
        dim = int(rng.integers(-3, 3))
        _compare(torch, tg.logcumsumexp, torch.logcumsumexp, [a], seed=i, dim=dim)
        # float32: values to float32 rounding, gradients' NaN/0 pattern the same
        _compare(torch, tg.logcumsumexp, torch.logcumsumexp, [a.astype(np.float32)], seed=i,
                 rtol=1e-4, dim=dim)


def test_logcumsumexp_finite_path_unchanged():
    a = np.random.default_rng(0).standard_normal((3, 5))
    assert tg.gradcheck(lambda t: tg.logcumsumexp(t, 1), [tg.tensor(a, requires_grad=True)])
    assert tg.gradgradcheck(lambda t: tg.logcumsumexp(t, 0), [tg.tensor(a, requires_grad=True)])


# ------------------------------------------------------------------ absurd sizes (bad-input fuzzer)
# Each hung (a Python loop of 10**12 layers or pieces: torch 2.13 hangs on the layers as well, and
# its tensor_split says "std::bad_alloc") or drew weights from the generator before NumPy's
# allocation failed. Now a MemoryError in torch's allocator's words names the argument first.
_HUGE = 10 ** 12
_ABSURD = [
    ("tensor_split", lambda: tg.tensor_split(tg.zeros(4), _HUGE), "indices_or_sections"),
    ("Tensor.tensor_split", lambda: tg.zeros(4).tensor_split(_HUGE), "indices_or_sections"),
    ("GRU", lambda: tg.nn.GRU(4, 4, num_layers=_HUGE), "num_layers"),
    ("LSTM", lambda: tg.nn.LSTM(4, 4, num_layers=_HUGE), "num_layers"),
    ("RNN", lambda: tg.nn.RNN(4, 4, num_layers=_HUGE), "num_layers"),
    ("Transformer_enc", lambda: tg.nn.Transformer(4, 2, num_encoder_layers=_HUGE),
     "num_encoder_layers"),
    ("Transformer_dec", lambda: tg.nn.Transformer(4, 2, num_decoder_layers=_HUGE),
     "num_decoder_layers"),
    ("Transformer_ff", lambda: tg.nn.Transformer(4, 2, dim_feedforward=_HUGE), "dim_feedforward"),
    ("EncoderLayer_ff", lambda: tg.nn.TransformerEncoderLayer(4, 2, dim_feedforward=_HUGE),
     "dim_feedforward"),
    ("DecoderLayer_ff", lambda: tg.nn.TransformerDecoderLayer(4, 2, dim_feedforward=_HUGE),
     "dim_feedforward"),
    ("Encoder", lambda layer: tg.nn.TransformerEncoder(layer, _HUGE), "num_layers"),
    ("Decoder", lambda layer: tg.nn.TransformerDecoder(layer, _HUGE), "num_layers"),
]


@contextlib.contextmanager
def _deadline(seconds):
    """Fail (not hang) where the old code looped for hours: SIGALRM raises in the call."""
    def _late(*_):
        raise TimeoutError(f"still running after {seconds} s")
    old = signal.signal(signal.SIGALRM, _late)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("name,call,arg", _ABSURD, ids=[c[0] for c in _ABSURD])
def test_absurd_sizes_refused_up_front_without_drawing(name, call, arg):
    tg.manual_seed(3)
    if name in ("Encoder", "Decoder"):  # the stack gets a layer (which draws) built first
        layer = getattr(tg.nn, f"Transformer{name}Layer")(4, 2, 8)
        call = functools.partial(call, layer)
    before = repr(tg_random._generator.bit_generator.state)
    with _deadline(30), pytest.raises(MemoryError, match=rf"can't allocate memory: {arg}={_HUGE}"):
        call()
    assert repr(tg_random._generator.bit_generator.state) == before


def test_ordinary_sizes_still_built():
    assert len(tg.tensor_split(tg.zeros(4), 10)) == 10
    assert len(tg.nn.GRU(3, 4, num_layers=3).all_weights) == 3
    assert len(tg.nn.TransformerEncoder(tg.nn.TransformerEncoderLayer(4, 2, 8), 3).layers) == 3


# ------------------------------------------------------------------ value fuzzer rows fixed
_TINY = np.array([5e-324, -5e-324, 1e-310, -1e-305, 1e-300, 1e-200, -1e-100, 0.0, -0.0, 0.7,
                  -2.5, 1e300, -1e300])
# the series' exact slope (-pi**2 x / 3, 1e-100 at 1e-100) against torch's 0 there; no NaN
_ULP0 = 1e-15


def test_sinc_gradient_at_subnormals_and_beside_a_zero(torch):
    # the quotient's derivative cancels to ~1e-16/x (1e284 at 1e-300, 1e84 at -1e-100; torch
    # 0) and overflowed at the subnormals (inf - inf: NaN, torch 0), and a 0
    # in the tensor sent the series' (pi x)**4 = inf slope times 0 (NaN) to 1e300
    _compare(torch, tg.sinc, torch.sinc, [_TINY], atol=_ULP0)
    _compare(torch, tg.special.sinc, torch.special.sinc, [_TINY.reshape(1, -1)], seed=1,
             atol=_ULP0)
    _compare(torch, tg.sinc, torch.sinc, [_TINY[:-2].astype(np.float32)], rtol=1e-6)


def test_sinc_derivatives_at_zero_kept():
    x = tg.tensor(np.array([0.0, 1e-310, 0.3, -1.2]), requires_grad=True)
    assert tg.gradcheck(tg.sinc, [x])
    assert tg.gradgradcheck(tg.sinc, [x])


def test_i1e_gradient_at_subnormals(torch):
    # the kernel's derivative divides by x: NaN and -inf at the subnormals (torch: 1/2)
    x = np.concatenate([_TINY, [1e-9, -3e-9, 2e-8, 30.0, -40.0]])
    _compare(torch, tg.special.i1e, torch.special.i1e, [x], atol=_ULP0)
    _compare(torch, tg.special.i1e, torch.special.i1e, [x[np.abs(x) < 1e30].astype(np.float32)], rtol=2e-5,
             atol=1e-44)  # (torch's float32 kernel: ~6e-6 apart at -2.5 and 30)
    # (no gradgradcheck: i1e's second derivative jumps at 0, -sign(x), and the finite
    # differences about a tiny x straddle it)
    t = tg.tensor(np.array([1e-9, -1e-300, 0.4, -2.0]), requires_grad=True)
    assert tg.gradcheck(tg.special.i1e, [t])


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_renorm_of_one_element_slices_with_a_huge_value(torch, p):
    # torch's norm of one element is |x| (no power); (|x| ** 3) ** (1 / 3) overflowed at 1e300:
    # the output was -0 where torch scales to -maxnorm
    x = np.array([[-1.7643, -0.9772, -1e300, 0.4]])
    o = np.asarray(tg.renorm(tg.tensor(x), p, 1, 0.5).data)
    _same(o, torch.renorm(torch.tensor(x), p, 1, 0.5).numpy(), 1e-12)
    _compare(torch, lambda t: tg.renorm(t, p, 1, 0.5), lambda t: torch.renorm(t, p, 1, 0.5),
             [x[:, [0, 1, 3]].copy()], rtol=1e-8, atol=1e-16)  # (at 1e300 torch's: NaN)
    t = tg.tensor(np.array([[-1.7, 0.9, 2.5]]), requires_grad=True)
    assert tg.gradcheck(lambda v: tg.renorm(v, p, 1, 0.5), [t])


@pytest.mark.parametrize("size", [(4, 3), (6, 3), (6, 2), (2, 3)])
def test_interpolate_area_with_an_infinity_stays_in_its_windows(torch, size):
    # the window-weight products gave 0 * inf = NaN in every cell of the inf's row/column
    x = np.random.default_rng(2).standard_normal((1, 2, 3, 4))
    x[0, 0, 1, 2], x[0, 1, 2, 0], x[0, 1, 0, 3] = inf, -inf, nan
    f = tg.functional.interpolate
    _compare(torch, lambda t: f(t, size=size, mode="area"),
             lambda t: torch.nn.functional.interpolate(t, size=size, mode="area"), [x])
    _compare(torch, lambda t: f(t, size=size, mode="area"),
             lambda t: torch.nn.functional.interpolate(t, size=size, mode="area"),
             [x.astype(np.float32)], rtol=1e-6)


def test_renorm_of_empty_slices(torch):
    # (the one-element rule must not take an empty slice for one: max of nothing)
    for shape, dim in [((2, 0), 1), ((0, 3), 0), ((1, 0), 1)]:
        x = np.zeros(shape)
        _same(np.asarray(tg.renorm(tg.tensor(x), 2.0, dim, 0.5).data),
              torch.renorm(torch.tensor(x), 2.0, dim, 0.5).numpy(), 0)


# ------------------------------------------------------------------ vague messages (bad-input fuzzer)
# NumPy's words from inside a primitive ("operands could not be broadcast together with shapes",
# "unsupported operand type(s) for *", "slice indices must be integers") named neither the
# function nor the argument; torch 2.13 names 'value', 'start' and 'end' as these do.
def _v(*shape):
    return tg.tensor(np.linspace(0.1, 0.9, int(np.prod(shape))).reshape(shape))


_VAGUE = [
    ("addcdiv_shape", lambda: tg.addcdiv(_v(3, 4), _v(4, 3), _v(3, 4)), ValueError,
     r"addcdiv\(\): operands of shapes \(3, 4\), \(4, 3\) and \(3, 4\) cannot be broadcast"),
    ("addcdiv_method_shape", lambda: _v(3, 4).addcdiv(_v(3, 4), _v(0, 4)), ValueError,
     r"addcdiv\(\): operands of shapes"),
    ("addcdiv_value_str", lambda: tg.addcdiv(_v(2), _v(2), _v(2), value="a"), TypeError,
     r"addcdiv\(\): argument 'value' must be Number, not str"),
    ("addcdiv_value_none", lambda: _v(2).addcdiv_(_v(2), _v(2), value=None), TypeError,
     r"argument 'value' must be Number, not NoneType"),
    ("lerp_shape", lambda: tg.lerp(_v(3, 4), _v(4, 3), 0.5), ValueError,
     r"lerp\(\): operands of shapes \(3, 4\) and \(4, 3\) cannot be broadcast"),
    ("lerp_weight_shape", lambda: _v(3, 4).lerp(_v(3, 4), _v(0, 4)), ValueError,
     r"lerp\(\): operands of shapes"),
    ("nextafter_shape", lambda: tg.nextafter(_v(3, 4), _v(0, 4)), ValueError,
     r"nextafter\(\): operands of shapes \(3, 4\) and \(0, 4\)"),
    ("slice_scatter_start", lambda: tg.slice_scatter(_v(3, 2), _v(1, 2), 0, "a"), TypeError,
     r"slice_scatter\(\): argument 'start' must be int, not str"),
    ("slice_scatter_end", lambda: tg.slice_scatter(_v(3, 2), _v(1, 2), 0, 0, nan), TypeError,
     r"slice_scatter\(\): argument 'end' must be int, not float"),
]


@pytest.mark.parametrize("name,call,exc,pattern", _VAGUE, ids=[c[0] for c in _VAGUE])
def test_bad_argument_named(name, call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_good_calls_of_the_checked_functions_unchanged(torch):
    a, b, c = (np.random.default_rng(i).standard_normal((3, 1)) + 2 for i in range(3))
    _compare(torch, lambda x, y, z: tg.addcdiv(x, y, z.reshape(1, 3), value=0.5),
             lambda x, y, z: torch.addcdiv(x, y, z.reshape(1, 3), value=0.5), [a, b, c])
    _compare(torch, lambda x, y: tg.lerp(x, y.reshape(1, 3), 0.3),
             lambda x, y: torch.lerp(x, y.reshape(1, 3), 0.3), [a, b])
    assert float(tg.addcdiv(_v(2), _v(2), _v(2), value=tg.tensor(2.0)).data[0]) == pytest.approx(2.1)
    out = tg.slice_scatter(tg.zeros(4, 2), tg.ones(2, 2), 0, 1, 3)
    assert out.data.sum() == 4 and out.data[0].sum() == 0


@pytest.mark.parametrize("name,kw", [("clamp_", {"min": "a"}), ("clip_", {"max": "b"}),
                                     ("clamp_min_", {"min": "a"}), ("clamp_max_", {"max": "a"})])
def test_top_level_in_place_spellings_name_themselves(name, kw):
    """tg.clamp_(x, min='a') said "fn(): min must be a number": the factory's inner name."""
    x = tg.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=rf"^{name}\(\): "):
        getattr(tg, name)(x, *kw.values()) if name.endswith(("min_", "max_")) \
            else getattr(tg, name)(x, **kw)
