"""The local stack's moto server runs DynamoDB requests one at a time and everything else concurrently."""

from __future__ import annotations

import threading
import time
from typing import Any

from renown.local.moto_process import TurnLock, serialised_tables


class Recorder:
    """A WSGI app that records how many requests it serves at once; ``meet`` makes two requests wait
    for each other (they deadlock, and time out, if they are serialised)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.inside = 0
        self.most = 0
        self.meet = threading.Barrier(2, timeout=5)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        try:
            if environ.get("meet"):
                self.meet.wait()
            else:
                time.sleep(0.02)
            yield b"ok"
        finally:
            with self.lock:
                self.inside -= 1


def _call_together(app: Any, environs: list[dict[str, Any]]) -> list[Any]:
    out: list[Any] = [None] * len(environs)
    start = threading.Barrier(len(environs))

    def call(i: int) -> None:
        start.wait()
        try:
            out[i] = app(environs[i], None)
        except threading.BrokenBarrierError as exc:
            out[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(environs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return out


def test_table_requests_never_overlap_and_return_their_body() -> None:
    recorder = Recorder()
    app = serialised_tables(recorder)
    targets = ["DynamoDB_20120810.Scan", "DynamoDB_20120810.PutItem", "DynamoDBStreams_20120810.GetRecords"]
    out = _call_together(app, [{"HTTP_X_AMZ_TARGET": targets[i % 3]} for i in range(8)])
    assert out == [[b"ok"]] * 8
    assert recorder.most == 1


def test_without_the_wrapper_the_same_requests_overlap() -> None:
    recorder = Recorder()
    out = _call_together(lambda e, s: list(recorder(e, s)), [{"HTTP_X_AMZ_TARGET": "DynamoDB_x"}] * 8)
    assert out == [[b"ok"]] * 8
    assert recorder.most > 1  # what the first test would see without serialisation


def test_other_services_stay_concurrent() -> None:
    # a Step Functions task waits on Lambda while the Lambda handler calls moto: must not block
    recorder = Recorder()
    app = serialised_tables(lambda e, s: list(recorder(e, s)))
    sqs = {"HTTP_X_AMZ_TARGET": "AmazonSQS.ReceiveMessage", "meet": True}
    lambda_invoke = {"PATH_INFO": "/2015-03-31/functions/f/invocations", "meet": True}
    assert _call_together(app, [sqs, lambda_invoke]) == [[b"ok"], [b"ok"]]


def test_turns_are_taken_in_the_order_they_were_asked_for() -> None:
    """The holder that gives the lock back and asks again at once waits for the thread already waiting
    (with ``threading.Lock`` it takes the lock straight back)."""
    lock = TurnLock()
    order: list[str] = []

    def waiter() -> None:
        with lock.turn():
            order.append("waiter")

    lock.acquire()
    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.2)  # the waiter is queued
    lock.release()
    with lock.turn():
        order.append("holder again")
    thread.join(timeout=10)
    assert order == ["waiter", "holder again"]
    assert not lock.held


def test_a_short_request_goes_before_the_scan_pages_queued_ahead_of_it() -> None:
    lock = TurnLock()
    order: list[str] = []

    def take(name: str, bulk: bool) -> None:
        with lock.turn(bulk=bulk):
            order.append(name)

    lock.acquire()
    threads = []
    for name, bulk in (("scan 1", True), ("scan 2", True), ("get", False)):
        threads.append(threading.Thread(target=take, args=(name, bulk)))
        threads[-1].start()
        time.sleep(0.1)  # queued in this order
    lock.release()
    for thread in threads:
        thread.join(timeout=10)
    assert order == ["get", "scan 1", "scan 2"]
    assert not lock.held
