"""Corpus readers on miniature fabricated trees (0.1 s tones), plus the failure paths."""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from adan_ser.contracts.manifest import MANIFEST_COLUMNS, load_manifest, write_manifest
from adan_ser.core.errors import AdanError
from adan_ser.corpora import build as corpora
from adan_ser.corpora.build import build_manifest
from adan_ser.corpora.cremad import read_cremad
from adan_ser.corpora.csv_manifest import read_csv_manifest
from adan_ser.corpora.emodb import EMODB_EMOTIONS, read_emodb
from adan_ser.corpora.iemocap import read_iemocap
from adan_ser.corpora.ravdess import RAVDESS_EMOTIONS, read_ravdess

SR = 8000


def tone(path: Path, seconds: float = 0.1) -> Path:
    """Write a short tone of 220-419 Hz (wav or flac, by suffix); its pitch follows the path, since
    two files of identical bytes are one recording listed twice, which build_manifest refuses."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * SR)) / SR
    sf.write(path, 0.3 * np.sin(2 * np.pi * (220 + zlib.crc32(str(path).encode()) % 200) * t), SR)
    return path


def assert_manifest(df: pd.DataFrame) -> None:
    assert list(df.columns) == MANIFEST_COLUMNS
    assert list(df["file"]) == sorted(df["file"])
    assert list(df.index) == list(range(len(df)))
    assert set(df["gender"]) <= {"f", "m", "unknown"}
    assert np.allclose(df["duration"], 0.1)


def single_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------- EmoDB


def test_emodb_names_genders_emotions(tmp_path):
    for name in ["03a01Fa.wav", "08b02Wb.wav", "16a05Tc.wav", "01a01Nc.wav"]:
        tone(tmp_path / "wav" / name)
    tone(tmp_path / "wav" / "._03a01Fa.wav")  # macOS resource fork: skipped
    df = read_emodb(tmp_path)
    assert_manifest(df)
    rows = df.set_index("file")
    assert rows.loc["wav/03a01Fa.wav", ["speaker", "gender", "emotion"]].tolist() == ["03", "m", "happiness"]
    assert rows.loc["wav/08b02Wb.wav", ["speaker", "gender", "emotion"]].tolist() == ["08", "f", "anger"]
    assert rows.loc["wav/16a05Tc.wav", ["gender", "emotion"]].tolist() == ["f", "sadness"]
    assert rows.loc["wav/01a01Nc.wav", ["gender", "emotion"]].tolist() == ["unknown", "neutral"]
    assert (df["session"] == df["speaker"]).all()
    assert (df["condition"] == "").all()
    assert all((tmp_path / f).is_file() for f in df["file"])


def test_emodb_all_codes():
    assert EMODB_EMOTIONS == {
        "W": "anger", "L": "boredom", "E": "disgust", "A": "fear",
        "F": "happiness", "T": "sadness", "N": "neutral",
    }


def test_emodb_unknown_emotion_names_file(tmp_path):
    tone(tmp_path / "03a01Fa.wav")
    bad = tone(tmp_path / "03a01Xa.wav")
    with pytest.raises(AdanError) as exc:
        read_emodb(tmp_path)
    assert str(bad) in single_line(exc)


# ---------------------------------------------------------------- IEMOCAP

IEMOCAP_LABELS = {
    ("Session1", "Ses01F_impro01"): [
        ("Ses01F_impro01_F000", "neu"),
        ("Ses01F_impro01_M003", "ang"),
        ("Ses01F_impro01_F001", "xxx"),
        ("Ses01F_impro01_M004", "exc"),
    ],
    ("Session2", "Ses02M_script01_1"): [
        ("Ses02M_script01_1_F000", "sad"),
        ("Ses02M_script01_1_M001", "hap"),
        ("Ses02M_script01_1_F002", "fru"),
    ],
}


def make_iemocap(root: Path) -> Path:
    for (session, dialog), labels in IEMOCAP_LABELS.items():
        lines = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
        for i, (utt, code) in enumerate(labels):
            tone(root / session / "sentences" / "wav" / dialog / f"{utt}.wav")
            lines += [
                f"[{i}.5000 - {i + 1}.2500]\t{utt}\t{code}\t[2.5000, 3.0000, 3.5000]",
                "C-E1:\tNeutral;\t()",
                "A-E1:\tval 3; act 2; dom  3;\t()",
                "",
            ]
        label_dir = root / session / "dialog" / "EmoEvaluation"
        label_dir.mkdir(parents=True, exist_ok=True)
        (label_dir / f"{dialog}.txt").write_text("\n".join(lines))
        (label_dir / "Categorical").mkdir(exist_ok=True)  # real releases have subfolders
    return root


def test_iemocap_default_four_classes(tmp_path):
    df = read_iemocap(make_iemocap(tmp_path))
    assert_manifest(df)
    rows = df.set_index("file")
    assert sorted(df["emotion"]) == ["angry", "happy", "neutral", "sad"]
    m003 = rows.loc["Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_M003.wav"]
    assert m003[["speaker", "gender", "emotion", "session", "condition"]].tolist() == [
        "Ses01M", "m", "angry", "Ses01", "improvised",
    ]
    f000 = rows.loc["Session2/sentences/wav/Ses02M_script01_1/Ses02M_script01_1_F000.wav"]
    assert f000[["speaker", "gender", "emotion", "session", "condition"]].tolist() == [
        "Ses02F", "f", "sad", "Ses02", "scripted",
    ]
    assert "Ses01F_impro01_M004" not in " ".join(df["file"])  # exc not merged by default


def test_iemocap_merge_excited(tmp_path):
    root = make_iemocap(tmp_path)
    df = read_iemocap(root, merge_excited=True)
    assert len(df) == 5
    m004 = df[df["file"].str.contains("M004")]
    assert m004["emotion"].tolist() == ["happy"]
    assert (df["emotion"] == "happy").sum() == 2


def test_iemocap_all_labels_drop_xxx(tmp_path):
    df = read_iemocap(make_iemocap(tmp_path), classes=None)
    assert sorted(df["emotion"]) == ["angry", "excited", "frustrated", "happy", "neutral", "sad"]
    assert not df["file"].str.contains("F001").any()  # xxx


def test_iemocap_missing_wav_names_it(tmp_path):
    root = make_iemocap(tmp_path)
    wav = root / "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_M003.wav"
    wav.unlink()
    with pytest.raises(AdanError) as exc:
        read_iemocap(root)
    assert str(wav) in single_line(exc)


def test_iemocap_via_build_manifest_classes(tmp_path):
    root = make_iemocap(tmp_path)
    df = build_manifest("iemocap", root, classes=["angry", "happy"], merge_excited=True)
    assert sorted(df["emotion"]) == ["angry", "happy", "happy"]
    assert len(build_manifest("iemocap", root)) == 4  # None means the usual four classes


# ---------------------------------------------------------------- RAVDESS


def test_ravdess_wav_and_flac(tmp_path):
    tone(tmp_path / "Actor_01" / "03-01-05-02-01-01-01.wav")
    tone(tmp_path / "Actor_02" / "03-01-01-01-02-02-02.flac")
    tone(tmp_path / "Actor_02" / "03-02-03-01-01-01-02.wav")  # song: skipped
    df = read_ravdess(tmp_path)
    assert_manifest(df)
    assert df["file"].tolist() == ["Actor_01/03-01-05-02-01-01-01.wav", "Actor_02/03-01-01-01-02-02-02.flac"]
    assert df["speaker"].tolist() == ["A01", "A02"]
    assert df["gender"].tolist() == ["m", "f"]
    assert df["emotion"].tolist() == ["angry", "neutral"]
    assert df["condition"].tolist() == ["strong", "normal"]
    assert df["session"].tolist() == ["A01", "A02"]


def test_ravdess_emotion_codes():
    assert list(RAVDESS_EMOTIONS.values()) == [
        "neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised",
    ]


# ---------------------------------------------------------------- CREMA-D


def make_cremad(root: Path) -> Path:
    tone(root / "AudioWAV" / "1001_DFA_ANG_XX.wav")
    tone(root / "AudioWAV" / "1002_IEO_SAD_HI.wav")
    tone(root / "AudioWAV" / "1003_TIE_NEU_XX.wav")
    return root


def test_cremad_without_demographics(tmp_path):
    df = read_cremad(make_cremad(tmp_path))
    assert_manifest(df)
    assert df["file"].tolist()[0] == "AudioWAV/1001_DFA_ANG_XX.wav"
    assert df["speaker"].tolist() == ["1001", "1002", "1003"]
    assert df["emotion"].tolist() == ["anger", "sad", "neutral"]
    assert df["condition"].tolist() == ["xx", "hi", "xx"]
    assert (df["gender"] == "unknown").all()
    assert (df["session"] == df["speaker"]).all()


def test_cremad_with_demographics(tmp_path):
    root = make_cremad(tmp_path)
    (root / "VideoDemographics.csv").write_text(
        "ActorID,Age,Sex,Race,Ethnicity\n1001,51,Male,Caucasian,Not Hispanic\n1002,21,Female,Caucasian,Not Hispanic\n"
    )
    df = read_cremad(root)
    assert df["gender"].tolist() == ["m", "f", "unknown"]  # 1003 not listed


# ---------------------------------------------------------------- generic CSV


def test_csv_required_columns_only(tmp_path):
    tone(tmp_path / "audio" / "a.wav")
    absolute = tone(tmp_path / "elsewhere" / "b.flac")
    (tmp_path / "manifest.csv").write_text(f"file,speaker,emotion\naudio/a.wav,s1, Angry \n{absolute},s2,sad\n")
    for source in (tmp_path, tmp_path / "manifest.csv"):
        df = read_csv_manifest(source)
        assert_manifest(df)
        rows = df.set_index("file")
        assert rows.loc["audio/a.wav", ["speaker", "gender", "emotion", "session", "condition"]].tolist() == [
            "s1", "unknown", "angry", "s1", "",
        ]
        assert rows.loc[absolute.as_posix(), "emotion"] == "sad"
    assert sorted(build_manifest("csv", tmp_path)["emotion"]) == ["angry", "sad"]
    assert corpora.corpus_root("csv", tmp_path / "manifest.csv") == tmp_path


def test_csv_with_optional_columns(tmp_path):
    tone(tmp_path / "a.wav")
    tone(tmp_path / "b.wav")
    (tmp_path / "list.csv").write_text(
        "file,speaker,emotion,gender,session,condition\na.wav,007,happy,F,day1,improvised\nb.wav,008,happy,male,,\n"
    )
    df = read_csv_manifest(tmp_path / "list.csv")
    assert df["speaker"].tolist() == ["007", "008"]
    assert df["gender"].tolist() == ["f", "m"]
    assert df["session"].tolist() == ["day1", "008"]
    assert df["condition"].tolist() == ["improvised", ""]


def test_csv_missing_column_names_it(tmp_path):
    tone(tmp_path / "a.wav")
    csv = tmp_path / "manifest.csv"
    csv.write_text("file,speaker\na.wav,s1\n")
    with pytest.raises(AdanError) as exc:
        read_csv_manifest(tmp_path)
    message = single_line(exc)
    assert "'emotion'" in message and str(csv) in message


def test_csv_duplicate_file_rejected(tmp_path):
    tone(tmp_path / "a.wav")
    (tmp_path / "manifest.csv").write_text("file,speaker,emotion\na.wav,s1,sad\na.wav,s1,sad\n")
    with pytest.raises(AdanError, match="a.wav"):
        build_manifest("csv", tmp_path)


def test_csv_missing_audio_named(tmp_path):
    (tmp_path / "manifest.csv").write_text("file,speaker,emotion\nnope.wav,s1,sad\n")
    with pytest.raises(AdanError, match="nope.wav"):
        read_csv_manifest(tmp_path)


# ---------------------------------------------------------------- build_manifest errors


def test_unknown_corpus_lists_known(tmp_path):
    with pytest.raises(AdanError) as exc:
        build_manifest("timit", tmp_path)
    message = single_line(exc)
    assert "timit" in message and all(name in message for name in corpora.CORPORA)


def test_missing_corpus_folder_named(tmp_path):
    missing = tmp_path / "no" / "such"
    with pytest.raises(AdanError) as exc:
        build_manifest("emodb", missing)
    assert single_line(exc) == f"corpus folder not found: {missing}"


def test_no_audio_found(tmp_path):
    with pytest.raises(AdanError, match="no audio"):
        build_manifest("ravdess", tmp_path)


def test_classes_filter_and_absent_class(tmp_path):
    for name in ["03a01Fa.wav", "08b02Wb.wav", "09a01Nc.wav"]:
        tone(tmp_path / name)
    df = build_manifest("emodb", tmp_path, classes=["Anger", "neutral"])
    assert df["emotion"].tolist() == ["anger", "neutral"]
    assert list(df.index) == [0, 1]
    with pytest.raises(AdanError) as exc:
        build_manifest("emodb", tmp_path, classes=["anger", "boredom"])
    assert "'boredom'" in single_line(exc)


# ---------------------------------------------------------------- storage


def test_write_load_roundtrip_keeps_strings(tmp_path):
    tone(tmp_path / "corpus" / "03a01Fa.wav")
    df = build_manifest("emodb", tmp_path / "corpus")
    out = tmp_path / "out" / "manifest.csv"
    write_manifest(df, out)
    assert sorted(p.name for p in out.parent.iterdir()) == ["manifest.csv"]  # no temp files left
    back = load_manifest(out)
    assert back["speaker"].tolist() == ["03"]
    assert back["condition"].tolist() == [""]
    assert back["duration"].dtype == float
    pd.testing.assert_frame_equal(back.astype(object), df.astype(object))


def test_failed_build_writes_nothing(tmp_path):
    bad = tone(tmp_path / "corpus" / "03a01Xa.wav")
    out = tmp_path / "out" / "manifest.csv"
    with pytest.raises(AdanError, match=str(bad)):
        write_manifest(build_manifest("emodb", tmp_path / "corpus"), out)
    assert not out.exists()
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_write_manifest_rejects_invalid_without_output(tmp_path):
    df = pd.DataFrame([["a.wav", "", "f", "sad", "s", "", 1.0]], columns=MANIFEST_COLUMNS)
    out = tmp_path / "manifest.csv"
    with pytest.raises(AdanError, match="speaker"):
        write_manifest(df, out)
    assert list(tmp_path.iterdir()) == []


def test_load_manifest_missing_column_named(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("file,speaker,gender,emotion,session,duration\na.wav,1,f,sad,1,0.5\n")
    with pytest.raises(AdanError) as exc:
        load_manifest(path)
    message = single_line(exc)
    assert "'condition'" in message and str(path) in message


HEADER = "file,speaker,gender,emotion,session,condition,duration\n"


@pytest.mark.parametrize("rows, expected", [
    # a duplicate row (a pandas MergeError downstream if let through)
    ("a.wav,03,f,sad,03,,0.5\nb.wav,03,f,sad,03,,0.5\na.wav,03,f,sad,03,,0.5\n",
     r"file listed twice in {path} \(line 4, file 'a.wav'\): first at line 2"),
    # an empty speaker or session (a fold named "" if let through)
    ("a.wav,03,f,sad,03,,0.5\nb.wav,,f,sad,03,,0.5\n", r"empty 'speaker' in {path} \(line 3, file 'b.wav'\)"),
    ("a.wav,03,f,sad, ,,0.5\n", r"empty 'session' in {path} \(line 2, file 'a.wav'\)"),
    ("a.wav,03,x,sad,03,,0.5\n", r"gender must be f, m or unknown, got 'x' in {path} \(line 2"),
    ("a.wav,03,f,sad,03,,half\n", r"duration must be a positive number of seconds, got 'half' in {path} \(line 2"),
    ("a.wav,03,f,sad,03,,0\n", r"duration .* got '0' in {path}"),
])
def test_load_manifest_validates_naming_file_and_line(tmp_path, rows, expected):
    path = tmp_path / "m.csv"
    path.write_text(HEADER + rows)
    with pytest.raises(AdanError) as exc:
        load_manifest(path)
    assert re.search(expected.format(path=re.escape(str(path))), single_line(exc))
