"""one_line: a library's message quoted inside the project's one-line errors."""

from __future__ import annotations

from adan_ser.core.errors import one_line


def test_folds_every_run_of_whitespace():
    assert one_line(ValueError("bad\n  value\tin row 3\n")) == "bad value in row 3"
    assert one_line("") == ""


def test_first_keeps_the_first_non_empty_line():
    assert one_line(RuntimeError("\n  Error opening 'x.wav'  \nlog line 2\n"), first=True) == "Error opening 'x.wav'"
    assert one_line(OSError(), first=True) == "OSError"
