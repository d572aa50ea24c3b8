from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from lxml import etree

from connectors.asiou import AsiouConnector
from connectors.asiou._connector import split_ticket
from connectors.base import ConnectorSettings, PushItem
from core.entities import Entity
from core.errors import AuthError, ContractViolation, TransientError
from schoolgate.config import SystemConfig

from .packages import chunked, package

BASE = "http://asiou.test"
EXPORT = f"{BASE}/asiou/exchange/export"
IMPORT = f"{BASE}/asiou/exchange/import"


def connector(waits: list[float] | None = None, **kw: object) -> AsiouConnector:
    sleeps = waits if waits is not None else []
    return AsiouConnector(
        base_url=BASE,
        school="760215",
        login="gw",
        password="pw",
        client=httpx.Client(),
        retries=3,
        sleep=sleeps.append,
        **kw,  # type: ignore[arg-type]
    )


XML = {"Content-Type": "application/xml; charset=windows-1251"}


@respx.mock
def test_pull_sends_basic_auth_and_since_and_retries_503() -> None:
    route = respx.get(EXPORT).mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "9"}),
            httpx.Response(200, headers=XML, content=package(full="0")),
        ]
    )
    waits: list[float] = []
    pages = list(connector(waits).pull(None, {"since": "2025-10-01T00:00:00+03:00"}))
    assert waits == [9.0]
    req = route.calls.last.request
    assert req.url.params["since"] == "2025-10-01T00:00:00+03:00"
    assert req.url.params["school"] == "760215"
    assert req.headers["Authorization"].startswith("Basic ")
    assert pages[-1].complete and pages[-1].state["revision"] == "88123"


@respx.mock
def test_pull_gives_up_after_the_configured_attempts() -> None:
    route = respx.get(EXPORT).mock(return_value=httpx.Response(503, headers={"Retry-After": "1"}))
    with pytest.raises(TransientError):
        list(connector().pull(None, None))
    assert route.call_count == 4  # retries=3


@respx.mock
def test_pull_401_is_an_auth_error_without_retry() -> None:
    route = respx.get(EXPORT).mock(return_value=httpx.Response(401))
    with pytest.raises(AuthError):
        list(connector().pull(None, None))
    assert route.call_count == 1


@respx.mock
def test_pull_of_a_truncated_body_raises_without_a_complete_page() -> None:
    data = package()
    respx.get(EXPORT).mock(return_value=httpx.Response(200, headers=XML, content=data[:-200]))
    got = []
    with pytest.raises(ContractViolation):
        got.extend(connector().pull(None, None))
    assert got and not any(p.complete for p in got)


