"""``python -m adan_ser.cli``: the ``adan`` command, with its exit status (2 on bad input)."""

from adan_ser.cli import main

raise SystemExit(main())
