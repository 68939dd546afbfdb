"""The evaluate-spectro stage: spectrogram models × heads, leave-one-group-out, utterance predictions.

Same folds (``contracts/folds.py``) and the same prediction columns as ``evaluation/evaluate.py``, so
the report pools them beside the feature-based rows: ``corpus feature_set method train_data
classifier head seed fold true pred file speaker`` with ``feature_set`` = ``spectrogram-<kind>``,
``method`` = ``none``, ``train_data`` = ``real``, ``classifier`` = the architecture name and
``head`` = the head name, ``seed`` = the run seed (every model is trained once per seed of
``eval.seeds``, from that seed alone). The rows carry no ``score_<class>`` columns; the report
does not need them. ``val_uar`` (percent) is the fold model's UAR on its inner validation speaker
at the kept epoch, the same for every row of a fit: the report chooses each model's margin head
by it, never by test results.

The folds run in :func:`adan_ser.evaluation.runner.cross_validate`, the loop of the evaluate stage:
each fold gets a fresh estimator fitted on the training rows only (spectrograms, labels, speakers,
genders); only ``predict`` sees the test rows. With a Dask scheduler every fold of a model × head ×
seed is one task; the spectrograms (one packed :class:`SpectrogramSet`) are sent to each worker once
per model × head × seed and each task cuts its fold's utterances from them, as the local loop does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from adan_ser.classifiers.spectrogram_classifier import SpectroClassifier
from adan_ser.classifiers.spectrogram_nets import ARCHS
from adan_ser.contracts.names import REFERENCE_METHOD
from adan_ser.contracts.plan import Plan, PlanSettings
from adan_ser.contracts.results import Combination, fit_log_dir
from adan_ser.core.errors import AdanError
from adan_ser.core.scheduler import check_scheduler
from adan_ser.evaluation.runner import cross_validate
from adan_ser.features.spectrogram import SpectrogramSet

COLUMNS = ["corpus", "feature_set", "method", "train_data", "classifier", "head", "seed",
           "fold", "true", "pred", "file", "speaker", "val_uar", "val_speakers"]
#: Estimator parameters the stage sets itself; params.yaml's spectro.train may not.
_RESERVED = {"arch", "head", "head_params", "random_state", "val_fold", "log_dir", "segment_frames", "train_hop",
             "eval_hop"}


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


@dataclass(frozen=True)
class SpectroSettings:
    """Everything :func:`evaluate_spectro` runs by, besides its inputs.

    ``models``: architecture names (``spectro.models``); ``heads``: head names; ``corpus``: the
    ``corpus`` column; ``plan``: the jobs' settings (:class:`~adan_ser.contracts.plan.PlanSettings`;
    scheme, run seeds and ``cv.train_downsample``, the same rows as the evaluate stage; whole
    training folds). ``train_params``: SpectroClassifier parameters shared by all models;
    ``head_params``: head name → its parameters (``heads.split_params``). ``segment_s``,
    ``train_overlap_s``, ``eval_overlap_s``: seconds (:func:`segment_frames`). ``scheduler``: None /
    ``"local"`` trains here, one fit after the other; a Dask address runs the fits as tasks (same
    predictions when torch runs on as many threads here as on a worker, i.e. ``OMP_NUM_THREADS=1``).
    """

    models: Sequence[str]
    heads: Sequence[str]
    corpus: str
    plan: PlanSettings = field(default_factory=PlanSettings)
    train_params: Optional[Mapping] = None
    head_params: Optional[Mapping[str, dict]] = None
    segment_s: float = 2.0
    train_overlap_s: float = 1.0
    eval_overlap_s: float = 1.6
    scheduler: Optional[str] = None
    progress: bool = True


def evaluate_spectro(manifest: pd.DataFrame, specs: SpectrogramSet, settings: SpectroSettings,
                     log_dir: Optional[str | Path] = None) -> pd.DataFrame:
    """Predictions of every model × head × run seed on every fold (``COLUMNS``; empty without models).

    ``manifest``: the prepare stage's table (file, speaker, gender, emotion, session, …);
    ``specs``: the spectrogram stage's cache, which must hold every manifest file. Training curves
    go under ``log_dir`` (None: none are written).
    """
    s = settings
    unknown = [m for m in s.models if m not in ARCHS]
    if unknown:
        raise AdanError(f"unknown spectro model {unknown[0]!r}; known: {', '.join(ARCHS)}")
    train_params = check_train_params(s.train_params or {})
    head_params = dict(s.head_params or {})
    check_scheduler(s.scheduler)
    if s.plan.fractions != (1.0,):
        raise AdanError("evaluate-spectro trains on whole training folds; it takes no training fraction")
    if not s.models:
        return pd.DataFrame(columns=COLUMNS)
    rows = manifest.reset_index(drop=True)
    files = rows["file"].to_numpy()
    X = _packed(specs, files.tolist())
    y = rows["emotion"].to_numpy()
    speakers = rows["speaker"].to_numpy().astype(str)
    gender = rows["gender"].to_numpy().astype(str) if "gender" in rows else np.full(len(rows), "unknown")
    plan = Plan(rows, s.plan)
    seg = segment_frames(specs.config.get("hop_ms", 10.0), s.segment_s, s.train_overlap_s, s.eval_overlap_s)
    feature_set = f"spectrogram-{specs.config.get('kind', 'linear')}"

    parts = []
    for arch in s.models:
        for head in s.heads:
            combo = Combination(s.corpus, feature_set, REFERENCE_METHOD, "real", arch, head)
            for _, seed, jobs in plan.runs():
                def make_model(fold_name, combo=combo, seed=seed):
                    arch, head = combo.classifier, combo.head
                    log = None if log_dir is None else str(fit_log_dir(log_dir, arch, head, seed=seed, fold=fold_name))
                    return SpectroClassifier(arch=arch, head=head, head_params=head_params.get(head), random_state=seed,
                                             val_fold=fold_name, log_dir=log, **seg, **train_params)

                pred = cross_validate(X, y, speakers, [job.fold for job in jobs], make_model,
                                      fit_data={"gender": gender}, scores=False,
                                      desc=f"spectro {arch} {head} seed {seed}", progress=s.progress,
                                      scheduler=s.scheduler)
                parts.append(pd.DataFrame({
                    **combo.columns(), "seed": seed, "fold": pred["fold"],
                    "true": pred["true"], "pred": pred["pred"], "file": files[pred["row"]],
                    "speaker": speakers[pred["row"]], "val_uar": pred["val_uar"],
                    "val_speakers": pred["val_speakers"],
                }))
    return pd.concat(parts, ignore_index=True)[COLUMNS]


def _packed(specs: SpectrogramSet, files: Sequence[str]) -> SpectrogramSet:
    """The spectrograms of ``files``, in that order, as one packed set (AdanError naming a missing file)."""
    parts = specs.lookup(files)
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int64)
    return SpectrogramSet(np.asarray(files).astype(str), offsets, np.concatenate(parts), dict(specs.config))
