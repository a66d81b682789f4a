"""Reading cohort tables (read_table): formats, errors, and reading only the columns used."""

from __future__ import annotations

import pandas as pd
import pytest

from drivervte.errors import InputError
from drivervte.survival.cohort import prepare_cohort
from drivervte.survival.tables import read_table


@pytest.fixture
def df():
    return pd.DataFrame(
        {
            "t": [5.0, 3.0, 0.0, 7.5, 2.0, 9.0],
            "s": [1, 0, 2, 1, 0, 2],
            "alk": ["+", "-", "-", "+", "-", "-"],
            "stage": ["IV", "I", "III", "I", "IV", "III"],
            "age": [61, 70, 58, 45, 66, 72],
            "site": ["b", "a", "a", "b", "c", "c"],
        }
    )


def test_read_table_formats(df, tmp_path):
    csv, pq, db = tmp_path / "c.csv", tmp_path / "c.parquet", tmp_path / "c.duckdb"
    df.to_csv(csv, index=False)
    df.to_parquet(pq)
    import duckdb

    with duckdb.connect(str(db)) as con:
        con.register("src", df)
        con.execute("CREATE TABLE cohort AS SELECT * FROM src")
    for got in (read_table(csv), read_table(pq), read_table(db, table="cohort"),
                read_table(str(csv)), read_table(df)):  # fmt: skip
        pd.testing.assert_frame_equal(got.reset_index(drop=True), df, check_dtype=False)
    rel = duckdb.connect().from_df(df)
    pd.testing.assert_frame_equal(read_table(rel), df, check_dtype=False)


def test_read_table_polars(df):
    pl = pytest.importorskip("polars")
    pd.testing.assert_frame_equal(read_table(pl.from_pandas(df)), df, check_dtype=False)


@pytest.mark.parametrize("name", ["absent.csv", "c.xlsx", "c.duckdb"])
def test_read_table_errors(tmp_path, name):
    path = tmp_path / name
    if name != "absent.csv":
        path.write_text("x")
    with pytest.raises(InputError):
        read_table(path)
    with pytest.raises(InputError):
        read_table(42)


def test_bad_csv_is_input_error(tmp_path):
    path = tmp_path / "bad.parquet"
    path.write_text("not parquet")
    with pytest.raises(InputError, match="cannot read"):
        read_table(path)


def _wide() -> pd.DataFrame:
    """A table with more columns than the analysis uses (text with commas and quotes)."""
    return pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(6)],
            "t": [5.0, 3.0, 0.0, 7.5, 2.0, 9.0],
            "note": ['a, "b"', "", "x", "y,z", "w", "v"],
            "s": [1, 0, 2, 1, 0, 2],
            "age": [61, 70, 58, 45, 66, 72],
            "sex": ["M", "F", "F", "M", "M", "F"],
        }
    )


@pytest.mark.parametrize("name", ["w.csv", "w.csv.gz", "w.tsv", "w.parquet", "w.duckdb"])
def test_read_table_columns_reads_only_those(tmp_path, name):
    wide, path = _wide(), tmp_path / name
    if name.endswith(".parquet"):
        wide.to_parquet(path)
    elif name.endswith(".duckdb"):
        import duckdb

        with duckdb.connect(str(path)) as con:
            con.register("src", wide)
            con.execute("CREATE TABLE cohort AS SELECT * FROM src")
    else:
        wide.to_csv(path, index=False, sep="\t" if name.endswith(".tsv") else ",")
    table = "cohort" if name.endswith(".duckdb") else None
    full = read_table(path, table=table)
    got = read_table(path, table=table, columns=["s", "sex", "t"])
    assert list(got.columns) == ["t", "s", "sex"]  # table order, nothing else
    pd.testing.assert_frame_equal(got.reset_index(drop=True),
                                  full[["t", "s", "sex"]].reset_index(drop=True))  # fmt: skip


def test_read_table_columns_absent_reads_everything(tmp_path):
    path = tmp_path / "w.csv"
    _wide().to_csv(path, index=False)
    got = read_table(path, columns=["t", "s", "kras"])
    assert list(got.columns) == list(_wide().columns)
    with pytest.raises(InputError) as exc:  # the error lists the table's columns
        prepare_cohort(got, time="t", status="s", covariates=["kras"])
    assert exc.value.column == "kras" and "'note'" in str(exc.value)


def test_read_table_columns_duplicate_header_reads_everything(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("t,s,t\n1,1,2\n2,0,3\n")
    assert list(read_table(path, columns=["t", "s"]).columns) == list(read_table(path).columns)


def test_read_table_columns_ragged_rows_as_without(tmp_path):
    long_row = tmp_path / "long.csv"
    long_row.write_text("a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n")
    for cols in (None, ["a", "b"]):  # a row with too many fields is refused either way
        with pytest.raises(InputError, match="cannot read"):
            read_table(long_row, columns=cols)
    short_row = tmp_path / "short.csv"
    short_row.write_text("a,b,c\n1,2,3\n4,5\n8,9,10\n")
    pd.testing.assert_frame_equal(read_table(short_row, columns=["a", "b"]),
                                  read_table(short_row))  # fmt: skip


def test_read_table_still_importable_from_cohort():
    from drivervte.survival import cohort

    assert cohort.read_table is read_table
