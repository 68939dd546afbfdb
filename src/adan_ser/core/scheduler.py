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

:class:`TaskRunner` is the one executor behind both: tasks run in this process, in a local process
pool or on Dask, at most a few per worker slot in flight, and their results come back in task
order. :func:`run_tasks` is its one-call form (one task per fold or fit).

Helper processes end with the process they serve: pool workers watch their owner
(:func:`adan_ser.core.lifecycle.die_with`), and ``distributed`` ends the workers of a
``LocalCluster`` whose process is gone.
"""

from __future__ import annotations

import atexit
import multiprocessing as mp
import os
import re
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Callable, Iterable, Iterator, Sequence

from adan_ser.core.errors import AdanError, one_line
from adan_ser.core.lifecycle import die_with

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
        raise AdanError(f"scheduler {address}: cannot connect ({one_line(exc, first=True)})") from None


def submit(client, fn, *args):
    """``client.submit(fn, *args)`` with the numpy arrays among ``args`` scattered first.

    Arrays travel to the workers as data rather than inside the task graph (which Dask warns
    about above a few MiB); each task still receives only the arrays it is given.
    """
    import numpy as np

    args = [client.scatter(a, direct=False, hash=False) if isinstance(a, np.ndarray) else a for a in args]
    return client.submit(fn, *args, pure=False)


#: Tasks in flight per worker slot, and how far (in slots) submission may run ahead of the next
#: result due: enough to keep every slot busy while results wait to be put back in order, few
#: enough that memory does not grow with the number of tasks.
IN_FLIGHT_PER_SLOT = 2
AHEAD_PER_SLOT = 4

_END = object()


def _pool_worker_start(owner_pid: int, initializer, initargs) -> None:
    die_with(owner_pid)  # a kill -9 of the owner must not leave idle workers behind
    if initializer is not None:
        initializer(*initargs)


def _mp_context(preload: Sequence[str]):
    # Never fork: the parent may hold threads (tqdm monitor, Arrow pools) whose locks a forked
    # child would inherit mid-state. forkserver forks from a clean server that has imported the
    # ``preload`` modules once, so workers start fast.
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(list(preload))
        return ctx
    return mp.get_context("spawn")


class TaskRunner:
    """Where tasks run, and one way to run them: bounded in flight, results in task order.

    ``scheduler`` None / ``"local"`` with ``workers`` 1: in this process, one task after the other.
    ``"local"`` with ``workers`` > 1: a process pool of that many workers, each running
    ``initializer(*initargs)`` once (e.g. to build an expensive object) and dying with this
    process; ``preload`` names modules the fork server imports once for all of them. A Dask
    address: tasks run on that cluster's worker threads (``workers``, ``initializer`` unused).

    :attr:`slots` is how many tasks run at once. Use as a context manager (or call :meth:`close`).
    """

    def __init__(self, scheduler=None, workers: int = 1, *, initializer: Callable | None = None,
                 initargs: tuple = (), preload: Sequence[str] = ()):
        check_scheduler(scheduler)
        self.scheduler = scheduler
        self._client = self._pool = None
        if is_dask_address(scheduler):
            self._client = dask_client(scheduler)
            self.slots = max(1, sum(self._client.nthreads().values()))
        elif int(workers) > 1:
            self._pool = ProcessPoolExecutor(
                max_workers=int(workers),
                mp_context=_mp_context(preload),
                initializer=_pool_worker_start,
                initargs=(os.getpid(), initializer, tuple(initargs)),
            )
            self.slots = int(workers)
        else:
            self.slots = 1

    def __enter__(self) -> "TaskRunner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            # On an error, queued tasks are dropped rather than run to completion.
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def _submit(self, fn, head, task):
        if self._pool is not None:
            return self._pool.submit(fn, *head, *task)
        return submit(self._client, fn, *head, *task)

    def _wait_any(self, pending) -> set:
        if self._pool is not None:
            return wait(pending, return_when=FIRST_COMPLETED)[0]
        from distributed import wait as dask_wait

        with self._client.as_current():  # wait() finds its client there, not in the futures
            return dask_wait(list(pending), return_when="FIRST_COMPLETED").done

    def map(self, fn, tasks: Iterable[tuple], *, shared=None,
            on_done: Callable[[int], None] | None = None) -> Iterator:
        """Yield ``fn(*task)`` for each argument tuple of ``tasks``, in task order.

        ``tasks`` is consumed lazily: a task's arguments are built only when it is submitted, at
        most ``IN_FLIGHT_PER_SLOT x slots`` tasks are in flight, and none more than
        ``AHEAD_PER_SLOT x slots`` ahead of the next result due, so finished results waiting for
        an earlier one stay few. ``shared``: when given, the first argument of every call; on Dask
        it is sent to each worker once (broadcast) instead of with every task, and numpy arrays
        among a task's arguments travel as scattered data (see :func:`submit`). ``on_done(i)``
        is called as task ``i`` (0-based) finishes, in completion order (progress bars).
        Closing the generator early cancels the tasks still in flight.
        """
        head = () if shared is None else (shared,)
        if self._pool is None and self._client is None:
            for i, task in enumerate(tasks):
                result = fn(*head, *task)
                if on_done is not None:
                    on_done(i)
                yield result
            return
        if self._client is not None and shared is not None:
            head = (self._client.scatter(shared, broadcast=True, hash=False),)
        tasks = iter(tasks)
        in_flight, ahead = IN_FLIGHT_PER_SLOT * self.slots, AHEAD_PER_SLOT * self.slots
        pending: dict = {}  # future -> task index
        done: dict = {}  # task index -> result, until its turn
        next_submit = next_due = 0
        exhausted = False
        try:
            while True:
                while not exhausted and len(pending) < in_flight and next_submit < next_due + ahead:
                    task = next(tasks, _END)
                    if task is _END:
                        exhausted = True
                        break
                    pending[self._submit(fn, head, task)] = next_submit
                    next_submit += 1
                if next_due == next_submit and exhausted:
                    return
                if next_due not in done:
                    for future in self._wait_any(pending):
                        i = pending.pop(future)
                        done[i] = future.result()
                        if on_done is not None:
                            on_done(i)
                while next_due in done:
                    yield done.pop(next_due)
                    next_due += 1
        finally:
            for future in pending:
                future.cancel()


def run_tasks(fn, tasks, scheduler, *, shared=None, desc: str = "tasks", progress: bool = True,
              leave: bool = True, total=None):
    """Yield ``fn(*task)`` for each argument tuple of ``tasks``, in order, here or on Dask.

    ``scheduler`` None / ``"local"``: one after the other in this process, each task's arguments
    built only when it runs. A Dask address (``tcp://…``, ``localcluster:N``): tasks are submitted
    a few per worker thread ahead (numpy arrays among its arguments scattered, see :func:`submit`)
    and results are given back in task order (:meth:`TaskRunner.map`). ``shared``: when given,
    passed as the first argument of every call; on Dask it is sent to each worker once
    (broadcast) instead of with every task.
    """
    from tqdm.auto import tqdm

    check_scheduler(scheduler)
    if total is None and hasattr(tasks, "__len__"):
        total = len(tasks)
    with TaskRunner(scheduler) as runner, \
            tqdm(total=total, desc=desc, disable=not progress, leave=leave) as bar:
        yield from runner.map(fn, tasks, shared=shared, on_done=lambda i: bar.update())
