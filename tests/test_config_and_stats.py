import pytest

from jobs.curate import parse_args
from pipeline.cli import config_from_arguments
from pipeline.config import CurateConfig
from pipeline.spark.stats import build_stats, format_summary


def test_every_threshold_is_a_command_line_option():
    args = parse_args(["--input", "x.warc.gz", "--safety.soft-word-threshold", "3",
                       "--record.allowed-http-statuses", "200,203", "--url-dedup.enabled", "false"])
    config = config_from_arguments(args)
    assert config.io.input == "x.warc.gz"
    assert config.safety.soft_word_threshold == 3
    assert config.record.allowed_http_statuses == (200, 203)
    assert config.url_dedup.enabled is False


def test_help_lists_input_output_config_and_thresholds(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    out = capsys.readouterr().out
    for option in ("--input", "--output", "--config", "--master", "--safety.blocklist-domains",
                   "--record.reject-truncated", "--extraction.timeout-seconds", "--spark.records-per-unit"):
        assert option in out, option


def test_toml_file_overrides_defaults_and_rejects_unknown_keys(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[io]\noutput = "elsewhere"\n[safety]\nsoft_word_threshold = 4\n')
    config = CurateConfig.from_toml(path)
    assert (config.io.output, config.safety.soft_word_threshold) == ("elsewhere", 4)
    path.write_text("[safety]\nsoft_word_treshold = 4\n")
    with pytest.raises(ValueError, match="soft_word_treshold"):
        CurateConfig.from_toml(path)
    with pytest.raises(ValueError, match="expected true/false"):
        CurateConfig().updated({"url_dedup": {"enabled": "maybe"}})


def test_stats_balance_and_bytes_flow():
    rows = [
        ("read", "not_response", 10, 1000, 0),
        ("read", "truncated", 2, 500, 0),
        ("safety", "blocked_domain", 1, 100, 0),
        ("url_dedup", "url_duplicate", 3, 300, 0),
        ("extract", "no_text", 1, 50, 0),
        (None, None, 5, 5000, 800),
    ]
    stats = build_stats(rows, ["read", "safety", "url_dedup", "extract"])
    assert stats.balanced and (stats.records_read, stats.kept, stats.rejected) == (22, 5, 17)
    read, safety, dedup, extract = stats.stages
    assert (read.docs_in, read.docs_out, read.bytes_in, read.bytes_out) == (22, 10, 6950, 5450)
    assert (safety.docs_out, dedup.docs_out, extract.docs_in, extract.docs_out) == (9, 6, 6, 5)
    assert (extract.bytes_in, extract.bytes_out) == (5050, 800)
    assert "balanced" in format_summary(stats) and "read/not_response" in format_summary(stats)


def test_inputs_from_globs_directories_and_list_files(tmp_path):
    from conftest import FIXTURES

    from pipeline.warc.inputs import expand_inputs

    warc_dir = FIXTURES / "warc"
    by_glob = expand_inputs(str(warc_dir / "*.warc.gz"))
    assert by_glob == sorted(by_glob) and all(p.endswith(".warc.gz") for p in by_glob) and len(by_glob) == 8
    assert set(expand_inputs(str(warc_dir))) > set(by_glob)  # directories: .warc and .arc.gz too
    listing = tmp_path / "warc.paths"
    listing.write_text("cc.warc.gz\n# a comment\nclipped.warc.gz\ncc.warc.gz\n")
    assert expand_inputs(str(listing), prefix=str(warc_dir)) == [str(warc_dir / "cc.warc.gz"),
                                                                str(warc_dir / "clipped.warc.gz")]
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        expand_inputs(str(tmp_path / "nothing-here-*.warc.gz"))
