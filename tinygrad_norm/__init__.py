"""tinygrad_norm: a small, fast, tape-based NumPy autograd engine in which dropout and the
normalizations are composite ops whose gradients come from the tape."""
from ._alloc import keep_freed_memory as _keep_freed_memory

_keep_freed_memory()  # before any big array exists: see _alloc.py for why

from .autograd import enable_grad, grad, inference_mode, is_grad_enabled, no_grad, scope, \
    set_grad_enabled
from .random import manual_seed
from .default_dtype import get_default_dtype, set_default_dtype
from .generator import Generator
from .devices import device
from . import rng_state as _rs, runtime as _rt
from .rng_state import *  # noqa: F401,F403  (seed, initial_seed, get/set_rng_state)
from . import random as _random_module  # torch.random holds them too, and fork_rng
for _name in ("seed", "initial_seed", "get_rng_state", "set_rng_state", "fork_rng"):
    setattr(_random_module, _name, getattr(_rs, _name))
from .runtime import *  # noqa: F401,F403  (threads, determinism, compile, default device)
from .printing import set_printoptions
from . import cuda  # torch.cuda's is_available() and device_count(), for device selection
from .tensor import Tensor, addcmul, concatenate, cat, matmul, maximum, minimum, stack, vecdot, where
from .tensor import from_numpy, tensor
from .tensor_ops import baddbmm, bmm, diagonal, outer, prod, roll, trace, tril, triu
from .einsum import einsum
from . import tensor_index as _ti, creation as _cr, reductions as _rd
from .tensor_index import *  # noqa: F401,F403  (shape, indexing, reductions: __all__)
from .reductions import *  # noqa: F401,F403  (nansum, nanmean, cummax, ...: its __all__)
from .creation import *  # noqa: F401,F403  (creation and random: its __all__)
from .functions import *  # noqa: F401,F403  (torch's top-level math: tg.sin, tg.sum, tg.max, ...)
from . import pointwise as _pw, shaping as _sh, searching as _se
from .pointwise import *  # noqa: F401,F403  (xlogy, fmax, tg.add, tg.div, ...: its __all__)
from .shaping import *  # noqa: F401,F403  (hstack, tensor_split, rot90, ...: its __all__)
from .searching import *  # noqa: F401,F403  (searchsorted, unique, kthvalue, ...: its __all__)
from . import products as _pr, statistics as _st
from .products import *  # noqa: F401,F403  (addmm, kron, cov, trapezoid, renorm, ...: its __all__)
from .statistics import *  # noqa: F401,F403  (quantile, nanmedian, mode, msort: its __all__)
from . import special  # torch.special's functions, and their torch.* spellings below
from .special import digamma, erfc, erfinv, i0, polygamma, gammaln as lgamma, \
    multigammaln as mvlgamma, igamma, igammac

# PyTorch's top-level constructors, the Tensor's static methods under their torch names
zeros, ones, full, eye, arange = Tensor.zeros, Tensor.ones, Tensor.full, Tensor.eye, Tensor.arange
randn, rand, zeros_like, ones_like = Tensor.randn, Tensor.rand, Tensor.zeros_like, Tensor.ones_like
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .serialization import save, load
from . import distributions  # torch.distributions' families (tg.distributions.Normal, ...)

# torch.autograd's extension points, bound onto the tape module: every layer imports it, and it
# must not import the Tensor layer, so they live in modules of their own (autograd_function.py)
import sys as _sys
from . import autograd as _ag, autograd_function as _agfn, autograd_functional as _agf
from .autograd_backward import backward as _backward
_ag.Function, _ag.FunctionCtx = _agfn.Function, _agfn.FunctionCtx
_ag.once_differentiable, _ag.backward = _agfn.once_differentiable, _backward
_ag.function, _ag.functional = _agfn, _agf
from . import anomaly_mode as _am  # torch.autograd.detect_anomaly and its mode switches
_ag.detect_anomaly, _ag.set_detect_anomaly = _am.detect_anomaly, _am.set_detect_anomaly
from . import forward_ad as _fwad  # noqa: F401  (binds autograd.forward_ad, torch's spelling)
from . import autograd_variable as _agv  # noqa: F401  (binds autograd.Variable, legacy code's)
from . import autograd_graph as _agg  # torch.autograd.graph, and torch's grad_fn API on Node
_ag.graph = _agg
for _name, _mod in (("function", _agfn), ("functional", _agf), ("graph", _agg)):
    _sys.modules[f"{_ag.__name__}.{_name}"] = _mod

