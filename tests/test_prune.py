"""``nn.utils.prune``: the deterministic methods give torch 2.13's masks, state_dict keys,
outputs and gradients (float64, random upstream gradient), alone and combined iteratively; the
random ones prune the right counts and structures from the package generator; torch's errors
for a bad ``amount`` and the rest, raised before the module changes; ``remove`` makes it final."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import nn
from tinygrad_norm.nn.utils import prune

torch = pytest.importorskip("torch")
tprune = pytest.importorskip("torch.nn.utils.prune")

RNG = np.random.default_rng(11)


def _linears(n_in=5, n_out=6, count=1):
    """Pairs (ours, torch's) of float64 Linear layers with the same distinct random weights."""
    out = []
    for _ in range(count):
        m, t = nn.Linear(n_in, n_out).double(), torch.nn.Linear(n_in, n_out).double()
        w, b = RNG.standard_normal((n_out, n_in)), RNG.standard_normal(n_out)
        m.weight.data, m.bias.data = w.copy(), b.copy()
        with torch.no_grad():
            t.weight.copy_(torch.tensor(w))
            t.bias.copy_(torch.tensor(b))
        out.append((m, t))
    return out


def _same(m, t, n_in=5):
    """Masks, state_dict keys and values, outputs and gradients as torch's."""
    assert list(m.state_dict()) == list(t.state_dict())
    for k, v in t.state_dict().items():
        np.testing.assert_array_equal(m.state_dict()[k].numpy(), v.numpy(), err_msg=k)
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    x, g = RNG.standard_normal((4, n_in)), RNG.standard_normal((4, t.out_features))
    y, ty = m(tg.Tensor(x)), t(torch.tensor(x))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    y.backward(tg.Tensor(g))
    ty.backward(torch.tensor(g))
    for (n, p), (_, tp) in zip(m.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12, atol=1e-12,
                                   err_msg=n)


STEPS = {
    "l1_fraction": lambda p, m: p.l1_unstructured(m, "weight", amount=0.3),
    "l1_count": lambda p, m: p.l1_unstructured(m, "weight", amount=7),
    "l1_bias": lambda p, m: p.l1_unstructured(m, "bias", amount=2),
    "ln2_rows": lambda p, m: p.ln_structured(m, "weight", amount=2, n=2, dim=0),
    "ln1_cols": lambda p, m: p.ln_structured(m, "weight", amount=0.4, n=1, dim=1),
    "lninf_last": lambda p, m: p.ln_structured(m, "weight", amount=1, n=float("inf"), dim=-1),
    "ln_fro": lambda p, m: p.ln_structured(m, "weight", amount=1, n="fro", dim=0),
    "identity": lambda p, m: p.identity(m, "weight"),
    "custom": lambda p, m: p.custom_from_mask(m, "weight", mask=_MASK(p)),
}
_M = (np.arange(30).reshape(6, 5) % 4 != 1).astype(np.float64)


def _MASK(p):
    return tg.Tensor(_M) if p is prune else torch.tensor(_M)


@pytest.mark.parametrize("name", list(STEPS))
def test_one_method_as_torch(name):
    [(m, t)] = _linears()
    STEPS[name](prune, m)
    STEPS[name](tprune, t)
    _same(m, t)


@pytest.mark.parametrize("order", [["l1_fraction", "ln2_rows", "l1_count"],
                                   ["ln2_rows", "ln1_cols", "l1_fraction"],
                                   ["custom", "l1_count", "lninf_last", "identity"],
                                   ["l1_count", "l1_bias", "custom"]])
def test_iterative_pruning_combines_masks_as_torch(order):
    [(m, t)] = _linears()
    for step in order:
        STEPS[step](prune, m)
        STEPS[step](tprune, t)
    _same(m, t)
    ours = prune._hooks(m)[0][1] if len(prune._hooks(m)) == 1 else None
    if ours is not None and isinstance(ours, prune.PruningContainer):
        assert len(ours) == len([s for s in order if s != "l1_bias"])


def test_importance_scores_as_torch():
    [(m, t)] = _linears()
    s = RNG.standard_normal((6, 5))
    prune.l1_unstructured(m, "weight", 0.5, importance_scores=tg.Tensor(s))
    tprune.l1_unstructured(t, "weight", 0.5, importance_scores=torch.tensor(s))
    prune.ln_structured(m, "weight", 1, 2, 0, importance_scores=tg.Tensor(s))
    tprune.ln_structured(t, "weight", 1, 2, 0, importance_scores=torch.tensor(s))
    _same(m, t)


def test_global_unstructured_as_torch():
    pairs = _linears(count=3)
    ours, theirs = [m for m, _ in pairs], [t for _, t in pairs]
    prune.l1_unstructured(ours[0], "weight", 3)  # an already-pruned one among them
    tprune.l1_unstructured(theirs[0], "weight", 3)
    prune.global_unstructured([(m, "weight") for m in ours] + [(ours[1], "bias")],
                              pruning_method=prune.L1Unstructured, amount=0.45)
    tprune.global_unstructured([(t, "weight") for t in theirs] + [(theirs[1], "bias")],
                               pruning_method=tprune.L1Unstructured, amount=0.45)
    for m, t in pairs:
        _same(m, t)


def test_remove_makes_it_permanent_as_torch():
    [(m, t)] = _linears()
    for p, mod in ((prune, m), (tprune, t)):
        p.l1_unstructured(mod, "weight", 0.5)
        p.ln_structured(mod, "weight", 1, 1, 0)
    orig = m.weight_orig
    assert prune.is_pruned(m)
    prune.remove(m, "weight")
    tprune.remove(t, "weight")
    assert m.weight is orig and isinstance(m.weight, nn.Parameter)  # optimizers keep it
    assert not prune.is_pruned(m) and not prune._hooks(m)
    _same(m, t)
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(m, "weight")


def test_the_mask_is_applied_before_every_forward():
    [(m, _)] = _linears()
    prune.l1_unstructured(m, "weight", 10)
    m.weight_orig.data = m.weight_orig.data + 1.0  # an optimizer step
    with tg.no_grad():
        m(tg.Tensor(np.ones((1, 5))))
    np.testing.assert_array_equal(m.weight.numpy(), (m.weight_orig.data * m.weight_mask.data))
    assert int((m.weight.numpy() == 0).sum()) == 10


def test_is_pruned_looks_into_submodules():
    model = nn.Sequential(nn.Linear(3, 3), nn.Sequential(nn.Linear(3, 2)))
    assert not prune.is_pruned(model)
    prune.random_unstructured(model[1][0], "bias", 1)
    assert prune.is_pruned(model)


def test_conv_weight_ln_structured_as_torch():
    w = RNG.standard_normal((4, 3, 3, 3))
    m, t = nn.Conv2d(3, 4, 3).double(), torch.nn.Conv2d(3, 4, 3).double()
    m.weight.data = w.copy()
    with torch.no_grad():
        t.weight.copy_(torch.tensor(w))
    prune.ln_structured(m, "weight", 0.5, 2, 0)
    tprune.ln_structured(t, "weight", 0.5, 2, 0)
    prune.ln_structured(m, "weight", 1, 1, 1)
    tprune.ln_structured(t, "weight", 1, 1, 1)
    np.testing.assert_array_equal(m.weight_mask.numpy(), t.weight_mask.numpy())


def test_random_unstructured_counts_and_seed():
    def masks(seed):
        tg.manual_seed(seed)
        m = nn.Linear(10, 6)
        prune.random_unstructured(m, "weight", 0.4)
        first = m.weight_mask.numpy().copy()
        prune.random_unstructured(m, "weight", 0.5)  # half of the 36 left
        return first, m.weight_mask.numpy()
    first, second = masks(3)
    assert (first == 0).sum() == 24 and (second == 0).sum() == 24 + 18
    assert np.all(second[first == 0] == 0)  # what was pruned stays pruned
    assert all(np.array_equal(a, b) for a, b in zip(masks(3), masks(3)))
    assert not np.array_equal(masks(3)[0], masks(4)[0])


def test_random_structured_prunes_whole_channels():
    tg.manual_seed(0)
    m = nn.Linear(8, 6)
    prune.random_structured(m, "weight", 2, dim=0)
    mask = m.weight_mask.numpy()
    rows = mask.sum(axis=1)
    assert sorted(rows.tolist()) == [0, 0, 8, 8, 8, 8]
    prune.random_structured(m, "weight", 0.5, dim=0)  # half of the 4 rows left
    rows2 = m.weight_mask.numpy().sum(axis=1)
    assert (rows2 == 0).sum() == 4 and np.all(rows2[rows == 0] == 0)
    prune.random_structured(m, "weight", 3, dim=1)
    cols = m.weight_mask.numpy().sum(axis=0)
    assert (cols == 0).sum() == 3


def test_l1_ties_prune_the_lower_indices():
    # torch's topk leaves the choice among equal magnitudes unspecified (on CPU it is neither
    # the first nor the last); here ties go to the lower index, as a stable sort
    m = nn.Linear(4, 2)
    m.weight.data = np.array([[1.0, -2.0, 1.0, 2.0], [-1.0, 2.0, -1.0, 3.0]], np.float32)
    prune.l1_unstructured(m, "weight", 3)
    np.testing.assert_array_equal(m.weight_mask.numpy(), [[0, 1, 0, 1], [0, 1, 1, 1]])


@pytest.mark.parametrize("amount,exc,msg", [
    ("0.3", TypeError, "Invalid type for amount: 0.3. Must be int or float."),
    (-1, ValueError, r"amount=-1 should either be a float in the range \[0, 1\] or a "
                     r"non-negative integer"),
    (1.5, ValueError, r"amount=1.5 should either be a float in the range \[0, 1\]"),
    (31, ValueError, "amount=31 should be smaller than the number of parameters to prune=30"),
])
def test_amount_errors_as_torch_before_any_change(amount, exc, msg):
    [(m, t)] = _linears()
    with pytest.raises(exc, match=msg):
        prune.l1_unstructured(m, "weight", amount)
    with pytest.raises(Exception, match=msg.replace("\\[", "[").replace("\\]", "]")[:20]):
        tprune.l1_unstructured(t, "weight", amount)
    assert list(m.state_dict()) == ["weight", "bias"] and not prune.is_pruned(m)


def test_structured_errors_and_a_failed_second_pruning_changes_nothing():
    [(m, _)] = _linears()
    with pytest.raises(ValueError, match="Structured pruning can only be applied to "
                                         "multidimensional tensors"):
        prune.ln_structured(m, "bias", 1, 2, 0)
    with pytest.raises(IndexError, match="Invalid index 2 for tensor of size"):
        prune.random_structured(m, "weight", 1, 2)
    prune.l1_unstructured(m, "weight", 3)
    mask = m.weight_mask.numpy().copy()
    with pytest.raises(ValueError, match="should be smaller than the number of parameters"):
        prune.l1_unstructured(m, "weight", 28)  # 27 left
    np.testing.assert_array_equal(m.weight_mask.numpy(), mask)
    assert not isinstance(prune._hooks(m)[0][1], prune.PruningContainer)
    with pytest.raises(ValueError, match="has no parameter 'nope'"):
        prune.identity(m, "nope")
    with pytest.raises(ValueError, match="importance_scores should have the same shape"):
        prune.l1_unstructured(m, "bias", 1, importance_scores=tg.Tensor(np.ones(3)))
    with pytest.raises(TypeError, match="Only \"unstructured\" PRUNING_TYPE supported"):
        prune.global_unstructured([(m, "weight")], prune.RandomStructured, amount=1)
    with pytest.raises(TypeError, match="importance_scores must be of type dict"):
        prune.global_unstructured([(m, "weight")], prune.L1Unstructured, importance_scores=[],
                                  amount=1)


def test_prune_method_and_custom_subclass():
    class Every2nd(prune.BasePruningMethod):
        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            mask = default_mask.clone()
            mask.data.reshape(-1)[::2] = 0
            return mask
    m = nn.Linear(3, 2)
    Every2nd.apply(m, "weight")
    Every2nd.apply(m, "weight")  # every second of the entries still kept
    np.testing.assert_array_equal(m.weight_mask.numpy(), [[0, 0, 0], [1, 0, 0]])
    t = tg.Tensor(np.array([3.0, -1.0, 2.0]))
    np.testing.assert_array_equal(prune.L1Unstructured(1).prune(t).numpy(), [3.0, 0.0, 2.0])
