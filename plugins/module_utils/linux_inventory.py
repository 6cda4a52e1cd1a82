# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Raw inventory of a Linux host: what is installed, what runs, which paths exist.

Runs on the managed host. It collects and never decides: the controller's classifier
turns this into a verdict. Everything here is read-only and takes no package-manager
lock (dpkg-query and rpm queries read their databases without one), so a scan can run
beside a package transaction. Parsers are separate from the commands so that they can
be tested with recorded output.

A part it cannot read (the package database, the service list, the process table) is
named in the inventory's `unreadable` list with the reason, so the classifier never
reports such a host compliant; only a host where nothing at all could be read fails
the scan. Written for every Python a managed host may have (see inventory_schema).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import errno
import json
import os
import platform
import re

from ansible_collections.avshift.remediation.plugins.module_utils.inventory_schema import (
    SCHEMA_VERSION,
)

# Parts whose loss leaves nothing to judge the host by: when none of them could be
# read, the scan fails instead of returning an empty inventory.
_HOST_PARTS = ("packages", "services", "processes")

# dpkg's db:Status-Abbrev is want/state/error; these states mean files are on disk.
_DPKG_PRESENT_STATES = frozenset("iUFWth")
DPKG_QUERY_ARGS = ["-W", "-f", "${db:Status-Abbrev}\t${Package}\t${Version}\t${Maintainer}\n"]
RPM_QUERY_ARGS = ["-qa", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\t%{VENDOR}\t%{PACKAGER}\n"]
SYSTEMCTL_UNITS_ARGS = [
    "list-units",
    "--type=service",
    "--all",
    "--no-legend",
    "--plain",
    "--no-pager",
]
SYSTEMCTL_UNIT_FILES_ARGS = ["list-unit-files", "--type=service", "--no-legend", "--no-pager"]
# rpm prints "(none)" for a tag a package does not set; an empty one says no more.
_UNSET_RPM_TAGS = ("(none)", "")


def parse_dpkg_query(output):
    """Packages from DPKG_QUERY_ARGS output; removed-but-configured ones are skipped."""
    packages = []
    for line in output.splitlines():
        fields = line.split("\t")
        if len(fields) < 4 or len(fields[0]) < 2 or fields[0][1] not in _DPKG_PRESENT_STATES:
            continue
        packages.append(
            {
                "name": fields[1],
                "version": fields[2] or None,
                "publisher": fields[3] or None,
                "source": "dpkg",
            }
        )
    return packages


def parse_rpm_query(output):
    packages = []
    for line in output.splitlines():
        fields = line.split("\t")
        if len(fields) < 4 or not fields[0]:
            continue
        vendor, packager = fields[2], fields[3]
        publisher = vendor if vendor not in _UNSET_RPM_TAGS else packager
        packages.append(
            {
                "name": fields[0],
                "version": fields[1],
                "publisher": publisher if publisher not in _UNSET_RPM_TAGS else None,
                "source": "rpm",
            }
        )
    return packages


def _service_state(active, sub):
    if sub == "running":
        return "running"
    if active in ("inactive", "failed") or sub in ("dead", "exited", "failed"):
        return "stopped"
    return "unknown"


def parse_systemctl(units_output, unit_files_output):
    """Services from `systemctl list-units` and `list-unit-files`, merged by name.

    list-units knows the state of loaded units (template instances such as clamd@scan
    included); list-unit-files adds installed units that are not loaded, and the start
    mode (enabled, disabled, static, masked) of all of them.
    """
    start_modes = {}
    for line in unit_files_output.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0].endswith(".service"):
            start_modes[fields[0]] = fields[1]
    services = {}
    for line in units_output.splitlines():
        fields = line.split(None, 4)
        if len(fields) < 4 or not fields[0].endswith(".service"):
            continue
        unit, load, active, sub = fields[:4]
        if load == "not-found":
            continue
        template = unit.split("@", 1)[0] + "@.service" if "@" in unit else unit
        services[unit] = {
            "name": unit[: -len(".service")],
            "display_name": fields[4].strip() if len(fields) > 4 else None,
            "state": _service_state(active, sub),
            "start_mode": start_modes.get(unit) or start_modes.get(template),
            "path": None,
        }
    for unit, mode in start_modes.items():
        # A bare template (clamd@.service) is not a service until it has an instance.
        if unit not in services and not unit.endswith("@.service"):
            services[unit] = {
                "name": unit[: -len(".service")],
                "display_name": None,
                "state": "stopped",
                "start_mode": mode,
                "path": None,
            }
    return list(services.values())


