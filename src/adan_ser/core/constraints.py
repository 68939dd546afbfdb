"""Parameter constraints for scikit-learn's ``_parameter_constraints`` beyond its own."""

from __future__ import annotations

from numbers import Integral

from sklearn.utils._param_validation import Options

__all__ = ["LayerSizes"]


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
