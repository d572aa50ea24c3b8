"""«Электронная школа 2.0» connector: bearer token, JSON envelope, cursor pages, batch writes.

The vendor publishes no exchange specification: this connector is built against the interface
contract in ``shared/specs/es2.md``, modelled on what public clients of the system show. Every
ES2-specific detail (paths, field names, options) stays in this package; code tables and the time
zone live in the mapping profile ``mapping/profiles/es2.toml``.

Public: the connector, its options, and the lesson windows a read is cut into.
"""

from connectors.es2._connector import ES2Connector
from connectors.es2._options import ES2Options, windows

__all__ = ["ES2Connector", "ES2Options", "windows"]
