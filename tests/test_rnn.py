"""RNN, LSTM, GRU and their cells against ``torch.nn``: torch's parameters loaded by key into ours,
then outputs and final states, and the gradients of the input, of the initial states and of every
parameter under random upstream gradients, in float64 (rtol 1e-10) and float32 (rtol 1e-5);
multi-layer, bidirectional, batch_first, unbatched, proj_size, no bias. Also gradcheck (inputs,
states and parameters) in float64, the initialization's distribution, inter-layer dropout (its
rate and train/eval behaviour: its masks cannot be torch's), a 2,000-step sequence going backward,
state-dict keys, repr and the errors."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor, nn

from conftest import assert_scaled_close  # noqa: E402

RTOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5}


def _close(actual, expected, what):
    assert_scaled_close(actual, expected, RTOL[np.asarray(actual).dtype], what)


def _pair(torch, name, args, kwargs, dtype):
    """Torch's module and ours, torch's values loaded into ours by key."""
    theirs = getattr(torch.nn, name)(*args, **kwargs).to(
        torch.float64 if dtype == np.float64 else torch.float32)
    ours = getattr(nn, name)(*args, **kwargs, dtype=dtype)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    return ours, theirs


def _flat(out):
    if isinstance(out, tuple):
        return [t for o in out for t in _flat(o)]
    return [out]


# (module, constructor args, kwargs, input shape, initial-state shapes or None)
CONFIGS = [
    ("RNN", (3, 4, 2), {"bidirectional": True}, (5, 2, 3), [(4, 2, 4)]),
    ("RNN", (3, 4), {"nonlinearity": "relu", "batch_first": True}, (2, 5, 3), None),
    ("LSTM", (3, 4, 2), {"bidirectional": True}, (5, 2, 3), [(4, 2, 4), (4, 2, 4)]),
    ("LSTM", (3, 5, 2), {"proj_size": 2, "batch_first": True}, (2, 4, 3), [(2, 2, 2), (2, 2, 5)]),
    ("LSTM", (3, 4), {"bias": False}, (5, 3), [(1, 4), (1, 4)]),
    ("GRU", (3, 4, 2), {"bidirectional": True, "batch_first": True}, (2, 5, 3), [(4, 2, 4)]),
    ("GRU", (3, 4), {"bias": False}, (5, 3), None),
    ("RNNCell", (3, 4), {}, (2, 3), [(2, 4)]),
    ("RNNCell", (3, 4), {"nonlinearity": "relu", "bias": False}, (3,), None),
    ("LSTMCell", (3, 4), {}, (2, 3), [(2, 4), (2, 4)]),
    ("LSTMCell", (3, 4), {}, (3,), None),
    ("GRUCell", (3, 4), {}, (3,), [(4,)]),
]


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, args, kwargs, x_shape, h_shapes", CONFIGS)
def test_matches_torch_forward_and_backward(torch, name, args, kwargs, x_shape, h_shapes, dtype):
    rng = np.random.default_rng(len(x_shape) + len(kwargs))
    ours, theirs = _pair(torch, name, args, kwargs, dtype)
    arrays = [rng.standard_normal(s).astype(dtype) for s in [x_shape] + (h_shapes or [])]
    mine = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    want = [torch.tensor(a, requires_grad=True) for a in arrays]

    def call(module, ts):
        if h_shapes is None:
            return module(ts[0])
        return module(ts[0], tuple(ts[1:]) if len(ts) == 3 else ts[1])

    outs, touts = _flat(call(ours, mine)), _flat(call(theirs, want))
    assert len(outs) == len(touts)
    loss, tloss = 0.0, 0.0
    for i, (o, t) in enumerate(zip(outs, touts)):
        _close(o.data, t.detach().numpy(), f"{name}: output {i}")
        g = rng.standard_normal(o.shape).astype(dtype)
        loss, tloss = loss + (o * g).sum(), tloss + (t * torch.from_numpy(g)).sum()
    loss.backward()
    tloss.backward()
    for i, (a, b) in enumerate(zip(mine, want)):
        _close(a.grad.data, b.grad.numpy(), f"{name}: gradient of input {i}")
    tparams = dict(theirs.named_parameters())
    for k, p in ours.named_parameters():
        _close(p.grad.data, tparams[k].grad.numpy(), f"{name}: gradient of {k}")


@pytest.mark.parametrize("name, args, kwargs, x_shape, n_states", [
    ("LSTM", (2, 3, 2), {"bidirectional": True}, (3, 2, 2), 2),
    ("GRU", (2, 3), {"batch_first": True}, (2, 3, 2), 1),
    ("RNN", (2, 3), {}, (3, 2), 1),
    ("LSTMCell", (2, 3), {}, (2, 2), 2),
    ("GRUCell", (2, 3), {}, (2, 2), 1),
])
def test_gradcheck_inputs_states_and_parameters(name, args, kwargs, x_shape, n_states):
    rng = np.random.default_rng(7)
    module = getattr(nn, name)(*args, **kwargs, dtype=np.float64)
    names = [k for k, _ in module.named_parameters()]
    h = _flat(module(Tensor(rng.standard_normal(x_shape))))[-1]  # h_n or h': the state's shape
    states = [rng.standard_normal(h.shape) for _ in range(n_states)]
    inputs = [Tensor(a, requires_grad=True) for a in [rng.standard_normal(x_shape)] + states]
    inputs += [Tensor(p.data.copy(), requires_grad=True) for _, p in module.named_parameters()]

    def fn(x, *rest):
        hx, params = rest[:n_states], rest[n_states:]
        for k, p in zip(names, params):  # gradcheck's float64 copies stand in for the parameters
            module._parameters[k] = p
        return _flat(module(x, hx if n_states == 2 else hx[0]))

    assert tg.gradcheck(fn, inputs)


def test_initialization_is_uniform_within_one_over_sqrt_hidden():
    tg.manual_seed(0)
    for module in (nn.LSTM(8, 64, 2, bidirectional=True), nn.GRUCell(8, 64)):
        k = 1 / math.sqrt(64)
        for name, p in module.named_parameters():
            v = p.data.ravel()
            assert p.dtype == np.float32
            assert np.abs(v).max() <= k and np.abs(v).max() > 0.9 * k, name
        v = np.concatenate([p.data.ravel() for p in module.parameters()])  # U(-k, k): var k^2/3
        assert abs(v.mean()) < 0.02 * k and abs(v.var() / (k * k / 3) - 1) < 0.02
    a = nn.GRU(3, 4)
    tg.manual_seed(0)
    b, c = nn.GRU(3, 4), nn.GRU(3, 4)
    tg.manual_seed(0)
    assert np.array_equal(nn.GRU(3, 4).weight_hh_l0.data, b.weight_hh_l0.data)
    assert not np.array_equal(a.weight_hh_l0.data, c.weight_hh_l0.data)


def test_parameter_shapes_names_and_repr_match_torch(torch):
    cases = [("LSTM", (3, 4, 2), {"bidirectional": True, "dropout": 0.1, "batch_first": True,
                                  "bias": False}),
             ("LSTM", (3, 5), {"proj_size": 2}), ("GRU", (3, 4, 3), {}),
             ("RNN", (3, 4), {"nonlinearity": "relu"}),
             ("RNNCell", (3, 4), {"nonlinearity": "relu", "bias": False}),
             ("LSTMCell", (3, 4), {}), ("GRUCell", (3, 4), {"bias": False})]
    for name, args, kwargs in cases:
        ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
        assert {k: v.shape for k, v in ours.state_dict().items()} == {
            k: tuple(v.shape) for k, v in theirs.state_dict().items()}, name
        assert repr(ours) == repr(theirs)


def _relu_stack(dropout):
    """A 2-layer relu RNN whose first layer outputs 2.0 everywhere and whose second passes its
    (dropped) input through: the output shows the inter-layer dropout mask directly."""
    m = nn.RNN(4, 4, 2, nonlinearity="relu", dropout=dropout, dtype=np.float64)
    for k, p in m.named_parameters():
        p.data[...] = 0.0
    m.bias_ih_l0.data[...] = 2.0
    m.weight_ih_l1.data[...] = np.eye(4)
    return m


def test_dropout_between_layers_rate_scale_and_eval():
    tg.manual_seed(1)
    m = _relu_stack(0.3)
    x = Tensor(np.zeros((50, 40, 4)))
    out, h = m(x)
    v = out.data
    assert set(np.unique(np.round(v, 12))) <= {0.0, round(2.0 / 0.7, 12)}
    n, dropped = v.size, int((v == 0).sum())
    assert abs(dropped - 0.3 * n) < 5 * math.sqrt(n * 0.3 * 0.7), dropped
    m.eval()
    assert np.array_equal(m(x)[0].data, np.full(v.shape, 2.0))


def test_dropout_one_matches_torch_and_last_layer_is_never_dropped(torch):
    rng = np.random.default_rng(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = _pair(torch, "LSTM", (3, 4, 2), {"dropout": 1.0}, np.float64)
    x = rng.standard_normal((5, 2, 3))
    (o, (h, c)), (to, (th, tc)) = ours(Tensor(x)), theirs(torch.tensor(x))
    for a, b in ((o, to), (h, th), (c, tc)):  # p = 1 drops everything: deterministic in both
        _close(a.data, b.detach().numpy(), "dropout=1")
    assert not np.allclose(o.data, 0)  # the last layer's output itself is not dropped
    ours.eval(), theirs.eval()
    _close(ours(Tensor(x))[0].data, theirs(torch.tensor(x))[0].detach().numpy(), "eval")


def test_two_thousand_steps_go_backward(torch):
    rng = np.random.default_rng(5)
    ours, theirs = _pair(torch, "GRU", (2, 3), {}, np.float64)
    x = rng.standard_normal((2000, 1, 2))
    xt, tx = Tensor(x.copy(), requires_grad=True), torch.tensor(x, requires_grad=True)
    ours(xt)[0].sum().backward()
    theirs(tx)[0].sum().backward()
    _close(xt.grad.data, tx.grad.numpy(), "input gradient over 2,000 steps")
    _close(ours.weight_hh_l0.grad.data, theirs.weight_hh_l0.grad.numpy(), "weight_hh_l0")


def test_float32_stays_float32():
    m = nn.LSTM(3, 4)
    x = Tensor(np.ones((2, 1, 3), np.float32), requires_grad=True)
    out, (h, c) = m(x)
    (out.sum() + c.sum()).backward()
    assert out.dtype == h.dtype == c.dtype == x.grad.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in m.parameters())


@pytest.mark.parametrize("make, exc, match", [
    (lambda: nn.RNN(3, 4, nonlinearity="foo"), ValueError, "Unknown nonlinearity 'foo'"),
    (lambda: nn.RNNCell(3, 4, nonlinearity="foo"), ValueError, "Unknown nonlinearity"),
    (lambda: nn.GRU(3, 0), ValueError, "hidden_size must be greater than zero"),
    (lambda: nn.GRU(3, 4.0), TypeError, "hidden_size should be of type int"),
    (lambda: nn.LSTM(3, 4, 0), ValueError, "num_layers must be greater than zero"),
    (lambda: nn.LSTM(3, 4, dropout=2), ValueError, r"dropout should be a number in range \[0, 1\]"),
    (lambda: nn.LSTM(3, 4, dropout="0.5"), TypeError, "dropout must be a number"),
    (lambda: nn.LSTM(3, 4, proj_size=4), ValueError, "proj_size has to be smaller"),
    (lambda: nn.RNNBase("GRU", 3, 4, proj_size=2), ValueError, "only supported for LSTM"),
    (lambda: nn.RNNBase("FOO", 3, 4), ValueError, "Unrecognized RNN mode"),
    (lambda: nn.LSTM(3, 4)(Tensor(np.ones((5, 2, 2), np.float32))), ValueError,
     r"input.size\(-1\) must be equal to input_size. Expected 3, got 2"),
    (lambda: nn.GRU(3, 4)(Tensor(np.ones((5, 2, 2, 3), np.float32))), ValueError,
     "Expected input to be 2D or 3D, got 4D instead"),
    (lambda: nn.GRU(3, 4)(Tensor(np.ones((5, 2, 3)))), TypeError, "float64"),
    (lambda: nn.GRU(3, 4)(np.ones((5, 2, 3), np.float32)), TypeError, "must be a Tensor"),
    (lambda: nn.GRU(3, 4)(Tensor(np.ones((0, 2, 3), np.float32))), ValueError, "empty"),
    (lambda: nn.GRU(3, 4)(Tensor(np.ones((5, 2, 3), np.float32)), Tensor(np.zeros((2, 2, 4),
     np.float32))), ValueError, r"Expected hx size \(1, 2, 4\), got \[2, 2, 4\]"),
    (lambda: nn.GRU(3, 4)(Tensor(np.ones((5, 3), np.float32)), Tensor(np.zeros((1, 2, 4),
     np.float32))), ValueError, "For unbatched 2-D input, hx should also be 2-D but got 3-D"),
    (lambda: nn.LSTM(3, 4)(Tensor(np.ones((5, 2, 3), np.float32)), Tensor(np.zeros((1, 2, 4),
     np.float32))), TypeError, r"hx must be a tuple \(h_0, c_0\)"),
    (lambda: nn.LSTM(3, 4)(Tensor(np.ones((5, 2, 3), np.float32)), (Tensor(np.zeros((1, 2, 4),
     np.float32)), Tensor(np.zeros((1, 3, 4), np.float32)))), ValueError,
     r"Expected hx\[1\] size \(1, 2, 4\)"),
    (lambda: nn.LSTMCell(3, 4)(Tensor(np.ones((2, 2), np.float32))), ValueError,
     "input has inconsistent input_size: got 2 expected 3"),
    (lambda: nn.GRUCell(3, 4)(Tensor(np.ones((2, 3, 3), np.float32))), ValueError,
     "Expected input to be 1D or 2D, got 3D instead"),
    (lambda: nn.LSTMCell(3, 4)(Tensor(np.ones((2, 3), np.float32)), (Tensor(np.zeros(
     (3, 4), np.float32)), Tensor(np.zeros((3, 4), np.float32)))), ValueError,
     r"Expected hx\[0\] of shape \(2, 4\)"),
    (lambda: nn.RNNCell(3, 4)(Tensor(np.ones((2, 3), np.float32)), Tensor(np.zeros((2, 4)))),
     TypeError, "hx has dtype float64"),
])
def test_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("sizes", [(0, 4), (-1, 4), (4, 0), (4, -2), (0, 0), (2.0, 4)])
def test_size_errors_match_torch(torch, cls, sizes):
    # input_size 0 used to be accepted (weights of width 0); torch checks input_size first
    with pytest.raises(Exception) as theirs:
        getattr(torch.nn, cls)(*sizes)
    with pytest.raises(type(theirs.value)) as ours:
        getattr(nn, cls)(*sizes)
    assert str(ours.value).endswith(str(theirs.value))  # ours may lead with the class name


def test_dropout_on_one_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.5)
