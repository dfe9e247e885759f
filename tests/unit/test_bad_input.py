"""Bad input a user can write: each is exit 2 naming the file and key (or the flag), never a traceback.

Every row builds a small project in tmp_path (matrix.toml, one case, two explicit "interpreters" whose probe
answers with recorded facts), runs `main([...])` and checks the exit code and the message. No row may reach
the build: `run_plan` is replaced by a failure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.__main__ import main
from harness.config.matrix import check_selectors, load_cases, load_matrix
from harness.errors import ConfigError
from harness.interpreters import discover as interpreters
from harness.interpreters import providers
from harness.interpreters.discover import Discovery
from harness.run.records import Writer, load
from harness.workflows import run as run_workflow
from tests.conftest import FIXTURES, recorded
from tests.unit.test_damaged_results import _FullDisk
from tests.unit.test_results import record

CASE = "extensions/sysconfig/c-api"
GOOD_CASE_TOML = """description = "a test case"
[targets.version-specific]
env = { K = "{py_api}" }
[targets.abi3]
env = { K = "{limited_api_hex}", M = "{module}", N = "{min_python}" }
"""
GOOD_PYPROJECT = '[project]\nname = "abitest-sysconfig-c-api"\nrequires-python = ">=3.8"\n'
DISCOVERY = "[discovery]\nsources = []\n"
TARGETS = '[targets.version-specific]\n\n[targets.abi3]\nmin_python = "3.9"\nbuild_on = ["oldest"]\n'
INTERPRETERS = '[[interpreters]]\npath = "{root}/bin/py312"\n\n[[interpreters]]\npath = "{root}/bin/py313"\n'


@dataclass(frozen=True)
class Bad:
    id: str
    says: tuple[str, ...]  # substrings of stderr; {matrix}, {root} and {case} are filled in
    top: str = ""  # matrix.toml keys before any table
    discovery: str = DISCOVERY
    targets: str = TARGETS
    tail: str = ""  # more tables at the end of matrix.toml
    interpreters: str = INTERPRETERS
    files: dict[str, str | bytes | None] = field(default_factory=dict)  # relative path: text, bytes, None = delete
    argv: tuple[str, ...] = ()
    code: int = 2
    never: tuple[str, ...] = ()  # must not appear in stderr (false or misleading hints)
    command: str = "run"


ROWS = [
    # --- matrix.toml: top level -------------------------------------------------------------------------
    Bad("timeout-negative", ("{matrix}: timeout: expected a number of seconds above 0, got -1",), top="timeout = -1"),
    Bad("timeout-zero", ("{matrix}: timeout: expected a number of seconds above 0, got 0",), top="timeout = 0"),
    Bad("timeout-bool", ("{matrix}: timeout: expected a number of seconds above 0, got True",), top="timeout = true"),
    Bad("timeout-string", ("{matrix}: timeout: expected a number of seconds above 0",), top='timeout = "soon"'),
    Bad("build-timeout-negative", ("{matrix}: build_timeout: expected a number",), top="build_timeout = -3"),
    Bad("build-timeout-bool", ("{matrix}: build_timeout: expected a number",), top="build_timeout = false"),
    Bad(
        "schema-version",
        ("{matrix}: schema_version: this harness reads schema_version 1, got 2",),
        top="schema_version = 2",
    ),
    Bad("schema-version-bool", ("{matrix}: schema_version:",), top="schema_version = true"),
    Bad("cases-dir-type", ("{matrix}: cases_dir: expected str",), top="cases_dir = 5"),
    Bad("cases-dir-missing", ("cases directory not found (matrix.toml: cases_dir)",), top='cases_dir = "nope"'),
    Bad(
        "installer-typo",
        ("{matrix}: installers[0]: unknown value 'uvv'; did you mean 'uv'?",),
        top='installers = ["uvv"]',
    ),
    Bad("installers-string", ("{matrix}: installers: expected list",), top='installers = "uv"'),
    Bad("unknown-top-key", ("{matrix}: timeot: unknown key; did you mean 'timeout'?",), top="timeot = 3"),
    Bad(
        "all-problems-together",
        ("{matrix}: timeout:", "{matrix}: build_timeout:", "{matrix}: installers[0]:"),
        top='timeout = 0\nbuild_timeout = -1\ninstallers = ["x"]',
    ),
    Bad(
        "matrix-latin1",
        ("{matrix}: not UTF-8", "saved as UTF-8"),
        files={"matrix.toml": b"# caf\xe9\n[targets.version-specific]\n"},
    ),
    Bad("matrix-malformed", ("{matrix}: malformed TOML",), files={"matrix.toml": "[targets\n"}),
    Bad("matrix-not-found", ("{root}/nothere.toml: file not found",), argv=("--matrix", "{root}/nothere.toml")),
    Bad("matrix-is-directory", ("{root}/extensions: is a directory",), argv=("--matrix", "{root}/extensions")),
    # --- [discovery] ---------------------------------------------------------------------------------------
    Bad(
        "sources-explicit",
        ("{matrix}: discovery.sources[0]: explicit interpreters go in [[interpreters]]",),
        discovery='[discovery]\nsources = ["explicit"]\n',
        never=("choose from", "'explicit'?"),
    ),
    Bad(
        "sources-typo",
        ("{matrix}: discovery.sources[0]: unknown value 'pyen'; did you mean 'pyenv'?",),
        discovery='[discovery]\nsources = ["pyen"]\n',
        never=("explicit",),
    ),
    Bad(
        "sources-unknown",
        ("{matrix}: discovery.sources[0]: unknown value 'conda'; choose from pyenv, uv, debian, path",),
        discovery='[discovery]\nsources = ["conda"]\n',
        never=("explicit",),
    ),
    Bad(
        "sources-string", ("{matrix}: discovery.sources: expected list",), discovery='[discovery]\nsources = "pyenv"\n'
    ),
    Bad(
        "min-version-bad",
        ("{matrix}: discovery.min_version:",),
        discovery='[discovery]\nsources = []\nmin_version = "three"\n',
    ),
    Bad(
        "min-version-float",
        ("{matrix}: discovery.min_version: expected a version string",),
        discovery="[discovery]\nsources = []\nmin_version = 3.9\n",
    ),
    Bad(
        "discovery-unknown-key",
        ("{matrix}: discovery.source: unknown key; did you mean 'sources'?",),
        discovery="[discovery]\nsource = []\n",
    ),
    # --- [[interpreters]] ----------------------------------------------------------------------------------
    Bad("interpreter-no-path", ("{matrix}: interpreters[2].path: missing",), tail='[[interpreters]]\nid = "x"\n'),
    Bad(
        "interpreter-path-type", ("{matrix}: interpreters[2].path: expected str",), tail="[[interpreters]]\npath = 5\n"
    ),
    Bad(
        "interpreter-unknown-key",
        ("{matrix}: interpreters[0].pth: unknown key; did you mean 'path'?",),
        interpreters='[[interpreters]]\npth = "x"\npath = "{root}/bin/py312"\n',
    ),
    Bad("interpreters-not-array", ("{matrix}: interpreters: expected list",), top="interpreters = 1", interpreters=""),
    Bad(
        "interpreter-same-id",
        ("{matrix}: interpreters[1].id: 'mine' is already the id of interpreters[0]",),
        interpreters='[[interpreters]]\npath = "{root}/bin/py312"\nid = "mine"\n'
        '[[interpreters]]\npath = "{root}/bin/py313"\nid = "mine"\n',
    ),
    Bad(
        "interpreter-id-wrong-version",
        ("{matrix}: [[interpreters]] path", "id 'cp313' reads as Python 3.13 but the interpreter is 3.12.1"),
        interpreters='[[interpreters]]\npath = "{root}/bin/py312"\nid = "cp313"\n',
    ),
    Bad(
        "interpreter-id-wrong-version-suffix",
        ("id 'cp39-main' reads as Python 3.9",),
        interpreters='[[interpreters]]\npath = "{root}/bin/py313"\nid = "cp39-main"\n',
    ),
    Bad(
        "interpreter-missing-file",
        ("{matrix}: [[interpreters]] path '/no/python3': no executable file there",),
        tail='[[interpreters]]\npath = "/no/python3"\n',
    ),
    Bad(
        "interpreter-not-python",
        ("does not run as Python", "is it a Python 3 interpreter?"),
        tail='[[interpreters]]\npath = "{root}/bin/echo-args"\n',
        never=("import json", "sys.argv", "def "),
    ),
    Bad(
        "interpreter-failing",
        ("does not run as Python: probe failed (3): not python",),
        tail='[[interpreters]]\npath = "{root}/bin/fails"\n',
    ),
    # --- [targets] -----------------------------------------------------------------------------------------
    Bad(
        "target-kind-unknown",
        ("{matrix}: targets.abi4.kind: unknown value 'abi4'; did you mean 'abi3'?",),
        tail='[targets.abi4]\nmin_python = "3.9"\n',
        never=("no stable-ABI minimum",),
    ),
    Bad(
        "target-min-python-missing",
        ("{matrix}: targets.abi3-312.min_python: required for a abi3 target",),
        tail='[targets.abi3-312]\nkind = "abi3"\n',
    ),
    Bad(
        "target-min-python-on-version-specific",
        ("{matrix}: targets.vs.min_python: a version-specific target",),
        tail='[targets.vs]\nkind = "version-specific"\nmin_python = "3.9"\n',
    ),
    Bad(
        "target-min-python-bad",
        ("{matrix}: targets.abi3-x.min_python:",),
        tail='[targets.abi3-x]\nkind = "abi3"\nmin_python = "three"\n',
    ),
    Bad(
        "build-on-string",
        ("{matrix}: targets.vs.build_on: expected list",),
        tail='[targets.vs]\nkind = "version-specific"\nbuild_on = "each"\n',
    ),
    Bad(
        "build-on-empty",
        ("{matrix}: targets.vs.build_on: empty",),
        tail='[targets.vs]\nkind = "version-specific"\nbuild_on = []\n',
    ),
    Bad(
        "build-on-blank",
        ("{matrix}: targets.vs.build_on[0]: expected one of each, oldest, newest",),
        tail='[targets.vs]\nkind = "version-specific"\nbuild_on = [""]\n',
    ),
    Bad(
        "build-on-typo",
        ("{matrix}: targets.vs.build_on[0]: 'oldst' is no keyword", "did you mean 'oldest'?"),
        tail='[targets.vs]\nkind = "version-specific"\nbuild_on = ["oldst"]\n',
    ),
    Bad(
        "build-on-glob-matches-nothing",
        ("{matrix}: targets.vs.build_on[1]: 'cp399*' is no keyword and matches no interpreter (found: cp312, cp313)",),
        tail='[targets.vs]\nkind = "version-specific"\nbuild_on = ["each", "cp399*"]\n',
    ),
    Bad(
        "target-unknown-key",
        ("{matrix}: targets.vs.buildon: unknown key; did you mean 'build_on'?",),
        tail='[targets.vs]\nkind = "version-specific"\nbuildon = ["each"]\n',
    ),
    Bad("target-not-table", ("{matrix}: targets.vs: expected a table",), targets="[targets]\nvs = 1\n"),
    Bad("targets-missing", ("{matrix}: targets: missing",), targets=""),
    # --- [[known_issue]] -------------------------------------------------------------------------------------
    Bad(
        "known-issue-no-selector",
        ("{matrix}: known_issue[0]: no selector: it would match every cell", 'case = "*"'),
        tail='[[known_issue]]\nlink = "https://x.org/1"\n',
    ),
    Bad(
        "known-issue-status",
        ("{matrix}: known_issue[0].status: unknown value 'xfail'", "choose from fail, crash, timeout"),
        tail='[[known_issue]]\ncase = "*"\nstatus = "xfail"\nlink = "https://x.org/1"\n',
        never=("xpass", "skip,"),
    ),
    Bad(
        "known-issue-status-pass",
        ("{matrix}: known_issue[0].status: unknown value 'pass'; choose from fail, crash, timeout",),
        tail='[[known_issue]]\ncase = "*"\nstatus = "pass"\nlink = "https://x.org/1"\n',
    ),
    Bad("known-issue-no-link", ("{matrix}: known_issue[0].link: required",), tail='[[known_issue]]\ncase = "*"\n'),
    Bad(
        "known-issue-link-not-url",
        ("{matrix}: known_issue[0].link: required",),
        tail='[[known_issue]]\ncase = "*"\nlink = "gh-123"\n',
    ),
    Bad(
        "known-issue-empty-selector",
        ("{matrix}: known_issue[0].case: expected a glob or a list of globs, got []",),
        tail='[[known_issue]]\ncase = []\nlink = "https://x.org/1"\n',
    ),
    Bad(
        "known-issue-selector-type",
        ("{matrix}: known_issue[0].target: expected a glob",),
        tail='[[known_issue]]\ntarget = 5\nlink = "https://x.org/1"\n',
    ),
    Bad(
        "known-issue-unknown-key",
        ("{matrix}: known_issue[0].cas: unknown key; did you mean 'case'?",),
        tail='[[known_issue]]\ncas = "*"\ncase = "*"\nlink = "https://x.org/1"\n',
    ),
    Bad("known-issue-not-array", ("{matrix}: known_issue: expected list",), top='known_issue = "x"'),
    # a selector matching nothing is a warning and the run goes on (here it then stops at --case)
    Bad(
        "known-issue-matches-nothing",
        ("warning: {matrix}: known_issue[0].case: ['nope/*'] matches nothing", "--case zzz"),
        tail='[[known_issue]]\ncase = "nope/*"\nlink = "https://x.org/1"\n',
        argv=("--case", "zzz"),
    ),
    Bad(
        "known-issue-run-python-nothing",
        ("note: {matrix}: known issues for interpreters not found here: known_issue[0] (cp27)",),
        never=("warning",),
        tail='[[known_issue]]\nrun_python = "cp27"\nlink = "https://x.org/1"\n',
        argv=("--case", "zzz"),
    ),
    Bad(
        "known-issue-every-cell-on-purpose",
        ("--case zzz: no case matched",),
        tail='[[known_issue]]\ncase = "*"\nlink = "https://x.org/1"\n',
        argv=("--case", "zzz"),
        never=("no selector", "warning"),
    ),
    # --- the cases directory and case.toml ---------------------------------------------------------------------
    Bad(
        "case-dir-without-case-toml",
        ("{root}/extensions/sysconfig/empty: no case.toml",),
        files={"extensions/sysconfig/empty/src/x.c": ""},
    ),
    Bad(
        "case-too-shallow",
        ("{root}/extensions/sysconfig/case.toml: a case lives at",),
        files={"extensions/sysconfig/case.toml": GOOD_CASE_TOML},
    ),
    Bad(
        "case-too-deep",
        ("{root}/extensions/sysconfig/c-api/extra/case.toml: a case lives at",),
        files={f"{CASE}/extra/case.toml": GOOD_CASE_TOML},
    ),
    Bad(
        "case-unknown-placeholder",
        ("{case}: targets.abi3.env.K: unknown placeholder {py_apy}", "{py_api}"),
        files={f"{CASE}/case.toml": GOOD_CASE_TOML.replace("{limited_api_hex}", "{py_apy}")},
    ),
    Bad(
        "case-unknown-placeholder-settings",
        ("{case}: targets.version-specific.config_settings.x: unknown placeholder {}",),
        files={
            f"{CASE}/case.toml": 'description = "d"\n[targets.version-specific]\nconfig_settings = { x = "a{}b" }\n'
        },
    ),
    Bad("case-latin1", ("{case}: not UTF-8",), files={f"{CASE}/case.toml": b'description = "caf\xe9"\n'}),
    Bad("case-malformed", ("{case}: malformed TOML",), files={f"{CASE}/case.toml": "description = \n"}),
    Bad(
        "case-no-description",
        ("{case}: description: missing",),
        files={f"{CASE}/case.toml": "[targets.version-specific]\n"},
    ),
    Bad(
        "case-target-kind",
        ("{case}: targets.abi4: unknown value 'abi4'",),
        files={f"{CASE}/case.toml": 'description = "d"\n[targets.abi4]\n'},
    ),
    Bad(
        "case-env-not-string",
        ("{case}: targets.abi3.env.K: expected a string",),
        files={f"{CASE}/case.toml": 'description = "d"\n[targets.abi3]\nenv = { K = 1 }\n'},
    ),
    Bad(
        "case-unsupported-reason",
        ("{case}: unsupported.abi3: expected the reason as a string",),
        files={f"{CASE}/case.toml": 'description = "d"\n[unsupported]\nabi3 = 1\n'},
    ),
    Bad(
        "case-providers-without-reason",
        ("{case}: build.reason: required with build.providers",),
        files={f"{CASE}/case.toml": 'description = "d"\n[build]\nproviders = ["debian"]\n'},
    ),
    Bad(
        "case-provider-typo",
        ("{case}: build.providers[0]: unknown value 'debain'; did you mean 'debian'?",),
        files={f"{CASE}/case.toml": 'description = "d"\n[build]\nproviders = ["debain"]\nreason = "r"\n'},
    ),
    Bad(
        "case-unknown-key",
        ("{case}: note: unknown key; did you mean 'notes'?",),
        files={f"{CASE}/case.toml": 'description = "d"\nnote = "x"\n'},
    ),
    Bad(
        "pyproject-missing", ("{root}/" + CASE + "/pyproject.toml is missing",), files={f"{CASE}/pyproject.toml": None}
    ),
    Bad(
        "pyproject-latin1",
        ("{root}/" + CASE + "/pyproject.toml: not UTF-8",),
        files={f"{CASE}/pyproject.toml": b'[project]\nname = "abitest-sysconfig-c-api"\ndescription = "caf\xe9"\n'},
    ),
    Bad(
        "pyproject-name-int",
        ("{root}/" + CASE + "/pyproject.toml: [project] name is 5",),
        files={f"{CASE}/pyproject.toml": "[project]\nname = 5\n"},
    ),
    Bad(
        "pyproject-project-not-table",
        ("{root}/" + CASE + "/pyproject.toml: [project] must be a table",),
        files={f"{CASE}/pyproject.toml": "project = 5\n"},
    ),
    Bad(
        "pyproject-wrong-name",
        ("[project] name is 'foo'; this case's name must be 'abitest-sysconfig-c-api'",),
        files={f"{CASE}/pyproject.toml": '[project]\nname = "foo"\n'},
    ),
    Bad(
        "pyproject-requires-python-bad",
        ("[project] requires-python '>=3.x' is not a version specifier",),
        files={f"{CASE}/pyproject.toml": GOOD_PYPROJECT.replace(">=3.8", ">=3.x")},
    ),
    Bad(
        "pyproject-requires-python-int",
        ("[project] requires-python must be a string",),
        files={f"{CASE}/pyproject.toml": GOOD_PYPROJECT.replace('">=3.8"', "39")},
    ),
    # --- the command line ------------------------------------------------------------------------------------
    Bad("timeout-flag-negative", ("argument --timeout: must be above 0, got -5",), argv=("--timeout", "-5")),
    Bad("timeout-flag-zero", ("argument --timeout: must be above 0",), argv=("--timeout", "0")),
    Bad("timeout-flag-text", ("argument --timeout: expected a number, got 'soon'",), argv=("--timeout", "soon")),
    Bad("jobs-zero", ("argument --jobs/-j: must be above 0, got 0",), argv=("--jobs", "0")),
    Bad("jobs-negative", ("argument --jobs/-j: must be above 0",), argv=("-j", "-2")),
    Bad("jobs-float", ("argument --jobs/-j: expected a number, got '1.5'",), argv=("--jobs", "1.5")),
    Bad(
        "results-is-file",
        ("--results {root}/matrix.toml: is a file, not a directory",),
        argv=("--results", "{root}/matrix.toml"),
    ),
    Bad(
        "results-under-file",
        ("--results {root}/matrix.toml/sub: cannot create it",),
        argv=("--results", "{root}/matrix.toml/sub"),
    ),
    Bad(
        "cache-dir-is-file",
        ("--cache-dir {root}/matrix.toml: is a file, not a directory",),
        argv=("--cache-dir", "{root}/matrix.toml"),
    ),
    Bad(
        "cache-dir-under-file",
        ("--cache-dir {root}/matrix.toml/c: cannot create it",),
        argv=("--cache-dir", "{root}/matrix.toml/c"),
    ),
    Bad(
        "interpreters-cache-dir-is-file",
        ("--cache-dir {root}/matrix.toml: is a file",),
        command="interpreters",
        argv=("--cache-dir", "{root}/matrix.toml"),
    ),
    Bad("case-flag-no-match", ("--case zzz/*: no case matched; cases: sysconfig/c-api",), argv=("--case", "zzz/*")),
    Bad(
        "target-flag-unknown",
        ("--target abi5: not in matrix.toml [targets]; targets: version-specific, abi3",),
        argv=("--target", "abi5"),
    ),
    Bad("python-flag-no-match", ("no interpreter matched 'cp399'; found: cp312, cp313",), argv=("--python", "cp399")),
    Bad(
        "python-flag-missing-path",
        ("--python '/no/such/python3': no executable file there",),
        argv=("--python", "/no/such/python3"),
    ),
    Bad("installer-flag", ("--installer conda: choose from",), argv=("--installer", "conda")),
    Bad(
        "resume-other-selection",
        ("--resume {root}/results/r: --python cp313 differs from the run's cp312",),
        files={
            "results/r/results.jsonl": "",
            "results/r/environment.json": '{"run_id": "r", "argv": ["run", "--matrix", "{root}/matrix.toml", '
            '"--python", "cp312"]}',
        },
        argv=("--resume", "{root}/results/r", "--python", "cp313"),
    ),
    Bad(
        "resume-no-argv",
        ("--resume {root}/results/r: environment.json has no recorded `run` command line",),
        files={"results/r/results.jsonl": "", "results/r/environment.json": '{"run_id": "r"}'},
        argv=("--resume", "{root}/results/r"),
    ),
    Bad(
        "resume-argv-of-another-command",
        ("--resume {root}/results/r: environment.json has no recorded `run` command line",),
        files={"results/r/results.jsonl": "", "results/r/environment.json": '{"run_id": "r", "argv": ["cases"]}'},
        argv=("--resume", "{root}/results/r"),
    ),
    Bad(
        "resume-damaged",
        ("{root}/results/r/results.jsonl:1: not valid JSON",),
        files={"results/r/results.jsonl": "junk\n", "results/r/environment.json": '{"run_id": "r", "argv": ["run"]}'},
        argv=("--resume", "{root}/results/r"),
        code=3,
    ),
    Bad(
        "resume-not-a-run",
        ("--resume {root}/extensions: no results.jsonl there",),
        argv=("--resume", "{root}/extensions"),
    ),
]


def _facts(interp_id: str) -> dict[str, Any]:
    """A probe's answer, from the recorded facts of a real interpreter."""
    data: dict[str, Any] = json.loads((FIXTURES / "interpreters" / f"{interp_id}.json").read_text())
    return data | {"prefix": data["base_prefix"]}


