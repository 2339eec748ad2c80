"""Composite ops, mirroring ``torch.nn.functional``: built from Tensor primitives inside a named
scope, so their gradients (of every order) come from the tape. No derivative is written here."""
from .activation import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .local_response import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .margin_losses import *  # noqa: F401,F403
from .likelihood_losses import *  # noqa: F401,F403
from .ctc import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .encoding import *  # noqa: F401,F403
from .embedding_bag import *  # noqa: F401,F403
from .vision import *  # noqa: F401,F403
from .distance import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .conv1d import *  # noqa: F401,F403
from .conv_transpose import *  # noqa: F401,F403
from .interpolate import *  # noqa: F401,F403
from .adaptive_pool import *  # noqa: F401,F403
from .pixel_shuffle import *  # noqa: F401,F403
from .pooling_extra import *  # noqa: F401,F403
from .sampling import *  # noqa: F401,F403
from .inplace import *  # noqa: F401,F403
from .bilinear import *  # noqa: F401,F403
from .channel_shuffle import *  # noqa: F401,F403
from .pdist import *  # noqa: F401,F403
