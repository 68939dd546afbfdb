"""Cross-validation loop: every fitted step sees the training fold only.

The loop is the one place where folds meet models, so the no-leakage guarantee lives here:
``make_model`` builds a fresh, unfitted estimator for every fold, it is fitted on the training
rows (plus that fold's synthetic rows, which the augmenter produced from the same training rows),
and only ``predict`` ever touches the test rows. Both evaluation stages run their folds here: the
feature-based classifiers on a 2-D feature matrix, the spectrogram models on a
:class:`~adan_ser.features.spectrogram.SpectrogramSet` of utterances (recognised by its fields,
so the feature-based stage does not depend on the spectrogram front end).
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings
from typing import Callable, Iterator, Mapping, Optional, Sequence

import numpy as np
import pandas as pd
from sklearn.utils.validation import has_fit_parameter

from adan_ser.classifiers.nap import ValidatedNuisanceProjection
from adan_ser.classifiers.speaker_norm import USES_TEST_SPEAKER, check_normalise, enrolment_split, normalise_fold

#: ``classify.normalise: nap``: the numbers of nuisance directions tried per fold, and the training
#: speakers held out to choose among them (0 lets validation decline the projection).
NAP_CANDIDATES = (0, 1, 2, 4, 8)
NAP_VAL_SPEAKERS = 2
from adan_ser.classifiers.torch_base import validation_speakers, validation_uar
from adan_ser.contracts.align import check_finite
from adan_ser.contracts.folds import SYNTHETIC_GROUP, Fold
from adan_ser.core.errors import AdanError
from adan_ser.core.scheduler import check_scheduler, run_tasks

TRAIN_DATA = ("real", "synthetic", "real+synthetic")

#: (fold name) -> (X_syn (m, d) in feature units, y_syn (m,)) produced from that fold's training rows.
SyntheticSource = Callable[[str], tuple[np.ndarray, np.ndarray]]


class MissingClassWarning(UserWarning):
    """A class has no training rows in a fold, so that fold's model can never predict it."""


def take(X, idx: np.ndarray):
    """Items ``idx`` of X, in that order, in X's own kind.

    X: an (n, d) array (its rows); a packed set of variable-length items, i.e. a dataclass with
    ``files`` (n,), ``offsets`` (n + 1,) and ``frames`` (Σ T_i, F) such as
    :class:`~adan_ser.features.spectrogram.SpectrogramSet` (a new, packed set of those items, so a
    fold's spectrograms travel as a few arrays); or any sequence (a list of its items).
    """
    idx = np.asarray(idx, dtype=np.int64)
    if isinstance(X, np.ndarray):
        return X[idx]
    if dataclasses.is_dataclass(X) and all(hasattr(X, f) for f in ("files", "offsets", "frames")):
        starts = X.offsets[idx]
        lengths = X.offsets[idx + 1] - starts
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        # Frame j of the new set is frame j − offsets[k] + starts[k] of the old, k its utterance.
        frames = np.arange(offsets[-1]) + np.repeat(starts - offsets[:-1], lengths)
        return dataclasses.replace(X, files=X.files[idx], offsets=offsets, frames=X.frames[frames])
    return [X[i] for i in idx.tolist()]


def training_rows(
    y: np.ndarray,
    speakers: np.ndarray,
    fold: Fold,
    train_data: str,
    synthetic: Optional[SyntheticSource],
) -> tuple[Optional[np.ndarray], Optional[np.ndarray], np.ndarray, Optional[np.ndarray]]:
    """What a model of this fold is trained on: ``(real rows, X_syn, y_train, groups or None)``.

    Real rows are indices into X (None for ``synthetic``); X_syn the fold's synthetic rows, which
    follow the real ones (None for ``real``). Synthetic rows carry no speaker, so with synthetic data
    the groups are dropped for them: early stopping then holds out real speakers only
    (``real+synthetic``) or a stratified share (``synthetic``).
    """
    if train_data not in TRAIN_DATA:
        raise AdanError(f"unknown train_data {train_data!r}; known: {', '.join(TRAIN_DATA)}")
    if train_data == "real":
        return fold.train, None, y[fold.train], speakers[fold.train]
    if synthetic is None:
        raise AdanError(f"train_data {train_data!r} needs synthetic data, but none was given")
    Xs, ys = synthetic(fold.name)
    if train_data == "synthetic":
        return None, np.asarray(Xs), np.asarray(ys), None
    gs = np.full(len(ys), SYNTHETIC_GROUP, dtype=object)
    return (
        fold.train,
        Xs,
        np.concatenate([y[fold.train], ys]),
        np.concatenate([speakers[fold.train].astype(object), gs]),
    )


