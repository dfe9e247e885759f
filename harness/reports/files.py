"""Writing a report into a run directory: replaced whole, never through a symlink, errors said plainly."""

from __future__ import annotations

from pathlib import Path

from harness.errors import HarnessError
from harness.infra import atomic, escape
from harness.infra.paths import UnsafePath


def write(run_dir: Path, name: str, text: str) -> Path:
    """run_dir/name holds *text*: a symlink there is replaced, not followed (a downloaded run directory is
    not trusted to point inside itself); a directory in the way or a read-only run directory is exit 1.
    Control characters a value carried (an ESC sequence in a reason) are written as visible escapes."""
    try:
        return atomic.write_in(run_dir, name, escape.text(text, newlines=True))
    except UnsafePath as exc:
        raise HarnessError(str(exc)) from None
    except OSError as exc:
        raise HarnessError(f"{run_dir / name}: cannot write the report: {exc.strerror or exc}") from None
