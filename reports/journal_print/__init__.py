"""The printable class journal: the paper copy a school files at each period's end, signed by the
deputy director (HTML with print CSS, and PDF through WeasyPrint)."""

from reports.journal_print.build import ClassJournal, read_journal
from reports.journal_print.output import FORMATS, write_journal

__all__ = ["FORMATS", "ClassJournal", "read_journal", "write_journal"]
