"""Reading list files (block lists, word lists, WARC path lists) from local disk or any fsspec URL."""

from __future__ import annotations

from collections.abc import Iterator


def read_list(path: str) -> Iterator[str]:
    """Non-empty, non-comment (``#``) lines of a plain or gzipped text file, stripped."""
    import fsspec

    with fsspec.open(path, "rb", compression="infer") as raw:
        for line in raw:
            entry = line.decode("utf-8", "replace").strip()
            if entry and not entry.startswith("#"):
                yield entry
