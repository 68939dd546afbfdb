"""Small generated manifests and feature tables shared by the evaluation tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def toy_corpus(n: int = 36, speakers: int = 4, d: int = 6, separation: float = 1.0, seed: int = 2):
    """(manifest, features) of ``n`` rows: emotions angry/happy/sad in turn, speakers ``00``… in turn.

    Features are (n, d) standard normal plus +separation (angry), 0 (happy) or −separation (sad):
    separation 1 overlaps (errors make checks bite), 3 is nearly separable. Columns ``f0``….
    """
    rng = np.random.default_rng(seed)
    emotions = np.array(["angry", "happy", "sad"])[np.arange(n) % 3]
    speaker = [f"{i % speakers:02d}" for i in range(n)]
    manifest = pd.DataFrame({
        "file": [f"u{i:03d}.wav" for i in range(n)], "speaker": speaker, "gender": "f",
        "emotion": emotions, "session": speaker, "condition": "", "duration": 1.0,
    })
    centers = {"angry": separation, "happy": 0.0, "sad": -separation}
    feats = rng.normal(size=(n, d)) + np.array([centers[e] for e in emotions])[:, None]
    features = pd.DataFrame(feats, columns=[f"f{j}" for j in range(d)])
    features.insert(0, "file", manifest["file"])
    return manifest, features
