"""``nn.utils.stateless``, torch's older home of ``functional_call`` (deprecated there since
2.0): one dict of tensors, and a ``FutureWarning`` pointing at ``tinygrad_norm.func``."""
from __future__ import annotations

import warnings

from ._functional_call import functional_call as _functional_call

__all__ = ["functional_call"]


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """``tinygrad_norm.func.functional_call`` with a single dict, as torch's deprecated one."""
    warnings.warn("`nn.utils.stateless.functional_call` is deprecated, as torch's is since 2.0: "
                  "use `tinygrad_norm.func.functional_call`, which takes the same arguments.",
                  FutureWarning, stacklevel=2)
    if not isinstance(parameters_and_buffers, dict):
        raise TypeError(f"functional_call(): parameters_and_buffers must be a dict, got "
                        f"{type(parameters_and_buffers).__name__}")
    return _functional_call(module, parameters_and_buffers, args, kwargs,
                            tie_weights=tie_weights, strict=strict)
