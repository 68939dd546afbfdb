"""``python -m adan_ser.cli``: the ``adan`` command."""

from adan_ser.cli import main

main()
