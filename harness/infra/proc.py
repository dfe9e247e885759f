"""The one place that runs subprocesses: never raises on failure, always records."""

from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    cmd: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    @property
    def signal_name(self) -> str | None:
        """SIGSEGV and friends when the process died from a signal."""
        if self.returncode >= 0 or self.timed_out:
            return None
        try:
            return signal.Signals(-self.returncode).name
        except ValueError:
            return f"signal {-self.returncode}"

    def transcript(self) -> str:
        """The command and everything it printed, for logs."""
        status = "timeout" if self.timed_out else f"exit {self.returncode}"
        if self.signal_name:
            status = self.signal_name
        parts = [f"+ {shlex.join(self.cmd)}  [{status}, {self.duration_s:.2f}s]"]
        if self.stdout.strip():
            parts.append(self.stdout.rstrip())
        if self.stderr.strip():
            parts.append(self.stderr.rstrip())
        return "\n".join(parts) + "\n"


def run(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    stdin: str | None = None,
) -> Outcome:
    """Run *cmd*; a missing executable becomes exit 127, a timeout kills the whole group."""
    argv = tuple(os.fspath(c) for c in cmd)
    log.debug("+ %s", shlex.join(argv))
    full_env = None if env is None else {**os.environ, **env}
    start = time.monotonic()
    try:
        # A new session, so a timeout can kill grandchildren (a hung import spawns none,
        # but a build backend's compiler does).
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=full_env,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
    except OSError as exc:
        return Outcome(argv, 127, "", f"cannot run {argv[0]}: {exc}", time.monotonic() - start)
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        timed_out = True
    return Outcome(argv, proc.returncode, out, err, time.monotonic() - start, timed_out)


def last_line(text: str, *, prefer_errors: bool = False, default: str = "no output") -> str:
    """The last non-empty line of a command's output (the last one mentioning an error, if asked)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if prefer_errors:
        lines = [ln for ln in lines if "error" in ln.lower()] or lines
    return lines[-1][:300] if lines else default
