"""The Spark dedup stages against the plain-Python reference, whatever the partitioning."""

import dataclasses

from pipeline.dedup.line_dedup import LineDedupConfig, dedup_lines
from pipeline.spark.dedup_stages import line_dedup_stage
from pipeline.spark.schema import EXTRACTED_SCHEMA

COOKIE = "We use cookies to improve your experience. Accept all cookies?"
MENU = "Home | News | Sport | Weather | Contact"


def _documents(spark, texts: dict[str, str], partitions: int):
    rows = [{f.name: None for f in EXTRACTED_SCHEMA.fields} | {"id": i, "text": t, "source_file": "f",
                                                                 "source_record": 0, "signals": {}}
            for i, t in texts.items()]
    return spark.createDataFrame(rows, EXTRACTED_SCHEMA).repartition(partitions)


RIVERS = ["Danube", "Rhine", "Elbe", "Oder", "Vistula", "Loire", "Seine"]


def _texts():
    # Lines differ in words, not only in numbers: ccNet normalisation maps every digit to 0.
    texts = {f"seven-{i}": f"The {r} rose overnight.\n{COOKIE}" for i, r in enumerate(RIVERS)}
    texts |= {f"six-{i}": f"Bake the {r} cake slowly.\n{MENU}" for i, r in enumerate(RIVERS[:6])}
    texts["only-boilerplate"] = COOKIE
    return texts


def test_line_dedup_boundary_and_partition_independence(spark):
    texts = _texts()
    config = LineDedupConfig()
    expected = dedup_lines(texts.items(), config)
    assert all(COOKIE not in t for t in expected.values()) and all(MENU in expected[f"six-{i}"] for i in range(6))
    for partitions in (1, 3, 7):
        out = {r["id"]: r.asDict() for r in line_dedup_stage(_documents(spark, texts, partitions), config).collect()}
        assert {i: r["text"] for i, r in out.items() if r["reason"] is None} == {
            i: t for i, t in expected.items() if t
        }
        assert out["only-boilerplate"]["reason"] == "empty_after_line_dedup"
        assert out["seven-3"]["signals"]["line_dedup_removed_lines"] == 1.0
        assert out["six-3"]["signals"]["line_dedup_removed_lines"] == 0.0


def test_line_dedup_counts_per_bucket(spark):
    texts = _texts()
    config = dataclasses.replace(LineDedupConfig(), bucket_size=5)
    expected = dedup_lines(texts.items(), config)
    out = {r["id"]: r["text"] for r in line_dedup_stage(_documents(spark, texts, 2), config).collect()}
    assert {i: t for i, t in out.items() if t} == {i: t for i, t in expected.items() if t}
    assert any(COOKIE in t for t in expected.values())  # spread over 3 buckets, no bucket has it 7 times
