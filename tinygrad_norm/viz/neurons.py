"""The neuron view: one node per unit of a small MLP, dropped units greyed out, and the weights
into and out of them drawn as blocked, because their gradient is exactly zero.

A column is the input, or the units of one ``Linear`` together with what follows it up to the
next ``Linear`` (activation, norm, dropout act unit by unit on the same units). An edge is one
weight ``W[o, i]`` of a ``Linear``; its gradient for one sample ``k`` is that of the sample's own
loss, ``sum_j dL_k/dz[j, o] * h[j, i]`` (``z`` the layer's output, ``h`` its input; only ``j = k``
counts unless a batch norm mixes the samples) and for the whole batch the sum over ``k``, which is
``W.grad``. A weight whose gradient is exactly zero is ``blocked``; its
reason is the unit at either end that caused it (dropped by dropout, dead relu, zero input).
"""
from __future__ import annotations

import numpy as np

from .. import random as _random
from ..autograd import grad as _grad
from ..tensor import Tensor
from .dot import Graph, lines, num

__all__ = ["neurons"]

DROPOUT_MASK = "dropout mask"
_FILL = {"active": "white", "masked": "#dee2e6", "dead": "#495057"}


class NeuronGraphInfo:
    """What ``neurons()`` drew, as Python data: per column its title, width, drawn units and the
    units that were ``masked`` (dropped) or ``dead``; per layer the ``blocked`` weights ``(o, i)``
    among those drawn and the gradient matrix ``grad`` used for the widths."""

    def __init__(self):
        self.columns, self.layers = [], []


class _Column:
    __slots__ = ("title", "notes", "h", "mask", "relu", "width", "z")

    def __init__(self, title, h):
        self.title, self.notes, self.h = title, [], h
        self.mask = None   # bool (N, F): True where the unit was kept
        self.relu = None   # (N, F) output of a relu, for dead units
        self.width = h.shape[1]
        self.z = None      # the Linear's output tensor, whose gradient gives the weights'


def _modules(model):
    """The layers of a Sequential (nested ones flattened), in order; iterative."""
    if not hasattr(model, "forward"):
        raise TypeError(f"neurons(): model must be a Module, got {type(model).__name__}")
    out, stack = [], [model]
    while stack:
        m = stack.pop()
        kids = list(m) if _is_sequential(m) else None
        if kids is None:
            out.append(m)
        else:
            stack.extend(reversed(kids))
    return out


def _is_sequential(m):
    """An nn.Sequential or a subclass of it, told by name (viz does not import nn). Not a
    ModuleList: it has no forward, so the model could not run the layers it holds."""
    return any(c.__name__ == "Sequential" for c in type(m).__mro__) and hasattr(m, "__iter__")


def _is_linear(m):
    w = getattr(m, "_parameters", {}).get("weight") if hasattr(m, "_parameters") else None
    return isinstance(w, Tensor) and w.ndim == 2 and type(m).__name__ == "Linear"


def _dropout_mask(t, shape):
    node = t._node
    if node is None or node.op.name != "where" or node.inputs is None:
        return None
    c = node.inputs[0]
    if isinstance(c, Tensor) and c.name == DROPOUT_MASK:
        return np.broadcast_to(c.data, shape)
    return None


def _note(m):
    name = type(m).__name__
    p = getattr(m, "p", None)
    if p is not None and "Dropout" in name:
        return f"{name}(p={num(p)})"
    return name


def _default_loss(out, y):
    if y is not None:
        from ..functional import cross_entropy
        return cross_entropy(out, y)
    # A fixed random direction: every output unit gets a nonzero, seed-independent weight.
    v = np.random.default_rng(0).standard_normal(out.shape[1:]).astype(out.dtype)
    return (out * Tensor(v)).sum()


def _own_share(L, out, sample):
    """The upstream gradient at the model's output that carries sample ``sample``'s own share of
    the loss: ``dL/d out`` in that sample's row, exact zeros in every other row.

    Back-propagated from ``out``, it gives the gradient of that sample's own term of the loss
    (``cross_entropy(out, y, reduction="none")[k] / N`` for the default mean loss; for any loss,
    the part of ``dL/dW`` that flows through ``out[k]``), and the per-sample gradients add up to
    ``W.grad``. Not ``dL/dz[k, o] * h[k, i]``: a batch norm mixes the samples, so the batch loss's
    gradient at row ``k`` of a layer carries the other samples' losses too, and the weights into
    a unit dropped for sample ``k`` would seem to get a gradient from it."""
    (g,) = _grad(L, [out], retain_graph=True)
    own = np.zeros_like(g.data)
    own[sample] = g.data[sample]
    return Tensor(own)


