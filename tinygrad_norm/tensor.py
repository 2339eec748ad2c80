"""Tensor: an ndarray with ``requires_grad`` and ``grad``, its operators and methods.

Every differentiable method is one primitive of ``ops`` (or a few of them); recording onto the
tape happens in ``_make`` and in the two hot paths written out beside it, ``_binary`` (operators)
and ``_unary`` (exp, rsqrt, relu, ...), because Python overhead per op is what small models pay
for.
"""
from __future__ import annotations

import functools
import math
import numbers
import operator
import weakref
from collections import namedtuple

import numpy as np

from . import default_dtype as _dd
from . import devices as _devices
from . import printing as _printing
from . import ops
from . import _argname
from . import random as _random
from .autograd import GroupHook, LateHook, Node, _state, mark_written, no_grad, replay
from .autograd import backward_inputs as _backward_inputs

_new = object.__new__
# forward_ad._propagate while a dual level is open, else None: the one global each op path
# reads for forward mode (forward_ad.py), so that it costs a load and a compare when off
_forward = None
_SCALARS = (int, float)
_BASIC = (int, slice, type(None), type(Ellipsis))


def _make(op, out, inputs, arrays, kw=None, extra=None):
    """Wrap ``out`` as a Tensor and, if any input wants a gradient and grad is enabled, record
    the node that produced it."""
    if type(out) is not np.ndarray:
        out = np.asarray(out)  # NumPy returns scalars from 0-d ops; a Tensor always holds an array
    t = _new(Tensor)
    t._data = out
    if _state.enabled:
        needs = tuple([type(x) is Tensor and x._requires_grad for x in inputs])
        if True in needs:
            t._requires_grad = True
            t._node = Node(op, inputs, kw, t, needs,
                           (arrays, out if op.saves_out else None, extra))
    if _forward is not None:
        _forward(op, t, inputs, arrays, kw, extra)
    return t


def _fw_module():
    from . import forward_ad  # (imports this module: loaded on first use, with a level open)
    return forward_ad


def apply(op, *inputs, **kw):
    """Run primitive ``op`` on tensors (or Python scalars) and record it."""
    arrays = tuple([x._data if type(x) is Tensor else x for x in inputs])
    out = op.forward(*arrays, **kw)
    extra = None
    if op.keeps_extra:
        out, extra = out
    return _make(op, out, inputs, arrays, kw, extra)


def _view(x, op, kw):
    """``apply(op, x, **kw)`` for an op whose result may view ``x``'s memory (basic indexing,
    reshape, transpose, broadcast_to). In grad mode the result is listed on ``x`` (or on the
    tensor ``x`` itself views), so that a recorded write into that tensor later gives it the
    new history, as torch's views follow their base (inplace_record.py)."""
    out = apply(op, x, **kw)
    if _state.enabled and out._data.base is not None and x._data.dtype.kind in "fc":
        _inplace.register_view(x, out, op, kw)
    return out


def _unary(op, x):
    """``apply(op, x)`` for a one-input primitive without keywords (exp, rsqrt, relu, ...),
    written out: ~0.8 us a call less, and a network calls these a few times a layer."""
    a = x._data
    out = op.forward(a)
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    t = _new(Tensor)
    t._data = out
    if _state.enabled and x._requires_grad and type(x) is Tensor:  # as _make decides
        t._requires_grad = True
        t._node = Node(op, (x,), None, t, (True,), ((a,), out if op.saves_out else None, None))
    if _forward is not None:
        _forward(op, t, (x,), (a,), None, None)
    return t


def _operand(x, named=True):
    """A Tensor or a Python scalar. NumPy scalars become Python scalars so that a float32 graph
    is not promoted to float64 by NumPy 2's rules; arrays and lists become constant Tensors.
    ``named=False`` for a caller that catches the TypeError (``==`` answers NotImplemented):
    the frame walk that names the argument would be paid for nothing."""
    if type(x) is Tensor or type(x) in _SCALARS:
        return x
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (numbers.Integral, numbers.Real)) and not isinstance(x, np.ndarray):
        if isinstance(x, np.generic):
            return x.item()
        # Fraction, Decimal-like Reals: NumPy would make an object array of them
        return int(x) if isinstance(x, numbers.Integral) else float(x)
    if isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "biuf":
        return x.item()  # a 0-d array is a NumPy scalar too: np.array(2.0) must not promote
    if isinstance(x, (np.ndarray, list, tuple)):
        return Tensor(x)
    # the error path only: which call of the API, and which of its arguments, this came in as
    fn, arg = _argname.caller(x) if named else (None, None)
    if arg is not None:
        raise TypeError(f"{fn}(): argument '{arg}' must be Tensor or Number, not "
                        f"{type(x).__name__}")
    raise TypeError(f"{fn + '(): ' if fn else ''}unsupported operand type: {type(x).__name__} "
                    f"(expected a Tensor, an ndarray or a Python number)")


def _other_tensor(x, fn):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument 'other' must be Tensor, not {type(x).__name__}")
    return x


def _shape_of(x):
    return x._data.shape if type(x) is Tensor else np.shape(x)


class _Size(int):
    """``Tensor.size``: NumPy's element count, an int, that PyTorch code may also call --
    ``x.size()`` the shape and ``x.size(d)`` the length of dim ``d``, as torch's method, so the
    commonest torch idiom (``x.size(0)``) works rather than 'int object is not callable'."""
    def __new__(cls, count, shape):
        self = int.__new__(cls, count)
        self._shape = shape
        return self

    def __call__(self, dim=None):
        shape = self._shape
        if dim is None:
            return shape
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise TypeError(f"size(): argument 'dim' must be int, not {type(dim).__name__}")
        n = len(shape)
        if not shape:  # (the package's ValueError for a dim out of range; torch: IndexError)
            raise ValueError(f"Dimension specified as {dim} but tensor has no dimensions")
        if not -n <= dim < n:
            raise ValueError(f"Dimension out of range (expected to be in range of [{-n}, "
                             f"{n - 1}], but got {dim})")
        return shape[dim]

    def __reduce__(self):  # pickled (deepcopy, pickle) as the plain count it stands for
        return int, (int(self),)


def _promoted(a, b, op):
    """Two arrays in PyTorch's result type, where NumPy's would differ: a float operand's dtype
    wins over an integer or bool one (float32 with int64 is float32, NumPy says float64); within
    one kind a dimensioned operand's dtype wins over a 0-d one's (float32 with a 0-d float64 is
    float32); integers divided are float32; float32 with float64 (both dimensioned or both 0-d)
    is float64, the float32 operand cast before the op. Otherwise NumPy's promotion."""
    fa, fb = a.dtype.kind in "fc", b.dtype.kind in "fc"
    if fa != fb:
        return (a, b.astype(a.dtype)) if fa else (a.astype(b.dtype), b)
    if not fa and op is ops.Div:
        return a.astype(_dd.DEFAULT), b.astype(_dd.DEFAULT)
    if fa and a.dtype != b.dtype and (a.ndim == 0) == (b.ndim == 0):
        # float32 with float64: the narrower one cast up front, as torch computes in the result
        # type -- left to NumPy, a VJP reading the float32 operand (pow's log(a) for the
        # exponent's gradient) would give a float64 gradient float32's digits
        wide = np.promote_types(a.dtype, b.dtype)
        return a.astype(wide, copy=False), b.astype(wide, copy=False)
    if a.dtype != b.dtype and (a.ndim == 0) != (b.ndim == 0) and \
            _CATEGORY[a.dtype.kind] == _CATEGORY[b.dtype.kind]:  # bool with an int 0-d: int
        with np.errstate(over="ignore"):  # a 0-d value beyond the narrower type: inf, as torch
            return (a.astype(b.dtype), b) if a.ndim == 0 else (a, b.astype(a.dtype))
    return a, b


_DIV = ops.Div
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}  # torch's: bool < integer < float < complex


def _binary(op, a, b):
    if type(b) is not Tensor and type(b) not in _SCALARS:
        b = _operand(b)
    if type(a) is not Tensor and type(a) not in _SCALARS:
        a = _operand(a)
    ad = a._data if type(a) is Tensor else a
    bd = b._data if type(b) is Tensor else b
    # PyTorch's result type where NumPy's differs (_promoted); the usual case -- two arrays of
    # one dtype, or an array and a Python float -- costs two type tests and one dtype test
    if type(ad) is np.ndarray:
        if type(bd) is np.ndarray:
            if ad.dtype is not bd.dtype or op is _DIV:
                ad, bd = _promoted(ad, bd, op)
        elif (type(bd) is float or op is _DIV) and ad.dtype.kind in "biu":
            ad = ad.astype(_dd.DEFAULT)  # torch: an integer tensor with a float: default dtype
    elif type(bd) is np.ndarray and (type(ad) is float or op is _DIV) and bd.dtype.kind in "biu":
        bd = bd.astype(_dd.DEFAULT)
    try:
        out = op.forward(ad, bd)
    except ValueError:
        try:  # only a shape error becomes one: e.g. an integer to a negative power keeps NumPy's
            np.broadcast_shapes(_shape_of(a), _shape_of(b))
        except ValueError:
            raise ValueError(f"{_argname.function_prefix(op.name + ': ')}operands of shapes "
                             f"{_shape_of(a)} and {_shape_of(b)} cannot be broadcast "
                             f"together") from None
        raise
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    t = _new(Tensor)
    t._data = out
    if _state.enabled:
        na = type(a) is Tensor and a._requires_grad
        nb = type(b) is Tensor and b._requires_grad
        if na or nb:
            t._requires_grad = True
            t._node = Node(op, (a, b), None, t, (na, nb),
                           ((ad, bd), out if op.saves_out else None,
                            ops.SAME if a is b else None))
    if _forward is not None:
        _forward(op, t, (a, b), (ad, bd), None, None)
    return t


def _equality(fn, a, b):
    """``a == b`` / ``!=``; NotImplemented for what is no operand (None, a string), as torch
    answers "not equal" there: ``None in [t]`` must not raise. Python then compares identities."""
    try:
        b = _operand(b, named=False)
    except TypeError:
        return NotImplemented
    return _compare(fn, a, b)


def _named_compare(fn, name, a, b):
    """``a.eq(b)`` and its kin by name: unlike the ``==`` operator, which answers False for a
    string or None (Python's identity fallback), torch's named comparisons refuse them."""
    try:
        b = _operand(b, named=False)
    except TypeError:
        raise TypeError(f"{name}(): argument 'other' must be Tensor or Number, not "
                        f"{type(b).__name__}") from None
    return _compare(fn, a, b)


def _compare(fn, a, b):
    b = _operand(b)
    bd = b._data if type(b) is Tensor else b
    try:
        out = fn(a._data, bd)
    except ValueError:
        raise ValueError(f"{_argname.function_prefix('comparison: ')}operands of shapes {a.shape} "
                         f"and {_shape_of(b)} cannot be broadcast together") from None
    return Tensor._wrap(np.asarray(out))


def _axes(axis, ndim, what="axis"):
    """Normalize ``axis`` (None, int or tuple, negative allowed) to a sorted tuple."""
    if type(axis) is int and -ndim <= axis < ndim:  # the common case, before the checks below
        return (axis % ndim,)
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is tuple and _sorted_axes(axis, ndim):  # already normal: the composites' case
        return axis
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in items:
        if isinstance(a, (bool, np.bool_)):  # operator.index(True) is 1: summing axis 1 by accident
            raise TypeError(f"{_axis_name(axis, what)} must be an int or a tuple of ints, got "
                            f"{axis!r}")
        try:
            a = operator.index(a)
        except TypeError:
            raise TypeError(f"{_axis_name(axis, what)} must be an int or a tuple of ints, got "
                            f"{axis!r}") from None
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"{_axis_name(axis, what)} {a} is out of range for a tensor of {ndim} "
                             f"dimension(s) (expected to be in range of [{-max(ndim, 1)}, "
                             f"{max(ndim, 1) - 1}])")
        if ndim:  # a 0-d tensor takes axis 0 or -1, as in torch, and has no axis to reduce:
            out.append(a % ndim)  # NumPy rejects axis=(0,) on it, so it must become ()
    if len(set(out)) != len(out):
        raise ValueError(f"{_argname.function_prefix()}repeated {what} in {axis!r}")
    return tuple(sorted(out))


def _axis_name(axis, what):
    """``"transpose(): dim1"``: the call and the parameter a bad axis came in as (error path),
    unless the caller named both already (``"unsqueeze(): dim"``)."""
    if "(): " in what:  # the caller's own words, under the name the user called it by
        fn, rest = what.split("(): ", 1)
        return _argname.head(f"{fn}(): ", fn) + rest
    return _argname.prefix(axis, what, prefer=("dim", "axis"))


def _one_axis(axis, ndim, what="axis"):
    """One axis (an int, negative allowed), normalized. None, a tuple or a list is a TypeError:
    ``_axes`` takes those, and its first entry would silently stand for the whole."""
    if axis is None or isinstance(axis, (tuple, list)):
        raise TypeError(f"{_axis_name(axis, what)} must be an int, got {axis!r}")
    return _axes(axis, ndim, what)[0]


def _sorted_axes(axis, ndim):
    """Whether ``axis`` is a tuple of plain ints, increasing, within ``range(ndim)``: what
    ``_axes`` would return for it."""
    last = -1
    for a in axis:
        if type(a) is not int or not last < a < ndim:
            return False
        last = a
    return True


def _shape_arg(shape):
    given = shape
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    try:
        if any(isinstance(s, (bool, np.bool_)) for s in shape):
            raise TypeError  # operator.index(True) is 1: a bool is no size, as NumPy says
        return tuple(operator.index(s) for s in shape)
    except TypeError:
        name = _argname.prefix(given if _argname.caller(given)[1] else shape, "shape")
        raise TypeError(f"{name} must be a sequence of ints, got {shape!r}") from None


def _new_shape(shape, fn):
    """The shape of a new tensor: ints, none negative. Checked here so that the error names the
    constructor and the shape, not NumPy's "negative dimensions are not allowed"."""
    shape = _shape_arg(shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"{fn}(): shape must not have negative sizes, got {shape}")
    return shape


def _dtype_arg(dtype, fn, floating=False):
    """``np.dtype(dtype)``, a numeric one (a float one with ``floating``), or a TypeError that
    names the argument: a Tensor never holds strings, objects or complex numbers."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{fn}(): dtype must be a NumPy dtype, got {dtype!r}") from None
    if floating and dt.kind != "f":
        raise TypeError(f"{fn}(): dtype must be floating point, got {dt}")
    if dt.kind not in "biuf":
        raise TypeError(f"{fn}(): dtype must be numeric (bool, int or float), got {dt}")
    return dt


def _index_arg(index):
    """Indices as NumPy takes them (tensors and lists become arrays); whether it is basic."""
    items = index if type(index) is tuple else (index,)
    norm, basic = [], True
    for i in items:
        if isinstance(i, Tensor):
            i = i._data
        elif isinstance(i, list):
            i = np.asarray(i)
            if i.size == 0:  # [] or [[], []] would be float64: an empty integer index, as NumPy
                i = i.astype(np.intp)
        if not isinstance(i, _BASIC) or isinstance(i, bool):
            if isinstance(i, np.integer):
                i = int(i)
            else:
                basic = False
        norm.append(i)
    return (tuple(norm) if type(index) is tuple else norm[0]), basic


def _as_data(data, dtype):
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, (np.ndarray, np.generic)):
        arr = np.asarray(data)
    else:
        try:
            arr = np.asarray(data)
        except (ValueError, TypeError) as e:
            raise TypeError(f"Tensor(): cannot make a tensor of {type(data).__name__}: {e}") from None
        if arr.dtype.kind in "iuf":
            if dtype is not None:  # straight to the dtype asked for: through float32 first,
                # 0.1 as float64 was 0.10000000149 and 16777217 as int64 was 16777216
                try:
                    with np.errstate(over="ignore"):  # 1e5 as float16: inf, as PyTorch's
                        return np.array(data, dtype=_dtype_arg(dtype, "Tensor"))
                except (OverflowError, ValueError) as e:  # 2**31 or NaN as int32: NumPy's
                    # error names nothing
                    raise ValueError(f"Tensor(): a value does not fit dtype {np.dtype(dtype)} "
                                     f"({e})") from None
            arr = arr.astype(_dd.DEFAULT)  # Python numbers: the default dtype, as in PyTorch
    # before a dtype= cast, which would turn None into nan, "1.5" into 1.5 and drop imaginary parts
    if arr.dtype.kind not in "biuf":
        fn, arg = _argname.caller(data)  # "Tensor(): data" or the argument of the call it came in
        what = "Tensor(): data" if fn in (None, "Tensor") or arg is None else \
            f"{fn}(): argument '{arg}'"
        raise TypeError(f"{what} must be numeric (bool, int or float), got dtype {arr.dtype}")
    if dtype is not None:
        arr = arr.astype(_dtype_arg(dtype, "Tensor"), copy=False)
    return arr


def _bool_arg(v, name, fn):
    """A bool argument (``keepdim``, ``requires_grad``, ``descending``, ...) as a Python bool, or a
    ``TypeError`` in the words of ``functional._checks._flag`` (which the Tensor layer cannot
    import: the functional package imports this module). Read by truth value, ``keepdim="False"``
    kept the dims and ``requires_grad="no"`` tracked gradients, silently. A NumPy bool is taken."""
    if type(v) is bool:
        return v
    if isinstance(v, np.bool_):
        return bool(v)
    raise TypeError(f"{fn}(): argument '{name}' must be bool, not {type(v).__name__}")


def _int_arg(v, name, fn):
    """An int argument (bools refused), or a ``TypeError`` naming it: ``operator.index`` alone
    says "'str' object cannot be interpreted as an integer", naming nothing."""
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{fn}(): argument '{name}' must be int, not bool")
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"{fn}(): argument '{name}' must be int, not {type(v).__name__}") from None


class _Unset:
    """The default of a keyword that counts as not given (``UNSET`` in docs/api.md): torch's
    ``dim=``/``keepdim=`` on the NumPy-named methods, NumPy's names on torch-named ones."""
    __slots__ = ()

    def __repr__(self):
        return "UNSET"


_UNSET = _Unset()


def _numpy_names(method):
    """A torch-named reduction (``dim=``, ``keepdim=``) that also takes NumPy's ``axis=`` and
    ``keepdims=``, as the library's NumPy-named methods do (``x.any(axis=1)`` as ``x.sum(axis=1)``);
    both spellings of one argument is a TypeError."""
    @functools.wraps(method)
    def wrapper(self, *args, axis=_UNSET, keepdims=_UNSET, **kwargs):
        for numpy_name, torch_name, value in (("axis", "dim", axis),
                                              ("keepdims", "keepdim", keepdims)):
            if value is not _UNSET:
                if torch_name in kwargs:
                    raise TypeError(f"{method.__name__}(): got both {torch_name}= and "
                                    f"{numpy_name}=; give one")
                kwargs[torch_name] = value
        return method(self, *args, **kwargs)
    return wrapper


