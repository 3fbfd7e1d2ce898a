"""The Spark dedup stages against the plain-Python reference, whatever the partitioning; MinHash removal keeps,
for every removed document, a kept document verified near duplicate to it."""

import dataclasses
import random
from datetime import datetime, timedelta, timezone

import pytest
from test_minhash import cjk_near_duplicates

from pipeline.dedup.line_dedup import LineDedupConfig, dedup_lines
from pipeline.dedup.minhash import MinHashConfig, shingles
from pipeline.spark.dedup_stages import line_dedup_stage
from pipeline.spark.schema import EXTRACTED_SCHEMA

COOKIE = "We use cookies to improve your experience. Accept all cookies?"
MENU = "Home | News | Sport | Weather | Contact"


def _documents(spark, texts: dict[str, str], partitions: int, **columns: dict):
    """Documents with the given texts; ``columns`` maps a column to values by id (e.g. fetch_time, language)."""
    rows = [{f.name: None for f in EXTRACTED_SCHEMA.fields} | {"id": i, "text": t, "source_file": "f",
                                                                 "source_record": 0, "signals": {}}
            | {name: values.get(i) for name, values in columns.items()}
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


def _random_text(rng: random.Random, vocabulary: list[str], words: int = 300) -> str:
    return " ".join(rng.choice(vocabulary) for _ in range(words))


def _vocabulary(seed: int, size: int = 2000) -> list[str]:
    rng = random.Random(seed)  # letters only: digits would all normalise to 0
    return ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(size)]


def _replace_run(text: str, start: int, tag: str) -> str:
    """18 consecutive words replaced: 22 of ~300 shingles change, Jaccard ~0.86 to the text; two such runs ~0.74."""
    words = text.split()
    return " ".join(words[:start] + [f"{tag}{chr(97 + i)}" for i in range(18)] + words[start + 18:])


def _newest_first(ids: list[str]) -> dict[str, datetime]:
    """Fetch times that make ``ids`` the preference order (the most recent fetch is kept)."""
    start = datetime(2024, 6, 1, tzinfo=timezone.utc)
    return {i: start - timedelta(days=k) for k, i in enumerate(ids)}


def _jaccard(a: str, b: str, language: str | None = None) -> float:
    sa, sb = set(shingles(a, 5, language)), set(shingles(b, 5, language))
    return len(sa & sb) / len(sa | sb)


def _verdicts(spark, texts: dict[str, str], config: MinHashConfig, **columns) -> dict[str, dict]:
    from pipeline.spark.dedup_stages import minhash_stage

    out = {r["id"]: r.asDict() for r in minhash_stage(_documents(spark, texts, 3, **columns), config).collect()}
    assert set(out) == set(texts)
    languages = columns.get("language", {})
    for doc, row in out.items():  # every removal names a kept document verified near duplicate to it
        if row["reason"] is not None:
            assert (row["stage"], row["reason"]) == ("minhash_dedup", "minhash_duplicate")
            assert out[row["detail"]]["reason"] is None, doc
            assert _jaccard(texts[doc], texts[row["detail"]], languages.get(doc)) >= config.threshold, doc
    return out