__version__ = "0.1.0"

__all__ = [
    "Tensor", "grad", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
    "is_grad_enabled", "scope", "manual_seed", "set_default_dtype", "get_default_dtype",
    "Generator",
    "device",
    "concatenate", "cat", "stack", "where", "maximum", "minimum", "matmul", "vecdot", "addcmul",
    "gradcheck", "gradgradcheck", "GradcheckError", "save", "load",
    "tensor", "from_numpy", "zeros", "ones", "full", "eye", "arange", "randn", "rand",
    "zeros_like", "ones_like", "prod", "roll", "tril", "triu", "diagonal", "trace", "outer",
    "bmm", "baddbmm", "einsum",
    # PyTorch's shape, indexing, reduction and creation functions (tensor_index.py, creation.py)
    *_ti.__all__, *_cr.__all__, *_rd.__all__,
    *functions.__all__,  # noqa: F405  (the submodule, bound by the import above)
    *_pw.__all__, *_sh.__all__, *_se.__all__, *_pr.__all__, *_st.__all__,
    "special", "lgamma", "digamma", "polygamma", "mvlgamma", "erfc", "erfinv", "i0",
    "igamma", "igammac",
]

# torch.linalg as tinygrad_norm.linalg, and torch's top-level linear algebra (linalg.py)
from . import linalg  # noqa: E402
from .linalg import _torch_det as det, _torch_inverse as inverse, _torch_logdet as logdet, \
    _torch_slogdet as slogdet, _torch_cholesky as cholesky, _torch_pinverse as pinverse, \
    _torch_matrix_power as matrix_power, _torch_svd as svd  # noqa: E402
from .linalg import _torch_matrix_exp as matrix_exp, _torch_triangular_solve as \
    triangular_solve, _torch_lu_unpack as lu_unpack  # noqa: E402
__all__ += ["linalg", "det", "inverse", "logdet", "slogdet", "cholesky", "pinverse",
            "matrix_power", "svd", "matrix_exp", "triangular_solve", "lu_unpack"]
from . import func  # noqa: E402  (torch.func: functional_call, grad, vjp, jacrev, vmap, ...)
from . import utils  # noqa: E402  (torch.utils: checkpoint, and data as tinygrad_norm.data)
from . import amp  # noqa: E402  (torch.amp: GradScaler, and autocast switched off)
from .amp import autocast  # noqa: E402
from . import backends  # noqa: E402  (torch.backends' cudnn/cuda/mps switches, kept and inert)
__all__ += ["autocast"]

# torch's top-level runtime switches and seeding (runtime.py, rng_state.py, printing.py), and
# torch.vmap, which is torch.func.vmap
from .func import vmap  # noqa: E402
__all__ += [*_rs.__all__, *_rt.__all__, "set_printoptions", "vmap"]

# torch's dtype questions and promotion (tensor_queries.py, which also adds the Tensor methods)
from . import tensor_queries as _tq  # noqa: E402
from .tensor_queries import *  # noqa: F401,F403,E402
__all__ += _tq.__all__

# torch's bitwise and integer, float-representation, index-helper and window functions; the
# first three modules add torch's Tensor methods of the same names
from . import bitwise as _bw, float_bits as _fb, index_helpers as _ih, windows as _wn  # noqa: E402
from .bitwise import *  # noqa: F401,F403,E402
from .float_bits import *  # noqa: F401,F403,E402
from .index_helpers import *  # noqa: F401,F403,E402
from .windows import *  # noqa: F401,F403,E402
__all__ += [*_bw.__all__, *_fb.__all__, *_ih.__all__, *_wn.__all__]

# torch's top-level spellings of torch.nn.functional's operations (torch.conv2d, torch.dropout)
from . import torch_functional_aliases as _tfa  # noqa: E402
from .torch_functional_aliases import *  # noqa: F401,F403,E402
__all__ += _tfa.__all__
from . import tensor_methods_extra as _tme  # noqa: F401,E402  (x.diag(), x.stride(), ...)

# torch's top-level cholesky_solve / cholesky_inverse and its deprecated qr, lu, lu_solve
from . import linalg_spellings as _ls  # noqa: E402
from .linalg_spellings import *  # noqa: F401,F403,E402
__all__ += _ls.__all__

