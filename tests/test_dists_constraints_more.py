"""The constraints added for the newer families and transforms, against torch 2.13's: check()
on the same values (inside, outside, edges), event_dim and is_discrete."""
import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import distributions as D
from tinygrad_norm.distributions import constraints as C

torch = pytest.importorskip("torch")
TC = torch.distributions.constraints
RNG = np.random.default_rng(77)


def _mats():
    a = RNG.normal(size=(3, 3))
    spd = a @ a.T + np.eye(3)
    low = np.linalg.cholesky(spd)
    corr = low / np.linalg.norm(low, axis=-1, keepdims=True)
    psd = np.outer(a[0], a[0])
    return np.stack([spd, low, corr, psd, -spd, a, np.eye(3), np.zeros((3, 3))])


CASES = [
    (C.multinomial(5), TC.multinomial(5),
     np.array([[1.0, 2.0, 2.0], [0.0, 0.0, 6.0], [-1.0, 3.0, 1.0], [0.0, 0.0, 0.0]])),
    (C.positive_integer, TC.positive_integer, np.array([0.0, 1.0, 2.0, 1.5, -1.0])),
    (C.lower_triangular, TC.lower_triangular, _mats()),
    (C.corr_cholesky, TC.corr_cholesky, _mats()),
    (C.square, TC.square, _mats()),
    (C.symmetric, TC.symmetric, _mats()),
    (C.positive_semidefinite, TC.positive_semidefinite, _mats()),
    (C.cat([C.positive, C.unit_interval], -1, [2, 1]),
     TC.cat([TC.positive, TC.unit_interval], -1, [2, 1]),
     np.array([[1.0, 2.0, 0.5], [-1.0, 2.0, 0.5], [1.0, 2.0, 1.5]])),
    (C.stack([C.positive, C.real], 0), TC.stack([TC.positive, TC.real], 0),
     np.array([[1.0, -2.0, 0.0], [np.nan, 2.0, -3.0]])),
]


@pytest.mark.parametrize("i", range(len(CASES)))
def test_check_event_dim_and_discreteness_as_torch(i):
    ours, theirs, value = CASES[i]
    got = ours.check(value).numpy()
    want = theirs.check(torch.tensor(value)).numpy()
    np.testing.assert_array_equal(got, want)
    assert ours.event_dim == theirs.event_dim and ours.is_discrete == theirs.is_discrete


def test_square_matrices_of_the_wrong_shape_fail():
    v = np.zeros((2, 3, 4))
    for ours, theirs in ((C.square, TC.square), (C.symmetric, TC.symmetric)):
        np.testing.assert_array_equal(ours.check(v).numpy(),
                                      theirs.check(torch.tensor(v)).numpy())
    with pytest.raises(ValueError, match="one entry per constraint"):
        C.cat([C.real], 0, [1, 2])
    assert D.Multinomial(3, probs=tg.tensor([0.5, 0.5])).support.upper_bound == 3
