"""``tinygrad-norm train``: train an MLP or a small CNN on the digits (or MNIST) with a chosen
normalization and dropout; write the metrics, the curves and the weights.

Only argparse is imported at module level: ``tinygrad-norm --help`` must stay instant.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

DEFAULTS = dict(model="mlp", norm="batch", dropout=0.2, optimizer="adam", lr=None, momentum=0.9,
                schedule="constant", epochs=12, batch_size=32, threads=1, seed=0, data="digits", test_size=0.25,
                out=os.path.join("runs", "train"))
DEFAULT_LR = {"adam": 1e-3, "sgd": 0.05}

# MNIST's file names; each may end in .gz, and some mirrors write "train-images.idx3-ubyte".
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "t10k": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

DESCRIPTION = """\
Train an MLP or a small CNN on the 8x8 digits (offline) or on MNIST IDX files, with batch, layer,
RMS, group or instance norm and inverted or classic dropout. Shows a progress bar per epoch and writes
metrics.json, curves.png and model.npz. With no arguments: an MLP 64-128-128-10 with batch norm
and dropout 0.2 on the digits, trained with Adam (about 98% test accuracy in a few seconds).
"""

EXAMPLES = """\
examples:
  tinygrad-norm train                                  MLP, batch norm, dropout 0.2, on digits
  tinygrad-norm train --norm none --dropout 0          the same MLP without either
  tinygrad-norm train --model cnn --norm group         small CNN with group norm
  tinygrad-norm train --dropout 0.5 --classic          classic dropout (scaled at test time)
  tinygrad-norm train --data idx --data-dir ~/mnist --model cnn --epochs 3

