"""When to try a notification again (api.md "Webhooks": backoff with jitter for 24 hours).

Pure arithmetic, so the schedule can be reasoned about and tested without a
clock: the caller passes `now` and a jitter draw in [0, 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: `base` doubled per failed attempt up to `cap`, spread by +-50 % jitter.

    `give_up_after` counts from when the notice was queued; None means retry
    for as long as it takes (emails wait out an SMTP outage rather than be lost).
    """

    base: timedelta
    cap: timedelta
    give_up_after: timedelta | None

    def delay(self, attempts: int, jitter: float) -> timedelta:
        """The wait after the `attempts`-th failed attempt (1-based); jitter keeps retries from marching in step."""
        exponent = min(max(attempts - 1, 0), 30)
        raw = min(self.base * (1 << exponent), self.cap)
        return raw * (0.5 + jitter)

    def next_attempt(self, *, attempts: int, queued_at: datetime, now: datetime, jitter: float) -> datetime | None:
        """When to try again, or None when the retry window is over (the notice is then failed).

        The last try lands on the end of the window, so a receiver that comes
        back within 24 hours still gets the message.
        """
        wanted = now + self.delay(attempts, jitter)
        if self.give_up_after is None:
            return wanted
        deadline = queued_at + self.give_up_after
        if now >= deadline:
            return None
        return min(wanted, deadline)


WEBHOOK_RETRIES = RetryPolicy(base=timedelta(seconds=15), cap=timedelta(hours=2), give_up_after=timedelta(hours=24))
EMAIL_RETRIES = RetryPolicy(base=timedelta(seconds=30), cap=timedelta(minutes=15), give_up_after=None)
# A Disconnect-Request must land while it matters: a NAS silent for 10 minutes is reported, not waited for.
DISCONNECT_RETRIES = RetryPolicy(
    base=timedelta(seconds=10), cap=timedelta(minutes=2), give_up_after=timedelta(minutes=10)
)
