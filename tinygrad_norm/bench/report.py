"""Turning a run's results dict into the printed table, Markdown, JSON and the ratio plot."""
from __future__ import annotations

import json
import math


def _ms(s):
    if s is None:
        return "-"
    v = s * 1e3
    return f"{v:.3g}" if v >= 0.001 else f"{v:.2g}"


def _x(r):
    if r is None or (isinstance(r, float) and not math.isfinite(r)):
        return "-"
    return f"{r:.2f}x" if r < 10 else f"{r:.3g}x"


def _mem(b, nbytes):
    return "-" if b is None else f"{b / nbytes:.1f}x"


def torch_keys(result):
    """The torch implementation keys present, composite before fused, fewer threads first."""
    keys = [k for k in result.get("impls", {}) if k.startswith("torch")]
    return sorted(keys, key=lambda k: (int(k[7:]), k[6]))


def table(result):
    """(header, rows): one row per case, size and dtype, then the chain and the MLP step."""
    tk = torch_keys(result)
    header = ["case", "dtype", "shape", "ref ms", "tgn ms", "tgn/ref", "tgn/floor", "ref/floor",
              *[f"{k}/ref" for k in tk]]
    fused1 = "torch-n1" if "torch-n1" in tk else None
    if fused1:
        header.append("tgn/torch-n1")
    header += ["nodes (full)", "mem tgn", "mem ref"]
    rows = []
    for r in result.get("cases", []):
        im = r["impls"]
        row = [r["case"], r["dtype"].replace("float", "f"), r["desc"],
               _ms(im["ref"]["median_s"]), _ms(im["tgn"]["median_s"]), _x(im["tgn"]["ratio_ref"]),
               _x(im["tgn"].get("ratio_floor")), _x(im["ref"].get("ratio_floor")),
               *[_x(im[k]["ratio_ref"]) if k in im else "-" for k in tk]]
        if fused1:
            row.append(_x(r["tgn_vs"].get(fused1)))
        mem = r.get("mem") or {}
        row += [f"{r['nodes']} ({r['nodes_full']})", _mem(mem.get("tgn"), r["bytes"]),
                _mem(mem.get("ref"), r["bytes"])]
        rows.append(row)
    for key, shape, dtype in (("chain", "200 ops on 4x4", "f64"),
                              ("mlp", "batch 64, 64-128-128-10", "f32")):
        e = result.get(key)
        if not e:
            continue
        im = e["impls"]
        row = [key, dtype, shape, _ms(im["ref"]["median_s"]), _ms(im["tgn"]["median_s"]),
               _x(im["tgn"]["ratio_ref"]), "-", "-",
               *[_x(im[k]["ratio_ref"]) if k in im else "-" for k in tk]]
        if fused1:
            row.append(_x(e["tgn_vs"].get(fused1)))
        row += ["-", "-", "-"]
        rows.append(row)
    return header, rows


def summary_table(result):
    """(header, rows): the largest size of each case and dtype (the memory-bound end), with the
    composite against every other implementation."""
    tk = torch_keys(result)
    largest = {}
    for r in result.get("cases", []):
        k = (r["case"], r["dtype"])
        if k not in largest or r["bytes"] > largest[k]["bytes"]:
            largest[k] = r
    header = ["case", "dtype", "shape", "tgn/ref", *[f"tgn/{k}" for k in tk],
              *[f"{k}/ref" for k in tk], "tgn/floor", "ref/floor", "nodes (full)",
              "mem tgn", "mem ref"]
    rows = []
    for r in largest.values():
        im, mem = r["impls"], r.get("mem") or {}
        rows.append([r["case"], r["dtype"].replace("float", "f"), r["desc"],
                     _x(im["tgn"]["ratio_ref"]), *[_x(r["tgn_vs"].get(k)) for k in tk],
                     *[_x(im[k]["ratio_ref"]) if k in im else "-" for k in tk],
                     _x(im["tgn"].get("ratio_floor")), _x(im["ref"].get("ratio_floor")),
                     f"{r['nodes']} ({r['nodes_full']})", _mem(mem.get("tgn"), r["bytes"]),
                     _mem(mem.get("ref"), r["bytes"])])
    return header, rows


