# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""report.junit.xml: one test case per host, so that CI shows a fleet like a test run."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import (
    STATUS_BY_ID,
    STATUSES,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.report.events import (
    REBOOT_POLICY_LABELS,
    enclosed_words,
    held_texts,
    missing_password_texts,
    plan_sentence,
    tell,
    words,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.report.model import (
    KNOWN_RUN_KEYS,
    REMEDIATION_HOST_KEYS,
    action_data,
    batch_text,
    duration_text,
    event_name,
    findings,
    is_number,
    product_name,
    remediation_seconds,
    report_kind,
    verdict_status,
)

# What XML 1.0 cannot hold at all, lone surrogates included.
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _count(counts: Mapping, junit: str) -> int:
    """Hosts whose status JUnit shows as this kind of test result (the contract's)."""
    return sum(counts.get(status.id, 0) for status in STATUSES if status.junit == junit)


def render_junit(report: Mapping) -> str:
    """One testsuite, one testcase per host: CI shows non-compliant hosts as failures.

    The contract says which test result each status is: unreachable, failed and
    interrupted hosts are errors; a deferred host was never started, so it is skipped.
    What a remediation did to a host goes into the failure or error text, or into
    system-out when the host passed. A test case's time is the host's remediation where
    it has one, else its scan; the text names both.
    """
    kind = report_kind(report)
    run = report.get("run") or {}
    hosts = report["hosts"]
    counts = report["summary"]
    times = [_case_seconds(host) for host in hosts]
    suite = ET.Element(
        "testsuite",
        {
            "name": f"avshift {kind}",
            "tests": str(len(hosts)),
            "failures": str(_count(counts, "failure")),
            "errors": str(_count(counts, "error")),
            "skipped": str(_count(counts, "skipped")),
            "time": _seconds(sum(time for time in times if time is not None)),
        },
    )
    if run.get("started"):
        suite.set("timestamp", _xml(run["started"]))
    properties = ET.SubElement(suite, "properties")
    for name, value in _properties(report):
        if isinstance(value, bool):
            value = "true" if value else "false"
        ET.SubElement(properties, "property", {"name": _xml(name), "value": _xml(value)})
    for host, time in zip(hosts, times, strict=True):
        case = ET.SubElement(
            suite, "testcase", {"classname": f"avshift.{kind}", "name": _xml(host["host"])}
        )
        if time is not None:
            case.set("time", _seconds(time))
        status = host["status"]
        junit = STATUS_BY_ID[status].junit
        remediation = _remediation_lines(host)
        if junit == "failure":
            message = host.get("message") or "non-compliant"
            failure = ET.SubElement(
                case, "failure", {"message": _xml(message), "type": "non-compliant"}
            )
            details = [message, _non_compliance_details(host), *remediation]
            failure.text = _xml("\n".join(line for line in details if line))
        elif junit == "error":
            message = host.get("message") or f"host {status}"
            error = ET.SubElement(case, "error", {"message": _xml(message), "type": status})
            error.text = _xml("\n".join([message, *remediation]))
        elif junit == "skipped":
            message = host.get("message") or "deferred: not started"
            ET.SubElement(case, "skipped", {"message": _xml(message)})
        elif remediation:
            ET.SubElement(case, "system-out").text = _xml("\n".join(remediation))
    ET.indent(suite)
    # ElementTree writes its declaration only when it encodes; decoding gives the text
    # that the registry encodes back to the same bytes.
    return ET.tostring(suite, encoding="utf-8", xml_declaration=True).decode("utf-8") + "\n"


def _xml(value: object) -> str:
    return _XML_INVALID.sub("\ufffd", str(value))


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _case_seconds(host: Mapping) -> float | None:
    took = remediation_seconds(host)
    if took is not None:
        return took
    scan = host.get("duration_seconds")
    return scan if is_number(scan) else None


def _properties(report: Mapping) -> list[tuple[str, object]]:
    run = report.get("run") or {}
    policy = run.get("policy") or {}
    tool = report.get("tool") or {}
    pairs: list[tuple[str, object]] = [
        ("kind", report.get("kind")),
        ("tool.version", tool.get("version")),
        ("run.inventory", run.get("inventory")),
        ("run.playbook", run.get("playbook")),
        ("run.check_mode", run.get("check_mode")),
        ("run.ended", run.get("ended")),
        ("policy.source", policy.get("source")),
        ("policy.sha256", policy.get("sha256")),
    ]
    # Remediation runs carry more (change id, who ran it, window); keep the scalar ones,
    # and the batch as the operator wrote it, also where an older journal kept a list.
    fields = {**run, "batch": batch_text(run["batch"])} if "batch" in run else run
    pairs += [
        (f"run.{key}", value)
        for key, value in fields.items()
        if key not in KNOWN_RUN_KEYS and isinstance(value, str | int | float | bool)
    ]
    window = run.get("window")
    if isinstance(window, Mapping):
        pairs += [(f"run.window.{key}", window.get(key)) for key in ("start", "end")]
    return [(name, value) for name, value in pairs if value is not None]


def _remediation_lines(host: Mapping) -> list[str]:
    """What a remediation planned and did on a host, one fact a line, for CI logs."""
    if not any(host.get(key) is not None for key in REMEDIATION_HOST_KEYS):
        return []
    lines = []
    before, after = host.get("before"), host.get("after")
    if before is not None or after is not None:
        missing = host.get("after_unknown") or "not scanned"
        lines.append(
            f"before: {verdict_status(before) or 'not scanned'}; "
            f"after: {verdict_status(after) or missing}"
        )
    times = [
        f"{label}: {text}"
        for label, text in (
            ("remediation time", duration_text(remediation_seconds(host))),
            ("scan time", duration_text(host.get("duration_seconds"))),
        )
        if text
    ]
    if times:
        lines.append("; ".join(times))
    plan = host.get("plan")
    if isinstance(plan, Mapping):
        policy = plan.get("reboot_policy")
        reboot = REBOOT_POLICY_LABELS.get(policy, words(policy)) if policy else "not set"
        lines.append(f"plan: {plan_sentence(plan)}; reboot {reboot}")
        # What the plan holds back (a management server, unconfirmed evidence) and why.
        lines += [f"held: {text}" for text in held_texts(plan)]
        missing_passwords = missing_password_texts(plan)
        if missing_passwords:
            lines.append(f"no uninstall password: {', '.join(missing_passwords)}")
    for action in host.get("actions") or []:
        event = event_name(action)
        told = tell(event, action_data(action))
        # A plan's data is the plan above; any other event's is shown beside its words.
        rest = (
            ""
            if event == "plan"
            else ", ".join(f"{key}={enclosed_words(value)}" for key, value in told.rest.items())
        )
        said = "; ".join(part for part in (told.sentence, rest) if part)
        lines.append(" ".join(str(part) for part in (action.get("at"), f"{event}:", said) if part))
    if host.get("reboot") is not None:
        lines.append(f"reboot: {host['reboot']}")
    return lines


def _non_compliance_details(host: Mapping) -> str:
    """The findings behind a host's non-compliance, with their evidence, a line each."""
    lines = []
    for finding in findings(host, "disallowed"):
        lines.append(f"disallowed: {product_name(finding)} ({finding.get('vendor')})")
        lines += [f"  {e.get('kind')}: {e.get('value')}" for e in finding.get("evidence") or []]
    return "\n".join(lines)
