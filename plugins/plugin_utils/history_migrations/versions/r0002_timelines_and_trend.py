# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What avshift history and each report's drift read without a scan of every result: a
host's timeline (an index), the fleet trend (hosts per status kept with each run), each
inventory's host sightings (first recorded, last audited, latest result), and how each run ended and
where its record is. Runs recorded under 0001 are filled in from their results."""

from __future__ import annotations

import json

try:
    import sqlalchemy as sa
    from alembic import op
except ImportError:  # imported only by Alembic, which is then installed
    sa = op = None

revision = "0002"
down_revision = "0001"

# The statuses of a host that was read, whatever the verdict, as of this revision.
_AUDITED = ("compliant", "non-compliant")


def upgrade():
    op.create_index("results_by_host", "results", ["host_pk", "run_pk"])
    op.create_index("runs_by_inventory", "runs", ["inventory", "started"])
    with op.batch_alter_table("runs") as runs:
        runs.add_column(sa.Column("completion", sa.String(100)))
        runs.add_column(sa.Column("report_dir", sa.Text))
        runs.add_column(sa.Column("controller", sa.String(255)))
        runs.add_column(sa.Column("counts", sa.Text))
    op.create_table(
        "host_sightings",
        sa.Column("inventory", sa.Text, primary_key=True),
        sa.Column("host_pk", sa.Integer, sa.ForeignKey("hosts.pk"), primary_key=True),
        sa.Column("first_recorded", sa.String(40)),
        sa.Column("last_audited", sa.String(40)),
        sa.Column("last_started", sa.String(40)),
        sa.Column("last_outcome_pk", sa.Integer, sa.ForeignKey("outcomes.pk")),
        sqlite_with_rowid=False,
    )
    _fill_in(op.get_bind())


def _fill_in(connection):
    counts = {}
    rows = connection.execute(
        sa.text(
            "SELECT results.run_pk, outcomes.status, count(*) FROM results "
            "JOIN outcomes ON outcomes.pk = results.outcome_pk "
            "GROUP BY results.run_pk, outcomes.status"
        )
    )
    for run_pk, status, count in rows:
        counts.setdefault(run_pk, {})[status] = count
    for run_pk, by_status in counts.items():
        connection.execute(
            sa.text("UPDATE runs SET counts = :counts WHERE pk = :pk"),
            {"counts": json.dumps(by_status, sort_keys=True), "pk": run_pk},
        )
    _fill_in_sightings(connection)


def _fill_in_sightings(connection):
    connection.execute(
        sa.text(
            "INSERT INTO host_sightings (inventory, host_pk, first_recorded, last_audited) "
            "SELECT coalesce(runs.inventory, ''), results.host_pk, min(runs.started), "
            "max(CASE WHEN outcomes.status IN :audited THEN runs.started END) "
            "FROM results JOIN runs ON runs.pk = results.run_pk "
            "JOIN outcomes ON outcomes.pk = results.outcome_pk "
            "WHERE runs.started IS NOT NULL "
            "GROUP BY coalesce(runs.inventory, ''), results.host_pk"
        ).bindparams(sa.bindparam("audited", expanding=True)),
        {"audited": list(_AUDITED)},
    )
    # Each host's latest result per inventory: the last of its results in run order.
    latest = {}
    rows = connection.execute(
        sa.text(
            "SELECT coalesce(runs.inventory, ''), results.host_pk, runs.started, "
            "results.outcome_pk FROM results JOIN runs ON runs.pk = results.run_pk "
            "WHERE runs.started IS NOT NULL ORDER BY runs.started, runs.pk"
        )
    )
    for inventory, host_pk, started, outcome_pk in rows:
        latest[(inventory, host_pk)] = (started, outcome_pk)
    if latest:
        connection.execute(
            sa.text(
                "UPDATE host_sightings SET last_started = :started, last_outcome_pk = :outcome "
                "WHERE inventory = :inventory AND host_pk = :host"
            ),
            [
                {"inventory": inventory, "host": host, "started": started, "outcome": outcome}
                for (inventory, host), (started, outcome) in latest.items()
            ],
        )


def downgrade():
    op.drop_table("host_sightings")
    with op.batch_alter_table("runs") as runs:
        for column in ("counts", "controller", "report_dir", "completion"):
            runs.drop_column(column)
    op.drop_index("runs_by_inventory", "runs")
    op.drop_index("results_by_host", "results")
