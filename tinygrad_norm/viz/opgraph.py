"""The op view: the tape drawn as primitives and tensors, with every place a gradient stops.

How the marks are found
-----------------------
The graph is walked from the outputs through ``node.inputs`` (a stack, no recursion) and drawn in
tape order, so node ids (``op3``, ``t3``, ``in2``) depend on the order of execution only and the
DOT text is the same on every run.

With ``show_grad`` the gradient is replayed backward over the drawn nodes, calling each node's
vector-Jacobian product once per *edge*: an edge is one input of one op, and the gradient it
carries is what that op sends back to that input. An edge is **blocked** when that gradient is
exactly zero everywhere, **partial** when it is zero somewhere. Each zero gets its reason:

* the op's own rule, found by replaying the op once more with a random, nowhere-zero upstream
  gradient: whatever is still zero is the op's doing. A ``where`` whose condition is the tensor
  named ``"dropout mask"`` is ``dropout mask``; ``relu`` is ``dead relu`` (and counts the units that
  were zero for the whole batch); a product whose other factor is zero is ``zero input`` (with the
  op that made that factor zero: the weights out of a dropped unit get no gradient);
* everything else came from further down the graph: ``zero upstream``, naming where it began;
* inputs that never ask for a gradient: ``detached`` (made by ``detach()``) or ``no grad required``.
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..autograd import as_read, no_grad
from ..tensor import Tensor
from .dot import Graph, css_token, data_stat, grad_stat, lines, pct, shape_str, value_str

__all__ = ["graph", "GraphFreedError"]

DROPOUT_MASK = "dropout mask"

_FREED = (
    "viz.graph(): the graph of this tensor was freed by backward(): after loss.backward() the tape "
    "keeps no inputs or saved values to draw. Draw it before calling backward(), or call "
    "loss.backward(retain_graph=True) and draw it afterwards.")

# ops that move or scale values without creating zeros of their own: a zero seen through them
# was made further up (used to name where a zero input came from)
_PASS_THROUGH = {"reshape", "transpose", "expand", "getitem", "pad", "astype", "neg",
                 "concatenate", "mul", "div"}

# ops whose gradient goes to some inputs or elements only: zeros elsewhere are "not selected"
_SELECTING = {"where", "getitem", "max", "min", "maximum", "minimum", "clip", "concatenate",
              "nll_loss"}

_STYLE = {
    "op": dict(shape="box", style="filled", fillcolor="#e9ecef", color="#868e96"),
    "tensor": dict(shape="box", style="rounded,filled", fillcolor="white", color="#868e96"),
    "param": dict(shape="box", style="rounded,filled", fillcolor="#d0ebff", color="#1c7ed6"),
    "output": dict(shape="box", style="rounded,filled", fillcolor="#d3f9d8", color="#2f9e44"),
    "mask": dict(shape="box", style="rounded,filled", fillcolor="#ffe8cc", color="#e8590c"),
    "detached": dict(shape="box", style="rounded,filled,dashed", fillcolor="#fff5f5",
                     color="#c92a2a"),
    "constant": dict(shape="box", style="rounded,filled", fillcolor="#f8f9fa", color="#ced4da",
                     fontcolor="#868e96"),
    "collapsed": dict(shape="box3d", style="filled", fillcolor="#edf2ff", color="#4263eb"),
}
_BLOCKED = dict(color="#e03131", fontcolor="#e03131", style="dashed", penwidth="1.5")
_PARTIAL = dict(color="#f08c00", fontcolor="#d9480f", penwidth="1.5")
_CONST_EDGE = dict(color="#adb5bd", fontcolor="#868e96", style="dashed")
_NONDIFF = dict(color="#adb5bd", style="dotted", arrowhead="empty")
_MASK_EDGE = dict(color="#e8590c", style="dotted", penwidth="1.5")


class GraphFreedError(RuntimeError):
    """The graph was freed by ``backward()`` and can no longer be drawn."""


class GraphInfo:
    """What one call of ``graph()`` found, for tests and tools: ``edges`` (one dict per drawn edge:
    ``src``, ``dst``, ``status`` = ``ok``/``partial``/``blocked``/``nondiff``, ``reasons``,
    ``zeros``, ``size``), ``scopes`` (scope name per cluster or collapsed node), ``grads``
    (the gradient of each drawn tensor by node id, with ``show_grad``) and ``ids`` (``id(tensor)``
    to node id, meaningful while those tensors live)."""

    def __init__(self):
        self.edges, self.scopes, self.grads, self.ids = [], {}, {}, {}


class _Stop:
    """One reason for zeros in a gradient: ``kind`` (machine-readable), ``text`` (the label), the
    index of the op it happens at, and ``root``: what made the zeros, as named further up the
    graph ("zero upstream: dropout mask")."""
    __slots__ = ("kind", "text", "at", "root")

    def __init__(self, kind, text, at, root):
        self.kind, self.text, self.at, self.root = kind, text, at, root


class _T:
    """One tensor of the drawing."""
    __slots__ = ("t", "vid", "data", "producer", "consumers", "name", "grad", "origins", "is_out",
                 "requires_grad", "detached", "const", "overwritten")

    def __init__(self, t, vid, producer):
        self.t, self.vid, self.producer = t, vid, producer
        self.data = t.data
        self.consumers = []
        self.name = None
        self.grad = None
        self.origins = []  # the _Stops that put zeros into this tensor's gradient
        self.is_out = False
        self.requires_grad = bool(t.requires_grad)
        self.detached = bool(getattr(t, "_detached", False))
        self.const = False  # an unnamed constant made and used inside one composite
        self.overwritten = False  # the history before an in-place write, in the written memory


class _E:
    """One edge: tensor ``src`` is input ``pos`` of op number ``k``."""
    __slots__ = ("src", "k", "pos", "grad", "probe", "local", "upstream")

    def __init__(self, src, k, pos):
        self.src, self.k, self.pos = src, k, pos
        self.grad = self.probe = None
        self.local, self.upstream = [], []


def _param_names(params):
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        params = params.named_parameters()
    items = params.items() if isinstance(params, dict) else params
    names = {}
    for item in items:
        try:
            name, p = item
        except (TypeError, ValueError):
            raise TypeError("graph(): params must be a dict {name: tensor}, pairs (name, tensor) "
                            "such as model.named_parameters(), or a Module") from None
        if not isinstance(p, Tensor):
            raise TypeError(f"graph(): params[{name!r}] is a {type(p).__name__}, not a Tensor")
        names.setdefault(id(p), str(name))
    return names


def _flatten_outputs(outputs):
    outs = []
    for o in outputs:
        items = o if isinstance(o, (list, tuple)) else (o,)
        for t in items:
            if not isinstance(t, Tensor):
                raise TypeError(f"graph(): outputs must be Tensors, got {type(t).__name__}")
            if all(t is not u for u in outs):
                outs.append(t)
    if not outs:
        raise ValueError("graph(): give at least one output tensor, e.g. graph(loss)")
    return outs


def _collect(outs):
    """The nodes reachable from the outputs, in tape order. Iterative."""
    seen, stack = {}, [o._node for o in outs if o._node is not None]
    while stack:
        node = stack.pop()
        if node.seq in seen:
            continue
        if node.inputs is None:
            raise GraphFreedError(_FREED)
        seen[node.seq] = node
        for t in node.inputs:
            t = as_read(t, node.seq)  # the history a later in-place write replaced, if any
            if type(t) is Tensor and t._node is not None and t._node.seq not in seen:
                stack.append(t._node)
    return [seen[s] for s in sorted(seen)]


def _mark_overwritten(tens):
    """A written tensor lists its histories before the write (``_versions``); one drawn whose
    array is still the written tensor's memory (the write kept no copy) holds the values after,
    even where only the write itself read it (``y = x * 2; y.mul_(3)``)."""
    for info in list(tens.values()):
        for _, old in getattr(info.t, "_versions", None) or ():
            seen = tens.get(id(old))
            if seen is not None and np.shares_memory(old._data, info.t._data):
                seen.overwritten = True


def _scope_chain(scope):
    chain = []
    while scope is not None:
        chain.append(scope)
        scope = scope.parent
    return chain[::-1]  # outermost first


def _mode(args):
    tr = args.get("training") if args else None
    if tr is None:
        return None
    return "train" if tr else "eval"


def _args_text(args):
    parts = [f"{k}={value_str(v)}" for k, v in (args or {}).items() if k != "training"]
    return ", ".join(parts)


def _is_dropout_where(node):
    if node.op.name != "where":
        return False
    c = node.inputs[0]
    if isinstance(c, Tensor) and c.name == DROPOUT_MASK:
        return True
    return any(_is_dropout_scope(s.name) for s in _scope_chain(node.scope))


def _is_dropout_scope(name):
    """dropout, dropout1d/2d/3d and alpha_dropout: the composites that draw a dropout mask."""
    return "dropout" in name


def _mask_counts(mask):
    m = np.asarray(mask)
    return int(m.size - np.count_nonzero(m)), int(m.size)


def _relu_counts(x):
    """(units dead for the whole batch, units, inactive elements) of a relu input."""
    x = np.asarray(x)
    active = x > 0
    if x.ndim >= 2:
        dead = int(np.count_nonzero(~active.any(axis=0)))
        units = int(np.prod(x.shape[1:]))
    else:
        dead, units = int(np.count_nonzero(~active)), int(x.size)
    return dead, units, int(x.size - np.count_nonzero(active))


def _zero_sources(t, limit=64):
    """The ops that made the zeros of a forward value, walking back through ops that only move or
    scale values: ``dropout mask``, ``relu``, another op's name, or ``data``. Iterative."""
    found = []
    for _ in range(limit):
        node = t._node if type(t) is Tensor else None
        if node is None or node.inputs is None:
            if not found:
                found.append("data" if type(t) is not Tensor or not t.requires_grad
                             else "zero parameter")
            break
        name = node.op.name
        if _is_dropout_where(node):
            if not np.all(node.saved[0][0]):
                found.append(DROPOUT_MASK)
            kept = node.inputs[1]  # zeros the mask kept came from further up
            if type(kept) is Tensor and not np.all(kept.data):
                t = kept
                continue
            break
        if name == "relu":
            found.append("relu")
            break
        if name not in _PASS_THROUGH:
            found.append(name)
            break
        nxt = [x for x in node.inputs if type(x) is Tensor and not np.all(x.data)]
        if not nxt:
            found.append(name)
            break
        t = nxt[0]
    return list(dict.fromkeys(found))


