"""The one vocabulary of what to do about an answer: :class:`Action`, carried by a
:class:`Decision` (data, decided apart from the retry loop), and the gateway error each action
stands for when it is not ``OK``.

==================  ==========================================  ==========================
action              meaning                                     error (core.errors)
==================  ==========================================  ==========================
``OK``              a good answer: use it                       —
``RETRY``           a fault that may pass: back off, try again  ``TransientError``
``RATE_LIMITED``    slow down: wait ``Retry-After``, try again  ``RateLimited``
``REAUTH``          the session or token expired: renew once,   ``AuthError`` (when it
                    repeat once                                 happens again)
``AUTH``            credentials refused: stop, never retry      ``AuthError``
``REJECTED``        the request is refused as invalid           ``RemoteRejected``
``CURSOR_EXPIRED``  an incremental position is too old          ``CursorExpired``
``CONTRACT``        an answer outside the contract              ``ContractViolation``
==================  ==========================================  ==========================
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from core.errors import (
    AuthError,
    ConnectorError,
    ContractViolation,
    CursorExpired,
    RateLimited,
    RemoteRejected,
    TransientError,
)

P = TypeVar("P")


class Action(enum.StrEnum):
    OK = "ok"
    RETRY = "retry"
    RATE_LIMITED = "rate_limited"
    REAUTH = "reauth"
    AUTH = "auth"
    REJECTED = "rejected"
    CURSOR_EXPIRED = "cursor_expired"
    CONTRACT = "contract"


#: the actions the retry policy retries
RETRIED = frozenset({Action.RETRY, Action.RATE_LIMITED})


@dataclass(frozen=True, slots=True)
class Decision(Generic[P]):
    """What to do about one answer (or its absence), and why.

    ``where`` names the request (``"GET http://host/path"``, never credentials); ``payload`` is
    what a system's own classification parsed on the way (an envelope, an RPC answer).
    """

    action: Action
    reason: str
    status: int | None = None
    retry_after: float | None = None
    where: str | None = None
    payload: P | None = None

    @property
    def message(self) -> str:
        """One line for the operator: the request and the reason."""
        return f"{self.where}: {self.reason}" if self.where else self.reason

    def but(self, action: Action, reason: str | None = None) -> Decision[P]:
        """The same answer decided otherwise (a system's own rule over the shared table)."""
        return dataclasses.replace(self, action=action, reason=reason or self.reason)


def error_for(decision: Decision[Any], system: str) -> ConnectorError:
    """The gateway error that ``decision`` stands for (never for ``OK``)."""
    message, status = decision.message, decision.status
    match decision.action:
        case Action.RETRY:
            return TransientError(
                message, system=system, status=status, retry_after=decision.retry_after
            )
        case Action.RATE_LIMITED:
            return RateLimited(
                message, system=system, status=status, retry_after=decision.retry_after
            )
        case Action.REAUTH | Action.AUTH:
            return AuthError(message, system=system, status=status)
        case Action.REJECTED:
            return RemoteRejected(message, system=system, status=status)
        case Action.CURSOR_EXPIRED:
            return CursorExpired(message, system=system, status=status)
        case Action.CONTRACT:
            return ContractViolation(message, system=system, status=status)
        case Action.OK:
            raise ValueError("a good answer stands for no error")
