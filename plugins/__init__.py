"""System plugins: one entry point per external system names its connector, its mapping and its
mapping profile together (entry-point group ``schoolgate.systems``).

A third party adds a system by publishing a package with an entry point in that group whose
object is a :class:`SystemPlugin`; nothing in the gateway is edited. The gateway's own three
systems are plugins like any other (``plugins.es2``, ``plugins.asiou``, ``plugins.o7``).
"""

from plugins.contract import MapperContext, SystemPlugin
from plugins.registry import GROUP, available, load

__all__ = ["GROUP", "MapperContext", "SystemPlugin", "available", "load"]