def _given(value, default):
    """Whether a NumPy-named argument was given: it differs from its default (a value equal to
    the default cannot be told from none, as in ``functions._pick``)."""
    return value is not default and not (type(value) is int and value == default)


def _torch_dims(fn, axis, keepdims, dim, keepdim, all_if_empty=False, axis_default=None):
    """``(axis, keepdims)`` of a NumPy-named method called with torch's ``dim=``/``keepdim=``
    (each ``_UNSET`` where not given). Both spellings of one argument is a TypeError naming
    both, as ``_numpy_names`` says it. ``all_if_empty``: torch's reductions (sum, mean, std,
    var, ...) read ``dim=()`` or ``[]`` as every dim, where NumPy's ``axis=()`` reduces none."""
    if dim is not _UNSET:
        if _given(axis, axis_default):
            raise TypeError(f"{fn}(): got both dim= and axis=; give one")
        axis = dim
        if all_if_empty and isinstance(dim, (tuple, list)) and len(dim) == 0:
            axis = None
    if keepdim is not _UNSET:
        if keepdims is not False:
            raise TypeError(f"{fn}(): got both keepdim= and keepdims=; give one")
        keepdims = keepdim
    return axis, keepdims


def _torch_dim(fn, axis, dim, axis_default=None):
    """The one axis of a NumPy-named method (cumsum, softmax, ...) called with torch's
    ``dim=``; both spellings is a TypeError, as in ``_torch_dims``."""
    if _given(axis, axis_default):
        raise TypeError(f"{fn}(): got both dim= and axis=; give one")
    return dim


def _float_unary(op):
    """The method ``x.<op>()`` of a one-input primitive that makes floats (exp, log, ...): an
    integer or bool tensor is computed in a float type of at least 32 bits (see
    ``Tensor._floating``), a float tensor as it is, tested inline (no extra call: ~0.1 us)."""
    def method(self):
        return _unary(op, self if self._data.dtype.kind == "f" else self._floating())
    return _argname.rename(method, op.name)


