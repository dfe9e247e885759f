"""Loads forked from a waiting interpreter (resources/forkserver.py) instead of started from nothing.

Every load stays its own process with its own timeout, stdout and stderr: only the interpreter's
start-up (and bwrap's, for a rootfs) is shared, once per (interpreter, environment) and worker. A
server that cannot answer is replaced, and the load is then started on its own as before (the cell
never depends on the server being healthy).
"""

from __future__ import annotations

import functools
import json
import os
import selectors
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

import msgspec

from harness.infra import proc
from harness.schema.decode import decode_json

# The server answers after the load's own timeout; this much more is its slack before it is given up.
_SLACK_S = 30.0


@functools.cache
def server_script() -> str:
    return resources.files("harness.resources").joinpath("forkserver.py").read_text()


class Answer(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One line of resources/forkserver.py's answer."""

    returncode: int
    timed_out: bool


class _Server:
    """One waiting interpreter: requests in on stdin, answers out on stdout, one at a time."""

    def __init__(self, argv: Sequence[str]) -> None:
        self.argv = tuple(argv)
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def ask(self, request: dict[str, object], timeout: float) -> Answer | None:
        """The child's end, or None when the server did not answer as it must (it is then closed)."""
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None
        assert stdout is not None
        try:
            stdin.write(json.dumps(request).encode() + b"\n")
            stdin.flush()
            line = _readline(stdout, timeout + _SLACK_S)
            return decode_json(line, Answer, source="resources/forkserver.py's answer") if line else None
        except Exception:  # a server that fails is never the load's fault: the load runs on its own
            return None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


def _readline(stream: object, timeout: float) -> bytes:
    """One line from the server's stdout within *timeout* seconds (b"" when it ended or was too slow)."""
    fd = stream.fileno()  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    data = b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                return b""
            chunk = os.read(fd, 65536)
            if not chunk:
                return b""
            data += chunk
    return data


class ForkServers:
    """Idle servers per launch command (an interpreter, through bwrap for a rootfs, in one environment);
    a worker takes one, or starts one when none is idle, and gives it back."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, ...], list[_Server]] = {}
        self._all: list[_Server] = []
        self._lock = threading.Lock()
        self.closed = False

    def _take(self, argv: tuple[str, ...]) -> _Server:
        with self._lock:
            idle = self._idle.setdefault(argv, [])
            if idle:
                return idle.pop()
        server = _Server(argv)
        with self._lock:
            self._all.append(server)
        return server

    def _give(self, server: _Server, healthy: bool) -> None:
        with self._lock:
            if healthy and not self.closed:
                self._idle[server.argv].append(server)
                return
            self._all.remove(server)
        server.close()

    def run(
        self,
        launch: Callable[[Sequence[str]], list[str]],
        python: Path,
        call: Sequence[str],
        *,
        code: str,
        cwd: Path,
        timeout: float,
    ) -> proc.Outcome | None:
        """`python -I -c CODE *call*` in *cwd*, forked; None when no server could answer (the caller then
        starts the load on its own). *launch* turns an argv into the command that runs it (bwrap)."""
        argv = tuple(launch([str(python), "-I", "-c", server_script()]))
        out_file, err_file = cwd / ".load-stdout", cwd / ".load-stderr"
        request = {
            "argv": list(call),
            "code": code,
            "cwd": str(cwd),
            "stdout": str(out_file),
            "stderr": str(err_file),
            "timeout": timeout,
        }
        start = time.monotonic()
        server = self._take(argv)
        answer = server.ask(request, timeout)
        self._give(server, answer is not None)
        if answer is None:
            return None
        try:
            stdout = out_file.read_text(errors="replace")
            stderr = err_file.read_text(errors="replace")
        except OSError:
            return None
        finally:
            out_file.unlink(missing_ok=True)
            err_file.unlink(missing_ok=True)
        shown = (str(python), "-I", "-c", "<call.py>", *call)  # the command the fork stands for
        return proc.Outcome(shown, answer.returncode, stdout, stderr, time.monotonic() - start, answer.timed_out)

    def close(self) -> None:
        with self._lock:
            self.closed = True
            servers, self._all = self._all, []
            self._idle.clear()
        for server in servers:
            server.close()
