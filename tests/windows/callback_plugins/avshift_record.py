# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper: append every task result to the JSON-lines file named by
AVSHIFT_RECORD_FILE, so tests read results instead of scraping console output."""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: avshift_record
type: notification
short_description: Record task results as JSON lines for avshift's tests
description:
  - Writes one JSON object per task result to the file named by AVSHIFT_RECORD_FILE.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "avshift_record"
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, status: str, result) -> None:
        # ansible-core 2.19 made host, task and result public; 2.16 has only _host, ...
        host, task, values = (
            getattr(result, name, None) or getattr(result, f"_{name}")
            for name in ("host", "task", "result")
        )
        if hasattr(result, "warnings"):
            warnings = [warning.event.msg for warning in result.warnings]
        else:
            warnings = list(values.get("warnings") or [])
        entry = {
            "host": host.get_name(),
            "task": task.get_name(),
            "status": status,
            "result": json.loads(self._dump_results(values)),
            # _dump_results drops warnings (the stdout callback shows them); keep them.
            "warnings": warnings,
        }
        with open(os.environ["AVSHIFT_RECORD_FILE"], "a", encoding="utf-8") as stream:
            stream.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def v2_runner_on_ok(self, result) -> None:
        self._record("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors: bool = False) -> None:
        self._record("failed", result)

    def v2_runner_on_unreachable(self, result) -> None:
        self._record("unreachable", result)

    def v2_runner_on_skipped(self, result) -> None:
        self._record("skipped", result)
