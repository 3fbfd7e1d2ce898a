"""``OUT/report.html``: one self-contained page answering "what did we drop, and why?" for a finished run.

The funnel per stage (documents and MB), the documents per language, a histogram of each main signal with its
thresholds marked, and example excerpts of every drop reason. It is rendered from ``OUT/stats.json`` and
``OUT/report.json`` (the histograms and examples the job computes with Spark aggregations,
:mod:`pipeline.spark.report_data`); the plots are matplotlib figures inlined as SVG, so the page needs no
JavaScript, no CDN and no network: it can be mailed, archived, or opened on a cluster's gateway machine.

Re-render it (after changing this file, say) without rerunning anything::

    python -m pipeline.report OUT
"""

from __future__ import annotations

import argparse
import html
import io
import re
import sys
from collections.abc import Sequence

import matplotlib
from matplotlib.figure import Figure  # not pyplot: no backend chosen, nothing changed for a caller's own plots
from matplotlib.ticker import FuncFormatter, NullLocator

from pipeline.spark.workdir import WorkDir

REPORT_JSON, REPORT_HTML, STATS_JSON = "report.json", "report.html", "stats.json"
TOP_LANGUAGES = 30  # languages drawn in the bar chart (the table lists all)
MARKED_FENCES = 6  # per-language token-KL fences drawn on the chart (all are listed under it)
KEPT, DROPPED_HERE, DROPPED_OTHER = "#3b6fb6", "#d1495b", "#b8b8b8"
# tab20's strong colours but blue and grey (kept, and dropped elsewhere, in the histograms): 8 for the 7 stages
# from language ID on, so that a stage has the same colour in every run
_STAGE_COLOURS = [colour for i, colour in enumerate(matplotlib.colormaps["tab20"].colors)
                  if i % 2 == 0 and i not in (0, 14)]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#222;
 background:#fafafa;line-height:1.4}
