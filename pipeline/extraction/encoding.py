"""Decoding HTML payload bytes to text without mojibake.

Order of evidence: a byte-order mark, the HTTP ``Content-Type`` charset, the document's ``<meta charset>`` (or
``http-equiv`` Content-Type), then statistical detection (charset-normalizer). A declaration is only trusted when
the bytes decode under it; and since Latin-1/Windows-1252 decode *any* bytes, a page labelled Latin-1 whose bytes are
valid non-ASCII UTF-8 is read as UTF-8 (the most common source of mojibake in crawls: ``Ã©`` for ``é``).
"""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([a-zA-Z0-9_\-:.]+)""", re.IGNORECASE
)
# Labels that browsers (WHATWG Encoding Standard) treat as windows-1252, and other single-byte codecs that accept
# every byte sequence, so a successful decode proves nothing.
_WINDOWS_1252_ALIASES = {"latin_1", "iso8859_1", "ascii", "us_ascii", "iso_8859_1", "l1", "cp819"}
_PERMISSIVE = {"cp1252", "latin_1", "iso8859_15", "cp1250", "cp1251", "iso8859_2", "iso8859_5", "koi8_r"}
# Text codecs no browser decodes a page with: they turn markup into other markup (UTF-7 is an old XSS vector) or
# raise on every byte.
_NOT_PAGE_ENCODINGS = {"undefined", "utf_7", "unicode_escape", "raw_unicode_escape", "idna", "punycode", "charmap"}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Tolerate a few invalid bytes in otherwise UTF-8 text (a truncated multi-byte character, one stray Latin-1 byte)
# rather than sending the whole page through detection and risking a wrong single-byte guess: text is read as
# UTF-8 when it has at least this many valid multi-byte characters per invalid sequence. (Legacy-encoded text
# has almost no valid multi-byte sequences, so it never passes.) When the page or server declares UTF-8, a majority
# of valid sequences is enough.
MIN_VALID_PER_INVALID_UTF8 = 20
MIN_VALID_PER_INVALID_DECLARED_UTF8 = 2
DETECTION_SAMPLE_BYTES = 64 * 1024


def normalise_charset(label: str | None) -> str | None:
    """Python codec name for a charset label, or None when unknown or not a page encoding (Python's transform and
    escape codecs such as ``rot13``, ``base64``, ``unicode_escape`` or ``undefined``); ISO-8859-1/ASCII labels
    mean windows-1252."""
    if not label:
        return None
    try:
        info = codecs.lookup(label.strip().strip("\"'").lower())
    except (LookupError, ValueError, UnicodeError):  # unknown, NUL bytes, unencodable characters
        return None
    name = info.name.replace("-", "_")
    if not getattr(info, "_is_text_encoding", True) or name in _NOT_PAGE_ENCODINGS:
        return None
    if name in _WINDOWS_1252_ALIASES:
        return "cp1252"
    return "utf-8" if name == "utf_8" else name


def meta_charset(payload: bytes) -> str | None:
    """The charset declared in a ``<meta>`` tag in the first 4 KB of the document (where HTML requires it)."""
    match = _META_CHARSET.search(payload[:4096])
    return match.group(1).decode("ascii", "ignore") if match else None


def _utf8_with_few_errors(payload: bytes, min_valid_per_invalid: int = MIN_VALID_PER_INVALID_UTF8) -> str | None:
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = payload.decode("utf-8", "replace")
    errors = text.count("\ufffd")
    valid = sum(1 for ch in text if ord(ch) > 127) - errors
    return text if valid >= min_valid_per_invalid * errors else None


def decode_html(payload: bytes, http_charset: str | None = None) -> tuple[str, str]:
    """Decode ``payload``; returns ``(text, codec name)``. Never raises: the last resort is UTF-8 with U+FFFD."""
    for bom, codec in _BOMS:
        if payload.startswith(bom):
            return payload.decode(codec, "replace"), codec
    for declared in (normalise_charset(http_charset), normalise_charset(meta_charset(payload))):
        if declared is None:
            continue
        if declared in _PERMISSIVE and not payload.isascii():
            try:
                return payload.decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                pass
        if declared == "utf-8":
            text = _utf8_with_few_errors(payload, MIN_VALID_PER_INVALID_DECLARED_UTF8)
            if text is not None:
                return text, "utf-8"
            continue
        try:
            return payload.decode(declared), declared
        except (UnicodeDecodeError, LookupError):
            continue
    text = _utf8_with_few_errors(payload)
    if text is not None:
        return text, "utf-8"
    return _detect(payload)


def _detect(payload: bytes) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    best = from_bytes(payload[:DETECTION_SAMPLE_BYTES]).best()
    if best is not None:
        codec = normalise_charset(best.encoding) or "utf-8"
        try:
            return payload.decode(codec, "replace"), codec
        except LookupError:
            pass
    return payload.decode("utf-8", "replace"), "utf-8"