def sysv_services(init_dir="/etc/init.d"):
    """Without systemd the state of an init script is unknown without running it."""
    try:
        names = sorted(os.listdir(init_dir))
    except OSError:
        return []
    return [
        {"name": name, "display_name": None, "state": "unknown", "start_mode": None, "path": None}
        for name in names
        if not name.startswith(".") and name not in ("README", "skeleton", "rc", "rcS")
    ]


# A process whose namespace link is gone (ENOENT) is ending: its namespaces were already
# released. One whose link cannot be read for want of rights (EACCES, a scan without
# root) may well be the host's own, and counts.
_GONE = "gone"


def _pid_namespace(proc, pid):
    try:
        return os.readlink(os.path.join(proc, pid, "ns", "pid"))
    except OSError as exc:
        return _GONE if exc.errno == errno.ENOENT else None


# /proc/<pid>/stat states of a process that has ended: zombie, dead.
_ENDED_STATES = ("Z", "X", None)


def _process_state(proc, pid):
    """The state letter of /proc/<pid>/stat (after the name, which may hold spaces and
    parentheses), or None when the process is gone."""
    try:
        with open(os.path.join(proc, pid, "stat"), "rb") as stream:
            return stream.read().rsplit(b")", 1)[1].split()[0].decode("ascii")
    except (IOError, OSError, IndexError, UnicodeDecodeError):
        return None


def processes(proc="/proc"):
    """Running processes: name from comm (or the executable when comm is truncated).

    Processes of other PID namespaces (containers on this host) are left out: they
    belong to container images, whose packages and services this scan does not see
    either, and are counted for a warning instead. Processes that are ending (zombies,
    and processes whose namespaces are already released) run nothing and are left out
    too: their namespace can no longer be read, so a container's ending process would
    otherwise pass for the host's.
    """
    found = {}
    unreadable_exe = 0
    in_containers = 0
    own_namespace = _pid_namespace(proc, "self")
    for pid in os.listdir(proc):
        if not pid.isdigit() or _process_state(proc, pid) in _ENDED_STATES:
            continue
        namespace = _pid_namespace(proc, pid)
        if namespace == _GONE:
            continue  # it ended while we looked: it runs nothing
        if own_namespace and namespace and namespace != own_namespace:
            in_containers += 1
            continue
        try:
            with open(os.path.join(proc, pid, "comm")) as stream:
                name = stream.read().strip()
        except OSError:
            continue  # the process ended while we looked
        try:
            path = os.readlink(os.path.join(proc, pid, "exe"))
        except OSError:
            path = None
            unreadable_exe += 1
        if path and path.endswith(" (deleted)"):
            path = path[: -len(" (deleted)")]
        if path:
            base = os.path.basename(path)
            # The kernel truncates comm to 15 characters.
            if len(name) == 15 and base.startswith(name):
                name = base
        if name:
            found[(name, path)] = {"name": name, "path": path}
    return list(found.values()), unreadable_exe, in_containers


def parse_proc_modules(text):
    return [{"name": line.split(None, 1)[0], "path": None} for line in text.splitlines() if line]


def sys_modules(sys_module="/sys/module"):
    """Loaded modules from sysfs: loadable ones have an initstate, built-in ones do not."""
    try:
        names = os.listdir(sys_module)
    except OSError as exc:
        return [], exc.strerror
    return [
        {"name": name, "path": None}
        for name in sorted(names)
        if os.path.exists(os.path.join(sys_module, name, "initstate"))
    ], None


def existing_paths(candidates):
    return [path for path in candidates if os.path.lexists(path)]


def os_release(path="/etc/os-release"):
    info = {}
    try:
        with open(path) as stream:
            for line in stream:
                key, sep, value = line.strip().partition("=")
                if sep:
                    info[key] = value.strip().strip("\"'")
    except (IOError, OSError):
        pass
    return {
        "name": info.get("PRETTY_NAME") or info.get("NAME") or platform.system(),
        "version": info.get("VERSION_ID") or platform.release(),
        "server": None,
    }


