"""«Электронная школа 2.0» connector: bearer token, JSON envelope, cursor pages, batch writes.

The vendor publishes no exchange specification: this connector is built against the interface
contract in ``shared/specs/es2.md``, modelled on what public clients of the system show. Every
ES2-specific detail (paths, field names, options) stays in this package; code tables and the time
zone live in the mapping profile ``mapping/profiles/es2.toml``.
"""

from connectors.es2._classify import Action, Decision, classify
from connectors.es2._client import ES2Client, RetryPolicy
from connectors.es2._envelope import Envelope, parse_envelope
from connectors.es2._options import ES2Options, windows
from connectors.es2._paginator import RawPage, read_pages
from connectors.es2._push import MAX_BATCH, PUSH_PATHS, idempotency_key
from connectors.es2.connector import PATHS, READ_MODES, ES2Connector

__all__ = [
    "MAX_BATCH",
    "PATHS",
    "PUSH_PATHS",
    "READ_MODES",
    "Action",
    "Decision",
    "ES2Client",
    "ES2Connector",
    "ES2Options",
    "Envelope",
    "RawPage",
    "RetryPolicy",
    "classify",
    "idempotency_key",
    "parse_envelope",
    "read_pages",
    "windows",
]
