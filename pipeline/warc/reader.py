"""Reading WARC files (``.warc``, ``.warc.gz``; also zstd/lz4) with FastWARC, resynchronising after damage.

FastWARC was chosen over warcio after measuring both on the same files (``tests/benchmarks/bench_warc_readers.py``):
it is 2-4x faster (sample shards, a Common Crawl excerpt) and reads files warcio rejects (single-stream
"non-chunked" gzip, wrongly chunked gzip, lz4). Paths may be local or any fsspec URL (``s3://``, ``hdfs://``,
``gs://``...; ``s3a://`` is read as ``s3://``).

A file is read as a stream of :class:`WarcRecord` summaries and :class:`ReadError` rows. FastWARC stops at the first
record it cannot parse; this reader then resynchronises, so that one bad record costs only itself:

- The record before the failure is checked against its own framing (header, ``Content-Length`` bytes, next
  record): one whose length runs into a later record is reported as damaged, and the records it swallowed are read.
- Reading goes on record by record from where the next record should start; a record that FastWARC cannot parse
  but whose framing is sound is skipped alone, and where nothing is sound the reader continues at the next place a
  record can start: a gzip member that inflates to ``WARC/1.`` (Common Crawl writes one member per record) or, in
  uncompressed data, a ``WARC/1.`` line.
- Each damaged record or unreadable region is one ReadError: reason ``oversized_header`` (a WARC header over
  :data:`MAX_HEADER_BYTES`) or ``read_error``, naming the record when its header could be read, with the bytes
  skipped. An HTTP head that is over the limit or unparseable is not damage: the record is read, with a
  ``problem``, and so is every record after it.

Per-file accounting: pass a :class:`ReadReport` as ``report=`` and read it when the iterator is exhausted. Every
record header seen has exactly one row (its WarcRecord, or the ReadError naming it) and every skipped byte lies in
a ReadError's region, so a file with ``bytes_skipped > 0`` always has at least one damage row to show for it.

Records are identified inside a file by their ordinal (0-based position among the rows, ReadErrors included),
which is stable across reruns and from any record's offset on, even where byte offsets are not unique (in a
single-stream gzip every record reports the same offset).
"""

from __future__ import annotations

import contextlib
import os
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from fastwarc.warc import ArchiveIterator

from pipeline.steps import Rejection
from pipeline.warc.http_body import BodyError, decode_body

