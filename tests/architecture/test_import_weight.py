"""What a pull loads: the configuration and the sync engine, not the report renderers (issue 19:
every process's memory starts with its imports, and a pull has 150 MB in all)."""

from __future__ import annotations

import subprocess
import sys

#: what a pull's process imports before it works
PULL = (
    "import sys; from schoolgate.config import parse_config; from sync import jobs; "
    "from sync.pull import Puller; "
)


def _printed(code: str) -> list[str]:
    """The lines a fresh interpreter prints running ``code``."""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return run.stdout.splitlines()


def test_the_configuration_and_a_pull_do_not_load_the_report_renderers() -> None:
    code = PULL + (
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('openpyxl', 'PIL') "
        "or m.startswith(('reports.render', 'reports.control.output'))))"
    )
    assert _printed(code) == ["[]"]


def test_the_report_names_are_still_there_when_asked_for() -> None:
    from reports import control

    assert control.FORMATS == ("html", "xlsx", "json", "csv")
    assert control.ControlSettings().quarter_weeks == 9
    assert callable(control.write_control) and callable(control.run_control)


def test_a_pull_on_sqlite_loads_neither_alembic_nor_the_queue_nor_psycopg() -> None:
    """A pull asks its store's revision and the newest one (every command does) without Alembic,
    reads the ``[queue]`` settings without huey and redis, and on SQLite never loads psycopg:
    together about 25 MB of every sync process."""
    code = PULL + (
        "import tempfile; from store import Store; "
        "s = Store.open('sqlite:///' + tempfile.mkdtemp() + '/s.db'); "
        "print(s.revision(), s.head()); s.close(); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'alembic', 'huey', 'redis', 'psycopg', 'mako'}))"
    )
    from store.migrate import scripts_head

    assert _printed(code) == [f"None {scripts_head()}", "[]"]


def test_the_newest_revision_is_the_scripts_own() -> None:
    from store import migrate

    assert migrate.head_revision() == migrate.scripts_head()
