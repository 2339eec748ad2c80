"""Anomaly detection (tinygrad_norm/anomaly_mode.py) against torch.autograd.detect_anomaly: the
same errors for the same NaN-producing backward, the forward stack of the failing node, the mode
switches and their argument checks, and nothing at all while the mode is off."""
import re
import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import autograd
from tinygrad_norm.autograd import Node

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's, on log(0) & co

_ON = "Anomaly Detection has been enabled"


@pytest.fixture(autouse=True)
def _mode_off():
    yield
    tg.set_anomaly_enabled(False)
    torch.set_anomaly_enabled(False)


def _backward_error(lib, build, x0, **kw):
    """The RuntimeError text (or None) and the warnings of ``build(x).backward()`` inside the
    library's detect_anomaly."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x = (torch.tensor(x0, dtype=torch.float64, requires_grad=True) if lib is torch
             else tg.tensor(np.array(x0, np.float64), requires_grad=True))
        with lib.autograd.detect_anomaly(**kw):
            out = build(x)
            try:
                out.backward()
                err = None
            except RuntimeError as e:
                err = str(e)
    return err, [str(w.message) for w in caught], x


CASES = {
    "log_times_zero": (lambda x: (x.log() * 0).sum(), [0.0, 1.0]),
    "sqrt_times_zero": (lambda x: (x.sqrt() * 0).sum(), [0.0, 4.0]),
    "mul_by_inf": (lambda x: (x * float("inf") * 0).sum(), [1.0, 2.0]),
    "div_zero_by_zero": (lambda x: ((x * 0) / x).sum(), [0.0, 2.0]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_nan_in_a_vjp_is_torch_error(case):
    build, x0 = CASES[case]
    ours, warned, _ = _backward_error(tg, build, x0)
    theirs, _, _ = _backward_error(torch, build, x0)
    assert theirs is not None and ours == theirs
    assert any(_ON in w for w in warned)
    assert any(w.startswith("Error detected in") and __file__ in w for w in warned)


def test_check_nan_false_lets_nan_through_as_torch():
    build, x0 = CASES["log_times_zero"]
    ours, _, x = _backward_error(tg, build, x0, check_nan=False)
    theirs, _, xt = _backward_error(torch, build, x0, check_nan=False)
    assert ours is None and theirs is None
    np.testing.assert_array_equal(np.isnan(x.grad.numpy()), np.isnan(xt.grad.numpy()))


def test_off_nothing_is_checked_or_recorded():
    x = tg.tensor([0.0, 1.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        y = (x.log() * 0).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning from backward at all
        y.backward()
    assert np.isnan(x.grad.numpy()[0])
    assert Node.__init__ is autograd._plain_init and not hasattr(y._node, "trace")
    assert autograd._anomaly is None


def test_the_warning_shows_the_forward_line_and_the_composite():
    x = tg.tensor(np.array([[0.0, 1.0], [2.0, 3.0]]), requires_grad=True)
    w = tg.tensor(np.array([1.0, np.nan]), requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with tg.autograd.detect_anomaly():
            y = F.layer_norm(x, (2,), w)  # the line the report must name
            line = __import__("inspect").currentframe().f_lineno - 1
            with pytest.raises(RuntimeError, match="returned nan values in its 0th output"):
                y.sum().backward()
    report = [str(c.message) for c in caught if str(c.message).startswith("Error detected")]
    assert len(report) == 1
    assert "(in layer_norm)" in report[0]
    assert f'File "{__file__}", line {line}' in report[0]


def test_an_exception_in_a_backward_is_reported_then_raised():
    def make(lib):
        class Boom(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                raise ValueError("boom")
        return Boom

    for lib in (tg, torch):
        Boom = make(lib)
        x = lib.tensor([1.0], requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with lib.autograd.detect_anomaly():
                y = Boom.apply(x)
                with pytest.raises(ValueError, match="boom"):
                    y.sum().backward()
        assert any(str(c.message).startswith("Error detected in BoomBackward") for c in caught)


def test_an_exception_with_the_mode_off_is_not_reported():
    x = tg.tensor([1.0], requires_grad=True)
    y = x.log()
    y.sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeError, match="second time"):
            y.sum().backward()  # the graph is freed: an error, no anomaly report


def test_a_node_recorded_before_the_mode_has_no_stack():
    x = tg.tensor([0.0, 1.0], requires_grad=True)
    y = (x.log() * 0).sum()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with tg.autograd.detect_anomaly():
            with pytest.raises(RuntimeError, match="MulBackward0|LogBackward0"):
                y.backward()
    assert any("recorded before anomaly detection" in str(c.message) for c in caught)


def test_double_backward_nan_is_caught_as_torch():
    def run(lib):
        x = lib.tensor([0.0, 1.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.autograd.detect_anomaly():
                (g,) = lib.autograd.grad((x ** 1.5).sum(), x, create_graph=True)
                try:
                    (g.sqrt() * 0).sum().backward()
                except RuntimeError as e:
                    return str(e)
    theirs = run(torch)
    assert theirs is not None and run(tg) == theirs


def test_grad_checks_too():
    x = tg.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with tg.autograd.detect_anomaly():
            with pytest.raises(RuntimeError, match="Function 'LogBackward0' returned nan"):
                tg.grad((x.log() * 0).sum(), [x])


def test_switches_and_their_restores_match_torch():
    for lib in (tg, torch):
        seen = [lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()]
        with lib.autograd.set_detect_anomaly(True, check_nan=False):
            seen += [lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()]
        seen += [lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()]
        lib.autograd.set_detect_anomaly(True, False)  # a plain call sets it at once
        seen += [lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()]
        lib.autograd.set_detect_anomaly(False)
        seen += [lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()]
        with pytest.raises(KeyError):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with lib.autograd.detect_anomaly():
                    seen.append(lib.is_anomaly_enabled())
                    raise KeyError("the block fails")
        seen.append(lib.is_anomaly_enabled())
        if lib is tg:
            ours = seen
    assert ours == seen
    assert Node.__init__ is autograd._plain_init  # the plain one is back


@pytest.mark.parametrize("call", [
    lambda lib: lib.set_anomaly_enabled("yes"),
    lambda lib: lib.set_anomaly_enabled(True, 1),
    lambda lib: lib.autograd.set_detect_anomaly(1),
    lambda lib: lib.autograd.detect_anomaly(check_nan="yes").__enter__(),
])
def test_non_bool_arguments_are_torch_type_errors(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TypeError) as theirs:
            call(torch)
        with pytest.raises(TypeError) as ours:
            call(tg)
    assert str(ours.value) == str(theirs.value)
    assert not tg.is_anomaly_enabled()


def test_mlp_step_is_unchanged_under_the_mode():
    """The mode only watches: the same gradients, bit for bit, as without it."""
    rng = np.random.default_rng(0)
    X, W = rng.standard_normal((8, 4)), rng.standard_normal((4, 6))

    def grads():
        w = tg.tensor(W, requires_grad=True)
        h = F.batch_norm(tg.tensor(X) @ w, None, None, training=True)
        (F.relu(h) ** 2).sum().backward()
        return w.grad.numpy()

    plain = grads()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with tg.autograd.detect_anomaly():
            watched = grads()
    np.testing.assert_array_equal(plain, watched)


def _report(build):
    """The 'Error detected' warning text of ``build()``'s backward under detect_anomaly()."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with tg.autograd.detect_anomaly():
            y = build()
            with pytest.raises(RuntimeError, match="returned nan values"):
                y.backward(tg.tensor(np.ones(y.shape)))
    return next(str(c.message) for c in caught if str(c.message).startswith("Error detected"))


