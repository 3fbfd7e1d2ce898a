"""Line dedup: what is counted, the 6/7 boundary, buckets."""

from pipeline.dedup.line_dedup import (
    LineDedupConfig,
    bucket_count,
    bucket_of,
    dedup_lines,
    document_line_hashes,
    normalize_line,
    remove_lines,
)

COOKIE = "We use cookies to improve your experience. Accept all cookies?"


def _docs(n_with_line: int, line: str = COOKIE):
    return [(f"doc-{i}", f"Article number {i} about topic {i * 7}.\n{line}\nSigned, author {i}.")
            for i in range(n_with_line)]


def test_normalisation_matches_boilerplate_variants():
    variant = normalize_line("© 2024 acme corp all rights reserved")
    assert normalize_line("  © 2023 ACME Corp. All rights reserved!") == variant
    assert normalize_line("Café   Menü") == "cafe menu"
    assert normalize_line("...!!!") == ""


def test_six_documents_keep_the_line_seven_lose_it():
    six = dedup_lines(_docs(6))
    assert all(COOKIE in text for text in six.values())
    seven = dedup_lines(_docs(7))
    assert all(COOKIE not in text and text.startswith("Article number") for text in seven.values())


def test_documents_are_counted_not_occurrences():
    docs = _docs(3) + [("repeater", "\n".join([COOKIE] * 10) + "\nOther text here.")]
    assert COOKIE in dedup_lines(docs)["repeater"]  # 4 documents contain it, however often


def test_counts_are_per_bucket():
    config = LineDedupConfig(bucket_size=10)
    docs = _docs(14)
    buckets = bucket_count(len(docs), config.bucket_size)
    per_bucket = {}
    for doc_id, _ in docs:
        per_bucket.setdefault(bucket_of(doc_id, buckets), []).append(doc_id)
    result = dedup_lines(docs, config)
    for members in per_bucket.values():
        for doc_id in members:
            assert (COOKIE in result[doc_id]) == (len(members) <= 6)


def test_remove_lines_reports_what_it_removed():
    text = f"Title\n{COOKIE}\nBody"
    hashes = document_line_hashes(text)
    assert remove_lines(text, {hashes[1]}) == ("Title\nBody", 1)
    assert document_line_hashes("a\n\n  \nb")[1:3] == [None, None]