# --- Protection -------------------------------------------------------------------------
# What an approved product itself says about its signatures and real-time protection,
# one probe per product the action passes (the catalogue's `protection` blocks). The
# classifier judges the facts against the policy; here they are only read. A product
# whose files or command are absent is not on the host and gets no entry; a fact that
# cannot be read is null, with the reason in `detail`.

try:
    UTC = datetime.timezone.utc
except AttributeError:  # Python 2 has no timezone; av_scan refuses it before collecting
    UTC = None

# A CVD/CLD/CUD database starts with a 512-byte header, fields separated by ':'
# (libclamav/cvd.c, cl_cvdparse; sigtool/sigtool.c, build() writes it):
#   ClamAV-VDB:<build time>:<version>:<signatures>:<functionality level>:<md5>:<dsig>:
#   <builder>:<stime>
# <build time> is strftime("%d %b %Y %H-%M %z") of the build host's local time; <stime>
# is the same moment in seconds since the epoch (sigtool writes time(); cli_cvdload
# compares it with time() for its "older than 7 days" warning). Files of the old format
# have no <stime>, and cl_cvdparse takes it as 0; the text time then stands.
CVD_HEADER_SIZE = 512
_CVD_MAGIC = b"ClamAV-VDB:"
_CVD_TEXT_TIME = re.compile(
    r"^(\d{1,2}) ([A-Za-z]{3}) (\d{4}) (\d{1,2})-(\d{2}) ([+-])(\d{2})(\d{2})$"
)
# Month names as sigtool writes them (it sets LC_TIME to C): read without the locale,
# which an Ansible module sets from the environment.
_MONTHS = dict(
    (name, number)
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
)
# The database containers, whose header carries the build time.
CLAMAV_CONTAINERS = ("cvd", "cld", "cud")
# libclamav's database file extensions (CLI_DBEXT), as the install role lists them in
# roles/install/vars/main.yml (__install_clamav_signature_extensions); a unit test keeps
# the two lists equal. A probe may pass its own as "extensions".
CLAMAV_DATABASE_EXTENSIONS = (
    "cvd", "cld", "cud", "cdb", "cat", "cbc", "cfg", "crb", "fp", "ftm", "gdb", "hdb", "hdu",
    "hsb", "hsu", "idb", "ign", "ign2", "info", "ldb", "ldu", "mdb", "mdu", "msb", "msu", "ndb",
    "ndu", "pdb", "pwdb", "sfp", "wdb", "yar", "yara",
)  # fmt: skip
# Files among them that detect nothing (engine settings, ignore and allow lists): when
# one of them changed says nothing about how current the detections are.
_CLAMAV_NOT_DETECTIONS = frozenset(("cfg", "ftm", "ign", "ign2", "info", "fp", "sfp"))
CLAMD_PROCESS = "clamd"
CLAMONACC = "clamonacc"

MDATP_HEALTH_ARGS = ["health", "--output", "json"]
# `mdatp health` waits for its daemon; one that hangs must not hang the scan.
MDATP_TIMEOUT_SECONDS = 60
_TIMED_OUT = 124  # coreutils timeout's exit status when the command ran out of time


def _iso(moment):
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def _from_epoch(seconds):
    """An aware UTC time, or None for a value no clock can show."""
    try:
        return datetime.datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def parse_cvd_header(head):
    """(build time, version) of a database header: an aware UTC datetime and an int.

    Raises ValueError saying what is wrong when the bytes are no database header.
    """
    if not head.startswith(_CVD_MAGIC):
        raise ValueError("not a ClamAV database header")
    try:
        text = head[:CVD_HEADER_SIZE].decode("ascii")
    except UnicodeDecodeError:
        text = None
    if text is None:
        raise ValueError("the header is not ASCII text")
    fields = text.rstrip(" \0\r\n").split(":")
    # cl_cvdparse needs every field up to the builder; only <stime> may be missing.
    if len(fields) < 8:
        raise ValueError("the header has {0} of its 9 fields".format(len(fields)))
    version = fields[2].strip()
    if not version.isdigit():
        raise ValueError("the header's version {0!r} is not a number".format(version))
    stime = fields[8].strip() if len(fields) > 8 else ""
    built = _from_epoch(int(stime)) if stime.isdigit() and int(stime) > 0 else None
    if built is None:
        built = _parse_cvd_text_time(fields[1].strip())
    if built is None:
        raise ValueError("the header's build time {0!r} cannot be read".format(fields[1]))
    return built, int(version)


