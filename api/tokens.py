"""Access tokens: a high-entropy random secret given once to the consumer, kept only as its
SHA-256 hash.

Why SHA-256 and not a password hash (argon2, bcrypt): those are slow on purpose, to make guessing
a *low-entropy* password costly. A token is 256 random bits, so nobody can guess it or invert its
hash whatever the hash's speed; a fast hash lets every request look its token up by an index in
one query, and a stolen copy of the table gives away nothing usable.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence

from core.errors import GatewayError
from store import Store, Token

PREFIX = "sgt_"
#: what a token may be allowed: the change feed, snapshots, personal fields (birth date,
#: СНИЛС) in what it reads, writes to the local journal
SCOPES = ("feed", "snapshot", "personal", "journal")
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,100}$")
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class TokenError(GatewayError):
    """A token cannot be made as asked."""


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue(
    store: Store,
    *,
    name: str,
    schools: Sequence[str],
    scopes: Sequence[str],
    pupil_id: str | None = None,
    rate: float = 20.0,
    burst: int = 40,
) -> tuple[Token, str]:
    """Make a token; returns it and its secret (shown once, never stored)."""
    if not _NAME.match(name):
        raise TokenError("a token name is 1–100 letters, digits or _ . @ -")
    schools = sorted(set(schools))
    if not schools or not all(_ID.match(s) for s in schools):
        raise TokenError("name at least one school by its id")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise TokenError(f"unknown scopes {', '.join(unknown)}; known: {', '.join(SCOPES)}")
    if not scopes:
        raise TokenError(f"name at least one scope of {', '.join(SCOPES)}")
    if pupil_id is not None:
        if not _ID.match(pupil_id):
            raise TokenError("a pupil is named by their gateway id")
        if len(schools) != 1:
            raise TokenError("a pupil's token is for the pupil's one school")
        if "journal" in scopes:
            raise TokenError("a pupil's token cannot write to the journal")
    if not (rate > 0 and burst >= 1):
        raise TokenError("the rate must be above 0 and the burst at least 1")
    secret = new_secret()
    with store.begin() as tx:
        token = tx.tokens.create(
            name=name,
            token_hash=hash_secret(secret),
            schools=schools,
            scopes=[s for s in SCOPES if s in scopes],
            pupil_id=pupil_id,
            rate=rate,
            burst=burst,
        )
    return token, secret