def test_removal_needs_a_kept_near_duplicate_so_chains_keep_their_far_end(spark):
    rng = random.Random(7)
    vocabulary = _vocabulary(7)
    base = _random_text(rng, vocabulary)
    chain_a = _random_text(rng, vocabulary)
    chain_b = _replace_run(chain_a, 0, "qq")
    chain_c = _replace_run(chain_b, 150, "zz")
    x = _random_text(rng, vocabulary)
    middle = _replace_run(x, 0, "mm")
    y = _replace_run(middle, 150, "yy")
    texts = {"base": base, "copy-1": base, "copy-2": base,
             "near-1": base.replace(base.split()[40], "edited", 1), "near-2": base.replace(base.split()[150], "x", 1),
             "chain-a": chain_a, "chain-b": chain_b, "chain-c": chain_c,
             "x": x, "x-copy": x, "middle": middle, "y": y, "y-copy": y,
             "other": _random_text(rng, vocabulary), "no-words-1": "", "no-words-2": "!!! ... ???"}
    assert 0.8 <= _jaccard(chain_a, chain_b) < 0.9 and 0.8 <= _jaccard(chain_b, chain_c) < 0.9
    assert _jaccard(chain_a, chain_c) < 0.8 and _jaccard(x, y) < 0.8
    order = ["near-2", "copy-1", "chain-a", "chain-b", "chain-c", "y", "middle", "y-copy", "x", "x-copy"]
    out = _verdicts(spark, texts, MinHashConfig(), fetch_time=_newest_first(order))
    kept = {i for i, r in out.items() if r["reason"] is None}
    assert {"other", "no-words-1", "no-words-2"} <= kept  # texts without words are not one giant cluster
    # copies and one-word edits: the most recent stays, every other goes for it
    assert kept & {"base", "copy-1", "copy-2", "near-1", "near-2"} == {"near-2"}
    assert {out[i]["detail"] for i in ("base", "copy-1", "copy-2", "near-1")} == {"near-2"}
    # a chain whose ends are not near duplicates: B goes for A, C has no kept near duplicate and stays
    assert kept & {"chain-a", "chain-b", "chain-c"} == {"chain-a", "chain-c"}
    # two groups linked through a middle document: connected components would keep only y and lose x's content
    assert kept & {"x", "x-copy", "middle", "y", "y-copy"} == {"x", "y"}
    assert (out["middle"]["detail"], out["x-copy"]["detail"], out["y-copy"]["detail"]) == ("y", "x", "y")


def test_large_buckets_pair_their_preferred_member_with_the_others(spark):
    from pipeline.spark.dedup_stages import ALL_PAIRS_BUCKET, candidate_pairs, minhash_stage, signatures_frame

    rng = random.Random(5)
    vocabulary = _vocabulary(5)
    many, few = _random_text(rng, vocabulary), _random_text(rng, vocabulary)
    texts = {f"many-{i:02d}": many for i in range(4 * ALL_PAIRS_BUCKET)} | {f"few-{i}": few for i in range(4)}
    order = ["many-17", "few-2"] + sorted(set(texts) - {"many-17", "few-2"})
    docs = _documents(spark, texts, 3, fetch_time=_newest_first(order))
    pairs = {(r["a"]["id"], r["b"]["id"]) for r in candidate_pairs(signatures_frame(docs, MinHashConfig()),
                                                                   MinHashConfig()).collect()}
    # a star from the most recent copy (linear in the bucket), and all pairs of the small bucket
    assert {p for p in pairs if p[0].startswith("many")} == {("many-17", i) for i in texts if i.startswith("many-")
                                                             and i != "many-17"}
    assert len({p for p in pairs if p[0].startswith("few")}) == 6
    out = {r["id"]: r for r in minhash_stage(docs, MinHashConfig()).collect()}
    assert {i for i, r in out.items() if r["reason"] is None} == {"many-17", "few-2"}
    assert {r["detail"] for i, r in out.items() if i.startswith("many-") and i != "many-17"} == {"many-17"}


def test_near_duplicates_in_scripts_without_spaces_are_found_through_word_segmentation(spark):
    pages = cjk_near_duplicates()  # before segmentation, the edits hid these near duplicates (test_minhash)
    texts = {i: row["text"] for i, row in pages.items()}
    languages = {i: row["language"] for i, row in pages.items()}
    pages_first = _newest_first([f"{language}-page" for language in ("zh", "ja", "th")])  # the rest: undated
    out = _verdicts(spark, texts, MinHashConfig(), language=languages, fetch_time=pages_first)
    for language in ("zh", "ja", "th"):
        assert out[f"{language}-page"]["reason"] is None and out[f"{language}-other"]["reason"] is None
        assert out[f"{language}-edited"]["detail"] == f"{language}-page", language


