"""What a run shows while it runs: a live display on a terminal, a few plain lines in a CI log.

Both show cells done / total, counts per status, an ETA and every problem cell the moment it
finishes; every cell's line only with -v. Records are the full story; this is only the view.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as Bar
from rich.text import Text

from harness.infra import escape
from harness.model import Status
from harness.run.records import Record

# Plain mode: a count line every 10 s, or every tenth of the run (at least 50 cells), whichever comes first.
PLAIN_INTERVAL_S = 10.0
PLAIN_SHARE = 10
PLAIN_MIN_CELLS = 50
_STYLES = {
    Status.PASS: "green",
    Status.XFAIL: "cyan",
    Status.SKIP: "dim",
    Status.FAIL: "bold red",
    Status.XPASS: "bold magenta",
    Status.CRASH: "bold red",
    Status.TIMEOUT: "bold yellow",
    Status.ERROR: "bold red",
}


def cell_line(record: Record) -> str:
    """A finished cell's line; its values came from a tool or a resumed record: no control sequences."""
    return escape.text(f"{record.status:<7} {record.cell}  {record.reason[:110]}")


class Progress:
    """note(text) for a build, cell(record) for each finished cell, close() once at the end."""

    def __init__(
        self,
        total: int,
        stream: TextIO = sys.stderr,
        *,
        verbose: bool = False,
        live: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.done = 0
        self.counts: Counter[Status] = Counter()
        self.stream = stream
        self.verbose = verbose
        self.clock = clock
        self.start = self.last_line_at = clock()
        self.last_line_done = 0
        self.every = max(PLAIN_MIN_CELLS, total // PLAIN_SHARE)
        self.live = stream.isatty() if live is None else live
        self._bar: Bar | None = None
        if self.live:
            self._console = Console(file=stream)
            self._bar = Bar(
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TextColumn("{task.fields[counts]}"),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                TextColumn("[dim]{task.description}"),
                console=self._console,
                transient=True,
            )
            self._task = self._bar.add_task("", total=total, counts="")
            self._bar.start()

    def summary(self) -> str:
        """'pass 120, xfail 3, fail 1': the statuses seen so far, in the taxonomy's order."""
        return ", ".join(f"{s.value} {self.counts[s]}" for s in Status if self.counts[s])

    def eta_s(self) -> float:
        elapsed = self.clock() - self.start
        return elapsed / self.done * (self.total - self.done) if self.done else 0.0

    def count_line(self) -> str:
        width = len(str(self.total))
        share = 100 * self.done // self.total if self.total else 100
        return f"[{self.done:>{width}}/{self.total} {share:3d}% eta {self.eta_s():4.0f}s] {self.summary()}"

    def note(self, text: str) -> None:
        text = escape.text(text)  # a build's note names cases and tools' output
        if self._bar is not None:
            self._bar.update(self._task, description=text[:48])
            if self.verbose:
                self._console.print(Text(f"    {text}", style="dim"))
        elif self.verbose:
            self._print(f"    {text}")

    def cell(self, record: Record) -> None:
        self.done += 1
        status = Status(record.status)
        self.counts[status] += 1
        if self._bar is not None:
            self._bar.update(self._task, advance=1, counts=self.summary())
            if self.verbose or status.is_problem:
                self._console.print(Text(cell_line(record), style=_STYLES[status]), soft_wrap=True)
            return
        now = self.clock()
        if self.verbose:
            width = len(str(self.total))
            self._print(f"[{self.done:>{width}}/{self.total} eta {self.eta_s():4.0f}s] {cell_line(record)}")
            return
        if status.is_problem:
            self._print(cell_line(record))
        if self.done - self.last_line_done >= self.every or now - self.last_line_at >= PLAIN_INTERVAL_S:
            self._count_line(now)

    def close(self) -> None:
        """Stop the live display; in plain mode the last count line (unless it was just printed)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        elif not self.verbose and self.last_line_done != self.done:
            self._count_line(self.clock())

    def _count_line(self, now: float) -> None:
        self._print(self.count_line())
        self.last_line_at, self.last_line_done = now, self.done

    def _print(self, line: str) -> None:
        print(line, file=self.stream, flush=True)
