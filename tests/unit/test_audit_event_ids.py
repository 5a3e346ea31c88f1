"""Audit event ids sort in the order events were recorded, even within one millisecond."""

from __future__ import annotations

from modelplane.services.audit import _decode_token, _encode_token, new_event_id


def test_ids_recorded_in_one_millisecond_sort_in_the_order_they_were_made() -> None:
    at = 1_900_000_000_000
    ids = [new_event_id(at) for _ in range(500)]
    assert sorted(ids) == ids and len(set(ids)) == 500


def test_a_clock_that_steps_back_never_sorts_a_later_event_first() -> None:
    later = new_event_id(1_900_000_000_500)
    after_step_back = new_event_id(1_900_000_000_100)
    assert after_step_back > later


def test_a_new_millisecond_sorts_after_every_id_of_the_last_one() -> None:
    same_ms = [new_event_id(1_950_000_000_000) for _ in range(3)]
    assert new_event_id(1_950_000_000_001) > max(same_ms)


def test_every_id_is_a_valid_page_token() -> None:
    event_id = new_event_id(1_960_000_000_000)
    assert _decode_token(_encode_token(event_id)) == event_id
