"""Regenerate the pictures of docs/graphs.md: ``python docs/img/make_graphs.py``.

Every model, batch and dropout mask is seeded, so the DOT text is the same on every run; the SVG
files are what the renderer found (system ``dot`` or ``graphviz-pure``) made of it.
"""
from __future__ import annotations

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


def write(graph, name):
    path = viz.render(graph, HERE / f"{name}.svg")
    print("wrote", path)


def main():
    # 1. dropout in an MLP: the op view and the neuron view of the same training step
    tg.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(64, 12), nn.ReLU(), nn.Dropout(0.5), nn.Linear(12, 10))
    x, y = digits(8)
    mlp.train()
    state = tg.random.generator().bit_generator.state
    loss = F.cross_entropy(mlp(x), y)
    write(viz.graph(loss, params=mlp.named_parameters()), "dropout_mlp_ops")
    tg.random.generator().bit_generator.state = state  # the neuron view draws the same mask
    write(viz.neurons(mlp, x, y, sample=0), "dropout_mlp_neurons")
    write(viz.neurons(mlp, x, y, sample=None), "dropout_mlp_neurons_batch")

    # 2. batch norm: the composite as a cluster of its primitives
    tg.manual_seed(0)
    bn = nn.Sequential(nn.Linear(64, 6, bias=False), nn.BatchNorm1d(6), nn.ReLU(),
                       nn.Linear(6, 10))
    bn.train()
    loss = F.cross_entropy(bn(x), y)
    write(viz.graph(loss, params=bn.named_parameters()), "batch_norm_cluster")

    # 3. one training step of the CNN, each composite collapsed to one node
    tg.manual_seed(0)
    cnn = build_model("cnn", norm="batch", dropout=0.5, in_shape=(1, 8, 8), hidden=(4, 8))
    cnn.train()
    xi, yi = digits(8, images=True)
    loss = F.cross_entropy(cnn(xi), yi)
    write(viz.graph(loss, params=cnn.named_parameters(), collapse=True), "cnn_step_collapsed")


if __name__ == "__main__":
    main()
