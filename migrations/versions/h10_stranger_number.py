"""unknown sightings carry the session's stranger number (tracks of one person share it)

Revision ID: h10_stranger_number
Revises: h11_face_sample_looks_like
"""
from alembic import op
import sqlalchemy as sa

revision = 'h10_stranger_number'
down_revision = 'h11_face_sample_looks_like'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('unknown_sighting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stranger', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('unknown_sighting', schema=None) as batch_op:
        batch_op.drop_column('stranger')
