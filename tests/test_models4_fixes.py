"""Regressions for what the models4 ports (tests/test_models4_regressions.py) found, each the
smallest case, compared with torch 2.13."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg

torch = pytest.importorskip("torch")


# ---------------------------------------------------------------- user-written optimizers' state
def _momentum_sign(lib):
    """A user's optimizer as torch's docs write one: Tensors created lazily in self.state."""
    class Opt(lib.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        @lib.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    state = self.state[p]
                    if not state:
                        state["buf"] = lib.zeros_like(p)
                        state["step"] = lib.tensor(0.0)
                        state["pair"] = [lib.zeros_like(p), lib.ones(3)]
                    state["buf"].mul_(0.9).add_(p.grad)
                    state["step"] += 1
                    state["pair"][0].add_(p.grad.abs())
                    p.add_(lib.sign(state["buf"]) * state["pair"][0].sqrt(), alpha=-group["lr"])
    return Opt


@pytest.mark.parametrize("lib", ["torch", "tg"])
def test_user_optimizer_state_stays_tensors_through_load_state_dict(lib):
    """load_state_dict turned every Tensor of a user-written optimizer's state into an ndarray
    (as this package's own optimizers keep theirs), so its next step() failed on
    ``exp_avg.mul_`` (AttributeError: 'numpy.ndarray' object has no attribute 'mul_'): a Lion
    resumed from a checkpoint (models4 q42). Now Tensors stay Tensors, cast to the parameter's
    dtype (step kept), inside lists too, as torch's policy; and the run goes on as torch's."""
    L = torch if lib == "torch" else tg
    rng = np.random.default_rng(0)
    w0, grads = rng.standard_normal(4), rng.standard_normal((3, 4))
    p = L.tensor(w0, requires_grad=True)
    Opt = _momentum_sign(L)
    opt = Opt([p])
    p.grad = L.tensor(grads[0])
    opt.step()
    fresh = Opt([p])
    fresh.load_state_dict(opt.state_dict())
    st = fresh.state[p]
    assert isinstance(st["buf"], L.Tensor) and st["buf"].dtype == p.dtype
    assert isinstance(st["pair"], list) and isinstance(st["pair"][1], L.Tensor)
    assert st["pair"][1].dtype == p.dtype  # cast to the parameter's dtype, as torch's
    assert isinstance(st["step"], L.Tensor) and float(st["step"]) == 1.0
    for g in grads[1:]:
        p.grad = L.tensor(g)
        fresh.step()
    out = p.detach().numpy()
    # the same steps in torch, as the oracle
    q = torch.tensor(w0, requires_grad=True)
    TOpt = _momentum_sign(torch)
    topt = TOpt([q])
    for g in grads:
        q.grad = torch.tensor(g)
        topt.step()
    np.testing.assert_allclose(out, q.detach().numpy(), rtol=1e-12)


def test_user_optimizer_load_copies_and_builtins_keep_arrays():
    """The loaded Tensors are copies (the optimizer that gave the state dict keeps its own), and
    this package's optimizers, and subclasses of them, still get their ndarray buffers."""
    p = tg.tensor(np.ones(3), requires_grad=True)
    Opt = _momentum_sign(tg)
    a = Opt([p])
    p.grad = tg.tensor(np.ones(3))
    a.step()
    b = Opt([p])
    b.load_state_dict(a.state_dict())
    assert b.state[p]["buf"] is not a.state[p]["buf"]
    np.testing.assert_array_equal(b.state[p]["buf"].numpy(), a.state[p]["buf"].numpy())

    class MyAdam(tg.optim.Adam):
        pass

    for cls in (tg.optim.Adam, MyAdam):
        o = cls([p])
        o.step()
        sd = o.state_dict()
        sd["state"][0]["exp_avg"] = tg.tensor(sd["state"][0]["exp_avg"])  # a Tensor, as torch's
        o2 = cls([p])
        o2.load_state_dict(sd)
        assert isinstance(o2.state[p]["exp_avg"], np.ndarray)
        o2.step()


# ---------------------------------------------------------------- to_dense on dense tensors
def test_to_dense_as_torch_for_a_dense_tensor():
    """word2vec with ``nn.Embedding(sparse=True)`` reads ``p.grad.to_dense()`` (models4 q22):
    an AttributeError here. A dense tensor's to_dense is itself, or a cast on the graph."""
    rng = np.random.default_rng(1)
    x0, up = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    g = tg.tensor(x0, requires_grad=True)
    t = torch.tensor(x0, requires_grad=True)
    assert g.to_dense() is g and t.to_dense() is t
    (g.to_dense(tg.float32) * tg.tensor(up, dtype=tg.float32)).sum().backward()
    (t.to_dense(torch.float32) * torch.tensor(up, dtype=torch.float32)).sum().backward()
    assert g.to_dense(tg.float32).dtype == np.float32
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-7)
    with pytest.raises(TypeError, match="dtype"):
        torch.ones(2).to_dense(3)
    with pytest.raises(TypeError, match="to_dense.*dtype"):
        tg.ones(2).to_dense(3)
    emb = tg.nn.Embedding(5, 2, sparse=True)
    emb(tg.tensor([1, 1, 3])).sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.to_dense().numpy()[[0, 1, 3]],
                                  [[0, 0], [2, 2], [1, 1]])


