"""nn.DataParallel and nn.NLLLoss2d as torch's on a machine without GPUs: DataParallel is its
module (outputs, gradients, state-dict keys, repr, train/eval reaching the module, GPU device
ids ignored as torch ignores them); NLLLoss2d is NLLLoss with torch's FutureWarning."""
from __future__ import annotations

import numpy as np
import pytest

from tinygrad_norm import Tensor, nn


def test_data_parallel_is_its_module(torch):
    m = nn.Linear(3, 2)
    dp = nn.DataParallel(m, device_ids=[0, 1], output_device=0)  # GPU ids: ignored, as torch
    tm = torch.nn.Linear(3, 2)
    tdp = torch.nn.DataParallel(tm, device_ids=[0, 1], output_device=0)
    assert dp.module is m and dp.device_ids == tdp.device_ids == []
    assert list(dp.state_dict()) == list(tdp.state_dict())
    assert repr(dp).replace("mode=train", "").split("(")[0] == repr(tdp).split("(")[0]
    x = Tensor(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32),
               requires_grad=True)
    out = dp(x)
    np.testing.assert_array_equal(out.numpy(), m(x).numpy())
    out.backward(Tensor(np.ones((4, 2), np.float32)))
    assert m.weight.grad is not None and x.grad.shape == (4, 3)
    dp.eval()
    assert not m.training


def test_data_parallel_state_dict_round_trip_with_torch_keys(torch):
    tdp = torch.nn.DataParallel(torch.nn.Linear(3, 2))
    dp = nn.DataParallel(nn.Linear(3, 2))
    dp.load_state_dict({k: v.detach().numpy() for k, v in tdp.state_dict().items()})
    np.testing.assert_array_equal(dp.module.weight.numpy(), tdp.module.weight.detach().numpy())


def test_data_parallel_needs_a_module():
    with pytest.raises(TypeError, match="DataParallel: module must be a Module, got function"):
        nn.DataParallel(lambda x: x)


def test_nll_loss_2d_is_nll_loss_with_torchs_warning(torch):
    with pytest.warns(FutureWarning) as ours:
        loss = nn.NLLLoss2d(ignore_index=1)
    with pytest.warns(FutureWarning) as theirs:
        tloss = torch.nn.NLLLoss2d(ignore_index=1)
    assert str(ours[0].message) == str(theirs[0].message)
    assert isinstance(loss, nn.NLLLoss)
    x = np.log(np.random.default_rng(1).dirichlet(np.ones(3), size=(2, 4, 5))).transpose(0, 3,
                                                                                       1, 2)
    t = np.random.default_rng(2).integers(0, 3, (2, 4, 5))
    np.testing.assert_allclose(loss(Tensor(x.copy()), Tensor(t)).numpy(),
                               tloss(torch.from_numpy(x.copy()), torch.from_numpy(t)).numpy(),
                               rtol=1e-12)


def test_nn_utils_submodules_import_as_torchs():
    from tinygrad_norm.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
    from tinygrad_norm.nn.utils.convert_parameters import parameters_to_vector
    from tinygrad_norm.nn.utils.init import skip_init
    from tinygrad_norm.nn.utils.memory_format import convert_conv3d_weight_memory_format
    assert clip_grad_norm_ is nn.utils.clip_grad_norm_
    assert clip_grad_value_ is nn.utils.clip_grad_value_
    assert parameters_to_vector is nn.utils.parameters_to_vector
    assert skip_init is nn.utils.skip_init
    assert convert_conv3d_weight_memory_format is nn.utils.convert_conv3d_weight_memory_format


def test_memory_format_conversion_returns_the_module(torch):
    m = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU())
    w = m[0].weight.numpy().copy()
    out = nn.utils.convert_conv2d_weight_memory_format(m, "channels_last")
    tm = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3))
    assert torch.nn.utils.convert_conv2d_weight_memory_format(tm, torch.channels_last) is tm
    assert out is m and np.array_equal(m[0].weight.numpy(), w)
    assert nn.utils.convert_conv3d_weight_memory_format(m, None) is m
    with pytest.raises(TypeError, match="module must be a Module"):
        nn.utils.convert_conv2d_weight_memory_format(w, None)


@pytest.mark.parametrize("dims", [2, 3])
def test_fractional_max_pool_with_indices_matches_torch(torch, dims):
    import tinygrad_norm.functional as F
    shape = (2, 3) + (7,) * dims
    x = np.random.default_rng(3).standard_normal(shape)
    samples = np.random.default_rng(4).random((2, 3, dims))
    ours = getattr(F, f"fractional_max_pool{dims}d_with_indices")(
        Tensor(x), 2, output_size=(4,) * dims, _random_samples=Tensor(samples))
    theirs = getattr(torch.nn.functional, f"fractional_max_pool{dims}d_with_indices")(
        torch.from_numpy(x), 2, output_size=(4,) * dims,
        _random_samples=torch.from_numpy(samples))
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