class _Broken(httpx.SyncByteStream):
    def __init__(self, data: bytes) -> None:
        self.data = data

    def __iter__(self) -> Iterator[bytes]:
        yield from chunked(self.data[: len(self.data) // 2], 64)
        raise httpx.RemoteProtocolError("peer closed connection")


@respx.mock
def test_connection_closed_mid_package_is_transient_and_nothing_completes() -> None:
    respx.get(EXPORT).mock(return_value=httpx.Response(200, headers=XML, stream=_Broken(package())))
    got = []
    with pytest.raises(TransientError):
        got.extend(connector().pull(None, None))
    assert not any(p.complete for p in got)


@respx.mock
def test_pull_one_entity_filters_the_bundle() -> None:
    respx.get(EXPORT).mock(return_value=httpx.Response(200, headers=XML, content=package()))
    pages = list(connector().pull(Entity.LESSONS, None))
    assert {p.entity for p in pages} == {Entity.LESSONS}


@respx.mock
def test_pull_refuses_html() -> None:
    respx.get(EXPORT).mock(
        return_value=httpx.Response(200, headers={"Content-Type": "text/html"}, content=b"<html>")
    )
    with pytest.raises(ContractViolation):
        list(connector().pull(None, None))


def items() -> list[PushItem]:
    return [
        PushItem(
            key="k1",
            entity=Entity.MARKS,
            op="upsert",
            payload={
                "Учащийся": "U55001",
                "Урок": "L900001",
                "Значение": "5",
                "ВидРаботы": "Ответ на уроке",
                "Вес": 1,
            },
        ),
        PushItem(key="k2", entity=Entity.MARKS, op="delete", payload={}, remote_id="M7"),
    ]


@respx.mock
def test_push_posts_a_windows_1251_package_and_answers_pending() -> None:
    route = respx.post(IMPORT).mock(
        return_value=httpx.Response(
            202, content='<Квитанция Ид="R-77" Статус="принят"/>'.encode("cp1251")
        )
    )
    results = connector().push(Entity.MARKS, items())
    assert [r.status for r in results] == ["pending", "pending"]
    assert split_ticket(results[0].ticket or "") == ("R-77", "created", "k1", "k1")
    assert split_ticket(results[1].ticket or "") == ("R-77", "deleted", "k2", "k2")
    body = route.calls.last.request.content
    assert body.startswith(b'<?xml version="1.0" encoding="windows-1251"?>')
    root = etree.fromstring(body)
    marks = root.find("Отметки")
    assert marks is not None
    assert [m.get("ВнешнийИд") for m in marks] == ["k1", "k2"]
    assert marks[0].get("ВидРаботы") == "Ответ на уроке"
    assert marks[1].get("Удалена") == "1" and marks[1].get("Ид") == "M7"
    total = root.find("Итог")
    assert total is not None and total.get("Записей") == "2"


@respx.mock
def test_the_record_key_is_the_external_id_and_a_rejection_by_it_answers_the_version() -> None:
    """ВнешнийИд names the record (its versions share it, so a later one replaces an earlier);
    the outbox still hears of each version by its own idempotency key."""
    respx.post(IMPORT).mock(
        return_value=httpx.Response(
            202, content='<Квитанция Ид="R-78" Статус="принят"/>'.encode("cp1251")
        )
    )
    route = respx.get(f"{BASE}/asiou/exchange/receipt/R-78").mock(
        return_value=httpx.Response(
            200,
            content=(
                '<Квитанция Ид="R-78" Статус="обработан" Принято="0" Отклонено="1">'
                '<Ошибка ВнешнийИд="rec-1" Код="ПЕРИОД_ЗАКРЫТ" Текст="Период закрыт"/>'
                "</Квитанция>"
            ).encode("cp1251"),
        )
    )
    v1, v2 = (
        PushItem(key=k, entity=Entity.MARKS, op="upsert", payload=p, record_key="rec-1")
        for k, p in (("v1", {"Значение": "4"}), ("v2", {"Значение": "5"}))
    )
    conn = connector()
    tickets = [r.ticket or "" for r in conn.push(Entity.MARKS, [v1, v2])]
    sent = etree.fromstring(respx.calls[0].request.content).find("Отметки")
    assert sent is not None
    assert [m.get("ВнешнийИд") for m in sent] == ["rec-1", "rec-1"]
    assert [split_ticket(t) for t in tickets] == [
        ("R-78", "created", "rec-1", "v1"),
        ("R-78", "created", "rec-1", "v2"),
    ]
    results = conn.poll(tickets)
    assert route.call_count == 1
    assert [(r.key, r.status) for r in results] == [("v1", "rejected"), ("v2", "rejected")]


def test_a_ticket_made_before_record_keys_still_reads() -> None:
    assert split_ticket("R-1#u#sg-abc") == ("R-1", "updated", "sg-abc", "sg-abc")
    with pytest.raises(ValueError):
        split_ticket("R-1#x#sg-abc")
    with pytest.raises(ValueError):
        split_ticket("R-1#c##sg-abc")


def test_push_of_an_entity_asiou_does_not_take_is_rejected_per_item() -> None:
    item = PushItem(key="x", entity=Entity.SUBJECTS, op="upsert", payload={})
    assert connector().push(Entity.SUBJECTS, [item])[0].status == "rejected"


RECEIPT = f"{BASE}/asiou/exchange/receipt/R-77"


@respx.mock
def test_poll_answers_nothing_until_processed_then_every_item_once(tmp_path: Path) -> None:
    respx.post(IMPORT).mock(
        return_value=httpx.Response(
            202, content='<Квитанция Ид="R-77" Статус="принят"/>'.encode("cp1251")
        )
    )
    first = connector()
    tickets = [r.ticket for r in first.push(Entity.MARKS, items())]
    # a restart: the tickets survive in a file, the connector does not
    saved = tmp_path / "tickets.json"
    saved.write_text(json.dumps(tickets))
    first.close()
    del first
    route = respx.get(RECEIPT).mock(
        side_effect=[
            httpx.Response(200, content='<Квитанция Ид="R-77" Статус="принят"/>'.encode("cp1251")),
            httpx.Response(
                200,
                content=(
                    '<Квитанция Ид="R-77" Статус="обработан" Принято="1" Отклонено="1">'
                    '<Ошибка ВнешнийИд="k1" Код="ПЕРИОД_ЗАКРЫТ" Текст="Период закрыт для изменений"/>'
                    "</Квитанция>"
                ).encode("cp1251"),
            ),
        ]
    )
    second = connector()
    again = json.loads(saved.read_text())
    assert second.poll(again) == []
    results = second.poll(again)
    assert route.call_count == 2  # one GET per receipt, not per ticket
    assert {(r.key, r.status) for r in results} == {("k1", "rejected"), ("k2", "deleted")}
    assert results[0].error == "ПЕРИОД_ЗАКРЫТ: Период закрыт для изменений"


def test_from_settings_reads_credentials_and_declares_a_bundled_async_system(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from connectors.base import ReadMode
    from core.errors import ConfigError

    monkeypatch.setenv("ASIOU_LOGIN", "gw")
    monkeypatch.setenv("ASIOU_PASSWORD", "pw")
    config = SystemConfig.model_validate(
        {
            "base_url": BASE,
            "remote_school": "760215",
            "credentials": {"login": {"env": "ASIOU_LOGIN"}, "password": {"env": "ASIOU_PASSWORD"}},
            "options": {"chunk_size": 10},
        }
    )
    conn = AsiouConnector.from_settings(_settings(config), client=httpx.Client())
    caps = conn.capabilities()
    assert caps.bundled and caps.async_push
    assert set(caps.pull.values()) == {ReadMode.INCREMENTAL} and len(caps.pull) == 10
    assert caps.push == {
        Entity.MARKS,
        Entity.FINAL_MARKS,
        Entity.ATTENDANCE,
        Entity.LESSONS,
        Entity.PUPILS,
    }
    with respx.mock:
        route = respx.get(EXPORT).mock(return_value=httpx.Response(200, headers=XML, content=b""))
        conn.check()
    assert route.calls.last.request.headers["Authorization"] == "Basic Z3c6cHc="
    with pytest.raises(ConfigError):
        AsiouConnector.from_settings(_settings(config.model_copy(update={"credentials": {}})))


def test_registered_as_a_system_plugin() -> None:
    import plugins

    assert plugins.load("asiou").connector is AsiouConnector


RENAMED = """
# this region's АСИОУ calls absences «Посещение» in «Посещения»
[elements]
"Посещение" = "attendance"

[containers]
attendance = "Посещения"
"""


def _renamed_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profile: str | None) -> Any:

    monkeypatch.setenv("ASIOU_LOGIN", "gw")
    monkeypatch.setenv("ASIOU_PASSWORD", "pw")
    data: dict[str, Any] = {
        "base_url": BASE,
        "remote_school": "760215",
        "credentials": {"login": {"env": "ASIOU_LOGIN"}, "password": {"env": "ASIOU_PASSWORD"}},
    }
    if profile is not None:
        (tmp_path / "asiou.toml").write_text(profile, "utf-8")
        data["profile"] = str(tmp_path / "asiou.toml")
    return SystemConfig.model_validate(data)


def _renamed_package() -> bytes:
    text = package().decode("windows-1251")
    text = text.replace("<Пропуски><Пропуск ", "<Посещения><Посещение ")
    return text.replace("</Пропуски>", "</Посещения>").encode("windows-1251")


@respx.mock
def test_element_names_come_from_the_profile_a_deployment_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mapping.asiou import to_canonical
    from mapping.model import Attendance
    from mapping.profile import load_profile

    respx.get(EXPORT).mock(
        return_value=httpx.Response(200, headers=XML, content=_renamed_package())
    )
    config = _renamed_config(tmp_path, monkeypatch, RENAMED)
    conn = AsiouConnector.from_settings(_settings(config), client=httpx.Client())
    pages = list(conn.pull(None, None))
    assert pages[-1].complete  # the renamed record was counted against <Итог>
    absences = [r for p in pages if p.entity is Entity.ATTENDANCE for r in p.records]
    assert [r["Ид"] for r in absences] == ["A8000001"]
    record = to_canonical(
        None, absences[0], profile=load_profile("asiou", config.profile), school_id="s1"
    )
    assert isinstance(record, Attendance) and record.code == "Б"

    route = respx.post(IMPORT).mock(
        return_value=httpx.Response(
            202, content='<Квитанция Ид="R-9" Статус="принят"/>'.encode("cp1251")
        )
    )
    item = PushItem(key="k", entity=Entity.ATTENDANCE, op="upsert", payload={"Причина": "Б"})
    conn.push(Entity.ATTENDANCE, [item])
    sent = etree.fromstring(route.calls.last.request.content)
    assert [(c.tag, [r.tag for r in c]) for c in sent if c.tag != "Итог"] == [
        ("Посещения", ["Посещение"])
    ]

    # the contract's names alone do not know the renamed element: the count cannot agree
    plain = AsiouConnector.from_settings(
        _settings(_renamed_config(tmp_path, monkeypatch, None)), client=httpx.Client()
    )
    with pytest.raises(ContractViolation):
        list(plain.pull(None, None))


def test_a_profile_element_naming_no_entity_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.errors import ConfigError

    config = _renamed_config(tmp_path, monkeypatch, '[elements]\n"Посещение" = "absences"\n')
    with pytest.raises(ConfigError, match="Посещение"):
        AsiouConnector.from_settings(_settings(config), client=httpx.Client())


def _settings(config: SystemConfig) -> ConnectorSettings:
    """What a job gives the connector: its settings with the (overridden) profile's tables."""
    from mapping.profile import load_profile

    settings = config.connector_settings("asiou")
    return dataclasses.replace(settings, profile=load_profile("asiou", config.profile).settings)
