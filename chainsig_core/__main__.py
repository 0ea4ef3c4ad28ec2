"""``python -m chainsig_core`` = the ``chainsig`` command."""

from .cli import main

main()
