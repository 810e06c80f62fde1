"""The database: one SQLAlchemy engine, the schema, and its migrations.

SQLite by default (one process serves a workspace); PostgreSQL when several instances share the
work. The schema is created and upgraded at start-up, so an upgrade never needs a manual step:
``schema_version`` records how far the database has come, and each migration runs once, in its
own transaction. On PostgreSQL an advisory lock keeps two instances starting together from
migrating at the same time.

Migrations are raw DDL on purpose: they are frozen history, while the ``Table`` objects below
describe the schema as it is now, for queries.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

logger = logging.getLogger(__name__)

_MIGRATION_LOCK_ID = 0x0D017  # arbitrary, constant: the advisory lock guarding migrations


class StoreError(Exception):
    """The database could not be reached or refused an operation."""


metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))

submissions = Table(
    "submissions",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("user_id", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # filing | filed | failed | uncertain
    Column("ticket_id", BigInteger),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("channel_id", String(64), nullable=False),
    Column("number", Integer, nullable=False),  # what people type: `/doit unsubscribe 2`
    Column("query", Text, nullable=False),  # TicketQuery.canonical()
    Column("created_by", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("paused_reason", Text),  # a Slack error code such as not_in_channel; NULL: active
    Column("paused_at", Float),
)

cards = Table(
    "cards",
    metadata,
    Column("ticket_id", BigInteger, primary_key=True),
    Column("channel_id", String(64), primary_key=True),
    Column("message_ts", String(32), nullable=False),
    Column("status", Text, nullable=False),  # the status the card shows now (DoiT's text, any length)
    Column("posted_at", Float, nullable=False),
    Column("filed_by", String(64)),
    Column("updated_at", Float),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("ticket_id", BigInteger, primary_key=True),
    Column("status", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("version", Integer, nullable=False, default=0),  # bumped on each status change seen
    Column("create_time_ms", BigInteger),
    Column("update_time_ms", BigInteger),
    Column("data", Text, nullable=False),  # the ticket as last seen, JSON
    Column("seen_at", Float, nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_key", String(200), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("ticket_id", BigInteger, nullable=False),
    Column("channel_id", String(64), nullable=False),  # a conversation, or a user id for a DM
    Column("payload", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float),  # NULL: pending
    Column("outcome", String(32)),  # sent, found, superseded, dropped
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False, default=0.0),
    Column("attempted_at", Float),  # set while an attempt may have reached Slack
    Column("message_ts", String(32)),
    Column("last_error", Text),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("acquired_at", Float, nullable=False),
)

watcher_state = Table(
    "watcher_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

unfurls = Table(
    "unfurls",
    metadata,
    Column("channel_id", String(64), primary_key=True),
    Column("ticket_id", BigInteger, primary_key=True),
    Column("unfurled_at", Float, nullable=False),
)


def _v1(conn: Connection) -> None:
    serial = "INTEGER PRIMARY KEY AUTOINCREMENT" if conn.dialect.name == "sqlite" else "BIGSERIAL PRIMARY KEY"
    statements = [
        """CREATE TABLE submissions (
            key VARCHAR(200) PRIMARY KEY, user_id VARCHAR(64) NOT NULL, state VARCHAR(16) NOT NULL,
            ticket_id BIGINT, created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL)""",
        "CREATE INDEX submissions_by_user ON submissions (user_id, created_at)",
        f"""CREATE TABLE subscriptions (
            id {serial}, channel_id VARCHAR(64) NOT NULL, number INTEGER NOT NULL, query TEXT NOT NULL,
            created_by VARCHAR(64) NOT NULL, created_at DOUBLE PRECISION NOT NULL, paused_reason TEXT,
            paused_at DOUBLE PRECISION, UNIQUE (channel_id, number), UNIQUE (channel_id, query))""",
        """CREATE TABLE cards (
            ticket_id BIGINT NOT NULL, channel_id VARCHAR(64) NOT NULL, message_ts VARCHAR(32) NOT NULL,
            status TEXT NOT NULL, posted_at DOUBLE PRECISION NOT NULL, filed_by VARCHAR(64),
            updated_at DOUBLE PRECISION, PRIMARY KEY (ticket_id, channel_id))""",
        """CREATE TABLE snapshots (
            ticket_id BIGINT PRIMARY KEY, status TEXT NOT NULL, active BOOLEAN NOT NULL,
            version INTEGER NOT NULL DEFAULT 0, create_time_ms BIGINT, update_time_ms BIGINT,
            data TEXT NOT NULL, seen_at DOUBLE PRECISION NOT NULL)""",
        "CREATE INDEX snapshots_active ON snapshots (active)",
        f"""CREATE TABLE deliveries (
            id {serial}, event_key VARCHAR(200) NOT NULL UNIQUE, kind VARCHAR(32) NOT NULL,
            ticket_id BIGINT NOT NULL, channel_id VARCHAR(64) NOT NULL, payload TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL, delivered_at DOUBLE PRECISION, outcome VARCHAR(32),
            attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at DOUBLE PRECISION NOT NULL DEFAULT 0,
            attempted_at DOUBLE PRECISION, message_ts VARCHAR(32), last_error TEXT)""",
        "CREATE INDEX deliveries_pending ON deliveries (delivered_at, next_attempt_at)",
        "CREATE INDEX deliveries_by_ticket ON deliveries (ticket_id, channel_id)",
        """CREATE TABLE leases (
            name VARCHAR(64) PRIMARY KEY, holder VARCHAR(200) NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL, acquired_at DOUBLE PRECISION NOT NULL)""",
        "CREATE TABLE watcher_state (key VARCHAR(64) PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE unfurls (
            channel_id VARCHAR(64) NOT NULL, ticket_id BIGINT NOT NULL,
            unfurled_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (channel_id, ticket_id))""",
    ]
    for statement in statements:
        conn.execute(text(statement))


