"""Rows gathered in memory and written later, undone per item of a batch (adapters/db/batch.py)."""

from __future__ import annotations

from typing import Any


class Buffer:
    """Rows kept per item: `mark()` at an item's start, `undo()` drops that item's rows."""

    def __init__(self) -> None:
        self.rows: list[Any] = []
        self._mark = 0

    def mark(self) -> None:
        self._mark = len(self.rows)

    def undo(self) -> None:
        del self.rows[self._mark :]

    def take(self) -> list[Any]:
        rows, self.rows, self._mark = self.rows, [], 0
        return rows
