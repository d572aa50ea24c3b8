"""Connector plugins: one package per external system, behind the contract in ``connectors.base``."""

from connectors.base import (
    Capabilities,
    Connector,
    Direction,
    Page,
    PushItem,
    PushResult,
    ReadMode,
    Scope,
    State,
    WireRecord,
)

__all__ = [
    "Capabilities",
    "Connector",
    "Direction",
    "Page",
    "PushItem",
    "PushResult",
    "ReadMode",
    "Scope",
    "State",
    "WireRecord",
]
