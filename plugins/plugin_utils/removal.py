# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The removal planner: an av_scan result -> the ordered steps that remove what it found.

Pure Python on the controller; it never touches a host. The uninstall role runs the
steps; everything it decides (order, package names, msiexec command lines, what an
msiexec exit code means, the failure messages) comes from here and the catalogue.

Order: by the catalogue's ``removal_order`` of each product's role, so the endpoint
product goes before the agent that manages it. A catalogue role missing from that list
ranks first (Catalogue.removal_rank). Software attributed by its publisher alone
(product "other": a component, plugin or unknown product of a disallowed vendor) goes
after every known product except management agents: by then the endpoint product whose
self-defence could block it is gone, and the agent still keeps the host under central
management until everything else is removed. Ties keep the scan's order. Residue (a
vendor's paths with no software left) comes last.

Passwords: ``passwords`` maps a catalogue product id to ``{login, password}``. Without
it (None) the catalogue's uninstall properties are shown with masked values; with it, a
product that has credentials gets them (masked too when ``mask`` is set) and one without
runs msiexec without them (``needs_password``). No error message ever quotes a secret.

Holds: a step the roles must not carry out keeps its place in the plan, with ``hold``
saying why and ``hold_reason`` in words. ``refused``: its role is one the catalogue
never removes (``removal_refused``: a management server), or it is the management agent
such a server runs on its own host. ``confirm``: every piece of its evidence is a name
no source confirms (Catalogue.evidence_grade), so it may be someone else's software;
``confirmed`` lists the findings ("vendor/product", "vendor/other", "vendor/residue") an
operator has checked, which are then planned like any other.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

from ansible_collections.avshift.remediation.plugins.plugin_utils.catalogue import (
    UNVERIFIED,
    Catalogue,
    load_catalogue,
    normalize,
)

MASK = "********"
OTHER = "other"
RESIDUE = "residue"
# Publisher-only findings are removed just before this role (see the module docstring).
OTHER_GOES_BEFORE_ROLE = "management-agent"
# A host's management agent belongs to a management server of its vendor on the same host
# (Security Center installs its own Network Agent with the Administration Server).
AGENT_ROLE = "management-agent"
# Why a step is held (see the module docstring).
HOLD_REFUSED = "refused"
HOLD_CONFIRM = "confirm"

MSIEXEC = "msiexec.exe"
MSIEXEC_OPTIONS = ("/qn", "/norestart")
# msiexec exit codes that count as done, with what they mean; any other code fails.
MSIEXEC_DONE = {
    0: "removed",
    1605: "already removed (msiexec 1605: the product is not installed)",
    1641: "removed; msiexec started a reboot (1641)",
    3010: "removed; a reboot is required to finish (3010)",
}
MSIEXEC_REBOOT = (1641, 3010)
MSIEXEC_FATAL = 1603
# Exit codes from "MsiExec.exe and InstMsi.exe Error Messages" (Microsoft Learn): 1618,
# another installation is running, is tried again (the role's busy retries); 1641,
# msiexec started a restart, is waited out before anything else runs on the host.
MSIEXEC_BUSY = (1618,)
MSIEXEC_RESTARTING = (1641,)
# A QuietUninstallString is the vendor's own uninstaller: 0 is done, and 3010 is the
# Windows convention for "done, restart to finish" that installers share with msiexec.
QUIET_UNINSTALL_DONE = {0: "removed", 3010: "removed; a reboot is required to finish (3010)"}

_PLACEHOLDERS = {"login", "password", "password_utf16le_hex"}
_CREDENTIAL_KEYS = {"login", "password"}
_PRODUCT_CODE = re.compile(
    r"\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}", re.IGNORECASE
)
_MSIEXEC_UNINSTALL_STRING = re.compile(
    r'^\s*"?(?:[^"]*\\)?msiexec(?:\.exe)?"?\s+/[IX]\s*(?P<code>\{[^}]*\})', re.IGNORECASE
)
_EXECUTABLE_SUFFIXES = (".exe", ".com", ".bat", ".cmd")
# msiexec parses its own command line, not by the Win32 argv rules win_command quotes
# for: a value with a double quote or blank cannot reach it intact that way.
_UNSAFE_PROPERTY_VALUE = re.compile(r'["\s]')


