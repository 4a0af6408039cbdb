#!/usr/bin/env python3
"""Report on a bench_norms run: Markdown tables, the goals, and a PNG chart.

Reads the JSON that Google Benchmark writes with

    ./build/default/bench/bench_norms --benchmark_out=run.json --benchmark_out_format=json \\
        [--benchmark_repetitions=3 --benchmark_report_aggregates_only=true]

and prints (or writes, with --markdown) one table per shape and thread count: a row per
graph/pass, a column per impl, each cell the GB/s of minimal traffic and, in parentheses, its
fraction of the STREAM copy of the same shape and threads; then etna's speedup over each other
impl (etna GB/s / other GB/s, which is other's time / etna's time: every impl of a graph/pass
moves the same minimal traffic). Then the goals, met or not met with their numbers, and the
benchmarks whose page_faults counter exceeds 0.5. With --png (default bench/results.png) it
draws, through gnuplot, the fraction of copy per graph/pass and impl, one panel per shape.

With repetitions, a benchmark's value is its `median` aggregate; without, its single run (the
median of its runs if it has several and no aggregate). Python 3.11 standard library only.

    python3 bench/report.py --json run.json [--markdown report.md] [--png results.png | --no-png]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

GRAPHS = ["layer_norm", "rms_norm", "add_layer_norm", "post_norm_gelu", "batch_norm_masked", "custom_norm"]
PASSES = ["fwd", "bwd", "train"]
IMPLS = ["etna", "eager", "handwritten", "eigen", "onednn", "libtorch"]
STREAM = "stream"
GOAL_SHAPE = (16384, 1024)
GOAL_THREADS = 2
PAGE_FAULT_LIMIT = 0.5
# The chart's colour of each impl, the same in every panel (etna stands out).
COLOURS = {
    "etna": "#d62728",
    "eager": "#7f7f7f",
    "handwritten": "#ff9f40",
    "eigen": "#2ca02c",
    "onednn": "#1f77b4",
    "libtorch": "#9467bd",
}
EXTRA_COLOURS = ["#8c564b", "#e377c2", "#bcbd22", "#17becf"]

NAME = re.compile(r"^(?P<prefix>.+)/(?P<tokens>\d+)x(?P<features>\d+)/threads:(?P<threads>\d+)(?:/.*)?$")


@dataclass
class Result:
    """One benchmark: its value (bytes/s of minimal traffic) and page faults per call."""

    name: str  # <graph>/<pass>/<impl>/<T>x<D>/threads:<n>, without /real_time
    graph: str  # "stream" for stream/copy and stream/triad
    pass_: str  # fwd, bwd, train; copy or triad for stream
    impl: str  # "" for stream
    shape: tuple[int, int]
    threads: int
    bytes_per_second: float | None = None
    page_faults: float | None = None  # the largest of the runs and mean/median aggregates
    cv: float | None = None  # the coefficient of variation of bytes_per_second, if aggregated
    repetitions: int = 1
    error: str | None = None

    @property
    def gbps(self) -> float | None:
        return None if self.bytes_per_second is None else self.bytes_per_second / 1e9


@dataclass
class Run:
    context: dict
    results: dict[tuple, Result] = field(default_factory=dict)  # (graph, pass, impl, shape, threads)
    source: str = ""  # "median of 3 repetitions" or "single runs"
    skipped: list[str] = field(default_factory=list)  # names not in the matrix's form

    def get(self, graph: str, pass_: str, impl: str, shape, threads: int) -> Result | None:
        return self.results.get((graph, pass_, impl, tuple(shape), threads))

    def gbps(self, graph: str, pass_: str, impl: str, shape, threads: int) -> float | None:
        r = self.get(graph, pass_, impl, shape, threads)
        return None if r is None or r.error else r.gbps

    def copy(self, shape, threads: int) -> float | None:
        return self.gbps(STREAM, "copy", "", shape, threads)

    def triad(self, shape, threads: int) -> float | None:
        return self.gbps(STREAM, "triad", "", shape, threads)

    def shapes(self) -> list[tuple[int, int]]:
        return sorted({k[3] for k in self.results}, key=lambda s: (s[0] * s[1], s))

    def threads(self, shape=None) -> list[int]:
        return sorted({k[4] for k in self.results if shape is None or k[3] == tuple(shape)})


# ------------------------------------------------------------------------------------------
# Reading the JSON


def parse_name(name: str):
    """(graph, pass, impl, shape, threads) of a benchmark name, or None."""
    m = NAME.match(name)
    if not m:
        return None
    parts = m["prefix"].split("/")
    shape = (int(m["tokens"]), int(m["features"]))
    threads = int(m["threads"])
    if len(parts) == 2 and parts[0] == STREAM:
        return STREAM, parts[1], "", shape, threads
    if len(parts) == 3:
        return parts[0], parts[1], parts[2], shape, threads
    return None


def base_name(entry: dict) -> str:
    """The benchmark's name without its aggregate suffix and without /real_time."""
    name = entry.get("run_name") or entry["name"]
    if entry.get("run_type") == "aggregate" and not entry.get("run_name"):
        agg = entry.get("aggregate_name", "")
        if agg and name.endswith("_" + agg):
            name = name[: -len(agg) - 1]
    for suffix in ("/real_time", "/process_time", "/manual_time"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def load(path: str) -> Run:
    with open(path) as f:
        data = json.load(f)
    run = Run(context=data.get("context", {}))
    groups: dict[str, dict] = {}
    for entry in data.get("benchmarks", []):
        name = base_name(entry)
        g = groups.setdefault(name, {"iterations": [], "aggregates": {}, "errors": []})
        if entry.get("error_occurred"):
            g["errors"].append(entry.get("error_message", "error"))
        elif entry.get("run_type") == "aggregate":
            g["aggregates"][entry.get("aggregate_name", "")] = entry
        else:
            g["iterations"].append(entry)

    reps = set()
    for name, g in groups.items():
        key = parse_name(name)
        if key is None:
            run.skipped.append(name)
            continue
        graph, pass_, impl, shape, threads = key
        r = Result(name, graph, pass_, impl, shape, threads)
        aggs, its = g["aggregates"], g["iterations"]
        if "median" in aggs:
            r.bytes_per_second = aggs["median"].get("bytes_per_second")
            r.repetitions = int(aggs["median"].get("repetitions", 0)) or len(its) or 1
            cv = aggs.get("cv", {}).get("bytes_per_second")
            r.cv = cv if isinstance(cv, (int, float)) else None
            reps.add(f"median of {r.repetitions} repetitions")
        elif its:
            values = [e["bytes_per_second"] for e in its if "bytes_per_second" in e]
            r.bytes_per_second = statistics.median(values) if values else None
            r.repetitions = len(its)
            reps.add("single runs" if len(its) == 1 else f"median of {len(its)} runs")
        faults = [e["page_faults"] for e in its if "page_faults" in e]
        faults += [aggs[a]["page_faults"] for a in ("mean", "median") if a in aggs and "page_faults" in aggs[a]]
        r.page_faults = max(faults) if faults else None
        if g["errors"]:
            r.error = "; ".join(sorted(set(g["errors"])))
        elif r.bytes_per_second is None:
            continue  # neither runs nor a median: nothing to report
        run.results[(graph, pass_, impl, shape, threads)] = r
    run.source = ", ".join(sorted(reps)) or "no runs"
    return run


# ------------------------------------------------------------------------------------------
# Formatting


def shape_str(shape) -> str:
    return f"{shape[0]}x{shape[1]}"


def fmt_gbps(v: float | None) -> str:
    if v is None or math.isnan(v):
        return "–"
    return f"{v:.0f}" if v >= 100 else f"{v:.3g}" if v >= 1 else f"{v:.2f}"


def fmt_pct(fraction: float | None) -> str:
    return "–" if fraction is None else f"{100 * fraction:.0f}%"


def fmt_ratio(r: float | None) -> str:
    return "–" if r is None else f"{r:.1f}x" if r >= 10 else f"{r:.2f}x"


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def ordered(values, order):
    """values in order's order, then the unknown ones sorted."""
    values = set(values)
    return [v for v in order if v in values] + sorted(values - set(order))


def md_table(header: list[str], rows: list[list[str]], right_from: int = 1) -> list[str]:
    align = [":--" if i < right_from else "--:" for i in range(len(header))]
    widths = [max(len(header[i]), *(len(r[i]) for r in rows), 3) for i in range(len(header))]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) if i < right_from else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths))) + " |"

    sep = "|" + "|".join((":" + "-" * (w + 1)) if a == ":--" else ("-" * (w + 1) + ":")
                         for a, w in zip(align, widths)) + "|"
    return [line(header), sep, *(line(r) for r in rows)]


