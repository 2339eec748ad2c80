"""docs/api.md cannot rot silently.

* Every inline code span that names something of the package -- ``tinygrad_norm.x.y``, ``tg.x``,
  ``F.x``, ``nn.X`` or ``Tensor.x`` -- must resolve to an object.
* Where such a span is written as a signature, ``name(a, b=1, *, c=None)``, its parameters (names,
  kinds, which have defaults, and each default that is a Python literal) must be the code's.
  Spans that are calls with literal arguments (``F.dropout(x, 0.5, True, False)``) are examples,
  not signatures, and are only resolved.
* Every public name of the package must be documented there, so a new function or layer fails
  this test until its entry is written.
* Every relative link and image of every Markdown page under docs/ and of README.md points to a
  file that exists, and a ``#heading`` anchor into a Markdown file to a heading it has.
* Every registered experiment has its page, docs/experiments/NAME.md, linked from docs/index.md;
  the page shows its figure, holds the verdict block that docs/experiments/refresh.py rewrites,
  and has a "Compared with the paper" section.

Fast: it imports the package and reads Markdown files.
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

def _submodule_names(package):
    """The names in the ``__all__`` of every module directly in ``package``."""
    import pkgutil

    names = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        names += getattr(module, "__all__", [])
    return names


def _public_names():
    """[(owner, name)]: every name the package offers, by the owner api.md documents it under."""
    import tinygrad_norm.functional as F
    from tinygrad_norm import bench, cli, data, distributions, experiments, func, models, nn, \
        optim, plots, random, reference, special, training, utils, viz
    from tinygrad_norm.nn import init

    out = [(tinygrad_norm, n) for n in tinygrad_norm.__all__]
    out += [(tinygrad_norm.Tensor, n) for n in vars(tinygrad_norm.Tensor) if not n.startswith("_")]
    # every submodule's __all__, found rather than listed: a new file's names must not slip by
    out += [(F, n) for n in _submodule_names(F)]
    out += [(nn, "Module"), (nn, "Parameter")]
    out += [(nn, n) for n in _submodule_names(nn) if hasattr(nn, n)]
    out += [(nn.Module, n) for n in vars(nn.Module) if not n.startswith("_")]
    out += [(init, n) for n in init.__all__]
    out += [(optim, n) for n in optim.__all__]
    out += [(optim.Optimizer, n) for n in vars(optim.Optimizer) if not n.startswith("_")]
    out += [(optim.lr_scheduler, n) for n in optim.lr_scheduler.__all__]
    out += [(optim.lr_scheduler.LRScheduler, n) for n in vars(optim.lr_scheduler.LRScheduler)
            if not n.startswith("_")]
    out += [(nn.utils, n) for n in nn.utils.__all__]
    for mod in (data, reference, viz, models, training, plots, experiments, bench, distributions,
                func, special):
        out += [(mod, n) for n in mod.__all__]
    out += [(nn.utils.prune, n) for n in nn.utils.prune.__all__]
    out += [(utils, n) for n in utils.__all__]
    out += [(utils.checkpoint, n) for n in utils.checkpoint.__all__]
    out += [(random, n) for n in ("manual_seed", "generator", "keep_mask", "random_bits")]
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

ROOT = DOCS.parent
PAGES = sorted(DOCS.rglob("*.md")) + [ROOT / "README.md"]
LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")  # [text](target) and ![alt](target "title")


def _without_code(text):
    """Markdown text without fenced blocks and inline code spans (whose brackets are not links)."""
    return re.sub(r"`[^`\n]+`", "", _without_fences(text))


def _slug(heading):
    """GitHub's anchor for a heading."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip())  # a link: its text
    text = text.lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path):
    """Every heading's anchor; a repeated heading gets -1, -2, ... as on GitHub."""
    text = _without_fences(path.read_text(encoding="utf-8"))
    seen = {}
    out = set()
    for heading in re.findall(r"^#+\s+(.*?)\s*#*\s*$", text, flags=re.M):
        slug = _slug(heading)
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def _relative_links(path):
    """The link and image targets of a Markdown file that are not URLs."""
    text = _without_code(path.read_text(encoding="utf-8"))
    return [t for t in LINK.findall(text) if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


def _broken_links(path):
    bad = []
    for target in _relative_links(path):
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        if not dest.exists():
            bad.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            bad.append(f"{target}: no such heading")
    return bad


def test_pages_are_found():
    names = {p.relative_to(ROOT).as_posix() for p in PAGES}
    assert {"README.md", "docs/index.md", "docs/api.md", "docs/design.md",
            "docs/experiments/bn-sigmoid.md"} <= names


@pytest.mark.parametrize("path", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_relative_links_resolve(path):
    bad = _broken_links(path)
    assert not bad, f"broken links in {path.relative_to(ROOT).as_posix()}: {bad}"


def test_the_link_check_can_fail(tmp_path):
    (tmp_path / "there.md").write_text("# A heading\n\n## Twice\n\n## Twice\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text("[ok](there.md#a-heading) [ok](there.md#twice-1) [ok](#own) ![ok](there.md)\n"
                    "[web](https://example.com/x) `[code](not-a-link.md)`\n"
                    "[gone](missing.md) [gone](there.md#no-heading) ![gone](img/none.png)\n\n"
                    "```\n[fenced](also-not-a-link.md)\n```\n\n# Own\n", encoding="utf-8")
    assert _broken_links(page) == ["missing.md: no such file",
                                   "there.md#no-heading: no such heading",
                                   "img/none.png: no such file"]


# ---- experiment pages ---------------------------------------------------------------------------

def _experiment_names():
    from tinygrad_norm.experiments import EXPERIMENTS

    return list(EXPERIMENTS)


EXPERIMENT_NAMES = _experiment_names()
COMPARED = "## Compared with the paper"


def test_experiment_names_are_found():
    assert len(EXPERIMENT_NAMES) >= 11


@pytest.mark.parametrize("name", EXPERIMENT_NAMES)
def test_every_experiment_has_a_page_linked_from_the_index(name):
    page = DOCS / "experiments" / f"{name}.md"
    assert page.is_file(), f"experiment {name!r} has no page docs/experiments/{name}.md"
    index_targets = {t.partition("#")[0] for t in _relative_links(DOCS / "index.md")}
    assert f"experiments/{name}.md" in index_targets, f"docs/index.md does not link {name}'s page"


@pytest.mark.parametrize("name", EXPERIMENT_NAMES)
def test_experiment_page_shows_its_figure_and_verdict(name):
    page = DOCS / "experiments" / f"{name}.md"
    text = _without_fences(page.read_text(encoding="utf-8"))
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)", text)
    assert f"../img/experiments/{name}.png" in images, f"{name}.md does not show its figure"
    missing = [i for i in images if not (page.parent / i).resolve().is_file()]
    assert not missing, f"{name}.md shows images that do not exist: {missing}"
    # the block docs/experiments/refresh.py replaces with a full run's verdict
    assert text.count("<!-- verdict:start -->") == 1 and text.count("<!-- verdict:end -->") == 1
    block = text.split("<!-- verdict:start -->")[1].split("<!-- verdict:end -->")[0]
    assert f"> [{name}] Claim" in block and "Full run:" in block


@pytest.mark.parametrize("name", EXPERIMENT_NAMES)
def test_experiment_page_compares_with_the_paper(name):
    text = _without_fences((DOCS / "experiments" / f"{name}.md").read_text(encoding="utf-8"))
    headings = re.findall(r"^## .*$", text, flags=re.M)
    assert COMPARED in headings, f"{name}.md has no section {COMPARED!r}"
    section = text.split(COMPARED + "\n", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"\d", section) and len(section.split()) >= 40, \
        f"{name}.md: the section {COMPARED!r} should compare numbers, in a few sentences"