def neurons(model, x, y=None, loss=None, *, sample=0, max_neurons=16, training=True):
    """Draw a small MLP neuron by neuron, after one forward and backward pass on ``x``.

    * ``model``: an ``nn.Sequential`` of ``Linear``, activations, ``Dropout``, norms (and a leading
      ``Flatten``); ``x``: a batch (N, features).
    * ``y``: class labels; the loss is then ``cross_entropy(model(x), y)``. Without ``y``, it is
      ``sum(model(x) * v)`` for a fixed random vector ``v``. ``loss``: your own, called as
      ``loss(output, y)`` (or ``loss(output)`` without ``y``), returning a scalar Tensor.
    * ``sample``: the sample whose dropped units and per-sample weight gradients are drawn, or
      ``None`` for the whole batch (units dropped for every sample; the batch gradient ``W.grad``).
      A sample's weight gradients are those of its own loss (its term of the batch loss, or what
      flows through its row of the output), not its row of the batch loss's gradient, which
      batch norm mixes with the other samples'.
    * ``max_neurons``: wider layers show their first ``max_neurons`` units and a "… N more" node.
    * ``training``: the mode of the pass (dropout drops only in training).

    Edge width is proportional to ``|dL/dW|`` within each layer; a weight whose gradient is exactly
    zero is drawn dashed, class ``blocked``. Dropped units are grey (class ``masked``), dead relu
    units dark (class ``dead``).

    The model is left as it was: parameters and their ``.grad``, buffers (running statistics),
    each module's train/eval mode, and the framework's random generator are all restored.
    """
    layers = _modules(model)
    if not isinstance(x, Tensor):
        x = Tensor(np.asarray(x))
    if x.ndim < 2:
        raise ValueError(f"neurons(): x must be a batch of shape (N, features), got shape "
                         f"{x.shape}")
    n = x.shape[0]
    if sample is not None:
        if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)):
            raise TypeError(f"neurons(): sample must be an int or None, got {sample!r}")
        if not -n <= sample < n:
            raise ValueError(f"neurons(): sample {sample} is out of range for a batch of {n}")
        sample = int(sample) % n
    if isinstance(max_neurons, bool) or not isinstance(max_neurons, (int, np.integer)) \
            or max_neurons < 1:
        raise ValueError(f"neurons(): max_neurons must be a positive int, got {max_neurons!r}")
    if y is not None and not isinstance(y, Tensor):
        y = Tensor(np.asarray(y))

    mods = list(model.modules()) if hasattr(model, "modules") else layers
    modes = [(m, m.training) for m in mods]
    buffers = [(b, b.data.copy()) for b in model.buffers()] if hasattr(model, "buffers") else []
    params = list(model.parameters()) if hasattr(model, "parameters") else []
    saved = [(p, p.data, p.data.copy(), p.grad) for p in params]
    gen = _random.generator()
    rng_state = gen.bit_generator.state
    try:
        for m in mods:
            object.__setattr__(m, "training", bool(training))
        columns, out = _forward(layers, x)
        if loss is None:
            L = _default_loss(out, y)
        else:
            L = loss(out, y) if y is not None else loss(out)
        if not isinstance(L, Tensor) or L.size != 1:
            raise ValueError("neurons(): the loss must be a scalar Tensor")
        zs = [c.z for c in columns[1:]]
        gz = [None] * len(zs)
        want = [i for i, z in enumerate(zs) if z.requires_grad]  # a frozen first layer has none
        if L.requires_grad and want:
            targets = [zs[i] for i in want]
            if sample is None:
                grads = _grad(L, targets, allow_unused=True)
            elif out.requires_grad:
                grads = _grad(out, targets, grad_outputs=_own_share(L, out, sample),
                              allow_unused=True)
            else:  # the loss does not reach the weights through the output
                grads = [None] * len(targets)
            for i, gi in zip(want, grads):
                gz[i] = gi
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)
        for b, data in buffers:
            b.data = data
        for p, data, copy, g in saved:
            p.data = data
            if not np.array_equal(data, copy, equal_nan=True):  # nothing here writes to it
                data[...] = copy
            p.grad = g
        gen.bit_generator.state = rng_state
    return _draw(layers, columns, gz, sample, max_neurons, y, training)


