"""Near-duplicate removal measured against exact Jaccard similarity: ``jobs/dedup.py`` of this checkout (and, with
``--before DIR``, of another one, e.g. an earlier commit) against a datasketch baseline, on the same corpora.

Corpora (read from ../shared/data, beside the checkout, and from sample_data/shards):

- ``clough``: the 95 Clough-Stevenson answers (cut, light and heavy revisions, independent answers) and their 5
  Wikipedia sources (``neardup_clough_stevenson/pairs.jsonl``);
- ``edits``: WikiText-2 articles (``quality_text/wikitext2/articles.jsonl``) and web pages of the trafilatura
  evaluation set (``extraction_trafilatura_eval/html``, extracted with the project's extractor), each cut to
  ``--doc-chars``, with seeded derived copies (``--edit-kinds``): "graded": words replaced at 1-10%, boilerplate
  lines inserted (cookie banners, navigation), truncation to 90/70/50%, paragraphs shuffled; "mixes": with another
  document (its head replaces the last 5/10/20/50% of the words); "chains": 5 successive small edits (each step
  edits the previous one: words replaced, a boilerplate line, a paragraph dropped, a run of words rewritten), and
  for every third document 10 steps that turn it into another document, 9% at a time (linking two groups);
- ``cjk``: Chinese, Japanese and Thai pages of real text: 15 random lingua sentences per page
  (``langid_lingua/sentences_dev.jsonl``) and the sample shards' zh/ja/th pages (lingua sentences, Japanese
  ClueWeb shop pages in EUC-JP and Shift_JIS), with the same edits at the character level (characters replaced
  at 0.25-4%, boilerplate lines in the language, truncation, shuffling, mixes, chains).

Every document gets a random fetch time, so the document a method keeps can be any member of a group.

Truth: the exact Jaccard similarity of two documents' word 5-gram sets (``shingles(text, 5, language)``: NFKC,
lower case, digit runs as 0, punctuation as word breaks, zh/ja/th segmented into words) is at least
``--threshold``; computed for every pair sharing a shingle (a sparse product).

Methods: ``jobs/dedup.py`` run as a subprocess (``python DIR/jobs/dedup.py --master local[2]`` with
PYTHONPATH=DIR; options after ``--`` go to this checkout's job); the baseline in this process: datasketch
``MinHash`` (``num_perm``, ``hashfunc=shingle_hash``) per document, ``MinHashLSH(threshold, num_perm)`` (9 bands
x 13 rows at 0.8 and 128) per language, every LSH candidate checked by exact Jaccard, union-find over the pairs
that pass, one document kept per cluster (most recent fetch, then smallest id), as the job prefers. The last row
is no method but a ceiling: the job's rule (keep the most recent document, remove its near duplicates, repeat)
applied to the true pairs themselves, so it shows what candidates and verification lose and what the rule itself
cannot reach (a chain A-B-C with A kept keeps C too, while "to remove" counts 2).

Figures (over one corpus):

- pair P / R / F1: predicted pairs are the pairs of documents in one output cluster (``cluster_id`` of
  jobs/dedup.py, the union-find cluster of the baseline); true pairs those at or above the threshold;
- true group: a connected component of the graph of true pairs; "to remove" = the sum over true groups of
  (size - 1), the documents a perfect method removes;
- removal recall: removed documents that have a kept true near duplicate / "to remove";
- removal precision: removed documents that have a kept true near duplicate (exact Jaccard >= threshold) /
  removed documents;
- true groups fully removed: true groups of 2+ documents none of which is kept (content lost);
- unique documents removed: removed documents without any true near duplicate.

    python tests/benchmarks/eval_minhash.py [--corpora clough,edits,cjk] [--before DIR] [-- --minhash.bands 9]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from datasketch import MinHash, MinHashLSH
from scipy import sparse

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from pipeline.dedup.minhash import MinHashConfig, shingle_hash, shingles  # noqa: E402

DATA = REPO.parent / "shared" / "data"
CLOUGH = DATA / "neardup_clough_stevenson" / "pairs.jsonl"
ARTICLES = DATA / "quality_text" / "wikitext2" / "articles.jsonl"
PAGES = DATA / "extraction_trafilatura_eval"
SENTENCES = DATA / "langid_lingua" / "sentences_dev.jsonl"
SHARDS = REPO / "sample_data" / "shards"
MANIFEST = REPO / "sample_data" / "manifest.jsonl"
BOILERPLATE = {
    None: [
        "We use cookies to improve your experience on our site. By continuing you agree to our use of cookies.",
        "Accept all cookies Manage preferences",
        "Home | News | Sport | Culture | Science | About us | Contact",
        "Share this article: Facebook Twitter LinkedIn Email Print",
        "Subscribe to our newsletter and get the latest stories delivered to your inbox every week.",
        "Copyright 2024 Example Media Group. All rights reserved.",
        "Privacy Policy Terms of Use Cookie Settings Accessibility",
        "Related articles you may also like",
        "Advertisement",
        "Sign in to leave a comment or create a free account today.",
        "This page was last edited on 12 March 2024, at 14:02.",
        "Follow us on Instagram and YouTube for more updates from our editors.",
    ],
    "zh": ["首页 | 新闻 | 体育 | 财经 | 科技 | 联系我们", "版权所有 © 2024 示例传媒集团 保留所有权利",
           "分享到：微博 微信 QQ空间", "本网站使用Cookie以改善您的浏览体验。", "相关阅读", "广告",
           "订阅我们的新闻邮件，每周获取最新报道。", "登录后发表评论"],
    "ja": ["ホーム | ニュース | スポーツ | 経済 | お問い合わせ",
           "Copyright © 2024 サンプルメディア株式会社 All Rights Reserved.",
           "この記事をシェアする：Twitter Facebook LINE", "当サイトではクッキーを使用しています。", "関連記事",
           "広告", "メールマガジンの登録はこちらから。", "ログインしてコメントする"],
    "th": ["หน้าแรก | ข่าว | กีฬา | เศรษฐกิจ | ติดต่อเรา", "สงวนลิขสิทธิ์ © 2024 บริษัท ตัวอย่าง มีเดีย จำกัด",
           "แชร์บทความนี้: Facebook Twitter LINE", "เว็บไซต์นี้ใช้คุกกี้เพื่อพัฒนาประสบการณ์ของคุณ", "บทความที่เกี่ยวข้อง",
           "โฆษณา", "สมัครรับจดหมายข่าวของเรา", "เข้าสู่ระบบเพื่อแสดงความคิดเห็น"],
}
START = datetime(2024, 1, 1, tzinfo=timezone.utc)


@dataclass
class Corpus:
    name: str
    texts: list[str] = field(default_factory=list)
    languages: list[str | None] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # "original" or the edit that made the document

    def add(self, text: str, language: str | None, kind: str) -> None:
        self.texts.append(text)
        self.languages.append(language)
        self.kinds.append(kind)


# --- corpora


def clough_corpus() -> Corpus:
    with CLOUGH.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    corpus = Corpus("clough-stevenson")
    for source in sorted({r["source"] for r in rows}):
        corpus.add(next(r["source_text"] for r in rows if r["source"] == source), None, "source article")
    for r in rows:
        corpus.add(r["text"], None, f"answer: {r['category']}")
    return corpus


def _cut(text: str, chars: int) -> str:
    if len(text) <= chars:
        return text
    cut = text.rfind("\n", 0, chars)
    return text[: cut if cut > chars // 2 else chars]


def _web_pages(count: int, chars: int) -> list[str]:
    """The first ``count`` evaluation pages (by file name) whose extracted text has at least 200 words."""
    from pipeline.extraction.encoding import decode_html
    from pipeline.extraction.html import HtmlExtractor

    extractor, expectations = HtmlExtractor(), json.loads((PAGES / "expectations.json").read_text())
    texts = []
    for path in sorted((PAGES / "html").glob("*.html.gz")):
        html, _ = decode_html(gzip.decompress(path.read_bytes()))
        text = extractor.extract(html, expectations.get(path.name[:-3], {}).get("url")).text
        if text and len(text.split()) >= 200:
            texts.append(_cut(text, chars))
            if len(texts) == count:
                break
    return texts


@dataclass
class Style:
    """How edits see a text: units (words, or characters of an unspaced script) and the language's boilerplate."""

    language: str | None
    joiner: str

    def units(self, text: str) -> list[str]:
        return text.split(" ") if self.joiner else list(text)

    def join(self, units: list[str]) -> str:
        return self.joiner.join(units)