HTML_CONTENT_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Longest WARC header or HTTP head parsed (FastWARC's default). Longer ones are ``oversized_header``: real heads are
# a few KB; a 64 KB URL or a 1 MB header line is a crawler bug or an attack, and parsing it costs memory.
MAX_HEADER_BYTES = 32 * 1024
_TYPE_NAMES = ("warcinfo", "response", "resource", "request", "metadata", "revisit", "conversion", "continuation")
_SNIFF_BYTES = 1024
_SCAN_BYTES = 1 << 20
_FIRST_SCAN_BYTES = 1 << 16
# The resynchronising probe reads a header up to this size itself (to name and skip an oversized record).
_PROBE_HEADER_BYTES = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_LINE = re.compile(rb"WARC/1\.\d\r?\n")
# Where a record can start in uncompressed data: a WARC version line and a first header field.
_RECORD_START = re.compile(rb"WARC/1\.\d\r?\n[A-Za-z][A-Za-z0-9-]*:")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_DETAIL_CHARS = 200
_NO_LIMIT = 1 << 62


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
    # Why the record cannot be a page although it was read: its HTTP head (``oversized_header``, ``bad_http_head``)
    # or, for a decoded payload, its body (``payload_error``, ``html_too_large``).
    problem: Rejection | None = None


@dataclass
class ReadError:
    """A damaged record or unreadable region at byte ``offset`` (row ``ordinal``); ``message`` says what and how
    many bytes were skipped. ``record_id``/``warc_type``/``url`` name the damaged record when its header was read."""

    ordinal: int
    offset: int
    message: str
    reason: str = "read_error"
    skipped_bytes: int = 0
    record_id: str | None = None
    warc_type: str | None = None
    url: str | None = None


@dataclass
class ReadReport:
    """Per-file accounting of one :func:`read_warc` pass, filled while it runs.

    ``records``: record headers seen (each has a row: its WarcRecord or the ReadError naming it); ``damaged``:
    ReadError rows; ``recovered``: records read after the first damage; ``bytes_skipped``: bytes of the file in
    damaged regions (inflated bytes for junk inside a gzip member); ``complete``: the pass reached its end."""

    records: int = 0
    damaged: int = 0
    recovered: int = 0
    bytes_skipped: int = 0
    complete: bool = False


def _strip_urn(record_id: str | None) -> str | None:
    if not record_id:
        return None
    record_id = record_id.strip().strip("<>")
    return record_id[len("urn:uuid:"):] if record_id.startswith("urn:uuid:") else record_id


def _clean_url(url: str | None) -> str | None:
    return (url or "").strip("<> ") or None


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
    *,
    max_payload_bytes: int | None = None,
    report: ReadReport | None = None,
) -> Iterator[WarcRecord | ReadError]:
    """Yield every record of the WARC file at ``path`` in order, with a ReadError for each damaged part.

    ``want_payload(ordinal)`` says which records' HTTP bodies to return; the others are skipped without copying.
    ``start_offset``/``start_ordinal`` resume at a known record boundary (only valid for uncompressed files and
    per-record gzip members, as Common Crawl writes them). ``stop_after`` stops after that ordinal.

    With ``decode_http`` payloads come with their chunked transfer and gzip/deflate/brotli content encodings
    removed (as a browser would see them); a body that does not decode gets a ``problem`` instead.
    ``max_payload_bytes`` caps a payload (read and decoded): a larger one is not returned, its problem is
    ``html_too_large``.
    """
    report = report if report is not None else ReadReport()
    try:
        stream = open_input(path)
    except Exception as exc:  # noqa: BLE001 - any failure to open becomes a per-file error
        report.damaged += 1
        yield ReadError(start_ordinal, start_offset, f"cannot open: {type(exc).__name__}: {exc}")
        return
    with contextlib.closing(stream):
        reader = _Reader(path, stream, want_payload, start_ordinal, stop_after, decode_http, max_payload_bytes,
                         report)
        yield from reader.rows(start_offset)
    report.complete = True


def _size(stream) -> int:
    here = stream.tell()
    size = stream.seek(0, os.SEEK_END)
    stream.seek(here)
    return size


class _Window:
    """The bytes ``[start, end)`` of a seekable stream, for reading one record alone (offsets stay absolute)."""

    def __init__(self, stream, start: int, end: int):
        self._stream, self._end = stream, end
        stream.seek(start)

    def read(self, size: int = -1) -> bytes:
        left = max(self._end - self._stream.tell(), 0)
        return self._stream.read(left if size is None or size < 0 else min(size, left))

    def tell(self) -> int:
        return self._stream.tell()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._stream.seek(offset, whence)

    def close(self) -> None:
        pass


