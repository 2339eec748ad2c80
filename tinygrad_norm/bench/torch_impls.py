"""PyTorch twins of each case, for when torch is importable (it is never a dependency):

* ``torch-c<T>``: torch autograd over the same composite written in torch primitives (mean,
  sub, mul, rsqrt, ...; dropout as ``where(rand >= p, x / (1 - p), 0)``);
* ``torch-n<T>``: torch's fused kernels (``F.batch_norm``, ``F.layer_norm``, ``F.group_norm``,
  ``F.instance_norm``, ``F.dropout``);

with ``T`` threads: 1, and torch's default (``torch.get_num_threads()`` when this module was first
imported) when that is more than 1.
"""
from __future__ import annotations

import numpy as np

from .cases import DROPOUT_P, EPS, Impl, Prepared, param_grads


def load_torch():
    """``(torch, None)`` or ``(None, reason)``."""
    try:
        import torch
    except Exception as e:  # ImportError, or a broken install
        return None, f"torch not importable ({type(e).__name__}: {e})"
    default_threads(torch)  # before anything sets a thread count
    return torch, None


_DEFAULT_THREADS = None


def default_threads(torch):
    global _DEFAULT_THREADS
    if _DEFAULT_THREADS is None:
        _DEFAULT_THREADS = torch.get_num_threads()
    return _DEFAULT_THREADS


def _composite(torch, case, x, g, b):
    k = case.key
    if k == "dropout":
        keep = torch.rand_like(x) >= DROPOUT_P
        return torch.where(keep, x * (1.0 / (1.0 - DROPOUT_P)), 0.0)
    if k == "gn":
        N, C = x.shape[0], x.shape[1]
        G = case.groups(x.shape)
        v = x.reshape(N, G, -1)
        mean = v.mean(dim=2, keepdim=True)
        xc = v - mean
        var = (xc * xc).mean(dim=2, keepdim=True)
        shape = (1, C) + (1,) * (x.ndim - 2)
        return (xc * torch.rsqrt(var + EPS)).reshape(x.shape) * g.reshape(shape) + b.reshape(shape)
    if k == "rms":
        return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + EPS) * g
    if k == "ln":
        dims, shape = (-1,), (x.shape[-1],)
    elif k in ("bn2d", "bn4d"):
        dims, shape = (0,) + tuple(range(2, x.ndim)), (1, x.shape[1]) + (1,) * (x.ndim - 2)
    elif k == "in":
        dims, shape = tuple(range(2, x.ndim)), (1, x.shape[1]) + (1,) * (x.ndim - 2)
    else:
        raise KeyError(k)
    mean = x.mean(dim=dims, keepdim=True)
    xc = x - mean
    var = (xc * xc).mean(dim=dims, keepdim=True)
    if k == "ln":
        return xc * torch.rsqrt(var + EPS) * g + b
    return xc * (torch.rsqrt(var + EPS) * g.reshape(shape)) + b.reshape(shape)


def _fused(torch, case, x, g, b):
    F = torch.nn.functional
    k = case.key
    if k == "dropout":
        return F.dropout(x, DROPOUT_P, training=True)
    if k in ("bn2d", "bn4d"):
        return F.batch_norm(x, None, None, g, b, training=True, eps=EPS)
    if k == "ln":
        return F.layer_norm(x, (x.shape[-1],), g, b, EPS)
    if k == "rms":
        return F.rms_norm(x, (x.shape[-1],), g, EPS)
    if k == "gn":
        return F.group_norm(x, case.groups(x.shape), g, b, EPS)
    if k == "in":
        return F.instance_norm(x, weight=g, bias=b, eps=EPS)
    raise KeyError(k)


class TorchImpl(Impl):
    def __init__(self, torch, fused, threads, default):
        self.torch, self.fused, self.threads = torch, fused, threads
        self.key = f"torch-{'n' if fused else 'c'}{threads}"
        kind = "fused kernels" if fused else "composite of primitives"
        self.label = (f"PyTorch {torch.__version__} {kind}, {threads} thread"
                      f"{'s' if threads > 1 else ''}{' (its default)' if default else ''}")

    def enter(self):
        if self.torch.get_num_threads() != self.threads:
            self.torch.set_num_threads(self.threads)
            return True
        return False

    def prepare(self, case, d, seed=None):
        torch = self.torch
        fn = _fused if self.fused else _composite
        x = torch.from_numpy(d["x"].copy()).requires_grad_(True)
        g = torch.from_numpy(d["gamma"].copy()).requires_grad_(True) if case.has_params else None
        b = torch.from_numpy(d["beta"].copy()).requires_grad_(True) if "beta" in d else None
        dy = torch.from_numpy(d["dy"].copy())
        leaves = [t for t in (x, g, b) if t is not None]

        def release():
            for t in leaves:
                t.grad = None

        def step():
            release()
            y = fn(torch, case, x, g, b)
            y.backward(dy)
            return y, x.grad, None if g is None else g.grad, None if b is None else b.grad

        def outputs(out):
            y, dx, dg, db = out
            return dict(y=y.detach().numpy(), dx=dx.numpy(),
                        **param_grads(case, *(None if t is None else t.numpy() for t in (dg, db))))

        return Prepared(step, outputs, release)


def torch_impls(torch):
    """The torch implementations: one thread, then torch's default thread count if > 1."""
    n = default_threads(torch)
    out = []
    for threads in sorted({1, n}):
        for fused in (False, True):
            out.append(TorchImpl(torch, fused, threads, default=threads == n))
    return out
