"""One file per fitted latent augmenter: what :meth:`LatentAugmenter.save` writes and ``load`` reads.

The file is a ``torch.save`` of plain containers, scalars and tensors only (it loads with
``weights_only=True``): the estimator's parameters, its networks' state dict, the scaling, the
classes and the training history. The class is stored by name and found among the subclasses of
the class ``load`` is called on.
"""

from __future__ import annotations

import os
from typing import Iterator, Optional

import numpy as np
import torch

from adan_ser import __version__
from adan_ser.augment.generators.base import validate_params
from adan_ser.core.device import resolve_device
from adan_ser.core.errors import AdanError
from adan_ser.core.scaling import ZScaler

__all__ = ["FORMAT_VERSION", "to_builtin", "write_model", "read_model"]

#: Saved-file format "major.minor"; a file with another major is refused.
FORMAT_VERSION = "1.0"
#: Tag inside every saved file (named after the module that first wrote the format; kept so old files load).
_FORMAT_TAG = "adan_ser.augment.generators.adan"
#: Parameters saved under an earlier name (files written before the rename still load).
_RENAMED = {"seed": "random_state"}


def to_builtin(obj):
    """Plain Python containers/scalars only, so the saved file loads with ``weights_only=True``."""
    if isinstance(obj, dict):
        return {to_builtin(k): to_builtin(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_builtin(v) for v in obj)
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return obj


def write_model(est, path) -> None:
    """Write the fitted latent augmenter ``est`` to ``path`` (atomically; same model, same bytes)."""
    from adan_ser.core.io import atomic_path

    payload = {
        "format": _FORMAT_TAG,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "model": type(est).__name__,
        # where training curves went is not part of the model (and is a temporary folder
        # during the augment stage): kept out so the same model gives the same bytes
        "params": to_builtin({**est.get_params(), "log_dir": None}),
        "state_dict": {k: v.detach().cpu() for k, v in est.net_.state_dict().items()},
        "keep_features": torch.from_numpy(est.keep_features_.copy()),
        "constant_values": torch.from_numpy(est.constant_values_.copy()),
        "center": torch.from_numpy(np.array(est.scaler_.mean_, dtype=np.float64)),
        "scale": torch.from_numpy(np.array(est.scaler_.scale_, dtype=np.float64)),
        "classes": to_builtin(est.classes_.tolist()),
        "classes_dtype": est.classes_.dtype.str if est.classes_.dtype != object else "object",
        "n_features_in": int(est.n_features_in_),
        "feature_names_in": (
            [str(n) for n in est.feature_names_in_] if hasattr(est, "feature_names_in_") else None
        ),
        "history": to_builtin(est.history_),
        "n_epochs": int(est.n_epochs_),
        "extra": to_builtin(est._extra_state()),
    }
    # Through a file object: given a path, torch.save names the archive after the (random)
    # temporary file, and the same model would then give different bytes (and DVC hashes).
    with atomic_path(path, ".pt") as tmp, open(tmp, "wb") as fh:
        torch.save(payload, fh)


def _payload(path) -> dict:
    """The checked contents of a saved model file; AdanError naming the file otherwise."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise AdanError(f"model file {os.fspath(path)!r} not found") from None
    except Exception as exc:  # unpickling errors come in many types
        raise AdanError(f"{os.fspath(path)!r} is not a readable ADAN model file: {type(exc).__name__}") from None
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT_TAG:
        raise AdanError(f"{os.fspath(path)!r} is not an ADAN model file")
    major = str(payload.get("format_version", "")).split(".")[0]
    if major != FORMAT_VERSION.split(".")[0]:
        raise AdanError(
            f"{os.fspath(path)!r} has format version {payload.get('format_version')!r}; "
            f"this adan_ser reads {FORMAT_VERSION.split('.')[0]}.x"
        )
    return payload


def read_model(cls, path, device: Optional[str] = None):
    """The fitted estimator saved in ``path`` by :func:`write_model`: ``cls`` or one of its subclasses
    (AdanError otherwise); ``device`` overrides the saved ``device`` parameter."""
    payload = _payload(path)
    model_cls = next((c for c in _model_classes(cls) if c.__name__ == payload["model"]), None)
    if model_cls is None:
        raise AdanError(f"{os.fspath(path)!r} holds a {payload['model']}, not a {cls.__name__}")
    known = model_cls().get_params(deep=False)
    params = {_RENAMED.get(k, k): v for k, v in payload["params"].items()}
    params = {k: v for k, v in params.items() if k in known}
    if device is not None:
        params["device"] = device
    est = model_cls(**params)
    validate_params(est)
    est.device_ = resolve_device(est.device)
    est.keep_features_ = payload["keep_features"].numpy().astype(bool)
    est.constant_values_ = payload["constant_values"].numpy().astype(np.float64)
    est.scaler_ = ZScaler.from_stats(payload["center"].numpy().astype(np.float64),
                                     payload["scale"].numpy().astype(np.float64))
    dtype = payload["classes_dtype"]
    est.classes_ = np.asarray(payload["classes"], dtype=object if dtype == "object" else np.dtype(dtype))
    est.n_features_in_ = int(payload["n_features_in"])
    if payload.get("feature_names_in") is not None:
        est.feature_names_in_ = np.asarray(payload["feature_names_in"], dtype=object)
    est.history_ = list(payload["history"])
    est.n_epochs_ = int(payload["n_epochs"])
    est._build(int(est.keep_features_.sum()), len(est.classes_), 0)
    est.net_.load_state_dict(payload["state_dict"])
    est.net_.eval()
    est._load_extra_state(payload.get("extra", {}))
    return est


def _model_classes(cls) -> Iterator[type]:
    """``cls`` and every subclass defined so far (a saved file names its class)."""
    yield cls
    for sub in cls.__subclasses__():
        yield from _model_classes(sub)
