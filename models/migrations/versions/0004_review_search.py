"""review app: indexes for the stewards' search (record names by prefix) and for a
customer's tombstones (merged_into)

Revision ID: 0004_review_search
Revises: 0003
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

from alembic import op

revision = '0004_review_search'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('source_record', schema=None) as batch_op:
        batch_op.create_index('ix_source_record_name', ['name'], unique=False)
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_merged_into'), ['merged_into'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_merged_into'))
    with op.batch_alter_table('source_record', schema=None) as batch_op:
        batch_op.drop_index('ix_source_record_name')
