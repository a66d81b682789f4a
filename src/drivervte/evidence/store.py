"""The evidence store: shipped records plus the user's own, in an embedded DuckDB database.

Where the database lives (first that applies):

1. the ``db`` argument (``--db PATH`` on the command line);
2. ``$DRIVERVTE_DB``;
3. ``$XDG_DATA_HOME/drivervte/evidence.duckdb``;
4. ``~/.local/share/drivervte/evidence.duckdb``.

Layout. Every open starts an in-memory DuckDB session, loads the shipped records from the
package file (``drivervte/data/evidence.yaml``, validated) into the temporary table
``shipped_records`` and ATTACHes the database file, whose one table ``user_records`` holds
what users added. The shipped records are never written to the file, so a new drivervte
release brings its corrections without migrations. The view ``records`` merges both: a user
record with the id of a shipped one supersedes it (``origin = 'user'``,
``supersedes_shipped = true``); other user records add new estimates.

Writes are atomic: :meth:`EvidenceStore.add` validates the whole input (each record, then the
merged set, see :func:`drivervte.evidence.load.check_records`) before the file is opened for
writing, and writes all records in one transaction. A malformed file changes nothing; a
missing database file is not created by reading.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
from pydantic import ValidationError

from drivervte.errors import InputError
from drivervte.evidence.load import EvidenceSet, check_records, load_shipped
from drivervte.evidence.schema import EvidenceRecord

_USER_DDL = """
CREATE TABLE IF NOT EXISTS u.user_records (
    id VARCHAR PRIMARY KEY,
    seq BIGINT NOT NULL,
    study VARCHAR NOT NULL,
    gene VARCHAR NOT NULL,
    comparator VARCHAR NOT NULL,
    outcome VARCHAR NOT NULL,
    include BOOLEAN NOT NULL,
    payload VARCHAR NOT NULL
)"""

_COLUMNS = "id, seq, study, gene, comparator, outcome, include, payload"


def default_db_path() -> Path:
    """``$DRIVERVTE_DB``, else ``$XDG_DATA_HOME/drivervte/evidence.duckdb``, else
    ``~/.local/share/drivervte/evidence.duckdb``."""
    env = os.environ.get("DRIVERVTE_DB")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "drivervte" / "evidence.duckdb"


@dataclass(frozen=True)
class StoredRecord:
    """A record as the store sees it: ``origin`` is ``shipped`` or ``user``;
    ``supersedes_shipped`` is true for a user record that corrects a shipped one."""

    record: EvidenceRecord
    origin: str
    supersedes_shipped: bool = False


@dataclass(frozen=True)
class AddReport:
    """What :meth:`EvidenceStore.add` wrote: new ids, ids correcting shipped records, ids
    replacing earlier user records."""

    added: list[str]
    supersedes_shipped: list[str]
    replaced_user: list[str]


def _row(rec: EvidenceRecord, seq: int) -> tuple:
    return (rec.id, seq, rec.study, rec.gene.value, rec.comparator, rec.outcome.value,
            rec.include, rec.model_dump_json())


class EvidenceStore:
    """Read the merged evidence base; add user records atomically.

    Parameters
    ----------
    db:
        Database file; ``None`` for :func:`default_db_path`.

    Examples
    --------
    >>> store = EvidenceStore("/tmp/ev.duckdb")          # doctest: +SKIP
    >>> [r.record.id for r in store.records(gene="ALK")]  # doctest: +SKIP
    """

    def __init__(self, db: str | Path | None = None) -> None:
        self.path = Path(db).expanduser() if db is not None else default_db_path()
        self.shipped: EvidenceSet = load_shipped()

    # ------------------------------------------------------------------ sessions
    def _connect(self, *, write: bool) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(":memory:")
        con.execute(
            "CREATE TEMP TABLE shipped_records (id VARCHAR PRIMARY KEY, seq BIGINT, study VARCHAR,"
            " gene VARCHAR, comparator VARCHAR, outcome VARCHAR, include BOOLEAN,"
            " payload VARCHAR)")
        con.executemany("INSERT INTO shipped_records VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [_row(r, i) for i, r in enumerate(self.shipped.records)])
        try:
            if write:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                con.execute(f"ATTACH '{_quote(self.path)}' AS u")
                con.execute(_USER_DDL)
            elif self.path.exists():
                con.execute(f"ATTACH '{_quote(self.path)}' AS u (READ_ONLY)")
            else:
                con.execute("ATTACH ':memory:' AS u")
                con.execute(_USER_DDL)
        except duckdb.Error as exc:
            con.close()
            raise InputError(f"cannot open the evidence database {self.path}: {exc}",
                             column="--db") from None
        if not write and self.path.exists():
            has = con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'u' "
                "AND table_name = 'user_records'").fetchone()[0]
            if not has:
                con.execute("DETACH u")
                con.execute("ATTACH ':memory:' AS u")
                con.execute(_USER_DDL)
        con.execute(
            "CREATE TEMP VIEW records AS "
            f"SELECT {_COLUMNS}, 'user' AS origin, "
            " id IN (SELECT id FROM shipped_records) AS supersedes_shipped, 1 AS part "
            "FROM u.user_records "
            f"UNION ALL SELECT {_COLUMNS}, 'shipped' AS origin, false, 0 AS part "
            "FROM shipped_records WHERE id NOT IN (SELECT id FROM u.user_records)")
        return con

    # ------------------------------------------------------------------ reading
    def records(self, *, gene: str | None = None, include_only: bool = False) -> list[StoredRecord]:
        """The merged records: shipped order (user corrections in place), then user additions.

        ``gene`` filters by gene (case-insensitive); ``include_only`` keeps included records.
        """
        con = self._connect(write=False)
        try:
            sql = ("SELECT r.payload, r.origin, r.supersedes_shipped FROM records r "
                   "LEFT JOIN shipped_records s USING (id) WHERE 1=1")
            params: list = []
            if gene is not None:
                sql += " AND r.gene = ?"
                params.append(gene.strip().upper())
            if include_only:
                sql += " AND r.include"
            sql += " ORDER BY coalesce(s.seq, 1e12 + r.seq), r.id"
            rows = con.execute(sql, params).fetchall()
        finally:
            con.close()
        out = []
        for payload, origin, sup in rows:
            try:
                rec = EvidenceRecord.model_validate_json(payload)
            except ValidationError as exc:
                rid = json.loads(payload).get("id", "?") if payload.startswith("{") else "?"
                raise InputError(
                    f"user record '{rid}' in {self.path} no longer validates ({exc.errors()[0]['msg']}); "
                    "correct it with 'drivervte evidence add' (same id)", column="--db") from None
            out.append(StoredRecord(rec, origin, bool(sup)))
        return out

    def user_ids(self) -> list[str]:
        """Ids of the user's records, in the order they were added."""
        con = self._connect(write=False)
        try:
            return [r[0] for r in con.execute("SELECT id FROM u.user_records ORDER BY seq").fetchall()]
        finally:
            con.close()

    # ------------------------------------------------------------------ writing
    def add(self, new: EvidenceSet | list[EvidenceRecord]) -> AddReport:
        """Add or correct records atomically (all or nothing).

        The merged set after the change is checked first (:func:`check_records`); an
        :class:`InputError` leaves the database file untouched (not even created).
        """
        recs = new.records if isinstance(new, EvidenceSet) else list(new)
        if not recs:
            raise InputError("nothing to add: the file holds no records")
        check_records(recs, complete=False)
        current = self.records()
        new_ids = {r.id for r in recs}
        merged = [s.record for s in current if s.record.id not in new_ids] + recs
        check_records(merged)
        shipped_ids = {r.id for r in self.shipped.records}
        user_before = {s.record.id for s in current if s.origin == "user"}
        con = self._connect(write=True)
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                start = con.execute("SELECT coalesce(max(seq), -1) + 1 FROM u.user_records"
                                    ).fetchone()[0]
                con.executemany("DELETE FROM u.user_records WHERE id = ?", [[r.id] for r in recs])
                con.executemany("INSERT INTO u.user_records VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                [_row(r, start + i) for i, r in enumerate(recs)])
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
        finally:
            con.close()
        return AddReport(
            added=[r.id for r in recs if r.id not in shipped_ids and r.id not in user_before],
            supersedes_shipped=[r.id for r in recs if r.id in shipped_ids],
            replaced_user=[r.id for r in recs if r.id in user_before],
        )


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")
