"""``stack_module_state``: the parameters and buffers of several copies of one model, each name's
tensors stacked along a new leading dimension, as ``torch.func.stack_module_state``. With
``vmap(functional_call)`` this runs an ensemble as one mapped call (torch's model-ensembling
recipe). A stacked tensor whose originals require grad is a fresh leaf (detached, then requiring
grad), so an optimizer can train the stack; the originals are neither read again nor updated."""
from __future__ import annotations

_FN = "stack_module_state"


def stack_module_state(models):
    """``(params, buffers)``: two dicts from each name (as ``models[0]`` names it) to the
    stacked tensors of every model, in ``models``' order."""
    from ..nn.module import Module  # here: nn.utils imports func, a load-time cycle otherwise
    models = _as_list(models)
    if not models:
        raise ValueError(f"{_FN}: Expected at least one model, got 0.")
    for m in models:
        if not isinstance(m, Module):
            raise TypeError(f"{_FN}: Expected every model to be a Module, got {type(m).__name__}")
    # Checked before anything is stacked, in torch's order: the mode first, then the class.
    if len({bool(m.training) for m in models}) > 1:
        raise ValueError(f"{_FN}: Expected all models to have the same training/eval mode.")
    if any(type(m) is not type(models[0]) for m in models):
        raise TypeError(f"{_FN}: Expected all models to be of the same class.")
    params = _stacked([dict(m.named_parameters()) for m in models])
    buffers = _stacked([dict(m.named_buffers()) for m in models])
    return params, buffers


def _as_list(models):
    """A list of the models (a ModuleList or any iterable of modules); a lone Module is refused,
    since iterating it is not what the caller meant."""
    from ..nn.module import Module
    if isinstance(models, Module) and not hasattr(models, "__iter__"):
        raise TypeError(f"{_FN}: models must be a sequence of Modules, got a single "
                        f"{type(models).__name__}")
    try:
        return list(models)
    except TypeError:
        raise TypeError(f"{_FN}: models must be a sequence of Modules, got "
                        f"{type(models).__name__}") from None


def _stacked(named):
    """For each name of the first model, the stack of every model's tensor under that name.
    All of them are checked (names, requires_grad) before the first is stacked, so a refusal
    builds nothing."""
    names = list(named[0])
    for i, d in enumerate(named[1:], 1):
        missing = [k for k in names if k not in d]
        if missing:
            raise ValueError(f"{_FN}: model {i} has no tensor named {missing[0]!r}, which "
                             f"model 0 has")
    for k in names:
        flags = {bool(d[k].requires_grad) for d in named}
        if len(flags) > 1:
            raise ValueError(f"Expected {k} from each model to have the same .requires_grad")
    return {k: _leaf([d[k] for d in named]) for k in names}


def _leaf(tensors):
    """The stack; a new leaf requiring grad when the originals do (torch's rule), so gradients
    of the ensemble land on it and not on the separate models."""
    from ..functions import stack
    out = stack(tensors)
    if tensors[0].requires_grad:
        out = out.detach().requires_grad_()
    return out
