"""Speaker normalisation (``classify.normalise: speaker``): per-speaker z-scores of the features.

Every speaker's rows are centred and scaled with that speaker's own mean and standard deviation,
computed from feature vectors alone: no function here takes labels. For a test speaker this uses
that speaker's **unlabelled test audio**, so a deployment needs a few utterances of a new speaker
before it can classify them. ``classify.enrol: k`` is the realistic variant: the statistics of a
test speaker come from k of its utterances (drawn per run seed and speaker), and those k
enrolment utterances are removed from scoring; ``null`` uses all of the test speaker's
utterances and scores them all.

Within one fold (:func:`normalise_fold`): real training rows by their own speaker (all of that
speaker's training rows), synthetic rows by their synthetic speaker where the synthetic set
names one, otherwise with the pooled statistics of the fold's real training rows (not the
synthetic set's own statistics, which would depend on which classes the augmenter generated),
test rows by their test speaker's enrolment rows (or all its rows).
"""

from __future__ import annotations

import zlib
from typing import Optional

import numpy as np

from adan_ser.core.errors import AdanError

#: ``classify.normalise`` values: ``speaker`` subtracts each speaker's mean and divides by its
#: standard deviation; ``speaker_mean`` only subtracts its mean (a k-utterance standard deviation of
#: thousands of features is noisy, the mean less so), leaving the scaling to the classifier's
#: preprocessor, fitted on the training rows.
NORMALISE = ("none", "speaker", "speaker_mean", "nap")

#: The ``classify.normalise`` values that take a test speaker's own statistics (``nap`` does not:
#: it is fitted on training rows only, :mod:`adan_ser.classifiers.nap`).
USES_TEST_SPEAKER = ("speaker", "speaker_mean")

#: A per-speaker standard deviation below this (a feature constant for that speaker, or one
#: enrolment utterance) divides by 1 instead: the feature is centred, not scaled.
STD_FLOOR = 1e-8


def check_normalise(normalise: str, enrol: Optional[int]) -> None:
    """``classify.normalise`` / ``classify.enrol``; a bad value → :class:`AdanError` naming the key."""
    if normalise not in NORMALISE:
        raise AdanError(f"classify.normalise must be one of {', '.join(NORMALISE)}, got {normalise!r}")
    if enrol is not None:
        if isinstance(enrol, bool) or not isinstance(enrol, (int, np.integer)) or enrol < 1:
            raise AdanError(f"classify.enrol must be null or an integer ≥ 1, got {enrol!r}")
        if normalise not in USES_TEST_SPEAKER:
            raise AdanError(f"classify.enrol {enrol} needs classify.normalise: speaker or speaker_mean "
                            f"(got {normalise!r})")


def _stats(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    return mean, np.where(std < STD_FLOOR, 1.0, std)


def speaker_znorm(X, speakers, stats_rows=None, scale: bool = True) -> np.ndarray:
    """Per-speaker z-scores: X (n, d) feature units, speakers (n,) → (n, d) float64.

    ``stats_rows``: (n,) bool, the rows whose features give their speaker's mean and standard
    deviation (None: every row); every row of a speaker is normalised with them. A speaker without
    a statistics row → :class:`AdanError`. Standard deviations below :data:`STD_FLOOR` count as 1.
    ``scale`` False: subtract the speaker's mean only (``classify.normalise: speaker_mean``).
    Takes no labels, by design: the statistics are a function of (X, speakers, stats_rows) alone.
    """
    X = np.asarray(X, dtype=np.float64)
    speakers = np.asarray(speakers).astype(str)
    if X.ndim != 2 or speakers.shape != (len(X),):
        raise AdanError(f"speaker_znorm: X {X.shape} and speakers {speakers.shape} do not match")
    rows = np.ones(len(X), dtype=bool) if stats_rows is None else np.asarray(stats_rows, dtype=bool)
    if rows.shape != (len(X),):
        raise AdanError(f"speaker_znorm: stats_rows has shape {rows.shape} for {len(X)} rows")
    out = np.empty_like(X)
    for speaker in np.unique(speakers):
        mine = speakers == speaker
        use = mine & rows
        if not use.any():
            raise AdanError(f"speaker {str(speaker)!r} has no rows to compute its normalisation statistics from")
        mean, std = _stats(X[use])
        out[mine] = (X[mine] - mean) / std if scale else X[mine] - mean
    return out


def speaker_stream(seed: int, speaker: str) -> np.random.Generator:
    """The random stream of one (run seed, speaker): the same draw on any machine and in any order."""
    return np.random.default_rng([int(seed), zlib.crc32(str(speaker).encode("utf-8"))])


def enrolment_split(test: np.ndarray, speakers: np.ndarray, k: Optional[int], seed: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``(enrol, scored)``: the test rows (indices into speakers) that give each test speaker's
    statistics, and those that are predicted and scored.

    ``k`` None: every test row does both (``enrol`` is ``test``, nothing is excluded). ``k``: per
    test speaker, k of its rows drawn with :func:`speaker_stream` (seed, speaker) enrol and are
    removed from ``scored``; a speaker with k or fewer test rows → :class:`AdanError`.
    Both keep the order of ``test``.
    """
    test = np.asarray(test, dtype=np.int64)
    if k is None:
        return test, test
    speakers = np.asarray(speakers).astype(str)
    enrolled = np.zeros(len(test), dtype=bool)
    for speaker in np.unique(speakers[test]):
        pos = np.flatnonzero(speakers[test] == speaker)
        if len(pos) <= k:
            raise AdanError(f"classify.enrol {k}: test speaker {str(speaker)!r} has only {len(pos)} utterances, "
                            "none would be left to score")
        enrolled[speaker_stream(seed, speaker).choice(pos, size=k, replace=False)] = True
    return test[enrolled], test[~enrolled]


def normalise_fold(X: np.ndarray, speakers: np.ndarray, train: Optional[np.ndarray], X_syn: Optional[np.ndarray],
                   syn_speakers: Optional[np.ndarray], enrol: np.ndarray, scored: np.ndarray,
                   scale: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``(X_train, X_test)`` of one fold, speaker-normalised (see the module text).

    X (n, d) all rows in feature units; speakers (n,); ``train``: the real training rows (indices,
    or None); ``X_syn`` (m, d) the fold's synthetic rows (or None) with ``syn_speakers`` (m,) or
    None; ``enrol``, ``scored`` from :func:`enrolment_split`. X_train is the real rows then the
    synthetic rows, as the runner stacks them; X_test the ``scored`` rows. ``scale`` False: means only.
    """
    X = np.asarray(X, dtype=np.float64)
    speakers = np.asarray(speakers).astype(str)
    parts = []
    if train is not None:
        parts.append(speaker_znorm(X[train], speakers[train], scale=scale))
    if X_syn is not None:
        X_syn = np.asarray(X_syn, dtype=np.float64)
        if syn_speakers is not None:
            parts.append(speaker_znorm(X_syn, syn_speakers, scale=scale))
        else:
            mean, std = _stats(X[train] if train is not None and len(train) else X_syn)
            parts.append((X_syn - mean) / std if scale else X_syn - mean)
    rows = np.concatenate([enrol, scored])
    mask = np.r_[np.ones(len(enrol), dtype=bool), np.zeros(len(scored), dtype=bool)]
    X_test = speaker_znorm(X[rows], speakers[rows], stats_rows=mask, scale=scale)[len(enrol):]
    return np.concatenate(parts), X_test
