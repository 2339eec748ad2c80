"""Regressions for what the bad-input fuzzer (tests/fuzz_bad_input.py) found wrong: each row
failed without its fix -- a NumPy error naming no argument, an AttributeError, a hang, a state
change before the raise, or a bad value taken silently (``keepdim="False"`` keeping the dims).
Fast: tiny arrays, no torch (the wording follows torch's where torch words it)."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
import tinygrad_norm.linalg as L
import tinygrad_norm.nn as nn
import tinygrad_norm.special as S
from tinygrad_norm import Tensor
from tinygrad_norm import random as tg_random


def x(*shape):
    return Tensor(np.linspace(0.1, 0.9, int(np.prod(shape))).reshape(shape))


# (id, call, exception type, message pattern)
CASES = [
    # a huge unpooled size overflowed inside NumPy's comparisons (torch: "numel: integer
    # multiplication overflow")
    ("max_unpool2d_huge", lambda: F.max_unpool2d(*F.max_pool2d(x(1, 1, 4, 4), 2,
                                                               return_indices=True),
                                                 kernel_size=10 ** 12), ValueError,
     r"max_unpool2d: numel: integer multiplication overflow"),
    ("max_unpool3d_huge", lambda: F.max_unpool3d(*F.max_pool3d(x(1, 1, 4, 4, 4), 2,
                                                               return_indices=True),
                                                 kernel_size=10 ** 12), ValueError,
     r"max_unpool3d: numel: integer multiplication overflow"),
    # bool flags were read by truth value: "False" is True
    ("sum_keepdim", lambda: tg.sum(x(2, 3), 1, keepdim="False"), TypeError,
     r"sum\(\): argument 'keepdim' must be bool, not str"),
    ("method_keepdims", lambda: x(2, 3).mean(1, keepdims=None), TypeError,
     r"mean\(\): argument 'keepdim' must be bool, not NoneType"),
    ("std_keepdim", lambda: x(2, 3).std(1, keepdim=1), TypeError, r"std\(\).*'keepdim'.*int"),
    ("argmax_keepdim", lambda: tg.argmax(x(2, 3), 1, keepdim="x"), TypeError, r"'keepdim'"),
    ("prod_keepdim", lambda: tg.prod(x(2, 3), 1, "x"), TypeError, r"prod\(\).*'keepdim'"),
    ("amax_keepdim", lambda: tg.amax(x(2, 3), 1, keepdim="x"), TypeError, r"amax\(\).*'keepdim'"),
    ("any_keepdim", lambda: tg.any(x(2, 3), 1, keepdim="x"), TypeError, r"any\(\).*'keepdim'"),
    ("norm_keepdim", lambda: tg.norm(x(2, 3), dim=1, keepdim="x"), TypeError, r"norm\(\)"),
    ("var_mean_keepdim", lambda: tg.var_mean(x(2, 3), 1, keepdim="x"), TypeError, r"var_mean"),
    ("nansum_keepdim", lambda: tg.nansum(x(2, 3), 1, keepdim="x"), TypeError, r"nansum"),
    ("aminmax_keepdim", lambda: tg.aminmax(x(2, 3), dim=1, keepdim="x"), TypeError, r"aminmax"),
    ("median_keepdim", lambda: tg.median(x(2, 3), 1, "x"), TypeError, r"median\(\).*'keepdim'"),
    ("mode_keepdim", lambda: tg.mode(x(2, 3), 1, keepdim=2), TypeError, r"mode\(\).*'keepdim'"),
    ("quantile_keepdim", lambda: tg.quantile(x(2, 3), 0.5, 1, "x"), TypeError, r"quantile\(\)"),
    ("kthvalue_keepdim", lambda: tg.kthvalue(x(2, 3), 1, 1, "x"), TypeError, r"kthvalue\(\)"),
    ("max_dim_keepdim", lambda: tg.max(x(2, 3), 1, keepdim=None), TypeError, r"max\(\).*'keepdim'"),
    ("vecdot_keepdim", lambda: tg.vecdot(x(2, 3), x(2, 3), keepdim="x"), TypeError, r"vecdot"),
    ("requires_grad", lambda: tg.zeros(2, requires_grad="no"), TypeError,
     r"argument 'requires_grad' must be bool, not str"),
    ("requires_grad_", lambda: x(2).requires_grad_("no"), TypeError, r"requires_grad_\(\)"),
    ("sort_descending", lambda: tg.sort(x(3), descending="False"), TypeError,
     r"sort\(\): argument 'descending' must be bool"),
    ("sort_stable", lambda: x(3).sort(stable=None), TypeError, r"sort\(\).*'stable'"),
    ("argsort_descending", lambda: tg.argsort(x(3), descending="x"), TypeError, r"argsort\(\)"),
    ("topk_largest", lambda: tg.topk(x(3), 2, largest="False"), TypeError, r"topk\(\).*'largest'"),
    ("unique_counts", lambda: tg.unique(x(3), return_counts="no"), TypeError,
     r"unique\(\).*'return_counts'"),
    ("unique_consecutive_inverse", lambda: tg.unique_consecutive(x(3), return_inverse=1),
     TypeError, r"unique_consecutive\(\).*'return_inverse'"),
    ("nonzero_as_tuple", lambda: tg.nonzero(x(3), as_tuple="no"), TypeError, r"'as_tuple'"),
    ("index_put_accumulate",
     lambda: tg.index_put(x(3), (Tensor(np.array([0])),), x(1), accumulate="no"), TypeError,
     r"index_put\(\).*'accumulate'"),
    ("searchsorted_right", lambda: tg.searchsorted(x(3), x(2), right="no"), TypeError,
     r"searchsorted\(\).*'right'"),
    ("bucketize_out_int32", lambda: tg.bucketize(x(2), x(3), out_int32=None), TypeError,
     r"bucketize\(\).*'out_int32'"),
    ("isin_invert", lambda: tg.isin(x(2), x(3), invert="no"), TypeError, r"isin\(\).*'invert'"),
    ("multinomial_replacement", lambda: tg.multinomial(x(3), 2, "no"), TypeError,
     r"multinomial\(\).*'replacement'"),
    ("vander_increasing", lambda: tg.vander(x(3), increasing="no"), TypeError, r"vander\(\)"),
    ("isclose_equal_nan", lambda: tg.isclose(x(3), x(3), equal_nan="no"), TypeError,
     r"isclose\(\).*'equal_nan'"),
    # comparisons by name answered a string with False (Python's identity fallback)
    ("eq_str", lambda: tg.eq(x(3), "a"), TypeError, r"eq\(\): argument 'other'"),
    ("ne_none", lambda: x(3).ne(None), TypeError, r"ne\(\): argument 'other'"),
    ("eq_inplace_str", lambda: x(3).eq_("a"), TypeError, r"eq_\(\): argument 'other'"),
    ("logical_and_str", lambda: tg.logical_and(x(3), "a"), TypeError,
     r"logical_and\(\): argument 'other'"),
    ("logical_and_none", lambda: tg.logical_and(x(3), None), TypeError,
     r"logical_and\(\): argument 'other'"),  # was "takes from 2 to 3 positional arguments"
    ("logical_xor_dict", lambda: tg.logical_xor(x(3), {}), TypeError, r"logical_xor\(\)"),
    # isclose/allclose: NumPy's errors from inside, or a negative/NaN tolerance taken
    ("isclose_shapes", lambda: tg.isclose(x(3, 4), x(0, 4)), ValueError,
     r"isclose\(\): the shapes of input \[3, 4\] and other \[0, 4\] cannot be broadcast"),
    ("allclose_shapes", lambda: tg.allclose(x(3, 4), x(4, 3)), ValueError, r"allclose\(\)"),
    ("allclose_rtol_str", lambda: tg.allclose(x(3), x(3), rtol="a"), TypeError,
     r"allclose\(\): argument 'rtol' must be float"),
    ("allclose_rtol_negative", lambda: tg.allclose(x(3), x(3), rtol=-1.0), ValueError,
     r"rtol must be greater than or equal to zero"),
    ("isclose_atol_nan", lambda: tg.isclose(x(3), x(3), atol=float("nan")), ValueError,
     r"atol must be greater than or equal to zero"),
    ("isclose_other_str", lambda: tg.isclose(x(3), "a"), TypeError, r"isclose\(\).*'other'"),
    # AttributeError from the first method called on a non-tensor
    ("view_as", lambda: x(3).view_as("a"), TypeError, r"view_as\(\): argument 'other'"),
    ("reshape_as", lambda: x(3).reshape_as(None), TypeError, r"argument 'other' must be Tensor"),
    ("expand_as", lambda: x(3).expand_as([1]), TypeError, r"expand_as\(\): argument 'other'"),
    ("type_as", lambda: x(3).type_as(1.0), TypeError, r"type_as\(\): argument 'other'"),
    ("ravel", lambda: tg.ravel("a"), TypeError, r"ravel\(\): argument 'input' must be Tensor"),
    ("rot90_input", lambda: tg.rot90(None), TypeError, r"rot90\(\): argument 'input'"),
    ("fliplr", lambda: tg.fliplr([1, 2]), TypeError, r"fliplr\(\): argument 'input'"),
    ("flipud", lambda: tg.flipud(3), TypeError, r"flipud\(\): argument 'input'"),
    ("rot90_k", lambda: tg.rot90(x(2, 2), "a"), TypeError, r"rot90\(\): argument 'k' must be int"),
    ("tril_indices_col", lambda: tg.tril_indices(3, "a"), TypeError,
     r"tril_indices\(\): argument 'col' must be int"),
    # Python's "'str' object cannot be interpreted as an integer" / "is not iterable"
    ("tensor_split_sections", lambda: tg.tensor_split(x(4), "a"), TypeError,
     r"tensor_split\(\): argument 'indices_or_sections' must be int"),
    ("tensor_split_list", lambda: tg.tensor_split(x(4), ["a"]), TypeError,
     r"'indices_or_sections' must be int"),
    ("tensor_split_dim_bool", lambda: tg.tensor_split(x(4), 2, dim=True), TypeError,
     r"tensor_split\(\): argument 'dim' must be int, not bool"),
    ("kthvalue_k", lambda: tg.kthvalue(x(4), "a"), TypeError, r"kthvalue\(\): argument 'k'"),
    ("kthvalue_dim", lambda: tg.kthvalue(x(4), 1, None), TypeError, r"kthvalue\(\).*'dim'"),
    ("special_softmax_dim", lambda: S.softmax(x(4), "a"), TypeError,
     r"softmax\(\): argument 'dim' must be int"),
    ("special_log_softmax_dim", lambda: S.log_softmax(x(4), 0.5), TypeError, r"'dim'"),
    ("random__to", lambda: x(4).random_(0, "a"), TypeError, r"random_\(\): argument 'to'"),
    ("unfold_size", lambda: x(4).unfold(0, "a", 1), TypeError, r"unfold\(\): argument 'size'"),
    ("unique_dim", lambda: tg.unique(x(4), dim="a"), TypeError, r"unique\(\): argument 'dim'"),
    ("bincount_minlength", lambda: tg.bincount(Tensor(np.array([1, 2])), minlength="a"),
     TypeError, r"bincount\(\): argument 'minlength'"),
    ("masked_fill_none", lambda: tg.masked_fill(x(2), Tensor(np.array([True, False])), None),
     TypeError, r"masked_fill\(\): value must be a number"),
    ("index_fill_none", lambda: tg.index_fill(x(2, 2), 1, Tensor(np.array([0])), None),
     TypeError, r"value must be a number"),
    ("scatter_value_none", lambda: tg.scatter(x(2, 2), 1, Tensor(np.array([[0], [1]])), None),
     TypeError, r"value"),
    ("permute_empty", lambda: tg.permute(x(2, 3), ()), ValueError,
     r"permute\(\): number of dims don't match"),
    ("permute_str", lambda: tg.permute(x(2, 3), "ab"), TypeError, r"permute\(\).*'dims'"),
    ("rrelu_nan", lambda: F.rrelu(x(3), lower=float("nan")), ValueError,
     r"rrelu: lower bound must be finite"),
    ("rrelu_inf", lambda: F.rrelu(x(3), upper=float("inf")), ValueError, r"upper bound"),
    ("normal_size_with_tensors", lambda: tg.normal(x(3), x(3), size=(3,)), TypeError,
     r"normal\(\): size= goes with a number"),
    ("interpolate_scale_nan", lambda: F.interpolate(x(1, 1, 4), scale_factor=float("nan")),
     ValueError, r"interpolate\(\): scale_factor must be finite"),
    ("upsample_scale_str", lambda: nn.Upsample(scale_factor="abc"), TypeError,
     r"Upsample: scale_factor must be a float"),
    ("diagonal_0d", lambda: tg.diagonal(Tensor(np.array(1.0))), IndexError,
     r"diagonal\(\): Dimension specified as 0 but tensor has no dimensions"),
    ("take_input", lambda: tg.take("a", Tensor(np.array([0]))), TypeError,
     r"take\(\): argument 'input' must be Tensor"),
    ("cat_0d", lambda: tg.cat(Tensor(np.array(1.0))), TypeError, r"got a 0-d Tensor"),
    ("vstack_none", lambda: tg.vstack(None), TypeError, r"vstack\(\): expected a sequence"),
    ("atleast_1d_none", lambda: tg.atleast_1d(None), TypeError, r"atleast_1d\(\)"),
    # NumPy's own errors, naming nothing
    ("broadcast_shapes", lambda: tg.broadcast_shapes((1, "a"), (2,)), TypeError,
     r"broadcast_shapes\(\): each shape must be"),
    ("zeros_like_dtype", lambda: tg.zeros_like(x(2), dtype="abc"), TypeError,
     r"zeros_like\(\): dtype"),
    ("ones_like_dtype", lambda: tg.ones_like(x(2), dtype={"a": 1}), TypeError,
     r"ones_like\(\): dtype"),
    ("vector_norm_dtype", lambda: L.vector_norm(x(2), dtype={"a": 1}), TypeError, r"dtype must be"),
    ("histc_nan", lambda: tg.histc(x(4), bins=3, min=float("nan")), ValueError,
     r"histc\(\).*not finite"),
    ("histc_bins", lambda: tg.histc(x(4), bins="a"), TypeError, r"histc\(\): argument 'bins'"),
    ("histc_min_str", lambda: tg.histc(x(4), min="a"), TypeError, r"histc\(\): argument 'min'"),
    ("zeta_shapes", lambda: S.zeta(x(3, 4), x(0, 4)), ValueError, r"zeta\(\): the shapes"),
    ("normal_shapes", lambda: tg.normal(x(3, 4), x(4, 3)), ValueError, r"normal\(\): the shapes"),
    ("normal__mean_none", lambda: x(3).normal_(mean=None), TypeError, r"normal_\(\)"),
    ("uniform__inf", lambda: x(3).uniform_(0.0, float("inf")), ValueError, r"uniform_"),
    # silent acceptance where torch refuses
    ("arange_step_sign", lambda: tg.arange(0, 5, -1), ValueError,
     r"arange\(\): upper bound and lower bound inconsistent with step sign"),
    ("arange_negative_end", lambda: tg.arange(-3), ValueError, r"inconsistent with step sign"),
    ("cdist_compute_mode", lambda: tg.cdist(x(3, 2), x(4, 2), compute_mode="fast"), ValueError,
     r"cdist\(\): compute_mode must be one of"),
    ("cdist_p_nan", lambda: tg.cdist(x(3, 2), x(4, 2), p=float("nan")), ValueError,
     r"non-negative p"),
    ("pdist_p_nan", lambda: F.pdist(x(3, 2), p=float("nan")), ValueError, r"non-negative p"),
    ("renorm_nan", lambda: tg.renorm(x(2, 3), float("nan"), 0, 1.0), ValueError, r"renorm"),
    ("renorm_maxnorm_nan", lambda: tg.renorm(x(2, 3), 2, 0, float("nan")), ValueError,
     r"maxnorm to be >= 0"),
    ("triplet_margin_ctor", lambda: nn.TripletMarginLoss(margin="a"), TypeError,
     r"TripletMarginLoss: margin must be a real number"),
    ("triplet_margin_ctor_zero", lambda: nn.TripletMarginLoss(margin=0), ValueError,
     r"expected margin to be greater than 0"),
    ("fill_diagonal_wrap", lambda: x(3, 3).fill_diagonal_(0.0, wrap="no"), TypeError,
     r"fill_diagonal_\(\): argument 'wrap' must be bool, not str"),
    ("cat_str", lambda: tg.cat("ab"), TypeError,
     r"cat\(\): tensors must be a sequence of tensors, got str"),
    ("stack_dict", lambda: tg.stack({"a": 1}), TypeError, r"stack.*tensors must be .*got dict"),
    ("sub__alpha_none", lambda: x(3).sub_(x(3), alpha=None), TypeError,
     r"sub_\(\): alpha must be a number, got NoneType"),
    ("unsqueeze__dim", lambda: x(3).unsqueeze_("a"), TypeError, r"unsqueeze_\(\): axis"),
    ("amax_empty", lambda: tg.amax(x(0, 4)), ValueError, r"amax\(\): cannot reduce"),
    ("sdpa_dropout_p", lambda: F.scaled_dot_product_attention(x(2, 3), x(2, 3), x(2, 3),
                                                              dropout_p=-1.0), ValueError,
     r"scaled_dot_product_attention\(\): dropout_p: dropout probability has to be between"),
    ("gaussian_nll_reduction", lambda: F.gaussian_nll_loss(x(3), x(3), x(3), reduction=None),
     ValueError, r"gaussian_nll_loss\(\): None is not valid"),
    ("embedding_bag_weight_str", lambda: nn.EmbeddingBag(10, 4, _weight="abc"), TypeError,
     r"_weight must be a Tensor"),
    ("encoder_layer_names_itself",
     lambda: nn.TransformerEncoderLayer(4, 2, 8)(Tensor(np.ones((5, 2, 3), np.float32))),
     ValueError, r"TransformerEncoderLayer.forward\(\): MultiheadAttention: was expecting "
                 r"embedding dimension of 4"),
    ("addbmm_dtype", lambda: tg.addbmm(x(3, 2), Tensor(np.ones((2, 3, 4), np.int64)), x(2, 4, 2)),
     TypeError, r"addbmm\(\): input, batch1 and batch2 must have the same dtype"),
    ("addbmm_sizes", lambda: tg.addbmm(x(3, 2), x(2, 3, 4), x(2, 3, 2)), ValueError,
     r"addbmm\(\): batch1 \[2, 3, 4\] and batch2 \[2, 3, 2\]"),
    ("max_pool_with_indices_name",
     lambda: F.max_pool2d_with_indices(x(1, 1, 4, 4), kernel_size=10), ValueError,
     r"max_pool2d_with_indices\(\): given input of spatial size"),
    ("lp_pool1d_name", lambda: F.lp_pool1d(x(1, 1, 4), 2.0, kernel_size=10), ValueError,
     r"lp_pool1d\(\): given input of size 4"),
    ("max_pool3d_with_indices_pad",
     lambda: F.max_pool3d_with_indices(x(1, 1, 4, 4, 4), kernel_size=2, padding=5), ValueError,
     r"max_pool3d_with_indices\(\): pad should be at most half"),
    ("constant_pad_module_0d", lambda: nn.ConstantPad1d(1, 0.0)(Tensor(np.array(1.0))),
     ValueError, r"ConstantPad1d.forward\(\): pad must have an even length"),
    ("multi_margin_0d", lambda: F.multi_margin_loss(Tensor(np.array(1.0)), Tensor(np.array(0))),
     ValueError, r"multi_margin_loss\(\): Expected non-empty vector or matrix"),
    ("mv_0d", lambda: tg.mv(Tensor(np.array(1.0)), x(4)), ValueError,
     r"mv\(\): vector \+ matrix @ vector expected, got 0, 1"),
    ("adaptive_max_pool1d_with_indices_rank",
     lambda: F.adaptive_max_pool1d_with_indices(x(3), 2), ValueError,
     r"adaptive_max_pool1d_with_indices\(\): Expected 2D or 3D tensor"),
    # the shared checks deep inside (operands, axes, shapes, broadcasts) named neither the call
    # nor the argument ("unsupported operand type: NoneType", "axis must be an int ...")
    ("add_other_none", lambda: tg.add(x(3), None), TypeError,
     r"add\(\): argument 'other' must be Tensor or Number, not NoneType"),
    ("add__other_str", lambda: x(3).add_("a"), TypeError, r"add_\(\): argument 'other'"),
    ("addcdiv_tensor2", lambda: x(3).addcdiv(x(3), {}), TypeError,
     r"addcdiv\(\): argument 'tensor2' must be Tensor or Number, not dict"),
    ("where_other", lambda: tg.where(x(3) > 0.5, x(3), 1j), TypeError,
     r"where\(\): argument 'other'"),
    ("lerp_weight", lambda: tg.lerp(x(3), x(3), None), TypeError,
     r"lerp\(\): argument 'weight'"),
    ("float_power_exponent", lambda: tg.float_power(x(3), "a"), TypeError,
     r"float_power\(\): argument 'exponent'"),
    ("special_zeta_other", lambda: S.zeta(x(3), None), TypeError, r"zeta\(\): argument 'other'"),
    ("add_list_of_str", lambda: tg.add(x(2), ["a", "b"]), TypeError,
     r"add\(\): argument 'other' must be numeric"),
    ("cat_element_str", lambda: tg.cat([x(2), "ab"]), TypeError,
     r"cat\(\): argument 'tensors' must be numeric"),
    ("transpose_dim1_range", lambda: tg.transpose(x(2, 3), 0, 5), ValueError,
     r"transpose\(\): dim1 5 is out of range for a tensor of 2 dimension\(s\) "
     r"\(expected to be in range of \[-2, 1\]\)"),
    ("sum_dim_str", lambda: tg.sum(x(2, 3), "a"), TypeError, r"sum\(\): dim must be an int"),
    ("roll_dims_not_shifts", lambda: tg.roll(x(2, 3), shifts=3, dims=3), ValueError,
     r"roll\(\): dims 3 is out of range"),
    ("zeros_shape", lambda: tg.zeros(("a", 2)), TypeError, r"zeros\(\): .*sequence of ints"),
    ("div_broadcast", lambda: tg.true_divide(x(3, 4), x(4, 3)), ValueError,
     r"true_divide\(\): operands of shapes \(3, 4\) and \(4, 3\) cannot be broadcast"),
    ("greater_broadcast", lambda: x(3, 4).greater(x(4, 3)), ValueError,
     r"gt\(\): operands of shapes"),  # greater is gt, as in torch
    ("scatter_value", lambda: tg.scatter(x(2, 2), 1, Tensor(np.array([[0], [1]])), "a"),
     TypeError, r"scatter\(\): (argument 'src'|value) must be a number"),
    # NumPy's "operands could not be broadcast together with shapes (3,4) (4,3)": the
    # operators' words instead, with the function's name
    ("xlogy_broadcast", lambda: tg.xlogy(x(3, 4), x(4, 3)), ValueError,
     r"xlogy\(\): operands of shapes \(3, 4\) and \(4, 3\) cannot be broadcast together"),
    ("xlog1py_broadcast", lambda: S.xlog1py(x(3, 4), x(0, 4)), ValueError, r"xlog1py\(\)"),
    ("copysign_broadcast", lambda: tg.copysign(x(3, 4), x(4, 3)), ValueError, r"copysign\(\)"),
    ("xlogy__broadcast", lambda: x(3, 4).xlogy_(x(4, 3)), ValueError,
     r"xlogy_\(\): operands of shapes"),
    ("fmax_broadcast", lambda: tg.fmax(x(3, 4), x(4, 3)), ValueError, r"fmax\(\): operands of shapes"),
    ("floor_divide_broadcast", lambda: tg.floor_divide(x(3, 4), x(4, 3)), ValueError,
     r"floor_divide\(\): operands of shapes"),
    # another function's name, or another argument's
    ("inverse_input", lambda: tg.inverse("a"), TypeError,
     r"inverse\(\): argument 'input' must be Tensor, not str"),
    ("linalg_inv_keeps_torch_words", lambda: L.inv("a"), TypeError,
     r"linalg_inv\(\): argument 'A'"),
    ("pinverse_rcond", lambda: x(3, 3).pinverse(rcond="a"), TypeError,
     r"pinverse\(\): argument 'rcond'"),
    ("triplet_names", lambda: F.triplet_margin_loss(x(3, 4), x(3, 4), x(4, 3)), ValueError,
     r"triplet_margin_loss\(\): anchor of shape \(3, 4\) and negative of shape \(4, 3\)"),
    ("diff_prepend", lambda: tg.diff(x(3), prepend="abc"), TypeError,
     r"diff\(\): argument 'prepend' must be Tensor, not str"),
    ("masked_fill_shapes", lambda: tg.masked_fill(x(3, 4), Tensor(np.ones((4, 3), bool)), 0.5),
     ValueError, r"masked_fill\(\): shapes"),
    ("hstack_empty", lambda: tg.hstack([]), ValueError, r"hstack\(\): need at least one tensor"),
    ("expand_as_shapes", lambda: x(3, 4).expand_as(x(4, 3)), ValueError, r"expand_as\(\)"),
    ("new_full_size", lambda: x(3).new_full(None, 1.0), TypeError, r"new_full\(\): shape"),
    ("tile_negative", lambda: tg.tile(x(2), (-1,)), ValueError, r"tile\(\): sizes must be"),
    ("logical_and__shapes", lambda: x(3, 4).logical_and_(x(4, 3)), ValueError,
     r"logical_and_\(\): operands of shapes"),
    # a hang: NumPy raising 10 to the power 10**12 (round), n differences one by one (diff)
    ("round_decimals_huge", lambda: x(3).round(decimals=10 ** 12), ValueError,
     r"round\(\): decimals must be in \[-308, 308\]"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_argument_is_named(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_operators_keep_python_words_and_factories_their_names():
    # the frame walk names only calls into the public API: `x + None` is an operator
    with pytest.raises(TypeError, match=r"^unsupported operand type: NoneType"):
        x(3) + None
    # a factory-made function's code carries its public name (frames and tracebacks show it)
    assert tg.exp.__code__.co_name == "exp" and tg.atan2.__code__.co_name == "atan2"


def test_a_user_function_between_is_no_api_call():
    def mine(other):  # the walk stops where the package was entered: add's 'other', not mine's
        return tg.sub(x(2), other)
    with pytest.raises(TypeError, match=r"^sub\(\): argument 'other'"):
        mine(None)


def test_flags_still_take_bools_and_numpy_bools():
    a = x(2, 3)
    assert a.sum(1, keepdims=np.True_).shape == (2, 1)
    assert tg.sum(a, 1, keepdim=True).shape == (2, 1)
    assert tg.sort(a, descending=np.False_).values.shape == (2, 3)
    assert Tensor(np.ones(2), requires_grad=np.True_).requires_grad
    assert tg.eq(a, 0.1).dtype == np.bool_ and (a == "a") is False  # the operator still answers
    assert tg.isclose(a, 0.5).shape == (2, 3)  # a number as other: the documented extension


def test_stacks_of_one_tensor_are_that_tensor_stacked():
    # atleast_2d(x) alone returns x, not a sequence: vstack([x]) joined x's rows into (12,)
    a = np.arange(12.0).reshape(3, 4)
    for fn, want in ((tg.vstack, a), (tg.row_stack, a), (tg.hstack, a), (tg.dstack, a[..., None])):
        np.testing.assert_array_equal(fn([Tensor(a)]).numpy(), want)


def test_multinomial_of_empty_inputs_as_torch():
    # reshape(-1, 0) and np.stack([]) were NumPy's errors; torch: no categories is its
    # "cannot sample" error, no rows an empty (0, n) draw
    with pytest.raises(ValueError, match=r"cannot sample n_sample > prob_dist.size\(-1\)"):
        tg.multinomial(Tensor(np.ones(0)), 2)
    out = tg.multinomial(Tensor(np.ones((0, 4))), 2)
    assert out.shape == (0, 2) and out.dtype == np.int64


def test_adaptive_softmax_huge_div_value_gives_empty_clusters():
    # div_value ** 2 overflowed a float (OverflowError, errno 34): the cluster is 0 wide
    with pytest.warns(UserWarning, match="zero-element"):  # torch's warning for width 0 too
        m = nn.AdaptiveLogSoftmaxWithLoss(4, 10, [2, 4], div_value=1e300)
    assert [seq[0].weight.shape for seq in m.tail] == [(0, 4), (0, 4)]


def test_diff_past_the_length_is_empty_not_a_loop():
    out = tg.diff(x(1, 4), n=10 ** 12)
    assert out.shape == (1, 0)


def _rng_state():
    return repr(tg_random.generator().bit_generator.state)


@pytest.mark.parametrize("call", [
    lambda: tg.randint(0, 5, (3,), requires_grad=True),
    lambda: tg.randint(0, 5, (3,), requires_grad="x"),
    lambda: tg.randperm(4, requires_grad=True),
    lambda: tg.randn(3, requires_grad="x"),
    lambda: tg.rand_like(x(3), requires_grad="x"),
    lambda: tg.normal(x(3), x(3), requires_grad="x"),
], ids=["randint", "randint_flag", "randperm", "randn", "rand_like", "normal"])
def test_refused_before_the_generator_moves(call):
    tg.manual_seed(0)
    before = _rng_state()
    with pytest.raises(TypeError, match="requires_grad|require gradients"):
        call()
    assert _rng_state() == before


def test_decoder_layer_refuses_memory_before_drawing_dropout():
    tg.manual_seed(0)
    layer = nn.TransformerDecoderLayer(4, 2, dim_feedforward=8, dtype=np.float64) \
        if "dtype" in nn.TransformerDecoderLayer.__init__.__code__.co_varnames \
        else nn.TransformerDecoderLayer(4, 2, dim_feedforward=8)
    dt = layer.linear1.weight.dtype
    tgt = Tensor(np.ones((3, 2, 4), dt))
    memory = Tensor(np.ones((5, 4), dt))  # 2-D memory for a 3-D tgt
    before = _rng_state()
    with pytest.raises(ValueError, match="expected `key` and `value` to be 3-D"):
        layer(tgt, memory)
    assert _rng_state() == before


def test_transformer_refuses_mismatched_inputs_before_the_encoder_draws():
    tg.manual_seed(0)
    model = nn.Transformer(d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                           dim_feedforward=8)
    dt = model.encoder.layers[0].linear1.weight.dtype
    src, tgt = Tensor(np.ones((5, 4), dt)), Tensor(np.ones((3, 2, 4), dt))
    before = _rng_state()
    with pytest.raises(ValueError, match="both be batched"):
        model(src, tgt)
    with pytest.raises(TypeError, match="tgt"):
        model(Tensor(np.ones((5, 2, 4), dt)), Tensor(np.ones((3, 2, 4), np.int64)))
    assert _rng_state() == before


def test_transformer_stacks_name_a_1d_input():
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, dim_feedforward=8), 1)
    with pytest.raises(ValueError, match="TransformerEncoder: src: expected an unbatched 2-D"):
        enc(Tensor(np.ones(4, np.float32)))


def test_polygamma_past_170_is_infinite_not_an_overflow_error():
    # 171! does not fit a float64: torch's kernel gives inf there; float(171!) raised here
    out = S.polygamma(171, Tensor(np.array([0.3, 5.0]))).numpy()
    np.testing.assert_array_equal(out, [np.inf, np.inf])


def test_normalize_takes_a_huge_eps():
    # eps ** p overflowed a Python float (OverflowError); torch clamps every norm to eps
    a = np.linspace(0.1, 0.9, 12).reshape(3, 4)
    np.testing.assert_allclose(F.normalize(Tensor(a), eps=1e300).numpy(), a / 1e300)