def _local_stop(node, k, pos):
    """The reason an op itself zeroes the gradient of input ``pos``."""
    name = node.op.name
    if name == "where" and pos == 1 and _is_dropout_where(node):
        dropped, total = _mask_counts(node.saved[0][0])
        return _Stop("dropout", f"{DROPOUT_MASK}: {dropped} of {total} dropped", k, DROPOUT_MASK)
    if name == "relu":
        x = node.saved[0][0]
        dead, units, inactive = _relu_counts(x)
        share = pct(inactive, np.asarray(x).size)
        text = (f"dead relu: {dead} of {units} units ({share} inactive)" if dead
                else f"relu: {share} inactive")
        return _Stop("relu", text, k, "relu")
    if name in ("mul", "matmul", "div") and len(node.inputs) == 2:
        if name == "div" and pos == 0:
            return _Stop("op", "div: infinite divisor", k, "div")
        srcs = _zero_sources(node.inputs[1 - pos])
        roots = ", ".join("zero data" if r == "data" else r for r in srcs)
        return _Stop("zero-input", f"zero input ({', '.join(srcs)})", k, roots)
    where = node.scope.name if node.scope is not None else None
    what = f"{where} ({name})" if where else name
    if name in _SELECTING:
        return _Stop("select", f"{what}: not selected", k, what)
    return _Stop("op", f"{what}: zero derivative", k, what)


