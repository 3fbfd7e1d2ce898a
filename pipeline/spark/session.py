"""Building the SparkSession: what spark-submit was given wins, the project's defaults fill the rest.

Under ``spark-submit`` the Python driver is started by a JVM that already holds ``--master`` and every ``--conf``
as system properties; a ``SparkConf()`` made before the Python side has connected to that JVM is empty, so it
cannot tell what was given. :func:`build_spark` connects first (``SparkContext._ensure_initialized``), reads the
given settings, and only then sets a default for what nobody gave.
"""

from __future__ import annotations

import os
import sys

from pyspark import SparkConf, SparkContext
from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[*]"
DEFAULT_CONF = {
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.adaptive.enabled": "true",
    "spark.python.worker.reuse": "true",
    "spark.sql.parquet.compression.codec": "zstd",
    # INT64 microseconds with isAdjustedToUTC: every Parquet reader sees a UTC timestamp (INT96 has no time zone).
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}


def given_conf() -> SparkConf:
    """The settings this driver was started with (spark-submit's ``--master``/``--conf``, spark-defaults.conf).

    A driver started with plain ``python`` gets its JVM from PySpark's launcher, which sets the console progress
    bar on as for an interactive shell: that one is not the user's choice, so it is left out."""
    SparkContext._ensure_initialized()
    conf = SparkConf()
    if conf.get("spark.app.name") == "pyspark-shell":
        conf._jconf.remove("spark.ui.showConsoleProgress")
    return conf


def build_spark(app_name: str = "llama3-curation", master: str | None = None, conf: dict | None = None,
                log_level: str = "WARN") -> SparkSession:
    """A session on ``master`` when one is passed (``--master`` of a job run with ``python``), else on the master
    spark-submit was given, else ``local[*]``. Each setting of ``conf`` and of :data:`DEFAULT_CONF` applies only
    where spark-submit gave none, so ``--conf`` always wins."""
    # Executors start Python workers with PYSPARK_PYTHON; default it to this interpreter (the project's venv).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    given = given_conf()
    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    elif not given.contains("spark.master"):
        builder = builder.master(DEFAULT_MASTER)
    # spark.log.level applies from the SparkContext's start, which hides its INFO start-up flood.
    defaults = {**DEFAULT_CONF, "spark.log.level": log_level.upper(), **(conf or {})}
    for key, value in defaults.items():
        if not given.contains(key):
            builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(log_level)
    if not given.contains("spark.sql.shuffle.partitions") and "spark.sql.shuffle.partitions" not in (conf or {}):
        # Spark's 200 suits terabytes; the shuffles here are of small columns. Set it explicitly for a crawl.
        spark.conf.set("spark.sql.shuffle.partitions", str(max(2 * spark.sparkContext.defaultParallelism, 4)))
    return spark
