"""The two measurements beside the normalization cases:

* ``chain``: the engine's overhead per op -- 200 elementwise ops (i % 3: ``+ a``, ``* c``,
  ``tanh``) on a (4, 4) float64 tensor, forward + backward; microseconds per op. The reference is
  the same chain forward and backward by hand in NumPy.
* ``mlp``: one training step, batch 64, 64-128-128-10, Linear (no bias) -> batch norm -> ReLU ->
  dropout(0.2) twice, then Linear, softmax cross-entropy, SGD (lr 0.05): ``build_model("mlp")``
  and ``optim.SGD``, against the same network by hand with ``reference.py``'s batch norm and
  dropout, and against PyTorch's fused modules (one thread) when torch is importable.

Each checks the composite against its reference in float64 first (rtol 1e-8), as the cases do;
the MLP check draws the same dropout masks on both sides from one seed.
"""
from __future__ import annotations

import numpy as np

from .cases import CHECK_RTOL, GradientMismatch, Impl, Prepared, compare

CHAIN_LEN = 200
CHAIN_SHAPE = (4, 4)

MLP_BATCH, MLP_IN, MLP_HIDDEN, MLP_CLASSES = 64, 64, (128, 128), 10
MLP_P, MLP_LR, MLP_MOMENTUM, MLP_EPS = 0.2, 0.05, 0.1, 1e-5


# ---- the 200-op chain ---------------------------------------------------------------------------

def chain_data(seed=0):
    rng = np.random.default_rng(seed)
    return dict(x=rng.standard_normal(CHAIN_SHAPE), a=rng.standard_normal(CHAIN_SHAPE) * 0.1,
                c=rng.uniform(0.5, 1.5, CHAIN_SHAPE), dy=rng.standard_normal(CHAIN_SHAPE))


def _chain(h, a, c):
    for i in range(CHAIN_LEN):
        r = i % 3
        h = h + a if r == 0 else (h * c if r == 1 else h.tanh())
    return h


class ChainComposite(Impl):
    key, label = "tgn", "tinygrad_norm tape"

    def prepare(self, d):
        from ..tensor import Tensor

        x = Tensor(d["x"], requires_grad=True)
        a, c, dy = Tensor(d["a"]), Tensor(d["c"]), d["dy"]

        def release():
            x.grad = None

        def step():
            release()
            _chain(x, a, c).backward(dy)
            return x.grad

        return Prepared(step, lambda g: dict(dx=g.data), release)


class ChainReference(Impl):
    key, label = "ref", "NumPy by hand"

    def prepare(self, d):
        x, a, c, dy = d["x"], d["a"], d["c"], d["dy"]

        def step():
            h, saved = x, []
            for i in range(CHAIN_LEN):
                r = i % 3
                if r == 0:
                    h = h + a
                elif r == 1:
                    h = h * c
                else:
                    h = np.tanh(h)
                    saved.append(h)
            g = dy
            for i in range(CHAIN_LEN - 1, -1, -1):
                r = i % 3
                if r == 1:
                    g = g * c
                elif r == 2:
                    y = saved.pop()
                    g = g * (1.0 - y * y)
            return g

        return Prepared(step, lambda g: dict(dx=g))


class ChainTorch(Impl):
    key = "torch-c1"

    def __init__(self, torch):
        self.torch = torch
        self.label = f"PyTorch {torch.__version__} autograd, 1 thread"

    def enter(self):
        if self.torch.get_num_threads() != 1:
            self.torch.set_num_threads(1)
            return True
        return False

    def prepare(self, d):
        t = self.torch
        x = t.tensor(d["x"], requires_grad=True)
        a, c, dy = t.tensor(d["a"]), t.tensor(d["c"]), t.tensor(d["dy"])

        def release():
            x.grad = None

        def step():
            release()
            _chain(x, a, c).backward(dy)
            return x.grad

        return Prepared(step, lambda g: dict(dx=g.numpy()), release)


def check_chain(d):
    got = ChainComposite().prepare(d)
    want = ChainReference().prepare(d)
    ok, worst, _ = compare(got.outputs(got.step()), want.outputs(want.step()))
    if not ok:
        raise GradientMismatch(f"chain: the tape's gradient does not agree with the hand-written "
                               f"one (rtol {CHECK_RTOL:g}; relative difference {worst:.3g})")
    return worst


# ---- the MLP training step ----------------------------------------------------------------------

PARAM_NAMES = ("W1", "g1", "be1", "W2", "g2", "be2", "W3", "b3")


def mlp_data(seed=0):
    rng = np.random.default_rng(seed)
    return dict(X=rng.random((MLP_BATCH, MLP_IN), dtype=np.float32),
                labels=rng.integers(0, MLP_CLASSES, MLP_BATCH))


def build_net(dtype, seed=0):
    """The project's MLP (``models.build_model``), its parameters in PARAM_NAMES order."""
    from .. import random as _random
    from ..models import build_model

    _random.manual_seed(seed)
    net = build_model("mlp", norm="batch", dropout=MLP_P, in_shape=(MLP_IN,),
                      num_classes=MLP_CLASSES, hidden=MLP_HIDDEN, dtype=dtype)
    params = [p for _, p in net.named_parameters()]
    if len(params) != len(PARAM_NAMES):
        raise RuntimeError(f"build_model('mlp') has {len(params)} parameters, expected "
                           f"{len(PARAM_NAMES)} ({', '.join(PARAM_NAMES)})")
    return net, params


