"""The one audio reader: its sample-rate policy is the caller's explicit choice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from adan_ser.core.errors import AdanError
from adan_ser.features import spectrogram as sp
from adan_ser.features.audio_io import BadAudio, read_audio, read_mono


def _noise(n: int, channels: int = 1) -> np.ndarray:
    x = 0.3 * np.random.default_rng(0).standard_normal((n, channels))
    return x.astype(np.float32)


def test_other_rate_is_refused_or_resampled_as_asked(tmp_path):
    sf.write(tmp_path / "a.wav", _noise(22050), 22050)
    with pytest.raises(BadAudio, match=r"^sample rate 22050 Hz differs from the corpus rate 16000 Hz"):
        read_audio(tmp_path / "a.wav", 16000)  # refusing is the default
    with pytest.raises(BadAudio, match="22050 Hz"):
        read_mono(tmp_path / "a.wav", 16000)
    x, sr = read_audio(tmp_path / "a.wav", 16000, other_rate="resample")
    assert sr == 16000 and x.dtype == np.float32 and abs(len(x) - 16000) <= 1
    x, sr = read_audio(tmp_path / "a.wav", None, other_rate="resample")  # no rate asked: kept
    assert sr == 22050 and len(x) == 22050


def test_channels_are_averaged(tmp_path):
    x = _noise(1600, channels=2)
    sf.write(tmp_path / "s.wav", x, 16000, subtype="FLOAT")
    mono, _ = read_audio(tmp_path / "s.wav")
    np.testing.assert_array_equal(mono, x.mean(axis=1, dtype=np.float32))


def test_unknown_policy_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="other_rate"):
        read_audio(tmp_path / "a.wav", 16000, other_rate="guess")
    with pytest.raises(BadAudio, match="^file not found$"):
        read_audio(tmp_path / "a.wav", other_rate="resample")


def test_spectrogram_stage_names_a_bad_file_on_one_line(tmp_path):
    (tmp_path / "junk.wav").write_bytes(b"not audio")
    manifest = pd.DataFrame({"file": ["junk.wav"]})
    with pytest.raises(AdanError, match=r"junk\.wav: unreadable audio \(") as exc:
        sp.compute_spectrograms(manifest, tmp_path, sp.frontend_config({}), progress=False)
    assert "\n" not in str(exc.value)
