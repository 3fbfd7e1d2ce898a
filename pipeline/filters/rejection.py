"""The verdict a filter returns for a record it drops."""

from __future__ import annotations

from typing import NamedTuple


class Rejection(NamedTuple):
    """Why a record was dropped: a short snake_case ``reason`` (aggregated in the statistics) and a free-form
    ``detail`` (the matched domain or word, an HTTP status, an error message, the id of the kept duplicate)."""

    reason: str
    detail: str | None = None
