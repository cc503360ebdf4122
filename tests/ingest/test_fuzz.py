"""Seeded fuzzing of every adapter and pull source with random and mutated payloads from ``events/``.

Each case is a sample delivery (or pull line) mutated by a seeded random mutator: structural JSON
mutations (a value replaced by a hostile one: malformed URLs, huge or negative numbers, far dates,
wrong types; keys deleted; lists duplicated), raw byte mutations, and, for YouTube's Atom XML, text,
tag and encoding-declaration mutations. Every case goes through ``parse`` / ``parse_line`` and, when
it parses, through the per-event time check and the aggregation ingest writes with: the only
exception allowed is the adapters' own validation error (``PayloadError``). A share of the cases also
goes through the receiver (signed, no AWS: an in-memory queue): never a 5xx.

``RENOWN_FUZZ_CASES`` scales the run (default 30,000 cases in total, about 10 s);
``RENOWN_FUZZ_SEED`` picks the seed.
"""

from __future__ import annotations

import copy
import json
import os
import random
import time
from collections import Counter
from typing import Any

import pytest
from pydantic import SecretStr

from functions.ingest.aggregate import additive, decay_weight, plan
from functions.ingest.delivery import QueuedDelivery
from functions.ingest.http import WebhookRequest
from functions.ingest.intake import receive
from functions.ingest.networks import ADAPTERS, SOURCES
from functions.ingest.networks.base import PayloadError
from functions.ingest.replay import MemoryReplayGuard
from functions.ingest.timecheck import admit
from functions.shared.settings import Settings
from renown.demo_payloads import sign
from tests.ingest.conftest import EVENTS, SAMPLE_TIME, SECRETS, samples

SEED = int(os.environ.get("RENOWN_FUZZ_SEED", "20261129"))
CASES = int(os.environ.get("RENOWN_FUZZ_CASES", "30000"))
RECEIVER_SHARE = 0.1  # of the cases also sent, signed, through the receiver

HOSTILE_STRINGS = [
    "",
    " ",
    "http://[::1",
    "http://[abc]/",
    "http://xn--/",
    "http://\u2100.com/",
    "http://a..b/",
    "https://" + "a" * 300 + ".com",
    "http://[::1]:99999/",
    "ftp://x",
    "\x00",
    "\ud800",
    "é" * 40,
    "#" * 60,
    "@@@",
    "9" * 5000,
    "1e999",
    "-1",
    "NaN",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59.999999999Z",
    "2063-01-01T00:00:00Z",
    "1970-01-01T00:00:00+00:00",
    "Sat Jan 01 00:00:00 +0000 0001",
    "Fri Dec 31 23:59:59 +0000 9999",
    "Mon Feb 30 00:00:00 +0000 2024",
    "at://",
    "at:///app.bsky.feed.post/1",
    "did:plc:" + "x" * 100,
    "<b>x</b>",
    "urn:li:organization:",
]
HOSTILE_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    1,
    2**31,
    2**63,
    10**30,
    -(10**30),
    1.5,
    1e308,
    -1e308,
    2_935_000_000,
    2_935_000_000_000,
    2_935_000_000_000_000,
    [],
    {},
    [None],
    [{}],
    {"a": {"b": {"c": []}}},
    *HOSTILE_STRINGS,
]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.extend(_paths(value, (*prefix, i)))
    return out


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


def mutate_json(doc: Any, rng: random.Random) -> Any:
    """One to four structural mutations of a JSON document."""
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 4)):
        paths = _paths(doc)
        path = rng.choice(paths)
        if not path:
            if rng.random() < 0.1:
                return rng.choice(HOSTILE_VALUES)
            continue
        parent, last = _get(doc, path[:-1]), path[-1]
        action = rng.random()
        if action < 0.55:
            parent[last] = copy.deepcopy(rng.choice(HOSTILE_VALUES))
        elif action < 0.7 and isinstance(parent, dict):
            del parent[last]
        elif action < 0.8 and isinstance(parent, list):
            parent.insert(rng.randint(0, len(parent)), copy.deepcopy(parent[last]))
        elif action < 0.9:
            value = parent[last]
            if isinstance(value, str) and value:
                cut = rng.randint(0, len(value))
                parent[last] = value[:cut] + rng.choice(HOSTILE_STRINGS) + value[cut:]
            elif isinstance(value, int) and not isinstance(value, bool):
                parent[last] = value * rng.choice([-1, 0, 1000, 10**9, 10**20])
            else:
                parent[last] = copy.deepcopy(rng.choice(HOSTILE_VALUES))
        else:
            parent[last] = [copy.deepcopy(parent[last])] * rng.randint(0, 3)
    return doc