def _fill(text: str, root: Path) -> str:
    return text.replace("{root}", str(root))


def _project(tmp_path: Path, row: Bad) -> None:
    matrix = "\n".join(part for part in (row.top, row.discovery, row.targets, row.interpreters, row.tail) if part)
    files: dict[str, str | bytes | None] = {}
    files |= {
        "matrix.toml": _fill(matrix, tmp_path),
        f"{CASE}/case.toml": GOOD_CASE_TOML,
        f"{CASE}/pyproject.toml": GOOD_PYPROJECT,
        "bin/py312": "#!/bin/sh\nexit 0\n",
        "bin/py313": "#!/bin/sh\nexit 0\n",
        "bin/echo-args": '#!/bin/sh\necho "$@"\n',
        "bin/fails": "#!/bin/sh\necho not python >&2\nexit 3\n",
    }
    files |= row.files
    for rel, content in files.items():
        path = tmp_path / rel
        if content is None:
            path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(_fill(content, tmp_path))
        if rel.startswith("bin/"):
            path.chmod(0o755)


@pytest.fixture
def recorded_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """bin/py312 and bin/py313 answer with recorded facts; anything else is really probed."""
    real = interpreters.probe

    def probe(path: str, cache: Path, root: str = "") -> dict[str, Any]:
        name = Path(path).name
        if name in ("py312", "py313"):
            return _facts("cp" + name[2:]) | {"path": path}
        return real(path, cache, root)

    def no_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("bad input reached the build")

    monkeypatch.setattr(interpreters, "probe", probe)
    monkeypatch.setattr(run_workflow, "run_plan", no_run)