files written to --out: metrics.json (config, per-epoch history, final numbers), curves.png
(loss and accuracy per epoch), model.npz (the trained state_dict, tinygrad_norm.load reads it);
and (unless --no-graph) the op and neuron graphs of one training step.
"""


# ------------------------------------------------------------------------------------------------
# argument types: a bad value is an argparse usage error (exit code 2), never a traceback
# ------------------------------------------------------------------------------------------------

def _number(text, kind, what):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def _probability(text):
    p = _number(text, float, "a probability in [0, 1)")
    if not 0.0 <= p < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1) (0 turns dropout off), got {text}")
    return p


def _fraction(text):
    f = _number(text, float, "a fraction in (0, 1)")
    if not 0.0 < f < 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1), got {text}")
    return f


def _positive_float(text):
    v = _number(text, float, "a positive number")
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return v


def _nonnegative_float(text):
    v = _number(text, float, "a number >= 0")
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return v


def _positive_int(text):
    v = _number(text, int, "a positive integer")
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return v


def _nonnegative_int(text):
    v = _number(text, int, "a non-negative integer")
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return v


def _hidden(text):
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 128,128, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"sizes must be positive integers, got {text!r}")
    return sizes


def _existing_dir(text):
    path = os.path.expanduser(text)
    if not os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"no such directory: {text!r}")
    return path


def register(subparsers):
    from ..models import MODELS, NORMS

    p = subparsers.add_parser(
        "train", help="train an MLP or CNN with a normalization and dropout (the main job)",
        description=DESCRIPTION,
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    d = DEFAULTS
    g = p.add_argument_group("model")
    g.add_argument("--model", choices=MODELS, default=d["model"],
                   help="mlp: Linear-norm-ReLU-dropout blocks; cnn: conv3x3-norm-ReLU-maxpool "
                        "blocks, dropout, Linear (default: %(default)s)")
    g.add_argument("--norm", choices=NORMS, default=d["norm"],
                   help="normalization after each hidden layer; 'instance' needs --model cnn "
                        "(default: %(default)s)")
    g.add_argument("--dropout", type=_probability, default=d["dropout"], metavar="P",
                   help="drop probability in [0, 1), 0 = no dropout (default: %(default)s)")
    kind = g.add_mutually_exclusive_group()
    kind.add_argument("--inverted", dest="inverted", action="store_true", default=True,
                      help="inverted dropout: scale kept units by 1/(1-P) while training "
                           "(default, as PyTorch)")
    kind.add_argument("--classic", dest="inverted", action="store_false",
                      help="classic dropout: no scaling while training, outputs scaled by "
                           "(1-P) at evaluation (Srivastava et al., 2014)")
    g.add_argument("--hidden", type=_hidden, default=None, metavar="N,N,...",
                   help="hidden widths (mlp, default 128,128) or channel counts (cnn, "
                        "default 16,32)")
    g = p.add_argument_group("training")
    g.add_argument("--optimizer", choices=("sgd", "adam"), default=d["optimizer"],
                   help="default: %(default)s")
    g.add_argument("--lr", type=_positive_float, default=d["lr"],
                   help=f"learning rate (default: {DEFAULT_LR['adam']} for adam, "
                        f"{DEFAULT_LR['sgd']} for sgd)")
    g.add_argument("--momentum", type=_nonnegative_float, default=d["momentum"],
                   help="SGD momentum (default: %(default)s; ignored by adam)")
    g.add_argument("--schedule", choices=("constant", "cosine"), default=d["schedule"],
                   help="learning rate over the epochs: constant, or cosine annealing from --lr "
                        "down to 0 at the last epoch (default: %(default)s)")
    g.add_argument("--epochs", type=_positive_int, default=d["epochs"],
                   help="default: %(default)s")
    g.add_argument("--batch-size", type=_positive_int, default=d["batch_size"],
                   help="default: %(default)s")
    g.add_argument("--threads", type=_nonnegative_int, default=d["threads"], metavar="N",
                   help="BLAS threads for NumPy's matrix products; these models are small, and "
                        "waking BLAS threads costs more than they save, several times more on a "
                        "busy machine (default: %(default)s; 0 = NumPy's default)")
    g.add_argument("--seed", type=_nonnegative_int, default=d["seed"],
                   help="seeds the parameters, the split, the shuffles and the dropout masks: "
                        "same seed, same metrics (default: %(default)s)")
    g = p.add_argument_group("data")
    g.add_argument("--data", choices=("digits", "idx"), default=d["data"],
                   help="digits: the 8x8 digits shipped with scikit-learn (offline); idx: MNIST "
                        "or Fashion-MNIST files in --data-dir (default: %(default)s)")
    g.add_argument("--data-dir", type=_existing_dir, default=None, metavar="DIR",
                   help="for --data idx: a directory with train-images-idx3-ubyte, "
                        "train-labels-idx1-ubyte, t10k-images-idx3-ubyte and "
                        "t10k-labels-idx1-ubyte (each plain or .gz); with only the t10k pair, "
                        "that pair is split into train and test")
    g.add_argument("--test-size", type=_fraction, default=d["test_size"], metavar="F",
                   help="test fraction when a single set is split (digits, or t10k alone; "
                        "stratified; default: %(default)s)")
    g = p.add_argument_group("output")
    g.add_argument("--out", default=d["out"], metavar="DIR",
                   help="where metrics.json, curves.png and model.npz go (default: %(default)s)")
    g.add_argument("--graph", action=argparse.BooleanOptionalAction, default=True,
                   help="also write the op view and (for an MLP) the neuron view of one "
                        "training step, opgraph.svg and neurons.svg (default: on; --no-graph "
                        "skips them)")
    g.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bars: print one line per epoch instead")
    p.set_defaults(func=lambda args: run(args, p))
    return p


# ------------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------------

def _find_idx(directory, stem):
    """The path of the IDX file ``stem`` in ``directory`` (plain, .gz, or '.idx' spelling)."""
    for name in (stem, stem.replace("-idx", ".idx")):
        for suffix in ("", ".gz"):
            path = os.path.join(directory, name + suffix)
            if os.path.isfile(path):
                return path
    return None


def _idx_paths(directory):
    """{"train": (images, labels) or None, "t10k": ...}: the pairs found in ``directory``."""
    found = {}
    for split, stems in IDX_FILES.items():
        paths = tuple(_find_idx(directory, s) for s in stems)
        found[split] = paths if all(paths) else None
    return found


def load_data(args):
    """``X_train, X_test, y_train, y_test`` (float32 in [0, 1], shaped for the model) and a
    description of the data for metrics.json."""
    import numpy as np

    from ..data import load_digits, load_idx, train_test_split

    if args.data == "digits":
        images, labels = load_digits(return_images=True)
        source = {"name": "digits", "split": f"stratified, test_size={args.test_size}"}
        parts = train_test_split(images, labels, test_size=args.test_size, seed=args.seed,
                                 stratify=True)
    else:
        paths = _idx_paths(args.data_dir)

        def read(pair):
            images, labels = load_idx(*pair)
            return (images.astype(np.float32) / np.float32(255)), labels

        if paths["train"] and paths["t10k"]:
            X_train, y_train = read(paths["train"])
            X_test, y_test = read(paths["t10k"])
            parts = (X_train, X_test, y_train, y_test)
            source = {"name": "idx", "dir": args.data_dir, "split": "train / t10k files",
                      "files": [*paths["train"], *paths["t10k"]]}
        else:
            pair = paths["t10k"] or paths["train"]
            images, labels = read(pair)
            parts = train_test_split(images, labels, test_size=args.test_size, seed=args.seed,
                                     stratify=True)
            source = {"name": "idx", "dir": args.data_dir, "files": list(pair),
                      "split": f"one pair split, stratified, test_size={args.test_size}"}
    X_train, X_test, y_train, y_test = parts
    # (N, H, W) images: a channel axis for the CNN, flat feature vectors for the MLP
    shape = (-1, 1, *X_train.shape[1:]) if args.model == "cnn" else (len(X_train), -1)
    X_train = np.ascontiguousarray(X_train.reshape(shape), dtype=np.float32)
    X_test = np.ascontiguousarray(X_test.reshape((-1, *X_train.shape[1:])), dtype=np.float32)
    source.update(n_train=int(len(X_train)), n_test=int(len(X_test)),
                  sample_shape=list(X_train.shape[1:]), classes=int(max(y_train.max(),
                                                                        y_test.max()) + 1))
    return (X_train, X_test, y_train, y_test), source


def _check_args(args, parser):
    """Errors argparse cannot see from one argument alone: a usage error, before any work."""
    if args.model == "mlp" and args.norm == "instance":
        parser.error("--norm instance needs --model cnn: instance norm normalizes each channel "
                     "over its spatial positions, and an MLP's features have none (use --norm "
                     "layer for an MLP)")
    if args.data == "idx":
        if args.data_dir is None:
            parser.error("--data idx needs --data-dir DIR (a directory with the MNIST IDX files)")
        paths = _idx_paths(args.data_dir)
        if not (paths["train"] or paths["t10k"]):
            names = ", ".join(s for pair in IDX_FILES.values() for s in pair)
            parser.error(f"--data-dir {args.data_dir!r} holds no complete pair of IDX files; "
                         f"expected {names} (each plain or .gz), or at least the t10k pair")
    elif args.data_dir is not None:
        parser.error("--data-dir is only used with --data idx")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        parser.error(f"--out {args.out!r} exists and is not a directory")


# ------------------------------------------------------------------------------------------------
# the run
# ------------------------------------------------------------------------------------------------

def _make_optimizer(args, params):
    from .. import optim

    if args.optimizer == "adam":
        return optim.Adam(params, lr=args.lr)
    return optim.SGD(params, lr=args.lr, momentum=args.momentum)


def _single_sample_batch_note(model, n_train, batch_size, parser):
    """None, or why the last batch of each epoch is dropped: a usage error where batch norm
    could never see two samples in a batch.

    BatchNorm1d on (N, C) features has N values per channel, so a batch of one cannot be
    normalized in training (PyTorch refuses it as well). BatchNorm2d also averages over the
    spatial positions, and the CNN's feature maps are never 1x1 where it sits, so a single
    image is fine there.
    """
    from ..nn import BatchNorm1d

    if not any(isinstance(m, BatchNorm1d) for m in model.modules()):
        return None
    if n_train < 2:
        parser.error(f"batch norm needs at least 2 samples per batch in training, but the "
                     f"training set has {n_train}; use more data or --norm layer / none")
    if batch_size == 1:
        parser.error("--batch-size 1: batch norm needs at least 2 samples per batch in "
                     "training; use a larger batch or --norm layer / none")
    if n_train % batch_size != 1:
        return None
    # Dropping a short last batch (DataLoader's drop_last) drops exactly the lone sample; the
    # order is reshuffled every epoch, so a different sample sits out each time.
    return (f"{n_train} training samples in batches of {batch_size} leave a last batch of 1 "
            f"sample, which batch norm cannot normalize in training; it is dropped in every "
            f"epoch (a different, random sample each time)")


def _config(args):
    keys = ("model", "norm", "dropout", "inverted", "hidden", "optimizer", "lr", "momentum",
            "schedule", "epochs", "batch_size", "threads", "seed", "data", "data_dir", "test_size")
    config = {k: getattr(args, k) for k in keys}
    config["hidden"] = list(config["hidden"])
    if args.optimizer != "sgd":
        config.pop("momentum")
    return config


def _blas_threads(n):
    """A context limiting NumPy's BLAS to ``n`` threads (0: unchanged)."""
    import contextlib

    if n == 0:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits  # installed with scikit-learn
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def run(args, parser):
    _check_args(args, parser)
    with _blas_threads(args.threads):
        return _run(args, parser)