def fit_params(model, groups, fit_data: Mapping, real_rows: Optional[np.ndarray] = None) -> dict:
    """Keyword arguments of ``model.fit``: ``groups`` and ``fit_data`` for its final estimator, and
    ``real_rows`` for each earlier Pipeline step whose ``fit`` takes it (the preprocessor, which
    may fit its statistics on the real training rows alone, see ``classify.scale_on``).

    A Pipeline routes them by step name (``clf__groups``, ``pre__real_rows``); a bare estimator
    takes ``groups`` and ``fit_data`` as they are. ``real_rows``: (n_train,) bool, True for a real
    training row, False for a synthetic one; None passes nothing.
    """
    params = {"groups": groups, **fit_data}
    if hasattr(model, "steps"):
        prefix = f"{model.steps[-1][0]}__"
        params = {prefix + key: value for key, value in params.items()}
        if real_rows is not None:
            for name, step in model.steps[:-1]:
                if step not in (None, "passthrough") and has_fit_parameter(step, "real_rows"):
                    params[f"{name}__real_rows"] = real_rows
    return params


def _fit_predict_fold(
    X, make_model, fold_name, train, X_syn, y_train, groups, fit_data, test, scores, norm=None
) -> tuple[np.ndarray, pd.DataFrame, float, str]:
    """Build ``make_model(fold_name)``, fit it on one fold's training rows, predict its test rows.

    The unit of work of :func:`cross_validate`, and the task a Dask worker runs. X is the whole
    set (sent to each worker once); the task cuts the training rows ``train`` (indices, or None)
    and appends the fold's synthetic rows ``X_syn``, fits with ``groups`` and ``fit_data`` (per
    training row) routed to the final estimator and the real-row mask to a preprocessor that takes
    it (:func:`fit_params`), and only then cuts and predicts the ``test`` rows.
    Returns ``(pred, scores, val_uar, val_speakers, solver)``: predictions, shape ``(len(test),)``,
    the per-class scores of :func:`score_frame` (``(len(test), K)``, or no columns when ``scores`` is
    False), :func:`adan_ser.classifiers.torch_base.validation_uar` and
    :func:`~adan_ser.classifiers.torch_base.validation_speakers` of the fitted model, and its
    ``solver_`` (the SVM's solver, chosen by training-set size; ``""`` for a model without one).
    ``norm``: None, or ``(speakers, syn_speakers, enrol, scale)`` for ``classify.normalise: speaker``
    (scale True) or ``speaker_mean`` (False):
    the training and ``test`` rows are then speaker-normalised
    (:func:`adan_ser.classifiers.speaker_norm.normalise_fold`, test speakers' statistics from the
    ``enrol`` rows) before the model sees them; or ``("nap", seed)`` for ``classify.normalise: nap``:
    a :class:`~adan_ser.classifiers.nap.ValidatedNuisanceProjection` fitted on the real training rows
    (k chosen on held-out training speakers) transforms the training and test rows, and the chosen k
    is returned as the ``nap_k`` column of the scores frame.
    """
    model = make_model(fold_name)
    n_real = 0 if train is None else len(train)
    n_syn = 0 if X_syn is None else len(X_syn)
    if train is None:
        X_train = X_syn
    else:
        X_train = take(X, train)
        if X_syn is not None:
            X_train = np.concatenate([X_train, X_syn])
    if isinstance(X_train, np.ndarray):
        X_train = check_finite(X_train, what="training features")
    X_test = take(X, test)
    nap_k = None
    if norm is not None and isinstance(norm[0], str) and norm[0] == "nap":
        nap = ValidatedNuisanceProjection(NAP_CANDIDATES, NAP_VAL_SPEAKERS, random_state=norm[1], fold=str(fold_name))
        nap.fit(X_train[:n_real], y_train[:n_real], groups=np.asarray(groups)[:n_real])
        X_train, X_test, nap_k = nap.transform(X_train), nap.transform(X_test), nap.n_components_
    elif norm is not None:
        speakers, syn_speakers, enrol, scale = norm
        X_train, X_test = normalise_fold(X, speakers, train, X_syn, syn_speakers, enrol, test, scale=scale)
    real_rows = np.concatenate([np.ones(n_real, dtype=bool), np.zeros(n_syn, dtype=bool)])
    model.fit(X_train, y_train, **fit_params(model, groups, fit_data, real_rows))
    frame = score_frame(model, X_test) if scores else pd.DataFrame(index=range(len(test)))
    if nap_k is not None:
        frame["nap_k"] = nap_k
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    return (np.asarray(model.predict(X_test)), frame, validation_uar(model), validation_speakers(model),
            str(getattr(final, "solver_", "")))


