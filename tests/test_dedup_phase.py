"""The dedup phase (Spark aggregations over the extraction pass's output) and the filter pass that applies its
decisions, on documents written as two units: PII-heavy and adult sites are found from their pages' counts,
near duplicates and frequent lines are removed, and nothing else is touched."""

from __future__ import annotations

import dataclasses
import json

from conftest import FIXTURES

from pipeline.config import CurateConfig
from pipeline.dedup.line_dedup import LineHashes
from pipeline.dedup.minhash import MinHashSignatures
from pipeline.heuristics.dirty_words import DirtyWords
from pipeline.registry import EXTRACT, FILTER
from pipeline.safety.pii import PiiDetector
from pipeline.spark.dedup_phase import DedupPhase
from pipeline.spark.stages import arrow_schema
from pipeline.spark.unit_tasks import EXTRACT_PASS_SCHEMA, document_batches, filter_unit, unit_file
from pipeline.spark.workdir import WorkDir
from pipeline.steps import Document

PARAGRAPHS = [json.loads(line)["text"] for line in (FIXTURES / "token_kl" / "wikipedia_paragraphs.jsonl").open()]
COOKIE = "We use cookies to improve your experience. Accept all cookies?"
ADULT = "Hot xxx porn videos! Watch free hardcore porn and horny milf sex cams, nude pussy pics and anal clips."
STAFF = "\n".join(f"Dr. Person {i}, Department {i}, person{i}@staff.example.org, phone +1 650-555-01{i:02d}"
                  for i in range(12))


def _documents() -> dict[str, tuple[str, str]]:
    """id -> (host, text)."""
    docs = {f"news-{i}": ("news.example", PARAGRAPHS[i]) for i in range(9)}
    # one story on a crime: evidence against its site (3 listed words, 2 different, over 1%), nothing more
    docs["news-crime"] = ("news.example", "Police said the brothel offered sex for money and porn videos; "
                                          "the owner denied the porn and sex charges in court on Monday.")
    docs |= {f"adult-{i}": ("hot-videos.example", f"{ADULT}\n{PARAGRAPHS[20 + i]}") for i in range(3)}
    docs["adult-contact"] = ("hot-videos.example", "Contact us for advertising on our network of sites.")
    docs |= {f"staff-{i}": ("staff.example", f"Staff directory page {i}\n{STAFF}") for i in range(3)}
    docs["blog-a"] = ("blog.example", PARAGRAPHS[10])
    docs["blog-b"] = ("blog.example", PARAGRAPHS[10].replace(" the ", " a ", 1))  # a near duplicate of blog-a
    for i in range(7):  # the cookie banner on seven pages of one language: more than 6, so it goes
        host, text = docs[f"news-{i}"]
        docs[f"news-{i}"] = (host, f"{text}\n{COOKIE}")
    return docs


def test_site_and_dedup_decisions_reach_the_filter_pass(spark, tmp_path):
    workdir = WorkDir(str(tmp_path / "out"))
    config = dataclasses.replace(CurateConfig())
    items = sorted(_documents().items())
    steps = [PiiDetector(config.pii), MinHashSignatures(config.minhash), LineHashes(config.line_dedup),
             DirtyWords(config.dirty_words)]
    for unit in ("u0", "u1"):
        rows = [Document(text, "en", id=doc_id, host=host, domain=host, source_file="f").to_row()
                for doc_id, (host, text) in items[int(unit[1])::2]]
        workdir.write_parquet(unit_file(workdir, EXTRACT, unit),
                              document_batches(rows, steps, EXTRACT_PASS_SCHEMA, 8), arrow_schema(EXTRACT_PASS_SCHEMA))
    DedupPhase(spark, workdir, config, log=lambda line: None).run()
    out = {}
    for unit in ("u0", "u1"):
        filter_unit(workdir, unit, config)
        out |= {row["id"]: Document.from_row(row)
                for row in workdir.read_parquet(unit_file(workdir, FILTER, unit)).to_pylist()}
    verdicts = {i: (doc.stage, doc.reason) for i, doc in out.items() if doc.stage}
    assert verdicts == {
        **{f"adult-{i}": ("heuristics", "adult_site") for i in range(3)},
        "adult-contact": ("heuristics", "adult_site"),  # the site goes, its pages with few words too
        **{f"staff-{i}": ("pii", "pii_heavy_domain") for i in range(3)},
        "blog-b": ("minhash_dedup", "minhash_duplicate"),
    }
    assert out["blog-b"].detail == "blog-a" and out["adult-0"].detail.startswith("hot-videos.example: 3 of 4")
    assert out["news-crime"].signals["dirty_page"] == 1.0  # evidence, but one page of ten is not a pattern
    assert all(COOKIE not in out[f"news-{i}"].text for i in range(7))
    assert all(out[f"news-{i}"].signals["line_dedup_removed_lines"] == 1.0 for i in range(7))
    assert out["news-8"].text == PARAGRAPHS[8] and out["news-8"].signals["line_dedup_removed_lines"] == 0.0
