"""Names every stage shares: the reference method and the heads that add no margin.

Spelled once here so that a rename cannot leave a stage comparing against a string of its own.
"""

from __future__ import annotations

#: The augmentation method that adds nothing: the reference of every paired comparison.
REFERENCE_METHOD = "none"

#: The plain classification head of the neural classifiers.
SOFTMAX_HEAD = "softmax"

#: The head column of a classifier without heads (the SVM).
NO_HEAD = "-"

#: Heads that add no margin; labels and plots leave them out of a row's name.
PLAIN_HEADS = (SOFTMAX_HEAD, NO_HEAD)
