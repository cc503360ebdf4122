"""The demo page of the local stack (``/``): search, leaderboard and profile pages, all read in the
browser through the public API (development key) and the widgets (a publishable key for the page's
origin). The page is plain HTML and JavaScript (``demo_page.html``); the server only fills in its
configuration: where the API is, the keys, and whom the last scoring pass ranked first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from functions.api.security import publishable_key

PAGE = Path(__file__).with_name("demo_page.html")


def page_config(
    api_base: str, settings: Any, page_origins: list[str], leader_ids: list[str]
) -> dict[str, Any]:
    """What the page's script reads: the API base (empty: the page's own origin), the development API
    key, a publishable widget key restricted to ``page_origins``, and the leaders' profile ids.

    Examples
    --------
    >>> from functions.shared.settings import Settings
    >>> sorted(page_config("", Settings(), ["http://127.0.0.1:8000"], ["p1"]))
    ['api', 'key', 'leaders', 'widgetKey']
    """
    secret = settings.widget_signing_key.get_secret_value().encode()
    return {
        "api": api_base.rstrip("/"),
        "key": settings.dev_api_key.get_secret_value(),
        "widgetKey": publishable_key(secret, page_origins),
        "leaders": [str(i) for i in leader_ids],
    }


def render(config: dict[str, Any]) -> str:
    """The page with ``config`` embedded as JSON (``<`` escaped: it sits inside a script element).

    Examples
    --------
    >>> "</script><b>" in render({"leaders": ["</script><b>"]})
    False
    """
    data = json.dumps(config).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return PAGE.read_text(encoding="utf-8").replace("__CONFIG__", data)


def demo_page(base_url: str, settings: Any, progress: dict[str, Any], leader_ids: list[str]) -> str:
    """The page as ``renown serve`` answers it on ``base_url`` (the API on the same origin).

    ``progress`` is not printed: the page reads the loading progress from ``/health`` itself."""
    del progress
    origins = [base_url, base_url.replace("//127.0.0.1:", "//localhost:")]
    return render(page_config("", settings, origins, leader_ids))
