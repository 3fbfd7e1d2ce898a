"""The Spark dedup stages against the plain-Python reference, whatever the partitioning."""

import dataclasses

import pytest

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


def test_connected_components_resolve_chains_and_stars(spark):
    from pipeline.spark.dedup_stages import connected_components

    chain = [(f"c{i:02d}", f"c{i + 1:02d}") for i in range(20)]  # a path of 21 nodes, listed in order
    star = [("s-hub", f"s{i:03d}") for i in range(200)]
    pairs = [("b", "a"), ("d", "c"), ("c", "b")]  # a-b-c-d, given in awkward directions
    edges = spark.createDataFrame(chain[::-1] + star + pairs, "src string, dst string").repartition(3)
    components = {r["node"]: r["component"] for r in connected_components(edges).collect()}
    assert {components[f"c{i:02d}"] for i in range(21)} == {"c00"}
    assert {components[n] for n in ["s-hub"] + [f"s{i:03d}" for i in range(200)]} == {"s-hub"}
    assert {components[n] for n in "abcd"} == {"a"}
    assert len(components) == 21 + 201 + 4


def test_minhash_stage_keeps_one_per_cluster_and_resolves_chains(spark):
    import random

    from pipeline.dedup.minhash import MinHashConfig
    from pipeline.spark.dedup_stages import candidate_edges, minhash_stage, signatures_frame

    rng = random.Random(7)
    vocabulary = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
                  for _ in range(2000)]
    base = " ".join(rng.choice(vocabulary) for _ in range(300))
    edited = [base.replace(base.split()[i], "edited", 1) for i in (40, 150)]
    chain_a = " ".join(rng.choice(vocabulary) for _ in range(300))

    def replace_run(text: str, start: int, tag: str) -> str:  # 18 consecutive words replaced
        words = text.split()
        return " ".join(words[:start] + [f"{tag}{chr(97 + i)}" for i in range(18)] + words[start + 18:])

    chain_b = replace_run(chain_a, 0, "qq")  # Jaccard(A, B) ~0.86
    chain_c = replace_run(chain_b, 150, "zz")  # Jaccard(B, C) ~0.86, Jaccard(A, C) ~0.74: below the threshold
    other = " ".join(rng.choice(vocabulary) for _ in range(300))
    texts = {"base": base, "copy-1": base, "copy-2": base, "near-1": edited[0], "near-2": edited[1],
             "chain-a": chain_a, "chain-b": chain_b, "chain-c": chain_c, "other": other,
             "no-words-1": "", "no-words-2": "!!! ... ???"}
    docs = _documents(spark, texts, 3)
    # LSH tuned lower so both chain links are candidates; verification at 0.8 rejects the direct A-C pair, so
    # only transitivity (connected components) can put A and C together.
    config = MinHashConfig(threshold=0.7, verify_threshold=0.8)
    out = {r["id"]: r.asDict() for r in minhash_stage(docs, config).collect()}
    survivors = {i for i, r in out.items() if r["reason"] is None}
    edges = {frozenset((r["src"], r["dst"])) for r in candidate_edges(signatures_frame(docs, config), config).collect()}
    assert frozenset(("chain-a", "chain-b")) in edges and frozenset(("chain-a", "chain-c")) not in edges
    assert {"other", "no-words-1", "no-words-2"} <= survivors  # texts without words are not one giant cluster
    assert len(survivors & {"base", "copy-1", "copy-2", "near-1", "near-2"}) == 1
    assert len(survivors & {"chain-a", "chain-b", "chain-c"}) == 1
    kept = min(survivors & {"base", "copy-1", "copy-2", "near-1", "near-2"})
    for dup in {"base", "copy-1", "copy-2", "near-1", "near-2"} - {kept}:
        assert (out[dup]["stage"], out[dup]["reason"], out[dup]["detail"]) == ("minhash_dedup", "minhash_duplicate",
                                                                               kept)


def test_standalone_dedup_job_reports_every_id_and_respects_the_grouping_key(spark, tmp_path):
    import dataclasses
    import json
    import random

    import pyarrow.parquet as pq

    from pipeline.config import CurateConfig
    from pipeline.dedup.minhash import MinHashConfig
    from pipeline.spark.dedup_job import InputError, run_dedup

    rng = random.Random(3)
    vocabulary = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6)) for _ in range(500)]
    article = " ".join(rng.choice(vocabulary) for _ in range(200))
    other = " ".join(rng.choice(vocabulary) for _ in range(200))
    rows = [{"id": "en-1", "text": article, "lang": "en", "fetch_time": "2024-01-01T00:00:00Z"},
            {"id": "en-2", "text": article, "lang": "en", "fetch_time": "2024-03-01T00:00:00Z"},
            {"id": "de-1", "text": article, "lang": "de"},
            {"id": "en-3", "text": other + f"\n{COOKIE}", "lang": "en"}]
    source = tmp_path / "docs.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows))
    config = dataclasses.replace(CurateConfig(), minhash=MinHashConfig(group_by="language"))
    summary = run_dedup(spark, str(source), str(tmp_path / "out"), config, line_dedup=True)
    out = {r["id"]: r for r in pq.read_table(tmp_path / "out").to_pylist()}
    assert set(out) == {"en-1", "en-2", "de-1", "en-3"} and "4 documents -> 3 kept" in summary
    assert (out["en-1"]["kept"], out["en-1"]["reason"], out["en-1"]["kept_id"]) == (False, "minhash_duplicate", "en-2")
    assert out["en-1"]["cluster_id"] == out["en-2"]["cluster_id"] == "en-1"
    assert out["de-1"]["kept"] and out["de-1"]["cluster_id"] == "de-1"  # another language: never compared
    assert out["en-3"]["kept"] and out["en-3"]["lines_removed"] == 0
    source.write_text(json.dumps({"id": "x", "body": "no text column"}))
    with pytest.raises(InputError, match="text"):
        run_dedup(spark, str(source), str(tmp_path / "bad"), config)


def test_documents_of_different_languages_are_never_compared(spark):
    from pipeline.dedup.line_dedup import LineDedupConfig
    from pipeline.dedup.minhash import MinHashConfig
    from pipeline.spark.dedup_stages import minhash_stage

    page = " ".join(f"{r.lower()} flows past {c}" for r in RIVERS for c in ("mills", "towns", "farms", "bridges"))
    texts = {"en-a": page, "en-b": page + " today", "de-a": page, "fr-a": page}
    languages = {"en-a": "en", "en-b": "en", "de-a": "de", "fr-a": "fr"}
    docs = _documents(spark, texts, 2).drop("language").join(
        spark.createDataFrame(list(languages.items()), "id string, language string"), "id")
    out = {r["id"]: r["reason"] for r in minhash_stage(docs, MinHashConfig()).collect()}
    assert out == {"en-a": "minhash_duplicate", "en-b": None, "de-a": None, "fr-a": None} or out == {
        "en-a": None, "en-b": "minhash_duplicate", "de-a": None, "fr-a": None}
    # line dedup buckets are per language too: the shared lines of 7 documents in 7 languages all stay
    lines = {f"d{i}": f"{COOKIE}\nOwn line {r}." for i, r in enumerate(RIVERS)}
    multi = _documents(spark, lines, 2).drop("language").join(
        spark.createDataFrame([(f"d{i}", f"l{i}") for i in range(7)], "id string, language string"), "id")
    trimmed = {r["id"]: r["text"] for r in line_dedup_stage(multi, LineDedupConfig()).collect()}
    assert all(COOKIE in text for text in trimmed.values())
