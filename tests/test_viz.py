"""The graph exporter: the op view and the neuron view mark exactly the places where the gradient
is exactly zero, name the reason, print counts that match the masks, produce the same DOT text on
every run, and render through whichever renderer exists (or say what to install)."""
from __future__ import annotations

import os
import re
import shutil
import sys
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn, scope, viz, where
from tinygrad_norm.viz import rendering as vrender

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("TINYGRAD_NORM_UPDATE_GOLDEN") == "1"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ---- reading DOT text ----------------------------------------------------------------------------

_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s\]]+)')
_NODE = re.compile(r'^\s*(\w+) \[(.*)\]$')
_EDGE = re.compile(r'^\s*(\w+) -> (\w+)(?: \[(.*)\])?$')


def _attrs(text):
    out = {}
    for k, v in _ATTR.findall(text or ""):
        out[k] = v[1:-1] if v.startswith('"') else v
    return out


def parse(source):
    """({node: attrs}, [(src, dst, attrs)]) of the DOT text the exporter writes."""
    nodes, edges = {}, []
    for line in source.splitlines():
        m = _EDGE.match(line)
        if m:
            edges.append((m.group(1), m.group(2), _attrs(m.group(3))))
            continue
        m = _NODE.match(line)
        if m and m.group(1) not in ("graph", "node", "edge"):
            nodes[m.group(1)] = _attrs(m.group(2))
    return nodes, edges


def classes(attrs):
    return set(attrs.get("class", "").split())


# ---- models ----------------------------------------------------------------------------------------

def dropout_mlp(seed=0, p=0.5, width=12, norm=False, depth=1):
    """``depth`` hidden layers of Linear, [BatchNorm1d,] ReLU, Dropout(p); then Linear(width, 4)."""
    tg.manual_seed(seed)
    layers = []
    for d in range(depth):
        layers.append(nn.Linear(6 if d == 0 else width, width))
        if norm:
            layers.append(nn.BatchNorm1d(width))
        layers += [nn.ReLU(), nn.Dropout(p)]
    layers.append(nn.Linear(width, 4))
    return nn.Sequential(*layers)


def batch(n=5, features=6, seed=1):
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal((n, features)).astype(np.float32))
    y = Tensor(rng.integers(0, 4, size=n))
    return x, y


def forward_with_mask(model, x):
    """Run the model layer by layer; return the output and the dropout mask it drew."""
    h, mask = x, None
    for m in model:
        h = m(h)
        if isinstance(m, nn.Dropout):
            assert h._node.op.name == "where" and h._node.inputs[0].name == "dropout mask"
            mask = h._node.inputs[0].data
    return h, mask


# ---- neuron view: masked units and blocked weights ----------------------------------------------

def _edge_units(edges, layer, blocked_only=False):
    """{(o, i)} of the weights of the ``layer``-th Linear drawn (or drawn blocked)."""
    return {(int(d.split("_")[1]), int(s.split("_")[1])) for s, d, a in edges
            if d.startswith(f"L{layer}_") and "weight" in classes(a)
            and (not blocked_only or "blocked" in classes(a))}


@pytest.mark.parametrize("sample,p,n,norm,depth", [
    (0, 0.5, 5, False, 1), (3, 0.5, 5, False, 1), (None, 0.7, 3, False, 1),
    # batch norm before the dropout (Linear-BN-ReLU-Dropout): batch norm mixes the samples, so
    # only the sample's own loss gives exact zeros into a unit dropped for that sample
    (0, 0.5, 5, True, 1), (4, 0.5, 5, True, 1), (None, 0.7, 3, True, 1),
    # two such blocks: the second batch norm sees the first block's dropped unit in the other
    # samples, so sample k's loss does reach the weights into it (drawn as it is)
    (0, 0.5, 6, True, 2), (None, 0.7, 3, True, 2)])
def test_neurons_masked_and_blocked_are_exactly_the_zeros(sample, p, n, norm, depth):
    model = dropout_mlp(p=p, norm=norm, depth=depth)
    x, y = batch(n=n)
    g = viz.neurons(model, x, y, sample=sample)
    # neurons() leaves the generator as it found it: the same forward draws the same masks.
    # The gradient of each weight, computed independently: the loss of that sample (its own
    # term of the mean) or of the batch, through the same masks
    model.train()
    h, masks = x, []
    for m in model:
        h = m(h)
        if isinstance(m, nn.Dropout):
            assert h._node.op.name == "where" and h._node.inputs[0].name == "dropout mask"
            masks.append(h._node.inputs[0].data)
    if sample is None:
        loss = F.cross_entropy(h, y)
    else:
        loss = F.cross_entropy(h, y, reduction="none")[sample] / n
    linears = [m for m in model if isinstance(m, nn.Linear)]
    grads = [gw.data for gw in tg.grad(loss, [m.weight for m in linears])]

    nodes, edges = parse(g.source)
    dropped_by_column = {}
    for c, mask in enumerate(masks, start=1):
        dropped = ~mask[sample] if sample is not None else ~mask.any(axis=0)
        assert 0 < dropped.sum() < mask.shape[1]
        dropped_by_column[c] = set(np.flatnonzero(dropped).tolist())
        masked = {int(k.split("_")[1]) for k, a in nodes.items()
                  if re.fullmatch(rf"L{c}_\d+", k) and "masked" in classes(a)}
        assert masked == dropped_by_column[c]
        # the count in the layer's heading is the mask's
        assert f"{int(dropped.sum())} of {mask.shape[1]} dropped" in nodes[f"L{c}_head"]["label"]
    for c in (0, depth + 1):  # the input and the output have no dropout
        assert not any(k.startswith(f"L{c}_") and "masked" in classes(a) for k, a in nodes.items())

    for layer, gw in enumerate(grads, start=1):
        drawn = _edge_units(edges, layer)
        blocked = _edge_units(edges, layer, blocked_only=True)
        assert drawn == {(o, i) for o in range(gw.shape[0]) for i in range(gw.shape[1])}
        assert blocked == {(o, i) for o, i in drawn if gw[o, i] == 0}
        assert g.info.layers[layer - 1]["blocked"] == blocked

    # Every weight into or out of a dropped unit is blocked, for the dropout's reason, when no
    # batch norm comes after the unit's layer: then no other sample carries the unit to the loss
    for c in range(1, depth + 1):
        if norm and c < depth:
            continue
        for s, d, a in edges:
            if "weight" in classes(a) and (
                    (d.startswith(f"L{c}_") and int(d.split("_")[1]) in dropped_by_column[c]) or
                    (s.startswith(f"L{c}_") and int(s.split("_")[1]) in dropped_by_column[c])):
                assert {"blocked", "reason-dropout"} <= classes(a), (s, d, a)
    if norm and depth == 2 and sample is not None:
        # ...and where one does, the weights into the first block's dropped units do get a
        # gradient from this sample's loss, and the picture says so
        into = {(o, i) for o, i in _edge_units(edges, 1) if o in dropped_by_column[1]}
        assert into - _edge_units(edges, 1, blocked_only=True)


