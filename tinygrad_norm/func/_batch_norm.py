"""``replace_all_batch_norm_modules_``: batch norms that keep no running statistics, so that
``vmap`` over a model does not write one shared buffer from every mapped call."""
from __future__ import annotations


def replace_all_batch_norm_modules_(root):
    """Every batch-norm module in ``root`` (itself included) stops tracking running statistics,
    in place, as ``torch.func.replace_all_batch_norm_modules_``: ``running_mean``,
    ``running_var`` and ``num_batches_tracked`` become None (no longer buffers of the state
    dict) and ``track_running_stats`` False, so it normalizes with batch statistics in eval
    mode too. Returns ``root``."""
    from ..nn.module import Module
    from ..nn.normalization import _BatchNorm
    if not isinstance(root, Module):
        raise TypeError(f"replace_all_batch_norm_modules_(): root must be a Module, got "
                        f"{type(root).__name__}")
    for module in root.modules():
        if isinstance(module, _BatchNorm):
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root
