"""attendance sessions carry a camera-worker lease (claimed_by, heartbeat_at), the Stop request and what a resume needs

Revision ID: h16_camera_lease
Revises: h10_stranger_number
"""
from alembic import op
import sqlalchemy as sa

revision = 'h16_camera_lease'
down_revision = 'h10_stranger_number'
branch_labels = None
depends_on = None

def upgrade():
    with op.batch_alter_table('attendance_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('camera_view', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('email_unknown', sa.Boolean(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('stop_requested', sa.Boolean(), nullable=False, server_default='0'))

def downgrade():
    with op.batch_alter_table('attendance_session', schema=None) as batch_op:
        for column in ('stop_requested', 'heartbeat_at', 'claimed_by', 'email_unknown', 'camera_view'):
            batch_op.drop_column(column)
