#!/usr/bin/env python3
"""Deterministic builder of the Common Crawl-style sample WARC shards in ``sample_data/shards/``.

Each record is its own gzip member (as in Common Crawl); dates are fixed, record ids are uuid5 of
"<shard>#<index>", random choices use fixed seeds and gzip members have mtime=0, so a rebuild is
byte-identical (given the same zlib).  Every page fetch is a request + response + metadata triple and
each shard starts with a warcinfo record.  ``sample_data/manifest.jsonl`` lists every record in order,
with its case and the outcome expected from the foundation stage (filters, URL dedup, extraction).

Inputs come from the shared data folder (``../shared/data`` beside the checkout; ``--shared`` to
override).  Cases, counts, sources and licenses: ``sample_data/README.md``.

    python sample_data/build_sample_data.py                 # sample shards + sample_data/manifest.jsonl
    python sample_data/build_sample_data.py --bench-all-pages --out /tmp/bench [--shards 8]
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import html
import json
import random
import re
import struct
import unicodedata
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
NS = uuid.UUID("6f1d9a3c-2b8e-5c47-9a61-3e0f5d2c7b11")  # fixed namespace of the uuid5 record ids
SEED = 20240518
BASE = datetime(2024, 5, 18, 0, 0, 0, tzinfo=timezone.utc)
N_SHARDS = 5
N_ORDINARY = 180
MAX_GZ_PAGE = 20000  # eval pages up to this compressed size are used (keeps the sample near 4 MB)
LANGS = "en de fr it pt es hi th zh ja ru ar pl nl tr ko vi sv uk el".split()
TRACKING = re.compile(r"^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|yclid)$", re.I)
BOILERPLATE = [
    "We use cookies to improve your experience on our website. By continuing to browse, you agree to our "
    "use of cookies.",
    "Subscribe to our newsletter to get the latest stories delivered straight to your inbox.",
    "© 2024 Example Media Group. All rights reserved.",
    "Follow us on Facebook, Twitter and Instagram for daily updates and behind-the-scenes stories.",
    "This article was originally published by our partner network and is republished with permission.",
    "Download our free app for iOS and Android to read all articles offline.",
    "If you enjoyed this article, please share it with your friends and colleagues.",
    "Advertisement – the article continues below this message from our sponsors.",
]


# ----------------------------------------------------------------------------- helpers
def b32sha1(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def gz_member(data: bytes) -> bytes:
    """One gzip member with fixed header fields (mtime=0, XFL=2, OS=255): byte-identical on rebuild."""
    co = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    body = co.compress(data) + co.flush()
    trailer = struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + body + trailer


def wdate(d: datetime) -> str:
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def pdate(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def h(s: str) -> int:
    return int(hashlib.sha1(s.encode()).hexdigest()[:12], 16)


def host_ip(host: str) -> str:
    x = h(host.lower())
    return f"{(23, 34, 52, 88, 104, 151, 185, 193)[x % 8]}.{x >> 3 & 255}.{x >> 11 & 255}.{(x >> 19) % 254 + 1}"


def normalize_url(url: str) -> str:
    """URL key assumed by the expected URL dedup: lower-case scheme and host, no default port, no fragment,
    no tracking parameters (utm_*, fbclid, gclid, ...), no trailing slash (except for the root path)."""
    p = urlsplit(url.strip())
    scheme, host = p.scheme.lower(), (p.hostname or "").lower()
    netloc = host if p.port in (None, {"http": 80, "https": 443}.get(scheme)) else f"{host}:{p.port}"
    query = "&".join(kv for kv in p.query.split("&") if kv and not TRACKING.match(kv.split("=")[0]))
    return urlunsplit((scheme, netloc, p.path.rstrip("/") or "/", query, ""))


def strip_tags(s: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", s))).strip()


def long_paragraphs(doc: str, min_chars: int = 100) -> list[re.Match]:
    """Main-body paragraphs: the longest run of consecutive long <p> elements with the same opening tag
    (e.g. all <p class="rez">); sidebars, teasers and footers rarely belong to the article's run."""
    runs: list[list[re.Match]] = []
    for m in re.finditer(r"(<p\b[^>]*>)(.*?)</p\s*>", doc, re.S | re.I):
        if "<p" in m.group(2).lower() or len(strip_tags(m.group(2))) < min_chars:
            continue
        if runs and runs[-1][-1].group(1) == m.group(1):
            runs[-1].append(m)
        else:
            runs.append([m])
    return max(runs, key=len, default=[])


def insert_after(doc: str, para: int, snippet: str) -> str:
    """Insert snippet after the para-th main-body paragraph (clamped to the last one)."""
    ps = long_paragraphs(doc)
    end = ps[min(para, len(ps) - 1)].end()
    return doc[:end] + "\n" + snippet + doc[end:]


def paras(lines: list[str], per: int = 1) -> str:
    return "\n".join(f"<p>{html.escape(' '.join(lines[i:i + per]))}</p>" for i in range(0, len(lines), per))


def article(title: str, body: str, lang: str = "en", head: str = "", charset: str | None = "utf-8") -> str:
    meta = f'<meta charset="{charset}">\n' if charset else ""
    rtl = ' dir="rtl"' if lang == "ar" else ""
    t = html.escape(title)
    return (f'<!DOCTYPE html>\n<html lang="{lang}"{rtl}>\n<head>\n{meta}<title>{t}</title>\n{head}</head>\n'
            '<body>\n<header><nav><a href="/">Home</a> | <a href="/archive">Archive</a></nav></header>\n'
            f"<main>\n<article>\n<h1>{t}</h1>\n{body}\n</article>\n</main>\n"
            "<footer><p>Contact | Imprint | Privacy</p></footer>\n</body>\n</html>\n")


def title_of(sentence: str, lang: str) -> str:
    return sentence[:28] if lang in ("zh", "ja", "th", "ko") else " ".join(sentence.split()[:8])


# ----------------------------------------------------------------------------- inputs
@dataclass
class Fetch:
    """One capture, written as request + response (or revisit) + metadata records."""
    url: str
    date: datetime
    case: str
    payload: bytes = b""
    ctype: str | None = "text/html; charset=UTF-8"
    status: str = "200 OK"
    group: str | None = None
    expect: str = "keep"
    expect_text: str | None = None
    source: str = "synthetic"
    extra_http: list = field(default_factory=list)
    http_head: bytes | None = None  # verbatim HTTP header block (real crawl records)
    request: bytes | None = None  # verbatim request block
    metadata: bytes | None = None  # verbatim metadata block
    ip: str | None = None
    truncated: str | None = None  # WARC-Truncated reason (payload already cut)
    full_len: int | None = None  # original payload length of a truncated body (HTTP Content-Length)
    clip: float | None = None  # clipped record: only this fraction of the block is written
    revisit: tuple | None = None  # (WARC-Profile, referred Fetch)
    kind: str = "response"  # response | revisit | request_only
    shard: int | None = None
    ident: str | None = None  # WARC-Identified-Payload-Type


