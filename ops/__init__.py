"""Operations on a running gateway: checks of the configured systems, backups of the store,
schedules and workers. Each part lives in a module or package of its own (``ops.check``,
``ops.backup``, …); this package sits above ``sync`` and below the application."""
