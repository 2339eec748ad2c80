"""``torch.nn.parameter``'s names, where code imports them from
(``from torch.nn.parameter import Parameter``): the classes are ``nn``'s own. (torch's
``UninitializedParameter`` has no counterpart: the lazy modules here work without it.)"""
from .module import Buffer, Parameter  # noqa: F401

__all__ = []  # nn exports these names; this module is their second address
