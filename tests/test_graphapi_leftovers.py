"""The small names a dir() diff against torch found missing: data.StackDataset,
nn.utils.clip_grad_norm and nn.init's underscore-less spellings (deprecated, with torch's
FutureWarning text), and torch.random's seeding functions and fork_rng."""
import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm.data import DataLoader, StackDataset
from tinygrad_norm.nn import init

torch = pytest.importorskip("torch")


def _warned(fn, *args, **kw):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = fn(*args, **kw)
    return out, [(x.category, str(x.message)) for x in w]


def test_stack_dataset_as_torch():
    from torch.utils.data import StackDataset as TStack
    a, b = np.arange(4), np.arange(4) * 10
    ds, ts = StackDataset(tg.tensor(a), tg.tensor(b)), TStack(torch.tensor(a), torch.tensor(b))
    assert len(ds) == len(ts) == 4
    assert [int(v) for v in ds[2]] == [int(v) for v in ts[2]]
    dk, tk = StackDataset(x=tg.tensor(a), y=tg.tensor(b)), TStack(x=torch.tensor(a),
                                                                    y=torch.tensor(b))
    assert {k: int(v) for k, v in dk[1].items()} == {k: int(v) for k, v in tk[1].items()}
    assert [{k: int(v) for k, v in s.items()} for s in dk.__getitems__([0, 3])] == \
        [{k: int(v) for k, v in s.items()} for s in tk.__getitems__([0, 3])]
    batch = next(iter(DataLoader(dk, batch_size=2)))
    assert batch["y"].tolist() == [0, 10]
    for args, kw in [((), {}), ((tg.tensor(a),), {"x": tg.tensor(a)}),
                     ((tg.tensor(a), tg.tensor(np.arange(3))), {})]:
        with pytest.raises(ValueError) as mine:
            StackDataset(*args, **kw)
        targs = tuple(torch.tensor(v.data) for v in args)
        tkw = {k: torch.tensor(v.data) for k, v in kw.items()}
        with pytest.raises(ValueError) as theirs:
            TStack(*targs, **tkw)
        assert str(mine.value) == str(theirs.value)


def test_clip_grad_norm_deprecated_alias():
    p = tg.Tensor(np.array([3.0, 4.0]), requires_grad=True)
    p.grad = tg.tensor([3.0, 4.0], dtype=np.float64)
    pt = torch.tensor([3.0, 4.0], dtype=torch.float64, requires_grad=True)
    pt.grad = torch.tensor([3.0, 4.0], dtype=torch.float64)
    (n, w), (nt, wt) = _warned(tg.nn.utils.clip_grad_norm, [p], 1.0), \
        _warned(torch.nn.utils.clip_grad_norm, [pt], 1.0)
    assert w == wt and float(n) == float(nt) == 5.0
    np.testing.assert_allclose(p.grad.data, pt.grad.numpy(), rtol=1e-12)
    from tinygrad_norm.nn.utils.clip_grad import clip_grad_norm  # torch's module spelling too
    assert clip_grad_norm is tg.nn.utils.clip_grad_norm


@pytest.mark.parametrize("name, args", [
    ("uniform", ()), ("normal", ()), ("constant", (0.5,)), ("eye", ()), ("dirac", ()),
    ("xavier_uniform", ()), ("xavier_normal", ()), ("kaiming_uniform", ()),
    ("kaiming_normal", ()), ("orthogonal", ()), ("sparse", (0.5,))])
def test_init_deprecated_names_warn_as_torch(name, args):
    shape = (3, 3, 3) if name == "dirac" else (4, 4)
    t = tg.Tensor(np.zeros(shape, np.float32))
    tg.manual_seed(0)
    out, w = _warned(getattr(init, name), t, *args)
    _, wt = _warned(getattr(torch.nn.init, name), torch.zeros(shape), *args)
    assert out is t and w == wt
    tg.manual_seed(0)
    fresh = getattr(init, name + "_")(tg.Tensor(np.zeros(shape, np.float32)), *args)
    assert np.array_equal(fresh.data, t.data)  # the same function under the old name


def test_random_module_seeding_and_fork_rng():
    for name in ("seed", "initial_seed", "get_rng_state", "set_rng_state", "fork_rng"):
        assert callable(getattr(tg.random, name))
    assert tg.random.get_rng_state is tg.get_rng_state
    tg.manual_seed(1)
    first = tg.rand(3).data
    tg.manual_seed(1)
    with tg.random.fork_rng():
        tg.rand(5)
        tg.manual_seed(9)
        tg.rand(2)
    assert np.array_equal(tg.rand(3).data, first) and tg.random.initial_seed() == 1

    @tg.random.fork_rng()
    def draws():
        return tg.rand(2)
    tg.manual_seed(1)
    draws()
    assert np.array_equal(tg.rand(3).data, first)
    with tg.random.fork_rng(enabled=False):
        tg.manual_seed(1)
        tg.rand(3)
    assert not np.array_equal(tg.rand(3).data, first)  # not forked: the draws went on
    with pytest.raises(TypeError, match="enabled"):
        tg.random.fork_rng(enabled=1)
