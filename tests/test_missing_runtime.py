"""torch's top-level runtime functions: seeding and generator state (``seed``, ``initial_seed``,
``get_rng_state``, ``set_rng_state``: a saved state replays the same draws), thread counts (the
BLAS pool really limited where threadpoolctl is installed), the deterministic-algorithms
switches, ``compile`` (the model itself), the default device, ``set_printoptions`` (precision,
summarising, scientific notation, profiles; the default repr unchanged) and ``tg.vmap``; the
argument checks, with torch's messages where torch has them."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor, nn


# ---- seeding and state ------------------------------------------------------------------------

def test_initial_seed_follows_manual_seed_and_seed(torch):
    tg.manual_seed(123)
    torch.manual_seed(123)
    assert tg.initial_seed() == torch.initial_seed() == 123
    s = tg.seed()
    assert isinstance(s, int) and 0 <= s < 2 ** 64 and tg.initial_seed() == s
    a = tg.randn(4).numpy()
    tg.manual_seed(s)  # the returned seed replays the run
    np.testing.assert_array_equal(tg.randn(4).numpy(), a)
    assert tg.seed() != s  # fresh entropy each time (a 2**-64 chance of a false failure)


def test_a_saved_state_replays_the_same_draws_everywhere():
    tg.manual_seed(0)
    state = tg.get_rng_state()
    assert state.dtype == np.uint8 and state.ndim == 1
    first = (tg.randn(3).numpy(), nn.Dropout(0.5)(tg.ones(8)).numpy(), tg.randint(0, 9, (4,)))
    tg.set_rng_state(state)
    again = (tg.randn(3).numpy(), nn.Dropout(0.5)(tg.ones(8)).numpy(), tg.randint(0, 9, (4,)))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(np.asarray(a.numpy() if hasattr(a, "numpy") else a),
                                      np.asarray(b.numpy() if hasattr(b, "numpy") else b))
    copy = tg.get_rng_state()
    tg.randn(5)
    assert not np.array_equal(copy.numpy(), tg.get_rng_state().numpy())  # a copy, not a view


def test_the_state_survives_save_and_load(tmp_path):
    tg.manual_seed(4)
    tg.save({"rng": tg.get_rng_state()}, tmp_path / "ckpt.pt")
    want = tg.randn(3).numpy()
    tg.manual_seed(99)
    tg.set_rng_state(tg.load(tmp_path / "ckpt.pt")["rng"])
    np.testing.assert_array_equal(tg.randn(3).numpy(), want)


def test_bad_states_are_refused_and_the_generator_kept():
    tg.manual_seed(1)
    before = tg.get_rng_state().numpy().copy()
    with pytest.raises(TypeError, match="expected a uint8 Tensor from get_rng_state\\(\\), but got "
                                        "list"):
        tg.set_rng_state([1, 2])
    with pytest.raises(TypeError, match="RNG state must be a 1-D uint8 Tensor"):
        tg.set_rng_state(tg.zeros(3))
    for junk in (Tensor(np.full(20, 7, np.uint8)), Tensor(np.frombuffer(b'{"a": 1}', np.uint8))):
        with pytest.raises(ValueError, match="Invalid RNG state"):
            tg.set_rng_state(junk)
    np.testing.assert_array_equal(tg.get_rng_state().numpy(), before)


# ---- threads, determinism, compile, devices ---------------------------------------------------

@pytest.fixture
def restore_threads():
    from tinygrad_norm import runtime
    saved, blas_threads = dict(runtime._state), tg.get_num_threads()
    yield
    runtime._state.update(saved)
    pools = runtime._blas_pools()
    if pools is not None:  # give the BLAS back its thread count for the rest of the suite
        pools.limit(limits=blas_threads)


def test_set_num_threads_limits_numpys_blas(restore_threads):
    tg.set_num_threads(1)
    assert tg.get_num_threads() == 1
    threadpoolctl = pytest.importorskip("threadpoolctl")
    blas = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    assert blas and all(p["num_threads"] == 1 for p in blas)


@pytest.mark.parametrize("fn", ["set_num_threads", "set_num_interop_threads"])
@pytest.mark.parametrize("bad,err", [(0, ValueError), (-1, ValueError), (1.5, TypeError),
                                     ("a", TypeError), (True, TypeError)])
def test_thread_counts_are_checked_with_torchs_words(torch, restore_threads, fn, bad, err):
    if not isinstance(bad, bool):
        with pytest.raises(RuntimeError) as theirs:
            getattr(torch, fn)(bad)
        msg = str(theirs.value)
    else:
        msg = f"{fn} expects an int, but got bool"
    before = (tg.get_num_threads(), tg.get_num_interop_threads())
    with pytest.raises(err, match="^" + re.escape(msg) + "$"):
        getattr(tg, fn)(bad)
    assert (tg.get_num_threads(), tg.get_num_interop_threads()) == before


def test_interop_threads_are_recorded(restore_threads):
    assert tg.get_num_interop_threads() == 1
    tg.set_num_interop_threads(3)
    assert tg.get_num_interop_threads() == 3


def test_deterministic_switches_as_torch(torch, restore_threads):
    assert tg.are_deterministic_algorithms_enabled() is False
    tg.use_deterministic_algorithms(True, warn_only=True)
    assert tg.are_deterministic_algorithms_enabled() is True
    assert tg.is_deterministic_algorithms_warn_only_enabled() is True
    tg.use_deterministic_algorithms(False)
    assert tg.are_deterministic_algorithms_enabled() is False
    assert tg.is_deterministic_algorithms_warn_only_enabled() is False
    with pytest.raises(TypeError) as theirs:
        torch.use_deterministic_algorithms(1)
    with pytest.raises(TypeError, match="argument 'mode' .*must be bool, not int"):
        tg.use_deterministic_algorithms(1)
    assert "must be bool, not int" in str(theirs.value)
    with pytest.raises(TypeError, match="argument 'warn_only' must be bool, not int"):
        tg.use_deterministic_algorithms(True, warn_only=1)
    assert tg.are_deterministic_algorithms_enabled() is False


def test_compile_returns_the_model_and_works_as_a_decorator():
    model = nn.Linear(2, 1)
    assert tg.compile(model) is model
    assert tg.compile(model, mode="max-autotune", fullgraph=True) is model

    @tg.compile(dynamic=True)
    def f(x):
        return x * 2

    assert f(tg.ones(2)).numpy().tolist() == [2.0, 2.0]
    with pytest.raises(TypeError, match="a callable function is expected, but int is provided"):
        tg.compile(3)


def test_default_device(torch):
    assert tg.get_default_device() == tg.device("cpu")
    assert str(tg.get_default_device()) == str(torch.get_default_device())
    tg.set_default_device("cpu")
    tg.set_default_device(None)
    with pytest.raises(ValueError, match="set_default_device\\(\\): device 'cuda' is not "
                                         "available"):
        tg.set_default_device("cuda")
    with pytest.raises(ValueError, match="Expected one of cpu"):
        tg.set_default_device("foo")


def test_vmap_is_func_vmap(torch):
    assert tg.vmap is tg.func.vmap
    x = np.random.default_rng(0).standard_normal((4, 3))
    out = tg.vmap(lambda r: (r * r).sum())(Tensor(x))
    np.testing.assert_allclose(out.numpy(), torch.vmap(lambda r: (r * r).sum())(
        torch.from_numpy(x)).numpy(), rtol=1e-12)


# ---- print options ----------------------------------------------------------------------------

@pytest.fixture
def restore_print():
    yield
    tg.set_printoptions(profile="default")


def test_default_repr_is_unchanged(restore_print):
    x = Tensor(np.array([1.0, 2.5, -3.25], np.float32))
    assert repr(x) == "Tensor([ 1.  ,  2.5 , -3.25], dtype=float32)"
    assert "..." in repr(tg.arange(200)) and "..." not in repr(tg.arange(100))


def test_precision_threshold_edgeitems_and_sci_mode(restore_print):
    x = Tensor(np.array([math.pi, 1234.5, -0.001]))
    tg.set_printoptions(precision=2)
    assert "3.14" in repr(x) and "3.142" not in repr(x)
    tg.set_printoptions(sci_mode=True)
    assert "3.14e+00" in repr(x) and "1.23e+03" in repr(x)
    tg.set_printoptions(sci_mode=False)
    assert "1234.50" in repr(x) and "e+" not in repr(x)
    tg.set_printoptions(threshold=5, edgeitems=1)
    assert re.search(r"\[0\., \.\.\., 9\.\]", repr(tg.arange(10.0)))
    tg.set_printoptions(profile="full")
    assert "..." not in repr(tg.arange(5000))
    tg.set_printoptions(profile="short")
    assert "3.14" in repr(x) and "..." in repr(tg.arange(5000))
    tg.set_printoptions(profile="default")
    assert repr(Tensor(np.array([math.pi]))) == "Tensor([3.1416], dtype=float64)"


@pytest.mark.parametrize("kw,err", [(dict(precision=-1), ValueError),
                                    (dict(precision=1.5), TypeError),
                                    (dict(threshold="a"), TypeError),
                                    (dict(edgeitems=0), ValueError),
                                    (dict(sci_mode=1), TypeError),
                                    (dict(profile="x"), ValueError),
                                    (dict(precision=2, linewidth=0), ValueError)])
def test_print_options_are_checked_before_any_change(restore_print, kw, err):
    before = repr(Tensor(np.array([math.pi])))
    with pytest.raises(err, match="set_printoptions\\(\\)"):
        tg.set_printoptions(**kw)
    assert repr(Tensor(np.array([math.pi]))) == before
