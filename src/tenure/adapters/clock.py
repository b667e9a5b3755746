"""Time comes from a clock passed in, never from `datetime.now()` deep inside."""

from __future__ import annotations

from datetime import UTC, datetime

from tenure.services.ports import Clock

__all__ = ["Clock", "FixedClock", "SystemClock"]


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that says what it is told: for `--as-of` and for tests."""

    def __init__(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.moment = moment

    def now(self) -> datetime:
        return self.moment
