"""URL-dedup order (the Spark stage is checked against it in test_curate_job.py)."""

from datetime import datetime, timezone

from pipeline.dedup.url_dedup import choose_latest


def test_choose_latest_keeps_newest_then_smallest_id():
    old, new = datetime(2024, 1, 1, tzinfo=timezone.utc), datetime(2024, 6, 1, tzinfo=timezone.utc)
    assert choose_latest([("b", old), ("c", new), ("a", None)]) == ("c", ["b", "a"])
    assert choose_latest([("z", new), ("m", new)]) == ("m", ["z"])
