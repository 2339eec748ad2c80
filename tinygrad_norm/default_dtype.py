"""The process-wide default floating-point dtype, as ``torch.set_default_dtype``.

Everything torch makes "in the default dtype" reads ``DEFAULT`` here: Python floats turned into
tensors, integers promoted to floats (int tensor with a float, true division of ints), the
creation functions without a ``dtype=``, nn layers' parameters and buffers, and the optimizers'
scalar state. ``DEFAULT`` is a plain module global (an ``np.dtype``) so that the operators' hot
path reads it with one attribute lookup and no call. float16 is not accepted (torch accepts
float16 and bfloat16): NumPy has no bfloat16, and a float16 default would need every composite
that computes float16 in float32 to be checked first.
"""
import numpy as np

DEFAULT = np.dtype(np.float32)  # torch's default until set_default_dtype changes it

_ALLOWED = (np.dtype(np.float32), np.dtype(np.float64))


def set_default_dtype(d):
    """Sets the default floating-point dtype to ``d`` (float32 or float64: a NumPy dtype, a type
    such as ``np.float64`` or a name such as ``"float64"``), as ``torch.set_default_dtype``."""
    global DEFAULT
    try:
        dt = np.dtype(d) if d is not None else None  # np.dtype(None) would be float64
    except TypeError:
        dt = None
    if dt is None or not any(dt is ok for ok in _ALLOWED):  # checked before the state changes
        # (by identity: np.dtype("float64") == None is True, NumPy reads None as float64)
        raise TypeError("only floating-point types are supported as the default type"
                        + ("" if dt is None or dt.kind != "f" else
                           f" (float32 and float64 here; got {dt})"))
    DEFAULT = dt


def get_default_dtype():
    """The default floating-point dtype (an ``np.dtype``), as ``torch.get_default_dtype``."""
    return DEFAULT


def default_or(dtype):
    """``dtype``, or the default dtype when it is None (a ``dtype=None`` argument)."""
    return DEFAULT if dtype is None else dtype


def scalar_type():
    """The type of the optimizers' scalar state (NAdam's ``mu_product``, ASGD's ``eta`` and
    ``mu``), as torch's ``_get_scalar_dtype``: float64 under a float64 default, else float32."""
    return np.float64 if DEFAULT == np.float64 else np.float32
