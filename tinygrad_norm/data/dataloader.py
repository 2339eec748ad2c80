"""``torch.utils.data.dataloader``'s names, where code imports them from
(``from torch.utils.data.dataloader import default_collate``): the package's own objects."""
from .collate import default_collate, default_convert  # noqa: F401
from .loader import DataLoader  # noqa: F401
from .worker import get_worker_info  # noqa: F401

__all__ = []  # tinygrad_norm.data exports these names; this module is their second address
