"""One corpus folder → one validated manifest: dispatch on the corpus name.

The readers live one per corpus (:mod:`.emodb`, :mod:`.iemocap`, :mod:`.ravdess`, :mod:`.cremad`,
:mod:`.csv_manifest`, and :func:`.demo.read_demo` for the generated demo corpus); each returns
a manifest (see :mod:`adan_ser.contracts.manifest`) sorted by ``file``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from adan_ser.contracts.manifest import check_same_audio, validate_manifest
from adan_ser.core.errors import AdanError, one_line
from adan_ser.corpora import demo as demo_corpus
from adan_ser.corpora.cremad import CREMAD_DEMOGRAPHICS, read_cremad
from adan_ser.corpora.csv_manifest import csv_manifest_path, read_csv_manifest
from adan_ser.corpora.emodb import read_emodb
from adan_ser.corpora.iemocap import IEMOCAP_DEFAULT_CLASSES, read_iemocap
from adan_ser.corpora.ravdess import read_ravdess

_READERS: dict[str, Callable[..., pd.DataFrame]] = {
    "emodb": read_emodb,
    "iemocap": read_iemocap,
    "ravdess": read_ravdess,
    "cremad": read_cremad,
    "csv": read_csv_manifest,
    "demo": demo_corpus.read_demo,
}
#: Corpus names ``build_manifest`` knows (``data.corpus`` in params.yaml).
CORPORA = tuple(_READERS)


def _check_corpus(corpus: str) -> str:
    name = str(corpus).strip().lower()
    if name not in _READERS:
        raise AdanError(f"unknown corpus {corpus!r} (known: {', '.join(CORPORA)})")
    return name


def corpus_root(corpus: str, root: str | os.PathLike) -> Path:
    """The folder that relative ``file`` entries of a manifest built from ``root`` are under."""
    root = Path(root)
    if _check_corpus(corpus) == "csv" and not root.is_dir():
        return root.parent
    return root


def corpus_files(corpus: str, root: str | os.PathLike) -> dict[str, Path]:
    """The files besides audio that reading ``corpus`` at ``root`` takes its labels from
    ({what: path}), which a manifest written over one of them would destroy."""
    name, root = _check_corpus(corpus), Path(root)
    if name == "csv":
        return {"corpus CSV": csv_manifest_path(root)}
    if name == "demo":
        return {"demo labels": root / demo_corpus.LABELS_FILE, "demo params": root / demo_corpus.PARAMS_FILE}
    if name == "cremad":
        return {"CREMA-D demographics": root / CREMAD_DEMOGRAPHICS}
    return {}


def _ensure_demo(root: Path, demo_options: dict) -> None:
    """Generate the demo corpus when ``root`` is absent or empty, or was generated with
    other options; a folder holding anything else is left alone (read_demo then judges it)."""
    try:
        wanted = demo_corpus.demo_params(**demo_options)
    except TypeError as exc:
        raise AdanError(f"bad demo corpus option: {one_line(exc)}") from None
    params_file = root / demo_corpus.PARAMS_FILE
    if root.exists() and not root.is_dir():
        return
    if root.is_dir() and any(root.iterdir()):
        if not params_file.is_file():
            return
        try:
            recorded = json.loads(params_file.read_text())
        except ValueError:
            recorded = None
        if not demo_options or recorded == wanted:
            return
    demo_corpus.generate_demo(root, **wanted)


def build_manifest(
    corpus: str,
    root: str | os.PathLike,
    classes: Iterable[str] | None = None,
    merge_excited: bool = False,
    **demo_options,
) -> pd.DataFrame:
    """Read one corpus into a validated manifest (MANIFEST_COLUMNS, sorted by file, index reset).

    ``corpus`` is one of CORPORA. ``root`` is the corpus folder (for "csv": the CSV file or a
    folder holding manifest.csv). ``classes`` keeps only those emotion words, and each must
    occur; for IEMOCAP, None means its usual four classes (angry, happy, neutral, sad).
    ``merge_excited`` applies to IEMOCAP only. ``demo_options`` (generate_demo arguments)
    apply to "demo" only: the demo folder is generated when missing or empty, or
    regenerated when it was made with other options; they are ignored for other corpora.
    """
    name = _check_corpus(corpus)
    root = Path(root)
    wanted = None if classes is None else [str(c).strip().lower() for c in classes]
    if name == "demo":
        _ensure_demo(root, demo_options)
    if not root.exists():
        raise AdanError(f"corpus folder not found: {root}")

    if name == "iemocap":
        df = read_iemocap(
            root, classes=IEMOCAP_DEFAULT_CLASSES if wanted is None else wanted, merge_excited=merge_excited
        )
    else:
        df = _READERS[name](root)
    if df.empty:
        raise AdanError(f"no audio found for corpus {name!r} in {root}")

    if wanted is not None:
        present = set(df["emotion"])
        for emotion in wanted:
            if emotion not in present:
                raise AdanError(
                    f"class {emotion!r} not found in {name} corpus at {root} "
                    f"(found: {', '.join(sorted(present))})"
                )
        df = df[df["emotion"].isin(wanted)]
    validate_manifest(df, f"{name} corpus at {root}")
    df = df.reset_index(drop=True)
    # a recording listed twice would count twice, and could sit in a training and a test fold at once
    files = df["file"].tolist()
    check_same_audio(files, corpus_root(name, root), f"{name} corpus at {root}", lambda i: repr(files[i]))
    return df
