"""The exceptions the CLI turns into exit codes."""

from __future__ import annotations


class HarnessError(Exception):
    """A problem the user can fix; printed without a traceback (exit 1)."""

    exit_code = 1


class ConfigError(HarnessError):
    """Bad matrix.toml, case.toml or command-line selection (exit 2)."""

    exit_code = 2

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class DamagedResults(HarnessError):
    """A results.jsonl or environment.json that cannot be read in full (exit 3): nothing is rewritten."""

    exit_code = 3
