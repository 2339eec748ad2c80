"""Refresh the experiment pages from full runs: run every experiment (or those named on the
command line) in full, copy each PNG to docs/img/experiments/, and replace the block between
``<!-- verdict:start -->`` and ``<!-- verdict:end -->`` in docs/experiments/NAME.md with the
run's verdict, its checks and its run time.

    python docs/experiments/refresh.py                  # all of them (about 10 minutes)
    python docs/experiments/refresh.py bn-sigmoid       # one
    python docs/experiments/refresh.py --from DIR       # reuse finished runs in DIR/NAME/
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
IMG = os.path.join(HERE, "..", "img", "experiments")


def _short(v):
    """Floats to 4 significant digits, recursively (for the checks table)."""
    if isinstance(v, float):
        return float(f"{v:.4g}")
    if isinstance(v, dict):
        return {k: _short(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_short(x) for x in v]
    return v


def block(record):
    lines = [f"> {record['verdict']}", "",
             "| check | gating | passed | value | criterion |", "|---|---|---|---|---|"]
    for c in record["checks"]:
        value = json.dumps(_short(c["value"]), default=str)
        if len(value) > 160:
            value = value[:157] + "..."
        cell = lambda s: str(s).replace("|", "\\|")  # noqa: E731
        lines.append(f"| {cell(c['name'])} | {'yes' if c['gating'] else 'no'} | "
                     f"{'yes' if c['passed'] else '**no**'} | `{cell(value)}` | "
                     f"{cell(c['criterion'])} |")
    opts = record["options"]
    lines += ["", f"Full run: seed {opts['seed']}, data `{opts['data']}`, "
                  f"{record['seconds']:.0f} s on two cores (tinygrad_norm "
                  f"{record['versions']['tinygrad_norm']}, NumPy {record['versions']['numpy']})."]
    return "\n".join(lines)


def main(argv=None):
    from tinygrad_norm.experiments import EXPERIMENTS, run_experiment

    p = argparse.ArgumentParser()
    p.add_argument("names", nargs="*", default=list(EXPERIMENTS))
    p.add_argument("--from", dest="src", default=None, help="reuse DIR/NAME/results.json")
    p.add_argument("--out", default=os.path.join("runs", "experiments"))
    args = p.parse_args(argv)
    os.makedirs(IMG, exist_ok=True)
    for name in args.names:
        if args.src:
            out = os.path.join(args.src, name)
            with open(os.path.join(out, "results.json")) as f:
                record = json.load(f)
        else:
            out = os.path.join(args.out, name)
            record = run_experiment(name, out_dir=out, progress=False)
        if record["options"]["quick"]:
            sys.exit(f"{name}: {out} holds a --quick run; the docs show full runs")
        shutil.copyfile(os.path.join(out, f"{name}.png"), os.path.join(IMG, f"{name}.png"))
        page = os.path.join(HERE, f"{name}.md")
        with open(page) as f:
            text = f.read()
        new, n = re.subn(r"<!-- verdict:start -->.*?<!-- verdict:end -->",
                         lambda m: f"<!-- verdict:start -->\n{block(record)}\n<!-- verdict:end -->",
                         text, flags=re.S)
        if n != 1:
            sys.exit(f"{page}: expected one verdict block, found {n}")
        with open(page, "w") as f:
            f.write(new)
        print(f"{name}: {'held' if record['held'] else 'did NOT hold'}; updated {page}")


if __name__ == "__main__":
    main()
