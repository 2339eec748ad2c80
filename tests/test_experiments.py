"""The reproduced claims (``tinygrad_norm.experiments``) in their ``--quick`` form.

Every experiment runs once, in a temporary directory, and must write its PNG and a complete
``results.json``. The direction of each claim is checked where the quick run is long enough to
show it -- which is what an experiment's *gating* checks encode: a check that the quick run
cannot decide is recorded as non-gating (and still reported). So ``held`` must be true for
every experiment but where a run contradicts a claim (``EXPECTED_TO_FAIL``: layer norm's faster
convergence at batch 128), and the tables below name the checks that must pass in quick mode,
with the ones left to the full run and why:

* overfitting: quick = 300 epochs. The baseline overfits by then (train accuracy 1.0, a gap of
  several points), but the dropout nets are still fitting the training set (train accuracy
  0.5-0.8), so "dropout narrows the gap" is decided by the full run (2,000 epochs) only.
* batch-size: the MLP's checks (batch norm collapses at batch 2, group and layer norm flat)
  gate in both modes; the small CNN's are reported only -- on 8x8 digits its batch norm does not
  collapse at batch 2 in either mode (see the experiment's docstring).
* bn-placement: which placement wins is never asserted (it flips between setups).
* every other experiment: all of its checks gate already in quick mode.

All quick runs together take about a minute on two cores. That is not asserted (a wall-clock bound
fails on a busy machine); what is asserted is the cause: every setting a quick run picks (steps,
epochs, seeds, resamples, batch sizes) is at most the full run's, and some are smaller.
"""
from __future__ import annotations

import gzip
import json
import os
import struct

import numpy as np
import pytest

from tinygrad_norm.cli import main
from tinygrad_norm.experiments import EXPERIMENTS, run_experiment
from tinygrad_norm.experiments.runner import Context, _jsonable, load_dataset

# checks (by name) that must pass in quick mode, per experiment; see the module docstring
MUST_PASS = {
    "overfitting": ["the network without dropout overfits"],
    "bias-variance": ["decomposition adds up: bias^2 + variance + noise = test error",
                      "the test error is U-shaped", "bias^2 falls with capacity",
                      "variance grows with capacity"],
    "feature-scaling": ["standardized inputs converge", "min-max-scaled inputs converge",
                        "raw inputs need >= 10x the steps of standardized ones",
                        "on raw inputs the waiting-time weight is swamped"],
    "bn-sigmoid": ["batch norm ends at least as accurate",
                   "the sigmoid inputs drift without batch norm, stay stable with it"],
    "activations": ["sigmoid, std=1: activations saturate at 0 and 1",
                    "ReLU, He: activations keep their scale",
                    "batch norm: every activation keeps its spread through the layers",
                    "batch norm keeps the gradient flowing on the same weights"],
    "bn-placement": ["both placements lower the epoch-1 training loss"],
    "batch-size": ["MLP: batch norm degrades at batch 2",
                   "MLP: group and layer norm are flat in the batch size",
                   "MLP: group norm beats batch norm at batch 2"],
    "covariate-shift": ["noisy BN's layer inputs drift more than the standard net's",
                        "BN smooths the loss along the gradient",
                        "BN makes the gradient more predictive"],
    "init-scale": ["batch norm learns over a wider range of initial scales",
                   "without batch norm, small initial weights do not learn"],
    "layer-norm": ["layer norm converges faster at batch 4",
                   "layer norm computes the same in training and evaluation",
                   "Table 1 (invariances of batch, weight and layer norm) holds exactly"],
    "instance-contrast": ["instance norm is unaffected by per-image contrast",
                          "with batch norm, contrast changes cost accuracy",
                          "instance_norm(a x + b) == instance_norm(x) exactly; batch norm not"],
}
# gating checks the runs contradict: the claim does not reproduce here, in quick and full runs.
# layer-norm at batch 128: measured by batch norm's own statistics, batch norm is ahead after one
# epoch (0.51 vs layer norm's 0.75 quick, 0.50 vs 0.79 full); the eval-mode loss that had it
# "hold" measured running averages 11 updates old (1.82)
EXPECTED_TO_FAIL = {
    "layer-norm": ["layer norm converges faster at batch 128"],
}
# checks that are gating in the full run but must be non-gating in quick mode
QUICK_ONLY_SOFT = {
    "overfitting": ["inverted dropout narrows the accuracy gap",
                    "classic dropout narrows the accuracy gap"],
}

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def one_blas_thread():
    # the runner limits BLAS threads itself; this covers the helpers called directly below
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1, "blas"):
        yield