class Tensor:
    """An n-dimensional array that can record the operations done on it for differentiation."""

    # NumPy defers to our reflected operators: ``ndarray + Tensor`` is a Tensor.
    __array_ufunc__ = None
    __array_priority__ = 1000

    # ``data`` is read more than any other attribute: it lives in the slot ``_data``, read
    # through the ``data`` property (a C-level getter) and written, by the engine, straight into
    # the slot; an assignment to ``t.data`` is checked (below, after the class). The engine's hot
    # paths read ``_data`` and ``_requires_grad`` directly: a property read costs ~30 ns more.
    __slots__ = ("_data", "__dict__", "__weakref__")

    # Class-level defaults keep construction to one attribute store on the hot path.
    _requires_grad = False
    _grad = None
    _node = None
    _hooks = None
    _post_hooks = None  # register_post_accumulate_grad_hook's, run after .grad is accumulated
    name = None
    _detached = False
    _versions = None  # histories before recorded in-place writes (inplace_record.py)
    _views = None  # views of this tensor's memory, and (root, ops) of a view (inplace_record.py)
    _view_path = None
    _fw = None  # (level token, tangent array) of a dual tensor (forward_ad.py)
    _fw_view = None  # a view's way from its root's tangent (forward_ad._note_view)

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        if requires_grad is not False:  # one identity test on the common path
            requires_grad = _bool_arg(requires_grad, "requires_grad", "Tensor")
        if type(data) is np.ndarray and dtype is None and data.dtype.kind == "f":
            # a float array taken as it is, without _as_data's checks (~0.4 us): a training
            # loop may wrap its arrays as fresh leaves every step
            self._data = data
            if requires_grad:
                self._requires_grad = True
        else:
            self._data = _as_data(data, dtype)
            if requires_grad:
                self.requires_grad_(True)
        if name is not None:
            self.name = str(name)

    def __getstate__(self):
        """What pickle and deepcopy keep: the data, requires_grad, the name and the marks, as a
        leaf. Not the gradient, the hooks (a lambda cannot be pickled) or the node that made it,
        as a PyTorch parameter's copy keeps none of them."""
        state = dict(self.__dict__)
        # (and not the graph bookkeeping of in-place writes: the copy is a leaf, the view of
        # nothing; the list of views holds weak references, which cannot be pickled)
        # (nor a forward-mode tangent, tied to the dual level that made it; a view's way to
        # its root's tangent holds a weak reference too)
        for k in ("_grad", "_hooks", "_post_hooks", "_node", "_requires_grad", "_versions",
                  "_views", "_view_path", "_fw", "_fw_view"):
            state.pop(k, None)
        state["data"] = self._data
        if self._requires_grad:
            state["requires_grad"] = True
        return state

    def __setstate__(self, state):
        state = dict(state)
        self._data = state.pop("data")
        if state.pop("requires_grad", False):
            self._requires_grad = True
        self.__dict__.update(state)

    def _set_data(self, value):
        """``t.data = value``, checked as PyTorch's: an ndarray, or a Tensor whose array is taken
        (``p.data = q``, torch's idiom), of a numeric dtype, and a floating one while this tensor
        requires grad. A NumPy scalar becomes a 0-d array. Checked before anything changes."""
        if type(value) is not np.ndarray:
            if isinstance(value, Tensor):
                value = value._data
            elif isinstance(value, (np.ndarray, np.generic)):
                value = np.asarray(value)
            else:
                raise TypeError(f"Tensor.data must be an ndarray or a Tensor, got "
                                f"{type(value).__name__}")
        kind = value.dtype.kind
        if kind != "f":  # (one test for the usual float array)
            if kind not in "biu":
                raise TypeError(f"Tensor.data must be numeric (bool, int or float), got dtype "
                                f"{value.dtype}")
            if self._requires_grad:
                raise TypeError(f"data set to a tensor that requires gradients must be "
                                f"floating point, got dtype {value.dtype}")
        self._data = value

    def _set_requires_grad(self, value):
        """``t.requires_grad = flag``, checked as PyTorch's: a bool, on a leaf only (a computed
        tensor keeps what its inputs decide: ``detach()`` cuts it off), True for a floating
        tensor only."""
        if type(value) is not bool:
            raise TypeError(f"requires_grad must be a bool, got {type(value).__name__}")
        if self._node is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables" +
                ("" if value else ". If you want to use a computed variable in a subgraph that "
                                  "doesn't require differentiation use var_no_grad = var.detach()"))
        if value and self._data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, got dtype "
                            f"{self._data.dtype}")
        self._requires_grad = value

    @property
    def grad(self):
        """The accumulated gradient: a Tensor of this tensor's shape, or None."""
        return self._grad

    @grad.setter
    def grad(self, value):
        # checked here, as PyTorch checks it, not as a broadcasting error at the next backward
        # (or a (1,) tensor silently left with a (3,) gradient)
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None, but got "
                                f"{type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise ValueError(f"attempting to assign a gradient of shape {value.data.shape} "
                                 f"to a tensor of shape {self.data.shape}")
            if value._data.dtype != self._data.dtype:
                raise TypeError(f"attempting to assign a gradient of dtype {value.data.dtype} "
                                f"to a tensor of dtype {self.data.dtype}")
        self._grad = value

    @classmethod
    def _wrap(cls, arr):
        t = _new(cls)
        t._data = arr
        return t

    def requires_grad_(self, flag=True):
        flag = _bool_arg(flag, "requires_grad", "requires_grad_")
        if flag and self._data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, got dtype "
                            f"{self.data.dtype}")
        if not flag and self._node is not None:
            raise RuntimeError("you can only change requires_grad of leaf tensors; use detach()")
        self._requires_grad = bool(flag)
        return self

    # ---- constructors ---------------------------------------------------------------------------
    @staticmethod
    def zeros(*shape, dtype=None, requires_grad=False, device=None):
        _devices.check_device(device, "zeros()")
        dt = _dtype_arg(_dd.default_or(dtype), "zeros")  # None: the default dtype, as torch
        return Tensor(np.zeros(_new_shape(shape, "zeros"), dtype=dt),
                      requires_grad=requires_grad)

    @staticmethod
    def ones(*shape, dtype=None, requires_grad=False, device=None):
        _devices.check_device(device, "ones()")
        dt = _dtype_arg(_dd.default_or(dtype), "ones")
        return Tensor(np.ones(_new_shape(shape, "ones"), dtype=dt),
                      requires_grad=requires_grad)

    @staticmethod
    def full(shape, fill_value, dtype=None, requires_grad=False, *, device=None):
        _devices.check_device(device, "full()")
        if not isinstance(shape, numbers.Integral):
            try:
                shape = tuple(shape)
            except TypeError:
                raise TypeError(f"{_argname.head('full(): ', 'full')}shape must be an int or a "
                                f"sequence of ints, got "
                                f"{shape!r}") from None
        shape = _new_shape(shape if isinstance(shape, tuple) else (shape,), "full")
        fill_value = _scalar_arg(fill_value, "full(): fill_value")
        if fill_value is None:
            raise TypeError("full(): fill_value must be a number, got None")
        dt = _dtype_arg(_dd.default_or(dtype), "full")
        try:
            with np.errstate(over="raise", invalid="raise"):  # 1e5 as float16 was a silent inf
                data = np.full(shape, fill_value, dtype=dt)
        except (FloatingPointError, OverflowError, ValueError):
            raise ValueError(f"full(): fill_value {fill_value!r} does not fit dtype {dt}") from None
        return Tensor(data, requires_grad=requires_grad)

    @staticmethod
    def randn(*shape, dtype=None, requires_grad=False, device=None, generator=None):
        _devices.check_device(device, "randn()")  # before the generator moves
        _bool_arg(requires_grad, "requires_grad", "randn")  # before the generator moves
        # A float dtype only: an integer "normal sample" would be silently truncated.
        dtype = _dtype_arg(_dd.default_or(dtype), "randn", floating=True)
        shape = _new_shape(shape, "randn")
        rng = _random.resolve(generator, "randn")
        arr = rng.standard_normal(shape).astype(dtype, copy=False)
        return Tensor(arr, requires_grad=requires_grad)

    @staticmethod
    def rand(*shape, dtype=None, requires_grad=False, device=None, generator=None):
        _devices.check_device(device, "rand()")  # before the generator moves
        _bool_arg(requires_grad, "requires_grad", "rand")  # before the generator moves
        dtype = _dtype_arg(_dd.default_or(dtype), "rand", floating=True)
        rng = _random.resolve(generator, "rand")
        arr = rng.random(_new_shape(shape, "rand")).astype(dtype, copy=False)
        return Tensor(arr, requires_grad=requires_grad)

    @staticmethod
    def uniform(*shape, low=0.0, high=1.0, dtype=None, requires_grad=False):
        _bool_arg(requires_grad, "requires_grad", "uniform")  # before the generator moves
        dtype = _dtype_arg(_dd.default_or(dtype), "uniform", floating=True)
        shape = _new_shape(shape, "uniform")
        low, high = _scalar_arg(low, "uniform(): low"), _scalar_arg(high, "uniform(): high")
        if low is None or high is None or not low <= high:
            raise ValueError(f"uniform(): need low <= high, got low={low!r}, high={high!r}")
        arr = _random.generator().uniform(low, high, shape).astype(dtype, copy=False)
        return Tensor(arr, requires_grad=requires_grad)

    @staticmethod
    def arange(start, stop=None, step=1, dtype=None, requires_grad=False, *, device=None):
        _devices.check_device(device, "arange()")
        bounds = []
        for v, name in ((start, "start"), (stop, "stop"), (step, "step")):
            if v is None and name != "stop":  # _scalar_arg lets None through (an unset bound)
                raise TypeError(f"arange(): {name} must be a number, got None")
            bounds.append(_scalar_arg(v, f"arange(): {name}"))  # a TypeError naming it
        start, stop, step = bounds
        if step == 0:
            raise ValueError("arange(): step must be non-zero")  # NumPy: ZeroDivisionError
        lo, hi = (0, start) if stop is None else (start, stop)
        if (hi - lo) * step < 0:  # NumPy answered an empty tensor; torch refuses
            raise ValueError(f"arange(): upper bound and lower bound inconsistent with step "
                             f"sign (start={lo}, end={hi}, step={step})")
        arr = np.arange(start, stop, step) if stop is not None else np.arange(0, start, step)
        if dtype is None and float not in (type(start), type(stop), type(step)):
            dt = np.dtype(np.int64)  # integer bounds: int64, as torch and NumPy (x[arange(n), y])
        else:
            dt = _dtype_arg(_dd.default_or(dtype), "arange")
        return Tensor(arr.astype(dt), requires_grad=requires_grad)

    @staticmethod
    def eye(n, m=None, dtype=None, requires_grad=False, *, device=None):
        _devices.check_device(device, "eye()")
        n, m = _new_shape((n, n if m is None else m), "eye")
        dt = _dtype_arg(_dd.default_or(dtype), "eye")
        return Tensor(np.eye(n, m, dtype=dt), requires_grad=requires_grad)

    @staticmethod
    def zeros_like(t, dtype=None, requires_grad=False, *, device=None):
        _devices.check_device(device, "zeros_like()")
        d = t._data if isinstance(t, Tensor) else np.asarray(t)
        dtype = None if dtype is None else _dtype_arg(dtype, "zeros_like")  # not NumPy's error
        return Tensor(np.zeros_like(d, dtype=dtype), requires_grad=requires_grad)

    @staticmethod
    def ones_like(t, dtype=None, requires_grad=False, *, device=None):
        _devices.check_device(device, "ones_like()")
        d = t._data if isinstance(t, Tensor) else np.asarray(t)
        dtype = None if dtype is None else _dtype_arg(dtype, "ones_like")  # not NumPy's error
        return Tensor(np.ones_like(d, dtype=dtype), requires_grad=requires_grad)

    # ---- properties and interop ---------------------------------------------------------------
    shape = property(lambda self: self._data.shape)
    ndim = property(lambda self: self._data.ndim)
    size = property(lambda self: _Size(self._data.size, self._data.shape))
    dtype = property(lambda self: self._data.dtype)
    is_leaf = property(lambda self: self._node is None)
    grad_fn = property(lambda self: self._node)
    T = property(lambda self: self.transpose())

    def numpy(self):
        return self._data

    def item(self):
        if self._data.size != 1:
            raise ValueError(f"item(): only a one-element tensor can be converted to a Python "
                             f"scalar, got shape {self.shape}")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        if copy:
            return np.array(self._data, dtype=dtype, copy=True)
        if copy is False and dtype is not None and np.dtype(dtype) != self._data.dtype:
            raise ValueError(f"Unable to avoid copy while creating an array as requested: the "
                             f"tensor holds {self.data.dtype}, not {np.dtype(dtype)}")
        return self._data if dtype is None else self._data.astype(dtype, copy=False)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self):
        return bool(self._data)

    def __float__(self):
        return float(self.item())

    def __format__(self, spec):
        """``f"{loss:.4f}"``: a 0-d tensor formats as its number, as torch's (other tensors take
        no format spec)."""
        if self._data.size == 1 and self._data.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec) if spec else str(self)

    def __int__(self):
        return int(self.item())

    __hash__ = object.__hash__

    def __repr__(self):
        body = np.array2string(self._data, separator=", ", prefix="Tensor(",
                               **_printing.array2string_options())
        extra = f", dtype={self.data.dtype}"
        if self._data.size == 0 and self._data.ndim > 1:  # "[]" alone hides it, as in NumPy
            extra = f", shape={self.data.shape}" + extra
        if self._node is not None:
            extra += f", grad_fn={self._node.op.name}"
        elif self._requires_grad:
            extra += ", requires_grad=True"
        if self.name:
            extra += f", name={self.name!r}"
        return f"Tensor({body}{extra})"

    def detach(self):
        t = Tensor._wrap(self._data)
        t._detached = self._requires_grad  # so a graph can say the gradient stopped here on purpose
        return t

    def zero_grad(self):
        self.grad = None

    def register_hook(self, fn):
        """Call ``fn(grad)`` when this tensor's gradient is computed; a non-None return value
        replaces the gradient. Returns a handle whose ``remove()`` unregisters it."""
        if not callable(fn):  # else the error would come from a later backward()
            raise TypeError(f"register_hook(): fn must be callable, got {type(fn).__name__}")
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._node is not None:
            if self._node.hooks is None:
                self._node.hooks = []
            hooks = self._node.hooks
        else:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        hook = _Hook(fn)
        # retain_grad sees the final gradient, and a module backward hook's group (the node of
        # a hooked module's output) and the grad_fn's prehooks see it after the tensor's own
        # hooks, as in torch
        at = len(hooks)
        while at and isinstance(hooks[at - 1], (_RetainGrad, GroupHook, LateHook)):
            at -= 1
        hooks.insert(at, hook)
        return _HookHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` after a backward accumulated this leaf's ``.grad`` (torch's way to
        step an optimizer parameter by parameter inside the backward); it must return None.
        Not run by ``grad()``, nor by a backward whose ``inputs`` leave this leaf out. Returns a
        handle whose ``remove()`` unregisters it."""
        if not callable(hook):
            raise TypeError(f"register_post_accumulate_grad_hook(): hook must be callable, got "
                            f"{type(hook).__name__}")
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._node is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if self._post_hooks is None:
            self._post_hooks = []
        entry = _Hook(hook)
        self._post_hooks.append(entry)
        return _HookHandle(self._post_hooks, entry)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) . gradient into every leaf's ``.grad`` (with ``inputs``,
        a tensor or a sequence of them, into theirs only, as torch's)."""
        if not self._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                               "grad_fn")
        g = _seed_grad(self, gradient, create_graph)
        if retain_graph is None:
            retain_graph = create_graph
        if inputs is not None:
            return _backward_inputs([self], [g], inputs, retain_graph, create_graph)
        replay([self], [g], retain_graph=retain_graph, create_graph=create_graph)

    # ---- arithmetic -------------------------------------------------------------------------------
    def __add__(self, o): return _binary(ops.Add, self, o)
    def __radd__(self, o): return _binary(ops.Add, o, self)
    def __sub__(self, o): return _binary(ops.Sub, self, o)
    def __rsub__(self, o): return _binary(ops.Sub, o, self)
    def __mul__(self, o): return _binary(ops.Mul, self, o)
    def __rmul__(self, o): return _binary(ops.Mul, o, self)
    def __truediv__(self, o): return _binary(ops.Div, self, o)
    def __rtruediv__(self, o): return _binary(ops.Div, o, self)
    def __pow__(self, o):
        if o is True or o is False:  # (two identity tests) a bool tensor stays bool, as torch's
            return _bool_pow(self, o)
        return _binary(ops.Pow, self, o)
    def __rpow__(self, o): return _binary(ops.Pow, o, self)
    def __neg__(self): return _unary(ops.Neg, self)
    def __pos__(self): return self

    # Augmented assignment: without them Python would rebind ``w -= lr * g`` to a new tensor,
    # silently dropping w's requires_grad and leaving every other reference to w unchanged.
    def __iadd__(self, o): return self._update(ops.Add, o, "+=")
    def __isub__(self, o): return self._update(ops.Sub, o, "-=")
    def __imul__(self, o): return self._update(ops.Mul, o, "*=")
    def __itruediv__(self, o): return self._update(ops.Div, o, "/=")
    # the same rules for ``**=``: without it `w **= 2` under no_grad rebound w to a new tensor
    # that no longer required grad, and an optimizer holding w never saw the update. There is
    # no ``__imatmul__``, as in torch: ``m @= w`` is ``m = m @ w``, a new tensor that may take
    # another shape ((2, 3) @= (3, 4) gives (2, 4)), and other references keep the old values
    def __ipow__(self, o): return self._update(ops.Pow, o, "**=")

    def _update(self, op, o, symbol):
        """``self op= o``. Where nothing is recorded (grad mode off, or no tensor that requires
        grad), an update in place, as torch's: the result (same shape and dtype) is written into
        this tensor's array, so every view of it follows (a state-dict entry, a ``detach()``: an
        EMA of the weights updates the model), and the tensor keeps its identity, requires_grad
        and grad. A recorded graph that saved the array then refuses to go backward, as torch's
        version counters refuse it. Where the op is recorded, it is written in place and on the
        tape (inplace_record.py), as torch's: the tensor keeps its identity; on a leaf that
        requires grad it is an error, as in torch. A basic-index view of a tensor on the graph
        (``h[0] += v``, ``h[:, 0] *= 2``) is written through that tensor; other views
        (``h.reshape(4)``) are refused: this tape cannot route the write's gradient to the
        tensor they view, where torch writes through."""
        if _state.enabled and (self._requires_grad or (isinstance(o, Tensor) and o._requires_grad)):
            node = self._node
            if node is not None and _inplace._viewed_base(self) is not None:
                return _inplace.rebase(self, f"in-place {symbol}", lambda t: _combine(op, t, o),
                                       copy_old=op is not ops.Add and op is not ops.Sub)
            if self._requires_grad and node is None:
                raise RuntimeError(
                    f"a leaf tensor that requires grad is being used in an in-place {symbol}: "
                    f"update it under `with tinygrad_norm.no_grad():` (an optimizer step), or "
                    f"write `x = x {symbol[:-1]} y` for a new tensor")
            if node is not None and node.inputs is not None and self._data.base is not None:
                for t in node.inputs:
                    if type(t) is Tensor and np.may_share_memory(self._data, t._data) \
                            and not _inplace._history(self, t):
                        what = ("a leaf tensor that requires grad" if t._node is None and
                                t._requires_grad else "another tensor")
                        raise RuntimeError(
                            f"in-place {symbol}: a view of {what} ({node.op.name} of it) that "
                            f"requires grad is being used in an in-place operation; the "
                            f"write would not reach the tensor it views, as PyTorch's does. "
                            f"Update it under `with tinygrad_norm.no_grad():`, or write "
                            f"`x = x {symbol[:-1]} y` (a new tensor, on the graph)")
            if node is None and self._data.base is not None:
                # a view of a constant's memory (``buf[i] *= h``: Python writes the result back
                # with ``buf[i] = ...``, which overwrites this memory): the op reads a copy, as
                # torch's mul_ saves the values before, so that write does not refuse it
                return _combine(op, Tensor(self._data.copy()), o)
            # on the tape in place, as torch's: the tensor keeps its identity, so every other
            # reference to it sees the result (``a = h; h += 1``), and a node that saved the
            # values before refuses its backward as torch's version counter does
            return _inplace.rebase(self, f"in-place {symbol}", lambda t: _combine(op, t, o),
                                   copy_old=op is not ops.Add and op is not ops.Sub)
        with no_grad():
            res = _combine(op, self, o)
        r = res._data
        if r.shape != self._data.shape:
            raise ValueError(f"in-place {symbol}: the result of shape {r.shape} does not fit the "
                             f"tensor's shape {self.data.shape}")
        if r.dtype != self._data.dtype:
            if not np.can_cast(r.dtype, self._data.dtype, "same_kind"):
                raise TypeError(f"in-place {symbol}: the result of dtype {r.dtype} cannot be "
                                f"stored in a tensor of dtype {self.data.dtype}")
            r = r.astype(self._data.dtype)
        if _forward is not None:  # (checked before the write)
            fw = _fw_module().in_place_tangent(self, res, f"in-place {symbol}")
        self._write(r)
        if _forward is not None:
            self._fw = fw
        return self

    def _write(self, values):
        """Write ``values`` (this tensor's shape and dtype) into its array, and mark the array
        written for the graphs that saved it; a read-only array (a broadcast view) is replaced."""
        if self._data.flags.writeable:
            np.copyto(self._data, values)
            mark_written((self,))
        else:
            self._data = values

    def _in_place(self, name, other=None):
        """Checks of an in-place method (``add_``, ``copy_``, ...): what torch refuses, or what
        the tape could not record (this tensor would not change, as ``x = x + y`` can rebind)."""
        if not _state.enabled:
            return
        if self._requires_grad:
            what = ("a leaf tensor that requires grad" if self._node is None else
                    "a tensor that requires grad")
            raise RuntimeError(f"{name}: {what} is being used in an in-place operation: update "
                               f"it under `with tinygrad_norm.no_grad():`, or write "
                               f"`x = x + y` (a new tensor, on the graph)")
        if isinstance(other, Tensor) and other._requires_grad:
            raise RuntimeError(f"{name}: the source requires grad, and an in-place write is not "
                               f"recorded (it would get no gradient); run it under no_grad() or "
                               f"write `x = x + y`")

    def _put(self, name, values, tangent_of=None):
        """``self``'s array takes ``values`` (broadcast to its shape, cast within its kind).
        ``tangent_of``: the tensor whose forward-mode tangent comes with the values."""
        values = self._values(name, values)
        try:
            out = np.broadcast_to(values, self._data.shape)
        except ValueError:
            raise ValueError(f"{name}: values of shape {values.shape} do not fit the tensor's "
                             f"shape {self.data.shape}") from None
        if _forward is not None:  # (checked before the write)
            fw = _fw_module().in_place_tangent(self, tangent_of, name)
        self._write(out.astype(self._data.dtype, copy=False))
        if _forward is not None:
            self._fw = fw
        return self

    def _values(self, name, values):
        """``values`` as an array this tensor's dtype can take: a Python number in that dtype if
        it fits (3 into uint8, 2 into bool as True, as torch; 300 into uint8 or 1e39 into float32 is a
        ValueError, where NumPy would wrap or give inf), an array cast within its kind (a float
        into an integer tensor is a TypeError: torch truncates)."""
        dt = self._data.dtype
        if type(values) in (int, float, bool):
            if type(values) is float and dt.kind in "biu":
                raise TypeError(f"{name}: the value {values!r} cannot be stored in a tensor of "
                                f"dtype {dt}")
            try:
                with np.errstate(over="raise"):
                    return np.asarray(values, dtype=dt)
            except (OverflowError, FloatingPointError):
                raise ValueError(f"{name}: the value {values!r} does not fit dtype {dt}") from None
        values = np.asarray(values)
        if not np.can_cast(values.dtype, dt, "same_kind"):
            raise TypeError(f"{name}: values of dtype {values.dtype} cannot be stored in a "
                            f"tensor of dtype {dt}")
        return values

    def copy_(self, src):
        """The values of ``src`` (a tensor, array or number, broadcast) written into this
        tensor's array, as ``torch.Tensor.copy_``; a float source into an integer tensor is a
        TypeError (torch truncates). Recorded where ``src`` or this tensor requires grad: the
        gradient goes to ``src`` (summed over a broadcast), none to the values before."""
        if _inplace.records(self, (src,)):
            return _inplace.rebase(self, "copy_", lambda t: _copy_over(src, t), copy_old=False)
        self._in_place("copy_", src)
        return self._put("copy_", src._data if isinstance(src, Tensor) else src, src)

    def zero_(self):
        return self.fill_(0) if _inplace.records(self) else self._put("zero_", np.zeros(
            (), self._data.dtype))

    def fill_(self, value):
        if isinstance(value, Tensor) and value._data.ndim:  # one element of a 1-D one: torch no
            raise ValueError(f"fill_(): fill_ only supports 0-dimension value tensor but got "
                             f"tensor with {value._data.ndim} dimensions.")
        value = _scalar_arg(value, "fill_(): value")
        if _inplace.records(self):
            return _inplace.rebase(self, "fill_", lambda t: t.masked_fill(
                np.ones(t._data.shape, bool), value),
                                   copy_old=False)
        return self._put("fill_", value)

    def add_(self, other, *, alpha=1):
        """``self += alpha * other`` in place, as ``torch.Tensor.add_`` (rounded once, as torch's
        fused multiply-add: the EMA step ``v.mul_(d).add_(p, alpha=1 - d)`` matches it)."""
        if _inplace.records(self, (other,)):
            return _inplace.rebase(self, "add_", lambda t: t.add(other, alpha=alpha),
                                   copy_old=False)
        return self._add_scaled(other, alpha, "add_")

    def sub_(self, other, *, alpha=1):
        if _inplace.records(self, (other,)):
            return _inplace.rebase(self, "sub_", lambda t: t.sub(other, alpha=alpha),
                                   copy_old=False)
        alpha = _scalar_arg(alpha, "sub_(): alpha")
        if alpha is None:  # -None would be Python's "bad operand type for unary -"
            raise TypeError("sub_(): alpha must be a number, got NoneType")
        return self._add_scaled(other, -alpha, "sub_")

    def _add_scaled(self, other, alpha, name):
        alpha = _scalar_arg(alpha, f"{name}(): alpha")
        if alpha == 1 or self._data.dtype.kind != "f" or self._data.dtype == np.float64:
            if alpha != 1:  # a Python number stays one: a NumPy scalar would promote float32
                with no_grad():
                    other = _operand(other) * alpha
            return self._update(ops.Add, other, name)
        o = _operand(other)
        od = o._data if isinstance(o, Tensor) else o
        # torch's kernel: alpha in the tensor's dtype (float32 for float32), then a fused
        # multiply-add in float32, rounded once (float64 holds it exactly), then to float16
        dt = self._data.dtype
        a_t = float(dt.type(alpha)) if dt == np.float16 else float(np.float32(alpha))
        if type(od) in _SCALARS:  # a number operand in the tensor's dtype first, as torch's
            od = dt.type(od)
        src = None
        if _forward is not None:  # the tangent of the result, from its out-of-place form
            with no_grad():
                src = self + o * alpha
        with np.errstate(over="ignore"):
            wide = self._data.astype(np.float64) + a_t * np.asarray(od, dtype=np.float64)
            return self._put(name, wide.astype(np.float32).astype(dt, copy=False), src)

    def mul_(self, other):
        if _inplace.records(self, (other,)):  # other's gradient reads the values before
            return _inplace.rebase(self, "mul_", lambda t: t * other,
                                   copy_old=getattr(other, "_requires_grad", False))
        return self._update(ops.Mul, other, "mul_")

    def div_(self, other):
        if _inplace.records(self, (other,)):
            return _inplace.rebase(self, "div_", lambda t: t / other,
                                   copy_old=getattr(other, "_requires_grad", False))
        return self._update(ops.Div, other, "div_")

    def clone(self):
        """A copy with its own array, on the graph (its gradient passes back), as torch's."""
        return apply(ops.Cast, self, dtype=self._data.dtype)

    def __matmul__(self, o):
        return matmul(self, o)

    def __rmatmul__(self, o):
        return matmul(o, self)

    # comparisons: boolean tensors, no gradient
    def __lt__(self, o): return _compare(np.less, self, o)
    def __le__(self, o): return _compare(np.less_equal, self, o)
    def __gt__(self, o): return _compare(np.greater, self, o)
    def __ge__(self, o): return _compare(np.greater_equal, self, o)
    def __eq__(self, o): return _equality(np.equal, self, o)
    def __ne__(self, o): return _equality(np.not_equal, self, o)

    def __and__(self, o): return _bitwise(np.bitwise_and, "&", self, o)
    def __or__(self, o): return _bitwise(np.bitwise_or, "|", self, o)
    def __xor__(self, o): return _bitwise(np.bitwise_xor, "^", self, o)
    def __rand__(self, o): return _bitwise(np.bitwise_and, "&", o, self)
    def __ror__(self, o): return _bitwise(np.bitwise_or, "|", o, self)
    def __rxor__(self, o): return _bitwise(np.bitwise_xor, "^", o, self)
    def __lshift__(self, o): return _shift(True, self, o)
    def __rlshift__(self, o): return _shift(True, o, self)
    def __rshift__(self, o): return _shift(False, self, o)
    def __rrshift__(self, o): return _shift(False, o, self)

    def __abs__(self): return _unary(ops.Abs, self)

    def __index__(self):
        """A one-element integer (or bool) tensor as a Python int, where Python wants an index
        (``seq[t]``, ``range(t)``), as torch's."""
        d = self._data
        if d.size != 1 or d.dtype.kind not in "biu":
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(d.reshape(-1)[0])

    def __contains__(self, element):
        """``element in t``: whether any element equals it (a number, or a tensor broadcast
        against this one), as torch's; other types are a TypeError (torch's RuntimeError)."""
        if isinstance(element, (Tensor, numbers.Number)):
            return bool((self == element)._data.any())
        raise TypeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in "
                        f"a {type(element)}.")

    def __invert__(self):
        if self._data.dtype != np.bool_:
            raise TypeError(f"~ is defined for boolean tensors only, got dtype {self.dtype}")
        return Tensor._wrap(np.logical_not(self._data))

    # ---- unary -------------------------------------------------------------------------------------
    exp, log, log1p = _float_unary(ops.Exp), _float_unary(ops.Log), _float_unary(ops.Log1p)
    expm1, sqrt, rsqrt = _float_unary(ops.Expm1), _float_unary(ops.Sqrt), _float_unary(ops.Rsqrt)
    tanh = _float_unary(ops.Tanh)
    def abs(self): return _unary(ops.Abs, self)
    def sign(self):  # of a bool, itself (as torch; NumPy has no sign of bools)
        return _unary(ops.Sign, self) if self._data.dtype != np.bool_ else Tensor(self._data.copy())
    def relu(self): return _unary(ops.Relu, self)
    def sigmoid(self): return _unary(ops.Sigmoid, self._floating())
    def square(self):  # of a bool tensor, int64, as torch's (pow(x, 2); NumPy's stays bool)
        return self * self if self._data.dtype.kind != "b" else Tensor._wrap(
            self._data.astype(np.int64))

    def clip(self, min=None, max=None):
        if min is None and max is None:
            raise ValueError("clip(): at least one of min and max must be given")
        if _tensor_bound(min) or _tensor_bound(max):
            return _math_ops.clamp_tensors(self, min, max)
        lo, hi = _scalar_arg(min, "min"), _scalar_arg(max, "max")
        x = self
        if (type(lo) is float or type(hi) is float) and x._data.dtype.kind in "biu":
            x = x._floating()  # float32, as torch's clamp and the operators (NumPy: float64)
        return apply(ops.Clip, x, lo=lo, hi=hi)

    clamp = clip

    def maximum(self, o): return _binary(ops.Maximum, self, o)
    def minimum(self, o): return _binary(ops.Minimum, self, o)

    # ---- PyTorch's elementwise math (math_ops.py; each differentiable one a primitive or a
    # composite of them, with torch's values and gradients at the special points)
    sin, cos, tan = _float_unary(ops.Sin), _float_unary(ops.Cos), _float_unary(ops.Tan)
    asin, acos, atan = _float_unary(ops.Asin), _float_unary(ops.Acos), _float_unary(ops.Atan)
    sinh, cosh = _float_unary(ops.Sinh), _float_unary(ops.Cosh)
    asinh, acosh, atanh = _float_unary(ops.Asinh), _float_unary(ops.Acosh), _float_unary(ops.Atanh)
    arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
    log2, log10, exp2 = _float_unary(ops.Log2), _float_unary(ops.Log10), _float_unary(ops.Exp2)
    reciprocal, erf = _float_unary(ops.Reciprocal), _float_unary(ops.Erf)
    def floor(self): return _math_ops.step(self, ops.Floor)
    def ceil(self): return _math_ops.step(self, ops.Ceil)
    def trunc(self): return _math_ops.step(self, ops.Trunc)
    fix = trunc
    def round(self, decimals=0): return _math_ops.round_(self, decimals)
    def frac(self): return _math_ops.frac(self)
    def neg(self): return _unary(ops.Neg, self)
    negative = neg
    def pow(self, exponent): return self.__pow__(exponent)
    def atan2(self, other): return _math_ops.float_binary(ops.Atan2, self, other)
    arctan2 = atan2
    def hypot(self, other): return _math_ops.float_binary(ops.Hypot, self, other)
    def logaddexp(self, other): return _math_ops.float_binary(ops.Logaddexp, self, other)
    def fmod(self, other): return _math_ops.modulo(ops.Fmod, self, other)
    def remainder(self, other): return _math_ops.modulo(ops.Remainder, self, other)
    def floor_divide(self, other): return _math_ops.floor_divide(self, other)
    def __mod__(self, o): return _math_ops.modulo(ops.Remainder, self, o)
    def __rmod__(self, o): return _math_ops.modulo(ops.Remainder, o, self)
    def __floordiv__(self, o): return _math_ops.floor_divide(self, o)
    def __rfloordiv__(self, o): return _math_ops.floor_divide(o, self)
    def clamp_min(self, min): return self.clip(min=min)
    def clamp_max(self, max): return self.clip(max=max)
    def lerp(self, end, weight): return _math_ops.lerp(self, end, weight)
    def isnan(self): return _math_ops.test(self, np.isnan)
    def isinf(self): return _math_ops.test(self, np.isinf)
    def isfinite(self): return _math_ops.test(self, np.isfinite)
    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        return _math_ops.nan_to_num(self, nan, posinf, neginf)
    def logical_not(self): return _math_ops.logical(np.logical_not, self)
    def logical_and(self, other): return _math_ops.logical(np.logical_and, self, other)
    def logical_or(self, other): return _math_ops.logical(np.logical_or, self, other)
    def logical_xor(self, other): return _math_ops.logical(np.logical_xor, self, other)
    @_numpy_names
    def cumprod(self, dim): return _math_ops.cumprod(self, dim)
    def diff(self, n=1, dim=-1, prepend=None, append=None):
        return _math_ops.diff(self, n, dim, prepend, append)

    # activations under torch's Tensor names (functional.py holds them)
    def softplus(self, beta=1.0, threshold=20.0):
        from .functional import softplus
        return softplus(self, beta, threshold)

    def silu(self):
        from .functional import silu
        return silu(self)

    def gelu(self, approximate="none"):
        from .functional import gelu
        return gelu(self, approximate)

    def log_sigmoid(self):
        from .functional import logsigmoid
        return logsigmoid(self)

    # in-place forms, as add_/mul_: refused where torch refuses (and where the tape could not
    # record the write), the result written into this tensor's array, marked written
    def _apply_(self, name, fn, copy_old=True):
        try:
            if _inplace.records(self):  # on the tape, as torch's (inplace_record.py)
                return _inplace.rebase(self, name, fn, copy_old=copy_old)
            with no_grad():
                res = fn(self)
            r = res._data
            if r.dtype != self._data.dtype and not np.can_cast(r.dtype, self._data.dtype,
                                                               "same_kind"):
                raise TypeError(f"{name}: result type {r.dtype} can't be cast to the desired "
                                f"output type {self.data.dtype}")
            return self._put(name, r, res)
        except (TypeError, ValueError) as e:
            # the out-of-place method inside says "clip(): ..."; the user called clamp_
            raise _argname.retitle(e)

    def exp_(self): return self._apply_("exp_", Tensor.exp)
    def log_(self): return self._apply_("log_", Tensor.log)
    def sqrt_(self): return self._apply_("sqrt_", Tensor.sqrt)
    def neg_(self): return self._apply_("neg_", Tensor.neg)
    def abs_(self): return self._apply_("abs_", Tensor.abs)
    def relu_(self): return self._apply_("relu_", Tensor.relu)
    def sigmoid_(self): return self._apply_("sigmoid_", Tensor.sigmoid)
    def tanh_(self): return self._apply_("tanh_", Tensor.tanh)
    def sin_(self): return self._apply_("sin_", Tensor.sin)
    def cos_(self): return self._apply_("cos_", Tensor.cos)
    def floor_(self): return self._apply_("floor_", Tensor.floor)
    def ceil_(self): return self._apply_("ceil_", Tensor.ceil)
    def trunc_(self): return self._apply_("trunc_", Tensor.trunc)
    def reciprocal_(self): return self._apply_("reciprocal_", Tensor.reciprocal)
    def pow_(self, exponent): return self._apply_("pow_", lambda t: t ** exponent)
    def round_(self, decimals=0): return self._apply_("round_", lambda t: t.round(decimals))
    def clamp_(self, min=None, max=None): return self._apply_("clamp_", lambda t: t.clip(min, max))
    clip_ = clamp_
    def clamp_min_(self, min): return self._apply_("clamp_min_", lambda t: t.clip(min=min))
    def clamp_max_(self, max): return self._apply_("clamp_max_", lambda t: t.clip(max=max))
    def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
        return self._apply_("nan_to_num_", lambda t: t.nan_to_num(nan, posinf, neginf))

    def astype(self, dtype):
        dtype = _dtype_arg(dtype, "astype")  # never a Tensor of strings, objects or complex
        if dtype == self._data.dtype:
            return self
        if dtype.kind != "f":  # not differentiable: the result is a constant
            return Tensor._wrap(self._data.astype(dtype))
        return apply(ops.Cast, self, dtype=dtype)

    def float(self): return self.astype(np.float32)
    def double(self): return self.astype(np.float64)
    def half(self): return self.astype(np.float16)
    def long(self): return self.astype(np.int64)
    def int(self): return self.astype(np.int32)
    def bool(self): return self.astype(np.bool_)

    def to(self, *args, **kwargs):
        """torch's ``to(device=None, dtype=None, non_blocking=False, copy=False)``, ``to(dtype,
        ...)`` or ``to(other, ...)``: ``astype(dtype)`` (itself when nothing changes, a copy on
        the graph with ``copy=True``). The device must be the CPU (``"cpu"``, ``tg.device``)."""
        _, dtype, copy = _devices.parse_to(args, kwargs, "to()")
        if isinstance(dtype, str):
            try:
                np.dtype(dtype)
            except TypeError:
                raise TypeError(f"to(): dtype must be a NumPy dtype, got {dtype!r}"
                                f"{_devices.not_a_device_note(dtype)}") from None
        out = self if dtype is None else self.astype(dtype)
        return out.clone() if copy and out is self else out

    @property
    def device(self):
        """``tg.device("cpu")``: every tensor is a NumPy array in main memory."""
        return _devices.CPU

    is_cuda = False  # torch's flags for where a tensor lives, read by ported code
    is_cpu = True

    def get_device(self):
        """-1, torch's ordinal of a CPU tensor."""
        return -1

    def cuda(self, device=None, non_blocking=False):
        """Refused, as by a torch built without CUDA: there is no GPU here."""
        _devices.refuse_cuda("cuda()", device)

    def argmax(self, axis=None, keepdims=False, *, dim=_UNSET, keepdim=_UNSET):
        """Index of the largest value (over the flattened tensor for ``axis=None``), int64, the
        first one on a tie; no gradient. NaN counts as largest, as in NumPy and torch. torch's
        ``dim=``/``keepdim=`` are taken too."""
        if dim is not _UNSET or keepdim is not _UNSET:
            axis, keepdims = _torch_dims("argmax", axis, keepdims, dim, keepdim)
        return self._arg(np.argmax, "argmax", axis, keepdims)

    def argmin(self, axis=None, keepdims=False, *, dim=_UNSET, keepdim=_UNSET):
        if dim is not _UNSET or keepdim is not _UNSET:
            axis, keepdims = _torch_dims("argmin", axis, keepdims, dim, keepdim)
        return self._arg(np.argmin, "argmin", axis, keepdims)

    def _arg(self, fn, name, axis, keepdims):
        if axis is not None:
            axis = _axes(axis, self._data.ndim)
            if self._data.ndim == 0 and axis == ():  # dim 0 or -1 of a 0-d tensor: its element
                return Tensor._wrap(np.zeros((), np.int64))
            if len(axis) != 1:
                raise TypeError(f"{name}(): axis must be one int or None, got {axis}")
            axis = axis[0]
        if self._data.size == 0 and (axis is None or self._data.shape[axis] == 0):
            # an empty result where the reduced axis has elements (a (0, 3) tensor along -1),
            # as torch's; none to pick from is an error there too
            raise ValueError(f"{name}(): cannot take the {name} of an empty tensor of shape "
                             f"{self.shape}" + ("" if axis is None else f" along axis {axis}"))
        keep = keepdims if type(keepdims) is bool else _bool_arg(keepdims, "keepdim", name)
        return Tensor._wrap(np.asarray(fn(self._data, axis=axis, keepdims=keep),
                                       dtype=np.int64))

    # ---- reductions ----------------------------------------------------------------------------
    def _reduce(self, op, axis, keepdims):
        axes = _axes(axis, self._data.ndim)
        if type(keepdims) is not bool:  # keepdims="False" kept the dims
            keepdims = _bool_arg(keepdims, "keepdim", op.name)
        try:
            return apply(op, self, axis=axes, keepdims=keepdims)
        except ValueError:
            # Only max, min and logsumexp fail, and only over an axis of size 0 (NumPy's "zero-size
            # array to reduction operation maximum which has no identity"). Caught here, on the
            # error path, so the ordinary reduction pays nothing.
            if not any(self._data.shape[a] == 0 for a in axes):
                raise
            if op is ops.Logsumexp:  # log(sum(exp(nothing))) = log(0) = -inf, as torch
                with np.errstate(divide="ignore"):
                    return self.exp().sum(axis=axes, keepdims=keepdims).log()
            raise ValueError(f"{_argname.head(op.name + '(): ', op.name)}cannot reduce over an "
                             f"axis of size 0 (a tensor of "
                             f"shape {self.shape}, axis {axis!r}): the result has no "
                             f"identity; reduce over a non-empty axis") from None

    # The NumPy-named reductions take torch's dim=/keepdim= as keyword-only parameters with a
    # sentinel default, tested inline: sum and mean are on every training step, and a **kwargs
    # wrapper (_numpy_names) would cost them a call and a dict each time.
    def sum(self, axis=None, keepdims=False, *, dim=_UNSET, keepdim=_UNSET):
        if dim is not _UNSET or keepdim is not _UNSET:
            axis, keepdims = _torch_dims("sum", axis, keepdims, dim, keepdim, True)
        return self._reduce(ops.Sum, axis, keepdims)

    def mean(self, axis=None, keepdims=False, *, dim=_UNSET, keepdim=_UNSET):
        if dim is not _UNSET or keepdim is not _UNSET:
            axis, keepdims = _torch_dims("mean", axis, keepdims, dim, keepdim, True)
        return self._reduce(ops.Mean, axis, keepdims)

    def max(self, axis=None, keepdims=False, *, dim=_UNSET, keepdim=_UNSET):
        """NumPy's max with ``axis``/``keepdims`` or positional (``x.max(1)``): the values only,
        ties sharing the gradient (torch's ``amax``). torch's spellings mean torch's max:
        ``x.max(dim=1)`` (or ``x.max(1, keepdim=True)``: a torch keyword) is the named tuple
        ``(values, indices)``, the gradient going to the index picked; ``x.max(other_tensor)``
        is ``maximum(x, other_tensor)``."""
        if dim is not _UNSET or keepdim is not _UNSET or (
                axis is not None and isinstance(axis, Tensor)):
            return _torch_extreme(self, "max", axis, keepdims, dim, keepdim)
        return self._reduce(ops.Max, axis, keepdims)

    def min(self, axis=None, keepdims=False, *, dim=_UNSET, keepdim=_UNSET):
        """As ``max``: values only for ``axis``, ``(values, indices)`` for ``dim=``."""
        if dim is not _UNSET or keepdim is not _UNSET or (
                axis is not None and isinstance(axis, Tensor)):
            return _torch_extreme(self, "min", axis, keepdims, dim, keepdim)
        return self._reduce(ops.Min, axis, keepdims)

    def cumsum(self, axis=None, *, dim=_UNSET):
        """Running sums along ``axis`` (None: of the flattened tensor, as NumPy; torch's
        ``dim=`` is one int); integer and bool tensors sum in int64, as PyTorch."""
        if dim is not _UNSET:
            if dim is None:  # torch requires the dim; None would flatten, as NumPy's axis
                raise TypeError("cumsum(): argument 'dim' must be int, not NoneType")
            axis = _torch_dim("cumsum", axis, dim)
        x = self
        if axis is None:
            x, axis = self.reshape(-1), 0
        elif x._data.ndim == 0:  # as torch: the 0-d tensor itself, on the graph
            _axes(axis, 0)
            return apply(ops.Cumsum, x.reshape(1), axis=0).reshape(())
        else:
            axis = _axes(axis, x._data.ndim)
            if len(axis) != 1:
                raise TypeError(f"cumsum(): axis must be one int or None, got {axis}")
            axis = axis[0]
        return apply(ops.Cumsum, x, axis=axis)

    def logsumexp(self, axis=None, keepdims=False, *, dim=_UNSET, keepdim=_UNSET):
        if dim is not _UNSET or keepdim is not _UNSET:
            axis, keepdims = _torch_dims("logsumexp", axis, keepdims, dim, keepdim, True)
        # Integers and bools as float32 at least, as PyTorch: x - max in uint8 wraps around, in
        # int8 overflows, and NumPy's float16 for them overflows a sum of 70,000 exps
        return self._floating()._reduce(ops.Logsumexp, axis, keepdims)

    def var(self, axis=None, correction=None, keepdims=False, *, ddof=None, dim=_UNSET,
            keepdim=_UNSET, unbiased=_UNSET):
        """Variance, two-pass. ``correction`` as PyTorch (None means 1, unbiased); ``ddof`` is
        NumPy's name for the same thing (give one of the two). torch's ``dim=``/``keepdim=``
        and the old ``unbiased`` flag too (a bool, instead of ``correction``; ``x.var(False)``,
        torch's overload, is that flag)."""
        return self._moment(ops.Var, "var", axis, correction, keepdims, ddof, dim, keepdim,
                            unbiased)

    def std(self, axis=None, correction=None, keepdims=False, *, ddof=None, dim=_UNSET,
            keepdim=_UNSET, unbiased=_UNSET):
        return self._moment(ops.Std, "std", axis, correction, keepdims, ddof, dim, keepdim,
                            unbiased)

    def _moment(self, op, fn, axis, correction, keepdims, ddof, dim, keepdim, unbiased):
        if isinstance(axis, (bool, np.bool_)) and unbiased is _UNSET:
            axis, unbiased = None, axis  # torch's std(unbiased): no axis is a bool
        if dim is not _UNSET or keepdim is not _UNSET:
            axis, keepdims = _torch_dims(fn, axis, keepdims, dim, keepdim, True)
        if unbiased is not _UNSET:
            if correction is not None or ddof is not None:  # torch's TypeError, as tg.var's
                raise TypeError(f"{fn}(): give unbiased or correction (ddof), not both")
            if not isinstance(unbiased, (bool, np.bool_)):
                raise TypeError(f"{fn}(): unbiased must be a bool, got {type(unbiased).__name__}")
            correction = int(unbiased)
        if ddof is not None and correction is not None:
            raise ValueError(f"{fn}(): give correction or ddof (NumPy's name for it), not both")
        c = ddof if ddof is not None else 1 if correction is None else correction
        if isinstance(c, numbers.Integral):
            c = int(c)
        elif isinstance(c, numbers.Real):  # torch and NumPy take a float too (n - 1.5)
            c = float(c)
        else:
            name = "ddof" if ddof is not None else "correction"
            raise TypeError(f"{fn}(): {name} must be a number, got {c!r}")
        axes = _axes(axis, self._data.ndim)
        keep = _bool_arg(keepdims, "keepdim", fn)
        if axis is None or self._data.ndim == 0:
            # torch's backward without a dim (or of a 0-d tensor) differs where correction >=
            # the count: the op needs to know (ops.Var's VJP); a dim given is the common case
            return apply(op, self, axis=axes, correction=c, keepdims=keep, whole=True)
        return apply(op, self, axis=axes, correction=c, keepdims=keep)

    def addcmul(self, tensor1, tensor2, *, value=1):
        """``self + value * tensor1 * tensor2`` (``torch.Tensor.addcmul``); see ``tg.addcmul``."""
        return addcmul(self, tensor1, tensor2, value=value)

    def vecdot(self, other, axis=-1, keepdims=False, *, dim=_UNSET, keepdim=_UNSET):
        """``(self * other).sum(axis, keepdims)`` in one pass, without the product as a
        temporary (``torch.linalg.vecdot`` for real inputs, over an int or a tuple of axes of the
        broadcast shape; its ``dim=`` too)."""
        return vecdot(self, other, axis, keepdims, dim=dim, keepdim=keepdim)

    def softmax(self, axis=-1, *, dim=_UNSET):
        if dim is not _UNSET:
            axis = _torch_dim("softmax", axis, dim, -1)
        return self._floating()._softmax(ops.Softmax, axis)

    def log_softmax(self, axis=-1, *, dim=_UNSET):
        if dim is not _UNSET:
            axis = _torch_dim("log_softmax", axis, dim, -1)
        return self._floating()._softmax(ops.LogSoftmax, axis)

    def _floating(self):
        """Itself when floating; an integer or bool tensor as float32, PyTorch's default dtype,
        as its exp/log/sqrt/... give for every integer type (NumPy gives float64 for int64, and
        float16 for bool and int8, which turned log(200) into 5.297 and overflowed exp(12)). A
        constant: such tensors have no gradient."""
        if self._data.dtype.kind in "fc":
            return self
        return Tensor(self._data.astype(_dd.DEFAULT))

    def _softmax(self, op, axis):
        # One axis: _axes would also take None or a tuple and the op would then silently use
        # only the first of them.
        if axis is None or (isinstance(axis, (tuple, list)) and len(axis) != 1):
            raise TypeError(f"{op.name}(): axis must be one int, got {axis!r}")
        axes = _axes(axis, self._data.ndim)  # () for a 0-d tensor, whose softmax is 1
        try:
            return apply(op, self, axis=axes[0] if axes else axes)
        except ValueError:
            if self._data.size:  # (error path only) an axis of size 0: NumPy's max has no identity
                raise
            return self * 1.0  # empty in, empty out, as torch (still on the graph)

    # ---- movement --------------------------------------------------------------------------------
    def reshape(self, *shape):
        if len(shape) == 1 and type(shape[0]) is tuple and shape[0] == self._data.shape:
            # already that shape (a norm's per-channel vector, often): no node, and none of the
            # checks below (~1.3 us), unless a size is not a plain int (4.0 still fails there)
            if all(type(s) is int for s in shape[0]):
                return self
        shape = _shape_arg(shape)
        if any(s < -1 for s in shape):  # NumPy reads any negative size as -1
            raise ValueError(f"reshape: invalid shape dimension {min(shape)} in {shape}")
        if shape == self._data.shape:
            return self
        try:
            return _view(self, ops.Reshape, {"shape": shape})
        except ValueError:
            raise ValueError(f"{_argname.head('reshape: ', 'reshape')}cannot reshape a tensor of "
                             f"shape {self.shape} (size "
                             f"{self.size}) into shape {shape}") from None

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        nd = self._data.ndim
        # a 0-d tensor takes dims 0 and -1, as torch (checked, not ignored)
        s, e = _one_axis(start_dim, max(nd, 1), "start_dim"), _one_axis(end_dim, max(nd, 1),
                                                                        "end_dim")
        if nd == 0:
            return self.reshape(1)
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        if s == e:  # nothing to flatten: the tensor itself, as torch.flatten (no tape node)
            return self
        shp = self._data.shape
        n = 1
        for d in shp[s:e + 1]:  # the product itself: -1 cannot be inferred when the size is 0
            n *= d
        return self.reshape(shp[:s] + (n,) + shp[e + 1:])

    def transpose(self, *axes):
        """Two axes as two arguments swap them, as torch's ``transpose(dim0, dim1)`` (and
        tinygrad's); otherwise NumPy's: no arguments reverses the axes, a tuple (or every axis)
        is a full permutation. The two agree except on ``transpose(0, 1)`` of a matrix, which
        NumPy would leave as it is: a torch port's meaning wins there."""
        if len(axes) == 2 and not isinstance(axes[0], (tuple, list)):
            return self.swapaxes(*axes)
        return self._permute(axes, "transpose")

    def permute(self, *axes):
        """PyTorch's ``permute``: the axes in their new order (``transpose`` with axes)."""
        return self._permute(axes, "permute")

    def _permute(self, axes, fn):
        nd = self._data.ndim
        if not axes or axes == (None,):
            perm = tuple(range(nd))[::-1]
        else:
            perm = _shape_arg(axes)
            # Range first: a % nd alone would take axis 5 of a 2-D tensor as axis 1.
            if (any(not -nd <= a < nd for a in perm)
                    or sorted(a % nd if nd else a for a in perm) != list(range(nd))
                    or len(perm) != nd):
                hint = (" (to swap two axes, as PyTorch's transpose(dim0, dim1), give them as "
                        "two arguments)" if fn == "transpose" and len(perm) == 2 else "")
                raise ValueError(f"{fn}: axes {perm} are not a permutation of the {nd} "
                                 f"axes of a tensor of shape {self.shape}{hint}")
            perm = tuple(a % nd for a in perm)
        if perm == tuple(range(nd)):
            return self
        return _view(self, ops.Transpose, {"axes": perm})

    def swapdims(self, dim0, dim1):
        """``swapaxes`` under torch's name (torch's ``transpose(dim0, dim1)``)."""
        return self.swapaxes(dim0, dim1)

    def swapaxes(self, axis1, axis2):
        nd = self._data.ndim
        if nd == 0:
            _one_axis(axis1, 1, "axis1"), _one_axis(axis2, 1, "axis2")  # validate only: 0 or -1
            return self
        a, b = _one_axis(axis1, nd, "axis1"), _one_axis(axis2, nd, "axis2")
        perm = list(range(nd))
        perm[a], perm[b] = perm[b], perm[a]
        return self.transpose(tuple(perm))

    @property
    def mT(self):
        if self._data.ndim < 2:
            raise ValueError(f"mT needs a matrix or a batch of matrices, got a "
                             f"{self.data.ndim}-d tensor")
        return self.swapaxes(-1, -2)

    def squeeze(self, axis=None, *, dim=_UNSET):
        """NumPy's squeeze for ``axis`` (positional too): every size-1 axis, or the given ones,
        which must have size 1 (ValueError). torch's for ``dim=`` (an int or a tuple): the
        given dims of size 1 are removed, the others left as they are."""
        shp = self._data.shape
        if dim is not _UNSET:
            dim = _torch_dim("squeeze", axis, dim)
            if dim is not None:
                axes = _axes(dim, len(shp), "dim")
                return self.reshape(tuple(s for i, s in enumerate(shp)
                                          if i not in axes or s != 1))
        if axis is None:
            axes = tuple(i for i, s in enumerate(shp) if s == 1)
        else:
            axes = _axes(axis, len(shp))
            for a in axes:
                if shp[a] != 1:
                    raise ValueError(f"squeeze: axis {a} has size {shp[a]}, not 1 (shape {shp})")
        return self.reshape(tuple(s for i, s in enumerate(shp) if i not in axes))

    def unsqueeze(self, axis=_UNSET, *, dim=_UNSET):
        """A size-1 axis inserted at ``axis`` (or torch's ``dim=``), negative counting from
        the end of the result."""
        what = "unsqueeze(): axis"
        if dim is not _UNSET:
            if axis is not _UNSET:
                raise TypeError("unsqueeze(): got both dim= and axis=; give one")
            axis, what = dim, "unsqueeze(): dim"
        elif axis is _UNSET:
            raise TypeError("unsqueeze(): missing the axis (or dim) to insert")
        nd = self._data.ndim + 1
        a = _one_axis(axis, nd, what)
        shp = self._data.shape
        return self.reshape(shp[:a] + (1,) + shp[a:])

    expand_dims = unsqueeze

    def broadcast_to(self, *shape):
        shape = _shape_arg(shape)
        if shape == self._data.shape:
            return self
        try:
            np.broadcast_shapes(self._data.shape, shape)
            if len(shape) < self._data.ndim:
                raise ValueError
            return _view(self, ops.BroadcastTo, {"shape": shape})
        except ValueError:
            raise ValueError(f"{_argname.head('broadcast_to: ', 'broadcast_to')}cannot broadcast "
                             f"shape {self.shape} to {shape}") from None

    def expand(self, *shape):
        """PyTorch's expand: like broadcast_to, and -1 keeps an axis as it is."""
        shape = _shape_arg(shape)
        lead = len(shape) - self._data.ndim
        shape = tuple(self._data.shape[i - lead] if s == -1 and i >= lead else s
                      for i, s in enumerate(shape))
        return self.broadcast_to(shape)

    # ---- PyTorch's movement methods, as composites of indexing and broadcasting (so every
    # derivative comes from the primitives); their arguments keep PyTorch's names
    def _dim(self, dim, fn):
        if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, numbers.Integral):
            raise TypeError(f"{fn}(): dim must be an int, got {type(dim).__name__}")
        if self._data.ndim == 0:
            raise ValueError(f"{fn}(): a 0-d tensor has no dim to work along; reshape(1) it")
        return _axes(int(dim), self._data.ndim, "dim")[0]

    def split(self, split_size_or_sections, dim=0):
        """Pieces along ``dim``, as ``torch.split``: each of ``split_size`` (the last one
        shorter), or of the listed sizes, which must add up to the axis' length. (NumPy's
        ``split`` counts sections instead: that is ``chunk``.)"""
        d = self._dim(dim, "split")
        n = self._data.shape[d]
        sizes = split_size_or_sections
        if isinstance(sizes, (bool, np.bool_)) or not (
                isinstance(sizes, numbers.Integral) or hasattr(sizes, "__iter__")):
            raise TypeError(f"split(): split_size_or_sections must be an int or a list of ints, "
                            f"got {type(sizes).__name__}")
        if isinstance(sizes, numbers.Integral):
            if sizes <= 0 and not (sizes == 0 and n == 0):
                raise ValueError(f"split(): split_size must be positive, got {sizes}")
            sizes = [min(int(sizes), n - i) for i in range(0, n, int(sizes))] if n else [0]
        else:
            sizes = list(_shape_arg(tuple(sizes)))
            if any(s < 0 for s in sizes) or sum(sizes) != n:
                raise ValueError(f"split(): sizes {sizes} must be non-negative and add up to "
                                 f"{n}, the length of dim {d}")
        out, start = [], 0
        for k in sizes:
            index = (slice(None),) * d + (slice(start, start + k),)
            out.append(self[index])
            start += k
        return tuple(out)

    def chunk(self, chunks, dim=0):
        """At most ``chunks`` pieces of equal length along ``dim`` (the last one shorter), as
        ``torch.chunk``."""
        if isinstance(chunks, (bool, np.bool_)) or not isinstance(chunks, numbers.Integral) \
                or chunks < 1:
            raise ValueError(f"chunk(): chunks must be a positive int, got {chunks!r}")
        d = self._dim(dim, "chunk")
        n = self._data.shape[d]
        if n == 0:  # as torch: that many empty pieces
            return tuple(self[(slice(None),) * d + (slice(0, 0),)] for _ in range(int(chunks)))
        return self.split(-(-n // int(chunks)), dim)

    def flip(self, *dims):
        """The order of the elements reversed along ``dims`` (ints, or one tuple), as
        ``torch.flip``."""
        dims = dims[0] if len(dims) == 1 else dims
        axes = _axes(dims, self._data.ndim, "dims")
        if not axes:
            return self.clone()
        view = self[tuple(slice(None, None, -1) if i in axes else slice(None)
                          for i in range(max(axes) + 1))]
        return view.clone()  # a copy, as torch's: an in-place write must not reach self

    def repeat(self, *sizes):
        """The tensor tiled ``sizes`` times along each axis (leading new axes when there are more
        sizes than axes), as ``torch.Tensor.repeat`` (NumPy's ``tile``)."""
        reps = _shape_arg(sizes)
        nd = self._data.ndim
        if len(reps) < nd:
            raise ValueError(f"repeat(): {len(reps)} sizes for a tensor of {nd} dimensions; give "
                             f"at least one per dimension")
        if any(r < 0 for r in reps):
            raise ValueError(f"{_argname.head('repeat(): ', 'repeat')}sizes must be non-negative, "
                             f"got {reps}")
        shape = (1,) * (len(reps) - nd) + self._data.shape
        # each axis as (repeat, size), broadcast along the repeats, then merged
        wide = self.reshape([v for s in shape for v in (1, s)])
        tiled = wide.broadcast_to([v for r, s in zip(reps, shape) for v in (r, s)])
        out = tiled.reshape([r * s for r, s in zip(reps, shape)])
        # a copy, as torch's (all ones leave a view of self, and a broadcast is read-only)
        return out.clone() if np.may_share_memory(out._data, self._data) else out

    def gather(self, dim, index):
        """``out[i][j] = self[index[i][j]][j]`` for ``dim=0`` (and so on), as ``torch.gather``:
        ``index`` is an integer tensor of this tensor's rank, no bigger than it along the other
        axes. The gradient adds up repeated indices."""
        d = self._dim(dim, "gather")
        idx = index._data if isinstance(index, Tensor) else np.asarray(index)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"gather(): index must hold integers, got dtype {idx.dtype}")
        nd = self._data.ndim
        if idx.ndim != nd or any(idx.shape[i] > self._data.shape[i] for i in range(nd) if i != d):
            raise ValueError(f"gather(): index of shape {idx.shape} does not fit a tensor of "
                             f"shape {self.shape} along dim {d}")
        if idx.size and (idx.min() < 0 or idx.max() >= self._data.shape[d]):  # torch: no -1
            raise IndexError(f"gather(): index out of range for dim {d} of size "
                             f"{self.data.shape[d]}")
        grid = list(np.ogrid[tuple(slice(n) for n in idx.shape)])
        grid[d] = idx
        return self[tuple(grid)]

    def masked_fill(self, mask, value):
        """``value`` where ``mask`` holds, the tensor elsewhere (broadcast), as torch's; the
        gradient passes where the mask is False."""
        m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
        if m.dtype != np.bool_:
            raise TypeError(f"masked_fill(): mask must be boolean, got dtype {m.dtype}")
        v = _scalar_arg(value, "masked_fill(): value")
        if v is None:  # np.asarray(None, float) is NaN: a fill of NaN, silently
            raise TypeError("masked_fill(): value must be a number or a 0-d Tensor, got None")
        return where(m, Tensor(np.asarray(v, dtype=self._data.dtype)), self)

    def sort(self, dim=-1, descending=False, *, stable=False):
        """``(values, indices)`` along ``dim``, as ``torch.sort``: NaN sorts as the largest, and
        equal values keep their order either way (always stable, as ``stable=True``). The
        values' gradient goes back to where each came from."""
        d = self._dim(dim, "sort")
        descending = _bool_arg(descending, "descending", "sort")
        _bool_arg(stable, "stable", "sort")  # always stable; a flag all the same
        if not descending:
            order = np.argsort(self._data, axis=d, kind="stable")
        else:  # ascending on the reversed axis, read backwards: ties stay first-come
            back = np.argsort(np.flip(self._data, axis=d), axis=d, kind="stable")
            order = (self._data.shape[d] - 1) - np.flip(back, axis=d)
        return SortResult(self.gather(d, order), Tensor._wrap(order.astype(np.int64)))

    def topk(self, k, dim=-1, largest=True, sorted=True):
        """The ``k`` largest (or smallest) values along ``dim`` and their indices, as
        ``torch.topk``, in order (``sorted=False`` is taken and gives the same order)."""
        d = self._dim(dim, "topk")
        largest = _bool_arg(largest, "largest", "topk")
        _bool_arg(sorted, "sorted", "topk")  # always sorted; a flag all the same
        n = self._data.shape[d]
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral) \
                or not 0 <= k <= n:
            raise ValueError(f"topk(): k must be an int in [0, {n}] (the size of dim {d}), "
                             f"got {k!r}")
        k = int(k)
        if k in (0, n) or self._data.size == 0:  # every element (or none): the sort
            values, indices = self.sort(d, descending=bool(largest))
            head = (slice(None),) * d + (slice(0, k),)
            return TopKResult(values[head], Tensor._wrap(indices._data[head]))
        idx = _topk_indices(self._data, k, d, bool(largest))
        return TopKResult(self.gather(d, idx), Tensor._wrap(idx))

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in ``.grad`` at every backward (accumulated), as
        torch's: taken after this tensor's other hooks, whenever they were registered. A no-op
        on a leaf."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        node = self._node
        if node is None or any(isinstance(h, _RetainGrad) for h in node.hooks or ()):
            return
        if node.hooks is None:
            node.hooks = []
        at = len(node.hooks)  # before a module backward hook's group and the node's
        while at and isinstance(node.hooks[at - 1], (GroupHook, LateHook)):  # prehooks: torch's
            at -= 1
        node.hooks.insert(at, _RetainGrad(self))

    def expand_as(self, other):
        return self.expand(*_other_tensor(other, "expand_as").shape)

    def numel(self):
        return self._data.size

    def dim(self):
        return self._data.ndim

    def __setitem__(self, index, value):
        """``x[index] = value`` in place (NumPy's indexing; the value broadcast and cast within
        its kind), where nothing is recorded, as torch's: under no_grad(), or on a tensor that
        needs no gradient. Also what ``x[i] += v`` ends with. A graph that saved the array then
        refuses to go backward. Where this tensor or the value requires grad (``buf[i] = h``
        in a loop), the write is recorded, as torch's: the gradient reaches ``value`` at the
        elements written and the values before everywhere else (inplace_record.py)."""
        if _inplace.records(self, (value,)):
            _inplace.rebase(self, "item assignment", lambda t: _tensor_index.set_item(
                t, _index_arg(index)[0], value, into=t._data is self._data), copy_old=False)
            return
        self._in_place("item assignment", value)
        index, _ = _index_arg(index)
        v = self._values("item assignment", value._data if isinstance(value, Tensor) else value)
        if not self._data.flags.writeable:  # a broadcast view: the tensor gets its own array
            self._data = self._data.copy()
        try:
            if _forward is not None:  # the tangent written alike (a shape error is raised here)
                fw = _fw_module().setitem_tangent(self, index, value)
            self._data[index] = v
        except (IndexError, ValueError) as e:
            raise type(e)(f"item assignment: index {index!r} of a tensor of shape {self.shape} "
                          f"cannot take values of shape {v.shape}: {e}") from None
        if _forward is not None:
            self._fw = fw
        mark_written((self,))

    def __getitem__(self, index):
        index, basic = _index_arg(index)
        try:
            if basic:
                return _view(self, ops.GetItem, {"index": index, "basic": True})
            return apply(ops.GetItem, self, index=index, basic=False)
        except IndexError as e:
            raise IndexError(f"index {index!r} is invalid for a tensor of shape {self.shape}: {e}") from None
        except TypeError as e:  # e.g. a slice of strings: NumPy's message has no shape
            raise TypeError(f"index {index!r} is invalid for a tensor of shape {self.shape}: "
                            f"{e}") from None

    def pad(self, pad_width, value=0.0):
        """Constant padding with NumPy's ``pad_width`` (int, (before, after) or one pair per axis)."""
        raw = np.asarray(pad_width) if not isinstance(pad_width, Tensor) else pad_width._data
        if raw.dtype.kind not in "iu":  # not int64 casting: 1.5 would silently pad by 1
            raise TypeError(f"pad: pad_width must be an int, a pair of ints or one pair per axis, "
                            f"got {pad_width!r}")
        try:
            pw = np.broadcast_to(raw.astype(np.int64), (self._data.ndim, 2))
        except ValueError:
            raise ValueError(f"pad: pad_width {pad_width!r} does not fit a tensor of shape "
                             f"{self.shape}") from None
        if (pw < 0).any():
            raise ValueError(f"pad: pad_width must be non-negative, got {pad_width!r}")
        pw = tuple((int(a), int(b)) for a, b in pw.tolist())
        # None is 0, as torch's F.pad (NumPy would pad with NaN: constant_values=None)
        value = 0.0 if value is None else _scalar_arg(value, "pad: value")
        return apply(ops.Pad, self, pad_width=pw, value=value)

    def dot(self, o):
        return matmul(self, o)

    # ---- PyTorch's products and triangles (tensor_ops.py; prod is a primitive, the rest are
    # composites of indexing, selects and products)
    def prod(self, axis=None, keepdims=False, *, dim=_UNSET, keepdim=_UNSET):
        """The product over ``axis`` (int, tuple or None), NumPy's names as ``sum`` (torch's
        ``dim=``/``keepdim=`` too); the gradient is torch's where factors are 0."""
        if dim is not _UNSET or keepdim is not _UNSET:
            axis, keepdims = _torch_dims("prod", axis, keepdims, dim, keepdim, True)
        return _tensor_ops.prod(self, axis, keepdims)

    def roll(self, shifts, dims=None):
        return _tensor_ops.roll(self, shifts, dims)

    def tril(self, diagonal=0):
        return _tensor_ops.tril(self, diagonal)

    def triu(self, diagonal=0):
        return _tensor_ops.triu(self, diagonal)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        return _tensor_ops.diagonal(self, offset, dim1, dim2)

    def trace(self):
        return _tensor_ops.trace(self)

    def outer(self, vec2):
        return _tensor_ops.outer(self, vec2)

    def bmm(self, mat2):
        return _tensor_ops.bmm(self, mat2)

    matmul = __matmul__

    # ---- PyTorch's shape, indexing, reduction and in-place random methods (tensor_index.py:
    # composites of indexing, Scatter, selects and reductions; no primitive of their own)
    def t(self): return _tensor_index.t(self)
    def mm(self, mat2): return _tensor_index.mm(self, mat2)

    def contiguous(self):
        """Itself if its array is C-contiguous, else a C-contiguous copy on the graph, as
        torch's."""
        if self._data.flags.c_contiguous:
            return self
        out = self.clone()
        out._data = np.ascontiguousarray(out._data)  # astype kept the layout; same values
        return out

    def cpu(self):
        """Itself (there is one device), as torch's ``cpu()`` of a CPU tensor."""
        return self

    def new_tensor(self, data, dtype=None, requires_grad=False, *, device=None):
        """A copy of ``data`` as a new leaf, of this tensor's dtype unless ``dtype``."""
        _devices.check_device(device, "new_tensor()")
        data = data._data if isinstance(data, Tensor) else data
        return tensor(data, dtype=self._data.dtype if dtype is None else dtype,
                      requires_grad=requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        _devices.check_device(device, "new_full()")
        return Tensor.full(size, fill_value, dtype=self._data.dtype if dtype is None else dtype,
                           requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        _devices.check_device(device, "new_zeros()")
        return Tensor.zeros(*size, dtype=self._data.dtype if dtype is None else dtype,
                            requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        _devices.check_device(device, "new_ones()")
        return Tensor.ones(*size, dtype=self._data.dtype if dtype is None else dtype,
                           requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        """Zeros, as ``tg.empty`` (uninitialized memory would make runs differ)."""
        _devices.check_device(device, "new_empty()")
        return self.new_zeros(*size, dtype=dtype, requires_grad=requires_grad)

    def type_as(self, other): return self.astype(_other_tensor(other, "type_as")._data.dtype)
    def view_as(self, other): return self.reshape(_other_tensor(other, "view_as")._data.shape)
    reshape_as = view_as
    def unbind(self, dim=0): return _tensor_index.unbind(self, dim)

    def movedim(self, source, destination):
        return _tensor_index.movedim(self, source, destination)

    moveaxis = movedim
    def narrow(self, dim, start, length): return _tensor_index.narrow(self, dim, start, length)
    def select(self, dim, index): return _tensor_index.select(self, dim, index)
    def unflatten(self, dim, sizes): return _tensor_index.unflatten(self, dim, sizes)
    def tile(self, *dims):
        one = len(dims) == 1 and isinstance(dims[0], (tuple, list))  # x.tile((2, 2)) or (2, 2)
        return _tensor_index.tile(self, dims[0] if one else dims)

    def index_select(self, dim, index): return _tensor_index.index_select(self, dim, index)
    def masked_select(self, mask): return _tensor_index.masked_select(self, mask)
    def nonzero(self, *, as_tuple=False): return _tensor_index.nonzero(self, as_tuple=as_tuple)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        return _tensor_index.repeat_interleave(self, repeats, dim, output_size=output_size)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return _tensor_index.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add(self, dim, index, src): return _tensor_index.scatter_add(self, dim, index, src)

    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        return _tensor_index.scatter_reduce(self, dim, index, src, reduce,
                                            include_self=include_self)

    def index_add(self, dim, index, source, *, alpha=1):
        return _tensor_index.index_add(self, dim, index, source, alpha=alpha)

    def index_fill(self, dim, index, value): return _tensor_index.index_fill(self, dim, index, value)

    def index_copy(self, dim, index, source):
        return _tensor_index.index_copy(self, dim, index, source)

    def index_reduce(self, dim, index, source, reduce, *, include_self=True):
        return _tensor_index.index_reduce(self, dim, index, source, reduce,
                                          include_self=include_self)

    # the in-place forms, as exp_ (``_apply_``): a source that requires grad is refused too,
    # since the write is not recorded
    def _write_(self, name, fn, *sources, copy_old=True):
        if _inplace.records(self, sources):
            try:
                return _inplace.rebase(self, name, fn, copy_old=copy_old)
            except (TypeError, ValueError) as e:
                raise _argname.retitle(e)  # as _apply_'s: the user called name, not fn's method
        return self._apply_(name, fn)

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        return self._write_("scatter_", lambda t: t.scatter(dim, index, src, value=value,
                                                            reduce=reduce), src,
                            copy_old=reduce is not None)

    def scatter_add_(self, dim, index, src):
        return self._write_("scatter_add_", lambda t: t.scatter_add(dim, index, src), src,
                            copy_old=False)

    def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
        return self._write_("scatter_reduce_", lambda t: t.scatter_reduce(
            dim, index, src, reduce, include_self=include_self), src)

    def index_copy_(self, dim, index, source):
        return self._write_("index_copy_", lambda t: t.index_copy(dim, index, source), source,
                            copy_old=False)

    def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
        return self._write_("index_reduce_", lambda t: t.index_reduce(
            dim, index, source, reduce, include_self=include_self), source)

    def index_add_(self, dim, index, source, *, alpha=1):
        return self._write_("index_add_", lambda t: t.index_add(dim, index, source, alpha=alpha),
                            source, copy_old=False)

    def index_fill_(self, dim, index, value):
        return self._write_("index_fill_", lambda t: t.index_fill(dim, index, value), value,
                            copy_old=False)

    def masked_fill_(self, mask, value):
        return self._write_("masked_fill_", lambda t: t.masked_fill(mask, value), value,
                            copy_old=False)

    def index_put_(self, indices, values, accumulate=False):
        return self._write_("index_put_", lambda t: t.index_put(indices, values, accumulate),
                            values, copy_old=False)

    def index_put(self, indices, values, accumulate=False):
        return _tensor_index.index_put(self, indices, values, accumulate)

    def masked_scatter(self, mask, source):
        return _tensor_index.masked_scatter(self, mask, source)

    def take_along_dim(self, indices, dim=None):
        return _tensor_index.take_along_dim(self, indices, dim)

    def where(self, condition, other):
        """``tg.where(condition, self, other)``, as ``torch.Tensor.where``."""
        return where(condition, self, other)

    # torch's comparison methods: the operators under their names
    def eq(self, other): return _named_compare(np.equal, "eq", self, other)
    def ne(self, other): return _named_compare(np.not_equal, "ne", self, other)
    def lt(self, other): return self < other
    def le(self, other): return self <= other
    def gt(self, other): return self > other
    def ge(self, other): return self >= other
    greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
    # torch's names, NumPy's too (_numpy_names): these were written for ported torch code
    @_numpy_names
    def any(self, dim=None, keepdim=False): return _tensor_index.any(self, dim, keepdim)
    @_numpy_names
    def all(self, dim=None, keepdim=False): return _tensor_index.all(self, dim, keepdim)
    @_numpy_names
    def amax(self, dim=(), keepdim=False): return _tensor_index.amax(self, dim, keepdim)
    @_numpy_names
    def amin(self, dim=(), keepdim=False): return _tensor_index.amin(self, dim, keepdim)
    @_numpy_names
    def count_nonzero(self, dim=None): return _tensor_index.count_nonzero(self, dim)

    @_numpy_names
    def argsort(self, dim=-1, descending=False, *, stable=False):
        return _tensor_index.argsort(self, dim, descending, stable=stable)

    @_numpy_names
    def median(self, dim=None, keepdim=False): return _tensor_index.median(self, dim, keepdim)

    @_numpy_names
    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return _tensor_index.norm(self, p, dim, keepdim, dtype)

    # torch's linear-algebra methods (linalg.py; torch.linalg itself is tinygrad_norm.linalg)
    def det(self): return _linalg._torch_det(self)
    def logdet(self): return _linalg._torch_logdet(self)
    def slogdet(self): return _linalg._torch_slogdet(self)
    def inverse(self): return _linalg._torch_inverse(self)
    def cholesky(self, upper=False): return _linalg._torch_cholesky(self, upper)
    def matrix_power(self, n): return _linalg._torch_matrix_power(self, n)
    def pinverse(self, rcond=1e-15): return _linalg._torch_pinverse(self, rcond)
    def svd(self, some=True, compute_uv=True): return _linalg._torch_svd(self, some, compute_uv)
    def matrix_exp(self): return _linalg._torch_matrix_exp(self)

    def triangular_solve(self, A, upper=True, transpose=False, unitriangular=False):
        return _linalg._torch_triangular_solve(self, A, upper, transpose, unitriangular)

    # torch's reductions and scans beyond NumPy's (reductions.py), either spelling as above
    @_numpy_names
    def nansum(self, dim=None, keepdim=False, *, dtype=None):
        return _reductions.nansum(self, dim, keepdim, dtype=dtype)

    @_numpy_names
    def nanmean(self, dim=None, keepdim=False, *, dtype=None):
        return _reductions.nanmean(self, dim, keepdim, dtype=dtype)

    @_numpy_names
    def cummax(self, dim): return _reductions.cummax(self, dim)
    @_numpy_names
    def cummin(self, dim): return _reductions.cummin(self, dim)
    @_numpy_names
    def logcumsumexp(self, dim): return _reductions.logcumsumexp(self, dim)

    @_numpy_names
    def aminmax(self, *, dim=None, keepdim=False):
        return _reductions.aminmax(self, dim=dim, keepdim=keepdim)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _tensor_index.allclose(self, other, rtol, atol, equal_nan)

    def equal(self, other): return _tensor_index.equal(self, other)
    def sum_to_size(self, *size): return _tensor_index.sum_to_size(self, *size)
    def nelement(self): return self._data.size
    def element_size(self): return self._data.itemsize
    nbytes = property(lambda self: self._data.nbytes)
    itemsize = property(lambda self: self._data.itemsize)

    def detach_(self):
        """Cut this tensor from the graph that made it, in place: a leaf that requires no grad,
        as torch's ``detach_``."""
        self._detached = self._requires_grad
        self._node = None
        self._requires_grad = False
        return self

    # torch's arithmetic methods: the operators, with alpha= and rounding_mode= as torch's
    def add(self, other, *, alpha=1): return self + _alpha_times(other, alpha, self, "add")
    def sub(self, other, *, alpha=1): return self - _alpha_times(other, alpha, self, "sub")
    def mul(self, other): return self * other

    def div(self, other, *, rounding_mode=None):
        """``self / other``; ``rounding_mode='trunc'`` rounds toward 0 and ``'floor'`` down
        (integers stay integers), as ``torch.div``; those two have a zero gradient, as torch's."""
        if rounding_mode is None:
            return self / other
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or "
                             f"'floor' but found '{rounding_mode}'")
        return _rounded_div(self, _operand(other), rounding_mode)

    # in-place random fills, from the framework's generator (or generator=), under the rules of
    # copy_: refused where the tape would have to record them
    def uniform_(self, from_=0.0, to=1.0, *, generator=None):
        """Uniform values in [from_, to) (torch's ``from``, a Python keyword), in place."""
        self._in_place("uniform_")
        lo, hi = _scalar_arg(from_, "uniform_(): from"), _scalar_arg(to, "uniform_(): to")
        if lo is None or hi is None:
            raise TypeError(f"uniform_(): from and to must be numbers, got {lo!r} and {hi!r}")
        if not math.isfinite(hi - lo):  # NumPy's OverflowError from inside its generator
            raise ValueError(f"uniform_ expects to-from to be finite, got from={lo}, to={hi}")
        if not lo <= hi:
            raise ValueError(f"uniform_ expects to return a [from, to) range, but found from={lo}"
                             f" > to={hi}")
        return self._put("uniform_", _random.resolve(generator).uniform(lo, hi, self._data.shape))

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        self._in_place("normal_")
        mean, std = _scalar_arg(mean, "normal_(): mean"), _scalar_arg(std, "normal_(): std")
        if mean is None or std is None:  # else NumPy's "must be real number, not NoneType"
            raise TypeError(f"normal_(): mean and std must be numbers, got {mean!r} and {std!r}")
        if not std >= 0:
            raise ValueError(f"normal expects std >= 0.0, but found std {std}")
        return self._put("normal_", _random.resolve(generator).normal(mean, std, self._data.shape))

    def bernoulli_(self, p=0.5, *, generator=None):
        """1 with probability ``p`` (a number, or a tensor broadcast to this shape), else 0."""
        self._in_place("bernoulli_")
        p = p._data if isinstance(p, Tensor) else _scalar_arg(p, "bernoulli_(): p")
        if np.any((np.asarray(p) < 0) | (np.asarray(p) > 1) | np.isnan(p)):
            raise ValueError("bernoulli_ expects p to be in [0, 1]")
        u = _random.resolve(generator).random(self._data.shape)
        return self._put("bernoulli_", (u < p).astype(self._data.dtype))

    def random_(self, from_=0, to=None, *, generator=None):
        """Integers uniform in [from_, to) (``random_(to)``: [0, to)); with no argument, in
        [0, 2**mantissa] for floats and [0, max] for integers, as torch's."""
        self._in_place("random_")
        dt = self._data.dtype
        if to is None and from_ == 0:
            lo, hi = 0, (2 ** (np.finfo(dt).nmant + 1) + 1 if dt.kind == "f" else 2 if
                         dt.kind == "b" else int(np.iinfo(dt).max) + 1)
        else:
            lo, hi = (0, from_) if to is None else (from_, to)
        lo, hi = _int_arg(lo, "from", "random_"), _int_arg(hi, "to", "random_")
        if lo >= hi:
            raise ValueError(f"random_ expects 'from' to be less than 'to', but got from={lo} "
                             f">= to={hi}")
        # torch's range check (its words), so the cast below cannot wrap; beyond a float's
        # exact integers it warns, as torch does
        _random.check_integer_range(lo, hi, dt, "random_", stacklevel=3)
        draws = _random.resolve(generator).integers(lo, hi, self._data.shape, dtype=np.int64
                                           if hi <= 2 ** 63 else np.uint64)
        return self._put("random_", draws.astype(dt))

    # ---- torch's products and order statistics (products.py, statistics.py: composites),
    # and the in-place spellings of torch's methods, generated from one table below
    @staticmethod
    def _products():
        from . import products
        return products

    @staticmethod
    def _statistics():
        from . import statistics
        return statistics

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return self._products().addmm(self, mat1, mat2, beta=beta, alpha=alpha)
    def addmv(self, mat, vec, *, beta=1, alpha=1):
        return self._products().addmv(self, mat, vec, beta=beta, alpha=alpha)
    def addr(self, vec1, vec2, *, beta=1, alpha=1):
        return self._products().addr(self, vec1, vec2, beta=beta, alpha=alpha)
    def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return self._products().addbmm(self, batch1, batch2, beta=beta, alpha=alpha)
    def mv(self, vec): return self._products().mv(self, vec)
    def inner(self, other): return self._products().inner(self, other)
    def kron(self, other): return self._products().kron(self, other)
    def vdot(self, other): return self._products().vdot(self, other)
    def cov(self, *, correction=1, fweights=None, aweights=None):
        return self._products().cov(self, correction=correction, fweights=fweights,
                                    aweights=aweights)
    def corrcoef(self): return self._products().corrcoef(self)
    def diagflat(self, offset=0): return self._products().diagflat(self, offset)
    def renorm(self, p, dim, maxnorm): return self._products().renorm(self, p, dim, maxnorm)
    def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return self._statistics().quantile(self, q, dim, keepdim, interpolation=interpolation)
    def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return self._statistics().nanquantile(self, q, dim, keepdim,
                                              interpolation=interpolation)
    def nanmedian(self, dim=None, keepdim=False):
        return self._statistics().nanmedian(self, dim, keepdim)
    def mode(self, dim=-1, keepdim=False): return self._statistics().mode(self, dim, keepdim)
    def msort(self): return self._statistics().msort(self)

    def _in_place_form(base, params="", view=False, name=None):  # noqa: N805 - a class-time table
        """``base_`` (torch's in-place spelling of method ``base``, parameters ``params`` as
        torch names them): under the rules of ``exp_`` (``_write_``: refused on a tensor, or
        with a tensor argument, that requires grad in grad mode; the result written into this
        tensor's array, cast within its kind). ``view``: a shape change (``t_``, ``squeeze_``),
        this tensor taking the view of its array that ``base`` gives, nothing written."""
        import ast
        import inspect
        name, P = name or base + "_", inspect.Parameter
        args = ast.parse(f"def f(self, {params}): pass").body[0].args  # the table's words
        positional = args.args
        defaults = [P.empty] * (len(positional) - len(args.defaults)) + args.defaults
        sig = inspect.Signature(
            [P(a.arg, P.POSITIONAL_OR_KEYWORD, default=d if d is P.empty else
               ast.literal_eval(d)) for a, d in zip(positional, defaults)] +
            [P(a.arg, P.KEYWORD_ONLY, default=ast.literal_eval(d))
             for a, d in zip(args.kwonlyargs, args.kw_defaults)])

        def method(self, *args, **kwargs):
            bound = sig.bind(self, *args, **kwargs)
            bound.apply_defaults()
            pos = [v for k, v in bound.arguments.items()
                   if k != "self" and sig.parameters[k].kind != sig.parameters[k].KEYWORD_ONLY]
            kw = {k: v for k, v in bound.arguments.items()
                  if sig.parameters[k].kind == sig.parameters[k].KEYWORD_ONLY}
            if view:
                if _inplace.records(self):
                    return _inplace.rebase(self, name, lambda t: getattr(t, base)(*pos, **kw),
                                           write=False)
                self._data = getattr(self, base)(*pos, **kw)._data  # a view: the same memory
                return self
            sources = [v for v in pos + list(kw.values()) if isinstance(v, Tensor)]
            return self._write_(name, lambda t: getattr(t, base)(*pos, **kw), *sources)

        _argname.rename(method, name, f"Tensor.{name}")
        method.__signature__ = sig
        method.__doc__ = f"``{name[:-1]}`` in place, as ``torch.Tensor.{name}``."
        return method

    frac_, rsqrt_, sign_, sgn_, square_ = map(_in_place_form, ("frac", "rsqrt", "sign", "sgn",
                                                                "square"))
    tan_, asin_, acos_, atan_ = map(_in_place_form, ("tan", "asin", "acos", "atan"))
    sinh_, cosh_, asinh_, acosh_, atanh_ = map(_in_place_form, ("sinh", "cosh", "asinh",
                                                                 "acosh", "atanh"))
    arcsin_, arccos_, arctan_ = map(_in_place_form, ("arcsin", "arccos", "arctan"))
    arcsinh_, arccosh_, arctanh_ = map(_in_place_form, ("arcsinh", "arccosh", "arctanh"))
    log2_, log10_, log1p_, expm1_, exp2_ = map(_in_place_form, ("log2", "log10", "log1p",
                                                                 "expm1", "exp2"))
    erf_, erfc_, erfinv_, lgamma_, digamma_, i0_ = map(_in_place_form, (
        "erf", "erfc", "erfinv", "lgamma", "digamma", "i0"))
    negative_, fix_, deg2rad_, rad2deg_, sinc_ = map(_in_place_form, (
        "negative", "fix", "deg2rad", "rad2deg", "sinc"))
    logit_ = _in_place_form("logit", "eps=None")
    polygamma_ = _in_place_form("polygamma", "n")
    mvlgamma_ = _in_place_form("mvlgamma", "p")
    addcmul_ = _in_place_form("addcmul", "tensor1, tensor2, *, value=1")
    lerp_ = _in_place_form("lerp", "end, weight")
    fmod_ = _in_place_form("fmod", "divisor")
    remainder_ = _in_place_form("remainder", "other")
    floor_divide_ = _in_place_form("floor_divide", "other")
    true_divide_ = _in_place_form("true_divide", "other")
    subtract_ = _in_place_form("subtract", "other, *, alpha=1")
    multiply_ = _in_place_form("multiply", "other")
    divide_ = _in_place_form("divide", "other, *, rounding_mode=None")
    xlogy_, copysign_ = _in_place_form("xlogy", "other"), _in_place_form("copysign", "other")
    hypot_, atan2_ = _in_place_form("hypot", "other"), _in_place_form("atan2", "other")
    arctan2_ = _in_place_form("arctan2", "other")
    logical_not_ = _in_place_form("logical_not")
    # (map, not a generator: a class body's names are not seen inside a nested scope)
    logical_and_, logical_or_, logical_xor_ = map(
        _in_place_form, ("logical_and", "logical_or", "logical_xor"), ("other",) * 3)
    eq_, ne_, lt_, le_, gt_, ge_ = map(_in_place_form, ("eq", "ne", "lt", "le", "gt", "ge"),
                                       ("other",) * 6)
    greater_, less_, greater_equal_, less_equal_, not_equal_ = map(_in_place_form, (
        "greater", "less", "greater_equal", "less_equal", "not_equal"), ("other",) * 5)
    tril_, triu_ = _in_place_form("tril", "diagonal=0"), _in_place_form("triu", "diagonal=0")
    cumsum_, cumprod_ = _in_place_form("cumsum", "dim"), _in_place_form("cumprod", "dim")
    addmm_ = _in_place_form("addmm", "mat1, mat2, *, beta=1, alpha=1")
    addmv_ = _in_place_form("addmv", "mat, vec, *, beta=1, alpha=1")
    addr_ = _in_place_form("addr", "vec1, vec2, *, beta=1, alpha=1")
    addbmm_ = _in_place_form("addbmm", "batch1, batch2, *, beta=1, alpha=1")
    renorm_ = _in_place_form("renorm", "p, dim, maxnorm")
    t_ = _in_place_form("t", view=True)
    transpose_ = _in_place_form("swapaxes", "dim0, dim1", view=True, name="transpose_")  # torch's
    swapdims_ = _in_place_form("swapdims", "dim0, dim1", view=True)
    swapaxes_ = _in_place_form("swapaxes", "axis0, axis1", view=True)
    def _squeeze_dims(self, dim=None):
        return self.squeeze(dim=dim)  # torch's rule: a dim of another size is left alone

    squeeze_ = _in_place_form("_squeeze_dims", "dim=None", view=True, name="squeeze_")
    unsqueeze_ = _in_place_form("unsqueeze", "dim", view=True)
    del _in_place_form

    def fill_diagonal_(self, fill_value, wrap=False):
        """``fill_value`` on the main diagonal, in place, as torch's: every dim of one length
        beyond 2-D; a tall matrix restarts the diagonal below it with ``wrap``."""
        wrap = _bool_arg(wrap, "wrap", "fill_diagonal_")  # read by truth value, "no" wrapped
        if self._data.ndim < 2:
            raise ValueError("dimensions must larger than 1")
        if self._data.ndim > 2 and len(set(self._data.shape)) != 1:
            raise ValueError("all dimensions of input must be of equal length")
        v = self._values("fill_diagonal_", _scalar_arg(fill_value, "fill_diagonal_(): value"))
        if _inplace.records(self):
            on = np.zeros(self._data.shape, bool)
            np.fill_diagonal(on, True, wrap=wrap)
            return _inplace.rebase(self, "fill_diagonal_", lambda t: t.masked_fill(on, v.item()),
                                   copy_old=False)
        out = self._data.copy()
        np.fill_diagonal(out, v, wrap=wrap)
        return self._put("fill_diagonal_", out)

    # torch's methods whose functions live in pointwise.py, shaping.py and searching.py (bound
    # on first use there: those modules import this one)
    def xlogy(self, other): return _pointwise().xlogy(self, other)
    def logit(self, eps=None): return _pointwise().logit(self, eps)
    def sinc(self): return _pointwise().sinc(self)
    def copysign(self, other): return _pointwise().copysign(self, other)
    def fmax(self, other): return _pointwise().fmax(self, other)
    def fmin(self, other): return _pointwise().fmin(self, other)
    def float_power(self, exponent): return _pointwise().float_power(self, exponent)
    def logaddexp2(self, other): return _pointwise().logaddexp2(self, other)
    def deg2rad(self): return _pointwise().deg2rad(self)
    def rad2deg(self): return _pointwise().rad2deg(self)
    def signbit(self): return _pointwise().signbit(self)
    def sgn(self): return self.sign()
    def positive(self): return _pointwise().positive(self)
    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _pointwise().isclose(self, other, rtol, atol, equal_nan)
    def addcdiv(self, tensor1, tensor2, *, value=1):
        return _pointwise().addcdiv(self, tensor1, tensor2, value=value)
    def addcdiv_(self, tensor1, tensor2, *, value=1):
        return self._write_("addcdiv_", lambda t: t.addcdiv(tensor1, tensor2, value=value),
                            tensor1, tensor2)
    def subtract(self, other, *, alpha=1): return self.sub(other, alpha=alpha)
    def multiply(self, other): return self * other
    def divide(self, other, *, rounding_mode=None): return self.div(other,
                                                                    rounding_mode=rounding_mode)
    def true_divide(self, other): return self / other
    def ravel(self): return self.reshape(-1)
    def take(self, index): return _shaping().take(self, index)
    def rot90(self, k=1, dims=(0, 1)): return _shaping().rot90(self, k, dims)
    def fliplr(self): return _shaping().fliplr(self)
    def flipud(self): return _shaping().flipud(self)
    def tensor_split(self, indices_or_sections, dim=0):
        return _shaping().tensor_split(self, indices_or_sections, dim)
    def hsplit(self, sections): return _shaping().hsplit(self, sections)
    def vsplit(self, sections): return _shaping().vsplit(self, sections)
    def dsplit(self, sections): return _shaping().dsplit(self, sections)
    def unfold(self, dimension, size, step): return _shaping().unfold(self, dimension, size, step)
    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return _searching().unique(self, sorted, return_inverse, return_counts, dim)
    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        return _searching().unique_consecutive(self, return_inverse, return_counts, dim)
    def bincount(self, weights=None, minlength=0):
        return _searching().bincount(self, weights, minlength)
    def histc(self, bins=100, min=0, max=0): return _searching().histc(self, bins, min, max)
    def kthvalue(self, k, dim=-1, keepdim=False): return _searching().kthvalue(self, k, dim,
                                                                              keepdim)

    # torch's special-function methods (special.py)
    def lgamma(self): return _special().gammaln(self)
    def digamma(self): return _special().digamma(self)
    def polygamma(self, n): return _special().polygamma(n, self)
    def mvlgamma(self, p): return _special().multigammaln(self, p)
    def erfc(self): return _special().erfc(self)
    def erfinv(self): return _special().erfinv(self)
    def i0(self): return _special().i0(self)
    def igamma(self, other): return _special().igamma(self, other)
    def igammac(self, other): return _special().igammac(self, other)


def _special():
    from . import special
    return special


def _pointwise():
    from . import pointwise
    return pointwise


def _shaping():
    from . import shaping
    return shaping


def _searching():
    from . import searching
    return searching


# Reads go through a C-level getter (no Python frame; operator.attrgetter of the slot, ~30 ns a
# read over a plain attribute's ~7, where the slot descriptor's own __get__ cost ~40); writes are
# checked. The engine reads and writes the slot ``_data`` itself.
Tensor.data = property(operator.attrgetter("_data"), Tensor._set_data, None,
                       "The ndarray itself (shared, not a copy). Assigning checks the value "
                       "(Tensor._set_data).")
Tensor.requires_grad = property(operator.attrgetter("_requires_grad"), Tensor._set_requires_grad,
                                None, "Whether the tensor takes part in differentiation.")


SortResult = namedtuple("SortResult", "values indices")  # torch.return_types.sort's fields
TopKResult = namedtuple("TopKResult", "values indices")
# torch.return_types.max / min: the values and the index each came from
MaxResult = namedtuple("max", "values indices")
MinResult = namedtuple("min", "values indices")


def _torch_extreme(x, name, other, keepdims, dim, keepdim):
    """``x.max``/``x.min`` called as torch calls them: with a Tensor, the elementwise one;
    with ``dim=``, ``(values, indices)`` along it (``_values_indices``); with ``keepdim=``
    alone or ``dim=None``, the extreme of all elements (keepdim then needs a dim, as torch)."""
    if isinstance(other, Tensor):
        if dim is not _UNSET or keepdim is not _UNSET or keepdims is not False:
            raise TypeError(f"{name}(): with a Tensor argument (the elementwise {name}) there "
                            f"is no dim or keepdim")
        return (maximum if name == "max" else minimum)(x, other)
    d, k = _torch_dims(name, other, keepdims, dim, keepdim)
    k = _bool_arg(k, "keepdim", name)  # None or "False" was read by truth value
    if d is None:
        if k:
            raise TypeError(f"{name}(): keepdim needs a dim")
        return x._reduce(ops.Max if name == "max" else ops.Min, None, False)
    return _values_indices(x, name, d, k)


def _values_indices(x, name, d, keepdim):
    """torch's ``max(dim)``/``min(dim)``: the named tuple ``(values, indices)`` along the one
    int ``d``; the first index of a tie (NaN counts as the extreme), and the gradient goes to
    that element alone, where ``x.max(axis)`` shares it between ties (torch's amax)."""
    result = MaxResult if name == "max" else MinResult
    if not isinstance(d, (int, np.integer)) or isinstance(d, (bool, np.bool_)):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(d).__name__}")
    if x._data.ndim == 0:  # torch: dim 0 or -1 of a 0-d tensor is the element, index 0
        _one_axis(int(d), 1, "dim")
        return result(x.clone(), Tensor._wrap(np.zeros((), np.int64)))
    d = _one_axis(int(d), x._data.ndim, "dim")
    if x._data.size == 0:
        return _empty_extreme(x, d, keepdim, name, result)
    idx = x._arg(np.argmax if name == "max" else np.argmin, "arg" + name, d, True)
    values = x.gather(d, idx._data)  # the value at its index: its gradient goes there alone
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return result(values, idx)


def _empty_extreme(x, d, keepdim, name, result):
    """max/min along ``d`` of a tensor with no elements: empty values and indices where the
    reduced dim has elements (another dim is 0), torch's IndexError where it has none."""
    if x._data.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    shape = x._data.shape[:d] + (1,) + x._data.shape[d + 1:]
    idx = np.zeros(shape, np.int64)
    values = x.gather(d, idx)  # empty, on the graph: backward gives an empty gradient
    idx = Tensor._wrap(idx)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return result(values, idx)


class _RetainGrad:
    """The hook retain_grad() adds: the gradient into the tensor's ``.grad``. It holds the tensor
    weakly (the tensor owns the node that holds the hook)."""

    __slots__ = ("ref",)
    __name__ = "retain_grad"

    def __init__(self, t):
        self.ref = weakref.ref(t)

    def __call__(self, g):
        t = self.ref()
        if t is not None:
            mine = g if _state.enabled else Tensor._wrap(g._data.copy())  # create_graph: on it
            t._grad = mine if t._grad is None else t._grad + mine
        return None


class _Hook:
    """One registration of a hook function: the same function registered twice is two of these,
    so that each handle removes its own (``list.remove(fn)`` took the first equal one)."""

    __slots__ = ("fn", "__name__")

    def __init__(self, fn):
        self.fn = fn
        self.__name__ = getattr(fn, "__name__", repr(fn))

    def __call__(self, g):
        return self.fn(g)


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        """Unregister this hook; a second call does nothing, as PyTorch."""
        for i, h in enumerate(self._hooks):
            if h is self._hook:
                del self._hooks[i]
                return


def tensor(data, dtype=None, requires_grad=False, *, device=None):
    """A new tensor holding a **copy** of ``data``, as ``torch.tensor`` (``Tensor(array)`` shares
    the array, as ``torch.from_numpy``). Python data is typed as PyTorch types it: floats
    float32, ints int64, bools bool (``Tensor([0, 2])`` is float32, as ``torch.Tensor``)."""
    _devices.check_device(device, "tensor()")
    if isinstance(data, Tensor):
        data = data._data
    if isinstance(data, np.ndarray):
        return Tensor(data.copy(), dtype=dtype, requires_grad=requires_grad)
    if dtype is None and not isinstance(data, np.generic):
        try:
            kind = np.asarray(data).dtype.kind
        except ValueError:  # ragged: Tensor() names the problem
            kind = None
        dtype = {"f": _dd.DEFAULT, "i": np.int64, "u": np.int64, "b": np.bool_}.get(kind)
    arr = np.array(data, copy=True) if isinstance(data, np.generic) else data
    return Tensor(arr, dtype=dtype, requires_grad=requires_grad)


def from_numpy(ndarray):
    """A tensor sharing ``ndarray``'s memory, as ``torch.from_numpy`` (``Tensor(ndarray)``)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy(): expected an np.ndarray, got {type(ndarray).__name__}")
    return Tensor(ndarray)


def _combine(op, a, b):
    """``a op b`` for an augmented assignment (a binary primitive)."""
    if op is ops.Pow and (b is True or b is False):
        return _bool_pow(a, b)
    return _binary(op, a, b)


def _copy_over(src, t):
    """``copy_``'s recorded result: ``src``'s values, still joined to the history before with
    a zero gradient where that requires grad, as torch's CopyBackwards: the values before get a
    gradient of zeros (not None), and a node below that saved the overwritten array (``y =
    x.sigmoid(); y.copy_(w)``) refuses the backward as torch's does. A select by an all-True
    mask reads neither branch's values."""
    new = _copy_source(src, t)
    if not t._requires_grad:
        return new
    return where(np.ones(t._data.shape, bool), new, t)


def _copy_source(src, t):
    """``copy_``'s recorded value: ``src`` broadcast to ``t``'s shape, as a new node (never
    ``src``'s own, which the written tensor is about to take over)."""
    s = src if isinstance(src, Tensor) else Tensor(np.asarray(src))
    if s._data.shape != t._data.shape:
        try:
            return s.broadcast_to(t._data.shape).clone()
        except ValueError:
            raise ValueError(f"copy_: values of shape {s._data.shape} do not fit the tensor's "
                             f"shape {t._data.shape}") from None
    return s.clone()


def _tensor_bound(v):
    """A clamp bound taken elementwise: a Tensor of several elements, or one on the graph (a
    one-element Tensor without history stays the fast scalar bound: the same values)."""
    return type(v) is Tensor and (v._data.size != 1 or (v._requires_grad and _state.enabled)
                                  or v._fw is not None)


def _scalar_arg(v, name):
    if v is None:
        return None
    if isinstance(v, Tensor):
        if v.size != 1:  # item()'s own message would not say which argument it was
            raise TypeError(f"{name} must be a number, got a Tensor of shape {v.shape}")
        if v._requires_grad and _state.enabled:
            # taken as a number, it would silently get no gradient
            raise TypeError(f"{name} must be a number; a Tensor that requires grad would get "
                            f"no gradient here (use tinygrad_norm.maximum/minimum/where for a "
                            f"differentiable bound, or .detach() it)")
        v = v.item()
    if isinstance(v, np.generic) or isinstance(v, np.ndarray) and v.ndim == 0:
        v = v.item()  # a NumPy scalar or 0-d array, as NumPy takes them
    if not isinstance(v, (int, float)):
        raise TypeError(f"{_scalar_name(v, name)} must be a number, got {type(v).__name__}")
    return v


def _scalar_name(v, name):
    """``"clamp_min(): min"`` for a bad number ``name`` stood for (``"scatter(): argument
    'src'"`` where the user passed it under another name), unless the caller named the
    function already (``"add(): alpha"``)."""
    if "(): " in name:  # the caller's own words, under the name the user called it by
        fn, rest = name.split("(): ", 1)
        return _argname.head(f"{fn}(): ", fn) + rest
    fn, arg = _argname.caller(v)
    if arg is None or arg == name:  # "clamp_min(): min", the caller's word kept
        return _argname.prefix(what=name)
    return f"{fn}(): argument '{arg}'"  # "scatter(): argument 'src'" for a value= check


def _alpha_times(other, alpha, self, fn):
    """``alpha * other`` for ``add``/``sub`` (``other`` itself for 1); a float alpha with an
    integer tensor is torch's TypeError."""
    boolean = isinstance(alpha, (bool, np.bool_))
    alpha = _scalar_arg(alpha, f"{fn}(): alpha")
    if alpha == 1 and type(alpha) is int and not boolean:
        return other
    other = _operand(other)
    od = other._data.dtype if type(other) is Tensor else np.asarray(other).dtype
    # torch checks alpha against the result's dtype, not self's: an integer tensor plus a
    # float one takes a float alpha
    integral = self._data.dtype.kind in "biu" and od.kind in "biu"
    if boolean and not (self._data.dtype.kind == "b" and od.kind == "b"):
        raise TypeError("Boolean alpha only supported for Boolean results.")
    if isinstance(alpha, float) and integral:
        raise TypeError("For integral input tensors, argument alpha must not be a floating "
                        "point number.")
    out = other * alpha
    if integral and type(other) is Tensor and od.kind == "b" and self._data.dtype.kind != "b":
        out = out.astype(self._data.dtype)  # bool * int is int64 in NumPy; torch keeps self's
    return out


def _rounded_div(a, b, mode):
    """``a / b`` rounded toward 0 (``trunc``) or down (``floor``): computed in NumPy, with a
    zero gradient kept on the graph for the inputs that need one, as torch's."""
    ad, bd = a._data, b._data if isinstance(b, Tensor) else b
    if type(bd) is np.ndarray and ad.dtype != bd.dtype:  # torch's result type, as the operators
        ad, bd = _promoted(ad, bd, None)
    elif type(bd) is float and ad.dtype.kind in "biu":
        ad = ad.astype(_dd.DEFAULT)  # an integer tensor rounded-divided by a float: default
    ints = np.result_type(ad, bd).kind in "biu"
    if ints and np.any(np.asarray(bd) == 0) and np.size(ad) and np.size(bd):  # empty: no error
        raise ZeroDivisionError("ZeroDivisionError")
    with np.errstate(divide="ignore", invalid="ignore"):
        if mode == "floor":
            q = np.floor_divide(ad, bd)
        elif ints:  # floor, one up where the quotient is negative and inexact
            q = np.floor_divide(ad, bd)
            q = q + ((np.remainder(ad, bd) != 0) & ((np.asarray(ad) < 0) != (np.asarray(bd) < 0)))
        else:
            q = np.trunc(np.true_divide(ad, bd))
    out = Tensor._wrap(np.asarray(q))
    for x in (a, b):
        if isinstance(x, Tensor) and x._requires_grad and _state.enabled:
            out = out + apply(ops.ZerosLike, x)
    return out


def _integer_operands(a, b, symbol, what):
    """The operands of a bitwise operator and their arrays (or Python numbers); a float one is
    a TypeError naming the operator (NumPy's message would not)."""
    a, b = _operand(a), _operand(b)
    ad = a._data if type(a) is Tensor else a
    bd = b._data if type(b) is Tensor else b
    for d in (ad, bd):
        kind = d.dtype.kind if isinstance(d, np.ndarray) else "b" if type(d) is bool else (
            "i" if type(d) is int else "f")
        if kind not in "biu":
            raise TypeError(f"{symbol} is defined for {what} tensors, got "
                            f"{d.dtype if isinstance(d, np.ndarray) else type(d).__name__}")
    return a, b, ad, bd


def _bitwise(fn, symbol, a, b):
    """``a & b`` (| ^) of bool or integer operands: bitwise, so logical on bools, as in NumPy and
    torch. No gradient. Floats are a TypeError (NumPy's message would not name the operator)."""
    a, b, ad, bd = _integer_operands(a, b, symbol, "boolean and integer")
    if type(ad) is np.ndarray and type(bd) is np.ndarray and ad.dtype != bd.dtype:
        ad, bd = _promoted(ad, bd, None)  # torch's: a 0-d operand does not widen (int32 & 0-d int64)
    try:
        out = fn(ad, bd)
    except ValueError:
        raise ValueError(f"{symbol}: operands of shapes {_shape_of(a)} and {_shape_of(b)} cannot "
                         f"be broadcast together") from None
    return Tensor._wrap(np.asarray(out))


def _bool_pow(x, exponent):
    """``x ** True`` / ``x ** False``: a bool tensor stays bool (itself, or all True), as
    torch's; NumPy's bool power is int8. Other tensors as any Python number."""
    if type(x) is not Tensor or x._data.dtype.kind != "b":
        return _binary(ops.Pow, x, int(exponent))
    return Tensor._wrap(x._data.copy() if exponent else np.ones(x._data.shape, np.bool_))


def _shift(left, a, b):
    """``a << b`` / ``a >> b`` of integer operands, as torch's: the dtype as ``&``'s (a 0-d
    operand does not widen), a shift by a negative count or by the width or more gives 0 (``>>``
    of a negative value: -1), where NumPy's would overflow a Python int into a narrow dtype.
    Bools and floats are a TypeError, as torch's "not implemented". No gradient."""
    symbol = "<<" if left else ">>"
    a, b, ad, bd = _integer_operands(a, b, symbol, "integer")
    if type(ad) is np.ndarray and type(bd) is np.ndarray:
        if ad.dtype != bd.dtype:
            ad, bd = _promoted(ad, bd, None)
        dt = np.result_type(ad, bd)
    else:  # one Python number: the tensor's integer type (a bool one with an int: int64)
        arr, num = (ad, bd) if type(ad) is np.ndarray else (bd, ad)
        dt = arr.dtype if arr.dtype.kind in "iu" or type(num) is bool else np.dtype(np.int64)
    if dt.kind == "b":
        raise TypeError(f"{symbol} is not defined for bool tensors (as torch's)")
    try:
        np.broadcast_shapes(np.shape(ad), np.shape(bd))
    except ValueError:
        raise ValueError(f"{symbol}: operands of shapes {_shape_of(a)} and {_shape_of(b)} cannot "
                         f"be broadcast together") from None
    av = np.asarray(ad).astype(dt, copy=False)
    count = np.asarray(bd).astype(np.int64)  # before any narrow cast: -1 or 300 as uint8
    bits = dt.itemsize * 8
    bad = (count < 0) | (count >= bits)
    with np.errstate(over="ignore"):
        out = (np.left_shift if left else np.right_shift)(av, np.where(bad, 0, count).astype(dt))
    if bad.any():
        fill = 0 if left or dt.kind == "u" else np.where(av < 0, -1, 0).astype(dt)
        out = np.where(bad, fill, out).astype(dt, copy=False)
    return Tensor._wrap(np.asarray(out))


def _topk_indices(a, k, d, largest):
    """The int64 indices of ``topk`` along axis ``d`` of array ``a`` (0 < k < n), as a full
    stable sort would give them (NaN as the largest; equal values in index order), without
    sorting the axis: O(n) a slice plus the sort of k, where the sort was n log n (30-50x
    torch's time at k = 10 of 2048). For a long axis a blockwise max (min) first narrows each
    slice to the elements at or beyond the k-th largest block extreme (every top-k element and
    every one tied with the k-th is among them: about k of them for spread values)."""
    n = a.shape[d]
    x = np.moveaxis(a, d, -1)
    lead = x.shape[:-1]
    x = x.reshape(-1, n)
    rows = x.shape[0]
    b = 64
    while b >= 8 and n // b < 2 * k:
        b //= 2
    if b >= 8 and rows:
        m = n // b
        body = x[:, :m * b].reshape(rows, m, b)
        # NaN is the largest: a block with one is a NaN block for max; min ignores NaN
        ext = body.max(axis=2) if largest else np.fmin.reduce(body, axis=2)
        if m * b < n:
            tail = x[:, m * b:]
            ext = np.concatenate([ext, (tail.max(axis=1) if largest else
                                        np.fmin.reduce(tail, axis=1))[:, None]], axis=1)
        me = ext.shape[1]
        bound = np.partition(ext, me - k if largest else k - 1, axis=1)[
            :, me - k if largest else k - 1][:, None]
        with np.errstate(invalid="ignore"):
            if a.dtype.kind != "f":
                cand = x >= bound if largest else x <= bound
            elif largest:
                cand = (x >= bound) | np.isnan(x)
            else:  # a NaN bound (k blocks of NaNs alone): every element
                cand = (x <= bound) | np.isnan(bound)
        pos = np.flatnonzero(cand)
        r = pos // n
        counts = np.bincount(r, minlength=rows)
        width = int(counts.max())
        if width < n // 2:
            rank = np.arange(pos.size) - (np.cumsum(counts) - counts)[r]
            # padding after each row's candidates, never picked before them: the smallest
            # value (largest: NaN for floats) of the dtype, which only ties with a
            # threshold in a row where every element is a candidate (no padding there)
            if a.dtype.kind == "f":
                fill = -np.inf if largest else np.nan
            elif a.dtype.kind == "b":
                fill = not largest
            else:
                info = np.iinfo(a.dtype)
                fill = info.min if largest else info.max
            vals = np.full((rows, width), fill, a.dtype)
            vals[r, rank] = x.reshape(-1)[pos]
            where_from = np.zeros((rows, width), np.int64)
            where_from[r, rank] = pos - r * n
            cols = np.take_along_axis(where_from, _topk_columns(vals, k, largest), axis=1)
            return np.moveaxis(cols.reshape(lead + (k,)), -1, d)
    cols = _topk_columns(x, k, largest)
    return np.moveaxis(cols.reshape(lead + (k,)), -1, d)


def _topk_columns(x, k, largest):
    """Per row of the 2-D ``x``, the columns of its k largest (smallest) values in sorted order,
    NaN the largest, equal values in column order: one partition finds the k-th value, the
    elements beyond it and the first of those equal to it are taken, and those k sorted."""
    rows, n = x.shape
    kth = n - k if largest else k - 1
    thr = np.partition(x, kth, axis=1)[:, kth][:, None]  # NumPy's order: NaN largest
    if x.dtype.kind == "f":
        nan, thr_nan = np.isnan(x), np.isnan(thr)
        with np.errstate(invalid="ignore"):
            if largest:  # NaN beyond any number; nothing beyond a NaN threshold
                beyond = ((x > thr) | nan) & ~thr_nan
            else:  # below a NaN threshold: every number
                beyond = np.where(thr_nan, ~nan, x < thr)
            equal = np.where(thr_nan, nan, x == thr)
    else:
        beyond = x > thr if largest else x < thr
        equal = x == thr
    need = k - np.count_nonzero(beyond, axis=1)
    if (np.count_nonzero(equal, axis=1) != need).any():  # ties at the k-th value: the first
        equal &= np.cumsum(equal, axis=1) <= need[:, None]
    # each row's k, in column order (flat positions less the row's start)
    cols = np.flatnonzero(beyond | equal).reshape(rows, k) - (np.arange(rows) * n)[:, None]
    vals = np.take_along_axis(x, cols, axis=1)
    if largest:  # descending, ties first-come: ascending on the reversed row, read backwards
        order = (k - 1) - np.flip(np.argsort(np.flip(vals, 1), axis=1, kind="stable"), 1)
    else:
        order = np.argsort(vals, axis=1, kind="stable")
    return np.take_along_axis(cols, order, axis=1)


def _seed_grad(t, gradient, create_graph):
    if gradient is None:
        if t._data.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs: this "
                               f"tensor has shape {t.shape}; pass gradient= of that shape")
        g = np.ones(t._data.shape, t._data.dtype)  # np.ones_like's wrapper costs ~2 us more
    else:
        g = gradient._data if isinstance(gradient, Tensor) else gradient
        if type(g) is not np.ndarray or g.dtype != t._data.dtype:
            # The seed takes the output's dtype: a float64 seed of a float32 graph would turn
            # every gradient on the way float64 (hooks, grad() of intermediates, the time spent).
            # Only numbers convert: a string would be NumPy's ValueError, a complex seed would
            # lose its imaginary part with a mere warning.
            if type(g) is not np.ndarray:
                try:
                    g = np.asarray(g)
                except ValueError:  # a ragged list: NumPy's message names no argument
                    raise ValueError(f"gradient must be an array of the tensor's shape "
                                     f"{t.shape}, got a ragged {type(gradient).__name__}") from None
            kind = g.dtype.kind
            if kind not in "biuf" or isinstance(gradient, str):
                raise TypeError(f"gradient must be a Tensor, an ndarray or a number (real), got "
                                f"{type(gradient).__name__} of dtype {np.asarray(g).dtype}")
            g = np.asarray(g, dtype=t._data.dtype)
        if g.shape != t._data.shape:
            raise ValueError(f"gradient has shape {g.shape} but the tensor has shape {t.shape}")
        if create_graph and isinstance(gradient, Tensor):  # stays on the graph, in t's dtype
            return gradient if gradient.dtype == t._data.dtype else gradient.astype(t._data.dtype)
    return Tensor._wrap(g) if create_graph else g


_MATMUL = ops.MatMul.forward


def matmul(a, b):
    a, b = _operand(a), _operand(b)
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError("matmul: both operands must be tensors or arrays, not scalars")
    if a._data.ndim == 0 or b._data.ndim == 0:
        raise ValueError(f"matmul: both operands need at least one dimension, got shapes "
                         f"{a.shape} and {b.shape}")
    try:
        out = _MATMUL(a._data, b._data)  # float16 in float32 (ops._matmul)
    except ValueError:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned (inner "
                         f"dimensions {a.shape[-1]} and {b.shape[-2] if b.ndim > 1 else b.shape[0]} "
                         f"differ, or batch dimensions do not broadcast)") from None
    return _make(ops.MatMul, out, (a, b), (a._data, b._data))


def where(condition, x, y):
    """``x`` where ``condition`` holds, else ``y``; the gradient is a select as well."""
    c = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if c.dtype != np.bool_:
        if c.dtype.kind not in "iuf":  # a string or None would be cast to one truth value
            raise TypeError(f"where: condition must be boolean (or numeric, cast to bool), got "
                            f"{type(condition).__name__} of dtype {c.dtype}")
        c = c.astype(bool)
    x, y = _operand(x), _operand(y)
    xd = x._data if type(x) is Tensor else x
    yd = y._data if type(y) is Tensor else y
    try:
        out, bits = ops.select_keeping_bits(c, xd, yd)
    except ValueError:
        raise ValueError(f"{_argname.head('where: ', 'where')}shapes {c.shape}, {_shape_of(x)} "
                         f"and {_shape_of(y)} cannot be "
                         f"broadcast together") from None
    if type(x) is not Tensor and type(y) is not Tensor:
        if type(xd) in _SCALARS and type(yd) in _SCALARS:  # Python numbers: float32, as Tensor(2.0)
            out = out.astype(_dd.DEFAULT)
        return Tensor(out)
    # the condition as recorded is the bool array used (a numeric condition's cast included)
    cond = condition if isinstance(condition, Tensor) and condition._data is c else Tensor._wrap(c)
    return _make(ops.Where, out, (cond, x, y), (c, xd, yd), None, bits)


def vecdot(a, b, axis=-1, keepdims=False, *, dim=_UNSET, keepdim=_UNSET):
    """Sum of the products of ``a`` and ``b`` over ``axis`` (int, tuple or None for all) of
    their broadcast shape (or torch's ``dim``/``keepdim``); see ``Tensor.vecdot``."""
    if dim is not _UNSET or keepdim is not _UNSET:
        axis, keepdims = _torch_dims("vecdot", axis, keepdims, dim, keepdim, axis_default=-1)
    if type(a) is not Tensor:
        a = _operand(a)
    if type(b) is not Tensor:
        b = _operand(b)
    if type(a) is not Tensor or type(b) is not Tensor:
        raise TypeError(f"vecdot: both operands must be tensors or arrays, got "
                        f"{type(a).__name__} and {type(b).__name__}")
    ndim = a._data.ndim
    if a._data.shape != b._data.shape:
        try:
            ndim = len(np.broadcast_shapes(a._data.shape, b._data.shape))
        except ValueError:
            raise ValueError(f"vecdot: operands of shapes {a.shape} and {b.shape} cannot be "
                             f"broadcast together") from None
    axes = _axes(axis, ndim)
    extra = ops.SAME if a is b else None
    keepdims = _bool_arg(keepdims, "keepdim", "vecdot")
    out = ops.VecDot.forward(a._data, b._data, axes, keepdims)
    return _make(ops.VecDot, out, (a, b), (a._data, b._data), dict(axis=axes, keepdims=keepdims),
                 extra)


def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2``, broadcast, as ``torch.addcmul`` (operands may also
    be arrays or Python numbers). One primitive when ``value`` is 1: the product is computed and
    the input added into it, one output array and one tape node where ``*`` then ``+`` make two
    of each, with the same rounding (a wider input takes the product in its precision, as
    PyTorch promotes first). Another ``value`` scales ``tensor1`` first, as PyTorch's kernel
    does."""
    if type(value) is not int or value != 1:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"addcmul(): value must be a real number, got {type(value).__name__}")
        if value != 1:  # a Python number stays one: a NumPy scalar would promote float32
            tensor1 = _operand(tensor1) * (value.item() if isinstance(value, np.generic) else value)
    c, a, b = input, tensor1, tensor2
    if type(c) is not Tensor and type(c) not in _SCALARS:
        c = _operand(c)
    if type(a) is not Tensor and type(a) not in _SCALARS:
        a = _operand(a)
    if type(b) is not Tensor and type(b) not in _SCALARS:
        b = _operand(b)
    cd = c._data if type(c) is Tensor else c
    ad = a._data if type(a) is Tensor else a
    bd = b._data if type(b) is Tensor else b
    try:
        out = ops.Addcmul.forward(cd, ad, bd)
    except ValueError:
        shapes = [_shape_of(x) for x in (c, a, b)]
        try:
            np.broadcast_shapes(*shapes)
        except ValueError:
            raise ValueError(f"{_argname.head('addcmul: ', 'addcmul')}operands of shapes "
                             f"{', '.join(map(str, shapes))} cannot "
                             f"be broadcast together") from None
        raise
    return _make(ops.Addcmul, out, (c, a, b), (cd, ad, bd))


def _numbers_as_tensor(a, b):
    """Two Python numbers: the first as a float32 Tensor (Python numbers become float32, as
    ``where`` makes them); else ``a`` as it is."""
    if type(a) in (int, float) and type(b) in (int, float):  # np.float64 is a float subclass
        return Tensor(a)
    return a


def maximum(a, b):
    return _binary(ops.Maximum, _numbers_as_tensor(a, b), b)


def minimum(a, b):
    return _binary(ops.Minimum, _numbers_as_tensor(a, b), b)


def _tensor_list(tensors, fn):
    # a str or a dict iterates too: over letters and keys, each refused as no tensor's data
    if isinstance(tensors, (Tensor, str, bytes, dict)) or not hasattr(tensors, "__iter__"):
        if not isinstance(tensors, Tensor):
            raise TypeError(f"{_argname.head(fn + ': ', fn)}tensors must be a sequence of "
                            f"tensors, got {type(tensors).__name__}")
        if tensors._data.ndim == 0:  # its rows are the sequence; a 0-d one has none
            raise TypeError(f"{fn}: tensors must be a sequence of tensors, got a 0-d Tensor")
    return [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]


def concatenate(tensors, axis=0):
    ts = _tensor_list(tensors, "concatenate")
    if not ts:
        raise ValueError(f"{_argname.head('concatenate: ', 'concatenate')}need at least one "
                         f"tensor")
    if axis is None:  # NumPy's meaning: every tensor flattened first
        ts, axis = [t.reshape(-1) for t in ts], 0
    nd = ts[0]._data.ndim
    if nd == 0:
        raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated")
    ax = _one_axis(axis, nd)
    if len({t._data.dtype for t in ts}) > 1:
        ts = _common_dtype(ts)
    try:
        return apply(ops.Concatenate, *ts, axis=ax)
    except ValueError:
        raise ValueError(f"concatenate: shapes {[t.shape for t in ts]} do not match except along "
                         f"axis {axis}") from None


cat = concatenate


def _common_dtype(ts):
    """The tensors in torch's result dtype: that of the highest category present (bool < integer
    < float), promoted among those only, so int64 with float32 is float32 (NumPy: float64)."""
    top = max(_CATEGORY[t._data.dtype.kind] for t in ts)
    dt = np.result_type(*[t._data.dtype for t in ts if _CATEGORY[t._data.dtype.kind] == top])
    return [t if t._data.dtype == dt else t.astype(dt) for t in ts]


def stack(tensors, axis=0):
    ts = _tensor_list(tensors, "stack")
    if not ts:
        raise ValueError("stack: need at least one tensor")
    shapes = {t.shape for t in ts}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {[t.shape for t in ts]}")
    ax = _one_axis(axis, ts[0]._data.ndim + 1)
    return concatenate([t.unsqueeze(ax) for t in ts], axis=ax)


from . import tensor_ops as _tensor_ops  # noqa: E402  (it builds on Tensor, defined above)
from . import inplace_record as _inplace  # noqa: E402  (likewise)
from . import tensor_index as _tensor_index  # noqa: E402  (likewise)
from . import math_ops as _math_ops  # noqa: E402  (it builds on Tensor, defined above)
from . import reductions as _reductions  # noqa: E402  (likewise)
from . import linalg as _linalg  # noqa: E402  (likewise)
