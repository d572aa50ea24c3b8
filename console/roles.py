"""Who may do what in the console (pure).

- **administrator** (``admin``): everything — every school, users and their passwords, backups;
- **deputy director** (``deputy``): their schools' pages; decides conflicts, holds and identity
  reviews, closes and reopens periods, comments on decisions; never users, configuration or
  credentials;
- **director** (``director``): their schools' pages, read only.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from store.console import User


class Role(StrEnum):
    ADMIN = "admin"
    DEPUTY = "deputy"
    DIRECTOR = "director"


ROLE_TITLES = {
    Role.ADMIN: "администратор",
    Role.DEPUTY: "заместитель директора",
    Role.DIRECTOR: "директор",
}


class Action(StrEnum):
    VIEW = "view"  # a school's pages
    DECIDE = "decide"  # conflicts, holds, identity reviews, periods
    ADMINISTER = "administer"  # users, passwords, backups, every school


ALLOWED: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.DEPUTY: frozenset({Action.VIEW, Action.DECIDE}),
    Role.DIRECTOR: frozenset({Action.VIEW}),
}


def may(user: User, action: Action) -> bool:
    return action in ALLOWED.get(Role(user.role), frozenset())


def scope(user: User) -> Sequence[str] | None:
    """The schools the user sees: ``None`` for every school (an administrator)."""
    return None if user.role == Role.ADMIN else tuple(user.schools)


def sees(user: User, school_id: str) -> bool:
    schools = scope(user)
    return schools is None or school_id in schools
