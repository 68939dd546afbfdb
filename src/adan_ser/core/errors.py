"""The one exception type the CLI turns into a one-line message, and the helper that makes a
library's message fit on that line."""


class AdanError(Exception):
    """Bad input or configuration; the message names the culprit in one line."""


class InputError(AdanError, ValueError):
    """Bad ``X`` or ``y`` given to an estimator (shape, length, NaN, labels): a one-line
    :class:`AdanError` for the stages, and the ``ValueError`` scikit-learn's conventions (and its
    estimator checks) expect from ``fit``, as its own ``InvalidParameterError`` is both."""


class InputTypeError(InputError, TypeError):
    """``X`` that cannot be read as numbers (sparse, or holding non-numeric objects)."""


def one_line(text: object, *, first: bool = False) -> str:
    """``text`` (an exception, or anything ``str`` takes) on one line, to quote inside a message.

    By default every run of whitespace, newlines included, is folded to one space. With
    ``first=True`` only the first non-empty line is kept, stripped, for libraries whose later
    lines are a log or a dump; an exception with an empty message then gives its type's name.
    """
    if first:
        for line in str(text).splitlines():
            if line.strip():
                return line.strip()
        return type(text).__name__
    return " ".join(str(text).split())
