"""Turning the ``--io.input`` specification into the list of WARC files to read (on the driver: a list of files,
never of documents)."""

from __future__ import annotations

import glob
import os

from pipeline.resources import read_list

WARC_SUFFIXES = (".warc", ".warc.gz", ".warc.zst", ".warc.lz4", ".arc", ".arc.gz")
LIST_SUFFIXES = (".paths", ".paths.gz", ".txt", ".txt.gz", ".lst")
_GLOB_CHARS = set("*?[")


def _fs(path: str):
    import fsspec

    scheme = path.split("://", 1)[0] if "://" in path else "file"
    return fsspec.filesystem({"s3a": "s3", "s3n": "s3"}.get(scheme, scheme)), scheme


def _with_scheme(scheme: str, path: str) -> str:
    return path if scheme == "file" or "://" in path else f"{scheme}://{path}"


def _read_list_file(path: str, prefix: str) -> list[str]:
    entries = []
    for entry in read_list(path):
        if "://" in entry or os.path.isabs(entry) or not prefix:
            entries.append(entry)
        else:
            entries.append(prefix.rstrip("/") + "/" + entry.lstrip("/"))
    return entries


def expand_inputs(spec: str, prefix: str = "") -> list[str]:
    """WARC files named by ``spec``: comma-separated globs, directories (searched recursively for WARC files),
    files, and list files (one path per line, relative ones joined to ``prefix``). Sorted, without repeats.

    Raises FileNotFoundError with the offending item when an item matches nothing.
    """
    files: list[str] = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        if item.endswith(LIST_SUFFIXES):
            files.extend(_read_list_file(item, prefix))
            continue
        fs, scheme = _fs(item)
        local = item[len("file://"):] if item.startswith("file://") else item
        if scheme == "file":
            if _GLOB_CHARS & set(local):
                matches = sorted(glob.glob(local, recursive=True))
            elif os.path.isdir(local):
                matches = sorted(
                    os.path.join(root, name)
                    for root, _dirs, names in os.walk(local) for name in names if name.endswith(WARC_SUFFIXES)
                )
            else:
                matches = [local] if os.path.exists(local) else []
            matches = [os.path.abspath(m) for m in matches if os.path.isfile(m)]
        elif _GLOB_CHARS & set(item):
            matches = [_with_scheme(scheme, m) for m in sorted(fs.glob(item))]
        elif fs.isdir(item):
            matches = [_with_scheme(scheme, m) for m in sorted(fs.find(item)) if m.endswith(WARC_SUFFIXES)]
        else:
            matches = [item]
        if not matches:
            raise FileNotFoundError(f"input {item!r} matches no file")
        files.extend(matches)
    return list(dict.fromkeys(files))
