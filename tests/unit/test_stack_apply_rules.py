"""The rules of applying a stack that need no server: the executor lists every failing
change when asked to go on, prune refuses a document that would delete everything,
secrets are named and planned with placeholders in a dry-run, a dry-run's answer reads
back as the same diff lines, and units of work of one task nest on the ambient lock."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any, cast

import pytest

from modelplane import stack
from modelplane.cli.stack import _as_json
from modelplane.client import Client
from modelplane.stack.changes import Action, Change, FieldDiff, Ids, Plan, describe, summary
from modelplane.stack.secrets import PLACEHOLDER, Environment
from modelplane.store.ambient import TaskLock

NO_CLIENT = cast(Client, None)  # the changes below never call it


def _change(name: str, run: Any) -> Change:
    return Change(Action.CREATE, "thing", name, run)


def _ok(ran: list[str], name: str) -> Change:
    return _change(name, lambda client, ids: ran.append(name))


def _fails(message: str) -> Any:
    def run(client: Client, ids: Ids) -> None:
        raise ValueError(message)

    return run


def test_apply_going_on_lists_every_failing_change_and_runs_the_rest() -> None:
    ran: list[str] = []
    needs_first = _change("needs-a", lambda client, ids: ids.groups["a"])
    plan = Plan(
        [
            _ok(ran, "one"),
            _change("a", _fails("no")),
            needs_first,
            _ok(ran, "two"),
            _change("b", _fails("nope")),
        ]
    )
    heard: list[str] = []
    failures: list[stack.Failure] = []
    stack.apply(NO_CLIENT, plan, on_change=lambda c: heard.append(c.name), failures=failures)
    assert ran == heard == ["one", "two"]
    assert [(f.change.name, str(f.cause), f.after_failure) for f in failures] == [
        ("a", "no", False),
        ("needs-a", "'a'", True),  # an id the failed change would have made
        ("b", "nope", False),
    ]


def test_apply_without_going_on_stops_at_the_first_failure() -> None:
    ran: list[str] = []
    plan = Plan([_ok(ran, "one"), _change("a", _fails("no")), _ok(ran, "two")])
    with pytest.raises(stack.ApplyError) as raised:
        stack.apply(NO_CLIENT, plan)
    assert raised.value.done == 1 and raised.value.change.name == "a" and ran == ["one"]


@pytest.mark.parametrize(
    ("document", "refused"),
    [
        (None, "apiVersion: required with prune"),
        ({"llms": [{"displayName": "x"}]}, "apiVersion: required with prune"),
        ({"apiVersion": "modelplane/v1"}, "must declare something"),
        ({"apiVersion": "modelplane/v1", "workspaces": [], "principals": []}, "must declare"),
    ],
)
def test_prune_refuses_a_document_without_api_version_or_with_nothing_in_it(
    document: dict[str, Any] | None, refused: str
) -> None:
    reason = stack.prune_refusal(document)
    assert reason is not None and refused in reason


def test_prune_takes_a_document_that_declares_something() -> None:
    assert stack.prune_refusal({"apiVersion": "modelplane/v1", "configs": [{"c": 1}]}) is None


SECRETS = stack.parse(
    {
        "llms": [
            {
                "displayName": "a",
                "modelIdentifier": "m",
                "credentials": {"apiKey": {"secret": "env://A_KEY"}},
            },
            {
                "displayName": "b",
                "modelIdentifier": "m",
                "credentials": {"apiKey": {"secretRef": "env://STORED_AS_IS"}},
            },
        ],
        "modelGroups": [
            {
                "name": "g",
                "providers": [
                    {
                        "providerName": "provider-p",
                        "name": "P",
                        "providerType": "Custom",
                        "apiKey": "env://A_KEY",
                    },
                    {
                        "providerName": "provider-q",
                        "name": "Q",
                        "providerType": "Custom",
                        "apiKey": "env://Q_KEY",
                    },
                ],
            }
        ],
    }
)


def test_the_secrets_a_stack_reads_are_named_once_each_and_refs_are_not_read() -> None:
    assert stack.secret_names(SECRETS) == ["A_KEY", "Q_KEY"]
    assert stack.unset_secrets(SECRETS, {"A_KEY": "x"}) == [
        "modelGroups[0].providers[1].apiKey: environment variable Q_KEY is not set"
    ]
    assert stack.unset_secrets(SECRETS, {"A_KEY": "x", "Q_KEY": "y"}) == []


def test_an_unset_secret_reads_as_the_placeholder_only_when_asked_and_is_noted() -> None:
    strict = Environment({})
    assert strict.read("env://X", "here") == ""
    lenient = Environment({}, placeholder=PLACEHOLDER)
    assert lenient.read("env://X", "here") == PLACEHOLDER
    assert lenient.missing == strict.missing == ["here: environment variable X is not set"]
    with pytest.raises(stack.StackError, match="X is not set"):
        strict.check()


def test_a_change_answered_as_json_reads_back_as_the_same_diff_lines() -> None:
    change = Change(
        Action.UPDATE, "llm", "a", lambda c, i: None, (FieldDiff("description", "x", "y"),)
    )
    assert (
        describe(change.as_json())
        == change.describe()
        == ["~ llm a", '    description: "x" -> "y"']
    )
    plan = Plan([change])
    assert summary(plan.counts()) == plan.summary() == "0 to create, 1 to update, 0 to delete"


def test_yaml_timestamps_are_sent_as_iso_text() -> None:
    loaded = {"a": [{"at": datetime(2031, 1, 2, 3, 4, tzinfo=UTC)}, date(2031, 1, 2)], "n": 1}
    assert _as_json(loaded) == {"a": [{"at": "2031-01-02T03:04:00+00:00"}, "2031-01-02"], "n": 1}


async def test_units_of_work_of_one_task_nest_and_other_tasks_take_turns() -> None:
    lock = TaskLock()
    order: list[str] = []
    await lock.acquire()
    await lock.acquire()  # the same task again: at once

    async def other() -> None:
        await lock.acquire()
        order.append("other")
        lock.release()

    waiting = asyncio.ensure_future(other())
    await asyncio.sleep(0)
    lock.release()
    await asyncio.sleep(0)
    assert order == []  # still held once
    order.append("first")
    lock.release()
    await waiting
    assert order == ["first", "other"]
