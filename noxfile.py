"""Thin sessions: each calls one harness entry point. Logic lives in harness/."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_venv = "yes"
nox.needs_version = ">=2024.3.2"


@nox.session
def matrix(session: nox.Session) -> None:
    """Provision missing interpreters where possible, then build every case for every target and run it on
    every interpreter (args go to `run`: `--shard K/N`, `--no-provision`, ...)."""
    session.install("-e", ".")
    session.run("python", "-m", "harness", "run", "--provision", *session.posargs)


@nox.session
def provision(session: nox.Session) -> None:
    """Install interpreters into the cache: a Debian rootfs (3.13-3.15, debug, PyPy) and uv builds."""
    session.install("-e", ".")
    session.run("python", "-m", "harness", "provision", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Unit tests, then integration tests that build and run real wheels (pytest args pass through)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def unit(session: nox.Session) -> None:
    """Unit tests alone (pure logic over recorded facts: seconds, no build, no interpreter started)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "tests/unit", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint + format check), mypy --strict and actionlint on the workflows."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    session.run("actionlint", ".github/workflows/ci.yml", ".github/workflows/nightly.yml")


@nox.session
def benchmark(session: nox.Session) -> None:
    """Cold, warm and --rerun runs and a gate of the newest release on a fixed subset, a cell against a bare
    import and against the stable-abi-testing method, each target as a ratio; `-- --full` for the whole
    matrix (measures, asserts nothing)."""
    session.install("-e", ".")
    session.run("python", "benchmarks/run_bench.py", *session.posargs)


@nox.session
def decode_benchmark(session: nox.Session) -> None:
    """Decode speed of a results.jsonl (default results/latest): the typed schema against the decoder it
    replaced, side by side (args: files, `--repeat N`; measures, asserts nothing)."""
    session.install("-e", ".")
    session.run("python", "benchmarks/decode_bench.py", *session.posargs)


@nox.session
def preference(session: nox.Session) -> None:
    """Which wheel pip and uv pick when several fit, in three listing orders (args go to `preference`)."""
    session.install("-e", ".")
    session.run("python", "-m", "harness", "preference", *session.posargs)


@nox.session
def nightly(session: nox.Session) -> None:
    """The nightly workflow: `-- --shards 3` rehearses it here (shard runs, merge, diff, reports); the
    workflow's merge job runs `-- --merge DIR... --out DIR [--baseline RUN]`. Exit 1 on regressions."""
    session.install("-e", ".")
    session.run("python", "-m", "harness", "nightly", *session.posargs)


@nox.session
def gate(session: nox.Session) -> None:
    """Does a new interpreter build keep every promise of the release before it? (args go to `gate`:
    `-- --python ID|PATH [--baseline ID] [--json]`; exit 1 when a promise is broken)."""
    session.install("-e", ".")
    session.run("python", "-m", "harness", "gate", *session.posargs)


@nox.session
def cpython_checkout(session: nox.Session) -> None:
    """CPython 3.13.15 built as a core developer builds it, uninstalled (from Debian's source tarball, its
    sha256 checked: `./configure && make` in the tree, `--disable-gil` out of tree in build-ft/), then
    `gate --python` each build tree (args go to the build: `--dest DIR`, `-j N`, `--no-free-threaded`)."""
    session.install("-e", ".")
    built = session.run("python", "-m", "harness.interpreters.checkout", *session.posargs, silent=True)
    for python in str(built).split():
        session.run("python", "-m", "harness", "gate", "--python", python)


@nox.session
def check(session: nox.Session) -> None:
    """The matrix's stages on real wheels: corpus.toml's pinned PyPI releases on every interpreter found
    (args go to `check`: more TARGETs, `--python`, `--shard K/N`, `--results DIR`, ...)."""
    session.install("-e", ".")
    session.run("python", "-m", "harness", "check", "--corpus", "corpus.toml", *session.posargs)
