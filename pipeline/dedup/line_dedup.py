"""Line-level de-duplication (Llama 3 §3.1.1: "we remove lines that appeared more than 6 times in each bucket of
30M documents", aggressive ccNet-style dedup that removes leftover boilerplate such as navigation menus and cookie
warnings).

What is counted: for each bucket (and grouping key, e.g. language), the number of *documents* that contain a
normalised line at least once. A line repeated inside one document counts once there (in-document repetition is
the job of the repetition filters). A line whose count is above ``max_documents_per_line`` (6) is removed from every
document of the bucket, so a line in exactly 6 documents stays and one in 7 goes. Empty lines (after
normalisation) are never counted or removed.

Documents go to buckets by a hash of their id, so the assignment does not depend on partitioning or input order.
The Spark stage (``pipeline.spark.dedup_stages.line_dedup_stage``) counts with an aggregation and removes with
shuffle joins; the functions here are the per-document parts and a reference implementation.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import xxhash

from pipeline.steps import Document, Rejection, Step, TextStep


@dataclass(frozen=True)
class LineDedupConfig:
    # Paper: line-level dedup after document-level dedup. Off to keep documents' text as extracted.
    enabled: bool = True
    # Paper: lines appearing in more than 6 documents of a bucket are removed.
    max_documents_per_line: int = 6
    # Paper: buckets of 30M documents (use a small value to see the effect on a sample).
    bucket_size: int = 30_000_000
    # Documents with fewer characters than this left after removal are rejected (0 keeps all non-empty ones).
    min_chars_after: int = 1
    # Paper: line dedup runs within each language; buckets are per value of this column ("" = all together).
    group_by: str = "language"


_DIGITS = re.compile(r"\d")
_SPACES = re.compile(r"\s+")


def normalize_line(line: str) -> str:
    """ccNet's normalisation: lower case, accents stripped, digits to 0, punctuation removed, whitespace collapsed;
    so the same menu item or cookie notice matches across pages that differ only in counters or dates."""
    line = unicodedata.normalize("NFD", line.lower())
    line = "".join(ch for ch in line if unicodedata.category(ch) not in ("Mn", "Cc", "Cf")
                   and not unicodedata.category(ch).startswith("P"))
    return _SPACES.sub(" ", _DIGITS.sub("0", line)).strip()


def document_line_hashes(text: str) -> list[int | None]:
    """Hash of every line of ``text`` (split on ``\\n``), None for lines that are empty once normalised."""
    hashes = []
    for line in text.split("\n"):
        normalised = normalize_line(line)
        # signed, to fit Spark's LongType
        hashes.append(xxhash.xxh64_intdigest(normalised.encode("utf-8")) - (1 << 63) if normalised else None)
    return hashes


def bucket_of(doc_id: str, buckets: int) -> int:
    """The bucket of a document: a hash of its id, so reruns and repartitioning give the same buckets."""
    return xxhash.xxh64_intdigest(doc_id.encode("utf-8")) % max(buckets, 1)


def bucket_count(documents: int, bucket_size: int) -> int:
    """Buckets needed so that none holds more than about ``bucket_size`` documents."""
    return max(1, -(-documents // max(bucket_size, 1)))


def remove_lines(text: str, removed_hashes: set[int], hashes: list[int | None] | None = None) -> tuple[str, int]:
    """``text`` without the lines whose hash is in ``removed_hashes``; returns (new text, lines removed).
    ``hashes``: ``document_line_hashes(text)`` when the caller has them."""
    kept, removed = [], 0
    lines = text.split("\n")
    if hashes is None or len(hashes) != len(lines):
        hashes = document_line_hashes(text)
    for line, h in zip(lines, hashes, strict=True):
        if h is not None and h in removed_hashes:
            removed += 1
        else:
            kept.append(line)
    return "\n".join(kept).strip("\n"), removed


def dedup_lines(documents: Iterable[tuple[str, str]], config: LineDedupConfig = LineDedupConfig()) -> dict[str, str]:
    """Reference implementation on ``(id, text)`` pairs in memory (one group): ``{id: text after removal}``."""
    documents = list(documents)
    buckets = bucket_count(len(documents), config.bucket_size)
    counts: Counter = Counter()
    for doc_id, text in documents:
        bucket = bucket_of(doc_id, buckets)
        counts.update((bucket, h) for h in set(document_line_hashes(text)) if h is not None)
    result = {}
    for doc_id, text in documents:
        bucket = bucket_of(doc_id, buckets)
        frequent = {h for h in set(document_line_hashes(text)) if h is not None
                    and counts[(bucket, h)] > config.max_documents_per_line}
        result[doc_id] = remove_lines(text, frequent)[0]
    return result


class LineHashes(Step):
    """Stage ``line_dedup``, extraction pass: the hash of every line (the artifact ``line_hashes``, None for lines
    empty once normalised), which the dedup phase counts per bucket."""

    stage = "line_dedup"

    def __init__(self, config: LineDedupConfig = LineDedupConfig()):
        self.config = config

    def signals(self, doc: Document) -> dict[str, float]:
        doc.artifacts["line_hashes"] = document_line_hashes(doc.text)
        return {}


class LineRemoval(TextStep):
    """Stage ``line_dedup``, filter pass: removes the lines the dedup phase counted in more than
    ``max_documents_per_line`` documents of the document's bucket (``decision["removed_lines"]``); signal
    ``line_dedup_removed_lines``. A document left shorter than ``min_chars_after`` is rejected."""

    stage = "line_dedup"
    trimmed_signal = "line_dedup_removed_bytes"

    def __init__(self, config: LineDedupConfig = LineDedupConfig()):
        self.config = config

    def rewrite(self, doc: Document) -> tuple[str, dict[str, float]]:
        removed_hashes = set(doc.decision.get("removed_lines") or ())
        text, removed = (remove_lines(doc.text, removed_hashes, doc.artifacts.get("line_hashes"))
                         if removed_hashes else (doc.text, 0))
        return text, {"line_dedup_removed_lines": float(removed)}

    def verdict(self, doc: Document) -> Rejection | None:
        if len(doc.text.strip()) < max(self.config.min_chars_after, 1):
            reason = "empty_after_line_dedup" if not doc.text.strip() else "too_short_after_line_dedup"
            return Rejection(reason, f"{int(doc.signals['line_dedup_removed_lines'])} lines removed")
        return None
