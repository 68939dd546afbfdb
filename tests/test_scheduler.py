"""adan_ser.core.scheduler: which values name a Dask scheduler, and a clear error when none answers."""


import pytest

from adan_ser.core.errors import AdanError
from adan_ser.core.scheduler import check_scheduler, dask_client, is_dask_address


def test_addresses_and_local():
    assert is_dask_address("tcp://10.0.0.5:8786")
    assert not is_dask_address("local") and not is_dask_address(None)
    assert is_dask_address("localcluster:2")
    for ok in (None, "local", "tcp://host:8786", "tls://host:8786", "localcluster:1"):
        check_scheduler(ok)
    for bad in ("dask", "localcluster:two", "localcluster"):
        with pytest.raises(AdanError, match=repr(bad)):
            check_scheduler(bad)


def test_localcluster_runs_tasks_on_single_threaded_workers_and_is_reused():
    pytest.importorskip("distributed")
    client = dask_client("localcluster:2")
    try:
        assert len(client.scheduler_info()["workers"]) == 2
        assert set(client.nthreads().values()) == {1}
        assert client.submit(sum, [1, 2, 3]).result() == 6
        cluster = client.cluster
    finally:
        client.close()
    again = dask_client("localcluster:2")  # the next stage call reuses the running cluster
    try:
        assert again.scheduler.address == cluster.scheduler_address
    finally:
        again.close()
    with pytest.raises(AdanError, match="at least one worker"):
        dask_client("localcluster:0")


# ------------------------------------------------------------------ TaskRunner: one executor

import time  # noqa: E402

from adan_ser.core import scheduler as sched  # noqa: E402


def _slow_square(x, delay):
    time.sleep(delay)
    return x * x


def _tasks(n):
    # later tasks finish first: results must still come back in task order
    return [(i, 0.02 * ((n - i) % 4)) for i in range(n)]


@pytest.mark.parametrize("backend", ["here", "pool", "dask"])
def test_task_runner_results_in_task_order(backend, request):
    kwargs = {"here": {}, "pool": {"workers": 2},
              "dask": {"scheduler": request.getfixturevalue("dask_scheduler")} if backend == "dask" else {}}[backend]
    done = []
    with sched.TaskRunner(**kwargs) as runner:
        assert runner.slots == (1 if backend == "here" else 2)
        out = list(runner.map(_slow_square, _tasks(12), on_done=done.append))
    assert out == [i * i for i in range(12)]
    assert sorted(done) == list(range(12))


def test_task_runner_bounds_tasks_in_flight():
    pulled = []

    def tasks():
        for i in range(100):
            pulled.append(i)
            yield (i, 0.0)

    with sched.TaskRunner(workers=2) as runner:
        results = runner.map(_slow_square, tasks())
        assert next(results) == 0
        # built lazily, never further ahead of the next result due than the window
        assert len(pulled) <= sched.AHEAD_PER_SLOT * runner.slots
        results.close()  # the rest is cancelled


def test_run_tasks_shared_first_and_lazy():
    built = []

    def tasks():
        for i in range(3):
            built.append(i)
            yield (i,)

    results = sched.run_tasks(lambda shared, i: shared + i, tasks(), "local", shared=10, progress=False)
    assert next(results) == 10 and built == [0]  # here, each task's arguments are built when it runs
    assert list(results) == [11, 12]


def _pool_pids(_):
    import os

    time.sleep(0.2)
    return os.getpid()


def test_pool_workers_die_with_their_owner():
    """A process that owns a pool is killed: its workers go too (they watch the owner's pid)."""
    psutil = pytest.importorskip("psutil")
    import ast
    import subprocess
    import sys

    code = ("from adan_ser.core.scheduler import TaskRunner; import os, sys, time\n"
            "from tests.test_scheduler import _pool_pids\n"
            "r = TaskRunner(workers=2)\n"
            "print(sorted(set(r.map(_pool_pids, [(i,) for i in range(8)]))), flush=True)\n"
            "time.sleep(60)\n")
    root = str(__import__("pathlib").Path(__file__).resolve().parents[1])
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        workers = [psutil.Process(pid) for pid in ast.literal_eval(proc.stdout.readline())]
        helpers = psutil.Process(proc.pid).children(recursive=True)
        assert len(workers) == 2 and all(w.is_running() for w in workers)
    finally:
        proc.kill()
        proc.wait()
    _, alive = psutil.wait_procs(helpers, timeout=10)
    for p in alive:
        p.kill()
    assert not alive
