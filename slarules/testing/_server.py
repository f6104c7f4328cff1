"""A real HTTP server on 127.0.0.1 that plays a helpdesk's API in tests and records requests.

Adapters are tested through their real HTTP client and real sockets: the server answers each
request with the next scripted response for its method and path (``429`` then ``200``, say), or
``404`` when nothing is scripted, and keeps every request it received.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["HelpdeskServer", "RecordedRequest", "Response"]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Response:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering: a slow helpdesk

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return b"" if self.body is None else json.dumps(self.body).encode()


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    responses: deque[Response]
    repeat_last: bool


class HelpdeskServer:
    """``with HelpdeskServer() as server:``, then point an adapter at ``server.url``.

    Example: the first update is throttled, the next ones succeed::

        with HelpdeskServer() as server:
            server.respond("PUT", r"/tickets/\\d+", Response(429, headers={"Retry-After": "7"}),
                           Response(200, {"id": 42}))
            adapter = MyAdapter(base_url=server.url)
            ...
            assert [r.path for r in server.requests] == ["/tickets/42", "/tickets/42"]
    """

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._routes: list[_Route] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def respond(self, method: str, path: str, *responses: Response, repeat: bool = True) -> None:
        """Answer ``method path`` (a regular expression matched against the whole path) with
        ``responses`` in turn; the last one again and again unless ``repeat`` is false."""
        with self._lock:
            self._routes.append(_Route(method.upper(), re.compile(path), deque(responses), repeat))

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        pattern = re.compile(path)
        return [r for r in self.requests if r.method == method and pattern.fullmatch(r.path)]

    def __enter__(self) -> HelpdeskServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, request: RecordedRequest) -> Response:
        with self._lock:
            self.requests.append(request)
            for route in self._routes:
                if not (route.method == request.method and route.pattern.fullmatch(request.path)):
                    continue
                if len(route.responses) == 1 and route.repeat_last:
                    return route.responses[0]
                if route.responses:
                    return route.responses.popleft()
        return Response(404, {"error": f"nothing scripted for {request.method} {request.path}"})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if len(body) < length:
                    return  # the client went away mid-request: nothing was sent, as for HTTP
                url = urlsplit(self.path)
                request = RecordedRequest(
                    method=self.command,
                    path=url.path,
                    query=dict(parse_qsl(url.query)),
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=body,
                )
                response = server._answer(request)
                time.sleep(response.delay)
                payload = response.encoded()
                self.send_response(response.status)
                headers = {"Content-Type": "application/json", **response.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass  # tests read `server.requests`, not stderr

        return Handler
