"""The output folder as the job's durable state: what each phase finished, written so that a crash at any point
loses at most the units in flight.

Layout under ``OUT/_work/`` (names starting with ``_`` or ``.`` are invisible to Spark's and pyarrow's readers):

- ``run.json``: the run's identity (config, inputs, versions and their fingerprint), written when it starts;
- ``<phase>/<unit>.parquet`` and ``<phase>/_done/<unit>.json``: a per-unit pass's output and its completion
  marker (the marker is written after the file, so a file without a marker is rewritten on resume);
  every marker records the fingerprint of the run's config and inputs (``run.json``);
- ``<phase>/...`` written by Spark, and ``_phases/<phase>.json``: a Spark phase's output and its marker, written
  after Spark's job commit;
- ``dedup/checkpoints/``: reliable checkpoints of MinHash removal's rounds (unless ``spark.checkpoint.dir`` is set).

Every write is atomic: to a hidden temporary name, then renamed, so a reader never sees half a file. Paths are
local or any fsspec URL; Spark gets the same locations (``s3a://`` for Hadoop, read as ``s3://`` by fsspec).
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

WORK = "_work"
DONE = "_done"
PHASES = "_phases"


def fsspec_url(path: str) -> str:
    """``path`` as fsspec names it (Hadoop's ``s3a://`` is fsspec's ``s3://``)."""
    for hadoop_scheme in ("s3a://", "s3n://"):
        if path.startswith(hadoop_scheme):
            return "s3://" + path[len(hadoop_scheme):]
    return path


class WorkDir:
    """Paths and atomic reads and writes under the output folder; pickles to executors (it holds the path)."""

    def __init__(self, output: str, run: str = ""):
        output = output.rstrip("/")
        self.output = output if "://" in output else os.path.abspath(output)
        self.run = run  # the fingerprint of the run's config and inputs, recorded in every marker
        self._fs = None

    @property
    def fs(self) -> fsspec.AbstractFileSystem:
        if self._fs is None:
            self._fs = fsspec.core.url_to_fs(fsspec_url(self.output))[0]
        return self._fs

    def __getstate__(self):
        return {"output": self.output, "run": self.run, "_fs": None}

    def path(self, *parts: str) -> str:
        """The location of ``parts`` under the output folder, as Spark names it."""
        return "/".join([self.output, *parts])

    def work(self, *parts: str) -> str:
        return self.path(WORK, *parts)

    def _local(self, path: str) -> str:
        return fsspec_url(path)

    def exists(self, path: str) -> bool:
        return self.fs.exists(self._local(path))

    def makedirs(self, path: str) -> None:
        self.fs.makedirs(self._local(path), exist_ok=True)

    def list_names(self, folder: str) -> list[str]:
        """File names directly in ``folder`` (none when it does not exist)."""
        try:
            entries = self.fs.ls(self._local(folder), detail=False)
        except FileNotFoundError:
            return []
        return [entry.rstrip("/").rsplit("/", 1)[-1] for entry in entries]

    def remove(self, path: str) -> None:
        if self.exists(path):
            self.fs.rm(self._local(path), recursive=True)

    def read_json(self, path: str) -> Any:
        """The JSON at ``path``, or None when there is none."""
        try:
            with self.fs.open(self._local(path), "r") as fh:
                return json.load(fh)
        except FileNotFoundError:
            return None

    @contextlib.contextmanager
    def committed(self, path: str):
        """A binary file handle that becomes ``path`` when the block ends without error (written to a hidden
        temporary beside it, then renamed), and is removed otherwise."""
        target = self._local(path)
        folder, name = target.rsplit("/", 1)
        temporary = f"{folder}/.{name}.{uuid.uuid4().hex}.tmp"
        self.fs.makedirs(folder, exist_ok=True)
        try:
            with self.fs.open(temporary, "wb") as fh:
                yield fh
            self.fs.mv(temporary, target)
        finally:
            if self.fs.exists(temporary):
                self.fs.rm(temporary)

    def write_json(self, path: str, value: Any) -> None:
        data = json.dumps(value, indent=2, sort_keys=True, default=str).encode()
        with self.committed(path) as fh:
            fh.write(data)

    def write_parquet(self, path: str, batches, schema: pa.Schema) -> int:
        """Write record ``batches`` (an iterable, consumed one at a time) as one Parquet file; returns the rows."""
        rows = 0
        with self.committed(path) as fh, pq.ParquetWriter(fh, schema, compression="zstd") as writer:
            for batch in batches:
                writer.write_batch(batch)
                rows += batch.num_rows
        return rows

    def read_parquet(self, path: str, columns: list[str] | None = None) -> pa.Table | None:
        """A Parquet file, or all Parquet files of a folder (e.g. one partition Spark wrote); None when absent."""
        local = self._local(path)
        if not self.fs.exists(local):
            return None
        if self.fs.isdir(local):
            files = sorted(p for p in self.fs.ls(local, detail=False)
                           if p.endswith(".parquet") and not p.rsplit("/", 1)[-1].startswith((".", "_")))
            tables = [pq.read_table(p, columns=columns, filesystem=self.fs) for p in files]
            return pa.concat_tables(tables) if tables else None
        return pq.read_table(local, columns=columns, filesystem=self.fs)

    def iter_batches(self, path: str, batch_size: int):
        """The record batches of one Parquet file, ``batch_size`` rows at a time (bounded memory)."""
        with self.fs.open(self._local(path), "rb") as fh:
            yield from pq.ParquetFile(fh).iter_batches(batch_size=batch_size)

    # --- markers

    def unit_marker(self, phase: str, unit: str) -> str:
        return self.work(phase, DONE, f"{unit}.json")

    def done_units(self, phase: str) -> set[str]:
        return {name[: -len(".json")] for name in self.list_names(self.work(phase, DONE)) if name.endswith(".json")}

    def phase_marker(self, phase: str) -> str:
        return self.work(PHASES, f"{phase}.json")

    def phase_done(self, phase: str) -> dict | None:
        return self.read_json(self.phase_marker(phase))

    def finish_phase(self, phase: str, summary: dict) -> None:
        self.write_json(self.phase_marker(phase), {"phase": phase, "run": self.run, **summary})

    def finish_unit(self, phase: str, unit: str, summary: dict) -> None:
        self.write_json(self.unit_marker(phase, unit), {"unit": unit, "run": self.run, **summary})
