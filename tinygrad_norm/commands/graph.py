"""``tinygrad-norm graph``: draw one training step of a model: the op graph (every primitive, each
composite as a cluster or one node, every place the gradient stops) and, for an MLP, the neuron
graph (dropped units greyed out, edge width by |dL/dW|).

Only argparse is imported at module level: ``tinygrad-norm --help`` must stay instant.
"""
from __future__ import annotations

import argparse
import os
import sys

MODELS = ("mlp", "cnn")
NORMS = ("none", "batch", "layer", "rms", "group", "instance")  # models.NORMS, without importing it
FORMATS = ("svg", "png", "dot")

DESCRIPTION = """\
Draw one training step (forward on a batch of the digits, cross-entropy loss, backward) of an MLP
or a small CNN: the op graph, and for an MLP also the neuron graph. Edges where the gradient is
exactly zero are marked with the reason: dropout mask, dead relu, detached, no grad required.
"""

EXAMPLES = """\
examples:
  tinygrad-norm graph                                   MLP, batch norm, dropout 0.5, SVG files
  tinygrad-norm graph --model cnn --collapse            CNN, each composite drawn as one node
  tinygrad-norm graph --norm layer --format png --out figs
  tinygrad-norm graph --sample all                      neurons dropped for the whole batch

files written to --out: opgraph.<format>, and for --model mlp neurons.<format>. Rendering SVG or
PNG uses the system `dot` if there is one, else the graphviz-pure program installed with this
package; --format dot needs neither.
"""


def _probability(text):
    try:
        p = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {text!r}") from None
    if not 0.0 <= p < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1) (0 turns dropout off), got {text}")
    return p


def _positive_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return v


def _seed(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return v


def _sample(text):
    if text == "all":
        return None
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a sample index or 'all', got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 or 'all', got {text}")
    return v


def _hidden(text):
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 32,16, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"sizes must be positive integers, got {text!r}")
    return sizes


