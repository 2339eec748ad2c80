"""The shared runner of the reproduced claims: registry, options, data, output, progress, verdict.

Every experiment is a module of this package with one function, ``run(ctx)``, that receives a
:class:`Context` and returns an :class:`Outcome`. The runner owns everything around it:

* the registry (:data:`EXPERIMENTS`): name -> module, title and the claim being tested;
* the common options: ``quick`` (a CI-sized run, under a minute on two cores), ``seed`` (the base
  seed: run ``i`` of a multi-seed experiment uses ``seed + i``), the data source (``digits``,
  offline, or ``idx`` MNIST files in a directory) and the output directory;
* the data (:meth:`Context.data`), one tqdm progress bar per experiment (:meth:`Context.bar`),
  PNG figures drawn with the Agg canvas (:meth:`Context.figure` / :meth:`Context.save`);
* ``results.json`` (configuration, numbers, checks, verdict, timing, versions) and the printed
  verdict: one paragraph that says whether the claim held here, and by how much.

A claim "held" when every *gating* check passed. Checks that the setup cannot decide (a gap
smaller than the seed spread, a quick run too short to show an effect) are recorded as
non-gating and reported, never hidden.
"""
from __future__ import annotations

import importlib
import json
import math
import os
import platform
import sys
import textwrap
import time
from dataclasses import dataclass, field

import numpy as np

__all__ = ["EXPERIMENTS", "Check", "Context", "Dataset", "Outcome", "list_experiments",
           "run_experiment"]


@dataclass(frozen=True)
class Spec:
    module: str
    title: str
    claim: str
    uses_data: bool = True


EXPERIMENTS = {
    "overfitting": Spec(
        "overfitting", "Overfitting and dropout (Deep Learning from Scratch, ch. 6.4)",
        "A 7-layer, 100-unit ReLU MLP trained on 300 samples overfits (train accuracy far above "
        "test accuracy); dropout -- inverted or classic -- narrows the train/test gap."),
    "bias-variance": Spec(
        "bias_variance", "Bias-variance decomposition of the expected test error",
        "Over many resamples of noisy data, expected test error = bias^2 + variance + noise; "
        "bias^2 falls and variance grows with capacity, so the test error is U-shaped and "
        "bottoms out at an intermediate capacity.", uses_data=False),
    "feature-scaling": Spec(
        "feature_scaling", "Feature scaling and gradient descent",
        "With a price in won and a waiting time in minutes as inputs, the large feature swamps "
        "the small one: gradient descent on raw inputs crawls, while min-max scaling or "
        "standardization converges in few steps.", uses_data=False),
    "bn-sigmoid": Spec(
        "bn_sigmoid", "Batch norm on a sigmoid MLP (Ioffe & Szegedy 2015, Fig. 1)",
        "Batch norm makes a 3x100 sigmoid network train faster and reach higher accuracy, and "
        "keeps the distribution of a sigmoid's input (15/50/85th percentiles) stable over "
        "training, where without it the distribution drifts."),
    "activations": Spec(
        "activations", "Activation distributions and initialization (DLFS ch. 6.2-6.3)",
        "In a 5-layer net, sigmoid with std=1 weights saturates, std=0.01 collapses every "
        "activation to one value, Xavier suits sigmoid/tanh, He suits ReLU; batch norm spreads "
        "the activations whatever the initialization, and keeps gradients flowing.",
        uses_data=False),
    "bn-placement": Spec(
        "bn_placement", "Batch norm before vs after the activation",
        "Batch norm helps wherever it is placed: both Linear-BN-ReLU and Linear-ReLU-BN beat no "
        "normalization; which placement wins depends on the setup (no winner is claimed)."),
    "batch-size": Spec(
        "batch_size", "Normalization vs batch size (Wu & He 2018, Fig. 1)",
        "Batch norm degrades as the batch shrinks to 2 where its statistics come from the batch "
        "alone (an MLP); group, layer and instance norm, which do not normalize over the batch, "
        "are nearly flat in the batch size. A small CNN, whose batch norm also averages over "
        "the image, is measured beside it."),
    "covariate-shift": Spec(
        "covariate_shift", "Internal covariate shift and smoothness (Santurkar et al. 2018)",
        "Batch norm with injected, time-varying noise after each normalization (unstable layer "
        "input distributions) still trains about as well as batch norm; what batch norm does "
        "change is the loss landscape: loss and gradient vary far less along the gradient."),
    "init-scale": Spec(
        "init_scale", "Initial weight scale with and without batch norm (DLFS ch. 6.3)",
        "Without batch norm a 6-layer ReLU MLP learns only near the right initial weight scale; "
        "with batch norm it learns across a wide range of scales."),
    "layer-norm": Spec(
        "layer_norm", "Layer norm vs batch norm (Ba et al. 2016)",
        "Layer norm converges faster than batch norm at batch sizes 128 and 4, computes the "
        "same thing in training and evaluation, and has exactly the invariances of Table 1."),
    "instance-contrast": Spec(
        "instance_contrast", "Instance norm and per-image contrast (Ulyanov et al. 2016)",
        "Instance norm removes per-image contrast and brightness: a classifier with it is "
        "unaffected by per-image contrast changes at test time, where batch norm and no "
        "normalization lose accuracy."),
}

