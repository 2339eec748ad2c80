"""tinygrad_norm.Generator: torch.Generator's interface over an independent NumPy stream."""
import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import data as tdata


def test_a_seeded_generator_repeats_and_leaves_the_global_stream_alone():
    tg.manual_seed(0)
    expected_global = tg.randn(3).numpy()
    tg.manual_seed(0)
    g = tg.Generator().manual_seed(42)
    a = tg.randn(2, 3, generator=g).numpy()
    b = tg.rand(4, generator=g).numpy()
    assert np.array_equal(tg.randn(3).numpy(), expected_global)  # the global one did not move
    g.manual_seed(42)
    assert np.array_equal(tg.randn(2, 3, generator=g).numpy(), a)
    assert np.array_equal(tg.rand(4, generator=g).numpy(), b)
    assert g.initial_seed() == 42 and g.device == tg.device("cpu")


def test_state_round_trip_and_other_draws():
    g = tg.Generator().manual_seed(7)
    state = g.get_state()
    assert state.dtype == np.uint8 and state.ndim == 1
    first = tg.randint(0, 100, (5,), generator=g).numpy()
    perm = tg.randperm(6, generator=g).numpy()
    g.set_state(state)
    assert np.array_equal(tg.randint(0, 100, (5,), generator=g).numpy(), first)
    assert np.array_equal(tg.randperm(6, generator=g).numpy(), perm)
    assert g.set_state(state) is g
    with pytest.raises(ValueError, match="Invalid RNG state"):
        g.set_state(tg.tensor(np.zeros(4, np.uint8)))


def test_data_pipeline_takes_it():
    splits = [tdata.random_split(range(10), [7, 3], generator=tg.Generator().manual_seed(1))
              for _ in range(2)]
    assert [list(s) for s in splits[0]] == [list(s) for s in splits[1]]
    ds = tdata.TensorDataset(tg.tensor(np.arange(8.0)))
    orders = [[float(b[0].numpy()[0]) for b in tdata.DataLoader(
        ds, batch_size=1, shuffle=True, generator=tg.Generator().manual_seed(3))] for _ in range(2)]
    assert orders[0] == orders[1] and sorted(orders[0]) == list(np.arange(8.0))


def test_seed_and_errors():
    g = tg.Generator()
    s = g.seed()
    assert g.initial_seed() == s and 0 <= s < 2 ** 64
    with pytest.raises(TypeError, match=r"Generator.manual_seed\(\): seed must be an int"):
        g.manual_seed(1.5)
    with pytest.raises(ValueError, match="seed must be non-negative"):
        g.manual_seed(-1)
    with pytest.raises(ValueError):
        tg.Generator(device="cuda")
    with pytest.raises(TypeError, match="generator must be a tinygrad_norm.Generator or a "
                                        "numpy.random.Generator, got int"):
        tg.randn(2, generator=3)
    assert np.random.default_rng(0).standard_normal(2).tolist() == \
        tg.randn(2, generator=np.random.default_rng(0), dtype=np.float64).numpy().tolist()


def test_torch_spelling_matches_torchs_interface():
    torch = pytest.importorskip("torch")
    for name in ("manual_seed", "seed", "initial_seed", "get_state", "set_state", "device"):
        assert hasattr(torch.Generator(), name) and hasattr(tg.Generator(), name)
