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

import msgspec
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
from tests.sentinel import sentinel, snapshot
from tests.unit.test_damaged_results import _FullDisk
from tests.unit.test_results import record

CASE = "extensions/sysconfig/c-api"
GOOD_CASE_TOML = """description = "a test case"
[targets.version-specific]
env = { K = "{py_api}" }
[targets.abi3]
env = { K = "{limited_api_hex}", M = "{module}", N = "{min_python}" }
"""
GOOD_PYPROJECT = (
    '[build-system]\nrequires = ["x"]\nbuild-backend = "rawbuild"\n'
    '[project]\nname = "abitest-sysconfig-c-api"\nrequires-python = ">=3.8"\n'
)
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
    links: dict[str, str] = field(default_factory=dict)  # relative path: symlink target ({root} filled in)


ROWS = [
    # --- matrix.toml: top level -------------------------------------------------------------------------
    Bad(
        "timeout-negative",
        ("{matrix}: timeout: expected a number of seconds above 0 and at most 86400 (a day), got -1",),
        top="timeout = -1",
    ),
    Bad(
        "timeout-zero",
        ("{matrix}: timeout: expected a number of seconds above 0 and at most 86400 (a day), got 0",),
        top="timeout = 0",
    ),
    Bad(
        "timeout-bool",
        ("{matrix}: timeout: expected a number of seconds above 0 and at most 86400 (a day), got True",),
        top="timeout = true",
    ),
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
    # --- hostile and meaningless values (issue 17): run flags -------------------------------------------------
    Bad("timeout-flag-inf", ("--timeout inf: expected seconds above 0 and at most 86400",), argv=("--timeout", "inf")),
    Bad("timeout-flag-huge", ("--timeout 1e+23: expected seconds above 0",), argv=("--timeout", "1e23")),
    Bad("timeout-flag-nan", ("argument --timeout: must be above 0, got nan",), argv=("--timeout", "nan")),
    Bad("jobs-huge", ("--jobs 100000: expected 1 to 1024",), argv=("--jobs", "100000")),
    Bad("cache-dir-empty", ("argument --cache-dir: empty; give a path",), argv=("--cache-dir", "")),
    Bad("results-empty", ("argument --results: empty; give a path",), argv=("--results", "")),
    Bad("matrix-empty", ("argument --matrix: empty; give a path",), argv=("--matrix", "")),
    Bad("weights-without-shard", ("--weights: only with --shard K/N",), argv=("--weights", "{root}/extensions")),
    Bad(
        "weights-missing",
        ("--weights {root}/nope: no such directory",),
        argv=("--shard", "1/2", "--weights", "{root}/nope"),
    ),
    Bad(
        "weights-not-a-run",
        ("--weights {root}/extensions: no results.jsonl there",),
        argv=("--shard", "1/2", "--weights", "{root}/extensions"),
    ),
    Bad(
        "shard-huge",
        ("--shard '1/100000000000': expected K/N with 1 <= K <= N <= 10000",),
        argv=("--shard", "1/100000000000"),
    ),
    Bad("shard-zero", ("--shard '0/3': expected K/N",), argv=("--shard", "0/3")),
    Bad("shard-past", ("--shard '4/3': expected K/N",), argv=("--shard", "4/3")),
    Bad("shard-no-count", ("--shard '1/0': expected K/N",), argv=("--shard", "1/0")),
    Bad("shard-text", ("--shard 'a/b': expected K/N",), argv=("--shard", "a/b")),
    Bad("shard-negative", ("--shard '-1/3': expected K/N",), argv=("--shard=-1/3",)),
    Bad(
        "flags-all-together",
        ("--timeout inf:", "--jobs 5000:", "--shard 'x':"),
        argv=("--timeout", "inf", "--jobs", "5000", "--shard", "x"),
    ),
    Bad(
        "resume-other-results",
        ("--results {root}/other with --resume {root}/results/r: a resumed run stays",),
        files={"results/r/results.jsonl": "", "results/r/environment.json": '{"run_id": "r", "argv": ["run"]}'},
        argv=("--resume", "{root}/results/r", "--results", "{root}/other"),
    ),
    Bad(
        "resume-hostile-run-id",
        ("{root}/results/r/environment.json", "run_id"),
        files={
            "results/r/results.jsonl": "",
            "results/r/environment.json": '{"run_id": "x/../../../victim", "argv": ["run"]}',
        },
        argv=("--resume", "{root}/results/r", "--rerun"),
        code=3,
    ),
    Bad(
        "resume-run-id-colon",
        ("{root}/results/r/environment.json", "run_id"),
        files={"results/r/results.jsonl": "", "results/r/environment.json": '{"run_id": "a:b", "argv": ["run"]}'},
        argv=("--resume", "{root}/results/r"),
        code=3,
    ),
    Bad("resume-file", ("--resume {root}/matrix.toml: is a file",), argv=("--resume", "{root}/matrix.toml")),
    Bad("resume-missing", ("--resume {root}/nope: no such directory",), argv=("--resume", "{root}/nope")),
    Bad(
        "resume-results-symlink-out",
        ("leads outside",),
        files={
            "results/r/environment.json": '{"run_id": "r", "argv": ["run", "--matrix", "{root}/matrix.toml"]}',
            "victim/results.jsonl": "",
        },
        links={"results/r/results.jsonl": "{root}/victim/results.jsonl"},
        argv=("--resume", "{root}/results/r"),
        code=1,
    ),
    # --- matrix.toml: meaning as well as type ---------------------------------------------------------------
    Bad(
        "interpreter-prints-empty-object",
        ("interpreter '{root}/bin/empty-json' does not run as Python", "missing required field implementation"),
        tail='[[interpreters]]\npath = "{root}/bin/empty-json"\n',
    ),
    Bad("installers-empty", ("{matrix}: installers: empty",), top="installers = []"),
    Bad("installers-not-strings", ("{matrix}: installers[0]: unknown value 5",), top="installers = [5]"),
    Bad(
        "timeout-inf",
        ("{matrix}: timeout: expected a number of seconds above 0 and at most 86400",),
        top="timeout = inf",
    ),
    Bad(
        "timeout-huge",
        ("{matrix}: timeout: expected a number of seconds above 0 and at most 86400",),
        top="timeout = 1e23",
    ),
    Bad("timeout-nan", ("{matrix}: timeout: expected a number of seconds",), top="timeout = nan"),
    Bad("build-timeout-inf", ("{matrix}: build_timeout: expected a number of seconds",), top="build_timeout = inf"),
    Bad("build-timeout-week", ("{matrix}: build_timeout:",), top="build_timeout = 604800"),
    Bad("cases-dir-empty", ("{matrix}: cases_dir: empty",), top='cases_dir = ""'),
    Bad(
        "sources-nested-list",
        ("{matrix}: discovery.sources[0]: unknown value ['pyenv']",),
        discovery='[discovery]\nsources = [["pyenv"]]\n',
    ),
    Bad("sources-int", ("{matrix}: discovery.sources[0]: unknown value 5",), discovery="[discovery]\nsources = [5]\n"),
    Bad(
        "interpreters-same-path",
        ("{matrix}: interpreters[1].path: '{root}/bin/py312' is already interpreters[0]",),
        interpreters='[[interpreters]]\npath = "{root}/bin/py312"\n[[interpreters]]\npath = "{root}/bin/py312"\n',
    ),
    Bad(
        "interpreters-same-path-spelled-twice",
        ("{matrix}: interpreters[1].path:", "is already interpreters[0]"),
        interpreters='[[interpreters]]\npath = "{root}/bin/py312"\n'
        '[[interpreters]]\npath = "{root}/bin/../bin/py312"\n',
    ),
    *[
        Bad(
            f"interpreter-id-{name}",
            ("{matrix}: interpreters[0].id: not an id",),
            interpreters=f'[[interpreters]]\npath = "{{root}}/bin/py312"\nid = "{bad}"\n',
        )
        for name, bad in (
            ("colon", "a:b"),
            ("slash", "a/b"),
            ("dotdot", ".."),
            ("dot-first", ".x"),
            ("dash-first", "-x"),
            ("space", "a b"),
            ("semicolon", "a;b"),
            ("long", "x" * 200),
        )
    ],
    *[
        Bad(
            f"target-name-{name}",
            ("{matrix}: targets.", "not a target name"),
            tail=f'[targets."{bad}"]\nkind = "version-specific"\n',
        )
        for name, bad in (
            ("colon", "vs:x"),
            ("slash", "vs/x"),
            ("dotdot", "vs..x"),
            ("space", "vs x"),
            ("dash-first", "-vs"),
            ("backslash", "vs\\\\x"),
        )
    ],
    Bad(
        "min-python-abi3-2.7",
        ("{matrix}: targets.abi3-old.min_python: '2.7': abi3 exists from Python 3.2 on",),
        tail='[targets.abi3-old]\nkind = "abi3"\nmin_python = "2.7"\n',
    ),
    Bad(
        "min-python-abi3-3.1",
        ("{matrix}: targets.abi3-old.min_python: '3.1': abi3 exists from Python 3.2 on",),
        tail='[targets.abi3-old]\nkind = "abi3"\nmin_python = "3.1"\n',
    ),
    Bad(
        "min-python-abi3t-3.9",
        ("{matrix}: targets.abi3t.min_python: '3.9': abi3t exists from Python 3.15 on",),
        tail='[targets.abi3t]\nmin_python = "3.9"\n',
    ),
    Bad(
        "min-python-abi3-abi3t-3.14",
        ("targets.both.min_python: '3.14': abi3.abi3t exists from Python 3.15 on",),
        tail='[targets.both]\nkind = "abi3.abi3t"\nmin_python = "3.14"\n',
    ),
    *[
        Bad(
            f"known-issue-link-{name}",
            ("{matrix}: known_issue[0].link: required: the upstream issue's http(s) URL",),
            tail=f'[[known_issue]]\ncase = "*"\nlink = "{link}"\n',
        )
        for name, link in (
            ("scheme-only", "https://"),
            ("http-only", "http://"),
            ("no-host", "https:///x"),
            ("javascript", "javascript:alert(1)"),
            ("data", "data:text/html,x"),
            ("ftp", "ftp://x.org/1"),
            ("space", "https://x.org/a b"),
            ("relative", "//x.org/1"),
            ("empty", ""),
        )
    ],
    # --- case.toml and the case's project ----------------------------------------------------------------------
    *[
        Bad(
            f"case-env-key-{name}",
            ("{case}: targets.abi3.env.", "not an environment variable name"),
            files={f"{CASE}/case.toml": f'description = "d"\n[targets.abi3]\nenv = {{ "{key}" = "1" }}\n'},
        )
        for name, key in (("equals", "A=B"), ("empty", ""), ("digit-first", "1A"), ("space", "A B"), ("dash", "A-B"))
    ],
    *[
        Bad(
            f"case-dir-{name}",
            (f"case directory {part!r} is not a name",),
            files={f"extensions/{path}/case.toml": GOOD_CASE_TOML, f"extensions/{path}/pyproject.toml": GOOD_PYPROJECT},
        )
        for name, path, part in (
            ("semicolon", "sysconfig/a;b", "a;b"),
            ("colon", "sysconfig/a:b", "a:b"),
            ("space", "sysconfig/a b", "a b"),
            ("backend-colon", "sys:config/x", "sys:config"),
        )
    ],
    Bad(
        "pyproject-no-build-system",
        ("pyproject.toml: [build-system] missing",),
        files={f"{CASE}/pyproject.toml": '[project]\nname = "abitest-sysconfig-c-api"\n'},
    ),
    Bad(
        "pyproject-build-system-not-table",
        ("pyproject.toml: [build-system] missing (or not a table)",),
        files={f"{CASE}/pyproject.toml": 'build-system = 5\n[project]\nname = "abitest-sysconfig-c-api"\n'},
    ),
    Bad(
        "pyproject-requires-string",
        ("pyproject.toml: [build-system] requires: expected a list of requirement strings",),
        files={f"{CASE}/pyproject.toml": GOOD_PYPROJECT.replace('["x"]', '"x"')},
    ),
    Bad(
        "pyproject-requires-int",
        ("[build-system] requires: expected a list of requirement strings, got [1]",),
        files={f"{CASE}/pyproject.toml": GOOD_PYPROJECT.replace('["x"]', "[1]")},
    ),
    Bad(
        "pyproject-requires-missing",
        ("[build-system] requires: expected a list of requirement strings, got None",),
        files={f"{CASE}/pyproject.toml": GOOD_PYPROJECT.replace('requires = ["x"]\n', "")},
    ),
    Bad(
        "pyproject-backend-typo",
        ("[build-system] build-backend is 'rawbiuld'; expected 'rawbuild', the backend of sysconfig/",),
        files={f"{CASE}/pyproject.toml": GOOD_PYPROJECT.replace('"rawbuild"', '"rawbiuld"')},
    ),
    Bad(
        "pyproject-backend-other",
        ("build-backend is 'setuptools.build_meta'; expected 'rawbuild'",),
        files={f"{CASE}/pyproject.toml": GOOD_PYPROJECT.replace('"rawbuild"', '"setuptools.build_meta"')},
    ),
    Bad(
        "pyproject-backend-missing",
        ("[build-system] build-backend is None",),
        files={f"{CASE}/pyproject.toml": GOOD_PYPROJECT.replace('build-backend = "rawbuild"\n', "")},
    ),
    Bad(
        "pyproject-malformed", ("pyproject.toml: malformed TOML",), files={f"{CASE}/pyproject.toml": "[build-system\n"}
    ),
    Bad(
        "case-toml-symlink-loop",
        ("{case}: a symlink that resolves to no file (a loop",),
        files={f"{CASE}/case.toml": None},
        links={f"{CASE}/case.toml": "{root}/" + CASE + "/case.toml"},
        never=("no case.toml",),
    ),
    Bad(
        "case-toml-symlink-dangling",
        ("{case}: a symlink that resolves to no file",),
        files={f"{CASE}/case.toml": None},
        links={f"{CASE}/case.toml": "{root}/nowhere.toml"},
        never=("no case.toml",),
    ),
    Bad(
        "case-toml-directory",
        ("{case}: is a directory",),
        files={f"{CASE}/case.toml": None},
        links={f"{CASE}/case.toml": "{root}/extensions"},
    ),
    Bad(
        "case-unsupported-and-target",
        ("{case}: unsupported.abi3: also declared in [targets.abi3]",),
        files={f"{CASE}/case.toml": GOOD_CASE_TOML + '[unsupported]\nabi3 = "no"\n'},
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
        "bin/empty-json": "#!/bin/sh\necho '{}'\n",
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
    for rel, target in row.links.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).unlink(missing_ok=True)
        (tmp_path / rel).symlink_to(_fill(target, tmp_path))


@pytest.fixture
def recorded_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """bin/py312 and bin/py313 answer with recorded facts; anything else is really probed."""
    real = interpreters.probe

    def probe(path: str, cache: Path, root: str = "") -> interpreters.ProbeFacts:
        name = Path(path).name
        if name in ("py312", "py313"):
            return msgspec.convert(_facts("cp" + name[2:]), interpreters.ProbeFacts)
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
    victim = sentinel(tmp_path)
    before = snapshot(tmp_path)
    argv = [row.command, "--matrix", str(tmp_path / "matrix.toml"), "--cache-dir", str(tmp_path / "cache")]
    if row.command == "run" and "--resume" not in row.argv:
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
    assert victim.is_dir()
    after = snapshot(tmp_path)
    if code in (2, 3):  # refused: nothing written but the cache (discovery's probe library)
        assert {k: v for k, v in after.items() if not k.startswith("cache")} == {
            k: v for k, v in before.items() if not k.startswith("cache")
        }
    assert {k: v for k, v in after.items() if k.startswith("victim")} == {
        k: v for k, v in before.items() if k.startswith("victim")
    }


def test_suite_covers_enough() -> None:
    assert len(ROWS) >= 150
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


@pytest.mark.usefixtures("recorded_probe")
def test_min_version_excluding_every_interpreter_names_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """discovery.min_version = "3.99": the message names the key, not just "discovery found none"."""
    _project(
        tmp_path, Bad("x", (), discovery='[discovery]\nsources = ["path"]\nmin_version = "3.99"\n', interpreters="")
    )
    (tmp_path / "path").mkdir()
    (tmp_path / "path" / "python3").symlink_to(tmp_path / "bin" / "py312")
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    real = interpreters.probe
    monkeypatch.setattr(
        interpreters, "probe", lambda path, cache, root="": real(str(Path(path).resolve()), cache, root)
    )
    monkeypatch.setattr(run_workflow, "run_plan", lambda *a, **k: pytest.fail("reached the build"))
    code = run_main(["run", "--matrix", str(tmp_path / "matrix.toml"), "--cache-dir", str(tmp_path / "cache")])
    err = capsys.readouterr().err
    assert f"{tmp_path / 'matrix.toml'}: discovery.min_version: '3.99' excludes every interpreter found (cp312)" in err
    assert code == 2
