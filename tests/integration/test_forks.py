"""A load forked from a waiting interpreter is the load started anew, only sooner: the same report, its
own stdout and stderr, a crash (also one during the interpreter's finalisation) and a timeout seen as
they are; a server that cannot answer is never the load's fault. Real interpreters, real forks: the
harness's own Python, and Debian's 3.15 through bwrap when the rootfs exists."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from harness.cell.execute import RESULT_MARKER, call_script
from harness.cell.forks import ForkServers
from harness.infra import proc

pytestmark = pytest.mark.integration

MODULES = {
    # add() as the cases define it, in Python: what call.py reports must not depend on how it started
    "works": "def add(a, b):\n    if not isinstance(a, int) or not isinstance(b, int):\n        raise TypeError(a)\n"
    "    if not -2**31 <= a + b < 2**31:\n        raise OverflowError(a + b)\n    return a + b\n"
    "import sys\nprint('printed by the module')\nprint('warned by the module', file=sys.stderr)\n",
    "segfault": "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n",
    "dies_at_exit": "import atexit, os, signal\natexit.register(lambda: os.kill(os.getpid(), signal.SIGABRT))\n"
    "def add(a, b):\n    return a + b\n",
    "hangs": "import time\ntime.sleep(60)\n",
}


@pytest.fixture
def modules(tmp_path: Path) -> Path:
    for name, text in MODULES.items():
        (tmp_path / f"{name}.py").write_text(text)
    return tmp_path


def _host(argv: Sequence[str]) -> list[str]:
    return list(argv)


def _fresh(python: str, module: str, where: Path, timeout: float = 30) -> proc.Outcome:
    return proc.run([python, "-I", "-c", call_script(), module, "--path", str(where)], cwd=where, timeout=timeout)


def _forked(
    forks: ForkServers, module: str, where: Path, timeout: float = 30, launch: Callable[..., list[str]] = _host
) -> proc.Outcome | None:
    call = [module, "--path", str(where)]
    return forks.run(launch, Path(sys.executable), call, code=call_script(), cwd=where, timeout=timeout)


def _report(out: proc.Outcome) -> dict[str, object]:
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith(RESULT_MARKER))
    report: dict[str, object] = json.loads(line[len(RESULT_MARKER) :])
    return report


def test_a_forked_load_reports_what_a_fresh_one_does(modules: Path) -> None:
    forks = ForkServers()
    try:
        for _ in range(3):  # one server serves load after load
            forked = _forked(forks, "works", modules)
            assert forked is not None
            assert forked.returncode == 0, forked.stderr
            assert _report(forked) == _report(_fresh(sys.executable, "works", modules))
            assert "printed by the module" in forked.stdout
            assert "warned by the module" in forked.stderr
            assert "warned by the module" not in forked.stdout
    finally:
        forks.close()


@pytest.mark.parametrize(
    ("module", "returncode"),
    [("segfault", -11), ("dies_at_exit", -6)],  # the second reports, then dies in finalisation
)
def test_a_crash_is_the_signal_that_killed_the_load(modules: Path, module: str, returncode: int) -> None:
    forks = ForkServers()
    try:
        forked = _forked(forks, module, modules)
        assert forked is not None
        fresh = _fresh(sys.executable, module, modules)
        assert (forked.returncode, forked.signal_name) == (fresh.returncode, fresh.signal_name)
        assert forked.returncode == returncode
        assert _forked(forks, "works", modules) is not None  # the server lives on
    finally:
        forks.close()


def test_a_load_past_its_timeout_is_killed_and_said(modules: Path) -> None:
    forks = ForkServers()
    try:
        forked = _forked(forks, "hangs", modules, timeout=1)
        assert forked is not None
        assert forked.timed_out
        assert 1 <= forked.duration_s < 10
    finally:
        forks.close()


def test_a_server_that_cannot_answer_gives_the_load_back(modules: Path) -> None:
    forks = ForkServers()
    try:
        dead = _forked(forks, "works", modules, launch=lambda argv: ["false"])
        assert dead is None  # the caller starts the load on its own (CellRun.start)
        assert _forked(forks, "works", modules) is not None
    finally:
        forks.close()


def test_forked_inside_a_rootfs_the_signal_is_seen_where_bwrap_hid_it(modules: Path) -> None:
    """bwrap turns its child's death by a signal into exit 128+N; the server waits inside, so a load
    forked there is known to have crashed, not only to have ended without a report."""
    listing = subprocess.run(
        [sys.executable, "-m", "harness", "interpreters", "--json"], capture_output=True, text=True, check=False
    )
    found = [i for i in json.loads(listing.stdout or "{}").get("interpreters", []) if i["id"] == "cp315"]
    if not found:
        pytest.skip("no Debian rootfs: run `python -m harness provision debian` (or `nox -s provision`)")
    from harness.infra import rootfs  # noqa: PLC0415

    root = found[0]["root"]

    def launch(argv: Sequence[str]) -> list[str]:
        return rootfs.command(root, argv, [modules])

    forks = ForkServers()
    try:
        call = ["segfault", "--path", str(modules)]
        forked = forks.run(launch, Path("/usr/bin/python3.15"), call, code=call_script(), cwd=modules, timeout=30)
        assert forked is not None
        assert forked.signal_name == "SIGSEGV"
        fresh = proc.run(launch(["/usr/bin/python3.15", "-I", "-c", call_script(), *call]), timeout=30)
        assert (fresh.returncode, fresh.signal_name) == (139, None)
    finally:
        forks.close()
