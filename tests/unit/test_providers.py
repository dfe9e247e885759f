"""The provider registry: each module implements the Protocol, callers see only registry names."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config.matrix import load_matrix
from harness.errors import ConfigError
from harness.interpreters import providers, provision
from harness.interpreters.providers import Candidate, Context, local
from harness.model import Provider
from tests.conftest import FIXTURES

GOOD = '[discovery]\nsources = ["{source}"]\n[targets.abi3]\nmin_python = "3.9"\n'


class Fake:
    """A provider in a few lines: what a new module under harness/interpreters/providers/ looks like."""

    name = Provider("fake")
    source = True
    required = False

    def candidates(self, ctx: Context) -> list[Candidate]:
        return [Candidate("/opt/fake/bin/python3", self.name)]

    def note_when_empty(self, ctx: Context) -> str:
        return ""


def test_every_module_implements_the_protocol_under_its_key() -> None:
    for name, provider in providers.REGISTRY.items():
        assert isinstance(provider, providers.InterpreterProvider), name
        assert provider.name == name
    assert list(providers.provisioners()) == ["uv", "debian"]


def test_explicit_is_not_a_discovery_source() -> None:
    assert "explicit" in providers.REGISTRY
    assert "explicit" not in providers.source_names()
    assert {"pyenv", "uv", "debian", "path", "local"} <= set(providers.source_names())


def test_rank_is_registry_order_and_unknown_names_come_last() -> None:
    assert providers.rank(Provider("explicit")) == 0
    assert providers.rank(Provider("pyenv")) < providers.rank(Provider("debian")) < providers.rank(Provider("path"))
    assert providers.rank(Provider("gone")) == len(providers.REGISTRY)  # an old record's provider still loads
    assert Provider("uv").value == "uv"


def test_config_hints_list_registry_names(tmp_path: Path) -> None:
    path = tmp_path / "matrix.toml"
    path.write_text(GOOD.format(source="explicit"))
    with pytest.raises(ConfigError, match=r"discovery.sources\[0\]: explicit interpreters go in \[\[interpreters\]\]"):
        load_matrix(path, providers.names())
    path.write_text(GOOD.format(source="locall"))
    with pytest.raises(ConfigError, match="did you mean 'local'"):
        load_matrix(path, providers.names())


def test_a_new_provider_is_one_registry_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "matrix.toml"
    path.write_text(GOOD.format(source="fake"))
    with pytest.raises(ConfigError, match="unknown value 'fake'"):
        load_matrix(path, providers.names())
    monkeypatch.setitem(providers.REGISTRY, "fake", Fake())
    assert load_matrix(path, providers.names()).sources == ("fake",)
    assert providers.rank(Provider("fake")) == len(providers.REGISTRY) - 1


def test_unknown_provision_provider_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="did you mean 'debian'"):
        provision.choose(["debain"])
    assert [p.name for p in provision.choose([])] == ["uv", "debian"]


def test_local_finds_builds_in_a_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABI_HARNESS_CPYTHON_SRC", str(tmp_path))
    ctx = Context(tmp_path / "cache")
    assert local.PROVIDER.candidates(ctx) == []
    assert "build*/python" in local.PROVIDER.note_when_empty(ctx)
    for build in ("build-debug", "build-ft"):
        exe = tmp_path / build / "python"
        exe.parent.mkdir()
        exe.write_text("")
        exe.chmod(0o755)
    (tmp_path / "Doc").mkdir()
    found = local.PROVIDER.candidates(ctx)
    assert [(c.path, c.provider) for c in found] == [
        (str(tmp_path / "build-debug" / "python"), "local"),
        (str(tmp_path / "build-ft" / "python"), "local"),
    ]


def test_debian_says_how_to_provision_when_empty(tmp_path: Path) -> None:
    ctx = Context(tmp_path)
    debian = providers.get("debian")
    assert debian.candidates(ctx) == []
    assert "nox -s provision" in debian.note_when_empty(ctx)
    ready = tmp_path / "debian" / "unstable" / "ready.json"
    ready.parent.mkdir(parents=True)
    ready.write_text((FIXTURES / "provision" / "debian-unstable-ready.json").read_text())  # recorded
    cand = next(c for c in debian.candidates(ctx) if c.path == "/usr/bin/python3.15")
    assert cand.host_path == str(tmp_path / "debian" / "unstable" / "root" / "usr" / "bin" / "python3.15")