def _md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join("---" if i < 3 else "---:" for i in range(len(header))) + " |"]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def _notes(result):
    lines = []
    bw = result.get("bandwidth")
    if bw:
        lines.append(f"floor = bytes moved / {bw['median'] / 1e9:.1f} GB/s (4 x bytes(x): read x, "
                     f"read dy, write y, write dx; a norm also reads its parameters and writes "
                     f"their gradients; NumPy copy bandwidth measured in this run: median of "
                     f"{bw['samples']} np.copyto of {bw['array_mib']} MiB float64 arrays, "
                     f"{bw['min'] / 1e9:.1f}-{bw['max'] / 1e9:.1f} GB/s, counting bytes read + "
                     f"written)")
    ch = result.get("chain")
    if ch:
        per = ", ".join(f"{k} {v['us_per_op']:.2f}" for k, v in ch["impls"].items())
        lines.append(f"chain: microseconds per op (forward + backward): {per}")
    mlp = result.get("mlp")
    if mlp:
        per = ", ".join(f"{k} {v['median_s'] * 1e3:.2f} ms" for k, v in mlp["impls"].items())
        lines.append(f"mlp step: {per}")
    chk = result.get("check")
    if chk:
        worst = max(chk["cases"].values(), default=0.0)
        lines.append(f"check: composite == reference in float64 for every case and size "
                     f"(rtol {chk['rtol']:g}; worst relative difference {worst:.1e})")
        if chk.get("torch"):
            tw = max(chk["torch"].values())
            lines.append(f"torch float64 vs reference (information): worst relative difference "
                         f"{tw:.1e}")
    lines.append(result.get("blas", ""))
    lines.append(f"torch: {result.get('torch')}")
    load = result.get("load") or {}
    if load.get("other_cores") is not None:
        lines.append(f"load: other processes used {load['other_cores']:.2f} of "
                     f"{result['machine'].get('logical_cpus')} cores on average during the run "
                     f"({load['wall_s']:.0f} s)")
    return [ln for ln in lines if ln]


LEGEND = ("tgn = tinygrad_norm composite (tape), ref = hand-written reference.py, "
          "torch-cN / torch-nN = PyTorch composite / fused kernels on N threads; "
          "x/ref = median over interleaved rounds of the per-round time ratio; "
          "nodes (full) = tape nodes in the composite's scope (of them, x-sized); "
          "mem = peak extra memory of one step (tracemalloc) / bytes(x)")


def format_text(result):
    header, rows = table(result)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    left = {0, 1, 2}

    def fmt(cells):
        return "  ".join(c.ljust(w) if i in left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))

    out = [fmt(header), "  ".join("-" * w for w in widths)]
    out += [fmt(r) for r in rows]
    out.append("")
    out.append(LEGEND)
    out += _notes(result)
    return "\n".join(out)


def format_markdown(result):
    m = result["machine"]
    lines = []
    if result.get("cases"):
        end = ("(--quick: these sizes stay in the CPU's cache, so the floor, built on memory "
               "bandwidth, says little here)" if result.get("options", {}).get("quick")
               else "(the memory-bound end)")
        lines += [f"Largest size of each case {end}:", ""]
        lines += _md_table(*summary_table(result))
        lines += ["", "Every case and size, then the per-op chain and the MLP step:", ""]
    lines += _md_table(*table(result))
    lines.append("")
    lines.append(LEGEND + ".")
    lines.append("")
    lines += [f"- {n}" for n in _notes(result)]
    caches = f" (caches {m['caches']})" if m.get("caches") else ""
    lines.append(f"- machine: {m.get('cpu')}{caches}, {m.get('logical_cpus')} logical CPUs, "
                 f"{m.get('memory_gib', '?')} GiB; Python {m.get('python')}, NumPy "
                 f"{m.get('numpy')}; run {result.get('started')} in "
                 f"{result.get('duration_s', 0):.0f} s, {result['options']['rounds']} rounds of "
                 f"~{result['options']['sample_time']} s samples")
    return "\n".join(lines) + "\n"


def write_json(result, path):
    with open(path, "w") as f:
        json.dump(result, f, indent=1, default=_jsonable)
        f.write("\n")


def _jsonable(v):
    if hasattr(v, "item"):
        return v.item()
    if isinstance(v, tuple):
        return list(v)
    return str(v)


def plot(result, path):
    """Ratio to the reference vs bytes(x), one panel per case (matplotlib, Agg, PNG)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    rows = result.get("cases", [])
    cases = list(dict.fromkeys(r["case"] for r in rows))
    if not cases:
        raise ValueError("nothing to plot: no normalization or dropout case was run")
    ncol = min(3, len(cases))
    nrow = -(-len(cases) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 3.6 * nrow), squeeze=False)
    keys = ["tgn", *torch_keys(result)]
    colors = {k: f"C{i}" for i, k in enumerate(keys)}
    for ax, case in zip(axes.flat, cases):
        for dt, style in (("float32", "-"), ("float64", "--")):
            rs = sorted((r for r in rows if r["case"] == case and r["dtype"] == dt),
                        key=lambda r: r["bytes"])
            if not rs:
                continue
            xs = [r["bytes"] for r in rs]
            for k in keys:
                ys = [r["impls"][k]["ratio_ref"] if k in r["impls"] else float("nan") for r in rs]
                ax.plot(xs, ys, style, marker="o", ms=3, color=colors[k],
                        lw=2.2 if k == "tgn" else 1.2, label=f"{k} {dt.replace('float', 'f')}")
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(next(r["label"] for r in rows if r["case"] == case), fontsize=10)
        ax.set_xlabel("bytes(x)")
        ax.set_ylabel("time / reference")
        ax.grid(True, which="both", alpha=0.3)
    for ax in list(axes.flat)[len(cases):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(6, len(labels)), fontsize=8)
    fig.suptitle("forward + backward, time relative to the hand-written reference "
                 "(1 = reference; lower is faster)", fontsize=11)
    fig.tight_layout(rect=(0, 0.06 + 0.02 * (len(labels) > 6), 1, 0.96))
    fig.savefig(path, dpi=110)
    plt.close(fig)