def test_neurons_default_graph_command_blocks_weights_of_the_last_dropout(tmp_path):
    """The model of `tinygrad-norm graph` (Linear-BN-ReLU-Dropout blocks): for the sample shown,
    every drawn weight into or out of a unit its last dropout dropped is blocked."""
    from tinygrad_norm.cli import main
    assert main(["graph", "--format", "dot", "--out", str(tmp_path), "--hidden", "24,24",
                 "--batch-size", "8"]) == 0
    nodes, edges = parse((tmp_path / "neurons.dot").read_text())
    last = max(int(k[1:].split("_")[0]) for k in nodes if re.fullmatch(r"L\d+_\d+", k)) - 1
    masked = {k for k, a in nodes.items() if k.startswith(f"L{last}_") and "masked" in classes(a)}
    assert masked
    touching = [a for s, d, a in edges if "weight" in classes(a) and (s in masked or d in masked)]
    assert touching and all({"blocked", "reason-dropout"} <= classes(a) for a in touching)


def test_neurons_wide_layer_is_shown_in_part():
    model = dropout_mlp(width=40)
    x, y = batch()
    g = viz.neurons(model, x, y, max_neurons=16)
    nodes, _ = parse(g.source)
    units = [n for n in nodes if re.fullmatch(r"L1_\d+", n)]
    assert len(units) == 16
    assert "… 24 more" in nodes["L1_more"]["label"]
    assert "more" in classes(nodes["L1_more"])
    assert g.info.columns[1]["width"] == 40


def test_neurons_restores_the_model():
    model = dropout_mlp(norm=True)
    x, y = batch()
    model.train()
    model(x)  # running statistics move away from their initial values
    model.eval()
    sentinel = {id(p): Tensor(np.full(p.shape, 7.0, dtype=p.dtype)) for p in model.parameters()}
    for p in model.parameters():
        p.grad = sentinel[id(p)]
    params = [p.data.copy() for p in model.parameters()]
    bufs = [b.data.copy() for b in model.buffers()]
    state = tg.random.generator().bit_generator.state

    viz.neurons(model, x, y, training=True)
    viz.neurons(model, x, loss=lambda out: (out * out).sum(), sample=None)

    assert all(not m.training for m in model.modules())
    for p, before in zip(model.parameters(), params):
        np.testing.assert_array_equal(p.data, before)
        assert p.grad is sentinel[id(p)]
    for b, before in zip(model.buffers(), bufs):
        np.testing.assert_array_equal(b.data, before)
    assert tg.random.generator().bit_generator.state == state


def test_neurons_eval_mode_drops_nothing():
    model = dropout_mlp()
    x, y = batch()
    g = viz.neurons(model, x, y, training=False, sample=None)
    nodes, _ = parse(g.source)
    assert not any("masked" in classes(a) for a in nodes.values())


def test_neurons_refuses_what_it_cannot_draw():
    x, y = batch()
    with pytest.raises(ValueError, match="out of range"):
        viz.neurons(dropout_mlp(), x, y, sample=5)
    with pytest.raises(ValueError, match="max_neurons"):
        viz.neurons(dropout_mlp(), x, y, max_neurons=0)
    conv = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    xi = Tensor(np.zeros((2, 1, 6, 6), dtype=np.float32))
    with pytest.raises(ValueError, match="Conv2d"):
        viz.neurons(conv, xi)


# ---- op view: marks, reasons, counts ---------------------------------------------------------------

def _graph_tensors(loss):
    """Every tensor of the graph of ``loss`` that requires grad (walked independently)."""
    seen, out, stack = set(), [], [loss]
    while stack:
        t = stack.pop()
        if id(t) in seen or not isinstance(t, Tensor):
            continue
        seen.add(id(t))
        if t.requires_grad:
            out.append(t)
        if t._node is not None:
            stack.extend(x for x in t._node.inputs if isinstance(x, Tensor))
    return out