def _substitute(text: str, rate: float, style: Style, pool: list[str], rng: random.Random) -> str:
    units = style.units(text)
    return style.join([rng.choice(pool) if u.strip() and rng.random() < rate else u for u in units])


def _insert_lines(text: str, k: int, style: Style, rng: random.Random) -> str:
    lines = text.split("\n")
    for line in rng.sample(BOILERPLATE[style.language], k):
        lines.insert(rng.choice([0, len(lines), rng.randrange(len(lines) + 1)]), line)
    return "\n".join(lines)


def _truncate(text: str, keep: float, style: Style) -> str:
    units = style.units(text)
    return style.join(units[: int(len(units) * keep)])


def _shuffle(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    rng.shuffle(lines)
    return "\n".join(lines)


def _mix(text: str, other: str, share: float, style: Style) -> str:
    """``text`` with the last ``share`` of its units replaced by the first units of ``other``."""
    units, others = style.units(text), style.units(other)
    keep = int(len(units) * (1 - share))
    return style.join(units[:keep] + others[: len(units) - keep])


def _small_edit(text: str, step: int, style: Style, pool: list[str], rng: random.Random, rate: float) -> str:
    """One step of an edit chain, in turn: units replaced, a boilerplate line, a paragraph dropped, a run rewritten."""
    kind = step % 4
    if kind == 0:
        return _substitute(text, rate, style, pool, rng)
    if kind == 1:
        return _insert_lines(text, 1, style, rng)
    lines = text.split("\n")
    if kind == 2 and len(lines) > 3:
        del lines[rng.randrange(len(lines))]
        return "\n".join(lines)
    units = style.units(text)
    run = max(3, len(units) // 40)
    start = rng.randrange(max(1, len(units) - run))
    return style.join(units[:start] + [rng.choice(pool) for _ in range(run)] + units[start + run:])


EDIT_KINDS = ("graded", "mixes", "chains")


def add_edited(corpus: Corpus, originals: list[str], style: Style, pool: list[str], rates: tuple[float, ...],
               inserts: tuple[int, int], seed: int, kinds: tuple[str, ...] = EDIT_KINDS) -> None:
    """Each original and its derived copies of the given kinds (see the module docstring): "graded" (units
    replaced at ``rates``, ``inserts`` boilerplate lines, truncation, shuffling), "mixes", "chains" (the first of
    ``rates`` is also the rate of a chain step)."""
    for i, text in enumerate(originals):
        rng = random.Random(seed * 100_003 + i)
        other = originals[(i + 1 + rng.randrange(len(originals) - 1)) % len(originals)]
        corpus.add(text, style.language, "original")
        if "graded" in kinds:
            for rate in rates:
                corpus.add(_substitute(text, rate, style, pool, rng), style.language, f"replace {rate:.2%} of units")
            for k in inserts:
                corpus.add(_insert_lines(text, k, style, rng), style.language, f"insert {k} boilerplate lines")
            for keep in (0.9, 0.7, 0.5):
                corpus.add(_truncate(text, keep, style), style.language, f"truncate to {keep:.0%}")
            corpus.add(_shuffle(text, rng), style.language, "shuffle paragraphs")
        if "mixes" in kinds:
            for share in (0.05, 0.1, 0.2, 0.5):
                corpus.add(_mix(text, other, share, style), style.language, f"mix: last {share:.0%} from another")
        if "chains" in kinds:
            step_text = text
            for step in range(5):
                step_text = _small_edit(step_text, step, style, pool, rng, rates[0])
                corpus.add(step_text, style.language, f"edit chain step {step + 1}")
            if i % 3 == 0:
                for step in range(1, 11):
                    corpus.add(_mix(text, other, 0.09 * step, style) if step < 10 else other, style.language,
                               f"chain into another, step {step}")


def edits_corpus(doc_chars: int, web_pages: int, seed: int, kinds: tuple[str, ...]) -> Corpus:
    with ARTICLES.open(encoding="utf-8") as lines:
        articles = [_cut(json.loads(line)["text_detok"], doc_chars) for line in lines]
    articles = [a for a in articles if len(a.split()) >= 200]
    originals = articles + _web_pages(web_pages, doc_chars)
    vocabulary = sorted({w for text in articles for w in text.split()})  # English words replace words
    corpus = Corpus("")
    add_edited(corpus, originals, Style(None, " "), vocabulary, (0.01, 0.02, 0.03, 0.05, 0.10), (3, 10), seed,
               kinds)
    corpus.name = f"web+wiki edits ({len(originals)} originals; {'+'.join(kinds)})"
    return corpus


def _sample_shard_pages(languages: set[str]) -> dict[str, list[str]]:
    """Texts of the sample shards' responses in ``languages`` (their manifest case), extracted as the job does."""
    from pipeline.extraction.html import HtmlExtractor
    from pipeline.warc.records import extract_documents, index_warc

    wanted = {}
    for line in MANIFEST.read_text().splitlines():
        m = json.loads(line)
        language = {"lang:zh": "zh", "lang:ja": "ja", "lang:th": "th", "encoding:euc-jp": "ja",
                    "encoding:shift_jis": "ja"}.get(m["case"])
        if m["warc_type"] == "response" and language in languages:
            wanted[m["record_id"]] = language
    pages, extractor = defaultdict(list), HtmlExtractor()
    for shard in sorted(SHARDS.glob("*.warc.gz")):
        rows = [r for r in index_warc(str(shard), shard.name) if r["id"] in wanted]
        for doc in extract_documents(str(shard), rows, extractor) if rows else ():
            if doc["text"]:
                pages[wanted[doc["id"]]].append(doc["text"])
    return pages


def cjk_corpus(pages_per_language: int, seed: int, kinds: tuple[str, ...]) -> Corpus:
    sentences = defaultdict(list)
    with SENTENCES.open(encoding="utf-8") as lines:
        for row in map(json.loads, lines):
            sentences[row["lang"]].append(row["text"])
    shard_pages = _sample_shard_pages({"zh", "ja", "th"})
    corpus = Corpus("")
    for language, joiner in (("zh", ""), ("ja", ""), ("th", " ")):
        rng = random.Random(seed)
        originals = []
        for _ in range(pages_per_language):  # 5 paragraphs of 3 sentences
            chosen = rng.sample(sentences[language], 15)
            originals.append("\n".join(joiner.join(chosen[k:k + 3]) for k in range(0, 15, 3)))
        originals += shard_pages[language]
        letters = sorted({c for text in originals for c in text if unicodedata.category(c) == "Lo"})
        add_edited(corpus, originals, Style(language, ""), letters, (0.0025, 0.005, 0.01, 0.02, 0.04), (2, 5), seed,
                   kinds)
    corpus.name = f"zh+ja+th edits ({corpus.kinds.count('original')} originals; {'+'.join(kinds)})"
    return corpus


# --- truth, methods, figures


def true_pairs(corpus: Corpus, ngram: int, threshold: float) -> set[tuple[int, int]]:
    """Pairs ``i < j`` whose exact Jaccard reaches ``threshold`` (every pair sharing a shingle is computed)."""
    ids: dict[bytes, int] = {}
    rows, cols = [], []
    for i, (text, language) in enumerate(zip(corpus.texts, corpus.languages, strict=True)):
        for s in shingles(text, ngram, language):
            rows.append(i)
            cols.append(ids.setdefault(s, len(ids)))
    x = sparse.csr_matrix((np.ones(len(rows), np.int32), (rows, cols)), shape=(len(corpus.texts), len(ids)))
    sizes = np.asarray(x.sum(axis=1)).ravel()
    shared = sparse.triu(x @ x.T, k=1).tocoo()
    jaccard = shared.data / (sizes[shared.row] + sizes[shared.col] - shared.data)
    keep = jaccard >= threshold
    return set(zip(shared.row[keep].tolist(), shared.col[keep].tolist(), strict=True))


@dataclass
class Outcome:
    kept: list[bool]
    cluster: list[int]  # a cluster label per document
    seconds: float


def _fetch_times(n: int, seed: int) -> list[datetime]:
    rng = random.Random(seed)
    return [START + timedelta(seconds=rng.randrange(365 * 86400)) for _ in range(n)]


def run_job(checkout: Path, corpus: Corpus, fetch_times: list[datetime], workdir: Path, master: str,
            options: list[str]) -> Outcome:
    """``jobs/dedup.py`` of ``checkout`` on the corpus, as a subprocess (its own Spark and Python workers)."""
    source, out = workdir / "docs.jsonl", workdir / f"out-{abs(hash((str(checkout), corpus.name)))}"
    with source.open("w", encoding="utf-8") as f:
        for i, (text, language) in enumerate(zip(corpus.texts, corpus.languages, strict=True)):
            row = {"id": f"d{i:06d}", "text": text, "fetch_time": fetch_times[i].isoformat()}
            f.write(json.dumps(row | ({"lang": language} if language else {}), ensure_ascii=False) + "\n")
    env = dict(os.environ, PYTHONPATH=str(checkout), PYSPARK_PYTHON=sys.executable)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, str(checkout / "jobs" / "dedup.py"), "--input", str(source), "--output",
                           str(out), "--master", master, *options], cwd=checkout, env=env, capture_output=True,
                          text=True)
    seconds = time.perf_counter() - started
    if proc.returncode:
        sys.exit(f"{checkout}/jobs/dedup.py failed:\n{proc.stderr[-3000:]}")
    rows = {r["id"]: r for r in pq.read_table(out, columns=["id", "kept", "cluster_id"]).to_pylist()}
    index = {f"d{i:06d}": i for i in range(len(corpus.texts))}
    ordered = [rows[f"d{i:06d}"] for i in range(len(corpus.texts))]
    return Outcome([r["kept"] for r in ordered], [index[r["cluster_id"]] for r in ordered], seconds)