def _op_label(node):
    parts, any_scalar = [], False
    for x in node.inputs:
        if type(x) is Tensor:
            parts.append("·")
        else:
            parts.append(value_str(x))
            any_scalar = True
    kw = node.kw or {}
    if kw:
        parts = [p for p in parts] + [f"{a}={value_str(v)}" for a, v in kw.items()]
    elif not any_scalar:
        return lines(node.op.name)
    text = f"{node.op.name}({', '.join(parts)})"
    # through lines(): a custom op's name or a string argument ending in a backslash broke
    # the DOT, and "\l" in one was read as a line break
    return lines(text if len(text) <= 60 else text[:59] + "…")


def _replay(order, outs, tens, edges_of):
    """Backward over the drawn nodes, one VJP per edge (and one more with a random upstream
    gradient, to tell an op's own zeros from zeros it was sent). Fills ``grad``/``probe`` of the
    edges and ``grad``/``origins`` of the tensors."""
    rng = np.random.default_rng(20240611)  # its own generator: drawing never moves the model's
    for o in outs:
        if o.requires_grad:
            info = tens[id(o)]
            info.grad = np.ones_like(o.data)
    # the random probe may meet a log or a division at 0: its infinities are never drawn
    with no_grad(), np.errstate(all="ignore"):
        for k in range(len(order), 0, -1):
            node = order[k - 1]
            out = tens[id(node.out_ref())] if node.out_ref() is not None else None
            g = out.grad if out is not None else None
            if g is None:
                continue
            if node.saved is None:
                raise GraphFreedError(_FREED)
            args, outarr, extra = node.saved
            grads = node.op.vjp(g, args, outarr, extra, node.kw, node.needs, ops.NP)
            u = rng.uniform(0.5, 1.5, size=np.shape(g)) * rng.choice((-1.0, 1.0), size=np.shape(g))
            probes = node.op.vjp(np.asarray(u, dtype=np.asarray(g).dtype), args, outarr, extra,
                                 node.kw, node.needs, ops.NP)
            for e in edges_of[k]:
                gi = grads[e.pos] if e.pos < len(grads) else None
                if gi is None or not node.needs[e.pos]:
                    continue
                shape = e.src.data.shape
                e.grad = _to_shape(gi, shape)
                e.probe = _to_shape(probes[e.pos], shape)
                src = e.src
                src.grad = e.grad.copy() if src.grad is None else src.grad + e.grad
                zero = e.grad == 0
                if not zero.any():
                    continue
                local = zero & (e.probe == 0)
                if local.any():
                    e.local.append(_local_stop(node, k, e.pos))
                if (zero & ~local).any():
                    e.upstream.extend(out.origins if out.origins else
                                      [_Stop("upstream", "zero upstream", None, "upstream")])
                for s in e.local + e.upstream:
                    if all(s is not x for x in src.origins):
                        src.origins.append(s)