@dataclass
class Page:
    name: str
    url: str
    raw: bytes
    gz_size: int
    text: str | None  # decoded text of pages that are valid UTF-8 and declare it (used for edits)
    charset: str | None

    def ctype(self) -> str:
        return f"text/html; charset={self.charset}" if self.charset else "text/html"


def load_pages(shared: Path) -> list[Page]:
    exp = json.loads((shared / "extraction_trafilatura_eval/expectations.json").read_text("utf-8"))
    pages = []
    for name in sorted(exp):
        path = shared / "extraction_trafilatura_eval/html" / (name + ".gz")
        raw = gzip.decompress(path.read_bytes())
        m = re.search(rb"<meta[^>]+charset=[\"']?([\w-]+)", raw[:8000], re.I)
        cs = m.group(1).decode().lower() if m else None
        try:
            text = raw.decode("utf-8") if cs == "utf-8" else None
        except UnicodeDecodeError:
            text = None
        pages.append(Page(name, exp[name]["url"], raw, path.stat().st_size, text, cs))
    return pages


def clean_url(url: str) -> str | None:
    """Eval URL as a fetchable absolute URL (IDN host as punycode, spaces escaped); None if unusable."""
    p = urlsplit(url.strip())
    if p.scheme not in ("http", "https") or not p.hostname:
        return None
    host = p.hostname.encode("idna").decode()
    return urlunsplit((p.scheme, host, p.path.replace(" ", "%20"), p.query.replace(" ", "%20"), p.fragment))


