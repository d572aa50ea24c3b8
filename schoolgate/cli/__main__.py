"""``python -m schoolgate.cli``: the same as the ``schoolgate`` command."""

from schoolgate.cli import main

main()
