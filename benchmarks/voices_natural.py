"""F0 and formants of EmoDB files before and after the corners of the synthetic-voice ranges.

    python benchmarks/voices_natural.py [--corpus DIR]

For four neutral EmoDB files (speakers 03 and 10 male, 08 and 09 female): the median F0 over voiced
frames (Praat pitch 60-700 Hz) and the median F1-F3 over voiced frames (Burg, 5 formants up to 5 kHz
for men, 5.5 kHz for women) of the original and of ``audio_voice`` (formant ratio 0.85 / 1.18 ×
pitch factor 0.8 / 1.25) and ``audio_vtlp`` (α 0.9 / 1.1 × pitch factor 0.8 / 1.25). The table in
docs/methods.md ("Synthetic speakers") comes from this script.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import parselmouth
import soundfile as sf

from adan_ser.augment.audio.perturbers import ChangeGenderPerturber, VTLPPerturber

SPEAKERS = (("03", "m"), ("10", "m"), ("08", "f"), ("09", "f"))


def measure(x: np.ndarray, sr: int, gender: str) -> tuple[float, np.ndarray]:
    """(median F0 Hz, median [F1, F2, F3] Hz) over the voiced frames of ``x`` (samples,)."""
    sound = parselmouth.Sound(np.asarray(x, dtype=np.float64), sampling_frequency=sr)
    pitch = sound.to_pitch(pitch_floor=60, pitch_ceiling=700)
    f0, times = pitch.selected_array["frequency"], pitch.xs()
    voiced = f0 > 0
    formants = sound.to_formant_burg(max_number_of_formants=5, maximum_formant=5000 if gender == "m" else 5500)
    F = np.array([[formants.get_value_at_time(k, t) for k in (1, 2, 3)] for t in times[voiced]])
    return float(np.median(f0[voiced])), np.nanmedian(F, axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=os.path.join(os.environ.get("ADAN_CORPORA", "../shared/corpora"),
                                                         "emodb"))
    root = Path(parser.parse_args().corpus)
    names = sorted(p.name for p in root.glob("*.wav"))
    voice, vtlp = ChangeGenderPerturber(), VTLPPerturber()
    corners = [("orig", 1.0, 1.0)] + [("voice", r, f) for r in (0.85, 1.18) for f in (0.8, 1.25)] \
        + [("vtlp", a, f) for a in (0.9, 1.1) for f in (0.8, 1.25)]
    print("file g | method ratio pitch | F0 med | F1 F2 F3 (median over voiced frames, Hz)")
    for speaker, gender in SPEAKERS:
        name = next(n for n in names if n.startswith(speaker) and n[5] == "N")  # first neutral file
        x, sr = sf.read(root / name, dtype="float32")
        for method, ratio, factor in corners:
            if method == "orig":
                y = x
            elif method == "voice":
                y = voice.apply(x, sr, {"formant_ratio": ratio, "pitch_factor": factor}, key=1)
            else:
                y = vtlp.apply(x, sr, {"alpha": ratio, "pitch_factor": factor})
            f0, F = measure(y, sr, gender)
            print(f"{name} {gender} | {method:5s} {ratio:.2f} {factor:.2f} | {f0:6.1f} | "
                  f"{F[0]:5.0f} {F[1]:5.0f} {F[2]:5.0f}")


if __name__ == "__main__":
    main()
