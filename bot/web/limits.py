"""What keeps one client from taking the server: a token bucket per client IP, caps on the query string and the
request body, and the security headers every response carries. Plain ASGI middleware, so they run before FastAPI
parses anything.

The buckets live in each worker process: with N workers (or N replicas) a client may get up to N times the rate.
Behind a reverse proxy, uvicorn's proxy-header support (WEB_FORWARDED_ALLOW_IPS) makes the client's own address the
one counted, instead of the proxy's.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.web.problems import Problem, problem_response

# a CSP without 'unsafe-inline': the page's only script is /static/app.js; charts are same-origin PNGs
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
UNLIMITED_PREFIXES = ("/static/", "/healthz", "/metrics")
MAX_CLIENTS = 10_000     # buckets kept; full ones are dropped first when there are more


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *((k, v) for k, v in SECURITY_HEADERS if k not in present)]
            await send(message)

        await self.app(scope, receive, with_headers)


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """`rate_per_s` tokens a second up to `burst` per key; thread-safe, monotonic clock."""

    def __init__(self, rate_per_s: float, burst: int):
        self.rate = rate_per_s
        self.burst = max(1, burst)
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """0 when `key` may go now (a token is spent), else the seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= MAX_CLIENTS:
                    self._prune(now)
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate

    def _prune(self, now: float) -> None:
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.at) * self.rate >= self.burst]
        for k in full or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[k]


class _TooLarge(Exception):
    pass


class RequestLimits:
    """429 past the client's rate, 414 for a long query string, 413 for a large body (by Content-Length, or counted
    as it arrives when there is none)."""

    def __init__(self, app: ASGIApp, rate_per_minute: float, burst: int, max_body_bytes: int, max_query_chars: int):
        self.app = app
        self.buckets = TokenBuckets(rate_per_minute / 60, burst) if rate_per_minute > 0 else None
        self.max_body = max_body_bytes
        self.max_query = max_query_chars

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        if self.buckets is not None and not path.startswith(UNLIMITED_PREFIXES):
            client = scope.get("client")
            wait = self.buckets.take(client[0] if client else "unknown")
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                problem = Problem(title="Too Many Requests", status=429, instance=path,
                                  detail=f"Too many requests from your address; try again in {seconds} s.")
                return await problem_response(problem, {"retry-after": str(seconds)})(scope, receive, send)
        if len(scope.get("query_string", b"")) > self.max_query:
            problem = Problem(title="URI Too Long", status=414, instance=path,
                              detail=f"The query string is longer than {self.max_query} characters.")
            return await problem_response(problem)(scope, receive, send)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            return await self._too_large(scope, receive, send)
        await self._counting(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = Problem(title="Content Too Large", status=413, instance=scope["path"],
                          detail=f"The request body is larger than {self.max_body} bytes.")
        await problem_response(problem, {"connection": "close"})(scope, receive, send)

    async def _counting(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count a body sent without Content-Length; past the cap, the app's own answer (FastAPI turns a failed read
        into a 400) is replaced by 413."""
        received = 0
        over = False
        started = False

        async def counted() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    over = True
                    raise _TooLarge()
            return message

        async def unless_over(message: Message) -> None:
            nonlocal started
            if over:
                return
            started = True
            await send(message)

        try:
            await self.app(scope, counted, unless_over)
        except _TooLarge:
            pass
        if over and not started:
            await self._too_large(scope, receive, send)
