"""docs/api.md cannot rot silently.

* Every inline code span that names something of the package -- ``tinygrad_norm.x.y``, ``tg.x``,
  ``F.x``, ``nn.X`` or ``Tensor.x`` -- must resolve to an object.
* Where such a span is written as a signature, ``name(a, b=1, *, c=None)``, its parameters (names,
  kinds, which have defaults, and each default that is a Python literal) must be the code's.
  Spans that are calls with literal arguments (``F.dropout(x, 0.5, True, False)``) are examples,
  not signatures, and are only resolved.
* Every public name of the package must be documented there, so a new function or layer fails
  this test until its entry is written.
* Relative links of docs/api.md and docs/design.md point to files (and headings) that exist.

Fast: it imports the package and reads two Markdown files.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

import tinygrad_norm

DOCS = Path(__file__).resolve().parents[1] / "docs"
API = DOCS / "api.md"

# The prefixes api.md writes names with, and what each stands for.
PREFIXES = {
    "tinygrad_norm": "tinygrad_norm",
    "tg": "tinygrad_norm",
    "F": "tinygrad_norm.functional",
    "nn": "tinygrad_norm.nn",
    "Tensor": "tinygrad_norm.Tensor",
}
SPAN_NAME = re.compile(r"^(?P<path>(?:%s)(?:\.[A-Za-z_][A-Za-z0-9_]*)+)(?:\((?P<params>.*)\))?$"
                       % "|".join(PREFIXES))


def _without_fences(text):
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _spans(path):
    """The inline code spans of a Markdown file (fenced blocks left out)."""
    return re.findall(r"`([^`\n]+)`", _without_fences(path.read_text(encoding="utf-8")))


def _import_longest(parts):
    """Import the longest module prefix of ``parts``; return (module, the remaining parts)."""
    for i in range(len(parts), 0, -1):
        try:
            return importlib.import_module(".".join(parts[:i])), parts[i:]
        except ImportError:
            continue
    raise ImportError(".".join(parts))


def resolve(dotted):
    """(owner, attribute name, object) for a documented name such as ``F.relu`` or
    ``tinygrad_norm.optim.SGD.step``; raises AttributeError or ImportError if it does not exist."""
    head, _, rest = dotted.partition(".")
    base = PREFIXES[head].split(".") + rest.split(".")
    owner, attrs = _import_longest(base[:-1])
    for a in attrs:
        owner = getattr(owner, a)
    name = base[-1]
    if inspect.ismodule(owner):
        try:  # a submodule that its package does not import by itself
            importlib.import_module(f"{owner.__name__}.{name}")
        except ImportError:
            pass
    return owner, name, getattr(owner, name)


def _documented():
    """[(span, dotted name, parameter text or None)] for every package name in api.md."""
    out = []
    for span in _spans(API):
        m = SPAN_NAME.match(span.strip())
        if m:
            out.append((span, m.group("path"), m.group("params")))
    return out


DOCUMENTED = _documented()


def test_api_names_are_found():
    assert len(DOCUMENTED) > 200, "the code spans of docs/api.md were not found"


@pytest.mark.parametrize("span,dotted,params", DOCUMENTED, ids=[d[0][:70] for d in DOCUMENTED])
def test_documented_name_resolves(span, dotted, params):
    try:
        resolve(dotted)
    except (AttributeError, ImportError) as e:
        pytest.fail(f"docs/api.md names `{span}`, but {dotted} does not exist ({e})")


# ---- signatures ---------------------------------------------------------------------------------

_MISSING = object()


def _doc_params(text):
    """[(name, kind, default)] of a signature written in the docs, or None if ``text`` is not a
    parameter list (a call with literal arguments, an ellipsis)."""
    try:
        fn = ast.parse(f"def _f({text}):\n    pass").body[0]
    except SyntaxError:
        return None
    a = fn.args
    positional = a.posonlyargs + a.args
    pos_defaults = [_MISSING] * (len(positional) - len(a.defaults)) + list(a.defaults)
    out = [(p.arg, "pos", d) for p, d in zip(positional, pos_defaults)]
    if a.vararg:
        out.append((a.vararg.arg, "*", _MISSING))
    out += [(p.arg, "kw", _MISSING if d is None else d) for p, d in zip(a.kwonlyargs, a.kw_defaults)]
    if a.kwarg:
        out.append((a.kwarg.arg, "**", _MISSING))
    return out


_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: "pos",
    inspect.Parameter.POSITIONAL_OR_KEYWORD: "pos",
    inspect.Parameter.VAR_POSITIONAL: "*",
    inspect.Parameter.KEYWORD_ONLY: "kw",
    inspect.Parameter.VAR_KEYWORD: "**",
}


def _code_params(owner, name, obj):
    """[(name, kind, default)] of the real signature, without ``self`` for a method looked up on
    its class."""
    params = list(inspect.signature(obj).parameters.values())
    if inspect.isclass(owner) and inspect.isfunction(inspect.getattr_static(owner, name)):
        params = params[1:]  # a plain method: drop self
    return [(p.name, _KINDS[p.kind], _MISSING if p.default is inspect.Parameter.empty else p.default)
            for p in params]


def _literal(node):
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _MISSING  # not a literal (np.float32, dict()): not compared


def _same_default(doc, code):
    if (doc is _MISSING) != (code is _MISSING):
        return False
    if doc is _MISSING:
        return True
    value = _literal(doc)
    if value is _MISSING:
        return True
    if isinstance(value, bool) != isinstance(code, bool):
        return False
    try:
        return bool(value == code)
    except Exception:  # noqa: BLE001 - an exotic default that will not compare
        return True


SIGNATURES = [d for d in DOCUMENTED if d[2] is not None and _doc_params(d[2]) is not None]


@pytest.mark.parametrize("span,dotted,params", SIGNATURES, ids=[d[0][:70] for d in SIGNATURES])
def test_documented_signature_matches_code(span, dotted, params):
    owner, name, obj = resolve(dotted)
    doc = _doc_params(params)
    code = _code_params(owner, name, obj)
    shown = [(n, k) for n, k, _ in doc]
    real = [(n, k) for n, k, _ in code]
    assert shown == real, (f"docs/api.md writes `{span}`, but the code's parameters are "
                           f"{inspect.signature(obj)}")
    for (n, _, d), (_, _, c) in zip(doc, code):
        assert _same_default(d, c), (f"docs/api.md writes `{span}`: the default of {n!r} in the "
                                     f"code is {c!r}")


# ---- completeness ---------------------------------------------------------------------------------

def _public_names():
    """[(owner, name)]: every name the package offers, by the owner api.md documents it under."""
    import tinygrad_norm.functional as F
    from tinygrad_norm import bench, cli, data, experiments, models, nn, optim, plots, random, \
        reference, training, viz
    from tinygrad_norm.nn import init

    out = [(tinygrad_norm, n) for n in tinygrad_norm.__all__]
    out += [(tinygrad_norm.Tensor, n) for n in vars(tinygrad_norm.Tensor) if not n.startswith("_")]
    for sub in ("activation", "dropout", "normalization", "losses", "conv"):
        out += [(F, n) for n in importlib.import_module(f"tinygrad_norm.functional.{sub}").__all__]
    out += [(nn, "Module"), (nn, "Parameter")]
    for sub in ("container", "dropout", "normalization", "linear", "conv", "activation", "loss"):
        out += [(nn, n) for n in importlib.import_module(f"tinygrad_norm.nn.{sub}").__all__]
    out += [(nn.Module, n) for n in vars(nn.Module) if not n.startswith("_")]
    out += [(init, n) for n in init.__all__]
    out += [(optim, n) for n in optim.__all__]
    out += [(optim.Optimizer, n) for n in vars(optim.Optimizer) if not n.startswith("_")]
    for mod in (data, reference, viz, models, training, plots, experiments, bench):
        out += [(mod, n) for n in mod.__all__]
    out += [(random, n) for n in ("manual_seed", "generator", "keep_mask")]
    out += [(cli, n) for n in ("main", "build_parser", "COMMANDS")]
    return out


def test_every_public_name_is_documented():
    documented = set()
    for _, dotted, _ in DOCUMENTED:
        try:
            owner, name, _ = resolve(dotted)
        except (AttributeError, ImportError):
            continue  # reported by test_documented_name_resolves
        documented.add((id(owner), name))
    missing = [f"{getattr(o, '__name__', o)}.{n}" for o, n in _public_names()
               if (id(o), n) not in documented]
    assert not missing, f"public names with no entry in docs/api.md: {missing}"


# ---- links ----------------------------------------------------------------------------------------

def _slug(heading):
    """GitHub's anchor for a heading."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path):
    text = _without_fences(path.read_text(encoding="utf-8"))
    return {_slug(m) for m in re.findall(r"^#+\s+(.*)$", text, flags=re.M)}


@pytest.mark.parametrize("page", ["api.md", "design.md"])
def test_relative_links_resolve(page):
    path = DOCS / page
    text = _without_fences(path.read_text(encoding="utf-8"))
    bad = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+://", target):
            continue
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        if not dest.exists():
            bad.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            bad.append(f"{target}: no such heading")
    assert not bad, f"broken links in docs/{page}: {bad}"
