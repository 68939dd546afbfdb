"""adan_ser.scheduler: which values name a Dask scheduler, and a clear error when none answers."""

import time

import pytest

from adan_ser.errors import AdanError
from adan_ser.scheduler import check_scheduler, dask_client, is_dask_address


def test_addresses_and_local():
    assert is_dask_address("tcp://10.0.0.5:8786")
    assert not is_dask_address("local") and not is_dask_address(None)
    for ok in (None, "local", "tcp://host:8786", "tls://host:8786"):
        check_scheduler(ok)
    with pytest.raises(AdanError, match="'dask'"):
        check_scheduler("dask")


def test_unreachable_scheduler_is_one_line_error():
    pytest.importorskip("distributed")
    start = time.perf_counter()
    with pytest.raises(AdanError, match="tcp://127.0.0.1:9") as info:  # discard port: nothing listens
        dask_client("tcp://127.0.0.1:9", timeout_s=1.0)
    assert "\n" not in str(info.value)
    assert time.perf_counter() - start < 20
