"""The framework's one random generator: every constructor, dropout mask, initializer and
shuffle draws from it, so ``manual_seed(n)`` makes a whole run repeat exactly."""
from __future__ import annotations

import numbers
import operator

import numpy as np

# The seed in use, as torch's initial_seed() reports it: drawn from the OS at import, so a run
# that never seeds still differs from the last one, and can still be replayed from its seed.
_seed = int(np.random.SeedSequence().entropy) % 2 ** 64
_generator = np.random.default_rng(_seed)


def seed_value(seed, fn="manual_seed"):
    """``seed`` as a non-negative int, or a TypeError/ValueError naming ``fn``."""
    try:
        if isinstance(seed, (bool, np.bool_)):  # True as seed 1: refused, as the data seeds are
            raise TypeError
        seed = operator.index(seed)
    except TypeError:
        raise TypeError(f"{fn}(): seed must be an int, got {type(seed).__name__}") from None
    if seed < 0:
        raise ValueError(f"{fn}(): seed must be non-negative, got {seed}")
    return seed


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the framework's generator; returns it."""
    global _generator, _seed
    seed = seed_value(seed)
    _generator, _seed = np.random.default_rng(seed), seed
    return _generator


def generator() -> np.random.Generator:
    """The generator in use (a ``numpy.random.Generator``)."""
    return _generator


def resolve(generator, fn=None) -> np.random.Generator:
    """The generator a function with a ``generator=`` argument draws from: the framework's for
    None (so ``manual_seed`` makes the run repeat), else a ``numpy.random.Generator``, checked."""
    if generator is None:
        return _generator  # read at the call: manual_seed rebinds it
    rng = getattr(generator, "_rng", None)  # a tinygrad_norm.Generator: its stream, read now
    if isinstance(rng, np.random.Generator):
        return rng
    if not isinstance(generator, np.random.Generator):
        where = f"{fn}(): " if fn else ""
        raise TypeError(f"{where}generator must be a tinygrad_norm.Generator or a "
                        f"numpy.random.Generator, got {type(generator).__name__}")
    return generator


# PyTorch's names of the dtypes in its range messages (its C types, as printed on Linux).
_C_NAMES = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short int",
            "uint16": "short unsigned int", "int32": "int", "uint32": "unsigned int",
            "int64": "long int", "uint64": "long unsigned int"}
_C_FLOATS = {"float16": "c10::Half", "float32": "float", "float64": "double"}


def check_integer_range(lo, hi, dtype, fn, stacklevel=3):
    """Refuse integer draws in ``[lo, hi)`` (ints, ``lo < hi``) that ``dtype`` cannot hold, as
    PyTorch's ``random_``/``randint`` do, before anything is drawn: a cast would wrap them
    silently (uint8 ``[-5, 5)`` giving 251..255). A bool or integer dtype must hold ``lo`` and
    ``hi - 1`` (PyTorch's ``RuntimeError``, a ``ValueError`` here with its words); a float dtype
    beyond ``+-2**digits`` rounds the draws, which PyTorch (and this) only warns about. The one
    check of every integer draw (``randint``, ``randint_like``, ``Tensor.random_``); ``stacklevel``
    is the warning's, counted from this function (3: the caller of the function calling it)."""
    dt = np.dtype(dtype)
    if dt.kind in "biu":
        low, high = (0, 1) if dt.kind == "b" else (int(np.iinfo(dt).min), int(np.iinfo(dt).max))
        for name, v in (("from", lo), ("to - 1", hi - 1)):
            if not low <= v <= high:
                raise ValueError(f"{fn}: {name} is out of bounds for {_C_NAMES.get(dt.name, dt)} "
                                 f"([{lo}, {hi}) does not fit dtype {dt})")
    elif dt.kind == "f":
        d = np.finfo(dt).nmant + 1
        for name, v in (("from", lo), ("to - 1", hi - 1)):
            if not -(2 ** d) <= v <= 2 ** d:
                import warnings
                warnings.warn(f"{fn}: {name} is out of bounds [-(2^{d}), 2^{d}]. Due to precision "
                              f"limitations {_C_FLOATS.get(dt.name, dt)} can support discrete "
                              f"uniform distribution only within this range (the draws are "
                              f"rounded to dtype {dt})", UserWarning, stacklevel=stacklevel)


# Bit generators whose raw output is 64 random bits a word (MT19937's is 32 bits in a 64-bit word).
_FULL_WORDS = (np.random.PCG64, np.random.PCG64DXSM, np.random.Philox, np.random.SFC64)


