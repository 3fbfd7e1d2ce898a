"""The reader and the record-level screening on real WARC files, malformed ones included."""

from conftest import FIXTURES

from pipeline.filters.warc_record import screen_record
from pipeline.record_steps import index_warc
from pipeline.warc_reader import ReadError, WarcRecord, read_warc

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


def test_file_cut_after_a_record_keeps_the_records_before():
    items = _read("example-trunc.warc")
    assert [getattr(i, "warc_type", None) for i in items[:3]] == ["warcinfo", "warcinfo", "response"]
    assert isinstance(items[-1], ReadError) and "unreadable after record 2" in items[-1].message


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
        ("not_response", "warcinfo"), ("not_response", "warcinfo"), (None, "response"), ("read_error", None)
    ]
    assert rows[-1]["stage"] == "read" and rows[-1]["id"] == "example-trunc.warc#unreadable@3"


def test_content_encoded_payloads_are_decoded_for_extraction():
    (raw,) = [i for i in _read("example.warc.gz") if i.warc_type == "response"]
    items = list(read_warc(str(WARC / "example.warc.gz"), want_payload=lambda n: n == raw.ordinal, decode_http=True))
    payload = items[raw.ordinal].payload
    assert raw.payload_bytes == 606 and payload.startswith(b"<!doctype html>") and len(payload) == 1270