class MlpComposite(Impl):
    key, label = "tgn", "tinygrad_norm (build_model + optim.SGD)"

    def prepare(self, d, dtype=np.float32, seed=None, update=True):
        from .. import optim
        from .. import random as _random
        from ..functional import cross_entropy
        from ..tensor import Tensor

        net, params = build_net(dtype)
        self.net, self.params = net, params
        opt = optim.SGD(params, lr=MLP_LR)
        X, y = Tensor(d["X"].astype(dtype)), Tensor(d["labels"])

        def step():
            if seed is not None:
                _random.manual_seed(seed)
            opt.zero_grad()
            loss = cross_entropy(net(X), y)
            loss.backward()
            grads = [p.grad.data for p in params]
            if update:
                opt.step()
            return loss.item(), grads

        def outputs(out):
            loss, grads = out
            r = {"loss": np.array(loss)}
            r.update(zip(PARAM_NAMES, grads))
            return r

        return Prepared(step, outputs)


class MlpReference(Impl):
    key, label = "ref", "NumPy by hand with reference.py"

    def prepare(self, d, params, dtype=np.float32, seed=None, update=True):
        from .. import reference as R

        P = {k: np.array(p, dtype=dtype) for k, p in zip(PARAM_NAMES, params)}
        H1, H2 = MLP_HIDDEN
        run = dict(rm1=np.zeros(H1, dtype), rv1=np.ones(H1, dtype),
                   rm2=np.zeros(H2, dtype), rv2=np.ones(H2, dtype))
        X, labels = d["X"].astype(dtype), d["labels"]
        N = X.shape[0]
        rows = np.arange(N)
        rng = np.random.default_rng()
        m = MLP_MOMENTUM

        def bn(h, g, b, i):
            out, cache = R.batch_norm_forward(h, g, b, MLP_EPS)
            rm, rv = run[f"rm{i}"], run[f"rv{i}"]
            rm *= 1.0 - m
            rm += m * cache["mean"]
            rv *= 1.0 - m
            rv += (m * N / (N - 1)) * cache["var"]
            return out, cache

        def step():
            r = rng if seed is None else np.random.default_rng(seed)
            h1 = X @ P["W1"].T
            o1, c1 = bn(h1, P["g1"], P["be1"], 1)
            k1 = o1 > 0
            a1, dc1 = R.dropout_forward(o1 * k1, MLP_P, rng=r)
            h2 = a1 @ P["W2"].T
            o2, c2 = bn(h2, P["g2"], P["be2"], 2)
            k2 = o2 > 0
            a2, dc2 = R.dropout_forward(o2 * k2, MLP_P, rng=r)
            z = a2 @ P["W3"].T + P["b3"]
            z -= z.max(axis=1, keepdims=True)
            e = np.exp(z)
            s = e.sum(axis=1, keepdims=True)
            loss = float(np.log(s[:, 0]).mean() - z[rows, labels].mean())
            dz = e / s
            dz[rows, labels] -= 1.0
            dz *= 1.0 / N
            G = dict(W3=dz.T @ a2, b3=dz.sum(axis=0))
            g = R.dropout_backward(dz @ P["W3"], dc2) * k2
            dh2, G["g2"], G["be2"] = R.batch_norm_backward(g, c2)
            G["W2"] = dh2.T @ a1
            g = R.dropout_backward(dh2 @ P["W2"], dc1) * k1
            dh1, G["g1"], G["be1"] = R.batch_norm_backward(g, c1)
            G["W1"] = dh1.T @ X
            grads = [G[k] for k in PARAM_NAMES]
            if update:
                for k, gk in zip(PARAM_NAMES, grads):
                    P[k] -= MLP_LR * gk
            return loss, grads

        def outputs(out):
            loss, grads = out
            r = {"loss": np.array(loss)}
            r.update(zip(PARAM_NAMES, grads))
            return r

        return Prepared(step, outputs)


class MlpTorchFused(Impl):
    key = "torch-n1"

    def __init__(self, torch):
        self.torch = torch
        self.label = f"PyTorch {torch.__version__} nn modules (fused kernels), 1 thread"

    def enter(self):
        if self.torch.get_num_threads() != 1:
            self.torch.set_num_threads(1)
            return True
        return False

    def prepare(self, d, params):
        t = self.torch
        nn = t.nn
        H1, H2 = MLP_HIDDEN
        net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(MLP_IN, H1, bias=False), nn.BatchNorm1d(H1, eps=MLP_EPS), nn.ReLU(),
            nn.Dropout(MLP_P),
            nn.Linear(H1, H2, bias=False), nn.BatchNorm1d(H2, eps=MLP_EPS), nn.ReLU(),
            nn.Dropout(MLP_P),
            nn.Linear(H2, MLP_CLASSES))
        with t.no_grad():
            for p, v in zip(net.parameters(), params):
                p.copy_(t.from_numpy(np.array(v, dtype=np.float32)))
        net.train()
        opt = t.optim.SGD(net.parameters(), lr=MLP_LR)
        X, y = t.from_numpy(d["X"]), t.from_numpy(d["labels"])
        ce = t.nn.functional.cross_entropy

        def step():
            opt.zero_grad()
            loss = ce(net(X), y)
            loss.backward()
            opt.step()
            return loss.item()

        return Prepared(step, lambda out: {"loss": np.array(out)})


def check_mlp(d, seed=0):
    """The composite MLP's loss and eight gradients against the hand-written one, float64, the
    same weights and the same dropout masks (one seed on both sides)."""
    comp = MlpComposite()
    got = comp.prepare(d, dtype=np.float64, seed=seed, update=False)
    params = [p.data for p in comp.params]
    want = MlpReference().prepare(d, params, dtype=np.float64, seed=seed, update=False)
    ok, worst, bad = compare(got.outputs(got.step()), want.outputs(want.step()))
    if not ok:
        raise GradientMismatch(f"mlp: the composite network's {bad} does not agree with the "
                               f"hand-written one (rtol {CHECK_RTOL:g}; relative difference "
                               f"{worst:.3g})")
    return worst
