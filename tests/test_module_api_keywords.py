"""nn.Module's torch keywords, side by side with torch on the same structure (a layer shared by
two parents and a weight tied into a third): named_parameters / named_buffers /
named_modules(remove_duplicate, memo), state_dict(destination, prefix, keep_vars, and the
deprecated positional form), load_state_dict(assign), cpu() and requires_grad_(requires_grad)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from tinygrad_norm import Tensor, nn, optim


def _shared(lib):
    """lib is tinygrad_norm.nn or torch.nn: ``a`` and ``b.0`` one Linear, ``c.weight`` its
    weight."""
    lin = lib.Linear(2, 3)

    class M(lib.Module):
        def __init__(self):
            super().__init__()
            self.a = lin
            self.b = lib.Sequential(lin, lib.BatchNorm1d(3))
            self.c = lib.Linear(3, 3)
            self.c.weight = lin.weight

    return M(), lin


@pytest.mark.parametrize("kw", [{}, {"remove_duplicate": False}, {"prefix": "p"},
                                {"prefix": "p", "remove_duplicate": False},
                                {"recurse": False}, {"recurse": False, "remove_duplicate": False}])
def test_named_parameters_and_buffers_as_torch(torch, kw):
    (ours, _), (theirs, _) = _shared(nn), _shared(torch.nn)
    for method in ("named_parameters", "named_buffers"):
        assert [k for k, _ in getattr(ours, method)(**kw)] == \
            [k for k, _ in getattr(theirs, method)(**kw)], method
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))


@pytest.mark.parametrize("kw", [{}, {"remove_duplicate": False}, {"prefix": "net"},
                                {"prefix": "net", "remove_duplicate": False}])
def test_named_modules_as_torch(torch, kw):
    (ours, _), (theirs, _) = _shared(nn), _shared(torch.nn)
    assert [k for k, _ in ours.named_modules(**kw)] == [k for k, _ in theirs.named_modules(**kw)]


def test_named_modules_memo_as_torch(torch):
    (ours, lin), (theirs, tlin) = _shared(nn), _shared(torch.nn)
    memo, tmemo = {lin}, {tlin}
    assert [k for k, _ in ours.named_modules(memo)] == [k for k, _ in theirs.named_modules(tmemo)]
    assert len(memo) == len(tmemo) == 5 and ours in memo
    with pytest.raises(TypeError, match="memo"):
        list(ours.named_modules([lin]))


def test_named_modules_without_duplicates_refuses_a_cycle():
    a, b = nn.Sequential(), nn.Sequential()
    a.append(b)
    b.append(a)
    assert [k for k, _ in a.named_modules()] == ["", "0"]
    with pytest.raises(ValueError, match="contains itself"):
        list(a.named_modules(remove_duplicate=False))


def test_state_dict_keywords_as_torch(torch):
    (ours, lin), (theirs, tlin) = _shared(nn), _shared(torch.nn)
    kept, tkept = ours.state_dict(keep_vars=True), theirs.state_dict(keep_vars=True)
    assert list(kept) == list(tkept)
    assert kept["a.weight"] is lin.weight and kept["c.weight"] is lin.weight
    assert kept["b.1.running_mean"] is ours.b[1].running_mean
    detached = ours.state_dict()
    assert detached["a.weight"] is not lin.weight and not detached["a.weight"].requires_grad
    assert np.shares_memory(detached["a.weight"].data, lin.weight.data)
    dest, tdest = {"x": 1}, {"x": 1}
    assert ours.state_dict(destination=dest, prefix="q.") is dest
    theirs.state_dict(destination=tdest, prefix="q.")
    assert list(dest) == list(tdest)


def test_state_dict_positional_arguments_are_torchs_deprecated_ones(torch):
    (ours, lin), (theirs, _) = _shared(nn), _shared(torch.nn)
    with pytest.warns(FutureWarning, match="Positional args are being deprecated"):
        sd = ours.state_dict(None, "z.", True)
    with pytest.warns(FutureWarning):
        tsd = theirs.state_dict(None, "z.", True)
    assert list(sd) == list(tsd) and sd["z.a.weight"] is lin.weight
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with pytest.raises(TypeError, match="destination"):
            ours.state_dict("enc.")  # the old positional prefix: torch's destination
        with pytest.raises(TypeError, match="at most 3"):
            ours.state_dict(None, "", False, 1)
    with pytest.raises(TypeError, match="prefix"):
        ours.state_dict(prefix=1)


def _linear_pair(torch, dtype=np.float64):
    w = np.random.default_rng(0).standard_normal((3, 2)).astype(dtype)
    b = np.arange(3, dtype=dtype)
    return {"weight": w, "bias": b}


def test_load_state_dict_assign_as_torch(torch):
    arrays = _linear_pair(torch)
    ours, theirs = nn.Linear(2, 3), torch.nn.Linear(2, 3)
    ours.weight.requires_grad_(False)
    theirs.weight.requires_grad_(False)
    sd = {k: Tensor(v) for k, v in arrays.items()}
    tsd = {k: torch.tensor(v) for k, v in arrays.items()}
    res, tres = ours.load_state_dict(sd, assign=True), theirs.load_state_dict(tsd, assign=True)
    assert repr(res) == repr(tres)
    for name in ("weight", "bias"):
        p, tp = getattr(ours, name), getattr(theirs, name)
        assert isinstance(p, nn.Parameter) and p is not sd[name]  # wrapped, as torch
        assert np.shares_memory(p.data, sd[name].data)  # sharing the given array
        assert p.dtype == np.float64 and tp.dtype == torch.float64  # the given dtype kept
        assert p.requires_grad == tp.requires_grad
    assert [k for k, _ in ours.named_parameters()] == ["weight", "bias"]
    out = ours(Tensor(np.ones((1, 2))))
    np.testing.assert_allclose(out.numpy(), theirs(torch.ones(1, 2, dtype=torch.float64))
                               .detach().numpy())


def test_load_state_dict_assign_takes_given_parameters_and_buffers(torch):
    src, dst = nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    dst.bias.requires_grad_(False)
    sd = src.state_dict(keep_vars=True)
    dst.load_state_dict(sd, assign=True)
    assert dst.weight is src.weight and dst.bias is src.bias
    assert not src.bias.requires_grad  # set to the module's, as torch does to a given Parameter
    assert dst.running_mean is src.running_mean and "running_mean" in dst._buffers
    tsrc, tdst = torch.nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    tdst.bias.requires_grad_(False)
    tdst.load_state_dict(tsrc.state_dict(keep_vars=True), assign=True)
    assert tdst.weight is tsrc.weight and not tsrc.bias.requires_grad
    # arrays are taken too; an optimizer made before keeps the old parameters, as torch's
    m = nn.Linear(2, 3)
    old = m.weight
    opt = optim.SGD(m.parameters(), lr=0.1)
    m.load_state_dict(_linear_pair(torch, np.float32), assign=True)
    assert m.weight is not old and opt.param_groups[0]["params"][0] is old


def test_load_state_dict_assign_checks_everything_first():
    m = nn.Linear(2, 3)
    before = {k: v for k, v in m.state_dict(keep_vars=True).items()}
    bad = [
        ({"weight": Tensor(np.ones((3, 3))), "bias": Tensor(np.ones(3))}, ValueError, "shape"),
        ({"weight": Tensor(np.ones((3, 2), np.int64)), "bias": Tensor(np.ones(3))}, TypeError,
         "floating point"),
        ({"weight": Tensor(np.ones((3, 2)))}, KeyError, "missing"),
    ]
    for sd, exc, match in bad:
        with pytest.raises(exc, match=match):
            m.load_state_dict(sd, assign=True)
        assert all(m.state_dict(keep_vars=True)[k] is v for k, v in before.items())
    res = m.load_state_dict({"weight": Tensor(np.ones((3, 2)))}, strict=False, assign=True)
    assert res.missing_keys == ["bias"] and m.bias is before["bias"]
    assert m.weight.dtype == np.float64


def test_load_state_dict_copy_still_keeps_the_objects():
    m = nn.Linear(2, 3)
    w = m.weight
    m.load_state_dict({k: Tensor(v) for k, v in _linear_pair(None).items()})
    assert m.weight is w and w.dtype == np.float32


def test_cpu_and_requires_grad_as_torch(torch):
    m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    assert m.cpu() is m
    assert m.requires_grad_(requires_grad=False) is m
    assert not any(p.requires_grad for p in m.parameters())
    m.requires_grad_(True)  # positional, as before
    assert all(p.requires_grad for p in m.parameters())
    m.requires_grad_(np.bool_(False))
    assert not any(p.requires_grad for p in m.parameters())
    with pytest.raises(TypeError, match="requires_grad"):
        m.requires_grad_("yes")
    with pytest.raises(TypeError, match="requires_grad"):
        torch.nn.Linear(2, 2).requires_grad_("yes")
    assert not any(p.requires_grad for p in m.parameters())  # nothing changed
