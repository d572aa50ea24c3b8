"""The reports' one error: something asked of a report that cannot be given (an unknown class or
period, a reconciliation that does not exist, a format a report does not have)."""

from __future__ import annotations

from core.errors import GatewayError


class ReportError(GatewayError):
    """A report cannot be made as asked; the message says why (never with personal data)."""