# ---------------------------------------------------------------- torch.load's arguments
def test_load_and_save_take_torchs_arguments(tmp_path):
    """``torch.load(path, map_location="cpu")`` -- how nearly every torch program reads a
    checkpoint -- was a TypeError here (load took the path alone; models4 q43)."""
    import io
    import pickle
    path = tmp_path / "ck.pt"
    state = {"w": tg.tensor(np.arange(3.0)), "step": 4}
    tg.save(state, path, pickle_protocol=4, _use_new_zipfile_serialization=True)
    for kw in [dict(map_location="cpu"), dict(map_location=tg.device("cpu")),
               dict(map_location={"cuda:0": "cpu"}), dict(map_location=lambda s, loc: s),
               dict(weights_only=True), dict(weights_only=False, pickle_module=pickle),
               dict(mmap=True), dict(encoding="latin1")]:
        out = tg.load(path, **kw)
        np.testing.assert_array_equal(out["w"].numpy(), [0.0, 1.0, 2.0])
        assert out["step"] == 4
    # torch's refusals, checked before the file is read (a missing file would say otherwise)
    buf = io.BytesIO()
    torch.save({"w": torch.ones(1)}, buf)
    buf.seek(0)
    with pytest.raises(RuntimeError, match="CUDA"):
        torch.load(buf, map_location="cuda")
    with pytest.raises(ValueError, match="cuda.*not available"):
        tg.load(tmp_path / "missing", map_location="cuda")
    with pytest.raises(TypeError, match="map_location"):
        tg.load(path, map_location=3)
    buf.seek(0)
    with pytest.raises(RuntimeError, match="explicit pickle_module"):
        torch.load(buf, pickle_module=pickle, weights_only=True)
    with pytest.raises(ValueError, match="explicit pickle_module"):
        tg.load(path, pickle_module=pickle, weights_only=True)
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        tg.load(path, colour=1)


# ---------------------------------------------------------------- amp.GradScaler and autocast
def _scaler_run(L, dtype):
    """A loop as torch's AMP recipe writes it: scale, backward, unscale_, clip, step, update;
    an inf at step 2 (skipped step, backoff), growth after two clean steps."""
    import warnings
    rng = np.random.default_rng(7)
    w0 = rng.standard_normal(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = L.tensor(w0, dtype=dtype, requires_grad=True)
    opt = L.optim.SGD([p], lr=0.1, momentum=0.9)
    scaler = L.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=2)
    out = []
    for step in range(6):
        x = L.tensor(rng.standard_normal(3), dtype=dtype)
        if step == 2:
            x = x * float("inf")
        with np.errstate(invalid="ignore"):  # NumPy's forward warning at inf (documented)
            loss = ((p * x).sum() - 1.0) ** 2
        opt.zero_grad()
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        norm = L.nn.utils.clip_grad_norm_([p], 10.0)
        ret = scaler.step(opt)
        scaler.update()
        out.append((scaler.get_scale(), p.detach().numpy().copy(), float(norm), ret,
                    scaler.state_dict()))
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_grad_scaler_matches_torch(dtype):
    """torch.amp.GradScaler was missing: an AMP training loop (models4 q59) stopped at
    ``torch.amp.GradScaler("cpu")``. Scale, skipped step, backoff and growth as torch's CPU one."""
    got = _scaler_run(tg, getattr(tg, dtype))
    want = _scaler_run(torch, getattr(torch, dtype))
    for (s1, p1, n1, r1, d1), (s2, p2, n2, r2, d2) in zip(got, want):
        assert s1 == s2 and r1 == r2 and d1 == d2
        np.testing.assert_allclose(p1, p2, rtol=1e-6 if dtype == "float32" else 1e-13)
        if np.isfinite(n2):
            np.testing.assert_allclose(n1, n2, rtol=1e-6)
        else:
            assert not np.isfinite(n1)
    assert [g[0] for g in got] == [1024.0, 2048.0, 1024.0, 1024.0, 2048.0, 2048.0]