def test_opgraph_dropout_counts_and_marks():
    model = dropout_mlp()
    x, y = batch()
    model.train()
    out, mask = forward_with_mask(model, x)
    loss = F.cross_entropy(out, y)
    g = viz.graph(loss, params=model.named_parameters())
    nodes, edges = parse(g.source)
    dropped, total = int((~mask).sum()), mask.size

    masks = [n for n, a in nodes.items() if "mask" in classes(a)]
    assert len(masks) == 1 and "masked" in classes(nodes[masks[0]])
    assert f"{dropped} of {total} dropped" in nodes[masks[0]]["label"]
    into_where = [a for s, d, a in edges if "reason-dropout" in classes(a)]
    assert len(into_where) == 1
    assert {"partial", "masked"} <= classes(into_where[0])
    assert f"dropout mask: {dropped} of {total} dropped" in into_where[0]["label"]
    # the dropout composite is a cluster labelled with its arguments and mode
    assert re.search(r'subgraph cluster_\d+ \{\s*class="scope scope-dropout"[^\n]*'
                     r'label="dropout · train\\np=0.5, inverted=True"', g.source)
    # the parameters are named
    labels = " ".join(a.get("label", "") for a in nodes.values())
    for name in ("0.weight", "0.bias", "3.weight", "3.bias"):
        assert name + "\\n" in labels


def test_opgraph_gradients_and_blocked_edges_match_autograd():
    """Every drawn tensor's gradient is the engine's; an edge from a tensor used once is blocked
    exactly when that gradient is all zero, partial exactly when some of it is."""
    model = dropout_mlp(norm=True, p=0.6)
    x, y = batch(n=6)
    model.train()
    out, _ = forward_with_mask(model, x)
    W = Tensor(np.zeros((4, 4), dtype=np.float32), requires_grad=True)  # its input is all zero
    out = out + (out * 0.0) @ W
    loss = F.cross_entropy(out, y)
    g = viz.graph(loss, params=model.named_parameters())
    tensors = _graph_tensors(loss)
    grads = tg.grad(loss, tensors, retain_graph=True, allow_unused=True)
    uses = {}
    for e in g.info.edges:
        uses[e["src"]] = uses.get(e["src"], 0) + 1
    checked = 0
    for t, gt in zip(tensors, grads):
        vid = g.info.ids[id(t)]
        np.testing.assert_allclose(g.info.grads[vid], gt.data, rtol=1e-5, atol=1e-7)
        if uses.get(vid) != 1:
            continue
        edge = next(e for e in g.info.edges if e["src"] == vid)
        zeros = int(gt.data.size - np.count_nonzero(gt.data))
        want = "blocked" if zeros == gt.data.size else "partial" if zeros else "ok"
        assert edge["status"] == want, (vid, edge)
        assert edge["zeros"] == zeros
        checked += 1
    assert checked > 10
    statuses = {e["status"] for e in g.info.edges}
    assert {"blocked", "partial", "ok", "nondiff"} <= statuses
    # the DOT classes say the same as the info
    _, edges = parse(g.source)
    for s, d, a in edges:
        c = classes(a)
        assert not ("blocked" in c and "partial" in c)
    n_blocked = sum("blocked" in classes(a) for _, _, a in edges if "detach" not in classes(a))
    assert n_blocked == sum(e["status"] == "blocked" for e in g.info.edges)


def _share_label(zeros, size):
    """The label of a partly blocked edge, from a count of exact zeros in its gradient."""
    share = 100.0 * zeros / size
    text = "<1%" if share < 1 else ">99%" if share > 99 else f"{share:.0f}%"
    return f"{text} of gradient zero"


def test_partial_label_is_the_share_of_zeros_in_the_actual_gradient():
    model = dropout_mlp(norm=True, p=0.6)
    x, y = batch(n=6)
    model.train()
    out, mask = forward_with_mask(model, x)
    loss = F.cross_entropy(out, y)
    g = viz.graph(loss, params=model.named_parameters())
    tensors = _graph_tensors(loss)
    grads = dict(zip((id(t) for t in tensors),
                     tg.grad(loss, tensors, retain_graph=True, allow_unused=True)))
    by_vid = {g.info.ids[i]: gt for i, gt in grads.items() if i in g.info.ids}
    uses = {}
    for e in g.info.edges:
        uses[e["src"]] = uses.get(e["src"], 0) + 1
    _, edges = parse(g.source)
    checked, dropout_checked = 0, False
    for s, d, a in edges:
        if "partial" not in classes(a) or uses.get(s) != 1 or s not in by_vid:
            continue
        gt = by_vid[s].data
        zeros = int(gt.size - np.count_nonzero(gt))
        assert 0 < zeros < gt.size
        assert a["label"].split("\\n")[-1] == _share_label(zeros, gt.size), (s, d, a["label"])
        if "reason-dropout" in classes(a):  # into the dropout's where: the mask's zeros
            assert zeros == int((~mask).sum())
            dropout_checked = True
        checked += 1
    assert checked >= 2 and dropout_checked


@pytest.mark.parametrize("dropped,size,text", [(3, 7, "43%"), (1, 300, "<1%"), (299, 300, ">99%")])
def test_partial_label_rounds_but_never_to_0_or_100(dropped, size, text):
    keep = np.ones(size, dtype=bool)
    keep[:dropped] = False
    x = Tensor(np.linspace(1.0, 2.0, size, dtype=np.float32), requires_grad=True, name="x")
    loss = where(Tensor(keep), x * 3.0, 0.0).sum()  # x's gradient: 3 where kept, else 0
    g = viz.graph(loss)
    _, edges = parse(g.source)
    labels = [a["label"] for s, d, a in edges if "partial" in classes(a)]
    assert len(labels) == 2  # x into mul, x * 3 into where
    assert all(lab.split("\\n")[-1] == f"{text} of gradient zero" for lab in labels), labels


