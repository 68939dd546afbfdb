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