@pytest.fixture(scope="module")
def quick_runs_and_picks(tmp_path_factory):
    """Every experiment once in quick mode: ``({name: (record, out_dir)}, {name: [(quick, full)]})``,
    the second holding every ``Context.pick(quick, full)`` the experiment made (recorded by a
    wrapper that returns what the real method returns)."""
    base = tmp_path_factory.mktemp("experiments")
    runs, picks = {}, {}
    real_pick = Context.pick

    def recording_pick(self, quick, full):
        picks.setdefault(self.name, []).append((quick, full))
        return real_pick(self, quick, full)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Context, "pick", recording_pick)
        for name in EXPERIMENTS:
            out = base / name
            runs[name] = (run_experiment(name, quick=True, seed=0, out_dir=out, progress=False,
                                         echo=False), out)
    return runs, picks


@pytest.fixture(scope="module")
def quick_runs(quick_runs_and_picks):
    """Every experiment once in quick mode: ``{name: (record, out_dir)}``."""
    return quick_runs_and_picks[0]


def test_registry_matches_the_brief():
    assert list(EXPERIMENTS) == [
        "overfitting", "bias-variance", "feature-scaling", "bn-sigmoid", "activations",
        "bn-placement", "batch-size", "covariate-shift", "init-scale", "layer-norm",
        "instance-contrast"]
    assert set(MUST_PASS) == set(EXPERIMENTS)


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_quick_run_writes_figure_and_results(quick_runs, name):
    record, out = quick_runs[name]
    png = out / f"{name}.png"
    assert png.is_file() and png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == PNG_MAGIC
    path = out / "results.json"
    on_disk = json.loads(path.read_text())
    assert on_disk == record
    for key in ("experiment", "title", "claim", "held", "verdict", "checks", "options", "config",
                "results", "figures", "seconds", "versions"):
        assert key in on_disk, key
    assert on_disk["experiment"] == name
    assert on_disk["options"]["quick"] is True
    assert on_disk["figures"] == [f"{name}.png"]
    assert on_disk["verdict"].startswith(f"[{name}] Claim")
    assert len(on_disk["verdict"]) > 200  # a paragraph with the numbers, not a bare yes/no
    assert on_disk["checks"] and all(set(c) == {"name", "passed", "value", "criterion",
                                                "gating"} for c in on_disk["checks"])
    if EXPERIMENTS[name].uses_data:
        assert on_disk["data"]["name"] == "digits"
        assert on_disk["data"]["n_test"] == 500
    else:
        assert on_disk["options"]["data"] == "synthetic"


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_quick_run_shows_the_claims_direction(quick_runs, name):
    record, _ = quick_runs[name]
    checks = {c["name"]: c for c in record["checks"]}
    for check in MUST_PASS[name]:
        assert check in checks, f"{name}: no check named {check!r}"
        assert checks[check]["passed"], f"{name}: {check}: {checks[check]}"
        assert checks[check]["gating"]
    for check in QUICK_ONLY_SOFT.get(name, []):
        assert not checks[check]["gating"], f"{name}: {check} should not gate a quick run"
    failed = [c["name"] for c in record["checks"] if c["gating"] and not c["passed"]]
    assert failed == EXPECTED_TO_FAIL.get(name, []), f"{name}: gating checks failed: {failed}"
    assert record["held"] == (not failed)


def _amount(setting):
    """How much work a picked setting asks for: a number, or how many values a list holds."""
    return len(setting) if isinstance(setting, (list, tuple)) else setting


def test_quick_runs_are_smaller_than_full_runs(quick_runs_and_picks):
    # no wall-clock bound (it would fail on a busy machine, and tests must not assert timing):
    # a quick run is quick because no setting it picks asks for more than the full run's, and at
    # least one asks for less. The time is still recorded.
    runs, picks = quick_runs_and_picks
    for name in EXPERIMENTS:
        record, _ = runs[name]
        assert isinstance(record["seconds"], float) and record["seconds"] >= 0
        chosen = picks.get(name)
        assert chosen, f"{name}: makes no quick/full choice through Context.pick"
        larger = [(q, f) for q, f in chosen if _amount(q) > _amount(f)]
        assert not larger, f"{name}: quick settings larger than the full run's: {larger}"
        assert any(_amount(q) < _amount(f) for q, f in chosen), \
            f"{name}: the quick run picks the same settings as the full run: {chosen}"


def test_amount_of_a_setting():
    assert _amount(300) < _amount(2000) and _amount([2, 32]) < _amount([2, 4, 8, 16, 32])


