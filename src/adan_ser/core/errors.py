"""The one exception type the CLI turns into a one-line message."""


class AdanError(Exception):
    """Bad input or configuration; the message names the culprit in one line."""


class InputError(AdanError, ValueError):
    """Bad ``X`` or ``y`` given to an estimator (shape, length, NaN, labels): a one-line
    :class:`AdanError` for the stages, and the ``ValueError`` scikit-learn's conventions (and its
    estimator checks) expect from ``fit``, as its own ``InvalidParameterError`` is both."""


class InputTypeError(InputError, TypeError):
    """``X`` that cannot be read as numbers (sparse, or holding non-numeric objects)."""
