"""The one exception type the CLI turns into a one-line message."""


class AdanError(Exception):
    """Bad input or configuration; the message names the culprit in one line."""
