"""Spark wiring of model-based quality scoring (Llama 3 §3.1.1 "Model-based quality filtering", "Code and reasoning
data"): every classifier's score goes into ``scores``, one Arrow batch at a time, models loaded once per worker;
documents below a configured minimum of their language are rejected ``low_quality_score``."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
from pyspark.sql import DataFrame

from pipeline.config import CurateConfig, LanguageConfigs
from pipeline.quality.scoring import QualityScorer, check_scores
from pipeline.spark.schema import EXTRACTED_SCHEMA
from pipeline.spark.stages import to_batches


def quality_stage(docs: DataFrame, config: CurateConfig, rows_per_batch: int = 256) -> DataFrame:
    scorer = QualityScorer(config.quality)
    per_language = LanguageConfigs(config)

    def score(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        def rows():
            for batch in batches:
                records = batch.to_pylist()
                for record, scores in zip(records, scorer.score(records), strict=True):
                    record["scores"] = {**dict(record.get("scores") or {}), **scores}
                    rejection = check_scores(record["scores"], per_language(record["language"]).quality)
                    if rejection:
                        record["stage"], record["reason"], record["detail"] = "quality", *rejection
                    yield record

        yield from to_batches(rows(), EXTRACTED_SCHEMA, rows_per_batch)

    return docs.mapInArrow(score, EXTRACTED_SCHEMA)
