"""Writes the hostile-input corpus (``tests/reliability/corpus/``) once; the files are data kept
in the repository, this script says how they were made. Run from the repository's root:

    .venv/bin/python -m tests.reliability.make_corpus

Every case is one answer of a system, served in place of the simulator's during an incremental
pull of the tiny generated school (seed 3) after a complete one: an ES2 page of marks or pupils,
an АСИОУ export package, an О7 ``GetMarks`` window. Each holds one valid *neighbour* (a new
mark or pupil, which must be applied) and hostile records, or is itself hostile as a whole
(truncated, huge, nested, mis-encoded, an entity bomb). ``cases.json`` lists each case: its file,
the request it answers, the neighbour, the hostile records' ids, and what the whole body must
come to (``apply``: the package is legal and its neighbour applied; ``refuse``: the run stops
with a clear error and applies nothing of it; ``records``: judged record by record).
"""

from __future__ import annotations

import codecs
import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fixtures.generator import generate_school
from fixtures.school import SchoolData

HERE = Path(__file__).resolve().parent / "corpus"
SEED = 3
ES2_MARKS = "/api/v2/schools/42/marks"
ES2_PUPILS = "/api/v2/schools/42/pupils"
ASIOU_EXPORT = "/asiou/exchange/export"
O7_MARKS = "/api/MarkService/GetMarks"
#: the corpus worlds cap an answer at ``MAX_BODY_MB`` (the default is 32 MB; a 40 MB file in the
#: repository would prove the same thing at twenty times the size): a "huge" body is 1.5 times it
MAX_BODY_MB = 1.0
HUGE = int(MAX_BODY_MB * 1024 * 1024 * 1.5) // 2  # «я» is two bytes
LATIN = str.maketrans("аеорсхАВЕКМНОРСТХ", "aeopcxABEKMHOPCTX")


@dataclass
class Case:
    id: str
    wire: str
    file: str
    method: str
    path: str
    content_type: str
    #: the neighbour: (entity, external id, field, value it must have in the store)
    neighbour: tuple[str, str, str, str] | None
    hostile: list[str] = field(default_factory=list)
    whole: str = "records"  # records | apply | refuse | either
    when: str | None = None  # served only to a request whose body holds this
    #: served with the marks of this file (in the same folder) before the case's own
    merge: str | None = None
    note: str = ""


@dataclass
class Ids:
    """Ids of the tiny school a case refers to, per system."""

    pupil: dict[str, str]
    other: dict[str, str]
    lesson: dict[str, str]
    klass: dict[str, str]
    lesson_date: str


def ids_of(school: SchoolData) -> Ids:
    klass = next(c for c in school.classes if c.parallel == 5)
    lessons = [
        le
        for le in school.lessons
        if le.class_id == klass.id and le.subgroup_id is None and str(le.date) >= "2025-10-01"
    ]
    pupils = [p for p in school.pupils if p.class_id == klass.id and p.status == "active"]
    return Ids(
        pupils[0].ext_ids, pupils[1].ext_ids, lessons[-1].ext_ids, klass.ext_ids,
        str(lessons[-1].date),
    )  # fmt: skip


class Writer:
    def __init__(self) -> None:
        self.cases: list[Case] = []

    def add(self, case: Case, body: bytes) -> None:
        where = HERE / case.wire / case.file
        where.parent.mkdir(parents=True, exist_ok=True)
        where.write_bytes(body)
        self.cases.append(case)


# -- ES2 -------------------------------------------------------------------------------------
ES2_TIME = "2025-10-27T10:00:00+07:00"


def es2_mark(ids: Ids, mid: Any, pupil: str, **over: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": mid,
        "pupil_id": int(pupil),
        "lesson_id": int(ids.lesson["es2"]),
        "value": "4",
        "work_type": {"code": "ОУ", "name": "Ответ на уроке"},
        "weight": 1,
        "created_at": ES2_TIME,
        "updated_at": ES2_TIME,
        "deleted": False,
    }
    item.update(over)
    return item


