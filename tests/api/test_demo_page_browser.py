"""The local demo page (``renown/local/demo_page.html``) in headless Chromium, over the seeded API behind
the local API Gateway stand-in: the leaderboard shows names and handles (no ids), a search by handle
finds the person, and the profile page shows score, history chart, explanation, topics, style, linked
accounts and influence, all read through the API and the widgets. Screenshots are kept under the
test's temporary folder (the path is printed)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from functions.api.app import create_app
from functions.api.handler import TEXT_MIME_TYPES
from functions.api.store import DynamoApiTable
from functions.shared.settings import Settings
from renown.local.demo_page import page_config, render
from tests.api.conftest import DEV_KEY, SIGNING
from tests.api.seed import NOW
from tests.api.test_browser import CHROMIUM, CHROMIUM_ARGS, ServerThread

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not (os.path.exists(CHROMIUM) or shutil.which("chromium")),
        reason=f"headless chromium not found at {CHROMIUM} (apt-get install -y chromium)",
    ),
]


def gateway(ddb: Any) -> Any:
    """The API and the demo page on one origin, as ``renown serve`` serves them."""
    from mangum import Mangum

    from renown.local.gateway import LocalGateway, Route

    settings = Settings(dev_api_key=DEV_KEY, widget_signing_key=SIGNING, table_name="renown")
    app = create_app(
        store=DynamoApiTable(client=ddb, table_name="renown"), settings=settings, clock=lambda: NOW
    )
    handler = Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)

    def page(request: Request) -> Response:
        origin = request.host_url.rstrip("/")
        return Response(render(page_config("", settings, [origin], ["p2", "p1", "p3"])), mimetype="text/html")

    return LocalGateway([Route.of("/{proxy+}", "ANY", "api")], {"api": handler}, extra={"/": page})


@pytest.fixture
def site(ddb: Any) -> Iterator[str]:
    with ServerThread(gateway(ddb)) as server:
        yield f"http://127.0.0.1:{server.port}"


def test_leaderboard_search_and_profile_in_chromium(site: str, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    expect = sync_api.expect
    executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    shots = tmp_path / "demo-page"
    shots.mkdir()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("requestfailed", lambda req: errors.append(req.url))
            page.goto(site + "/", wait_until="load")

            # the leaderboard: names and handles, strongest first, no profile ids on screen
            rows = page.locator("#leaders tbody tr")
            expect(rows).to_have_count(3, timeout=15_000)
            names = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(3)]
            assert names == ["Grace Hopper", "Ada Lovelace", "Alan Turing"]
            assert "X @grace" in rows.nth(0).inner_text()
            visible = page.locator("main").inner_text()
            assert "p1" not in visible.split() and "{" not in visible
            page.screenshot(path=str(shots / "1-leaderboard.png"), full_page=True)

            # search by handle: the person, named by their profile
            page.fill("#q", "@ada")
            hit = page.locator("#hits li[data-id]").first
            expect(hit).to_contain_text("Ada Lovelace", timeout=10_000)
            assert "X @ada" in hit.inner_text() and "63.2" in hit.inner_text()
            page.screenshot(path=str(shots / "2-search.png"))
            hit.click()

            # the profile page
            expect(page.locator("#profile-name")).to_have_text("Ada Lovelace", timeout=10_000)
            assert page.locator("#profile-score").inner_text() == "63.2"
            accounts = page.locator("#profile-accounts").inner_text()
            assert "X @ada" in accounts and "Mastodon @ada@hachyderm.io" in accounts
            expect(page.locator("#history-chart circle")).not_to_have_count(0)
            body = page.locator("main").inner_text()
            for text in ("Why: by network", "Mastodon", "amplification", "Top engagers", "Influenced by"):
                assert text in body, text
            engagers = page.locator("#engagers tr")
            expect(engagers).to_have_count(2)
            assert "Grace Hopper" in engagers.nth(0).inner_text()  # resolved through the identity lookup
            assert "Grace Hopper" in body.split("Influenced by", 1)[1]
            assert "Alan Turing" in body.split("Influences\n", 1)[1]
            card = page.locator("[data-renown-profile='p1']")
            expect(card).to_have_attribute("data-renown-state", "ready", timeout=10_000)
            assert card.get_attribute("data-renown-score") == "63"
            badge_ok = page.evaluate(
                "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"
            )
            page.screenshot(path=str(shots / "3-profile.png"), full_page=True)
        finally:
            browser.close()
    assert badge_ok is True
    assert errors == []
    print(f"screenshots: {shots}")
