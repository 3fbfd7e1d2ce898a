"""Undoing an HTTP body's transfer and content encodings (chunked; gzip, deflate, br), never beyond a size cap.

The crawler stored the bytes the server sent; a browser would see them decoded. Decoding is done here, on one
record's body, rather than by the WARC parser, so that a broken body (bad chunk sizes, a corrupt gzip stream, an
unknown coding) is that record's problem only, and a compression bomb stops at ``limit`` bytes of output instead
of filling memory.
"""

from __future__ import annotations

import io
import zlib

from fastwarc.stream_io import BrotliReader, ChunkedReader

from pipeline.steps import Rejection

_READ_PIECE = 1 << 20


class BodyError(Exception):
    """A body that cannot be decoded: ``rejection`` says why (``payload_error``, or ``html_too_large`` for a body
    that decodes to more than the cap)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.rejection = Rejection(reason, detail)


def _codings(header: str | None) -> list[str]:
    return [c.strip().lower() for c in (header or "").split(",") if c.strip()]


def _read_capped(reader, limit: int) -> bytes:
    """At most ``limit + 1`` bytes from a FastWARC stream reader (one more than allowed tells that it is over)."""
    pieces, size = [], 0
    while size <= limit:
        piece = reader.read(min(_READ_PIECE, limit + 1 - size))
        if not piece:
            break
        pieces.append(piece)
        size += len(piece)
    return b"".join(pieces)


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    """At most ``limit + 1`` inflated bytes; a stream cut short gives what it holds, as in a browser."""
    return zlib.decompressobj(wbits).decompress(data, limit + 1)


def _decode_one(data: bytes, coding: str, limit: int) -> bytes:
    if coding in ("gzip", "x-gzip"):
        return _inflate(data, 16 + zlib.MAX_WBITS, limit)
    if coding == "deflate":  # RFC 9110 says zlib-wrapped; some servers send raw deflate
        try:
            return _inflate(data, zlib.MAX_WBITS, limit)
        except zlib.error:
            return _inflate(data, -zlib.MAX_WBITS, limit)
    if coding == "br":
        return _read_capped(BrotliReader(io.BytesIO(data)), limit)
    if coding == "chunked":
        return _read_capped(ChunkedReader(io.BytesIO(data)), limit)
    raise BodyError("payload_error", f"unsupported encoding {coding!r}")


def decode_body(body: bytes, transfer_encoding: str | None, content_encoding: str | None, limit: int) -> bytes:
    """``body`` with its transfer codings, then its content codings (last applied first) removed.

    Raises BodyError: ``html_too_large`` when a decoded body would exceed ``limit`` bytes (decoding stops there),
    ``payload_error`` for a coding that is unknown or does not decode."""
    codings = [c for c in _codings(transfer_encoding)[::-1] + _codings(content_encoding)[::-1] if c != "identity"]
    for coding in codings:
        try:
            body = _decode_one(body, coding, limit)
        except BodyError:
            raise
        except Exception as exc:  # noqa: BLE001 - zlib, brotli and chunk-size errors alike: this body is broken
            raise BodyError("payload_error", f"{coding}: {type(exc).__name__}: {exc}"[:300]) from exc
        if len(body) > limit:
            raise BodyError("html_too_large", f"{coding}-encoded body decodes to over {limit:,} bytes")
    return body
