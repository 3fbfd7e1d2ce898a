"""Peak memory of a Spark run from the driver's side: the process tree (driver, JVM, Python workers) sampled with
psutil every 0.1 s; also the largest single Python worker, which bounds memory per task."""

from __future__ import annotations

import threading
import time

import psutil


class PeakMemory:
    """``with PeakMemory() as m: ...`` then ``m.tree`` and ``m.worker`` hold peak RSS in bytes.

    ``root`` samples another process's tree (a ``spark-submit`` started with Popen) instead of this process's, so
    that the sampler's own memory is not counted. ``peaks`` holds the peak RSS of every process seen and
    ``processes`` its (parent pid, command line), read once when it is first seen, so that a caller can pick out
    processes of one kind (Spark's forked Python workers) and report each one's peak."""

    def __init__(self, interval: float = 0.1, root: int | None = None):
        self.interval, self.root, self.tree, self.worker = interval, root, 0, 0
        self.peaks: dict[int, int] = {}
        self.processes: dict[int, tuple[int, str]] = {}
        self._stop = threading.Event()

    def _sample(self):
        try:
            top = psutil.Process(self.root)
        except psutil.Error:
            return
        while not self._stop.is_set():
            total = 0
            try:
                tree = [top, *top.children(recursive=True)]
            except psutil.Error:
                break
            for proc in tree:
                try:
                    rss = proc.memory_info().rss
                    if proc.pid not in self.processes:
                        self.processes[proc.pid] = (proc.ppid(), " ".join(proc.cmdline()))
                    total += rss
                    self.peaks[proc.pid] = max(self.peaks.get(proc.pid, 0), rss)
                    if proc.pid != top.pid and "python" in proc.name():
                        self.worker = max(self.worker, rss)
                except psutil.Error:
                    pass
            self.tree = max(self.tree, total)
            time.sleep(self.interval)

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
