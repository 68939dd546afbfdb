"""``params.yaml``: its schema, and the one reader of it (only the CLI calls this; library functions
get plain arguments).

:func:`load_params` parses the file and validates ALL of it against :class:`Params` before any
stage runs, so a wrong value stops every command at once with one line naming the key, the value
and what is allowed (``params.yaml: eval.seeds: '12' is not ...``), never a traceback or a value
misread (a string read letter by letter, ``"1e-3"`` passed on as text). Rules:

* unknown keys are errors, at every level (a typo never silently falls back to a default);
* no value is converted: numbers stay the int or float YAML gave, strings are not read as numbers;
  the one exception is ``eval.seeds``, where one integer means a list of that one seed;
* an absent key takes the default written in the schema; for the blocks passed on to a library
  constructor (``classify.svm``, ``augment.adan``, ...) that is the constructor's own default,
  read from its signature (:mod:`adan_ser.params.derive`); ``null`` does the same for list,
  mapping and block values;
* those blocks are checked here for their keys, value types and bounds (the estimator's
  ``_parameter_constraints``); the constructor checks the rest (e.g. cross-field rules) and gets
  exactly the keys the file gives (:meth:`Params.block`).

Modules: :mod:`~adan_ser.params.types` (value types, the block base), :mod:`~adan_ser.params.derive`
(blocks from the specs), :mod:`~adan_ser.params.schema` (the whole file), :mod:`~adan_ser.params.load`
(reading and the error line).
"""

from adan_ser.params.load import load_params, validate_params
from adan_ser.params.schema import (
    AUDIO_METHODS,
    METHODS,
    PRESETS,
    AugmentParams,
    ClassifyParams,
    CVParams,
    DataParams,
    DNNParams,
    EvalParams,
    FrontendParams,
    Params,
    SpectroParams,
    SpectroTrainParams,
    SVMParams,
    get,
    schema,
)

__all__ = ["Params", "load_params", "validate_params", "get", "schema", "METHODS", "AUDIO_METHODS", "PRESETS",
           "AugmentParams", "ClassifyParams", "CVParams", "DataParams", "DNNParams", "EvalParams", "FrontendParams",
           "SpectroParams", "SpectroTrainParams", "SVMParams"]
