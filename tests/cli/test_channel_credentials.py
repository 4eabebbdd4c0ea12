"""A channel's credentials go to the shop and nowhere else: https addresses without secrets
in them, no redirect or next-page link followed to another host (real servers on loopback)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support import Cli


class Recorder:
    """A server on 127.0.0.1 answering every GET with a fixed reply, remembering headers."""

    def __init__(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None):
        self.status, self.body, self.headers = status, body, headers or {}
        self.seen: list[dict[str, str]] = []
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def serving(recorder: Recorder) -> Iterator[Recorder]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            recorder.seen.append(dict(self.headers))
            self.send_response(recorder.status)
            for key, value in recorder.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(recorder.body)))
            self.end_headers()
            self.wfile.write(recorder.body)

        def do_POST(self) -> None:  # GraphQL: the same answer, after reading the query
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.do_GET()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorder.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("url", "extra", "message"),
    [
        ("http://shop.example", [], "must start with https://"),
        ("http://shop.example", ["--allow-loopback-http"], "must start with https://"),
        ("https://ck_1:cs_2@shop.example", [], "must not hold a user name or password"),
        ("https://shop.example/?consumer_secret=cs_2", [], "must not have a query string"),
        ("http://127.0.0.1:9", [], "must start with https://"),
    ],
)
def test_channel_addresses_are_https_without_secrets(
    cli: Cli,
    db_url: str,
    url: str,
    extra: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOP_TOKEN", "x")
    run = cli(
        "channels",
        "add",
        "s",
        "--type",
        "shopify",
        "--url",
        url,
        *extra,
        "--token-env",
        "SHOP_TOKEN",
    )
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: ") and message in run.stderr
    assert "cs_2" not in run.stderr
    assert cli.ok("channels", "list", "-f", "json").stdout.count('"name": "s"') == 0


def _pull_from(cli: Cli, url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SHOP_TOKEN", "shpat_do_not_leak")
    monkeypatch.setenv("AVASAM_HTTP_BACKOFF", "0")
    cli.ok(
        "channels",
        "add",
        "shop",
        "--type",
        "shopify",
        "--url",
        url,
        "--allow-loopback-http",
        "--token-env",
        "SHOP_TOKEN",
    )
    return cli("channels", "pull", "shop")


def test_a_redirect_to_another_host_is_not_followed(
    cli: Cli, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (
        serving(Recorder(200, b'{"orders": []}')) as elsewhere,
        serving(Recorder(302, headers={"Location": "http://127.0.0.1:{port}/steal"})) as shop,
    ):
        shop.headers["Location"] = f"{elsewhere.url}/steal"
        run = _pull_from(cli, shop.url, monkeypatch)
    assert run.exit_code == 1
    assert "redirected to another host" in run.stderr
    assert elsewhere.seen == []  # the token never left for the other host
    assert "shpat_do_not_leak" not in run.stderr
