"""Errors the API answers with: one JSON shape for all of them (``error``, ``message``, and for a
refused write the ``items`` that failed, each naming its field and the rule)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ItemError:
    """One refused item of a write: where it is in the request, which field, which rule."""

    index: int
    field: str | None
    rule: str
    message: str
    id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "id": self.id,
            "field": self.field,
            "rule": self.rule,
            "message": self.message,
        }


class ApiProblem(Exception):
    """An answer other than success: HTTP ``status``, a stable ``code``, a message without
    personal data, optional headers (``Retry-After``, ``WWW-Authenticate``) and item errors."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        items: Sequence[ItemError] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.items = tuple(items)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.items:
            out["items"] = [i.to_json() for i in self.items]
        return out


def unauthorized(message: str) -> ApiProblem:
    return ApiProblem(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def forbidden(message: str) -> ApiProblem:
    return ApiProblem(403, "forbidden", message)


def bad_request(code: str, message: str) -> ApiProblem:
    return ApiProblem(400, code, message)
