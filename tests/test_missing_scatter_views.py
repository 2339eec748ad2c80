"""select_scatter, slice_scatter and diagonal_scatter against torch: values and the gradients of
input and src under a random upstream gradient (float64 exact, float32), negative dims and
indices, steps, offsets, batched diagonals, empty slices; gradcheck and gradgradcheck; torch's
errors."""
from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_norm as tg

from conftest import gradchecks, torch_parity

R = np.random.default_rng(0)
X = R.standard_normal((3, 4, 5))

CASES = {
    "select-1": (X, R.standard_normal((3, 5)), lambda m, x, s: m.select_scatter(x, s, 1, 2)),
    "select-neg": (X, R.standard_normal((3, 4)), lambda m, x, s: m.select_scatter(x, s, -1, -2)),
    "select-0d": (R.standard_normal(4), np.array(2.5),
                  lambda m, x, s: m.select_scatter(x, s, 0, 1)),
    "slice-step": (X, R.standard_normal((3, 2, 5)),
                   lambda m, x, s: m.slice_scatter(x, s, 1, 1, None, 2)),
    "slice-default": (X, R.standard_normal((3, 4, 5)), lambda m, x, s: m.slice_scatter(x, s)),
    "slice-end": (X, R.standard_normal((3, 4, 2)),
                  lambda m, x, s: m.slice_scatter(x, s, -1, -3, -1)),
    "slice-empty": (X, np.zeros((3, 0, 5)), lambda m, x, s: m.slice_scatter(x, s, 1, 5, 9)),
    "diag": (R.standard_normal((4, 4)), R.standard_normal(4),
             lambda m, x, s: m.diagonal_scatter(x, s)),
    "diag-offset": (X, R.standard_normal((5, 3)),
                    lambda m, x, s: m.diagonal_scatter(x, s, 1, 0, 1)),
    "diag-negative-offset": (X, R.standard_normal((3, 4)),
                             lambda m, x, s: m.diagonal_scatter(x, s, -1, 2, 1)),
    "diag-far": (R.standard_normal((2, 3)), np.zeros(0),
                 lambda m, x, s: m.diagonal_scatter(x, s, 5)),
}


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 0.0), (np.float32, 0.0)])
@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(torch, name, dtype, rtol):
    x, s, call = CASES[name]
    torch_parity(torch, lambda a, b: call(tg, a, b), lambda a, b: call(torch, a, b), [x, s],
                 dtype, rtol)


@pytest.mark.parametrize("name", ["select-neg", "slice-step", "diag-offset"])
def test_gradchecks(name):
    x, s, call = CASES[name]
    gradchecks(lambda a, b: call(tg, a, b) ** 2, [x, s])


BAD = [(lambda m, x: m.select_scatter(x, m.ones(3, 4, dtype=x.dtype), 1, 0)),
       (lambda m, x: m.slice_scatter(x, m.ones(3, 3, 5, dtype=x.dtype), 1)),
       (lambda m, x: m.diagonal_scatter(x, m.ones(5, 2, dtype=x.dtype)))]


@pytest.mark.parametrize("call", BAD)
def test_size_errors_are_torchs(torch, call):
    with pytest.raises(RuntimeError) as theirs:
        call(torch, torch.from_numpy(X.copy()))
    with pytest.raises(ValueError, match="^" + re.escape(str(theirs.value)) + "$"):
        call(tg, tg.tensor(X))


def test_index_and_dim_errors(torch):
    with pytest.raises(IndexError) as theirs:
        torch.select_scatter(torch.from_numpy(X.copy()), torch.ones(3, 5, dtype=torch.float64),
                             1, 7)
    with pytest.raises(IndexError, match="^" + re.escape(str(theirs.value)) + "$"):
        tg.select_scatter(tg.tensor(X), tg.ones(3, 5, dtype=np.float64), 1, 7)
    with pytest.raises(IndexError, match="Dimension out of range"):
        tg.slice_scatter(tg.tensor(X), tg.tensor(X), 3)
    with pytest.raises(ValueError, match="diagonal dimensions cannot be identical"):
        tg.diagonal_scatter(tg.tensor(X), tg.ones(3), 0, 1, 1)
    with pytest.raises(ValueError, match="slice step must be positive"):
        tg.slice_scatter(tg.tensor(X), tg.tensor(X), 0, None, None, 0)
    with pytest.raises(TypeError, match="argument 'src' must be Tensor"):
        tg.select_scatter(tg.tensor(X), np.ones((3, 5)), 1, 0)
