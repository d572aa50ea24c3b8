"""Answers as JSON bytes (built directly, without a second validation pass on the hot path), and
the error answers every route documents."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import Response

from api.schemas import Problem


def dumps(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(dumps(body), status, headers=dict(headers or {}), media_type="application/json")


def _problem(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description}


#: the errors every authenticated route may answer
PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: _problem("a malformed cursor"),
    401: _problem("no token, an unknown token, or a revoked one"),
    403: _problem("the token lacks the scope, or is not for that school"),
    422: _problem("a parameter or body outside its schema"),
    429: _problem("over the token's rate: wait for `Retry-After` seconds"),
}
