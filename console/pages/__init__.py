"""The console's pages, one module per group: sign-in, overview and runs, the queues a person
decides (conflicts, holds, identity reviews), reports (reconciliations, journal control,
periods), administration (users, audit, backups)."""
