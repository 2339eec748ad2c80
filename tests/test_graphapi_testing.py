"""tinygrad_norm.testing against torch.testing (2.13): assert_close's verdicts and failure
messages text for text (but for the tensor class's name), its tolerances per dtype, the
deprecated assert_allclose's warning and looser defaults, make_tensor's ranges, options and
errors."""
import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm.testing import assert_allclose, assert_close, make_tensor

torch = pytest.importorskip("torch")

_DT = {None: (None, None), "f64": (np.float64, torch.float64), "f16": (np.float16, torch.float16),
       "i64": (np.int64, torch.int64), "bool": (np.bool_, torch.bool)}


class _T:
    """A tensor spec built in either library: T([1., 2.], "f64")."""

    def __init__(self, values, dt=None):
        self.values, self.dt = values, dt

    def make(self, lib):
        if lib == "torch":
            return torch.tensor(self.values, dtype=_DT[self.dt][1])
        return tg.tensor(self.values, dtype=_DT[self.dt][0])


def _build(x, lib):
    if isinstance(x, _T):
        return x.make(lib)
    if isinstance(x, list):
        return [_build(v, lib) for v in x]
    if isinstance(x, tuple):
        return tuple(_build(v, lib) for v in x)
    if isinstance(x, dict):
        return {k: _build(v, lib) for k, v in x.items()}
    return x


def _outcome(fn, actual, expected, lib, **kw):
    try:
        fn(_build(actual, lib), _build(expected, lib), **kw)
    except Exception as e:  # the type and text, the tensor class named alike
        text = str(e).replace("torch.Tensor", "T").replace("tinygrad_norm.tensor.Tensor", "T")
        return type(e).__name__, text
    return None


T, nan, inf = _T, float("nan"), float("inf")
CASES = [
    (T([1., 2., 3.]), T([1., 2.5, 3.1]), {}),
    (T([[1., 2.], [3., 4.]]), T([[1., 2.], [3., 5.]]), {}),
    (T(1.), T(2.), {}),
    (T([1., 2.]), T([1., 2., 3.]), {}),
    (T([1., 2.]), T([[1., 2.]]), {}),
    (T([1., 2.]), T([1., 2.], "f64"), {}),
    (T([1., 2.]), T([1., 2.1], "f64"), {"check_dtype": False}),
    (T([1, 2]), T([1, 3]), {}),
    (T([1, 2, 3], "i64"), T([1, 2, 5], "i64"), {}),
    (T([True, False]), T([False, False]), {}),
    (T([1.], "f16"), T([1.001], "f16"), {}),
    (T([1., 0.]), T([1., 1e-6]), {}),
    (T([0., 2.]), T([1., 2.]), {}),
    (T([1e-9]), T([0.]), {}),
    (T([1., 2., 3., 4.]), T([1.1, 2., 3.5, 4.]), {"rtol": 0.01, "atol": 0.0}),
    (T([nan]), T([nan]), {}),
    (T([nan]), T([nan]), {"equal_nan": True}),
    (T([inf, 1.]), T([inf, 1.]), {}),
    (T([inf, 1.]), T([-inf, 1.]), {}),
    (T([1.]), T([1.]), {"rtol": 1e-3}),
    (T([1.]), T([1.]), {"atol": 1e-3}),
    (T([1.]), T([2.]), {"msg": "custom"}),
    (T([1.]), T([2.]), {"msg": lambda m: "X" + m}),
    (T([1., 2.]), 3, {}),
    (1.0, 1.0 + 1e-3, {}),
    (1, 2, {}),
    (1, 1.0, {}),
    (True, False, {}),
    (None, None, {}),
    (None, 1, {}),
    ("a", "a", {}),
    ([1., 2.], [1., 2.1], {}),
    ((1., 2.), [1., 2.], {}),
    ({"a": T(1.)}, {"a": T(2.)}, {}),
    ({"a": T(1.)}, {"b": T(1.)}, {}),
    ([T(1.)], [T(1.), T(2.)], {}),
    ([[T([1., 2.])]], [[T([1., 3.])]], {}),
    ({"x": [T([1., 2.]), 3]}, {"x": [T([1., 2.]), 4]}, {}),
]


@pytest.mark.parametrize("actual, expected, kw", CASES)
def test_assert_close_matches_torch(actual, expected, kw):
    mine = _outcome(assert_close, actual, expected, "tg", **kw)
    theirs = _outcome(torch.testing.assert_close, actual, expected, "torch", **kw)
    assert mine == theirs


def test_assert_close_arrays_and_mixed_types():
    assert_close(np.array([1., 2.]), np.array([1., 2.]))
    with pytest.raises(AssertionError, match="Mismatched elements: 1 / 2"):
        assert_close(np.array([1., 2.]), np.array([1., 2.5]))
    with pytest.raises(TypeError, match="No comparison pair"):  # as torch: Tensor vs ndarray
        assert_close(tg.tensor([1., 2.]), np.array([1., 2.], np.float32))
    # a requires-grad tensor compares by value; allow_subclasses=False needs one exact type
    assert_close(tg.tensor([1., 2.], requires_grad=True) * 1, tg.tensor([1., 2.]))

    class Sub(tg.Tensor):
        pass
    s = Sub(np.array([1., 2.], np.float32))
    assert_close(s, tg.tensor([1., 2.]))
    with pytest.raises(TypeError, match="No comparison pair"):
        assert_close(s, tg.tensor([1., 2.]), allow_subclasses=False)


