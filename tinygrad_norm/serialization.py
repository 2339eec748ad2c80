"""``save`` and ``load``: state dicts (and optimizer state, or any nest of dicts, lists and arrays)
as ``.npz`` files that can never run code.

A file is a plain NumPy ``.npz`` archive read with ``allow_pickle=False``: one ``.npy`` entry per
array, named by its key path (``0.weight``, ``state.0.exp_avg``), so ``numpy.load`` reads a model
file directly. The structure around the arrays -- dict keys and their types, lists, tuples, Python
numbers, strings, None -- is one JSON text in the entry ``__tinygrad_norm__``. A plain ``.npz``
without that entry loads as a dict of Tensors.

What ``torch.save`` keeps, this keeps (format version 2): a Tensor's ``requires_grad`` and
whether it is a ``Parameter``; NumPy scalars with their dtype (a 0-d entry); and sharing -- an
object met twice (a Tensor, an ndarray, a dict, list or tuple) is written once and comes back as
one object, and Tensors over one ndarray (``t`` and ``t.detach()``) come back over one array.
Version 1 files (written before) load as they always did.

``save`` writes a temporary file beside the target and renames it over the target only when it is
complete: an interrupted save never leaves a truncated checkpoint. ``load`` reads every array
before returning, so a truncated, corrupt or foreign file is a ``ValueError`` naming the path, and
``model.load_state_dict(load(path))`` either loads everything or changes nothing.
"""
from __future__ import annotations

import errno
import io
import json
import os
import secrets
import stat
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from .devices import check_device, device
from .tensor import Tensor

__all__ = ["save", "load"]

_META = "__tinygrad_norm__"
_FORMAT = "tinygrad_norm.npz"
_VERSION = 2  # 2: requires_grad, Parameter, NumPy scalars, shared objects ("ref" nodes)
_SCALARS = (bool, int, float, str, type(None))
# an .npz is a zip archive: its first entry's local header, or the end record of an empty one
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
_NPY_MAGIC = b"\x93NUMPY"