def test_grad_scaler_errors_disabled_and_state_as_torch():
    import warnings
    for L in (torch, tg):
        p = L.nn.Parameter(L.ones(2))
        opt = L.optim.SGD([p], lr=0.1)
        s = L.amp.GradScaler("cpu")
        s.scale(p.sum()).backward()
        s.unscale_(opt)
        with pytest.raises(RuntimeError, match="already been called on this optimizer"):
            s.unscale_(opt)
        s.step(opt)
        with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
            s.step(opt)
        with pytest.raises(RuntimeError, match="after step"):
            s.unscale_(opt)
        with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
            L.amp.GradScaler("cpu").step(opt, closure=lambda: 0)
        s.update()
        with pytest.raises(AssertionError if L is torch else RuntimeError,
                           match="No inf checks were recorded"):
            s.update()
        s.update(new_scale=8.0)
        assert s.get_scale() == 8.0
        with pytest.raises(RuntimeError, match="source state dict is empty"):
            s.load_state_dict({})
        fresh = L.amp.GradScaler("cpu")
        fresh.load_state_dict(s.state_dict())
        assert fresh.state_dict() == s.state_dict()
        with pytest.warns(UserWarning, match="CUDA is not available"):
            off = L.amp.GradScaler()  # torch's default device, without CUDA: disabled
        assert not off.is_enabled() and off.get_scale() == 1.0 and off.state_dict() == {}
        loss = p.sum()
        assert off.scale(loss) is loss
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with L.autocast("cpu", enabled=False):
                assert (p * 2).dtype == p.dtype
    with pytest.raises(AssertionError, match="growth factor must be > 1.0"):
        torch.amp.GradScaler("cpu", growth_factor=1.0)
    with pytest.raises(ValueError, match="growth factor must be > 1.0"):
        tg.amp.GradScaler("cpu", growth_factor=1.0)
    with pytest.raises(ValueError, match="device_type"):
        tg.autocast(3, enabled=False)
    with pytest.raises(ValueError, match="mixed precision is not available"):
        tg.autocast("cpu")


# ---------------------------------------------------------------- a training script's first lines
def test_backends_switches_and_cuda_seeding_as_torch_cpu_build():
    """``torch.backends.cudnn.benchmark = True`` and ``torch.cuda.manual_seed_all(seed)`` open
    most training scripts; both were AttributeErrors here (models4 q59's preamble)."""
    for L in (torch, tg):
        B = L.backends
        assert (B.cudnn.enabled, B.cudnn.benchmark, B.cudnn.deterministic, B.cudnn.allow_tf32) \
            == (True, False, False, True)
        assert B.cuda.matmul.allow_tf32 is False
        assert B.cudnn.is_available() is False and B.cudnn.version() is None
        assert B.mps.is_available() is False and B.mps.is_built() is False
        old = B.cudnn.deterministic
        try:
            B.cudnn.deterministic = True
            assert B.cudnn.deterministic is True
            with pytest.raises((RuntimeError, TypeError), match="expects a bool, but got int"):
                B.cudnn.deterministic = 1
        finally:
            B.cudnn.deterministic = old
        assert L.cuda.manual_seed(0) is None and L.cuda.manual_seed_all(0) is None
        assert L.cuda.empty_cache() is None and L.cuda.is_initialized() is False


