"""ingest: versions ordered by the full-precision UTC instant; line numbers of exceptions

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 05:00:00
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

from matching.standardise.steps import utc_instant

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_BATCH = 20_000


def _instant(text: str | None) -> str:
    if not text:
        return ""
    try:
        return utc_instant(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except (ValueError, OverflowError):
        return ""


def upgrade() -> None:
    with op.batch_alter_table('source_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_key', sa.String(length=26), server_default='',
                                      nullable=False))
    with op.batch_alter_table('exception_row', schema=None) as batch_op:
        batch_op.add_column(sa.Column('line_number', sa.Integer(), nullable=True))
    # the instant of every stored version, as ingest now computes it
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(sa.text(
            "SELECT id, updated_at FROM source_record WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": _BATCH}).all()
        if not rows:
            break
        last = rows[-1][0]
        conn.execute(sa.text("UPDATE source_record SET updated_key = :k WHERE id = :i"),
                     [{"k": _instant(updated), "i": rid} for rid, updated in rows])


def downgrade() -> None:
    with op.batch_alter_table('exception_row', schema=None) as batch_op:
        batch_op.drop_column('line_number')
    with op.batch_alter_table('source_record', schema=None) as batch_op:
        batch_op.drop_column('updated_key')
