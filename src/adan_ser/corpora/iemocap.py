"""IEMOCAP: the release layout, labels from the EmoEvaluation files."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

import pandas as pd

from adan_ser.core.errors import AdanError
from adan_ser.corpora._common import audio_duration, manifest_frame, relative

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

_IEMOCAP_SESSION = re.compile(r"^Session(\d+)$")
# "[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]"
_IEMOCAP_LABEL = re.compile(r"^\[[^\]]*\]\s+(\S+)\s+(\S+)\s+\[")


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
                        "file": relative(wav, root),
                        "speaker": session + letter,
                        "gender": {"F": "f", "M": "m"}.get(letter, "unknown"),
                        "emotion": emotion,
                        "session": session,
                        "condition": "improvised" if "impro" in dialog else "scripted",
                        "duration": audio_duration(wav),
                    }
                )
    return manifest_frame(rows)