def test_pages_differing_only_in_numbers_are_near_duplicates_unless_digits_are_kept(spark):
    vocabulary = _vocabulary(11)
    template = _random_text(random.Random(3), vocabulary, 240).split()

    def report(numbers: random.Random) -> str:  # the template with a number after every fourth word
        return " ".join(f"{w} {numbers.randint(1, 99_999)}" if k % 4 == 3 else w for k, w in enumerate(template))

    texts = {"monday": report(random.Random(1)), "tuesday": report(random.Random(2)),
             "other": _random_text(random.Random(11), vocabulary)}
    fetch_times = _newest_first(["tuesday", "monday", "other"])
    out = _verdicts(spark, texts, MinHashConfig(), fetch_time=fetch_times)
    assert {i: r["detail"] for i, r in out.items()} == {"monday": "tuesday", "tuesday": None, "other": None}
    out = _verdicts(spark, texts, MinHashConfig(normalize_digits=False), fetch_time=fetch_times)
    assert all(r["reason"] is None for r in out.values())


def _path_edges(spark, n: int):
    """Verified pairs of a path n00 - n01 - ... whose preference falls along it (the worst case for rounds)."""
    rows = [((i, f"n{i:02d}"), (i + 1, f"n{i + 1:02d}"), 0.9) for i in range(n - 1)]
    return spark.createDataFrame(rows, "a struct<t: long, id: string>, b struct<t: long, id: string>, "
                                       "similarity double").repartition(3)


def test_removal_rounds_follow_preference_and_stay_bounded(spark):
    from pipeline.spark.dedup_stages import _keep_and_remove, ensure_checkpoint_dir

    ensure_checkpoint_dir(spark)
    # in preference order: the greedy result, every other node of the path kept
    removed = {r["id"]: r["kept_id"] for r in _keep_and_remove(_path_edges(spark, 8)).collect()}
    assert removed == {f"n{i:02d}": f"n{i - 1:02d}" for i in range(1, 8, 2)}
    # past the preference rounds, random-order rounds finish the path; removals stay valid
    edges = {(f"n{i:02d}", f"n{i + 1:02d}") for i in range(19)}
    removed = {r["id"]: r["kept_id"] for r in _keep_and_remove(_path_edges(spark, 20), priority_rounds=2).collect()}
    kept = {f"n{i:02d}" for i in range(20)} - set(removed)
    assert all(keeper in kept and ((keeper, doc) in edges or (doc, keeper) in edges) for doc, keeper in removed.items())
    assert not any(a in kept and b in kept for a, b in edges)  # nothing kept is a near duplicate of something kept
    assert all((f"n{i:02d}" in kept) or (f"n{i:02d}" in removed) for i in range(20))
    with pytest.raises(RuntimeError, match="did not finish in 3 rounds"):
        _keep_and_remove(_path_edges(spark, 20), priority_rounds=1, max_rounds=3)


def test_standalone_dedup_job_reports_every_id_and_respects_the_grouping_key(spark, tmp_path):
    import json

    import pyarrow.parquet as pq

    from pipeline.config import CurateConfig
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
    assert out["en-1"]["cluster_id"] == out["en-2"]["cluster_id"] == "en-1" and out["en-1"]["similarity"] == 1.0
    assert out["de-1"]["kept"] and out["de-1"]["cluster_id"] == "de-1"  # another language: never compared
    assert out["en-3"]["kept"] and out["en-3"]["lines_removed"] == 0
    source.write_text(json.dumps({"id": "x", "body": "no text column"}))
    with pytest.raises(InputError, match="text"):
        run_dedup(spark, str(source), str(tmp_path / "bad"), config)


def test_documents_of_different_languages_are_never_compared(spark):
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
