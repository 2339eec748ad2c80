"""nn.Unflatten, F.pixel_shuffle / F.pixel_unshuffle and their layers, nn.ParameterList,
nn.ParameterDict and nn.Embedding.from_pretrained against torch: values, gradients, reprs,
state-dict keys, parameters() and errors."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn


def _grad_parity(torch, ours, theirs, a):
    x, t = Tensor(a.copy(), requires_grad=True), torch.tensor(a.copy(), requires_grad=True)
    out, ref = ours(x), theirs(t)
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    assert out.dtype == a.dtype
    g = np.random.default_rng(1).standard_normal(out.shape).astype(a.dtype)
    out.backward(Tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


# ---- Unflatten ------------------------------------------------------------------------------

@pytest.mark.parametrize("dim,size,shape", [(1, (2, 5), (3, 10)), (1, [2, -1], (3, 10)),
                                            (-1, (2, 2, 3), (4, 12)), (0, (2, 3), (6, 2, 2)),
                                            (2, (1, 4), (2, 3, 4))])
def test_unflatten_as_torch(torch, dim, size, shape):
    ours, theirs = nn.Unflatten(dim, size), torch.nn.Unflatten(dim, size)
    assert repr(ours) == repr(theirs)
    a = np.random.default_rng(0).standard_normal(shape)
    _grad_parity(torch, ours, theirs, a)


@pytest.mark.parametrize("args,exc,match", [
    ((1, 4), TypeError, "must be a tuple of ints"),
    ((1, (2, 2.0)), TypeError, "element of type float at pos 1"),
    ((1.0, (2, 5)), TypeError, "dim"),
])
def test_unflatten_construction_errors_as_torch(torch, args, exc, match):
    with pytest.raises(exc, match=match):
        nn.Unflatten(*args)
    with pytest.raises((TypeError, AttributeError)):
        torch.nn.Unflatten(*args)(torch.ones(3, 10))


def test_unflatten_call_errors():
    with pytest.raises(ValueError, match="multiply up"):
        nn.Unflatten(1, (3, 5))(Tensor(np.ones((3, 10))))
    with pytest.raises(TypeError, match="Tensor"):
        nn.Unflatten(1, (2, 5))(np.ones((3, 10)))


# ---- pixel shuffle --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,r", [((2, 8, 3, 4), 2), ((8, 3, 4), 2), ((5, 2, 9, 2, 3), 3),
                                     ((1, 3, 2, 2), 1), ((2, 0, 3, 4), 2)])
def test_pixel_shuffle_as_torch(torch, shape, r, dtype):
    a = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    if not a.size:  # torch's backward fails on no channels ("invalid gradient"); ours is empty
        x = Tensor(a, requires_grad=True)
        F.pixel_shuffle(x, r).sum().backward()
        assert x.grad.shape == a.shape
        assert F.pixel_shuffle(x, r).shape == tuple(
            torch.nn.functional.pixel_shuffle(torch.tensor(a), r).shape)
        return
    _grad_parity(torch, lambda x: F.pixel_shuffle(x, r),
                 lambda t: torch.nn.functional.pixel_shuffle(t, r), a)
    out = F.pixel_shuffle(Tensor(a), r)
    # the inverse, on the shuffled shape
    _grad_parity(torch, lambda x: F.pixel_unshuffle(x, r),
                 lambda t: torch.nn.functional.pixel_unshuffle(t, r), out.numpy())
    np.testing.assert_array_equal(F.pixel_unshuffle(out, r).numpy(), a)


def test_pixel_shuffle_layers_and_integers_as_torch(torch):
    for ours, theirs in [(nn.PixelShuffle(2), torch.nn.PixelShuffle(2)),
                         (nn.PixelUnshuffle(3), torch.nn.PixelUnshuffle(3))]:
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == []
    a = np.arange(2 * 8 * 6 * 6).reshape(2, 8, 6, 6)  # int64 moves as torch's
    for m, tm in [(nn.PixelShuffle(2), torch.nn.PixelShuffle(2)),
                  (nn.PixelUnshuffle(3), torch.nn.PixelUnshuffle(3))]:
        out = m(Tensor(a))
        assert out.dtype == np.int64
        np.testing.assert_array_equal(out.numpy(), tm(torch.tensor(a)).numpy())


@pytest.mark.parametrize("call,exc,match", [
    (lambda f, x: f.pixel_shuffle(x[0, 0], 2), ValueError, "at least 3 dimensions"),
    (lambda f, x: f.pixel_shuffle(x[:, :7], 2), ValueError, "divisible by the square"),
    (lambda f, x: f.pixel_shuffle(x, 0), ValueError, "positive upscale_factor"),
    (lambda f, x: f.pixel_shuffle(x, 2.0), TypeError, "upscale_factor"),
    (lambda f, x: f.pixel_unshuffle(x[:, :, :5], 2), ValueError, "height to be divisible"),
    (lambda f, x: f.pixel_unshuffle(x[..., :5], 2), ValueError, "width to be divisible"),
    (lambda f, x: f.pixel_unshuffle(x, -1), ValueError, "positive downscale_factor"),
    (lambda f, x: f.pixel_unshuffle(x, True), TypeError, "downscale_factor"),
    (lambda f, x: f.pixel_unshuffle(x[0, 0], 2), ValueError, "at least 3 dimensions"),
])
def test_pixel_shuffle_errors_where_torch_raises(torch, call, exc, match):
    a = np.ones((2, 8, 6, 6))
    with pytest.raises(exc, match=match):
        call(F, Tensor(a))
    with pytest.raises((RuntimeError, TypeError)):
        call(torch.nn.functional, torch.tensor(a))
    with pytest.raises(TypeError, match="Tensor"):
        F.pixel_shuffle(a, 2)


# ---- ParameterList and ParameterDict ---------------------------------------------------------

def _torch_repr(torch_module):
    # NumPy's dtype names (torch's ParameterList writes torch.float32, its ParameterDict
    # torch.FloatTensor)
    text = repr(torch_module).replace("torch.FloatTensor", "float32")
    return text.replace("torch.DoubleTensor", "float64").replace("torch.", "")


def _pair(torch, shape, dtype=np.float32):
    a = np.random.default_rng(sum(shape)).standard_normal(shape).astype(dtype)
    return nn.Parameter(a.copy()), torch.nn.Parameter(torch.tensor(a))


def test_parameter_list_as_torch(torch):
    (p0, t0), (p1, t1), (p2, t2) = _pair(torch, (2, 3)), _pair(torch, (3,)), _pair(torch, (4, 1))
    ours, theirs = nn.ParameterList([p0, p1]), torch.nn.ParameterList([t0, t1])
    ours.append(p2)
    theirs.append(t2)
    a = np.ones(5, np.float64)
    ours.extend([Tensor(a)])  # a plain Tensor becomes a Parameter, as torch's
    theirs.extend([torch.tensor(a)])
    assert repr(ours) == _torch_repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0", "1", "2", "3"]
    assert len(ours) == len(theirs) == 4
    assert [p.shape for p in ours] == [tuple(t.shape) for t in theirs]
    assert ours[0] is p0 and ours[-2] is p2 and isinstance(ours[3], nn.Parameter)
    assert ours[3].requires_grad and np.shares_memory(ours[3].data, a)
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    sub = ours[1:3]
    assert type(sub) is nn.ParameterList and list(sub.state_dict()) == ["0", "1"]
    assert sub[0] is p1
    ours[0] = Tensor(np.zeros(2, np.float32))
    assert ours.state_dict()["0"].shape == (2,) and ours[0] is not p0
    ours += [nn.Parameter(np.zeros(1, np.float32))]
    assert len(ours) == 5 and "0" not in dir(ours)


def test_parameter_list_in_a_model_trains_and_loads(torch):
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = nn.ParameterList([nn.Parameter(np.full(3, float(i), np.float32))
                                        for i in range(2)])

        def forward(self, x):
            for w in self.ws:
                x = x * w
            return x

    m = Model()
    assert list(m.state_dict()) == ["ws.0", "ws.1"]
    m(Tensor(np.ones(3, np.float32))).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    other = Model()
    other.ws[0].data[...] = 7.0
    m.load_state_dict(other.state_dict())
    np.testing.assert_array_equal(m.ws[0].numpy(), [7, 7, 7])


def test_parameter_list_errors():
    pl = nn.ParameterList([nn.Parameter(np.zeros(1, np.float32))])
    with pytest.raises(TypeError, match="is not a Tensor"):
        pl.append(3.0)
    with pytest.raises(TypeError, match="is not a Tensor"):
        pl.extend([Tensor(np.ones(1)), "x"])
    assert len(pl) == 1  # checked before any was added
    with pytest.raises(TypeError, match="iterable"):
        pl.extend(Tensor(np.ones(2)))
    with pytest.raises(IndexError):
        pl[1]
    with pytest.raises(IndexError):
        pl[3] = Tensor(np.ones(1))
    with pytest.raises(TypeError, match="indices"):
        pl["0"]
    with pytest.raises(RuntimeError, match="should not be called"):
        pl(1)


def test_parameter_dict_as_torch(torch):
    (pa, ta), (pb, tb), (pc, tc) = _pair(torch, (2, 3)), _pair(torch, (3,)), _pair(torch, (1,))
    # a plain dict goes in sorted key order, as torch's update
    ours, theirs = nn.ParameterDict({"b": pb, "a": pa}), torch.nn.ParameterDict({"b": tb, "a": ta})
    ours.update(OrderedDict([("z", pc), ("c", Tensor(np.ones(2)))]))
    theirs.update(OrderedDict([("z", tc), ("c", torch.ones(2, dtype=torch.float64))]))
    ours.update([("y", pc)])
    theirs.update([("y", tc)])
    assert repr(ours) == _torch_repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["a", "b", "z", "c", "y"]
    assert list(ours) == list(theirs) and list(reversed(ours)) == list(reversed(theirs))
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    assert ours["a"] is pa and "a" in ours and "q" not in ours and len(ours) == 5
    assert [p.shape for p in ours.values()] == [tuple(t.shape) for t in theirs.values()]
    assert [k for k, _ in ours.items()] == list(ours.keys()) == list(theirs.keys())
    assert ours.get("q") is None and ours.get("a") is pa
    assert ours.pop("b") is pb and "b" not in ours and list(ours.state_dict())[:2] == ["a", "z"]
    assert ours.popitem()[0] == theirs.popitem()[0] == "y"
    assert ours.setdefault("a") is pa
    new = ours.setdefault("n", Tensor(np.zeros(1)))
    assert ours["n"] is new and isinstance(new, nn.Parameter)
    copy = ours.copy()
    assert list(copy) == list(ours) and copy["a"] is pa
    del ours["a"]
    assert "a" not in ours and "a" not in ours.state_dict()
    ours.clear()
    assert len(ours) == 0 and list(ours.parameters()) == []


def test_parameter_dict_errors():
    pd = nn.ParameterDict({"w": nn.Parameter(np.zeros(1, np.float32))})
    with pytest.raises(TypeError, match="not a string"):
        pd[1] = Tensor(np.ones(1))
    with pytest.raises(ValueError, match="'.'"):
        pd["a.b"] = Tensor(np.ones(1))
    with pytest.raises(ValueError, match="class attribute"):
        pd["keys"] = Tensor(np.ones(1))
    with pytest.raises(ValueError, match="training"):
        pd["training"] = Tensor(np.ones(1))
    with pytest.raises(ValueError, match="already exists"):
        pd["_buffers"] = Tensor(np.ones(1))
    with pytest.raises(TypeError, match="is not a Tensor"):
        pd["v"] = 3
    with pytest.raises(ValueError, match="'.'"):
        pd.update({"ok": Tensor(np.ones(1)), "b.c": Tensor(np.ones(1))})
    with pytest.raises(TypeError, match="not a string"):
        pd.update({"ok": Tensor(np.ones(1)), 2: Tensor(np.ones(1))})
    with pytest.raises(ValueError, match="length 3"):
        pd.update([("ok", Tensor(np.ones(1)), 1)])
    with pytest.raises(TypeError, match="mapping or an iterable"):
        pd.update(3)
    assert list(pd) == ["w"]  # every failed update left it as it was
    with pytest.raises(KeyError):
        pd["missing"]
    with pytest.raises(RuntimeError, match="should not be called"):
        pd(1)


# ---- Embedding.from_pretrained ---------------------------------------------------------------

@pytest.mark.parametrize("freeze", [True, False])
@pytest.mark.parametrize("padding_idx", [None, 1, -1])
def test_embedding_from_pretrained_as_torch(torch, freeze, padding_idx):
    w = np.random.default_rng(0).standard_normal((5, 3))
    ours = nn.Embedding.from_pretrained(Tensor(w), freeze=freeze, padding_idx=padding_idx)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(w), freeze=freeze,
                                                padding_idx=padding_idx)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.weight.requires_grad == theirs.weight.requires_grad == (not freeze)
    assert ours.weight.dtype == np.float64
    np.testing.assert_array_equal(ours.weight.numpy(), w)  # the padding row is kept
    idx = np.array([[0, 1, 4], [4, 4, 2]])
    out, ref = ours(Tensor(idx)), theirs(torch.tensor(idx))
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    if not freeze:
        g = np.random.default_rng(1).standard_normal(out.shape)
        out.backward(Tensor(g))
        ref.backward(torch.tensor(g))
        np.testing.assert_array_equal(ours.weight.grad.numpy(), theirs.weight.grad.numpy())


def test_embedding_from_pretrained_shares_the_array_and_draws_nothing():
    w = np.ones((4, 2), np.float32)
    tg.manual_seed(0)
    e = nn.Embedding.from_pretrained(w)
    after = tg.randn(1).numpy()
    tg.manual_seed(0)
    assert np.array_equal(after, tg.randn(1).numpy())  # the generator was not touched
    assert np.shares_memory(e.weight.data, w) and e.weight.dtype == np.float32
    assert e.num_embeddings == 4 and e.embedding_dim == 2


@pytest.mark.parametrize("embeddings,exc,match", [
    (np.ones(3), ValueError, "2-dimensional"), ([[1.0, 2.0]], TypeError, "Tensor or an ndarray"),
    (np.ones((2, 2), np.int64), TypeError, "floating point"),
])
def test_embedding_from_pretrained_errors(embeddings, exc, match):
    with pytest.raises(exc, match=match):
        nn.Embedding.from_pretrained(embeddings)


def test_embedding_weight_argument_checks_its_shape():
    with pytest.raises(ValueError, match="does not match"):
        nn.Embedding(3, 2, _weight=Tensor(np.ones((2, 3))))
    e = nn.Embedding(2, 3, _weight=Tensor(np.ones((2, 3))), _freeze=True)
    assert not e.weight.requires_grad
