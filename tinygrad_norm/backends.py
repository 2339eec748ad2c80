"""``torch.backends``' switches that training scripts set on their first lines
(``torch.backends.cudnn.benchmark = True``, ``...deterministic = True``,
``torch.backends.cuda.matmul.allow_tf32 = True``) and the availability questions they ask
(``torch.backends.mps.is_available()``). Nothing here has cuDNN, TF32 or MPS to switch, so the
flags are kept and read back, checked as torch checks them (bools), and change nothing."""
from __future__ import annotations

__all__ = ["cudnn", "cuda", "mps"]


class _Flags:
    """A namespace of boolean switches; assigning a non-bool is torch's RuntimeError words."""

    def __init__(self, owner, **flags):
        object.__setattr__(self, "_owner", owner)
        object.__setattr__(self, "_flags", dict(flags))

    def __getattr__(self, name):
        flags = object.__getattribute__(self, "_flags")
        if name in flags:
            return flags[name]
        raise AttributeError(f"module '{self._owner}' has no attribute '{name}'")

    def __setattr__(self, name, value):
        if name in self._flags:
            if not isinstance(value, bool):
                raise TypeError(f"set_{name}_{self._owner.rsplit('.', 1)[-1]} expects a bool, "
                                f"but got {type(value).__name__}")
            self._flags[name] = value
        else:  # a function or a new name, as a module takes any attribute
            object.__setattr__(self, name, value)

    def __repr__(self):
        return f"<flags {self._owner}: {self._flags}>"


def _false():
    return False


def _none():
    return None


cudnn = _Flags("torch.backends.cudnn", enabled=True, benchmark=False, deterministic=False,
               allow_tf32=True)
cudnn.is_available = _false  # no cuDNN here: torch's CPU build answers the same
cudnn.version = _none

cuda = _Flags("torch.backends.cuda")
cuda.matmul = _Flags("torch.backends.cuda.matmul", allow_tf32=False,
                     allow_fp16_reduced_precision_reduction=True,
                     allow_bf16_reduced_precision_reduction=True)
cuda.is_built = _false

mps = _Flags("torch.backends.mps")
mps.is_available = _false
mps.is_built = _false
