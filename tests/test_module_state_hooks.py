"""``nn.Module``'s state-dict hooks and extra state against ``torch.nn``: the same model built in
both, with the same logging hooks, must log the same calls (module, prefix, metadata, the keys
seen so far) in the same order, save the same keys and report the same incompatible keys; and a
load that fails, before or after its hooks, leaves the parameters as they were.

Also ``type``, ``bfloat16`` and ``share_memory``."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import nn

torch = pytest.importorskip("torch")
tnn = torch.nn


def _model(N):
    """A model with a module that keeps extra state, a batch norm (metadata version 2) and a
    nested child."""

    class Counter(N.Module):
        def __init__(self):
            super().__init__()
            self.lin = N.Linear(2, 2)
            self.steps = 3

        def get_extra_state(self):
            return {"steps": self.steps}

        def set_extra_state(self, state):
            self.steps = state["steps"]

    return N.Sequential(Counter(), N.BatchNorm1d(2))


def _log_save_hooks(model, log):
    handles = []
    for name, m in model.named_modules():
        handles.append(m.register_state_dict_pre_hook(
            lambda mod, prefix, keep_vars, name=name: log.append(("pre", name, prefix, keep_vars))))
        handles.append(m.register_state_dict_post_hook(
            lambda mod, sd, prefix, meta, name=name: log.append(
                ("post", name, prefix, dict(meta), list(sd)))))
    return handles


def test_state_dict_hooks_run_in_torchs_order_with_its_arguments():
    logs = []
    for N in (nn, tnn):
        log = []
        model = _model(N)
        _log_save_hooks(model, log)
        sd = model.state_dict(keep_vars=True)
        logs.append((log, list(sd), dict(sd._metadata)))
    assert logs[0] == logs[1]
    assert logs[0][1][0] == "0._extra_state"  # after the module's own (none), before its child's


def test_state_dict_hooks_with_a_prefix_and_handles_that_remove_them():
    logs = []
    for N in (nn, tnn):
        log = []
        model = _model(N)
        handles = _log_save_hooks(model, log)
        model.state_dict(prefix="enc.")
        handles[0].remove()
        handles[-1].remove()
        model.state_dict(prefix="enc.")
        logs.append(log)
    assert logs[0] == logs[1]


def test_state_dict_post_hook_edits_in_place_and_must_return_none():
    model = nn.Linear(2, 2)
    model.register_state_dict_post_hook(lambda m, sd, p, meta: sd.pop(p + "bias"))
    with pytest.raises(RuntimeError, match="state_dict post-hook must return None"):
        model.state_dict()  # pop returned the tensor
    model = nn.Linear(2, 2)
    model.register_state_dict_post_hook(lambda m, sd, p, meta: sd.__delitem__(p + "bias"))
    assert list(model.state_dict()) == ["weight"]
    for register in (model.register_state_dict_pre_hook, model.register_state_dict_post_hook,
                     model.register_load_state_dict_pre_hook,
                     model.register_load_state_dict_post_hook):
        with pytest.raises(TypeError, match=f"{register.__name__}.*callable"):
            register(3)


def _log_load_hooks(model, log):
    for name, m in model.named_modules():
        m.register_load_state_dict_pre_hook(
            lambda mod, sd, prefix, meta, strict, missing, unexpected, errors, name=name:
            log.append(("pre", name, prefix, dict(meta), strict, list(sd), list(missing),
                        list(unexpected))))
        m.register_load_state_dict_post_hook(
            lambda mod, keys, name=name: log.append(("post", name, list(keys.missing_keys),
                                                     list(keys.unexpected_keys))))


def _to(N, sd):
    out = type(sd)((k, _convert(N, v)) for k, v in sd.items())
    if hasattr(sd, "_metadata"):
        out._metadata = sd._metadata
    return out


def _convert(N, v):
    if N is nn and isinstance(v, torch.Tensor):
        return tg.Tensor(v.detach().numpy().copy())
    if N is tnn and isinstance(v, tg.Tensor):
        return torch.tensor(v.numpy().copy())
    return v


def test_load_hooks_see_what_torch_shows_them_and_extra_state_loads():
    logs = []
    for N in (nn, tnn):
        source = _model(N)
        source[0].steps = 7
        sd = source.state_dict()
        sd["extra"] = _convert(N, torch.zeros(1))
        del sd["1.bias"]
        model = _model(N)
        log = []
        _log_load_hooks(model, log)
        keys = model.load_state_dict(sd, strict=False)
        without_metadata = model.load_state_dict(dict(sd), strict=False)
        logs.append((log, keys.missing_keys, keys.unexpected_keys, model[0].steps,
                     without_metadata))
    # a submodule's post-hook sees the keys of the whole load here, PyTorch's those found so
    # far: the pre-hooks and the root's post-hook (the last) see the same
    ours, theirs = ([e for e in log if e[0] == "pre"] + log[-1:]
                    for log in (logs[0][0], logs[1][0]))
    assert ours == theirs and len(ours) == 9  # two loads: 4 pre-hooks each, and the last
    for kind in ("pre", "post"):  # each kind in PyTorch's order (here all pre-hooks run
        # before the copy, the post-hooks after it; PyTorch interleaves them module by module)
        assert [e[1] for e in logs[0][0] if e[0] == kind] == \
            [e[1] for e in logs[1][0] if e[0] == kind]
    assert logs[0][1:4] == logs[1][1:4]
    assert logs[0][3] == 7  # set_extra_state was called
    assert tuple(logs[0][4]) == tuple(logs[1][4])


def test_a_pre_hook_renames_keys_for_its_subtree_as_torchs():
    results = []
    for N in (nn, tnn):
        model = N.Sequential(N.Linear(2, 2), N.Linear(2, 2))
        sd = {k.replace("weight", "w"): v for k, v in N.Sequential(
            N.Linear(2, 2), N.Linear(2, 2)).state_dict().items()}

        def rename(mod, d, prefix, *rest):
            for k in [k for k in d if k == prefix + "w" or k.endswith(".w")]:
                d[k[:-1] + "weight"] = d.pop(k)

        model[0].register_load_state_dict_pre_hook(rename)  # renames 0.w only
        keys = model.load_state_dict(sd, strict=False)
        results.append((keys.missing_keys, keys.unexpected_keys))
        model.register_load_state_dict_pre_hook(rename)  # the root's: every key
        results.append(tuple(model.load_state_dict(sd)))
        loaded, given = (_convert(nn, t).numpy() for t in (model[1].weight, sd["1.w"]))
        assert np.array_equal(loaded, given)
    assert results[:2] == results[2:]
    assert results[0] == (["1.weight"], ["1.w"])


def test_post_hook_may_clear_keys_and_a_failing_load_is_undone():
    model = nn.Linear(2, 2)
    model.register_load_state_dict_post_hook(lambda m, keys: keys.missing_keys.clear())
    keys = model.load_state_dict({"weight": tg.Tensor(np.ones((2, 2), np.float32))})
    assert tuple(keys) == ([], []) and np.all(model.weight.numpy() == 1)

    model = nn.Linear(2, 2)
    before = [p.numpy().copy() for p in model.parameters()]
    model.register_load_state_dict_post_hook(lambda m, keys: keys.unexpected_keys.append("zzz"))
    full = {"weight": tg.Tensor(np.ones((2, 2), np.float32)),
            "bias": tg.Tensor(np.ones(2, np.float32))}
    seen = []
    model.register_load_state_dict_post_hook(lambda m, keys: seen.append(m.weight.numpy().copy()))
    with pytest.raises(KeyError, match="zzz"):
        model.load_state_dict(full)
    assert np.all(seen[0] == 1)  # the hooks saw the loaded values, as torch's
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.numpy(), b)  # then the load was undone
    assert tuple(model.load_state_dict(full, strict=False)) == ([], ["zzz"])

    model = nn.Linear(2, 2)
    model.register_load_state_dict_post_hook(lambda m, keys: 1)
    with pytest.raises(RuntimeError, match="not expected to return new values"):
        model.load_state_dict(model.state_dict())


def test_assign_load_is_undone_too_and_pre_hook_errors_refuse_the_load():
    model = nn.Linear(2, 2)
    weight = model.weight
    model.register_load_state_dict_post_hook(lambda m, keys: keys.missing_keys.append("x"))
    with pytest.raises(KeyError, match="'x'"):
        model.load_state_dict({k: v.detach() for k, v in model.state_dict().items()},
                              assign=True)
    assert model.weight is weight

    model = nn.Linear(2, 2)
    before = model.weight.numpy().copy()
    model.register_load_state_dict_pre_hook(lambda *a: a[-1].append("bad thing"))
    with pytest.raises(ValueError, match="Error\\(s\\) in loading state_dict for Linear:\n\tbad"):
        model.load_state_dict({"weight": tg.Tensor(np.ones((2, 2), np.float32)),
                               "bias": tg.Tensor(np.ones(2, np.float32))})
    np.testing.assert_array_equal(model.weight.numpy(), before)


def test_extra_state_missing_or_unexpected_as_torch():
    results = []
    for N in (nn, tnn):
        model = _model(N)
        sd = model.state_dict()
        del sd["0._extra_state"]
        results.append(tuple(model.load_state_dict(sd, strict=False)))
        plain = N.Sequential(N.Linear(2, 2), N.BatchNorm1d(2))  # no extra state
        results.append(tuple(plain.load_state_dict(_model(N).state_dict(), strict=False)))
    assert results[:2] == results[2:]
    assert results[0] == (["0._extra_state"], [])
    with pytest.raises(NotImplementedError, match="defines no extra state"):
        nn.Linear(1, 1).get_extra_state()
    with pytest.raises(NotImplementedError, match="defines no extra state"):
        nn.Linear(1, 1).set_extra_state({})


def test_module_type_converts_every_tensor_as_torch():
    results = []
    for N, f64 in ((nn, np.float64), (tnn, torch.float64)):
        bn = N.BatchNorm1d(2)
        assert bn.type(f64) is bn
        results.append([str(v.dtype).replace("torch.", "") for v in bn.state_dict().values()])
        bn = N.BatchNorm1d(2).type("torch.DoubleTensor")
        results.append([str(v.dtype).replace("torch.", "") for v in bn.state_dict().values()])
    assert results[:2] == results[2:]
    assert results[0][-1] == "float64"  # the counter too
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameters must be floating point"):
        lin.type(np.int64)
    with pytest.raises(TypeError, match="dst_type"):
        lin.type("nonsense")
    with pytest.raises(TypeError, match="dst_type"):
        lin.type(None)
    assert lin.weight.dtype == np.float32  # nothing changed
    with pytest.raises(TypeError, match="bfloat16"):
        lin.bfloat16()
    assert lin.share_memory() is lin


def test_state_dict_round_trip_through_save_keeps_extra_state(tmp_path):
    model = _model(nn)
    model[0].steps = 11
    sd = model.state_dict()
    assert sd._metadata == {"": {"version": 1}, "0": {"version": 1}, "0.lin": {"version": 1},
                            "1": {"version": 2}}
    tg.save(sd, tmp_path / "m.npz")
    fresh = _model(nn)
    assert tuple(fresh.load_state_dict(tg.load(tmp_path / "m.npz"))) == ([], [])
    assert fresh[0].steps == 11


def test_strict_failure_without_post_hooks_calls_no_set_extra_state():
    model = _model(nn)
    sd = model.state_dict()
    sd["0._extra_state"] = {"steps": 99}
    del sd["1.bias"]
    with pytest.raises(KeyError, match="1.bias"):
        model.load_state_dict(sd)
    assert model[0].steps == 3  # refused before anything changed


def test_a_failing_set_extra_state_leaves_the_parameters():
    model = _model(nn)
    before = model[0].lin.weight.numpy().copy()
    sd = {k: (v.detach() * 0 if isinstance(v, tg.Tensor) else v)
          for k, v in model.state_dict().items()}
    sd["0._extra_state"] = {}  # set_extra_state raises KeyError('steps')
    with pytest.raises(KeyError, match="steps"):
        model.load_state_dict(sd)
    np.testing.assert_array_equal(model[0].lin.weight.numpy(), before)
