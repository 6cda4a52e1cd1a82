# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The first history store: runs, hosts, each host's outcome stored once, results."""

from __future__ import annotations

try:
    import sqlalchemy as sa
    from alembic import op
except ImportError:  # imported only by Alembic, which is then installed
    sa = op = None

revision = "0001"
down_revision = None


def upgrade():
    op.create_table(
        "runs",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("started", sa.String(40)),
        sa.Column("ended", sa.String(40)),
        sa.Column("change_id", sa.String(200)),
        sa.Column("operator", sa.String(200)),
        sa.Column("inventory", sa.Text),
        sa.Column("limit_pattern", sa.Text),
        sa.Column("policy_source", sa.Text),
        sa.Column("policy_sha256", sa.String(64)),
        sa.Column("tool_version", sa.String(40)),
        sa.Column("exit_code", sa.Integer),
    )
    op.create_table(
        "hosts",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
    )
    op.create_table(
        "outcomes",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("findings", sa.Text, nullable=False),
    )
    op.create_table(
        "results",
        sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk"), primary_key=True),
        sa.Column("host_pk", sa.Integer, sa.ForeignKey("hosts.pk"), primary_key=True),
        sa.Column("outcome_pk", sa.Integer, sa.ForeignKey("outcomes.pk"), nullable=False),
        sa.Column("actions", sa.Text),
        # The table is its primary key's tree: a year of daily results takes a third less.
        sqlite_with_rowid=False,
    )


def downgrade():
    for table in ("results", "outcomes", "hosts", "runs"):
        op.drop_table(table)
