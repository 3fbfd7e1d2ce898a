"""``python -m pipeline.inspect`` on the sample run's output: each filter prints exactly the documents it selects
(checked against the output files), ``-n`` and ``--seed`` decide the sample, and what cannot be answered exits 2
with a message."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from pipeline.inspect import main


def _inspect(capsys, *argv: str) -> tuple[list[str], str]:
    """The ids the command printed, in order, and its whole output."""
    assert main([*argv]) == 0
    out = capsys.readouterr().out
    return re.findall(r"^id +(\S+)$", out, re.M), out


def test_a_reason_prints_its_documents_with_the_signals_that_explain_it(sample_output, capsys):
    _, _, rejected, out = sample_output
    expected = {id_ for id_, row in rejected.items() if row["reason"] == "mostly_repeated_content"}
    ids, text = _inspect(capsys, str(out), "--reason", "mostly_repeated_content")
    assert set(ids) == expected and len(ids) == len(expected) == 2
    assert text.startswith("2 of 2 matching document(s) (seed 0)")
    assert "url       http://cheap-flights.example.com/paris/" in text and "    Cheap flights to Paris" in text
    assert "repeated_content_removed_fraction 0.9659" in text and "gopher_" not in text
    ids, text = _inspect(capsys, str(out), "--reason", "dirty_words", "--language", "zh")
    assert [rejected[id_]["url"] for id_ in ids] == ["http://0513mt.com/index.php/art/detail/id/8884.html"]
    assert "dirty_word_count 18 · dirty_word_distinct 9" in text


def test_kept_documents_of_a_language_and_n(sample_output, capsys):
    stats, documents, _, out = sample_output
    ids, text = _inspect(capsys, str(out), "--language", "de", "-n", "3", "--kept")
    assert len(ids) == 3 and all(documents[id_]["language"] == "de" for id_ in ids)
    assert text.startswith(f"3 of {stats.languages['de']['kept']:,} matching")
    assert text.count("── ") == 3 and "kept ──" in text
    assert _inspect(capsys, str(out), "--language", "de", "-n", "3", "--kept")[0] == ids  # the same sample
    other, _ = _inspect(capsys, str(out), "--language", "de", "-n", "3", "--kept", "--seed", "1")
    assert other != ids and all(documents[id_]["language"] == "de" for id_ in other)
    # a larger n holds the smaller sample: the n smallest hashes of (seed, id)
    assert _inspect(capsys, str(out), "--language", "de", "-n", "10", "--kept")[0][:3] == ids


def test_a_signal_range_over_kept_and_rejected(sample_output, capsys):
    _, documents, rejected, out = sample_output
    expected = {id_ for id_, row in {**documents, **rejected}.items()
                if 0.2 < row["signals"].get("gopher_dup_line_frac", -1) <= 0.9}
    assert len(expected) >= 3
    ids, text = _inspect(capsys, str(out), "--signal", "gopher_dup_line_frac>0.2", "--signal",
                         "gopher_dup_line_frac<=0.9", "-n", "100")
    assert set(ids) == expected and len(ids) == len(expected)
    assert text.count("gopher_dup_line_frac ") == len(expected)  # the condition's signal is printed
    low = {id_ for id_, row in {**documents, **rejected}.items()
           if row["language_score"] is not None and row["language_score"] < 0.65}
    assert low
    ids, _ = _inspect(capsys, str(out), "--signal", "language_score<0.65", "-n", "50")
    assert set(ids) == low and all(rejected[id_]["reason"] == "low_language_confidence" for id_ in ids)


def test_records_dropped_before_extraction_print_without_text(sample_output, capsys):
    _, _, rejected, out = sample_output
    ids, text = _inspect(capsys, str(out), "--stage", "safety", "-n", "20")
    assert set(ids) == {id_ for id_, row in rejected.items() if row["stage"] == "safety"}
    assert text.count("text      none") == len(ids) and "detail    aaalatina.com" in text


def test_what_cannot_be_answered_exits_2(sample_output, tmp_path, capsys):
    _, _, _, out = sample_output
    assert main([str(tmp_path)]) == 2
    assert "is not the output folder of a curation run" in capsys.readouterr().err
    assert main([str(out), "--signal", "no_such_signal>1"]) == 2
    assert "unknown signal 'no_such_signal'" in capsys.readouterr().err
    assert main([str(out), "--signal", "dirty_word_rate >> 1"]) == 2
    with pytest.raises(SystemExit) as exited:
        main([str(out), "--kept", "--reason", "dirty_words"])
    assert exited.value.code == 2
    proc = subprocess.run([sys.executable, "-m", "pipeline.inspect", str(tmp_path / "missing")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "not the output folder" in proc.stderr
