"""Free text typed by people (names, contact names, notes, labels): no control characters.

The one rule for every such field, whatever the door it came in by (API,
console, CSV import): C0 and C1 control characters, CR, LF and NUL among
them, are refused, because a line break in a name can forge an email header
or a CSV row, and a NUL cannot be stored by PostgreSQL at all. Notes may hold
a tab, nothing else. The API's schemas, the domain rules and the importers all
call these functions, so the rule and its wording live here only.
"""

from __future__ import annotations

import re

from tenure.domain.errors import ValidationFailed

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_TAB = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
# The same sets for JSON Schema (`pattern`), so generated clients and fuzzers know the rule.
LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
NOTE_PATTERN = r"^[^\x00-\x08\x0a-\x1f\x7f-\x9f]*$"


def control_character_problem(value: str, *, tab_allowed: bool = False) -> str | None:
    """Why `value` is refused (naming the first control character), or None when it is clean."""
    found = (_CONTROL_BUT_TAB if tab_allowed else _CONTROL).search(value)
    if found is None:
        return None
    allowed = " (a tab is allowed)" if tab_allowed else ""
    return f"must not contain control characters such as line breaks or NUL; found U+{ord(found.group()):04X}{allowed}"


def check_line(value: str, field: str) -> str:
    """A one-line value (a name, a contact name, a label): no control character at all."""
    problem = control_character_problem(value)
    if problem:
        raise ValidationFailed(f"{field} {problem}", field=field)
    return value


def check_note(value: str, field: str = "notes") -> str:
    """A note: no control character except a tab."""
    problem = control_character_problem(value, tab_allowed=True)
    if problem:
        raise ValidationFailed(f"{field} {problem}", field=field)
    return value


def has_nul(value: str) -> bool:
    return "\x00" in value


def one_line(value: str) -> str:
    """`value` with every control character made a space: for a header or a log line built from stored text.

    Text stored before the rule above (or by a bug) must still never add a
    header to an email, so whatever builds a header passes it through here.
    """
    return _CONTROL.sub(" ", value)


# -- CSV cells ---------------------------------------------------------------
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def spreadsheet_safe(cell: str) -> str:
    """A text cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) gets a leading `'`.

    Every text cell of every CSV Tenure writes goes through here. A plain number
    (an E.164 phone number such as +442079460000) is not a formula and stays as it is.
    """
    if cell.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def from_spreadsheet(cell: str) -> str:
    """Undo `spreadsheet_safe`, so an exported file imports back unchanged."""
    if cell.startswith("'") and cell[1:].startswith(_FORMULA_START):
        return cell[1:]
    return cell