@dataclasses.dataclass(frozen=True)
class FoldJobs:
    """The fold tasks of one cross-validation (one combination) and how their results become its
    predictions; built by :func:`fold_jobs`, run by :func:`run_jobs`.

    ``desc``: the combination's name (progress, tests); ``folds``: its folds, in order.
    """

    desc: str
    folds: tuple
    _task_args: Callable
    _scored: Mapping
    _y: np.ndarray

    def tasks(self) -> Iterator[tuple]:
        """The arguments of :func:`_fit_predict_fold` after X, one tuple per fold, each built only
        when it is asked for (a fold's synthetic rows are read then)."""
        return (self._task_args(fold) for fold in self.folds)

    def predictions(self, results: Sequence[tuple]) -> pd.DataFrame:
        """The cross-validation's predictions from its folds' results, in fold order (columns as
        :func:`fold_jobs` lists them)."""
        parts = [
            pd.concat(
                [
                    pd.DataFrame(
                        {"row": self._scored[fold.name], "fold": fold.name, "true": self._y[self._scored[fold.name]],
                         "pred": pred, "val_uar": val_uar, "val_speakers": val_speakers, "solver": solver}
                    ),
                    frame.reset_index(drop=True),
                ],
                axis=1,
            )
            for fold, (pred, frame, val_uar, val_speakers, solver) in zip(self.folds, results, strict=True)
        ]
        return pd.concat(parts, ignore_index=True)


def fold_jobs(
    X,
    y: np.ndarray,
    speakers: np.ndarray,
    folds: Sequence[Fold],
    make_model: Callable[[str], object],
    *,
    train_data: str = "real",
    synthetic: Optional[SyntheticSource] = None,
    fit_data: Optional[Mapping[str, np.ndarray]] = None,
    scores: bool = True,
    desc: str = "folds",
    normalise: str = "none",
    enrol: Optional[int] = None,
    seed: int = 0,
    synthetic_speakers: Optional[Callable[[str], Optional[np.ndarray]]] = None,
) -> FoldJobs:
    """The fold tasks of one cross-validation, checked now and built lazily; run them with
    :func:`run_jobs` (alone: :func:`cross_validate`) or together with other cross-validations' tasks.

    X: n items, indexable by :func:`take`: an (n, d) feature matrix in feature units, or a
    ``SpectrogramSet`` of n utterances; y: (n,) labels; speakers: (n,) speaker per item (the
    groups that early stopping and inner searches hold out inside the training fold).
    ``make_model(fold_name)`` returns a fresh, unfitted estimator (or a Pipeline) whose final
    ``fit`` takes ``groups``; ``fit_data``: further (n,) per-item arrays its ``fit`` takes by name
    (e.g. ``gender``), cut to the training rows; real data only. ``train_data``: ``real``,
    ``synthetic`` or ``real+synthetic`` (the ``synthetic`` source's rows, 2-D X only).
    A class of y without training rows in a fold is reported with a :class:`MissingClassWarning`.
    Each job's predictions (:meth:`FoldJobs.predictions`) have one row per test item: ``row``
    (position in X), ``fold``, ``true``, ``pred``, ``val_uar`` (the fold model's inner-validation
    UAR, NaN without one; see
    :func:`adan_ser.classifiers.torch_base.validation_uar`), ``val_speakers`` (its validation
    speakers, space-separated; "" without), ``solver`` (the fold SVM's ``solver_``, ``libsvm`` or
    ``liblinear``; ``""`` for other models) and, when ``scores`` and the model
    has ``decision_function``, one ``score_<class>`` column per class (see :func:`score_frame`;
    computed inside the fold task, so Dask and local agree).
    ``normalise``: ``classify.normalise``; ``speaker`` z-normalises every row by its speaker's
    statistics inside each fold (:mod:`adan_ser.classifiers.speaker_norm`; the test speakers' from
    their own unlabelled test rows), ``speaker_mean`` only subtracts the speaker's mean; 2-D X only.
    ``enrol``: ``classify.enrol``, None (a test speaker's statistics from all its rows, all scored)
    or k (from k rows per test speaker drawn with ``seed`` and the speaker, which are then left out
    of the returned rows: not predicted, not scored). ``synthetic_speakers(fold name)``: the
    synthetic speaker of each synthetic row of that fold, or None (those rows then take the pooled
    statistics of the fold's real training rows). ``desc``: the job's name (progress bars, tests).
    """
    check_normalise(normalise, enrol)
    if normalise != "none" and not isinstance(X, np.ndarray):
        raise AdanError(f"classify.normalise {normalise!r} needs a feature matrix, not {type(X).__name__}")
    y = np.asarray(y)
    speakers = np.asarray(speakers).astype(str)
    folds = tuple(folds)
    fit_data = {key: np.asarray(value) for key, value in (fit_data or {}).items()}
    if fit_data and train_data != "real":
        raise AdanError(f"fit_data {sorted(fit_data)} has no values for synthetic rows (train_data {train_data!r})")
    for key, value in fit_data.items():
        if len(value) != len(y):
            raise AdanError(f"fit_data {key!r} has {len(value)} entries for {len(y)} items")
    labels = np.unique(y)
    # The test rows each fold predicts and scores, and the enrolment rows its test statistics use.
    split = {f.name: enrolment_split(f.test, speakers, enrol, seed) if normalise in USES_TEST_SPEAKER
             else (None, f.test) for f in folds}

    def task_args(fold):
        train, X_syn, y_train, groups = training_rows(y, speakers, fold, train_data, synthetic)
        for label in np.setdiff1d(labels, np.asarray(y_train)):
            warnings.warn(f"fold {fold.name}: class '{label}' has no training rows, so it can never be "
                          "predicted there", MissingClassWarning)
        cut = {key: value[fold.train] for key, value in fit_data.items()}
        enrol_rows, scored = split[fold.name]
        norm = ("nap", seed) if normalise == "nap" else None
        if normalise in USES_TEST_SPEAKER:
            syn_speakers = None
            if X_syn is not None and synthetic_speakers is not None:
                syn_speakers = synthetic_speakers(fold.name)
                if syn_speakers is not None and len(syn_speakers) != len(X_syn):
                    raise AdanError(f"fold {fold.name}: {len(syn_speakers)} synthetic speakers for {len(X_syn)} rows")
            norm = (speakers, syn_speakers, enrol_rows, normalise == "speaker")
        return (make_model, fold.name, train, X_syn, y_train, groups, cut, scored, scores, norm)

    return FoldJobs(desc, folds, task_args, {name: scored for name, (_, scored) in split.items()}, y)


