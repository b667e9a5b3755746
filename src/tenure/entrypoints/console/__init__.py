"""The web console: server-rendered pages for operator staff and partners (console.md).

Pages call the same service layer as the API; htmx (vendored in static/)
only spares full reloads. `mount(app)` adds the pages and their static files.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from tenure.entrypoints.console.pages import (
    api_keys,
    auth,
    billing,
    client,
    client_items,
    clients,
    events,
    office_admin,
    offices,
    partners,
    policy,
    status,
    users,
    webhooks,
    wizard,
)
from tenure.entrypoints.console.state import HERE, ConsoleState


def mount(app: FastAPI) -> None:
    app.state.console = ConsoleState()
    app.mount("/static/console", StaticFiles(directory=HERE / "static"), name="console-static")
    for page in (
        auth,
        clients,
        wizard,
        client,
        client_items,
        status,
        partners,
        offices,
        billing,
        events,
        office_admin,
        users,
        webhooks,
        policy,
        api_keys,
    ):
        app.include_router(page.router)
