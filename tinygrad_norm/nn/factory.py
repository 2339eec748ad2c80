"""``nn.factory_kwargs``, as torch's: the ``device``/``dtype``/``memory_format`` keywords of a
layer's ``**kwargs`` gathered for a factory call, checked at once (a layer written for torch
calls it in ``__init__``)."""
from __future__ import annotations

__all__ = ["factory_kwargs"]

_SIMPLE = ("device", "dtype", "memory_format")


def factory_kwargs(kwargs):
    """A new dict of the factory keywords in ``kwargs`` (None: empty), merged with the dict
    under its ``factory_kwargs`` key; any other key, or one given both ways, is torch's
    TypeError."""
    if kwargs is None:
        return {}
    unexpected = set(kwargs) - set(_SIMPLE) - {"factory_kwargs"}
    if unexpected:
        raise TypeError(f"unexpected kwargs {unexpected}")
    out = dict(kwargs.get("factory_kwargs", {}))
    for key in _SIMPLE:
        if key in kwargs:
            if key in out:
                raise TypeError(f"{key} specified twice, in **kwargs and in factory_kwargs")
            out[key] = kwargs[key]
    return out
