"""Where parallel work runs: ``local`` (this machine) or a Dask scheduler named by its address.

Extraction (``features.scheduler``) and cross-validation (``cv.scheduler``) both take the same
value: ``local`` (or None) or ``tcp://host:8786``. Only the second needs ``distributed``.
"""

from __future__ import annotations

from adan_ser.errors import AdanError


def is_dask_address(scheduler) -> bool:
    """True when ``scheduler`` names a Dask scheduler (``tcp://host:port`` or another URL)."""
    return isinstance(scheduler, str) and "://" in scheduler


def check_scheduler(scheduler) -> None:
    """AdanError unless ``scheduler`` is None, ``"local"`` or a scheduler URL."""
    if scheduler is None or scheduler == "local" or is_dask_address(scheduler):
        return
    raise AdanError(
        f"scheduler must be 'local' or a Dask scheduler address like tcp://host:8786, got {scheduler!r}"
    )


def dask_client(address: str, timeout_s: float = 30.0):
    """A ``distributed.Client`` connected to ``address``; AdanError naming it if unreachable."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - distributed is a declared dependency
        raise AdanError(f"scheduler {address}: the 'distributed' package is not installed") from None
    try:
        return Client(address, timeout=timeout_s, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        reason = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise AdanError(f"scheduler {address}: cannot connect ({reason})") from None


def submit(client, fn, *args):
    """``client.submit(fn, *args)`` with the numpy arrays among ``args`` scattered first.

    Arrays travel to the workers as data rather than inside the task graph (which Dask warns
    about above a few MiB); each task still receives only the arrays it is given.
    """
    import numpy as np

    args = [client.scatter(a, direct=False, hash=False) if isinstance(a, np.ndarray) else a for a in args]
    return client.submit(fn, *args, pure=False)
