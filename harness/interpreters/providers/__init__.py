"""Every interpreter provider, one module each, listed once. Callers iterate REGISTRY; none names a provider.

Adding one: a module with a class implementing base.InterpreterProvider (and base.Provisioner if it
can install interpreters), and its line below. Order is preference: when two paths are one
installation, the earlier provider's path is kept, and it gets the bare id (cp313, not cp313-debian).
"""

from __future__ import annotations

from typing import Final

from harness.config.matrix import ProviderNames
from harness.interpreters.providers import debian, explicit, local, path, pyenv, uv
from harness.interpreters.providers.base import Candidate, Context, InterpreterProvider, Provisioner, Say

REGISTRY: Final[dict[str, InterpreterProvider]] = {
    p.name: p
    for p in (
        explicit.PROVIDER,
        pyenv.PROVIDER,
        uv.PROVIDER,
        debian.PROVIDER,
        path.PROVIDER,
        local.PROVIDER,
    )
}

__all__ = [
    "REGISTRY",
    "Candidate",
    "Context",
    "InterpreterProvider",
    "Provisioner",
    "Say",
    "get",
    "names",
    "provisioners",
    "rank",
    "source_names",
]


def get(name: str) -> InterpreterProvider:
    return REGISTRY[name]


def rank(name: str) -> int:
    """The provider's preference (0 is best); a name no longer registered (an old record) comes last."""
    names = list(REGISTRY)
    return names.index(name) if name in names else len(names)


def source_names() -> list[str]:
    """What `[discovery] sources` and `[build] providers` may name."""
    return [name for name, p in REGISTRY.items() if p.source]


def names() -> ProviderNames:
    """What config may name: every registered provider, and those `[discovery] sources` may select."""
    return ProviderNames(known=tuple(REGISTRY), sources=tuple(source_names()))


def provisioners() -> dict[str, Provisioner]:
    """The providers `python -m harness provision` can run, in registry order."""
    return {name: p for name, p in REGISTRY.items() if isinstance(p, Provisioner)}
