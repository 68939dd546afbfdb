"""The plan of jobs: every (training fraction, run seed, fold) a stage runs, built in one place.

The augment stage (feature and audio methods), ``adan export``, the evaluate stage and the
evaluate-spectro stage all cut the same rows from the same settings: the scheme's folds
(:func:`~adan_ser.contracts.folds.folds_for`, ``cv.train_downsample`` applied), each training fold cut
to a training fraction (:func:`~adan_ser.contracts.folds.train_subset`, drawn per run seed and fold),
and, for an augmenter, that cut minus the speakers the DNN validates on
(:func:`~adan_ser.contracts.folds.augmenter_train`). :class:`Plan` builds these jobs once, fractions
outer, then run seeds, then folds in the scheme's order, so every stage walks them in the same
order with the same draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterator, Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd

from adan_ser.contracts.folds import Fold, augmenter_train, folds_for, train_fractions, train_subset
from adan_ser.core.errors import AdanError
from adan_ser.core.seeds import as_seeds


@dataclass(frozen=True)
class PlanSettings:
    """What fixes the jobs: ``cv.scheme``, ``eval.seeds``, ``cv.train_fraction``,
    ``cv.train_downsample`` and ``classify.dnn.val_groups``.

    ``seeds``: an int is one run seed; ``train_fraction``: one share in (0, 1] or a list of them;
    both are checked and stored as tuples (:func:`~adan_ser.core.seeds.as_seeds`,
    :func:`~adan_ser.contracts.folds.train_fractions`). ``validation_speakers``: how many training
    speakers of each fold the DNN holds out for early stopping; an augmenter never sees them.
    """

    scheme: str = "leave-one-speaker-out"
    seeds: Union[int, Sequence[int]] = (0,)
    train_fraction: Union[float, Sequence[float], None] = 1.0
    train_downsample: Optional[Mapping] = None
    validation_speakers: int = 0

    def __post_init__(self):
        object.__setattr__(self, "seeds", tuple(as_seeds(self.seeds)))
        object.__setattr__(self, "train_fraction", tuple(train_fractions(self.train_fraction)))

    @property
    def fractions(self) -> tuple[float, ...]:
        return self.train_fraction


@dataclass(frozen=True, eq=False)
class Job:
    """One training fraction × run seed × fold.

    ``fold``: the scheme's fold with its training rows cut to ``fraction`` (the rows every
    classifier of this job trains on; test rows whole). :attr:`augmenter` and :attr:`validation`
    are derived on first use: the evaluate stages never need them.
    """

    fraction: float
    seed: int
    fold: Fold
    speakers: np.ndarray = field(repr=False)
    validation_speakers: int = 0

    @cached_property
    def augmenter(self) -> Fold:
        """``fold`` minus this seed's validation speakers: the rows an augmenter may learn from.

        Refused (:class:`AdanError` naming fold and seed) when the validation speakers take every
        training speaker (two speakers: one tests, the other validates): the augmenter would get
        no rows, and scikit-learn's "0 sample(s)" would not say why.
        """
        train = augmenter_train(self.fold, self.speakers, self.validation_speakers, self.seed)
        if len(train.train) == 0 and len(self.fold.train):
            held = len(np.unique(self.speakers[self.fold.train]))
            raise AdanError(f"fold {self.fold.name}, seed {self.seed}: the DNN's validation speakers "
                            f"(classify.dnn.val_groups: {self.validation_speakers}) take all {held} training "
                            "speaker(s), so the augmenter has no rows; set classify.dnn.val_groups: 0 or add speakers")
        return train

    @cached_property
    def validation(self) -> np.ndarray:
        """Row indices of the inner-validation speakers: the rows of ``fold.train`` the augmenter
        does not see, exactly those the DNN validates on at this fraction, in manifest order; empty
        without validation speakers. Never a test row: ``fold.train`` holds none."""
        return self.fold.train[~np.isin(self.fold.train, self.augmenter.train)]


class Plan:
    """The jobs of ``settings`` on ``rows`` (the manifest rows the stage works on, in its order).

    ``rows``: a table with the scheme's group column, ``speaker`` and ``emotion`` (and whatever
    ``cv.train_downsample`` reads). :attr:`jobs`: fractions outer, then seeds, then folds.
    """

    def __init__(self, rows: pd.DataFrame, settings: PlanSettings):
        self.settings = settings
        self.folds = folds_for(rows, settings.scheme, settings.train_downsample)
        speakers = rows["speaker"].to_numpy()
        labels = rows["emotion"].to_numpy()
        self.jobs = [Job(fraction, seed, train_subset(fold, speakers, labels, fraction, seed), speakers,
                         settings.validation_speakers)
                     for fraction in settings.fractions for seed in settings.seeds for fold in self.folds]

    @property
    def seeds(self) -> tuple[int, ...]:
        return self.settings.seeds

    @property
    def fractions(self) -> tuple[float, ...]:
        return self.settings.fractions

    @property
    def with_fraction(self) -> bool:
        """True when some fraction is not 1: the tables then carry a ``train_fraction`` column."""
        return any(f != 1.0 for f in self.fractions)

    def augmenter_jobs(self) -> list[Job]:
        """:attr:`jobs`, each one's augmenter rows checked first, so a fold the augmenter cannot
        learn from is refused before anything is fitted (see :attr:`Job.augmenter`)."""
        for job in self.jobs:
            job.augmenter  # noqa: B018 (derived and checked here, kept for the stage)
        return self.jobs

    def runs(self) -> Iterator[tuple[float, int, list[Job]]]:
        """``(fraction, seed, its jobs in fold order)``, fractions outer: one cross-validation each."""
        n = len(self.folds)
        for i in range(0, len(self.jobs), n):
            yield self.jobs[i].fraction, self.jobs[i].seed, self.jobs[i:i + n]

    def by_seed(self) -> Iterator[tuple[int, list[Job]]]:
        """``(seed, its jobs: fractions, then folds)``: for work done once per seed and shared by
        its fractions (an audio method perturbs the corpus once per seed)."""
        for seed in self.seeds:
            yield seed, [job for job in self.jobs if job.seed == seed]

    def job(self, fold: str, seed: Optional[int] = None, fraction: float = 1.0) -> Job:
        """The job of the fold whose test group is ``fold`` (first seed unless ``seed``); an
        unknown fold → :class:`AdanError` listing the folds."""
        seed = self.seeds[0] if seed is None else int(seed)
        for job in self.jobs:
            if job.fold.name == str(fold) and job.seed == seed and job.fraction == float(fraction):
                return job
        raise AdanError(f"unknown fold {fold!r}; folds: {', '.join(f.name for f in self.folds)}")
