"""Peak memory of a Spark run from the driver's side: the process tree (driver, JVM, Python workers) sampled with
psutil every 0.1 s; also the largest single Python worker, which bounds memory per task."""

from __future__ import annotations

import threading
import time

import psutil


class PeakMemory:
    """``with PeakMemory() as m: ...`` then ``m.tree`` and ``m.worker`` hold peak RSS in bytes."""

    def __init__(self, interval: float = 0.1):
        self.interval, self.tree, self.worker = interval, 0, 0
        self._stop = threading.Event()

    def _sample(self):
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    rss = proc.memory_info().rss
                    total += rss
                    if proc.pid != me.pid and "python" in proc.name():
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
