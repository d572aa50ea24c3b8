"""The feed API's access tokens (``tx.tokens``): stored by the hash of their secret only.

The secret itself is made and hashed by the API (:mod:`api.tokens`); the store never sees it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from core.errors import StoreError
from store.repo import Repo
from store.tables import table
from store.tables.api import ApiTokenRow
from store.types import utcnow

TOKENS = table(ApiTokenRow)


@dataclass(frozen=True, slots=True)
class Token:
    """What a token may do; never its secret or hash."""

    id: int
    name: str
    schools: tuple[str, ...]
    scopes: tuple[str, ...]
    pupil_id: str | None
    rate: float
    burst: int
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


_FIELDS = tuple(Token.__dataclass_fields__)


def _token(row: object) -> Token:
    m = row._mapping  # type: ignore[attr-defined]
    return Token(
        id=m["id"],
        name=m["name"],
        schools=tuple(m["schools"]),
        scopes=tuple(m["scopes"]),
        pupil_id=m["pupil_id"],
        rate=float(m["rate"]),
        burst=int(m["burst"]),
        created_at=m["created_at"],
        revoked_at=m["revoked_at"],
    )


class TokensRepo(Repo):
    def create(
        self,
        *,
        name: str,
        token_hash: str,
        schools: Sequence[str],
        scopes: Sequence[str],
        pupil_id: str | None,
        rate: float,
        burst: int,
    ) -> Token:
        """A new token; a name already taken is an error."""
        taken = self.conn.execute(select(TOKENS.c.id).where(TOKENS.c.name == name)).first()
        if taken is not None:
            raise StoreError(f"a token named {name!r} exists already")
        stmt = (
            insert(TOKENS)
            .values(
                name=name,
                token_hash=token_hash,
                schools=list(schools),
                scopes=list(scopes),
                pupil_id=pupil_id,
                rate=rate,
                burst=burst,
                created_at=utcnow(),
                revoked_at=None,
            )
            .returning(*(TOKENS.c[f] for f in _FIELDS))
        )
        return _token(self.conn.execute(stmt).one())

    def by_hash(self, token_hash: str) -> Token | None:
        """The token whose secret hashes to ``token_hash`` (revoked ones too: the caller says
        why it refuses)."""
        cols = [TOKENS.c[f] for f in _FIELDS]
        row = self.conn.execute(select(*cols).where(TOKENS.c.token_hash == token_hash)).first()
        return None if row is None else _token(row)

    def list(self) -> list[Token]:
        cols = [TOKENS.c[f] for f in _FIELDS]
        return [_token(r) for r in self.conn.execute(select(*cols).order_by(TOKENS.c.id))]

    def revoke(self, name: str) -> bool:
        """Revoke the token named ``name``; False when there is no such live token."""
        c = TOKENS.c
        stmt = (
            update(TOKENS).where(c.name == name, c.revoked_at.is_(None)).values(revoked_at=utcnow())
        )
        return bool(self.conn.execute(stmt).rowcount)
