"""F.unfold / F.fold and the nn.Unfold / nn.Fold layers: parity with torch 2.13 over a grid of
kernel, dilation, padding and stride (batched and unbatched, float64 tight and float32, values
and gradients under a random upstream gradient), finite differences of both orders, and the
layers' arguments, reprs and errors."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn

from test_activation_losses import DTYPES, parity

CASES = [  # (input shape, output size, kernel, dilation, padding, stride)
    ((2, 3, 6, 5), (6, 5), 3, 1, 1, 1),
    ((1, 2, 7, 9), (7, 9), (2, 3), (2, 1), (1, 0), (2, 3)),
    ((3, 1, 4, 4), (4, 4), 2, 1, 0, 2),
    ((2, 2, 5, 8), (5, 8), (1, 4), 1, (0, 2), (1, 3)),
    ((0, 2, 5, 5), (5, 5), 2, 1, 0, 1),  # an empty batch, as torch takes
]
IDS = ["same-3x3", "dilated-strided", "non-overlapping", "wide", "empty-batch"]
# every case batched, and unbatched where it has a batch to drop
GRID = [(c, True) for c in CASES] + [(c, False) for c in CASES if c[0][0]]
GRID_IDS = [i + "-batched" for i in IDS] + [i + "-unbatched" for c, i in zip(CASES, IDS) if c[0][0]]


def _kw(case):
    _, _, k, d, p, s = case
    return dict(kernel_size=k, dilation=d, padding=p, stride=s)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case,batched", GRID, ids=GRID_IDS)
def test_unfold_parity(torch, case, dtype, batched):
    x = np.random.default_rng(1).standard_normal(case[0])
    if not batched:
        x = x[0]
    kw = _kw(case)
    parity(torch, lambda a: F.unfold(a, **kw), lambda a: torch.nn.functional.unfold(a, **kw),
           [x], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case,batched", GRID, ids=GRID_IDS)
def test_fold_parity(torch, case, dtype, batched):
    kw = _kw(case)
    shape = torch.nn.functional.unfold(torch.zeros(case[0]), **kw).shape
    cols = np.random.default_rng(2).standard_normal(tuple(shape))
    if not batched:
        cols = cols[0]
    size = case[1]
    parity(torch, lambda a: F.fold(a, size, **kw),
           lambda a: torch.nn.functional.fold(a, size, **kw), [cols], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_layers_match_torch(torch, dtype):
    """nn.Unfold -> (some work on the blocks) -> nn.Fold, the patch pipeline they exist for."""
    x = np.random.default_rng(3).standard_normal((2, 3, 8, 7))
    kw = dict(kernel_size=(3, 2), dilation=(1, 2), padding=1, stride=(2, 1))
    ours = (nn.Unfold(**kw), nn.Fold((8, 7), **kw))
    theirs = (torch.nn.Unfold(**kw), torch.nn.Fold((8, 7), **kw))
    assert [repr(m) for m in ours] == [repr(m) for m in theirs]
    parity(torch, lambda a: ours[1](ours[0](a) * 2.0 + 1.0),
           lambda a: theirs[1](theirs[0](a) * 2.0 + 1.0), [x], dtype)
    assert list(ours[0].state_dict()) == [] and list(ours[1].parameters()) == []


def test_fold_of_unfold_counts_each_pixel_per_window():
    """fold(unfold(x)) is x times the number of windows covering each pixel (the identity with
    non-overlapping windows): a check of the pair that needs no oracle."""
    x = Tensor(np.random.default_rng(4).standard_normal((2, 3, 6, 6)))
    np.testing.assert_array_equal(F.fold(F.unfold(x, 2, stride=2), 6, 2, stride=2).numpy(),
                                  x.numpy())
    ones = Tensor(np.ones((1, 1, 6, 6)))
    count = F.fold(F.unfold(ones, 3, padding=1), 6, 3, padding=1).numpy()
    np.testing.assert_allclose(F.fold(F.unfold(x, 3, padding=1), 6, 3, padding=1).numpy(),
                               x.numpy() * count, rtol=1e-12)


def test_gradcheck_both_orders():
    rng = np.random.default_rng(5)
    x = Tensor(rng.standard_normal((1, 2, 5, 4)), requires_grad=True)
    kw = dict(kernel_size=(2, 3), dilation=(2, 1), padding=1, stride=(1, 2))
    assert tg.gradcheck(lambda a: F.unfold(a, **kw), [x])
    cols = F.unfold(Tensor(np.zeros((1, 2, 5, 4))), **kw)
    c = Tensor(rng.standard_normal(cols.shape), requires_grad=True)
    assert tg.gradcheck(lambda a: F.fold(a, (5, 4), **kw), [c])
    # a nonlinearity between them, so the second derivative is not trivially zero
    assert tg.gradgradcheck(lambda a: F.fold(F.unfold(a, **kw) ** 2, (5, 4), **kw), [x])


def test_bad_arguments_are_value_and_type_errors(torch):
    x = Tensor(np.zeros((1, 2, 5, 5)))
    tx = torch.zeros(1, 2, 5, 5)
    for kw in (dict(kernel_size=6), dict(kernel_size=0), dict(kernel_size=2, stride=0),
               dict(kernel_size=2, padding=-1), dict(kernel_size=(2, 2, 2))):
        with pytest.raises(RuntimeError):
            torch.nn.functional.unfold(tx, **kw)
        with pytest.raises(ValueError):
            F.unfold(x, **kw)
        with pytest.raises(ValueError):
            nn.Unfold(**kw)(x)
    with pytest.raises(TypeError):
        F.unfold(x, 2.5)
    with pytest.raises(TypeError):
        F.unfold(np.zeros((1, 2, 5, 5)), 2)
    with pytest.raises(ValueError):
        F.unfold(Tensor(np.zeros((2, 5, 5, 1, 1))), 2)
    cols = Tensor(np.zeros((1, 8, 16)))
    with pytest.raises(ValueError, match="divisible"):
        F.fold(Tensor(np.zeros((1, 7, 16))), 5, 2)
    with pytest.raises(ValueError, match="expected size of input's dimension 2"):
        nn.Fold(6, 2)(cols)
    with pytest.raises(RuntimeError):
        torch.nn.Fold(6, 2)(torch.zeros(1, 8, 16))
    assert nn.Fold(5, 2)(cols).shape == (1, 2, 5, 5)