def test_same_seed_same_numbers(tmp_path, quick_runs):
    again = run_experiment("bn-placement", quick=True, seed=0, out_dir=tmp_path,
                           progress=False, echo=False)
    first = quick_runs["bn-placement"][0]
    assert again["results"] == first["results"]
    assert again["checks"] == first["checks"]


def test_another_seed_changes_the_numbers(tmp_path, quick_runs):
    other = run_experiment("instance-contrast", quick=True, seed=1, out_dir=tmp_path,
                           progress=False, echo=False)
    assert other["options"]["seed"] == 1
    assert other["results"] != quick_runs["instance-contrast"][0]["results"]


# ---------------------------------------------------------------------------------------------
# the runner
# ---------------------------------------------------------------------------------------------

def test_jsonable_converts_numpy_and_non_finite():
    out = _jsonable({"a": np.float32(1.5), "b": np.arange(3), "c": (np.int64(2), np.nan),
                     "d": float("inf"), 3: np.bool_(True)})
    assert out == {"a": 1.5, "b": [0, 1, 2], "c": [2, None], "d": None, "3": True}
    json.dumps(out, allow_nan=False)


def test_context_rejects_bad_options():
    with pytest.raises(ValueError, match="unknown experiment"):
        Context("no-such-experiment")
    with pytest.raises(ValueError, match="data must be one of"):
        Context("overfitting", data="cifar")
    with pytest.raises(ValueError, match="data directory"):
        Context("overfitting", data="idx")


def test_digits_split_is_stratified_and_seeded():
    a = load_dataset("digits", seed=0)
    b = load_dataset("digits", seed=0)
    c = load_dataset("digits", seed=1)
    assert (len(a.X_train), len(a.X_test)) == (1297, 500)
    assert a.image_shape == (1, 8, 8) and a.num_classes == 10
    assert np.array_equal(a.X_test, b.X_test) and not np.array_equal(a.X_test, c.X_test)
    counts = np.bincount(a.y_test, minlength=10)
    assert counts.min() >= 48 and counts.max() <= 52


# ---------------------------------------------------------------------------------------------
# IDX (MNIST-format) data
# ---------------------------------------------------------------------------------------------

def _write_idx(directory, prefix, images, labels):
    """MNIST-format gzip files: ``{prefix}-images-idx3-ubyte.gz`` and the labels."""
    n, h, w = images.shape
    with gzip.open(os.path.join(directory, f"{prefix}-images-idx3-ubyte.gz"), "wb") as f:
        f.write(struct.pack(">IIII", 0x00000803, n, h, w) + images.astype(np.uint8).tobytes())
    with gzip.open(os.path.join(directory, f"{prefix}-labels-idx1-ubyte.gz"), "wb") as f:
        f.write(struct.pack(">II", 0x00000801, n) + labels.astype(np.uint8).tobytes())


@pytest.fixture
def fake_mnist(tmp_path):
    """The digits, as 8x8 uint8 images in the t10k IDX files of a temporary directory."""
    from tinygrad_norm.data import load_digits

    X, y = load_digits(return_images=True)
    _write_idx(tmp_path, "t10k", np.round(X * 255), y)
    return tmp_path


def test_idx_data_is_read_split_and_capped(fake_mnist):
    ds = load_dataset("idx", str(fake_mnist), seed=0, max_train=1000, max_test=300)
    assert ds.name == "idx" and ds.image_shape == (1, 8, 8)
    assert (len(ds.X_train), len(ds.X_test)) == (1000, 300)
    assert ds.X_train.dtype == np.float32 and 0.0 <= ds.X_train.min() <= ds.X_train.max() <= 1.0
    ctx = Context("overfitting", quick=True, data="idx", data_dir=str(fake_mnist))
    capped = ctx.data()
    assert len(capped.X_train) <= 1500 and len(capped.X_test) <= 500


def test_experiment_runs_on_idx_data(fake_mnist, tmp_path):
    out = tmp_path / "out"
    record = run_experiment("instance-contrast", quick=True, out_dir=out, data="idx",
                            data_dir=str(fake_mnist), progress=False, echo=False)
    assert record["data"]["name"] == "idx"
    assert record["options"]["data"] == "idx"
    assert (out / "instance-contrast.png").is_file()


def test_idx_directory_without_files_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no complete pair of IDX files"):
        load_dataset("idx", str(tmp_path))


# ---------------------------------------------------------------------------------------------
# the command line
# ---------------------------------------------------------------------------------------------

def test_cli_list_names_every_experiment_and_claim(capsys):
    assert main(["experiment", "list"]) == 0
    out = capsys.readouterr().out
    for name, spec in EXPERIMENTS.items():
        assert f"\n{name}\n" in f"\n{out}"
        assert spec.claim.split()[0] in out


