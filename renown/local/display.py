"""The terminal of ``renown serve``: a concise live view (phases, counts, the backfill's progress
bar, the addresses and the dev key) while the logs go to a file.

On a terminal the view is redrawn in place (``rich.live``); elsewhere (a pipe, ``--verbose`` where the
logs stream to the terminal) a line is printed whenever the phase changes.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

log = logging.getLogger("renown.serve")


def _duration(seconds: float) -> str:
    """``1 min 05 s`` style.

    Examples
    --------
    >>> _duration(65.2), _duration(7)
    ('1 min 05 s', '7 s')
    """
    whole = int(seconds)
    return f"{whole // 60} min {whole % 60:02d} s" if whole >= 60 else f"{whole} s"


class Display:
    def __init__(self, terminal: Any, log_file: Path, verbose: bool = False) -> None:
        self.console = Console(file=terminal, highlight=False)
        self.log_file = log_file
        self.live_view = self.console.is_terminal and not verbose
        self.started = time.monotonic()
        self.runner: Any = None
        self.links: list[tuple[str, str]] = []
        self.milestones: dict[str, float] = {}
        self._last_line = ""
        self._live: Live | None = None

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        if self.live_view:
            self._live = Live(self.render(), console=self.console, refresh_per_second=2, transient=False)
            self._live.start()
        else:
            self.console.print(f"Renown is starting; logs: {self.log_file}")

    def stop(self) -> None:
        if self._live is not None:
            self._live.update(self.render())
            self._live.stop()
            self._live = None

    def addresses(self, url: str, moto: str, dev_key: str) -> None:
        self.links = [
            ("Demo page", f"{url}/"),
            ("API docs", f"{url}/docs"),
            ("Health", f"{url}/health  (503 while loading, 200 when ready)"),
            ("Webhooks", f"{url}/webhooks/{{network}}"),
            ("Dev API key", f"{dev_key}  (header x-api-key)"),
            ("AWS (moto)", moto),
        ]
        if not self.live_view:
            for name, value in self.links:
                self.console.print(f"  {name:<12} {value}")

    # --- state -----------------------------------------------------------------------------------
    def _milestone(self, name: str) -> None:
        if name not in self.milestones:
            self.milestones[name] = time.monotonic() - self.started
            log.info("%s after %.1f s", name, self.milestones[name])
            if not self.live_view:
                self.console.print(f"{name} after {_duration(self.milestones[name])}")

    def refresh(self) -> None:
        runner = self.runner
        if runner is not None:
            if runner.progress.ready:
                self._milestone("ready (/health 200)")
            if runner.progress.phase == "done":
                self._milestone("every account scored")
        if self._live is not None:
            self._live.update(self.render())
        elif runner is not None:
            line = self.status_line()
            if line != self._last_line:
                self._last_line = line
                self.console.print(f"[{_duration(time.monotonic() - self.started)}] {line}")

    def status_line(self) -> str:
        """The phase (and the backfill's), without counts: printed when it changes."""
        runner = self.runner
        phase = runner.progress.phase if runner else "starting"
        backfill = runner.backfill_status() if runner and runner.higgs else {}
        return f"{phase} ({backfill['phase']})" if backfill.get("phase") else phase

    # --- view ------------------------------------------------------------------------------------
    def render(self) -> Group:
        elapsed = time.monotonic() - self.started
        runner = self.runner
        header = Text.assemble(("Renown", "bold"), f" on this machine  ·  {_duration(elapsed)}")
        links = Table.grid(padding=(0, 2))
        for name, value in self.links or [("", "starting the stack ...")]:
            links.add_row(Text(name, style="dim"), value)
        rows = Table.grid(padding=(0, 2))
        if runner is not None:
            progress = runner.progress
            ready = self.milestones.get("ready (/health 200)")
            status = f"ready after {_duration(ready)}" if ready is not None else "loading (/health 503)"
            rows.add_row(Text("Status", style="dim"), status)
            rows.add_row(Text("Phase", style="dim"), progress.phase)
            rows.add_row(
                Text("Webhooks", style="dim"),
                f"{progress.sent:,} signed deliveries sent, {progress.rejected} rejected",
            )
            if runner.higgs:
                rows.add_row(
                    Text("Higgs", style="dim"),
                    f"{runner.higgs['engagements']:,} engagements of {runner.higgs['accounts']:,} accounts",
                )
            if runner.last_pass:
                rows.add_row(
                    Text("Last pass", style="dim"),
                    f"{runner.last_pass.get('profiles', 0):,} profiles scored",
                )
            scored = self.milestones.get("every account scored")
            if scored is not None:
                rows.add_row(Text("Done", style="dim"), f"every account scored after {_duration(scored)}")
        parts: list[Any] = [header, links, rows]
        backfill = runner.backfill_status() if runner is not None and runner.higgs else {}
        if backfill:
            done, total = int(backfill.get("done", 0)), int(backfill.get("total", 0))
            label = f"Backfill  {backfill.get('phase', '')}  {done:,}/{total:,}"
            if backfill.get("status") == "succeeded":
                label = (
                    f"Backfill  done: {runner.backfill_result.get('items_written', total):,} items written"
                )
                done = total = max(total, 1)
            parts += [
                Text(label),
                ProgressBar(total=max(total, 1), completed=min(done, max(total, 1)), width=60),
            ]
        parts.append(
            Text(f"Logs: {self.log_file}  (renown serve --verbose streams them)  ·  Ctrl-C stops", "dim")
        )
        return Group(*parts)
