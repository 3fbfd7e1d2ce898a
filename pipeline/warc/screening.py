"""Record-level screening, the cheapest step: only complete, successful HTML responses go on.

Llama 3 §3.1.1 uses "HTML content of non-truncated web documents", so records carrying ``WARC-Truncated`` (the
crawler stopped at a size or time limit) and records whose body is shorter than their ``Content-Length`` are
rejected rather than extracted from a partial page. Request, metadata, revisit and warcinfo records are not
documents; they are accounted for as ``not_response``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.steps import Rejection
from pipeline.warc.reader import HTML_CONTENT_TYPES, WarcRecord


@dataclass(frozen=True)
class RecordConfig:
    # Keep only HTTP 200: redirects, errors and 304s carry no page (or an error page).
    allowed_http_statuses: tuple[int, ...] = (200,)
    # HTML only: other types (PDF, images, JSON, plain text) need other extractors.
    allowed_content_types: tuple[str, ...] = tuple(sorted(HTML_CONTENT_TYPES))
    # The paper keeps non-truncated documents only.
    reject_truncated: bool = True


def screen_record(record: WarcRecord, config: RecordConfig = RecordConfig()) -> Rejection | None:
    """None when ``record`` is a candidate document, else why not (``not_response``, ``no_url``, the record's own
    ``problem`` such as an HTTP head over the size limit, ``truncated``, ``http_status``, ``non_html``)."""
    if record.warc_type != "response":
        return Rejection("not_response", record.warc_type)
    if not record.url:
        return Rejection("no_url", None)
    if record.problem is not None:
        return record.problem
    if config.reject_truncated and record.truncated:
        return Rejection("truncated", record.truncated)
    if record.http_status not in config.allowed_http_statuses:
        return Rejection("http_status", str(record.http_status) if record.http_status is not None else "none")
    if record.content_type not in config.allowed_content_types:
        return Rejection("non_html", record.content_type or "none")
    return None
