"""torch's top-level spellings of the in-place Tensor methods: ``tg.relu_(x)`` is
``x.relu_()``, ``tg.clamp_(x, 0, 1)`` is ``x.clamp_(0, 1)``, and so on; each returns ``x``,
with the method's checks (a leaf that requires grad is refused, as in torch)."""
from __future__ import annotations

from . import _argname
from .tensor import Tensor

__all__ = ["abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_",
           "arctan_", "arctanh_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_",
           "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_", "detach_", "erf_",
           "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "i0_",
           "index_put_", "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_",
           "negative_", "rad2deg_", "reciprocal_", "relu_", "round_", "rsqrt_", "sigmoid_",
           "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_",
           "zero_"]


def _spelling(name):
    def fn(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, not "
                            f"{type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)
    _argname.rename(fn, name)  # errors raised below name tg.clamp_, not the factory's "fn"
    fn.__doc__ = f"``input.{name}(...)``, as ``torch.{name}``."
    return fn


for _name in __all__:
    globals()[_name] = _spelling(_name)
del _name
