"""АСИОУ's rows of the shared table (:mod:`connectors.transport`): statuses only, no envelope.

=====================================  ==============  ==============================  =========
what happened                          action          raised                          retried
=====================================  ==============  ==============================  =========
200 / 202                              OK              —                               —
401, 403 (HTTP Basic: nothing to renew) AUTH           AuthError                       no
429                                    RATE_LIMITED    RateLimited(retry_after)        yes
5xx                                    RETRY           TransientError(retry_after)     yes
400, 404, 409, 413, 422                REJECTED        RemoteRejected (unknown school  no
                                                       or receipt, a refused package)
any other status                       CONTRACT        ContractViolation               no
timeout, connect error, reset          RETRY           TransientError                  yes
connection closed mid-package;         RETRY           TransientError (no page of it   by the run
not complete by the deadline                           is complete)
body over its limit                    CONTRACT        ContractViolation               no
body cut short / count mismatch        —               ContractViolation (``_parse``)  no
=====================================  ==============  ==============================  =========

Retries wrap only the request up to its status line: once a package streams, its pages are out
and a fault mid-body ends the pull (its atomic pages are never completed, so nothing of the
package is applied); the next run starts again from the saved state.
"""

from __future__ import annotations

from typing import Any

import httpx

from connectors.transport import HTTP, Action, Decision
from connectors.transport import classify as shared

TABLE = HTTP.but(
    exact={
        200: Action.OK,
        202: Action.OK,
        401: Action.AUTH,
        400: Action.REJECTED,
        404: Action.REJECTED,
        409: Action.REJECTED,
        413: Action.REJECTED,
        422: Action.REJECTED,
    },
    by_class={2: Action.CONTRACT, 4: Action.CONTRACT},
)


def classify(outcome: httpx.Response | BaseException) -> Decision[Any]:
    """What to do about ``outcome``: see the table in the module docstring."""
    return shared(outcome, TABLE)
