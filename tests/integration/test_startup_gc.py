"""`modelplane serve` builds the app with the cyclic collector off; the lifespan turns it on."""

from __future__ import annotations

import gc

from modelplane.app import create_app
from modelplane.settings import Settings


async def test_the_collector_is_on_again_once_the_app_has_started(settings: Settings) -> None:
    gc.disable()  # as `modelplane serve` does before importing and building the app
    try:
        app = create_app(settings)
        assert not gc.isenabled()
        async with app.router.lifespan_context(app):
            assert gc.isenabled()
            assert gc.get_freeze_count() > 0  # what start-up built is out of its sight
    finally:
        gc.enable()
        gc.unfreeze()
