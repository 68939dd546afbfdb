"""The ``adan`` command: thin wrappers that read params.yaml and paths, then call the library.

Each sub-command is one DVC stage; explicit options override the params file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from adan_ser.errors import AdanError
from adan_ser.params import get, load_params


def _params(args) -> dict:
    return load_params(args.params)


def cmd_demo(args) -> None:
    from adan_ser.features.demo import generate_demo

    demo = get(_params(args), "data.demo")
    generate_demo(args.out, **demo)


def cmd_prepare(args) -> None:
    from adan_ser.features.corpora import build_manifest, write_manifest

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
    from adan_ser.features.corpora import load_manifest
    from adan_ser.features.opensmile import extract_features, write_features

    p = _params(args)
    manifest = load_manifest(args.manifest)
    table, bad = extract_features(
        manifest,
        args.root or get(p, "data.root"),
        args.feature_set or get(p, "features.set"),
        workers=args.workers or get(p, "features.workers", 1),
        skip_bad=args.skip_bad or get(p, "features.skip_bad", False),
    )
    for file, reason in bad:
        print(f"skipped {file}: {reason}", file=sys.stderr)
    write_features(table, args.output)
    print(f"{len(table)} rows × {table.shape[1] - 1} features → {args.output}")


def cmd_evaluate(args) -> None:
    from adan_ser.evaluation.pipeline import evaluate_corpus

    p = _params(args)
    predictions = evaluate_corpus(
        manifest_path=args.manifest,
        features_path=args.features,
        scheme=get(p, "cv.scheme"),
        models={name: get(p, f"classify.{name}", {}) or {} for name in get(p, "classify.models")},
        seed=int(get(p, "seed")),
        corpus=get(p, "data.corpus"),
        feature_set=get(p, "features.set"),
        log_dir=args.log_dir,
    )
    from adan_ser.io import write_parquet

    write_parquet(predictions, args.output)
    print(f"{len(predictions)} predictions → {args.output}")


def cmd_report(args) -> None:
    import pandas as pd

    from adan_ser.evaluation.report import write_report
    from adan_ser.features.corpora import load_manifest

    predictions = pd.read_parquet(args.predictions)
    classes = sorted(load_manifest(args.manifest)["emotion"].unique())
    results = write_report(predictions, classes, args.out_dir)
    from adan_ser.evaluation.report import to_markdown

    print(to_markdown(results), end="")


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
    s.set_defaults(func=cmd_extract)

    s = sub.add_parser("evaluate", help="leave-one-group-out training and prediction (cv.*, classify.*, seed)")
    s.add_argument("-m", "--manifest", default="data/manifest.csv")
    s.add_argument("-f", "--features", required=True)
    s.add_argument("-o", "--output", default="results/predictions.parquet")
    s.add_argument("--log-dir", default=None, help="dvclive training curves go under this folder")
    s.set_defaults(func=cmd_evaluate)

    s = sub.add_parser("report", help="results table, metrics.json and confusion plots from predictions")
    s.add_argument("-p", "--predictions", default="results/predictions.parquet")
    s.add_argument("-m", "--manifest", default="data/manifest.csv")
    s.add_argument("-o", "--out-dir", default="results")
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