class _Reader:
    """One pass over one file: FastWARC at full speed while it can, record by record around damage."""

    def __init__(self, path, stream, want_payload, start_ordinal, stop_after, decode_http, max_payload, report):
        self.path, self.stream, self.want_payload, self.report = path, stream, want_payload, report
        self.start_ordinal = self.ordinal = start_ordinal
        self.stop_after, self.decode_http, self.max_payload = stop_after, decode_http, max_payload
        self.size = _size(stream)
        self.done = False

    def rows(self, start: int) -> Iterator[WarcRecord | ReadError]:
        pos = start
        while pos is not None and pos < self.size and not self.done:
            pos = yield from self._run(pos)
        if self.ordinal == self.start_ordinal and not start:
            self.report.damaged += 1
            yield ReadError(self.ordinal, 0, "no WARC record found (empty file, or not a WARC file)")

    # --- FastWARC at full speed

    def _run(self, pos: int):
        """Read from ``pos`` until the end or a failure; returns where to go on (None: nowhere)."""
        self.stream.seek(pos)
        iterator = ArchiveIterator(self.stream, parse_http=False, max_header_len=MAX_HEADER_BYTES)
        held = None  # the last record, kept back until the next one is found where its length says
        while True:
            try:
                record = next(iterator)
            except StopIteration:
                return (yield from self._finish(held))
            except Exception as exc:  # noqa: BLE001 - FastWARC raises OSError; anything else is damage too
                return (yield from (self._step(pos, exc) if held is None else self._after(held, exc)))
            try:
                item = self._summarise(record)
            except Exception as exc:  # noqa: BLE001 - a body that cannot be read (corrupt gzip, I/O error)
                failed_at = record.stream_pos
                if held is not None:
                    yield self._emit(held)
                return None if self.done else (yield from self._step(failed_at, exc))
            if held is not None:
                yield self._emit(held)
                if self.done:
                    return None
            held = item

    def _finish(self, held: WarcRecord | None):
        """The end of the data: a last record cut short may have swallowed records, which are then read."""
        if held is None:
            return None
        if held.truncated and held.truncated.startswith("clipped"):
            damage, _, sync = self._judge(held, cut_off_is_damage=False)
            if damage is not None:
                yield damage
                return sync
        yield self._emit(held)
        return None

    def _after(self, held: WarcRecord, exc: Exception):
        """FastWARC failed after ``held``: keep it if its framing is sound, else report it; go on after it."""
        damage, probe, sync = self._judge(held)
        if damage is not None:
            yield damage
            return sync
        yield self._emit(held)
        if self.done:
            return None
        if probe.junk:
            yield self._junk(held.offset, probe.junk)
        return (yield from self._step(probe.next_offset, exc))

    def _judge(self, held: WarcRecord, cut_off_is_damage: bool = True) -> tuple[ReadError | None, _Probe, int | None]:
        """Whether ``held`` ends where the next record starts. If its length runs into a later record, ``held`` is
        damaged and the records it swallowed are read from ``sync`` on; if it runs past the readable data, it is
        damaged unless that is the end of the file (``cut_off_is_damage`` False: a last record cut short)."""
        probe = _probe(self.stream, held.offset, self.size)
        sync = _find_sync(self.stream, held.offset + 1, self.size)
        swallowed = sync is not None and (probe.next_offset is None or sync < probe.next_offset)
        if not swallowed and (probe.next_offset is not None or not cut_off_is_damage):
            return None, probe, sync
        what = f"its Content-Length ({probe.fields.get('content-length')}) runs past the next record or the data"
        return self._damage(held.offset, sync, "read_error", what, _named(held), ordinal=held.ordinal), probe, sync

    # --- record by record around damage

    def _step(self, pos: int, exc: Exception):
        """FastWARC failed at ``pos`` before returning a record: read the one record there alone if its framing is
        sound (a failure further ahead is then not its fault), else skip to the next place a record starts."""
        if pos >= self.size:
            return None
        probe = _probe(self.stream, pos, self.size)
        sync = _find_sync(self.stream, pos + 1, self.size)
        if probe.next_offset is None or (sync is not None and sync < probe.next_offset):
            return (yield from self._skip(pos, sync, exc, probe.fields))
        try:
            items = self._isolated(pos, probe.next_offset)
        except Exception as alone:  # noqa: BLE001 - the record itself is damaged
            reason = "oversized_header" if _oversized(alone) or probe.header_bytes > MAX_HEADER_BYTES else "read_error"
            yield self._damage(pos, probe.next_offset, reason, _describe(alone), probe.fields)
            return probe.next_offset
        for item in items:
            yield self._emit(item)
            if self.done:
                return None
        if probe.junk:
            yield self._junk(pos, probe.junk)
        return probe.next_offset

    def _isolated(self, start: int, end: int) -> list[WarcRecord]:
        """The records FastWARC reads from the bytes ``[start, end)`` alone (junk after the first is ignored here:
        the probe counts it); raises when there is none."""
        items = []
        try:
            for record in ArchiveIterator(_Window(self.stream, start, end), parse_http=False,
                                          max_header_len=MAX_HEADER_BYTES):
                items.append(self._summarise(record))
        except Exception:
            if not items:
                raise
        if not items:
            raise OSError("FastWARC finds no record in it")
        return items

    def _skip(self, pos: int, sync: int | None, exc: Exception, fields: dict[str, str]):
        """Nothing readable from ``pos`` to ``sync`` (None: the end of the file)."""
        reason = "oversized_header" if _oversized(exc) else "read_error"
        what = _describe(exc)
        if self.ordinal == self.start_ordinal and pos == 0:
            kind = "an ARC file (not supported)" if self.path.endswith((".arc", ".arc.gz")) else "not a WARC file"
            what = f"unreadable at the first record ({kind}?): {what}"
        yield self._damage(pos, sync, reason, what, fields)
        return sync

    def _emit(self, item: WarcRecord) -> WarcRecord:
        self.report.records += 1
        if self.report.damaged:
            self.report.recovered += 1
        self._advance(item.ordinal)
        return item

    def _advance(self, ordinal: int) -> None:
        if self.stop_after is not None and ordinal >= self.stop_after:
            self.done = True

    def _damage(self, start: int, end: int | None, reason: str, what: str, fields: dict[str, str],
                ordinal: int | None = None) -> ReadError:
        """One ReadError row for the bytes ``[start, end)`` (``end`` None: the end of the file)."""
        skipped = (self.size if end is None else end) - start
        where = "to the end of the file" if end is None else "to the next record"
        return self._error(start, skipped, reason, f"{what}; skipped {skipped:,} bytes at offset {start:,} {where}",
                           fields, ordinal)

    def _junk(self, member: int, junk: int) -> ReadError:
        """A row for the bytes left in the gzip member at ``member`` after its record's Content-Length."""
        return self._error(member, junk, "read_error", f"the record in the gzip member at offset {member:,} is "
                           f"followed by bytes that are no record (a wrong Content-Length, or junk); skipped {junk:,} "
                           "bytes (inflated) to the next record", {}, None)

    def _error(self, offset: int, skipped: int, reason: str, message: str, fields: dict[str, str],
               ordinal: int | None) -> ReadError:
        if ordinal is None:
            ordinal, self.ordinal = self.ordinal, self.ordinal + 1
        record_id = _strip_urn(fields.get("warc-record-id"))
        warc_type, url = fields.get("warc-type"), _clean_url(fields.get("warc-target-uri"))
        self.report.damaged += 1
        self.report.bytes_skipped += skipped
        if record_id or warc_type:
            self.report.records += 1
            message = f"{warc_type or 'untyped'} record {record_id or '(no id)'} ({url or 'no URL'}): {message}"
        elif ordinal > self.start_ordinal:
            message = f"unreadable after record {ordinal - 1}: {message}"
        self._advance(ordinal)
        return ReadError(ordinal, offset, message, reason, skipped, record_id, warc_type, url)

    # --- one record

    def _summarise(self, record) -> WarcRecord:
        ordinal = self.ordinal
        headers = record.headers
        warc_type = str(record.record_type).rsplit(".", 1)[-1]
        warc_type = warc_type if warc_type in _TYPE_NAMES else "unknown"
        problem, http = None, None
        if record.is_http:
            try:
                record.parse_http(max_header_len=MAX_HEADER_BYTES)
                http = record.http_headers
            except Exception as exc:  # noqa: BLE001 - this record's HTTP head only; the next record is read as usual
                reason = "oversized_header" if _oversized(exc) else "bad_http_head"
                problem = Rejection(reason, f"HTTP head: {_describe(exc)}")
        status = http.status_code if http is not None else None
        content_type = record.http_content_type.lower() if http is not None and record.http_content_type else None
        expected = record.content_length
        payload = None
        if problem is None and self.want_payload(ordinal):
            payload, got = self._payload(record)
            if isinstance(payload, Rejection):
                payload, problem = None, payload
        elif warc_type == "response" and content_type is None and status == 200:
            head = record.reader.read(_SNIFF_BYTES)
            got = len(head) + record.reader.consume()
            content_type = "text/html" if _sniff_is_html(head) else None
        else:
            got = record.reader.consume()
        truncated = headers.get("WARC-Truncated")
        if truncated is None and got < expected:
            truncated = f"clipped: {got} of {expected} bytes"
        if truncated is None and http is not None:
            truncated = _short_http_body(http, got)
        try:
            fetch_time = record.record_date
        except ValueError:
            fetch_time = None
        self.ordinal += 1
        return WarcRecord(
            ordinal=ordinal,
            offset=record.stream_pos,
            record_id=_strip_urn(record.record_id) or "",
            warc_type=warc_type,
            url=_clean_url(headers.get("WARC-Target-URI")),
            fetch_time=fetch_time,
            http_status=status,
            content_type=content_type,
            http_charset=record.http_charset if http is not None else None,
            truncated=truncated,
            payload_bytes=got,
            payload=payload,
            problem=problem,
        )

    def _payload(self, record) -> tuple[bytes | Rejection, int]:
        """The body (decoded with ``decode_http``), or why not, and its raw length; never more than the cap."""
        limit = self.max_payload
        body = record.reader.read() if limit is None else record.reader.read(limit + 1)
        got = len(body) + record.reader.consume()
        if limit is not None and got > limit:
            return Rejection("html_too_large", f"body of {got:,} bytes is over {limit:,}"), got
        if not self.decode_http or not record.is_http:
            return body, got
        http = record.http_headers
        try:
            decoded = decode_body(body, http.get("Transfer-Encoding"), http.get("Content-Encoding"),
                                  limit if limit is not None else _NO_LIMIT)
        except BodyError as exc:
            return exc.rejection, got
        return decoded, got


