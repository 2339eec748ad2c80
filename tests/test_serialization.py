"""save/load: exact round trips of model and optimizer state, plain-NumPy readability, and every
way a file can be wrong (missing, truncated, corrupt, pickled, mismatched) -- each a clear error
that leaves the model as it was."""
from __future__ import annotations

import io
import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn, optim


def _model(seed=0, dtype=np.float32):
    tg.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, dtype=dtype), nn.ReLU(), nn.Flatten(),
                         nn.Linear(2 * 4 * 4, 3, dtype=dtype))


def _snapshot(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def _assert_unchanged(model, snap):
    now = _snapshot(model)
    assert list(now) == list(snap)
    for k in snap:
        np.testing.assert_array_equal(now[k], snap[k])
        assert now[k].dtype == snap[k].dtype


def test_round_trip_is_exact(tmp_path):
    a, b = _model(0), _model(1)
    path = tmp_path / "model.ckpt"
    tg.save(a.state_dict(), path)
    assert sorted(os.listdir(tmp_path)) == ["model.ckpt"]  # exactly the path; no temp file left
    loaded = tg.load(path)
    assert isinstance(loaded, OrderedDict) and list(loaded) == list(a.state_dict())
    assert all(isinstance(v, Tensor) for v in loaded.values())
    b.load_state_dict(loaded)
    _assert_unchanged(b, _snapshot(a))
    x = Tensor(np.random.default_rng(0).standard_normal((2, 1, 4, 4)).astype(np.float32))
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    # the model does not alias the loaded arrays
    next(iter(loaded.values())).data[...] = 7
    assert not np.any(b.state_dict()["0.weight"].numpy() == 7)


def test_file_is_plain_numpy(tmp_path):
    a = _model(0, dtype=np.float64)
    path = tmp_path / "m.npz"
    tg.save(a.state_dict(), str(path))
    with np.load(path, allow_pickle=False) as z:
        assert set(z.files) == {"0.weight", "0.bias", "3.weight", "3.bias", "__tinygrad_norm__"}
        np.testing.assert_array_equal(z["3.weight"], a.state_dict()["3.weight"].numpy())
        assert z["0.weight"].dtype == np.float64
    np.savez(tmp_path / "plain.npz", w=np.arange(3.0))  # a foreign .npz: a dict of Tensors
    plain = tg.load(tmp_path / "plain.npz")
    np.testing.assert_array_equal(plain["w"].numpy(), [0.0, 1.0, 2.0])


def test_optimizer_state_round_trip(tmp_path):
    model = _model(0, dtype=np.float64)
    opt = optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.95), amsgrad=True)
    rng = np.random.default_rng(1)
    batches = [(rng.standard_normal((4, 1, 4, 4)), rng.integers(0, 3, 4)) for _ in range(6)]

    def run(m, o, part):
        for x, y in part:
            o.zero_grad()
            F.cross_entropy(m(Tensor(x)), y).backward()
            o.step()

    run(model, opt, batches[:3])
    tg.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3,
             "note": "half way", "none": None, "losses": [1.5, float("inf")]}, tmp_path / "ck")
    run(model, opt, batches[3:])
    ck = tg.load(tmp_path / "ck")
    assert ck["epoch"] == 3 and ck["note"] == "half way" and ck["none"] is None
    assert ck["losses"] == [1.5, float("inf")]
    assert ck["optim"]["param_groups"][0]["betas"] == (0.8, 0.95)
    assert sorted(ck["optim"]["state"]) == [0, 1, 2, 3]  # int keys stay ints
    fresh = _model(5, dtype=np.float64)
    fresh.load_state_dict(ck["model"])
    opt2 = optim.Adam(fresh.parameters())
    opt2.load_state_dict(ck["optim"])
    run(fresh, opt2, batches[3:])
    _assert_unchanged(fresh, _snapshot(model))


def test_file_objects(tmp_path):
    buf = io.BytesIO()
    tg.save({"a": Tensor(np.arange(4.0)), "b": np.ones((2, 2), np.int64)}, buf)
    buf.seek(0)
    out = tg.load(buf)
    assert isinstance(out["a"], Tensor) and isinstance(out["b"], np.ndarray)
    assert out["b"].dtype == np.int64


