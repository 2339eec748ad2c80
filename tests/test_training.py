"""The main job: models, the training loop, the curves and the ``train`` command.

Accuracy tests train real models on the digits (a few seconds each); the CLI tests use one or two
epochs where only the files and the plumbing are checked.
"""
from __future__ import annotations

import gzip
import json
import os
import xml.etree.ElementTree as ET
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import nn, optim
from tinygrad_norm.cli import main
from tinygrad_norm.data import DataLoader, load_digits, train_test_split
from tinygrad_norm.models import build_model
from tinygrad_norm.training import evaluate, fit

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def one_blas_thread():
    """As the train command does: these models are too small for BLAS threads to pay."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        yield


def _digits(model, seed=0):
    images, labels = load_digits(return_images=True)
    X_train, X_test, y_train, y_test = train_test_split(images, labels, test_size=0.25,
                                                        seed=seed, stratify=True)
    shape = (-1, 1, 8, 8) if model == "cnn" else (-1, 64)
    return X_train.reshape(shape), X_test.reshape(shape), y_train, y_test


def _train(model="mlp", norm="batch", dropout=0.2, epochs=12, seed=0, lr=1e-3, batch_size=32,
           inverted=True, limit=None):
    X_train, X_test, y_train, y_test = _digits(model, seed)
    if limit is not None:
        X_train, y_train = X_train[:limit], y_train[:limit]
    tg.manual_seed(seed)
    net = build_model(model, norm=norm, dropout=dropout, inverted=inverted)
    opt = optim.Adam(net.parameters(), lr=lr)
    loader = DataLoader(X_train, y_train, batch_size=batch_size, shuffle=True, seed=seed)
    history = fit(net, loader, (X_test, y_test), opt, epochs=epochs, progress=False)
    return net, history, (X_test, y_test)


# ------------------------------------------------------------------------------------------------
# models
# ------------------------------------------------------------------------------------------------

def _kinds(net):
    return [type(m).__name__ for m in net]


def test_mlp_layout_with_batch_norm_and_dropout():
    tg.manual_seed(0)
    net = build_model("mlp", norm="batch", dropout=0.2)
    assert isinstance(net, nn.Sequential)
    assert _kinds(net) == ["Flatten", "Linear", "BatchNorm1d", "ReLU", "Dropout",
                           "Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear"]
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert shapes["1.weight"] == (128, 64) and shapes["9.weight"] == (10, 128)
    assert "1.bias" not in shapes  # the batch norm's beta replaces it
    out = net(tg.Tensor(np.zeros((5, 64), np.float32)))
    assert out.shape == (5, 10) and out.dtype == np.float32


@pytest.mark.parametrize("norm, layer", [("none", None), ("layer", "LayerNorm"),
                                         ("rms", "RMSNorm"), ("group", "GroupNorm")])
def test_mlp_norms(norm, layer):
    net = build_model("mlp", norm=norm, hidden=(32,))
    kinds = _kinds(net)
    assert kinds[:2] == ["Flatten", "Linear"] and kinds[-1] == "Linear"
    assert (layer in kinds) if layer else kinds == ["Flatten", "Linear", "ReLU", "Linear"]
    assert net(tg.Tensor(np.ones((3, 64), np.float32))).shape == (3, 10)


@pytest.mark.parametrize("norm, layer", [("batch", "BatchNorm2d"), ("layer", "LayerNorm"),
                                         ("rms", "RMSNorm"), ("group", "GroupNorm"),
                                         ("instance", "InstanceNorm2d"), ("none", None)])
def test_cnn_norms_and_shapes(norm, layer):
    net = build_model("cnn", norm=norm, dropout=0.3, in_shape=(1, 8, 8))
    kinds = _kinds(net)
    assert kinds.count("Conv2d") == 2 and kinds.count("MaxPool2d") == 2
    assert kinds[-3:] == ["Flatten", "Dropout", "Linear"]
    if layer:
        assert kinds.count(layer) == 2
    assert net(tg.Tensor(np.ones((2, 1, 8, 8), np.float32))).shape == (2, 10)


def test_cnn_on_mnist_sized_images_and_float64():
    net = build_model("cnn", norm="batch", in_shape=(1, 28, 28), num_classes=10,
                      dtype=np.float64)
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net(tg.Tensor(np.zeros((2, 1, 28, 28)))).shape == (2, 10)


@pytest.mark.parametrize("kwargs, match", [
    (dict(model="rnn"), "model must be one of"),
    (dict(norm="weight"), "norm must be one of"),
    (dict(model="mlp", norm="instance"), "spatial"),
    (dict(dropout=1.0), "dropout"),
    (dict(dropout=-0.1), "dropout"),
    (dict(hidden=(0,)), "hidden"),
    (dict(model="cnn", in_shape=(64,)), "in_shape"),
    (dict(model="cnn", in_shape=(1, 2, 2)), "too small"),
    (dict(norm="group", hidden=(30,), groups=7), "groups"),
    (dict(norm="batch", groups=-5), "groups"),  # checked whatever the norm
])
def test_build_model_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_model(**kwargs)


def test_classic_dropout_is_passed_through():
    net = build_model("mlp", dropout=0.5, inverted=False)
    drops = [m for m in net if type(m).__name__ == "Dropout"]
    assert len(drops) == 2 and all(m.p == 0.5 and m.inverted is False for m in drops)


# ------------------------------------------------------------------------------------------------
# training to an accuracy target, and reproducibility
# ------------------------------------------------------------------------------------------------

def test_mlp_batch_norm_dropout_reaches_95_percent():
    net, history, test = _train("mlp", norm="batch", dropout=0.2, epochs=12)
    assert history["test_acc"][-1] >= 0.95, history["test_acc"]
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert evaluate(net, *test)["acc"] == history["test_acc"][-1]
    assert net.training  # evaluate restores the mode


def test_cnn_batch_norm_reaches_95_percent():
    _, history, _ = _train("cnn", norm="batch", dropout=0.0, epochs=4, lr=3e-3)
    assert history["test_acc"][-1] >= 0.95, history["test_acc"]


def test_same_seed_same_metrics_bit_for_bit():
    runs = [_train("mlp", norm="batch", dropout=0.3, epochs=2, seed=7, limit=400)[1]
            for _ in range(2)]
    other = _train("mlp", norm="batch", dropout=0.3, epochs=2, seed=8, limit=400)[1]
    keys = ("train_loss", "train_acc", "test_loss", "test_acc")
    for k in keys:
        assert runs[0][k] == runs[1][k], k  # exact float equality
    assert any(runs[0][k] != other[k] for k in keys)
    assert len(runs[0]["time"]) == 2 and all(t > 0 for t in runs[0]["time"])


def test_evaluate_uses_eval_mode_and_no_graph():
    tg.manual_seed(0)
    net = build_model("mlp", norm="batch", dropout=0.5)
    X, _, y, _ = _digits("mlp")
    before = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    a = evaluate(net, X[:100], y[:100], batch_size=7)
    b = evaluate(net, X[:100], y[:100], batch_size=100)
    assert a["acc"] == b["acc"] and a["loss"] == pytest.approx(b["loss"], rel=1e-5)
    for k, v in net.state_dict().items():  # running statistics untouched
        np.testing.assert_array_equal(v.numpy(), before[k])
    assert all(p.grad is None for p in net.parameters())


def test_build_model_dtype_none_is_float32_as_every_layer():
    assert build_model("mlp", dtype=None).dtype == np.float32
    assert build_model("mlp", dtype=np.float64).dtype == np.float64
    with pytest.raises(TypeError, match="dtype must be a floating-point type"):
        build_model("mlp", dtype="int32")


def test_evaluate_gives_every_submodule_its_own_mode_back():
    # model.train(was) set one mode for all: a BatchNorm frozen in eval came back training
    tg.manual_seed(0)
    net = build_model("mlp", norm="batch", dropout=0.5)
    net.train()
    frozen = [m for m in net if isinstance(m, nn.BatchNorm1d)][0]
    frozen.eval()
    modes = [m.training for m in net.modules()]
    X, _, y, _ = _digits("mlp")
    evaluate(net, X[:20], y[:20])
    assert [m.training for m in net.modules()] == modes and not frozen.training


def test_accuracy_of_probability_targets_reads_their_largest_class():
    # cross-entropy takes class probabilities; the accuracy compared them with class indices
    # (a broadcast error after the first optimizer step, or a wrong number)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5)).astype(np.float32)
    labels = rng.integers(0, 4, 40)
    onehot = np.eye(4, dtype=np.float32)[labels]
    tg.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 4))
    by_index, by_prob = evaluate(net, X, labels), evaluate(net, X, onehot)
    assert by_index["acc"] == by_prob["acc"]
    assert evaluate(net, X[:4], onehot[:4])["acc"] == evaluate(net, X[:4], labels[:4])["acc"]
    history = fit(net, DataLoader(X, onehot, batch_size=10), None,
                  optim.SGD(net.parameters(), lr=0.1), progress=False)
    assert 0.0 <= history["train_acc"][-1] <= 1.0


def test_fit_rejects_bad_arguments():
    net = build_model("mlp")
    loader = DataLoader(np.zeros((4, 64), np.float32), np.zeros(4, np.int64), batch_size=2)
    with pytest.raises(ValueError, match="optimizer"):
        fit(net, loader, optimizer=None)
    with pytest.raises(ValueError, match="epochs"):
        fit(net, loader, optimizer=optim.SGD(net.parameters(), lr=0.1), epochs=0)


def test_fit_steps_a_schedule_once_an_epoch():
    from tinygrad_norm.optim import lr_scheduler

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    tg.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 3))
    opt = optim.SGD(net.parameters(), lr=0.1)
    seen = []

    class Watch(lr_scheduler.StepLR):
        def step(self, epoch=None):
            seen.append(opt.param_groups[0]["lr"])
            super().step(epoch)

    # the first entry is the step the scheduler's constructor takes
    fit(net, DataLoader(X, y, batch_size=10), None, opt, epochs=4, progress=False,
        scheduler=Watch(opt, step_size=2, gamma=0.5))
    assert seen == [0.1, 0.1, 0.1, 0.05, 0.05] and opt.param_groups[0]["lr"] == 0.025
    # a plateau schedule watches the test loss (here, one that never improves on epoch 1's)
    opt = optim.SGD(net.parameters(), lr=0.1)
    plateau = lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    history = fit(net, DataLoader(X, y, batch_size=10), (X, y), opt, epochs=3,
                  progress=False, scheduler=plateau)
    assert plateau.best == min(history["test_loss"])
    with pytest.raises(TypeError, match="scheduler must have a step"):
        fit(net, DataLoader(X, y, batch_size=10), None, opt, scheduler=0.5, progress=False)


def test_fit_stops_on_a_diverging_loss():
    net = build_model("mlp", norm="none")
    X, _, y, _ = _digits("mlp")
    X = X[:64].copy()
    X[40, 3] = np.inf  # in the second batch
    loader = DataLoader(X, y[:64], batch_size=32)
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError, match="epoch 1, batch 2"):
        fit(net, loader, optimizer=optim.SGD(net.parameters(), lr=0.1), progress=False)


def test_plot_history_writes_a_png(tmp_path):
    from tinygrad_norm.plots import plot_history

    history = {"epoch": [1, 2], "train_loss": [1.0, 0.5], "train_acc": [0.5, 0.8],
               "test_loss": [None, None], "test_acc": [None, None], "time": [0.1, 0.1]}
    path = plot_history(history, tmp_path / "c.png", title="t")
    assert (tmp_path / "c.png").read_bytes()[:8] == PNG_MAGIC
    assert path == tmp_path / "c.png"


# ------------------------------------------------------------------------------------------------
# the command line
# ------------------------------------------------------------------------------------------------

def _write_idx(path, array):
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def _read_metrics(out):
    with open(out / "metrics.json") as f:
        return json.load(f)


def test_cli_no_graph_writes_no_graph(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--epochs", "1", "--out", str(out), "--no-progress", "--no-graph"]) == 0
    assert sorted(os.listdir(out)) == ["curves.png", "metrics.json", "model.npz"]


def test_cli_writes_every_file_it_promises(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["train", "--epochs", "2", "--out", str(out), "--no-progress", "--seed", "3"])
    assert rc == 0
    # the graphs of one training step are part of the main job: written by default
    assert sorted(os.listdir(out)) == ["curves.png", "metrics.json", "model.npz", "neurons.svg",
                                       "opgraph.svg"]
    for svg in ("neurons.svg", "opgraph.svg"):
        assert ET.parse(out / svg).getroot().tag.endswith("svg")
    stdout = capsys.readouterr().out
    assert "epoch 2/2" in stdout and "test accuracy" in stdout and "metrics.json" in stdout
    metrics = _read_metrics(out)
    assert metrics["config"]["model"] == "mlp" and metrics["config"]["norm"] == "batch"
    assert metrics["config"]["seed"] == 3 and metrics["config"]["dropout"] == 0.2
    assert metrics["history"]["epoch"] == [1, 2]
    assert len(metrics["history"]["test_acc"]) == 2
    assert 0.5 < metrics["final"]["test_acc"] <= 1.0
    assert metrics["final"]["test_acc"] == metrics["history"]["test_acc"][-1]
    assert metrics["data"]["n_train"] + metrics["data"]["n_test"] == 1797
    assert (out / "curves.png").read_bytes()[:8] == PNG_MAGIC
    # the weights load back into the same architecture and give the same test accuracy
    net = build_model("mlp", norm="batch", dropout=0.2)
    net.load_state_dict(tg.load(out / "model.npz"))
    _, X_test, _, y_test = _digits("mlp", seed=3)
    assert evaluate(net, X_test, y_test)["acc"] == metrics["final"]["test_acc"]


def test_cli_cnn_classic_dropout_sgd_with_graph(tmp_path, capsys):
    out = tmp_path / "cnn"
    rc = main(["train", "--model", "cnn", "--norm", "group", "--dropout", "0.5", "--classic",
               "--optimizer", "sgd", "--lr", "0.05", "--epochs", "1", "--hidden", "8,8",
               "--out", str(out), "--no-progress", "--graph"])
    assert rc == 0
    metrics = _read_metrics(out)
    assert metrics["config"]["inverted"] is False and metrics["config"]["hidden"] == [8, 8]
    assert metrics["config"]["momentum"] == 0.9
    for name in ("metrics.json", "curves.png", "model.npz", *metrics["files"]["graphs"]):
        assert (out / name).is_file() and (out / name).stat().st_size > 0
    if not metrics["files"]["graphs"]:  # no viz: a clear message, and everything else written
        assert "viz" in capsys.readouterr().err


def test_cli_idx_data(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 12)
    images = rng.integers(0, 50, size=(120, 12, 12))
    for k in range(10):  # a bright row per class: learnable in one epoch
        images[labels == k, k + 1, :] = 255
    data = tmp_path / "mnist"
    data.mkdir()
    _write_idx(data / "t10k-images-idx3-ubyte.gz", images)
    _write_idx(data / "t10k-labels-idx1-ubyte.gz", labels)
    out = tmp_path / "only-t10k"
    assert main(["train", "--data", "idx", "--data-dir", str(data), "--epochs", "2",
                 "--out", str(out), "--no-progress", "--test-size", "0.25"]) == 0
    m = _read_metrics(out)
    assert (m["data"]["n_train"], m["data"]["n_test"]) == (90, 30)
    assert m["data"]["sample_shape"] == [144]
    # with a train pair as well (here plain, uncompressed), the files give the split
    with gzip.open(data / "t10k-images-idx3-ubyte.gz") as f:
        (data / "train-images-idx3-ubyte").write_bytes(f.read())
    with gzip.open(data / "t10k-labels-idx1-ubyte.gz") as f:
        (data / "train-labels-idx1-ubyte").write_bytes(f.read())
    out = tmp_path / "both"
    assert main(["train", "--data", "idx", "--data-dir", str(data), "--model", "cnn",
                 "--epochs", "1", "--out", str(out), "--no-progress"]) == 0
    m = _read_metrics(out)
    assert (m["data"]["n_train"], m["data"]["n_test"]) == (120, 120)
    assert m["data"]["sample_shape"] == [1, 12, 12]


@pytest.mark.parametrize("argv, message", [
    (["--dropout", "1"], "--dropout"),
    (["--dropout", "nan"], "--dropout"),
    (["--lr", "0"], "--lr"),
    (["--lr", "abc"], "--lr"),
    (["--epochs", "0"], "--epochs"),
    (["--batch-size", "-4"], "--batch-size"),
    (["--seed", "-1"], "--seed"),
    (["--threads", "-1"], "--threads"),
    (["--model", "rnn"], "--model"),
    (["--norm", "weight"], "--norm"),
    (["--optimizer", "rmsprop"], "--optimizer"),
    (["--norm", "instance"], "--model cnn"),
    (["--classic", "--inverted"], "not allowed with"),
    (["--data", "idx"], "--data-dir"),
    (["--data", "idx", "--data-dir", "/nonexistent/dir"], "no such directory"),
    (["--hidden", "128,x"], "--hidden"),
    (["--test-size", "1.5"], "--test-size"),
])
def test_cli_bad_arguments_are_usage_errors(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", *argv, "--out", str(tmp_path / "out")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and message in err
    assert not (tmp_path / "out").exists()  # nothing written


def test_cli_idx_dir_without_files_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--data", "idx", "--data-dir", str(tmp_path)])
    assert exc.value.code == 2
    assert "t10k-images-idx3-ubyte" in capsys.readouterr().err


def test_cli_corrupt_idx_file_is_a_usage_error(tmp_path, capsys):
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((4, 3, 3)))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x09ab")
    with pytest.raises(SystemExit) as exc:
        main(["train", "--data", "idx", "--data-dir", str(tmp_path), "--out",
              str(tmp_path / "out")])
    assert exc.value.code == 2
    assert "truncated" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_cli_help_in_a_subprocess():
    proc = subprocess.run([sys.executable, "-m", "tinygrad_norm", "train", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for flag in ("--model", "--norm", "--dropout", "--classic", "--optimizer", "--lr",
                 "--epochs", "--batch-size", "--seed", "--data-dir", "--out", "--graph",
                 "--no-progress"):
        assert flag in proc.stdout


# ------------------------------------------------------------------------------------------------
# a last batch of one sample under batch norm
# ------------------------------------------------------------------------------------------------

def _n_train_digits():
    return len(_digits("mlp")[0])


def test_cli_drops_a_last_batch_of_one_sample_under_batch_norm(tmp_path, capsys):
    n_train = _n_train_digits()
    batch_size = (n_train - 1) // 2  # two full batches and a lone sample: quick to train
    assert n_train % batch_size == 1
    out = tmp_path / "run"
    rc = main(["train", "--batch-size", str(batch_size), "--epochs", "1", "--out", str(out),
               "--no-progress", "--no-graph"])
    assert rc == 0
    err = capsys.readouterr().err
    assert err.count("dropped") == 1 and "batch norm" in err  # said once, not per epoch
    m = _read_metrics(out)
    assert m["data"]["dropped_per_epoch"] == 1 and "batch norm" in m["data"]["note"]
    assert m["history"]["epoch"] == [1]


def test_cli_last_batch_of_one_sample_is_kept_without_batch_norm(tmp_path, capsys):
    n_train = _n_train_digits()
    out = tmp_path / "run"
    assert main(["train", "--norm", "layer", "--batch-size", str((n_train - 1) // 2),
                 "--epochs", "1", "--out", str(out), "--no-progress", "--no-graph"]) == 0
    assert "dropped" not in capsys.readouterr().err
    assert "dropped_per_epoch" not in _read_metrics(out)["data"]


def test_cli_batch_norm_with_batches_of_one_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--batch-size", "1", "--out", str(tmp_path / "out")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and "--batch-size 1" in err and "batch norm" in err
    assert not (tmp_path / "out").exists()


def test_cli_batch_norm_with_one_training_sample_is_a_usage_error(tmp_path, capsys):
    data = tmp_path / "mnist"
    data.mkdir()
    _write_idx(data / "train-images-idx3-ubyte.gz", np.zeros((1, 4, 4)))
    _write_idx(data / "train-labels-idx1-ubyte.gz", np.zeros(1))
    _write_idx(data / "t10k-images-idx3-ubyte.gz", np.zeros((3, 4, 4)))
    _write_idx(data / "t10k-labels-idx1-ubyte.gz", np.arange(3))
    with pytest.raises(SystemExit) as exc:
        main(["train", "--data", "idx", "--data-dir", str(data), "--out", str(tmp_path / "out")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and "training set has 1" in err
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------------
# what the command builds: dropout kind, optimizer, progress bar
# ------------------------------------------------------------------------------------------------

@pytest.fixture
def spy_fit(monkeypatch):
    """Record the model and optimizer the command hands to ``fit`` (the real fit still runs)."""
    import tinygrad_norm.training as training

    seen = {}
    real_fit = training.fit

    def fit_spy(model, loader, test_data, optimizer, **kwargs):
        seen.update(model=model, optimizer=optimizer, loader=loader)
        return real_fit(model, loader, test_data, optimizer, **kwargs)

    monkeypatch.setattr(training, "fit", fit_spy)
    return seen


_QUICK = ["--epochs", "1", "--batch-size", "256", "--no-graph", "--no-progress"]


@pytest.mark.parametrize("flag, inverted", [("--classic", False), ("--inverted", True)])
def test_cli_dropout_kind_reaches_the_dropout_layers(flag, inverted, tmp_path, spy_fit):
    assert main(["train", flag, "--dropout", "0.3", *_QUICK, "--out", str(tmp_path)]) == 0
    drops = [m for m in spy_fit["model"].modules() if isinstance(m, nn.Dropout)]
    assert len(drops) == 2
    assert all(m.inverted is inverted and m.p == 0.3 for m in drops)


@pytest.mark.parametrize("name, cls, lr", [("sgd", optim.SGD, 0.02), ("adam", optim.Adam, 0.004)])
def test_cli_optimizer_class_and_lr(name, cls, lr, tmp_path, spy_fit):
    assert main(["train", "--optimizer", name, "--lr", str(lr), *_QUICK,
                 "--out", str(tmp_path)]) == 0
    opt = spy_fit["optimizer"]
    assert type(opt) is cls
    assert [g["lr"] for g in opt.param_groups] == [lr]
    params = list(spy_fit["model"].parameters())
    assert [id(p) for p in opt.param_groups[0]["params"]] == [id(p) for p in params]
    if name == "sgd":
        assert opt.param_groups[0]["momentum"] == 0.9


def test_cli_cosine_schedule_anneals_to_zero(tmp_path, spy_fit):
    args = ["train", "--schedule", "cosine", "--epochs", "2", "--batch-size", "256", "--no-graph",
            "--no-progress", "--out", str(tmp_path)]
    assert main(args) == 0
    assert spy_fit["optimizer"].param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-18)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["config"]["schedule"] == "cosine"
    with pytest.raises(SystemExit) as e:
        main(["train", "--schedule", "linear", "--out", str(tmp_path)])
    assert e.value.code == 2


@pytest.mark.parametrize("name, lr", [("sgd", 0.05), ("adam", 1e-3)])
def test_cli_optimizer_default_lr(name, lr, tmp_path, spy_fit):
    assert main(["train", "--optimizer", name, *_QUICK, "--out", str(tmp_path)]) == 0
    assert spy_fit["optimizer"].param_groups[0]["lr"] == lr


def test_cli_progress_bar_on_stderr(tmp_path, capsys):
    assert main(["train", "--epochs", "1", "--batch-size", "256", "--no-graph",
                 "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    batches = -(-_n_train_digits() // 256)
    assert "epoch 1/1" in captured.err and f"{batches}/{batches}" in captured.err
    assert "test_acc=" in captured.err  # the bar's postfix once the epoch is evaluated
    assert "epoch 1/1" not in captured.out  # with the bar, no per-epoch line on stdout


# ---- from a CLI bug hunt ----------------------------------------------------------------------

def _broken_renderer(monkeypatch):
    """A renderer that is found but fails on every graph (a broken system dot)."""
    from tinygrad_norm.viz import rendering
    monkeypatch.setattr(rendering, "find_renderer", lambda: ["/bin/false"])


def test_cli_a_failing_renderer_keeps_the_training_results(tmp_path, monkeypatch, capsys):
    _broken_renderer(monkeypatch)
    out = tmp_path / "out"
    assert main(["train", "--epochs", "1", "--out", str(out), "--no-progress"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())  # was lost to a RenderError
    assert metrics["files"]["graphs"] == ["opgraph.dot", "neurons.dot"]
    assert "--graph:" in metrics["files"]["graphs_note"]
    assert (out / "opgraph.dot").is_file() and (out / "neurons.dot").is_file()
    assert main(["graph", "--out", str(tmp_path / "g")]) == 1  # a message, not a traceback
    assert "tinygrad-norm graph:" in capsys.readouterr().err
    assert (tmp_path / "g" / "opgraph.dot").is_file()


def test_cli_without_renderer_lists_only_the_graphs_it_wrote(tmp_path, monkeypatch):
    from tinygrad_norm.viz import rendering
    monkeypatch.setattr(rendering, "find_renderer", lambda: [])
    out = tmp_path / "out"
    out.mkdir()
    (out / "neurons.dot").write_text("digraph old {}")  # an MLP's, from an earlier run
    assert main(["train", "--model", "cnn", "--epochs", "1", "--out", str(out),
                 "--no-progress"]) == 0
    files = json.loads((out / "metrics.json").read_text())["files"]
    assert files["graphs"] == ["opgraph.dot"]
    assert "no neuron graph" in files["graphs_note"]  # the note survives the missing renderer


def test_cli_out_that_cannot_take_the_results_is_refused_before_training(tmp_path, capsys):
    out = tmp_path / "out"
    (out / "curves.png").mkdir(parents=True)
    with pytest.raises(SystemExit) as e:
        main(["train", "--epochs", "1", "--out", str(out), "--no-progress"])
    assert e.value.code == 2
    assert "holds a directory named 'curves.png'" in capsys.readouterr().err
    assert not (out / "model.npz").exists()


def test_fit_takes_a_loader_without_a_length_and_evaluate_refuses_scalars():
    X, y = np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32), np.arange(8) % 2
    model = nn.Sequential(nn.Linear(4, 2))
    opt = optim.SGD(model.parameters(), lr=0.1)

    def batches():  # a generator: no len()
        yield tg.Tensor(X), tg.Tensor(y)
    for progress in (False, True):
        history = fit(model, batches(), None, opt, epochs=1, progress=progress)
        assert len(history["train_loss"]) == 1
    for bad in ((np.float32(1), y), (X, 3)):
        with pytest.raises(ValueError, match="must be batches"):
            evaluate(model, *bad)


def test_fit_over_a_stream_without_a_length_shows_a_bar_without_a_total():
    # a DataLoader over an IterableDataset with no __len__: len(loader) is torch's TypeError
    from tinygrad_norm.data import DataLoader, IterableDataset
    X, y = np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32), np.arange(8) % 2

    class Stream(IterableDataset):
        def __iter__(self):
            return iter([(X[i], y[i]) for i in range(8)])
    loader = DataLoader(Stream(), batch_size=4)
    with pytest.raises(TypeError):
        len(loader)
    model = nn.Sequential(nn.Linear(4, 2))
    history = fit(model, loader, None, optim.SGD(model.parameters(), lr=0.1), epochs=2,
                  progress=True)
    assert len(history["train_loss"]) == 2


def test_build_model_takes_one_hidden_size_as_an_int():
    assert build_model("cnn", hidden=16)[0].out_channels == 16  # was "'int' object is not iterable"
    assert len(build_model("mlp", hidden=32).state_dict()) == len(build_model("mlp", hidden=(32,)).state_dict())
    with pytest.raises(TypeError, match="hidden must be an int or a sequence"):
        build_model("mlp", hidden="32")
