# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A remediation's plan and evidence events in words, as the page and JUnit say them.

Each event kind the remediate role records (evidence.EVENTS, and the lock's takeover)
has a sentence for what it says; whatever else its data holds is left for a table of
its own (`rest`), so a field added to an event is shown without a change here. A kind
nobody knows has no sentence, only its table. Nothing here writes JSON or a Python repr:
a value is words, a list of them joined, a mapping its "key: value" pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import plural
from ansible_collections.avshift.remediation.plugins.plugin_utils.report.model import (
    duration_text,
    is_number,
    product_name,
)

EVENT_LABELS = {
    "plan": "Planned",
    "installed": "Installed",
    "removed": "Removed",
    "reboot": "Reboot",
    "changes": "Host changes",
    "verified": "Verified",
    "takeover": "Took over",
}
REBOOT_POLICY_LABELS = {"never": "never", "if_required": "if required", "always": "always"}
# What the plan's sentence, its removals table, its held list and its password warning
# say between them; any other key of a plan is shown as it is.
PLAN_KEYS = ("install", "install_order", "remove", "held", "missing_passwords", "reboot_policy")
# The keys each event's sentence says; the rest of its data goes into its table. A
# "changes" sentence only counts what its table lists.
_SAID = {
    "plan": PLAN_KEYS,
    "installed": ("vendor", "active", "deferred"),
    "removed": ("products", "product"),
    "reboot": ("state", "for", "policy"),
    "verified": ("compliant",),
    "takeover": ("run_id", "reason"),
}
_REBOOT_STATES = {"done": "rebooted", "pending": "reboot pending", "not-needed": "no reboot needed"}
_VERIFIED = {
    True: "the scan after remediation finds the host compliant",
    False: "the scan after remediation finds the host still non-compliant",
}
_SECONDS_SUFFIX = "_seconds"
# Field names that humanize() would not make words of.
_LABELS = {"rc": "Exit code", "msiexec": "msiexec exit code", "pid": "PID", "run_id": "Run ID"}


@dataclass(frozen=True)
class Told:
    """An event in words: its label, its sentence (None for a kind nobody knows) and
    the data its sentence leaves unsaid."""

    label: str
    sentence: str | None
    rest: dict = field(default_factory=dict)


def tell(event: str, data: Mapping) -> Told:
    """An event of a host's timeline in words; the label is the kind's own name when
    nobody knows the kind."""
    sentence = _SENTENCES[event](data) if event in _SENTENCES else None
    # An event whose sentence has nothing to say leaves all of its data to the table.
    said = _SAID.get(event, ()) if sentence else ()
    rest = {key: value for key, value in data.items() if key not in said}
    return Told(EVENT_LABELS.get(event, humanize(event)), sentence, rest)


def and_list(words: Sequence[str]) -> str:
    """ "a, b and c", as a sentence lists them."""
    return " and ".join(part for part in (", ".join(words[:-1]), *words[-1:]) if part)


def humanize(key: object) -> str:
    text = str(key).replace("_", " ").replace("-", " ")
    return text[:1].upper() + text[1:]


def _in_seconds(key: object) -> bool:
    return str(key).endswith(_SECONDS_SUFFIX) and str(key) != _SECONDS_SUFFIX


def field_label(key: object) -> str:
    """A data field's name as a table heads it; a duration's without its unit."""
    name = str(key)
    if name in _LABELS:
        return _LABELS[name]
    return humanize(name.removesuffix(_SECONDS_SUFFIX) if _in_seconds(name) else name)


def label_and_value(key: object, value: object) -> tuple[str, object]:
    """A data field as a table shows it: a duration in seconds labelled without its
    unit and given in one a person reads ("unprotected_seconds": 42 is "Unprotected",
    "42 s")."""
    if _in_seconds(key) and key not in _LABELS and is_number(value):
        return field_label(key), duration_text(value)
    return field_label(key), value


def words(value: object) -> str:
    """Any value as words, on one line: for JUnit's text and inside sentences. A mapping
    is its "Key: value" pairs; one inside another value is in parentheses, so that a
    list of them reads as one item after another."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        pairs = (label_and_value(key, item) for key, item in value.items())
        return ", ".join(f"{label}: {enclosed_words(item)}" for label, item in pairs) or "none"
    if isinstance(value, list | tuple):
        return ", ".join(enclosed_words(item) for item in value) or "none"
    return str(value)


def enclosed_words(value: object) -> str:
    """words(), a mapping in parentheses: a value among others."""
    return f"({words(value)})" if isinstance(value, Mapping) and value else words(value)


# --- the plan ------------------------------------------------------------------------


def removal_names(plan: Mapping) -> list[str]:
    """The products a plan removes, by name (an older plan listed bare product ids)."""
    return [
        product_name(item) if isinstance(item, Mapping) else words(item)
        for item in plan.get("remove") or []
    ]


def plan_sentence(plan: Mapping) -> str:
    """What a plan does, as one clause: "install clamav before removing A and B"."""
    install = words(plan["install"]) if plan.get("install") else None
    order = plan.get("install_order")
    removals = and_list(removal_names(plan))
    if install and removals:
        if order == "before-removal":
            return f"install {install} before removing {removals}"
        if order == "after-removal":
            return f"install {install} after removing {removals}"
        if order == "around-removal":
            return f"prepare {install} before removing {removals}, turn it on right after"
        how = f" ({words(order)})" if order else ""
        return f"install {install}{how} and remove {removals}"
    if install:
        return f"install {install}"
    if removals:
        return f"remove {removals}"
    return "nothing to install or remove"


def held_texts(plan: Mapping) -> list[str]:
    """What a plan holds back, each with its reason: the planner's own line for it."""
    return [
        f"{product_name(item)}: {words(item.get('hold_reason'))}"
        if isinstance(item, Mapping)
        else words(item)
        for item in plan.get("held") or []
    ]


def missing_password_texts(plan: Mapping) -> list[str]:
    """The products a plan removes without their uninstall password, by name."""
    names = {
        item.get("product"): product_name(item)
        for item in plan.get("remove") or []
        if isinstance(item, Mapping)
    }
    return [
        f"{names[product]} ({product})" if product in names else words(product)
        for product in plan.get("missing_passwords") or []
    ]


MISSING_PASSWORD_WARNING = (
    "No uninstall password given: the uninstaller runs without one and fails if the "
    "product's protection is on"
)


def removal_steps(item: Mapping) -> str | None:
    """What the planner will do to remove a product: its summary line, less the
    product's name that starts it ("Name (vendor/product): stop ...; remove ...")."""
    summary = item.get("summary")
    if not isinstance(summary, str):
        return None
    name = str(item.get("name") or "")
    if name and summary.startswith(name):
        head, colon, tail = summary[len(name) :].partition(": ")
        if colon and head in ("", f" ({item.get('vendor')}/{item.get('product')})"):
            return tail
    return summary


# --- the other events ------------------------------------------------------------------


def _installed(data: Mapping) -> str:
    sentence = f"{words(data.get('vendor') or 'the replacement')} installed"
    active = data.get("active")
    if data.get("deferred"):
        sentence += "; it comes on after the restart"
    elif isinstance(active, list) and active:
        sentence += f"; active: {and_list([words(name) for name in active])}"
    elif active is True:
        sentence += " and active"
    elif active is False or active == []:
        sentence += ", not active"
    return sentence


def _removed(data: Mapping) -> str | None:
    products = data.get("products")
    if products is None:
        products = data.get("product")
    if isinstance(products, list | tuple):
        named = and_list([words(product) for product in products])
    else:
        named = words(products) if products not in (None, "") else ""
    return f"removed {named}" if named else None


def _reboot(data: Mapping) -> str | None:
    state = data.get("state")
    if not state:
        return None
    sentence = _REBOOT_STATES.get(state, f"reboot {words(state)}")
    if data.get("for"):
        sentence += f" for {words(data['for'])}"
    policy = data.get("policy")
    if policy:
        sentence += f" (policy: {REBOOT_POLICY_LABELS.get(policy, words(policy))})"
    return sentence


# What host_changes compares in each part of the host, and the word for one item of it.
_CHANGE_PARTS = {
    "packages": ("package", ("installed", "removed", "upgraded")),
    "services": ("service", ("started", "stopped")),
    "paths": ("path", ("deleted", "created")),
}


def _changes(data: Mapping) -> str:
    """What the host's own scans show changed, counted: "2 packages installed, 1 service
    stopped"; a part either scan could not read is unknown, never "no change"."""
    said = []
    for part, (noun, kinds) in _CHANGE_PARTS.items():
        found = data.get(part)
        if not isinstance(found, Mapping):
            continue
        if found.get("unknown"):
            said.append(f"{part} unknown")
            continue
        said += [
            f"{plural(len(found[kind]), noun)} {kind}"
            for kind in kinds
            if isinstance(found.get(kind), list) and found[kind]
        ]
    return ", ".join(said) or "no change found on the host"


def _verified(data: Mapping) -> str:
    compliant = data.get("compliant")
    if isinstance(compliant, bool):
        return _VERIFIED[compliant]
    return "the scan after remediation gave no verdict"


def _takeover(data: Mapping) -> str:
    run = data.get("run_id")
    sentence = f"took over the host's lock from run {words(run)}" if run else "took over the lock"
    return sentence + (f": {words(data['reason'])}" if data.get("reason") else "")


_SENTENCES = {
    "plan": plan_sentence,
    "installed": _installed,
    "removed": _removed,
    "reboot": _reboot,
    "changes": _changes,
    "verified": _verified,
    "takeover": _takeover,
}