def rows_of(run: Run, shape, threads: int):
    """The (graph, pass) pairs that have a result at this shape and thread count, in order."""
    keys = {(k[0], k[1]) for k in run.results if k[0] != STREAM and k[3] == tuple(shape) and k[4] == threads}
    graphs = ordered({g for g, _ in keys}, GRAPHS)
    return [(g, p) for g in graphs for p in ordered({p for gg, p in keys if gg == g}, PASSES)]


def impls_of(run: Run, shape, threads: int) -> list[str]:
    return ordered({k[2] for k in run.results if k[0] != STREAM and k[3] == tuple(shape) and k[4] == threads},
                   IMPLS)


def shape_table(run: Run, shape, threads: int) -> list[str]:
    copy, triad = run.copy(shape, threads), run.triad(shape, threads)
    out = [f"### {shape_str(shape)}, {threads} thread{'s' if threads != 1 else ''}", ""]
    head = f"STREAM copy **{fmt_gbps(copy)} GB/s**, triad **{fmt_gbps(triad)} GB/s**"
    if copy and triad:
        head += f" (triad {fmt_pct(triad / copy)} of copy)"
    cvs = [r for r in run.results.values() if r.shape == tuple(shape) and r.threads == threads and r.cv is not None]
    if cvs:
        worst = max(cvs, key=lambda r: r.cv)
        head += f"; largest coefficient of variation {fmt_pct(worst.cv)} ({worst.name})"
    out += [head + ".", ""]
    rows, impls = rows_of(run, shape, threads), impls_of(run, shape, threads)
    if not rows:
        return out + ["(no graph benchmarks at this shape and thread count)", ""]
    others = [i for i in impls if i != "etna"] if "etna" in impls else []
    header = ["graph / pass", *impls, *(f"etna vs {o}" for o in others)]
    body = []
    for g, p in rows:
        cells = [f"{g}/{p}"]
        for impl in impls:
            r = run.get(g, p, impl, shape, threads)
            if r is None:
                cells.append("")
            elif r.error:
                cells.append("error")
            else:
                frac = ratio(r.gbps, copy)
                cells.append(f"{fmt_gbps(r.gbps)} ({fmt_pct(frac)})" if frac is not None else fmt_gbps(r.gbps))
        etna = run.gbps(g, p, "etna", shape, threads)
        for o in others:
            sp = ratio(etna, run.gbps(g, p, o, shape, threads))
            cells.append("" if sp is None else fmt_ratio(sp))
        body.append(cells)
    out += md_table(header, body)
    return out + [""]


