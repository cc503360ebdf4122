"""Registry of network adapters (webhook networks) and pull sources.

Adding a network is one module in this package that defines ``ADAPTER`` (webhooks) or ``SOURCE``
(pull-only), plus its sample events under ``events/<network>/``, plus one line below.
"""

from __future__ import annotations

from functions.ingest.networks import (
    bluesky,
    facebook,
    instagram,
    linkedin,
    mastodon,
    twitter,
    wikipedia,
    youtube,
)
from functions.ingest.networks.base import Adapter, Parsed, PullSource

ADAPTERS: dict[str, Adapter] = {
    adapter.network: adapter
    for adapter in (
        twitter.ADAPTER,
        facebook.ADAPTER,
        instagram.ADAPTER,
        linkedin.ADAPTER,
        youtube.ADAPTER,
        mastodon.ADAPTER,
    )
}
SOURCES: dict[str, PullSource] = {source.network: source for source in (wikipedia.SOURCE, bluesky.SOURCE)}
# networks that exist in the product but have no route, with the reason the receiver gives
NOT_WEBHOOKS: dict[str, str] = {
    "wikipedia": "pull-only source (Wikimedia EventStreams), read by the scheduled pull function",
    "bluesky": "pull-only source (Jetstream), read by the scheduled pull function",
    "pinterest": "the Pinterest API has no engagement webhooks (functions/ingest/networks/pinterest.py)",
}


def get_adapter(network: str) -> Adapter | None:
    """The webhook adapter of ``network``, or None.

    Examples
    --------
    >>> get_adapter("twitter").network, get_adapter("myspace")
    ('twitter', None)
    """
    return ADAPTERS.get(network)


def parse_body(network: str, body: str) -> Parsed:
    """Parse a queued body of ``network`` with its adapter or pull source (``KeyError`` if none).

    Examples
    --------
    >>> parse_body("twitter", '{"for_user_id": "1"}').activities
    []
    """
    if network in ADAPTERS:
        return ADAPTERS[network].parse(body.encode("utf-8"), {})
    return SOURCES[network].parse_line(body)
