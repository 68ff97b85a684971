"""teacher.session_token: logout invalidates copied session cookies

Revision ID: h14_session_version
Revises: h17_review_loop
Create Date: 2026-12-01 23:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'h14_session_version'
down_revision = 'h17_review_loop'
branch_labels = None
depends_on = None


def upgrade():
    # Existing teachers get "" and a fresh token at their next login; cookies from before are refused.
    with op.batch_alter_table('teacher', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('teacher', schema=None) as batch_op:
        batch_op.drop_column('session_token')
