"""Signing in and out, sessions in signed cookies, CSRF tokens, the lock-out.

- The session cookie holds a random secret signed with the console's key (itsdangerous, with the
  time it was signed); the store keeps only the secret's SHA-256, the user and the session's CSRF
  token, so signing out, disabling a user or a new password ends sessions at once. Cookies are
  ``HttpOnly``, ``SameSite=Strict`` and ``Secure`` (unless the settings say otherwise).
- Every form carries the session's CSRF token and every POST is checked against it (the sign-in
  form, before there is a session, against a signed cookie of its own: double submit).
- After ``lockout_failures`` failed sign-ins as one login within ``lockout_window`` the login is
  locked for that window (its right password is refused too); every attempt, failed, locked or
  not, is an audit entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

from console import passwords
from console.settings import ConsoleSettings
from store import Store
from store.console import Session, User
from store.types import utcnow

SESSION_COOKIE = "sg_console"
LOGIN_CSRF_COOKIE = "sg_console_login"
FLASH_COOKIE = "sg_console_flash"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Signer:
    """Signs and reads the console's cookies with the key kept in the store."""

    def __init__(self, key: str, settings: ConsoleSettings) -> None:
        self._session = URLSafeTimedSerializer(key, salt="schoolgate-console-session")
        self._login = URLSafeTimedSerializer(key, salt="schoolgate-console-login")
        self._flash = URLSafeTimedSerializer(key, salt="schoolgate-console-flash")
        self.ttl = settings.session_ttl

    def session(self, token: str) -> str:
        return self._session.dumps(token)

    def read_session(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            value = self._session.loads(cookie, max_age=int(self.ttl.total_seconds()))
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    def login_token(self, token: str) -> str:
        return self._login.dumps(token)

    def read_login_token(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            value = self._login.loads(cookie, max_age=3600)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    def flash(self, kind: str, text: str) -> str:
        return self._flash.dumps([kind, text])

    def read_flash(self, cookie: str | None) -> tuple[str, str] | None:
        if not cookie:
            return None
        try:
            value = self._flash.loads(cookie, max_age=300)
        except BadSignature:
            return None
        if isinstance(value, list) and len(value) == 2:
            return str(value[0]), str(value[1])
        return None


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two tokens; a missing one never matches."""
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    user: User


@dataclass(frozen=True, slots=True)
class Refused:
    #: failed | locked
    reason: str
    message: str


def sign_in(
    store: Store, settings: ConsoleSettings, login: str, password: str, address: str | None
) -> SignedIn | Refused:
    """Check a sign-in; every attempt is audited. The same answer for a wrong login and a wrong
    password; a locked login is refused whatever the password."""
    login = login.strip()[:100]
    since = utcnow() - settings.lockout_window
    with store.read() as tx:
        failures = tx.console.failures_since(login, since)
        found = tx.console.user(login)
    if failures >= settings.lockout_failures:
        with store.begin() as tx:
            tx.console.audit(login=login, action="sign_in", outcome="locked", address=address)
        return Refused("locked", _locked(settings))
    user, stored = found if found is not None else (None, None)
    ok = passwords.verify(stored, password) and user is not None and not user.disabled
    if not ok or user is None:
        with store.begin() as tx:
            tx.console.audit(
                login=login,
                action="sign_in",
                outcome="failed",
                user_id=user.id if user else None,
                detail="disabled" if user is not None and user.disabled else None,
                address=address,
            )
        if failures + 1 >= settings.lockout_failures:
            return Refused("locked", _locked(settings))
        return Refused("failed", "Неверный логин или пароль.")
    token = secrets.token_urlsafe(32)
    with store.begin() as tx:
        tx.console.start_session(
            user.id, token_hash(token), secrets.token_urlsafe(32), settings.session_ttl
        )
        tx.console.audit(login=login, action="sign_in", user_id=user.id, address=address)
    return SignedIn(token, user)


def _locked(settings: ConsoleSettings) -> str:
    minutes = int(settings.lockout_window.total_seconds() // 60)
    return (
        f"Слишком много неудачных попыток входа: вход под этим логином закрыт на {minutes} мин. "
        "Если вы забыли пароль, обратитесь к администратору."
    )


def session_of(store: Store, token: str | None) -> Session | None:
    """The live session of a cookie's secret (one statement)."""
    if not token:
        return None
    with store.read() as tx:
        return tx.console.session(token_hash(token))


def sign_out(store: Store, token: str, session: Session, address: str | None) -> None:
    with store.begin() as tx:
        tx.console.end_session(token_hash(token))
        tx.console.audit(
            login=session.user.login, action="sign_out", user_id=session.user.id, address=address
        )


def expires(settings: ConsoleSettings) -> dt.datetime:
    return utcnow() + settings.session_ttl
