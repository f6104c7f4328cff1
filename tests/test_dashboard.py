"""The dashboard of `slarules serve` (`GET /`): its view model, the route and its token, and the
page in real headless Chromium."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from chromium import dump_dom, screenshot
from engine_helpers import MINUTE, SECOND, Events, FakeClock, utc
from servers import serving

from slarules import Engine
from slarules.actions import Action
from slarules.clocks import ClockState
from slarules.dashboard import (
    RECENT_ACTIONS,
    Choices,
    Dashboard,
    Filters,
    build_dashboard,
    dashboard_page,
    refresh_seconds,
    rows_shown,
)
from slarules.errors import CalendarError
from slarules.metrics import TicketClocks
from slarules.runtime import Runtime
from slarules.server import create_app
from slarules.store import MemoryStore, OutboxEntry, SqliteStore, Status
from slarules.testing import RecordingPlugin

TOKEN = "dashboard-token"
DOCS_IMAGE = Path(__file__).resolve().parent.parent / "docs" / "images" / "dashboard.png"
START = utc("2026-03-02T09:00:00Z")  # a Monday, 10:00 in Berlin
NOW = START + 90 * MINUTE
POLICY = """
policy "Phone" {
    applies when channel == "phone"
    answer within 20s
}
policy "Email" {
    applies when true
    first_response within 1h
    resolution within 8h
    node "L1 triage" response within 15m, handling within 1h
    pause while status in ["pending", "hold"]
}
trigger "late answer" when first_response.breached then log "first response is late"
"""
OPEN_STATES = {ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED_RUNNING}


def morning(events: Events) -> list[dict[str, Any]]:
    """T-1 overdue (billing, in L1 triage), T-2 paused, T-3 answered and running; three calls:
    answered in 12 s, answered in 45 s, and abandoned after 3 s (a short abandon)."""
    return [
        events.created("T-1", START, status="open", group="billing", assignee="ana",
                       node="L1 triage"),
        events.created("T-2", START + 30 * MINUTE, status="open", group="support",
                       assignee="ben"),
        events.updated("T-2", START + 40 * MINUTE, status="pending"),
        events.created("T-3", START + 50 * MINUTE, status="open", group="support",
                       assignee="cleo"),
        events.agent_reply("T-3", START + 55 * MINUTE, by="cleo"),
        events.contact("C-1", "offered", START, channel="phone"),
        events.contact("C-1", "answered", START + 12 * SECOND),
        events.contact("C-2", "offered", START, channel="phone"),
        events.contact("C-2", "answered", START + 45 * SECOND),
        events.contact("C-3", "offered", START, channel="phone"),
        events.contact("C-3", "abandoned", START + 3 * SECOND),
    ]  # fmt: skip


def measured(events: list[dict[str, Any]], now: datetime = NOW) -> list[TicketClocks]:
    engine = Engine.from_text(POLICY, "dashboard.sla")
    engine.ingest_many(events)
    return list(engine.measure(now))


def dashboard(
    filters: Filters = Filters(),  # noqa: B008  (frozen, so sharing the default is safe)
    now: datetime = NOW,
    timezone: str = "UTC",
    outbox: list[OutboxEntry] | None = None,
) -> Dashboard:
    return build_dashboard(measured(morning(Events())), outbox or [], filters, now, timezone)


def rows(view: Dashboard) -> list[tuple[str, str, str | None]]:
    return [(row.ticket, row.clock.metric, row.clock.node) for row in view.open_clocks]


# -- the view model ------------------------------------------------------------------------------


def test_open_clocks_are_sorted_by_time_to_breach_the_most_overdue_first() -> None:
    view = dashboard()
    assert rows(view) == [
        ("T-1", "node_response", "L1 triage"),  # 1h15m over
        ("T-1", "first_response", None),  # 30m over
        ("T-1", "node_handling", "L1 triage"),  # 30m over
        ("T-2", "first_response", None),  # paused, 50m left
        ("T-1", "resolution", None),  # 6h30m left
        ("T-3", "resolution", None),  # 7h20m left
        ("T-2", "resolution", None),  # paused, 7h50m left
    ]
    remaining = [row.clock.remaining for row in view.open_clocks]
    assert remaining == sorted(remaining)
    assert {row.clock.state for row in view.open_clocks} == OPEN_STATES
    assert [row.overdue for row in view.open_clocks][:4] == [True, True, True, False]
    first = view.open_clocks[0]
    assert (first.group, first.assignee, first.clock.policy) == ("billing", "ana", "Email")


def test_the_table_lists_the_most_urgent_open_clocks_and_counts_them_all() -> None:
    view = build_dashboard(measured(morning(Events())), [], Filters(), NOW, rows=3)
    assert rows(view) == [
        ("T-1", "node_response", "L1 triage"),
        ("T-1", "first_response", None),
        ("T-1", "node_handling", "L1 triage"),
    ]
    assert view.open_count == 7
    page = dashboard_page(view, refresh=0, keep={})
    assert "the 3 most urgent of 7" in page
    assert "most urgent of" not in dashboard_page(dashboard(), refresh=0, keep={})


def test_the_rows_parameter() -> None:
    assert (rows_shown(None), rows_shown(""), rows_shown("25")) == (200, 200, 25)
    for bad in ("0", "-5", "many", "2.5", "٣"):
        with pytest.raises(ValueError, match="`rows` must be a whole number"):
            rows_shown(bad)


def test_the_figures_of_the_day_come_from_the_report_functions() -> None:
    view = dashboard()
    # Decided today: answer 1 met 1 breached, first_response 1/1, both node clocks breached.
    assert view.compliance == pytest.approx(100 * 2 / 6)
    assert [(m.metric, m.compliance, m.met, m.breached) for m in view.compliance_by_metric] == [
        ("answer", 50.0, 1, 1),
        ("first_response", 50.0, 1, 1),
        ("node_handling", 0.0, 0, 1),
        ("node_response", 0.0, 0, 1),
        ("resolution", None, 0, 0),
    ]
    contacts = view.contacts
    assert contacts.service_level == 50.0  # 12 s within 20 s, 45 s not; the 3 s abandon is out
    assert contacts.average_speed_of_answer == timedelta(seconds=28.5)
    assert (contacts.abandonment_rate, contacts.short_abandoned) == (0.0, 1)
    assert view.service_level_met is False


def test_a_long_abandon_counts_against_the_service_level_and_the_abandonment_rate() -> None:
    events = Events()
    late = [
        events.contact("C-9", "offered", START, channel="phone"),
        events.contact("C-9", "abandoned", START + 50 * SECOND),
    ]
    view = build_dashboard(measured(morning(events) + late), [], Filters(), NOW)
    assert view.contacts.service_level == pytest.approx(100 / 3)
    assert view.contacts.abandonment_rate == pytest.approx(100 / 3)


def test_the_day_is_the_local_day_of_the_display_time_zone() -> None:
    late_evening = utc("2026-03-02T23:30:00Z")  # already 3 March in Berlin
    utc_day = dashboard(now=late_evening)
    berlin_day = dashboard(now=late_evening, timezone="Europe/Berlin")
    assert (utc_day.day.isoformat(), berlin_day.day.isoformat()) == ("2026-03-02", "2026-03-03")
    assert utc_day.compliance is not None
    assert berlin_day.compliance is None
    assert berlin_day.contacts.service_level is None
    assert berlin_day.open_clocks  # what is open is open, whatever day it started
    with pytest.raises(CalendarError, match="unknown time zone"):
        dashboard(timezone="Mars/Olympus")


def test_filters_narrow_the_table_and_the_figures_but_not_the_choices() -> None:
    support = dashboard(Filters(group="support"))
    assert {row.ticket for row in support.open_clocks} == {"T-2", "T-3"}
    assert support.contacts.service_level is None  # calls have no group
    assert support.choices.groups == ("billing", "support")
    assert support.choices.policies == ("Email", "Phone")
    assert support.choices.nodes == ("L1 triage",)

    triage = dashboard(Filters(node="L1 triage"))
    assert rows(triage) == [
        ("T-1", "node_response", "L1 triage"),
        ("T-1", "node_handling", "L1 triage"),
    ]
    assert triage.compliance == 0.0

    phone = dashboard(Filters(policy="Phone"))
    assert phone.open_clocks == ()
    assert phone.contacts.service_level == 50.0
    assert phone.compliance == 50.0


QUIET_CHAT = """
policy "Chat" {
    applies when channel == "chat"
    first_response within 30m
    node "L2 review" response within 1h
}
"""


def test_the_policies_and_stages_of_the_file_are_offered_before_any_ticket_is_in_them() -> None:
    engine = Engine.from_text(QUIET_CHAT + POLICY, "dashboard.sla")
    engine.ingest_many(morning(Events()))
    named = Choices.named_in(engine.policies)
    assert named == Choices(policies=("Chat", "Phone", "Email"), nodes=("L2 review", "L1 triage"))
    view = build_dashboard(engine.measure(NOW), [], Filters(), NOW, named=named)
    assert view.choices.policies == ("Chat", "Email", "Phone")
    assert view.choices.nodes == ("L1 triage", "L2 review")
    assert view.choices.groups == ("billing", "support")


def test_a_chosen_value_stays_in_its_box_when_nothing_matches_it() -> None:
    view = dashboard(Filters(group="legal"))
    assert view.open_clocks == ()
    assert view.choices.groups == ("billing", "legal", "support")


def test_filters_from_the_query_string() -> None:
    assert Filters.from_query({"policy": "Email", "group": "", "node": "L1 triage"}) == Filters(
        policy="Email", node="L1 triage"
    )
    assert not Filters.from_query({"tz": "UTC"}).active


def test_no_data_is_shown_as_such() -> None:
    view = build_dashboard([], [], Filters(), NOW, "Europe/Berlin")
    assert view.compliance is None
    assert view.compliance_by_metric == ()
    assert view.contacts.service_level is None
    assert view.contacts.average_speed_of_answer is None
    assert view.contacts.abandonment_rate is None
    assert view.service_level_met is None
    assert (view.open_clocks, view.recent_actions) == ((), ())
    page = dashboard_page(view, refresh=0, keep={})
    assert page.count('<div class="value nodata">no data</div>') == 4
    assert "no clocks started today" in page
    assert "no open clocks" in page
    assert "no actions yet" in page
    assert "<script>" not in page  # refresh off


def test_helpdesk_text_is_escaped_in_the_page() -> None:
    events = Events()
    hostile = [events.created("T-<b>", START, group='"><script>alert(1)</script>')]
    view = build_dashboard(measured(hostile), [], Filters(), NOW)
    page = dashboard_page(view, refresh=30, keep={"token": '"><script>'})
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)" in page
    assert "T-&lt;b&gt;" in page
    assert page.count("<script>") == 1  # the refresh script, and nothing else


def entry(number: int, status: Status = "done", error: str | None = None) -> OutboxEntry:
    at = START + number * MINUTE
    action = Action(name="notify", args=("ana", None, "late"), ticket=f"T-{number}",
                    trigger="late", clock="first_response", cycle=1, at=at, reason="",
                    key=f"T-{number}/late/1/0/0")  # fmt: skip
    return OutboxEntry(action, status, 1, at, error)


def test_recent_actions_are_the_last_twenty_newest_first() -> None:
    outbox = [entry(n) for n in range(25)] + [entry(30, "dead", "no adapter")]
    view = dashboard(outbox=outbox)
    assert len(view.recent_actions) == RECENT_ACTIONS
    assert [a.ticket for a in view.recent_actions[:3]] == ["T-30", "T-24", "T-23"]
    newest = view.recent_actions[0]
    assert (newest.name, newest.args, newest.status, newest.error) == (
        "notify", "ana, late", "dead", "no adapter"
    )  # fmt: skip


def test_the_refresh_parameter() -> None:
    assert (refresh_seconds(None), refresh_seconds(""), refresh_seconds("0")) == (30, 30, 0)
    assert refresh_seconds("120") == 120
    for bad in ("-5", "soon", "1.5", "²"):
        with pytest.raises(ValueError, match="whole number of seconds"):
            refresh_seconds(bad)


# -- the route -----------------------------------------------------------------------------------


class _Rows(HTMLParser):
    """The open-clock rows of a page (their data- attributes), and the ids in it."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self.ids: set[str] = set()
        self.segments: set[str] = set()
        self.selected: dict[str, str] = {}
        self.options: dict[str, list[str]] = {}
        self.hidden: dict[str, str] = {}
        self._select: str | None = None
        self._in_bar = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if "id" in found:
            self.ids.add(found["id"])
        if tag == "tr" and "data-ticket" in found:
            self.rows.append({k.removeprefix("data-"): v for k, v in found.items()})
        elif tag == "select":
            self._select = found["name"]
        elif tag == "option" and self._select:
            self.options.setdefault(self._select, []).append(found["value"])
            if "selected" in found:
                self.selected[self._select] = found["value"]
        elif tag == "input" and found.get("type") == "hidden":
            self.hidden[found["name"]] = found["value"]
        elif tag == "div" and "bar" in found.get("class", "").split():
            self._in_bar = True
        elif tag == "span" and self._in_bar:
            self.segments.add(found["class"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "div":
            self._in_bar = False


@contextmanager
def serving_runtime(runtime: Runtime, policy: Path, token: str | None) -> Iterator[str]:
    """The service on 127.0.0.1 at a free port: its base URL; the runtime closes after."""
    try:
        with serving(create_app(runtime, policy, token=token, run_loop=False)) as url:
            yield url
    finally:
        runtime.close()


@contextmanager
def client_of(policy: Path, token: str | None) -> Iterator[httpx.Client]:
    runtime = Runtime.open(policy, MemoryStore(), clock=FakeClock(NOW))
    runtime.ingest_many(morning(Events()))
    runtime.advance()
    with (
        serving_runtime(runtime, policy, token) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        yield client


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "dashboard.sla"
    path.write_text(POLICY)
    return path


@pytest.fixture
def client(policy_file: Path) -> Iterator[httpx.Client]:
    with client_of(policy_file, TOKEN) as client:
        yield client


def test_the_dashboard_wants_the_token_in_the_header_or_the_query(client: httpx.Client) -> None:
    assert client.get("/").status_code == 401
    assert client.get("/?token=wrong").status_code == 401
    assert client.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
    by_header = client.get("/", headers={"Authorization": f"Bearer {TOKEN}"})
    by_query = client.get(f"/?token={TOKEN}")
    for answer in (by_header, by_query):
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/html")
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["referrer-policy"] == "no-referrer"
    assert len(_Rows(by_query.text).rows) == 7
    # The query token is carried on by the filter form; a header token is not put in the page.
    assert _Rows(by_query.text).hidden == {"token": TOKEN}
    assert TOKEN not in by_header.text


def test_without_a_configured_token_the_dashboard_is_closed_like_the_ticket_apis(
    policy_file: Path,
) -> None:
    with client_of(policy_file, None) as client:
        answer = client.get("/?token=anything")
        assert answer.status_code == 401
        assert "no token is configured" in answer.json()["error"]
        assert client.get("/tickets/T-1/clocks").status_code == 401


def test_filters_zone_and_refresh_come_from_the_query(client: httpx.Client) -> None:
    answer = client.get(f"/?token={TOKEN}&group=support&tz=Europe/Berlin&refresh=0&policy=")
    page = _Rows(answer.text)
    assert {row["ticket"] for row in page.rows} == {"T-2", "T-3"}
    assert page.selected == {"policy": "", "group": "support", "node": ""}
    assert page.hidden == {"token": TOKEN, "tz": "Europe/Berlin", "refresh": "0"}
    assert "2026-03-02 11:00:00 CET" in answer.text  # T-1's due time is gone, T-3's is local
    assert "<script>" not in answer.text
    assert "auto-refresh off" in answer.text

    node = _Rows(client.get(f"/?token={TOKEN}&node=L1+triage").text)
    assert {(row["ticket"], row["node"]) for row in node.rows} == {("T-1", "L1 triage")}

    few = _Rows(client.get(f"/?token={TOKEN}&rows=2").text)
    assert len(few.rows) == 2
    assert few.hidden == {"token": TOKEN, "rows": "2"}


def test_the_filter_boxes_offer_what_the_policy_file_names(tmp_path: Path) -> None:
    path = tmp_path / "quiet.sla"
    path.write_text(QUIET_CHAT + POLICY)
    with client_of(path, TOKEN) as client:
        page = _Rows(client.get(f"/?token={TOKEN}").text)
    assert page.options["policy"] == ["", "Chat", "Email", "Phone"]
    assert page.options["node"] == ["", "L1 triage", "L2 review"]


def test_bad_query_parameters_get_a_400_that_says_why(client: httpx.Client) -> None:
    zone = client.get(f"/?token={TOKEN}&tz=Mars/Olympus")
    assert (zone.status_code, zone.json()["error"]) == (400, "unknown time zone `Mars/Olympus`")
    refresh = client.get(f"/?token={TOKEN}&refresh=often")
    assert refresh.status_code == 400
    assert "whole number of seconds" in refresh.json()["error"]
    shown = client.get(f"/?token={TOKEN}&rows=0")
    assert shown.status_code == 400
    assert "`rows` must be a whole number" in shown.json()["error"]


# -- in a real browser ---------------------------------------------------------------------------

# A Monday morning of a small support team, for the browser test and the docs' screenshot.
REALISTIC_POLICY = """
policy "Phone" {
    applies when channel == "phone"
    answer within 20s
}
policy "Enterprise" {
    applies when customer.tier == "enterprise"
    first_response within 30m
    resolution within 4h
    node "L1 triage" response within 10m, handling within 2h
    pause while status in ["pending", "hold"]
}
policy "Standard" {
    applies when true
    first_response within 1h
    resolution within 8h
    pause while status in ["pending", "hold"]
}
trigger "late first response" {
    when first_response.breached
    then notify assignee "first response overdue", log "first response overdue"
}
trigger "resolution at risk" when resolution.remaining < 1h then escalate "team-lead"
trigger "missed call" when answer.breached then log "a caller waited past 20s"
"""
MONDAY = utc("2026-03-02T07:00:00Z")  # 08:00 in Berlin
BROWSER_NOW = MONDAY + 210 * MINUTE  # 11:30 in Berlin


def monday(events: Events) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The events sent to ``POST /events``, and those that come through the ``recorder``
    adapter (so that their actions are delivered)."""

    def at(minutes: int) -> datetime:
        return MONDAY + minutes * MINUTE

    def ticket(name: str, minutes: int, tier: str, group: str, who: str) -> dict[str, Any]:
        fields = {"group": group, "assignee": who, "customer": {"tier": tier}}
        return events.created(name, at(minutes), status="open", node="L1 triage", **fields)

    posted = [
        ticket("T-1040", 0, "standard", "billing", "ana"),
        events.agent_reply("T-1040", at(12), by="ana"),
        events.updated("T-1040", at(50), by="ana", status="solved", node=None),
        ticket("T-1042", 20, "enterprise", "technical", "ben"),
        events.agent_reply("T-1042", at(35), by="ben"),
        events.updated("T-1042", at(40), by="ben", status="pending", node=None),
        ticket("T-1043", 140, "standard", "billing", "cleo"),
        ticket("T-1044", 150, "standard", "technical", "dev"),
        events.agent_reply("T-1044", at(158), by="dev"),
        ticket("T-1046", 60, "standard", "accounts", "fatima"),
        events.agent_reply("T-1046", at(135), by="fatima"),
        ticket("T-1047", 203, "enterprise", "accounts", "ana"),
    ]
    hooked = [
        ticket("T-1041", 120, "enterprise", "billing", "ana"),
        ticket("T-1045", 20, "enterprise", "technical", "erik"),
        events.agent_reply("T-1045", at(33), by="erik"),
    ]
    for number, (offered, waited) in enumerate(
        [(3, 8), (25, 14), (48, 31), (70, 6), (96, 17), (121, 11), (150, 26), (175, 9), (203, 12)],
        start=1,
    ):
        call = f"C-{number:03d}"
        posted.append(events.contact(call, "offered", at(offered), channel="phone"))
        posted.append(events.contact(call, "answered", at(offered) + waited * SECOND))
    posted += [
        events.contact("C-010", "offered", at(110), channel="phone"),
        events.contact("C-010", "abandoned", at(110) + 52 * SECOND),
        events.contact("C-011", "offered", at(185), channel="phone"),
        events.contact("C-011", "abandoned", at(185) + 3 * SECOND),  # a short abandon
    ]
    return posted, hooked


class Service:
    def __init__(self, url: str, runtime: Runtime) -> None:
        self.url, self.runtime = url, runtime

    def page(self, **query: str) -> str:
        return f"{self.url}/?{httpx.QueryParams({'token': TOKEN, **query})}"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    policy = tmp_path / "support.sla"
    policy.write_text(REALISTIC_POLICY)
    recorder = RecordingPlugin(failing={"escalate": 100})  # the team lead's inbox is down
    runtime = Runtime.open(
        policy, SqliteStore(tmp_path / "s.db"), plugins=[recorder], clock=FakeClock(BROWSER_NOW)
    )
    with serving_runtime(runtime, policy, TOKEN) as url:
        yield Service(url, runtime)


def feed(service: Service) -> None:
    posted, hooked = monday(Events())
    with httpx.Client(base_url=service.url, timeout=10.0) as client:
        answer = client.post("/events", content=json.dumps(posted),
                             headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
        assert answer.status_code == 202, answer.text
        answer = client.post("/hooks/recorder", content=json.dumps(hooked))
        assert answer.status_code == 202, answer.text
    service.runtime.advance()  # the breaches of the morning, at the service's clock
    service.runtime.deliver_due()


def test_the_dashboard_in_headless_chromium(service: Service, tmp_path: Path) -> None:
    feed(service)
    dom = dump_dom(service.page(tz="Europe/Berlin"))
    page = _Rows(dom)
    assert page.segments == {"response", "handling", "overtime"}
    assert {"figure-compliance", "figure-service-level", "figure-asa", "figure-abandonment"} <= (
        page.ids
    )
    assert {"filter-policy", "filter-group", "filter-node"} <= page.ids
    assert page.rows[0]["ticket"] == "T-1041"  # the enterprise ticket nobody answered
    assert {row["group"] for row in page.rows} == {"billing", "technical", "accounts"}
    assert 'class="state-paused">paused</td>' in dom
    assert "refreshing in " in dom  # the countdown script ran
    assert "service level (answered within 20s)" in dom
    assert '<option value="technical">technical</option>' in dom
    for status in ("done", "pending", "dead"):
        assert f'class="status-{status}"' in dom

    billing = _Rows(dump_dom(service.page(tz="Europe/Berlin", group="billing", policy="Standard")))
    assert billing.rows
    assert {(row["group"], row["policy"]) for row in billing.rows} == {("billing", "Standard")}
    assert billing.selected == {"policy": "Standard", "group": "billing", "node": ""}

    update = os.environ.get("SLARULES_UPDATE_SCREENSHOTS") == "1"
    target = DOCS_IMAGE if update else tmp_path / "dashboard.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    screenshot(service.page(tz="Europe/Berlin"), target, size=(1280, 1000))
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
