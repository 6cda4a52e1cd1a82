# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alembic's environment for the history store: history.Store hands it its connection."""

from __future__ import annotations

try:
    from alembic import context
except ImportError:  # imported only by Alembic, which is then installed
    context = None

if context is not None and context.config is not None:
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
