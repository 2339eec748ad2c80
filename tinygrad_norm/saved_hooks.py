"""torch.autograd.graph's hooks on what nodes save for backward: ``saved_tensors_hooks`` (and
``save_on_cpu``, ``disable_saved_tensors_hooks``) and ``allow_mutation_on_saved_tensors``.

Both work at recording time through ``autograd.set_record_step``: the step is swapped into
``Node.__init__`` while a block is open and out when the last one closes, so recording costs
nothing more without one. What a node saved is then an object that reads, indexed, as the
``(arrays, out, extra)`` tuple the tape's own checks use, and unpacks, iterated, into what the
VJP computes with.
"""
from __future__ import annotations

import threading

import numpy as np

from . import autograd
from .autograd import no_grad
from .grad_fn_api import _is_tensor

__all__ = ["saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks",
           "allow_mutation_on_saved_tensors"]


class _HookState(threading.local):
    def __init__(self):
        self.stack = []        # (pack, unpack) pairs; the innermost applies, as torch
        self.disabled = None   # disable_saved_tensors_hooks' message while one is open


_hooks = _HookState()
_open = [0]  # saved_tensors_hooks blocks open in any thread: the record step is on while > 0
_open_lock = threading.Lock()
_NOT = object()  # an entry that was not saved (the VJP does not read it): not packed


def _opened(delta):
    with _open_lock:
        _open[0] += delta
        autograd.set_record_step("saved_tensors_hooks", _pack_step if _open[0] else None)


class _Packed:
    """A node's saved values under hooks: indexed, the arrays as recorded (what the tape's own
    checks and tools read); unpacked (``args, out, extra = node.saved``, as backward reads them)
    each packed value goes through the unpack hook, once per read."""

    __slots__ = ("raw", "packed", "unpack")

    def __init__(self, raw, packed, unpack):
        self.raw, self.packed, self.unpack = raw, packed, unpack

    def __getitem__(self, i):
        return self.raw[i]

    def __len__(self):
        return 3

    def __iter__(self):
        arrays, out, extra = self.raw
        *ins, packed_out = self.packed
        args = tuple([a if p is _NOT else self._unpacked(p) for a, p in zip(arrays, ins)])
        if packed_out is not _NOT:
            out = self._unpacked(packed_out)
        return iter((args, out, extra))

    def _unpacked(self, p):
        t = self.unpack(p)
        if not _is_tensor(t):
            raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor but got "
                            f"result of type {type(t).__name__}")
        return t._data


def _saved_input(t, a):
    """The tensor a pack hook is shown for a saved input array: the input itself, or (an operand
    saved as a promoted copy) that copy as a tensor of its own."""
    from .tensor import Tensor
    if _is_tensor(t) and t._data is a:
        return t
    return Tensor._wrap(a)


def _pack_step(node):
    """The record step while hooks are open: pack what the node's VJP reads, as torch packs the
    tensors a node saves -- the inputs the VJP reads (``Op.reads``), and the output if it does."""
    stack = _hooks.stack
    if not stack:
        return  # hooks open in another thread only
    if _hooks.disabled is not None:
        raise RuntimeError(_hooks.disabled)
    saved = node.saved
    if type(saved) is not tuple:
        return  # (not a primitive's (arrays, out, extra))
    pack, unpack = stack[-1]
    op, (arrays, out, _) = node.op, saved
    reads = ()
    if op.reads_inputs:
        reads = op.reads(node.needs) if op.reads is not None else (True,) * len(arrays)
    picked = [r and type(a) is np.ndarray for a, r in zip(arrays, reads)]
    picked += [False] * (len(arrays) - len(picked))
    keep_out = op.saves_out and out is not None
    if not keep_out and True not in picked:
        return
    with no_grad():  # torch runs pack hooks with grad off: nothing they do is recorded
        packed = [pack(_saved_input(t, a)) if p else _NOT
                  for t, a, p in zip(node.inputs, arrays, picked)]
        if keep_out:
            from .tensor import Tensor
            t = node.out_ref()
            packed.append(pack(t if t is not None and t._data is out else Tensor._wrap(out)))
        else:
            packed.append(_NOT)
    node.saved = _Packed(saved, tuple(packed), unpack)


