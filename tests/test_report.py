"""The run's report (``OUT/report.html`` and ``OUT/report.json``) on the sample run: its numbers are the run's
(the funnel is stats.json's, a histogram counts exactly the documents of the output that carry its signal, in the
bins their values fall in), the sample's known drops are among the examples, the page is self-contained and
renders in a real browser."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import xxhash

from pipeline.config import CurateConfig
from pipeline.report import main as report_main
from pipeline.signal_charts import LANGUAGE_SCORE, SCORES

CHROMIUM = Path("/usr/bin/chromium")


class _Tables(HTMLParser):
    """The cell texts of every ``<table id=...>`` of a page, row by row."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = self._cell = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("id"):
            self._table = self.tables.setdefault(dict(attrs)["id"], [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._table[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def report(sample_output):
    stats, documents, rejected, out = sample_output
    return (json.loads((out / "report.json").read_text()), json.loads((out / "stats.json").read_text()),
            (out / "report.html").read_text(encoding="utf-8"))


def test_the_funnel_and_the_language_table_are_stats_json(report):
    _, stats, page = report
    parser = _Tables()
    parser.feed(page)
    funnel = parser.tables["funnel"]
    assert funnel[0][:6] == ["stage", "docs in", "docs out", "dropped", "MB in", "MB out"]
    assert [row[:6] for row in funnel[1:]] == [
        [s["stage"], f"{s['docs_in']:,}", f"{s['docs_out']:,}", f"{s['docs_in'] - s['docs_out']:,}",
         f"{s['bytes_in'] / 1e6:,.2f}", f"{s['bytes_out'] / 1e6:,.2f}"] for s in stats["stages"]]
    assert funnel[1][:3] == ["read", "1,196", "379"]  # the sample's 1,196 records, 379 HTML responses
    languages = {row[0]: row for row in parser.tables["languages"][1:]}
    assert set(languages) == set(stats["languages"])
    assert languages["de"][-2:] == [f"{stats['languages']['de']['kept']:,}", f"{stats['languages']['de']['tokens']:,}"]
    assert f"<b>{stats['kept']:,}</b> kept" in page


def _bin(value: float, chart: dict) -> int:
    """The bin the report's Spark aggregation puts ``value`` in (-1 below the range, ``bins`` above)."""
    if value == chart["high"]:
        return chart["bins"] - 1
    return min(max(math.floor((value - chart["low"]) / (chart["high"] - chart["low"]) * chart["bins"]), -1),
               chart["bins"])


def test_each_histogram_counts_the_output_documents_with_its_signal(report, sample_output):
    data, _, _ = report
    _, documents, rejected, _ = sample_output
    rows = list(documents.values()) + list(rejected.values())
    charts = {chart["name"]: chart for chart in data["histograms"]}
    expected = {"gopher_dup_line_frac", "gopher_top_2gram_char_frac", "gopher_dup_10gram_char_frac",
                "repeated_content_removed_fraction", "dirty_word_rate", "token_kl_excess", LANGUAGE_SCORE,
                SCORES + "wikipedia_fasttext"}
    assert expected <= set(charts)
    for name, chart in charts.items():
        series = {"kept": [0] * (chart["bins"] + 2), "dropped_here": [0] * (chart["bins"] + 2),
                  "dropped_other": [0] * (chart["bins"] + 2)}
        for row in rows:
            value = (row[LANGUAGE_SCORE] if name == LANGUAGE_SCORE else row["scores"].get(name[len(SCORES):])
                     if name.startswith(SCORES) else row["signals"].get(name))
            if value is None or math.isnan(value):
                continue
            kind = ("kept" if row.get("stage") is None else "dropped_here" if row["stage"] == chart["stage"]
                    else "dropped_other")
            series[kind][_bin(value, chart) + 1] += 1
        for kind, counts in series.items():
            got = [chart[kind]["below"], *chart[kind]["counts"], chart[kind]["above"]]
            assert got == counts, (name, kind)
        assert chart["documents"] == sum(sum(counts) for counts in series.values()) > 0, name
    # the sample's drops sit beyond their thresholds: the Gopher duplicate-line pages above 0.3 ...
    line = charts["gopher_dup_line_frac"]
    assert line["thresholds"] == [{"value": CurateConfig().repetition.max_dup_line_frac, "label": "dropped above"}]
    assert "code pages: 0.55" in line["overrides"]
    above = sum(line["dropped_here"]["counts"][_bin(0.3, line) + 1:])
    assert above >= sum(1 for row in rejected.values() if row["reason"] == "dup_line_fraction"
                        and row["signals"]["gopher_dup_line_frac"] > 0.3) >= 1
    # ... and the German corpus's token-KL fence (computed from the data) is above every kept German document
    (fence,) = charts["token_kl_excess"]["thresholds"]
    assert fence["label"] == "de fence"
    assert max(row["signals"]["token_kl_excess"] for row in documents.values()
               if row["language"] == "de" and "token_kl_excess" in row["signals"]) <= fence["value"]


def test_every_drop_reason_has_its_examples(report, sample_output):
    data, stats, page = report
    _, _, rejected, _ = sample_output
    per_reason = data["examples_per_reason"]
    groups = {(group["stage"], group["reason"]): group for group in data["examples"]}
    assert {key: group["count"] for key, group in groups.items()} == {
        (s["stage"], reason): n for s in stats["stages"] for reason, n in s["rejected"].items()}
    for (stage, reason), group in groups.items():
        same = [row for row in rejected.values() if (row["stage"], row["reason"]) == (stage, reason)]
        # the rows with the smallest hash of their id (Spark's xxhash64, seed 42), however many the reason has
        smallest = sorted(same, key=lambda row: (xxhash.xxh64_intdigest(row["id"].encode(), seed=42) % (1 << 40),
                                                 row["id"]))[:per_reason]
        assert [row["id"] for row in group["rows"]] == [row["id"] for row in smallest], (stage, reason)
        for example in group["rows"]:
            assert example["url"] == rejected[example["id"]]["url"] and example["id"] in page
            assert bool(example["excerpt"]) == bool(rejected[example["id"]]["text"])
    repeated = {row["url"]: row for row in groups["heuristics", "mostly_repeated_content"]["rows"]}
    cheap = repeated["http://cheap-flights.example.com/paris/"]
    assert cheap["excerpt"] == "Cheap flights to Paris" and cheap["signals"]["repeated_content_removed_fraction"] > 0.5
    (dirty,) = groups["heuristics", "dirty_words"]["rows"]
    assert dirty["url"] == "http://0513mt.com/index.php/art/detail/id/8884.html" and dirty["language"] == "zh"
    assert dirty["signals"]["dirty_word_count"] == 18 and len(dirty["excerpt"]) <= 302
    not_response = groups["read", "not_response"]
    assert not_response["count"] == 801 and len(not_response["rows"]) == per_reason
    assert all(row["detail"] in ("request", "metadata", "warcinfo", "revisit") and not row["excerpt"]
               for row in not_response["rows"])


def test_the_page_is_self_contained(report):
    _, _, page = report
    assert "<script" not in page.lower() and "<link" not in page.lower() and "@import" not in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", page, re.I)
    assert page.count("<svg") == 2 + len(report[0]["histograms"])  # funnel, languages, one per histogram
    assert 'id="chart-dirty_word_rate"' in page and "0.012 explicit page dropped from here" in page


def test_report_command_renders_again_from_report_json(report, sample_output, tmp_path, capsys):
    _, _, _, out = sample_output
    for name in ("report.json", "stats.json"):
        shutil.copy(out / name, tmp_path / name)
    assert report_main([str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "report.html")
    assert (tmp_path / "report.html").read_text(encoding="utf-8").count("<svg") == report[2].count("<svg")
    (tmp_path / "report.json").unlink()
    assert report_main([str(tmp_path)]) == 2
    assert "holds no report.json" in capsys.readouterr().err


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (.ci/run installs Debian's package)")
def test_the_page_renders_in_headless_chromium(sample_output, tmp_path):
    from PIL import Image

    _, _, _, out = sample_output
    screenshot = tmp_path / "report.png"
    proc = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         f"--screenshot={screenshot}", "--window-size=1280,4000", (out / "report.html").as_uri()],
        capture_output=True, text=True, timeout=180)
    assert screenshot.exists(), proc.stderr[-2000:]
    image = Image.open(screenshot).convert("RGB")
    assert image.size == (1280, 4000)
    colours = dict((colour, n) for n, colour in image.getcolors(maxcolors=1 << 20))
    assert len(colours) > 50  # text, tables and plots, not a blank page
    assert colours.get((0x3B, 0x6F, 0xB6), 0) > 5000  # the kept documents' bars: the SVG plots were drawn