def es2_page(items: list[Any]) -> bytes:
    body = {"success": True, "data": items, "next_cursor": None, "revision": 1}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def es2_pupil(pid: Any, group: str, **over: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": pid,
        "last_name": "Светлова",
        "first_name": "Мирослава",
        "middle_name": "Игоревна",
        "birth_date": "2014-04-04",
        "snils": None,
        "group_id": int(group),
        "status": "active",
        "left_date": None,
        "updated_at": ES2_TIME,
        "deleted": False,
    }
    item.update(over)
    return item


MARK_VALUES: list[tuple[str, Any]] = [
    ("empty", ""), ("space", " "), ("six", "6"), ("zero", "0"), ("minus", "-1"),
    ("five-plus", "5+"), ("word", "отл"), ("fullwidth", "５"), ("decimal", "5.0"),
    ("nan", "NaN"), ("int", 5), ("null", None), ("true", True), ("list", []), ("object", {}),
    ("triple", "4/5/3"), ("na", "н/а"), ("zach", "зач"), ("long", "5" * 10_000),
    ("nul-char", "5\u0000"), ("zero-width", "5\u200b"), ("latin-n-a", "h/a"),
    ("rtl", "\u202e5"), ("float", 4.5), ("huge-int", 10**40),
]  # fmt: skip