def save(obj, path, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Write ``obj`` -- a state dict, an optimizer state dict, or any nest of dicts (str or int
    keys), lists, tuples, Tensors, ndarrays and Python scalars -- to ``path`` (written exactly as
    given; no extension is added). ``path`` may also be a binary file object. torch.save's other
    arguments are taken, so a call ports unchanged, and not used: nothing is pickled."""
    arrays = {}
    try:
        root = _encode(obj, (), arrays, set(), _Memo())
    except RecursionError:  # a nest the JSON encoder and load() could not take either
        raise ValueError("save: the object is nested too deeply to save") from None
    meta = json.dumps({"format": _FORMAT, "version": _VERSION, "root": root}, allow_nan=True)
    arrays[_META] = np.frombuffer(meta.encode("utf-8"), dtype=np.uint8)
    if hasattr(path, "write"):
        if isinstance(path, io.TextIOBase):  # zipfile's "string argument expected, got 'bytes'"
            raise TypeError("save: the file object must be opened in binary mode ('wb'), "
                            "not text mode")
        _write_npz(path, arrays)
        return
    path = os.fsdecode(os.fspath(path))  # bytes too, as load takes them
    if not path:
        raise FileNotFoundError(errno.ENOENT, "save: the path is empty", path)
    # through a symbolic link to its target, as open() would write: the rename would otherwise
    # replace the link itself with a file and leave the target as it was
    path = os.path.realpath(path) if os.path.islink(path) else path
    if os.path.isdir(path):  # else os.replace fails naming our temporary file, not the target
        raise IsADirectoryError(errno.EISDIR, "save: path is a directory, not a file name", path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(errno.ENOENT, f"save: directory {directory!r} does not exist",
                                path)
    fd, tmp = _create_temporary(directory, path)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_npz(f, arrays)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _write_npz(f, arrays):
    """The archive ``np.savez(f, **arrays)`` writes, one ``<name>.npy`` entry per array, written
    here: np.savez takes the names as keyword arguments, so a key named ``file`` or
    ``allow_pickle`` (a module's parameter, say) collided with its own parameters."""
    with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, arr in arrays.items():
            with zf.open(name + ".npy", mode="w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.asanyarray(arr), allow_pickle=False)


def _create_temporary(directory, path):
    """A new file beside ``path``, opened for writing: ``(fd, name)``.

    Not tempfile.mkstemp: it creates mode 0600, and the rename would give a checkpoint only
    its owner can read. Mode 0666 lets the umask decide, as for a file written directly; an
    existing target keeps its permissions, as it would when overwritten in place."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):  # a clash of 64 random bits is all but impossible; do not loop forever
        tmp = os.path.join(directory, f".tmp-{secrets.token_hex(8)}.npz")
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        if mode is not None:
            try:
                os.chmod(tmp, mode)
            except OSError:  # not our file to re-permission (another owner): the umask's mode
                pass
        return fd, tmp
    raise FileExistsError(errno.EEXIST, "save: cannot create a temporary file", directory)


class _Memo:
    """What ``save`` has met: the node of each Tensor, ndarray and container (by identity), so a
    second meeting is a reference to it, and the entry of each array, so Tensors over one array
    share one entry. The objects are held, so that no id is reused while saving."""

    def __init__(self):
        self.nodes = {}    # id(obj) -> (obj, its node)
        self.entries = {}  # id(ndarray) -> (ndarray, entry name)
        self.next_id = 0

    def ref(self, obj):
        """A reference node to ``obj`` if it was met before (its first node gets the id), else
        None."""
        seen = self.nodes.get(id(obj))
        if seen is None:
            return None
        node = seen[1]
        if "id" not in node:
            node["id"] = self.next_id
            self.next_id += 1
        return {"t": "ref", "id": node["id"]}

    def remember(self, obj, node):
        self.nodes[id(obj)] = (obj, node)
        return node


def _encode(obj, keypath, arrays, open_, memo):
    where = ".".join(map(str, keypath)) or "the saved object"
    if isinstance(obj, (Tensor, np.ndarray, dict, list, tuple)):
        if id(obj) in open_:  # a container inside itself: no finite file holds it
            raise ValueError(f"save: {where} contains itself; a cyclic structure cannot be saved")
        ref = memo.ref(obj)
        if ref is not None:  # met before: one object, as torch.save (pickle) keeps it
            return ref
    if isinstance(obj, Tensor):
        node = {"t": "tensor", "name": _store(obj.data, keypath, arrays, memo)}
        if obj.requires_grad:  # a leaf that requires grad, as torch.load gives it (no graph)
            node["rg"] = True
        if getattr(obj, "_is_param", False):  # nn.Parameter: a marked Tensor
            node["param"] = True
        return memo.remember(obj, node)
    if isinstance(obj, np.ndarray):
        return memo.remember(obj, {"t": "ndarray", "name": _store(obj, keypath, arrays, memo)})
    if isinstance(obj, np.generic):
        if obj.dtype.kind in "biufc":  # np.float32(1.5) comes back as np.float32, not float
            return {"t": "scalar", "name": _store(np.asarray(obj), keypath, arrays)}
        obj = obj.item()  # np.str_ as str
    if isinstance(obj, _SCALARS):
        return {"t": "value", "v": obj}
    if isinstance(obj, (dict, list, tuple)):
        open_.add(id(obj))
        node = _encode_container(obj, keypath, arrays, open_, where, memo)
        open_.discard(id(obj))
        return memo.remember(obj, node)
    raise TypeError(f"save: cannot save {type(obj).__name__} at {where}; only Tensors, ndarrays, "
                    f"Python scalars, strings, None and dicts/lists/tuples of them"
                    + _whole_object_hint(obj))


def _whole_object_hint(obj):
    """torch.save(model) pickles the whole module (the 'Save and load the model' tutorial does
    it); nothing is pickled here, so say what to save instead of leaving the user at a list."""
    if callable(getattr(obj, "state_dict", None)) and callable(getattr(obj, "load_state_dict",
                                                                        None)):
        return (f" (a whole {type(obj).__name__} is pickled by torch.save, which this never does: "
                f"save its state_dict() and load it into a new one with load_state_dict())")
    return ""


def _encode_container(obj, keypath, arrays, open_, where, memo):
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if isinstance(k, np.integer):
                k = int(k)
            if isinstance(k, bool) or not isinstance(k, (str, int)):
                raise TypeError(f"save: key {k!r} in {where} is a {type(k).__name__}; only str "
                                f"and int keys can be saved")
            items.append([k, _encode(v, keypath + (k,), arrays, open_, memo)])
        return {"t": "odict" if isinstance(obj, OrderedDict) else "dict", "items": items}
    return {"t": "tuple" if isinstance(obj, tuple) else "list",
            "items": [_encode(v, keypath + (i,), arrays, open_, memo)
                      for i, v in enumerate(obj)]}


def _entry_name_ok(name):
    """Whether ``name`` can be an archive entry as it is. Not: a name np.load would read as
    another's (it looks ``x`` up as ``x`` before ``x.npy``, so a key ``x.npy`` swapped values
    with a key ``x``), ours, a path, or what a zip entry name cannot hold (a NUL cuts it,
    surrogates do not encode, the length field is 16 bits)."""
    if "/" in name or "\x00" in name or name.startswith("__") or name.endswith(".npy"):
        return False
    try:
        return len(name.encode("utf-8")) <= 1024
    except UnicodeEncodeError:
        return False


def _store(arr, keypath, arrays, memo=None):
    """The entry name of ``arr``: a new entry, or with ``memo`` the entry of the same array
    stored before (a Tensor and its ``detach()`` share their array)."""
    if memo is not None and id(arr) in memo.entries:
        return memo.entries[id(arr)][1]
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"save: array at {'.'.join(map(str, keypath)) or 'the root'} has dtype "
                        f"{arr.dtype}; only numeric and bool arrays can be saved")
    name = ".".join(map(str, keypath)) or "array"
    if name in arrays or not _entry_name_ok(name):  # the JSON keeps the key; any name will do
        name = f"__array_{len(arrays)}"
    arrays[name] = arr
    if memo is not None:
        memo.entries[id(arr)] = (arr, name)
    return name


_PICKLE_ARGS = ("fix_imports", "encoding", "errors", "buffers")  # what pickle.load would take


def load(path, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Read a file written by ``save`` (or any ``.npz`` of numeric arrays) without ever running
    code. Tensors come back as Tensors, ndarrays as ndarrays, dicts in their saved order.

    torch.load's other arguments are taken so that ``torch.load(f, map_location="cpu",
    weights_only=True)`` ports unchanged: every array is read into main memory, which is the
    CPU, so ``map_location`` may name the CPU (a string, a device, a dict of them) or be a
    function, which is never called; a GPU is refused. Nothing is unpickled, so ``weights_only``
    holds either way and ``pickle_module`` and pickle's own arguments are not used.

    Raises FileNotFoundError for a missing file and ValueError, naming the path, for one that is
    truncated, corrupt, or not such an archive (checked by the zip signature before NumPy reads
    anything); TypeError for a file object opened in text mode."""
    _check_load_args(map_location, pickle_module, weights_only, pickle_load_args)
    name = repr(getattr(path, "name", path)) if hasattr(path, "read") else repr(os.fspath(path))
    if not hasattr(path, "read") and not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), os.fspath(path))

    def bad(reason):
        return ValueError(f"load: {name} is not a readable tinygrad_norm checkpoint (.npz): "
                          f"{reason}")

    try:
        path = _check_signature(path, bad)
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise bad("it holds a single .npy array, not an .npz archive")
        with archive:
            # Read everything now: a truncated or corrupt entry fails here, not later.
            arrays = {k: archive[k] for k in archive.files}
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except ValueError as e:
        if str(e).startswith("load: "):
            raise
        # object arrays (allow_pickle), a malformed .npy header: an entry, not the archive
        raise bad(f"cannot read an entry of the .npz archive ({e})") from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError,
            NotImplementedError, MemoryError) as e:  # MemoryError: a header's absurd shape
        # the zip signature was there: what is wrong is further in
        raise bad(f"the .npz archive is truncated or corrupt ({type(e).__name__}: {e})") from None
    for k, v in arrays.items():
        if not isinstance(v, np.ndarray):  # np.load hands a non-.npy entry over as raw bytes
            raise bad(f"entry {k!r} is not a .npy array (a zip archive of another kind, such as "
                      f"a torch.save file?)")
    meta = arrays.pop(_META, None)
    if meta is None:
        for k, v in arrays.items():  # a foreign .npz may hold strings: say which file and entry
            if v.dtype.kind not in "biuf":
                raise bad(f"entry {k!r} has dtype {v.dtype}; only numeric arrays load as Tensors")
        return OrderedDict((k, Tensor(v)) for k, v in arrays.items())
    try:
        header = json.loads(meta.tobytes().decode("utf-8"))
        if header.get("format") != _FORMAT:
            raise bad(f"unknown format {header.get('format')!r}")
        if header.get("version", 0) > _VERSION:
            raise bad(f"written by a newer version (format version {header['version']})")
        return _decode(header["root"], arrays, {})
    except ValueError as e:
        if str(e).startswith("load: "):
            raise
        raise bad(f"malformed structure: {e}") from None
    except (KeyError, TypeError, AttributeError, UnicodeDecodeError) as e:
        raise bad(f"malformed structure: {type(e).__name__}: {e}") from None
    except RecursionError:  # a crafted file nesting lists thousands deep
        raise bad("malformed structure: nested too deeply") from None