def _parse_cvd_text_time(text):
    match = _CVD_TEXT_TIME.match(text)
    if not match or match.group(2).title() not in _MONTHS:
        return None
    day, month, year, hour, minute, sign, off_h, off_m = match.groups()
    offset = datetime.timedelta(hours=int(off_h), minutes=int(off_m))
    try:
        local = datetime.datetime(
            int(year), _MONTHS[month.title()], int(day), int(hour), int(minute)
        )
    except ValueError:
        return None
    return (local - offset if sign == "+" else local + offset).replace(tzinfo=UTC)


def read_cvd_header(path):
    with open(path, "rb") as stream:
        return parse_cvd_header(stream.read(CVD_HEADER_SIZE))


def parse_clamd_config(text):
    """clamd.conf's options, name -> value (a repeated option: its last value)."""
    options = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name_value = line.split(None, 1)
        options[name_value[0]] = name_value[1].strip('"') if len(name_value) > 1 else ""
    return options


def _clamd_bool(value):
    # clamd's own parser takes yes/no, true/false and 1/0 for a boolean option.
    return (value or "").lower() in ("yes", "true", "1")


def clamav_signatures(directory, extensions=CLAMAV_DATABASE_EXTENSIONS):
    """(signatures_updated, signatures_basis, signatures_version, detail) of a database
    directory.

    The newest build time among the database headers wins. Plain signature files (.hdb,
    .ndb, ...) carry no build time, only the time they were written, which a copy or a
    package reinstall renews: they are counted only where no readable header exists at
    all. Where a header exists, a site's own fresh .ndb beside three-month-old official
    databases must not make the host look current.
    """
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        return None, None, None, "cannot list {0}: {1}".format(directory, exc.strerror)
    plain_extensions = set(ext.lower() for ext in extensions) - _CLAMAV_NOT_DETECTIONS
    headers, unreadable, plain = [], [], []
    for name in names:
        stem, dot, extension = name.rpartition(".")
        extension = extension.lower()
        path = os.path.join(directory, name)
        if not dot or not stem or not os.path.isfile(path):
            continue
        if extension in CLAMAV_CONTAINERS:
            try:
                built, version = read_cvd_header(path)
            except (IOError, OSError) as exc:
                unreadable.append("{0} ({1})".format(name, exc.strerror))
            except ValueError as exc:
                unreadable.append("{0} ({1})".format(name, exc))
            else:
                headers.append((built, "{0} {1}".format(stem, version)))
        elif extension in plain_extensions:
            try:
                plain.append((os.stat(path).st_mtime, name))
            except OSError:
                continue  # removed while we looked
    skipped = (
        "unreadable database headers skipped: " + ", ".join(unreadable) if unreadable else None
    )
    if headers:
        built, version = max(headers)
        return _iso(built), "database-header", version, skipped
    if plain:
        mtime, name = max(plain)
        moment = _from_epoch(mtime)
        detail = (
            "no database header in {0}: the modification time of the newest plain "
            "signature file ({1}), which says when it was written, not built".format(
                directory, name
            )
        )
        if moment is not None:
            return _iso(moment), "file-mtime", None, "; ".join(filter(None, (detail, skipped)))
    return (
        None,
        None,
        None,
        "; ".join(filter(None, ("no signature database in {0}".format(directory), skipped))),
    )


def _protection_entry(product):
    return {
        "product": product,
        "signatures_updated": None,
        "signatures_basis": None,
        "signatures_version": None,
        "real_time": None,
        "healthy": None,
        "detail": None,
    }


def _add_detail(entry, text):
    entry["detail"] = "; ".join(filter(None, (entry["detail"], text))) or None


