"""The ``bench`` command end to end on tiny settings (a few seconds): it checks the composites
against the references before timing anything, refuses to time a composite whose gradient is
wrong, prints one table with every case, writes JSON, Markdown and a PNG, and runs without torch.
Nothing here asserts a time."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import tinygrad_norm.functional as F
from tinygrad_norm.bench import CASES, BenchOptions, GradientMismatch, run_bench
from tinygrad_norm.bench import report
from tinygrad_norm.bench.cases import compare, count_nodes, make_data
from tinygrad_norm.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TINY = ["--quick", "--rounds", "2", "--sample-time", "0.002", "--no-progress"]
TINY_SIZES = {k: [c.quick[0]] for k, c in CASES.items()}


def _tiny(**kw):
    kw.setdefault("sizes", TINY_SIZES)
    return BenchOptions(quick=True, rounds=2, sample_time=0.002, progress=False, **kw)


def test_bench_command_end_to_end(tmp_path, capsys):
    j, m, p = tmp_path / "b.json", tmp_path / "b.md", tmp_path / "b.png"
    rc = main(["bench", *TINY, "--no-torch", "--json", str(j), "--markdown", str(m),
               "--plot", str(p)])
    out = capsys.readouterr().out
    assert rc == 0
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["case", "dtype", "shape", "ref", "ms"]
    rows = [ln.split()[0] for ln in lines[2:] if ln.strip() and not ln.startswith(("tgn =",))]
    for key in [*CASES, "chain", "mlp"]:
        assert key in rows, f"no row for {key} in\n{out}"
    assert "pinned to 1 thread" in out or "threadpoolctl not importable" in out
    assert "composite == reference in float64" in out

    res = json.loads(j.read_text())
    seen = {(r["case"], r["dtype"]) for r in res["cases"]}
    assert seen == {(k, d) for k in CASES for d in ("float32", "float64")}
    for r in res["cases"]:
        assert set(r["impls"]) == {"ref", "tgn"}  # --no-torch
        assert r["impls"]["ref"]["ratio_ref"] == pytest.approx(1.0)
        assert r["impls"]["tgn"]["ratio_ref"] > 0 and r["floor_s"] > 0
        assert r["nodes"] >= r["nodes_full"] >= 1
        assert r["mem"]["tgn"] > 0 and r["mem"]["ref"] > 0
    assert res["chain"]["impls"]["tgn"]["us_per_op"] > 0
    assert res["mlp"]["impls"]["tgn"]["median_s"] > 0
    assert res["bandwidth"]["median"] > 0
    assert max(res["check"]["cases"].values()) < 1e-8

    md = m.read_text()
    assert md.startswith("Largest size of each case") and "| mlp |" in md
    assert md.count("| case | dtype | shape |") == 2
    assert p.read_bytes()[:8] == PNG_MAGIC


def _detached_stats_batch_norm(input, running_mean, running_var, weight=None, bias=None,
                               training=False, momentum=0.1, eps=1e-5, **kw):
    """tinygrad's old bug: statistics of a detached input. The forward is right, dx is not."""
    axes = (0,) + tuple(range(2, input.ndim))
    shape = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    xd = input.detach()
    mean = xd.mean(axis=axes, keepdims=True)
    var = xd.var(axis=axes, correction=0, keepdims=True)
    return (input - mean) * (var + eps).rsqrt() * weight.reshape(shape) + bias.reshape(shape)


def test_check_stops_a_composite_with_a_wrong_gradient(monkeypatch, capsys):
    monkeypatch.setattr(F, "batch_norm", _detached_stats_batch_norm)
    rc = main(["bench", *TINY, "--no-torch", "--cases", "bn2d"])
    captured = capsys.readouterr()
    assert rc == 1
    assert "check failed, nothing timed" in captured.err
    assert "bn2d" in captured.err and "dx does not agree" in captured.err
    assert "tgn/ref" not in captured.out  # no table


def test_check_catches_a_small_forward_error(monkeypatch):
    orig = F.layer_norm
    monkeypatch.setattr(F, "layer_norm", lambda *a, **k: orig(*a, **k) * (1.0 + 1e-6))
    with pytest.raises(GradientMismatch, match=r"ln .* float64: the composite's y"):
        run_bench(_tiny(cases=("ln",), torch=False))


def test_compare_is_relative_and_rejects_nan():
    b = {"dx": np.array([1.0, -2.0, 1e-12])}
    assert compare({"dx": b["dx"] * (1 + 1e-10)}, b)[0]
    assert compare({"dx": b["dx"] + 1e-11}, b)[0]  # entries near 0: the max|b| floor
    ok, worst, bad = compare({"dx": b["dx"] * (1 + 1e-6)}, b)
    assert not ok and bad == "dx" and worst == pytest.approx(1e-6, rel=1e-3)
    nan = np.array([np.nan, -2.0, 0.0])
    assert not compare({"dx": nan}, {"dx": nan})[0]
    assert not compare({}, b)[0]