def test_dead_relu_and_detach_are_told_apart_from_dropout():
    x = Tensor(np.array([[1.0, 2.0, 0.5], [0.3, 1.0, 2.0]], dtype=np.float32))
    W = Tensor(np.full((3, 4), 0.5, dtype=np.float32), requires_grad=True, name="W")
    b = Tensor(np.array([0.0, 0.0, -100.0, 0.0], dtype=np.float32), requires_grad=True, name="b")
    h = (x @ W + b).relu()  # unit 2 is dead for the whole batch
    s = (h * 3.0).mean(axis=0, keepdims=True)
    loss = ((h - s.detach()) * h).sum() + (s * 0.5).sum()  # s itself is in the graph too
    g = viz.graph(loss)
    nodes, edges = parse(g.source)

    relu_in = [a for _, d, a in edges if d.startswith("op") and "reason-relu" in classes(a)]
    assert len(relu_in) == 1
    assert "dead relu: 1 of 4 units" in relu_in[0]["label"]
    assert "partial" in classes(relu_in[0])

    detached = [(s_, d, a) for s_, d, a in edges if "reason-detached" in classes(a)]
    assert {"blocked"} <= classes(detached[0][2])
    assert any(a.get("label") == "detached" for _, _, a in detached)  # into the op that uses it
    assert any(a.get("label") == "detach()" for _, _, a in detached)  # from the tensor detached
    leaf = [n for n, a in nodes.items() if "detached" in classes(a)]
    assert len(leaf) == 1

    no_grad = [a for _, _, a in edges if "reason-nograd" in classes(a)]
    assert no_grad and all(a["label"] == "no grad required" for a in no_grad)

    for _, _, a in edges:  # none of these is a dropout
        assert not classes(a) & {"masked", "reason-dropout"}


def test_blocked_everywhere_after_a_full_dropout():
    x = Tensor(np.ones((2, 3), dtype=np.float32))
    W = Tensor(np.ones((3, 3), dtype=np.float32), requires_grad=True, name="W")
    tg.manual_seed(0)
    loss = F.dropout(x @ W, p=1.0).sum()
    g = viz.graph(loss)
    info = {e["src"]: e for e in g.info.edges}
    w_edge = info[g.info.ids[id(W)]]
    assert w_edge["status"] == "blocked" and w_edge["reasons"] == ["upstream"]
    _, edges = parse(g.source)
    drop = [a for _, _, a in edges if "reason-dropout" in classes(a)]
    assert len(drop) == 1 and "blocked" in classes(drop[0])
    assert "dropout mask: 6 of 6 dropped" in drop[0]["label"]
    assert drop[0]["style"] == "dashed" and drop[0]["color"] == "#e03131"


def test_graph_leaves_grad_alone_and_show_grad_false():
    model = dropout_mlp()
    x, y = batch()
    loss = F.cross_entropy(model(x), y)
    g = viz.graph(loss, show_grad=False)
    assert "grad norm" not in g.source
    assert "partial" not in g.source
    viz.graph(loss)
    assert all(p.grad is None for p in model.parameters())
    loss.backward()  # the drawing did not free or change the graph
    assert all(p.grad is not None for p in model.parameters())


def test_graph_after_backward_needs_retain_graph():
    model = dropout_mlp()
    x, y = batch()
    loss = F.cross_entropy(model(x), y)
    loss.backward(retain_graph=True)
    viz.graph(loss)  # fine: the graph was kept
    loss.backward()
    with pytest.raises(viz.GraphFreedError, match="retain_graph=True"):
        viz.graph(loss)


def test_graph_of_a_long_chain_needs_no_recursion():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = x
    for _ in range(3 * sys.getrecursionlimit()):
        y = y + 1.0
    g = viz.graph(y.sum(), show_grad=False)
    assert g.source.count("op-add") == 3 * sys.getrecursionlimit()


def test_graph_rejects_bad_arguments():
    with pytest.raises(ValueError):
        viz.graph()
    with pytest.raises(TypeError):
        viz.graph(np.ones(3))
    with pytest.raises(TypeError):
        viz.graph(Tensor([1.0], requires_grad=True), params=[1, 2])


# ---- determinism: golden DOT text -------------------------------------------------------------------

def small_graph():
    x = Tensor(np.array([[1.0, -2.0, 0.5], [0.25, 1.0, -1.0]], dtype=np.float32), name="x")
    W = Tensor(np.array([[0.5, -1.0, 0.25, 1.0], [1.0, 0.5, -0.5, 0.0], [-0.25, 0.75, 1.0, -1.0]],
                        dtype=np.float32), requires_grad=True)
    b = Tensor(np.array([0.1, -0.2, 0.0, 0.3], dtype=np.float32), requires_grad=True)
    mask = Tensor(np.array([[True, False, True, True], [False, True, True, False]]),
                  name="dropout mask")
    h = (x @ W + b).relu()
    with scope("dropout", p=0.5, training=True, inverted=True):
        d = where(mask, h * 2.0, 0.0)
    loss = (d * d).mean()
    return loss, {"fc.weight": W, "fc.bias": b}


