"""Regenerate the pictures of docs/graphs.md: ``python docs/img/make_graphs.py [OUT_DIR]``.

Writes, for each picture, ``<name>.svg`` and the DOT text it was rendered from, ``<name>.dot``,
into OUT_DIR (default: beside this script, docs/img/). Every model, batch and dropout mask is
seeded, so the DOT text is the same on every run; the SVG files are what the renderer found
(system ``dot`` or ``graphviz-pure``) made of it.

The committed ``.dot`` files are goldens: tests/test_viz.py draws ``graphs()`` again (no
rendering) and compares, and checks each committed SVG against its ``.dot``, so a change to the
drawing or to the dropout draw fails the tests until the pictures are remade with this script.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn, viz
from tinygrad_norm.data import load_digits
from tinygrad_norm.models import build_model

HERE = Path(__file__).parent


def digits(n, images=False):
    X, y = load_digits(return_images=images)
    idx = np.sort(np.random.default_rng(0).choice(len(X), size=n, replace=False))
    x = X[idx][:, None] if images else X[idx]
    return (Tensor(np.ascontiguousarray(x, dtype=np.float32), name="x (digits)"),
            Tensor(y[idx], name="y"))


def graphs():
    """{name: graph} of every picture of docs/graphs.md, drawn (not rendered), in order."""
    out = {}

    # 1. dropout in an MLP: the op view and the neuron view of the same training step
    tg.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(64, 12), nn.ReLU(), nn.Dropout(0.5), nn.Linear(12, 10))
    x, y = digits(8)
    mlp.train()
    state = tg.random.generator().bit_generator.state
    loss = F.cross_entropy(mlp(x), y)
    out["dropout_mlp_ops"] = viz.graph(loss, params=mlp.named_parameters())
    tg.random.generator().bit_generator.state = state  # the neuron view draws the same mask
    out["dropout_mlp_neurons"] = viz.neurons(mlp, x, y, sample=0)

    # 1b. the whole-batch neuron view greys only the units dropped for *every* sample: with 8
    # samples at p=0.5 a unit is that with odds 1/256, so none would be; 4 samples at p=0.75
    # (odds ~0.32 a unit) show some
    tg.manual_seed(0)
    mlp4 = nn.Sequential(nn.Linear(64, 12), nn.ReLU(), nn.Dropout(0.75), nn.Linear(12, 10))
    x4, y4 = digits(4)
    out["dropout_mlp_neurons_batch"] = viz.neurons(mlp4, x4, y4, sample=None)

    # 2. batch norm: the composite as a cluster of its primitives
    tg.manual_seed(0)
    bn = nn.Sequential(nn.Linear(64, 6, bias=False), nn.BatchNorm1d(6), nn.ReLU(),
                       nn.Linear(6, 10))
    bn.train()
    loss = F.cross_entropy(bn(x), y)
    out["batch_norm_cluster"] = viz.graph(loss, params=bn.named_parameters())

    # 3. one training step of the CNN, each composite collapsed to one node
    tg.manual_seed(0)
    cnn = build_model("cnn", norm="batch", dropout=0.5, in_shape=(1, 8, 8), hidden=(4, 8))
    cnn.train()
    xi, yi = digits(8, images=True)
    loss = F.cross_entropy(cnn(xi), yi)
    out["cnn_step_collapsed"] = viz.graph(loss, params=cnn.named_parameters(), collapse=True)
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else HERE
    out.mkdir(parents=True, exist_ok=True)
    for name, graph in graphs().items():
        (out / f"{name}.dot").write_text(graph.source, encoding="utf-8")
        print("wrote", viz.render(graph, out / f"{name}.svg"))


if __name__ == "__main__":
    main()