def load_sentences(shared: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in (shared / "langid_lingua/sentences_dev.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        text = unicodedata.normalize("NFC", " ".join(r["text"].split()))
        if text.isprintable() and 20 <= len(text) <= 300:
            out.setdefault(r["lang"], []).append(text)
    return out


def read_warc(path: Path) -> list[tuple[dict, bytes]]:
    """Minimal reader for the small, well-formed real excerpts: [(WARC headers, block)]."""
    data, out, pos = gzip.decompress(path.read_bytes()), [], 0
    while (pos := data.find(b"WARC/", pos)) >= 0:
        end = data.index(b"\r\n\r\n", pos)
        hdr = dict(x.split(":", 1) for x in data[pos:end].decode("utf-8").split("\r\n")[1:])
        hdr = {k: v.strip() for k, v in hdr.items()}
        n = int(hdr["Content-Length"])
        out.append((hdr, data[end + 4:end + 4 + n]))
        pos = end + 4 + n
    return out


def head_ctype(head: bytes) -> str | None:
    m = re.search(rb"(?im)^content-type:[ \t]*([^\r\n]*)", head)
    return m.group(1).decode("latin-1").strip() if m else None


class Blocklists:
    """UT1 adult domains (streamed; only the names needed are kept) and datatrove's banned URL words."""

    def __init__(self, shared: Path, hosts: set[str]):
        bw = shared / "blocklists/datatrove_banned_words"

        def words(f: str) -> list[str]:
            return [w.strip() for w in (bw / f).read_text("utf-8").splitlines() if w.strip()[:1] not in "#"]

        self.banned, self.subwords, self.soft = (words(f) for f in ("banned_words.txt", "banned_subwords.txt",
                                                                    "soft_banned_words.txt"))
        self.path = shared / "blocklists/ut1_datatrove_url_filter/domains.gz"
        self.checked: set[str] = set()
        self.listed: set[str] = set()
        self.picks: list[str] = []  # first plain registered domains of the (sorted) list
        self.ensure(hosts, pick=True)

    @staticmethod
    def names(host: str) -> set[str]:
        parts = host.lower().split(".")
        return {".".join(parts[i:]) for i in range(len(parts) - 1)}

    def ensure(self, hosts: set[str], pick: bool = False) -> None:
        """Stream the 4.6M-line list once for all host suffixes not looked up yet."""
        todo = set().union(*(self.names(x) for x in hosts)) - self.checked
        if not todo and not pick:
            return
        plain = re.compile(r"^[a-z]{5,15}\.(com|net|org)$")
        with gzip.open(self.path, "rt", encoding="utf-8") as f:
            for line in f:
                d = line.strip()
                if d in todo:
                    self.listed.add(d)
                if pick and plain.match(d) and (len(self.picks) < 6 or d < self.picks[-1]):
                    self.picks = sorted([*self.picks, d])[:6]
        self.checked |= todo

    def blocked(self, url: str) -> bool:
        """Host or a parent domain listed (a superset of datatrove's registered-domain/FQDN match)."""
        names = self.names(urlsplit(url).hostname or "")
        assert names <= self.checked, f"host of {url} not looked up"
        return bool(names & self.listed)

    def banned_word(self, url: str) -> bool:
        return bool(set(re.split(r"[^a-z0-9]+", url.lower())) & set(self.banned))

    def any_hit(self, url: str) -> bool:
        """Blocked, banned word, banned subword or 2+ soft-banned words: such eval pages are left out."""
        words = re.split(r"[^a-z0-9]+", url.lower())
        spaced = " ".join(words)
        return (self.blocked(url) or self.banned_word(url) or any(w in spaced for w in self.subwords)
                or len(set(words) & set(self.soft)) >= 2)


class Ctx:
    """Shared state of the case builders: seeded RNG, fetch clock, eval-page pool, sentence pools."""

    def __init__(self, shared: Path, pages: list[Page], bl: Blocklists):
        self.shared, self.bl, self.rng, self.clock = shared, bl, random.Random(SEED), BASE
        self.sent = load_sentences(shared)
        seen, self.pool = set(), []
        for p in pages:
            u = clean_url(p.url)
            ok = u == p.url and "#" not in u and "web.archive.org" not in u and p.gz_size <= MAX_GZ_PAGE
            if ok and not bl.any_hit(u) and normalize_url(u) not in seen:
                seen.add(normalize_url(u))
                self.pool.append(p)
        self.rng.shuffle(self.pool)

    def when(self) -> datetime:
        self.clock += timedelta(seconds=self.rng.randrange(20, 400))
        return self.clock

    def page(self, min_paras: int = 0) -> Page:
        for i, p in enumerate(self.pool):
            if min_paras == 0 or (p.text and len(long_paragraphs(p.text)) >= min_paras):
                return self.pool.pop(i)
        raise RuntimeError("eval page pool exhausted")

    def sentences(self, lang: str, n: int, codec: str = "utf-8") -> list[str]:
        out = []
        for s in list(self.sent[lang]):
            if len(out) == n:
                break
            try:
                s.encode(codec)
            except UnicodeEncodeError:
                continue
            self.sent[lang].remove(s)
            out.append(s)
        return out

    def eval_fetch(self, p: Page, case: str, doc: str | None = None, url: str | None = None, **kw) -> Fetch:
        payload = p.raw if doc is None else doc.encode("utf-8")
        return Fetch(url or p.url, kw.pop("date", None) or self.when(), case, payload, p.ctype(),
                     source=f"trafilatura_eval:{p.name}", **kw)


# ----------------------------------------------------------------------------- cases: real pages
def case_ordinary(ctx: Ctx) -> list[Fetch]:
    return [ctx.eval_fetch(ctx.page(), "ordinary") for _ in range(N_ORDINARY)]


def case_cc_excerpts(ctx: Ctx) -> list[Fetch]:
    """All HTML responses of the real Common Crawl excerpts with their URLs, dates, IPs, requests, metadata."""
    out = []
    for rel, src in [("chatnoir-eu_chatnoir-resiliparse/warcfile.warc.gz", "cc:CC-MAIN-2020-34"),
                     ("iipc_jwarc/cc.warc.gz", "cc:2019-12"),
                     ("commoncrawl_whirlwind-python/whirlwind.warc.gz", "cc:CC-MAIN-2024-22")]:
        recs = read_warc(ctx.shared / "warc_samples" / rel)
        blocks = {hd["WARC-Record-ID"]: b for hd, b in recs}
        meta = {hd["WARC-Concurrent-To"]: b for hd, b in recs if hd["WARC-Type"] == "metadata"}
        used = {hd.get("WARC-Concurrent-To") for hd, _ in recs if hd["WARC-Type"] == "response"}
        for hd, block in recs:
            url, date, ip = hd.get("WARC-Target-URI"), hd["WARC-Date"], hd.get("WARC-IP-Address")
            if hd["WARC-Type"] == "response":
                head, _, payload = block.partition(b"\r\n\r\n")
                out.append(Fetch(url, pdate(date), "ordinary", payload, head_ctype(head), source=src, ip=ip,
                                 http_head=head + b"\r\n\r\n", request=blocks.get(hd.get("WARC-Concurrent-To")),
                                 metadata=meta.get(hd["WARC-Record-ID"]),
                                 ident=hd.get("WARC-Identified-Payload-Type")))
            elif hd["WARC-Type"] == "request" and hd["WARC-Record-ID"] not in used:  # response not in excerpt
                out.append(Fetch(url, pdate(date), "extra_request", source=src, request=block, ip=ip,
                                 kind="request_only", expect="reject:not_response"))
    return out


def case_clueweb(ctx: Ctx) -> list[Fetch]:
    """Three EUC-JP ClueWeb09 pages (1 and 2: one product under two paths, a natural near-duplicate).
    Their bare-LF HTTP headers are normalised to CRLF, the false Content-Encoding renamed as CC does."""
    recs = read_warc(ctx.shared / "warc_samples/chatnoir-eu_chatnoir-resiliparse/clueweb-quirk.warc.gz")
    out = []
    for i in (1, 2, 15):
        hd, block = recs[i]
        head, _, payload = block.partition(b"\n\n")
        lines = [ln.replace("Content-Encoding", "X-Crawler-Content-Encoding")
                 for ln in head.decode("latin-1").split("\n") if not ln.lower().startswith("content-length")]
        http_date = next(ln.split(": ", 1)[1] for ln in lines if ln.startswith("Date:"))
        date = datetime.strptime(http_date, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=timezone.utc)
        head2 = ("\r\n".join(lines) + f"\r\nContent-Length: {len(payload)}\r\n\r\n").encode("latin-1")
        out.append(Fetch(hd["WARC-Target-URI"], date, "encoding:euc-jp", payload, head_ctype(head2),
                         group="near-clueweb" if i < 3 else None, source="clueweb09-ja", http_head=head2,
                         expect_text="人気ランキング"))
    return out


def variant(url: str, kind: str) -> str:
    """A URL variant that normalises to the same key as url."""
    p = urlsplit(url)
    port = {"http": 80, "https": 443}[p.scheme]
    query = {"utm": "utm_source=newsletter&utm_medium=email&utm_campaign=weekly",
             "fbclid": "fbclid=IwAR2vXh7QpLk0Tn9sFz3cYbE1uMdRg", "gclid": "gclid=EAIaIQobChMI8oX2v4aD9QIV"}
    if kind in query:
        return urlunsplit((p.scheme, p.netloc, p.path, "&".join(filter(None, [p.query, query[kind]])), ""))
    return {"same": url, "fragment": url + "#comments",
            "upper": urlunsplit((p.scheme.upper(), p.netloc.upper(), p.path, p.query, "")),
            "port": urlunsplit((p.scheme, f"{p.netloc}:{port}", p.path, p.query, "")),
            "upper_port": urlunsplit((p.scheme.upper(), f"{p.netloc.upper()}:{port}", p.path, p.query, "")),
            "slash": urlunsplit((p.scheme, p.netloc, p.path[:-1] if p.path.endswith("/") else p.path + "/",
                                 p.query, ""))}[kind]


REFETCH = [  # (case, "variant@WARC-Date ..."): one normalised URL fetched at different dates
    ("url_refetch", "same@2023-03-14T08:12:44Z same@2024-01-09T17:40:09Z same@2023-09-21T03:21:30Z"),
    ("url_refetch", "same@2022-12-02T11:05:51Z same@2024-02-27T06:44:13Z"),
    ("url_variant", "upper_port@2024-03-05T14:22:08Z same@2023-08-17T09:31:55Z"),
    ("url_variant", "same@2023-05-11T20:18:37Z fragment@2023-10-30T07:02:26Z utm@2024-01-22T12:48:03Z"),
    ("url_variant", "fbclid@2024-04-02T16:09:41Z gclid@2023-12-14T05:57:19Z same@2023-02-06T22:33:12Z"),
    ("url_variant", "slash@2024-02-19T10:14:27Z port@2023-07-08T18:26:44Z upper@2022-11-15T13:51:02Z"),
    ("same_date_tie", "same@2024-01-15T10:00:00Z same@2024-01-15T10:00:00Z"),
    ("same_date_tie", "same@2023-06-01T08:30:00Z upper@2024-03-01T12:00:00Z same@2024-03-01T12:00:00Z"),
]


def case_refetch(ctx: Ctx) -> list[Fetch]:
    """Each fetch carries a different 'Last updated' line; fetches of one URL go to different shards."""
    out = []
    for g, (case, plan) in enumerate(REFETCH):
        p = ctx.page(3)
        for j, (kind, date) in enumerate(x.split("@") for x in plan.split()):
            note = f'<p class="updated">Last updated {date[:10]} (revision {j + 1} of this page).</p>'
            out.append(ctx.eval_fetch(p, case, insert_after(p.text, 0, note), variant(p.url, kind),
                                      date=pdate(date), group=f"refetch-{g}", shard=(g + 2 * j) % N_SHARDS))
    return out


def mirror_urls(url: str) -> list[str]:
    p = urlsplit(url)
    return [f"https://www.example.net/mirror/{p.hostname}{p.path}", f"http://archive.example.com{p.path}",
            f"https://reader.example.org/a/{h(url) % 10**8:08d}"]


def case_exact_dups(ctx: Ctx) -> list[Fetch]:
    """5 real pages, each copied byte-for-byte to 2 or 3 other domains."""
    out = []
    for i, copies in enumerate([2, 3, 2, 2, 3]):
        p = ctx.page()
        for j, u in enumerate([p.url] + mirror_urls(p.url)[:copies]):
            out.append(ctx.eval_fetch(p, "exact_dup", url=u, group=f"exact-{i}", shard=(i + j) % N_SHARDS))
    return out


AD = ("<p>Advertisement: Save 20% on your first order with code SPRING20 – free shipping on all orders "
      "over $50, shop now!</p>")


def nd_change(doc: str) -> str:
    """Replace the last sentence of the 2nd main paragraph by the first sentence of the last one."""
    ps = long_paragraphs(doc)
    target, donor = strip_tags(ps[1].group(2)), strip_tags(ps[-1].group(2))
    sents = re.split(r"(?<=[.!?])\s+", target)
    new = (sents[:-1] if len(sents) > 1 else [target[: len(target) // 2]]) + re.split(r"(?<=[.!?])\s+", donor)[:1]
    return doc[: ps[1].start()] + "<p>" + html.escape(" ".join(new)) + "</p>" + doc[ps[1].end():]


def nd_ad(doc: str) -> str:
    return insert_after(doc, 2, AD)


def nd_truncate(doc: str) -> str:
    """Cut the ending: drop the last two main paragraphs."""
    for m in reversed(long_paragraphs(doc)[-2:]):
        doc = doc[: m.start()] + doc[m.end():]
    return doc


def case_near_dups(ctx: Ctx) -> list[Fetch]:
    """Group 0 is a chain A~B~C (B: changed sentence; C: B + ad line + cut ending): A and C differ most."""
    plans = [[[], [nd_change], [nd_change, nd_ad, nd_truncate]], [[], [nd_change]], [[], [nd_ad]],
             [[], [nd_truncate]], [[], [nd_change, nd_ad]]]
    out = []
    for i, plan in enumerate(plans):
        p = ctx.page(6)
        for j, ops in enumerate(plan):
            doc = p.text
            for op in ops:
                doc = op(doc)
            url = p.url if j == 0 else mirror_urls(p.url)[j - 1]
            out.append(ctx.eval_fetch(p, "near_dup", doc, url, group=f"near-{i}", shard=(i + 2 * j) % N_SHARDS))
    return out


def case_boilerplate(ctx: Ctx) -> list[Fetch]:
    """30 real pages, each with 3 of the 8 boilerplate lines as <p> inside the article body (~11 pages/line)."""
    out = []
    for i in range(30):
        p = ctx.page(4)
        doc = p.text
        for k, line in enumerate(sorted({i % 8, (i + 3) % 8, (i + 5) % 8})):
            doc = insert_after(doc, k, f"<p>{html.escape(BOILERPLATE[line])}</p>")
        out.append(ctx.eval_fetch(p, "boilerplate", doc, group="boilerplate"))
    return out


def case_pii_single(ctx: Ctx) -> list[Fetch]:
    p = ctx.page(3)
    doc = insert_after(p.text, 1, "<p>Tips and corrections: newsroom-tips@example.com</p>")
    return [ctx.eval_fetch(p, "pii_single", doc, expect_text="newsroom-tips@example.com")]


def case_truncated(ctx: Ctx) -> list[Fetch]:
    """WARC-Truncated records (body cut, HTTP Content-Length still the full size) and one clipped record
    (WARC Content-Length larger than the bytes present: placed last in the last shard)."""
    out = []
    for reason, frac in [("length", 0.6), ("length", 0.45), ("length", 0.7), ("time", 0.3)]:
        p = ctx.page()
        f = ctx.eval_fetch(p, "truncated", expect="reject:truncated", truncated=reason, full_len=len(p.raw))
        f.payload = p.raw[: int(len(p.raw) * frac)]
        out.append(f)
    out.append(ctx.eval_fetch(ctx.page(), "clipped", expect="reject:truncated", clip=0.55, shard=N_SHARDS - 1))
    return out


# ----------------------------------------------------------------------------- cases: synthetic pages
def case_languages(ctx: Ctx) -> list[Fetch]:
    out = []
    for lang in LANGS:
        for k in range(3):
            s = ctx.sentences(lang, ctx.rng.randint(8, 15))
            url = f"https://{lang}.example.org/article/{k + 1}-{h(s[0]) % 10**6:06d}.html"
            doc = article(title_of(s[0], lang), paras(s, 4), lang)
            out.append(Fetch(url, ctx.when(), f"lang:{lang}", doc.encode(), source="langid_lingua",
                             expect_text=s[1][:30]))
    return out


ENCODINGS = [  # (tag, lang, codec, HTTP Content-Type, in-document declaration)
    ("windows-1251", "ru", "cp1251", "text/html; charset=windows-1251", ""),
    ("iso-8859-2", "pl", "iso-8859-2", "text/html", '<meta charset="iso-8859-2">\n'),
    ("shift_jis", "ja", "shift_jis", "text/html",
     '<meta http-equiv="Content-Type" content="text/html; charset=shift_jis">\n'),
    ("utf-8-mislabeled", "fr", "utf-8", "text/html; charset=iso-8859-1", ""),
    ("cp1252-undeclared", "de", "cp1252", "text/html", ""),
    ("utf-8-bom", "el", "utf-8", "text/html", ""),
    ("utf-8-invalid-bytes", "pt", "utf-8", "text/html; charset=utf-8", ""),
]


def non_ascii_snippet(sentences: list[str]) -> str:
    """~30-45 characters around the first non-ASCII letter of the first sentence that has one."""
    s = next((x for x in sentences if any(ord(c) > 127 and c.isalpha() for c in x)), sentences[0])
    i = next((k for k, c in enumerate(s) if ord(c) > 127 and c.isalpha()), 0)
    if " " not in s:
        return s[max(0, i - 5): i + 15]
    start = s.rfind(" ", 0, max(i - 10, 0)) + 1
    end = s.find(" ", max(i + 1, start + 30))
    return s[start: end if end > 0 else len(s)]


def case_encodings(ctx: Ctx) -> list[Fetch]:
    """expect_text: a phrase with a non-ASCII letter from sentences 2-5 (stray bytes sit in 7, 9, 11)."""
    out = []
    for tag, lang, codec, ctype, meta in ENCODINGS:
        s = ctx.sentences(lang, 12, codec)
        payload = article(title_of(s[0], lang), paras(s, 3), lang, head=meta, charset=None).encode(codec)
        if tag == "utf-8-bom":
            payload = b"\xef\xbb\xbf" + payload
        if tag == "utf-8-invalid-bytes":  # stray bytes inside sentences 7, 9, 11 (away from expect_text)
            for bad, anchor in [(b"\xff", s[6]), (b"\xc3\x28", s[8]), (b"\x80\x80", s[10])]:
                a = html.escape(anchor).encode()
                payload = payload.replace(a, a[: len(a) // 2] + bad + a[len(a) // 2:], 1)
        url = f"http://{lang}-news.example.org/{tag}/article-{h(s[0]) % 10**5:05d}.html"
        out.append(Fetch(url, ctx.when(), f"encoding:{tag}", payload, ctype, source="langid_lingua",
                         expect_text=non_ascii_snippet(s[1:5])))
    return out


MATHML = ('<math xmlns="http://www.w3.org/1998/Math/MathML"{attr}><semantics>{mrow}'
          '<annotation encoding="application/x-tex">TEX</annotation></semantics></math>')
QUADRATIC = ("<mrow><mi>x</mi><mo>=</mo><mfrac><mrow><mo>−</mo><mi>b</mi><mo>±</mo><msqrt><mrow><msup><mi>b</mi>"
             "<mn>2</mn></msup><mo>−</mo><mn>4</mn><mi>a</mi><mi>c</mi></mrow></msqrt></mrow><mrow><mn>2</mn>"
             "<mi>a</mi></mrow></mfrac></mrow>")
GAUSS = ("<mrow><munderover><mo>∑</mo><mrow><mi>k</mi><mo>=</mo><mn>1</mn></mrow><mi>n</mi></munderover>"
         "<mi>k</mi><mo>=</mo><mfrac><mrow><mi>n</mi><mo>(</mo><mi>n</mi><mo>+</mo><mn>1</mn><mo>)</mo></mrow>"
         "<mn>2</mn></mfrac></mrow>")
MATH = [  # (kind, TeX source, HTML snippet with TEX as placeholder)
    ("mathml", r"x = \frac{-b \pm \sqrt{b^2 - 4ac}}{2a}",
     "<p>The solutions of a quadratic equation are given by " + MATHML.format(attr=' display="block"', mrow=QUADRATIC)
     + " whenever a is not zero.</p>"),
    ("mathjax2", r"\int_0^1 x^2 \, dx = \frac{1}{3}",
     '<p>Euler\'s identity <script type="math/tex">e^{i\\pi} + 1 = 0</script> links five constants, and the '
     'area under the parabola is</p>\n<script type="math/tex; mode=display">TEX</script>\n'
     "<p>which follows from the fundamental theorem of calculus.</p>"),
    ("katex", r"\sum_{k=1}^{n} k = \frac{n(n+1)}{2}",
     '<p>Gauss summed the first n integers: <span class="katex"><span class="katex-mathml">'
     + MATHML.format(attr="", mrow=GAUSS) + '</span><span class="katex-html" aria-hidden="true">'
     '<span class="base"><span class="mop op-symbol small-op">∑</span><span class="mord mathnormal">k</span>'
     '<span class="mrel">=</span><span class="mord"><span class="mfrac">n(n+1)/2</span></span></span></span>'
     "</span> in his head.</p>"),
    ("img-alt", r"\frac{a}{b}",
     '<p>A fraction <img class="latex" src="https://s0.wp.com/latex.php?latex=%5Cfrac%7Ba%7D%7Bb%7D&amp;'
     'bg=ffffff&amp;fg=000000&amp;s=0" alt="TEX" title="TEX" /> is defined for every non-zero b.</p>'),
]
CODE = '''def fibonacci(n):
    """Return the n-th Fibonacci number."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


if __name__ == "__main__":
    for i in range(10):
        print(i, fibonacci(i))
'''


def case_math_code(ctx: Ctx) -> list[Fetch]:
    out = []
    for kind, tex, snippet in MATH:
        s = ctx.sentences("en", 6)
        head = '<script src="https://cdn.example.com/mathjax/2.7.7/MathJax.js"></script>\n' * (kind == "mathjax2")
        body = paras(s[:3]) + "\n" + snippet.replace("TEX", html.escape(tex)) + "\n" + paras(s[3:])
        out.append(Fetch(f"https://math.example.org/notes/{kind}.html", ctx.when(), "math",
                         article(f"Notes on mathematics: {kind}", body, head=head).encode(),
                         source="synthetic+langid_lingua", expect_text=tex))
    s = ctx.sentences("en", 4)
    body = (paras(s[:2]) + "\n<p>The loop below keeps only the last two numbers:</p>\n"
            f'<pre><code class="language-python">{html.escape(CODE)}</code></pre>\n' + paras(s[2:]))
    out.append(Fetch("https://blog.example.com/2024/05/fibonacci-in-python/", ctx.when(), "code",
                     article("Computing Fibonacci numbers in Python", body).encode(),
                     source="synthetic+langid_lingua", expect_text="        a, b = b, a + b"))
    return out


def log_lines(rng: random.Random, n: int) -> list[str]:
    """Java/Python/Go-style log and stack-trace lines with varying numbers."""
    out, t = [], 8 * 3600 + rng.randrange(3600)
    r = rng.randrange
    while len(out) < n:
        t += r(1, 90)
        ts = f"2024-05-17 {t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d},{r(1000):03d}"
        out += [
            [f"{ts} ERROR [main] com.example.orders.OrderService - Failed to process order {r(10**6)}",
             'java.lang.NullPointerException: Cannot invoke "String.length()" because "value" is null',
             f"    at com.example.orders.OrderService.process(OrderService.java:{r(40, 400)})",
             f"    at com.example.orders.Worker.run(Worker.java:{r(20, 90)})"],
            [f"{ts} WARN  [pool-{r(1, 9)}-thread-{r(1, 33)}] o.a.h.c.HttpClient - Retrying "
             f"http://10.0.{r(256)}.{r(256)}:8080/api/v1/items (attempt {r(1, 6)}/5)"],
            ["Traceback (most recent call last):", f'  File "/srv/app/worker.py", line {r(50, 300)}, in run',
             "    result = handler(payload)", f"KeyError: 'user_{r(1000)}'"],
            [f"E0517 {ts[11:19]}.{r(10**6):06d}    {r(1000, 9999)} reflector.go:138] failed to list *v1.Pod: "
             "connection refused"],
            [f"{ts} INFO  [main] c.e.o.Scheduler - Processed batch {r(10**4)} in {r(5, 5000)} ms"],
        ][r(5)]
    return out[:n]


def case_spam(ctx: Ctx) -> list[Fetch]:
    rng, out = ctx.rng, []
    for n in (40, 70):  # real articles with log output pasted into the body in three chunks
        p = ctx.page(4)
        doc, lines = p.text, log_lines(rng, n)
        for k, chunk in enumerate((lines[: n // 3], lines[n // 3: 2 * n // 3], lines[2 * n // 3:])):
            doc = insert_after(doc, k, paras(chunk))
        out.append(ctx.eval_fetch(p, "log_spam", doc, group="log_spam"))
    for i in range(4):  # pages that are mostly log output (in <pre> or one <p> per line)
        lines = log_lines(rng, 150 + 50 * i)
        body = f"<pre>{html.escape(chr(10).join(lines))}</pre>" if i % 2 == 0 else paras(lines)
        doc = article(f"Console output of build #{4711 + i}", f"<p>Started by timer. Build failed.</p>\n{body}")
        out.append(Fetch(f"https://ci.example.net/job/orders-service/{4711 + i}/console", ctx.when(), "log_spam",
                         doc.encode(), group="log_spam"))
    phrase = "Best cheap flights to Paris, book now and save big!"
    out.append(Fetch("http://cheap-flights.example.com/paris/", ctx.when(), "repeated_phrase",
                     article("Cheap flights to Paris", paras([phrase] * 480, 12)).encode()))
    chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!?#%&"
    tokens = ["".join(rng.choice(chars) for _ in range(rng.randint(2, 12))) for _ in range(1200)]
    out.append(Fetch("http://x7q2.example.net/index.php?id=9f3k", ctx.when(), "garbage",
                     article("x7q2", paras(tokens, 60)).encode()))
    return out


def case_blocked(ctx: Ctx) -> list[Fetch]:
    """First 5 plain UT1 domains, a cdn. subdomain of the 6th, and 3 banned words in normal URLs."""
    bl, out = ctx.bl, []
    urls = [(f"https://{d}/index.html", "blocked_domain", "reject:blocked_domain") for d in bl.picks[:5]]
    urls.append((f"https://cdn.{bl.picks[5]}/gallery/page-2.html", "blocked_subdomain", "reject:blocked_domain"))
    urls += [(f"https://www.example.net/forum/{w}/thread-{101 + i}.html", "banned_url_word",
              "reject:banned_url_word") for i, w in enumerate(bl.banned[:3])]
    for url, case, expect in urls:
        doc = article("Welcome", paras(ctx.sentences("en", 4)))
        out.append(Fetch(url, ctx.when(), case, doc.encode(), expect=expect))
    return out


FIRST = "Anna Ben Carla David Emma Felix Greta Hugo Ines Jonas Klara Lukas Mia Noah Olga Paul Rosa Sven".split()
LAST = "Miller Schmidt Novak Rossi Dubois Garcia Kowalski Jensen Silva Yilmaz Tanaka Okafor Larsen Weber".split()
PHONES = ["+1 415-555-01{:02d}", "(212) 555-01{:02d}", "+49 30 901820{:02d}", "+44 20 7946 09{:02d}",
          "030/12345{:02d}"]


def case_pii_heavy(ctx: Ctx) -> list[Fetch]:
    """6 staff-directory pages on one host, full of e-mail addresses, phone numbers and IP addresses."""
    rng, out = ctx.rng, []
    for dept in ["sales", "support", "engineering", "finance", "press", "it-operations"]:
        lines = []
        for _ in range(30):
            f, la = rng.choice(FIRST), rng.choice(LAST)
            ip = rng.choice(["192.0.2.", "198.51.100.", "203.0.113.", "10.20.30."]) + str(rng.randrange(1, 255))
            lines.append(f"{f} {la}, {dept} – e-mail {f.lower()}.{la.lower()}@example.com, phone "
                         f"{rng.choice(PHONES).format(rng.randrange(100))}, mobile +1 650-555-01"
                         f"{rng.randrange(100):02d}, last login from {ip}")
        lines.append(f"Questions about this list: {dept}-admin@example.com or hr@example.org, fax +1 415-555-0199.")
        out.append(Fetch(f"https://directory.example.com/staff/{dept}.html", ctx.when(), "pii_heavy",
                         article(f"Staff directory: {dept}", paras(lines)).encode(), group="pii_heavy"))
    return out


PDF = (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type "
       b"/Pages /Kids [3 0 R] /Count 1 >>\nendobj\n3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
       b">>\nendobj\nxref\n0 4\n0000000000 65535 f \n0000000015 00000 n \n0000000064 00000 n \n0000000121 00000 n "
       b"\ntrailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n190\n%%EOF\n")


def case_non_html(ctx: Ctx) -> list[Fetch]:
    rng = ctx.rng
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + rng.randbytes(1500) + b"\xff\xd9"
    data = json.dumps({"id": 4711, "status": "ok", "items": [{"sku": f"A-{i}", "qty": i} for i in range(5)]})
    css = "body { font-family: Georgia, serif; margin: 0 auto; max-width: 42em; }\n.nav a { color: #0645ad; }\n"
    zipped = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + rng.randbytes(600)
    specs = [
        ("https://static.example.com/reports/annual-2023.pdf", "application/pdf", PDF, "application/pdf"),
        ("https://static.example.com/img/header.jpg", "image/jpeg", jpeg, "image/jpeg"),
        ("https://api.example.com/v1/orders/4711", "application/json; charset=utf-8", data.encode(),
         "application/json"),
        ("https://static.example.com/notes/readme.txt", "text/plain; charset=utf-8",
         "\n".join(ctx.sentences("en", 6)).encode(), "text/plain"),
        ("https://static.example.com/css/site.css", "text/css", css.encode(), "text/css"),
        ("https://downloads.example.com/get?file=archive", None, zipped, "application/zip"),  # no Content-Type
    ]
    return [Fetch(url, ctx.when(), "non_html", payload, ctype, ident=ident, expect="reject:non_html")
            for url, ctype, payload, ident in specs]


def case_non_200(ctx: Ctx) -> list[Fetch]:
    def err(msg: str) -> bytes:
        return article(msg, f"<p>{msg[4:]}. The page you requested could not be served.</p>").encode()

    def moved(loc: str) -> bytes:
        return f'<html><body><p>Moved to <a href="{loc}">{loc}</a></p></body></html>'.encode()

    fib = "https://blog.example.com/2024/05/fibonacci-in-python/"
    specs = [
        ("https://www.example.com/news/2019/old-article.html", "404 Not Found", err("404 Not Found"), []),
        ("http://blog.example.com/?p=4711", "301 Moved Permanently", moved(fib), [("Location", fib)]),
        ("https://shop.example.com/account/orders", "302 Found", moved("https://shop.example.com/login"),
         [("Location", "https://shop.example.com/login?next=%2Faccount%2Forders")]),
        ("https://www.example.com/search?q=weather", "500 Internal Server Error",
         err("500 Internal Server Error"), []),
        ("https://math.example.org/notes/index.html", "304 Not Modified", b"", [("ETag", '"5e1f-61a2b3c4"')]),
    ]
    return [Fetch(url, ctx.when(), "non_200", payload, "text/html; charset=UTF-8" if payload else None,
                  status=status, extra_http=extra, expect="reject:http_status")
            for url, status, payload, extra in specs]


def case_no_text(ctx: Ctx) -> list[Fetch]:
    """Pages without extractable text, and the giant page (~4 MB: 75,000 tiny cells, then 5,000 nested divs;
    bare trafilatura needs over a minute for it, so the pipeline's extraction time limit must reject it)."""
    shell = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title></title><script src="/static/js/main.3f9a'
             '.js"></script></head><body><div id="root"></div></body></html>')
    frames = ('<html><head><title></title></head><frameset cols="20%,80%"><frame src="menu.html">'
              '<frame src="content.html"></frameset></html>')
    out = [Fetch(url, ctx.when(), "empty_page", doc.encode(), expect="reject:extraction")
           for url, doc in [("https://app.example.com/dashboard", shell), ("http://frames.example.net/", frames)]]
    body = ("<p>This page is deliberately pathological: tens of thousands of tiny cells followed by deeply "
            "nested elements, to exercise the extraction time limit.</p>\n"
            + '<div class="cell"><span>lorem</span> <b>ipsum</b></div>' * 75000 + "<div>" * 5000 + "</div>" * 5000)
    out.append(Fetch("https://giant.example.net/grid.html", ctx.when(), "giant", article("Giant grid", body).encode(),
                     expect="reject:extraction"))
    return out


def case_revisits(dups: list[Fetch], ordinary: list[Fetch]) -> list[Fetch]:
    """Two identical-payload-digest revisits (of an exact-dup page and of one of its copies) and one
    server-not-modified revisit (HTTP 304) of an ordinary page, 30-44 days after the original fetch."""
    idp = "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest"
    snm = "http://netpreserve.org/warc/1.0/revisit/server-not-modified"
    return [Fetch(ref.url, ref.date + timedelta(days=30 + 7 * i), "revisit", ref.payload, ref.ctype, kind="revisit",
                  revisit=(prof, ref), group=ref.group, expect="reject:not_response",
                  status="304 Not Modified" if prof == snm else "200 OK")
            for i, (prof, ref) in enumerate([(idp, dups[0]), (idp, dups[1]), (snm, ordinary[0])])]


# ----------------------------------------------------------------------------- writing
def http_head(f: Fetch) -> bytes:
    if f.http_head is not None:
        return f.http_head
    lines = [f"HTTP/1.1 {f.status}", f"Date: {format_datetime(f.date, usegmt=True)}",
             f"Server: {('nginx', 'Apache', 'cloudflare')[h(f.url) % 3]}"]
    lines += [f"Content-Type: {f.ctype}"] * bool(f.ctype) + [f"{k}: {v}" for k, v in f.extra_http]
    lines += ["X-Crawler-Content-Encoding: gzip"] * bool(f.ctype and "html" in f.ctype and len(f.payload) > 512)
    lines += [f"Content-Length: {f.full_len or len(f.payload)}"] * (f.kind != "revisit")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def request_block(f: Fetch) -> bytes:
    if f.request is not None:
        return f.request
    p = urlsplit(f.url)
    return (f"GET {p.path or '/'}{'?' * bool(p.query)}{p.query} HTTP/1.1\r\n"
            "User-Agent: CCBot/2.0 (https://commoncrawl.org/faq/)\r\n"
            "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
            "Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: br,gzip\r\n"
            f"Host: {(p.hostname or '').lower()}\r\nConnection: Keep-Alive\r\n\r\n").encode()


def warc_record(fields: list[tuple[str, str]], block: bytes, clip: float | None = None) -> bytes:
    """Header fields follow Common Crawl's order; Content-Length goes after WARC-Record-ID."""
    fields = fields[:3] + [("Content-Length", str(len(block)))] + fields[3:]
    head = ("WARC/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields) + "\r\n").encode()
    if clip is not None:  # clipped: Content-Length promises the full block, the file ends early
        return head + block[: int(len(block) * clip)]
    return head + block + b"\r\n\r\n"


def fetch_records(f: Fetch, rid, start: int, info_id: str) -> list[tuple[str, str, bytes]]:
    """[(WARC-Type, record id, serialized record)] of one fetch; rid(i) gives the id of record i."""
    roles = {"request_only": ["request"], "revisit": ["request", "revisit"],
             "response": ["request", "response"] + ["metadata"] * (f.clip is None)}[f.kind]
    ids = {role: rid(start + k) for k, role in enumerate(roles)}
    ip, d, info = f.ip or host_ip(urlsplit(f.url).hostname or ""), wdate(f.date), f"<urn:uuid:{info_id}>"
    out = []
    for role in roles:
        common = [("WARC-Type", role), ("WARC-Date", d), ("WARC-Record-ID", f"<urn:uuid:{ids[role]}>")]
        if role == "request":
            block = request_block(f)
            fields = [("Content-Type", "application/http; msgtype=request"), ("WARC-Warcinfo-ID", info),
                      ("WARC-IP-Address", ip), ("WARC-Target-URI", f.url), ("WARC-Payload-Digest", b32sha1(b"")),
                      ("WARC-Block-Digest", b32sha1(block))]
        elif role == "metadata":
            block = f.metadata or f"fetchTimeMs: {h(f.url + d) % 1900 + 60}\r\n".encode()
            fields = [("Content-Type", "application/warc-fields"), ("WARC-Warcinfo-ID", info),
                      ("WARC-Concurrent-To", f"<urn:uuid:{ids['response']}>"), ("WARC-Target-URI", f.url),
                      ("WARC-Block-Digest", b32sha1(block))]
        elif role == "revisit":
            prof, ref = f.revisit
            block = http_head(f)
            fields = [("Content-Type", "message/http"), ("WARC-Warcinfo-ID", info),
                      ("WARC-Concurrent-To", f"<urn:uuid:{ids['request']}>"), ("WARC-IP-Address", ip),
                      ("WARC-Target-URI", f.url)]
            fields += [("WARC-Payload-Digest", b32sha1(ref.payload))] * ("identical" in prof)
            fields += [("WARC-Block-Digest", b32sha1(block)), ("WARC-Profile", prof),
                       ("WARC-Refers-To-Target-URI", ref.url), ("WARC-Refers-To-Date", wdate(ref.date))]
        else:
            block = http_head(f) + f.payload
            fields = [("Content-Type", "application/http; msgtype=response"), ("WARC-Warcinfo-ID", info),
                      ("WARC-Concurrent-To", f"<urn:uuid:{ids['request']}>"), ("WARC-IP-Address", ip),
                      ("WARC-Target-URI", f.url), ("WARC-Payload-Digest", b32sha1(f.payload)),
                      ("WARC-Block-Digest", b32sha1(block))]
            fields += [("WARC-Truncated", f.truncated)] * bool(f.truncated)
            ident = f.ident or (f.ctype or "").split(";")[0]
            fields += [("WARC-Identified-Payload-Type", ident)] * bool(f.payload and ident)
        out.append((role, ids[role], warc_record(common + fields, block, f.clip if role == "response" else None)))
    return out


def layout(fetches: list[Fetch], n: int, seed: int) -> list[list[Fetch]]:
    """Round-robin the fetches without a fixed shard, then shuffle each shard (clipped record last)."""
    rng = random.Random(seed)
    free = [f for f in fetches if f.shard is None]
    rng.shuffle(free)
    for i, f in enumerate(free):
        f.shard = i % n
    shards = [[f for f in fetches if f.shard == s] for s in range(n)]
    for s in shards:
        rng.shuffle(s)
        s.sort(key=lambda f: f.clip is not None)
    return shards


def assign_expectations(rows: list[dict], bl: Blocklists) -> None:
    """Block lists for responses still marked keep (a guard: the sample avoids accidental hits), then URL
    dedup: per normalised URL the most recent WARC-Date wins, ties broken by the smallest WARC-Record-ID."""
    keep = [r for r in rows if r["warc_type"] == "response" and r["expect"] == "keep"]
    bl.ensure({urlsplit(r["url"]).hostname or "" for r in keep})
    by_key: dict[str, list[dict]] = {}
    for r in keep:
        if bl.blocked(r["url"]):
            r["expect"] = "reject:blocked_domain"
        elif bl.banned_word(r["url"]):
            r["expect"] = "reject:banned_url_word"
        else:
            by_key.setdefault(normalize_url(r["url"]), []).append(r)
    for group in by_key.values():
        group.sort(key=lambda r: (-pdate(r["date"]).timestamp(), r["record_id"]))
        for r in group[1:]:
            r["expect"] = "reject:url_duplicate"
        assert len(group) == 1 or group[0]["group"], f"unintended URL collision: {[r['url'] for r in group]}"


WARCINFO = (b"isPartOf: llama3-curation-sample\r\npublisher: sample_data/build_sample_data.py (Common Crawl-style "
            b"test data, not a crawl)\r\ndescription: real pages and Common Crawl excerpts re-wrapped, plus synthetic "
            b"edge cases; see sample_data/README.md\r\nformat: WARC File Format 1.1\r\nconformsTo: "
            b"https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n")


def write_shards(shards: list[list[Fetch]], out: Path, prefix: str, manifest: Path, bl: Blocklists | None):
    out.mkdir(parents=True, exist_ok=True)
    rows, blobs = [], []
    for s, fetches in enumerate(shards):
        name = f"{prefix}-{s:04d}.warc.gz"

        def rid(i: int, name: str = name) -> str:
            return str(uuid.uuid5(NS, f"{name}#{i}"))

        info = [("WARC-Type", "warcinfo"), ("WARC-Date", wdate(BASE)), ("WARC-Record-ID", f"<urn:uuid:{rid(0)}>"),
                ("Content-Type", "application/warc-fields"), ("WARC-Filename", name),
                ("WARC-Block-Digest", b32sha1(WARCINFO))]
        members = [gz_member(warc_record(info, WARCINFO))]
        rows.append(dict(shard=name, index=0, warc_type="warcinfo", record_id=rid(0), url=None, date=wdate(BASE),
                         case="warcinfo", group=None, expect="reject:not_response", expect_text=None,
                         http_status=None, content_type=None, source="synthetic"))
        for f in fetches:
            for role, record_id, data in fetch_records(f, rid, len(members), rid(0)):
                main = role in ("response", "revisit")
                rows.append(dict(shard=name, index=len(members), warc_type=role, record_id=record_id, url=f.url,
                                 date=wdate(f.date), case=f.case, group=f.group,
                                 expect=f.expect if role == "response" else "reject:not_response",
                                 expect_text=f.expect_text if role == "response" else None,
                                 http_status=int(f.status.split()[0]) if main else None,
                                 content_type=f.ctype if role == "response" else None, source=f.source))
                members.append(gz_member(data))
        blobs.append((out / name, b"".join(members)))
    if bl is not None:
        assign_expectations(rows, bl)
    for old in out.glob(f"{prefix}-*.warc.gz"):
        old.unlink()
    for path, blob in blobs:
        path.write_bytes(blob)
    manifest.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return rows


# ----------------------------------------------------------------------------- main
def build_sample(shared: Path, out: Path, manifest: Path) -> list[dict]:
    pages = load_pages(shared)
    bl = Blocklists(shared, {urlsplit(u).hostname for u in map(clean_url, (p.url for p in pages)) if u})
    ctx = Ctx(shared, pages, bl)
    dups = case_exact_dups(ctx)
    from_eval = [case_refetch(ctx), dups, case_near_dups(ctx), case_boilerplate(ctx), case_spam(ctx),
                 case_pii_single(ctx), case_truncated(ctx)]  # edited eval pages first, then plain ones
    ordinary = case_ordinary(ctx)
    others = [case_cc_excerpts(ctx), case_clueweb(ctx), case_languages(ctx), case_encodings(ctx),
              case_math_code(ctx), case_blocked(ctx), case_pii_heavy(ctx), case_non_html(ctx),
              case_non_200(ctx), case_no_text(ctx), case_revisits(dups, ordinary)]
    fetches = [f for part in from_eval + [ordinary] + others for f in part]
    return write_shards(layout(fetches, N_SHARDS, SEED), out, "sample", manifest, bl)


def build_bench(shared: Path, out: Path, n: int, copies: int = 1) -> list[dict]:
    """All 990 trafilatura eval pages as ordinary fetches (unusable URLs replaced by a placeholder), ``copies``
    times; copy c > 0 of a page gets ``copy=c`` in its query, so URL dedup keeps every copy."""
    pages = load_pages(shared)
    fetches = [Fetch(_copy_url(clean_url(p.url) or f"https://trafilatura-eval.example.org/{p.name}", c),
                     BASE + timedelta(seconds=37 * i), "ordinary", p.raw, p.ctype(),
                     source=f"trafilatura_eval:{p.name}", shard=i % n)
               for i, (c, p) in enumerate((c, p) for c in range(copies) for p in pages)]
    shards = [[f for f in fetches if f.shard == s] for s in range(n)]
    return write_shards(shards, out, "bench", out / "manifest.jsonl", None)


def _copy_url(url: str, copy: int) -> str:
    return url if copy == 0 else f"{url}{'&' if '?' in url else '?'}copy={copy}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared/data",
                    help="shared data folder (default: ../shared/data beside the checkout)")
    ap.add_argument("--out", type=Path, help="output folder (default sample_data/shards; the manifest goes "
                    "to sample_data/manifest.jsonl, or into --out when that is given)")
    ap.add_argument("--bench-all-pages", action="store_true",
                    help="write all 990 trafilatura eval pages as ordinary fetches (benchmark input, not committed)")
    ap.add_argument("--shards", type=int, default=8, help="number of shards for --bench-all-pages (default 8)")
    ap.add_argument("--copies", type=int, default=1, help="copies of the 990 pages for --bench-all-pages (default 1)")
    a = ap.parse_args()
    if not (a.shared / "extraction_trafilatura_eval").is_dir():
        ap.error(f"shared data not found at {a.shared} (use --shared PATH)")
    if a.bench_all_pages:
        if a.out is None:
            ap.error("--bench-all-pages needs --out DIR")
        rows = build_bench(a.shared, a.out, a.shards, a.copies)
    elif a.out is None:
        rows = build_sample(a.shared, HERE / "shards", HERE / "manifest.jsonl")
    else:
        rows = build_sample(a.shared, a.out, a.out / "manifest.jsonl")
    print(f"wrote {len(rows)} records in {len({r['shard'] for r in rows})} shards")


if __name__ == "__main__":
    main()
