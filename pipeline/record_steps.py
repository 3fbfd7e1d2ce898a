"""The foundation steps as small functions over dict records (cc_net style), usable without Spark.

1. :func:`index_warc` (stage ``read``): one row per WARC record, with the record-level verdict.
2. :func:`screen_url` (stage ``safety``): URL key, host, registered domain, and the block-list verdict.
3. URL dedup is a grouping over all rows (:mod:`pipeline.dedup.url_dedup`; in Spark a window).
4. :func:`extract_documents` (stage ``extract``): re-reads the surviving records of one file and extracts text.

The index rows carry no page bodies, so steps 1-3 are cheap and extraction is only spent on pages that are kept.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from pipeline.encoding import decode_html
from pipeline.filters.rejection import Rejection
from pipeline.filters.url_safety import UrlSafetyFilter
from pipeline.filters.warc_record import RecordConfig, screen_record
from pipeline.urls import registered_domain, url_dedup_key, url_host
from pipeline.warc_reader import ReadError, WarcRecord, read_warc

if TYPE_CHECKING:
    from pipeline.extraction import HtmlExtractor


def _verdict(row: dict, stage: str, rejection: Rejection | None) -> dict:
    row["stage"], row["reason"], row["detail"] = (stage, *rejection) if rejection else (None, None, None)
    return row


def index_warc(path: str, source_file: str, config: RecordConfig = RecordConfig()) -> Iterator[dict]:
    """Stage ``read``: an index row per record of ``path``; damage becomes a ``read_error`` row."""
    for item in read_warc(path):
        if isinstance(item, ReadError):
            yield {
                "id": f"{os.path.basename(source_file)}#unreadable@{item.ordinal}",
                "source_file": source_file, "source_offset": item.offset, "source_record": item.ordinal,
                "stage": "read", "reason": "read_error", "detail": item.message,
            }
            continue
        row = {
            "id": item.record_id or f"{os.path.basename(source_file)}#{item.ordinal}",
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
    ``source_record``) and return each as a document row, or as a row with an ``extract`` verdict.

    When the first wanted record has a byte offset, reading starts there (a seek) and is checked against its id;
    if the id does not match (e.g. a single-stream gzip), the file is read from the start instead.
    """
    by_ordinal = {row["source_record"]: row for row in wanted}
    last = wanted[-1]["source_record"]
    first = wanted[0]
    for start_offset, start_ordinal in _start_points(first):
        records = read_warc(path, want_payload=by_ordinal.__contains__, start_offset=start_offset,
                            start_ordinal=start_ordinal, stop_after=last, decode_http=True)
        if start_offset:
            head = next(records, None)
            if not isinstance(head, WarcRecord) or head.record_id != first["id"]:
                continue  # the offset does not point at the record: read from the start
            records = itertools.chain([head], records)
        yield from _extract_records(records, by_ordinal, extractor)
        return


def _start_points(first: dict) -> list[tuple[int, int]]:
    offset = first.get("source_offset") or 0
    return [(offset, first["source_record"]), (0, 0)] if offset > 0 else [(0, 0)]


def _extract_records(records: Iterable, by_ordinal: dict[int, dict], extractor: HtmlExtractor) -> Iterator[dict]:
    pending = dict(by_ordinal)
    error = "record not found on second read"
    for item in records:
        if isinstance(item, ReadError):
            error = f"record not readable on second read: {item.message}"
            break
        row = pending.pop(item.ordinal, None)
        if row is not None:
            yield extract_document(row, item.payload or b"", extractor)
    for row in pending.values():
        yield _document_row(row, None, None, Rejection("read_error", error))


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
