"""How a Tensor prints, as ``torch.set_printoptions`` sets it: digits after the point, the size
beyond which only the edges are shown, the line width and scientific notation.

The defaults are this package's (a summary beyond 100 elements, where torch's is 1000), so a
repr is as it was until someone asks otherwise; ``profile="default"`` comes back to them.
"""
from __future__ import annotations

import math
import numbers

__all__ = ["set_printoptions"]

_DEFAULTS = dict(precision=4, threshold=100, edgeitems=3, linewidth=75, sci_mode=None)
# torch's named profiles, with this package's threshold for "default"
_PROFILES = {"default": _DEFAULTS,
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)}
_options = dict(_DEFAULTS)


def _count(value, name, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) and not (
            name == "threshold" and value == math.inf):
        raise TypeError(f"set_printoptions(): {name} must be an int, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"set_printoptions(): {name} must be at least {low}, got {value}")
    return value


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """As ``torch.set_printoptions``: a ``profile`` ("default", "short", "full") first, then
    each option given; None leaves an option as it is, except ``sci_mode`` (None: NumPy's own
    choice, as torch's automatic one). Checked before anything changes."""
    new = dict(_options)
    if profile is not None:
        if not isinstance(profile, str) or profile not in _PROFILES:  # a dict is unhashable
            raise ValueError(f"set_printoptions(): profile must be one of "
                             f"{sorted(_PROFILES)}, got {profile!r}")
        new.update(_PROFILES[profile], sci_mode=None)
    for name, value, low in (("precision", precision, 0), ("threshold", threshold, 0),
                             ("edgeitems", edgeitems, 1), ("linewidth", linewidth, 1)):
        if value is not None:
            new[name] = _count(value, name, low)
    if sci_mode is not None and not isinstance(sci_mode, bool):
        raise TypeError(f"set_printoptions(): sci_mode must be a bool or None, got "
                        f"{type(sci_mode).__name__}")
    new["sci_mode"] = sci_mode
    _options.update(new)


def array2string_options():
    """The keyword arguments of ``np.array2string`` for a Tensor's repr."""
    p = _options["precision"]
    kw = dict(precision=p, threshold=_options["threshold"], edgeitems=_options["edgeitems"],
              max_line_width=_options["linewidth"])
    if kw["threshold"] == math.inf:
        kw["threshold"] = 2 ** 63 - 1  # NumPy wants an int: never summarise
    if _options["sci_mode"] is not None:
        spec = "e" if _options["sci_mode"] else "f"
        kw["formatter"] = {"float_kind": lambda v: f"{v:.{p}{spec}}"}
    return kw
