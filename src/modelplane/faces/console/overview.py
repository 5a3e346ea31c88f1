"""Overview: what the principal sees in numbers, recent changes, the gateway's last day."""

from __future__ import annotations

from starlette.responses import Response

from modelplane.faces.console.web import PREFIX, ConsolePage, Screen
from modelplane.services import console_sessions as service

screen = Screen()


@screen.get(PREFIX)
async def overview(page: ConsolePage) -> Response:
    """Counts, the last changes from the audit log, gateway calls and errors over a day."""
    found = await service.overview(store=page.store, actor=page.principal)
    return page.render("overview.html", overview=found)
