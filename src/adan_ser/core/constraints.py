"""Parameter constraints for scikit-learn's ``_parameter_constraints`` beyond its own, and the
check that turns a violation into the project's one-line error."""

from __future__ import annotations

from numbers import Integral

from sklearn.utils._param_validation import InvalidParameterError, Options

from adan_ser.core.errors import AdanError

__all__ = ["LayerSizes", "ParameterError", "check_params"]


class ParameterError(AdanError, ValueError):
    """A constructor parameter outside its ``_parameter_constraints``: a one-line
    :class:`AdanError` for the stages, and the ``ValueError`` scikit-learn's conventions expect."""


def check_params(estimator) -> None:
    """Check ``estimator``'s parameters against its ``_parameter_constraints``; a violation →
    :class:`ParameterError` with scikit-learn's message on one line (it names parameter and class)."""
    try:
        estimator._validate_params()
    except InvalidParameterError as exc:
        raise ParameterError(str(exc).strip().splitlines()[0]) from None


class LayerSizes(Options):
    """A list or tuple of positive integer layer sizes (may be empty).

    An :class:`~sklearn.utils._param_validation.Options` only because scikit-learn's parameter
    validation accepts no other constraint class; the test is on the elements, not a finite set.

    Examples
    --------
    >>> LayerSizes().is_satisfied_by([100, 100]), LayerSizes().is_satisfied_by([0])
    (True, False)
    """

    def __init__(self):
        super().__init__(type=(list, tuple), options=set())

    def is_satisfied_by(self, val):
        return isinstance(val, (list, tuple)) and all(
            isinstance(u, Integral) and not isinstance(u, bool) and u >= 1 for u in val
        )

    def __str__(self):
        return "a list or tuple of positive integer layer sizes"
