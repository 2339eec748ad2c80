"""The commonest torch spellings a port brings: x.size(d), tg.nn/tg.optim after a bare import,
`import tinygrad_norm.nn.functional as F`."""
import copy
import pickle
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_norm as tg


def test_size_is_numpys_count_and_torchs_method():
    x = tg.ones(2, 3, 4)
    assert x.size == 24 and isinstance(x.size, int) and x.size * 2 == 48
    assert x.size() == (2, 3, 4) and x.size(0) == 2 and x.size(-1) == 4
    assert x.size(np.int64(1)) == 3
    assert np.zeros(x.size).shape == (24,)  # still an index
    assert type(pickle.loads(pickle.dumps(x.size))) is int and copy.deepcopy(x.size) == 24
    with pytest.raises(ValueError, match=r"Dimension out of range \(expected to be in range of "
                                         r"\[-3, 2\], but got 3\)"):
        x.size(3)
    with pytest.raises(ValueError, match="Dimension specified as 0 but tensor has no dimensions"):
        tg.tensor(1.0).size(0)
    with pytest.raises(TypeError, match="argument 'dim' must be int, not float"):
        x.size(1.0)
    assert tg.tensor(1.0).size() == () and tg.tensor(1.0).size == 1


def test_size_matches_torch():
    torch = pytest.importorskip("torch")
    for shape in [(5,), (2, 3), (4, 1, 2), (0, 3)]:
        ours, theirs = tg.zeros(*shape), torch.zeros(*shape)
        assert ours.size() == tuple(theirs.size())
        assert [ours.size(d) for d in range(-len(shape), len(shape))] == \
               [theirs.size(d) for d in range(-len(shape), len(shape))]


def _fresh(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.split()


def test_submodules_are_attributes_imported_at_first_use():
    out = _fresh("import sys, tinygrad_norm as tg\n"
                 "print('tinygrad_norm.nn' in sys.modules, 'tinygrad_norm.functional' in sys.modules)\n"
                 "print(tg.nn.Linear.__name__, tg.optim.SGD.__name__, tg.data.DataLoader.__name__)\n"
                 "print('tinygrad_norm.nn' in sys.modules)")
    assert out == ["False", "False", "Linear", "SGD", "DataLoader", "True"]
    with pytest.raises(AttributeError, match="has no attribute 'no_such_thing'"):
        tg.no_such_thing


def test_nn_functional_imports_as_torchs_spelling():
    import tinygrad_norm.nn.functional as F
    from tinygrad_norm.nn import functional as G
    assert F is G is tg.functional
    x = tg.tensor(np.array([-1.0, 2.0]))
    assert np.array_equal(F.relu(x).numpy(), [0.0, 2.0])


@pytest.mark.parametrize("args", [(5,), (5.0,), (0, 5, 1), (0, 5, 0.5), (0, 5.0), (2, 11, 3),
                                  (np.int64(3),), (np.float32(3),), (-1.5, 2, 0.25)])
def test_arange_dtype_and_values_are_torch(args):
    """Integer bounds give int64 (the index idiom x[arange(n), y] works); any float bound gives
    the default float dtype, as torch.arange."""
    torch = pytest.importorskip("torch")
    ours, theirs = tg.arange(*args), torch.arange(*args)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_arange_indexes_rows_as_torch():
    torch = pytest.importorskip("torch")
    x = np.arange(15.0).reshape(5, 3)
    y = [0, 2, 1, 0, 2]
    np.testing.assert_array_equal(tg.tensor(x)[tg.arange(5), tg.tensor(y)].numpy(),
                                  torch.tensor(x)[torch.arange(5), torch.tensor(y)].numpy())