def test_assert_close_check_stride():
    a = np.arange(6.).reshape(2, 3)
    assert_close(a.T, np.ascontiguousarray(a.T))
    with pytest.raises(AssertionError, match=r"attribute 'stride\(\)' do not match: \(1, 3\) "
                                             r"!= \(2, 1\)"):
        assert_close(a.T, np.ascontiguousarray(a.T), check_stride=True)


def test_default_tolerances_per_dtype():
    # just inside and just outside torch's (rtol, atol) for float32 and float64
    for dt, rtol, atol in ((np.float32, 1.3e-6, 1e-5), (np.float64, 1e-7, 1e-7)):
        e = np.array([1000.0], dt)
        inside = e + dt(0.9 * (atol + rtol * 1000))
        outside = e + dt(1.5 * (atol + rtol * 1000))
        assert_close(tg.tensor(inside), tg.tensor(e))
        with pytest.raises(AssertionError):
            assert_close(tg.tensor(outside), tg.tensor(e))


@pytest.mark.parametrize("a, e", [([1.], [2.]), ([1., 2.], [1., 2.00001]), ([1.], [1.]),
                                  ([nan], [nan])])
def test_assert_allclose_deprecated_as_torch(a, e):
    out = []
    for lib, fn in (("tg", assert_allclose), ("torch", torch.testing.assert_allclose)):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            out.append((_outcome(fn, T(a), T(e), lib),
                        [(x.category, str(x.message)) for x in w]))
        assert out[-1][1] and out[-1][1][0][0] is FutureWarning
    assert out[0] == out[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_allclose([1., 2.], [1., 2.000001])  # lists become tensors, as torch


@pytest.mark.parametrize("dtype, low, high", [(np.float32, -9, 9), (np.float64, -9, 9),
                                              (np.int64, -9, 10), (np.int8, -9, 10),
                                              (np.uint8, 0, 10), (np.bool_, 0, 2)])
def test_make_tensor_default_ranges(dtype, low, high):
    t = make_tensor(40, 50, dtype=dtype, device="cpu")
    assert t.shape == (40, 50) and t.dtype == dtype and not t.requires_grad
    v = t.data.astype(np.float64)
    assert v.min() >= low and v.max() < high
    if dtype != np.bool_:
        assert v.min() < low + 1.5 and v.max() > high - 1.5  # the range is used, not a corner
    else:
        assert set(np.unique(v)) == {0.0, 1.0}


def test_make_tensor_options():
    tg.manual_seed(3)
    a = make_tensor((3, 4), dtype=np.float32, device="cpu", low=-1, high=1)
    tg.manual_seed(3)
    b = make_tensor(3, 4, dtype=np.float32, device="cpu", low=-1, high=1)
    assert np.array_equal(a.data, b.data)  # one generator: the seed repeats it
    assert a.data.min() >= -1 and a.data.max() < 1
    n = make_tensor(3, 4, dtype=np.float64, device="cpu", noncontiguous=True,
                    requires_grad=True)
    assert n.shape == (3, 4) and not n.data.flags.c_contiguous and n.requires_grad and n.is_leaf
    z = make_tensor(200, dtype=np.int64, device="cpu", low=-1, high=2, exclude_zero=True)
    assert 0 not in z.data and set(np.unique(z.data)) <= {-1, 1}
    zf = make_tensor(5, dtype=np.float32, device="cpu", low=0, high=1e-40, exclude_zero=True)
    assert (zf.data != 0).all()
    wide = make_tensor(100, dtype=np.float32, device="cpu", low=-1e40, high=1e40)
    assert np.isfinite(wide.data).all()  # clamped to float32's range, drawn without overflow
    assert make_tensor(0, dtype=np.float32, device="cpu").shape == (0,)
    assert make_tensor(dtype=np.float32, device="cpu").shape == ()


@pytest.mark.parametrize("kw", [dict(low=3, high=1), dict(low=float("nan")),
                                dict(requires_grad=True, dtype="int32"),
                                dict(dtype="uint8", low=300, high=400),
                                dict(noncontiguous=True, memory_format="channels_last")])
def test_make_tensor_errors_as_torch(kw):
    kw = {"dtype": "float32", **kw}
    tdt = getattr(torch, kw["dtype"])
    with pytest.raises(ValueError) as theirs:
        torch.testing.make_tensor(3, device="cpu", **{**kw, "dtype": tdt,
                                                      **({"memory_format": torch.channels_last}
                                                         if "memory_format" in kw else {})})
    with pytest.raises(ValueError) as mine:
        make_tensor(3, device="cpu", **{**kw, "dtype": np.dtype(kw["dtype"])})
    assert str(mine.value).split(" but got")[0] == str(theirs.value).split(" but got")[0]


def test_make_tensor_bad_arguments():
    with pytest.raises(TypeError, match="make_tensor"):
        make_tensor(2.5, dtype=np.float32, device="cpu")
    with pytest.raises(TypeError, match="dtype"):
        make_tensor(2, dtype="U3", device="cpu")
    with pytest.raises(ValueError):
        make_tensor(2, dtype=np.float32, device="cuda:7")