def test_cli_help(capsys):
    with pytest.raises(SystemExit) as e:
        main(["experiment", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--quick", "--out", "--seed", "--data", "--data-dir", "list"):
        assert flag in out


def test_cli_help_after_all(capsys):
    # help is printed before any experiment runs, whatever NAME is
    with pytest.raises(SystemExit) as e:
        main(["experiment", "all", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "usage:" in out and "--quick" in out and "'all'" in out


def test_cli_unknown_experiment_names_the_choices(capsys):
    with pytest.raises(SystemExit) as e:
        main(["experiment", "bn_sigmoid", "--quick"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage:")
    assert "invalid choice" in err and "bn_sigmoid" in err
    choices = err.split("choose from", 1)[1]
    for name in ["list", "all", *EXPERIMENTS]:
        assert name in choices


def test_cli_runs_an_experiment(tmp_path, capsys):
    out = tmp_path / "fs"
    assert main(["experiment", "feature-scaling", "--quick", "--out", str(out),
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "[feature-scaling] Claim held" in printed
    assert (out / "results.json").is_file() and (out / "feature-scaling.png").is_file()


def test_cli_runs_on_idx_data(tmp_path, fake_mnist, capsys):
    out = tmp_path / "bv"
    assert main(["experiment", "bias-variance", "--quick", "--out", str(out), "--no-progress",
                 "--data", "idx", "--data-dir", str(fake_mnist)]) == 0
    assert json.loads((out / "results.json").read_text())["options"]["data"] == "synthetic"


@pytest.mark.parametrize("argv, message", [
    (["experiment", "nope"], "invalid choice"),
    (["experiment", "overfitting", "--data", "idx"], "--data idx needs --data-dir"),
    (["experiment", "overfitting", "--data-dir", "."], "only used with --data idx"),
    (["experiment", "overfitting", "--data", "idx", "--data-dir", "/no/such/dir"],
     "no such directory"),
    (["experiment", "overfitting", "--seed", "-1"], "non-negative"),
])
def test_cli_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_idx_dir_without_files(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["experiment", "overfitting", "--data", "idx", "--data-dir", str(tmp_path)])
    assert e.value.code == 2
    assert "no complete pair of IDX files" in capsys.readouterr().err


def test_cli_out_must_be_a_directory(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(SystemExit) as e:
        main(["experiment", "bias-variance", "--quick", "--out", str(f)])
    assert e.value.code == 2
    assert "not a directory" in capsys.readouterr().err


def test_cli_default_output_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["experiment", "bias-variance", "--quick", "--no-progress"]) == 0
    out = tmp_path / "runs" / "experiments" / "bias-variance"
    assert (out / "results.json").is_file() and (out / "bias-variance.png").is_file()


def test_cli_out_under_a_file_and_garbage_idx_files_are_usage_errors(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    with pytest.raises(SystemExit) as e:
        main(["experiment", "bias-variance", "--quick", "--out", str(tmp_path / "file" / "sub")])
    assert e.value.code == 2
    assert "cannot be written to" in capsys.readouterr().err
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (bad / name).write_bytes(b"\x12\x34\x56\x78" + bytes(96))
    with pytest.raises(SystemExit) as e:
        main(["experiment", "overfitting", "--quick", "--data", "idx", "--data-dir", str(bad)])
    assert e.value.code == 2
    assert "is not an IDX file: bad magic number" in capsys.readouterr().err


def test_cli_a_small_idx_data_set(tmp_path, capsys):
    """200 images: overfitting trains on all of them (it indexed past them), and init-scale,
    which needs 1000, is a usage error instead of a traceback."""
    from tinygrad_norm.data import load_digits

    X, y = load_digits(return_images=True)
    data = tmp_path / "data"
    data.mkdir()
    _write_idx(data, "t10k", np.round(X[:200] * 255), y[:200])
    with pytest.raises(SystemExit) as e:
        main(["experiment", "init-scale", "--quick", "--no-progress", "--data", "idx",
              "--data-dir", str(data), "--out", str(tmp_path / "a")])
    assert e.value.code == 2 and "needs 1000 training images" in capsys.readouterr().err
    assert main(["experiment", "overfitting", "--quick", "--no-progress", "--data", "idx",
                 "--data-dir", str(data), "--out", str(tmp_path / "b")]) == 0
    results = json.loads((tmp_path / "b" / "results.json").read_text())
    assert results["config"]["n_train"] < 300


def test_cli_experiment_out_that_cannot_be_written_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["experiment", "bias-variance", "--quick", "--out", "/proc/experiment"])
    assert e.value.code == 2 and "cannot be written to" in capsys.readouterr().err
