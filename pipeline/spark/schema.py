"""The document schema (one, documented) and the record index the job builds before extraction.

Output ``documents/`` (Parquet), one row per kept document:

| column | type | meaning |
|---|---|---|
| id | string | WARC-Record-ID of the response (the UUID, without ``<urn:uuid:...>``) |
| url | string | WARC-Target-URI as crawled |
| url_key | string | normalised URL used for URL dedup (:func:`pipeline.warc.urls.url_dedup_key`) |
| host | string | lower-case host name |
| domain | string | registered domain (eTLD+1) of the host |
| fetch_time | timestamp (UTC) | WARC-Date |
| source_file | string | WARC file the record came from |
| source_offset | long | byte offset of the record in that file (compressed offset for .warc.gz) |
| source_record | int | 0-based position of the record in that file |
| charset | string | codec used to decode the HTML |
| html_bytes | long | size of the HTTP body |
| text | string | extracted plain text (no markdown markers; code and TeX kept) |
| language | string | lid.176 code (``unknown`` below the confidence threshold, if so configured); output partition |
| language_score | double | language-ID confidence (null until then) |
| language_runner_up | string | the model's second choice (confusable pairs such as bs/hr, no/nn show here) |
| scores | map<string,double> | model scores by classifier name, filled by later stages |
| signals | map<string,double> | heuristic signals by name, filled by later stages (kept so users can re-threshold) |

Output ``rejected/`` (Parquet), one row per record not kept: ``id, url, domain, fetch_time, source_file,
source_offset, source_record, stage, reason, detail`` where ``stage`` is the step that dropped it (one of
``STAGES``), ``reason`` a short snake_case code and ``detail`` the evidence (the HTTP status, the listed domain,
the id of the kept duplicate, an error message).
"""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    DoubleType,
    IntegerType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

_PROVENANCE = [
    StructField("id", StringType(), False),
    StructField("url", StringType(), True),
    StructField("url_key", StringType(), True),
    StructField("host", StringType(), True),
    StructField("domain", StringType(), True),
    StructField("fetch_time", TimestampType(), True),
    StructField("source_file", StringType(), False),
    StructField("source_offset", LongType(), True),
    StructField("source_record", IntegerType(), False),
]
_VERDICT = [
    StructField("stage", StringType(), True),
    StructField("reason", StringType(), True),
    StructField("detail", StringType(), True),
]

DOCUMENT_SCHEMA = StructType(
    _PROVENANCE
    + [
        StructField("charset", StringType(), True),
        StructField("html_bytes", LongType(), True),
        StructField("text", StringType(), True),
        StructField("language", StringType(), True),
        StructField("language_score", DoubleType(), True),
        StructField("language_runner_up", StringType(), True),
        StructField("scores", MapType(StringType(), DoubleType()), True),
        StructField("signals", MapType(StringType(), DoubleType()), True),
    ]
)

# One row per WARC record (or per unreadable remainder of a file), before any page is extracted.
INDEX_SCHEMA = StructType(
    _PROVENANCE
    + [
        StructField("warc_type", StringType(), True),
        StructField("http_status", IntegerType(), True),
        StructField("content_type", StringType(), True),
        StructField("http_charset", StringType(), True),
        StructField("payload_bytes", LongType(), True),
    ]
    + _VERDICT
)

# What the extraction step returns: a document, or the same columns with a verdict.
EXTRACTED_SCHEMA = StructType(DOCUMENT_SCHEMA.fields + _VERDICT)

# Output ``rejected/``: the document columns (null where the record was dropped before extraction) and the verdict.
REJECTED_SCHEMA = EXTRACTED_SCHEMA

# What the passes over documents hand on to the phases after them (``Document.artifacts``), besides the documents.
EXTRACT_ARTIFACTS = StructType([
    StructField("minhash", ArrayType(LongType()), True),  # MinHash signature (None: no words)
    StructField("line_hashes", ArrayType(LongType()), True),  # per line of the text (None: empty once normalised)
])
FILTER_ARTIFACTS = StructType([
    StructField("token_bins", ArrayType(IntegerType()), True),  # distinct hashed token bins of the final text
    StructField("token_counts", ArrayType(IntegerType()), True),  # and the count of each
])
