"""adan-ser: adversarial data augmentation and margin-loss classifiers for speech emotion recognition."""

__version__ = "0.1.0"
