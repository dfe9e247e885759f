"""The reuse key changes with each thing a cell's observations depend on, and with nothing else."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from harness.cell import reuse
from harness.cell.observe import Answer, BuildObs, InstallerObs, Observed
from harness.cell.reuse import Reused, Store, cell_key, reusable
from harness.model import Interpreter
from tests.conftest import recorded


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Interpreter]:
    """A wheel file and an interpreter whose executable is a file of this test (its bytes matter)."""
    wheel = tmp_path / "x-1.0-cp313-cp313-linux_x86_64.whl"
    wheel.write_bytes(b"wheel bytes")
    exe = tmp_path / "prefix" / "bin" / "python3.13"
    exe.parent.mkdir(parents=True)
    exe.write_bytes(b"interpreter bytes")
    (tmp_path / "prefix" / "lib").mkdir()
    (tmp_path / "prefix" / "lib" / "libpython3.13.so.1.0").write_bytes(b"libpython bytes")
    interp = replace(recorded("cp313"), path=str(exe), base_prefix=str(tmp_path / "prefix"), root="")
    return wheel, interp


def key(wheel: Path, interp: Interpreter, installers: tuple[str, ...] = ("uv 0.13.9",), timeout: float = 60) -> str:
    return cell_key(wheel=wheel, interp=interp, installers=installers, timeout_s=timeout)


def test_same_inputs_same_key(setup: tuple[Path, Interpreter]) -> None:
    wheel, interp = setup
    assert key(wheel, interp) == key(wheel, interp)
    assert key(wheel, replace(interp, id="cp313-renamed")) == key(wheel, interp)  # a column's name is no input


def test_each_ingredient_changes_the_key(setup: tuple[Path, Interpreter], monkeypatch: pytest.MonkeyPatch) -> None:
    wheel, interp = setup
    base = key(wheel, interp)
    wheel.write_bytes(b"rebuilt wheel")
    assert key(wheel, interp) != base, "wheel bytes"
    wheel.write_bytes(b"wheel bytes")
    assert key(wheel, interp) == base

    Path(interp.path).write_bytes(b"a rebuilt interpreter")
    assert key(wheel, interp) != base, "interpreter executable"
    Path(interp.path).write_bytes(b"interpreter bytes")
    lib = Path(interp.base_prefix) / "lib" / "libpython3.13.so.1.0"
    lib.write_bytes(b"an upgraded libpython")
    assert key(wheel, interp) != base, "libpython"
    lib.write_bytes(b"libpython bytes")
    assert key(wheel, interp) == base

    assert key(wheel, replace(interp, soabi="cpython-313d-x86_64-linux-gnu")) != base, "probed facts"
    assert key(wheel, replace(interp, ext_suffixes=(".so",))) != base, "probed suffixes"
    assert key(wheel, interp, installers=("uv 0.14.0",)) != base, "installer version"
    assert key(wheel, interp, installers=("uv 0.13.9", "pip 26.0")) != base, "another installer"
    assert key(wheel, interp, timeout=30) != base, "cell timeout"
    monkeypatch.setattr(reuse, "code_digest", lambda: "other execution code")
    assert key(wheel, interp) != base, "harness execution code"


def test_code_digest_covers_the_execution_code() -> None:
    assert "resources/call.py" in reuse.EXECUTION_CODE
    assert "cell/execute.py" in reuse.EXECUTION_CODE
    assert len(reuse.code_digest()) == 64


def test_store_round_trip_and_damaged_entries(tmp_path: Path) -> None:
    store = Store(tmp_path)
    assert store.get("k") is None
    entry = Reused(run_id="run-1", observed=Observed(build=BuildObs(ok=True)), log="log")
    store.put("k", entry)
    assert store.get("k") == entry
    (tmp_path / "observations" / "k.json").write_text("{truncated")
    assert store.get("k") is None  # unreadable: the cell runs again
    (tmp_path / "observations" / "k.json").write_text('{"run_id": "r", "observed": {"build": {"ok": 1}}}')
    assert store.get("k") is None  # of another format: the cell runs again


def test_infrastructure_failures_are_not_reused() -> None:
    ok = Answer(ok=True)
    refused = Answer(ok=False, refused=True, message="no matching tag")
    broken = Answer(ok=False, message="index unreachable")

    def seen(env: Answer, resolve: Answer | None, harness_error: str = "") -> Observed:
        uv = InstallerObs(name="uv", version="uv 0.13.9", env=env, resolve=resolve)
        return Observed(build=BuildObs(ok=True), installers=(uv,), harness_error=harness_error)

    assert reusable(seen(ok, refused))
    assert not reusable(seen(ok, broken))
    assert not reusable(seen(broken, None))
    assert not reusable(seen(ok, refused, harness_error="KeyError: x"))
