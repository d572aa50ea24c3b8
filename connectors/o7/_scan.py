"""Teachers, subjects and subgroups as О7 shows them: by name, inside other answers (pure).

О7 has no calls for these; they appear as ``class_teacher_fio`` (classes), ``teacher_fio`` /
``replacement_teacher_fio`` / ``discipline`` / ``group_name`` (lessons), ``discipline``
(period marks) and the pupils' ``subgroups`` lists. :class:`NameScan` collects them from answers
fed to it and yields one derived wire record per distinct (normalised) name.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from core.names import normalise_name

WireRecord = dict[str, Any]


@dataclass
class _Group:
    class_id: str
    discipline: str
    group_name: str
    pupils: set[str] = field(default_factory=set)
    teachers: Counter[str] = field(default_factory=Counter)


@dataclass
class NameScan:
    teachers: dict[str, str] = field(default_factory=dict)  # normalised → first spelling
    subjects: dict[str, str] = field(default_factory=dict)
    groups: dict[tuple[str, str, str], _Group] = field(default_factory=dict)

    def _teacher(self, fio: object) -> None:
        if isinstance(fio, str) and fio.strip():
            self.teachers.setdefault(normalise_name(fio), fio)

    def _subject(self, name: object) -> None:
        if isinstance(name, str) and name.strip():
            self.subjects.setdefault(normalise_name(name), name)

    def _group(self, class_id: str, discipline: str, name: str) -> _Group:
        key = (class_id, normalise_name(discipline), normalise_name(name))
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = _Group(class_id, discipline, name)
        return group

    def add_class(self, item: WireRecord) -> None:
        self._teacher(item.get("class_teacher_fio"))

    def add_pupil(self, class_id: str, item: WireRecord) -> None:
        for sub in item.get("subgroups") or []:
            discipline, name = sub.get("discipline"), sub.get("name")
            if isinstance(discipline, str) and isinstance(name, str) and name.strip():
                self._subject(discipline)
                self._group(class_id, discipline, name).pupils.add(str(item.get("pupil_guid")))

    def add_lesson(self, class_id: str, item: WireRecord) -> None:
        self._teacher(item.get("teacher_fio"))
        self._teacher(item.get("replacement_teacher_fio"))
        discipline = item.get("discipline")
        self._subject(discipline)
        group = item.get("group_name")
        if isinstance(group, str) and group.strip() and isinstance(discipline, str):
            fio = item.get("teacher_fio")
            counter = self._group(class_id, discipline, group).teachers
            if isinstance(fio, str) and fio.strip():
                counter[fio] += 1

    def add_total(self, item: WireRecord) -> None:
        self._subject(item.get("discipline"))

    def teacher_records(self) -> list[WireRecord]:
        return [{"fio": fio} for fio in self.teachers.values()]

    def subject_records(self) -> list[WireRecord]:
        return [{"discipline": name} for name in self.subjects.values()]

    def subgroup_records(self) -> list[WireRecord]:
        out = []
        for g in self.groups.values():
            teacher = g.teachers.most_common(1)[0][0] if g.teachers else None
            out.append(
                {
                    "class_id": g.class_id,
                    "discipline": g.discipline,
                    "group_name": g.group_name,
                    "teacher_fio": teacher,
                    "pupil_guids": sorted(g.pupils),
                }
            )
        return out
