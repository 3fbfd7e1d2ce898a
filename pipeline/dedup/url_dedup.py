"""URL-level de-duplication (Llama 3 §3.1.1: "we perform URL-level de-duplication across the entire dataset.
We keep the most recent version for pages corresponding to each URL").

Fetches are grouped by :func:`pipeline.warc.urls.url_dedup_key` and the one that sorts first under :func:`recency_key`
is kept: the latest ``WARC-Date``, then (for equal dates) the smallest record id, so reruns and different
partitionings keep the same record. The others are rejected as ``url_duplicate`` with the kept id as detail.
The Spark stage (``pipeline.spark.stages.url_dedup``) applies exactly this order as a window over the key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

_MISSING_DATE = datetime.min.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class UrlDedupConfig:
    # Paper: keep the most recent version of each URL. Off only to inspect raw inputs.
    enabled: bool = True


def recency_key(fetch_time: datetime | None, record_id: str) -> tuple:
    """Sort key under which the record to keep comes first: newest fetch first (missing dates last), then id."""
    ts = (fetch_time or _MISSING_DATE).timestamp()
    return (-ts, record_id)


def choose_latest(fetches: Iterable[tuple[str, datetime | None]]) -> tuple[str, list[str]]:
    """Given ``(record_id, fetch_time)`` pairs of one URL, return ``(kept_id, [dropped ids])``."""
    ordered = sorted(fetches, key=lambda f: recency_key(f[1], f[0]))
    return ordered[0][0], [record_id for record_id, _ in ordered[1:]]
