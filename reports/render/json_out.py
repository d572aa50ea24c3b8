"""A report's JSON (its machine form): UTF-8, dates and times ISO 8601."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def write_json(payload: dict[str, Any], out: Path) -> None:
    with out.open("w", encoding="utf-8") as fh:
        json.dump(payload, fh, ensure_ascii=False, indent=1, default=_default)
        fh.write("\n")
