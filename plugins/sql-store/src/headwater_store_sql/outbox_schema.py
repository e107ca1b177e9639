"""Tables of the event outbox (see :mod:`headwater_store_sql.outbox`), in the tracking store's metadata.

- ``event_outbox``: one row per event, inserted in the transaction of the
  change it announces. ``seq`` is the insertion order; ``position`` is the
  delivery order, given by the one router at a time and only to committed rows,
  so it has no gaps that a late commit could fill (see the outbox module).
- ``event_lanes``: per delivery lane, the position delivered through and the
  lease naming the one server process that delivers to it.
- ``event_retries``: events of a lane waiting for another attempt, held back
  behind such an event (same run or model), or parked after the last attempt.
"""

from __future__ import annotations

import sqlalchemy as sa

from headwater_store_sql.schema import LongText, metadata

LANE_NAME_LENGTH = 300
PARTITION_LENGTH = 300

# SQLite only auto-increments an INTEGER PRIMARY KEY.
_Sequence = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

event_outbox = sa.Table(
    "event_outbox",
    metadata,
    sa.Column("seq", _Sequence, primary_key=True, autoincrement=True),
    sa.Column("position", sa.BigInteger, nullable=True),
    sa.Column("event_id", sa.String(32), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("partition_key", sa.String(PARTITION_LENGTH), nullable=False),
    sa.Column("run_id", sa.String(32), nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("body", LongText, nullable=False),
    sa.Index("ix_event_outbox_position", "position", unique=True),
)

event_lanes = sa.Table(
    "event_lanes",
    metadata,
    sa.Column("name", sa.String(LANE_NAME_LENGTH), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("holder", sa.String(200), nullable=True),
    sa.Column("lease_until", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

event_retries = sa.Table(
    "event_retries",
    metadata,
    sa.Column("lane", sa.String(LANE_NAME_LENGTH), primary_key=True),
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("partition_key", sa.String(PARTITION_LENGTH), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.BigInteger, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Index("ix_event_retries_status", "status"),
    sqlite_with_rowid=False,
)