_OUTPUTS = ("metrics.json", "curves.png", "model.npz", "opgraph.svg", "opgraph.dot",
            "neurons.svg", "neurons.dot")


def _run(args, parser):
    import numpy as np

    import tinygrad_norm as tg
    from ..data import DataLoader
    from ..models import build_model, default_hidden
    from ..training import evaluate, fit

    if args.lr is None:
        args.lr = DEFAULT_LR[args.optimizer]
    if args.hidden is None:
        args.hidden = default_hidden(args.model)
    t_start = time.perf_counter()
    try:
        (X_train, X_test, y_train, y_test), source = load_data(args)
    except (OSError, ValueError) as e:  # unreadable, truncated or mismatched data files
        if args.data == "idx":
            parser.error(f"--data-dir {args.data_dir!r}: {e}")
        raise
    if args.model == "cnn" and any(s >> len(args.hidden) < 1 for s in X_train.shape[2:]):
        parser.error(f"--hidden {','.join(map(str, args.hidden))}: {len(args.hidden)} 2x2 "
                     f"poolings do not fit {X_train.shape[2]}x{X_train.shape[3]} images")
    tg.manual_seed(args.seed)
    model = build_model(args.model, norm=args.norm, dropout=args.dropout, inverted=args.inverted,
                        in_shape=X_train.shape[1:], num_classes=source["classes"],
                        hidden=args.hidden)
    # checked before the output directory exists: a usage error writes nothing
    drop_note = _single_sample_batch_note(model, len(X_train), args.batch_size, parser)
    from .paths import dir_problem

    problem = dir_problem(args.out, _OUTPUTS)  # before the training, not after it
    if problem:
        parser.error(f"--out {args.out!r} {problem}")

    n_params = sum(int(p.data.size) for p in model.parameters())
    optimizer = _make_optimizer(args, list(model.parameters()))
    scheduler = None
    if args.schedule == "cosine":
        from ..optim.lr_scheduler import CosineAnnealingLR

        scheduler = CosineAnnealingLR(optimizer, T_max=args.epochs)
    loader = DataLoader(X_train, y_train, batch_size=args.batch_size, shuffle=True,
                        seed=args.seed, drop_last=drop_note is not None)
    if drop_note:
        print(f"note: {drop_note}", file=sys.stderr, flush=True)
    drop = (f"{'inverted' if args.inverted else 'classic'} dropout {args.dropout:g}"
            if args.dropout > 0 else "no dropout")
    print(f"training {args.model} {'-'.join(map(str, args.hidden))} ({args.norm} norm, {drop}, "
          f"{n_params:,} parameters) on {source['name']}: {source['n_train']} train / "
          f"{source['n_test']} test samples; {args.optimizer} lr={args.lr:g}"
          f"{' (cosine schedule)' if scheduler is not None else ''}, "
          f"batch {args.batch_size}, {args.epochs} epochs, seed {args.seed}", flush=True)

    t_train = time.perf_counter()
    try:
        history = fit(model, loader, (X_test, y_test), optimizer, epochs=args.epochs,
                      progress=args.progress, log=None if args.progress else print,
                      scheduler=scheduler)
    except FloatingPointError as e:
        print(f"error: training diverged: {e}", file=sys.stderr)
        return 1
    train_time = time.perf_counter() - t_train
    final_train = evaluate(model, X_train, y_train)
    final_test = evaluate(model, X_test, y_test)

    paths = {"metrics": os.path.join(args.out, "metrics.json"),
             "curves": os.path.join(args.out, "curves.png"),
             "weights": os.path.join(args.out, "model.npz")}
    tg.save(model.state_dict(), paths["weights"])
    from ..plots import plot_history

    plot_history(history, paths["curves"],
                 title=f"{args.model}, {args.norm} norm, {drop}, on {source['name']}")
    graph_files, graph_note = [], None
    if args.graph:
        graph_files, graph_note = write_graphs(model, X_train, y_train, args.out)
    final = {"train_loss": final_train["loss"], "train_acc": final_train["acc"],
             "test_loss": final_test["loss"], "test_acc": final_test["acc"],
             "train_time_s": train_time, "total_time_s": time.perf_counter() - t_start}
    metrics = {"config": _config(args), "data": source,
               "model": {"parameters": n_params, "layers": repr(model)},
               "history": history, "final": final,
               "files": {**{k: os.path.basename(v) for k, v in paths.items()},
                         "graphs": [os.path.basename(f) for f in graph_files]},
               "versions": {"tinygrad_norm": tg.__version__, "numpy": np.__version__}}
    if graph_note:
        metrics["files"]["graphs_note"] = graph_note
    if drop_note:
        metrics["data"]["dropped_per_epoch"] = 1
        metrics["data"]["note"] = drop_note
    with open(paths["metrics"], "w") as f:
        json.dump(metrics, f, indent=2)
        f.write("\n")

    print(f"final: train accuracy {final['train_acc']:.4f} (loss {final['train_loss']:.4f}), "
          f"test accuracy {final['test_acc']:.4f} (loss {final['test_loss']:.4f}); "
          f"trained in {train_time:.1f} s ({final['total_time_s']:.1f} s in all)")
    written = [paths["metrics"], paths["curves"], paths["weights"], *graph_files]
    print("wrote " + ", ".join(written))
    return 0


