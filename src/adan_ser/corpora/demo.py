"""A small synthetic emotional-speech corpus, so the pipeline runs offline with no real data.

The utterances come from :mod:`.speech` (and :mod:`.speech_batch` in large-corpus mode); this
module writes them as a corpus and reads the corpus back.  The output folder holds
``spkNN_<emotion>_NNN.wav`` (16-bit PCM mono) and ``labels.csv`` (columns file, speaker, gender,
emotion); :func:`read_demo` reads it into a manifest.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from adan_ser.contracts.manifest import gender_word, read_table, require_columns
from adan_ser.core.errors import AdanError
from adan_ser.core.io import atomic_dir, write_csv
from adan_ser.corpora._common import audio_duration, manifest_frame
from adan_ser.corpora.speech import EMOTIONS, Speaker, make_speakers, synthesize_utterance
from adan_ser.corpora.speech_batch import synthesize_batch

LABELS_FILE = "labels.csv"
# Records the generate_demo arguments, so a caller can tell whether a folder is stale.
PARAMS_FILE = "demo_params.json"

DEFAULT_EMOTIONS = ("angry", "happy", "neutral", "sad")

# Utterances per synthesize_batch call in large-corpus mode; each batch is seeded by its
# position, so this size is part of what the files are.
_BATCH = 128


def _write_wav(path: Path, signal: np.ndarray, sample_rate: int) -> None:
    # Encoding in memory and writing once is several times faster than letting
    # libsndfile issue its many small writes to disk.
    buffer = io.BytesIO()
    sf.write(buffer, signal, sample_rate, subtype="PCM_16", format="WAV")
    path.write_bytes(buffer.getvalue())


def _large_corpus(folder: Path, speakers: list[Speaker], emotions: tuple[str, ...], utterances: int,
                  sample_rate: int, seed: int) -> list[tuple[str, str, str, str]]:
    """Write ``utterances`` short wavs into ``folder``; returns the labels rows.

    Utterance ``i`` goes to speaker ``i % S`` and emotion ``(i // S) % E``, so every prefix
    of the corpus is balanced over speakers and emotions.
    """
    rows = []
    n_spk, n_emo = len(speakers), len(emotions)
    for start in range(0, utterances, _BATCH):
        idx = range(start, min(start + _BATCH, utterances))
        who = [speakers[i % n_spk] for i in idx]
        what = [emotions[(i // n_spk) % n_emo] for i in idx]
        # Seeded by batch position: any batch can be regenerated alone, and the first N
        # files of a large corpus are a balanced smaller one (the benchmarks use that).
        rng = np.random.default_rng([seed, 3, start // _BATCH])
        for i, spk, emotion, signal in zip(idx, who, what, synthesize_batch(who, what, rng, sample_rate)):
            name = f"{spk.name}_{emotion}_{i + 1:07d}.wav"
            _write_wav(folder / name, signal, sample_rate)
            rows.append((name, spk.name, spk.gender, emotion))
    return rows


def generate_demo(
    out_dir: str | os.PathLike,
    speakers: int = 8,
    utterances_per_class: int = 10,
    emotions: tuple[str, ...] | list[str] = DEFAULT_EMOTIONS,
    sample_rate: int = 16000,
    seed: int = 0,
    utterances: int | None = None,
) -> Path:
    """Write a synthetic corpus of ``speakers * len(emotions) * utterances_per_class`` wavs.

    Files are ``spkNN_<emotion>_NNN.wav`` (16-bit PCM mono, ``sample_rate`` Hz, 1.0-2.0 s)
    plus ``labels.csv`` (file, speaker, gender, emotion) and ``demo_params.json``. The same
    arguments give byte-identical files. The folder is built beside ``out_dir`` and renamed
    into place (:func:`adan_ser.core.io.atomic_dir`), replacing any existing ``out_dir``. Returns ``out_dir`` as a Path.

    ``utterances`` (large-corpus mode, for scale tests): write exactly that many shorter
    utterances (0.5-1.0 s, ``spkNN_<emotion>_NNNNNNN.wav``) with the vectorised
    :func:`synthesize_batch` instead; ``utterances_per_class`` is then ignored.
    """
    out_dir = Path(out_dir)
    emotions = tuple(str(e).strip().lower() for e in emotions)
    unknown = [e for e in emotions if e not in EMOTIONS]
    if unknown:
        raise AdanError(f"demo corpus: unknown emotion {unknown[0]!r} (known: {', '.join(EMOTIONS)})")
    if len(set(emotions)) != len(emotions) or not emotions:
        raise AdanError(f"demo corpus: emotions must be distinct and non-empty, got {list(emotions)}")
    if int(speakers) < 1 or int(utterances_per_class) < 1:
        raise AdanError(
            f"demo corpus: speakers and utterances_per_class must be >= 1, got {speakers}, {utterances_per_class}"
        )
    if utterances is not None and int(utterances) < 1:
        raise AdanError(f"demo corpus: utterances must be >= 1, got {utterances}")
    if int(sample_rate) < 8000:
        raise AdanError(f"demo corpus: sample_rate must be >= 8000 Hz, got {sample_rate}")
    speakers, utterances_per_class, sample_rate, seed = (
        int(speakers), int(utterances_per_class), int(sample_rate), int(seed)
    )
    _check_room(out_dir, speakers, utterances_per_class, len(emotions), sample_rate, utterances)

    with atomic_dir(out_dir) as tmp:
        rows = []
        if utterances is not None:
            rows = _large_corpus(tmp, make_speakers(speakers, seed), emotions, int(utterances),
                                 sample_rate, seed)
        for s_idx, spk in enumerate(make_speakers(speakers, seed) if utterances is None else []):
            for emotion in emotions:
                for u in range(utterances_per_class):
                    # Seeded by position, not draw order, so one file never depends on another.
                    rng = np.random.default_rng([seed, 2, s_idx, _emotion_key(emotion), u])
                    signal = synthesize_utterance(spk, emotion, rng, sample_rate)
                    name = f"{spk.name}_{emotion}_{u + 1:03d}.wav"
                    _write_wav(tmp / name, signal, sample_rate)
                    rows.append((name, spk.name, spk.gender, emotion))
        write_csv(pd.DataFrame(rows, columns=["file", "speaker", "gender", "emotion"]), tmp / LABELS_FILE)
        params = demo_params(speakers, utterances_per_class, emotions, sample_rate, seed, utterances)
        (tmp / PARAMS_FILE).write_text(json.dumps(params, indent=2, sort_keys=True) + "\n")
    return out_dir


def _check_room(out_dir: Path, speakers: int, utterances_per_class: int, n_emotions: int, sample_rate: int,
                utterances: int | None) -> None:
    """AdanError, before anything is written, when the corpus would not fit in the free space of
    ``out_dir``'s file system (16-bit mono: 1.5 s mean per utterance, 0.75 s in large-corpus mode)."""
    files, seconds = ((speakers * n_emotions * utterances_per_class, 1.5) if utterances is None
                      else (int(utterances), 0.75))
    need = int(files * (seconds * sample_rate * 2 + 44))  # 44: the wav header
    folder = Path(out_dir).absolute()
    while not folder.exists():
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    if need > free:
        raise AdanError(f"demo corpus: about {need / 1e9:.3g} GB of wav ({files} files), but {folder} has "
                        f"{free / 1e9:.3g} GB free; fewer speakers or utterances")


def demo_params(
    speakers: int = 8,
    utterances_per_class: int = 10,
    emotions: tuple[str, ...] | list[str] = DEFAULT_EMOTIONS,
    sample_rate: int = 16000,
    seed: int = 0,
    utterances: int | None = None,
) -> dict:
    """The generate_demo arguments in the normalised form stored in ``demo_params.json``."""
    params = {
        "speakers": int(speakers),
        "utterances_per_class": int(utterances_per_class),
        "emotions": [str(e).strip().lower() for e in emotions],
        "sample_rate": int(sample_rate),
        "seed": int(seed),
    }
    if utterances is not None:  # absent by default, so the default corpus is unchanged
        params["utterances"] = int(utterances)
    return params


def _emotion_key(emotion: str) -> int:
    # Stable across runs and independent of the order emotions are listed in
    # (Python's hash() is salted per process).
    return zlib.crc32(emotion.encode("utf-8"))


def read_demo(root: str | os.PathLike) -> pd.DataFrame:
    """The corpus written by :func:`generate_demo` as a manifest.

    Reads its ``labels.csv`` (file, speaker, gender, emotion); session = speaker, condition "".
    """
    root = Path(root)
    labels = root / LABELS_FILE
    if not labels.is_file():
        raise AdanError(f"demo corpus labels not found: {labels}")
    table = read_table(labels)
    require_columns(table, ("file", "speaker", "gender", "emotion"), labels)
    rows = [
        {
            "file": record["file"],
            "speaker": record["speaker"],
            "gender": gender_word(record["gender"], str(labels)),
            "emotion": record["emotion"].strip().lower(),
            "session": record["speaker"],
            "condition": "",
            "duration": audio_duration(root / record["file"]),
        }
        for record in table.to_dict("records")
    ]
    return manifest_frame(rows)
