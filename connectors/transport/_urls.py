"""URLs fit for a log line or an error message: no user or password, no secret parameters."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx

#: query parameters whose values never reach a log line or an error message
SECRET_PARAMS = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "auth",
        "authorization",
        "client_secret",
        "code",
        "key",
        "login",
        "login_password",
        "password",
        "passwd",
        "pwd",
        "secret",
        "session",
        "sessionid",
        "sid",
        "sig",
        "signature",
        "token",
    }
)
REDACTED = "[redacted]"


def safe_url(url: httpx.URL | str) -> str:
    """``url`` without its user and password, its fragment and the values of secret parameters."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return "[an unreadable URL]"
    parsed = parsed.copy_with(userinfo=b"", fragment=None)
    if parsed.query:
        params = [
            (name, REDACTED if name.lower() in SECRET_PARAMS else value)
            for name, value in parsed.params.multi_items()
        ]
        parsed = parsed.copy_with(query=urlencode(params, safe="[]").encode("ascii"))
    return str(parsed)


def where(method: str, url: httpx.URL | str) -> str:
    """``"GET http://host/path"``: what a log line or an error names a request by."""
    return f"{method} {safe_url(url)}"
