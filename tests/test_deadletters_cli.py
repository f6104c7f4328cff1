"""The operator's ``slarules deadletters`` commands on a store the service kept: list what was
given up on, look at one, queue it again, take rejected input again, drop it for good."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from engine_helpers import HOUR, Events, utc

from slarules import EventError
from slarules.cli import main
from slarules.runtime import Runtime
from slarules.store import SqliteStore

START = utc("2026-03-02T09:00:00Z")
POLICY = """
policy "All" { applies when true  first_response within 1h }
trigger "late" when first_response.breached then tag "late"
"""
LATE_TAG = "T-1/late/first_response:1/0/0"


@pytest.fixture
def kept(tmp_path: Path) -> tuple[Path, str]:
    """A policy file and the URL of a store holding one dead action (a tag that no adapter can
    put on the ticket) and one rejected event (of an unknown type)."""
    policy = tmp_path / "support.sla"
    policy.write_text(POLICY, encoding="utf-8")
    database = tmp_path / "slarules.db"
    now = START
    runtime = Runtime.open(policy, SqliteStore(database), clock=lambda: now)
    events = Events()
    runtime.ingest(events.created("T-1", START))
    with pytest.raises(EventError):
        runtime.ingest({**events.created("T-2", START), "type": "ticket.opened"})
    now = START + 2 * HOUR
    runtime.advance()
    runtime.deliver_due()
    runtime.close()
    return policy, f"sqlite:///{database}"


def run(*arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["deadletters", *arguments])
    return result.exit_code, result.output


def listing(url: str) -> dict[str, list[dict[str, object]]]:
    code, output = run("list", "--db", url, "--format", "json")
    assert code == 0, output
    return json.loads(output)  # type: ignore[no-any-return]


def test_the_list_names_dead_actions_by_key_and_rejected_input_by_number(
    kept: tuple[Path, str],
) -> None:
    _, url = kept
    found = listing(url)
    [dead] = found["actions"]
    assert (dead["key"], dead["attempts"]) == (LATE_TAG, 1)
    assert "no adapter feeds that ticket" in str(dead["error"])
    [rejected] = found["rejected"]
    assert (rejected["stage"], rejected["adapter"]) == ("event", None)
    assert "unknown event type `ticket.opened`" in str(rejected["reason"])
    code, table = run("list", "--db", url)
    assert code == 0
    assert LATE_TAG in table
    assert "action tag" in table
    assert "rejected event" in table


def test_show_gives_one_in_full(kept: tuple[Path, str]) -> None:
    _, url = kept
    code, output = run("show", LATE_TAG, "--db", url)
    assert code == 0, output
    shown = json.loads(output)
    assert (shown["status"], shown["attempts"]) == ("dead", 1)
    assert shown["action"]["args"] == ["late"]
    assert shown["action"]["at"] == "2026-03-02T10:00:00.000001Z"
    [rejected] = listing(url)["rejected"]
    code, output = run("show", str(rejected["id"]), "--db", url)
    assert code == 0, output
    assert json.loads(output)["payload"]["type"] == "ticket.opened"
    assert run("show", "99", "--db", url) == (1, "Error: no rejected input number 99\n")
    assert run("show", "T-9/x", "--db", url) == (1, "Error: no action with key `T-9/x`\n")


def test_a_dead_action_retried_is_pending_again_for_the_service(kept: tuple[Path, str]) -> None:
    _, url = kept
    assert run("retry", LATE_TAG, "--db", url) == (0, "1 action(s) queued again\n")
    # Everything: what can be done without the policy file.
    left = "0 action(s) queued again\n1 rejected input(s) left: retry them with --policy\n"
    assert run("retry", "--db", url) == (0, left)
    store = SqliteStore(url.removeprefix("sqlite:///"))
    [entry] = store.outbox("pending")
    assert (entry.action.key, entry.attempts) == (LATE_TAG, 0)
    store.close()
    assert listing(url)["actions"] == []


def test_rejected_input_is_retried_through_the_policy_and_kept_when_it_fails_again(
    kept: tuple[Path, str],
) -> None:
    policy, url = kept
    [rejected] = listing(url)["rejected"]
    number = str(rejected["id"])
    code, output = run("retry", number, "--db", url)
    assert (code, output) == (1, "Error: retrying rejected input needs --policy\n")
    assert len(listing(url)["actions"]) == 1  # nothing done: the action is still dead
    code, output = run("retry", number, "--policy", str(policy), "--db", url)
    assert (code, output) == (0, "0 rejected input(s) taken, 1 rejected again\n")
    [again] = listing(url)["rejected"]
    assert again["reason"] == rejected["reason"]


def test_drop_forgets_for_good_and_names_what_it_cannot_find(kept: tuple[Path, str]) -> None:
    _, url = kept
    [rejected] = listing(url)["rejected"]
    number = str(rejected["id"])
    code, output = run("drop", LATE_TAG, "nope", "99", "--db", url)
    assert (code, output) == (
        1, "Error: nothing done: no dead action `nope`; no rejected input number 99\n")  # fmt: skip
    assert len(listing(url)["actions"]) == 1
    code, output = run("drop", LATE_TAG, number, "--db", url)
    assert (code, output) == (0, "dropped 1 action(s) and 1 rejected input(s)\n")
    assert listing(url) == {"actions": [], "rejected": []}
    store = SqliteStore(url.removeprefix("sqlite:///"))
    assert [entry.status for entry in store.outbox()] == ["dropped"]
    store.close()
