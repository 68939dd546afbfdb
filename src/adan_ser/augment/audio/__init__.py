"""Audio-domain augmentation: waveform perturbers and new voices, re-described by openSMILE."""
