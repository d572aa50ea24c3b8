"""Run one benchmark entry in this process and print its rows as JSON lines."""

from __future__ import annotations

import importlib
import json
import sys


def main(name: str) -> None:
    module = importlib.import_module(f"bench.{name}")
    for row in module.run():
        print(json.dumps(row.to_json(), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
