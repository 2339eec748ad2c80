"""``functionalize``: torch's pass that rewrites in-place ops for its compilers. An eager tape
runs the program as written, with the same values and the same writes into the inputs, so the
transform is the function itself (its argument checked as torch checks it)."""
from __future__ import annotations

import functools

_REMOVE = ("mutations", "mutations_and_views")


def functionalize(func, *, remove="mutations"):
    """``func`` as ``torch.func.functionalize`` returns it: a function with the same results,
    and the same writes into its inputs, as ``func``. ``remove`` is 'mutations' or
    'mutations_and_views', as torch's."""
    if remove not in _REMOVE:
        raise ValueError(f"functionalize(f, remove='mutations'): received invalid argument for "
                         f"remove={remove}. Valid options are 'mutations' and "
                         f"'mutations_and_views'.")
    if not callable(func):
        raise TypeError(f"functionalize(f): f must be callable, got {type(func).__name__}")

    @functools.wraps(func)
    def functionalized(*args, **kwargs):
        return func(*args, **kwargs)

    return functionalized
