"""face_sample.looks_like_id: a new face the course's recognizer names as another student, for the teacher to confirm

Revision ID: h11_face_sample_looks_like
Revises: h14_session_version
Create Date: 2026-12-01 23:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'h11_face_sample_looks_like'
down_revision = 'h14_session_version'
branch_labels = None
depends_on = None


def upgrade():
    # No foreign key: the other student may be deleted later; the flag then just names nobody.
    with op.batch_alter_table('face_sample') as batch:
        batch.add_column(sa.Column('looks_like_id', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('face_sample') as batch:
        batch.drop_column('looks_like_id')
