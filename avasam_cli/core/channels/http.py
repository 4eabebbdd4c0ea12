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
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from avasam_cli.core.errors import InvalidInput, RemoteError, printable
from avasam_cli.core.retry import retry

ATTEMPTS = 4
MAX_RETRY_AFTER = 120.0


class HttpFailure(RemoteError):
    """A request that failed: `status` is the HTTP status (None when nothing answered),
    `transient` whether trying again later may help (timeouts, 5xx, 429)."""

    def __init__(self, message: str, *, status: int | None, transient: bool) -> None:
        super().__init__(message)
        self.status = status
        self.transient = transient


@dataclass
class Response:
    status: int
    headers: Message
    body: Any


LOOPBACK_HOSTS = ("localhost", "::1")


def is_loopback(host: str | None) -> bool:
    return bool(host) and (host in LOOPBACK_HOSTS or str(host).startswith("127."))


def origin(url: str) -> tuple[str, str, int | None]:
    """scheme, host, port: where credentials may be sent."""
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def check_channel_url(url: str, *, allow_loopback_http: bool = False) -> str:
    """A shop's address: https (plain http only to this machine, when asked for), no
    credentials and no query string (secrets travel in headers, never in the URL)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (a port that is not a number fails only when read)
    except ValueError:
        raise InvalidInput(f"--url {url!r} is not a web address") from None
    if parts.username or parts.password:
        raise InvalidInput(
            "--url must not hold a user name or password; give the secret "
            "with --token-env/--key-env/--secret-env"
        )
    if parts.query or parts.fragment:
        raise InvalidInput(
            "--url must not have a query string (?...) or a fragment (#...); "
            "give the shop's address only"
        )
    if not parts.hostname:
        raise InvalidInput(f"--url {url!r} has no host")
    http_ok = allow_loopback_http and parts.scheme == "http" and is_loopback(parts.hostname)
    if parts.scheme != "https" and not http_ok:
        raise InvalidInput(
            f"--url {url!r} must start with https:// (plain http only to "
            "127.0.0.1 with --allow-loopback-http, for testing)"
        )
    return url


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only within the origin asked for: the request's headers carry the
    channel's credentials, and urllib would send them to any host a reply names."""

    def redirect_request(  # type: ignore[no-untyped-def]
        self, req, fp, code, msg, headers, newurl
    ):
        if origin(newurl) != origin(req.full_url):
            raise RemoteError(
                f"{_where(req.full_url)} redirected to another host ({_where(newurl)}); "
                "not followed, so the channel's credentials stay with the shop"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_SameOriginRedirects)


class JsonHttp:
    def __init__(
        self, *, timeout: float, backoff: float, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.timeout = timeout
        self.backoff = backoff
        self.sleep = sleep

    def get(self, url: str, headers: dict[str, str]) -> Response:
        return self._call("GET", url, headers, None)

    def post_json(
        self, url: str, headers: dict[str, str], body: Any, *, once: bool = False
    ) -> Response:
        """POST a JSON document. Retried like a GET unless `once`: a request that changes
        something (a fulfillment, a note) is sent once, because a timed-out request may
        still have been carried out; the caller checks before it tries again."""
        return self._call("POST", url, headers, body, once=once)

    def put_json(self, url: str, headers: dict[str, str], body: Any) -> Response:
        """PUT a JSON document: setting a value, safe to send again."""
        return self._call("PUT", url, headers, body)

    def _call(
        self, method: str, url: str, headers: dict[str, str], body: Any, *, once: bool = False
    ) -> Response:
        data = None if body is None else json.dumps(body).encode("utf-8")
        if data is not None:
            headers = {"Content-Type": "application/json", **headers}
        try:
            status, reply_headers, raw = retry(
                partial(self._fetch, url, headers, data, method),
                attempts=1 if once else ATTEMPTS,
                first_delay=self.backoff,
                transient=_transient,
                told_wait=_told_wait,
                sleep=self.sleep,
            )
        except urllib.error.HTTPError as exc:
            raise HttpFailure(
                f"{_where(url)} answered HTTP {exc.code} {exc.reason}{_hint(exc.code)}"
                f"{_their_message(exc)}",
                status=exc.code,
                transient=_transient(exc),
            ) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise HttpFailure(
                f"{_where(url)} could not be reached: {reason}", status=None, transient=True
            ) from None
        return Response(status, reply_headers, _json(raw, url))

    def _fetch(
        self, url: str, headers: dict[str, str], data: bytes | None = None, method: str = "GET"
    ) -> tuple[int, Message, bytes]:
        request = urllib.request.Request(
            url,
            data=data,
            method=method,
            headers={"Accept": "application/json", "User-Agent": "avasam", **headers},
        )
        with _OPENER.open(request, timeout=self.timeout) as reply:
            return reply.status, reply.headers, reply.read()


def _transient(exc: Exception) -> bool:
    """Server errors, rate limits and dropped connections; not 4xx (a wrong request)."""
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code == 429 or exc.code >= 500
    return isinstance(exc, urllib.error.URLError | TimeoutError | ConnectionError)


def _told_wait(exc: Exception, delay: float) -> float | None:
    """A 429's Retry-After (the backoff delay when it has none)."""
    if isinstance(exc, urllib.error.HTTPError) and exc.code == 429:
        return _retry_after(exc.headers, delay)
    return None


def _json(raw: bytes, url: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RemoteError(f"{_where(url)} sent a body that is not JSON") from None
    except (ValueError, RecursionError):  # nested too deep, or a number too long
        raise RemoteError(f"{_where(url)} sent JSON too deep or too long to read") from None


def _retry_after(headers: Message, default: float) -> float:
    try:
        return min(max(float(headers.get("Retry-After", default)), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return default


def _their_message(exc: urllib.error.HTTPError) -> str:
    """The server's own `code`/`message` (WooCommerce's error shape), short and printable;
    never a header, which is where credentials travel."""
    try:
        body = json.loads(exc.read(4096).decode("utf-8"))
    except (ValueError, UnicodeDecodeError, OSError, AttributeError):
        return ""
    if not isinstance(body, dict) or not isinstance(body.get("code"), str):
        return ""
    message = body.get("message") if isinstance(body.get("message"), str) else ""
    return printable(f" ({body['code'][:80]}: {str(message)[:160]})")


def _where(url: str) -> str:
    return url.split("?", 1)[0]


def _hint(code: int) -> str:
    if code in (401, 403):
        return "; check the channel's credentials"
    if code == 404:
        return "; check the channel's --url"
    return ""
