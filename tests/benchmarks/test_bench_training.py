"""One training step (forward, cross-entropy, backward, SGD update) of the ``train`` command's
models, tinygrad_norm against the same model in PyTorch eager, in one run, both on one thread
(NumPy's BLAS limited with threadpoolctl, torch with ``set_num_threads(1)``).

    python -m pytest tests/benchmarks/test_bench_training.py --benchmark-enable

Cases, grouped so that pytest-benchmark prints the two implementations side by side:

* ``mlp``: batch 64, 64-128-128-10, batch norm + ReLU + dropout(0.2) after each hidden Linear.
* ``cnn``: batch 64 of 1x8x8 images, conv3x3(16)-BN-ReLU-maxpool, conv3x3(32)-BN-ReLU-maxpool,
  flatten, dropout(0.2), Linear(128, 10).

Both implementations start from the same weights (copied from the tinygrad_norm model); their
eval-mode outputs are checked to agree before anything is timed.
"""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import optim
from tinygrad_norm.models import build_model

BATCH = 64
DROPOUT = 0.2
LR = 0.01


def _data(model):
    rng = np.random.default_rng(0)
    shape = (BATCH, 64) if model == "mlp" else (BATCH, 1, 8, 8)
    return rng.random(shape, dtype=np.float32), rng.integers(0, 10, BATCH)


def _tg_step(model):
    tg.manual_seed(0)
    net = build_model(model, norm="batch", dropout=DROPOUT)
    opt = optim.SGD(net.parameters(), lr=LR, momentum=0.9)
    X, y = _data(model)
    xb, yb = tg.Tensor(X), tg.Tensor(y)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(net(xb), yb)
        loss.backward()
        opt.step()
        return loss.item()

    return net, step


def _torch_model(torch, model):
    nn = torch.nn
    if model == "mlp":
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(64, 128, bias=False), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(DROPOUT),
            nn.Linear(128, 128, bias=False), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(DROPOUT),
            nn.Linear(128, 10))
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(DROPOUT), nn.Linear(128, 10))


def _torch_copy(torch, model, tg_net):
    """The PyTorch twin of ``tg_net``, holding the same weights."""
    torch.manual_seed(0)
    net = _torch_model(torch, model)
    state = {k: torch.from_numpy(np.array(v.numpy())) for k, v in tg_net.state_dict().items()}
    missing, unexpected = net.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing)
    # same weights, same input: the eval-mode forward (no dropout mask) agrees
    X, _ = _data(model)
    net.eval()
    with torch.no_grad():
        ours = tg_net.eval()(tg.Tensor(X)).numpy()
        np.testing.assert_allclose(ours, net(torch.from_numpy(X)).numpy(), rtol=1e-4, atol=1e-5)
    tg_net.train()
    return net.train()


def _torch_step(torch, model, tg_net):
    net = _torch_copy(torch, model, tg_net)
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=0.9)
    X, y = _data(model)
    xb, yb = torch.from_numpy(X), torch.from_numpy(y)
    loss_fn = torch.nn.functional.cross_entropy

    def step():
        opt.zero_grad()
        loss = loss_fn(net(xb), yb)
        loss.backward()
        opt.step()
        return loss.item()

    return step


@pytest.fixture(autouse=True)
def one_blas_thread():
    """NumPy's BLAS on one thread, as torch (and as the train command runs)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.mark.parametrize("model", ["mlp", "cnn"])
@pytest.mark.parametrize("impl", ["tinygrad_norm", "torch"])
def test_train_step(benchmark, request, model, impl):
    """torch runs with one thread (the ``torch`` fixture sets it); without torch only its side
    is skipped."""
    benchmark.group = f"train step, {model}, batch {BATCH}"
    benchmark.extra_info.update(model=model, impl=impl)
    tg_net, step = _tg_step(model)
    if impl == "torch":
        step = _torch_step(request.getfixturevalue("torch"), model, tg_net)
    loss = benchmark(step)
    assert np.isfinite(loss)
