"""Tests for adan_ser.features.spectrogram on generated tones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from adan_ser.core.errors import AdanError
from adan_ser.features import spectrogram as sp
from adan_ser.features.audio_io import read_audio


def _tone(freq: float, seconds: float, sr: int) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_linear_frontend_shape_and_peak_bin():
    cfg = sp.frontend_config({"kind": "linear"})
    spec = sp.spectrogram(_tone(1000.0, 1.0, 16000), cfg)
    # 40 ms = 640 samples, hop 160: 1 + (16000 - 640) // 160 frames; 0–3990 Hz in 10 Hz bins
    assert spec.shape == (1 + (16000 - 640) // 160, 400)
    assert spec.dtype == np.float32
    assert np.all(spec.argmax(axis=1) == 100)  # 1000 Hz / 10 Hz per bin


def test_mel_frontend_shape():
    cfg = sp.frontend_config({"kind": "mel"})
    spec = sp.spectrogram(_tone(440.0, 0.5, 16000), cfg)
    assert spec.shape == (1 + (8000 - 400) // 160, 40)
    assert np.isfinite(spec).all()


def test_mel_filterbank_covers_nyquist_band():
    fb = sp.mel_filterbank(40, 512, 16000)
    assert fb.shape == (257, 40)
    assert np.all(fb.max(axis=0) > 0.5)  # every band has a peak on the bin grid


def test_short_signal_gives_one_frame():
    spec = sp.spectrogram(np.ones(100, np.float32), sp.frontend_config({}))
    assert spec.shape == (1, 400)


def test_unknown_frontend_keys_are_named():
    with pytest.raises(AdanError, match="kind"):
        sp.frontend_config({"kind": "cqt"})
    with pytest.raises(AdanError, match="hop"):
        sp.frontend_config({"linear": {"hop": 5}})


def test_resampling_to_16k_keeps_the_tone(tmp_path):
    sf.write(tmp_path / "a.wav", _tone(1000.0, 1.0, 22050), 22050)
    x, sr = read_audio(tmp_path / "a.wav", 16000, other_rate="resample")
    assert sr == 16000 and abs(len(x) - 16000) <= 1
    spec = sp.spectrogram(x, sp.frontend_config({}))
    assert np.all(spec[2:-2].argmax(axis=1) == 100)


def test_cache_round_trip_and_lookup(tmp_path):
    names = []
    for i, secs in enumerate([0.3, 0.7, 1.1]):
        sf.write(tmp_path / f"u{i}.wav", _tone(300.0 + 100 * i, secs, 16000), 16000)
        names.append(f"u{i}.wav")
    manifest = pd.DataFrame({"file": names})
    specs = sp.compute_spectrograms(manifest, tmp_path, sp.frontend_config({}), progress=False)
    assert [len(specs[i]) for i in range(3)] == [1 + (int(s * 16000) - 640) // 160 for s in (0.3, 0.7, 1.1)]
    sp.save_spectrograms(specs, tmp_path / "c.npz")
    back = sp.load_spectrograms(tmp_path / "c.npz")
    assert back.config == specs.config
    got = back.lookup(["u2.wav", "u0.wav"])
    np.testing.assert_allclose(got[0], specs[2], atol=2e-2)  # stored as float16
    with pytest.raises(AdanError, match="nope.wav"):
        back.lookup(["nope.wav"])


def test_unreadable_audio_is_named(tmp_path):
    (tmp_path / "bad.wav").write_bytes(b"not audio")
    with pytest.raises(AdanError, match="bad.wav"):
        sp.compute_spectrograms(pd.DataFrame({"file": ["bad.wav"]}), tmp_path, sp.frontend_config({}), progress=False)


def test_normalizer_uses_only_the_frames_it_is_fitted_on():
    rng = np.random.default_rng(0)
    train = [rng.normal(2.0, 3.0, size=(n, 5)) for n in (40, 70)]
    test = [rng.normal(-50.0, 10.0, size=(30, 5))]
    norm = sp.FrameNormalizer().fit(train)
    frames = np.concatenate(train)
    np.testing.assert_allclose(norm.mean_, frames.mean(0), rtol=1e-5)
    np.testing.assert_allclose(norm.std_, frames.std(0), rtol=1e-5)
    # refitting with the test utterance added moves the statistics: they come from fit's input only
    assert not np.allclose(sp.FrameNormalizer().fit(train + test).mean_, norm.mean_)
    out = norm.transform(train)
    np.testing.assert_allclose(np.concatenate(out).mean(0), 0, atol=1e-5)


def test_normalizer_constant_bin_stays_finite():
    norm = sp.FrameNormalizer().fit([np.ones((10, 3))])
    assert np.isfinite(norm.transform([np.ones((4, 3))])[0]).all()


@pytest.mark.parametrize(
    "n, seg, hop, starts",
    [
        (197, 200, 100, [0]),           # shorter than one segment: one padded segment
        (200, 200, 100, [0]),
        (350, 200, 100, [0, 100, 150]),  # 50-frame tail ≥ hop / 2: one end-aligned segment
        (330, 200, 100, [0, 100]),      # 30-frame tail < hop / 2: dropped
        (340, 200, 40, [0, 40, 80, 120, 140]),
    ],
)
def test_segment_starts(n, seg, hop, starts):
    assert sp.segment_starts(n, seg, hop).tolist() == starts


def test_segments_pad_short_utterances_with_zeros_and_keep_owners():
    a = np.arange(30, dtype=np.float32).reshape(10, 3) + 1
    b = np.ones((25, 3), np.float32)
    segs, owner = sp.segment([a, b], 20, 5)
    assert segs.shape == (1 + 2, 20, 3)  # a: one padded segment; b: starts 0, 5
    assert owner.tolist() == [0, 1, 1]
    np.testing.assert_array_equal(segs[0, :10], a)
    np.testing.assert_array_equal(segs[0, 10:], 0)
    np.testing.assert_array_equal(segs[2], b[5:25])


def test_average_by_owner():
    values = np.array([[1.0, 0.0], [3.0, 2.0], [5.0, 5.0]])
    np.testing.assert_allclose(sp.average_by_owner(values, np.array([0, 0, 1]), 2), [[2.0, 1.0], [5.0, 5.0]])
    with pytest.raises(AdanError):
        sp.average_by_owner(values, np.array([0, 0, 0]), 2)