def random_bits(nbytes, rng=None) -> np.ndarray:
    """``nbytes`` uniformly random bytes as a uint8 array.

    Read from the bit generator's raw 64-bit words where every bit of them is random: 2-3x
    faster than ``Generator.bytes``, which assembles a bytes object from 32-bit draws and which
    NumPy then copies (1M bytes: 0.4 ms against 1.2 ms here). Other bit generators go through
    ``Generator.bytes``. Either way the generator's state advances, so a seed repeats the draw."""
    if not (type(nbytes) is int or isinstance(nbytes, numbers.Integral)  # int: no ABC check
            and not isinstance(nbytes, (bool, np.bool_))) or nbytes < 0:
        raise ValueError(f"random_bits(): nbytes must be a non-negative int, got {nbytes!r}")
    rng = _generator if rng is None else rng
    bits = rng.bit_generator
    if type(bits) in _FULL_WORDS:
        return bits.random_raw((nbytes + 7) // 8).view(np.uint8)[:nbytes]
    return np.frombuffer(rng.bytes(nbytes), dtype=np.uint8)


def keep_mask(shape, p, rng=None) -> np.ndarray:
    """Boolean mask, True with probability 1 - p: the dropout draw, shared by the composite and
    the hand-written reference so that the same seed drops the same units in both.

    Random bits thresholded as integers, as few as exactness allows. One bit per element for p =
    1/2 (PyTorch's default), unpacked into the mask's bytes: keep where the bit is set (a quarter
    of the byte-per-element draw's time at 1M elements). One byte per element when p is another
    multiple of 1/256 (0.25, 0.75, ...): keep when ``u8 >= 256 p``. Otherwise two, read
    as the top 16 bits of a 32-bit uniform: a unit is kept when ``u16 > lo`` (``lo = floor(65536
    p)``), dropped when ``u16 < lo``, and on a tie (odds 1/65536 an element) decided by 16 more
    bits drawn for it alone, kept when they reach ``rest = round(65536 (65536 p - lo))``. So p is
    matched to 2**-32, as four bytes per element would match it, for half the random bits (which
    cost more than the rest of dropout's forward; a float64 uniform per element would cost ~3x).
    """
    rng = _generator if rng is None else rng
    shape = tuple(shape)
    n = 1
    for s in shape:
        # type(s) is int first: the ABC check of numbers.Integral costs ~0.5 us a call
        if not (type(s) is int or isinstance(s, numbers.Integral)
                and not isinstance(s, (bool, np.bool_))) or s < 0:
            raise ValueError(f"keep_mask(): shape must hold non-negative ints, got {shape}")
        n *= s
    value = p.item() if isinstance(p, np.ndarray) and p.ndim == 0 else p
    if not (type(value) is float or isinstance(value, numbers.Real)
            and not isinstance(value, (bool, np.bool_))) or not 0 <= value <= 1:  # NaN fails
        raise ValueError(f"keep_mask(): p must be a probability in [0, 1], got {p!r}")
    if p <= 0:
        return np.ones(shape, dtype=bool)
    if p >= 1:
        return np.zeros(shape, dtype=bool)
    try:
        plan = _DRAWS.get(p)
    except TypeError:  # an unhashable p (a 0-d array): planned, not cached
        plan = None
    width, dtype, lo, rest = plan or _draw_for(p)
    if not width:  # p = 1/2: bit i of the draw (most significant first in each byte) keeps unit i
        return np.unpackbits(random_bits((n + 7) // 8, rng), count=n).view(np.bool_).reshape(shape)
    u = random_bits(width * n, rng).view(dtype).reshape(shape)
    if not rest:  # p on the grid: keep when u >= p * levels, probability 1 - p
        return np.asarray(u >= lo)  # an array for shape () too, not a NumPy bool
    keep = np.asarray(u > lo)
    tied = u == lo
    if tied.any():  # the next 16 bits of these elements' uniforms decide
        ties = np.flatnonzero(tied)
        more = random_bits(2 * ties.size, rng).view(np.uint16)
        np.put(keep, ties, more >= rest)  # flat indices, into keep itself for any shape
    return keep


_DRAWS = {}  # p -> (bytes per element, 0 for a bit; uint dtype, lo, rest): a model reuses a few


def _draw_for(p):
    """The draw for p: ``(0, None, None, 0)`` (one bit per element) for p = 1/2, ``(1, uint8,
    256 p, 0)`` elsewhere on the 1/256 grid, else ``(2, uint16, lo, rest)`` with ``65536 lo +
    rest = round(2**32 p)`` (rest 0: p on the 1/65536 grid)."""
    if p == 0.5:
        plan = (0, None, None, 0)
    elif float(p * 256).is_integer():
        plan = (1, np.uint8, np.uint8(int(p * 256)), 0)
    else:
        # p * 2**32 is exact in float64; rounded to an integer it is the drop probability in
        # units of 2**-32, clamped so that p next to 1 still keeps with probability 2**-32
        units = min(int(round(p * 2.0 ** 32)), 2 ** 32 - 1)
        lo, rest = divmod(units, 1 << 16)
        plan = (2, np.uint16, np.uint16(lo), rest)
    if len(_DRAWS) > 64:
        _DRAWS.clear()
    try:
        _DRAWS[p] = plan
    except TypeError:
        pass
    return plan