def _check_load_args(map_location, pickle_module, weights_only, pickle_load_args):
    """torch.load's arguments, checked before the file is opened."""
    unknown = [k for k in pickle_load_args if k not in _PICKLE_ARGS]
    if unknown:  # pickle.load's own TypeError in torch
        raise TypeError(f"load() got an unexpected keyword argument {unknown[0]!r}")
    if weights_only and pickle_module is not None:
        raise ValueError("Can not safely load weights when explicit pickle_module is specified")
    if map_location is None or callable(map_location):
        return
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for target in targets:
        if isinstance(target, bool) or not isinstance(target, (str, device)):
            raise TypeError(f"load: map_location must be a device, a device string, a dict of "
                            f"them or a function, not {type(map_location).__name__}")
        check_device(target, "load: map_location")  # the CPU, or a ValueError saying there is
                                                    # no GPU (torch's RuntimeError)


def _head(path, n):
    """The first ``n`` bytes of ``path`` and what to hand np.load: the same path or file object,
    rewound, or the whole content where the file object cannot seek back."""
    if not hasattr(path, "read"):
        with open(path, "rb") as f:
            return f.read(n), path
    if isinstance(path, io.TextIOBase):  # else a str head, and a confusing comparison error
        raise TypeError("load: the file object must be opened in binary mode ('rb'), not text "
                        "mode")
    try:
        seekable = path.seekable()
    except AttributeError:
        seekable = hasattr(path, "seek") and hasattr(path, "tell")
    if not seekable:  # a pipe: read it all (np.load needs to seek in a zip archive anyway)
        data = path.read()
        return data[:n], io.BytesIO(data)
    start = path.tell()
    head = path.read(n)
    path.seek(start)
    return head, path