# ------------------------------------------------------------------------------------------
# Goals


@dataclass
class Goal:
    text: str
    status: str  # "met", "not met", "no data"
    detail: str


def check(text: str, pairs: list[tuple[str, float | None, float]], unit: str, fmt) -> Goal:
    """pairs: (what, value, threshold); met when every value >= its threshold."""
    have = [(w, v, t) for w, v, t in pairs if v is not None]
    missing = [w for w, v, _ in pairs if v is None]
    if not have:
        return Goal(text, "no data", "missing " + ", ".join(missing) if missing else "no graph/pass has both")
    failing = [(w, v, t) for w, v, t in have if v < t]
    if len(have) <= 3:
        detail = "; ".join(f"{w} {fmt(v)}{unit}" + ("" if v >= t else f" < {fmt(t)}{unit}") for w, v, t in have)
    else:
        w, v, t = min(have, key=lambda x: x[1] / x[2])
        detail = f"{len(have)} compared, worst {w} {fmt(v)}{unit}"
        if failing:
            detail += "; below: " + ", ".join(f"{w} {fmt(v)}{unit}" for w, v, _ in failing)
    if missing:
        detail += "; no data: " + ", ".join(missing)
    return Goal(text, "not met" if failing else "met", detail)


def goals(run: Run) -> tuple[list[Goal], str]:
    s, n = GOAL_SHAPE, GOAL_THREADS
    copy = run.copy(s, n)
    out = []
    pct = lambda v: f"{100 * v:.0f}"  # noqa: E731

    pairs = {0.90: [], 0.85: []}
    for g in ("layer_norm", "rms_norm"):
        for p in PASSES:
            v = ratio(run.gbps(g, p, "etna", s, n), copy)
            pairs[0.90 if p == "fwd" else 0.85].append((f"{g}/{p}", v, 0.90 if p == "fwd" else 0.85))
    if copy is None:
        out.append(Goal("etna layer_norm and rms_norm: fwd >= 90% of copy, bwd and train >= 85%", "no data",
                        f"no stream/copy/{shape_str(s)}/threads:{n}"))
    else:
        out.append(check("etna layer_norm and rms_norm fwd >= 90% of copy", pairs[0.90], "%", pct))
        out.append(check("etna layer_norm and rms_norm bwd and train >= 85% of copy", pairs[0.85], "%", pct))

    rows = rows_of(run, s, n)
    for other, target in (("libtorch", 1.5), ("onednn", 1.0)):
        pairs = []
        for g, p in rows:
            e, o = run.gbps(g, p, "etna", s, n), run.gbps(g, p, other, s, n)
            if e is not None and o is not None:
                pairs.append((f"{g}/{p}", e / o, target))
        out.append(check(f"etna >= {target:.1f}x {other} on every graph/pass both run", pairs, "x",
                         lambda v: f"{v:.2f}"))

    pairs = []
    for g, p in rows:
        e, h = run.gbps(g, p, "etna", s, n), run.gbps(g, p, "handwritten", s, n)
        if h is not None:
            pairs.append((f"{g}/{p}", None if e is None else e / h, 0.95))
    out.append(check("etna within 5% of handwritten (etna GB/s >= 0.95 x handwritten) on every graph/pass",
                     pairs, "x", lambda v: f"{v:.2f}"))

    pairs = []
    for g in ("add_layer_norm", "post_norm_gelu"):
        pairs.append((f"{g}/train", ratio(run.gbps(g, "train", "etna", s, 1), run.gbps(g, "train", "eager", s, 1)),
                      3.0))
    out.append(check("etna >= 3x eager on add_layer_norm and post_norm_gelu train "
                     "(threads:1 against threads:1: eager runs single-threaded only)", pairs, "x",
                     lambda v: f"{v:.2f}"))

    c, r = run.gbps("custom_norm", "fwd", "etna", s, n), run.gbps("rms_norm", "fwd", "etna", s, n)
    g = check("etna custom_norm fwd within 10% of etna rms_norm fwd (>= 0.90x its GB/s; same minimal traffic)",
              [("custom_norm/rms_norm", ratio(c, r), 0.90)], "x", lambda v: f"{v:.2f}")
    if c is not None and r is not None:
        g.detail += f" ({fmt_gbps(c)} vs {fmt_gbps(r)} GB/s)"
    else:
        g.detail = "missing " + ", ".join(w for w, v in (("custom_norm/fwd/etna", c), ("rms_norm/fwd/etna", r))
                                           if v is None)
    out.append(g)
    where = f"{shape_str(s)}, {n} threads" + (f" (copy {fmt_gbps(copy)} GB/s)" if copy else " (no copy)")
    return out, where


