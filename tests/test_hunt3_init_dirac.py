"""``nn.init.dirac_``, which torch 2.13 has and this library lacked: the identity convolution
weight, to the element as torch's for 1-, 2- and 3-D kernels and groups, and a convolution with
it (same padding) passes the input channels through."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import functional as F, nn


@pytest.mark.parametrize("shape,groups", [
    ((16, 8, 3, 3), 1), ((16, 8, 3, 3), 2), ((16, 8, 3), 4), ((8, 4, 2, 2, 2), 1),
    ((6, 10, 4), 3), ((4, 4, 1, 1), 1)])
def test_dirac_is_torchs(torch, shape, groups):
    theirs = torch.nn.init.dirac_(torch.full(shape, 7.0), groups).numpy()
    ours = tg.Tensor(np.full(shape, 7.0, np.float32))
    assert nn.init.dirac_(ours, groups) is ours
    np.testing.assert_array_equal(ours.data, theirs)
    ints = tg.Tensor(np.full(shape, 7, np.int64))
    np.testing.assert_array_equal(nn.init.dirac_(ints, groups).data, theirs.astype(np.int64))


def test_a_dirac_convolution_passes_its_input_through():
    w = nn.init.dirac_(tg.Tensor(np.empty((3, 3, 3, 3))))
    x = tg.Tensor(np.random.default_rng(0).standard_normal((2, 3, 5, 4)))
    np.testing.assert_allclose(F.conv2d(x, w, padding=1).data, x.data, rtol=1e-15)


def test_dirac_errors_are_torchs(torch):
    for shape, groups in (((4, 4), 1), ((6, 4, 3), 4)):
        with pytest.raises(ValueError) as theirs:
            torch.nn.init.dirac_(torch.empty(shape), groups)
        with pytest.raises(ValueError, match=str(theirs.value)):
            nn.init.dirac_(tg.Tensor(np.empty(shape, np.float32)), groups)
    with pytest.raises(ValueError, match="groups must be a positive int"):
        nn.init.dirac_(tg.Tensor(np.empty((4, 4, 3), np.float32)), 0)  # torch: ZeroDivisionError
