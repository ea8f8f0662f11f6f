"""api: block keys and term frequencies for the real-time match-check

Revision ID: 0005_api
Revises: 0004_review_search
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005_api'
down_revision = '0004_review_search'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'block_key',
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['record_id'], ['source_record.id'],
                                name=op.f('fk_block_key_record_id_source_record')),
        sa.PrimaryKeyConstraint('record_id', 'key', name=op.f('pk_block_key')),
    )
    op.create_index('ix_block_key_key', 'block_key', ['key'], unique=False)
    op.create_table(
        'term_frequency',
        sa.Column('customer_type', sa.String(length=1), nullable=False),
        sa.Column('tf_column', sa.String(length=40), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('customer_type', 'tf_column', 'value',
                                name=op.f('pk_term_frequency')),
    )
    op.create_index('ix_source_record_org_code', 'source_record', ['org_code'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_source_record_org_code', table_name='source_record')
    op.drop_table('term_frequency')
    op.drop_index('ix_block_key_key', table_name='block_key')
    op.drop_table('block_key')