def _forward(layers, x):
    h = x
    columns = [_Column("input", h.data.reshape(h.shape[0], -1))]
    seen_linear = False
    for m in layers:
        before = h
        h = m(h)
        if not isinstance(h, Tensor):
            raise TypeError(f"neurons(): {type(m).__name__} returned a {type(h).__name__}, not a "
                            f"Tensor")
        if _is_linear(m):
            seen_linear = True
            w = m.weight
            col = _Column(f"{type(m).__name__} {w.shape[1]}→{w.shape[0]}", h.data)
            col.z = h
            columns.append(col)
            continue
        if h.ndim == 2 and before.ndim > 2 and not seen_linear:
            columns[0] = _Column("input", h.data)  # Flatten: the input's features, one per unit
            continue
        if h.shape != before.shape or h.ndim != 2:
            raise ValueError(
                f"neurons(): draws MLPs of Linear, activations, Dropout and norms on (N, features) "
                f"tensors; {type(m).__name__} maps shape {before.shape} to {h.shape}. Use "
                f"viz.graph() for other models")
        col = columns[-1]
        if type(m).__name__ not in ("Flatten", "Identity"):
            col.notes.append(_note(m))
        col.h = h.data
        mask = _dropout_mask(h, h.shape)
        if mask is not None:
            col.mask = mask if col.mask is None else (col.mask & mask)
        if h._node is not None and h._node.op.name == "relu":
            col.relu = h.data
    if len(columns) < 2:
        raise ValueError("neurons(): the model has no Linear layer to draw")
    return columns, h


def _unit_states(col, sample):
    """Per unit: dropped (masked) and dead, for one sample or the whole batch."""
    F = col.width
    if col.mask is None:
        masked = np.zeros(F, dtype=bool)
    elif sample is None:
        masked = ~col.mask.any(axis=0)
    else:
        masked = ~col.mask[sample]
    if col.relu is None:
        dead = np.zeros(F, dtype=bool)
    elif sample is None:
        dead = ~(col.relu != 0).any(axis=0)
    else:
        dead = col.relu[sample] == 0
    return masked, dead


