"""PyTorch's products, triangles and einsum (tensor_ops.py, einsum.py; ``prod`` and ``einsum``
are primitives, the rest composites) against torch 2.13: values and gradients under a random
upstream gradient in float64 (tight) and float32, gradcheck and gradgradcheck in float64, the
zeros of ``prod``, einsum's equation forms and torch's errors."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

import tinygrad_norm as tg  # noqa: E402
from tinygrad_norm import Tensor  # noqa: E402

from conftest import gradchecks, torch_parity  # noqa: E402

RTOL = {np.float64: 1e-10, np.float32: 2e-5}


def _r(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _parity(torch, ours, theirs, arrays, dtype=np.float64, seed=0):
    """Forward, dtype and every input's gradient under one random upstream gradient."""
    torch_parity(torch, ours, theirs, arrays, dtype, RTOL[dtype], seed=seed + 1)


# ---- prod ------------------------------------------------------------------------------------

def _with_zeros(shape, where, seed=0):
    a = _r(shape, seed)
    for idx in where:
        a[idx] = 0.0
    return a


PROD_INPUTS = {
    "no_zero": _r((3, 4)),
    "one_zero": _with_zeros((3, 4), [(1, 2)]),
    "zero_per_row": _with_zeros((3, 4), [(0, 0), (1, 3), (2, 1)]),
    "two_zeros_one_row": _with_zeros((3, 4), [(1, 0), (1, 2)]),
    "all_zero_row": _with_zeros((3, 4), [(2, 0), (2, 1), (2, 2), (2, 3)]),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("case", sorted(PROD_INPUTS))
def test_prod_matches_torch_with_zeros(torch, case, axis, dtype):
    a = PROD_INPUTS[case]
    for keep in (False, True):
        if axis is None:
            _parity(torch, lambda x: x.prod(), lambda t: t.prod(), [a], dtype)
        else:
            _parity(torch, lambda x: tg.prod(x, axis, keepdims=keep),
                    lambda t: torch.prod(t, axis, keepdim=keep), [a], dtype)


@pytest.mark.parametrize("case", sorted(PROD_INPUTS))
def test_prod_gradcheck_and_gradgradcheck(case):
    a = PROD_INPUTS[case]
    gradchecks(lambda x: x.prod(axis=1) * x.sum(axis=1), [a])
    gradchecks(lambda x: x.prod(axis=(0, 1), keepdims=True) * x, [a[:2, :3]])


@pytest.mark.parametrize("case", ["no_zero", "one_zero", "two_zeros_one_row"])
def test_prod_second_derivative_matches_torch(torch, case):
    a = PROD_INPUTS[case]
    x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    g, v = _r((3,), 7), _r((3, 4), 8)
    gx, = tg.grad(x.prod(axis=1), x, grad_outputs=g, create_graph=True)
    gt, = torch.autograd.grad(t.prod(1), t, torch.tensor(g), create_graph=True)
    hv, = tg.grad(gx, x, grad_outputs=v)
    hvt, = torch.autograd.grad(gt, t, torch.tensor(v))
    np.testing.assert_allclose(gx.data, gt.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(hv.data, hvt.numpy(), rtol=1e-12, atol=1e-12)


def test_prod_over_several_axes_equals_successive_products():
    a = _with_zeros((2, 3, 4), [(0, 1, 1)])
    x = Tensor(a, requires_grad=True)
    y = Tensor(a, requires_grad=True)
    g = _r((3,), 3)
    x.prod(axis=(0, 2)).backward(g)
    y.prod(axis=2).prod(axis=0).backward(g)
    np.testing.assert_allclose(x.grad.data, y.grad.data, rtol=1e-13)


def test_prod_dtypes_and_edge_shapes(torch):
    assert Tensor(np.array([2, 3, 4], np.int32)).prod().dtype == np.int64
    assert Tensor(np.array([True, False])).prod().dtype == np.int64
    h = Tensor(np.full(20, 2.0, np.float16)).prod()  # 2^20 overflows float16: inf, as torch
    assert h.dtype == np.float16 and h.item() == torch.full((20,), 2.0).half().prod().item()
    assert Tensor(np.zeros((2, 0))).prod(axis=1).data.tolist() == [1.0, 1.0]
    x = Tensor(np.array(0.0), requires_grad=True)  # 0-d: the identity, gradient 1 even at 0
    x.prod().backward()
    assert x.grad.item() == 1.0


# ---- roll, tril/triu, diagonal, trace, outer, bmm, baddbmm ------------------------------------

A = _r((3, 4, 5))
COMPOSITES = {
    # name: (ours, theirs(torch, *tensors), inputs)
    "roll_flat": (lambda x: x.roll(7), lambda torch, t: t.roll(7), [A]),
    "roll_dim": (lambda x: tg.roll(x, -2, 1), lambda torch, t: torch.roll(t, -2, 1), [A]),
    "roll_dims": (lambda x: x.roll((1, 3, -1), (0, 2, 0)),
                  lambda torch, t: t.roll((1, 3, -1), (0, 2, 0)), [A]),
    "roll_zero": (lambda x: x.roll(5, -1), lambda torch, t: t.roll(5, -1), [A]),
    "tril": (lambda x: x.tril(), lambda torch, t: t.tril(), [A]),
    "tril_k": (lambda x: tg.tril(x, 2), lambda torch, t: torch.tril(t, 2), [A]),
    "triu": (lambda x: x.triu(), lambda torch, t: t.triu(), [A]),
    "triu_neg": (lambda x: tg.triu(x, -1), lambda torch, t: torch.triu(t, -1), [A]),
    "diagonal": (lambda x: x.diagonal(), lambda torch, t: t.diagonal(), [A]),
    "diagonal_off": (lambda x: tg.diagonal(x, 1, 2, 0),
                     lambda torch, t: torch.diagonal(t, 1, 2, 0), [A]),
    "diagonal_neg": (lambda x: x.diagonal(-2, -1, 1), lambda torch, t: t.diagonal(-2, -1, 1),
                     [A]),
    "diagonal_empty": (lambda x: x.diagonal(9), lambda torch, t: t.diagonal(9), [A]),
    "trace": (lambda x: x.trace(), lambda torch, t: t.trace(), [A[0]]),
    "outer": (lambda a, b: a.outer(b), lambda torch, a, b: a.outer(b), [A[0, 0], A[1, :, 0]]),
    "bmm": (lambda a, b: tg.bmm(a, b), lambda torch, a, b: torch.bmm(a, b),
            [A, _r((3, 5, 2), 1)]),
    "baddbmm": (lambda c, a, b: tg.baddbmm(c, a, b, beta=0.5, alpha=-2.0),
                lambda torch, c, a, b: torch.baddbmm(c, a, b, beta=0.5, alpha=-2.0),
                [_r((4, 1), 2), A, _r((3, 5, 2), 1)]),
    "baddbmm_beta0": (lambda c, a, b: tg.baddbmm(c, a, b, beta=0),
                      lambda torch, c, a, b: torch.baddbmm(c, a, b, beta=0),
                      [_r((3, 4, 2), 2), A, _r((3, 5, 2), 1)]),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", sorted(COMPOSITES))
def test_composites_match_torch(torch, case, dtype):
    ours, theirs, arrays = COMPOSITES[case]
    _parity(torch, ours, lambda *ts: theirs(torch, *ts), arrays, dtype)


@pytest.mark.parametrize("case", ["roll_dims", "tril_k", "triu_neg", "diagonal_off", "trace",
                                  "outer", "bmm", "baddbmm"])
def test_composites_gradcheck(case):
    ours, _, arrays = COMPOSITES[case]
    small = [a[tuple(slice(0, 3) for _ in a.shape)] if case not in ("bmm", "baddbmm") else a
             for a in arrays]
    gradchecks(lambda *xs: ours(*xs) ** 2, small)


def test_roll_and_triangles_are_new_tensors():
    x = Tensor(_r((2, 3)))
    for y in (x.roll(0, 0), x.roll(3, 1), x.tril(5), x.triu(-5), x.diagonal()):
        assert not np.may_share_memory(y.data, x.data)
    b = Tensor(np.array([[True, True], [True, True]]))
    assert b.tril().dtype == np.bool_ and b.tril().data.tolist() == [[True, False], [True, True]]


def test_baddbmm_beta0_ignores_nan_input_and_gives_it_zero_gradient(torch):
    c = Tensor(np.full((3, 4, 2), np.nan), requires_grad=True)
    a, b = Tensor(A), Tensor(_r((3, 5, 2), 1))
    out = tg.baddbmm(c, a, b, beta=0)
    assert np.isfinite(out.data).all()
    out.sum().backward()
    assert (c.grad.data == 0).all()


BAD = [
    (lambda: Tensor(_r(3)).tril(), ValueError, "tril: input tensor must have at least 2"),
    (lambda: tg.triu(Tensor(_r(3))), ValueError, "triu: input tensor must have at least 2"),
    (lambda: Tensor(_r((2, 3))).tril(1.5), TypeError, "diagonal must be an int"),
    (lambda: Tensor(_r((2, 3))).roll((1, 2), 0), ValueError,
     "shifts and dimensions must align. shifts: 2, dims:1"),
    (lambda: Tensor(_r((2, 3))).roll((1, 2)), ValueError, "shifts: 2, dims:0"),
    (lambda: Tensor(_r((2, 3))).roll(1.5, 0), TypeError, "shifts must be an int"),
    (lambda: Tensor(_r((2, 3))).roll(1, 2), ValueError, "out of range"),
    (lambda: Tensor(_r((2, 3))).diagonal(0, 1, -1), ValueError,
     "diagonal dimensions cannot be identical 1, -1"),
    (lambda: Tensor(_r(3)).trace(), ValueError, "trace: expected a matrix, but got tensor with dim 1"),
    (lambda: Tensor(_r((2, 2))).outer(Tensor(_r(2))), ValueError,
     "outer: Expected 1-D argument self, but got 2-D"),
    (lambda: tg.outer(Tensor(_r(2)), _r(2)), TypeError, "vec2 must be a Tensor"),
    (lambda: tg.bmm(Tensor(_r((2, 2))), Tensor(_r((2, 2, 2)))), ValueError,
     "batch1 must be a 3D tensor"),
    (lambda: tg.bmm(Tensor(_r((2, 2, 3))), Tensor(_r((3, 3, 2)))), ValueError,
     "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [3, 3]."),
    (lambda: tg.baddbmm(Tensor(_r((3, 3))), Tensor(_r((2, 2, 3))), Tensor(_r((2, 3, 2)))),
     ValueError, "cannot be broadcast to the product's shape (2, 2, 2)"),
    (lambda: tg.baddbmm(Tensor(_r(2)), Tensor(_r((2, 2, 3))), Tensor(_r((2, 3, 2))), beta="1"),
     TypeError, "beta must be a real number"),
    (lambda: tg.prod(_r(3)), TypeError, "prod(): argument 'input' must be Tensor"),
    (lambda: Tensor(_r(3)).prod(axis=1), ValueError, "out of range"),
]


@pytest.mark.parametrize("i", range(len(BAD)))
def test_bad_input(i):
    fn, err, msg = BAD[i]
    with pytest.raises(err) as info:
        fn()
    assert msg in str(info.value)


# ---- einsum ----------------------------------------------------------------------------------

EINSUM = {
    # equation: operand shapes
    "ij,jk->ik": [(2, 3), (3, 4)],
    "ij,jk": [(2, 3), (3, 4)],
    "ij,kj->": [(2, 3), (4, 3)],
    "i,j->ij": [(3,), (4,)],
    "bij,bjk->bik": [(2, 3, 4), (2, 4, 5)],
    "ii->i": [(3, 3)],
    "ii": [(3, 3)],
    "ii->": [(3, 3)],
    "iji->j": [(3, 2, 3)],
    "ij->ji": [(2, 3)],
    "ij->j": [(2, 3)],
    "ba": [(2, 3)],
    "i,i,i->": [(4,), (4,), (4,)],
    "ij,jk,kl->il": [(2, 3), (3, 4), (4, 2)],
    "...ij,...jk": [(2, 1, 2, 3), (5, 3, 4)],
    "...ii->...i": [(2, 3, 3)],
    "i...->...": [(3, 2, 2)],
    "...ij->ij": [(2, 3, 4)],
    "bn,anm,bm->ba": [(2, 3), (4, 3, 5), (2, 5)],
    "ij,ij->ij": [(1, 3), (4, 3)],
    "i,ij->j": [(1,), (4, 3)],
    "Ab,bA->A": [(2, 3), (3, 2)],
    "i j -> j": [(2, 3)],
    "->": [()],
    "i->": [(0,)],
}


def _operands(shapes, dtype, seed=0):
    return [_r(s, seed + k).astype(dtype) for k, s in enumerate(shapes)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("eq", sorted(EINSUM))
def test_einsum_matches_torch(torch, eq, dtype):
    arrays = _operands(EINSUM[eq], dtype)
    _parity(torch, lambda *xs: tg.einsum(eq, *xs), lambda *ts: torch.einsum(eq, *ts), arrays, dtype)


@pytest.mark.parametrize("eq", ["ij,jk->ik", "ii->i", "ii", "iji->j", "...ij,...jk",
                                "ij,ij->ij", "bn,anm,bm->ba", "i...->..."])
def test_einsum_gradcheck_and_gradgradcheck(eq):
    arrays = _operands(EINSUM[eq], np.float64)
    gradchecks(lambda *xs: tg.einsum(eq, *xs) ** 2, arrays)


def test_einsum_second_derivative_matches_torch(torch):
    a, b = _r((3, 3)), _r((3, 4), 1)
    x, y = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    s, t = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    g, v = _r((3, 4), 2), _r((3, 3), 3)
    gx, = tg.grad(tg.einsum("ii,ij->ij", x, y * x[0].reshape(3, 1)), x, g, create_graph=True)
    gs, = torch.autograd.grad(torch.einsum("ii,ij->ij", s, t * s[0].reshape(3, 1)), s,
                              torch.tensor(g), create_graph=True)
    hv = tg.grad(gx, [x, y], v)
    hs = torch.autograd.grad(gs, [s, t], torch.tensor(v))
    for ours, theirs in zip(hv, hs):
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12, atol=1e-12)


def test_einsum_takes_a_list_and_owns_its_output():
    a, b = Tensor(_r((2, 3))), Tensor(_r((3, 2), 1))
    np.testing.assert_allclose(tg.einsum("ij,jk", [a, b]).data, a.data @ b.data, rtol=1e-14)
    t = tg.einsum("ij->ji", a)
    assert not np.may_share_memory(t.data, a.data)


@settings(max_examples=15)
@given(st.data())
def test_einsum_random_contractions_match_torch(torch, data):
    """Random equations: two operands with shared, private and output labels, a broadcast
    size-1 axis and sometimes a repeated label, against torch, with gradients."""
    labels = data.draw(st.lists(st.sampled_from("abcde"), min_size=1, max_size=4, unique=True))
    sizes = {c: data.draw(st.integers(1, 3)) for c in labels}
    terms = [data.draw(st.lists(st.sampled_from(labels), min_size=0, max_size=3))
             for _ in range(2)]
    used = sorted(set(terms[0]) | set(terms[1]))
    out = data.draw(st.lists(st.sampled_from(used), unique=True)) if used else []
    shapes = [tuple(1 if data.draw(st.integers(0, 4)) == 0 else sizes[c] for c in term)
              for term in terms]
    for k, term in enumerate(terms):  # a repeated label has one size within its operand
        shapes[k] = tuple(sizes[c] if term.count(c) > 1 else s for c, s in zip(term, shapes[k]))
    eq = ",".join("".join(t) for t in terms) + "->" + "".join(out)
    arrays = _operands(shapes, np.float64, data.draw(st.integers(0, 100)))
    _parity(torch, lambda *xs: tg.einsum(eq, *xs), lambda *ts: torch.einsum(eq, *ts), arrays)


EINSUM_BAD = [
    ("ij,jk->ik", [(2, 3), (4, 4)],
     "einsum(): subscript j has size 4 for operand 1 which does not broadcast with previously "
     "seen size 3"),
    ("ij,jk", [(2, 3)], "einsum(): fewer operands were provided than specified in the equation"),
    ("ij", [(2, 3), (3, 3)], "einsum(): more operands were provided than specified"),
    ("i$j", [(2, 3)], "einsum(): invalid subscript given at index 1 in the equation string, "
                      "subscripts must be in [a-zA-Z]"),
    ("ij->i->j", [(2, 3)], "invalid subscript given at index 5"),
    ("ijk", [(2, 3)], "einsum(): the number of subscripts in the equation (3) does not match "
                      "the number of dimensions (2) for operand 0 and no ellipsis was given"),
    ("...ij", [(2,)], "the number of subscripts in the equation (2) is more than the number of "
                      "dimensions (1) for operand 0"),
    ("ij->ii", [(2, 3)], "einsum(): output subscript i appears more than once in the output"),
    ("ij->k", [(2, 3)], "einsum(): output subscript k does not appear in the equation for any "
                        "input operand"),
    ("i.j", [(2, 3)], "einsum(): found '.' for operand 0 that is not part of any ellipsis"),
    ("i...j...", [(2, 3)], "found '.' for operand 0 for which an ellipsis was already found"),
    ("ij->i..", [(2, 3)], "found '.' for output that is not part of any ellipsis (...)"),
    ("ij->i...j...", [(2, 3)], "found '.' for output but an ellipsis (...) was already found"),
    ("ii->i", [(2, 3)], "einsum(): subscript i is repeated for operand 0 but the sizes don't "
                        "match, 3 != 2"),
    ("i...,...i->", [(2, 3), (2, 2)], "dimension 0 covered by ellipsis in operand 1 has size 2 "
                                      "which does not broadcast with previously seen ellipsis "
                                      "with size 3"),
]


@pytest.mark.parametrize("i", range(len(EINSUM_BAD)))
def test_einsum_errors_as_torch(torch, i):
    eq, shapes, msg = EINSUM_BAD[i]
    with pytest.raises(RuntimeError) as theirs:
        torch.einsum(eq, *[torch.zeros(s) for s in shapes])
    with pytest.raises(ValueError) as ours:
        tg.einsum(eq, *[Tensor(np.zeros(s)) for s in shapes])
    assert msg in str(ours.value)
    # torch's ellipsis message lacks a space ("in operand 1has size"); ours has it
    assert str(ours.value).replace("operand 1 has", "operand 1has") == str(theirs.value)


def test_einsum_argument_errors():
    with pytest.raises(TypeError, match="argument 'equation' .* must be str, not int"):
        tg.einsum(3, Tensor(_r(2)))
    with pytest.raises(ValueError, match="at least one operand"):
        tg.einsum("ij")
    with pytest.raises(TypeError, match="expected Tensor as element 1 in argument 1, but got int"):
        tg.einsum("ij,->ij", Tensor(_r((2, 3))), 5)
