"""schoolgate — the school journal integration gateway.

The application shell (configuration, logging, CLI) lives here; the layers it drives are the
top-level packages ``connectors``, ``mapping``, ``sync`` and ``store``.
"""

__version__ = "0.1.0"