def _to_shape(g, shape):
    g = np.asarray(g)
    if g.shape != shape:
        g = np.broadcast_to(g, np.broadcast_shapes(g.shape, shape))
        g = ops.sum_to(g, shape)
    return np.asarray(g)


def graph(*outputs, params=None, collapse=False, show_grad=True):
    """Draw the computation graph that produced ``outputs`` and where its gradient stops.

    * ``params``: names for leaves, e.g. ``model.named_parameters()``, a dict, or the model;
      other leaves are named by their ``Tensor.name``.
    * ``collapse``: draw each composite (``batch_norm``, ``dropout``, ``cross_entropy``...) as one
      node instead of a cluster of its primitives: for big models.
    * ``show_grad``: replay the gradient (outputs seeded with ones, as ``backward()`` does for a
      scalar) to show gradient norms and mark the edges where it is zero. ``.grad`` is untouched.

    Call it before ``loss.backward()``, or after ``loss.backward(retain_graph=True)``: a plain
    ``backward()`` frees the graph (``GraphFreedError`` says so).

    Returns a ``viz.Graph`` (a ``graphviz.Digraph``): ``.source`` is the DOT text; in Jupyter it
    displays inline; ``viz.render(g, "g.svg")`` writes a file. Classes on nodes and edges
    (``op``, ``tensor``, ``param``, ``mask``, ``masked``, ``blocked``, ``partial``, ``nondiff``,
    ``scope``, ``collapsed``, ``reason-<kind>``) survive into SVG for tools and tests. The
    ``info`` attribute of the result holds the same findings as Python data.
    """
    outs = _flatten_outputs(outputs)
    order = _collect(outs)
    names = _param_names(params)

    # ---- tensors and edges, in tape order ---------------------------------------------------
    tens, leaves = {}, 0
    edges_of = {}
    all_edges = []
    for k, node in enumerate(order, 1):
        edges_of[k] = []
        for pos, x in enumerate(node.inputs):
            if type(x) is not Tensor:
                continue
            now, x = x, as_read(x, node.seq)
            info = tens.get(id(x))
            if info is None:
                leaves += 1
                info = tens[id(x)] = _T(x, f"in{leaves}", None)
            if x is not now and np.shares_memory(x._data, now._data):
                # the history before an in-place write that kept no copy of the values before
                # (no node needed them): the array holds the values after, not this tensor's
                info.overwritten = True
            e = _E(info, k, pos)
            info.consumers.append(k)
            edges_of[k].append(e)
            all_edges.append(e)
        out = node.out_ref()
        if out is None:  # cannot happen for a node reached through a live tensor; be safe
            continue
        if id(out) not in tens:
            tens[id(out)] = _T(out, f"t{k}", k)
        else:  # a tensor already seen as an input cannot be produced later; keep its first id
            tens[id(out)].producer = k
    for o in outs:
        if id(o) not in tens:
            leaves += 1
            tens[id(o)] = _T(o, f"in{leaves}", None)
        tens[id(o)].is_out = True
    _mark_overwritten(tens)

    n_out = 0
    for info in tens.values():
        info.name = names.get(id(info.t)) or info.t.name or ("detached" if info.detached else None)
        if info.is_out and not info.name:
            n_out += 1
    if n_out:
        i = 0
        for o in outs:
            info = tens[id(o)]
            if not info.name:
                i += 1
                info.name = "output" if n_out == 1 else f"output {i}"

    if show_grad:
        _replay(order, outs, tens, edges_of)

    # ---- scopes ---------------------------------------------------------------------------------
    scopes = {}
    for node in order:
        for s in _scope_chain(node.scope):
            scopes[id(s)] = s
    scope_list = sorted(scopes.values(), key=lambda s: s.id)
    scope_idx = {id(s): i for i, s in enumerate(scope_list, 1)}

    def innermost(k):
        s = order[k - 1].scope
        return scope_idx[id(s)] if s is not None else None

    def outermost(k):
        chain = _scope_chain(order[k - 1].scope)
        return scope_idx[id(chain[0])] if chain else None

    # where each op is drawn: its own box, or its outermost composite when collapsing
    def vertex_of(k):
        if collapse:
            s = outermost(k)
            if s is not None:
                return f"scope{s}"
        return f"op{k}"

    # ---- which tensors are drawn, and in which cluster -----------------------------------------
    visible, cluster_of = {}, {}
    detached_src = {}
    by_data = {id(i.data): i for i in tens.values() if not i.detached}
    for info in tens.values():
        if info.detached and id(info.data) in by_data:
            detached_src[id(info.t)] = by_data[id(info.data)]
    for info in tens.values():
        cons = {vertex_of(k) for k in info.consumers}
        if info.producer is not None:
            pv = vertex_of(info.producer)
            show = not collapse or info.is_out or pv.startswith("op") or any(c != pv for c in cons)
            cl = innermost(info.producer)
        else:
            show, cl = True, None
            inner = {innermost(k) for k in info.consumers}
            one_scope = len(inner) == 1 and None not in inner
            # an unnamed constant that only one composite uses is (as far as the tape can tell)
            # made by it: a shift, an index, an unfolded input. Drawn inside, in grey.
            info.const = (one_scope and not info.is_out and not info.requires_grad
                          and not info.detached and info.t.name is None)
            if one_scope and (info.const or info.detached or info.data.dtype == np.bool_):
                cl = next(iter(inner))
            if collapse and info.const and len(cons) == 1 and next(iter(cons)).startswith("scope"):
                show = False
            if collapse and info.detached and len(cons) == 1:
                src = detached_src.get(id(info.t))
                if src is not None and src.producer is not None and \
                        vertex_of(src.producer) in cons:
                    show = False  # a detach inside one composite: part of its inside
        visible[id(info.t)] = show
        cluster_of[id(info.t)] = None if collapse else cl

    g = Graph(name="tinygrad_norm", graph_attr=dict(fontname="Helvetica", fontsize="10",
                                                       nodesep="0.25", ranksep="0.35"),
              node_attr=dict(fontname="Helvetica", fontsize="10"),
              edge_attr=dict(fontname="Helvetica", fontsize="9", color="#495057",
                             arrowsize="0.7"))
    g.info = GraphInfo()
    clusters = {}

    def target(cl):
        if cl is None:
            return g
        c = clusters.get(cl)
        if c is None:
            s = scope_list[cl - 1]
            mode = _mode(s.args)
            title = s.name + (f" · {mode}" if mode else "")
            kind = ("dropout" if _is_dropout_scope(s.name) else
                    "norm" if s.name.endswith("_norm") else "")
            c = clusters[cl] = Graph(name=f"cluster_{cl}")
            c.attr(label=lines(title, _args_text(s.args)), style="rounded,dashed",
                   color="#e8590c" if kind == "dropout" else "#4263eb",
                   fontcolor="#e8590c" if kind == "dropout" else "#4263eb", labeljust="l",
                   **{"class": f"scope scope-{css_token(s.name)}"})
            g.info.scopes[f"cluster_{cl}"] = s.name
        return c

    def tensor_vertex(info):
        t, data = info.t, info.data
        dtype = str(data.dtype)
        is_mask = t.name == DROPOUT_MASK and data.dtype == np.bool_
        if is_mask:
            dropped, total = _mask_counts(data)
            stat = f"{dropped} of {total} dropped"
        elif info.overwritten:
            stat = "overwritten in place"
        else:
            stat = data_stat(data)
        g.info.ids[id(t)] = info.vid
        grad = None
        if show_grad and info.grad is not None:
            grad = grad_stat(info.grad)
            g.info.grads[info.vid] = info.grad
        label = lines(info.name, f"{shape_str(data.shape)} {dtype}", stat, grad)
        if is_mask:
            kind, cls = "mask", "tensor mask masked"
        elif info.detached:
            kind, cls = "detached", "tensor detached"
        elif info.is_out:
            kind, cls = "output", "tensor output"
        elif info.producer is None and info.requires_grad:
            kind, cls = "param", "tensor param"
        elif info.const:
            kind, cls = "constant", "tensor"
        else:
            kind, cls = "tensor", "tensor"
        if info.producer is None and not info.requires_grad and not is_mask:
            cls += " constant" if info.const else " leaf"
        target(cluster_of[id(t)]).node(info.vid, label, **_STYLE[kind], **{"class": cls})

    # ---- vertices, in tape order -----------------------------------------------------------------
    drawn_t = set()
    collapsed_done = set()
    op_count = {}
    for k in range(1, len(order) + 1):
        v = vertex_of(k)
        op_count[v] = op_count.get(v, 0) + 1
    for k, node in enumerate(order, 1):
        for e in edges_of[k]:
            if id(e.src.t) not in drawn_t and visible[id(e.src.t)] and e.src.producer is None:
                drawn_t.add(id(e.src.t))
                tensor_vertex(e.src)
        v = vertex_of(k)
        if v.startswith("op"):
            target(innermost(k)).node(v, _op_label(node), **_STYLE["op"],
                                      **{"class": f"op op-{css_token(node.op.name)}"})
        elif v not in collapsed_done:
            collapsed_done.add(v)
            s = scope_list[int(v[5:]) - 1]
            mode = _mode(s.args)
            n = op_count[v]
            g.node(v, lines(s.name + (f" · {mode}" if mode else ""), _args_text(s.args),
                            f"{n} op{'s' if n != 1 else ''}"),
                   **_STYLE["collapsed"], **{"class": f"scope collapsed scope-{css_token(s.name)}"})
            g.info.scopes[v] = s.name
        out = node.out_ref()
        if out is not None and id(out) not in drawn_t and visible[id(out)]:
            drawn_t.add(id(out))
            tensor_vertex(tens[id(out)])
    for o in outs:
        if id(o) not in drawn_t:
            drawn_t.add(id(o))
            tensor_vertex(tens[id(o)])

    # A scope that holds only other scopes has no vertex of its own: make its cluster (and its
    # ancestors') before nesting, or the inner clusters would go into one never drawn.
    for cl in list(clusters):
        for s in _scope_chain(scope_list[cl - 1])[:-1]:
            target(scope_idx[id(s)])
    for cl in sorted(clusters, key=lambda c: (-len(_scope_chain(scope_list[c - 1])), c)):
        parent = scope_list[cl - 1].parent
        (target(scope_idx[id(parent)]) if parent is not None else g).subgraph(clusters[cl])

    # ---- edges -------------------------------------------------------------------------------------
    # group the tensor -> op edges by what is drawn at each end (several, when collapsed)
    groups = {}
    for e in all_edges:
        dst = vertex_of(e.k)
        if not visible[id(e.src.t)]:
            continue
        if e.src.producer is not None and vertex_of(e.src.producer) == dst:
            continue  # inside one collapsed composite
        groups.setdefault((e.src.vid, dst), []).append(e)

    members_of = {}
    for k in range(1, len(order) + 1):
        members_of.setdefault(vertex_of(k), set()).add(k)
    drawn_vids = {tens[i].vid for i in drawn_t}
    detach_done = set()

    def emit(members, dst):
        src = members[0].src
        info = {"src": src.vid, "dst": dst, "status": "ok", "reasons": [], "zeros": 0,
                "size": int(src.data.size)}
        attrs, classes, label = {}, [], []
        if src.data.dtype.kind != "f":
            mask_edge = src.t.name == DROPOUT_MASK
            info["status"] = "nondiff"
            attrs.update(_MASK_EDGE if mask_edge else _NONDIFF)
            classes += ["nondiff", "masked"] if mask_edge else ["nondiff"]
        elif not src.requires_grad and src.const:
            info.update(status="blocked", reasons=["nograd"], zeros=info["size"])
            attrs.update(_CONST_EDGE)
            classes += ["blocked", "reason-nograd", "constant"]
            label.append("constant")
        elif not src.requires_grad:
            kind, text = ("detached", "detached") if src.detached else ("nograd", "no grad required")
            info.update(status="blocked", reasons=[kind], zeros=info["size"])
            attrs.update(_BLOCKED)
            classes += ["blocked", f"reason-{kind}"]
            label.append(text)
            origin = detached_src.get(id(src.t))
            if src.detached and origin is not None and origin.vid in drawn_vids \
                    and (origin.vid, src.vid) not in detach_done:
                detach_done.add((origin.vid, src.vid))
                g.edge(origin.vid, src.vid, label="detach()", **_BLOCKED,
                       **{"class": "blocked reason-detached detach"})
        elif show_grad:
            grads = [e.grad for e in members if e.grad is not None]
            total = None
            if grads:
                total = grads[0] if len(grads) == 1 else sum(grads[1:], grads[0])
            zeros = 0 if total is None else int(total.size - np.count_nonzero(total))
            if zeros:
                status = "blocked" if zeros == total.size else "partial"
                info.update(status=status, zeros=zeros)
                # stops made inside the composite drawn as ``dst`` count as its own
                inside = members_of[dst]
                local, upstream = [], []
                for e in members:
                    for s in e.local + e.upstream:
                        bucket = local if s.at in inside else upstream
                        if all(s.text != x.text for x in bucket):
                            bucket.append(s)
                classes.append(status)
                for s in local:
                    label.append(s.text)
                    classes.append(f"reason-{s.kind}")
                    info["reasons"].append(s.kind)
                    if s.kind == "dropout":
                        classes.append("masked")
                # what made the zeros further down, less what this edge's own stops explain
                own = {r for s in local for r in s.root.split(", ")}
                roots = []
                for s in upstream:
                    for r in s.root.split(", "):
                        if r not in roots and r not in own:
                            roots.append(r)
                if upstream and not roots:
                    roots = ["upstream"] if not own else sorted(own)
                if upstream:
                    label.append("zero upstream: " + ", ".join(roots))
                    classes.append("reason-upstream")
                    info["reasons"].append("upstream")
                label.append("no gradient" if status == "blocked"
                             else f"{pct(zeros, total.size)} of gradient zero")
                attrs.update(_BLOCKED if status == "blocked" else _PARTIAL)
        g.info.edges.append(info)
        cls = list(dict.fromkeys(classes))
        if cls:
            attrs["class"] = " ".join(cls)
        if label:
            attrs["label"] = lines(*label)
        g.edge(src.vid, dst, **attrs)

    produced = set()
    for k, node in enumerate(order, 1):
        out = node.out_ref()
        v = vertex_of(k)
        for e in edges_of[k]:
            key = (e.src.vid, v)
            if key in groups:
                emit(groups.pop(key), v)
        if out is not None and visible[id(out)] and (v, id(out)) not in produced:
            produced.add((v, id(out)))
            g.edge(v, tens[id(out)].vid, **{"class": "forward"})
    return g