def union_find(n: int, pairs) -> list[int]:
    """A root per element of ``range(n)``: elements joined by ``pairs``, directly or through others, share it."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        parent[find(a)] = find(b)
    return [find(i) for i in range(n)]


def datasketch_clusters(texts: list[str], languages: list[str | None], config: MinHashConfig) -> list[int]:
    """The baseline's clusters: datasketch ``MinHash`` per document, ``MinHashLSH(threshold, num_perm)`` per
    language, every candidate checked by exact Jaccard, union-find over the pairs that pass (a root per document)."""
    sets = [set(shingles(text, config.ngram, language)) for text, language in zip(texts, languages, strict=True)]
    indexes: dict[str | None, MinHashLSH] = {}
    pairs = []
    for i, (shingle_set, language) in enumerate(zip(sets, languages, strict=True)):
        if not shingle_set:
            continue
        m = MinHash(num_perm=config.num_perm, seed=config.seed, hashfunc=shingle_hash)
        m.update_batch(list(shingle_set))
        if language not in indexes:  # building one is slow (it integrates for its bands and rows)
            indexes[language] = MinHashLSH(threshold=config.threshold, num_perm=config.num_perm)
        lsh = indexes[language]
        pairs += [(i, j) for j in lsh.query(m) if len(sets[i] & sets[j]) / len(sets[i] | sets[j]) >= config.threshold]
        lsh.insert(i, m)
    return union_find(len(texts), pairs)


def datasketch_baseline(corpus: Corpus, fetch_times: list[datetime], config: MinHashConfig) -> Outcome:
    """:func:`datasketch_clusters`, one document kept per cluster as the job prefers."""
    started = time.perf_counter()
    roots = datasketch_clusters(corpus.texts, corpus.languages, config)
    best: dict[int, int] = {}
    for i, root in enumerate(roots):  # most recent fetch, then smallest id
        if root not in best or (fetch_times[i], -i) > (fetch_times[best[root]], -best[root]):
            best[root] = i
    return Outcome([best[root] == i for i, root in enumerate(roots)], roots, time.perf_counter() - started)


def preference_ceiling(truth: set[tuple[int, int]], fetch_times: list[datetime]) -> Outcome:
    """Keep-and-remove in preference order (the job's rule) on the exact true pairs: what the job would do with
    every true pair a candidate and verified; a removed document joins the cluster of its most preferred kept
    near duplicate. A ceiling for any method that keeps the most recent document it can."""
    started = time.perf_counter()
    neighbours = defaultdict(set)
    for a, b in truth:
        neighbours[a].add(b)
        neighbours[b].add(a)
    n = len(fetch_times)
    state, cluster = [""] * n, list(range(n))  # "" undecided, then "kept" or "removed"
    for doc in sorted(range(n), key=lambda i: (-fetch_times[i].timestamp(), i)):
        if state[doc]:
            continue
        state[doc] = "kept"
        for other in neighbours[doc]:
            if not state[other]:
                state[other], cluster[other] = "removed", doc
    return Outcome([s != "removed" for s in state], cluster, time.perf_counter() - started)


def figures(outcome: Outcome, truth: set[tuple[int, int]], n: int) -> dict:
    """The module docstring's figures for one method's outcome."""
    members = defaultdict(list)
    for doc, cluster in enumerate(outcome.cluster):
        members[cluster].append(doc)
    predicted = {(a, b) for docs in members.values() for k, a in enumerate(docs) for b in docs[k + 1:]}
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(truth) if truth else 1.0
    partners = defaultdict(set)
    for a, b in truth:
        partners[a].add(b)
        partners[b].add(a)
    groups = defaultdict(list)
    for doc, root in enumerate(union_find(n, truth)):
        groups[root].append(doc)
    to_remove = sum(len(g) - 1 for g in groups.values())
    removed = [doc for doc in range(n) if not outcome.kept[doc]]
    justified = [doc for doc in removed if any(outcome.kept[p] for p in partners[doc])]
    return {
        "P": precision, "R": recall, "F1": 2 * precision * recall / (precision + recall) if tp else 0.0,
        "removal R": len(justified) / to_remove if to_remove else 1.0,
        "removal P": len(justified) / len(removed) if removed else 1.0,
        "groups lost": sum(len(g) > 1 and not any(outcome.kept[d] for d in g) for g in groups.values()),
        "unique removed": sum(not partners[doc] for doc in removed),
        "removed": len(removed), "to remove": to_remove, "seconds": outcome.seconds,
    }


def print_table(corpus: Corpus, truth: set, results: list[tuple[str, dict]]) -> None:
    n = len(corpus.texts)
    r0 = results[0][1]
    print(f"\n{corpus.name}: {n:,} documents, {len(truth):,} true pairs, {r0['to remove']:,} to remove")
    print(f"  {'method':<46} {'pair P':>6} {'pair R':>6} {'F1':>5} {'rem. R':>6} {'rem. P':>6} "
          f"{'groups lost':>11} {'unique rem.':>11} {'removed':>7} {'seconds':>7}")
    for name, r in results:
        print(f"  {name:<46} {r['P']:>6.3f} {r['R']:>6.3f} {r['F1']:>5.3f} {r['removal R']:>6.3f} "
              f"{r['removal P']:>6.3f} {r['groups lost']:>11} {r['unique removed']:>11} {r['removed']:>7} "
              f"{r['seconds']:>7.0f}")


def print_kinds(corpus: Corpus, truth: set, outcomes: list[tuple[str, Outcome]]) -> None:
    """Per kind of document: how many have a true near duplicate, and the share each method removes."""
    has_partner = {d for pair in truth for d in pair}
    by_kind = defaultdict(list)
    for doc, kind in enumerate(corpus.kinds):
        by_kind[re.sub(r" step \d+$", " steps", kind)].append(doc)
    names = [name.split(" (")[0][:14] for name, _ in outcomes]
    header = " ".join(f"{n:>14}" for n in names)
    print(f"\n  {'kind of document':<36} {'n':>5} {'has near dup':>12}  removed: {header}")
    for kind, docs in by_kind.items():
        shares = [np.mean([not outcome.kept[d] for d in docs]) for _, outcome in outcomes]
        print(f"  {kind:<36} {len(docs):>5} {np.mean([d in has_partner for d in docs]):>12.0%}  "
              f"{'':>8}" + " ".join(f"{s:>14.0%}" for s in shares))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = MinHashConfig()
    parser.add_argument("--corpora", default="clough,edits,cjk", help="comma-separated: clough, edits, cjk")
    parser.add_argument("--before", type=Path, help="another checkout whose jobs/dedup.py is measured too")
    parser.add_argument("--threshold", type=float, default=default.threshold, help="of the truth and the baseline")
    parser.add_argument("--doc-chars", type=int, default=12_000, help="articles and pages are cut to this")
    parser.add_argument("--web-pages", type=int, default=100, help="web pages among the edits corpus's originals")
    parser.add_argument("--cjk-pages", type=int, default=20, help="lingua pages per language")
    parser.add_argument("--edit-kinds", default=",".join(EDIT_KINDS),
                        help="derived copies in the edits and cjk corpora: graded, mixes, chains (comma-separated)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the edits and the fetch times")
    parser.add_argument("--master", default="local[2]", help="Spark master of the jobs")
    args, options = parser.parse_known_args()
    options = [o for o in options if o != "--"]
    for path in (CLOUGH, ARTICLES, PAGES, SENTENCES):
        if not path.exists():
            sys.exit(f"{path} not found: ../shared/data must sit beside the checkout")
    config = MinHashConfig(threshold=args.threshold)
    kinds = tuple(args.edit_kinds.split(","))
    builders = {"clough": clough_corpus,
                "edits": lambda: edits_corpus(args.doc_chars, args.web_pages, args.seed, kinds),
                "cjk": lambda: cjk_corpus(args.cjk_pages, args.seed, kinds)}
    print(f"truth: exact Jaccard of word {config.ngram}-gram sets >= {config.threshold}; job options: "
          f"{' '.join(options) or '(defaults)'}")
    with tempfile.TemporaryDirectory(prefix="eval-minhash-") as tmp:
        for name in args.corpora.split(","):
            corpus = builders[name]()
            truth = true_pairs(corpus, config.ngram, config.threshold)
            fetch_times = _fetch_times(len(corpus.texts), args.seed)
            outcomes = [(f"jobs/dedup.py ({REPO.name})", run_job(REPO, corpus, fetch_times, Path(tmp), args.master,
                                                                  options))]
            if args.before:
                outcomes.append((f"jobs/dedup.py ({args.before.name})",
                                 run_job(args.before.resolve(), corpus, fetch_times, Path(tmp), args.master, [])))
            lsh = MinHashLSH(threshold=config.threshold, num_perm=config.num_perm)
            outcomes.append((f"datasketch LSH {lsh.b}x{lsh.r} + exact + union-find",
                             datasketch_baseline(corpus, fetch_times, config)))
            outcomes.append(("ceiling: keep-and-remove on the true pairs", preference_ceiling(truth, fetch_times)))
            print_table(corpus, truth, [(n, figures(o, truth, len(corpus.texts))) for n, o in outcomes])
            print_kinds(corpus, truth, outcomes)


if __name__ == "__main__":
    main()
