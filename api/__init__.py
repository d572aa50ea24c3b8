"""The feed API for regional portals and the local journal's write API (FastAPI).

Sits above ``sync`` and ``store``, below the application: it reads no configuration file — the
application passes the store and :class:`ApiSettings` in. ``create_app`` gives the ASGI app;
:mod:`api.tokens` makes access tokens.
"""

from api.app import create_app
from api.settings import ApiSettings, SchoolSetup
from api.tokens import SCOPES, TokenError, issue

__all__ = ["SCOPES", "ApiSettings", "SchoolSetup", "TokenError", "create_app", "issue"]