def es2_cases(w: Writer, ids: Ids) -> None:
    p0, p1 = ids.pupil["es2"], ids.other["es2"]
    neighbour = ("marks", "7990001", "value", "4")
    n = [0]

    def mark_case(name: str, hostile: list[dict[str, Any]], ext: list[str], note: str) -> None:
        n[0] += 1
        items = [es2_mark(ids, 7990001, p0), *hostile]
        w.add(
            Case(f"es2-marks-{name}", "es2", f"marks-{n[0]:03d}-{name}.json", "GET", ES2_MARKS,
                 "application/json", neighbour, ext, note=note),
            es2_page(items),
        )  # fmt: skip

    for i, (name, value) in enumerate(MARK_VALUES):
        mid = 7990100 + i
        mark_case(f"value-{name}", [es2_mark(ids, mid, p1, value=value)], [str(mid)], "value")
    fields: list[tuple[str, dict[str, Any]]] = [
        ("work-type-null", {"work_type": None}), ("work-type-empty", {"work_type": {}}),
        ("work-type-blank", {"work_type": {"code": "", "name": ""}}),
        ("work-type-unknown", {"work_type": {"code": "ZZZ", "name": "Неизвестно"}}),
        ("weight-negative", {"weight": -1}), ("weight-zero", {"weight": 0}),
        ("weight-huge", {"weight": 1000}), ("weight-text", {"weight": "2"}),
        ("weight-null", {"weight": None}), ("weight-float", {"weight": 2.5}),
        ("pupil-unknown", {"pupil_id": 99999999}), ("lesson-unknown", {"lesson_id": 99999999}),
        ("pupil-null", {"pupil_id": None}), ("lesson-text", {"lesson_id": "abc"}),
        ("pupil-negative", {"pupil_id": -1}),
        ("updated-future", {"updated_at": "2030-01-01T00:00:00+07:00"}),
        ("updated-garbage", {"updated_at": "не указана"}),
        ("created-1900", {"created_at": "1900-01-01T00:00:00+07:00"}),
        ("updated-null", {"updated_at": None}), ("deleted-text", {"deleted": "yes"}),
        ("deleted-null", {"deleted": None}), ("unknown-fields", {"x_extra": {"a": [1, 2]}}),
    ]  # fmt: skip
    for i, (name, over) in enumerate(fields):
        mid = 7990200 + i
        mark_case(name, [es2_mark(ids, mid, p1, **over)], [str(mid)], name)
    missing = es2_mark(ids, 7990300, p1)
    del missing["value"]
    mark_case("value-missing", [missing], ["7990300"], "no value field")
    mark_case("id-null", [es2_mark(ids, None, p1)], [], "no id")
    mark_case("id-text", [es2_mark(ids, "abc", p1)], ["abc"], "id not a number")
    mark_case("id-huge", [es2_mark(ids, 10**30, p1)], [str(10**30)], "id beyond 64 bits")
    mark_case("id-negative", [es2_mark(ids, -5, p1)], ["-5"], "negative id")
    twice = [es2_mark(ids, 7990301, p1, value="3"), es2_mark(ids, 7990301, p1, value="5")]
    mark_case("id-duplicate", twice, ["7990301"], "one id twice: one record")
    n[0] += 1  # ES2 tells repeated items apart by id: a page whose items have none is broken
    w.add(
        Case("es2-marks-item-not-object", "es2", f"marks-{n[0]:03d}-item-not-object.json", "GET",
             ES2_MARKS, "application/json", neighbour, [], whole="refuse",
             note="items that are not objects: the page cannot be read"),
        es2_page([es2_mark(ids, 7990001, p0), "5", 17, None]),
    )  # fmt: skip
    mark_case(
        "many-bad", [es2_mark(ids, 7990400 + k, p1, value=v) for k, v in enumerate("6789")],
        [str(7990400 + k) for k in range(4)], "a burst of refusals",
    )  # fmt: skip

    # pupils: the neighbour is a new pupil of 5А
    group = ids.klass["es2"]
    pn = ("pupils", "5599901", "last_name", "Светлова")
    names: list[tuple[str, dict[str, Any]]] = [
        ("last-empty", {"last_name": ""}), ("last-space", {"last_name": "   "}),
        ("last-tab", {"last_name": "\t"}), ("last-null", {"last_name": None}),
        ("first-empty", {"first_name": ""}), ("first-space", {"first_name": " \u00a0 "}),
        ("latin-lookalike", {"last_name": "Светлова".translate(LATIN)}),
        ("one-latin", {"last_name": "Свeтлова"}), ("all-latin", {"last_name": "Svetlova"}),
        ("digit-o", {"last_name": "Светл0ва"}), ("long-name", {"last_name": "Я" * 5000}),
        ("bell", {"last_name": "Свет\u0007лова"}), ("rtl-override", {"last_name": "\u202eавотлевС"}),
        ("combining", {"first_name": "Мирославa\u0306"}), ("caps", {"last_name": "СВЕТЛОВА"}),
        ("zwj", {"last_name": "Свет\u200dлова"}), ("double-space", {"last_name": "Светлова  "}),
        ("yo", {"last_name": "Светлёва"}), ("html", {"last_name": "<script>alert(1)</script>"}),
        ("birth-future", {"birth_date": "2030-01-01"}), ("birth-1800", {"birth_date": "1800-01-01"}),
        ("birth-ru", {"birth_date": "31.12.2010"}), ("birth-feb30", {"birth_date": "2010-02-30"}),
        ("birth-empty", {"birth_date": ""}), ("birth-null", {"birth_date": None}),
        ("birth-int", {"birth_date": 20100101}), ("snils-short", {"snils": "123"}),
        ("snils-check", {"snils": "12345678901"}), ("snils-letters", {"snils": "abc"}),
        ("snils-int", {"snils": 12345678964}), ("snils-dashes", {"snils": "123-456-789 64"}),
        ("group-unknown", {"group_id": 99999}), ("group-null", {"group_id": None}),
        ("group-text", {"group_id": "x"}), ("status-unknown", {"status": "teleported"}),
        ("left-zero-date", {"status": "left", "left_date": "0000-00-00"}),
    ]  # fmt: skip
    for i, (name, over) in enumerate(names):
        pid = 5599910 + i
        w.add(
            Case(f"es2-pupils-{name}", "es2", f"pupils-{i + 1:03d}-{name}.json", "GET",
                 ES2_PUPILS, "application/json", pn, [str(pid)], note=name),
            es2_page([es2_pupil(5599901, group), es2_pupil(pid, group, **over)]),
        )  # fmt: skip

    good = es2_page([es2_mark(ids, 7990001, p0)])
    two = es2_page([es2_mark(ids, 7990001, p0), es2_mark(ids, 7990600, p1, weight=7)])
    bodies: list[tuple[str, bytes, str, str]] = [
        ("truncated", good[: len(good) // 2], "refuse", "application/json"),
        ("empty", b"", "refuse", "application/json"),
        ("null", b"null", "refuse", "application/json"),
        ("array", b"[]", "refuse", "application/json"),
        ("no-data", b'{"success": true, "revision": 1}', "refuse", "application/json"),
        ("data-object", b'{"success": true, "data": {}, "revision": 1}', "refuse",
         "application/json"),
        ("deep", b'{"success": true, "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
         "refuse", "application/json"),
        ("huge", es2_page([es2_mark(ids, 7990001, p0, x="я" * HUGE)]),
         "refuse", "application/json"),
        ("invalid-utf8", good.replace("Ответ".encode(), b"\xff\xfe\xfa"), "refuse",
         "application/json"),
        ("utf8-bom", codecs.BOM_UTF8 + good, "either", "application/json"),
        ("utf16-bom", good.decode().encode("utf-16"), "either", "application/json"),
        ("cp1251", good.decode().encode("cp1251"), "either", "application/json; charset=windows-1251"),
        ("html-200", b"<html><body>\xd0\x9e\xd1\x88\xd0\xb8\xd0\xb1\xd0\xba\xd0\xb0</body></html>",
         "refuse", "text/html"),
        ("nan-literal", two.replace(b'"weight": 7', b'"weight": NaN'), "records",
         "application/json"),
        ("dup-keys", good.replace(b'"value": "4"', b'"value": "2", "value": "4"'), "either",
         "application/json"),
        ("big-number", two.replace(b'"weight": 7', b'"weight": 1e400'), "records",
         "application/json"),
        ("soft-failure", b'{"success": false, "error_type": "busy", "error": "try later"}',
         "refuse", "application/json"),
        ("long-string", es2_page([es2_mark(ids, 7990001, p0), es2_mark(ids, 7990500, p1,
         value="4", work_type={"code": "ОУ", "name": "я" * 300_000})]), "either",
         "application/json"),
        ("many-items", es2_page([es2_mark(ids, 7990001, p0)]
         + [es2_mark(ids, 7991000 + k, p1, value="9") for k in range(3000)]), "records",
         "application/json"),
        ("trailing-garbage", good + b"}}}]]", "refuse", "application/json"),
    ]  # fmt: skip
    for i, (name, body, whole, ctype) in enumerate(bodies):
        hostile = ["7990600"] if b"7990600" in body else []
        w.add(
            Case(f"es2-body-{name}", "es2", f"body-{i + 1:03d}-{name}.json", "GET", ES2_MARKS,
                 ctype, neighbour, hostile, whole=whole, note=name),
            body,
        )  # fmt: skip


# -- АСИОУ -----------------------------------------------------------------------------------
AS_TIME = "2025-10-27T10:00:00+03:00"


def _attrs(values: dict[str, str]) -> str:
    def esc(v: str) -> str:
        return v.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")

    return " ".join(f'{k}="{esc(v)}"' for k, v in values.items())


def as_mark(ids: Ids, mid: str, pupil: str, **over: str) -> str:
    values = {
        "Ид": mid, "Учащийся": pupil, "Урок": ids.lesson["asiou"], "Значение": "4",
        "ВидРаботы": "Ответ на уроке", "Вес": "1", "Изменена": AS_TIME, "Удалена": "0",
    }  # fmt: skip
    values.update(over)
    return f"<Отметка {_attrs(values)}/>"


def as_pupil(pid: str, klass: str, **over: str) -> str:
    values = {
        "Ид": pid, "Фамилия": "Светлова", "Имя": "Мирослава", "Отчество": "Игоревна",
        "ДатаРождения": "2014-04-04", "СНИЛС": "", "Класс": klass, "Статус": "обучается",
        "ДатаВыбытия": "", "Изменен": AS_TIME,
    }  # fmt: skip
    values.update(over)
    return f"<Учащийся {_attrs(values)}/>"


def as_package(
    marks: list[str],
    pupils: list[str] = (),
    *,
    count: int | None = None,
    prolog: str = "",  # type: ignore[assignment]
) -> str:
    total = len(marks) + len(pupils) if count is None else count
    return (
        f'{prolog}<Пакет Версия="2.3" Школа="760215" Сформирован="{AS_TIME}" '
        'Ревизия="2" Полный="0"><Учебныйгод Код="2025/2026"/><Периоды></Периоды>'
        "<Предметы></Предметы><Сотрудники></Сотрудники><Классы></Классы><Подгруппы></Подгруппы>"
        f"<Учащиеся>{''.join(pupils)}</Учащиеся><Уроки></Уроки><Отметки>{''.join(marks)}</Отметки>"
        "<ИтоговыеОтметки></ИтоговыеОтметки><Пропуски></Пропуски>"
        f'<Итог Записей="{total}"/></Пакет>'
    )


def declared(text: str, encoding: str, name: str | None = None, bom: bytes = b"") -> bytes:
    head = f'<?xml version="1.0" encoding="{name or encoding}"?>\n'
    # EBCDIC has no Cyrillic: such a package carries «?» for it (and is refused anyway)
    return bom + (head + text).encode(encoding, errors="replace")


def asiou_cases(w: Writer, ids: Ids) -> None:
    p0, p1, klass = ids.pupil["asiou"], ids.other["asiou"], ids.klass["asiou"]
    neighbour = ("marks", "M7990001", "value", "4")
    n = [0]
    ctype = "application/xml; charset=windows-1251"

    def case(name: str, body: bytes, hostile: list[str], whole: str = "records",
             nb: tuple[str, str, str, str] | None = neighbour, ct: str = ctype) -> None:  # fmt: skip
        n[0] += 1
        w.add(
            Case(f"asiou-{name}", "asiou", f"{n[0]:03d}-{name}.xml", "GET", ASIOU_EXPORT, ct,
                 nb, hostile, whole=whole, note=name),
            body,
        )  # fmt: skip

    def marks(hostile: list[str]) -> bytes:
        return declared(as_package([as_mark(ids, "M7990001", p0), *hostile]), "cp1251",
                        "windows-1251")  # fmt: skip

    values = [
        ("empty", ""), ("space", " "), ("six", "6"), ("zero", "0"), ("five-plus", "5+"),
        ("word", "отл"), ("decimal", "5.0"), ("triple", "4/5/3"), ("na", "н/а"),
        ("zach", "зач"), ("long", "5" * 10_000), ("latin-n-a", "h/a"), ("fullwidth", "５"),
    ]  # fmt: skip
    for i, (name, value) in enumerate(values):
        mid = f"M79901{i:02d}"
        body = marks([as_mark(ids, mid, p1, Значение=value)]) if name != "fullwidth" else (
            declared(as_package([as_mark(ids, "M7990001", p0), as_mark(ids, mid, p1,
                     Значение=value)]), "utf-8"))  # fmt: skip
        case(f"value-{name}", body, [mid])
    attrs: list[tuple[str, dict[str, str]]] = [
        ("pupil-unknown", {"Учащийся": "U99999"}), ("lesson-unknown", {"Урок": "L99999999"}),
        ("lesson-empty", {"Урок": ""}), ("weight-bad", {"Вес": "тяжёлый"}),
        ("weight-negative", {"Вес": "-3"}), ("changed-bad", {"Изменена": "вчера"}),
        ("changed-future", {"Изменена": "2031-01-01T00:00:00+03:00"}),
        ("deleted-two", {"Удалена": "2"}), ("work-type-empty", {"ВидРаботы": ""}),
        ("work-type-unknown", {"ВидРаботы": "Танец"}),
    ]  # fmt: skip
    for i, (name, over) in enumerate(attrs):
        mid = f"M79902{i:02d}"
        case(name, marks([as_mark(ids, mid, p1, **over)]), [mid])
    case("id-empty", marks([as_mark(ids, "", p1)]), [])
    twice = [as_mark(ids, "M7990301", p1, Значение="3"), as_mark(ids, "M7990301", p1)]
    case("id-duplicate", marks(twice), ["M7990301"])
    # pupils: the neighbour is a new pupil of 5А
    pn = ("pupils", "U5599901", "last_name", "Светлова")
    people: list[tuple[str, dict[str, str]]] = [
        ("last-empty", {"Фамилия": ""}), ("last-space", {"Фамилия": "   "}),
        ("first-empty", {"Имя": ""}), ("latin-lookalike", {"Фамилия": "Светлова".translate(LATIN)}),
        ("one-latin", {"Фамилия": "Свeтлова"}), ("digit-o", {"Фамилия": "Светл0ва"}),
        ("birth-future", {"ДатаРождения": "2030-01-01"}), ("birth-ru", {"ДатаРождения": "31.12.2010"}),
        ("birth-feb30", {"ДатаРождения": "2010-02-30"}), ("birth-empty", {"ДатаРождения": ""}),
        ("snils-check", {"СНИЛС": "12345678901"}), ("snils-short", {"СНИЛС": "123"}),
        ("class-unknown", {"Класс": "C99Z"}), ("status-unknown", {"Статус": "улетел"}),
        ("left-bad", {"Статус": "выбыл", "ДатаВыбытия": "не указана"}),
    ]  # fmt: skip
    for i, (name, over) in enumerate(people):
        pid = f"U55999{i + 10:02d}"
        text = as_package([], [as_pupil("U5599901", klass), as_pupil(pid, klass, **over)])
        case(f"pupil-{name}", declared(text, "cp1251", "windows-1251"), [pid], nb=pn)

    # whole packages: encodings, prologs, integrity
    text = as_package([as_mark(ids, "M7990001", p0)])
    legal: list[tuple[str, bytes]] = [
        ("cp1251-name", declared(text, "cp1251")),
        ("utf8-bom", declared(text, "utf-8", bom=codecs.BOM_UTF8)),
        ("utf8-bom-declared-1251", codecs.BOM_UTF8 + declared(text, "utf-8")
         .replace(b'encoding="utf-8"', b'encoding="windows-1251"')),
        ("utf8", declared(text, "utf-8")),
        ("utf16-le-bom", declared(text, "utf-16-le", "UTF-16", codecs.BOM_UTF16_LE)),
        ("utf16-be-bom", declared(text, "utf-16-be", "UTF-16", codecs.BOM_UTF16_BE)),
        ("utf16-no-bom", declared(text, "utf-16-le", "UTF-16LE")),
        ("utf32-bom", declared(text, "utf-32-le", "UTF-32", codecs.BOM_UTF32_LE)),
        ("no-declaration", text.encode("utf-8")),
        ("koi8r", declared(text, "koi8-r")),
    ]  # fmt: skip
    for name, body in legal:
        case(f"enc-{name}", body, [], whole="either")
    bad_bytes = declared(text, "cp1251", "windows-1251")
    mixed = bad_bytes.replace("Ответ".encode("cp1251"), "Ответ".encode())
    refuse: list[tuple[str, bytes]] = [
        ("truncated", bad_bytes[: len(bad_bytes) * 2 // 3]),
        ("no-end", bad_bytes.replace("</Пакет>".encode("cp1251"), b"")),
        ("count-off", declared(as_package([as_mark(ids, "M7990001", p0)], count=5), "cp1251")),
        ("empty", b""), ("html", b"<html><body>502 Bad Gateway</body></html>"),
        ("not-xml", b"\x00\x01\x02garbage"),
        ("ebcdic", declared(text, "cp500")), ("utf7", declared(text, "utf-7")),
        ("unknown-encoding", declared(text, "utf-8", "x-klingon")),
        ("utf16-declared-on-ascii", declared(text, "utf-8", "UTF-16")),
    ]  # fmt: skip
    for name, body in refuse:
        case(f"whole-{name}", body, [], whole="refuse")
    case("enc-mixed-utf8-in-1251", mixed, [], whole="either")
    # unknown elements nested 100,000 deep beside the marks: skipped or refused, never a crash
    deep = text.replace("</Отметки>", "<a>" * 100_000 + "</a>" * 100_000 + "</Отметки>")
    case("whole-deep", declared(deep, "utf-8"), [], whole="either")
    # entities and DTDs in every encoding the contract reads
    bomb = (
        '<!DOCTYPE Пакет [<!ENTITY a "ААААААААААААААААААААААААААААААААААААААААААААААААА">'
        + "".join(f'<!ENTITY {chr(98 + k)} "{("&" + chr(97 + k) + ";") * 10}">' for k in range(8))
        + "]>"
    )
    external = '<!DOCTYPE Пакет [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    parameter = '<!DOCTYPE Пакет [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]>'
    dtd = '<!DOCTYPE Пакет SYSTEM "http://asiou.invalid/asiou.dtd">'
    encodings = [
        ("cp1251", "cp1251", "windows-1251", b""), ("utf8", "utf-8", "utf-8", b""),
        ("utf8-bom", "utf-8", "utf-8", codecs.BOM_UTF8),
        ("utf16le", "utf-16-le", "UTF-16", codecs.BOM_UTF16_LE),
        ("utf16be", "utf-16-be", "UTF-16", codecs.BOM_UTF16_BE),
        ("utf16-nobom", "utf-16-le", "UTF-16LE", b""),
        ("utf32", "utf-32-le", "UTF-32", codecs.BOM_UTF32_LE),
    ]  # fmt: skip
    for ename, codec, label, bom in encodings:
        for kind, prolog in (("bomb", bomb), ("external", external), ("parameter", parameter)):
            used = "&i;" if kind == "bomb" else ("&x;" if kind == "external" else "")
            body_text = as_package([as_mark(ids, "M7990001", p0, ВидРаботы=used or "Ответ")],
                                   prolog=prolog)  # fmt: skip
            case(f"entity-{kind}-{ename}", declared(body_text, codec, label, bom), [],
                 whole="refuse")  # fmt: skip
        plain = as_package([as_mark(ids, "M7990001", p0)], prolog=dtd)
        case(f"dtd-system-{ename}", declared(plain, codec, label, bom), [], whole="either")


# -- О7 --------------------------------------------------------------------------------------
O7_CHANGED = "27.10.2025 10:00:00"


def o7_mark(ids: Ids, guid: Any, pupil: str, **over: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "mark_guid": guid, "pupil_guid": pupil, "lesson_guid": ids.lesson["o7"], "mark": "4",
        "mark_type": "Ответ на уроке", "changed": O7_CHANGED,
    }  # fmt: skip
    item.update(over)
    return item


def o7_window(school: SchoolData, ids: Ids) -> list[dict[str, Any]]:
    """What О7 answers for 5А's October (the canned window keeps it, so nothing is deleted)."""
    import httpx

    from fixtures.o7 import O7Sim, SimConfig, build_data, create_app
    from fixtures.serve import serve_in_thread

    sim = O7Sim(build_data(school), SimConfig(login="gateway", password="secret"))
    with serve_in_thread(create_app(sim)) as url, httpx.Client(base_url=url) as client:
        login = client.post("/auth/login", data={"login_login": "gateway",
                                                 "login_password": "secret"})  # fmt: skip
        assert login.status_code == 200, login.text
        r = client.post(O7_MARKS, json={"class_id": ids.klass["o7"],
                        "date_from": "01.10.2025", "date_to": "31.10.2025"})  # fmt: skip
        assert r.status_code == 200, r.text
        return list(r.json()["marks"])


WINDOW = "window-5a-october.json"


def _guid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def o7_cases(w: Writer, ids: Ids, window: list[dict[str, Any]]) -> None:
    p0, p1 = ids.pupil["o7"], ids.other["o7"]
    nguid = _guid(1)
    neighbour = ("marks", nguid, "value", "4")
    when = f'"class_id":"{ids.klass["o7"]}","date_from":"01.10.2025"'
    n = [0]

    (HERE / "o7").mkdir(parents=True, exist_ok=True)
    (HERE / "o7" / WINDOW).write_text(json.dumps({"marks": window}, ensure_ascii=False), "utf-8")

    def dump(marks: list[Any], full: bool = False) -> bytes:
        both = [*window, *marks] if full else marks
        return json.dumps({"marks": both}, ensure_ascii=False).encode("utf-8")

    def case(name: str, body: bytes, hostile: list[str], whole: str = "records") -> None:
        n[0] += 1
        merge = WINDOW if whole == "records" else None
        w.add(
            Case(f"o7-{name}", "o7", f"{n[0]:03d}-{name}.json", "POST", O7_MARKS,
                 "application/json", neighbour, hostile, whole=whole, when=when, note=name,
                 merge=merge),
            body,
        )  # fmt: skip

    good = o7_mark(ids, nguid, p0)
    for i, (name, value) in enumerate(MARK_VALUES):
        guid = _guid(100 + i)
        case(f"value-{name}", dump([good, o7_mark(ids, guid, p1, mark=value)]), [guid])
    fields: list[tuple[str, dict[str, Any]]] = [
        ("pupil-unknown", {"pupil_guid": _guid(999_999)}),
        ("lesson-unknown", {"lesson_guid": _guid(999_998)}), ("pupil-null", {"pupil_guid": None}),
        ("lesson-null", {"lesson_guid": None}), ("changed-iso", {"changed": "2025-10-27"}),
        ("changed-future", {"changed": "01.01.2031 00:00:00"}), ("changed-null", {"changed": None}),
        ("type-empty", {"mark_type": ""}), ("type-null", {"mark_type": None}),
        ("extra-fields", {"x_extra": [1, {"a": None}]}),
        ("lesson-other-class", {"lesson_guid": "13020ff2-8b2c-5b78-a8eb-ef6e15e1c9ba"}),
    ]  # fmt: skip
    for i, (name, over) in enumerate(fields):
        guid = _guid(200 + i)
        case(name, dump([good, o7_mark(ids, guid, p1, **over)]), [guid])
    case("guid-null", dump([good, o7_mark(ids, None, p1)]), [])
    twice = [o7_mark(ids, _guid(301), p1, mark="3"), o7_mark(ids, _guid(301), p1)]
    case("guid-duplicate", dump([good, *twice]), [_guid(301)])
    case("item-not-object", dump([good, "5", 7, None]), [], whole="refuse")
    full = dump([good], full=True)
    bodies: list[tuple[str, bytes, str]] = [
        ("truncated", full[: len(full) // 2], "refuse"), ("empty", b"", "refuse"),
        ("null", b"null", "refuse"), ("marks-object", b'{"marks": {}}', "refuse"),
        ("no-marks", b"{}", "refuse"),
        ("deep", b'{"marks": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "refuse"),
        ("huge", dump([good, o7_mark(ids, _guid(400), p1, x="я" * HUGE)]),
         "refuse"),
        ("invalid-utf8", full.replace("Ответ".encode(), b"\xff\xfe"), "refuse"),
        ("utf8-bom", codecs.BOM_UTF8 + full, "either"),
        ("utf16", full.decode().encode("utf-16"), "either"),
        ("html-200", b"<html><body>Internal error</body></html>", "refuse"),
        ("rpc-error", b'{"error": {"code": -32000, "message": "internal"}}', "refuse"),
    ]  # fmt: skip
    for name, body, whole in bodies:
        case(f"body-{name}", body, [], whole=whole)


def main() -> None:
    school = generate_school(SEED, "tiny")
    ids = ids_of(school)
    if HERE.exists():
        for sub in ("es2", "asiou", "o7"):
            shutil.rmtree(HERE / sub, ignore_errors=True)
    w = Writer()
    es2_cases(w, ids)
    asiou_cases(w, ids)
    o7_cases(w, ids, o7_window(school, ids))
    manifest = [asdict(c) for c in w.cases]
    (HERE / "cases.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    per: Callable[[str], int] = lambda wire: sum(c.wire == wire for c in w.cases)  # noqa: E731
    print(f"{len(w.cases)} cases: es2 {per('es2')}, asiou {per('asiou')}, o7 {per('o7')}")


if __name__ == "__main__":
    main()
