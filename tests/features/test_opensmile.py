"""Tests for adan_ser.features.opensmile on tiny generated audio (0.5 s, 16 kHz)."""

from __future__ import annotations

import warnings

import numpy as np
import opensmile
import pandas as pd
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from adan_ser.contracts.align import load_features
from adan_ser.core.errors import AdanError
from adan_ser.features import opensmile as osm
from adan_ser.features import parquet_stream, smile_engine

SR = 16_000


def _tone(seed: int, freq: float = 220.0, seconds: float = 0.5) -> np.ndarray:
    """Sine plus a little noise, shape ``(samples,)`` float32 in [-1, 1]."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    x = 0.4 * np.sin(2 * np.pi * freq * t) + 0.05 * rng.standard_normal(t.size)
    return x.astype(np.float32)


def _write(path, signal, sr=SR, fmt=None):
    sf.write(path, signal, sr, format=fmt)
    return path


@pytest.fixture
def good_dir(tmp_path):
    """Four distinct good wavs in tmp_path; returns (folder, manifest)."""
    names = []
    for i, freq in enumerate([150.0, 220.0, 330.0, 440.0]):
        name = f"good{i}.wav"
        _write(tmp_path / name, _tone(i, freq))
        names.append(name)
    return tmp_path, pd.DataFrame({"file": names, "label": list("abcd")})


def _bad_files(folder):
    """Unreadable, zero-length and silent wavs; returns their names in that order."""
    (folder / "garbage.wav").write_bytes(np.random.default_rng(0).bytes(4000))
    _write(folder / "empty.wav", np.zeros(0, dtype=np.float32))
    _write(folder / "silent.wav", np.zeros(SR // 2, dtype=np.float32))
    return ["garbage.wav", "empty.wav", "silent.wav"]


@pytest.mark.parametrize("name, dim", [("eGeMAPSv02", 88), ("IS09", 384)])
def test_dims_and_file_first(good_dir, name, dim):
    folder, manifest = good_dir
    table, bad = osm.extract_features(manifest.iloc[:1], folder, name, progress=False)
    assert bad == []
    assert table.shape == (1, 1 + dim) == (1, 1 + osm.FEATURE_DIMS[name])
    assert table.columns[0] == "file"
    assert table["file"].tolist() == ["good0.wav"]
    assert (table.dtypes.iloc[1:] == np.float32).all()


def test_feature_dims_table_matches_opensmile():
    # Cheap: builds each Smile (config parse only) without extracting.
    for name, dim in osm.FEATURE_DIMS.items():
        assert len(smile_engine.make_smile(name).feature_names) == dim, name
    assert set(osm.FEATURE_DIMS) == set(osm.FEATURE_SETS)


def test_two_workers_keep_order_and_values(good_dir):
    folder, manifest = good_dir
    manifest = manifest.iloc[[2, 0, 3, 1]].reset_index(drop=True)
    one, _ = osm.extract_features(manifest, folder, "IS09", workers=1, progress=False)
    two, bad = osm.extract_features(
        manifest, folder, "IS09", workers=2, progress=False, chunk_size=1
    )
    assert bad == []
    assert two["file"].tolist() == manifest["file"].tolist()
    pd.testing.assert_frame_equal(one, two)
    # distinct inputs must give distinct rows, else ordering would be untested
    assert not np.allclose(two.iloc[0, 1:].to_numpy(), two.iloc[1, 1:].to_numpy())


def test_absolute_paths_kept_unchanged(good_dir):
    folder, _ = good_dir
    path = str(folder / "good1.wav")
    table, _ = osm.extract_features(
        pd.DataFrame({"file": [path]}), "/nonexistent-root", "eGeMAPSv02", progress=False
    )
    assert table["file"].tolist() == [path]


def test_flac_matches_wav(tmp_path):
    # libsndfile quantises float input differently for FLAC and WAV, so hand it
    # int16 samples to make both files hold identical PCM.
    x = np.round(_tone(7) * 32767).astype(np.int16)
    _write(tmp_path / "a.flac", x, fmt="FLAC")
    _write(tmp_path / "a.wav", x, fmt="WAV")
    manifest = pd.DataFrame({"file": ["a.flac", "a.wav"]})
    table, bad = osm.extract_features(manifest, tmp_path, "eGeMAPSv02", progress=False)
    assert bad == [] and table.shape == (2, 89)
    np.testing.assert_array_equal(table.iloc[0, 1:], table.iloc[1, 1:])


def test_stereo_is_averaged_to_mono(tmp_path):
    x = _tone(3)
    _write(tmp_path / "stereo.wav", np.stack([x, x], axis=1), fmt="WAV")
    _write(tmp_path / "mono.wav", x, fmt="WAV")
    table, _ = osm.extract_features(
        pd.DataFrame({"file": ["stereo.wav", "mono.wav"]}), tmp_path, "eGeMAPSv02", progress=False
    )
    np.testing.assert_allclose(table.iloc[0, 1:], table.iloc[1, 1:], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("which", [0, 1, 2])
def test_check_audio_names_bad_file(tmp_path, which):
    name = _bad_files(tmp_path)[which]
    with pytest.raises(AdanError, match=name):
        osm.check_audio(tmp_path / name)
    assert "\n" not in str(pytest.raises(AdanError, osm.check_audio, tmp_path / name).value)


def test_check_audio_accepts_good(good_dir):
    folder, manifest = good_dir
    osm.check_audio(folder / manifest["file"][0])


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("which", [0, 1, 2])
def test_bad_file_raises_naming_it(good_dir, which, workers):
    folder, manifest = good_dir
    name = _bad_files(folder)[which]
    files = manifest["file"].tolist()
    manifest = pd.DataFrame({"file": files[:2] + [name] + files[2:]})
    with pytest.raises(AdanError, match=name) as info:
        osm.extract_features(manifest, folder, "IS09", workers=workers, progress=False)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("workers", [1, 2])
def test_skip_bad_keeps_good_rows(good_dir, workers):
    folder, manifest = good_dir
    bad_names = _bad_files(folder)
    good = manifest["file"].tolist()
    files = [good[0], bad_names[0], good[1], bad_names[1], good[2], bad_names[2], good[3]]
    table, bad = osm.extract_features(
        pd.DataFrame({"file": files}), folder, "IS09",
        workers=workers, skip_bad=True, progress=False, chunk_size=2,
    )
    assert table["file"].tolist() == good
    assert list(table.index) == [0, 1, 2, 3]
    assert [f for f, _ in bad] == bad_names
    reasons = dict(bad)
    assert "unreadable" in reasons["garbage.wav"]
    assert "zero samples" in reasons["empty.wav"]
    assert "silent" in reasons["silent.wav"]
    ref, _ = osm.extract_features(manifest, folder, "IS09", progress=False)
    pd.testing.assert_frame_equal(table, ref)


def test_unknown_feature_set(good_dir):
    folder, manifest = good_dir
    with pytest.raises(AdanError, match="IS10") as info:
        osm.extract_features(manifest, folder, "IS99", progress=False)
    assert "IS99" in str(info.value)


def test_missing_file_column(good_dir):
    folder, manifest = good_dir
    with pytest.raises(AdanError, match="file"):
        osm.extract_features(manifest.rename(columns={"file": "path"}), folder, "IS09", progress=False)


def test_write_load_roundtrip(good_dir):
    folder, manifest = good_dir
    table, _ = osm.extract_features(manifest.iloc[:2], folder, "eGeMAPSv02", progress=False)
    out = folder / "out" / "features.parquet"
    osm.write_features(table, out)
    pd.testing.assert_frame_equal(load_features(out), table)


def test_write_failure_leaves_nothing(tmp_path, monkeypatch):
    out_dir = tmp_path / "out"
    out_dir.mkdir()

    def half_write(self, path, *args, **kwargs):
        with open(path, "wb") as fh:
            fh.write(b"PAR1 partial")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", half_write)
    table = pd.DataFrame({"file": ["a.wav"], "f0": np.array([1.0], dtype=np.float32)})
    with pytest.raises(OSError):
        osm.write_features(table, out_dir / "features.parquet")
    assert list(out_dir.iterdir()) == []


def test_load_rejects_non_numeric(tmp_path):
    path = tmp_path / "features.parquet"
    pd.DataFrame({"file": ["a.wav"], "f0": [1.0], "oops": ["x"]}).to_parquet(path)
    with pytest.raises(AdanError, match="oops"):
        load_features(path)


def test_load_missing_and_unreadable(tmp_path):
    with pytest.raises(AdanError, match="nope.parquet"):
        load_features(tmp_path / "nope.parquet")
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    with pytest.raises(AdanError, match="broken.parquet"):
        load_features(broken)


@pytest.mark.parametrize("seconds", [0.01, 0.05])
def test_too_short_file_is_bad_input_naming_it(tmp_path, seconds):
    _write(tmp_path / "good.wav", _tone(0))
    _write(tmp_path / "short.wav", _tone(1, seconds=seconds))
    manifest = pd.DataFrame({"file": ["good.wav", "short.wav"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # openSMILE's "Segment too short" warning stays inside
        with pytest.raises(AdanError, match=r"^short\.wav: openSMILE cannot describe it") as exc:
            osm.extract_features(manifest, tmp_path, "eGeMAPSv02", progress=False)
        assert "\n" not in str(exc.value) and "too short" in str(exc.value)
        table, bad = osm.extract_features(manifest, tmp_path, "eGeMAPSv02", progress=False, skip_bad=True)
    assert table["file"].tolist() == ["good.wav"] and [f for f, _ in bad] == ["short.wav"]
    assert np.isfinite(table.iloc[:, 1:].to_numpy()).all()


def test_non_finite_features_are_bad_input(good_dir, monkeypatch):
    folder, manifest = good_dir
    real = opensmile.Smile.process_signal

    def one_nan(self, signal, sr, **kwargs):
        out = real(self, signal, sr, **kwargs)
        out.iloc[0, 3] = np.inf
        return out

    monkeypatch.setattr(opensmile.Smile, "process_signal", one_nan)
    with pytest.raises(AdanError, match=r"good0\.wav: .*1 of 88 features not finite"):
        osm.extract_features(manifest, folder, "eGeMAPSv02", progress=False)


@pytest.mark.parametrize("workers", [1, 2])
def test_other_sample_rate_refused_naming_file_and_rates(tmp_path, workers):
    for i in range(3):
        _write(tmp_path / f"a{i}.wav", _tone(i))
    _write(tmp_path / "odd.wav", np.repeat(_tone(9), 3), sr=48_000)  # a 48 kHz copy
    manifest = pd.DataFrame({"file": ["a0.wav", "odd.wav", "a1.wav", "a2.wav"]})
    with pytest.raises(AdanError, match=r"^odd\.wav: sample rate 48000 Hz differs from the corpus rate 16000 Hz"):
        osm.extract_features(manifest, tmp_path, "eGeMAPSv02", progress=False, workers=workers)
    table, bad = osm.extract_features(manifest, tmp_path, "eGeMAPSv02", progress=False, workers=workers,
                                      skip_bad=True)
    assert table["file"].tolist() == ["a0.wav", "a1.wav", "a2.wav"] and [f for f, _ in bad] == ["odd.wav"]


def test_corpus_rate_majority_then_first(tmp_path):
    paths = []
    for i, sr in enumerate([8000, 16000, 16000, 8000, 22050]):
        paths.append(_write(tmp_path / f"f{i}.wav", np.zeros(100, np.float32), sr=sr))
    assert osm.corpus_rate(paths) == 8000  # 2 × 8 kHz, 2 × 16 kHz: the first listed wins
    assert osm.corpus_rate(paths[1:]) == 16000
    (tmp_path / "junk.wav").write_bytes(b"nope")
    assert osm.corpus_rate([tmp_path / "junk.wav"]) is None


# ------------------------------------------------------------ scale-out and streaming
def _many(folder, n=8):
    """``n`` distinct good wavs (tones) in folder; returns their manifest."""
    names = []
    for i in range(n):
        _write(folder / f"tone{i}.wav", _tone(10 + i, 120.0 + 37.0 * i, seconds=0.3))
        names.append(f"tone{i}.wav")
    return pd.DataFrame({"file": names})


def test_dask_matches_local(tmp_path, dask_scheduler):
    manifest = _many(tmp_path)
    local, _ = osm.extract_features(manifest, tmp_path, "eGeMAPSv02", progress=False)
    # chunk_size=1: eight tasks over two workers finish out of order; rows must not
    dask, bad = osm.extract_features(manifest, tmp_path, "eGeMAPSv02", progress=False,
                                     chunk_size=1, scheduler=dask_scheduler)
    assert bad == []
    pd.testing.assert_frame_equal(dask, local)


def test_dask_bad_file_named_and_skipped(tmp_path, dask_scheduler):
    manifest = _many(tmp_path, 3)
    bad_names = _bad_files(tmp_path)
    files = [manifest["file"][0], bad_names[0], manifest["file"][1], bad_names[2], manifest["file"][2]]
    mixed = pd.DataFrame({"file": files})
    with pytest.raises(AdanError, match="garbage.wav"):
        osm.extract_features(mixed, tmp_path, "eGeMAPSv02", progress=False, scheduler=dask_scheduler)
    table, bad = osm.extract_features(mixed, tmp_path, "eGeMAPSv02", progress=False, chunk_size=1,
                                      skip_bad=True, scheduler=dask_scheduler)
    assert table["file"].tolist() == manifest["file"].tolist()
    assert [f for f, _ in bad] == ["garbage.wav", "silent.wav"]


@pytest.mark.parametrize("backend", ["local1", "local2", "dask"])
def test_streamed_parquet_identical_for_every_backend(tmp_path, monkeypatch, backend, request):
    # Small row groups so the file is built from several appends, cut across chunk edges.
    monkeypatch.setattr(parquet_stream, "ROW_GROUP_ROWS", 3)
    manifest = _many(tmp_path)
    ref_table, _ = osm.extract_features(manifest, tmp_path, "eGeMAPSv02", progress=False)
    ref = tmp_path / "ref.parquet"
    assert osm.extract_to_parquet(manifest, tmp_path, "eGeMAPSv02", ref, progress=False,
                                  chunk_size=5) == (8, [])
    kwargs = {"local1": {}, "local2": {"workers": 2},
              "dask": {"scheduler": request.getfixturevalue("dask_scheduler")}}[backend]
    out = tmp_path / "out" / "features.parquet"
    rows, bad = osm.extract_to_parquet(manifest, tmp_path, "eGeMAPSv02", out, progress=False,
                                       chunk_size=2, **kwargs)
    assert (rows, bad) == (8, [])
    pd.testing.assert_frame_equal(load_features(out), ref_table)
    assert pq.ParquetFile(out).metadata.num_row_groups == 3  # 3 + 3 + 2 rows
    assert out.read_bytes() == ref.read_bytes()  # layout independent of chunking and backend


def test_streamed_parquet_error_leaves_nothing(tmp_path):
    manifest = _many(tmp_path, 4)
    bad_name = _bad_files(tmp_path)[1]
    files = manifest["file"].tolist()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(AdanError, match=bad_name):
        osm.extract_to_parquet(pd.DataFrame({"file": files[:3] + [bad_name] + files[3:]}), tmp_path,
                               "eGeMAPSv02", out_dir / "f.parquet", progress=False, chunk_size=1)
    assert list(out_dir.iterdir()) == []


def test_streamed_parquet_all_bad_is_an_error(tmp_path):
    # a table of no rows serves no later stage: the run fails, naming the first bad file
    bad_names = _bad_files(tmp_path)
    out = tmp_path / "f.parquet"
    with pytest.raises(AdanError, match=rf"every file is bad \({len(bad_names)}\), nothing written; first {bad_names[0]}"):
        osm.extract_to_parquet(pd.DataFrame({"file": bad_names}), tmp_path, "eGeMAPSv02",
                               out, progress=False, skip_bad=True)
    assert not out.exists()


def test_bad_scheduler_named(good_dir):
    folder, manifest = good_dir
    with pytest.raises(AdanError, match="'cluster-7'"):
        osm.extract_features(manifest, folder, "eGeMAPSv02", progress=False, scheduler="cluster-7")
