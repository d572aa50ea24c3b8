"""Russian words and formats every report shares: entity and field names, kinds of difference,
dates as DD.MM.YYYY and times in the school's time zone. Code and identifiers stay English."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

ENTITY: dict[str, str] = {
    "periods": "Учебные периоды",
    "subjects": "Предметы",
    "teachers": "Учителя",
    "classes": "Классы",
    "pupils": "Ученики",
    "enrolments": "Движение учеников",
    "subgroups": "Подгруппы",
    "lessons": "Уроки",
    "marks": "Текущие отметки",
    "final_marks": "Итоговые отметки",
    "attendance": "Посещаемость",
}

#: one record of an entity, for a row
ENTITY_ONE: dict[str, str] = {
    "periods": "период",
    "subjects": "предмет",
    "teachers": "учитель",
    "classes": "класс",
    "pupils": "ученик",
    "enrolments": "движение",
    "subgroups": "подгруппа",
    "lessons": "урок",
    "marks": "отметка",
    "final_marks": "итоговая отметка",
    "attendance": "посещаемость",
}

FIELD: dict[str, str] = {
    "name": "название",
    "short": "краткое название",
    "kind": "вид",
    "parallels": "параллели",
    "start": "начало",
    "end": "конец",
    "closed": "закрыт",
    "last_name": "фамилия",
    "first_name": "имя",
    "middle_name": "отчество",
    "birth_date": "дата рождения",
    "snils": "СНИЛС",
    "class_id": "класс",
    "status": "статус",
    "left_date": "дата выбытия",
    "parallel": "параллель",
    "year": "учебный год",
    "class_teacher_id": "классный руководитель",
    "subject_id": "предмет",
    "teacher_id": "учитель",
    "substitute_teacher_id": "замена",
    "subgroup_id": "подгруппа",
    "member_ids": "состав",
    "date": "дата",
    "number": "номер урока",
    "topic": "тема",
    "homework": "домашнее задание",
    "pupil_id": "ученик",
    "lesson_id": "урок",
    "value": "значение",
    "work_type": "вид работы",
    "weight": "вес",
    "period_id": "период",
    "code": "код",
    "from_class_id": "из класса",
    "to_class_id": "в класс",
}

#: kinds of difference and report sections
SECTION: dict[str, str] = {
    "different": "Расходятся по полям",
    "only_store": "Есть только в шлюзе",
    "only_system": "Есть только в системе",
    "unreadable": "Не прочитаны из системы",
    "pending": "Уже в пути (расхождение устраняется)",
}

KIND_SHORT: dict[str, str] = {
    "different": "расходится",
    "only_store": "только в шлюзе",
    "only_system": "только в системе",
    "unreadable": "не прочитано",
}

PENDING: dict[str, str] = {
    "outbox": "в очереди на отправку",
    "conflict": "конфликт ждёт решения",
    "waiting": "ждёт связанной записи",
    "review": "ждёт проверки личности",
    "hold": "загрузка задержана до решения",
}

#: what an outbox item or a queue row is doing, for the "already on its way" column
PENDING_DETAIL: dict[str, str] = {
    "upsert": "изменение",
    "delete": "удаление",
    "pending": "ждёт отправки",
    "sending": "отправляется",
    "sent": "отправлено, ждёт ответа",
    "both_changed": "изменено и в шлюзе, и в системе",
    "closed_period": "период закрыт",
    "waiting_reference": "ждёт связанной записи",
    "grade1_mark": "отметка в 1 классе",
    "outside_enrolment": "ученик не числится в классе",
}

SYSTEM: dict[str, str] = {
    "es2": "«Электронная школа 2.0»",
    "asiou": "АСИОУ",
    "o7": "«О7.Образование»",
    "local": "журнал шлюза",
}

ATTENDANCE: dict[str, str] = {
    "Б": "болезнь",
    "У": "уважительная причина",
    "Н": "без уважительной причины",
    "О": "опоздание",
}

FINAL_KIND: dict[str, str] = {
    "period": "за период",
    "year": "годовая",
    "exam": "экзаменационная",
    "final": "итоговая",
}

PUPIL_STATUS = {"active": "обучается", "left": "выбыл"}
PERIOD_KIND = {"quarter": "четверть", "half": "полугодие", "year": "год"}
MONTHS = (
    "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
)  # fmt: skip


def system_name(system: str) -> str:
    return SYSTEM.get(system, system)


def day(value: dt.date | str | None) -> str:
    """``DD.MM.YYYY`` (an ISO string is read first); empty for nothing."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10]).strftime("%d.%m.%Y")
        except ValueError:
            return value
    return value.strftime("%d.%m.%Y")


def moment(value: dt.datetime | None, tz: dt.tzinfo) -> str:
    """``DD.MM.YYYY HH:MM`` in the school's time zone."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(tz).strftime("%d.%m.%Y %H:%M")


def zone(name: str) -> dt.tzinfo:
    return zoneinfo.ZoneInfo(name)


def plural(n: int, one: str, few: str, many: str) -> str:
    """The Russian plural form for ``n``: 1 отметка, 2 отметки, 5 отметок."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def count(n: int, one: str, few: str, many: str) -> str:
    return f"{n:,}".replace(",", "\u202f") + " " + plural(n, one, few, many)


def value(field: str, raw: Any) -> str:
    """A field's value as a reader sees it (codes spelled out, dates as DD.MM.YYYY)."""
    if raw is None or raw == "":
        return "—"
    if field == "code" and isinstance(raw, str):
        return f"{raw} ({ATTENDANCE[raw]})" if raw in ATTENDANCE else raw
    if field in ("date", "start", "end", "birth_date", "left_date"):
        return day(str(raw))
    if field == "kind" and raw in FINAL_KIND:
        return FINAL_KIND[raw]
    if field == "kind" and raw in PERIOD_KIND:
        return PERIOD_KIND[raw]
    if field == "status" and raw in PUPIL_STATUS:
        return PUPIL_STATUS[raw]
    if isinstance(raw, bool):
        return "да" if raw else "нет"
    if isinstance(raw, list | tuple):
        return ", ".join(str(v) for v in raw) or "—"
    return str(raw)


def pending_detail(detail: str) -> str:
    """``"upsert pending"`` → «изменение, ждёт отправки»."""
    return ", ".join(PENDING_DETAIL.get(w, w) for w in detail.split(" ")) if detail else ""
