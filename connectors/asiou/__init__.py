"""АСИОУ: streamed windows-1251 export packages and asynchronous imports with receipts.

Public: the connector, the package reader (export bytes → pages of wire records) and the
package's entities and record elements.
"""

from connectors.asiou._connector import AsiouConnector
from connectors.asiou._parse import iter_pages
from connectors.asiou._wire import PACKAGE_ENTITIES, RECORD_ELEMENTS

__all__ = ["PACKAGE_ENTITIES", "RECORD_ELEMENTS", "AsiouConnector", "iter_pages"]