def _named(record: WarcRecord) -> dict[str, str]:
    return {"warc-record-id": record.record_id, "warc-type": record.warc_type, "warc-target-uri": record.url or ""}


def _oversized(exc: Exception) -> bool:
    return "header length" in str(exc).lower()


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}".strip()


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


# --- resynchronising: reading the raw file without FastWARC


def _starts_gzip(stream, offset: int) -> bool:
    stream.seek(offset)
    return stream.read(len(_GZIP_MAGIC)) == _GZIP_MAGIC


def _inflated(stream, start: int) -> Iterator[tuple[bytes, int | None]]:
    """Gzip members from byte ``start`` inflated one after another, as ``(bytes, member_end)`` pieces
    (``member_end``: the file offset where a member ended with this piece); stops where the data does not
    inflate."""
    stream.seek(start)
    data = stream.read(_FIRST_SCAN_BYTES)
    fed_end = start + len(data)  # file offset just past the bytes handed to zlib so far
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    while data:
        try:
            out = inflater.decompress(data, _SCAN_BYTES)
        except zlib.error:
            return
        data = inflater.unconsumed_tail
        if not inflater.eof:
            if out:
                yield out, None
            if not data:
                data = stream.read(_FIRST_SCAN_BYTES)
                fed_end += len(data)
            continue
        rest = inflater.unused_data
        yield out, fed_end - len(rest)
        if len(rest) < len(_GZIP_MAGIC):
            more = stream.read(_FIRST_SCAN_BYTES)
            fed_end += len(more)
            rest += more
        if not rest.startswith(_GZIP_MAGIC):
            return
        inflater, data = zlib.decompressobj(16 + zlib.MAX_WBITS), rest


