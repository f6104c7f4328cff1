"""Report formulas against figures computed by hand on a small fixed data set."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slarules import Clock, ClockState, Progress
from slarules.metrics import (
    Breaches,
    Summary,
    TicketClocks,
    breach_list,
    contact_figures,
    percentile,
    period_label,
    summarize,
)
from slarules.report import ReportOptions, build_report

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def clock(
    metric: str,
    state: ClockState,
    elapsed: timedelta,
    *,
    target: timedelta = 20 * S,
    started_at: datetime = T0,
    policy: str = "Standard",
    node: str | None = None,
) -> Clock:
    breached = state in (ClockState.BREACHED_MET, ClockState.BREACHED_RUNNING)
    return Clock(
        ticket="?",
        metric=metric,
        node=node,
        policy=policy,
        cycle=1,
        state=state,
        started_at=started_at,
        stopped_at=None
        if state in (ClockState.RUNNING, ClockState.BREACHED_RUNNING)
        else (started_at + elapsed),
        elapsed=elapsed,
        target=target,
        remaining=target - elapsed,
        due_at=started_at + target,
        percent=100 * elapsed / target,
        breached_at=started_at + target if breached else None,
        progress=Progress(response=elapsed, handling=timedelta(), overtime=timedelta()),
    )


def ticket(name: str, *clocks: Clock, **fields: Any) -> TicketClocks:
    return TicketClocks(name, fields, clocks)


ANSWERED, ABANDONED = ClockState.MET, ClockState.CANCELLED
LATE, WAITING = ClockState.BREACHED_MET, ClockState.RUNNING

# Ten calls. Answered: 5 s, 12 s, 18 s, 20 s (on the threshold: in time), 35 s, 60 s.
# Abandoned: 3 s (short), 4 s (short), 15 s (within 20 s), 45 s (after). One still waiting.
CALLS = [
    ticket("C1", clock("answer", ANSWERED, 5 * S)),
    ticket("C2", clock("answer", ANSWERED, 12 * S)),
    ticket("C3", clock("answer", ANSWERED, 18 * S)),
    ticket("C4", clock("answer", ANSWERED, 20 * S)),
    ticket("C5", clock("answer", LATE, 35 * S)),
    ticket("C6", clock("answer", LATE, 60 * S)),
    ticket("C7", clock("answer", ABANDONED, 3 * S)),
    ticket("C8", clock("answer", ABANDONED, 4 * S)),
    ticket("C9", clock("answer", ABANDONED, 15 * S)),
    ticket("C10", clock("answer", ABANDONED, 45 * S)),
    ticket("C11", clock("answer", WAITING, 8 * S)),
]


@pytest.mark.parametrize(
    ("formula", "short_abandon", "expected"),
    [
        # 4 answered within / (6 answered + 4 abandoned)
        ("abandoned_missed", None, 40.0),
        # 4 / 6 answered
        ("abandoned_excluded", None, 4 / 6 * 100),
        # (4 + 3 abandoned within 20 s) / 10
        ("abandoned_within_met", None, 70.0),
        # 4 / (6 + 1 abandoned after 20 s)
        ("abandoned_after_missed", None, 4 / 7 * 100),
        # Without the two short abandons (3 s, 4 s): 4 / (6 + 2)
        ("abandoned_missed", 5 * S, 50.0),
        ("abandoned_excluded", 5 * S, 4 / 6 * 100),
        # (4 + 1) / 8
        ("abandoned_within_met", 5 * S, 62.5),
        ("abandoned_after_missed", 5 * S, 4 / 7 * 100),
    ],
)
def test_service_level_formulas(
    formula: Any, short_abandon: timedelta | None, expected: float
) -> None:
    figures = contact_figures(CALLS, 20 * S, formula=formula, short_abandon=short_abandon)
    assert figures.service_level == pytest.approx(expected)


def test_the_short_abandon_rule_leaves_those_calls_out_of_every_figure() -> None:
    every = contact_figures(CALLS, 20 * S)
    short = contact_figures(CALLS, 20 * S, short_abandon=5 * S)
    assert (every.offered, every.abandoned, every.short_abandoned) == (10, 4, 0)
    assert (short.offered, short.abandoned, short.short_abandoned) == (8, 2, 2)
    # Under 5 s, not at 5 s: the 5 s answered call is an answer, and abandons are compared "<".
    at_five = contact_figures([ticket("X", clock("answer", ABANDONED, 5 * S))], 20 * S,
                              short_abandon=5 * S)  # fmt: skip
    assert at_five.abandoned == 1
    assert every.abandonment_rate == pytest.approx(40.0)
    assert short.abandonment_rate == pytest.approx(25.0)


def test_an_abandon_on_the_threshold_is_an_abandon_within_it() -> None:
    on_it = [ticket("X", clock("answer", ABANDONED, 20 * S))]
    assert contact_figures(on_it, 20 * S, formula="abandoned_within_met").service_level == 100.0
    assert contact_figures(on_it, 20 * S, formula="abandoned_after_missed").service_level is None


def test_reports_count_answers_within_20_seconds_of_clocks_started_in_the_window() -> None:
    calls = [
        ticket("A", clock("answer", ANSWERED, 20 * S)),
        ticket("B", clock("answer", LATE, 20 * S + timedelta(microseconds=1))),
        ticket("C", clock("answer", ANSWERED, 5 * S, started_at=T0 + S)),
    ]
    contacts = build_report(calls, ReportOptions(at=T0)).contacts["abandoned_missed"]
    assert (contacts.answered, contacts.service_level) == (3, pytest.approx(200 / 3))
    # From its first instant, up to but not including its last.
    first = build_report(calls, ReportOptions(at=T0, started_from=T0, started_to=T0 + S))
    assert (first.total.met, first.total.breached) == (1, 1)
    then = build_report(calls, ReportOptions(at=T0, started_from=T0 + S, started_to=T0 + 2 * S))
    assert (then.total.met, then.total.breached) == (1, 0)


def test_reports_leave_out_abandons_under_five_seconds_unless_told_otherwise() -> None:
    calls = [
        ticket("A", clock("answer", ABANDONED, 5 * S - timedelta(microseconds=1))),
        ticket("B", clock("answer", ABANDONED, 5 * S)),
    ]
    contacts = build_report(calls, ReportOptions(at=T0)).contacts["abandoned_missed"]
    assert (contacts.short_abandoned, contacts.abandoned) == (1, 1)
    every = build_report(calls, ReportOptions(at=T0, short_abandon=None)).contacts
    assert (every["abandoned_missed"].short_abandoned, every["abandoned_missed"].abandoned) == (
        0,
        2,
    )


def test_average_speed_of_answer_counts_answered_calls_only() -> None:
    figures = contact_figures(CALLS, 20 * S)
    assert figures.average_speed_of_answer == (5 + 12 + 18 + 20 + 35 + 60) * S / 6
    assert figures.waiting == 1


def test_no_calls_is_no_data_not_a_division_by_zero() -> None:
    figures = contact_figures([], 20 * S)
    assert figures.service_level is None
    assert figures.average_speed_of_answer is None
    assert figures.abandonment_rate is None
    only_abandoned = contact_figures([CALLS[6]], 20 * S, short_abandon=5 * S)
    assert only_abandoned.offered == 0
    assert only_abandoned.service_level is None
    assert contact_figures(CALLS[6:], 20 * S, formula="abandoned_excluded").service_level is None


def test_an_unknown_formula_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="`abandoned_excluded`"):
        contact_figures(CALLS, 20 * S, formula="nonsense")  # type: ignore[arg-type]


# -- compliance and breaches -------------------------------------------------------------------

TICKETS = [
    ticket(
        "T1",
        clock("first_response", ANSWERED, 2 * 3600 * S, target=4 * 3600 * S),
        clock("resolution", ANSWERED, 20 * 3600 * S, target=24 * 3600 * S),
        priority="high",
        group="L1",
    ),
    ticket(
        "T2",
        clock("first_response", LATE, 5 * 3600 * S, target=4 * 3600 * S),
        clock("resolution", WAITING, 10 * 3600 * S, target=24 * 3600 * S),
        priority="high",
        group="L2",
    ),
    ticket(
        "T3",
        clock("first_response", ClockState.BREACHED_RUNNING, 6 * 3600 * S, target=4 * 3600 * S),
        clock("resolution", WAITING, 6 * 3600 * S, target=24 * 3600 * S),
        priority="normal",
        group="L1",
    ),
    ticket(
        "T4",
        clock("first_response", ANSWERED, 1 * 3600 * S, target=4 * 3600 * S),
        clock("resolution", ClockState.CANCELLED, 3 * 3600 * S, target=24 * 3600 * S),
        priority="normal",
    ),
]


def test_compliance_is_met_over_met_and_breached() -> None:
    rows = {row.group["metric"]: row for row in summarize(TICKETS, by=("metric",))}
    first = rows["first_response"]
    assert (first.met, first.breached, first.running, first.cancelled) == (2, 2, 0, 0)
    assert first.compliance == 50.0
    resolution = rows["resolution"]
    assert (resolution.met, resolution.breached, resolution.running) == (1, 0, 2)
    assert resolution.cancelled == 1
    assert resolution.compliance == 100.0


def test_grouping_by_ticket_fields_and_a_missing_field() -> None:
    rows = summarize(TICKETS, by=("group", "metric"))
    table = {(row.group["group"], row.group["metric"]): row.compliance for row in rows}
    assert table[("L1", "first_response")] == 50.0
    assert table[("L2", "first_response")] == 0.0
    assert table[("(none)", "first_response")] == 100.0
    assert table[("L2", "resolution")] is None  # running only: no data


def test_grouping_by_a_list_field_counts_a_clock_under_each_of_its_values() -> None:
    # T1 (met) and T2 (late) are tagged vip; T1 is billing too, twice over; T3 has no tag and
    # T4 no tags field at all.
    tagged = [
        ticket("T1", clock("first_response", ANSWERED, 10 * S), tags=["vip", "billing", "vip"]),
        ticket("T2", clock("first_response", LATE, 30 * S), tags=["vip"]),
        ticket("T3", clock("first_response", ANSWERED, 5 * S), tags=[]),
        ticket("T4", clock("first_response", WAITING, 5 * S)),
    ]
    rows = summarize(tagged, by=("tags", "metric"))
    table = {row.group["tags"]: (row.met, row.breached, row.running) for row in rows}
    assert table == {"vip": (1, 1, 0), "billing": (1, 0, 0), "(none)": (1, 0, 1)}
    assert [row.group["metric"] for row in rows] == ["first_response"] * 3

    # The total counts each clock once, in one pass or counted in shares and merged (as
    # report processes do), grouped by tags or by the clock alone.
    for by in (("tags",), ("policy",)):
        whole, shares = Summary(by), [Summary(by), Summary(by)]
        for number, counted in enumerate(tagged):
            whole.add(counted, counted.clocks[0])
            shares[number % 2].add(counted, counted.clocks[0])
        merged = pickle.loads(pickle.dumps(shares[0]))
        merged.merge(pickle.loads(pickle.dumps(shares[1])))
        for summary in (whole, merged):
            total = summary.total()
            assert (total.met, total.breached, total.running, total.compliance) == (
                2,
                1,
                1,
                200 / 3,
            )
            assert total.percentile(50) == 10 * S


def test_percentiles_interpolate_between_ranks() -> None:
    hours = [1, 2, 5, 9]
    values = [hour * 3600 * S for hour in hours]
    assert percentile(values, 50) == 3.5 * 3600 * S
    assert percentile(values, 90) == (5 + 0.7 * 4) * 3600 * S
    assert percentile([7 * S], 99) == 7 * S
    assert percentile([], 50) is None
    row = summarize(TICKETS, by=("metric",))[0]
    # Ended first responses: 2 h, 5 h (met late), 1 h; the breached running one has not ended.
    assert row.percentile(50) == 2 * 3600 * S


def test_breach_list_says_how_late_latest_first() -> None:
    rows = breach_list(TICKETS)
    assert [(row.ticket, row.late_by) for row in rows] == [
        ("T3", 2 * 3600 * S),
        ("T2", 1 * 3600 * S),
    ]
    assert rows[0].as_dict()["late_by"] == 7200.0


def test_a_clock_cancelled_past_its_target_has_no_verdict_and_is_no_breach() -> None:
    # A call abandoned after 45 s of a 20 s target: the service level formulas count it, the
    # breach list does not (it ended without a verdict), nor does compliance.
    abandoned = clock("answer", ABANDONED, 45 * S).model_copy(update={"breached_at": T0 + 20 * S})
    late = _breached("T2", "answer", 5 * S)
    assert [row.ticket for row in breach_list([ticket("T1", abandoned), late])] == ["T2"]
    [row] = summarize([ticket("T1", abandoned)])
    assert (row.cancelled, row.breached, row.compliance) == (1, 0, None)


def _breached(name: str, metric: str, late: timedelta, **options: Any) -> TicketClocks:
    return ticket(name, clock(metric, LATE, 20 * S + late, **options))


def test_breaches_as_late_are_in_ticket_then_metric_order() -> None:
    rows = breach_list(
        [
            _breached("T9", "resolution", 5 * S),
            _breached("T2", "resolution", 5 * S),
            _breached("T2", "first_response", 5 * S),
            _breached("T5", "resolution", 9 * S),
        ]
    )
    assert [(row.ticket, row.metric, row.late_by) for row in rows] == [
        ("T5", "resolution", 9 * S),
        ("T2", "first_response", 5 * S),
        ("T2", "resolution", 5 * S),
        ("T9", "resolution", 5 * S),
    ]


def test_breaches_counted_apart_and_merged_are_the_breaches_counted_together() -> None:
    first = [
        _breached("A", "resolution", 3 * S, policy="Gold"),
        _breached("B", "first_response", 7 * S, node="L2 review"),
    ]
    # The second share meets the kinds of breach in another order, and one of its own.
    second = [
        _breached("C", "first_response", 7 * S, node="L2 review"),
        _breached("D", "answer", 1 * S, policy="Phone"),
        _breached("E", "resolution", 11 * S, policy="Gold"),
    ]
    together, shares = Breaches(), [Breaches(), Breaches()]
    for share, tickets in zip(shares, (first, second), strict=True):
        for item in tickets:
            together.add(item, item.clocks[0])
            share.add(item, item.clocks[0])
    merged = pickle.loads(pickle.dumps(shares[0]))
    merged.merge(pickle.loads(pickle.dumps(shares[1])))  # as from a report process
    rows = merged.rows()
    assert rows == together.rows() == breach_list(first + second)
    assert [(row.ticket, row.policy, row.node) for row in rows] == [
        ("E", "Gold", None),
        ("B", "Standard", "L2 review"),
        ("C", "Standard", "L2 review"),
        ("A", "Gold", None),
        ("D", "Phone", None),
    ]
    assert rows[1].breached_at == T0 + 20 * S
    assert rows[1].state is LATE
    assert rows[-1].elapsed == 21 * S
    assert rows[-1].target == 20 * S
    assert rows[1:3] == list(rows)[1:3]
    assert len(rows) == 5
    assert rows != list(rows)[:4]
    assert rows != "ABCDE"


# -- periods -----------------------------------------------------------------------------------


def test_days_across_the_spring_forward_change_in_berlin() -> None:
    # 2026-03-29: Berlin goes from +01:00 to +02:00 at 02:00 local (01:00 UTC).
    before = datetime(2026, 3, 28, 22, 59, tzinfo=UTC)  # 23:59 on the 28th, local
    after = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)  # 00:00 on the 29th
    late = datetime(2026, 3, 29, 21, 59, tzinfo=UTC)  # 23:59 on the 29th (+02:00)
    nextday = datetime(2026, 3, 29, 22, 0, tzinfo=UTC)  # 00:00 on the 30th
    labels = [period_label(t, "day", "Europe/Berlin") for t in (before, after, late, nextday)]
    assert labels == ["2026-03-28", "2026-03-29", "2026-03-29", "2026-03-30"]
    assert period_label(after, "day", "UTC") == "2026-03-28"


def test_the_repeated_hour_of_a_fall_back_change_is_two_hours() -> None:
    # 2026-10-25 in Berlin: 02:00-03:00 happens twice, at +02:00 then at +01:00.
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    labels = [period_label(t, "hour", "Europe/Berlin") for t in (first, second)]
    assert labels == ["2026-10-25T02:00+02:00", "2026-10-25T02:00+01:00"]
    assert period_label(first, "hour", "UTC") == "2026-10-25T00:00+00:00"
    assert period_label(first, "hour", "America/New_York") == "2026-10-24T20:00-04:00"
    calls = [
        ticket("A", clock("answer", ANSWERED, 5 * S, started_at=first)),
        ticket("B", clock("answer", LATE, 50 * S, started_at=second)),
        ticket("C", clock("answer", ANSWERED, 9 * S, started_at=second)),
    ]
    rows = summarize(calls, by=("period",), period="hour", timezone="Europe/Berlin")
    assert [(row.group["period"], row.met, row.breached) for row in rows] == [
        ("2026-10-25T02:00+02:00", 1, 0),
        ("2026-10-25T02:00+01:00", 1, 1),
    ]


def test_weeks_and_months_in_new_york() -> None:
    # Sunday 2026-03-08 23:30 in New York is Monday 04:30 UTC: still ISO week 10 there.
    instant = datetime(2026, 3, 9, 3, 30, tzinfo=UTC)
    assert period_label(instant, "week", "America/New_York") == "2026-W10"
    assert period_label(instant, "week", "UTC") == "2026-W11"
    assert period_label(datetime(2026, 4, 1, 2, 0, tzinfo=UTC), "month", "America/New_York") == (
        "2026-03"
    )


def test_a_window_keeps_the_clocks_that_started_in_it() -> None:
    calls = [
        ticket("A", clock("answer", ANSWERED, 5 * S, started_at=T0)),
        ticket("B", clock("answer", LATE, 50 * S, started_at=T0 + timedelta(hours=1))),
    ]
    window = (T0 + timedelta(minutes=30), T0 + timedelta(hours=2))
    assert contact_figures(calls, 20 * S, started=window).service_level == 0.0
    assert contact_figures(calls, 20 * S, started=(None, T0 + S)).service_level == 100.0
    # From its first instant, up to but not including its last: A started on the instant.
    assert contact_figures(calls, 20 * S, started=(T0, T0 + S)).offered == 1
    assert contact_figures(calls, 20 * S, started=(T0 - S, T0)).offered == 0
    empty = summarize(calls, started=(T0 + timedelta(hours=3), None))
    assert empty == []
