"""The token_kl phase and judge pass (Spark aggregations, then the verdict per unit) against the in-memory filter
on the same documents, whatever the units."""

from __future__ import annotations

import dataclasses
import json
import random
import string

import pytest
from conftest import FIXTURES

from pipeline.config import CurateConfig
from pipeline.heuristics.token_kl import TokenBins, TokenKl, TokenKlConfig, TokenKlJudge
from pipeline.registry import FILTER
from pipeline.spark.stages import arrow_schema
from pipeline.spark.token_kl_phase import CorpusJudgements, TokenKlPhase
from pipeline.spark.unit_tasks import FILTER_PASS_SCHEMA, JUDGE, document_batches, judge_unit, unit_file
from pipeline.spark.workdir import WorkDir
from pipeline.steps import Document

PARAGRAPHS = [json.loads(line)["text"] for line in (FIXTURES / "token_kl" / "wikipedia_paragraphs.jsonl").open()]


def _garbage(tokens: int) -> str:
    rng = random.Random(11)
    return " ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9)))
                    for _ in range(tokens))


def _judged(spark, tmp_path, texts: dict[str, str], config: CurateConfig, units: int,
            language: str = "en") -> dict[str, Document]:
    """The documents after the filter pass's token bins (written as ``units`` unit files), the token_kl phase and
    the judge pass."""
    workdir = WorkDir(str(tmp_path / f"out-{units}-{language}"))
    items = list(texts.items())
    names = [f"u{i}" for i in range(units)]
    for i, name in enumerate(names):
        rows = [Document(text, language, id=doc_id, source_file="f").to_row() for doc_id, text in items[i::units]]
        batches = document_batches(rows, [TokenBins(config.token_kl)], FILTER_PASS_SCHEMA, 16)
        workdir.write_parquet(unit_file(workdir, FILTER, name), batches, arrow_schema(FILTER_PASS_SCHEMA))
    judgements = TokenKlPhase(spark, workdir, config, log=lambda line: None).run()
    judge = TokenKlJudge(CorpusJudgements(workdir, judgements, config), config.token_kl.group_by)
    out = {}
    for name in names:
        judge_unit(workdir, name, config, judge)
        table = workdir.read_parquet(unit_file(workdir, JUDGE, name))
        out.update({row["id"]: Document.from_row(row) for row in table.to_pylist()})
    return out


@pytest.mark.parametrize("units", [1, 3])
def test_the_phase_and_judge_pass_match_the_in_memory_filter(spark, tmp_path, units):
    texts = {f"p{i}": text for i, text in enumerate(PARAGRAPHS)} | {"garbage": _garbage(200)}
    kl = TokenKlConfig(min_documents=20)
    out = _judged(spark, tmp_path, texts, dataclasses.replace(CurateConfig(), token_kl=kl), units)
    expected = dict(zip(texts, TokenKl(kl).judge(list(texts.values()), "en"), strict=True))
    assert (out["garbage"].stage, out["garbage"].reason) == ("token_kl", "token_kl_outlier")
    assert [i for i, doc in out.items() if doc.reason] == ["garbage"]
    for doc_id, (signals, _) in expected.items():
        got = out[doc_id].signals
        assert got["tokens"] == signals["tokens"]
        assert got["token_kl"] == pytest.approx(signals["token_kl"], rel=1e-9)
        # the fence comes from approximate quartiles in Spark, the excess from the same least-squares fit
        assert got["token_kl_excess"] == pytest.approx(signals["token_kl_excess"], rel=1e-6)


def test_thin_languages_are_not_judged(spark, tmp_path):
    texts = {f"p{i}": text for i, text in enumerate(PARAGRAPHS[:40])} | {"garbage": _garbage(200)}
    config = CurateConfig().updated({"languages": {"en": {"token_kl": {"min_documents": 20}}}})
    # fr keeps min_documents 50: 41 documents are too few
    french = _judged(spark, tmp_path, texts, config, 2, language="fr")
    assert all(doc.reason is None and "token_kl" not in doc.signals for doc in french.values())
    assert all(doc.signals["tokens"] > 0 for doc in french.values())
    english = _judged(spark, tmp_path, texts, config, 2)  # en: min_documents 20 from [languages.en.token_kl]
    assert english["garbage"].reason == "token_kl_outlier"
