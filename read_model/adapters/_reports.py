"""What the reports share: their periods, one bucket per interval in UTC, empty ones included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

INTERVALS = {"HOUR": "hour", "DAY": "day", "WEEK": "week", "MONTH": "month"}


def periods(field: str, start: datetime, end: datetime, interval: str) -> dict[str, Any]:
    """A date histogram of `field` with one bucket per `interval` from the one holding `start` to the one
    holding the last instant before `end` (weeks from Monday), empty buckets included."""
    last = end - timedelta(milliseconds=1)
    return {
        "date_histogram": {
            "field": field,
            "calendar_interval": INTERVALS[interval],
            "time_zone": "UTC",
            "min_doc_count": 0,
            "extended_bounds": {"min": start.isoformat(), "max": last.isoformat()},
        }
    }


def period_start(key: int) -> datetime:
    """A bucket's key (milliseconds since the epoch) as the time its period starts."""
    return datetime.fromtimestamp(key / 1000, tz=UTC)


def whole(value: float | None) -> int:
    """Sums of integers come back as doubles: exact below 2**53, so rounding only drops the '.0'."""
    return round(value or 0)
