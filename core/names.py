"""Russian names (ФИО): normalisation for matching and splitting one ``fio`` string (pure).

Systems write the same person differently: ``ё`` or ``е``, capitals or not, doubled spaces,
hyphens typed as dashes (``Петров–Водкин``), spaces around the hyphen of a double surname.
:func:`normalise_name` folds all of that into one matching key; :func:`split_fio` splits a
``Фамилия Имя Отчество`` string into its parts, keeping their spelling but tidying spaces and
hyphens. The patronymic may be missing, or have more than one word (``Мамед оглы``).

Nothing here logs or raises with the name in the message: names are personal data.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

#: every character a keyboard or a word processor may put where a hyphen was meant
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u00ad"
_DASH_TABLE = str.maketrans(dict.fromkeys(_DASHES, "-"))
_SPACED_HYPHEN = re.compile(r"\s*-\s*")
_SPACES = re.compile(r"\s+")


#: Latin letters that look like Cyrillic ones, typed into Russian names by the wrong keyboard
LOOKALIKES = str.maketrans(
    {
        "a": "а", "A": "А", "B": "В", "c": "с", "C": "С", "e": "е", "E": "Е", "H": "Н",
        "K": "К", "k": "к", "M": "М", "o": "о", "O": "О", "p": "р", "P": "Р", "T": "Т",
        "x": "х", "X": "Х", "y": "у", "Y": "У",
    }
)  # fmt: skip
_CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
_LATIN = re.compile(r"[A-Za-z]")


class InvalidName(ValueError):
    """A ``fio`` that cannot be split (the message never contains the name)."""


def tidy_name(text: str) -> str:
    """Spaces collapsed, dashes turned into hyphens with no spaces around them; case and ё kept."""
    text = unicodedata.normalize("NFC", text).translate(_DASH_TABLE)
    text = _SPACES.sub(" ", text).strip()
    return _SPACED_HYPHEN.sub("-", text).strip("-").strip()


def fix_lookalikes(text: str) -> str:
    """Latin look-alike letters inside a word that is otherwise Cyrillic, made Cyrillic
    (``Пeтрoв`` with Latin e and o → ``Петров``). A word that is wholly Latin is left alone.

    >>> fix_lookalikes("Пeтрoв Ivan") == "Петров Ivan"
    True
    """
    return " ".join(
        word.translate(LOOKALIKES) if _LATIN.search(word) and _CYRILLIC.search(word) else word
        for word in text.split(" ")
    )


def normalise_name(text: str) -> str:
    """The matching key of a name: tidied, look-alike Latin letters made Cyrillic, case-folded,
    ``ё`` → ``е``.

    >>> normalise_name("  Петров – Водкин   Кузьма  Сергеевич ")
    'петров-водкин кузьма сергеевич'
    >>> normalise_name("Ёлкин Пётр") == normalise_name("ЕЛКИН петр")
    True
    """
    return fix_lookalikes(tidy_name(text)).casefold().replace("ё", "е")


def split_fio(fio: str) -> tuple[str, str, str | None]:
    """``(last, first, middle | None)`` of ``"Фамилия Имя [Отчество]"``.

    Words after the first name all belong to the patronymic (``"Алиев Рашид Мамед оглы"``).
    Raises :class:`InvalidName` when there are fewer than two words.
    """
    words = tidy_name(fio).split(" ")
    words = [w for w in words if w]
    if len(words) < 2:
        raise InvalidName("ФИО needs at least a surname and a first name")
    middle = " ".join(words[2:]) or None
    return words[0], words[1], middle


def join_fio(last: str, first: str, middle: str | None = None) -> str:
    """The single ``fio`` string of a name's parts."""
    return " ".join(part for part in (last, first, middle) if part)


def name_key(text: str) -> str:
    """A short stable digest of the normalised name: an identifier that carries no personal data."""
    return hashlib.blake2b(normalise_name(text).encode(), digest_size=8).hexdigest()