def _draw(layers, columns, gz, sample, max_neurons, y, training):
    g = Graph(name="neurons", graph_attr=dict(rankdir="LR", fontname="Helvetica", fontsize="10",
                                              nodesep="0.06", ranksep="1.4", splines="line"),
              node_attr=dict(fontname="Helvetica", fontsize="8", shape="circle", fixedsize="true",
                             width="0.32", style="filled"),
              edge_attr=dict(arrowhead="none"))
    info = NeuronGraphInfo()
    g.info = info
    who = "whole batch" if sample is None else f"sample {sample}"
    g.attr(label=lines(f"neurons · {'train' if training else 'eval'} · {who}",
                       "edge width: |dL/dW| (blue > 0, orange < 0); dashed red: no gradient; "
                       "grey: dropped by dropout; dark: relu output 0"), labelloc="t")
    states, shown = [], []
    for c, col in enumerate(columns):
        masked, dead = _unit_states(col, sample)
        states.append((masked, dead))
        vis = list(range(min(col.width, max_neurons)))
        shown.append(vis)
        title = col.title if not col.notes else col.title + " · " + " · ".join(col.notes)
        extra = []
        if masked.any():
            extra.append(f"{int(masked.sum())} of {col.width} dropped")
        if dead.any():
            extra.append(f"{int(dead.sum())} dead")
        # one rank per column: a heading, then the units in index order ("… more" last), kept
        # in that order by invisible edges (dot keeps same-rank edges pointing down the column)
        sub = Graph(name=f"L{c}")
        sub.attr(rank="same")
        sub.node(f"L{c}_head", lines(title, ", ".join(extra)), shape="plaintext",
                 fixedsize="false", style="", fontsize="9", **{"class": "layer"})
        target = y.data[sample] if (y is not None and sample is not None
                                    and c == len(columns) - 1) else None
        for j in vis:
            cls = ["neuron"]
            if masked[j]:
                cls.append("masked")
            if dead[j]:
                cls.append("dead")
            fill = _FILL["masked"] if masked[j] else _FILL["dead"] if dead[j] else _FILL["active"]
            attrs = dict(fillcolor=fill)
            if masked[j]:
                attrs.update(color="#adb5bd", fontcolor="#868e96", style="filled,dashed")
            elif dead[j]:
                attrs.update(fontcolor="white")
            if target is not None and int(target) == j:
                cls.append("target")
                attrs.update(penwidth="2.5", color="#2f9e44")
            hv = col.h[:, j] if sample is None else col.h[sample, j]
            attrs["tooltip"] = (f"unit {j}: h = {num(hv)}" if sample is not None
                                else f"unit {j}: mean h = {num(np.mean(hv, dtype=np.float64))}")
            sub.node(f"L{c}_{j}", str(j), **attrs, **{"class": " ".join(cls)})
        if col.width > len(vis):
            rest = col.width - len(vis)
            hidden_masked = int(masked[len(vis):].sum())
            sub.node(f"L{c}_more", lines(f"… {rest} more",
                                         f"{hidden_masked} dropped" if hidden_masked else None),
                     shape="box", fixedsize="false", style="rounded,dashed", color="#adb5bd",
                     fillcolor="white", fontcolor="#868e96", **{"class": "more"})
        # one rank per column, units in index order top to bottom ("… more" last)
        ids = [f"L{c}_head"] + [f"L{c}_{j}" for j in vis] + \
            ([f"L{c}_more"] if col.width > len(vis) else [])
        for a, b in zip(ids, ids[1:]):
            sub.edge(a, b, style="invis")
        g.subgraph(sub)
        if c:
            g.edge(f"L{c - 1}_head", f"L{c}_head", style="invis")
        info.columns.append(dict(title=title, width=col.width, shown=vis,
                                 masked={int(j) for j in np.flatnonzero(masked)},
                                 dead={int(j) for j in np.flatnonzero(dead)}))

    for c in range(1, len(columns)):
        prev, col = columns[c - 1], columns[c]
        gzc = gz[c - 1]
        if gzc is None:
            G = np.zeros((col.width, prev.width))
        else:
            gd = np.asarray(gzc.data, dtype=np.float64)
            hin = np.asarray(prev.h, dtype=np.float64)
            # for one sample, gd is the gradient of that sample's own loss (see _own_share): it
            # is nonzero in other rows too when a batch norm lies between here and the output
            G = gd.T @ hin
        masked_in, dead_in = states[c - 1]
        masked_out, dead_out = states[c]
        vis_in, vis_out = shown[c - 1], shown[c]
        sub = np.abs(G[np.ix_(vis_out, vis_in)])
        top = float(sub.max()) if sub.size else 0.0
        blocked = set()
        if sample is None or gzc is None:
            rows = slice(None) if sample is None else [sample]
        else:  # the samples through which this sample's loss reaches the layer
            rows = np.flatnonzero(np.any(np.asarray(gzc.data) != 0, axis=1))
        zero_in = ~(prev.h[rows] != 0).any(axis=0)
        for o in vis_out:
            for i in vis_in:
                gv = G[o, i]
                attrs = {}
                if gv == 0:
                    blocked.add((o, i))
                    if gzc is None:  # the layer's output wants no gradient: frozen weights
                        reason = "nograd"
                    elif masked_out[o] or masked_in[i]:
                        reason = "dropout"
                    elif dead_out[o] or dead_in[i]:
                        reason = "relu"
                    elif zero_in[i]:
                        reason = "zero-input"
                    else:
                        reason = "upstream"
                    attrs.update(style="dashed", color="#ffa8a8", penwidth="0.5")
                    attrs["class"] = f"weight blocked reason-{reason}"
                else:
                    width = 0.3 + 3.2 * abs(gv) / top if top > 0 else 0.3
                    attrs.update(penwidth=f"{width:.2f}", color="#1c7ed6" if gv > 0 else "#f76707")
                    attrs["class"] = "weight"
                attrs["tooltip"] = f"W{c}[{o}, {i}]: dL/dW = {num(gv)}"
                g.edge(f"L{c - 1}_{i}", f"L{c}_{o}", **attrs)
        info.layers.append(dict(grad=G, blocked=blocked,
                                zero=int(G.size - np.count_nonzero(G)), size=int(G.size)))
        g.info = info
    return g
