"""``renown serve``: the whole service locally, on moto, with demo data loaded through webhooks."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

ROOT = Path(__file__).resolve().parents[2]


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "serve",
        help="run the whole service locally (moto stand-ins for AWS, demo data through webhooks)",
        description="Start moto (DynamoDB, SQS, S3, Step Functions) and every Lambda handler in-process "
        "behind a local API Gateway, then load demo data through the real ingest path and score it.",
    )
    parser.add_argument(
        "--host", default=None, help="address to listen on (default RENOWN_HOST or 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=None, help="port (default $PORT or 8000)")
    parser.add_argument("--no-demo", action="store_true", help="start empty: no demo data, no scoring pass")
    parser.add_argument(
        "--demo-limit",
        type=int,
        default=None,
        help="replay at most this many Higgs engagements (default RENOWN_DEMO_LIMIT; 0 = all)",
    )
    parser.add_argument("--datasets", type=Path, default=None, help="folder holding higgs-twitter/")
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="stream the functions' JSON logs and metrics to the terminal (they always go to the log file)",
    )
    parser.add_argument("--log-file", type=Path, default=None, help=f"where the logs go (default {LOG_FILE})")


STATE_FILE = Path(".renown") / "local.json"
LOG_FILE = Path(".renown") / "serve.log"


def write_state(stack: Any) -> None:
    """Where other commands (``renown release``) find the running stack."""
    tpl = stack.template
    state = {
        "url": stack.url,
        "moto_endpoint": stack.moto.endpoint,
        "state_machine_arn": tpl.ref("RescoreStateMachine"),
        "bucket": tpl.physical["ArtifactsBucket"],
        "table": tpl.physical["RenownTable"],
    }
    STATE_FILE.parent.mkdir(exist_ok=True)
    STATE_FILE.write_text(json.dumps(state, indent=2))


def print_settings(settings: Any, out: Any) -> None:
    print("Settings (environment variables RENOWN_*; development defaults shown):", file=out)
    for name, value in settings.model_dump().items():
        shown = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        print(f"  RENOWN_{name.upper():<28} {shown}", file=out)


class Tee:
    """A text stream writing to several (the log file and, with ``--verbose``, the terminal)."""

    def __init__(self, *streams: Any) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()

    def isatty(self) -> bool:
        return False


def route_logs(log_file: Path, verbose: bool) -> tuple[Any, Any]:
    """Send what the functions print (powertools JSON logs and metrics) and the Python logs to
    ``log_file`` (and to the terminal with ``verbose``); returns ``(terminal, log stream)``.

    Called before the functions are imported: powertools' logger keeps the stream it found."""
    terminal = sys.stdout
    log_file.parent.mkdir(parents=True, exist_ok=True)
    stream = log_file.open("a", buffering=1, encoding="utf-8")
    sink = Tee(stream, terminal) if verbose else stream
    sys.stdout = sink
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sink, force=True
    )
    for noisy in ("werkzeug", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return terminal, sink


def run(args: argparse.Namespace) -> int:
    log_file = args.log_file or LOG_FILE
    terminal, sink = route_logs(log_file, args.verbose)

    # the demo serves the current model (score integrity, v3) unless the environment names another
    os.environ.setdefault("RENOWN_ALGORITHM_VERSION", "v3")
    from functions.shared.settings import get_settings
    from renown.local.demo_page import demo_page
    from renown.local.demo_runner import DemoRunner
    from renown.local.display import Display
    from renown.local.stack import LocalStack

    settings = get_settings()
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    datasets = args.datasets or Path(settings.datasets_dir or ROOT.parent / "shared" / "datasets")
    limit = settings.demo_limit if args.demo_limit is None else args.demo_limit
    print_settings(settings, sink)

    state: dict[str, Any] = {"runner": None}

    def health(request: Request) -> Response | None:
        runner = state["runner"]
        if runner is None or runner.progress.ready:
            return None  # ready: the API function answers /health itself
        body = json.dumps({"status": "loading", **runner.progress.as_dict()})
        return Response(body, 503, mimetype="application/json", headers={"Retry-After": "5"})

    def page(request: Request) -> Response:
        runner = state["runner"]
        progress = runner.progress.as_dict() if runner else {"ready": True}
        leaders = list(runner.last_pass.get("top", [])) if runner else []
        return Response(demo_page(stack.url, settings, progress, leaders), mimetype="text/html")

    stack = LocalStack(host=host, port=port, extra_pages={"/health": health, "/": page, "/demo": page})
    display = Display(terminal, log_file=log_file, verbose=args.verbose)
    display.start()
    try:
        stack.start()
    except BaseException:
        display.stop()
        raise
    write_state(stack)
    display.addresses(stack.url, stack.moto.endpoint, settings.dev_api_key.get_secret_value())

    if not args.no_demo:
        runner = DemoRunner(stack, settings, datasets, limit=limit)
        state["runner"] = runner
        display.runner = runner
        threading.Thread(target=runner.run, name="demo", daemon=True).start()

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.wait(1.0):
        display.refresh()
    # a second Ctrl-C (or the group's signal reaching us twice) must not cut the clean-up short
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    display.stop()
    print("\nStopping: gateway, pollers, moto server ...", file=terminal, flush=True)
    if state["runner"] is not None:
        state["runner"].stopping.set()
    stack.stop()
    STATE_FILE.unlink(missing_ok=True)
    print("Stopped; nothing left running.", file=terminal)
    return 0
