"""``slarules serve``: the runtime behind HTTP (Starlette, served by uvicorn).

* ``POST /hooks/{adapter}``: a helpdesk's webhooks, authenticated by the adapter itself;
* ``POST /events``: normalized events (one object or a list), with the bearer token;
* ``GET /tickets/{id}/clocks`` and ``GET /tickets/{id}/explain``, with the bearer token;
* ``GET /``: the live dashboard (HTML), with the bearer token or ``?token=`` (docs/dashboard.md);
* ``GET /healthz``; ``GET /metrics`` in the Prometheus text format;
* ``POST /admin/reload``: validate the policy file again and run it, or keep the old one and
  answer with the diagnostics (``SIGHUP`` does the same).

Every input is durable before its ``2xx`` (the runtime stores it first). Bodies over the size
limit, malformed JSON and bad signatures get a ``4xx`` that says why; the work happens in a
thread pool, so a slow store never blocks the event loop.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import math
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from slarules.dashboard import (
    IN_VIEW,
    Choices,
    Filters,
    build_dashboard,
    dashboard_page,
    refresh_seconds,
    rows_shown,
)
from slarules.errors import (
    ActionError,
    AuthenticationError,
    CalendarError,
    PayloadError,
    PluginError,
    PolicyError,
)
from slarules.runtime import Runtime
from slarules.specs import InboundRequest
from slarules.store import StoreError
from slarules.timezones import get_zone

__all__ = ["create_app"]

Handler = Callable[[Request], Awaitable[Response]]
MEGABYTE = 1024 * 1024
# Seconds a helpdesk is asked to wait before sending a request again: Zendesk retries a 503 only
# when its Retry-After is under a minute.
_RETRY_AFTER_CAP = 30


class _TooLarge(Exception):
    pass


class _BadQuery(Exception):
    """A query parameter that cannot be read: answered 400 with the message."""


def create_app(
    runtime: Runtime,
    policy_file: str | Path,
    *,
    token: str | None,
    max_body: int = MEGABYTE,
    run_loop: bool = True,
) -> Starlette:
    """The application; with ``run_loop``, a thread fires timers and delivers actions while it
    serves, and stops (after in-flight requests) on shutdown, which then closes the runtime and
    its store: a server stopped by a signal (uvicorn raises it again once it has shut down) ends
    with the store's file whole, not in its write-ahead log."""

    def authorized(request: Request) -> bool:
        given = request.headers.get("authorization", "")
        return token is not None and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

    async def body_of(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body:
            raise _TooLarge
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    def guarded(handler: Handler, needs_token: bool) -> Handler:
        async def guard(request: Request) -> Response:
            if needs_token and not authorized(request):
                reason = "missing or wrong bearer token"
                if token is None:
                    reason = (
                        "no token is configured: start the server with --token or SLARULES_TOKEN"
                    )
                return _error(401, reason)
            try:
                return await handler(request)
            except _TooLarge:
                return _error(413, f"the body is over {max_body} bytes")
            except _BadQuery as error:
                return _error(400, str(error))
            except StoreError as error:
                return _error(503, str(error))

        return guard

    async def hook(request: Request) -> Response:
        adapter = request.path_params["adapter"]
        if adapter not in runtime.engine.plugins.adapters:
            return _error(404, f"no adapter `{adapter}` is installed")
        inbound = InboundRequest(
            body=await body_of(request),
            headers=dict(request.headers),
            query=dict(request.query_params),
            method=request.method,
            received_at=runtime.clock(),
        )
        try:
            actions = await run_in_threadpool(runtime.receive, adapter, inbound)
        except AuthenticationError as error:
            return _error(401, str(error))
        except PayloadError as error:
            return _error(422, str(error), field=error.field)
        except ActionError as error:
            # The helpdesk's API failed while reading the ticket: ask it to send this again
            # soon (helpdesks retry a 503 with a short Retry-After); the request is kept too.
            wait = min(_RETRY_AFTER_CAP, max(1, math.ceil(error.retry_after or 0)))
            answer = _error(503, f"the helpdesk's API failed for now: {error}")
            answer.headers["Retry-After"] = str(wait)
            return answer
        except PluginError as error:
            return _error(500, str(error))
        runtime.wake()
        return JSONResponse({"accepted": True, "actions": len(actions)}, status_code=202)

    async def events(request: Request) -> Response:
        body = await body_of(request)
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            return _error(400, f"the body is not JSON: {error}")
        items = payload if isinstance(payload, list) else [payload]
        actions, rejected, duplicates = await run_in_threadpool(runtime.ingest_many, items)
        runtime.wake()
        answer = {
            "accepted": len(items) - len(rejected) - duplicates,
            "duplicates": duplicates,
            "actions": len(actions),
        }
        if rejected:
            # The good events are stored; the bad ones are kept for `slarules deadletters`.
            reasons = [
                {"reason": r.reason, "problems": [list(p) for p in r.problems]} for r in rejected
            ]
            return JSONResponse({**answer, "rejected": reasons}, status_code=422)
        return JSONResponse(answer, status_code=202)

    async def clocks(request: Request) -> Response:
        ticket = request.path_params["ticket"]
        now = _at(request) or runtime.clock()
        try:
            found = await run_in_threadpool(runtime.engine.clocks, ticket, now)
        except KeyError:
            return _error(404, f"no events for ticket `{ticket}`")
        return JSONResponse([clock.model_dump(mode="json") for clock in found])

    async def explain(request: Request) -> Response:
        ticket = request.path_params["ticket"]
        now = _at(request) or runtime.clock()
        try:
            explanation = await run_in_threadpool(runtime.engine.explain, ticket, now)
        except KeyError:
            return _error(404, f"no events for ticket `{ticket}`")
        return JSONResponse(explanation.model_dump(mode="json"))

    def may_see_dashboard(request: Request) -> bool:
        # A browser cannot send a bearer header when it navigates to a page, so the token may
        # come in the query string too (compared in constant time, like the header).
        given = request.query_params.get("token", "")
        by_query = token is not None and hmac.compare_digest(given.encode(), token.encode())
        return by_query or authorized(request)

    async def dashboard(request: Request) -> Response:
        if not may_see_dashboard(request):
            reason = "missing or wrong token: send the bearer token or add ?token= to the URL"
            if token is None:
                reason = "no token is configured: start the server with --token or SLARULES_TOKEN"
            return _error(401, reason)
        query = request.query_params
        zone = query.get("tz") or "UTC"
        try:
            get_zone(zone)
            refresh = refresh_seconds(query.get("refresh"))
            rows = rows_shown(query.get("rows"))
        except (CalendarError, ValueError) as error:
            return _error(400, str(error))
        # Not filters, but what a filter change and a reload must keep.
        keep = {name: query[name] for name in ("tz", "refresh", "rows", "token") if query.get(name)}
        page = await run_in_threadpool(
            _dashboard, runtime, Filters.from_query(query), zone, refresh, rows, keep
        )
        # The URL may carry the token: keep it out of caches and of other sites' logs.
        headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
        return HTMLResponse(page, headers=headers)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics(request: Request) -> Response:
        return PlainTextResponse(
            await run_in_threadpool(_metrics, runtime), media_type="text/plain; version=0.0.4"
        )

    async def reload(request: Request) -> Response:
        try:
            await run_in_threadpool(runtime.reload, policy_file)
        except PolicyError as error:
            return JSONResponse(
                {
                    "reloaded": False,
                    "error": "the new policy file has errors; the old policies keep running",
                    "diagnostics": [d.to_dict() for d in error.diagnostics],
                },
                status_code=422,
            )
        return JSONResponse({"reloaded": True})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = threading.Event()
        loop = threading.Thread(target=runtime.run, args=(stop,), name="slarules-runtime")
        if run_loop:
            loop.start()
        try:
            yield
        finally:
            stop.set()
            runtime.wake()
            if run_loop:
                loop.join()
                runtime.close()

    routes = [
        Route("/", guarded(dashboard, needs_token=False)),  # it checks its token itself
        Route("/hooks/{adapter}", guarded(hook, needs_token=False), methods=["POST"]),
        Route("/events", guarded(events, needs_token=True), methods=["POST"]),
        Route("/tickets/{ticket}/clocks", guarded(clocks, needs_token=True)),
        Route("/tickets/{ticket}/explain", guarded(explain, needs_token=True)),
        Route("/healthz", healthz),
        Route("/metrics", guarded(metrics, needs_token=False)),
        Route("/admin/reload", guarded(reload, needs_token=True), methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def _error(status: int, reason: str, **details: Any) -> JSONResponse:
    return JSONResponse({"error": reason, **details}, status_code=status)


def _at(request: Request) -> datetime | None:
    """The instant of ``?at=``, aware, if given."""
    at = request.query_params.get("at")
    if at is None:
        return None
    try:
        instant = datetime.fromisoformat(at)
    except ValueError:
        hint = " (a `+` in a URL is a space: write it %2B)" if " " in at else ""
        raise _BadQuery(f"`at` is not an ISO 8601 instant: `{at}`{hint}") from None
    if instant.utcoffset() is None:
        raise _BadQuery(f"`at` has no UTC offset: `{at}`; add one, such as `Z` or `%2B01:00`")
    return instant


def _dashboard(
    runtime: Runtime,
    filters: Filters,
    zone: str,
    refresh: int,
    rows: int,
    keep: dict[str, str],
) -> str:
    now, tickets, outbox = runtime.measure(within=IN_VIEW)
    named = Choices.named_in(runtime.engine.policies)
    view = build_dashboard(tickets, outbox, filters, now, zone, rows, named)
    return dashboard_page(view, refresh=refresh, keep=keep)


def _metrics(runtime: Runtime) -> str:
    stats = runtime.engine.stats
    store = runtime.store
    figures = [
        ("slarules_events_ingested_total", "counter", "Events accepted.", stats.events),
        ("slarules_events_duplicate_total", "counter", "Events ignored as duplicates.",
         stats.duplicates),
        ("slarules_events_rejected_total", "counter", "Events and requests rejected.",
         stats.rejected),
        ("slarules_actions_total", "counter", "Actions that became due.", stats.actions),
        ("slarules_actions_delivered_total", "counter", "Actions delivered.", stats.delivered),
        ("slarules_actions_failed_total", "counter", "Delivery attempts that failed.",
         stats.failed),
        ("slarules_actions_pending", "gauge", "Actions waiting for delivery.",
         len(store.outbox("pending"))),
        ("slarules_actions_dead_letters", "gauge", "Actions given up on.",
         len(store.outbox("dead"))),
        ("slarules_timers_pending", "gauge", "Tickets waiting on a timer.",
         store.pending_timers()),
        ("slarules_timer_lag_seconds", "gauge",
         "How late timers are: the last fired, or one due and not fired yet.",
         runtime.timers_late_by().total_seconds()),
    ]  # fmt: skip
    lines = []
    for name, kind, help_, value in figures:
        lines += [f"# HELP {name} {help_}", f"# TYPE {name} {kind}", f"{name} {value}"]
    return "\n".join(lines) + "\n"
