"""Feature tables streamed to one parquet file in fixed-size row groups, so memory stays flat."""

from __future__ import annotations

import contextlib
import os
from typing import Callable, Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from adan_ser.core.io import atomic_path

#: Rows per parquet row group written by :func:`stream_to_parquet`: large enough that the
#: per-column metadata stays small next to the data (IS11: 1024 rows x 4368 floats = 17 MiB).
ROW_GROUP_ROWS = 1024


def stream_to_parquet(
    tables: Iterator[pd.DataFrame], path: str | os.PathLike, empty_error: Callable[[], Exception]
) -> int:
    """Write the rows of ``tables`` (frames of equal columns) to one parquet file at ``path``.

    Rows are appended as row groups of :data:`ROW_GROUP_ROWS` while the tables arrive, so this
    process holds at most a row group plus one table. The file is built beside ``path`` and
    renamed onto it only when ``tables`` is exhausted (no partial output on an error);
    ``tables`` is closed on the way out, so a generator holding workers releases them at once.
    When no row arrives, nothing is written and ``empty_error()`` is raised.

    Returns:
        the number of rows written.
    """
    written = 0
    # closing(): on an error below, the pool or the cluster's tasks are released now.
    with contextlib.closing(tables) as stream, atomic_path(path, ".parquet") as tmp:
        writer = None  # opened on the first rows, whose column types make the schema
        buffer: list[pd.DataFrame] = []
        buffered = 0

        def flush(part: pd.DataFrame) -> None:
            nonlocal writer
            arrow = pa.Table.from_pandas(part, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(tmp, arrow.schema)
            writer.write_table(arrow.cast(writer.schema), row_group_size=ROW_GROUP_ROWS)

        try:
            for table in stream:
                if not len(table):
                    continue
                buffer.append(table)
                buffered += len(table)
                written += len(table)
                # Row groups are cut at fixed row counts, not chunk edges, so the file's
                # layout (and bytes) do not depend on the backend or the chunk size.
                if buffered >= ROW_GROUP_ROWS:
                    merged = pd.concat(buffer, ignore_index=True)
                    cut = (buffered // ROW_GROUP_ROWS) * ROW_GROUP_ROWS
                    flush(merged.iloc[:cut])
                    rest = merged.iloc[cut:].reset_index(drop=True)
                    buffer, buffered = ([rest] if len(rest) else []), len(rest)
            if buffered:
                flush(pd.concat(buffer, ignore_index=True))
        finally:
            if writer is not None:
                writer.close()
        if writer is None:  # no row: a table of no rows serves no stage
            raise empty_error()
    return written
