"""The foundation steps as small functions over dict records (cc_net style), usable without Spark.

1. :func:`index_warc` (stage ``read``): one row per WARC record, with the record-level verdict, and one per
   damaged record or unreadable region (the reader resynchronises after it).
2. :func:`screen_url` (stage ``safety``): URL key, host, registered domain, and the block-list verdict.
3. URL dedup is a grouping over all rows (:mod:`pipeline.dedup.url_dedup`; in Spark a window).
4. :func:`extract_documents` (stage ``extract``): re-reads the surviving records of one file and extracts text;
   one output row per wanted record, whatever its payload holds.

The index rows carry no page bodies, so steps 1-3 are cheap and extraction is only spent on pages that are kept.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from pipeline.extraction.encoding import decode_html
from pipeline.safety.url_safety import UrlSafetyFilter
from pipeline.steps import Rejection
from pipeline.warc.reader import ReadError, ReadReport, WarcRecord, read_warc
from pipeline.warc.screening import RecordConfig, screen_record
from pipeline.warc.urls import registered_domain, url_dedup_key, url_host

if TYPE_CHECKING:
    from pipeline.extraction.html import HtmlExtractor


def _verdict(row: dict, stage: str, rejection: Rejection | None) -> dict:
    row["stage"], row["reason"], row["detail"] = (stage, *rejection) if rejection else (None, None, None)
    return row


def _record_row_id(record: WarcRecord, name: str) -> str:
    """A record's row id: its WARC-Record-ID, or (for a record without one) its position in the file."""
    return record.record_id or f"{name}#{record.ordinal}"


def index_warc(path: str, source_file: str, config: RecordConfig = RecordConfig(),
               report: ReadReport | None = None) -> Iterator[dict]:
    """Stage ``read``: an index row per record of ``path``; each damaged record or unreadable region is a row of its
    own (``read_error``, ``oversized_header``; id: the record's own, else ``<file>#unreadable@<position>``), and the
    records after it are read. ``report`` (a :class:`ReadReport`) gets the file's accounting: records seen,
    damaged rows, records recovered after damage, bytes skipped."""
    name = os.path.basename(source_file)
    for item in read_warc(path, report=report):
        if isinstance(item, ReadError):
            yield {
                "id": item.record_id or f"{name}#unreadable@{item.ordinal}", "url": item.url,
                "source_file": source_file, "source_offset": item.offset, "source_record": item.ordinal,
                "warc_type": item.warc_type, "stage": "read", "reason": item.reason, "detail": item.message,
            }
            continue
        row = {
            "id": _record_row_id(item, name),
            "url": item.url, "fetch_time": item.fetch_time,
            "source_file": source_file, "source_offset": item.offset, "source_record": item.ordinal,
            "warc_type": item.warc_type, "http_status": item.http_status, "content_type": item.content_type,
            "http_charset": item.http_charset, "payload_bytes": item.payload_bytes,
        }
        yield _verdict(row, "read", screen_record(item, config))


def screen_url(row: dict, safety: UrlSafetyFilter) -> dict:
    """Stage ``safety`` on a pending index row: fills ``url_key``, ``host``, ``domain`` and the verdict."""
    try:
        host = url_host(row["url"])
        row["host"], row["domain"], row["url_key"] = host, registered_domain(host), url_dedup_key(row["url"])
    except Exception as exc:  # noqa: BLE001 - a URL no library can parse is a rejection, not a failed task
        return _verdict(row, "safety", Rejection("invalid_url", f"{type(exc).__name__}: {exc}"))
    if host is None or row["url_key"] is None:
        return _verdict(row, "safety", Rejection("invalid_url", row["url"]))
    return _verdict(row, "safety", safety.check(row["url"], host))


def extract_documents(path: str, wanted: Sequence[dict], extractor: HtmlExtractor) -> Iterator[dict]:
    """Stage ``extract``: read the records of ``path`` listed in ``wanted`` (index rows sorted by
    ``source_record``) and return exactly one row for each: a document, or a row with an ``extract`` verdict.

    Reading starts at the first wanted record's byte offset (a seek) and goes on through any damage in between
    (the reader resynchronises the same way as in the ``read`` stage, so positions agree); each record is checked
    against its id. Records the seek did not lead to (e.g. in a single-stream gzip) are looked for again from the
    start of the file. A body that does not decode is that record's ``payload_error`` (``html_too_large`` past
    the extractor's size cap, which bounds decompression too); a record not found is a ``read_error``."""
    pending = {row["source_record"]: row for row in wanted}
    errors: dict[int, str] = {}
    offset = wanted[0].get("source_offset") or 0
    if offset > 0:
        yield from _extract_pass(path, pending, errors, offset, wanted[0]["source_record"], extractor)
    if pending:
        yield from _extract_pass(path, pending, errors, 0, 0, extractor)
    for ordinal, row in pending.items():
        detail = errors.get(ordinal, "record not found on second read")
        yield _document_row(row, None, None, Rejection("read_error", detail))


def _extract_pass(path: str, pending: dict[int, dict], errors: dict[int, str], start_offset: int,
                  start_ordinal: int, extractor: HtmlExtractor) -> Iterator[dict]:
    """One read of ``path`` from ``start_offset``: extracts (and removes from ``pending``) the records found there.
    A pass that starts at an offset stops at once if its first record is not the one expected."""
    records = read_warc(path, want_payload=pending.__contains__, start_offset=start_offset,
                        start_ordinal=start_ordinal, stop_after=max(pending), decode_http=True,
                        max_payload_bytes=extractor.config.max_html_bytes)
    for item in records:
        row = pending.get(item.ordinal)
        if isinstance(item, ReadError):
            if row is not None:
                errors[item.ordinal] = f"record not readable on second read: {item.message}"
            continue
        if row is None or row["id"] != _record_row_id(item, os.path.basename(row.get("source_file") or path)):
            if start_offset and item.ordinal == start_ordinal:
                return  # the offset does not lead to the record
            continue
        del pending[item.ordinal]
        if item.problem is not None:
            yield _document_row(row, None, None, item.problem)
        else:
            yield extract_document(row, item.payload or b"", extractor)


def extract_document(row: dict, payload: bytes, extractor: HtmlExtractor) -> dict:
    """Decode and extract one page; the document row, with a verdict when nothing usable was extracted."""
    html, charset = decode_html(payload, row.get("http_charset"))
    result = extractor.extract(html, row.get("url"))
    if result.text is None:
        return _document_row(row, charset, None, Rejection(result.reject_reason or "no_text", result.detail))
    return _document_row(row, charset, result.text, None)


def _document_row(row: dict, charset: str | None, text: str | None, rejection: Rejection | None) -> dict:
    doc = {k: row.get(k) for k in ("id", "url", "url_key", "host", "domain", "fetch_time", "source_file",
                                   "source_offset", "source_record")}
    doc.update(charset=charset, html_bytes=row.get("payload_bytes"), text=text, language=None,
               language_score=None, language_runner_up=None, scores={}, signals={})
    return _verdict(doc, "extract", rejection)
