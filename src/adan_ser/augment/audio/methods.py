"""The audio methods by the name ``params.yaml`` gives them."""

from __future__ import annotations

from adan_ser.augment.audio.perturbers import AudioPerturber, MixPerturber, NoisePerturber, SpeedPerturber
from adan_ser.augment.audio.voices import ChangeGenderPerturber, VTLPPerturber

__all__ = ["AUDIO_METHODS"]

#: Method name (params.yaml) → perturber class.
AUDIO_METHODS: dict[str, type[AudioPerturber]] = {
    cls.method: cls for cls in (SpeedPerturber, NoisePerturber, MixPerturber, ChangeGenderPerturber,
                VTLPPerturber)
}