def test_missing_file(tmp_path):
    model = _model()
    snap = _snapshot(model)
    path = tmp_path / "nope.npz"
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        model.load_state_dict(tg.load(path))
    _assert_unchanged(model, snap)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tg.save(model.state_dict(), tmp_path / "no_dir" / "m.npz")


@pytest.mark.parametrize("cut", [0, 10, 200, -200, -30, -1])
def test_truncated_file(tmp_path, cut):
    src = _model(1)
    path = tmp_path / "m.npz"
    tg.save(src.state_dict(), path)
    data = path.read_bytes()
    path.write_bytes(data[:cut] if cut > 0 else data[:len(data) + cut] if cut else b"")
    model = _model(0)
    snap = _snapshot(model)
    with pytest.raises(ValueError, match="m.npz"):
        model.load_state_dict(tg.load(path))
    _assert_unchanged(model, snap)


def test_corrupt_and_foreign_files(tmp_path):
    model = _model(0)
    snap = _snapshot(model)
    path = tmp_path / "m.npz"
    tg.save(_model(1).state_dict(), path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # a flipped byte inside an array: the CRC check catches it
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="m.npz"):
        model.load_state_dict(tg.load(path))

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps({"0.weight": Evil()}))
    with pytest.raises(ValueError, match="evil.pt"):
        tg.load(evil)
    np.savez(tmp_path / "obj.npz", w=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match="obj.npz"):
        tg.load(tmp_path / "obj.npz")
    np.save(tmp_path / "single.npy", np.ones(3))
    with pytest.raises(ValueError, match="single .npy array"):
        tg.load(tmp_path / "single.npy")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="text.npz"):
        tg.load(tmp_path / "text.npz")
    np.savez(tmp_path / "meta.npz", __tinygrad_norm__=np.frombuffer(b"{not json", np.uint8))
    with pytest.raises(ValueError, match="malformed"):
        tg.load(tmp_path / "meta.npz")
    assert not (tmp_path / "pwned").exists()
    _assert_unchanged(model, snap)


def test_mismatched_state_leaves_model_unchanged(tmp_path):
    model = _model(0)
    snap = _snapshot(model)
    other = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(4 * 4 * 4, 3))
    tg.save(other.state_dict(), tmp_path / "other.npz")
    with pytest.raises(ValueError, match="shape"):
        model.load_state_dict(tg.load(tmp_path / "other.npz"))
    _assert_unchanged(model, snap)
    partial = tg.load(tmp_path / "other.npz")
    del partial["3.bias"]
    partial["0.weight"] = Tensor(np.zeros((2, 1, 3, 3)))
    with pytest.raises(KeyError, match="3.bias"):
        model.load_state_dict(partial)
    _assert_unchanged(model, snap)


def test_save_rejects_what_it_cannot_store_and_writes_nothing(tmp_path):
    path = tmp_path / "m.npz"
    tg.save({"w": np.ones(2)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="cannot save object"):
        tg.save({"w": np.ones(2), "f": object()}, path)
    with pytest.raises(TypeError, match="only numeric and bool arrays"):
        tg.save({"s": np.array(["a"])}, path)
    with pytest.raises(TypeError, match="only str and int keys"):
        tg.save({(1, 2): np.ones(1)}, path)
    assert path.read_bytes() == before  # the old checkpoint survives a failed save
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]


def test_awkward_names_round_trip(tmp_path):
    obj = {"a/b": np.ones(1), "__x": np.zeros(1), "array": np.full(1, 2.0),
           "nested": {"a/b": np.full(1, 3.0)}, 5: [np.full(1, 4.0), (np.full(1, 5.0),)]}
    tg.save(obj, tmp_path / "w")
    out = tg.load(tmp_path / "w")
    assert list(out) == list(obj)
    assert out["a/b"][0] == 1 and out["__x"][0] == 0 and out["array"][0] == 2
    assert out["nested"]["a/b"][0] == 3 and out[5][0][0] == 4 and out[5][1][0][0] == 5