def _raw(stream, start: int) -> Iterator[tuple[bytes, None]]:
    stream.seek(start)
    while data := stream.read(_FIRST_SCAN_BYTES):
        yield data, None


@dataclass
class _Probe:
    """A record's framing read from the raw bytes: its header fields (lower-case names; empty when no WARC header
    starts there), header size, where the next record should start (None: unknown, or past the readable data) and
    the junk bytes left after it in its gzip member."""

    fields: dict[str, str]
    header_bytes: int = 0
    next_offset: int | None = None
    junk: int = 0


def _parse_fields(header: bytes) -> dict[str, str]:
    fields = {}
    for line in header.splitlines()[1:]:
        name, colon, value = line.partition(b":")
        if colon:
            fields.setdefault(name.strip().lower().decode("latin-1"), value.strip()[:_DETAIL_CHARS].decode("latin-1"))
    return fields


def _probe(stream, start: int, size: int) -> _Probe:
    gzipped = _starts_gzip(stream, start)
    pieces = _inflated(stream, start) if gzipped else _raw(stream, start)
    buffer, member_end, end = b"", None, None
    for piece, member_end in pieces:  # noqa: B007 - the last piece's member end is used below
        buffer += piece
        end = _HEADER_END.search(buffer, 0, _PROBE_HEADER_BYTES)
        if end is not None or len(buffer) > _PROBE_HEADER_BYTES:
            break
    if not _WARC_LINE.match(buffer):
        return _Probe({})
    if end is None:
        return _Probe(_parse_fields(buffer[:_PROBE_HEADER_BYTES]), header_bytes=len(buffer))
    probe = _Probe(_parse_fields(buffer[:end.start()]), header_bytes=end.end())
    length = probe.fields.get("content-length", "")
    if not length.isdigit():
        return probe
    block_end = end.end() + int(length)
    if not gzipped:
        if start + block_end <= size:
            probe.next_offset = _skip_blank(stream, start + block_end)
        return probe
    # In gzip members: the record ends with the member in which its block ends; what follows it there is junk.
    position, tail = len(buffer), buffer[block_end:block_end + 8]
    while position < block_end or member_end is None:
        piece, member_end = next(pieces, (None, None))
        if piece is None:
            return probe  # the block runs past the data that inflates
        if position < block_end + 8 and position + len(piece) > block_end:
            tail += piece[max(block_end - position, 0):block_end + 8 - position]
        position += len(piece)
    probe.next_offset = member_end
    probe.junk = max(position - block_end - (len(tail) - len(tail.lstrip(b"\r\n"))), 0)
    return probe


