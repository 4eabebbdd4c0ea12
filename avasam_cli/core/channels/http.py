"""A small JSON-over-HTTPS client for channel APIs: timeouts on every request, retries
with backoff for server errors and dropped connections, and 429 + Retry-After honoured.

The timeout (seconds per request) and backoff (first retry delay in seconds, doubling)
come from the settings: AVASAM_HTTP_TIMEOUT and AVASAM_HTTP_BACKOFF. Messages never
include request headers, which is where the channel secrets travel.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from typing import Any

from avasam_cli.core.errors import RemoteError

ATTEMPTS = 4
MAX_RETRY_AFTER = 120.0


@dataclass
class Response:
    status: int
    headers: Message
    body: Any


class JsonHttp:
    def __init__(self, *, timeout: float, backoff: float,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.timeout = timeout
        self.backoff = backoff
        self.sleep = sleep

    def get(self, url: str, headers: dict[str, str]) -> Response:
        delay = self.backoff
        for attempt in range(1, ATTEMPTS + 1):
            last = attempt == ATTEMPTS
            request = urllib.request.Request(url, headers={"Accept": "application/json",
                                                           "User-Agent": "avasam", **headers})
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                    return Response(reply.status, reply.headers, _json(reply.read(), url))
            except urllib.error.HTTPError as exc:
                if exc.code == 429 and not last:
                    self.sleep(_retry_after(exc.headers, delay))
                    continue
                if exc.code >= 500 and not last:
                    self.sleep(delay)
                    delay *= 2
                    continue
                raise RemoteError(f"{_where(url)} answered HTTP {exc.code} {exc.reason}"
                                  f"{_hint(exc.code)}") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                if not last:
                    self.sleep(delay)
                    delay *= 2
                    continue
                reason = getattr(exc, "reason", exc)
                raise RemoteError(f"{_where(url)} could not be reached: {reason}") from None
        raise AssertionError("unreachable")


def _json(raw: bytes, url: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RemoteError(f"{_where(url)} sent a body that is not JSON") from None


def _retry_after(headers: Message, default: float) -> float:
    try:
        return min(max(float(headers.get("Retry-After", default)), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return default


def _where(url: str) -> str:
    return url.split("?", 1)[0]


def _hint(code: int) -> str:
    if code in (401, 403):
        return "; check the channel's credentials"
    if code == 404:
        return "; check the channel's --url"
    return ""
