"""The gateway's error tree. Library errors are translated once, at the boundary (``raise … from exc``).

    GatewayError
    ├── ConfigError                 bad configuration file, key or missing secret
    ├── RecordError                 one record failed mapping/validation (names entity, record, field)
    │   ├── MissingReference        it refers to a record the gateway does not have (yet): it waits
    │   └── SentToReview            a person it cannot tell apart from others: a person decides
    ├── StoreError                  the journal store refused an operation
    │   └── DataRejected            the database refused this data (a constraint, a value too long)
    └── ConnectorError              anything a connector reports (carries ``system``)
        ├── TransientError          worth retrying: 5xx, resets, busy, HTML where JSON was due
        │   ├── RateLimited         429 with its ``retry_after``
        │   └── InconsistentRead    the remote data version moved under a paged read
        └── PermanentError          retrying will not help: stop and tell the operator
            ├── AuthError           credentials refused, account locked, second 401 in a row
            ├── ContractViolation   the remote answered outside its contract (bad envelope, integrity)
            ├── CursorExpired       an incremental cursor is too old: run a full pull
            └── RemoteRejected      the remote refused a request as invalid (validation, not_found)

Messages never carry personal data or secrets: records are named by entity and id only.
"""

from __future__ import annotations

from core.redact import SENSITIVE_KEYS


class GatewayError(Exception):
    """Root of every error the gateway raises on purpose."""


class ConfigError(GatewayError):
    """The configuration is invalid; ``key`` names the offending setting."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        self.key = key
        super().__init__(f"{key}: {message}" if key else message)


class RecordError(GatewayError):
    """A single record cannot be mapped or validated. Other records are unaffected.

    ``value`` is the value refused, for the person who corrects it at the source; it is never
    in the message, and never kept for a personal field (ФИО, birth date, СНИЛС)."""

    def __init__(
        self,
        reason: str,
        *,
        entity: str,
        record_id: str | None = None,
        field: str | None = None,
        system: str | None = None,
        value: object = None,
    ) -> None:
        self.reason = reason
        self.entity = entity
        self.record_id = record_id
        self.field = field
        self.system = system
        personal = field is not None and field.rsplit(".", 1)[-1].lower() in SENSITIVE_KEYS
        self.value = None if value is None or personal else _shown(value)
        where = entity
        if system:
            where = f"{system}:{where}"
        if record_id is not None:
            where = f"{where} {record_id}"
        if field:
            where = f"{where} field {field!r}"
        super().__init__(f"{where}: {reason}")


def _shown(value: object, limit: int = 200) -> str:
    text = str(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


class MissingReference(RecordError):
    """The record refers to a ``target`` record (``ref``, an external reference) that the gateway
    does not have: not arrived yet, or refused. The record waits for it instead of being lost."""

    def __init__(
        self, *, entity: str, record_id: str | None, field: str, target: str, ref: str
    ) -> None:
        self.target = target
        self.ref = ref
        super().__init__(
            f"refers to {target} {ref} which the gateway does not have yet",
            entity=entity,
            record_id=record_id,
            field=field,
        )


class SentToReview(RecordError):
    """The record names a person the gateway cannot tell apart from ``candidates`` (gateway
    ids): it goes to the identity review queue, never to a guess."""

    def __init__(
        self,
        reason: str,
        *,
        entity: str,
        record_id: str | None,
        candidates: tuple[str, ...] = (),
        field: str | None = None,
        system: str | None = None,
    ) -> None:
        self.candidates = candidates
        super().__init__(reason, entity=entity, record_id=record_id, field=field, system=system)


class StoreError(GatewayError):
    """The store could not perform an operation."""


class DataRejected(StoreError):
    """The database refused the data of one operation (a constraint, a value out of range): the
    records involved are poison, the store itself is fine."""


class ConnectorError(GatewayError):
    """Raised by a connector; ``system`` names the external system."""

    def __init__(self, message: str, *, system: str, status: int | None = None) -> None:
        self.system = system
        self.status = status
        super().__init__(f"[{system}] {message}")


class TransientError(ConnectorError):
    """A fault that may pass: retry with backoff."""

    def __init__(
        self,
        message: str,
        *,
        system: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, system=system, status=status)


class RateLimited(TransientError):
    """The remote asked us to slow down for ``retry_after`` seconds."""


class InconsistentRead(TransientError):
    """The remote's data revision changed between pages of one read."""


class PermanentError(ConnectorError):
    """A fault that retrying will not fix."""


class AuthError(PermanentError):
    """Credentials refused, account locked, or re-authentication failed."""


class ContractViolation(PermanentError):
    """The remote answered outside its contract (envelope, integrity, encoding)."""


class CursorExpired(PermanentError):
    """An incremental cursor/since value is too old: a full pull is needed."""


class RemoteRejected(PermanentError):
    """The remote refused the request as invalid."""
