"""Layers and models, mirroring ``torch.nn``: same names, arguments, defaults and state-dict keys."""
from .module import Buffer, Module, Parameter
from .container import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .embedding_bag import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .conv_transpose import *  # noqa: F401,F403
from .conv3d import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .upsample import *  # noqa: F401,F403
from .activation import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .margin_loss import *  # noqa: F401,F403
from .likelihood_loss import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .transformer import *  # noqa: F401,F403
from .distance import *  # noqa: F401,F403
from .pixelshuffle import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from . import init, utils  # noqa: F401
from .. import functional  # noqa: F401
import sys as _sys
# torch's spelling `import torch.nn.functional as F`: the same module object under nn's name
_sys.modules.setdefault(__name__ + ".functional", functional)
from .fold import *  # noqa: F401,F403
from .pooling_extra import *  # noqa: F401,F403
from .rrelu import *  # noqa: F401,F403
from .bilinear import *  # noqa: F401,F403
from .channel_shuffle import *  # noqa: F401,F403
from .uninitialized_params import *  # noqa: F401,F403
from .lazy import *  # noqa: F401,F403
from .lazy_conv import *  # noqa: F401,F403
from .lazy_norm import *  # noqa: F401,F403
from .adaptive_softmax import *  # noqa: F401,F403
from .fractional_pool import *  # noqa: F401,F403
from .sync_batchnorm import *  # noqa: F401,F403
from .cross_map_lrn import *  # noqa: F401,F403
from .data_parallel import *  # noqa: F401,F403
from .deprecated_losses import *  # noqa: F401,F403
from .linear_cross_entropy import *  # noqa: F401,F403
from .deprecated_container import *  # noqa: F401,F403
from ..functional import grad  # noqa: E402  (torch.nn.grad, the same module as F.grad)
_sys.modules.setdefault(__name__ + ".grad", grad)
from . import parameter  # noqa: F401,E402  (torch.nn.parameter's names)
from .factory import *  # noqa: F401,F403,E402
from . import modules  # noqa: F401,E402  (torch.nn.modules' layout: _BatchNorm, _ConvNd, utils._pair)