MIGRATIONS: Sequence[Callable[[Connection], None]] = (_v1,)
"""Migration N+1 is ``MIGRATIONS[N]``. Append only; never edit one that has shipped."""

SCHEMA_VERSION = len(MIGRATIONS)


def make_engine(url: str) -> Engine:
    """An engine for ``url`` tuned for many short transactions from a few threads."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; take control so that a write
        # transaction takes the lock up front instead of failing halfway ("database is locked").
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let the "begin" listener issue BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Store:
    """The engine plus the operations several parts of the bot share."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def connect(cls, url: str, *, migrate: bool = True) -> Store:
        store = cls(make_engine(url))
        if migrate:
            store.migrate()
        return store

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        """Raise :class:`StoreError` unless the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise StoreError(f"The database does not answer: {type(exc).__name__}") from exc

    def version(self) -> int:
        with self.engine.connect() as conn:
            return _current_version(conn)

    def migrate(self) -> int:
        """Bring the schema up to :data:`SCHEMA_VERSION`; returns the version reached."""
        try:
            with self.engine.begin() as conn:
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
                conn.execute(text("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"))
                current = _current_version(conn)
                for number in range(current, SCHEMA_VERSION):
                    logger.info("Migrating the database to schema version %d", number + 1)
                    MIGRATIONS[number](conn)
                if current < SCHEMA_VERSION:
                    conn.execute(schema_version.delete())
                    conn.execute(insert(schema_version).values(version=SCHEMA_VERSION))
                return max(current, SCHEMA_VERSION)
        except SQLAlchemyError as exc:
            raise StoreError(f"Could not prepare the database schema: {type(exc).__name__}") from exc

    # -- ticket submissions: one modal submission files at most one ticket -------------------------

    def claim_submission(self, key: str, user_id: str, *, now: float | None = None) -> dict[str, Any] | None:
        """Record that ``key`` is being filed. None when we claimed it; else the earlier row.

        A row in state ``failed`` is reclaimed: the user pressed "Try again" after an error.
        """
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(submissions).values(
                            key=key, user_id=user_id, state="filing", created_at=now, updated_at=now
                        )
                    )
                return None
            except IntegrityError:
                row = conn.execute(select(submissions).where(submissions.c.key == key)).mappings().one()
                if row["state"] != "failed":
                    return dict(row)
                conn.execute(
                    submissions.update()
                    .where(submissions.c.key == key, submissions.c.state == "failed")
                    .values(state="filing", updated_at=now)
                )
                return None

    def finish_submission(self, key: str, *, ticket_id: int | None, uncertain: bool = False) -> None:
        """Mark a claimed submission filed (with its ticket), failed, or uncertain.

        ``uncertain``: the create reached DoiT but no answer came back, so a ticket may exist. Such
        a claim is never reclaimed, so the same submission delivered again cannot file a second one.
        """
        state = "filed" if ticket_id is not None else ("uncertain" if uncertain else "failed")
        with self.engine.begin() as conn:
            conn.execute(
                submissions.update()
                .where(submissions.c.key == key)
                .values(state=state, ticket_id=ticket_id, updated_at=time.time())
            )

    def recent_submissions(self, user_id: str, *, window: float, now: float | None = None) -> int:
        """How many tickets ``user_id`` filed or is filing in the last ``window`` seconds."""
        now = time.time() if now is None else now
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(submissions.c.key).where(
                    submissions.c.user_id == user_id,
                    submissions.c.created_at >= now - window,
                    submissions.c.state != "failed",
                    # Comments share the table for their duplicate check, not the ticket limit.
                    submissions.c.key.not_like("comment:%"),
                )
            ).all()
        return len(rows)


def _current_version(conn: Connection) -> int:
    try:
        value = conn.execute(select(schema_version.c.version)).scalar()
    except SQLAlchemyError:
        return 0
    return int(value or 0)