@pytest.mark.parametrize("to_file_object", [False, True])
def test_keys_named_like_savez_parameters_round_trip(tmp_path, to_file_object):
    """np.savez takes the entry names as keyword arguments: a key ``file`` collided with its
    first parameter (TypeError) and ``allow_pickle`` was silently dropped from the archive."""
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.file = nn.Parameter(Tensor(np.arange(3.0)))
            self.allow_pickle = nn.Parameter(Tensor(np.full(2, 7.0)))
    state = Net().state_dict()
    if to_file_object:
        buf = io.BytesIO()
        tg.save(state, buf)
        buf.seek(0)
        out = tg.load(buf)
    else:
        tg.save(state, tmp_path / "n.npz")
        out = tg.load(tmp_path / "n.npz")
        assert sorted(np.load(tmp_path / "n.npz").files) == [
            "__tinygrad_norm__", "allow_pickle", "file"]  # still readable by plain NumPy
    np.testing.assert_array_equal(out["file"].numpy(), [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(out["allow_pickle"].numpy(), [7.0, 7.0])
    fresh = Net()
    fresh.load_state_dict(out)
    np.testing.assert_array_equal(fresh.allow_pickle.numpy(), [7.0, 7.0])


# ------------------------------------------------------------------------------------------------
# what is not an .npz archive, or only part of one
# ------------------------------------------------------------------------------------------------

def _saved_bytes(tmp_path):
    path = tmp_path / "src.npz"
    tg.save(_model(1).state_dict(), path)
    return path.read_bytes()


@pytest.mark.parametrize("content", [
    b"\x00" + np.random.default_rng(0).bytes(299),
    b"hello, this is a text file\n",
    b"\x80\x04K\x01.",  # a pickle: np.load's message would be about pickled data
    b"{\"0.weight\": [1, 2]}",
    b"P",
], ids=["random", "text", "pickle", "json", "P"])
def test_load_of_what_is_not_an_npz_archive(tmp_path, content):
    path = tmp_path / "x.npz"
    path.write_bytes(content)
    model = _model(0)
    snap = _snapshot(model)
    with pytest.raises(ValueError, match="not an .npz archive") as exc:
        model.load_state_dict(tg.load(path))
    assert "x.npz" in str(exc.value) and "pickle" not in str(exc.value)
    with pytest.raises(ValueError, match="not an .npz archive"):
        tg.load(io.BytesIO(content))
    _assert_unchanged(model, snap)


def test_load_of_an_empty_file(tmp_path):
    (tmp_path / "e.npz").write_bytes(b"")
    with pytest.raises(ValueError, match="empty, not an .npz archive"):
        tg.load(tmp_path / "e.npz")


@pytest.mark.parametrize("keep", [2, 3, 4, 30, 0.5, -100, -22, -1])
def test_load_of_a_truncated_archive_says_truncated(tmp_path, keep):
    data = _saved_bytes(tmp_path)
    n = int(len(data) * keep) if isinstance(keep, float) else keep % len(data)
    path = tmp_path / "cut.npz"
    path.write_bytes(data[:n])
    with pytest.raises(ValueError, match="truncated") as exc:
        tg.load(path)
    assert "cut.npz" in str(exc.value)
    with pytest.raises(ValueError, match="truncated"):
        tg.load(io.BytesIO(data[:n]))


def test_load_of_a_corrupt_archive_says_corrupt(tmp_path):
    data = bytearray(_saved_bytes(tmp_path))
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "bad.npz").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="truncated or corrupt"):
        tg.load(tmp_path / "bad.npz")


class _Pipe(io.RawIOBase):
    """A readable stream that cannot seek, as a pipe or a socket."""

    def __init__(self, data):
        self._data = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, b):
        chunk = self._data.read(len(b))
        b[:len(chunk)] = chunk
        return len(chunk)


def test_load_from_file_objects_that_seek_and_that_do_not(tmp_path):
    data = _saved_bytes(tmp_path)
    buf = io.BytesIO(data)
    out = tg.load(buf)  # the signature check reads the first bytes and rewinds
    assert list(out) == list(_model(1).state_dict())
    assert list(tg.load(_Pipe(data))) == list(out)
    with pytest.raises(ValueError, match="not an .npz archive"):
        tg.load(_Pipe(b"plain text"))
    with open(tmp_path / "src.npz", "rb") as f:
        assert list(tg.load(f)) == list(out)


