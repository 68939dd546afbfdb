"""Leave-one-group-out folds: one fold per speaker (EmoDB, RAVDESS) or per session (IEMOCAP)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping, Optional, Sequence, Union
from zlib import crc32

import numpy as np
import pandas as pd

from adan_ser.core.errors import AdanError

#: cv.scheme in params → manifest column whose values are the held-out groups.
SCHEMES = {
    "leave-one-speaker-out": "speaker",
    "leave-one-session-out": "session",
}


#: Group value the evaluation runner gives synthetic rows. Such rows have no speaker, so they
#: are never held out for validation: validating on them would measure the augmenter, not SER.
SYNTHETIC_GROUP = "__synthetic__"


@dataclass(frozen=True)
class Fold:
    """One split: ``train`` and ``test`` are integer row indices into the manifest."""

    name: str
    train: np.ndarray
    test: np.ndarray


def group_column(scheme: str) -> str:
    try:
        return SCHEMES[scheme]
    except KeyError:
        raise AdanError(f"unknown cv.scheme {scheme!r}; known: {', '.join(SCHEMES)}") from None


def make_folds(groups: Sequence[str]) -> list[Fold]:
    """One fold per distinct group, in sorted order; the fold is named after its test group.

    ``groups``: (n_rows,) group label of every row. Needs at least two groups.
    """
    groups = np.asarray(groups).astype(str)
    names = np.unique(groups)
    if len(names) < 2:
        raise AdanError(f"leave-one-group-out needs at least 2 groups, found {len(names)}")
    idx = np.arange(len(groups))
    return [Fold(str(g), idx[groups != g], idx[groups == g]) for g in names]


def downsample_train(folds: Sequence[Fold], labels: Sequence[str], classes: Sequence[str],
                     keep: float, seed: int = 0) -> list[Fold]:
    """``folds`` with the training rows of each of ``classes`` cut to round(keep · count).

    The imbalanced setting: ``labels`` are the (n_rows,) emotions; the kept rows are a seeded
    random subset drawn per fold (seed, fold position), so every stage that builds the folds from
    the same manifest and settings gets the same rows. Test rows are never touched.
    """
    labels = np.asarray(labels).astype(str)
    unknown = sorted(set(map(str, classes)) - set(labels.tolist()))
    if unknown:
        raise AdanError(f"cv.train_downsample names unknown class {unknown[0]!r}; "
                        f"classes: {', '.join(sorted(set(labels.tolist())))}")
    if not 0.0 < float(keep) <= 1.0:
        raise AdanError(f"cv.train_downsample.keep must be in (0, 1], got {keep!r}")
    out = []
    for i, fold in enumerate(folds):
        rng = np.random.default_rng([int(seed), i])
        drop = []
        for c in sorted(set(map(str, classes))):
            idx = fold.train[labels[fold.train] == c]
            n_keep = int(round(float(keep) * len(idx)))
            drop.append(np.setdiff1d(idx, rng.choice(idx, n_keep, replace=False)))
        out.append(replace(fold, train=np.setdiff1d(fold.train, np.concatenate(drop))))
    return out


def folds_for(manifest: pd.DataFrame, scheme: str, train_downsample: Optional[Mapping] = None) -> list[Fold]:
    """Folds of ``manifest`` (its row positions) for a ``cv.scheme`` name.

    ``train_downsample``: the ``cv.train_downsample`` params, ``{classes: [...], keep: 0.3333,
    seed: 0}``; empty or None leaves the folds whole (see :func:`downsample_train`).
    """
    folds = make_folds(manifest[group_column(scheme)].to_numpy())
    spec = dict(train_downsample or {})
    unknown = set(spec) - {"classes", "keep", "seed"}
    if unknown:
        raise AdanError(f"unknown cv.train_downsample key {sorted(unknown)[0]!r}; known: classes, keep, seed")
    if not spec.get("classes"):
        return folds
    if "keep" not in spec:
        raise AdanError("cv.train_downsample needs keep (the share of rows kept) with classes")
    return downsample_train(folds, manifest["emotion"].to_numpy(), spec["classes"], spec["keep"],
                            int(spec.get("seed", 0)))


def holdout_groups(groups: np.ndarray) -> np.ndarray:
    """Sorted distinct groups that may be held out for validation (all but SYNTHETIC_GROUP)."""
    uniq = np.unique(np.asarray(groups).astype(str))
    return uniq[uniq != SYNTHETIC_GROUP]


#: Tag mixed into every inner-validation stream, so they share no entropy with other draws keyed by
#: (seed, crc32(name)) such as :func:`train_subset`'s.
_VALIDATION_STREAM = crc32(b"inner-validation")


def validation_key(seed: int, name: str) -> float:
    """Position in [0, 1) of ``name`` (a speaker or a fold) on run seed ``seed``'s circle.

    The first uniform of ``np.random.default_rng(np.random.SeedSequence([seed, crc32(name),
    crc32(b"inner-validation")]))``: one independent stream per (seed, name), so the position of a
    speaker does not depend on which other speakers a fold has, and two seeds place the speakers
    independently.
    """
    entropy = [int(seed), crc32(str(name).encode("utf-8")), _VALIDATION_STREAM]
    return float(np.random.default_rng(np.random.SeedSequence(entropy)).random())


def inner_validation_groups(groups, n_groups: int, seed: int, fold: Optional[str] = None) -> Optional[np.ndarray]:
    """The ``n_groups`` training speakers a fold's torch models validate on, or None.

    ``groups``: (n_rows,) group of every row a model trains on (speakers, and
    :data:`SYNTHETIC_GROUP` for synthetic rows, which are never held out); ``fold``: the fold's
    name, i.e. its test group (None: the sorted candidate speakers joined, a stable hash of the
    training speakers). Every speaker and the fold get a position on run seed ``seed``'s circle
    (:func:`validation_key`); the chosen speakers are the ``n_groups`` candidates that follow the
    fold's position, going round the circle. Under leave-one-speaker-out the fold's position is its
    test speaker's, so over the folds of one seed every speaker validates exactly ``n_groups``
    times (the successor map of a cycle is a bijection), and each seed draws its own cycle. The
    draw depends on (seed, fold, candidates) alone, so the DNN (which calls this with its run seed
    and fold) and the augment stage (which fits each run seed's augmenter without these speakers,
    see :func:`augmenter_train`) agree without talking to each other. At least one group stays in
    training. None when ``n_groups`` ≤ 0 or no speaker can be held out.
    """
    g = np.asarray(groups).astype(str)
    candidates = holdout_groups(g)
    n_distinct = len(np.unique(g))
    if int(n_groups) <= 0 or n_distinct < 2 or len(candidates) < 1:
        return None
    k = min(int(n_groups), len(candidates), n_distinct - 1)
    start = validation_key(seed, "\x00".join(candidates) if fold is None else fold)
    keys = np.array([validation_key(seed, c) for c in candidates])
    # distance going round the circle from the fold's position; ties (never seen) go by name
    ahead = np.mod(keys - start, 1.0)
    order = np.lexsort((candidates, ahead))
    return np.sort(candidates[order[:k]])


def augmenter_train(fold: Fold, speakers: Sequence[str], n_groups: int, seed: int) -> Fold:
    """``fold`` with the training rows an augmenter of run seed ``seed`` may learn from.

    Those are the fold's training rows minus the speakers its torch models validate on
    (:func:`inner_validation_groups` of this seed and fold, drawn as the DNN draws them on real +
    synthetic data), so no synthetic row a model trains on comes from an augmenter that saw a
    speaker that model stops early on. ``speakers``: (n_rows,) speaker of every manifest row.
    """
    speakers = np.asarray(speakers).astype(str)
    train_speakers = speakers[fold.train]
    held = inner_validation_groups(np.append(train_speakers, SYNTHETIC_GROUP), n_groups, seed, fold.name)
    if held is None:
        return fold
    return replace(fold, train=fold.train[~np.isin(train_speakers, held)])


def train_fractions(value: Union[float, Sequence[float], None]) -> list[float]:
    """``cv.train_fraction`` as a list of distinct floats in (0, 1]: one number is a list of one,
    None is ``[1.0]``. A bad value → :class:`AdanError` naming the key."""
    if value is None:
        return [1.0]
    values = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
    if not values:
        raise AdanError("cv.train_fraction is an empty list; give a number in (0, 1] or a list of them")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
                or not 0.0 < float(v) <= 1.0:
            raise AdanError(f"cv.train_fraction: {v!r} is not a number in (0, 1]")
        out.append(float(v))
    if len(set(out)) != len(out):
        raise AdanError(f"cv.train_fraction lists a fraction twice: {values}")
    return out


def fraction_name(fraction: float) -> str:
    """``fraction0.25``: the folder and name part of a training fraction other than 1."""
    return f"fraction{float(fraction):g}"


def train_subset(fold: Fold, speakers: Sequence[str], labels: Sequence[str], fraction: float,
                 seed: int) -> Fold:
    """``fold`` with a share ``fraction`` of its training rows kept (a point of a learning curve).

    Per training speaker × emotion with n rows, round(fraction · n) rows are kept (halves
    round to even), but at least one where n ≥ 1: every training speaker and every emotion
    a speaker has stays, so the inner-validation speakers drawn from them
    (:func:`inner_validation_groups`) do not depend on the fraction. ``speakers``, ``labels``:
    (n_rows,) speaker and emotion of every manifest row. Each training row gets one uniform key
    from ``np.random.default_rng([seed, crc32(fold name)])`` and each group keeps its rows of
    smallest key, so the draw is fixed by the run seed and the fold alone, whichever stage asks
    (the augment stage and the evaluate stage cut the same rows), and a smaller fraction keeps a
    subset of the rows a larger one keeps. Kept rows stay in manifest order; test rows are never
    touched; ``fraction`` 1 returns ``fold`` itself.
    """
    fraction = train_fractions(fraction)[0]
    if fraction == 1.0:
        return fold
    train = np.asarray(fold.train)
    if len(train) == 0:
        return fold
    speakers = np.asarray(speakers).astype(str)[train]
    labels = np.asarray(labels).astype(str)[train]
    rng = np.random.default_rng([int(seed), crc32(fold.name.encode("utf-8"))])
    key = rng.random(len(train))
    _, group = np.unique(np.char.add(np.char.add(speakers, "\x00"), labels), return_inverse=True)
    group = group.ravel()
    size = np.bincount(group)
    n_keep = np.maximum(np.round(fraction * size), 1).astype(np.int64)  # np.round: half to even
    order = np.lexsort((key, group))  # by group, then key
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    rank = np.empty(len(train), dtype=np.int64)
    rank[order] = np.arange(len(train)) - start[group[order]]
    return replace(fold, train=train[rank < n_keep[group]])
