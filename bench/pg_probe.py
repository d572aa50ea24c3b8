"""``python -m bench.pg_probe SIZE [sqlite] [pg]``: one full ES2 sync of a school of SIZE into a new
SQLite store and a new PostgreSQL schema, one after the other — the measurement ``sync_pg`` makes,
for one size, printed as lines (for a quick look at one size without the whole entry)."""

from __future__ import annotations

import sys
import tempfile

from bench._server import in_child
from bench.pg import fresh_schema
from bench.sync_full import simulator


def main(argv: list[str]) -> None:
    size, kinds = argv[0], argv[1:] or ["sqlite", "pg"]
    with simulator(size) as url, tempfile.TemporaryDirectory() as workdir:
        for kind in kinds:
            if kind == "pg":
                with fresh_schema() as (store_url, _):
                    out = in_child("bench.sync_full", "sync", url, workdir, store_url)
            else:
                out = in_child("bench.sync_full", "sync", url, workdir)
            rate = out["records"] / out["full_s"]
            print(
                f"{kind} {size}: {out['records']:,} records, full {out['full_s']:.1f} s "
                f"({rate:,.0f} rec/s), re-sync 1% {out['inc_s']:.2f} s, {out['status']}, "
                f"peak {out['peak_mb']:.0f} MB",
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1:])