def register(subparsers):
    p = subparsers.add_parser(
        "graph", help="draw one training step: op graph and neuron graph, gradient stops marked",
        description=DESCRIPTION, epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group("model")
    g.add_argument("--model", choices=MODELS, default="mlp",
                   help="mlp: Linear-norm-ReLU-dropout blocks; cnn: conv3x3-norm-ReLU-maxpool "
                        "blocks, dropout, Linear (default: %(default)s)")
    g.add_argument("--norm", choices=NORMS, default="batch",
                   help="normalization after each hidden layer; 'instance' needs --model cnn "
                        "(default: %(default)s)")
    g.add_argument("--dropout", type=_probability, default=0.5, metavar="P",
                   help="drop probability in [0, 1), 0 = no dropout (default: %(default)s)")
    g.add_argument("--classic", dest="inverted", action="store_false", default=True,
                   help="classic dropout (scaled at test time) instead of inverted")
    g.add_argument("--hidden", type=_hidden, default=None, metavar="N,N,...",
                   help="hidden widths (mlp) or channel counts (cnn) (default: the model's, "
                        "128,128 or 16,32)")
    g = p.add_argument_group("step")
    g.add_argument("--batch-size", type=_positive_int, default=16, metavar="N",
                   help="samples in the drawn batch (default: %(default)s)")
    g.add_argument("--seed", type=_seed, default=0, help="seed of the model, batch and dropout "
                                                          "mask (default: %(default)s)")
    g.add_argument("--eval", dest="training", action="store_false", default=True,
                   help="draw an eval-mode step (dropout off, norms on running statistics)")
    g = p.add_argument_group("drawing")
    g.add_argument("--out", default=os.path.join("runs", "graph"), metavar="DIR",
                   help="output directory (default: %(default)s)")
    g.add_argument("--format", choices=FORMATS, default="svg",
                   help="file format (default: %(default)s)")
    g.add_argument("--collapse", action="store_true",
                   help="draw each composite (batch_norm, dropout, conv2d, ...) as one node")
    g.add_argument("--sample", type=_sample, default=0, metavar="K|all",
                   help="neuron graph: the sample whose dropped units are shown, or 'all' for "
                        "the units dropped for the whole batch (default: %(default)s)")
    g.add_argument("--max-neurons", type=_positive_int, default=16, metavar="N",
                   help="neuron graph: units drawn per layer, the rest summed up in one node "
                        "(default: %(default)s)")
    p.set_defaults(func=lambda args: run(args, p))
    return p


def _batch(args):
    """One seeded batch of the digits, shaped for the model."""
    import numpy as np

    from ..data import load_digits

    images, labels = load_digits(return_images=True)
    rng = np.random.default_rng(args.seed)
    idx = np.sort(rng.choice(len(images), size=min(args.batch_size, len(images)), replace=False))
    x = images[idx]
    x = x.reshape(len(idx), 1, 8, 8) if args.model == "cnn" else x.reshape(len(idx), -1)
    return np.ascontiguousarray(x, dtype=np.float32), labels[idx]


def build(args):
    """The model of the arguments, from ``tinygrad_norm.models``."""
    from ..models import build_model

    in_shape = (1, 8, 8) if args.model == "cnn" else (64,)
    return build_model(args.model, norm=args.norm, dropout=args.dropout, inverted=args.inverted,
                       in_shape=in_shape, num_classes=10, hidden=args.hidden)


def write_step_graphs(model, x, y, out, fmt="svg", collapse=False, sample=0, max_neurons=16,
                      training=True):
    """Draw one training step of ``model`` on ``(x, y)`` into directory ``out``: ``opgraph.<fmt>``
    and, when the model is an MLP the neuron view can draw, ``neurons.<fmt>``.

    The model's parameters, ``.grad``, buffers, modes and the random generator are left as they
    were. Returns ``(files, notes)``: the paths written and the reasons for anything not drawn.
    Raises ``viz.RendererNotFoundError`` when SVG or PNG was asked for and no renderer exists,
    ``viz.RenderError`` when the renderer failed: after writing the ``.dot`` files, which the
    error lists in ``files`` (with the notes in ``notes``)."""
    import numpy as np

    from .. import functional as F
    from .. import random as _random
    from .. import viz
    from ..tensor import Tensor

    # named for the drawing; the caller's tensors are not renamed
    xt = Tensor._wrap(x.data if isinstance(x, Tensor) else np.asarray(x))
    yt = Tensor._wrap(y.data if isinstance(y, Tensor) else np.asarray(y))
    xt.name, yt.name = "input", "target"
    os.makedirs(out, exist_ok=True)
    files, notes, missing = [], [], None

    # The op view: forward and loss, recorded, in the requested mode; then everything restored.
    mods = list(model.modules())
    modes = [(m, m.training) for m in mods]
    buffers = [(b, b.data.copy()) for b in model.buffers()]
    gen = _random.generator()
    state = gen.bit_generator.state
    try:
        model.train(bool(training))
        loss = F.cross_entropy(model(xt), yt)
        g = viz.graph(loss, params=model.named_parameters(), collapse=collapse)
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)
        for b, data in buffers:
            b.data = data
        gen.bit_generator.state = state
    graphs = [("opgraph", g)]

    # The neuron view draws MLPs. For a CNN the command says so in its own terms; viz's error
    # (which layer it cannot draw, and the Python call to use instead) is for library users.
    if any(type(m).__name__.startswith("Conv") for m in model.modules()):
        notes.append(f"no neuron graph: the neuron view draws MLPs only; opgraph.{fmt} shows "
                     f"this model's step")
    else:
        try:
            graphs.append(("neurons", viz.neurons(model, xt, yt, sample=sample,
                                                  max_neurons=max_neurons, training=training)))
        except ValueError as e:
            notes.append(f"no neuron graph: {e}")

    for name, graph in graphs:
        path = os.path.join(out, f"{name}.{fmt}")
        try:
            files.append(str(viz.render(graph, path)))
        except viz.RendererNotFoundError as e:  # render() wrote the DOT text beside the path
            files.append(os.path.join(out, f"{name}.dot"))
            missing = e
        except viz.RenderError as e:  # found but failed: keep the DOT text at least
            files.append(str(viz.render(graph, os.path.join(out, f"{name}.dot"))))
            missing = e
    if missing is not None:
        error = type(missing)(f"{missing} (wrote {', '.join(files)})")
        error.files, error.notes = files, notes
        raise error
    return files, notes


def run(args, parser=None):
    if args.model == "mlp" and args.norm == "instance":
        msg = ("--norm instance needs --model cnn: instance norm normalizes each channel over its "
               "spatial positions, and an MLP's features have none (use --norm layer)")
        if parser is not None:
            parser.error(msg)
        raise SystemExit(msg)
    from .. import random as _random
    from .. import viz

    def usage(msg):
        if parser is not None:
            parser.error(msg)
        raise SystemExit(msg)

    if os.path.exists(args.out) and not os.path.isdir(args.out):
        usage(f"--out {args.out!r} is a file, not a directory")
    if not args.out:
        usage("--out must name a directory")
    _random.manual_seed(args.seed)
    try:
        model = build(args)
    except ValueError as e:  # e.g. more poolings than the 8x8 input allows
        usage(f"cannot build that model: {e}")
    x, y = _batch(args)
    if args.sample is not None and args.sample >= len(x):
        usage(f"--sample {args.sample} is out of range for a batch of {len(x)}")
    if args.training and args.norm == "batch" and args.model == "mlp" and len(x) < 2:
        usage("--batch-size 1 cannot train batch norm (one value per channel); use --eval, "
              "another --norm or a larger batch")
    try:
        files, notes = write_step_graphs(model, x, y, args.out, fmt=args.format,
                                         collapse=args.collapse, sample=args.sample,
                                         max_neurons=args.max_neurons, training=args.training)
    except (viz.RendererNotFoundError, viz.RenderError) as e:
        print(f"tinygrad-norm graph: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # --out under a file, or not writable
        usage(f"cannot write to --out {args.out!r}: {e.strerror or e}")
    for note in notes:
        print(note, file=sys.stderr)
    print("wrote " + ", ".join(files))
    return 0
