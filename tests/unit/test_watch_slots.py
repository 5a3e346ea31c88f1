"""Open watches are capped per principal and in all; a slot comes back once, however the
watch ends."""

from __future__ import annotations

import pytest

from modelplane.domain.errors import ResourceExhausted
from modelplane.security.watch_slots import RETRY_AFTER_SECONDS, WatchSlots


def test_a_principal_beyond_its_cap_is_refused_naming_the_setting_others_are_not() -> None:
    slots = WatchSlots(per_principal=2, total=5)
    held = [slots.take("alice"), slots.take("alice")]
    with pytest.raises(ResourceExhausted) as refused:
        slots.take("alice")
    assert "MODELPLANE_MAX_WATCHES_PER_PRINCIPAL=2" in refused.value.message
    assert refused.value.retry_after_seconds == RETRY_AFTER_SECONDS
    assert slots.take("bob") is not None  # another principal still gets one
    held[0].release()
    slots.take("alice")  # a slot given back is there again
    assert (slots.open("alice"), slots.open("bob"), slots.open()) == (2, 1, 3)


def test_beyond_the_total_every_principal_is_refused_until_a_slot_comes_back() -> None:
    slots = WatchSlots(per_principal=2, total=3)
    taken = [slots.take("alice"), slots.take("alice"), slots.take("bob")]
    for principal in ("bob", "carol"):
        with pytest.raises(ResourceExhausted) as refused:
            slots.take(principal)
        assert "MODELPLANE_MAX_WATCHES=3" in refused.value.message
    taken[0].release()
    slots.take("carol")


def test_releasing_twice_gives_back_one_slot() -> None:
    slots = WatchSlots(per_principal=1, total=2)
    slot = slots.take("alice")
    slot.release()
    slot.release()
    assert slots.open() == 0 and slots.open("alice") == 0
    slots.take("alice")
    with pytest.raises(ResourceExhausted):
        slots.take("alice")


def test_caps_that_cannot_hold_are_refused() -> None:
    with pytest.raises(ValueError, match="per_principal <= total"):
        WatchSlots(per_principal=3, total=2)
    with pytest.raises(ValueError, match="1 <= per_principal"):
        WatchSlots(per_principal=0, total=2)
