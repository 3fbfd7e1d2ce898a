"""Decoding a page body for extraction: HTTP transfer/content encodings with a size cap, and hostile charset labels.

The body is a real page (the example.com page of the warcio fixture); bombs are built here, the gigabyte ones in
a separate process so that its peak memory can be read."""

import gzip
import json
import subprocess
import sys
import zlib

import brotli  # FastWARC's dependency
import pytest
from conftest import FIXTURES, REPO

from pipeline.extraction.encoding import decode_html
from pipeline.warc.http_body import BodyError, decode_body
from pipeline.warc.reader import read_warc

LIMIT = 5_000_000


@pytest.fixture(scope="module")
def page() -> bytes:
    """A real page: the HTML of the first response in warcio's example.warc.gz, as a browser would see it."""
    (item,) = [i for i in read_warc(str(FIXTURES / "warc" / "example.warc.gz"), want_payload=lambda n: True,
                                    decode_http=True) if i.warc_type == "response"]
    assert item.payload.startswith(b"<!doctype html>")
    return item.payload


def _chunked(data: bytes, size: int = 100) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + size]), data[i:i + size])
                    for i in range(0, len(data), size)) + b"0\r\n\r\n"


def test_every_coding_a_browser_knows_gives_back_the_page(page):
    deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    raw_deflate = deflate.compress(page) + deflate.flush()
    cases = [
        (page, None, None), (page, None, "identity"),
        (gzip.compress(page), None, "gzip"), (gzip.compress(page), None, "X-Gzip"),
        (zlib.compress(page), None, "deflate"), (raw_deflate, None, "deflate"),
        (brotli.compress(page), None, "br"), (_chunked(page), "chunked", None),
        (_chunked(gzip.compress(page)), "chunked", "gzip"), (gzip.compress(brotli.compress(page)), None, "br, gzip"),
    ]
    for body, transfer, content in cases:
        assert decode_body(body, transfer, content, LIMIT) == page, (transfer, content)


def test_a_gzip_stream_cut_short_gives_what_it_holds_as_a_browser_does(page):
    cut = gzip.compress(page)[:-8]  # no trailer
    assert decode_body(cut, None, "gzip", LIMIT) == page


@pytest.mark.parametrize("body, transfer, content, words", [
    (b"5\r\nhello\r\nZZZ\r\nbroken", "chunked", None, "chunk"),
    (b"<html>not compressed</html>", None, "gzip", "gzip"),
    (b"<html>not compressed</html>", None, "br", "br"),
    (b"<html>x</html>", None, "compress", "unsupported"),
])
def test_a_body_that_does_not_decode_is_a_payload_error(body, transfer, content, words):
    with pytest.raises(BodyError) as error:
        decode_body(body, transfer, content, LIMIT)
    assert error.value.rejection.reason == "payload_error" and words in error.value.rejection.detail


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_a_compression_bomb_stops_at_the_cap(coding):
    expanded = b"<html><body>" + b" " * (LIMIT + 1000)
    body = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress}[coding](expanded)
    with pytest.raises(BodyError) as error:
        decode_body(body, None, coding, LIMIT)
    assert error.value.rejection.reason == "html_too_large"
    assert decode_body(body, None, coding, len(expanded)) == expanded  # the same body under a higher cap


_BOMB_SCRIPT = """
import json, resource, sys, zlib
from pipeline.warc.http_body import BodyError, decode_body
coding, size = sys.argv[1], int(sys.argv[2])
if coding == "gzip":  # a 1 GiB gzip stream of zeros made from one fully flushed 1 MiB block, repeated
    block = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = block.compress(bytes(1 << 20)) + block.flush(zlib.Z_FULL_FLUSH)
    body = b"\\x1f\\x8b\\x08\\x00\\x00\\x00\\x00\\x00\\x00\\xff" + piece * (size >> 20) + b"\\x03\\x00" + bytes(8)
else:
    import brotli
    writer = brotli.Compressor(quality=1)
    body = b"".join(writer.process(bytes(1 << 20)) for _ in range(size >> 20)) + writer.finish()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
try:
    decode_body(body, None, coding, 5_000_000)
    reason = None
except BodyError as exc:
    reason = exc.rejection.reason
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"reason": reason, "growth": after - before, "compressed": len(body)}))
"""


@pytest.mark.parametrize("coding", ["gzip", "br"])
def test_decoding_a_gigabyte_bomb_never_holds_more_than_the_cap(coding):
    """Peak memory (RSS high-water mark) of a process decoding a body that expands to 1 GiB."""
    size = 1 << 30
    result = subprocess.run([sys.executable, "-c", _BOMB_SCRIPT, coding, str(size)], cwd=REPO,
                            capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(result.stdout)
    assert report["reason"] == "html_too_large" and report["compressed"] < size // 100
    assert report["growth"] < 64 << 20, report  # the 5 MB cap and zlib/brotli buffers, never the gigabyte


def test_hostile_charset_labels_never_raise_and_fall_back_to_the_bytes():
    """Python codecs that are transforms or escapes (and labels no codec knows) are ignored, as a browser ignores
    labels outside the Encoding Standard: the page is read as the UTF-8 it is."""
    html = "<html><body><p>Grüße aus Köln +AGE- \\N{x} \\u12</p></body></html>".encode()
    for label in ["undefined", "rot13", "base64", "hex", "zlib", "utf-7", "unicode_escape", "raw_unicode_escape",
                  "idna", "punycode", "charmap", "utf\x00", "a\udcff", "x" * 10_000, "\xff\xfe"]:
        text, codec = decode_html(html, label)
        assert codec == "utf-8" and "Grüße aus Köln +AGE- \\N{x}" in text, label
        text, codec = decode_html(f'<meta charset="{label[:40]}">'.encode("utf-8", "replace") + html)
        assert "Grüße aus Köln" in text, label