def _check_signature(path, bad):
    """Refuse, before np.load, what is not a zip archive: np.load would take arbitrary bytes for
    a pickle and answer that it refuses pickled data, which misleads about a text file or a
    truncated download."""
    head, source = _head(path, len(_NPY_MAGIC))
    if head.startswith(_ZIP_SIGNATURES):
        return source
    if head.startswith(_NPY_MAGIC):
        raise bad("it holds a single .npy array, not an .npz archive")
    if not head:
        raise bad("the file is empty, not an .npz archive")
    if len(head) < 4 and any(sig.startswith(head) for sig in _ZIP_SIGNATURES):
        raise bad(f"truncated: {len(head)} byte{'s' if len(head) > 1 else ''} of a zip "
                  f"signature, not an .npz archive")
    raise bad(f"not an .npz archive (a zip file starts with b'PK'; this one starts with "
              f"{head[:4]!r})")


def _decode(node, arrays, seen):
    """The object of ``node``; ``seen`` maps the ids of shared objects (version 2) to them."""
    kind = node["t"]
    if kind == "ref":
        if node["id"] not in seen:
            raise ValueError(f"a reference to no earlier object ({node['id']!r})")
        return seen[node["id"]]
    out = _decode_new(kind, node, arrays, seen)
    if "id" in node:
        seen[node["id"]] = out
    return out


def _decode_new(kind, node, arrays, seen):
    if kind == "tensor":
        t = Tensor(arrays[node["name"]], requires_grad=node.get("rg", False) is True)
        if node.get("param", False) is True:
            t._is_param = True
        return t
    if kind == "ndarray":
        return arrays[node["name"]]
    if kind == "scalar":
        arr = arrays[node["name"]]
        if arr.ndim != 0:
            raise ValueError(f"a NumPy scalar of shape {arr.shape}")
        return arr[()]
    if kind == "value":
        v = node["v"]
        if not isinstance(v, _SCALARS):
            raise ValueError(f"a value of type {type(v).__name__}")
        return v
    if kind in ("dict", "odict"):
        out = OrderedDict() if kind == "odict" else {}
        for k, v in node["items"]:
            if isinstance(k, bool) or not isinstance(k, (str, int)):
                raise ValueError(f"a key of type {type(k).__name__}")
            out[k] = _decode(v, arrays, seen)
        return out
    if kind in ("list", "tuple"):
        items = [_decode(v, arrays, seen) for v in node["items"]]
        return tuple(items) if kind == "tuple" else items
    raise ValueError(f"unknown node type {kind!r}")
