"""The speed survey (``tinygrad-norm bench --survey``) end to end on tiny settings, and the
structure behind the speed fixes it led to -- each of which is a performance budget a change can
silently break, so it is pinned here (never a wall-clock time): the tape nodes an LSTM/GRU step
records, the 1-D gather behind embedding, the single scratch array of an Adam step. The values
of the fixed paths are checked against torch 2.13 under random upstream gradients."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn, optim

torch = pytest.importorskip("torch")
TOL = {np.float64: 1e-10, np.float32: 1e-5}


def _nodes(y):
    """Every tape node behind ``y``, found by walking back from it."""
    seen, stack, out = set(), [y._node], []
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        out.append(node)
        stack.extend(t._node for t in node.inputs or () if isinstance(t, Tensor))
    return out


# ---- the survey --------------------------------------------------------------------------------

def test_survey_times_both_sides_and_writes_a_table(tmp_path):
    pytest.importorskip("threadpoolctl")
    from tinygrad_norm.bench import survey

    seen = []
    rows = survey.run_survey(("linear", "cross_entropy"), rounds=1, sample_time=0.001,
                             progress=lambda k, r: seen.append(k))
    assert list(rows) == seen == ["linear", "cross_entropy"]
    for r in rows.values():
        assert r["tgn_s"] > 0 and r["torch_s"] > 0 and r["ratio"] > 0
    md = survey.format_markdown(rows)
    assert md.splitlines()[0] == "| case | tgn ms | torch ms | tgn/torch |"
    assert "Linear 512->256" in md
    out = tmp_path / "s.md"
    assert survey.main(["nll_loss", "--rounds", "1", "--sample-time", "0.001",
                        "--markdown", str(out)]) == 0
    assert "nll_loss" in out.read_text()


def test_survey_rejects_an_unknown_case(capsys):
    from tinygrad_norm.bench import survey

    with pytest.raises(SystemExit):
        survey.main(["conv9d"])
    assert "unknown case(s) conv9d" in capsys.readouterr().err


def test_survey_cases_compute_the_same_shapes_on_both_sides():
    """One builder serves both libraries: each case's output has the same shape in each (the
    optimizer steps, 11.7M numbers each, are left out here)."""
    from tinygrad_norm.bench import survey
    from tinygrad_norm.bench.survey_cases import CASES

    sides = survey._tgn_namespace(), survey._torch_namespace(torch)
    for key, _, build in CASES:
        if key in ("adam", "adamw", "sgd_momentum"):
            continue
        shapes = []
        for L in sides:
            leaves, fwd = build(L, np.random.default_rng(0))
            shapes.append(tuple(fwd().shape))
        assert shapes[0] == shapes[1], key


def test_resnet18_has_its_62_parameter_tensors():
    from tinygrad_norm.bench.survey_cases import resnet18_shapes

    shapes = resnet18_shapes()
    assert len(shapes) == 62
    assert sum(int(np.prod(s)) for s in shapes) == 11_689_512  # torchvision's resnet18


# ---- recurrent layers: tape nodes per time step -------------------------------------------------

def _nodes_per_step(module):
    tg.manual_seed(0)
    counts = [len(_nodes(module(tg.randn(steps, 3, 8))[0])) for steps in (10, 20)]
    return (counts[1] - counts[0]) // 10


def test_an_lstm_direction_records_no_node_per_step():
    # one lstm_sequence node for the whole direction (16 a step with the per-gate composite,
    # 4 with the fused cells)
    assert _nodes_per_step(nn.LSTM(8, 16)) == 0


def test_gru_step_records_four_nodes():
    # the step's slice of gx, h @ W_hh^T, + b_hh, gru_cell (18 with the composite cell)
    assert _nodes_per_step(nn.GRU(8, 16)) == 4


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_recurrent_layers_match_torch(mode, dtype):
    rng = np.random.default_rng(1)
    ours = getattr(nn, mode)(5, 7, num_layers=2, bidirectional=True)
    theirs = getattr(torch.nn, mode)(5, 7, num_layers=2, bidirectional=True).to(
        torch.float64 if dtype == np.float64 else torch.float32)
    with torch.no_grad():
        for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
            v = rng.standard_normal(p.shape).astype(dtype) * 0.5
            p.data = v.copy()
            q.copy_(torch.from_numpy(v))
    x = rng.standard_normal((6, 4, 5)).astype(dtype)
    xo, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo)[0], theirs(xt)[0]
    up = rng.standard_normal(yt.shape).astype(dtype)
    yo.backward(Tensor(up))
    yt.backward(torch.from_numpy(up))
    tol = TOL[dtype]
    np.testing.assert_allclose(yo.data, yt.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), rtol=tol, atol=tol)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=tol, atol=tol)


# ---- embedding: one flat gather -----------------------------------------------------------------

def test_embedding_gathers_through_a_one_dimensional_index():
    """A multi-dimensional index sent the backward to np.add.at (4x torch's time); the flat one
    takes the sorted-runs scatter."""
    w = Tensor(np.ones((50, 4), np.float32), requires_grad=True)
    gathers = [n for n in _nodes(F.embedding(Tensor(np.zeros((3, 5), np.int64)), w))
               if n.name == "getitem"]
    assert len(gathers) == 1
    index = gathers[0].kw["index"]
    assert [np.ndim(i) for i in (index if isinstance(index, tuple) else (index,))] == [1]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(32, 64), (3, 4, 5), (7,), (), (0, 3)])
def test_embedding_matches_torch_with_many_repeats(dtype, shape):
    rng = np.random.default_rng(2)
    w = rng.standard_normal((20, 6)).astype(dtype)  # 2,048 lookups of 20 rows: ~100 repeats
    idx = rng.integers(0, 20, shape)
    wo, wt = Tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    yo, yt = F.embedding(Tensor(idx), wo), torch.nn.functional.embedding(torch.tensor(idx), wt)
    assert yo.shape == tuple(yt.shape)
    up = rng.standard_normal(yt.shape).astype(dtype)
    yo.backward(Tensor(up))
    yt.backward(torch.from_numpy(up))
    tol = TOL[dtype] * 10  # float32: sums of ~100 rows, in different orders
    np.testing.assert_allclose(yo.data, yt.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(wo.grad.data, wt.grad.numpy(), rtol=tol, atol=tol)


def test_embedding_gradchecks():
    rng = np.random.default_rng(3)
    idx = Tensor(rng.integers(0, 5, (3, 4)))
    w = Tensor(rng.standard_normal((5, 2)), requires_grad=True)
    assert tg.gradcheck(lambda w: F.embedding(idx, w), (w,))
    assert tg.gradgradcheck(lambda w: F.embedding(idx, w) ** 2, (w,))


# ---- embedding_bag: bags of one length ------------------------------------------------------------

def test_embedding_bag_of_equal_bags_sums_over_an_axis():
    w = Tensor(np.ones((50, 4), np.float32), requires_grad=True)
    names = {n.name for n in _nodes(F.embedding_bag(Tensor(np.zeros((3, 5), np.int64)), w))}
    assert "sum" in names and "index_add" not in names, names


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kw", [dict(mode="mean"), dict(mode="sum"), dict(mode="max"),
                                dict(mode="sum", psw=True), dict(mode="mean", padding_idx=3),
                                dict(mode="mean", max_norm=1.0)])
def test_embedding_bag_2d_matches_torch(dtype, kw):
    rng = np.random.default_rng(4)
    kw = dict(kw)
    psw = rng.standard_normal((6, 5)).astype(dtype) if kw.pop("psw", False) else None
    w = rng.standard_normal((10, 3)).astype(dtype)
    idx = rng.integers(0, 10, (6, 5))
    wo, wt = Tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    yo = F.embedding_bag(Tensor(idx), wo, per_sample_weights=None if psw is None else Tensor(psw),
                         **kw)
    yt = torch.nn.functional.embedding_bag(
        torch.tensor(idx), wt, per_sample_weights=None if psw is None else torch.tensor(psw), **kw)
    up = rng.standard_normal(yt.shape).astype(dtype)
    yo.backward(Tensor(up))
    yt.backward(torch.from_numpy(up))
    tol = TOL[dtype]
    np.testing.assert_allclose(yo.data, yt.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(wo.grad.data, wt.grad.numpy(), rtol=tol, atol=tol)


# ---- Adam: one scratch array per step -----------------------------------------------------------

@pytest.mark.parametrize("cls,kw,budget", [
    (optim.Adam, dict(), 1), (optim.Adam, dict(amsgrad=True), 1),
    (optim.Adam, dict(weight_decay=0.1), 2),  # g + wd * p is a second array
    (optim.AdamW, dict(weight_decay=0.1, amsgrad=True), 1)])
def test_adam_step_needs_one_parameter_sized_scratch(cls, kw, budget):
    """Peak memory of a step in units of the parameter's size: was 3 (4 with L2 decay)."""
    p = nn.Parameter(Tensor(np.ones(1 << 18, np.float32)))
    p.grad = Tensor(np.full(1 << 18, 0.5, np.float32))
    opt = cls([p], lr=1e-3, **kw)
    opt.step()  # the state's buffers are allocated on the first step
    tracemalloc.start()
    try:
        opt.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < (budget + 0.5) * p.data.nbytes, peak / p.data.nbytes


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("kw", [dict(), dict(amsgrad=True), dict(weight_decay=0.1),
                                dict(maximize=True, weight_decay=0.01)])
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_steps_match_torch(dtype, kw, name):
    rng = np.random.default_rng(5)
    shapes = [(3, 4), (), (5,)]
    start = [rng.standard_normal(s).astype(dtype) for s in shapes]
    ours = [nn.Parameter(Tensor(v.copy())) for v in start]
    theirs = [torch.nn.Parameter(torch.tensor(v.copy())) for v in start]
    o, t = getattr(optim, name)(ours, lr=0.01, **kw), getattr(torch.optim, name)(theirs, lr=0.01,
                                                                                   **kw)
    for _ in range(3):
        for a, b in zip(ours, theirs):
            g = rng.standard_normal(a.shape).astype(dtype)
            a.grad, b.grad = Tensor(g), torch.tensor(g)
        with np.errstate(divide="ignore", invalid="ignore"):  # float16: eps=1e-8 rounds to 0
            o.step()
        t.step()
    tol = {np.float64: 1e-12, np.float32: 1e-6, np.float16: 2e-3}[dtype]
    for a, b in zip(ours, theirs):
        assert a.data.dtype == dtype
        # float16: moments that underflow to 0 over an eps that rounds to 0 give 0/0, NaN in both
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=tol, atol=tol,
                                   equal_nan=dtype == np.float16)


def test_bench_command_runs_the_survey(tmp_path, capsys):
    pytest.importorskip("threadpoolctl")
    from tinygrad_norm.cli import main

    out = tmp_path / "survey.md"
    assert main(["bench", "--survey", "--survey-cases", "mse", "--rounds", "1",
                 "--sample-time", "0.001", "--markdown", str(out)]) == 0
    assert "mse_loss, 64x1000" in capsys.readouterr().out
    assert out.read_text().startswith("| case | tgn ms | torch ms | tgn/torch |")


@pytest.mark.parametrize("argv,message", [
    (["--survey", "--survey-cases", "nope"], "unknown case(s) nope"),
    (["--survey-cases", "mse"], "--survey-cases needs --survey"),
    (["--survey", "--json", "x.json"], "--json does not apply"),
    (["--survey", "--no-torch"], "--no-torch does not apply")])
def test_bench_survey_refuses_what_does_not_apply(argv, message, capsys):
    from tinygrad_norm.cli import main

    with pytest.raises(SystemExit) as e:
        main(["bench", *argv])
    assert e.value.code == 2
    assert message in capsys.readouterr().err
