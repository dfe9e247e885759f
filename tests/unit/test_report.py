from __future__ import annotations

import msgspec

from harness.cell.observe import Answer, BuildObs, InstallerObs, Observed
from harness.model import Status, TargetKind
from harness.reports.markdown import markdown, terminal_summary
from harness.run.manifest import InterpreterEntry, RunManifest, TargetEntry
from harness.run.records import SCHEMA_VERSION, Record
from tests.conftest import recorded


def rec(
    cell: str,
    status: str,
    reason: str = "why",
    resolve: dict[str, bool] | None = None,
    wheel: str | None = "abitest_x-1.0.0-cp39-abi3-linux_x86_64.whl",
) -> Record:
    case, target, build, run = cell.split(":")
    return Record(
        run_id="r",
        cell=cell,
        case=case,
        backend=case.split("/")[0],
        binding=case.split("/")[1],
        target=target,
        target_kind=TargetKind(target),
        build_python=build,
        run_python=run,
        status=Status(status),
        reason=reason,
        stage="call",
        expected="install+work",
        schema_version=SCHEMA_VERSION,
        wheel=wheel,
        observed=Observed(
            build=BuildObs(ok=True),
            installers=tuple(
                InstallerObs(name=name, version=name, resolve=Answer(ok=ok), env=Answer(ok=True))
                for name, ok in (resolve or {}).items()
            ),
        ),
        log="logs/x.log",
    )


ENV = RunManifest(
    run_id="r1",
    interpreters=tuple(
        InterpreterEntry.of(recorded(i))
        for i in ("cp38", "cp39", "cp313")  # real probes of these three
    ),
    targets=(TargetEntry(name="abi3", kind=TargetKind.ABI3, min_python="3.9"),),
)


def test_grid_rows_columns_and_symbols() -> None:
    records = [
        rec("b/x:abi3:cp39:cp38", "pass", "refused as expected", {"uv": False}),
        rec("b/x:abi3:cp39:cp39", "pass"),
        rec("b/x:abi3:cp39:cp313", "crash", "import/call crashed with SIGSEGV"),
    ]
    text = markdown(records, ENV)
    assert "| target | wheel tag | built on | cp38 | cp39 | cp313 |" in text
    assert "| abi3 | `cp39-abi3-linux_x86_64` | cp39 | 🚫 | ✅ | 💥 |" in text
    assert "## Problems (1)" in text
    assert "`b/x:abi3:cp39:cp313` **crash** at call: import/call crashed with SIGSEGV" in text


def test_free_threading_absence_is_said() -> None:
    text = markdown([rec("b/x:abi3:cp39:cp39", "pass")], ENV)
    assert "No free-threaded interpreter found: abi3t rows untested on free-threading" in text
    # a real free-threaded 3.14 probe:
    threaded = ENV.with_changes(
        interpreters=(InterpreterEntry.of(recorded("cp314t")),)
    )  # a real free-threaded 3.14 probe
    assert "No free-threaded interpreter found" not in markdown([rec("b/x:abi3:cp39:cp38", "pass")], threaded)


def test_skips_grouped_with_reason() -> None:
    records = [
        rec(f"b/x:abi3t:-:{i}", "skip", "case does not support abi3t: reason", wheel=None) for i in ("cp38", "cp39")
    ]
    text = markdown(records, ENV)
    assert "- case does not support abi3t: reason (2 cells:" in text
    assert "| abi3t | no wheel | - | ⏭️ | ⏭️ |  |" in text


def test_terminal_summary_lists_problems_and_xpass() -> None:
    records = [rec("b/x:abi3:cp39:cp39", "fail", "bad"), rec("b/x:abi3:cp39:cp313", "xpass", "fixed")]
    records[1] = msgspec.structs.replace(records[1], known_issue="https://x/1")
    text = terminal_summary(records, ENV, "results/r1")
    assert text.splitlines()[0] == "2 cells: 1 fail, 1 xpass"
    assert "fail    b/x:abi3:cp39:cp39: bad" in text
    assert "remove from matrix.toml?): https://x/1" in text


def test_installer_disagreements_listed() -> None:
    agree = rec("b/x:abi3:cp39:cp38", "pass", resolve={"uv": False, "pip": False})
    split = rec("b/x:abi3:cp39:cp39", "fail", resolve={"uv": True, "pip": False})
    text = markdown([agree, split], ENV)
    assert "## Installer disagreements (1)" in text
    assert "- `b/x:abi3:cp39:cp39`: uv accepts, pip refuses" in text
    assert "installer disagreements (1):" in terminal_summary([agree, split], ENV, "r")


def test_produced_table_shows_tag_and_suffix_per_build() -> None:
    records = [
        msgspec.structs.replace(rec("b/x:abi3:cp39:cp39", "pass"), ext_files=("x.abi3.so",)),
        msgspec.structs.replace(
            rec("b/x:abi3:cp315:cp39", "xfail", wheel="abitest_x-1.0.0-cp39-abi3-linux_x86_64.whl"),
            ext_files=("p/x.abi3-x86_64-linux-gnu.so",),
        ),
    ]
    text = markdown(records, ENV)
    # build interpreters in column order (cp315 is no column here, so it comes last)
    assert "| b/x | cp39: `cp39-abi3` .abi3.so<br>cp315: `cp39-abi3` .abi3-x86_64-linux-gnu.so |" in text
