"""The reader and the record-level screening on real WARC files, malformed ones included, and on copies of a
real Common Crawl excerpt with bytes overwritten at seeded random places."""

import gzip
import os
import random

import pytest
from conftest import FIXTURES, shared_data

from pipeline.warc.reader import ReadError, ReadReport, WarcRecord, read_warc
from pipeline.warc.records import index_warc
from pipeline.warc.screening import screen_record

WARC = FIXTURES / "warc"


def _read(name):
    return list(read_warc(str(WARC / name)))


def test_common_crawl_excerpt_has_every_record_and_only_responses_are_candidates():
    items = _read("warcfile.warc.gz")
    assert all(isinstance(i, WarcRecord) for i in items)
    types = [i.warc_type for i in items]
    assert (types.count("request"), types.count("response"), types.count("metadata")) == (17, 16, 16)
    verdicts = [screen_record(i) for i in items]
    assert {v.reason for v in verdicts if v} == {"not_response"}
    assert sum(v is None for v in verdicts) == 16
    assert [i.ordinal for i in items] == list(range(len(items)))
    assert all(i.record_id and "urn:uuid" not in i.record_id for i in items)


def test_clipped_record_is_rejected_as_truncated():
    (item,) = _read("clipped.warc.gz")
    assert item.truncated == "clipped: 74970 of 88038 bytes"
    assert screen_record(item).reason == "truncated"


def test_missing_status_line_is_a_per_record_rejection():
    (item,) = _read("missing-status-line.warc")
    assert item.http_status is None
    assert screen_record(item) == ("http_status", "none")


def test_bytes_a_length_leaves_out_are_skipped_and_the_record_after_them_is_read():
    """warcio's example-trunc.warc: the response's Content-Length is 2 bytes short of its gzip body, so 6 bytes
    stand between it and the request record. FastWARC stops there; the reader skips them and reads on."""
    report = ReadReport()
    items = list(read_warc(str(WARC / "example-trunc.warc"), report=report))
    assert [getattr(i, "warc_type", None) for i in items] == ["warcinfo", "warcinfo", "response", None, "request"]
    error = items[3]
    assert isinstance(error, ReadError) and (error.offset, error.skipped_bytes) == (2560, 6)
    assert "unreadable after record 2" in error.message and items[4].offset == 2566
    assert (report.records, report.damaged, report.recovered, report.bytes_skipped) == (4, 1, 1, 6)


def test_non_chunked_and_wrongly_chunked_gzip_are_read_completely():
    assert [i.warc_type for i in _read("example-bad-non-chunked.warc.gz")] == [
        w.warc_type for w in _read("example.warc.gz")
    ]
    assert [i.warc_type for i in _read("example-wrong-chunks.warc.gz")] == ["response", "request"]


def test_unreadable_files_give_one_clear_error():
    for name, words in [("empty.warc.gz", "no WARC record"), ("not-a-warc.warc.gz", "not a WARC file"),
                        ("example.arc.gz", "ARC file"), ("does-not-exist.warc.gz", "cannot open")]:
        (item,) = _read(name)
        assert isinstance(item, ReadError) and words in item.message, (name, item)


def test_payload_is_only_read_for_wanted_records():
    items = list(read_warc(str(WARC / "warcfile.warc.gz"), want_payload=lambda n: n == 2))
    assert items[2].payload.lstrip().lower().startswith(b"<html") and items[2].payload.rstrip().endswith(b"</html>")
    assert all(i.payload is None for i in items if i.ordinal != 2)


def test_seek_to_a_record_offset_reads_the_same_record():
    items = _read("warcfile.warc.gz")
    target = items[10]
    resumed = list(read_warc(str(WARC / "warcfile.warc.gz"), start_offset=target.offset,
                             start_ordinal=target.ordinal, stop_after=target.ordinal))
    assert len(resumed) == 1 and resumed[0].record_id == target.record_id and resumed[0].ordinal == 10


def test_index_rows_account_for_every_record_and_every_problem():
    rows = list(index_warc(str(WARC / "example-trunc.warc"), "example-trunc.warc"))
    assert [(r["reason"], r.get("warc_type")) for r in rows] == [
        ("not_response", "warcinfo"), ("not_response", "warcinfo"), (None, "response"), ("read_error", None),
        ("not_response", "request"),
    ]
    assert rows[3]["stage"] == "read" and rows[3]["id"] == "example-trunc.warc#unreadable@3"
    assert [r["source_record"] for r in rows] == list(range(5))


