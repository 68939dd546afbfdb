"""The openSMILE engine: the feature sets, one ``Smile`` per thread, and one signal described.

Inside this module ``opensmile`` is the PyPI package (absolute imports), not
:mod:`adan_ser.features.opensmile`.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import warnings
from typing import Iterator

import numpy as np
import opensmile

from adan_ser.core.errors import AdanError, one_line
from adan_ser.features.audio_io import BadAudio

#: Name used in params.yaml -> openSMILE feature set (functionals level).
FEATURE_SETS: dict[str, opensmile.FeatureSet] = {
    "IS09": opensmile.FeatureSet.IS09,  # IS09_emotion
    "IS10": opensmile.FeatureSet.IS10,  # IS10_paraling_compat
    "IS11": opensmile.FeatureSet.IS11,  # IS11_speaker_state
    "IS13": opensmile.FeatureSet.IS13,  # IS13_ComParE
    "eGeMAPSv02": opensmile.FeatureSet.eGeMAPSv02,
    "ComParE_2016": opensmile.FeatureSet.ComParE_2016,
}

#: Number of functionals per feature set (checked against openSMILE in the tests).
FEATURE_DIMS: dict[str, int] = {
    "IS09": 384,
    "IS10": 1582,
    "IS11": 4368,
    "IS13": 6373,
    "eGeMAPSv02": 88,
    "ComParE_2016": 6373,
}


def resolve_feature_set(name: str) -> opensmile.FeatureSet:
    """Map a params name (e.g. ``"IS10"``) to the openSMILE feature set; AdanError if unknown."""
    try:
        return FEATURE_SETS[name]
    except (KeyError, TypeError):
        known = ", ".join(FEATURE_SETS)
        raise AdanError(f"unknown openSMILE feature set {name!r}; known: {known}") from None


def make_smile(name: str) -> opensmile.Smile:
    """A new ``Smile`` computing the functionals of feature set ``name`` (a key of FEATURE_SETS)."""
    return opensmile.Smile(
        feature_set=resolve_feature_set(name),
        feature_level=opensmile.FeatureLevel.Functionals,
    )


# One Smile per thread of each process (pool workers, Dask worker threads, this process), built
# once: construction parses the config and is far too slow to repeat per file, and a Smile is not
# known to be thread-safe.
_THREAD = threading.local()


def smile_for(feature_set: str) -> opensmile.Smile:
    """This thread's ``Smile`` for ``feature_set``, built on first use."""
    cache = getattr(_THREAD, "smiles", None)
    if cache is None:
        cache = _THREAD.smiles = {}
    if feature_set not in cache:
        cache[feature_set] = make_smile(feature_set)
    return cache[feature_set]


# openSMILE hands each frame of results to a Python callback through ctypes, and ctypes swallows
# what that callback raises (it reports it to sys.unraisablehook and returns). An interrupt
# (Ctrl-C, SIGTERM made an exception) arriving then would leave the file without features, and
# the file would be blamed as one openSMILE cannot describe; so the hook below keeps what a
# callback of this thread swallowed and :func:`_interrupts_kept` raises it again.
_SWALLOWED = threading.local()
_chained_hook = sys.unraisablehook


def _keep_swallowed(unraisable) -> None:
    exc_type = unraisable.exc_type
    if getattr(_SWALLOWED, "active", False) and exc_type is not None and not issubclass(exc_type, Exception):
        _SWALLOWED.exc = unraisable.exc_value if unraisable.exc_value is not None else exc_type()
        return
    _chained_hook(unraisable)


@contextlib.contextmanager
def _interrupts_kept() -> Iterator[None]:
    global _chained_hook
    if sys.unraisablehook is not _keep_swallowed:
        _chained_hook, sys.unraisablehook = sys.unraisablehook, _keep_swallowed
    _SWALLOWED.exc, _SWALLOWED.active = None, True
    try:
        yield
    finally:
        _SWALLOWED.active = False
    swallowed, _SWALLOWED.exc = _SWALLOWED.exc, None
    if swallowed is not None:
        raise swallowed


def describe_signal(smile: opensmile.Smile, signal: np.ndarray, sr: int) -> np.ndarray:
    """Functionals of a (samples,) float signal at ``sr`` Hz, shape ``(D,)`` float32.

    ``BadAudio`` (the reason, no file name) when openSMILE fails or any functional is not finite.
    """
    try:
        # A segment shorter than one analysis window yields no frame: openSMILE then warns and
        # pads with NaN. The NaN check below turns that into a bad file, so the warning is noise.
        with warnings.catch_warnings(), _interrupts_kept():
            warnings.filterwarnings("ignore", message="Segment too short", category=UserWarning)
            values = smile.process_signal(signal, sr).to_numpy(dtype=np.float32)
    except Exception as exc:  # the C engine's errors have no common base class
        raise BadAudio(f"openSMILE failed ({type(exc).__name__}: {one_line(exc, first=True)})") from None
    values = values.reshape(-1)
    finite = np.isfinite(values)
    if not finite.all():
        raise BadAudio(
            f"openSMILE cannot describe it: {int((~finite).sum())} of {values.size} features "
            f"not finite ({signal.size / sr:.3f} s of audio; too short?)"
        )
    return values