DATA_CHOICES = ("digits", "idx")


def list_experiments():
    """``[(name, title, claim), ...]`` in the registry's order."""
    return [(name, spec.title, spec.claim) for name, spec in EXPERIMENTS.items()]


# ------------------------------------------------------------------------------------------------
# results
# ------------------------------------------------------------------------------------------------

@dataclass
class Check:
    """One test of the claim: ``passed`` says whether ``value`` met the ``criterion``.

    ``gating=False`` marks a check that is reported but does not decide the verdict (a soft
    expectation, or one that this run is too short or too noisy to decide)."""
    name: str
    passed: bool
    value: object = None
    criterion: str = ""
    gating: bool = True

    def to_dict(self):
        return {"name": self.name, "passed": bool(self.passed), "value": self.value,
                "criterion": self.criterion, "gating": bool(self.gating)}


@dataclass
class Outcome:
    """What an experiment returns: its numbers, its checks and the verdict paragraph."""
    results: dict
    checks: list
    verdict: str
    config: dict = field(default_factory=dict)
    figures: list = field(default_factory=list)

    @property
    def held(self):
        gating = [c for c in self.checks if c.gating]
        return bool(gating) and all(c.passed for c in gating)


def _jsonable(obj):
    """Plain JSON types for NumPy scalars and arrays, tuples and non-finite floats (as null)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, Check):
        return _jsonable(obj.to_dict())
    return obj


# ------------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------------

class DataTooSmall(ValueError):
    """The data set has fewer samples than an experiment's claim needs: a usage error of the
    command (``--data idx`` with a small file), not a failure of the experiment."""


@dataclass
class Dataset:
    """A train/test split: flat float32 features in [0, 1] and int64 labels.

    ``image_shape`` is one sample's ``(channels, height, width)``; :meth:`images` reshapes flat
    rows to it."""
    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple
    num_classes: int
    description: dict

    def images(self, X):
        return X.reshape((X.shape[0], *self.image_shape))

    @property
    def n_features(self):
        return self.X_train.shape[1]


IDX_CAPS = {"quick": (1500, 500), "full": (5000, 2000)}


def _find_idx(directory, stem):
    for name in (stem, stem.replace("-idx", ".idx")):
        for suffix in ("", ".gz"):
            path = os.path.join(directory, name + suffix)
            if os.path.isfile(path):
                return path
    return None


def idx_pairs(directory):
    """The MNIST-style (images, labels) file pairs found in ``directory``:
    ``{"train": pair or None, "t10k": pair or None}``."""
    stems = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "t10k": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
    found = {}
    for split, (img, lab) in stems.items():
        pair = (_find_idx(directory, img), _find_idx(directory, lab))
        found[split] = pair if all(pair) else None
    return found


def _subsample(X, y, n):
    """The first ``n`` rows: the split is already shuffled, so this is a random subset."""
    return (X, y) if n is None or n >= len(X) else (X[:n], y[:n])


def load_dataset(kind="digits", data_dir=None, seed=0, max_train=None, max_test=None,
                 test_size=None):
    """Load and split the data of an experiment (see :meth:`Context.data`)."""
    from ..data import load_digits, load_idx, train_test_split

    if kind == "digits":
        X, y = load_digits()
        test_size = 500 if test_size is None else test_size
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, seed=seed,
                                                  stratify=True)
        desc = {"name": "digits", "source": "scikit-learn's bundled 8x8 digits, pixels / 16",
                "split": f"stratified, seed {seed}, {test_size} test images"}
        shape = (1, 8, 8)
    elif kind == "idx":
        if data_dir is None:
            raise ValueError("data 'idx' needs a data directory (--data-dir DIR)")
        pairs = idx_pairs(data_dir)

        def read(pair):
            images, labels = load_idx(*pair)
            return images.reshape(len(images), -1).astype(np.float32) / np.float32(255), \
                labels, images.shape[1:]

        if pairs["train"] and pairs["t10k"]:
            X_tr, y_tr, hw = read(pairs["train"])
            X_te, y_te, _ = read(pairs["t10k"])
            rng = np.random.default_rng(seed)  # shuffle, so that caps take random subsets
            p, q = rng.permutation(len(X_tr)), rng.permutation(len(X_te))
            X_tr, y_tr, X_te, y_te = X_tr[p], y_tr[p], X_te[q], y_te[q]
            split = "train / t10k files (shuffled)"
        elif pairs["t10k"] or pairs["train"]:
            X, y, hw = read(pairs["t10k"] or pairs["train"])
            test_size = 0.2 if test_size is None else test_size
            X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, seed=seed,
                                                      stratify=True)
            split = f"one file pair split, stratified, seed {seed}, test_size {test_size}"
        else:
            raise FileNotFoundError(
                f"no complete pair of IDX files in {data_dir!r}: expected t10k-images-idx3-ubyte "
                f"and t10k-labels-idx1-ubyte (and/or the train-* pair), plain or .gz")
        desc = {"name": "idx", "dir": os.fspath(data_dir), "split": split}
        shape = (1, *hw)
    else:
        raise ValueError(f"data must be one of {DATA_CHOICES}, got {kind!r}")
    X_tr, y_tr = _subsample(X_tr, y_tr, max_train)
    X_te, y_te = _subsample(X_te, y_te, max_test)
    desc.update(n_train=int(len(X_tr)), n_test=int(len(X_te)), sample_shape=list(shape))
    return Dataset(desc["name"], np.ascontiguousarray(X_tr, np.float32), y_tr.astype(np.int64),
                   np.ascontiguousarray(X_te, np.float32), y_te.astype(np.int64), shape,
                   int(max(y_tr.max(), y_te.max()) + 1), desc)


# ------------------------------------------------------------------------------------------------
# the context handed to an experiment
# ------------------------------------------------------------------------------------------------

class _NoBar:
    """Stands in for a tqdm bar when progress is off."""

    n = 0

    def update(self, n=1):
        self.n += n

    def set_postfix_str(self, s, refresh=True):
        pass

    def set_description_str(self, s, refresh=True):
        pass

    def close(self):
        pass


class Context:
    """Options and services for one experiment run; see the module docstring."""

    def __init__(self, name, quick=False, seed=0, out_dir=None, data="digits", data_dir=None,
                 progress=True):
        if name not in EXPERIMENTS:
            raise ValueError(f"unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)}")
        if data not in DATA_CHOICES:
            raise ValueError(f"data must be one of {DATA_CHOICES}, got {data!r}")
        if data == "idx" and data_dir is None:
            raise ValueError("data 'idx' needs a data directory (--data-dir DIR)")
        self.name = name
        self.spec = EXPERIMENTS[name]
        self.quick = bool(quick)
        self.seed = int(seed)
        self.out_dir = os.fspath(out_dir if out_dir is not None
                                 else os.path.join("runs", "experiments", name))
        self.data_kind = data
        self.data_dir = data_dir
        self.progress = bool(progress)
        self.figures = []
        self._bar = None
        self._dataset_desc = None

    # -- options ----------------------------------------------------------------------------------
    def pick(self, quick, full):
        """``quick`` in a quick run, ``full`` otherwise."""
        return quick if self.quick else full

    def seeds(self, n):
        """The seeds of ``n`` repeated runs: ``seed, seed + 1, ...``."""
        return [self.seed + i for i in range(n)]

    # -- data -------------------------------------------------------------------------------------
    def data(self, max_train=None, max_test=None, test_size=None):
        """The experiment's data set: digits (1,297 train / 500 test, stratified with the base
        seed) or the MNIST IDX files of ``data_dir``.

        ``max_train`` / ``max_test`` cap the split (random subsets); for IDX data, which is far
        bigger than digits, the caps default to 1,500 / 500 in a quick run and 5,000 / 2,000
        otherwise, so every experiment stays within minutes."""
        if self.data_kind == "idx":
            cap_train, cap_test = IDX_CAPS["quick" if self.quick else "full"]
            max_train = cap_train if max_train is None else min(max_train, cap_train)
            max_test = cap_test if max_test is None else min(max_test, cap_test)
        ds = load_dataset(self.data_kind, self.data_dir, self.seed, max_train, max_test,
                          test_size)
        self._dataset_desc = ds.description
        return ds

    # -- progress ---------------------------------------------------------------------------------
    def bar(self, total, desc=None, unit="step"):
        """The experiment's progress bar (tqdm on stderr, or a silent stand-in); close it with
        ``.close()`` or let the runner do it."""
        self.close_bar()
        if not self.progress:
            self._bar = _NoBar()
            return self._bar
        from tqdm.auto import tqdm

        self._bar = tqdm(total=total, desc=desc or self.name, unit=unit, file=sys.stderr,
                         dynamic_ncols=True, leave=True, mininterval=0.5)
        return self._bar

    def close_bar(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def log(self, message):
        """A line of progress text that does not break the bar."""
        if not self.progress:
            return
        if self._bar is not None and not isinstance(self._bar, _NoBar):
            from tqdm.auto import tqdm

            tqdm.write(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr)

    # -- figures ----------------------------------------------------------------------------------
    def figure(self, figsize=(10, 4)):
        """A matplotlib ``Figure`` on the Agg canvas (no display, pyplot's state untouched)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize, dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        return fig

    def save(self, fig, filename=None):
        """Write ``fig`` as a PNG into the output directory; returns the path."""
        filename = filename or f"{self.name}.png"
        os.makedirs(self.out_dir, exist_ok=True)
        path = os.path.join(self.out_dir, filename)
        fig.savefig(path, format="png")
        self.figures.append(filename)
        return path


# ------------------------------------------------------------------------------------------------
# running
# ------------------------------------------------------------------------------------------------

def _limit_blas_threads():
    """One BLAS thread: the matrices here are small, where OpenBLAS's threads cost more than
    they give (10x slower on a busy 2-core machine), and a fixed thread count keeps float
    results bit-reproducible. Uses threadpoolctl (installed with scikit-learn) when present."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings it
        return None
    return threadpool_limits(limits=1, user_api="blas")


def _verdict_paragraph(name, outcome, seconds):
    gating = [c for c in outcome.checks if c.gating]
    passed = sum(c.passed for c in gating)
    soft = [c for c in outcome.checks if not c.gating]
    if outcome.held:
        head = f"Claim held ({passed}/{len(gating)} gating checks passed)"
    else:
        head = f"Claim did NOT hold here ({passed}/{len(gating)} gating checks passed)"
    tail = ""
    if soft:
        tail = " Reported, not gating: " + "; ".join(
            f"{c.name}: {'yes' if c.passed else 'no'}" for c in soft) + "."
    return f"[{name}] {head}. {outcome.verdict}{tail} ({seconds:.1f} s)"


def run_experiment(name, quick=False, seed=0, out_dir=None, data="digits", data_dir=None,
                   progress=True, echo=True):
    """Run one experiment; write its PNG(s) and ``results.json`` into ``out_dir`` (default
    ``runs/experiments/NAME``); print (``echo``) and return the results as a dict."""
    ctx = Context(name, quick=quick, seed=seed, out_dir=out_dir, data=data, data_dir=data_dir,
                  progress=progress)
    module = importlib.import_module(f"{__package__}.{ctx.spec.module}")
    os.makedirs(ctx.out_dir, exist_ok=True)
    limiter = _limit_blas_threads()
    start = time.perf_counter()
    try:
        outcome = module.run(ctx)
    finally:
        ctx.close_bar()
        if limiter is not None:
            limiter.restore_original_limits()
    seconds = time.perf_counter() - start
    from .. import __version__

    paragraph = _verdict_paragraph(name, outcome, seconds)
    record = {
        "experiment": name,
        "title": ctx.spec.title,
        "claim": ctx.spec.claim,
        "held": outcome.held,
        "verdict": paragraph,
        "checks": [c.to_dict() for c in outcome.checks],
        "options": {"quick": ctx.quick, "seed": ctx.seed,
                    "data": ctx.data_kind if ctx.spec.uses_data else "synthetic",
                    "data_dir": ctx.data_dir if ctx.spec.uses_data else None},
        "data": ctx._dataset_desc if ctx.spec.uses_data else "synthetic (generated in the "
                                                             "experiment; --data is not used)",
        "config": outcome.config,
        "results": outcome.results,
        "figures": ctx.figures,
        "seconds": seconds,
        "versions": {"tinygrad_norm": __version__, "numpy": np.__version__,
                     "python": platform.python_version()},
    }
    record = _jsonable(record)
    path = os.path.join(ctx.out_dir, "results.json")
    with open(path, "w") as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    if echo:
        print(textwrap.fill(paragraph, width=100))
        print(f"wrote {', '.join(os.path.join(ctx.out_dir, f) for f in ctx.figures)}, {path}")
    return record
