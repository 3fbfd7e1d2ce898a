"""The record steps (index, URL screening, extraction) on WARC files of hostile and broken records between 12 real
pages (tests/fixtures/warc_hostile, built by its build_hostile_warc.py): every record gets exactly one row with its
own verdict, the records after it are read, the real pages come out as from their original shard, and the per-file
accounting counts what was skipped."""

import json
import os
import subprocess
import sys

import pytest
from conftest import FIXTURES, REPO

from pipeline.config import CurateConfig
from pipeline.extraction.html import HtmlExtractor
from pipeline.safety.url_safety import UrlSafetyFilter
from pipeline.warc.reader import ReadReport
from pipeline.warc.records import extract_documents, index_warc, screen_url

HOSTILE = FIXTURES / "warc_hostile"
EXPECTED = json.loads((HOSTILE / "hostile.json").read_text())
FILES = sorted(EXPECTED)


@pytest.fixture(scope="module")
def extractor():
    return HtmlExtractor()


@pytest.fixture(scope="module")
def safety():
    return UrlSafetyFilter.from_config(CurateConfig().safety)


def run_steps(path, safety, extractor) -> tuple[list[dict], dict[str, dict], ReadReport]:
    """Index rows in file order, the final row of each id (index verdict or extraction output), the report."""
    report = ReadReport()
    rows = list(index_warc(str(path), os.path.basename(path), report=report))
    rows = [screen_url(row, safety) if row["stage"] is None else row for row in rows]
    wanted = sorted((row for row in rows if row["stage"] is None), key=lambda row: row["source_record"])
    final = {row["id"]: row for row in rows}
    extracted = list(extract_documents(str(path), wanted, extractor))
    assert sorted(doc["id"] for doc in extracted) == sorted(row["id"] for row in wanted)  # one row per wanted row
    final.update({doc["id"]: doc for doc in extracted})
    return rows, final, report


@pytest.fixture(scope="module", params=FILES)
def hostile(request, safety, extractor):
    return request.param, *run_steps(HOSTILE / request.param, safety, extractor)


def _outcome(row: dict) -> str:
    return "keep" if row["stage"] is None else f"{row['stage']}:{row['reason']}"


def test_every_record_and_every_damaged_region_has_one_row_in_file_order(hostile):
    name, rows, _, _ = hostile
    expected = EXPECTED[name]
    assert len({row["id"] for row in rows}) == len(rows)
    assert [row["source_record"] for row in rows] == list(range(len(rows)))
    assert len(rows) == len(expected)
    for row, entry in zip(rows, expected, strict=True):
        if entry["record_id"] is None:  # a damaged region: not a record, a read_error row of its own
            assert (row["reason"], row["id"]) == ("read_error", f"{name}#unreadable@{row['source_record']}"), entry
            assert "skipped" in row["detail"]
        else:
            assert row["id"] == entry["record_id"], (entry["case"], row)


def test_each_hostile_record_gets_its_own_verdict_and_real_pages_are_kept(hostile):
    name, rows, final, _ = hostile
    for entry in EXPECTED[name]:
        if entry["record_id"] is None:
            continue
        outcome = _outcome(final[entry["record_id"]])
        expect = entry["expect"]
        if expect == "row":
            assert not outcome.endswith("read_error"), (entry["case"], outcome)
        elif expect.endswith(":*"):
            assert outcome.startswith(expect[:-1]), (entry["case"], outcome)
        else:
            assert outcome == expect, (entry["case"], final[entry["record_id"]])
    kept = [e for e in EXPECTED[name] if e["case"].startswith("real_page")]
    assert len(kept) == 12 and all(final[e["record_id"]]["text"] for e in kept)


def test_real_pages_extract_to_the_same_text_as_in_their_original_shard(hostile, safety, extractor):
    """Damage around a page changes nothing in what is extracted from it."""
    name, _, final, _ = hostile
    real = {e["record_id"] for e in EXPECTED[name] if e["case"].startswith("real_page")}
    originals = {}
    for shard in sorted((REPO / "sample_data" / "shards").glob("*.warc.gz")):
        rows = [row for row in index_warc(str(shard), shard.name) if row["id"] in real]
        if rows:
            rows = [screen_url(row, safety) for row in rows]
            originals.update({doc["id"]: doc["text"] for doc in extract_documents(str(shard), rows, extractor)})
    assert set(originals) == real
    assert {record_id: final[record_id]["text"] for record_id in real} == originals


def test_the_report_counts_records_damage_recovery_and_skipped_bytes(hostile):
    name, rows, _, report = hostile
    damage = [row for row in rows if row["reason"] in ("read_error", "oversized_header") and row["stage"] == "read"
              and "skipped" in (row["detail"] or "")]
    named = [row for row in damage if not row["id"].startswith(f"{name}#")]
    first_damage = min(row["source_record"] for row in damage)
    assert report.complete and report.damaged == len(damage)
    assert report.records == len(rows) - len(damage) + len(named)  # every header seen: its record or a named row
    assert report.recovered == sum(1 for row in rows if row["source_record"] > first_damage and row not in damage)
    skipped = sum(int(row["detail"].split("skipped ")[1].split(" bytes")[0].replace(",", "")) for row in damage)
    assert report.bytes_skipped == skipped > 0


def test_extraction_seeks_past_damage_and_falls_back_when_offsets_mislead(safety, extractor):
    """Wanted rows whose offsets point into the middle of a record (a stale index) are found by a read from the
    start; a row for a record that is not in the file gets a read_error row of its own."""
    path = HOSTILE / "hostile.warc.gz"
    rows = [screen_url(row, safety) if row["stage"] is None else row
            for row in index_warc(str(path), path.name)]
    wanted = sorted((row for row in rows if row["stage"] is None), key=lambda row: row["source_record"])
    good = {doc["id"]: doc["text"] for doc in extract_documents(str(path), wanted, extractor)}
    misled = [{**row, "source_offset": row["source_offset"] + 7} for row in wanted]
    missing = {**wanted[-1], "id": "not-in-this-file", "source_record": wanted[-1]["source_record"] + 100}
    docs = {doc["id"]: doc for doc in extract_documents(str(path), [*misled, missing], extractor)}
    assert {i: d["text"] for i, d in docs.items() if i != "not-in-this-file"} == good
    assert (docs["not-in-this-file"]["stage"], docs["not-in-this-file"]["reason"]) == ("extract", "read_error")


def test_the_job_finishes_on_hostile_files_and_accounts_for_every_record(tmp_path):
    """The curate job's command line on both hostile files: it finishes, its statistics balance, the 12 real
    pages of each file survive extraction, and every hostile record has a row in the output or the rejected set."""
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(REPO / "jobs" / "curate.py"), "--master", "local[2]", "--input", str(HOSTILE),
         "--output", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    import pyarrow.parquet as pq

    stats = json.loads((out / "stats.json").read_text())
    documents = pq.read_table(out / "documents").to_pylist()
    rejected = pq.read_table(out / "rejected").to_pylist()
    assert stats["balanced"] and stats["records_read"] == len(documents) + len(rejected)
    seen = {(os.path.basename(r["source_file"]), r["id"]) for r in documents + rejected}
    for name, entries in EXPECTED.items():
        ids = {e["record_id"] for e in entries if e["record_id"]}
        assert {i for n, i in seen if n == name} >= ids, name
    extract_stage = {r["id"] for r in documents} | {r["id"] for r in rejected if r["stage"] != "read"}
    real = {e["record_id"] for entries in EXPECTED.values() for e in entries if e["case"].startswith("real_page")}
    assert real <= extract_stage  # every real page got past the read stage and was extracted
