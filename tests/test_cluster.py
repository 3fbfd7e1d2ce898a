"""The README's cluster recipe, for real: a Spark standalone master and two workers on 127.0.0.1 (started with
the pyspark wheel's ``spark-class``), the project's dependencies shipped to the executors as a venv-pack archive
(``--archives``), and the job submitted with ``spark-submit``. The workers' Python has neither the project nor its
dependencies: only the archive can make the job work. Its output must equal a local run's.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pyspark
import pytest
from conftest import REPO
from test_runs import outcome, spark_submit

from pipeline.config import CurateConfig, IoConfig
from pipeline.spark.curate import run_curation

SHARD = REPO / "sample_data" / "shards" / "sample-0001.warc.gz"
BIN = Path(sys.executable).parent
# The nodes' Spark installation: the pyspark wheel's, as SPARK_HOME (its bin/spark-class, jars/, python/lib/).
SPARK_HOME = Path(pyspark.__file__).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _clean_env() -> dict[str, str]:
    """The environment of a node that never saw this project: no virtualenv on PATH, no Python settings."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if Path(p) != BIN)
    return env


def _run(command: list, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert proc.returncode == 0, (command, proc.stdout[-2000:], proc.stderr[-3000:])
    return proc


@pytest.fixture(scope="module")
def packed_env(tmp_path_factory) -> Path:
    """The archive, built with README's commands ("Running on a cluster")."""
    folder = tmp_path_factory.mktemp("pack")
    env, archive, source = folder / "curate-env", folder / "curate-env.tar.gz", folder / "source"
    # Installed from a copy of the checkout, so that the build leaves nothing in it.
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "out",
                                                                "__pycache__", ".pytest_cache", ".ruff_cache"))
    _run([sys.executable, "-m", "venv", str(env)])
    _run([str(env / "bin" / "pip"), "install", "--quiet", str(source), "venv-pack"], timeout=1200)
    _run([str(env / "bin" / "venv-pack"), "--prefix", str(env), "--output", str(archive), "--quiet",
          "--exclude", "lib/python*/site-packages/pyspark/*", "--compress-level", "1"], timeout=600)
    return archive


@pytest.fixture(scope="module")
def standalone(tmp_path_factory):
    """``spark://127.0.0.1:<port>`` with two one-core workers, stopped afterwards."""
    work = tmp_path_factory.mktemp("standalone")
    port, ui = _free_port(), _free_port()
    env = {**_clean_env(), "SPARK_HOME": str(SPARK_HOME), "SPARK_LOG_DIR": str(work / "logs")}
    spark_class = str(SPARK_HOME / "bin" / "spark-class")
    master = subprocess.Popen([spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                               "--port", str(port), "--webui-port", str(ui)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"spark://127.0.0.1:{port}"
    workers = [subprocess.Popen([spark_class, "org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1",
                                 "--cores", "1", "--memory", "1200m", "--webui-port", "0",
                                 "--work-dir", str(work / f"worker-{i}")], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(2)]
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=5) as response:
                    alive = [w for w in json.load(response)["workers"] if w["state"] == "ALIVE"]
                if len(alive) == 2:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the standalone master and workers did not come up"
            time.sleep(1)
        yield url, work
    finally:
        for proc in [*workers, master]:
            proc.terminate()
        for proc in [*workers, master]:
            proc.wait(timeout=60)


def test_the_documented_recipe_runs_on_a_standalone_cluster(spark, packed_env, standalone, tmp_path):
    url, work = standalone
    # The workers' Python knows nothing of the project: without the archive nothing would run.
    bare = subprocess.run(["python3", "-c", "import pipeline, trafilatura"], env=_clean_env(), cwd="/",
                          capture_output=True, text=True)
    assert bare.returncode != 0
    reference_out = tmp_path / "local"
    config = dataclasses.replace(CurateConfig(), io=IoConfig(input=str(SHARD), output=str(reference_out)))
    run_curation(spark, config, log=lambda line: None)

    out = tmp_path / "cluster"
    command = [spark_submit(), "--master", url, "--archives", f"{packed_env}#environment",
               "--conf", "spark.pyspark.python=./environment/bin/python",
               "--conf", f"spark.pyspark.driver.python={sys.executable}", "--conf", "spark.executor.memory=900m",
               str(REPO / "jobs" / "curate.py"), "--input", str(SHARD), "--output", str(out)]
    # Submitted from the user's environment (the project's virtualenv active), as README says.
    user_env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK_")}
    user_env["PATH"] = os.pathsep.join([str(BIN), user_env.get("PATH", "")])  # as `. .venv/bin/activate` does
    proc = subprocess.run(command, cwd=REPO, env=user_env, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])
    assert f"(Spark master {url})" in proc.stdout
    assert outcome(out) == outcome(reference_out)
    # Both workers ran executors from the unpacked archive.
    unpacked = {p.parts[len(work.parts)] for p in work.glob("worker-*/app-*/*/environment/bin/python")}
    assert unpacked == {"worker-0", "worker-1"}