def _skip_blank(stream, offset: int) -> int:
    """``offset`` moved past the blank lines that end a record."""
    stream.seek(offset)
    blank = stream.read(64)
    return offset + len(blank) - len(blank.lstrip(b"\r\n"))


def _find_sync(stream, start: int, size: int) -> int | None:
    """The first offset at or after ``start`` where a record can start: a gzip member that inflates to
    ``WARC/1.``, or in uncompressed data a ``WARC/1.`` line followed by a header field (anywhere: junk before a
    record need not end with a line break); None when there is none. Scans 64 KB first (the next record is
    usually near), then spans doubling up to 1 MB."""
    offset, span = start, _FIRST_SCAN_BYTES
    while offset < size:
        stream.seek(offset)
        chunk = stream.read(span + 64)  # the overlap holds a record start that begins in this span
        found = [at for at in (_next_gzip(stream, chunk, offset, span), _next_line(chunk, span)) if at is not None]
        if found:
            return offset + min(found)
        offset, span = offset + span, min(2 * span, _SCAN_BYTES)
    return None


def _next_gzip(stream, chunk: bytes, base: int, span: int) -> int | None:
    """Position in ``chunk`` (read at ``base``) of the first gzip member starting in ``span`` that inflates to a
    WARC record."""
    at = chunk.find(_GZIP_MAGIC, 0, span + len(_GZIP_MAGIC) - 1)
    while at >= 0:
        stream.seek(base + at)
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(stream.read(4096), 16)
        except zlib.error:
            head = b""
        if _WARC_LINE.match(head):
            return at
        at = chunk.find(_GZIP_MAGIC, at + 1, span + len(_GZIP_MAGIC) - 1)
    return None


def _next_line(chunk: bytes, span: int) -> int | None:
    match = _RECORD_START.search(chunk, 0)
    return match.start() if match is not None and match.start() < span else None


def source_name(path: str) -> str:
    """The name recorded as a document's source file: the path as given (stable across local and cluster runs
    when the same URIs are used)."""
    return path if "://" in path else os.path.abspath(path)
