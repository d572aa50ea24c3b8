"""The one error of backups: :class:`BackupError`, a Russian message for the administrator."""

from __future__ import annotations

from core.errors import GatewayError


class BackupError(GatewayError):
    """A backup could not be made, or a restore was refused or failed; the message says why."""
