"""One registry each for models, checks and modalities, so names are resolved in a single place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from synthgen.errors import SynthgenError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps snake_case names to classes; unknown or duplicate names fail loudly."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(entry: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = entry
            return entry

        return add

    def unregister(self, name: str) -> None:
        """Remove an entry (a test's own toy modality, say); unknown names fail."""
        self.get(name)
        del self._entries[name]

    def get(self, name: str) -> T:
        if name not in self._entries:
            known = ", ".join(sorted(self._entries)) or "none"
            raise SynthgenError(f"unknown {self.kind} {name!r}; choose one of: {known}")
        return self._entries[name]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries


MODELS: Registry = Registry("model")
CHECKS: Registry = Registry("check")
MODALITIES: Registry = Registry("modality")