class PlanError(ValueError):
    """Input the planner refuses. The message never contains a secret."""


def utf16le_hex(text: str) -> str:
    """The Network Agent's KLUNINSTPASSWD form: the text as UTF-16LE bytes, in hex."""
    return text.encode("utf-16-le").hex().upper()


def split_windows_command_line(command_line: str) -> list[str] | None:
    """Split a command line the way CommandLineToArgvW does; None when it is unsafe.

    Unsafe: empty, an unterminated quote, an empty quoted program, or an unquoted program
    path with blanks ("C:\\Program Files\\x\\un.exe /S" could start C:\\Program).
    """
    text = command_line.strip()
    if not text:
        return None
    if text.startswith('"'):
        end = text.find('"', 1)
        if end <= 1:  # unterminated, or an empty program ("")
            return None
        program, rest = text[1:end], text[end + 1 :]
        if rest and not rest[0].isspace():
            return None
    else:
        program, _sep, rest = text.partition(" ")
        if not program.lower().endswith(_EXECUTABLE_SUFFIXES) and any(
            suffix + " " in text.lower() or text.lower().endswith(suffix)
            for suffix in _EXECUTABLE_SUFFIXES
        ):
            return None
    arguments = _split_arguments(rest)
    if arguments is None:
        return None
    return [program, *arguments]


