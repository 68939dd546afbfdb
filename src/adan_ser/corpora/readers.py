"""Corpus readers: each turns a corpus folder into one manifest DataFrame.

A manifest has exactly ``MANIFEST_COLUMNS``, one row per utterance, sorted by ``file``:

- ``file``: audio path relative to the corpus root (posix), so ``Path(root) / file`` finds
  it; a generic CSV manifest may also give absolute paths.
- ``speaker``: speaker id (string, e.g. "03", "Ses01M", "A07").
- ``gender``: "f", "m" or "unknown".
- ``emotion``: lower-case emotion word.
- ``session``: the group left out together in leave-one-session-out (string).
- ``condition``: recording condition, e.g. "improvised"/"scripted" or an intensity; else "".
- ``duration``: seconds (float), from the audio header (no decoding).

``build_manifest`` dispatches on the corpus name and validates; ``write_manifest`` and
``load_manifest`` store and restore a manifest as CSV with the types intact.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd
import soundfile as sf

from adan_ser.core.errors import AdanError
from adan_ser.corpora import demo as demo_corpus
from adan_ser.contracts.manifest import (
    MANIFEST_COLUMNS,
    REQUIRED_NONEMPTY,
    one_line as _one_line,
    read_table as _read_table,
    require_columns as _require_columns,
    validate_manifest,
)


EMODB_EMOTIONS = {
    "W": "anger",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
    "F": "happiness",
    "T": "sadness",
    "N": "neutral",
}
EMODB_MALE = frozenset({"03", "10", "11", "12", "15"})
EMODB_FEMALE = frozenset({"08", "09", "13", "14", "16"})

IEMOCAP_EMOTIONS = {
    "ang": "angry",
    "hap": "happy",
    "exc": "excited",
    "neu": "neutral",
    "sad": "sad",
    "fru": "frustrated",
    "sur": "surprised",
    "fea": "fearful",
    "dis": "disgusted",
    "oth": "other",
    "xxx": None,  # annotators did not agree: never usable
}
IEMOCAP_DEFAULT_CLASSES = ("angry", "happy", "neutral", "sad")

RAVDESS_EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
RAVDESS_INTENSITY = {"01": "normal", "02": "strong"}

CREMAD_EMOTIONS = {
    "ANG": "anger",
    "DIS": "disgust",
    "FEA": "fear",
    "HAP": "happy",
    "NEU": "neutral",
    "SAD": "sad",
}
CREMAD_DEMOGRAPHICS = "VideoDemographics.csv"

CSV_MANIFEST_NAME = "manifest.csv"

_IEMOCAP_SESSION = re.compile(r"^Session(\d+)$")
# "[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]"
_IEMOCAP_LABEL = re.compile(r"^\[[^\]]*\]\s+(\S+)\s+(\S+)\s+\[")
_RAVDESS_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
_CREMAD_NAME = re.compile(r"^(\d+)_([A-Za-z]+)_([A-Za-z]{3})_([A-Za-z]+)$")


# --------------------------------------------------------------------------------------
# shared helpers


def _audio_files(root: Path, suffixes: Iterable[str]) -> list[Path]:
    """Audio files under ``root`` (recursive), sorted; hidden files are skipped because
    macOS copies of corpora are littered with ``._name.wav`` resource forks."""
    wanted = {s.lower() for s in suffixes}
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if not name.startswith(".") and Path(name).suffix.lower() in wanted:
                found.append(Path(dirpath) / name)
    return sorted(found)


def audio_duration(path: str | os.PathLike) -> float:
    """Duration in seconds from the audio header (no decoding). Unreadable or empty → AdanError."""
    path = Path(path)
    if not path.is_file():
        raise AdanError(f"audio file not found: {path}")
    try:
        info = sf.info(str(path))
    except Exception as exc:  # libsndfile raises several types; all mean "not readable audio"
        raise AdanError(f"cannot read audio header: {path} ({_one_line(exc)})") from None
    if info.frames <= 0 or info.samplerate <= 0:
        raise AdanError(f"empty audio file: {path}")
    return float(info.frames) / float(info.samplerate)


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=MANIFEST_COLUMNS)
    df["duration"] = df["duration"].astype(float)
    return df.sort_values("file", kind="stable").reset_index(drop=True)


def _gender_word(value: str, where: str) -> str:
    """Normalise a gender given as f/m/female/male (any case) or empty."""
    word = str(value).strip().lower()
    if word in ("f", "female", "w", "woman"):
        return "f"
    if word in ("m", "male", "man"):
        return "m"
    if word in ("", "unknown", "u", "nan", "none", "na", "n/a", "?"):
        return "unknown"
    raise AdanError(f"unrecognised gender {value!r} in {where} (expected f, m or unknown)")


# --------------------------------------------------------------------------------------
# readers


def read_emodb(root: str | os.PathLike) -> pd.DataFrame:
    """Berlin EmoDB: wavs named ``SSTTTEV.wav`` (e.g. ``03a01Fa.wav``) anywhere under ``root``.

    speaker = SS, emotion from the 6th character E, session = speaker, condition "".
    """
    root = Path(root)
    rows = []
    for path in _audio_files(root, (".wav",)):
        stem = path.stem
        if len(stem) < 6 or not stem[:2].isdigit():
            raise AdanError(f"not an EmoDB file name (expected e.g. 03a01Fa.wav): {path}")
        speaker, code = stem[:2], stem[5]
        if code not in EMODB_EMOTIONS:
            raise AdanError(
                f"unknown EmoDB emotion code {code!r} in {path} (known: {''.join(EMODB_EMOTIONS)})"
            )
        gender = "m" if speaker in EMODB_MALE else "f" if speaker in EMODB_FEMALE else "unknown"
        rows.append(
            {
                "file": _relative(path, root),
                "speaker": speaker,
                "gender": gender,
                "emotion": EMODB_EMOTIONS[code],
                "session": speaker,
                "condition": "",
                "duration": audio_duration(path),
            }
        )
    return _frame(rows)


def read_iemocap(
    root: str | os.PathLike,
    classes: Iterable[str] | None = IEMOCAP_DEFAULT_CLASSES,
    merge_excited: bool = False,
) -> pd.DataFrame:
    """IEMOCAP release layout: ``SessionN/sentences/wav/<dialog>/<utt>.wav`` with labels in
    ``SessionN/dialog/EmoEvaluation/<dialog>.txt``.

    Keeps utterances whose label (after ``merge_excited``: exc → happy) is in ``classes``
    (None keeps every label); "xxx" (no majority) is always dropped. session = "Ses0N",
    speaker = session + the gender letter of the utterance id's last part
    (``Ses01F_impro01_M003`` → "Ses01M", gender m), condition improvised/scripted.
    Only kept utterances need their wav; a missing one → AdanError naming it.
    """
    root = Path(root)
    keep = None if classes is None else {str(c).strip().lower() for c in classes}
    sessions = sorted(
        (int(m.group(1)), d)
        for d in root.iterdir()
        if d.is_dir() and (m := _IEMOCAP_SESSION.match(d.name))
    )
    if not sessions:
        raise AdanError(f"no IEMOCAP Session folders (Session1 ...) in {root}")
    rows = []
    for number, session_dir in sessions:
        session = f"Ses{number:02d}"
        label_dir = session_dir / "dialog" / "EmoEvaluation"
        if not label_dir.is_dir():
            raise AdanError(f"IEMOCAP label folder not found: {label_dir}")
        for label_file in sorted(label_dir.glob("*.txt")):
            if label_file.name.startswith("."):
                continue
            dialog = label_file.stem
            for line in label_file.read_text(encoding="utf-8", errors="replace").splitlines():
                match = _IEMOCAP_LABEL.match(line)
                if not match:
                    continue  # header, per-annotator and attribute lines
                utterance, code = match.group(1), match.group(2).lower()
                if code not in IEMOCAP_EMOTIONS:
                    raise AdanError(f"unknown IEMOCAP emotion code {code!r} for {utterance} in {label_file}")
                emotion = IEMOCAP_EMOTIONS[code]
                if emotion is None:
                    continue
                if merge_excited and emotion == "excited":
                    emotion = "happy"
                if keep is not None and emotion not in keep:
                    continue
                wav = session_dir / "sentences" / "wav" / dialog / f"{utterance}.wav"
                if not wav.is_file():
                    raise AdanError(f"IEMOCAP wav missing for labelled utterance: {wav} (labelled in {label_file})")
                letter = utterance.rsplit("_", 1)[-1][:1].upper()
                rows.append(
                    {
                        "file": _relative(wav, root),
                        "speaker": session + letter,
                        "gender": {"F": "f", "M": "m"}.get(letter, "unknown"),
                        "emotion": emotion,
                        "session": session,
                        "condition": "improvised" if "impro" in dialog else "scripted",
                        "duration": audio_duration(wav),
                    }
                )
    return _frame(rows)


def read_ravdess(root: str | os.PathLike) -> pd.DataFrame:
    """RAVDESS speech: ``03-01-EE-II-SS-RR-AA.wav`` or ``.flac`` anywhere under ``root``.

    speaker = "A" + AA, gender m for odd actors and f for even, session = speaker,
    condition = intensity ("normal"/"strong"). Song (03-02-...) and video files are skipped.
    """
    root = Path(root)
    rows = []
    for path in _audio_files(root, (".wav", ".flac")):
        match = _RAVDESS_NAME.match(path.stem)
        if not match:
            raise AdanError(f"not a RAVDESS file name (expected e.g. 03-01-05-01-02-01-12.wav): {path}")
        modality, channel, emo, intensity, _, _, actor = match.groups()
        if modality != "03" or channel != "01":
            continue  # only audio-only speech; song is a different task
        if emo not in RAVDESS_EMOTIONS:
            raise AdanError(f"unknown RAVDESS emotion code {emo!r} in {path}")
        if intensity not in RAVDESS_INTENSITY:
            raise AdanError(f"unknown RAVDESS intensity code {intensity!r} in {path}")
        speaker = f"A{actor}"
        rows.append(
            {
                "file": _relative(path, root),
                "speaker": speaker,
                "gender": "m" if int(actor) % 2 == 1 else "f",
                "emotion": RAVDESS_EMOTIONS[emo],
                "session": speaker,
                "condition": RAVDESS_INTENSITY[intensity],
                "duration": audio_duration(path),
            }
        )
    return _frame(rows)


def _cremad_genders(root: Path) -> dict[str, str]:
    path = root / CREMAD_DEMOGRAPHICS
    if not path.is_file():
        return {}
    table = _read_table(path)
    _require_columns(table, ("ActorID", "Sex"), path)
    sex = {"male": "m", "female": "f"}
    return {
        actor.strip(): sex.get(value.strip().lower(), "unknown")
        for actor, value in zip(table["ActorID"], table["Sex"])
    }


def read_cremad(root: str | os.PathLike) -> pd.DataFrame:
    """CREMA-D: ``1001_DFA_ANG_XX.wav`` anywhere under ``root`` (usually ``AudioWAV/``).

    speaker = the actor id, session = speaker, condition = intensity code lower-cased
    (lo/md/hi/xx). Gender comes from ``VideoDemographics.csv`` in ``root`` if present
    (columns ActorID, Sex), else "unknown".
    """
    root = Path(root)
    genders = _cremad_genders(root)
    rows = []
    for path in _audio_files(root, (".wav",)):
        match = _CREMAD_NAME.match(path.stem)
        if not match:
            raise AdanError(f"not a CREMA-D file name (expected e.g. 1001_DFA_ANG_XX.wav): {path}")
        speaker, _, code, intensity = match.groups()
        if code.upper() not in CREMAD_EMOTIONS:
            raise AdanError(f"unknown CREMA-D emotion code {code!r} in {path}")
        rows.append(
            {
                "file": _relative(path, root),
                "speaker": speaker,
                "gender": genders.get(speaker, "unknown"),
                "emotion": CREMAD_EMOTIONS[code.upper()],
                "session": speaker,
                "condition": intensity.lower(),
                "duration": audio_duration(path),
            }
        )
    return _frame(rows)


def _csv_manifest_path(path: Path) -> Path:
    return path / CSV_MANIFEST_NAME if path.is_dir() else path


def read_csv_manifest(path: str | os.PathLike) -> pd.DataFrame:
    """A generic corpus: a CSV (or a folder holding ``manifest.csv``) with columns
    ``file, speaker, emotion`` and optionally ``gender, session, condition``.

    ``file`` is relative to the CSV's folder unless absolute. Defaults: gender "unknown",
    session = speaker, condition "". Emotions are lower-cased and stripped; any other
    columns (including a stale ``duration``) are ignored and duration is re-read.
    """
    csv_path = _csv_manifest_path(Path(path))
    if not csv_path.is_file():
        raise AdanError(f"CSV manifest not found: {csv_path}")
    base = csv_path.parent
    table = _read_table(csv_path)
    _require_columns(table, REQUIRED_NONEMPTY, csv_path)
    rows = []
    for i, record in enumerate(table.to_dict("records")):
        where = f"{csv_path} row {i + 2}"  # +2: header line, 1-based
        file = record["file"].strip()
        speaker = record["speaker"].strip()
        emotion = record["emotion"].strip().lower()
        for column, value in (("file", file), ("speaker", speaker), ("emotion", emotion)):
            if not value:
                raise AdanError(f"empty {column!r} in {where}")
        audio = Path(file)
        if not audio.is_absolute():
            audio = base / audio
        session = record.get("session", "").strip() or speaker
        rows.append(
            {
                "file": Path(file).as_posix(),
                "speaker": speaker,
                "gender": _gender_word(record.get("gender", ""), where),
                "emotion": emotion,
                "session": session,
                "condition": record.get("condition", "").strip(),
                "duration": audio_duration(audio),
            }
        )
    return _frame(rows)


def read_demo(root: str | os.PathLike) -> pd.DataFrame:
    """The synthetic corpus written by ``adan_ser.corpora.demo.generate_demo``.

    Reads its ``labels.csv`` (file, speaker, gender, emotion); session = speaker, condition "".
    """
    root = Path(root)
    labels = root / demo_corpus.LABELS_FILE
    if not labels.is_file():
        raise AdanError(f"demo corpus labels not found: {labels}")
    table = _read_table(labels)
    _require_columns(table, ("file", "speaker", "gender", "emotion"), labels)
    rows = [
        {
            "file": record["file"],
            "speaker": record["speaker"],
            "gender": _gender_word(record["gender"], str(labels)),
            "emotion": record["emotion"].strip().lower(),
            "session": record["speaker"],
            "condition": "",
            "duration": audio_duration(root / record["file"]),
        }
        for record in table.to_dict("records")
    ]
    return _frame(rows)


# --------------------------------------------------------------------------------------
# dispatch, validation, storage

_READERS: dict[str, Callable[..., pd.DataFrame]] = {
    "emodb": read_emodb,
    "iemocap": read_iemocap,
    "ravdess": read_ravdess,
    "cremad": read_cremad,
    "csv": read_csv_manifest,
    "demo": read_demo,
}
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


def _ensure_demo(root: Path, demo_options: dict) -> None:
    """Generate the demo corpus when ``root`` is absent or empty, or was generated with
    other options; a folder holding anything else is left alone (read_demo then judges it)."""
    try:
        wanted = demo_corpus.demo_params(**demo_options)
    except TypeError as exc:
        raise AdanError(f"bad demo corpus option: {_one_line(exc)}") from None
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
    return df.reset_index(drop=True)


