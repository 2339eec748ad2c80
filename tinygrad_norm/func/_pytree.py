"""Nested arguments and results as torch's pytrees: tuples, lists, dicts and namedtuples are
containers, everything else (a Tensor, a number, None) is a leaf. ``flatten`` gives the leaves
in order and a spec that ``unflatten`` rebuilds the same structure from."""
from __future__ import annotations

_LEAF = None  # the spec of a leaf


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def flatten(tree):
    """(leaves, spec). Recursive over the containers only: arguments nest a few levels."""
    leaves = []

    def walk(x):
        if isinstance(x, dict):
            keys = list(x)
            return (dict, keys, [walk(x[k]) for k in keys])
        if isinstance(x, (tuple, list)):
            kind = type(x) if _is_namedtuple(x) else (tuple if isinstance(x, tuple) else list)
            return (kind, None, [walk(v) for v in x])
        leaves.append(x)
        return _LEAF

    return leaves, walk(tree)


def unflatten(leaves, spec):
    it = iter(leaves)

    def build(s):
        if s is _LEAF:
            return next(it)
        kind, keys, children = s
        if kind is dict:
            return {k: build(c) for k, c in zip(keys, children)}
        items = [build(c) for c in children]
        if kind is list:
            return items
        return kind(*items) if kind is not tuple else tuple(items)

    return build(spec)


def describe(spec):
    """A short text of a spec for error messages: ``*`` a leaf, ``(*, [*])`` containers."""
    if spec is _LEAF:
        return "*"
    kind, keys, children = spec
    inner = ", ".join(describe(c) for c in children)
    if kind is dict:
        return "{" + ", ".join(f"{k!r}: {describe(c)}" for k, c in zip(keys, children)) + "}"
    return f"[{inner}]" if kind is list else f"({inner})"


def broadcast_prefix(prefix, spec):
    """The leaves of ``prefix`` (in_dims, out_dims) repeated over the subtrees of ``spec`` that
    they stand for, one per leaf of ``spec``; None if ``prefix`` is not a prefix of ``spec``."""
    out = []

    def walk(p, s):
        if not isinstance(p, (tuple, list, dict)):
            out.extend([p] * _count(s))
            return True
        if s is _LEAF:
            return False
        kind, keys, children = s
        if isinstance(p, dict):
            if kind is not dict or set(p) != set(keys):
                return False
            return all(walk(p[k], c) for k, c in zip(keys, children))
        if kind is dict or len(p) != len(children) or (isinstance(p, list) != (kind is list)):
            return False
        return all(walk(pc, c) for pc, c in zip(p, children))

    return out if walk(prefix, spec) else None


def _count(spec):
    if spec is _LEAF:
        return 1
    return sum(_count(c) for c in spec[2])
