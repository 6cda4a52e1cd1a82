# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""report.json: the report itself, for programs and for rendering the others again."""

from __future__ import annotations

import json
from collections.abc import Mapping

from ansible_collections.avshift.remediation.plugins.plugin_utils.report.model import SURROGATES


def render_json(report: Mapping) -> str:
    """The report as given (unknown keys kept), with non-ASCII text left readable."""
    text = json.dumps(report, indent=2, ensure_ascii=False)
    # An escaped surrogate is valid JSON and loads back to the same string.
    return SURROGATES.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"
