"""Property tests: random bytes and mutated real payloads, correctly signed (so they reach the
parsers), through the receiver of every network: only 2xx/4xx answers, never a 5xx or an exception;
and whatever the receiver accepts, the processor processes without a failure."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.ingest import processor, receiver
from renown.demo_payloads import sign
from tests.conftest import LambdaContext
from tests.ingest.conftest import SECRETS, WEBHOOK_NETWORKS, Stack, rest_event, sqs_event

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def samples_of(network: str) -> list[bytes]:
    from tests.ingest.conftest import samples

    return [p.read_bytes() for p in samples(network)]


SAMPLES = {n: samples_of(n) for n in WEBHOOK_NETWORKS}
ACCEPTED: list[bool] = []


def mutate_json(value: Any, data: st.DataObject) -> Any:
    """Drop a key, change a value's type or recurse, at a random place of a JSON document."""
    if isinstance(value, dict) and value:
        key = data.draw(st.sampled_from(sorted(value)))
        action = data.draw(st.sampled_from(["drop", "retype", "recurse"]))
        copy = dict(value)
        if action == "drop":
            del copy[key]
        elif action == "retype":
            copy[key] = data.draw(
                st.one_of(
                    st.none(),
                    st.integers(),
                    st.text(max_size=5),
                    st.lists(st.integers(), max_size=2),
                    st.booleans(),
                    st.floats(allow_nan=False),
                )
            )
        else:
            copy[key] = mutate_json(value[key], data)
        return copy
    if isinstance(value, list) and value:
        index = data.draw(st.integers(0, len(value) - 1))
        copy_list = list(value)
        copy_list[index] = mutate_json(value[index], data)
        return copy_list
    return data.draw(st.one_of(st.none(), st.integers(), st.text(max_size=5), st.just({})))


def check(network: str, body: bytes, binary: bool = False) -> int:
    event = rest_event(network, body=body, headers=sign(network, body, SECRETS[network]), binary=binary)
    answer = receiver.handler(event, LambdaContext())
    status = int(answer["statusCode"])
    assert status < 500, answer["body"]
    if status >= 400:
        assert json.loads(answer["body"])["status"] == status
    return status


@PROPERTY
@given(network=st.sampled_from(WEBHOOK_NETWORKS), body=st.binary(max_size=2048))
def test_random_bytes_get_4xx(stack: Stack, network: str, body: bytes) -> None:
    status = check(network, body, binary=True)
    assert 400 <= status < 500


@PROPERTY
@given(network=st.sampled_from(WEBHOOK_NETWORKS), data=st.data())
def test_mutated_real_payloads_never_5xx_and_accepted_ones_process(
    stack: Stack, network: str, data: st.DataObject
) -> None:
    original = data.draw(st.sampled_from(SAMPLES[network]))
    if original.lstrip().startswith(b"<"):
        cut = data.draw(st.integers(0, len(original)))
        junk = data.draw(st.binary(max_size=8))
        body = original[:cut] + junk + original[cut + len(junk) :]
    else:
        body = json.dumps(mutate_json(json.loads(original), data)).encode()
    receiver._guard.cache_clear()  # a repeat is a duplicate (200, unparsed)
    status = check(network, body)
    messages = stack.receive_all()
    ACCEPTED.append(status == 200)
    if status == 200:
        assert processor.handler(sqs_event(messages), LambdaContext()) == {"batchItemFailures": []}
    else:
        assert messages == []


def test_some_mutations_were_accepted_and_processed() -> None:
    """Guard against a vacuous property: mutations of real payloads do reach the processor."""
    assert not ACCEPTED or any(ACCEPTED), ACCEPTED