def test_load_from_a_text_mode_file_object(tmp_path):
    (tmp_path / "t.npz").write_bytes(_saved_bytes(tmp_path))
    with open(tmp_path / "t.npz", encoding="latin-1") as f:
        with pytest.raises(TypeError, match="binary mode"):
            tg.load(f)


# ------------------------------------------------------------------------------------------------
# the saved file's permissions
# ------------------------------------------------------------------------------------------------

@pytest.fixture
def umask():
    """Set the process umask for one test, and put the old one back."""
    if os.name != "posix":
        pytest.skip("file modes and umask are POSIX")
    old = os.umask(0o022)
    try:
        yield os.umask
    finally:
        os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_save_creates_the_file_with_the_umasks_mode(tmp_path, umask, mask, mode):
    umask(mask)
    tg.save(_model().state_dict(), tmp_path / "m.npz")
    assert oct(os.stat(tmp_path / "m.npz").st_mode & 0o777) == oct(mode)
    assert os.listdir(tmp_path) == ["m.npz"]  # no temporary file left behind


def test_save_over_a_file_keeps_its_mode(tmp_path, umask):
    path = tmp_path / "m.npz"
    tg.save(_model().state_dict(), path)
    os.chmod(path, 0o640)
    tg.save(_model(1).state_dict(), path)
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o640)
    assert os.listdir(tmp_path) == ["m.npz"]


def test_keys_that_zip_entry_names_cannot_hold_round_trip(tmp_path):
    """np.load looks ``x`` up as the entry ``x`` before ``x.npy``: keys ``x`` and ``x.npy``
    swapped values silently. A NUL cut the entry name (the file never loaded again), a
    surrogate did not encode and a 70,000-character key overflowed the name's length field."""
    obj = {"x": np.array([1.0]), "x.npy": np.array([2.0]), "a\x00b": np.array([3.0]),
           "nested": {"b\x00": np.array([4.0])}, "\ud800": np.array([5.0]),
           "k" * 70000: np.array([6.0])}
    tg.save(obj, tmp_path / "m.npz")
    out = tg.load(tmp_path / "m.npz")
    assert list(out) == list(obj)
    assert [float(v[0]) for k, v in out.items() if k != "nested"] == [1, 2, 3, 5, 6]
    assert float(out["nested"]["b\x00"][0]) == 4


