"""First-time matching of people across systems (DESIGN decision 5). Pure.

A pupil or teacher seen for the first time from a system is compared with the people the store
already holds (who have no id in that system yet) by normalised ФИО (ё/е, case, spaces, hyphens)
+ birth date, + СНИЛС when both sides have one:

- exactly one candidate matches → ``link`` to it;
- none matches and nobody is close → ``create`` a new person;
- more than one matches, or someone is close (same name but another birth date, same birth date
  and surname with another first name or patronymic, same СНИЛС under another name) → ``review``:
  a person decides; the gateway never merges on a guess.

Reasons name no one: they say what differs, never the values.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from core.names import normalise_name
from mapping.model import Pupil, Teacher

Person = Pupil | Teacher


@dataclass(frozen=True, slots=True)
class PersonKey:
    last: str
    first: str
    middle: str  # "" when there is no patronymic
    birth_date: dt.date | None
    snils: str | None

    @property
    def full(self) -> tuple[str, str, str]:
        return (self.last, self.first, self.middle)


def person_key(p: Person) -> PersonKey:
    return PersonKey(
        last=normalise_name(p.last_name),
        first=normalise_name(p.first_name),
        middle=normalise_name(p.middle_name or ""),
        birth_date=p.birth_date if isinstance(p, Pupil) else None,
        snils=p.snils if isinstance(p, Pupil) else None,
    )


@dataclass(frozen=True, slots=True)
class Match:
    kind: Literal["link", "create", "review"]
    gid: str | None = None
    candidates: tuple[str, ...] = ()
    reason: str = ""


class PeopleIndex:
    """The store's people of one entity and school, indexed for matching."""

    def __init__(self, people: Iterable[Person]) -> None:
        self._by_surname: dict[str, list[tuple[str, PersonKey]]] = defaultdict(list)
        self._by_snils: dict[str, list[tuple[str, PersonKey]]] = defaultdict(list)
        for p in people:
            self.add(p)

    def add(self, p: Person) -> None:
        key = person_key(p)
        self._by_surname[key.last].append((p.id, key))
        if key.snils:
            self._by_snils[key.snils].append((p.id, key))

    def match(self, incoming: Person) -> Match:
        key = person_key(incoming)
        exact: list[str] = []
        near: dict[str, str] = {}
        for gid, other in self._by_surname.get(key.last, ()):
            verdict = _compare(key, other)
            if verdict == "same":
                exact.append(gid)
            elif verdict:
                near[gid] = verdict
        if key.snils:
            for gid, other in self._by_snils.get(key.snils, ()):
                if gid not in exact and other.full != key.full:
                    near[gid] = "same СНИЛС under another name"
        if len(exact) == 1 and not near:
            return Match("link", exact[0], (exact[0],), "ФИО and birth date match")
        if len(exact) > 1:
            return Match("review", None, tuple(sorted(exact)), f"{len(exact)} people match")
        if near or exact:
            cands = tuple(sorted({*exact, *near}))
            reasons = sorted(set(near.values()))
            return Match("review", None, cands, "; ".join(reasons))
        return Match("create", reason="nobody matches")


def _compare(a: PersonKey, b: PersonKey) -> str:
    """``"same"``, a near-miss reason, or ``""`` (unrelated). Surnames are already equal."""
    if a.snils and b.snils and a.snils != b.snils:
        if a.full == b.full and a.birth_date == b.birth_date:
            return "same ФИО and birth date but another СНИЛС"
        return ""
    same_dob = a.birth_date == b.birth_date
    if a.full == b.full:
        return "same" if same_dob else "same ФИО, another birth date"
    if not same_dob or (a.birth_date is None and a.first != b.first):
        return ""
    if a.first == b.first:
        if not a.middle or not b.middle:
            return "patronymic missing on one side"
        return "another patronymic"
    if a.middle == b.middle:
        return "another first name"
    return ""
