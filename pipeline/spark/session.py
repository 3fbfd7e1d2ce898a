"""Building the SparkSession: quiet logs, UTC timestamps, and Python workers that use this interpreter."""

from __future__ import annotations

import os
import sys

from pyspark import SparkConf
from pyspark.sql import SparkSession

DEFAULT_CONF = {
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.adaptive.enabled": "true",
    "spark.python.worker.reuse": "true",
    "spark.sql.parquet.compression.codec": "zstd",
}


def build_spark(app_name: str = "llama3-curation", master: str | None = None, conf: dict | None = None,
                log_level: str = "WARN") -> SparkSession:
    """A session on ``master``; without one, what spark-submit was given, else ``local[*]``.

    Nothing here assumes local mode: on a cluster, spark-submit's ``--master`` and ``--conf`` decide."""
    # Executors start Python workers with PYSPARK_PYTHON; default it to this interpreter (the project's venv).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    elif not SparkConf().contains("spark.master"):
        builder = builder.master("local[*]")
    # spark.log.level applies from the SparkContext's start, which hides its INFO start-up flood.
    for key, value in {**DEFAULT_CONF, "spark.log.level": log_level.upper(), **(conf or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(log_level)
    if "spark.sql.shuffle.partitions" not in (conf or {}) and not SparkConf().contains("spark.sql.shuffle.partitions"):
        # Spark's 200 suits terabytes; the index shuffles are small. Set it explicitly for a crawl-sized run.
        spark.conf.set("spark.sql.shuffle.partitions", str(max(2 * spark.sparkContext.defaultParallelism, 4)))
    return spark

