"""Spark wiring of language identification (Llama 3 §3.1.1, "Multilingual data"): every document gets its
language, confidence and runner-up; below the confidence threshold it is rejected or kept as ``unknown``."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import pyarrow as pa
from pyspark.sql import DataFrame

from pipeline.filters.rejection import Rejection
from pipeline.language_id import LanguageIdConfig, LanguageIdentifier
from pipeline.spark.schema import EXTRACTED_SCHEMA
from pipeline.spark.stages import to_batches
from pipeline.text_tokens import words


@functools.lru_cache(maxsize=2)
def _identifier(config: LanguageIdConfig) -> LanguageIdentifier:
    """One model per Python worker (fastText models cannot be pickled, so each worker loads its own)."""
    return LanguageIdentifier(config)


def language_stage(docs: DataFrame, config: LanguageIdConfig, rows_per_batch: int = 256) -> DataFrame:
    """Fill ``language``, ``language_score``, ``language_runner_up`` and the ``tokens`` signal (words, segmented
    per script: :func:`pipeline.text_tokens.words`); predictions are made one Arrow batch at a time."""

    def identify(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        identifier = _identifier(config)

        def rows():
            for batch in batches:
                records = batch.to_pylist()
                predictions = identifier.predict([r["text"] or "" for r in records])
                for record, prediction in zip(records, predictions, strict=True):
                    yield _label(record, prediction, config)

        yield from to_batches(rows(), EXTRACTED_SCHEMA, rows_per_batch)

    return docs.mapInArrow(identify, EXTRACTED_SCHEMA)


def _label(record: dict, prediction, config: LanguageIdConfig) -> dict:
    signals = dict(record.get("signals") or {})
    signals["tokens"] = float(len(words(record["text"] or "", prediction.language)))
    signals["language_runner_up_score"] = prediction.runner_up_score
    record.update(language=prediction.language, language_score=prediction.score,
                  language_runner_up=prediction.runner_up, signals=signals)
    if not prediction.confident and config.low_confidence == "reject":
        rejection = Rejection("low_language_confidence", f"{prediction.language} {prediction.score:.2f}")
        record["stage"], record["reason"], record["detail"] = "language_id", *rejection
    return record
