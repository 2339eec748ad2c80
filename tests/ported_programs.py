"""The harness the ported-program tests share (tests/test_models3_regressions.py and
test_models4_regressions.py): a namespace ``L`` that is torch or tinygrad_norm, both in float64,
and ``port(build, train)``, which builds a program in both, copies torch's weights into ours and
compares every record the two trainings yield."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as GFn
from tinygrad_norm import nn as gnn, optim as goptim

torch = pytest.importorskip("torch")

class _Lib:
    """One library's names, spelled as a torch program spells them."""

    def __init__(self, is_torch):
        self.is_torch = is_torch
        if is_torch:
            import torch.distributions as D
            import torch.utils.data as data
            self.X, self.nn, self.F, self.optim, self.D, self.data = (
                torch, torch.nn, torch.nn.functional, torch.optim, D, data)
        else:
            import tinygrad_norm.distributions as D
            import tinygrad_norm.utils.data as data
            self.X, self.nn, self.F, self.optim, self.D, self.data = (
                tg, gnn, GFn, goptim, D, data)

    def T(self, a, **kw):
        return self.X.tensor(np.asarray(a), **kw)


TL, GL = _Lib(True), _Lib(False)


@pytest.fixture(autouse=True)
def _float64_defaults():
    """Both libraries make float64 by default while a program runs (as a torch user's
    ``torch.set_default_dtype(torch.float64)``), restored afterwards."""
    old_t, old_g = torch.get_default_dtype(), tg.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    tg.set_default_dtype(tg.float64)
    yield
    torch.set_default_dtype(old_t)
    tg.set_default_dtype(old_g)


def _np(x):
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    if isinstance(x, tg.Tensor):
        return x.data
    return np.asarray(x)


def _cmp(a, b, path, rtol, atol):
    """Compares two records (nested dicts, lists and tuples of tensors or numbers) leaf by leaf."""
    if isinstance(a, dict):
        assert list(a) == list(b), f"{path}: keys {list(a)} vs {list(b)}"
        for k in a:
            _cmp(a[k], b[k], f"{path}.{k}", rtol, atol)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{path}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            _cmp(x, y, f"{path}[{i}]", rtol, atol)
    elif a is None or b is None:
        assert a is None and b is None, f"{path}: {a!r} vs {b!r}"
    else:
        x, y = _np(a), _np(b)
        assert x.shape == y.shape, f"{path}: shape {x.shape} vs {y.shape}"
        np.testing.assert_allclose(y, x, rtol=rtol, atol=atol, err_msg=path)


def snap(*mods):
    """Parameters, their gradients and buffers of modules, by name."""
    out = {}
    for i, m in enumerate(mods):
        for k, p in m.named_parameters():
            out[f"{i}.{k}"] = p
            out[f"{i}.{k}.grad"] = p.grad
        for k, b in m.named_buffers():
            out[f"{i}.{k}"] = b
    return out


def opt_state(opt):
    """An optimizer's per-parameter state and its groups' numbers (lr, betas...)."""
    sd = opt.state_dict()
    groups = [{k: v for k, v in g.items()  # numbers only: torch's extra flags are bools or None
               if k != "params" and isinstance(v, (int, float)) and not isinstance(v, bool)}
              for g in sd["param_groups"]]
    state = {str(k): {n: v for n, v in st.items() if n != "step"} for k, st in sd["state"].items()}
    return {"groups": groups, "state": state}


def _copy(tm, gm):
    res = gm.load_state_dict({k: v.detach().numpy().copy() for k, v in tm.state_dict().items()})
    assert not list(res.missing_keys) and not list(res.unexpected_keys)


def port(build, train, rtol=1e-10, atol=1e-12):
    """Builds a program in both libraries, copies torch's weights into ours and runs both
    trainings in lock step, comparing every record they yield. Returns the number of records."""
    tms, gms = build(TL), build(GL)
    tms = tms if isinstance(tms, tuple) else (tms,)
    gms = gms if isinstance(gms, tuple) else (gms,)
    for tm, gm in zip(tms, gms):
        _copy(tm, gm)
    n = 0
    for rt, rg in itertools.zip_longest(train(TL, *tms), train(GL, *gms)):
        assert rt is not None and rg is not None, "one run yielded more records"
        _cmp(rt, rg, f"record {n}", rtol, atol)
        n += 1
    return n
