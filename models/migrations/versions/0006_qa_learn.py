"""QA samples: the sampled pairs of `ecif qa sample` and their strata

Revision ID: 0006_qa_learn
Revises: 0005_api
Create Date: 2026-12-06 17:42:25.384525
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_qa_learn'
down_revision = '0005_api'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('qa_sample',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('per_band', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('strata', sa.Text(), nullable=False),
    sa.Column('model_versions', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qa_sample'))
    )
    op.create_table('qa_pair',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.Column('stratum', sa.String(length=40), nullable=False),
    sa.Column('customer_type', sa.String(length=1), nullable=False),
    sa.Column('merged', sa.Boolean(), nullable=False),
    sa.Column('left_key', sa.String(length=200), nullable=False),
    sa.Column('right_key', sa.String(length=200), nullable=False),
    sa.Column('match_probability', sa.Float(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['sample_id'], ['qa_sample.id'],
                            name=op.f('fk_qa_pair_sample_id_qa_sample')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qa_pair'))
    )
    with op.batch_alter_table('qa_pair', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qa_pair_left_key'), ['left_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_qa_pair_sample_id'), ['sample_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_qa_pair_task_id'), ['task_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('qa_pair', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qa_pair_task_id'))
        batch_op.drop_index(batch_op.f('ix_qa_pair_sample_id'))
        batch_op.drop_index(batch_op.f('ix_qa_pair_left_key'))

    op.drop_table('qa_pair')
    op.drop_table('qa_sample')