def probe_clamav(spec, process_names, get_bin_path):
    """ClamAV's protection entry, or None when neither a clamd configuration nor a
    database directory is on the host. process_names: the running processes' names
    (None when the process table could not be read)."""
    configs = [path for path in spec.get("clamd_configs") or () if os.path.isfile(path)]
    default_dirs = list(spec.get("database_dirs") or ())
    existing_dirs = [path for path in default_dirs if os.path.isdir(path)]
    if not configs and not existing_dirs:
        return None
    entry = _protection_entry(spec["product"])
    options = {}
    if configs:
        try:
            with open(configs[0]) as stream:
                options = parse_clamd_config(stream.read())
        except (IOError, OSError, UnicodeDecodeError) as exc:
            _add_detail(entry, "cannot read {0}: {1}".format(configs[0], exc))
    # clamd reads the first configuration; without DatabaseDirectory it uses its
    # compiled-in default, the probe's first directory that exists.
    directory = options.get("DatabaseDirectory") or (existing_dirs or default_dirs or [None])[0]
    if directory:
        updated, basis, version, detail = clamav_signatures(
            directory, spec.get("extensions") or CLAMAV_DATABASE_EXTENSIONS
        )
        entry.update(signatures_updated=updated, signatures_basis=basis)
        entry["signatures_version"] = version
        _add_detail(entry, detail)
    else:
        _add_detail(entry, "no database directory is known")
    on_access = spec.get("on_access_process") or CLAMONACC
    if process_names is None:
        _add_detail(entry, "real-time protection unknown: the process table could not be read")
    elif on_access in process_names:
        entry["real_time"] = True
    else:
        # clamd scanned on access itself (ScanOnAccess) before clamonacc took that over
        # (ClamAV 0.102); where clamonacc is installed, the option no longer does it.
        entry["real_time"] = (
            _clamd_bool(options.get("ScanOnAccess"))
            and CLAMD_PROCESS in process_names
            and not get_bin_path(on_access)
        )
    return entry


# `mdatp health` fields (Microsoft Learn, "Investigate agent health issues",
# https://learn.microsoft.com/en-us/defender-endpoint/health-status): definitions_updated
# (date and time of the last definition update), definitions_updated_minutes_ago,
# definitions_version, real_time_protection_enabled, healthy, health_issues. That page
# names them as the text output does; `--output json` spells them in camelCase
# (definitionsUpdated as milliseconds since the epoch, in a string), and mdatp 101.x
# wraps some values, managed settings above all, as {"value": ..., ...}. Both spellings
# and both shapes are read.
def _mdatp_field(health, snake):
    parts = snake.split("_")
    camel = parts[0] + "".join(part.title() for part in parts[1:])
    for key in (camel, snake):
        if key in health:
            value = health[key]
            if isinstance(value, dict) and "value" in value:
                value = value["value"]
            return value
    return None


def _mdatp_bool(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "enabled", "false", "disabled"):
        return value.strip().lower() in ("true", "enabled")
    return None


_ISO_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})$"
)