main{max-width:1240px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:1.6em;margin:.4em 0 .1em}h2{margin-top:1.8em;border-bottom:2px solid #ddd;padding-bottom:4px}
h3{margin:1.2em 0 .3em;font-size:1.05em}.chart h3{margin:.2em 0;font-size:.95em}
.meta{color:#555;font-size:.92em}
table{border-collapse:collapse;font-size:.88em;margin:.6em 0;background:#fff}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:right;vertical-align:top}
th{background:#f0f0f0}td.l,th.l{text-align:left}
.cards{display:grid;grid-template-columns:repeat(3,1fr);gap:14px}
.chart{background:#fff;border:1px solid #ddd;border-radius:6px;padding:6px 8px}
.chart svg{width:100%;height:auto}.chart p{font-size:.8em;color:#444;margin:.2em 0}
.wide svg{width:100%;height:auto}.split{display:grid;grid-template-columns:1fr 1fr;gap:16px;align-items:start}
.split table{margin-top:0}
.example{background:#fff;border:1px solid #ddd;border-left:4px solid #d1495b;border-radius:4px;margin:8px 0;
 padding:6px 10px;font-size:.86em}
table.records{width:100%}.records td{word-break:break-all}
.id{font-family:ui-monospace,Menlo,Consolas,monospace;color:#555}
.example .url{word-break:break-all}
.example pre{white-space:pre-wrap;word-break:break-word;background:#f6f6f6;padding:6px;margin:.4em 0 0;
 font-size:.95em;max-height:14em;overflow:hidden}
.legend span{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 1em;vertical-align:-.1em}
"""


def _esc(value) -> str:
    return html.escape("" if value is None else str(value))


def _svg(figure) -> str:
    """``figure`` as an inline ``<svg>`` element (text kept as text: smaller, and searchable in the page)."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "font.sans-serif": ["DejaVu Sans"]}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = re.sub(r">\s+<", "><", re.sub(r"<metadata>.*?</metadata>", "", text[text.index("<svg"):], flags=re.S))
    # a tenth of a point is finer than a screen pixel, and the paths' coordinates get less than half as long
    return re.sub(r' d="[^"]*"', lambda m: " " + re.sub(r"(\.\d)\d+", r"\1", " ".join(m.group(0).split())), text)


def _mb(n: int) -> str:
    return f"{n / 1e6:,.2f}"


def _reason_link(stage: str, reason: str, count: int) -> str:
    return f"<a href=\"#{_anchor(stage, reason)}\">{_esc(reason)}</a> {count:,}"


def _funnel(stats: dict) -> str:
    """Table and bars of documents and MB in and out of each stage, with each stage's drop reasons."""
    stages = stats["stages"]
    rows = "".join(
        f"<tr><td class=l>{_esc(s['stage'])}</td><td>{s['docs_in']:,}</td><td>{s['docs_out']:,}</td>"
        f"<td>{s['docs_in'] - s['docs_out']:,}</td><td>{_mb(s['bytes_in'])}</td><td>{_mb(s['bytes_out'])}</td>"
        f"<td class=l>{', '.join(_reason_link(s['stage'], reason, n) for reason, n in s['rejected'].items())}</td></tr>"
        for s in stages)
    table = ("<table id=funnel><tr><th class=l>stage</th><th>docs in</th><th>docs out</th><th>dropped</th>"
             f"<th>MB in</th><th>MB out</th><th class=l>drop reasons</th></tr>{rows}</table>")
    names = [s["stage"] for s in stages][::-1]
    figure = Figure(figsize=(11, 0.25 * len(stages) + 0.9))
    axes = figure.subplots(1, 2)
    for ax, key, unit in ((axes[0], "docs", "documents"), (axes[1], "bytes", "MB")):
        scale = 1e6 if key == "bytes" else 1
        ins = [s[f"{key}_in"] / scale for s in stages][::-1]
        outs = [s[f"{key}_out"] / scale for s in stages][::-1]
        ax.barh(names, ins, color="#e3e3e3", label="in")
        ax.barh(names, outs, color=KEPT, label="out")
        ax.set_xlabel(unit)
        ax.spines[["top", "right"]].set_visible(False)
    axes[1].set_yticklabels([])
    axes[1].legend(loc="lower right", frameon=False, fontsize=8)
    figure.tight_layout()
    return (f"{table}<p class=meta>Bytes are WARC payload bytes up to <code>url_dedup</code> and extracted text "
            f"from <code>extract</code> on.</p><div class=wide>{_svg(figure)}</div>")


def _languages(stats: dict) -> str:
    """Table of every language and stacked bars of the largest: kept, and dropped by each later stage."""
    languages = stats.get("languages") or {}
    if not languages:
        return "<p>Language ID was off in this run.</p>"
    order = [s["stage"] for s in stats["stages"]]
    stages = [stage for stage in order if any(stage in entry["rejected"] for entry in languages.values())]
    rows = "".join(
        f"<tr><td class=l>{_esc(language)}</td><td>{entry['labelled']:,}</td>"
        + "".join(f"<td>{entry['rejected'].get(stage, 0):,}</td>" for stage in stages)
        + f"<td>{entry['kept']:,}</td><td>{entry['tokens']:,}</td></tr>"
        for language, entry in sorted(languages.items(), key=lambda item: (-item[1]["labelled"], item[0])))
    table = ("<table id=languages><tr><th class=l>language</th><th>labelled</th>"
             + "".join(f"<th>&minus;{_esc(stage)}</th>" for stage in stages)
             + f"<th>kept</th><th>tokens</th></tr>{rows}</table>")
    top = sorted(languages.items(), key=lambda item: -item[1]["labelled"])[:TOP_LANGUAGES][::-1]
    names = [language for language, _ in top]
    figure = Figure(figsize=(5.2, 0.2 * len(top) + 1.0))
    ax = figure.subplots()
    left = [entry["kept"] for _, entry in top]
    ax.barh(names, left, color=KEPT, label="kept")
    for stage in stages:
        i = order.index(stage)
        widths = [entry["rejected"].get(stage, 0) for _, entry in top]
        ax.barh(names, widths, left=left, color=_STAGE_COLOURS[i % len(_STAGE_COLOURS)], label=f"dropped: {stage}")
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.set_xlabel("documents labelled")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    figure.tight_layout()
    more = f" (the {TOP_LANGUAGES} largest drawn)" if len(languages) > TOP_LANGUAGES else ""
    return (f"<p class=meta>{len(languages)} languages{more}.</p>"
            f"<div class=split><div class=wide>{_svg(figure)}</div><div>{table}</div></div>")


def _merged_steps(values: list[float], edges: list[float]) -> tuple[list[float], list[float]]:
    """Runs of equal adjacent bins as one step (the same drawing, a shorter SVG path: most bins are empty)."""
    merged, kept_edges = [values[0]], [edges[0]]
    for value, edge in zip(values[1:], edges[1:-1], strict=True):
        if value != merged[-1]:
            merged.append(value)
            kept_edges.append(edge)
    return merged, [*kept_edges, edges[-1]]


def _histogram(chart: dict) -> str:
    """One signal's histogram (log counts, stacked: kept, dropped by the signal's stage, dropped by another) with
    its thresholds as vertical lines."""
    width = (chart["high"] - chart["low"]) / chart["bins"]
    edges = [chart["low"] + i * width for i in range(chart["bins"] + 1)]
    kept = chart["kept"]["counts"]
    here = [a + b for a, b in zip(kept, chart["dropped_here"]["counts"], strict=True)]
    total = [a + b for a, b in zip(here, chart["dropped_other"]["counts"], strict=True)]
    figure = Figure(figsize=(4.2, 2.5))
    ax = figure.subplots()
    for values, colour in ((total, DROPPED_OTHER), (here, DROPPED_HERE), (kept, KEPT)):
        ax.stairs(*_merged_steps([v or 0.1 for v in values], edges), baseline=0.1, fill=True, color=colour,
                  linewidth=0)
    ax.set_yscale("log")
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))  # not TeX: 1, 10, 100
    ax.set_ylim(0.5, max(max(total), 1) * 1.6)
    ax.set_xlim(chart["low"], chart["high"])
    marked = chart["thresholds"][:MARKED_FENCES]
    for threshold in marked:
        if chart["low"] <= threshold["value"] <= chart["high"]:
            ax.axvline(threshold["value"], color="#222", linestyle="--", linewidth=1)
    ax.set_ylabel("documents (log)", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    notes = [f"{chart['documents']:,} documents have it; stage <code>{_esc(chart['stage'])}</code>."]
    outside = {side: sum(chart[s][side] for s in ("kept", "dropped_here", "dropped_other"))
               for side in ("below", "above")}
    if outside["below"] or outside["above"]:
        notes.append(f"Outside [{chart['low']:g}, {chart['high']:g}]: {outside['below']:,} below, "
                     f"{outside['above']:,} above.")
    if chart["thresholds"]:
        notes.append("Threshold" + ("s" if len(chart["thresholds"]) > 1 else "") + " (dashed): " + "; ".join(
            f"{t['value']:.3g} {_esc(t['label'])}" for t in chart["thresholds"]) + ".")
    else:
        notes.append("No threshold: recorded for ranking and re-thresholding.")
    if chart["overrides"]:
        notes.append("Other values: " + _esc("; ".join(chart["overrides"])) + ".")
    return (f"<div class=chart id=\"chart-{_esc(chart['name'])}\"><h3>{_esc(chart['title'])}</h3>{_svg(figure)}"
            + "".join(f"<p>{note}</p>" for note in notes) + "</div>")


def _legend() -> str:
    return (f"<p class='meta legend'>Stacked, log scale:<span style='background:{KEPT}'></span>kept"
            f"<span style='background:{DROPPED_HERE}'></span>dropped by the signal's stage"
            f"<span style='background:{DROPPED_OTHER}'></span>dropped by another stage. Thresholds are the global "
            "values; languages and code/reasoning pages can have their own (listed under a chart where they "
            "differ).</p>")


def _anchor(stage: str, reason: str) -> str:
    return _esc(f"reason-{stage}-{reason}")


def _example_card(row: dict) -> str:
    """A document's example: id, URL, detail, language, the signals of its reason, and the start of its text."""
    facts = []
    if row.get("language"):
        facts.append(f"language {_esc(row['language'])} {row['language_score'] or 0:.2f}")
    facts += [f"{_esc(name)} {value:.4g}" for name, value in row.get("signals", {}).items()]
    facts += [f"{_esc(name)} {value:.3f}" for name, value in row.get("scores", {}).items()]
    return (f"<div class=example><div class=id>{_esc(row['id'])}</div><div class=url>{_esc(row['url'])}</div>"
            + (f"<div>detail: {_esc(row['detail'])}</div>" if row.get("detail") else "")
            + (f"<div class=meta>{' &middot; '.join(facts)}</div>" if facts else "")
            + (f"<pre>{_esc(row['excerpt'])}</pre>" if row.get("excerpt") else "") + "</div>")


def _examples(data: dict) -> str:
    """Each (stage, reason) with its count and its example rows (the same ones every time: smallest id hash):
    cards with an excerpt for documents, a compact table for records dropped before extraction (no text)."""
    parts = []
    for group in data["examples"]:
        parts.append(f"<h3 id=\"{_anchor(group['stage'], group['reason'])}\">{_esc(group['stage'])} / "
                     f"{_esc(group['reason'])} <span class=meta>&mdash; {group['count']:,} records</span></h3>")
        records = [row for row in group["rows"] if not row.get("excerpt")]
        if records:
            parts.append("<table class=records><tr><th class=l>id</th><th class=l>url</th><th class=l>detail</th></tr>"
                         + "".join(f"<tr><td class='l id'>{_esc(row['id'])}</td><td class=l>{_esc(row['url'])}</td>"
                                   f"<td class=l>{_esc(row['detail'])}</td></tr>" for row in records) + "</table>")
        parts += [_example_card(row) for row in group["rows"] if row.get("excerpt")]
    return "".join(parts) or "<p>Nothing was dropped.</p>"


def _summary(stats: dict) -> str:
    read = stats.get("input_read") or {}
    damage = (f" Input damage: {read.get('damaged', 0):,} damaged record(s) or region(s) in "
              f"{read.get('damaged_files', 0):,} file(s), {read.get('bytes_skipped', 0):,} bytes skipped."
              if read.get("damaged") else "")
    phases = ", ".join(f"{phase} {seconds:.1f}s" for phase, seconds in (stats.get("phase_seconds") or {}).items())
    versions = ", ".join(f"{name} {version}" for name, version in (stats.get("versions") or {}).items())
    balance = "balanced" if stats.get("balanced", True) else "NOT BALANCED"
    return (f"<p><b>{stats['records_read']:,}</b> records read from {stats['input_files']:,} file(s): "
            f"<b>{stats['kept']:,}</b> kept, {stats['rejected']:,} rejected ({balance}).{damage}</p>"
            f"<p class=meta>Seconds per phase: {_esc(phases)}.<br>Versions: {_esc(versions)}.</p>")


def render(data: dict, stats: dict) -> str:
    """The report page from the report data (``report.json``) and the run's statistics (``stats.json``)."""
    charts = "".join(_histogram(chart) for chart in data["histograms"])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Curation run report</title><style>{_CSS}</style></head>
<body><main>
<h1>Curation run report</h1>
{_summary(stats)}
<h2 id="funnel-section">Funnel</h2>
{_funnel(stats)}
<h2 id="languages-section">Languages</h2>
{_languages(stats)}
<h2 id="signals-section">Signals and thresholds</h2>
{_legend()}
<div class=cards>{charts}</div>
<h2 id="examples-section">Drop reasons and examples</h2>
<p class=meta>Up to {data.get('examples_per_reason', 0)} records per reason, those with the smallest hash of
their id (the same ones on every run); records dropped before extraction have no text. More of them:
<code>python -m pipeline.inspect OUT --reason REASON</code>.</p>
{_examples(data)}
</main></body></html>
"""


def write_report(workdir: WorkDir, data: dict, stats: dict) -> str:
    """Write ``report.json`` (``data``) and ``report.html`` into the output folder; returns the page's path."""
    workdir.write_json(workdir.path(REPORT_JSON), data)
    page = render(data, stats)
    with workdir.committed(workdir.path(REPORT_HTML)) as fh:
        fh.write(page.encode("utf-8"))
    return workdir.path(REPORT_HTML)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.report",
                                     description="Render OUT/report.html again from OUT/report.json and stats.json.")
    parser.add_argument("output", metavar="OUT", help="the output folder of a finished run (local or fsspec URL)")
    args = parser.parse_args(argv)
    workdir = WorkDir(args.output)
    data, stats = workdir.read_json(workdir.path(REPORT_JSON)), workdir.read_json(workdir.path(STATS_JSON))
    if data is None or stats is None:
        missing = REPORT_JSON if data is None else STATS_JSON
        print(f"report: {args.output} holds no {missing}: not the output of a finished run", file=sys.stderr)
        return 2
    print(write_report(workdir, data, stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
