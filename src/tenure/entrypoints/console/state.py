"""What the console keeps for the life of the app: templates, the cookie signer, the site's time zone.

The secret key and time zone are read from the site the first time a page is
served (the app may start before `tenure init` has run), then kept.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates
from starlette.requests import Request

from tenure.domain.actions import StatusAction
from tenure.domain.catalog import LineKind
from tenure.domain.model import ClientType, Kind, Status
from tenure.entrypoints.console.session import SessionCookies
from tenure.entrypoints.context import AppContext
from tenure.services.wizard import WizardStep

HERE = Path(__file__).parent


@dataclass(frozen=True)
class SiteInfo:
    cookies: SessionCookies
    timezone: ZoneInfo
    secret_key: str  # also signs set-password links (with a salt of their own)


class ConsoleState:
    def __init__(self) -> None:
        self.templates = Jinja2Templates(directory=HERE / "templates")
        env = self.templates.env
        env.filters["day"] = format_day
        env.filters["sentence"] = lambda text: str(text)[:1].upper() + str(text)[1:]
        env.filters["iso"] = lambda d: d.isoformat() if d else ""
        # The enums templates compare with (`a.status == Status.NEW`), never a string literal.
        for enum_type in (Status, Kind, ClientType, LineKind, StatusAction, WizardStep):
            env.globals[enum_type.__name__] = enum_type
        env.filters["kind_label"] = lambda kind: LineKind(kind).label if kind in set(LineKind) else str(kind)
        env.trim_blocks = True
        env.lstrip_blocks = True
        self._site: SiteInfo | None = None
        self._lock = threading.Lock()

    def site(self, ctx: AppContext) -> SiteInfo:
        with self._lock:
            if self._site is None:
                with ctx.uow().reading() as uow:
                    site = uow.site
                key = ctx.settings.secret_key or site.secret_key
                self._site = SiteInfo(SessionCookies(key), site.timezone, key)
            return self._site


def console_state(request: Request) -> ConsoleState:
    state: ConsoleState = request.app.state.console
    return state


def format_day(value: date | None) -> str:
    """'5 Dec 2026': unambiguous in every locale the console is read in."""
    if value is None:
        return ""
    return f"{value.day} {value.strftime('%b %Y')}"


def format_moment(value: datetime, tz: ZoneInfo) -> str:
    local = value.astimezone(tz)
    return f"{format_day(local.date())} {local.strftime('%H:%M')}"
