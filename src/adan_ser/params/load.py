"""Reading params.yaml: the YAML loader, :func:`load_params`, :func:`validate_params` and the
one-line explanation of the first error."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Optional, get_args

import yaml
from pydantic import BaseModel, ValidationError

from adan_ser.core.errors import AdanError
from adan_ser.params.schema import Params, schema
from adan_ser.params.types import Reason

class _Loader(yaml.SafeLoader):
    """SafeLoader that rejects a key given twice in one mapping (YAML would keep the last)."""


def _mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen = {}
    for key_node, _ in node.value:
        k = loader.construct_object(key_node, deep=deep)
        if k in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {k!r} given twice (first on line {seen[k] + 1})", key_node.start_mark)
        seen[k] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
# YAML 1.1 reads an exponent without a dot (1e-05) as text; YAML 1.2 and DVC read it as a number, and
# `dvc exp run -S key=0.00001` writes exactly that into params.yaml. Quoted scalars stay text.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def load_params(path: str | Path = "params.yaml") -> Params:
    """Parse and validate a params file; AdanError with one line (``file:line:col: ...`` for YAML
    syntax, ``file: dotted.key: value is not ...`` for a bad value)."""
    path = Path(path)
    if not path.is_file():
        raise AdanError(f"params file not found: {path}")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise AdanError(f"{path}:{line}: not UTF-8 text (byte {data[exc.start]:#04x}); save the file as UTF-8") from None
    try:
        raw = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        what = " ".join(s for s in (exc.context, exc.problem) if s)
        raise AdanError(f"{where}: {what or 'not valid YAML'}") from None
    except yaml.YAMLError as exc:
        raise AdanError(f"{path}: {str(exc).splitlines()[0]}") from None
    return validate_params(raw if raw is not None else {}, source=str(path))


def validate_params(raw: Any, source: str = "params") -> Params:
    """``raw`` (a parsed params mapping) as :class:`Params`; AdanError naming the first bad key."""
    if not isinstance(raw, dict):
        raise AdanError(f"{source}: must hold a mapping of keys, got {_show(raw)}")
    problem = _check_primary(raw.get("eval"))
    if problem:
        raise AdanError(f"{source}: {problem}")
    try:
        model = schema()
        return model.model_validate(raw)
    except ValidationError as exc:
        raise AdanError(f"{source}: {_explain(exc.errors()[0], raw, model)}") from None


#: Keys of an ``eval.primary`` entry (adan_ser.reporting.significance.PRIMARY_KEYS), the required first.
_PRIMARY_REQUIRED = ("method", "classifier", "train_data")
_PRIMARY_KEYS = _PRIMARY_REQUIRED + ("reference", "fraction", "metric", "head")
_PRIMARY_MAX = 6


def _check_primary(block: Any) -> Optional[str]:
    """The first problem of ``eval.primary`` in a parsed ``eval`` block, as one line, or None."""
    entries = block.get("primary") if isinstance(block, dict) else None
    if entries is None:
        return None
    if not isinstance(entries, list):
        return (f"eval.primary: {_show(entries)} is not a list of comparisons "
                "(mappings with method, classifier, train_data)")
    if len(entries) > _PRIMARY_MAX:
        return f"eval.primary: {len(entries)} comparisons; a primary family holds at most {_PRIMARY_MAX}"
    seen: dict = {}
    for i, entry in enumerate(entries):
        where = f"eval.primary[{i}]"
        if not isinstance(entry, dict):
            return f"{where}: {_show(entry)} is not a mapping (method, classifier, train_data, ...)"
        for k, v in entry.items():
            if k not in _PRIMARY_KEYS:
                return f"{where}.{k}: unknown key (known: {', '.join(_PRIMARY_KEYS)})"
            if k == "fraction":
                if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 1):
                    return f"{where}.fraction: {_show(v)} is not a number in (0, 1]"
            elif k == "metric":
                if v not in ("wa", "uar"):
                    return f"{where}.metric: {_show(v)} is not wa or uar"
            elif not isinstance(v, str) and not (k == "head" and v is None):
                return f"{where}.{k}: {_show(v)} is not a name"
        for k in _PRIMARY_REQUIRED:
            if entry.get(k) is None:
                return f"{where}.{k}: missing (each comparison names method, classifier and train_data)"
        if entry.get("reference", "none") == entry["method"]:
            return f"{where}.reference: {_show(entry['method'])} is the method itself"
        ident = (entry["method"], entry.get("reference", "none"), entry["classifier"], entry["train_data"],
                 float(entry.get("fraction") or 1.0), entry.get("metric", "uar"), entry.get("head"))
        if ident in seen:
            return f"{where}: repeats eval.primary[{seen[ident]}]"
        seen[ident] = i
    return None


def _explain(error: dict, raw: dict, model: Optional[type[BaseModel]]) -> str:
    """One line for a pydantic error: the dotted key, the value there and what it may be (``model``:
    the schema validated against)."""
    names: list[str] = []
    node: Any = raw
    field = None
    for part in error["loc"]:
        # loc also holds list indices and union-branch tags; the key path is its leading run of
        # mapping keys, and the field reached last describes what is allowed there
        if not (isinstance(part, str) and isinstance(node, dict) and (part in node or (
                model is not None and part in model.model_fields))):
            break
        if error["type"] == "extra_forbidden" and model is not None and part not in model.model_fields:
            known = ", ".join(model.model_fields) or "none"
            return f"{'.'.join(names + [part])}: unknown key (known: {known})"
        names.append(part)
        node = node.get(part)
        if model is not None and part in model.model_fields:
            field = model.model_fields[part]
            model = _model_in(field.annotation)
        else:
            model = None
    dotted = ".".join(names) or "(top level)"
    if field is None:
        return f"{dotted}: {_show(node)}: {error['msg'].lower()}"
    kind = (field.json_schema_extra or {}).get("kind") or error["msg"].lower()
    hint = field.description or ""
    reason = (error.get("ctx") or {}).get("error")
    if isinstance(reason, Reason):
        hint = str(reason)
    if isinstance(node, str) and _is_number(node):
        hint = "; ".join(filter(None, [hint, "write numbers without quotes"]))
    return f"{dotted}: {_show(node)} is not {kind}" + (f" ({hint})" if hint else "")


def _model_in(annotation: Any) -> Optional[type[BaseModel]]:
    """The Block class that a field annotation holds (directly or in Optional/Annotated), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
