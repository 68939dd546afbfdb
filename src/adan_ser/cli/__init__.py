"""The ``adan`` command: thin wrappers that read params.yaml and paths, then call the library.

Each sub-command is one DVC stage; explicit options override the params file. Every command
validates the whole params file first (:mod:`adan_ser.params`). Bad input of any kind ends the
command with one line on stderr, ``adan <command>: error: <what and where>``, and exit status 2;
usage errors exit 2 as well.
"""

from __future__ import annotations

from adan_ser.cli import data, report, train  # noqa: F401  (each registers its commands on main)
from adan_ser.cli.app import CommandError, main

__all__ = ["main", "CommandError"]