def test_node_counts_come_from_the_composite_scope():
    for key, case in CASES.items():
        d = make_data(case, case.quick[0], np.float64)
        total, full = count_nodes(case, d)
        assert total >= full >= 1, key
    # a primitive outside the scope is not counted
    case = CASES["bn2d"]
    d = make_data(case, (8, 16), np.float64)
    n, _ = count_nodes(case, d)
    orig = F.batch_norm
    try:
        F.batch_norm = lambda *a, **k: orig(*a, **k) * 2.0
        assert count_nodes(case, d)[0] == n
    finally:
        F.batch_norm = orig


def test_runs_without_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    res = run_bench(_tiny(cases=("bn2d", "chain", "mlp"), dtypes=("float32",), memory=False))
    assert "not importable" in res["torch"]
    assert not report.torch_keys(res)
    assert set(res["mlp"]["impls"]) == {"tgn", "ref"}
    header, rows = report.table(res)
    assert not [h for h in header if "torch" in h]
    assert [r[0] for r in rows] == ["bn2d", "chain", "mlp"]


def test_with_torch_every_implementation_is_timed():
    torch = pytest.importorskip("torch")
    res = run_bench(_tiny(cases=("gn",), dtypes=("float64",), memory=False))
    keys = report.torch_keys(res)
    assert {"torch-c1", "torch-n1"} <= set(keys)
    for r in res["cases"]:
        assert set(r["impls"]) == {"ref", "tgn", *keys}
        assert set(r["tgn_vs"]) == set(keys)
    assert res["check"]["torch"]["torch-n1/gn"] < 1e-8  # information, but it does agree
    assert torch.get_num_threads() >= 1


def test_help_and_bad_arguments(capsys):
    with pytest.raises(SystemExit) as e:
        main(["bench", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for word in ("--quick", "--json", "--markdown", "--plot", "--cases", "--no-torch", "mlp"):
        assert word in out
    with pytest.raises(SystemExit) as e:
        main(["bench", "--cases", "nope"])
    assert e.value.code == 2
    with pytest.raises(SystemExit):
        main(["bench", "--json", "/no/such/dir/b.json"])
    assert "does not exist" in capsys.readouterr().err


def test_sample_time_and_plot_format_are_checked_before_timing(capsys):
    for argv, message in ((["--sample-time", "inf"], "must be a finite number > 0"),
                          (["--sample-time", "nan"], "must be a finite number > 0"),
                          (["--plot", "ratios.txt"], "the suffix picks the format"),
                          (["--json", "r.out", "--markdown", "./r.out"],
                           "--json and --markdown name the same file")):
        with pytest.raises(SystemExit) as e:
            main(["bench", *argv])
        assert e.value.code == 2
        assert message in capsys.readouterr().err


def test_repeated_cases_and_dtypes_are_timed_once(monkeypatch):
    import tinygrad_norm.bench as bench_pkg
    seen = {}

    def fake_run(opts):
        seen.update(cases=opts.cases, dtypes=opts.dtypes)
        raise bench_pkg.GradientMismatch("stop here")  # the command reports it and returns 1

    monkeypatch.setattr(bench_pkg, "run_bench", fake_run)
    assert main(["bench", "--cases", "gn", "gn", "--dtypes", "float32", "float32"]) == 1
    assert seen == {"cases": ("gn",), "dtypes": ("float32",)}


@pytest.mark.parametrize("option", ["--json", "--markdown", "--plot"])
def test_unwritable_or_empty_output_paths_are_refused_before_timing(option, tmp_path, capsys):
    bad_dir = tmp_path / "readonly"
    bad_dir.mkdir()
    (bad_dir / "r.png").mkdir()  # a directory where the file would go
    for path, message in ((str(bad_dir / "r.png"), "is a directory"), ("", "must name a file"),
                          ("/proc/r.png", "cannot be written")):
        with pytest.raises(SystemExit) as e:
            main(["bench", "--quick", option, path])
        assert e.value.code == 2
        assert message in capsys.readouterr().err


def test_a_float32_only_error_of_the_composite_stops_the_run(monkeypatch):
    """The float32 rows are timed, so they are checked too: a composite right in float64 and
    wrong in float32 was timed and reported as a valid ratio."""
    from tinygrad_norm.bench import cases
    import tinygrad_norm.functional as F
    real = F.batch_norm

    def wrong_in_float32(x, *args, **kw):
        y = real(x, *args, **kw)
        return y * 1.5 if x.dtype == np.float32 else y
    monkeypatch.setattr(F, "batch_norm", wrong_in_float32)
    with pytest.raises(cases.GradientMismatch, match="float32: the composite's"):
        cases.check_case(cases.CASES["bn2d"], (8, 16))


def test_the_floor_counts_the_parameters_of_a_norm():
    from tinygrad_norm.bench.cases import CASES, floor_bytes, nbytes
    x = nbytes((8, 16), np.float32)
    assert floor_bytes(CASES["dropout"], (8, 16), np.float32) == 4 * x
    assert floor_bytes(CASES["bn2d"], (8, 16), np.float32) == 4 * x + 4 * 16 * 4
    assert floor_bytes(CASES["rms"], (8, 16), np.float32) == 4 * x + 2 * 16 * 4