def mutate_bytes(raw: bytes, rng: random.Random) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 8)):
        action = rng.random()
        pos = rng.randint(0, max(len(data) - 1, 0))
        if action < 0.4 and data:
            data[pos] = rng.randint(0, 255)
        elif action < 0.7:
            data[pos:pos] = bytes(rng.randint(0, 255) for _ in range(rng.randint(1, 4)))
        elif action < 0.9 and data:
            del data[pos : pos + rng.randint(1, 16)]
        else:
            data = data[: rng.randint(0, len(data))]
    return bytes(data)


XML_SWAPS = [
    ('encoding="UTF-8"', 'encoding="x-unknown"'),
    ('encoding="UTF-8"', 'encoding="utf-16"'),
    ('encoding="UTF-8"', 'encoding="latin-1"'),
    ('encoding="UTF-8"', 'encoding=""'),
    ("<?xml version='1.0' encoding='UTF-8'?>", '<?xml version="1.0" encoding="bogus-9"?>'),
    ("<feed", '<!DOCTYPE feed [<!ENTITY a "b">]><feed'),
    ("</entry>", "</entry><entry></entry>"),
    ("</entry>", "</entry><entry><yt:videoId>v</yt:videoId><yt:channelId>c</yt:channelId></entry>"),
]


def mutate_xml(raw: bytes, rng: random.Random) -> bytes:
    text = raw.decode("utf-8")
    for _ in range(rng.randint(1, 3)):
        action = rng.random()
        if action < 0.35:
            old, new = rng.choice(XML_SWAPS)
            text = text.replace(old, new) if old in text else new + text
        elif action < 0.8:  # replace the text of one element
            starts = [i for i, c in enumerate(text) if c == ">" and i + 1 < len(text) and text[i + 1] != "<"]
            if starts:
                start = rng.choice(starts) + 1
                end = text.find("<", start)
                end = end if end != -1 else len(text)
                text = text[:start] + rng.choice(HOSTILE_STRINGS).replace("<", "&lt;") + text[end:]
        else:
            return mutate_bytes(text.encode("utf-8", "surrogatepass"), rng)
    if rng.random() < 0.3:
        text = text if "encoding=" in text else '<?xml version="1.0" encoding="x-unknown"?>' + text
    return text.encode("utf-8", "surrogatepass")


def corpus() -> dict[str, list[bytes]]:
    """Sample bodies per webhook network and sample lines per pull source."""
    out: dict[str, list[bytes]] = {}
    for network in ADAPTERS:
        out[network] = [p.read_bytes() for p in samples(network)]
    for source in SOURCES:
        path = next((EVENTS / source).glob("*.jsonl"))
        out[source] = [line.encode() for line in path.read_text().splitlines() if line.strip()]
    return out


def mutated(name: str, raw: bytes, rng: random.Random) -> bytes:
    roll = rng.random()
    if name == "youtube":
        return mutate_xml(raw, rng) if roll < 0.85 else mutate_bytes(raw, rng)
    if roll < 0.8:
        try:
            doc = json.loads(raw)
        except ValueError:
            return mutate_bytes(raw, rng)
        return json.dumps(mutate_json(doc, rng), ensure_ascii=rng.random() < 0.5).encode(
            "utf-8", "surrogatepass"
        )
    if roll < 0.95:
        return mutate_bytes(raw, rng)
    return bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 64)))  # random bytes


