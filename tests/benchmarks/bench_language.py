"""Benchmark of the policy language: parse and validate a large generated policy file.

Workload (seeded): 50 calendars, 1,000 policies with two to four targets and an `applies`
condition each, 500 triggers, 20 schedules. Measured, best of ``--repeat`` runs:

* parse + validate with slarules (``parse_policies``), the time per policy, and conditions
  checked per second;
* side by side, what an integrator would otherwise do: the same declarations as JSON, loaded and
  validated with pydantic (``PolicyDocument.model_validate_json``), which checks shapes but none
  of the names, types or calendars that slarules validates.

Target: parse + validate under 2 s. Figures are printed, not asserted. Run with ``tox -e bench``
or ``python tests/benchmarks/bench_language.py``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from slarules import PolicySet, parse_policies
from slarules.policyset import PolicyDocument

T = TypeVar("T")

TARGET_SECONDS = 2.0
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "UTC")
PRIORITIES = ("low", "normal", "high", "urgent")
METRICS = ("first_response", "next_response", "periodic_update", "resolution")


def generate(calendars: int, policies: int, triggers: int, schedules: int, seed: int) -> str:
    rng = random.Random(seed)
    parts = [_calendar(i, rng) for i in range(calendars)]
    parts += [_policy(i, calendars, rng) for i in range(policies)]
    parts += [_trigger(i, rng) for i in range(triggers)]
    parts += [_schedule(i, rng) for i in range(schedules)]
    return "\n".join(parts)


def _calendar(i: int, rng: random.Random) -> str:
    opens = rng.randint(6, 10)
    return (
        f"calendar office_{i} {{\n"
        f'    timezone "{rng.choice(ZONES)}"\n'
        f"    hours mon-fri {opens:02d}:00-12:00, 13:00-{opens + 9:02d}:00\n"
        f"    hours sat 10:00-14:00\n"
        f'    holiday 2026-12-25 "Christmas Day"\n'
        f"    hours 2026-12-24 09:00-12:00\n"
        f"}}\n"
    )


def _policy(i: int, calendars: int, rng: random.Random) -> str:
    priority = rng.choice(PRIORITIES)
    tier = rng.choice(("gold", "silver", "bronze"))
    metrics = rng.sample(METRICS, rng.randint(2, 4))
    targets = "".join(
        f"    {metric} within {rng.choice((15, 30, 60, 240))}m warn at 50%, 80%\n"
        for metric in metrics
    )
    return (
        f'policy "policy {i}" {{\n'
        f'    applies when priority == "{priority}" and customer.tier == "{tier}" '
        f'and not ("spam" in tags) and custom.region in ["eu", "us", "apac"]\n'
        f"    calendar office_{rng.randrange(calendars)}\n"
        f"{targets}"
        f'    node "L2 review" response within 1h, handling within 4h\n'
        f'    pause while status in ["pending", "hold"]\n'
        f"}}\n"
    )


def _trigger(i: int, rng: random.Random) -> str:
    metric = rng.choice(METRICS)
    return (
        f'trigger "trigger {i}" {{\n'
        f"    when {metric}.remaining < {rng.choice((15, 30, 60))}m and not {metric}.paused "
        f'or node unhandled and priority == "urgent"\n'
        f'    then notify node.assignee "{metric} due at {{{metric}.due_at}}", '
        f"urge node.assignee every 30m\n"
        f"}}\n"
    )


def _schedule(i: int, rng: random.Random) -> str:
    return (
        f'schedule "service level {i}" every "*/15 8-18 * * mon-fri" in "{rng.choice(ZONES)}" {{\n'
        f"    when service_level(answer, 20s, window 1h) < 80%\n"
        f'    then notify group "supervisors"\n'
        f"}}\n"
    )


def best(run: Callable[[], T], repeat: int) -> tuple[float, T]:
    fastest, result = float("inf"), None
    for _ in range(repeat):
        began = time.perf_counter()
        result = run()
        fastest = min(fastest, time.perf_counter() - began)
    assert result is not None
    return fastest, result


def count_conditions(policies: PolicySet) -> int:
    document = policies.document
    return (
        sum(p.applies is not None for p in document.policies)
        + sum(len(p.pauses) for p in document.policies)
        + len(document.triggers)
        + sum(s.when is not None for s in document.schedules)
        + sum(len(m.pauses) for m in document.metrics)
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policies", type=int, default=1000)
    parser.add_argument("--calendars", type=int, default=50)
    parser.add_argument("--triggers", type=int, default=500)
    parser.add_argument("--schedules", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    text = generate(args.calendars, args.policies, args.triggers, args.schedules, args.seed)
    seconds, policies = best(lambda: parse_policies(text, source="generated.sla"), args.repeat)
    as_json = policies.to_json(indent=None)
    json_seconds, _ = best(lambda: PolicyDocument.model_validate_json(as_json), args.repeat)
    conditions = count_conditions(policies)

    print(
        f"policy language benchmark: {len(text) / 1024:,.0f} KiB, {args.calendars} calendars, "
        f"{args.policies} policies, {args.triggers} triggers, {args.schedules} schedules; "
        f"best of {args.repeat}"
    )
    print(f"  slarules parse + validate      : {seconds:8.3f} s")
    print(f"  per policy                     : {seconds / args.policies * 1e6:8.0f} µs")
    print(f"  conditions, whole file         : {conditions / seconds:8,.0f} per second")
    print(f"  pydantic, same content as JSON : {json_seconds:8.3f} s (shapes only, no checks)")
    print(f"  ratio slarules / pydantic JSON : {seconds / json_seconds:8.2f}x")
    verdict = "met" if seconds < TARGET_SECONDS else "NOT met"
    print(f"  target parse + validate < {TARGET_SECONDS:g} s : {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
