"""dvclive logging shared by every training loop (the augmenters' and the classifiers')."""

from __future__ import annotations

import os
from typing import Optional

# dvclive keeps one signal file per repository for the DVC VS Code extension
# (.dvc/tmp/exps/run/DVCLIVE_STEP_COMPLETED): every Live writes it at each step and removes it
# at end(), checking that it exists first. Folds trained in parallel processes (Dask workers) race
# on that check: one removes the file between another's check and its removal.
_STEP_SIGNAL = "DVCLIVE_STEP_COMPLETED"


def open_live(log_dir, **options) -> Optional["Live"]:  # noqa: F821 (lazy import)
    """A dvclive ``Live`` writing under ``log_dir`` (metrics under ``plots/``), or None without a folder.

    Logs files only: no ``dvc.yaml``, no DVC experiment (``options`` may add e.g. ``report=None``).
    Its ``end()`` tolerates the shared step-signal file having been removed by another process.
    """
    if log_dir is None:
        return None
    from dvclive import Live  # lazy: dvclive pulls in dvc/git machinery

    class _ParallelSafeLive(Live):
        def end(self):
            try:
                super().end()
            except FileNotFoundError as err:
                # Only the signal clean-up, the last thing end() does, may fail this way harmlessly.
                if os.path.basename(str(err.filename or "")) != _STEP_SIGNAL:
                    raise

    return _ParallelSafeLive(os.fspath(log_dir), save_dvc_exp=False, dvcyaml=None, **options)