class saved_tensors_hooks:
    """Context manager: inside, every node recorded passes each value it saves for backward
    through ``pack_hook`` (a Tensor in, anything out) and backward reads it back through
    ``unpack_hook`` (which must return a Tensor), as ``torch.autograd.graph.saved_tensors_hooks``.
    Nested blocks: the innermost pair applies. Thread-local, as torch's."""

    def __init__(self, pack_hook, unpack_hook):
        for name, fn in (("pack_hook", pack_hook), ("unpack_hook", unpack_hook)):
            if not callable(fn):
                raise TypeError(f"saved_tensors_hooks(): {name} must be callable, got "
                                f"{type(fn).__name__}")
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self):
        if _hooks.disabled is not None:
            raise RuntimeError(_hooks.disabled)
        _hooks.stack.append((self.pack_hook, self.unpack_hook))
        _opened(+1)
        return self

    def __exit__(self, *exc):
        _hooks.stack.pop()
        _opened(-1)
        return False


class save_on_cpu(saved_tensors_hooks):
    """torch's hooks that move saved tensors to the CPU and back to their device at backward.
    Every tensor here is on the CPU already: the hooks pass the tensor through unchanged.
    ``pin_memory`` and ``device_type`` are accepted, as torch's."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        if not isinstance(pin_memory, bool):
            raise TypeError(f"save_on_cpu(): pin_memory must be bool, got "
                            f"{type(pin_memory).__name__}")
        if not isinstance(device_type, str):
            raise TypeError(f"save_on_cpu(): device_type must be str, got "
                            f"{type(device_type).__name__}")
        self.pin_memory, self.device_type = pin_memory, device_type
        super().__init__(lambda t: t, lambda t: t)


class disable_saved_tensors_hooks:
    """Context manager (and decorator): inside, opening ``saved_tensors_hooks`` -- or recording
    a node under hooks opened outside -- raises ``RuntimeError(error_message)``, as torch's."""

    def __init__(self, error_message):
        if not isinstance(error_message, str):
            raise TypeError(f"disable_saved_tensors_hooks(): error_message must be str, got "
                            f"{type(error_message).__name__}")
        self.error_message = error_message

    def __enter__(self):
        self._prev = _hooks.disabled
        _hooks.disabled = self.error_message
        return self

    def __exit__(self, *exc):
        _hooks.disabled = self._prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with disable_saved_tensors_hooks(self.error_message):
                return fn(*args, **kwargs)
        return wrapper



# ---- in-place writes into saved tensors --------------------------------------------------------

_mutation = []  # the allow_mutation_on_saved_tensors blocks open, innermost last

_OUTSIDE = ("Trying to backward outside of the 'allow_mutation_on_saved_tensors' contextin "
            "which the graph was originally recorded.")


class _Cloned:
    """A node's saved values, copied when it was recorded inside
    ``allow_mutation_on_saved_tensors``: a later in-place write into the tensors leaves them
    (and the node's backward) as they were."""

    __slots__ = ("saved", "block")
    copied = True  # what the tape's write check reads: no write can reach these

    def __init__(self, saved, block):
        self.saved, self.block = saved, block

    def __getitem__(self, i):
        return self.saved[i]

    def __len__(self):
        return 3

    def __iter__(self):
        if not self.block.open:
            raise AssertionError(_OUTSIDE)
        return iter(self.saved)


def _clone_step(node):
    saved = node.saved
    if not _mutation or type(saved) is not tuple:
        return
    op, (arrays, out, extra) = node.op, saved
    reads = ()
    if op.reads_inputs:
        reads = op.reads(node.needs) if op.reads is not None else (True,) * len(arrays)
    reads = tuple(reads) + (False,) * (len(arrays) - len(reads))
    arrays = tuple([a.copy() if r and type(a) is np.ndarray else a for a, r in zip(arrays, reads)])
    if op.saves_out and type(out) is np.ndarray:
        out = out.copy()
    node.saved = _Cloned((arrays, out, extra), _mutation[-1])


class allow_mutation_on_saved_tensors:
    """Context manager, as torch's: inside, a tensor a recorded node saved may be written in
    place, and that node's backward still uses the values it saw (torch's "modified by an
    inplace operation" is not raised). The backward must run inside the same block (torch's
    AssertionError otherwise). *vs PyTorch:* the saved values are copied when each node is
    recorded, not at the first write into them (one copy per saved array, written or not);
    a ``create_graph`` backward of such a node is refused (it differentiates the tensors as
    they are now)."""

    open = False

    def __enter__(self):
        self.open = True
        _mutation.append(self)
        autograd.set_record_step("allow_mutation_on_saved_tensors", _clone_step)
        return self

    def __exit__(self, *exc):
        self.open = False
        _mutation.remove(self)
        if not _mutation:
            autograd.set_record_step("allow_mutation_on_saved_tensors", None)
        return False