def _mdatp_time(value):
    """An aware UTC time from epoch milliseconds (or seconds), or ISO 8601 with offset."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        match = _ISO_TIME.match(value)
        if match:
            year, month, day, hour, minute, second, zone = match.groups()
            try:
                moment = datetime.datetime(
                    int(year), int(month), int(day), int(hour), int(minute), int(second)
                )
            except ValueError:
                return None
            if zone != "Z":
                sign = 1 if zone[0] == "+" else -1
                digits = zone[1:].replace(":", "")
                moment -= sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            return moment.replace(tzinfo=UTC)
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, (int, float)) or value <= 0:
        return None
    # Milliseconds since the epoch pass 1e11 in 1973; seconds only in the year 5138.
    return _from_epoch(value / 1000.0 if value > 1e11 else value)


def parse_mdatp_health(text, now):
    """The protection facts of `mdatp health --output json`: a dict of entry fields."""
    start = text.find("{")
    try:
        health = json.JSONDecoder().raw_decode(text[start:])[0] if start >= 0 else None
    except ValueError:
        health = None
    if not isinstance(health, dict):
        first = (text.strip().splitlines() or [""])[0][:200]
        return {"detail": "mdatp health printed no JSON object: {0!r}".format(first)}
    facts = {"signatures_basis": "product", "detail": None}
    updated = _mdatp_time(_mdatp_field(health, "definitions_updated"))
    if updated is None:
        minutes = _mdatp_field(health, "definitions_updated_minutes_ago")
        try:
            updated = now - datetime.timedelta(minutes=float(minutes))
        except (TypeError, ValueError, OverflowError):
            updated = None
    facts["signatures_updated"] = _iso(updated) if updated is not None else None
    if updated is None:
        facts["signatures_basis"] = None
        facts["detail"] = "mdatp health gave no definitions time"
    version = _mdatp_field(health, "definitions_version")
    facts["signatures_version"] = str(version) if version not in (None, "") else None
    facts["real_time"] = _mdatp_bool(_mdatp_field(health, "real_time_protection_enabled"))
    facts["healthy"] = _mdatp_bool(_mdatp_field(health, "healthy"))
    issues = _mdatp_field(health, "health_issues")
    if facts["healthy"] is False and issues:
        listed = issues if isinstance(issues, list) else [issues]
        facts["detail"] = "; ".join(
            filter(None, (facts["detail"], "health issues: " + ", ".join(str(i) for i in listed)))
        )
    return facts


def probe_mdatp(spec, run_command, get_bin_path, now):
    """Defender for Endpoint's protection entry from one `mdatp health` run, or None when
    its command is not on the host."""
    command = spec.get("command") or "/usr/bin/mdatp"
    if not os.path.exists(command):
        return None
    entry = _protection_entry(spec["product"])
    if not os.access(command, os.X_OK):
        _add_detail(entry, "{0} is not executable".format(command))
        return entry
    argv = [command] + MDATP_HEALTH_ARGS
    timeout = get_bin_path("timeout")
    if timeout:
        argv = [timeout, str(MDATP_TIMEOUT_SECONDS)] + argv
    rc, out, err = run_command(argv)
    shown = " ".join([command] + MDATP_HEALTH_ARGS)
    if timeout and rc == _TIMED_OUT:
        _add_detail(entry, "{0} did not answer in {1} s".format(shown, MDATP_TIMEOUT_SECONDS))
    elif rc != 0:
        reason = (err.strip() or out.strip())[:300]
        _add_detail(entry, "{0} failed (rc={1}): {2}".format(shown, rc, reason))
    else:
        entry.update(parse_mdatp_health(out, now))
    return entry


# The probes a catalogue's `protection` block may name.
PROBES = ("clamav", "mdatp")


def probe_protection(probes, run_command, get_bin_path, process_names, now):
    """One entry per probed product found on the host, in the probes' order."""
    entries = []
    for spec in probes or ():
        if spec.get("probe") == "clamav":
            entry = probe_clamav(spec, process_names, get_bin_path)
        elif spec.get("probe") == "mdatp":
            entry = probe_mdatp(spec, run_command, get_bin_path, now)
        else:
            raise ValueError(
                "unknown protection probe {0!r} (known: {1})".format(
                    spec.get("probe"), ", ".join(PROBES)
                )
            )
        if entry is not None:
            entries.append(entry)
    return entries


def _list_unit_files(run_command, systemctl, patterns):
    """`systemctl list-unit-files`, of the unit files matching the patterns when given.

    systemctl exits non-zero when it lists no unit file (verb_list_unit_files in
    systemd's src/systemctl/systemctl-list-unit-files.c returns -ENOENT), which with
    patterns only means none matched: that answer, with nothing on stdout or stderr, is
    an empty list, not a failure."""
    argv = [systemctl] + SYSTEMCTL_UNIT_FILES_ARGS
    if patterns is not None:
        if not patterns:
            return 0, "", ""
        argv += ["--"] + list(patterns)
    rc, out, err = run_command(argv)
    if rc > 0 and patterns and not out.strip() and not err.strip():
        return 0, "", ""
    return rc, out, err