def run_jobs(X, jobs: Sequence[FoldJobs], scheduler: Optional[str] = None, *, desc: str = "folds",
             progress: bool = True, leave: bool = False) -> list[pd.DataFrame]:
    """Run the fold tasks of several cross-validations on X as one stream; one predictions frame per
    job, in order.

    All jobs' folds are submitted together (:func:`adan_ser.core.scheduler.run_tasks`, bounded in
    flight), so on a cluster up to (jobs × folds) workers are busy rather than (folds); locally they
    run one after the other in the order of the jobs and their folds, as separate
    :func:`cross_validate` calls would. Every model is seeded by its own fold, so the frames are the
    same either way.
    """
    check_scheduler(scheduler)
    jobs = list(jobs)
    results = run_tasks(_fit_predict_fold, itertools.chain.from_iterable(job.tasks() for job in jobs), scheduler,
                        shared=X, desc=desc, progress=progress, leave=leave, total=sum(len(j.folds) for j in jobs))
    try:
        return [job.predictions(list(itertools.islice(results, len(job.folds)))) for job in jobs]
    finally:
        results.close()


def cross_validate(X, y: np.ndarray, speakers: np.ndarray, folds: Sequence[Fold],
                   make_model: Callable[[str], object], *, scheduler: Optional[str] = None,
                   progress: bool = True, desc: str = "folds", **options) -> pd.DataFrame:
    """Fit one fresh model per fold and predict that fold's test rows: :func:`fold_jobs` (whose
    arguments ``options`` are, and whose docstring says what comes back) run by :func:`run_jobs`.

    ``scheduler``: None or ``"local"`` runs the folds here one after the other; a Dask scheduler
    address (``tcp://host:8786``, ``localcluster:N``) runs them as independent tasks on its workers
    (X is sent to each worker once, ``make_model`` is pickled with cloudpickle). Models are seeded
    per fold, so both give the same predictions for the same seed.
    """
    check_scheduler(scheduler)
    return run_jobs(X, [fold_jobs(X, y, speakers, folds, make_model, desc=desc, **options)], scheduler,
                    desc=desc, progress=progress)[0]


def score_frame(model, X_test) -> pd.DataFrame:
    """Per-class scores of a fitted model on n test items: columns ``score_<class>``, (n, K).

    ``decision_function`` is used for every classifier (SVM: one-vs-rest scores; DNN: logits,
    whose softmax is ``predict_proba``), so scores of one classifier are comparable across folds.
    A two-class SVM returns one score for ``classes_[1]``; it is stored as (−s, s).
    No ``decision_function`` → an empty frame.
    """
    if not hasattr(model, "decision_function"):
        return pd.DataFrame(index=range(len(X_test)))
    s = np.asarray(model.decision_function(X_test), dtype=np.float64)
    if s.ndim == 1:
        s = np.column_stack([-s, s])
    return pd.DataFrame(s, columns=[f"score_{c}" for c in model.classes_])