# ---------------------------------------------------------------- _load_from_state_dict overrides
def _frozen_bn(L):
    """torchvision's FrozenBatchNorm2d as detection code copies it: buffers only, and a
    _load_from_state_dict override that drops the checkpoint's num_batches_tracked."""
    class FrozenBatchNorm2d(L.nn.Module):
        def __init__(self, n):
            super().__init__()
            for name, fill in (("weight", 1.0), ("bias", 0.0), ("running_mean", 0.0),
                               ("running_var", 1.0)):
                self.register_buffer(name, L.full((n,), fill))

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                                  missing_keys, unexpected_keys, error_msgs):
            state_dict.pop(prefix + "num_batches_tracked", None)
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                          missing_keys, unexpected_keys, error_msgs)

        def _save_to_state_dict(self, destination, prefix, keep_vars):
            super()._save_to_state_dict(destination, prefix, keep_vars)
            destination[prefix + "frozen"] = L.ones(1)

        def forward(self, x):
            scale = self.weight * (self.running_var + 1e-5).rsqrt()
            shift = self.bias - self.running_mean * scale
            return x * scale.reshape(1, -1, 1, 1) + shift.reshape(1, -1, 1, 1)

    return FrozenBatchNorm2d


@pytest.mark.parametrize("lib", ["torch", "tg"])
def test_load_from_state_dict_and_save_to_state_dict_overrides_run(lib):
    """Overrides of Module._load_from_state_dict / _save_to_state_dict were never called (the load
    was planned by module-level code that did not look for them): a FrozenBatchNorm2d loaded from
    a BatchNorm2d checkpoint failed on the unexpected num_batches_tracked key, and an override
    that renames a legacy key silently loaded nothing (models4 q65)."""
    L = torch if lib == "torch" else tg
    Frozen = _frozen_bn(L)
    rng = np.random.default_rng(3)
    trained = L.nn.Sequential(L.nn.Conv2d(1, 2, 3, bias=False), L.nn.BatchNorm2d(2))
    with L.no_grad():
        trained[1].running_mean.copy_(L.tensor(rng.standard_normal(2), dtype=L.float32))
        trained[1].weight.copy_(L.tensor(rng.uniform(0.5, 2, 2), dtype=L.float32))
    trained[1].num_batches_tracked.fill_(5)
    frozen = L.nn.Sequential(L.nn.Conv2d(1, 2, 3, bias=False), Frozen(2))
    res = frozen.load_state_dict(trained.state_dict())  # strict: num_batches_tracked dropped
    assert not res.missing_keys and not res.unexpected_keys
    assert list(frozen.state_dict())[-1] == "1.frozen"
    x = L.tensor(rng.standard_normal((1, 1, 4, 4)), dtype=L.float32)
    trained.eval()
    np.testing.assert_allclose(frozen(x).detach().numpy(), trained(x).detach().numpy(),
                               rtol=1e-6)

    class Renamed(L.nn.Linear):  # a checkpoint from before "gain" became "weight"
        def _load_from_state_dict(self, state_dict, prefix, *args):
            if prefix + "gain" in state_dict:
                state_dict[prefix + "weight"] = state_dict.pop(prefix + "gain")
            super()._load_from_state_dict(state_dict, prefix, *args)

    m = L.nn.Sequential(Renamed(2, 2))
    m.load_state_dict({"0.gain": L.ones(2, 2), "0.bias": L.zeros(2)})
    assert m[0].weight.detach().numpy().tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_load_from_state_dict_outside_a_load_is_refused():
    with pytest.raises(RuntimeError, match="call load_state_dict"):
        tg.nn.Linear(2, 2)._load_from_state_dict({}, "", {}, True, [], [], [])


