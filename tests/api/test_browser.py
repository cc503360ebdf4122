"""Widgets in a real headless Chromium: a third-party page (its own port) embeds the card through
widget.js and the badge as an image; the test reads the score the browser rendered and saves a
screenshot. The API runs in-process behind the Mangum handler and the local API Gateway stand-in
(werkzeug), over moto."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from functions.api.app import create_app
from functions.api.handler import TEXT_MIME_TYPES
from functions.api.security import publishable_key
from functions.api.store import DynamoApiTable
from functions.shared.settings import Settings
from tests.api.conftest import DEV_KEY, SIGNING
from tests.api.seed import NOW

CHROMIUM = os.environ.get("RENOWN_CHROMIUM", "/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not (os.path.exists(CHROMIUM) or shutil.which("chromium")),
        reason=f"headless chromium not found at {CHROMIUM} (apt-get install -y chromium)",
    ),
]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


class ServerThread:
    """A single-threaded werkzeug server on a free loopback port, in a daemon thread with its own
    asyncio loop (Mangum runs the ASGI app on the current thread's loop)."""

    def __init__(self, app: Any) -> None:
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=False)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        self.server.serve_forever()

    def __enter__(self) -> ServerThread:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


def api_gateway(ddb: Any) -> Any:
    from mangum import Mangum

    from renown.local.gateway import LocalGateway, Route

    settings = Settings(dev_api_key=DEV_KEY, widget_signing_key=SIGNING, table_name="renown")
    store = DynamoApiTable(client=ddb, table_name="renown")
    app = create_app(store=store, settings=settings, clock=lambda: NOW)  # the seeded history ends at NOW
    handler = Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)
    return LocalGateway([Route.of("/{proxy+}", "ANY", "api")], {"api": handler})


def third_party_site(api: str, key: str) -> Any:
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>A blog</title></head>
<body style="font-family:sans-serif;margin:24px">
<h1>Someone else's blog</h1>
<p>Badge: <img id="badge" alt="renown badge" src="{api}/v1/widgets/p1/badge.svg?key={key}"></p>
<div id="card" data-renown-profile="p1" data-renown-key="{key}"></div>
<script src="{api}/v1/widgets/widget.js" async></script>
</body></html>"""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path != "/":
            return Response("not found", 404)(environ, start_response)
        return Response(page, mimetype="text/html")(environ, start_response)

    return app


@pytest.fixture
def servers(ddb: Any) -> Iterator[tuple[str, str]]:
    with ServerThread(api_gateway(ddb)) as api:
        api_url = f"http://127.0.0.1:{api.port}"
        holder: dict[str, str] = {}

        def site(environ: dict[str, Any], start_response: Any) -> Any:
            return third_party_site(api_url, holder["key"])(environ, start_response)

        with ServerThread(site) as page:
            page_url = f"http://localhost:{page.port}"
            holder["key"] = publishable_key(SIGNING.encode(), [page_url])
            yield api_url, page_url


def test_card_and_badge_render_in_chromium(servers: tuple[str, str], tmp_path: Any) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    _api_url, page_url = servers
    executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 640, "height": 480})
            failures: list[str] = []
            page.on("requestfailed", lambda req: failures.append(req.url))
            page.goto(page_url + "/", wait_until="load")
            host = page.locator("#card")
            sync_api.expect(host).to_have_attribute("data-renown-state", "ready", timeout=10_000)
            rendered = page.locator("#card .renown-score").inner_text()  # pierces the open shadow root
            name = page.locator("#card h3").inner_text()
            trend = page.locator("#card .renown-change").inner_text()
            badge_ok = page.evaluate(
                "() => { const i = document.getElementById('badge');"
                " return i.complete && i.naturalWidth > 0; }"
            )
            shot = tmp_path / "renown-widgets.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert failures == []
    assert rendered == "63"  # p1's score 63.2, as the card shows it
    assert name == "Ada Lovelace"
    assert "in 30 days" in trend and not trend.startswith("+0.0")
    assert badge_ok is True
    assert shot.stat().st_size > 1000
    print(f"screenshot: {shot}")


def test_wrong_origin_is_refused_in_chromium(servers: tuple[str, str]) -> None:
    """The same publishable key used from another origin: the card is not rendered."""
    sync_api = pytest.importorskip("playwright.sync_api")
    _api_url, page_url = servers
    other = page_url.replace("localhost", "127.0.0.1")  # same server, different origin
    executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(other + "/", wait_until="load")
            sync_api.expect(page.locator("#card")).to_have_attribute(
                "data-renown-state", "error", timeout=10_000
            )
        finally:
            browser.close()