# ------------------------------------------------------------------------------------------
# Markdown


def markdown(run: Run, json_path: str) -> str:
    ctx = run.context
    lines = ["# bench_norms report", ""]
    info = [f"`{json_path}`", run.source]
    if ctx.get("date"):
        info.append(ctx["date"])
    if ctx.get("host_name"):
        info.append(f"host {ctx['host_name']}")
    if ctx.get("num_cpus"):
        info.append(f"{ctx['num_cpus']} CPUs at {ctx.get('mhz_per_cpu', '?')} MHz")
    if ctx.get("load_avg"):
        info.append("load average " + " ".join(f"{x:.2f}" for x in ctx["load_avg"]))
    lines += ["; ".join(info) + ".", ""]
    load_avg, cpus = ctx.get("load_avg") or [0], ctx.get("num_cpus") or 0
    if cpus and load_avg[0] > 0.5 * cpus:
        lines += [f"**Warning**: load average {load_avg[0]:.2f} on {cpus} CPUs when the run started: "
                  "other work shared the machine and the numbers (the copy's too) may not be reliable.", ""]
    lines += [
              "Cells: GB/s of minimal traffic (fraction of the STREAM copy of the same shape and threads). "
              "`etna vs X`: etna's speedup, X's time / etna's time (= etna GB/s / X GB/s). "
              "Empty: the impl does not run that graph/pass.", ""]
    for shape in run.shapes():
        for threads in run.threads(shape):
            lines += shape_table(run, shape, threads)

    gs, where = goals(run)
    met = sum(g.status == "met" for g in gs)
    nodata = sum(g.status == "no data" for g in gs)
    lines += [f"## Goals at {where}: {met} of {len(gs)} met" + (f", {nodata} without data" if nodata else ""), ""]
    label = {"met": "met", "not met": "**NOT MET**", "no data": "no data"}
    lines += [f"- {label[g.status]}: {g.text}. {g.detail}." for g in gs]
    lines.append("")

    faulty = sorted((r for r in run.results.values() if r.page_faults is not None and r.page_faults > PAGE_FAULT_LIMIT),
                    key=lambda r: -r.page_faults)
    lines += ["## Page faults", ""]
    if faulty:
        lines += [f"{len(faulty)} benchmark(s) with page_faults > {PAGE_FAULT_LIMIT} per call "
                  "(a timed call that allocates or first-touches memory):", ""]
        lines += [f"- `{r.name}`: {r.page_faults:.3g}" for r in faulty]
    else:
        n = sum(r.page_faults is not None for r in run.results.values())
        lines.append(f"None: every benchmark's page_faults <= {PAGE_FAULT_LIMIT} ({n} with the counter).")
    errors = [r for r in run.results.values() if r.error]
    if errors:
        lines += ["", "## Errors", ""] + [f"- `{r.name}`: {r.error}" for r in errors]
    if run.skipped:
        lines += ["", f"Ignored {len(run.skipped)} benchmark(s) not named `<graph>/<pass>/<impl>/<T>x<D>/threads:<n>`: "
                  + ", ".join(f"`{n}`" for n in run.skipped[:10]) + (" ..." if len(run.skipped) > 10 else "")]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------