def _split_arguments(text: str) -> list[str] | None:
    arguments: list[str] = []
    current: list[str] = []
    in_argument = in_quotes = False
    backslashes = 0
    for char in text:
        if char == "\\":
            backslashes += 1
            in_argument = True
            continue
        if char == '"':
            current.append("\\" * (backslashes // 2))
            if backslashes % 2:
                current.append('"')
            else:
                in_quotes = not in_quotes
            backslashes = 0
            in_argument = True
            continue
        current.append("\\" * backslashes)
        backslashes = 0
        if char.isspace() and not in_quotes:
            if in_argument:
                arguments.append("".join(current))
            current, in_argument = [], False
            continue
        current.append(char)
        in_argument = True
    if in_quotes:
        return None
    current.append("\\" * backslashes)
    if in_argument:
        arguments.append("".join(current))
    return arguments


def _expect_mapping(value, what: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise PlanError(f"{what}: expected a mapping, got {type(value).__name__}")
    return value


def _expect_list(value, what: str) -> list:
    if not isinstance(value, list):
        raise PlanError(f"{what}: expected a list, got {type(value).__name__}")
    return value


def _expect_text(value, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PlanError(f"{what}: expected a non-empty string")
    return value


def _check_scan(scan, catalogue: Catalogue) -> tuple[str, str, Mapping]:
    """(os family, host, inventory) of an av_scan result, or PlanError saying what is wrong."""
    if not isinstance(scan, Mapping):
        raise PlanError(
            f"expected the registered result of avshift.remediation.av_scan, got "
            f"{type(scan).__name__}"
        )
    if scan.get("failed"):
        raise PlanError(f"the scan failed, so nothing can be planned: {scan.get('msg', '')}")
    if scan.get("skipped"):
        raise PlanError("the scan was skipped, so nothing can be planned")
    if "disallowed" not in scan or "os_family" not in scan:
        raise PlanError(
            "not an avshift.remediation.av_scan result (no 'disallowed' or 'os_family'); "
            "register the av_scan task itself"
        )
    os_family = scan["os_family"]
    families = catalogue.os_families
    if os_family not in families:
        raise PlanError(f"os_family: expected one of {', '.join(families)}, got {os_family!r}")
    inventory = scan.get("inventory")
    if inventory is None:
        raise PlanError(
            "the scan result has no inventory: run avshift.remediation.av_scan with "
            "return_inventory: true and register that result"
        )
    _expect_mapping(inventory, "inventory")
    if inventory.get("os_family") != os_family:
        raise PlanError(
            f"inventory.os_family {inventory.get('os_family')!r} does not match the scan's "
            f"{os_family!r}"
        )
    host = scan.get("host") or inventory.get("host") or "this host"
    return os_family, str(host), inventory


# The roles that plan removals; messages and plans name their variables, so that an
# operator of the remediate role reads avshift_remediate_passwords, not the uninstall
# role's name for the same thing.
ROLES = ("uninstall", "remediate")


def role_variable(role: str, name: str) -> str:
    """The role's own name of a variable: avshift_<role>_<name>."""
    if role not in ROLES:
        raise PlanError(f"role: expected one of {', '.join(ROLES)}, got {role!r}")
    return f"avshift_{role}_{name}"


def _check_passwords(
    passwords, catalogue: Catalogue, role: str
) -> dict[str, dict[str, str]] | None:
    if passwords is None:
        return None
    variable = role_variable(role, "passwords")
    _expect_mapping(passwords, f"passwords ({variable})")
    known = {product.id for products in catalogue.products.values() for product in products}
    checked: dict[str, dict[str, str]] = {}
    for product_id, credentials in passwords.items():
        where = f"{variable}.{product_id}"
        if product_id not in known:
            takes = sorted(
                {
                    product.id
                    for products in catalogue.products.values()
                    for product in products
                    if product.uninstall_properties
                }
            )
            raise PlanError(
                f"{where}: no such product in the catalogue (products that take uninstall "
                f"passwords: {', '.join(takes)})"
            )
        if not isinstance(credentials, Mapping):
            raise PlanError(f"{where}: expected a mapping with password (and login)")
        unknown = set(credentials) - _CREDENTIAL_KEYS
        if unknown:
            raise PlanError(f"{where}: unknown keys {sorted(unknown)} (expected login, password)")
        entry = {}
        for key in sorted(_CREDENTIAL_KEYS & set(credentials)):
            value = credentials[key]
            if not isinstance(value, str) or not value:
                raise PlanError(
                    f"{where}.{key}: expected a non-empty string (quote numbers in YAML)"
                )
            entry[key] = value
        if "password" not in entry:
            raise PlanError(f"{where}: password is missing")
        checked[str(product_id)] = entry
    return checked


def _check_confirmed(confirmed, catalogue: Catalogue) -> frozenset[str]:
    """The findings an operator has confirmed, as "vendor/product" keys."""
    if confirmed is None:
        return frozenset()
    what = "confirmed (avshift_remediate_confirmed, avshift_uninstall_confirmed)"
    keys = set()
    for position, key in enumerate(_expect_list(confirmed, what)):
        where = f"{what}[{position}]"
        vendor, _sep, product = _expect_text(key, where).partition("/")
        products = {p.id for p in catalogue.products.get(vendor, ())} | {OTHER, RESIDUE}
        if vendor not in catalogue.vendors or product not in products:
            raise PlanError(
                f"{where}: {key!r} is not vendor/product of the catalogue (for example "
                f"kaspersky/klms, kaspersky/{OTHER} or kaspersky/{RESIDUE})"
            )
        keys.add(key)
    return frozenset(keys)


def _unconfirmed(step, evidence, product, inventory, catalogue: Catalogue) -> list[str]:
    """The evidence of a step when no piece of it is a name a source confirms; else [].

    A package's own publisher counts too: an uninstall entry no source names, published
    by a publisher a source shows for its vendor, is the vendor's.
    """
    vendor, os_family = step["vendor"], step["os_family"]
    publishers: dict[str, list[str]] = {}
    for entry in inventory.get("packages") or []:
        if (
            isinstance(entry, Mapping)
            and isinstance(entry.get("name"), str)
            and isinstance(entry.get("publisher"), str)
        ):
            publishers.setdefault(entry["name"], []).append(entry["publisher"])
    values = []
    for item in evidence:
        pieces = [(item["kind"], item["value"])]
        if item["kind"] == "package":
            pieces += [("publisher", publisher) for publisher in publishers.get(item["value"], ())]
        for kind, value in pieces:
            if catalogue.evidence_grade(os_family, vendor, product, kind, value) != UNVERIFIED:
                return []
        values.append(item["value"])
    return values


def _hold(step, evidence, product, inventory, catalogue: Catalogue, confirmed) -> None:
    """Hold a step the catalogue refuses, or one found on unverified names alone."""
    why = catalogue.refused_roles.get(step["role"])
    if why is not None:
        step["hold"] = HOLD_REFUSED
        step["hold_reason"] = f"{step['name']} is never removed by avshift: {why}"
        return
    if product is not None and product.manual_removal:
        step["hold"] = HOLD_REFUSED
        step["hold_reason"] = f"{step['name']} must be removed by hand: {product.manual_removal}"
        return
    found = _refusing_evidence(step, product)
    if found:
        step["hold"] = HOLD_REFUSED
        step["hold_reason"] = (
            f"{step['name']} must be removed by hand: {', '.join(found)} found, and "
            f"{product.refuse_removal_when.because}"
        )
        return
    key = f"{step['vendor']}/{step['product']}"
    if product is not None and product.confirm_removal and key not in confirmed:
        step["hold"] = HOLD_CONFIRM
        step["hold_reason"] = (
            f"{step['name']}: {product.confirm_removal}; then confirm it with "
            f"avshift_remediate_confirmed or avshift_uninstall_confirmed: [{key}]"
        )
        return
    unverified = _unconfirmed(step, evidence, product, inventory, catalogue)
    if unverified and key not in confirmed:
        step["hold"] = HOLD_CONFIRM
        step["hold_reason"] = (
            f"found only by names no source confirms ({', '.join(unverified)}): check that it "
            f"is {catalogue.vendors.get(step['vendor'], step['vendor'])}'s, then confirm it "
            f"with avshift_remediate_confirmed or avshift_uninstall_confirmed: [{key}]"
        )


def _refusing_evidence(step: dict, product) -> list[str]:
    """The step's evidence that the catalogue says makes its removal unsafe."""
    refuse = product.refuse_removal_when if product is not None else None
    if refuse is None:
        return []
    return [
        name
        for kind, names in refuse.names.items()
        for name in step.get(kind) or ()
        if normalize(kind, name) in names
    ]


def _hold_disagreements(steps: list[dict], catalogue: Catalogue, os_family: str) -> None:
    """Refuse a vendor's products whose uninstall entry and services tell different stories.

    An uninstall entry taken for one product on a host that runs none of that product's
    services, next to another product of the vendor seen only by its services, is most
    likely the other product under a name the catalogue places wrong (a localised build):
    removed as the first, it would run without the properties, and the password, the
    second needs. The planner refuses both rather than guess.
    """
    for listed in steps:
        if listed["hold"] is not None or not listed["windows"] or listed["services"]:
            continue
        product = catalogue.product(listed["vendor"], listed["product"], os_family)
        if product is None or "services" not in product.kinds_named:
            continue
        for running in steps:
            if (
                running is listed
                or running["vendor"] != listed["vendor"]
                or running["windows"]
                or not running["services"]
                or running["residue"]
            ):
                continue
            why = (
                f"the uninstall entry {', '.join(listed['packages'])} is taken for "
                f"{listed['name']}, but the host runs none of its services and runs "
                f"{', '.join(running['services'])} of {running['name']}, which has no "
                "uninstall entry: the catalogue and the host disagree (a localised name?); "
                "removed as the one it could miss the password of the other. Check the host, "
                "and remove it by hand"
            )
            for step in (listed, running):
                if step["hold"] is None:
                    step["hold"] = HOLD_REFUSED
                    step["hold_reason"] = f"{step['name']} must be removed by hand: {why}"


def _hold_agents_of_refused_servers(steps: list[dict], catalogue: Catalogue) -> None:
    """A management agent on the host of its vendor's refused server is that server's own.
    A server is a step of a role the catalogue never removes: a product held for another
    reason (removed by hand, a consumer line) leaves the agent to be removed as ever."""
    servers = {}
    for step in steps:
        if step["hold"] == HOLD_REFUSED and step["role"] in catalogue.refused_roles:
            servers.setdefault(step["vendor"], step["name"])
    for step in steps:
        if step["role"] == AGENT_ROLE and step["vendor"] in servers and step["hold"] is None:
            step["hold"] = HOLD_REFUSED
            step["hold_reason"] = (
                f"{step['name']} is the own agent of {servers[step['vendor']]} on this host, "
                "which is never removed by avshift"
            )


def _render_properties(templates, credentials, where: str, mask: bool) -> list[str]:
    """The msiexec properties of a protected product, with credentials or masked values."""
    formatter = string.Formatter()
    rendered = []
    for template in templates:
        prop = template.split("=", 1)[0]
        fields = {field[1] for field in formatter.parse(template) if field[1] is not None}
        unknown = fields - _PLACEHOLDERS
        if unknown:
            raise PlanError(
                f"catalogue uninstall property {template!r}: unknown placeholder(s) "
                f"{sorted(unknown)}"
            )
        if credentials is not None:
            if "login" in fields and "login" not in credentials:
                raise PlanError(f"{where}: login is missing ({prop} needs it)")
            for name in sorted(fields & {"login", "password"}):
                if _UNSAFE_PROPERTY_VALUE.search(credentials[name]):
                    raise PlanError(
                        f"{where}.{name} contains a blank or a double quote, which msiexec "
                        f"cannot receive as {prop}"
                    )
        if credentials is None or mask:
            values = dict.fromkeys(_PLACEHOLDERS, MASK)
        else:
            values = {
                "login": credentials.get("login", ""),
                "password": credentials["password"],
                "password_utf16le_hex": utf16le_hex(credentials["password"]),
            }
        rendered.append(template.format(**values))
    return rendered


def _evidence(finding: Mapping, kind: str) -> list[str]:
    values = []
    for item in finding["evidence"]:
        if item["kind"] == kind and item["value"] not in values:
            values.append(item["value"])
    return values


def _check_finding(finding, position: int) -> Mapping:
    where = f"disallowed[{position}]"
    _expect_mapping(finding, where)
    for key in ("vendor", "product", "name"):
        _expect_text(finding.get(key), f"{where}.{key}")
    for index, item in enumerate(_expect_list(finding.get("evidence"), f"{where}.evidence")):
        _expect_mapping(item, f"{where}.evidence[{index}]")
        _expect_text(item.get("kind"), f"{where}.evidence[{index}].kind")
        _expect_text(item.get("value"), f"{where}.evidence[{index}].value")
    return finding


def _check_paths(paths: list[str], vendor: str, os_family: str, catalogue: Catalogue, where):
    """Only the catalogue's own paths of the vendor may ever be deleted."""
    known = catalogue.signatures[os_family].paths
    for path in paths:
        owner = known.get(normalize("paths", path))
        if owner is None or owner[0] != vendor:
            raise PlanError(
                f"{where}: path {path!r} is not a catalogue path of vendor {vendor!r}; "
                "refusing to plan its removal"
            )
    return paths


def _linux_packages(finding, inventory, where) -> tuple[list[str], dict[str, list[str]]]:
    sources: dict[str, str] = {}
    for entry in inventory.get("packages") or []:
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
            sources.setdefault(entry["name"], entry.get("source") or "")
    names = _evidence(finding, "package")
    by_source: dict[str, list[str]] = {}
    for name in names:
        source = sources.get(name)
        if source not in ("dpkg", "rpm"):
            raise PlanError(
                f"{where}: package {name!r} is not a dpkg or rpm package of the inventory"
            )
        by_source.setdefault(source, []).append(name)
    return names, by_source


def _windows_action(entry: Mapping, properties: list[str], context: dict) -> dict:
    """One uninstall command for one uninstall-registry entry of a finding."""
    name = entry["name"]
    protected = context["protected"]
    code = entry.get("product_code")
    uninstall_string = entry.get("uninstall_string") or ""
    quiet = entry.get("quiet_uninstall_string") or ""
    if code is None:
        match = _MSIEXEC_UNINSTALL_STRING.match(uninstall_string)
        code = match.group("code") if match else None
    action = {
        "display_name": name,
        "product_code": None,
        "registry_key": entry.get("registry_key"),
        "argv": None,
        "manual": False,
        "reason": None,
        "msiexec": False,
        "exit_codes": {str(rc): meaning for rc, meaning in sorted(MSIEXEC_DONE.items())},
        "reboot_exit_codes": list(MSIEXEC_REBOOT),
        "busy_exit_codes": list(MSIEXEC_BUSY),
        "restart_exit_codes": list(MSIEXEC_RESTARTING),
        # The properties whose values the role masks in msiexec's log before any of it
        # leaves the host (a verbose log records public property values).
        "masked_properties": [item.split("=", 1)[0] for item in properties],
        "failure_messages": _msiexec_failures(context),
    }
    if code is not None:
        if not _PRODUCT_CODE.fullmatch(code):
            raise PlanError(f"uninstall entry {name!r}: {code!r} is not an MSI product code")
        action["product_code"] = code.upper()
        action["argv"] = [MSIEXEC, "/x", code.upper(), *MSIEXEC_OPTIONS, *properties]
        action["msiexec"] = True
        return action
    action["manual"] = True
    if protected:
        action["reason"] = (
            "password-protected, but not installed by MSI: its uninstall password cannot be "
            "passed; remove it with the vendor's tool"
        )
    elif quiet:
        argv = split_windows_command_line(quiet)
        if argv is None:
            action["reason"] = f"its QuietUninstallString cannot be split safely: {quiet}"
        else:
            failed = (
                f"uninstall of {context['name']} failed (exit code {{rc}}) on {context['host']}"
            )
            action.update(
                argv=argv,
                manual=False,
                exit_codes={str(rc): meaning for rc, meaning in QUIET_UNINSTALL_DONE.items()},
                reboot_exit_codes=[3010],
                busy_exit_codes=[],
                restart_exit_codes=[],
                failure_messages={"other": f"{failed}: {argv[0]} {' '.join(argv[1:])}"},
            )
    else:
        action["reason"] = (
            "not installed by MSI and no QuietUninstallString: its uninstaller "
            f"({uninstall_string or 'none registered'}) may wait for a user"
        )
    return action


def _windows_actions(finding, inventory, properties, context, where) -> list[dict]:
    wanted = {normalize("packages", name) for name in _evidence(finding, "package")}
    actions: list[dict] = []
    seen: set[str] = set()
    matched: set[str] = set()
    for entry in inventory.get("packages") or []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            continue
        normalized = normalize("packages", entry["name"])
        if normalized not in wanted:
            continue
        matched.add(normalized)
        action = _windows_action(entry, properties, context)
        # The same product shows in the 64- and 32-bit views and per user.
        key = action["product_code"] or entry.get("uninstall_string") or entry["name"]
        if key not in seen:
            seen.add(key)
            actions.append(action)
    missing = wanted - matched
    if missing:
        raise PlanError(
            f"{where}: no uninstall entry of the inventory is named {sorted(missing)[0]!r}"
        )
    return actions


def _msiexec_failures(context: dict) -> dict[str, str]:
    """Failure messages by msiexec exit code ("other": any code not listed), with {rc}."""
    name, host = context["name"], context["host"]
    failed = f"uninstall of {name} failed (msiexec {{rc}}) on {host}"
    messages = {
        "other": failed + ": see its log and the Windows Installer (MsiInstaller) events",
        "1618": failed + ": another installation kept running through every retry "
        "(avshift_uninstall_busy_retries)",
    }
    # 1603 is any fatal error: a missing password is one likely cause, never the only one.
    if context["protected"] and context["needs_password"]:
        messages[str(MSIEXEC_FATAL)] = (
            f"{failed}, a fatal error: {name} is password-protected and no password was "
            f"given ({context['passwords_variable']}.{context['product']}), the likely cause "
            "if its protection is on; its log says"
        )
    elif context["protected"]:
        messages[str(MSIEXEC_FATAL)] = (
            f"{failed}, a fatal error: a wrong password in "
            f"{context['passwords_variable']}.{context['product']} is one cause; its log says"
        )
    return messages


def mask_credentials(text: str, passwords: Mapping | None, product_id: str) -> str:
    """text with every credential of product_id (plain, and in the UTF-16LE hex form the
    Network Agent takes) replaced by the mask: for what a host sends back, such as the
    end of an msiexec log, whose own masking by property name may have missed one."""
    credentials = (passwords or {}).get(product_id)
    if not isinstance(credentials, Mapping):
        return text
    for key in sorted(_CREDENTIAL_KEYS):
        value = credentials.get(key)
        if isinstance(value, str) and value:
            for form in (value, utf16le_hex(value), utf16le_hex(value).lower()):
                text = text.replace(form, MASK)
    return text


def _step(finding, os_family, host, inventory, catalogue, passwords, mask, where, role) -> dict:
    """One product's removal; hold and hold_reason are decided by removal_plan."""
    vendor, product_id, name = finding["vendor"], finding["product"], finding["name"]
    product = None
    if product_id != OTHER:
        product = catalogue.product(vendor, product_id, os_family)
        if product is None:
            raise PlanError(
                f"{where}: {vendor}/{product_id} is not a {os_family} product of the catalogue"
            )
    templates = product.uninstall_properties if product else ()
    protected = bool(templates)
    credentials = None if passwords is None else passwords.get(product_id)
    needs_password = protected and credentials is None
    passwords_variable = role_variable(role, "passwords")
    notes: list[str] = []
    properties: list[str] = []
    if protected:
        if passwords is None:
            properties = _render_properties(templates, None, "", True)
        elif credentials is not None:
            properties = _render_properties(
                templates, credentials, f"{passwords_variable}.{product_id}", mask
            )
        else:
            notes.append(
                f"password-protected: without {passwords_variable}.{product_id} msiexec "
                "runs without the password, and fails with 1603 if protection is on"
            )
    step = {
        "vendor": vendor,
        "product": product_id,
        "name": name,
        "os_family": os_family,
        "role": product.role if product else OTHER,
        "residue": False,
        "services": _evidence(finding, "service"),
        "processes": _evidence(finding, "process"),
        "drivers": _evidence(finding, "driver"),
        "packages": [],
        "packages_by_source": {},
        "windows": [],
        "protected": protected,
        "needs_password": needs_password,
        "paths": _check_paths(_evidence(finding, "path"), vendor, os_family, catalogue, where),
        "hold": None,
        "hold_reason": None,
        "notes": notes,
    }
    if product is not None and product.uninstall_note:
        notes.append(product.uninstall_note)
    if os_family == "linux":
        step["packages"], step["packages_by_source"] = _linux_packages(finding, inventory, where)
    else:
        context = {
            "name": name,
            "host": host,
            "product": product_id,
            "protected": protected,
            "needs_password": needs_password,
            "passwords_variable": passwords_variable,
        }
        step["windows"] = _windows_actions(finding, inventory, properties, context, where)
        step["packages"] = [action["display_name"] for action in step["windows"]]
        notes.extend(
            f"{action['display_name']}: manual removal needed: {action['reason']}"
            for action in step["windows"]
            if action["manual"]
        )
    if not step["packages"]:
        notes.append(
            "no package was found: its services are stopped and disabled, nothing is uninstalled"
        )
    step["properties"] = len(properties)  # how many trailing argv items _summary masks
    return step


def _residue_step(entry, os_family, catalogue, where, role) -> dict:
    _expect_mapping(entry, where)
    vendor = _expect_text(entry.get("vendor"), f"{where}.vendor")
    evidence = _expect_list(entry.get("evidence"), f"{where}.evidence")
    paths = [
        item["value"]
        for item in evidence
        if isinstance(item, Mapping) and item.get("kind") == "path"
    ]
    step = {
        "vendor": vendor,
        "product": RESIDUE,
        "name": f"{catalogue.vendors.get(vendor, vendor)} residue",
        "os_family": os_family,
        "role": RESIDUE,
        "residue": True,
        "services": [],
        "processes": [],
        "drivers": [],
        "packages": [],
        "packages_by_source": {},
        "windows": [],
        "protected": False,
        "needs_password": False,
        "paths": _check_paths(paths, vendor, os_family, catalogue, where),
        "hold": None,
        "hold_reason": None,
        "notes": [
            "paths left without software: removed only with "
            + role_variable(role, "remove_residue")
        ],
    }
    return step


def _masked(argv: list[str], properties: int) -> list[str]:
    """argv with the values of its trailing msiexec properties masked."""
    if not properties:
        return list(argv)
    head, tail = argv[:-properties], argv[-properties:]
    return [*head, *(item.split("=", 1)[0] + "=" + MASK for item in tail)]


def _summary(step: dict, properties: int, role: str, remove_residue: bool | None) -> str:
    """One line saying what the step does, never with a secret in it.

    remove_residue: whether the run deletes the paths left behind; None (not known to
    the caller) names the variable that decides.
    """
    where = (
        step["name"] if step["residue"] else f"{step['name']} ({step['vendor']}/{step['product']})"
    )
    if step["hold"] is not None:
        return f"{where}: held, not removed: {step['hold_reason']}"
    actions = []
    if step["services"] and step["windows"]:
        # Left to the uninstaller: Kaspersky's self-defence refuses a stop from outside.
        actions.append(f"its uninstaller stops {', '.join(step['services'])}")
    elif step["services"]:
        actions.append(f"stop and disable {', '.join(step['services'])}")
    for source, names in step["packages_by_source"].items():
        actions.append(f"remove {source} packages {', '.join(names)}")
    for action in step["windows"]:
        if action["manual"]:
            actions.append(f"{action['display_name']}: manual removal ({action['reason']})")
        else:
            count = properties if action["product_code"] else 0
            actions.append(" ".join(_masked(action["argv"], count)))
    if step["paths"]:
        paths, variable = ", ".join(step["paths"]), role_variable(role, "remove_residue")
        actions.append(
            f"with {variable} delete {paths}"
            if remove_residue is None
            else (f"delete {paths}" if remove_residue else f"leave {paths} ({variable} is off)")
        )
    return f"{where}: {'; '.join(actions) or 'nothing to do'}"


def _rank(step: dict, catalogue: Catalogue) -> float:
    if step["residue"]:
        return len(catalogue.removal_order) + 2
    if step["product"] == OTHER:
        if OTHER_GOES_BEFORE_ROLE in catalogue.removal_order:
            return catalogue.removal_rank(OTHER_GOES_BEFORE_ROLE) - 0.5
        return len(catalogue.removal_order) + 1
    return catalogue.removal_rank(step["role"])


def removal_plan(
    scan,
    passwords: Mapping | None = None,
    mask: bool = False,
    catalogue: Catalogue | None = None,
    confirmed=None,
    role: str = "uninstall",
    remove_residue: bool | None = None,
) -> list[dict]:
    """The ordered removal steps for one host's av_scan result (see the module docstring).

    role: the role whose variables messages name; remove_residue: whether the run will
    delete the paths left behind, when the caller knows (the summary says so).
    """
    catalogue = catalogue or load_catalogue()
    role_variable(role, "passwords")  # an unknown role fails before anything else
    os_family, host, inventory = _check_scan(scan, catalogue)
    checked_passwords = _check_passwords(passwords, catalogue, role)
    checked_confirmed = _check_confirmed(confirmed, catalogue)
    steps = []
    for position, finding in enumerate(_expect_list(scan["disallowed"], "disallowed")):
        _check_finding(finding, position)
        step = _step(
            finding,
            os_family,
            host,
            inventory,
            catalogue,
            checked_passwords,
            mask,
            f"disallowed[{position}]",
            role,
        )
        product = catalogue.product(step["vendor"], step["product"], os_family)
        _hold(step, finding["evidence"], product, inventory, catalogue, checked_confirmed)
        steps.append(step)
    for position, entry in enumerate(_expect_list(scan.get("residue") or [], "residue")):
        step = _residue_step(entry, os_family, catalogue, f"residue[{position}]", role)
        paths = [{"kind": "path", "value": path} for path in step["paths"]]
        _hold(step, paths, None, inventory, catalogue, checked_confirmed)
        steps.append(step)
    _hold_agents_of_refused_servers(steps, catalogue)
    if os_family == "windows":
        _hold_disagreements(steps, catalogue, os_family)
    for step in steps:
        step["summary"] = _summary(step, step.pop("properties", 0), role, remove_residue)
    # sorted() is stable: equal ranks keep the scan's order.
    return sorted(steps, key=lambda step: _rank(step, catalogue))


def uninstall_outcome(action: Mapping, rc: int) -> dict:
    """What an exit code of one planned uninstall command means: done, reboot, message.

    The role reads the same tables from the plan (exit_codes, reboot_exit_codes,
    failure_messages); this is their meaning in one place, for tests and callers.
    """
    if str(rc) in action["exit_codes"]:
        return {
            "done": True,
            "reboot": rc in action["reboot_exit_codes"],
            "message": action["exit_codes"][str(rc)],
        }
    messages = action["failure_messages"]
    template = messages.get(str(rc), messages["other"])
    return {"done": False, "reboot": False, "message": template.replace("{rc}", str(rc))}
