"""The web console for deputy directors and administrators: server-rendered Russian pages in the
same FastAPI server as the feed API (``/console``), over the store's read side and the sync
engine's decisions (:mod:`sync.resolutions`, :mod:`sync.periods`).

    app = api.create_app(store, api_settings)
    console.mount_console(app, store, ConsoleSettings(configured=[("sch42", "es2")]))

Sign-in with roles (:mod:`console.roles`), argon2 password hashes (:mod:`console.passwords`),
sessions in signed cookies, CSRF tokens and the lock-out (:mod:`console.auth`); users made with
:func:`console.users.create_user` (``schoolgate users``). The seams where schedules, backups and
the journal-control report plug in: :mod:`console.seams`.
"""

from console.app import create_console, mount_console
from console.seams import BackupInfo, ControlPage
from console.settings import ConsoleSettings

__all__ = ["BackupInfo", "ConsoleSettings", "ControlPage", "create_console", "mount_console"]
