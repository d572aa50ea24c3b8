"""The transport every connector shares: one vocabulary of error actions, one classification
table, one ``Retry-After`` parser, one retry policy, one HTTP seam with a request deadline and a
body cap.

A connector sends through an :class:`Exchange` (over its injected :class:`httpx.Client`), decides
about each answer with :func:`classify` plus its own wire rules (an envelope, an RPC refusal),
turns a decision into the gateway's error with :func:`error_for`, and retries with a
:class:`RetryPolicy`::

    GatewayError ─ ConnectorError ─┬─ TransientError ─┬─ RateLimited      RETRY, RATE_LIMITED
                                   │                  └─ InconsistentRead
                                   └─ PermanentError ─┬─ AuthError        REAUTH, AUTH
                                                      ├─ ContractViolation CONTRACT
                                                      ├─ CursorExpired    CURSOR_EXPIRED
                                                      └─ RemoteRejected   REJECTED
"""

from connectors.transport._actions import RETRIED, Action, Decision, error_for
from connectors.transport._classify import HTTP, StatusTable, classify
from connectors.transport._exchange import MB, Exchange, Limits, Opened
from connectors.transport._faults import TooDeep
from connectors.transport._json import MAX_DEPTH, parse_json
from connectors.transport._policy import RetryPolicy
from connectors.transport._retry_after import parse_retry_after
from connectors.transport._urls import safe_url, where

__all__ = [
    "HTTP",
    "MAX_DEPTH",
    "MB",
    "RETRIED",
    "Action",
    "Decision",
    "Exchange",
    "Limits",
    "Opened",
    "RetryPolicy",
    "StatusTable",
    "TooDeep",
    "classify",
    "error_for",
    "parse_json",
    "parse_retry_after",
    "safe_url",
    "where",
]
