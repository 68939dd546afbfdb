"""Reading ``params.yaml``: only the CLI calls this; library functions get plain arguments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from adan_ser.core.errors import AdanError


def load_params(path: str | Path = "params.yaml") -> dict:
    path = Path(path)
    if not path.is_file():
        raise AdanError(f"params file not found: {path}")
    try:
        params = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise AdanError(f"cannot parse params file {path}: {str(exc).splitlines()[0]}") from None
    if not isinstance(params, dict):
        raise AdanError(f"params file {path} must hold a mapping")
    return params


def get(params: dict, dotted: str, default: Any = ...) -> Any:
    """``get(p, "classify.svm.C")``; a missing key without a default is an error naming it."""
    node: Any = params
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            if default is ...:
                raise AdanError(f"missing key {dotted!r} in params")
            return default
        node = node[part]
    return node
