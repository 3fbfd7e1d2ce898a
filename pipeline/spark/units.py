"""Per-unit passes: Spark schedules one task per unit of work (an input file, or a run of its records), each task
reads its unit's inputs, writes its unit's output file and then its completion marker.

That makes a pass resumable unit by unit (a rerun skips units with a marker), lets Spark rerun the units of a lost
executor elsewhere (a unit's task reads only durable files, so nothing is lost with the executor), and keeps page
text out of the JVM: the Python worker reads and writes Parquet itself. A long pass prints its progress (records
done of total, rate, time left) every ``progress_seconds``, and each Spark job carries a description naming its
phase, so the Spark UI shows what runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pyspark import SparkContext

from pipeline.spark.workdir import WorkDir

# More tasks than this and each task takes several units: the scheduler's cost grows with the task count.
MAX_TASKS = 20_000


@dataclass(frozen=True)
class Unit:
    """One unit of a pass: its id (a file name under the pass's folder) and the records it covers (for progress)."""

    id: str
    records: int


def describe(spark_context: SparkContext, phase: str, what: str) -> None:
    """Name the Spark jobs that follow in the Spark UI."""
    spark_context.setJobGroup(phase, f"{phase}: {what}", interruptOnCancel=False)


class Progress:
    """A thread printing ``[phase] done of total records, rate, time left`` from an accumulator while a pass
    runs, every ``seconds``."""

    def __init__(self, log: Callable[[str], None], phase: str, total: int, already: int, counter, seconds: float,
                 noun: str):
        self.log, self.phase, self.total, self.already, self.counter = log, phase, total, already, counter
        self.seconds, self.noun = seconds, noun
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Progress:
        self.started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            done = self.counter.value
            elapsed = time.monotonic() - self.started
            rate = done / elapsed if elapsed else 0.0
            left = self.total - self.already - done
            eta = f"{left / rate / 60:.1f} min left" if rate > 0 else "time left unknown"
            self.log(f"[{self.phase}] {self.already + done:,} of {self.total:,} {self.noun} "
                     f"({(self.already + done) / max(self.total, 1):.0%}), {rate:.1f} {self.noun}/s, {eta}")


def run_units(spark_context: SparkContext, workdir: WorkDir, phase: str, units: Sequence[Unit],
              process: Callable[[str], dict], log: Callable[[str], None], progress_seconds: float = 15.0,
              noun: str = "records") -> int:
    """Run ``process(unit id)`` for every unit without a completion marker, one Spark task per unit (largest
    first, so the longest ones do not start last), and write each unit's marker (``process``'s summary) after it
    returns. Returns the number of units processed now (the others were done before)."""
    done = workdir.done_units(phase)
    todo = sorted((u for u in units if u.id not in done), key=lambda u: -u.records)
    if not todo:
        return 0
    total = sum(u.records for u in units)
    already = total - sum(u.records for u in todo)
    counter = spark_context.accumulator(0)

    def task(batch):
        for unit in batch:
            marker = workdir.unit_marker(phase, unit.id)
            if not workdir.exists(marker):  # a retried task may find units its failed attempt finished
                started = time.perf_counter()
                summary = process(unit.id)
                workdir.finish_unit(phase, unit.id, {**summary, "seconds": round(time.perf_counter() - started, 3)})
            counter.add(unit.records)
            yield 1

    describe(spark_context, phase, f"{len(todo):,} of {len(units):,} units, {total - already:,} {noun}")
    with Progress(log, phase, total, already, counter, progress_seconds, noun):
        spark_context.parallelize(todo, min(len(todo), MAX_TASKS)).mapPartitions(task).count()
    return len(todo)
