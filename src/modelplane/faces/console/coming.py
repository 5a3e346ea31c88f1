"""The screens of the navigation bar that no module routes yet: a plain page saying so.

Not a screen itself: `__init__.py` gives every NAV path that no screen module routes a
route here. A new screen module that routes its path replaces its page.
"""

from __future__ import annotations

from starlette.responses import Response

from modelplane.faces.console.web import ConsolePage, Screen


def screen_for(label: str, path: str) -> Screen:
    """A screen that answers `path` with the "coming" page of `label`."""
    coming = Screen()

    @coming.get(path)
    async def page_of(page: ConsolePage) -> Response:
        return page.render("coming.html", title=label)

    return coming
