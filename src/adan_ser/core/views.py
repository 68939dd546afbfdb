"""Read-only views of a registry, current at every read (an entry registered later shows up)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Callable

__all__ = ["LiveMapping", "LiveSequence"]


class LiveMapping(Mapping):
    """The mapping ``items()`` returns now.

    Examples
    --------
    >>> table = {"a": 1}
    >>> view = LiveMapping(lambda: dict(table))
    >>> table["b"] = 2
    >>> sorted(view)
    ['a', 'b']
    """

    def __init__(self, items: Callable[[], dict]):
        self._items = items

    def __getitem__(self, name):
        return self._items()[name]

    def __iter__(self):
        return iter(self._items())

    def __len__(self):
        return len(self._items())

    def __repr__(self):
        return repr(self._items())


class LiveSequence(Sequence):
    """The tuple ``items()`` returns now."""

    def __init__(self, items: Callable[[], tuple]):
        self._items = items

    def __getitem__(self, i):
        return self._items()[i]

    def __len__(self):
        return len(self._items())

    def __repr__(self):
        return repr(self._items())