def run_case(name: str, body: bytes) -> str:
    """Parse and aggregate one case; the outcome (``ok`` or ``refused``) or raise for a crash."""
    try:
        if name in ADAPTERS:
            parsed = ADAPTERS[name].parse(body, {})
        else:
            parsed = SOURCES[name].parse_line(body.decode("utf-8", "replace"))
    except PayloadError:
        return "refused"
    kept = admit(parsed.activities, SAMPLE_TIME).kept
    work = plan(additive(kept))
    for edge in work.edges.values():
        for value in edge.decayed.values():
            assert value == value and value < 1e30  # finite, storable
    for act in kept:
        decay_weight(act.timestamp)
    return "ok"


class ListQueue:
    def __init__(self) -> None:
        self.sent: list[QueuedDelivery] = []

    def send(self, delivery: QueuedDelivery) -> None:
        self.sent.append(delivery)


def test_fuzz_every_adapter_and_pull_source() -> None:
    rng = random.Random(SEED)
    bodies = corpus()
    names = sorted(bodies)
    outcomes: Counter[tuple[str, str]] = Counter()
    crashes: list[tuple[str, bytes, str]] = []
    settings = Settings()
    queue, guard = ListQueue(), MemoryReplayGuard(1e9)
    statuses: Counter[int] = Counter()
    started = time.monotonic()
    for case in range(CASES):
        name = names[case % len(names)]
        body = mutated(name, rng.choice(bodies[name]), rng)
        try:
            outcomes[(name, run_case(name, body))] += 1
        except Exception as exc:  # a crash: anything but the adapters' validation error
            crashes.append((name, body[:300], f"{type(exc).__name__}: {exc}"[:300]))
        if name in ADAPTERS and rng.random() < RECEIVER_SHARE:
            headers = sign(name, body, SECRETS[name])
            request = WebhookRequest("POST", name, headers, {}, body)
            try:
                outcome = receive(
                    request, settings_for(settings), queue, guard, lambda: float(SAMPLE_TIME + 5)
                )
                statuses[outcome.response["statusCode"]] += 1
                if outcome.response["statusCode"] >= 500:
                    crashes.append((name, body[:300], f"receiver {outcome.response['statusCode']}"))
            except Exception as exc:
                crashes.append((name, body[:300], f"receiver {type(exc).__name__}: {exc}"[:300]))
    elapsed = time.monotonic() - started
    by_name = {n: {k: v for (m, k), v in outcomes.items() if m == n} for n in names}
    print(
        f"\nfuzz: {CASES} cases (seed {SEED}) in {elapsed:.1f} s, {len(crashes)} crashes;"
        f" per source {by_name}; receiver answers {dict(statuses)}"
    )
    assert not crashes, crashes[:5]
    assert CASES < 10_000 or sum(outcomes.values()) + len(crashes) >= 10_000


def settings_for(settings: Settings) -> Settings:
    """The test secrets (the receiver verifies signatures before parsing)."""
    return settings.model_copy(update={f"secret_{n}": SecretStr(SECRETS[n].decode()) for n in SECRETS})


@pytest.mark.parametrize(
    "url", ["http://[::1", "http://[abc]/", "http://xn--/", "http://\u2100.com/", "http://[::1]:99999/"]
)
def test_malformed_urls_do_not_crash_an_adapter(url: str) -> None:
    doc = json.loads((EVENTS / "twitter/tweet_create_events.json").read_bytes())
    doc["tweet_create_events"][0]["entities"]["urls"] = [{"expanded_url": url, "url": url}]
    parsed = ADAPTERS["twitter"].parse(json.dumps(doc).encode(), {})
    assert parsed.activities  # the tweet is kept, without a domain term


def test_unknown_xml_encoding_is_a_validation_error() -> None:
    body = (EVENTS / "youtube/upload.xml").read_bytes()
    body = b'<?xml version="1.0" encoding="x-unknown"?>' + body.split(b"?>", 1)[-1]
    with pytest.raises(PayloadError):
        ADAPTERS["youtube"].parse(body, {})