# Chart


def png_terminal() -> str:
    try:
        out = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True, timeout=30)
        text = out.stdout + out.stderr
    except (OSError, subprocess.SubprocessError):
        return "png"
    return "pngcairo" if re.search(r"^\s*pngcairo\s", text, re.M) else "png"


def chart(run: Run, png: str, threads_wanted: int, panel_w: int = 1200, panel_h: int = 800) -> str | None:
    """Writes the PNG; returns None, or why it could not."""
    gnuplot = shutil.which("gnuplot")
    if gnuplot is None:
        return "gnuplot not found"
    panels = []
    for shape in run.shapes():
        avail = run.threads(shape)
        if not avail:
            continue
        threads = threads_wanted if threads_wanted in avail else max(avail)
        copy = run.copy(shape, threads)
        impls = impls_of(run, shape, threads)
        rows = [(g, p) for g, p in rows_of(run, shape, threads)
                if any(run.gbps(g, p, i, shape, threads) is not None for i in impls)]
        if copy and rows and impls:
            panels.append((shape, threads, copy, rows, impls))
    if not panels:
        return "nothing to draw (no stream/copy with graph benchmarks at the same shape and threads)"

    term = png_terminal()
    font = "Sans,13" if term == "pngcairo" else "Sans,11"
    extra = iter(EXTRA_COLOURS)
    colour = {i: COLOURS.get(i) or next(extra, "#000000") for p in panels for i in p[4]}
    s = [f"set terminal {term} noenhanced size {panel_w},{panel_h * len(panels)} font '{font}'",
         f"set output '{png}'",
         "set datafile missing '?'",
         "set style data histograms",
         "set style histogram clustered gap 1",
         "set style fill solid 0.9 border -1",
         "set boxwidth 0.9",
         "set key outside right top vertical samplen 2 spacing 1.3",
         "set grid ytics lc rgb '#d0d0d0'",
         "set ylabel 'GB/s of minimal traffic, % of STREAM copy'",
         "set xtics rotate by 35 right nomirror scale 0",
         "set ytics nomirror",
         "set border 3",
         "set bmargin 9",
         "set lmargin 10",
         f"set multiplot layout {len(panels)},1"]
    for k, (shape, threads, copy, rows, impls) in enumerate(panels):
        triad = run.triad(shape, threads)
        block = f"$d{k}"
        s.append(f"{block} << EOD")  # no header line: gnuplot would read it as a row
        top = 100.0
        for g, p in rows:
            vals = []
            for i in impls:
                v = run.gbps(g, p, i, shape, threads)
                vals.append(None if v is None else 100 * v / copy)
            present = [v for v in vals if v is not None]
            top = max([top, *present])
            # the last column: the row's tallest bar, above which etna's value is printed
            s.append(f"{g}/{p} " + " ".join("?" if v is None else f"{v:.2f}" for v in vals)
                     + (f" {max(present):.2f}" if present else " ?"))
        s.append("EOD")
        title = f"{shape_str(shape)}, {threads} thread{'s' if threads != 1 else ''}: copy {fmt_gbps(copy)} GB/s"
        if triad:
            title += f", triad {fmt_gbps(triad)} GB/s ({fmt_pct(triad / copy)})"
        if "etna" in impls:
            title += "; red numbers: etna"
        s.append(f"set title \"{title}\"")
        s.append(f"set yrange [0:{math.ceil(top * 1.12 / 10) * 10}]")
        # Row i's cluster is centred on x = i; its n bars are 1 / (n + gap) apart.
        s.append(f"set xrange [-0.5:{len(rows) - 0.5}]")
        s.append("unset object")
        start = 0
        shade = False
        for idx in range(1, len(rows) + 1):  # every other graph on a grey background
            if idx == len(rows) or rows[idx][0] != rows[start][0]:
                if shade:
                    s.append(f"set object rect from {start - 0.5}, graph 0 to {idx - 0.5}, graph 1 "
                             "fc rgb '#efefef' fs solid 1.0 noborder behind")
                shade, start = not shade, idx
        s.append("set arrow 1 from graph 0, first 100 to graph 1, first 100 nohead lw 2 dt 2 lc rgb 'black' front")
        s.append("set label 1 'copy' at graph 1, first 100 left offset 0.5,0 front")
        if triad:
            tr = 100 * triad / copy
            s.append(f"set arrow 2 from graph 0, first {tr:.2f} to graph 1, first {tr:.2f} nohead lw 1 dt 3 "
                     "lc rgb '#555555' front")
        else:
            s.append("unset arrow 2")
        plots = []
        n = len(impls)
        for j, impl in enumerate(impls):
            spec = f"{block} using {j + 2}{':xtic(1)' if j == 0 else ''} title '{impl}' lc rgb '{colour[impl]}'"
            plots.append(spec)
        if "etna" in impls:  # etna's value (% of copy) above the row's tallest bar
            j = impls.index("etna")
            off = (j - (n - 1) / 2) / (n + 1)
            plots.append(f"{block} using ($0 + {off:.4f}):{n + 2}:(sprintf('%.0f', column({j + 2}))) "
                         f"with labels center offset 0,0.7 font ',11' tc rgb '{colour['etna']}' notitle")
        if triad:
            plots.append(f"NaN with lines lw 1 dt 3 lc rgb '#555555' title 'triad'")
        s.append("plot " + ", \\\n     ".join(plots))
    s.append("unset multiplot")
    s.append("set output")
    proc = subprocess.run([gnuplot], input="\n".join(s) + "\n", capture_output=True, text=True)
    if proc.returncode != 0:
        return f"gnuplot failed ({proc.returncode}): {proc.stderr.strip()}"
    return None


