"""API keys for network equipment (api.md "API keys"): what a valid key request is, and its audit lines.

A key is a credential a softswitch or RADIUS server holds for years: it never
expires, it reads its account's subtree within its scopes, and creating or
revoking one is recorded on the owning account's trail.
"""

from __future__ import annotations

from collections.abc import Iterable

from tenure.domain.access import Scope
from tenure.domain.errors import ValidationFailed
from tenure.domain.events import Action, Event, JSONValue

KEY_PREFIX = "tnk_"
NAME_MAX = 100


def check_name(name: str) -> str:
    """1 to 100 printable characters, trimmed: it is what an operator recognises the key by."""
    cleaned = name.strip()
    if not cleaned or len(cleaned) > NAME_MAX or not cleaned.isprintable():
        raise ValidationFailed(f"name must be 1 to {NAME_MAX} printable characters", field="name")
    return cleaned


def check_scopes(scopes: Iterable[str]) -> frozenset[Scope]:
    """At least one scope, each one of `Scope`; repeats collapse."""
    chosen = list(scopes)
    known = {scope.value for scope in Scope}
    if not chosen or any(scope not in known for scope in chosen):
        raise ValidationFailed(f"scopes must be a non-empty list of: {', '.join(sorted(known))}", field="scopes")
    return frozenset(Scope(scope) for scope in chosen)


def looks_like_key(credential: str) -> bool:
    """A bearer credential that is an API key rather than a sign-in token."""
    return credential.startswith(KEY_PREFIX)


def key_created(account_id: str, key_id: str, name: str, scopes: frozenset[Scope]) -> Event:
    granted: list[JSONValue] = [scope.value for scope in sorted(scopes)]
    return Event(account_id, Action.API_KEY_CREATED, after={"id": key_id, "name": name, "scopes": granted}, reason=name)


def key_revoked(account_id: str, key_id: str, name: str) -> Event:
    return Event(account_id, Action.API_KEY_REVOKED, before={"id": key_id, "name": name}, reason=name)
