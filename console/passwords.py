"""Passwords: argon2id hashes (argon2-cffi's defaults, RFC 9106's low-memory choice), checked in
constant time; a hash made with older parameters is noticed so it can be renewed."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
MIN_LENGTH = 10
#: checked against when the login is unknown, so that a wrong login takes as long as a wrong
#: password
_DUMMY = _HASHER.hash("schoolgate-no-such-user")


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise ValueError(f"a password has at least {MIN_LENGTH} characters")
    return _HASHER.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


def generate() -> str:
    """A new random password a person can type (16 characters)."""
    return secrets.token_urlsafe(12)
