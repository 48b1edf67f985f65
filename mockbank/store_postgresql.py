"""The PostgreSQL backend of the store contract: one store shared by many mockbank processes.

``mockbank serve --store postgresql://...`` puts every record in PostgreSQL, so several
instances (on one host or many, behind a load balancer) see the same records, and take-once is
one ``UPDATE ... RETURNING`` row lock: one winner across the whole cluster. Connections come
from a psycopg 3 pool. The schema is created and migrated by mockbank itself: each migration
runs once, in order, under an advisory lock, so instances starting together agree.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mockbank.store import (
    PURGE_EVERY_WRITES,
    PURGE_GRACE_S,
    Record,
    Updater,
    Value,
    check_count,
)

if TYPE_CHECKING:
    from psycopg import Connection
    from psycopg_pool import ConnectionPool

# Any fixed number: the advisory lock that serialises schema migrations across instances.
_MIGRATION_LOCK = 0x6D6F636B62616E6B  # "mockbank"

# (version, statements): append only; a released migration is never edited.
MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE records (
            namespace TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            created DOUBLE PRECISION NOT NULL,
            expires DOUBLE PRECISION,
            used DOUBLE PRECISION,
            seq BIGSERIAL NOT NULL,
            PRIMARY KEY (namespace, key)
        );
        CREATE INDEX records_expires ON records (expires) WHERE expires IS NOT NULL;
        """,
    ),
    (
        2,
        """
        CREATE TABLE sequences (
            name TEXT PRIMARY KEY,
            value BIGINT NOT NULL
        );
        """,
    ),
]


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def migrate(connection: Connection[Any]) -> int:
    """Bring the schema to the newest version; the version it ends at."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        connection.execute("CREATE TABLE IF NOT EXISTS mockbank_schema (version INTEGER NOT NULL)")
        row = connection.execute("SELECT max(version) FROM mockbank_schema").fetchone()
        current = int(row[0]) if row and row[0] is not None else 0
        for version, statements in MIGRATIONS:
            if version > current:
                connection.execute(statements.encode())
                connection.execute("INSERT INTO mockbank_schema VALUES (%s)", (version,))
                current = version
    return current


class StoreUnreachable(ConnectionError):
    """The PostgreSQL store could not be reached or migrated at start."""

    def __init__(self, dsn: str, error: BaseException) -> None:
        from mockbank.config import redact_store_url

        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        super().__init__(f"the store {redact_store_url(dsn)} cannot be used: {reason}")


class PostgreSQLStore:
    """Records in PostgreSQL behind a connection pool; every operation is one atomic statement
    or one transaction, so it holds across threads, processes and hosts alike."""

    persistent = True

    def __init__(
        self,
        dsn: str,
        *,
        min_size: int = 1,
        max_size: int = 20,
        connect_timeout_s: float = 15.0,
    ) -> None:
        from psycopg_pool import ConnectionPool

        # The pool logs each failed try; at start one clear line (StoreUnreachable) says it.
        pool_log = logging.getLogger("psycopg.pool")
        level = pool_log.level
        pool_log.setLevel(logging.CRITICAL)
        self.dsn = dsn
        self._writes = 0
        self._pool: ConnectionPool = ConnectionPool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            kwargs={"autocommit": True, "connect_timeout": 10},
            open=True,
            name="mockbank",
            timeout=30,
        )
        try:
            with self._pool.connection(timeout=connect_timeout_s) as connection:
                self.schema_version = migrate(connection)
        except Exception as error:
            self._pool.close()
            raise StoreUnreachable(dsn, error) from None
        finally:
            pool_log.setLevel(level)

    def _execute(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        with self._pool.connection() as connection:
            return connection.execute(sql.encode(), args).rowcount

    def _fetch(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._pool.connection() as connection:
            return connection.execute(sql.encode(), args).fetchall()

    def _fetchone(self, sql: str, args: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        rows = self._fetch(sql, args)
        return rows[0] if rows else None

    def _wrote(self, now: datetime) -> None:
        self._writes += 1
        if self._writes % PURGE_EVERY_WRITES == 0:
            self.purge_expired(now)

    @staticmethod
    def _row(row: tuple[Any, ...]) -> Record:
        namespace, key, value, created, expires, used = row[:6]
        return Record(
            namespace,
            key,
            json.loads(value),
            datetime.fromtimestamp(created, tz=UTC),
            _dt(expires),
            _dt(used),
        )

    def add(
        self,
        namespace: str,
        key: str,
        value: Value,
        *,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> bool:
        changed = self._execute(
            "INSERT INTO records (namespace, key, value, created, expires)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (namespace, key, json.dumps(value), now.timestamp(), _ts(expires_at)),
        )
        self._wrote(now)
        return changed == 1

    def put(
        self,
        namespace: str,
        key: str,
        value: Value,
        *,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> None:
        self._execute(
            "INSERT INTO records (namespace, key, value, created, expires)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (namespace, key) DO UPDATE SET"
            " value = EXCLUDED.value, created = EXCLUDED.created, expires = EXCLUDED.expires,"
            " used = NULL, seq = nextval('records_seq_seq')",
            (namespace, key, json.dumps(value), now.timestamp(), _ts(expires_at)),
        )
        self._wrote(now)

    def get(self, namespace: str, key: str, *, now: datetime) -> Value | None:
        row = self._fetchone(
            "SELECT value FROM records WHERE namespace = %s AND key = %s AND used IS NULL"
            " AND (expires IS NULL OR expires > %s)",
            (namespace, key, now.timestamp()),
        )
        return None if row is None else dict(json.loads(row[0]))

    def record(self, namespace: str, key: str) -> Record | None:
        row = self._fetchone(
            "SELECT namespace, key, value, created, expires, used FROM records"
            " WHERE namespace = %s AND key = %s",
            (namespace, key),
        )
        return None if row is None else self._row(row)

    def take_once(self, namespace: str, key: str, *, now: datetime) -> Value | None:
        row = self._fetchone(
            "UPDATE records SET used = %s WHERE namespace = %s AND key = %s AND used IS NULL"
            " AND (expires IS NULL OR expires > %s) RETURNING value",
            (now.timestamp(), namespace, key, now.timestamp()),
        )
        return None if row is None else dict(json.loads(row[0]))

    def update(
        self,
        namespace: str,
        key: str,
        change: Updater,
        *,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> Value | None:
        with self._pool.connection() as connection, connection.transaction():
            row = connection.execute(
                b"SELECT value, expires FROM records WHERE namespace = %s AND key = %s"
                b" AND used IS NULL AND (expires IS NULL OR expires > %s) FOR UPDATE",
                (namespace, key, now.timestamp()),
            ).fetchone()
            if row is None:
                return None
            new_value = change(json.loads(row[0]))
            connection.execute(
                b"UPDATE records SET value = %s, expires = %s WHERE namespace = %s AND key = %s",
                (
                    json.dumps(new_value),
                    _ts(expires_at) if expires_at else row[1],
                    namespace,
                    key,
                ),
            )
        copied: Value = json.loads(json.dumps(new_value))
        return copied

    def delete(self, namespace: str, key: str) -> bool:
        return (
            self._execute("DELETE FROM records WHERE namespace = %s AND key = %s", (namespace, key))
            == 1
        )

    def records(self, namespace: str) -> list[Record]:
        rows = self._fetch(
            "SELECT namespace, key, value, created, expires, used FROM records"
            " WHERE namespace = %s ORDER BY created, seq",
            (namespace,),
        )
        return [self._row(row) for row in rows]

    def next_sequence(self, name: str, count: int = 1) -> int:
        check_count(count)
        # One statement: the row lock of the upsert makes the increment atomic cluster-wide.
        row = self._fetchone(
            "INSERT INTO sequences (name, value) VALUES (%s, %s) ON CONFLICT (name)"
            " DO UPDATE SET value = sequences.value + EXCLUDED.value RETURNING value",
            (name, count),
        )
        assert row is not None
        return int(row[0]) - count + 1

    def reset(self, prefix: str | None = None) -> None:
        with self._pool.connection() as connection, connection.transaction():
            if prefix is None:
                connection.execute(b"DELETE FROM records")
                connection.execute(b"DELETE FROM sequences")
                return
            like = _like_prefix(prefix)
            connection.execute(b"DELETE FROM records WHERE namespace LIKE %s ESCAPE '\\'", (like,))
            connection.execute(b"DELETE FROM sequences WHERE name LIKE %s ESCAPE '\\'", (like,))

    def purge_expired(self, now: datetime, grace_s: float = PURGE_GRACE_S) -> int:
        return self._execute(
            "DELETE FROM records WHERE expires IS NOT NULL AND expires <= %s",
            (now.timestamp() - grace_s,),
        )

    def close(self) -> None:
        self._pool.close()
