"""The ``adan`` command: thin wrappers that read params.yaml and paths, then call the library.

Each sub-command is one DVC stage; explicit options override the params file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from adan_ser.core.errors import AdanError
from adan_ser.params import get, load_params


def _params(args) -> dict:
    return load_params(args.params)


def cmd_demo(args) -> None:
    from adan_ser.corpora.demo import generate_demo

    demo = get(_params(args), "data.demo")
    generate_demo(args.out, **demo)


def cmd_prepare(args) -> None:
    from adan_ser.contracts.manifest import write_manifest
    from adan_ser.corpora.readers import build_manifest

    p = _params(args)
    corpus = args.corpus or get(p, "data.corpus")
    root = args.root or get(p, "data.root")
    classes = get(p, "data.classes", []) or None
    manifest = build_manifest(corpus, root, classes=classes, merge_excited=get(p, "data.merge_excited", False))
    write_manifest(manifest, args.output)
    counts = manifest["emotion"].value_counts().sort_index()
    print(
        f"{corpus}: {len(manifest)} utterances, {manifest['speaker'].nunique()} speakers, "
        + ", ".join(f"{e} {n}" for e, n in counts.items())
    )


def cmd_extract(args) -> None:
    from adan_ser.contracts.manifest import load_manifest
    from adan_ser.features.opensmile import FEATURE_DIMS, extract_to_parquet

    p = _params(args)
    manifest = load_manifest(args.manifest)
    feature_set = args.feature_set or get(p, "features.set")
    # Streamed to disk as chunks arrive: memory does not grow with the corpus.
    rows, bad = extract_to_parquet(
        manifest,
        args.root or get(p, "data.root"),
        feature_set,
        args.output,
        workers=args.workers or get(p, "features.workers", 1),
        skip_bad=args.skip_bad or get(p, "features.skip_bad", False),
        scheduler=args.scheduler or get(p, "features.scheduler", "local"),
    )
    for file, reason in bad:
        print(f"skipped {file}: {reason}", file=sys.stderr)
    print(f"{rows} rows × {FEATURE_DIMS.get(feature_set, '?')} features → {args.output}")


def _seeds(p: dict) -> list[int]:
    """Run seeds: ``eval.seeds``; a params file without it runs once with ``seed``."""
    from adan_ser.core.seeds import as_seeds

    return as_seeds(get(p, "eval.seeds", None) or [int(get(p, "seed", 0))])


def cmd_evaluate(args) -> None:
    from adan_ser.evaluation.evaluate import evaluate_corpus
    from adan_ser.contracts.predictions import write_predictions

    p = _params(args)
    if args.log_dir:
        Path(args.log_dir).mkdir(parents=True, exist_ok=True)  # a DVC output even when no DNN logs
    predictions = evaluate_corpus(
        manifest_path=args.manifest,
        features_path=args.features,
        scheme=get(p, "cv.scheme"),
        models={name: get(p, f"classify.{name}", {}) or {} for name in get(p, "classify.models")},
        seeds=_seeds(p),
        corpus=get(p, "data.corpus"),
        feature_set=get(p, "features.set"),
        log_dir=args.log_dir,
        synthetic_dirs={m: Path(args.synthetic_dir) / m for m in get(p, "augment.methods", []) if m != "none"},
        train_data=get(p, "augment.train_data", ["real+synthetic"]),
        heads=get(p, "classify.heads", []) or [],
        head_params=get(p, "classify.head_params", {}) or {},
        heads_on=get(p, "classify.heads_on", {}) or {},
        train_downsample=get(p, "cv.train_downsample", {}) or {},
        scheduler=args.scheduler or get(p, "cv.scheduler", None),
    )
    files = write_predictions(predictions, args.output)
    print(f"{len(predictions)} predictions in {len(files)} files → {args.output}")


def cmd_spectrogram(args) -> None:
    from adan_ser.contracts.manifest import load_manifest
    from adan_ser.features.spectrogram import compute_spectrograms, frontend_config, save_spectrograms

    p = _params(args)
    cfg = frontend_config(get(p, "spectro.frontend", {}) or {})
    specs = compute_spectrograms(load_manifest(args.manifest), args.root or get(p, "data.root"), cfg)
    save_spectrograms(specs, args.output)
    print(f"{len(specs)} spectrograms ({cfg['kind']}, {specs.frames.shape[1]} bins, "
          f"{len(specs.frames)} frames) → {args.output}")


def cmd_evaluate_spectro(args) -> None:
    from adan_ser.evaluation.evaluate_spectrogram import evaluate_spectro
    from adan_ser.contracts.manifest import load_manifest
    from adan_ser.features.spectrogram import load_spectrograms
    from adan_ser.core.io import write_parquet

    p = _params(args)
    if args.log_dir:
        Path(args.log_dir).mkdir(parents=True, exist_ok=True)  # a DVC output even with no model
    predictions = evaluate_spectro(
        load_manifest(args.manifest),
        load_spectrograms(args.spectrograms),
        scheme=get(p, "cv.scheme"),
        models=get(p, "spectro.models", []) or [],
        heads=get(p, "spectro.heads", ["softmax"]) or ["softmax"],
        seeds=_seeds(p),  # once per run seed; `seed` seeds the report's resampling only
        corpus=get(p, "data.corpus"),
        train_params=get(p, "spectro.train", {}) or {},
        # the DNN's head settings unless spectro.head_params sets a head's block itself
        head_params={**(get(p, "classify.head_params", {}) or {}), **(get(p, "spectro.head_params", {}) or {})},
        segment_s=float(get(p, "spectro.segment_s", 2.0)),
        train_overlap_s=float(get(p, "spectro.train_overlap_s", 1.0)),
        eval_overlap_s=float(get(p, "spectro.eval_overlap_s", 1.6)),
        log_dir=args.log_dir,
        train_downsample=get(p, "cv.train_downsample", {}) or {},
        scheduler=args.scheduler or get(p, "cv.scheduler", None),
    )
    write_parquet(predictions, args.output)
    print(f"{len(predictions)} spectrogram-model predictions → {args.output}")


def cmd_report(args) -> None:
    import pandas as pd

    from adan_ser.contracts.predictions import load_predictions
    from adan_ser.reporting.report import to_markdown, write_report
    from adan_ser.contracts.manifest import load_manifest

    p = _params(args)
    # each path: the evaluate stage's folder (or one parquet file), or the evaluate-spectro file
    tables = [load_predictions(path) for path in args.predictions]
    # an evaluate-spectro file without models is empty; it adds no rows
    tables = [t for t in tables if len(t)] or tables[:1]
    predictions = pd.concat(tables, ignore_index=True)
    classes = sorted(load_manifest(args.manifest)["emotion"].unique())
    quality = None
    if args.augment_dir and Path(args.augment_dir).is_dir():
        tables = [pd.read_csv(q) for q in sorted(Path(args.augment_dir).glob("*/quality.csv"))]
        quality = pd.concat(tables, ignore_index=True) if tables else None
    alpha = float(get(p, "eval.alpha", 0.05))
    confidence = float(get(p, "eval.confidence", 0.95))
    n_resamples = int(get(p, "eval.n_resamples", 9999))
    if not (0 < alpha < 1 and 0 < confidence < 1) or n_resamples < 1:
        raise AdanError(f"eval.alpha and eval.confidence must lie in (0, 1) and eval.n_resamples be ≥ 1, "
                        f"got {alpha}, {confidence}, {n_resamples}")
    results = write_report(predictions, classes, args.out_dir, quality=quality, alpha=alpha,
                           confidence=confidence, n_resamples=n_resamples, seed=int(get(p, "seed", 0)))
    print(to_markdown(results), end="")


def _augment_settings(p: dict, method: str) -> tuple[dict, float | None]:
    params = dict(get(p, f"augment.{method}", {}) or {})
    return params, get(p, "augment.ratio", None)


def cmd_augment(args) -> None:
    from adan_ser.augment.stage import augment_folds
    from adan_ser.contracts.manifest import load_manifest
    from adan_ser.contracts.align import load_features

    p = _params(args)
    params, ratio = _augment_settings(p, args.method)
    table = augment_folds(
        load_manifest(args.manifest),
        load_features(args.features),
        get(p, "cv.scheme"),
        args.method,
        params,
        _seeds(p),
        ratio,
        args.output,
        report_dir=args.report_dir,
        train_downsample=get(p, "cv.train_downsample", {}) or {},
        scheduler=args.scheduler or get(p, "cv.scheduler", None),
    )
    n_seeds = table["seed"].nunique() if len(table) else 0
    print(f"{args.method}: {int(table['n_synthetic'].sum()) if len(table) else 0} synthetic vectors "
          f"over {n_seeds} seed(s) × {len(table) // max(n_seeds, 1)} folds → {args.output}")


def cmd_export(args) -> None:
    from adan_ser.augment.export import export_csv

    p = _params(args)
    params, ratio = _augment_settings(p, args.method)
    features = args.features or f"data/features/{get(p, 'features.set')}.parquet"
    n = export_csv(
        args.output,
        method=args.method,
        fold=args.fold,
        per_class=args.per_class,
        seed=args.seed,
        model_path=args.model,
        manifest_path=args.manifest,
        features_path=features,
        scheme=get(p, "cv.scheme"),
        params=params,
        train_downsample=get(p, "cv.train_downsample", {}) or {},
    )
    print(f"{n} synthetic vectors → {args.output}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="adan", description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    sub = parser.add_subparsers(dest="command", required=True)

    s = sub.add_parser("demo", help="generate the demo corpus (data.demo.*)")
    s.add_argument("--out", default="data/demo", help="output folder")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("prepare", help="read a corpus folder into a manifest CSV (data.*)")
    s.add_argument("-o", "--output", default="data/manifest.csv")
    s.add_argument("--corpus", help="override data.corpus")
    s.add_argument("--root", help="override data.root")
    s.set_defaults(func=cmd_prepare)

    s = sub.add_parser("extract", help="openSMILE functionals for every manifest row (features.*)")
    s.add_argument("-m", "--manifest", default="data/manifest.csv")
    s.add_argument("-o", "--output", required=True, help="parquet file to write")
    s.add_argument("--root", help="override data.root")
    s.add_argument("--feature-set", help="override features.set")
    s.add_argument("--workers", type=int, help="override features.workers")
    s.add_argument("--skip-bad", action="store_true", help="list bad audio files and go on without them")
    s.add_argument("--scheduler", help="override features.scheduler: local or a Dask address tcp://host:8786")
    s.set_defaults(func=cmd_extract)

    s = sub.add_parser("evaluate", help="leave-one-group-out training and prediction (cv.*, classify.*, eval.seeds)")
    s.add_argument("-m", "--manifest", default="data/manifest.csv")
    s.add_argument("-f", "--features", required=True)
    s.add_argument("-o", "--output", default="results/predictions",
                   help="folder: one parquet file of predictions and scores per combination × seed")
    s.add_argument("--log-dir", default=None, help="dvclive training curves go under this folder")
    s.add_argument("--synthetic-dir", default="data/synthetic", help="augment stage outputs, one folder per method")
    s.add_argument("--scheduler", help="override cv.scheduler: local or a Dask address tcp://host:8786")
    s.set_defaults(func=cmd_evaluate)

    s = sub.add_parser("spectrogram", help="log spectrograms of every manifest row, one cache file (spectro.frontend)")
    s.add_argument("-m", "--manifest", default="data/manifest.csv")
    s.add_argument("-o", "--output", required=True, help=".npz file to write")
    s.add_argument("--root", help="override data.root")
    s.set_defaults(func=cmd_spectrogram)

    s = sub.add_parser("evaluate-spectro", help="leave-one-group-out spectrogram models × heads (spectro.*, cv.*, seed)")
    s.add_argument("-m", "--manifest", default="data/manifest.csv")
    s.add_argument("-s", "--spectrograms", required=True, help="the spectrogram stage's .npz")
    s.add_argument("-o", "--output", default="results/spectro_predictions.parquet")
    s.add_argument("--log-dir", default=None, help="dvclive training curves go under this folder")
    s.add_argument("--scheduler", help="override cv.scheduler: local or a Dask address tcp://host:8786")
    s.set_defaults(func=cmd_evaluate_spectro)

    s = sub.add_parser("augment", help="per-fold synthetic sets of one method (augment.*)")
    s.add_argument("--method", required=True, help="augmentation method, e.g. adan or smote")
    s.add_argument("-m", "--manifest", default="data/manifest.csv")
    s.add_argument("-f", "--features", required=True)
    s.add_argument("-o", "--output", required=True, help="folder: seed<k>/<fold>.parquet per seed × fold")
    s.add_argument("--report-dir", default=None,
                   help="quality.csv, t-SNE pictures and (latent methods) dvclive training curves go here")
    s.add_argument("--scheduler", help="override cv.scheduler: local or a Dask address tcp://host:8786")
    s.set_defaults(func=cmd_augment)

    s = sub.add_parser("export", help="synthetic feature vectors of one fold as CSV")
    s.add_argument("--method", default="adan")
    s.add_argument("--fold", help="test group of the fold whose training rows the method learns from")
    s.add_argument("--per-class", type=int, default=100, help="synthetic vectors per emotion")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--model", help="sample a saved ADAN model (.pt) instead of fitting one")
    s.add_argument("-m", "--manifest", default="data/manifest.csv")
    s.add_argument("-f", "--features", help="default: data/features/<features.set>.parquet")
    s.add_argument("-o", "--output", required=True)
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("report", help="results, runs and significance tables, metrics.json and plots "
                                      "from predictions (eval.alpha, eval.confidence, eval.n_resamples, seed)")
    s.add_argument("-p", "--predictions", nargs="+", default=["results/predictions"],
                   help="one or more predictions, pooled: the folder written by evaluate (or one parquet "
                        "file) and/or evaluate-spectro's parquet file")
    s.add_argument("-m", "--manifest", default="data/manifest.csv")
    s.add_argument("-o", "--out-dir", default="results")
    s.add_argument("--augment-dir", default="results/augment", help="<method>/quality.csv are read from here")
    s.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except AdanError as exc:
        print(f"adan {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
