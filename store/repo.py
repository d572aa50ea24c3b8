"""What every repository of a unit of work is: a view over its connection (``tx.<name>``)."""

from __future__ import annotations

from sqlalchemy import Connection


class Repo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
