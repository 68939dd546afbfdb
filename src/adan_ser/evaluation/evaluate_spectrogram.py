"""The evaluate-spectro stage: spectrogram models × heads, leave-one-group-out, utterance predictions.

Same folds (``evaluation/loso.py``) and the same prediction columns as ``pipeline.evaluate``, so
``report.py`` pools them beside the feature-based rows: ``corpus feature_set method train_data
classifier head seed fold true pred file speaker`` with ``feature_set`` = ``spectrogram-<kind>``,
``method`` = ``none``, ``train_data`` = ``real``, ``classifier`` = the architecture name and
``head`` = the head name, ``seed`` = the run seed (every model is trained once per seed of
``eval.seeds``, from that seed alone). The rows carry no ``score_<class>`` columns; the report
does not need them. ``val_uar`` (percent) is the fold model's UAR on its inner validation speaker
at the kept epoch, the same for every row of a fit: the report chooses each model's margin head
by it, never by test results.

As in ``runner.cross_validate``, each fold gets a fresh estimator fitted on the training rows
only (spectrograms, labels, speakers, genders); only ``predict`` sees the test rows. With a Dask
scheduler every model × head × seed × fold is one task; the spectrograms are sent to each worker
once and each task cuts its fold's rows from them, as the local loop does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from adan_ser.classifiers.spectrogram_classifier import SpectroClassifier
from adan_ser.classifiers.spectrogram_nets import ARCHS
from adan_ser.classifiers.torch_base import validation_uar
from adan_ser.contracts.results import fit_log_dir
from adan_ser.core.errors import AdanError
from adan_ser.contracts.folds import folds_for
from adan_ser.features.spectrogram import SpectrogramSet
from adan_ser.core.scheduler import check_scheduler, is_dask_address, run_tasks
from adan_ser.core.seeds import as_seeds

COLUMNS = ["corpus", "feature_set", "method", "train_data", "classifier", "head", "seed",
           "fold", "true", "pred", "file", "speaker", "val_uar"]
#: Estimator parameters the stage sets itself; params.yaml's spectro.train may not.
_RESERVED = {"arch", "head", "head_params", "seed", "log_dir", "segment_frames", "train_hop", "eval_hop"}


def segment_frames(hop_ms: float, segment_s: float, train_overlap_s: float, eval_overlap_s: float) -> dict:
    """Seconds → frame counts: ``segment_frames``, ``train_hop``, ``eval_hop`` (hop = segment − overlap)."""
    for name, overlap in (("train_overlap_s", train_overlap_s), ("eval_overlap_s", eval_overlap_s)):
        if not 0 <= overlap < segment_s:
            raise AdanError(f"spectro.{name} must be in [0, segment_s = {segment_s}), got {overlap}")
    frames = lambda s: int(round(s * 1000.0 / float(hop_ms)))  # noqa: E731
    return {
        "segment_frames": frames(segment_s),
        "train_hop": frames(segment_s - train_overlap_s),
        "eval_hop": frames(segment_s - eval_overlap_s),
    }


def check_train_params(params: Mapping) -> dict:
    params = dict(params or {})
    known = set(SpectroClassifier._get_param_names()) - _RESERVED
    for key in params:
        if key not in known:
            raise AdanError(f"unknown spectro.train parameter {key!r}; known: {', '.join(sorted(known))}")
    return params


def evaluate_spectro(
    manifest: pd.DataFrame,
    specs: SpectrogramSet,
    scheme: str,
    models: Sequence[str],
    heads: Sequence[str],
    seeds: int | Sequence[int],
    corpus: str,
    train_params: Optional[Mapping] = None,
    head_params: Optional[Mapping[str, dict]] = None,
    segment_s: float = 2.0,
    train_overlap_s: float = 1.0,
    eval_overlap_s: float = 1.6,
    log_dir: Optional[str | Path] = None,
    train_downsample: Optional[Mapping] = None,
    progress: bool = True,
    scheduler: Optional[str] = None,
) -> pd.DataFrame:
    """Predictions of every model × head × run seed on every fold (``COLUMNS``; empty without models).

    ``manifest``: the prepare stage's table (file, speaker, gender, emotion, session, …);
    ``specs``: the spectrogram stage's cache, which must hold every manifest file.
    ``train_params``: SpectroClassifier parameters shared by all models; ``head_params``: head
    name → its parameters (``heads.split_params``); ``train_downsample``: the imbalanced setting
    (``cv.train_downsample``, see :func:`loso.folds_for`), the same rows as the evaluate stage.
    ``seeds``: the run seeds (an int is one). ``scheduler``: None / ``"local"`` trains here, one
    fit after the other; a Dask address runs the fits as tasks (same predictions when torch runs on
    as many threads here as on a worker, i.e. ``OMP_NUM_THREADS=1``).
    """
    unknown = [m for m in models if m not in ARCHS]
    if unknown:
        raise AdanError(f"unknown spectro model {unknown[0]!r}; known: {', '.join(ARCHS)}")
    train_params = check_train_params(train_params or {})
    head_params = dict(head_params or {})
    seeds = as_seeds(seeds)
    check_scheduler(scheduler)
    if not models:
        return pd.DataFrame(columns=COLUMNS)
    rows = manifest.reset_index(drop=True)
    X = specs.lookup(rows["file"].tolist())
    y = rows["emotion"].to_numpy()
    speakers = rows["speaker"].to_numpy().astype(str)
    gender = rows["gender"].to_numpy().astype(str) if "gender" in rows else np.full(len(rows), "unknown")
    folds = folds_for(rows, scheme, train_downsample)
    seg = segment_frames(specs.config.get("hop_ms", 10.0), segment_s, train_overlap_s, eval_overlap_s)
    feature_set = f"spectrogram-{specs.config.get('kind', 'linear')}"

    jobs = [(arch, head, seed, fold) for arch in models for head in heads for seed in seeds for fold in folds]

    def task_args(arch, head, seed, fold):
        log = None if log_dir is None else str(fit_log_dir(log_dir, arch, head, seed=seed, fold=fold.name))
        params = dict(arch=arch, head=head, head_params=head_params.get(head), seed=seed, log_dir=log,
                      **seg, **train_params)
        return params, fold.train, fold.test, y[fold.train], speakers[fold.train], gender[fold.train]

    # On Dask the spectrograms travel packed in one block, once per worker.
    fn, shared = (_fit_predict_packed, _pack(X)) if is_dask_address(scheduler) else (_fit_predict, X)
    fits = list(run_tasks(fn, (task_args(*job) for job in jobs), scheduler, shared=shared,
                           desc="spectro", progress=progress, total=len(jobs)))

    parts = [
        pd.DataFrame({
            "corpus": corpus, "feature_set": feature_set, "method": "none", "train_data": "real",
            "classifier": arch, "head": head, "seed": seed, "fold": fold.name,
            "true": y[fold.test], "pred": pred, "file": rows["file"].to_numpy()[fold.test],
            "speaker": speakers[fold.test], "val_uar": val_uar,
        })
        for (arch, head, seed, fold), (pred, val_uar) in zip(jobs, fits)
    ]
    return pd.concat(parts, ignore_index=True)[COLUMNS]


def _fit_predict(X, params, train, test, y_train, spk_train, gender_train) -> tuple[np.ndarray, float]:
    """Fit a fresh ``SpectroClassifier(**params)`` on rows ``train`` of X (n (T_i, F) spectrograms)
    with their labels, speakers and genders; return its (len(test),) predictions for rows ``test``
    and its inner-validation UAR in percent (NaN without a validation speaker)."""
    clf = SpectroClassifier(**params)
    clf.fit([X[i] for i in train], y_train, spk_train, gender_train)
    return clf.predict([X[i] for i in test]), validation_uar(clf)


def _pack(X) -> tuple[np.ndarray, np.ndarray]:
    """n (T_i, F) spectrograms → (ΣT_i, F) frames and (n,) lengths, one block to send to workers."""
    return np.concatenate(X), np.array([len(x) for x in X])


def _fit_predict_packed(packed, *args) -> tuple[np.ndarray, float]:
    """A Dask task: :func:`_fit_predict` on the spectrograms of :func:`_pack`."""
    frames, lengths = packed
    return _fit_predict(np.split(frames, np.cumsum(lengths)[:-1]), *args)