# torch's out-of-place writes into a view (select_scatter, slice_scatter, diagonal_scatter)
from . import scatter_views as _sv  # noqa: E402
from .scatter_views import *  # noqa: F401,F403,E402
__all__ += _sv.__all__

# torch.histogram and torch.gradient (finite differences, differentiable)
from . import histograms as _hg, numeric_gradient as _ng  # noqa: E402
from .histograms import *  # noqa: F401,F403,E402
from .numeric_gradient import *  # noqa: F401,F403,E402
__all__ += [*_hg.__all__, *_ng.__all__]

# torch's top-level spellings of the in-place methods (tg.relu_(x) is x.relu_())
from . import inplace_spellings as _isp  # noqa: E402
from .inplace_spellings import *  # noqa: F401,F403,E402
__all__ += _isp.__all__

# torch.asarray (memory shared where it can be) and torch.scalar_tensor
from . import from_data as _aa  # noqa: E402
from .from_data import asarray, scalar_tensor  # noqa: F401,E402
__all__ += _aa.__all__

# torch's top-level switches of anomaly detection (torch.is_anomaly_enabled, ...)
from .anomaly_mode import (is_anomaly_check_nan_enabled, is_anomaly_enabled,  # noqa: E402
                           set_anomaly_enabled)
__all__ += ["is_anomaly_enabled", "is_anomaly_check_nan_enabled", "set_anomaly_enabled"]

# torch's top-level recurrent functions (torch.lstm, torch.gru_cell, ...), embedding_bag and
# conv_tbc, over nn's and functional's code (imported at first use)
from . import torch_nn_spellings as _tns  # noqa: E402
from .torch_nn_spellings import *  # noqa: F401,F403,E402
__all__ += _tns.__all__

# torch's submodules as attributes (`tg.nn.Linear`, `tg.optim.SGD`), imported at first use so
# that `import tinygrad_norm` stays cheap (nn and optim load functional, which the core does not)
_LAZY_SUBMODULES = ("nn", "optim", "functional", "data", "viz", "models", "training", "bench",
                    "experiments")


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

# missing5: torch's remaining top-level names and Tensor methods (dtype limits, memory facts,
# legacy methods, put, split spellings, in-place spellings, ...); modules of one job each
from . import dtype_info as _di, tensor_facts as _tf  # noqa: E402
from . import put as _pt, method_bindings as _mb  # noqa: E402
from . import tensor_legacy as _tl, inplace_more as _im  # noqa: F401,E402  (methods only)
from .dtype_info import *  # noqa: F401,F403,E402
from .tensor_facts import *  # noqa: F401,F403,E402
from .put import *  # noqa: F401,F403,E402
from .method_bindings import *  # noqa: F401,F403,E402
__all__ += [*_di.__all__, *_tf.__all__, *_pt.__all__, *_mb.__all__]
from . import random_fills as _rf, runtime_flags as _rfl  # noqa: E402
from .random_fills import *  # noqa: F401,F403,E402
from .runtime_flags import *  # noqa: F401,F403,E402
__all__ += [*_rf.__all__, *_rfl.__all__]
from . import view_copies as _vc  # noqa: E402
from .view_copies import *  # noqa: F401,F403,E402
__all__ += _vc.__all__
from . import native_norms as _nn_  # noqa: E402
from .native_norms import *  # noqa: F401,F403,E402
__all__ += _nn_.__all__
from . import creation_more as _cm  # noqa: E402
from .creation_more import *  # noqa: F401,F403,E402
__all__ += _cm.__all__
from . import linalg_deprecated as _ld, lowrank as _lr  # noqa: E402
from .linalg_deprecated import *  # noqa: F401,F403,E402
from .lowrank import *  # noqa: F401,F403,E402
__all__ += [*_ld.__all__, *_lr.__all__]
from . import histogramdd as _hdd  # noqa: E402
from .histogramdd import histogramdd  # noqa: F401,E402
__all__ += _hdd.__all__
from .segment_reduce import segment_reduce  # noqa: E402
__all__ += ["segment_reduce"]
from . import typed_tensors as _tt  # noqa: E402
from .typed_tensors import *  # noqa: F401,F403,E402
__all__ += _tt.__all__