def collect(
    run_command,
    get_bin_path,
    candidate_paths,
    proc="/proc",
    systemd_dir="/run/systemd/system",
    protection=(),
    unit_file_patterns=None,
):
    """The raw inventory, warnings, and an error when nothing of the host could be read.

    run_command(argv) -> (rc, stdout, stderr); get_bin_path(name) -> path or None.
    A package database, service list or process table that exists but cannot be read
    is listed in the inventory's `unreadable` with the reason: an inventory without it
    could wrongly look compliant, so the classifier never calls such a host compliant.
    protection: the probes (dicts with "product" and "probe", see PROBES) whose products'
    signature time and real-time protection are read.
    unit_file_patterns: systemd globs; installed units that are not loaded are listed
    only when their unit file matches one (None: every unit file). Loaded units are
    always all listed.
    """
    warnings = []
    unreadable = []
    # The host's own clock: the controller measures ages of times this host wrote (file
    # times, mdatp's) against it, and sees how far the host's clock is off.
    collected_at = datetime.datetime.now(UTC)
    inventory = {
        "schema": SCHEMA_VERSION,
        "host": platform.node() or None,
        "os_family": "linux",
        "collected_at": _iso(collected_at),
        "os": os_release(),
        "packages": [],
        "services": [],
        "processes": [],
        "drivers": [],
        "paths": existing_paths(candidate_paths),
        "protection": [],
        "unreadable": unreadable,
    }

    def cannot_read(part, reason):
        unreadable.append({"part": part, "reason": reason})

    package_tools = (
        ("dpkg-query", DPKG_QUERY_ARGS, parse_dpkg_query),
        ("rpm", RPM_QUERY_ARGS, parse_rpm_query),
    )
    found_tool = False
    for tool, args, parser in package_tools:
        binary = get_bin_path(tool)
        if not binary:
            continue
        found_tool = True
        rc, out, err = run_command([binary] + list(args))
        if rc == 0:
            inventory["packages"].extend(parser(out))
        else:
            cannot_read("packages", "{0} failed (rc={1}): {2}".format(tool, rc, err.strip()[:300]))
    if not found_tool:
        warnings.append("no package database found (neither dpkg-query nor rpm)")

    systemctl = get_bin_path("systemctl")
    if systemctl and os.path.isdir(systemd_dir):
        rc_units, units, err_units = run_command([systemctl] + SYSTEMCTL_UNITS_ARGS)
        rc_files, unit_files, err_files = _list_unit_files(
            run_command, systemctl, unit_file_patterns
        )
        if rc_units == 0:
            inventory["services"] = parse_systemctl(units, unit_files if rc_files == 0 else "")
        else:
            cannot_read(
                "services", "systemctl list-units failed: {0}".format(err_units.strip()[:300])
            )
        if rc_files != 0:
            # Only the start modes come from it; the states are known.
            warnings.append("systemctl list-unit-files failed: {0}".format(err_files.strip()[:300]))
    else:
        inventory["services"] = sysv_services()
        warnings.append("systemd is not running: services listed from /etc/init.d, state unknown")

    try:
        inventory["processes"], unreadable_exe, in_containers = processes(proc)
        if in_containers:
            warnings.append(
                "{0} processes of other PID namespaces (containers) are not part of this "
                "host's inventory".format(in_containers)
            )
        if unreadable_exe and os.geteuid() != 0:
            warnings.append(
                "executable paths of {0} processes are unreadable without root".format(
                    unreadable_exe
                )
            )
    except OSError as exc:
        cannot_read("processes", "cannot list processes from /proc: {0}".format(exc))
    process_names = (
        None
        if "processes" in set(item["part"] for item in unreadable)
        else set(item["name"] for item in inventory["processes"])
    )
    inventory["protection"] = probe_protection(
        protection, run_command, get_bin_path, process_names, collected_at
    )

    try:
        with open(os.path.join(proc, "modules")) as stream:
            inventory["drivers"] = parse_proc_modules(stream.read())
    except (IOError, OSError):
        # Some containers and sandboxes hide /proc/modules but show /sys/module.
        inventory["drivers"], sys_error = sys_modules()
        if sys_error:
            warnings.append("cannot read kernel modules: {0}".format(sys_error))

    failed_parts = set(item["part"] for item in unreadable)
    error = None
    if all(part in failed_parts for part in _HOST_PARTS):
        error = "; ".join("{0}: {1}".format(i["part"], i["reason"]) for i in unreadable)
    return inventory, warnings, error