def write_graphs(model, X, y, out, batch_size=16):
    """Draw one training step (forward, loss, backward) on the first ``batch_size`` training
    samples with ``tinygrad_norm.viz``: ``opgraph.svg`` and, for an MLP, ``neurons.svg``.

    The drawing leaves the model as it was (parameters, running statistics, modes, the random
    generator). Returns the files written and a note on anything not drawn (also printed); a
    missing viz or renderer is such a note, never an error: the training results are kept.
    """
    try:
        from .. import viz
        from .graph import write_step_graphs
    except ImportError as e:
        note = (f"--graph: the graph drawing (tinygrad_norm.viz) is not available ({e}); no "
                f"graph was written, everything else was")
        print(note, file=sys.stderr)
        return [], note
    try:
        files, notes = write_step_graphs(model, X[:batch_size], y[:batch_size], out, fmt="svg")
    except (viz.RendererNotFoundError, viz.RenderError) as e:
        # no renderer, or a broken one: the DOT text is written all the same (e.files), and
        # the training results are kept
        files, notes = e.files, [*e.notes, f"--graph: {e}"]
    except OSError as e:
        files, notes = [], [f"--graph: no graph was written ({e.strerror or e})"]
    note = "; ".join(notes) or None
    if note:
        print(note, file=sys.stderr)
    return files, note