@pytest.mark.parametrize("collapse", [False, True])
def test_golden_dot(collapse):
    loss, params = small_graph()
    first = viz.graph(loss, params=params, collapse=collapse).source
    loss2, params2 = small_graph()  # a second tape: other sequence numbers, other id()s
    second = viz.graph(loss2, params=params2, collapse=collapse).source
    assert first == second
    path = GOLDEN / f"opgraph_small{'_collapsed' if collapse else ''}.dot"
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(first, encoding="utf-8")
    assert first == path.read_text(encoding="utf-8"), (
        f"DOT text changed; if on purpose, rerun with TINYGRAD_NORM_UPDATE_GOLDEN=1 and review "
        f"the diff of {path}")


def test_same_seeded_step_gives_identical_dot():
    def draw():
        model = dropout_mlp(seed=3)
        x, y = batch()
        return viz.graph(F.cross_entropy(model(x), y), params=model.named_parameters()).source
    assert draw() == draw()


# ---- the pictures of docs/graphs.md are the code's --------------------------------------------------

DOCS_IMG = Path(__file__).resolve().parents[1] / "docs" / "img"


def _make_graphs():
    import importlib.util
    spec = importlib.util.spec_from_file_location("_docs_make_graphs", DOCS_IMG / "make_graphs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _marks_of_dot(source):
    """Counter of (node id or "a->b", classes) of the nodes and edges of the DOT text."""
    from collections import Counter
    nodes, edges = parse(source)
    marks = Counter((n, frozenset(classes(a))) for n, a in nodes.items()
                    if a.get("style") != "invis")
    marks.update((f"{s}->{d}", frozenset(classes(a))) for s, d, a in edges
                 if a.get("style") != "invis")  # graphviz leaves invisible ones out of SVG
    return marks


def _marks_of_svg(path):
    """The same, read from the SVG graphviz drew (its groups keep the DOT classes and ids)."""
    from collections import Counter
    marks = Counter()
    for el in ET.parse(path).getroot().iter():
        cls = (el.get("class") or "").split()
        if cls and cls[0] in ("node", "edge"):
            title = next(t for t in el if t.tag.endswith("title")).text
            marks[(title, frozenset(cls[1:]))] += 1
    return marks


def test_docs_pictures_are_the_codes():
    """docs/img/make_graphs.py draws the same DOT as the committed goldens docs/img/*.dot, and
    each committed SVG was rendered from its golden: same nodes, edges, marks, dropped counts.
    Fails when the drawing or the dropout draw changed and the pictures were not remade."""
    fix = ("rerun `python docs/img/make_graphs.py` (writes docs/img/*.dot and *.svg), review the "
           "pictures and commit them")
    graphs = _make_graphs().graphs()
    assert graphs
    dropped = re.compile(r"\d+ of \d+ dropped")
    for name, g in graphs.items():
        dot, svg = DOCS_IMG / f"{name}.dot", DOCS_IMG / f"{name}.svg"
        assert dot.read_text(encoding="utf-8") == g.source, f"{dot} is stale: {fix}"
        assert _marks_of_svg(svg) == _marks_of_dot(g.source), f"{svg} is stale: {fix}"
        assert sorted(dropped.findall(svg.read_text(encoding="utf-8"))) == \
            sorted(dropped.findall(g.source)), f"{svg} is stale: {fix}"
    # the whole-batch neuron view shows units dropped for every sample
    assert graphs["dropout_mlp_neurons_batch"].info.columns[1]["masked"]


_STEP_SCRIPT = """
import sys
import numpy as np
import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn, viz

tg.manual_seed(3)
model = nn.Sequential(nn.Linear(6, 12), nn.BatchNorm1d(12), nn.ReLU(), nn.Dropout(0.5),
                      nn.Linear(12, 4))
rng = np.random.default_rng(1)
x = Tensor(rng.standard_normal((5, 6)).astype(np.float32))
y = Tensor(rng.integers(0, 4, size=5))
model.train()
state = tg.random.generator().bit_generator.state
loss = F.cross_entropy(model(x), y)
out = [viz.graph(loss, params=model.named_parameters()).source,
       viz.graph(loss, params=model.named_parameters(), collapse=True).source]
tg.random.generator().bit_generator.state = state
out.append(viz.neurons(model, x, y, sample=1).source)
out.append(viz.neurons(model, x, y, sample=None).source)
sys.stdout.buffer.write("\\n#----\\n".join(out).encode("utf-8"))
"""


def test_seeded_step_gives_identical_dot_across_processes():
    """Two interpreters with different string-hash seeds (set and dict orders differ) write
    byte-identical DOT for the same seeded dropout step: op view, collapsed, neuron views."""
    import subprocess
    root = Path(__file__).resolve().parents[1]
    procs = []
    for seed in ("0", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=seed,
                   PYTHONPATH=os.pathsep.join(filter(None, [str(root),
                                                            os.environ.get("PYTHONPATH")])))
        procs.append(subprocess.Popen([sys.executable, "-c", _STEP_SCRIPT], cwd=root, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err.decode("utf-8", "replace")
        outs.append(out)
    assert outs[0] == outs[1]
    assert b"dropout mask" in outs[0] and b"masked" in outs[0]


# ---- rendering -----------------------------------------------------------------------------------------

def _svg_classes(path):
    root = ET.parse(path).getroot()  # well-formed XML, or this raises
    assert root.tag.endswith("svg")
    found = set()
    for el in root.iter():
        found.update(el.get("class", "").split())
    return found


def test_render_dot_svg_png(tmp_path):
    assert viz.find_renderer(), "graphviz-pure is a dependency: some renderer must be found"
    loss, params = small_graph()
    g = viz.graph(loss, params=params)
    assert viz.render(g, tmp_path / "g.dot").read_text() == g.source
    svg = viz.render(g, tmp_path / "g.svg")
    found = _svg_classes(svg)
    assert {"masked", "partial", "scope", "op", "tensor"} <= found
    png = viz.render(g, tmp_path / "sub" / "g.png")
    assert png.read_bytes()[:8] == PNG_MAGIC
    # a Tensor renders too, and so does the neuron view
    _svg_classes(viz.render(loss, tmp_path / "t.svg", collapse=True))
    model = dropout_mlp()
    x, y = batch()
    assert {"masked", "blocked", "neuron"} <= _svg_classes(
        viz.render(viz.neurons(model, x, y), tmp_path / "n.svg"))


def test_render_falls_back_to_graphviz_pure(tmp_path, monkeypatch):
    real = shutil.which

    def which(cmd, *a, **k):
        return None if os.path.basename(str(cmd)) == "dot" else real(cmd, *a, **k)

    monkeypatch.setattr(vrender.shutil, "which", which)
    exes = viz.find_renderer()
    assert exes and os.path.basename(exes[0]).startswith("graphviz-pure")
    loss, params = small_graph()
    _svg_classes(viz.render(viz.graph(loss), tmp_path / "g.svg"))


def test_render_finds_graphviz_pure_beside_python_without_path(tmp_path, monkeypatch):
    pure = shutil.which("graphviz-pure") or str(Path(sys.executable).parent / "graphviz-pure")
    if not os.path.exists(pure):
        pytest.skip("graphviz-pure is not installed")
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty PATH: no dot, no graphviz-pure
    monkeypatch.setattr(sys, "executable", str(Path(pure).parent / "python"))
    exes = viz.find_renderer()
    assert exes and os.path.samefile(exes[0], pure)


@pytest.mark.skipif(shutil.which("dot") is None, reason="no system Graphviz installed")
def test_render_prefers_system_dot(tmp_path):
    assert os.path.samefile(viz.find_renderer()[0], shutil.which("dot"))
    loss, _ = small_graph()
    _svg_classes(viz.render(viz.graph(loss), tmp_path / "g.svg"))
    assert viz.render(viz.graph(loss), tmp_path / "g.png").read_bytes()[:8] == PNG_MAGIC


def _no_renderer(monkeypatch):
    monkeypatch.setattr(vrender.shutil, "which", lambda *a, **k: None)
    monkeypatch.delenv("TINYGRAD_NORM_DOT", raising=False)


def test_no_renderer_writes_dot_and_says_what_to_install(tmp_path, monkeypatch):
    _no_renderer(monkeypatch)
    loss, params = small_graph()
    g = viz.graph(loss, params=params)
    with pytest.raises(viz.RendererNotFoundError) as e:
        viz.render(g, tmp_path / "g.svg")
    msg = str(e.value)
    assert "pip install graphviz-pure" in msg and "apt-get install graphviz" in msg
    assert str(tmp_path / "g.dot") in msg
    assert (tmp_path / "g.dot").read_text() == g.source
    assert not (tmp_path / "g.svg").exists()
    # .dot needs no renderer at all
    viz.render(g, tmp_path / "h.dot")
    # inline display says the same instead of raising
    bundle = g._repr_mimebundle_()
    assert "pip install graphviz-pure" in bundle["text/plain"]


def test_renderer_from_environment_variable(monkeypatch):
    exes = viz.find_renderer()
    if not exes:
        pytest.skip("no renderer")
    monkeypatch.setenv("TINYGRAD_NORM_DOT", exes[-1])  # the least preferred one comes first now
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a usable one is taken without a word
        assert viz.find_renderer()[0] == exes[-1]


def test_unusable_renderer_from_environment_variable_is_said(tmp_path, monkeypatch):
    plain = tmp_path / "dot"
    plain.write_text("not a program")
    plain.chmod(0o644)
    for env, why in ((str(tmp_path / "nope" / "dot"), "is neither a file nor a program on PATH"),
                     (str(plain), "is not an executable file")):
        monkeypatch.setenv("TINYGRAD_NORM_DOT", env)
        with pytest.warns(RuntimeWarning, match="TINYGRAD_NORM_DOT=.* was ignored: it " + why):
            exes = viz.find_renderer()
        assert env not in exes
    # with no renderer at all, the error names the setting too
    monkeypatch.setattr(vrender.shutil, "which", lambda *a, **k: None)
    loss, _ = small_graph()
    with pytest.warns(RuntimeWarning), pytest.raises(viz.RendererNotFoundError) as e:
        viz.render(viz.graph(loss), tmp_path / "g.svg")
    assert f"TINYGRAD_NORM_DOT={str(plain)!r} was ignored" in str(e.value)
    assert "pip install graphviz-pure" in str(e.value)
    assert (tmp_path / "g.dot").exists()


def test_render_errors(tmp_path):
    loss, _ = small_graph()
    with pytest.raises(ValueError, match="format"):
        viz.render(viz.graph(loss), tmp_path / "g.txt")
    with pytest.raises(TypeError):
        viz.render(42, tmp_path / "g.svg")
    with pytest.raises(viz.RenderError):
        vrender.pipe("digraph { this is not dot", "svg")


def test_inline_display_and_graph_methods(tmp_path):
    loss, _ = small_graph()
    g = viz.graph(loss)
    bundle = g._repr_mimebundle_()
    svg = bundle["image/svg+xml"]
    assert isinstance(svg, str) and "<svg" in svg
    assert g._repr_mimebundle_(include=["image/png"])["image/png"][:8] == PNG_MAGIC
    assert g.pipe(format="svg").lstrip().startswith(b"<?xml")
    out = g.render(outfile=tmp_path / "r.png")
    assert Path(out).read_bytes()[:8] == PNG_MAGIC
    assert (tmp_path / "r.gv").read_text() == g.source


# ---- a full CNN training step ------------------------------------------------------------------------------

def cnn_step():
    """One training step of a small CNN: forward, loss, backward (graph kept), SGD update."""
    tg.manual_seed(0)
    try:
        from tinygrad_norm.models import build_model
        model = build_model("cnn", norm="batch", dropout=0.5, in_shape=(1, 8, 8), hidden=(4, 8))
    except (ImportError, AttributeError):  # the models module not there: the same from layers
        model = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
            nn.MaxPool2d(2), nn.Conv2d(4, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
            nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(32, 10))
    model.train()
    rng = np.random.default_rng(0)
    x = Tensor(rng.random((8, 1, 8, 8), dtype=np.float32))
    y = Tensor(rng.integers(0, 10, size=8))
    loss = F.cross_entropy(model(x), y)
    loss.backward(retain_graph=True)
    for p in model.parameters():
        p.data -= 0.1 * p.grad.data
    return model, loss


def _outermost_scopes(loss):
    scopes, ops = set(), 0
    stack, seen = [loss._node], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        s = node.scope
        if s is None:
            ops += 1
        else:
            while s.parent is not None:
                s = s.parent
            scopes.add(id(s))
        stack.extend(t._node for t in node.inputs if isinstance(t, Tensor))
    return len(scopes), ops


def test_cnn_training_step_renders_and_collapses(tmp_path):
    model, loss = cnn_step()
    g = viz.graph(loss, params=model.named_parameters())
    found = _svg_classes(viz.render(g, tmp_path / "cnn.svg"))
    assert {"scope", "masked", "partial", "param"} <= found
    n_scopes, n_plain_ops = _outermost_scopes(loss)
    assert n_scopes >= 7  # conv, norm, pool twice; dropout; loss

    gc = viz.graph(loss, params=model.named_parameters(), collapse=True)
    nodes, edges = parse(gc.source)
    collapsed = [a for a in nodes.values() if "collapsed" in classes(a)]
    ops = [a for a in nodes.values() if "op" in classes(a)]
    assert len(collapsed) == n_scopes
    assert len(ops) == n_plain_ops
    assert "subgraph" not in gc.source
    names = {a["label"].split("\\n")[0].split(" · ")[0] for a in collapsed}
    assert {"conv2d", "batch_norm", "max_pool2d", "dropout", "cross_entropy"} <= names
    assert any("batch_norm · train" in a["label"] for a in collapsed)
    # the dropout still shows its mask and the count of what it dropped
    mask = [a for a in nodes.values() if "mask" in classes(a)]
    assert len(mask) == 1 and "dropped" in mask[0]["label"]
    assert any("reason-dropout" in classes(a) and "masked" in classes(a) for _, _, a in edges)
    assert viz.render(gc, tmp_path / "cnn_collapsed.png").read_bytes()[:8] == PNG_MAGIC


def test_eval_mode_clusters_say_eval():
    model = dropout_mlp(norm=True)
    x, y = batch()
    model.train()
    model(x)
    model.eval()
    g = viz.graph(F.cross_entropy(model(x), y))
    assert "batch_norm · eval" in g.source
    assert "dropout mask" not in g.source


# ---- the command ---------------------------------------------------------------------------------------------

def test_graph_command(tmp_path, capsys):
    from tinygrad_norm.cli import main
    out = tmp_path / "mlp"
    assert main(["graph", "--out", str(out), "--format", "dot", "--hidden", "8,8",
                 "--batch-size", "4", "--norm", "none"]) == 0
    op, nv = (out / "opgraph.dot").read_text(), (out / "neurons.dot").read_text()
    assert "dropout mask" in op and "masked" in nv
    out = tmp_path / "cnn"
    assert main(["graph", "--model", "cnn", "--collapse", "--out", str(out), "--hidden", "2,4",
                 "--batch-size", "4"]) == 0
    _svg_classes(out / "opgraph.svg")
    assert not (out / "neurons.svg").exists()
    assert "no neuron graph" in capsys.readouterr().err


def test_graph_command_without_renderer(tmp_path, monkeypatch, capsys):
    from tinygrad_norm.cli import main
    _no_renderer(monkeypatch)
    assert main(["graph", "--out", str(tmp_path), "--hidden", "4,4", "--batch-size", "2"]) == 1
    err = capsys.readouterr().err
    assert "pip install graphviz-pure" in err
    assert (tmp_path / "opgraph.dot").exists() and (tmp_path / "neurons.dot").exists()


def test_graph_command_usage_errors(capsys):
    from tinygrad_norm.cli import main
    for argv in (["graph", "--dropout", "1.5"], ["graph", "--norm", "instance"],
                 ["graph", "--format", "gif"], ["graph", "--sample", "-1"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["graph", "--help"])
    assert e.value.code == 0
    assert "--collapse" in capsys.readouterr().out


def test_neurons_frozen_layer_is_blocked_for_no_grad():
    model = dropout_mlp(p=0.0)
    model[0].requires_grad_(False)
    x, y = batch()
    g = viz.neurons(model, x, y)
    _, edges = parse(g.source)
    first = [a for s, d, a in edges if d.startswith("L1_") and "weight" in classes(a)]
    assert first and all({"blocked", "reason-nograd"} <= classes(a) for a in first)


def test_ipython_displays_the_graph_inline():
    formatters = pytest.importorskip("IPython.core.formatters")
    loss, _ = small_graph()
    data, _ = formatters.DisplayFormatter().format(viz.graph(loss))
    assert "<svg" in data["image/svg+xml"]


# ---- found by a bug hunt: nested scopes, user text in DOT, pdf, the graph command's errors ----

def test_a_scope_holding_only_scopes_still_draws_its_clusters(tmp_path):
    x = Tensor(np.ones((4, 3)), requires_grad=True)
    with tg.scope("block"):
        with tg.scope("inner"):
            y = F.dropout(x, 0.5, training=True)
    g = viz.graph(y.sum())
    nodes, edges = parse(g.source)
    ends = {a for s, d, _ in edges for a in (s, d)}
    assert ends <= set(nodes), f"edges to undeclared vertices: {ends - set(nodes)}"
    assert g.source.count("subgraph cluster_") == 3  # block > inner > dropout
    assert sorted(g.info.scopes.values()) == ["block", "dropout", "inner"]
    _svg_classes(viz.render(g, tmp_path / "g.svg"))


@pytest.mark.parametrize("name", ["<b>", "<x&y>", "a\\", "bell\x07", "nul\x00", "tab\there"])
def test_user_text_in_scopes_and_names_stays_valid_dot_and_svg(tmp_path, name):
    x = Tensor(np.ones((4, 3)), requires_grad=True, name=name)
    with tg.scope(name, note=name):
        y = (x * 2.0).relu()
    g = viz.graph(y.sum())
    svg = g.pipe("svg")
    ET.fromstring(svg)  # valid XML
    text = svg.decode("utf-8")
    shown = name.replace("\t", " ").replace("\x07", "\ufffd").replace("\x00", "\ufffd")
    assert shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in text
    assert any(c.startswith("scope-") and re.fullmatch(r"scope-[A-Za-z0-9_-]+", c)
               for c in _svg_classes(viz.render(g, tmp_path / "g.svg")))


def test_pdf_without_system_dot_says_what_is_missing(tmp_path, monkeypatch):
    real = shutil.which

    def which(cmd, *a, **k):
        return None if os.path.basename(str(cmd)) == "dot" else real(cmd, *a, **k)

    monkeypatch.setattr(vrender.shutil, "which", which)
    loss, _ = small_graph()
    with pytest.raises(viz.RenderError, match="graphviz-pure, the only renderer found, does not "
                                              "write it; install the Graphviz programs"):
        viz.render(viz.graph(loss), tmp_path / "g.pdf")


@pytest.mark.parametrize("argv, message", [
    (["--batch-size", "1"], "--batch-size 1 cannot train batch norm"),
    (["--model", "cnn", "--hidden", "4,8,16,32"], "cannot build that model: in_shape"),
    (["--out", "FILE"], "is a file, not a directory"),
    (["--out", "FILE/sub"], "cannot write to --out"),
    (["--out", ""], "--out must name a directory"),
])
def test_graph_command_refuses_what_cannot_be_drawn_as_usage_errors(tmp_path, capsys, argv,
                                                                   message):
    from tinygrad_norm.cli import main
    (tmp_path / "FILE").write_text("not a directory")
    argv = [a.replace("FILE", str(tmp_path / "FILE")) for a in argv]
    with pytest.raises(SystemExit) as e:
        main(["graph", "--format", "dot", *argv])
    assert e.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("fn,shape", [("dropout1d", (2, 3, 4)), ("dropout2d", (2, 3, 4, 4)),
                                      ("dropout3d", (2, 3, 2, 2, 2))])
def test_channel_dropout_clusters_and_stops_are_drawn_as_dropout(fn, shape):
    # only the scope named "dropout" was coloured as one; its siblings came out as plain scopes
    tg.manual_seed(0)
    x = Tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)
    g = viz.graph(getattr(F, fn)(x, 0.5).sum())
    assert re.search(rf'class="scope scope-{fn}" color="#e8590c"', g.source)
    assert "reason-dropout" in g.source


def test_custom_op_names_and_string_arguments_are_escaped(tmp_path):
    from tinygrad_norm import ops
    from tinygrad_norm.tensor import apply

    class Twice(ops.Op):
        name = 'twice\\ "x"'

        @staticmethod
        def forward(a, label="left\\lright"):
            return a * 2

        @staticmethod
        def vjp(g, args, out, extra, kw, needs, xp):
            return (g * 2,)
    y = apply(Twice, Tensor(np.ones(3), requires_grad=True), label="left\\lright").sum()
    g = viz.graph(y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # graphviz's DotSyntaxWarning on the stray backslash
        source = g.source
    assert 'op-twice___x_"' in source and "left\\\\lright" in source
    _svg_classes(viz.render(g, tmp_path / "g.svg"))  # renders, and the SVG parses


def test_a_mean_within_the_values_rounding_is_shown_as_zero():
    # a normalized float32 output's mean is rounding noise that differs from one CPU's
    # summation order to another's; a small mean that is not noise is still shown
    from tinygrad_norm.viz.dot import data_stat
    x = np.random.default_rng(0).standard_normal(64).astype(np.float32)
    y = ((x - x.mean()) / x.std()).astype(np.float32)
    assert abs(float(np.mean(y, dtype=np.float64))) > 0  # noise, but not exactly 0
    assert data_stat(y).startswith("mean 0, std 1")
    assert data_stat(y + np.float32(1e-4)).startswith("mean 0.0001")
    z = x.astype(np.float64)
    z = (z - z.mean()) / z.std()
    assert data_stat(z).startswith("mean 0, std 1")
    assert data_stat(z + 1e-9).startswith("mean 1e-09")  # far above float64's rounding
