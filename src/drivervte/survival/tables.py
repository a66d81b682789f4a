"""Reading a cohort table from a file (CSV/TSV, Parquet, DuckDB) or an in-memory frame.

:func:`read_table` is what every command and :func:`~drivervte.survival.cohort.prepare_cohort`
use. CSV files go through pandas' multithreaded pyarrow engine (the C engine is the fallback);
``columns=`` parses only the columns an analysis uses, which at registry size (10^6 rows)
saves most of the reading time and memory. Validation is not done here: that is
:func:`~drivervte.survival.cohort.prepare_cohort`'s job, once, at the boundary.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from drivervte.errors import InputError

__all__ = ["read_table", "sniff_separator"]


def sniff_separator(path: Path, default: str) -> str:
    """The field separator of a delimited text file, from its header line.

    A header with semicolons and no commas (the spreadsheet export of locales that write
    decimal commas) is read with ``;``; a header with tabs and no commas with a tab;
    otherwise ``default``. Compressed files keep ``default``.
    """
    if path.suffix.lower() == ".gz":
        return default
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as fh:
            header = fh.readline()
    except OSError:
        return default
    if "," not in header:
        if ";" in header:
            return ";"
        if "\t" in header:
            return "\t"
    return default


def _header_names(path: Path, sep: str) -> list[str] | None:
    """The names in a delimited file's header line (``csv`` rules: quotes, separator), or
    None when it cannot be read."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as fh:
            return next(csv.reader(fh, delimiter=sep), None)
    except (OSError, EOFError, csv.Error):
        return None


def _subset(names: Sequence[str] | None, columns: Sequence[str] | None) -> list[str] | None:
    """The table's columns among ``columns``, in table order, if *every* one of ``columns``
    is there and the names are unique; else None (read everything: a missing column is then
    reported by :func:`~drivervte.survival.cohort.prepare_cohort`, which lists the table's
    columns)."""
    if columns is None or names is None:
        return None
    names = [str(c) for c in names]
    wanted = set(columns)
    if len(set(names)) != len(names) or not wanted <= set(names):
        return None
    return [c for c in names if c in wanted]


def _release_arrow_pool() -> None:
    """Hand back to the OS the pages Arrow's allocator (mimalloc or jemalloc) keeps after a
    read: the intermediate Arrow table of a million-row CSV leaves ~250 MB of them resident,
    on top of which the fit would then allocate."""
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except Exception:  # pragma: no cover - pyarrow missing or without this call
        pass


def _read_csv(path: Path, sep: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """pandas' multithreaded pyarrow CSV engine (registry-sized files), else the C engine.

    The separator is sniffed from the header (:func:`sniff_separator`). The C engine is the
    fallback for what the pyarrow engine cannot parse (ragged rows, mixed types it refuses);
    both give the same frame on well-formed files. With ``columns`` (see
    :func:`read_table`) the pyarrow engine parses only those columns (types are inferred
    per column, so they come out as in a full read); it still refuses a row with too many
    or too few fields. If that read fails for any reason, the whole file is read as without
    ``columns``, and the outcome (the frame, the C engine's reading of a ragged file, or
    the error) is exactly the one without ``columns``: the C engine is never given
    ``usecols``, with which it would silently drop the extra fields of a ragged row.
    """
    sep = sniff_separator(path, sep)
    if sep == ";":
        # Semicolon files usually write decimal commas ("1,5"): read them as numbers.
        return pd.read_csv(path, sep=sep, decimal=",")
    usecols = _subset(_header_names(path, sep), columns) if columns is not None else None
    if usecols is not None:
        try:
            df = pd.read_csv(path, sep=sep, engine="pyarrow", usecols=usecols)
        except Exception:  # ragged rows, a header read differently...: the full read decides
            _release_arrow_pool()
        else:
            _release_arrow_pool()
            return df
    try:
        df = pd.read_csv(path, sep=sep, engine="pyarrow")
    except Exception:  # any pyarrow parse failure: let the C engine decide
        _release_arrow_pool()
        return pd.read_csv(path, sep=sep)
    _release_arrow_pool()
    return df


def _read_duckdb(path: Path, table: str, columns: Sequence[str] | None) -> pd.DataFrame:
    import duckdb

    def quote(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    with duckdb.connect(str(path), read_only=True) as con:
        select = "*"
        if columns is not None:
            names = [d[0] for d in con.execute(f"SELECT * FROM {quote(table)} LIMIT 0").description]
            usecols = _subset(names, columns)
            if usecols is not None:
                select = ", ".join(quote(c) for c in usecols)
        return con.execute(f"SELECT {select} FROM {quote(table)}").df()


def _read_parquet(path: Path, columns: Sequence[str] | None) -> pd.DataFrame:
    usecols = None
    if columns is not None:
        import pyarrow.parquet as pq

        usecols = _subset(pq.read_schema(path).names, columns)
    df = pd.read_parquet(path, columns=usecols)
    _release_arrow_pool()
    return df


def read_table(
    source: Any, *, table: str | None = None, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Read a cohort table into a pandas DataFrame.

    Parameters
    ----------
    source:
        A path (``str`` or :class:`~pathlib.Path`) to ``.csv`` / ``.csv.gz`` / ``.tsv`` /
        ``.parquet`` / ``.pq`` / ``.duckdb`` / ``.db`` (DuckDB needs ``table=``); a pandas
        DataFrame (returned as is); a polars DataFrame (converted); a DuckDB relation
        (materialised).
    table:
        Table name inside a DuckDB database file.
    columns:
        For files: read only these columns (what the analysis uses). A wide CSV is then
        parsed only in those columns, which saves most of the time and memory on
        registry-sized files. If any of them is not in the file (or the header has
        duplicate names), the whole table is read, so that
        :func:`~drivervte.survival.cohort.prepare_cohort` reports the missing column with
        the table's full list. Unused columns are not parsed, so
        a defect confined to them (text in an unused numeric column, bytes that are not
        UTF-8) no longer stops the read; a row with too many or too few fields still does
        exactly what it does without ``columns``. Ignored for in-memory tables.

    Raises
    ------
    InputError
        Missing or unreadable file, unknown extension, missing ``table=`` for DuckDB.
    """
    if isinstance(source, pd.DataFrame):
        return source
    mod = type(source).__module__ or ""
    if mod.startswith("polars"):
        try:
            return source.to_pandas()
        except Exception as exc:  # pragma: no cover - depends on polars/pyarrow install
            raise InputError(f"cannot convert the polars DataFrame: {exc}") from exc
    if mod.startswith("duckdb") or mod.startswith("_duckdb"):
        if hasattr(source, "df"):
            return source.df()
        raise InputError(f"unsupported DuckDB object {type(source).__name__}; pass a relation")
    if not isinstance(source, (str, Path)):
        raise InputError(
            f"cannot read a table from {type(source).__name__}; give a file path or a DataFrame"
        )
    path = Path(source)
    if not path.exists():
        raise InputError(f"file not found: {path}")
    name = path.name.lower()
    try:
        if name.endswith((".csv", ".csv.gz", ".txt")):
            return _read_csv(path, ",", columns)
        if name.endswith((".tsv", ".tsv.gz")):
            return _read_csv(path, "\t", columns)
        if name.endswith((".parquet", ".pq")):
            return _read_parquet(path, columns)
        if name.endswith((".duckdb", ".db")):
            if not table:
                raise InputError(f"{path} is a DuckDB database: give table= (the table to read)")
            return _read_duckdb(path, table, columns)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    raise InputError(
        f"unknown file type '{path.suffix}' for {path}; use .csv, .tsv, .parquet or .duckdb"
    )
