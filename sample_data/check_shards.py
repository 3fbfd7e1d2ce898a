#!/usr/bin/env python3
"""Check sample_data/shards against sample_data/manifest.jsonl with both FastWARC and warcio.

Every record must be readable by both libraries in manifest order (type, record id, URL, date); the only
record allowed to be short is a clipped response that is the last record of its shard.  Record ids must be
unique, block digests must match (except for the clipped record).  Prints shard sizes and counts.

    python sample_data/check_shards.py [--shards DIR] [--manifest FILE]
"""

from __future__ import annotations

import argparse
import base64
import collections
import hashlib
import json
from pathlib import Path

from fastwarc.warc import ArchiveIterator as FastIterator
from warcio.archiveiterator import ArchiveIterator as WarcioIterator

HERE = Path(__file__).resolve().parent


def digest(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def read_fastwarc(path: Path) -> list[tuple]:
    out = []
    with path.open("rb") as f:
        for r in FastIterator(f, parse_http=True):
            payload = r.reader.read()
            out.append((r.headers.get("WARC-Type"), r.record_id, r.headers.get("WARC-Target-URI"),
                        r.headers.get("WARC-Date"), r.content_length, r.http_headers is not None, len(payload)))
    return out


def read_warcio(path: Path, raw: bool) -> tuple[list[tuple], str | None]:
    """raw=False: parse HTTP headers and read the (decoded) payload; raw=True: read whole blocks."""
    out, err = [], None
    with path.open("rb") as f:
        try:
            for r in WarcioIterator(f, no_record_parse=raw):
                h = r.rec_headers
                block = r.raw_stream.read() if raw else r.content_stream().read()
                out.append((h.get_header("WARC-Type"), h.get_header("WARC-Record-ID"),
                            h.get_header("WARC-Target-URI"), h.get_header("WARC-Date"),
                            int(h.get_header("Content-Length")), len(block), h.get_header("WARC-Block-Digest"),
                            digest(block) if raw else None))
        except Exception as e:  # only acceptable after the clipped last record
            err = f"{type(e).__name__}: {e}"
    return out, err


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shards", type=Path, default=HERE / "shards")
    ap.add_argument("--manifest", type=Path, default=HERE / "manifest.jsonl")
    a = ap.parse_args()
    rows = [json.loads(x) for x in a.manifest.read_text("utf-8").splitlines()]
    by_shard = collections.defaultdict(list)
    for r in rows:
        by_shard[r["shard"]].append(r)
    ids = [r["record_id"] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate record ids"
    files = sorted(a.shards.glob("*.warc.gz"))
    assert [f.name for f in files] == sorted(by_shard), "shard files differ from manifest"
    problems, n_digest = [], 0
    for path in files:
        want = by_shard[path.name]
        assert [r["index"] for r in want] == list(range(len(want))), f"{path.name}: indices not 0..n-1"
        assert want[0]["warc_type"] == "warcinfo", f"{path.name}: does not start with warcinfo"
        fast, (slow, err), (blocks, err2) = read_fastwarc(path), read_warcio(path, False), read_warcio(path, True)
        clipped = want[-1]["case"] == "clipped"
        for name, got in (("fastwarc", fast), ("warcio", slow), ("warcio-raw", blocks)):
            n_ok = len(want) - (1 if clipped and len(got) < len(want) else 0)
            if len(got) < n_ok:
                problems.append(f"{path.name}: {name} read {len(got)} of {len(want)} records")
            for r, g in zip(want, got, strict=False):
                if (g[0], g[1], g[2], g[3]) != (r["warc_type"], f"<urn:uuid:{r['record_id']}>", r["url"], r["date"]):
                    problems.append(f"{path.name}#{r['index']}: {name} header mismatch {g[:4]}")
        for r, g in zip(want, blocks, strict=False):
            if g[5] < g[4] and not (r["case"] == "clipped" and r is want[-1]):
                problems.append(f"{path.name}#{r['index']}: block shorter than Content-Length")
            elif g[5] == g[4] and g[6] != g[7]:
                problems.append(f"{path.name}#{r['index']}: block digest mismatch")
            n_digest += g[5] == g[4]
        for e in (err, err2):
            if e and not clipped:
                problems.append(f"{path.name}: warcio error {e}")
        print(f"{path.name}: {path.stat().st_size:>9,} bytes, {len(want):4d} records; fastwarc read {len(fast)},"
              f" warcio read {len(slow)}{' (then: ' + err + ')' if err else ''}")
    print(f"block digests verified: {n_digest}")
    resp = [r for r in rows if r["warc_type"] == "response"]
    print("\nrecords per WARC-Type:", dict(collections.Counter(r["warc_type"] for r in rows)))
    print("\nresponses per case / expect:")
    for (case, exp), n in sorted(collections.Counter((r["case"], r["expect"]) for r in resp).items()):
        print(f"  {case:28s} {exp:24s} {n:4d}")
    print("\nall records per expect:", dict(collections.Counter(r["expect"] for r in rows)))
    if problems:
        print(f"\n{len(problems)} PROBLEMS:\n  " + "\n  ".join(problems[:30]))
        raise SystemExit(1)
    print("\nOK")


if __name__ == "__main__":
    main()
