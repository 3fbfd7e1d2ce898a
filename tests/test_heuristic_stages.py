"""The Spark heuristic stages against the plain-Python filters, whatever the partitioning."""

from __future__ import annotations

import dataclasses
import json
import random
import string

import pytest
from conftest import FIXTURES

from pipeline.config import CurateConfig
from pipeline.filters.token_kl import TokenKl, TokenKlConfig
from pipeline.spark.heuristic_stages import token_kl_stage
from pipeline.spark.schema import EXTRACTED_SCHEMA

PARAGRAPHS = [json.loads(line)["text"] for line in (FIXTURES / "token_kl" / "wikipedia_paragraphs.jsonl").open()]


def _documents(spark, texts: dict[str, str], partitions: int, language: str = "en"):
    rows = [{f.name: None for f in EXTRACTED_SCHEMA.fields} | {"id": i, "text": t, "source_file": "f",
                                                                 "source_record": 0, "signals": {},
                                                                 "language": language}
            for i, t in texts.items()]
    return spark.createDataFrame(rows, EXTRACTED_SCHEMA).repartition(partitions)


def _garbage(tokens: int) -> str:
    rng = random.Random(11)
    return " ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9)))
                    for _ in range(tokens))


@pytest.mark.parametrize("partitions", [1, 3])
def test_token_kl_stage_matches_the_plain_python_filter(spark, partitions):
    texts = {f"p{i}": text for i, text in enumerate(PARAGRAPHS)} | {"garbage": _garbage(200)}
    kl = TokenKlConfig(min_documents=20)
    config = dataclasses.replace(CurateConfig(), token_kl=kl)
    out = {r["id"]: r.asDict() for r in token_kl_stage(_documents(spark, texts, partitions), config).collect()}
    expected = dict(zip(texts, TokenKl(kl).judge(list(texts.values()), "en"), strict=True))
    assert out["garbage"]["reason"] == "token_kl_outlier" and out["garbage"]["stage"] == "token_kl"
    assert [i for i, r in out.items() if r["reason"]] == ["garbage"]
    for doc_id, (signals, _) in expected.items():
        got = out[doc_id]["signals"]
        assert got["tokens"] == signals["tokens"]
        assert got["token_kl"] == pytest.approx(signals["token_kl"], rel=1e-9)
        # the fence comes from approximate quartiles in Spark, the excess from the same least-squares fit
        assert got["token_kl_excess"] == pytest.approx(signals["token_kl_excess"], rel=1e-6)


def test_token_kl_stage_leaves_thin_languages_unjudged(spark):
    texts = {f"p{i}": text for i, text in enumerate(PARAGRAPHS[:40])} | {"garbage": _garbage(200)}
    config = CurateConfig().updated({"languages": {"en": {"token_kl": {"min_documents": 20}}}})
    docs = _documents(spark, texts, 2, language="fr")  # fr keeps min_documents 50: 41 documents are too few
    out = {r["id"]: r.asDict() for r in token_kl_stage(docs, config).collect()}
    assert all(r["reason"] is None and "token_kl" not in r["signals"] for r in out.values())
    assert all(r["signals"]["tokens"] > 0 for r in out.values())
    judged = {r["id"]: r.asDict() for r in token_kl_stage(_documents(spark, texts, 2), config).collect()}
    assert judged["garbage"]["reason"] == "token_kl_outlier"  # en: min_documents 20 from [languages.en.token_kl]
