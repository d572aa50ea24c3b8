"""АСИОУ: streamed windows-1251 export packages and asynchronous imports with receipts."""

from connectors.asiou._connector import AsiouConnector, make_ticket, split_ticket
from connectors.asiou._http import RetryPolicy, classify_exception, classify_status, retry_after
from connectors.asiou._package import Receipt, build_import, parse_receipt
from connectors.asiou._parse import iter_pages
from connectors.asiou._stream import PackageStream, normalise_prolog, root_start
from connectors.asiou._wire import (
    CONTAINERS,
    ELEMENT_KEY,
    ELEMENT_OF,
    PACKAGE_ENTITIES,
    PUSH_ENTITIES,
    RECORD_ELEMENTS,
    WireNames,
)

__all__ = [
    "CONTAINERS",
    "ELEMENT_KEY",
    "ELEMENT_OF",
    "PACKAGE_ENTITIES",
    "PUSH_ENTITIES",
    "RECORD_ELEMENTS",
    "AsiouConnector",
    "PackageStream",
    "Receipt",
    "RetryPolicy",
    "WireNames",
    "build_import",
    "classify_exception",
    "classify_status",
    "iter_pages",
    "make_ticket",
    "normalise_prolog",
    "parse_receipt",
    "retry_after",
    "root_start",
    "split_ticket",
]