def test_save_refuses_a_structure_that_contains_itself(tmp_path):
    loop = []
    loop.append(loop)
    d = {"w": np.ones(1)}
    d["self"] = d
    for obj in (loop, d, [{"a": loop}]):
        with pytest.raises(ValueError, match="contains itself"):  # was a RecursionError
            tg.save(obj, tmp_path / "m.npz")
    shared = [np.ones(1)]
    tg.save({"a": shared, "b": shared}, tmp_path / "m.npz")  # shared, not cyclic: saved twice
    out = tg.load(tmp_path / "m.npz")
    assert out["a"][0][0] == out["b"][0][0] == 1
    deep = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(ValueError, match="nested too deeply"):
        tg.save(deep, tmp_path / "m.npz")
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_save_writes_through_a_symbolic_link(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "m.npz"
    tg.save({"v": np.array([1.0])}, target)
    link = tmp_path / "latest.npz"
    os.symlink(target, link)
    tg.save({"v": np.array([2.0])}, link)
    assert link.is_symlink()  # was replaced by a file, the target keeping the old values
    assert tg.load(target)["v"][0] == 2.0


def test_save_paths_as_bytes_and_the_empty_path(tmp_path):
    path = os.fsencode(tmp_path / "m.npz")
    tg.save({"v": np.array([1.0])}, path)  # failed: mixed str and bytes path components
    assert tg.load(path)["v"][0] == 1.0
    with pytest.raises(FileNotFoundError, match="the path is empty"):
        tg.save({"v": np.array([1.0])}, "")


def test_load_of_a_zip_of_other_entries_is_a_value_error(tmp_path):
    import zipfile
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as zf:  # as a torch.save file: a zip of non-.npy entries
        zf.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        zf.writestr("hello.txt", b"hello")
    with pytest.raises(ValueError, match="is not a .npy array"):  # was an AttributeError
        tg.load(path)


def test_load_of_an_entry_declaring_an_absurd_shape_is_a_value_error(tmp_path):
    import zipfile
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f8", "fortran_order": False, "shape": (2**40,)})
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("w.npy", buf.getvalue() + b"\0" * 64)
    with pytest.raises(ValueError, match="huge.npz"):  # was a MemoryError
        tg.load(path)


# ---- what torch.save keeps: requires_grad, Parameter, sharing, NumPy scalars (format 2) -------

def _nest(lib, tensor, parameter, zeros):
    """The same nest for tinygrad_norm and torch: a parameter, a tensor that requires grad and
    one that does not, one tensor met twice, a detached twin sharing its array, a shared list,
    NumPy scalars."""
    w = tensor(np.ones(3, np.float32), True)
    b = tensor(np.arange(4.0), False)
    shared = [1, 2]
    return {"p": parameter(zeros(2)), "w": w, "w_again": w, "b": b, "b_detached": b.detach(),
            "list": shared, "list_again": shared, "nested": {"w": w},
            "f32": np.float32(1.5), "f16": np.float16(0.1), "i64": np.int64(-3),
            "u8": np.uint8(200), "bool": np.bool_(True), "c64": np.complex64(1 + 2j),
            "f64": np.float64(0.25), "py": 2.5}


def _summary(o, is_param):
    return {"w.requires_grad": o["w"].requires_grad, "b.requires_grad": o["b"].requires_grad,
            "p.requires_grad": o["p"].requires_grad, "p is a Parameter": is_param(o["p"]),
            "w shared": o["w"] is o["w_again"] and o["w"] is o["nested"]["w"],
            "list shared": o["list"] is o["list_again"],
            "scalar types": {k: type(o[k]).__name__ for k in
                             ("f32", "f16", "i64", "u8", "bool", "c64", "f64", "py")},
            "scalar values": [o[k].item() if hasattr(o[k], "item") else o[k] for k in
                              ("f32", "f16", "i64", "u8", "bool", "c64", "f64", "py")]}


def test_requires_grad_parameters_sharing_and_numpy_scalars_round_trip_as_torch(torch, tmp_path):
    # the hunt's finding #15: requires_grad was dropped, a tensor saved twice came back as two,
    # np.float32 came back as float
    ours = _nest(tg, lambda a, rg: Tensor(a, requires_grad=rg), nn.Parameter,
                 lambda n: np.zeros(n, np.float32))
    theirs = _nest(torch, lambda a, rg: torch.tensor(a, requires_grad=rg), torch.nn.Parameter,
                   lambda n: torch.zeros(n))
    tg.save(ours, tmp_path / "ours.npz")
    torch.save(theirs, tmp_path / "theirs.pt")
    o = tg.load(tmp_path / "ours.npz")
    t = torch.load(tmp_path / "theirs.pt", weights_only=False)
    got = _summary(o, lambda p: isinstance(p, nn.Parameter))
    assert got == _summary(t, lambda p: isinstance(p, torch.nn.Parameter))
    assert got["w.requires_grad"] and got["p is a Parameter"] and got["w shared"]
    assert got["scalar types"]["f32"] == "float32"
    # a tensor and its detach() share storage, in torch's load too: a write shows in both
    o["b"].data[1] = 100.0
    with torch.no_grad():
        t["b"][1] = 100.0
    assert o["b_detached"].data[1] == t["b_detached"][1].item() == 100.0
    assert o["w"].is_leaf and o["w"].grad is None  # a leaf, no gradient saved (as torch)
    (o["w"] * 2).sum().backward()
    np.testing.assert_array_equal(o["w"].grad.data, [2.0, 2.0, 2.0])


def test_a_tensor_saved_twice_is_one_entry_of_the_archive(tmp_path):
    w = Tensor(np.ones(3))
    tg.save({"a": w, "b": w, "c": w.detach(), "d": w.data}, tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as z:
        assert set(z.files) == {"a", "__tinygrad_norm__"}
    o = tg.load(tmp_path / "m.npz")
    assert o["a"] is o["b"] and o["c"] is not o["a"] and o["c"].data is o["a"].data
    assert o["d"] is o["a"].data


def test_a_non_leaf_that_requires_grad_loads_as_a_leaf_as_torch(torch, tmp_path):
    x = Tensor(np.ones(2), requires_grad=True)
    tg.save({"y": x * 2}, tmp_path / "m.npz")
    y = tg.load(tmp_path / "m.npz")["y"]
    tx = torch.ones(2, dtype=torch.float64, requires_grad=True)
    torch.save({"y": tx * 2}, tmp_path / "m.pt")
    ty = torch.load(tmp_path / "m.pt", weights_only=False)["y"]
    assert (y.requires_grad, y.is_leaf) == (ty.requires_grad, ty.is_leaf) == (True, True)
    np.testing.assert_array_equal(y.data, ty.detach().numpy())


GOLDEN_V1 = os.path.join(os.path.dirname(__file__), "golden", "checkpoint_format1.npz")


def test_a_file_of_format_version_1_loads_as_it_always_did():
    # tests/golden/checkpoint_format1.npz was written by save() as of commit 9046d8c (format
    # version 1, before requires_grad, sharing and NumPy scalars were kept): it loads exactly as
    # that version loaded it -- no requires_grad, the tensor met twice as two, np.float32 as float
    o = tg.load(GOLDEN_V1)
    with np.load(GOLDEN_V1, allow_pickle=False) as z:
        import json
        assert json.loads(z["__tinygrad_norm__"].tobytes())["version"] == 1
    assert list(o) == ["model", "again", "array", "scalars", "pair", "np_float32", "np_int64", 7]
    m = o["model"]
    assert isinstance(m, OrderedDict) and list(m) == ["0.weight", "0.bias", "steps", "mask"]
    np.testing.assert_array_equal(m["0.weight"].data,
                                  np.arange(6, dtype=np.float32).reshape(2, 3) / 4)
    assert m["0.weight"].dtype == np.float32 and not m["0.weight"].requires_grad
    assert m["0.bias"].dtype == np.float64 and m["0.bias"].data.tolist() == [0.5, -1.5]
    assert m["steps"].dtype == np.int64 and m["steps"].shape == () and m["steps"].item() == 7
    assert m["mask"].dtype == np.bool_ and m["mask"].data.tolist() == [True, False]
    assert o["again"] is not m["0.weight"] and not o["again"].requires_grad
    np.testing.assert_array_equal(o["again"].data, m["0.weight"].data)
    assert o["array"].dtype == np.int16 and o["array"].tolist() == [[1, 2], [3, 4]]
    assert o["scalars"] == [1, 2.5, True, None, "text", float("inf")]
    assert o["pair"] == (3, "x")
    assert type(o["np_float32"]) is float and o["np_float32"] == 1.5
    assert type(o["np_int64"]) is int and o["np_int64"] == -4
    assert o[7]["nested"][0].shape == (0, 2) and o[7]["nested"][0].dtype == np.float32


@pytest.mark.parametrize("root", [
    {"t": "ref", "id": 0},  # a reference to nothing
    {"t": "list", "items": [{"t": "ref", "id": 3}, {"t": "list", "items": [], "id": 3}]},
    {"t": "list", "items": [{"t": "ref", "id": [1]}]},  # an id JSON cannot key
    {"t": "scalar", "name": "a"},  # a NumPy scalar of shape (2,)
])
def test_load_of_malformed_references_and_scalars_is_a_value_error(tmp_path, root):
    import json
    meta = json.dumps({"format": "tinygrad_norm.npz", "version": 2, "root": root})
    np.savez(tmp_path / "bad.npz", a=np.ones(2),
             __tinygrad_norm__=np.frombuffer(meta.encode(), np.uint8))
    with pytest.raises(ValueError, match="malformed structure"):
        tg.load(tmp_path / "bad.npz")
