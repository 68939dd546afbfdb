"""The data commands: ``adan demo``, ``prepare``, ``extract`` and ``spectrogram``."""

from __future__ import annotations

import click

from adan_ser.core.io import check_output
from adan_ser.params import Params
from adan_ser.cli.app import manifest_option, output_option, root_option, scheduler_option, stage


# ---------------------------------------------------------------------------- Data


@stage("demo", "adan demo --out data/demo")
@click.option("--out", default="data/demo", show_default=True, help="output folder")
def demo(p: Params, out: str) -> None:
    """Generate the demo corpus (data.demo.*)."""
    from adan_ser.corpora.demo import generate_demo

    p.need("data.demo")
    generate_demo(out, **p.block("data.demo"))


@stage("prepare", "adan prepare -o data/manifest.csv")
@output_option("manifest CSV to write", "data/manifest.csv")
@click.option("--corpus", help="override data.corpus")
@root_option
def prepare(p: Params, output: str, corpus: str | None, root: str | None) -> None:
    """Read a corpus folder into a manifest CSV (data.*)."""
    from adan_ser.contracts.manifest import write_manifest
    from adan_ser.corpora.build import build_manifest, corpus_files

    corpus = corpus or p.need("data.corpus")
    check_output(output, option="-o", inputs=corpus_files(corpus, root or p.need("data.root")))
    manifest = build_manifest(corpus, root or p.need("data.root"), classes=p.data.classes or None,
                              merge_excited=p.data.merge_excited)
    write_manifest(manifest, output)
    counts = manifest["emotion"].value_counts().sort_index()
    click.echo(f"{corpus}: {len(manifest)} utterances, {manifest['speaker'].nunique()} speakers, "
               + ", ".join(f"{e} {n}" for e, n in counts.items()))


# ---------------------------------------------------------------------------- Features


@stage("extract", "adan extract -m data/manifest.csv -o data/features/eGeMAPSv02.parquet")
@manifest_option
@output_option("parquet file to write")
@root_option
@click.option("--feature-set", help="override features.set")
@click.option("--workers", type=click.IntRange(min=1), help="override features.workers")
@click.option("--skip-bad", is_flag=True, help="list bad audio files and go on without them")
@scheduler_option("features.scheduler")
def extract(p: Params, manifest: str, output: str, root: str | None, feature_set: str | None,
            workers: int | None, skip_bad: bool, scheduler: str | None) -> None:
    """openSMILE functionals of every manifest row (features.*)."""
    from adan_ser.contracts.manifest import check_same_audio, load_manifest
    from adan_ser.corpora.build import corpus_root
    from adan_ser.features.opensmile import FEATURE_DIMS, extract_to_parquet

    check_output(output, option="-o", inputs={"manifest": manifest})
    rows = load_manifest(manifest)
    audio_root = corpus_root(p.need("data.corpus"), root or p.need("data.root"))
    # one recording counted twice could sit in a training and a test fold at once
    files = rows["file"].tolist()
    check_same_audio(files, audio_root, manifest, lambda i: f"line {i + 2} ({files[i]!r})")
    feature_set = feature_set or p.need("features.set")
    # Streamed to disk as chunks arrive: memory does not grow with the corpus.
    n, bad = extract_to_parquet(
        rows,
        audio_root,
        feature_set,
        output,
        workers=workers or p.features.workers,
        skip_bad=skip_bad or p.features.skip_bad,
        scheduler=scheduler or p.features.scheduler,
    )
    for file, reason in bad:
        click.echo(f"skipped {file}: {reason}", err=True)
    click.echo(f"{n} rows × {FEATURE_DIMS.get(feature_set, '?')} features → {output}")


@stage("spectrogram", "adan spectrogram -m data/manifest.csv -o data/spectrograms/linear.npz")
@manifest_option
@output_option(".npz file to write")
@root_option
def spectrogram(p: Params, manifest: str, output: str, root: str | None) -> None:
    """Log spectrograms of every manifest row (spectro.frontend)."""
    from adan_ser.contracts.manifest import load_manifest
    from adan_ser.corpora.build import corpus_root
    from adan_ser.features.spectrogram import (
        compute_spectrograms,
        frontend_config,
        save_spectrograms,
    )

    check_output(output, option="-o", inputs={"manifest": manifest})
    cfg = frontend_config(p.block("spectro.frontend"))
    specs = compute_spectrograms(load_manifest(manifest), corpus_root(p.need("data.corpus"), root or p.need("data.root")),
                                 cfg)
    save_spectrograms(specs, output)
    click.echo(f"{len(specs)} spectrograms ({cfg['kind']}, {specs.frames.shape[1]} bins, "
               f"{len(specs.frames)} frames) → {output}")


