"""Operations: running the gateway's jobs unattended — schedules, the job queue and its workers,
checks of the configured systems, backups."""
