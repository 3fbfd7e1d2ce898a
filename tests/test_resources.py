"""Shipped resources (block lists, word lists, per-language defaults, the demo models) are found with
importlib.resources, so they load wherever the package is imported from, a zip included (as with
``spark-submit --py-files pipeline.zip``)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import REPO

PROBE = """
import pipeline
assert pipeline.__file__.startswith(ZIP), pipeline.__file__
from pipeline.config import CurateConfig, shipped_defaults
from pipeline.heuristics.dirty_words import DirtyWords
from pipeline.safety.url_safety import UrlSafetyFilter
from pipeline.quality.fasttext_classifier import FastTextClassifier
from pipeline.quality.transformer_classifier import read_classifier_config

safety = UrlSafetyFilter.from_config(CurateConfig().safety)
print(safety.check("http://www.pornhub.com/x", "www.pornhub.com").reason)
print(safety.check("http://example.com/sex-videos-xxx", "example.com").reason)
print(sorted(shipped_defaults("domains")))
print(DirtyWords().apply("porn porn sex sex xxx", "en").signals["dirty_page"])
print(FastTextClassifier().score(["The river rises in the Alps and flows into the North Sea."])[0] > 0)
print(read_classifier_config("code_minilm")["format"])
"""


def test_resources_load_from_a_zipped_package(tmp_path):
    archive = tmp_path / "pipeline.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted((REPO / "pipeline").rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                zipped.write(path, path.relative_to(REPO).as_posix())
    env = {"PYTHONPATH": str(archive), "HOME": str(Path.home())}  # the block list's hash cache of other runs
    proc = subprocess.run([sys.executable, "-c", f"ZIP = {str(archive)!r}\n{PROBE}"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split("\n")[:6] == ["blocked_domain", "banned_url_word", "['code']", "1.0", "True",
                                           "head"]