def run_main(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own errors
        return int(exc.code or 0)


@pytest.mark.usefixtures("recorded_probe")
@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_bad_input(row: Bad, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _project(tmp_path, row)
    argv = [row.command, "--matrix", str(tmp_path / "matrix.toml"), "--cache-dir", str(tmp_path / "cache")]
    if row.command == "run":
        argv += ["--results", str(tmp_path / "results")]
    argv += [_fill(a, tmp_path) for a in row.argv]
    code = run_main(argv)
    err = capsys.readouterr().err
    fill = {"{matrix}": str(tmp_path / "matrix.toml"), "{case}": str(tmp_path / CASE / "case.toml")}
    for said in row.says:
        text = said
        for key, value in fill.items():
            text = text.replace(key, value)
        assert _fill(text, tmp_path) in err
    for text in row.never:
        assert text not in err
    assert "Traceback" not in err
    assert code == row.code, err


def test_suite_covers_enough() -> None:
    assert len(ROWS) >= 60
    assert len({r.id for r in ROWS}) == len(ROWS)


def test_all_problems_of_a_case_file_together(tmp_path: Path) -> None:
    row = Bad("x", (), files={f"{CASE}/case.toml": "note = 1\n[targets.abi4]\n[unsupported]\nabi3 = 2\n"})
    _project(tmp_path, row)
    with pytest.raises(ConfigError) as info:
        load_cases(tmp_path / "extensions", providers.names())
    keys = [p.split(": ")[1] for p in info.value.problems]
    assert keys == ["note", "description", "targets.abi4", "unsupported.abi3"]


def test_selectors_judged_on_recorded_interpreters(tmp_path: Path) -> None:
    """On recorded facts: a known issue whose interpreter globs name interpreters absent here is one
    note for all such entries; a selector that names nothing of the kind is a warning of its own."""
    issues = (
        '[[known_issue]]\nbuild_python = "cp315*"\nlink = "https://x.org/1"\n'
        '[[known_issue]]\nrun_python = ["cp315t*", "cp313t"]\nlink = "https://x.org/2"\n'
        '[[known_issue]]\nrun_python = "py312"\nlink = "https://x.org/3"\n'
    )
    row = Bad("x", (), tail=issues)
    _project(tmp_path, row)
    matrix = load_matrix(tmp_path / "matrix.toml", providers.names())
    found = Discovery((recorded("cp312"), recorded("cp313")), ())
    check = check_selectors(matrix, found.interpreters, load_cases(tmp_path / "extensions", providers.names()))
    assert check.warnings == [
        f"{tmp_path / 'matrix.toml'}: known_issue[2].run_python: ['py312'] matches nothing "
        "(have: cp312, cp313); the entry applies to no cell"
    ]
    assert check.absent == (
        f"{tmp_path / 'matrix.toml'}: known issues for interpreters not found here: "
        "known_issue[0] (cp315*), known_issue[1] (cp315t*, cp313t)"
    )


@pytest.mark.usefixtures("recorded_probe")
def test_disk_full_mid_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A write error during a run: exit 1 naming the file; every record written before stays readable."""
    _project(tmp_path, Bad("x", ()))

    def run_plan(plan: object, settings: object, run_id: str, writer: Writer, progress: object, **kw: object) -> None:
        writer._file = _FullDisk(writer._file, room=1)  # type: ignore[assignment]
        writer.write(record("sysconfig/c-api:version-specific:cp312:cp312"))
        writer.write(record("sysconfig/c-api:version-specific:cp312:cp313"))

    monkeypatch.setattr(run_workflow, "run_plan", run_plan)
    results = tmp_path / "results"
    argv = ["run", "--matrix", str(tmp_path / "matrix.toml"), "--cache-dir", str(tmp_path / "cache")]
    assert run_main([*argv, "--results", str(results), "--installer", "pip"]) == 1
    err = capsys.readouterr().err
    (run,) = [p for p in results.iterdir() if not p.is_symlink()]
    assert f"error: {run / 'results.jsonl'}: cannot write results: No space left on device" in err
    assert "the 1 records written before are intact" in err
    assert "Traceback" not in err
    records, _ = load(run)
    assert [r.cell for r in records] == ["sysconfig/c-api:version-specific:cp312:cp312"]
