"""Reading list files (block lists, word lists, WARC path lists) from local disk, any fsspec URL, or the files
shipped inside the package.

A path ``shipped:<relative path>`` names a file under ``pipeline/resources``, found with ``importlib.resources``:
it works wherever the package is imported from (an installed wheel, a packed virtualenv on an executor, a zip), so
config defaults never depend on where the project was checked out.
"""

from __future__ import annotations

import gzip
import importlib.resources
from collections.abc import Iterator
from importlib.abc import Traversable

SHIPPED = "shipped:"


def shipped(relative: str) -> Traversable:
    """A file or folder under ``pipeline/resources`` (``relative`` uses ``/``)."""
    return importlib.resources.files("pipeline").joinpath("resources", *relative.strip("/").split("/"))


def _open(path: str):
    if path.startswith(SHIPPED):
        raw = shipped(path[len(SHIPPED):]).open("rb")
        return gzip.GzipFile(fileobj=raw) if path.endswith(".gz") else raw
    import fsspec

    return fsspec.open(path, "rb", compression="infer").open()


def read_list(path: str) -> Iterator[str]:
    """Non-empty, non-comment (``#``) lines of a plain or gzipped text file, stripped."""
    with _open(path) as raw:
        for line in raw:
            entry = line.decode("utf-8", "replace").strip()
            if entry and not entry.startswith("#"):
                yield entry
