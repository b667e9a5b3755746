"""Cutting live sessions: the worker sends each queued `radius.disconnect` to the session's NAS.

- Disconnect-ACK: the session is `disconnected`.
- Disconnect-NAK: the NAS refused; its Error-Cause is recorded and the session is
  `refused`. Asking again would get the same answer, so it is not retried.
- No answer (or no NAS registered at the session's address): retried with backoff
  for 10 minutes from when the loss was queued, then the session is `failed`.
- A session that stopped meanwhile needs nothing: the notice is `skipped`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

import structlog

from tenure.domain.radius import SessionState, describe_error_cause
from tenure.domain.retries import DISCONNECT_RETRIES
from tenure.services.outbox_batches import DeliveryReport, NewUow, claimed, late
from tenure.services.ports import (
    DisconnectAnswer,
    DisconnectSender,
    DisconnectTarget,
    SecretBox,
    SecretBoxes,
    SecretUnreadable,
)
from tenure.services.read_models import Change, SessionOutcome
from tenure.services.unit_of_work import DeliveryQueue

log = structlog.get_logger()
BATCH = 64
_DISCONNECTING = SessionState.DISCONNECTING.value


def send_due_disconnects(
    new_uow: NewUow,
    sender: DisconnectSender,
    report: DeliveryReport,
    *,
    boxes: SecretBoxes,
    secret_key: str | None,
    now: datetime,
    deadline: float | None,
    jitter: Callable[[], float],
) -> bool:
    """Send due disconnects batch by batch; True when none is left due, False when out of time."""
    with new_uow().reading() as uow:
        box = boxes(secret_key or uow.site.secret_key)
    while not late(deadline):
        with claimed(new_uow, lambda q: q.due_disconnects(now, BATCH)) as (rows, finish):
            if not rows:
                return True
            answers = _send(sender, box, rows)
            results = [_outcome(row, answer, now, jitter) for row, answer in zip(rows, answers, strict=True)]
            finish(partial(_write, results=results))
        for row, (change, session) in zip(rows, results, strict=True):
            report.disconnects[change.status] += 1
            log.info(
                "radius disconnect",
                outbox_id=row.id,
                acct_session_id=row.acct_session_id,
                nas_ip=row.nas_ip,
                outcome=change.status,
                session_state=session.state if session else row.state,
                error=change.last_error,
            )
    return False


def _send(sender: DisconnectSender, box: SecretBox, rows: Sequence[Any]) -> list[DisconnectAnswer]:
    """Send what can be sent; a notice without a NAS or a readable secret is answered here as silence."""
    answers: dict[int, DisconnectAnswer] = {}
    targets: list[tuple[int, DisconnectTarget]] = []
    for row in rows:
        if row.state != _DISCONNECTING:
            continue
        if row.coa_port is None:
            answers[row.id] = DisconnectAnswer(False, False, detail=f"no NAS registered at {row.nas_ip}")
            continue
        try:
            secret = box.open(row.secret_encrypted)
        except SecretUnreadable as error:
            answers[row.id] = DisconnectAnswer(False, False, detail=f"NAS at {row.nas_ip}: {error}")
            continue
        target = DisconnectTarget(row.nas_ip, row.coa_port, secret, row.user_name, row.acct_session_id, row.created_at)
        targets.append((row.id, target))
    for (row_id, _), answer in zip(targets, sender.send_all([t for _, t in targets]), strict=True):
        answers[row_id] = answer
    skipped = DisconnectAnswer(False, True, detail="skipped")
    return [answers.get(row.id, skipped) for row in rows]


def _outcome(
    row: Any, answer: DisconnectAnswer, now: datetime, jitter: Callable[[], float]
) -> tuple[Change, SessionOutcome | None]:
    attempts = row.attempts + 1
    session = row.radius_session_id
    if row.state != _DISCONNECTING:
        return Change(row.id, "skipped", row.attempts, now, f"the session is {row.state}", now), None
    if answer.acked:
        return Change(row.id, "sent", attempts, now, None, now), SessionOutcome(
            session, SessionState.DISCONNECTED.value, None
        )
    if answer.answered:
        error = describe_error_cause(answer.error_cause)
        return Change(row.id, "failed", attempts, now, error, None), SessionOutcome(
            session, SessionState.REFUSED.value, error
        )
    following = DISCONNECT_RETRIES.next_attempt(attempts=attempts, queued_at=row.created_at, now=now, jitter=jitter())
    detail = f"{answer.detail} (attempt {attempts})"
    if following is None:
        error = f"{answer.detail}: gave up after {attempts} attempts over 10 minutes"
        return Change(row.id, "failed", attempts, now, error, None), SessionOutcome(
            session, SessionState.FAILED.value, error
        )
    return Change(row.id, "pending", attempts, following, detail, None), SessionOutcome(session, _DISCONNECTING, detail)


def _write(queue: DeliveryQueue, results: Sequence[tuple[Change, SessionOutcome | None]]) -> None:
    queue.record_notices([change for change, _ in results])
    queue.record_sessions([session for _, session in results if session is not None])
