"""Where parallel work runs: ``local`` (this machine) or a Dask scheduler named by its address.

Extraction (``features.scheduler``) and cross-validation / augmentation (``cv.scheduler``) take the
same values:

* ``local`` (or None): this process (extraction: a process pool of ``features.workers``);
* ``tcp://host:8786`` (any URL): an existing Dask scheduler;
* ``localcluster:N``: a Dask ``LocalCluster`` of N single-threaded worker processes on this
  machine, started on first use and shared by every later call of the same process (one stage),
  closed when it exits. Independent folds then run N at a time, and
  torch runs on one thread per fit whatever the machine's core count, so the outputs are the same
  on every machine (and equal to a cluster of single-threaded workers).
"""

from __future__ import annotations

import atexit
import re

from adan_ser.core.errors import AdanError

_LOCALCLUSTER = re.compile(r"^localcluster:(\d+)$")
_local_clusters: dict = {}  # workers → the LocalCluster this process started


def _local_cluster(n: int):
    """This process's LocalCluster of ``n`` one-thread worker processes (started once, loopback only)."""
    from distributed import LocalCluster

    cluster = _local_clusters.get(n)
    if cluster is None or cluster.status.name in ("closing", "closed"):
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=":0")
        _local_clusters[n] = cluster
        atexit.register(cluster.close)
    return cluster


def is_dask_address(scheduler) -> bool:
    """True when ``scheduler`` names Dask: a scheduler URL (``tcp://host:port``) or ``localcluster:N``."""
    return isinstance(scheduler, str) and ("://" in scheduler or bool(_LOCALCLUSTER.match(scheduler)))


def check_scheduler(scheduler) -> None:
    """AdanError unless ``scheduler`` is None, ``"local"`` or a scheduler URL."""
    if scheduler is None or scheduler == "local" or is_dask_address(scheduler):
        return
    raise AdanError(
        "scheduler must be 'local', 'localcluster:N' or a Dask scheduler address like tcp://host:8786, "
        f"got {scheduler!r}"
    )


def dask_client(address: str, timeout_s: float = 30.0):
    """A ``distributed.Client`` for ``address``; AdanError naming it if unreachable.

    ``localcluster:N`` connects to this process's LocalCluster of N one-thread workers, starting
    it on first use; ``client.close()`` leaves it running for the next call.
    """
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - distributed is a declared dependency
        raise AdanError(f"scheduler {address}: the 'distributed' package is not installed") from None
    local = _LOCALCLUSTER.match(address)
    if local:
        if int(local.group(1)) < 1:
            raise AdanError(f"scheduler {address}: needs at least one worker")
        return Client(_local_cluster(int(local.group(1))), set_as_default=False)
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


def run_tasks(fn, tasks, scheduler, *, shared=None, desc: str = "tasks", progress: bool = True,
              leave: bool = True, total=None):
    """Yield ``fn(*task)`` for each argument tuple of ``tasks``, in order, here or on Dask.

    ``scheduler`` None / ``"local"``: one after the other in this process, each task's arguments
    built only when it runs. A Dask address (``tcp://…``, ``localcluster:N``): every task is
    submitted (numpy arrays among its arguments scattered, see :func:`submit`) and results are
    gathered in task order. ``shared``: when given, passed as the first argument of every call;
    on Dask it is sent to each worker once (broadcast) instead of with every task.
    """
    from tqdm.auto import tqdm

    check_scheduler(scheduler)
    head = () if shared is None else (shared,)
    if not is_dask_address(scheduler):
        for task in tqdm(tasks, desc=desc, disable=not progress, leave=leave, total=total):
            yield fn(*head, *task)
        return
    client = dask_client(scheduler)
    try:
        if shared is not None:
            head = (client.scatter(shared, broadcast=True, hash=False),)
        futures = [submit(client, fn, *head, *task) for task in tasks]
        for future in tqdm(futures, desc=desc, disable=not progress, leave=leave):
            yield future.result()
    finally:
        client.close()