def test_content_encoded_payloads_are_decoded_for_extraction():
    (raw,) = [i for i in _read("example.warc.gz") if i.warc_type == "response"]
    items = list(read_warc(str(WARC / "example.warc.gz"), want_payload=lambda n: n == raw.ordinal, decode_http=True))
    payload = items[raw.ordinal].payload
    assert raw.payload_bytes == 606 and payload.startswith(b"<!doctype html>") and len(payload) == 1270


def _records(path, **kwargs):
    return [i for i in read_warc(str(path), **kwargs) if isinstance(i, WarcRecord)]


def test_shared_malformed_files_are_read_at_least_as_far_as_by_fastwarc_or_warcio():
    """Every WARC file of ../shared/data/warc_samples: the reader gets every record FastWARC alone gets, and every
    record warcio gets (ARC files, which warcio converts, are not supported)."""
    from fastwarc.warc import ArchiveIterator
    from warcio.archiveiterator import ArchiveIterator as WarcioIterator

    def count(records):
        n = 0
        try:
            for _ in records:
                n += 1
        except Exception:  # noqa: BLE001 - the libraries stop at damage; what they read before counts
            pass
        return n

    samples = shared_data("warc_samples")
    files = sorted(p for p in samples.glob("*/*") if ".arc" not in p.name and p.suffix not in (".txt", ".json"))
    assert len(files) >= 30
    for path in files:
        ours = len(_records(path))
        fastwarc = count(ArchiveIterator(str(path), parse_http=False))
        with open(path, "rb") as stream:
            warcio = count(WarcioIterator(stream)) if not path.name.endswith(".lz4") else 0
        assert ours >= max(fastwarc, warcio), (path.name, ours, fastwarc, warcio)


def _damaged_copy(data: bytes, extents: list[tuple[int, int]], seed: int, hits: int, tmp_path, name: str):
    """``data`` with ``hits`` random ranges of 1-200 bytes overwritten; the record extents that were hit."""
    rng, damaged, hit = random.Random(seed), bytearray(data), set()
    for _ in range(hits):
        start = rng.randrange(len(data))
        end = min(start + rng.randint(1, 200), len(data))
        damaged[start:end] = rng.randbytes(end - start)
        hit |= {i for i, (a, b) in enumerate(extents) if a < end and start < b}
    path = tmp_path / name
    path.write_bytes(bytes(damaged))
    return path, hit


@pytest.mark.parametrize("compressed", [True, False])
def test_damage_costs_only_the_records_it_hits(compressed, tmp_path):
    """The Common Crawl excerpt (49 records), per-record gzip members or uncompressed, with 1 to 8 byte ranges
    overwritten, 40 seeds: every record the damage did not touch is read, with its id, type and offset; what was
    skipped is reported."""
    source = (WARC / "warcfile.warc.gz").read_bytes()
    data = source if compressed else gzip.decompress(source)
    path = tmp_path / "clean.warc"
    path.write_bytes(data)
    clean = _records(path)
    offsets = [r.offset for r in clean] + [len(data)]
    extents = list(zip(offsets, offsets[1:], strict=False))
    lost = 0
    for seed in range(40):
        damaged, hit = _damaged_copy(data, extents, seed, 1 + seed % 8, tmp_path, f"damaged-{seed}.warc")
        report = ReadReport()
        got = {(r.record_id, r.warc_type, r.offset) for r in _records(damaged, report=report)}
        missing = [i for i, r in enumerate(clean) if i not in hit and (r.record_id, r.warc_type, r.offset) not in got]
        assert not missing, (seed, missing, hit)
        assert report.complete and (report.bytes_skipped > 0) == (report.damaged > 0)
        lost += len(hit)
        os.remove(damaged)
    assert lost > 40  # the damage did hit records


def test_a_read_that_starts_at_any_record_numbers_the_records_as_a_whole_read_does():
    """Extraction seeks to a record's offset: past damage, positions must still agree with the first read."""
    path = str(FIXTURES / "warc_hostile" / "hostile.warc.gz")
    items = list(read_warc(path))
    records = [i for i in items if isinstance(i, WarcRecord)]
    assert len(records) < len(items)  # there is damage in between
    for record in records:
        (again,) = _records(path, start_offset=record.offset, start_ordinal=record.ordinal, stop_after=record.ordinal)
        assert (again.ordinal, again.record_id) == (record.ordinal, record.record_id)
    resumed = list(read_warc(path, start_offset=records[5].offset, start_ordinal=records[5].ordinal))
    assert [(i.ordinal, type(i)) for i in resumed] == [(i.ordinal, type(i)) for i in items[records[5].ordinal:]]
