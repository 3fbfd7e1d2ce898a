"""Reading WARC files (``.warc``, ``.warc.gz``; also zstd/lz4) with FastWARC.

FastWARC was chosen over warcio after measuring both on the same files (``tests/benchmarks/bench_warc_readers.py``):
it is 2-4x faster (sample shards, a Common Crawl excerpt) and reads files warcio rejects (single-stream
"non-chunked" gzip, wrongly chunked gzip, lz4). Paths may be local or any fsspec URL (``s3://``, ``hdfs://``,
``gs://``...; ``s3a://`` is read as ``s3://``).

A file is read as a stream of :class:`WarcRecord` summaries; a file that cannot be read to its end yields a final
:class:`ReadError` instead of raising, so one corrupt file never fails a job and the records before the damage are
kept. Records are identified inside a file by their ordinal (0-based position), which is stable even where byte
offsets are not (in a single-stream gzip every record reports the same offset).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from fastwarc.warc import ArchiveIterator

HTML_CONTENT_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_TYPE_NAMES = ("warcinfo", "response", "resource", "request", "metadata", "revisit", "conversion", "continuation")
_SNIFF_BYTES = 1024


@dataclass
class WarcRecord:
    """What the pipeline needs of one WARC record. ``payload`` (the HTTP body) is only read when asked for."""

    ordinal: int
    offset: int
    record_id: str
    warc_type: str
    url: str | None
    fetch_time: datetime | None
    http_status: int | None
    content_type: str | None
    http_charset: str | None
    truncated: str | None  # WARC-Truncated value, or "clipped" when the body is shorter than Content-Length says
    payload_bytes: int
    payload: bytes | None = None


@dataclass
class ReadError:
    """The file could not be read past record ``ordinal`` (byte ``offset``) for the reason in ``message``."""

    ordinal: int
    offset: int
    message: str


def _strip_urn(record_id: str | None) -> str | None:
    if not record_id:
        return None
    record_id = record_id.strip().strip("<>")
    return record_id[len("urn:uuid:"):] if record_id.startswith("urn:uuid:") else record_id


def open_input(path: str):
    """Open a local path or fsspec URL for binary reading (``s3a://``/``s3n://`` map to fsspec's ``s3://``)."""
    if "://" not in path or path.startswith("file://"):
        return open(path[len("file://"):] if path.startswith("file://") else path, "rb")
    import fsspec

    for hadoop_scheme in ("s3a://", "s3n://"):
        if path.startswith(hadoop_scheme):
            path = "s3://" + path[len(hadoop_scheme):]
    return fsspec.open(path, "rb").open()


def _sniff_is_html(head: bytes) -> bool:
    head = head.lstrip()[:_SNIFF_BYTES].lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head or b"<body" in head


def read_warc(
    path: str,
    want_payload: Callable[[int], bool] = lambda ordinal: False,
    start_offset: int = 0,
    start_ordinal: int = 0,
    stop_after: int | None = None,
    decode_http: bool = False,
) -> Iterator[WarcRecord | ReadError]:
    """Yield every record of the WARC file at ``path`` in order, then a ReadError if the file is damaged.

    ``want_payload(ordinal)`` says which records' HTTP bodies to return; the others are skipped without copying.
    ``start_offset``/``start_ordinal`` resume at a known record boundary (only valid for uncompressed files and
    per-record gzip members, as Common Crawl writes them). ``stop_after`` stops after that ordinal.

    With ``decode_http`` payloads come with their chunked transfer and gzip/deflate/brotli content encodings
    removed (as a browser would see them); truncation is then not checked, since it needs the raw lengths: check
    it in a first, raw pass (the ``read`` stage does).
    """
    ordinal, offset = start_ordinal, start_offset
    try:
        stream = open_input(path)
    except Exception as exc:  # noqa: BLE001 - any failure to open becomes a per-file error
        yield ReadError(ordinal, offset, f"cannot open: {type(exc).__name__}: {exc}")
        return
    with contextlib.closing(stream):
        try:
            if start_offset:
                stream.seek(start_offset)
            for record in ArchiveIterator(stream, parse_http=True, auto_decode="all" if decode_http else "none"):
                offset = record.stream_pos
                yield _summarise(record, ordinal, want_payload(ordinal), check_length=not decode_http)
                ordinal += 1
                if stop_after is not None and ordinal > stop_after:
                    return
        except Exception as exc:  # noqa: BLE001 - FastWARC raises OSError; anything else is damage too
            yield ReadError(ordinal, offset, _describe_error(path, ordinal, exc))
            return
    if ordinal == start_ordinal and not start_offset:
        yield ReadError(0, 0, "no WARC record found (empty file, or not a WARC file)")


def _describe_error(path: str, ordinal: int, exc: Exception) -> str:
    message = f"{type(exc).__name__}: {exc}".strip()
    if ordinal == 0:
        kind = "an ARC file (not supported)" if path.endswith((".arc", ".arc.gz")) else "not a WARC file"
        return f"unreadable at the first record ({kind}?): {message}"
    return f"unreadable after record {ordinal - 1}: {message} (damaged or truncated file)"


def _summarise(record, ordinal: int, with_payload: bool, check_length: bool) -> WarcRecord:
    headers = record.headers
    warc_type = str(record.record_type).rsplit(".", 1)[-1]
    warc_type = warc_type if warc_type in _TYPE_NAMES else "unknown"
    http = record.http_headers if record.is_http else None
    status = http.status_code if http is not None else None
    content_type = record.http_content_type.lower() if record.http_content_type else None
    expected = record.content_length
    payload = None
    if with_payload:
        payload = record.reader.read()
        got = len(payload)
    elif warc_type == "response" and content_type is None and status == 200:
        head = record.reader.read(_SNIFF_BYTES)
        got = len(head) + record.reader.consume()
        content_type = "text/html" if _sniff_is_html(head) else None
    else:
        got = record.reader.consume()
    truncated = headers.get("WARC-Truncated")
    if truncated is None and check_length and got < expected:
        truncated = f"clipped: {got} of {expected} bytes"
    if truncated is None and check_length and http is not None:
        truncated = _short_http_body(http, got)
    try:
        fetch_time = record.record_date
    except ValueError:
        fetch_time = None
    return WarcRecord(
        ordinal=ordinal,
        offset=record.stream_pos,
        record_id=_strip_urn(record.record_id) or "",
        warc_type=warc_type,
        url=(headers.get("WARC-Target-URI") or "").strip("<> ") or None,
        fetch_time=fetch_time,
        http_status=status,
        content_type=content_type,
        http_charset=record.http_charset,
        truncated=truncated,
        payload_bytes=got,
        payload=payload,
    )


def _short_http_body(http_headers, got: int) -> str | None:
    """A body shorter than the HTTP Content-Length the server announced: the crawler kept a partial page.
    (Only meaningful for a plain body: chunked or content-encoded payloads have other lengths.)"""
    declared = http_headers.get("Content-Length")
    if not declared or http_headers.get("Transfer-Encoding") or http_headers.get("Content-Encoding"):
        return None
    try:
        declared_bytes = int(declared.strip())
    except ValueError:
        return None
    return f"clipped: body {got} of HTTP Content-Length {declared_bytes} bytes" if got < declared_bytes else None


def source_name(path: str) -> str:
    """The name recorded as a document's source file: the path as given (stable across local and cluster runs
    when the same URIs are used)."""
    return path if "://" in path else os.path.abspath(path)