# ------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", required=True, nargs="+", metavar="JSON",
                    help="Google Benchmark JSON output of bench_norms; of several, a later file's benchmarks "
                         "replace an earlier one's of the same name (re-run a subset, e.g. one shape, with its copy)")
    ap.add_argument("--markdown", metavar="OUT", help="write the Markdown here instead of stdout")
    ap.add_argument("--png", metavar="OUT", default=str(here / "results.png"),
                    help="the chart (default: bench/results.png next to this script)")
    ap.add_argument("--no-png", action="store_true", help="draw no chart")
    ap.add_argument("--threads", type=int, default=GOAL_THREADS,
                    help="the thread count the chart shows (default 2; a shape without it shows its largest)")
    args = ap.parse_args(argv)

    sources = ", ".join(args.json)
    try:
        runs = [load(path) for path in args.json]
    except (OSError, json.JSONDecodeError) as e:
        print(f"report.py: cannot read {sources}: {e}", file=sys.stderr)
        return 1
    run = runs[-1]
    for earlier in reversed(runs[:-1]):
        for key, result in earlier.results.items():
            run.results.setdefault(key, result)
    run.source = ", ".join(sorted({r.source for r in runs}))
    if not run.results:
        print(f"report.py: no benchmark in {sources} is named <graph>/<pass>/<impl>/<T>x<D>/threads:<n>",
              file=sys.stderr)
        return 1

    text = markdown(run, sources)
    if args.markdown:
        Path(args.markdown).write_text(text)
        print(f"report.py: wrote {args.markdown}", file=sys.stderr)
    else:
        sys.stdout.write(text)

    if not args.no_png:
        why = chart(run, args.png, args.threads)
        if why:
            print(f"report.py: no chart: {why}", file=sys.stderr)
            return 2
        print(f"report.py: wrote {args.png}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