# ---------------------------------------------------------------- torch.nn.modules' layout
def test_nn_modules_layout_for_base_class_lookups():
    """``isinstance(m, nn.modules.batchnorm._BatchNorm)`` -- the freeze-BN idiom of detection and
    segmentation code -- was an AttributeError (no ``nn.modules``; models4 q66), as were
    ``from torch.nn.modules.conv import _ConvNd`` and ``...modules.utils import _pair``."""
    from tinygrad_norm.nn.modules.batchnorm import _BatchNorm, _NormBase
    from tinygrad_norm.nn.modules.conv import _ConvNd
    from tinygrad_norm.nn.modules.loss import _Loss
    from tinygrad_norm.nn.modules.utils import _pair, _single, _triple
    T, G = torch.nn, tg.nn
    for name in ("BatchNorm1d", "BatchNorm2d", "SyncBatchNorm", "InstanceNorm2d", "LayerNorm",
                 "GroupNorm", "Conv2d", "ConvTranspose2d", "Linear", "CrossEntropyLoss"):
        t_cls, g_cls = getattr(T, name), getattr(G, name)
        for t_base, g_base in ((torch.nn.modules.batchnorm._BatchNorm, _BatchNorm),
                               (torch.nn.modules.batchnorm._NormBase, _NormBase),
                               (torch.nn.modules.conv._ConvNd, _ConvNd),
                               (torch.nn.modules.loss._Loss, _Loss)):
            assert issubclass(t_cls, t_base) == issubclass(g_cls, g_base), (name, t_base)
    # every class torch keeps in a file is in ours, where this package has the class
    for file in ("batchnorm", "instancenorm", "normalization", "conv", "linear", "activation",
                 "loss", "pooling", "rnn", "sparse", "transformer", "container", "dropout",
                 "padding", "module"):
        t_sub, g_sub = getattr(torch.nn.modules, file), getattr(tg.nn.modules, file)
        for n in getattr(t_sub, "__all__", []):
            if hasattr(G, n):
                assert getattr(g_sub, n) is getattr(G, n), (file, n)
    assert tg.nn.modules.Linear is G.Linear
    for t_fn, g_fn in ((torch.nn.modules.utils._pair, _pair),
                       (torch.nn.modules.utils._single, _single),
                       (torch.nn.modules.utils._triple, _triple)):
        for v in (3, (1, 2), [4, 5, 6]):
            assert t_fn(v) == g_fn(v)


# ---------------------------------------------------------------- torch's import paths
def test_torch_import_paths_give_the_packages_own_objects():
    """``from torch.utils.data.dataset import IterableDataset`` ran dataset.py a second time under
    the utils.data name: a second IterableDataset class, so DataLoader took a stream subclassing
    it for the array form ("X must hold real numbers"). ``torch.nn.parameter``,
    ``torch.optim.optimizer`` (custom optimizers import ``Optimizer, required`` from there) and
    ``torch.utils.data.dataloader`` were missing."""
    import importlib
    from tinygrad_norm.utils.data.dataset import IterableDataset
    pairs = [("tinygrad_norm.utils.data.dataset", "IterableDataset", tg.data.IterableDataset),
             ("tinygrad_norm.utils.data.sampler", "Sampler", tg.data.Sampler),
             ("tinygrad_norm.utils.data.dataloader", "DataLoader", tg.data.DataLoader),
             ("tinygrad_norm.utils.data.dataloader", "default_collate", tg.data.default_collate),
             ("tinygrad_norm.nn.parameter", "Parameter", tg.nn.Parameter),
             ("tinygrad_norm.optim.optimizer", "Optimizer", tg.optim.Optimizer),
             ("tinygrad_norm.optim.optimizer", "required", tg.optim.required),
             ("tinygrad_norm.autograd.variable", "Variable", tg.autograd.Variable)]
    for path, name, obj in pairs:
        assert getattr(importlib.import_module(path), name) is obj, (path, name)
        torch_path = path.replace("tinygrad_norm", "torch")
        assert hasattr(importlib.import_module(torch_path), name), torch_path

    class Stream(IterableDataset):
        def __iter__(self):
            return iter([np.float32(i) for i in range(5)])

    batches = list(tg.data.DataLoader(Stream(), batch_size=2))
    assert [b.numpy().tolist() for b in batches] == [[0.0, 1.0], [2.0, 3.0], [4.0]]


def test_variable_as_torch_legacy_wrapper():
    """``torch.autograd.Variable``, in much pre-0.4 code, was missing."""
    import warnings
    for L in (torch, tg):
        V = L.autograd.Variable
        t = L.ones(2)
        v = V(t, requires_grad=True)
        assert v is not t and v.requires_grad and not t.requires_grad and v.is_leaf
        assert isinstance(t, V) and isinstance(v, L.Tensor)
        x = L.ones(2, requires_grad=True)
        y = V(x * 2)
        assert y.grad_fn is None and y.is_leaf and not y.requires_grad
        (v * 3).sum().backward()
        assert v.grad.tolist() == [3.0, 3.0]
        with pytest.warns(UserWarning, match="volatile was removed"):
            V(t, volatile=True)
        with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
            V([1.0])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            v.data[0] = 5.0  # shares memory with t, as torch's
        assert float(t[0]) == 5.0
