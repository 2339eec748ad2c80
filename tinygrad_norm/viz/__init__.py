"""Graphviz pictures of the tape: where gradients flow, and where and why they stop.

* ``graph(*outputs, params=None, collapse=False, show_grad=True)``: the op view, primitives and
  tensors, composites as clusters (or single nodes), gradient stops marked with their reason.
* ``neurons(model, x, y=None, loss=None)``: the neuron view of a small MLP, dropped units greyed
  out, edge width by |dL/dW|.
* ``render(graph_or_tensor, path)``: ``.dot``, ``.svg``, ``.png`` (system ``dot`` or the
  ``graphviz-pure`` program installed with this package).

Both views return a ``Graph`` (a ``graphviz.Digraph``) that displays inline in Jupyter.
"""
from .dot import Graph
from .opgraph import GraphFreedError, graph
from .neurons import neurons
from .rendering import RenderError, RendererNotFoundError, find_renderer, render

__all__ = ["graph", "neurons", "render", "Graph", "GraphFreedError", "RendererNotFoundError",
           "RenderError", "find_renderer"]