def _last_frame(report):
    return re.findall(r'File "([^"]+)", line (\d+), in (\S+)', report)[-1]


def test_the_trace_ends_at_the_callers_line_not_in_the_tensor_machinery():
    # sqrt(0) under a zero upstream weight: 0 * inf = NaN in SqrtBackward. The trace used to end
    # inside tensor.py (Tensor.sqrt, apply, _make); torch's ends at the line calling the op.
    x = tg.tensor(np.array([0.0, 1.0]), requires_grad=True)
    report = _report(lambda: x.sqrt() * tg.tensor(np.array([0.0, 1.0])))
    assert _last_frame(report)[0] == __file__ and _last_frame(report)[2] == "<lambda>"
    assert "tensor.py" not in report


def test_the_trace_keeps_the_composites_own_line():
    # a primitive recorded by a functional composite: the trace ends at functional's line
    z = tg.tensor(np.array([[0.0, 800.0]]), requires_grad=True)
    report = _report(lambda: F.softmax(z, dim=1)[:, :1].log())
    path, _, fn = _last_frame(report)
    assert path.replace("\\", "/").endswith("tinygrad_norm/functional/activation.py")
    assert fn == "softmax"


def test_a_node_with_a_post_hook_keeps_its_name():
    """A grad_fn post hook wraps the node's op; the report still names the op (torch's name)."""
    x = tg.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with tg.autograd.detect_anomaly():
            y = x.log()
            y.grad_fn.register_hook(lambda gi, go: None)
            with pytest.raises(RuntimeError, match="^Function 'LogBackward0' returned nan"):
                (y * 0).sum().backward()
