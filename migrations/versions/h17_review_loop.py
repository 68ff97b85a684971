"""review loop: sighting/record review state, teacher time zone, excluded sessions, audit events

Revision ID: h17_review_loop
Revises: 19e3d1ce40ef
"""
from alembic import op
import sqlalchemy as sa

revision = 'h17_review_loop'
down_revision = '19e3d1ce40ef'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('teacher', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=False, server_default=''))
    with op.batch_alter_table('attendance_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('excluded', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('unknown_sighting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('best_label', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('review', sa.String(length=20), nullable=False, server_default='pending'))
        batch_op.add_column(sa.Column('reviewed_student_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('attendance_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_reason', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('review', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['teacher_id'], ['teacher.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_course_at', ['course_id', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_course_at')
    op.drop_table('audit_event')
    with op.batch_alter_table('attendance_record', schema=None) as batch_op:
        for name in ('reviewed_at', 'review', 'review_reason'):
            batch_op.drop_column(name)
    with op.batch_alter_table('unknown_sighting', schema=None) as batch_op:
        for name in ('reviewed_at', 'reviewed_student_id', 'review', 'best_label'):
            batch_op.drop_column(name)
    with op.batch_alter_table('attendance_session', schema=None) as batch_op:
        batch_op.drop_column('excluded')
    with op.batch_alter_table('teacher', schema=None) as batch_op:
        batch_op.drop_column('timezone')
