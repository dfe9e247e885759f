"""Install + import + call of one cell, isolated in a fresh environment and a subprocess with a timeout."""

from __future__ import annotations

import json
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from . import proc
from .installers import Toolchain
from .model import Artifact, Expectation, Interpreter, Status, Verdict

RESULT_MARKER = "ABI_HARNESS_RESULT "


def call_script() -> str:
    return resources.files("harness").joinpath("_call.py").read_text()


def interpret_call(out: proc.Outcome, timeout: float) -> tuple[Status, str, dict[str, Any]]:
    """Turn the import/call subprocess's outcome into (status, reason, details)."""
    if out.timed_out:
        return Status.TIMEOUT, f"import/call did not finish within {timeout:.0f}s (killed)", {}
    if out.signal_name:
        return Status.CRASH, f"import/call crashed with {out.signal_name}: {_tail(out.stderr)}", {}
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith(RESULT_MARKER)]
    if not lines:
        return Status.CRASH, f"interpreter exited {out.returncode} before reporting: {_tail(out.stderr)}", {}
    result: dict[str, Any] = json.loads(lines[-1][len(RESULT_MARKER) :])
    if "import_error" in result:
        return Status.FAIL, f"import failed: {result['import_error']}", result
    wrong = [c for c in result["calls"] if not c["ok"]]
    if wrong:
        shown = "; ".join(f"{c['call']} gave {c['actual']}, expected {c['expected']}" for c in wrong)
        return Status.FAIL, f"imported, but {len(wrong)}/{len(result['calls'])} calls wrong: {shown}", result
    return Status.PASS, f"imported, {len(result['calls'])}/{len(result['calls'])} calls correct", result


def execute(
    artifact: Artifact,
    module: str,
    interp: Interpreter,
    expectation: Expectation,
    toolchain: Toolchain,
    work_root: Path,
    timeout: float,
    log_path: Path,
) -> tuple[Verdict, str]:
    """Run one cell; returns the verdict (before known issues are applied) and the installer used."""
    work = Path(tempfile.mkdtemp(prefix="cell-", dir=work_root))
    transcript: list[str] = [
        f"# wheel: {artifact.wheel}\n# python: {interp.describe()}\n"
        f"# expected: {expectation.label}: {expectation.rule}\n"
    ]
    installer = toolchain.installer.value
    try:
        env_dir = work / "venv"
        made = toolchain.create_env(interp, env_dir)
        transcript.append(made.transcript())
        if not made.ok:
            return Verdict(Status.ERROR, f"could not create an environment: {_tail(made.stderr)}", "install"), installer
        env_python = env_dir / "bin" / "python"
        installer = toolchain.describe_in(interp, env_python)
        installed = toolchain.install(interp, env_python, artifact.wheel)
        transcript.append(installed.transcript())
        if not installed.ok:
            message = toolchain.message(installed)
            if not toolchain.refused(installed):
                return Verdict(Status.ERROR, f"{installer} failed to install: {message}", "install"), installer
            if expectation.accept:
                return Verdict(
                    Status.FAIL,
                    f"{installer} refused a wheel the tag rules accept ({expectation.rule}): {message}",
                    "install",
                ), installer
            return Verdict(
                Status.PASS,
                f"refused as expected ({expectation.rule}); {installer}: {message}",
                "install",
                {"refused": message},
            ), installer

        # -I: no user site, no PYTHONPATH, no current directory on sys.path.
        called = toolchain.run(interp, [str(env_python), "-I", "-c", call_script(), module], cwd=work, timeout=timeout)
        transcript.append(called.transcript())
        status, reason, details = interpret_call(called, timeout)
        stage = "call" if details.get("calls") else "import"
        if not expectation.accept:
            return Verdict(
                Status.FAIL,
                f"{installer} installed a wheel the tag rules refuse "
                f"({expectation.rule}); then {status.value}: {reason}",
                "install",
                details,
            ), installer
        return Verdict(status, reason, stage, details), installer
    finally:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text("".join(transcript))
        shutil.rmtree(work, ignore_errors=True)


def _tail(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "no output"
